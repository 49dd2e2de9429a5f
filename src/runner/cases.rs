//! Where the cases come from: `--cases DIR`, else the suite embedded in the binary at build time
//! (`build.rs`), so that the binary alone runs everywhere. Loading itself is `case::load`'s job;
//! this file only picks the source and names the failure.

use std::path::{Path, PathBuf};

use crate::case::LoadedCase;
use crate::case::load::{LoadError, load_dir, load_embedded};

/// Why the cases could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CasesError {
    /// `--cases` names something that is not a directory.
    #[error("read cases: {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// Some case files are broken (every problem is listed).
    #[error("load cases: {0}")]
    Load(#[from] LoadError),
}

/// The cases of a run: those under `--cases DIR` when given, else the embedded suite.
pub fn chosen(flag: Option<&Path>) -> Result<Vec<LoadedCase>, CasesError> {
    match flag {
        Some(dir) => load(dir),
        None => Ok(load_embedded()?),
    }
}

/// Loads every case under `root`, sorted by name; the error lists every broken file.
pub fn load(root: &Path) -> Result<Vec<LoadedCase>, CasesError> {
    if !root.is_dir() {
        return Err(CasesError::NotADirectory(root.to_path_buf()));
    }
    Ok(load_dir(root)?)
}
