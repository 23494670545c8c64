//! The KV v2 store (DESIGN.md 7.6).

use crate::common::{
    invalid, lock_body, parse_doc, split_locator, to_value, version_number, Kv2Options, LockInfo,
};
use crate::http::{object, ApiError, Method, Vault};
use crate::policy;
use crate::settings::{VaultAuth, VaultSettings};
use crate::{kv1_refusal, KV2_KIND};
use jiff::Timestamp;
use keysweep_rotate::{
    async_trait, BackendError, BackendResult, ErrorClass, Permission, RetireMode, Risk,
    RotationToken, SecretStore, SecretValue, Severity, StoreCaps, StoreRef, StoreState,
    VersionInfo, VersionRef,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Vault's `max_versions` when neither the key nor the mount sets one.
pub(crate) const VAULT_DEFAULT_MAX_VERSIONS: u64 = 10;

/// Key metadata (`GET <mount>/metadata/<key>`); no values.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Meta {
    #[serde(default)]
    pub current_version: u64,
    #[serde(default)]
    pub max_versions: u64,
    #[serde(default)]
    pub delete_version_after: String,
    #[serde(default)]
    pub versions: BTreeMap<String, VersionMeta>,
}

/// One version's metadata.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct VersionMeta {
    #[serde(default)]
    pub deletion_time: String,
    #[serde(default)]
    pub destroyed: bool,
}

impl VersionMeta {
    /// Soft-deleted now (a future `deletion_time` is a scheduled deletion
    /// from `delete_version_after`).
    pub fn deleted(&self, now: Timestamp) -> bool {
        parse_time(&self.deletion_time).is_some_and(|t| t <= now)
    }

    pub fn live(&self, now: Timestamp) -> bool {
        !self.destroyed && !self.deleted(now)
    }
}

pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    if s.is_empty() {
        return None;
    }
    s.parse().ok()
}

impl Meta {
    /// Versions by number, ascending.
    pub fn numbered(&self) -> Vec<(u64, &VersionMeta)> {
        let mut v: Vec<(u64, &VersionMeta)> = self
            .versions
            .iter()
            .filter_map(|(k, m)| k.parse().ok().map(|n| (n, m)))
            .collect();
        v.sort_by_key(|(n, _)| *n);
        v
    }

    pub fn version(&self, n: u64) -> Option<&VersionMeta> {
        self.versions.get(&n.to_string())
    }
}

/// The mount's configuration (`GET <mount>/config`).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct MountConfig {
    #[serde(default)]
    pub max_versions: u64,
    #[serde(default)]
    pub delete_version_after: String,
}

/// Whether a Go duration string (`0s`, `768h0m0s`) is zero or unset.
pub(crate) fn zero_duration(s: &str) -> bool {
    s.is_empty() || s.trim_start_matches(['0', 'h', 'm', 's', '.']).is_empty()
}

/// KV v2 primitives on one mount.
#[derive(Clone, Debug)]
pub(crate) struct KvV2 {
    pub vault: Vault,
    pub mount: String,
}

fn data_of(v: Value) -> Option<(u64, Map<String, Value>)> {
    let mut v = v;
    let version = v.get("metadata")?.get("version")?.as_u64()?;
    let doc = object(v.get_mut("data")?.take())?;
    Some((version, doc))
}

impl KvV2 {
    fn data_path(&self, key: &str) -> String {
        format!("{}/data/{key}", self.mount)
    }

    fn meta_path(&self, key: &str) -> String {
        format!("{}/metadata/{key}", self.mount)
    }

    /// The document at `key` (a version, or the latest) and its version;
    /// `None` when absent, deleted or destroyed.
    pub async fn read(
        &self,
        key: &str,
        version: Option<u64>,
    ) -> Result<Option<(u64, Map<String, Value>)>, ApiError> {
        let q = version.map(|n| format!("version={n}"));
        match self
            .vault
            .data(Method::Get, &self.data_path(key), q, None)
            .await
        {
            Ok(d) => Ok(data_of(d)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes a new version, with `cas` when given; returns its number.
    pub async fn write(
        &self,
        key: &str,
        doc: &Map<String, Value>,
        cas: Option<u64>,
    ) -> Result<u64, ApiError> {
        let mut body = Map::new();
        if let Some(c) = cas {
            body.insert("options".into(), json!({ "cas": c }));
        }
        body.insert("data".into(), Value::Object(doc.clone()));
        let path = self.data_path(key);
        let d = self
            .vault
            .data(Method::Post, &path, None, Some(&Value::Object(body)))
            .await?;
        d.get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| ApiError {
                what: format!("POST {path}"),
                status: None,
                errors: vec![],
                transport: Some("the response names no version".into()),
            })
    }

    pub async fn metadata(&self, key: &str) -> Result<Option<Meta>, ApiError> {
        let path = self.meta_path(key);
        match self.vault.data(Method::Get, &path, None, None).await {
            Ok(Value::Null) => Ok(None),
            Ok(d) => serde_json::from_value(d).map(Some).map_err(|_| ApiError {
                what: format!("GET {path}"),
                status: None,
                errors: vec![],
                transport: Some("unexpected metadata shape".into()),
            }),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes a key and all its versions (bookkeeping keys only).
    pub async fn delete_metadata(&self, key: &str) -> Result<(), ApiError> {
        match self
            .vault
            .call(Method::Delete, &self.meta_path(key), None, None)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The names in folder `dir` (`""` for the mount's root); sub-folders end
    /// in `/`. Empty when the folder does not exist.
    pub async fn list(&self, dir: &str) -> Result<Vec<String>, ApiError> {
        let path = if dir.is_empty() {
            format!("{}/metadata/", self.mount)
        } else {
            format!("{}/metadata/{dir}/", self.mount)
        };
        match self.vault.data(Method::List, &path, None, None).await {
            Ok(d) => Ok(d
                .get("keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()),
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The mount's configuration; `None` when not readable.
    pub async fn config(&self) -> Option<MountConfig> {
        let path = format!("{}/config", self.mount);
        match self.vault.data(Method::Get, &path, None, None).await {
            Ok(d) => serde_json::from_value(d).ok(),
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the KV mount's config");
                None
            }
        }
    }

    async fn versions_op(
        &self,
        op: &str,
        method: Method,
        key: &str,
        n: u64,
    ) -> Result<(), ApiError> {
        let path = format!("{}/{op}/{key}", self.mount);
        let body = json!({ "versions": [n] });
        self.vault.call(method, &path, None, Some(&body)).await?;
        Ok(())
    }
}

/// A Vault / OpenBao KV v2 secret as a [`SecretStore`] (kind
/// [`KV2_KIND`], locator `mount/path`).
///
/// The value is the secret's whole data map as compact JSON, keys in the
/// order Vault returns them (sorted); writes parse it back and require a JSON
/// object. Versions are KV version numbers in decimal.
///
/// | step | Vault calls |
/// |---|---|
/// | `inspect` | `GET metadata/<path>`; `LIST metadata/<staging>/<path>/`, `GET data/<lock>/<path>` (foreign pending value or live lock → `pending`) |
/// | `read_current` / `read_version` | `GET data/<path>[?version=N]` (data and version in one answer); deleted or destroyed → `NotFound` |
/// | `acquire` | `POST data/<lock>/<path>` with `cas=0`; held by the same token → ok; by another, live → `Locked`; expired → overwritten with `cas=<its version>` |
/// | `release` | `DELETE metadata/<lock>/<path>` if the lock is ours |
/// | `stage` | `POST data/<staging>/<path>/<token>` with `cas=0`; same document already there → ok, another → `Conflict` |
/// | `promote` | `POST data/<path>` with the staged document and `cas=<expected>`; a mismatch is `Conflict` unless version expected+1 already holds the staged document |
/// | `demote` | like `vault kv rollback`: `GET data/<path>?version=<to>`, `POST data/<path>` with it and `cas=<expected>` |
/// | `discard_staged` | `DELETE metadata/<staging>/<path>/<token>` |
/// | `retire_version` | `POST delete/<path>` or `PUT destroy/<path>` with `{"versions":[N]}` |
///
/// **Versions returned by `stage`.** A staging key is not a version of the
/// main path, yet the engine journals `stage`'s answer as the new version and,
/// after a crash, falls back to `read_version` of it when the staging key is
/// gone. So `stage` returns the version the main path *will* get at
/// promotion, `current_version + 1`: promotion is a cas write against the
/// version observed at plan time, so when it succeeds the new version is
/// exactly that number, and when anything else wrote the path first,
/// promotion fails with `Conflict` and the prediction is never used.
/// `promote` returns the version Vault actually assigned.
///
/// Never calls `delete_metadata` on the main path. `custom_metadata` is not
/// written (it needs `update` on the key's metadata, which would also let the
/// rotator change `max_versions`).
#[derive(Clone)]
pub struct Kv2Store {
    kv: KvV2,
    path: String,
    opts: Kv2Options,
    options: BTreeMap<String, String>,
    max_versions: Option<u32>,
}

impl fmt::Debug for Kv2Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kv2Store")
            .field("mount", &self.kv.mount)
            .field("path", &self.path)
            .field("opts", &self.opts)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Kv2Store {
    /// Connects (logging in if needed), checks that `mount` is a KV v2
    /// engine (a KV v1 mount is refused with [`ErrorClass::Unsupported`]) and
    /// reads the effective `max_versions` for [`SecretStore::capabilities`].
    /// The secret itself need not exist yet.
    pub async fn new(
        settings: VaultSettings,
        mount: &str,
        path: &str,
        opts: Kv2Options,
    ) -> BackendResult<Kv2Store> {
        let mount = mount.trim_matches('/');
        crate::common::check_key("mount", mount)?;
        crate::common::check_key("path", path)?;
        opts.check(path)?;
        let vault = settings.vault().await?;
        match vault.kv_version(mount).await? {
            Some(1) => {
                return Err(BackendError::new(
                    ErrorClass::Unsupported,
                    format!("{mount}/ is a KV v1 mount: {}", kv1_refusal()),
                ))
            }
            Some(_) => {}
            None => tracing::debug!(mount, "mount type unknown; assuming KV v2"),
        }
        let mut options = settings.to_options();
        opts.to_options(&mut options);
        if mount.contains('/') {
            options.insert("mount".into(), mount.to_string());
        }
        let kv = KvV2 {
            vault,
            mount: mount.to_string(),
        };
        let mut store = Kv2Store {
            kv,
            path: path.to_string(),
            opts,
            options,
            max_versions: None,
        };
        let (mv, _) = store.effective_max_versions().await?;
        store.max_versions = Some(u32::try_from(mv).unwrap_or(u32::MAX));
        tracing::debug!(store = %store.name(), max_versions = mv, "KV v2 store ready");
        Ok(store)
    }

    /// The store described by `r` (kind [`KV2_KIND`], locator `mount/path`,
    /// options as written by [`SecretStore::describe`]: connection settings,
    /// `staging_prefix`, `lock_prefix`, `lock_ttl_secs`, and `mount` when the
    /// mount has several segments). Credentials come from the environment.
    pub async fn from_ref(r: &StoreRef) -> BackendResult<Kv2Store> {
        Kv2Store::from_ref_with(r, None).await
    }

    /// [`Kv2Store::from_ref`] with these credentials instead of the
    /// environment's.
    pub async fn from_ref_with_auth(r: &StoreRef, auth: VaultAuth) -> BackendResult<Kv2Store> {
        Kv2Store::from_ref_with(r, Some(auth)).await
    }

    async fn from_ref_with(r: &StoreRef, auth: Option<VaultAuth>) -> BackendResult<Kv2Store> {
        if r.kind != KV2_KIND {
            return Err(invalid(format!("store kind {} is not {KV2_KIND}", r.kind)));
        }
        let (mount, path) = split_locator(&r.locator, r.options.get("mount").map(String::as_str))?;
        let settings = match auth {
            Some(a) => VaultSettings::from_options_with_auth(&r.options, a)?,
            None => VaultSettings::from_env_and_options(&r.options)?,
        };
        let opts = Kv2Options::from_options(&r.options)?;
        Kv2Store::new(settings, &mount, &path, opts).await
    }

    /// The mount.
    pub fn mount(&self) -> &str {
        &self.kv.mount
    }

    /// The path inside the mount.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn name(&self) -> String {
        format!("{KV2_KIND}:{}/{}", self.kv.mount, self.path)
    }

    fn err(&self, class: ErrorClass, m: impl fmt::Display) -> BackendError {
        BackendError::new(class, format!("{}: {m}", self.name()))
    }

    async fn meta(&self) -> BackendResult<Meta> {
        self.kv
            .metadata(&self.path)
            .await?
            .ok_or_else(|| self.err(ErrorClass::NotFound, "no such secret"))
    }

    /// (max_versions, where it comes from), with Vault's default of 10.
    async fn effective_max_versions(&self) -> BackendResult<(u64, &'static str)> {
        let key = self
            .kv
            .metadata(&self.path)
            .await
            .or_else(|e| match e.class() {
                ErrorClass::Denied => Ok(None),
                _ => Err(e),
            })?;
        if let Some(m) = key.as_ref().filter(|m| m.max_versions > 0) {
            return Ok((m.max_versions, "the key's metadata"));
        }
        match self.kv.config().await {
            Some(c) if c.max_versions > 0 => Ok((c.max_versions, "the mount's config")),
            _ => Ok((VAULT_DEFAULT_MAX_VERSIONS, "Vault's default")),
        }
    }

    async fn staged_doc(&self, token: &RotationToken) -> BackendResult<Map<String, Value>> {
        let key = self.opts.staging_key(&self.path, token);
        self.kv
            .read(&key, None)
            .await?
            .map(|(_, d)| d)
            .ok_or_else(|| {
                self.err(
                    ErrorClass::NotFound,
                    format!("no staged value for rotation rot-{}", token.short()),
                )
            })
    }

    /// A pending value or live lock of any rotation, for `inspect`.
    async fn pending(&self) -> BackendResult<Option<VersionRef>> {
        let dir = self.opts.staging_dir(&self.path);
        match self.kv.list(&dir).await {
            Ok(keys) => {
                if let Some(k) = keys.iter().find(|k| !k.ends_with('/')) {
                    return Ok(Some(VersionRef(k.clone())));
                }
            }
            Err(e) if e.class() == ErrorClass::Denied => {
                tracing::debug!(error = %e, "cannot list staging keys")
            }
            Err(e) => return Err(e.into()),
        }
        match self.kv.read(&self.opts.lock_key(&self.path), None).await {
            Ok(Some((_, m))) => {
                let l = LockInfo::parse(&m);
                if !l.expired(Timestamp::now()) {
                    let who = l.token.unwrap_or_else(|| "unknown".into());
                    return Ok(Some(VersionRef(format!("lock:{who}"))));
                }
            }
            Ok(None) => {}
            Err(e) if e.class() == ErrorClass::Denied => {
                tracing::debug!(error = %e, "cannot read the lock key")
            }
            Err(e) => return Err(e.into()),
        }
        Ok(None)
    }

    async fn take_lock(&self, token: &RotationToken, cas: u64) -> BackendResult<bool> {
        let body = lock_body(token, self.opts.lock_ttl, &self.name());
        match self
            .kv
            .write(&self.opts.lock_key(&self.path), &body, Some(cas))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_cas_mismatch() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl SecretStore for Kv2Store {
    fn describe(&self) -> StoreRef {
        StoreRef {
            kind: KV2_KIND.into(),
            locator: format!("{}/{}", self.kv.mount, self.path),
            options: self.options.clone(),
        }
    }

    fn capabilities(&self) -> StoreCaps {
        StoreCaps {
            versioned: true,
            cas: true,
            labels: false,
            max_versions: self.max_versions,
        }
    }

    fn required_permissions(&self) -> Vec<Permission> {
        policy::permissions(&policy::kv2_rules(&self.kv.mount, &self.path, &self.opts))
    }

    async fn inspect(&self) -> BackendResult<StoreState> {
        let meta = self.meta().await?;
        let now = Timestamp::now();
        let current = meta.current_version;
        let mut previous = None;
        let mut versions = Vec::new();
        for (n, vm) in meta.numbered() {
            let mut labels = Vec::new();
            if n == current {
                labels.push("current".to_string());
            }
            if vm.destroyed {
                labels.push("destroyed".into());
            } else if vm.deleted(now) {
                labels.push("deleted".into());
            } else if n < current {
                previous = Some(n);
            }
            versions.push(VersionInfo {
                version: VersionRef(n.to_string()),
                labels,
            });
        }
        Ok(StoreState {
            current: (current > 0).then(|| VersionRef(current.to_string())),
            pending: self.pending().await?,
            previous: previous.map(|n| VersionRef(n.to_string())),
            versions,
            native_rotation: false,
        })
    }

    async fn plan_risks(&self) -> BackendResult<Vec<Risk>> {
        let meta = self.meta().await?;
        let cfg = self.kv.config().await.unwrap_or_default();
        let current = meta.current_version;
        let mut risks = Vec::new();
        let (mv, source) = if meta.max_versions > 0 {
            (meta.max_versions, "the key's metadata")
        } else if cfg.max_versions > 0 {
            (cfg.max_versions, "the mount's config")
        } else {
            (VAULT_DEFAULT_MAX_VERSIONS, "Vault's default")
        };
        if mv <= 1 {
            risks.push(Risk {
                code: "vault-max-versions".into(),
                severity: Severity::High,
                message: format!(
                    "{} keeps {mv} version (max_versions from {source}): promotion prunes \
                     version {current}, so rollback and checking the old credential become \
                     impossible; raise max_versions first",
                    self.name()
                ),
            });
        } else if mv == 2 {
            risks.push(Risk {
                code: "vault-max-versions".into(),
                severity: Severity::Warning,
                message: format!(
                    "{} keeps 2 versions (max_versions from {source}): version {current} \
                     survives promotion, but one more write (a rollback, or any other writer \
                     before finalize) prunes it",
                    self.name()
                ),
            });
        }
        let (dva, source) = if !zero_duration(&meta.delete_version_after) {
            (meta.delete_version_after.clone(), "the key's metadata")
        } else if !zero_duration(&cfg.delete_version_after) {
            (cfg.delete_version_after.clone(), "the mount's config")
        } else {
            (String::new(), "")
        };
        if !dva.is_empty() {
            let scheduled = meta
                .version(current)
                .and_then(|v| parse_time(&v.deletion_time))
                .map(|t| format!("; version {current} is scheduled for deletion at {t}"))
                .unwrap_or_default();
            risks.push(Risk {
                code: "vault-delete-version-after".into(),
                severity: Severity::Warning,
                message: format!(
                    "versions of {} are deleted {dva} after they are written \
                     (delete_version_after from {source}): version {current} may vanish before \
                     finalize or rollback{scheduled}",
                    self.name()
                ),
            });
        }
        Ok(risks)
    }

    async fn read_current(&self) -> BackendResult<(VersionRef, SecretValue)> {
        match self.kv.read(&self.path, None).await? {
            Some((n, doc)) => Ok((VersionRef(n.to_string()), to_value(&doc))),
            None => Err(self.err(
                ErrorClass::NotFound,
                "no current value (the secret is absent or its latest version is deleted)",
            )),
        }
    }

    async fn read_version(&self, version: &VersionRef) -> BackendResult<SecretValue> {
        let n = version_number(version)?;
        match self.kv.read(&self.path, Some(n)).await? {
            Some((got, doc)) if got == n => Ok(to_value(&doc)),
            _ => Err(self.err(
                ErrorClass::NotFound,
                format!("version {n} is not readable (absent, deleted, destroyed or pruned)"),
            )),
        }
    }

    async fn acquire(&self, token: &RotationToken) -> BackendResult<()> {
        let key = self.opts.lock_key(&self.path);
        if self.take_lock(token, 0).await? {
            tracing::debug!(store = %self.name(), lock = %key, "lock taken");
            return Ok(());
        }
        let held = self.kv.read(&key, None).await?;
        let (version, lock) = match held {
            Some((v, m)) => (v, LockInfo::parse(&m)),
            None => {
                // The lock key exists but its latest version is deleted: a
                // dead lock. Take it over against its current version.
                let v = self
                    .kv
                    .metadata(&key)
                    .await?
                    .map_or(0, |m| m.current_version);
                if self.take_lock(token, v).await? {
                    tracing::debug!(store = %self.name(), "took over a deleted lock key");
                    return Ok(());
                }
                return Err(self.err(ErrorClass::Locked, "another rotation took the lock"));
            }
        };
        if lock.held_by(token) {
            tracing::debug!(store = %self.name(), "lock already ours");
            return Ok(());
        }
        if !lock.expired(Timestamp::now()) {
            return Err(self.err(
                ErrorClass::Locked,
                format!("locked by {} ({key})", lock.describe()),
            ));
        }
        if self.take_lock(token, version).await? {
            tracing::warn!(store = %self.name(), stale = %lock.describe(), "broke an expired lock");
            Ok(())
        } else {
            Err(self.err(
                ErrorClass::Locked,
                "another rotation broke the expired lock first",
            ))
        }
    }

    async fn release(&self, token: &RotationToken) -> BackendResult<()> {
        let key = self.opts.lock_key(&self.path);
        match self.kv.read(&key, None).await? {
            Some((_, m)) if LockInfo::parse(&m).held_by(token) => {
                self.kv.delete_metadata(&key).await?;
                tracing::debug!(store = %self.name(), "lock released");
            }
            _ => tracing::debug!(store = %self.name(), "lock not held by us; nothing to release"),
        }
        Ok(())
    }

    async fn stage(&self, token: &RotationToken, value: &SecretValue) -> BackendResult<VersionRef> {
        let doc = parse_doc(value)?;
        let key = self.opts.staging_key(&self.path, token);
        match self.kv.write(&key, &doc, Some(0)).await {
            Ok(_) => tracing::debug!(store = %self.name(), staging = %key, "staged"),
            Err(e) if e.is_cas_mismatch() => match self.kv.read(&key, None).await? {
                Some((_, existing)) if existing == doc => {
                    tracing::debug!(store = %self.name(), "already staged")
                }
                _ => {
                    return Err(self.err(
                        ErrorClass::Conflict,
                        format!("staging key {key} already holds another value"),
                    ))
                }
            },
            Err(e) => return Err(e.into()),
        }
        let meta = self.meta().await?;
        Ok(VersionRef((meta.current_version + 1).to_string()))
    }

    async fn read_staged(&self, token: &RotationToken) -> BackendResult<SecretValue> {
        Ok(to_value(&self.staged_doc(token).await?))
    }

    async fn promote(
        &self,
        token: &RotationToken,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef> {
        let expected = version_number(expected_current)?;
        let staged = self.staged_doc(token).await?;
        match self.kv.write(&self.path, &staged, Some(expected)).await {
            Ok(n) => {
                tracing::info!(store = %self.name(), from = expected, to = n, "promoted");
                Ok(VersionRef(n.to_string()))
            }
            Err(e) if e.is_cas_mismatch() => match self.kv.read(&self.path, None).await? {
                Some((cur, doc)) if cur == expected + 1 && doc == staged => {
                    tracing::debug!(store = %self.name(), version = cur, "already promoted");
                    Ok(VersionRef(cur.to_string()))
                }
                cur => Err(self.err(
                    ErrorClass::Conflict,
                    format!(
                        "check-and-set failed: the current version is {}, the plan expected {expected}",
                        cur.map_or("deleted".to_string(), |(n, _)| n.to_string())
                    ),
                )),
            },
            Err(e) => Err(e.into()),
        }
    }

    async fn demote(
        &self,
        to: &VersionRef,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef> {
        let to_n = version_number(to)?;
        let expected = version_number(expected_current)?;
        let Some((_, old)) = self.kv.read(&self.path, Some(to_n)).await? else {
            return Err(self.err(
                ErrorClass::NotFound,
                format!(
                    "version {to_n} is not readable (deleted, destroyed or pruned by \
                     max_versions); cannot roll back"
                ),
            ));
        };
        // Done already: `to` is current, or the version after `expected`
        // holds `to`'s document (an earlier demote wrote it).
        let done = |cur: &Option<(u64, Map<String, Value>)>| match cur {
            Some((n, doc)) if *n == to_n || (*n == expected + 1 && *doc == old) => Some(*n),
            _ => None,
        };
        if let Some(n) = done(&self.kv.read(&self.path, None).await?) {
            tracing::debug!(store = %self.name(), version = n, "already rolled back");
            return Ok(VersionRef(n.to_string()));
        }
        match self.kv.write(&self.path, &old, Some(expected)).await {
            Ok(n) => {
                tracing::info!(store = %self.name(), restored = to_n, as_version = n, "rolled back");
                Ok(VersionRef(n.to_string()))
            }
            Err(e) if e.is_cas_mismatch() => {
                let cur = self.kv.read(&self.path, None).await?;
                if let Some(n) = done(&cur) {
                    return Ok(VersionRef(n.to_string()));
                }
                Err(self.err(
                    ErrorClass::Conflict,
                    format!(
                        "check-and-set failed: the current version is {}, expected {expected}",
                        cur.map_or("deleted".to_string(), |(n, _)| n.to_string())
                    ),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn discard_staged(&self, token: &RotationToken) -> BackendResult<()> {
        let key = self.opts.staging_key(&self.path, token);
        self.kv.delete_metadata(&key).await?;
        tracing::debug!(store = %self.name(), staging = %key, "staging key removed");
        Ok(())
    }

    async fn retire_version(&self, version: &VersionRef, how: RetireMode) -> BackendResult<()> {
        let n = version_number(version)?;
        let meta = self.meta().await?;
        if n == meta.current_version {
            return Err(self.err(
                ErrorClass::Conflict,
                format!("refusing to retire version {n}: it is the current version"),
            ));
        }
        let Some(vm) = meta.version(n) else {
            tracing::debug!(store = %self.name(), version = n, "version already pruned");
            return Ok(());
        };
        let now = Timestamp::now();
        match how {
            RetireMode::Destroy => {
                if !vm.destroyed {
                    self.kv
                        .versions_op("destroy", Method::Put, &self.path, n)
                        .await?;
                    tracing::info!(store = %self.name(), version = n, "destroyed");
                }
            }
            _ => {
                if vm.live(now) {
                    self.kv
                        .versions_op("delete", Method::Post, &self.path, n)
                        .await?;
                    tracing::info!(store = %self.name(), version = n, "soft-deleted");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert!(zero_duration(""));
        assert!(zero_duration("0s"));
        assert!(zero_duration("0"));
        assert!(!zero_duration("1h0m0s"));
        assert!(!zero_duration("768h0m0s"));
        assert!(!zero_duration("30s"));
    }

    #[test]
    fn version_states() {
        let now = Timestamp::now();
        let v = |deletion: &str, destroyed| VersionMeta {
            deletion_time: deletion.into(),
            destroyed,
        };
        assert!(v("", false).live(now));
        assert!(!v("2020-01-01T00:00:00Z", false).live(now));
        assert!(
            v("2999-01-01T00:00:00Z", false).live(now),
            "scheduled, not yet deleted"
        );
        assert!(!v("", true).live(now));
        let meta: Meta = serde_json::from_value(json!({
            "current_version": 3, "max_versions": 0, "delete_version_after": "0s",
            "versions": {"10": {"deletion_time": "", "destroyed": false},
                         "2": {"deletion_time": "", "destroyed": true}},
            "cas_required": false
        }))
        .unwrap();
        let ns: Vec<u64> = meta.numbered().iter().map(|(n, _)| *n).collect();
        assert_eq!(ns, [2, 10]);
    }

    #[test]
    fn data_of_reads_version_and_document() {
        let d = json!({"data": {"b": "1", "a": "2"}, "metadata": {"version": 4}});
        let (n, doc) = data_of(d).unwrap();
        assert_eq!(n, 4);
        assert_eq!(to_value(&doc).expose(), br#"{"b":"1","a":"2"}"#);
        assert!(data_of(json!({"data": null, "metadata": {"version": 4}})).is_none());
    }
}
