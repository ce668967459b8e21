//! An organisation's standing: `eligible`, `flagged` or `barred`, with every reason listed. Computed from the
//! registry's facts, never typed in. Tender eligibility calls the same function.
//!
//! Rules (DOMAIN.md, Organisations): a live listing on the serious-dishonesty list, as a court defaulter, on
//! the procurement debarment list or on the major tax-dishonesty list bars; the abnormal-activity list flags (bars when configured); no annual
//! inspection or report for last year flags once it is due (31 May for 社会团体 and 民办非企业单位, 31 March for
//! 基金会, configurable; before that the year before's report counts), and so does a 不合格 conclusion for that
//! year; an organisation without a credit code is barred from bidding. There is no minimum age. The rating is
//! the latest decision's grade (民政部令第39号 Art 30: a downgrade replaces the earlier grade); an expired
//! rating counts as none.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::domain::vocab::Vocab;

/// How an organisation is registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    Registered,
    Filed,
    Unregistered,
}

/// The public lists an organisation can be on (DOMAIN.md, Organisations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    Dishonesty,
    CourtDefaulter,
    Debarment,
    Abnormal,
    /// 重大税收违法失信主体 (财库〔2016〕125号): bars, as the dishonesty lists do.
    TaxDishonesty,
}

impl ListKind {
    pub const ALL: [ListKind; 5] = [
        ListKind::Dishonesty,
        ListKind::CourtDefaulter,
        ListKind::Debarment,
        ListKind::Abnormal,
        ListKind::TaxDishonesty,
    ];
    /// Keys and labels, in `ALL` order: the one table forms, imports and reasons read.
    pub const VOCAB: Vocab = &[
        ("dishonesty", "严重违法失信名单", "Serious-dishonesty list"),
        ("court_defaulter", "失信被执行人", "Court defaulters' list"),
        (
            "debarment",
            "政府采购禁入名单",
            "Procurement debarment list",
        ),
        ("abnormal", "活动异常名录", "Abnormal-activity list"),
        (
            "tax_dishonesty",
            "重大税收违法失信主体名单",
            "Major tax-dishonesty list",
        ),
    ];
    pub fn parse(s: &str) -> Option<ListKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        Self::VOCAB[self as usize].0
    }
    pub fn label(self, zh: bool) -> &'static str {
        let (_, z, e) = Self::VOCAB[self as usize];
        if zh { z } else { e }
    }
}

/// An annual inspection's conclusion (年检结论).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conclusion {
    Pass,
    BasicPass,
    Fail,
}

impl Conclusion {
    pub const ALL: [Conclusion; 3] = [Conclusion::Pass, Conclusion::BasicPass, Conclusion::Fail];
    /// Keys and labels, in `ALL` order.
    pub const VOCAB: Vocab = &[
        ("pass", "合格", "Pass"),
        ("basic_pass", "基本合格", "Basic pass"),
        ("fail", "不合格", "Fail"),
    ];
    pub fn parse(s: &str) -> Option<Conclusion> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        Self::VOCAB[self as usize].0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatingFact {
    /// 1–5 (1A–5A); `None` for a revocation (撤销等级, 民政部令第39号 Art 30).
    pub grade: Option<i32>,
    pub awarded_on: NaiveDate,
    pub expires_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectionFact {
    pub year: i32,
    pub conclusion: Conclusion,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingFact {
    pub list: ListKind,
    pub listed_on: NaiveDate,
    pub removed_on: Option<NaiveDate>,
}

impl ListingFact {
    /// In force on `today`: listed by then and not yet removed.
    pub fn in_force(&self, today: NaiveDate) -> bool {
        self.listed_on <= today && self.removed_on.is_none_or(|r| r > today)
    }
}

/// Everything the rules look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub registration: Registration,
    /// A 基金会 (its annual report is due earlier).
    pub foundation: bool,
    /// The registration date, when known: no report is due for a year before it.
    pub registered_on: Option<NaiveDate>,
    pub has_credit_code: bool,
    pub ratings: Vec<RatingFact>,
    pub inspections: Vec<InspectionFact>,
    pub listings: Vec<ListingFact>,
}

/// Settings that vary by province or programme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// The abnormal-activity list bars instead of flagging (default: flag).
    pub abnormal_bars: bool,
    /// (month, day) by which last year's annual report is due: 社会团体 and 民办非企业单位 (31 May) …
    pub report_due: (u32, u32),
    /// … and 基金会 (31 March).
    pub foundation_report_due: (u32, u32),
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            abnormal_bars: false,
            report_due: (5, 31),
            foundation_report_due: (3, 31),
        }
    }
}

/// Read a due day `MM-DD` (e.g. `05-31`); 29 February is refused, as it is not every year's.
pub fn parse_due(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.trim().split_once('-')?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    NaiveDate::from_ymd_opt(2025, m, d).map(|_| (m, d))
}

/// The last year whose annual report is due on `today`: last year once its due day has passed, the year
/// before until then.
pub fn report_year(today: NaiveDate, foundation: bool, rules: Rules) -> i32 {
    let (m, d) = if foundation {
        rules.foundation_report_due
    } else {
        rules.report_due
    };
    let due = NaiveDate::from_ymd_opt(today.year(), m, d).unwrap_or(today);
    if today > due {
        today.year() - 1
    } else {
        today.year() - 2
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Eligible,
    Flagged,
    Barred,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Eligible => "eligible",
            Status::Flagged => "flagged",
            Status::Barred => "barred",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "eligible" => Status::Eligible,
            "flagged" => Status::Flagged,
            "barred" => Status::Barred,
            _ => return None,
        })
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Eligible => "正常",
            Status::Flagged => "需关注",
            Status::Barred => "禁止参与",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Status::Eligible => "Eligible",
            Status::Flagged => "Flagged",
            Status::Barred => "Barred",
        }
    }
}

/// One reason for a standing, with its weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    /// Stable code: `dishonesty`, `court_defaulter`, `debarment`, `abnormal`, `tax_dishonesty`, `no_annual_report`,
    /// `annual_fail`, `no_credit_code`.
    pub code: &'static str,
    /// The status this reason alone leads to.
    pub status: Status,
    pub zh: String,
    pub en: String,
    #[schema(value_type = Option<String>)]
    pub since: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub status: Status,
    pub reasons: Vec<Reason>,
}

/// The grade on `today`: the latest rating decision awarded on or before it, unless expired (民政部令第39号
/// Art 30: a downgrade or a revocation replaces the earlier grade, whatever grade came before; after a
/// revocation there is none). Decisions of one day: the last recorded (`ratings` in recorded order).
pub fn current_rating(ratings: &[RatingFact], today: NaiveDate) -> Option<i32> {
    ratings
        .iter()
        .enumerate()
        .filter(|(_, r)| r.awarded_on <= today)
        .max_by_key(|(i, r)| (r.awarded_on, *i))
        .filter(|(_, r)| today < r.expires_on)
        .and_then(|(_, r)| r.grade)
}

/// A revocation (撤销等级, 民政部令第39号 Art 30) is a decision of its own: it states its reason, and revokes a
/// rating in force on its day (`in_force`: [`current_rating`] on that day). Returns each unmet rule as
/// (field, rule, zh, en).
pub fn check_revocation(
    reason: &str,
    in_force: Option<i32>,
) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    let mut out = Vec::new();
    if reason.trim().is_empty() {
        out.push((
            "reason",
            "required",
            "撤销等级须写明理由（社会组织评估管理办法第三十条）。",
            "A revocation states its reason (MCA Order 39 Art 30).",
        ));
    }
    if in_force.is_none() {
        out.push((
            "organisation_id",
            "no_rating_in_force",
            "该组织在撤销之日没有有效的评估等级。",
            "The organisation has no rating in force on the day of the revocation.",
        ));
    }
    out
}

/// The expiry of a rating awarded on `awarded_on`: five years later (29 February → 28 February).
pub fn rating_expiry(awarded_on: NaiveDate) -> NaiveDate {
    awarded_on
        .checked_add_months(chrono::Months::new(60))
        .unwrap_or(awarded_on)
}

/// What a stored standing was decided under: the date and the rules. A stored standing whose basis is not
/// the current one is decided again, so what the calendar alone changes (a rating expiring, a listing
/// starting or ending, a new year asking for last year's report) and a change of the rules are followed.
pub fn basis(today: NaiveDate, rules: Rules) -> String {
    format!(
        "{today};abnormal_bars={};report_due={:?};foundation_report_due={:?}",
        rules.abnormal_bars, rules.report_due, rules.foundation_report_due
    )
}

/// Decide the standing on `today`, listing every reason.
pub fn decide(facts: &Facts, today: NaiveDate, rules: Rules) -> Standing {
    let mut reasons = Vec::new();
    let mut listings: Vec<&ListingFact> = facts
        .listings
        .iter()
        .filter(|l| l.in_force(today))
        .collect();
    listings.sort_by_key(|l| (l.listed_on, l.list.as_str()));
    for l in listings {
        let status = match l.list {
            ListKind::Abnormal if !rules.abnormal_bars => Status::Flagged,
            _ => Status::Barred,
        };
        let d = l.listed_on;
        reasons.push(Reason {
            code: l.list.as_str(),
            status,
            zh: format!("自 {d} 起列入{}。", l.list.label(true)),
            en: format!("On the {} since {d}.", l.list.label(false).to_lowercase()),
            since: Some(d),
        });
    }
    if !facts.has_credit_code {
        let (zh, en) = match facts.registration {
            Registration::Filed => (
                "仅备案，无统一社会信用代码，不能参与投标。",
                "Only filed, with no unified social credit code: it may not bid.",
            ),
            Registration::Unregistered => (
                "尚未登记，无统一社会信用代码，不能参与投标。",
                "Not registered, with no unified social credit code: it may not bid.",
            ),
            Registration::Registered => (
                "无统一社会信用代码，不能参与投标。",
                "No unified social credit code: it may not bid.",
            ),
        };
        reasons.push(Reason {
            code: "no_credit_code",
            status: Status::Barred,
            zh: zh.into(),
            en: en.into(),
            since: None,
        });
    }
    // Annual inspections concern registered organisations; filed groups and groups in incubation have none.
    let last = report_year(today, facts.foundation, rules);
    if facts.registration == Registration::Registered
        && facts.registered_on.is_none_or(|r| r.year() <= last)
    {
        match facts.inspections.iter().find(|i| i.year == last) {
            None => reasons.push(Reason {
                code: "no_annual_report",
                status: Status::Flagged,
                zh: format!("缺少 {last} 年度年检或年报。"),
                en: format!("No annual inspection or report for {last}."),
                since: None,
            }),
            Some(i) if i.conclusion == Conclusion::Fail => reasons.push(Reason {
                code: "annual_fail",
                status: Status::Flagged,
                zh: format!("{last} 年度年检结论为不合格。"),
                en: format!("The {last} annual inspection concluded: fail (不合格)."),
                since: None,
            }),
            Some(_) => {}
        }
    }
    let status = reasons
        .iter()
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Eligible);
    Standing { status, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const TODAY: &str = "2026-06-15";

    fn clean() -> Facts {
        Facts {
            registration: Registration::Registered,
            foundation: false,
            registered_on: None,
            has_credit_code: true,
            ratings: vec![],
            inspections: vec![InspectionFact {
                year: 2025,
                conclusion: Conclusion::Pass,
            }],
            listings: vec![],
        }
    }

    fn listed(list: ListKind, on: &str, removed: Option<&str>) -> ListingFact {
        ListingFact {
            list,
            listed_on: d(on),
            removed_on: removed.map(d),
        }
    }

    fn codes(s: &Standing) -> Vec<&'static str> {
        s.reasons.iter().map(|r| r.code).collect()
    }

    fn at(f: &Facts) -> Standing {
        decide(f, d(TODAY), Rules::default())
    }

    #[test]
    fn clean_registered_organisation_is_eligible() {
        let s = at(&clean());
        assert_eq!(s.status, Status::Eligible);
        assert!(s.reasons.is_empty());
    }

    #[test]
    fn young_organisation_with_clean_record_is_eligible() {
        // No minimum age: registered last year, inspected for last year.
        let mut f = clean();
        f.ratings.clear();
        assert_eq!(at(&f).status, Status::Eligible);
    }

    #[test]
    fn each_bar_list_bars_with_its_date() {
        for list in [
            ListKind::Dishonesty,
            ListKind::CourtDefaulter,
            ListKind::Debarment,
            ListKind::TaxDishonesty,
        ] {
            let mut f = clean();
            f.listings.push(listed(list, "2025-03-01", None));
            let s = at(&f);
            assert_eq!(s.status, Status::Barred, "{list:?}");
            assert_eq!(codes(&s), vec![list.as_str()]);
            assert_eq!(s.reasons[0].since, Some(d("2025-03-01")));
            assert!(s.reasons[0].zh.contains("2025-03-01"));
            assert!(s.reasons[0].en.contains("since 2025-03-01"));
        }
    }

    #[test]
    fn removed_listing_no_longer_counts_but_future_removal_does() {
        let mut f = clean();
        f.listings.push(listed(
            ListKind::Dishonesty,
            "2022-01-01",
            Some("2026-06-15"),
        ));
        assert_eq!(at(&f).status, Status::Eligible, "removed today");
        let mut f = clean();
        f.listings.push(listed(
            ListKind::Dishonesty,
            "2022-01-01",
            Some("2026-06-16"),
        ));
        assert_eq!(at(&f).status, Status::Barred, "removal tomorrow");
        let mut f = clean();
        f.listings
            .push(listed(ListKind::Dishonesty, "2026-07-01", None));
        assert_eq!(at(&f).status, Status::Eligible, "listed in the future");
    }

    #[test]
    fn abnormal_list_flags_by_default_and_bars_by_configuration() {
        let mut f = clean();
        f.listings
            .push(listed(ListKind::Abnormal, "2026-01-10", None));
        let s = at(&f);
        assert_eq!(s.status, Status::Flagged);
        assert_eq!(codes(&s), vec!["abnormal"]);
        let s = decide(
            &f,
            d(TODAY),
            Rules {
                abnormal_bars: true,
                ..Rules::default()
            },
        );
        assert_eq!(s.status, Status::Barred);
        assert_eq!(s.reasons[0].status, Status::Barred);
    }

    #[test]
    fn missing_last_years_report_flags() {
        let mut f = clean();
        f.inspections = vec![InspectionFact {
            year: 2024,
            conclusion: Conclusion::Pass,
        }];
        let s = at(&f);
        assert_eq!(s.status, Status::Flagged);
        assert_eq!(codes(&s), vec!["no_annual_report"]);
        assert!(s.reasons[0].en.contains("2025"));
        // This year's report is not due yet: it does not replace last year's.
        f.inspections.push(InspectionFact {
            year: 2026,
            conclusion: Conclusion::Pass,
        });
        assert_eq!(codes(&at(&f)), vec!["no_annual_report"]);
    }

    #[test]
    fn last_years_fail_flags_and_basic_pass_does_not() {
        let mut f = clean();
        f.inspections[0].conclusion = Conclusion::Fail;
        let s = at(&f);
        assert_eq!(s.status, Status::Flagged);
        assert_eq!(codes(&s), vec!["annual_fail"]);
        assert!(s.reasons[0].zh.contains("不合格"));
        f.inspections[0].conclusion = Conclusion::BasicPass;
        assert_eq!(at(&f).status, Status::Eligible);
        // An older fail does not count.
        f.inspections.push(InspectionFact {
            year: 2023,
            conclusion: Conclusion::Fail,
        });
        assert_eq!(at(&f).status, Status::Eligible);
    }

    #[test]
    fn no_credit_code_bars_filed_and_unregistered_groups_without_inspection_flags() {
        for reg in [Registration::Filed, Registration::Unregistered] {
            let f = Facts {
                registration: reg,
                foundation: false,
                registered_on: None,
                has_credit_code: false,
                ratings: vec![],
                inspections: vec![],
                listings: vec![],
            };
            let s = at(&f);
            assert_eq!(s.status, Status::Barred, "{reg:?}");
            assert_eq!(codes(&s), vec!["no_credit_code"]);
        }
        // A filed group that has a code (e.g. registered elsewhere) is not barred for the code.
        let f = Facts {
            registration: Registration::Filed,
            foundation: false,
            registered_on: None,
            has_credit_code: true,
            ratings: vec![],
            inspections: vec![],
            listings: vec![],
        };
        assert_eq!(at(&f).status, Status::Eligible);
    }

    #[test]
    fn every_reason_is_listed_and_the_worst_wins() {
        let mut f = clean();
        f.inspections[0].conclusion = Conclusion::Fail;
        f.listings
            .push(listed(ListKind::Abnormal, "2025-05-01", None));
        f.listings
            .push(listed(ListKind::Dishonesty, "2024-02-01", None));
        f.listings
            .push(listed(ListKind::CourtDefaulter, "2025-09-09", None));
        f.listings.push(listed(
            ListKind::Debarment,
            "2020-01-01",
            Some("2021-01-01"),
        ));
        let s = at(&f);
        assert_eq!(s.status, Status::Barred);
        assert_eq!(
            codes(&s),
            vec!["dishonesty", "abnormal", "court_defaulter", "annual_fail"]
        );
        // Flags only: the status is flagged.
        let mut f = clean();
        f.inspections.clear();
        f.listings
            .push(listed(ListKind::Abnormal, "2025-05-01", None));
        let s = at(&f);
        assert_eq!(s.status, Status::Flagged);
        assert_eq!(codes(&s), vec!["abnormal", "no_annual_report"]);
    }

    /// 民政部令第39号 Art 30: a downgrade replaces the earlier grade: the latest decision counts, not the
    /// highest grade in force; when the latest has expired there is none, even if an older one has not.
    #[test]
    fn art30_the_latest_rating_decision_counts() {
        let r = |g, a: &str, e: &str| RatingFact {
            grade: Some(g),
            awarded_on: d(a),
            expires_on: d(e),
        };
        let downgraded = vec![
            r(5, "2023-01-01", "2028-01-01"),
            r(2, "2025-03-01", "2030-03-01"),
        ];
        assert_eq!(current_rating(&downgraded, d(TODAY)), Some(2));
        assert_eq!(current_rating(&downgraded, d("2025-02-28")), Some(5));
        // Recorded out of order: the date decides, not the order.
        let mut swapped = downgraded.clone();
        swapped.reverse();
        assert_eq!(current_rating(&swapped, d(TODAY)), Some(2));
        let lapsed = vec![
            r(4, "2020-01-01", "2027-01-01"),
            r(3, "2021-01-01", "2026-01-01"),
        ];
        assert_eq!(current_rating(&lapsed, d(TODAY)), None);
    }

    /// 民政部令第39号 Art 30: a revocation (撤销等级) is a rating decision of its own, with a reason; from its
    /// day the organisation has no rating in force, though the revoked grade had years to run; a later
    /// award counts again. A revocation needs a reason and a rating in force to revoke.
    #[test]
    fn rating_revocation_leaves_no_rating_39_art_30() {
        let award = |g, a: &str| RatingFact {
            grade: Some(g),
            awarded_on: d(a),
            expires_on: rating_expiry(d(a)),
        };
        let revoked = |a: &str| RatingFact {
            grade: None,
            awarded_on: d(a),
            expires_on: d(a),
        };
        let mut ratings = vec![award(4, "2024-06-01"), revoked("2025-09-01")];
        assert_eq!(current_rating(&ratings, d("2025-08-31")), Some(4));
        assert_eq!(current_rating(&ratings, d("2025-09-01")), None);
        assert_eq!(current_rating(&ratings, d(TODAY)), None);
        // Recorded the same day as an award: the last recorded decides.
        let same_day = vec![award(3, "2025-09-01"), revoked("2025-09-01")];
        assert_eq!(current_rating(&same_day, d("2025-09-02")), None);
        ratings.push(award(2, "2026-03-01"));
        assert_eq!(current_rating(&ratings, d("2026-03-01")), Some(2));
        assert!(check_revocation("年检不合格", Some(4)).is_empty());
        let e = check_revocation(" ", None);
        assert_eq!(
            e.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
            vec![
                ("reason", "required"),
                ("organisation_id", "no_rating_in_force")
            ]
        );
        assert!(e[0].2.contains("第三十条") && e[0].3.contains("Art 30"));
    }

    /// The annual report (年度工作报告) is due by 31 May for 社会团体 and 民办非企业单位 and by 31 March for
    /// 基金会 (configurable): "no report for last year" flags only after that day; until then the report of
    /// the year before is the one due.
    #[test]
    fn annual_report_due_31_may_groups_and_31_march_foundations() {
        let mut f = clean();
        f.inspections = vec![InspectionFact {
            year: 2024,
            conclusion: Conclusion::Pass,
        }];
        let on = |f: &Facts, day: &str| codes(&decide(f, d(day), Rules::default()));
        assert!(on(&f, "2026-05-31").is_empty(), "due at the end of 31 May");
        assert_eq!(on(&f, "2026-06-01"), vec!["no_annual_report"]);
        f.foundation = true;
        assert!(on(&f, "2026-03-31").is_empty());
        assert_eq!(on(&f, "2026-04-01"), vec!["no_annual_report"]);
        // Before the due day the year before's report must be there.
        f.inspections.clear();
        assert_eq!(on(&f, "2026-03-01"), vec!["no_annual_report"]);
        assert!(
            decide(&f, d("2026-03-01"), Rules::default()).reasons[0]
                .en
                .contains("2024")
        );
        // Registered this year: nothing is due yet, on any day.
        f.registered_on = Some(d("2026-02-01"));
        assert!(on(&f, "2026-03-01").is_empty());
        assert!(on(&f, "2026-12-01").is_empty());
        f.registered_on = Some(d("2025-02-01"));
        assert!(
            on(&f, "2026-03-01").is_empty(),
            "the 2024 report predates it"
        );
        assert_eq!(on(&f, "2026-04-01"), vec!["no_annual_report"]);
        f.registered_on = None;
        // Configured later: 30 June.
        f.foundation = false;
        f.inspections = vec![InspectionFact {
            year: 2024,
            conclusion: Conclusion::Pass,
        }];
        let late = Rules {
            report_due: parse_due("06-30").unwrap(),
            ..Rules::default()
        };
        assert!(codes(&decide(&f, d("2026-06-15"), late)).is_empty());
        assert_eq!(parse_due("02-29"), None);
        assert_eq!(parse_due("13-01"), None);
        assert_eq!(parse_due("03-31"), Some((3, 31)));
    }

    #[test]
    fn ratings_in_force_and_expired() {
        let r = |g, a: &str| RatingFact {
            grade: Some(g),
            awarded_on: d(a),
            expires_on: rating_expiry(d(a)),
        };
        assert_eq!(rating_expiry(d("2021-06-15")), d("2026-06-15"));
        assert_eq!(rating_expiry(d("2024-02-29")), d("2029-02-28"));
        let ratings = vec![r(4, "2021-06-15"), r(3, "2022-01-01")];
        // The later 3A replaced the 4A, before and after the 4A's own expiry.
        assert_eq!(current_rating(&ratings, d(TODAY)), Some(3));
        assert_eq!(current_rating(&ratings, d("2026-06-14")), Some(3));
        assert_eq!(current_rating(&ratings, d("2021-12-31")), Some(4));
        assert_eq!(current_rating(&ratings, d("2021-06-14")), None);
        assert_eq!(current_rating(&[r(5, "2019-01-01")], d(TODAY)), None);
        // A rating does not change the standing.
        let mut f = clean();
        f.ratings = ratings;
        assert_eq!(at(&f).status, Status::Eligible);
    }

    /// The enums and their tables agree: every key parses back to its variant, in table order.
    #[test]
    fn vocabularies_are_one_table_each() {
        for (i, k) in ListKind::ALL.into_iter().enumerate() {
            assert_eq!(ListKind::parse(ListKind::VOCAB[i].0), Some(k));
        }
        assert_eq!(ListKind::VOCAB.len(), ListKind::ALL.len());
        for (i, k) in Conclusion::ALL.into_iter().enumerate() {
            assert_eq!(Conclusion::parse(Conclusion::VOCAB[i].0), Some(k));
        }
        assert_eq!(Conclusion::VOCAB.len(), Conclusion::ALL.len());
        assert_eq!(ListKind::parse("nonsense"), None);
    }
}
