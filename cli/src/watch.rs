//! `--watch` for `check` and `test`: runs the command, then again each time a
//! file it reads changes, with the screen cleared and one status line after
//! the command's own output.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::files;

/// How often the files are looked at. Reading them is cheap next to a run,
/// and polling works on every file system, editors' rename-and-replace saves
/// and network mounts included.
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// The files a run reads and their contents, as last seen (`None`: could not
/// be read, e.g. gone).
type Seen = BTreeMap<PathBuf, Option<Vec<u8>>>;

/// Runs `run` now and after every change to the files under `paths` (every
/// YAML file, and the campaigns scenario files name), until interrupted. A
/// run that fails with an error is reported and watching goes on.
pub(crate) fn watch(
    paths: &[PathBuf],
    mut run: impl FnMut() -> Result<ExitCode>,
) -> Result<ExitCode> {
    let terminal = std::io::stdout().is_terminal();
    let mut seen = look(paths);
    loop {
        if terminal {
            // Clear the screen and scrollback, cursor home: each run reads alone.
            print!("\x1b[2J\x1b[3J\x1b[H");
        }
        let outcome = match run() {
            Ok(code) if code == ExitCode::SUCCESS => "passed",
            Ok(_) => "failed",
            Err(error) => {
                println!("error: {error:#}");
                "failed"
            }
        };
        let files = files::counted(seen.len());
        println!(
            "[{}] {outcome}; watching {files} for changes (Ctrl-C stops)",
            chrono::Local::now().format("%H:%M:%S"),
        );
        let _ = std::io::stdout().flush();
        seen = next_change(paths, seen);
    }
}

/// Waits until the files differ from `seen` and then hold still for one look
/// (an editor may write a file in several steps); returns what they hold.
fn next_change(paths: &[PathBuf], seen: Seen) -> Seen {
    loop {
        std::thread::sleep(LOOK_EVERY);
        let now = look(paths);
        if now == seen {
            continue;
        }
        let mut settling = now;
        loop {
            std::thread::sleep(LOOK_EVERY);
            let again = look(paths);
            if again == settling {
                return settling;
            }
            settling = again;
        }
    }
}

/// The YAML files under `paths`, the campaign files their scenario files
/// name, and what each holds. Folders are searched again each time, so a new
/// file is seen too.
fn look(paths: &[PathBuf]) -> Seen {
    let mut found: Vec<PathBuf> = paths
        .iter()
        .flat_map(|path| {
            files::collect(std::slice::from_ref(path), files::is_yaml).unwrap_or_default()
        })
        .collect();
    let named: Vec<PathBuf> = found
        .iter()
        .filter(|path| files::is_scenario(path))
        .filter_map(|path| named_campaign(path))
        .collect();
    found.extend(named);
    // A path given that cannot be read now is watched too, to see it come back.
    found.extend(paths.iter().filter(|p| !p.is_dir()).cloned());
    found
        .into_iter()
        .map(|path| {
            let bytes = crate::files::read(&path).ok();
            (path, bytes)
        })
        .collect()
}

/// The campaign file a scenario file names, if it can be read that far.
fn named_campaign(scenario: &Path) -> Option<PathBuf> {
    #[derive(serde::Deserialize)]
    struct Names {
        campaign: String,
    }
    let text = crate::files::read_text(scenario).ok()?;
    let names: Names = serde_saphyr::from_str(&text).ok()?;
    Some(
        scenario
            .parent()
            .unwrap_or(Path::new("."))
            .join(names.campaign),
    )
}
