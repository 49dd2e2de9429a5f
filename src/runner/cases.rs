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
    crate::case::load::load_dir(root).map_err(|e| format!("load cases: {e}"))
}
