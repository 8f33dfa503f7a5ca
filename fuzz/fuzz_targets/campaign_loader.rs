//! Arbitrary UTF-8 to the campaign loader: `tombola_dsl::check_source` must
//! never panic, hang or take huge memory.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/campaign_loader.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        checks::run(text);
    }
});
