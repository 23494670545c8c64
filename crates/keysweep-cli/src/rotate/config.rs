//! `keysweep-rotate.toml`: which leaked secrets map to which rotation.
//!
//! ```toml
//! state_dir = ".keysweep/rotations"      # journals (optional)
//!
//! [aws]                                  # defaults for aws-* backends
//! region = "eu-west-1"
//! # endpoint_url = "http://127.0.0.1:5000"; profile = "rotator"
//!
//! [vault]                                # defaults for vault-* backends
//! address = "https://vault.example:8200" # else VAULT_ADDR; the token comes from VAULT_TOKEN or AppRole
//!
//! [locate]
//! aws = true                             # search AWS Secrets Manager
//! aws_name_prefix = "prod/"
//! [[locate.vault]]
//! mount = "secret"
//! prefix = "apps/"
//!
//! [[rotation]]
//! name = "billing-db"
//! fingerprints = ["<64 hex digits from keysweep scan>"]  # match by finding…
//! kinds = ["postgres-url"]                                # …or by rule kind (or id)
//! paths = ["deploy/**"]                                   # …and path glob
//! store = { kind = "vault-kv2", locator = "secret/apps/billing/db" }
//! field = "password"                                      # or "#password", "dsn#password"
//! issuer = { kind = "postgres", principal = "billing", options = { host = "db.internal" } }
//! strategy = "overlap"                                    # or "contain-first"
//! grace = "7d"
//! retire = "soft-delete"                                  # drop-labels | soft-delete | destroy
//! ```

use anyhow::{anyhow, bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use keysweep_rotate::{FieldPath, IssuerRef, OnFull, RetireMode, StoreRef, Strategy, Target};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default config file name, looked up in the current directory.
pub const DEFAULT_CONFIG: &str = "keysweep-rotate.toml";

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateConfig {
    /// Journal directory.
    pub state_dir: Option<PathBuf>,
    /// AWS defaults.
    #[serde(default)]
    pub aws: BTreeMap<String, String>,
    /// Vault defaults.
    #[serde(default)]
    pub vault: BTreeMap<String, String>,
    /// Where `locate` searches.
    #[serde(default)]
    pub locate: LocateConfig,
    /// The rotations.
    #[serde(default, rename = "rotation")]
    pub rotations: Vec<RotationEntry>,
}

/// `[locate]`.
#[derive(Debug, Deserialize)]
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
#[serde(deny_unknown_fields)]
pub struct LocateConfig {
    /// Search AWS Secrets Manager.
    #[serde(default = "yes")]
    pub aws: bool,
    /// Only secrets whose name starts with this.
    pub aws_name_prefix: Option<String>,
    /// Vault KV v2 mounts.
    #[serde(default)]
    pub vault: Vec<VaultMount>,
}

impl Default for LocateConfig {
    fn default() -> LocateConfig {
        LocateConfig {
            aws: true,
            aws_name_prefix: None,
            vault: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// A KV v2 mount (and prefix) to search.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(not(feature = "vault"), allow(dead_code))]
#[serde(deny_unknown_fields)]
pub struct VaultMount {
    /// The mount (`secret`).
    pub mount: String,
    /// A path prefix inside it.
    #[serde(default)]
    pub prefix: String,
}

impl VaultMount {
    /// Parses `mount` or `mount/prefix`.
    pub fn parse(s: &str) -> Result<VaultMount> {
        let s = s.trim_matches('/');
        let (mount, prefix) = s.split_once('/').unwrap_or((s, ""));
        if mount.is_empty() {
            bail!("empty Vault mount in {s:?}");
        }
        Ok(VaultMount {
            mount: mount.into(),
            prefix: prefix.into(),
        })
    }
}

/// A store or issuer as written in the config.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSpec {
    /// Implementation (`aws-secretsmanager`, `vault-kv2`, `random`, …).
    pub kind: String,
    /// Store: which secret.
    #[serde(default)]
    pub locator: String,
    /// Issuer: whose credential.
    #[serde(default)]
    pub principal: String,
    /// Non-secret settings.
    #[serde(default)]
    pub options: BTreeMap<String, toml::Value>,
}

/// One `[[rotation]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationEntry {
    /// A name for humans and `--rotation`.
    pub name: String,
    /// Finding fingerprints this rotation handles.
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// Rule kinds (or rule ids) this rotation handles.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Path globs the finding must be in (with `kinds`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Where consumers read the secret.
    pub store: BackendSpec,
    /// The credential's field.
    pub field: Option<String>,
    /// The credential id's field.
    pub id_field: Option<String>,
    /// Who mints and revokes it.
    pub issuer: BackendSpec,
    /// `overlap` (default) or `contain-first`.
    pub strategy: Option<String>,
    /// Grace period (`7d`, `12h`, `0s`, or seconds).
    pub grace: Option<toml::Value>,
    /// `refuse` (default) or `revoke-inactive`.
    pub on_full: Option<String>,
    /// `drop-labels` (default), `soft-delete` or `destroy`.
    pub retire: Option<String>,
    /// Rotate an unversioned store anyway.
    #[serde(default)]
    pub allow_unversioned: bool,
}

/// A finding as `plan`/`locate` need it (from the scan's JSON).
#[derive(Clone, Debug)]
pub struct FindingRef {
    /// Rule id.
    pub rule_id: String,
    /// Rule kind.
    pub kind: String,
    /// File.
    pub path: String,
    /// Line.
    pub line: u64,
    /// Fingerprint, 64 hex digits.
    pub fingerprint: String,
}

/// Everything `PlanBuilder` needs for one target.
#[derive(Clone, Debug)]
pub struct PlannedTarget {
    /// Name (config) or `command-line`.
    pub name: String,
    /// Store, field, id field, issuer.
    pub target: Target,
    /// Strategy.
    pub strategy: Strategy,
    /// Retire mode.
    pub retire: RetireMode,
}

impl RotateConfig {
    /// Loads `path`, or `./keysweep-rotate.toml` when it exists, or an empty
    /// config.
    pub fn load(path: Option<&Path>) -> Result<RotateConfig> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
            None => return Ok(RotateConfig::default()),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read rotation config {}", path.display()))?;
        let cfg: RotateConfig = toml::from_str(&text)
            .map_err(|e| anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
        for (i, r) in cfg.rotations.iter().enumerate() {
            r.validate().with_context(|| {
                format!("{}: [[rotation]] #{} ({:?})", path.display(), i + 1, r.name)
            })?;
        }
        Ok(cfg)
    }

    /// The entries matching any of `findings`, fingerprints or names.
    pub fn select(
        &self,
        findings: &[FindingRef],
        fingerprints: &[String],
        names: &[String],
    ) -> Result<Vec<&RotationEntry>> {
        for n in names {
            if !self.rotations.iter().any(|r| &r.name == n) {
                bail!("no [[rotation]] named {n:?} in the config");
            }
        }
        let everything = findings.is_empty() && fingerprints.is_empty() && names.is_empty();
        let mut out = Vec::new();
        for r in &self.rotations {
            let by_name = names.contains(&r.name);
            let by_fp = fingerprints
                .iter()
                .any(|f| r.fingerprints.iter().any(|g| g.eq_ignore_ascii_case(f)));
            let by_finding = findings.iter().any(|f| r.matches(f));
            if everything || by_name || by_fp || by_finding {
                out.push(r);
            }
        }
        Ok(out)
    }
}

impl RotationEntry {
    fn validate(&self) -> Result<()> {
        for f in &self.fingerprints {
            if keysweep_rotate::Fingerprint::from_hex(&f.to_ascii_lowercase()).is_none() {
                bail!("fingerprint {f:?} is not 64 hex digits");
            }
        }
        self.globs()?;
        self.to_target(&BTreeMap::new(), &BTreeMap::new())?;
        Ok(())
    }

    fn globs(&self) -> Result<Option<GlobSet>> {
        if self.paths.is_empty() {
            return Ok(None);
        }
        let mut b = GlobSetBuilder::new();
        for p in &self.paths {
            b.add(Glob::new(p).with_context(|| format!("bad path glob {p:?}"))?);
        }
        Ok(Some(b.build()?))
    }

    /// Whether this entry handles `f`: its fingerprint is listed, or its rule
    /// kind (or id) is and the path matches the globs.
    pub fn matches(&self, f: &FindingRef) -> bool {
        if self
            .fingerprints
            .iter()
            .any(|g| g.eq_ignore_ascii_case(&f.fingerprint))
        {
            return true;
        }
        if !self.kinds.iter().any(|k| k == &f.kind || k == &f.rule_id) {
            return false;
        }
        match self.globs() {
            Ok(Some(g)) => g.is_match(&f.path),
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// The plan target, with `[aws]`/`[vault]` defaults merged into the
    /// options of backends of those families.
    pub fn to_target(
        &self,
        aws: &BTreeMap<String, String>,
        vault: &BTreeMap<String, String>,
    ) -> Result<PlannedTarget> {
        let mut store = StoreRef::new(&self.store.kind, &self.store.locator);
        store.options = options(&self.store.options)?;
        let mut issuer = IssuerRef::new(&self.issuer.kind, &self.issuer.principal);
        issuer.options = options(&self.issuer.options)?;
        merge_defaults(&mut store.options, &store.kind, aws, vault);
        merge_defaults(&mut issuer.options, &issuer.kind, aws, vault);
        if self.allow_unversioned {
            store
                .options
                .insert("allow_unversioned".into(), "true".into());
        }
        if store.locator.is_empty() {
            bail!("store.locator is empty");
        }
        let grace = match &self.grace {
            None => None,
            Some(toml::Value::Integer(n)) if *n >= 0 => Some(*n as u64),
            Some(toml::Value::String(s)) => Some(parse_duration(s)?),
            Some(other) => bail!("grace must be a duration like \"7d\", not {other}"),
        };
        Ok(PlannedTarget {
            name: self.name.clone(),
            target: Target {
                store,
                field: self.field.as_deref().map(field).transpose()?,
                id_field: self.id_field.as_deref().map(field).transpose()?,
                issuer,
            },
            strategy: strategy(self.strategy.as_deref(), grace, self.on_full.as_deref())?,
            retire: retire(self.retire.as_deref())?,
        })
    }
}

/// Adds the `[aws]` or `[vault]` defaults (by kind family) to `opts`, keeping
/// what `opts` already sets.
pub fn merge_defaults(
    opts: &mut BTreeMap<String, String>,
    kind: &str,
    aws: &BTreeMap<String, String>,
    vault: &BTreeMap<String, String>,
) {
    let defaults = if kind.starts_with("aws-") {
        aws
    } else if kind.starts_with("vault-") {
        vault
    } else {
        return;
    };
    for (k, v) in defaults {
        opts.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

fn options(o: &BTreeMap<String, toml::Value>) -> Result<BTreeMap<String, String>> {
    o.iter()
        .map(|(k, v)| {
            let s = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => bail!("option {k} must be a string, number or boolean, not {other}"),
            };
            Ok((k.clone(), s))
        })
        .collect()
}

/// Parses a field path, with the reason on error.
pub fn field(s: &str) -> Result<FieldPath> {
    FieldPath::new(s).map_err(|e| anyhow!("{e}"))
}

/// `overlap`/`contain-first` with a grace (default 7 days) and on-full policy.
pub fn strategy(name: Option<&str>, grace: Option<u64>, on_full: Option<&str>) -> Result<Strategy> {
    let grace_secs = grace.unwrap_or(7 * 24 * 3600);
    let on_full = match on_full {
        None | Some("refuse") => OnFull::Refuse,
        Some("revoke-inactive" | "revoke_inactive") => OnFull::RevokeInactive,
        Some(o) => bail!("on_full must be refuse or revoke-inactive, not {o:?}"),
    };
    match name {
        None | Some("overlap") => Ok(Strategy::Overlap {
            grace_secs,
            on_full,
        }),
        Some("contain-first" | "contain_first") => Ok(Strategy::ContainFirst { grace_secs }),
        Some(o) => bail!("strategy must be overlap or contain-first, not {o:?}"),
    }
}

/// `drop-labels` (default), `soft-delete`, `destroy`.
pub fn retire(name: Option<&str>) -> Result<RetireMode> {
    match name {
        None | Some("drop-labels" | "drop_labels") => Ok(RetireMode::DropLabels),
        Some("soft-delete" | "soft_delete") => Ok(RetireMode::SoftDelete),
        Some("destroy") => Ok(RetireMode::Destroy),
        Some(o) => bail!("retire must be drop-labels, soft-delete or destroy, not {o:?}"),
    }
}

/// `7d`, `12h`, `30m`, `45s` or plain seconds.
pub fn parse_duration(s: &str) -> Result<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'd')) => (&s[..i], 86_400),
        Some((i, 'h')) => (&s[..i], 3_600),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 's')) => (&s[..i], 1),
        _ => (s, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| anyhow!("bad duration {s:?} (use e.g. 7d, 12h, 30m, 45s)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| anyhow!("duration {s:?} is too long"))
}

/// Parses `KEY=VALUE`.
pub fn key_value(s: &str) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("expected KEY=VALUE, got {s:?}"))?;
    Ok((k.trim().to_string(), v.to_string()))
}

/// Reads findings written by `keysweep scan --format json` (the document, or
/// a bare array) or `--format jsonl`.
pub fn load_findings(path: &Path) -> Result<Vec<FindingRef>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read findings {}", path.display()))?;
    let values: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Array(a)) => a,
        Ok(serde_json::Value::Object(mut o)) => match o.remove("findings") {
            Some(serde_json::Value::Array(a)) => a,
            _ => vec![serde_json::Value::Object(o)],
        },
        Ok(_) => bail!("{}: not a keysweep findings file", path.display()),
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map_err(|e| anyhow!("{}:{}: not JSON ({})", path.display(), i + 1, e))
            })
            .collect::<Result<_>>()?,
    };
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.get("fingerprint").is_some())
        .map(|(i, v)| {
            let s = |k: &str| {
                v.get(k)
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let f = FindingRef {
                rule_id: s("rule_id"),
                kind: s("kind"),
                path: s("path"),
                line: v.get("line").and_then(|x| x.as_u64()).unwrap_or(0),
                fingerprint: s("fingerprint").to_ascii_lowercase(),
            };
            if keysweep_rotate::Fingerprint::from_hex(&f.fingerprint).is_none()
                || f.rule_id.is_empty()
            {
                bail!(
                    "{}: finding #{} has no valid rule_id/fingerprint",
                    path.display(),
                    i + 1
                );
            }
            Ok(f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d").unwrap(), 604_800);
        assert_eq!(parse_duration("12h").unwrap(), 43_200);
        assert_eq!(parse_duration("0s").unwrap(), 0);
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn config_parses_and_selects() {
        let fp = "ab".repeat(32);
        let text = format!(
            r#"
[aws]
region = "eu-west-1"
[[rotation]]
name = "db"
fingerprints = ["{fp}"]
store = {{ kind = "aws-secretsmanager", locator = "prod/db" }}
field = "dsn#password"
issuer = {{ kind = "postgres", principal = "app", options = {{ port = 5432 }} }}
grace = "1h"
[[rotation]]
name = "tokens"
kinds = ["github-pat"]
paths = ["src/**"]
store = {{ kind = "vault-kv2", locator = "secret/app" }}
issuer = {{ kind = "random", options = {{ length = 40 }} }}
strategy = "contain-first"
"#
        );
        let cfg: RotateConfig = toml::from_str(&text).unwrap();
        let t = cfg.rotations[0].to_target(&cfg.aws, &cfg.vault).unwrap();
        assert_eq!(t.target.store.options["region"], "eu-west-1");
        assert_eq!(t.target.issuer.options["port"], "5432");
        assert_eq!(t.target.field.unwrap().as_str(), "dsn#password");
        assert_eq!(t.strategy.grace_secs(), 3600);
        let finding = |kind: &str, path: &str, fp: &str| FindingRef {
            rule_id: "ks.x.1".into(),
            kind: kind.into(),
            path: path.into(),
            line: 1,
            fingerprint: fp.into(),
        };
        let names = |v: Vec<&RotationEntry>| v.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        let sel = cfg
            .select(
                &[finding("github-pat", "src/a.rs", &"00".repeat(32))],
                &[],
                &[],
            )
            .unwrap();
        assert_eq!(names(sel), ["tokens"]);
        let sel = cfg
            .select(
                &[finding("github-pat", "docs/a.md", &"00".repeat(32))],
                &[],
                &[],
            )
            .unwrap();
        assert!(sel.is_empty());
        let sel = cfg.select(&[], &[fp.to_uppercase()], &[]).unwrap();
        assert_eq!(names(sel), ["db"]);
        assert_eq!(cfg.select(&[], &[], &[]).unwrap().len(), 2);
        assert!(cfg.select(&[], &[], &["nope".into()]).is_err());
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let bad = r#"
[[rotation]]
name = "x"
store = { kind = "vault-kv2", locator = "secret/a" }
issuer = { kind = "random" }
strategy = "yolo"
"#;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keysweep-rotate.toml");
        std::fs::write(&p, bad).unwrap();
        let e = format!("{:#}", RotateConfig::load(Some(&p)).unwrap_err());
        assert!(e.contains("\"x\"") && e.contains("strategy"), "{e}");
        std::fs::write(&p, "[[rotation]]\nname = 1\n").unwrap();
        let e = format!("{:#}", RotateConfig::load(Some(&p)).unwrap_err());
        assert!(
            e.contains("keysweep-rotate.toml") && e.contains("line"),
            "{e}"
        );
        std::fs::write(&p, "bogus = true\n").unwrap();
        assert!(RotateConfig::load(Some(&p)).is_err());
    }
}
