//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Find leaked credentials at high speed.
#[derive(Debug, Parser)]
#[command(
    name = "keysweep",
    version,
    about = "Find leaked credentials in files, directories, standard input and git history, block them in hooks, and rotate them.",
    propagate_version = true
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). KEYSWEEP_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

/// When to use colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// When writing to a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories or standard input (`-`) for secrets.
    Scan(ScanArgs),
    /// Block secrets before they land: scan staged changes (pre-commit) or the
    /// commits being pushed (pre-push).
    Protect(ProtectArgs),
    /// Entry point for the pre-commit framework: scans the staged content of
    /// the given files (only added or changed lines).
    Hook(HookArgs),
    /// Write a plain `.git/hooks/pre-commit` (or pre-push) that runs keysweep.
    InstallHook(InstallHookArgs),
    /// Create or update a baseline of accepted findings.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// List and check detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Replace a leaked credential: locate it, plan, apply, finalize (AWS
    /// Secrets Manager / IAM, Vault / OpenBao, PostgreSQL).
    #[command(subcommand)]
    Rotate(Box<crate::rotate::args::RotateCommand>),
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped by file, redacted, with a summary.
    Human,
    /// One JSON document.
    Json,
    /// One JSON object per finding, streamed as found.
    Jsonl,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
}

/// Options that select rules.
#[derive(Debug, Args, Clone)]
pub struct RuleArgs {
    /// Extra rule file or directory of *.toml rule files (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in rules.
    #[arg(long)]
    pub no_default_rules: bool,
    /// Import the rules and allow-lists of a gitleaks config file. Without it,
    /// a `.gitleaks.toml` at the scanned directory's root is used (and announced).
    #[arg(long, value_name = "FILE")]
    pub gitleaks_config: Option<PathBuf>,
    /// Do not pick up a `.gitleaks.toml` automatically.
    #[arg(long)]
    pub no_gitleaks_config: bool,
    /// Look for secrets under up to N nested encodings (base64, hex,
    /// percent-encoding, \uXXXX / \xNN escapes, HTML entities); 0 turns
    /// decoding off.
    #[arg(long, value_name = "N", default_value_t = keysweep_core::DEFAULT_DECODE_DEPTH)]
    pub decode_depth: usize,
}

/// Options of git history scans.
#[derive(Debug, Args, Clone, Default)]
pub struct GitArgs {
    /// Scan git history: every blob reachable from all refs, each once. PATHs
    /// are repositories (default `.`).
    #[arg(long)]
    pub git: bool,
    /// With --git: only commits not reachable from REV.
    #[arg(
        long,
        value_name = "REV",
        requires = "git",
        conflicts_with = "log_opts"
    )]
    pub since_commit: Option<String>,
    /// With --git: a revision range such as `A..B` (or one revision: its history).
    #[arg(long, value_name = "RANGE", requires = "git")]
    pub log_opts: Option<String>,
    /// With --git: list every commit/path that introduced each secret.
    #[arg(long, requires = "git")]
    pub all_provenance: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub git: GitArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Report only findings not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE (written atomically: complete or not at all).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Scanning threads (default: one per CPU).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print raw secrets in the output (redacted by default).
    #[arg(long)]
    pub reveal: bool,
    /// Scan files that .gitignore, .ignore and .keysweepignore exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Scan binary files met while walking (named files are always scanned).
    #[arg(long)]
    pub binary: bool,
    /// Follow symbolic links while walking.
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// Skip files larger than this (e.g. 512K, 64M, 1G).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Never memory-map files (read them instead).
    #[arg(long)]
    pub no_mmap: bool,
    /// Do not open archives and compressed files (zip, jar, whl, tar, gz,
    /// bz2, xz, zst, ...); treat them as other files (binary ones are skipped).
    #[arg(long)]
    pub no_archives: bool,
    /// Open archives nested at most N levels deep (a jar in a war in a
    /// tar.gz is 3); deeper ones are skipped with a note.
    #[arg(long, value_name = "N", default_value_t = keysweep_core::DEFAULT_MAX_ARCHIVE_DEPTH)]
    pub max_archive_depth: u32,
    /// Unpack at most SIZE from one archive, all nesting levels together
    /// (e.g. 64M, 1G); what is past it is skipped with a note.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_archive_bytes: u64,
    /// Do not show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["staged", "pre_push"])))]
pub struct ProtectArgs {
    /// Scan the staged content (the index), reporting only added or changed lines.
    #[arg(long)]
    pub staged: bool,
    /// Scan the commits being pushed (`@{u}..HEAD`; without an upstream, the
    /// commits no remote-tracking branch has). As a git pre-push hook, reads
    /// the refs being pushed from standard input.
    #[arg(long)]
    pub pre_push: bool,
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// With --staged: only these paths.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Baseline of accepted findings (default: `.keysweep-baseline.json` at the
    /// repository root, if present).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Print raw secrets (redacted by default).
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// Files passed by the hook framework (their staged content is scanned).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Baseline file (default: `.keysweep-baseline.json` at the repository root, if present).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InstallHookArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Install a pre-push hook instead of a pre-commit hook.
    #[arg(long)]
    pub pre_push: bool,
    /// Replace an existing hook.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Write a new baseline of everything found now.
    Create(BaselineArgs),
    /// Add new findings to the baseline and drop ones no longer present.
    Update(BaselineArgs),
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Files or directories (or repositories with --git) to scan.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub git: GitArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The baseline file.
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "baseline",
        value_name = "FILE",
        default_value = ".keysweep-baseline.json"
    )]
    pub file: PathBuf,
    /// Scan files that ignore files exclude.
    #[arg(long)]
    pub no_ignore: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the loaded rules.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Output format (human or json).
        #[arg(short, long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Explain a rule: what it finds, its format, and what a match needs.
    Explain {
        /// The rule id (e.g. ks.github.1).
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Run every rule's examples and negative examples. With FILEs, checks only
    /// the rules in those files; otherwise the built-in rules plus --rules.
    Check {
        /// Rule files or directories to check.
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

/// Parses sizes such as `1024`, `512K`, `64M`, `1G` (binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size unit {c:?} (use K, M or G)")),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid size {s:?}"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("2K"), Ok(2048));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("x").is_err());
    }

    #[test]
    fn cli_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
