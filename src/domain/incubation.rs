//! The incubation state machine (入驻 → 在孵 → 续驻 → 出壳 / 退驻), its deadlines and the funnel, with no
//! database in sight.
//!
//! States and the only legal moves:
//! `applied → admitted | rejected`, `admitted → incubating`, `incubating → renewed | graduated | exited`,
//! `renewed → graduated | exited`. Everything else is refused by [`check_transition`].

use chrono::{Datelike, NaiveDate};

use crate::domain::calendar::{BusinessCalendar, CalendarWarning};
use crate::error::Msg;

/// Working days the base has to decide an application.
pub const DECISION_WORKING_DAYS: u32 = 5;
/// Working days an exited group has to return the space.
pub const SPACE_RETURN_WORKING_DAYS: u32 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Applied,
    Admitted,
    Rejected,
    Incubating,
    Renewed,
    Graduated,
    Exited,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Applied,
        State::Admitted,
        State::Rejected,
        State::Incubating,
        State::Renewed,
        State::Graduated,
        State::Exited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Admitted => "admitted",
            State::Rejected => "rejected",
            State::Incubating => "incubating",
            State::Renewed => "renewed",
            State::Graduated => "graduated",
            State::Exited => "exited",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            State::Applied => "已申请",
            State::Admitted => "已入驻",
            State::Rejected => "未通过",
            State::Incubating => "在孵",
            State::Renewed => "续驻",
            State::Graduated => "出壳",
            State::Exited => "退驻",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Admitted => "admitted",
            State::Rejected => "rejected",
            State::Incubating => "incubating",
            State::Renewed => "renewed",
            State::Graduated => "graduated",
            State::Exited => "exited",
        }
    }

    /// The states this one may move to.
    pub fn next(self) -> &'static [State] {
        match self {
            State::Applied => &[State::Admitted, State::Rejected],
            State::Admitted => &[State::Incubating],
            State::Incubating => &[State::Renewed, State::Graduated, State::Exited],
            State::Renewed => &[State::Graduated, State::Exited],
            State::Rejected | State::Graduated | State::Exited => &[],
        }
    }

    /// In a base now (counts against its seats).
    pub fn is_active(self) -> bool {
        matches!(self, State::Incubating | State::Renewed)
    }
}

pub fn can_move(from: State, to: State) -> bool {
    from.next().contains(&to)
}

/// `Ok` for a legal move; otherwise the message of the 409 `illegal_transition` refusal, naming both states.
pub fn check_transition(from: State, to: State) -> Result<(), Msg> {
    if can_move(from, to) {
        return Ok(());
    }
    let allowed_zh: Vec<&str> = from.next().iter().map(|s| s.label_zh()).collect();
    let allowed_en: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
    let (zh_tail, en_tail) = if allowed_zh.is_empty() {
        (
            "该记录已结束，不能再变更。".to_string(),
            "the record is closed and cannot change any more.".to_string(),
        )
    } else {
        (
            format!("只能变为：{}。", allowed_zh.join("、")),
            format!("it may only become {}.", allowed_en.join(" or ")),
        )
    };
    Err(Msg::new(
        format!(
            "不能从“{}”({})变为“{}”({})：{zh_tail}",
            from.label_zh(),
            from.as_str(),
            to.label_zh(),
            to.as_str()
        ),
        format!(
            "Cannot move from {} to {}: {en_tail}",
            from.as_str(),
            to.as_str()
        ),
    ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Onsite,
    Virtual,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Onsite, Mode::Virtual];
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Onsite => "onsite",
            Mode::Virtual => "virtual",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Mode::Onsite => "实体孵化",
            Mode::Virtual => "虚拟孵化",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Mode::Onsite => "on-site",
            Mode::Virtual => "virtual",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Gestation,
    Sprouting,
    Startup,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Gestation, Stage::Sprouting, Stage::Startup];
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Gestation => "gestation",
            Stage::Sprouting => "sprouting",
            Stage::Startup => "startup",
        }
    }
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Stage::Gestation => "孕育",
            Stage::Sprouting => "萌芽",
            Stage::Startup => "初创",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Stage::Gestation => "gestation",
            Stage::Sprouting => "sprouting",
            Stage::Startup => "start-up",
        }
    }
}

/// The graduation (出壳) checklist: (key, zh-CN, en). Every item must be done to graduate.
pub const CHECKLIST: &[(&str, &str, &str)] = &[
    ("registered", "已完成登记或备案", "Registered or filed"),
    (
        "governance",
        "治理结构健全（章程、理事会）",
        "Sound governance (charter, board)",
    ),
    (
        "finance",
        "财务制度规范、账目独立",
        "Sound, separate accounts",
    ),
    (
        "projects",
        "能独立承接服务项目",
        "Runs service projects on its own",
    ),
    ("staff", "有稳定的专职人员", "Stable full-time staff"),
    ("premises", "有独立的办公场所", "Own office space"),
];

/// Items of the checklist not marked done (unknown keys are ignored; missing keys count as not done).
pub fn checklist_missing(done: &[(String, bool)]) -> Vec<&'static str> {
    CHECKLIST
        .iter()
        .filter(|(k, _, _)| !done.iter().any(|(d, ok)| d == k && *ok))
        .map(|(k, _, _)| *k)
        .collect()
}

/// The decision on an application is due within 5 working days of the application.
pub fn decision_due(
    cal: &BusinessCalendar,
    applied_on: NaiveDate,
) -> (NaiveDate, Vec<CalendarWarning>) {
    cal.add_working_days(applied_on, DECISION_WORKING_DAYS)
}

/// An exited group returns the space within 15 working days.
pub fn space_return_due(
    cal: &BusinessCalendar,
    exited_on: NaiveDate,
) -> (NaiveDate, Vec<CalendarWarning>) {
    cal.add_working_days(exited_on, SPACE_RETURN_WORKING_DAYS)
}

/// The default planned end: `years` after the start (29 February falls back to the 28th).
pub fn planned_end(start: NaiveDate, years: u32) -> NaiveDate {
    let y = start.year() + years as i32;
    start
        .with_year(y)
        .or_else(|| NaiveDate::from_ymd_opt(y, start.month(), 28))
        .unwrap_or(start)
}

/// An application still waiting after its decision was due.
pub fn is_overdue(state: State, decision_due: NaiveDate, today: NaiveDate) -> bool {
    state == State::Applied && today > decision_due
}

/// The incubation funnel: how many records reached each step (a record counts in every step it passed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Funnel {
    /// Every application.
    pub applied: i64,
    /// Admitted at some point (admitted, incubating, renewed, graduated or exited).
    pub admitted: i64,
    /// Started incubation at some point (incubating, renewed, graduated or exited).
    pub incubating: i64,
    pub graduated: i64,
    pub exited: i64,
    /// Besides the funnel: rejected applications and those in a base now.
    pub rejected: i64,
    pub active: i64,
}

impl Funnel {
    pub fn add(&mut self, state: State, n: i64) {
        self.applied += n;
        match state {
            State::Applied => {}
            State::Rejected => self.rejected += n,
            State::Admitted => self.admitted += n,
            State::Incubating | State::Renewed => {
                self.admitted += n;
                self.incubating += n;
                self.active += n;
            }
            State::Graduated => {
                self.admitted += n;
                self.incubating += n;
                self.graduated += n;
            }
            State::Exited => {
                self.admitted += n;
                self.incubating += n;
                self.exited += n;
            }
        }
    }

    pub fn from_counts(counts: &[(State, i64)]) -> Funnel {
        let mut f = Funnel::default();
        for (s, n) in counts {
            f.add(*s, *n);
        }
        f
    }

    /// The five funnel steps (key, count), in order.
    pub fn steps(&self) -> [(&'static str, i64); 5] {
        [
            ("applied", self.applied),
            ("admitted", self.admitted),
            ("incubating", self.incubating),
            ("graduated", self.graduated),
            ("exited", self.exited),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn every_pair_of_states_is_legal_or_refused_as_specified() {
        let legal = [
            ("applied", "admitted"),
            ("applied", "rejected"),
            ("admitted", "incubating"),
            ("incubating", "renewed"),
            ("incubating", "graduated"),
            ("incubating", "exited"),
            ("renewed", "graduated"),
            ("renewed", "exited"),
        ];
        let mut n_legal = 0;
        for from in State::ALL {
            for to in State::ALL {
                let want = legal.contains(&(from.as_str(), to.as_str()));
                let got = check_transition(from, to);
                assert_eq!(got.is_ok(), want, "{from:?} → {to:?}");
                if let Err(m) = got {
                    assert!(
                        m.en.contains(from.as_str()) && m.en.contains(to.as_str()),
                        "{m:?}"
                    );
                    assert!(
                        m.zh.contains(from.label_zh()) && m.zh.contains(to.label_zh()),
                        "{m:?}"
                    );
                } else {
                    n_legal += 1;
                }
            }
        }
        assert_eq!(n_legal, legal.len());
    }

    #[test]
    fn states_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("hatched"), None);
        assert_eq!(Mode::parse("virtual"), Some(Mode::Virtual));
        assert_eq!(Stage::parse("sprouting"), Some(Stage::Sprouting));
        assert_eq!(Stage::parse("adult"), None);
    }

    #[test]
    fn decision_due_counts_working_days_over_national_day() {
        let cal = BusinessCalendar::builtin();
        // 1–8 October 2025 are holidays, Saturday 11 October is a working day.
        let (due, warn) = decision_due(&cal, d("2025-09-30"));
        assert_eq!(due, d("2025-10-14"));
        assert!(warn.is_empty());
        // An ordinary week: Monday → the next Monday.
        assert_eq!(decision_due(&cal, d("2025-11-03")).0, d("2025-11-10"));
        // A Friday application: due the Friday after.
        assert_eq!(decision_due(&cal, d("2025-11-07")).0, d("2025-11-14"));
    }

    #[test]
    fn space_return_over_spring_festival() {
        let cal = BusinessCalendar::builtin();
        // 2026 Spring Festival: 15–23 February off; 14 and 28 February are working Saturdays.
        let (due, warn) = space_return_due(&cal, d("2026-02-10"));
        assert!(warn.is_empty());
        let mut n = 0;
        let mut day = d("2026-02-10");
        while day < due {
            day = day.succ_opt().unwrap();
            if cal.is_working_day(day) {
                n += 1;
            }
        }
        assert_eq!(n, 15);
        assert!(cal.is_working_day(due));
        assert!(
            due > d("2026-03-02"),
            "the holiday pushes the deadline: {due}"
        );
    }

    #[test]
    fn a_year_without_data_warns() {
        let cal = BusinessCalendar::builtin();
        let (due, warn) = decision_due(&cal, d("2030-03-01"));
        assert_eq!(due, d("2030-03-08"));
        assert_eq!(warn, vec![CalendarWarning { year: 2030 }]);
    }

    #[test]
    fn planned_end_is_years_later() {
        assert_eq!(planned_end(d("2025-03-15"), 2), d("2027-03-15"));
        assert_eq!(planned_end(d("2024-02-29"), 1), d("2025-02-28"));
        assert_eq!(planned_end(d("2024-02-29"), 4), d("2028-02-29"));
    }

    #[test]
    fn overdue_only_while_applied_and_after_the_due_day() {
        let due = d("2025-10-14");
        assert!(!is_overdue(State::Applied, due, d("2025-10-14")));
        assert!(is_overdue(State::Applied, due, d("2025-10-15")));
        for s in State::ALL.into_iter().filter(|s| *s != State::Applied) {
            assert!(!is_overdue(s, due, d("2026-01-01")), "{s:?}");
        }
    }

    #[test]
    fn funnel_counts_every_step_passed() {
        let f = Funnel::from_counts(&[
            (State::Applied, 3),
            (State::Rejected, 2),
            (State::Admitted, 1),
            (State::Incubating, 4),
            (State::Renewed, 1),
            (State::Graduated, 2),
            (State::Exited, 1),
        ]);
        assert_eq!(f.applied, 14);
        assert_eq!(f.admitted, 9);
        assert_eq!(f.incubating, 8);
        assert_eq!(f.graduated, 2);
        assert_eq!(f.exited, 1);
        assert_eq!(f.rejected, 2);
        assert_eq!(f.active, 5);
        let mut g = f;
        // An admission moves one record from applied to admitted: admitted grows, applied does not.
        g.add(State::Applied, -1);
        g.add(State::Admitted, 1);
        assert_eq!((g.applied, g.admitted), (14, 10));
    }

    #[test]
    fn checklist_reports_what_is_missing() {
        let all: Vec<(String, bool)> = CHECKLIST
            .iter()
            .map(|(k, _, _)| (k.to_string(), true))
            .collect();
        assert!(checklist_missing(&all).is_empty());
        let mut some = all.clone();
        some[2].1 = false;
        some.remove(0);
        assert_eq!(checklist_missing(&some), vec!["registered", "finance"]);
    }
}
