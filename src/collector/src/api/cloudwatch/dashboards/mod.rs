//! CloudWatch dashboards: `PutDashboard`, `GetDashboard`, `ListDashboards`, `DeleteDashboards`.
//!
//! A dashboard is a name and a body (CloudWatch's dashboard-body JSON, checked by [`body`]);
//! the body is stored exactly as put (`store::dashboards`) and served back unchanged. The web
//! dashboard renders these bodies; the AWS CLI and SDKs manage them like CloudWatch's.
//!
//! Errors as CloudWatch answers them: a bad name is `InvalidParameterValue`; a body with
//! problems is `InvalidParameterInput` (shape `DashboardInvalidInputError`) whose message lists
//! the problems as `{dataPath, message}` (and nothing is saved); a missing dashboard is
//! `ResourceNotFound` (404). `DeleteDashboards` deletes all the named dashboards or none.
//! A successful PutDashboard answers an empty `DashboardValidationMessages` list: every problem
//! this collector detects is an error.

pub mod body;

use hostwatch_aws::lenient::List;
use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

use super::token;
use crate::api::{parse_input, RequestContext};
use crate::store::dashboards::DashboardStore;
use crate::store::StoreError;

/// The operations served here.
pub const OPERATIONS: [&str; 4] = [
    "PutDashboard",
    "GetDashboard",
    "ListDashboards",
    "DeleteDashboards",
];

/// Longest dashboard name.
const MAX_NAME: usize = 255;
/// Dashboards per ListDashboards page (CloudWatch's page size).
const PAGE: usize = 1000;

/// The saved dashboards. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DashboardApi {
    store: Arc<DashboardStore>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutInput {
    dashboard_name: Option<String>,
    dashboard_body: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetInput {
    dashboard_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    dashboard_name_prefix: Option<String>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteInput {
    dashboard_names: Option<List<String>>,
}

fn check_name(name: Option<&str>) -> Result<&str, ApiError> {
    let name = name.ok_or_else(|| ApiError::missing_parameter("DashboardName"))?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::invalid_parameter_value(
            "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).\n",
        ));
    }
    if name.len() > MAX_NAME {
        return Err(ApiError::invalid_parameter_value(format!(
            "The value for field DashboardName must be at most {MAX_NAME} characters long."
        )));
    }
    Ok(name)
}

fn not_found(name: &str) -> ApiError {
    ApiError::cloudwatch(
        "ResourceNotFound",
        format!("Dashboard {name} does not exist"),
    )
}

fn storage_error(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "Dashboard storage failed.");
    ApiError::internal("The dashboard store failed to process the request.")
}

/// The dashboard's ARN (dashboards are global: no region).
pub fn arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch::{account_id}:dashboard/{name}")
}

impl DashboardApi {
    /// Open (or create) `dashboards.db` under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Ok(DashboardApi {
            store: Arc::new(DashboardStore::open(data_dir)?),
        })
    }

    /// Handle one of [`OPERATIONS`].
    pub async fn handle(
        &self,
        op: &str,
        input: serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        let store = self.store.clone();
        let account = ctx.account_id.clone();
        let now_ms = ctx.now_ms;
        let op = op.to_string();
        tokio::task::spawn_blocking(move || run(&store, &op, input, &account, now_ms))
            .await
            .map_err(|e| ApiError::internal(format!("dashboard task failed: {e}")))?
    }
}

fn run(
    store: &DashboardStore,
    op: &str,
    input: serde_json::Value,
    account: &str,
    now_ms: i64,
) -> Result<Option<Shape>, ApiError> {
    match op {
        "PutDashboard" => {
            let input: PutInput = parse_input(input, true)?;
            let name = check_name(input.dashboard_name.as_deref())?;
            let text = input
                .dashboard_body
                .ok_or_else(|| ApiError::missing_parameter("DashboardBody"))?;
            let problems = body::validate(&text);
            if !problems.is_empty() {
                let list: Vec<serde_json::Value> = problems
                    .iter()
                    .map(|p| serde_json::json!({"dataPath": p.data_path, "message": p.message}))
                    .collect();
                let pretty = serde_json::to_string_pretty(&list).unwrap_or_default();
                return Err(ApiError::cloudwatch(
                    "InvalidParameterInput",
                    format!(
                        "The dashboard body is invalid, there are {} validation errors:\n{pretty}",
                        problems.len()
                    ),
                ));
            }
            store.put(name, &text, now_ms).map_err(storage_error)?;
            Ok(Some(Shape::obj().with(
                "DashboardValidationMessages",
                Shape::List(Vec::new()),
            )))
        }
        "GetDashboard" => {
            let input: GetInput = parse_input(input, true)?;
            let name = check_name(input.dashboard_name.as_deref())?;
            let d = store
                .get(name)
                .map_err(storage_error)?
                .ok_or_else(|| not_found(name))?;
            Ok(Some(
                Shape::obj()
                    .with("DashboardArn", arn(account, &d.name))
                    .with("DashboardBody", d.body)
                    .with("DashboardName", d.name),
            ))
        }
        "ListDashboards" => {
            let input: ListInput = parse_input(input, true)?;
            let prefix = input.dashboard_name_prefix.unwrap_or_default();
            let after: Option<String> = match &input.next_token {
                Some(t) => Some(token::decode("dashboards", t)?),
                None => None,
            };
            let mut page = store
                .list(&prefix, after.as_deref(), PAGE + 1)
                .map_err(storage_error)?;
            let more = page.len() > PAGE;
            page.truncate(PAGE);
            let next = more
                .then(|| page.last().map(|d| token::encode("dashboards", &d.name)))
                .flatten();
            let entries = page.into_iter().map(|d| {
                Shape::obj()
                    .with("DashboardName", d.name.as_str())
                    .with("DashboardArn", arn(account, &d.name))
                    .with("LastModified", Shape::Timestamp(d.modified_ms))
                    .with("Size", d.body.len())
            });
            Ok(Some(
                Shape::obj()
                    .with("DashboardEntries", Shape::list(entries))
                    .with_opt("NextToken", next),
            ))
        }
        "DeleteDashboards" => {
            let input: DeleteInput = parse_input(input, true)?;
            let names = input.dashboard_names.map(|l| l.0).unwrap_or_default();
            if names.is_empty() {
                return Err(ApiError::missing_parameter("DashboardNames"));
            }
            for n in &names {
                check_name(Some(n))?;
            }
            match store.delete_all(&names).map_err(storage_error)? {
                Some(missing) => Err(not_found(&missing)),
                None => Ok(None),
            }
        }
        _ => Err(crate::api::unknown_operation(
            "GraniteServiceVersion20100801",
            op,
            true,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(
        store: &DashboardStore,
        op: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        run(store, op, input, "000000000000", 1_700_000_000_000)
            .map(|s| s.map(|s| s.to_json()).unwrap_or(serde_json::Value::Null))
    }

    #[test]
    fn put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = DashboardStore::open(dir.path()).unwrap();
        let body = r#"{"widgets":[{"type":"text","x":0,"y":0,"width":24,"height":2,"properties":{"markdown":"hi"}}]}"#;
        let out = call(
            &s,
            "PutDashboard",
            json!({"DashboardName": "ops", "DashboardBody": body}),
        )
        .unwrap();
        assert_eq!(out, json!({"DashboardValidationMessages": []}));
        let got = call(&s, "GetDashboard", json!({"DashboardName": "ops"})).unwrap();
        assert_eq!(got["DashboardBody"], body, "served back unchanged");
        assert_eq!(
            got["DashboardArn"],
            "arn:aws:cloudwatch::000000000000:dashboard/ops"
        );
        call(
            &s,
            "PutDashboard",
            json!({"DashboardName": "hosts", "DashboardBody": "{\"widgets\":[]}"}),
        )
        .unwrap();
        let list = call(&s, "ListDashboards", json!({})).unwrap();
        let names: Vec<_> = list["DashboardEntries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["DashboardName"].clone())
            .collect();
        assert_eq!(names, [json!("hosts"), json!("ops")]);
        assert_eq!(list["DashboardEntries"][1]["Size"], body.len());
        assert_eq!(list["DashboardEntries"][1]["LastModified"], 1_700_000_000);
        let list = call(&s, "ListDashboards", json!({"DashboardNamePrefix": "o"})).unwrap();
        assert_eq!(list["DashboardEntries"].as_array().unwrap().len(), 1);

        let e = call(
            &s,
            "DeleteDashboards",
            json!({"DashboardNames": ["ops", "nope"]}),
        )
        .unwrap_err();
        assert_eq!((e.query_code(), e.status), ("ResourceNotFound", 404));
        assert!(
            call(&s, "GetDashboard", json!({"DashboardName": "ops"})).is_ok(),
            "nothing deleted"
        );
        call(&s, "DeleteDashboards", json!({"DashboardNames": ["ops"]})).unwrap();
        let e = call(&s, "GetDashboard", json!({"DashboardName": "ops"})).unwrap_err();
        assert_eq!((e.query_code(), e.status), ("ResourceNotFound", 404));
    }

    #[test]
    fn errors() {
        let dir = tempfile::tempdir().unwrap();
        let s = DashboardStore::open(dir.path()).unwrap();
        let e = call(
            &s,
            "PutDashboard",
            json!({"DashboardName": "a b", "DashboardBody": "{\"widgets\":[]}"}),
        )
        .unwrap_err();
        assert_eq!(e.query_code(), "InvalidParameterValue");
        assert_eq!(
            e.message.as_deref(),
            Some("The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).\n")
        );
        let e = call(&s, "PutDashboard", json!({"DashboardBody": "{}"})).unwrap_err();
        assert_eq!(e.query_code(), "MissingParameter");
        let e = call(&s, "PutDashboard", json!({"DashboardName": "x", "DashboardBody": "{\"widgets\":[{\"type\":\"text\",\"width\":30,\"properties\":{}}]}"})).unwrap_err();
        assert_eq!(
            (e.query_code(), e.code.as_str(), e.status),
            ("InvalidParameterInput", "DashboardInvalidInputError", 400)
        );
        let msg = e.message.unwrap();
        assert!(
            msg.starts_with("The dashboard body is invalid, there are 2 validation errors:\n"),
            "{msg}"
        );
        assert!(msg.contains("\"dataPath\": \"/widgets/0/width\""), "{msg}");
        assert!(
            call(&s, "GetDashboard", json!({"DashboardName": "x"})).is_err(),
            "not saved"
        );
        let e = call(&s, "ListDashboards", json!({"NextToken": "garbage"})).unwrap_err();
        assert_eq!(e.query_code(), "InvalidNextToken");
        let e = call(&s, "DeleteDashboards", json!({"DashboardNames": []})).unwrap_err();
        assert_eq!(e.query_code(), "MissingParameter");
    }

    #[test]
    fn list_pages() {
        let dir = tempfile::tempdir().unwrap();
        let s = DashboardStore::open(dir.path()).unwrap();
        for i in 0..(PAGE + 5) {
            s.put(&format!("d{i:05}"), "{\"widgets\":[]}", 0).unwrap();
        }
        let first = call(&s, "ListDashboards", json!({})).unwrap();
        assert_eq!(first["DashboardEntries"].as_array().unwrap().len(), PAGE);
        let token = first["NextToken"].as_str().unwrap();
        let second = call(&s, "ListDashboards", json!({"NextToken": token})).unwrap();
        assert_eq!(second["DashboardEntries"].as_array().unwrap().len(), 5);
        assert!(second.get("NextToken").is_none());
    }
}
