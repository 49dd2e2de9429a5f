//! Where the cases come from: `--cases DIR`, else `cases/` under the current directory, else the
//! crate's own `cases/`. Loading itself is `case::load`'s job; this file only picks the directory
//! and adapts the error.

use std::path::{Path, PathBuf};

use crate::case::LoadedCase;

/// The cases directory for an optional `--cases` value.
pub fn dir(flag: Option<&Path>) -> PathBuf {
    if let Some(d) = flag {
        return d.to_path_buf();
    }
    let local = PathBuf::from("cases");
    if local.is_dir() {
        local
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"))
    }
}

/// Loads every case under `root`, sorted by name; the error lists every broken file.
pub fn load(root: &Path) -> Result<Vec<LoadedCase>, String> {
    if !root.is_dir() {
        return Err(format!("read cases: {} is not a directory", root.display()));
    }
    let mut cases = interim_load_dir(root).map_err(|e| format!("load cases: {e}"))?;
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// Interim loader until `case::load::load_dir` lands: every `*.json` under `root`, deserialized.
fn interim_load_dir(root: &Path) -> Result<Vec<LoadedCase>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, &mut files).map_err(|e| e.to_string())?;
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let case =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .with_extension("")
                .to_string_lossy()
                .replace('\\', "/");
            Ok(LoadedCase { name, path, case })
        })
        .collect()
}
