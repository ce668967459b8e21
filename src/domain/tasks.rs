//! What waits for a person: the kinds of work each role's queue holds, when each is due, and the order in
//! which the queue shows them (oldest first).

use chrono::NaiveDate;

use super::calendar::BusinessCalendar;

/// One kind of waiting work. The role it belongs to is in [`Kind::role`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    // The bureau
    /// An enquiry about a tender not yet answered.
    Enquiry,
    /// An incubation application waiting for a decision.
    Incubation,
    /// An organisation's change of its record waiting for approval.
    ChangeRequest,
    /// A social worker's certificate waiting for verification.
    WorkerCheck,
    /// An opened tender without an evaluation panel.
    Panel,
    /// An evaluated tender whose winner is not yet named.
    Winner,
    /// A named winner whose result notice is not yet published.
    ResultNotice,
    /// A challenge (质疑) not yet answered.
    Challenge,
    /// An awarded tender without a contract recorded.
    Contract,
    /// A recorded contract not yet signed.
    Signing,
    // The evaluator
    /// A panel seat whose declaration of interests is not made.
    Declaration,
    /// A panel seat whose score sheet is not submitted.
    ScoreSheet,
    // The organisation
    /// An answer to one of its enquiries, while bids are still open.
    EnquiryAnswer,
    /// The published result of a tender it bid on, while a challenge may still be filed.
    BidResult,
    /// The decision on its incubation application.
    IncubationDecision,
    /// The deadline of a tender it is bidding on.
    BidDeadline,
    // Finance
    /// An instalment accepted (or due on signing) and not yet paid.
    Payment,
    /// A spending item submitted or answered, waiting for review.
    SpendingReview,
}

impl Kind {
    pub const ALL: [Kind; 18] = [
        Kind::Enquiry,
        Kind::Incubation,
        Kind::ChangeRequest,
        Kind::WorkerCheck,
        Kind::Panel,
        Kind::Winner,
        Kind::ResultNotice,
        Kind::Challenge,
        Kind::Contract,
        Kind::Signing,
        Kind::Declaration,
        Kind::ScoreSheet,
        Kind::EnquiryAnswer,
        Kind::BidResult,
        Kind::IncubationDecision,
        Kind::BidDeadline,
        Kind::Payment,
        Kind::SpendingReview,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Kind::Enquiry => "enquiry",
            Kind::Incubation => "incubation",
            Kind::ChangeRequest => "change_request",
            Kind::WorkerCheck => "worker_check",
            Kind::Panel => "panel",
            Kind::Winner => "winner",
            Kind::ResultNotice => "result_notice",
            Kind::Challenge => "challenge",
            Kind::Contract => "contract",
            Kind::Signing => "signing",
            Kind::Declaration => "declaration",
            Kind::ScoreSheet => "score_sheet",
            Kind::EnquiryAnswer => "enquiry_answer",
            Kind::BidResult => "bid_result",
            Kind::IncubationDecision => "incubation_decision",
            Kind::BidDeadline => "bid_deadline",
            Kind::Payment => "payment",
            Kind::SpendingReview => "spending_review",
        }
    }

    /// What the person is to do, in a few words.
    pub fn label(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            Kind::Enquiry => ("答复投标人提问", "Answer an enquiry"),
            Kind::Incubation => ("审核入孵申请", "Decide an incubation application"),
            Kind::ChangeRequest => ("审核组织信息变更", "Decide a change request"),
            Kind::WorkerCheck => ("核实社工证书", "Verify a social worker's certificate"),
            Kind::Panel => ("组建评审委员会", "Form the evaluation panel"),
            Kind::Winner => ("确定中标人", "Name the winner"),
            Kind::ResultNotice => ("发布结果公告", "Publish the result notice"),
            Kind::Challenge => ("答复质疑", "Answer a challenge"),
            Kind::Contract => ("登记合同", "Record the contract"),
            Kind::Signing => ("签订合同", "Sign the contract"),
            Kind::Declaration => ("作出回避声明", "Make your declaration of interests"),
            Kind::ScoreSheet => ("提交评分表", "Submit your score sheet"),
            Kind::EnquiryAnswer => ("提问已答复", "Your enquiry was answered"),
            Kind::BidResult => ("投标结果已公布", "The result of your bid is out"),
            Kind::IncubationDecision => (
                "入孵申请已有决定",
                "Your incubation application was decided",
            ),
            Kind::BidDeadline => ("投标截止", "Bid deadline"),
            Kind::Payment => ("支付款项", "Pay an instalment"),
            Kind::SpendingReview => ("审核支出", "Review a spending item"),
        };
        if zh { z } else { e }
    }

    /// The rule that sets the due date, where one does.
    pub fn rule(self, zh: bool) -> Option<&'static str> {
        let (z, e) = match self {
            Kind::Winner => (
                "评审报告后 5 个工作日内（实施条例第四十三条）",
                "within 5 working days of the report (Implementing Regulations Art 43)",
            ),
            Kind::ResultNotice => (
                "确定中标人后 2 个工作日内（87号令第六十九条）",
                "within 2 working days of naming the winner (MoF Order 87 Art 69)",
            ),
            Kind::Challenge => (
                "收到质疑后 7 个工作日内（政府采购法第五十三条）",
                "within 7 working days of receipt (Government Procurement Law Art 53)",
            ),
            Kind::Contract | Kind::Signing => (
                "中标通知书发出后 30 日内（政府采购法第四十六条）",
                "within 30 days of the award letter (Government Procurement Law Art 46)",
            ),
            Kind::BidResult => (
                "质疑期截止（政府采购法第五十二条）",
                "the end of the challenge window (Government Procurement Law Art 52)",
            ),
            _ => return None,
        };
        Some(if zh { z } else { e })
    }
}

/// One piece of waiting work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub kind: Kind,
    /// What it is about (a tender's title, an organisation's name).
    pub subject: String,
    /// Where the work is done.
    pub href: String,
    /// Since when it waits (Beijing date).
    pub since: NaiveDate,
    /// The last day it may be done, where a rule or the service standard sets one.
    pub due: Option<NaiveDate>,
    /// How many such things wait at this place (three enquiries on one tender are one row).
    pub count: usize,
}

/// How urgent a task is today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    Overdue,
    DueToday,
    Waiting,
}

impl Task {
    pub fn urgency(&self, today: NaiveDate) -> Urgency {
        match self.due {
            Some(d) if d < today => Urgency::Overdue,
            Some(d) if d == today => Urgency::DueToday,
            _ => Urgency::Waiting,
        }
    }
}

/// Oldest first; of the same age, the one due first; then by kind and subject, so the order is stable.
pub fn order(tasks: &mut [Task]) {
    tasks.sort_by(|a, b| {
        (a.since, a.due.unwrap_or(NaiveDate::MAX), a.kind, &a.subject).cmp(&(
            b.since,
            b.due.unwrap_or(NaiveDate::MAX),
            b.kind,
            &b.subject,
        ))
    });
}

/// One row per kind and place, waiting since the oldest and due by the earliest of its things; then
/// [`order`]ed.
pub fn merge(tasks: Vec<Task>) -> Vec<Task> {
    let mut rows: Vec<Task> = Vec::with_capacity(tasks.len());
    let mut at: std::collections::HashMap<(Kind, String), usize> = std::collections::HashMap::new();
    for t in tasks {
        match at.get(&(t.kind, t.href.clone())) {
            Some(&i) => {
                let row = &mut rows[i];
                row.count += t.count;
                row.since = row.since.min(t.since);
                row.due = match (row.due, t.due) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => {
                at.insert((t.kind, t.href.clone()), rows.len());
                rows.push(t);
            }
        }
    }
    order(&mut rows);
    rows
}

/// How many things wait in a queue (the navigation's badge).
pub fn total(tasks: &[Task]) -> usize {
    tasks.iter().map(|t| t.count).sum()
}

/// The service standard for reviewing what an organisation submitted (a change of its record, a worker's
/// certificate, a spending item): `days` working days from submission (`SANSHE_REVIEW_WORKING_DAYS`).
pub fn review_due(cal: &BusinessCalendar, submitted_on: NaiveDate, days: u32) -> NaiveDate {
    cal.add_working_days(submitted_on, days).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn task(kind: Kind, since: NaiveDate, due: Option<NaiveDate>) -> Task {
        Task {
            kind,
            subject: String::new(),
            href: String::new(),
            since,
            due,
            count: 1,
        }
    }

    #[test]
    fn urgency_marks_overdue_after_the_due_day() {
        let t = task(Kind::Winner, d(10, 1), Some(d(10, 9)));
        assert_eq!(t.urgency(d(10, 8)), Urgency::Waiting);
        assert_eq!(t.urgency(d(10, 9)), Urgency::DueToday);
        assert_eq!(t.urgency(d(10, 10)), Urgency::Overdue);
        assert_eq!(
            task(Kind::Panel, d(10, 1), None).urgency(d(12, 31)),
            Urgency::Waiting
        );
    }

    #[test]
    fn the_queue_is_oldest_first() {
        let mut q = vec![
            task(Kind::Challenge, d(10, 5), Some(d(10, 14))),
            task(Kind::Panel, d(10, 2), None),
            task(Kind::Winner, d(10, 2), Some(d(10, 9))),
            task(Kind::Enquiry, d(11, 1), Some(d(11, 2))),
        ];
        order(&mut q);
        let kinds: Vec<Kind> = q.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Winner, Kind::Panel, Kind::Challenge, Kind::Enquiry]
        );
    }

    #[test]
    fn things_at_one_place_are_one_row_due_by_the_earliest() {
        let mut a = task(Kind::Enquiry, d(10, 5), Some(d(10, 20)));
        a.href = "/tenders/1".into();
        let mut b = task(Kind::Enquiry, d(10, 3), Some(d(10, 20)));
        b.href = "/tenders/1".into();
        let mut c = task(Kind::Enquiry, d(10, 4), Some(d(10, 12)));
        c.href = "/tenders/2".into();
        let mut e = task(Kind::Challenge, d(10, 6), Some(d(10, 15)));
        e.href = "/tenders/1".into();
        let q = merge(vec![a, b, c, e]);
        assert_eq!(q.len(), 3);
        assert_eq!(
            (q[0].href.as_str(), q[0].count, q[0].since),
            ("/tenders/1", 2, d(10, 3))
        );
        assert_eq!(q[0].due, Some(d(10, 20)));
        assert_eq!((q[1].href.as_str(), q[1].count), ("/tenders/2", 1));
        assert_eq!(q[2].kind, Kind::Challenge);
        assert_eq!(total(&q), 4);
    }

    /// 2026-10-01..07 is the National Day holiday and 2026-10-10 (Saturday) a make-up working day in the
    /// built-in calendar: five working days from 30 September skip the holiday and count the Saturday.
    #[test]
    fn review_due_counts_working_days_of_the_business_calendar() {
        let cal = BusinessCalendar::builtin();
        // 8 Oct (Thu), 9 Oct (Fri), 10 Oct (the make-up Saturday), 12 Oct (Mon), 13 Oct (Tue).
        assert_eq!(review_due(&cal, d(9, 30), 5), d(10, 13));
        assert_eq!(review_due(&cal, d(10, 13), 0), d(10, 13));
    }

    #[test]
    fn every_kind_has_a_key_and_labels() {
        let mut keys: Vec<&str> = Kind::ALL.iter().map(|k| k.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Kind::ALL.len());
        for k in Kind::ALL {
            assert!(!k.label(true).is_empty() && !k.label(false).is_empty());
            assert!(
                !k.label(false)
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            );
        }
    }
}
