//! `keysweep scan`: exit codes, output formats, redaction, inputs and options.

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// A file with one AWS access key id on line 2, column 19.
fn plant_aws(dir: &Dir, rel: &str) {
    dir.create(rel, format!("# app\nAWS_ACCESS_KEY_ID={AWS_ID}\n"));
}

/// Files with five secrets of three rules (see `FIVE_EXPECTED`).
fn plant_five(dir: &Dir) {
    plant_aws(dir, "a.txt");
    dir.create(
        "b/c.txt",
        format!("hé = {GH_PAT}\nsecond {AWS_ID_2} and {GH_PAT_2}\n"),
    );
    dir.create("d.txt", format!("aws_secret_access_key = {AWS_SECRET}\n"));
}

/// (path, rule, line, column, secret) of the findings of `plant_five`.
const FIVE_EXPECTED: [(&str, &str, u64, u64, &str); 5] = [
    ("a.txt", "ks.aws.1", 2, 19, AWS_ID),
    ("b/c.txt", "ks.github.1", 1, 6, GH_PAT),
    ("b/c.txt", "ks.aws.1", 2, 8, AWS_ID_2),
    ("b/c.txt", "ks.github.1", 2, 33, GH_PAT_2),
    ("d.txt", "ks.aws.2", 1, 25, AWS_SECRET),
];

const ALL_SECRETS: [&str; 5] = [AWS_ID, AWS_ID_2, AWS_SECRET, GH_PAT, GH_PAT_2];

const FORMATS: [&str; 4] = ["human", "json", "jsonl", "sarif"];

/// Parses a JSON Lines report into one value per line.
fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

// ---------------------------------------------------------------- exit codes

kstest!(clean_tree_exits_0, |dir: Dir, mut cmd: TestCommand| {
    dir.create("readme.txt", "nothing to see here\n");
    dir.create("src/main.rs", "fn main() {}\n");
    let out = cmd.args(["scan", "."]).run(0);
    assert!(out.stdout.contains("no secrets found\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("scanned 2 files (0.0 MiB)"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
});

kstest!(
    findings_exit_1_with_human_report,
    |dir: Dir, mut cmd: TestCommand| {
        plant_aws(&dir, "config/app.env");
        let out = cmd.args(["scan", "."]).run(1);
        let fp = fingerprint("ks.aws.1", AWS_ID);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines[0], "config/app.env", "{}", out.stdout);
        assert!(lines[1].starts_with("  2:19  high "), "{}", lines[1]);
        assert!(
            lines[1].ends_with(&format!("  ks.aws.1  AKIA*****  fp:{}", &fp[..12])),
            "{}",
            lines[1]
        );
        assert_eq!(lines[2], "      AWS_ACCESS_KEY_ID=AKIA*****");
        assert_eq!(lines[3], "");
        assert_eq!(lines[4], "1 finding in 1 file: ks.aws.1 ×1");
        assert!(
            lines[5].starts_with("scanned 1 file (0.0 MiB) in "),
            "{}",
            lines[5]
        );
        assert_eq!(lines.len(), 6);
    }
);

kstest!(
    nonexistent_path_exits_2,
    |dir: Dir, mut cmd: TestCommand| {
        let out = cmd.args(["scan", "missing.txt"]).run(2);
        assert_eq!(
            out.stderr,
            "error: missing.txt: no such file or directory\n"
        );
        // An error outranks findings, which are still reported.
        plant_aws(&dir, "app.env");
        let out = dir
            .command()
            .args(["scan", "-f", "json", "missing.txt", "app.env"])
            .run(2);
        assert_eq!(out.json()["findings"].as_array().unwrap().len(), 1);
        assert_eq!(out.json()["summary"]["errors"], 1);
        assert!(out
            .stderr
            .contains("error: missing.txt: no such file or directory"));
    }
);

kstest!(bad_arguments_exit_2, |dir: Dir, mut cmd: TestCommand| {
    let out = cmd.args(["scan", "--format", "xml", "."]).run(2);
    assert!(out.stderr.contains("invalid value 'xml'"), "{}", out.stderr);
    let out = dir.command().args(["scan", "--no-such-flag"]).run(2);
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);
    let out = dir
        .command()
        .args(["scan", "--max-file-size", "12Q", "."])
        .run(2);
    assert!(out.stderr.contains("unknown size unit"), "{}", out.stderr);
    let out = dir.command().args(["frobnicate"]).run(2);
    assert!(out.stderr.contains("frobnicate"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    let out = dir.command().run(2);
    assert!(out.stderr.contains("Usage: keysweep"), "{}", out.stderr);
    // Help is not an error.
    let out = dir.command().args(["scan", "--help"]).run(0);
    assert!(
        out.stdout.contains("Usage: keysweep scan"),
        "{}",
        out.stdout
    );
});

// ------------------------------------------------------------------- formats

kstest!(json_report_is_complete, |dir: Dir, mut cmd: TestCommand| {
    plant_aws(&dir, "config/app.env");
    let doc = cmd.args(["scan", "--format", "json", "."]).run(1).json();
    assert_eq!(doc["tool"], "keysweep");
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f["rule_id"], "ks.aws.1");
    assert_eq!(f["kind"], "aws-access-key-id");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(
        (&f["line"], &f["column"]),
        (&Value::from(2), &Value::from(19))
    );
    assert_eq!(f["end_line"], 2);
    assert_eq!(f["end_column"], 39);
    let start = "# app\nAWS_ACCESS_KEY_ID=".len();
    assert_eq!(f["byte_start"], start);
    assert_eq!(f["byte_end"], start + AWS_ID.len());
    assert_eq!(f["fingerprint"], fingerprint("ks.aws.1", AWS_ID));
    assert_eq!(f["secret_redacted"], "AKIA*****");
    assert_eq!(f["snippet"], "AWS_ACCESS_KEY_ID=AKIA*****");
    assert!(f.get("secret").is_none(), "{f}");
    let summary = &doc["summary"];
    assert_eq!(summary["files"], 1);
    assert_eq!(summary["findings"], 1);
    assert_eq!(summary["bytes"], dir.read("config/app.env").len());
    assert_eq!(summary["errors"], 0);
});

kstest!(
    sarif_report_is_consistent,
    |dir: Dir, mut cmd: TestCommand| {
        plant_five(&dir);
        let log = cmd.args(["scan", "--format", "sarif", "."]).run(1).json();
        assert_eq!(log["version"], "2.1.0");
        assert!(str_of(&log["$schema"]).contains("sarif-2.1.0"));
        let run = &log["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        assert_eq!(run["tool"]["driver"]["name"], "keysweep");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let rule_ids: Vec<&str> = rules.iter().map(|r| str_of(&r["id"])).collect();
        let results = run["results"].as_array().unwrap();

        let mut got = BTreeSet::new();
        let mut used = BTreeSet::new();
        for r in results {
            let id = str_of(&r["ruleId"]);
            used.insert(id);
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rule_ids[index], id, "ruleIndex of {r}");
            assert_eq!(r["level"], "error");
            let loc = &r["locations"][0]["physicalLocation"];
            let uri = str_of(&loc["artifactLocation"]["uri"]);
            assert!(
                !uri.starts_with("./") && !uri.starts_with('/') && !uri.contains(':'),
                "relative uri expected, got {uri}"
            );
            let region = &loc["region"];
            let line = region["startLine"].as_u64().unwrap();
            let column = region["startColumn"].as_u64().unwrap();
            let end_column = region["endColumn"].as_u64().unwrap();
            assert_eq!(region["endLine"], line);
            // The region, read back from the file, is one of the planted secrets.
            let text = dir.read(uri);
            let line_text = text.lines().nth(line as usize - 1).unwrap();
            let secret: String = line_text
                .chars()
                .skip(column as usize - 1)
                .take((end_column - column) as usize)
                .collect();
            assert!(ALL_SECRETS.contains(&secret.as_str()), "{secret:?} at {r}");
            assert_eq!(
                r["partialFingerprints"]["keysweep/v1"],
                fingerprint(id, &secret)
            );
            assert!(str_of(&r["message"]["text"]).ends_with(&format!("{}*****", &secret[..4])));
            got.insert((uri.to_string(), id.to_string(), line, column, secret));
        }
        let want: BTreeSet<_> = FIVE_EXPECTED
            .iter()
            .map(|&(p, r, l, c, s)| (p.to_string(), r.to_string(), l, c, s.to_string()))
            .collect();
        assert_eq!(got, want);
        // The driver describes exactly the rules the results use, once each.
        assert_eq!(rule_ids.iter().copied().collect::<BTreeSet<_>>(), used);
        assert_eq!(rule_ids.len(), used.len());
    }
);

kstest!(
    sarif_uri_of_an_absolute_path_is_a_file_uri,
    |dir: Dir, mut cmd: TestCommand| {
        plant_aws(&dir, "my file.env");
        let log = cmd
            .args(["scan", "-f", "sarif"])
            .arg(dir.path())
            .run(1)
            .json();
        let uri = str_of(
            &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
                ["uri"],
        );
        let want = format!("file://{}/my%20file.env", dir.path().display());
        assert_eq!(uri, want);
    }
);

kstest!(
    jsonl_has_one_finding_per_line,
    |dir: Dir, mut cmd: TestCommand| {
        plant_five(&dir);
        let out = cmd.args(["scan", "--format", "jsonl", "."]).run(1);
        assert!(out.stdout.ends_with('\n'));
        let records = jsonl(&out.stdout);
        assert_eq!(records.len(), 5, "{}", out.stdout);
        let got: BTreeSet<_> = records
            .iter()
            .map(|r| {
                (
                    str_of(&r["path"]).to_string(),
                    str_of(&r["rule_id"]).to_string(),
                    r["line"].as_u64().unwrap(),
                    r["column"].as_u64().unwrap(),
                    str_of(&r["fingerprint"]).to_string(),
                )
            })
            .collect();
        let want: BTreeSet<_> = FIVE_EXPECTED
            .iter()
            .map(|&(p, r, l, c, s)| (p.to_string(), r.to_string(), l, c, fingerprint(r, s)))
            .collect();
        assert_eq!(got, want);
    }
);

kstest!(clean_scan_in_every_format, |dir: Dir, _cmd: TestCommand| {
    dir.create("a.txt", "hello\n");
    let doc = dir
        .command()
        .args(["scan", "-f", "json", "."])
        .run(0)
        .json();
    assert_eq!(doc["findings"], Value::Array(vec![]));
    assert_eq!(doc["summary"]["files"], 1);
    let log = dir
        .command()
        .args(["scan", "-f", "sarif", "."])
        .run(0)
        .json();
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"],
        Value::Array(vec![])
    );
    let out = dir.command().args(["scan", "-f", "jsonl", "."]).run(0);
    assert_eq!(out.stdout, "");
});

kstest!(
    output_file_gets_the_report_and_stdout_stays_empty,
    |dir: Dir, _cmd: TestCommand| {
        plant_five(&dir);
        std::fs::rename(dir.path().join("a.txt"), dir.path().join("b/a.txt")).unwrap();
        std::fs::rename(dir.path().join("d.txt"), dir.path().join("b/d.txt")).unwrap();
        for format in FORMATS {
            let file = format!("report.{format}");
            let out = dir
                .command()
                .args(["scan", "-f", format, "-o", &file, "b"])
                .run(1);
            assert_eq!(out.stdout, "", "{format}");
            let report = dir.read(&file);
            match format {
                "json" => assert_eq!(
                    serde_json::from_str::<Value>(&report).unwrap()["findings"]
                        .as_array()
                        .unwrap()
                        .len(),
                    5
                ),
                "jsonl" => assert_eq!(jsonl(&report).len(), 5),
                "sarif" => assert_eq!(
                    serde_json::from_str::<Value>(&report).unwrap()["runs"][0]["results"]
                        .as_array()
                        .unwrap()
                        .len(),
                    5
                ),
                _ => assert!(
                    report.contains(
                        "5 findings in 3 files: ks.aws.1 ×2, ks.aws.2 ×1, ks.github.1 ×2"
                    ),
                    "{report}"
                ),
            }
        }
        // Written atomically: no temporary files are left behind.
        assert_eq!(
            dir.entries(),
            [
                "b",
                "report.human",
                "report.json",
                "report.jsonl",
                "report.sarif"
            ]
        );
        // A report that cannot be created is an error.
        let out = dir
            .command()
            .args(["scan", "-o", "no/such/dir/report.json", "b"])
            .run(2);
        assert!(out.stderr.contains("no/such/dir"), "{}", out.stderr);
    }
);

// ----------------------------------------------------------------- redaction

kstest!(
    secrets_are_redacted_in_every_format,
    |dir: Dir, _cmd: TestCommand| {
        plant_five(&dir);
        let src = dir.create_dir("src");
        for f in ["a.txt", "b", "d.txt"] {
            std::fs::rename(dir.path().join(f), src.join(f)).unwrap();
        }
        for format in FORMATS {
            for to_file in [false, true] {
                let mut cmd = dir.command();
                cmd.args(["scan", "-f", format, "src"]);
                if to_file {
                    cmd.args(["-o", "report.out"]);
                }
                let out = cmd.run(1);
                let report = if to_file {
                    dir.read("report.out")
                } else {
                    out.stdout.clone()
                };
                assert!(report.contains("AKIA*****"), "{format}: {report}");
                for s in ALL_SECRETS {
                    for (what, text) in [("report", &report), ("stderr", &out.stderr)] {
                        assert!(
                            !text.contains(hidden_part(s)),
                            "{format} (file: {to_file}): {what} shows {s}:\n{text}"
                        );
                    }
                }
            }
        }
    }
);

kstest!(
    secrets_are_revealed_only_on_request,
    |dir: Dir, _cmd: TestCommand| {
        plant_five(&dir);
        for format in FORMATS {
            let out = dir
                .command()
                .args(["scan", "--reveal", "-f", format, "."])
                .run(1);
            for s in ALL_SECRETS {
                assert!(out.stdout.contains(s), "{format} with --reveal lacks {s}");
            }
            assert_eq!(out.stderr, "");
        }
        let doc = dir
            .command()
            .args(["scan", "--reveal", "-f", "json", "a.txt"])
            .run(1)
            .json();
        assert_eq!(doc["findings"][0]["secret"], AWS_ID);
        // The snippet stays redacted even then.
        assert_eq!(doc["findings"][0]["snippet"], "AWS_ACCESS_KEY_ID=AKIA*****");
    }
);

kstest!(
    trace_logging_does_not_leak_secrets,
    |dir: Dir, mut cmd: TestCommand| {
        plant_five(&dir);
        let out = cmd.args(["-vvv", "scan", "-f", "json", "."]).run(1);
        assert!(!out.stderr.is_empty(), "trace logging printed nothing");
        for s in ALL_SECRETS {
            assert!(!out.stderr.contains(hidden_part(s)), "{}", out.stderr);
        }
    }
);

// -------------------------------------------------------------------- inputs

kstest!(
    stdin_is_scanned_with_dash,
    |dir: Dir, mut cmd: TestCommand| {
        let doc = cmd
            .args(["scan", "-f", "json", "-"])
            .stdin(format!("first\nkey: {GH_PAT}\n"))
            .run(1)
            .json();
        let f = &doc["findings"][0];
        assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
        assert_eq!(f["path"], "<stdin>");
        assert_eq!(f["rule_id"], "ks.github.1");
        assert_eq!(
            (&f["line"], &f["column"]),
            (&Value::from(2), &Value::from(6))
        );
        assert_eq!(doc["summary"]["bytes"], 6 + 6 + GH_PAT.len() as u64);
        dir.command()
            .args(["scan", "-"])
            .stdin("nothing here\n")
            .run(0);
    }
);

kstest!(
    stdin_byte_count_survives_large_input,
    |_dir: Dir, mut cmd: TestCommand| {
        let size = 9 << 20;
        let doc = cmd
            .args(["scan", "-f", "json", "-"])
            .stdin(vec![b'a'; size])
            .run(0)
            .json();
        assert_eq!(doc["summary"]["bytes"], size);
    }
);

kstest!(
    custom_rules_replace_the_defaults,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("rules/my.toml", MY_RULES);
        dir.create(
            "src/app.env",
            format!("AWS_ACCESS_KEY_ID={AWS_ID}\nMYCO={MY_TOKEN}\n"),
        );
        let doc = cmd
            .args([
                "scan",
                "-f",
                "json",
                "--no-default-rules",
                "--rules",
                "rules/my.toml",
                "src",
            ])
            .run(1)
            .json();
        let ids: Vec<&str> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| str_of(&f["rule_id"]))
            .collect();
        assert_eq!(ids, ["ks.my.1"]);
        assert_eq!(doc["findings"][0]["line"], 2);
        assert_eq!(
            doc["findings"][0]["fingerprint"],
            fingerprint("ks.my.1", MY_TOKEN)
        );
        // With the defaults as well, both are found.
        let doc = dir
            .command()
            .args(["scan", "-f", "json", "--rules", "rules/my.toml", "src"])
            .run(1)
            .json();
        let ids: Vec<&str> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| str_of(&f["rule_id"]))
            .collect();
        assert_eq!(ids, ["ks.aws.1", "ks.my.1"]);
    }
);

kstest!(
    allow_comment_suppresses_its_line,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create(
            "app.py",
            format!("KEY = \"{AWS_ID}\"  # keysweep:allow\nOTHER = \"{AWS_ID_2}\"\n"),
        );
        let doc = cmd.args(["scan", "-f", "json", "."]).run(1).json();
        let findings = doc["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0]["line"], 2);
        assert_eq!(
            findings[0]["fingerprint"],
            fingerprint("ks.aws.1", AWS_ID_2)
        );
        dir.create("app.py", format!("KEY = \"{AWS_ID}\"  # keysweep:allow\n"));
        dir.command().args(["scan", "."]).run(0);
    }
);

kstest!(
    max_file_size_skips_with_a_note,
    |dir: Dir, mut cmd: TestCommand| {
        plant_aws(&dir, "big.env");
        dir.create("small.txt", "tiny\n");
        let size = dir.read("big.env").len();
        let out = cmd.args(["scan", "--max-file-size", "10", "."]).run(0);
        assert_eq!(
            out.stderr,
            format!("note: skipped big.env: file of {size} bytes exceeds --max-file-size 10\n")
        );
        assert!(
            out.stdout.contains("scanned 1 file (0.0 MiB)") && out.stdout.contains("; 1 skipped"),
            "{}",
            out.stdout
        );
        // Named explicitly, it is skipped the same way.
        let out = dir
            .command()
            .args(["scan", "--max-file-size", "10", "big.env"])
            .run(0);
        assert!(
            out.stderr.contains("note: skipped big.env"),
            "{}",
            out.stderr
        );
        // Units: 1K is enough.
        dir.command()
            .args(["scan", "--max-file-size", "1K", "."])
            .run(1);
    }
);

kstest!(
    keysweepignore_is_honoured_unless_no_ignore,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create(".keysweepignore", "fixtures/\n*.snap\n");
        plant_aws(&dir, "fixtures/creds.env");
        plant_aws(&dir, "tests/out.snap");
        dir.create("src/ok.rs", "fn ok() {}\n");
        let doc = cmd.args(["scan", "-f", "json", "."]).run(0).json();
        assert_eq!(doc["summary"]["files"], 2); // .keysweepignore and src/ok.rs
        let doc = dir
            .command()
            .args(["scan", "-f", "json", "--no-ignore", "."])
            .run(1)
            .json();
        let paths: BTreeSet<&str> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| str_of(&f["path"]))
            .collect();
        assert_eq!(
            paths,
            BTreeSet::from(["fixtures/creds.env", "tests/out.snap"])
        );
    }
);

kstest!(
    binary_files_need_binary_or_a_name,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("blob.bin", format!("\0\x01\x02{AWS_ID}\n"));
        cmd.args(["scan", "."]).run(0);
        dir.command().args(["scan", "--binary", "."]).run(1);
        dir.command().args(["scan", "blob.bin"]).run(1);
    }
);

kstest!(
    mmap_and_read_report_the_same,
    |dir: Dir, _cmd: TestCommand| {
        // Above the 4 MiB mapping threshold.
        let filler = "lorem ipsum dolor sit amet\n".repeat(200_000);
        dir.create(
            "big.txt",
            format!("{AWS_ID}\n{filler}{GH_PAT}\n{filler}x {AWS_ID_2}"),
        );
        let run = |extra: &[&str]| {
            let mut doc = dir
                .command()
                .args(["scan", "-f", "json"])
                .args(extra)
                .arg("big.txt")
                .run(1)
                .json();
            doc["summary"]["duration_ms"] = Value::Null;
            doc
        };
        let mapped = run(&[]);
        assert_eq!(mapped["findings"].as_array().unwrap().len(), 3);
        assert_eq!(mapped["findings"][2]["line"], 400_003);
        assert_eq!(run(&["--no-mmap"]), mapped);
    }
);

// `-o` onto an existing FIFO (or /dev/null) writes into it: renaming a
// finished temporary file over it would replace the special file.
kstest!(
    output_to_a_fifo_writes_into_it,
    |dir: Dir, mut cmd: TestCommand| {
        use std::os::unix::fs::FileTypeExt;
        dir.create("a.env", format!("aws = {AWS_ID}\n"));
        let fifo = dir.path().join("report.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        cmd.args(["scan", "--format", "json", "-o"])
            .arg(&fifo)
            .arg("a.env")
            .run(1);
        let report = reader.join().unwrap();
        assert!(report.contains("ks.aws.1"), "{report}");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
);

kstest!(
    utf16_files_are_transcoded_and_scanned,
    |dir: Dir, mut cmd: TestCommand| {
        // As PowerShell's Out-File and Windows editors write them: UTF-16LE
        // with a BOM, CRLF; and big-endian without a BOM.
        let text = format!("# deploy settings\r\nAWS_ACCESS_KEY_ID={AWS_ID}\r\n");
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let be: Vec<u8> = format!("REGION=eu-west-1\nKEY={AWS_ID_2}\n")
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        std::fs::write(dir.path().join("settings.ps1.txt"), le).unwrap();
        std::fs::write(dir.path().join("be.env"), be).unwrap();
        let out = cmd
            .args(["scan", "--format", "json", "--reveal", "."])
            .run(1);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let mut got: Vec<(String, u64, String)> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                    f["secret"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("be.env".to_string(), 2, AWS_ID_2.to_string()),
                ("settings.ps1.txt".to_string(), 2, AWS_ID.to_string()),
            ],
            "{}",
            out.stdout
        );
    }
);

// ------------------------------------------------------------------ archives

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `outer.tar.gz` holding `lib/app.war` holding `WEB-INF/lib/app.jar`
/// holding `application.properties` with the AWS key on line 2.
fn nested_archive() -> Vec<u8> {
    use std::io::Write;
    let props = format!("# app\nAWS_ACCESS_KEY_ID={AWS_ID}\n");
    let jar = zip_of(&[("application.properties", props.as_bytes())]);
    let war = zip_of(&[("WEB-INF/lib/app.jar", &jar)]);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(war.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "lib/app.war", &war[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

const NESTED_PATH: &str =
    "dist/outer.tar.gz!lib/app.war!WEB-INF/lib/app.jar!application.properties";

kstest!(
    archive_members_are_scanned_in_every_format,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("dist/outer.tar.gz", nested_archive());
        let doc = cmd.args(["scan", "-f", "json", "."]).run(1).json();
        let findings = doc["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{doc}");
        assert_eq!(findings[0]["path"], NESTED_PATH);
        assert_eq!(
            (&findings[0]["line"], &findings[0]["column"]),
            (&Value::from(2), &Value::from(19))
        );
        assert_eq!(doc["summary"]["files"], 1);
        for format in ["jsonl", "sarif", "human"] {
            let out = dir.command().args(["scan", "-f", format, "."]).run(1);
            assert!(out.stdout.contains(NESTED_PATH), "{format}: {}", out.stdout);
        }
    }
);

kstest!(
    no_archives_leaves_them_closed,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("dist/outer.tar.gz", nested_archive());
        let out = cmd.args(["scan", "--no-archives", "."]).run(0);
        assert!(out.stdout.contains("no secrets found"), "{}", out.stdout);
        // Named, it is scanned as raw bytes: nothing readable either.
        let out = dir
            .command()
            .args(["scan", "--no-archives", "dist/outer.tar.gz"])
            .run(0);
        assert!(out.stdout.contains("no secrets found"), "{}", out.stdout);
    }
);

kstest!(
    archive_limits_are_noted_with_their_flag,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("dist/outer.tar.gz", nested_archive());
        let out = cmd.args(["scan", "--max-archive-depth", "2", "."]).run(0);
        assert!(
            out.stderr.contains(
                "note: skipped dist/outer.tar.gz!lib/app.war!WEB-INF/lib/app.jar: \
             archive nested deeper than 2 levels (--max-archive-depth 2)"
            ),
            "{}",
            out.stderr
        );
        let out = dir
            .command()
            .args(["scan", "--max-archive-bytes", "100", "."])
            .run(0);
        assert!(
            out.stderr.contains("note: skipped dist/outer.tar.gz")
                && out.stderr.contains(
                    ": more than 100 bytes unpacked from one archive (--max-archive-bytes 100)\n"
                ),
            "{}",
            out.stderr
        );
        let help = dir.command().args(["scan", "--help"]).run(0).stdout;
        for flag in [
            "--no-archives",
            "--max-archive-depth <N>",
            "--max-archive-bytes <SIZE>",
            "[default: 4]",
            "[default: 256M]",
        ] {
            assert!(help.contains(flag), "{flag}: {help}");
        }
    }
);
