//! Embeds every `patterns/*.toml` file of the workspace into the library, so
//! the default rules ship inside the binary and adding a rule file needs no
//! code change.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    // Inside the workspace the rule files live at `<root>/patterns`; a packaged
    // crate carries its own copy under `patterns/`.
    let candidates = [manifest.join("../../patterns"), manifest.join("patterns")];
    let dir = candidates.iter().find(|p| p.is_dir());
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(dir) = dir {
        println!("cargo:rerun-if-changed={}", dir.display());
        for entry in fs::read_dir(dir).expect("read patterns directory") {
            let path = entry.expect("read patterns entry").path();
            if path.extension().and_then(|e| e.to_str()) == Some("toml") {
                println!("cargo:rerun-if-changed={}", path.display());
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// The embedded default rule files: (file name, TOML text), sorted by name.\n\
         pub(crate) static DEFAULT_RULE_FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let canonical = fs::canonicalize(path).unwrap();
        let name = Path::new(path.file_name().unwrap()).display().to_string();
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            format!("patterns/{name}"),
            canonical.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("default_rules.rs");
    fs::write(dest, out).unwrap();
}
