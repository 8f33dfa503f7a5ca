//! The tables of docs/language.md that mirror the code — check codes,
//! functions and built-in names — stay true. Regenerate with `TOMBOLA_UPDATE_DOCS=1 cargo test -p tombola-dsl --test docs`.

use std::path::Path;

use tombola_dsl::Code;

fn codes_table() -> String {
    let mut table = String::from("| code | severity | category | meaning |\n|---|---|---|---|\n");
    for code in Code::ALL {
        let severity = match code.severity() {
            tombola_dsl::Severity::Error => "error",
            tombola_dsl::Severity::Warning => "warning",
        };
        table.push_str(&format!(
            "| `{code}` | {severity} | {} | {} |\n",
            code.category(),
            code.summary()
        ));
    }
    table
}

fn functions_table() -> String {
    let mut table = String::from("| function | meaning |\n|---|---|\n");
    for (_, _, signature, meaning) in tombola_grammar::FUNCTIONS {
        table.push_str(&format!("| `{signature}` | {meaning} |\n"));
    }
    table
}

/// The names expressions read: the built-in ones from the code, then the declared ones.
fn names_table() -> String {
    let mut table = String::from("| name | type | meaning |\n|---|---|---|\n");
    let builtins = tombola_grammar::USER_BUILTINS.iter().map(|b| ("user.", b));
    let counts = tombola_grammar::DRAW_COUNTS
        .iter()
        .map(|c| ("user.draws.", c));
    for (prefix, (name, ty, _, meaning)) in builtins.chain(counts) {
        table.push_str(&format!("| `{prefix}{name}` | {ty} | {meaning} |\n"));
    }
    table.push_str(
        "| `user.<attribute>` | declared | an attribute declared under `inputs.user` |\n",
    );
    table.push_str(
        "| `event.<attribute>` | declared | in rebate flows: an attribute of the flow's event |\n",
    );
    table
}

fn replace_section(text: &str, name: &str, body: &str) -> String {
    let start = format!("<!-- {name}:start -->\n");
    let end = format!("<!-- {name}:end -->");
    let from = text
        .find(&start)
        .unwrap_or_else(|| panic!("docs/language.md lost its {name} markers"))
        + start.len();
    let to = text.find(&end).unwrap();
    format!("{}{body}{}", &text[..from], &text[to..])
}

#[test]
fn language_reference_tables_are_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let fresh = replace_section(
        &replace_section(
            &replace_section(&text, "codes", &codes_table()),
            "functions",
            &functions_table(),
        ),
        "names",
        &names_table(),
    );
    if std::env::var_os("TOMBOLA_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    assert!(
        text == fresh,
        "docs/language.md is stale: run `TOMBOLA_UPDATE_DOCS=1 cargo test -p tombola-dsl --test docs` and commit it"
    );
}

#[test]
fn codes_are_unique_and_in_their_category_range() {
    let mut seen = std::collections::HashSet::new();
    for code in Code::ALL {
        assert!(seen.insert(code.as_str()), "{code} is used twice");
        let range = &code.as_str()[1..3];
        let expected = match code.category() {
            "syntax" => "00",
            "expression syntax" => "01",
            "references" => "02",
            "probabilities" => "03",
            "trees" => "04",
            "time and caps" => "05",
            "expressions" => "06",
            "delivery and inputs" => "07",
            other => panic!("{code}: unknown category {other}"),
        };
        assert_eq!(
            range,
            expected,
            "{code} is outside the range of {}",
            code.category()
        );
    }
}
