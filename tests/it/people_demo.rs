//! The demo's people served (issue 12, Demo data; DOMAIN.md, The seed district: "serving over 50,000
//! people"): `sanshe seed --demo` makes about 50,000 distinct people across the four fields and eight
//! streets, with a few dozen served by two providers in one field and quarter, every participation
//! consistent with its activity and beneficiary, and no identity number stored. Counted straight from SQL.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use sanshe::db::DbConn;
use sanshe::people::counts::{CountFilter, Scope};

use crate::both_backends;
use crate::cli::{run, sanshe};
use crate::helpers::*;

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct G {
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    p: i64,
}

fn n(c: &mut DbConn, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<N>(c)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[derive(QueryableByName)]
struct S {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    s: Option<String>,
}

fn texts(c: &mut DbConn, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<S>(c)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|r| r.s)
        .collect()
}

/// Every 18-character run (17 digits and a digit or X) that is a valid identity number (GB 11643-1999).
fn identity_numbers(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(17) {
        let w = &b[i..i + 18];
        // ASCII only, so the slice below lies on character boundaries.
        if w[..17].iter().all(u8::is_ascii_digit) && (w[17].is_ascii_digit() || w[17] == b'X') {
            let n = &s[i..i + 18];
            if sanshe::domain::identity::check_id_number(n).is_ok() {
                out.push(n.to_string());
            }
        }
    }
    out
}

fn longest_digit_run(s: &str) -> usize {
    s.split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

async fn issue12_demo_people_served(b: Backend) {
    // The demo as `sanshe seed --demo` made it (a copy of the run's one seeding).
    let (db, seeded) = TestDb::demo(&b).await;
    let (out, err) = (&seeded.out, &seeded.err);
    let mut c = db.conn();

    // About 50,000 distinct people, 3 to 6 visits each on average.
    let people = n(
        &mut c,
        "SELECT COUNT(DISTINCT person_id) AS n FROM participations",
    );
    assert!((45_000..=55_000).contains(&people), "{people} people");
    let visits = n(&mut c, "SELECT COUNT(*) AS n FROM participations");
    assert!(
        (3 * people..=6 * people).contains(&visits),
        "{visits} 人次 of registered people for {people} people"
    );
    let anonymous = n(
        &mut c,
        "SELECT COALESCE(SUM(anonymous), 0) AS n FROM activities",
    );
    assert!(anonymous > 0, "large events with anonymous head counts");

    // Four fields, every street of the demo district.
    assert_eq!(
        n(
            &mut c,
            "SELECT COUNT(DISTINCT field) AS n FROM participations"
        ),
        4
    );
    let streets = n(&mut c, "SELECT COUNT(*) AS n FROM streets");
    assert_eq!(streets, 8);
    assert_eq!(
        n(
            &mut c,
            "SELECT COUNT(DISTINCT street_id) AS n FROM participations"
        ),
        streets
    );

    // A few dozen people served by two organisations in one field and quarter.
    let twice = n(
        &mut c,
        "SELECT COUNT(DISTINCT p.person_id) AS n FROM participations p JOIN participations q
           ON q.person_id = p.person_id AND q.field = p.field AND q.organisation_id <> p.organisation_id
          AND q.month / 100 = p.month / 100 AND (q.month % 100 - 1) / 3 = (p.month % 100 - 1) / 3",
    );
    assert!(
        (10..200).contains(&twice),
        "{twice} people served by several providers"
    );

    // Every participation copies its activity's and its beneficiary's dimensions; the activity its
    // community's street, its contract's organisation and tender field; dates inside the term, not after
    // today; registered = its participations.
    let yyyymm = match b {
        Backend::Sqlite => "CAST(strftime('%Y%m', a.held_on) AS INTEGER)",
        Backend::Postgres(_) => "CAST(to_char(a.held_on, 'YYYYMM') AS INTEGER)",
    };
    let today = sanshe::clock::beijing_date(chrono::Utc::now());
    let mismatches = n(
        &mut c,
        &format!(
            "SELECT COUNT(*) AS n FROM participations p
               JOIN activities a ON a.id = p.activity_id
               JOIN beneficiaries b ON b.id = p.beneficiary_id
               JOIN communities m ON m.id = a.community_id
               JOIN contracts k ON k.id = a.contract_id
               JOIN tenders t ON t.id = k.tender_id
              WHERE p.contract_id <> a.contract_id OR p.organisation_id <> a.organisation_id
                 OR p.community_id <> a.community_id OR p.street_id <> a.street_id OR p.field <> a.field
                 OR p.month <> {yyyymm} OR p.person_id <> b.person_id OR p.grp <> b.grp
                 OR b.organisation_id <> a.organisation_id OR a.street_id <> m.street_id
                 OR a.organisation_id <> k.organisation_id OR a.field <> t.field
                 OR a.held_on < k.term_start OR a.held_on > k.term_end OR a.held_on > '{today}'
                 OR k.state = 'draft'"
        ),
    );
    assert_eq!(mismatches, 0);
    assert_eq!(
        n(
            &mut c,
            "SELECT COUNT(*) AS n FROM activities a
              WHERE a.registered <> (SELECT COUNT(*) FROM participations p WHERE p.activity_id = a.id)"
        ),
        0
    );
    // Each activity's community lies in its contract's area (the service's own rule).
    type Pair = (i64, i64, i64);
    let pairs: Vec<Pair> = {
        use sanshe::db::schema::{activities as a, contracts as k};
        a::table
            .inner_join(k::table.on(k::id.eq(a::contract_id)))
            .select((a::contract_id, k::tender_id, a::community_id))
            .distinct()
            .load(&mut c)
            .unwrap()
    };
    for (contract, tender, community) in pairs {
        let area = sanshe::people::activities::area(&mut c, tender).unwrap();
        assert!(
            area.contains_key(&community),
            "contract {contract}: community {community} outside its area"
        );
    }

    // One in twenty declined: a pseudonym at one organisation only.
    let all = n(&mut c, "SELECT COUNT(*) AS n FROM people");
    let pseudonymous = n(
        &mut c,
        "SELECT COUNT(*) AS n FROM people WHERE id_hash IS NULL",
    );
    assert!(
        pseudonymous * 100 >= all * 3 && pseudonymous * 100 <= all * 7,
        "{pseudonymous} of {all}"
    );
    assert_eq!(
        n(
            &mut c,
            "SELECT COUNT(*) AS n FROM (SELECT b.person_id FROM beneficiaries b JOIN people x ON x.id = b.person_id
              WHERE x.id_hash IS NULL GROUP BY b.person_id HAVING COUNT(*) > 1) d"
        ),
        0
    );
    assert_eq!(
        n(
            &mut c,
            "SELECT COUNT(*) AS n FROM beneficiaries WHERE identified <> (person_id IN (SELECT id FROM people WHERE id_hash IS NOT NULL))"
        ),
        0
    );

    // No identity number anywhere: the keyed hashes and sign-in sheet hashes are hashes, no other text of
    // the four tables holds a valid number or a long digit run, and there are no names.
    assert_eq!(
        n(
            &mut c,
            "SELECT COUNT(*) AS n FROM beneficiaries WHERE name IS NOT NULL"
        ),
        0
    );
    let hashes: Vec<String> = [
        "SELECT id_hash AS s FROM people",
        "SELECT evidence_sha256 AS s FROM activities",
    ]
    .iter()
    .flat_map(|q| texts(&mut c, q))
    .collect();
    let words: Vec<String> = [
        "SELECT pseudonym AS s FROM beneficiaries",
        "SELECT grp AS s FROM beneficiaries",
        "SELECT gender AS s FROM beneficiaries",
        "SELECT DISTINCT title AS s FROM activities",
        "SELECT DISTINCT kind AS s FROM activities",
        "SELECT DISTINCT field AS s FROM activities",
        "SELECT DISTINCT grp AS s FROM participations",
        "SELECT DISTINCT field AS s FROM participations",
    ]
    .iter()
    .flat_map(|q| texts(&mut c, q))
    .collect();
    assert!(hashes.len() > 40_000 && words.len() > 90_000);
    // A hash column holds SHA-256 hex and nothing else (random hex may by chance hold 18 digits that pass
    // the check character, so the check below is for the other columns).
    for s in &hashes {
        assert!(
            s.len() == 64
                && s.bytes()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "not a hash: {s}"
        );
    }
    for s in &words {
        assert!(identity_numbers(s).is_empty(), "an identity number in {s}");
        assert!(longest_digit_run(s) < 15, "a long number in {s}");
    }
    // Nothing identifying is printed either.
    assert!(!out.contains("id_hash") && !err.contains("id_hash"));

    // The overview (read from the running tallies, people::reach) gives the figures of the definition,
    // counted here straight from the participations and activities; and a rebuild of the tallies from
    // them changes nothing.
    let ctx = sanshe::people::Ctx::from_config(&config(&db, &Options::default()));
    let last = n(
        &mut c,
        "SELECT CAST(MAX(month) AS BIGINT) AS n FROM participations",
    );
    let year = last / 100;
    let busiest = n(
        &mut c,
        "SELECT organisation_id AS n FROM participations GROUP BY organisation_id ORDER BY COUNT(*) DESC, organisation_id LIMIT 1",
    );
    let span = |m: i64| format!("{}-{:02}", m / 100, m % 100);
    let cases: Vec<(Scope, CountFilter, String, String)> = vec![
        (
            Scope::District,
            CountFilter::default(),
            "1 = 1".into(),
            "1 = 1".into(),
        ),
        (
            Scope::District,
            CountFilter {
                year: Some(year as i32),
                ..Default::default()
            },
            format!("p.month / 100 = {year}"),
            format!("{yyyymm} / 100 = {year}"),
        ),
        (
            Scope::District,
            CountFilter {
                from: Some(span(year * 100 + 2)),
                to: Some(span(year * 100 + 4)),
                ..Default::default()
            },
            format!("p.month BETWEEN {0}02 AND {0}04", year),
            format!("{yyyymm} BETWEEN {0}02 AND {0}04", year),
        ),
        (
            Scope::Organisation(busiest),
            CountFilter {
                year: Some(year as i32),
                ..Default::default()
            },
            format!("p.organisation_id = {busiest} AND p.month / 100 = {year}"),
            format!("a.organisation_id = {busiest} AND {yyyymm} / 100 = {year}"),
        ),
        (
            Scope::District,
            CountFilter {
                organisation: Some(busiest),
                ..Default::default()
            },
            format!("p.organisation_id = {busiest}"),
            format!("a.organisation_id = {busiest}"),
        ),
    ];
    let mut before = Vec::new();
    for (scope, f, wp, wa) in &cases {
        let o = sanshe::people::counts::overview(&mut c, &ctx, *scope, f, true).unwrap();
        let total = n(
            &mut c,
            &format!("SELECT COUNT(*) AS n FROM participations p WHERE {wp}"),
        );
        let anon = n(
            &mut c,
            &format!(
                "SELECT CAST(COALESCE(SUM(a.anonymous), 0) AS BIGINT) AS n FROM activities a WHERE {wa}"
            ),
        );
        let people = n(
            &mut c,
            &format!("SELECT COUNT(DISTINCT p.person_id) AS n FROM participations p WHERE {wp}"),
        );
        assert!(total > 0, "{scope:?} {f:?}: nothing to compare");
        assert_eq!(
            (o.total.visits, o.total.anonymous, o.total.people),
            (total + anon, anon, people),
            "{scope:?} {f:?}"
        );
        assert_eq!(
            o.activities,
            n(
                &mut c,
                &format!("SELECT COUNT(*) AS n FROM activities a WHERE {wa}")
            ),
            "{scope:?} {f:?}"
        );
        for (lines, pk, ak) in [
            (&o.by_field, "p.field", Some("a.field")),
            (
                &o.by_street,
                "CAST(p.street_id AS TEXT)",
                Some("CAST(a.street_id AS TEXT)"),
            ),
            (
                &o.by_month,
                "CAST(p.month AS TEXT)",
                Some(&*format!("CAST({yyyymm} AS TEXT)")),
            ),
            (&o.by_group, "p.grp", None),
        ] {
            let mut want = std::collections::BTreeMap::<String, (i64, i64, i64)>::new();
            for g in diesel::sql_query(format!(
                "SELECT {pk} AS k, COUNT(*) AS n, COUNT(DISTINCT p.person_id) AS p FROM participations p WHERE {wp} GROUP BY {pk}"
            ))
            .load::<G>(&mut c)
            .unwrap()
            {
                want.insert(g.k, (g.n, 0, g.p));
            }
            if let Some(ak) = ak {
                for g in diesel::sql_query(format!(
                    "SELECT {ak} AS k, CAST(SUM(a.anonymous) AS BIGINT) AS n, CAST(0 AS BIGINT) AS p FROM activities a WHERE {wa} AND a.anonymous > 0 GROUP BY {ak}"
                ))
                .load::<G>(&mut c)
                .unwrap()
                {
                    let e = want.entry(g.k).or_default();
                    e.0 += g.n;
                    e.1 += g.n;
                }
            }
            let got: std::collections::BTreeMap<String, (i64, i64, i64)> = lines
                .iter()
                .map(|l| {
                    (
                        l.key.clone(),
                        (l.count.visits, l.count.anonymous, l.count.people),
                    )
                })
                .collect();
            assert_eq!(got, want, "{scope:?} {f:?} by {pk}");
        }
        before.push(serde_json::to_value(&o).unwrap());
    }
    sanshe::db::write_tx(&mut c, sanshe::people::reach::rebuild).unwrap();
    for ((scope, f, _, _), was) in cases.iter().zip(before) {
        let o = sanshe::people::counts::overview(&mut c, &ctx, *scope, f, true).unwrap();
        assert_eq!(
            serde_json::to_value(&o).unwrap(),
            was,
            "{scope:?} {f:?} after a rebuild"
        );
    }

    // The seeded database still verifies (audit chain, ledger, the tallies against the participations);
    // a tally changed behind the service's back is caught.
    let (code, out, _) = run(sanshe(&db).arg("verify"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("people served tallies: ok"), "{out}");
    diesel::sql_query(
        "UPDATE reach_counts SET registered = registered + 1 WHERE scope = 0 AND dim = 'total' \
         AND month = (SELECT MAX(month) FROM reach_counts)",
    )
    .execute(&mut c)
    .unwrap();
    let (code, out, _) = run(sanshe(&db).arg("verify"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("people served tallies: 1 DIFFER"), "{out}");
}

both_backends!(issue12_demo_people_served);
