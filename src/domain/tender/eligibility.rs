//! Eligibility conditions a tender sets, their check, and every rule an organisation does not meet.

use super::*;

/// Eligibility conditions a tender sets on top of standing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Eligibility {
    /// Minimum current rating, 1–5 (A).
    pub min_rating: Option<i32>,
    /// Not allowed: staff numbers and other size conditions may be neither a qualification nor a scoring
    /// factor (87号令 Art 17). Read only to refuse it by name (`size_condition`), never written out; a record
    /// stored before carries it inertly.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub min_staff: Option<i32>,
    /// Minimum number of certified social workers (any level above none), current employees.
    pub min_certified: Option<i32>,
    /// Or a minimum share of the staff who are certified, percent.
    #[schema(value_type = Option<String>)]
    pub min_certified_share_pct: Option<Decimal>,
    /// A supervisor (督导): a current worker at 社会工作师 level or above.
    #[serde(default)]
    pub supervisor_required: bool,
    /// At least one current worker at or above this level: `assistant`, `social_worker`, `senior`.
    pub min_certificate_level: Option<String>,
}

/// What an organisation can do about a reason it may not bid (a rule code of the refusal: the standing's
/// reasons, the tender's own conditions, invitation, related suppliers, a single source's 公示), in Chinese
/// and English. None for a code without a known remedy.
pub fn remedy(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "dishonesty" | "court_defaulter" | "tax_dishonesty" => (
            "在名单期满或经信用修复移出名单后，请民政局更新本组织的信用记录。",
            "Once the listing ends or is lifted by credit repair, ask the bureau to update your credit record.",
        ),
        "debarment" => (
            "禁止参加政府采购活动的期限届满后方可投标（政府采购法第七十七条）。",
            "You may bid again once the debarment period ends (Government Procurement Law Art 77).",
        ),
        "abnormal" => (
            "纠正列入活动异常名录的情形（如补报年度工作报告、更新住所），经登记管理机关移出后即可投标。",
            "Put right what put you on the abnormal-activity list (file the annual report, update the address); once the registration authority removes you, you may bid.",
        ),
        "no_annual_report" => (
            "向登记管理机关报送上一年度工作报告，民政局登记检查结论后恢复。",
            "File last year's annual report with the registration authority; bidding reopens once the bureau records the result.",
        ),
        "annual_fail" => (
            "按年度检查意见整改，复查合格并由民政局登记结论后恢复。",
            "Correct what the annual inspection found; bidding reopens once a re-inspection passes and the bureau records it.",
        ),
        "no_credit_code" => (
            "取得统一社会信用代码后，在“本组织”页面申请变更，经民政局核实后生效。",
            "Obtain a unified social credit code, then propose it on your organisation's page; it counts once the bureau approves it.",
        ),
        "not_invited" => (
            "本项目为邀请招标，仅受邀组织可投标；请关注公开招标的项目。",
            "This tender is by invitation only; look for open tenders instead.",
        ),
        "related_bidder" => (
            "关联组织中只能有一家参加同一项目；如关联关系记录有误，请联系民政局更正。",
            "Only one of related organisations may take part in a tender; if the recorded link is wrong, ask the bureau to correct it.",
        ),
        "notice_running" => (
            "单一来源公示期满且无异议后方可提交响应文件，请届时再来。",
            "A response is accepted once the single-source notice period has ended without objection; come back then.",
        ),
        "objection_unanswered" => (
            "请等待民政局答复异议。",
            "Wait for the bureau's answer to the objection.",
        ),
        "objection_upheld" => (
            "异议成立，本项目不再按单一来源采购；请关注重新采购的公告。",
            "The objection was upheld and the tender will not go on as a single source; watch for the new procurement notice.",
        ),
        "min_rating" => (
            "参加社会组织等级评估，取得要求的等级并由民政局登记后方可投标。",
            "Take part in the social-organisation rating; you may bid once the bureau records the rating required.",
        ),
        "min_certified" | "supervisor" | "min_level" => (
            "在“社工”页面登记持证社工或更新其证书，民政局核实证书后计入。",
            "Register certified social workers (or update their certificates) on the social workers page; they count once the bureau verifies the certificates.",
        ),
        "min_certified_share" => (
            "登记持证社工并待民政局核实；如专职人数有误，在“本组织”页面申请更正，核实后生效。",
            "Register certified social workers and have the bureau verify them; if the staff count is wrong, propose the correct one on your organisation's page.",
        ),
        _ => return None,
    })
}

/// Certificate levels from lowest; the index orders them.
pub const LEVEL_ORDER: [&str; 4] = ["none", "assistant", "social_worker", "senior"];

pub fn level_rank(level: &str) -> usize {
    LEVEL_ORDER.iter().position(|l| *l == level).unwrap_or(0)
}

pub fn check_eligibility_template(e: &Eligibility) -> Vec<Broken> {
    let mut out = Vec::new();
    if let Some(r) = e.min_rating
        && !(1..=5).contains(&r)
    {
        out.push(broken(
            "eligibility.min_rating",
            "range",
            "最低等级须为 1A–5A。",
            "The minimum rating is 1 to 5 (A).",
        ));
    }
    if e.min_staff.is_some() {
        out.push(broken(
            "eligibility.min_staff",
            "size_condition",
            "不得以人员规模等规模条件作为资格要求或评审因素（政府采购货物和服务招标投标管理办法第十七条）。",
            "Staff numbers and other size conditions may be neither a qualification nor a scoring factor (MoF Order 87 Art 17).",
        ));
    }
    if let Some(v) = e.min_certified
        && !(0..=10_000).contains(&v)
    {
        out.push(broken(
            "eligibility.min_certified",
            "range",
            "须为 0–10000 的整数。",
            "Must be 0 to 10000.",
        ));
    }
    if let Some(s) = e.min_certified_share_pct
        && (s < Decimal::ZERO || s > Decimal::from(100) || !two_places(s))
    {
        out.push(broken(
            "eligibility.min_certified_share_pct",
            "range",
            "比例须在 0–100% 之间。",
            "The share is 0–100%.",
        ));
    }
    if e.min_certified.is_some() && e.min_certified_share_pct.is_some() {
        out.push(broken(
            "eligibility.min_certified_share_pct",
            "exclusive",
            "持证社工要求请填人数或比例之一。",
            "Give the certified social workers as a count or a share, not both.",
        ));
    }
    if let Some(l) = &e.min_certificate_level
        && !LEVEL_ORDER[1..].contains(&l.as_str())
    {
        out.push(broken(
            "eligibility.min_certificate_level",
            "one_of",
            "证书等级须为 assistant、social_worker 或 senior。",
            "The level is assistant, social_worker or senior.",
        ));
    }
    out
}

/// What the registry knows about a bidder, for eligibility.
#[derive(Clone, Debug, Default)]
pub struct OrgFacts {
    pub rating: Option<i32>,
    pub staff: i32,
    /// Certificate levels of the organisation's current (not departed) social workers.
    pub worker_levels: Vec<String>,
}

/// Every eligibility rule the organisation does not meet (empty when eligible).
pub fn unmet(e: &Eligibility, f: &OrgFacts) -> Vec<Broken> {
    let mut out = Vec::new();
    if let Some(min) = e.min_rating
        && f.rating.unwrap_or(0) < min
    {
        out.push(broken(
            "eligibility.min_rating",
            "min_rating",
            format!(
                "要求社会组织评估等级 {min}A 及以上（现为{}）。",
                f.rating.map(|r| format!("{r}A")).unwrap_or("无等级".into())
            ),
            format!(
                "A rating of {min}A or better is required (now {}).",
                f.rating.map(|r| format!("{r}A")).unwrap_or("none".into())
            ),
        ));
    }
    let certified = f
        .worker_levels
        .iter()
        .filter(|l| level_rank(l) >= 1)
        .count() as i32;
    if let Some(min) = e.min_certified
        && certified < min
    {
        out.push(broken(
            "eligibility.min_certified",
            "min_certified",
            format!("要求持证社工不少于 {min} 人（现为 {certified}）。"),
            format!("At least {min} certified social workers are required (now {certified})."),
        ));
    }
    if let Some(share) = e.min_certified_share_pct {
        let ok = f.staff > 0
            && Decimal::from(certified) * Decimal::from(100) >= Decimal::from(f.staff) * share;
        if !ok {
            out.push(broken(
                "eligibility.min_certified_share_pct",
                "min_certified_share",
                format!(
                    "要求持证社工占工作人员 {share}% 以上（现为 {certified}/{} 人）。",
                    f.staff
                ),
                format!(
                    "Certified social workers must be at least {share}% of staff (now {certified} of {}).",
                    f.staff
                ),
            ));
        }
    }
    if e.supervisor_required
        && !f
            .worker_levels
            .iter()
            .any(|l| level_rank(l) >= level_rank("social_worker"))
    {
        out.push(broken(
            "eligibility.supervisor_required",
            "supervisor",
            "要求配备督导（社会工作师及以上）。",
            "A supervisor (social worker level or above) is required.",
        ));
    }
    if let Some(level) = &e.min_certificate_level
        && !f
            .worker_levels
            .iter()
            .any(|l| level_rank(l) >= level_rank(level))
    {
        out.push(broken(
            "eligibility.min_certificate_level",
            "min_level",
            format!(
                "要求至少一名{}及以上的社工。",
                super::vocab::label(super::vocab::CERTIFICATE_LEVELS, level, true)
            ),
            format!(
                "At least one social worker at level {} or above is required.",
                super::vocab::label(super::vocab::CERTIFICATE_LEVELS, level, false)
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::*;

    mod rust_decimal_macros_free {
        pub fn d(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
    }

    /// Every reason an organisation may be refused comes with what to do about it: each rule `unmet` can
    /// break (an organisation with nothing), each standing reason, and the other refusals of a bid.
    #[test]
    fn every_refusal_names_a_remedy() {
        let none = OrgFacts {
            rating: None,
            staff: 10,
            worker_levels: Vec::new(),
        };
        let count = Eligibility {
            min_rating: Some(3),
            min_certified: Some(1),
            supervisor_required: true,
            min_certificate_level: Some("senior".into()),
            ..Default::default()
        };
        let share = Eligibility {
            min_certified_share_pct: Some(d("30")),
            ..Default::default()
        };
        let mut rules: Vec<&str> = unmet(&count, &none).iter().map(|b| b.rule).collect();
        rules.extend(unmet(&share, &none).iter().map(|b| b.rule));
        assert_eq!(rules.len(), 5, "{rules:?}");
        let others = [
            "dishonesty",
            "court_defaulter",
            "debarment",
            "abnormal",
            "tax_dishonesty",
            "no_annual_report",
            "annual_fail",
            "no_credit_code",
            "not_invited",
            "related_bidder",
            "notice_running",
            "objection_unanswered",
            "objection_upheld",
        ];
        for code in rules.into_iter().chain(others) {
            let (zh, en) = remedy(code).unwrap_or_else(|| panic!("no remedy for {code}"));
            assert!(!zh.is_empty() && en.is_ascii(), "{code}");
        }
        assert_eq!(remedy("required"), None);
    }

    /// 87号令 Art 17: a staff-number condition is refused in the template, and one stored before never
    /// decides eligibility.
    #[test]
    fn art17_staff_numbers_are_no_qualification() {
        let e = Eligibility {
            min_staff: Some(10),
            ..Default::default()
        };
        let b = check_eligibility_template(&e);
        assert_eq!(
            (b.len(), b[0].field.as_str(), b[0].rule),
            (1, "eligibility.min_staff", "size_condition")
        );
        let small = OrgFacts {
            staff: 1,
            ..Default::default()
        };
        assert!(unmet(&e, &small).is_empty());
        assert!(!serde_json::to_string(&e).unwrap().contains("min_staff"));
    }

    #[test]
    fn eligibility_lists_every_unmet_rule() {
        let e = Eligibility {
            min_rating: Some(3),
            min_staff: None,
            min_certified: Some(3),
            min_certified_share_pct: None,
            supervisor_required: true,
            min_certificate_level: Some("senior".into()),
        };
        let weak = OrgFacts {
            rating: Some(2),
            staff: 5,
            worker_levels: vec!["assistant".into(), "none".into()],
        };
        let rules: Vec<_> = unmet(&e, &weak).iter().map(|b| b.rule).collect();
        assert_eq!(
            rules,
            vec!["min_rating", "min_certified", "supervisor", "min_level"]
        );
        let strong = OrgFacts {
            rating: Some(4),
            staff: 12,
            worker_levels: vec!["assistant".into(), "social_worker".into(), "senior".into()],
        };
        assert!(unmet(&e, &strong).is_empty());
        let share = Eligibility {
            min_certified_share_pct: Some(d("50")),
            ..Default::default()
        };
        assert_eq!(unmet(&share, &strong).len(), 1, "3 of 12 is 25 %");
        let mut half = strong.clone();
        half.staff = 6;
        assert!(unmet(&share, &half).is_empty(), "3 of 6 is 50 %");
    }
}
