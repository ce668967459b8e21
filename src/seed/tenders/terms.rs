//! The terms of a demo tender: its schedule, criteria, instalments, targets, eligibility, title and texts.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Times.

/// A Beijing wall-clock time as stored (naive UTC).
pub(super) fn bj(d: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    crate::clock::shanghai()
        .from_local_datetime(&d.and_hms_opt(h, m, 0).expect("valid time"))
        .single()
        .expect("fixed offset")
        .naive_utc()
}

pub(super) fn day_of(t: NaiveDateTime) -> NaiveDate {
    crate::tenders::today(t.and_utc())
}

fn next_working(ctx: &Ctx, mut d: NaiveDate) -> NaiveDate {
    while !ctx.cal.is_working_day(d) {
        d += Duration::days(1);
    }
    d
}

/// When each step of a tender happens, from its publication on.
#[derive(Clone, Debug)]
pub(super) struct Times {
    pub(super) created: NaiveDateTime,
    pub(super) published: NaiveDateTime,
    pub(super) enquiry_deadline: NaiveDateTime,
    pub(super) bid_deadline: NaiveDateTime,
    pub(super) opening: NaiveDateTime,
    /// The panel is seated.
    pub(super) evaluating: NaiveDateTime,
    /// The last evaluator submits.
    pub(super) evaluated: NaiveDateTime,
    pub(super) award_proposed: NaiveDateTime,
    pub(super) publicity_start: NaiveDateTime,
    pub(super) publicity_ends: NaiveDateTime,
    pub(super) challenge_ends: NaiveDateTime,
    pub(super) signed_on: NaiveDate,
    pub(super) contracted: NaiveDateTime,
}

/// The usual course of a tender published on (or after) `published_on`: the method's response time to the
/// bid deadline, opening half an hour later, the evaluation that afternoon, the award proposal and the
/// result notice on the following working days, then publicity and the challenge window counted exactly as
/// `evaluation::publish_result` counts them, and the contract one to two weeks after the award.
pub(super) fn schedule(ctx: &Ctx, published_on: NaiveDate, method: Method, seed: u64) -> Times {
    let p = next_working(ctx, published_on);
    let response = match method {
        Method::Open | Method::Invited => roll(sub(seed, 1), 21, 25),
        _ => roll(sub(seed, 1), 12, 16),
    };
    let bid_day = next_working(ctx, p + Duration::days(response));
    let bid_deadline = bj(bid_day, 9, 30);
    let opening = bid_deadline + Duration::minutes(30);
    let award_day = next_working(ctx, bid_day + Duration::days(1));
    let publicity_day = next_working(ctx, award_day + Duration::days(1));
    let publicity_start = bj(publicity_day, 9, 0);
    let publicity_ends = crate::tenders::working_days_end(
        &ctx.cal,
        publicity_start.and_utc(),
        ctx.rules.publicity_working_days,
    );
    let challenge_ends = crate::tenders::working_days_end(
        &ctx.cal,
        publicity_ends.and_utc() - Duration::hours(1),
        ctx.rules.challenge_working_days,
    );
    let signed_on = next_working(
        ctx,
        day_of(challenge_ends) + Duration::days(roll(sub(seed, 2), 3, 12)),
    );
    Times {
        created: bj(p - Duration::days(roll(sub(seed, 3), 2, 6)), 15, 0),
        published: bj(p, 9, 30),
        enquiry_deadline: bj(bid_day - Duration::days(5), 17, 0),
        bid_deadline,
        opening,
        evaluating: opening + Duration::hours(1),
        evaluated: opening + Duration::hours(4),
        award_proposed: bj(award_day, 10, 0),
        publicity_start,
        publicity_ends,
        challenge_ends,
        signed_on,
        contracted: bj(signed_on, 10, 0),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Tender terms.

pub(super) fn criteria(ctx: &Ctx, seed: u64) -> Criteria {
    // Price weight 30 or 20, kept inside the configured range; the service plan takes what is left.
    let want = Decimal::from(if seed.is_multiple_of(3) { 20 } else { 30 });
    let w = want.clamp(ctx.rules.price_weight_min, ctx.rules.price_weight_max);
    let item = |key: &str, name: &str, category, points: Decimal| Criterion {
        key: key.into(),
        name: name.into(),
        category,
        max_points: points,
    };
    let fixed = Decimal::from(15 + 10 + 10 + 5);
    Criteria {
        fixed_price_fen: None,
        price_weight_pct: w,
        items: vec![
            item(
                "plan",
                "服务方案",
                Category::Technical,
                Decimal::from(100) - w - fixed,
            ),
            item(
                "team",
                "团队配置与专业能力",
                Category::Technical,
                Decimal::from(15),
            ),
            item(
                "quality",
                "质量控制与绩效管理",
                Category::Technical,
                Decimal::from(10),
            ),
            item(
                "experience",
                "同类项目业绩",
                Category::Commercial,
                Decimal::from(10),
            ),
            item(
                "credit",
                "信用记录与评估等级",
                Category::Commercial,
                Decimal::from(5),
            ),
        ],
        tie_break: rules::TieBreak::Draw,
    }
}

pub(super) fn instalments() -> Vec<Instalment> {
    [("签约", 30), ("中期评估", 40), ("末期验收", 30)]
        .into_iter()
        .map(|(m, p)| Instalment {
            milestone: m.into(),
            pct: Decimal::from(p),
        })
        .collect()
}

/// Targets in proportion to the budget: about one visit per ¥25, a fifth as many people, a session per
/// ¥2,500, 90 % satisfaction.
pub(super) fn targets(budget_fen: i64) -> Targets {
    let yuan = budget_fen / 100;
    let visits = (yuan / 25).max(100);
    Targets {
        visits,
        people: visits / 5,
        sessions: (yuan / 2500).max(10),
        satisfaction_pct: Decimal::from(90),
    }
}

/// What a bidder offers: at least the tender's targets.
pub(super) fn offer(t: &Targets, seed: u64) -> Targets {
    let visits = t.visits * roll(sub(seed, 1), 100, 115) / 100;
    Targets {
        visits,
        people: (t.people * roll(sub(seed, 2), 100, 110) / 100).min(visits),
        sessions: t.sessions + roll(sub(seed, 3), 0, 10),
        satisfaction_pct: Decimal::from(roll(sub(seed, 4), 90, 95)),
    }
}

/// Eligibility templates, strictest first; open tenders ask more.
pub(super) fn eligibility_for(method: Method, seed: u64) -> Eligibility {
    match (method, seed % 3) {
        (Method::Open, _) => Eligibility {
            min_certified: Some(2),
            supervisor_required: true,
            ..Default::default()
        },
        (_, 0) => Eligibility {
            min_certified: Some(2),
            supervisor_required: true,
            ..Default::default()
        },
        _ => Eligibility {
            min_certified: Some(1),
            ..Default::default()
        },
    }
}

pub(super) fn light_eligibility() -> Eligibility {
    Eligibility::default()
}

pub(super) fn field_zh(field: &str) -> &'static str {
    crate::registry::orgs::FIELDS
        .iter()
        .find(|(k, _, _)| *k == field)
        .map(|(_, zh, _)| *zh)
        .unwrap_or("社会服务")
}

pub(super) fn title_suffixes(field: &str) -> &'static [&'static str] {
    match field {
        "elderly" => &[
            "居家养老上门服务项目",
            "社区老年人助餐服务项目",
            "失能半失能老人照护服务项目",
            "社区日间照料中心运营服务项目",
            "高龄独居老人关爱服务项目",
        ],
        "youth" => &[
            "青少年成长护航社工服务项目",
            "困境青少年帮扶服务项目",
            "青少年心理健康服务项目",
            "“四点半课堂”课后托管服务项目",
        ],
        "disability" => &[
            "残疾人康复助残服务项目",
            "残疾人居家托养服务项目",
            "残疾人辅助性就业支持项目",
            "精神障碍社区康复服务项目",
        ],
        _ => &[
            "困难群众社会救助帮扶项目",
            "低保边缘家庭救助服务项目",
            "临时救助对象跟踪帮扶项目",
            "“物质+服务”社会救助试点项目",
        ],
    }
}

pub(super) fn service_text(field: &str) -> &'static str {
    match field {
        "elderly" => {
            "为辖区 60 周岁以上居家老年人，特别是高龄、独居、失能半失能和经济困难老人，提供生活照料、助餐助洁、健康管理、精神慰藉和紧急援助等服务，建立老人服务档案，链接社区志愿者定期探访。"
        }
        "youth" => {
            "面向辖区青少年及其家庭，开展成长辅导、心理支持、学业帮扶、安全教育和亲子活动，对困境、留守及有不良行为的青少年进行个案跟进，联动学校、社区和家庭织密保护网络。"
        }
        "disability" => {
            "面向辖区持证残疾人及其家庭，开展康复训练指导、居家探访、辅具适配咨询、社会融入小组和就业能力培训，为重度残疾人提供照护支持并为照护者提供喘息服务。"
        }
        _ => {
            "面向辖区低保、特困、低保边缘及临时救助对象，开展需求评估、个案帮扶、资源链接、能力提升和心理疏导，推动“物质+服务”救助，协助街道做好动态监测和主动发现。"
        }
    }
}

/// Lines summing to the price within the programme's shares: staff and management within their least and
/// most (integer division rounds down, so a share never tops its cap; a least is rounded up), activities
/// taking the rest.
pub(super) fn budget_lines(ctx: &Ctx, price: i64, seed: u64) -> Vec<BudgetLine> {
    let within = |pct: i64, line: &str| {
        let most = ctx
            .rules
            .max_share(line)
            .map_or(100, |d| i64::try_from(d.floor()).unwrap_or(0));
        let least = ctx
            .rules
            .min_share(line)
            .map_or(0, |d| i64::try_from(d.ceil()).unwrap_or(0));
        pct.max(least).min(most)
    };
    let staff_pct = within(roll(sub(seed, 1), 40, 50), "staff");
    let mgmt_pct = within(roll(sub(seed, 2), 5, 10), "management");
    let mut lines: Vec<(&str, i64)> = vec![
        ("staff", price * staff_pct / 100),
        ("activities", 0),
        ("supervision", price * roll(sub(seed, 3), 4, 8) / 100),
        ("publicity", price * 2 / 100),
        ("office", price * 3 / 100),
        ("management", price * mgmt_pct / 100),
        ("taxes", price * 6 / 100),
    ];
    let rest = price - lines.iter().map(|l| l.1).sum::<i64>();
    lines[1].1 = rest;
    lines
        .into_iter()
        .filter(|(_, a)| *a > 0)
        .map(|(line, amount_fen)| BudgetLine {
            line: line.into(),
            amount_fen,
        })
        .collect()
}
