//! Sentinel suite (issue 8): no secret leaves the tool by accident.
//!
//! Distinctive fake secrets are planted in files, in git history and in the
//! index, then every command runs at maximum verbosity (`-vvv` and
//! `KEYSWEEP_LOG=trace`). The raw values, and the marker `SNTL` in the middle
//! of each, must appear nowhere in stdout, stderr, report files or baseline
//! files, unless `--reveal` was given: the `--reveal` runs show that the same
//! checks do see the values when they are there.
//!
//! The secrets are fake: the AWS id is `AKIA` plus 16 base32 characters, the
//! GitHub token comes from `scripts/gen-token.py github ghp_
//! Qx7mSNTLGHUBk2Pm9vR4wZt8Yc3Nf6` (valid checksum).

use crate::util::{Dir, Out, MY_RULES};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

const AWS: &str = "AKIAZQSNTLAWS7X4M2RQ";
const GH: &str = "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";
/// A password in a `.env` (generic quoted-password rule).
const PW: &str = "Zq8vSNTLPWx9Lm2Rk7Tw4nB";
/// The password of a postgres URL.
const PG: &str = "Xy7qSNTLPGx4kQ9zR2";
const SECRETS: [&str; 4] = [AWS, GH, PW, PG];
/// In the middle of every secret (after the four characters redaction keeps)
/// and nowhere else.
const MARKER: &str = "SNTL";

/// The same secrets written differently (new lines, so staged scans, which
/// report only added lines, see them).
fn yaml_file() -> String {
    format!(
        "aws:\n  access_key_id: {AWS}\ngithub:\n  token: \"{GH}\"\n\
         db_password: \"{PW}\"\nurl: postgresql://svc:{PG}@db2.internal/app\n"
    )
}

fn env_file() -> String {
    format!(
        "AWS_ACCESS_KEY_ID={AWS}\nGITHUB_TOKEN={GH}\npassword = \"{PW}\"\n\
         DATABASE_URL=postgres://app:{PG}@db.internal:5432/app\n"
    )
}

/// Fails if any secret, or any part of one that redaction must hide, is in `text`.
#[track_caller]
fn assert_clean(what: &str, text: &str) {
    let needles = SECRETS.iter().map(|s| &s[4..]).chain([MARKER]);
    for needle in needles {
        if let Some(i) = text.find(needle) {
            let mut lo = i.saturating_sub(300);
            while !text.is_char_boundary(lo) {
                lo -= 1;
            }
            let mut hi = (i + 300).min(text.len());
            while !text.is_char_boundary(hi) {
                hi += 1;
            }
            panic!(
                "{what}: a secret leaked ({needle}):\n...{}...",
                &text[lo..hi]
            );
        }
    }
}

/// Fails unless every secret is in `text`.
#[track_caller]
fn assert_revealed(what: &str, text: &str) {
    for s in SECRETS {
        assert!(
            text.contains(s),
            "{what}: {s} missing with --reveal:\n{text}"
        );
    }
}

/// A git repository whose history holds the secrets in `.env`, with the same
/// secrets staged (not committed) in `app/config.yml`.
struct Repo {
    dir: Dir,
    home: Dir,
}

impl Repo {
    fn new(name: &str) -> Repo {
        let r = Repo {
            dir: Dir::new(name),
            home: Dir::new(&format!("{name}-home")),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.dir.create(".env", env_file());
        r.dir.create("README.md", "# demo\n");
        r.git(&["add", "-A"]);
        r.git(&["commit", "-q", "-m", "initial configuration"]);
        r.dir.create("app/config.yml", yaml_file());
        r.git(&["add", "app/config.yml"]);
        r
    }

    fn isolate(&self, cmd: &mut Command) {
        cmd.current_dir(self.dir.path())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Sam Sentinel")
            .env("GIT_AUTHOR_EMAIL", "sam@example.com")
            .env("GIT_COMMITTER_NAME", "Sam Sentinel")
            .env("GIT_COMMITTER_EMAIL", "sam@example.com")
            .env_remove("KEYSWEEP_FINGERPRINT_KEY")
            .env_remove("NO_COLOR");
        for v in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
            cmd.env_remove(v);
        }
    }

    fn git(&self, args: &[&str]) {
        let mut cmd = Command::new("git");
        cmd.args(["-c", "commit.gpgsign=false"]).args(args);
        self.isolate(&mut cmd);
        let out = cmd.output().expect("run git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    /// Runs `keysweep -vvv ARGS` with `KEYSWEEP_LOG=trace`, asserts the exit
    /// code, and returns stdout + stderr.
    fn ks(&self, args: &[&str], code: i32) -> String {
        self.ks_stdin(args, Some(code), None)
    }

    /// Like [`Repo::ks`]; `code` `None` accepts any exit code.
    fn ks_stdin(&self, args: &[&str], code: Option<i32>, stdin: Option<&str>) -> String {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keysweep"));
        self.isolate(&mut cmd);
        cmd.arg("-vvv")
            .args(args)
            .env("KEYSWEEP_LOG", "trace")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn keysweep");
        if let Some(data) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(data.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let out = Out {
            code: out.status.code().expect("keysweep killed by a signal"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            code.is_none_or(|c| c == out.code),
            "keysweep {args:?} exited {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.code,
            out.stdout,
            out.stderr
        );
        assert!(
            out.code != 2 || code == Some(2),
            "keysweep {args:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.stdout,
            out.stderr
        );
        // Trace logging is on: something must have been logged.
        assert!(
            out.stderr.contains("TRACE") || out.stderr.contains("DEBUG"),
            "keysweep {args:?}: no trace output\n{}",
            out.stderr
        );
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            out.stdout, out.stderr
        )
    }

    fn read(&self, rel: &str) -> String {
        self.dir.read(rel)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

const FORMATS: [&str; 4] = ["human", "json", "jsonl", "sarif"];

#[test]
fn scan_in_every_format_never_prints_secrets() {
    let r = Repo::new("sentinel_scan");
    for f in FORMATS {
        let out = r.ks(&["scan", "--format", f, "."], 1);
        assert_clean(&format!("scan --format {f}"), &out);
        // Each format reports the four secrets (in both files).
        let redacted = out.matches("AKIA*****").count();
        assert!(redacted >= 2, "scan --format {f}: {out}");
        let file = format!("report.{f}");
        let out = r.ks(&["scan", "--format", f, "--output", &file, "."], 1);
        assert_clean(&format!("scan --format {f} --output"), &out);
        assert_clean(&file, &r.read(&file));
        assert!(r.read(&file).contains("ks.postgres.1"), "{file}");
        std::fs::remove_file(r.path().join(&file)).unwrap();
    }
    // Standard input, and one named file.
    let out = r.ks_stdin(
        &["scan", "--format", "json", "-"],
        Some(1),
        Some(&env_file()),
    );
    assert_clean("scan -", &out);
    let out = r.ks(&["scan", "--no-mmap", "app/config.yml"], 1);
    assert_clean("scan FILE", &out);
}

#[test]
fn git_history_staged_pre_push_and_hook_never_print_secrets() {
    let r = Repo::new("sentinel_git");
    for f in FORMATS {
        let out = r.ks(&["scan", "--git", "--format", f, "."], 1);
        assert_clean(&format!("scan --git --format {f}"), &out);
        assert!(out.contains("ks.aws.1"), "{out}");
    }
    let out = r.ks(
        &[
            "scan",
            "--git",
            "--all-provenance",
            "--format",
            "json",
            "-o",
            "hist.json",
            ".",
        ],
        1,
    );
    assert_clean("scan --git -o", &out);
    assert_clean("hist.json", &r.read("hist.json"));
    for f in ["human", "json"] {
        let out = r.ks(&["protect", "--staged", "--format", f], 1);
        assert_clean(&format!("protect --staged --format {f}"), &out);
        assert!(out.contains("app/config.yml"), "{out}");
    }
    let out = r.ks(&["protect", "--pre-push"], 1);
    assert_clean("protect --pre-push", &out);
    assert!(out.contains(".env"), "{out}");
    let out = r.ks(&["hook", "app/config.yml"], 1);
    assert_clean("hook", &out);
    assert!(out.contains("app/config.yml"), "{out}");
}

#[test]
fn baselines_never_hold_secrets() {
    let r = Repo::new("sentinel_baseline");
    let out = r.ks(&["baseline", "create", "-o", "base.json", "."], 0);
    assert_clean("baseline create", &out);
    let base = r.read("base.json");
    assert_clean("base.json", &base);
    assert!(base.contains("ks.github.1"), "{base}");
    // A new secret, then update.
    r.dir.create(
        "more.env",
        format!("DATABASE_URL=postgres://svc:{PG}@db2.internal/app\n"),
    );
    let out = r.ks(&["baseline", "update", "--baseline", "base.json", "."], 0);
    assert_clean("baseline update", &out);
    assert_clean("base.json after update", &r.read("base.json"));
    // Everything is baselined now.
    let out = r.ks(&["scan", "--baseline", "base.json", "."], 0);
    assert_clean("scan --baseline", &out);
    let out = r.ks(
        &["baseline", "create", "--git", "-o", "git-base.json", "."],
        0,
    );
    assert_clean("baseline create --git", &out);
    assert_clean("git-base.json", &r.read("git-base.json"));
}

#[test]
fn rules_commands_never_print_secrets() {
    let r = Repo::new("sentinel_rules");
    for args in [
        &["rules", "list"][..],
        &["rules", "list", "--format", "json"],
        &["rules", "explain", "ks.aws.1"],
        &["rules", "explain", "ks.generic.1"],
    ] {
        let out = r.ks(args, 0);
        assert_clean(&format!("{args:?}"), &out);
    }
    // Whether every built-in example passes is not this test's business.
    let out = r.ks_stdin(&["rules", "check"], None, None);
    assert_clean("rules check", &out);
    r.dir.create("my.toml", MY_RULES);
    let out = r.ks(&["rules", "check", "my.toml"], 0);
    assert_clean("rules check FILE", &out);
    let out = r.ks(&["scan", "--rules", "my.toml", "."], 1);
    assert_clean("scan --rules", &out);
    // Errors name files and positions, never the scanned content.
    r.dir
        .create("bad.json", "{\"version\": 1,\n\"findings\": [}\n");
    let out = r.ks(&["scan", "--baseline", "bad.json", "."], 2);
    assert_clean("scan with a bad baseline", &out);
}

/// Proves the checks above can fail: with `--reveal` the values are there.
#[test]
fn reveal_prints_secrets_so_the_checks_can_fail() {
    let r = Repo::new("sentinel_reveal");
    for f in FORMATS {
        let out = r.ks(&["scan", "--reveal", "--format", f, "."], 1);
        assert_revealed(&format!("scan --reveal --format {f}"), &out);
        let file = format!("rev.{f}");
        r.ks(
            &["scan", "--reveal", "--format", f, "--output", &file, "."],
            1,
        );
        assert_revealed(&file, &r.read(&file));
    }
    let out = r.ks(&["scan", "--git", "--reveal", "--format", "json", "."], 1);
    assert_revealed("scan --git --reveal", &out);
    let out = r.ks(&["protect", "--staged", "--reveal"], 1);
    assert_revealed("protect --staged --reveal", &out);
    // And `assert_clean` does catch them.
    let caught = std::panic::catch_unwind(|| assert_clean("self-test", &out));
    assert!(caught.is_err());
}

/// `Debug` and `Display` of the library's public types that hold secrets.
#[test]
fn debug_and_display_of_library_types_are_redacted() {
    use keysweep::{
        Baseline, FingerprintKey, ScanEvent, ScanOptions, Scanner, Secret, FINGERPRINT_KEY_ENV,
    };
    let dir = Dir::new("sentinel_debug");
    dir.create("a/.env", env_file());
    dir.create("b.txt", env_file());
    let scanner = Scanner::with_default_rules().unwrap();
    let mut shown = Vec::new();
    let events = Mutex::new(Vec::new());
    let paths: Vec<PathBuf> = vec![dir.path().join("a"), dir.path().join("b.txt")];
    let stats = scanner.scan_paths(&paths, &ScanOptions::new(), |ev| {
        events.lock().unwrap().push(ev);
    });
    shown.push(format!("{stats:?}"));
    let events = events.into_inner().unwrap();
    let mut findings = Vec::new();
    for ev in &events {
        shown.push(format!("{ev:?}"));
        shown.push(format!("{ev:#?}"));
        if let ScanEvent::Scanned { findings: f, .. } = ev {
            findings.extend(f.iter().cloned());
        }
    }
    assert_eq!(findings.len(), 8, "{findings:?}");
    for f in &findings {
        shown.push(format!("{f:?}"));
        shown.push(format!("{f:#?}"));
        shown.push(format!(
            "{:?} {} {}",
            f.secret,
            f.secret,
            f.secret.redacted()
        ));
        shown.push(format!("{:?} {}", f.fingerprint, f.fingerprint));
        shown.push(f.snippet.clone());
        assert!(SECRETS.contains(&std::str::from_utf8(f.secret.expose()).unwrap()));
    }
    for s in SECRETS {
        let secret = Secret::new(s.as_bytes().to_vec());
        shown.push(format!("{secret:?} {secret} {secret:#?}"));
        // A fingerprint key made of a secret never prints either.
        let key = FingerprintKey::new(s.as_bytes().to_vec());
        shown.push(format!("{key:?} {key:#?}"));
        shown.push(format!("{:?}", scanner.clone().with_fingerprint_key(key)));
    }
    let baseline = Baseline::from_findings(&findings, scanner.fingerprint_key());
    shown.push(format!("{baseline:?}"));
    shown.push(baseline.to_json());
    // Errors name the path only.
    let err = Baseline::from_json("x.json", &format!("{{\"version\": \"{PW}\"}}")).unwrap_err();
    shown.push(format!("{err} {err:?}"));
    assert!(!FINGERPRINT_KEY_ENV.is_empty());
    for (i, text) in shown.iter().enumerate() {
        assert_clean(&format!("Debug/Display #{i}"), text);
    }
}
