//! Durable storage for the collector.
//!
//! Each concern owns one SQLite database file under the data directory (`metrics.db`,
//! `logs.db`, `alarms.db` (alarms, history, the event outbox), `anomaly.db` (anomaly
//! detectors), `ssm.db` (Parameter Store), `log_filters.db` (metric
//! and subscription filters of log groups)), opened through [`sqlite::open`] (WAL mode,
//! versioned migrations). The data stores write through a [`sqlite::Committer`]: a single
//! writer thread that group-commits the jobs of all concurrent requests in one transaction and
//! answers each request only after that transaction has committed. Reads use their own
//! connections and never block the writer. The configuration stores (`anomaly.db`, `ssm.db`:
//! a few rows, rare writes) use one connection behind a mutex, one transaction per write.

pub mod alarms;
pub mod anomaly;
pub mod dashboards;
pub mod events;
pub mod export_tasks;
pub mod log_filters;
pub mod logs;
pub mod metrics;
pub mod sqlite;
pub mod ssm;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("database schema version {found} is newer than this collector supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
}
