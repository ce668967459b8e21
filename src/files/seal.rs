//! Files sealed at rest (a bid's files until its opening): encrypted piece by piece as they stream in, so
//! neither the disk nor the object store ever holds one in clear, and decrypted piece by piece on the way
//! out.
//!
//! Each file has its own AES-256-GCM key, derived with HKDF-SHA256 from the seal secret and the file's
//! random name, so a nonce is never used twice under one key. The plaintext is cut into chunks of [`CHUNK`]
//! bytes; chunk `i` is sealed with nonce `i` and associated data naming the record it belongs to (`binding`,
//! e.g. the bid's tender and organisation), the file, `i`, and whether it is the last chunk. A chunk moved,
//! dropped, swapped with another file's or cut off at the end therefore fails to open, and so does a sealed
//! file presented for another record.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;

/// Plaintext bytes per sealed chunk.
pub const CHUNK: usize = 64 * 1024;
/// What sealing adds to each chunk (the GCM tag).
pub const TAG: usize = 16;

/// Derives each sealed file's key from the seal secret.
pub struct FileSealer {
    prk: hkdf::Prk,
}

impl std::fmt::Debug for FileSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileSealer(…)")
    }
}

impl FileSealer {
    pub fn new(secret: &str) -> FileSealer {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"sanshe file seal");
        FileSealer {
            prk: salt.extract(secret.as_bytes()),
        }
    }

    fn key(&self, file: &str) -> LessSafeKey {
        let info = [b"aes-256-gcm chunks v1".as_slice(), file.as_bytes()];
        let okm = self
            .prk
            .expand(&info, &AES_256_GCM)
            .expect("32-byte output is within HKDF's limit");
        LessSafeKey::new(UnboundKey::from(okm))
    }

    /// Seal the file named `file` (its random object name) for the record `binding`.
    pub fn sealer(&self, binding: &str, file: &str) -> ChunkSealer {
        ChunkSealer {
            chunks: Chunks::new(self.key(file), binding, file),
            pending: Vec::with_capacity(CHUNK),
        }
    }

    /// Open what [`FileSealer::sealer`] sealed, with the same `binding` and `file`.
    pub fn opener(&self, binding: &str, file: &str) -> ChunkOpener {
        ChunkOpener {
            chunks: Chunks::new(self.key(file), binding, file),
            pending: Vec::with_capacity(CHUNK + TAG),
        }
    }
}

struct Chunks {
    key: LessSafeKey,
    prefix: String,
    next: u64,
}

impl Chunks {
    fn new(key: LessSafeKey, binding: &str, file: &str) -> Chunks {
        Chunks {
            key,
            prefix: format!("{binding}/file/{file}"),
            next: 0,
        }
    }

    /// The nonce and associated data of the next chunk.
    fn next(&mut self, last: bool) -> (Nonce, String) {
        let i = self.next;
        self.next += 1;
        let mut n = [0u8; NONCE_LEN];
        n[NONCE_LEN - 8..].copy_from_slice(&i.to_be_bytes());
        (
            Nonce::assume_unique_for_key(n),
            format!(
                "{}/chunk/{i}/{}",
                self.prefix,
                if last { "last" } else { "more" }
            ),
        )
    }
}

/// Seals a stream of plaintext pieces into chunks.
pub struct ChunkSealer {
    chunks: Chunks,
    pending: Vec<u8>,
}

impl ChunkSealer {
    /// Take more plaintext; returns the sealed bytes of every chunk it completed (possibly none). A full
    /// chunk is sealed only once more bytes arrive, because only then is it known not to be the last.
    pub fn push(&mut self, mut data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while !data.is_empty() {
            if self.pending.len() == CHUNK {
                out.extend(self.seal(false));
            }
            let take = (CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        out
    }

    /// The last chunk (an empty file is one empty chunk).
    pub fn finish(mut self) -> Vec<u8> {
        self.seal(true)
    }

    fn seal(&mut self, last: bool) -> Vec<u8> {
        let (nonce, aad) = self.chunks.next(last);
        let mut buf = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK));
        self.chunks
            .key
            .seal_in_place_append_tag(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .expect("AES-GCM sealing of an in-memory chunk");
        buf
    }
}

/// A sealed file that does not open: altered, cut short, reordered, or presented for another record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unopenable;

impl std::fmt::Display for Unopenable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sealed file does not open: altered, cut short or misplaced")
    }
}

impl std::error::Error for Unopenable {}

/// Opens a stream of sealed pieces chunk by chunk.
pub struct ChunkOpener {
    chunks: Chunks,
    pending: Vec<u8>,
}

impl ChunkOpener {
    /// Take more sealed bytes; returns the plaintext of every chunk it could open (a full sealed chunk is
    /// opened once more bytes show it is not the last).
    pub fn push(&mut self, mut data: &[u8]) -> Result<Vec<u8>, Unopenable> {
        let mut out = Vec::new();
        while !data.is_empty() {
            if self.pending.len() == CHUNK + TAG {
                out.extend(self.open(false)?);
            }
            let take = (CHUNK + TAG - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(out)
    }

    /// The last chunk's plaintext; fails when the file ends anywhere but after a last chunk.
    pub fn finish(mut self) -> Result<Vec<u8>, Unopenable> {
        self.open(true)
    }

    fn open(&mut self, last: bool) -> Result<Vec<u8>, Unopenable> {
        let (nonce, aad) = self.chunks.next(last);
        let mut buf = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK + TAG));
        let plain = self
            .chunks
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| Unopenable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal_in_pieces(s: &FileSealer, plain: &[u8], piece: usize) -> Vec<u8> {
        let mut w = s.sealer("bid/1", "f1");
        let mut out = Vec::new();
        for p in plain.chunks(piece.max(1)) {
            out.extend(w.push(p));
        }
        out.extend(w.finish());
        out
    }

    fn open_in_pieces(
        s: &FileSealer,
        binding: &str,
        file: &str,
        sealed: &[u8],
        piece: usize,
    ) -> Result<Vec<u8>, Unopenable> {
        let mut r = s.opener(binding, file);
        let mut out = Vec::new();
        for p in sealed.chunks(piece.max(1)) {
            out.extend(r.push(p)?);
        }
        out.extend(r.finish()?);
        Ok(out)
    }

    #[test]
    fn a_file_sealed_in_any_pieces_opens_in_any_pieces() {
        let s = FileSealer::new("a-test-secret-of-some-length-000000");
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 77] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            for piece in [1000, CHUNK, 100_000] {
                let sealed = seal_in_pieces(&s, &plain, piece);
                assert_eq!(
                    sealed.len(),
                    len + len.div_ceil(CHUNK).max(1) * TAG,
                    "{len}"
                );
                for rpiece in [999, CHUNK + TAG, 70_000] {
                    assert!(
                        open_in_pieces(&s, "bid/1", "f1", &sealed, rpiece).unwrap() == plain,
                        "{len} {piece} {rpiece}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_sealed_file_altered_cut_reordered_or_misplaced_does_not_open() {
        let s = FileSealer::new("a-test-secret-of-some-length-000000");
        let plain: Vec<u8> = (0..3 * CHUNK + 10).map(|i| (i % 256) as u8).collect();
        let sealed = seal_in_pieces(&s, &plain, 4096);
        let open = |b: &[u8]| open_in_pieces(&s, "bid/1", "f1", b, 5000);
        assert!(open(&sealed).is_ok());
        let mut flipped = sealed.clone();
        flipped[CHUNK + 5] ^= 1;
        assert_eq!(open(&flipped), Err(Unopenable), "a byte altered");
        let whole = CHUNK + TAG;
        assert_eq!(
            open(&sealed[..2 * whole]),
            Err(Unopenable),
            "the tail cut off at a chunk"
        );
        assert_eq!(
            open(&sealed[..sealed.len() - 1]),
            Err(Unopenable),
            "the tail cut short"
        );
        let swapped = [
            &sealed[whole..2 * whole],
            &sealed[..whole],
            &sealed[2 * whole..],
        ]
        .concat();
        assert_eq!(open(&swapped), Err(Unopenable), "two chunks swapped");
        assert_eq!(
            open_in_pieces(&s, "bid/2", "f1", &sealed, 5000),
            Err(Unopenable),
            "presented for another record"
        );
        assert_eq!(
            open_in_pieces(&s, "bid/1", "f2", &sealed, 5000),
            Err(Unopenable),
            "under another file's name"
        );
        let other = FileSealer::new("another-secret-of-some-length-00000");
        assert_eq!(
            open_in_pieces(&other, "bid/1", "f1", &sealed, 5000),
            Err(Unopenable),
            "another secret"
        );
        // No 16-byte run of the plaintext survives sealing.
        let runs: std::collections::HashSet<&[u8]> = sealed.windows(16).collect();
        assert!(!plain.windows(16).any(|p| runs.contains(p)));
    }
}
