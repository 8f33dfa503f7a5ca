//! The shipped campaign files, for the suites that check each of them
//! (included with `#[path]`, so it is no test binary of its own).

use std::path::{Path, PathBuf};

/// `campaigns/*.yaml` without the scenario files (`*.test.yaml`) beside them, sorted.
pub(crate) fn campaign_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../campaigns");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "yaml")
                && !p.to_string_lossy().ends_with(".test.yaml")
        })
        .collect();
    files.sort();
    files
}
