//! The evaluation panel, conflict declarations, scoring, the ranking and its report; the award with its
//! publicity period and challenge window; challenges; and the fall-back to the next-ranked bid.
//!
//! By action: `panel` (evaluator links, the panel, declarations), `scoring` (the sheet, scores, ranking,
//! report), `award` (confirm, publish the result, disqualify, a winner's refusal to sign, pass the award
//! on, finalise, the result notice), `challenge` (filed against the documents, the process or the result within its window, assessed,
//! answered, and what an open one suspends); all re-exported here; `negotiation` (竞争性谈判: origin,
//! compliance, rounds and final quotes, the award's price) by its own name.
//!
//! A single source (单一来源) takes another path: no panel and no scoring (the panel steps refuse it with 409
//! `no_panel`); after the opening the bureau's negotiation record (`crate::tenders::single_source`, 74号令
//! Art 42) moves it from opened to evaluated, the ranking is its one response at the agreed price,
//! `negotiation::award_price` returns that price, and the result notice names the negotiating staff
//! instead of evaluators. Award, result, challenges and contract are then the ones every method uses.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::bids::{self, BidContent};
use super::{
    AwardLetter, Ctx, ResultNotice, ScoreLine, TenderRow, find_row, move_state, today, wrong_state,
};
use crate::audit::{self, Actor};
use crate::db::schema::{
    award_refusals, bid_scores, bids as bt, challenges, evaluator_links, organisations,
    panel_draws, panel_members, tenders, users,
};
use crate::db::{DbConn, write_tx};
use crate::domain::tender::{self as rules, Category, RankInput, Ranked, State};
use crate::error::{AppError, Checks};
use crate::mail::templates as mails;

mod award;
mod challenge;
pub mod negotiation;
mod panel;
mod scoring;

pub use award::*;
pub use challenge::*;
pub use panel::*;
pub use scoring::*;

/// The content of a bid, for templates.
pub fn content_lines(c: &BidContent, zh: bool) -> Vec<(String, String)> {
    c.budget
        .iter()
        .map(|l| {
            (
                c.line_label(&l.line, zh).to_string(),
                crate::money::yuan_grouped(l.amount_fen),
            )
        })
        .collect()
}
