//! From raw lines to events: decode, assemble multi-line events, stamp, trim, filter, age check.
//!
//! One [`Processor`] per tailed file, built from its `collect_list` entry ([`EntrySettings`]).
//! It consumes the reader's lines in file order and yields [`Outcome`]s in the same order, each
//! with the file offset just after the last line it covers, so the caller can advance the
//! file's extent whether the event is kept or dropped.
//!
//! Invariant: an offset is only handed out for complete events. Lines held by the multi-line
//! assembler have not been handed out yet, so a checkpoint never passes a half-built event.

use hostwatch_tailer::encoding::Decoder;
use hostwatch_tailer::filter::Filters;
use hostwatch_tailer::multiline::{Assembler, AssemblerOptions, StartRule};
use hostwatch_tailer::timestamp::{age_check, trim, Age, Stamper, TimestampFormat, Zone};
use regex::Regex;
use std::sync::Arc;
use std::time::Instant;

use crate::config::FileLogConfig;

/// The compiled, shareable part of a `collect_list` entry.
#[derive(Debug)]
pub struct EntrySettings {
    pub encoding: Option<String>,
    pub start: StartSpec,
    pub timestamp: Option<TimestampFormat>,
    pub zone: Zone,
    pub trim_timestamp: bool,
    pub filters: Filters,
}

/// How the multi-line start rule is given.
#[derive(Debug, Clone)]
pub enum StartSpec {
    Default,
    Regex(Regex),
    Never,
}

/// Why an entry's settings do not compile (the config loader already checked them, so this
/// only happens if the two disagree).
#[derive(Debug, thiserror::Error)]
#[error("collect_list entry for {file_path}: {reason}")]
pub struct SettingsError {
    pub file_path: String,
    pub reason: String,
}

impl EntrySettings {
    /// Compile an entry.
    pub fn new(entry: &FileLogConfig) -> Result<Arc<EntrySettings>, SettingsError> {
        let err = |reason: String| SettingsError {
            file_path: entry.file_path.clone(),
            reason,
        };
        Decoder::for_name(entry.encoding.as_deref()).map_err(|e| err(e.to_string()))?;
        let timestamp = entry
            .timestamp_format
            .as_deref()
            .map(TimestampFormat::compile)
            .transpose()
            .map_err(|e| err(e.to_string()))?;
        let start = match entry.multi_line_start_pattern.as_deref() {
            None => StartSpec::Default,
            Some(crate::config::logs::TIMESTAMP_FORMAT_KEYWORD) => match &timestamp {
                Some(t) => StartSpec::Regex(t.regex().clone()),
                None => StartSpec::Never,
            },
            Some(re) => StartSpec::Regex(Regex::new(re).map_err(|e| err(e.to_string()))?),
        };
        let filters = Filters::new(&entry.filters).map_err(|e| err(e.to_string()))?;
        let zone = if entry.timezone.as_deref() == Some("UTC") {
            Zone::Utc
        } else {
            Zone::Local
        };
        Ok(Arc::new(EntrySettings {
            encoding: entry.encoding.clone(),
            start,
            timestamp,
            zone,
            trim_timestamp: entry.trim_timestamp,
            filters,
        }))
    }
}

/// What became of one assembled event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ship it.
    Keep { timestamp_ms: i64, message: String },
    /// Dropped by `filters`.
    Filtered,
    /// Older than 14 days or more than 2 hours ahead: CloudWatch would reject it.
    Rejected(Age),
}

/// Counters a processor keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStats {
    pub events: u64,
    pub filtered: u64,
    pub too_old: u64,
    pub too_new: u64,
    pub decode_errors: u64,
    pub split: u64,
}

/// The per-file processing chain.
#[derive(Debug)]
pub struct Processor {
    settings: Arc<EntrySettings>,
    decoder: Decoder,
    assembler: Assembler,
    stamper: Stamper,
    pub stats: ProcessStats,
}

impl Processor {
    pub fn new(settings: Arc<EntrySettings>) -> Processor {
        // The name was checked in `EntrySettings::new`; fall back to UTF-8 if it ever fails.
        let decoder = Decoder::for_name(settings.encoding.as_deref())
            .or_else(|_| Decoder::for_name(None))
            .unwrap_or_default();
        let start = match &settings.start {
            StartSpec::Default => StartRule::Default,
            StartSpec::Regex(r) => StartRule::Regex(r.clone()),
            StartSpec::Never => StartRule::Never,
        };
        let assembler = Assembler::new(AssemblerOptions {
            start,
            ..AssemblerOptions::default()
        });
        let stamper = Stamper::new(settings.timestamp.clone(), settings.zone);
        Processor {
            settings,
            decoder,
            assembler,
            stamper,
            stats: ProcessStats::default(),
        }
    }

    /// The decoder (the reader needs its line delimiter).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Feed one line; `out` receives finished events with their end offsets.
    pub fn push_line(
        &mut self,
        bytes: &[u8],
        end_offset: u64,
        now: Instant,
        now_ms: i64,
        out: &mut Vec<(u64, Outcome)>,
    ) {
        let decoded = self.decoder.decode(bytes);
        if decoded.had_errors {
            self.stats.decode_errors += 1;
        }
        if let Some(ev) = self.assembler.push(&decoded.text, end_offset, now) {
            self.finish(ev, now_ms, out);
        }
    }

    /// Flush an event that waited too long for its continuation.
    pub fn poll(&mut self, now: Instant, now_ms: i64, out: &mut Vec<(u64, Outcome)>) {
        if let Some(ev) = self.assembler.poll(now) {
            self.finish(ev, now_ms, out);
        }
    }

    /// Flush whatever is pending (end of a rotated file, truncation).
    pub fn flush(&mut self, now_ms: i64, out: &mut Vec<(u64, Outcome)>) {
        if let Some(ev) = self.assembler.flush() {
            self.finish(ev, now_ms, out);
        }
    }

    /// Whether a multi-line event is being assembled.
    pub fn has_pending(&self) -> bool {
        self.assembler.is_pending()
    }

    /// Let the file's first bytes decide the byte order of a `utf-16` file (BOM).
    pub fn sniff(&mut self, path: &std::path::Path) {
        use std::io::Read;
        let mut head = [0u8; 4];
        let n = std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .unwrap_or(0);
        self.decoder = self.decoder.sniff_bom(&head[..n]);
    }

    fn finish(
        &mut self,
        ev: hostwatch_tailer::multiline::Event,
        now_ms: i64,
        out: &mut Vec<(u64, Outcome)>,
    ) {
        if ev.split {
            self.stats.split += 1;
        }
        let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        let stamp = self.stamper.stamp(&ev.message, now);
        let mut message = ev.message;
        if self.settings.trim_timestamp {
            if let Some(span) = stamp.span.clone() {
                message = trim(&message, span);
            }
        }
        if !self.settings.filters.keep(&message) {
            self.stats.filtered += 1;
            out.push((ev.end_offset, Outcome::Filtered));
            return;
        }
        match age_check(stamp.millis, now_ms) {
            Age::Ok => {
                self.stats.events += 1;
                out.push((
                    ev.end_offset,
                    Outcome::Keep {
                        timestamp_ms: stamp.millis,
                        message,
                    },
                ));
            }
            age => {
                match age {
                    Age::TooOld => self.stats.too_old += 1,
                    _ => self.stats.too_new += 1,
                }
                out.push((ev.end_offset, Outcome::Rejected(age)));
            }
        }
    }
}
