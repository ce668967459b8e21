//! The demo social workers.

use chrono::{DateTime, NaiveDate, Utc};

use crate::clock::beijing_date;
use crate::db::DbConn;
use crate::error::AppError;
use crate::registry::workers::{CleanWorker, id_hash, identity_hashes, insert_clean};

/// About 150 demo workers over the given organisations and streets, inside the seeding transaction. The
/// first worker belongs to the first organisation.
pub fn seed_demo_workers(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    secret: &str,
    org_ids: &[i64],
    street_ids: &[i64],
) -> Result<usize, AppError> {
    const SURNAMES: &[&str] = &[
        "李", "王", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡",
        "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋",
    ];
    const GIVEN: &[&str] = &[
        "雨桐", "子涵", "浩然", "欣怡", "俊杰", "梓萱", "宇航", "诗琪", "明轩", "佳怡", "文博",
        "思雨", "志远", "雅琴", "天佑", "晓燕", "嘉豪", "丽娟", "国栋", "玉兰",
    ];
    if org_ids.is_empty() {
        return Ok(0);
    }
    let ts = crate::db::now_micros(now);
    let today = beijing_date(now);
    let n = 150;
    for i in 0..n {
        let level = match i % 10 {
            0..=3 => "assistant",
            4..=6 => "social_worker",
            7 => "senior",
            _ => "none",
        };
        let birth = NaiveDate::from_ymd_opt(
            1970 + (i as i32 % 30),
            1 + (i as u32 % 12),
            1 + (i as u32 % 28),
        )
        .unwrap_or(today);
        let id_number = crate::seed::registry::orgs::demo_id_number(birth, i as u32);
        let prefix = match level {
            "assistant" => "ZL",
            "social_worker" => "SG",
            "senior" => "GJ",
            _ => "",
        };
        let certified_on = (level != "none").then(|| {
            NaiveDate::from_ymd_opt(2012 + (i as i32 % 12), 6, 20)
                .unwrap_or(today)
                .min(today)
        });
        let mut streets: Vec<i64> = if street_ids.is_empty() {
            vec![]
        } else {
            vec![
                street_ids[i % street_ids.len()],
                street_ids[(i * 5 + 2) % street_ids.len()],
            ]
        };
        streets.sort();
        streets.dedup();
        if i % 4 == 3 {
            streets.truncate(1);
        }
        let org_id = org_ids[(i * 7) % org_ids.len()];
        let c = CleanWorker {
            organisation_id: org_id,
            name: format!(
                "{}{}",
                SURNAMES[i % SURNAMES.len()],
                GIVEN[(i * 3 + i / 20) % GIVEN.len()]
            ),
            id_hash: Some(identity_hashes(secret, org_id, &id_number).0),
            person_hash: Some(id_hash(secret, &id_number)),
            phone: Some(format!("13{}{:08}", 5 + i % 5, 10_000_000 + i * 7919)),
            certificate_level: level.into(),
            certificate_number: (level != "none")
                .then(|| format!("{prefix}{}{:05}", 2012 + i % 12, 530 + i)),
            certified_on,
            employment: match i % 12 {
                10 => "part_time",
                11 => "left",
                _ => "full_time",
            }
            .into(),
            street_ids: streets,
        };
        insert_clean(conn, ts, &c, true)?;
    }
    Ok(n)
}
