//! The guide (`docs/guide.md`) stays true: trycmd runs each of its commands in
//! `docs/guide.in/` and compares the output, and every file it shows is the
//! file the commands read.

use std::path::Path;

#[test]
fn every_command_of_the_guide_gives_the_output_it_shows() {
    trycmd::TestCases::new()
        .register_bin("tombola", Path::new(env!("CARGO_BIN_EXE_tombola")))
        // The guide's raffle runs in spring 2026: `check` reads it as of its
        // first day, or its window would have ended (T0506) on later days.
        .env("TOMBOLA_NOW", "2026-03-01T09:00:00Z")
        .case("../docs/guide.md");
}

#[test]
fn every_file_the_guide_shows_is_the_file_its_commands_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let guide = std::fs::read_to_string(root.join("guide.md")).unwrap();
    let mut shown = 0;
    for block in guide.split("```yaml\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let (first, body) = block.split_once('\n').unwrap();
        let name = first
            .strip_prefix("# ")
            .expect("a shown file starts with `# <name>`");
        let file = std::fs::read_to_string(root.join("guide.in").join(name)).unwrap();
        assert_eq!(
            body, file,
            "docs/guide.md shows {name} differently from docs/guide.in/{name}"
        );
        shown += 1;
    }
    assert_eq!(shown, 3);
}
