//! The hooks of `.pre-commit-hooks.yaml`, run by the real pre-commit framework
//! (<https://pre-commit.com>) against a throwaway clone of this repository.
//!
//! These tests need `pre-commit` on `PATH` or in `$KEYSWEEP_VENV/bin`; without
//! it they are skipped, unless `KEYSWEEP_REQUIRE_SERVERS=1` or
//! `KEYSWEEP_REQUIRE_PRECOMMIT=1`, which turn a missing pre-commit into a
//! failure. The `language: rust` hook makes pre-commit run `cargo install` of
//! this repository (minutes), so it also needs `KEYSWEEP_TEST_PRECOMMIT_RUST=1`;
//! pre-commit's store is `$HOME/.cache/keysweep/pre-commit` (reused while this
//! repository's `HEAD` is unchanged) and cargo's target directory
//! `$HOME/.cache/keysweep/pre-commit-target` (so a new `HEAD` recompiles only what changed).

use crate::git::{GitTest, AWS_1, GH_1};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// This repository (the root package's manifest directory).
const SOURCE: &str = env!("CARGO_MANIFEST_DIR");

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn required() -> bool {
    flag("KEYSWEEP_REQUIRE_SERVERS") || flag("KEYSWEEP_REQUIRE_PRECOMMIT")
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// `pre-commit` from `$KEYSWEEP_VENV/bin`, else from `PATH`.
fn find_precommit() -> Option<PathBuf> {
    let name = if cfg!(windows) {
        "pre-commit.exe"
    } else {
        "pre-commit"
    };
    if let Some(venv) = std::env::var_os("KEYSWEEP_VENV") {
        let bin = if cfg!(windows) { "Scripts" } else { "bin" };
        let p = Path::new(&venv).join(bin).join(name);
        if is_executable(&p) {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// pre-commit, or `None` (skip) when it is missing and not required; panics
/// when it is missing and required.
fn precommit(test: &str) -> Option<PathBuf> {
    match find_precommit() {
        Some(p) => Some(p),
        None if required() => panic!(
            "{test}: pre-commit is required (KEYSWEEP_REQUIRE_SERVERS / KEYSWEEP_REQUIRE_PRECOMMIT) \
             but is not on PATH or in $KEYSWEEP_VENV/bin; install it with `pip install pre-commit`"
        ),
        None => {
            eprintln!("skipping {test}: pre-commit is not on PATH or in $KEYSWEEP_VENV/bin");
            None
        }
    }
}

/// The user's real home (the tests give git a temporary one).
fn real_home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Environment for pre-commit (and the git that runs its hook): the isolated
/// git environment, a pre-commit store, `PATH` with `path_first` in front,
/// and toolchain locations that would otherwise follow the temporary `HOME`.
fn tool_env(t: &GitTest, cmd: &mut Command, store: &Path, path_first: Option<&Path>) {
    tool_env_with_target(t, cmd, store, path_first, None)
}

/// [`tool_env`], with cargo's target directory (`None`: cargo's default).
fn tool_env_with_target(
    t: &GitTest,
    cmd: &mut Command,
    store: &Path,
    path_first: Option<&Path>,
    target: Option<&Path>,
) {
    t.isolate(cmd);
    let mut dirs: Vec<PathBuf> = path_first.map(Path::to_path_buf).into_iter().collect();
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    let path: OsString = std::env::join_paths(dirs).expect("PATH");
    cmd.env("PATH", path)
        .env("PRE_COMMIT_HOME", store)
        .env("PRE_COMMIT_COLOR", "never")
        .env_remove("PRE_COMMIT_ALLOW_NO_CONFIG");
    match target {
        Some(dir) => cmd.env("CARGO_TARGET_DIR", dir),
        // Never the target directory of the `cargo test` running us.
        None => cmd.env_remove("CARGO_TARGET_DIR"),
    };
    if let Some(home) = real_home() {
        for (var, dir) in [
            ("CARGO_HOME", ".cargo"),
            ("RUSTUP_HOME", ".rustup"),
            ("PYENV_ROOT", ".pyenv"),
        ] {
            if std::env::var_os(var).is_none() && home.join(dir).is_dir() {
                cmd.env(var, home.join(dir));
            }
        }
    }
}

/// Runs `cmd`; returns (success, stdout + stderr).
fn run(mut cmd: Command) -> (bool, String) {
    let out = cmd.output().expect("spawn");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The commit of this repository that the hook repository is pinned to.
fn source_rev(t: &GitTest) -> String {
    t.git_in(Path::new(SOURCE), &["rev-parse", "HEAD"])
}

/// Writes `.pre-commit-config.yaml` using hook `id` from `repo` at `rev`,
/// with a README, and commits both (without any hook installed yet).
fn configure(t: &GitTest, repo: &Path, rev: &str, id: &str) {
    t.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {id}\n",
            repo.display()
        ),
    );
    t.write("README.md", "# demo\n");
    t.commit("configure pre-commit");
}

/// The checks shared by both hooks: `pre-commit run --files`, then
/// `pre-commit install` and real `git commit`s.
fn exercise(t: &GitTest, exe: &Path, store: &Path, path_first: Option<&Path>, name: &str) {
    let pc = |args: &[&str]| {
        let mut cmd = Command::new(exe);
        cmd.current_dir(t.root()).args(args);
        tool_env(t, &mut cmd, store, path_first);
        run(cmd)
    };
    let git = |args: &[&str]| {
        let mut cmd = t.git_command(t.root());
        cmd.args(args);
        tool_env(t, &mut cmd, store, path_first);
        run(cmd)
    };

    t.write("deploy.env", format!("region=eu\naws_id: {AWS_1}\n"));
    t.git(&["add", "deploy.env"]);
    let (ok, text) = pc(&["run", "--files", "deploy.env"]);
    assert!(!ok, "pre-commit passed a staged secret:\n{text}");
    assert!(text.contains(name), "{text}");
    assert!(text.contains("Failed"), "{text}");
    assert!(text.contains("deploy.env"), "{text}");
    assert!(text.contains("ks.aws.1"), "{text}");
    assert!(text.contains("keysweep blocked this commit"), "{text}");
    assert!(!text.contains(&AWS_1[4..]), "raw secret in:\n{text}");
    // Only the files pre-commit passes are looked at.
    let (ok, text) = pc(&["run", "--files", "README.md"]);
    assert!(ok, "{text}");
    assert!(text.contains("Passed"), "{text}");

    let (ok, text) = pc(&["install"]);
    assert!(ok, "{text}");
    assert!(t.root().join(".git/hooks/pre-commit").is_file());
    let before = t.head();
    let (ok, text) = git(&["commit", "-m", "deploy config"]);
    assert!(!ok, "git commit with a secret succeeded:\n{text}");
    assert!(text.contains(name), "{text}");
    assert!(text.contains("keysweep"), "{text}");
    assert_eq!(t.head(), before);
    // `commit -a` of a tracked file that gains a token.
    t.git(&["reset", "-q"]);
    std::fs::remove_file(t.root().join("deploy.env")).unwrap();
    t.write("README.md", format!("# demo\ntoken {GH_1}\n"));
    let (ok, text) = git(&["commit", "-a", "-m", "readme"]);
    assert!(!ok, "git commit -a with a secret succeeded:\n{text}");
    assert_eq!(t.head(), before);

    t.write("README.md", "# demo\n\nclean words\n");
    t.write("src/lib.rs", "pub fn f() {}\n");
    t.git(&["add", "-A"]);
    let (ok, text) = git(&["commit", "-m", "clean"]);
    assert!(ok, "clean commit refused:\n{text}");
    assert!(text.contains("Passed"), "{text}");
    assert_ne!(t.head(), before);
}

/// `keysweep-system`: the `keysweep` on PATH (the binary under test).
#[test]
fn precommit_system_hook_refuses_secrets() {
    let Some(exe) = precommit("precommit_system_hook_refuses_secrets") else {
        return;
    };
    let t = GitTest::new("precommit_system");
    // pre-commit needs a git repository with the hook file committed.
    t.git_in(t.aux.path(), &["clone", "-q", SOURCE, "keysweep-src"]);
    let src = t.aux.path().join("keysweep-src");
    assert!(
        src.join(".pre-commit-hooks.yaml").is_file(),
        ".pre-commit-hooks.yaml is not committed in {SOURCE}"
    );
    let rev = t.git_in(&src, &["rev-parse", "HEAD"]);
    configure(&t, &src, &rev, "keysweep-system");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_keysweep")).parent().unwrap();
    let store = t.aux.path().join("pre-commit-store");
    exercise(
        &t,
        &exe,
        &store,
        Some(bin_dir),
        "keysweep (secrets, installed binary)",
    );
}

/// `keysweep`: pre-commit builds keysweep from the repository with
/// `cargo install --bins --path .` (several minutes the first time).
#[test]
fn precommit_rust_hook_builds_and_refuses_secrets() {
    const TEST: &str = "precommit_rust_hook_builds_and_refuses_secrets";
    if !flag("KEYSWEEP_TEST_PRECOMMIT_RUST") {
        eprintln!("skipping {TEST}: set KEYSWEEP_TEST_PRECOMMIT_RUST=1 to run it (slow)");
        return;
    }
    let Some(exe) = precommit(TEST) else {
        return;
    };
    let t = GitTest::new("precommit_rust");
    // pre-commit caches environments by (repo, rev): keep the repository path
    // stable so later runs at the same rev reuse the installed hook.
    let cache = real_home()
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache/keysweep");
    let store = cache.join("pre-commit");
    let src = cache.join("pre-commit-src");
    let rev = source_rev(&t);
    let fresh = || {
        let _ = std::fs::remove_dir_all(&src);
        std::fs::create_dir_all(&cache).unwrap();
        t.git_in(&cache, &["clone", "-q", SOURCE, "pre-commit-src"]);
    };
    if !src.join(".git").is_dir() {
        fresh();
    }
    // The cached clone may come from another checkout (an earlier CI clone):
    // point it at this one before fetching, and start over if that fails or
    // the revision under test is still missing.
    let (ok, _) = run({
        let mut c = t.git_command(&src);
        c.args(["remote", "set-url", "origin", SOURCE]);
        c
    });
    let ok =
        ok && run({
            let mut c = t.git_command(&src);
            c.args(["fetch", "-q", "origin"]);
            c
        })
        .0 && run({
            let mut c = t.git_command(&src);
            c.args(["cat-file", "-e", &format!("{rev}^{{commit}}")]);
            c
        })
        .0;
    if !ok {
        fresh();
    }
    t.git_in(&src, &["checkout", "-q", "--detach", &rev]);
    t.git_in(&src, &["branch", "-q", "-f", "pinned", &rev]);
    configure(&t, &src, &rev, "keysweep");

    // No keysweep of ours on PATH: the hook must use the one pre-commit built.
    let start = Instant::now();
    let (ok, text) = {
        let mut cmd = Command::new(&exe);
        cmd.current_dir(t.root()).args(["install-hooks"]);
        // A persistent target directory: a new rev recompiles only what changed.
        tool_env_with_target(
            &t,
            &mut cmd,
            &store,
            None,
            Some(&cache.join("pre-commit-target")),
        );
        run(cmd)
    };
    assert!(ok, "pre-commit install-hooks failed:\n{text}");
    eprintln!(
        "{TEST}: pre-commit install-hooks (cargo install of {rev}) took {:.1} s",
        start.elapsed().as_secs_f64()
    );
    exercise(&t, &exe, &store, None, "keysweep (secrets)");
    eprintln!("{TEST}: total {:.1} s", start.elapsed().as_secs_f64());
}
