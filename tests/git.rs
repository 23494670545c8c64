//! Git end to end, with the real `git` binary: `scan --git` (provenance,
//! ranges), `protect --staged` / `--pre-push`, `install-hook`, and baselines
//! that survive moves, renames, rebases, squashes and cherry-picks.
//!
//! Every git command runs with a temporary `HOME`, fixed identities and dates
//! that advance one minute per command. All secrets are fake: AWS ids are
//! `AKIA` plus 16 random base32 characters, GitHub tokens come from
//! `scripts/gen-token.py` (random body, valid checksum).

use crate::util::{fingerprint, Dir, Out};
use serde_json::Value;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const AWS_1: &str = "AKIA75GNHKPW5WME2EQS";
pub const AWS_2: &str = "AKIAFD5PQPVR7SVS6HFB";
pub const AWS_3: &str = "AKIAHHLP6UXB7LCNUU7R";
pub const AWS_4: &str = "AKIAYQRUIIIVEIYVDWXQ";
pub const GH_1: &str = "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";
pub const GH_2: &str = "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";

/// Variables git sets for hooks, or a user may have set, that would point git
/// or gix at another repository or index.
const GIT_ENV: [&str; 9] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
];

/// A git repository in a temporary directory, plus a second temporary
/// directory (`aux`) for `HOME`, remotes and baseline files.
pub struct GitTest {
    pub dir: Dir,
    pub aux: Dir,
    tick: Cell<u64>,
}

impl GitTest {
    /// A new repository (`git init`, branch `main`).
    pub fn new(name: &str) -> GitTest {
        let t = GitTest {
            dir: Dir::new(name),
            aux: Dir::new(&format!("{name}-aux")),
            tick: Cell::new(0),
        };
        t.aux.create_dir("home");
        t.git(&["init", "-q"]);
        t
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.aux.path().join("home")
    }

    /// Sets the isolated git environment on any command (git, keysweep, pre-commit).
    pub fn isolate(&self, cmd: &mut Command) {
        let t = self.tick.get() + 1;
        self.tick.set(t);
        let date = format!("@{} +0000", 1_700_000_000 + t * 60);
        let home = self.home();
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Alice Example")
            .env("GIT_AUTHOR_EMAIL", "alice@example.com")
            .env("GIT_COMMITTER_NAME", "Alice Example")
            .env("GIT_COMMITTER_EMAIL", "alice@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("KEYSWEEP_FINGERPRINT_KEY")
            .env_remove("KEYSWEEP_LOG")
            .env_remove("NO_COLOR");
        for var in GIT_ENV {
            cmd.env_remove(var);
        }
    }

    /// A `git` command in `cwd`.
    pub fn git_command(&self, cwd: &Path) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(cwd).args([
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
        ]);
        self.isolate(&mut cmd);
        cmd
    }

    /// Runs git in `cwd`, asserts success, returns trimmed stdout.
    pub fn git_in(&self, cwd: &Path, args: &[&str]) -> String {
        let out = self.git_command(cwd).args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Runs git in the repository, asserts success, returns trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(self.root(), args)
    }

    /// Runs git in the repository without asserting: (success, stdout + stderr).
    pub fn try_git(&self, args: &[&str]) -> (bool, String) {
        let out = self
            .git_command(self.root())
            .args(args)
            .output()
            .expect("run git");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        self.dir.create(rel, contents);
    }

    /// Stages everything and commits; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// A bare repository in `aux`, added as remote `origin`.
    pub fn add_remote(&self) -> PathBuf {
        let remote = self.aux.path().join("remote.git");
        self.git_in(self.aux.path(), &["init", "-q", "--bare", "remote.git"]);
        self.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
        remote
    }

    /// `keysweep` in the repository root.
    pub fn ks(&self) -> Ks {
        self.ks_in(self.root())
    }

    /// `keysweep` in `cwd`.
    pub fn ks_in(&self, cwd: &Path) -> Ks {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keysweep"));
        cmd.current_dir(cwd);
        self.isolate(&mut cmd);
        Ks { cmd, stdin: None }
    }
}

/// A `keysweep` invocation with the isolated environment.
pub struct Ks {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Ks {
    pub fn arg(&mut self, a: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn stdin(&mut self, data: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Some(data.into());
        self
    }

    pub fn output(&mut self) -> Out {
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn keysweep");
        if let Some(data) = self.stdin.take() {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            let _ = pipe.write_all(&data);
        }
        let out = child.wait_with_output().expect("wait for keysweep");
        Out {
            code: out.status.code().expect("keysweep killed by a signal"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Runs and asserts the exit code.
    pub fn run(&mut self, code: i32) -> Out {
        let out = self.output();
        assert_eq!(
            out.code, code,
            "{:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmd, out.stdout, out.stderr
        );
        out
    }
}

/// `(rule id, fingerprint)` of every finding of a JSON report, sorted.
fn ids(doc: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = doc["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The `(rule id, fingerprint)` pairs `ids` returns for these AWS ids / GitHub tokens.
fn expect(secrets: &[&str]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = secrets
        .iter()
        .map(|s| {
            let rule = if s.starts_with("ghp_") {
                "ks.github.1"
            } else {
                "ks.aws.1"
            };
            (rule.to_string(), fingerprint(rule, s))
        })
        .collect();
    v.sort();
    v
}

fn assert_no_raw_secrets(text: &str) {
    for s in [AWS_1, AWS_2, AWS_3, AWS_4, GH_1, GH_2] {
        assert!(!text.contains(&s[4..]), "raw secret {s} in:\n{text}");
    }
}

// ------------------------------------------------------------ scan --git

#[test]
fn scan_git_json_has_commit_and_blob() {
    let t = GitTest::new("scan_git_json");
    t.write("README.md", "# demo\n");
    t.commit("initial");
    t.write("app/config.env", format!("region=eu\naws_id: {AWS_1}\n"));
    let mut cmd = t.git_command(t.root());
    cmd.args(["add", "-A"]);
    assert!(cmd.status().unwrap().success());
    let mut cmd = t.git_command(t.root());
    cmd.args(["commit", "-q", "-m", "add config\n\nmore words"])
        .env("GIT_AUTHOR_NAME", "Bob Builder")
        .env("GIT_AUTHOR_EMAIL", "bob@example.org");
    assert!(cmd.status().unwrap().success());
    let adding = t.head();
    std::fs::remove_file(t.root().join("app/config.env")).unwrap();
    t.commit("remove config");
    let blob = t.git(&["rev-parse", &format!("{adding}:app/config.env")]);

    let out = t.ks().args(["scan", "--git", ".", "-f", "json"]).run(1);
    assert_no_raw_secrets(&out.stdout);
    let doc = out.json();
    assert_eq!(ids(&doc), expect(&[AWS_1]));
    let f = &doc["findings"][0];
    assert_eq!(f["path"], "app/config.env");
    assert_eq!(f["line"], 2);
    assert_eq!(f["blob"], blob.as_str());
    assert!(f.get("provenance").is_none(), "{f}");
    let c = &f["commit"];
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["commit", "author", "email", "date", "summary", "path"]
    );
    assert_eq!(c["commit"], adding.as_str());
    assert_eq!(c["author"], "Bob Builder");
    assert_eq!(c["email"], "bob@example.org");
    assert_eq!(c["summary"], "add config");
    assert_eq!(c["path"], "app/config.env");
    let date = c["date"].as_str().unwrap();
    let git_date = t.git(&["show", "-s", "--format=%aI", &adding]);
    assert_eq!(date.replace("+00:00", "Z"), git_date.replace("+00:00", "Z"));
    assert_eq!(doc["summary"]["commits"], 3);
    assert_eq!(doc["summary"]["findings"], 1);

    // Human output names the commit too.
    let out = t.ks().args(["scan", "--git", "."]).run(1);
    assert!(out.stdout.contains(&adding[..12]), "{}", out.stdout);
    assert!(out.stdout.contains("Bob Builder <bob@example.org>"));
    assert_no_raw_secrets(&out.stdout);
    // Scanning the repository from elsewhere by path.
    let out = t
        .ks_in(t.aux.path())
        .args(["scan", "--git", "-f", "json"])
        .arg(t.root())
        .run(1);
    assert_eq!(ids(&out.json()), expect(&[AWS_1]));
}

#[test]
fn scan_git_all_provenance_lists_every_introducing_commit() {
    let t = GitTest::new("scan_git_all_provenance");
    let content = format!("token: {GH_1}\n");
    t.write("a.yml", &content);
    let c1 = t.commit("c1");
    t.write("copies/b.yml", &content);
    let c2 = t.commit("c2");

    let doc = t.ks().args(["scan", "--git", "-f", "json"]).run(1).json();
    assert_eq!(ids(&doc), expect(&[GH_1]));
    assert!(doc["findings"][0].get("provenance").is_none());
    assert_eq!(doc["findings"][0]["commit"]["commit"], c1.as_str());

    let doc = t
        .ks()
        .args(["scan", "--git", "--all-provenance", "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[GH_1]), "one finding, not one per path");
    let f = &doc["findings"][0];
    assert_eq!(f["commit"]["commit"], c1.as_str());
    let prov: Vec<(String, String)> = f["provenance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["commit"].as_str().unwrap().to_string(),
                p["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        prov,
        [(c1, "a.yml".to_string()), (c2, "copies/b.yml".to_string())]
    );
    for p in f["provenance"].as_array().unwrap() {
        for k in ["author", "email", "date", "summary"] {
            assert!(p[k].is_string(), "{p}");
        }
    }
}

#[test]
fn scan_git_since_commit_and_log_opts_limit_commits() {
    let t = GitTest::new("scan_git_ranges");
    t.write("1.env", format!("id: {AWS_1}\n"));
    let c1 = t.commit("c1");
    t.write("2.env", format!("id: {AWS_2}\n"));
    let c2 = t.commit("c2");
    t.write("3.env", format!("id: {AWS_3}\n"));
    t.commit("c3");

    let doc = t
        .ks()
        .args(["scan", "--git", "--since-commit", &c1, "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_2, AWS_3]));
    assert_eq!(doc["summary"]["commits"], 2);

    let range = format!("{c1}..{c2}");
    let doc = t
        .ks()
        .args(["scan", "--git", "--log-opts", &range, "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_2]));
    assert_eq!(doc["summary"]["commits"], 1);

    let doc = t
        .ks()
        .args(["scan", "--git", "--log-opts", "HEAD~1..", "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_3]));

    t.ks()
        .args(["scan", "--git", "--since-commit", "HEAD", "-f", "json"])
        .run(0);
    let out = t
        .ks()
        .args(["scan", "--git", "--since-commit", "no-such-rev"])
        .run(2);
    assert!(out.stderr.contains("no-such-rev"), "{}", out.stderr);
    // The options need --git.
    t.ks().args(["scan", "--since-commit", &c1]).run(2);
}

#[test]
fn scan_git_of_a_non_repository_is_an_error() {
    let t = GitTest::new("scan_git_non_repo");
    let out = t.ks_in(t.aux.path()).args(["scan", "--git", "."]).run(2);
    assert!(
        out.stderr.contains("not a readable git repository"),
        "{}",
        out.stderr
    );
}

// ------------------------------------------------------------ protect --staged

#[test]
fn protect_staged_blocks_a_new_secret_and_explains_what_to_do() {
    let t = GitTest::new("protect_staged_blocks");
    t.write("src/app.py", "import os\n");
    t.commit("c1");
    t.write(
        "src/app.py",
        format!("import os\nKEY = \"{AWS_1}\"  # oops\n"),
    );
    t.git(&["add", "-A"]);
    let out = t.ks().args(["protect", "--staged"]).run(1);
    // file, line:column, rule, redacted secret.
    assert!(out.stdout.contains("src/app.py\n"), "{}", out.stdout);
    assert!(out.stdout.contains("  2:8  "), "{}", out.stdout);
    assert!(out.stdout.contains("ks.aws.1"), "{}", out.stdout);
    assert!(out.stdout.contains("AKIA*****"), "{}", out.stdout);
    assert_no_raw_secrets(&out.stdout);
    assert_no_raw_secrets(&out.stderr);
    let err = &out.stderr;
    assert!(err.contains("keysweep blocked this commit"), "{err}");
    assert!(err.contains("What to do next"), "{err}");
    assert!(err.contains("keysweep:allow"), "{err}");
    assert!(err.contains("keysweep baseline update"), "{err}");
    assert!(
        err.contains(&format!(
            "keysweep rotate plan --finding {}",
            fingerprint("ks.aws.1", AWS_1)
        )),
        "{err}"
    );

    // JSON for tools, with the path relative to the repository root.
    let doc = t
        .ks()
        .args(["protect", "--staged", "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_1]));
    assert_eq!(doc["findings"][0]["path"], "src/app.py");
    assert_eq!(doc["findings"][0]["line"], 2);
    // From a subdirectory, with --repo.
    t.ks_in(&t.root().join("src"))
        .args(["protect", "--staged", "--repo", ".."])
        .run(1);
}

#[test]
fn protect_staged_exits_0_when_clean() {
    let t = GitTest::new("protect_staged_clean");
    // A secret already committed, and an unrelated edit to its file.
    t.write("config.env", format!("region=eu\naws_id: {AWS_1}\n"));
    t.commit("c1");
    t.write("config.env", format!("region=us\naws_id: {AWS_1}\nnew=1\n"));
    t.write("notes.txt", "nothing secret\n");
    t.git(&["add", "-A"]);
    let out = t.ks().args(["protect", "--staged"]).run(0);
    assert!(out.stdout.contains("no secrets found"), "{}", out.stdout);
    assert!(!out.stderr.contains("What to do next"));
    // A secret only in the work tree is not staged content.
    t.write("notes.txt", format!("aws_id: {AWS_2}\n"));
    t.ks().args(["protect", "--staged"]).run(0);
    // Nothing staged at all, and a repository without commits.
    t.git(&["commit", "-q", "-m", "c2"]);
    t.git(&["checkout", "-q", "--", "notes.txt"]);
    t.ks().args(["protect", "--staged"]).run(0);
    let fresh = GitTest::new("protect_staged_clean_fresh");
    fresh.ks().args(["protect", "--staged"]).run(0);
    fresh.write("a.env", format!("aws_id: {AWS_3}\n"));
    fresh.git(&["add", "-A"]);
    fresh.ks().args(["protect", "--staged"]).run(1);
}

#[test]
fn protect_staged_outside_a_repository_is_an_error() {
    let t = GitTest::new("protect_staged_non_repo");
    t.ks_in(t.aux.path()).args(["protect", "--staged"]).run(2);
}

// ------------------------------------------------------------ protect --pre-push

#[test]
fn pre_push_without_upstream_scans_the_unpushed_commits() {
    let t = GitTest::new("pre_push_no_upstream");
    // No remote at all: everything HEAD has is unpushed.
    t.write("a.env", format!("aws_id: {AWS_1}\n"));
    t.commit("c1");
    let doc = t
        .ks()
        .args(["protect", "--pre-push", "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_1]));

    // Pushed without setting an upstream: the remote-tracking branch has c1.
    t.add_remote();
    t.git(&["push", "-q", "origin", "main"]);
    t.ks().args(["protect", "--pre-push"]).run(0);
    t.write("b.env", format!("aws_id: {AWS_2}\n"));
    t.commit("c2");
    t.write("c.txt", "clean\n");
    t.commit("c3");
    let out = t.ks().args(["protect", "--pre-push"]).run(1);
    assert!(
        out.stderr.contains("keysweep blocked this push"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("commits being pushed"),
        "{}",
        out.stderr
    );
    let doc = t
        .ks()
        .args(["protect", "--pre-push", "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_2]));
    assert_eq!(doc["summary"]["commits"], 2);
    assert_eq!(doc["findings"][0]["commit"]["summary"], "c2");
}

#[test]
fn pre_push_stdin_lines_limit_the_scan_to_the_pushed_range() {
    let t = GitTest::new("pre_push_stdin");
    t.write("a.env", format!("aws_id: {AWS_1}\n"));
    let c1 = t.commit("c1");
    t.write("b.env", format!("aws_id: {AWS_2}\n"));
    let c2 = t.commit("c2");
    t.write("c.env", format!("aws_id: {AWS_3}\n"));
    let c3 = t.commit("c3");
    let zero = "0".repeat(40);

    // The remote has c1: c2 and c3 are sent.
    let line = format!("refs/heads/main {c3} refs/heads/main {c1}\n");
    let doc = t
        .ks()
        .args(["protect", "--pre-push", "-f", "json"])
        .stdin(line)
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_2, AWS_3]));
    assert_eq!(doc["summary"]["commits"], 2);

    // Pushing c2 onto a remote that has c1: only c2.
    let line = format!("refs/heads/main {c2} refs/heads/main {c1}\n");
    let doc = t
        .ks()
        .args(["protect", "--pre-push", "-f", "json"])
        .stdin(line)
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_2]));

    // Up to date: nothing is sent.
    let line = format!("refs/heads/main {c3} refs/heads/main {c3}\n");
    t.ks().args(["protect", "--pre-push"]).stdin(line).run(0);

    // Deleting a remote branch sends nothing.
    let line = format!("(delete) {zero} refs/heads/old {c1}\n");
    t.ks().args(["protect", "--pre-push"]).stdin(line).run(0);

    // A new remote branch: what no remote-tracking branch has; with origin/main at c2, only c3.
    t.add_remote();
    t.git(&["push", "-q", "origin", &format!("{c2}:refs/heads/main")]);
    t.git(&["fetch", "-q", "origin"]);
    let line = format!("refs/heads/main {c3} refs/heads/topic {zero}\n");
    let doc = t
        .ks()
        .args(["protect", "--pre-push", "-f", "json"])
        .stdin(line)
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_3]));

    // Two refs at once.
    let lines =
        format!("refs/heads/main {c2} refs/heads/main {c1}\nrefs/tags/v1 {c3} refs/tags/v1 {c2}\n");
    let doc = t
        .ks()
        .args(["protect", "--pre-push", "-f", "json"])
        .stdin(lines)
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_2, AWS_3]));

    // Garbage on stdin is an error, not a pass.
    t.ks()
        .args(["protect", "--pre-push"])
        .stdin("what is this\n")
        .run(2);
}

// ------------------------------------------------------------ install-hook

#[test]
fn install_hook_refuses_commits_with_secrets() {
    let t = GitTest::new("install_hook_commit");
    t.write("README.md", "# demo\n");
    t.commit("c1");
    let out = t.ks().args(["install-hook"]).run(0);
    let hook = t.root().join(".git/hooks/pre-commit");
    assert!(out.stderr.contains("installed"), "{}", out.stderr);
    let script = std::fs::read_to_string(&hook).unwrap();
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    assert!(script.contains("protect --staged"), "{script}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "executable: {mode:o}");
    }

    // A commit with a secret is refused by git.
    let before = t.head();
    t.write("deploy.env", format!("aws_id: {AWS_1}\n"));
    t.git(&["add", "-A"]);
    let (ok, text) = t.try_git(&["commit", "-m", "add deploy config"]);
    assert!(!ok, "commit was not refused:\n{text}");
    assert!(text.contains("keysweep blocked this commit"), "{text}");
    assert!(text.contains("deploy.env"), "{text}");
    assert_no_raw_secrets(&text);
    assert_eq!(t.head(), before);

    // `commit -a` (git hands the hook a different index file).
    t.git(&["reset", "-q"]);
    std::fs::remove_file(t.root().join("deploy.env")).unwrap();
    t.write("README.md", format!("# demo\ntoken {GH_1}\n"));
    let (ok, text) = t.try_git(&["commit", "-a", "-m", "readme"]);
    assert!(!ok, "commit -a was not refused:\n{text}");
    assert!(text.contains("README.md"), "{text}");
    assert_eq!(t.head(), before);

    // A partial commit (`git commit PATH`) is judged on what it commits:
    // a secret staged in another file does not block it ...
    t.write("README.md", "# demo\nclean edit\n");
    t.write("other.env", format!("aws_id: {AWS_2}\n"));
    t.git(&["add", "other.env"]);
    let (ok, text) = t.try_git(&["commit", "-m", "readme only", "README.md"]);
    assert!(ok, "partial clean commit refused:\n{text}");
    let after = t.head();
    assert_ne!(after, before);
    // ... while committing the file with the secret is refused.
    let (ok, text) = t.try_git(&["commit", "-m", "other", "other.env"]);
    assert!(!ok, "{text}");
    assert_eq!(t.head(), after);

    // A clean commit succeeds.
    t.git(&["rm", "-q", "--cached", "other.env"]);
    std::fs::remove_file(t.root().join("other.env")).unwrap();
    t.write("src/lib.rs", "pub fn f() {}\n");
    t.git(&["add", "-A"]);
    let (ok, text) = t.try_git(&["commit", "-m", "clean"]);
    assert!(ok, "clean commit refused:\n{text}");
    assert_ne!(t.head(), after);
}

#[test]
fn install_hook_does_not_overwrite_without_force() {
    let t = GitTest::new("install_hook_force");
    let hook = t.root().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let out = t.ks().args(["install-hook"]).run(2);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    t.ks().args(["install-hook", "--force"]).run(0);
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("protect --staged"));
    // Installing again without --force is refused too.
    t.ks().args(["install-hook"]).run(2);
}

#[test]
fn install_hook_pre_push_refuses_pushes_with_secrets() {
    let t = GitTest::new("install_hook_push");
    t.write("README.md", "# demo\n");
    t.commit("c1");
    let remote = t.add_remote();
    t.git(&["push", "-q", "origin", "main"]);
    t.ks().args(["install-hook", "--pre-push"]).run(0);
    assert!(t.root().join(".git/hooks/pre-push").is_file());
    t.write("b.env", format!("aws_id: {AWS_1}\n"));
    let with_secret = t.commit("c2");
    let (ok, text) = t.try_git(&["push", "origin", "main"]);
    assert!(!ok, "push was not refused:\n{text}");
    assert!(text.contains("keysweep blocked this push"), "{text}");
    let remote_main = t.git_in(&remote, &["rev-parse", "main"]);
    assert_ne!(remote_main, with_secret);
    // Undo the commit: a clean push succeeds.
    t.git(&["reset", "-q", "--hard", "HEAD~1"]);
    t.write("c.txt", "clean\n");
    let clean = t.commit("c3");
    let (ok, text) = t.try_git(&["push", "origin", "main"]);
    assert!(ok, "{text}");
    assert_eq!(t.git_in(&remote, &["rev-parse", "main"]), clean);
}

// ------------------------------------------------------------ baselines

#[test]
fn baseline_create_is_deterministic_sorted_and_secret_free() {
    let t = GitTest::new("baseline_deterministic");
    t.write("a.env", format!("aws_id: {AWS_1}\ntoken: {GH_1}\n"));
    t.write("z/b.env", format!("\n\naws_id: {AWS_2}\n"));
    t.commit("c1");
    let one = t.aux.path().join("one.json");
    let two = t.aux.path().join("two.json");
    for file in [&one, &two] {
        let out = t
            .ks()
            .args(["baseline", "create", "--git", ".", "--output"])
            .arg(file)
            .run(0);
        assert!(out.stderr.contains("with 3 findings"), "{}", out.stderr);
    }
    let text = std::fs::read_to_string(&one).unwrap();
    assert_eq!(text.as_bytes(), std::fs::read(&two).unwrap().as_slice());
    assert_no_raw_secrets(&text);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let entries = doc["findings"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let fps: Vec<&str> = entries
        .iter()
        .map(|e| e["fingerprint"].as_str().unwrap())
        .collect();
    let mut sorted = fps.clone();
    sorted.sort();
    assert_eq!(fps, sorted, "sorted by fingerprint");
    for e in entries {
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["fingerprint", "rule_id", "path"], "{e}");
    }
    assert!(!text.contains("\"line\""), "{text}");
    assert!(!text.contains("date"), "{text}");
    // The same baseline from the work tree (not history), also byte-identical across runs.
    let fs1 = t.aux.path().join("fs1.json");
    let fs2 = t.aux.path().join("fs2.json");
    for file in [&fs1, &fs2] {
        t.ks()
            .args(["baseline", "create", ".", "--output"])
            .arg(file)
            .run(0);
    }
    assert_eq!(std::fs::read(&fs1).unwrap(), std::fs::read(&fs2).unwrap());
    assert_eq!(std::fs::read_to_string(&fs1).unwrap(), text);
}

#[test]
fn baseline_output_has_the_short_flag_o() {
    let t = GitTest::new("baseline_short_o");
    t.write("a.env", format!("aws_id: {AWS_1}\n"));
    let base = t.aux.path().join("base.json");
    t.ks()
        .args(["baseline", "create", ".", "-o"])
        .arg(&base)
        .run(0);
    assert!(base.is_file());
}

/// A repository whose history has `config.env` with `AWS_1` on line 2, and
/// a baseline of it in `aux/base.json`.
fn baselined(name: &str) -> (GitTest, PathBuf) {
    let t = GitTest::new(name);
    t.write("README.md", "# demo\n");
    t.commit("c0");
    t.write(
        "config.env",
        format!("region=eu\naws_id: {AWS_1}\ndebug=0\n"),
    );
    t.commit("add config");
    let base = t.aux.path().join("base.json");
    t.ks()
        .args(["baseline", "create", "--git", ".", "--output"])
        .arg(&base)
        .run(0);
    assert_clean(&t, &base);
    (t, base)
}

/// `scan --git --baseline` reports nothing (and the baseline hid something).
fn assert_clean(t: &GitTest, base: &Path) {
    let out = t
        .ks()
        .args(["scan", "--git", "-f", "json", "--baseline"])
        .arg(base)
        .run(0);
    let doc = out.json();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{doc}");
    assert!(doc["summary"]["baselined"].as_u64().unwrap() >= 1, "{doc}");
}

#[test]
fn scan_with_a_baseline_hides_baselined_findings() {
    let (t, base) = baselined("baseline_hides");
    // Without the baseline the finding is there.
    let doc = t.ks().args(["scan", "--git", "-f", "json"]).run(1).json();
    assert_eq!(ids(&doc), expect(&[AWS_1]));
    // A new secret is reported, the baselined one is not.
    t.write("new.env", format!("token: {GH_1}\n"));
    t.commit("new");
    let doc = t
        .ks()
        .args(["scan", "--git", "-f", "json", "--baseline"])
        .arg(&base)
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[GH_1]));
    assert_eq!(doc["summary"]["baselined"], 1);
    // Also for plain file scans and for protect.
    let doc = t
        .ks()
        .args(["scan", ".", "-f", "json", "--baseline"])
        .arg(&base)
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[GH_1]));
    t.write(
        "config.env",
        format!("region=eu\n# moved\naws_id: {AWS_1}\n"),
    );
    t.write("again.env", format!("aws_id: {AWS_1}\n"));
    t.git(&["add", "-A"]);
    t.ks()
        .args(["protect", "--staged", "--baseline"])
        .arg(&base)
        .run(0);
    t.ks().args(["protect", "--staged"]).run(1);
    // The repository's own `.keysweep-baseline.json` is picked up by protect.
    std::fs::copy(&base, t.root().join(".keysweep-baseline.json")).unwrap();
    t.ks().args(["protect", "--staged"]).run(0);
}

#[test]
fn baseline_update_adds_and_drops() {
    let t = GitTest::new("baseline_update");
    t.write("a.env", format!("aws_id: {AWS_1}\n"));
    t.write("b.env", format!("aws_id: {AWS_2}\n"));
    let base = t.aux.path().join("base.json");
    let update = |t: &GitTest| {
        t.ks()
            .args(["baseline", "update", ".", "--output"])
            .arg(&base)
            .run(0)
    };
    let out = update(&t);
    assert!(
        out.stderr.contains("2 added, 0 dropped, 2 in total"),
        "{}",
        out.stderr
    );
    let fps = |t: &GitTest| {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
        let _ = t;
        let mut v: Vec<String> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fingerprint"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let mut want = vec![
        fingerprint("ks.aws.1", AWS_1),
        fingerprint("ks.aws.1", AWS_2),
    ];
    want.sort();
    assert_eq!(fps(&t), want);
    // b.env's secret is gone, a new one appears.
    std::fs::remove_file(t.root().join("b.env")).unwrap();
    t.write("c.env", format!("token: {GH_2}\n"));
    let out = update(&t);
    assert!(
        out.stderr.contains("1 added, 1 dropped, 2 in total"),
        "{}",
        out.stderr
    );
    let mut want = vec![
        fingerprint("ks.aws.1", AWS_1),
        fingerprint("ks.github.1", GH_2),
    ];
    want.sort();
    assert_eq!(fps(&t), want);
    // Nothing changed: the file is byte-identical.
    let before = std::fs::read(&base).unwrap();
    let out = update(&t);
    assert!(out.stderr.contains("0 added, 0 dropped"), "{}", out.stderr);
    assert_eq!(std::fs::read(&base).unwrap(), before);
    t.ks().args(["scan", ".", "--baseline"]).arg(&base).run(0);
}

#[test]
fn baseline_survives_a_line_move() {
    let (t, base) = baselined("baseline_line_move");
    t.write(
        "config.env",
        format!("# header\n\n\nregion=eu\ndebug=0\naws_id: {AWS_1}\n"),
    );
    t.commit("move the key line");
    assert_clean(&t, &base);
}

#[test]
fn baseline_survives_a_rename() {
    let (t, base) = baselined("baseline_rename");
    t.git(&["mv", "config.env", "settings.env"]);
    t.commit("rename");
    assert_clean(&t, &base);
}

#[test]
fn baseline_survives_a_rebase() {
    let (t, base) = baselined("baseline_rebase");
    // The secret's commit lives on a branch that is rebased onto a new base.
    t.git(&["checkout", "-q", "-b", "feature", "HEAD~1"]);
    t.write("feature.env", format!("x=1\naws_id: {AWS_1}\n"));
    let old = t.commit("feature work");
    t.git(&["checkout", "-q", "main"]);
    t.write("base.txt", "new base\n");
    t.commit("new base commit");
    t.git(&["rebase", "-q", "main", "feature"]);
    let new = t.head();
    assert_ne!(old, new);
    assert_eq!(
        t.git(&["rev-parse", "HEAD~1"]),
        t.git(&["rev-parse", "main"])
    );
    assert_clean(&t, &base);
}

#[test]
fn baseline_survives_a_squash() {
    let (t, base) = baselined("baseline_squash");
    t.write(
        "config.env",
        format!("region=us\naws_id: {AWS_1}\ndebug=0\n"),
    );
    t.commit("edit 1");
    t.write("other.txt", "x\n");
    t.commit("edit 2");
    t.git(&["reset", "--soft", "HEAD~3"]);
    t.commit("squashed");
    assert_eq!(t.git(&["rev-list", "--count", "HEAD"]), "2");
    assert_clean(&t, &base);
}

#[test]
fn baseline_survives_a_cherry_pick() {
    let (t, base) = baselined("baseline_cherry_pick");
    let secret_commit = t.head();
    t.git(&["checkout", "-q", "-b", "release", "HEAD~1"]);
    t.write("release.txt", "r\n");
    t.commit("release prep");
    t.git(&["cherry-pick", &secret_commit]);
    assert_ne!(t.head(), secret_commit);
    assert_clean(&t, &base);
}

#[test]
fn a_changed_secret_on_a_baselined_line_is_reported() {
    let (t, base) = baselined("baseline_changed_secret");
    t.write(
        "config.env",
        format!("region=eu\naws_id: {AWS_4}\ndebug=0\n"),
    );
    t.commit("rotate the key");
    let doc = t
        .ks()
        .args(["scan", "--git", "-f", "json", "--baseline"])
        .arg(&base)
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_4]));
    assert_eq!(doc["findings"][0]["line"], 2);
    assert_eq!(doc["summary"]["baselined"], 1);
    // And in the staged change that makes it.
    t.write(
        "config.env",
        format!("region=eu\naws_id: {AWS_3}\ndebug=0\n"),
    );
    t.git(&["add", "-A"]);
    let doc = t
        .ks()
        .args(["protect", "--staged", "-f", "json", "--baseline"])
        .arg(&base)
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_3]));
}

// ------------------------------------------------------------ .keysweepignore

#[test]
fn keysweepignore_is_honoured_by_protect_and_hook() {
    let t = GitTest::new("keysweepignore_protect");
    t.write(".keysweepignore", "fixtures/\n*.sample\n");
    t.write("README.md", "# demo\n");
    t.commit("c1");
    t.write("fixtures/creds.env", format!("aws_id: {AWS_1}\n"));
    t.write("conf/app.env.sample", format!("token: {GH_1}\n"));
    t.git(&["add", "-A"]);
    t.ks().args(["protect", "--staged"]).run(0);
    // Even when a hook framework names the files explicitly.
    t.ks()
        .args(["hook", "fixtures/creds.env", "conf/app.env.sample"])
        .run(0);
    // A file that is not ignored is still reported, alongside.
    t.write("src/real.env", format!("aws_id: {AWS_2}\n"));
    t.git(&["add", "-A"]);
    let doc = t
        .ks()
        .args(["protect", "--staged", "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_2]));
    let out = t
        .ks()
        .args(["hook", "fixtures/creds.env", "src/real.env"])
        .run(1);
    assert!(out.stdout.contains("src/real.env"), "{}", out.stdout);
    assert!(!out.stdout.contains("fixtures/creds.env"), "{}", out.stdout);
    // The hook only looks at the files it is given.
    t.ks().args(["hook", "README.md"]).run(0);
    // --pre-push honours it too.
    t.commit("c2");
    let doc = t
        .ks()
        .args(["protect", "--pre-push", "-f", "json"])
        .run(1)
        .json();
    assert_eq!(ids(&doc), expect(&[AWS_2]));
}
