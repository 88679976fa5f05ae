//! Query tests: every AWS example parses, and queries over a fixed data set return
//! hand-checked rows.

use std::borrow::Cow;

use super::*;

const EXAMPLES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/logs-insights/example-queries.json"
));

#[test]
fn every_aws_example_query_parses() {
    let doc: serde_json::Value = serde_json::from_str(EXAMPLES).unwrap();
    let queries = doc["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 51);
    for q in queries {
        let text = q["query"].as_str().unwrap();
        if let Err(e) = parse(text) {
            panic!("{text:?} does not parse: {e}");
        }
    }
}

/// 2026-12-07 04:00:00 UTC.
const T0: i64 = 1_796_616_000_000;
const MIN: i64 = 60_000;

/// (group, stream, minutes after T0, message)
const DATA: &[(&str, &str, i64, &str)] = &[
    (
        "app",
        "web-1",
        0,
        r#"{"level":"INFO","status":200,"latency":120,"path":"/a","user":{"id":"u1"},"tags":["x","y"]}"#,
    ),
    (
        "app",
        "web-1",
        2,
        r#"{"level":"INFO","status":200,"latency":80,"path":"/b","user":{"id":"u2"}}"#,
    ),
    ("app", "web-2", 3, "[ERROR] db timeout after 3000 ms"),
    (
        "app",
        "web-1",
        6,
        r#"{"level":"WARN","status":404,"latency":15,"path":"/a","user":{"id":"u1"}}"#,
    ),
    (
        "app",
        "web-2",
        7,
        r#"{"level":"ERROR","status":500,"latency":900,"path":"/c","user":{"id":"u3"}}"#,
    ),
    ("app", "web-2", 9, "[INFO] cache warmed in 42 ms"),
    (
        "app",
        "web-1",
        11,
        r#"{"level":"INFO","status":200,"latency":100,"path":"/a","user":{"id":"u2"}}"#,
    ),
    (
        "app",
        "web-2",
        12,
        r#"{"level":"ERROR","status":503,"latency":300,"path":"/b"}"#,
    ),
    ("api", "api-1", 1, "user=alice, method:GET, latency := 15"),
    ("api", "api-1", 4, "user=bob, method:POST, latency := 40"),
    ("api", "api-1", 8, "user=alice, method:GET, latency := 25"),
    (
        "api",
        "api-1",
        13,
        "user=carol, method:DELETE, latency := 5",
    ),
];

fn run_on(query: &str, groups: &[&str], max_rows: usize) -> Output {
    let q = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut ex = Executor::new(&q, max_rows);
    for (i, (g, s, m, msg)) in DATA.iter().enumerate() {
        if !groups.contains(g) {
            continue;
        }
        ex.push(Event {
            timestamp: T0 + m * MIN,
            ingestion_time: T0 + m * MIN + 500,
            message: Cow::Borrowed(msg),
            log_stream: Cow::Borrowed(s),
            log: Cow::Owned(format!("123456789012:{g}")),
            ptr: (1, 2, i as i64),
        });
    }
    ex.finish()
}

/// Rows as `field=value` strings, without `@ptr`.
fn run(query: &str, groups: &[&str]) -> Vec<String> {
    run_on(query, groups, 1000)
        .rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .filter(|(f, _)| f != "@ptr")
                .map(|(f, v)| format!("{f}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn fields_filter_sort_limit() {
    assert_eq!(
        run(
            "fields @timestamp, status, path | filter status >= 400 | sort latency desc | limit 2",
            &["app"]
        ),
        [
            "@timestamp=2026-12-07 04:07:00.000 status=500 path=/c",
            "@timestamp=2026-12-07 04:12:00.000 status=503 path=/b",
        ]
    );
    // Nested JSON fields, `in`, `not like`, default order newest first.
    assert_eq!(
        run(
            "filter user.id in [\"u1\", \"u3\"] and path not like /c/ | fields user.id, latency * 2 as twice",
            &["app"]
        ),
        [
            "user.id=u1 twice=30",
            "user.id=u1 twice=240",
        ]
    );
    // Arrays flatten with their index; text lines have no such field.
    assert_eq!(
        run(
            "filter ispresent(tags.1) | display tags.0, tags.1",
            &["app"]
        ),
        ["tags.0=x tags.1=y"]
    );
    // A query without fields shows every field; every event row carries @ptr.
    let out = run_on("filter @message like \"cache\"", &["app"], 1000);
    assert_eq!(out.rows.len(), 1);
    let names: Vec<&str> = out.rows[0].iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        names,
        [
            "@timestamp",
            "@message",
            "@logStream",
            "@log",
            "@ingestionTime",
            "@ptr"
        ]
    );
    assert_eq!(out.rows[0][3].1, "123456789012:app");
    assert_eq!(out.rows[0][4].1, "2026-12-07 04:09:00.500");
    assert_eq!(
        out.statistics,
        Statistics {
            records_matched: 1,
            records_scanned: 8,
            bytes_scanned: DATA
                .iter()
                .filter(|d| d.0 == "app")
                .map(|d| d.3.len() as u64)
                .sum(),
        }
    );
    // The StartQuery limit caps the rows.
    assert_eq!(run_on("fields @message", &["app"], 3).rows.len(), 3);
}

#[test]
fn stats_count_by_bin() {
    assert_eq!(
        run("stats count(*) by bin(5m)", &["app"]),
        [
            "bin(5m)=2026-12-07 04:00:00.000 count(*)=3",
            "bin(5m)=2026-12-07 04:05:00.000 count(*)=3",
            "bin(5m)=2026-12-07 04:10:00.000 count(*)=2",
        ]
    );
    assert_eq!(
        run(
            "filter @message like /ERROR/ | stats count(*) as errors by bin(10m) as t | sort t desc",
            &["app"]
        ),
        ["t=2026-12-07 04:10:00.000 errors=1", "t=2026-12-07 04:00:00.000 errors=2"]
    );
    // No rows still yields a count of 0 without `by`.
    assert_eq!(run("filter x = 1 | stats count(*) as n", &["app"]), ["n=0"]);
}

#[test]
fn stats_pct_avg_by_field() {
    assert_eq!(
        run(
            "filter ispresent(latency) | stats avg(latency) as avg, pct(latency, 50) as p50, max(latency), count(*) as n by path | sort n desc, path",
            &["app"]
        ),
        [
            "path=/a avg=78.33333333333333 p50=100 max(latency)=120 n=3",
            "path=/b avg=190 p50=80 max(latency)=300 n=2",
            "path=/c avg=900 p50=900 max(latency)=900 n=1",
        ]
    );
    assert_eq!(
        run(
            "stats sum(status) as s, min(latency) as lo, max(latency) as hi, hi - lo as spread, count_distinct(user.id) as users, stddev(latency) as sd, count(level) as leveled",
            &["app"]
        ),
        ["s=2007 lo=15 hi=900 spread=885 users=3 sd=331.2061291703401 leveled=6"]
    );
    assert_eq!(
        run(
            "stats earliest(path) as first, latest(path) as last, sortsFirst(path) as sf",
            &["app"]
        ),
        ["first=/a last=/b sf=/a"]
    );
    // A second stats command aggregates the first one's rows.
    assert_eq!(
        run(
            "stats count(*) as n by path | stats max(n) as most, count(*) as paths",
            &["app"]
        ),
        // Events without a path form a group of their own.
        ["most=3 paths=4"]
    );
}

#[test]
fn parse_glob_and_regex() {
    assert_eq!(
        run(
            "parse @message \"user=*, method:*, latency := *\" as @user, @method, @latency | stats avg(@latency) as avg, count(*) as n by @method",
            &["api"]
        ),
        ["@method=DELETE avg=5 n=1", "@method=GET avg=20 n=2", "@method=POST avg=40 n=1"]
    );
    assert_eq!(
        run(
            "parse @message /user=(?<who>\\w+), method:(?<verb>[A-Z]+)/ | filter verb = \"GET\" | fields who, verb | sort @timestamp asc",
            &["api"]
        ),
        ["who=alice verb=GET", "who=alice verb=GET"]
    );
    // Text lines parsed with a glob; events that do not match keep no extracted field.
    assert_eq!(
        run(
            "parse \"[*] *\" as lvl, rest | filter ispresent(lvl) | display lvl, strlen(rest) as len, toupper(substr(rest, 0, 5)) as head",
            &["app"]
        ),
        ["lvl=INFO len=21 head=CACHE", "lvl=ERROR len=24 head=DB TI"]
    );
}

#[test]
fn dedup_keeps_first_in_order() {
    assert_eq!(
        run("fields path, status | dedup path", &["app"]),
        [
            "path=/b status=503",
            "path=/a status=200",
            // Rows without a path are never deduplicated.
            "",
            "path=/c status=500",
            "",
        ]
    );
    assert_eq!(
        run(
            "filter ispresent(path) | sort latency asc | dedup path | limit 2",
            &["app"]
        )
        .into_iter()
        .map(|r| r
            .split(' ')
            .filter(|f| f.starts_with("path=") || f.starts_with("latency="))
            .collect::<Vec<_>>()
            .join(" "))
        .collect::<Vec<_>>(),
        ["latency=15 path=/a", "latency=80 path=/b"]
    );
}

#[test]
fn several_groups() {
    assert_eq!(
        run("stats count(*) as n by @log | sort n desc", &["app", "api"]),
        ["@log=123456789012:app n=8", "@log=123456789012:api n=4"]
    );
    assert_eq!(
        run(
            "filter @logStream = \"api-1\" or status = 500 | fields @logStream, @message | sort @timestamp desc | limit 3",
            &["app", "api"]
        ),
        [
            "@logStream=api-1 @message=user=carol, method:DELETE, latency := 5",
            "@logStream=api-1 @message=user=alice, method:GET, latency := 25",
            "@logStream=web-2 @message={\"level\":\"ERROR\",\"status\":500,\"latency\":900,\"path\":\"/c\",\"user\":{\"id\":\"u3\"}}",
        ]
    );
}

#[test]
fn functions_in_queries() {
    assert_eq!(
        run(
            "filter isIpv4InSubnet(\"192.0.2.9\", \"192.0.2.0/24\") and strcontains(@message, \"alice\") | fields concat(@logStream, \"-\", 1) as id, datefloor(@timestamp, 1h) as hour, toMillis(@timestamp) as ms | limit 1",
            &["api"]
        ),
        ["id=api-1-1 hour=2026-12-07 04:00:00.000 ms=1796616480000"]
    );
    assert_eq!(
        run(
            "fields status = 200 as ok, abs(-3) + greatest(1, 7) as n | filter ok | limit 1",
            &["app"]
        ),
        ["ok=1 n=10"]
    );
}

#[test]
fn shown_fields() {
    // `fields` accumulate; absent values are left out of a row.
    assert_eq!(
        run(
            "fields path | fields status | filter status = 404",
            &["app"]
        ),
        ["path=/a status=404"]
    );
    // The last `display` wins, and can show fields made earlier.
    assert_eq!(
        run(
            "fields status * 10 as big | display path | display big, `user.id` | filter status = 404",
            &["app"]
        ),
        ["big=4040 user.id=u1"]
    );
    // unmask changes nothing (this collector masks nothing); sort on text uses natural order.
    assert_eq!(
        run(
            "unmask @message | filter @message like /^\\[/ | display unmask(@message) as m | sort m",
            &["app"]
        ),
        [
            "m=[ERROR] db timeout after 3000 ms",
            "m=[INFO] cache warmed in 42 ms"
        ]
    );
    // Stats rows carry no @ptr.
    let out = run_on("stats count(*)", &["app"], 10);
    assert_eq!(out.rows, [vec![("count(*)".to_string(), "8".to_string())]]);
}
