//! `tombola_dsl::format`: golden files (`tests/format/*.in.yaml` formats to
//! the `.out.yaml` beside it), formatting twice changes nothing, a file that
//! is not YAML is refused, and every shipped file is formatted already.

use std::path::Path;

use tombola_dsl::format::{FormatError, format};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn each_golden_input_formats_to_its_expected_output_and_stays_there() {
    let dir = root().join("dsl/tests/format");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".in.yaml") else {
            continue;
        };
        let input = std::fs::read_to_string(&path).unwrap();
        let expected = std::fs::read_to_string(dir.join(format!("{stem}.out.yaml"))).unwrap();
        let formatted = format(&input).unwrap();
        assert_eq!(formatted, expected, "{name}");
        assert_eq!(
            format(&expected).unwrap(),
            expected,
            "{stem}.out.yaml is not stable"
        );
        seen += 1;
    }
    assert!(seen >= 2, "golden files found: {seen}");
}

#[test]
fn a_file_that_is_not_yaml_is_refused_with_where() {
    let Err(FormatError::Syntax(diagnostic)) = format("awards:\n  points: { kind: credits\n")
    else {
        panic!("an unclosed flow map formats");
    };
    assert!(diagnostic.span.start > 0, "{diagnostic:?}");
}

#[test]
fn every_shipped_campaign_template_and_scenario_is_formatted() {
    let mut checked = 0;
    for folder in ["campaigns", "templates", "docs/guide.in"] {
        for entry in std::fs::read_dir(root().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert_eq!(
                    format(&text).unwrap(),
                    text,
                    "{} is not formatted: run `tombola fmt {folder}`",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 18, "{checked}");
}

#[test]
fn formatting_twice_changes_nothing_even_where_one_round_cannot_read_in_place() {
    for source in [
        // Escaped quotes: the expression's text does not map 1:1 onto the file.
        "rebates:\n  - on: tag\n    when: \"not (event.tag == \\\"a\\\")\"\n",
        "rebates:\n  - on: tag\n    when: \"event.tag in [\\\"a\\\",\\\"b\\\"]\"\n",
        // What YAML 1.1 reads as numbers or a merge stays quoted.
        "times: { a: \"12:30\", b: \"1:20:30\" }\n\"<<\": v\n",
    ] {
        let once = format(source).unwrap();
        assert_eq!(format(&once).unwrap(), once, "{source}");
    }
    let quoted = format("times: { a: \"12:30\" }\n\"<<\": v\n").unwrap();
    assert_eq!(quoted, "times: { a: \"12:30\" }\n\"<<\": v\n");
    // pretty_yaml trims trailing spaces, a block scalar's too, which would
    // change its text: such a file is refused, not changed.
    let Err(FormatError::Layout(why)) = format("text: |\n  trailing  \n  kept\n") else {
        panic!("a block scalar lost its trailing spaces");
    };
    assert!(why.contains("block scalar"), "{why}");
}
