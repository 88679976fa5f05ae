//! Sharing one reading per tick between plugins, without the runtime's help.
//!
//! Several plugins read the same source: `processes` and every `procstat` entry scan the proc
//! root, `mem` and `swap` both read `meminfo`. A [`Registry`] hands out one object per path
//! (an `Arc<Mutex<T>>`; the registry keeps only weak references, so an object lives exactly
//! as long as some plugin holds it, and the plugins of a reloaded configuration get a fresh
//! one or share the one still held). A [`TickGate`] in that object decides when to read
//! again: each plugin holds a [`Reader`], and [`TickGate::pass`] says "reuse" only when the
//! last reading was made **for the same tick** and this reader has not consumed it yet. So
//! plugins sharing an interval read once per tick, plugins on different intervals share the
//! ticks they have in common, and a reader that asks twice for one tick (tests, `--once`,
//! which samples each plugin at its own instant) always gets a fresh reading.
//!
//! Invariants: a reading without a tick (`None`) is never reused; a failed reading is not
//! recorded (the next reader tries again); locking never fails (a panic while an object was
//! held leaves it usable, since every reading overwrites what it depends on).

use super::kept::KeptFile;
use super::CollectError;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

/// One shared object per path.
#[derive(Debug)]
pub(crate) struct Registry<T> {
    entries: Mutex<Vec<(PathBuf, Weak<Mutex<T>>)>>,
}

impl<T> Registry<T> {
    /// An empty registry (usable in a `static`).
    pub(crate) const fn new() -> Self {
        Registry {
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The object of `path`: the one some plugin still holds, else a new one from `make`.
    pub(crate) fn get(&self, path: &Path, make: impl FnOnce() -> T) -> Arc<Mutex<T>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(_, t)| t.strong_count() > 0);
        if let Some(t) = entries
            .iter()
            .filter(|(p, _)| p == path)
            .find_map(|(_, t)| t.upgrade())
        {
            return t;
        }
        let t = Arc::new(Mutex::new(make()));
        entries.push((path.to_path_buf(), Arc::downgrade(&t)));
        t
    }
}

/// Lock a shared object.
pub(crate) fn lock<T>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One plugin's view of a shared reading: which one it has seen.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    seen: u64,
}

/// When a shared reading is made again (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct TickGate {
    /// The tick of the last reading, when it had one.
    tick: Option<i64>,
    /// Readings so far (0: none).
    generation: u64,
}

impl TickGate {
    /// Whether `reader` may reuse the last reading for `tick`. When it may not, the caller
    /// reads and then calls [`TickGate::record`].
    pub(crate) fn pass(&self, tick: Option<i64>, reader: &mut Reader) -> bool {
        let reuse = self.generation > 0
            && tick.is_some()
            && tick == self.tick
            && reader.seen != self.generation;
        if reuse {
            reader.seen = self.generation;
        }
        reuse
    }

    /// A reading for `tick` was made and handed to `reader`.
    pub(crate) fn record(&mut self, tick: Option<i64>, reader: &mut Reader) {
        self.tick = tick;
        self.generation += 1;
        reader.seen = self.generation;
    }

    /// Readings made so far.
    pub(crate) fn readings(&self) -> u64 {
        self.generation
    }
}

/// A file read at most once per tick for all the plugins that share it.
#[derive(Debug)]
pub(crate) struct SharedFile {
    file: KeptFile,
    buf: Vec<u8>,
    gate: TickGate,
}

/// The shared files handed out so far.
static FILES: Registry<SharedFile> = Registry::new();

/// The shared reading of the single-record file at `path` (see [`KeptFile::single_record`]).
pub(crate) fn shared_file(path: &Path) -> Arc<Mutex<SharedFile>> {
    FILES.get(path, || SharedFile {
        file: KeptFile::single_record(path.to_path_buf()),
        buf: Vec::new(),
        gate: TickGate::default(),
    })
}

impl SharedFile {
    /// The file's text for `tick`: this tick's reading if another reader made it, else a new
    /// one.
    pub(crate) fn read(
        &mut self,
        tick: Option<i64>,
        reader: &mut Reader,
    ) -> Result<&str, CollectError> {
        if !self.gate.pass(tick, reader) {
            self.file.read_text(&mut self.buf)?;
            self.gate.record(tick, reader);
        }
        std::str::from_utf8(&self.buf).map_err(|_| CollectError::Parse {
            path: self.file.path().to_path_buf(),
            message: "not UTF-8".into(),
        })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        self.file.path()
    }

    /// Readings made so far (tests).
    #[cfg(test)]
    pub(crate) fn readings(&self) -> u64 {
        self.gate.readings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_per_path_while_held() {
        static REG: Registry<u32> = Registry::new();
        let a = REG.get(Path::new("/a"), || 1);
        let a2 = REG.get(Path::new("/a"), || 2);
        let b = REG.get(Path::new("/b"), || 3);
        assert!(Arc::ptr_eq(&a, &a2));
        assert_eq!((*lock(&a), *lock(&b)), (1, 3));
        let weak = Arc::downgrade(&a);
        drop((a, a2));
        assert!(
            weak.upgrade().is_none(),
            "the registry holds no strong reference"
        );
        assert_eq!(*lock(&REG.get(Path::new("/a"), || 4)), 4, "made afresh");
    }

    #[test]
    fn gate_rules() {
        let mut g = TickGate::default();
        let (mut a, mut b, mut c) = (Reader::default(), Reader::default(), Reader::default());
        let step = |g: &mut TickGate, r: &mut Reader, tick: Option<i64>| -> bool {
            let reused = g.pass(tick, r);
            if !reused {
                g.record(tick, r);
            }
            reused
        };
        assert!(!step(&mut g, &mut a, Some(1)), "nothing to reuse yet");
        assert!(step(&mut g, &mut b, Some(1)));
        assert!(step(&mut g, &mut c, Some(1)));
        assert!(
            !step(&mut g, &mut a, Some(1)),
            "a asks again for the same tick"
        );
        assert!(
            step(&mut g, &mut b, Some(1)),
            "b has not seen the new reading"
        );
        assert!(!step(&mut g, &mut c, Some(2)), "a new tick");
        assert!(step(&mut g, &mut a, Some(2)));
        assert!(!step(&mut g, &mut b, None), "no tick: never reused");
        assert!(!step(&mut g, &mut c, None));
        assert_eq!(g.readings(), 5);
    }
}
