//! Schema of `logs.db` (see the module docs of [`super`] for the meaning of each column).

/// Ordered migrations; `PRAGMA user_version` counts how many have run.
pub const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE log_groups (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    creation_time   INTEGER NOT NULL,
    retention_days  INTEGER,
    kms_key_id      TEXT,
    log_group_class TEXT NOT NULL,
    tags            TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE log_streams (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id            INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    creation_time       INTEGER NOT NULL,
    first_event_ts      INTEGER,
    last_event_ts       INTEGER,
    last_ingestion_time INTEGER,
    stored_bytes        INTEGER NOT NULL DEFAULT 0,
    next_seq            INTEGER NOT NULL DEFAULT 1,
    UNIQUE (group_id, name)
);
CREATE TABLE log_blocks (
    id             INTEGER PRIMARY KEY,
    stream_id      INTEGER NOT NULL REFERENCES log_streams(id) ON DELETE CASCADE,
    min_ts         INTEGER NOT NULL,
    max_ts         INTEGER NOT NULL,
    first_seq      INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    raw_bytes      INTEGER NOT NULL,
    blob           BLOB NOT NULL
);
CREATE INDEX log_blocks_stream_min ON log_blocks(stream_id, min_ts);
CREATE INDEX log_blocks_stream_max ON log_blocks(stream_id, max_ts);
CREATE TABLE log_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO log_meta (key, value) VALUES ('next_seq', 1);
"#];
