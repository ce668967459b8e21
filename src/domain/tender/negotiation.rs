//! 竞争性谈判 as 财政部令第74号 writes it: at least three suppliers, two only for a project moved here after
//! a failed open tender (Art 27); no weighted scoring: the panel decides each response's compliance
//! (实质性响应) and negotiates in rounds; the last quote of each supplier is its final quote (最后报价, Art
//! 33); the lowest final quote among compliant offers wins (政府采购法 Art 38(5); 74号令 Art 35–36), equal
//! final quotes decided by the recorded draw the ranking already uses ([`draw_key`]).

use std::collections::BTreeMap;

use super::*;

/// The fewest valid responses a tender of `method` goes on with: the configured number, but for a
/// negotiation moved here after a failed open tender at most two (74号令 Art 27; 财库〔2015〕124号).
pub fn min_bids_for(rules: &TenderRules, method: Method, moved_after_failed_open: bool) -> u32 {
    let n = rules.min_bids(method);
    if method == Method::Negotiation && moved_after_failed_open {
        n.min(2)
    } else {
        n
    }
}

/// The tender a negotiation says it was moved from must be an open tender that failed (流标), and only a
/// negotiation may say so (74号令 Art 27).
pub fn check_moved_from(method: Method, from: Option<(Method, State)>) -> Vec<Broken> {
    let f = "failed_tender_id";
    if method != Method::Negotiation {
        return vec![broken(
            f,
            "negotiation_only",
            "只有竞争性谈判项目可以记录由公开招标失败转来（财政部令第74号第二十七条）。",
            "Only a competitive negotiation records that it was moved from a failed open tender (MOF Order 74 Art 27).",
        )];
    }
    match from {
        None => vec![broken(
            f,
            "exists",
            "没有这个招标项目。",
            "There is no such tender.",
        )],
        Some((Method::Open, State::Failed)) => Vec::new(),
        Some(_) => vec![broken(
            f,
            "failed_open_tender",
            "只有流标的公开招标项目可以转为竞争性谈判并只有两家供应商（财政部令第74号第二十七条）。",
            "Only an open tender that failed can be moved to a negotiation with two suppliers (MOF Order 74 Art 27).",
        )],
    }
}

/// A negotiation's criteria: no price weight, no scored criteria, no fixed price. The panel decides
/// compliance and the lowest final quote wins (政府采购法 Art 38(5); 74号令 Art 35–36).
pub fn check_negotiation_criteria(c: &Criteria) -> Vec<Broken> {
    let mut out = Vec::new();
    if !c.price_weight_pct.is_zero() {
        out.push(broken(
            "criteria.price_weight_pct",
            "negotiation_unscored",
            "竞争性谈判不采用综合评分，价格分权重须为 0：以最后报价最低者成交（政府采购法第三十八条；财政部令第74号第三十六条）。",
            "A competitive negotiation is not scored: the price weight must be 0, the lowest final quote wins (Procurement Law Art 38; MOF Order 74 Art 36).",
        ));
    }
    if !c.items.is_empty() {
        out.push(broken(
            "criteria.items",
            "negotiation_unscored",
            "竞争性谈判不设评分项：评审小组只判定是否实质性响应（财政部令第74号第三十五条）。",
            "A competitive negotiation has no scored criteria: the panel only decides compliance (MOF Order 74 Art 35).",
        ));
    }
    if c.fixed_price_fen.is_some() {
        out.push(broken(
            "criteria.fixed_price_fen",
            "fixed_price_tenders_only",
            "竞争性谈判以价格竞争，不能采用固定价格。",
            "A competitive negotiation competes on price: no fixed price.",
        ));
    }
    out
}

/// A quote in a round: positive, at most two decimals (fen), within the budget ceiling.
pub fn check_quote(field: &str, price: Fen, budget: Fen) -> Option<Broken> {
    if price <= Fen::ZERO {
        Some(broken(
            field,
            "positive",
            "报价须为正数。",
            "The quote must be positive.",
        ))
    } else if price > budget {
        Some(broken(
            field,
            "max_budget",
            format!("报价不得超过预算 {} 元。", budget.yuan_grouped()),
            format!(
                "The quote may not exceed the budget of ¥{}.",
                budget.yuan_grouped()
            ),
        ))
    } else {
        None
    }
}

/// Each supplier's final quote (74号令 Art 33): its last quote over the rounds in order, where `None` in a
/// round means it declined to quote again and keeps its last; before any round, its response's price.
pub fn final_quotes(
    first: &[(i64, Fen)],
    rounds: &[BTreeMap<i64, Option<Fen>>],
) -> BTreeMap<i64, Fen> {
    let mut out: BTreeMap<i64, Fen> = first.iter().copied().collect();
    for r in rounds {
        for (bid, q) in r {
            if let (Some(q), Some(slot)) = (q, out.get_mut(bid)) {
                *slot = *q;
            }
        }
    }
    out
}

/// The winning response's budget lines carried to its final quote: each line scaled by final ÷ first price,
/// rounded down to the fen, the last line taking the remainder, so the lines sum to the final quote
/// exactly (the contract's lines are then the offer the buyer accepted). Unchanged when the price is.
pub fn scale_budget(lines: &[BudgetLine], first: Fen, to: Fen) -> Vec<BudgetLine> {
    if first == to || first <= Fen::ZERO || lines.is_empty() {
        return lines.to_vec();
    }
    let mut out: Vec<BudgetLine> = lines
        .iter()
        .map(|l| {
            let scaled = i128::from(l.amount_fen) * i128::from(to.get()) / i128::from(first.get());
            BudgetLine {
                line: l.line.clone(),
                amount_fen: i64::try_from(scaled).unwrap_or(i64::MAX),
            }
        })
        .collect();
    let head: i64 = out[..out.len() - 1].iter().map(|l| l.amount_fen).sum();
    if let Some(last) = out.last_mut() {
        last.amount_fen = to.get() - head;
    }
    out
}

/// Rank compliant offers by final quote, lowest first (政府采购法 Art 38(5); 74号令 Art 36), ranks 1, 2, 3 …
/// with no shared places. Equal final quotes are decided by the draw from `seed` ([`draw_seed`]), returned
/// in [`Ranking::draws`] to be recorded (the tender ranking's draw). Nothing is scored: the price, technical,
/// commercial scores and totals of the [`Ranked`] rows are 0.
pub fn rank_final_quotes(offers: &[(i64, Fen)], seed: &str) -> Ranking {
    let mut rows: Vec<(i64, Fen, String)> = offers
        .iter()
        .map(|(b, p)| (*b, *p, draw_key(seed, *b)))
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(&b.2)));
    let mut draws = Vec::new();
    let mut ties = vec![false; rows.len()];
    let mut i = 0;
    while i < rows.len() {
        let mut j = i;
        while j + 1 < rows.len() && rows[j + 1].1 == rows[i].1 {
            j += 1;
        }
        if j > i {
            let mut candidates: Vec<i64> = rows[i..=j].iter().map(|r| r.0).collect();
            candidates.sort_unstable();
            draws.push(Draw {
                seed: seed.to_string(),
                keys: candidates.iter().map(|c| draw_key(seed, *c)).collect(),
                candidates,
                order: rows[i..=j].iter().map(|r| r.0).collect(),
            });
            ties[i..=j].iter_mut().for_each(|t| *t = true);
        }
        i = j + 1;
    }
    let bids = rows
        .into_iter()
        .enumerate()
        .map(|(i, (bid, price, _))| Ranked {
            bid_id: bid,
            rank: i as u32 + 1,
            price_fen: price.get(),
            price_score: Decimal::ZERO,
            technical: Decimal::ZERO,
            commercial: Decimal::ZERO,
            total: Decimal::ZERO,
            tie: ties[i].then_some(TieRule::Draw),
        })
        .collect();
    Ranking { bids, draws }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(y: i64) -> Fen {
        Fen::new(y * 100)
    }

    /// 74号令 Art 27: a negotiation needs at least three suppliers (configurable); two suffice only for a
    /// project moved here after a failed open tender, which must be an open tender in state failed.
    #[test]
    fn art27_three_suppliers_two_after_a_failed_open_tender() {
        let r = TenderRules::default();
        assert_eq!(r.min_bids(Method::Negotiation), 3);
        assert_eq!(min_bids_for(&r, Method::Negotiation, false), 3);
        assert_eq!(min_bids_for(&r, Method::Negotiation, true), 2);
        // Only a negotiation is eased; a province that asks 2 anyway keeps 2, one that asks 4 gets 2 moved.
        assert_eq!(min_bids_for(&r, Method::Open, true), 3);
        let four = TenderRules {
            min_bids_negotiation: 4,
            ..TenderRules::default()
        };
        assert_eq!(min_bids_for(&four, Method::Negotiation, false), 4);
        assert_eq!(min_bids_for(&four, Method::Negotiation, true), 2);
        assert!(
            check_moved_from(Method::Negotiation, Some((Method::Open, State::Failed))).is_empty()
        );
        let rule = |m, from| {
            check_moved_from(m, from)
                .into_iter()
                .map(|b| b.rule)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            rule(
                Method::Negotiation,
                Some((Method::Consultation, State::Failed))
            ),
            vec!["failed_open_tender"]
        );
        assert_eq!(
            rule(Method::Negotiation, Some((Method::Open, State::Awarded))),
            vec!["failed_open_tender"]
        );
        assert_eq!(rule(Method::Negotiation, None), vec!["exists"]);
        assert_eq!(
            rule(Method::Consultation, Some((Method::Open, State::Failed))),
            vec!["negotiation_only"]
        );
    }

    /// 政府采购法 Art 38(5); 74号令 Art 35–36: no weighted scoring in a negotiation: price weight 0, no
    /// scored criteria, no fixed price.
    #[test]
    fn art36_negotiation_has_no_weighted_scoring() {
        assert!(check_negotiation_criteria(&Criteria::default()).is_empty());
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
        let got: Vec<(String, &str)> = check_negotiation_criteria(&scored)
            .into_iter()
            .map(|b| (b.field, b.rule))
            .collect();
        assert_eq!(
            got,
            vec![
                ("criteria.price_weight_pct".into(), "negotiation_unscored"),
                ("criteria.items".into(), "negotiation_unscored"),
                (
                    "criteria.fixed_price_fen".into(),
                    "fixed_price_tenders_only"
                ),
            ]
        );
        // check_criteria applies it for the method.
        let rules: Vec<&str> =
            check_criteria(&scored, Some(Method::Negotiation), &TenderRules::default())
                .into_iter()
                .map(|b| b.rule)
                .collect();
        assert!(rules.iter().all(|r| *r != "sum_100"), "{rules:?}");
        assert!(
            check_criteria(
                &Criteria::default(),
                Some(Method::Negotiation),
                &TenderRules::default()
            )
            .is_empty()
        );
    }

    /// 74号令 Art 33: the last quote is the final quote; a supplier who declines to quote again keeps its
    /// last; before any round it is the response's price.
    #[test]
    fn art33_last_quote_is_final_and_declining_keeps_the_last() {
        let first = [(1, f(150_000)), (2, f(140_000)), (3, f(145_000))];
        let r1 = BTreeMap::from([(1, Some(f(130_000))), (2, None), (3, Some(f(138_000)))]);
        let r2 = BTreeMap::from([(1, None), (2, Some(f(135_000))), (3, Some(f(128_000)))]);
        let fin = final_quotes(&first, &[r1, r2]);
        assert_eq!(
            fin,
            BTreeMap::from([(1, f(130_000)), (2, f(135_000)), (3, f(128_000))])
        );
        assert_eq!(final_quotes(&first, &[]).get(&2), Some(&f(140_000)));
        assert!(check_quote("q", f(1), f(100)).is_none());
        assert_eq!(
            check_quote("q", Fen::ZERO, f(100)).unwrap().rule,
            "positive"
        );
        assert_eq!(check_quote("q", f(101), f(100)).unwrap().rule, "max_budget");
    }

    /// 74号令 Art 33: the contract carries the final quote, so the winning response's budget lines are
    /// scaled to it and sum to it exactly.
    #[test]
    fn art33_budget_lines_follow_the_final_quote() {
        let lines = vec![
            BudgetLine::new("staff", Fen::new(6_000_001)),
            BudgetLine::new("activities", Fen::new(7_999_999)),
            BudgetLine::new("management", Fen::new(1_000_000)),
        ];
        let to = Fen::new(12_345_678);
        let scaled = scale_budget(&lines, Fen::new(15_000_000), to);
        assert_eq!(scaled.iter().map(|l| l.amount_fen).sum::<i64>(), to.get());
        assert_eq!(scaled[0].amount_fen, 6_000_001 * 12_345_678 / 15_000_000);
        assert_eq!(
            scale_budget(&lines, Fen::new(15_000_000), Fen::new(15_000_000)),
            lines
        );
    }

    /// 政府采购法 Art 38(5); 74号令 Art 36: the lowest final quote among compliant offers wins; the ranking
    /// is by final quote, lowest first, whatever the receipt order.
    #[test]
    fn art36_lowest_final_quote_wins() {
        let r = rank_final_quotes(&[(1, f(130_000)), (2, f(135_000)), (3, f(128_000))], "5eed");
        let order: Vec<(i64, u32, i64)> = r
            .bids
            .iter()
            .map(|b| (b.bid_id, b.rank, b.price_fen))
            .collect();
        assert_eq!(
            order,
            vec![(3, 1, 12_800_000), (1, 2, 13_000_000), (2, 3, 13_500_000)]
        );
        assert!(r.draws.is_empty() && r.bids.iter().all(|b| b.tie.is_none()));
        assert!(rank_final_quotes(&[], "5eed").bids.is_empty());
    }

    /// 74号令 Art 36 with 87号令 Art 68's recorded draw: equal final quotes are ordered by the draw from the
    /// seed, reproducible with SHA-256 alone and the same in whatever order the offers come.
    #[test]
    fn art36_equal_final_quotes_decided_by_the_recorded_draw() {
        let seed = draw_seed("NG-1", &["aa", "bb"]);
        let offers = [(41, f(100)), (17, f(100)), (5, f(120))];
        let r = rank_final_quotes(&offers, &seed);
        assert_eq!(r.draws.len(), 1);
        let d = &r.draws[0];
        assert_eq!(d.candidates, vec![17, 41]);
        let mut by_key = [(draw_key(&seed, 17), 17), (draw_key(&seed, 41), 41)];
        by_key.sort();
        assert_eq!(d.order, by_key.iter().map(|k| k.1).collect::<Vec<_>>());
        assert_eq!(r.bids[0].bid_id, d.order[0]);
        assert_eq!(r.bids[0].tie, Some(TieRule::Draw));
        assert_eq!((r.bids[2].bid_id, r.bids[2].tie), (5, None));
        let mut again = offers.to_vec();
        again.reverse();
        assert_eq!(rank_final_quotes(&again, &seed), r);
    }
}
