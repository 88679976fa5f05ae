//! Access keys and the AWS shared-credentials file.
//!
//! The shared-credentials format is INI: `[profile]` sections with `aws_access_key_id`,
//! `aws_secret_access_key` and optionally `aws_session_token`. Comments start with `#` or `;`.
//! Keys and section names are trimmed; later duplicates win, as in botocore.

use std::collections::BTreeMap;
use std::fmt;

/// An AWS access key pair, with an optional session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Credentials {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }
}

/// Parse an INI document into `section -> (key -> value)`.
pub fn parse_ini(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            if let Some(name) = rest.strip_suffix(']') {
                let name = name.trim().to_string();
                out.entry(name.clone()).or_default();
                current = Some(name);
            }
            continue;
        }
        if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            out.entry(section.clone())
                .or_default()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

/// Read one profile's keys out of a shared-credentials document.
///
/// Returns `None` when the profile is absent or lacks either key.
pub fn profile_from_ini(text: &str, profile: &str) -> Option<Credentials> {
    let ini = parse_ini(text);
    // The shared *config* file names sections `[profile NAME]`; accept both spellings.
    let section = ini
        .get(profile)
        .or_else(|| ini.get(&format!("profile {profile}")))?;
    let id = section.get("aws_access_key_id")?;
    let secret = section.get("aws_secret_access_key")?;
    if id.is_empty() || secret.is_empty() {
        return None;
    }
    Some(Credentials {
        access_key_id: id.clone(),
        secret_access_key: secret.clone(),
        session_token: section
            .get("aws_session_token")
            .filter(|t| !t.is_empty())
            .cloned(),
    })
}

/// Render one profile as a shared-credentials document.
pub fn to_ini(profile: &str, creds: &Credentials) -> String {
    let mut s = format!(
        "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        creds.access_key_id, creds.secret_access_key
    );
    if let Some(t) = &creds.session_token {
        s.push_str(&format!("aws_session_token = {t}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_profiles() {
        let text = "# c\n[default]\naws_access_key_id=A\naws_secret_access_key = B \n\n[profile x]\naws_access_key_id = C\naws_secret_access_key = D\naws_session_token = T\n[empty]\n";
        assert_eq!(
            profile_from_ini(text, "default"),
            Some(Credentials::new("A", "B"))
        );
        let x = profile_from_ini(text, "x").unwrap();
        assert_eq!(x.session_token.as_deref(), Some("T"));
        assert_eq!(profile_from_ini(text, "empty"), None);
        assert_eq!(profile_from_ini(text, "missing"), None);
    }

    #[test]
    fn round_trips() {
        let c = Credentials::new("AKID", "SECRET");
        assert_eq!(
            profile_from_ini(&to_ini("hostwatch", &c), "hostwatch"),
            Some(c)
        );
    }

    #[test]
    fn debug_hides_secret() {
        let c = Credentials::new("AKID", "SECRET");
        assert!(!format!("{c:?}").contains("SECRET"));
    }
}
