//! Operation-level tests of the EventBridge API, driven through [`EventsApi::handle`] with a
//! manual clock.

use super::*;
use crate::auth::Identity;
use crate::clock::ManualClock;
use hostwatch_aws::Protocol;
use serde_json::{json, Value};

const T0: i64 = 1_700_000_000_000;

pub(super) struct H {
    pub api: EventsApi,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

impl H {
    pub fn new() -> H {
        let dir = tempfile::tempdir().unwrap();
        Self::open(dir)
    }

    pub fn open(dir: tempfile::TempDir) -> H {
        let clock = ManualClock::new(T0);
        let service =
            EventService::open(dir.path(), clock.clone(), "us-east-1", "123456789012").unwrap();
        H {
            api: EventsApi::new(service),
            clock,
            dir,
        }
    }

    fn ctx(&self) -> RequestContext {
        RequestContext {
            request_id: "r".into(),
            identity: Identity {
                access_key_id: "AK".into(),
                region: "us-east-1".into(),
                service: "events".into(),
            },
            protocol: Protocol::AwsJson11,
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            now_ms: self.clock.now_ms(),
        }
    }

    pub async fn call(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        let out = self.api.handle(op, input, &self.ctx()).await?;
        Ok(out.map_or(json!({}), |s| s.to_json()))
    }

    pub async fn ok(&self, op: &str, input: Value) -> Value {
        match self.call(op, input).await {
            Ok(v) => v,
            Err(e) => panic!("{op} failed: {e:?}"),
        }
    }

    pub async fn err(&self, op: &str, input: Value) -> (String, String) {
        let e = self.call(op, input).await.unwrap_err();
        (e.code, e.message.unwrap_or_default())
    }
}

use crate::clock::Clock;

#[tokio::test]
async fn buses_lifecycle_and_errors() {
    let h = H::new();
    let out = h.ok("CreateEventBus", json!({"Name": "orders"})).await;
    assert_eq!(
        out["EventBusArn"],
        "arn:aws:events:us-east-1:123456789012:event-bus/orders"
    );
    let table: &[(&str, Value, &str, &str)] = &[
        (
            "CreateEventBus",
            json!({"Name": "orders"}),
            "ResourceAlreadyExistsException",
            "Event bus orders already exists.",
        ),
        (
            "CreateEventBus",
            json!({"Name": "default"}),
            "ResourceAlreadyExistsException",
            "Event bus default already exists.",
        ),
        (
            "DeleteEventBus",
            json!({"Name": "default"}),
            "ValidationException",
            "Cannot delete event bus default.",
        ),
        (
            "DescribeEventBus",
            json!({"Name": "nope"}),
            "ResourceNotFoundException",
            "Event bus nope does not exist.",
        ),
    ];
    for (op, input, code, msg) in table {
        assert_eq!(
            h.err(op, input.clone()).await,
            (code.to_string(), msg.to_string()),
            "{op}"
        );
    }
    let list = h.ok("ListEventBuses", json!({})).await;
    let names: Vec<&str> = list["EventBuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "orders"]);
    let d = h.ok("DescribeEventBus", json!({})).await;
    assert_eq!(d["Name"], "default");
    h.ok("DeleteEventBus", json!({"Name": "orders"})).await;
    let list = h.ok("ListEventBuses", json!({})).await;
    assert_eq!(list["EventBuses"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn rule_validation_messages() {
    let h = H::new();
    h.ok("CreateEventBus", json!({"Name": "b"})).await;
    let table: &[(Value, &str, &str)] = &[
        (
            json!({"Name": "r"}),
            "ValidationException",
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ),
        (
            json!({"Name": "r", "ScheduleExpression": "rate(1 minutes)"}),
            "ValidationException",
            "Parameter ScheduleExpression is not valid.",
        ),
        (
            json!({"Name": "r", "ScheduleExpression": "rate(1 minute)", "EventBusName": "b"}),
            "ValidationException",
            "ScheduleExpression is supported only on the default event bus.",
        ),
        (
            json!({"Name": "r", "EventPattern": "{\"a\":[]}"}),
            "InvalidEventPatternException",
            "Event pattern is not valid. Reason: Empty arrays are not allowed",
        ),
        (
            json!({"Name": "r", "EventPattern": "{\"a\":[1]}", "EventBusName": "zz"}),
            "ResourceNotFoundException",
            "Event bus zz does not exist.",
        ),
        (
            json!({"Name": "bad name", "EventPattern": "{\"a\":[1]}"}),
            "ValidationException",
            "1 validation error detected: Value 'bad name' at 'name' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
        ),
        (
            json!({"Name": "r", "EventPattern": "{\"a\":[1]}", "State": "ON"}),
            "ValidationException",
            "1 validation error detected: Value 'ON' at 'state' failed to satisfy constraint: \
             Member must satisfy enum value set: [ENABLED, DISABLED, \
             ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
        ),
    ];
    for (input, code, msg) in table {
        assert_eq!(
            h.err("PutRule", input.clone()).await,
            (code.to_string(), msg.to_string()),
            "{input}"
        );
    }
    let out = h
        .ok(
            "PutRule",
            json!({"Name": "r", "EventPattern": "{\"source\":[\"a\"]}", "EventBusName": "b"}),
        )
        .await;
    assert_eq!(
        out["RuleArn"],
        "arn:aws:events:us-east-1:123456789012:rule/b/r"
    );
    let d = h
        .ok("DescribeRule", json!({"Name": "r", "EventBusName": "b"}))
        .await;
    assert_eq!(d["State"], "ENABLED");
    assert_eq!(d["EventBusName"], "b");
    h.ok("DisableRule", json!({"Name": "r", "EventBusName": "b"}))
        .await;
    let l = h.ok("ListRules", json!({"EventBusName": "b"})).await;
    assert_eq!(l["Rules"][0]["State"], "DISABLED");
    assert_eq!(
        h.err("DescribeRule", json!({"Name": "x"})).await,
        (
            "ResourceNotFoundException".to_string(),
            "Rule x does not exist on EventBus default.".to_string()
        )
    );
}

#[tokio::test]
async fn targets_validation_and_listing() {
    let h = H::new();
    h.ok(
        "PutRule",
        json!({"Name": "r", "EventPattern": "{\"source\":[\"a\"]}"}),
    )
    .await;
    let file = "arn:hostwatch:file:::/nonexistent/x.jsonl";
    let table: &[(Value, &str)] = &[
        (
            json!({"Id": "t", "Arn": file, "Input": "{}", "InputPath": "$.detail"}),
            "Only one of Input, InputPath, or InputTransformer must be provided for target t.",
        ),
        (
            json!({"Id": "t", "Arn": file, "InputTransformer": {
                "InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": "<a> <b>"}}),
            "InputTemplate for target t contains invalid placeholder b.",
        ),
        (
            json!({"Id": "t", "Arn": "arn:aws:sqs:us-east-1:1:q"}),
            "Parameter arn:aws:sqs:us-east-1:1:q is not valid. Reason: Provided Arn is not in \
             correct format.",
        ),
        (
            json!({"Id": "t", "Arn": file, "RetryPolicy": {"MaximumEventAgeInSeconds": 10}}),
            "1 validation error detected: Value '10' at \
             'targets.1.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy \
             constraint: Member must have value greater than or equal to 60",
        ),
    ];
    for (t, msg) in table {
        assert_eq!(
            h.err("PutTargets", json!({"Rule": "r", "Targets": [t]}))
                .await,
            ("ValidationException".to_string(), msg.to_string()),
            "{t}"
        );
    }
    let targets: Vec<Value> = (0..6)
        .map(|i| json!({"Id": format!("t{i}"), "Arn": file}))
        .collect();
    let out = h
        .ok("PutTargets", json!({"Rule": "r", "Targets": targets}))
        .await;
    assert_eq!(out["FailedEntryCount"], 1);
    assert_eq!(out["FailedEntries"][0]["TargetId"], "t5");
    assert_eq!(
        h.err("DeleteRule", json!({"Name": "r"})).await.1,
        "Rule can't be deleted since it has targets."
    );
    let l = h
        .ok("ListTargetsByRule", json!({"Rule": "r", "Limit": 2}))
        .await;
    assert_eq!(l["Targets"].as_array().unwrap().len(), 2);
    assert_eq!(l["NextToken"], "2");
    let names = h
        .ok("ListRuleNamesByTarget", json!({"TargetArn": file}))
        .await;
    assert_eq!(names["RuleNames"], json!(["r"]));
    let ids: Vec<String> = (0..5).map(|i| format!("t{i}")).collect();
    h.ok("RemoveTargets", json!({"Rule": "r", "Ids": ids}))
        .await;
    h.ok("DeleteRule", json!({"Name": "r"})).await;
    let l = h.ok("ListRules", json!({})).await;
    assert_eq!(l["Rules"], json!([]));
}

#[tokio::test]
async fn put_events_per_entry_results() {
    let h = H::new();
    let good = json!({"Source": "app", "DetailType": "t", "Detail": "{\"k\":1}"});
    let out = h
        .ok(
            "PutEvents",
            json!({"Entries": [
                good,
                {"DetailType": "t", "Detail": "{}"},
                {"Source": "app", "DetailType": "t", "Detail": "[1]"},
                {"Source": "app", "DetailType": "t", "Detail": "\"{}\""},
            ]}),
        )
        .await;
    assert_eq!(out["FailedEntryCount"], 3);
    let e = &out["Entries"];
    assert_eq!(e[0]["EventId"].as_str().unwrap().len(), 36);
    assert_eq!(e[1]["ErrorCode"], "InvalidArgument");
    assert_eq!(
        e[1]["ErrorMessage"],
        "Parameter Source is not valid. Reason: Source is a required argument."
    );
    assert_eq!(e[2]["ErrorCode"], "MalformedDetail");
    assert_eq!(e[3]["ErrorMessage"], "Detail is malformed.");
    let eleven: Vec<Value> = (0..11).map(|_| good.clone()).collect();
    let (code, msg) = h.err("PutEvents", json!({"Entries": eleven})).await;
    assert_eq!(code, "ValidationException");
    assert!(
        msg.ends_with("Member must have length less than or equal to 10"),
        "{msg}"
    );
    let big = "x".repeat(200 * 1024);
    let two = json!({"Source": "a", "DetailType": "t", "Detail": format!("{{\"b\":\"{big}\"}}")});
    assert_eq!(
        h.err("PutEvents", json!({"Entries": [two.clone(), two]}))
            .await
            .1,
        "Total size of the entries in the request is over the limit."
    );
    assert_eq!(
        h.err(
            "PutEvents",
            json!({"Entries": [{"Source": "a", "DetailType": "t", "Detail": "{}",
                "EventBusName": "nope"}]})
        )
        .await,
        (
            "ResourceNotFoundException".to_string(),
            "Event bus nope does not exist.".to_string()
        )
    );
}

#[tokio::test]
async fn test_event_pattern() {
    let h = H::new();
    let event = json!({"id": "1", "account": "1", "source": "app", "time": "t", "region": "r",
        "resources": [], "detail-type": "d", "detail": {"n": 5}})
    .to_string();
    let r = h
        .ok(
            "TestEventPattern",
            json!({"EventPattern": "{\"detail\":{\"n\":[{\"numeric\":[\">\",4]}]}}",
                "Event": event}),
        )
        .await;
    assert_eq!(r["Result"], true);
    let r = h
        .ok(
            "TestEventPattern",
            json!({"EventPattern": "{\"source\":[\"other\"]}", "Event": event}),
        )
        .await;
    assert_eq!(r["Result"], false);
    assert_eq!(
        h.err(
            "TestEventPattern",
            json!({"EventPattern": "{\"source\":[\"a\"]}", "Event": "nope"})
        )
        .await,
        (
            "ValidationException".to_string(),
            "Parameter Event is not valid.".to_string()
        )
    );
}
