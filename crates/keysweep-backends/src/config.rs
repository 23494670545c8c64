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

use crate::findings::FindingRef;
use globset::{Glob, GlobSet, GlobSetBuilder};
use keysweep_rotate::{
    parse_duration, DurationError, FieldPath, Fingerprint, IssuerRef, OnFull, RetireMode,
    SpecError, StoreRef, Strategy, StrategyKind, Target,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default config file name, looked up in the current directory.
pub const DEFAULT_CONFIG: &str = "keysweep-rotate.toml";

/// The grace period when none is given: 7 days.
pub const DEFAULT_GRACE_SECS: u64 = 7 * 24 * 3600;

/// Why a config could not be loaded, or its rotations not selected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read rotation config {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, or not this file's shape.
    #[error("{origin}: not a rotation config")]
    Parse {
        /// The file (or a caller's label).
        origin: String,
        /// The TOML error, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// A `[[rotation]]` entry is invalid.
    #[error("{origin}: [[rotation]] #{index} ({name:?})")]
    Invalid {
        /// The file (or a caller's label).
        origin: String,
        /// 1-based position of the entry.
        index: usize,
        /// Its name.
        name: String,
        /// What is wrong.
        #[source]
        source: Box<EntryError>,
    },
    /// A `[[rotation]]` entry could not become a target.
    #[error("[[rotation]] {name:?}")]
    Rotation {
        /// Its name.
        name: String,
        /// What is wrong.
        #[source]
        source: Box<EntryError>,
    },
    /// A name asked for is not in the config.
    #[error("no [[rotation]] named {0:?} in the config")]
    UnknownRotation(String),
    /// Nothing to plan: the config has no `[[rotation]]`.
    #[error("nothing to plan: the config has no [[rotation]] entries")]
    NoRotations,
    /// Findings were given, but the file listed none.
    #[error("the findings file lists no findings; nothing to rotate")]
    NoFindings,
    /// No entry matches the findings, fingerprints or names.
    #[error("no [[rotation]] in the config matches the given findings/fingerprints")]
    NoMatch,
}

/// What is wrong with one `[[rotation]]` entry (or one target's settings).
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// A fingerprint is not 64 hex digits.
    #[error("fingerprint {0:?} is not 64 hex digits")]
    Fingerprint(String),
    /// A path glob does not parse.
    #[error("bad path glob {glob:?}")]
    Glob {
        /// The glob.
        glob: String,
        /// globset's reason.
        #[source]
        source: globset::Error,
    },
    /// `store.locator` is empty.
    #[error("store.locator is empty")]
    EmptyLocator,
    /// An option is not a string, number or boolean.
    #[error("option {key} must be a string, number or boolean, not {found}")]
    Option {
        /// The option.
        key: String,
        /// What it is.
        found: String,
    },
    /// `grace` is neither seconds nor a duration string.
    #[error("grace must be a duration like \"7d\", not {0}")]
    Grace(String),
    /// `grace` does not parse.
    #[error("grace")]
    Duration(#[source] DurationError),
    /// A strategy, on_full or retire name.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A field path.
    #[error(transparent)]
    Field(keysweep_rotate::Error),
}

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
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultMount {
    /// The mount (`secret`).
    pub mount: String,
    /// A path prefix inside it.
    #[serde(default)]
    pub prefix: String,
}

/// An empty Vault mount name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("empty Vault mount in {0:?}")]
pub struct MountError(pub String);

impl std::str::FromStr for VaultMount {
    type Err = MountError;

    /// `mount` or `mount/prefix` (slashes around it are ignored).
    fn from_str(s: &str) -> Result<VaultMount, MountError> {
        let s = s.trim_matches('/');
        let (mount, prefix) = s.split_once('/').unwrap_or((s, ""));
        if mount.is_empty() {
            return Err(MountError(s.to_string()));
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
    /// A name for humans and for selecting it.
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

/// Everything `PlanBuilder` needs for one target.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Parses and validates a config; errors name `origin`.
    pub fn parse(origin: &str, text: &str) -> Result<RotateConfig, ConfigError> {
        let cfg: RotateConfig = toml::from_str(text).map_err(|source| ConfigError::Parse {
            origin: origin.into(),
            source,
        })?;
        for (i, r) in cfg.rotations.iter().enumerate() {
            r.validate().map_err(|source| ConfigError::Invalid {
                origin: origin.into(),
                index: i + 1,
                name: r.name.clone(),
                source: Box::new(source),
            })?;
        }
        Ok(cfg)
    }

    /// Loads `path`, or `./keysweep-rotate.toml` when it exists, or an empty
    /// config.
    pub fn load(path: Option<&Path>) -> Result<RotateConfig, ConfigError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
            None => return Ok(RotateConfig::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        RotateConfig::parse(&path.display().to_string(), &text)
    }

    /// The entries matching any of `findings`, fingerprints or names; all
    /// of them when none is given.
    pub fn select(
        &self,
        findings: &[FindingRef],
        fingerprints: &[String],
        names: &[String],
    ) -> Result<Vec<&RotationEntry>, ConfigError> {
        for n in names {
            if !self.rotations.iter().any(|r| &r.name == n) {
                return Err(ConfigError::UnknownRotation(n.clone()));
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

    /// The targets to plan: the entries [`select`](RotateConfig::select)ed
    /// by `findings` (`Some` when a findings file was given), fingerprints
    /// and names, with `aws` (the `[aws]` defaults and any overrides; see
    /// [`RotateConfig::aws_defaults`]) and `[vault]` merged in. Refuses an
    /// empty config, an empty findings file and a selection of nothing.
    pub fn planned_targets(
        &self,
        findings: Option<&[FindingRef]>,
        fingerprints: &[String],
        names: &[String],
        aws: &BTreeMap<String, String>,
    ) -> Result<Vec<PlannedTarget>, ConfigError> {
        if self.rotations.is_empty() {
            return Err(ConfigError::NoRotations);
        }
        if findings.is_some_and(|f| f.is_empty()) {
            return Err(ConfigError::NoFindings);
        }
        let fps: Vec<String> = fingerprints
            .iter()
            .map(|f| f.to_ascii_lowercase())
            .collect();
        let selected = self.select(findings.unwrap_or_default(), &fps, names)?;
        if selected.is_empty() {
            return Err(ConfigError::NoMatch);
        }
        selected
            .into_iter()
            .map(|r| {
                r.to_target(aws, &self.vault)
                    .map_err(|source| ConfigError::Rotation {
                        name: r.name.clone(),
                        source: Box::new(source),
                    })
            })
            .collect()
    }

    /// The `[aws]` defaults with `endpoint_url` and `region` overrides (a
    /// front end's flags) on top.
    pub fn aws_defaults(
        &self,
        endpoint_url: Option<&str>,
        region: Option<&str>,
    ) -> BTreeMap<String, String> {
        let mut aws = self.aws.clone();
        if let Some(e) = endpoint_url {
            aws.insert("endpoint_url".into(), e.into());
        }
        if let Some(r) = region {
            aws.insert("region".into(), r.into());
        }
        aws
    }
}

impl RotationEntry {
    fn validate(&self) -> Result<(), EntryError> {
        for f in &self.fingerprints {
            if Fingerprint::from_hex(&f.to_ascii_lowercase()).is_none() {
                return Err(EntryError::Fingerprint(f.clone()));
            }
        }
        self.globs()?;
        self.to_target(&BTreeMap::new(), &BTreeMap::new())?;
        Ok(())
    }

    fn globs(&self) -> Result<Option<GlobSet>, EntryError> {
        if self.paths.is_empty() {
            return Ok(None);
        }
        let mut b = GlobSetBuilder::new();
        for p in &self.paths {
            b.add(Glob::new(p).map_err(|source| EntryError::Glob {
                glob: p.clone(),
                source,
            })?);
        }
        b.build().map(Some).map_err(|source| EntryError::Glob {
            glob: self.paths.join(", "),
            source,
        })
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
    ) -> Result<PlannedTarget, EntryError> {
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
            return Err(EntryError::EmptyLocator);
        }
        let grace = match &self.grace {
            None => None,
            Some(toml::Value::Integer(n)) if *n >= 0 => Some(*n as u64),
            Some(toml::Value::String(s)) => Some(parse_duration(s).map_err(EntryError::Duration)?),
            Some(other) => return Err(EntryError::Grace(other.to_string())),
        };
        Ok(PlannedTarget {
            name: self.name.clone(),
            target: Target {
                store,
                field: field(self.field.as_deref())?,
                id_field: field(self.id_field.as_deref())?,
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

/// Option values as the backends take them: strings, with numbers and
/// booleans written out.
fn options(o: &BTreeMap<String, toml::Value>) -> Result<BTreeMap<String, String>, EntryError> {
    o.iter()
        .map(|(k, v)| {
            let s = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    return Err(EntryError::Option {
                        key: k.clone(),
                        found: other.to_string(),
                    })
                }
            };
            Ok((k.clone(), s))
        })
        .collect()
}

/// A field path, if given.
pub fn field(s: Option<&str>) -> Result<Option<FieldPath>, EntryError> {
    s.map(|s| FieldPath::new(s).map_err(EntryError::Field))
        .transpose()
}

/// The strategy by name (default `overlap`) with a grace period in seconds
/// (default [`DEFAULT_GRACE_SECS`]) and an on-full policy (default
/// `refuse`).
pub fn strategy(
    name: Option<&str>,
    grace_secs: Option<u64>,
    on_full: Option<&str>,
) -> Result<Strategy, SpecError> {
    let on_full = on_full
        .map(str::parse)
        .transpose()?
        .unwrap_or(OnFull::Refuse);
    let kind = name
        .map(str::parse::<StrategyKind>)
        .transpose()?
        .unwrap_or_default();
    Ok(kind.with(grace_secs.unwrap_or(DEFAULT_GRACE_SECS), on_full))
}

/// The retire mode by name (default `drop-labels`).
pub fn retire(name: Option<&str>) -> Result<RetireMode, SpecError> {
    Ok(name
        .map(str::parse)
        .transpose()?
        .unwrap_or(RetireMode::DropLabels))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error and its sources, as `anyhow`'s `{:#}` prints them.
    fn chain(e: &dyn std::error::Error) -> String {
        let mut s = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            s.push_str(": ");
            s.push_str(&c.to_string());
            cur = c.source();
        }
        s
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
        let cfg = RotateConfig::parse("test.toml", &text).unwrap();
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
        assert!(matches!(
            cfg.select(&[], &[], &["nope".into()]),
            Err(ConfigError::UnknownRotation(_))
        ));

        // planned_targets: the selection as targets, with the overrides.
        let aws = cfg.aws_defaults(Some("http://127.0.0.1:5000"), None);
        let ts = cfg
            .planned_targets(None, &[fp.to_uppercase()], &[], &aws)
            .unwrap();
        assert_eq!(ts.len(), 1);
        assert_eq!(
            ts[0].target.store.options["endpoint_url"],
            "http://127.0.0.1:5000"
        );
        assert_eq!(ts[0].target.store.options["region"], "eu-west-1");
        let docs = [finding("github-pat", "docs/a.md", &"00".repeat(32))];
        assert!(matches!(
            cfg.planned_targets(Some(&docs), &[], &[], &aws),
            Err(ConfigError::NoMatch)
        ));
        assert!(matches!(
            cfg.planned_targets(Some(&[]), &[], &[], &aws),
            Err(ConfigError::NoFindings)
        ));
        assert!(matches!(
            RotateConfig::default().planned_targets(None, &[], &[], &aws),
            Err(ConfigError::NoRotations)
        ));
        let t = &cfg
            .planned_targets(None, &[], &["tokens".into()], &aws)
            .unwrap()[0];
        assert_eq!(
            t.strategy,
            Strategy::ContainFirst {
                grace_secs: 604_800
            }
        );
        assert!(!t.target.store.options.contains_key("endpoint_url"));
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
        let e = chain(&RotateConfig::load(Some(&p)).unwrap_err());
        assert!(e.contains("\"x\"") && e.contains("strategy"), "{e}");
        std::fs::write(&p, "[[rotation]]\nname = 1\n").unwrap();
        let e = chain(&RotateConfig::load(Some(&p)).unwrap_err());
        assert!(
            e.contains("keysweep-rotate.toml") && e.contains("line"),
            "{e}"
        );
        std::fs::write(&p, "bogus = true\n").unwrap();
        assert!(RotateConfig::load(Some(&p)).is_err());
        let grace = bad.replace("strategy = \"yolo\"", "grace = \"soon\"");
        let e = chain(&RotateConfig::parse("c.toml", &grace).unwrap_err());
        assert!(e.contains("grace") && e.contains("soon"), "{e}");
        let e = RotateConfig::load(Some(&dir.path().join("missing.toml"))).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
        // No front end's flags in library errors.
        for e in [
            ConfigError::NoRotations,
            ConfigError::NoMatch,
            ConfigError::NoFindings,
        ] {
            assert!(!e.to_string().contains("--"), "{e}");
        }
    }

    #[test]
    fn policies_and_mounts() {
        assert_eq!(
            strategy(None, None, None).unwrap(),
            Strategy::overlap(DEFAULT_GRACE_SECS)
        );
        assert_eq!(
            strategy(Some("overlap"), Some(5), Some("revoke-inactive")).unwrap(),
            Strategy::Overlap {
                grace_secs: 5,
                on_full: OnFull::RevokeInactive
            }
        );
        assert!(strategy(None, None, Some("maybe")).is_err());
        assert_eq!(retire(None).unwrap(), RetireMode::DropLabels);
        assert_eq!(retire(Some("destroy")).unwrap(), RetireMode::Destroy);
        assert!(retire(Some("burn")).is_err());
        let m: VaultMount = "/secret/apps/".parse().unwrap();
        assert_eq!((m.mount.as_str(), m.prefix.as_str()), ("secret", "apps"));
        assert!("/".parse::<VaultMount>().is_err());
    }
}
