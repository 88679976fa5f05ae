//! awsQuery form bodies decoded into a JSON tree.
//!
//! awsQuery flattens a structure into `key=value` pairs: `A.B=x` for nested members,
//! `L.member.N` (1-based) for lists, `M.entry.N.key` / `M.entry.N.value` for maps. Decoding them
//! into the same JSON tree an awsJson body would produce lets one typed input struct serve both
//! protocols; leaves stay strings and the [`crate::lenient`] types parse numbers, booleans and
//! timestamps from either form. Sparse or unordered list indices are accepted and ordered by
//! index, as AWS does. `Action` and `Version` are returned separately.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A decoded awsQuery request.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    pub action: String,
    pub version: Option<String>,
    pub params: Value,
}

/// The form body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("missing Action parameter")]
    MissingAction,
    #[error("malformed parameter name {0:?}")]
    BadKey(String),
    #[error("parameter {0:?} is given both as a value and as a structure")]
    Conflict(String),
}

enum Node {
    Leaf(String),
    Obj(BTreeMap<String, Node>),
    /// `is_map` is set for `entry` lists, which become objects of key -> value.
    List {
        is_map: bool,
        items: BTreeMap<u64, Node>,
    },
}

/// Decode an `application/x-www-form-urlencoded` awsQuery body.
pub fn decode(body: &[u8]) -> Result<QueryRequest, QueryError> {
    let mut action = None;
    let mut version = None;
    let mut root: BTreeMap<String, Node> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "Action" => action = Some(v.into_owned()),
            "Version" => version = Some(v.into_owned()),
            _ => {
                let segs: Vec<&str> = k.split('.').collect();
                insert_obj(&mut root, &segs, v.into_owned(), &k)?;
            }
        }
    }
    let action = action
        .filter(|a| !a.is_empty())
        .ok_or(QueryError::MissingAction)?;
    Ok(QueryRequest {
        action,
        version,
        params: obj_to_json(root),
    })
}

fn insert_obj(
    obj: &mut BTreeMap<String, Node>,
    segs: &[&str],
    value: String,
    key: &str,
) -> Result<(), QueryError> {
    let (first, rest) = match segs.split_first() {
        Some((f, r)) if !f.is_empty() => (*f, r),
        _ => return Err(QueryError::BadKey(key.to_string())),
    };
    if rest.is_empty() {
        match obj.get(first) {
            Some(Node::Leaf(_)) | None => {
                obj.insert(first.to_string(), Node::Leaf(value));
                Ok(())
            }
            // `Name=` with an empty value is how an empty list is sent; ignore it next to items.
            Some(_) if value.is_empty() => Ok(()),
            Some(_) => Err(QueryError::Conflict(key.to_string())),
        }
    } else {
        let entry = obj.entry(first.to_string());
        let node = match entry {
            std::collections::btree_map::Entry::Vacant(v) => v.insert(new_container(rest[0])),
            std::collections::btree_map::Entry::Occupied(o) => {
                let n = o.into_mut();
                if matches!(n, Node::Leaf(s) if s.is_empty()) {
                    *n = new_container(rest[0]);
                }
                n
            }
        };
        insert_node(node, rest, value, key)
    }
}

fn new_container(next: &str) -> Node {
    match next {
        "member" => Node::List {
            is_map: false,
            items: BTreeMap::new(),
        },
        "entry" => Node::List {
            is_map: true,
            items: BTreeMap::new(),
        },
        _ => Node::Obj(BTreeMap::new()),
    }
}

fn insert_node(node: &mut Node, segs: &[&str], value: String, key: &str) -> Result<(), QueryError> {
    match node {
        Node::Leaf(_) => Err(QueryError::Conflict(key.to_string())),
        Node::Obj(map) => insert_obj(map, segs, value, key),
        Node::List { items, .. } => {
            // segs = ["member"|"entry", index, rest...]
            let idx: u64 = segs
                .get(1)
                .and_then(|s| s.parse().ok())
                .filter(|i| *i >= 1)
                .ok_or_else(|| QueryError::BadKey(key.to_string()))?;
            let rest = &segs[2..];
            if rest.is_empty() {
                items.insert(idx, Node::Leaf(value));
                Ok(())
            } else {
                let child = items.entry(idx).or_insert_with(|| new_container(rest[0]));
                insert_node(child, rest, value, key)
            }
        }
    }
}

fn obj_to_json(map: BTreeMap<String, Node>) -> Value {
    let mut out = Map::new();
    for (k, v) in map {
        out.insert(k, node_to_json(v));
    }
    Value::Object(out)
}

fn node_to_json(node: Node) -> Value {
    match node {
        Node::Leaf(s) => Value::String(s),
        Node::Obj(m) => obj_to_json(m),
        Node::List {
            is_map: false,
            items,
        } => Value::Array(items.into_values().map(node_to_json).collect()),
        Node::List {
            is_map: true,
            items,
        } => {
            let mut out = Map::new();
            for item in items.into_values() {
                if let Value::Object(mut e) = node_to_json(item) {
                    if let Some(Value::String(k)) = e.remove("key") {
                        out.insert(k, e.remove("value").unwrap_or(Value::Null));
                    }
                }
            }
            Value::Object(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_nested_lists_and_maps() {
        let body = b"Action=PutMetricData&Version=2010-08-01&Namespace=ns&MetricData.member.2.MetricName=b&MetricData.member.1.MetricName=a&MetricData.member.1.Dimensions.member.1.Name=host&MetricData.member.1.Dimensions.member.1.Value=h%201&MetricData.member.1.Values.member.1=1.5&Tags.entry.1.key=k&Tags.entry.1.value=v&Empty=";
        let q = decode(body).unwrap();
        assert_eq!(q.action, "PutMetricData");
        assert_eq!(q.version.as_deref(), Some("2010-08-01"));
        assert_eq!(
            q.params,
            json!({
                "Namespace": "ns",
                "MetricData": [
                    {"MetricName": "a", "Dimensions": [{"Name": "host", "Value": "h 1"}], "Values": ["1.5"]},
                    {"MetricName": "b"}
                ],
                "Tags": {"k": "v"},
                "Empty": ""
            })
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode(b"Namespace=x"), Err(QueryError::MissingAction));
        assert!(matches!(
            decode(b"Action=A&L.member.0=x"),
            Err(QueryError::BadKey(_))
        ));
        assert!(matches!(
            decode(b"Action=A&L.member.x=x"),
            Err(QueryError::BadKey(_))
        ));
        assert!(matches!(
            decode(b"Action=A&X=1&X.Y=2"),
            Err(QueryError::Conflict(_))
        ));
        assert!(matches!(
            decode(b"Action=A&.X=1"),
            Err(QueryError::BadKey(_))
        ));
    }
}
