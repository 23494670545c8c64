//! Importing gitleaks configs through the command line (issue 3).

use crate::util::{Dir, TestCommand, AWS_ID};

const CONFIG: &str = r#"
title = "team rules"

[[rules]]
id = "acme-api-key"
description = "ACME API key"
regex = '''acme_ref\s*=\s*"([a-z0-9]{24})"'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_ref"]

[[rules.allowlists]]
regexTarget = "line"
regexes = ['''# test fixture''']

[[rules]]
id = "secret-file"
path = '''\.p12$'''

[allowlist]
paths = ['''^vendor/''']
commits = ["0123456789abcdef0123456789abcdef01234567"]
"#;

const ACME: &str = "q8w7e6r5t4y3u2i1o0p9a8s7";

fn files(dir: &Dir) {
    dir.create("app.cfg", format!("acme_ref = \"{ACME}\"\n"));
    dir.create(
        "fixture.cfg",
        format!("acme_ref = \"{ACME}\" # test fixture\n"),
    );
    dir.create("vendor/lib.cfg", format!("acme_ref = \"{ACME}\"\n"));
    dir.create("keys.env", format!("AWS_ACCESS_KEY_ID={AWS_ID}\n"));
}

fn rule_ids(out: &str) -> Vec<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(out).expect("JSON report");
    let mut v: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

kstest!(
    explicit_gitleaks_config_adds_rules_and_warns,
    |dir: Dir, mut cmd: TestCommand| {
        files(&dir);
        dir.create("team-gitleaks.toml", CONFIG);
        let out = cmd
            .args([
                "scan",
                "-f",
                "json",
                "--gitleaks-config",
                "team-gitleaks.toml",
                ".",
            ])
            .run(1);
        // The imported rule finds the key once: the fixture line and vendor/ are
        // allow-listed; the built-in rules still run (AWS id).
        assert_eq!(
            rule_ids(&out.stdout),
            [
                ("acme-api-key".to_string(), "app.cfg".to_string()),
                ("ks.aws.1".to_string(), "keys.env".to_string())
            ]
        );
        assert!(
            out.stderr.contains("using gitleaks config"),
            "{}",
            out.stderr
        );
        // Nothing silently dropped: the path-only rule and the commit allow-list are named.
        assert!(
            out.stderr.contains("secret-file") && out.stderr.contains("path-only"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("commits"), "{}", out.stderr);
        assert!(!out.stdout.contains(ACME), "secret must be redacted");
    }
);

kstest!(
    gitleaks_toml_at_the_root_is_picked_up_and_announced,
    |dir: Dir, mut cmd: TestCommand| {
        files(&dir);
        dir.create(".gitleaks.toml", CONFIG);
        let out = cmd.args(["scan", "-f", "json", "."]).run(1);
        assert!(rule_ids(&out.stdout)
            .iter()
            .any(|(id, _)| id == "acme-api-key"));
        assert!(out.stderr.contains(".gitleaks.toml"), "{}", out.stderr);
        // --no-gitleaks-config skips it.
        let out = dir
            .command()
            .args(["scan", "-f", "json", "--no-gitleaks-config", "."])
            .run(1);
        assert!(!rule_ids(&out.stdout)
            .iter()
            .any(|(id, _)| id == "acme-api-key"));
    }
);

kstest!(
    malformed_gitleaks_config_is_an_error_naming_the_rule,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("a.txt", "nothing\n");
        dir.create(
            "bad.toml",
            "[[rules]]\nid = \"broken\"\nregex = '(unclosed'\n",
        );
        let out = cmd
            .args(["scan", "--gitleaks-config", "bad.toml", "."])
            .run(2);
        assert!(
            out.stderr.contains("bad.toml:1")
                && out.stderr.contains("rule broken")
                && out.stderr.contains("regex"),
            "{}",
            out.stderr
        );
    }
);
