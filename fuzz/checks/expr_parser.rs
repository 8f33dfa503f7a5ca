// The checks of the `expr_parser` fuzz target, shared with the corpus replay in
// `grammar/tests/fuzz_corpus.rs` so both hold every input to the same rules.

use tombola_grammar::{MAX_LEN, Scope, Type, check, parse};

/// Runs one input: it must parse or be refused without panicking; what parses
/// must print to text that parses back to the same shape; checking it against
/// a draw scope and a rebate scope must not panic. Nothing is evaluated.
pub(crate) fn run(text: &str) {
    let Ok(expr) = parse(text) else {
        return;
    };
    let _ = check(&expr, &draw_scope(), chrono_tz::Europe::Paris);
    let _ = check(&expr, &rebate_scope(), chrono_tz::UTC);
    let printed = expr.to_string();
    // The printer spaces operators and escapes quotes, so an input near the length
    // limit can print past it; the limit applies to what authors write, and such a
    // printed form is refused for its length, not its shape.
    if printed.len() > MAX_LEN {
        assert!(parse(&printed).is_err_and(|e| e.message.contains("limit")));
        return;
    }
    let reparsed = match parse(&printed) {
        Ok(reparsed) => reparsed,
        Err(error) => panic!(
            "the printed form does not parse\n  input:   {text:?}\n  printed: {printed:?}\n  error:   {error} at {:?}",
            error.span
        ),
    };
    assert!(
        expr.same_shape(&reparsed),
        "printing changed the shape\n  input:   {text:?}\n  printed: {printed:?}\n  before:  {expr:?}\n  after:   {reparsed:?}"
    );
}

fn user_attributes() -> Vec<(String, Type)> {
    vec![
        ("vip".into(), Type::Bool),
        ("tags".into(), Type::List(Box::new(Type::String))),
        ("level".into(), Type::Int),
        ("spent".into(), Type::Decimal),
        ("joined".into(), Type::Date),
        ("seen".into(), Type::DateTime),
        ("tenure".into(), Type::Duration),
        ("country".into(), Type::String),
    ]
}

fn draw_scope() -> Scope {
    Scope::draw(user_attributes())
}

fn rebate_scope() -> Scope {
    Scope::rebate(
        user_attributes(),
        "payment".into(),
        vec![
            ("amount".into(), Type::Decimal),
            ("items".into(), Type::List(Box::new(Type::Int))),
            ("at".into(), Type::DateTime),
        ],
    )
}
