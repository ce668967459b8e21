//! What the 三社联动 report says in sentences, worded once for the PDF and the web page.

use super::three_society::ThreeSociety;
use super::yuan;

/// The report's title: place, period and name.
pub fn title(r: &ThreeSociety) -> String {
    format!(
        "{}{}三社联动工作报告",
        r.street.clone().unwrap_or_default(),
        r.period.name
    )
}

/// 一、总体情况: communities, organisations, bases, social workers and volunteers.
pub fn overview(r: &ThreeSociety) -> String {
    let orgs: i64 = r.organisations.iter().map(|t| t.count).sum();
    let bases: i64 = r.bases_by_level.iter().map(|t| t.count).sum();
    let workers: i64 = r.workers_by_level.iter().map(|t| t.count).sum();
    format!(
        "{}，{}共有社区 {} 个，其中 {} 个社区开展了购买服务项目活动；社会组织 {} 家；社会组织孵化基地 {} 个，覆盖社区 {} 个；持证社会工作者 {} 人；参与服务的志愿者 {} 人次，服务时长 {} 小时。",
        r.period.name,
        r.street.clone().unwrap_or_else(|| "全区".into()),
        r.communities,
        r.communities_covered,
        orgs,
        bases,
        r.communities_with_base,
        workers,
        r.volunteers,
        r.volunteer_hours
    )
}

/// 二、（二）: contracts signed in the period and their amount.
pub fn purchased(r: &ThreeSociety) -> String {
    let projects: i64 = r.purchased_by_field.iter().map(|p| p.projects).sum();
    let funds: i64 = r.purchased_by_field.iter().map(|p| p.funds_fen).sum();
    format!(
        "报告期内签订政府购买服务合同 {projects} 个，合同金额 {}。",
        yuan(funds)
    )
}

/// 三、（一）: the budget year's funds and execution rate.
pub fn funds(r: &ThreeSociety) -> String {
    let f = &r.funds;
    format!(
        "{} 年度预算指标 {}，已签约承诺 {}，已支付 {}，预算执行率 {}。",
        r.period.budget_year,
        yuan(f.appropriated_fen),
        yuan(f.committed_fen),
        yuan(f.paid_fen),
        if f.rate.is_empty() {
            "—".to_string()
        } else {
            format!("{}%", f.rate)
        }
    )
}

/// 三、（二）: activities, 人次 and 人数.
pub fn people(r: &ThreeSociety) -> String {
    format!(
        "报告期内开展服务活动 {} 次，服务 {} 人次（其中匿名人次 {}），服务 {} 人（按身份去重，跨项目、跨机构不重复计算）。",
        r.activities, r.people.visits, r.people.anonymous, r.people.people
    )
}

/// 三、（三）: the satisfaction surveys.
pub fn satisfaction(r: &ThreeSociety) -> String {
    let s = &r.satisfaction;
    format!(
        "报告期内满意度调查共回收 {} 份，满意（4 分及以上）{} 份，满意率 {}。",
        s.responses,
        s.satisfied,
        s.satisfied_pct.map_or("—".to_string(), |p| format!("{p}%"))
    )
}

/// The bureau's text of section 4 or 5, or a mark that it was left empty.
pub fn written(text: &str) -> &str {
    if text.is_empty() {
        "（未填写）"
    } else {
        text
    }
}
