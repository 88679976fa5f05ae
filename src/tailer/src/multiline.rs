//! Multi-line event assembly.
//!
//! # Design
//!
//! An [`Assembler`] turns the decoded lines of one file into log events.
//! A line that satisfies the [`StartRule`] begins a new event; any other
//! line is a continuation and is appended to the pending event, joined
//! with `\n`. Since only the *next* start line proves an event complete,
//! [`Assembler::push`] returns the previous event when a start line
//! arrives; an event whose file goes quiet is returned by
//! [`Assembler::poll`] once `flush_after` has passed since its last line,
//! and [`Assembler::flush`] hands over whatever is pending (shutdown, end of
//! a rotated file). With [`StartRule::EveryLine`] an event is complete as
//! soon as its line arrives, so `push` returns it at once.
//!
//! Rules:
//!
//! * The first line after construction or after a flush (by `poll` or
//!   `flush`) always starts an event, whatever the rule says.
//! * [`StartRule::Default`] is the CloudWatch agent's `^[\S]`, evaluated as
//!   a byte check: a line starts an event unless it is empty or its first
//!   byte is one of RE2's ASCII `\s` set (space, `\t`, `\n`, `\f`, `\r`).
//! * [`StartRule::Never`] is `{timestamp_format}` without a
//!   `timestamp_format`: every line continues the pending event, so events
//!   end only by `poll`, `flush` or the size limit.
//! * **Nothing is discarded on size.** When a continuation line would make
//!   the pending event longer than `max_event_bytes`, the pending event is
//!   returned as it is and the continuation begins a new event marked
//!   `split` (counted by [`Assembler::splits`]). The CloudWatch agent drops
//!   such lines instead. A single line longer than the limit stays whole.
//!   The reader cuts lines at `max_line_bytes` *before* decoding, and
//!   decoding can grow text up to three times (a legacy-encoding character
//!   or a malformed byte becomes up to 3 bytes of UTF-8), so with the
//!   defaults a decoded line from a non-UTF-8 or damaged file can exceed
//!   `max_event_bytes`; the batcher must cut or truncate such messages.
//! * Pieces of a line the reader had to chunk arrive as separate lines and
//!   are treated like any other line. A chunk fills an event on its own, so
//!   each usually becomes its own event.
//! * `poll` measures `flush_after` from the pending event's *last* line, so
//!   a stack trace written slowly is not cut; under `Never` a steady trickle
//!   of lines therefore keeps an event open until the size limit.
//!
//! # Offset invariant
//!
//! Every [`Event`] carries `end_offset`, the file offset after its last
//! line. An event is handed out only once it is complete, so the largest
//! offset the caller ever sees (and checkpoints after delivery) never lies
//! inside a half-assembled event: after a restart, reading resumes at the
//! start of the event that was still pending, and it is assembled again in
//! full. Callers must push lines in file order with non-decreasing offsets.

use std::time::{Duration, Instant};

use regex::Regex;

/// Default maximum size of an event's message, in bytes: 1 MiB minus the
/// 200 bytes per event the CloudWatch agent reserves for overhead.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1_048_576 - 200;
/// Default time after the last line before a pending event is flushed.
pub const DEFAULT_FLUSH_AFTER: Duration = Duration::from_secs(5);

/// Which lines begin a new event.
#[derive(Debug, Clone, Default)]
pub enum StartRule {
    /// `^[\S]`: a line that is not empty and does not begin with ASCII
    /// whitespace (the CloudWatch agent's default).
    #[default]
    Default,
    /// A line in which the regex matches anywhere (use `^` to anchor), e.g.
    /// a custom `multi_line_start_pattern` or a timestamp format's regex.
    Regex(Regex),
    /// No line starts an event (except the first; see the module docs).
    Never,
    /// Every line is an event of its own.
    EveryLine,
}

impl StartRule {
    /// Whether `line` begins a new event under this rule.
    pub fn is_start(&self, line: &str) -> bool {
        match self {
            Self::Default => line
                .as_bytes()
                .first()
                .is_some_and(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0C | b'\r')),
            Self::Regex(re) => re.is_match(line),
            Self::Never => false,
            Self::EveryLine => true,
        }
    }
}

/// Assembler settings.
#[derive(Debug, Clone)]
pub struct AssemblerOptions {
    /// Which lines begin an event.
    pub start: StartRule,
    /// Largest message built by joining lines (at least 1).
    pub max_event_bytes: usize,
    /// Quiet time after an event's last line before `poll` returns it.
    pub flush_after: Duration,
}

impl Default for AssemblerOptions {
    fn default() -> Self {
        Self {
            start: StartRule::Default,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            flush_after: DEFAULT_FLUSH_AFTER,
        }
    }
}

/// One assembled log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The lines joined with `\n`.
    pub message: String,
    /// File offset after the event's last line: checkpoint this once the
    /// event is delivered.
    pub end_offset: u64,
    /// How many lines were joined (at least 1).
    pub lines: u32,
    /// The event continues the previous one, which was cut at the size
    /// limit; its first line was not a start line.
    pub split: bool,
}

#[derive(Debug)]
struct Pending {
    event: Event,
    last_line_at: Instant,
}

/// Joins lines into events. See the module documentation.
#[derive(Debug)]
pub struct Assembler {
    opts: AssemblerOptions,
    pending: Option<Pending>,
    splits: u64,
}

impl Assembler {
    /// A new assembler; its first line always starts an event.
    pub fn new(opts: AssemblerOptions) -> Self {
        Self {
            opts: AssemblerOptions {
                max_event_bytes: opts.max_event_bytes.max(1),
                ..opts
            },
            pending: None,
            splits: 0,
        }
    }

    /// The settings in effect.
    pub fn options(&self) -> &AssemblerOptions {
        &self.opts
    }

    /// Add the next line of the file, which ends at `end_offset`. Returns
    /// the event this line completes: the pending one if `line` starts a
    /// new event or had to split it, or the line's own event under
    /// [`StartRule::EveryLine`].
    pub fn push(&mut self, line: &str, end_offset: u64, now: Instant) -> Option<Event> {
        let Some(pending) = self.pending.as_mut() else {
            return self.begin(line, end_offset, now, false);
        };
        if self.opts.start.is_start(line) {
            let done = self.pending.take().map(|p| p.event);
            // Under EveryLine nothing is ever pending here, so `done` is None
            // and `begin` returns the line's own event.
            return self.begin(line, end_offset, now, false).or(done);
        }
        let joined = pending.event.message.len() + 1 + line.len();
        if joined > self.opts.max_event_bytes {
            self.splits += 1;
            let done = self.pending.take().map(|p| p.event);
            self.begin(line, end_offset, now, true);
            return done;
        }
        let event = &mut pending.event;
        event.message.reserve(1 + line.len());
        event.message.push('\n');
        event.message.push_str(line);
        event.end_offset = end_offset;
        event.lines = event.lines.saturating_add(1);
        pending.last_line_at = now;
        None
    }

    /// Start a new pending event with `line`; under `EveryLine` it is
    /// complete at once and returned.
    fn begin(&mut self, line: &str, end_offset: u64, now: Instant, split: bool) -> Option<Event> {
        let event = Event {
            message: line.to_owned(),
            end_offset,
            lines: 1,
            split,
        };
        if matches!(self.opts.start, StartRule::EveryLine) {
            return Some(event);
        }
        self.pending = Some(Pending {
            event,
            last_line_at: now,
        });
        None
    }

    /// Return the pending event if `flush_after` has passed since its last
    /// line. The next line then starts a new event.
    pub fn poll(&mut self, now: Instant) -> Option<Event> {
        let due = self.pending.as_ref().is_some_and(|p| {
            now.saturating_duration_since(p.last_line_at) >= self.opts.flush_after
        });
        if due {
            return self.flush();
        }
        None
    }

    /// When [`Assembler::poll`] will return the pending event: `None` if
    /// nothing is pending (or the instant is not representable).
    pub fn deadline(&self) -> Option<Instant> {
        let p = self.pending.as_ref()?;
        p.last_line_at.checked_add(self.opts.flush_after)
    }

    /// Return the pending event now (shutdown, end of a file). The next line
    /// then starts a new event.
    pub fn flush(&mut self) -> Option<Event> {
        self.pending.take().map(|p| p.event)
    }

    /// Whether an event is pending.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// How many events were cut at the size limit so far.
    pub fn splits(&self) -> u64 {
        self.splits
    }
}

#[cfg(test)]
mod tests;
