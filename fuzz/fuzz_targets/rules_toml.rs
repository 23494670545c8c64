//! Rule files are untrusted input: parsing any UTF-8 text must return `Ok` or
//! an error naming the origin, never panic. Parsed rules are compiled too, so
//! regex and keyword validation run on fuzzed values.
#![no_main]

use keysweep_core::{parse_rules, RuleSetBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match parse_rules("fuzz.toml", text) {
        Ok(rules) => {
            // Compiling may fail (bad regex, size limits), but must not panic.
            let _ = RuleSetBuilder::new()
                .default_rules(false)
                .add_rules(rules)
                .build();
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.toml"), "{e}"),
    }
});
