//! `keysweep rotate` end to end, against the real servers `scripts/servers`
//! starts (moto for AWS, OpenBao for Vault, PostgreSQL). Fixtures are set up
//! and read back with `fixtures.py` (boto3 and the Vault HTTP API) and `psql`.
//!
//! Without the servers' environment variables these tests print a SKIPPED
//! line and pass, unless `KEYSWEEP_REQUIRE_SERVERS=1` (CI), where a missing
//! server fails them. Every keysweep run logs at trace level, and every test
//! checks that no secret value (old or new) appears in any output, journal or
//! plan file: the sentinel property of the rotate commands.

#[cfg(feature = "aws")]
mod aws;
#[cfg(all(feature = "aws", feature = "postgres"))]
mod aws_postgres;
#[cfg(all(feature = "vault", feature = "postgres"))]
mod openbao_postgres;

use crate::util::{Dir, Out, TestCommand};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The servers a test needs, from the environment.
pub struct Servers {
    python: PathBuf,
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

impl Servers {
    /// `None` (after a loud SKIPPED line) when a needed server is not
    /// configured; panics instead under `KEYSWEEP_REQUIRE_SERVERS=1`.
    pub fn get(test: &str, needs: &[&str]) -> Option<Servers> {
        for n in needs {
            let var = match *n {
                "moto" => "KEYSWEEP_MOTO_ENDPOINT",
                "bao" => "KEYSWEEP_BAO_ADDR",
                "postgres" => "KEYSWEEP_PG_ADMIN_URL",
                other => panic!("unknown server {other}"),
            };
            if env(var).is_none() {
                if env("KEYSWEEP_REQUIRE_SERVERS").as_deref() == Some("1") {
                    panic!("{test}: {var} is unset but KEYSWEEP_REQUIRE_SERVERS=1 (run scripts/servers start)");
                }
                eprintln!("SKIPPED: {test} needs {n} ({var} unset; scripts/servers start sets it)");
                return None;
            }
        }
        let venv = env("KEYSWEEP_VENV").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/keysweep/venv")
        });
        Some(Servers {
            python: venv.join("bin/python"),
        })
    }

    /// Runs a fixtures.py command and returns its JSON.
    pub fn py(&self, args: &[&str]) -> serde_json::Value {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rotate/fixtures.py");
        let out = Command::new(&self.python)
            .arg(script)
            .args(args)
            .output()
            .expect("run fixtures.py");
        assert!(
            out.status.success(),
            "fixtures.py {:?} failed:\n{}",
            args.first(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("fixtures.py prints JSON")
    }

    /// A keysweep command in `dir` with the rotator's credentials and trace
    /// logging.
    pub fn cmd(&self, dir: &Dir) -> TestCommand {
        let mut c = dir.command();
        c.env("KEYSWEEP_LOG", "trace")
            .env("AWS_REGION", "us-east-1");
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", "KEYSWEEP_MOTO_ACCESS_KEY_ID"),
            ("AWS_SECRET_ACCESS_KEY", "KEYSWEEP_MOTO_SECRET_ACCESS_KEY"),
            ("AWS_ENDPOINT_URL", "KEYSWEEP_MOTO_ENDPOINT"),
            ("VAULT_ADDR", "KEYSWEEP_BAO_ADDR"),
            ("VAULT_TOKEN", "KEYSWEEP_BAO_TOKEN"),
        ] {
            if let Some(val) = env(v) {
                c.env(k, &val);
            }
        }
        c.env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
        c
    }
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}{}x{}x{}",
        std::process::id(),
        nanos % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A random alphanumeric password (fake; only our test servers know it).
pub fn password(n: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    const ABC: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::new();
    while out.len() < n {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(out.len());
        let mut x = h.finish();
        for _ in 0..8 {
            out.push(ABC[(x % ABC.len() as u64) as usize] as char);
            x /= ABC.len() as u64;
        }
    }
    out.truncate(n);
    out
}

/// Every output of a test's keysweep runs, checked for secret values.
pub struct Transcript {
    secrets: Vec<String>,
    text: String,
}

impl Transcript {
    pub fn new() -> Transcript {
        Transcript {
            secrets: Vec::new(),
            text: String::new(),
        }
    }

    /// A value that must never appear.
    pub fn secret(&mut self, s: &str) {
        self.secrets.push(s.to_string());
    }

    /// Runs `cmd`, records its output, asserts the exit code.
    pub fn run(&mut self, cmd: &mut TestCommand, code: i32) -> Out {
        let out = cmd.output();
        self.text.push_str(&out.stdout);
        self.text.push_str(&out.stderr);
        assert_eq!(
            out.code, code,
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            out.stdout, out.stderr
        );
        out
    }

    /// Adds a file (a journal, a plan) to what is checked.
    pub fn file(&mut self, p: &Path) {
        self.text.push_str(
            &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        );
    }

    /// Adds every file under `dir`.
    pub fn dir(&mut self, dir: &Path) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                self.file(&p);
            }
        }
    }

    /// Asserts no recorded secret appears anywhere (and that there was
    /// trace-level output to look at).
    pub fn assert_clean(&self) {
        assert!(
            self.text.contains("TRACE") || self.text.contains("DEBUG"),
            "no log output was captured"
        );
        for s in &self.secrets {
            assert!(!s.is_empty());
            assert!(
                !self.text.contains(s.as_str()),
                "a secret value leaked into keysweep's output"
            );
        }
    }
}

/// Whether `psql` can log in with this URL.
pub fn pg_login(url: &str) -> bool {
    Command::new("psql")
        .arg(url)
        .args(["-XAtq", "-c", "select current_user"])
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("run psql")
        .status
        .success()
}

/// Runs SQL as the admin role.
pub fn pg_admin(sql: &str) {
    let url = env("KEYSWEEP_PG_ADMIN_URL").expect("admin url");
    let out = Command::new("psql")
        .arg(&url)
        .args(["-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Host and port of the PostgreSQL server.
pub fn pg_host_port() -> (String, u16) {
    let url = env("KEYSWEEP_PG_ADMIN_URL").expect("admin url");
    let after = url.rsplit_once('@').unwrap().1;
    let hp = after.split('/').next().unwrap();
    let (h, p) = hp.rsplit_once(':').unwrap();
    (h.to_string(), p.parse().unwrap())
}
