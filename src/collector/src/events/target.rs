//! Target kinds, named by ARN-like strings, and how each one is delivered to.
//!
//! | kind | `Arn` | delivery |
//! |---|---|---|
//! | HTTP endpoint | `arn:hostwatch:http:::http[s]://HOST[:PORT]/PATH` | `POST` of the payload with `Content-Type: application/json` and the target's `HttpParameters.HeaderParameters`; any 2xx answer within 5 s is success (redirects are not followed). `https://` is verified against the WebPKI roots plus the collector's `events.target_ca_bundle` (see [`http_client`]). |
//! | log group of this collector | `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]` | one log event (timestamp = event ingestion time) in a stream named after the rule, in the existing group; the stream is created when missing |
//! | event bus of this collector | `arn:aws:events:REGION:ACCOUNT:event-bus/NAME` | the original event is put on that bus (input options do not apply) |
//! | local command | `arn:hostwatch:command:::/ABS/PROGRAM [ARG ...]` | the program runs directly (no shell; arguments split on spaces), the payload on its stdin; exit status 0 within 10 s is success, otherwise it is killed |
//! | JSON-lines file | `arn:hostwatch:file:::/ABS/PATH` | the payload is appended as one line (a non-JSON payload is written as a JSON string) |
//!
//! A dead-letter ARN may name a log group or a file; the record written there is
//! `{"event": <event>, "rule": <rule ARN>, "target": <id>, "attempts": n, "error": "..."}`.

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// Timeout of one HTTP delivery.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Timeout of one command run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

const HTTP: &str = "arn:hostwatch:http:::";
const COMMAND: &str = "arn:hostwatch:command:::";
const FILE: &str = "arn:hostwatch:file:::";

/// A parsed target ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// An `http://` or `https://` URL.
    Http(String),
    LogGroup(String),
    Bus(String),
    Command(Vec<String>),
    File(PathBuf),
}

/// Parse a target ARN; the error says why it is not usable.
pub fn parse(arn: &str) -> Result<TargetKind, String> {
    if let Some(url) = arn.strip_prefix(HTTP) {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("malformed URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http:// and https:// endpoints are supported".to_string());
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("malformed URL: no host".to_string());
        }
        return Ok(TargetKind::Http(parsed.to_string()));
    }
    if let Some(cmd) = arn.strip_prefix(COMMAND) {
        let argv: Vec<String> = cmd
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        return match argv.first() {
            Some(p) if p.starts_with('/') => Ok(TargetKind::Command(argv)),
            _ => Err("the command must be an absolute path".to_string()),
        };
    }
    if let Some(path) = arn.strip_prefix(FILE) {
        return if path.starts_with('/') {
            Ok(TargetKind::File(PathBuf::from(path)))
        } else {
            Err("the file must be an absolute path".to_string())
        };
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "logs", _, _, rest] => {
            let name = rest
                .strip_prefix("log-group:")
                .ok_or_else(|| "not a log group ARN".to_string())?;
            let name = name.strip_suffix(":*").unwrap_or(name);
            if name.is_empty() {
                return Err("empty log group name".to_string());
            }
            Ok(TargetKind::LogGroup(name.to_string()))
        }
        ["arn", _, "events", _, _, rest] => match rest.strip_prefix("event-bus/") {
            Some(name) if !name.is_empty() => Ok(TargetKind::Bus(name.to_string())),
            _ => Err("not an event bus ARN".to_string()),
        },
        _ => Err("unsupported target type".to_string()),
    }
}

/// Writes log events into this collector's Logs store.
pub trait LogSink: Send + Sync + std::fmt::Debug {
    /// Append one event to `group`/`stream`, creating the stream when missing.
    fn put<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
        timestamp_ms: i64,
        message: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// The HTTP client of HTTP targets: [`HTTP_TIMEOUT`] per delivery, connections kept alive
/// between deliveries, `https://` verified against the WebPKI roots plus every certificate of
/// `extra_ca_pem` (a PEM bundle; `events.target_ca_bundle` in the collector's config).
pub fn http_client(extra_ca_pem: Option<&[u8]>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .user_agent("hostwatch-events")
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = extra_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("not a PEM certificate bundle: {e}"))?;
        if certs.is_empty() {
            return Err("no certificate in the bundle".to_string());
        }
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder.build().map_err(|e| e.to_string())
}

/// POST `body` to an HTTP endpoint; success is a 2xx answer within [`HTTP_TIMEOUT`].
pub async fn http_post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> Result<(), String> {
    let mut req = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let answer = req.body(body.to_string()).send().await.map_err(|e| {
        if e.is_timeout() {
            "HTTP delivery timed out".to_string()
        } else {
            // The error's source chain holds the useful part (refused, certificate, ...).
            let e = e.without_url();
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    })?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP status {}", status.as_u16()))
    }
}

/// Run `argv` with `input` on stdin; success is exit status 0 within [`COMMAND_TIMEOUT`].
pub async fn run_command(argv: Vec<String>, input: String) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let (prog, args) = argv.split_first().ok_or("empty command")?;
        let mut child = std::process::Command::new(prog)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {prog}: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A program that exits without reading its input is not an error here.
            let _ = stdin.write_all(input.as_bytes());
        }
        let deadline = std::time::Instant::now() + COMMAND_TIMEOUT;
        loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) if status.success() => return Ok(()),
                Some(status) => return Err(format!("{prog} exited with {status}")),
                None if std::time::Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{prog} timed out"));
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The payload as one line of JSON.
pub fn json_line(payload: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(v) => v.to_string(),
        Err(_) => serde_json::Value::String(payload.to_string()).to_string(),
    }
}

/// Append one line to `path`.
pub async fn append_line(path: PathBuf, line: String) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        f.write_all(format!("{line}\n").as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(|e| format!("{}: {e}", path.display()))
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_target_arns() {
        let table: &[(&str, Result<TargetKind, ()>)] = &[
            (
                "arn:hostwatch:http:::http://127.0.0.1:8080/hook",
                Ok(TargetKind::Http("http://127.0.0.1:8080/hook".into())),
            ),
            (
                "arn:hostwatch:http:::http://example",
                Ok(TargetKind::Http("http://example/".into())),
            ),
            (
                "arn:hostwatch:http:::https://example:8443/x?a=1",
                Ok(TargetKind::Http("https://example:8443/x?a=1".into())),
            ),
            ("arn:hostwatch:http:::ftp://example/x", Err(())),
            ("arn:hostwatch:http:::http://", Err(())),
            ("arn:hostwatch:http:::http://a b/", Err(())),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:/app/x:*",
                Ok(TargetKind::LogGroup("/app/x".into())),
            ),
            (
                "arn:aws:events:us-east-1:123456789012:event-bus/b1",
                Ok(TargetKind::Bus("b1".into())),
            ),
            (
                "arn:hostwatch:command:::/bin/cat -u",
                Ok(TargetKind::Command(vec!["/bin/cat".into(), "-u".into()])),
            ),
            ("arn:hostwatch:command:::cat", Err(())),
            (
                "arn:hostwatch:file:::/tmp/x.jsonl",
                Ok(TargetKind::File("/tmp/x.jsonl".into())),
            ),
            ("arn:aws:sqs:us-east-1:123456789012:q", Err(())),
        ];
        for (arn, want) in table {
            assert_eq!(parse(arn).map_err(|_| ()), *want, "{arn}");
        }
    }

    /// Serve one request on loopback answering `status`; returns the raw request.
    async fn serve_once(status: u16) -> (u16, tokio::task::JoinHandle<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_string)
                        })
                        .unwrap()
                        .parse()
                        .unwrap();
                    if body.len() >= len {
                        break;
                    }
                }
            }
            let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
            s.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8(req).unwrap()
        });
        (port, task)
    }

    #[tokio::test]
    async fn http_post_sends_headers_and_body() {
        let client = http_client(None).unwrap();
        let (port, task) = serve_once(204).await;
        let headers = vec![("X-Key".to_string(), "v1".to_string())];
        let url = format!("http://127.0.0.1:{port}/hook?a=1");
        http_post(&client, &url, &headers, "{\"a\":1}")
            .await
            .unwrap();
        let req = task.await.unwrap();
        let lower = req.to_ascii_lowercase();
        assert!(req.starts_with("POST /hook?a=1 HTTP/1.1\r\n"), "{req}");
        assert!(lower.contains("\r\nx-key: v1\r\n"), "{req}");
        assert!(lower.contains("content-type: application/json"), "{req}");
        assert!(lower.contains("user-agent: hostwatch-events"), "{req}");
        assert!(req.ends_with("\r\n\r\n{\"a\":1}"), "{req}");
        let (port, task) = serve_once(500).await;
        let url = format!("http://127.0.0.1:{port}/");
        let err = http_post(&client, &url, &[], "{}").await.unwrap_err();
        assert_eq!(err, "HTTP status 500");
        task.await.unwrap();
    }

    /// Run openssl; panics with its stderr on failure.
    fn openssl(args: &[&str], dir: &std::path::Path) {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A CA and a server certificate for 127.0.0.1 signed by it, made with openssl.
    fn make_certs(dir: &std::path::Path) {
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=hostwatch test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
            dir,
        );
        openssl(
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
            dir,
        );
        std::fs::write(
            dir.join("ext.cnf"),
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n\
             extendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "ext.cnf",
                "-out",
                "server.pem",
            ],
            dir,
        );
    }

    #[tokio::test]
    async fn https_targets_verify_the_server_against_the_extra_ca() {
        let dir = tempfile::tempdir().unwrap();
        make_certs(dir.path());
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(
            dir.path().join("server.pem"),
            dir.path().join("server.key"),
        )
        .await
        .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |h: axum::http::HeaderMap, body: String| {
                let tx = tx.clone();
                async move {
                    let key = h.get("x-key").and_then(|v| v.to_str().ok()).unwrap_or("");
                    let _ = tx.send((key.to_string(), body));
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(listener, tls).handle(handle.clone());
        tokio::spawn(async move { server.serve(app.into_make_service()).await });
        let url = format!("https://127.0.0.1:{port}/hook");
        let headers = vec![("X-Key".to_string(), "v1".to_string())];

        let untrusted = http_client(None).unwrap();
        let err = http_post(&untrusted, &url, &headers, "{}")
            .await
            .unwrap_err();
        assert!(err.to_ascii_lowercase().contains("certificate"), "{err}");
        assert!(rx.try_recv().is_err());

        let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
        let trusted = http_client(Some(&pem)).unwrap();
        http_post(&trusted, &url, &headers, "{\"a\":1}")
            .await
            .unwrap();
        assert_eq!(
            rx.recv().await.unwrap(),
            ("v1".to_string(), "{\"a\":1}".to_string())
        );
        assert!(http_client(Some(b"not pem")).is_err());
        handle.shutdown();
    }

    #[tokio::test]
    async fn commands_get_the_payload_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.txt");
        let tee = ["/usr/bin/tee", "/bin/tee"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap();
        run_command(
            vec![tee.to_string(), out.display().to_string()],
            "{\"x\":1}".to_string(),
        )
        .await
        .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"x\":1}");
        let missing = run_command(vec!["/nonexistent/prog".to_string()], String::new()).await;
        assert!(missing
            .unwrap_err()
            .starts_with("cannot run /nonexistent/prog"));
        let false_bin = ["/usr/bin/false", "/bin/false"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap();
        assert!(run_command(vec![false_bin.to_string()], String::new())
            .await
            .unwrap_err()
            .contains("exited with"));
    }

    #[test]
    fn json_lines() {
        assert_eq!(json_line("{ \"a\" : 1 }"), r#"{"a":1}"#);
        assert_eq!(json_line("two\nlines"), r#""two\nlines""#);
    }
}
