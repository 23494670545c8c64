//! Every embedded rule finds its examples and none of its negative examples,
//! through the full engine, and every example contains one of its keywords.

use keysweep_core::{RuleSet, Severity};

#[test]
fn every_default_rule_passes_its_examples() {
    let set = RuleSet::default_rules().expect("default rules compile");
    let mut problems = Vec::new();
    for check in set.check_examples() {
        for f in &check.failures {
            problems.push(format!("{} ({}): {f}", check.rule_id, check.origin));
        }
    }
    assert!(
        problems.is_empty(),
        "rule self-check failed:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_default_rule_is_documented() {
    let set = RuleSet::default_rules().unwrap();
    for r in set.rules() {
        assert!(
            r.id.starts_with("ks."),
            "{}: ids follow ks.<provider>.<n>",
            r.id
        );
        assert!(
            !r.name.is_empty() && !r.description.is_empty(),
            "{}: name and description",
            r.id
        );
        assert!(!r.kind.is_empty(), "{}: kind", r.id);
        assert!(
            !r.examples.is_empty() && !r.negative_examples.is_empty(),
            "{}",
            r.id
        );
        if r.severity >= Severity::High {
            assert!(
                !r.references.is_empty(),
                "{}: high-severity rules cite the format's documentation",
                r.id
            );
        }
    }
}

#[test]
fn default_rules_cover_at_least_forty_credentials() {
    assert!(RuleSet::default_rules().unwrap().len() >= 40);
}
