//! The `metrics.db` schema (ordered migrations; see the module docs of `store::metrics`).

/// Migration scripts, applied in order; `PRAGMA user_version` counts the applied ones.
pub const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE series (
    id          INTEGER PRIMARY KEY,
    namespace   TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    dimensions  TEXT NOT NULL,
    unit        INTEGER NOT NULL
);
CREATE TABLE ingest (
    seq  INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
CREATE TABLE blocks (
    series_id INTEGER NOT NULL,
    t_min     INTEGER NOT NULL,
    t_max     INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    data      BLOB NOT NULL
);
CREATE INDEX blocks_series_time ON blocks(series_id, t_max);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('compacted_seq', 0);
"#];

/// `meta` key of the highest ingest sequence number folded into blocks.
pub const COMPACTED_SEQ: &str = "compacted_seq";
