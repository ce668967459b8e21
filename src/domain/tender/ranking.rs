//! Ranking the valid bids of a scored tender (综合评分法): the order of equal totals each method's rule
//! gives, and the recorded, reproducible draw that decides what the rules leave equal.
//!
//! Totals, prices and technical scores are compared as published (two decimals, [`show`]): a tie the
//! bidders read in the report is a tie for the rules. Submission time never decides.

use sha2::{Digest, Sha256};

use super::*;
use crate::domain::money::round2;

/// How the tender document orders bids still equal after the total and the price (87号令 Art 57): the
/// method it states, or, when it states none, a random draw that is recorded and can be reproduced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TieBreak {
    /// The document states: the higher technical score first (a draw if still equal).
    Technical,
    /// The document states nothing: a recorded random draw.
    #[default]
    Draw,
}

impl TieBreak {
    pub const ALL: [TieBreak; 2] = [TieBreak::Draw, TieBreak::Technical];
    pub fn as_str(self) -> &'static str {
        match self {
            TieBreak::Technical => "technical",
            TieBreak::Draw => "draw",
        }
    }
    pub fn parse(s: &str) -> Option<TieBreak> {
        TieBreak::ALL.into_iter().find(|t| t.as_str() == s)
    }
    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (TieBreak::Technical, true) => "技术得分高者优先，仍相同则随机抽签",
            (TieBreak::Technical, false) => "the higher technical score first, then a random draw",
            (TieBreak::Draw, true) => "随机抽签（记录种子与结果，可复验）",
            (TieBreak::Draw, false) => "a random draw (seed and result recorded, reproducible)",
        }
    }
}

/// The rule that decided a bid's place among bids of the same total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TieRule {
    /// The lower price first (87号令 Art 57; 214号 Art 25).
    LowerPrice,
    /// The higher technical score first (214号 Art 25, or the tender document's stated method).
    HigherTechnical,
    /// The recorded draw (87号令 Art 57, 68).
    Draw,
}

impl TieRule {
    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (TieRule::LowerPrice, true) => "得分相同，报价低者优先",
            (TieRule::LowerPrice, false) => "equal totals: the lower price first",
            (TieRule::HigherTechnical, true) => "得分、报价相同，技术得分高者优先",
            (TieRule::HigherTechnical, false) => {
                "equal totals and prices: the higher technical score first"
            }
            (TieRule::Draw, true) => "得分、报价均相同，随机抽签决定",
            (TieRule::Draw, false) => "equal totals and prices: decided by the recorded draw",
        }
    }
}

/// One valid bid going into the ranking: its price and its averaged criterion scores. (Fields stay as
/// stored, `i64`; [`RankInput::bid`] and [`RankInput::price`] give them typed.)
#[derive(Clone, Debug)]
pub struct RankInput {
    pub bid_id: i64,
    pub price_fen: i64,
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
    /// When another bid has the same total: the rule that decided this bid's place among them.
    pub tie: Option<TieRule>,
}

/// A draw among bids the rules left equal: anyone holding the seed recomputes it with SHA-256 alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Draw {
    /// Hex SHA-256 the keys derive from ([`draw_seed`]).
    pub seed: String,
    /// The bids drawn among, by receipt number (ascending).
    pub candidates: Vec<i64>,
    /// Each candidate's key, in `candidates`' order: hex SHA-256 of `seed:receipt` ([`draw_key`]).
    pub keys: Vec<String>,
    /// The result: the lowest key takes the best place.
    pub order: Vec<i64>,
}

/// The ranked bids, best first, and the draws that decided any full tie.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ranking {
    pub bids: Vec<Ranked>,
    pub draws: Vec<Draw>,
}

/// The seed of a tender's draws: SHA-256 over the tender's code and the commitments of every opened bid
/// in receipt order. Fixed at opening, unknown to any one bidder before it (it covers the others'
/// commitments) and out of the buyer's hands; public afterwards, so anyone can check a draw.
pub fn draw_seed(tender_code: &str, commitments: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"sanshe tie draw v1\n");
    h.update(tender_code.as_bytes());
    for c in commitments {
        h.update(b"\n");
        h.update(c.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A candidate's key in a draw: hex SHA-256 of `seed:receipt` (as `printf '%s:%d' SEED SEQ | sha256sum`).
/// Each bid's key depends on the seed and the bid alone, so the order of the others stays the same when
/// one of them later drops out.
pub fn draw_key(seed: &str, bid_id: i64) -> String {
    hex::encode(Sha256::digest(format!("{seed}:{bid_id}")))
}

/// Rank valid bids by total (price score + technical + commercial), best first, ranks 1, 2, 3 … with no
/// shared places. Equal totals (as published, two decimals): the lower price first (87号令 Art 57, 214号
/// Art 25); then, for 竞争性磋商, the higher technical score (214号 Art 25); then the tender document's
/// method ([`TieBreak`]); what is still equal is decided by a draw from `seed` ([`draw_seed`]), returned
/// in [`Ranking::draws`] to be recorded (87号令 Art 57, 68). The submission time never decides.
pub fn rank(
    bids: &[RankInput],
    weight_pct: Decimal,
    method: Method,
    tie_break: TieBreak,
    seed: &str,
) -> Ranking {
    let Some(lowest) = bids
        .iter()
        .map(RankInput::price)
        .filter(|p| *p > Fen::ZERO)
        .min()
    else {
        return Ranking::default();
    };
    let technical_next = method == Method::Consultation || tie_break == TieBreak::Technical;
    struct Row {
        r: Ranked,
        total: Decimal,
        technical: Decimal,
        key: String,
    }
    let mut rows: Vec<Row> = bids
        .iter()
        .map(|b| {
            let ps = price_score(lowest, b.price(), weight_pct);
            let total = ps + b.technical + b.commercial;
            Row {
                r: Ranked {
                    bid_id: b.bid_id,
                    rank: 0,
                    price_fen: b.price_fen,
                    price_score: ps,
                    technical: b.technical,
                    commercial: b.commercial,
                    total,
                    tie: None,
                },
                total: round2(total),
                technical: round2(b.technical),
                key: draw_key(seed, b.bid_id),
            }
        })
        .collect();
    // What separates two bids of the same total, if anything short of the draw does.
    let rule_between = |a: &Row, b: &Row| -> Option<TieRule> {
        if a.r.price_fen != b.r.price_fen {
            Some(TieRule::LowerPrice)
        } else if technical_next && a.technical != b.technical {
            Some(TieRule::HigherTechnical)
        } else {
            None
        }
    };
    rows.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then(a.r.price_fen.cmp(&b.r.price_fen))
            .then(if technical_next {
                b.technical.cmp(&a.technical)
            } else {
                std::cmp::Ordering::Equal
            })
            .then(a.key.cmp(&b.key))
    });
    // Each neighbouring pair of equal totals: the rule that ordered them; a bid carries the strongest rule
    // it needed against either neighbour. Runs the rules left equal are draws.
    let mut draws = Vec::new();
    let n = rows.len();
    let mut between: Vec<Option<TieRule>> = Vec::with_capacity(n.saturating_sub(1));
    for i in 1..n {
        let (a, b) = (&rows[i - 1], &rows[i]);
        between.push((a.total == b.total).then(|| rule_between(a, b).unwrap_or(TieRule::Draw)));
    }
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && between[j] == Some(TieRule::Draw) {
            j += 1;
        }
        if j > i {
            let mut candidates: Vec<i64> = rows[i..=j].iter().map(|r| r.r.bid_id).collect();
            candidates.sort_unstable();
            draws.push(Draw {
                seed: seed.to_string(),
                keys: candidates.iter().map(|c| draw_key(seed, *c)).collect(),
                candidates,
                order: rows[i..=j].iter().map(|r| r.r.bid_id).collect(),
            });
        }
        i = j + 1;
    }
    let ranked = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut row)| {
            let above = i.checked_sub(1).and_then(|k| between[k]);
            let below = between.get(i).copied().flatten();
            row.r.tie = above.max(below);
            row.r.rank = i as u32 + 1;
            row.r
        })
        .collect();
    Ranking {
        bids: ranked,
        draws,
    }
}

/// Round for display: two decimals, half away from zero.
pub fn show(d: Decimal) -> String {
    format!("{:.2}", round2(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn input(id: i64, price: i64, t: &str, c: &str) -> RankInput {
        RankInput {
            bid_id: id,
            price_fen: price,
            technical: d(t),
            commercial: d(c),
        }
    }

    const SEED: &str = "5eed";

    fn order(r: &Ranking) -> Vec<(i64, u32, Option<TieRule>)> {
        r.bids.iter().map(|x| (x.bid_id, x.rank, x.tie)).collect()
    }

    /// 87号令 Art 57: equal totals, the lower price ranks higher; the technical score does not decide in
    /// an open tender whose document states no method.
    #[test]
    fn art57_equal_totals_lower_price_ranks_higher() {
        // Weight 30. B: ¥120k, tech 60, comm 10 → 25 + 70 = 95. C: ¥150k, tech 62, comm 13 → 20 + 75 = 95.
        // A: ¥100k, tech 50, comm 10 → 30 + 60 = 90.
        let r = rank(
            &[
                input(1, 10_000_000, "50", "10"),
                input(2, 12_000_000, "60", "10"),
                input(3, 15_000_000, "62", "13"),
            ],
            d("30"),
            Method::Open,
            TieBreak::Draw,
            SEED,
        );
        assert_eq!(
            order(&r),
            vec![
                (2, 1, Some(TieRule::LowerPrice)),
                (3, 2, Some(TieRule::LowerPrice)),
                (1, 3, None)
            ]
        );
        assert_eq!(r.bids[0].total, d("95"));
        assert!(r.draws.is_empty());
        // Totals equal as published (two decimals) count as equal: 7 has 69.9667… and 8 has 69.965, both
        // published as 69.97, so the lower price ranks 8 first though 7's exact total is higher.
        let r = rank(
            &[
                input(7, 30_100, "50.00", "10"),
                input(8, 10_000, "39.965", "0.00"),
            ],
            d("30"),
            Method::Invited,
            TieBreak::Draw,
            SEED,
        );
        assert_eq!(show(r.bids[0].total), show(r.bids[1].total));
        assert_eq!(order(&r)[0], (8, 1, Some(TieRule::LowerPrice)));
        assert!(
            rank(&[], d("10"), Method::Open, TieBreak::Draw, SEED)
                .bids
                .is_empty()
        );
    }

    /// 214号 Art 25: in 竞争性磋商, equal totals → the lower final price, then the higher technical score.
    #[test]
    fn art25_consultation_equal_totals_then_price_then_technical() {
        // Equal prices and totals, technical 45 against 40: the higher technical score first.
        let bids = [
            input(1, 10_000_000, "40", "20"),
            input(2, 10_000_000, "45", "15"),
            input(3, 9_000_000, "30", "20"),
        ];
        let r = rank(&bids, d("10"), Method::Consultation, TieBreak::Draw, SEED);
        // 3: 10 + 50 = 60; 1: 9 + 60 = 69; 2: 9 + 60 = 69.
        assert_eq!(
            order(&r),
            vec![
                (2, 1, Some(TieRule::HigherTechnical)),
                (1, 2, Some(TieRule::HigherTechnical)),
                (3, 3, None)
            ]
        );
        assert!(r.draws.is_empty());
        // The same bids in an open tender with no stated method: the technical score does not decide.
        let open = rank(&bids, d("10"), Method::Open, TieBreak::Draw, SEED);
        assert_eq!(open.draws.len(), 1);
        assert_eq!(open.bids[0].tie, Some(TieRule::Draw));
        // … unless the document states it (87号令 Art 57: the method the document states).
        let stated = rank(&bids, d("10"), Method::Open, TieBreak::Technical, SEED);
        assert_eq!(order(&stated), order(&r));
    }

    /// 87号令 Art 57, 68: a full tie is decided by a draw whose seed, keys and result are returned to be
    /// recorded, and which anyone reproduces from the seed: same seed, same result, in whatever order the
    /// bids come; each key is SHA-256 of `seed:receipt`.
    #[test]
    fn art57_full_tie_decided_by_a_recorded_reproducible_draw() {
        let bids = [
            input(41, 10_000_000, "40", "20"),
            input(17, 10_000_000, "40", "20"),
            input(29, 10_000_000, "40", "20"),
            input(5, 12_000_000, "40", "20"),
        ];
        let seed = draw_seed("GD-2026-001", &["aa", "bb", "cc", "dd"]);
        assert_eq!(seed.len(), 64);
        let r = rank(&bids, d("10"), Method::Open, TieBreak::Draw, &seed);
        assert_eq!(r.draws.len(), 1);
        let draw = &r.draws[0];
        assert_eq!(draw.seed, seed);
        assert_eq!(draw.candidates, vec![17, 29, 41]);
        // The key by hand: SHA-256("<seed>:17").
        assert_eq!(
            draw.keys[0],
            hex::encode(Sha256::digest(format!("{seed}:17").as_bytes()))
        );
        let mut by_key: Vec<(String, i64)> = draw
            .keys
            .iter()
            .cloned()
            .zip(draw.candidates.iter().copied())
            .collect();
        by_key.sort();
        assert_eq!(draw.order, by_key.iter().map(|k| k.1).collect::<Vec<_>>());
        let top: Vec<i64> = r.bids[..3].iter().map(|b| b.bid_id).collect();
        assert_eq!(top, draw.order);
        assert!(r.bids[..3].iter().all(|b| b.tie == Some(TieRule::Draw)));
        assert_eq!((r.bids[3].bid_id, r.bids[3].tie), (5, None));
        // A second run, the bids in another order: the same result.
        let mut again = bids.to_vec();
        again.reverse();
        assert_eq!(
            rank(&again, d("10"), Method::Open, TieBreak::Draw, &seed),
            r
        );
        // Another seed (another tender, other commitments) draws independently.
        let other = draw_seed("GD-2026-002", &["aa", "bb", "cc", "dd"]);
        assert_ne!(other, seed);
        // One candidate dropping out leaves the others in their drawn order.
        let fewer: Vec<RankInput> = bids
            .iter()
            .filter(|b| b.bid_id != draw.order[0])
            .cloned()
            .collect();
        let r2 = rank(&fewer, d("10"), Method::Open, TieBreak::Draw, &seed);
        assert_eq!(r2.draws[0].order, draw.order[1..].to_vec());
    }

    /// 87号令 Art 57: the submission time never decides: the ranking is the same whatever receipt numbers
    /// (arrival order) the tied bids carry, but for the draw, whose keys are hashed, not ordered by time.
    #[test]
    fn art57_submission_time_never_decides() {
        // Equal totals, different prices: arrival order reversed changes nothing.
        // 1: ¥125k → 8 + 42 + 20 = 70; 2: ¥100k → 10 + 40 + 20 = 70.
        let early_dear = input(1, 12_500_000, "42", "20");
        let late_cheap = input(2, 10_000_000, "40", "20");
        for bids in [
            vec![early_dear.clone(), late_cheap.clone()],
            vec![late_cheap.clone(), early_dear.clone()],
        ] {
            let r = rank(&bids, d("10"), Method::Open, TieBreak::Draw, SEED);
            assert_eq!(r.bids[0].bid_id, 2);
        }
        // A full tie: over many seeds the earlier receipt wins about half the draws, not all of them.
        let tied = [
            input(1, 10_000_000, "40", "20"),
            input(2, 10_000_000, "40", "20"),
        ];
        let first_wins = (0..200)
            .filter(|s| {
                let seed = draw_seed(&format!("T{s}"), &[]);
                rank(&tied, d("10"), Method::Open, TieBreak::Draw, &seed).bids[0].bid_id == 1
            })
            .count();
        assert!((70..=130).contains(&first_wins), "{first_wins} of 200");
    }
}
