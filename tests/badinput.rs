//! Bad input (issue 8): every case states the message the user sees and the
//! exit code (0 clean, 1 findings, 2 error), and that keysweep neither hangs
//! nor crashes.
//!
//! Permission tests need a process that `chmod 000` actually stops. Tests
//! often run as root, which reads anything through `CAP_DAC_OVERRIDE`; then
//! keysweep runs under `setpriv` without the DAC capabilities, and when that
//! is not possible either, only the assertions that need the denial are
//! skipped (with a note on stderr).

use crate::util::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `keysweep` command in `dir`, like `Dir::command` but a plain `Command`
/// (for timeouts, signals and privilege dropping).
fn keysweep(dir: &Path, prefix: &[String]) -> Command {
    let mut cmd = match prefix.split_first() {
        None => Command::new(env!("CARGO_BIN_EXE_keysweep")),
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(env!("CARGO_BIN_EXE_keysweep"));
            c
        }
    };
    cmd.current_dir(dir)
        .env_remove("KEYSWEEP_FINGERPRINT_KEY")
        .env_remove("KEYSWEEP_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits for `child` at most `limit`; kills it and fails the test on timeout.
fn wait_limited(mut child: Child, limit: Duration, what: &str) -> Out {
    let start = Instant::now();
    // Drain the pipes on threads so a chatty child never blocks on them.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).unwrap();
        v
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?} (hangs?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8(t_out.join().unwrap()).unwrap();
    let stderr = String::from_utf8(t_err.join().unwrap()).unwrap();
    let code = status.code().unwrap_or_else(|| {
        panic!(
            "{what}: killed by signal {:?}\n{stdout}\n{stderr}",
            status.signal()
        )
    });
    Out {
        code,
        stdout,
        stderr,
    }
}

/// Runs keysweep with `args` in `dir` (at most 60 s) and asserts the exit code.
fn run(dir: &Path, prefix: &[String], args: &[&str], code: i32) -> Out {
    let child = keysweep(dir, prefix).args(args).spawn().unwrap();
    let out = wait_limited(child, Duration::from_secs(60), &format!("{args:?}"));
    assert_eq!(
        out.code, code,
        "keysweep {args:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.stdout, out.stderr
    );
    out
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("run mkfifo");
    assert!(st.success(), "mkfifo {}", p.display());
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// How to run keysweep so that `chmod 000` denies it: `Some(prefix)` (empty
/// when this process is already unprivileged), `None` when impossible here.
fn unprivileged(dir: &Path) -> Option<Vec<String>> {
    let probe = dir.join(".probe");
    std::fs::write(&probe, "x").unwrap();
    chmod(&probe, 0o000);
    let readable = std::fs::read(&probe).is_ok();
    let prefix: Vec<String> = [
        "setpriv",
        "--inh-caps=-all",
        "--bounding-set=-dac_override,-dac_read_search",
    ]
    .map(String::from)
    .to_vec();
    let result = if !readable {
        Some(Vec::new())
    } else {
        // Root: try dropping the capabilities that bypass file permissions.
        let denied = Command::new(&prefix[0])
            .args(&prefix[1..])
            .arg("cat")
            .arg(&probe)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|st| st.code() == Some(1));
        denied.then_some(prefix)
    };
    chmod(&probe, 0o600);
    std::fs::remove_file(&probe).unwrap();
    if result.is_none() {
        eprintln!("note: running with privileges that chmod 000 cannot stop; permission assertions skipped");
    }
    result
}

fn plant_aws(dir: &Dir, rel: &str) -> PathBuf {
    dir.create(rel, format!("AWS_ACCESS_KEY_ID={AWS_ID}\n"))
}

// ------------------------------------------------------------ missing paths

kstest!(nonexistent_path_exits_2, |dir: Dir, _cmd: TestCommand| {
    plant_aws(&dir, "real.env");
    let out = run(
        dir.path(),
        &[],
        &["scan", "real.env", "missing/nope.txt"],
        2,
    );
    assert!(
        out.stderr
            .contains("error: missing/nope.txt: no such file or directory\n"),
        "{}",
        out.stderr
    );
    // The other path was still scanned and reported.
    assert!(out.stdout.contains("real.env"), "{}", out.stdout);
    assert!(out.stdout.contains("1 error"), "{}", out.stdout);
});

// ------------------------------------------------------------ permissions

kstest!(
    unreadable_file_and_dir_while_walking_warn_and_continue,
    |dir: Dir, _cmd: TestCommand| {
        plant_aws(&dir, "tree/ok/a.env");
        let locked_file = plant_aws(&dir, "tree/locked.env");
        dir.create("tree/locked-dir/inner.env", "nothing\n");
        let locked_dir = dir.path().join("tree/locked-dir");
        let prefix = unprivileged(dir.path());
        chmod(&locked_file, 0o000);
        chmod(&locked_dir, 0o000);
        let p = prefix.clone().unwrap_or_default();
        // Exit by findings (1): the readable secret; warnings do not fail the run.
        let out = run(dir.path(), &p, &["scan", "tree"], 1);
        chmod(&locked_dir, 0o755);
        chmod(&locked_file, 0o644);
        assert!(out.stdout.contains("tree/ok/a.env"), "{}", out.stdout);
        if prefix.is_some() {
            assert!(
                out.stderr
                    .contains("warning: tree/locked.env: Permission denied"),
                "{}",
                out.stderr
            );
            assert!(
                out.stderr
                    .contains("warning: tree/locked-dir: Permission denied"),
                "{}",
                out.stderr
            );
            assert!(!out.stderr.contains("error:"), "{}", out.stderr);
            assert!(out.stdout.contains("2 errors"), "{}", out.stdout);
        }
    }
);

kstest!(
    unreadable_named_file_exits_2,
    |dir: Dir, _cmd: TestCommand| {
        let f = plant_aws(&dir, "locked.env");
        let prefix = unprivileged(dir.path());
        chmod(&f, 0o000);
        let Some(prefix) = prefix else {
            chmod(&f, 0o644);
            return;
        };
        let out = run(dir.path(), &prefix, &["scan", "locked.env"], 2);
        chmod(&f, 0o644);
        assert!(
            out.stderr
                .contains("error: locked.env: Permission denied (os error 13)\n"),
            "{}",
            out.stderr
        );
    }
);

kstest!(
    unreadable_named_dir_exits_2,
    |dir: Dir, _cmd: TestCommand| {
        plant_aws(&dir, "locked/a.env");
        plant_aws(&dir, "open/b.env");
        let d = dir.path().join("locked");
        let prefix = unprivileged(dir.path());
        chmod(&d, 0o000);
        let Some(prefix) = prefix else {
            chmod(&d, 0o755);
            return;
        };
        // A named directory that cannot be listed fails the run, like a named file
        // (it used to be a walk warning with exit 0); the other path is scanned.
        let out = run(dir.path(), &prefix, &["scan", "locked", "open"], 2);
        chmod(&d, 0o755);
        assert!(
            out.stderr
                .contains("error: locked: Permission denied (os error 13)\n"),
            "{}",
            out.stderr
        );
        assert!(out.stdout.contains("open/b.env"), "{}", out.stdout);
    }
);

// ------------------------------------------------------------ special files

kstest!(
    symlink_loop_with_follow_warns_and_completes,
    |dir: Dir, _cmd: TestCommand| {
        plant_aws(&dir, "tree/sub/a.env");
        std::os::unix::fs::symlink("..", dir.path().join("tree/sub/up")).unwrap();
        std::os::unix::fs::symlink("self", dir.path().join("tree/self")).unwrap();
        let out = run(dir.path(), &[], &["scan", "-L", "tree"], 1);
        assert!(
            out.stderr
                .contains("warning: File system loop found: tree/sub/up points to an ancestor"),
            "{}",
            out.stderr
        );
        // The self-referencing link is reported, not followed forever.
        assert!(out.stderr.contains("tree/self"), "{}", out.stderr);
        assert!(out.stdout.contains("tree/sub/a.env"), "{}", out.stdout);
        // Without -L, links are not followed and nothing is wrong.
        let out = run(dir.path(), &[], &["scan", "tree"], 1);
        assert_eq!(out.stderr, "");
    }
);

kstest!(
    fifo_named_exits_2_without_opening_it,
    |dir: Dir, _cmd: TestCommand| {
        mkfifo(&dir.path().join("pipe"));
        // Opening a FIFO with no writer would block forever: the 60 s limit
        // of `run` catches a hang.
        let out = run(dir.path(), &[], &["scan", "pipe"], 2);
        assert_eq!(
            out.stderr,
            "error: pipe: not a regular file (FIFO, socket or device); not scanned\n"
        );
    }
);

kstest!(
    fifo_and_socket_inside_walked_dir_are_skipped,
    |dir: Dir, _cmd: TestCommand| {
        plant_aws(&dir, "tree/a.env");
        mkfifo(&dir.path().join("tree/pipe"));
        let _sock = std::os::unix::net::UnixListener::bind(dir.path().join("tree/sock")).unwrap();
        let out = run(dir.path(), &[], &["scan", "tree"], 1);
        assert_eq!(out.stderr, "");
        assert!(
            out.stdout.contains("scanned 1 file (0.0 MiB)"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("2 skipped"), "{}", out.stdout);
        // A named socket is an error like a named FIFO.
        let out = run(dir.path(), &[], &["scan", "tree/sock"], 2);
        assert!(
            out.stderr.contains("error: tree/sock: not a regular file"),
            "{}",
            out.stderr
        );
    }
);

kstest!(dev_files_named_exit_2, |dir: Dir, _cmd: TestCommand| {
    for dev in ["/dev/null", "/dev/zero", "/dev/urandom"] {
        // /dev/zero and /dev/urandom never end: reading them would hang.
        let out = run(dir.path(), &[], &["scan", dev], 2);
        assert_eq!(
            out.stderr,
            format!("error: {dev}: not a regular file (FIFO, socket or device); not scanned\n")
        );
    }
});

// ------------------------------------------------------------ size

kstest!(
    sparse_4gib_file_is_skipped_without_reading,
    |dir: Dir, _cmd: TestCommand| {
        let p = plant_aws(&dir, "tree/huge.bin");
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(4 << 30).unwrap(); // sparse: no disk space, no time
        drop(f);
        let start = Instant::now();
        let note = "note: skipped tree/huge.bin: file of 4294967296 bytes exceeds --max-file-size 67108864\n";
        // Walked and named alike: skipped by the 64 MiB default, with a note.
        let out = run(dir.path(), &[], &["scan", "tree"], 0);
        assert_eq!(out.stderr, note);
        assert!(out.stdout.contains("1 skipped"), "{}", out.stdout);
        let out = run(dir.path(), &[], &["scan", "tree/huge.bin"], 0);
        assert_eq!(out.stderr, note);
        // With a limit above its size, the walked file is mapped and its first
        // 64 KiB hold NULs, so it is skipped as binary without reading the rest.
        let out = run(
            dir.path(),
            &[],
            &["scan", "--max-file-size", "5G", "tree"],
            0,
        );
        assert!(out.stdout.contains("1 skipped"), "{}", out.stdout);
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
    }
);

kstest!(
    hundred_mb_single_line_finds_secret_at_end,
    |dir: Dir, _cmd: TestCommand| {
        // One 100 MiB line without a newline, the secret at its very end. In
        // a debug build this takes about 3 s of CPU (memory-mapped; also read
        // with --no-mmap below on a 20 MiB line, to keep the suite quick).
        const N: usize = 100 << 20;
        let mut f = std::fs::File::create(dir.path().join("line.txt")).unwrap();
        let chunk = "ab cd = x;".repeat(1 << 16);
        let mut written = 0;
        while written < N {
            f.write_all(chunk.as_bytes()).unwrap();
            written += chunk.len();
        }
        write!(f, " {AWS_ID}").unwrap();
        drop(f);
        let out = run(
            dir.path(),
            &[],
            &[
                "scan",
                "--max-file-size",
                "200M",
                "--format",
                "jsonl",
                "line.txt",
            ],
            1,
        );
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
        assert_eq!(v["rule_id"], "ks.aws.1");
        assert_eq!(v["line"], 1);
        assert_eq!(v["column"].as_u64().unwrap() as usize, written + 2);
        assert!(v["snippet"].as_str().unwrap().len() < 400);
        std::fs::remove_file(dir.path().join("line.txt")).unwrap();
        let line = format!("{}{AWS_ID}", "x= ".repeat(7 << 20));
        dir.create("line20.txt", &line);
        let out = run(
            dir.path(),
            &[],
            &["scan", "--no-mmap", "--format", "jsonl", "line20.txt"],
            1,
        );
        assert!(out.stdout.contains("\"column\":22020097"), "{}", out.stdout);
    }
);

// ------------------------------------------------------------ encodings and binaries

kstest!(
    invalid_utf8_text_is_scanned,
    |dir: Dir, _cmd: TestCommand| {
        let mut data = b"caf\xe9 \xff\xfe\x80 = ".to_vec();
        data.extend_from_slice(AWS_ID.as_bytes());
        data.extend_from_slice(b"\n\xc3\x28 tail\n");
        std::fs::write(dir.path().join("latin1.txt"), &data).unwrap();
        let out = run(dir.path(), &[], &["scan", "--format", "json", "."], 1);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let f = &v["findings"][0];
        assert_eq!(f["rule_id"], "ks.aws.1");
        // Each byte of invalid UTF-8 counts as one column.
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(1), Some(12))
        );
        assert_eq!(
            f["snippet"],
            "caf\u{fffd} \u{fffd}\u{fffd}\u{fffd} = AKIA*****"
        );
    }
);

kstest!(utf16_text_is_decoded, |dir: Dir, _cmd: TestCommand| {
    // UTF-16LE with a BOM (as PowerShell writes it) is transcoded, not
    // skipped as binary: found when walked and when named, on its line.
    let text = format!("\u{feff}# keys\r\nAWS_ACCESS_KEY_ID={AWS_ID}\r\n");
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    std::fs::write(dir.path().join("utf16.txt"), &utf16).unwrap();
    let out = run(dir.path(), &[], &["scan", "."], 1);
    assert!(out.stdout.contains("utf16.txt"), "{}", out.stdout);
    assert!(out.stdout.contains("  2:19  high "), "{}", out.stdout);
    let out = run(dir.path(), &[], &["scan", "utf16.txt"], 1);
    assert!(out.stdout.contains("ks.aws.1"), "{}", out.stdout);
    // Invalid UTF-16 (an unpaired surrogate) is replaced, never an error.
    let mut bad = utf16.clone();
    bad.extend([0x00, 0xD8, b'x', 0]);
    std::fs::write(dir.path().join("utf16.txt"), &bad).unwrap();
    let out = run(dir.path(), &[], &["scan", "utf16.txt"], 1);
    assert!(out.stdout.contains("ks.aws.1"), "{}", out.stdout);
});

kstest!(
    nul_heavy_binary_skipped_when_walked_scanned_when_named,
    |dir: Dir, _cmd: TestCommand| {
        let mut data = vec![0u8; 200_000];
        for (i, b) in data.iter_mut().enumerate() {
            if i % 3 == 0 {
                *b = (i % 251) as u8;
            }
        }
        data.extend_from_slice(format!("\nAWS_ACCESS_KEY_ID={AWS_ID}\n").as_bytes());
        data.extend(std::iter::repeat_n(0u8, 1000));
        std::fs::write(dir.path().join("blob.bin"), &data).unwrap();
        let out = run(dir.path(), &[], &["scan", "."], 0);
        assert!(out.stdout.contains("1 skipped"), "{}", out.stdout);
        let out = run(dir.path(), &[], &["scan", "blob.bin"], 1);
        assert!(out.stdout.contains("ks.aws.1"), "{}", out.stdout);
        run(dir.path(), &[], &["scan", "--binary", "."], 1);
    }
);

kstest!(
    many_tiny_files_are_all_counted,
    |dir: Dir, _cmd: TestCommand| {
        // 20,000 rather than 100,000 files: creating them dominates the debug
        // suite's time; 100,000 were checked by hand (see BENCHMARKS.md).
        const N: usize = 20_000;
        for d in 0..100 {
            let sub = dir.create_dir(&format!("t/d{d:02}"));
            for i in 0..N / 100 {
                std::fs::write(sub.join(format!("f{i}.txt")), format!("line {d} {i}\n")).unwrap();
            }
        }
        plant_aws(&dir, "t/d42/secret.env");
        let out = run(dir.path(), &[], &["scan", "--format", "json", "t"], 1);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["summary"]["files"], N as u64 + 1);
        assert_eq!(v["summary"]["errors"], 0);
        assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    }
);

// ------------------------------------------------------------ malformed configuration

kstest!(
    malformed_rule_file_names_position,
    |dir: Dir, _cmd: TestCommand| {
        dir.create("t/a.txt", "x\n");
        dir.create(
        "bad.toml",
        "[[rules]]\nid = \"ks.x.1\"\nname = \"x\"\nkind = \"x\"\nseverity = \"high\"\nkeywords = [\"x_\"]\nregex = '''(x_'''\nexamples = []\nnegative_examples = []\n",
    );
        let out = run(dir.path(), &[], &["scan", "--rules", "bad.toml", "t"], 2);
        assert!(
            out.stderr
                .starts_with("error: bad.toml:7:9: rule ks.x.1, field regex:"),
            "{}",
            out.stderr
        );
        dir.create("syntax.toml", "[[rules]]\nid = \"ks.x.1\"\nname = \n");
        let out = run(dir.path(), &[], &["scan", "--rules", "syntax.toml", "t"], 2);
        assert!(
            out.stderr.starts_with("error: syntax.toml:3:"),
            "{}",
            out.stderr
        );
        std::fs::write(dir.path().join("latin1.toml"), b"# caf\xe9\n[[rules]]\n").unwrap();
        let out = run(dir.path(), &[], &["scan", "--rules", "latin1.toml", "t"], 2);
        assert_eq!(
            out.stderr,
            "error: latin1.toml:1:6: rule file is not valid UTF-8\n"
        );
        // The same for `rules check`.
        let out = run(dir.path(), &[], &["rules", "check", "syntax.toml"], 2);
        assert!(out.stderr.contains("syntax.toml:3:"), "{}", out.stderr);
    }
);

kstest!(
    malformed_gitleaks_config_names_position,
    |dir: Dir, _cmd: TestCommand| {
        dir.create("t/a.txt", "x\n");
        dir.create(
            "gl.toml",
            "title = \"x\"\n[[rules]]\nid = \"a\"\n[allowlist\n",
        );
        let out = run(
            dir.path(),
            &[],
            &["scan", "--gitleaks-config", "gl.toml", "t"],
            2,
        );
        assert!(
            out.stderr
                .starts_with("error: gl.toml:4:11: malformed gitleaks config:"),
            "{}",
            out.stderr
        );
        // Picked up automatically at the scanned root: named the same way.
        dir.create(
            "t/.gitleaks.toml",
            "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n",
        );
        let out = run(dir.path(), &[], &["scan", "t"], 2);
        assert!(
            out.stderr
                .starts_with("error: t/.gitleaks.toml:1: rule x, field regex: invalid regex"),
            "{}",
            out.stderr
        );
    }
);

kstest!(
    malformed_baseline_names_position,
    |dir: Dir, _cmd: TestCommand| {
        plant_aws(&dir, "t/a.env");
        dir.create(
        "b.json",
        "{\n  \"version\": 1,\n  \"fingerprint_key\": \"default\",\n  \"findings\": [\n    {\"fingerprint\": 12}\n  ]\n}\n",
    );
        let out = run(dir.path(), &[], &["scan", "--baseline", "b.json", "t"], 2);
        assert!(
            out.stderr
                .starts_with("error: b.json:5:22: malformed baseline: invalid type: integer `12`"),
            "{}",
            out.stderr
        );
        dir.create("trunc.json", "{\n  \"version\": 1,\n  \"findings\": [\n");
        let out = run(
            dir.path(),
            &[],
            &["scan", "--baseline", "trunc.json", "t"],
            2,
        );
        assert!(
            out.stderr.starts_with("error: trunc.json:4:"),
            "{}",
            out.stderr
        );
        let out = run(
            dir.path(),
            &[],
            &["baseline", "update", "--baseline", "b.json", "t"],
            2,
        );
        assert!(
            out.stderr.starts_with("error: b.json:5:22:"),
            "{}",
            out.stderr
        );
        // The malformed baseline was not overwritten.
        assert!(dir.read("b.json").contains("\"fingerprint\": 12"));
    }
);

// ------------------------------------------------------------ files changing during a scan

kstest!(
    files_truncated_or_deleted_during_scan_do_not_crash,
    |dir: Dir, _cmd: TestCommand| {
        // Files below the map threshold (2 MiB) go through read(2), which sees a
        // truncated or deleted file as shorter or missing: never a crash. A
        // thread keeps truncating, rewriting and deleting files while scans
        // run; every scan must end normally (0 or 1; a vanished file is a
        // walk warning). Mapped files (2 MiB and more) truncated *while*
        // mapped can raise SIGBUS; --no-mmap reads those too, checked here
        // with a 5 MiB file.
        let body = format!(
            "{}AWS_ACCESS_KEY_ID={AWS_ID}\n",
            "filler line\n".repeat(20_000)
        );
        let big = format!("{}AWS_ACCESS_KEY_ID={AWS_ID}\n", "x".repeat(5 << 20));
        assert!((body.len() as u64) < keysweep::DEFAULT_MMAP_THRESHOLD);
        assert!((big.len() as u64) > keysweep::DEFAULT_MMAP_THRESHOLD);
        let names: Vec<PathBuf> = (0..24)
            .map(|i| dir.create(&format!("t/small/f{i}.txt"), &body))
            .collect();
        let big_path = dir.create("t/big.txt", &big);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churn = {
            let stop = stop.clone();
            let names = names.clone();
            std::thread::spawn(move || {
                let mut i = 0usize;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let p = &names[i % names.len()];
                    match i % 4 {
                        0 => drop(
                            std::fs::OpenOptions::new()
                                .write(true)
                                .open(p)
                                .map(|f| f.set_len(7)),
                        ),
                        1 => drop(std::fs::remove_file(p)),
                        2 => drop(std::fs::write(p, &body)),
                        _ => {
                            let f = std::fs::OpenOptions::new().write(true).open(&big_path);
                            drop(f.map(|f| f.set_len((i % 7 * 1000) as u64)));
                            drop(std::fs::write(&big_path, &big));
                        }
                    }
                    i += 1;
                }
            })
        };
        for run in 0..6 {
            // Default options over the small files (read, not mapped), and
            // --no-mmap over everything.
            let args: &[&str] = if run % 2 == 0 {
                &["scan", "--format", "json", "t/small"]
            } else {
                &["scan", "--no-mmap", "--format", "json", "t"]
            };
            let child = keysweep(dir.path(), &[]).args(args).spawn().unwrap();
            // `wait_limited` fails on a signal (SIGBUS, SIGSEGV) or a hang.
            let out = wait_limited(child, Duration::from_secs(60), "scan during churn");
            assert!(out.code == 0 || out.code == 1, "{out:?}");
            assert!(!out.stderr.contains("error:"), "{}", out.stderr);
            serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        churn.join().unwrap();
    }
);

// ------------------------------------------------------------ interruption

/// Temporary report files left in `dir`.
fn report_temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".keysweep-report-"))
        .collect()
}

/// Waits until the report's temporary file exists, sends SIGINT, and checks
/// that the process ended because of it and left nothing behind.
fn interrupt(dir: &Path, mut child: Child) -> bool {
    let start = Instant::now();
    while report_temps(dir).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no temporary report file appeared"
        );
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if child.try_wait().unwrap().is_some() {
        return false; // finished first: nothing to interrupt
    }
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert!(
        status.code() == Some(130) || status.signal() == Some(2),
        "{status:?}"
    );
    if status.code() == Some(130) {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(err.contains("interrupted"), "{err}");
    }
    assert!(
        !dir.join("out.json").exists(),
        "an interrupted scan left out.json"
    );
    assert_eq!(report_temps(dir), Vec::<String>::new());
    true
}

kstest!(
    interrupted_scan_leaves_no_output_file,
    |dir: Dir, _cmd: TestCommand| {
        // Deterministic: the scan waits on standard input, which stays open.
        plant_aws(&dir, "a.env");
        let mut child = keysweep(dir.path(), &[])
            .args(["scan", "--format", "jsonl", "-o", "out.json", "a.env", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        assert!(interrupt(dir.path(), child), "the scan ended by itself");
        drop(stdin);
        // Over a large tree, interrupted while walking.
        let body = "some ordinary text, nothing secret here\n".repeat(400);
        for i in 0..2000 {
            dir.create(&format!("tree/d{}/f{i}.txt", i % 30), &body);
        }
        let child = keysweep(dir.path(), &[])
            .args([
                "scan", "-j", "1", "--format", "json", "-o", "out.json", "tree",
            ])
            .spawn()
            .unwrap();
        if !interrupt(dir.path(), child) {
            eprintln!("note: the tree scan finished before it could be interrupted");
        }
    }
);

// ------------------------------------------------------------ bounded memory

kstest!(
    peak_rss_of_a_5k_file_scan_is_bounded,
    |dir: Dir, _cmd: TestCommand| {
        // BENCHMARKS.md "Memory bound": peak RSS is a fixed part plus, per
        // thread, about the largest file read; not the tree size. 5,000 files
        // of 8 KiB (40 MiB) with a finding in every 10th must stay far below
        // 150 MB even in a debug build (measured: 22 MB; 13 MB in release).
        const LIMIT_KB: u64 = 150 * 1024;
        let time = Path::new("/usr/bin/time");
        if !time.exists() {
            eprintln!("note: /usr/bin/time not found; peak RSS not measured");
            return;
        }
        let filler = "the quick brown fox jumps over the lazy dog 0123456789\n".repeat(150);
        for i in 0..5000 {
            let body = if i % 10 == 0 {
                format!("{filler}AWS_ACCESS_KEY_ID={AWS_ID}\n")
            } else {
                filler.clone()
            };
            dir.create(&format!("t/d{}/f{i}.txt", i % 50), body);
        }
        let mut cmd = Command::new(time);
        cmd.args(["-f", "%M", "-o", "rss.txt"])
            .arg(env!("CARGO_BIN_EXE_keysweep"))
            .args(["scan", "--format", "json", "-o", "report.json", "t"])
            .current_dir(dir.path())
            .env_remove("KEYSWEEP_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = wait_limited(cmd.spawn().unwrap(), Duration::from_secs(120), "rss");
        assert_eq!(out.code, 1, "{out:?}");
        // GNU time writes "Command exited with non-zero status 1" first.
        let rss = dir.read("rss.txt");
        let rss_kb: u64 = rss
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("rss.txt {rss:?}: {e}"));
        let report: serde_json::Value = serde_json::from_str(&dir.read("report.json")).unwrap();
        assert_eq!(report["summary"]["files"], 5000);
        assert_eq!(report["findings"].as_array().unwrap().len(), 500);
        eprintln!("peak RSS of scanning 5,000 files: {rss_kb} KiB");
        // The measurement is real (a process needs more than 1 MiB) ...
        assert!(rss_kb > 1024, "implausible peak RSS {rss_kb} KiB");
        // ... and bounded.
        assert!(
            rss_kb < LIMIT_KB,
            "peak RSS {rss_kb} KiB exceeds {LIMIT_KB} KiB"
        );
    }
);
