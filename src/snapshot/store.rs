//! Snapshot files: the one place insta is configured. A snapshot lives at
//! `<root>/<label>/<case path>.snap` in insta's format (a `---` YAML header with `source`,
//! `description`, `expression` and `info: {label, case}`, then pretty JSON with sorted keys), so
//! `cargo insta review` and `assert_json_snapshot!` under [`insta_settings`] read the same files.
//!
//! Comparison is ours (insta panics and prints to stdout): the stored body is read with
//! [`insta::Snapshot::from_file`], compared as JSON, and a mismatch comes back as a
//! [`SnapshotMismatch`] naming the first differing member (JSON pointer) with a unified diff.
//! This file must not normalize or redact (that is `snapshot`'s job before it gets here).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// What to do with snapshot files, mirroring insta's `INSTA_UPDATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// insta's default outside CI: a missing snapshot is written as `.snap` (insta's `unseen`) and
    /// the check passes; a changed one is written next to it as `.snap.new` for
    /// `cargo insta review` and the check fails. [`Update::from_env`] never gives `Auto` under CI
    /// (there it is [`Update::Never`]); a caller passing `Auto` explicitly gets `Auto`.
    Auto,
    /// Write every snapshot in place (`--update`, `INSTA_UPDATE=always`); never fails on content.
    Always,
    /// Write nothing: a missing or changed snapshot fails (CI, `INSTA_UPDATE=no`).
    Never,
}

impl Update {
    /// The mode the environment asks for: `INSTA_UPDATE` (`always`/`1` -> Always, `no` -> Never,
    /// anything else -> Auto), and Auto becomes Never under CI (`CI` set and not `false`/`0`/empty,
    /// or `TF_BUILD` set), as insta does.
    pub fn from_env() -> Update {
        let var = std::env::var("INSTA_UPDATE").unwrap_or_default();
        Update::from_parts(&var, is_ci())
    }

    /// [`Update::from_env`] without the environment: `insta_update` is `INSTA_UPDATE`'s value.
    pub fn from_parts(insta_update: &str, ci: bool) -> Update {
        match insta_update {
            "always" | "1" | "force" => Update::Always,
            "no" => Update::Never,
            _ if ci => Update::Never,
            _ => Update::Auto,
        }
    }
}

/// insta's CI detection.
pub fn is_ci() -> bool {
    let ci = std::env::var("CI").unwrap_or_default();
    (!ci.is_empty() && ci != "false" && ci != "0") || std::env::var_os("TF_BUILD").is_some()
}

/// What [`assert_snapshot`] did when it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The stored snapshot equals the value.
    Matched,
    /// The snapshot did not exist and was written.
    Created(PathBuf),
    /// The snapshot differed and was overwritten ([`Update::Always`]).
    Updated(PathBuf),
}

/// A snapshot that does not match, or could not be read or written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SnapshotMismatch {
    /// The stored value differs.
    #[error(
        "match snapshot {path}: first difference at {pointer:?}{}\n{diff}",
        pending.as_ref().map(|p| format!(" (new value in {})", p.display())).unwrap_or_default()
    )]
    Changed {
        /// The `.snap` file.
        path: PathBuf,
        /// JSON pointer of the first differing member (`""`: the whole value).
        pointer: String,
        /// Unified diff of the pretty JSON, `-` stored, `+` new.
        diff: String,
        /// The `.snap.new` written for `cargo insta review`, if any.
        pending: Option<PathBuf>,
    },
    /// No snapshot is stored and the mode forbids writing one.
    #[error("find snapshot {}: none is stored (run with --update to create it)", path.display())]
    Missing {
        /// The `.snap` file expected.
        path: PathBuf,
    },
    /// Reading, parsing or writing failed.
    #[error("access snapshot {}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// `snapshots/` of the current directory, or `$INSTA_WORKSPACE_ROOT/snapshots` when that is set;
/// never a folder of the source tree the binary was built from.
pub fn default_root() -> PathBuf {
    let base = std::env::var_os("INSTA_WORKSPACE_ROOT")
        .map(PathBuf::from)
        .unwrap_or_default();
    base.join("snapshots")
}

/// `<root>/<label>/<case>.snap`.
pub fn snapshot_file(root: &Path, label: &str, case_name: &str) -> PathBuf {
    root.join(label).join(format!("{case_name}.snap"))
}

/// The insta settings every jobconform snapshot uses: absolute snapshot path
/// `<root>/<label>/<dir of case>`, no module prefix, sorted maps, description and info naming the
/// label and case. Use with `insta::assert_json_snapshot!(<file name of case>, value)` inside
/// `settings.bind(..)` to get the file [`write_snapshot`] writes.
pub fn insta_settings(root: &Path, label: &str, case_name: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    let file = snapshot_file(root, label, case_name);
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    s.set_snapshot_path(dir);
    s.set_prepend_module_to_snapshot(false);
    s.set_sort_maps(true);
    s.set_omit_expression(true);
    s.set_description(format!("{label}: {case_name}"));
    s.set_info(&serde_json::json!({ "label": label, "case": case_name }));
    s
}

/// The snapshot name insta uses for a case: its file name.
pub fn snapshot_name(case_name: &str) -> &str {
    case_name.rsplit('/').next().unwrap_or(case_name)
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> SnapshotMismatch {
    SnapshotMismatch::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Reads a stored snapshot's JSON body through insta's reader; `Ok(None)` if there is none.
pub fn read_snapshot(path: &Path) -> Result<Option<Value>, SnapshotMismatch> {
    if !path.exists() {
        return Ok(None);
    }
    let snap = insta::Snapshot::from_file(path).map_err(|e| io_err(path, e))?;
    let text = snap
        .contents()
        .as_text()
        .ok_or_else(|| io_err(path, "binary snapshot"))?
        .to_string();
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| io_err(path, format!("body is not JSON: {e}")))
}

/// The file text insta would write for this value (header, `---`, pretty JSON, newline).
pub fn render(label: &str, case_name: &str, value: &Value) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let body = serde_json::to_string_pretty(value).unwrap_or_default();
    format!(
        "---\nsource: {}\ndescription: {}\ninfo:\n  case: {}\n  label: {}\n---\n{body}\n",
        q(&format!("cases/{case_name}.json")),
        q(&format!("{label}: {case_name}")),
        q(case_name),
        q(label),
    )
}

/// Writes a snapshot file at `path` (directories created).
pub fn write_snapshot(
    path: &Path,
    label: &str,
    case_name: &str,
    value: &Value,
) -> Result<(), SnapshotMismatch> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    std::fs::write(path, render(label, case_name, value)).map_err(|e| io_err(path, e))
}

fn pending_path(path: &Path) -> PathBuf {
    path.with_extension("snap.new")
}

/// Compares `value` with `<root>/<label>/<case>.snap` and acts on the result as `mode` says.
/// A `.snap.new` left from an earlier run is removed when the snapshot matches or is updated.
pub fn assert_snapshot(
    root: &Path,
    label: &str,
    case_name: &str,
    value: &Value,
    mode: Update,
) -> Result<Stored, SnapshotMismatch> {
    let path = snapshot_file(root, label, case_name);
    let pending = pending_path(&path);
    let stored = read_snapshot(&path)?;
    let Some(old) = stored else {
        return match mode {
            Update::Never => Err(SnapshotMismatch::Missing { path }),
            Update::Auto | Update::Always => {
                write_snapshot(&path, label, case_name, value)?;
                let _ = std::fs::remove_file(&pending);
                Ok(Stored::Created(path))
            }
        };
    };
    if &old == value {
        let _ = std::fs::remove_file(&pending);
        return Ok(Stored::Matched);
    }
    match mode {
        Update::Always => {
            write_snapshot(&path, label, case_name, value)?;
            let _ = std::fs::remove_file(&pending);
            Ok(Stored::Updated(path))
        }
        Update::Auto | Update::Never => {
            let written = if mode == Update::Auto {
                write_snapshot(&pending, label, case_name, value)?;
                Some(pending)
            } else {
                None
            };
            Err(SnapshotMismatch::Changed {
                pointer: first_difference(&old, value),
                diff: json_diff(&old, value),
                path,
                pending: written,
            })
        }
    }
}

/// JSON pointer of the first member where `a` and `b` differ, in sorted-key order except that
/// `exchanges` comes first (everything else in a snapshot derives from the exchanges).
pub fn first_difference(a: &Value, b: &Value) -> String {
    fn walk(a: &Value, b: &Value, at: String) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort_by_key(|k| (k.as_str() != "exchanges", k.as_str()));
                keys.dedup();
                keys.into_iter().find_map(|k| {
                    let p = format!("{at}/{}", super::shape::escape(k));
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => walk(u, v, p),
                        _ => Some(p),
                    }
                })
            }
            (Value::Array(x), Value::Array(y)) => {
                let found = x
                    .iter()
                    .zip(y)
                    .enumerate()
                    .find_map(|(i, (u, v))| walk(u, v, format!("{at}/{i}")));
                match found {
                    Some(p) => Some(p),
                    None if x.len() != y.len() => Some(format!("{at}/{}", x.len().min(y.len()))),
                    None => None,
                }
            }
            _ if a == b => None,
            _ => Some(at),
        }
    }
    walk(a, b, String::new()).unwrap_or_default()
}

/// Unified diff (3 lines of context) of the pretty JSON of `old` and `new`.
pub fn json_diff(old: &Value, new: &Value) -> String {
    let a = serde_json::to_string_pretty(old).unwrap_or_default();
    let b = serde_json::to_string_pretty(new).unwrap_or_default();
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header("stored", "new")
        .to_string()
}
