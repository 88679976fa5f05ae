//! Table tests for the multi-line assembler.

use super::*;
use crate::timestamp::TimestampFormat;

/// A Java application log with an exception and a cause.
const JAVA: &[&str] = &[
    "2024-05-01 12:00:00,123 ERROR [main] c.e.App - request failed",
    "Exception in thread \"main\" java.lang.IllegalStateException: boom",
    "\tat com.example.App.run(App.java:42)",
    "\tat com.example.App.main(App.java:10)",
    "Caused by: java.io.IOException: disk full",
    "\tat com.example.Store.write(Store.java:77)",
    "\t... 12 more",
    "2024-05-01 12:00:01,000 INFO [main] c.e.App - recovered",
];

/// A Python traceback: indented frames, an unindented last line.
const PYTHON: &[&str] = &[
    "Traceback (most recent call last):",
    "  File \"app.py\", line 3, in <module>",
    "    main()",
    "ValueError: bad",
];

fn regex(re: &str) -> StartRule {
    StartRule::Regex(Regex::new(re).unwrap())
}

fn timestamp_rule(format: &str) -> StartRule {
    StartRule::Regex(TimestampFormat::compile(format).unwrap().regex().clone())
}

/// Expected event: the indices of its first and last input line, whether it
/// is a size split. Its message is those lines joined with `\n`.
type Want = (usize, usize, bool);

struct Case {
    name: &'static str,
    start: StartRule,
    max_event_bytes: usize,
    lines: &'static [&'static str],
    want: &'static [Want],
    splits: u64,
}

fn case(
    name: &'static str,
    start: StartRule,
    lines: &'static [&'static str],
    want: &'static [Want],
) -> Case {
    Case {
        name,
        start,
        max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        lines,
        want,
        splits: 0,
    }
}

fn sized(case: Case, max_event_bytes: usize, splits: u64) -> Case {
    Case {
        max_event_bytes,
        splits,
        ..case
    }
}

/// Push every line (each ends one byte after its text, as with `\n`), then
/// flush; collect all events.
fn run(case: &Case) -> (Vec<Event>, u64) {
    let mut a = Assembler::new(AssemblerOptions {
        start: case.start.clone(),
        max_event_bytes: case.max_event_bytes,
        ..AssemblerOptions::default()
    });
    let now = Instant::now();
    let mut offset = 0u64;
    let mut events = Vec::new();
    for line in case.lines {
        offset += line.len() as u64 + 1;
        events.extend(a.push(line, offset, now));
    }
    events.extend(a.flush());
    assert!(!a.is_pending());
    (events, a.splits())
}

fn expected(case: &Case) -> Vec<Event> {
    case.want
        .iter()
        .map(|&(first, last, split)| Event {
            message: case.lines[first..=last].join("\n"),
            end_offset: case.lines[..=last].iter().map(|l| l.len() as u64 + 1).sum(),
            lines: (last - first + 1) as u32,
            split,
        })
        .collect()
}

#[test]
fn assembly_table() {
    let cases = [
        // The default `^[\S]` keeps Java's "Exception" and "Caused by"
        // lines as events of their own, with their indented frames.
        case(
            "java, default rule",
            StartRule::Default,
            JAVA,
            &[(0, 0, false), (1, 3, false), (4, 6, false), (7, 7, false)],
        ),
        case(
            "java, {timestamp_format}",
            timestamp_rule("%Y-%m-%d %H:%M:%S,%f"),
            JAVA,
            &[(0, 6, false), (7, 7, false)],
        ),
        case(
            "java, custom regex on the date",
            regex(r"^\d{4}-\d{2}-\d{2} "),
            JAVA,
            &[(0, 6, false), (7, 7, false)],
        ),
        case(
            "java, custom regex on exceptions only",
            regex(r"^(Exception|Caused by)"),
            JAVA,
            &[(0, 0, false), (1, 3, false), (4, 7, false)],
        ),
        case(
            "java, never: one event",
            StartRule::Never,
            JAVA,
            &[(0, 7, false)],
        ),
        case(
            "java, every line",
            StartRule::EveryLine,
            JAVA,
            &[
                (0, 0, false),
                (1, 1, false),
                (2, 2, false),
                (3, 3, false),
                (4, 4, false),
                (5, 5, false),
                (6, 6, false),
                (7, 7, false),
            ],
        ),
        case(
            "python traceback, default rule",
            StartRule::Default,
            PYTHON,
            &[(0, 2, false), (3, 3, false)],
        ),
        case(
            "python traceback, anchored custom regex",
            regex("^Traceback"),
            PYTHON,
            &[(0, 3, false)],
        ),
        case(
            "an empty line continues",
            StartRule::Default,
            &["a", "", "b"],
            &[(0, 1, false), (2, 2, false)],
        ),
        case(
            "the first line starts even when indented",
            StartRule::Default,
            &["  indented first", "\tmore", "next"],
            &[(0, 1, false), (2, 2, false)],
        ),
        case(
            "RE2 \\s is ASCII without \\v: \\v and U+3000 start, \\f and \\r continue",
            StartRule::Default,
            &["a", "\x0Bvt", "\u{3000}wide", "\x0Cff", "\rcr"],
            &[(0, 0, false), (1, 1, false), (2, 4, false)],
        ),
        case(
            "a regex that never matches: one event",
            regex("^NOMATCH"),
            &["a", "b", "c"],
            &[(0, 2, false)],
        ),
        // 5 + 1 + 12 = 18 fits in 20; + 1 + 6 would be 25: split, nothing lost.
        sized(
            case(
                "size split keeps the continuation",
                StartRule::Default,
                &["start", "  aaaaaaaaaa", "  bbbb", "  cc", "next"],
                &[(0, 1, false), (2, 3, true), (4, 4, false)],
            ),
            20,
            1,
        ),
        sized(
            case(
                "exactly at the limit is joined",
                StartRule::Default,
                &["start", "  abc", "  d"],
                &[(0, 1, false), (2, 2, true)],
            ),
            11,
            1,
        ),
        sized(
            case(
                "a line longer than the limit stays whole",
                StartRule::Default,
                &["start", "  this is longer than ten", "  x"],
                &[(0, 0, false), (1, 1, true), (2, 2, true)],
            ),
            10,
            2,
        ),
        sized(
            case(
                "size splits under never",
                StartRule::Never,
                &["aaaa", "bbbb", "cccc", "dddd", "eeee"],
                &[(0, 1, false), (2, 3, true), (4, 4, true)],
            ),
            9,
            2,
        ),
        // A 25-byte line chunked by the reader at 10 bytes: the chunks pass
        // through; the last one starts with a space and still is not glued
        // on, because the full chunk before it leaves no room.
        sized(
            case(
                "reader chunks pass through",
                StartRule::Default,
                &["0123456789", "abcdefghij", " klm", "next"],
                &[(0, 0, false), (1, 1, false), (2, 2, true), (3, 3, false)],
            ),
            10,
            1,
        ),
    ];
    for c in &cases {
        let (got, splits) = run(c);
        assert_eq!(got, expected(c), "{}", c.name);
        assert_eq!(splits, c.splits, "{}", c.name);
    }
}

#[derive(Debug)]
enum Step {
    /// Push a line at a time (ms); the event it completes, if any.
    Push(&'static str, u64, Option<&'static str>),
    /// Poll at a time (ms); the event flushed, if any.
    Poll(u64, Option<&'static str>),
    /// Flush; the event returned, if any.
    Flush(Option<&'static str>),
    /// The deadline, in ms, if an event is pending.
    Deadline(Option<u64>),
}
use Step::{Deadline, Flush, Poll, Push};

#[test]
fn timeout_table() {
    let cases: &[(&str, StartRule, u64, &[Step])] = &[
        (
            "flushed 5 s after the last line, not the first",
            StartRule::Default,
            5_000,
            &[
                Push("a", 0, None),
                Deadline(Some(5_000)),
                Push(" b", 1_000, None),
                Deadline(Some(6_000)),
                Poll(5_999, None),
                Poll(6_000, Some("a\n b")),
                Deadline(None),
                Poll(20_000, None),
                // After a flush the next line starts an event even though
                // it is indented.
                Push(" c", 21_000, None),
                Push(" d", 21_500, None),
                Flush(Some(" c\n d")),
                Flush(None),
            ],
        ),
        (
            "never: only time, flush or size ends an event",
            StartRule::Never,
            100,
            &[
                Push("x", 0, None),
                Push("y", 50, None),
                Poll(149, None),
                Poll(150, Some("x\ny")),
                Push("z", 151, None),
                Poll(250, None),
                Poll(251, Some("z")),
                Poll(1_000, None),
            ],
        ),
        (
            "a start line completes the pending event before the timeout",
            StartRule::Default,
            5_000,
            &[
                Push("one", 0, None),
                Push("two", 10, Some("one")),
                Poll(4_000, None),
                Poll(5_010, Some("two")),
            ],
        ),
        (
            "every line: nothing is ever pending",
            StartRule::EveryLine,
            5_000,
            &[
                Push("a", 0, Some("a")),
                Push("  b", 1, Some("  b")),
                Deadline(None),
                Poll(10_000, None),
                Flush(None),
            ],
        ),
        (
            "zero flush_after flushes on the next poll",
            StartRule::Default,
            0,
            &[Push("a", 7, None), Poll(7, Some("a")), Poll(8, None)],
        ),
    ];
    for (name, start, flush_ms, steps) in cases {
        let mut a = Assembler::new(AssemblerOptions {
            start: start.clone(),
            flush_after: Duration::from_millis(*flush_ms),
            ..AssemblerOptions::default()
        });
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let msg = |e: Option<Event>| e.map(|e| e.message);
        let own = |s: &Option<&str>| s.map(str::to_string);
        let mut offset = 0;
        for (i, step) in steps.iter().enumerate() {
            let ctx = format!("{name}: step {i} {step:?}");
            match step {
                Push(line, ms, want) => {
                    offset += line.len() as u64 + 1;
                    assert_eq!(msg(a.push(line, offset, at(*ms))), own(want), "{ctx}");
                }
                Poll(ms, want) => assert_eq!(msg(a.poll(at(*ms))), own(want), "{ctx}"),
                Flush(want) => assert_eq!(msg(a.flush()), own(want), "{ctx}"),
                Deadline(want) => assert_eq!(a.deadline(), want.map(at), "{ctx}"),
            }
        }
    }
}

#[test]
fn offsets_only_cover_complete_events() {
    // The largest offset handed out never lies inside the pending event.
    let mut a = Assembler::new(AssemblerOptions::default());
    let now = Instant::now();
    let mut handed_out = 0;
    let mut offset = 0;
    for line in JAVA {
        offset += line.len() as u64 + 1;
        if let Some(e) = a.push(line, offset, now) {
            assert!(e.end_offset > handed_out);
            handed_out = e.end_offset;
        }
    }
    // The final timestamped line is still pending: the checkpoint may only
    // reach the end of the "Caused by" event before it.
    let pending_start = offset - (JAVA[7].len() as u64 + 1);
    assert_eq!(handed_out, pending_start);
    assert_eq!(a.flush().map(|e| e.end_offset), Some(offset));
}

#[test]
fn default_rule_matches_the_regex_it_replaces() {
    // RE2's `\S` is ASCII: anything but space, \t, \n, \f, \r.
    let re = Regex::new(r"^[^ \t\n\x0C\r]").unwrap();
    let samples = [
        "", " ", "\t", "\n", "\x0C", "\r", "\x0B", "a", "1", "é", "\u{3000}", "\u{A0}x", "-",
    ];
    for s in samples {
        assert_eq!(StartRule::Default.is_start(s), re.is_match(s), "{s:?}");
    }
}
