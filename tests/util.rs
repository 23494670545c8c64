//! Helpers of the CLI end-to-end tests: a temporary directory per test and a
//! `keysweep` command that runs in it.
//!
//! All secrets here are fake: AWS ids are `AKIA` plus 16 random base32
//! characters, GitHub tokens come from `scripts/gen-token.py` (random body,
//! valid checksum).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const AWS_ID: &str = "AKIAQLLJPEVG4MTWIQ2K";
pub const AWS_ID_2: &str = "AKIAZQ4ZHM7FUWVEZ57W";
pub const AWS_SECRET: &str = "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";
pub const GH_PAT: &str = "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";
pub const GH_PAT_2: &str = "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";

/// Defines a test that gets a fresh [`Dir`] and a [`TestCommand`] for
/// `keysweep` running in it:
///
/// ```ignore
/// kstest!(clean_dir_exits_0, |dir: Dir, mut cmd: TestCommand| {
///     dir.create("a.txt", "nothing\n");
///     cmd.args(["scan", "."]).run(0);
/// });
/// ```
macro_rules! kstest {
    ($(#[$attr:meta])* $name:ident, $fun:expr) => {
        #[test]
        $(#[$attr])*
        fn $name() {
            let dir = $crate::util::Dir::new(stringify!($name));
            let cmd = dir.command();
            ($fun)(dir, cmd);
        }
    };
}

/// A temporary directory, removed when dropped.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new(name: &str) -> Dir {
        let tmp = tempfile::Builder::new()
            .prefix(&format!("keysweep-test-{name}-"))
            .tempdir()
            .expect("create temp dir");
        Dir { tmp }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `contents` to `rel`, creating parent directories.
    pub fn create(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        p
    }

    pub fn create_dir(&self, rel: &str) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Names of the entries of the directory (not recursive), sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A `keysweep` command run in this directory, with a clean environment
    /// for keysweep's own variables (so fingerprints use the public key).
    pub fn command(&self) -> TestCommand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keysweep"));
        cmd.current_dir(self.path())
            .env_remove("KEYSWEEP_FINGERPRINT_KEY")
            .env_remove("KEYSWEEP_LOG")
            .env_remove("NO_COLOR");
        TestCommand { cmd, stdin: None }
    }
}

/// A `keysweep` invocation.
pub struct TestCommand {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl TestCommand {
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

    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.cmd.env(k, v);
        self
    }

    /// Feeds `data` to the command's standard input (otherwise it is empty).
    pub fn stdin(&mut self, data: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Some(data.into());
        self
    }

    /// Runs the command and returns its exit code and output.
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
        let writer = self.stdin.clone().map(|data| {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = pipe.write_all(&data);
            })
        });
        let out = child.wait_with_output().expect("wait for keysweep");
        if let Some(w) = writer {
            w.join().unwrap();
        }
        Out {
            code: out.status.code().expect("keysweep killed by a signal"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Runs the command and asserts its exit code.
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

/// The fingerprint keysweep reports for `secret` found by `rule` with the
/// built-in public key.
pub fn fingerprint(rule: &str, secret: &str) -> String {
    keysweep::FingerprintKey::default()
        .fingerprint(rule, secret.as_bytes())
        .to_hex()
}

/// The part of a secret that redaction must hide (everything after the first
/// four characters, which redaction keeps).
pub fn hidden_part(secret: &str) -> &str {
    &secret[4..]
}

/// A custom rule file matching `myco_` plus 24 lowercase letters or digits.
pub const MY_RULES: &str = r#"
[[rules]]
id = "ks.my.1"
name = "My company token"
kind = "myco-token"
severity = "medium"
keywords = ["myco_"]
regex = '''\b(?P<secret>myco_[a-z0-9]{24})\b'''
examples = ["token = myco_q8w7e6r5t4y3u2i1o0p9l8k7"]
negative_examples = ["myco_short"]
"#;

pub const MY_TOKEN: &str = "myco_z9x8c7v6b5n4m3q2w1e0r9t8";
