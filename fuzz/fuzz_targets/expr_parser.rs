//! Arbitrary UTF-8 to the expression parser: print what parses, parse it again,
//! require the same shape, and type-check it (nothing is evaluated).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/expr_parser.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        checks::run(text);
    }
});
