//! Every migration runs up, down and up again on both backends, and every foreign key has an index.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use sanshe::db::DbConn;

use crate::both_backends;
use crate::helpers::*;

#[derive(QueryableByName, Debug)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn tables(c: &mut DbConn) -> Vec<String> {
    let q = match c {
        DbConn::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name"
        }
        DbConn::Pg(_) => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations' ORDER BY table_name"
        }
    };
    diesel::sql_query(q)
        .load::<Name>(c)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

/// (table, column) of every foreign key without an index whose first column is that column.
fn unindexed_foreign_keys(c: &mut DbConn) -> Vec<(String, String)> {
    #[derive(QueryableByName)]
    struct Fk {
        #[diesel(sql_type = Text)]
        tbl: String,
        #[diesel(sql_type = Text)]
        col: String,
        #[diesel(sql_type = BigInt)]
        indexed: i64,
    }
    let q = match c {
        DbConn::Sqlite(_) => {
            "SELECT m.name AS tbl, f.\"from\" AS col,
                    (SELECT COUNT(*) FROM pragma_index_list(m.name) il
                      WHERE (SELECT name FROM pragma_index_info(il.name) WHERE seqno = 0) = f.\"from\") AS indexed
             FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"
        }
        DbConn::Pg(_) => {
            "SELECT cl.relname::text AS tbl, a.attname::text AS col,
                    (SELECT COUNT(*) FROM pg_index i WHERE i.indrelid = con.conrelid AND i.indkey[0] = con.conkey[1])::bigint AS indexed
             FROM pg_constraint con
             JOIN pg_class cl ON cl.oid = con.conrelid
             JOIN pg_namespace n ON n.oid = cl.relnamespace AND n.nspname = current_schema()
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
             WHERE con.contype = 'f'"
        }
    };
    diesel::sql_query(q)
        .load::<Fk>(c)
        .unwrap()
        .into_iter()
        .filter(|f| f.indexed == 0)
        .map(|f| (f.tbl, f.col))
        .collect()
}

async fn up_down_up(b: Backend) {
    let db = TestDb::new(&b);
    let mut c = db.conn();
    let applied = sanshe::db::migrate(&mut c).unwrap();
    let migration_dirs = std::fs::read_dir(format!(
        "migrations/{}",
        if b.name() == "sqlite" {
            "sqlite"
        } else {
            "postgres"
        }
    ))
    .unwrap()
    .filter(|e| e.as_ref().unwrap().path().is_dir())
    .count();
    assert_eq!(applied.len(), migration_dirs, "every migration applied");
    assert!(sanshe::db::migrations_current(&mut c).unwrap());
    let after_up = tables(&mut c);
    for t in ["users", "audit_events", "outbox"] {
        assert!(
            after_up.contains(&t.to_string()),
            "{t} missing: {after_up:?}"
        );
    }
    assert_eq!(
        unindexed_foreign_keys(&mut c),
        Vec::<(String, String)>::new(),
        "foreign keys without an index"
    );

    let reverted = sanshe::db::revert_all(&mut c).unwrap();
    assert_eq!(reverted, migration_dirs);
    assert_eq!(
        tables(&mut c),
        Vec::<String>::new(),
        "down migrations leave tables behind"
    );
    assert!(!sanshe::db::migrations_current(&mut c).unwrap());

    sanshe::db::migrate(&mut c).unwrap();
    assert_eq!(tables(&mut c), after_up, "second up differs from the first");
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |d: &str| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    let s = names("migrations/sqlite");
    assert!(!s.is_empty());
    assert_eq!(s, names("migrations/postgres"));
    for m in &s {
        for f in ["up.sql", "down.sql"] {
            assert!(std::path::Path::new(&format!("migrations/sqlite/{m}/{f}")).exists());
            assert!(std::path::Path::new(&format!("migrations/postgres/{m}/{f}")).exists());
        }
    }
}

/// The award-letter migration fills in what the timeline already records (政府采购法 Art 46): on the demo,
/// reverted and applied again, every tender past its result notice gets the notice's time back from its
/// timeline, and every contract's signing clock runs from that letter's Beijing date.
async fn award_letter_migration_fills_in_the_letters(b: Backend) {
    use sanshe::db::schema::{contracts as ct, tenders as t};
    let (db, _) = TestDb::demo(&b).await;
    let mut c = db.conn();
    let letters = |c: &mut DbConn| -> Vec<(i64, Option<chrono::NaiveDateTime>)> {
        t::table
            .filter(t::state.eq_any(["publicity", "challenge", "awarded", "contracted"]))
            .order(t::id)
            .select((t::id, t::result_published_at))
            .load(c)
            .unwrap()
    };
    let clocks = |c: &mut DbConn| -> Vec<(i64, chrono::NaiveDate)> {
        ct::table
            .order(ct::id)
            .select((ct::id, ct::awarded_on))
            .load(c)
            .unwrap()
    };
    let (seeded, seeded_clocks) = (letters(&mut c), clocks(&mut c));
    assert!(seeded.len() > 100 && seeded.iter().all(|(_, at)| at.is_some()));
    // Revert down to the award-letter migration, whatever came after it (then applied again).
    let mut reverted = Vec::new();
    loop {
        let name = sanshe::db::revert_last(&mut c).unwrap().replace('-', "");
        reverted.push(name.clone());
        if name == "20261205000001" || reverted.len() > 12 {
            break;
        }
    }
    assert_eq!(
        reverted.last().map(String::as_str),
        Some("20261205000001"),
        "the award-letter migration is among the newest: {reverted:?}"
    );
    sanshe::db::migrate(&mut c).unwrap();
    // The challenge-subjects migration (applied again above) makes every existing challenge one against
    // the result that may affect it.
    {
        use sanshe::db::schema::challenges as ch;
        let rows: Vec<(String, bool)> = ch::table
            .select((ch::subject, ch::affects_result))
            .load(&mut c)
            .unwrap();
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|(s, a)| s == "result" && *a), "{rows:?}");
    }
    let (filled, filled_clocks) = (letters(&mut c), clocks(&mut c));
    // The seed's publication is its timeline's entry into publicity, to the microsecond.
    assert_eq!(filled, seeded);
    assert_eq!(filled_clocks, seeded_clocks);
    for (id, on) in &filled_clocks {
        let at: Option<chrono::NaiveDateTime> = ct::table
            .inner_join(t::table)
            .filter(ct::id.eq(id))
            .select(t::result_published_at)
            .first(&mut c)
            .unwrap();
        assert_eq!(
            Some(*on),
            at.map(|a| sanshe::clock::beijing_date(a.and_utc())),
            "contract {id}"
        );
    }
}

both_backends!(up_down_up, award_letter_migration_fills_in_the_letters);
