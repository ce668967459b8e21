//! The rows the seeder writes in batches, and the plan of one tender's run through the life cycle.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Rows.

#[derive(Insertable)]
#[diesel(table_name = tenders, treat_none_as_default_value = false)]
pub(super) struct NewTender {
    pub(super) code: String,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) field: String,
    pub(super) communities: String,
    pub(super) budget_fen: i64,
    pub(super) method: String,
    pub(super) term_months: i32,
    pub(super) term_reason: Option<String>,
    pub(super) eligibility: String,
    pub(super) criteria: String,
    pub(super) targets: String,
    pub(super) instalments: String,
    pub(super) invited: String,
    pub(super) state: String,
    pub(super) published_at: Option<NaiveDateTime>,
    pub(super) enquiry_deadline: NaiveDateTime,
    pub(super) bid_deadline: NaiveDateTime,
    pub(super) opening_at: NaiveDateTime,
    pub(super) evaluated_at: Option<NaiveDateTime>,
    pub(super) publicity_ends: Option<NaiveDateTime>,
    pub(super) challenge_ends: Option<NaiveDateTime>,
    pub(super) awarded_at: Option<NaiveDateTime>,
    pub(super) contract_signed_on: Option<NaiveDate>,
    pub(super) end_reason: Option<String>,
    pub(super) created_by: i64,
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
    pub(super) result_published_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = bids, treat_none_as_default_value = false)]
pub(super) struct NewBid {
    pub(super) tender_id: i64,
    pub(super) organisation_id: i64,
    pub(super) submitted_by: i64,
    pub(super) status: String,
    pub(super) submitted_at: NaiveDateTime,
    pub(super) idem_key: String,
    pub(super) request_hash: String,
    pub(super) sealed: Vec<u8>,
    pub(super) seal_nonce: Vec<u8>,
    pub(super) commitment: String,
    pub(super) commit_scheme: i32,
    pub(super) opened_json: Option<String>,
    pub(super) commit_nonce: Option<String>,
    pub(super) price_fen: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = tender_events, treat_none_as_default_value = false)]
pub(super) struct NewEvent {
    pub(super) tender_id: i64,
    pub(super) at: NaiveDateTime,
    pub(super) from_state: Option<String>,
    pub(super) to_state: String,
    pub(super) note: Option<String>,
    pub(super) actor_name: String,
}

#[derive(Insertable)]
#[diesel(table_name = panel_members, treat_none_as_default_value = false)]
pub(super) struct NewMember {
    pub(super) tender_id: i64,
    pub(super) user_id: i64,
    pub(super) added_at: NaiveDateTime,
    pub(super) declaration: Option<String>,
    pub(super) declaration_note: Option<String>,
    pub(super) declared_at: Option<NaiveDateTime>,
    pub(super) submitted_at: Option<NaiveDateTime>,
}

/// A panel's recorded draw (87号令 Art 48), as `tenders::evaluation::form_panel` records a live one.
#[derive(Insertable)]
#[diesel(table_name = panel_draws)]
pub(super) struct NewDraw {
    pub(super) tender_id: i64,
    pub(super) drawn_at: NaiveDateTime,
    pub(super) seed: String,
    pub(super) candidates: String,
    pub(super) drawn: String,
    pub(super) actor_name: String,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = bid_scores)]
pub(super) struct NewScore {
    pub(super) bid_id: i64,
    pub(super) evaluator_id: i64,
    pub(super) criterion: String,
    pub(super) points_centi: i64,
}

#[derive(Insertable)]
#[diesel(table_name = tender_streets)]
pub(super) struct NewArea {
    pub(super) tender_id: i64,
    pub(super) street_id: i64,
}

/// What is sealed with a bid: the same JSON shape as `bids::Payload` (content, nonce, attachment bodies),
/// so `bids::open_all` and the commitment check read these bids like any submitted one.
#[derive(Serialize)]
pub(super) struct SealedPayload<'a> {
    pub(super) content: &'a str,
    pub(super) nonce: &'a str,
    pub(super) files: &'a [String],
}

/// A tender as drafted.
#[derive(Clone, Debug)]
pub(super) struct Plan {
    pub(super) field: &'static str,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) street_ids: Vec<i64>,
    pub(super) community_ids: Vec<i64>,
    pub(super) budget_fen: i64,
    pub(super) method: Method,
    pub(super) term_months: i32,
    pub(super) term_reason: Option<String>,
    pub(super) eligibility: Eligibility,
    pub(super) criteria: Criteria,
    pub(super) targets: Targets,
    pub(super) invited: Vec<i64>,
}

/// Where a tender has got to, with the bids and panel that took it there.
pub(super) struct Run {
    pub(super) plan: Plan,
    pub(super) times: Times,
    pub(super) target: State,
    /// Indices into `World::orgs`, in order of submission.
    pub(super) bidders: Vec<usize>,
    pub(super) prices: Vec<i64>,
    /// Index into `bidders` of the bid the panel ranks first.
    pub(super) winner: usize,
    pub(super) panel: usize,
    pub(super) seed: u64,
}

pub(super) fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("plain values serialise")
}

/// Whether a tender heading for `target` passed through `s` (failed tenders stop after opening).
pub(super) fn reached(target: State, s: State) -> bool {
    match target {
        State::Failed => matches!(
            s,
            State::Draft | State::Published | State::Closed | State::Opened
        ),
        State::Cancelled => matches!(s, State::Draft | State::Published),
        _ => s <= target,
    }
}

/// When a tender in `state` on schedule `t` last changed (its `updated_at`): its last step, or the first
/// score while evaluating. A cancellation's time is not on the schedule; it is set where it happens.
pub(super) fn last_change(state: State, t: &Times) -> NaiveDateTime {
    match state {
        State::Draft | State::Cancelled => t.created,
        State::Published => t.published,
        State::Closed => t.bid_deadline,
        State::Opened | State::Failed => t.opening,
        State::Evaluating => t.evaluating + FIRST_SCORE,
        State::Evaluated => t.evaluated,
        State::AwardProposed => t.award_proposed,
        State::Publicity => t.publicity_start,
        State::Challenge => t.publicity_ends,
        State::Awarded => t.challenge_ends,
        State::Contracted => t.contracted,
    }
}
