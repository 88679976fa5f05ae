//! Access keys and request authentication.
//!
//! Keys come from the configuration. When none are configured, the first start generates an
//! admin key pair and writes it to `DATA_DIR/credentials` in the AWS shared-credentials format
//! (profile `[hostwatch]`, mode 0600); later starts read that file back, so the pair is stable.
//!
//! Every request must carry a valid SigV4 signature by a known key, dated within 15 minutes of
//! the collector's clock. The error codes are the ones the SDKs expect from each service family:
//! CloudWatch (query-compatible) answers `InvalidClientTokenId` / `SignatureDoesNotMatch` /
//! `MissingAuthenticationToken` (HTTP 403); the JSON services answer `UnrecognizedClientException`
//! / `InvalidSignatureException` / `MissingAuthenticationTokenException` (HTTP 400); a clock skew
//! is reported with AWS's "Signature expired: ..." message, which botocore recognises.

use hostwatch_aws::credentials::{profile_from_ini, to_ini};
use hostwatch_aws::sigv4::{self, AuthError, SignableRequest};
use hostwatch_aws::{ApiError, Credentials, Service};
use rand::Rng;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::KeyConfig;

/// The profile name written to the generated credentials file.
pub const PROFILE: &str = "hostwatch";

/// Largest accepted difference between a request's signing time and the collector's clock.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// The set of known access keys.
#[derive(Debug, Clone, Default)]
pub struct KeyStore {
    secrets: HashMap<String, String>,
}

/// Failure to set up keys at start.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} has no [{PROFILE}] profile with both keys")]
    BadFile { path: PathBuf },
}

impl KeyStore {
    /// Keys from configuration.
    pub fn from_config(keys: &[KeyConfig]) -> Self {
        KeyStore {
            secrets: keys
                .iter()
                .map(|k| (k.access_key_id.clone(), k.secret_access_key.clone()))
                .collect(),
        }
    }

    /// Add one key.
    pub fn insert(&mut self, creds: &Credentials) {
        self.secrets
            .insert(creds.access_key_id.clone(), creds.secret_access_key.clone());
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Whether `secret_access_key` is the secret of the known key `access_key_id` (the dashboard's
    /// sign-in). The comparison does not stop at the first differing byte.
    pub fn check_secret(&self, access_key_id: &str, secret_access_key: &str) -> bool {
        self.secret(access_key_id).is_some_and(|s| {
            crate::dashboard::sessions::constant_time_eq(s.as_bytes(), secret_access_key.as_bytes())
        })
    }

    fn secret(&self, access_key_id: &str) -> Option<&str> {
        self.secrets.get(access_key_id).map(String::as_str)
    }
}

/// Load `DATA_DIR/credentials`, creating it with a fresh key pair if it does not exist.
/// Returns the credentials and whether they were just created.
pub fn ensure_admin_credentials(data_dir: &Path) -> Result<(Credentials, bool), KeyError> {
    let path = data_dir.join("credentials");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let creds =
                profile_from_ini(&text, PROFILE).ok_or(KeyError::BadFile { path: path.clone() })?;
            Ok((creds, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let creds = generate_key_pair();
            write_private(&path, to_ini(PROFILE, &creds).as_bytes()).map_err(|source| {
                KeyError::Io {
                    path: path.clone(),
                    source,
                }
            })?;
            Ok((creds, true))
        }
        Err(source) => Err(KeyError::Io { path, source }),
    }
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// A new random key pair in AWS's shape: a 20-character `AKIA...` id and a 40-character secret.
pub fn generate_key_pair() -> Credentials {
    const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    let id: String = (0..16)
        .map(|_| ID_CHARS[rng.random_range(0..ID_CHARS.len())] as char)
        .collect();
    let secret: String = (0..40)
        .map(|_| SECRET_CHARS[rng.random_range(0..SECRET_CHARS.len())] as char)
        .collect();
    Credentials::new(format!("AKIA{id}"), secret)
}

/// Who signed an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub access_key_id: String,
    pub region: String,
    /// The SigV4 scope's service name.
    pub service: String,
}

/// Authenticate a request. `service` is the family whose error codes to use when the request's
/// own service cannot be determined yet.
pub fn authenticate(
    keys: &KeyStore,
    req: &SignableRequest<'_>,
    now_ms: i64,
    family: Service,
) -> Result<Identity, ApiError> {
    let header = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str());
    let result = (|| {
        let header = header.ok_or(AuthError::Missing)?;
        let auth = sigv4::parse_authorization(header)?;
        let secret = keys
            .secret(&auth.access_key_id)
            .ok_or(AuthError::UnknownKey)?;
        let (amz_date, t) = sigv4::request_time(req)
            .ok_or_else(|| AuthError::Malformed("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".to_string()))?;
        let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        sigv4::check_skew(t, now, MAX_SKEW_SECS)?;
        sigv4::verify(req, &auth, secret, &amz_date)?;
        Ok(Identity {
            access_key_id: auth.access_key_id,
            region: auth.region,
            service: auth.service,
        })
    })();
    result.map_err(|e| auth_error(&e, family))
}

/// Map an authentication failure to the error the service family's SDKs expect.
pub fn auth_error(e: &AuthError, family: Service) -> ApiError {
    let msg = e.to_string();
    match family {
        Service::CloudWatch => {
            let code = match e {
                AuthError::Missing => "MissingAuthenticationToken",
                AuthError::Malformed(_) => "IncompleteSignature",
                AuthError::UnknownKey => "InvalidClientTokenId",
                AuthError::BadSignature
                | AuthError::Expired { .. }
                | AuthError::NotYetCurrent { .. } => "SignatureDoesNotMatch",
            };
            ApiError::cloudwatch(code, msg)
        }
        _ => {
            let code = match e {
                AuthError::Missing => "MissingAuthenticationTokenException",
                AuthError::Malformed(_) => "IncompleteSignatureException",
                AuthError::UnknownKey => "UnrecognizedClientException",
                AuthError::BadSignature
                | AuthError::Expired { .. }
                | AuthError::NotYetCurrent { .. } => "InvalidSignatureException",
            };
            ApiError::new(code, 400, msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_writes_private_credentials_once() {
        let dir = tempfile::tempdir().unwrap();
        let (a, created) = ensure_admin_credentials(dir.path()).unwrap();
        assert!(created);
        assert!(a.access_key_id.starts_with("AKIA") && a.access_key_id.len() == 20);
        assert_eq!(a.secret_access_key.len(), 40);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("credentials"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (b, created) = ensure_admin_credentials(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(a, b);
    }

    fn signed(creds: &Credentials, now_ms: i64) -> Vec<(String, String)> {
        let req = SignableRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![("host".into(), "127.0.0.1:4590".into())],
            body: b"{}",
        };
        let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap();
        let mut h = req.headers.clone();
        h.extend(sigv4::sign(&req, creds, "us-east-1", "logs", now));
        h
    }

    #[test]
    fn error_codes_per_family() {
        let good = Credentials::new("AKIDGOOD", "secret");
        let keys = KeyStore::from_config(&[KeyConfig {
            access_key_id: "AKIDGOOD".into(),
            secret_access_key: "secret".into(),
        }]);
        let now = 1_700_000_000_000;
        let check = |creds: &Credentials, signed_at: i64, family| {
            let headers = signed(creds, signed_at);
            let req = SignableRequest {
                method: "POST",
                path: "/",
                query: "",
                headers,
                body: b"{}",
            };
            authenticate(&keys, &req, now, family)
        };
        assert_eq!(check(&good, now, Service::Logs).unwrap().service, "logs");
        let e = check(&Credentials::new("AKIDGOOD", "wrong"), now, Service::Logs).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException");
        let e = check(
            &Credentials::new("AKIDOTHER", "secret"),
            now,
            Service::CloudWatch,
        )
        .unwrap_err();
        assert_eq!((e.query_code(), e.status), ("InvalidClientTokenId", 403));
        let e = check(&good, now - 16 * 60 * 1000, Service::Logs).unwrap_err();
        assert!(e.message.unwrap().starts_with("Signature expired"));
        let req = SignableRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![],
            body: b"",
        };
        assert_eq!(
            authenticate(&keys, &req, now, Service::Logs)
                .unwrap_err()
                .code,
            "MissingAuthenticationTokenException"
        );
    }
}
