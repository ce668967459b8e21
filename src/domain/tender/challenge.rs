//! Challenges (质疑): what a challenge is against (政府采购法 Art 52), the window of each subject and who may
//! file it (政府采购法实施条例 Art 53), and what an open challenge that may affect the result suspends
//! (实施条例 Art 54).
//!
//! Windows, each [`TenderRules::challenge_working_days`] working days of the business calendar (7 by
//! default), the last day included:
//! - documents (采购文件): from the publication until that many working days after the documents could be
//!   obtained (the end of the documents period, else the publication day), and never once bids are opened
//!   (Art 53(1)); by any organisation that may bid (registered; for invited tenders and single source, an
//!   invited one), bidder or not;
//! - process (采购过程): by a bidder, from the opening until that many working days after the last procurement
//!   step before the result: the evaluation report, or before it the opening (Art 53(2));
//! - result (中标/成交结果): by a bidder, from the publication of the result to the end of the challenge
//!   window, which counts from the end of the publicity period (Art 53(3)).
//!
//! Suspension (Art 54): every challenge is taken to affect the result when filed (the challenger cannot
//! lower that, and the law's protection should not depend on the bureau having looked yet); the bureau
//! may mark one as not affecting it, with a reason. While one that may affect the result is open:
//! a documents challenge holds the opening (an upheld one keeps holding it until the documents are amended
//! by a clarification published after the answer, or the tender is cancelled: 财政部令第94号 Art 16), and a
//! challenge of any subject holds naming the winner, publishing the result, the final award and the
//! contract.

use chrono::{NaiveDate, NaiveDateTime};

use super::*;

/// What a challenge is against (政府采购法 Art 52).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// 采购文件
    Documents,
    /// 采购过程
    Process,
    /// 中标/成交结果
    #[default]
    Result,
}

impl Subject {
    pub const ALL: [Subject; 3] = [Subject::Documents, Subject::Process, Subject::Result];
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Documents => "documents",
            Subject::Process => "process",
            Subject::Result => "result",
        }
    }
    pub fn parse(s: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Subject::Documents, true) => "采购文件",
            (Subject::Documents, false) => "Procurement documents",
            (Subject::Process, true) => "采购过程",
            (Subject::Process, false) => "Procurement process",
            (Subject::Result, true) => "中标/成交结果",
            (Subject::Result, false) => "Award result",
        }
    }
}

/// What the windows need to know about a tender on the day a challenge is filed (Beijing dates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeDates {
    pub state: State,
    pub today: NaiveDate,
    /// The day the tender notice was published.
    pub published_on: Option<NaiveDate>,
    /// The last day of the documents period, when the tender states one.
    pub documents_until: Option<NaiveDate>,
    /// The day the bids were opened.
    pub opened_on: Option<NaiveDate>,
    /// The day of the evaluation report.
    pub evaluated_on: Option<NaiveDate>,
    /// The last day of the result's challenge window, once the result is published.
    pub result_until: Option<NaiveDate>,
}

fn not_yet(subject: Subject, zh: &str, en: &str) -> Broken {
    broken(
        "subject",
        "window_not_open",
        format!(
            "对{}的质疑{zh}（政府采购法实施条例第五十三条）。",
            subject.label(true)
        ),
        format!(
            "A challenge against the {} {en} (Implementing Regulations Art 53).",
            subject.label(false).to_lowercase()
        ),
    )
}

fn closed(subject: Subject, last: Option<NaiveDate>, zh: &str, en: &str) -> Broken {
    let (lz, le) = match last {
        Some(d) => (
            format!("质疑期已于 {d} 结束；"),
            format!("the window ended on {d}; "),
        ),
        None => (String::new(), String::new()),
    };
    broken(
        "subject",
        "window_closed",
        format!(
            "对{}的质疑期已过：{lz}{zh}（政府采购法实施条例第五十三条）。",
            subject.label(true)
        ),
        format!(
            "The window for challenging the {} has closed: {le}{en} (Implementing Regulations Art 53).",
            subject.label(false).to_lowercase()
        ),
    )
}

/// The last day (Beijing, included) a challenge against `subject` may be filed, when its window is open
/// today; else the rule it breaks (field `subject`: `window_not_open` or `window_closed`). `working_days`
/// is [`TenderRules::challenge_working_days`] (实施条例 Art 53).
pub fn challenge_window(
    subject: Subject,
    d: &ChallengeDates,
    cal: &BusinessCalendar,
    working_days: u32,
) -> Result<NaiveDate, Broken> {
    let after = |day: NaiveDate| cal.add_working_days(day, working_days).0;
    match subject {
        // Art 53(1): from the day the documents could be obtained, and never once the bids are open.
        Subject::Documents => {
            let Some(published) = d.published_on.filter(|_| d.state != State::Draft) else {
                return Err(not_yet(
                    subject,
                    "自采购文件公告之日起提出",
                    "may be filed from the documents' publication",
                ));
            };
            let last = after(d.documents_until.map_or(published, |u| u.max(published)));
            if !matches!(d.state, State::Published | State::Closed) {
                return Err(closed(
                    subject,
                    None,
                    "开标后不再受理对采购文件的质疑",
                    "the documents are not challenged once the bids are opened",
                ));
            }
            if d.today > last {
                return Err(closed(
                    subject,
                    Some(last),
                    "自获取采购文件期满之日起 7 个工作日内提出",
                    "within 7 working days after the documents could be obtained",
                ));
            }
            Ok(last)
        }
        // Art 53(2): from the opening until 7 working days after the last step before the result.
        Subject::Process => {
            let Some(opened) = d.opened_on.filter(|_| d.state >= State::Opened) else {
                return Err(not_yet(
                    subject,
                    "自开标之日起提出",
                    "may be filed from the opening",
                ));
            };
            let last = after(d.evaluated_on.unwrap_or(opened));
            if matches!(
                d.state,
                State::Cancelled | State::Failed | State::Contracted
            ) || d.today > last
            {
                return Err(closed(
                    subject,
                    Some(last),
                    "自各采购程序环节结束之日起 7 个工作日内提出",
                    "within 7 working days after the end of the procurement step",
                ));
            }
            Ok(last)
        }
        // Art 53(3): from the result's publication to the end of the challenge window.
        Subject::Result => match (d.state, d.result_until) {
            (State::Publicity | State::Challenge, Some(last)) if d.today <= last => Ok(last),
            (s, _) if s < State::Publicity => Err(not_yet(
                subject,
                "自中标/成交结果公告之日起提出",
                "may be filed from the result's publication",
            )),
            (_, last) => Err(closed(
                subject,
                last,
                "自公示期满之日起 7 个工作日内提出",
                "within 7 working days after the end of the publicity period",
            )),
        },
    }
}

/// Who may challenge: the documents, any organisation that may bid on the tender (`may_bid`), bidder or
/// not; the process and the result, a bidder (实施条例 Art 53; 政府采购法 Art 52). Field `subject`, rule
/// `may_not_bid` or `not_a_bidder`.
pub fn challenger_standing(subject: Subject, is_bidder: bool, may_bid: bool) -> Result<(), Broken> {
    match subject {
        Subject::Documents if may_bid || is_bidder => Ok(()),
        Subject::Documents => Err(broken(
            "subject",
            "may_not_bid",
            "只有可以参加本项目的供应商（已登记的组织；邀请招标和单一来源为受邀组织）可以对采购文件提出质疑。",
            "Only a supplier that may take part (a registered organisation; for invited tenders and single source, an invited one) may challenge the documents.",
        )),
        _ if is_bidder => Ok(()),
        _ => Err(broken(
            "subject",
            "not_a_bidder",
            format!(
                "只有参加本项目的供应商可以对{}提出质疑。",
                subject.label(true)
            ),
            format!(
                "Only organisations that bid on this tender may challenge the {}.",
                subject.label(false).to_lowercase()
            ),
        )),
    }
}

/// A challenge as the suspension rule sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiledChallenge {
    pub id: i64,
    pub subject: Subject,
    /// `open`, `upheld` or `rejected`.
    pub status: String,
    pub affects_result: bool,
    pub answered_at: Option<NaiveDateTime>,
}

/// A step an open challenge may suspend (实施条例 Art 54).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suspendable {
    /// Opening the bids (held by a documents challenge).
    Opening,
    /// Naming the winner, publishing the result, the final award and creating the contract.
    Award,
}

/// The challenge that suspends `step`, if any (实施条例 Art 54): the first that may affect the result and
/// is open; for the opening, a documents challenge, also once upheld until a clarification was published
/// after its answer (`clarified_at`: the latest one), since an upheld challenge against the documents
/// needs them amended (or the procurement started again) before going on (财政部令第94号 Art 16).
pub fn suspended_by(
    step: Suspendable,
    challenges: &[FiledChallenge],
    clarified_at: Option<NaiveDateTime>,
) -> Option<i64> {
    // Amended: a clarification published after the challenge was answered.
    let amended = |c: &FiledChallenge| clarified_at.zip(c.answered_at).is_some_and(|(k, a)| k > a);
    challenges
        .iter()
        .filter(|c| c.affects_result)
        .find(|c| match step {
            Suspendable::Award => c.status == "open",
            Suspendable::Opening => {
                c.subject == Subject::Documents
                    && (c.status == "open" || (c.status == "upheld" && !amended(c)))
            }
        })
        .map(|c| c.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dates(state: State, today: &str) -> ChallengeDates {
        ChallengeDates {
            state,
            today: d(today),
            published_on: Some(d("2026-03-02")),
            documents_until: None,
            opened_on: None,
            evaluated_on: None,
            result_until: None,
        }
    }

    fn rule(r: Result<NaiveDate, Broken>) -> &'static str {
        let b = r.unwrap_err();
        assert_eq!(b.field, "subject");
        b.rule
    }

    /// 实施条例 Art 53(1): the documents are challenged from their publication until 7 working days after
    /// they could be obtained (the end of the documents period, else the publication day), counted by the
    /// business calendar, and never once the bids are opened.
    #[test]
    fn art53_1_documents_window_7_working_days_after_the_documents_period() {
        let cal = BusinessCalendar::builtin();
        let w = |x: &ChallengeDates| challenge_window(Subject::Documents, x, &cal, 7);
        // Published Monday 2 March 2026, no period: the 7th working day after is Wednesday 11 March.
        let mut x = dates(State::Published, "2026-03-02");
        assert_eq!(w(&x), Ok(d("2026-03-11")));
        x.today = d("2026-03-11");
        assert_eq!(w(&x), Ok(d("2026-03-11")));
        x.today = d("2026-03-12");
        assert_eq!(rule(w(&x)), "window_closed");
        // With a documents period ending Friday 6 March: 7 working days on is Tuesday 17 March.
        x.documents_until = Some(d("2026-03-06"));
        assert_eq!(w(&x), Ok(d("2026-03-17")));
        // Still while the opening is held after the deadline, never once opened.
        x.state = State::Closed;
        assert!(w(&x).is_ok());
        x.state = State::Opened;
        assert_eq!(rule(w(&x)), "window_closed");
        // Not before publication.
        let mut draft = dates(State::Draft, "2026-03-02");
        draft.published_on = None;
        assert_eq!(rule(w(&draft)), "window_not_open");
        // The National Day holiday does not count: published 30 September 2026, the window runs into
        // the second week of October.
        let mut h = dates(State::Published, "2026-10-08");
        h.published_on = Some(d("2026-09-30"));
        assert!(w(&h).unwrap() > d("2026-10-09"));
    }

    /// 实施条例 Art 53(2): the process is challenged from the opening until 7 working days after the last
    /// step before the result: the evaluation report, or before it the opening.
    #[test]
    fn art53_2_process_window_from_the_opening_to_7_working_days_after_the_last_step() {
        let cal = BusinessCalendar::builtin();
        let w = |x: &ChallengeDates| challenge_window(Subject::Process, x, &cal, 7);
        let mut x = dates(State::Closed, "2026-03-23");
        assert_eq!(rule(w(&x)), "window_not_open");
        // Opened Monday 23 March: until Wednesday 1 April.
        x.state = State::Opened;
        x.opened_on = Some(d("2026-03-23"));
        assert_eq!(w(&x), Ok(d("2026-04-01")));
        x.today = d("2026-04-02");
        x.state = State::Evaluating;
        assert_eq!(rule(w(&x)), "window_closed");
        // The report on Thursday 2 April opens a new 7 working days (Qingming, 6 April 2026, not counted).
        x.state = State::Evaluated;
        x.evaluated_on = Some(d("2026-04-02"));
        let last = w(&x).unwrap();
        assert_eq!(last, cal.add_working_days(d("2026-04-02"), 7).0);
        assert!(last >= d("2026-04-13"));
        x.state = State::Failed;
        assert_eq!(rule(w(&x)), "window_closed");
    }

    /// 实施条例 Art 53(3): the result is challenged from its publication to the end of the challenge
    /// window, which counts from the end of the publicity period.
    #[test]
    fn art53_3_result_window_from_publication_to_the_end_of_the_challenge_window() {
        let cal = BusinessCalendar::builtin();
        let w = |x: &ChallengeDates| challenge_window(Subject::Result, x, &cal, 7);
        let mut x = dates(State::AwardProposed, "2026-04-14");
        assert_eq!(rule(w(&x)), "window_not_open");
        x.state = State::Publicity;
        x.result_until = Some(d("2026-04-24"));
        assert_eq!(w(&x), Ok(d("2026-04-24")));
        x.state = State::Challenge;
        x.today = d("2026-04-24");
        assert!(w(&x).is_ok());
        x.today = d("2026-04-25");
        assert_eq!(rule(w(&x)), "window_closed");
        x.state = State::Awarded;
        assert_eq!(rule(w(&x)), "window_closed");
    }

    /// 政府采购法 Art 52, 实施条例 Art 53: any organisation that may bid challenges the documents; only a
    /// bidder the process and the result.
    #[test]
    fn art52_who_may_challenge_what() {
        assert!(challenger_standing(Subject::Documents, false, true).is_ok());
        assert_eq!(
            challenger_standing(Subject::Documents, false, false)
                .unwrap_err()
                .rule,
            "may_not_bid"
        );
        assert!(challenger_standing(Subject::Process, true, true).is_ok());
        assert_eq!(
            challenger_standing(Subject::Process, false, true)
                .unwrap_err()
                .rule,
            "not_a_bidder"
        );
        assert_eq!(
            challenger_standing(Subject::Result, false, true)
                .unwrap_err()
                .rule,
            "not_a_bidder"
        );
    }

    /// 实施条例 Art 54: an open challenge that may affect the result suspends the next step: a documents
    /// challenge the opening (an upheld one until the documents are amended by a later clarification,
    /// 财政部令第94号 Art 16), any challenge the award; one the bureau marked as not affecting the result
    /// suspends nothing, nor does an answered one.
    #[test]
    fn art54_open_challenge_that_may_affect_the_result_suspends() {
        let at = |s: &str| s.parse::<NaiveDateTime>().unwrap();
        let c = |id, subject, status: &str, affects| FiledChallenge {
            id,
            subject,
            status: status.into(),
            affects_result: affects,
            answered_at: (status != "open").then(|| at("2026-03-10T02:00:00")),
        };
        use Subject::*;
        use Suspendable::*;
        assert_eq!(suspended_by(Opening, &[], None), None);
        let docs = [
            c(1, Documents, "rejected", true),
            c(2, Documents, "open", true),
        ];
        assert_eq!(suspended_by(Opening, &docs, None), Some(2));
        assert_eq!(suspended_by(Award, &docs, None), Some(2));
        // Not affecting the result: nothing held.
        assert_eq!(
            suspended_by(Opening, &[c(3, Documents, "open", false)], None),
            None
        );
        // Upheld: held until a clarification after the answer.
        let upheld = [c(4, Documents, "upheld", true)];
        assert_eq!(suspended_by(Opening, &upheld, None), Some(4));
        assert_eq!(
            suspended_by(Opening, &upheld, Some(at("2026-03-09T02:00:00"))),
            Some(4)
        );
        assert_eq!(
            suspended_by(Opening, &upheld, Some(at("2026-03-11T02:00:00"))),
            None
        );
        assert_eq!(suspended_by(Award, &upheld, None), None);
        // Process and result challenges hold the award, not the opening.
        let later = [c(5, Process, "open", true), c(6, Result, "open", true)];
        assert_eq!(suspended_by(Opening, &later, None), None);
        assert_eq!(suspended_by(Award, &later, None), Some(5));
        assert_eq!(
            suspended_by(Award, &[c(7, Result, "rejected", true)], None),
            None
        );
    }
}
