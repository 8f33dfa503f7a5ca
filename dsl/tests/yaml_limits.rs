//! YAML as authors write it — anchors and aliases work — and as attackers
//! write it: alias bombs, absurd nesting, huge values and huge files are
//! refused with a clear error, never a hang or a crash.

use tombola_dsl::{Code, check_source};

const HEAD: &str = "campaign: t\nname: T\nwindow: { from: 2026-01-01, zone: UTC }\n";

#[test]
fn anchors_and_aliases_work() {
    let source = format!(
        "{HEAD}delivery: {{ webhook: \"https://example.com/hook\", secret_env: HOOK_SECRET }}\n\
         x-item: &item {{ kind: item, cost: 1.50 }}\n\
         awards:\n  mug: *item\n  cap: *item\n  points: {{ kind: credits, amount: 5 }}\n\
         pool:\n  - {{ award: mug, rate: &half 50% }}\n  - {{ award: cap, rate: 25% }}\n  - {{ award: points, rate: 25% }}\n\
         before:\n  - when: user.draws.total > 3\n    draw: {{ mug: *half, cap: *half }}\n"
    );
    let report = check_source(&source);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let campaign = report.campaign.expect("compiles");
    let mug = campaign.awards.iter().find(|a| a.id == "mug").unwrap();
    let cap = campaign.awards.iter().find(|a| a.id == "cap").unwrap();
    assert_eq!(
        (mug.cost, cap.cost),
        (Some("1.50".parse().unwrap()), Some("1.50".parse().unwrap()))
    );
    assert_eq!(
        campaign.pool[0].rate,
        "0.5".parse().unwrap(),
        "an aliased scalar keeps its exact text"
    );
}

fn only_code(source: &str) -> (Code, String) {
    let report = check_source(source);
    assert!(report.campaign.is_none());
    assert_eq!(report.diagnostics.len(), 1, "{:#?}", report.diagnostics);
    (
        report.diagnostics[0].code,
        report.diagnostics[0].message.clone(),
    )
}

#[test]
fn an_alias_bomb_is_refused() {
    let mut source = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let prev = (b'a' + level - 1) as char;
        let this = (b'a' + level) as char;
        source.push_str(&format!("{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let (code, _) = only_code(&source);
    assert_eq!(code, Code::Limits);
}

#[test]
fn absurd_nesting_is_refused() {
    let source = format!(
        "{HEAD}description: {}x{}\n",
        "[".repeat(500),
        "]".repeat(500)
    );
    let (code, message) = only_code(&source);
    assert_eq!(code, Code::Limits, "{message}");
    let block: String = (0..200)
        .map(|depth| format!("{}k{depth}:\n", "  ".repeat(depth)))
        .collect();
    let (code, _) = only_code(&block);
    assert_eq!(code, Code::Limits);
}

#[test]
fn huge_values_and_files_are_refused() {
    let source = format!("{HEAD}description: \"{}\"\n", "x".repeat(100 * 1024));
    let (code, message) = only_code(&source);
    assert_eq!(code, Code::Limits);
    assert!(message.contains("bytes"), "{message}");
    // A million small nodes is said in the file's terms, not the parser's.
    let items: String = (0..1_000_001).map(|_| "0,").collect();
    let (code, message) = only_code(&format!("{HEAD}description: [{items}]\n"));
    assert_eq!(code, Code::Limits);
    assert!(message.contains("1000000 YAML nodes"), "{message}");
    let source = format!("{HEAD}# {}\n", "x".repeat(9 * 1024 * 1024));
    let (code, message) = only_code(&source);
    assert_eq!(code, Code::Limits);
    assert!(message.contains("at most"), "{message}");
}
