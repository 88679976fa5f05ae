//! `hostwatch logs tail GROUP [--follow] [--filter PATTERN] [--since 10m] [--endpoint URL]
//! [--profile NAME] [--region REGION]`: print a log group's recent events, and with `--follow`
//! keep printing new ones as they are ingested, like `aws logs tail`.
//!
//! Recent events (the last `--since`, default 10 minutes): without `--filter`, every stream of
//! the group (DescribeLogStreams) is read with GetLogEvents from the start time, and the events
//! are merged in timestamp order; with `--filter` the pattern is evaluated by the server through
//! FilterLogEvents. Following uses a StartLiveTail session (event stream, decoded with
//! `hostwatch_aws::eventstream`) opened *before* the recent events are read, so nothing ingested
//! in between is missed; an event printed from the recent read is not printed again when the
//! session delivers it. Ctrl-C ends the session.
//!
//! Requests are signed with the agent's SigV4 client and credential chain (environment, shared
//! credentials file with `--profile` / `AWS_PROFILE`, instance role). With `--profile` the
//! environment's keys are ignored, as the AWS CLI does. Region: `--region`, else `AWS_REGION` /
//! `AWS_DEFAULT_REGION`. Endpoint: `--endpoint`, else the region's CloudWatch Logs endpoint.
//!
//! Output, one event per line: `<timestamp, ISO-8601 UTC, microseconds> <stream> <message>`.

use anyhow::{bail, Context};
use hostwatch_agent::ship::credentials::{process_env, CredentialProvider, EnvLookup};
use hostwatch_agent::ship::endpoint::static_region;
use hostwatch_agent::ship::imds::ImdsClient;
use hostwatch_agent::ship::logs::{logs_endpoint, LogsClient, LogsError};
use hostwatch_aws::eventstream::Decoder;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;

/// What to tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailOptions {
    pub group: String,
    pub follow: bool,
    pub filter: Option<String>,
    /// How far back the recent events go, in milliseconds.
    pub since_ms: i64,
    pub endpoint: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// Parse `--since`: a number with unit `s`, `m`, `h`, `d` or `w` (`10m`, `2h`).
pub fn parse_since(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .context("--since needs a unit: s, m, h, d or w (e.g. 10m)")?;
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .with_context(|| format!("--since {s:?}: expected a number followed by a unit"))?;
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        other => bail!("--since {s:?}: unknown unit {other:?} (use s, m, h, d or w)"),
    };
    n.checked_mul(unit_ms)
        .with_context(|| format!("--since {s:?} is too large"))
}

/// One output line.
pub fn format_event(timestamp_ms: i64, stream: &str, message: &str) -> String {
    let ts = chrono::DateTime::from_timestamp_millis(timestamp_ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string())
        .unwrap_or_else(|| timestamp_ms.to_string());
    format!("{ts} {stream} {}", message.trim_end_matches(['\n', '\r']))
}

/// An event to print.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Event {
    timestamp: i64,
    stream: String,
    message: String,
}

impl Event {
    fn from_json(v: &Value, stream: Option<&str>) -> Option<Event> {
        Some(Event {
            timestamp: v.get("timestamp")?.as_i64()?,
            stream: stream
                .or_else(|| v.get("logStreamName")?.as_str())?
                .to_string(),
            message: v.get("message")?.as_str()?.to_string(),
        })
    }

    fn line(&self) -> String {
        format_event(self.timestamp, &self.stream, &self.message)
    }
}

/// Run the command until done (or Ctrl-C with `--follow`).
pub fn run(opts: TailOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let client = client(&opts)?;
        let mut out = std::io::stdout().lock();
        tail(&client, &opts, &mut out).await
    })
}

/// The signed Logs client for these options.
fn client(opts: &TailOptions) -> anyhow::Result<LogsClient> {
    let base = process_env();
    let profile = opts.profile.clone();
    let env: EnvLookup = Arc::new(move |k: &str| match (&profile, k) {
        (Some(p), "AWS_PROFILE") => Some(p.clone()),
        (Some(_), "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN") => None,
        _ => base(k),
    });
    let region = static_region(opts.region.as_deref(), env.as_ref())
        .context("no AWS region: pass --region or set AWS_REGION")?;
    let endpoint = logs_endpoint(opts.endpoint.as_deref(), &region)?;
    let imds = Arc::new(ImdsClient::from_env(env.as_ref())?);
    let creds = Arc::new(CredentialProvider::new(env, imds));
    Ok(LogsClient::new(endpoint, &region, creds)?)
}

fn body(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// Print the recent events, then follow when asked.
pub async fn tail(
    client: &LogsClient,
    opts: &TailOptions,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let start = chrono::Utc::now().timestamp_millis() - opts.since_ms;
    if !opts.follow {
        for e in recent(client, opts, start).await? {
            writeln!(out, "{}", e.line())?;
        }
        out.flush()?;
        return Ok(());
    }
    let arn = group_arn(client, &opts.group).await?;
    let mut request = json!({ "logGroupIdentifiers": [arn] });
    if let Some(f) = &opts.filter {
        request["logEventFilterPattern"] = json!(f);
    }
    let mut session = client
        .call_streaming("StartLiveTail", body(&request))
        .await
        .context("StartLiveTail")?;
    let mut decoder = Decoder::new();
    // Wait for sessionStart: from then on every ingested event reaches the session.
    'opening: loop {
        let chunk = session
            .chunk()
            .await
            .context("reading the Live Tail stream")?
            .context("the Live Tail stream ended before the session started")?;
        decoder.push(&chunk);
        while let Some(m) = decoder.next_message()? {
            check_exception(&m)?;
            if m.header_str(":event-type") == Some("sessionStart") {
                break 'opening;
            }
        }
    }
    let mut shown: HashSet<Event> = HashSet::new();
    match recent(client, opts, start).await {
        Ok(events) => {
            for e in events {
                writeln!(out, "{}", e.line())?;
                shown.insert(e);
            }
        }
        Err(e) => eprintln!("hostwatch: recent events not shown: {e:#}"),
    }
    out.flush()?;
    loop {
        // Updates already received are printed before waiting for more bytes.
        while let Some(m) = decoder.next_message()? {
            check_exception(&m)?;
            if m.header_str(":event-type") != Some("sessionUpdate") {
                continue;
            }
            let update: Value =
                serde_json::from_slice(&m.payload).context("malformed sessionUpdate")?;
            if update["sessionMetadata"]["sampled"] == json!(true) {
                eprintln!("hostwatch: more than 500 events per second: showing a sample");
            }
            for v in update["sessionResults"].as_array().into_iter().flatten() {
                let Some(e) = Event::from_json(v, None) else {
                    continue;
                };
                if !shown.remove(&e) {
                    writeln!(out, "{}", e.line())?;
                }
            }
            out.flush()?;
        }
        tokio::select! {
            chunk = session.chunk() => match chunk.context("reading the Live Tail stream")? {
                Some(c) => decoder.push(&c),
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn check_exception(m: &hostwatch_aws::eventstream::Message) -> anyhow::Result<()> {
    match m.header_str(":message-type") {
        Some("exception") | Some("error") => {
            let kind = m
                .header_str(":exception-type")
                .or_else(|| m.header_str(":error-code"))
                .unwrap_or("error");
            let text = serde_json::from_slice::<Value>(&m.payload)
                .ok()
                .and_then(|v| v["message"].as_str().map(String::from))
                .or_else(|| m.header_str(":error-message").map(String::from))
                .unwrap_or_default();
            bail!("Live Tail session ended: {kind}: {text}")
        }
        _ => Ok(()),
    }
}

/// The group's ARN (StartLiveTail takes ARNs), from DescribeLogGroups.
async fn group_arn(client: &LogsClient, group: &str) -> anyhow::Result<String> {
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({ "logGroupNamePrefix": group });
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let v = client.call("DescribeLogGroups", body(&req), false).await?;
        for g in v["logGroups"].as_array().into_iter().flatten() {
            if g["logGroupName"] == json!(group) {
                if let Some(arn) = g["logGroupArn"].as_str() {
                    return Ok(arn.to_string());
                }
                if let Some(arn) = g["arn"].as_str() {
                    return Ok(arn.trim_end_matches(":*").to_string());
                }
            }
        }
        token = v["nextToken"].as_str().map(String::from);
        if token.is_none() {
            bail!("log group {group} does not exist");
        }
    }
}

/// The group's events since `start`, in timestamp order.
async fn recent(client: &LogsClient, opts: &TailOptions, start: i64) -> anyhow::Result<Vec<Event>> {
    match &opts.filter {
        Some(pattern) => filtered(client, &opts.group, start, pattern).await,
        None => all_streams(client, &opts.group, start).await,
    }
}

async fn all_streams(client: &LogsClient, group: &str, start: i64) -> anyhow::Result<Vec<Event>> {
    let mut streams = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({ "logGroupName": group });
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let v = client.call("DescribeLogStreams", body(&req), false).await?;
        for s in v["logStreams"].as_array().into_iter().flatten() {
            // Streams whose last event is older than the window have nothing to show.
            let last = s["lastEventTimestamp"].as_i64();
            if let (Some(name), Some(last)) = (s["logStreamName"].as_str(), last) {
                if last >= start {
                    streams.push(name.to_string());
                }
            }
        }
        token = v["nextToken"].as_str().map(String::from);
        if token.is_none() {
            break;
        }
    }
    let mut events = Vec::new();
    for stream in streams {
        let mut token: Option<String> = None;
        loop {
            let mut req = json!({
                "logGroupName": group,
                "logStreamName": stream,
                "startTime": start,
                "startFromHead": true,
            });
            if let Some(t) = &token {
                req["nextToken"] = json!(t);
            }
            let v = match client.call("GetLogEvents", body(&req), false).await {
                Ok(v) => v,
                // Deleted since it was listed.
                Err(e) if e.is_resource_not_found() => break,
                Err(e) => return Err(e.into()),
            };
            let page = v["events"].as_array().cloned().unwrap_or_default();
            events.extend(
                page.iter()
                    .filter_map(|e| Event::from_json(e, Some(&stream))),
            );
            let next = v["nextForwardToken"].as_str().map(String::from);
            if page.is_empty() || next.is_none() || next == token {
                break;
            }
            token = next;
        }
    }
    events.sort();
    Ok(events)
}

async fn filtered(
    client: &LogsClient,
    group: &str,
    start: i64,
    pattern: &str,
) -> anyhow::Result<Vec<Event>> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({
            "logGroupName": group,
            "startTime": start,
            "filterPattern": pattern,
        });
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let v = client
            .call("FilterLogEvents", body(&req), false)
            .await
            .map_err(|e: LogsError| anyhow::Error::new(e).context("FilterLogEvents"))?;
        events.extend(
            v["events"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| Event::from_json(e, None)),
        );
        token = v["nextToken"].as_str().map(String::from);
        if token.is_none() {
            break;
        }
    }
    events.sort();
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_durations() {
        assert_eq!(parse_since("10m").unwrap(), 600_000);
        assert_eq!(parse_since("30s").unwrap(), 30_000);
        assert_eq!(parse_since("2h").unwrap(), 7_200_000);
        assert_eq!(parse_since("1d").unwrap(), 86_400_000);
        assert_eq!(parse_since("1w").unwrap(), 604_800_000);
        for bad in ["10", "m", "10x", "-5m", "", "99999999999999999999d"] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lines() {
        assert_eq!(
            format_event(1_700_000_000_123, "host/1", "hello\n"),
            "2023-11-14T22:13:20.123000+00:00 host/1 hello"
        );
    }
}
