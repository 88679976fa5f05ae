//! The web dashboard: the session and CSRF rules checked over plain HTTP, then the pages driven
//! in headless Chromium (`tests/browser/dashboard.mjs`, playwright-core with Debian's chromium)
//! against a real collector fed by a real agent. The browser script saves screenshots, the CSV
//! the explorer downloaded and what it saw; this test checks those against the AWS CLI.

use crate::util::{assert_ok, bin, iso, now_secs, signal, wait_for, Collector};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn keys(c: &Collector) -> hostwatch_aws::Credentials {
    let text = std::fs::read_to_string(c.credentials_file()).unwrap();
    hostwatch_aws::credentials::profile_from_ini(&text, "hostwatch").unwrap()
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn list_metrics(
    c: &Collector,
    cookie: Option<&str>,
    csrf: Option<&str>,
) -> reqwest::blocking::Response {
    let mut req = client()
        .post(format!("{}/dashboard/api", c.endpoint))
        .header("X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics")
        .header("Content-Type", "application/x-amz-json-1.0")
        .body("{}");
    if let Some(k) = cookie {
        req = req.header("Cookie", k);
    }
    if let Some(t) = csrf {
        req = req.header("X-Hostwatch-Csrf", t);
    }
    req.send().unwrap()
}

/// Sign in over HTTP; returns the `name=value` cookie and the CSRF token.
fn sign_in(c: &Collector, id: &str, secret: &str) -> reqwest::blocking::Response {
    client()
        .post(format!("{}/dashboard/login", c.endpoint))
        .header("Content-Type", "application/json")
        .body(json!({"accessKeyId": id, "secretAccessKey": secret}).to_string())
        .send()
        .unwrap()
}

#[test]
fn dashboard_sessions_refuse_requests_without_session_or_csrf() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let k = keys(&c);

    let page = client().get(format!("{}/", c.endpoint)).send().unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().unwrap();
    assert!(html.contains("/assets/app.js") && !html.contains(&k.secret_access_key));
    for asset in ["app.js", "chart.js", "style.css"] {
        let r = client()
            .get(format!("{}/assets/{asset}", c.endpoint))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
    assert_eq!(
        client()
            .get(format!("{}/assets/..%2Fserver.rs", c.endpoint))
            .send()
            .unwrap()
            .status(),
        404
    );

    // No session: refused.
    let r = list_metrics(&c, None, None);
    assert_eq!(r.status(), 401);
    assert_eq!(
        serde_json::from_str::<Value>(&r.text().unwrap()).unwrap()["__type"],
        "MissingAuthenticationTokenException"
    );
    let r = list_metrics(&c, Some("hw_session=0123456789abcdef"), Some("x"));
    assert_eq!(r.status(), 401, "an unknown session id");

    // Wrong secret, unknown key, and a form body: refused.
    assert_eq!(sign_in(&c, &k.access_key_id, "wrong").status(), 401);
    assert_eq!(
        sign_in(&c, "AKIAUNKNOWN", &k.secret_access_key).status(),
        401
    );
    let form = client()
        .post(format!("{}/dashboard/login", c.endpoint))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "accessKeyId={}&secretAccessKey={}",
            k.access_key_id, k.secret_access_key
        ))
        .send()
        .unwrap();
    assert_eq!(form.status(), 415);

    // Signed in: cookie attributes, and the secret is not in the answer.
    let r = sign_in(&c, &k.access_key_id, &k.secret_access_key);
    assert_eq!(r.status(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set_cookie.contains(attr), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    let body = r.text().unwrap();
    assert!(!body.contains(&k.secret_access_key));
    let session: Value = serde_json::from_str(&body).unwrap();
    let csrf = session["csrfToken"].as_str().unwrap().to_string();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    assert_eq!(cookie.len(), "hw_session=".len() + 64);

    // The session without its CSRF token, or with another, is refused; with it, the API answers.
    assert_eq!(list_metrics(&c, Some(&cookie), None).status(), 403);
    assert_eq!(list_metrics(&c, Some(&cookie), Some("0000")).status(), 403);
    let ok = list_metrics(&c, Some(&cookie), Some(&csrf));
    assert_eq!(ok.status(), 200);
    assert!(serde_json::from_str::<Value>(&ok.text().unwrap()).unwrap()["Metrics"].is_array());

    // Errors come back in the API's own shape, as for the CLI.
    let unknown = client()
        .post(format!("{}/dashboard/api", c.endpoint))
        .header("Cookie", &cookie)
        .header("X-Hostwatch-Csrf", &csrf)
        .header("X-Amz-Target", "Logs_20140328.NoSuchOperation")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().unwrap().contains("UnknownOperation"));

    // Sign-out ends the session.
    let out = client()
        .post(format!("{}/dashboard/logout", c.endpoint))
        .header("Cookie", &cookie)
        .header("X-Hostwatch-Csrf", &csrf)
        .send()
        .unwrap();
    assert_eq!(out.status(), 204);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(list_metrics(&c, Some(&cookie), Some(&csrf)).status(), 401);
}

#[test]
fn dashboard_operations_over_query_and_boto3() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    assert_ok(&c.python("dashboards.py", &[]));
    // The AWS CLI too; and the dashboards survive a restart (SQLite).
    let body = r#"{"widgets":[{"type":"text","x":0,"y":0,"width":24,"height":2,"properties":{"markdown":"kept"}}]}"#;
    c.aws_json(&[
        "cloudwatch",
        "put-dashboard",
        "--dashboard-name",
        "kept",
        "--dashboard-body",
        body,
    ]);
    let data_dir = c.data_dir.clone();
    c.stop();
    let c = Collector::start(&data_dir);
    let got = c.aws_json(&["cloudwatch", "get-dashboard", "--dashboard-name", "kept"]);
    assert_eq!(got["DashboardBody"], body);
}

#[test]
fn dashboard_page_functions_under_node_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let out = Command::new("node")
        .args(["--test", "units.test.mjs"])
        .current_dir(&dir)
        .output()
        .expect("run node (apt-get install nodejs)");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn agent_config(endpoint: &str) -> Value {
    json!({
        "agent": {"metrics_collection_interval": 1, "region": "us-east-1"},
        "metrics": {
            "endpoint_override": endpoint,
            "force_flush_interval": 1,
            "metrics_collected": {
                "cpu": {"resources": ["*"], "totalcpu": true, "measurement": ["cpu_usage_idle", "cpu_usage_user"]},
                "mem": {"measurement": ["mem_used_percent"]},
                "disk": {"resources": ["/"], "measurement": ["used_percent"]},
                "net": {"resources": ["*"], "measurement": ["bytes_sent", "bytes_recv"]}
            }
        }
    })
}

/// 1,000 series (`load` by `series=0000..0999`), three minutes of points each.
fn put_thousand_series(c: &Collector, dir: &Path, namespace: &str) {
    let now = now_secs() / 60 * 60;
    for minute in 1..=3 {
        let data: Vec<Value> = (0..1000)
            .map(|i| {
                json!({
                    "MetricName": "load",
                    "Dimensions": [{"Name": "series", "Value": format!("{i:04}")}],
                    "Timestamp": iso(now - minute * 60),
                    "Value": (i % 97) as f64 + minute as f64,
                    "Unit": "Count"
                })
            })
            .collect();
        let file = dir.join(format!("bench-{minute}.json"));
        std::fs::write(&file, Value::Array(data).to_string()).unwrap();
        c.aws_json(&[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            namespace,
            "--metric-data",
            &format!("file://{}", file.display()),
        ]);
    }
}

fn browser_out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-browser");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn dashboard_in_headless_chromium() {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "run `npm ci` in tests/browser (scripts/test.sh does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let k = keys(&c);
    let host = hostname();

    // The agent ships this host's metrics for a while, then stops (flushing), so the data the
    // browser and the CLI read afterwards is the same.
    let cfg = dir.path().join("agent.json");
    std::fs::write(&cfg, agent_config(&c.endpoint).to_string()).unwrap();
    let mut agent = Command::new(bin("hostwatch-agent"))
        .arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.path().join("agent-state"))
        .env("AWS_SHARED_CREDENTIALS_FILE", c.credentials_file())
        .env("AWS_PROFILE", "hostwatch")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stats = |from: i64| {
        c.aws_json(&[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "CWAgent",
            "--metric-name",
            "mem_used_percent",
            "--dimensions",
            &format!("Name=host,Value={host}"),
            "--start-time",
            &iso(from),
            "--end-time",
            &iso(now_secs() + 60),
            "--period",
            "1",
            "--statistics",
            "Average",
        ])
    };
    let started = now_secs();
    let enough = wait_for(Duration::from_secs(60), || {
        let n = stats(started - 60)["Datapoints"]
            .as_array()
            .map_or(0, Vec::len);
        (n >= 8).then_some(())
    });
    signal(&agent, "TERM");
    let _ = agent.wait();
    assert!(enough.is_some(), "the agent's metrics never arrived");

    put_thousand_series(&c, dir.path(), "DashBench");

    // Alarm state changes are delivered into a log group by an event rule.
    c.aws_json(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "alarm-events",
    ]);
    c.aws_json(&[
        "events",
        "put-rule",
        "--name",
        "alarms-to-log",
        "--event-pattern",
        r#"{"source":["aws.cloudwatch"]}"#,
    ]);
    c.aws_json(&[
        "events",
        "put-targets",
        "--rule",
        "alarms-to-log",
        "--targets",
        "Id=log,Arn=arn:aws:logs:us-east-1:000000000000:log-group:alarm-events",
    ]);

    // An alarm on the agent's metric, in ALARM (missing data counts as breaching, so the
    // evaluator keeps it there).
    c.aws_json(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "memory-high",
        "--namespace",
        "CWAgent",
        "--metric-name",
        "mem_used_percent",
        "--dimensions",
        &format!("Name=host,Value={host}"),
        "--statistic",
        "Average",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "1",
        "--comparison-operator",
        "GreaterThanThreshold",
        "--treat-missing-data",
        "breaching",
    ]);
    c.aws_json(&[
        "cloudwatch",
        "set-alarm-state",
        "--alarm-name",
        "memory-high",
        "--state-value",
        "ALARM",
        "--state-reason",
        "memory over 1 percent",
    ]);

    // A log group with a few events, and an event rule.
    c.aws_json(&["logs", "create-log-group", "--log-group-name", "app"]);
    c.aws_json(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "app",
        "--log-stream-name",
        "web-1",
    ]);
    let t = now_secs() * 1000;
    let events = json!([
        {"timestamp": t - 3000, "message": "INFO started"},
        {"timestamp": t - 2000, "message": "ERROR disk full"},
        {"timestamp": t - 1000, "message": "INFO request served"}
    ]);
    c.aws_json(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        "app",
        "--log-stream-name",
        "web-1",
        "--log-events",
        &events.to_string(),
    ]);

    // A saved dashboard with every widget type the page renders.
    let ops = json!({"start": "-PT1H", "widgets": [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": "# Operations\nSee [alarms](#/alarms)."}},
        {"type": "metric", "x": 0, "y": 2, "width": 12, "height": 6, "properties": {"title": "Memory", "metrics": [["CWAgent", "mem_used_percent", "host", host]], "period": 60, "stat": "Maximum", "view": "timeSeries"}},
        {"type": "alarm", "x": 12, "y": 2, "width": 12, "height": 3, "properties": {"title": "Alarms", "alarms": ["arn:aws:cloudwatch:us-east-1:000000000000:alarm:memory-high"]}},
        {"type": "log", "x": 12, "y": 5, "width": 12, "height": 3, "properties": {"title": "Errors", "query": "SOURCE 'app' | fields @timestamp, @message | filter @message like /ERROR/"}}
    ]});
    c.aws_json(&[
        "cloudwatch",
        "put-dashboard",
        "--dashboard-name",
        "ops",
        "--dashboard-body",
        &ops.to_string(),
    ]);

    let out = browser_out_dir();
    let run = Command::new("node")
        .arg(browser_dir.join("dashboard.mjs"))
        .current_dir(&browser_dir)
        .env("HOSTWATCH_ENDPOINT", &c.endpoint)
        .env("HW_ACCESS_KEY_ID", &k.access_key_id)
        .env("HW_SECRET_ACCESS_KEY", &k.secret_access_key)
        .env("HW_HOST", &host)
        .env("HW_ALARM", "memory-high")
        .env("HW_LOG_GROUP", "app")
        .env("HW_BENCH_NAMESPACE", "DashBench")
        .env("OUT_DIR", &out)
        .output()
        .expect("run node (apt-get install nodejs)");
    let result: Value = std::fs::read_to_string(out.join("result.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    println!("browser result: {result:#}");
    assert!(
        run.status.success() && result["ok"] == true,
        "browser test failed ({}):\n{}\n{}\nscreenshots in {}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
        out.display()
    );

    // The downloaded CSV holds exactly what get-metric-statistics returns for the series.
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let mut lines = csv.lines();
    let head = lines.next().unwrap();
    assert_eq!(head, format!("Timestamp,mem_used_percent host={host}"));
    let rows: Vec<(String, f64)> = lines
        .map(|l| {
            let (t, v) = l.split_once(',').unwrap();
            (t.to_string(), v.parse().unwrap())
        })
        .collect();
    let cli = stats(started - 120);
    let mut expected: Vec<(String, f64)> = cli["Datapoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            // The CLI prints epoch seconds or ISO-8601, depending on its timestamp format.
            let ts = match &d["Timestamp"] {
                Value::Number(n) => iso(n.as_f64().unwrap() as i64),
                other => iso(
                    chrono::DateTime::parse_from_rfc3339(other.as_str().unwrap())
                        .unwrap()
                        .timestamp(),
                ),
            };
            (ts, d["Average"].as_f64().unwrap())
        })
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(rows.len() >= 8, "{csv}");
    assert_eq!(rows.len(), expected.len(), "CSV:\n{csv}\nCLI: {cli}");
    for ((t, v), (et, ev)) in rows.iter().zip(&expected) {
        assert_eq!(t, et);
        assert!(
            (v - ev).abs() <= 1e-9 * ev.abs().max(1.0),
            "{t}: {v} vs {ev}"
        );
    }

    assert_eq!(result["alarmListState"], "ALARM");
    assert_eq!(result["alarmState"], "ALARM");
    assert!(
        result["timelineStates"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "ALARM")),
        "{result}"
    );
    assert!(result["logRows"].as_u64().unwrap() >= 3, "{result}");
    // The filter pattern `ERROR` keeps the one matching event of the three.
    assert_eq!(result["filter"]["rows"], 1, "{result}");
    // `stats count(*) by bin(1m)` over the group: a results table and one bar per bin.
    let rows = result["insights"]["rows"].as_u64().unwrap_or(0);
    assert!(rows >= 1, "{result}");
    assert_eq!(result["insights"]["bars"].as_u64(), Some(rows), "{result}");
    // The rule's AWS/Events metrics count its deliveries to the log group.
    let invocations = result["ruleInvocations"].as_str().unwrap_or("");
    let counted: f64 = invocations
        .strip_prefix("Invocations in the last hour: ")
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    assert!(
        counted >= result["deliveries"].as_f64().unwrap_or(1.0)
            && invocations.contains("failed: 0"),
        "{result}"
    );
    assert_eq!(result["dashboardAlarmState"], "ALARM", "{result}");
    assert_eq!(result["dashboardText"], "Operations", "{result}");
    // The log widget ran its Insights query (`filter @message like /ERROR/`) over `app`.
    let log_widget = result["dashboardLog"].as_str().unwrap_or("");
    assert!(
        log_widget.contains("ERROR disk full") && !log_widget.contains("INFO started"),
        "{result}"
    );
    assert!(
        result["dashboardSaveError"]
            .as_str()
            .is_some_and(|t| t.contains("/widgets/0/width")),
        "{result}"
    );
    // The explorer's "Add to dashboard" wrote a metric widget with the chart's series.
    let saved = c.aws_json(&[
        "cloudwatch",
        "get-dashboard",
        "--dashboard-name",
        "from-explorer",
    ]);
    let saved: Value = serde_json::from_str(saved["DashboardBody"].as_str().unwrap()).unwrap();
    assert_eq!(
        saved["widgets"][0]["properties"]["metrics"],
        json!([["CWAgent", "mem_used_percent", "host", host]]),
        "{saved}"
    );
    assert_eq!(saved["widgets"][0]["properties"]["period"], 1, "{saved}");
    // The hosts dashboard the page saved is a CloudWatch dashboard the CLI reads.
    let hosts = c.aws_json(&["cloudwatch", "get-dashboard", "--dashboard-name", "hosts"]);
    let body: Value = serde_json::from_str(hosts["DashboardBody"].as_str().unwrap()).unwrap();
    let rows = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["type"] == "metric")
        .flat_map(|w| w["properties"]["metrics"].as_array().unwrap().clone())
        .collect::<Vec<_>>();
    for metric in [
        "mem_used_percent",
        "disk_used_percent",
        "net_bytes_recv",
        "cpu_usage_user",
    ] {
        assert!(
            rows.iter()
                .any(|r| r[1] == metric && r.as_array().unwrap().contains(&json!(host))),
            "{metric} of {host} in {body}"
        );
    }
    assert!(result["responsesChecked"].as_u64().unwrap() > 20);
    for shot in [
        "laptop-signin",
        "laptop-hosts",
        "laptop-metrics",
        "laptop-thousand",
        "laptop-alarm",
        "laptop-dashboard-ops",
        "phone-hosts",
        "phone-dashboard",
        "phone-metrics",
    ] {
        assert!(out.join(format!("{shot}.png")).is_file(), "{shot}.png");
    }
}
