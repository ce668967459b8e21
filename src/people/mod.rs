//! People served (issue 12; docs/PEOPLE.md): the people an organisation registers (`beneficiaries`), the
//! activities it records under its contracts (`activities`, with an all-or-nothing CSV import), the counts
//! (`counts`: 人次 and 人数 as `domain::people` defines them, read from the running tallies of `reach`
//! where they serve) and the flags on them (`flags`).
//!
//! No identity number is ever stored: it is checked, hashed with the beneficiary secret and dropped. The
//! hash and any name stay in the database; no view here returns them, and only the serving organisation
//! sees its own people's pseudonyms and names.

pub mod activities;
pub mod beneficiaries;
pub mod counts;
pub mod flags;
pub mod reach;
pub mod synthetic;

use chrono::NaiveDate;
use diesel::dsl::{count, count_star, sum};
use diesel::prelude::AggregateExpressionMethods;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{activities as ac, participations as pa};
use crate::domain::people::Count;
use crate::error::AppError;

/// What the people-served services need from the configuration.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub settings: crate::domain::people::Settings,
    /// The key of the identity numbers' keyed hash.
    pub secret: crate::config::Secret,
}

impl Ctx {
    pub fn from_config(c: &crate::config::Config) -> Ctx {
        Ctx {
            settings: c.people.clone(),
            secret: c.beneficiary_secret.clone(),
        }
    }
}

/// What a contract has delivered by a date: 人次 and 人数 (`domain::people::Count`), activities held
/// (活动/小组节数) and volunteer minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Achieved {
    pub count: Count,
    pub sessions: i64,
    pub volunteer_minutes: i64,
}

/// A contract's delivery from its start up to and including `upto`.
pub fn achieved(conn: &mut DbConn, contract: i64, upto: NaiveDate) -> Result<Achieved, AppError> {
    let (sessions, anonymous, volunteer_minutes): (i64, Option<i64>, Option<i64>) = ac::table
        .filter(ac::contract_id.eq(contract))
        .filter(ac::held_on.le(upto))
        .select((count_star(), sum(ac::anonymous), sum(ac::volunteer_minutes)))
        .first(conn)?;
    // Counting up to a date needs the activities' dates; when nothing of the contract is later (the usual
    // case: up to today) the participations alone answer, over their (contract_id, person_id) index.
    let last: Option<NaiveDate> = ac::table
        .filter(ac::contract_id.eq(contract))
        .select(diesel::dsl::max(ac::held_on))
        .first(conn)?;
    let (registered, people): (i64, i64) = if last.is_none_or(|l| l <= upto) {
        pa::table
            .filter(pa::contract_id.eq(contract))
            .select((count_star(), count(pa::person_id).aggregate_distinct()))
            .first(conn)?
    } else {
        pa::table
            .inner_join(ac::table)
            .filter(pa::contract_id.eq(contract))
            .filter(ac::held_on.le(upto))
            .select((count_star(), count(pa::person_id).aggregate_distinct()))
            .first(conn)?
    };
    Ok(Achieved {
        count: Count::new(registered, anonymous.unwrap_or(0), people),
        sessions,
        volunteer_minutes: volunteer_minutes.unwrap_or(0),
    })
}
