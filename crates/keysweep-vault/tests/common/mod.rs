//! Shared fixtures for the OpenBao tests: the server handle, admin calls
//! through vaultrs with the root token, a [`BackendFactory`] over the real
//! stores, and a store wrapper that crashes or interferes at a chosen call.
#![allow(dead_code)]

use keysweep_rotate::{
    async_trait, BackendError, BackendFactory, BackendResult, Engine, ErrorClass, FieldPath,
    Issuer, IssuerRef, PlanBuilder, RandomIssuer, RetireMode, RotationPlan, RotationToken,
    SecretStore, SecretValue, StoreCaps, StoreRef, StoreState, Strategy, VersionRef,
};
use keysweep_vault::{store_from_ref_with_auth, Kv2Options, Kv2Store, VaultAuth, VaultSettings};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use vaultrs::client::VaultClient;

/// The test OpenBao server (`KEYSWEEP_BAO_ADDR`, `KEYSWEEP_BAO_TOKEN`).
#[derive(Clone)]
pub struct Bao {
    pub addr: String,
    pub root: String,
}

/// The server, or `None` after printing why the test is skipped
/// (`KEYSWEEP_REQUIRE_SERVERS=1` turns a missing server into a failure).
pub fn bao(test: &str) -> Option<Bao> {
    match std::env::var("KEYSWEEP_BAO_ADDR") {
        Ok(addr) if !addr.is_empty() => Some(Bao {
            addr,
            root: std::env::var("KEYSWEEP_BAO_TOKEN").unwrap_or_else(|_| "root".into()),
        }),
        _ => {
            if std::env::var("KEYSWEEP_REQUIRE_SERVERS").as_deref() == Ok("1") {
                panic!("{test}: KEYSWEEP_REQUIRE_SERVERS=1 but KEYSWEEP_BAO_ADDR is unset");
            }
            // Straight to the process's stderr: the test harness captures
            // `eprintln!`, and a skip must be visible in a plain `cargo test`.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {test} needs an OpenBao server (KEYSWEEP_BAO_ADDR unset)"
            );
            None
        }
    }
}

/// `let bao = need_bao!();` — returns from the test when there is no server.
#[macro_export]
macro_rules! need_bao {
    ($name:expr) => {
        match common::bao($name) {
            Some(b) => b,
            None => return,
        }
    };
}

/// A short random suffix for unique paths and mounts.
pub fn uniq() -> String {
    RotationToken::new().short()
}

pub fn token_auth(t: &str) -> VaultAuth {
    VaultAuth::Token(t.to_string().into())
}

impl Bao {
    pub fn root_auth(&self) -> VaultAuth {
        token_auth(&self.root)
    }

    pub fn settings(&self, auth: VaultAuth) -> VaultSettings {
        VaultSettings {
            address: self.addr.clone(),
            namespace: None,
            ca_cert: None,
            skip_verify: false,
            auth,
        }
    }

    pub fn root_settings(&self) -> VaultSettings {
        self.settings(self.root_auth())
    }

    pub async fn root(&self) -> VaultClient {
        self.root_settings().client().await.expect("root client")
    }

    /// Writes a KV v2 secret as root; returns its version.
    pub async fn put(&self, mount: &str, path: &str, data: Value) -> u64 {
        vaultrs::kv2::set(&self.root().await, mount, path, &data)
            .await
            .unwrap_or_else(|e| panic!("put {mount}/{path}: {e}"))
            .version
    }

    /// Reads a KV v2 version as root (`None`: latest).
    pub async fn get(&self, mount: &str, path: &str, version: Option<u64>) -> Option<Value> {
        let c = self.root().await;
        let r = match version {
            Some(v) => vaultrs::kv2::read_version::<Value>(&c, mount, path, v).await,
            None => vaultrs::kv2::read::<Value>(&c, mount, path).await,
        };
        r.ok()
    }

    /// The key's metadata as root, as raw JSON (`None` when absent).
    pub async fn meta(&self, mount: &str, path: &str) -> Option<Value> {
        let c = self.root().await;
        vaultrs::kv2::read_metadata(&c, mount, path)
            .await
            .ok()
            .map(|m| serde_json::to_value(m).unwrap())
    }

    /// Names under a KV v2 folder (empty when absent).
    pub async fn list(&self, mount: &str, dir: &str) -> Vec<String> {
        vaultrs::kv2::list(&self.root().await, mount, dir)
            .await
            .unwrap_or_default()
    }

    /// Mounts a secrets engine `kv` of `version` at `path`.
    pub async fn mount_kv(&self, path: &str, version: &str) {
        let mut b = vaultrs::api::sys::requests::EnableEngineRequest::builder();
        b.options(std::collections::HashMap::from([(
            "version".to_string(),
            version.to_string(),
        )]));
        vaultrs::sys::mount::enable(&self.root().await, path, "kv", Some(&mut b))
            .await
            .unwrap_or_else(|e| panic!("mount {path}: {e}"));
    }

    /// Creates a namespace (OpenBao 2.x has them; Vault only in Enterprise).
    pub async fn create_namespace(&self, ns: &str) {
        vaultrs::api::exec_with_empty(&self.root().await, RawPost(format!("sys/namespaces/{ns}")))
            .await
            .unwrap_or_else(|e| panic!("namespace {ns}: {e}"));
    }

    /// A policy, then a token holding only it (plus `default`).
    pub async fn token_with_policy(&self, name: &str, hcl: &str) -> String {
        let c = self.root().await;
        vaultrs::sys::policy::set(&c, name, hcl)
            .await
            .unwrap_or_else(|e| panic!("policy {name}: {e}"));
        let mut b = vaultrs::api::token::requests::CreateTokenRequest::builder();
        b.policies(vec![name.to_string()]).ttl("1h");
        vaultrs::token::new(&c, Some(&mut b))
            .await
            .expect("token create")
            .client_token
    }

    /// An engine whose backends authenticate with `auth`.
    pub fn engine(&self, dir: &std::path::Path, auth: VaultAuth, hooks: Hooks) -> Engine {
        Engine::builder(dir, Arc::new(Factory { auth, hooks })).build()
    }

    pub async fn store(&self, auth: VaultAuth, mount: &str, path: &str) -> Kv2Store {
        Kv2Store::new(self.settings(auth), mount, path, Kv2Options::default())
            .await
            .unwrap_or_else(|e| panic!("store {mount}/{path}: {e}"))
    }
}

pub fn issuer() -> RandomIssuer {
    RandomIssuer::builder().length(32).build().unwrap()
}

/// A plan rotating `password` with the random issuer.
pub async fn plan(store: &dyn SecretStore, retire: RetireMode) -> RotationPlan {
    PlanBuilder::new()
        .field(FieldPath::new("password").unwrap())
        .strategy(Strategy::overlap(0))
        .retire(retire)
        .plan(store, &issuer())
        .await
        .unwrap_or_else(|e| panic!("plan: {e}"))
}

/// Whether `v` is a value the random issuer mints (what `issuer.test`
/// accepts).
pub async fn issuer_accepts(v: &str) -> bool {
    let cred = keysweep_rotate::Credential {
        id: keysweep_rotate::CredentialId("x".into()),
        value: SecretValue::from(v),
    };
    issuer().test(&cred).await.is_ok()
}

pub type HookFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Faults for [`Faulty`] stores, shared by every store a factory makes.
#[derive(Clone, Default)]
pub struct Hooks {
    pub calls: Arc<AtomicUsize>,
    pub log: Arc<Mutex<Vec<String>>>,
    /// Crash before (`false`) or after (`true`) the effect of call `n`.
    pub crash_at: Option<(usize, bool)>,
    /// Run this before the named call.
    pub before: Option<(&'static str, HookFn)>,
}

struct Factory {
    auth: VaultAuth,
    hooks: Hooks,
}

#[async_trait]
impl BackendFactory for Factory {
    async fn store(&self, r: &StoreRef) -> BackendResult<Arc<dyn SecretStore>> {
        let inner = store_from_ref_with_auth(r, self.auth.clone())
            .await?
            .ok_or_else(|| BackendError::new(ErrorClass::Unsupported, "not a vault kind"))?;
        Ok(Arc::new(Faulty {
            inner,
            hooks: self.hooks.clone(),
        }))
    }

    async fn issuer(&self, r: &IssuerRef) -> BackendResult<Arc<dyn Issuer>> {
        Ok(Arc::new(RandomIssuer::from_ref(r)?))
    }
}

/// Delegates to a real store, numbering its async calls, crashing
/// ([`ErrorClass::Crash`]) before or after the effect of one of them, or
/// running a hook before one (a concurrent writer).
pub struct Faulty {
    inner: Arc<dyn SecretStore>,
    hooks: Hooks,
}

impl Faulty {
    async fn around<T, F>(&self, name: &'static str, f: F) -> BackendResult<T>
    where
        F: Future<Output = BackendResult<T>>,
    {
        let i = self.hooks.calls.fetch_add(1, Ordering::SeqCst);
        self.hooks.log.lock().unwrap().push(name.to_string());
        if let Some((n, hook)) = &self.hooks.before {
            if *n == name {
                hook().await;
            }
        }
        let crash = |after| {
            Err(BackendError::new(
                ErrorClass::Crash,
                format!(
                    "injected crash {} call {i} ({name})",
                    if after { "after" } else { "before" }
                ),
            ))
        };
        if self.hooks.crash_at == Some((i, false)) {
            return crash(false);
        }
        let r = f.await;
        if self.hooks.crash_at == Some((i, true)) {
            return crash(true);
        }
        r
    }
}

#[async_trait]
impl SecretStore for Faulty {
    fn describe(&self) -> StoreRef {
        self.inner.describe()
    }
    fn capabilities(&self) -> StoreCaps {
        self.inner.capabilities()
    }
    fn required_permissions(&self) -> Vec<keysweep_rotate::Permission> {
        self.inner.required_permissions()
    }
    async fn inspect(&self) -> BackendResult<StoreState> {
        self.around("inspect", self.inner.inspect()).await
    }
    async fn plan_risks(&self) -> BackendResult<Vec<keysweep_rotate::Risk>> {
        self.around("plan_risks", self.inner.plan_risks()).await
    }
    async fn read_current(&self) -> BackendResult<(VersionRef, SecretValue)> {
        self.around("read_current", self.inner.read_current()).await
    }
    async fn read_version(&self, v: &VersionRef) -> BackendResult<SecretValue> {
        self.around("read_version", self.inner.read_version(v))
            .await
    }
    async fn acquire(&self, t: &RotationToken) -> BackendResult<()> {
        self.around("acquire", self.inner.acquire(t)).await
    }
    async fn release(&self, t: &RotationToken) -> BackendResult<()> {
        self.around("release", self.inner.release(t)).await
    }
    async fn stage(&self, t: &RotationToken, v: &SecretValue) -> BackendResult<VersionRef> {
        self.around("stage", self.inner.stage(t, v)).await
    }
    async fn read_staged(&self, t: &RotationToken) -> BackendResult<SecretValue> {
        self.around("read_staged", self.inner.read_staged(t)).await
    }
    async fn promote(&self, t: &RotationToken, e: &VersionRef) -> BackendResult<VersionRef> {
        self.around("promote", self.inner.promote(t, e)).await
    }
    async fn demote(&self, to: &VersionRef, e: &VersionRef) -> BackendResult<VersionRef> {
        self.around("demote", self.inner.demote(to, e)).await
    }
    async fn discard_staged(&self, t: &RotationToken) -> BackendResult<()> {
        self.around("discard_staged", self.inner.discard_staged(t))
            .await
    }
    async fn retire_version(&self, v: &VersionRef, how: RetireMode) -> BackendResult<()> {
        self.around("retire_version", self.inner.retire_version(v, how))
            .await
    }
}

/// The `password` of a KV v2 document read by [`Bao::get`].
pub fn password(doc: &Value) -> String {
    doc["password"]
        .as_str()
        .expect("password field")
        .to_string()
}

/// `{"username": "app", "password": pw}`.
pub fn doc(pw: &str) -> Value {
    json!({"username": "app", "password": pw})
}

/// No staging key and no lock left for `mount/path` (default prefixes).
pub async fn assert_no_leftovers(bao: &Bao, mount: &str, path: &str, ctx: &str) {
    let staging = bao.list(mount, &format!(".keysweep/staging/{path}")).await;
    assert!(staging.is_empty(), "{ctx}: staging keys left: {staging:?}");
    let lock = bao.meta(mount, &format!(".keysweep/locks/{path}")).await;
    assert!(lock.is_none(), "{ctx}: lock left");
}

/// `POST <path>` with an empty body, for admin calls vaultrs lacks.
struct RawPost(String);

impl rustify::endpoint::Endpoint for RawPost {
    type Response = ();
    const REQUEST_BODY_TYPE: rustify::enums::RequestType = rustify::enums::RequestType::JSON;
    const RESPONSE_BODY_TYPE: rustify::enums::ResponseType = rustify::enums::ResponseType::JSON;

    fn path(&self) -> String {
        self.0.clone()
    }

    fn method(&self) -> rustify::enums::RequestMethod {
        rustify::enums::RequestMethod::POST
    }
}
