//! `tombola new`: every template, written where the user says, passes
//! `fmt --check`, `check` and `test` with full coverage; bad names and
//! existing files are refused and leave nothing behind.

use std::path::Path;

use super::{scratch, stderr, stdout, tombola};

/// The template names `--list` prints, first word of each line.
fn listed() -> Vec<String> {
    let output = tombola(&["new", "--list"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn every_template_passes_check_and_test_under_the_name_given() {
    let names = listed();
    assert_eq!(names, ["wheel", "unlock", "shop", "sign-in"]);
    let dir = scratch("new-all");
    for name in &names {
        // A name of the user's, in a folder that does not exist yet.
        let file = dir.join(format!("spring/{name}-2027.yaml"));
        let made = tombola(&["new", name, file.to_str().unwrap()]);
        assert_eq!(made.status.code(), Some(0), "{name}: {}", stderr(&made));
        let scenarios = dir.join(format!("spring/{name}-2027.test.yaml"));
        assert!(
            stdout(&made).contains(&format!(
                "created {} and {}",
                file.display(),
                scenarios.display()
            )),
            "{}",
            stdout(&made)
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(&format!("\ncampaign: {name}-2027\n")),
            "{text}"
        );
        let formatted = tombola(&[
            "fmt",
            "--check",
            file.to_str().unwrap(),
            scenarios.to_str().unwrap(),
        ]);
        assert_eq!(
            formatted.status.code(),
            Some(0),
            "{name}: {}",
            stdout(&formatted)
        );
        let check = tombola(&["check", "--deny-warnings", file.to_str().unwrap()]);
        assert_eq!(check.status.code(), Some(0), "{name}: {}", stdout(&check));
        let test = tombola(&["test", scenarios.to_str().unwrap(), "--min-coverage", "100"]);
        assert_eq!(
            test.status.code(),
            Some(0),
            "{name}: {}{}",
            stdout(&test),
            stderr(&test)
        );
        assert!(stdout(&test).contains(", 0 failed"), "{}", stdout(&test));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_names_and_existing_files_are_refused_and_nothing_is_written() {
    let dir = scratch("new-refused");
    let at = |file: &str| dir.join(file).to_str().unwrap().to_string();
    let refused = |args: &[&str], wanted: &str| {
        let output = tombola(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(wanted),
            "{args:?}: {}",
            stderr(&output)
        );
    };
    refused(
        &["new", "whel"],
        "there is no template `whel` (did you mean `wheel`?); the templates are wheel, unlock, shop, sign-in",
    );
    refused(
        &["new", "wheel", &at("Black Friday.yaml")],
        "the file's name is the campaign's id, and `Black Friday` is not one",
    );
    refused(
        &["new", "wheel", &at("wheel.json")],
        "a campaign file ends in .yaml or .yml",
    );
    refused(
        &["new", "wheel", &at("wheel.test.yaml")],
        "are scenario files",
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );

    // A scenario file in the way: neither file is written, the one there is kept.
    std::fs::write(dir.join("wheel.test.yaml"), "mine").unwrap();
    refused(
        &["new", "wheel", &at("wheel.yaml")],
        "wheel.test.yaml exists already",
    );
    assert!(!Path::new(&at("wheel.yaml")).exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("wheel.test.yaml")).unwrap(),
        "mine"
    );

    let made = tombola(&["new", "shop", &at("shop.yaml")]);
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    std::fs::write(dir.join("shop.yaml"), "edited").unwrap();
    refused(
        &["new", "shop", &at("shop.yaml")],
        "shop.yaml exists already",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("shop.yaml")).unwrap(),
        "edited"
    );
    let _ = std::fs::remove_dir_all(dir);
}
