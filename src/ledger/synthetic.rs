//! A synthetic ledger for the benchmark (`sanshe bench-ledger`, scripts/bench-ledger) and the import tests:
//! a stream of entries shaped as the bureau's year would make them, every one valid under
//! `domain::ledger::check_entry` and the balance rules when imported in order after the budgets it draws on.
//!
//! Contracts run side by side (a few hundred in flight). A contract let by tender reserves the tender's
//! ceiling, commits the winning price from the reservation and releases the rest; a direct contract commits
//! from the available budget. Each contract then accrues its instalments on acceptance (budget and
//! financial side together) and pays each one from the treasury; one payment in a hundred is reversed and
//! paid again, and one contract in twenty ends early, releasing what it had not accrued. Deterministic
//! for a seed.

use std::collections::VecDeque;

use chrono::NaiveDate;

use super::NewEntry;
use crate::domain::ledger::{Account, Bucket, Kind, Line, Refs, Stage};

/// A budget the generator draws on: its bucket and what is available there now (in fen).
#[derive(Clone, Debug)]
pub struct Budget {
    pub bucket: Bucket,
    pub available_fen: i64,
}

struct Contract {
    id: i64,
    budget: usize,
    org: i64,
    tender: Option<i64>,
    /// Ceiling reserved for the tender (0 for a direct contract).
    ceiling: i64,
    price: i64,
    /// Instalment ids and amounts; accrued and paid so far.
    instalments: Vec<(i64, i64)>,
    accrued: usize,
    paid: usize,
    /// The step due next.
    step: Step,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Reserve,
    Commit,
    Release,
    Accrue,
    Pay,
    Done,
}

/// The generator: an iterator of exactly `count` entries.
pub struct Synthetic {
    rng: u64,
    budgets: Vec<Budget>,
    tenders: Vec<i64>,
    flying: Vec<Contract>,
    queue: VecDeque<NewEntry>,
    /// The sequence number the next entry will get when imported (reversals name what they reverse).
    next_seq: i64,
    next_contract: i64,
    next_instalment: i64,
    left: u64,
    key_prefix: String,
    n: u64,
    /// Contracts in flight at a time.
    in_flight: usize,
}

/// The first contract and instalment id of a synthetic ledger.
pub const SYNTHETIC_IDS: i64 = 1_000_000_000;

/// Contracts in flight at a time (fewer for a short ledger, so that contracts run to their end).
const IN_FLIGHT: usize = 256;

impl Synthetic {
    /// `count` entries over `budgets` (at least one), naming `tenders` (existing tender ids; none: direct
    /// contracts only), to be imported right after entry `head_seq`, keys `<key_prefix>-<n>`.
    pub fn new(
        seed: u64,
        budgets: Vec<Budget>,
        tenders: Vec<i64>,
        head_seq: i64,
        count: u64,
        key_prefix: &str,
    ) -> Synthetic {
        assert!(!budgets.is_empty(), "a budget to draw on");
        Synthetic {
            rng: seed | 1,
            budgets,
            tenders,
            flying: Vec::new(),
            queue: VecDeque::new(),
            next_seq: head_seq + 1,
            // Far above the ids of real contracts and instalments (the demo's), which verify checks
            // against the contracts table.
            next_contract: SYNTHETIC_IDS,
            next_instalment: SYNTHETIC_IDS,
            left: count,
            key_prefix: key_prefix.to_string(),
            n: 0,
            in_flight: IN_FLIGHT.min(count as usize / 50 + 1),
        }
    }

    fn rand(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) % n.max(1)
    }

    fn account(&self, stage: Stage, budget: usize) -> String {
        Account::Budget(stage, self.budgets[budget].bucket.clone()).name()
    }

    /// Queue one entry; returns the sequence number it will have.
    fn emit(
        &mut self,
        kind: Kind,
        memo: String,
        refs: Refs,
        lines: Vec<Line>,
        budget: usize,
    ) -> i64 {
        let year = self.budgets[budget].bucket.year;
        let day = 1 + (self.n / 7 % 360) as u32;
        let date = NaiveDate::from_yo_opt(year, day).expect("a day of the year");
        self.n += 1;
        self.queue.push_back(NewEntry {
            date,
            kind,
            memo,
            refs,
            idem_key: format!("{}-{}", self.key_prefix, self.n),
            lines,
        });
        self.next_seq += 1;
        self.next_seq - 1
    }

    fn line(account: String, amount: i64) -> Line {
        Line { account, amount }
    }

    /// Start a contract on a budget with enough available, or None when no budget has.
    fn start(&mut self) -> Option<Contract> {
        // ¥50,000 – ¥500,000 ceilings, in whole yuan.
        let ceiling = (50_000 + self.rand(450_000) as i64) * 100;
        let start = self.rand(self.budgets.len() as u64) as usize;
        let budget = (0..self.budgets.len())
            .map(|i| (start + i) % self.budgets.len())
            .find(|b| self.budgets[*b].available_fen >= ceiling)?;
        let tender = if !self.tenders.is_empty() && self.rand(4) != 0 {
            let i = self.rand(self.tenders.len() as u64) as usize;
            Some(self.tenders[i])
        } else {
            None
        };
        // The winning price: 85–100 % of the ceiling.
        let price = ceiling / 100 * (85 + self.rand(16) as i64);
        let parts = 2 + self.rand(3) as i64;
        let mut instalments = Vec::new();
        for k in 0..parts {
            let amount = if k == parts - 1 {
                price - price / parts * (parts - 1)
            } else {
                price / parts
            };
            instalments.push((self.next_instalment, amount));
            self.next_instalment += 1;
        }
        let id = self.next_contract;
        self.next_contract += 1;
        Some(Contract {
            id,
            budget,
            org: 1 + self.rand(300) as i64,
            tender,
            ceiling: if tender.is_some() { ceiling } else { 0 },
            price,
            instalments,
            accrued: 0,
            paid: 0,
            step: if tender.is_some() {
                Step::Reserve
            } else {
                Step::Commit
            },
        })
    }

    /// Post the contract's next step.
    fn advance(&mut self, c: &mut Contract) {
        let b = c.budget;
        let fund = self.budgets[b].bucket.fund.clone();
        let contract = Refs {
            contract: Some(c.id),
            ..Default::default()
        };
        match c.step {
            Step::Reserve => {
                let t = c.tender.expect("a tender");
                self.budgets[b].available_fen -= c.ceiling;
                let lines = vec![
                    Self::line(self.account(Stage::Reserved, b), c.ceiling),
                    Self::line(self.account(Stage::Available, b), -c.ceiling),
                ];
                let refs = Refs {
                    tender: Some(t),
                    ..Default::default()
                };
                self.emit(
                    Kind::Reservation,
                    format!("招标项目 {t} 发布：预留最高限价"),
                    refs,
                    lines,
                    b,
                );
                c.step = Step::Commit;
            }
            Step::Commit => {
                let from = if c.tender.is_some() {
                    Stage::Reserved
                } else {
                    self.budgets[b].available_fen -= c.price;
                    Stage::Available
                };
                let lines = vec![
                    Self::line(self.account(Stage::Committed, b), c.price),
                    Self::line(self.account(from, b), -c.price),
                ];
                self.emit(
                    Kind::Commitment,
                    format!("合同 HT-{:06} 签订", c.id),
                    contract,
                    lines,
                    b,
                );
                c.step = if c.tender.is_some() && c.ceiling > c.price {
                    Step::Release
                } else {
                    Step::Accrue
                };
            }
            Step::Release => {
                let rest = c.ceiling - c.price;
                self.budgets[b].available_fen += rest;
                let lines = vec![
                    Self::line(self.account(Stage::Available, b), rest),
                    Self::line(self.account(Stage::Reserved, b), -rest),
                ];
                let refs = Refs {
                    tender: c.tender,
                    ..Default::default()
                };
                self.emit(
                    Kind::Release,
                    "定标：释放最高限价与中标价之差".into(),
                    refs,
                    lines,
                    b,
                );
                c.step = Step::Accrue;
            }
            Step::Accrue => {
                // One contract in twenty ends before its last instalment: the rest is released.
                if c.accrued > 0 && c.accrued + 1 == c.instalments.len() && self.rand(20) == 0 {
                    let rest = c.instalments[c.accrued].1;
                    self.budgets[b].available_fen += rest;
                    let lines = vec![
                        Self::line(self.account(Stage::Available, b), rest),
                        Self::line(self.account(Stage::Committed, b), -rest),
                    ];
                    self.emit(
                        Kind::Release,
                        format!("合同 HT-{:06} 提前终止：释放未履行部分", c.id),
                        contract,
                        lines,
                        b,
                    );
                    c.step = Step::Done;
                    return;
                }
                let (inst, amount) = c.instalments[c.accrued];
                let lines = vec![
                    Self::line(self.account(Stage::Expended, b), amount),
                    Self::line(self.account(Stage::Committed, b), -amount),
                    Self::line(
                        Account::Expenses(self.budgets[b].bucket.clone()).name(),
                        amount,
                    ),
                    Self::line(Account::Payable(c.org).name(), -amount),
                ];
                let refs = Refs {
                    instalment: Some(inst),
                    ..contract
                };
                self.emit(
                    Kind::Accrual,
                    format!("合同 HT-{:06} 第 {} 期验收", c.id, c.accrued + 1),
                    refs,
                    lines,
                    b,
                );
                c.accrued += 1;
                c.step = Step::Pay;
            }
            Step::Pay => {
                let (inst, amount) = c.instalments[c.paid];
                let lines = vec![
                    Self::line(Account::Payable(c.org).name(), amount),
                    Self::line(Account::Treasury(fund).name(), -amount),
                ];
                let refs = Refs {
                    instalment: Some(inst),
                    ..contract
                };
                let memo = format!("合同 HT-{:06} 第 {} 期支付", c.id, c.paid + 1);
                let seq = self.emit(
                    Kind::Disbursement,
                    memo.clone(),
                    refs.clone(),
                    lines.clone(),
                    b,
                );
                // One payment in a hundred goes to a wrong account: reversed, then paid again.
                if self.rand(100) == 0 {
                    let negated = lines
                        .iter()
                        .map(|l| Self::line(l.account.clone(), -l.amount))
                        .collect();
                    let rrefs = Refs {
                        reverses: Some(seq),
                        ..refs.clone()
                    };
                    self.emit(
                        Kind::Reversal,
                        format!("冲销第 {seq} 号分录：收款账户有误"),
                        rrefs,
                        negated,
                        b,
                    );
                    self.emit(Kind::Disbursement, memo + "（重付）", refs, lines, b);
                }
                c.paid += 1;
                c.step = if c.accrued < c.instalments.len() {
                    Step::Accrue
                } else {
                    Step::Done
                };
            }
            Step::Done => {}
        }
    }

    /// Queue the next step of some contract (or of a new one).
    fn step(&mut self) {
        let start_new = self.flying.len() < self.in_flight;
        if start_new && let Some(c) = self.start() {
            self.flying.push(c);
        }
        if self.flying.is_empty() {
            panic!("the synthetic ledger ran out of budget: give it larger budgets");
        }
        let i = self.rand(self.flying.len() as u64) as usize;
        let mut c = self.flying.swap_remove(i);
        self.advance(&mut c);
        if c.step != Step::Done {
            self.flying.push(c);
        }
    }
}

impl Iterator for Synthetic {
    type Item = NewEntry;

    fn next(&mut self) -> Option<NewEntry> {
        if self.left == 0 {
            return None;
        }
        while self.queue.is_empty() {
            self.step();
        }
        self.left -= 1;
        self.queue.pop_front()
    }
}
