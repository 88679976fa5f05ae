//! collectd's `types.db`: the data-source names of each value type.
//!
//! Format: one type per line, `<type> <ds>[, <ds> ...]`, where each data source is
//! `name:TYPE:min:max` (`TYPE` is `ABSOLUTE`, `COUNTER`, `DERIVE` or `GAUGE`, any case; `min`
//! and `max` are numbers or `U`). Data sources are separated by commas and/or whitespace.
//! `#` starts a comment. A line that does not follow the format is skipped and counted.
//!
//! Only the names matter to the agent (the value types travel in every packet). When several
//! files are configured, a later definition of a type replaces an earlier one. The agent starts
//! from [`TypesDb::builtin`] (the most common types, so a host without collectd's `types.db`
//! still gets `load_shortterm` and `interface_rx`) and lays the configured files over it.

use std::collections::HashMap;
use std::path::Path;

/// Type name → data-source names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypesDb {
    types: HashMap<String, Vec<String>>,
}

/// What [`TypesDb::add_text`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    pub types: usize,
    pub bad_lines: usize,
}

/// Data-source names of common collectd types, used when no `types.db` can be read.
const BUILTIN: &[(&str, &[&str])] = &[
    ("absolute", &["value"]),
    ("bytes", &["value"]),
    ("cache_ratio", &["value"]),
    ("connections", &["value"]),
    ("contextswitch", &["value"]),
    ("count", &["value"]),
    ("counter", &["value"]),
    ("cpu", &["value"]),
    ("current_connections", &["value"]),
    ("derive", &["value"]),
    ("df", &["used", "free"]),
    ("df_complex", &["value"]),
    ("df_inodes", &["value"]),
    ("disk_io_time", &["io_time", "weighted_io_time"]),
    ("disk_latency", &["read", "write"]),
    ("disk_merged", &["read", "write"]),
    ("disk_octets", &["read", "write"]),
    ("disk_ops", &["read", "write"]),
    ("disk_ops_complex", &["value"]),
    ("disk_time", &["read", "write"]),
    ("entropy", &["value"]),
    ("fork_rate", &["value"]),
    ("frequency", &["value"]),
    ("gauge", &["value"]),
    ("if_dropped", &["rx", "tx"]),
    ("if_errors", &["rx", "tx"]),
    ("if_octets", &["rx", "tx"]),
    ("if_packets", &["rx", "tx"]),
    ("io_octets", &["rx", "tx"]),
    ("io_packets", &["rx", "tx"]),
    ("irq", &["value"]),
    ("latency", &["value"]),
    ("load", &["shortterm", "midterm", "longterm"]),
    ("memory", &["value"]),
    ("percent", &["value"]),
    ("percent_bytes", &["value"]),
    ("percent_inodes", &["value"]),
    ("pg_blks", &["value"]),
    ("ps_count", &["processes", "threads"]),
    ("ps_cputime", &["user", "syst"]),
    ("ps_disk_octets", &["read", "write"]),
    ("ps_disk_ops", &["read", "write"]),
    ("ps_pagefaults", &["minflt", "majflt"]),
    ("ps_rss", &["value"]),
    ("ps_state", &["value"]),
    ("ps_vm", &["value"]),
    ("queue_length", &["value"]),
    ("response_time", &["value"]),
    ("swap", &["value"]),
    ("swap_io", &["value"]),
    ("tcp_connections", &["value"]),
    ("temperature", &["value"]),
    ("threads", &["value"]),
    ("total_requests", &["value"]),
    ("uptime", &["value"]),
    ("users", &["value"]),
    ("vmpage_action", &["value"]),
    ("vmpage_faults", &["minflt", "majflt"]),
    ("vmpage_io", &["in", "out"]),
    ("vmpage_number", &["value"]),
];

impl TypesDb {
    /// The built-in definitions of common types.
    pub fn builtin() -> TypesDb {
        let types = BUILTIN
            .iter()
            .map(|(t, names)| {
                (
                    (*t).to_string(),
                    names.iter().map(|n| (*n).to_string()).collect(),
                )
            })
            .collect();
        TypesDb { types }
    }

    /// Add (or replace) the definitions in `text`.
    pub fn add_text(&mut self, text: &str) -> Loaded {
        let mut loaded = Loaded::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut tokens = line.split(|c: char| c.is_whitespace() || c == ',');
            let Some(name) = tokens.find(|t| !t.is_empty()) else {
                continue;
            };
            let mut names = Vec::new();
            let mut ok = true;
            for ds in tokens.filter(|t| !t.is_empty()) {
                match data_source_name(ds) {
                    Some(n) => names.push(n.to_string()),
                    None => ok = false,
                }
            }
            if !ok || names.is_empty() {
                loaded.bad_lines += 1;
                continue;
            }
            self.types.insert(name.to_string(), names);
            loaded.types += 1;
        }
        loaded
    }

    /// Read `path` and add its definitions.
    pub fn add_file(&mut self, path: &Path) -> std::io::Result<Loaded> {
        let bytes = std::fs::read(path)?;
        Ok(self.add_text(&String::from_utf8_lossy(&bytes)))
    }

    /// The data-source names of `type_name`.
    pub fn names(&self, type_name: &str) -> Option<&[String]> {
        self.types.get(type_name).map(Vec::as_slice)
    }

    /// Number of types defined.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether no type is defined.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

/// The name of `name:TYPE:min:max`, when well formed.
fn data_source_name(ds: &str) -> Option<&str> {
    let mut f = ds.split(':');
    let (name, kind, min, max) = (f.next()?, f.next()?, f.next()?, f.next()?);
    if f.next().is_some() || name.is_empty() {
        return None;
    }
    let kind_ok = ["ABSOLUTE", "COUNTER", "DERIVE", "GAUGE"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(kind));
    let bound_ok = |b: &str| b == "U" || b.parse::<f64>().is_ok();
    (kind_ok && bound_ok(min) && bound_ok(max)).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let mut db = TypesDb::default();
        let l = db.add_text(
            "# header\n\
             cpu value:DERIVE:0:U\n\
             if_octets\t\trx:DERIVE:0:U, tx:DERIVE:0:U\n\
             load shortterm:GAUGE:0:5000,midterm:gauge:0:5000 longterm:GAUGE:0:5000 # trailing\n\
             broken value:NOPE:0:U\n\
             short value:GAUGE:0\n\
             lonely\n\
             \n",
        );
        assert_eq!(
            l,
            Loaded {
                types: 3,
                bad_lines: 3
            }
        );
        assert_eq!(db.names("cpu"), Some(&["value".to_string()][..]));
        assert_eq!(
            db.names("if_octets").map(<[String]>::to_vec),
            Some(vec!["rx".to_string(), "tx".to_string()])
        );
        assert_eq!(db.names("load").map(<[String]>::len), Some(3));
        assert_eq!(db.names("broken"), None);
        // A later definition replaces an earlier one.
        db.add_text("cpu percent:GAUGE:0:100.1\n");
        assert_eq!(db.names("cpu"), Some(&["percent".to_string()][..]));
    }

    #[test]
    fn builtin_covers_common_types() {
        let db = TypesDb::builtin();
        for t in [
            "cpu",
            "memory",
            "df_complex",
            "disk_octets",
            "if_octets",
            "load",
        ] {
            assert!(db.names(t).is_some(), "{t}");
        }
        assert_eq!(db.names("disk_octets").map(<[String]>::len), Some(2));
    }

    #[test]
    fn system_types_db_agrees_with_builtin() {
        // When collectd's own types.db is on this machine, the built-in names must match it.
        let path = Path::new("/usr/share/collectd/types.db");
        let mut db = TypesDb::default();
        let Ok(l) = db.add_file(path) else {
            return;
        };
        assert!(l.types > 100, "{l:?}");
        let builtin = TypesDb::builtin();
        for (t, names) in &builtin.types {
            if let Some(real) = db.names(t) {
                assert_eq!(real, names.as_slice(), "{t}");
            }
        }
    }
}
