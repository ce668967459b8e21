//! The audit report (审计报告, issue 13): every audit flag of the contracts signed in a period of months,
//! with its evidence (the rule's own words, the contract, and for a spending item its day, amount, invoice
//! and the SHA-256 of its evidence file; for an acceptance the SHA-256 of its report), grouped by contract,
//! with the counts per rule and per severity. The flags are `contracts::flags::all` with the filter
//! `GET /api/v1/flags?from=…&to=…` takes, so the report's totals equal the API's for the same period.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{footer, grouped, yuan};
use crate::contracts::spending::ItemRow;
use crate::contracts::{self, ContractRow, Reader, flags};
use crate::db::DbConn;
use crate::db::schema::{contract_instalments as ci, spending_items as si};
use crate::domain::flags::{Flag, Rule, Severity};
use crate::error::AppError;
use crate::ledger::Digest;
use crate::pdf::{Column, Meta, ReportFont};

/// The period of an audit report: months from–to (YYYY-MM), both required.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// The first month (YYYY-MM).
    pub from: Option<String>,
    /// The last month (YYYY-MM), inclusive.
    pub to: Option<String>,
}

/// One contract with its flags and the evidence behind them.
#[derive(Clone, Debug)]
pub struct ContractFlags {
    pub contract: ContractRow,
    pub organisation: String,
    pub paid_fen: i64,
    pub flags: Vec<Flag>,
}

#[derive(Clone, Debug)]
pub struct Audit {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// 2025年3月至2025年8月.
    pub name: String,
    pub total: usize,
    /// (rule, count), in the rules' order; rules not raised are left out.
    pub by_rule: Vec<(Rule, usize)>,
    pub by_severity: Vec<(Severity, usize)>,
    pub contracts: Vec<ContractFlags>,
    /// Spending items a flag names, by id.
    pub items: HashMap<i64, ItemRow>,
    /// Acceptance reports' SHA-256 per contract: (instalment no, milestone, hash).
    pub reports: HashMap<i64, Vec<(i32, String, String)>>,
    pub digest: Digest,
}

fn month_name(d: NaiveDate) -> String {
    d.format("%Y年%-m月").to_string()
}

/// Gather the audit report of the months `from`–`to` in one read transaction (staff only: the API lets
/// finance, administrators and the bureau in). 422 naming `from` or `to` for a missing or malformed month.
pub fn gather(
    conn: &mut DbConn,
    ctx: &flags::Ctx,
    today: NaiveDate,
    f: &AuditFilter,
) -> Result<Audit, AppError> {
    let (from, to) = flags::months(f.from.as_deref(), f.to.as_deref())?.ok_or_else(|| {
        AppError::field(
            "from",
            "required",
            "请给出起止月份（YYYY-MM）。",
            "Give the first and last month (YYYY-MM).",
        )
    })?;
    let filter = flags::FlagFilter {
        from: f.from.clone(),
        to: f.to.clone(),
        ..Default::default()
    };
    conn.transaction(|c| {
        let all = flags::all(c, ctx, Reader::Staff, today, &filter)?;
        let mut by_rule: BTreeMap<Rule, usize> = BTreeMap::new();
        let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
        let mut grouped: BTreeMap<i64, Vec<Flag>> = BTreeMap::new();
        for fl in &all {
            *by_rule.entry(fl.rule).or_default() += 1;
            *by_severity.entry(fl.severity).or_default() += 1;
            grouped.entry(fl.contract_id).or_default().push(fl.clone());
        }
        let mut groups = Vec::new();
        for (id, fls) in grouped {
            let row = contracts::find_row(c, id)?;
            let paid_fen = contracts::progress(c, &row)?.paid;
            groups.push(ContractFlags {
                organisation: fls[0].organisation.clone(),
                contract: row,
                paid_fen,
                flags: fls,
            });
        }
        // The most flags first, then by contract number.
        groups.sort_by(|a, b| {
            b.flags
                .len()
                .cmp(&a.flags.len())
                .then_with(|| a.contract.contract_no.cmp(&b.contract.contract_no))
        });
        let item_ids: Vec<i64> = all.iter().filter_map(|f| f.item_id).collect();
        let mut items = HashMap::new();
        for chunk in item_ids.chunks(500) {
            for r in si::table
                .filter(si::id.eq_any(chunk))
                .select(ItemRow::as_select())
                .load::<ItemRow>(c)?
            {
                items.insert(r.id, r);
            }
        }
        let ids: Vec<i64> = groups.iter().map(|g| g.contract.id).collect();
        let mut reports: HashMap<i64, Vec<(i32, String, String)>> = HashMap::new();
        for chunk in ids.chunks(500) {
            for (cid, no, milestone, hash) in ci::table
                .filter(ci::contract_id.eq_any(chunk))
                .filter(ci::report_sha256.is_not_null())
                .order((ci::contract_id, ci::no))
                .select((ci::contract_id, ci::no, ci::milestone, ci::report_sha256))
                .load::<(i64, i32, String, Option<String>)>(c)?
            {
                if let Some(h) = hash {
                    reports.entry(cid).or_default().push((no, milestone, h));
                }
            }
        }
        Ok(Audit {
            from,
            to,
            name: if month_name(from) == month_name(to) {
                month_name(from)
            } else {
                format!("{}至{}", month_name(from), month_name(to))
            },
            total: all.len(),
            by_rule: by_rule.into_iter().collect(),
            by_severity: by_severity.into_iter().collect(),
            contracts: groups,
            items,
            reports,
            digest: crate::ledger::digest(c)?,
        })
    })
}

/// The audit report as a PDF.
pub fn pdf(font: &Arc<ReportFont>, a: &Audit, issuer: &str, now: DateTime<Utc>) -> Vec<u8> {
    let title = format!("{}审计报告", a.name);
    let filters = format!(
        "{} 签订的合同（{} 至 {}）",
        a.name,
        a.from.format("%Y-%m-%d"),
        a.to.format("%Y-%m-%d")
    );
    let meta = Meta {
        title: title.clone(),
        author: issuer.to_string(),
        subject: format!("政府购买服务合同资金审计提示：{filters}"),
        keywords: vec!["审计报告".into(), "审计提示".into(), a.name.clone()],
    };
    let date = now
        .with_timezone(&crate::clock::shanghai())
        .format("%Y年%-m月%-d日")
        .to_string();
    crate::pdf::render(font, &meta, &footer(&filters, &a.digest, now), now, |w| {
        w.cover(&title, &format!("（{filters}）"), issuer, &date);
        w.heading(1, "一、审计范围与方法");
        w.paragraph(&format!(
            "本报告覆盖 {} 签订的政府购买服务合同，逐一核查其付款节点与付款、服务机构报送的支出（未被驳回的支出均计入）及服务记录，按系统审计规则列出全部审计提示。审计提示在读取时依据当时的数据计算，与“审计提示”接口（/api/v1/flags?from={}&to={}）同一期间的结果一致。",
            a.name,
            a.from.format("%Y-%m"),
            a.to.format("%Y-%m")
        ));
        w.heading(1, "二、总体情况");
        let high = a
            .by_severity
            .iter()
            .find(|(s, _)| *s == Severity::High)
            .map_or(0, |x| x.1);
        w.paragraph(&format!(
            "报告期内共有 {} 个合同存在审计提示，合计 {} 条，其中高风险 {} 条。",
            a.contracts.len(),
            a.total,
            high
        ));
        let rows: Vec<Vec<String>> = a
            .by_severity
            .iter()
            .map(|(s, n)| vec![s.label(true).to_string(), n.to_string()])
            .collect();
        w.table(
            "表1 按严重程度",
            &[Column::left("严重程度", 0.6), Column::right("条数", 0.4)],
            &rows,
        );
        let mut rows: Vec<Vec<String>> = a
            .by_rule
            .iter()
            .map(|(r, n)| {
                vec![
                    r.label(true).to_string(),
                    r.severity().label(true).to_string(),
                    n.to_string(),
                ]
            })
            .collect();
        rows.push(vec!["合计".into(), String::new(), a.total.to_string()]);
        w.table(
            "表2 按审计规则",
            &[
                Column::left("审计规则", 0.6),
                Column::left("严重程度", 0.15),
                Column::right("条数", 0.25),
            ],
            &rows,
        );
        w.heading(1, "三、分合同审计提示");
        for (i, g) in a.contracts.iter().enumerate() {
            let c = &g.contract;
            w.heading(
                2,
                &format!("（{}）{} {}", i + 1, c.contract_no, g.organisation),
            );
            w.fields(&[
                ("项目名称", c.title.clone()),
                ("合同金额", yuan(c.amount_fen)),
                ("已支付", yuan(g.paid_fen)),
                (
                    "服务期限",
                    format!(
                        "{} 至 {}",
                        c.term_start.format("%Y-%m-%d"),
                        c.term_end.format("%Y-%m-%d")
                    ),
                ),
                (
                    "签订日期",
                    c.signed_on
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                ),
            ]);
            let rows: Vec<Vec<String>> = g
                .flags
                .iter()
                .map(|f| {
                    let evidence = match f.item_id.and_then(|i| a.items.get(&i)) {
                        Some(it) => format!(
                            "支出 #{}：{} {} 发票 {} 收款方 {}{}",
                            it.id,
                            it.spent_on.format("%Y-%m-%d"),
                            yuan(it.amount_fen),
                            it.invoice_no,
                            it.payee,
                            it.evidence_sha256
                                .as_deref()
                                .map(|h| format!(" 证据文件 SHA-256 {}", grouped(h)))
                                .unwrap_or_default()
                        ),
                        None => match f.activity_id {
                            Some(act) => format!("服务活动 #{act}"),
                            None => format!("合同 {}", f.contract_no),
                        },
                    };
                    vec![
                        f.rule.label(true).to_string(),
                        f.severity.label(true).to_string(),
                        f.evidence_zh.clone(),
                        evidence,
                    ]
                })
                .collect();
            w.table(
                &format!("{} 的审计提示（{} 条）", c.contract_no, g.flags.len()),
                &[
                    Column::left("规则", 0.2),
                    Column::left("严重程度", 0.1),
                    Column::left("说明", 0.38),
                    Column::left("证据", 0.32),
                ],
                &rows,
            );
            if let Some(reps) = a.reports.get(&c.id) {
                let rows: Vec<Vec<String>> = reps
                    .iter()
                    .map(|(no, m, h)| vec![format!("第{no}期 {m}"), grouped(h)])
                    .collect();
                w.table(
                    "验收报告文件",
                    &[
                        Column::left("付款节点", 0.35),
                        Column::left("SHA-256", 0.65),
                    ],
                    &rows,
                );
            }
        }
        if a.contracts.is_empty() {
            w.paragraph("报告期内签订的合同未发现审计提示。");
        }
        w.heading(1, "四、说明");
        w.paragraph("审计提示是需要核实的线索，不等于违规结论；每条提示应结合凭证与服务记录核实，并记录处理结果。页脚所列账本摘要可用 sanshe verify --digest 核验。");
        w.signatures(&[
            ("审计人员".into(), String::new()),
            ("复核人员".into(), String::new()),
        ]);
    })
}
