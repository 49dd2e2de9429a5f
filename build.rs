//! Embeds the case files: writes `$OUT_DIR/cases.rs`, a sorted list of every `cases/**/*.json`
//! (path under `cases/`, text) that `case::embedded` includes, so that the binary alone carries
//! the whole suite. Reads nothing outside this repository.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("cases");
    println!("cargo:rerun-if-changed=cases");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for file in &files {
        let rel = file.strip_prefix(&root).expect("under cases/");
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        // The path is the compiling crate's own, never this build's absolute one: a build
        // script output reused from another checkout of the crate still reads this checkout.
        let at = format!("/cases/{rel}");
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {at:?}))),"
        );
    }
    code.push_str("]\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("cases.rs");
    std::fs::write(out, code).expect("write $OUT_DIR/cases.rs");
}
