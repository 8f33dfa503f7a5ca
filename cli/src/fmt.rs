//! `tombola fmt`: lays campaign and scenario files out in the one canonical
//! layout (`tombola_dsl::format`), in place, or with `--check` says which
//! files differ and how, for CI.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tombola_dsl::format::FormatError;

use crate::files;

/// Formats `paths` (files, and the YAML files under folders); with `check`,
/// writes nothing and exits 1 with a diff for each file that would change.
pub(crate) fn fmt(paths: &[PathBuf], check: bool) -> Result<ExitCode> {
    let found = files::collect(paths, files::is_yaml)?;
    if found.is_empty() {
        bail!("no campaign or scenario files (*.yaml, *.yml) under the paths given");
    }
    let (mut changed, mut failed) = (0, 0);
    for path in &found {
        match format_file(path, check) {
            Ok(false) => {}
            Ok(true) => changed += 1,
            Err(error) => {
                eprintln!("error: {error:#}");
                failed += 1;
            }
        }
    }
    let files = files::counted;
    let verb = if check {
        "would be reformatted"
    } else {
        "reformatted"
    };
    let mut summary = format!(
        "{} {verb}, {} already formatted",
        files(changed),
        files(found.len() - changed - failed)
    );
    if failed > 0 {
        summary.push_str(&format!(", {} could not be formatted", files(failed)));
    }
    println!("{summary}");
    Ok(if failed > 0 || (check && changed > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Formats one file; says whether it changed (or, with `check`, would).
fn format_file(path: &Path, check: bool) -> Result<bool> {
    let name = path.display().to_string();
    let source = crate::files::read_text(path)?;
    let formatted = match tombola_dsl::format::format(&source) {
        Ok(formatted) => formatted,
        Err(FormatError::Syntax(diagnostic)) => {
            let color = std::io::stderr().is_terminal();
            eprint!(
                "{}",
                tombola_dsl::render::human(
                    &name,
                    &tombola_dsl::render::Lines::new(&source),
                    &diagnostic,
                    color,
                )
            );
            bail!("{name} is not valid YAML; it was left as it is");
        }
        Err(error) => bail!("{name}: {error}"),
    };
    if formatted == source {
        return Ok(false);
    }
    if check {
        let diff = similar::TextDiff::from_lines(&source, &formatted);
        print!(
            "{}",
            diff.unified_diff().context_radius(2).header(&name, &name)
        );
    } else {
        replace(path, &formatted).with_context(|| format!("cannot write {name}"))?;
    }
    Ok(true)
}

/// Writes `text` over `path` through a file beside it and a rename, so a
/// crash or a full disk leaves the old file or the new one, never half of it.
/// A link is written through (its target is replaced), the target keeps its
/// permissions and, where the user may, its owner; what a killed run left
/// beside the file is removed first. (A file with hard links gets a new inode:
/// the other names keep the old text.)
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let folder = target.parent().unwrap_or(Path::new("/"));
    let file_name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let prefix = format!(".{file_name}.tombola-fmt-");
    remove_left_behind(folder, &prefix);
    let temporary = folder.join(format!("{prefix}{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        let meta = std::fs::metadata(&target)?;
        std::fs::set_permissions(&temporary, meta.permissions())?;
        keep_owner(&temporary, &meta);
        std::fs::rename(&temporary, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(unix)]
fn keep_owner(path: &Path, meta: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    // Only root may give a file away; anyone else's files are their own already.
    let _ = std::os::unix::fs::chown(path, Some(meta.uid()), Some(meta.gid()));
}

#[cfg(not(unix))]
fn keep_owner(_: &Path, _: &std::fs::Metadata) {}

/// Removes the temporary files of runs that were killed before their rename
/// (their process is gone); a running `fmt`'s own file is left to it.
fn remove_left_behind(folder: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
