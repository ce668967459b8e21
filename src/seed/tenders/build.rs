//! The seeder's building blocks: codes, areas, titles, plans, and the rows of tenders, bids and panels.

use super::*;

impl Seeder<'_> {
    pub(super) fn ts(&self, d: Duration) -> NaiveDateTime {
        crate::db::now_micros(self.now + d)
    }

    pub(super) fn today(&self) -> NaiveDate {
        crate::tenders::today(self.now)
    }

    /// The year current tenders buy service for: from October on, the bureau procures next year's.
    pub(super) fn service_year(&self) -> i32 {
        let d = self.today();
        if d.month() >= 10 {
            d.year() + 1
        } else {
            d.year()
        }
    }

    pub(super) fn next_code(&mut self, at: NaiveDateTime) -> String {
        let year = day_of(at).year();
        let n = self.codes.entry(year).or_insert(0);
        *n += 1;
        format!("GDMZ-{year}-{:03}", *n)
    }

    /// Bidders for a tender: distinct, not barred, serving the field and meeting the eligibility when
    /// enough do. Tries the given eligibility, then a light one; the last resort is any organisation not
    /// barred. With `on`, only organisations registered by that day. Returns the eligibility actually used.
    pub(super) fn choose(
        &self,
        field: &str,
        e: Eligibility,
        n: usize,
        seed: u64,
        on: Option<NaiveDate>,
    ) -> (Eligibility, Vec<usize>) {
        let ok = |o: &Org, e: &Eligibility, any_field: bool| {
            !o.barred
                && on.is_none_or(|d| o.registered_on.is_some_and(|r| r <= d))
                && (any_field || o.fields.iter().any(|f| f == field))
                && rules::unmet(e, &o.facts).is_empty()
        };
        let attempts = [
            (e, false),
            (light_eligibility(), false),
            (Eligibility::default(), true),
        ];
        let last = attempts.len() - 1;
        for (i, (e, any_field)) in attempts.into_iter().enumerate() {
            let mut c: Vec<usize> = (0..self.w.orgs.len())
                .filter(|&k| ok(&self.w.orgs[k], &e, any_field))
                .collect();
            if c.len() >= n || i == last {
                c.sort_by_key(|&k| mix(seed ^ (self.w.orgs[k].id as u64).wrapping_mul(0x9E37)));
                c.truncate(n);
                return (e, c);
            }
        }
        unreachable!("the last attempt returns")
    }

    /// One street (by index), or the whole district.
    fn area(&self, street: Option<usize>, seed: u64) -> (String, Vec<i64>, Vec<i64>) {
        match street {
            Some(k) => {
                let (id, name) = self.w.streets[k % self.w.streets.len()].clone();
                let mut comms = Vec::new();
                if seed.is_multiple_of(3)
                    && let Some(cs) = self.w.communities.get(&id).filter(|cs| !cs.is_empty())
                {
                    let a = (mix(seed) % cs.len() as u64) as usize;
                    comms.push(cs[a]);
                    comms.push(cs[(a + 1) % cs.len()]);
                    comms.sort_unstable();
                    comms.dedup();
                }
                (name, vec![id], comms)
            }
            None => (
                String::new(),
                self.w.streets.iter().map(|s| s.0).collect(),
                vec![],
            ),
        }
    }

    /// A title not used yet: the first free project name for the field, from a seeded start; a repeated
    /// one becomes the project's second phase.
    fn title(&self, field: &str, street_name: &str, year: i32, seed: u64) -> String {
        let suffixes = title_suffixes(field);
        let start = (mix(sub(seed, 11)) % suffixes.len() as u64) as usize;
        let names: Vec<String> = (0..suffixes.len())
            .map(|k| {
                format!(
                    "{year}年官渡区{street_name}{}",
                    suffixes[(start + k) % suffixes.len()]
                )
            })
            .collect();
        names
            .iter()
            .find(|n| !self.titles.contains(*n))
            .cloned()
            .unwrap_or_else(|| format!("{}（二期）", names[0]))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "demo data: the parameters of one generated tender or bid"
    )]
    pub(super) fn plan(
        &self,
        field: &'static str,
        street: Option<usize>,
        method: Method,
        budget_fen: i64,
        year: i32,
        term_months: i32,
        seed: u64,
    ) -> Plan {
        let (street_name, street_ids, community_ids) = self.area(street, seed);
        let title = self.title(field, &street_name, year, seed);
        let targets = targets(budget_fen);
        let scope = if street_name.is_empty() {
            "服务范围覆盖官渡区 8 个街道。".to_string()
        } else {
            format!("服务范围为{street_name}辖区。")
        };
        let description = format!(
            "为落实官渡区{}工作部署，区民政局以{}方式向社会组织购买本项目服务。{scope}{}服务期 {term_months} 个月。绩效目标：服务 {} 人、{} 人次，开展活动或小组 {} 节，服务对象满意度不低于 {}%。预算上限 {} 元，按签约、中期评估、末期验收 30%/40%/30% 分期支付。",
            field_zh(field),
            method.label(true),
            service_text(field),
            targets.people,
            targets.visits,
            targets.sessions,
            targets.satisfaction_pct,
            crate::money::yuan_grouped(budget_fen),
        );
        Plan {
            field,
            title,
            description,
            street_ids,
            community_ids,
            budget_fen,
            method,
            term_months,
            term_reason: (term_months > 12).then(|| {
                "项目预算已纳入区级中期财政规划，服务对象需要稳定连续的服务关系。".to_string()
            }),
            eligibility: eligibility_for(method, seed),
            criteria: criteria(self.ctx, seed),
            targets,
            invited: vec![],
        }
    }

    pub(super) fn insert_tender(
        &mut self,
        conn: &mut DbConn,
        p: &Plan,
        state: State,
        t: &Times,
        published: bool,
        end_reason: Option<String>,
    ) -> Result<i64, AppError> {
        let check = |b: Vec<rules::Broken>, what: &str| -> Result<(), AppError> {
            match b.first() {
                None => Ok(()),
                Some(x) => Err(AppError::internal(format!(
                    "demo tender {what} breaks {}: {}",
                    x.field, x.en
                ))),
            }
        };
        check(
            rules::check_criteria(&p.criteria, Some(p.method), &self.ctx.rules),
            "criteria",
        )?;
        check(rules::check_instalments(&instalments()), "instalments")?;
        check(rules::check_targets("targets", &p.targets), "targets")?;
        check(
            rules::check_eligibility_template(&p.eligibility),
            "eligibility",
        )?;
        check(
            rules::check_term(p.term_months, p.term_reason.as_deref()),
            "term",
        )?;
        let at = |s: State| reached(state, s).then_some(());
        self.titles.insert(p.title.clone());
        let row = NewTender {
            code: self.next_code(if published { t.published } else { t.created }),
            title: p.title.clone(),
            description: p.description.clone(),
            field: p.field.into(),
            communities: json(&p.community_ids),
            budget_fen: p.budget_fen,
            method: p.method.as_str().into(),
            term_months: p.term_months,
            term_reason: p.term_reason.clone(),
            eligibility: json(&p.eligibility),
            criteria: json(&p.criteria),
            targets: json(&p.targets),
            instalments: json(&instalments()),
            invited: json(&p.invited),
            state: state.as_str().into(),
            published_at: published.then_some(t.published),
            enquiry_deadline: t.enquiry_deadline,
            bid_deadline: t.bid_deadline,
            opening_at: t.opening,
            evaluated_at: at(State::Evaluated).map(|_| t.evaluated),
            publicity_ends: at(State::Publicity).map(|_| t.publicity_ends),
            challenge_ends: at(State::Publicity).map(|_| t.challenge_ends),
            awarded_at: at(State::Awarded).map(|_| t.challenge_ends),
            contract_signed_on: at(State::Contracted).map(|_| t.signed_on),
            end_reason,
            created_by: self.w.bureau.id,
            created_at: t.created,
            updated_at: last_change(state, t),
            result_published_at: at(State::Publicity).map(|_| t.publicity_start),
        };
        let id: i64 = diesel::insert_into(tenders::table)
            .values(&row)
            .returning(tenders::id)
            .get_result(conn)?;
        for s in &p.street_ids {
            self.areas.push(NewArea {
                tender_id: id,
                street_id: *s,
            });
        }
        *self.by_state.entry(state.as_str()).or_default() += 1;
        Ok(id)
    }

    /// Seal one bid as `bids::submit` does; when `open`, also store what opening reveals.
    #[expect(
        clippy::too_many_arguments,
        reason = "demo data: the parameters of one generated tender or bid"
    )]
    pub(super) fn bid(
        &mut self,
        conn: &mut DbConn,
        tender_id: i64,
        p: &Plan,
        org: usize,
        price_fen: i64,
        at: NaiveDateTime,
        open: bool,
        seed: u64,
    ) -> Result<i64, AppError> {
        let o = &self.w.orgs[org];
        let staff: Vec<StaffEntry> = o.staff.iter().take(4).cloned().collect();
        let targets = offer(&p.targets, seed);
        let names: Vec<&str> = staff.iter().map(|s| s.name.as_str()).collect();
        let plan = format!(
            "{}服务方案：设项目负责人 1 名，拟派 {} 名社工{}组成项目团队，在服务区域设立服务站点。前期开展需求调研并为服务对象建档；中期以个案、小组和社区活动相结合推进服务，每月督导一次；末期开展成效评估并形成服务报告。承诺服务 {} 人、{} 人次，开展活动 {} 节，满意度不低于 {}%。",
            o.name,
            staff.len(),
            if names.is_empty() {
                String::new()
            } else {
                format!("（{}）", names.join("、"))
            },
            targets.people,
            targets.visits,
            targets.sessions,
            targets.satisfaction_pct,
        );
        let budget = budget_lines(self.ctx, price_fen, seed);
        if let Some(b) = rules::check_budget(&budget, price_fen, &self.ctx.rules).first() {
            return Err(AppError::internal(format!(
                "demo bid budget breaks {}",
                b.rule
            )));
        }
        let content = BidContent {
            tender_id,
            organisation_id: o.id,
            price_fen,
            plan,
            budget,
            staff,
            targets,
            attachments: vec![],
        };
        let canonical = json(&content);
        let nonce = self.ctx.sealer.commitment_nonce();
        let commitment = crate::tenders::bids::commitment_of(FIELDWISE, &canonical, &nonce)
            .expect("canonical content and nonce by construction");
        let payload = serde_json::to_vec(&SealedPayload {
            content: &canonical,
            nonce: &nonce,
            files: &[],
        })
        .expect("plain values serialise");
        let (sealed, seal_nonce) = self.ctx.sealer.seal(&seal::aad(tender_id, o.id), &payload);
        let row = NewBid {
            tender_id,
            organisation_id: o.id,
            submitted_by: o.user_id,
            status: "active".into(),
            submitted_at: at,
            idem_key: format!("seed-{tender_id}-{}", o.id),
            // Any hex will do: seeded bids are never retried.
            request_hash: hex::encode(Sha256::digest(canonical.as_bytes())),
            sealed,
            seal_nonce,
            commitment,
            commit_scheme: FIELDWISE,
            opened_json: open.then(|| canonical.clone()),
            commit_nonce: open.then(|| nonce.clone()),
            price_fen: open.then_some(price_fen),
        };
        let id: i64 = diesel::insert_into(bids::table)
            .values(&row)
            .returning(bids::id)
            .get_result(conn)?;
        self.bids += 1;
        Ok(id)
    }

    pub(super) fn event(
        &mut self,
        tender_id: i64,
        at: NaiveDateTime,
        from: Option<State>,
        to: State,
        actor: &str,
        note: Option<crate::domain::tender::Note>,
    ) {
        self.events.push(NewEvent {
            tender_id,
            at,
            from_state: from.map(|s| s.as_str().to_string()),
            to_state: to.as_str().into(),
            note: note.map(|n| n.stored()),
            actor_name: actor.into(),
        });
    }

    /// Timeline rows for a path of (state, time, actor, note), each from the state before it.
    pub(super) fn timeline(
        &mut self,
        tender_id: i64,
        path: Vec<(
            State,
            NaiveDateTime,
            String,
            Option<crate::domain::tender::Note>,
        )>,
    ) {
        let mut from = None;
        for (s, at, actor, note) in path {
            self.event(tender_id, at, from, s, &actor, note);
            from = Some(s);
        }
    }

    /// Scores of one evaluator: the designated winner high on every criterion, the others clearly lower,
    /// so the winner ranks first even against a cheaper bid (see `check_winner_first`).
    fn score_rows(
        criteria: &Criteria,
        bids: &[(i64, bool)],
        evaluator: i64,
        seed: u64,
    ) -> Vec<NewScore> {
        let mut out = Vec::new();
        for (j, (bid, winner)) in bids.iter().enumerate() {
            for (k, c) in criteria.items.iter().enumerate() {
                let s = sub(seed, (j * 16 + k) as u64);
                let pct = if *winner {
                    roll(s, 86, 96)
                } else {
                    roll(s, 58, 78)
                };
                let max_centi =
                    i64::try_from((c.max_points * Decimal::from(100)).trunc()).unwrap_or(0);
                out.push(NewScore {
                    bid_id: *bid,
                    evaluator_id: evaluator,
                    criterion: c.key.clone(),
                    points_centi: max_centi * pct / 100,
                });
            }
        }
        out
    }

    /// Rank as `evaluation::ranking` does (mean criterion scores over the scorers, computed price score)
    /// and make sure the designated winner is first, and not by a draw (whose seed the opening makes).
    fn check_winner_first(
        method: Method,
        criteria: &Criteria,
        priced: &[(i64, i64)],
        scores: &[NewScore],
        scorers: usize,
        winner: i64,
    ) -> Result<(), AppError> {
        let n = Decimal::from(scorers.max(1) as i64);
        let cat: HashMap<&str, Category> = criteria
            .items
            .iter()
            .map(|c| (c.key.as_str(), c.category))
            .collect();
        let inputs: Vec<RankInput> = priced
            .iter()
            .map(|(bid, price)| {
                let (mut tech, mut comm) = (0i64, 0i64);
                for s in scores.iter().filter(|s| s.bid_id == *bid) {
                    match cat.get(s.criterion.as_str()) {
                        Some(Category::Technical) => tech += s.points_centi,
                        Some(Category::Commercial) => comm += s.points_centi,
                        None => {}
                    }
                }
                RankInput {
                    bid_id: *bid,
                    price_fen: *price,
                    technical: Decimal::new(tech, 2) / n,
                    commercial: Decimal::new(comm, 2) / n,
                }
            })
            .collect();
        let ranking = rules::rank(
            &inputs,
            criteria.price_weight_pct,
            method,
            criteria.tie_break,
            "",
        );
        match ranking.bids.first() {
            Some(r) if r.bid_id == winner && r.tie != Some(rules::TieRule::Draw) => Ok(()),
            _ => Err(AppError::internal(
                "a demo tender's scores do not rank its winner first",
            )),
        }
    }

    /// Submission times spread over the bidding period, in office hours, before the deadline.
    pub(super) fn bid_times(t: &Times, n: usize, seed: u64) -> Vec<NaiveDateTime> {
        let first = day_of(t.published) + Duration::days(1);
        let last = day_of(t.bid_deadline) - Duration::days(1);
        let span = (last - first).num_days().max(0);
        let mut out: Vec<NaiveDateTime> = (0..n)
            .map(|j| {
                let s = sub(seed, 100 + j as u64);
                let d = first + Duration::days(roll(s, 0, span));
                bj(d, 9, 0) + Duration::minutes(roll(sub(s, 1), 0, 8 * 60))
            })
            .collect();
        out.sort();
        out
    }

    /// Create a tender that went through the life cycle up to `r.target` (opened or later, or failed at
    /// opening): its bids opened, its panel and scores as far as they got, its award and timeline.
    pub(super) fn run(&mut self, conn: &mut DbConn, r: &Run) -> Result<i64, AppError> {
        let t = &r.times;
        let target = r.target;
        let end_reason = (target == State::Failed).then(|| Note::TooFewBids {
            valid: r.bidders.len() as u32,
            min: self.ctx.rules.min_bids(r.plan.method),
            method: r.plan.method,
        });
        let id = self.insert_tender(
            conn,
            &r.plan,
            target,
            t,
            true,
            end_reason.as_ref().map(Note::stored),
        )?;
        let times = Self::bid_times(t, r.bidders.len(), r.seed);
        let mut bid_ids = Vec::new();
        for (j, org) in r.bidders.iter().enumerate() {
            let b = self.bid(
                conn,
                id,
                &r.plan,
                *org,
                r.prices[j],
                times[j],
                true,
                sub(r.seed, 200 + j as u64),
            )?;
            bid_ids.push(b);
        }
        let bureau = self.w.bureau.username.clone();
        let sched = "scheduler".to_string();
        let mut path = vec![
            (State::Draft, t.created, bureau.clone(), None),
            (State::Published, t.published, bureau.clone(), None),
            (State::Closed, t.bid_deadline, sched.clone(), None),
            (
                State::Opened,
                t.opening,
                sched.clone(),
                Some(Note::Opened {
                    valid: bid_ids.len() as u32,
                }),
            ),
        ];
        if target == State::Failed {
            path.push((State::Failed, t.opening, sched, end_reason));
            self.timeline(id, path);
            return Ok(id);
        }
        if reached(target, State::Evaluating) {
            let last_submitter = self.seat_panel(id, r, &bid_ids)?;
            path.push((
                State::Evaluating,
                t.evaluating,
                bureau.clone(),
                Some(Note::PanelFormed {
                    seated: r.panel as u32,
                }),
            ));
            if reached(target, State::Evaluated) {
                path.push((
                    State::Evaluated,
                    t.evaluated,
                    last_submitter,
                    Some(Note::ReportLocked),
                ));
            }
        }
        if reached(target, State::AwardProposed) {
            diesel::update(tenders::table.find(id))
                .set(tenders::award_bid_id.eq(bid_ids[r.winner]))
                .execute(conn)?;
            let name = self.w.orgs[r.bidders[r.winner]].name.clone();
            path.push((
                State::AwardProposed,
                t.award_proposed,
                bureau.clone(),
                Some(Note::WinnerNamed {
                    org: name.clone(),
                    rank: 1,
                    late: None,
                }),
            ));
        }
        let later = [
            (State::Publicity, t.publicity_start, bureau.clone()),
            (State::Challenge, t.publicity_ends, sched.clone()),
            (State::Awarded, t.challenge_ends, sched),
            (State::Contracted, t.contracted, bureau),
        ];
        for (s, at, actor) in later {
            if reached(target, s) {
                path.push((s, at, actor, None));
            }
        }
        self.timeline(id, path);
        Ok(id)
    }

    /// Seat the panel of a tender being evaluated or evaluated, with its declarations and scores. While
    /// evaluating, two members have declared and the first has also scored; the rest has not started. Once
    /// evaluated, everyone has declared no conflict and scored, and the ranking is checked. Returns the
    /// username of the member who submitted last.
    fn seat_panel(&mut self, tender_id: i64, r: &Run, bid_ids: &[i64]) -> Result<String, AppError> {
        let t = &r.times;
        // Drawn as a live panel is (rules::draw_experts), from a nonce the seeder's seed makes, so a
        // second seeding draws the same members; the draw is recorded like a live one.
        let pool: Vec<i64> = self.w.evaluators.iter().map(|e| e.id).collect();
        let nonce = hex::encode(Sha256::digest(format!("demo panel {}", r.seed)));
        let seed = rules::panel_draw_seed(&format!("demo-{tender_id}"), &nonce);
        let d = rules::draw_experts(&seed, &pool, r.panel)
            .ok_or_else(|| AppError::internal("the demo has fewer evaluators than a panel"))?;
        let seated: Vec<Person> = d
            .drawn
            .iter()
            .filter_map(|id| self.w.evaluators.iter().find(|e| e.id == *id).cloned())
            .collect();
        self.draws.push(NewDraw {
            tender_id,
            drawn_at: t.evaluating,
            seed: d.seed.clone(),
            candidates: json(&d.candidates),
            drawn: json(&d.drawn),
            actor_name: self.w.bureau.username.clone(),
        });
        let all_in = reached(r.target, State::Evaluated);
        let winner_bid = bid_ids[r.winner];
        let flagged: Vec<(i64, bool)> = bid_ids.iter().map(|b| (*b, *b == winner_bid)).collect();
        let mut scores = Vec::new();
        let mut last_submitter = seated[0].username.clone();
        for (k, e) in seated.iter().enumerate() {
            let declared =
                (all_in || k < 2).then(|| t.evaluating + Duration::minutes(5 * (k as i64 + 1)));
            // Submissions 25 minutes apart, the last one closing the evaluation.
            let submitted = if all_in {
                Some(t.evaluated - Duration::minutes(25 * (r.panel - 1 - k) as i64))
            } else {
                (k == 0).then(|| t.evaluating + FIRST_SCORE)
            };
            if submitted.is_some() {
                let seed = sub(r.seed, 300 + k as u64);
                scores.extend(Self::score_rows(&r.plan.criteria, &flagged, e.id, seed));
                last_submitter = e.username.clone();
            }
            self.members.push(NewMember {
                tender_id,
                user_id: e.id,
                added_at: t.evaluating,
                declaration: declared.map(|_| "none".to_string()),
                declaration_note: None,
                declared_at: declared,
                submitted_at: submitted,
            });
        }
        if all_in {
            let priced: Vec<(i64, i64)> = bid_ids
                .iter()
                .copied()
                .zip(r.prices.iter().copied())
                .collect();
            Self::check_winner_first(
                r.plan.method,
                &r.plan.criteria,
                &priced,
                &scores,
                r.panel,
                winner_bid,
            )?;
        }
        self.scores.extend(scores);
        Ok(last_submitter)
    }

    pub(super) fn touch(
        &mut self,
        conn: &mut DbConn,
        id: i64,
        at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(tenders::table.find(id))
            .set(tenders::updated_at.eq(at))
            .execute(conn)
            .map(|_| ())
    }

    /// Prices around the contract amount: the winner's is the amount; the others within −8 %…+12 % of it
    /// (never above the ceiling), so the winner is neither always the cheapest nor beaten on price by more
    /// than its quality lead.
    pub(super) fn prices(n: usize, winner: usize, amount: i64, budget: i64, seed: u64) -> Vec<i64> {
        (0..n)
            .map(|j| {
                if j == winner {
                    amount
                } else {
                    let yuan = amount / 100 * roll(sub(seed, 400 + j as u64), 92, 112) / 100;
                    (round_hundred(yuan) * 100).min(budget)
                }
            })
            .collect()
    }

    /// The ceiling above a contract amount: 8–18 % more, rounded up to ¥10,000.
    pub(super) fn ceiling(amount: i64, seed: u64) -> i64 {
        let yuan = amount / 100 * roll(sub(seed, 5), 108, 118) / 100;
        (yuan + 9_999) / 10_000 * 10_000 * 100
    }
}
