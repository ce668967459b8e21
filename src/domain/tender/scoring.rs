//! The scoring template and its check, the price score.

use super::*;

/// Criterion categories; in 竞争性磋商 the technical sum orders equal totals of equal price.
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
    /// How the document orders bids still equal after total and price (87号令 Art 57).
    #[serde(default)]
    pub tie_break: TieBreak,
    /// A fixed price (fen) the tender states: every bid offers exactly it and price is not scored, so the
    /// price weight is 0 (87号令 Art 55). Open and invited tenders only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_price_fen: Option<i64>,
}

impl Criteria {
    /// The stated fixed price, if any.
    pub fn fixed_price(&self) -> Option<Fen> {
        self.fixed_price_fen.map(Fen::new)
    }
}

/// Check a scoring template: price weight within its method's range for services, criteria with unique
/// keys and positive points, everything summing to exactly 100. The range: open and invited tenders at
/// least the configured minimum (10 %) with no upper limit (87号令 Art 55); 竞争性磋商, and the methods not
/// yet scored their own way, between the configured minimum and maximum (10–30 %, 214号 Art 24). A
/// tender with a fixed price leaves price unscored: weight 0 then, and only then (87号令 Art 55). A
/// negotiation is not scored at all ([`check_negotiation_criteria`]), nor is a single source
/// ([`check_single_source_criteria`]: the negotiation record replaces the evaluation, 74号令 Art 42).
pub fn check_criteria(c: &Criteria, method: Option<Method>, rules: &TenderRules) -> Vec<Broken> {
    match method {
        Some(Method::Negotiation) => return check_negotiation_criteria(c),
        Some(Method::SingleSource) => return check_single_source_criteria(c),
        _ => {}
    }
    let mut out = Vec::new();
    let w = c.price_weight_pct;
    let max = match method {
        Some(Method::Open | Method::Invited) => Decimal::from(100),
        _ => rules.price_weight_max,
    };
    let tender = matches!(method, Some(Method::Open | Method::Invited));
    if let Some(p) = c.fixed_price_fen {
        if !tender {
            out.push(broken(
                "criteria.fixed_price_fen",
                "fixed_price_tenders_only",
                "只有公开招标和邀请招标可以采用固定价格、价格不计分（政府采购货物和服务招标投标管理办法第五十五条）。",
                "Only open and invited tenders may state a fixed price with price unscored (MOF Order 87 Art 55).",
            ));
        } else if p <= 0 {
            out.push(broken(
                "criteria.fixed_price_fen",
                "positive",
                "固定价格须为正数。",
                "The fixed price must be positive.",
            ));
        }
        if !w.is_zero() {
            out.push(broken(
                "criteria.price_weight_pct",
                "fixed_price_weight_zero",
                "采用固定价格的项目价格不列为评分因素，价格分权重须为 0（政府采购货物和服务招标投标管理办法第五十五条）。",
                "With a fixed price, price is not scored: the price weight must be 0 (MOF Order 87 Art 55).",
            ));
        }
    } else if !two_places(w) || w < rules.price_weight_min || w > max {
        out.push(broken(
            "criteria.price_weight_pct",
            "range",
            format!(
                "服务类项目价格分权重须在 {}%–{}% 之间（{}）。",
                rules.price_weight_min,
                max,
                method.map_or("", |m| m.label(true))
            ),
            format!(
                "For services the price weight must be between {}% and {}% ({}).",
                rules.price_weight_min,
                max,
                method.map_or("", |m| m.label(false))
            ),
        ));
        if w.is_zero() && tender {
            out.push(broken(
                "criteria.fixed_price_fen",
                "required_for_weight_zero",
                "价格分权重为 0 时须载明固定价格（政府采购货物和服务招标投标管理办法第五十五条）。",
                "A price weight of 0 needs a stated fixed price (MOF Order 87 Art 55).",
            ));
        }
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

/// A fixed price within the tender's budget ceiling (87号令 Art 55 with the budget as the ceiling).
pub fn check_fixed_price(c: &Criteria, budget: Fen) -> Vec<Broken> {
    match c.fixed_price() {
        Some(p) if p > budget => vec![broken(
            "criteria.fixed_price_fen",
            "max_budget",
            format!("固定价格不得超过预算 {} 元。", budget.yuan_grouped()),
            format!(
                "The fixed price may not exceed the budget of ¥{}.",
                budget.yuan_grouped()
            ),
        )],
        _ => Vec::new(),
    }
}

/// A bid on a fixed-price tender offers exactly the stated price (87号令 Art 55: price is not a
/// competing factor there).
pub fn check_fixed_price_offer(c: &Criteria, price: Fen) -> Option<Broken> {
    let fixed = c.fixed_price()?;
    (price != fixed).then(|| {
        broken(
            "price",
            "fixed_price",
            format!(
                "本项目采用固定价格，报价须为 {} 元（政府采购货物和服务招标投标管理办法第五十五条）。",
                fixed.yuan_grouped()
            ),
            format!(
                "This tender has a fixed price: the price must be ¥{} (MOF Order 87 Art 55).",
                fixed.yuan_grouped()
            ),
        )
    })
}

/// Price score = lowest valid price ÷ this price × 100 × weight, with the weight in percent. Exact.
/// A fixed-price tender (weight 0) scores every bid's price 0: price is not an input then.
pub fn price_score(lowest: Fen, price: Fen, weight_pct: Decimal) -> Decimal {
    if price <= Fen::ZERO {
        return Decimal::ZERO;
    }
    Decimal::from(lowest.get()) * weight_pct / Decimal::from(price.get())
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
            tie_break: TieBreak::Draw,
            fixed_price_fen: None,
        }
    }

    /// 87号令 Art 55: a fixed-price tender leaves price unscored: weight 0 with a stated fixed price, and
    /// only so; a fixed price with a weight above 0 is refused, as is weight 0 without a fixed price or a
    /// fixed price outside open and invited tenders; bids offer exactly the fixed price.
    #[test]
    fn fixed_price_weight_zero_87_art_55() {
        let r = TenderRules::default();
        let mut fixed = crit(
            "0",
            &[
                ("plan", Category::Technical, "70"),
                ("exp", Category::Commercial, "30"),
            ],
        );
        fixed.fixed_price_fen = Some(15_000_000);
        assert!(check_criteria(&fixed, Some(Method::Open), &r).is_empty());
        assert!(check_criteria(&fixed, Some(Method::Invited), &r).is_empty());
        let e = check_criteria(&fixed, Some(Method::Consultation), &r);
        assert_eq!(
            e.iter().map(|x| x.rule).collect::<Vec<_>>(),
            vec!["fixed_price_tenders_only"]
        );
        // Weight 0 without a fixed price: the range, and the missing fixed price named.
        let mut bare = fixed.clone();
        bare.fixed_price_fen = None;
        let e = check_criteria(&bare, Some(Method::Open), &r);
        let rules: Vec<_> = e.iter().map(|x| (x.field.as_str(), x.rule)).collect();
        assert_eq!(
            rules,
            vec![
                ("criteria.price_weight_pct", "range"),
                ("criteria.fixed_price_fen", "required_for_weight_zero")
            ]
        );
        // A fixed price with a weight above 0.
        let mut weighted = crit("10", &[("plan", Category::Technical, "90")]);
        weighted.fixed_price_fen = Some(15_000_000);
        let e = check_criteria(&weighted, Some(Method::Open), &r);
        assert_eq!(
            (e.len(), e[0].field.as_str(), e[0].rule),
            (1, "criteria.price_weight_pct", "fixed_price_weight_zero")
        );
        assert!(e[0].zh.contains("第五十五条") && e[0].en.contains("Art 55"));
        // Within the budget; bids offer exactly that price.
        assert!(check_fixed_price(&fixed, Fen::new(15_000_000)).is_empty());
        assert_eq!(
            check_fixed_price(&fixed, Fen::new(14_999_999))[0].rule,
            "max_budget"
        );
        assert!(check_fixed_price_offer(&fixed, Fen::new(15_000_000)).is_none());
        assert_eq!(
            check_fixed_price_offer(&fixed, Fen::new(14_000_000))
                .unwrap()
                .rule,
            "fixed_price"
        );
        assert!(check_fixed_price_offer(&bare, Fen::new(1)).is_none());
        // Ranked on the technical and commercial scores alone; equal prices then follow the ties' rules.
        let bids = [
            RankInput {
                bid_id: 1,
                price_fen: 15_000_000,
                technical: d("60"),
                commercial: d("20"),
            },
            RankInput {
                bid_id: 2,
                price_fen: 15_000_000,
                technical: d("65"),
                commercial: d("20"),
            },
        ];
        let ranked = rank(&bids, Decimal::ZERO, Method::Open, TieBreak::Draw, "5eed");
        assert_eq!(ranked.bids[0].bid_id, 2);
        assert_eq!(ranked.bids[0].price_score, Decimal::ZERO);
        assert_eq!(ranked.bids[0].total, d("85"));
    }

    /// 87号令 Art 55: an open or invited tender for services weighs price at least 10 % with no upper
    /// limit; 214号 Art 24: 竞争性磋商 between 10 % and 30 %.
    #[test]
    fn art55_price_weight_by_method() {
        let r = TenderRules::default();
        let heavy = crit("60", &[("plan", Category::Technical, "40")]);
        assert!(check_criteria(&heavy, Some(Method::Open), &r).is_empty());
        assert!(check_criteria(&heavy, Some(Method::Invited), &r).is_empty());
        let e = check_criteria(&heavy, Some(Method::Consultation), &r);
        assert_eq!((e.len(), e[0].rule), (1, "range"));
        assert!(e[0].zh.contains("30%") && e[0].zh.contains("竞争性磋商"));
        let light = crit("9.99", &[("plan", Category::Technical, "90.01")]);
        assert_eq!(
            check_criteria(&light, Some(Method::Open), &r)[0].rule,
            "range"
        );
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
        assert!(check_criteria(&ok, Some(Method::Consultation), &r).is_empty());
        let heavy = crit(
            "35",
            &[
                ("plan", Category::Technical, "45"),
                ("exp", Category::Commercial, "20"),
            ],
        );
        let e = check_criteria(&heavy, Some(Method::Consultation), &r);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].field.as_str(), e[0].rule),
            ("criteria.price_weight_pct", "range")
        );
        let light = crit("5", &[("plan", Category::Technical, "95")]);
        assert_eq!(
            check_criteria(&light, Some(Method::Open), &r)[0].rule,
            "range"
        );
        let short = crit("10", &[("plan", Category::Technical, "80")]);
        assert_eq!(
            check_criteria(&short, Some(Method::Open), &r)[0].rule,
            "sum_100"
        );
        let dup = crit(
            "20",
            &[
                ("a", Category::Technical, "40"),
                ("a", Category::Commercial, "40"),
            ],
        );
        assert_eq!(
            check_criteria(&dup, Some(Method::Open), &r)[0].rule,
            "unique"
        );
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
}
