//! Logs Insights through the AWS CLI: events put with `put-log-events` are found by
//! `start-query` / `get-query-results`, over two log groups, and `get-log-record` on a row's `@ptr`.

use crate::util::{now_secs, wait_for, Collector};
use serde_json::json;
use std::time::Duration;

fn put(c: &Collector, group: &str, stream: &str, events: serde_json::Value) {
    c.create_log_stream(group, stream);
    c.put_log_events(group, stream, &events);
}

/// Start a query and poll get-query-results until it is Complete.
fn query(c: &Collector, groups: &[&str], start: i64, end: i64, q: &str) -> serde_json::Value {
    let (s, e) = (start.to_string(), end.to_string());
    let mut args = vec!["logs", "start-query", "--log-group-names"];
    args.extend_from_slice(groups);
    args.extend_from_slice(&["--start-time", &s, "--end-time", &e, "--query-string", q]);
    let id = c.aws_json(&args)["queryId"].as_str().unwrap().to_string();
    wait_for(Duration::from_secs(30), || {
        let r = c.aws_json(&["logs", "get-query-results", "--query-id", &id]);
        (r["status"] == "Complete").then_some(r)
    })
    .expect("query completes")
}

/// `field=value` per row, `@ptr` left out.
fn rows(r: &serde_json::Value) -> Vec<String> {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .filter(|f| f["field"] != "@ptr")
                .map(|f| {
                    format!(
                        "{}={}",
                        f["field"].as_str().unwrap(),
                        f["value"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn start_query_and_get_results_with_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    // A whole minute a few minutes ago, so every event falls in one 5-minute bin or two.
    let base = (now_secs() / 60 - 5) * 60 * 1000;
    put(
        &c,
        "/e2e/web",
        "i-1",
        json!([
            {"timestamp": base, "message": "{\"path\":\"/a\",\"status\":200,\"ms\":12}"},
            {"timestamp": base + 1000, "message": "{\"path\":\"/b\",\"status\":500,\"ms\":340}"},
            {"timestamp": base + 2000, "message": "user=alice, method:GET, latency := 15"},
            {"timestamp": base + 3000, "message": "{\"path\":\"/a\",\"status\":200,\"ms\":18}"}
        ]),
    );
    put(
        &c,
        "/e2e/api",
        "i-2",
        json!([{"timestamp": base + 1500, "message": "{\"path\":\"/a\",\"status\":404,\"ms\":3}"}]),
    );
    let (start, end) = (base / 1000 - 60, base / 1000 + 60);

    let r = query(
        &c,
        &["/e2e/web"],
        start,
        end,
        "fields @timestamp, path, status | filter ispresent(status) | sort ms desc | limit 2",
    );
    assert_eq!(
        rows(&r),
        [
            format!(
                "@timestamp={} path=/b status=500",
                chrono::DateTime::from_timestamp_millis(base + 1000)
                    .unwrap()
                    .format("%Y-%m-%d %H:%M:%S%.3f")
            ),
            format!(
                "@timestamp={} path=/a status=200",
                chrono::DateTime::from_timestamp_millis(base + 3000)
                    .unwrap()
                    .format("%Y-%m-%d %H:%M:%S%.3f")
            ),
        ]
    );
    assert_eq!(r["statistics"]["recordsScanned"], 4.0);
    assert_eq!(r["statistics"]["recordsMatched"], 3.0);
    // The row's @ptr opens the whole event with get-log-record.
    let ptr = r["results"][0]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "@ptr")
        .and_then(|f| f["value"].as_str())
        .expect("@ptr")
        .to_string();
    let rec = c.aws_json(&["logs", "get-log-record", "--log-record-pointer", &ptr]);
    let rec = &rec["logRecord"];
    assert_eq!(
        rec["@message"],
        "{\"path\":\"/b\",\"status\":500,\"ms\":340}"
    );
    assert_eq!(rec["@logStream"], "i-1");
    assert!(
        rec["@log"].as_str().unwrap().ends_with(":/e2e/web"),
        "{rec}"
    );
    assert_eq!(rec["@timestamp"], (base + 1000).to_string());
    assert_eq!(
        (&rec["path"], &rec["status"], &rec["ms"]),
        (&json!("/b"), &json!("500"), &json!("340"))
    );

    let r = query(
        &c,
        &["/e2e/web", "/e2e/api"],
        start,
        end,
        "stats count(*) as n, avg(ms) as avg by path | sort path",
    );
    assert_eq!(
        rows(&r),
        ["n=1", "path=/a n=3 avg=11", "path=/b n=1 avg=340"]
    );

    let r = query(
        &c,
        &["/e2e/web"],
        start,
        end,
        "parse @message \"user=*, method:*, latency := *\" as user, method, latency | filter ispresent(user) | display user, method, latency",
    );
    assert_eq!(rows(&r), ["user=alice method=GET latency=15"]);

    // A malformed query is refused with its position.
    let out = c.aws(&[
        "logs",
        "start-query",
        "--log-group-name",
        "/e2e/web",
        "--start-time",
        &start.to_string(),
        "--end-time",
        &end.to_string(),
        "--query-string",
        "fields @message | sort",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MalformedQueryException"), "{err}");
    assert!(
        err.contains("unexpected symbol found <EOF> at line 1 and position 23"),
        "{err}"
    );

    let d = c.aws_json(&["logs", "describe-queries", "--log-group-name", "/e2e/api"]);
    assert_eq!(d["queries"].as_array().unwrap().len(), 1);
    assert_eq!(d["queries"][0]["status"], "Complete");
}
