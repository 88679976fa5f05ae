//! Merging the config directory's files into the one config the agent reads.
//!
//! Rules (those of the CloudWatch agent's multi-config merge, with errors that also name the
//! files): files are merged in file-name order; objects are merged key by key; lists (e.g.
//! `collect_list`, `procstat`, `measurement`) are unioned, keeping the first occurrence of
//! deep-equal items; any other value (a scalar, or a list/object against something else) must
//! be equal in every file that sets it, else
//! `Under path : /agent/region | Error : Different values are specified for region (file_a:
//! "us-east-1", ssm_b: "eu-west-1")`. Every conflict is reported, not just the first.

use serde_json::{Map, Value};

/// One merge conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// JSON pointer of the value, e.g. `/agent/region`.
    pub path: String,
    /// The file that set it first and its value.
    pub first: (String, String),
    /// The file that disagrees and its value.
    pub other: (String, String),
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = self.path.rsplit('/').next().unwrap_or("");
        write!(
            f,
            "Under path : {} | Error : Different values are specified for {key} ({}: {}, {}: {})",
            self.path, self.first.0, self.first.1, self.other.0, self.other.1
        )
    }
}

/// Merge `files` (name, parsed JSON) in name order.
pub fn merge(files: &[(String, Value)]) -> Result<Value, Vec<Conflict>> {
    let mut sorted: Vec<&(String, Value)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Value::Object(Map::new());
    // Which file set each scalar path first (for messages).
    let mut owners: Vec<(String, String)> = Vec::new();
    let mut conflicts = Vec::new();
    for (name, value) in sorted {
        merge_into(&mut out, value, "", name, &mut owners, &mut conflicts);
    }
    if conflicts.is_empty() {
        Ok(out)
    } else {
        Err(conflicts)
    }
}

fn owner_of<'a>(owners: &'a [(String, String)], path: &str) -> &'a str {
    owners
        .iter()
        .find(|(p, _)| p == path)
        .map_or("", |(_, f)| f.as_str())
}

fn merge_into(
    dst: &mut Value,
    src: &Value,
    path: &str,
    file: &str,
    owners: &mut Vec<(String, String)>,
    conflicts: &mut Vec<Conflict>,
) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match d.get_mut(k) {
                    Some(existing) => merge_into(existing, v, &p, file, owners, conflicts),
                    None => {
                        record_owners(v, &p, file, owners);
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(s)) => {
            for item in s {
                if !d.contains(item) {
                    d.push(item.clone());
                }
            }
        }
        (d, s) => {
            if d != s {
                conflicts.push(Conflict {
                    path: path.to_string(),
                    first: (owner_of(owners, path).to_string(), d.to_string()),
                    other: (file.to_string(), s.to_string()),
                });
            }
        }
    }
}

fn record_owners(v: &Value, path: &str, file: &str, owners: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            owners.push((path.to_string(), file.to_string()));
            for (k, c) in m {
                record_owners(
                    c,
                    &format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")),
                    file,
                    owners,
                );
            }
        }
        _ => owners.push((path.to_string(), file.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str, v: Value) -> (String, Value) {
        (name.to_string(), v)
    }

    #[test]
    fn objects_merge_and_lists_union_without_duplicates() {
        let a = json!({"agent": {"region": "us-east-1"},
            "logs": {"logs_collected": {"files": {"collect_list": [
                {"file_path": "/var/log/a.log", "log_group_name": "a"}]}}},
            "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}});
        let b = json!({"agent": {"region": "us-east-1", "debug": false},
            "logs": {"logs_collected": {"files": {"collect_list": [
                {"file_path": "/var/log/b.log", "log_group_name": "b"},
                {"file_path": "/var/log/a.log", "log_group_name": "a"}]}}},
            "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent", "mem_free"]},
                                               "cpu": {"totalcpu": true}}}});
        let m = merge(&[f("file_b", b), f("file_a", a)]).unwrap();
        assert_eq!(m["agent"], json!({"region": "us-east-1", "debug": false}));
        let list = m["logs"]["logs_collected"]["files"]["collect_list"]
            .as_array()
            .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["file_path"], "/var/log/a.log", "file_a comes first");
        assert_eq!(
            m["metrics"]["metrics_collected"]["mem"]["measurement"],
            json!(["mem_used_percent", "mem_free"])
        );
        assert_eq!(m["metrics"]["metrics_collected"]["cpu"]["totalcpu"], true);
    }

    #[test]
    fn scalars_must_agree_and_every_conflict_names_path_and_files() {
        let a = json!({"agent": {"region": "us-east-1", "metrics_collection_interval": 60}});
        let b = json!({"agent": {"region": "eu-west-1", "metrics_collection_interval": 10}});
        let c = json!({"agent": {"region": {"nested": true}}});
        let errs = merge(&[f("ssm_b", b), f("file_a", a), f("x_c", c)]).unwrap_err();
        let lines: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "Under path : /agent/metrics_collection_interval | Error : Different values are \
                 specified for metrics_collection_interval (file_a: 60, ssm_b: 10)",
                "Under path : /agent/region | Error : Different values are specified for region \
                 (file_a: \"us-east-1\", ssm_b: \"eu-west-1\")",
                "Under path : /agent/region | Error : Different values are specified for region \
                 (file_a: \"us-east-1\", x_c: {\"nested\":true})",
            ]
        );
    }

    #[test]
    fn equal_scalars_and_empty_input() {
        assert_eq!(merge(&[]).unwrap(), json!({}));
        let a = json!({"logs": {"force_flush_interval": 5}});
        assert_eq!(merge(&[f("a", a.clone()), f("b", a.clone())]).unwrap(), a);
    }
}
