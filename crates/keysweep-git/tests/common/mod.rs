//! Shared fixtures of the git library tests: repositories built with the real
//! `git` binary in temporary directories, a pinned rule set, and fake secrets.
//!
//! Every git command runs with a temporary `HOME` (so no global config, hooks
//! or signing settings leak in), fixed author and committer identities, and
//! commit dates that advance one minute per commit, so commit-time ordering is
//! deterministic.
//!
//! All secrets are fake: AWS ids are `AKIA` plus 16 random base32 characters,
//! GitHub tokens come from `scripts/gen-token.py` (random body, valid checksum).
#![allow(dead_code)]

use keysweep_core::{FingerprintKey, RuleSetBuilder, Scanner};
use keysweep_git::{HistoryFinding, HistoryOptions, HistoryStats};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const AWS_1: &str = "AKIAEQ6OKZAGLAOAOYPR";
pub const AWS_2: &str = "AKIA2TJAYUPNU3YDKVDP";
pub const AWS_3: &str = "AKIASGBH7KBB2LSIPK7L";
pub const AWS_4: &str = "AKIANCZZYWTM3BPYYDNB";
pub const AWS_5: &str = "AKIAYQRUIIIVEIYVDWXQ";
pub const GH_1: &str = "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";
pub const GH_2: &str = "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";

/// Copies of the AWS access key id and GitHub PAT rules, pinned for these tests.
pub const RULES: &str = r#"
[[rules]]
id = "ks.aws.1"
name = "AWS access key ID"
kind = "aws-access-key-id"
severity = "high"
keywords = ["AKIA", "ASIA"]
regex = '''\b(?P<secret>(?:AKIA|ASIA)[A-Z2-7]{16})\b'''
min_entropy = 3.0
examples = ["AWS_ACCESS_KEY_ID=AKIAEQ6OKZAGLAOAOYPR"]
negative_examples = ["AKIAIOSFODNN7EXAMPLE"]

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
"#;

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

/// A temporary directory holding a fake `HOME` and any number of repositories.
pub struct Sandbox {
    tmp: tempfile::TempDir,
    tick: Cell<u64>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let tmp = tempfile::Builder::new()
            .prefix("keysweep-git-test-")
            .tempdir()
            .expect("create temp dir");
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        Sandbox {
            tmp,
            tick: Cell::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    /// A `git` command in `dir`, isolated from the user's configuration.
    pub fn git_command(&self, dir: &Path) -> Command {
        let t = self.tick.get() + 1;
        self.tick.set(t);
        let date = format!("@{} +0000", 1_700_000_000 + t * 60);
        let home = self.home();
        let mut cmd = Command::new("git");
        cmd.current_dir(dir)
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "tag.gpgsign=false",
                "-c",
                "gc.auto=0",
                "-c",
                "core.autocrlf=false",
            ])
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Alice Example")
            .env("GIT_AUTHOR_EMAIL", "alice@example.com")
            .env("GIT_COMMITTER_NAME", "Alice Example")
            .env("GIT_COMMITTER_EMAIL", "alice@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_TERMINAL_PROMPT", "0");
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_CONFIG",
            "GIT_CONFIG_GLOBAL",
            "GIT_CONFIG_PARAMETERS",
            "GIT_CONFIG_COUNT",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs `git args` in `dir`, asserts success, returns trimmed stdout.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_command(dir).args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} in {} failed:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// `git init` of a new repository at `rel` inside the sandbox.
    pub fn init(&self, rel: &str) -> Repo<'_> {
        let path = self.path().join(rel);
        std::fs::create_dir_all(&path).unwrap();
        self.git_in(&path, &["init", "-q"]);
        Repo { sb: self, path }
    }

    /// A repository that already exists at `path` (a clone, a worktree).
    pub fn repo_at(&self, path: impl Into<PathBuf>) -> Repo<'_> {
        Repo {
            sb: self,
            path: path.into(),
        }
    }
}

/// A repository with a work tree (or bare) inside a [`Sandbox`].
pub struct Repo<'a> {
    pub sb: &'a Sandbox,
    pub path: PathBuf,
}

impl Repo<'_> {
    pub fn git(&self, args: &[&str]) -> String {
        self.sb.git_in(&self.path, args)
    }

    /// Writes `contents` to `rel` in the work tree, creating directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path.join(rel)).unwrap();
    }

    /// Stages everything and commits; returns the new commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    /// Stages everything and commits as another author; returns the commit id.
    pub fn commit_as(&self, message: &str, name: &str, email: &str) -> String {
        self.git(&["add", "-A"]);
        let out = self
            .sb
            .git_command(&self.path)
            .args(["commit", "-q", "-m", message])
            .env("GIT_AUTHOR_NAME", name)
            .env("GIT_AUTHOR_EMAIL", email)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    /// The number of loose objects (`git count-objects`).
    pub fn loose_objects(&self) -> u64 {
        let out = self.git(&["count-objects", "-v"]);
        out.lines()
            .find_map(|l| l.strip_prefix("count: "))
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// Runs a history scan with the pinned rules; findings sorted by blob and offset.
pub fn scan(path: &Path, opts: &HistoryOptions) -> (Vec<HistoryFinding>, HistoryStats) {
    let mut found = Vec::new();
    let stats = keysweep_git::scan_history(&scanner(), path, opts, |ev| {
        if let keysweep_git::HistoryEvent::Finding(hf) = ev {
            found.push(hf);
        }
        std::ops::ControlFlow::Continue(())
    })
    .unwrap_or_else(|e| panic!("history scan of {} failed: {e}", path.display()));
    found.sort_by(|a, b| (&a.blob, a.finding.span.start).cmp(&(&b.blob, b.finding.span.start)));
    (found, stats)
}

/// The raw secrets of history findings, sorted.
pub fn secrets(found: &[HistoryFinding]) -> Vec<String> {
    let mut v: Vec<String> = found
        .iter()
        .map(|f| String::from_utf8(f.finding.secret.expose().to_vec()).unwrap())
        .collect();
    v.sort();
    v
}

/// History options for `range` (other knobs at their defaults).
pub fn opts(range: keysweep_git::Range) -> HistoryOptions {
    HistoryOptions {
        range,
        ..HistoryOptions::default()
    }
}
