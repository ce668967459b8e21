//! Facts an organisation states about itself that decide whether it may bid or how it scores: they count
//! only once the bureau has verified them, so an organisation refused for a fact cannot simply type a
//! better one and be eligible at once. Its staff count (which the certified-share rule divides by) and its
//! identity wait as a change request (`registry::changes`); a social worker's certificate waits here.

use chrono::NaiveDate;

/// What of a social worker eligibility and scoring read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFacts<'a> {
    pub organisation_id: i64,
    pub certificate_level: &'a str,
    pub certificate_number: Option<&'a str>,
    pub certified_on: Option<NaiveDate>,
    pub employment: &'a str,
}

/// Does a verified worker stay verified after an organisation's edit? Not when the certificate (level,
/// number, date) changes, the worker moves, or a departed worker comes back: each is a new claim the bureau
/// has not seen. A name, phone or street change, or a departure, claims nothing more.
pub fn stays_verified(before: &WorkerFacts, after: &WorkerFacts) -> bool {
    before.organisation_id == after.organisation_id
        && before.certificate_level == after.certificate_level
        && before.certificate_number == after.certificate_number
        && before.certified_on == after.certified_on
        && !(before.employment == "left" && after.employment != "left")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w<'a>(level: &'a str, number: Option<&'a str>, employment: &'a str) -> WorkerFacts<'a> {
        WorkerFacts {
            organisation_id: 1,
            certificate_level: level,
            certificate_number: number,
            certified_on: NaiveDate::from_ymd_opt(2024, 6, 1),
            employment,
        }
    }

    #[test]
    fn a_new_certificate_claim_waits_for_the_bureau() {
        let before = w("assistant", Some("A1"), "full_time");
        assert!(stays_verified(&before, &before.clone()));
        assert!(stays_verified(
            &before,
            &w("assistant", Some("A1"), "part_time")
        ));
        assert!(stays_verified(&before, &w("assistant", Some("A1"), "left")));
        assert!(!stays_verified(
            &before,
            &w("senior", Some("A1"), "full_time")
        ));
        assert!(!stays_verified(
            &before,
            &w("assistant", Some("A2"), "full_time")
        ));
        assert!(!stays_verified(&before, &w("assistant", None, "full_time")));
        let mut later = before.clone();
        later.certified_on = NaiveDate::from_ymd_opt(2025, 1, 1);
        assert!(!stays_verified(&before, &later));
        let mut moved = before.clone();
        moved.organisation_id = 2;
        assert!(!stays_verified(&before, &moved));
        let left = w("assistant", Some("A1"), "left");
        assert!(!stays_verified(
            &left,
            &w("assistant", Some("A1"), "full_time")
        ));
    }
}
