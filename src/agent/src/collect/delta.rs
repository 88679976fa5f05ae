//! Shared pieces of the per-device plugins (`diskio`, `net`, and the `resources` filter of
//! `disk`): cumulative kernel counters turned into per-interval increments, the `resources`
//! name filter, and a buffer-reusing file reader.
//!
//! # Increments ([`DeltaTracker`])
//!
//! The reference agent sends diskio and net counters as the *increment since the previous
//! collection* (not a rate), via a cumulative-to-delta step that drops the first point. The
//! tracker keeps, per key (device or interface name), the previous value of each of its `N`
//! counters and the collection cycle in which the key was last seen.
//!
//! Rules, per counter (every counter of a key is its own stream, as in the OpenTelemetry
//! cumulative-to-delta processor):
//! - the first sample of a key yields no increment (there is nothing to subtract);
//! - `current ≥ previous` yields `current − previous`;
//! - `current < previous` is either a **wrap** or a **reset**. It is taken as a wrap when the
//!   counter's width is known ([`Width`]), the previous value fits in that width, and the
//!   wrapped increment `(2^w − previous) + current` is below half the counter's range; then that
//!   wrapped increment is returned. Otherwise it is a reset (device re-created, driver reloaded,
//!   statistics cleared) and, following the cumulative-to-delta semantics, the point after the
//!   decrease is a new start: no increment for that counter on this cycle, and the current value
//!   becomes the baseline. Counters are judged one by one, so a reset of one counter never hides
//!   the increments of the others.
//! - The half-range rule means a 32-bit counter must not advance by more than 2^31 between two
//!   collections to be recognised as wrapping; for the millisecond time counters of
//!   `/proc/diskstats` (the only 32-bit counters the kernel prints on 64-bit hosts) that is
//!   24 days of accumulated time per interval, far above anything a device can do. For 64-bit
//!   counters a "wrap" is only ever recognised from a previous value above 2^63, i.e. never in
//!   practice, so decreases there are resets.
//! - A key observed twice within one cycle keeps its first observation (the second one yields
//!   no increments), so duplicate lines cannot produce bogus zero or double increments.
//! - Keys not observed during a cycle are forgotten at [`DeltaTracker::finish`]; a device that
//!   comes back starts over with a first sample.
//!
//! Cost: one hash look-up per key and cycle; a `String` is allocated only when a key is first
//! seen, and forgetting keys is an in-place `retain`.
//!
//! # `resources` ([`ResourceFilter`])
//!
//! Empty, or containing the entry `*`, selects everything. Other entries are exact names, or
//! shell-style patterns when they contain `*` (any run of characters, `/` included) or `?` (any
//! one character), so `eth*`, `nvme?n1` or `/mnt/*` work; the reference agent's underlying
//! inputs accept the same patterns for devices and interfaces.

use super::CollectError;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The width of a kernel counter, which decides whether a decrease may be a wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// Printed from a 32-bit kernel variable (wraps at 2^32).
    Bits32,
    /// Printed from a 64-bit kernel variable.
    Bits64,
}

impl Width {
    /// The kernel's `unsigned long`: the width of the running (and, on Linux, the kernel's)
    /// native word.
    pub const NATIVE: Width = if usize::BITS == 32 {
        Width::Bits32
    } else {
        Width::Bits64
    };

    fn bits(self) -> u32 {
        match self {
            Width::Bits32 => 32,
            Width::Bits64 => 64,
        }
    }
}

/// The increment of one counter from `previous` to `current` (see the module docs): `None` for
/// a reset.
pub fn increment(previous: u64, current: u64, width: Width) -> Option<u64> {
    if current >= previous {
        return Some(current - previous);
    }
    let bits = width.bits();
    let range: u128 = 1u128 << bits;
    if u128::from(previous) >= range {
        return None;
    }
    let wrapped = range - u128::from(previous) + u128::from(current);
    if wrapped < range / 2 {
        u64::try_from(wrapped).ok()
    } else {
        None
    }
}

#[derive(Debug, Clone)]
struct Slot<const N: usize> {
    previous: [u64; N],
    cycle: u64,
}

/// Per-key cumulative counters → per-cycle increments (see the module docs).
#[derive(Debug, Clone)]
pub struct DeltaTracker<const N: usize> {
    widths: [Width; N],
    slots: HashMap<String, Slot<N>>,
    cycle: u64,
}

impl<const N: usize> DeltaTracker<N> {
    /// A tracker whose `i`-th counter has width `widths[i]`.
    pub fn new(widths: [Width; N]) -> Self {
        DeltaTracker {
            widths,
            slots: HashMap::new(),
            cycle: 0,
        }
    }

    /// Start a collection cycle.
    pub fn begin(&mut self) {
        self.cycle = self.cycle.wrapping_add(1);
    }

    /// Record `current` for `key`; returns each counter's increment since the previous cycle
    /// (`None` for the first sample of the key, a reset, or a repeated key within the cycle).
    pub fn observe(&mut self, key: &str, current: [u64; N]) -> [Option<u64>; N] {
        let cycle = self.cycle;
        let Some(slot) = self.slots.get_mut(key) else {
            self.slots.insert(
                key.to_owned(),
                Slot {
                    previous: current,
                    cycle,
                },
            );
            return [None; N];
        };
        if slot.cycle == cycle {
            return [None; N];
        }
        let mut out = [None; N];
        for (i, o) in out.iter_mut().enumerate() {
            *o = increment(slot.previous[i], current[i], self.widths[i]);
        }
        slot.previous = current;
        slot.cycle = cycle;
        out
    }

    /// End the cycle: forget every key not observed since [`Self::begin`].
    pub fn finish(&mut self) {
        let cycle = self.cycle;
        self.slots.retain(|_, s| s.cycle == cycle);
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// The `resources` option of disk, diskio and net (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFilter {
    all: bool,
    entries: Vec<String>,
}

impl ResourceFilter {
    /// Build from the configured list.
    pub fn new(resources: &[String]) -> Self {
        let entries: Vec<String> = resources
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect();
        ResourceFilter {
            all: entries.is_empty() || entries.iter().any(|r| r == "*"),
            entries,
        }
    }

    /// Whether everything is selected (no list, or `*`).
    pub fn is_all(&self) -> bool {
        self.all
    }

    /// Whether `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        self.all
            || self.entries.iter().any(|e| {
                if e.contains(['*', '?']) {
                    glob_match(e.as_bytes(), name.as_bytes())
                } else {
                    e == name
                }
            })
    }
}

/// Shell-style match of `text` against `pattern` (`*`: any run, `?`: any one byte).
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern index after it, text index it covers up to).
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                resume = Some((p + 1, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match resume {
                Some((rp, rt)) => {
                    p = rp;
                    t = rt + 1;
                    resume = Some((rp, rt + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// Read a whole (proc or sys) file into `buf`, reusing its capacity.
pub(crate) fn read_into(path: &Path, buf: &mut String) -> Result<(), CollectError> {
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(buf))
        .map(|_| ())
        .map_err(|source| CollectError::Read {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO32: u64 = 1 << 32;

    #[test]
    fn increments_wraps_and_resets() {
        assert_eq!(increment(10, 15, Width::Bits64), Some(5));
        assert_eq!(increment(10, 10, Width::Bits32), Some(0));
        // 32-bit wrap near the top of the range.
        assert_eq!(increment(TWO32 - 10, 5, Width::Bits32), Some(15));
        // A decrease from low in the range is a reset, not a 4-billion increment.
        assert_eq!(increment(1000, 10, Width::Bits32), None);
        // A previous value that does not fit 32 bits cannot wrap at 32 bits.
        assert_eq!(increment(TWO32 + 10, 5, Width::Bits32), None);
        // 64-bit: an ordinary decrease is a reset ...
        assert_eq!(increment(1 << 40, 3, Width::Bits64), None);
        // ... and only a previous value at the very top can wrap.
        assert_eq!(increment(u64::MAX - 1, 2, Width::Bits64), Some(4));
        assert_eq!(increment(u64::MAX, 0, Width::Bits64), Some(1));
    }

    #[test]
    fn tracker_first_sample_reset_vanish() {
        let mut t = DeltaTracker::<2>::new([Width::Bits64, Width::Bits32]);
        t.begin();
        assert_eq!(t.observe("a", [100, TWO32 - 1]), [None, None]);
        assert_eq!(t.observe("b", [5, 5]), [None, None]);
        t.finish();
        assert_eq!(t.len(), 2);

        t.begin();
        assert_eq!(t.observe("a", [150, 3]), [Some(50), Some(4)]);
        // `b` vanishes this cycle.
        t.finish();
        assert_eq!(t.len(), 1);

        t.begin();
        // Counter 0 reset; counter 1 keeps going: only counter 0 is withheld.
        assert_eq!(t.observe("a", [7, 10]), [None, Some(7)]);
        // `b` is back: a first sample again, not an increment from 5.
        assert_eq!(t.observe("b", [9, 9]), [None, None]);
        t.finish();

        t.begin();
        // The point after a reset is the new baseline.
        assert_eq!(t.observe("a", [17, 10]), [Some(10), Some(0)]);
        // Duplicate key within a cycle: the first observation stands.
        assert_eq!(t.observe("a", [1000, 1000]), [None, None]);
        t.finish();
        t.begin();
        assert_eq!(t.observe("a", [20, 10]), [Some(3), Some(0)]);
        t.finish();
        assert!(!t.is_empty());
        t.begin();
        t.finish();
        assert!(t.is_empty());
    }

    #[test]
    fn resource_filter() {
        let all = ResourceFilter::new(&[]);
        assert!(all.is_all() && all.matches("anything"));
        let star = ResourceFilter::new(&["sda".into(), "*".into()]);
        assert!(star.is_all());
        let f = ResourceFilter::new(&["sda".into(), "nvme?n1".into(), "/mnt/*".into()]);
        assert!(!f.is_all());
        assert!(f.matches("sda"));
        assert!(!f.matches("sda1"));
        assert!(f.matches("nvme0n1"));
        assert!(!f.matches("nvme0n1p1"));
        assert!(f.matches("/mnt/a/b"));
        assert!(!f.matches("/mnt"));
    }

    #[test]
    fn globs() {
        let m = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes());
        assert!(m("*", ""));
        assert!(m("eth*", "eth0"));
        assert!(m("eth*", "eth"));
        assert!(!m("eth*", "veth0"));
        assert!(m("*eth*", "veth0"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("a*c", "abcbc"));
        assert!(m("??", "ab"));
        assert!(!m("??", "abc"));
        assert!(m("a**", "a"));
        assert!(!m("", "a"));
    }
}
