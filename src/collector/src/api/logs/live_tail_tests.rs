//! Live Tail sessions driven in-process: frames decoded with the event-stream decoder.

use super::*;
use crate::api::logs::testkit;
use crate::clock::ManualClock;
use crate::store::logs::LogStoreOptions;
use hostwatch_aws::eventstream::Decoder;

const T0: i64 = 1_700_000_000_000;
const ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:";

struct H {
    api: LogsApi,
    ctx: RequestContext,
    _dir: tempfile::TempDir,
}

fn limits(update_ms: u64, max_ms: u64) -> LiveTailLimits {
    LiveTailLimits {
        update_every: Duration::from_millis(update_ms),
        max_session: Duration::from_millis(max_ms),
    }
}

impl H {
    async fn new(l: LiveTailLimits) -> H {
        let dir = tempfile::tempdir().unwrap();
        let opts = LogStoreOptions {
            sweep_interval: None,
            ..LogStoreOptions::default()
        };
        let api = LogsApi::open_with(dir.path(), ManualClock::new(T0), opts)
            .unwrap()
            .with_live_tail_limits(l);
        let ctx = testkit::ctx(T0);
        let h = H {
            api,
            ctx,
            _dir: dir,
        };
        for (g, s) in [("g", "app-1"), ("g", "app-2"), ("g", "web"), ("other", "s")] {
            let _ = h
                .api
                .handle("CreateLogGroup", json!({ "logGroupName": g }), &h.ctx)
                .await;
            h.api
                .handle(
                    "CreateLogStream",
                    json!({ "logGroupName": g, "logStreamName": s }),
                    &h.ctx,
                )
                .await
                .unwrap();
        }
        h
    }

    fn start(&self, input: Value) -> Result<FrameStream, ApiError> {
        self.api
            .start_live_tail(input.to_string().as_bytes(), &self.ctx)
    }

    async fn put(&self, g: &str, s: &str, messages: &[&str]) {
        let events: Vec<Value> = messages
            .iter()
            .map(|m| json!({"timestamp": T0, "message": m}))
            .collect();
        self.api
            .handle(
                "PutLogEvents",
                json!({"logGroupName": g, "logStreamName": s, "logEvents": events}),
                &self.ctx,
            )
            .await
            .unwrap();
    }
}

/// Read the next whole message of the session (`None` when the stream ended).
async fn next(frames: &mut FrameStream) -> Option<Message> {
    let bytes = tokio::time::timeout(Duration::from_secs(10), frames.next_frame())
        .await
        .expect("a frame within 10 s")?;
    let mut d = Decoder::new();
    d.push(&bytes);
    let m = d.next_message().unwrap().unwrap();
    assert_eq!(d.pending(), 0, "one message per frame");
    Some(m)
}

fn payload(m: &Message) -> Value {
    serde_json::from_slice(&m.payload).unwrap()
}

/// Skip the opening frames, returning the sessionStart payload.
async fn opened(frames: &mut FrameStream) -> Value {
    let first = next(frames).await.unwrap();
    assert_eq!(first.header_str(":message-type"), Some("event"));
    assert_eq!(first.header_str(":event-type"), Some("initial-response"));
    assert_eq!(payload(&first), json!({}));
    let start = next(frames).await.unwrap();
    assert_eq!(start.header_str(":event-type"), Some("sessionStart"));
    assert_eq!(start.header_str(":content-type"), Some("application/json"));
    payload(&start)
}

/// Messages of updates until `want` messages arrived (or 50 updates passed).
async fn collect(frames: &mut FrameStream, want: usize) -> Vec<Value> {
    let mut got = Vec::new();
    for _ in 0..50 {
        let m = next(frames).await.unwrap();
        assert_eq!(m.header_str(":event-type"), Some("sessionUpdate"));
        let p = payload(&m);
        got.extend(p["sessionResults"].as_array().unwrap().iter().cloned());
        if got.len() >= want {
            break;
        }
    }
    got
}

fn messages(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn session_streams_ingested_events() {
    let h = H::new(limits(30, 60_000)).await;
    assert_eq!(h.api.live_tail().sessions(), 0);
    // Before any session, ingest publishes nothing.
    h.put("g", "app-1", &["before"]).await;
    let arn = format!("{ARN}g");
    let mut frames = h.start(json!({ "logGroupIdentifiers": [arn] })).unwrap();
    let start = opened(&mut frames).await;
    assert_eq!(start["requestId"], "req-1");
    assert_eq!(start["logGroupIdentifiers"], json!([arn]));
    assert_eq!(start["sessionId"].as_str().unwrap().len(), 36);
    assert!(start.get("logStreamNames").is_none());
    // Updates come even when nothing happened.
    let m = next(&mut frames).await.unwrap();
    assert_eq!(
        payload(&m),
        json!({"sessionMetadata": {"sampled": false}, "sessionResults": []})
    );
    h.put("g", "app-1", &["one", "two"]).await;
    h.put("other", "s", &["not tailed"]).await;
    h.put("g", "web", &["three"]).await;
    let got = collect(&mut frames, 3).await;
    assert_eq!(messages(&got), ["one", "two", "three"]);
    assert_eq!(
        got[0],
        json!({
            "logStreamName": "app-1",
            "logGroupIdentifier": arn,
            "message": "one",
            "timestamp": T0,
            "ingestionTime": T0,
        })
    );
    // Dropping the body ends the session.
    drop(frames);
    for _ in 0..100 {
        if h.api.live_tail().sessions() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.api.live_tail().sessions(), 0);
}

#[tokio::test]
async fn stream_selectors_and_filter_pattern() {
    let h = H::new(limits(30, 60_000)).await;
    let arn = format!("{ARN}g");
    let mut by_prefix = h
        .start(json!({
            "logGroupIdentifiers": [arn],
            "logStreamNamePrefixes": ["app-"],
            "logEventFilterPattern": "ERROR \"disk full\"",
        }))
        .unwrap();
    let start = opened(&mut by_prefix).await;
    assert_eq!(start["logStreamNamePrefixes"], json!(["app-"]));
    assert_eq!(start["logEventFilterPattern"], "ERROR \"disk full\"");
    let mut by_name = h
        .start(json!({ "logGroupIdentifiers": [arn], "logStreamNames": ["web"] }))
        .unwrap();
    assert_eq!(opened(&mut by_name).await["logStreamNames"], json!(["web"]));
    h.put(
        "g",
        "app-1",
        &["ERROR disk full on /", "ERROR disk ok", "INFO disk full"],
    )
    .await;
    h.put("g", "web", &["ERROR disk full on web", "GET /"])
        .await;
    h.put("g", "app-2", &["x ERROR: disk full"]).await;
    let got = collect(&mut by_prefix, 2).await;
    assert_eq!(
        messages(&got),
        ["ERROR disk full on /", "x ERROR: disk full"]
    );
    let got = collect(&mut by_name, 2).await;
    assert_eq!(messages(&got), ["ERROR disk full on web", "GET /"]);
}

#[tokio::test]
async fn more_than_500_events_per_update_are_sampled() {
    let h = H::new(limits(400, 60_000)).await;
    let mut frames = h
        .start(json!({ "logGroupIdentifiers": [format!("{ARN}g")] }))
        .unwrap();
    opened(&mut frames).await;
    let msgs: Vec<String> = (0..1200).map(|i| format!("m{i:04}")).collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    h.put("g", "app-1", &refs).await;
    let mut sampled_update = None;
    for _ in 0..5 {
        let p = payload(&next(&mut frames).await.unwrap());
        if !p["sessionResults"].as_array().unwrap().is_empty() {
            sampled_update = Some(p);
            break;
        }
    }
    let p = sampled_update.expect("an update with events");
    assert_eq!(p["sessionMetadata"]["sampled"], true);
    let got = p["sessionResults"].as_array().unwrap().clone();
    assert_eq!(got.len(), MAX_EVENTS_PER_UPDATE);
    // A sample, in arrival order, without repeats.
    let m = messages(&got);
    assert!(m.windows(2).all(|w| w[0] < w[1]), "arrival order kept");
    // The next update starts afresh.
    let p = payload(&next(&mut frames).await.unwrap());
    assert_eq!(p["sessionMetadata"]["sampled"], false);
    assert_eq!(p["sessionResults"], json!([]));
}

#[tokio::test]
async fn session_times_out() {
    let h = H::new(limits(40, 150)).await;
    let mut frames = h
        .start(json!({ "logGroupIdentifiers": [format!("{ARN}g")] }))
        .unwrap();
    opened(&mut frames).await;
    let mut last = None;
    while let Some(m) = next(&mut frames).await {
        last = Some(m);
    }
    let last = last.unwrap();
    assert_eq!(last.header_str(":message-type"), Some("exception"));
    assert_eq!(
        last.header_str(":exception-type"),
        Some("SessionTimeoutException")
    );
    assert!(payload(&last)["message"].is_string());
}

#[tokio::test]
async fn invalid_requests() {
    let h = H::new(LiveTailLimits::default()).await;
    let err = |input: Value| {
        let e = h.start(input).expect_err("refused");
        assert_eq!(e.status, 400);
        (e.code, e.message.unwrap_or_default())
    };
    let arn = format!("{ARN}g");
    let (code, m) = err(json!({}));
    assert_eq!(code, "InvalidParameterException");
    assert!(m.contains("Value null at 'logGroupIdentifiers'"), "{m}");
    let (_, m) = err(json!({"logGroupIdentifiers": []}));
    assert!(m.ends_with("greater than or equal to 1"), "{m}");
    let eleven: Vec<String> = (0..11).map(|_| arn.clone()).collect();
    let (_, m) = err(json!({ "logGroupIdentifiers": eleven }));
    assert!(m.ends_with("less than or equal to 10"), "{m}");
    let (code, m) = err(json!({"logGroupIdentifiers": ["g"]}));
    assert_eq!(code, "InvalidParameterException");
    assert!(m.contains("by its ARN"), "{m}");
    let (_, m) = err(json!({ "logGroupIdentifiers": [format!("{arn}:*")] }));
    assert!(m.contains("must not end with '*'"), "{m}");
    let (code, m) = err(json!({ "logGroupIdentifiers": [format!("{ARN}nope")] }));
    assert_eq!(
        (code.as_str(), m.as_str()),
        (
            "ResourceNotFoundException",
            "The specified log group does not exist."
        )
    );
    let (_, m) = err(json!({
        "logGroupIdentifiers": [arn],
        "logStreamNames": ["a"],
        "logStreamNamePrefixes": ["b"],
    }));
    assert!(m.contains("mutually exclusive"), "{m}");
    let (_, m) = err(json!({
        "logGroupIdentifiers": [arn, format!("{ARN}other")],
        "logStreamNames": ["a"],
    }));
    assert!(m.contains("single log group"), "{m}");
    let (_, m) = err(json!({ "logGroupIdentifiers": [arn], "logStreamNames": ["a:b"] }));
    assert!(m.contains("regular expression pattern"), "{m}");
    let (code, _) =
        err(json!({ "logGroupIdentifiers": [arn], "logEventFilterPattern": "{ $.x = " }));
    assert_eq!(code, "InvalidParameterException");
    let e = h
        .api
        .start_live_tail(b"{\"logGroupIdentifiers\": \"x\"}", &h.ctx)
        .err()
        .unwrap();
    assert_eq!(e.code, "SerializationException");
    // No session was left open by a refused request.
    assert_eq!(h.api.live_tail().sessions(), 0);
}

#[tokio::test]
async fn closing_the_hub_sends_a_last_update_and_ends_every_session() {
    // Updates every minute: anything seen before the stream ends came from the close.
    let h = H::new(limits(60_000, 3_600_000)).await;
    let mut quiet = h
        .start(json!({"logGroupIdentifiers": [format!("{ARN}other")]}))
        .unwrap();
    let mut busy = h
        .start(json!({"logGroupIdentifiers": [format!("{ARN}g")]}))
        .unwrap();
    opened(&mut quiet).await;
    opened(&mut busy).await;
    h.put("g", "web", &["before the shutdown"]).await;
    h.api.live_tail().close_sessions();
    // The busy session flushes what matched, then both streams end.
    let last = next(&mut busy).await.unwrap();
    assert_eq!(last.header_str(":event-type"), Some("sessionUpdate"));
    let results = payload(&last)["sessionResults"].as_array().unwrap().clone();
    assert_eq!(messages(&results), ["before the shutdown"]);
    assert!(
        next(&mut busy).await.is_none(),
        "the stream ends after the last update"
    );
    assert!(
        next(&mut quiet).await.is_none(),
        "nothing matched: no update, the stream ends"
    );
    // A session started after the close ends right after its opening frames.
    let mut late = h
        .start(json!({"logGroupIdentifiers": [format!("{ARN}g")]}))
        .unwrap();
    opened(&mut late).await;
    assert!(next(&mut late).await.is_none());
}
