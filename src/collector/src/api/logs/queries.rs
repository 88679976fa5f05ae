//! Logs Insights operations: StartQuery, GetQueryResults, StopQuery, DescribeQueries.
//!
//! StartQuery validates its input (exactly one of `logGroupName`, `logGroupNames`,
//! `logGroupIdentifiers`, at most 50 groups, each existing; `startTime`/`endTime` in epoch
//! seconds, both inclusive, so the range is `[startTime*1000, endTime*1000+999]` ms;
//! `queryString` of at most 10,000 characters that compiles; `limit` 1–10,000, default
//! 1,000), then hands the query to [`super::query_jobs`], which runs it in the background.
//! GetQueryResults returns the rows of a `Complete` query, and while it runs its statistics and
//! the partial result last published by [`super::query_jobs`] (at most one a second); every value is a string, `@timestamp` is rendered `yyyy-MM-dd HH:mm:ss.SSS`, event
//! rows carry `@ptr`. DescribeQueries lists kept queries newest first, with the query string
//! normalised as AWS shows it (`SOURCE "<group>" START=<ms> END=<ms> | <query>`).

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::errors::{constraint, invalid_parameter, invalid_token, missing, NOT_FOUND};
use super::query_jobs::{Job, Source, Spec, StartError, Status};
use super::tokens::{list_token, parse_list_token};
use super::validate::{group_name, identifier_to_name, range};
use super::LogsApi;
use crate::api::{parse_input, RequestContext};
use crate::insights;

/// Most log groups in one query.
pub const MAX_GROUPS: usize = 50;
/// Default and largest StartQuery `limit`.
pub const DEFAULT_LIMIT: i64 = 1_000;
pub const MAX_LIMIT: i64 = 10_000;
/// Most queries per DescribeQueries page.
const MAX_DESCRIBE: i64 = 1_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartQueryInput {
    query_language: Option<String>,
    log_group_name: Option<String>,
    log_group_names: Option<Vec<String>>,
    log_group_identifiers: Option<Vec<String>>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    query_string: Option<String>,
    limit: Option<i64>,
}

fn malformed(e: &insights::QueryError) -> ApiError {
    ApiError::new("MalformedQueryException", 400, e.message.clone())
}

pub(super) fn start_query(
    api: &LogsApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let i: StartQueryInput = parse_input(input, false)?;
    if let Some(lang) = i.query_language.as_deref() {
        if lang != "CWLI" {
            if matches!(lang, "SQL" | "PPL") {
                return Err(invalid_parameter(format!(
                    "Query language {lang} is not supported by this endpoint."
                )));
            }
            return Err(constraint(
                lang,
                "queryLanguage",
                "Member must satisfy enum value set: [CWLI, SQL, PPL]",
            ));
        }
    }
    let query_string = i
        .query_string
        .as_deref()
        .ok_or_else(|| missing("queryString"))?;
    let start = i.start_time.ok_or_else(|| missing("startTime"))?;
    let end = i.end_time.ok_or_else(|| missing("endTime"))?;
    range(start, "startTime", 0, i64::MAX / 1000 - 1)?;
    range(end, "endTime", 0, i64::MAX / 1000 - 1)?;
    if end < start {
        return Err(invalid_parameter(
            "The end time must be greater than or equal to the start time.",
        ));
    }
    if query_string.chars().count() > insights::parser::MAX_QUERY_LEN {
        return Err(constraint(
            "<queryString>",
            "queryString",
            "Member must have length less than or equal to 10000",
        ));
    }
    let limit = i.limit.unwrap_or(DEFAULT_LIMIT);
    range(limit, "limit", 1, MAX_LIMIT)?;
    let groups = groups(&i)?;
    for g in &groups {
        if api.store.group(g).is_none() {
            return Err(ApiError::new(
                NOT_FOUND,
                400,
                format!(
                    "Log group '{g}' does not exist for account ID '{}' (Service: AWSLogs; Status Code: 400; Error Code: ResourceNotFoundException; Request ID: {}; Proxy: null)",
                    ctx.account_id, ctx.request_id
                ),
            ));
        }
    }
    let query = insights::parse(query_string).map_err(|e| malformed(&e))?;
    let sources: String = groups.iter().map(|g| format!("\"{g}\" ")).collect();
    let spec = Spec {
        query,
        query_string: format!("SOURCE {sources}START={start}000 END={end}999 | {query_string}"),
        sources: groups
            .iter()
            .map(|g| Source {
                name: g.clone(),
                log: format!("{}:{g}", ctx.account_id),
            })
            .collect(),
        start_ms: start * 1000,
        end_ms: end * 1000 + 999,
        limit: limit as usize,
    };
    let job = api.queries.start(spec).map_err(|e| match e {
        StartError::TooManyQueries => {
            ApiError::new("LimitExceededException", 400, "Resource limit exceeded.")
        }
    })?;
    Ok(Some(Shape::obj().with("queryId", job.id.as_str())))
}

/// The group names of a StartQuery (exactly one of the three members).
fn groups(i: &StartQueryInput) -> Result<Vec<String>, ApiError> {
    let given = [
        i.log_group_name.is_some(),
        i.log_group_names.is_some(),
        i.log_group_identifiers.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given != 1 {
        return Err(invalid_parameter(
            "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified.",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    if let Some(n) = &i.log_group_name {
        group_name(n, "logGroupName")?;
        out.push(n.clone());
    }
    for (list, member) in [
        (&i.log_group_names, "logGroupNames"),
        (&i.log_group_identifiers, "logGroupIdentifiers"),
    ] {
        let Some(list) = list else { continue };
        if list.is_empty() || list.len() > MAX_GROUPS {
            let c = if list.is_empty() {
                "Member must have length greater than or equal to 1".to_string()
            } else {
                format!("Member must have length less than or equal to {MAX_GROUPS}")
            };
            return Err(constraint(&format!("{list:?}"), member, &c));
        }
        for g in list {
            let name = if member == "logGroupNames" {
                group_name(g, member)?;
                g.clone()
            } else {
                identifier_to_name(g)?
            };
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryIdInput {
    query_id: Option<String>,
}

fn job(api: &LogsApi, id: &Option<String>) -> Result<std::sync::Arc<Job>, ApiError> {
    let id = id.as_deref().ok_or_else(|| missing("queryId"))?;
    api.queries
        .get(id)
        .ok_or_else(|| ApiError::new(NOT_FOUND, 400, "The specified query does not exist."))
}

fn statistics(s: &insights::Statistics, groups: usize) -> Shape {
    Shape::obj()
        .with("recordsMatched", Shape::Float(s.records_matched as f64))
        .with("recordsScanned", Shape::Float(s.records_scanned as f64))
        .with("estimatedRecordsSkipped", Shape::Float(0.0))
        .with("bytesScanned", Shape::Float(s.bytes_scanned as f64))
        .with("estimatedBytesSkipped", Shape::Float(0.0))
        .with("logGroupsScanned", Shape::Float(groups as f64))
}

pub(super) fn get_query_results(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: QueryIdInput = parse_input(input, false)?;
    let job = job(api, &i.query_id)?;
    let state = job.state();
    let rows = state.output.as_ref().map_or(Vec::new(), |o| {
        o.rows
            .iter()
            .map(|r| {
                Shape::list(r.iter().map(|(f, v)| {
                    Shape::obj()
                        .with("field", f.as_str())
                        .with("value", v.as_str())
                }))
            })
            .collect()
    });
    Ok(Some(
        Shape::obj()
            .with("queryLanguage", "CWLI")
            .with("results", Shape::List(rows))
            .with(
                "statistics",
                statistics(&state.statistics, job.spec.sources.len()),
            )
            .with("status", state.status.as_str()),
    ))
}

pub(super) fn stop_query(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: QueryIdInput = parse_input(input, false)?;
    let job = job(api, &i.query_id)?;
    let stopped = api.queries.stop(&job);
    Ok(Some(Shape::obj().with("success", Shape::Bool(stopped))))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeQueriesInput {
    log_group_name: Option<String>,
    status: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    query_language: Option<String>,
}

pub(super) fn describe_queries(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: DescribeQueriesInput = parse_input(input, false)?;
    if let Some(g) = &i.log_group_name {
        group_name(g, "logGroupName")?;
    }
    if let Some(st) = i.status.as_deref() {
        if st != "Unknown" && Status::parse(st).is_none() {
            return Err(constraint(
                st,
                "status",
                "Member must satisfy enum value set: [Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown]",
            ));
        }
    }
    let max = i.max_results.unwrap_or(MAX_DESCRIBE);
    range(max, "maxResults", 1, MAX_DESCRIBE)?;
    let after = match i.next_token.as_deref() {
        None => None,
        Some(t) => match parse_list_token("queries", t)?.as_slice() {
            [seq] => Some(seq.parse::<u64>().map_err(|_| invalid_token())?),
            _ => return Err(invalid_token()),
        },
    };
    let mut out = Vec::new();
    let mut next = None;
    for job in api.queries.list() {
        if after.is_some_and(|seq| job.seq >= seq) {
            // Newest first: skip up to and including the last query of the previous page.
            continue;
        }
        if i.query_language.as_deref().is_some_and(|l| l != "CWLI") {
            continue;
        }
        if let Some(g) = &i.log_group_name {
            if !job.spec.sources.iter().any(|s| &s.name == g) {
                continue;
            }
        }
        let state = job.state();
        if i.status
            .as_deref()
            .is_some_and(|s| s != state.status.as_str())
        {
            continue;
        }
        if out.len() as i64 == max {
            next = out.last().map(|(j, _): &(std::sync::Arc<Job>, _)| {
                list_token("queries", &[&j.seq.to_string()])
            });
            break;
        }
        out.push((job, state));
    }
    let queries = out.iter().map(|(job, state)| {
        Shape::obj()
            .with("queryLanguage", "CWLI")
            .with("queryId", job.id.as_str())
            .with("queryString", job.spec.query_string.as_str())
            .with("status", state.status.as_str())
            .with("createTime", Shape::Int(job.create_time))
            .with_opt("queryDuration", state.duration_ms.map(Shape::Int))
            .with(
                "bytesScanned",
                Shape::Float(state.statistics.bytes_scanned as f64),
            )
            .with_opt(
                "logGroupName",
                job.spec.sources.first().map(|s| s.name.as_str()),
            )
    });
    Ok(Some(
        Shape::obj()
            .with("queries", Shape::list(queries))
            .with_opt("nextToken", next),
    ))
}
