//! A note on a tender's timeline, and a tender's end or award reason: what happened as a code plus its
//! parameters, stored as JSON (`{"code": "opened", "params": {"valid": 3}}`) and worded here in the reader's
//! language, so each reader gets their own and a wording can be mended without touching the records. Rows
//! from before hold `{"code", "zh", "en"}` or one text "中文 / English", which [`Note::read`] still reads.

use super::{Method, Subject};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", content = "params", rename_all = "snake_case")]
pub enum Note {
    /// Words a person wrote (a reason), the same in both languages.
    Said { text: String },
    /// Moved to 竞争性谈判 after the open tender `from` failed (财政部令第74号 Art 27).
    NegotiationOrigin { from: String },
    /// The panel recorded a compliance decision; which one stays with the panel (政府采购法 Art 38(3)).
    ComplianceLogged,
    /// Fewer compliant suppliers than a negotiation needs (财政部令第74号 Art 37).
    TooFewCompliant { compliant: u32, min: u32 },
    /// A round of negotiation (or the final quotes): how many quoted anew and how many kept their last.
    NegotiationRound {
        round: u32,
        last: bool,
        quoted: u32,
        kept: u32,
    },
    /// Final quotes in, ranked, report locked (财政部令第74号 Art 35–36).
    FinalQuotes { round: u32 },
    /// A challenge filed, with its answer date; `subject` names what it holds (实施条例 Art 54).
    ChallengeFiled {
        id: i64,
        subject: Option<Subject>,
        due: NaiveDate,
    },
    /// A challenge answered; `amend` when the documents must be amended (财政部令第94号 Art 16).
    ChallengeAnswered { id: i64, upheld: bool, amend: bool },
    /// An upheld challenge sets the result aside.
    ResultSetAside,
    /// Whether a challenge may affect the result (实施条例 Art 54), with the reason when it cannot.
    ChallengeAssessed {
        id: i64,
        affects: bool,
        reason: String,
    },
    /// The winner named; `late` is the missed last day (实施条例 Art 43).
    WinnerNamed {
        org: String,
        rank: i64,
        late: Option<NaiveDate>,
    },
    /// The result published and the award letter sent; `late` is the missed last day (87号令 Art 69).
    ResultPublished {
        method: Method,
        late: Option<NaiveDate>,
    },
    /// The winner refused to sign.
    AwardRefused { org: String, bid: i64 },
    /// The award passed to the next-ranked valid bid.
    AwardPassed { org: String, rank: i64 },
    /// The award reason after a pass: the winner withdrew, was disqualified or refused to sign.
    AwardPassedOn,
    /// No valid bid left to award.
    NoValidBidLeft,
    /// Fewer valid bids than the method needs (流标).
    TooFewBids {
        valid: u32,
        min: u32,
        method: Method,
    },
    /// Every evaluator's scores are in; the report is locked.
    ReportLocked,
    /// A full tie decided by a recorded draw.
    TieDraw { order: Vec<i64>, seed: String },
    /// Experts drawn at random.
    ExpertsDrawn {
        drawn: Vec<i64>,
        candidates: u32,
        seed: String,
    },
    /// The panel seated.
    PanelFormed { seated: u32 },
    /// An objection to a single-source notice lodged; the procurement waits (财政部令第74号 Art 41).
    ObjectionLodged { n: i64 },
    /// An objection upheld: single source may not go on (财政部令第74号 Art 41).
    ObjectionUpheld { n: i64, answer: String },
    /// An objection answered and not upheld.
    ObjectionAnswered { n: i64 },
    /// The single-source negotiation recorded at a price (财政部令第74号 Art 42).
    SingleSourceRecorded { price_fen: i64 },
    /// A clarification or change of the published documents, with its file and the bureau's words
    /// (87号令 Art 27).
    Clarified { file: String, text: String },
    /// A late clarification moved the deadline and the opening (87号令 Art 27, 74号令 Art 29).
    DeadlineMoved {
        method: Method,
        deadline: String,
        opening: String,
    },
    /// The opening held by a challenge (实施条例 Art 54).
    OpeningHeld { challenge: i64 },
    /// Bids opened.
    Opened { valid: u32 },
    /// A bid set aside, withdrawn or disqualified, with why.
    BidLost { bid: i64, reason: Box<Note> },
    /// The winner refused to sign, in its words.
    RefusedToSign { reason: String },
    /// A bid found ineligible when checked again before the award (`award`) or before the award passed to
    /// it, with the reasons in both languages.
    Recheck {
        award: bool,
        zh: Vec<String>,
        en: Vec<String>,
    },
    /// A contract signed.
    ContractSigned { contract_no: String },
    /// A row from before notes had codes: the texts as they were kept.
    #[serde(untagged)]
    Legacy {
        code: String,
        zh: String,
        en: String,
    },
}

/// A note worded in both languages, for the API and the pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Worded {
    /// What kind of note (`opened`, `challenge_filed`, …; `said` for a person's own words).
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl Worded {
    pub fn text(&self, zh: bool) -> &str {
        if zh { &self.zh } else { &self.en }
    }
}

/// "; late: due …" for a step taken after its last day, naming the rule.
fn late(due: Option<NaiveDate>, zh: bool, rule_zh: &str, rule_en: &str) -> String {
    match (due, zh) {
        (None, _) => String::new(),
        (Some(d), true) => format!("；逾期：应于 {d} 前完成（{rule_zh}）"),
        (Some(d), false) => format!("; late: due by {d} ({rule_en})"),
    }
}

impl Note {
    pub fn said(text: impl Into<String>) -> Note {
        Note::Said { text: text.into() }
    }

    /// The form kept in the row.
    pub fn stored(&self) -> String {
        serde_json::to_string(self).expect("a note serialises")
    }

    /// A stored note. A text from before notes were JSON is split at " / " when the part after it is
    /// English (no CJK), else shown whole in both languages.
    pub fn read(stored: &str) -> Note {
        if stored.starts_with('{')
            && let Ok(n) = serde_json::from_str::<Note>(stored)
        {
            return n;
        }
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let legacy = |zh: &str, en: &str| Note::Legacy {
            code: "legacy".into(),
            zh: zh.into(),
            en: en.into(),
        };
        match stored.split_once(" / ") {
            Some((zh, en)) if cjk(zh) && !cjk(en) => legacy(zh, en),
            _ => legacy(stored, stored),
        }
    }

    pub fn code(&self) -> String {
        match self {
            Note::Legacy { code, .. } => code.clone(),
            n => serde_json::to_value(n).expect("a note serialises")["code"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }
    }

    pub fn worded(&self) -> Worded {
        Worded {
            code: self.code(),
            zh: self.text(true),
            en: self.text(false),
        }
    }

    /// The note in one language.
    pub fn text(&self, zh: bool) -> String {
        let pick = |a: String, b: String| if zh { a } else { b };
        let join = |v: &[i64], sep: &str, hash: bool| {
            v.iter()
                .map(|s| if hash { format!("#{s}") } else { s.to_string() })
                .collect::<Vec<_>>()
                .join(sep)
        };
        match self {
            Note::Said { text } => text.clone(),
            Note::Legacy { zh: z, en, .. } => pick(z.clone(), en.clone()),
            Note::NegotiationOrigin { from } => pick(
                format!(
                    "公开招标 {from} 流标后转为竞争性谈判，两家供应商即可进行（财政部令第74号第二十七条）"
                ),
                format!(
                    "Moved here after the failed open tender {from}: two suppliers suffice (MOF Order 74 Art 27)"
                ),
            ),
            Note::ComplianceLogged => pick(
                "谈判小组记录了一项响应审查结论".into(),
                "The panel recorded a compliance decision".into(),
            ),
            Note::TooFewCompliant { compliant, min } => pick(
                format!(
                    "实质性响应的供应商 {compliant} 家，少于竞争性谈判要求的 {min} 家（财政部令第74号第三十七条）"
                ),
                format!(
                    "{compliant} compliant suppliers, fewer than the {min} a negotiation needs (MOF Order 74 Art 37)"
                ),
            ),
            Note::NegotiationRound {
                round,
                last,
                quoted,
                kept,
            } => pick(
                format!(
                    "第 {round} 轮{}：{quoted} 家重新报价，{kept} 家维持上轮报价",
                    if *last { "最后报价" } else { "谈判" }
                ),
                format!(
                    "{} {round}: {quoted} new quotes, {kept} kept their last",
                    if *last { "Final round" } else { "Round" }
                ),
            ),
            Note::FinalQuotes { round } => pick(
                format!(
                    "最后报价完成（第 {round} 轮），按最后报价由低到高排序，评审报告锁定（财政部令第74号第三十五、三十六条）"
                ),
                format!(
                    "Final quotes in (round {round}), ranked lowest first, report locked (MOF Order 74 Art 35–36)"
                ),
            ),
            Note::ChallengeFiled { id, subject, due } => match subject {
                None => pick(
                    format!("收到质疑 #{id}，答复期限 {due}"),
                    format!("Challenge #{id} filed, answer due {due}"),
                ),
                Some(s) => {
                    let held = match (s, zh) {
                        (Subject::Documents, true) => "；答复前暂停开标（实施条例第五十四条）",
                        (Subject::Documents, false) => {
                            "; the opening is suspended until answered (Art 54)"
                        }
                        (_, true) => {
                            "；答复前暂停确定中标人、公告结果、授予和签约（实施条例第五十四条）"
                        }
                        (_, false) => {
                            "; the award and the contract are suspended until answered (Art 54)"
                        }
                    };
                    pick(
                        format!("收到对{}的质疑 #{id}，答复期限 {due}{held}", s.label(true)),
                        format!(
                            "Challenge #{id} against the {} filed, answer due {due}{held}",
                            s.label(false).to_lowercase()
                        ),
                    )
                }
            },
            Note::ChallengeAnswered { id, upheld, amend } => {
                let next = match (amend, zh) {
                    (false, _) => "",
                    (true, true) => {
                        "；须澄清或修改采购文件后继续，或取消重新采购（财政部令第94号第十六条）"
                    }
                    (true, false) => {
                        "; the documents must be amended by a clarification, or the tender cancelled (MOF Order 94 Art 16)"
                    }
                };
                pick(
                    format!(
                        "质疑 #{id} {}{next}",
                        if *upheld { "成立" } else { "不成立" }
                    ),
                    format!(
                        "Challenge #{id} {}{next}",
                        if *upheld { "upheld" } else { "rejected" }
                    ),
                )
            }
            Note::ResultSetAside => pick(
                "质疑成立，中标结果撤销，须重新确定".into(),
                "Challenge upheld: the result is set aside".into(),
            ),
            Note::ChallengeAssessed {
                id,
                affects: true,
                ..
            } => pick(
                format!(
                    "质疑 #{id} 认定可能影响中标/成交结果，答复前暂停后续程序（实施条例第五十四条）"
                ),
                format!(
                    "Challenge #{id} may affect the result: the next steps wait for its answer (Art 54)"
                ),
            ),
            Note::ChallengeAssessed {
                id,
                affects: false,
                reason,
            } => pick(
                format!("质疑 #{id} 认定不影响中标/成交结果，不暂停采购活动：{reason}"),
                format!("Challenge #{id} cannot affect the result, nothing is suspended: {reason}"),
            ),
            Note::WinnerNamed { org, rank, late: l } => pick(
                format!(
                    "拟中标：{org}（第 {rank} 名）{}",
                    late(*l, true, "评审报告后 5 个工作日（实施条例第四十三条）", "")
                ),
                format!(
                    "Proposed: {org} (rank {rank}){}",
                    late(*l, false, "", "5 working days after the report (Art 43)")
                ),
            ),
            Note::ResultPublished { method, late: l } => pick(
                format!(
                    "结果公告并发出{}{}",
                    method.award_letter(true),
                    late(*l, true, "确定中标人后 2 个工作日（87号令第六十九条）", "")
                ),
                format!(
                    "Result published, {} issued{}",
                    method.award_letter(false).to_lowercase(),
                    late(
                        *l,
                        false,
                        "",
                        "2 working days after naming the winner (87号令 Art 69)"
                    )
                ),
            ),
            Note::AwardRefused { org, bid } => pick(
                format!("中标（成交）供应商拒绝签订合同：{org}（投标 #{bid}）"),
                format!("The winner refused to sign: {org} (bid #{bid})"),
            ),
            Note::AwardPassed { org, rank } => pick(
                format!("递补：{org}（第 {rank} 名）"),
                format!("Passed on to {org} (rank {rank})"),
            ),
            Note::AwardPassedOn => pick(
                "原中标人撤回、被取消资格或拒绝签订合同，由排名其后的有效投标人递补".into(),
                "Passed to the next-ranked valid bid: the winner withdrew, was disqualified or refused to sign".into(),
            ),
            Note::NoValidBidLeft => pick(
                "没有可递补的有效投标".into(),
                "No valid bid left to award".into(),
            ),
            Note::TooFewBids { valid, min, method } => pick(
                format!(
                    "有效投标 {valid} 家，少于{}要求的 {min} 家",
                    method.label(true)
                ),
                format!("{valid} valid bids, fewer than the {min} required"),
            ),
            Note::ReportLocked => pick(
                "全部评审专家已提交评分，评审报告锁定".into(),
                "All scores in, report locked".into(),
            ),
            Note::TieDraw { order, seed } => pick(
                format!(
                    "得分、报价均相同，抽签决定名次：{}（种子 {seed}）",
                    join(order, " > ", true)
                ),
                format!(
                    "Full tie decided by the draw: {}; seed {seed}",
                    join(order, " > ", true)
                ),
            ),
            Note::ExpertsDrawn {
                drawn,
                candidates,
                seed,
            } => pick(
                format!(
                    "随机抽取评审专家 {} 名（候选 {candidates} 人）：用户 {}（种子 {seed}）",
                    drawn.len(),
                    join(drawn, ", ", false)
                ),
                format!(
                    "{} experts drawn at random from {candidates}: users {}; seed {seed}",
                    drawn.len(),
                    join(drawn, ", ", false)
                ),
            ),
            Note::PanelFormed { seated } => {
                pick(format!("评审委员会 {seated} 人"), format!("Panel of {seated}"))
            }
            Note::ObjectionLodged { n } => pick(
                format!("收到对单一来源公示的异议 #{n}，答复前采购活动暂停"),
                format!(
                    "Objection #{n} to the single-source notice lodged: the procurement waits for its answer"
                ),
            ),
            Note::ObjectionUpheld { n, answer } => pick(
                format!(
                    "异议 #{n} 成立，不能采用单一来源方式（财政部令第74号第四十一条）：{answer}"
                ),
                format!(
                    "Objection #{n} upheld: single source may not go on (MOF Order 74 Art 41): {answer}"
                ),
            ),
            Note::ObjectionAnswered { n } => pick(
                format!("异议 #{n} 已答复：不成立"),
                format!("Objection #{n} answered: not upheld"),
            ),
            Note::SingleSourceRecorded { price_fen } => {
                let price = crate::domain::money::yuan_grouped(*price_fen);
                pick(
                    format!(
                        "单一来源协商情况记录完成，协商价格 {price} 元（财政部令第74号第四十二条）"
                    ),
                    format!("Single-source negotiation recorded at ¥{price} (MOF Order 74 Art 42)"),
                )
            }
            Note::Clarified { file, text } => pick(
                format!("发布澄清或修改文件《{file}》：{text}"),
                format!("Clarification or change published ({file}): {text}"),
            ),
            Note::DeadlineMoved {
                method,
                deadline,
                opening,
            } => {
                let notice = method.clarification_notice();
                pick(
                    format!(
                        "澄清答复距投标截止不足 {}（{}），投标截止顺延至 {deadline}，开标顺延至 {opening}",
                        notice.label(true),
                        method.label(true)
                    ),
                    format!(
                        "Less than {} before the deadline: the bid deadline moves to {deadline} and the opening to {opening}",
                        notice.label(false)
                    ),
                )
            }
            Note::OpeningHeld { challenge } => pick(
                format!(
                    "已到开标时间，因质疑 #{challenge} 暂停开标，答复后继续（实施条例第五十四条）"
                ),
                format!(
                    "Opening time reached: held by challenge #{challenge} (Art 54) until it is answered"
                ),
            ),
            Note::Opened { valid } => pick(
                format!("开标：{valid} 份有效投标"),
                format!("{valid} valid bids opened"),
            ),
            Note::BidLost { bid, reason } => pick(
                format!("投标 #{bid}：{}", reason.text(true)),
                format!("Bid #{bid}: {}", reason.text(false)),
            ),
            Note::RefusedToSign { reason } => pick(
                format!("拒绝签订合同：{reason}"),
                format!("Refused to sign: {reason}"),
            ),
            Note::Recheck {
                award,
                zh: z,
                en,
            } => pick(
                format!(
                    "{}复核不合格：{}",
                    if *award { "授予前" } else { "递补前" },
                    z.join("；")
                ),
                format!(
                    "Not eligible when checked again before {}: {}",
                    if *award { "the award" } else { "passing the award on" },
                    en.join("; ")
                ),
            ),
            Note::ContractSigned { contract_no } => pick(
                format!("合同 {contract_no}"),
                format!("Contract {contract_no}"),
            ),
        }
    }

    /// Both languages in one text, "中文 / English" (once when they are the same), for a field kept as
    /// one text (a bid's status reason).
    pub fn both(&self) -> String {
        let (zh, en) = (self.text(true), self.text(false));
        if zh == en { zh } else { format!("{zh} / {en}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_kept_as_code_and_parameters_and_worded_for_each_reader() {
        let n = Note::Opened { valid: 3 };
        assert_eq!(n.stored(), r#"{"code":"opened","params":{"valid":3}}"#);
        let back = Note::read(&n.stored());
        assert_eq!(back, n);
        assert_eq!(back.code(), "opened");
        assert_eq!(back.text(true), "开标：3 份有效投标");
        assert_eq!(back.text(false), "3 valid bids opened");
        let said = Note::read(&Note::said("预算调整").stored());
        assert_eq!(
            (said.code(), said.text(false)),
            ("said".into(), "预算调整".into())
        );
        let nested = Note::BidLost {
            bid: 2,
            reason: Box::new(Note::RefusedToSign {
                reason: "价格".into(),
            }),
        };
        assert_eq!(Note::read(&nested.stored()), nested);
        assert_eq!(nested.text(false), "Bid #2: Refused to sign: 价格");
    }

    #[test]
    fn every_coded_note_has_a_chinese_and_an_english_text() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1);
        let notes = [
            Note::NegotiationOrigin { from: "T-1".into() },
            Note::ComplianceLogged,
            Note::TooFewCompliant {
                compliant: 1,
                min: 2,
            },
            Note::NegotiationRound {
                round: 1,
                last: true,
                quoted: 2,
                kept: 1,
            },
            Note::FinalQuotes { round: 2 },
            Note::ChallengeFiled {
                id: 1,
                subject: Some(Subject::Result),
                due: d.unwrap(),
            },
            Note::ChallengeAnswered {
                id: 1,
                upheld: true,
                amend: true,
            },
            Note::ResultSetAside,
            Note::ChallengeAssessed {
                id: 1,
                affects: true,
                reason: String::new(),
            },
            Note::WinnerNamed {
                org: "A".into(),
                rank: 1,
                late: d,
            },
            Note::ResultPublished {
                method: Method::Open,
                late: d,
            },
            Note::AwardRefused {
                org: "A".into(),
                bid: 1,
            },
            Note::AwardPassed {
                org: "A".into(),
                rank: 2,
            },
            Note::AwardPassedOn,
            Note::NoValidBidLeft,
            Note::TooFewBids {
                valid: 1,
                min: 3,
                method: Method::Open,
            },
            Note::ReportLocked,
            Note::TieDraw {
                order: vec![1, 2],
                seed: "ab".into(),
            },
            Note::ExpertsDrawn {
                drawn: vec![4, 5],
                candidates: 9,
                seed: "ab".into(),
            },
            Note::PanelFormed { seated: 5 },
            Note::ObjectionLodged { n: 1 },
            Note::ObjectionUpheld {
                n: 1,
                answer: "A".into(),
            },
            Note::ObjectionAnswered { n: 1 },
            Note::SingleSourceRecorded { price_fen: 100 },
            Note::Clarified {
                file: "A.pdf".into(),
                text: "A".into(),
            },
            Note::DeadlineMoved {
                method: Method::Open,
                deadline: "2026-12-01 09:00:00".into(),
                opening: "2026-12-01 09:30:00".into(),
            },
            Note::OpeningHeld { challenge: 1 },
            Note::Opened { valid: 3 },
            Note::Recheck {
                award: true,
                zh: vec!["社工不足".into()],
                en: vec!["too few social workers".into()],
            },
            Note::ContractSigned {
                contract_no: "C-1".into(),
            },
        ];
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for n in notes {
            assert_eq!(Note::read(&n.stored()), n, "{n:?}");
            assert!(cjk(&n.text(true)), "{n:?}");
            // English text may cite a Chinese regulation by its name (87号令), nothing else.
            let en = n.text(false).replace("87号令", "");
            assert!(!cjk(&en), "{n:?}: {en}");
            assert!(!n.code().is_empty() && n.code() != "legacy", "{n:?}");
        }
    }

    #[test]
    fn rows_from_before_are_still_read() {
        let old = r#"{"code":"opened","zh":"开标：3 份有效投标","en":"3 valid bids opened"}"#;
        let n = Note::read(old);
        assert_eq!(
            (n.code(), n.text(true), n.text(false)),
            (
                "opened".into(),
                "开标：3 份有效投标".into(),
                "3 valid bids opened".into()
            )
        );
        let n = Note::read("开标：3 份有效投标 / 3 valid bids opened");
        assert_eq!(n.text(false), "3 valid bids opened");
        assert_eq!(Note::read("投标 #2：撤回").text(false), "投标 #2：撤回");
        assert_eq!(
            Note::read("中标/成交 / 结果").text(false),
            "中标/成交 / 结果",
            "no English half: whole"
        );
    }
}
