//! Instalment schedules and their amounts in fen; budget lines, their sum and the programme caps.

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::*;

    mod rust_decimal_macros_free {
        pub fn d(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
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
}
