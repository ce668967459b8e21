//! The district at a glance, for the public home page: its registered organisations, incubation bases,
//! purchased projects and their funds, the tenders open for bids and the latest notices and results. Only
//! what is already public elsewhere (the directory, the bases, published tenders and their results).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{bases, contracts, organisations, payments, tenders};
use crate::error::AppError;
use crate::tenders::{Ctx, TenderFilter, TenderSummary};

/// The district's figures.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Registered social organisations (the public directory).
    pub organisations: i64,
    /// Incubation bases at every level.
    pub bases: i64,
    /// Purchased projects: contracts signed.
    pub projects: i64,
    /// The contracts' amounts, in fen.
    pub funds_fen: i64,
    /// Paid on them so far, in fen.
    pub paid_fen: i64,
}

/// A notice the public reads: a tender's announcement or its result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, Queryable)]
pub struct Notice {
    pub tender_id: i64,
    pub code: String,
    pub title: String,
    /// When it was published (UTC).
    pub at: NaiveDateTime,
}

/// The home page's content.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Home {
    pub figures: Figures,
    /// Tenders still taking bids, the nearest deadline first.
    pub open: Vec<TenderSummary>,
    /// The latest tender announcements, newest first.
    pub notices: Vec<Notice>,
    /// The latest result notices (中标/成交结果公告), newest first.
    pub results: Vec<Notice>,
}

/// How many of each list the home page shows.
pub const LATEST: i64 = 6;

pub fn figures(conn: &mut DbConn) -> QueryResult<Figures> {
    let organisations = organisations::table
        .filter(organisations::registration.eq("registered"))
        .count()
        .get_result(conn)?;
    let bases = bases::table.count().get_result(conn)?;
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back, as amounts in fen stay whole.
    let total = || {
        diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(
            "CAST(SUM(amount_fen) AS BIGINT)",
        )
    };
    let projects = contracts::table.count().get_result(conn)?;
    let funds: Option<i64> = contracts::table.select(total()).first(conn)?;
    let paid: Option<i64> = payments::table.select(total()).first(conn)?;
    Ok(Figures {
        organisations,
        bases,
        projects,
        funds_fen: funds.unwrap_or(0),
        paid_fen: paid.unwrap_or(0),
    })
}

/// Everything the home page shows.
pub fn home(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>) -> Result<Home, AppError> {
    let open_filter = TenderFilter {
        state: Some("open".into()),
        per_page: Some(100),
        ..Default::default()
    };
    let mut open = crate::tenders::list(conn, ctx, now, &open_filter, false)?.items;
    open.sort_by_key(|t| (t.bid_deadline, t.id));
    open.truncate(LATEST as usize);
    let notices = tenders::table
        .filter(tenders::state.ne("draft"))
        .filter(tenders::published_at.is_not_null())
        .order((tenders::published_at.desc(), tenders::id.desc()))
        .limit(LATEST)
        .select((
            tenders::id,
            tenders::code,
            tenders::title,
            tenders::published_at.assume_not_null(),
        ))
        .load(conn)?;
    let results = tenders::table
        .filter(tenders::result_published_at.is_not_null())
        .order((tenders::result_published_at.desc(), tenders::id.desc()))
        .limit(LATEST)
        .select((
            tenders::id,
            tenders::code,
            tenders::title,
            tenders::result_published_at.assume_not_null(),
        ))
        .load(conn)?;
    Ok(Home {
        figures: figures(conn)?,
        open,
        notices,
        results,
    })
}
