//! `file_path` globs, with the CloudWatch agent's meaning.
//!
//! Syntax (the real agent uses gobwas/glob with `/` as the separator):
//! - `*` any run of characters except `/`; `?` one character except `/`;
//! - `**` the "super asterisk": any run of characters **including** `/` (so
//!   `/var/log/**.log` matches `/var/log/a/b/c.log`, and `/var/log/**/x.log` needs at least one
//!   directory level between);
//! - `[abc]`, `[a-z]`, `[!abc]` / `[^abc]` character classes (never matching `/`);
//! - `{a,b,c}` alternatives (may contain other glob syntax, no nesting);
//! - `\` escapes the next character.
//!
//! A glob compiles to an anchored regex over the whole path. Its **base** is the longest
//! leading run of directory components without glob syntax: discovery watches and walks only
//! under it, and walks recursively only when a `**` or a wildcard in a non-final component makes
//! deeper levels possible ([`Glob::max_depth`]).

use regex::Regex;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A compiled `file_path` glob.
#[derive(Debug, Clone)]
pub struct Glob {
    source: String,
    regex: Regex,
    base: PathBuf,
    max_depth: Option<usize>,
}

/// Why a glob does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid file_path glob {glob:?}: {reason}")]
pub struct GlobError {
    pub glob: String,
    pub reason: String,
}

fn is_meta(c: char) -> bool {
    matches!(c, '*' | '?' | '[' | '{' | '\\')
}

impl Glob {
    /// Compile `pattern` (an absolute path glob).
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        let err = |reason: &str| GlobError {
            glob: pattern.to_string(),
            reason: reason.to_string(),
        };
        if !pattern.starts_with('/') {
            return Err(err("the path must be absolute"));
        }
        let mut re = String::with_capacity(pattern.len() * 2 + 2);
        re.push('^');
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let mut in_alt = false;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '*' => {
                    if chars.get(i + 1) == Some(&'*') {
                        re.push_str(".*");
                        i += 2;
                        while chars.get(i) == Some(&'*') {
                            i += 1;
                        }
                        continue;
                    }
                    re.push_str("[^/]*");
                }
                '?' => re.push_str("[^/]"),
                '\\' => {
                    i += 1;
                    let Some(n) = chars.get(i) else {
                        return Err(err("a trailing backslash escapes nothing"));
                    };
                    re.push_str(&regex::escape(&n.to_string()));
                }
                '[' => {
                    let close = chars[i + 1..]
                        .iter()
                        .position(|&x| x == ']')
                        .map(|p| p + i + 1)
                        .ok_or_else(|| err("unclosed ["))?;
                    let body: String = chars[i + 1..close].iter().collect();
                    let (neg, body) = match body.strip_prefix(['!', '^']) {
                        Some(rest) => (true, rest.to_string()),
                        None => (false, body),
                    };
                    if body.is_empty() {
                        return Err(err("empty character class"));
                    }
                    re.push('[');
                    if neg {
                        re.push('^');
                        re.push('/');
                    }
                    for ch in body.chars() {
                        if matches!(ch, '\\' | '[' | ']' | '^' | '&' | '~') {
                            re.push('\\');
                        }
                        re.push(ch);
                    }
                    re.push(']');
                    i = close;
                }
                '{' => {
                    if in_alt {
                        return Err(err("nested { is not supported"));
                    }
                    in_alt = true;
                    re.push_str("(?:");
                }
                '}' if in_alt => {
                    in_alt = false;
                    re.push(')');
                }
                ',' if in_alt => re.push('|'),
                other => {
                    let _ = write!(re, "{}", regex::escape(&other.to_string()));
                }
            }
            i += 1;
        }
        if in_alt {
            return Err(err("unclosed {"));
        }
        re.push('$');
        let regex = Regex::new(&re).map_err(|e| err(&e.to_string()))?;
        let (base, max_depth) = base_and_depth(pattern);
        Ok(Glob {
            source: pattern.to_string(),
            regex,
            base,
            max_depth,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `path` matches.
    pub fn matches(&self, path: &Path) -> bool {
        path.to_str().is_some_and(|s| self.regex.is_match(s))
    }

    /// The directory discovery starts from.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// How many directory levels below [`Glob::base`] a match can be (1 = files directly in
    /// the base); `None` = unbounded (`**`).
    pub fn max_depth(&self) -> Option<usize> {
        self.max_depth
    }

    /// Whether the glob has no wildcard at all (a plain file path).
    pub fn is_literal(&self) -> bool {
        !self.source.chars().any(is_meta)
    }
}

fn base_and_depth(pattern: &str) -> (PathBuf, Option<usize>) {
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let first_meta = comps
        .iter()
        .position(|c| c.chars().any(is_meta))
        .unwrap_or(comps.len().saturating_sub(1));
    let mut base = PathBuf::from("/");
    for c in &comps[..first_meta] {
        base.push(c);
    }
    let rest = &comps[first_meta..];
    let depth = if rest.iter().any(|c| c.contains("**")) {
        None
    } else {
        Some(rest.len().max(1))
    };
    (base, depth)
}

/// File extensions the agent never tails (compressed or archived rotations).
pub const SKIPPED_EXTENSIONS: &[&str] = &["tar", "zst", "gz", "zip", "bz2", "rar"];

/// Whether `path` has an extension the agent never tails.
pub fn has_skipped_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| SKIPPED_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Every regular file under the glob's base that matches, skipping `exclude` (the agent's
/// own state folder) and archives. Symlinks to files are followed; directories (and symlinks
/// to directories) are never matches. Unreadable directories are skipped silently.
pub fn walk(glob: &Glob, exclude: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if glob.is_literal() {
        let p = PathBuf::from(glob.as_str());
        if p.metadata().is_ok_and(|m| m.is_file()) && !has_skipped_extension(&p) {
            out.push(p);
        }
        return out;
    }
    let mut stack: Vec<(PathBuf, usize)> = vec![(glob.base().to_path_buf(), 1)];
    while let Some((dir, depth)) = stack.pop() {
        if exclude.is_some_and(|x| dir.starts_with(x)) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            let is_dir = if ft.is_symlink() {
                path.metadata().is_ok_and(|m| m.is_dir())
            } else {
                ft.is_dir()
            };
            if is_dir {
                // Symlinked directories are not descended into (no loops).
                if !ft.is_symlink() && glob.max_depth().is_none_or(|d| depth < d) {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            if exclude.is_some_and(|x| path.starts_with(x)) || has_skipped_extension(&path) {
                continue;
            }
            if glob.matches(&path) && path.metadata().is_ok_and(|m| m.is_file()) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_table() {
        let rows: &[(&str, &str, bool)] = &[
            ("/var/log/*.log", "/var/log/a.log", true),
            ("/var/log/*.log", "/var/log/sub/a.log", false),
            ("/var/log/**.log", "/var/log/sub/deep/a.log", true),
            ("/var/log/**.log", "/var/log/a.log", true),
            ("/var/log/**/a.log", "/var/log/x/a.log", true),
            ("/var/log/**/a.log", "/var/log/a.log", false),
            ("/var/log/app?.log", "/var/log/app1.log", true),
            ("/var/log/app?.log", "/var/log/app12.log", false),
            ("/var/log/app[0-9].log", "/var/log/app7.log", true),
            ("/var/log/app[!0-9].log", "/var/log/app7.log", false),
            ("/var/log/app[!0-9].log", "/var/log/appx.log", true),
            ("/var/log/{a,b}.log", "/var/log/b.log", true),
            ("/var/log/{a,b}.log", "/var/log/c.log", false),
            ("/var/log/a.log", "/var/log/a.log", true),
            ("/var/log/a.log", "/var/log/aXlog", false),
            ("/var/log/\\*.log", "/var/log/*.log", true),
            ("/var/log/\\*.log", "/var/log/x.log", false),
            ("/var/log/*/app.log", "/var/log/x/app.log", true),
            ("/var/log/*/app.log", "/var/log/x/y/app.log", false),
        ];
        for (g, p, want) in rows {
            let glob = Glob::new(g).unwrap();
            assert_eq!(glob.matches(Path::new(p)), *want, "{g} vs {p}");
        }
    }

    #[test]
    fn base_and_depth_table() {
        let rows: &[(&str, &str, Option<usize>)] = &[
            ("/var/log/*.log", "/var/log", Some(1)),
            ("/var/log/**.log", "/var/log", None),
            ("/var/log/*/app.log", "/var/log", Some(2)),
            ("/var/log/app.log", "/var/log", Some(1)),
            ("/*.log", "/", Some(1)),
        ];
        for (g, base, depth) in rows {
            let glob = Glob::new(g).unwrap();
            assert_eq!(glob.base(), Path::new(base), "{g}");
            assert_eq!(glob.max_depth(), *depth, "{g}");
        }
    }

    #[test]
    fn bad_globs_are_errors_not_panics() {
        for g in [
            "relative/*.log",
            "/a/[abc",
            "/a/{x,y",
            "/a/b\\",
            "/a/[]",
            "/a/{x,{y}}",
        ] {
            assert!(Glob::new(g).is_err(), "{g}");
        }
    }

    #[test]
    fn walk_finds_nested_files_and_skips_archives_and_state() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("state")).unwrap();
        for f in [
            "x.log",
            "a/y.log",
            "a/b/z.log",
            "a/b/z.log.gz",
            "state/s.log",
            "a/n.txt",
        ] {
            std::fs::write(root.join(f), "line\n").unwrap();
        }
        let glob = Glob::new(&format!("{}/**.log", root.display())).unwrap();
        let found = walk(&glob, Some(&root.join("state")));
        let rel: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(rel, vec!["a/b/z.log", "a/y.log", "x.log"]);
        let flat = Glob::new(&format!("{}/*.log", root.display())).unwrap();
        assert_eq!(walk(&flat, None).len(), 1);
    }
}
