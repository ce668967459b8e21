//! Password hashing (argon2id with a random salt), the password policy, and [`Hasher`]: the one gate the
//! request paths hash and verify through, off any database connection, on all cores but one at most, each
//! in memory it reuses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::error::{AppError, Msg};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

/// The rule a new password must meet.
pub fn check_policy(pw: &str) -> Result<(), Msg> {
    let n = pw.chars().count();
    if n < MIN_LEN {
        return Err(Msg::new(
            format!("密码至少 {MIN_LEN} 个字符。"),
            format!("The password must have at least {MIN_LEN} characters."),
        ));
    }
    if n > MAX_LEN {
        return Err(Msg::new(
            format!("密码最多 {MAX_LEN} 个字符。"),
            format!("The password must have at most {MAX_LEN} characters."),
        ));
    }
    Ok(())
}

pub fn hash(pw: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

pub fn verify(pw: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(pw.as_bytes(), hash)
        .is_ok()
}

/// Verify `pw` against a PHC string with argon2 working memory the caller keeps (grown when too small,
/// never shrunk): the same answer as [`verify`] without a 19 MiB allocation per call.
pub fn verify_in(pw: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&h.salt, &h.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(h.algorithm.as_str()) else {
        return false;
    };
    let version = match h.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&h) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(pw.as_bytes(), salt, &mut *out, &mut memory[..blocks])
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    argon2::password_hash::phc::Output::new(out).is_ok_and(|o| o == *expected)
}

/// The gate for password work on request paths: at most `permits` hashes at once (fewer than the cores), each on
/// the blocking pool, never while holding a database connection; a caller waits up to `wait` for a turn,
/// then gets 429. Each turn reuses one of `permits` working memories, so a busy sign-in page does not make
/// the allocator hand out (and keep) a fresh 19 MiB per request.
#[derive(Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    memories: Mutex<Vec<Vec<Block>>>,
    wait: Duration,
}

impl Hasher {
    pub fn new(permits: usize, wait: Duration) -> Arc<Hasher> {
        let permits = permits.max(1);
        Arc::new(Hasher {
            permits: Arc::new(Semaphore::new(permits)),
            memories: Mutex::new((0..permits).map(|_| Vec::new()).collect()),
            wait,
        })
    }

    /// A permit for every core but one (one on a single core), waiting at most two seconds: a burst of
    /// sign-ins then leaves a core to everyone else's requests instead of queueing them behind argon2.
    pub fn per_core() -> Arc<Hasher> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher::new(cores.saturating_sub(1), Duration::from_secs(2))
    }

    /// Does `pw` open `phc`?
    pub async fn verify(self: &Arc<Self>, pw: &str, phc: &str) -> Result<bool, AppError> {
        let (pw, phc) = (pw.to_string(), phc.to_string());
        self.run(move |memory| verify_in(&pw, &phc, memory)).await
    }

    /// A new hash of `pw`.
    pub async fn hash(self: &Arc<Self>, pw: &str) -> Result<String, AppError> {
        let pw = pw.to_string();
        self.run(move |_| hash(&pw))
            .await?
            .map_err(AppError::internal)
    }

    /// Run `f` with a permit and a working memory, on the blocking pool. The permit moves into the
    /// blocking task, so a caller that gives up (a dropped request) does not free it while `f` still runs.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                tracing::warn!(
                    event = "hasher_busy",
                    "password work refused: all permits busy"
                );
                AppError::TooManyRequests { retry_after: 1 }
            })?
            .map_err(|_| AppError::internal("password hasher closed"))?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut memory = this
                .memories
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let r = f(&mut memory);
            this.memories
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(memory);
            r
        })
        .await
        .map_err(|e| AppError::internal(format!("password task failed: {e}")))
    }
}

/// A hash to verify against when the account does not exist, so the answer takes as long either way.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("dummy-password-for-timing").unwrap_or_default())
}

/// A random password for generated accounts: 16 characters without look-alikes.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn verify_in_reused_memory_agrees_with_verify() {
        let h = hash("correct horse battery").unwrap();
        let mut memory = Vec::new();
        for _ in 0..3 {
            assert!(verify_in("correct horse battery", &h, &mut memory));
            assert!(!verify_in("correct horse batterz", &h, &mut memory));
        }
        let blocks = memory.len();
        assert_eq!(
            blocks,
            Params::default().block_count(),
            "19 MiB, allocated once"
        );
        assert!(!verify_in("x", "not a hash", &mut memory));
        // Other parameters (a hash from elsewhere, or older settings) verify too.
        let other = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(1024, 2, 1, Some(24)).unwrap(),
        )
        .hash_password_with_salt(b"pw-other-params", b"saltsaltsalt")
        .unwrap()
        .to_string();
        assert!(verify("pw-other-params", &other));
        assert!(verify_in("pw-other-params", &other, &mut memory));
        assert!(!verify_in("pw-other-paramz", &other, &mut memory));
        assert_eq!(memory.len(), blocks, "a smaller need reuses the memory");
        assert!(verify_in(
            "dummy-password-for-timing",
            dummy_hash(),
            &mut memory
        ));
    }

    /// At most `permits` run at once; the next waits, and past its wait gets 429.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hasher_limits_concurrency() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hasher = Hasher::new(2, Duration::from_millis(200));
        // Two long jobs hold both permits…
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let mut held = Vec::new();
        for _ in 0..2 {
            let (h, g) = (hasher.clone(), gate.clone());
            held.push(tokio::spawn(async move {
                h.run(move |_| {
                    let _ = g.lock().unwrap().recv();
                })
                .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(hasher.permits.available_permits(), 0);
        // …so a third is refused after its wait, with Retry-After.
        let t = std::time::Instant::now();
        let r = hasher.run(|_| ()).await;
        assert!(
            matches!(r, Err(AppError::TooManyRequests { retry_after: 1 })),
            "{r:?}"
        );
        assert!(t.elapsed() >= Duration::from_millis(200));
        // A caller that gives up does not free a permit of a job still running.
        assert_eq!(hasher.permits.available_permits(), 0);
        release.send(()).unwrap();
        release.send(()).unwrap();
        for h in held {
            h.await.unwrap().unwrap();
        }

        // Many callers: never more than two at once, every one served while the wait allows.
        let hasher = Hasher::new(2, Duration::from_secs(30));
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let (h, now, peak) = (hasher.clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    h.run(move |_| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for j in jobs {
            j.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        // The working memories are the permits' own: two, handed back after each turn.
        assert_eq!(hasher.memories.lock().unwrap().len(), 2);
        assert!(hasher.verify("x", "not a hash").await.is_ok_and(|ok| !ok));
    }

    #[test]
    fn policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("long enough pw").is_ok());
        assert!(check_policy(&"x".repeat(129)).is_err());
        assert_eq!(generate().len(), 16);
    }
}
