//! People served (DESIGN.md, People served; DOMAIN.md, Performance): what a count means, defined once.
//!
//! - **人次 (visits)** is every participation: each registered person at each activity, plus the anonymous
//!   head count of a large event.
//! - **人数 (people)** is distinct registered people. A person identified by the keyed hash of their identity
//!   number is one person however many activities, contracts and organisations served them; a person who
//!   declined is known only by one organisation's pseudonym and is distinct to that organisation.
//! - Anonymous heads are never people: they add to 人次 only, and every view labels them so.
//!
//! The storage counts rows and distinct `person_id`s of `participations` (one row per registered person at
//! an activity) and sums the activities' anonymous heads; [`Count`] puts the three together. No I/O here.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use super::vocab::Term;

/// The activity types (`SANSHE_ACTIVITY_KINDS`): 个案, 小组, 社区活动, 探访, 培训.
pub const DEFAULT_KINDS: &str = "case=个案|Case work,group=小组|Group session,event=社区活动|Community event,visit=探访|Home visit,training=培训|Training";

/// The groups of people served (`SANSHE_BENEFICIARY_GROUPS`); `elderly` is 60 or older, which is also what
/// a registration from an identity number picks when no group is given.
pub const DEFAULT_GROUPS: &str = "elderly=老年人（60 岁及以上）|Elderly (60+),youth=青少年|Youth,disabled=残疾人|People with disabilities,assistance=低保/特困|Subsistence or destitute support,other=其他|Others";

/// Genders as stored, with labels.
pub const GENDERS: &[(&str, &str, &str)] = &[
    ("female", "女", "Female"),
    ("male", "男", "Male"),
    ("unstated", "未说明", "Not stated"),
];

/// Age from which a person belongs to the elderly group (老年人权益保障法 Art 2: 60 周岁以上).
pub const ELDERLY_AGE: i32 = 60;

/// What the people-served rules need from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub kinds: Vec<Term>,
    pub groups: Vec<Term>,
    /// A person's 人次 under one contract above this multiple of the contract's norm (its target 人次 per
    /// target 人数) is flagged (`SANSHE_VISITS_NORM_FACTOR`, default 3).
    pub norm_factor: i64,
    /// ... and above at least this many 人次, so that small contracts do not flag ordinary follow-up.
    pub norm_floor: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kinds: super::vocab::parse_terms(DEFAULT_KINDS, "activity type").expect("default"),
            groups: super::vocab::parse_terms(DEFAULT_GROUPS, "group").expect("default"),
            norm_factor: 3,
            norm_floor: 12,
        }
    }
}

/// A count of people served over some set of activities.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Count {
    /// Participations of registered people.
    pub registered: i64,
    /// Anonymous heads of large events: 人次 only.
    pub anonymous: i64,
    /// 人次: every participation, registered plus anonymous.
    pub visits: i64,
    /// 人数: distinct registered people.
    pub people: i64,
}

impl Count {
    /// From the storage's three figures: participations, anonymous heads, distinct people.
    pub fn new(registered: i64, anonymous: i64, people: i64) -> Count {
        Count {
            registered,
            anonymous,
            visits: registered + anonymous,
            people,
        }
    }
}

/// The dimensions a count is broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Contract,
    Organisation,
    Community,
    Street,
    Field,
    Group,
    Month,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Dimension::Contract,
        Dimension::Organisation,
        Dimension::Community,
        Dimension::Street,
        Dimension::Field,
        Dimension::Group,
        Dimension::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Contract => "contract",
            Dimension::Organisation => "organisation",
            Dimension::Community => "community",
            Dimension::Street => "street",
            Dimension::Field => "field",
            Dimension::Group => "group",
            Dimension::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == s)
    }

    pub fn label(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            Dimension::Contract => ("合同", "Contract"),
            Dimension::Organisation => ("服务机构", "Organisation"),
            Dimension::Community => ("社区", "Community"),
            Dimension::Street => ("街道", "Street"),
            Dimension::Field => ("服务领域", "Field"),
            Dimension::Group => ("服务对象类别", "Group"),
            Dimension::Month => ("月份", "Month"),
        };
        if zh { z } else { e }
    }
}

/// The month key of a date: yyyymm.
pub fn month_key(d: NaiveDate) -> i32 {
    d.year() * 100 + d.month() as i32
}

/// yyyymm → "2026-03".
pub fn month_label(key: i32) -> String {
    format!("{:04}-{:02}", key / 100, key % 100)
}

/// The calendar quarter of a date, as (year, 1–4): the period in which one person served by several
/// providers in one field is flagged.
pub fn quarter(d: NaiveDate) -> (i32, u32) {
    (d.year(), (d.month() - 1) / 3 + 1)
}

/// The group a person registered from an identity number falls in when the organisation names none:
/// elderly from the year they turn 60, otherwise `other`.
pub fn default_group(birth_year: Option<i32>, year: i32) -> &'static str {
    match birth_year {
        // Widened: a birth year typed by a caller may be any i32, refused only after this guess.
        Some(b) if i64::from(year) - i64::from(b) >= i64::from(ELDERLY_AGE) => "elderly",
        _ => "other",
    }
}

/// An organisation's pseudonym for a person: 1–32 letters, digits, `-` or `_` (ASCII or CJK letters), no
/// spaces, so that it can be typed on a phone and never carries an identity number by accident.
pub fn pseudonym_ok(s: &str) -> bool {
    let n = s.chars().count();
    (1..=32).contains(&n)
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        && !(s.len() >= 15 && s.chars().filter(char::is_ascii_digit).count() >= 15)
}

/// Why an activity's date is refused: after today, or outside the contract's term (which ends early when
/// the contract is terminated).
pub fn date_refusal(
    held_on: NaiveDate,
    term: (NaiveDate, NaiveDate),
    today: NaiveDate,
) -> Option<(&'static str, String, String)> {
    if held_on > today {
        return Some((
            "not_future",
            "活动日期不能晚于今天。".into(),
            "An activity cannot be dated after today.".into(),
        ));
    }
    let (start, end) = term;
    if held_on < start || held_on > end {
        return Some((
            "within_term",
            format!("活动日期须在合同服务期 {start} 至 {end} 内。"),
            format!("The activity must lie within the contract term {start} to {end}."),
        ));
    }
    None
}

/// Progress towards one target at a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub target: i64,
    pub achieved: i64,
    /// Share of the target attained, percent with one decimal (none when the target is 0).
    #[schema(value_type = Option<String>)]
    pub attained_pct: Option<Decimal>,
    /// At this pace, what the term will have reached by its end.
    pub projected: i64,
}

/// Progress on `on` of a contract whose term runs `start..=end`: attained share, and a linear projection
/// of the achieved figure over the days of the term elapsed (the whole term once it has ended).
pub fn progress(
    target: i64,
    achieved: i64,
    start: NaiveDate,
    end: NaiveDate,
    on: NaiveDate,
) -> Progress {
    let total = (end - start).num_days() + 1;
    let elapsed = ((on.min(end) - start).num_days() + 1).clamp(1, total.max(1));
    let projected = if on >= end || total <= 0 {
        achieved
    } else {
        // Rounded half up, in integers.
        (achieved * total * 2 + elapsed) / (elapsed * 2)
    };
    Progress {
        target,
        achieved,
        attained_pct: share_pct(achieved, target),
        projected,
    }
}

/// `part` as a percentage of `whole`, one decimal; none when `whole` is 0.
pub fn share_pct(part: i64, whole: i64) -> Option<Decimal> {
    (whole > 0)
        .then(|| (Decimal::from(part) * Decimal::from(100) / Decimal::from(whole)).round_dp(1))
}

/// Satisfaction: answers 1 (very dissatisfied) to 5 (very satisfied); satisfied are 4 and 5.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Satisfaction {
    /// How many answered 1, 2, 3, 4, 5.
    pub answers: [i64; 5],
    pub responses: i64,
    pub satisfied: i64,
    /// Share satisfied, percent with one decimal (none without responses).
    #[schema(value_type = Option<String>)]
    pub satisfied_pct: Option<Decimal>,
}

impl Satisfaction {
    pub fn of(answers: [i64; 5]) -> Satisfaction {
        let responses = answers.iter().sum();
        let satisfied = answers[3] + answers[4];
        Satisfaction {
            answers,
            responses,
            satisfied,
            satisfied_pct: share_pct(satisfied, responses),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn visits_are_registered_plus_anonymous_people_only_registered() {
        let c = Count::new(7, 40, 5);
        assert_eq!((c.visits, c.people), (47, 5));
    }

    #[test]
    fn month_and_quarter_keys() {
        assert_eq!(month_key(d("2026-03-31")), 202603);
        assert_eq!(month_label(202603), "2026-03");
        assert_eq!(quarter(d("2026-03-31")), (2026, 1));
        assert_eq!(quarter(d("2026-10-01")), (2026, 4));
    }

    #[test]
    fn elderly_from_sixty_laoren_quanyi_art2() {
        assert_eq!(default_group(Some(1966), 2026), "elderly");
        assert_eq!(default_group(Some(1967), 2026), "other");
        assert_eq!(default_group(None, 2026), "other");
        assert_eq!(default_group(Some(i32::MIN), 2026), "elderly");
        assert_eq!(default_group(Some(i32::MAX), 2026), "other");
    }

    #[test]
    fn pseudonyms_refuse_spaces_and_identity_numbers() {
        assert!(pseudonym_ok("B-0017"));
        assert!(pseudonym_ok("张阿姨_3"));
        assert!(!pseudonym_ok(""));
        assert!(!pseudonym_ok("a b"));
        assert!(!pseudonym_ok("11010519491231002X"));
        assert!(!pseudonym_ok(&"x".repeat(33)));
    }

    #[test]
    fn activity_dates_within_term_and_not_future() {
        let term = (d("2026-01-01"), d("2026-12-31"));
        let today = d("2026-06-30");
        assert_eq!(date_refusal(d("2026-06-30"), term, today), None);
        assert_eq!(
            date_refusal(d("2025-12-31"), term, today).unwrap().0,
            "within_term"
        );
        assert_eq!(
            date_refusal(d("2026-07-01"), term, today).unwrap().0,
            "not_future"
        );
    }

    #[test]
    fn progress_projects_linearly_to_the_end_of_the_term() {
        // Half of a 10-day term gone, 50 of 200 achieved: 25 %, on pace for 100.
        let p = progress(200, 50, d("2026-01-01"), d("2026-01-10"), d("2026-01-05"));
        assert_eq!(p.attained_pct, Some(Decimal::new(250, 1)));
        assert_eq!(p.projected, 100);
        // After the term: what was achieved.
        let p = progress(200, 50, d("2026-01-01"), d("2026-01-10"), d("2026-02-01"));
        assert_eq!(p.projected, 50);
        assert_eq!(
            progress(0, 5, d("2026-01-01"), d("2026-01-10"), d("2026-01-05")).attained_pct,
            None
        );
    }

    #[test]
    fn satisfied_are_four_and_five() {
        let s = Satisfaction::of([1, 1, 2, 10, 6]);
        assert_eq!((s.responses, s.satisfied), (20, 16));
        assert_eq!(s.satisfied_pct, Some(Decimal::from(80)));
        assert_eq!(Satisfaction::of([0; 5]).satisfied_pct, None);
    }
}
