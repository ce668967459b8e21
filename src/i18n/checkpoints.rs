//! Interface strings of the checkpoints page: (key, zh-CN, en).

/// Interface strings of this module: (key, zh-CN, en).
pub static STRINGS: &[(&str, &str, &str)] = &[
    ("cp.title", "链签名检查点", "Signed checkpoints"),
    (
        "cp.intro",
        "平台定期用 Ed25519 私钥对审计链的最新记录（链名、序号、哈希、时间）签名。私钥保存在数据库之外，即使有人能改写数据库、重新计算全部哈希，也无法伪造签名：凡是改写或截断了已签名部分的链，核对时都会失败。",
        "At intervals the platform signs the head of its audit chain (chain, sequence number, hash, time) with an Ed25519 key kept outside the database. Whoever can rewrite the database and recompute every hash still cannot forge a signature: a chain rewritten or cut below a signed checkpoint fails the check.",
    ),
    ("cp.algorithm", "算法", "Algorithm"),
    ("cp.public_key", "公钥", "Public key"),
    (
        "cp.earlier_keys",
        "仍然有效的旧公钥",
        "Earlier keys still trusted",
    ),
    ("cp.message", "签名内容", "Signed bytes"),
    (
        "cp.message_desc",
        "紧凑 JSON 数组 [\"sanshe-checkpoint/1\", 链, 序号, 哈希, 签名时间] 的 UTF-8 字节（无空格，字符串按 JSON 转义）",
        "the UTF-8 bytes of the compact JSON array [\"sanshe-checkpoint/1\", chain, seq, hash, signed_at] (no spaces, strings JSON-escaped)",
    ),
    (
        "cp.how",
        "核对方法：保存下列任一检查点的 JSON（或整页接口数据），运行 sanshe verify --checkpoint 文件名；也可用任何 Ed25519 程序库，以上述公钥核对签名。",
        "To check: save any checkpoint's JSON below (or a page of the API), then run sanshe verify --checkpoint FILE; or check the signature with any Ed25519 library and the public key above.",
    ),
    ("cp.json_api", "接口数据（JSON）", "As JSON (API)"),
    ("cp.none", "尚无检查点。", "No checkpoints yet."),
    ("cp.chain", "链", "Chain"),
    ("cp.seq", "序号", "Sequence number"),
    ("cp.hash", "哈希", "Hash"),
    ("cp.signed_at", "签名时间", "Signed at"),
    ("cp.signed_by", "发起", "Requested by"),
    ("cp.signature", "签名", "Signature"),
    ("cp.sign", "立即签名", "Sign now"),
    (
        "cp.sign_note",
        "对审计链的当前最新记录签名，保存并发送给审计人员。",
        "Signs the current head of the audit chain, stores it and mails it to the auditors.",
    ),
    (
        "cp.signed",
        "已签名新的检查点。",
        "A new checkpoint was signed.",
    ),
    (
        "cp.already",
        "最新记录已签名，无需重复签名。",
        "The head was already signed.",
    ),
    ("nav.checkpoints", "链签名检查点", "Signed checkpoints"),
];
