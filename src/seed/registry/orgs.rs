//! The demo organisations with their standing facts, and one `org` account per registered organisation.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;

use crate::audit::{self, Actor};
use crate::clock::beijing_date;
use crate::db::schema::{
    credit_listings as cl, organisation_inspections as oi, organisation_ratings as ora,
    organisations as o, streets as st,
};
use crate::db::{DbConn, write_tx};
use crate::domain::standing;
use crate::error::AppError;
use crate::registry::orgs::{Clean, insert_clean};

// ---------------------------------------------------------------------------------------------------------
// Demo data

const DEMO_ORG_NAMES: &[&str] = &[
    "官渡区夕阳红养老服务中心",
    "官渡区阳光青少年发展中心",
    "官渡区同心助残服务中心",
    "官渡区邻里守望社会工作服务中心",
    "官渡区和谐调解协会",
    "官渡区春晖社会救助服务中心",
    "官渡区社区治理促进会",
    "官渡区乐龄康养服务中心",
    "官渡区启明星儿童服务中心",
    "官渡区慈善基金会",
    "官渡区志愿者协会",
    "官渡区彩云社会工作服务中心",
    "官渡区滇池公益发展中心",
    "官渡区螺蛳湾社区服务中心",
    "官渡区金马社会工作服务社",
    "官渡区巫家坝青年社会组织",
    "官渡区长者照护服务中心",
    "官渡区安心家庭服务中心",
    "官渡区助学基金会",
    "官渡区残疾人康复协会",
    "官渡区老年人协会",
    "官渡区青年创业促进会",
    "官渡区民族团结促进会",
    "官渡区平安社区服务中心",
    "官渡区暖心救助服务社",
    "官渡区心理健康服务中心",
    "官渡区社区营造发展中心",
    "官渡区春城助老服务中心",
    "官渡区明德青少年服务中心",
    "官渡区康乐助残服务社",
    "官渡区人民调解员协会",
    "官渡区爱心救助基金会",
    "官渡区睦邻社会工作服务中心",
    "官渡区银龄互助服务中心",
    "官渡区成长青少年服务社",
    "官渡区阳光家园助残中心",
    "官渡区社会组织联合会",
    "官渡区惠民社会救助服务中心",
    "官渡区议事协商促进中心",
    "官渡区和美调解服务中心",
    "官渡区福寿养老服务社",
    "官渡区未来青少年发展基金会",
    "官渡区自强助残服务中心",
    "官渡区社区公益服务中心",
    "官渡区善行救助服务社",
    "官渡区幸福家庭服务中心",
    "官渡区乐活长者服务中心",
    "官渡区星火青年志愿服务中心",
    "官渡区温馨助残服务社",
    "官渡区共建共治服务中心",
    "官渡区和顺调解服务社",
    "官渡区滇南社会工作服务中心",
    "官渡区翠湖公益服务社",
    "官渡区映山红社会工作服务中心",
];

const DEMO_GROUPS: &[&str] = &[
    "太和社区广场舞队",
    "东华社区老年书画社",
    "关上社区邻里互助队",
    "西山社区环保志愿队",
    "矣六社区读书会",
    "小板桥社区象棋协会",
];

const DEMO_FIELDS: &[&str] = &[
    "elderly",
    "youth",
    "disability",
    "relief",
    "community_governance",
    "mediation",
];

const SURNAMES: &[&str] = &[
    "李", "王", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];

const GIVEN: &[&str] = &[
    "晓明", "丽华", "建国", "海燕", "志强", "秀英", "春梅", "伟", "芳", "静", "磊", "娜", "军",
    "洋", "艳", "勇", "杰", "婷", "超", "敏",
];

/// A valid synthetic credit code: `5` + kind digit + Guandu area code + a 9-character body + check.
pub fn demo_code(kind_digit: char, n: u32) -> String {
    let body = format!("5{kind_digit}530111MJ{n:07}");
    let check = crate::domain::credit_code::check_character(&body).expect("alphabet");
    format!("{body}{check}")
}

/// A valid synthetic identity number (for demo data and tests): a Guandu address code, a birth date and a
/// sequence, with the ISO 7064 MOD 11-2 check character.
pub fn demo_id_number(birth: NaiveDate, seq: u32) -> String {
    let first = format!("530111{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = crate::registry::workers::id_check_char(&first).expect("17 digits");
    format!("{first}{check}")
}

/// About 60 organisations of Guandu with ratings, inspections and listings, and about 150 social workers.
/// Needs the streets to exist (without streets, no addresses or service areas are set).
pub fn seed_demo(conn: &mut DbConn, now: DateTime<Utc>, secret: &str) -> Result<(), AppError> {
    let exists: Option<i64> = o::table.select(o::id).first(conn).optional()?;
    if exists.is_some() {
        return Ok(());
    }
    let actor = Actor::system("seed");
    let ts = crate::db::now_micros(now);
    let today = beijing_date(now);
    let last_year = today.year() - 1;
    let street_ids: Vec<i64> = st::table.order(st::code).select(st::id).load(conn)?;
    let pick_street = |i: usize| -> Option<i64> {
        (!street_ids.is_empty()).then(|| street_ids[i % street_ids.len()])
    };
    write_tx(conn, |conn| {
        let mut org_ids = Vec::new();
        for (i, name) in DEMO_ORG_NAMES.iter().enumerate() {
            let (kind, digit) = if name.ends_with("基金会") {
                ("foundation", '3')
            } else if name.ends_with("协会") || name.ends_with("促进会") || name.ends_with("联合会")
            {
                ("social_group", '1')
            } else {
                ("private_non_enterprise", '2')
            };
            let s = pick_street(i);
            let fields: Vec<String> = vec![
                DEMO_FIELDS[i % DEMO_FIELDS.len()].to_string(),
                DEMO_FIELDS[(i * 7 + 3) % DEMO_FIELDS.len()].to_string(),
            ];
            let mut fields = fields;
            fields.sort();
            fields.dedup();
            let mut areas: Vec<i64> = [pick_street(i), pick_street(i + 3)]
                .into_iter()
                .flatten()
                .collect();
            areas.sort();
            areas.dedup();
            let registered_on = NaiveDate::from_ymd_opt(
                2010 + (i as i32 % 15),
                1 + (i as u32 % 12),
                1 + (i as u32 % 27),
            )
            .unwrap_or(today);
            let c = Clean {
                name: name.to_string(),
                kind: kind.into(),
                registration: "registered".into(),
                credit_code: Some(demo_code(digit, 1000 + i as u32)),
                registered_on: Some(registered_on.min(today)),
                registration_authority: Some("官渡区民政局".into()),
                legal_representative: Some(format!(
                    "{}{}",
                    SURNAMES[i % SURNAMES.len()],
                    GIVEN[(i * 3) % GIVEN.len()]
                )),
                contact_name: Some(format!(
                    "{}{}",
                    SURNAMES[(i + 5) % SURNAMES.len()],
                    GIVEN[(i * 7 + 1) % GIVEN.len()]
                )),
                contact_phone: Some(format!("138{:08}", 71000000 + i * 137)),
                contact_email: Some(format!("org{}@demo.sanshe.local", i + 1)),
                address: Some(format!("官渡区示范路 {} 号", 10 + i)),
                street_id: s,
                staff_count: 3 + (i as i32 * 7) % 40,
                volunteer_count: 10 + (i as i32 * 13) % 200,
                fields,
                areas,
            };
            let id = insert_clean(conn, ts, &c)?;
            org_ids.push(id);
            // Ratings: about half rated; every fifth rating has expired.
            if i % 2 == 0 {
                let years_ago = if i % 10 == 0 { 6 } else { 1 + (i as i32 % 4) };
                let awarded =
                    NaiveDate::from_ymd_opt(today.year() - years_ago, 6, 1).unwrap_or(today);
                diesel::insert_into(ora::table)
                    .values((
                        ora::organisation_id.eq(id),
                        ora::grade.eq(1 + (i as i32 / 2) % 5),
                        ora::awarded_on.eq(awarded),
                        ora::expires_on.eq(standing::rating_expiry(awarded)),
                        ora::created_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            // Inspections for the last three years; a few miss last year's report, one failed it.
            for y in (last_year - 2)..=last_year {
                if y == last_year && (i == 7 || i == 21) {
                    continue;
                }
                let conclusion = if y == last_year && i == 33 {
                    "fail"
                } else if (i + y as usize).is_multiple_of(6) {
                    "basic_pass"
                } else {
                    "pass"
                };
                diesel::insert_into(oi::table)
                    .values((
                        oi::organisation_id.eq(id),
                        oi::year.eq(y),
                        oi::kind.eq(if y % 2 == 0 {
                            "inspection"
                        } else {
                            "annual_report"
                        }),
                        oi::conclusion.eq(conclusion),
                        oi::decided_on.eq(NaiveDate::from_ymd_opt(y + 1, 5, 20)
                            .unwrap_or(today)
                            .min(today)),
                        oi::created_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            let listing = match i {
                // The one barred organisation.
                40 => Some(("dishonesty", "信用中国（云南）", 200)),
                12 | 26 => Some(("abnormal", "云南省社会组织信息公开平台", 90)),
                _ => None,
            };
            if let Some((list, source, days)) = listing {
                let on = today - chrono::Duration::days(days);
                let hash = crate::seed::evidence::sha256(&crate::seed::evidence::pdf(
                    &crate::seed::evidence::listing_text(id, list, on),
                ));
                diesel::insert_into(cl::table)
                    .values((
                        cl::organisation_id.eq(id),
                        cl::list.eq(list),
                        cl::source.eq(source),
                        cl::listed_on.eq(on),
                        cl::evidence_sha256.eq(hash),
                        cl::created_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
            // A removed (historic) abnormal listing: no longer counts.
            if i == 5 {
                let on = today - chrono::Duration::days(700);
                let hash = crate::seed::evidence::sha256(&crate::seed::evidence::pdf(
                    &crate::seed::evidence::listing_text(id, "abnormal", on),
                ));
                diesel::insert_into(cl::table)
                    .values((
                        cl::organisation_id.eq(id),
                        cl::list.eq("abnormal"),
                        cl::source.eq("云南省社会组织信息公开平台"),
                        cl::listed_on.eq(on),
                        cl::removed_on.eq(Some(today - chrono::Duration::days(400))),
                        cl::evidence_sha256.eq(hash),
                        cl::created_at.eq(ts),
                    ))
                    .execute(conn)?;
            }
        }
        for (i, name) in DEMO_GROUPS.iter().enumerate() {
            let c = Clean {
                name: name.to_string(),
                kind: "community_group".into(),
                registration: if i % 3 == 2 { "unregistered" } else { "filed" }.into(),
                credit_code: None,
                registered_on: None,
                registration_authority: Some("街道办事处（备案）".into()),
                legal_representative: None,
                contact_name: Some(format!(
                    "{}{}",
                    SURNAMES[(i + 9) % SURNAMES.len()],
                    GIVEN[i % GIVEN.len()]
                )),
                contact_phone: Some(format!("139{:08}", 52000000 + i * 311)),
                contact_email: None,
                address: None,
                street_id: pick_street(i * 2),
                staff_count: 0,
                volunteer_count: 8 + i as i32 * 3,
                fields: vec![DEMO_FIELDS[(i + 4) % DEMO_FIELDS.len()].to_string()],
                areas: pick_street(i * 2).into_iter().collect(),
            };
            insert_clean(conn, ts, &c)?;
        }
        audit::record(
            conn,
            &actor,
            now,
            "seed.organisations",
            "organisation",
            None,
            None,
            Some(serde_json::json!({"organisations": DEMO_ORG_NAMES.len() + DEMO_GROUPS.len()})),
        )?;
        let n = crate::seed::registry::workers::seed_demo_workers(
            conn,
            now,
            secret,
            &org_ids,
            &street_ids,
        )?;
        audit::record(
            conn,
            &actor,
            now,
            "seed.social_workers",
            "social_worker",
            None,
            None,
            Some(serde_json::json!({"social_workers": n})),
        )?;
        Ok(())
    })
}

/// One `org` user per registered demo organisation: username `org` + the id in three digits (`org001`; not
/// `org1`, which tests create themselves), display name the organisation's
/// name, every one with the given password hash.
pub fn seed_org_users(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    password_hash: &str,
) -> Result<(), AppError> {
    use crate::db::schema::users as u;
    let ts = crate::db::now_micros(now);
    let orgs: Vec<(i64, String)> = o::table
        .filter(o::registration.eq("registered"))
        .order(o::id)
        .select((o::id, o::name))
        .load(conn)?;
    write_tx(conn, |conn| {
        let mut n = 0;
        for (id, name) in &orgs {
            let username = format!("org{id:03}");
            let taken: Option<i64> = u::table
                .filter(u::username.eq(&username))
                .select(u::id)
                .first(conn)
                .optional()?;
            if taken.is_some() {
                continue;
            }
            diesel::insert_into(u::table)
                .values((
                    u::username.eq(&username),
                    u::display_name.eq(name),
                    u::email.eq(None::<String>),
                    u::role.eq("org"),
                    u::org_id.eq(Some(*id)),
                    u::password_hash.eq(password_hash),
                    u::active.eq(true),
                    u::token_version.eq(0i64),
                    u::created_at.eq(ts),
                    u::updated_at.eq(ts),
                ))
                .execute(conn)?;
            n += 1;
        }
        audit::record(
            conn,
            &Actor::system("seed"),
            now,
            "seed.org_users",
            "user",
            None,
            None,
            Some(serde_json::json!({"org_users": n})),
        )?;
        Ok(())
    })
}
