//! The analysis on a small campaign and on half-typed copies of it.

use super::*;

const SOURCE: &str = r#"campaign: fete
name: Fête d'été
window: { from: 2026-03-01, zone: Europe/Paris }
inputs:
  user: { vip: bool, level: int }
  events:
    payment: { amount: decimal }
awards:
  points: { kind: credits, amount: "random(1, 100)" }
  gpt4: { kind: item, title: GPT-4 }
  none: { kind: none }
pool:
  - { award: points, rate: 79% }
  - { award: gpt4, rate: 20%, stock: 100, tree: unlock }
  - { award: none, rate: 1% }
before:
  - id: vip
    when: user.vip and user.level > 2
    give: points
trees:
  unlock:
    - lock: { after: 3, locked: consolation }
    - stock: { exhausted: consolation }
    - consolation: { fallback: points }
delivery: { webhook: "https://example.com/hook", secret_env: HOOK_SECRET }
skus:
  draw_1: { draws: 1, stock: 1000 }
rebates:
  - on: payment
    when: event.amount >= 50
    give: [{ credits: "round(event.amount * 5%, 2)" }, { sku: draw_1 }]
"#;

/// The byte offset `within` bytes into the first `needle` of `source`.
fn at(source: &str, needle: &str, within: usize) -> usize {
    source.find(needle).expect("the needle is in the source") + within
}

fn labels(completions: &[Completion]) -> Vec<&str> {
    completions.iter().map(|c| c.label.as_str()).collect()
}

fn text(source: &str, span: Span) -> &str {
    &source[span.start..span.end]
}

#[test]
fn the_sample_checks_clean() {
    let errors: Vec<_> = diagnostics(SOURCE)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn completes_keys_the_map_does_not_hold_yet() {
    let source = SOURCE.replace(
        "  gpt4: { kind: item, title: GPT-4 }",
        "  gpt4: { kind: item, t",
    );
    let offset = at(&source, "kind: item, t", 13);
    let found = completion(&source, offset);
    assert_eq!(labels(&found), vec!["title"]);
    assert_eq!(found[0].insert, "title: ");
    assert_eq!(text(&source, found[0].span), "t");
    let doc = completion(SOURCE, at(SOURCE, "window: {", 9));
    assert_eq!(labels(&doc), vec!["to"]);
    assert!(
        doc[0]
            .documentation
            .as_deref()
            .unwrap()
            .contains("stays open")
    );
}

#[test]
fn completes_award_ids_in_a_broken_flow_map() {
    let source = SOURCE.replace("  - { award: none, rate: 1% }", "  - { award: ");
    let found = completion(&source, at(&source, "- { award: \n", 11));
    assert_eq!(labels(&found), vec!["points", "gpt4", "none"]);
    assert_eq!(found[0].kind, CompletionKind::Award);
    assert_eq!(found[1].detail.as_deref(), Some("item"));
    assert!(
        found[1]
            .documentation
            .as_deref()
            .unwrap()
            .contains("stock: `100`")
    );
}

#[test]
fn completes_node_routes_within_their_tree() {
    let source = SOURCE.replace("{ exhausted: consolation }", "{ exhausted: co");
    let found = completion(&source, at(&source, "exhausted: co", 13));
    assert_eq!(labels(&found), vec!["consolation"]);
}

#[test]
fn completes_words_a_key_allows() {
    let source = SOURCE.replace("gpt4: { kind: item", "gpt4: { kind: c");
    let found = completion(&source, at(&source, "kind: c,", 7));
    assert_eq!(labels(&found), vec!["credits", "coupon"]);
    assert_eq!(found[0].kind, CompletionKind::Value);
}

#[test]
fn completes_user_fields_draw_counts_and_functions() {
    let offset = at(SOURCE, "user.vip and", 6);
    let fields = completion(SOURCE, offset);
    assert_eq!(labels(&fields), vec!["vip"]);
    let source = SOURCE.replace("when: user.vip and user.level > 2", "when: user.");
    let all = completion(&source, at(&source, "when: user.", 11));
    assert_eq!(labels(&all), vec!["id", "credits", "draws", "vip", "level"]);
    assert_eq!(all[3].detail.as_deref(), Some("bool"));
    let source = SOURCE.replace("when: user.vip and user.level > 2", "when: user.draws.t");
    let counts = completion(&source, at(&source, "draws.t", 7));
    assert_eq!(labels(&counts), vec!["today", "total"]);
    let source = SOURCE.replace("when: user.vip and user.level > 2", "when: user.vip or ro");
    let functions = completion(&source, at(&source, "or ro", 5));
    assert_eq!(labels(&functions), vec!["round"]);
    assert_eq!(functions[0].detail.as_deref(), Some("round(x[, digits])"));
    assert_eq!(functions[0].insert, "round(");
    // Inside a call already written: the whole name is replaced, the `(` kept.
    let inside = completion(SOURCE, at(SOURCE, "random(1, 100)", 2));
    assert_eq!(labels(&inside), vec!["random"]);
    assert_eq!(text(SOURCE, inside[0].span), "random");
    assert_eq!(inside[0].insert, "random");
}

#[test]
fn completes_declared_fields_when_the_file_is_broken_elsewhere_too() {
    let source = SOURCE
        .replace("when: user.vip and user.level > 2", "when: user.")
        .replace(
            "  - { award: none, rate: 1% }",
            "  - { award: none, rate: 1%",
        );
    assert!(crate::yaml::parse(&source).is_err());
    let all = completion(&source, at(&source, "when: user.", 11));
    assert_eq!(labels(&all), vec!["id", "credits", "draws", "vip", "level"]);
}

#[test]
fn completes_event_fields_in_a_rebate_flow_only() {
    let source = SOURCE.replace("when: event.amount >= 50", "when: event.");
    let found = completion(&source, at(&source, "when: event.", 12));
    assert_eq!(labels(&found), vec!["amount"]);
    let roots = completion(&source, at(&source, "when: user.vip", 6));
    assert!(!labels(&roots).contains(&"event"));
}

#[test]
fn completes_in_an_unterminated_quoted_expression() {
    let source = SOURCE.replace("\"round(event.amount * 5%, 2)\" }]", "\"round(event.am");
    let found = completion(&source, at(&source, "round(event.am", 14));
    assert_eq!(labels(&found), vec!["amount"]);
    assert_eq!(found[0].detail.as_deref(), Some("decimal"));
}

#[test]
fn completes_top_level_keys_on_an_empty_line_of_a_broken_file() {
    let source = format!("{SOURCE}qu");
    let found = completion(&source, source.len());
    assert_eq!(labels(&found), vec!["quota"]);
}

#[test]
fn hovers_keys_functions_inputs_and_awards() {
    let key = hover(SOURCE, at(SOURCE, "zone:", 1)).unwrap();
    assert!(key.markdown.contains("IANA time zone"), "{}", key.markdown);
    let function = hover(SOURCE, at(SOURCE, "random(1, 100)", 2)).unwrap();
    assert_eq!(text(SOURCE, function.span), "random");
    assert!(function.markdown.contains("random(a, b)"));
    let field = hover(SOURCE, at(SOURCE, "user.level", 7)).unwrap();
    assert_eq!(text(SOURCE, field.span), "user.level");
    assert!(field.markdown.starts_with("`user.level`: int"));
    let event = hover(SOURCE, at(SOURCE, "event.amount >=", 8)).unwrap();
    assert!(event.markdown.starts_with("`event.amount`: decimal"));
    let award = hover(SOURCE, at(SOURCE, "award: gpt4", 8)).unwrap();
    assert_eq!(text(SOURCE, award.span), "gpt4");
    assert_eq!(
        award.markdown,
        "**award `gpt4`**\n\n- kind: `item`\n- title: `GPT-4`\n- in the pool: rate: `20%`, stock: `100`, tree: `unlock`"
    );
    let route = hover(SOURCE, at(SOURCE, "locked: consolation", 9)).unwrap();
    assert_eq!(
        route.markdown,
        "**node `consolation`**\n\n- in tree `unlock`\n- a fallback node"
    );
    let fallback = hover(SOURCE, at(SOURCE, "points: { kind", 1)).unwrap();
    assert!(fallback.markdown.contains("the fallback of: `unlock`"));
}

#[test]
fn hovers_a_key_in_a_file_that_does_not_parse() {
    let source = format!("{SOURCE}allowance: {{ per_day: 3,");
    let found = hover(&source, at(&source, "allowance", 2)).unwrap();
    assert_eq!(text(&source, found.span), "allowance");
    assert!(found.markdown.contains("Free draws"), "{}", found.markdown);
}

#[test]
fn goes_to_definitions_and_finds_references() {
    let definition_of =
        |needle, within| definition(SOURCE, at(SOURCE, needle, within)).map(|s| s.start);
    assert_eq!(
        definition_of("give: points", 7),
        Some(at(SOURCE, "points: {", 0))
    );
    assert_eq!(
        definition_of("locked: consolation", 9),
        Some(at(SOURCE, "consolation: {", 0))
    );
    assert_eq!(
        definition_of("user.level", 6),
        Some(at(SOURCE, "level: int", 0))
    );
    assert_eq!(
        definition_of("on: payment", 5),
        Some(at(SOURCE, "payment: {", 0))
    );
    let points: Vec<&str> = references(SOURCE, at(SOURCE, "points: {", 2))
        .into_iter()
        .map(|s| text(SOURCE, s))
        .collect();
    assert_eq!(points, vec!["points"; 4]);
    assert_eq!(
        references(SOURCE, at(SOURCE, "event.amount >=", 7)).len(),
        3
    );
}

#[test]
fn renames_across_the_file_and_refuses_bad_names() {
    let edits = rename(SOURCE, at(SOURCE, "tree: unlock", 7), "gate").unwrap();
    assert_eq!(edits.len(), 2);
    let mut renamed = SOURCE.to_string();
    let mut edits = edits;
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    for (span, new) in &edits {
        renamed.replace_range(span.start..span.end, new);
    }
    assert!(renamed.contains("tree: gate") && renamed.contains("  gate:\n"));
    assert!(crate::check_source(&renamed).campaign.is_some());
    let offset = at(SOURCE, "award: points", 8);
    assert_eq!(
        rename(SOURCE, offset, "gpt4"),
        Err("award `gpt4` already exists".into())
    );
    assert!(
        rename(SOURCE, offset, "Points!")
            .unwrap_err()
            .contains("not a valid award")
    );
    let field = at(SOURCE, "user.level", 7);
    assert!(rename(SOURCE, field, "the-level").is_err());
    assert_eq!(rename(SOURCE, field, "tier").unwrap().len(), 2);
    assert!(rename(SOURCE, at(SOURCE, "user.vip", 0), "x").is_err());
}

#[test]
fn outlines_the_file() {
    let found = symbols(SOURCE);
    let names: Vec<(SymbolKind, &str)> = found.iter().map(|s| (s.kind, s.name.as_str())).collect();
    assert_eq!(
        names,
        vec![
            (SymbolKind::Event, "payment"),
            (SymbolKind::Award, "points"),
            (SymbolKind::Award, "gpt4"),
            (SymbolKind::Award, "none"),
            (SymbolKind::Rule, "vip"),
            (SymbolKind::Tree, "unlock"),
            (SymbolKind::Sku, "draw_1"),
            (SymbolKind::Rebate, "payment-1"),
        ]
    );
    let tree = &found[5];
    let nodes: Vec<(&str, Option<&str>)> = tree
        .children
        .iter()
        .map(|n| (n.name.as_str(), n.detail.as_deref()))
        .collect();
    assert_eq!(
        nodes,
        vec![
            ("lock", Some("lock")),
            ("stock", Some("stock")),
            ("consolation", Some("fallback"))
        ]
    );
    assert_eq!(found[1].detail.as_deref(), Some("credits"));
    assert_eq!(found[6].detail.as_deref(), Some("1 draw"));
    assert_eq!(found[7].detail.as_deref(), Some("on payment"));
}

#[test]
fn completes_skus_and_events_and_follows_them() {
    let source = SOURCE.replace("{ sku: draw_1 }", "{ sku: d");
    let found = completion(&source, at(&source, "{ sku: d", 8));
    assert_eq!(labels(&found), vec!["draw_1"]);
    assert_eq!(found[0].kind, CompletionKind::Sku);
    let source = SOURCE.replace("  - on: payment", "  - on: p");
    let events = completion(&source, at(&source, "- on: p", 7));
    assert_eq!(labels(&events), vec!["payment"]);
    let sku = definition(SOURCE, at(SOURCE, "sku: draw_1", 6)).unwrap();
    assert_eq!(sku.start, at(SOURCE, "draw_1: {", 0));
    let hovered = hover(SOURCE, at(SOURCE, "sku: draw_1", 6)).unwrap();
    assert_eq!(
        hovered.markdown,
        "**SKU `draw_1`**\n\n- draws: `1`\n- stock: `1000`"
    );
}

#[test]
fn fixes_a_misspelt_reference_and_an_unrounded_credit_amount() {
    let source = SOURCE.replace("give: points", "give: pionts");
    let found = fixes(&source, Span::new(0, source.len()));
    assert_eq!(found.len(), 1);
    let fix = found[0].fix.as_ref().unwrap();
    assert_eq!(
        (text(&source, fix.span), fix.text.as_str()),
        ("pionts", "points")
    );
    let source = SOURCE.replace("round(event.amount * 5%, 2)", "event.amount / 3");
    let found = fixes(&source, Span::new(0, source.len()));
    let fix = found[0].fix.as_ref().unwrap();
    assert_eq!(found[0].code, crate::Code::CreditDigits);
    assert_eq!(text(&source, fix.span), "event.amount / 3");
    assert_eq!(fix.text, "round(event.amount / 3, 2)");
    let source = SOURCE.replace("title: GPT-4", "titel: GPT-4");
    let fix = fixes(&source, Span::new(0, source.len()))[0]
        .fix
        .clone()
        .unwrap();
    assert_eq!(
        (text(&source, fix.span), fix.text.as_str()),
        ("titel", "title")
    );
    let source = SOURCE.replace("user.level > 2", "user.levle > 2");
    let fix = fixes(&source, Span::new(0, source.len()))[0]
        .fix
        .clone()
        .unwrap();
    assert_eq!(
        (text(&source, fix.span), fix.text.as_str()),
        ("levle", "level")
    );
}

#[test]
fn scenario_keys_come_from_the_schema_given() {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "campaign": { "type": "string", "description": "The campaign file." },
            "scenarios": { "type": "array", "items": { "$ref": "#/$defs/Scenario" } }
        },
        "$defs": { "Scenario": { "type": "object", "properties": { "name": {}, "steps": {} } } }
    });
    let source = "campaign: a.yaml\nscenarios:\n  - name: x\n    st";
    let found = completion_in(source, source.len(), &schema);
    assert_eq!(labels(&found), vec!["steps"]);
    let top = completion_in("ca", 2, &schema);
    assert_eq!(top[0].documentation.as_deref(), Some("The campaign file."));
    let doc = hover_in(source, 3, &schema).unwrap();
    assert_eq!(doc.markdown, "**`campaign`**\n\nThe campaign file.");
}

/// Every function at every offset of the file, and completion and hover at
/// the end of every prefix of it (a file typed from the top): answers or
/// nothing, never a panic.
#[test]
fn no_offset_and_no_prefix_makes_a_function_fail() {
    let boundaries = || (0..=SOURCE.len()).filter(|at| SOURCE.is_char_boundary(*at));
    for offset in boundaries() {
        completion(SOURCE, offset);
        hover(SOURCE, offset);
        definition(SOURCE, offset);
        references(SOURCE, offset);
        let _ = rename(SOURCE, offset, "renamed");
    }
    for end in boundaries().step_by(5) {
        let prefix = &SOURCE[..end];
        completion(prefix, end);
        hover(prefix, end.saturating_sub(1));
        symbols(prefix);
    }
}
