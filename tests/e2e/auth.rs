//! Authentication as the SDKs see it, plus gzip bodies and the health check.

use crate::util::{assert_ok, Collector};
use std::io::Write;

#[test]
fn signatures_keys_and_skew() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    assert_ok(&c.python("auth.py", &[]));
    // The generated credentials file is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(c.credentials_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn cli_with_wrong_secret_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    let good = std::fs::read_to_string(c.credentials_file()).unwrap();
    let id = good
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = "))
        .unwrap()
        .to_string();
    let bad = dir.path().join("bad-credentials");
    let mut f = std::fs::File::create(&bad).unwrap();
    writeln!(
        f,
        "[hostwatch]\naws_access_key_id = {id}\naws_secret_access_key = {}",
        "y".repeat(40)
    )
    .unwrap();
    let out = std::process::Command::new("aws")
        .args([
            "cloudwatch",
            "list-metrics",
            "--endpoint-url",
            &c.endpoint,
            "--region",
            "us-east-1",
            "--profile",
            "hostwatch",
        ])
        .env("AWS_SHARED_CREDENTIALS_FILE", &bad)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
}

#[test]
fn healthz_and_gzip_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    let r = reqwest::blocking::get(format!("{}/healthz", c.endpoint)).unwrap();
    assert_eq!(r.status(), 200);
    assert_ok(&c.python("gzip_body.py", &[]));
}
