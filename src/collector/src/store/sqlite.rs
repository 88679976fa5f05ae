//! SQLite plumbing shared by the stores: opening, migrations, group commit.
//!
//! # Durability contract
//! [`Committer::submit`] resolves only after the transaction holding the job has committed
//! (`synchronous=NORMAL` in WAL mode: the commit survives a process crash such as `kill -9`;
//! `synchronous=FULL` is used when [`OpenOptions::fsync_every_commit`] is set, which also
//! survives power loss). A job whose `apply` fails is rolled back alone (a savepoint per job),
//! so one bad request never fails its neighbours in the same group.
//!
//! # Migrations
//! A store passes its ordered list of migration scripts; `PRAGMA user_version` records how many
//! have run. Each runs in its own transaction. A database whose version is newer than the
//! list is refused rather than misread.

use super::StoreError;
use rusqlite::{Connection, OpenFlags, Transaction};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How a database is opened.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// Page cache size in KiB for this connection.
    pub cache_kib: i64,
    /// `synchronous=FULL` instead of `NORMAL`.
    pub fsync_every_commit: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            cache_kib: 64 * 1024,
            fsync_every_commit: false,
        }
    }
}

/// Open (creating if needed) a database in WAL mode and bring its schema up to date.
pub fn open(path: &Path, migrations: &[&str], opts: OpenOptions) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, opts)?;
    migrate(&conn, migrations)?;
    Ok(conn)
}

/// Open an extra connection to an existing database, for reads.
pub fn open_reader(path: &Path, opts: OpenOptions) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, opts)?;
    Ok(conn)
}

fn configure(conn: &Connection, opts: OpenOptions) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(
        None,
        "synchronous",
        if opts.fsync_every_commit {
            "FULL"
        } else {
            "NORMAL"
        },
    )?;
    conn.pragma_update(None, "cache_size", -opts.cache_kib)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn migrate(conn: &Connection, migrations: &[&str]) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = migrations.len() as i64;
    if version > supported {
        return Err(StoreError::SchemaTooNew {
            found: version,
            supported,
        });
    }
    for (i, script) in migrations.iter().enumerate().skip(version as usize) {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {};\nCOMMIT;",
            i + 1
        ))
        .inspect_err(|_| {
            let _ = conn.execute_batch("ROLLBACK;");
        })?;
    }
    Ok(())
}

type Reply = oneshot::Sender<Result<(), StoreError>>;

/// A single writer thread that group-commits jobs.
///
/// `apply` runs inside the group's transaction (under a per-job savepoint); `on_commit` runs
/// after the transaction committed, once per successfully applied job, in submission order
/// (stores use it to publish committed data to in-memory indexes).
#[derive(Debug)]
pub struct Committer<J: Send + 'static> {
    tx: mpsc::SyncSender<(J, Reply)>,
}

impl<J: Send + 'static> Clone for Committer<J> {
    fn clone(&self) -> Self {
        Committer {
            tx: self.tx.clone(),
        }
    }
}

/// Limits of one commit group.
#[derive(Debug, Clone, Copy)]
pub struct GroupLimits {
    /// Most jobs in one transaction.
    pub max_jobs: usize,
    /// Queue depth before submitters wait.
    pub queue: usize,
}

impl Default for GroupLimits {
    fn default() -> Self {
        GroupLimits {
            max_jobs: 256,
            queue: 1024,
        }
    }
}

impl<J: Send + 'static> Committer<J> {
    /// Start the writer thread on `conn`.
    pub fn spawn<A, C>(
        name: &str,
        mut conn: Connection,
        limits: GroupLimits,
        mut apply: A,
        mut on_commit: C,
    ) -> Result<Self, StoreError>
    where
        A: FnMut(&Transaction<'_>, &J) -> Result<(), StoreError> + Send + 'static,
        C: FnMut(J) + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel::<(J, Reply)>(limits.queue);
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut group = vec![first];
                    while group.len() < limits.max_jobs {
                        match rx.try_recv() {
                            Ok(j) => group.push(j),
                            Err(_) => break,
                        }
                    }
                    commit_group(&mut conn, group, &mut apply, &mut on_commit);
                }
            })?;
        Ok(Committer { tx })
    }

    /// Queue a job; resolves once it is committed (or failed).
    pub async fn submit(&self, job: J) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.clone();
        // The queue is bounded; a full queue waits on a blocking thread, not on the runtime.
        match tx.try_send((job, reply)) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(item)) => {
                tokio::task::spawn_blocking(move || tx.send(item))
                    .await
                    .map_err(|_| StoreError::WriterGone)?
                    .map_err(|_| StoreError::WriterGone)?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(StoreError::WriterGone),
        }
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Queue a job and block the calling (non-async) thread until it is committed.
    pub fn submit_blocking(&self, job: J) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send((job, reply))
            .map_err(|_| StoreError::WriterGone)?;
        rx.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }
}

fn commit_group<J, A, C>(
    conn: &mut Connection,
    group: Vec<(J, Reply)>,
    apply: &mut A,
    on_commit: &mut C,
) where
    A: FnMut(&Transaction<'_>, &J) -> Result<(), StoreError>,
    C: FnMut(J),
{
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for (_, reply) in group {
                let _ = reply.send(Err(StoreError::Corrupt(format!(
                    "cannot begin transaction: {msg}"
                ))));
            }
            return;
        }
    };
    let mut results: Vec<(J, Reply, Result<(), StoreError>)> = Vec::with_capacity(group.len());
    for (job, reply) in group {
        let r = (|| {
            tx.execute_batch("SAVEPOINT job")?;
            match apply(&tx, &job) {
                Ok(()) => {
                    tx.execute_batch("RELEASE job")?;
                    Ok(())
                }
                Err(e) => {
                    tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
                    Err(e)
                }
            }
        })();
        results.push((job, reply, r));
    }
    match tx.commit() {
        Ok(()) => {
            for (job, reply, r) in results {
                if r.is_ok() {
                    on_commit(job);
                }
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for (_, reply, _) in results {
                let _ = reply.send(Err(StoreError::Corrupt(format!("commit failed: {msg}"))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    const MIGRATIONS: &[&str] = &[
        "CREATE TABLE t (v INTEGER NOT NULL);",
        "CREATE INDEX t_v ON t(v);",
    ];

    #[test]
    fn migrations_are_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.db");
        let c = open(&p, &MIGRATIONS[..1], OpenOptions::default()).unwrap();
        drop(c);
        let c = open(&p, MIGRATIONS, OpenOptions::default()).unwrap();
        let v: i64 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 2);
        drop(c);
        assert!(matches!(
            open(&p, &MIGRATIONS[..1], OpenOptions::default()),
            Err(StoreError::SchemaTooNew { .. })
        ));
    }

    #[tokio::test]
    async fn group_commit_isolates_failing_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.db");
        let conn = open(&p, MIGRATIONS, OpenOptions::default()).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let c = Committer::spawn(
            "test-writer",
            conn,
            GroupLimits::default(),
            |tx, v: &i64| {
                if *v < 0 {
                    tx.execute("INSERT INTO t (v) VALUES (NULL)", [])?;
                }
                tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                Ok(())
            },
            move |v| seen2.lock().unwrap().push(v),
        )
        .unwrap();
        let jobs: Vec<_> = [1i64, -1, 2, 3]
            .into_iter()
            .map(|v| {
                let c = c.clone();
                tokio::spawn(async move { (v, c.submit(v).await) })
            })
            .collect();
        for j in jobs {
            let (v, r) = j.await.unwrap();
            assert_eq!(r.is_ok(), v >= 0, "job {v}");
        }
        let r = open_reader(&p, OpenOptions::default()).unwrap();
        let n: i64 = r
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
        let mut s = seen.lock().unwrap().clone();
        s.sort();
        assert_eq!(s, vec![1, 2, 3]);
    }
}
