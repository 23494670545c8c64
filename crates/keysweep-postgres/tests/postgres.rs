//! Rotations against a real PostgreSQL server, driven by the engine.
//!
//! Needs `KEYSWEEP_PG_ADMIN_URL` (a superuser or CREATEROLE admin; start a
//! throwaway cluster with `tests/start-postgres.sh <datadir> <port>`).
//! Without it every test prints `SKIPPED: …` and passes, unless
//! `KEYSWEEP_REQUIRE_SERVERS=1`. `KEYSWEEP_PG_LOG` (the server log file),
//! when set and readable, enables the server-log checks.
//!
//! Tests run in parallel on one server: each creates its own roles
//! (`ks_test_<random>`, dropped at the end, even on panic) and never touches
//! the process environment.
//!
//! # Non-overlapping issuers and the engine
//!
//! A role has one password, so after the set step the old password is dead.
//! The engine's compensation (`reactivate_old`, `demote`, `discard`,
//! `revoke_new`) does not set the old password again, so an abort after set
//! and a rollback after promotion leave the store pointing at a password
//! the server no longer accepts. [`ENGINE_RESTORES_OLD_PASSWORD`] records that
//! behaviour; flip it when the engine re-sets the old credential for issuers
//! without overlap.

use keysweep_postgres::{
    quote_identifier, quote_literal, url_parts, PostgresIssuer, PostgresOptions, UrlParts,
};
use keysweep_rotate::testing::{FakeSecretsManager, FakeStore, Faults, AWSCURRENT, AWSPENDING};
use keysweep_rotate::{
    async_trait, BackendFactory, BackendResult, CreateCtx, Credential, CredentialId, Engine, Error,
    ErrorClass, FieldPath, Issuer, IssuerCaps, IssuerRef, IssuerState, Liveness, PlanBuilder,
    RotationPlan, RotationToken, SecretStore, SecretValue, SetOutcome, Severity, State, Step,
    StoreRef, Strategy, TestEvidence,
};
use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::NoTls;

/// Whether the engine sets the old password again when it aborts after the
/// set step or rolls back after promotion (see the module docs).
const ENGINE_RESTORES_OLD_PASSWORD: bool = true;

// ---------------------------------------------------------------------------
// Server access
// ---------------------------------------------------------------------------

fn admin_url(test: &str) -> Option<String> {
    match std::env::var("KEYSWEEP_PG_ADMIN_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("KEYSWEEP_REQUIRE_SERVERS").as_deref() == Ok("1") {
                panic!("{test}: KEYSWEEP_PG_ADMIN_URL unset but KEYSWEEP_REQUIRE_SERVERS=1");
            }
            eprintln!("SKIPPED: keysweep-postgres {test} (KEYSWEEP_PG_ADMIN_URL unset)");
            None
        }
    }
}

fn server_log() -> Option<String> {
    let path = std::env::var("KEYSWEEP_PG_LOG").ok()?;
    std::fs::read_to_string(path).ok()
}

/// The test's view of the server: an admin session for setup and checks.
struct Pg {
    url: String,
    parts: UrlParts,
    client: tokio_postgres::Client,
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("admin connection failed: {:?}", e.code()));
    tokio::spawn(conn);
    client
}

/// A role created for one test, dropped when the guard goes (also on panic).
struct TestRole {
    name: String,
    admin_url: String,
}

impl Drop for TestRole {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((c, conn)) = tokio_postgres::connect(&url, NoTls).await {
                    tokio::spawn(conn);
                    let _ = c
                        .batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_identifier(&name)))
                        .await;
                }
            });
        })
        .join();
    }
}

impl Pg {
    async fn new(url: String) -> Pg {
        let parts = url_parts(&url).expect("admin URL");
        let client = connect(&url).await;
        Pg { url, parts, client }
    }

    fn verifier(password: &str) -> String {
        postgres_protocol::password::scram_sha_256(password.as_bytes())
    }

    /// Creates `ks_test_<random>` with `password` (sent as a verifier, so the
    /// plaintext never reaches the server log) and extra attributes.
    async fn create_role(&self, password: &str, attrs: &str) -> TestRole {
        let name = format!("ks_test_{}", RotationToken::new().short());
        self.client
            .batch_execute(&format!(
                "CREATE ROLE {} {attrs} PASSWORD {}",
                quote_identifier(&name),
                quote_literal(&Pg::verifier(password))
            ))
            .await
            .expect("CREATE ROLE");
        TestRole {
            name,
            admin_url: self.url.clone(),
        }
    }

    /// Changes a password behind the engine's back.
    async fn set_password(&self, role: &str, password: &str) {
        self.client
            .batch_execute(&format!(
                "ALTER ROLE {} PASSWORD {}",
                quote_identifier(role),
                quote_literal(&Pg::verifier(password))
            ))
            .await
            .expect("ALTER ROLE");
    }

    /// The stored verifier (superuser only; `None` otherwise).
    async fn stored_verifier(&self, role: &str) -> Option<String> {
        self.client
            .query_one(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
                &[&role],
            )
            .await
            .ok()
            .and_then(|r| r.get(0))
    }

    /// A URL logging in as `role` with `password` (alphanumeric in tests).
    fn url_as(&self, role: &str, password: &str) -> String {
        let host = if self.parts.host.contains(':') {
            format!("[{}]", self.parts.host)
        } else {
            self.parts.host.clone()
        };
        format!(
            "postgres://{role}:{password}@{host}:{}/{}",
            self.parts.port,
            self.parts.dbname.as_deref().unwrap_or("postgres")
        )
    }

    /// Logs in as `role`: `Ok(())`, or the SQLSTATE (`"io"` without one).
    async fn login(&self, role: &str, password: &str) -> Result<(), String> {
        let mut cfg = tokio_postgres::Config::new();
        cfg.host(&self.parts.host)
            .port(self.parts.port)
            .dbname(self.parts.dbname.as_deref().unwrap_or("postgres"))
            .user(role)
            .password(password)
            .connect_timeout(Duration::from_secs(10));
        match cfg.connect(NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                let row = client
                    .query_one("SELECT current_user::text", &[])
                    .await
                    .unwrap();
                assert_eq!(row.get::<_, String>(0), role);
                Ok(())
            }
            Err(e) => Err(e.code().map_or("io".into(), |c| c.code().to_string())),
        }
    }

    fn issuer(&self, role: &str) -> PostgresIssuer {
        issuer_with(&self.url, role)
    }
}

fn issuer_with(admin_url: &str, role: &str) -> PostgresIssuer {
    PostgresIssuer::new(
        SecretString::from(admin_url.to_string()),
        role,
        PostgresOptions::default(),
    )
    .expect("issuer")
    .with_test_retries(2, Duration::from_millis(50))
}

// ---------------------------------------------------------------------------
// Engine plumbing: a fake store over a shared secret, the real issuer
// ---------------------------------------------------------------------------

type Wrap = Arc<dyn Fn(PostgresIssuer) -> Arc<dyn Issuer> + Send + Sync>;

/// Re-creates stores (over one shared fake secret) and PostgreSQL issuers
/// (with an explicit admin URL, never from the environment).
struct PgFactory {
    sm: FakeSecretsManager,
    admin: String,
    wrap: Option<Wrap>,
}

#[async_trait]
impl BackendFactory for PgFactory {
    async fn store(&self, r: &StoreRef) -> BackendResult<Arc<dyn SecretStore>> {
        assert_eq!(r.kind, "memory");
        Ok(Arc::new(FakeStore::new(
            self.sm.clone(),
            &r.locator,
            Faults::new(),
        )))
    }

    async fn issuer(&self, r: &IssuerRef) -> BackendResult<Arc<dyn Issuer>> {
        assert_eq!(r.kind, keysweep_postgres::ISSUER_KIND);
        let i = PostgresIssuer::new(
            SecretString::from(self.admin.clone()),
            &r.principal,
            PostgresOptions::from_ref(r)?,
        )?
        .with_test_retries(2, Duration::from_millis(50));
        Ok(match &self.wrap {
            Some(w) => w(i),
            None => Arc::new(i),
        })
    }
}

/// A JSON secret like the ones apps keep: `{"username", "password", "host", "port"}`.
fn document(pg: &Pg, role: &str, password: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "username": role,
        "password": password,
        "host": pg.parts.host,
        "port": pg.parts.port,
    }))
    .unwrap()
}

fn current_doc(sm: &FakeSecretsManager) -> serde_json::Value {
    let v = sm.get_secret_value(None, Some(AWSCURRENT)).unwrap();
    serde_json::from_slice(v.expose()).unwrap()
}

async fn plan_for(
    sm: &FakeSecretsManager,
    issuer: &dyn Issuer,
) -> keysweep_rotate::Result<RotationPlan> {
    let store = FakeStore::new(sm.clone(), "app/db", Faults::new());
    PlanBuilder::new()
        .field(FieldPath::new("password").unwrap())
        .strategy(Strategy::overlap(0))
        .plan(&store, issuer)
        .await
}

fn engine(dir: &tempfile::TempDir, factory: PgFactory) -> Engine {
    Engine::builder(dir.path(), Arc::new(factory)).build()
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

#[tokio::test]
async fn happy_path_json_secret() {
    let Some(url) = admin_url("happy_path_json_secret") else {
        return;
    };
    let pg = Pg::new(url).await;
    let old = format!("old{}", RotationToken::new().short());
    let role = pg.create_role(&old, "LOGIN").await;
    let sm = FakeSecretsManager::new(&document(&pg, &role.name, &old));

    let plan = plan_for(&sm, &pg.issuer(&role.name)).await.expect("plan");
    assert_eq!(plan.old_credential, Some(CredentialId(role.name.clone())));
    assert_eq!(plan.target.issuer.kind, "postgres");
    assert!(plan
        .risks
        .iter()
        .any(|r| r.code == "no-overlap" && r.severity == Severity::High));
    assert!(plan.risks.iter().any(|r| r.code == "pg-statement-logging"));
    let steps: Vec<Step> = plan.steps.iter().map(|s| s.step).collect();
    assert!(!steps.contains(&Step::Deactivate), "{steps:?}");
    assert!(steps.contains(&Step::VerifyDead), "{steps:?}");

    let dir = tempfile::tempdir().unwrap();
    let factory = PgFactory {
        sm: sm.clone(),
        admin: pg.url.clone(),
        wrap: None,
    };
    let engine = engine(&dir, factory);
    let status = engine.apply(&plan).await.expect("apply");
    assert_eq!(status.state, State::Cutover);

    let doc = current_doc(&sm);
    let new = doc["password"].as_str().unwrap().to_string();
    assert_eq!(new.len(), 32);
    assert!(new.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(doc["username"], role.name.as_str());
    assert_eq!(doc["host"], pg.parts.host.as_str());
    assert_eq!(doc["port"], pg.parts.port);
    assert_eq!(pg.login(&role.name, &new).await, Ok(()));
    assert_eq!(pg.login(&role.name, &old).await, Err("28P01".into()));
    // The server stores a SCRAM verifier (when we may read pg_authid).
    if let Some(v) = pg.stored_verifier(&role.name).await {
        assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
    }

    let status = engine.finalize(&plan.id, true).await.expect("finalize");
    assert_eq!(status.state, State::Done);
    let issuer = pg.issuer(&role.name);
    let cred = |v: &str| Credential {
        id: CredentialId(role.name.clone()),
        value: SecretValue::from(v),
    };
    assert_eq!(
        issuer.verify_dead(&cred(&old)).await.unwrap(),
        Liveness::Dead
    );
    assert_eq!(
        issuer.verify_dead(&cred(&new)).await.unwrap(),
        Liveness::Alive
    );
    // Setting the same password again is fine (replayed set step).
    assert_eq!(
        issuer.set(&cred(&new), None).await.unwrap(),
        SetOutcome::Applied
    );
    assert_eq!(pg.login(&role.name, &new).await, Ok(()));
    assert!(issuer
        .test(&cred(&new))
        .await
        .unwrap()
        .detail
        .contains(&role.name));
}

#[tokio::test]
async fn admin_that_is_the_role_is_denied_at_plan() {
    let Some(url) = admin_url("admin_that_is_the_role_is_denied_at_plan") else {
        return;
    };
    let pg = Pg::new(url).await;
    let pw = format!("pw{}", RotationToken::new().short());
    let role = pg.create_role(&pw, "LOGIN CREATEROLE").await;
    let sm = FakeSecretsManager::new(&document(&pg, &role.name, &pw));
    // The leaked credential itself as the admin connection.
    let issuer = issuer_with(&pg.url_as(&role.name, &pw), &role.name);
    let e = plan_for(&sm, &issuer).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Denied, "{e}");
    assert_eq!(pg.login(&role.name, &pw).await, Ok(()), "nothing changed");
}

#[tokio::test]
async fn missing_role_is_not_found_at_plan() {
    let Some(url) = admin_url("missing_role_is_not_found_at_plan") else {
        return;
    };
    let pg = Pg::new(url).await;
    let name = format!("ks_test_missing_{}", RotationToken::new().short());
    let sm = FakeSecretsManager::new(&document(&pg, &name, "whatever"));
    let e = plan_for(&sm, &pg.issuer(&name)).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::NotFound, "{e}");

    // NOLOGIN roles have no usable password.
    let role = pg.create_role("pw0123456789", "NOLOGIN").await;
    let e = plan_for(&sm, &pg.issuer(&role.name)).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Invalid, "{e}");
}

#[tokio::test]
async fn stale_stored_password_is_not_identified() {
    let Some(url) = admin_url("stale_stored_password_is_not_identified") else {
        return;
    };
    let pg = Pg::new(url).await;
    let role = pg.create_role("actual0123456789", "LOGIN").await;
    let sm = FakeSecretsManager::new(&document(&pg, &role.name, "stale0123456789"));
    let plan = plan_for(&sm, &pg.issuer(&role.name)).await.expect("plan");
    assert_eq!(plan.old_credential, None);
    assert!(plan.risks.iter().any(|r| r.code == "old-unidentified"));
}

#[tokio::test]
async fn createrole_admin_least_privilege() {
    let Some(url) = admin_url("createrole_admin_least_privilege") else {
        return;
    };
    let pg = Pg::new(url).await;
    let admin_pw = format!("adm{}", RotationToken::new().short());
    let admin = pg.create_role(&admin_pw, "LOGIN CREATEROLE").await;
    let admin_url = pg.url_as(&admin.name, &admin_pw);
    let old = format!("old{}", RotationToken::new().short());
    let role = pg.create_role(&old, "LOGIN").await;
    let sm = FakeSecretsManager::new(&document(&pg, &role.name, &old));

    let plan = plan_for(&sm, &issuer_with(&admin_url, &role.name))
        .await
        .expect("plan");
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(
        &dir,
        PgFactory {
            sm: sm.clone(),
            admin: admin_url.clone(),
            wrap: None,
        },
    );
    assert_eq!(
        engine.apply(&plan).await.expect("apply").state,
        State::Cutover
    );
    let new = current_doc(&sm)["password"].as_str().unwrap().to_string();
    assert_eq!(pg.login(&role.name, &new).await, Ok(()));
    assert_eq!(
        engine.finalize(&plan.id, true).await.unwrap().state,
        State::Done
    );

    // Non-superuser admin: the verifier travels as a bind parameter, which
    // `log_statement = all` logs; never in a statement's text.
    if let (Some(log), Some(v)) = (server_log(), pg.stored_verifier(&role.name).await) {
        assert!(!log.contains(&new), "plaintext in the server log");
        for line in log.lines().filter(|l| l.contains(&v)) {
            assert!(
                line.contains("parameters:"),
                "verifier outside bind parameters: {line}"
            );
        }
    }

    // A superuser's password needs a superuser.
    let su = pg.create_role("supw0123456789", "LOGIN SUPERUSER").await;
    let sm2 = FakeSecretsManager::new(&document(&pg, &su.name, "supw0123456789"));
    let e = plan_for(&sm2, &issuer_with(&admin_url, &su.name))
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Denied, "{e}");
    // Forcing the set step anyway: the server refuses (42501), the DO block
    // re-raises with a fixed message, so neither the error nor the server
    // log's ERROR/CONTEXT lines quote the ALTER ROLE statement.
    let forced = Credential {
        id: CredentialId(su.name.clone()),
        value: SecretValue::from("forced0123456789forced"),
    };
    let e = issuer_with(&admin_url, &su.name)
        .set(&forced, None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Denied, "{e}");
    assert!(e.message.contains("42501"), "{e}");
    assert_eq!(pg.login(&su.name, "supw0123456789").await, Ok(()));
    if let Some(log) = server_log() {
        assert!(log.contains("keysweep: ALTER ROLE failed"));
        // (The log is shared: look only at lines about this role.)
        for line in log.lines().filter(|l| l.contains(&su.name)) {
            if ["ERROR:", "CONTEXT:", "STATEMENT:"]
                .iter()
                .any(|k| line.contains(k))
            {
                assert!(!line.contains("SCRAM-SHA-256$"), "verifier in: {line}");
            }
        }
    }
    // An admin without CREATEROLE cannot do anything.
    let weak_pw = format!("weak{}", RotationToken::new().short());
    let weak = pg.create_role(&weak_pw, "LOGIN").await;
    let e = plan_for(
        &sm,
        &issuer_with(&pg.url_as(&weak.name, &weak_pw), &role.name),
    )
    .await
    .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Denied, "{e}");
}

/// Delegates to the real issuer, but lets a test interfere.
struct Interfering {
    inner: PostgresIssuer,
    before_test: Arc<
        dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync,
    >,
    seen_new: Arc<Mutex<Option<String>>>,
}

#[async_trait]
impl Issuer for Interfering {
    fn describe(&self) -> IssuerRef {
        self.inner.describe()
    }
    fn capabilities(&self) -> IssuerCaps {
        self.inner.capabilities()
    }
    async fn inspect(&self, current: &SecretValue) -> BackendResult<IssuerState> {
        self.inner.inspect(current).await
    }
    async fn create(&self, token: &RotationToken, ctx: &CreateCtx) -> BackendResult<Credential> {
        let c = self.inner.create(token, ctx).await?;
        *self.seen_new.lock().unwrap() = c.value.expose_str().map(str::to_string);
        Ok(c)
    }
    async fn find(
        &self,
        token: &RotationToken,
        ctx: &CreateCtx,
    ) -> BackendResult<Option<CredentialId>> {
        self.inner.find(token, ctx).await
    }
    async fn set(&self, new: &Credential, old: Option<&CredentialId>) -> BackendResult<SetOutcome> {
        self.inner.set(new, old).await
    }
    async fn test(&self, new: &Credential) -> BackendResult<TestEvidence> {
        (self.before_test)().await;
        self.inner.test(new).await
    }
    async fn deactivate(&self, id: &CredentialId) -> BackendResult<()> {
        self.inner.deactivate(id).await
    }
    async fn reactivate(&self, id: &CredentialId) -> BackendResult<()> {
        self.inner.reactivate(id).await
    }
    async fn revoke(&self, id: &CredentialId) -> BackendResult<()> {
        self.inner.revoke(id).await
    }
    async fn verify_dead(&self, old: &Credential) -> BackendResult<Liveness> {
        self.inner.verify_dead(old).await
    }
}

#[tokio::test]
async fn failed_test_aborts_before_promotion() {
    let Some(url) = admin_url("failed_test_aborts_before_promotion") else {
        return;
    };
    let pg = Pg::new(url).await;
    let old = format!("old{}", RotationToken::new().short());
    let role = pg.create_role(&old, "LOGIN").await;
    let doc = document(&pg, &role.name, &old);
    let sm = FakeSecretsManager::new(&doc);
    let plan = plan_for(&sm, &pg.issuer(&role.name)).await.expect("plan");

    // Between set and test, somebody else changes the password.
    let third = format!("third{}", RotationToken::new().short());
    let seen_new = Arc::new(Mutex::new(None));
    let (url2, role2, third2, seen2) = (
        pg.url.clone(),
        role.name.clone(),
        third.clone(),
        seen_new.clone(),
    );
    let wrap: Wrap = Arc::new(move |inner| {
        let (url, role, third) = (url2.clone(), role2.clone(), third2.clone());
        Arc::new(Interfering {
            inner,
            before_test: Arc::new(move || {
                let (url, role, third) = (url.clone(), role.clone(), third.clone());
                Box::pin(async move { Pg::new(url).await.set_password(&role, &third).await })
            }),
            seen_new: seen2.clone(),
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(
        &dir,
        PgFactory {
            sm: sm.clone(),
            admin: pg.url.clone(),
            wrap: Some(wrap),
        },
    );
    match engine.apply(&plan).await {
        Err(Error::Aborted { step, source, .. }) => {
            assert_eq!(step, Step::Test);
            assert_eq!(source.class, ErrorClass::TestFailed);
            assert!(source.message.contains("28P01"), "{source}");
        }
        other => panic!("expected an abort at test, got {other:?}"),
    }
    assert_eq!(engine.status(&plan.id).unwrap().state, State::Aborted);
    // The store is untouched: the old document is current, nothing pending.
    let current = sm.get_secret_value(None, Some(AWSCURRENT)).unwrap();
    assert_eq!(current.expose(), doc.as_slice());
    assert_eq!(sm.version_with(AWSPENDING), None);
    let new = seen_new
        .lock()
        .unwrap()
        .clone()
        .expect("a password was issued");
    assert_eq!(pg.login(&role.name, &new).await, Err("28P01".into()));
    // Without overlap the old password died at set; the abort sets it again,
    // so the store's current value works (the interfering third password is
    // overwritten: the store is the source of truth).
    let old_works = pg.login(&role.name, &old).await;
    if ENGINE_RESTORES_OLD_PASSWORD {
        assert_eq!(old_works, Ok(()));
        assert_eq!(pg.login(&role.name, &third).await, Err("28P01".into()));
    } else {
        assert_eq!(old_works, Err("28P01".into()));
        assert_eq!(pg.login(&role.name, &third).await, Ok(()));
    }
}

#[tokio::test]
async fn rollback_after_promotion() {
    let Some(url) = admin_url("rollback_after_promotion") else {
        return;
    };
    let pg = Pg::new(url).await;
    let old = format!("old{}", RotationToken::new().short());
    let role = pg.create_role(&old, "LOGIN").await;
    let doc = document(&pg, &role.name, &old);
    let sm = FakeSecretsManager::new(&doc);
    let plan = plan_for(&sm, &pg.issuer(&role.name)).await.expect("plan");
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(
        &dir,
        PgFactory {
            sm: sm.clone(),
            admin: pg.url.clone(),
            wrap: None,
        },
    );
    engine.apply(&plan).await.expect("apply");
    let new = current_doc(&sm)["password"].as_str().unwrap().to_string();
    let status = engine.rollback(&plan.id).await.expect("rollback");
    assert_eq!(status.state, State::RolledBack);
    // The store serves the old document again...
    let current = sm.get_secret_value(None, Some(AWSCURRENT)).unwrap();
    assert_eq!(current.expose(), doc.as_slice());
    // ...but the role still has the new password unless the engine re-sets
    // the old one: consumers reading the store are locked out.
    if ENGINE_RESTORES_OLD_PASSWORD {
        assert_eq!(pg.login(&role.name, &old).await, Ok(()));
        assert_eq!(pg.login(&role.name, &new).await, Err("28P01".into()));
    } else {
        assert_eq!(pg.login(&role.name, &old).await, Err("28P01".into()));
        assert_eq!(pg.login(&role.name, &new).await, Ok(()));
    }
}

// ---------------------------------------------------------------------------
// Secret hygiene
// ---------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[tokio::test]
async fn passwords_never_leak() {
    let Some(url) = admin_url("passwords_never_leak") else {
        return;
    };
    let pg = Pg::new(url).await;
    let old = format!("OldSentinel{}", RotationToken::new().short());
    let role = pg.create_role(&old, "LOGIN").await;
    let sm = FakeSecretsManager::new(&document(&pg, &role.name, &old));

    // Everything at TRACE, including tokio-postgres's `log` records (which
    // print statement texts and query parameters at debug level).
    let _ = tracing_log::LogTracer::init();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);

    let issuer = pg.issuer(&role.name);
    let plan = plan_for(&sm, &issuer).await.expect("plan");
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(
        &dir,
        PgFactory {
            sm: sm.clone(),
            admin: pg.url.clone(),
            wrap: None,
        },
    );
    let applied = engine.apply(&plan).await.expect("apply");
    let done = engine.finalize(&plan.id, true).await.expect("finalize");
    assert_eq!(done.state, State::Done);
    // Failing paths too: a wrong-password test and a refused plan.
    let wrong = Credential {
        id: CredentialId(role.name.clone()),
        value: SecretValue::from(old.as_str()),
    };
    let failed = issuer.test(&wrong).await.unwrap_err();
    let denied = plan_for(&sm, &issuer_with(&pg.url_as(&role.name, &old), &role.name))
        .await
        .unwrap_err();
    drop(guard);

    let new = current_doc(&sm)["password"].as_str().unwrap().to_string();
    let admin_password = pg
        .url
        .split(['@'])
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("tokio_postgres"),
        "the log bridge captured nothing"
    );
    assert!(
        logs.contains("executing statement"),
        "tokio-postgres debug records missing"
    );
    let mut shown = logs.clone();
    shown += &format!("{plan:?}{}", serde_json::to_string(&plan).unwrap());
    shown += &format!("{applied:?}{done:?}{failed:?}{failed}{denied:?}{denied}");
    shown += &format!(
        "{issuer:?}{issuer}{:?}{:?}",
        issuer.describe(),
        issuer.required_permissions()
    );
    shown += &format!("{:?}{:?}", PostgresOptions::default(), pg.parts);
    shown += &format!("{wrong:?}");
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            shown += &String::from_utf8_lossy(&std::fs::read(path).unwrap());
        }
    }
    for (what, secret) in [
        ("old password", &old),
        ("new password", &new),
        ("admin password", &admin_password),
    ] {
        assert!(!shown.contains(secret.as_str()), "{what} leaked");
    }
    assert!(!shown.contains("SCRAM-SHA-256$"), "a verifier leaked");

    // The server never saw a plaintext; a superuser admin keeps even the
    // verifier out of the log (log_parameter_max_length = 0).
    if let Some(log) = server_log() {
        assert!(
            !log.contains(&old) && !log.contains(&new),
            "plaintext in the server log"
        );
        if let Some(v) = pg.stored_verifier(&role.name).await {
            assert!(!log.contains(&v), "verifier in the server log");
        }
        let log_statement: String = pg
            .client
            .query_one("SELECT current_setting('log_statement')", &[])
            .await
            .unwrap()
            .get(0);
        if log_statement == "all" {
            assert!(
                log.contains("keysweep.verifier"),
                "the server log shows our statements"
            );
        }
    } else {
        eprintln!("note: KEYSWEEP_PG_LOG unset or unreadable; server-log checks skipped");
    }
}
