//! Interface strings of uploaded files: (key, zh-CN, en).

/// Interface strings of this module: (key, zh-CN, en).
pub static STRINGS: &[(&str, &str, &str)] = &[
    (
        "files.tender_documents",
        "采购文件",
        "Procurement documents",
    ),
    (
        "files.none",
        "尚未上传采购文件。",
        "No documents uploaded yet.",
    ),
    ("files.name", "文件名", "File name"),
    ("files.kind", "类型", "Kind"),
    ("files.size", "大小", "Size"),
    ("files.sha256", "SHA-256 摘要", "SHA-256 digest"),
    ("files.choose", "选择文件", "Choose a file"),
    (
        "files.limit_hint",
        "每个文件最多 {} MiB；接受 PDF、JPEG、PNG、OFD、DOCX、XLSX，按文件内容判断。发布后的修改须作为澄清发布。",
        "At most {} MiB a file; PDF, JPEG, PNG, OFD, DOCX and XLSX, judged by the content. Once published, changes are published as clarifications.",
    ),
    ("files.upload", "上传", "Upload"),
    ("files.amendment", "澄清/修改", "Clarification"),
    (
        "files.clarify_title",
        "发布澄清或修改",
        "Publish a clarification or change",
    ),
    (
        "files.clarify_note",
        "澄清或修改的内容",
        "What is clarified or changed",
    ),
    (
        "files.clarify_hint",
        "文件立即公开，并通知已投标和已提问的组织；距投标截止不足规定期限时，投标截止和开标时间将顺延（87号令第二十七条）。",
        "The file is public at once and every organisation that bid or asked is told; if it comes later than the required notice, the bid deadline and the opening move (87号令 Art 27).",
    ),
    (
        "files.clarify_confirm",
        "发布后不能撤回，投标人会收到通知，投标截止时间可能顺延。确定发布？",
        "Once published it cannot be withdrawn; bidders are told and the deadline may move. Publish it?",
    ),
    (
        "files.amendment_ok",
        "澄清或修改已发布。",
        "The clarification or change is published.",
    ),
    ("files.uploaded_ok", "文件已上传。", "The file is uploaded."),
    (
        "files.evidence_missing",
        "文件未上传（已登记 SHA-256）",
        "File not uploaded (SHA-256 declared)",
    ),
    (
        "files.evidence_add",
        "上传已登记的文件",
        "Upload the declared file",
    ),
    ("files.evidence", "凭证文件", "Evidence file"),
    (
        "files.evidence_hint",
        "PDF、图片、OFD、DOCX 或 XLSX，按内容识别；保存的是文件本身及其 SHA-256。",
        "PDF, image, OFD, DOCX or XLSX, judged by content; the file itself and its SHA-256 are kept.",
    ),
    (
        "files.upload_failed",
        "上传中断，请重试。",
        "The upload broke off; try again.",
    ),
];
