//! `keysweep rules list|check`, and how rule-file errors are reported.

use crate::util::*;
use serde_json::Value;

/// `MY_RULES` with `from` replaced by `to` (which must occur exactly once).
fn my_rules_with(from: &str, to: &str) -> String {
    assert_eq!(MY_RULES.matches(from).count(), 1, "{from}");
    MY_RULES.replace(from, to)
}

fn list_json(cmd: &mut TestCommand, extra: &[&str]) -> Vec<Value> {
    cmd.args(["rules", "list", "--format", "json"])
        .args(extra)
        .run(0)
        .json()
        .as_array()
        .expect("rules list --format json prints an array")
        .clone()
}

kstest!(
    list_shows_the_default_rules,
    |dir: Dir, mut cmd: TestCommand| {
        let out = cmd.args(["rules", "list"]).run(0);
        let lines: Vec<&str> = out.stdout.lines().collect();
        let aws = lines
            .iter()
            .find(|l| l.starts_with("ks.aws.1 "))
            .unwrap_or_else(|| panic!("no ks.aws.1 in\n{}", out.stdout));
        assert!(
            aws.contains(" high ") && aws.contains("aws-access-key-id"),
            "{aws}"
        );
        assert!(aws.ends_with("[AKIA, ASIA, ABIA, ACCA, A3T]"), "{aws}");
        let n = list_json(&mut dir.command(), &[]).len();
        assert_eq!(lines.last().copied(), Some(format!("{n} rules").as_str()));
        assert_eq!(lines.len(), n + 1);
    }
);

kstest!(
    list_json_describes_each_rule_once,
    |_dir: Dir, mut cmd: TestCommand| {
        let rules = list_json(&mut cmd, &[]);
        let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids");
        let aws = rules.iter().find(|r| r["id"] == "ks.aws.1").unwrap();
        assert_eq!(aws["kind"], "aws-access-key-id");
        assert_eq!(aws["severity"], "high");
        assert!(aws["keywords"]
            .as_array()
            .unwrap()
            .contains(&Value::from("AKIA")));
        assert!(aws["origin"]
            .as_str()
            .unwrap()
            .starts_with("patterns/aws.toml:"));
        let gh = rules.iter().find(|r| r["id"] == "ks.github.1").unwrap();
        assert_eq!(gh["checksum"], "github-crc32");
    }
);

kstest!(
    list_with_custom_rules_only,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("my.toml", MY_RULES);
        let rules = list_json(&mut cmd, &["--no-default-rules", "--rules", "my.toml"]);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["id"], "ks.my.1");
        assert_eq!(rules[0]["origin"], "my.toml:2");
        assert_eq!(rules[0]["severity"], "medium");
        assert_eq!(rules[0]["checksum"], Value::Null);
    }
);

kstest!(
    rules_directory_loads_every_toml_file,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("rules/a.toml", MY_RULES);
        dir.create(
            "rules/b.toml",
            MY_RULES
                .replace("ks.my.1", "ks.my.2")
                .replace("myco_", "myco2_"),
        );
        dir.create("rules/notes.txt", "not rules");
        let ids: Vec<Value> = list_json(&mut cmd, &["--no-default-rules", "--rules", "rules"])
            .iter()
            .map(|r| r["id"].clone())
            .collect();
        assert_eq!(ids, [Value::from("ks.my.1"), Value::from("ks.my.2")]);
    }
);

kstest!(
    check_passes_on_the_defaults,
    |dir: Dir, mut cmd: TestCommand| {
        let out = cmd.args(["rules", "check"]).run(0);
        let n = list_json(&mut dir.command(), &[]).len();
        let last = out.stdout.lines().last().unwrap();
        assert!(
            last.starts_with(&format!("{n} rules, "))
                && last.ends_with(&format!(": {n} passed, 0 failed")),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    }
);

kstest!(
    check_passes_on_a_good_file,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("my.toml", MY_RULES);
        let out = cmd.args(["rules", "check", "my.toml"]).run(0);
        assert_eq!(
            out.stdout,
            "1 rules, 2 examples checked: 1 passed, 0 failed\n"
        );
    }
);

kstest!(
    check_fails_when_examples_disagree,
    |dir: Dir, mut cmd: TestCommand| {
        // Rule 1: its example is too short, its negative example is a real match.
        let missed = my_rules_with(
            r#"examples = ["token = myco_q8w7e6r5t4y3u2i1o0p9l8k7"]"#,
            r#"examples = ["token = myco_tooshort"]"#,
        )
        .replace(
            r#"negative_examples = ["myco_short"]"#,
            r#"negative_examples = ["myco_q8w7e6r5t4y3u2i1o0p9l8k7"]"#,
        );
        dir.create("bad.toml", &missed);
        let out = cmd.args(["rules", "check", "bad.toml"]).run(1);
        assert_eq!(
            out.stdout,
            "FAIL ks.my.1 (bad.toml:2): example #1 is not found\n\
         FAIL ks.my.1 (bad.toml:2): negative example #1 is found\n\
         1 rules, 2 examples checked: 0 passed, 1 failed\n"
        );
        // An example without any of the rule's keywords never reaches its regex.
        dir.create(
            "nokw.toml",
            my_rules_with(r#"keywords = ["myco_"]"#, r#"keywords = ["zzz_"]"#),
        );
        let out = dir.command().args(["rules", "check", "nokw.toml"]).run(1);
        assert!(
            out.stdout
                .contains("FAIL ks.my.1 (nokw.toml:2): example #1 contains none of the keywords\n"),
            "{}",
            out.stdout
        );
        // The same through --rules (defaults included): still a failure.
        dir.command()
            .args(["rules", "check", "--rules", "bad.toml"])
            .run(1);
    }
);

/// Malformed rule files: (description, file text, expected start of the
/// message after `error: `).
fn malformed() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "invalid regex",
            my_rules_with(r"[a-z0-9]{24})\b", r"[a-z0-9]{24}\b"),
            "my.toml:8:9: rule ks.my.1, field regex: invalid regex: unclosed group",
        ),
        (
            "missing field",
            my_rules_with("kind = \"myco-token\"\n", ""),
            "my.toml:2:1: rule ks.my.1, field kind: missing field `kind`",
        ),
        (
            "wrong type",
            my_rules_with(r#"keywords = ["myco_"]"#, "keywords = 3"),
            "my.toml:7:12: rule ks.my.1, field keywords: ",
        ),
        (
            "unknown severity",
            my_rules_with(r#"severity = "medium""#, r#"severity = "meh""#),
            "my.toml:6:12: rule ks.my.1, field severity: unknown variant `meh`",
        ),
        (
            "no keywords",
            my_rules_with(r#"keywords = ["myco_"]"#, "keywords = []"),
            "my.toml:7:12: rule ks.my.1, field keywords: at least one keyword is required",
        ),
        (
            "unknown checksum",
            my_rules_with("\nexamples = [", "\nchecksum = \"luhn\"\nexamples = ["),
            "my.toml:9:12: rule ks.my.1, field checksum: unknown checksum \"luhn\"",
        ),
        (
            "unknown field",
            my_rules_with("kind =", "knd = \"x\"\nkind ="),
            "my.toml:5:1: rule ks.my.1, field knd: unknown field `knd`",
        ),
        (
            "TOML syntax error",
            "[[rules]\nid = 1\n".to_string(),
            "my.toml:1:",
        ),
    ]
}

kstest!(
    malformed_rules_name_file_line_rule_and_field,
    |dir: Dir, _cmd: TestCommand| {
        dir.create("src/a.txt", "hello\n");
        for (what, text, want) in malformed() {
            dir.create("my.toml", &text);
            for args in [
                &["scan", "--rules", "my.toml", "src"][..],
                &["rules", "list", "--rules", "my.toml"],
                &["rules", "check", "my.toml"],
            ] {
                let out = dir.command().args(args).run(2);
                assert!(
                    out.stderr.starts_with(&format!("error: {want}")),
                    "{what}, {args:?}: stderr is\n{}",
                    out.stderr
                );
                assert_eq!(out.stdout, "", "{what}, {args:?}");
            }
        }
    }
);

kstest!(
    rule_errors_are_printed_once,
    |dir: Dir, mut cmd: TestCommand| {
        let (_, text, want) = malformed().remove(0);
        dir.create("my.toml", text);
        let out = cmd.args(["rules", "list", "--rules", "my.toml"]).run(2);
        assert_eq!(out.stderr, format!("error: {want}\n"));
    }
);

kstest!(
    io_errors_are_printed_once,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("a.toml", MY_RULES);
        let out = cmd
            .args(["rules", "list", "--rules", "a.toml/x.toml"])
            .run(2);
        assert_eq!(
            out.stderr,
            "error: a.toml/x.toml: Not a directory (os error 20)\n"
        );
    }
);

kstest!(
    compile_errors_name_a_file_with_a_colon,
    |dir: Dir, mut cmd: TestCommand| {
        // Parses, but its NFA exceeds the size limit: an error of the compile
        // stage, not of parsing.
        dir.create(
            "team:a.toml",
            my_rules_with(
                r"\b(?P<secret>myco_[a-z0-9]{24})\b",
                r"myco_(?:[a-z]{200}){2000}",
            ),
        );
        let out = cmd.args(["rules", "list", "--rules", "team:a.toml"]).run(2);
        assert!(
            out.stderr.starts_with(
                "error: team:a.toml:2: rule ks.my.1, field regex: regex does not compile"
            ),
            "{}",
            out.stderr
        );
    }
);

kstest!(
    duplicate_rule_ids_are_an_error,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("a.toml", MY_RULES);
        dir.create("b.toml", MY_RULES);
        let out = cmd
            .args(["rules", "list", "--rules", "a.toml", "--rules", "b.toml"])
            .run(2);
        assert!(
        out.stderr.starts_with(
            "error: b.toml:2: rule ks.my.1, field id: duplicate rule id (first defined at a.toml:2)"
        ),
        "{}",
        out.stderr
    );
    }
);

kstest!(
    missing_rule_file_is_an_error,
    |_dir: Dir, mut cmd: TestCommand| {
        let out = cmd.args(["scan", "--rules", "nope.toml", "."]).run(2);
        assert_eq!(out.stderr, "error: nope.toml: no such file or directory\n");
    }
);

kstest!(
    a_user_rule_replaces_the_default_with_its_id,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("my.toml", MY_RULES.replace("ks.my.1", "ks.aws.1"));
        dir.create(
            "src/app.env",
            format!("AWS_ACCESS_KEY_ID={AWS_ID}\nMYCO={MY_TOKEN}\n"),
        );
        let doc = cmd
            .args(["scan", "-f", "json", "--rules", "my.toml", "src"])
            .run(1)
            .json();
        let findings = doc["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{doc}");
        assert_eq!(findings[0]["rule_id"], "ks.aws.1");
        assert_eq!(findings[0]["kind"], "myco-token");
    }
);
