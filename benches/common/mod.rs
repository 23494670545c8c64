//! Shared corpus generation for the criterion benches (not a bench itself).
//!
//! Everything is generated in-process and deterministically (fixed seeds), so
//! runs on one machine compare. The "realistic" text is the `.rs` files of the
//! local cargo registry (`$CARGO_HOME/registry/src`), concatenated in sorted
//! path order and cycled to the wanted size; if that directory holds less than
//! 8 MiB of Rust source, synthetic code-like text is used instead.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const MIB: usize = 1024 * 1024;

/// A small deterministic PRNG (xorshift64*), so the benches need no `rand`.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick(&mut self, alphabet: &[u8]) -> u8 {
        alphabet[self.below(alphabet.len())]
    }
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| self.pick(alphabet) as char).collect()
    }
}

const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// One fake secret line with the shape of a real credential (random, never
/// valid anywhere). Cycles through AWS key ids, AWS secret keys and GitHub
/// PATs (with a correct CRC32 checksum so the engine reports them).
pub fn fake_secret_line(rng: &mut Rng, i: usize) -> String {
    match i % 3 {
        0 => format!(
            "    let aws_access_key_id = \"AKIA{}\";\n",
            rng.string(B32, 16)
        ),
        1 => format!("aws_secret_access_key = {}\n", rng.string(B64, 40)),
        _ => {
            let body = rng.string(B62, 30);
            let check = keysweep::github_checksum(body.as_bytes());
            format!("export GITHUB_TOKEN=ghp_{body}{check}\n")
        }
    }
}

fn cargo_registry_src() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let dir = home.join("registry").join("src");
    dir.is_dir().then_some(dir)
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            collect_rs(&p, out);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Up to `max` bytes of real Rust source from the cargo registry (each file
/// ends with a newline), or `None` if there is less than 8 MiB of it.
fn registry_source(max: usize) -> Option<Vec<u8>> {
    let dir = cargo_registry_src()?;
    let mut files = Vec::new();
    collect_rs(&dir, &mut files);
    files.sort();
    let mut out = Vec::with_capacity(max);
    for f in files {
        if out.len() >= max {
            break;
        }
        let Ok(data) = std::fs::read(&f) else {
            continue;
        };
        // Skip the odd binary-ish file so the text stays text.
        if data.contains(&0) {
            continue;
        }
        out.extend_from_slice(&data);
        if !data.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    (out.len() >= 8 * MIB).then_some(out)
}

/// Synthetic code-like text (identifiers, keywords, punctuation, comments).
fn synthetic_source(len: usize, rng: &mut Rng) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "fn", "let", "mut", "impl", "struct", "pub", "return", "match", "self", "Some", "None",
        "Ok", "Err", "usize", "u8", "Vec", "String", "config", "buffer", "index", "value",
        "result", "error", "handler", "request", "response", "token", "key", "path", "options",
        "len", "iter", "map", "collect", "unwrap", "clone", "into", "as_ref",
    ];
    const PUNCT: &[&str] = &[
        " = ", "(", ")", ", ", ".", "::", " { ", " }", "; ", " -> ", "&",
    ];
    let mut out = Vec::with_capacity(len + 256);
    while out.len() < len {
        let indent = rng.below(4) * 4;
        out.extend(std::iter::repeat_n(b' ', indent));
        if rng.below(10) == 0 {
            out.extend_from_slice(b"// ");
        }
        for _ in 0..(3 + rng.below(10)) {
            out.extend_from_slice(WORDS[rng.below(WORDS.len())].as_bytes());
            out.extend_from_slice(PUNCT[rng.below(PUNCT.len())].as_bytes());
        }
        out.push(b'\n');
    }
    out.truncate(len);
    out
}

/// Where the corpus came from, for the bench log.
pub enum Source {
    Registry,
    Synthetic,
}

/// Source text of exactly `len` bytes: the registry's Rust files cycled (or
/// synthetic text), without planted secrets.
pub fn source_text(len: usize) -> (Vec<u8>, Source) {
    let (base, src) = match registry_source(len) {
        Some(b) => (b, Source::Registry),
        None => (synthetic_source(len, &mut Rng::new(7)), Source::Synthetic),
    };
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let take = (len - out.len()).min(base.len());
        out.extend_from_slice(&base[..take]);
    }
    (out, src)
}

/// Inserts `n` fake secret lines at evenly spread line starts of `text`,
/// keeping its length (the text is trimmed at the end). Returns the count.
pub fn plant_secrets(text: &mut Vec<u8>, n: usize, seed: u64) -> usize {
    let len = text.len();
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + n * 128);
    let step = len / (n + 1);
    let mut pos = 0;
    for i in 0..n {
        let target = step * (i + 1);
        // Next line start at or after `target`.
        let at = match memchr::memchr(b'\n', &text[target..]) {
            Some(j) => target + j + 1,
            None => len,
        };
        out.extend_from_slice(&text[pos..at]);
        out.extend_from_slice(fake_secret_line(&mut rng, i).as_bytes());
        pos = at;
    }
    out.extend_from_slice(&text[pos..]);
    out.truncate(len);
    *text = out;
    n
}

/// A realistic buffer of `len` bytes with `secrets` planted fake secrets.
pub fn corpus(len: usize, secrets: usize) -> (Vec<u8>, Source) {
    let (mut text, src) = source_text(len);
    plant_secrets(&mut text, secrets, 0x5eed);
    (text, src)
}

/// Splits `text` into `count` chunks of 1–4 KiB (cut at line ends where
/// possible), each with a fake secret planted in one of every `every` files.
pub fn small_files(text: &[u8], count: usize, every: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(42);
    let mut files = Vec::with_capacity(count);
    let mut pos = 0;
    for i in 0..count {
        let want = 1024 + rng.below(3 * 1024 + 1);
        if pos + want > text.len() {
            pos = 0;
        }
        let mut end = pos + want;
        if let Some(j) = memchr::memrchr(b'\n', &text[pos..end]) {
            if j > want / 2 {
                end = pos + j + 1;
            }
        }
        let mut f = text[pos..end].to_vec();
        if every > 0 && i % every == 0 {
            let line = fake_secret_line(&mut rng, i / every);
            let at = f.len() / 2;
            let at = memchr::memchr(b'\n', &f[at..]).map_or(f.len(), |j| at + j + 1);
            f.splice(at..at, line.bytes());
        }
        files.push(f);
        pos = end;
    }
    files
}

/// Writes `files` into `dir` as `dNN/fNNNNN.rs` (100 files per directory).
/// Returns the total number of bytes written.
pub fn write_tree(dir: &Path, files: &[Vec<u8>]) -> u64 {
    let mut total = 0;
    for (i, f) in files.iter().enumerate() {
        let sub = dir.join(format!("d{:03}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        std::fs::write(sub.join(format!("f{i:05}.rs")), f).unwrap();
        total += f.len() as u64;
    }
    total
}

/// A temporary directory under cargo's per-target tmp dir (on the same file
/// system as `target/`, not a tmpfs), removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    tempfile::Builder::new()
        .prefix("keysweep-bench-")
        .tempdir_in(base)
        .unwrap()
}

/// Reads every file under `dir` once, so later runs measure a warm page cache.
pub fn warm(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            warm(&p);
        } else {
            let _ = std::fs::read(&p);
        }
    }
}
