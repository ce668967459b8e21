//! The current tenders, one or more in every state of the life cycle.

use super::*;

// -----------------------------------------------------------------------------------------------------
// Current tenders, one or more in every state.

impl Seeder<'_> {
    pub(super) fn current(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        self.draft(conn)?;
        self.published(conn)?;
        self.closed(conn)?;
        let runs = [
            (State::Opened, "youth", Method::Consultation, 3),
            (State::Evaluating, "disability", Method::Consultation, 3),
            (State::Evaluated, "relief", Method::Consultation, 3),
            (State::AwardProposed, "elderly", Method::Open, 3),
            (State::Publicity, "youth", Method::Consultation, 2),
            (State::Challenge, "disability", Method::Consultation, 3),
            (State::Failed, "elderly", Method::Consultation, 1),
        ];
        for (i, (target, field, method, n)) in runs.into_iter().enumerate() {
            self.current_run(conn, target, field, method, n, 0x00C0_0000 + i as u64)?;
        }
        self.cancelled(conn)?;
        Ok(())
    }

    /// A budget for a current tender (¥100,000–¥300,000) and a winning price a little under it.
    fn current_money(seed: u64) -> (i64, i64) {
        let budget = roll(sub(seed, 20), 10, 30) * 10_000 * 100;
        let price = round_hundred(budget / 100 * roll(sub(seed, 21), 88, 97) / 100) * 100;
        (budget, price)
    }

    /// Whether a tender on schedule `t` is, at `now`, exactly in `target` and not yet due to move on.
    fn fits(&self, target: State, t: &Times) -> bool {
        let now = crate::db::now_micros(self.now);
        let h = Duration::hours(1);
        match target {
            State::Opened | State::Failed => t.opening + h <= now,
            State::Evaluating => t.evaluating + h <= now,
            State::Evaluated => t.evaluated + h <= now,
            State::AwardProposed => t.award_proposed + h <= now,
            State::Publicity => t.publicity_start + h <= now && now + h < t.publicity_ends,
            State::Challenge => t.publicity_ends + h * 3 <= now && now + h * 12 < t.challenge_ends,
            _ => false,
        }
    }

    fn current_run(
        &mut self,
        conn: &mut DbConn,
        target: State,
        field: &'static str,
        method: Method,
        n: usize,
        seed: u64,
    ) -> Result<(), AppError> {
        // The latest publication date whose schedule puts the tender in `target` now.
        let today = self.today();
        let Some(times) = (3..120)
            .map(|k| schedule(self.ctx, today - Duration::days(k), method, seed))
            .find(|t| self.fits(target, t))
        else {
            return Err(AppError::internal(format!(
                "no schedule fits a demo tender in {}",
                target.as_str()
            )));
        };
        let (budget, amount) = Self::current_money(seed);
        let street = Some((seed % 8) as usize);
        let plan = self.plan(field, street, method, budget, self.service_year(), 12, seed);
        let (elig, bidders) = self.choose(field, plan.eligibility.clone(), n, seed, None);
        let plan = Plan {
            eligibility: elig,
            ..plan
        };
        let winner = 0;
        let run = Run {
            prices: Self::prices(bidders.len(), winner, amount, budget, seed),
            plan,
            times: times.clone(),
            target,
            bidders,
            winner,
            panel: rules::min_panel(method, budget).min(self.w.evaluators.len()),
            seed,
        };
        let id = self.run(conn, &run)?;
        if target == State::Challenge && run.bidders.len() > 1 {
            self.challenge(conn, id, &run)?;
        }
        Ok(())
    }

    /// An open challenge from the runner-up, filed two hours into the challenge window.
    fn challenge(&mut self, conn: &mut DbConn, tender_id: i64, r: &Run) -> Result<(), AppError> {
        let o = self.w.orgs[r.bidders[(r.winner + 1) % r.bidders.len()]].clone();
        let filed = r.times.publicity_ends + Duration::hours(2);
        let (due, _) = self
            .ctx
            .cal
            .add_working_days(day_of(filed), self.ctx.rules.answer_working_days);
        let id: i64 = diesel::insert_into(challenges::table)
            .values((
                challenges::tender_id.eq(tender_id),
                challenges::organisation_id.eq(o.id),
                challenges::filed_by.eq(o.user_id),
                challenges::grounds.eq("我方认为中标人拟派项目负责人同时在本区其他购买服务项目任职，“团队配置与专业能力”一项评分依据不足；另中标人承诺的服务人次明显高于其现有人员的服务能力。请求复核评分并说明理由。"),
                challenges::filed_at.eq(filed),
                challenges::answer_due.eq(due),
                challenges::status.eq("open"),
            ))
            .returning(challenges::id)
            .get_result(conn)?;
        self.event(
            tender_id,
            filed,
            Some(State::Challenge),
            State::Challenge,
            &o.username,
            Some(crate::domain::tender::Note::ChallengeFiled {
                id,
                subject: None,
                due,
            }),
        );
        Ok(())
    }

    /// Times for a tender still before its deadline: all relative to today.
    fn ahead(&self, created: i64, published: i64, enquiry: i64, deadline: i64) -> Times {
        let d = |n: i64| self.today() + Duration::days(n);
        let bid_deadline = bj(d(deadline), 9, 30);
        let opening = bid_deadline + Duration::minutes(30);
        let far = bj(d(deadline + 30), 9, 0);
        Times {
            created: bj(d(created), 15, 0),
            published: bj(d(published), 9, 30),
            enquiry_deadline: bj(d(enquiry), 17, 0),
            bid_deadline,
            opening,
            evaluating: far,
            evaluated: far,
            award_proposed: far,
            publicity_start: far,
            publicity_ends: far,
            challenge_ends: far,
            signed_on: d(deadline + 30),
            contracted: far,
        }
    }

    fn draft(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let seed = 0x00D0_0001;
        let t = self.ahead(-1, 0, 15, 20);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan(
            "elderly",
            Some(5),
            Method::Consultation,
            budget,
            self.service_year(),
            12,
            seed,
        );
        let id = self.insert_tender(conn, &plan, State::Draft, &t, false, None)?;
        let bureau = self.w.bureau.username.clone();
        self.timeline(id, vec![(State::Draft, t.created, bureau, None)]);
        Ok(())
    }

    /// A tender open for bids, with sealed bids from `orgs` submitted `k` days ago.
    fn open_for_bids(
        &mut self,
        conn: &mut DbConn,
        plan: &Plan,
        t: &Times,
        orgs: &[usize],
        seed: u64,
    ) -> Result<i64, AppError> {
        let id = self.insert_tender(conn, plan, State::Published, t, true, None)?;
        for (j, org) in orgs.iter().enumerate() {
            let at = bj(self.today() - Duration::days(1), 10 + j as u32, 15);
            let price =
                round_hundred(plan.budget_fen / 100 * roll(sub(seed, 30 + j as u64), 88, 99) / 100)
                    * 100;
            self.bid(
                conn,
                id,
                plan,
                *org,
                price,
                at,
                false,
                sub(seed, 40 + j as u64),
            )?;
        }
        let bureau = self.w.bureau.username.clone();
        self.timeline(
            id,
            vec![
                (State::Draft, t.created, bureau.clone(), None),
                (State::Published, t.published, bureau, None),
            ],
        );
        Ok(id)
    }

    /// Three tenders open for bids: a consultation with an answered enquiry, an open tender with an
    /// unanswered one, and an invited tender with three invited organisations.
    fn published(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let year = self.service_year();
        // Consultation, 18 days' response: an enquiry asked and answered well before the deadline (so the
        // answer does not move it).
        let seed = 0x00B0_0001;
        let t = self.ahead(-8, -6, 5, 12);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan(
            "youth",
            Some(2),
            Method::Consultation,
            budget,
            year,
            12,
            seed,
        );
        let (elig, orgs) = self.choose("youth", plan.eligibility.clone(), 2, seed, None);
        let plan = Plan {
            eligibility: elig,
            ..plan
        };
        let id = self.open_for_bids(conn, &plan, &t, &orgs[..1], seed)?;
        let asker = self.w.orgs[orgs[1 % orgs.len()]].clone();
        self.enquiry(
            conn,
            id,
            &asker,
            bj(self.today() - Duration::days(4), 10, 20),
            "招标文件要求的“服务人次”是否包含线上咨询服务？团队中的兼职社工能否计入拟派人员？",
            Some((
                bj(self.today() - Duration::days(3), 15, 0),
                "线上咨询服务可计入服务人次，但须有服务记录可查，且不超过总人次的 20%。拟派人员须为本组织在职社工，兼职社工可以计入，请在投标文件中注明工作时间安排。",
            )),
        )?;
        // Open tender, 23 days' response, with a question still waiting for its answer.
        let seed = 0x00B0_0002;
        let t = self.ahead(-7, -5, 8, 18);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan("disability", None, Method::Open, budget, year, 24, seed);
        let (elig, orgs) = self.choose("disability", plan.eligibility.clone(), 3, seed, None);
        let plan = Plan {
            eligibility: elig,
            ..plan
        };
        let id = self.open_for_bids(conn, &plan, &t, &orgs[..2.min(orgs.len())], seed)?;
        let asker = self.w.orgs[orgs[orgs.len() - 1]].clone();
        self.enquiry(
            conn,
            id,
            &asker,
            bj(self.today() - Duration::days(1), 16, 40),
            "项目覆盖全区 8 个街道，是否要求在每个街道设立固定服务站点？康复训练场地能否使用社区提供的公共用房？",
            None,
        )?;
        // Invited tender to three organisations, 24 days' response; one has already bid.
        let seed = 0x00B0_0003;
        let t = self.ahead(-4, -2, 10, 22);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan("relief", Some(6), Method::Invited, budget, year, 12, seed);
        let (elig, orgs) = self.choose("relief", plan.eligibility.clone(), 3, seed, None);
        let mut invited: Vec<i64> = orgs.iter().map(|k| self.w.orgs[*k].id).collect();
        invited.sort_unstable();
        let plan = Plan {
            eligibility: elig,
            invited,
            ..plan
        };
        self.open_for_bids(conn, &plan, &t, &orgs[..1], seed)?;
        Ok(())
    }

    fn enquiry(
        &mut self,
        conn: &mut DbConn,
        tender_id: i64,
        asker: &Org,
        asked_at: NaiveDateTime,
        question: &str,
        answer: Option<(NaiveDateTime, &str)>,
    ) -> QueryResult<()> {
        diesel::insert_into(enquiries::table)
            .values((
                enquiries::tender_id.eq(tender_id),
                enquiries::organisation_id.eq(asker.id),
                enquiries::asked_by.eq(asker.user_id),
                enquiries::question.eq(question),
                enquiries::asked_at.eq(asked_at),
                enquiries::answer.eq(answer.map(|a| a.1)),
                enquiries::answered_at.eq(answer.map(|a| a.0)),
                enquiries::answered_by.eq(answer.map(|_| self.w.bureau.id)),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Bidding closed yesterday; the opening is set for tomorrow morning, so the three bids stay sealed.
    fn closed(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let seed = 0x00B0_0004;
        let mut t = self.ahead(-18, -16, -6, -1);
        t.bid_deadline = bj(self.today() - Duration::days(1), 17, 0);
        t.opening = bj(self.today() + Duration::days(1), 9, 30);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan(
            "elderly",
            Some(3),
            Method::Consultation,
            budget,
            self.service_year(),
            12,
            seed,
        );
        let (elig, orgs) = self.choose("elderly", plan.eligibility.clone(), 3, seed, None);
        let plan = Plan {
            eligibility: elig,
            ..plan
        };
        let id = self.insert_tender(conn, &plan, State::Closed, &t, true, None)?;
        let times = Self::bid_times(&t, orgs.len(), seed);
        for (j, org) in orgs.iter().enumerate() {
            let price =
                round_hundred(budget / 100 * roll(sub(seed, 30 + j as u64), 88, 99) / 100) * 100;
            self.bid(
                conn,
                id,
                &plan,
                *org,
                price,
                times[j],
                false,
                sub(seed, 40 + j as u64),
            )?;
        }
        let bureau = self.w.bureau.username.clone();
        self.timeline(
            id,
            vec![
                (State::Draft, t.created, bureau.clone(), None),
                (State::Published, t.published, bureau, None),
                (State::Closed, t.bid_deadline, "scheduler".into(), None),
            ],
        );
        Ok(())
    }

    fn cancelled(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let seed = 0x00B0_0005;
        let t = self.ahead(-12, -10, 2, 8);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan(
            "relief",
            Some(0),
            Method::Consultation,
            budget,
            self.service_year(),
            12,
            seed,
        );
        let reason =
            "因区级财政预算调整，本项目暂停采购，待资金落实后重新发布采购公告。".to_string();
        let id = self.insert_tender(
            conn,
            &plan,
            State::Cancelled,
            &t,
            true,
            Some(crate::domain::tender::Note::said(&reason).stored()),
        )?;
        let cancelled_at = self.ts(-Duration::days(2));
        let bureau = self.w.bureau.username.clone();
        self.timeline(
            id,
            vec![
                (State::Draft, t.created, bureau.clone(), None),
                (State::Published, t.published, bureau.clone(), None),
                (
                    State::Cancelled,
                    cancelled_at,
                    bureau,
                    Some(crate::domain::tender::Note::said(reason)),
                ),
            ],
        );
        self.touch(conn, id, cancelled_at)?;
        Ok(())
    }

    /// Write the rows gathered in memory, in chunks small enough for any SQLite's bound-parameter limit.
    pub(super) fn flush(&mut self, conn: &mut DbConn) -> QueryResult<()> {
        for c in self.areas.chunks(200) {
            insert_batch!(conn, tender_streets::table, c);
        }
        for c in self.events.chunks(120) {
            insert_batch!(conn, tender_events::table, c);
        }
        for c in self.members.chunks(100) {
            insert_batch!(conn, panel_members::table, c);
        }
        for c in self.draws.chunks(200) {
            insert_batch!(conn, panel_draws::table, c);
        }
        for c in self.scores.chunks(200) {
            insert_batch!(conn, bid_scores::table, c);
        }
        Ok(())
    }
}
