//! The KV v1 store: opt-in, unversioned, last-write-wins.

use crate::common::{invalid, lock_body, parse_doc, split_locator, to_value, Kv2Options, LockInfo};
use crate::http::{object, ApiError, Method, Vault};
use crate::policy;
use crate::settings::{VaultAuth, VaultSettings};
use crate::{kv1_refusal, KV1_KIND};
use jiff::Timestamp;
use keysweep_rotate::{
    async_trait, BackendError, BackendResult, ErrorClass, FingerprintKey, Permission, RetireMode,
    Risk, RotationToken, SecretStore, SecretValue, Severity, StoreCaps, StoreRef, StoreState,
    VersionInfo, VersionRef,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

type Doc = Map<String, Value>;

/// Prefix of the keys holding values saved before promotion.
const PREVIOUS: &str = "previous-";
/// Name of the key holding the salt of version ids.
const SALT: &str = "salt";

/// KV v1 primitives on one mount.
#[derive(Clone, Debug)]
struct KvV1 {
    vault: Vault,
    mount: String,
}

impl KvV1 {
    async fn read(&self, key: &str) -> Result<Option<Doc>, ApiError> {
        let path = format!("{}/{key}", self.mount);
        match self.vault.data(Method::Get, &path, None, None).await {
            Ok(d) => Ok(object(d)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn write(&self, key: &str, doc: &Doc) -> Result<(), ApiError> {
        let path = format!("{}/{key}", self.mount);
        let body = Value::Object(doc.clone());
        self.vault
            .call(Method::Post, &path, None, Some(&body))
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), ApiError> {
        let path = format!("{}/{key}", self.mount);
        match self.vault.call(Method::Delete, &path, None, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list(&self, dir: &str) -> Result<Vec<String>, ApiError> {
        let path = format!("{}/{dir}/", self.mount);
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
}

/// A KV v1 secret as a [`SecretStore`] (kind [`KV1_KIND`], locator
/// `mount/path`). **Opt-in**: [`Kv1Store::from_ref`] refuses unless the store
/// option `allow_unversioned` is `true`.
///
/// KV v1 keeps no versions and has no check-and-set, so:
///
/// * a version id is `kv1-` and 16 hex digits of a keyed hash of the
///   document, keyed by a random salt kept at `<staging>/<path>/salt` (so
///   plans do not carry an unkeyed hash of the secret);
/// * `promote` first saves the current document at
///   `<staging>/<path>/previous-<token>`, then writes the staged one with a
///   plain write (a concurrent writer between the check and the write is
///   overwritten: last write wins);
/// * `read_version` of an old id and `demote` use the saved copy, which
///   `retire_version` (finalize) deletes, as a successful `demote` does once
///   the value is restored;
/// * the lock at `<lock>/<path>` is advisory (read, then write, then read
///   back).
///
/// Capabilities: `cas: false`; `versioned: true` because the saved copy keeps
/// the old value readable (rollback, checking the old credential) until
/// `retire_version` deletes it at finalize. `plan_risks` reports a High risk.
#[derive(Clone)]
pub struct Kv1Store {
    kv: KvV1,
    path: String,
    opts: Kv2Options,
    options: BTreeMap<String, String>,
    salt: Arc<Mutex<Option<FingerprintKey>>>,
}

impl fmt::Debug for Kv1Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kv1Store")
            .field("mount", &self.kv.mount)
            .field("path", &self.path)
            .field("opts", &self.opts)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Kv1Store {
    /// Connects and checks that `mount` is a KV v1 engine (a KV v2 mount is
    /// refused: use [`Kv2Store`](crate::Kv2Store)). Calling this is the
    /// opt-in; the staging and lock prefixes of `opts` are used in the same
    /// mount.
    pub async fn new(
        settings: VaultSettings,
        mount: &str,
        path: &str,
        opts: Kv2Options,
    ) -> BackendResult<Kv1Store> {
        let mount = mount.trim_matches('/');
        crate::common::check_key("mount", mount)?;
        crate::common::check_key("path", path)?;
        opts.check(path)?;
        let vault = settings.vault().await?;
        if vault.kv_version(mount).await? == Some(2) {
            return Err(invalid(format!(
                "{mount}/ is a KV v2 mount; use the store kind vault-kv2"
            )));
        }
        let mut options = settings.to_options();
        opts.to_options(&mut options);
        options.insert("allow_unversioned".into(), "true".into());
        if mount.contains('/') {
            options.insert("mount".into(), mount.to_string());
        }
        Ok(Kv1Store {
            kv: KvV1 {
                vault,
                mount: mount.to_string(),
            },
            path: path.to_string(),
            opts,
            options,
            salt: Arc::new(Mutex::new(None)),
        })
    }

    /// The store described by `r`. Refuses with [`ErrorClass::Unsupported`]
    /// unless `r.options["allow_unversioned"] == "true"`.
    pub async fn from_ref(r: &StoreRef) -> BackendResult<Kv1Store> {
        Kv1Store::from_ref_with(r, None).await
    }

    /// [`Kv1Store::from_ref`] with these credentials instead of the
    /// environment's.
    pub async fn from_ref_with_auth(r: &StoreRef, auth: VaultAuth) -> BackendResult<Kv1Store> {
        Kv1Store::from_ref_with(r, Some(auth)).await
    }

    async fn from_ref_with(r: &StoreRef, auth: Option<VaultAuth>) -> BackendResult<Kv1Store> {
        if r.kind != KV1_KIND {
            return Err(invalid(format!("store kind {} is not {KV1_KIND}", r.kind)));
        }
        if r.options.get("allow_unversioned").map(String::as_str) != Some("true") {
            return Err(BackendError::new(
                ErrorClass::Unsupported,
                format!("{}: {}", r, kv1_refusal()),
            ));
        }
        let (mount, path) = split_locator(&r.locator, r.options.get("mount").map(String::as_str))?;
        let settings = match auth {
            Some(a) => VaultSettings::from_options_with_auth(&r.options, a)?,
            None => VaultSettings::from_env_and_options(&r.options)?,
        };
        let opts = Kv2Options::from_options(&r.options)?;
        Kv1Store::new(settings, &mount, &path, opts).await
    }

    fn name(&self) -> String {
        format!("{KV1_KIND}:{}/{}", self.kv.mount, self.path)
    }

    fn err(&self, class: ErrorClass, m: impl fmt::Display) -> BackendError {
        BackendError::new(class, format!("{}: {m}", self.name()))
    }

    fn dir(&self) -> String {
        self.opts.staging_dir(&self.path)
    }

    fn previous_key(&self, token: &RotationToken) -> String {
        format!("{}/{PREVIOUS}{token}", self.dir())
    }

    async fn salt(&self) -> BackendResult<FingerprintKey> {
        if let Some(k) = self.salt.lock().expect("salt lock").clone() {
            return Ok(k);
        }
        let key = format!("{}/{SALT}", self.dir());
        let salt_of = |d: &Doc| d.get("salt").and_then(Value::as_str).map(str::to_string);
        let salt = match self.kv.read(&key).await?.as_ref().and_then(salt_of) {
            Some(s) => s,
            None => {
                let mut d = Doc::new();
                let fresh = format!("{}{}", RotationToken::new(), RotationToken::new());
                d.insert("salt".into(), Value::String(fresh));
                self.kv.write(&key, &d).await?;
                // Read back: a concurrent first writer wins for both.
                self.kv
                    .read(&key)
                    .await?
                    .as_ref()
                    .and_then(salt_of)
                    .ok_or_else(|| self.err(ErrorClass::Other, "the salt key vanished"))?
            }
        };
        let k = FingerprintKey::new(salt.into_bytes());
        *self.salt.lock().expect("salt lock") = Some(k.clone());
        Ok(k)
    }

    async fn id(&self, doc: &Doc) -> BackendResult<VersionRef> {
        let fp = self.salt().await?.value_fingerprint(to_value(doc).expose());
        Ok(VersionRef(format!("kv1-{}", &fp.to_hex()[..16])))
    }

    async fn current(&self) -> BackendResult<Doc> {
        self.kv
            .read(&self.path)
            .await?
            .ok_or_else(|| self.err(ErrorClass::NotFound, "no such secret"))
    }

    /// Saved previous documents: (key, document).
    async fn saved(&self) -> BackendResult<Vec<(String, Doc)>> {
        let mut out = Vec::new();
        for k in self.kv.list(&self.dir()).await? {
            if k.starts_with(PREVIOUS) && !k.ends_with('/') {
                let key = format!("{}/{k}", self.dir());
                if let Some(d) = self.kv.read(&key).await? {
                    out.push((key, d));
                }
            }
        }
        Ok(out)
    }

    async fn find(&self, v: &VersionRef) -> BackendResult<Doc> {
        let cur = self.current().await?;
        if self.id(&cur).await? == *v {
            return Ok(cur);
        }
        for (_, d) in self.saved().await? {
            if self.id(&d).await? == *v {
                return Ok(d);
            }
        }
        Err(self.err(
            ErrorClass::NotFound,
            format!("version {v} is neither current nor saved"),
        ))
    }

    async fn staged_doc(&self, token: &RotationToken) -> BackendResult<Doc> {
        self.kv
            .read(&self.opts.staging_key(&self.path, token))
            .await?
            .ok_or_else(|| {
                self.err(
                    ErrorClass::NotFound,
                    format!("no staged value for rotation rot-{}", token.short()),
                )
            })
    }
}

#[async_trait]
impl SecretStore for Kv1Store {
    fn describe(&self) -> StoreRef {
        StoreRef {
            kind: KV1_KIND.into(),
            locator: format!("{}/{}", self.kv.mount, self.path),
            options: self.options.clone(),
        }
    }

    fn capabilities(&self) -> StoreCaps {
        // `versioned`: the saved copy keeps the old value readable and
        // rollback possible until finalize, and the planner schedules the
        // `retire` step (which deletes that copy) only for versioned stores.
        StoreCaps {
            versioned: true,
            cas: false,
            labels: false,
            max_versions: None,
        }
    }

    fn required_permissions(&self) -> Vec<Permission> {
        policy::permissions(&policy::kv1_rules(&self.kv.mount, &self.path, &self.opts))
    }

    async fn inspect(&self) -> BackendResult<StoreState> {
        let cur = self.current().await?;
        let current = self.id(&cur).await?;
        let mut versions = vec![VersionInfo {
            version: current.clone(),
            labels: vec!["current".into()],
        }];
        let mut previous = None;
        for (_, d) in self.saved().await? {
            let id = self.id(&d).await?;
            previous = Some(id.clone());
            versions.push(VersionInfo {
                version: id,
                labels: vec!["saved".into()],
            });
        }
        let mut pending = self
            .kv
            .list(&self.dir())
            .await?
            .into_iter()
            .find(|k| RotationToken::parse(k).is_some())
            .map(VersionRef);
        if pending.is_none() {
            if let Some(m) = self.kv.read(&self.opts.lock_key(&self.path)).await? {
                let l = LockInfo::parse(&m);
                if !l.expired(Timestamp::now()) {
                    pending = Some(VersionRef(format!(
                        "lock:{}",
                        l.token.unwrap_or_else(|| "unknown".into())
                    )));
                }
            }
        }
        Ok(StoreState {
            current: Some(current),
            pending,
            previous,
            versions,
            native_rotation: false,
        })
    }

    async fn plan_risks(&self) -> BackendResult<Vec<Risk>> {
        Ok(vec![Risk {
            code: "vault-kv1-unversioned".into(),
            severity: Severity::High,
            message: format!(
                "{} is KV v1: no versions and no check-and-set, so a concurrent writer is \
                 overwritten (last write wins) and rollback relies on the copy saved at {}/{}<token> \
                 until finalize",
                self.name(),
                self.dir(),
                PREVIOUS
            ),
        }])
    }

    async fn read_current(&self) -> BackendResult<(VersionRef, SecretValue)> {
        let cur = self.current().await?;
        Ok((self.id(&cur).await?, to_value(&cur)))
    }

    async fn read_version(&self, version: &VersionRef) -> BackendResult<SecretValue> {
        Ok(to_value(&self.find(version).await?))
    }

    async fn acquire(&self, token: &RotationToken) -> BackendResult<()> {
        let key = self.opts.lock_key(&self.path);
        if let Some(m) = self.kv.read(&key).await? {
            let l = LockInfo::parse(&m);
            if l.held_by(token) {
                return Ok(());
            }
            if !l.expired(Timestamp::now()) {
                return Err(self.err(
                    ErrorClass::Locked,
                    format!("locked by {} ({key})", l.describe()),
                ));
            }
            tracing::warn!(store = %self.name(), stale = %l.describe(), "breaking an expired lock");
        }
        self.kv
            .write(&key, &lock_body(token, self.opts.lock_ttl, &self.name()))
            .await?;
        match self.kv.read(&key).await? {
            Some(m) if LockInfo::parse(&m).held_by(token) => Ok(()),
            _ => Err(self.err(ErrorClass::Locked, "another rotation took the lock")),
        }
    }

    async fn release(&self, token: &RotationToken) -> BackendResult<()> {
        let key = self.opts.lock_key(&self.path);
        if let Some(m) = self.kv.read(&key).await? {
            if LockInfo::parse(&m).held_by(token) {
                self.kv.delete(&key).await?;
            }
        }
        Ok(())
    }

    async fn stage(&self, token: &RotationToken, value: &SecretValue) -> BackendResult<VersionRef> {
        let doc = parse_doc(value)?;
        let key = self.opts.staging_key(&self.path, token);
        match self.kv.read(&key).await? {
            Some(existing) if existing == doc => {}
            Some(_) => {
                return Err(self.err(
                    ErrorClass::Conflict,
                    format!("staging key {key} already holds another value"),
                ))
            }
            None => self.kv.write(&key, &doc).await?,
        }
        self.id(&doc).await
    }

    async fn read_staged(&self, token: &RotationToken) -> BackendResult<SecretValue> {
        Ok(to_value(&self.staged_doc(token).await?))
    }

    async fn promote(
        &self,
        token: &RotationToken,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef> {
        let staged = self.staged_doc(token).await?;
        let new_id = self.id(&staged).await?;
        let cur = self.current().await?;
        if cur == staged {
            return Ok(new_id);
        }
        let cur_id = self.id(&cur).await?;
        if cur_id != *expected_current {
            return Err(self.err(
                ErrorClass::Conflict,
                format!("the current version is {cur_id}, the plan expected {expected_current}"),
            ));
        }
        let prev = self.previous_key(token);
        match self.kv.read(&prev).await? {
            Some(saved) if saved == cur => {}
            Some(_) => {
                return Err(self.err(
                    ErrorClass::Conflict,
                    format!("{prev} already holds another saved value"),
                ))
            }
            None => self.kv.write(&prev, &cur).await?,
        }
        self.kv.write(&self.path, &staged).await?;
        tracing::info!(store = %self.name(), saved = %prev, "promoted (previous value saved)");
        Ok(new_id)
    }

    async fn demote(
        &self,
        to: &VersionRef,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef> {
        let target = self.find(to).await?;
        let cur = self.current().await?;
        if cur != target {
            let cur_id = self.id(&cur).await?;
            if cur_id != *expected_current {
                return Err(self.err(
                    ErrorClass::Conflict,
                    format!("the current version is {cur_id}, expected {expected_current}"),
                ));
            }
            self.kv.write(&self.path, &target).await?;
            tracing::info!(store = %self.name(), restored = %to, "rolled back");
        }
        for (key, d) in self.saved().await? {
            if d == target {
                self.kv.delete(&key).await?;
            }
        }
        Ok(to.clone())
    }

    async fn discard_staged(&self, token: &RotationToken) -> BackendResult<()> {
        self.kv
            .delete(&self.opts.staging_key(&self.path, token))
            .await?;
        Ok(())
    }

    async fn retire_version(&self, version: &VersionRef, _how: RetireMode) -> BackendResult<()> {
        let cur = self.current().await?;
        if self.id(&cur).await? == *version {
            return Err(self.err(
                ErrorClass::Conflict,
                format!("refusing to retire {version}: it is the current value"),
            ));
        }
        for (key, d) in self.saved().await? {
            if self.id(&d).await? == *version {
                self.kv.delete(&key).await?;
                tracing::info!(store = %self.name(), saved = %key, "saved previous value deleted");
            }
        }
        Ok(())
    }
}
