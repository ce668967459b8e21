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
