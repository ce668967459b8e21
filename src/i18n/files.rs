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
        "每个文件最多 {} MiB；接受 PDF、JPEG、PNG、OFD、DOCX、XLSX，按文件内容判断。发布后不能再更改。",
        "At most {} MiB a file; PDF, JPEG, PNG, OFD, DOCX and XLSX, judged by the content. They cannot change once published.",
    ),
    ("files.upload", "上传", "Upload"),
    ("files.uploaded_ok", "文件已上传。", "The file is uploaded."),
    (
        "files.upload_failed",
        "上传中断，请重试。",
        "The upload broke off; try again.",
    ),
];
