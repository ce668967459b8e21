//! Demo budget appropriations for 2017–2026 (预算指标): each year the district's general public budget for
//! its four service fields of purchase, the welfare-lottery fund for elderly services and a higher-level
//! subsidy for any field, ¥6.2 million a year, more than the year's purchases (about ¥3.5 million). Recorded through
//! `ledger::appropriations::create` as finance would, so every one posts its ledger entry and audit event
//! and the seeded ledger passes `sanshe verify`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;

use crate::audit::Actor;
use crate::db::DbConn;
use crate::db::schema::users;
use crate::error::AppError;
use crate::ledger::Settings;
use crate::ledger::appropriations::{self, NewAppropriation, Yuan};

/// The first and last budget years of the demo.
pub const YEARS: std::ops::RangeInclusive<i32> = 2017..=2026;

/// (fund, field, yuan, note) of each year's appropriations.
const EACH_YEAR: &[(&str, Option<&str>, i64, &str)] = &[
    ("general", Some("elderly"), 1_600_000, "养老服务购买"),
    ("general", Some("youth"), 1_200_000, "青少年服务购买"),
    ("general", Some("disability"), 1_200_000, "助残服务购买"),
    ("general", Some("relief"), 1_200_000, "社会救助服务购买"),
    ("lottery", Some("elderly"), 500_000, "福彩公益金·养老"),
    ("transfer", None, 500_000, "省级社会工作专项补助"),
];

/// Record the demo appropriations as the `finance` account (which must exist), dated in January of each
/// year (never after today).
pub fn seed_demo(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, AppError> {
    let finance: (i64, String) = users::table
        .filter(users::username.eq("finance"))
        .select((users::id, users::username))
        .first(conn)?;
    let actor = Actor {
        id: Some(finance.0),
        name: finance.1,
        request_id: None,
    };
    let settings = Settings::default();
    let today = crate::clock::beijing_date(now);
    let mut n = 0;
    for year in YEARS {
        for (i, (fund, field, yuan, note)) in EACH_YEAR.iter().enumerate() {
            let day = NaiveDate::from_ymd_opt(year, 1, 6 + i as u32).expect("a January day");
            let date = day.min(today);
            if date.year() < year - 1 {
                continue;
            }
            appropriations::create(
                conn,
                &settings,
                &actor,
                now,
                &NewAppropriation {
                    year,
                    fund: fund.to_string(),
                    field: field.map(str::to_string),
                    amount: Yuan::Text(format!("{yuan}.00")),
                    document_no: format!("官财社〔{year}〕{}号", 3 + i),
                    note: Some(note.to_string()),
                    date: Some(date.format("%Y-%m-%d").to_string()),
                    idempotency_key: format!("seed-appropriation-{year}-{i}"),
                },
            )?;
            n += 1;
        }
    }
    Ok(n)
}
