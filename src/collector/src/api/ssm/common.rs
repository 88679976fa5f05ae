//! Names, selectors, ARNs, AWS error shapes and page tokens shared by the SSM handlers.

use base64::Engine;
use hostwatch_aws::ApiError;

use crate::store::StoreError;

/// Most levels in a hierarchical name.
pub const MAX_LEVELS: usize = 15;
/// Longest usable name, counted with the ARN prefix as AWS counts it.
pub const MAX_NAME_WITH_ARN: usize = 1011;

/// `ValidationException`.
pub fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", 400, msg)
}

/// The "1 validation error detected" message of a constraint violation.
pub fn constraint(value: &str, at: &str, constraint: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: \
         {constraint}"
    ))
}

/// `ParameterNotFound` (AWS sends no message text with it).
pub fn not_found() -> ApiError {
    ApiError::new("ParameterNotFound", 400, "")
}

/// `ParameterVersionNotFound` for `name:selector`.
pub fn version_not_found(name: &str, selector: &str) -> ApiError {
    ApiError::new(
        "ParameterVersionNotFound",
        400,
        format!(
            "Systems Manager could not find version {selector} of {name}. Verify the version \
             and try again."
        ),
    )
}

/// `InvalidNextToken`.
pub fn invalid_token() -> ApiError {
    ApiError::new("InvalidNextToken", 400, "The specified token isn't valid.")
}

/// A storage failure.
pub fn internal(e: StoreError) -> ApiError {
    ApiError::new("InternalServerError", 500, format!("Internal error: {e}"))
}

fn invalid_name() -> ApiError {
    validation(
        "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed \
         as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be \
         formed as a mix of letters, numbers and the following 3 symbols .-_",
    )
}

/// Check a parameter name as PutParameter does (the caller trims it first).
pub fn check_name(name: &str, region: &str, account: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(constraint(
            name,
            "name",
            "Member must have length greater than or equal to 1",
        ));
    }
    if name.chars().count() > 2048 {
        return Err(constraint(
            name,
            "name",
            "Member must have length less than or equal to 2048",
        ));
    }
    let arn_len = arn(region, account, name).chars().count();
    if arn_len > MAX_NAME_WITH_ARN {
        return Err(validation(format!(
            "Parameter name: can't be longer than {MAX_NAME_WITH_ARN} characters including the \
             ARN prefix; this one is {arn_len}."
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
    {
        return Err(invalid_name());
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(invalid_name());
    }
    if name.contains('/') {
        if !name.starts_with('/') {
            return Err(validation("Parameter name must be a fully qualified name."));
        }
        if name.ends_with('/') || name.contains("//") {
            return Err(invalid_name());
        }
        if name.split('/').count() - 1 > MAX_LEVELS {
            return Err(ApiError::new(
                "HierarchyLevelLimitExceededException",
                400,
                "A hierarchy can have a maximum of 15 levels. For more information, see \
                 Requirements and constraints for parameter names in the AWS Systems Manager \
                 User Guide.",
            ));
        }
    }
    Ok(())
}

/// Check a path as GetParametersByPath and the `Path` filter take it.
pub fn check_path(path: &str) -> Result<(), ApiError> {
    let bad = || {
        validation(
            "The parameter doesn't meet the parameter name requirements. The parameter name \
             must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" \
             (case-insensitive). It must use only letters, numbers, or the following symbols: . \
             (period), - (hyphen), _ (underscore). Special characters are not allowed. All \
             sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: \
             /get/parameters2-/by1./path0_.",
        )
    };
    if !path.starts_with('/')
        || path.contains("//")
        || !path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
    {
        return Err(bad());
    }
    let first = path.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(bad());
    }
    Ok(())
}

/// `true` when `name` lies under `path` (one level, or any depth when `recursive`). A name
/// without a leading slash counts as a child of `/`.
pub fn under_path(name: &str, path: &str, recursive: bool) -> bool {
    let base = path.trim_end_matches('/');
    let full;
    let name = if name.starts_with('/') {
        name
    } else {
        full = format!("/{name}");
        &full
    };
    match name.strip_prefix(base).and_then(|r| r.strip_prefix('/')) {
        Some(rest) if !rest.is_empty() => recursive || !rest.contains('/'),
        _ => false,
    }
}

/// The ARN of parameter `name`.
pub fn arn(region: &str, account: &str, name: &str) -> String {
    if name.starts_with('/') {
        format!("arn:aws:ssm:{region}:{account}:parameter{name}")
    } else {
        format!("arn:aws:ssm:{region}:{account}:parameter/{name}")
    }
}

/// A name as given to GetParameter: `NAME`, `NAME:VERSION`, `NAME:LABEL`, or an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// The name, or for an ARN the candidates: with a leading slash, then without.
    pub names: Vec<String>,
    pub selector: Option<Selector>,
}

/// The part after the last `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Version(i64),
    Label(String),
}

impl Selector {
    /// As AWS echoes it in `Parameter.Selector`: `:3`, `:prod`.
    pub fn echo(&self) -> String {
        match self {
            Selector::Version(v) => format!(":{v}"),
            Selector::Label(l) => format!(":{l}"),
        }
    }
}

/// Split a GetParameter name into name(s) and selector.
pub fn parse_selected(raw: &str) -> Selected {
    let raw = raw.trim();
    let (body, selector) = if let Some(rest) = raw.strip_prefix("arn:") {
        // arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME[:SELECTOR]
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        match parts.get(4).and_then(|r| r.strip_prefix("parameter/")) {
            Some(tail) => {
                let (n, s) = split_selector(tail);
                let names = vec![format!("/{n}"), n.to_string()];
                return Selected { names, selector: s };
            }
            None => (raw, None),
        }
    } else {
        let (n, s) = split_selector(raw);
        (n, s)
    };
    Selected {
        names: vec![body.to_string()],
        selector,
    }
}

fn split_selector(s: &str) -> (&str, Option<Selector>) {
    match s.rsplit_once(':') {
        Some((name, sel)) if !sel.is_empty() => {
            let selector = match sel.parse::<i64>() {
                Ok(v) => Selector::Version(v),
                Err(_) => Selector::Label(sel.to_string()),
            };
            (name, Some(selector))
        }
        _ => (s, None),
    }
}

/// An opaque page token naming the last item of the previous page.
pub fn make_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("p1:{last}"))
}

/// Read a token made by [`make_token`].
pub fn read_token(token: &str) -> Result<String, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("p1:").map(str::to_string))
        .ok_or_else(invalid_token)
}

/// Check `MaxResults` against `1..=max`; `None` gives `default`.
pub fn max_results(v: Option<i64>, max: i64, default: i64) -> Result<usize, ApiError> {
    match v {
        None => Ok(default as usize),
        Some(n) if n < 1 => Err(constraint(
            &n.to_string(),
            "maxResults",
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > max => Err(constraint(
            &n.to_string(),
            "maxResults",
            &format!("Member must have value less than or equal to {max}"),
        )),
        Some(n) => Ok(n as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let ok = |n: &str| check_name(n, "us-east-1", "000000000000");
        assert!(ok("plain").is_ok());
        assert!(ok("/a/b/c-d_e.f").is_ok());
        for bad in ["a b", "/aws/x", "SSM-x", "AWSx", "/a//b", "/a/"] {
            assert_eq!(ok(bad).unwrap_err().code, "ValidationException", "{bad}");
        }
        assert_eq!(
            ok("a/b").unwrap_err().message.as_deref(),
            Some("Parameter name must be a fully qualified name.")
        );
        let deep = "/l".repeat(16);
        assert_eq!(
            ok(&deep).unwrap_err().code,
            "HierarchyLevelLimitExceededException"
        );
        assert!(ok(&"/l".repeat(15)).is_ok());
        assert_eq!(ok("").unwrap_err().code, "ValidationException");
        assert_eq!(
            ok(&"x".repeat(1000)).unwrap_err().code,
            "ValidationException"
        );
    }

    #[test]
    fn paths_and_membership() {
        assert!(check_path("/a/b").is_ok());
        assert!(check_path("/").is_ok());
        assert!(check_path("a").is_err());
        assert!(check_path("/aws").is_err());
        assert!(under_path("/a/b", "/a", false));
        assert!(under_path("/a/b", "/a/", false));
        assert!(!under_path("/a/b/c", "/a", false));
        assert!(under_path("/a/b/c", "/a", true));
        assert!(!under_path("/ab", "/a", true));
        assert!(!under_path("/a", "/a", true));
        assert!(under_path("top", "/", false));
        assert!(under_path("/x", "/", false));
    }

    #[test]
    fn selectors_and_arns() {
        assert_eq!(
            parse_selected("/a/b:3"),
            Selected {
                names: vec!["/a/b".into()],
                selector: Some(Selector::Version(3))
            }
        );
        assert_eq!(
            parse_selected("x:prod").selector,
            Some(Selector::Label("prod".into()))
        );
        assert_eq!(parse_selected(" x ").names, vec!["x".to_string()]);
        let a = arn("us-east-1", "1", "/a/b");
        assert_eq!(a, "arn:aws:ssm:us-east-1:1:parameter/a/b");
        assert_eq!(arn("r", "1", "x"), "arn:aws:ssm:r:1:parameter/x");
        let s = parse_selected(&format!("{a}:2"));
        assert_eq!(s.names, vec!["/a/b".to_string(), "a/b".to_string()]);
        assert_eq!(s.selector, Some(Selector::Version(2)));
    }

    #[test]
    fn tokens_and_limits() {
        assert_eq!(read_token(&make_token("/a/b")).unwrap(), "/a/b");
        assert_eq!(read_token("garbage!").unwrap_err().code, "InvalidNextToken");
        assert_eq!(max_results(None, 10, 10).unwrap(), 10);
        assert_eq!(
            max_results(Some(0), 10, 10).unwrap_err().code,
            "ValidationException"
        );
        assert_eq!(
            max_results(Some(11), 10, 10)
                .unwrap_err()
                .message
                .as_deref(),
            Some(
                "1 validation error detected: Value '11' at 'maxResults' failed to satisfy \
                 constraint: Member must have value less than or equal to 10"
            )
        );
    }
}
