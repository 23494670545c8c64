//! Arguments of `keysweep rotate …`.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `keysweep rotate` subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum RotateCommand {
    /// Find where leaked values live (AWS Secrets Manager, Vault KV v2) by
    /// keyed fingerprint; prints places, never values.
    Locate(LocateArgs),
    /// Inspect the targets (read-only) and write a rotation plan.
    Plan(PlanArgs),
    /// Run a plan: re-check it, lock, create, set, test, promote, deactivate
    /// the old credential. Every step is journaled.
    Apply(ApplyArgs),
    /// Show rotations and their state, from their journals.
    Status(StatusArgs),
    /// Continue an interrupted rotation from its journal.
    Resume(IdArgs),
    /// Undo a rotation: the old value becomes current again, the old
    /// credential is reactivated, the new one revoked.
    Rollback(IdArgs),
    /// After the grace period: revoke the old credential (point of no
    /// return), check it is dead, retire the old version.
    Finalize(FinalizeArgs),
}

/// Human or machine output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RotateFormat {
    /// Terraform-like text.
    Human,
    /// JSON.
    Json,
}

/// Options every rotate subcommand takes.
#[derive(Debug, Args)]
pub struct Common {
    /// Rotation config (default: ./keysweep-rotate.toml when it exists).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where journals and lock files live (default: the config's
    /// `state_dir`, else $KEYSWEEP_STATE_DIR, else .keysweep/rotations).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RotateFormat::Human)]
    pub format: RotateFormat,
    /// AWS endpoint (e.g. a local test server); AWS_ENDPOINT_URL also works.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region (else the config, AWS_REGION or the profile's region).
    #[arg(long)]
    pub region: Option<String>,
}

/// `rotate locate`.
#[derive(Debug, Args)]
pub struct LocateArgs {
    #[command(flatten)]
    pub common: Common,
    /// Findings from `keysweep scan --format json` (or jsonl).
    #[arg(long, value_name = "FILE")]
    pub findings: PathBuf,
    /// Also search these Vault KV v2 mounts (`mount` or `mount/prefix`;
    /// repeatable), in addition to the config's `[[locate.vault]]`.
    #[arg(long = "vault-mount", value_name = "MOUNT[/PREFIX]")]
    pub vault_mounts: Vec<String>,
    /// Only AWS secrets whose name starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub aws_prefix: Option<String>,
    /// Do not search AWS Secrets Manager.
    #[arg(long)]
    pub no_aws: bool,
    /// Write suggested `[[rotation]]` entries for the located findings
    /// (TOML, to append to keysweep-rotate.toml) to this file.
    #[arg(long, value_name = "FILE")]
    pub suggest_config: Option<PathBuf>,
}

/// Overlap (default) or incident mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// New and old credential overlap; the old one is deactivated at the end
    /// of apply and revoked by finalize.
    Overlap,
    /// Deactivate the leaked credential first (consumers break until the new
    /// one is promoted).
    ContainFirst,
}

/// `rotate plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: Common,
    /// Plan the config's rotations that match these findings (by fingerprint,
    /// or by rule kind and path glob).
    #[arg(long, value_name = "FILE")]
    pub findings: Option<PathBuf>,
    /// Plan the config's rotations listing this finding fingerprint (repeatable).
    #[arg(long = "finding", value_name = "FINGERPRINT")]
    pub fingerprints: Vec<String>,
    /// Plan the config's rotation with this name (repeatable).
    #[arg(long = "rotation", value_name = "NAME")]
    pub names: Vec<String>,
    /// Instead of the config: the store, as KIND:LOCATOR (e.g.
    /// aws-secretsmanager:prod/db, vault-kv2:secret/app/db).
    #[arg(long, value_name = "KIND:LOCATOR", requires = "issuer")]
    pub store: Option<String>,
    /// With --store: the issuer, as `KIND[:PRINCIPAL]` (random,
    /// aws-iam-access-key:USER, postgres:ROLE).
    #[arg(long, value_name = "KIND[:PRINCIPAL]", requires = "store")]
    pub issuer: Option<String>,
    /// With --store: a store option KEY=VALUE (repeatable).
    #[arg(long = "store-opt", value_name = "KEY=VALUE", requires = "store")]
    pub store_opts: Vec<String>,
    /// With --store: an issuer option KEY=VALUE (repeatable).
    #[arg(long = "issuer-opt", value_name = "KEY=VALUE", requires = "store")]
    pub issuer_opts: Vec<String>,
    /// With --store: the field holding the credential (`password`,
    /// `#password` for a URL, `dsn#password`).
    #[arg(long, requires = "store")]
    pub field: Option<String>,
    /// With --store: the JSON field holding the credential's id
    /// (`aws_access_key_id`).
    #[arg(long, requires = "store")]
    pub id_field: Option<String>,
    /// With --store: the strategy.
    #[arg(long, value_enum, requires = "store")]
    pub strategy: Option<StrategyArg>,
    /// With --store: the grace period between deactivation and revocation
    /// (e.g. 7d, 12h, 30m, 0s).
    #[arg(long, requires = "store")]
    pub grace: Option<String>,
    /// With --store: refuse (default) or revoke an inactive credential when
    /// the issuer is at its limit.
    #[arg(long, value_name = "refuse|revoke-inactive", requires = "store")]
    pub on_full: Option<String>,
    /// With --store: how to retire the old version (drop-labels,
    /// soft-delete, destroy).
    #[arg(long, requires = "store")]
    pub retire: Option<String>,
    /// With --store: rotate an unversioned store (Vault KV v1) anyway; the
    /// previous value is saved at a staging key first.
    #[arg(long, requires = "store")]
    pub allow_unversioned: bool,
    /// Write the plan (JSON) here, for `rotate apply --plan`.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `rotate apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub common: Common,
    /// The plan written by `rotate plan -o`.
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
}

/// `rotate status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub common: Common,
    /// One rotation (default: all in the state directory).
    pub rotation: Option<String>,
}

/// Subcommands that take one rotation id.
#[derive(Debug, Args)]
pub struct IdArgs {
    #[command(flatten)]
    pub common: Common,
    /// The rotation id (`rot-…`, shown by plan, apply and status).
    pub rotation: String,
}

/// `rotate finalize`.
#[derive(Debug, Args)]
pub struct FinalizeArgs {
    #[command(flatten)]
    pub common: Common,
    /// The rotation id.
    pub rotation: String,
    /// Do not wait for the grace period to end.
    #[arg(long)]
    pub force: bool,
}
