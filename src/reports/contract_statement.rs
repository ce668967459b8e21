//! The contract statement (合同结算单 / 资金对账单, issue 13): one contract's particulars, its instalments
//! (milestone, share, amount, acceptance, due day, state), the payments with their voucher numbers, the
//! spending by budget line (budget, reported, accepted, remaining) and the audit flags. Gathered in one
//! read transaction through the functions behind `/api/v1/contracts/{id}`, `/contracts/{id}/spending` and
//! `/contracts/{id}/flags`, so every figure equals what those endpoints give; drawn by `crate::pdf`.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::Connection;

use super::{footer, yuan};
use crate::contracts::spending::{self, Summary};
use crate::contracts::{self, ContractView, Reader, flags};
use crate::db::DbConn;
use crate::domain::flags::Flag;
use crate::error::AppError;
use crate::ledger::Digest;
use crate::pdf::{Column, Meta, ReportFont};

/// Everything the statement shows.
#[derive(Clone, Debug)]
pub struct Statement {
    pub contract: ContractView,
    pub spending: Summary,
    pub flags: Vec<Flag>,
    pub digest: Digest,
    /// The service field's name.
    pub field: String,
}

/// Gather one contract's statement for a reader: 404 unless the reader sees the whole contract (staff
/// every contract, an organisation its own), as the contract API answers.
pub fn gather(
    conn: &mut DbConn,
    ctx: &contracts::Ctx,
    fctx: &flags::Ctx,
    reader: Reader,
    id: i64,
    today: NaiveDate,
) -> Result<Statement, AppError> {
    conn.transaction(|c| {
        let contract = contracts::get(c, ctx, reader, id)?;
        if !contract.whole {
            return Err(AppError::NotFound);
        }
        let spending = spending::summary(c, reader, id)?;
        let flags = flags::for_contract(c, fctx, reader, today, id)?;
        let digest = crate::ledger::digest(c)?;
        let field =
            crate::registry::orgs::label(crate::registry::orgs::FIELDS, &contract.field, true);
        Ok(Statement {
            contract,
            spending,
            flags,
            digest,
            field,
        })
    })
}

fn day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "—".into())
}

fn instalment_state(status: &str) -> &'static str {
    match status {
        "paid" => "已支付",
        "accepted" => "已验收待支付",
        _ => "待验收",
    }
}

/// The statement as a PDF.
pub fn pdf(font: &Arc<ReportFont>, s: &Statement, issuer: &str, now: DateTime<Utc>) -> Vec<u8> {
    let c = &s.contract;
    let m = &c.money;
    let title = "合同结算单（资金对账单）".to_string();
    let subject = format!("合同 {} {}", c.contract_no, c.title);
    let meta = Meta {
        title: format!("{title} {}", c.contract_no),
        author: issuer.to_string(),
        subject: subject.clone(),
        keywords: vec![
            "合同结算单".into(),
            "资金对账单".into(),
            c.contract_no.clone(),
        ],
    };
    crate::pdf::render(font, &meta, &footer(&subject, &s.digest, now), now, |w| {
        w.title(&title, &format!("合同编号：{}", c.contract_no));
        w.heading(1, "一、合同基本情况");
        w.fields(&[
            ("合同编号", c.contract_no.clone()),
            ("项目名称", c.title.clone()),
            ("项目编号", c.tender_code.clone()),
            ("服务领域", s.field.clone()),
            ("服务机构", c.organisation.clone()),
            (
                "统一社会信用代码",
                c.credit_code.clone().unwrap_or_else(|| "—".into()),
            ),
            ("合同金额", yuan(m.amount_fen)),
            (
                "服务期限",
                format!("{} 至 {}", day(Some(c.term_start)), day(Some(c.term_end))),
            ),
            ("中标日期", day(Some(c.awarded_on))),
            ("签订日期", day(c.signed_on)),
            ("合同状态", c.state_label.clone()),
            ("预算指标", c.bucket.clone().unwrap_or_else(|| "—".into())),
        ]);
        w.heading(1, "二、资金结算情况");
        w.fields(&[
            ("合同金额", yuan(m.amount_fen)),
            ("已承诺（占用预算）", yuan(m.committed_fen)),
            ("已确认应付", yuan(m.accrued_fen)),
            ("已支付", yuan(m.paid_fen)),
            ("应付未付", yuan(m.accrued_fen - m.paid_fen)),
            ("合同未支付余额", yuan(m.amount_fen - m.paid_fen)),
        ]);
        w.heading(1, "三、付款节点");
        let rows: Vec<Vec<String>> = c
            .instalments
            .iter()
            .map(|i| {
                vec![
                    format!("第{}期", i.no),
                    i.milestone.clone(),
                    format!("{}%", i.pct),
                    yuan(i.amount_fen),
                    day(i.accepted_on),
                    day(i.due_on),
                    match (&i.score, &i.grade) {
                        (Some(sc), Some(g)) => format!("{sc}（{g}）"),
                        _ => "—".into(),
                    },
                    instalment_state(&i.status).into(),
                ]
            })
            .collect();
        w.table(
            "表1 付款节点与验收",
            &[
                Column::left("期次", 0.08),
                Column::left("付款节点", 0.2),
                Column::right("比例", 0.08),
                Column::right("金额", 0.15),
                Column::left("验收日期", 0.12),
                Column::left("应付日期", 0.12),
                Column::left("绩效评分", 0.11),
                Column::left("状态", 0.14),
            ],
            &rows,
        );
        w.heading(1, "四、付款记录");
        let rows: Vec<Vec<String>> = c
            .instalments
            .iter()
            .filter_map(|i| i.payment.as_ref().map(|p| (i, p)))
            .map(|(i, p)| {
                vec![
                    format!("第{}期", i.no),
                    day(Some(p.paid_on)),
                    p.voucher_no.clone(),
                    yuan(p.amount_fen),
                    format!("#{}", p.ledger_seq),
                    p.paid_by.clone(),
                    if p.late { "是" } else { "否" }.into(),
                ]
            })
            .collect();
        w.table(
            "表2 付款记录",
            &[
                Column::left("期次", 0.09),
                Column::left("付款日期", 0.14),
                Column::left("凭证号", 0.2),
                Column::right("金额", 0.16),
                Column::right("账本序号", 0.11),
                Column::left("经办人", 0.19),
                Column::left("逾期", 0.11),
            ],
            &rows,
        );
        w.paragraph(&format!(
            "合计已支付 {}，共 {} 笔。",
            yuan(m.paid_fen),
            c.instalments.iter().filter(|i| i.payment.is_some()).count()
        ));
        w.heading(1, "五、支出情况（按预算科目）");
        let sp = &s.spending;
        let mut rows: Vec<Vec<String>> = sp
            .lines
            .iter()
            .map(|l| {
                vec![
                    l.line_zh.clone(),
                    yuan(l.budget_fen),
                    yuan(l.reported_fen),
                    yuan(l.accepted_fen),
                    yuan(l.budget_fen - l.reported_fen),
                    if l.over { "超预算" } else { "" }.into(),
                ]
            })
            .collect();
        rows.push(vec![
            "合计".into(),
            yuan(sp.budget_fen),
            yuan(sp.reported_fen),
            yuan(sp.accepted_fen),
            yuan(sp.budget_fen - sp.reported_fen),
            String::new(),
        ]);
        w.table(
            "表3 预算科目执行（已报支出含待审核，不含已驳回）",
            &[
                Column::left("预算科目", 0.18),
                Column::right("预算", 0.17),
                Column::right("已报支出", 0.17),
                Column::right("其中已认可", 0.17),
                Column::right("剩余", 0.17),
                Column::left("提示", 0.14),
            ],
            &rows,
        );
        w.heading(1, "六、审计提示");
        let rows: Vec<Vec<String>> = s
            .flags
            .iter()
            .map(|f| {
                vec![
                    f.rule.label(true).into(),
                    f.severity.label(true).into(),
                    f.evidence_zh.clone(),
                ]
            })
            .collect();
        w.table(
            &format!("表4 审计提示（共 {} 条）", s.flags.len()),
            &[
                Column::left("规则", 0.24),
                Column::left("严重程度", 0.1),
                Column::left("说明", 0.66),
            ],
            &rows,
        );
        w.paragraph("本结算单依据系统账本生成，页脚所列账本摘要可用 sanshe verify --digest 核验。双方核对无误后签章确认。");
        w.signatures(&[
            ("服务机构".into(), String::new()),
            ("采购人（财务）".into(), String::new()),
        ]);
        w.right(issuer);
        w.right(
            &now.with_timezone(&crate::clock::shanghai())
                .format("%Y年%-m月%-d日")
                .to_string(),
        );
    })
}
