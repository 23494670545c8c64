//! Importing any gitleaks config text returns rules or an error naming the
//! origin; never a panic. Imported rules are compiled as well.
#![no_main]

use keysweep_core::{import_gitleaks, RuleSetBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match import_gitleaks("fuzz.gitleaks.toml", text) {
        Ok(import) => {
            let _ = RuleSetBuilder::new()
                .default_rules(false)
                .add_rules(import.rules)
                .global_allow(import.global_allow)
                .build();
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.gitleaks.toml"), "{e}"),
    }
});
