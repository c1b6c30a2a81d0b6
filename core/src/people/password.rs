//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane), off the
//! async threads; a check against a dummy hash when there is no member, so timing tells nothing.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// Shortest and longest password accepted.
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 256;

fn argon() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// A hash of a password nobody knows, checked when the email is unknown.
static DUMMY: LazyLock<String> = LazyLock::new(|| {
    hash_now(&crate::secrets::random_base62(24)).expect("hashing a random password")
});

/// Checks the length of a new password (`field` names it in the error).
pub fn validate(field: &str, password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&n) {
        return Err(Error::validation(
            field,
            format!("`{field}` must be {MIN_LEN} to {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

fn hash_now(password: &str) -> Result<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| Error::Internal(anyhow::anyhow!("salt: {e}")))?;
    Ok(argon()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Internal(anyhow::anyhow!("argon2: {e}")))?
        .to_string())
}

fn verify_now(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// The argon2id PHC string of `password`.
pub async fn hash(password: &str) -> Result<String> {
    let p = password.to_string();
    tokio::task::spawn_blocking(move || hash_now(&p))
        .await
        .map_err(|e| Error::Internal(e.into()))?
}

/// Whether `password` matches `phc`; `None` checks against the dummy hash and is false.
pub async fn verify(password: &str, phc: Option<&str>) -> bool {
    let p = password.to_string();
    let phc = phc.map(str::to_string);
    tokio::task::spawn_blocking(move || match phc {
        Some(h) => verify_now(&p, &h),
        None => {
            verify_now(&p, &DUMMY);
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_argon2id() {
        let h = hash_now("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_now("correct horse", &h));
        assert!(!verify_now("wrong horse", &h));
        assert_ne!(h, hash_now("correct horse").unwrap(), "salted");
    }
}
