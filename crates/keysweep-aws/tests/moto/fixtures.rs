//! Fixtures of the moto tests: the shared server, unique names, a backend
//! factory, an interfering store and a log capture.

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use keysweep_aws::{
    AwsSettings, IamAccessKeyIssuer, SecretsManagerStore, IAM_ISSUER_KIND, STORE_KIND,
};
use keysweep_rotate::{
    async_trait, BackendFactory, BackendResult, Engine, FieldPath, Issuer, IssuerRef, PlanBuilder,
    RandomIssuer, RetireMode, RotationPlan, RotationToken, SecretStore, SecretValue, StoreRef,
    Strategy, VersionRef,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const TEST_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Moto {
    pub endpoint: String,
    pub admin: Credentials,
}

/// The shared server, or `None` (after a loud skip line) when none is set.
pub fn moto(test: &str) -> Option<Moto> {
    let endpoint = std::env::var("KEYSWEEP_MOTO_ENDPOINT").unwrap_or_default();
    if endpoint.is_empty() {
        if std::env::var("KEYSWEEP_REQUIRE_SERVERS").as_deref() == Ok("1") {
            panic!("{test}: KEYSWEEP_REQUIRE_SERVERS=1 but KEYSWEEP_MOTO_ENDPOINT is unset");
        }
        // Straight to the process's stderr: libtest captures eprintln!.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: keysweep-aws moto test {test} (KEYSWEEP_MOTO_ENDPOINT unset)"
        );
        return None;
    }
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set with KEYSWEEP_MOTO_ENDPOINT"))
    };
    Some(Moto {
        endpoint,
        admin: Credentials::new(
            var("KEYSWEEP_MOTO_ACCESS_KEY_ID"),
            var("KEYSWEEP_MOTO_SECRET_ACCESS_KEY"),
            None,
            None,
            "moto-admin",
        ),
    })
}

macro_rules! moto_or_skip {
    ($name:expr) => {
        match moto($name) {
            Some(m) => m,
            None => return,
        }
    };
}

/// The AWS error code, also from the XML error bodies moto sends for
/// authentication and authorization failures, which the SDK cannot parse.
pub fn code<E: ProvideErrorMetadata>(
    e: &aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
) -> String {
    if let Some(c) = e.code() {
        return c.to_string();
    }
    let body = e
        .raw_response()
        .and_then(|r| r.body().bytes())
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    match (body.find("<Code>"), body.find("</Code>")) {
        (Some(a), Some(b)) if a < b => body[a + 6..b].to_string(),
        _ => "?".into(),
    }
}

/// A random name with a prefix, unique on the shared server.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", RotationToken::new().short())
}

impl Moto {
    pub fn settings(&self) -> AwsSettings {
        AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(self.endpoint.clone()),
            profile: None,
        }
    }

    pub async fn config(&self, creds: Credentials) -> SdkConfig {
        self.settings().sdk_config_with_credentials(creds).await
    }

    pub async fn admin(&self) -> SdkConfig {
        self.config(self.admin.clone()).await
    }

    pub async fn sm(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.admin().await)
    }

    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.admin().await)
    }

    /// A new secret holding `value`; returns its ARN.
    pub async fn secret(&self, name: &str, value: &str) -> String {
        let out = self
            .sm()
            .await
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("create_secret");
        out.arn().unwrap().to_string()
    }

    /// A new IAM user with `keys` access keys: (id, secret) pairs.
    pub async fn user(&self, name: &str, keys: usize) -> Vec<(String, String)> {
        let iam = self.iam().await;
        iam.create_user()
            .user_name(name)
            .send()
            .await
            .expect("create_user");
        let mut out = Vec::new();
        for _ in 0..keys {
            let k = iam
                .create_access_key()
                .user_name(name)
                .send()
                .await
                .expect("create_access_key")
                .access_key
                .unwrap();
            out.push((k.access_key_id, k.secret_access_key));
        }
        out
    }

    /// The user's keys and their status.
    pub async fn keys(&self, user: &str) -> BTreeMap<String, String> {
        self.iam()
            .await
            .list_access_keys()
            .user_name(user)
            .send()
            .await
            .unwrap()
            .access_key_metadata()
            .iter()
            .map(|k| {
                (
                    k.access_key_id().unwrap().to_string(),
                    k.status().unwrap().as_str().to_string(),
                )
            })
            .collect()
    }

    /// Who a key authenticates as, or the AWS error code.
    pub async fn whoami(&self, id: &str, secret: &str) -> Result<String, String> {
        let conf = self
            .config(Credentials::new(id, secret, None, None, "probe"))
            .await;
        match aws_sdk_sts::Client::new(&conf)
            .get_caller_identity()
            .send()
            .await
        {
            Ok(o) => Ok(o.arn().unwrap().to_string()),
            Err(e) => Err(code(&e)),
        }
    }

    /// Version id → labels.
    pub async fn stages(&self, secret: &str) -> BTreeMap<String, Vec<String>> {
        let d = self
            .sm()
            .await
            .describe_secret()
            .secret_id(secret)
            .send()
            .await
            .unwrap();
        d.version_ids_to_stages()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                v.sort();
                (k.clone(), v)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    pub async fn holder(&self, secret: &str, stage: &str) -> Option<String> {
        self.stages(secret)
            .await
            .into_iter()
            .find(|(_, v)| v.iter().any(|l| l == stage))
            .map(|(k, _)| k)
    }

    pub async fn value(&self, secret: &str, stage: &str) -> String {
        self.sm()
            .await
            .get_secret_value()
            .secret_id(secret)
            .version_stage(stage)
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap()
            .to_string()
    }

    pub async fn version_count(&self, secret: &str) -> usize {
        self.sm()
            .await
            .list_secret_version_ids()
            .secret_id(secret)
            .include_deprecated(true)
            .send()
            .await
            .unwrap()
            .versions()
            .len()
    }
}

/// Rebuilds this crate's backends (and `random`) with explicit credentials,
/// as the CLI's factory does with the chain. With `interfere`, the store
/// moves AWSCURRENT to a new version just before promoting (a concurrent
/// writer).
#[derive(Clone)]
pub struct Factory {
    pub config: SdkConfig,
    pub interfere: bool,
}

#[async_trait]
impl BackendFactory for Factory {
    async fn store(&self, r: &StoreRef) -> BackendResult<Arc<dyn SecretStore>> {
        assert_eq!(r.kind, STORE_KIND);
        let settings = AwsSettings::from_options(&r.options);
        let inner = SecretsManagerStore::with_config(settings, &self.config, &r.locator)?;
        if self.interfere {
            Ok(Arc::new(Interfering {
                inner,
                client: aws_sdk_secretsmanager::Client::new(&self.config),
            }))
        } else {
            Ok(Arc::new(inner))
        }
    }

    async fn issuer(&self, r: &IssuerRef) -> BackendResult<Arc<dyn Issuer>> {
        match r.kind.as_str() {
            "random" => Ok(Arc::new(RandomIssuer::from_ref(r)?)),
            IAM_ISSUER_KIND => {
                let settings = AwsSettings::from_options(&r.options);
                Ok(Arc::new(
                    IamAccessKeyIssuer::with_config(settings, &self.config, &r.principal)?
                        .with_test_timeout(TEST_TIMEOUT),
                ))
            }
            k => panic!("unexpected issuer kind {k}"),
        }
    }
}

/// A store whose `promote` is preceded by another writer's PutSecretValue
/// (same document, new version, AWSCURRENT).
pub struct Interfering {
    pub inner: SecretsManagerStore,
    pub client: aws_sdk_secretsmanager::Client,
}

#[async_trait]
impl SecretStore for Interfering {
    fn describe(&self) -> StoreRef {
        self.inner.describe()
    }
    fn capabilities(&self) -> keysweep_rotate::StoreCaps {
        self.inner.capabilities()
    }
    async fn inspect(&self) -> BackendResult<keysweep_rotate::StoreState> {
        self.inner.inspect().await
    }
    async fn read_current(&self) -> BackendResult<(VersionRef, SecretValue)> {
        self.inner.read_current().await
    }
    async fn read_version(&self, v: &VersionRef) -> BackendResult<SecretValue> {
        self.inner.read_version(v).await
    }
    async fn acquire(&self, t: &RotationToken) -> BackendResult<()> {
        self.inner.acquire(t).await
    }
    async fn release(&self, t: &RotationToken) -> BackendResult<()> {
        self.inner.release(t).await
    }
    async fn stage(&self, t: &RotationToken, v: &SecretValue) -> BackendResult<VersionRef> {
        self.inner.stage(t, v).await
    }
    async fn read_staged(&self, t: &RotationToken) -> BackendResult<SecretValue> {
        self.inner.read_staged(t).await
    }
    async fn promote(&self, t: &RotationToken, expected: &VersionRef) -> BackendResult<VersionRef> {
        let (_, doc) = self.inner.read_current().await?;
        self.client
            .put_secret_value()
            .secret_id(self.inner.secret_id())
            .secret_string(doc.expose_str().unwrap())
            .send()
            .await
            .expect("concurrent writer");
        self.inner.promote(t, expected).await
    }
    async fn demote(&self, to: &VersionRef, expected: &VersionRef) -> BackendResult<VersionRef> {
        self.inner.demote(to, expected).await
    }
    async fn discard_staged(&self, t: &RotationToken) -> BackendResult<()> {
        self.inner.discard_staged(t).await
    }
    async fn retire_version(&self, v: &VersionRef, how: RetireMode) -> BackendResult<()> {
        self.inner.retire_version(v, how).await
    }
}

/// An IAM rotation fixture: user `app-…` with one key (plus `extra` more),
/// a secret holding the first key as JSON, and the rotator's config.
pub struct IamFixture {
    pub moto: Moto,
    pub user: String,
    pub old: (String, String),
    pub others: Vec<(String, String)>,
    pub secret: String,
    pub rotator: SdkConfig,
    pub dir: tempfile::TempDir,
}

impl IamFixture {
    pub async fn new(moto: Moto, extra: usize) -> IamFixture {
        let user = unique("ks-app");
        let mut keys = moto.user(&user, 1 + extra).await;
        let old = keys.remove(0);
        let doc = serde_json::json!({
            "aws_access_key_id": old.0,
            "aws_secret_access_key": old.1,
            "region": "us-east-1",
        });
        let secret = moto.secret(&unique("ks-iam"), &doc.to_string()).await;
        let rotator = moto.admin().await;
        IamFixture {
            moto,
            user,
            old,
            others: keys,
            secret,
            rotator,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn store(&self) -> SecretsManagerStore {
        SecretsManagerStore::with_config(self.moto.settings(), &self.rotator, &self.secret).unwrap()
    }

    pub fn issuer(&self) -> IamAccessKeyIssuer {
        IamAccessKeyIssuer::with_config(self.moto.settings(), &self.rotator, &self.user)
            .unwrap()
            .with_test_timeout(TEST_TIMEOUT)
    }

    pub fn builder(&self) -> PlanBuilder {
        let mut b = PlanBuilder::new();
        b.field(FieldPath::new("aws_secret_access_key").unwrap())
            .id_field(FieldPath::new("aws_access_key_id").unwrap())
            .strategy(Strategy::overlap(0));
        b
    }

    pub async fn plan(&self, b: &PlanBuilder) -> keysweep_rotate::Result<RotationPlan> {
        b.plan(&self.store(), &self.issuer()).await
    }

    pub fn engine(&self, interfere: bool) -> Engine {
        let f = Factory {
            config: self.rotator.clone(),
            interfere,
        };
        Engine::builder(self.dir.path(), Arc::new(f)).build()
    }

    /// The current document's (id, secret).
    pub async fn current_key(&self) -> (String, String) {
        let doc: serde_json::Value =
            serde_json::from_str(&self.moto.value(&self.secret, "AWSCURRENT").await).unwrap();
        assert_eq!(doc["region"], "us-east-1", "other fields are kept");
        (
            doc["aws_access_key_id"].as_str().unwrap().to_string(),
            doc["aws_secret_access_key"].as_str().unwrap().to_string(),
        )
    }
}

/// Captures every `tracing` event (all levels, all targets, the AWS SDK's
/// included) on this thread.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
