//! The procedures the history does not show, built through the services at past times so every rule and
//! record is the real one: a 单一来源 at or above the open-tender threshold in its 公示, with an objection
//! answered (实施条例 Art 38), and a 竞争性谈判 open for responses (74号令 Art 29).

use super::*;
use crate::domain::tender::{Criteria, Eligibility};
use crate::tenders::single_source::{NewObjection, ObjectionAnswer};
use crate::tenders::{self as svc, TenderInput, single_source};

fn actor(p: &Person) -> Actor {
    Actor {
        id: Some(p.id),
        name: p.username.clone(),
        request_id: None,
    }
}

/// A draft of `method` with no scoring (neither method scores), the seed's targets and instalments; the
/// times are filled in by the caller.
fn draft(code: String, title: String, field: &str, budget: i64, method: Method) -> TenderInput {
    TenderInput {
        code,
        title,
        description: String::new(),
        field: field.into(),
        street_ids: Vec::new(),
        community_ids: Vec::new(),
        budget: (budget / 100).to_string(),
        method: method.as_str().into(),
        term_months: 12,
        term_reason: None,
        eligibility: Eligibility::default(),
        criteria: Criteria {
            price_weight_pct: Decimal::ZERO,
            items: Vec::new(),
            ..Default::default()
        },
        targets: terms::targets(budget),
        instalments: terms::instalments(),
        invited: Vec::new(),
        single_source_ground: None,
        single_source_explanation: None,
        enquiry_deadline: String::new(),
        bid_deadline: String::new(),
        opening_at: String::new(),
        documents_from: None,
        documents_until: None,
    }
}

impl Seeder<'_> {
    /// `days` from today at `hour`:00 Beijing, as a form takes it.
    fn at(&self, days: i64, hour: u32) -> String {
        format!("{}T{hour:02}:00:00", self.today() + Duration::days(days))
    }

    pub(super) fn procedures(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let year = self.service_year();
        let bureau = self.w.bureau.clone();
        // 单一来源, ¥2,360,000: the district's dementia-care pilot, which only the organisation holding the
        // method can run. Drafted 4 days ago, published 3 days ago: its 公示 is running, and an objection
        // from another organisation has been answered (not upheld).
        let elderly: Vec<usize> = (0..self.w.orgs.len())
            .filter(|k| {
                !self.w.orgs[*k].barred && self.w.orgs[*k].fields.iter().any(|f| f == "elderly")
            })
            .collect();
        if elderly.len() >= 2 {
            let (supplier, objector) = (
                self.w.orgs[elderly[0]].clone(),
                self.w.orgs[elderly[1]].clone(),
            );
            let created = self.now - Duration::days(4);
            let code = self.next_code(self.ts(Duration::days(-4)));
            let mut input = draft(
                code,
                format!("{year}年官渡区失智老人认知照护试点项目（单一来源）"),
                "elderly",
                236_000_000,
                Method::SingleSource,
            );
            input.description = "为辖区约 300 名轻中度失智老人提供认知训练、照护者支持和居家环境改造指导，沿用试点阶段形成的专有照护方法。".into();
            input.invited = vec![supplier.id];
            input.street_ids = self.w.streets.iter().map(|(id, _)| *id).collect();
            input.single_source_ground = Some("only_supplier".into());
            input.single_source_explanation = Some(format!(
                "{} 持有本项目所用失智照护方法的专有技术和培训认证，区内及市内无其他机构可提供同等服务。",
                supplier.name
            ));
            input.enquiry_deadline = self.at(12, 17);
            input.bid_deadline = self.at(16, 9);
            input.opening_at = self.at(16, 10);
            let v = svc::create(conn, self.ctx, &actor(&bureau), bureau.id, created, &input)?;
            svc::publish(
                conn,
                self.ctx,
                &actor(&bureau),
                self.now - Duration::days(3),
                v.id,
            )?;
            let by = Person {
                id: objector.user_id,
                username: objector.username.clone(),
            };
            single_source::lodge_objection(
                conn,
                self.ctx,
                &actor(&by),
                objector.user_id,
                objector.id,
                self.now - Duration::days(2),
                v.id,
                &NewObjection {
                    reason: "本机构也开展失智老人照护服务，具备认知训练能力，认为本项目不属于只能从唯一供应商处采购的情形。".into(),
                },
            )?;
            single_source::answer_objection(
                conn,
                self.ctx,
                &actor(&bureau),
                bureau.id,
                self.now - Duration::days(1),
                v.id,
                1,
                &ObjectionAnswer {
                    answer: "经核实，项目须沿用试点阶段的专有照护方法及其培训认证体系，贵机构的认知训练服务不能替代。异议不成立，单一来源采购继续进行。".into(),
                    upheld: false,
                },
            )?;
        }

        // 竞争性谈判, ¥180,000: published yesterday, responses due in 5 days (at least 3 working days).
        let code = self.next_code(self.ts(Duration::days(-2)));
        let mut input = draft(
            code,
            format!("{year}年官渡区困境儿童临时照料服务项目"),
            "youth",
            18_000_000,
            Method::Negotiation,
        );
        input.description = "寒假期间为辖区困境儿童提供临时照料、课业辅导和心理支持服务。".into();
        input.street_ids = self.w.streets.iter().take(3).map(|(id, _)| *id).collect();
        input.enquiry_deadline = self.at(3, 12);
        input.bid_deadline = self.at(5, 9);
        input.opening_at = self.at(5, 10);
        let v = svc::create(
            conn,
            self.ctx,
            &actor(&bureau),
            bureau.id,
            self.now - Duration::days(2),
            &input,
        )?;
        svc::publish(
            conn,
            self.ctx,
            &actor(&bureau),
            self.now - Duration::days(1),
            v.id,
        )?;
        Ok(())
    }
}
