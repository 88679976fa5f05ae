//! SecureString encryption at rest.
//!
//! One 256-bit key per collector, in `DATA_DIR/ssm.key` (32 raw bytes, mode 0600), created on the
//! first start from the operating system's random source (written to a temporary file, synced
//! and renamed into place, so a crash never leaves a short key behind). There is no KMS: the
//! request's `KeyId` is recorded and reported, and every SecureString is sealed with this key.
//!
//! # Sealed form
//! `base64(0x01 || nonce (12 bytes) || ChaCha20-Poly1305 ciphertext and tag)`, standard
//! alphabet with padding. The parameter name is the associated data, so a sealed value copied
//! to another parameter does not open. A fresh random nonce per seal. This string is what the
//! store keeps and what `GetParameter` answers without `WithDecryption`, as AWS answers an
//! opaque KMS ciphertext.

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::store::StoreError;

const VERSION: u8 = 1;
const KEY_FILE: &str = "ssm.key";
const KEY_LEN: usize = 32;

/// The collector's SecureString key.
pub struct SecretKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// A sealed value that does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored SecureString value cannot be decrypted with this collector's key")]
pub struct OpenError;

impl SecretKey {
    /// Read `dir/ssm.key`, creating it (mode 0600) when absent.
    pub fn load_or_create(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(KEY_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(dir)?,
            Err(e) => return Err(e.into()),
        };
        Self::from_bytes(&bytes).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} must hold exactly {KEY_LEN} bytes, it holds {}",
                path.display(),
                bytes.len()
            ))
        })
    }

    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != KEY_LEN {
            return None;
        }
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).ok()?;
        Some(SecretKey {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// Seal `plain` for parameter `name`.
    pub fn seal(&self, name: &str, plain: &str) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| StoreError::Corrupt("no randomness for a nonce".into()))?;
        let mut buf = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut buf,
            )
            .map_err(|_| StoreError::Corrupt("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// Open a value sealed for parameter `name`.
    pub fn open(&self, name: &str, sealed: &str) -> Result<String, OpenError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| OpenError)?;
        if raw.len() < 1 + NONCE_LEN || raw[0] != VERSION {
            return Err(OpenError);
        }
        let nonce =
            Nonce::try_assume_unique_for_key(&raw[1..1 + NONCE_LEN]).map_err(|_| OpenError)?;
        let mut buf = raw[1 + NONCE_LEN..].to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut buf)
            .map_err(|_| OpenError)?;
        String::from_utf8(plain.to_vec()).map_err(|_| OpenError)
    }
}

fn create_key(dir: &Path) -> Result<Vec<u8>, StoreError> {
    let mut key = vec![0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| StoreError::Corrupt("no randomness for the SecureString key".into()))?;
    let tmp = dir.join(format!("{KEY_FILE}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&key)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(KEY_FILE))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_is_created_once_with_mode_0600_and_values_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let k = SecretKey::load_or_create(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = k.seal("/db/password", "hunter2").unwrap();
        assert!(!sealed.contains("hunter2"));
        assert_ne!(
            sealed,
            k.seal("/db/password", "hunter2").unwrap(),
            "fresh nonce"
        );
        let again = SecretKey::load_or_create(dir.path()).unwrap();
        assert_eq!(again.open("/db/password", &sealed).unwrap(), "hunter2");
        assert_eq!(again.open("/other", &sealed), Err(OpenError));
        assert_eq!(again.open("/db/password", "not base64!"), Err(OpenError));
        assert_eq!(again.open("/db/password", "AQ=="), Err(OpenError));
    }

    #[test]
    fn a_short_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), b"short").unwrap();
        assert!(matches!(
            SecretKey::load_or_create(dir.path()),
            Err(StoreError::Corrupt(_))
        ));
    }
}
