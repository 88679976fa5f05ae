//! Which files to tail, and being told when they change.
//!
//! Discovery is event driven: one inotify watcher (through `notify`) covers the base directory
//! of every `collect_list` glob, recursively when the glob can match deeper levels. Creating,
//! writing, renaming or deleting a file under a base produces a message for the tailer thread;
//! nothing is re-globbed per second (the CloudWatch agent's re-glob every second is what makes
//! it burn a core on `**` patterns). A full re-scan still runs every `rescan_interval` (default
//! 60 s) and whenever the kernel reports a lost event (queue overflow), so a missed
//! notification delays a file by at most that long. If a base directory does not exist yet, or
//! inotify cannot be used at all, the periodic re-scan is the fallback.
//!
//! Selection per entry: files matching the glob, not under the agent's state folder, without
//! an archive extension, whose base name does not match `blacklist`. Without
//! `publish_multi_logs` only the most recently modified match is picked at a scan; a file
//! created later that matches is picked too (the older file's tailer drains until it is idle).

use notify::{EventKind, RecursiveMode, Watcher};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::glob::{has_skipped_extension, walk, Glob};

/// A message to the tailer thread.
#[derive(Debug)]
pub enum Msg {
    /// These paths changed (content, creation, rename, removal).
    Changed(Vec<PathBuf>),
    /// Events were lost: re-scan everything.
    Rescan,
    /// Stop the thread.
    Stop,
}

/// One `collect_list` entry's selection rules.
#[derive(Debug, Clone)]
pub struct Selector {
    pub glob: Glob,
    pub blacklist: Option<Regex>,
    pub publish_multi_logs: bool,
}

impl Selector {
    /// Whether `path` is a candidate for this entry (glob, blacklist, archive, state folder).
    pub fn accepts(&self, path: &Path, state_dir: &Path) -> bool {
        if path.starts_with(state_dir) || has_skipped_extension(path) || !self.glob.matches(path) {
            return false;
        }
        match (&self.blacklist, path.file_name().and_then(|n| n.to_str())) {
            (Some(b), Some(name)) => !b.is_match(name),
            _ => true,
        }
    }

    /// The files to tail now: every match with `publish_multi_logs`, else the newest.
    pub fn scan(&self, state_dir: &Path) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = walk(&self.glob, Some(state_dir))
            .into_iter()
            .filter(|p| self.accepts(p, state_dir))
            .collect();
        if !self.publish_multi_logs && found.len() > 1 {
            let newest = found
                .iter()
                .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p.clone())))
                .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
                .map(|(_, p)| p);
            found = newest.into_iter().collect();
        }
        found
    }
}

/// The inotify side: watches the bases and forwards changes to the tailer's channel.
pub struct Discovery {
    watcher: Option<notify::RecommendedWatcher>,
    /// Bases that could not be watched (missing yet): retried at each re-scan.
    unwatched: Vec<(PathBuf, RecursiveMode)>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("watching", &self.watcher.is_some())
            .field("unwatched", &self.unwatched)
            .finish()
    }
}

fn relevant(kind: &EventKind) -> bool {
    !matches!(kind, EventKind::Access(_))
}

impl Discovery {
    /// Watch the bases of `selectors`, sending to `tx`.
    pub fn start(selectors: &[Selector], tx: mpsc::Sender<Msg>) -> Discovery {
        let handler_tx = tx.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let msg = match res {
                Ok(ev) if ev.need_rescan() => Msg::Rescan,
                Ok(ev) if relevant(&ev.kind) && !ev.paths.is_empty() => Msg::Changed(ev.paths),
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!("file watcher: {e}; re-scanning");
                    Msg::Rescan
                }
            };
            let _ = handler_tx.send(msg);
        });
        let watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("cannot watch files ({e}); falling back to periodic scans");
                None
            }
        };
        let mut bases: Vec<(PathBuf, RecursiveMode)> = Vec::new();
        for s in selectors {
            let mode = if s.glob.max_depth() == Some(1) {
                RecursiveMode::NonRecursive
            } else {
                RecursiveMode::Recursive
            };
            let base = s.glob.base().to_path_buf();
            match bases.iter_mut().find(|(b, _)| *b == base) {
                Some(existing) if mode == RecursiveMode::Recursive => existing.1 = mode,
                Some(_) => {}
                None => bases.push((base, mode)),
            }
        }
        let mut d = Discovery {
            watcher,
            unwatched: bases,
        };
        d.retry_unwatched();
        d
    }

    /// Try again to watch bases that did not exist before.
    pub fn retry_unwatched(&mut self) {
        let Some(w) = self.watcher.as_mut() else {
            return;
        };
        self.unwatched
            .retain(|(base, mode)| match w.watch(base, *mode) {
                Ok(()) => false,
                Err(e) => {
                    tracing::debug!(base = %base.display(), "not watched yet: {e}");
                    true
                }
            });
    }

    /// Whether every base is watched.
    pub fn complete(&self) -> bool {
        self.watcher.is_some() && self.unwatched.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn newest_match_unless_publish_multi_logs_and_blacklist() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("app-1.log");
        let new = dir.path().join("app-2.log");
        let skip = dir.path().join("app-debug.log");
        std::fs::write(&old, "a\n").unwrap();
        let past = std::time::SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(past)
            .unwrap();
        std::fs::write(&new, "b\n").unwrap();
        std::fs::write(&skip, "c\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&skip)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let state = dir.path().join("state");
        let mut s = Selector {
            glob: Glob::new(&format!("{}/app-*.log", dir.path().display())).unwrap(),
            blacklist: Some(Regex::new("debug").unwrap()),
            publish_multi_logs: false,
        };
        assert_eq!(s.scan(&state), vec![new.clone()]);
        s.publish_multi_logs = true;
        assert_eq!(s.scan(&state), vec![old, new]);
        assert!(!s.accepts(&skip, &state));
    }

    #[test]
    fn inotify_reports_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = Selector {
            glob: Glob::new(&format!("{}/**.log", dir.path().display())).unwrap(),
            blacklist: None,
            publish_multi_logs: true,
        };
        let (tx, rx) = mpsc::channel();
        let d = Discovery::start(std::slice::from_ref(&s), tx);
        assert!(d.complete());
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        // The watch on a new directory is added when its creation is reported; the tailer
        // walks new directories for files created before that (not exercised here).
        std::thread::sleep(Duration::from_millis(300));
        let f = dir.path().join("sub/x.log");
        std::fs::write(&f, "hello\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut seen = false;
        while std::time::Instant::now() < deadline && !seen {
            if let Ok(Msg::Changed(paths)) = rx.recv_timeout(Duration::from_millis(200)) {
                seen = paths.contains(&f);
            }
        }
        assert!(seen, "no event for {}", f.display());
    }
}
