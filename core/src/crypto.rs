//! Encryption of stored secrets (webhook signing secrets) with the deployment's secret key.
//!
//! The key comes from `OTOQ_SECRET_KEY`; without it, the embedded mode generates one once and
//! keeps it in the data directory. The scaled mode requires the variable: a key kept in the
//! database it protects would protect nothing.

use anyhow::{Context as _, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::db::statement;

/// Encrypts and decrypts short secrets (ChaCha20-Poly1305, random nonce per value).
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// A box keyed by SHA-256 of `key` (any string: a passphrase or random text).
    pub fn new(key: &str) -> Self {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        SecretBox {
            cipher: ChaCha20Poly1305::new(&Key::from(digest)),
        }
    }

    /// `v1:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("encryption of a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// The plaintext of a sealed value; fails if it was sealed with another key or altered.
    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        let Some(b64) = sealed.strip_prefix("v1:") else {
            bail!("not a sealed value");
        };
        let raw = STANDARD.decode(b64).context("sealed value is not base64")?;
        if raw.len() < 12 {
            bail!("sealed value too short");
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().context("bad nonce")?;
        let pt = self.cipher.decrypt(&Nonce::from(nonce), ct).map_err(|_| {
            anyhow::anyhow!("cannot decrypt: wrong OTOQ_SECRET_KEY or altered data")
        })?;
        String::from_utf8(pt).context("decrypted secret is not text")
    }
}

/// The deployment's secret key: configured, else generated once and kept.
pub async fn resolve_key(config: &Config, db: &DatabaseConnection) -> anyhow::Result<String> {
    if let Some(k) = &config.secret_key {
        return Ok(k.clone());
    }
    let fresh = crate::secrets::random_base62(43);
    if config.is_sqlite() {
        let path = config.data_dir.join("secret.key");
        if let Ok(k) = std::fs::read_to_string(&path) {
            return checked_key_file(&path, &k);
        }
        std::fs::create_dir_all(&config.data_dir).ok();
        write_private(&path, &fresh).with_context(|| {
            format!(
                "cannot write the generated secret key to {}",
                path.display()
            )
        })?;
        // Another process may have written its key first: theirs wins.
        let written = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the secret key {}", path.display()))?;
        return checked_key_file(&path, &written);
    }
    anyhow::bail!("{}", missing_scaled_key(stored_key(db).await.is_some()))
}

/// The key an earlier version generated and kept in the database's settings, if any.
pub async fn stored_key(db: &DatabaseConnection) -> Option<String> {
    let row = db
        .query_one_raw(statement(
            db,
            "SELECT value FROM settings WHERE name = 'secret_key'",
            [],
        ))
        .await
        .ok()??;
    row.try_get_by_index::<String>(0).ok()
}

/// Why the scaled mode will not start without `OTOQ_SECRET_KEY`, and how to make one.
pub fn missing_scaled_key(stored: bool) -> String {
    let mut msg = String::from(
        "OTOQ_SECRET_KEY is not set: with Postgres every process needs the same key, and it must not \
         live in the database it protects. Make one with `openssl rand -base64 32` (or \
         `head -c 32 /dev/urandom | base64`), keep it in your secret store and set it on every \
         `otoq api` and `otoq worker` process",
    );
    if stored {
        msg.push_str(
            ". This database holds the key an earlier version generated (`SELECT value FROM settings \
             WHERE name = 'secret_key'`): set OTOQ_SECRET_KEY to that value so that stored secrets \
             can still be read, then delete the row",
        );
    }
    msg
}

/// Fewest characters a key file may hold: an empty or short one would make every seal guessable.
const MIN_KEY_CHARS: usize = 32;

/// The key in a key file, refused when it is empty or short.
fn checked_key_file(path: &std::path::Path, content: &str) -> anyhow::Result<String> {
    let key = content.trim();
    if key.chars().count() < MIN_KEY_CHARS {
        anyhow::bail!(
            "the secret key file {} holds {} characters, fewer than {MIN_KEY_CHARS}: restore it from a backup, \
             or set OTOQ_SECRET_KEY to the key it held (deleting it generates a new key, and secrets sealed \
             with the old one can no longer be read)",
            path.display(),
            key.chars().count()
        );
    }
    Ok(key.to_string())
}

/// Writes `value` to `path` (mode 0600) atomically: the whole key or nothing appears, and an
/// existing file is never replaced.
fn write_private(path: &std::path::Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp-{}", crate::secrets::random_base62(8)));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts.open(&tmp).and_then(|mut f| {
        f.write_all(value.as_bytes())?;
        f.sync_all()
    });
    // A hard link creates the name only if it does not exist yet, with the complete content.
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_key_files_are_refused_and_writes_keep_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let err = checked_key_file(&path, " \n").unwrap_err().to_string();
        assert!(err.contains("fewer than 32"), "{err}");
        assert!(checked_key_file(&path, "short").is_err());
        let key = "k".repeat(43);
        write_private(&path, &key).unwrap();
        write_private(&path, &"x".repeat(43)).unwrap();
        assert_eq!(
            checked_key_file(&path, &std::fs::read_to_string(&path).unwrap()).unwrap(),
            key
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn seals_and_opens_only_with_the_same_key() {
        let a = SecretBox::new("key one");
        let sealed = a.seal("whsec_abc");
        assert_ne!(sealed, a.seal("whsec_abc"), "random nonce");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(a.open(&sealed).unwrap(), "whsec_abc");
        assert!(SecretBox::new("key two").open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert!(a.open(&tampered).is_err() || tampered == sealed);
    }
}
