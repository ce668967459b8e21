//! The demo district's streets and communities.

use diesel::prelude::*;

use crate::db::schema::{communities, streets};
use crate::db::{DbConn, write_tx};
use crate::error::AppError;

/// The demo district, shaped like Guandu (官渡区, 530111): 8 streets and 63 communities (synthetic names).
pub const DEMO_STREETS: &[(&str, &[&str])] = &[
    (
        "关上街道",
        &[
            "关上中心社区",
            "关上北社区",
            "关上南社区",
            "双桥社区",
            "世纪城社区",
            "关兴社区",
            "东站社区",
            "春城路社区",
            "金岸社区",
            "关坡社区",
        ],
    ),
    (
        "太和街道",
        &[
            "太和中心社区",
            "太和东社区",
            "西坝社区",
            "福德社区",
            "环城社区",
            "塘双社区",
            "太和北社区",
            "石闸社区",
            "青年路社区",
        ],
    ),
    (
        "吴井街道",
        &[
            "吴井中心社区",
            "吴井东社区",
            "吴井西社区",
            "南窑社区",
            "南站社区",
            "金牛社区",
            "明通社区",
            "双凤社区",
        ],
    ),
    (
        "官渡街道",
        &[
            "官渡古镇社区",
            "官渡中心社区",
            "螺蛳湾社区",
            "宝象河社区",
            "云秀社区",
            "官南社区",
            "和平社区",
            "星光社区",
            "宏仁社区",
        ],
    ),
    (
        "矣六街道",
        &[
            "矣六中心社区",
            "五腊社区",
            "六甲路社区",
            "高坡社区",
            "新二社区",
            "矣六东社区",
            "前卫社区",
        ],
    ),
    (
        "小板桥街道",
        &[
            "小板桥中心社区",
            "云溪社区",
            "板桥东社区",
            "锦苑社区",
            "洛羊社区",
            "大板桥社区",
            "金马路社区",
            "晓东社区",
            "晨光社区",
        ],
    ),
    (
        "六甲街道",
        &[
            "六甲中心社区",
            "福保社区",
            "宝丰社区",
            "海东社区",
            "六甲南社区",
        ],
    ),
    (
        "金马街道",
        &[
            "金马中心社区",
            "金马寺社区",
            "小坝社区",
            "大树营社区",
            "羊方凹社区",
            "金康社区",
        ],
    ),
];

pub const DEMO_DISTRICT_CODE: &str = "530111";

/// Seed the demo streets and communities (nothing when streets exist already). Grid counts sum to 979.
pub fn seed_demo(conn: &mut DbConn) -> Result<(), AppError> {
    let any: Option<i64> = streets::table.select(streets::id).first(conn).optional()?;
    if any.is_some() {
        return Ok(());
    }
    write_tx(conn, |conn| {
        let mut k = 0usize;
        for (i, (street, comms)) in DEMO_STREETS.iter().enumerate() {
            let scode = format!("{DEMO_DISTRICT_CODE}{:03}", i + 1);
            let sid: i64 = diesel::insert_into(streets::table)
                .values((streets::code.eq(&scode), streets::name.eq(*street)))
                .returning(streets::id)
                .get_result(conn)?;
            for (j, name) in comms.iter().enumerate() {
                let grids = 12 + (k * 7 % 8) as i32;
                k += 1;
                diesel::insert_into(communities::table)
                    .values((
                        communities::street_id.eq(sid),
                        communities::code.eq(format!("{scode}{:03}", j + 1)),
                        communities::name.eq(*name),
                        communities::grid_count.eq(grids),
                    ))
                    .execute(conn)?;
            }
        }
        Ok::<_, AppError>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_district_has_8_streets_and_63_communities() {
        assert_eq!(DEMO_STREETS.len(), 8);
        let n: usize = DEMO_STREETS.iter().map(|(_, c)| c.len()).sum();
        assert_eq!(n, 63);
        let mut names = std::collections::HashSet::new();
        for (s, cs) in DEMO_STREETS {
            assert!(names.insert(*s));
            for c in *cs {
                assert!(names.insert(*c), "duplicate {c}");
            }
        }
    }

    /// The seeded grid counts, read back from a real (in-memory SQLite) database, against totals worked out
    /// by hand: community k (0-based, in seeding order) gets 12 + (7k mod 8) grids. As 7 ≡ -1 (mod 8), the
    /// extras run 0, 7, 6, 5, 4, 3, 2, 1 and repeat, 28 per 8 communities; 63 = 7·8 + 7, so the extras
    /// are 7·28 + (0+7+6+5+4+3+2) = 196 + 27 = 223, and the total 63·12 + 223 = 756 + 223 = 979.
    #[test]
    fn demo_grid_counts_sum_to_979() {
        let mut c = DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        crate::db::migrate(&mut c).unwrap();
        seed_demo(&mut c).unwrap();
        let grids: Vec<i32> = communities::table
            .order(communities::id)
            .select(communities::grid_count)
            .load(&mut c)
            .unwrap();
        assert_eq!(grids.len(), 63);
        // The first street's ten communities: k = 0..=9 → 12, 19, 18, 17, 16, 15, 14, 13, 12, 19.
        assert_eq!(grids[..10], [12, 19, 18, 17, 16, 15, 14, 13, 12, 19]);
        assert_eq!(grids.iter().sum::<i32>(), 979);
        // Seeding again adds nothing.
        seed_demo(&mut c).unwrap();
        let n: i64 = communities::table.count().get_result(&mut c).unwrap();
        assert_eq!(n, 63);
    }
}
