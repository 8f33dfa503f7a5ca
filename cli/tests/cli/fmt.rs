//! `tombola fmt` against the binary: in place, `--check` with a diff and exit
//! 1, a file that is not YAML refused and left as it is, and the formatted
//! file still checks and tests as before.

use std::path::Path;

use super::{root, scratch, stderr, stdout, tombola};

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn check_shows_a_diff_and_fmt_writes_the_layout_that_check_then_accepts() {
    let dir = scratch("fmt-diff");
    let file = dir.join("messy.yaml");
    let messy = std::fs::read_to_string(root().join("dsl/tests/format/layout.in.yaml")).unwrap();
    std::fs::write(&file, &messy).unwrap();

    let checked = tombola(&["fmt", "--check", arg(&file)]);
    assert_eq!(checked.status.code(), Some(1), "{}", stderr(&checked));
    let diff = stdout(&checked);
    assert!(diff.contains(&format!("--- {}", file.display())), "{diff}");
    assert!(diff.contains("\n-campaign:   'golden'\n"), "{diff}");
    assert!(diff.contains("\n+campaign: golden\n"), "{diff}");
    assert!(
        diff.contains("1 file would be reformatted, 0 files already formatted"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        messy,
        "--check writes nothing"
    );

    let written = tombola(&["fmt", arg(&dir)]);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    assert!(
        stdout(&written).contains("1 file reformatted"),
        "{}",
        stdout(&written)
    );
    let expected =
        std::fs::read_to_string(root().join("dsl/tests/format/layout.out.yaml")).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), expected);
    let again = tombola(&["fmt", "--check", arg(&dir)]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_file_that_is_not_yaml_is_left_as_it_is_and_the_others_are_formatted() {
    let dir = scratch("fmt-broken");
    let broken = dir.join("broken.yaml");
    let text = "campaign: x\nawards:\n  points: { kind: credits\n";
    std::fs::write(&broken, text).unwrap();
    let fine = dir.join("fine.yaml");
    std::fs::write(&fine, "campaign:   fine\n").unwrap();
    let output = tombola(&["fmt", arg(&dir)]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(errors.contains("broken.yaml:3:"), "{errors}");
    assert!(
        errors.contains("is not valid YAML; it was left as it is"),
        "{errors}"
    );
    assert!(
        stdout(&output).contains(
            "1 file reformatted, 0 files already formatted, 1 file could not be formatted"
        ),
        "{}",
        stdout(&output)
    );
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), text);
    assert_eq!(std::fs::read_to_string(&fine).unwrap(), "campaign: fine\n");
}

#[test]
fn formatted_shipped_scenarios_still_pass() {
    // The shipped files are formatted (a dsl test holds them to it); their
    // scenarios pass as formatted, so the layout kept what they say.
    let output = tombola(&["fmt", "--check", "campaigns/", "templates/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let tested = tombola(&["test", "campaigns/", "templates/", "--min-coverage", "100"]);
    assert_eq!(tested.status.code(), Some(0), "{}", stdout(&tested));
}

#[cfg(unix)]
#[test]
fn links_are_written_through_linked_folders_not_followed_and_leftovers_removed() {
    let dir = scratch("fmt-links");
    let real = dir.join("real");
    std::fs::create_dir_all(&real).unwrap();
    let target = real.join("t.yaml");
    std::fs::write(&target, "campaign:   linked\n").unwrap();
    let link = dir.join("link.yaml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // A folder linking back up: followed, it would loop.
    std::os::unix::fs::symlink("..", real.join("loop")).unwrap();
    // What a `kill -9` left beside the file: its process is gone.
    let left = real.join(".t.yaml.tombola-fmt-4000000000");
    std::fs::write(&left, "half").unwrap();

    let output = tombola(&["fmt", arg(&link)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "still a link"
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "campaign: linked\n"
    );
    assert!(!left.exists(), "the leftover is removed");

    let walked = tombola(&["fmt", "--check", arg(&real)]);
    assert_eq!(
        walked.status.code(),
        Some(0),
        "{}{}",
        stdout(&walked),
        stderr(&walked)
    );
    assert!(
        stdout(&walked).contains("0 files would be reformatted, 1 file already formatted"),
        "{}",
        stdout(&walked)
    );
}
