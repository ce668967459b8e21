//! Vocabularies: fixed sets of keys, each with a Chinese and an English label, and the lookups over them.

/// (key, zh-CN, en)
pub type Vocab = &'static [(&'static str, &'static str, &'static str)];

/// Social-worker certificate levels (社会工作者职业水平), lowest first.
pub const CERTIFICATE_LEVELS: &[(&str, &str, &str)] = &[
    ("none", "无证书", "No certificate"),
    ("assistant", "助理社会工作师", "Assistant social worker"),
    ("social_worker", "社会工作师", "Social worker"),
    ("senior", "高级社会工作师", "Senior social worker"),
];

/// The label of a key in a vocabulary; an unknown key shows itself.
pub fn label(table: &[(&'static str, &'static str, &'static str)], key: &str, zh: bool) -> String {
    table
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, z, e)| if zh { *z } else { *e })
        .unwrap_or(key)
        .to_string()
}

pub fn keys(table: &[(&str, &str, &str)]) -> String {
    table
        .iter()
        .map(|(k, _, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn one_of(table: &[(&str, &str, &str)], v: &str) -> bool {
    table.iter().any(|(k, _, _)| *k == v)
}

/// Accept a key or its Chinese or English label (CSV files carry labels).
pub fn key_of(
    table: &[(&'static str, &'static str, &'static str)],
    v: &str,
) -> Option<&'static str> {
    let v = v.trim();
    table
        .iter()
        .find(|(k, z, e)| *k == v || *z == v || e.eq_ignore_ascii_case(v))
        .map(|(k, _, _)| *k)
}

/// A configured term (a fund source, an activity type, a group of people): an ASCII code that is stored
/// and labels for people.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Term {
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl Term {
    pub fn label(&self, zh: bool) -> &str {
        if zh { &self.zh } else { &self.en }
    }
}

/// The label of a code in a configured list; an unknown code shows itself.
pub fn term_label<'a>(terms: &'a [Term], code: &'a str, zh: bool) -> &'a str {
    terms
        .iter()
        .find(|t| t.code == code)
        .map(|t| t.label(zh))
        .unwrap_or(code)
}

/// Is this a code usable in an account name or a stored key: a lower-case ASCII letter, then letters,
/// digits or `_`, at most 32 characters.
pub fn is_code(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= 32
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Parse a configured list: `code=中文名|English name` items separated by commas (the English name
/// optional); `what` names the list in the error.
pub fn parse_terms(s: &str, what: &str) -> Result<Vec<Term>, String> {
    let mut out: Vec<Term> = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (code, names) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?}: expected code=中文名|English name"))?;
        let code = code.trim();
        if !is_code(code) {
            return Err(format!(
                "{code:?}: a {what} code is a lower-case ASCII letter followed by letters, digits or _ (at most 32)"
            ));
        }
        let (zh, en) = names.split_once('|').unwrap_or((names, names));
        let (zh, en) = (zh.trim(), en.trim());
        if zh.is_empty() {
            return Err(format!("{code:?}: no name"));
        }
        if out.iter().any(|f| f.code == code) {
            return Err(format!("{code:?} is listed twice"));
        }
        out.push(Term {
            code: code.into(),
            zh: zh.into(),
            en: if en.is_empty() { zh.into() } else { en.into() },
        });
    }
    if out.is_empty() {
        return Err(format!("no {what}"));
    }
    Ok(out)
}

/// What an audit event is about (`entity_type`, and the first part of an action code).
pub const AUDIT_ENTITIES: &[(&str, &str, &str)] = &[
    ("tender", "招标项目", "Tender"),
    ("bid", "投标", "Bid"),
    ("contract", "合同", "Contract"),
    ("organisation", "社会组织", "Organisation"),
    ("social_worker", "社会工作者", "Social worker"),
    ("base", "孵化基地", "Incubation base"),
    ("incubation", "入孵", "Incubation"),
    ("user", "用户", "User"),
    ("enquiry", "投标人提问", "Enquiry"),
    ("challenge", "质疑", "Challenge"),
    ("spending", "支出", "Spending"),
    ("spending_item", "支出", "Spending"),
    ("appropriation", "预算指标", "Appropriation"),
    ("ledger", "资金账簿", "Ledger"),
    ("beneficiary", "服务对象", "Beneficiary"),
    ("activity", "服务活动", "Activity"),
    ("street", "街道", "Street"),
    ("community", "社区", "Community"),
    ("change_request", "变更申请", "Change request"),
    ("panel", "评审委员会", "Panel"),
    ("evaluator", "评审专家", "Evaluator"),
    ("report", "报告", "Report"),
    ("seed", "演示数据", "Demo data"),
    ("checklist", "出壳清单", "Graduation checklist"),
    ("checkpoint", "检查点", "Checkpoint"),
    ("file", "文件", "File"),
];

/// What was done (the second part of an action code). Tender states (`tender.published`) are labelled by
/// the state machine.
pub const AUDIT_VERBS: &[(&str, &str, &str)] = &[
    ("create", "新建", "created"),
    ("upload", "上传", "uploaded"),
    ("update", "修改", "updated"),
    ("import", "导入", "imported"),
    ("record", "记录", "recorded"),
    ("register", "登记", "registered"),
    ("answer", "答复", "answered"),
    ("assess", "评估", "assessed"),
    ("file", "提出", "filed"),
    ("pay", "支付", "paid"),
    ("survey", "满意度调查", "survey recorded"),
    ("ask", "提问", "asked"),
    ("link", "关联", "linked"),
    ("unlink", "取消关联", "unlinked"),
    ("apply", "申请", "applied"),
    ("seed", "演示数据", "demo data"),
    ("seed_demo", "演示数据", "demo data"),
    ("org_users", "组织账户", "organisation accounts"),
    ("organisations", "社会组织", "organisations"),
    ("social_workers", "社会工作者", "social workers"),
    ("identity_change", "名称或代码变更", "identity changed"),
    ("declare", "回避声明", "declared"),
    ("scores", "提交评分", "scores submitted"),
    ("reverse", "冲销", "reversed"),
    ("texts", "报告文字", "texts saved"),
    ("verify", "核实", "verified"),
    ("report", "报告", "reported"),
    ("review", "审核", "reviewed"),
    ("appropriation", "预算指标", "appropriation named"),
    ("compliance", "符合性审查", "compliance checked"),
    ("compliance_logged", "符合性审查", "compliance checked"),
    ("negotiation_origin", "谈判来源", "negotiation origin"),
    ("negotiation_round", "谈判报价", "negotiation round"),
    ("negotiation_round_logged", "谈判报价", "negotiation round"),
    ("objection", "异议", "objection"),
    ("objection_logged", "异议", "objection"),
    ("objection_answer", "答复异议", "objection answered"),
    ("objection_answered", "答复异议", "objection answered"),
    ("panel", "组建评审委员会", "panel formed"),
    ("panel_draw", "抽取评审专家", "experts drawn"),
    ("tie_draw", "并列抽签", "tie drawn"),
    (
        "single_source_record",
        "单一来源记录",
        "single-source record",
    ),
    ("password_change", "修改密码", "password changed"),
    ("accept", "验收", "accepted"),
    ("close", "关闭", "closed"),
    ("sign", "签订", "signed"),
    ("start", "开始履行", "started"),
    ("terminate", "终止", "terminated"),
    ("admit", "入驻", "admitted"),
    ("reject", "驳回", "rejected"),
    ("approve", "批准", "approved"),
    ("exit", "退出", "exited"),
    ("graduate", "出壳", "graduated"),
    ("renew", "续期", "renewed"),
    ("activate", "启用", "activated"),
    ("deactivate", "停用", "deactivated"),
    ("submit", "提交", "submitted"),
    ("withdraw", "撤回", "withdrawn"),
    ("withdrawn", "撤回", "withdrawn"),
    ("replace", "替换", "replaced"),
    ("replaced", "替换", "replaced"),
    ("disqualified", "取消资格", "disqualified"),
    ("active", "有效", "active"),
    ("rating_add", "登记等级评估", "rating recorded"),
    ("inspection_add", "登记年度检查", "inspection recorded"),
    ("listing_add", "列入信用名单", "credit listing added"),
    ("listing_remove", "移出信用名单", "credit listing removed"),
    ("award_passed", "中标顺延", "award passed on"),
    ("award_refused", "中标人拒签", "award refused"),
    ("challenge_answered", "答复质疑", "challenge answered"),
    ("challenge_assessed", "评估质疑", "challenge assessed"),
    ("challenged", "收到质疑", "challenged"),
    ("deadline_moved", "截止时间顺延", "deadline moved"),
    ("opening_suspended", "暂停开标", "opening suspended"),
];

/// An audit action code as a reader's words: "招标项目 · 已开标", "Contract · signed". A part without a label
/// shows itself (and the route-table test fails on it).
pub fn audit_action(action: &str, zh: bool) -> String {
    let (entity, verb) = action.split_once('.').unwrap_or((action, ""));
    let what = if entity == "tender"
        && let Some(s) = crate::domain::tender::State::parse(verb)
    {
        s.label(zh).to_string()
    } else {
        label(AUDIT_VERBS, verb, zh)
    };
    format!("{} · {what}", label(AUDIT_ENTITIES, entity, zh))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action code the service writes reads as words in both languages (the tender's states are
    /// all covered by the state machine's labels).
    #[test]
    fn audit_actions_read_as_words() {
        let src = [
            include_str!("../tenders/bids/submit.rs"),
            include_str!("../contracts/lifecycle.rs"),
            include_str!("../registry/incubations.rs"),
            include_str!("../users.rs"),
        ]
        .concat();
        let mut codes: Vec<String> = src
            .split('"')
            .filter(|s| {
                s.split_once('.').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && [a, b]
                            .iter()
                            .all(|p| p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                        && AUDIT_ENTITIES.iter().any(|(k, _, _)| *k == a)
                })
            })
            .map(str::to_string)
            .collect();
        codes.extend(
            crate::domain::tender::State::ALL
                .iter()
                .map(|s| format!("tender.{}", s.as_str())),
        );
        codes.extend(
            ["submit", "withdraw", "replace", "withdrawn", "disqualified"]
                .iter()
                .map(|v| format!("bid.{v}")),
        );
        assert!(codes.len() > 30, "{codes:?}");
        for code in &codes {
            for zh in [true, false] {
                let l = audit_action(code, zh);
                assert!(!l.contains('_') && !l.contains('.'), "{code}: {l}");
            }
        }
        assert_eq!(audit_action("contract.sign", true), "合同 · 签订");
        assert_eq!(audit_action("tender.opened", false), "Tender · Opened");
    }
}
