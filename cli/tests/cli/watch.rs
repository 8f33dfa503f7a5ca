//! `check --watch` and `test --watch`: a run at start, another after each
//! change to a file they read (a scenario's campaign included), each ending in
//! one status line, and watching goes on after a failed run.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use super::scratch;

/// A `--watch` command running, its stdout read line by line.
struct Watching {
    child: Child,
    lines: Receiver<String>,
}

impl Watching {
    fn start(dir: &Path, args: &[&str]) -> Watching {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tombola"))
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (send, lines) = channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Watching { child, lines }
    }

    /// The output up to and including the next status line. (The bound only
    /// tells a watcher that never noticed from one that did: it is no timing.)
    fn next_run(&self) -> String {
        let mut run = String::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no status line after:\n{run}"));
            run.push_str(&line);
            run.push('\n');
            if line.contains("for changes (Ctrl-C stops)") {
                return run;
            }
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn make(dir: &Path, template: &str) {
    let made = Command::new(env!("CARGO_BIN_EXE_tombola"))
        .args(["new", template])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(made.status.success());
}

#[test]
fn check_runs_again_on_each_change_and_goes_on_after_a_failure() {
    let dir = scratch("watch-check");
    make(&dir, "shop");
    let file = dir.join("shop.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    let watching = Watching::start(&dir, &["check", "--watch", "shop.yaml"]);
    let first = watching.next_run();
    assert!(
        first.contains("checked 1 file: 0 errors, 0 warnings"),
        "{first}"
    );
    assert!(
        first.contains("] passed; watching 1 file for changes"),
        "{first}"
    );
    assert!(
        !first.contains('\u{1b}'),
        "no screen clearing off a terminal: {first}"
    );

    std::fs::write(&file, original.replace("rate: 50%", "rate: 51%")).unwrap();
    let broken = watching.next_run();
    assert!(
        broken.contains("T0301") && broken.contains("checked 1 file: 1 error"),
        "{broken}"
    );
    assert!(broken.contains("] failed; watching"), "{broken}");

    std::fs::write(&file, &original).unwrap();
    let fixed = watching.next_run();
    assert!(
        fixed.contains("checked 1 file: 0 errors") && fixed.contains("] passed;"),
        "{fixed}"
    );
    drop(watching);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn test_runs_again_when_the_campaign_a_scenario_names_changes() {
    let dir = scratch("watch-test");
    make(&dir, "sign-in");
    // Only the scenario file is named: its campaign is watched as well.
    let watching = Watching::start(&dir, &["test", "--watch", "sign-in.test.yaml"]);
    let first = watching.next_run();
    assert!(first.contains("2 scenarios: 2 passed, 0 failed"), "{first}");
    assert!(
        first.contains("] passed; watching 2 files for changes"),
        "{first}"
    );

    let campaign = dir.join("sign-in.yaml");
    let text = std::fs::read_to_string(&campaign).unwrap();
    std::fs::write(&campaign, text.replace("{ credits: 5 }", "{ credits: 6 }")).unwrap();
    let changed = watching.next_run();
    assert!(
        changed.contains("expected `ann` to hold 5 credits, got 6"),
        "{changed}"
    );
    assert!(
        changed.contains("1 failed") && changed.contains("] failed;"),
        "{changed}"
    );
    drop(watching);
    let _ = std::fs::remove_dir_all(dir);
}
