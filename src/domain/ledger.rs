//! The fund ledger's rules, with no storage: the chart of accounts, the entry kinds and the shape each kind
//! must have, the balance rule, which side of zero each account may stand on, and the budget's available
//! amount. `crate::ledger::post` calls [`check_entry`] and [`check_balance`] before writing anything, and
//! `sanshe verify` calls the same functions again on every stored entry (docs/LEDGER.md).
//!
//! Amounts are signed fen: a debit is positive, a credit negative, as in ledger-cli and hledger. Every
//! account name is ASCII, so the exported journal reads the same in every tool.

use std::fmt;

use crate::domain::money::MAX_FEN;

/// What an entry does. Stored as its [`Kind::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A budget appropriation (预算指标): appropriated → available.
    Appropriation,
    /// A tender's ceiling set aside: available → reserved.
    Reservation,
    /// What is left given back: reserved or committed → available.
    Release,
    /// A signed contract: reserved (or available) → committed.
    Commitment,
    /// An accepted milestone: committed → expended, and the payable to the organisation.
    Accrual,
    /// A payment: payable → paid out of the treasury.
    Disbursement,
    /// The exact negation of one earlier entry: the only correction.
    Reversal,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Appropriation,
        Kind::Reservation,
        Kind::Release,
        Kind::Commitment,
        Kind::Accrual,
        Kind::Disbursement,
        Kind::Reversal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Appropriation => "appropriation",
            Kind::Reservation => "reservation",
            Kind::Release => "release",
            Kind::Commitment => "commitment",
            Kind::Accrual => "accrual",
            Kind::Disbursement => "disbursement",
            Kind::Reversal => "reversal",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Appropriation => "预算指标",
            Kind::Reservation => "预留",
            Kind::Release => "释放",
            Kind::Commitment => "合同承诺",
            Kind::Accrual => "应付确认",
            Kind::Disbursement => "支付",
            Kind::Reversal => "冲销",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fund source (资金来源): an ASCII code for account names and labels for people. The list is
/// configuration (`SANSHE_FUND_SOURCES`).
pub type Fund = super::vocab::Term;

/// The default fund sources: 一般公共预算, 福彩公益金, 上级补助.
pub const DEFAULT_FUNDS: &str = "general=一般公共预算|General public budget,lottery=福彩公益金|Welfare lottery fund,transfer=上级补助|Higher-level subsidy";

pub use super::vocab::is_code;

/// Parse the fund list: `code=中文名|English name` items separated by commas (the English name optional).
pub fn parse_funds(s: &str) -> Result<Vec<Fund>, String> {
    let out = super::vocab::parse_terms(s, "fund source")?;
    if out.iter().any(|f| f.code == COMMON) {
        return Err(format!("{COMMON:?} is not a fund code"));
    }
    Ok(out)
}

/// The last segment of a bucket's accounts when the appropriation is for no particular service field.
pub const COMMON: &str = "common";

/// A budget bucket: the year, the fund and optionally the service field an appropriation is for. Every
/// budget account belongs to one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bucket {
    pub year: i32,
    pub fund: String,
    pub field: Option<String>,
}

impl Bucket {
    /// `2026:general:elderly`, or `2026:general:common` without a field.
    pub fn path(&self) -> String {
        format!(
            "{}:{}:{}",
            self.year,
            self.fund,
            self.field.as_deref().unwrap_or(COMMON)
        )
    }

    fn parse(year: &str, fund: &str, field: &str) -> Option<Bucket> {
        let year: i32 = year.parse().ok().filter(|y| (1900..=2200).contains(y))?;
        if year.to_string().len() != 4 || !is_code(fund) || !is_code(field) {
            return None;
        }
        Some(Bucket {
            year,
            fund: fund.into(),
            field: (field != COMMON).then(|| field.to_string()),
        })
    }
}

/// Where a budget amount stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    Appropriated,
    Available,
    Reserved,
    Committed,
    Expended,
}

impl Stage {
    const ALL: [Stage; 5] = [
        Stage::Appropriated,
        Stage::Available,
        Stage::Reserved,
        Stage::Committed,
        Stage::Expended,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Stage::Appropriated => "Appropriated",
            Stage::Available => "Available",
            Stage::Reserved => "Reserved",
            Stage::Committed => "Committed",
            Stage::Expended => "Expended",
        }
    }
}

/// An account of the chart (docs/LEDGER.md).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Account {
    /// `Budget:<Stage>:<year>:<fund>:<field|common>`: budgetary accounting (预算会计).
    Budget(Stage, Bucket),
    /// `Expenses:Services:<year>:<fund>:<field|common>`: the cost of purchased services (财务会计).
    Expenses(Bucket),
    /// `Liabilities:Payable:org<id>`: owed to an organisation.
    Payable(i64),
    /// `Assets:Treasury:<fund>`: paid out of the treasury (国库集中支付); a credit balance is what was paid.
    Treasury(String),
}

impl Account {
    pub fn name(&self) -> String {
        match self {
            Account::Budget(s, b) => format!("Budget:{}:{}", s.as_str(), b.path()),
            Account::Expenses(b) => format!("Expenses:Services:{}", b.path()),
            Account::Payable(org) => format!("Liabilities:Payable:org{org}"),
            Account::Treasury(f) => format!("Assets:Treasury:{f}"),
        }
    }

    pub fn parse(s: &str) -> Option<Account> {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            ["Budget", stage, y, f, fld] => {
                let stage = Stage::ALL.into_iter().find(|st| st.as_str() == *stage)?;
                Some(Account::Budget(stage, Bucket::parse(y, f, fld)?))
            }
            ["Expenses", "Services", y, f, fld] => {
                Some(Account::Expenses(Bucket::parse(y, f, fld)?))
            }
            ["Liabilities", "Payable", org] => {
                let id = org.strip_prefix("org")?;
                if id.starts_with('0') || id.is_empty() {
                    return None;
                }
                id.parse().ok().filter(|n| *n > 0).map(Account::Payable)
            }
            ["Assets", "Treasury", f] if is_code(f) => Some(Account::Treasury(f.to_string())),
            _ => None,
        }
    }

    fn bucket(&self) -> Option<&Bucket> {
        match self {
            Account::Budget(_, b) | Account::Expenses(b) => Some(b),
            _ => None,
        }
    }

    /// The side of zero the balance must stay on: +1 debit (never below zero), −1 credit (never above).
    pub fn normal_side(&self) -> i8 {
        match self {
            Account::Budget(Stage::Appropriated, _)
            | Account::Payable(_)
            | Account::Treasury(_) => -1,
            _ => 1,
        }
    }

    /// Is this the available budget of a bucket?
    pub fn is_available(&self) -> bool {
        matches!(self, Account::Budget(Stage::Available, _))
    }
}

/// One line of an entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    pub account: String,
    /// Signed fen: debit positive, credit negative.
    pub amount: i64,
}

/// The references an entry carries (which of them a kind requires is part of its shape).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refs {
    pub appropriation: Option<i64>,
    pub tender: Option<i64>,
    pub contract: Option<i64>,
    pub instalment: Option<i64>,
    /// For a reversal: the entry it negates.
    pub reverses: Option<i64>,
}

/// Why an entry is refused: the field, the rule, a message in both languages, and whether the refusal is
/// a conflict with the ledger's state (409) rather than a bad entry (422).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub rule: &'static str,
    pub zh: String,
    pub en: String,
    pub conflict: bool,
}

fn refuse(field: impl Into<String>, rule: &'static str, zh: String, en: String) -> Refusal {
    Refusal {
        field: field.into(),
        rule,
        zh,
        en,
        conflict: false,
    }
}

/// Every entry balances: its amounts sum to exactly zero (and no sum overflows).
pub fn check_balance(lines: &[Line]) -> Result<(), Refusal> {
    let mut sum: i64 = 0;
    for l in lines {
        sum = sum.checked_add(l.amount).ok_or_else(|| {
            refuse(
                "postings",
                "overflow",
                "金额合计溢出。".into(),
                "The amounts overflow.".into(),
            )
        })?;
    }
    if sum != 0 {
        return Err(refuse(
            "postings",
            "entry_balances",
            format!("分录借贷不平衡：合计 {sum} 分，应为 0。"),
            format!("The entry does not balance: its postings sum to {sum} fen, not 0."),
        ));
    }
    Ok(())
}

/// Which stages a leg may draw on, and its sign (+1 debit, −1 credit).
type Leg = (&'static [Stage], i8);

/// The budget legs of the two-leg budget kinds, in order.
fn budget_legs(kind: Kind) -> Option<[Leg; 2]> {
    use Stage::*;
    Some(match kind {
        Kind::Appropriation => [(&[Available], 1), (&[Appropriated], -1)],
        Kind::Reservation => [(&[Reserved], 1), (&[Available], -1)],
        Kind::Release => [(&[Available], 1), (&[Reserved, Committed], -1)],
        Kind::Commitment => [(&[Committed], 1), (&[Reserved, Available], -1)],
        _ => return None,
    })
}

fn shape(kind: Kind, zh: &str, en: &str) -> Refusal {
    refuse(
        "postings",
        "entry_shape",
        format!("{}分录的结构不符：{zh}", kind.label_zh()),
        format!("A {kind} entry must be {en}"),
    )
}

/// Check an entry before it is written (and again when verifying): memo, amounts, accounts of the chart,
/// balance, the references its kind needs and the shape of its postings. `reversed` is the entry a
/// reversal negates (its lines), which must be given for a reversal.
pub fn check_entry(
    kind: Kind,
    memo: &str,
    refs: &Refs,
    lines: &[Line],
    reversed: Option<&[Line]>,
) -> Result<(), Refusal> {
    let parsed: Vec<Option<Account>> = lines.iter().map(|l| Account::parse(&l.account)).collect();
    let accounts: Vec<Option<&Account>> = parsed.iter().map(Option::as_ref).collect();
    check_entry_parsed(kind, memo, refs, lines, &accounts, reversed)
}

/// [`check_entry`] with each line's account already parsed (`accounts[i]` is `Account::parse` of
/// `lines[i].account`): `verify` meets the same few hundred accounts a million times and parses each once.
pub fn check_entry_parsed(
    kind: Kind,
    memo: &str,
    refs: &Refs,
    lines: &[Line],
    parsed: &[Option<&Account>],
    reversed: Option<&[Line]>,
) -> Result<(), Refusal> {
    if memo.trim().is_empty() || memo.chars().count() > 500 {
        return Err(refuse(
            "memo",
            "required",
            "请填写摘要（至多 500 字）。".into(),
            "Give a memo (at most 500 characters).".into(),
        ));
    }
    if lines.len() < 2 {
        return Err(refuse(
            "postings",
            "min_postings",
            "分录至少有两行。".into(),
            "An entry has at least two postings.".into(),
        ));
    }
    let mut accounts: Vec<&Account> = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let Some(a) = parsed.get(i).copied().flatten() else {
            return Err(refuse(
                format!("postings[{i}].account"),
                "chart_of_accounts",
                format!("科目 {:?} 不在科目表中。", l.account),
                format!("{:?} is not an account of the chart.", l.account),
            ));
        };
        if l.amount == 0 || l.amount.unsigned_abs() > MAX_FEN as u64 {
            return Err(refuse(
                format!("postings[{i}].amount"),
                "amount_range",
                "每行金额不能为 0，且不超过 100 亿元。".into(),
                "Each amount is non-zero and at most ¥10 billion.".into(),
            ));
        }
        if accounts.contains(&a) {
            return Err(refuse(
                format!("postings[{i}].account"),
                "distinct_accounts",
                "同一科目在一笔分录中只能出现一次。".into(),
                "An account appears at most once in an entry.".into(),
            ));
        }
        accounts.push(a);
    }
    check_balance(lines)?;
    let need = |field: &str, v: Option<i64>, zh: &str, en: &str| match v {
        Some(x) if x > 0 => Ok(()),
        _ => Err(refuse(
            format!("refs.{field}"),
            "reference_required",
            format!("{}分录须关联{zh}。", kind.label_zh()),
            format!("A {kind} entry must name its {en}."),
        )),
    };
    match kind {
        Kind::Appropriation => need(
            "appropriation",
            refs.appropriation,
            "预算指标",
            "appropriation",
        )?,
        Kind::Reservation => need("tender", refs.tender, "招标项目", "tender")?,
        Kind::Release => need(
            "tender",
            refs.tender.or(refs.contract),
            "招标项目或合同",
            "tender or contract",
        )?,
        Kind::Commitment => need("contract", refs.contract, "合同", "contract")?,
        Kind::Accrual | Kind::Disbursement => {
            need("contract", refs.contract, "合同", "contract")?;
            need("instalment", refs.instalment, "分期", "instalment")?;
        }
        Kind::Reversal => need("reverses", refs.reverses, "被冲销的分录", "reversed entry")?,
    }
    if kind != Kind::Reversal && refs.reverses.is_some() {
        return Err(refuse(
            "refs.reverses",
            "entry_shape",
            "只有冲销分录可以指向被冲销的分录。".into(),
            "Only a reversal names an entry it reverses.".into(),
        ));
    }
    if let Some(legs) = budget_legs(kind) {
        let ok = accounts.len() == 2
            && accounts
                .iter()
                .zip(lines)
                .zip(legs)
                .all(|((a, l), (stages, sign))| {
                    matches!(a, Account::Budget(s, _) if stages.contains(s))
                        && l.amount.signum() == i64::from(sign)
                })
            && accounts[0].bucket() == accounts[1].bucket();
        if !ok {
            let [(d, _), (c, _)] = legs;
            let names = |s: &[Stage]| {
                s.iter()
                    .map(|x| format!("Budget:{}", x.as_str()))
                    .collect::<Vec<_>>()
                    .join(" or ")
            };
            return Err(shape(
                kind,
                &format!(
                    "借 {}，贷 {}，同一预算（年度、资金来源、领域）。",
                    names(d),
                    names(c)
                ),
                &format!(
                    "debit {}, credit {}, within one budget (year, fund, field).",
                    names(d),
                    names(c)
                ),
            ));
        }
    }
    match kind {
        Kind::Accrual => {
            let ok = match accounts.as_slice() {
                [
                    Account::Budget(Stage::Expended, b1),
                    Account::Budget(Stage::Committed, b2),
                    Account::Expenses(b3),
                    Account::Payable(_),
                ] => {
                    b1 == b2
                        && b2 == b3
                        && lines[0].amount > 0
                        && lines[1].amount == -lines[0].amount
                        && lines[2].amount == lines[0].amount
                        && lines[3].amount == -lines[0].amount
                }
                _ => false,
            };
            if !ok {
                return Err(shape(
                    kind,
                    "借 Budget:Expended、贷 Budget:Committed（同一预算），借 Expenses:Services、贷 Liabilities:Payable，四行金额相同。",
                    "debit Budget:Expended, credit Budget:Committed (one budget), debit Expenses:Services, credit Liabilities:Payable, all four of one amount.",
                ));
            }
        }
        Kind::Disbursement => {
            let ok = matches!(
                accounts.as_slice(),
                [Account::Payable(_), Account::Treasury(_)]
            ) && lines[0].amount > 0;
            if !ok {
                return Err(shape(
                    kind,
                    "借 Liabilities:Payable，贷 Assets:Treasury。",
                    "debit Liabilities:Payable, credit Assets:Treasury.",
                ));
            }
        }
        Kind::Reversal => {
            let Some(orig) = reversed else {
                return Err(refuse(
                    "refs.reverses",
                    "reference_required",
                    "被冲销的分录不存在。".into(),
                    "The entry to reverse does not exist.".into(),
                ));
            };
            let negates = orig.len() == lines.len()
                && orig.iter().zip(lines).all(|(o, l)| {
                    o.account == l.account && o.amount.checked_neg() == Some(l.amount)
                });
            if !negates {
                return Err(shape(
                    kind,
                    "与被冲销分录逐行科目相同、金额相反。",
                    "the exact negation of the entry it reverses, line by line.",
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// An account's balance after an entry must stay on its normal side: budget stages, expenses never below
/// zero (the available budget above all: rule `available_non_negative`), appropriations, payables and the
/// treasury never above. `line` is the posting's index, for the field name.
pub fn check_side(account: &str, balance: i64, line: usize) -> Result<(), Refusal> {
    match Account::parse(account) {
        Some(a) => check_side_parsed(account, &a, balance, line),
        None => Ok(()),
    }
}

/// [`check_side`] with the account already parsed (`a` is `Account::parse(account)`).
pub fn check_side_parsed(
    account: &str,
    a: &Account,
    balance: i64,
    line: usize,
) -> Result<(), Refusal> {
    let side = i64::from(a.normal_side());
    if balance == 0 || balance.signum() == side {
        return Ok(());
    }
    let field = format!("postings[{line}].amount");
    if a.is_available() {
        return Err(refuse(
            field,
            "available_non_negative",
            format!(
                "可用预算不足：{account} 将为 {} 元。",
                crate::domain::money::yuan(balance)
            ),
            format!(
                "Not enough available budget: {account} would stand at ¥{}.",
                crate::domain::money::yuan(balance)
            ),
        ));
    }
    Err(refuse(
        field,
        "balance_side",
        format!(
            "科目 {account} 余额将为 {} 元，超出其应有方向。",
            crate::domain::money::yuan(balance)
        ),
        format!(
            "{account} would stand at ¥{}, on the wrong side of zero.",
            crate::domain::money::yuan(balance)
        ),
    ))
}

/// The cumulative flows of a bucket's available budget, in fen (each zero or more).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flows {
    pub appropriated: i64,
    pub reserved: i64,
    pub committed: i64,
    pub released: i64,
}

/// Available = appropriated − reserved − committed + released, never below zero (`None` when it would be,
/// or on overflow). `committed` counts only what was committed straight from the available budget (a
/// tender's commitment draws on its reservation).
pub fn available(f: Flows) -> Option<i64> {
    f.appropriated
        .checked_sub(f.reserved)?
        .checked_sub(f.committed)?
        .checked_add(f.released)
        .filter(|a| *a >= 0)
}

/// Add an entry's budget flows (its postings on available accounts) to `f`. A reversal counts against
/// the flow of the kind it reverses.
pub fn add_flow(f: &mut Flows, kind: Kind, amount_on_available: i64) {
    match kind {
        Kind::Appropriation => f.appropriated += amount_on_available,
        Kind::Reservation => f.reserved -= amount_on_available,
        Kind::Commitment => f.committed -= amount_on_available,
        Kind::Release => f.released += amount_on_available,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(a: &str, n: i64) -> Line {
        Line {
            account: a.into(),
            amount: n,
        }
    }

    const AV: &str = "Budget:Available:2026:general:elderly";
    const AP: &str = "Budget:Appropriated:2026:general:elderly";
    const RS: &str = "Budget:Reserved:2026:general:elderly";

    fn appr() -> Refs {
        Refs {
            appropriation: Some(1),
            ..Default::default()
        }
    }

    #[test]
    fn the_chart_round_trips_and_refuses_the_rest() {
        for name in [
            AV,
            "Budget:Appropriated:2021:lottery:common",
            "Expenses:Services:2026:transfer:community_governance",
            "Liabilities:Payable:org42",
            "Assets:Treasury:general",
        ] {
            assert_eq!(Account::parse(name).unwrap().name(), name);
        }
        for bad in [
            "Budget:Spare:2026:general:common",
            "Budget:Available:26:general:common",
            "Budget:Available:2026:General:common",
            "Budget:Available:2026:一般:common",
            "Liabilities:Payable:org042",
            "Liabilities:Payable:orgx",
            "Assets:Treasury",
            "Budget:Available:2026:general:common:x",
        ] {
            assert_eq!(Account::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Account::parse("Budget:Available:2026:general:common")
                .unwrap()
                .bucket()
                .unwrap()
                .field,
            None
        );
    }

    #[test]
    fn funds_parse_from_configuration() {
        let f = parse_funds(DEFAULT_FUNDS).unwrap();
        assert_eq!(
            f.iter().map(|f| f.zh.as_str()).collect::<Vec<_>>(),
            ["一般公共预算", "福彩公益金", "上级补助"]
        );
        assert_eq!(f[0].code, "general");
        assert_eq!(parse_funds("a=甲").unwrap()[0].en, "甲");
        assert!(parse_funds("").is_err());
        assert!(parse_funds("A=甲").is_err());
        assert!(parse_funds("common=甲").is_err());
        assert!(parse_funds("a=甲,a=乙").is_err());
        assert!(parse_funds("a").is_err());
    }

    #[test]
    fn entries_balance() {
        assert!(check_balance(&[l(AV, 5), l(AP, -5)]).is_ok());
        assert_eq!(
            check_balance(&[l(AV, 5), l(AP, -4)]).unwrap_err().rule,
            "entry_balances"
        );
        assert_eq!(
            check_balance(&[l(AV, i64::MAX), l(AP, 1)])
                .unwrap_err()
                .rule,
            "overflow"
        );
        let e = check_entry(
            Kind::Appropriation,
            "m",
            &appr(),
            &[l(AV, 5), l(AP, -4)],
            None,
        );
        assert_eq!(e.unwrap_err().rule, "entry_balances");
    }

    #[test]
    fn each_kind_has_its_shape() {
        assert!(
            check_entry(
                Kind::Appropriation,
                "m",
                &appr(),
                &[l(AV, 5), l(AP, -5)],
                None
            )
            .is_ok()
        );
        // Reversed legs, another bucket, a stage that does not belong.
        for lines in [
            vec![l(AP, 5), l(AV, -5)],
            vec![l(AV, 5), l("Budget:Appropriated:2025:general:elderly", -5)],
            vec![l(RS, 5), l(AP, -5)],
            vec![l(AV, 5), l(AP, -3), l(RS, -2)],
        ] {
            let e = check_entry(Kind::Appropriation, "m", &appr(), &lines, None).unwrap_err();
            assert_eq!(e.rule, "entry_shape", "{lines:?}");
        }
        let tender = Refs {
            tender: Some(3),
            ..Default::default()
        };
        assert!(
            check_entry(
                Kind::Reservation,
                "m",
                &tender,
                &[l(RS, 5), l(AV, -5)],
                None
            )
            .is_ok()
        );
        assert!(check_entry(Kind::Release, "m", &tender, &[l(AV, 5), l(RS, -5)], None).is_ok());
        // A reservation without its tender.
        let e = check_entry(
            Kind::Reservation,
            "m",
            &appr(),
            &[l(RS, 5), l(AV, -5)],
            None,
        );
        assert_eq!(e.unwrap_err().rule, "reference_required");
        let acc = Refs {
            contract: Some(1),
            instalment: Some(2),
            ..Default::default()
        };
        let ex = "Budget:Expended:2026:general:elderly";
        let cm = "Budget:Committed:2026:general:elderly";
        let xs = "Expenses:Services:2026:general:elderly";
        let pay = "Liabilities:Payable:org7";
        assert!(
            check_entry(
                Kind::Accrual,
                "m",
                &acc,
                &[l(ex, 9), l(cm, -9), l(xs, 9), l(pay, -9)],
                None
            )
            .is_ok()
        );
        assert_eq!(
            check_entry(
                Kind::Accrual,
                "m",
                &acc,
                &[l(ex, 9), l(cm, -8), l(xs, 8), l(pay, -9)],
                None
            )
            .unwrap_err()
            .rule,
            "entry_shape"
        );
        assert!(
            check_entry(
                Kind::Disbursement,
                "m",
                &acc,
                &[l(pay, 9), l("Assets:Treasury:general", -9)],
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn a_reversal_is_the_exact_negation() {
        let orig = [l(AV, 5), l(AP, -5)];
        let refs = Refs {
            reverses: Some(1),
            ..Default::default()
        };
        assert!(
            check_entry(
                Kind::Reversal,
                "m",
                &refs,
                &[l(AV, -5), l(AP, 5)],
                Some(&orig)
            )
            .is_ok()
        );
        for bad in [
            vec![l(AV, -4), l(AP, 4)],
            vec![l(AP, 5), l(AV, -5)],
            vec![l(AV, 5), l(AP, -5)],
        ] {
            assert_eq!(
                check_entry(Kind::Reversal, "m", &refs, &bad, Some(&orig))
                    .unwrap_err()
                    .rule,
                "entry_shape"
            );
        }
        assert_eq!(
            check_entry(Kind::Reversal, "m", &refs, &[l(AV, -5), l(AP, 5)], None)
                .unwrap_err()
                .rule,
            "reference_required"
        );
        // Only a reversal names an entry to reverse.
        let r = Refs {
            reverses: Some(1),
            ..appr()
        };
        assert_eq!(
            check_entry(Kind::Appropriation, "m", &r, &orig, None)
                .unwrap_err()
                .rule,
            "entry_shape"
        );
    }

    #[test]
    fn basic_entry_rules() {
        let r = appr();
        assert_eq!(
            check_entry(Kind::Appropriation, " ", &r, &[l(AV, 5), l(AP, -5)], None)
                .unwrap_err()
                .rule,
            "required"
        );
        assert_eq!(
            check_entry(Kind::Appropriation, "m", &r, &[l(AV, 0), l(AP, 0)], None)
                .unwrap_err()
                .rule,
            "amount_range"
        );
        assert_eq!(
            check_entry(Kind::Appropriation, "m", &r, &[l(AV, 5)], None)
                .unwrap_err()
                .rule,
            "min_postings"
        );
        let e = check_entry(
            Kind::Appropriation,
            "m",
            &r,
            &[l("Cash", 5), l(AP, -5)],
            None,
        )
        .unwrap_err();
        assert_eq!(
            (e.rule, e.field.as_str()),
            ("chart_of_accounts", "postings[0].account")
        );
        assert_eq!(
            check_entry(Kind::Appropriation, "m", &r, &[l(AV, 5), l(AV, -5)], None)
                .unwrap_err()
                .rule,
            "distinct_accounts"
        );
    }

    #[test]
    fn sides_and_the_available_budget() {
        assert!(check_side(AV, 0, 0).is_ok());
        assert!(check_side(AV, 1, 0).is_ok());
        assert_eq!(
            check_side(AV, -1, 1).unwrap_err().rule,
            "available_non_negative"
        );
        assert_eq!(
            check_side(AV, -1, 1).unwrap_err().field,
            "postings[1].amount"
        );
        assert_eq!(check_side(RS, -1, 0).unwrap_err().rule, "balance_side");
        assert!(check_side(AP, -10, 0).is_ok());
        assert_eq!(check_side(AP, 10, 0).unwrap_err().rule, "balance_side");
        assert_eq!(
            check_side("Liabilities:Payable:org3", 1, 0)
                .unwrap_err()
                .rule,
            "balance_side"
        );
        let f = Flows {
            appropriated: 100,
            reserved: 60,
            committed: 30,
            released: 5,
        };
        assert_eq!(available(f), Some(15));
        assert_eq!(
            available(Flows {
                released: 0,
                reserved: 71,
                ..f
            }),
            None
        );
        let mut g = Flows::default();
        add_flow(&mut g, Kind::Appropriation, 100);
        add_flow(&mut g, Kind::Reservation, -40);
        add_flow(&mut g, Kind::Release, 10);
        add_flow(&mut g, Kind::Commitment, -20);
        assert_eq!(available(g), Some(50));
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("payment"), None);
    }
}
