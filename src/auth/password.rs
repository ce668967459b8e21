//! Password hashing (argon2id with a random salt), the password policy, and [`Hasher`]: the one gate the
//! request paths hash and verify through, off any database connection, on low-priority threads of its own,
//! each in memory it reuses.

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

/// The gate for password work on request paths: at most `permits` hashes at once (one per core), each on
/// a thread of its own at the lowest scheduling priority (nice 19), never while holding a database
/// connection; a caller waits up to `wait` for a turn, then gets 429. A burst of sign-ins therefore uses
/// the cores only while nothing else wants them, and every other request keeps its pace. Each thread keeps
/// its argon2 working memory, so a busy sign-in page does not make the allocator hand out (and keep) a
/// fresh 19 MiB per request. The threads end when the hasher is dropped.
pub struct Hasher {
    permits: Arc<Semaphore>,
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
    wait: Duration,
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("free", &self.permits.available_permits())
            .finish()
    }
}

impl Hasher {
    pub fn new(permits: usize, wait: Duration) -> Arc<Hasher> {
        let permits = permits.max(1);
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..permits {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("sanshe-hash-{n}"))
                .spawn(move || {
                    if let Err(e) = thread_priority::set_current_thread_priority(
                        thread_priority::ThreadPriority::Min,
                    ) {
                        tracing::warn!(error = ?e, "password hashing runs at normal priority");
                    }
                    let mut memory = Vec::new();
                    loop {
                        // The lock is held only while taking a job; a closed channel ends the thread.
                        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Arc::new(Hasher {
            permits: Arc::new(Semaphore::new(permits)),
            jobs: Mutex::new(tx),
            wait,
        })
    }

    /// One permit per core, waiting at most two seconds.
    pub fn per_core() -> Arc<Hasher> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher::new(cores, Duration::from_secs(2))
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

    /// Run `f` with a permit on a hashing thread and its working memory. The permit moves into the job, so
    /// a caller that gives up (a dropped request) does not free it while `f` still runs.
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
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _permit = permit;
            let _ = tx.send(f(memory));
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| AppError::internal("password hashing threads are gone"))?;
        rx.await
            .map_err(|_| AppError::internal("a password hashing job failed"))
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
        // Two threads, each with its working memory kept from one turn to the next.
        let threads: std::collections::BTreeSet<String> =
            futures_util::future::join_all((0..8).map(|_| {
                hasher.run(|memory| {
                    memory.resize(memory.len().max(4), Block::new());
                    std::thread::sleep(Duration::from_millis(5));
                    format!("{:?} {}", std::thread::current().name(), memory.len())
                })
            }))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            threads,
            ["Some(\"sanshe-hash-0\") 4", "Some(\"sanshe-hash-1\") 4"]
                .map(String::from)
                .into()
        );
        assert!(hasher.verify("x", "not a hash").await.is_ok_and(|ok| !ok));
    }

    /// Password work runs at the lowest priority (nice 19), so it takes only the time other requests leave.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashing_threads_run_at_the_lowest_priority() {
        let hasher = Hasher::new(1, Duration::from_secs(5));
        let nice = hasher
            .run(|_| {
                // /proc/thread-self/stat: the 19th field is the nice value (after the parenthesised name).
                let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
                let after_name = &stat[stat.rfind(')').unwrap() + 2..];
                after_name.split(' ').nth(16).unwrap().to_string()
            })
            .await
            .unwrap();
        assert_eq!(nice, "19");
    }

    #[test]
    fn policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("long enough pw").is_ok());
        assert!(check_policy(&"x".repeat(129)).is_err());
        assert_eq!(generate().len(), 16);
    }
}
