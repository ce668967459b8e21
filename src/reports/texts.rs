//! The bureau's own words in a report (4. problems, 5. next steps), kept per period so that the report
//! generated again says the same.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::db::DbConn;
use crate::db::schema::report_texts as rt;
use crate::error::{AppError, Checks};

const REPORT: &str = "three_society";
/// A section's text is at most this many characters.
pub const MAX_CHARS: usize = 5000;

#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    #[serde(default)]
    pub problems: String,
    #[serde(default)]
    pub next_steps: String,
}

/// The key of a period and street.
pub fn key(p: &super::three_society::Period, street: Option<i64>) -> String {
    format!(
        "{}..{}/{}",
        p.from,
        p.to,
        street.map_or("all".to_string(), |s| s.to_string())
    )
}

pub fn get(conn: &mut DbConn, key: &str) -> Result<Texts, AppError> {
    let row: Option<(String, String)> = rt::table
        .filter(rt::report.eq(REPORT))
        .filter(rt::period_key.eq(key))
        .select((rt::problems, rt::next_steps))
        .first(conn)
        .optional()?;
    Ok(row
        .map(|(problems, next_steps)| Texts {
            problems,
            next_steps,
        })
        .unwrap_or_default())
}

/// Save the texts of a period (the bureau), with an audit event.
pub fn save(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    key: &str,
    t: &Texts,
) -> Result<Texts, AppError> {
    let mut c = Checks::new();
    let clean = |s: &str| s.trim().replace("\r\n", "\n");
    let t = Texts {
        problems: clean(&t.problems),
        next_steps: clean(&t.next_steps),
    };
    for (field, v) in [("problems", &t.problems), ("next_steps", &t.next_steps)] {
        if v.chars().count() > MAX_CHARS {
            c.add(
                field,
                "max_length",
                "每部分不超过 5000 字。",
                "At most 5,000 characters a section.",
            );
        }
        if v.chars()
            .any(|ch| ch.is_control() && ch != '\n' && ch != '\t')
        {
            c.add(
                field,
                "text",
                "含有不可见的控制字符。",
                "Contains invisible control characters.",
            );
        }
    }
    c.finish()?;
    let user = actor
        .id
        .ok_or_else(|| AppError::internal("report texts without a signed-in user"))?;
    crate::db::write_tx(conn, |conn| {
        let before = get(conn, key)?;
        diesel::delete(
            rt::table
                .filter(rt::report.eq(REPORT))
                .filter(rt::period_key.eq(key)),
        )
        .execute(conn)?;
        diesel::insert_into(rt::table)
            .values((
                rt::report.eq(REPORT),
                rt::period_key.eq(key),
                rt::problems.eq(&t.problems),
                rt::next_steps.eq(&t.next_steps),
                rt::updated_by.eq(user),
                rt::updated_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        crate::audit::record(
            conn,
            actor,
            now,
            "report.texts",
            "report",
            Some(format!("{REPORT}:{key}")),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            Some(serde_json::to_value(&t).unwrap_or_default()),
        )?;
        Ok(t)
    })
}
