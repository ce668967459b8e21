//! 单一来源 as the law writes it: a lawful ground (政府采购法 Art 31); at or above the open-tender threshold a
//! public notice (公示) of at least 5 working days naming the supplier and the reason, every objection
//! answered, none upheld, before the procurement goes on (实施条例 Art 38; 财政部令第74号 Art 38–41); then a
//! negotiation record (协商情况记录, 74号令 Art 42) instead of a panel: the staff present, the supplier's cost
//! explanation, the terms and the agreed price. No scoring, no price weight.

use chrono::NaiveDate;

use super::*;

/// The fewest working days a single-source 公示 runs (实施条例 Art 38).
pub const NOTICE_WORKING_DAYS: u32 = 5;
/// The fewest procurement staff present at the negotiation (74号令 Art 42).
pub const MIN_STAFF: usize = 2;
/// Longest explanation of the ground, objection reason or answer, place, cost explanation and terms.
pub const MAX_EXPLANATION: usize = 2000;
pub const MAX_OBJECTION: usize = 1000;
pub const MAX_ANSWER: usize = 2000;
pub const MAX_PLACE: usize = 200;
pub const MAX_STAFF_NAME: usize = 50;
pub const MAX_RECORD_TEXT: usize = 5000;

/// The lawful grounds for single source (政府采购法 Art 31).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// Only one supplier can provide it (Art 31(1)).
    OnlySupplier,
    /// An unforeseeable emergency, no other supplier can be bought from (Art 31(2)).
    Emergency,
    /// Must stay consistent with an earlier purchase; additions within 10 % of the original contract
    /// (Art 31(3)).
    Consistency,
}

impl Ground {
    pub const ALL: [Ground; 3] = [Ground::OnlySupplier, Ground::Emergency, Ground::Consistency];
    pub fn as_str(self) -> &'static str {
        match self {
            Ground::OnlySupplier => "only_supplier",
            Ground::Emergency => "emergency",
            Ground::Consistency => "consistency",
        }
    }
    pub fn parse(s: &str) -> Option<Ground> {
        Ground::ALL.into_iter().find(|g| g.as_str() == s)
    }
    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Ground::OnlySupplier, true) => "只能从唯一供应商处采购（政府采购法第三十一条第一项）",
            (Ground::OnlySupplier, false) => {
                "Only one supplier can provide it (Procurement Law Art 31(1))"
            }
            (Ground::Emergency, true) => {
                "发生了不可预见的紧急情况不能从其他供应商处采购（政府采购法第三十一条第二项）"
            }
            (Ground::Emergency, false) => {
                "An unforeseeable emergency: no other supplier can be bought from (Procurement Law Art 31(2))"
            }
            (Ground::Consistency, true) => {
                "必须保证原有采购项目一致性或者服务配套的要求，需要继续从原供应商处添购，且添购资金总额不超过原合同采购金额百分之十（政府采购法第三十一条第三项）"
            }
            (Ground::Consistency, false) => {
                "Must stay consistent with an earlier purchase; additions within 10 % of the original contract (Procurement Law Art 31(3))"
            }
        }
    }
}

/// Whether a single source needs its 公示: a budget at or above the open-tender threshold (实施条例 Art 38).
pub fn needs_notice(budget: Fen, rules: &TenderRules) -> bool {
    budget.get() >= rules.open_tender_threshold_fen
}

/// The last day of a 公示 that starts on `start` (Beijing): the 5th working day after it, so at least 5 full
/// working days run (实施条例 Art 38). The notice ends at the midnight that follows.
pub fn notice_last_day(cal: &BusinessCalendar, start: NaiveDate) -> NaiveDate {
    cal.add_working_days(start, NOTICE_WORKING_DAYS).0
}

/// The ground and the explanation a single source is drafted with (政府采购法 Art 31; 实施条例 Art 38).
pub fn check_ground(ground: Option<&str>, explanation: Option<&str>) -> Vec<Broken> {
    let mut out = Vec::new();
    match ground.map(str::trim).filter(|g| !g.is_empty()) {
        None => out.push(broken(
            "single_source_ground",
            "required",
            "单一来源须选择法定情形（政府采购法第三十一条）。",
            "Single source needs one of the lawful grounds (Procurement Law Art 31).",
        )),
        Some(g) if Ground::parse(g).is_none() => out.push(broken(
            "single_source_ground",
            "one_of",
            "请选择政府采购法第三十一条规定的情形之一。",
            "Choose one of the grounds of Procurement Law Art 31.",
        )),
        Some(_) => {}
    }
    match explanation.map(str::trim).filter(|e| !e.is_empty()) {
        None => out.push(broken(
            "single_source_explanation",
            "required",
            "请说明采用单一来源的理由（实施条例第三十八条）。",
            "Explain why single source is used (Implementing Regulations Art 38).",
        )),
        Some(e) if e.chars().count() > MAX_EXPLANATION => out.push(broken(
            "single_source_explanation",
            "max_length",
            format!("最多 {MAX_EXPLANATION} 个字。"),
            format!("At most {MAX_EXPLANATION} characters."),
        )),
        Some(_) => {}
    }
    out
}

/// A single source's criteria: nothing is scored, no price weight, no fixed price; the negotiation record
/// replaces the evaluation (74号令 Art 42).
pub fn check_single_source_criteria(c: &Criteria) -> Vec<Broken> {
    let mut out = Vec::new();
    if !c.price_weight_pct.is_zero() {
        out.push(broken(
            "criteria.price_weight_pct",
            "single_source_unscored",
            "单一来源不评分，价格分权重须为 0：与供应商协商确定成交价格（财政部令第74号第四十二条）。",
            "Single source is not scored: the price weight must be 0, the price is agreed with the supplier (MOF Order 74 Art 42).",
        ));
    }
    if !c.items.is_empty() {
        out.push(broken(
            "criteria.items",
            "single_source_unscored",
            "单一来源不设评分项：采购人员与供应商协商并记录（财政部令第74号第四十二条）。",
            "Single source has no scored criteria: the staff negotiate with the supplier and record it (MOF Order 74 Art 42).",
        ));
    }
    if c.fixed_price_fen.is_some() {
        out.push(broken(
            "criteria.fixed_price_fen",
            "fixed_price_tenders_only",
            "单一来源以协商确定价格，不能采用固定价格。",
            "Single source agrees its price by negotiation: no fixed price.",
        ));
    }
    out
}

/// Where a single source with its 公示 stands, for the supplier's response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proceed {
    Yes,
    /// The 公示 has not ended.
    NoticeRunning,
    /// An objection waits for its answer.
    Unanswered,
    /// An objection was upheld: the single source may not go on.
    Upheld,
}

/// Whether the procurement may go ahead: the 公示 is over, every objection answered, none upheld
/// (实施条例 Art 38; 74号令 Art 41). `objections` are the answers: `None` unanswered, `Some(upheld)`.
pub fn may_proceed(notice_over: bool, objections: &[Option<bool>]) -> Proceed {
    if objections.contains(&Some(true)) {
        Proceed::Upheld
    } else if !notice_over {
        Proceed::NoticeRunning
    } else if objections.contains(&None) {
        Proceed::Unanswered
    } else {
        Proceed::Yes
    }
}

impl Proceed {
    /// The refusal of a response while the procurement may not go ahead: field `single_source`, the rule.
    pub fn refusal(self, notice_ends: &str) -> Option<Broken> {
        let f = "single_source";
        match self {
            Proceed::Yes => None,
            Proceed::NoticeRunning => Some(broken(
                f,
                "notice_running",
                format!(
                    "单一来源公示期至 {notice_ends} 结束，公示期满且异议均已答复后才能提交响应文件（政府采购法实施条例第三十八条）。"
                ),
                format!(
                    "The single-source notice runs until {notice_ends}: the response is taken once it is over and every objection answered (Implementing Regulations Art 38)."
                ),
            )),
            Proceed::Unanswered => Some(broken(
                f,
                "objection_unanswered",
                "公示期内收到的异议尚未答复，答复后才能提交响应文件（财政部令第74号第四十一条）。",
                "An objection to the notice waits for its answer; the response is taken after it (MOF Order 74 Art 41).",
            )),
            Proceed::Upheld => Some(broken(
                f,
                "objection_upheld",
                "异议成立，本项目不能采用单一来源方式（财政部令第74号第四十一条）。",
                "An objection was upheld: this procurement may not use single source (MOF Order 74 Art 41).",
            )),
        }
    }
}

/// The negotiation record (协商情况记录) as typed, checked by [`check_record`].
#[derive(Clone, Debug, Default)]
pub struct RecordFacts<'a> {
    pub place: &'a str,
    pub staff: &'a [String],
    pub cost_explanation: &'a str,
    pub terms: &'a str,
    /// `None` when the price did not parse (its own error already given).
    pub price: Option<Fen>,
    /// The supplier's response price and the budget ceiling.
    pub response_price: Fen,
    pub budget: Fen,
}

fn text_rule(out: &mut Vec<Broken>, field: &str, v: &str, max: usize) {
    let v = v.trim();
    if v.is_empty() {
        out.push(broken(field, "required", "必填。", "Required."));
    } else if v.chars().count() > max {
        out.push(broken(
            field,
            "max_length",
            format!("最多 {max} 个字。"),
            format!("At most {max} characters."),
        ));
    }
}

/// Check a negotiation record (74号令 Art 42): the place, at least two distinct procurement staff by
/// name, the supplier's cost explanation, the main terms, and a price at most the supplier's response
/// price and at most the budget.
pub fn check_record(r: &RecordFacts<'_>) -> Vec<Broken> {
    let mut out = Vec::new();
    text_rule(&mut out, "place", r.place, MAX_PLACE);
    let names: Vec<&str> = r
        .staff
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let mut uniq = names.clone();
    uniq.sort_unstable();
    uniq.dedup();
    if names.iter().any(|n| n.chars().count() > MAX_STAFF_NAME) {
        out.push(broken(
            "staff",
            "max_length",
            format!("每个姓名最多 {MAX_STAFF_NAME} 个字。"),
            format!("Each name is at most {MAX_STAFF_NAME} characters."),
        ));
    } else if uniq.len() < MIN_STAFF {
        out.push(broken(
            "staff",
            "min_staff",
            format!("协商须有 {MIN_STAFF} 名以上采购人员参加，请填写各人姓名且不重复（财政部令第74号第四十二条）。"),
            format!("At least {MIN_STAFF} different procurement staff take part in the negotiation: name each (MOF Order 74 Art 42)."),
        ));
    } else if uniq.len() != names.len() {
        out.push(broken(
            "staff",
            "distinct",
            "同一人员不能重复填写。",
            "Each person is named once.",
        ));
    }
    text_rule(
        &mut out,
        "cost_explanation",
        r.cost_explanation,
        MAX_RECORD_TEXT,
    );
    text_rule(&mut out, "terms", r.terms, MAX_RECORD_TEXT);
    if let Some(p) = r.price {
        if p <= Fen::ZERO {
            out.push(broken(
                "price",
                "positive",
                "成交价格须为正数。",
                "The agreed price must be positive.",
            ));
        } else {
            if p > r.response_price {
                out.push(broken(
                "price",
                "max_response_price",
                format!(
                    "成交价格不得高于供应商响应报价 {} 元（财政部令第74号第四十二条）。",
                    r.response_price.yuan_grouped()
                ),
                format!(
                    "The agreed price may not exceed the supplier's response price of ¥{} (MOF Order 74 Art 42).",
                    r.response_price.yuan_grouped()
                ),
            ));
            }
            // Both limits are named when both are passed (the response is within the budget anyway).
            if p > r.budget {
                out.push(broken(
                    "price",
                    "max_budget",
                    format!("成交价格不得超过预算 {} 元。", r.budget.yuan_grouped()),
                    format!(
                        "The agreed price may not exceed the budget of ¥{}.",
                        r.budget.yuan_grouped()
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(y: i64) -> Fen {
        Fen::new(y * 100)
    }

    /// 实施条例 Art 38: the 公示 is needed from the open-tender threshold on (the amount itself included),
    /// not below it.
    #[test]
    fn art38_notice_needed_at_or_above_the_open_tender_threshold() {
        let r = TenderRules::default();
        assert!(needs_notice(Fen::new(r.open_tender_threshold_fen), &r));
        assert!(needs_notice(f(5_000_000), &r));
        assert!(!needs_notice(Fen::new(r.open_tender_threshold_fen - 1), &r));
    }

    /// 实施条例 Art 38: the 公示 runs at least 5 working days: a notice started on a Friday before a
    /// weekend ends on the next Friday, and the days between hold 5 working days.
    #[test]
    fn art38_notice_runs_five_working_days() {
        let cal = BusinessCalendar::builtin();
        // 2026-03-06 is a Friday with no holiday around it.
        let start = NaiveDate::from_ymd_opt(2026, 3, 6).unwrap();
        let last = notice_last_day(&cal, start);
        assert_eq!(last, NaiveDate::from_ymd_opt(2026, 3, 13).unwrap());
        assert_eq!(cal.working_days_between(start, last), 5);
        // Across the National Day holiday it runs longer in calendar days.
        let oct = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        assert!(notice_last_day(&cal, oct) > oct + chrono::Duration::days(7));
    }

    /// 政府采购法 Art 31 and 实施条例 Art 38: a ground from the list and an explanation are required.
    #[test]
    fn art31_ground_and_explanation_required() {
        assert!(check_ground(Some("only_supplier"), Some("专利服务")).is_empty());
        let rules = |g, e| {
            check_ground(g, e)
                .into_iter()
                .map(|b| (b.field, b.rule))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            rules(None, Some(" ")),
            vec![
                ("single_source_ground".into(), "required"),
                ("single_source_explanation".into(), "required")
            ]
        );
        assert_eq!(
            rules(Some("cheapest"), Some("x")),
            vec![("single_source_ground".into(), "one_of")]
        );
        let long = "字".repeat(MAX_EXPLANATION + 1);
        assert_eq!(
            rules(Some("emergency"), Some(&long)),
            vec![("single_source_explanation".into(), "max_length")]
        );
        for g in Ground::ALL {
            assert_eq!(Ground::parse(g.as_str()), Some(g));
            assert!(g.label(true).contains("第三十一条") && g.label(false).contains("Art 31"));
        }
    }

    /// 74号令 Art 42: single source is not scored: no price weight, no criteria, no fixed price; and
    /// check_criteria applies it for the method.
    #[test]
    fn art42_single_source_has_no_scoring() {
        assert!(check_single_source_criteria(&Criteria::default()).is_empty());
        let scored = Criteria {
            price_weight_pct: Decimal::from(30),
            items: vec![Criterion {
                key: "plan".into(),
                name: "方案".into(),
                category: Category::Technical,
                max_points: Decimal::from(70),
            }],
            tie_break: TieBreak::Draw,
            fixed_price_fen: Some(1),
        };
        let got: Vec<&str> =
            check_criteria(&scored, Some(Method::SingleSource), &TenderRules::default())
                .into_iter()
                .map(|b| b.rule)
                .collect();
        assert_eq!(
            got,
            vec![
                "single_source_unscored",
                "single_source_unscored",
                "fixed_price_tenders_only"
            ]
        );
        assert!(
            check_criteria(
                &Criteria::default(),
                Some(Method::SingleSource),
                &TenderRules::default()
            )
            .is_empty()
        );
    }

    /// 实施条例 Art 38; 74号令 Art 41: the procurement goes on only when the 公示 is over and every objection
    /// is answered with none upheld; an upheld one stops it whatever else holds.
    #[test]
    fn art38_art41_proceed_after_the_notice_with_every_objection_answered() {
        assert_eq!(may_proceed(true, &[]), Proceed::Yes);
        assert_eq!(may_proceed(true, &[Some(false)]), Proceed::Yes);
        assert_eq!(may_proceed(false, &[]), Proceed::NoticeRunning);
        assert_eq!(may_proceed(false, &[Some(false)]), Proceed::NoticeRunning);
        assert_eq!(may_proceed(true, &[Some(false), None]), Proceed::Unanswered);
        assert_eq!(may_proceed(false, &[Some(true)]), Proceed::Upheld);
        assert_eq!(may_proceed(true, &[None, Some(true)]), Proceed::Upheld);
        assert!(Proceed::Yes.refusal("x").is_none());
        for (p, rule) in [
            (Proceed::NoticeRunning, "notice_running"),
            (Proceed::Unanswered, "objection_unanswered"),
            (Proceed::Upheld, "objection_upheld"),
        ] {
            let b = p.refusal("2026-03-14 00:00").unwrap();
            assert_eq!((b.field.as_str(), b.rule), ("single_source", rule));
        }
    }

    /// 74号令 Art 42: the record names at least 2 distinct staff, the place, the cost explanation and the
    /// terms; the agreed price is at most the response price and at most the budget.
    #[test]
    fn art42_record_staff_and_price_limits() {
        let staff = vec!["张三".to_string(), "李四".to_string()];
        let ok = RecordFacts {
            place: "区民政局 3 楼会议室",
            staff: &staff,
            cost_explanation: "人员成本 60%",
            terms: "服务 12 个月",
            price: Some(f(2_400_000)),
            response_price: f(2_500_000),
            budget: f(2_600_000),
        };
        assert!(check_record(&ok).is_empty());
        let rules = |r: &RecordFacts<'_>| {
            check_record(r)
                .into_iter()
                .map(|b| (b.field, b.rule))
                .collect::<Vec<_>>()
        };
        let one = vec!["张三".to_string(), " ".to_string()];
        assert_eq!(
            rules(&RecordFacts {
                staff: &one,
                ..ok.clone()
            }),
            vec![("staff".into(), "min_staff")]
        );
        let same = vec!["张三".to_string(), "张三".to_string()];
        assert_eq!(
            rules(&RecordFacts {
                staff: &same,
                ..ok.clone()
            }),
            vec![("staff".into(), "min_staff")]
        );
        let dup = vec!["张三".to_string(), "李四".to_string(), "张三".to_string()];
        assert_eq!(
            rules(&RecordFacts {
                staff: &dup,
                ..ok.clone()
            }),
            vec![("staff".into(), "distinct")]
        );
        assert_eq!(
            rules(&RecordFacts {
                price: Some(f(2_500_001)),
                ..ok.clone()
            }),
            vec![("price".into(), "max_response_price")]
        );
        assert!(
            rules(&RecordFacts {
                price: Some(f(2_500_000)),
                ..ok.clone()
            })
            .is_empty()
        );
        assert_eq!(
            rules(&RecordFacts {
                price: Some(f(2_600_001)),
                response_price: f(2_700_000),
                ..ok.clone()
            }),
            vec![("price".into(), "max_budget")]
        );
        assert_eq!(
            rules(&RecordFacts {
                price: Some(f(2_600_001)),
                ..ok.clone()
            }),
            vec![
                ("price".into(), "max_response_price"),
                ("price".into(), "max_budget")
            ]
        );
        assert_eq!(
            rules(&RecordFacts {
                place: "",
                terms: " ",
                ..ok.clone()
            }),
            vec![("place".into(), "required"), ("terms".into(), "required")]
        );
    }
}
