//! Instalment schedules and their amounts in fen; budget lines, their sum and the programme's shares per line.

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
/// A programme's rule for one budget line's share of the price: at most and/or at least a percentage (e.g.
/// a management fee of at most 10 %, staff pay of at least 70 %). National rules set none: caps are the
/// programme's, in configuration (`SANSHE_LINE_SHARES`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineShare {
    pub line: String,
    pub min_pct: Option<Decimal>,
    pub max_pct: Option<Decimal>,
}

/// Read `line<=pct` and `line>=pct` rules, comma-separated (`management<=10,staff>=70`); rules of one line
/// merge. Lines are the budget lines' keys; percentages 0–100 with at most two decimals.
pub fn parse_line_shares(s: &str) -> Result<Vec<LineShare>, String> {
    let mut out: Vec<LineShare> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (line, max, pct) = if let Some((l, p)) = part.split_once("<=") {
            (l, true, p)
        } else if let Some((l, p)) = part.split_once(">=") {
            (l, false, p)
        } else {
            return Err(format!("{part:?}: write line<=pct or line>=pct"));
        };
        let line = line.trim();
        if !BUDGET_LINES.iter().any(|(k, _, _)| *k == line) {
            return Err(format!("{part:?}: {line:?} is not a budget line"));
        }
        let pct: Decimal = pct
            .trim()
            .parse()
            .ok()
            .filter(|p: &Decimal| *p >= Decimal::ZERO && *p <= Decimal::from(100) && two_places(*p))
            .ok_or_else(|| format!("{part:?}: the share is a percentage, 0 to 100"))?;
        let i = match out.iter().position(|r| r.line == line) {
            Some(i) => i,
            None => {
                out.push(LineShare {
                    line: line.to_string(),
                    min_pct: None,
                    max_pct: None,
                });
                out.len() - 1
            }
        };
        let slot = if max {
            &mut out[i].max_pct
        } else {
            &mut out[i].min_pct
        };
        *slot = Some(pct);
    }
    Ok(out)
}

/// The demo's programme: a management fee of at most 10 % of the price (DOMAIN.md: many districts).
pub fn demo_line_shares() -> Vec<LineShare> {
    parse_line_shares("management<=10").expect("a valid rule")
}

impl TenderRules {
    /// The programme's rule for a line, if any.
    fn share(&self, line: &str) -> Option<&LineShare> {
        self.line_shares.iter().find(|r| r.line == line)
    }
    /// The programme's most for a line, percent of the price.
    pub fn max_share(&self, line: &str) -> Option<Decimal> {
        self.share(line).and_then(|r| r.max_pct)
    }
    /// The programme's least for a line, percent of the price.
    pub fn min_share(&self, line: &str) -> Option<Decimal> {
        self.share(line).and_then(|r| r.min_pct)
    }
}

fn line_label(key: &str) -> (&'static str, &'static str) {
    BUDGET_LINES
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(("该科目", "this line"), |(_, zh, en)| (*zh, *en))
}

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
    for r in &rules.line_shares {
        // Exact in Decimal: no i64 sum to overflow.
        let amount: Decimal = lines
            .iter()
            .filter(|l| l.line == r.line)
            .map(|l| Decimal::from(l.amount_fen))
            .sum();
        let share = |pct: Decimal| Decimal::from(price.get()) * pct;
        let (zh, en) = line_label(&r.line);
        if let Some(max) = r.max_pct
            && amount * Decimal::from(100) > share(max)
        {
            out.push(broken(
                "budget",
                "line_max",
                format!("按本项目计划规定，{zh}不得超过报价的 {max}%。"),
                format!("The programme allows the {en} line at most {max}% of the price."),
            ));
        }
        if let Some(min) = r.min_pct
            && amount * Decimal::from(100) < share(min)
        {
            out.push(broken(
                "budget",
                "line_min",
                format!("按本项目计划规定，{zh}不得低于报价的 {min}%。"),
                format!("The programme asks the {en} line at least {min}% of the price."),
            ));
        }
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

    /// Caps on budget lines are the programme's, not national rules: the default programme has none; a
    /// programme sets a most and/or a least share per line (e.g. staff pay ≥ 70 %).
    #[test]
    fn line_shares_are_programme_rules() {
        let l = |k: &str, a: i64| BudgetLine {
            line: k.into(),
            amount_fen: a,
        };
        let heavy = [l("staff", 10), l("activities", 20), l("management", 70)];
        assert!(check_budget(&heavy, 100, &TenderRules::default()).is_empty());
        let social_work = TenderRules {
            line_shares: parse_line_shares("staff>=70, management<=10,staff<=90").unwrap(),
            ..TenderRules::default()
        };
        assert_eq!(social_work.min_share("staff"), Some(Decimal::from(70)));
        assert_eq!(social_work.max_share("staff"), Some(Decimal::from(90)));
        let e = check_budget(&heavy, 100, &social_work);
        let got: Vec<_> = e.iter().map(|b| (b.rule, b.zh.clone())).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, "line_min");
        assert!(got[0].1.contains("人员经费") && got[0].1.contains("70%"));
        assert_eq!(got[1].0, "line_max");
        assert!(got[1].1.contains("管理费") && got[1].1.contains("10%"));
        let fits = [l("staff", 75), l("activities", 15), l("management", 10)];
        assert!(check_budget(&fits, 100, &social_work).is_empty());
        for bad in [
            "staff<70",
            "cash<=10",
            "staff<=101",
            "staff>=1.234",
            "management<=x",
        ] {
            assert!(parse_line_shares(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_line_shares(" ").unwrap(), vec![]);
    }

    #[test]
    fn budget_lines_and_caps() {
        let r = TenderRules {
            line_shares: parse_line_shares("management<=10,staff<=50").unwrap(),
            ..TenderRules::default()
        };
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
        assert_eq!(rules, vec!["line_max", "line_max"]);
        let e = check_budget(&[l("staff", 40), l("cash_gifts", 60)], 101, &r);
        let rules: Vec<_> = e.iter().map(|b| b.rule).collect();
        assert_eq!(rules, vec!["one_of", "sum_price"]);
    }
}
