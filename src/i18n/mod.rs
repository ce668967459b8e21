//! Interface languages: Simplified Chinese (default) and English. Strings live in one table so a missing
//! translation is a compile-time-visible gap, not a runtime surprise.

mod bases;
mod checkpoints;
mod contracts;
mod files;
mod ledger;
mod orgs;
mod people;
mod reports;
mod spending;
mod tenders;

use actix_web::HttpRequest;

pub const LANG_COOKIE: &str = "sanshe_lang";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh-CN" | "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language cookie, or zh-CN. (The browser's Accept-Language is not consulted: the bureau's staff
    /// expect Chinese whatever their browser says.)
    pub fn from_request(req: &HttpRequest) -> Lang {
        req.cookie(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .unwrap_or_default()
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// Text in brackets after a name, in this language's punctuation: 名称（x）, name (x).
    pub fn paren(self, s: &str) -> String {
        match self {
            Lang::Zh => format!("（{s}）"),
            Lang::En => format!(" ({s})"),
        }
    }

    /// Pick the string for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// Translate a key of the interface table; an unknown key shows itself, which tests catch.
    pub fn t(self, key: &str) -> &'static str {
        match all_strings().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => self.pick(zh, en),
            None => {
                tracing::warn!(key, "missing translation");
                "??"
            }
        }
    }
}

/// Every interface string: the shell's and the registry pages'.
pub fn all_strings() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    STRINGS
        .iter()
        .chain(orgs::STRINGS)
        .chain(bases::STRINGS)
        .chain(tenders::STRINGS)
        .chain(checkpoints::STRINGS)
        .chain(ledger::STRINGS)
        .chain(contracts::STRINGS)
        .chain(spending::STRINGS)
        .chain(people::STRINGS)
        .chain(reports::STRINGS)
        .chain(files::STRINGS)
}

/// (key, zh-CN, en)
pub static STRINGS: &[(&str, &str, &str)] = &[
    (
        "app.name",
        "三社联动服务平台",
        "Sanshe social-services platform",
    ),
    (
        "app.tagline",
        "社区、社会组织、社会工作者联动：孵化、购买服务与资金监管",
        "Community, social organisations and social workers: incubation, purchased services and fund oversight",
    ),
    ("nav.home", "首页", "Home"),
    ("nav.dashboard", "工作台", "Dashboard"),
    ("nav.users", "用户管理", "Users"),
    ("nav.directory", "社会组织名录", "Directory"),
    ("nav.bases", "孵化基地", "Incubation bases"),
    ("nav.orgs", "组织管理", "Organisations"),
    ("nav.incubations", "入驻孵化", "Incubation"),
    ("nav.workers", "社会工作者", "Social workers"),
    ("nav.my_org", "本组织", "My organisation"),
    ("nav.audit", "审计日志", "Audit trail"),
    ("nav.account", "我的账户", "My account"),
    ("nav.api", "接口文档", "API documentation"),
    ("nav.login", "登录", "Sign in"),
    ("nav.logout", "退出", "Sign out"),
    ("nav.menu", "菜单", "Menu"),
    ("lang.switch", "English", "中文"),
    ("login.title", "登录", "Sign in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    (
        "login.failed",
        "用户名或密码不正确。",
        "Wrong username or password.",
    ),
    (
        "login.expired",
        "页面已过期，请重试。",
        "The page expired; please try again.",
    ),
    ("logout.done", "您已退出。", "You have signed out."),
    ("dash.title", "工作台", "Dashboard"),
    ("tasks.title", "待办事项", "Waiting for you"),
    (
        "tasks.none",
        "暂无待办事项。",
        "Nothing is waiting for you.",
    ),
    ("tasks.what", "事项", "What"),
    ("tasks.subject", "对象", "About"),
    ("tasks.since", "起始日期", "Since"),
    ("tasks.due", "办理期限", "Due"),
    ("tasks.overdue", "已逾期", "Overdue"),
    ("tasks.due_today", "今日到期", "Due today"),
    ("tasks.waiting", "待办事项数", "Things waiting for you"),
    ("dash.welcome", "欢迎", "Welcome"),
    ("dash.role", "角色", "Role"),
    ("dash.users_by_role", "各角色用户数", "Users by role"),
    ("dash.mail", "邮件发送队列", "Mail queue"),
    ("dash.mail_pending", "待发送", "Pending"),
    ("dash.mail_sent", "已发送", "Sent"),
    ("dash.audit_chain", "审计链校验", "Audit chain check"),
    ("dash.chain_ok", "完整", "Intact"),
    ("dash.chain_broken", "已损坏", "Broken"),
    ("dash.events", "事件数", "Events"),
    ("dash.head", "链头", "Chain head"),
    ("dash.recent", "最近的操作", "Recent activity"),
    ("dash.my_recent", "我的最近操作", "My recent activity"),
    (
        "dash.bureau_intro",
        "在这里管理孵化基地名录、政府购买服务项目与合同。",
        "Manage the incubation-base registry, purchase-of-service tenders and contracts here.",
    ),
    (
        "dash.finance_intro",
        "在这里审核支付、审计资金并核验账本。",
        "Approve payments, audit spending and verify the ledger here.",
    ),
    (
        "dash.evaluator_intro",
        "在这里声明利益冲突并为分配给您的投标评分。",
        "Declare conflicts of interest and score the bids assigned to you here.",
    ),
    (
        "dash.org_intro",
        "在这里维护本组织信息、投标并报送服务与支出。",
        "Keep your organisation's record, bid, and report services and spending here.",
    ),
    (
        "dash.admin_intro",
        "在这里管理用户与角色，查看系统状态。",
        "Manage users and roles and watch the system's state here.",
    ),
    ("dash.nothing_yet", "暂无记录。", "Nothing yet."),
    ("dash.registry", "社会组织名录概况", "Registry at a glance"),
    (
        "dash.standing",
        "社会组织信用状态",
        "Organisations by standing",
    ),
    ("dash.standing_eligible", "正常", "Eligible"),
    ("dash.standing_flagged", "需关注", "Flagged"),
    // The standing's own labels (domain::standing::Status): one name for each, everywhere.
    ("dash.standing_barred", "禁止参与", "Barred"),
    (
        "dash.coverage",
        "孵化基地覆盖率",
        "Incubation-base coverage",
    ),
    ("dash.coverage_streets", "街道", "Streets"),
    ("dash.coverage_communities", "社区", "Communities"),
    ("dash.funnel", "入驻孵化漏斗", "Incubation funnel"),
    ("dash.funnel_applied", "申请", "Applied"),
    ("dash.funnel_admitted", "准入", "Admitted"),
    ("dash.funnel_incubating", "在孵", "Incubating"),
    ("dash.funnel_graduated", "出壳", "Graduated"),
    ("dash.funnel_exited", "退驻", "Exited"),
    (
        "dash.overdue",
        "逾期未决定的申请",
        "Applications past their decision date",
    ),
    (
        "dash.workers",
        "持证社会工作者",
        "Social workers by certificate",
    ),
    ("account.title", "我的账户", "My account"),
    ("account.change_password", "修改密码", "Change password"),
    ("account.current", "当前密码", "Current password"),
    ("account.new", "新密码", "New password"),
    ("account.confirm", "确认新密码", "Confirm new password"),
    (
        "account.changed",
        "密码已修改，其他会话已失效。",
        "Password changed; other sessions have been signed out.",
    ),
    ("users.title", "用户管理", "Users"),
    ("users.new", "新建用户", "New user"),
    (
        "users.search",
        "搜索用户名或姓名",
        "Search username or name",
    ),
    ("users.all_roles", "全部角色", "All roles"),
    ("users.username", "用户名", "Username"),
    ("users.display_name", "姓名", "Name"),
    ("users.email", "电子邮箱", "E-mail"),
    ("users.role", "角色", "Role"),
    ("users.org_id", "所属组织", "Organisation"),
    ("users.status", "状态", "Status"),
    ("users.active", "启用", "Active"),
    ("users.no_org", "（不属于任何组织）", "(no organisation)"),
    (
        "users.org_hint",
        "社会组织账户须选择其所属组织；其他角色不选。",
        "An organisation's account must name its organisation; other roles name none.",
    ),
    ("users.inactive", "已停用", "Deactivated"),
    ("users.created", "用户已创建。", "User created."),
    ("users.saved", "已保存。", "Saved."),
    ("users.initial_password", "初始密码", "Initial password"),
    (
        "users.new_password",
        "重设密码（留空则不变）",
        "Reset password (leave empty to keep)",
    ),
    ("users.deactivate", "停用", "Deactivate"),
    ("users.activate", "启用", "Activate"),
    ("users.edit", "编辑用户", "Edit user"),
    ("users.created_at", "创建时间", "Created"),
    ("audit.title", "审计日志", "Audit trail"),
    ("audit.seq", "序号", "Seq"),
    ("audit.time", "时间（北京时间）", "Time (Beijing)"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.action", "操作", "Action"),
    ("audit.entity", "对象", "Entity"),
    ("audit.request", "请求编号", "Request id"),
    ("audit.before", "修改前", "Before"),
    ("audit.after", "修改后", "After"),
    ("audit.hash", "哈希", "Hash"),
    ("audit.prev_hash", "前一哈希", "Previous hash"),
    ("audit.from", "起始日期", "From"),
    ("audit.to", "截止日期", "To"),
    ("audit.detail", "审计事件", "Audit event"),
    ("common.save", "保存", "Save"),
    ("common.create", "创建", "Create"),
    ("common.cancel", "取消", "Cancel"),
    ("common.search", "搜索", "Search"),
    ("common.filter", "筛选", "Filter"),
    ("common.prev", "上一页", "Previous"),
    ("common.next", "下一页", "Next"),
    ("common.page", "第 {} 页", "Page {}"),
    ("common.total", "共", "Total"),
    ("common.none", "无", "none"),
    ("common.back", "返回", "Back"),
    ("common.view", "查看", "View"),
    ("common.refused", "未能完成：", "Not done:"),
    ("common.pages", "分页", "Pages"),
    (
        "common.fix_errors",
        "请更正标出的字段。",
        "Please correct the marked fields.",
    ),
    (
        "common.stale",
        "此记录在您打开后已被他人修改。",
        "Changed by someone else since you opened it.",
    ),
    ("common.stale_yours", "您的内容", "Yours"),
    ("common.stale_theirs", "现在的内容", "Now"),
    (
        "common.stale_again",
        "表单保留了您的内容。核对后再次提交即以您的内容为准；若要放弃，请返回。",
        "The form keeps what you entered. Check it and submit again to save yours; go back to discard it.",
    ),
    (
        "audit.sealed_bid",
        "收到一份密封投标",
        "A sealed bid was received",
    ),
    (
        "audit.sealed_note",
        "此事件在开标前密封：项目、投标组织和投标内容已加密保存，开标后显示；哈希链覆盖加密后的记录。",
        "This event is sealed until the opening: tender, bidder and content are stored encrypted and shown after the opening; the hash chain covers the sealed record.",
    ),
    (
        "audit.unsealed_note",
        "此事件在开标前密封保存，现已开标，显示其内容；哈希链覆盖的是密封的记录（见 API 中的 after_json）。",
        "This event was stored sealed until the opening, which has now taken place, so its content is shown; the hash chain covers the sealed record (after_json in the API).",
    ),
    ("error.title", "出错了", "Something went wrong"),
    (
        "error.forbidden",
        "您的角色无权访问此页面。",
        "Your role may not open this page.",
    ),
    ("error.not_found", "页面不存在。", "Page not found."),
    ("home.figures", "全区概况", "The district at a glance"),
    (
        "home.organisations",
        "登记社会组织",
        "Registered organisations",
    ),
    ("home.bases", "孵化基地", "Incubation bases"),
    ("home.projects", "购买服务项目", "Purchased projects"),
    ("home.funds", "合同金额（元）", "Contract amounts (yuan)"),
    ("home.paid", "已拨付（元）", "Paid (yuan)"),
    ("home.open", "正在接受投标", "Open for bids"),
    (
        "home.open_none",
        "目前没有正在接受投标的项目。",
        "No tender is open for bids now.",
    ),
    ("home.all_open", "全部正在招标的项目", "All open tenders"),
    ("home.notices", "最新采购公告", "Latest tender notices"),
    ("home.results", "最新结果公告", "Latest result notices"),
    ("home.none", "暂无。", "None yet."),
    (
        "home.checkpoints",
        "审计检查点（公开核验）",
        "Audit checkpoints (public verification)",
    ),
    ("footer.sponsor", "主办单位：", "Run by: "),
    ("footer.address", "地址：", "Address: "),
    ("footer.contact", "联系方式：", "Contact: "),
    ("footer.icp", "ICP备案号：", "ICP filing: "),
    ("footer.psb", "公安备案号：", "Public security filing: "),
    ("footer.not_set", "未设置", "not set"),
    ("footer.not_filed", "尚未备案", "not yet filed"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_filled() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in all_strings() {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(Lang::En.t("nav.login"), "Sign in");
        assert_eq!(Lang::Zh.t("nav.login"), "登录");
    }
}
