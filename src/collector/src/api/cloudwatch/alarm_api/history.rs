//! DescribeAlarmHistory: filters by alarm, alarm type (metric alarms only when omitted, as AWS
//! documents), item type and time; newest first unless `ScanBy` says otherwise; pages of
//! `MaxRecords` (default 100) with a token holding the last item's (time, id).

use hostwatch_aws::lenient::{Int, List, Timestamp};
use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::common;
use super::describe::alarm_types;
use crate::alarms::history::ItemType;
use crate::alarms::model::AlarmKind;
use crate::alarms::{AlarmError, AlarmService};
use crate::api::cloudwatch::token;
use crate::api::cloudwatch::validate::Violations;
use crate::api::parse_input;
use crate::store::alarms::HistoryQuery;

const TOKEN_KIND: &str = "DescribeAlarmHistory";
const DEFAULT_MAX_RECORDS: usize = 100;

/// Every `HistoryItemType` of the model, including those this collector never writes.
const ITEM_TYPES: [&str; 5] = [
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    alarm_name: Option<String>,
    alarm_contributor_id: Option<String>,
    alarm_types: Option<List<String>>,
    history_item_type: Option<String>,
    start_date: Option<Timestamp>,
    end_date: Option<Timestamp>,
    max_records: Option<Int>,
    next_token: Option<String>,
    scan_by: Option<String>,
}

/// A validated request; `None` query = a filter nothing can match (contributor items).
#[derive(Debug, Clone)]
pub struct Request {
    query: Option<HistoryQuery>,
    fingerprint: String,
}

/// Validate a DescribeAlarmHistory request.
pub fn validate(input: serde_json::Value, fingerprint: String) -> Result<Request, ApiError> {
    let i: Input = parse_input(input, true)?;
    let mut v = Violations::default();
    if let Some(n) = &i.alarm_name {
        common::alarm_name(&mut v, "alarmName", n);
    }
    if let Some(c) = &i.alarm_contributor_id {
        v.length("alarmContributorId", c, 1, 16);
    }
    let mut kinds = alarm_types(&mut v, i.alarm_types.as_ref());
    if let Some(t) = &i.history_item_type {
        v.one_of("historyItemType", t, &ITEM_TYPES);
    }
    let ascending = match i.scan_by.as_deref() {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(other) => {
            v.one_of(
                "scanBy",
                other,
                &["TimestampDescending", "TimestampAscending"],
            );
            false
        }
    };
    let limit = match i.max_records {
        None => DEFAULT_MAX_RECORDS,
        Some(Int(m)) => {
            common::between(&mut v, "maxRecords", m, 1, 100);
            usize::try_from(m).unwrap_or(1)
        }
    };
    v.finish()?;
    if kinds.is_empty() {
        kinds.push(AlarmKind::Metric);
    }
    let after = match &i.next_token {
        None => None,
        Some(t) => {
            let (ts, id, fp): (i64, i64, String) = token::decode(TOKEN_KIND, t)?;
            if fp != fingerprint {
                return Err(token::invalid());
            }
            Some((ts, id))
        }
    };
    let item_type = i.history_item_type.as_deref().map(ItemType::parse);
    let query = match item_type {
        Some(None) => None,
        _ if i.alarm_contributor_id.is_some() => None,
        other => Some(HistoryQuery {
            alarm_name: i.alarm_name.clone(),
            kinds,
            item_type: other.flatten(),
            start_ms: i.start_date.map(|Timestamp(t)| t),
            end_ms: i.end_date.map(|Timestamp(t)| t),
            ascending,
            after,
            limit: limit + 1,
        }),
    };
    Ok(Request { query, fingerprint })
}

/// Run the query (blocking: reads SQLite).
pub fn run(service: &AlarmService, r: &Request) -> Result<Option<Shape>, AlarmError> {
    let Some(q) = &r.query else {
        return Ok(Some(
            Shape::obj().with("AlarmHistoryItems", Shape::List(Vec::new())),
        ));
    };
    let mut items = service.history(q)?;
    let page = q.limit.saturating_sub(1);
    let more = items.len() > page;
    items.truncate(page);
    let next = match (more, items.last()) {
        (true, Some(last)) => Some(token::encode(
            TOKEN_KIND,
            &(last.item.ts_ms, last.id, &r.fingerprint),
        )),
        _ => None,
    };
    let list: Vec<Shape> = items
        .iter()
        .map(|s| {
            Shape::obj()
                .with("AlarmName", s.item.alarm_name.as_str())
                .with("AlarmType", s.item.alarm_kind.as_str())
                .with("Timestamp", Shape::Timestamp(s.item.ts_ms))
                .with("HistoryItemType", s.item.item_type.as_str())
                .with("HistorySummary", s.item.summary.as_str())
                .with("HistoryData", s.item.data.as_str())
        })
        .collect();
    Ok(Some(
        Shape::obj()
            .with("AlarmHistoryItems", Shape::List(list))
            .with_opt("NextToken", next),
    ))
}
