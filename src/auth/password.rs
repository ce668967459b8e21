//! Password hashing (argon2id with a random salt) and the password policy.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::RngCore;

use crate::error::Msg;

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
    fn policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("long enough pw").is_ok());
        assert!(check_policy(&"x".repeat(129)).is_err());
        assert_eq!(generate().len(), 16);
    }
}
