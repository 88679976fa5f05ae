//! Target kinds, named by ARN-like strings, and how each one is delivered to.
//!
//! | kind | `Arn` | delivery |
//! |---|---|---|
//! | HTTP endpoint | `arn:hostwatch:http:::http://HOST[:PORT]/PATH` | `POST` of the payload with `Content-Type: application/json` and the target's `HttpParameters.HeaderParameters`; any 2xx answer within 5 s is success. Only plain `http://` URLs. |
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
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    Http {
        host: String,
        port: u16,
        path: String,
    },
    LogGroup(String),
    Bus(String),
    Command(Vec<String>),
    File(PathBuf),
}

/// Parse a target ARN; the error says why it is not usable.
pub fn parse(arn: &str) -> Result<TargetKind, String> {
    if let Some(url) = arn.strip_prefix(HTTP) {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| "only http:// endpoints are supported".to_string())?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("bad port in {authority}"))?,
            ),
            _ => (authority, 80),
        };
        if host.is_empty()
            || path
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err("malformed URL".to_string());
        }
        return Ok(TargetKind::Http {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            path: path.to_string(),
        });
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

/// POST `body` to an HTTP endpoint.
pub async fn http_post(
    host: &str,
    port: u16,
    path: &str,
    headers: &[(String, String)],
    body: &str,
) -> Result<(), String> {
    let run = async {
        let mut s = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("connect {host}:{port}: {e}"))?;
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\nUser-Agent: hostwatch-events\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(body.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut head = Vec::with_capacity(256);
        let mut buf = [0u8; 256];
        while !head.windows(2).any(|w| w == b"\r\n") {
            let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 || head.len() > 8192 {
                return Err("no HTTP status line in the answer".to_string());
            }
            head.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
        let line = String::from_utf8_lossy(&head);
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| "malformed HTTP status line".to_string())?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("HTTP status {status}"))
        }
    };
    tokio::time::timeout(HTTP_TIMEOUT, run)
        .await
        .map_err(|_| "HTTP delivery timed out".to_string())?
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
                Ok(TargetKind::Http {
                    host: "127.0.0.1".into(),
                    port: 8080,
                    path: "/hook".into(),
                }),
            ),
            (
                "arn:hostwatch:http:::http://example",
                Ok(TargetKind::Http {
                    host: "example".into(),
                    port: 80,
                    path: "/".into(),
                }),
            ),
            ("arn:hostwatch:http:::https://example/x", Err(())),
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
                        .find_map(|l| l.strip_prefix("Content-Length: "))
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
        let (port, task) = serve_once(204).await;
        let headers = vec![("X-Key".to_string(), "v1".to_string())];
        http_post("127.0.0.1", port, "/hook?a=1", &headers, "{\"a\":1}")
            .await
            .unwrap();
        let req = task.await.unwrap();
        assert!(req.starts_with("POST /hook?a=1 HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("\r\nX-Key: v1\r\n"), "{req}");
        assert!(req.contains("Content-Type: application/json"), "{req}");
        assert!(req.ends_with("\r\n\r\n{\"a\":1}"), "{req}");
        let (port, task) = serve_once(500).await;
        let err = http_post("127.0.0.1", port, "/", &[], "{}")
            .await
            .unwrap_err();
        assert_eq!(err, "HTTP status 500");
        task.await.unwrap();
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
