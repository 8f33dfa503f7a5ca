//! One failing fixture per check code: each must report its code, and every
//! diagnostic it renders is snapshotted, so a moved span or a reworded help
//! shows up in review. The shipped campaigns must stay free of diagnostics.
//!
//! Update the snapshots with `INSTA_UPDATE=always cargo test -p tombola-dsl --test diagnostics`
//! and read every changed `.snap` before committing it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tombola_dsl::{Code, Report, Severity, check_bytes, check_source, render};

/// The fixture that shows all errors of a file come out of one run.
const MULTI_ERRORS: &str = "multi-errors.yaml";

/// The time the fixtures are checked at, so a window that has ended (`T0506`)
/// is the same finding on every day: the fixtures' windows open then.
fn fixture_now() -> DateTime<Utc> {
    "2026-03-01T00:00:00Z".parse().expect("an RFC 3339 time")
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `(file name, bytes)` of every `.yaml` file in `dir`, by name.
fn yaml_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .expect("fixture names are UTF-8")
                .to_string();
            // Bytes, not text: one fixture is not UTF-8 on purpose (T0008).
            let source = fs::read(&path)
                .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
            (name, source)
        })
        .collect();
    files.sort();
    files
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let files = yaml_files(&manifest_dir().join("tests/fixtures"));
    assert!(!files.is_empty(), "no fixtures found");
    files
}

/// The code a fixture is named after: `T0301-rates-sum-to-061.yaml` → `T0301`.
fn named_code(file: &str) -> Option<Code> {
    let prefix = file.split('-').next()?;
    Code::ALL
        .iter()
        .copied()
        .find(|code| code.as_str() == prefix)
}

/// Every diagnostic of the report, rendered as `tombola check` prints it.
fn rendered(file: &str, source: &str, report: &Report) -> String {
    let name = format!("fixtures/{file}");
    let lines = render::Lines::new(source);
    report
        .diagnostics
        .iter()
        .map(|diagnostic| render::human(&name, &lines, diagnostic, false))
        .collect::<Vec<_>>()
        .join("\n")
}

fn codes(report: &Report) -> Vec<&'static str> {
    report.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn each_fixture_reports_its_code_and_nothing_else() {
    for (file, bytes) in fixtures() {
        let (source, report) = check_bytes(&bytes, Some(fixture_now()));
        let stem = file.trim_end_matches(".yaml");
        if file == MULTI_ERRORS {
            assert!(report.has_errors(), "{file}: expected errors");
            assert!(report.campaign.is_none(), "{file}: compiled despite errors");
        } else {
            let code = named_code(&file).unwrap_or_else(|| {
                panic!("{file}: a fixture is named `<code>-<slug>.yaml` after a code in Code::ALL")
            });
            // Only the fixture's own code: a second one would be a cascade or a sloppy fixture.
            assert!(
                !report.diagnostics.is_empty() && report.diagnostics.iter().all(|d| d.code == code),
                "{file}: expected only {code}, got {:?}",
                codes(&report)
            );
            match code.severity() {
                Severity::Error => assert!(
                    report.campaign.is_none(),
                    "{file}: an error must stop compilation"
                ),
                Severity::Warning => assert!(
                    report.campaign.is_some(),
                    "{file}: a warning alone must not stop compilation"
                ),
            }
        }
        let text = rendered(&file, &source, &report);
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("tombola check fixtures/{file}"),
        }, {
            insta::assert_snapshot!(stem, text);
        });
    }
}

#[test]
fn every_code_has_a_fixture() {
    let covered: BTreeSet<Code> = fixtures()
        .iter()
        .filter_map(|(file, _)| named_code(file))
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| !covered.contains(code))
        .map(|code| code.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a fixture in dsl/tests/fixtures: {missing:?}"
    );
}

#[test]
fn one_run_reports_every_error_of_a_file() {
    let path: PathBuf = manifest_dir().join("tests/fixtures").join(MULTI_ERRORS);
    let source = fs::read_to_string(&path).expect("the multi-error fixture");
    let report = check_source(&source);
    let distinct: BTreeSet<Code> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    let categories: BTreeSet<&str> = distinct.iter().map(|code| code.category()).collect();
    assert!(
        distinct.len() >= 5,
        "expected at least 5 distinct error codes, got {distinct:?}"
    );
    assert!(
        categories.len() >= 5,
        "expected errors of at least 5 categories, got {categories:?}"
    );
}

#[test]
fn shipped_campaigns_have_no_diagnostics() {
    let campaigns: Vec<(String, Vec<u8>)> = yaml_files(&manifest_dir().join("../campaigns"))
        .into_iter()
        // Scenario files sit beside campaigns but have their own schema.
        .filter(|(file, _)| !file.ends_with(".test.yaml"))
        .collect();
    assert!(!campaigns.is_empty(), "no campaigns found");
    for (file, bytes) in campaigns {
        let source = String::from_utf8(bytes).expect("campaigns are UTF-8");
        let report = check_source(&source);
        assert!(
            report.diagnostics.is_empty(),
            "campaigns/{file}:\n{}",
            rendered(&file, &source, &report)
        );
        assert!(
            report.campaign.is_some(),
            "campaigns/{file} did not compile"
        );
    }
}

/// Rounded credits are what T0609 asks for, and pass: the fix in its help works.
#[test]
fn rounded_credits_pass() {
    let path = manifest_dir().join("tests/fixtures/T0609-credits-not-rounded.yaml");
    let source = fs::read_to_string(&path).expect("the T0609 fixture");
    let fixed = source
        .replace("\"user.spend / 3\"", "\"round(user.spend / 3, 2)\"")
        .replace("\"user.spend * 1.5%\"", "\"round(user.spend * 1.5%, 2)\"")
        .replace("\"event.amount * 5%\"", "\"round(event.amount * 5%, 2)\"");
    assert_ne!(fixed, source, "the fixture holds both expressions");
    let report = check_source(&fixed);
    assert_eq!(codes(&report), Vec::<&str>::new());
    assert!(report.campaign.is_some());
}

/// A second document is reported in plain words at its `---`, not in the
/// YAML library's own terms (`budget breached: Documents { documents: 2 }`).
#[test]
fn a_second_document_is_reported_at_its_start() {
    let source = "campaign: a\n---\ncampaign: b\n";
    let report = check_source(source);
    assert_eq!(codes(&report), ["T0009"]);
    let diagnostic = &report.diagnostics[0];
    assert_eq!(&source[diagnostic.span.start..diagnostic.span.end], "---");
    assert!(!diagnostic.message.contains('{'), "{}", diagnostic.message);
    let source = "campaign: a\n...\n# the next one\ncampaign: b\n";
    let span = check_source(source).diagnostics[0].span;
    assert_eq!(&source[span.start..span.end], "campaign: b");
}

/// A file without `name`, `campaign` or `window` (T0005) still has its other
/// mistakes reported: the T0301 fixture's rates sum to 0.61 either way.
#[test]
fn a_missing_header_key_hides_no_other_error() {
    let path = manifest_dir().join("tests/fixtures/T0301-rates-sum-to-061.yaml");
    let source = fs::read_to_string(&path).expect("the T0301 fixture");
    for key in ["campaign:", "name:", "window:"] {
        let without: String = source
            .lines()
            .filter(|line| !line.starts_with(key))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_ne!(without, source, "the fixture has a `{key}` line");
        let report = check_source(&without);
        assert_eq!(
            codes(&report),
            ["T0005", "T0301"],
            "without `{key}`:\n{}",
            rendered("T0301-rates-sum-to-061.yaml", &without, &report)
        );
        assert!(report.campaign.is_none(), "without `{key}`: compiled");
    }
}
