//! Shared fixtures of the library integration tests: a fixed rule set (so the
//! tests do not move when `patterns/*.toml` is edited) and fake secrets.
//!
//! Every secret here is fake: AWS ids are `AKIA` plus 16 random base32
//! characters, GitHub tokens come from `scripts/gen-token.py` (random body,
//! valid checksum).
#![allow(dead_code)]

use keysweep_core::{FingerprintKey, RuleSetBuilder, Scanner};

/// Copies of the AWS and GitHub default rules, pinned for these tests.
pub const RULES: &str = r#"
[[rules]]
id = "ks.aws.1"
name = "AWS access key ID"
kind = "aws-access-key-id"
severity = "high"
keywords = ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"]
regex = '''\b(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b'''
min_entropy = 3.0
examples = ["AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2"]
negative_examples = ["AKIAIOSFODNN7EXAMPLE"]

[[rules]]
id = "ks.aws.2"
name = "AWS secret access key"
kind = "aws-secret-access-key"
severity = "critical"
keywords = ["aws"]
regex = '''(?i)aws[\w.\-]{0,32}?(?:secret|private)[\w.\-]{0,20}['"]?\s*(?:[:=]|=>|:=)\s*['"]?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)'''
min_entropy = 4.0
examples = ["aws_secret_access_key = q8Hn3Vw0ZpL7xR2mKc9Tb4Ye1Ud6Js5Fg0Ai8Wo3"]
negative_examples = ["aws_secret_access_key = short"]

[[rules]]
id = "ks.github.1"
name = "GitHub personal access token (classic)"
kind = "github-pat"
severity = "critical"
keywords = ["ghp_"]
regex = '''\b(?P<secret>ghp_[A-Za-z0-9]{36})\b'''
checksum = "github-crc32"
examples = ["GITHUB_TOKEN=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"]
negative_examples = ["ghp_short"]

[[rules]]
id = "ks.github.2"
name = "GitHub OAuth access token"
kind = "github-oauth"
severity = "critical"
keywords = ["gho_"]
regex = '''\b(?P<secret>gho_[A-Za-z0-9]{36})\b'''
checksum = "github-crc32"
examples = ["token: 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"]
negative_examples = ["gho_short"]
"#;

pub const AWS_ID_1: &str = "AKIAWJ5E46BMKA3W455W";
pub const AWS_ID_2: &str = "AKIA5JXWVKXSMCOU7RC4";
pub const AWS_ID_3: &str = "AKIA5POY6BIJYJWZZBE4";
pub const AWS_SECRET: &str = "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";
pub const GH_PAT_1: &str = "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";
pub const GH_PAT_2: &str = "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";
pub const GH_OAUTH: &str = "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";
/// `GH_PAT_1` with its last checksum character changed: no longer valid.
pub const GH_PAT_BAD_CHECKSUM: &str = "ghp_GV1mjuhPU1X9mFwddWKL7O6yq6HJZF0jVJI2";

/// A scanner over [`RULES`] with the built-in public fingerprint key.
pub fn scanner() -> Scanner {
    let rules = RuleSetBuilder::new()
        .default_rules(false)
        .add_toml("tests/common/mod.rs", RULES)
        .expect("test rules parse")
        .build()
        .expect("test rules compile");
    Scanner::new(rules).with_fingerprint_key(FingerprintKey::default())
}
