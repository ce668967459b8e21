//! Interface strings of the report pages: (key, zh-CN, en).

/// Interface strings of this module: (key, zh-CN, en).
pub static STRINGS: &[(&str, &str, &str)] = &[
    ("nav.reports", "三社联动报告", "Linkage report"),
    (
        "reports.title",
        "三社联动工作报告",
        "Community, organisation and social worker linkage report",
    ),
    ("reports.year", "年份", "Year"),
    ("reports.quarter", "季度", "Quarter"),
    ("reports.whole_year", "全年", "Whole year"),
    ("reports.street", "街道", "Street"),
    ("reports.district", "全区", "Whole district"),
    ("reports.months", "按月份", "By months"),
    ("reports.from", "起始月份", "First month"),
    ("reports.to", "截止月份", "Last month"),
    ("reports.show", "查看报告", "Show the report"),
    (
        "reports.period_help",
        "报告期：某一年（可选季度），或起止月份（YYYY-MM）；不填为本年度。",
        "The period: a year (optionally a quarter), or the first and last month (YYYY-MM); none given means this year.",
    ),
    ("reports.generate", "生成 PDF", "Generate the PDF"),
    (
        "reports.generating",
        "正在生成报告…",
        "Generating the report…",
    ),
    ("reports.generated", "报告已生成", "The report is ready"),
    (
        "reports.failed",
        "生成失败，请稍后重试",
        "The report could not be generated; please try again",
    ),
    ("reports.download", "下载 PDF", "Download the PDF"),
    (
        "reports.document_note",
        "下方为报告正文（中文公文），与 PDF 内容和数字一致",
        "Below is the report itself, an official document in Chinese, with the same contents and figures as the PDF",
    ),
    ("reports.ledger", "账本摘要", "Ledger digest"),
    (
        "reports.texts_title",
        "第四、五部分：存在的问题与下一步工作打算",
        "Sections 4 and 5: problems and next steps",
    ),
    (
        "reports.texts_help",
        "由区民政局填写，保存后写入本报告期的报告；每部分不超过 5000 字。",
        "Written by the bureau and kept for this period's report; at most 5,000 characters each.",
    ),
    ("reports.problems", "存在的问题", "Problems"),
    ("reports.next_steps", "下一步工作打算", "Next steps"),
    ("reports.texts_save", "保存", "Save"),
    (
        "reports.texts_saved",
        "报告文字已保存。",
        "The report's text was saved.",
    ),
];
