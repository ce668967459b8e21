//! Tender rules with no storage in them: procurement methods and their numbers, the life-cycle states,
//! evaluation criteria, the price score and ranking, instalment schedules, budget lines and eligibility.
//!
//! Numbers come from DOMAIN.md ("Tenders", "Evaluation and award"); the ones it marks configurable live in
//! [`TenderRules`], built from the configuration.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ids::BidId;
use super::money::{Fen, MoneyError};

/// One rule a value breaks: the field, a stable rule code and the message in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub field: String,
    pub rule: &'static str,
    pub zh: String,
    pub en: String,
}

fn broken(
    field: impl Into<String>,
    rule: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> Broken {
    Broken {
        field: field.into(),
        rule,
        zh: zh.into(),
        en: en.into(),
    }
}

/// Procurement methods (采购方式).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 公开招标
    Open,
    /// 邀请招标
    Invited,
    /// 竞争性磋商
    Consultation,
    /// 竞争性谈判
    Negotiation,
    /// 单一来源
    SingleSource,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Open,
        Method::Invited,
        Method::Consultation,
        Method::Negotiation,
        Method::SingleSource,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Open => "open",
            Method::Invited => "invited",
            Method::Consultation => "consultation",
            Method::Negotiation => "negotiation",
            Method::SingleSource => "single_source",
        }
    }
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Method::Open, true) => "公开招标",
            (Method::Open, false) => "Open tender",
            (Method::Invited, true) => "邀请招标",
            (Method::Invited, false) => "Invited tender",
            (Method::Consultation, true) => "竞争性磋商",
            (Method::Consultation, false) => "Competitive consultation",
            (Method::Negotiation, true) => "竞争性谈判",
            (Method::Negotiation, false) => "Competitive negotiation",
            (Method::SingleSource, true) => "单一来源",
            (Method::SingleSource, false) => "Single source",
        }
    }
    /// Response time from the notice to the bid deadline: calendar days, or working days for single source.
    pub fn min_response(self) -> ResponseTime {
        match self {
            Method::Open | Method::Invited => ResponseTime::Days(20),
            Method::Consultation | Method::Negotiation => ResponseTime::Days(10),
            Method::SingleSource => ResponseTime::WorkingDays(5),
        }
    }
    fn is_tender(self) -> bool {
        matches!(self, Method::Open | Method::Invited)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseTime {
    Days(u32),
    WorkingDays(u32),
}

/// The configurable tender numbers (DOMAIN.md defaults).
#[derive(Clone, Debug)]
pub struct TenderRules {
    /// Minimum valid bids per method; fewer at opening → failed (流标).
    pub min_bids_open: u32,
    pub min_bids_invited: u32,
    pub min_bids_consultation: u32,
    pub min_bids_negotiation: u32,
    /// At or above this budget (fen) only an open tender is allowed.
    pub open_tender_threshold_fen: i64,
    pub price_weight_min: Decimal,
    pub price_weight_max: Decimal,
    pub publicity_working_days: u32,
    pub challenge_working_days: u32,
    pub answer_working_days: u32,
    /// 管理费 at most this share of the price (percent).
    pub management_fee_cap_pct: Decimal,
    /// 人员经费 at most this share of the price (percent).
    pub staff_cost_cap_pct: Decimal,
}

impl Default for TenderRules {
    fn default() -> Self {
        TenderRules {
            min_bids_open: 3,
            min_bids_invited: 3,
            min_bids_consultation: 2,
            min_bids_negotiation: 2,
            open_tender_threshold_fen: 200_000_000,
            price_weight_min: Decimal::from(10),
            price_weight_max: Decimal::from(30),
            publicity_working_days: 1,
            challenge_working_days: 7,
            answer_working_days: 7,
            management_fee_cap_pct: Decimal::from(10),
            staff_cost_cap_pct: Decimal::from(50),
        }
    }
}

impl TenderRules {
    pub fn min_bids(&self, m: Method) -> u32 {
        match m {
            Method::Open => self.min_bids_open,
            Method::Invited => self.min_bids_invited,
            Method::Consultation => self.min_bids_consultation,
            Method::Negotiation => self.min_bids_negotiation,
            Method::SingleSource => 1,
        }
    }
}

/// Above this budget a tender's panel has 7 members: ¥10 million.
pub const LARGE_PANEL_ABOVE: Fen = Fen::new(1_000_000_000);

/// The smallest panel for a method and budget: tenders 5 (7 above ¥10 million), the others 3; always odd.
/// The budget is a [`Fen`] or fen as stored.
pub fn min_panel(m: Method, budget: impl Into<Fen>) -> usize {
    if m.is_tender() {
        if budget.into() > LARGE_PANEL_ABOVE {
            7
        } else {
            5
        }
    } else {
        3
    }
}

/// Whether a panel of `n` is allowed.
pub fn panel_ok(m: Method, budget: impl Into<Fen>, n: usize) -> bool {
    n >= min_panel(m, budget) && n % 2 == 1
}

/// Life-cycle states, in order.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Published,
    Closed,
    Opened,
    Evaluating,
    Evaluated,
    AwardProposed,
    Publicity,
    Challenge,
    Awarded,
    Contracted,
    Cancelled,
    Failed,
}

impl State {
    pub const ALL: [State; 13] = [
        State::Draft,
        State::Published,
        State::Closed,
        State::Opened,
        State::Evaluating,
        State::Evaluated,
        State::AwardProposed,
        State::Publicity,
        State::Challenge,
        State::Awarded,
        State::Contracted,
        State::Cancelled,
        State::Failed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Published => "published",
            State::Closed => "closed",
            State::Opened => "opened",
            State::Evaluating => "evaluating",
            State::Evaluated => "evaluated",
            State::AwardProposed => "award_proposed",
            State::Publicity => "publicity",
            State::Challenge => "challenge",
            State::Awarded => "awarded",
            State::Contracted => "contracted",
            State::Cancelled => "cancelled",
            State::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            State::Draft => ("草稿", "Draft"),
            State::Published => ("公告中", "Published"),
            State::Closed => ("投标截止", "Bidding closed"),
            State::Opened => ("已开标", "Opened"),
            State::Evaluating => ("评审中", "Evaluating"),
            State::Evaluated => ("评审完成", "Evaluated"),
            State::AwardProposed => ("拟中标", "Award proposed"),
            State::Publicity => ("结果公示", "Publicity"),
            State::Challenge => ("质疑期", "Challenge window"),
            State::Awarded => ("已中标", "Awarded"),
            State::Contracted => ("已签约", "Contracted"),
            State::Cancelled => ("已取消", "Cancelled"),
            State::Failed => ("流标", "Failed"),
        };
        if zh { z } else { e }
    }
    /// Whether bids may still be read only by their bidders.
    pub fn sealed(self) -> bool {
        self < State::Opened || (self == State::Cancelled)
    }
    /// Whether the public may see the tender at all.
    pub fn public(self) -> bool {
        self != State::Draft
    }
    /// Still open to cancellation (before the award is final).
    pub fn cancellable(self) -> bool {
        self < State::Awarded
    }
    pub fn terminal(self) -> bool {
        matches!(
            self,
            State::Awarded | State::Contracted | State::Cancelled | State::Failed
        )
    }
}

/// Criterion categories; the technical sum breaks ties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Technical,
    Commercial,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Criterion {
    /// Short stable key, e.g. `plan`.
    pub key: String,
    pub name: String,
    pub category: Category,
    /// Maximum points, at most two decimals.
    #[schema(value_type = String, example = "40")]
    pub max_points: Decimal,
}

/// The scoring template: price weight (percent) plus technical and commercial criteria, summing to 100.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Criteria {
    #[schema(value_type = String, example = "30")]
    pub price_weight_pct: Decimal,
    pub items: Vec<Criterion>,
}

fn two_places(d: Decimal) -> bool {
    d.normalize().scale() <= 2
}

/// Check a scoring template: price weight within the configured range for services, criteria with unique
/// keys and positive points, everything summing to exactly 100.
pub fn check_criteria(c: &Criteria, rules: &TenderRules) -> Vec<Broken> {
    let mut out = Vec::new();
    let w = c.price_weight_pct;
    if !two_places(w) || w < rules.price_weight_min || w > rules.price_weight_max {
        out.push(broken(
            "criteria.price_weight_pct",
            "range",
            format!(
                "服务类项目价格分权重须在 {}%–{}% 之间。",
                rules.price_weight_min, rules.price_weight_max
            ),
            format!(
                "For services the price weight must be between {}% and {}%.",
                rules.price_weight_min, rules.price_weight_max
            ),
        ));
    }
    if c.items.is_empty() {
        out.push(broken(
            "criteria.items",
            "required",
            "至少需要一项技术或商务评分项。",
            "At least one technical or commercial criterion is needed.",
        ));
    }
    let mut keys = std::collections::HashSet::new();
    for (i, it) in c.items.iter().enumerate() {
        let f = format!("criteria.items[{i}]");
        let key = it.key.trim();
        if key.is_empty()
            || key.len() > 32
            || key == "price"
            || !key
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            out.push(broken(
                format!("{f}.key"),
                "format",
                "评分项代码须为 1–32 位字母、数字或下划线，且不能是 price。",
                "A criterion key is 1–32 letters, digits or underscores, and not `price`.",
            ));
        } else if !keys.insert(key.to_string()) {
            out.push(broken(
                format!("{f}.key"),
                "unique",
                "评分项代码重复。",
                "Criterion keys must be unique.",
            ));
        }
        if it.name.trim().is_empty() || it.name.chars().count() > 100 {
            out.push(broken(
                format!("{f}.name"),
                "required",
                "请填写评分项名称（最多 100 字）。",
                "Name the criterion (at most 100 characters).",
            ));
        }
        if it.max_points <= Decimal::ZERO || !two_places(it.max_points) {
            out.push(broken(
                format!("{f}.max_points"),
                "positive",
                "满分须为正数，最多两位小数。",
                "Maximum points must be positive, with at most two decimals.",
            ));
        }
    }
    let sum: Decimal = w + c.items.iter().map(|i| i.max_points).sum::<Decimal>();
    if sum != Decimal::from(100) {
        out.push(broken(
            "criteria",
            "sum_100",
            format!("价格分权重与各评分项满分之和须为 100（现为 {sum}）。"),
            format!(
                "The price weight and the criteria's maximum points must sum to 100 (now {sum})."
            ),
        ));
    }
    out
}

/// Price score = lowest valid price ÷ this price × 100 × weight, with the weight in percent. Exact.
pub fn price_score(lowest: Fen, price: Fen, weight_pct: Decimal) -> Decimal {
    if price <= Fen::ZERO {
        return Decimal::ZERO;
    }
    Decimal::from(lowest.get()) * weight_pct / Decimal::from(price.get())
}

/// One valid bid going into the ranking: its price, when it arrived, and its averaged criterion scores.
/// (Fields stay as stored, `i64`; [`RankInput::bid`] and [`RankInput::price`] give them typed.)
#[derive(Clone, Debug)]
pub struct RankInput {
    pub bid_id: i64,
    pub price_fen: i64,
    /// Receipt sequence: lower arrived earlier.
    pub seq: i64,
    pub technical: Decimal,
    pub commercial: Decimal,
}

impl RankInput {
    pub fn bid(&self) -> BidId {
        BidId::new(self.bid_id)
    }
    pub fn price(&self) -> Fen {
        Fen::new(self.price_fen)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ranked {
    pub bid_id: i64,
    pub rank: u32,
    pub price_fen: i64,
    #[schema(value_type = String)]
    pub price_score: Decimal,
    #[schema(value_type = String)]
    pub technical: Decimal,
    #[schema(value_type = String)]
    pub commercial: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// Rank valid bids by total (price score + technical + commercial); ties go to the higher technical
/// score, then the lower price, then the earlier submission. Ranks are 1, 2, 3 … with no shared places.
pub fn rank(bids: &[RankInput], weight_pct: Decimal) -> Vec<Ranked> {
    let Some(lowest) = bids
        .iter()
        .map(RankInput::price)
        .filter(|p| *p > Fen::ZERO)
        .min()
    else {
        return Vec::new();
    };
    let mut out: Vec<(Ranked, i64)> = bids
        .iter()
        .map(|b| {
            let ps = price_score(lowest, b.price(), weight_pct);
            (
                Ranked {
                    bid_id: b.bid_id,
                    rank: 0,
                    price_fen: b.price_fen,
                    price_score: ps,
                    technical: b.technical,
                    commercial: b.commercial,
                    total: ps + b.technical + b.commercial,
                },
                b.seq,
            )
        })
        .collect();
    out.sort_by(|(a, sa), (b, sb)| {
        b.total
            .cmp(&a.total)
            .then(b.technical.cmp(&a.technical))
            .then(a.price_fen.cmp(&b.price_fen))
            .then(sa.cmp(sb))
    });
    out.into_iter()
        .enumerate()
        .map(|(i, (mut r, _))| {
            r.rank = i as u32 + 1;
            r
        })
        .collect()
}

/// Round for display: two decimals, half away from zero.
pub fn show(d: Decimal) -> String {
    format!(
        "{:.2}",
        d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    )
}

/// One instalment of the schedule template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Instalment {
    /// Milestone, e.g. 合同签订 / 中期评估 / 末期验收.
    pub milestone: String,
    #[schema(value_type = String, example = "30")]
    pub pct: Decimal,
}

pub fn check_instalments(items: &[Instalment]) -> Vec<Broken> {
    let mut out = Vec::new();
    if items.is_empty() {
        out.push(broken(
            "instalments",
            "required",
            "请填写付款计划。",
            "Give the instalment schedule.",
        ));
        return out;
    }
    for (i, it) in items.iter().enumerate() {
        if it.milestone.trim().is_empty() || it.milestone.chars().count() > 60 {
            out.push(broken(
                format!("instalments[{i}].milestone"),
                "required",
                "请填写付款节点（最多 60 字）。",
                "Name the milestone (at most 60 characters).",
            ));
        }
        if it.pct <= Decimal::ZERO || it.pct > Decimal::from(100) || !two_places(it.pct) {
            out.push(broken(
                format!("instalments[{i}].pct"),
                "range",
                "比例须大于 0、不超过 100，最多两位小数。",
                "A share is above 0 and at most 100, with at most two decimals.",
            ));
        }
    }
    let sum: Decimal = items.iter().map(|i| i.pct).sum();
    if sum != Decimal::from(100) {
        out.push(broken(
            "instalments",
            "sum_100",
            format!("各期比例之和须为 100%（现为 {sum}%）。"),
            format!("The instalments must sum to 100% (now {sum}%)."),
        ));
    }
    out
}

/// The amount of each instalment in fen, in schedule order: each its share rounded toward zero, the last
/// taking the remainder, so they sum to exactly `amount`. Refused unless the shares sum to exactly 100 %.
pub fn instalment_amounts(amount: Fen, items: &[Instalment]) -> Result<Vec<Fen>, MoneyError> {
    let shares: Vec<Decimal> = items.iter().map(|i| i.pct).collect();
    amount.split_by_percent(&shares)
}

/// Performance targets (绩效目标), set by the tender and offered by each bid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Targets {
    /// 服务人次: every participation counts.
    pub visits: i64,
    /// 服务人数: each person once.
    pub people: i64,
    /// 活动/小组节数
    pub sessions: i64,
    /// Satisfaction, percent.
    #[schema(value_type = String, example = "90")]
    pub satisfaction_pct: Decimal,
}

pub fn check_targets(prefix: &str, t: &Targets) -> Vec<Broken> {
    let mut out = Vec::new();
    for (name, v) in [
        ("visits", t.visits),
        ("people", t.people),
        ("sessions", t.sessions),
    ] {
        if !(0..=100_000_000).contains(&v) {
            out.push(broken(
                format!("{prefix}.{name}"),
                "range",
                "须为 0 至 1 亿之间的整数。",
                "Must be a whole number from 0 to 100 million.",
            ));
        }
    }
    if t.people > t.visits {
        out.push(broken(
            format!("{prefix}.people"),
            "not_above_visits",
            "服务人数不能多于服务人次。",
            "People served cannot exceed visits.",
        ));
    }
    if t.satisfaction_pct < Decimal::ZERO
        || t.satisfaction_pct > Decimal::from(100)
        || !two_places(t.satisfaction_pct)
    {
        out.push(broken(
            format!("{prefix}.satisfaction_pct"),
            "range",
            "满意度须在 0–100% 之间，最多两位小数。",
            "Satisfaction is 0–100%, with at most two decimals.",
        ));
    }
    out
}

/// Offered targets must reach the tender's on every measure.
pub fn check_offer(required: &Targets, offered: &Targets) -> Vec<Broken> {
    let mut out = Vec::new();
    for (name, zh, r, o) in [
        ("visits", "服务人次", required.visits, offered.visits),
        ("people", "服务人数", required.people, offered.people),
        ("sessions", "活动节数", required.sessions, offered.sessions),
    ] {
        if o < r {
            out.push(broken(
                format!("targets.{name}"),
                "min_target",
                format!("{zh}不得低于招标要求的 {r}。"),
                format!("Must be at least the tender's {r}."),
            ));
        }
    }
    if offered.satisfaction_pct < required.satisfaction_pct {
        out.push(broken(
            "targets.satisfaction_pct",
            "min_target",
            format!("满意度不得低于招标要求的 {}%。", required.satisfaction_pct),
            format!(
                "Must be at least the tender's {}%.",
                required.satisfaction_pct
            ),
        ));
    }
    out
}

/// Budget lines (预算科目).
pub const BUDGET_LINES: &[(&str, &str, &str)] = &[
    ("staff", "人员经费", "Staff"),
    ("activities", "活动经费", "Activities"),
    ("supervision", "督导培训", "Supervision and training"),
    ("publicity", "宣传", "Publicity"),
    ("office", "办公", "Office"),
    ("management", "管理费", "Management fee"),
    ("taxes", "税费", "Taxes"),
    ("other", "其他", "Other"),
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BudgetLine {
    /// One of `staff`, `activities`, `supervision`, `publicity`, `office`, `management`, `taxes`, `other`.
    pub line: String,
    /// Fen as stored in the bid's canonical content; [`BudgetLine::amount`] gives it typed.
    pub amount_fen: i64,
}

impl BudgetLine {
    pub fn new(line: impl Into<String>, amount: Fen) -> BudgetLine {
        BudgetLine {
            line: line.into(),
            amount_fen: amount.get(),
        }
    }
    pub fn amount(&self) -> Fen {
        Fen::new(self.amount_fen)
    }
}

/// Lines known and not repeated, amounts positive, summing to the price; management fee and staff costs
/// within the programme caps.
pub fn check_budget(
    lines: &[BudgetLine],
    price: impl Into<Fen>,
    rules: &TenderRules,
) -> Vec<Broken> {
    let price: Fen = price.into();
    let mut out = Vec::new();
    if lines.is_empty() {
        out.push(broken(
            "budget",
            "required",
            "请按科目填写预算。",
            "Give the budget by line.",
        ));
        return out;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        if !BUDGET_LINES.iter().any(|(k, _, _)| *k == l.line) {
            out.push(broken(
                format!("budget[{i}].line"),
                "one_of",
                "预算科目须为人员经费、活动经费、督导培训、宣传、办公、管理费、税费或其他。",
                "A budget line is one of staff, activities, supervision, publicity, office, management, taxes, other.",
            ));
        } else if !seen.insert(l.line.as_str()) {
            out.push(broken(
                format!("budget[{i}].line"),
                "unique",
                "同一科目只能填一次。",
                "Each line appears once.",
            ));
        }
        if l.amount() <= Fen::ZERO {
            out.push(broken(
                format!("budget[{i}].amount"),
                "positive",
                "金额须大于 0。",
                "The amount must be above 0.",
            ));
        }
    }
    // A sum beyond i64 cannot equal the price; it is shown as the largest amount.
    let sum = Fen::sum(lines.iter().map(BudgetLine::amount)).unwrap_or(Fen::new(i64::MAX));
    if sum != price {
        out.push(broken(
            "budget",
            "sum_price",
            format!(
                "各科目合计 {} 元，须等于报价 {} 元。",
                sum.yuan(),
                price.yuan()
            ),
            format!(
                "The lines sum to ¥{}; they must equal the price ¥{}.",
                sum.yuan(),
                price.yuan()
            ),
        ));
    }
    let cap = |key: &str, pct: Decimal, zh: &str, en: &str, out: &mut Vec<Broken>| {
        // Exact in Decimal: no i64 sum to overflow.
        let amount: Decimal = lines
            .iter()
            .filter(|l| l.line == key)
            .map(|l| Decimal::from(l.amount_fen))
            .sum();
        if amount * Decimal::from(100) > Decimal::from(price.get()) * pct {
            out.push(broken(
                "budget",
                if key == "management" {
                    "management_cap"
                } else {
                    "staff_cap"
                },
                format!("{zh}不得超过报价的 {pct}%。"),
                format!("{en} may be at most {pct}% of the price."),
            ));
        }
    };
    cap(
        "management",
        rules.management_fee_cap_pct,
        "管理费",
        "The management fee",
        &mut out,
    );
    cap(
        "staff",
        rules.staff_cost_cap_pct,
        "人员经费",
        "Staff costs",
        &mut out,
    );
    out
}

/// Eligibility conditions a tender sets on top of standing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Eligibility {
    /// Minimum current rating, 1–5 (A).
    pub min_rating: Option<i32>,
    /// Minimum staff count on the organisation's record.
    pub min_staff: Option<i32>,
    /// Minimum number of certified social workers (any level above none), current employees.
    pub min_certified: Option<i32>,
    /// Or a minimum share of the staff who are certified, percent.
    #[schema(value_type = Option<String>)]
    pub min_certified_share_pct: Option<Decimal>,
    /// A supervisor (督导): a current worker at 社会工作师 level or above.
    #[serde(default)]
    pub supervisor_required: bool,
    /// At least one current worker at or above this level: `assistant`, `social_worker`, `senior`.
    pub min_certificate_level: Option<String>,
}

/// Certificate levels from lowest; the index orders them.
pub const LEVEL_ORDER: [&str; 4] = ["none", "assistant", "social_worker", "senior"];

pub fn level_rank(level: &str) -> usize {
    LEVEL_ORDER.iter().position(|l| *l == level).unwrap_or(0)
}

pub fn check_eligibility_template(e: &Eligibility) -> Vec<Broken> {
    let mut out = Vec::new();
    if let Some(r) = e.min_rating
        && !(1..=5).contains(&r)
    {
        out.push(broken(
            "eligibility.min_rating",
            "range",
            "最低等级须为 1A–5A。",
            "The minimum rating is 1 to 5 (A).",
        ));
    }
    for (f, v) in [
        ("eligibility.min_staff", e.min_staff),
        ("eligibility.min_certified", e.min_certified),
    ] {
        if let Some(v) = v
            && !(0..=10_000).contains(&v)
        {
            out.push(broken(
                f,
                "range",
                "须为 0–10000 的整数。",
                "Must be 0 to 10000.",
            ));
        }
    }
    if let Some(s) = e.min_certified_share_pct
        && (s < Decimal::ZERO || s > Decimal::from(100) || !two_places(s))
    {
        out.push(broken(
            "eligibility.min_certified_share_pct",
            "range",
            "比例须在 0–100% 之间。",
            "The share is 0–100%.",
        ));
    }
    if e.min_certified.is_some() && e.min_certified_share_pct.is_some() {
        out.push(broken(
            "eligibility.min_certified_share_pct",
            "exclusive",
            "持证社工要求请填人数或比例之一。",
            "Give the certified social workers as a count or a share, not both.",
        ));
    }
    if let Some(l) = &e.min_certificate_level
        && !LEVEL_ORDER[1..].contains(&l.as_str())
    {
        out.push(broken(
            "eligibility.min_certificate_level",
            "one_of",
            "证书等级须为 assistant、social_worker 或 senior。",
            "The level is assistant, social_worker or senior.",
        ));
    }
    out
}

/// What the registry knows about a bidder, for eligibility.
#[derive(Clone, Debug, Default)]
pub struct OrgFacts {
    pub rating: Option<i32>,
    pub staff: i32,
    /// Certificate levels of the organisation's current (not departed) social workers.
    pub worker_levels: Vec<String>,
}

/// Every eligibility rule the organisation does not meet (empty when eligible).
pub fn unmet(e: &Eligibility, f: &OrgFacts) -> Vec<Broken> {
    let mut out = Vec::new();
    if let Some(min) = e.min_rating
        && f.rating.unwrap_or(0) < min
    {
        out.push(broken(
            "eligibility.min_rating",
            "min_rating",
            format!(
                "要求社会组织评估等级 {min}A 及以上（现为{}）。",
                f.rating.map(|r| format!("{r}A")).unwrap_or("无等级".into())
            ),
            format!(
                "A rating of {min}A or better is required (now {}).",
                f.rating.map(|r| format!("{r}A")).unwrap_or("none".into())
            ),
        ));
    }
    if let Some(min) = e.min_staff
        && f.staff < min
    {
        out.push(broken(
            "eligibility.min_staff",
            "min_staff",
            format!("要求工作人员不少于 {min} 人（现为 {}）。", f.staff),
            format!("At least {min} staff are required (now {}).", f.staff),
        ));
    }
    let certified = f
        .worker_levels
        .iter()
        .filter(|l| level_rank(l) >= 1)
        .count() as i32;
    if let Some(min) = e.min_certified
        && certified < min
    {
        out.push(broken(
            "eligibility.min_certified",
            "min_certified",
            format!("要求持证社工不少于 {min} 人（现为 {certified}）。"),
            format!("At least {min} certified social workers are required (now {certified})."),
        ));
    }
    if let Some(share) = e.min_certified_share_pct {
        let ok = f.staff > 0
            && Decimal::from(certified) * Decimal::from(100) >= Decimal::from(f.staff) * share;
        if !ok {
            out.push(broken(
                "eligibility.min_certified_share_pct",
                "min_certified_share",
                format!(
                    "要求持证社工占工作人员 {share}% 以上（现为 {certified}/{} 人）。",
                    f.staff
                ),
                format!(
                    "Certified social workers must be at least {share}% of staff (now {certified} of {}).",
                    f.staff
                ),
            ));
        }
    }
    if e.supervisor_required
        && !f
            .worker_levels
            .iter()
            .any(|l| level_rank(l) >= level_rank("social_worker"))
    {
        out.push(broken(
            "eligibility.supervisor_required",
            "supervisor",
            "要求配备督导（社会工作师及以上）。",
            "A supervisor (social worker level or above) is required.",
        ));
    }
    if let Some(level) = &e.min_certificate_level
        && !f
            .worker_levels
            .iter()
            .any(|l| level_rank(l) >= level_rank(level))
    {
        out.push(broken(
            "eligibility.min_certificate_level",
            "min_level",
            format!(
                "要求至少一名{}及以上的社工。",
                super::vocab::label(super::vocab::CERTIFICATE_LEVELS, level, true)
            ),
            format!(
                "At least one social worker at level {} or above is required.",
                super::vocab::label(super::vocab::CERTIFICATE_LEVELS, level, false)
            ),
        ));
    }
    out
}

/// A clarification published less than five days before the deadline moves the deadline to five days
/// after the clarification. Returns the new deadline when it moves.
pub fn moved_deadline(
    answered_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let min = answered_at + Duration::days(5);
    (deadline < min).then_some(min)
}

/// Contract term: up to 12 months, up to 36 with a recorded reason.
pub fn check_term(months: i32, reason: Option<&str>) -> Vec<Broken> {
    let mut out = Vec::new();
    if !(1..=36).contains(&months) {
        out.push(broken(
            "term_months",
            "range",
            "服务期限须为 1–36 个月。",
            "The contract term is 1 to 36 months.",
        ));
    } else if months > 12 && reason.map(str::trim).unwrap_or("").is_empty() {
        out.push(broken(
            "term_reason",
            "required_over_12",
            "服务期限超过 1 年时须说明理由（预算有保障、服务稳定）。",
            "A term over one year needs a reason (secured budget, stable service).",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::*;

    mod rust_decimal_macros_free {
        pub fn d(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
    }

    fn crit(w: &str, items: &[(&str, Category, &str)]) -> Criteria {
        Criteria {
            price_weight_pct: d(w),
            items: items
                .iter()
                .map(|(k, c, p)| Criterion {
                    key: k.to_string(),
                    name: k.to_string(),
                    category: *c,
                    max_points: d(p),
                })
                .collect(),
        }
    }

    #[test]
    fn price_weight_range_and_sum() {
        let r = TenderRules::default();
        let ok = crit(
            "30",
            &[
                ("plan", Category::Technical, "50"),
                ("exp", Category::Commercial, "20"),
            ],
        );
        assert!(check_criteria(&ok, &r).is_empty());
        let heavy = crit(
            "35",
            &[
                ("plan", Category::Technical, "45"),
                ("exp", Category::Commercial, "20"),
            ],
        );
        let e = check_criteria(&heavy, &r);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].field.as_str(), e[0].rule),
            ("criteria.price_weight_pct", "range")
        );
        let light = crit("5", &[("plan", Category::Technical, "95")]);
        assert_eq!(check_criteria(&light, &r)[0].rule, "range");
        let short = crit("10", &[("plan", Category::Technical, "80")]);
        assert_eq!(check_criteria(&short, &r)[0].rule, "sum_100");
        let dup = crit(
            "20",
            &[
                ("a", Category::Technical, "40"),
                ("a", Category::Commercial, "40"),
            ],
        );
        assert_eq!(check_criteria(&dup, &r)[0].rule, "unique");
    }

    #[test]
    fn price_score_by_hand() {
        // Lowest ¥90,000; this bid ¥100,000; weight 30 % → 90000/100000 × 100 × 0.30 = 27.
        let f = Fen::new;
        assert_eq!(price_score(f(9_000_000), f(10_000_000), d("30")), d("27"));
        // ¥120,000 against ¥90,000 at 10 % → 7.5 exactly.
        assert_eq!(price_score(f(9_000_000), f(12_000_000), d("10")), d("7.5"));
        // A third: 100/300 × 30 = 10 exactly; 100/301 × 30 = 9.966777… (kept exact, shown 9.97).
        assert_eq!(price_score(f(100), f(300), d("30")), d("10"));
        assert_eq!(price_score(f(100), Fen::ZERO, d("30")), Decimal::ZERO);
        let odd = price_score(f(100), f(301), d("30"));
        assert_eq!(show(odd), "9.97");
        assert!(odd > d("9.9667") && odd < d("9.9668"));
    }

    fn input(id: i64, price: i64, seq: i64, t: &str, c: &str) -> RankInput {
        RankInput {
            bid_id: id,
            price_fen: price,
            seq,
            technical: d(t),
            commercial: d(c),
        }
    }

    #[test]
    fn ranking_and_tie_breaks() {
        // Weight 30. A: ¥100k, tech 50, comm 10 → 30 + 60 = 90.
        // B: ¥120k, tech 60, comm 10 → 25 + 70 = 95.  C: ¥150k, tech 62, comm 13 → 20 + 75 = 95.
        // B and C tie on 95: C has the higher technical score and ranks first.
        let r = rank(
            &[
                input(1, 10_000_000, 1, "50", "10"),
                input(2, 12_000_000, 2, "60", "10"),
                input(3, 15_000_000, 3, "62", "13"),
            ],
            d("30"),
        );
        let order: Vec<_> = r.iter().map(|x| (x.bid_id, x.rank, x.total)).collect();
        assert_eq!(
            order,
            vec![(3, 1, d("95")), (2, 2, d("95")), (1, 3, d("90"))]
        );
        // Same total and technical score: the lower price wins.
        // D: ¥100k, tech 40, comm 20 → 30+60 = 90; E: ¥100k·(30/27)… use equal prices instead:
        let r = rank(
            &[
                input(10, 10_000_000, 5, "40", "20"),
                input(11, 10_000_000, 4, "40", "20"),
                input(12, 11_000_000, 1, "40", "20"),
            ],
            d("10"),
        );
        // 10 and 11: same price, total and technical → the earlier submission (seq 4) first.
        assert_eq!(
            r.iter().map(|x| x.bid_id).collect::<Vec<_>>(),
            vec![11, 10, 12]
        );
        // Equal total and technical, different prices: lower price first.
        // F ¥100k tech 40 comm 20 w10 → 10 + 60 = 70; G ¥200k tech 40 comm 25 → 5 + 65 = 70.
        let r = rank(
            &[
                input(21, 20_000_000, 1, "40", "25"),
                input(20, 10_000_000, 2, "40", "20"),
            ],
            d("10"),
        );
        assert_eq!(r[0].total, r[1].total);
        assert_eq!(r.iter().map(|x| x.bid_id).collect::<Vec<_>>(), vec![20, 21]);
        assert!(rank(&[], d("10")).is_empty());
    }

    #[test]
    fn instalments_sum_to_100() {
        let ok = [("签约", "30"), ("中期", "40"), ("末期", "30")].map(|(m, p)| Instalment {
            milestone: m.into(),
            pct: d(p),
        });
        assert!(check_instalments(&ok).is_empty());
        let bad = [("签约", "30"), ("末期", "60")].map(|(m, p)| Instalment {
            milestone: m.into(),
            pct: d(p),
        });
        assert_eq!(check_instalments(&bad)[0].rule, "sum_100");
    }

    #[test]
    fn instalments_in_fen_sum_exactly() {
        let plan = [("签约", "30"), ("中期", "40"), ("末期", "30")].map(|(m, p)| Instalment {
            milestone: m.into(),
            pct: d(p),
        });
        let parts = instalment_amounts(Fen::new(10_000_001), &plan).unwrap();
        assert_eq!(
            parts,
            vec![
                Fen::new(3_000_000),
                Fen::new(4_000_000),
                Fen::new(3_000_001)
            ]
        );
        assert_eq!(Fen::sum(parts), Ok(Fen::new(10_000_001)));
        let short = [Instalment {
            milestone: "x".into(),
            pct: d("60"),
        }];
        assert_eq!(
            instalment_amounts(Fen::new(100), &short),
            Err(MoneyError::BadShares)
        );
    }

    #[test]
    fn budget_over_i64_is_refused_not_wrapped() {
        let r = TenderRules::default();
        let lines = [
            BudgetLine::new("staff", Fen::new(i64::MAX)),
            BudgetLine::new("activities", Fen::new(i64::MAX)),
        ];
        let rules: Vec<_> = check_budget(&lines, Fen::new(100), &r)
            .iter()
            .map(|b| b.rule)
            .collect();
        assert!(rules.contains(&"sum_price"), "{rules:?}");
        assert_eq!(BudgetLine::new("staff", Fen::new(5)).amount(), Fen::new(5));
    }

    #[test]
    fn budget_lines_and_caps() {
        let r = TenderRules::default();
        let l = |k: &str, a: i64| BudgetLine {
            line: k.into(),
            amount_fen: a,
        };
        assert!(
            check_budget(
                &[l("staff", 50), l("activities", 40), l("management", 10)],
                100,
                &r
            )
            .is_empty()
        );
        let e = check_budget(
            &[l("staff", 51), l("activities", 38), l("management", 11)],
            100,
            &r,
        );
        let rules: Vec<_> = e.iter().map(|b| b.rule).collect();
        assert_eq!(rules, vec!["management_cap", "staff_cap"]);
        let e = check_budget(&[l("staff", 40), l("cash_gifts", 60)], 101, &r);
        let rules: Vec<_> = e.iter().map(|b| b.rule).collect();
        assert_eq!(rules, vec!["one_of", "sum_price"]);
    }

    #[test]
    fn eligibility_lists_every_unmet_rule() {
        let e = Eligibility {
            min_rating: Some(3),
            min_staff: Some(10),
            min_certified: Some(3),
            min_certified_share_pct: None,
            supervisor_required: true,
            min_certificate_level: Some("senior".into()),
        };
        let weak = OrgFacts {
            rating: Some(2),
            staff: 5,
            worker_levels: vec!["assistant".into(), "none".into()],
        };
        let rules: Vec<_> = unmet(&e, &weak).iter().map(|b| b.rule).collect();
        assert_eq!(
            rules,
            vec![
                "min_rating",
                "min_staff",
                "min_certified",
                "supervisor",
                "min_level"
            ]
        );
        let strong = OrgFacts {
            rating: Some(4),
            staff: 12,
            worker_levels: vec!["assistant".into(), "social_worker".into(), "senior".into()],
        };
        assert!(unmet(&e, &strong).is_empty());
        let share = Eligibility {
            min_certified_share_pct: Some(d("50")),
            ..Default::default()
        };
        assert_eq!(unmet(&share, &strong).len(), 1, "3 of 12 is 25 %");
        let mut half = strong.clone();
        half.staff = 6;
        assert!(unmet(&share, &half).is_empty(), "3 of 6 is 50 %");
    }

    #[test]
    fn panels_and_min_bids() {
        assert!(!panel_ok(Method::Open, 15_000_000, 3));
        assert!(!panel_ok(Method::Open, 15_000_000, 6));
        assert!(panel_ok(Method::Open, 15_000_000, 5));
        assert!(panel_ok(Method::Open, Fen::new(15_000_000), 5));
        assert_eq!(min_panel(Method::Open, LARGE_PANEL_ABOVE), 5);
        assert_eq!(min_panel(Method::Open, Fen::new(1_000_000_001)), 7);
        assert!(!panel_ok(Method::Open, 2_000_000_000, 5));
        assert!(panel_ok(Method::Consultation, 15_000_000, 3));
        assert!(!panel_ok(Method::Consultation, 15_000_000, 4));
        let r = TenderRules::default();
        assert_eq!(r.min_bids(Method::Open), 3);
        assert_eq!(r.min_bids(Method::Consultation), 2);
    }

    #[test]
    fn late_clarification_moves_the_deadline() {
        let deadline = "2026-03-20T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let early = "2026-03-10T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(moved_deadline(early, deadline), None);
        let late = "2026-03-17T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            moved_deadline(late, deadline),
            Some("2026-03-22T02:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn term_over_a_year_needs_a_reason() {
        assert!(check_term(12, None).is_empty());
        assert_eq!(check_term(24, None)[0].rule, "required_over_12");
        assert!(check_term(24, Some("预算已落实")).is_empty());
        assert_eq!(check_term(37, Some("x"))[0].rule, "range");
    }
}
