//! The evaluation panel's composition and the recorded random draw of its experts (87号令 Art 47–48;
//! 实施条例 Art 39).

use sha2::{Digest, Sha256};

use super::*;

/// What a panel seat is: an expert drawn from the pool (评审专家) or the buyer's representative (采购人代表).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Seat {
    Expert,
    BuyerRep,
}

impl Seat {
    pub fn as_str(self) -> &'static str {
        match self {
            Seat::Expert => "expert",
            Seat::BuyerRep => "buyer_rep",
        }
    }
    pub fn parse(s: &str) -> Option<Seat> {
        [Seat::Expert, Seat::BuyerRep]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Seat::Expert, true) => "评审专家",
            (Seat::Expert, false) => "Expert",
            (Seat::BuyerRep, true) => "采购人代表",
            (Seat::BuyerRep, false) => "Buyer's representative",
        }
    }
}

/// Check a panel's seated members (recused ones left out): its size and oddness for the method and budget
/// ([`panel_ok`], 87号令 Art 47), and the buyer's representatives at most a third of it, so the experts
/// are at least two thirds (87号令 Art 47). Fields are the panel request's: `draw_experts` for the size,
/// `buyer_rep_ids` for the share.
pub fn check_panel(
    method: Method,
    budget: impl Into<Fen>,
    experts: usize,
    reps: usize,
) -> Vec<Broken> {
    let mut out = Vec::new();
    let budget = budget.into();
    let n = experts + reps;
    if !panel_ok(method, budget, n) {
        let min = min_panel(method, budget);
        out.push(broken(
            "draw_experts",
            "panel_size",
            format!(
                "{}的评审委员会至少 {min} 人且为单数（现为 {n} 人）（政府采购货物和服务招标投标管理办法第四十七条）。",
                method.label(true)
            ),
            format!(
                "A panel for {} has at least {min} members, an odd number (now {n}); MOF Order 87 Art 47.",
                method.label(false).to_lowercase()
            ),
        ));
    }
    if reps * 3 > n {
        out.push(broken(
            "buyer_rep_ids",
            "buyer_reps_third",
            format!(
                "采购人代表不得超过评审委员会成员总数的三分之一，评审专家不得少于三分之二（现为 {n} 人中 {reps} 名采购人代表；政府采购货物和服务招标投标管理办法第四十七条）。"
            ),
            format!(
                "The buyer's representatives may be at most a third of the panel, the experts at least two thirds (now {reps} of {n}; MOF Order 87 Art 47)."
            ),
        ));
    }
    out
}

/// A draw of experts from the pool: anyone holding the seed recomputes it with SHA-256 alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PanelDraw {
    /// Hex SHA-256 the keys derive from ([`panel_draw_seed`]).
    pub seed: String,
    /// The pool drawn from, by user id (ascending): active evaluators not seated and linked to no bidder.
    pub candidates: Vec<i64>,
    /// Each candidate's key, in `candidates`' order: hex SHA-256 of `seed:user_id` ([`panel_draw_key`]).
    pub keys: Vec<String>,
    /// Who was drawn: the candidates with the lowest keys, lowest first.
    pub drawn: Vec<i64>,
}

/// The seed of a panel draw: SHA-256 over the tender's code and 32 random bytes (hex) the server takes at
/// the draw. The random part keeps the buyer from choosing a moment that draws the experts it wants; the
/// seed is recorded and public, so the draw can be checked afterwards.
pub fn panel_draw_seed(tender_code: &str, nonce_hex: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"sanshe panel draw v1\n");
    h.update(tender_code.as_bytes());
    h.update(b"\n");
    h.update(nonce_hex.as_bytes());
    hex::encode(h.finalize())
}

/// A candidate's key in a panel draw: hex SHA-256 of `seed:user_id` (as `printf '%s:%d' SEED ID | sha256sum`).
pub fn panel_draw_key(seed: &str, user_id: i64) -> String {
    hex::encode(Sha256::digest(format!("{seed}:{user_id}")))
}

/// Draw `n` experts at random from `candidates` (实施条例 Art 39; 87号令 Art 48): the `n` lowest keys
/// ([`panel_draw_key`]) win. The result depends on the seed and the set of candidates only, not on their
/// order; `None` when the pool holds fewer than `n`.
pub fn draw_experts(seed: &str, candidates: &[i64], n: usize) -> Option<PanelDraw> {
    let mut candidates = candidates.to_vec();
    candidates.sort_unstable();
    candidates.dedup();
    if candidates.len() < n {
        return None;
    }
    let keys: Vec<String> = candidates
        .iter()
        .map(|c| panel_draw_key(seed, *c))
        .collect();
    let mut by_key: Vec<(&String, i64)> = keys.iter().zip(candidates.iter().copied()).collect();
    by_key.sort();
    let drawn = by_key.into_iter().take(n).map(|(_, c)| c).collect();
    Some(PanelDraw {
        seed: seed.to_string(),
        candidates,
        keys,
        drawn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 87号令 Art 47: the buyer's representatives are at most a third of the panel (experts at least two
    /// thirds), on top of the size rules.
    #[test]
    fn panel_buyer_reps_at_most_a_third_87_art_47() {
        let b = Fen::new(20_000_000);
        assert!(check_panel(Method::Open, b, 5, 0).is_empty());
        assert!(check_panel(Method::Open, b, 4, 1).is_empty());
        let e = check_panel(Method::Open, b, 3, 2);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].field.as_str(), e[0].rule),
            ("buyer_rep_ids", "buyer_reps_third")
        );
        assert!(e[0].zh.contains("三分之一") && e[0].en.contains("Art 47"));
        // A third exactly is allowed: 1 of 3, 2 of 7 (not 3 of 7).
        assert!(check_panel(Method::Consultation, b, 2, 1).is_empty());
        assert!(check_panel(Method::Open, LARGE_PANEL_FROM, 5, 2).is_empty());
        assert_eq!(
            check_panel(Method::Open, LARGE_PANEL_FROM, 4, 3)[0].rule,
            "buyer_reps_third"
        );
        // The size rules still hold, and both are reported at once.
        let e = check_panel(Method::Open, b, 2, 2);
        let rules: Vec<_> = e.iter().map(|x| x.rule).collect();
        assert_eq!(rules, vec!["panel_size", "buyer_reps_third"]);
        assert_eq!(
            check_panel(Method::Open, LARGE_PANEL_FROM, 5, 0)[0].rule,
            "panel_size"
        );
    }

    /// 实施条例 Art 39, 87号令 Art 48: experts are drawn at random from the pool, and the draw is recorded
    /// so that anyone recomputes it from its seed: same seed and pool, same experts, in any order.
    #[test]
    fn panel_experts_drawn_at_random_reproducibly_implementing_regs_art_39() {
        let seed = panel_draw_seed("GD-2026-001", &"ab".repeat(32));
        assert_eq!(seed.len(), 64);
        let pool = [11, 4, 7, 30, 22, 15, 9];
        let d = draw_experts(&seed, &pool, 5).unwrap();
        assert_eq!(d.candidates, vec![4, 7, 9, 11, 15, 22, 30]);
        assert_eq!(d.drawn.len(), 5);
        assert_eq!(
            d.keys[0],
            hex::encode(Sha256::digest(format!("{seed}:4").as_bytes()))
        );
        let mut by_key: Vec<(String, i64)> =
            d.keys.iter().cloned().zip(d.candidates.clone()).collect();
        by_key.sort();
        assert_eq!(d.drawn, by_key[..5].iter().map(|k| k.1).collect::<Vec<_>>());
        // Reproduced from the record, the pool in another order.
        let mut again = pool.to_vec();
        again.reverse();
        assert_eq!(draw_experts(&seed, &again, 5).unwrap(), d);
        // Another nonce draws independently; over many seeds every candidate is drawn sometimes.
        let mut seen = std::collections::HashSet::new();
        for i in 0..50 {
            let s = panel_draw_seed("GD-2026-001", &format!("{i:064}"));
            seen.extend(draw_experts(&s, &pool, 1).unwrap().drawn);
        }
        assert_eq!(seen.len(), pool.len());
        // Too small a pool draws nothing.
        assert!(draw_experts(&seed, &pool, 8).is_none());
        assert_eq!(
            draw_experts(&seed, &pool, 0).unwrap().drawn,
            Vec::<i64>::new()
        );
    }
}
