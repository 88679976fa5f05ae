//! Dashboard sign-in sessions.
//!
//! A browser signs in once with an access key pair from the collector's key store and gets a
//! session cookie; the secret key is checked and then forgotten (never stored in a session, never
//! sent back, never logged). Sessions live in memory only: a collector restart signs everyone
//! out, which is the safe failure.
//!
//! Invariants:
//! - a session id is 32 random bytes (hex), unguessable, and is only ever sent in the
//!   `HttpOnly; SameSite=Strict` cookie (plus `Secure` when the collector serves TLS);
//! - each session has its own CSRF token (32 random bytes, hex), which the page reads from
//!   `GET /dashboard/session` and sends back in the `X-Hostwatch-Csrf` header on every API call;
//! - a session expires [`SESSION_TTL_MS`] after sign-in (by the collector's clock) and is
//!   dropped on sign-out; expired sessions are purged whenever a session is created;
//! - at most [`MAX_SESSIONS`] sessions are kept; creating one more evicts the oldest.

use std::collections::HashMap;
use std::sync::Mutex;

/// Name of the session cookie.
pub const COOKIE: &str = "hw_session";
/// Header that carries the per-session CSRF token on API calls.
pub const CSRF_HEADER: &str = "x-hostwatch-csrf";
/// A session's lifetime from sign-in: 12 hours.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// Bound on sessions held in memory.
pub const MAX_SESSIONS: usize = 10_000;

/// One signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_key_id: String,
    pub csrf_token: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// The collector's dashboard sessions.
#[derive(Debug)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
    /// Mark cookies `Secure` (the collector serves TLS).
    secure: bool,
}

fn random_hex() -> String {
    let b: [u8; 32] = rand::random();
    hex::encode(b)
}

impl Sessions {
    pub fn new(secure: bool) -> Self {
        Sessions {
            by_id: Mutex::new(HashMap::new()),
            secure,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start a session for `access_key_id` (already verified). Returns its id and the session.
    pub fn create(&self, access_key_id: &str, now_ms: i64) -> (String, Session) {
        let id = random_hex();
        let session = Session {
            access_key_id: access_key_id.to_string(),
            csrf_token: random_hex(),
            created_ms: now_ms,
            expires_ms: now_ms.saturating_add(SESSION_TTL_MS),
        };
        let mut map = self.lock();
        map.retain(|_, s| s.expires_ms > now_ms);
        while map.len() >= MAX_SESSIONS {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.created_ms)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        map.insert(id.clone(), session.clone());
        (id, session)
    }

    /// The live session with this id, if any.
    pub fn get(&self, id: &str, now_ms: i64) -> Option<Session> {
        let mut map = self.lock();
        match map.get(id) {
            Some(s) if s.expires_ms > now_ms => Some(s.clone()),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// End a session (sign-out). Unknown ids are ignored.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The `Set-Cookie` value that stores `id` in the browser until `expires_ms`.
    pub fn set_cookie(&self, id: &str, now_ms: i64, expires_ms: i64) -> String {
        let max_age = ((expires_ms - now_ms) / 1000).max(0);
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
    }

    /// The `Set-Cookie` value that deletes the session cookie.
    pub fn clear_cookie(&self) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
    }
}

/// The session id from a `Cookie` header value (`a=b; hw_session=ID; ...`).
pub fn cookie_session_id(cookie_header: &str) -> Option<&str> {
    cookie_header.split(';').find_map(|part| {
        let (name, value) = part.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then_some(value)
    })
}

/// Compare two secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_sign_out() {
        let s = Sessions::new(false);
        let t0 = 1_700_000_000_000;
        let (id, sess) = s.create("AKIDX", t0);
        assert_eq!(id.len(), 64);
        assert_eq!(sess.csrf_token.len(), 64);
        assert_ne!(id, sess.csrf_token);
        assert_eq!(s.get(&id, t0 + 1).unwrap().access_key_id, "AKIDX");
        assert!(s.get(&id, t0 + SESSION_TTL_MS).is_none(), "expired");
        let (id2, _) = s.create("AKIDX", t0);
        assert_ne!(id, id2, "random ids");
        s.remove(&id2);
        assert!(s.get(&id2, t0).is_none(), "signed out");
        assert!(s.get("nope", t0).is_none());
    }

    #[test]
    fn cookie_attributes() {
        let plain = Sessions::new(false).set_cookie("abc", 0, 3_600_000);
        assert_eq!(
            plain,
            "hw_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"
        );
        let tls = Sessions::new(true);
        assert!(tls.set_cookie("abc", 0, 1000).ends_with("; Secure"));
        assert!(tls.clear_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn cookie_header_parsing() {
        assert_eq!(cookie_session_id("hw_session=abc"), Some("abc"));
        assert_eq!(cookie_session_id("x=1; hw_session=abc; y=2"), Some("abc"));
        assert_eq!(cookie_session_id("hw_session="), None);
        assert_eq!(cookie_session_id("other=abc"), None);
        assert_eq!(cookie_session_id("xhw_session=abc"), None);
    }

    #[test]
    fn session_count_is_bounded() {
        let s = Sessions::new(false);
        let (first, _) = s.create("A", 0);
        for i in 1..=MAX_SESSIONS as i64 {
            s.create("A", i);
        }
        assert!(s.get(&first, 10).is_none(), "oldest evicted");
        assert_eq!(s.lock().len(), MAX_SESSIONS);
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
