//! The one file store every feature uses (issue 15): tender documents now; bid files, milestone reports,
//! spending evidence and sign-in sheets as they move onto it.
//!
//! Bytes live in an `object_store` store: the local disk under `DATA_DIR/files` by default, or any
//! S3-compatible store when `SANSHE_FILES_URL=s3://bucket/prefix` (credentials and endpoint from the usual
//! `AWS_*` variables), so several web servers can share one. An object is named by the SHA-256 of its bytes
//! (`blobs/ab/abcd…`) and kept once however often it is uploaded; a `files` row says what it is (name,
//! kind, size, purpose, the record it belongs to, who uploaded it).
//!
//! An upload is streamed: each piece is hashed, checked against the limit and passed to a multipart write
//! of a temporary object as it arrives, so memory holds a few pieces, never the file. The kind is judged
//! from the first bytes ([`crate::domain::files::sniff`]). Only a complete, accepted upload is moved to its
//! name; anything refused or cut off is aborted and leaves nothing behind.

mod access;
pub mod evidence;
pub mod seal;

pub use access::*;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use futures_util::{Stream, StreamExt, stream::BoxStream};
use object_store::{ObjectStore, WriteMultipart, path::Path as ObjectPath};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor};
use crate::db::schema::files;
use crate::db::{DbConn, write_tx};
use crate::domain::files::{BadName, Kind, SNIFF_BYTES, file_name, sniff};
use crate::error::AppError;

/// Where files are kept and what is accepted.
#[derive(Clone, Debug)]
pub struct Settings {
    pub location: Location,
    /// Largest single file, bytes (`SANSHE_FILE_MAX_MB`, default 20 MiB).
    pub file_max: u64,
    /// Largest total of one bid's files, bytes (`SANSHE_BID_FILES_MAX_MB`, default 100 MiB).
    pub bid_max: u64,
    /// Kinds accepted (`SANSHE_FILE_KINDS`, default all of [`Kind::ALL`]).
    pub kinds: Vec<Kind>,
}

#[derive(Clone, Debug)]
pub enum Location {
    /// A directory on the local disk.
    Local(PathBuf),
    /// An S3-compatible bucket: `s3://bucket/prefix`, with `aws_*` options (endpoint, region, keys,
    /// allow_http) as object_store names them.
    S3 {
        url: String,
        options: Vec<(String, String)>,
    },
}

impl Settings {
    pub fn local(dir: PathBuf) -> Settings {
        Settings {
            location: Location::Local(dir),
            file_max: 20 * 1024 * 1024,
            bid_max: 100 * 1024 * 1024,
            kinds: Kind::ALL.to_vec(),
        }
    }
}

/// Size of the parts written to the store (S3 needs at least 5 MiB for every part but the last).
const PART: usize = 5 * 1024 * 1024;
/// Parts in flight at once: memory holds at most this many parts plus the one being filled.
const PARTS_IN_FLIGHT: usize = 2;

/// The store: an object store and its settings.
#[derive(Clone)]
pub struct Store {
    objects: Arc<dyn ObjectStore>,
    pub settings: Settings,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({:?})", self.settings.location)
    }
}

/// A file received whole and kept under its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub name: String,
    pub kind: Kind,
    pub size: u64,
    pub sha256: String,
}

/// A file received whole that waits in `tmp/` for its record to be written: [`Store::settle`] then keeps it
/// under its hash, or deletes it when the record was refused. One dropped unsettled (its request gave up
/// on the way) is deleted as well.
pub struct Pending {
    pub file: Received,
    tmp: ObjectPath,
    objects: Arc<dyn ObjectStore>,
    settled: bool,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pending({:?} at {})", self.file, self.tmp)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (objects, tmp) = (self.objects.clone(), self.tmp.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = objects.delete(&tmp).await;
            });
        }
    }
}

fn unopenable(object: &str, e: seal::Unopenable) -> AppError {
    tracing::error!(object, "a sealed file does not open; run sanshe verify");
    AppError::internal(format!("{object}: {e}"))
}

fn store_error(e: object_store::Error) -> AppError {
    AppError::internal(format!("file store: {e}"))
}

/// The refusal of a file, at the form's field `field`.
fn refusal(field: &str, rule: &str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::field(field, rule, zh, en)
}

fn name_refusal(field: &str, b: BadName) -> AppError {
    let (zh, en) = b.message();
    refusal(field, b.code(), zh, en)
}

/// A limit for people: limits are set in whole MiB (below one, in KiB, as tests set them).
fn mib(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

impl Store {
    pub fn open(settings: Settings) -> Result<Store, String> {
        let objects: Arc<dyn ObjectStore> = match &settings.location {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("SANSHE_FILES_URL: {}: {e}", dir.display()))?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(dir)
                        .map_err(|e| format!("SANSHE_FILES_URL: {e}"))?,
                )
            }
            Location::S3 { url, options } => {
                let u = url::Url::parse(url).map_err(|e| format!("SANSHE_FILES_URL: {e}"))?;
                let bucket = u.host_str().unwrap_or_default().to_string();
                if u.scheme() != "s3" || bucket.is_empty() {
                    return Err("SANSHE_FILES_URL: s3://BUCKET/PREFIX or a directory".into());
                }
                let mut b = object_store::aws::AmazonS3Builder::new().with_bucket_name(&bucket);
                // As the AWS tools do, variables this store does not know (AWS_PROFILE, …) are passed by.
                for (k, v) in options {
                    if let Ok(key) = k.parse() {
                        b = b.with_config(key, v);
                    }
                }
                let s3 = b.build().map_err(|e| format!("SANSHE_FILES_URL: {e}"))?;
                let prefix = u.path().trim_matches('/');
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
                }
            }
        };
        Ok(Store { objects, settings })
    }

    fn blob(sha256: &str) -> ObjectPath {
        ObjectPath::from(format!("blobs/{}/{sha256}", &sha256[..2]))
    }

    /// Receive one file from a stream of pieces: refused (nothing kept) when its name is not a plain name,
    /// it is empty, larger than `max`, of a kind not accepted, or the stream breaks off. `field` names the
    /// form field in the refusal. The file waits for its record ([`Pending`]).
    pub async fn receive<S, E>(
        &self,
        field: &str,
        raw_name: &str,
        pieces: S,
        max: u64,
    ) -> Result<Pending, AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp = ObjectPath::from(format!("tmp/{}", uuid::Uuid::new_v4().simple()));
        let file = self
            .receive_into(field, raw_name, pieces, max, &tmp, None, true)
            .await?;
        Ok(Pending {
            file,
            tmp,
            objects: self.objects.clone(),
            settled: false,
        })
    }

    /// The end of a [`Pending`] file: kept under its hash when `outcome` says its record was written,
    /// deleted when it was refused. The record is written first, so a refused one leaves nothing behind.
    pub async fn settle<T>(
        &self,
        p: Option<Pending>,
        outcome: Result<T, AppError>,
    ) -> Result<T, AppError> {
        let Some(mut p) = p else { return outcome };
        p.settled = true;
        match outcome {
            Ok(v) => {
                self.objects
                    .rename(&p.tmp, &Self::blob(&p.file.sha256))
                    .await
                    .map_err(store_error)?;
                Ok(v)
            }
            Err(e) => {
                if let Err(d) = self.objects.delete(&p.tmp).await {
                    tracing::warn!(tmp = %p.tmp, "a refused upload was not deleted: {d}");
                }
                Err(e)
            }
        }
    }

    /// [`Store::receive`] for a file sealed at rest for the record `binding` ([`seal`]): its bytes are
    /// encrypted as they arrive and kept under a random name, never under their hash; returns the file and
    /// that name.
    pub async fn receive_sealed<S, E>(
        &self,
        field: &str,
        raw_name: &str,
        pieces: S,
        max: u64,
        sealer: &seal::FileSealer,
        binding: &str,
    ) -> Result<(Received, String), AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.sealed(field, raw_name, pieces, max, sealer, binding, true)
            .await
    }

    /// Seal bytes already accepted under older rules (a bid's small JSON attachment, which any kind of
    /// file could be) as [`Store::receive_sealed`] would, without judging their kind again.
    pub async fn seal_accepted(
        &self,
        name: &str,
        bytes: Vec<u8>,
        sealer: &seal::FileSealer,
        binding: &str,
    ) -> Result<(Received, String), AppError> {
        let pieces = futures_util::stream::iter([Ok::<_, AppError>(Bytes::from(bytes))]);
        self.sealed("file", name, pieces, u64::MAX, sealer, binding, false)
            .await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "receive_sealed's arguments and whether to judge the kind"
    )]
    async fn sealed<S, E>(
        &self,
        field: &str,
        raw_name: &str,
        pieces: S,
        max: u64,
        sealer: &seal::FileSealer,
        binding: &str,
        judge: bool,
    ) -> Result<(Received, String), AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let chunks = sealer.sealer(binding, &id);
        let tmp = ObjectPath::from(format!("tmp/{id}"));
        let got = self
            .receive_into(field, raw_name, pieces, max, &tmp, Some(chunks), judge)
            .await?;
        let name = format!("sealed/{id}");
        self.objects
            .rename(&tmp, &ObjectPath::from(name.as_str()))
            .await
            .map_err(store_error)?;
        Ok((got, name))
    }

    /// Read `pieces` into the temporary object `to` (sealing them when `chunks` is given), judging and
    /// counting the plaintext (its kind only when `judge`); on any refusal the upload is aborted and nothing
    /// is left. The caller names the object once it is whole, so only `tmp/` ever holds a part.
    #[expect(
        clippy::too_many_arguments,
        reason = "the upload, its limits, where it goes and how it is sealed and judged"
    )]
    async fn receive_into<S, E>(
        &self,
        field: &str,
        raw_name: &str,
        mut pieces: S,
        max: u64,
        to: &ObjectPath,
        mut chunks: Option<seal::ChunkSealer>,
        judge: bool,
    ) -> Result<Received, AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let name = file_name(raw_name).map_err(|b| name_refusal(field, b))?;
        let upload = self.objects.put_multipart(to).await.map_err(store_error)?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut hash = Sha256::new();
        let mut size: u64 = 0;
        let mut head: Vec<u8> = Vec::new();
        let mut kind: Option<Kind> = None;
        let outcome: Result<(), AppError> = async {
            while let Some(piece) = pieces.next().await {
                let piece = piece.map_err(|e| {
                    AppError::bad_request(
                        "upload_incomplete",
                        format!("文件未完整上传（{e}），请重新上传。"),
                        format!("The upload broke off ({e}); upload the file again."),
                    )
                })?;
                size += piece.len() as u64;
                if size > max {
                    return Err(refusal(
                        field,
                        "too_large",
                        format!("文件超过 {} 的上限。", mib(max)),
                        format!("The file is larger than the limit of {}.", mib(max)),
                    ));
                }
                hash.update(&piece);
                if kind.is_none() {
                    let take = (SNIFF_BYTES - head.len()).min(piece.len());
                    head.extend_from_slice(&piece[..take]);
                    if head.len() >= SNIFF_BYTES {
                        kind = Some(self.kind_of(field, &head, judge)?);
                    }
                }
                w.wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(store_error)?;
                match chunks.as_mut() {
                    Some(c) => w.write(&c.push(&piece)),
                    None => w.put(piece),
                }
            }
            if size == 0 {
                return Err(refusal(
                    field,
                    "empty",
                    "文件是空的。",
                    "The file is empty.",
                ));
            }
            if kind.is_none() {
                kind = Some(self.kind_of(field, &head, judge)?);
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            // Parts already written go with the upload; a failure to abort leaves only an unnamed temporary
            // object, which `sanshe verify` lists.
            let _ = w.abort().await;
            return Err(e);
        }
        if let Some(c) = chunks {
            w.write(&c.finish());
        }
        w.finish().await.map_err(store_error)?;
        let sha256 = hex::encode(hash.finalize());
        Ok(Received {
            name,
            kind: kind.expect("judged above"),
            size,
            sha256,
        })
    }

    /// The kind of a file from its first bytes; refused when not accepted, unless the file is not `judge`d
    /// (then an unknown kind is kept as PDF, which only labels it).
    fn kind_of(&self, field: &str, head: &[u8], judge: bool) -> Result<Kind, AppError> {
        match sniff(head) {
            Some(k) if !judge || self.settings.kinds.contains(&k) => Ok(k),
            None if !judge => Ok(Kind::Pdf),
            _ => {
                let allowed: Vec<&str> = self.settings.kinds.iter().map(|k| k.label()).collect();
                Err(refusal(
                    field,
                    "file_type",
                    format!(
                        "只接受以下类型的文件：{}（按文件内容判断，不看扩展名）。",
                        allowed.join("、")
                    ),
                    format!(
                        "Only these kinds of file are accepted: {} (judged by the content, not the name).",
                        allowed.join(", ")
                    ),
                ))
            }
        }
    }

    /// A stored file's bytes, whole or a range of them, as a stream.
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, object_store::Error>>, AppError> {
        let opts = object_store::GetOptions {
            range: range.map(object_store::GetRange::Bounded),
            ..Default::default()
        };
        match self.objects.get_opts(&Self::blob(sha256), opts).await {
            Ok(r) => Ok(r.into_stream()),
            Err(object_store::Error::NotFound { .. }) => Err(AppError::internal(format!(
                "file {sha256} is missing from the store (run sanshe verify)"
            ))),
            Err(e) => Err(store_error(e)),
        }
    }

    /// A sealed file's plaintext as a stream, opened chunk by chunk; the stream fails (and stops) at the
    /// first chunk that does not open, so altered bytes are never handed over as the file.
    pub async fn read_sealed(
        &self,
        object: &str,
        sealer: &seal::FileSealer,
        binding: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, AppError>>, AppError> {
        let id = object.strip_prefix("sealed/").unwrap_or(object);
        let opener = sealer.opener(binding, id);
        let inner = match self.objects.get(&ObjectPath::from(object)).await {
            Ok(r) => r.into_stream(),
            Err(object_store::Error::NotFound { .. }) => {
                return Err(AppError::internal(format!(
                    "sealed file {object} is missing from the store (run sanshe verify)"
                )));
            }
            Err(e) => return Err(store_error(e)),
        };
        let object = object.to_string();
        Ok(
            futures_util::stream::unfold((inner, Some(opener)), move |(mut inner, opener)| {
                let object = object.clone();
                async move {
                    let mut opener = opener?;
                    loop {
                        match inner.next().await {
                            Some(Ok(p)) => match opener.push(&p) {
                                Ok(plain) if plain.is_empty() => continue,
                                Ok(plain) => {
                                    return Some((Ok(Bytes::from(plain)), (inner, Some(opener))));
                                }
                                Err(e) => {
                                    return Some((Err(unopenable(&object, e)), (inner, None)));
                                }
                            },
                            Some(Err(e)) => return Some((Err(store_error(e)), (inner, None))),
                            None => {
                                let last = opener.finish().map(Bytes::from);
                                return Some((
                                    last.map_err(|e| unopenable(&object, e)),
                                    (inner, None),
                                ));
                            }
                        }
                    }
                }
            })
            .boxed(),
        )
    }

    /// Read a sealed file whole, open it and compare the plaintext with its hash and size.
    pub async fn check_sealed(
        &self,
        object: &str,
        sealer: &seal::FileSealer,
        binding: &str,
        sha256: &str,
        size: u64,
    ) -> Result<Health, AppError> {
        let mut s = match self.read_sealed(object, sealer, binding).await {
            Ok(s) => s,
            Err(_) if self.objects.head(&ObjectPath::from(object)).await.is_err() => {
                return Ok(Health::Missing);
            }
            Err(e) => return Err(e),
        };
        // A chunk that does not open is an altered file.
        Ok(match digest(&mut s).await {
            Ok(d) if d == (sha256.to_string(), size) => Health::Intact,
            _ => Health::Altered,
        })
    }

    /// Read a stored file whole and compare it with its hash and size.
    pub async fn check(&self, sha256: &str, size: u64) -> Result<Health, AppError> {
        let mut s = match self.objects.get(&Self::blob(sha256)).await {
            Ok(r) => r.into_stream(),
            Err(object_store::Error::NotFound { .. }) => return Ok(Health::Missing),
            Err(e) => return Err(store_error(e)),
        };
        Ok(
            if digest(&mut s).await.map_err(store_error)? == (sha256.to_string(), size) {
                Health::Intact
            } else {
                Health::Altered
            },
        )
    }

    /// Delete a sealed file (an upload its record did not take).
    pub async fn delete_sealed(&self, object: &str) -> Result<(), AppError> {
        match self.objects.delete(&ObjectPath::from(object)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Objects left in `tmp/`, each with its content's hash and size: an upload under way or given up (a
    /// crash mid-upload), or a file whose record was written but which a crash caught before it was kept
    /// under its hash ([`Store::settle`] renames it after the record's commit).
    pub async fn leftovers(&self) -> Result<Vec<Leftover>, AppError> {
        let mut out = Vec::new();
        for object in self.list("tmp").await? {
            let mut s = match self.objects.get(&ObjectPath::from(object.as_str())).await {
                Ok(r) => r.into_stream(),
                // Settled or deleted since it was listed.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(store_error(e)),
            };
            let (sha256, size) = digest(&mut s).await.map_err(store_error)?;
            out.push(Leftover {
                object,
                sha256,
                size,
            });
        }
        Ok(out)
    }

    /// Keep under its hash every leftover that is a file the records name (`stored`, as [`stored`] lists
    /// them) and the store lacks: the uploads a crash caught between their record's commit and their
    /// rename. Run at every start; the hashes kept.
    pub async fn recover(&self, stored: &[(String, i64, i64)]) -> Result<Vec<String>, AppError> {
        let mut kept = Vec::new();
        for l in self.leftovers().await? {
            if !l.names_one_of(stored) || kept.contains(&l.sha256) {
                continue;
            }
            let blob = Self::blob(&l.sha256);
            match self.objects.head(&blob).await {
                // Here already: the leftover is a copy (perhaps another server's upload about to be kept).
                Ok(_) => continue,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(store_error(e)),
            }
            self.objects
                .rename(&ObjectPath::from(l.object.as_str()), &blob)
                .await
                .map_err(store_error)?;
            kept.push(l.sha256);
        }
        Ok(kept)
    }

    /// Every sealed object in the store.
    pub async fn sealed_objects(&self) -> Result<Vec<String>, AppError> {
        self.list("sealed").await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, AppError> {
        let mut out = Vec::new();
        let mut l = self.objects.list(Some(&ObjectPath::from(prefix)));
        while let Some(m) = l.next().await {
            out.push(m.map_err(store_error)?.location.to_string());
        }
        Ok(out)
    }
}

/// A stream's SHA-256 (hex) and length, read whole; the first error stops it.
async fn digest<E>(
    s: &mut (impl Stream<Item = Result<Bytes, E>> + Unpin),
) -> Result<(String, u64), E> {
    let mut hash = Sha256::new();
    let mut n: u64 = 0;
    while let Some(piece) = s.next().await {
        let piece = piece?;
        n += piece.len() as u64;
        hash.update(&piece);
    }
    Ok((hex::encode(hash.finalize()), n))
}

/// An object left in `tmp/` ([`Store::leftovers`]).
#[derive(Clone, Debug)]
pub struct Leftover {
    pub object: String,
    pub sha256: String,
    pub size: u64,
}

impl Leftover {
    /// Whether it is one of the files the records name, as [`stored`] lists them.
    pub fn names_one_of(&self, stored: &[(String, i64, i64)]) -> bool {
        stored
            .iter()
            .any(|(sha, size, _)| *sha == self.sha256 && *size as u64 == self.size)
    }
}

/// What `check` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Intact,
    Missing,
    Altered,
}

/// What a file is for, which also says which record `record_id` names and who may read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 采购文件, added while the tender is a draft: `record_id` is the tender.
    TenderDocument,
    /// A clarification or change of a published tender's documents (87号令 Art 27): `record_id` is the
    /// tender.
    TenderAmendment,
    /// A milestone's evaluation report (验收评估报告): `record_id` is the contract instalment.
    MilestoneReport,
    /// A spending item's evidence (an invoice scan): `record_id` is the spending item.
    SpendingEvidence,
    /// An activity's sign-in sheet (签到表): `record_id` is the activity.
    SignInSheet,
    /// A credit listing's evidence: `record_id` is the listing.
    CreditEvidence,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::TenderDocument => "tender_document",
            Purpose::TenderAmendment => "tender_amendment",
            Purpose::MilestoneReport => "milestone_report",
            Purpose::SpendingEvidence => "spending_evidence",
            Purpose::SignInSheet => "sign_in_sheet",
            Purpose::CreditEvidence => "credit_evidence",
        }
    }
    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
    pub const ALL: [Purpose; 6] = [
        Purpose::TenderDocument,
        Purpose::TenderAmendment,
        Purpose::MilestoneReport,
        Purpose::SpendingEvidence,
        Purpose::SignInSheet,
        Purpose::CreditEvidence,
    ];
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = files)]
pub struct FileRow {
    pub id: i64,
    pub sha256: String,
    pub name: String,
    pub kind: String,
    pub size: i64,
    pub purpose: String,
    pub record_id: i64,
    pub uploaded_by: i64,
    pub uploaded_at: NaiveDateTime,
}

/// A file as the API and the pages show it.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct FileView {
    pub id: i64,
    pub name: String,
    /// `pdf`, `jpeg`, `png`, `ofd`, `docx` or `xlsx`, judged from the content.
    pub kind: String,
    pub media_type: String,
    pub size: i64,
    /// SHA-256 of the bytes, hex: also the download's `ETag`.
    pub sha256: String,
    pub purpose: String,
    pub record_id: i64,
    #[schema(value_type = String)]
    pub uploaded_at: NaiveDateTime,
    /// Where to download it.
    pub href: String,
}

impl FileRow {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Pdf)
    }
    pub fn view(&self) -> FileView {
        FileView {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind.clone(),
            media_type: self.kind().media_type().into(),
            size: self.size,
            sha256: self.sha256.clone(),
            purpose: self.purpose.clone(),
            record_id: self.record_id,
            uploaded_at: self.uploaded_at,
            href: format!("/api/v1/files/{}", self.id),
        }
    }
}

/// Which record a file belongs to, and who uploaded it.
#[derive(Clone, Copy, Debug)]
pub struct Attach {
    pub purpose: Purpose,
    pub record_id: i64,
    pub uploaded_by: i64,
}

/// Record a received file against its record, with an audit event, in one write transaction. `check`
/// runs first inside it (the record may accept files no longer).
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    f: &Received,
    to: Attach,
    check: impl FnOnce(&mut DbConn) -> Result<(), AppError>,
) -> Result<FileRow, AppError> {
    write_tx(conn, |conn| {
        check(conn)?;
        insert(conn, actor, now, f, to)
    })
}

/// [`record`] inside the caller's write transaction.
pub fn insert(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    f: &Received,
    to: Attach,
) -> Result<FileRow, AppError> {
    let Attach {
        purpose,
        record_id,
        uploaded_by,
    } = to;
    {
        let id: i64 = diesel::insert_into(files::table)
            .values((
                files::sha256.eq(&f.sha256),
                files::name.eq(&f.name),
                files::kind.eq(f.kind.as_str()),
                files::size.eq(f.size as i64),
                files::purpose.eq(purpose.as_str()),
                files::record_id.eq(record_id),
                files::uploaded_by.eq(uploaded_by),
                files::uploaded_at.eq(crate::db::now_micros(now)),
            ))
            .returning(files::id)
            .get_result(conn)?;
        let row = find(conn, id)?;
        audit::record(
            conn,
            actor,
            now,
            "file.upload",
            "file",
            Some(row.id.to_string()),
            None,
            Some(serde_json::json!({
                "name": row.name, "kind": row.kind, "size": row.size, "sha256": row.sha256,
                "purpose": row.purpose, "record_id": row.record_id,
            })),
        )?;
        Ok(row)
    }
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<FileRow, AppError> {
    files::table
        .find(id)
        .select(FileRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// The files of one record, oldest first.
pub fn of_record(
    conn: &mut DbConn,
    purpose: Purpose,
    record_id: i64,
) -> Result<Vec<FileRow>, AppError> {
    Ok(files::table
        .filter(files::purpose.eq(purpose.as_str()))
        .filter(files::record_id.eq(record_id))
        .order(files::id)
        .select(FileRow::as_select())
        .load(conn)?)
}

/// Every distinct stored object the records name: (sha256, size, how many rows).
pub fn stored(conn: &mut DbConn) -> Result<Vec<(String, i64, i64)>, AppError> {
    use diesel::dsl::count_star;
    Ok(files::table
        .group_by((files::sha256, files::size))
        .select((files::sha256, files::size, count_star()))
        .order(files::sha256)
        .load(conn)?)
}

/// Keep a received file as a document of a draft tender.
pub fn add_tender_document(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    f: &Received,
    tender_id: i64,
    uploaded_by: i64,
) -> Result<FileRow, AppError> {
    let to = Attach {
        purpose: Purpose::TenderDocument,
        record_id: tender_id,
        uploaded_by,
    };
    record(conn, actor, now, f, to, |c| {
        may_add_tender_document(c, tender_id)
    })
}
