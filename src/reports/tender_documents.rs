//! The documents of a tender (issue 13): the award notice (中标/成交结果公告), the award letter
//! (中标/成交通知书), the evaluation report (评审报告) and the bid receipt (投标回执). Each is gathered in
//! one read transaction through the functions behind the tender API (`tenders::to_view` and its result
//! notice, `evaluation::report_for`, `bids::own_bid`), so it says what the API says; drawn by `crate::pdf`.
//!
//! The tender is first brought up to date with the clock (`tenders::advance`, a write only when a step is
//! due), outside the read transaction.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{beijing_time, footer, grouped, yuan};
use crate::auth::CurrentUser;
use crate::db::DbConn;
use crate::db::schema::organisations;
use crate::domain::bid::BidStatus;
use crate::error::AppError;
use crate::ledger::Digest;
use crate::pdf::{Column, Meta, ReportFont, Writer};
use crate::tenders::bids::{self, Receipt};
use crate::tenders::evaluation::{self, EvaluationReport};
use crate::tenders::{self, Ctx, ResultNotice, TenderRow, TenderView};

/// 409 `result_not_published`: the award notice and letter exist once the result is published.
fn not_published() -> AppError {
    AppError::conflict(
        "result_not_published",
        "结果公告尚未发布。",
        "The result notice is not published yet.",
    )
}

fn date_of(at: NaiveDateTime) -> String {
    crate::clock::beijing_date(at.and_utc())
        .format("%Y年%-m月%-d日")
        .to_string()
}

fn today(now: DateTime<Utc>) -> String {
    now.with_timezone(&crate::clock::shanghai())
        .format("%Y年%-m月%-d日")
        .to_string()
}

/// A published result: the tender as the public sees it, its result notice and the winner's address.
#[derive(Clone, Debug)]
pub struct Award {
    pub tender: TenderView,
    pub result: ResultNotice,
    pub winner_address: Option<String>,
    pub publicity_working_days: u32,
    pub public_url: String,
    pub digest: Digest,
}

/// The published result of a tender, when the tender API shows one (`TenderView::result`: publicity and
/// after): 404 for a draft (as the tender API), 409 `result_not_published` before.
pub fn award(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>, id: i64) -> Result<Award, AppError> {
    tenders::advance(conn, ctx, now, id)?;
    conn.transaction(|c| {
        let t = tenders::visible_row(c, id, false)?;
        let tender = tenders::to_view(c, ctx, t)?;
        let Some(result) = tender.result.clone() else {
            return Err(not_published());
        };
        let winner_address: Option<String> = organisations::table
            .find(result.winner_id)
            .select(organisations::address)
            .first(c)?;
        Ok(Award {
            tender,
            result,
            winner_address,
            publicity_working_days: ctx.rules.publicity_working_days,
            public_url: ctx.public_url.trim_end_matches('/').to_string(),
            digest: crate::ledger::digest(c)?,
        })
    })
}

/// The award letter's reader: the bureau, or the winning organisation (404 for any other); 409
/// `result_not_published` while the result has no letter (it is issued with the published notice).
pub fn letter_for(a: &Award, user: &CurrentUser) -> Result<(), AppError> {
    match user.role {
        crate::auth::Role::Bureau => {}
        crate::auth::Role::Org if user.org_id == Some(a.result.winner_id) => {}
        _ => return Err(AppError::NotFound),
    }
    a.result
        .letter
        .as_ref()
        .map(|_| ())
        .ok_or_else(not_published)
}

/// 中标 for a tender (公开招标, 邀请招标), 成交 for the other methods: the word of the method's award letter.
fn award_kind(t: &TenderView) -> &'static str {
    if t.method.award_letter(true).starts_with("中标") {
        "中标"
    } else {
        "成交"
    }
}

fn area(t: &TenderView) -> String {
    let mut names: Vec<String> = t.streets.iter().map(|s| s.name.clone()).collect();
    names.extend(t.communities.iter().map(|c| c.name.clone()));
    if names.is_empty() {
        "全区".into()
    } else {
        names.join("、")
    }
}

/// The award notice (中标/成交结果公告) as a PDF, in the customary layout.
pub fn award_notice_pdf(
    font: &Arc<ReportFont>,
    a: &Award,
    issuer: &str,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let t = &a.tender;
    let r = &a.result;
    let letter = r.letter.as_ref();
    let kind = award_kind(t);
    let title = format!("{}{kind}结果公告", t.title);
    let meta = Meta {
        title: title.clone(),
        author: issuer.to_string(),
        subject: format!("项目编号 {} 的{kind}结果公告", t.code),
        keywords: vec![format!("{kind}公告"), t.code.clone()],
    };
    let filters = format!("项目编号 {}", t.code);
    crate::pdf::render(font, &meta, &footer(&filters, &a.digest, now), now, |w| {
        w.title(&title, &format!("项目编号：{}", t.code));
        w.heading(1, "一、项目编号");
        w.paragraph(&t.code);
        w.heading(1, "二、项目名称");
        w.paragraph(&format!("{}（采购方式：{}）", t.title, t.method_label_zh));
        w.heading(1, &format!("三、{kind}信息"));
        w.fields(&[
            ("供应商名称", r.winner_name.clone()),
            (
                "统一社会信用代码",
                r.winner_credit_code.clone().unwrap_or_else(|| "—".into()),
            ),
            (
                "供应商地址",
                a.winner_address.clone().unwrap_or_else(|| "—".into()),
            ),
            (
                if kind == "中标" {
                    "中标金额"
                } else {
                    "成交金额"
                },
                yuan(r.price_fen),
            ),
        ]);
        w.heading(1, "四、主要标的信息");
        w.table(
            "服务类主要标的",
            &[
                Column::left("标的名称", 0.3),
                Column::left("服务范围", 0.3),
                Column::left("服务要求", 0.2),
                Column::left("服务时间", 0.1),
                Column::left("服务标准", 0.1),
            ],
            &[vec![
                t.title.clone(),
                format!("{}；{}", t.field_label_zh, area(t)),
                "详见采购文件".into(),
                format!("{} 个月", t.term_months),
                "详见采购文件".into(),
            ]],
        );
        if r.negotiators.is_empty() {
            w.heading(1, "五、评审专家名单");
            // 政府采购法实施条例第四十三条、87号令第六十九条：结果公告须列明评审专家名单。
            w.paragraph(&if r.evaluators.is_empty() {
                "（无）".to_string()
            } else {
                r.evaluators.join("、")
            });
        } else {
            w.heading(1, "五、协商人员名单（单一来源）");
            w.paragraph(&r.negotiators.join("、"));
        }
        w.heading(1, "六、代理服务收费标准及金额");
        w.paragraph("本项目由采购人自行组织采购，未委托采购代理机构，无代理服务费。");
        w.heading(1, "七、公告期限");
        w.paragraph(&format!(
            "自本公告发布之日起 {} 个工作日{}。",
            a.publicity_working_days,
            r.publicity_ends
                .map(|e| format!("（至 {}）", beijing_time(e)))
                .unwrap_or_default()
        ));
        w.heading(1, "八、其他补充事宜");
        if !r.scores.is_empty() {
            let rows: Vec<Vec<String>> = r
                .scores
                .iter()
                .map(|s| {
                    vec![
                        s.rank.to_string(),
                        s.organisation_name.clone(),
                        s.total.clone(),
                    ]
                })
                .collect();
            w.table(
                "评审得分与排序",
                &[
                    Column::right("名次", 0.15),
                    Column::left("供应商", 0.6),
                    Column::right("综合得分", 0.25),
                ],
                &rows,
            );
        }
        if let Some(l) = letter {
            w.paragraph(&format!(
                "{}（编号 {}）已于 {} 同时发出；{}应于 {} 前与采购人签订合同（《中华人民共和国政府采购法》第四十六条）。",
                l.title_zh,
                l.no,
                date_of(l.issued_at),
                r.winner_name,
                l.sign_by.format("%Y年%-m月%-d日")
            ));
        }
        w.paragraph(&format!(
            "供应商认为结果使自己的权益受到损害的，可以在公告期限届满之日起七个工作日内{}以书面形式向采购人提出质疑（《中华人民共和国政府采购法》第五十二条）。",
            r.challenge_ends
                .map(|e| format!("（至 {}）", beijing_time(e)))
                .unwrap_or_default()
        ));
        w.heading(1, "九、联系方式");
        w.fields(&[
            ("采购人", issuer.to_string()),
            ("项目网址", format!("{}/tenders/{}", a.public_url, t.id)),
        ]);
        w.right(issuer);
        w.right(
            &letter
                .map(|l| date_of(l.issued_at))
                .unwrap_or_else(|| today(now)),
        );
    })
}

/// The award letter (中标/成交通知书) as a PDF, addressed to the winner.
pub fn award_letter_pdf(
    font: &Arc<ReportFont>,
    a: &Award,
    issuer: &str,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let t = &a.tender;
    let r = &a.result;
    let Some(l) = r.letter.as_ref() else {
        // `letter_for` refused a result without a letter.
        return Vec::new();
    };
    let kind = award_kind(t);
    let meta = Meta {
        title: format!("{} {}", l.title_zh, t.code),
        author: issuer.to_string(),
        subject: format!("致 {}：{}", r.winner_name, t.title),
        keywords: vec![l.title_zh.clone(), t.code.clone()],
    };
    let filters = format!("通知书编号 {}", l.no);
    crate::pdf::render(font, &meta, &footer(&filters, &a.digest, now), now, |w| {
        w.title(&l.title_zh, &format!("编号：{}", l.no));
        w.paragraph(&format!("{}：", r.winner_name));
        w.paragraph(&format!(
            "{issuer}“{}”项目（项目编号：{}）采用{}方式采购。经评审并依法公告，确定贵单位为{kind}供应商，{kind}金额为人民币 {}。",
            t.title,
            t.code,
            t.method_label_zh,
            yuan(r.price_fen)
        ));
        w.paragraph(&format!(
            "请贵单位自本通知书发出之日起三十日内，即于 {} 前，按照采购文件确定的事项与采购人签订政府采购合同（《中华人民共和国政府采购法》第四十六条）。无正当理由拒不签订合同的，采购人可以按照评审报告推荐的中标、成交候选人名单排序，确定下一候选人为{kind}供应商（《中华人民共和国政府采购法实施条例》第四十九条）。",
            l.sign_by.format("%Y年%-m月%-d日")
        ));
        w.paragraph("本通知书对采购人和贵单位均具有法律效力。");
        w.fields(&[
            ("项目名称", t.title.clone()),
            ("项目编号", t.code.clone()),
            (
                "统一社会信用代码",
                r.winner_credit_code.clone().unwrap_or_else(|| "—".into()),
            ),
            (
                if kind == "中标" {
                    "中标金额"
                } else {
                    "成交金额"
                },
                yuan(r.price_fen),
            ),
            (
                "签订合同期限",
                l.sign_by.format("%Y年%-m月%-d日").to_string(),
            ),
        ]);
        w.right(&format!("采购人：{issuer}（盖章）"));
        w.right(&date_of(l.issued_at));
    })
}

/// The evaluation report with the tender it concerns.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub tender: TenderRow,
    pub report: EvaluationReport,
    pub public_url: String,
    pub digest: Digest,
}

/// The evaluation report for a reader, by the rule of `GET /tenders/{id}/report`
/// (`evaluation::report_for`); the document exists once the report is locked (409 `report_not_locked`
/// before, for every reader).
pub fn evaluation(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    id: i64,
    user: &CurrentUser,
) -> Result<Evaluation, AppError> {
    tenders::advance(conn, ctx, now, id)?;
    conn.transaction(|c| {
        let report = evaluation::report_for(c, ctx, now, id, user)?;
        if !report.locked {
            return Err(evaluation::not_locked());
        }
        Ok(Evaluation {
            tender: tenders::find_row(c, id)?,
            report,
            public_url: ctx.public_url.trim_end_matches('/').to_string(),
            digest: crate::ledger::digest(c)?,
        })
    })
}

fn bid_status(s: &str) -> String {
    BidStatus::parse(s)
        .map(|b| b.label(true).to_string())
        .unwrap_or_else(|| s.to_string())
}

/// The evaluation report (评审报告) as a PDF: what 87号令 Art 44 lists (the notice and the opening, the
/// bidders and the panel, the method and criteria, the opening record and each bid's status with its
/// reason, the result and the recommended candidates, and other matters), the declarations, every
/// evaluator's points per criterion and a signature line for every member.
pub fn evaluation_pdf(
    font: &Arc<ReportFont>,
    e: &Evaluation,
    issuer: &str,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let t = &e.tender;
    let r = &e.report;
    let title = format!("{}评审报告", t.title);
    let meta = Meta {
        title: title.clone(),
        author: issuer.to_string(),
        subject: format!("项目编号 {} 的评审报告", t.code),
        keywords: vec!["评审报告".into(), t.code.clone()],
    };
    let filters = format!("项目编号 {}", t.code);
    let method = t.method();
    crate::pdf::render(font, &meta, &footer(&filters, &e.digest, now), now, |w| {
        w.title(&title, &format!("项目编号：{}", t.code));
        w.paragraph("本报告依照《政府采购货物和服务招标投标管理办法》（财政部令第87号）第四十四条编制，载明采购公告、开标、投标人和评审委员会成员名单、评审方法和标准、开标记录和评审情况、评审结果及其他需要说明的情况。");
        w.heading(1, "一、项目概况");
        w.fields(&[
            ("项目编号", t.code.clone()),
            ("项目名称", t.title.clone()),
            ("采购方式", method.label(true).to_string()),
            ("预算金额", yuan(t.budget_fen)),
            (
                "公告发布",
                format!(
                    "{}（{}/tenders/{}）",
                    t.published_at
                        .map(beijing_time)
                        .unwrap_or_else(|| "—".into()),
                    e.public_url,
                    t.id
                ),
            ),
            ("开标时间", beijing_time(t.opening_at)),
            (
                "评审完成",
                t.evaluated_at
                    .map(beijing_time)
                    .unwrap_or_else(|| "—".into()),
            ),
        ]);
        panel(w, r);
        w.heading(1, "三、投标人名单与开标记录");
        let rows: Vec<Vec<String>> = r
            .bids
            .iter()
            .map(|b| {
                vec![
                    format!("#{}", b.seq),
                    b.organisation_name.clone(),
                    b.price.clone(),
                    bid_status(&b.status),
                    b.status_reason
                        .as_deref()
                        .map(|r| crate::domain::tender::Note::read(r).text(true))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        w.table(
            "表3 开标记录（无效投标及原因）",
            &[
                Column::left("回执号", 0.1),
                Column::left("投标人", 0.36),
                Column::right("投标报价（元）", 0.18),
                Column::left("状态", 0.12),
                Column::left("说明", 0.24),
            ],
            &rows,
        );
        w.heading(1, "四、评审方法和标准");
        let c = &r.criteria;
        w.paragraph(&format!(
            "评审方法：{}。价格权重 {}%{}。",
            if matches!(
                method,
                crate::domain::tender::Method::Negotiation
                    | crate::domain::tender::Method::SingleSource
            ) {
                "最终报价"
            } else {
                "综合评分法"
            },
            c.price_weight_pct,
            if c.fixed_price_fen.is_some() {
                "（固定价格，价格不计分）"
            } else {
                ""
            }
        ));
        let rows: Vec<Vec<String>> = c
            .items
            .iter()
            .map(|k| {
                vec![
                    k.name.clone(),
                    match k.category {
                        crate::domain::tender::Category::Technical => "技术".into(),
                        crate::domain::tender::Category::Commercial => "商务".into(),
                    },
                    k.max_points.to_string(),
                ]
            })
            .collect();
        w.table(
            "表4 评审因素",
            &[
                Column::left("评审因素", 0.6),
                Column::left("类别", 0.2),
                Column::right("分值", 0.2),
            ],
            &rows,
        );
        w.heading(1, "五、评审专家评分");
        for (i, b) in r.bids.iter().enumerate() {
            if b.by_evaluator.is_empty() {
                continue;
            }
            let n = c.items.len().max(1) as f32;
            let mut cols = vec![Column::left("评审专家", 0.24)];
            let share = 0.62 / n;
            for k in &c.items {
                cols.push(Column::right(&k.name, share));
            }
            cols.push(Column::right("小计", 0.14));
            let rows: Vec<Vec<String>> = b
                .by_evaluator
                .iter()
                .map(|s| {
                    let mut row = vec![s.evaluator.clone()];
                    row.extend(s.points.iter().cloned());
                    row.push(s.sum.clone());
                    row
                })
                .collect();
            w.table(
                &format!("表5-{} {}（回执 #{}）", i + 1, b.organisation_name, b.seq),
                &cols,
                &rows,
            );
        }
        w.heading(1, "六、价格分与排序");
        let rows: Vec<Vec<String>> = r
            .bids
            .iter()
            .filter(|b| b.rank.is_some())
            .map(|b| {
                let dash = || "—".to_string();
                vec![
                    b.rank.map(|x| x.to_string()).unwrap_or_default(),
                    b.organisation_name.clone(),
                    b.final_price.clone().unwrap_or_else(|| b.price.clone()),
                    b.price_score.clone().unwrap_or_else(dash),
                    b.technical.clone().unwrap_or_else(dash),
                    b.commercial.clone().unwrap_or_else(dash),
                    b.total.clone().unwrap_or_else(dash),
                    b.tie.map(|x| x.label(true).to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        w.table(
            "表6 综合排序",
            &[
                Column::right("名次", 0.07),
                Column::left("投标人", 0.25),
                Column::right("报价（元）", 0.14),
                Column::right("价格分", 0.1),
                Column::right("技术分", 0.1),
                Column::right("商务分", 0.1),
                Column::right("总分", 0.1),
                Column::left("同分处理", 0.14),
            ],
            &rows,
        );
        for d in &r.draws {
            w.paragraph(&format!(
                "得分与报价均相同，以抽签确定名次（87号令第五十七条、第六十八条）：种子 {}，结果 {}。",
                d.seed,
                d.order
                    .iter()
                    .map(|s| format!("#{s}"))
                    .collect::<Vec<_>>()
                    .join(" > ")
            ));
        }
        w.heading(1, "七、评审结果");
        let first = r.bids.iter().find(|b| b.rank == Some(1));
        w.paragraph(&match first {
            Some(b) => format!(
                "评审委员会按排序推荐的第一中标（成交）候选人为 {}（回执 #{}）；候选人依次为：{}。",
                b.organisation_name,
                b.seq,
                r.bids
                    .iter()
                    .filter(|b| b.rank.is_some())
                    .map(|b| b.organisation_name.clone())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            None => "无有效投标，评审委员会未推荐候选人。".into(),
        });
        if let Some(seq) = r.award_seq {
            let name = r
                .bids
                .iter()
                .find(|b| b.seq == seq)
                .map(|b| b.organisation_name.clone())
                .unwrap_or_default();
            w.paragraph(&format!(
                "采购人确定的中标（成交）供应商：{name}（回执 #{seq}）{}。",
                r.award_reason
                    .as_deref()
                    .map(|x| format!(
                        "，理由：{}",
                        crate::domain::tender::Note::read(x).text(true)
                    ))
                    .unwrap_or_default()
            ));
        }
        w.heading(1, "八、其他需要说明的情况");
        let recused: Vec<String> = r
            .panel
            .iter()
            .filter(|m| m.declaration.as_deref() == Some("conflict"))
            .map(|m| m.name.clone())
            .collect();
        w.paragraph(&if recused.is_empty() {
            "评审过程中无评审委员会成员回避或更换。".to_string()
        } else {
            format!("{} 申报利益冲突并回避，未参加评分。", recused.join("、"))
        });
        w.heading(1, "评审委员会成员签字");
        let who: Vec<(String, String)> = r
            .panel
            .iter()
            .map(|m| (m.seat.label(true).to_string(), m.name.clone()))
            .collect();
        w.signatures(&who);
        w.right(&today(now));
    })
}

fn panel(w: &mut Writer, r: &EvaluationReport) {
    w.heading(1, "二、评审委员会成员及回避声明");
    let rows: Vec<Vec<String>> = r
        .panel
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.seat.label(true).into(),
                match m.declaration.as_deref() {
                    Some("none") => "声明与投标人无利害关系".into(),
                    Some("conflict") => format!(
                        "申报利益冲突并回避：{}",
                        m.declaration_note.clone().unwrap_or_default()
                    ),
                    _ => "未申报".into(),
                },
                m.declared_at
                    .map(beijing_time)
                    .unwrap_or_else(|| "—".into()),
                m.submitted_at
                    .map(beijing_time)
                    .unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    w.table(
        "表1 评审委员会成员",
        &[
            Column::left("姓名", 0.18),
            Column::left("身份", 0.12),
            Column::left("回避声明", 0.34),
            Column::left("声明时间", 0.18),
            Column::left("提交评分", 0.18),
        ],
        &rows,
    );
    if !r.panel_draws.is_empty() {
        let rows: Vec<Vec<String>> = r
            .panel_draws
            .iter()
            .map(|d| {
                vec![
                    beijing_time(d.drawn_at),
                    d.actor_name.clone(),
                    d.drawn_names.join("、"),
                    grouped(&d.draw.seed),
                ]
            })
            .collect();
        w.table(
            "表2 评审专家随机抽取记录（实施条例第三十九条；87号令第四十八条）",
            &[
                Column::left("抽取时间", 0.18),
                Column::left("抽取人", 0.14),
                Column::left("抽中专家", 0.26),
                Column::left("种子（SHA-256）", 0.42),
            ],
            &rows,
        );
    }
}

/// An organisation's receipt for its bid on a tender.
#[derive(Clone, Debug)]
pub struct BidReceipt {
    pub tender: TenderRow,
    pub organisation: String,
    pub receipt: Receipt,
    /// Earlier receipts of the same organisation on this tender.
    pub history: Vec<Receipt>,
    pub public_url: String,
    pub digest: Digest,
}

/// The organisation's receipt: 404 when it has no bid on the tender (or cannot see the tender). Only the
/// receipt is kept: the sealed content (the price) never reaches the document.
pub fn receipt(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    org: i64,
    id: i64,
) -> Result<BidReceipt, AppError> {
    tenders::advance(conn, ctx, now, id)?;
    conn.transaction(|c| {
        let tender = tenders::visible_row(c, id, false)?;
        let own = bids::own_bid(c, ctx, org, id)?.ok_or(AppError::NotFound)?;
        let organisation: String = organisations::table
            .find(org)
            .select(organisations::name)
            .first(c)?;
        Ok(BidReceipt {
            tender,
            organisation,
            receipt: own.receipt,
            history: own.history,
            public_url: ctx.public_url.trim_end_matches('/').to_string(),
            digest: crate::ledger::digest(c)?,
        })
    })
}

/// The bid receipt (投标回执) as a PDF: the receipt number, the time received (Beijing), the commitment
/// and how to check it after the opening. Nothing of the bid's content.
pub fn receipt_pdf(
    font: &Arc<ReportFont>,
    b: &BidReceipt,
    issuer: &str,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let t = &b.tender;
    let r = &b.receipt;
    let meta = Meta {
        title: format!("投标回执 #{} {}", r.seq, t.code),
        author: issuer.to_string(),
        subject: format!("{} 对项目 {} 的投标回执", b.organisation, t.code),
        keywords: vec!["投标回执".into(), t.code.clone()],
    };
    let filters = format!("项目编号 {} · 回执 #{}", t.code, r.seq);
    crate::pdf::render(font, &meta, &footer(&filters, &b.digest, now), now, |w| {
        w.title("投标回执", &format!("回执编号：#{}", r.seq));
        w.fields(&[
            ("项目编号", t.code.clone()),
            ("项目名称", t.title.clone()),
            ("投标人", b.organisation.clone()),
            ("回执编号", format!("#{}", r.seq)),
            (
                "接收时间",
                format!("{}（北京时间）", beijing_time(r.submitted_at)),
            ),
            ("投标状态", bid_status(&r.status)),
            (
                "开标时间",
                format!("{}（北京时间）", beijing_time(t.opening_at)),
            ),
            ("承诺值（SHA-256）", grouped(&r.commitment)),
        ]);
        if let Some(p) = r.replaced {
            w.paragraph(&format!("本次投标替换了回执 #{p} 的投标。"));
        }
        w.heading(1, "如何核验");
        w.paragraph("投标文件在开标前加密保存，任何人（包括采购人）都不能读取。承诺值是投标内容规范化字节与一个保密随机数的 SHA-256 摘要，在接收时即已确定：开标后投标内容若有任何改动，承诺值将不再相符。");
        w.paragraph(&format!(
            "1. 开标后，打开 {0}/tenders/{1}/commitments 页面，或调用公开接口 {0}/api/v1/tenders/{1}/commitments。",
            b.public_url, t.id
        ));
        w.paragraph(&format!(
            "2. 找到回执编号 #{}，核对所列承诺值与本回执上的承诺值完全一致，并查看系统的核验结果。",
            r.seq
        ));
        w.paragraph("3. 如需自行复算：按接口返回的各字段值与随机数，依接口文档所述算法计算 SHA-256，结果应等于承诺值。");
        if !b.history.is_empty() {
            let rows: Vec<Vec<String>> = b
                .history
                .iter()
                .map(|h| {
                    vec![
                        format!("#{}", h.seq),
                        beijing_time(h.submitted_at),
                        bid_status(&h.status),
                        grouped(&h.commitment),
                    ]
                })
                .collect();
            w.table(
                "本单位在本项目的其他回执",
                &[
                    Column::left("回执编号", 0.12),
                    Column::left("接收时间", 0.2),
                    Column::left("状态", 0.12),
                    Column::left("承诺值", 0.56),
                ],
                &rows,
            );
        }
        w.right(issuer);
        w.right(&today(now));
    })
}
