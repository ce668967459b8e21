//! Audit flags: what an auditor looks for in a contract's money (DESIGN.md, "The ledger"; DOMAIN.md,
//! "Contracts and money"). One pure function per rule, each returning the evidence (in Chinese and English)
//! when the rule is raised and `None` when it is not. `crate::contracts::flags` reads the database and
//! calls them; nothing here does I/O.
//!
//! Spending counts when it is reported and not rejected (submitted, queried, answered or accepted): a
//! claim finance has not turned down is still a claim on the contract's money.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::calendar::BusinessCalendar;
use super::money::yuan_grouped;

/// The rules, in the order a list shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    LineOverspent,
    ManagementOverCap,
    LabourOverCap,
    ForbiddenCategory,
    OutsideTerm,
    DuplicateInvoice,
    PaidBeforeAcceptance,
    PaidLate,
    SignedLate,
    NoticeLate,
    ServedByMany,
    ActivityOutsideTerm,
    ActivityOutsideArea,
    VisitsAboveNorm,
    LoggedLate,
}

/// How serious a flag is: `high` is money that should not have been spent or claimed (forbidden, claimed
/// twice, paid before acceptance), `medium` a cap or a line exceeded, `low` a deadline missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Severity::High, true) => "高",
            (Severity::Medium, true) => "中",
            (Severity::Low, true) => "低",
            (Severity::High, false) => "High",
            (Severity::Medium, false) => "Medium",
            (Severity::Low, false) => "Low",
        }
    }
}

impl Rule {
    pub const ALL: [Rule; 15] = [
        Rule::LineOverspent,
        Rule::ManagementOverCap,
        Rule::LabourOverCap,
        Rule::ForbiddenCategory,
        Rule::OutsideTerm,
        Rule::DuplicateInvoice,
        Rule::PaidBeforeAcceptance,
        Rule::PaidLate,
        Rule::SignedLate,
        Rule::NoticeLate,
        Rule::ServedByMany,
        Rule::ActivityOutsideTerm,
        Rule::ActivityOutsideArea,
        Rule::VisitsAboveNorm,
        Rule::LoggedLate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::LineOverspent => "line_overspent",
            Rule::ManagementOverCap => "management_over_cap",
            Rule::LabourOverCap => "labour_over_cap",
            Rule::ForbiddenCategory => "forbidden_category",
            Rule::OutsideTerm => "outside_term",
            Rule::DuplicateInvoice => "duplicate_invoice",
            Rule::PaidBeforeAcceptance => "paid_before_acceptance",
            Rule::PaidLate => "paid_late",
            Rule::SignedLate => "signed_late",
            Rule::NoticeLate => "notice_late",
            Rule::ServedByMany => "served_by_many",
            Rule::ActivityOutsideTerm => "activity_outside_term",
            Rule::ActivityOutsideArea => "activity_outside_area",
            Rule::VisitsAboveNorm => "visits_above_norm",
            Rule::LoggedLate => "logged_late",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            Rule::LineOverspent => ("预算科目超支", "Budget line overspent"),
            Rule::ManagementOverCap => ("管理费超过上限", "Management fee over its cap"),
            Rule::LabourOverCap => (
                "劳务及志愿者补贴超过上限",
                "Labour and volunteer subsidies over their cap",
            ),
            Rule::ForbiddenCategory => ("禁止列支的支出", "Forbidden spending"),
            Rule::OutsideTerm => ("服务期外的支出", "Spending outside the contract term"),
            Rule::DuplicateInvoice => ("同一发票重复报销", "Invoice claimed twice"),
            Rule::PaidBeforeAcceptance => ("验收前付款", "Paid before acceptance"),
            Rule::PaidLate => ("逾期付款", "Paid late"),
            Rule::SignedLate => ("逾期签订合同", "Contract signed late"),
            Rule::NoticeLate => ("合同公告逾期", "Contract notice late"),
            Rule::ServedByMany => (
                "同一服务对象由多家机构服务（可能重复统计）",
                "Same person served by several providers (possible double counting)",
            ),
            Rule::ActivityOutsideTerm => ("服务期外的活动", "Activity outside the contract term"),
            Rule::ActivityOutsideArea => ("服务区域外的活动", "Activity outside the service area"),
            Rule::VisitsAboveNorm => (
                "人均服务人次远超常规",
                "Visits per person far above the norm",
            ),
            Rule::LoggedLate => (
                "合同期满后补录的活动",
                "Activities logged after the contract ended",
            ),
        };
        if zh { z } else { e }
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::ForbiddenCategory | Rule::DuplicateInvoice | Rule::PaidBeforeAcceptance => {
                Severity::High
            }
            Rule::LineOverspent
            | Rule::ManagementOverCap
            | Rule::LabourOverCap
            | Rule::OutsideTerm
            | Rule::ActivityOutsideTerm
            | Rule::ActivityOutsideArea
            | Rule::VisitsAboveNorm
            | Rule::LoggedLate => Severity::Medium,
            Rule::ServedByMany | Rule::PaidLate | Rule::SignedLate | Rule::NoticeLate => {
                Severity::Low
            }
        }
    }
}

/// Why a rule was raised, in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub zh: String,
    pub en: String,
}

fn ev(zh: String, en: String) -> Option<Evidence> {
    Some(Evidence { zh, en })
}

/// One raised flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Flag {
    pub rule: Rule,
    pub rule_label: String,
    pub severity: Severity,
    pub contract_id: i64,
    pub contract_no: String,
    pub organisation_id: i64,
    pub organisation: String,
    /// The spending item it concerns, if one.
    pub item_id: Option<i64>,
    /// The service activity it concerns, if one.
    pub activity_id: Option<i64>,
    pub evidence_zh: String,
    pub evidence_en: String,
    /// Where to look (a page of the web UI).
    pub link: String,
}

/// The normalised invoice number that finds the same invoice however it was typed: trimmed, without
/// spaces and hyphens, full-width → half-width, upper case (the normalisation of credit codes,
/// `credit_code::normalise`: one rule).
pub fn invoice_key(invoice_no: &str) -> String {
    super::credit_code::normalise(invoice_no)
}

/// `part` as a percentage of `whole`, two decimals, for evidence texts.
fn pct(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".into();
    }
    (Decimal::from(part) * Decimal::from(100) / Decimal::from(whole))
        .round_dp(2)
        .normalize()
        .to_string()
}

/// Budget line overspent: the spending reported on a line exceeds the line's budget in the contract
/// (the winning bid's budget, DOMAIN.md "Contracts and money": funds are ring-fenced, 专款专用).
pub fn line_overspent(
    line_zh: &str,
    line_en: &str,
    budget_fen: i64,
    spent_fen: i64,
) -> Option<Evidence> {
    if spent_fen <= budget_fen {
        return None;
    }
    ev(
        format!(
            "“{line_zh}”已报支出 {} 元，超过该科目预算 {} 元（超出 {} 元）。",
            yuan_grouped(spent_fen),
            yuan_grouped(budget_fen),
            yuan_grouped(spent_fen - budget_fen)
        ),
        format!(
            "{line_en}: ¥{} reported against a budget of ¥{} (¥{} over).",
            yuan_grouped(spent_fen),
            yuan_grouped(budget_fen),
            yuan_grouped(spent_fen - budget_fen)
        ),
    )
}

/// Management fee over its cap: the management-fee spending exceeds `cap_pct` % of the contract amount
/// (DOMAIN.md: many districts cap it at 10 %; the central demonstration programme allows none; a programme
/// rule, `SANSHE_LINE_SHARES`, e.g. `management<=10`).
pub fn management_over_cap(
    contract_fen: i64,
    management_fen: i64,
    cap_pct: Decimal,
) -> Option<Evidence> {
    if Decimal::from(management_fen) * Decimal::from(100) <= Decimal::from(contract_fen) * cap_pct {
        return None;
    }
    ev(
        format!(
            "管理费支出 {} 元，占合同金额的 {}%，超过上限 {}%。",
            yuan_grouped(management_fen),
            pct(management_fen, contract_fen),
            cap_pct.normalize()
        ),
        format!(
            "Management fee spending of ¥{} is {}% of the contract amount, over the {}% cap.",
            yuan_grouped(management_fen),
            pct(management_fen, contract_fen),
            cap_pct.normalize()
        ),
    )
}

/// Labour and volunteer subsidies over their cap: staff-line spending (人员经费: labour fees and volunteer
/// subsidies) exceeds `cap_pct` % of the contract amount, where the programme sets one (DOMAIN.md: the
/// central demonstration programme, ≤ 50 %; `SANSHE_LABOUR_CAP_PCT`, off when unset).
pub fn labour_over_cap(
    contract_fen: i64,
    labour_fen: i64,
    cap_pct: Option<Decimal>,
) -> Option<Evidence> {
    let cap = cap_pct?;
    if Decimal::from(labour_fen) * Decimal::from(100) <= Decimal::from(contract_fen) * cap {
        return None;
    }
    ev(
        format!(
            "劳务费及志愿者补贴（人员经费）支出 {} 元，占合同金额的 {}%，超过本项目上限 {}%。",
            yuan_grouped(labour_fen),
            pct(labour_fen, contract_fen),
            cap.normalize()
        ),
        format!(
            "Labour and volunteer subsidies (staff line) of ¥{} are {}% of the contract amount, over the programme's {}% cap.",
            yuan_grouped(labour_fen),
            pct(labour_fen, contract_fen),
            cap.normalize()
        ),
    )
}

/// The default keywords of forbidden spending (DOMAIN.md: premises, vehicles, fines, debt, investment,
/// cash or gifts to beneficiaries), matched in the description and the payee; `SANSHE_FORBIDDEN_KEYWORDS`
/// replaces them.
pub const DEFAULT_FORBIDDEN_KEYWORDS: &str = "购房,房产,场地购置,购置房屋,车辆,购车,汽车,罚款,罚金,滞纳金,还款,偿债,借款,贷款,利息,投资,理财,股票,基金申购,现金发放,发放现金,礼品,购物卡,礼金,红包";

/// The settings of the flags that vary by programme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Labour and volunteer subsidies at most this share of the contract amount (percent); `None`: no
    /// such rule (`SANSHE_LABOUR_CAP_PCT`).
    pub labour_cap_pct: Option<Decimal>,
    /// Words that mark forbidden spending (`SANSHE_FORBIDDEN_KEYWORDS`).
    pub forbidden_keywords: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            labour_cap_pct: None,
            forbidden_keywords: parse_keywords(DEFAULT_FORBIDDEN_KEYWORDS),
        }
    }
}

/// Parse a comma-separated keyword list (Chinese or ASCII commas); empty items are dropped.
pub fn parse_keywords(s: &str) -> Vec<String> {
    s.split([',', '，', '、'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// Forbidden spending: the description or payee names a forbidden category — premises, vehicles, fines,
/// debt, investment, cash or gifts to beneficiaries (DOMAIN.md "Contracts and money": forbidden
/// everywhere). Keyword matching flags for a person to look at; it decides nothing.
pub fn forbidden_category(description: &str, payee: &str, keywords: &[String]) -> Option<Evidence> {
    let text = format!("{description} {payee}").to_lowercase();
    let hits: Vec<&str> = keywords
        .iter()
        .filter(|k| text.contains(&k.to_lowercase()))
        .map(String::as_str)
        .collect();
    if hits.is_empty() {
        return None;
    }
    ev(
        format!(
            "说明或收款方含禁止列支的关键词：{}（购置房产、车辆，罚款，偿债，投资，向服务对象发放现金或礼品均不得列支）。",
            hits.join("、")
        ),
        format!(
            "The description or payee names forbidden spending: {} (premises, vehicles, fines, debt, investment, cash or gifts to beneficiaries may not be charged).",
            hits.join(", ")
        ),
    )
}

/// Spending outside the contract term: spent before the term starts or after it ends (DESIGN.md: what
/// auditors look for; purchased-service funds pay for the service of the contract's term).
pub fn outside_term(spent_on: NaiveDate, start: NaiveDate, end: NaiveDate) -> Option<Evidence> {
    if spent_on >= start && spent_on <= end {
        return None;
    }
    ev(
        format!("支出日期 {spent_on} 不在合同服务期 {start} 至 {end} 内。"),
        format!("Spent on {spent_on}, outside the contract term {start} to {end}."),
    )
}

/// Another claim of the same invoice (another spending item, on this or another contract).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub item_id: i64,
    pub contract_no: String,
    pub organisation: String,
}

/// The same invoice claimed twice: another item, of any contract and any organisation, carries the same
/// normalised invoice number (DESIGN.md: what auditors look for; 专款专用, an expense is charged once).
pub fn duplicate_invoice(invoice_no: &str, others: &[Claim]) -> Option<Evidence> {
    if others.is_empty() {
        return None;
    }
    let zh: Vec<String> = others
        .iter()
        .map(|c| {
            format!(
                "{}（合同 {}，第 {} 项）",
                c.organisation, c.contract_no, c.item_id
            )
        })
        .collect();
    let en: Vec<String> = others
        .iter()
        .map(|c| {
            format!(
                "{} (contract {}, item {})",
                c.organisation, c.contract_no, c.item_id
            )
        })
        .collect();
    ev(
        format!("发票 {invoice_no} 另被报销：{}。", zh.join("；")),
        format!("Invoice {invoice_no} is also claimed by {}.", en.join("; ")),
    )
}

/// Payment before acceptance: an instalment paid before its milestone was accepted, or never accepted
/// (DOMAIN.md "Contracts and money": instalments are released by milestones; 政府购买服务管理办法 Art 24:
/// pay by the contract after performance is checked). The signing prepayment is accepted on signing.
pub fn paid_before_acceptance(
    instalment_no: i32,
    accepted_on: Option<NaiveDate>,
    paid_on: NaiveDate,
) -> Option<Evidence> {
    match accepted_on {
        Some(a) if paid_on >= a => None,
        Some(a) => ev(
            format!("第 {instalment_no} 期于 {paid_on} 付款，早于验收日 {a}。"),
            format!(
                "Instalment {instalment_no} was paid on {paid_on}, before its acceptance on {a}."
            ),
        ),
        None => ev(
            format!("第 {instalment_no} 期于 {paid_on} 付款，但尚未验收。"),
            format!("Instalment {instalment_no} was paid on {paid_on} but never accepted."),
        ),
    }
}

/// Late payment: paid more than `due_days` after acceptance, or still unpaid `due_days` after it as of
/// `today` (DOMAIN.md: beyond 30 days after acceptance is a flag; 保障中小企业款项支付条例 Art 8;
/// `SANSHE_PAYMENT_DUE_DAYS`; the rule is `domain::contract::paid_late`).
pub fn payment_late(
    instalment_no: i32,
    accepted_on: NaiveDate,
    paid_on: Option<NaiveDate>,
    today: NaiveDate,
    due_days: i64,
) -> Option<Evidence> {
    let (on, paid) = match paid_on {
        Some(p) => (p, true),
        None => (today, false),
    };
    if !super::contract::paid_late(accepted_on, on, due_days) {
        return None;
    }
    let days = (on - accepted_on).num_days();
    if paid {
        ev(
            format!(
                "第 {instalment_no} 期于 {accepted_on} 验收，{on} 才付款（{days} 天，期限 {due_days} 天）。"
            ),
            format!(
                "Instalment {instalment_no} was accepted on {accepted_on} and paid on {on}: {days} days, the limit is {due_days}."
            ),
        )
    } else {
        ev(
            format!(
                "第 {instalment_no} 期于 {accepted_on} 验收，至今 {days} 天仍未付款（期限 {due_days} 天）。"
            ),
            format!(
                "Instalment {instalment_no} was accepted on {accepted_on} and is still unpaid after {days} days (the limit is {due_days})."
            ),
        )
    }
}

/// Contract signed late: more than 30 days after the award notice (政府采购法 Art 46; the rule is
/// `domain::contract::signed_late`).
pub fn signed_late(awarded_on: NaiveDate, signed_on: NaiveDate) -> Option<Evidence> {
    if !super::contract::signed_late(awarded_on, signed_on) {
        return None;
    }
    let days = (signed_on - awarded_on).num_days();
    ev(
        format!(
            "定标 {awarded_on}，签约 {signed_on}，相隔 {days} 天，超过 {} 天（政府采购法第四十六条）。",
            super::contract::SIGN_WITHIN_DAYS
        ),
        format!(
            "Awarded on {awarded_on}, signed on {signed_on}: {days} days, over {} (Government Procurement Law Art 46).",
            super::contract::SIGN_WITHIN_DAYS
        ),
    )
}

/// Contract notice late: published more than 2 working days after signing (政府采购法实施条例 Art 50;
/// the rule is `domain::contract::notice_late`).
pub fn notice_late(
    cal: &BusinessCalendar,
    signed_on: NaiveDate,
    notice_on: NaiveDate,
) -> Option<Evidence> {
    if !super::contract::notice_late(cal, signed_on, notice_on) {
        return None;
    }
    let days = cal.working_days_between(signed_on, notice_on);
    ev(
        format!(
            "签约 {signed_on}，合同公告 {notice_on}，相隔 {days} 个工作日，超过 {} 个（政府采购法实施条例第五十条）。",
            super::contract::NOTICE_WITHIN_WORKING_DAYS
        ),
        format!(
            "Signed on {signed_on}, notice on {notice_on}: {days} working days, over {} (Implementing Regulation Art 50).",
            super::contract::NOTICE_WITHIN_WORKING_DAYS
        ),
    )
}

/// Another provider's service of the same people (served_by_many): an organisation, its contract, how many
/// of the people in question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    pub organisation: String,
    pub contract_no: String,
    pub people: usize,
}

/// The same identified person served by several providers in the same field and quarter (DESIGN.md, People
/// served: 人数 is de-duplicated for the district, but each contract counts its own, so the sum of the
/// contracts' 人数 overstates it). Shown to the bureau, not refused. `people` are the person references
/// (never a number, hash or name).
pub fn served_by_many(
    field: (&str, &str),
    (year, q): (i32, u32),
    people: &[i64],
    others: &[Overlap],
) -> Option<Evidence> {
    if people.is_empty() || others.is_empty() {
        return None;
    }
    let refs: Vec<String> = people.iter().take(10).map(|p| format!("P{p}")).collect();
    let more = if people.len() > 10 { "…" } else { "" };
    let zh: Vec<String> = others
        .iter()
        .map(|o| {
            format!(
                "{}（合同 {}，{} 人）",
                o.organisation, o.contract_no, o.people
            )
        })
        .collect();
    let en: Vec<String> = others
        .iter()
        .map(|o| {
            format!(
                "{} (contract {}, {} people)",
                o.organisation, o.contract_no, o.people
            )
        })
        .collect();
    ev(
        format!(
            "{year} 年第 {q} 季度，本合同的 {} 名{}服务对象也由其他机构服务：{}。服务对象编号：{}{more}。",
            people.len(),
            field.0,
            zh.join("；"),
            refs.join("、")
        ),
        format!(
            "In {year} Q{q}, {} people this contract served in {} were also served by: {}. Person references: {}{more}.",
            people.len(),
            field.1,
            en.join("; "),
            refs.join(", ")
        ),
    )
}

/// An activity dated outside the contract's term, which ends early when the contract is terminated.
pub fn activity_outside_term(
    held_on: NaiveDate,
    start: NaiveDate,
    end: NaiveDate,
) -> Option<Evidence> {
    if held_on >= start && held_on <= end {
        return None;
    }
    ev(
        format!("活动日期 {held_on} 不在合同服务期 {start} 至 {end} 内。"),
        format!("Held on {held_on}, outside the contract term {start} to {end}."),
    )
}

/// An activity in a community that is not (or no longer) in the contract's service area.
pub fn activity_outside_area(in_area: bool, community: &str, street: &str) -> Option<Evidence> {
    if in_area {
        return None;
    }
    ev(
        format!("活动所在社区“{street}{community}”不在合同的服务区域内。"),
        format!(
            "The activity's community {community} ({street}) is outside the contract's service area."
        ),
    )
}

/// The contract's norm of 人次 per person: its target 人次 over its target 人数, rounded up; none without
/// targets.
pub fn visits_norm(target_visits: i64, target_people: i64) -> Option<i64> {
    (target_people > 0 && target_visits > 0)
        .then(|| (target_visits + target_people - 1) / target_people)
}

/// People whose 人次 under one contract lie far above its norm: above `factor` × norm and above `floor`
/// (`SANSHE_VISITS_NORM_FACTOR`, `SANSHE_VISITS_NORM_FLOOR`). `visits` are (person reference, 人次).
pub fn visits_above_norm(
    visits: &[(i64, i64)],
    norm: i64,
    factor: i64,
    floor: i64,
) -> Option<Evidence> {
    let limit = (norm * factor).max(floor);
    let mut over: Vec<&(i64, i64)> = visits.iter().filter(|(_, n)| *n > limit).collect();
    if over.is_empty() {
        return None;
    }
    over.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let list: Vec<String> = over
        .iter()
        .take(10)
        .map(|(p, n)| format!("P{p}: {n}"))
        .collect();
    ev(
        format!(
            "{} 名服务对象的人次超过本合同常规（人均 {norm} 人次）的 {factor} 倍（上限 {limit}）：{}。",
            over.len(),
            list.join("，")
        ),
        format!(
            "{} people have more than {factor} times the contract's norm of {norm} visits a person (limit {limit}): {}.",
            over.len(),
            list.join(", ")
        ),
    )
}

/// An activity logged after the contract's term ended (or after it was terminated or finally accepted):
/// figures added after the fact, which the acceptance did not see.
pub fn logged_late(held_on: NaiveDate, logged_on: NaiveDate, ended: NaiveDate) -> Option<Evidence> {
    if logged_on <= ended {
        return None;
    }
    ev(
        format!("{held_on} 的活动于 {logged_on} 才登记，晚于合同结束或终期验收（{ended}）。"),
        format!(
            "The activity of {held_on} was logged on {logged_on}, after the contract ended or was finally accepted ({ended})."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn line_overspent_raised_over_the_line_budget() {
        assert!(line_overspent("活动经费", "Activities", 10_000, 10_001).is_some());
        assert!(line_overspent("活动经费", "Activities", 10_000, 10_000).is_none());
    }

    #[test]
    fn management_over_cap_raised_over_ten_percent() {
        let cap = Decimal::from(10);
        let e = management_over_cap(1_000_000, 100_001, cap).unwrap();
        assert!(e.zh.contains("10%"), "{}", e.zh);
        assert!(management_over_cap(1_000_000, 100_000, cap).is_none());
        // A programme without management fees.
        assert!(management_over_cap(1_000_000, 1, Decimal::ZERO).is_some());
    }

    #[test]
    fn labour_over_cap_raised_over_fifty_percent_only_where_the_programme_says_so() {
        let cap = Some(Decimal::from(50));
        assert!(labour_over_cap(1_000_000, 500_001, cap).is_some());
        assert!(labour_over_cap(1_000_000, 500_000, cap).is_none());
        assert!(labour_over_cap(1_000_000, 900_000, None).is_none());
    }

    #[test]
    fn forbidden_category_raised_by_a_keyword_in_description_or_payee() {
        let k = parse_keywords(DEFAULT_FORBIDDEN_KEYWORDS);
        let e = forbidden_category("为服务对象购买购物卡", "超市", &k).unwrap();
        assert!(e.zh.contains("购物卡"), "{}", e.zh);
        assert!(forbidden_category("缴纳", "交警支队罚款", &k).is_some());
        assert!(forbidden_category("小组活动材料", "文具店", &k).is_none());
        assert_eq!(parse_keywords("a， b,,c、d"), ["a", "b", "c", "d"]);
    }

    #[test]
    fn outside_term_raised_before_start_or_after_end() {
        let (s, e) = (d("2026-03-01"), d("2027-02-28"));
        assert!(outside_term(d("2026-02-28"), s, e).is_some());
        assert!(outside_term(d("2027-03-01"), s, e).is_some());
        assert!(outside_term(d("2026-03-01"), s, e).is_none());
        assert!(outside_term(d("2027-02-28"), s, e).is_none());
    }

    #[test]
    fn duplicate_invoice_raised_by_another_claim() {
        let other = Claim {
            item_id: 7,
            contract_no: "HT-2".into(),
            organisation: "乙组织".into(),
        };
        let e = duplicate_invoice("No 123", std::slice::from_ref(&other)).unwrap();
        assert!(e.en.contains("HT-2") && e.zh.contains("乙组织"), "{e:?}");
        assert!(duplicate_invoice("No 123", &[]).is_none());
    }

    #[test]
    fn invoice_keys_ignore_spaces_hyphens_case_and_width() {
        assert_eq!(invoice_key(" ab-12 34 "), "AB1234");
        assert_eq!(invoice_key("ＡＢ－１２３４"), "AB1234");
        assert_eq!(invoice_key("ab1234"), invoice_key("AB-1234"));
    }

    #[test]
    fn paid_before_acceptance_raised_when_paid_earlier_or_never_accepted() {
        assert!(paid_before_acceptance(2, Some(d("2026-05-10")), d("2026-05-09")).is_some());
        assert!(paid_before_acceptance(2, None, d("2026-05-09")).is_some());
        assert!(paid_before_acceptance(2, Some(d("2026-05-10")), d("2026-05-10")).is_none());
    }

    #[test]
    fn paid_late_raised_after_the_due_days_paid_or_not() {
        let a = d("2026-03-01");
        let today = d("2026-06-01");
        assert!(payment_late(1, a, Some(d("2026-04-01")), today, 30).is_some());
        assert!(payment_late(1, a, Some(d("2026-03-31")), today, 30).is_none());
        assert!(payment_late(1, a, None, today, 30).is_some());
        assert!(payment_late(1, a, None, d("2026-03-20"), 30).is_none());
    }

    #[test]
    fn signed_late_raised_after_30_days_gpl_art_46() {
        assert!(signed_late(d("2026-03-01"), d("2026-04-01")).is_some());
        assert!(signed_late(d("2026-03-01"), d("2026-03-31")).is_none());
    }

    #[test]
    fn notice_late_raised_after_2_working_days_implementing_regulation_art_50() {
        let cal = BusinessCalendar::builtin();
        assert!(notice_late(&cal, d("2026-03-05"), d("2026-03-10")).is_some());
        assert!(notice_late(&cal, d("2026-03-05"), d("2026-03-09")).is_none());
    }

    #[test]
    fn rules_round_trip_and_have_severities() {
        for r in Rule::ALL {
            assert_eq!(Rule::parse(r.as_str()), Some(r));
            assert!(!r.label(true).is_empty() && !r.label(false).is_empty());
        }
        assert_eq!(Rule::DuplicateInvoice.severity(), Severity::High);
        assert_eq!(Rule::PaidLate.severity(), Severity::Low);
    }

    #[test]
    fn served_by_many_raised_only_with_another_provider() {
        let o = Overlap {
            organisation: "乙".into(),
            contract_no: "HT-2".into(),
            people: 2,
        };
        let e = served_by_many(("养老服务", "Elderly"), (2026, 1), &[7, 9], &[o]).unwrap();
        assert!(e.zh.contains("P7") && e.zh.contains("第 1 季度") && e.en.contains("HT-2"));
        assert!(served_by_many(("养老服务", "Elderly"), (2026, 1), &[7], &[]).is_none());
    }

    #[test]
    fn activity_outside_term_and_area() {
        let (s, e) = (d("2026-01-01"), d("2026-06-30"));
        assert!(activity_outside_term(d("2026-07-01"), s, e).is_some());
        assert!(activity_outside_term(d("2026-06-30"), s, e).is_none());
        assert!(activity_outside_area(false, "东社区", "甲街道").is_some());
        assert!(activity_outside_area(true, "东社区", "甲街道").is_none());
    }

    #[test]
    fn visits_above_norm_uses_factor_and_floor() {
        assert_eq!(visits_norm(2000, 500), Some(4));
        assert_eq!(visits_norm(2001, 500), Some(5));
        assert_eq!(visits_norm(10, 0), None);
        // Norm 4 × 3 = 12: 13 is over, 12 is not.
        assert!(visits_above_norm(&[(1, 12)], 4, 3, 12).is_none());
        let e = visits_above_norm(&[(1, 13), (2, 3)], 4, 3, 12).unwrap();
        assert!(e.zh.starts_with("1 名") && e.en.contains("P1: 13"));
        // The floor holds when the norm is small.
        assert!(visits_above_norm(&[(1, 10)], 1, 3, 12).is_none());
    }

    #[test]
    fn logged_late_after_the_end() {
        let end = d("2026-06-30");
        assert!(logged_late(d("2026-06-20"), d("2026-07-01"), end).is_some());
        assert!(logged_late(d("2026-06-20"), d("2026-06-30"), end).is_none());
    }
}
