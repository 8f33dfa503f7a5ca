//! The files the commands are given: folders expanded to the campaign or
//! scenario files under them, and a campaign file read and checked.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use tombola_dsl::{Report, render};
use tombola_ir::Campaign;

/// A campaign file as read: the name it is shown by, its text and what checking it found.
pub(crate) struct Loaded {
    pub(crate) name: String,
    pub(crate) source: String,
    pub(crate) report: Report,
}

/// Reads and checks one campaign file; its diagnostics are in the report, not
/// an error. A file that is not UTF-8 is a diagnostic of its own, so a
/// folder's other files are still checked.
pub(crate) fn load(path: &Path) -> Result<Loaded> {
    load_at(path, None)
}

/// [`load`] as of `now` when given, which adds the findings that depend on
/// the time (a window that has already ended).
pub(crate) fn load_at(path: &Path, now: Option<DateTime<Utc>>) -> Result<Loaded> {
    let name = path.display().to_string();
    let (source, report) = match read(path) {
        Ok(bytes) => tombola_dsl::check_bytes(&bytes, now),
        // Over the limit is a finding about the file, so a folder's others are still checked.
        Err(Unread::TooLarge(len)) => (String::new(), tombola_dsl::too_large(len)),
        Err(other) => return Err(other.into_error(&name)),
    };
    Ok(Loaded {
        name,
        source,
        report,
    })
}

/// Why [`read`] did not read a file.
#[derive(Debug)]
pub(crate) enum Unread {
    Io(std::io::Error),
    /// A device, a pipe or a folder: reading one could block or never end.
    NotAFile,
    /// Longer than [`tombola_dsl::MAX_FILE_BYTES`], by this many bytes in all.
    TooLarge(u64),
}

impl Unread {
    /// The error a command reports, naming the file (`name`) it could not read.
    pub(crate) fn into_error(self, name: &str) -> anyhow::Error {
        match self {
            Unread::Io(error) => anyhow::Error::new(error).context(format!("cannot read {name}")),
            Unread::NotAFile => anyhow::anyhow!("cannot read {name}: not a regular file"),
            Unread::TooLarge(len) => anyhow::anyhow!(
                "cannot read {name}: it is {len} bytes; tombola reads files of at most {} bytes (8 MiB)",
                tombola_dsl::MAX_FILE_BYTES
            ),
        }
    }
}

/// Every file a command reads is read here: a regular file of at most the
/// campaign files' limit. A path naming `/dev/zero`, a FIFO or a file that
/// grows while it is read fails at once rather than filling memory or
/// blocking forever.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Unread> {
    use std::io::Read;
    let limit = tombola_dsl::MAX_FILE_BYTES as u64;
    // The kind is asked of the path first: opening a FIFO would block.
    let kind = std::fs::metadata(path).map_err(Unread::Io)?;
    if !kind.is_file() {
        return Err(Unread::NotAFile);
    }
    if kind.len() > limit {
        return Err(Unread::TooLarge(kind.len()));
    }
    let file = std::fs::File::open(path).map_err(Unread::Io)?;
    let mut bytes = Vec::with_capacity(kind.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Unread::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// [`read`] as UTF-8 text, for the files that are not campaigns (which have
/// their own diagnostic for bytes that are not text).
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let name = path.display().to_string();
    let bytes = read(path).map_err(|why| why.into_error(&name))?;
    String::from_utf8(bytes).with_context(|| format!("{name} is not UTF-8 text"))
}

/// The compiled campaign of `path` and its text, or `None` once its
/// diagnostics are printed on stderr: commands that need the IR stop there
/// and exit 1, like `tombola check` would.
pub(crate) fn compiled(path: &Path) -> Result<Option<(String, Campaign)>> {
    let Loaded {
        name,
        source,
        report,
    } = load(path)?;
    if report.has_errors() || report.campaign.is_none() {
        print_human(&name, &source, &report, std::io::stderr().is_terminal());
        return Ok(None);
    }
    Ok(report.campaign.map(|campaign| (source, campaign)))
}

/// Prints a report's diagnostics on stderr, where they stay apart from a command's output.
fn print_human(name: &str, source: &str, report: &Report, color: bool) {
    let mut err = std::io::stderr().lock();
    let lines = render::Lines::new(source);
    for diagnostic in &report.diagnostics {
        let _ = write!(err, "{}", render::human(name, &lines, diagnostic, color));
    }
}

/// A YAML file the commands read besides campaigns (a scenario file, a
/// simulation profile), decoded into `T`, with its text. A file that does not
/// decode is an error at `file:line:col`, as `check` points into campaigns.
pub(crate) fn decoded<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(String, T)> {
    let name = path.display().to_string();
    let text = read_text(path)?;
    match decode(&text) {
        Ok(value) => Ok((text, value)),
        Err(Undecoded {
            message,
            location: Some(spot),
        }) => anyhow::bail!("{}: {message}", position(&name, &spot)),
        Err(Undecoded { message, .. }) => anyhow::bail!("{name}: {message}"),
    }
}

/// Why a YAML text did not decode, and where, when the decoder says.
#[derive(Debug)]
pub(crate) struct Undecoded {
    pub(crate) message: String,
    pub(crate) location: Option<serde_saphyr::Location>,
}

/// A YAML text decoded into `T` (what [`decoded`] does to a file's text, and
/// the language server to an open document's).
pub(crate) fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Undecoded> {
    serde_saphyr::from_str(text).map_err(|error| {
        let message = error.without_snippet().to_string();
        // serde-saphyr ends its message with "at line X column Y"; the position leads instead.
        let message = message.split(" at line ").next().unwrap_or(&message).trim();
        Undecoded {
            message: message.to_string(),
            location: error.location(),
        }
    })
}

/// `file:line:col`, where the diagnostics of every command point.
pub(crate) fn position(name: &str, spot: &serde_saphyr::Location) -> String {
    format!("{name}:{}:{}", spot.line(), spot.column())
}

/// The text of 1-based line `line`, or nothing past the end.
pub(crate) fn line_of(text: &str, line: u64) -> &str {
    let ix = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
    text.lines().nth(ix).unwrap_or("").trim()
}

/// A scenario file: `*.test.yaml` or `*.test.yml`.
pub(crate) fn is_scenario(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".test.yaml") || name.ends_with(".test.yml")
}

/// `1 file`, `3 files`: a count of files as the commands print it.
pub(crate) fn counted(n: usize) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}

/// A YAML file: a campaign or a scenario file.
pub(crate) fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// A simulation profile: `*.profile.yaml` or `*.profile.yml`.
pub(crate) fn is_profile(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".profile.yaml") || name.ends_with(".profile.yml")
}

/// A campaign file: YAML that is neither a scenario file nor a simulation
/// profile, which sit beside the campaigns they test.
pub(crate) fn is_campaign(path: &Path) -> bool {
    is_yaml(path) && !is_scenario(path) && !is_profile(path)
}

/// The files named by `paths`: files as given, whatever their name, and the
/// files under each folder that `keep` accepts, searched recursively and
/// sorted per folder.
pub(crate) fn collect(paths: &[PathBuf], keep: fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, keep, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, keep: fn(&Path) -> bool, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        // A linked folder is not followed: a link back up would loop, and
        // what it holds is found where it is.
        if entry.file_type()?.is_symlink() && path.is_dir() {
            continue;
        }
        if path.is_dir() {
            walk(&path, keep, found)?;
        } else if keep(&path) {
            found.push(path);
        }
    }
    Ok(())
}
