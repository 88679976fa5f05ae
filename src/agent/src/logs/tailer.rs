//! The tailer thread: discovery, reading, event assembly, batching, and writing batches to the
//! spool. One plain thread serves every file (file reads block; a thousand idle files cost
//! nothing because the thread sleeps until inotify or a timer wakes it).
//!
//! Order of work in one round: take file-system messages (new files, changes), re-scan when due,
//! read every file marked changed (a bounded amount per file per round, so one busy file cannot
//! starve the others), flush multi-line events and partial lines that waited too long, seal
//! batches that are full or older than `force_flush_interval`, `fsync` the spool once for all
//! records appended in the round, and wake the sender.
//!
//! Ordering guarantee: each file's data enters the spool in read order. A file feeds one batch
//! at a time; when its destination changes (`{date}` rollover) the old batch is sealed first.
//!
//! Backpressure: when the spool is full the thread waits for the sender to free space; it stops
//! reading meanwhile and never drops anything.

use hostwatch_tailer::{
    CheckpointStore, Fingerprint, Fingerprinter, Identity, ReadEvent, ReaderOptions,
};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use super::batch::{BatchBuilder, Event};
use super::discovery::{Discovery, Msg, Selector};
use super::file::{find_copy, find_renamed, open_at_resume, reopen_same, ResumeIndex, TailedFile};
use super::names::{destination, HostFacts};
use super::process::{EntrySettings, Outcome, Processor};
use super::queue::Queue;
use super::LogsOptions;
use crate::config::FileLogConfig;

/// Checkpoints of files gone this long are forgotten.
const PRUNE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most bytes read from one file in one round before the others get their turn.
const READ_BUDGET: u64 = 4 << 20;

/// One `collect_list` entry, compiled.
#[derive(Debug, Clone)]
pub struct Entry {
    pub config: FileLogConfig,
    pub selector: Selector,
    pub settings: Arc<EntrySettings>,
}

/// Counters, shared with the status reporting.
#[derive(Debug, Default)]
pub struct TailStats {
    pub files_open: std::sync::atomic::AtomicU64,
    pub events: std::sync::atomic::AtomicU64,
    pub filtered: std::sync::atomic::AtomicU64,
    pub rejected_too_old: std::sync::atomic::AtomicU64,
    pub rejected_too_new: std::sync::atomic::AtomicU64,
    pub batches: std::sync::atomic::AtomicU64,
}

/// Resume positions: acknowledged checkpoints plus what is already in the spool.
pub struct Resume {
    pub checkpoints: Arc<Mutex<CheckpointStore>>,
    /// Newest spooled end offset per file key, with the path the file was tailed under (from
    /// the spool at start, then kept current).
    pub spooled: HashMap<Fingerprint, (u64, String)>,
}

impl ResumeIndex for Resume {
    fn resume(&self, file: &mut File, f: &Fingerprinter) -> Option<(Fingerprint, u64)> {
        let stored = self
            .checkpoints
            .lock()
            .ok()
            .and_then(|c| c.find(file, f).ok().flatten())
            .map(|(fp, cp)| (fp, cp.offset));
        let meta = file.metadata().ok()?;
        let (dev, inode) = hostwatch_tailer::fingerprint::dev_inode(&meta);
        let mut spooled: Option<(Fingerprint, u64)> = None;
        for (fp, (end, _)) in &self.spooled {
            if fp.dev == dev
                && fp.inode == inode
                && f.identify(file, fp).ok() == Some(Identity::Same)
                && spooled.as_ref().is_none_or(|(_, e)| end > e)
            {
                spooled = Some((fp.clone(), *end));
            }
        }
        match (stored, spooled) {
            (Some((fp, a)), Some((_, b))) => Some((fp, a.max(b))),
            (Some(s), None) | (None, Some(s)) => Some(s),
            (None, None) => None,
        }
    }
}

/// The tailer thread's state.
pub struct Tailer {
    entries: Vec<Entry>,
    facts: HostFacts,
    default_stream: Option<String>,
    opts: LogsOptions,
    fingerprinter: Fingerprinter,
    resume: Resume,
    queue: Arc<Queue>,
    files: HashMap<PathBuf, TailedFile>,
    draining: Vec<TailedFile>,
    changed: Vec<PathBuf>,
    builders: HashMap<(String, String), BatchBuilder>,
    stats: Arc<TailStats>,
    appended: bool,
    next_rescan: Instant,
    next_poll: Instant,
    outcomes: Vec<(u64, Outcome)>,
    /// Paths whose file was replaced: start the new file after this round.
    pending_new: Vec<PathBuf>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

impl Tailer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        entries: Vec<Entry>,
        facts: HostFacts,
        default_stream: Option<String>,
        opts: LogsOptions,
        resume: Resume,
        queue: Arc<Queue>,
        stats: Arc<TailStats>,
    ) -> Tailer {
        let now = Instant::now();
        Tailer {
            entries,
            facts,
            default_stream,
            opts,
            fingerprinter: Fingerprinter::default(),
            resume,
            queue,
            files: HashMap::new(),
            draining: Vec::new(),
            changed: Vec::new(),
            builders: HashMap::new(),
            stats,
            appended: false,
            next_rescan: now,
            next_poll: now,
            outcomes: Vec::new(),
            pending_new: Vec::new(),
        }
    }

    /// Run until `stop` is set or [`Msg::Stop`] arrives; returns after sealing every batch.
    pub fn run(mut self, tx: mpsc::Sender<Msg>, rx: mpsc::Receiver<Msg>, stop: Arc<AtomicBool>) {
        let selectors: Vec<Selector> = self.entries.iter().map(|e| e.selector.clone()).collect();
        let mut discovery = Discovery::start(&selectors, tx);
        self.recover_rotated();
        self.rescan();
        // A rotation between the first pass and the scan: its old file is found now (what
        // was drained already counts as spooled, so nothing is read twice).
        self.recover_rotated();
        self.prune_gone();
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let wait = self
                .next_deadline()
                .saturating_duration_since(Instant::now());
            let mut msgs = Vec::new();
            match rx.recv_timeout(wait) {
                Ok(m) => msgs.push(m),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            msgs.extend(rx.try_iter());
            let mut rescan = false;
            for m in msgs {
                match m {
                    Msg::Stop => stop.store(true, Ordering::Relaxed),
                    Msg::Rescan => rescan = true,
                    Msg::Changed(paths) => self.on_changed(paths),
                }
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let now = Instant::now();
            if rescan || now >= self.next_rescan {
                discovery.retry_unwatched();
                self.rescan();
                let every = if discovery.complete() {
                    self.opts.rescan_interval
                } else {
                    self.opts.poll_interval
                };
                self.next_rescan = now + every;
            }
            if now >= self.next_poll {
                // Safety net for missed notifications: read every open file. With inotify
                // covering every base directory this is needed rarely (a lost event also
                // triggers a re-scan); without it, it is how changes are found.
                self.changed.extend(
                    self.files
                        .iter()
                        .filter(|(_, f)| f.reader.is_some())
                        .map(|(p, _)| p.clone()),
                );
                let every = if discovery.complete() {
                    self.opts.rescan_interval
                } else {
                    self.opts.poll_interval
                };
                self.next_poll = now + every;
            }
            self.round(&stop);
        }
        self.shutdown();
    }

    fn next_deadline(&self) -> Instant {
        let tick = Instant::now() + Duration::from_secs(1);
        let mut d = tick.min(self.next_rescan).min(self.next_poll);
        if !self.changed.is_empty() {
            d = Instant::now();
        }
        d
    }

    fn entry_for(&self, path: &Path) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.selector.accepts(path, &self.opts.state_dir))
    }

    fn on_changed(&mut self, paths: Vec<PathBuf>) {
        for p in paths {
            if self.files.contains_key(&p) {
                self.changed.push(p);
                continue;
            }
            if p.is_dir() {
                // A new directory: files created in it before its watch was added.
                let mut found: Vec<PathBuf> = Vec::new();
                for e in &self.entries {
                    if p.starts_with(e.selector.glob.base()) {
                        found.extend(
                            e.selector
                                .scan(&self.opts.state_dir)
                                .into_iter()
                                .filter(|f| f.starts_with(&p)),
                        );
                    }
                }
                for f in found {
                    self.start_file(f);
                }
                continue;
            }
            if p.is_file() && self.entry_for(&p).is_some() {
                self.start_file(p);
            }
        }
    }

    fn rescan(&mut self) {
        let mut found = Vec::new();
        for e in &self.entries {
            found.extend(e.selector.scan(&self.opts.state_dir));
        }
        for p in found {
            if !self.files.contains_key(&p) {
                self.start_file(p);
            } else if self.files.get(&p).is_some_and(|f| f.reader.is_none()) {
                self.changed.push(p);
            }
        }
    }

    /// Begin tailing `path` (if an entry accepts it and it is not tailed yet).
    fn start_file(&mut self, path: PathBuf) {
        if self.files.contains_key(&path) {
            return;
        }
        let Some(entry) = self.entry_for(&path) else {
            return;
        };
        let e = &self.entries[entry];
        let mut processor = Processor::new(e.settings.clone());
        processor.sniff(&path);
        let reader_opts = ReaderOptions {
            delimiter: processor.decoder().line_delimiter(),
            ..ReaderOptions::default()
        };
        let (fp, reader, offset) =
            match open_at_resume(&path, &self.fingerprinter, &self.resume, reader_opts) {
                Ok(x) => x,
                Err(err) => {
                    tracing::warn!("cannot open {err}");
                    return;
                }
            };
        if let Some(fp) = &fp {
            if let Ok(mut c) = self.resume.checkpoints.lock() {
                c.track(fp, &path);
            }
        }
        let dest = destination(
            &path,
            e.config.log_group_name.as_deref(),
            e.config.log_stream_name.as_deref(),
            self.default_stream.as_deref(),
            e.config.publish_multi_logs,
            &self.facts,
        );
        tracing::info!(path = %path.display(), offset, key = ?fp.as_ref().map(|f| (f.inode, f.hashed_bytes, &f.sha256[..8])), "tailing");
        if e.config.auto_removal {
            self.auto_remove_others(entry, &path);
        }
        self.files.insert(
            path.clone(),
            TailedFile {
                path: path.clone(),
                origin: path.clone(),
                entry,
                fp,
                reader: Some(reader),
                consumed: offset,
                processor,
                destination: dest,
                draining: false,
                last_data: Instant::now(),
                current_batch: None,
            },
        );
        self.changed.push(path);
    }

    /// `auto_removal`: the entry's other files stop at their end and are deleted.
    fn auto_remove_others(&mut self, entry: usize, newest: &Path) {
        let others: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|(p, f)| f.entry == entry && p.as_path() != newest)
            .map(|(p, _)| p.clone())
            .collect();
        for p in others {
            if let Some(mut f) = self.files.remove(&p) {
                self.read_file(&mut f, u64::MAX);
                self.finish_file(&mut f);
                self.seal_for(&f);
                tracing::info!(path = %p.display(), "auto_removal: a newer file matched; removing");
                if let Err(e) = std::fs::remove_file(&p) {
                    tracing::warn!(path = %p.display(), "auto_removal failed: {e}");
                }
            }
        }
    }

    /// At start: files that were renamed away (or copied and truncated) while the agent was
    /// down still have unread data. Candidates are every file known to the checkpoints or to
    /// the spool (a file read but never acknowledged has no saved checkpoint yet).
    fn recover_rotated(&mut self) {
        let mut known: HashMap<Fingerprint, (u64, String)> = HashMap::new();
        if let Ok(c) = self.resume.checkpoints.lock() {
            for (fp, cp) in c.iter() {
                known.insert(fp.clone(), (cp.offset, cp.path.clone()));
            }
        }
        for (fp, (end, path)) in &self.resume.spooled {
            let e = known.entry(fp.clone()).or_insert((0, path.clone()));
            e.0 = e.0.max(*end);
        }
        for (fp, (offset, path)) in known {
            let original = PathBuf::from(&path);
            let live_is_same = File::open(&original)
                .ok()
                .and_then(|mut f| self.fingerprinter.identify(&mut f, &fp).ok())
                == Some(Identity::Same);
            if live_is_same {
                // Start it now, so a rotation from here on is seen by its reader.
                self.start_file(original);
                continue;
            }
            let Some(dir) = original.parent() else {
                continue;
            };
            let Some(entry) = self.entry_for(&original) else {
                continue;
            };
            let found = find_renamed(dir, &fp, &self.fingerprinter)
                .or_else(|| find_copy(dir, &fp, offset, &self.fingerprinter, &original));
            let Some(found) = found else { continue };
            let size = found.metadata().map(|m| m.len()).unwrap_or(0);
            if size <= offset {
                continue;
            }
            tracing::info!(
                from = %found.display(),
                was = %original.display(),
                offset,
                "reading the rest of a file rotated while the agent was down"
            );
            self.drain_from(entry, &original, &found, fp, offset);
        }
    }

    /// Forget checkpoints of files that are gone: not updated for [`PRUNE_AFTER`] and no longer
    /// at their path (a live file is re-tracked, which refreshes its entry, at every start).
    fn prune_gone(&mut self) {
        let Ok(mut c) = self.resume.checkpoints.lock() else {
            return;
        };
        let cutoff = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
            .saturating_sub(PRUNE_AFTER.as_millis() as u64);
        let stale: Vec<Fingerprint> = c
            .iter()
            .filter(|(fp, cp)| {
                cp.updated_unix_ms < cutoff
                    && File::open(&cp.path)
                        .ok()
                        .and_then(|mut f| self.fingerprinter.identify(&mut f, fp).ok())
                        != Some(Identity::Same)
            })
            .map(|(fp, _)| fp.clone())
            .collect();
        for fp in &stale {
            c.remove(fp);
        }
        if !stale.is_empty() {
            tracing::info!(
                removed = stale.len(),
                "forgot checkpoints of files gone for a week"
            );
        }
    }

    /// Drain `found` (the old content of `original`) from `offset` under key `fp`.
    fn drain_from(
        &mut self,
        entry: usize,
        original: &Path,
        found: &Path,
        fp: Fingerprint,
        offset: u64,
    ) {
        let e = &self.entries[entry];
        let mut processor = Processor::new(e.settings.clone());
        processor.sniff(found);
        let reader_opts = ReaderOptions {
            delimiter: processor.decoder().line_delimiter(),
            ..ReaderOptions::default()
        };
        let reader = match File::open(found).and_then(|f| {
            hostwatch_tailer::LineReader::from_file(f, found, offset, reader_opts)
                .map_err(|e| std::io::Error::other(e.to_string()))
        }) {
            Ok(r) => r,
            Err(err) => {
                tracing::warn!(path = %found.display(), "cannot read rotated file: {err}");
                return;
            }
        };
        let dest = destination(
            original,
            e.config.log_group_name.as_deref(),
            e.config.log_stream_name.as_deref(),
            self.default_stream.as_deref(),
            e.config.publish_multi_logs,
            &self.facts,
        );
        let mut f = TailedFile {
            path: found.to_path_buf(),
            origin: original.to_path_buf(),
            entry,
            fp: Some(fp),
            reader: Some(reader),
            consumed: offset,
            processor,
            destination: dest,
            draining: true,
            last_data: Instant::now(),
            current_batch: None,
        };
        self.read_file(&mut f, u64::MAX);
        f.processor.flush(now_ms(), &mut self.outcomes);
        self.hand_out(&mut f);
        self.draining.push(f);
    }

    /// One round of reading and batching.
    fn round(&mut self, stop: &AtomicBool) {
        let now = Instant::now();
        let mut changed = std::mem::take(&mut self.changed);
        changed.sort();
        changed.dedup();
        for p in changed {
            let Some(mut f) = self.files.remove(&p) else {
                continue;
            };
            if f.reader.is_none() {
                self.reopen(&mut f);
            }
            let more = self.read_file(&mut f, READ_BUDGET);
            if more {
                self.changed.push(p.clone());
            }
            if f.draining {
                self.draining.push(f);
            } else {
                self.files.insert(p, f);
            }
        }
        let mut draining = std::mem::take(&mut self.draining);
        for f in draining.iter_mut() {
            self.read_file(f, READ_BUDGET);
        }
        // Drained files that stayed quiet long enough are done.
        let mut keep = Vec::new();
        for mut f in draining {
            if now.duration_since(f.last_data) >= self.opts.rotate_wait {
                self.finish_file(&mut f);
                self.seal_for(&f);
                tracing::info!(path = %f.path.display(), "finished a rotated or deleted file");
            } else {
                keep.push(f);
            }
        }
        self.draining = keep;
        self.timeouts(now);
        for p in std::mem::take(&mut self.pending_new) {
            self.start_file(p);
        }
        self.flush_due(stop);
        let open = self.files.values().filter(|f| f.reader.is_some()).count()
            + self.draining.iter().filter(|f| f.reader.is_some()).count();
        self.stats.files_open.store(open as u64, Ordering::Relaxed);
        if self.appended {
            self.queue.sync();
            self.queue.notify_sender();
            self.appended = false;
        }
    }

    /// Read up to `budget` bytes of `f`; true when it has more.
    fn read_file(&mut self, f: &mut TailedFile, budget: u64) -> bool {
        let Some(mut reader) = f.reader.take() else {
            return false;
        };
        let start = reader.offset();
        let now = Instant::now();
        let mut more = false;
        // Read time: events without a parsed timestamp carry it. It is refreshed every few
        // hundred lines and after anything but a line (a rotated copy may be read in between),
        // so it follows read order and the batch's timestamp sort never reorders lines.
        let mut now_ms = now_ms();
        let mut lines_since = 0u32;
        loop {
            lines_since += 1;
            if lines_since >= 256 {
                now_ms = self::now_ms();
                lines_since = 0;
            }
            if reader.offset().saturating_sub(start) >= budget {
                more = true;
                break;
            }
            match reader.next_event() {
                Ok(Some(ReadEvent::Line(line))) => {
                    f.last_data = now;
                    if f.fp.is_none() {
                        let fp = self
                            .fingerprinter
                            .fingerprint(reader.file_mut())
                            .ok()
                            .flatten();
                        if let Some(fp) = &fp {
                            if let Ok(mut c) = self.resume.checkpoints.lock() {
                                c.track(fp, &f.path);
                            }
                        }
                        f.fp = fp;
                    }
                    f.consumed = line.end_offset;
                    f.processor.push_line(
                        &line.bytes,
                        line.end_offset,
                        now,
                        now_ms,
                        &mut self.outcomes,
                    );
                    if self.outcomes.len() >= 512 {
                        self.hand_out(f);
                    }
                }
                Ok(Some(ReadEvent::Truncated {
                    previous_offset, ..
                })) => {
                    self.hand_out(f);
                    now_ms = self::now_ms();
                    tracing::info!(path = %f.path.display(), previous_offset, "file truncated; reading it again from the start");
                    f.processor.flush(now_ms, &mut self.outcomes);
                    self.hand_out(f);
                    self.seal_for(f);
                    // The bytes written after our last read and before the truncation are
                    // only in the copy, if copytruncate made one.
                    if let (Some(old), Some(dir)) = (f.fp.clone(), f.path.parent()) {
                        if let Some(copy) =
                            find_copy(dir, &old, f.consumed, &self.fingerprinter, &f.path)
                        {
                            tracing::info!(copy = %copy.display(), "reading the rest from the copy");
                            let original = f.path.clone();
                            let consumed = f.consumed;
                            let entry = f.entry;
                            self.drain_from(entry, &original, &copy, old, consumed);
                        }
                    }
                    f.fp = self
                        .fingerprinter
                        .fingerprint(reader.file_mut())
                        .ok()
                        .flatten();
                    if let Some(fp) = &f.fp {
                        if let Ok(mut c) = self.resume.checkpoints.lock() {
                            c.track(fp, &f.path);
                        }
                    }
                    f.consumed = 0;
                    f.processor = Processor::new(self.entries[f.entry].settings.clone());
                    f.processor.sniff(&f.path);
                }
                Ok(Some(ReadEvent::Rotated { .. })) | Ok(Some(ReadEvent::Deleted { .. })) => {
                    self.hand_out(f);
                    if !f.draining {
                        tracing::info!(path = %f.path.display(), "file rotated or deleted; reading the old one to its end");
                        f.draining = true;
                        // The writer has moved on: an event being assembled is complete, and
                        // must go out before the new file's first lines.
                        f.processor.flush(now_ms, &mut self.outcomes);
                        self.hand_out(f);
                        // The path may hold a new file already.
                        if f.path.is_file() {
                            self.pending_new.push(f.path.clone());
                        }
                    }
                    // Reported at the end of the old file: nothing more to read now.
                    break;
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(path = %f.path.display(), "read failed: {e}");
                    break;
                }
            }
        }
        self.hand_out(f);
        f.reader = Some(reader);
        more
    }

    /// Move processed outcomes of `f` into batches.
    fn hand_out(&mut self, f: &mut TailedFile) {
        if self.outcomes.is_empty() {
            return;
        }
        let now_ms = now_ms();
        let date = if f.destination.group.has_date() || f.destination.stream.has_date() {
            today()
        } else {
            String::new()
        };
        let key = (
            f.destination.group.render(&date),
            f.destination.stream.render(&date),
        );
        if f.current_batch.as_ref().is_some_and(|k| *k != key) {
            self.seal_for(f);
        }
        let cfg = &self.entries[f.entry].config;
        let (class, retention) = (cfg.log_group_class.clone(), cfg.retention_in_days);
        let path = f.origin.to_string_lossy().into_owned();
        // The builder is taken out of the map for the loop, so sealing it when full needs no
        // second lookup per event.
        let mut b = self
            .builders
            .remove(&key)
            .unwrap_or_else(|| BatchBuilder::new(key.0.clone(), key.1.clone(), class, retention));
        let outcomes = std::mem::take(&mut self.outcomes);
        let mut last_end: Option<u64> = None;
        for (end, outcome) in outcomes {
            match outcome {
                Outcome::Keep {
                    timestamp_ms,
                    message,
                } => {
                    let event = Event {
                        timestamp_ms,
                        message,
                    };
                    if !b.fits(&event) {
                        if let (Some(fp), Some(le)) = (&f.fp, last_end) {
                            b.extend_to(fp, &path, le, now_ms);
                        }
                        let record = b.seal();
                        self.spool_record(record);
                    }
                    b.push(event, now_ms);
                    self.stats.events.fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Filtered => {
                    self.stats.filtered.fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Rejected(hostwatch_tailer::timestamp::Age::TooOld) => {
                    self.stats.rejected_too_old.fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Rejected(_) => {
                    self.stats.rejected_too_new.fetch_add(1, Ordering::Relaxed);
                }
            }
            last_end = Some(end);
        }
        if let Some(le) = last_end {
            if let Some(fp) = &f.fp {
                b.extend_to(fp, &path, le, now_ms);
                let e = self
                    .resume
                    .spooled
                    .entry(fp.clone())
                    .or_insert((0, path.clone()));
                e.0 = e.0.max(le);
            }
        }
        self.builders.insert(key.clone(), b);
        f.current_batch = Some(key);
    }

    /// Seal the batch `f` feeds, if any.
    fn seal_for(&mut self, f: &TailedFile) {
        if let Some(key) = &f.current_batch {
            let key = key.clone();
            self.seal_key(&key);
        }
    }

    fn seal_key(&mut self, key: &(String, String)) {
        let Some(b) = self.builders.get_mut(key) else {
            return;
        };
        if b.is_empty() {
            return;
        }
        let record = b.seal();
        self.spool_record(record);
    }

    /// Append a sealed batch to the spool (waiting for room if it is full).
    fn spool_record(&mut self, record: Vec<u8>) {
        tracing::debug!(bytes = record.len(), "batch sealed");
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        self.queue.append_blocking(&record);
        self.appended = true;
    }

    /// Multi-line and partial-line timeouts, idle descriptors.
    fn timeouts(&mut self, now: Instant) {
        let now_ms = now_ms();
        // The map is taken out for the walk (nothing below looks files up by path), so an
        // idle round costs no path clones or re-hashing.
        let mut files = std::mem::take(&mut self.files);
        for (p, f) in files.iter_mut() {
            if f.reader.is_none() && !f.processor.has_pending() {
                continue;
            }
            f.processor.poll(now, now_ms, &mut self.outcomes);
            self.hand_out(f);
            let idle = now.duration_since(f.last_data);
            if idle >= self.opts.partial_line_timeout && self.flush_partial_line(f) {
                f.processor.flush(now_ms, &mut self.outcomes);
                self.hand_out(f);
            }
            if idle >= self.opts.idle_close && f.reader.is_some() && !f.processor.has_pending() {
                let held = f.reader.as_ref().map(|r| r.held_back()).unwrap_or(0);
                if held == 0 {
                    f.reader = None;
                    tracing::debug!(path = %p.display(), "idle: descriptor released");
                }
            }
        }
        self.files = files;
        let mut draining = std::mem::take(&mut self.draining);
        for f in draining.iter_mut() {
            f.processor.poll(now, now_ms, &mut self.outcomes);
            self.hand_out(f);
        }
        self.draining = draining;
    }

    /// Reopen a closed file at its consumed offset, or notice it was replaced meanwhile.
    fn reopen(&mut self, f: &mut TailedFile) {
        let reader_opts = ReaderOptions {
            delimiter: f.processor.decoder().line_delimiter(),
            ..ReaderOptions::default()
        };
        let Some(fp) = f.fp.clone() else {
            // Never had content: open like a new file.
            if let Ok((fp, r, off)) =
                open_at_resume(&f.path, &self.fingerprinter, &self.resume, reader_opts)
            {
                f.fp = fp;
                f.reader = Some(r);
                f.consumed = off;
            }
            return;
        };
        match reopen_same(&f.path, &fp, f.consumed, &self.fingerprinter, reader_opts) {
            Ok(Some(r)) => f.reader = Some(r),
            _ => {
                // Replaced while closed: finish the old file wherever it went, start the new.
                if let Some(dir) = f.path.parent() {
                    let found = find_renamed(dir, &fp, &self.fingerprinter)
                        .or_else(|| find_copy(dir, &fp, f.consumed, &self.fingerprinter, &f.path));
                    if let Some(found) = found {
                        let original = f.path.clone();
                        self.drain_from(f.entry, &original, &found, fp.clone(), f.consumed);
                    }
                }
                self.pending_new.push(f.path.clone());
                f.draining = true;
                f.last_data = Instant::now() - self.opts.rotate_wait;
            }
        }
    }

    /// Everything left in `f`: a held partial line and a pending multi-line event.
    fn finish_file(&mut self, f: &mut TailedFile) {
        self.flush_partial_line(f);
        f.reader = None;
        f.processor.flush(now_ms(), &mut self.outcomes);
        self.hand_out(f);
    }

    /// Feed a final line without newline (held by the reader) to the processor; true if any.
    fn flush_partial_line(&mut self, f: &mut TailedFile) -> bool {
        let Some(line) = f.reader.as_mut().and_then(|r| r.flush_partial()) else {
            return false;
        };
        f.consumed = line.end_offset;
        f.processor.push_line(
            &line.bytes,
            line.end_offset,
            Instant::now(),
            now_ms(),
            &mut self.outcomes,
        );
        true
    }

    /// Seal batches that are due (`force_flush_interval`), waiting for spool room if needed.
    fn flush_due(&mut self, stop: &AtomicBool) {
        let now_ms = now_ms();
        let flush_ms = self.opts.force_flush.as_millis() as i64;
        let due: Vec<(String, String)> = self
            .builders
            .iter()
            .filter(|(_, b)| b.opened_ms.is_some_and(|t| now_ms - t >= flush_ms))
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            if stop.load(Ordering::Relaxed) && !self.queue.has_room_now() {
                break;
            }
            self.seal_key(&k);
        }
        // Forget builders of destinations nobody writes to any more ({date} rollover).
        self.builders
            .retain(|_, b| !b.is_empty() || b.opened_ms.is_some());
    }

    /// Stop: seal every batch (complete events only) and sync the spool. Lines without a
    /// newline and multi-line events still being assembled are not acknowledged, so the next
    /// start reads them again: nothing is lost and nothing is split.
    fn shutdown(&mut self) {
        let keys: Vec<(String, String)> = self.builders.keys().cloned().collect();
        for k in keys {
            self.seal_key(&k);
        }
        self.queue.sync();
        self.queue.notify_sender();
        if let Ok(mut c) = self.resume.checkpoints.lock() {
            if let Err(e) = c.save() {
                tracing::warn!("cannot save log checkpoints: {e}");
            }
        }
    }
}
