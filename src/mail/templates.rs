//! The e-mails Sanshe sends. Each is a struct whose fields the three files of its template read.

use askama::Template;

use super::{Email, Rendered};

macro_rules! email {
    ($ty:ident, $name:literal, $subject:literal, $text:literal, $html:literal) => {
        impl Email for $ty {
            const NAME: &'static str = $name;
            fn render(&self) -> Result<Rendered, askama::Error> {
                #[derive(Template)]
                #[template(path = $subject)]
                struct Subject<'a> {
                    m: &'a $ty,
                }
                #[derive(Template)]
                #[template(path = $text)]
                struct Text<'a> {
                    m: &'a $ty,
                }
                #[derive(Template)]
                #[template(path = $html)]
                struct Html<'a> {
                    m: &'a $ty,
                }
                Ok(Rendered {
                    subject: Subject { m: self }.render()?.trim().to_string(),
                    text: Text { m: self }.render()?,
                    html: Html { m: self }.render()?,
                })
            }
        }
    };
}

/// To a new user: their username and role, and where to sign in (never the password).
pub struct Welcome {
    pub display_name: String,
    pub username: String,
    pub role_zh: String,
    pub role_en: String,
    pub login_url: String,
}
email!(
    Welcome,
    "welcome",
    "email/welcome/subject.txt",
    "email/welcome/body.txt",
    "email/welcome/body.html"
);

pub struct PasswordChanged {
    pub display_name: String,
    pub username: String,
    pub by_admin: bool,
}
email!(
    PasswordChanged,
    "password_changed",
    "email/password_changed/subject.txt",
    "email/password_changed/body.txt",
    "email/password_changed/body.html"
);

pub struct AccountDeactivated {
    pub display_name: String,
    pub username: String,
}
email!(
    AccountDeactivated,
    "account_deactivated",
    "email/account_deactivated/subject.txt",
    "email/account_deactivated/body.txt",
    "email/account_deactivated/body.html"
);

/// To organisations serving a tender's field (or the invited ones) when it is published.
pub struct TenderPublished {
    pub organisation: String,
    pub code: String,
    pub title: String,
    pub field_zh: String,
    pub budget: String,
    pub deadline: String,
    pub url: String,
}
email!(
    TenderPublished,
    "tender_published",
    "email/tender_published/subject.txt",
    "email/tender_published/body.txt",
    "email/tender_published/body.html"
);

/// To the asker and every current bidder when an enquiry is answered (and when the deadline moves).
pub struct EnquiryAnswered {
    pub organisation: String,
    pub code: String,
    pub title: String,
    pub answer: String,
    pub new_deadline: Option<String>,
    pub url: String,
}
email!(
    EnquiryAnswered,
    "enquiry_answered",
    "email/enquiry_answered/subject.txt",
    "email/enquiry_answered/body.txt",
    "email/enquiry_answered/body.html"
);

/// To organisations that bid or asked: the tender's documents were clarified or changed (87号令 Art 27).
pub struct TenderClarified {
    pub organisation: String,
    pub code: String,
    pub title: String,
    pub note: String,
    pub file: String,
    pub new_deadline: Option<String>,
    pub url: String,
}
email!(
    TenderClarified,
    "tender_clarified",
    "email/tender_clarified/subject.txt",
    "email/tender_clarified/body.txt",
    "email/tender_clarified/body.html"
);

/// To the bidder: its receipt (never the content).
pub struct BidReceipt {
    pub organisation: String,
    pub code: String,
    pub title: String,
    pub seq: i64,
    pub commitment: String,
    pub submitted_at: String,
    pub opening_at: String,
    pub url: String,
}
email!(
    BidReceipt,
    "bid_receipt",
    "email/bid_receipt/subject.txt",
    "email/bid_receipt/body.txt",
    "email/bid_receipt/body.html"
);

/// To the bidder: its bid was withdrawn (so a withdrawal it did not make is noticed), and whether it may
/// still bid again.
pub struct BidWithdrawn {
    pub organisation: String,
    pub code: String,
    pub title: String,
    pub seq: i64,
    pub withdrawn_at: String,
    pub reason: Option<String>,
    /// Before the deadline a new bid is still taken.
    pub may_bid_again: bool,
    pub bid_deadline: String,
    pub url: String,
}
email!(
    BidWithdrawn,
    "bid_withdrawn",
    "email/bid_withdrawn/subject.txt",
    "email/bid_withdrawn/body.txt",
    "email/bid_withdrawn/body.html"
);

/// To every bidder when the bids are opened.
pub struct BidsOpened {
    pub organisation: String,
    pub code: String,
    pub title: String,
    pub valid: u32,
    pub url: String,
}
email!(
    BidsOpened,
    "bids_opened",
    "email/bids_opened/subject.txt",
    "email/bids_opened/body.txt",
    "email/bids_opened/body.html"
);

/// To every bidder when the result is published.
pub struct TenderResult {
    pub organisation: String,
    pub code: String,
    pub title: String,
    pub winner: String,
    pub price: String,
    pub challenge_ends: String,
    /// The award letter, in the winner's copy only.
    pub letter: Option<LetterLine>,
    pub url: String,
}

/// An award letter as a result e-mail names it.
#[derive(Debug, Clone)]
pub struct LetterLine {
    pub title_zh: String,
    pub title_en: String,
    pub no: String,
    /// The last day to sign the contract.
    pub sign_by: String,
}
email!(
    TenderResult,
    "tender_result",
    "email/tender_result/subject.txt",
    "email/tender_result/body.txt",
    "email/tender_result/body.html"
);

/// To the challenger and the buyer when a challenge is filed.
pub struct ChallengeFiled {
    pub recipient: String,
    pub code: String,
    pub title: String,
    pub id: i64,
    /// What it is against (采购文件 / 采购过程 / 中标/成交结果).
    pub subject_zh: String,
    pub subject_en: String,
    /// What it holds until answered (实施条例 Art 54).
    pub holds_zh: String,
    pub holds_en: String,
    pub grounds: String,
    pub answer_due: String,
    pub url: String,
}
email!(
    ChallengeFiled,
    "challenge_filed",
    "email/challenge_filed/subject.txt",
    "email/challenge_filed/body.txt",
    "email/challenge_filed/body.html"
);

/// To the challenger and the buyer when a challenge is answered.
pub struct ChallengeAnswered {
    pub recipient: String,
    pub code: String,
    pub title: String,
    pub id: i64,
    pub upheld: bool,
    pub answer: String,
    pub url: String,
}
email!(
    ChallengeAnswered,
    "challenge_answered",
    "email/challenge_answered/subject.txt",
    "email/challenge_answered/body.txt",
    "email/challenge_answered/body.html"
);

/// To the officer who drafted a single source when an objection (异议) to its 公示 is lodged; the objector's
/// name stays with the bureau (实施条例 Art 38; 74号令 Art 41).
pub struct ObjectionLodged {
    pub recipient: String,
    pub code: String,
    pub title: String,
    pub n: i64,
    pub objector: String,
    pub reason: String,
    pub url: String,
}
email!(
    ObjectionLodged,
    "objection_lodged",
    "email/objection_lodged/subject.txt",
    "email/objection_lodged/body.txt",
    "email/objection_lodged/body.html"
);

/// To the organisation that objected when the bureau answers (upheld or not).
pub struct ObjectionAnswered {
    pub recipient: String,
    pub code: String,
    pub title: String,
    pub n: i64,
    pub upheld: bool,
    pub answer: String,
    pub url: String,
}
email!(
    ObjectionAnswered,
    "objection_answered",
    "email/objection_answered/subject.txt",
    "email/objection_answered/body.txt",
    "email/objection_answered/body.html"
);

/// To the sole supplier when the negotiation record (协商情况记录, 74号令 Art 42) is written.
pub struct SingleSourceRecorded {
    pub recipient: String,
    pub code: String,
    pub title: String,
    pub price: String,
    pub negotiated_on: String,
    pub url: String,
}
email!(
    SingleSourceRecorded,
    "single_source_recorded",
    "email/single_source_recorded/subject.txt",
    "email/single_source_recorded/body.txt",
    "email/single_source_recorded/body.html"
);

/// To an organisation whose refusal to sign the contract the bureau recorded: the award has passed on.
pub struct AwardRefused {
    pub recipient: String,
    pub code: String,
    pub title: String,
    pub reason: String,
    pub url: String,
}
email!(
    AwardRefused,
    "award_refused",
    "email/award_refused/subject.txt",
    "email/award_refused/body.txt",
    "email/award_refused/body.html"
);

/// To each auditor (`SANSHE_AUDITOR_EMAILS`) when a chain head is signed: the checkpoint as JSON, to keep
/// outside the service and check with `sanshe verify --checkpoint FILE`.
pub struct CheckpointSigned {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
    /// Beijing time, for reading.
    pub signed_at_local: String,
    pub public_key: String,
    /// The checkpoint exactly as the API publishes it.
    pub json: String,
    pub url: String,
}

impl CheckpointSigned {
    pub fn new(
        c: &crate::chain::checkpoint::Checkpoint,
        at: chrono::NaiveDateTime,
        public_url: &str,
    ) -> CheckpointSigned {
        CheckpointSigned {
            chain: c.chain.clone(),
            seq: c.seq,
            hash: c.hash.clone(),
            signed_at_local: crate::clock::display(at),
            public_key: c.public_key.clone(),
            json: serde_json::to_string_pretty(c).expect("a checkpoint serialises"),
            url: format!("{public_url}/checkpoints"),
        }
    }
}
email!(
    CheckpointSigned,
    "checkpoint_signed",
    "email/checkpoint_signed/subject.txt",
    "email/checkpoint_signed/body.txt",
    "email/checkpoint_signed/body.html"
);

/// To an organisation about one of its contracts: signed, a milestone accepted, a payment made, a
/// spending item rejected or queried. One layout, a template name each (the outbox tells them apart).
macro_rules! contract_email {
    ($($(#[$m:meta])* $ty:ident => $name:literal;)+) => {$(
        $(#[$m])*
        pub struct $ty {
            pub recipient: String,
            pub contract_no: String,
            pub title: String,
            pub what_zh: String,
            pub what_en: String,
            pub url: String,
        }
        email!(
            $ty,
            $name,
            "email/contract_event/subject.txt",
            "email/contract_event/body.txt",
            "email/contract_event/body.html"
        );
    )+};
}

contract_email! {
    /// The contract was signed.
    ContractSigned => "contract_signed";
    /// A milestone was accepted and its instalment is payable.
    MilestoneAccepted => "milestone_accepted";
    /// An instalment was paid.
    PaymentMade => "payment_made";
    /// Finance rejected or queried a spending item.
    SpendingReviewed => "spending_reviewed";
}
