//! Checking rules against their own examples.

use crate::compile::RuleSet;
use crate::scan::Scanner;

/// One way a rule failed its self-check.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckFailure {
    /// An example was not found by its rule.
    ExampleMissed {
        /// Index of the example in the rule's `examples`.
        index: usize,
    },
    /// A negative example was found by its rule.
    NegativeMatched {
        /// Index of the example in the rule's `negative_examples`.
        index: usize,
    },
    /// An example contains none of the rule's keywords, so the prefilter
    /// would never run the rule's regex on it.
    ExampleLacksKeyword {
        /// Index of the example in the rule's `examples`.
        index: usize,
    },
}

impl std::fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckFailure::ExampleMissed { index } => {
                write!(f, "example #{} is not found", index + 1)
            }
            CheckFailure::NegativeMatched { index } => {
                write!(f, "negative example #{} is found", index + 1)
            }
            CheckFailure::ExampleLacksKeyword { index } => {
                write!(f, "example #{} contains none of the keywords", index + 1)
            }
        }
    }
}

/// The self-check result of one rule.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuleCheck {
    /// The rule id.
    pub rule_id: String,
    /// Where the rule is defined.
    pub origin: String,
    /// Examples checked (positive and negative).
    pub checked: usize,
    /// Failures; empty when the rule passes.
    pub failures: Vec<CheckFailure>,
}

impl RuleSet {
    /// Runs every rule's examples and negative examples through the full engine
    /// (prefilter, regex, filters) of this rule set.
    pub fn check_examples(&self) -> Vec<RuleCheck> {
        // Each rule on its own examples: decoding layers would report what an
        // encoded example decodes to under another rule instead.
        let scanner = Scanner::new(self.clone()).with_decode_depth(0);
        let mut scratch = scanner.scratch();
        self.rules()
            .map(|rule| {
                let mut failures = Vec::new();
                for (index, ex) in rule.examples.iter().enumerate() {
                    let lower = ex.to_ascii_lowercase();
                    if !rule
                        .keywords
                        .iter()
                        .any(|k| lower.contains(&k.to_ascii_lowercase()))
                    {
                        failures.push(CheckFailure::ExampleLacksKeyword { index });
                    }
                    let found = scanner.scan_slice(&mut scratch, ex.as_bytes(), None);
                    if !found.iter().any(|f| f.rule.id == rule.id) {
                        failures.push(CheckFailure::ExampleMissed { index });
                    }
                }
                for (index, ex) in rule.negative_examples.iter().enumerate() {
                    let found = scanner.scan_slice(&mut scratch, ex.as_bytes(), None);
                    if found.iter().any(|f| f.rule.id == rule.id) {
                        failures.push(CheckFailure::NegativeMatched { index });
                    }
                }
                RuleCheck {
                    rule_id: rule.id.clone(),
                    origin: rule.origin.clone(),
                    checked: rule.examples.len() + rule.negative_examples.len(),
                    failures,
                }
            })
            .collect()
    }
}
