//! Export tasks through [`LogsApi::handle`] with a manual clock; files read back with flate2.

use super::*;
use crate::api::logs::testkit;
use crate::api::RequestContext;
use crate::clock::ManualClock;
use crate::store::logs::LogStoreOptions;
use serde_json::{json, Value};
use std::io::Read;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000;
const DAY: i64 = 86_400_000;

struct H {
    api: LogsApi,
    ctx: RequestContext,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
}

fn ctx() -> RequestContext {
    testkit::ctx(T0)
}

fn open(dir: &Path, clock: Arc<ManualClock>) -> LogsApi {
    let opts = LogStoreOptions {
        sweep_interval: None,
        ..LogStoreOptions::default()
    };
    LogsApi::open_with(dir, clock, opts)
        .unwrap()
        .with_export_dir(dir.join("exp"))
        .unwrap()
}

impl H {
    async fn new() -> H {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let api = open(dir.path(), clock.clone());
        std::fs::create_dir_all(dir.path().join("exp/my-bucket")).unwrap();
        let h = H {
            api,
            ctx: ctx(),
            clock,
            dir,
        };
        h.ok("CreateLogGroup", json!({"logGroupName": "/app/g"}))
            .await;
        for s in ["web/1", "web/2", "db", "../../escape"] {
            h.ok(
                "CreateLogStream",
                json!({"logGroupName": "/app/g", "logStreamName": s}),
            )
            .await;
        }
        h
    }

    async fn call(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        testkit::call(&self.api, &self.ctx, op, input).await
    }

    async fn ok(&self, op: &str, input: Value) -> Value {
        testkit::ok(&self.api, &self.ctx, op, input).await
    }

    async fn err(&self, op: &str, input: Value) -> (String, String) {
        let e = self.call(op, input).await.expect_err("refused");
        assert_eq!(e.status, 400, "{e}");
        (e.code, e.message.unwrap_or_default())
    }

    async fn put(&self, stream: &str, events: &[(i64, &str)]) {
        let evs: Vec<Value> = events
            .iter()
            .map(|(t, m)| json!({"timestamp": t, "message": m}))
            .collect();
        self.ok(
            "PutLogEvents",
            json!({"logGroupName": "/app/g", "logStreamName": stream, "logEvents": evs}),
        )
        .await;
    }

    async fn task(&self, id: &str) -> Value {
        let v = self
            .ok("DescribeExportTasks", json!({ "taskId": id }))
            .await;
        v["exportTasks"][0].clone()
    }

    /// Wait until the task left PENDING / RUNNING.
    async fn finished(&self, id: &str) -> Value {
        for _ in 0..500 {
            let t = self.task(id).await;
            let code = t["status"]["code"].as_str().unwrap().to_string();
            if code != "PENDING" && code != "RUNNING" {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("export task {id} did not finish");
    }

    fn read_gz(&self, rel: &str) -> String {
        let path = self.dir.path().join("exp/my-bucket").join(rel);
        let mut s = String::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .read_to_string(&mut s)
        .unwrap();
        s
    }
}

#[tokio::test]
async fn export_writes_the_s3_layout() {
    let h = H::new().await;
    h.put(
        "web/1",
        &[(T0 - 2000, "before"), (T0 - 1000, "w1 a"), (T0, "w1 b")],
    )
    .await;
    h.put("web/2", &[(T0 - 500, "w2 a"), (T0 + 1, "after")])
        .await;
    h.put("db", &[(T0 - 100, "db a")]).await;
    h.put("../../escape", &[(T0 - 100, "sneaky")]).await;
    let v = h
        .ok(
            "CreateExportTask",
            json!({
                "taskName": "nightly",
                "logGroupName": "/app/g",
                "logStreamNamePrefix": "web/",
                "from": T0 - 1000,
                "to": T0,
                "destination": "my-bucket",
                "destinationPrefix": "logs/app",
            }),
        )
        .await;
    let id = v["taskId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36);
    let t = h.finished(&id).await;
    assert_eq!(
        t["status"],
        json!({"code": "COMPLETED", "message": "Completed successfully"})
    );
    assert_eq!(t["taskName"], "nightly");
    assert_eq!(t["logGroupName"], "/app/g");
    assert_eq!(t["from"], T0 - 1000);
    assert_eq!(t["to"], T0);
    assert_eq!(t["destination"], "my-bucket");
    assert_eq!(t["destinationPrefix"], "logs/app");
    assert_eq!(t["executionInfo"]["creationTime"], T0);
    assert_eq!(t["executionInfo"]["completionTime"], T0);
    // `from` and `to` are both inclusive; streams outside the prefix are not exported.
    assert_eq!(
        h.read_gz(&format!("logs/app/{id}/web/1/000000.gz")),
        "2023-11-14T22:13:19.000Z w1 a\n2023-11-14T22:13:20.000Z w1 b\n"
    );
    assert_eq!(
        h.read_gz(&format!("logs/app/{id}/web/2/000000.gz")),
        "2023-11-14T22:13:19.500Z w2 a\n"
    );
    assert!(!h
        .dir
        .path()
        .join(format!("exp/my-bucket/logs/app/{id}/db"))
        .exists());
    // Default prefix; a hostile stream name stays inside the task directory.
    let v = h
        .ok(
            "CreateExportTask",
            json!({"logGroupName": "/app/g", "from": 0, "to": T0, "destination": "my-bucket"}),
        )
        .await;
    let id2 = v["taskId"].as_str().unwrap().to_string();
    assert_eq!(h.finished(&id2).await["status"]["code"], "COMPLETED");
    assert_eq!(h.task(&id2).await["destinationPrefix"], "exportedlogs");
    assert_eq!(
        h.read_gz(&format!(
            "exportedlogs/{id2}/%2E%2E%2F%2E%2E%2Fescape/000000.gz"
        )),
        "2023-11-14T22:13:19.900Z sneaky\n"
    );
    assert_eq!(
        h.read_gz(&format!("exportedlogs/{id2}/db/000000.gz")),
        "2023-11-14T22:13:19.900Z db a\n"
    );
    // Listing: newest first, filtered by status, paged.
    h.clock.advance(1);
    let all = h.ok("DescribeExportTasks", json!({})).await;
    assert_eq!(all["exportTasks"].as_array().unwrap().len(), 2);
    let page = h.ok("DescribeExportTasks", json!({"limit": 1})).await;
    let token = page["nextToken"].as_str().unwrap().to_string();
    let next = h
        .ok(
            "DescribeExportTasks",
            json!({"limit": 1, "nextToken": token}),
        )
        .await;
    assert!(next.get("nextToken").is_none());
    let mut ids = vec![
        page["exportTasks"][0]["taskId"]
            .as_str()
            .unwrap()
            .to_string(),
        next["exportTasks"][0]["taskId"]
            .as_str()
            .unwrap()
            .to_string(),
    ];
    ids.sort();
    let mut want = vec![id.clone(), id2.clone()];
    want.sort();
    assert_eq!(ids, want);
    let none = h
        .ok("DescribeExportTasks", json!({"statusCode": "FAILED"}))
        .await;
    assert_eq!(none["exportTasks"], json!([]));
}

#[tokio::test]
async fn one_active_task_cancel_and_errors() {
    let mut h = H::new().await;
    h.api.pause_exports();
    let create = json!({"logGroupName": "/app/g", "from": 0, "to": T0, "destination": "my-bucket"});
    let id = h.ok("CreateExportTask", create.clone()).await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(h.task(&id).await["status"]["code"], "PENDING");
    assert_eq!(
        h.err("CreateExportTask", create.clone()).await,
        (
            "LimitExceededException".to_string(),
            "Resource limit exceeded.".to_string()
        )
    );
    h.ok("CancelExportTask", json!({ "taskId": id })).await;
    let t = h.task(&id).await;
    assert_eq!(
        t["status"],
        json!({"code": "CANCELLED", "message": "Cancelled by user"})
    );
    let (code, _) = h.err("CancelExportTask", json!({ "taskId": id })).await;
    assert_eq!(code, "InvalidOperationException");
    assert_eq!(
        h.err("CancelExportTask", json!({"taskId": "nope"})).await,
        (
            "ResourceNotFoundException".to_string(),
            "The specified export task does not exist.".to_string()
        )
    );
    // The slot is free again.
    h.ok("CreateExportTask", create.clone()).await;
    let bad = |patch: Value| {
        let mut v = create.clone();
        for (k, val) in patch.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };
    let bucket = "The given bucket does not exist. Please make sure the bucket is valid.";
    for dest in ["other-bucket", "../my-bucket", "my-bucket/..", "/tmp"] {
        assert_eq!(
            h.err("CreateExportTask", bad(json!({ "destination": dest })))
                .await,
            ("InvalidParameterException".to_string(), bucket.to_string()),
            "{dest}"
        );
    }
    assert_eq!(
        h.err("CreateExportTask", bad(json!({"logGroupName": "/nope"})))
            .await,
        (
            "ResourceNotFoundException".to_string(),
            "The specified log group does not exist.".to_string()
        )
    );
    let (code, m) = h
        .err(
            "CreateExportTask",
            bad(json!({"destinationPrefix": "a/../b"})),
        )
        .await;
    assert_eq!(code, "InvalidParameterException");
    assert!(m.contains("'..'"), "{m}");
    let (_, m) = h
        .err("CreateExportTask", bad(json!({"from": T0 + 1})))
        .await;
    assert!(m.contains("time range"), "{m}");
    let (_, m) = h
        .err("CreateExportTask", bad(json!({"to": T0 - DAY})))
        .await;
    assert!(m.contains("creation time"), "{m}");
    let mut no_from = create.clone();
    no_from.as_object_mut().unwrap().remove("from");
    let (_, m) = h.err("CreateExportTask", no_from).await;
    assert!(m.contains("Value null at 'from'"), "{m}");
    let (_, m) = h
        .err("DescribeExportTasks", json!({"statusCode": "DONE"}))
        .await;
    assert!(
        m.contains("[CANCELLED, COMPLETED, FAILED, PENDING, PENDING_CANCEL, RUNNING]"),
        "{m}"
    );
    let (_, m) = h.err("DescribeExportTasks", json!({"limit": 51})).await;
    assert!(m.ends_with("less than or equal to 50"), "{m}");
}

#[tokio::test]
async fn pending_task_runs_after_restart() {
    let mut h = H::new().await;
    h.put("db", &[(T0 - 5, "kept across restart")]).await;
    h.api.pause_exports();
    let id = h
        .ok(
            "CreateExportTask",
            json!({"logGroupName": "/app/g", "from": 0, "to": T0, "destination": "my-bucket"}),
        )
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let H {
        api,
        ctx,
        clock,
        dir,
    } = h;
    drop(api);
    let api = open(dir.path(), clock.clone());
    let h = H {
        api,
        ctx,
        clock,
        dir,
    };
    assert_eq!(h.task(&id).await["status"]["code"], "PENDING");
    assert_eq!(h.api.resume_exports().unwrap(), 1);
    assert_eq!(h.finished(&id).await["status"]["code"], "COMPLETED");
    assert_eq!(
        h.read_gz(&format!("exportedlogs/{id}/db/000000.gz")),
        "2023-11-14T22:13:19.995Z kept across restart\n"
    );
    // Nothing left to resume.
    assert_eq!(h.api.resume_exports().unwrap(), 0);
}
