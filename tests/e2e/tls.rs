//! Optional TLS: the collector serves HTTPS with a given certificate; the AWS CLI trusts it
//! through `AWS_CA_BUNDLE`.

use crate::util::Collector;
use std::process::Command;

#[test]
fn serves_https_with_rustls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let c = Collector::start_with(
        &dir.path().join("data"),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        c.endpoint.starts_with("https://127.0.0.1:"),
        "{}",
        c.endpoint
    );
    let out = Command::new("aws")
        .args([
            "logs",
            "describe-log-groups",
            "--endpoint-url",
            &c.endpoint,
            "--region",
            "us-east-1",
            "--profile",
            "hostwatch",
        ])
        .env("AWS_SHARED_CREDENTIALS_FILE", c.credentials_file())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_CA_BUNDLE", &cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["logGroups"].is_array());
    // The dashboard's session cookie is Secure under TLS.
    let creds = hostwatch_aws::credentials::profile_from_ini(
        &std::fs::read_to_string(c.credentials_file()).unwrap(),
        "hostwatch",
    )
    .unwrap();
    // The certificate is self-signed (its own CA), which webpki refuses as a server certificate.
    let client = reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let signed_in = client
        .post(format!("{}/dashboard/login", c.endpoint))
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({"accessKeyId": creds.access_key_id, "secretAccessKey": creds.secret_access_key})
                .to_string(),
        )
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    // Plain HTTP to the TLS port fails.
    let plain = c.endpoint.replace("https://", "http://");
    assert!(reqwest::blocking::get(format!("{plain}/healthz"))
        .map(|r| r.status() != 200)
        .unwrap_or(true));
}
