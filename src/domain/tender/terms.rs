//! Performance targets set and offered, the contract term, a deadline moved by a late clarification, the
//! documents' availability, and the deadlines of the award (winner named, result published, contract signed).

use chrono::NaiveDate;

use super::*;

/// Performance targets (绩效目标), set by the tender and offered by each bid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Targets {
    /// 服务人次: every participation counts.
    pub visits: i64,
    /// 服务人数: each person once.
    pub people: i64,
    /// 活动/小组节数
    pub sessions: i64,
    /// Satisfaction, percent.
    #[schema(value_type = String, example = "90")]
    pub satisfaction_pct: Decimal,
}

pub fn check_targets(prefix: &str, t: &Targets) -> Vec<Broken> {
    let mut out = Vec::new();
    for (name, v) in [
        ("visits", t.visits),
        ("people", t.people),
        ("sessions", t.sessions),
    ] {
        if !(0..=100_000_000).contains(&v) {
            out.push(broken(
                format!("{prefix}.{name}"),
                "range",
                "须为 0 至 1 亿之间的整数。",
                "Must be a whole number from 0 to 100 million.",
            ));
        }
    }
    if t.people > t.visits {
        out.push(broken(
            format!("{prefix}.people"),
            "not_above_visits",
            "服务人数不能多于服务人次。",
            "People served cannot exceed visits.",
        ));
    }
    if t.satisfaction_pct < Decimal::ZERO
        || t.satisfaction_pct > Decimal::from(100)
        || !two_places(t.satisfaction_pct)
    {
        out.push(broken(
            format!("{prefix}.satisfaction_pct"),
            "range",
            "满意度须在 0–100% 之间，最多两位小数。",
            "Satisfaction is 0–100%, with at most two decimals.",
        ));
    }
    out
}

/// Offered targets must reach the tender's on every measure.
pub fn check_offer(required: &Targets, offered: &Targets) -> Vec<Broken> {
    let mut out = Vec::new();
    for (name, zh, r, o) in [
        ("visits", "服务人次", required.visits, offered.visits),
        ("people", "服务人数", required.people, offered.people),
        ("sessions", "活动节数", required.sessions, offered.sessions),
    ] {
        if o < r {
            out.push(broken(
                format!("targets.{name}"),
                "min_target",
                format!("{zh}不得低于招标要求的 {r}。"),
                format!("Must be at least the tender's {r}."),
            ));
        }
    }
    if offered.satisfaction_pct < required.satisfaction_pct {
        out.push(broken(
            "targets.satisfaction_pct",
            "min_target",
            format!("满意度不得低于招标要求的 {}%。", required.satisfaction_pct),
            format!(
                "Must be at least the tender's {}%.",
                required.satisfaction_pct
            ),
        ));
    }
    out
}

/// A clarification published later than its method's notice before the deadline
/// ([`Method::clarification_notice`]: 87号令 Art 27, 214号 Art 10, 74号令 Art 29) moves the deadline to that
/// notice after the clarification: calendar days from the moment, or working days from its day in `local`
/// (Beijing), at the same time of day. Returns the new deadline when it moves.
pub fn moved_deadline(
    method: Method,
    cal: &BusinessCalendar,
    local: chrono::FixedOffset,
    answered_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let min = match method.clarification_notice() {
        ResponseTime::Days(n) => answered_at + Duration::days(n.into()),
        ResponseTime::WorkingDays(n) => {
            let at = answered_at.with_timezone(&local);
            let (day, _) = cal.add_working_days(at.date_naive(), n);
            day.and_time(at.time())
                .and_local_timezone(local)
                .single()?
                .with_timezone(&Utc)
        }
    };
    (deadline < min).then_some(min)
}

/// Working days the buyer has to name the winner after the evaluation report (政府采购法实施条例 Art 43).
pub const AWARD_WITHIN_WORKING_DAYS: u32 = 5;
/// Working days to publish the result (and issue the award letter) after naming the winner (87号令 Art 69).
pub const RESULT_WITHIN_WORKING_DAYS: u32 = 2;

/// The last day to name the winner: 5 working days after the day of the evaluation report (实施条例 Art 43).
pub fn award_due(cal: &BusinessCalendar, report_on: NaiveDate) -> NaiveDate {
    cal.add_working_days(report_on, AWARD_WITHIN_WORKING_DAYS).0
}

/// The last day to publish the result notice and issue the award letter: 2 working days after the winner
/// was named (87号令 Art 69).
pub fn result_due(cal: &BusinessCalendar, named_on: NaiveDate) -> NaiveDate {
    cal.add_working_days(named_on, RESULT_WITHIN_WORKING_DAYS).0
}

/// The last day to sign the contract: 30 days after the award letter (政府采购法 Art 46).
pub fn sign_due(letter_on: NaiveDate) -> NaiveDate {
    letter_on + Duration::days(crate::domain::contract::SIGN_WITHIN_DAYS)
}

/// The least working days open and invited tenders keep their documents available (87号令 Art 18).
pub const DOCUMENTS_MIN_WORKING_DAYS: u32 = 5;

/// The period the tender documents are available (获取招标文件期限), Beijing dates, both days counted:
/// it starts no earlier than the notice (`published_on`, once known: 87号令 Art 18 counts from it), ends
/// no later than the bid deadline's day and not before it starts, and for open and invited tenders holds
/// at least [`DOCUMENTS_MIN_WORKING_DAYS`] working days of `cal` (87号令 Art 18).
pub fn check_documents_period(
    method: Method,
    cal: &BusinessCalendar,
    from: chrono::NaiveDate,
    until: chrono::NaiveDate,
    published_on: Option<chrono::NaiveDate>,
    deadline_on: chrono::NaiveDate,
) -> Vec<Broken> {
    let mut out = Vec::new();
    if published_on.is_some_and(|p| from < p) {
        out.push(broken(
            "documents_from",
            "not_before_publication",
            "招标文件提供期限自公告发布之日起计算，开始日期不能早于发布日期（政府采购货物和服务招标投标管理办法第十八条）。",
            "The documents are available from the notice on: the start cannot be before publication (MOF Order 87 Art 18).",
        ));
    }
    if until < from {
        out.push(broken(
            "documents_until",
            "not_before_from",
            "招标文件提供期限的结束日期不能早于开始日期。",
            "The documents' availability cannot end before it starts.",
        ));
    } else if until > deadline_on {
        out.push(broken(
            "documents_until",
            "not_after_deadline",
            "招标文件提供期限不能晚于投标截止日。",
            "The documents' availability cannot end after the bid deadline's day.",
        ));
    }
    let days = u32::from(cal.is_working_day(from)) + cal.working_days_between(from, until);
    if matches!(method, Method::Open | Method::Invited) && days < DOCUMENTS_MIN_WORKING_DAYS {
        out.push(broken(
            "documents_until",
            "documents_min_working_days",
            format!(
                "{}的招标文件提供期限不得少于 {DOCUMENTS_MIN_WORKING_DAYS} 个工作日（现为 {days} 个；政府采购货物和服务招标投标管理办法第十八条）。",
                method.label(true)
            ),
            format!(
                "For {} the documents are available at least {DOCUMENTS_MIN_WORKING_DAYS} working days (now {days}; MOF Order 87 Art 18).",
                method.label(false).to_lowercase()
            ),
        ));
    }
    out
}

/// Contract term: up to 12 months, up to 36 with a recorded reason.
pub fn check_term(months: i32, reason: Option<&str>) -> Vec<Broken> {
    let mut out = Vec::new();
    if !(1..=36).contains(&months) {
        out.push(broken(
            "term_months",
            "range",
            "服务期限须为 1–36 个月。",
            "The contract term is 1 to 36 months.",
        ));
    } else if months > 12 && reason.map(str::trim).unwrap_or("").is_empty() {
        out.push(broken(
            "term_reason",
            "required_over_12",
            "服务期限超过 1 年时须说明理由（预算有保障、服务稳定）。",
            "A term over one year needs a reason (secured budget, stable service).",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// 实施条例 Art 43, 87号令 Art 69, 政府采购法 Art 46: the winner within 5 working days of the report, the
    /// result within 2 working days of that, the contract within 30 days of the letter; weekends and the
    /// National Day holiday do not count.
    fn art43_award_in_5_working_days_art69_result_in_2_art46_sign_in_30() {
        let cal = BusinessCalendar::builtin();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // Report on Thursday 2026-03-05: Fri, Mon, Tue, Wed, Thu.
        assert_eq!(award_due(&cal, d("2026-03-05")), d("2026-03-12"));
        // Named on Friday 2026-03-06: Mon, Tue.
        assert_eq!(result_due(&cal, d("2026-03-06")), d("2026-03-10"));
        // Report on 2026-09-30: the National Day holiday (1–7 October) is skipped.
        assert!(award_due(&cal, d("2026-09-30")) > d("2026-10-08"));
        assert_eq!(sign_due(d("2026-03-10")), d("2026-04-09"));
    }

    #[test]
    /// 87号令 Art 27, 214号 Art 10, 74号令 Art 29: a clarification later than 15 days (tenders), 5 days
    /// (磋商) or 3 working days (谈判) before the deadline moves the deadline that far after it.
    fn art27_late_clarification_moves_the_deadline_per_method() {
        let cal = BusinessCalendar::builtin();
        let bj = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        let moved = |m, at, deadline| moved_deadline(m, &cal, bj, at, deadline);
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let deadline = t("2026-03-20T02:00:00Z");
        // Tenders: 15 days.
        assert_eq!(
            moved(Method::Open, t("2026-03-05T02:00:00Z"), deadline),
            None
        );
        assert_eq!(
            moved(Method::Invited, t("2026-03-06T02:00:00Z"), deadline),
            Some(t("2026-03-21T02:00:00Z"))
        );
        // 磋商: 5 days.
        let late = t("2026-03-17T02:00:00Z");
        assert_eq!(
            moved(Method::Consultation, t("2026-03-10T02:00:00Z"), deadline),
            None
        );
        assert_eq!(
            moved(Method::Consultation, late, deadline),
            Some(t("2026-03-22T02:00:00Z"))
        );
        // 谈判: 3 working days. Tuesday 17 March 10:00 Beijing → Friday 20 March 10:00: enough.
        assert_eq!(moved(Method::Negotiation, late, deadline), None);
        // Wednesday 18 March 10:00 → three working days on is Monday 23 March 10:00 (the weekend skipped).
        assert_eq!(
            moved(Method::Negotiation, t("2026-03-18T02:00:00Z"), deadline),
            Some(t("2026-03-23T02:00:00Z"))
        );
    }

    /// 87号令 Art 18: open and invited tenders keep their documents available at least 5 working days,
    /// counted by the business calendar (weekends and holidays left out, both ends counted), from the
    /// notice on and not after the bid deadline.
    #[test]
    fn documents_available_at_least_5_working_days_87_art_18() {
        let cal = BusinessCalendar::builtin();
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let deadline = d("2026-03-23");
        let check = |m, from, until, published| {
            check_documents_period(m, &cal, d(from), d(until), published, deadline)
                .into_iter()
                .map(|b| (b.field, b.rule))
                .collect::<Vec<_>>()
        };
        let short = vec![("documents_until".to_string(), "documents_min_working_days")];
        // Monday 2 to Friday 6 March 2026: five working days.
        assert!(check(Method::Open, "2026-03-02", "2026-03-06", None).is_empty());
        assert_eq!(check(Method::Open, "2026-03-02", "2026-03-05", None), short);
        assert_eq!(
            check(Method::Invited, "2026-03-02", "2026-03-05", None),
            short
        );
        // Thursday to Wednesday spans a weekend: 5 working days in 7 calendar days.
        assert!(check(Method::Open, "2026-03-05", "2026-03-11", None).is_empty());
        assert_eq!(check(Method::Open, "2026-03-05", "2026-03-10", None), short);
        // Holidays do not count: 30 September to 9 October 2026 (National Day) holds only 3 working days
        // (and ends after this deadline).
        assert_eq!(
            check(
                Method::Open,
                "2026-09-30",
                "2026-10-09",
                Some(d("2026-09-30"))
            ),
            vec![
                ("documents_until".to_string(), "not_after_deadline"),
                ("documents_until".to_string(), "documents_min_working_days")
            ]
        );
        // 磋商 has its own response time and no such minimum.
        assert!(check(Method::Consultation, "2026-03-02", "2026-03-03", None).is_empty());
        // From the notice on, within the deadline, not backwards.
        assert_eq!(
            check(
                Method::Open,
                "2026-03-02",
                "2026-03-09",
                Some(d("2026-03-03"))
            ),
            vec![("documents_from".to_string(), "not_before_publication")]
        );
        assert_eq!(
            check(Method::Open, "2026-03-02", "2026-03-24", None),
            vec![("documents_until".to_string(), "not_after_deadline")]
        );
        assert_eq!(
            check(Method::Consultation, "2026-03-06", "2026-03-02", None),
            vec![("documents_until".to_string(), "not_before_from")]
        );
    }

    #[test]
    fn term_over_a_year_needs_a_reason() {
        assert!(check_term(12, None).is_empty());
        assert_eq!(check_term(24, None)[0].rule, "required_over_12");
        assert!(check_term(24, Some("预算已落实")).is_empty());
        assert_eq!(check_term(37, Some("x"))[0].rule, "range");
    }
}
