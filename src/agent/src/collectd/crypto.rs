//! collectd's network security: the auth file, HMAC-SHA-256 signatures and AES-256-OFB
//! encryption with a SHA-1 integrity check.
//!
//! - **Auth file**: one `user: password` per line. Leading and trailing whitespace around the
//!   user and the password is ignored, as are empty lines and lines starting with `#`; a line
//!   without `:` is skipped. A user listed twice keeps the last password.
//! - **Signature** (part `0x0200`): `type u16, length u16, HMAC-SHA-256 (32 bytes), username`
//!   (the username fills the rest of the part, without a NUL). The HMAC key is the password's
//!   bytes; the message is the username followed by every byte of the packet after the
//!   signature part. The signature covers the rest of the packet.
//! - **Encryption** (part `0x0210`): `type u16, length u16, username length u16, username, IV
//!   (16 bytes)`, then the encrypted region: `SHA-1 (20 bytes) || payload`. The cipher is
//!   AES-256 in OFB mode, key = SHA-256(password), IV as sent, restarted for every encrypted
//!   part; the SHA-1 is of the plaintext payload. The payload is a packet of its own.
//!
//! Comparisons of authentication codes are constant-time.

use aes::Aes256;
use hmac::{Hmac, Mac};
use ofb::cipher::{KeyIvInit, StreamCipher};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

type HmacSha256 = Hmac<Sha256>;
type Aes256Ofb = ofb::Ofb<Aes256>;

/// Part type of a signature.
pub const TYPE_SIGN_SHA256: u16 = 0x0200;
/// Part type of an encrypted packet.
pub const TYPE_ENCR_AES256: u16 = 0x0210;
/// Header + HMAC of a signature part (the username follows).
pub const SIGNATURE_HEADER: usize = 4 + 32;
/// Header + username length + IV + SHA-1 of an encrypted part (the username sits inside).
pub const ENCRYPTION_OVERHEAD: usize = 4 + 2 + 16 + 20;

/// Users and passwords from a collectd auth file.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthFile {
    users: HashMap<Vec<u8>, Vec<u8>>,
}

impl std::fmt::Debug for AuthFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print passwords.
        f.debug_struct("AuthFile")
            .field("users", &self.users.len())
            .finish()
    }
}

impl AuthFile {
    /// Parse the file's text (see the module docs).
    pub fn parse(text: &str) -> AuthFile {
        let mut users = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((user, password)) = line.split_once(':') else {
                continue;
            };
            let user = user.trim();
            if user.is_empty() {
                continue;
            }
            users.insert(
                user.as_bytes().to_vec(),
                password.trim().as_bytes().to_vec(),
            );
        }
        AuthFile { users }
    }

    /// Read and parse `path`.
    pub fn load(path: &Path) -> std::io::Result<AuthFile> {
        let bytes = std::fs::read(path)?;
        Ok(AuthFile::parse(&String::from_utf8_lossy(&bytes)))
    }

    /// The password of `user`.
    pub fn password(&self, user: &[u8]) -> Option<&[u8]> {
        self.users.get(user).map(Vec::as_slice)
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no user is defined.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// Whether `mac` is HMAC-SHA-256(`password`, `message`).
pub fn hmac_matches(password: &[u8], message: &[u8], mac: &[u8]) -> bool {
    let Ok(mut h) = HmacSha256::new_from_slice(password) else {
        return false;
    };
    h.update(message);
    h.verify_slice(mac).is_ok()
}

/// HMAC-SHA-256(`password`, `message`).
pub fn hmac(password: &[u8], message: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(mut h) = HmacSha256::new_from_slice(password) {
        h.update(message);
        out.copy_from_slice(&h.finalize().into_bytes());
    }
    out
}

/// Apply the AES-256-OFB keystream (key = SHA-256(`password`)) to `data` in place: OFB
/// encryption and decryption are the same operation.
pub fn ofb_apply(password: &[u8], iv: &[u8; 16], data: &mut [u8]) {
    let key = Sha256::digest(password);
    let mut c = Aes256Ofb::new(&key, iv.into());
    c.apply_keystream(data);
}

/// Whether `hash` is the SHA-1 of `data` (constant-time comparison).
pub fn sha1_matches(data: &[u8], hash: &[u8]) -> bool {
    let h = Sha1::digest(data);
    if h.len() != hash.len() {
        return false;
    }
    h.iter().zip(hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// A signed packet: the signature part for `user`/`password`, then `payload`.
/// (Used by tests and the benchmark; the agent only receives.)
pub fn sign_packet(user: &str, password: &str, payload: &[u8]) -> Vec<u8> {
    let len = SIGNATURE_HEADER + user.len();
    let mut out = Vec::with_capacity(len + payload.len());
    out.extend_from_slice(&TYPE_SIGN_SHA256.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
    let mut message = Vec::with_capacity(user.len() + payload.len());
    message.extend_from_slice(user.as_bytes());
    message.extend_from_slice(payload);
    out.extend_from_slice(&hmac(password.as_bytes(), &message));
    out.extend_from_slice(&message);
    out
}

/// An encrypted packet holding `payload`, for `user`/`password` with initialisation vector
/// `iv`. (Used by tests and the benchmark; the agent only receives.)
pub fn encrypt_packet(user: &str, password: &str, iv: [u8; 16], payload: &[u8]) -> Vec<u8> {
    let len = ENCRYPTION_OVERHEAD + user.len() + payload.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&TYPE_ENCR_AES256.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&(user.len() as u16).to_be_bytes());
    out.extend_from_slice(user.as_bytes());
    out.extend_from_slice(&iv);
    let start = out.len();
    out.extend_from_slice(&Sha1::digest(payload));
    out.extend_from_slice(payload);
    ofb_apply(password.as_bytes(), &iv, &mut out[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_file_format() {
        let a = AuthFile::parse(
            "# comment\n\n  alice:  wonderland  \nbob:pw:with:colons\nnocolon\n :nouser\nalice: again\r\n",
        );
        assert_eq!(a.len(), 2);
        assert_eq!(a.password(b"alice"), Some(&b"again"[..]));
        assert_eq!(a.password(b"bob"), Some(&b"pw:with:colons"[..]));
        assert_eq!(a.password(b"nocolon"), None);
        assert!(!format!("{a:?}").contains("again"));
    }

    #[test]
    fn hmac_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe".
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_matches(b"Jefe", b"what do ya want for nothing?", &mac));
        assert!(!hmac_matches(
            b"Jeff",
            b"what do ya want for nothing?",
            &mac
        ));
        assert!(!hmac_matches(
            b"Jefe",
            b"what do ya want for nothing?",
            &mac[..31]
        ));
    }

    #[test]
    fn ofb_round_trip_and_keystream() {
        let iv = [7u8; 16];
        let mut data = b"hello collectd".to_vec();
        ofb_apply(b"pw", &iv, &mut data);
        assert_ne!(&data[..], b"hello collectd");
        ofb_apply(b"pw", &iv, &mut data);
        assert_eq!(&data[..], b"hello collectd");
        // OFB: the first keystream block is AES(key, IV), independent of the data.
        let mut zeros = [0u8; 16];
        ofb_apply(b"pw", &iv, &mut zeros);
        use aes::cipher::{BlockEncrypt, KeyInit};
        let key = Sha256::digest(b"pw");
        let aes = Aes256::new(&key);
        let mut block = aes::Block::from(iv);
        aes.encrypt_block(&mut block);
        assert_eq!(&zeros[..], &block[..]);
    }

    #[test]
    fn sha1_check() {
        let h = Sha1::digest(b"abc");
        assert!(sha1_matches(b"abc", &h));
        assert!(!sha1_matches(b"abd", &h));
        assert!(!sha1_matches(b"abc", &h[..19]));
    }
}
