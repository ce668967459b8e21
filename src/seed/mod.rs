//! Demo data for a fresh installation: the staff accounts, then the registry of the seed district (Guandu,
//! DOMAIN.md): streets and communities, organisations with their standing and social workers, one `org`
//! account per registered organisation, incubation bases and incubation records in every state; then the
//! tenders (`tenders`), the budget appropriations of 2017–2026 on the ledger (`ledger`) and the history's
//! contracts with their acceptances and payments (`contracts`). Seeding happens only on a database without
//! users, in one transaction.
//!
//! All demo data lives in this tree: the entry points here, the registry's in `registry`, the tenders' in
//! `tenders`. The service functions the seeds call (`registry::bases::create`, `registry::orgs::insert_clean`,
//! …) stay in their services.

pub mod contracts;
pub mod evidence;
pub mod ledger;
pub mod people;
pub mod registry;
pub mod tenders;

use crate::audit::Actor;
use crate::auth::password;
use crate::db::DbConn;
use crate::error::AppError;
use crate::users::{self, NewUser};

/// (username, display name, role)
pub const DEMO_ACCOUNTS: &[(&str, &str, &str)] = &[
    ("admin", "系统管理员", "admin"),
    ("bureau", "区民政局 李科长", "bureau"),
    ("finance", "区财政局 王会计", "finance"),
    ("evaluator1", "评审专家 赵一", "evaluator"),
    ("evaluator2", "评审专家 钱二", "evaluator"),
    ("evaluator3", "评审专家 孙三", "evaluator"),
    ("evaluator4", "评审专家 周四", "evaluator"),
    ("evaluator5", "评审专家 吴五", "evaluator"),
];

pub struct SeedOutcome {
    /// False when the database already had users and nothing was done.
    pub seeded: bool,
    /// The password, when it was generated here (print it once; it is stored only as a hash).
    pub generated_password: Option<String>,
}

/// Staff accounts, the registry, the tenders, budgets and contracts, and the people served under them (the
/// full demo of `serve --demo` / `seed --demo`). The registry's business calendar is the tenders'
/// (`tenders.cal`).
pub fn seed_demo(
    conn: &mut DbConn,
    mailer: &crate::mail::Settings,
    now: chrono::DateTime<chrono::Utc>,
    password: Option<&str>,
    beneficiary_secret: &str,
    tenders: &crate::tenders::Ctx,
    contracts: &crate::contracts::Ctx,
) -> Result<SeedOutcome, AppError> {
    seed_demo_with(
        conn,
        mailer,
        now,
        password,
        beneficiary_secret,
        tenders,
        contracts,
        true,
    )
}

/// As [`seed_demo`]; without the people served when `people` is false (the benchmarks, which make their
/// own, and tests that need no activities).
#[allow(clippy::too_many_arguments)]
pub fn seed_demo_with(
    conn: &mut DbConn,
    mailer: &crate::mail::Settings,
    now: chrono::DateTime<chrono::Utc>,
    password: Option<&str>,
    beneficiary_secret: &str,
    tenders: &crate::tenders::Ctx,
    contracts: &crate::contracts::Ctx,
    people: bool,
) -> Result<SeedOutcome, AppError> {
    crate::db::write_tx(conn, |conn| {
        let out = seed_staff(conn, mailer, now, password)?;
        if out.seeded {
            let pw = password
                .map(str::to_string)
                .or_else(|| out.generated_password.clone())
                .unwrap_or_default();
            seed_registry(conn, now, &pw, beneficiary_secret, &tenders.cal)?;
            // Separate from `seed_registry`, which tests load on its own: bids are sealed under the
            // configured key, so the tenders need the tender context.
            self::tenders::seed_demo(conn, tenders, now)?;
            // The budgets of 2017–2026, posted to the ledger.
            self::ledger::seed_demo(conn, now)?;
            // The history's contracts, signed, accepted and paid at their dates on those budgets.
            let c = self::contracts::seed_demo(conn, contracts, now)?;
            tracing::info!(
                contracts = c.contracts,
                payments = c.payments,
                spending_items = c.spending_items,
                "seeded the demo contracts"
            );
            if people {
                // People served under the signed contracts (issue 12).
                let p = self::people::seed_demo(conn, now, beneficiary_secret)?;
                tracing::info!(
                    activities = p.activities,
                    participations = p.participations,
                    "seeded the demo people served"
                );
            }
        }
        Ok(out)
    })
}

/// The registry of the seed district; the `org` accounts get `password` (hashed once for all of them).
pub fn seed_registry(
    conn: &mut DbConn,
    now: chrono::DateTime<chrono::Utc>,
    password: &str,
    beneficiary_secret: &str,
    calendar: &crate::domain::calendar::BusinessCalendar,
) -> Result<(), AppError> {
    use self::registry::{areas, bases, incubations, orgs};
    let hash = password::hash(password).map_err(AppError::internal)?;
    crate::db::write_tx(conn, |conn| {
        areas::seed_demo(conn)?;
        orgs::seed_demo(conn, now, beneficiary_secret)?;
        orgs::seed_org_users(conn, now, &hash)?;
        bases::seed_demo(conn, now, calendar)?;
        incubations::seed_incubations(conn, now, calendar)?;
        Ok(())
    })
}

/// The staff accounts only.
pub fn seed_staff(
    conn: &mut DbConn,
    mailer: &crate::mail::Settings,
    now: chrono::DateTime<chrono::Utc>,
    password: Option<&str>,
) -> Result<SeedOutcome, AppError> {
    if users::any_exist(conn)? {
        return Ok(SeedOutcome {
            seeded: false,
            generated_password: None,
        });
    }
    let generated = password.is_none().then(password::generate);
    let pw = password
        .map(str::to_string)
        .or_else(|| generated.clone())
        .expect("one of them");
    let actor = Actor::system("seed");
    crate::db::write_tx(conn, |conn| {
        for (username, name, role) in DEMO_ACCOUNTS {
            users::create(
                conn,
                &actor,
                now,
                mailer,
                &NewUser {
                    username: username.to_string(),
                    display_name: name.to_string(),
                    email: Some(format!("{username}@demo.sanshe.local")),
                    role: role.to_string(),
                    org_id: None,
                    password: pw.clone(),
                },
            )?;
        }
        Ok::<_, AppError>(())
    })?;
    Ok(SeedOutcome {
        seeded: true,
        generated_password: generated,
    })
}
