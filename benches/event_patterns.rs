//! EventBridge pattern matching benchmark: events per second matched against 1,000 rules on one
//! core.
//!
//! Run: `cargo bench --bench event_patterns` (optionally `-- --seconds N` per row, default 3).
//!
//! In-process, release build, calling thread only. Rules: 1,000 (and 10,000) patterns of the
//! kinds real buses carry, generated from a fixed seed: `source` + `detail-type` exact matches
//! (40 %), CloudWatch alarm state changes with an alarm-name prefix (15 %), numeric ranges on an
//! order amount (10 %), `anything-but` on a status (10 %), `wildcard` on `resources` (10 %),
//! `$or` of two detail fields (5 %), array-consistent item matches (`sku` prefix + `qty` range
//! inside one element of `detail.items`, 5 %) and `cidr` + `exists` (5 %). Events: 1,000
//! envelopes (alarm state changes, EC2 state changes, orders with 1-5 items, S3 object events,
//! sign-ins with an address) over the same sources and values, so a fair share of rules match.
//!
//! Rows: matching pre-parsed events; parsing the event JSON text and matching it (what a bus
//! does per `PutEvents` entry); and the 250 KB event of the shared vectors against its rule
//! among the 1,000 others.

// A benchmark: failing loudly on a broken set-up is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::{print_table, seconds_arg};
use hostwatch_collector::events::pattern::{Pattern, RuleSet};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Deterministic xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const APPS: u64 = 200;
const DETAIL_TYPES: &[&str] = &[
    "OrderPlaced",
    "OrderShipped",
    "UserSignedIn",
    "PaymentFailed",
];
const STATES: &[&str] = &["ALARM", "OK", "INSUFFICIENT_DATA"];
const STATUSES: &[&str] = &["active", "pending", "cancelled", "refunded"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-south-1"];

fn rule(rng: &mut Rng) -> Value {
    let app = format!("com.example.app{}", rng.below(APPS));
    let dt = DETAIL_TYPES[rng.below(DETAIL_TYPES.len() as u64) as usize];
    match rng.below(100) {
        0..=39 => json!({"source": [app], "detail-type": [dt]}),
        40..=54 => json!({
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {
                "state": {"value": [STATES[rng.below(3) as usize]]},
                "alarmName": [{"prefix": format!("svc{}-", rng.below(50))}]
            }
        }),
        55..=64 => {
            let low = rng.below(500);
            json!({"source": [app], "detail": {"amount": [{"numeric": [">", low, "<=", low + 200]}]}})
        }
        65..=74 => json!({
            "source": [app],
            "detail": {"status": [{"anything-but": [STATUSES[rng.below(4) as usize], "refunded"]}]}
        }),
        75..=84 => json!({
            "source": ["aws.s3"],
            "resources": [{"wildcard": format!("arn:aws:s3:::bucket{}/*.jpg", rng.below(100))}]
        }),
        85..=89 => json!({
            "source": [app],
            "$or": [
                {"detail": {"currency": ["EUR"]}},
                {"detail": {"amount": [{"numeric": [">", 600]}]}}
            ]
        }),
        90..=94 => json!({
            "source": [app],
            "detail": {"items": {
                "sku": [{"prefix": format!("SKU-{}", rng.below(10))}],
                "qty": [{"numeric": [">=", 3]}]
            }}
        }),
        _ => json!({
            "source": ["aws.signin"],
            "detail": {
                "sourceIPAddress": [{"cidr": format!("10.{}.0.0/16", rng.below(20))}],
                "userIdentity": {"arn": [{"exists": true}]}
            }
        }),
    }
}

fn envelope(
    rng: &mut Rng,
    source: &str,
    detail_type: &str,
    resources: Value,
    detail: Value,
) -> Value {
    json!({
        "version": "0",
        "id": format!("6a7e8feb-b491-4cf7-a9f1-{:012x}", rng.below(1 << 48)),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-11-22T14:00:00Z",
        "region": REGIONS[rng.below(3) as usize],
        "resources": resources,
        "detail": detail
    })
}

fn event(rng: &mut Rng) -> Value {
    let app = format!("com.example.app{}", rng.below(APPS));
    match rng.below(5) {
        0 => {
            let name = format!("svc{}-cpu-high", rng.below(50));
            let detail = json!({
                "alarmName": name,
                "state": {"value": STATES[rng.below(3) as usize], "reason": "Threshold Crossed"},
                "previousState": {"value": "OK"},
                "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
                    "namespace": "AWS/EC2", "metricName": "CPUUtilization",
                    "dimensions": {"InstanceId": "i-0123456789abcdef0"}}, "period": 60, "stat": "Average"}}]}
            });
            let arn = format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}");
            envelope(
                rng,
                "aws.cloudwatch",
                "CloudWatch Alarm State Change",
                json!([arn]),
                detail,
            )
        }
        1 => {
            let detail = json!({"instance-id": "i-0123456789abcdef0", "state": "running"});
            envelope(
                rng,
                "aws.ec2",
                "EC2 Instance State-change Notification",
                json!(["arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"]),
                detail,
            )
        }
        2 => {
            let items: Vec<Value> = (0..1 + rng.below(5))
                .map(|_| json!({"sku": format!("SKU-{}", rng.below(1000)), "qty": rng.below(6)}))
                .collect();
            let detail = json!({
                "orderId": format!("o-{}", rng.below(1_000_000)),
                "amount": rng.below(1000) as f64 + 0.99,
                "currency": if rng.below(2) == 0 { "EUR" } else { "USD" },
                "status": STATUSES[rng.below(4) as usize],
                "items": items
            });
            let dt = DETAIL_TYPES[rng.below(DETAIL_TYPES.len() as u64) as usize];
            envelope(rng, &app, dt, json!([]), detail)
        }
        3 => {
            let key = format!(
                "photos/{}.{}",
                rng.below(10_000),
                if rng.below(2) == 0 { "jpg" } else { "png" }
            );
            let bucket = format!("bucket{}", rng.below(100));
            let detail = json!({"bucket": {"name": bucket}, "object": {"key": key, "size": rng.below(1 << 20)}});
            envelope(
                rng,
                "aws.s3",
                "Object Created",
                json!([format!("arn:aws:s3:::{bucket}/{key}")]),
                detail,
            )
        }
        _ => {
            let detail = json!({
                "sourceIPAddress": format!("10.{}.{}.{}", rng.below(30), rng.below(256), rng.below(256)),
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"},
                "eventName": "ConsoleLogin"
            });
            envelope(
                rng,
                "aws.signin",
                "AWS Console Sign In via CloudTrail",
                json!([]),
                detail,
            )
        }
    }
}

fn rule_set(n: usize, rng: &mut Rng) -> (RuleSet, Duration) {
    let docs: Vec<String> = (0..n).map(|_| rule(rng).to_string()).collect();
    let start = Instant::now();
    let mut set = RuleSet::new();
    for (i, doc) in docs.iter().enumerate() {
        set.add(format!("rule-{i}"), &Pattern::parse(doc).unwrap());
    }
    (set, start.elapsed())
}

/// Run `f` over `inputs` round-robin for about `seconds`; (events/s, ns/event, matches/event).
fn measure<T>(inputs: &[T], seconds: u64, mut f: impl FnMut(&T) -> usize) -> (f64, f64, f64) {
    let budget = Duration::from_secs(seconds);
    let start = Instant::now();
    let (mut events, mut matches) = (0u64, 0u64);
    while start.elapsed() < budget {
        for input in inputs {
            matches += f(input) as u64;
        }
        events += inputs.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    let rate = events as f64 / secs;
    (rate, 1e9 / rate, matches as f64 / events as f64)
}

fn main() {
    let seconds = seconds_arg(3);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let events: Vec<Value> = (0..1000).map(|_| event(&mut rng)).collect();
    let texts: Vec<String> = events.iter().map(Value::to_string).collect();
    let avg_bytes = texts.iter().map(String::len).sum::<usize>() / texts.len();
    let big_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/event-ruler/");
    let big_event: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{big_dir}bigEvent.json")).unwrap())
            .unwrap();
    let big_rule =
        Pattern::parse(&std::fs::read_to_string(format!("{big_dir}bigEventRule.json")).unwrap())
            .unwrap();

    let mut rows = Vec::new();
    let mut row = |label: String, compile: Duration, r: (f64, f64, f64)| {
        rows.push(vec![
            label,
            format!("{:.1}", compile.as_secs_f64() * 1e3),
            format!("{:.0}", r.0),
            format!("{:.0}", r.1),
            format!("{:.2}", r.2),
        ]);
    };
    for n in [1_000, 10_000] {
        let (set, compile) = rule_set(n, &mut rng);
        row(
            format!("{n} rules, parsed events ({avg_bytes} B avg)"),
            compile,
            measure(&events, seconds, |e| set.matches(e).len()),
        );
        row(
            format!("{n} rules, JSON text -> parse -> match"),
            compile,
            measure(&texts, seconds, |t| {
                set.matches(&serde_json::from_str::<Value>(t).unwrap())
                    .len()
            }),
        );
    }
    let (mut set, compile) = rule_set(999, &mut rng);
    set.add("big", &big_rule);
    let big = std::slice::from_ref(&big_event);
    assert!(set
        .matches(&big_event)
        .iter()
        .any(|id| set.name(*id) == Some("big")));
    row(
        "1000 rules, 250 KB event (parsed)".to_string(),
        compile,
        measure(big, seconds, |e| set.matches(e).len()),
    );

    println!();
    print_table(
        &[
            "case",
            "compile ms",
            "events/s",
            "ns/event",
            "matches/event",
        ],
        &rows,
    );
}
