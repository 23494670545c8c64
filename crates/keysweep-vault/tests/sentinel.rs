//! Sentinel test: with every log target at TRACE captured into a buffer,
//! run rotations (including a conflict, a refusal, a rollback, AppRole
//! login and `locate`) with distinctive secret values, token and secret id,
//! `Debug`-format every public type and error returned, and assert that none
//! of the secrets ever appears.

mod common;

use common::{doc, password, plan, uniq, Hooks};
use keysweep_rotate::{RetireMode, RotationToken, SecretStore, SecretValue, StoreRef};
use keysweep_vault::{
    locate, Kv1Store, Kv2Options, Kv2Store, VaultAuth, VaultSettings, KV1_KIND, NOISY_LOG_TARGETS,
};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Default)]
struct Seen(String);

impl Seen {
    fn add(&mut self, s: impl std::fmt::Debug) {
        self.0.push_str(&format!("{s:?}\n"));
    }
}

#[tokio::test]
async fn no_secret_is_ever_logged_or_printed() {
    let bao = need_bao!("no_secret_is_ever_logged_or_printed");
    let id = uniq();
    let old = format!("SENTINELold{id}");
    let token_id = format!("SENTINELtok{id}");
    let secret_id = format!("SENTINELsid{id}");

    // Setup as root, before capturing: a token with a known id, an AppRole
    // with a known secret id, a secret holding the sentinel.
    let root = bao.root().await;
    let mut b = vaultrs::api::token::requests::CreateTokenRequest::builder();
    b.id(token_id.clone()).ttl("1h");
    vaultrs::token::new(&root, Some(&mut b)).await.unwrap();
    let path = format!("ks-sentinel/{id}/db");
    let policy = format!("ks-sentinel-{id}");
    vaultrs::sys::policy::set(
        &root,
        &policy,
        &keysweep_vault::rotator_policy("secret", &path, &Kv2Options::default()),
    )
    .await
    .unwrap();
    let approle = format!("approle-s-{id}");
    vaultrs::sys::auth::enable(&root, &approle, "approle", None)
        .await
        .unwrap();
    let mut role = vaultrs::api::auth::approle::requests::SetAppRoleRequest::builder();
    role.token_policies(vec![policy]);
    vaultrs::auth::approle::role::set(&root, &approle, "r", Some(&mut role))
        .await
        .unwrap();
    let role_id = vaultrs::auth::approle::role::read_id(&root, &approle, "r")
        .await
        .unwrap()
        .role_id;
    vaultrs::auth::approle::role::secret::custom(&root, &approle, "r", &secret_id, None)
        .await
        .unwrap();
    bao.put("secret", &path, doc(&old)).await;
    let kv1 = format!("kv1-s-{id}");
    bao.mount_kv(&kv1, "1").await;

    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let mut seen = Seen::default();

    let auth = common::token_auth(&token_id);
    let settings = bao.settings(auth.clone());
    seen.add(&settings);
    seen.add(&auth);
    let approle_auth = VaultAuth::AppRole {
        mount: approle.clone(),
        role_id: role_id.clone(),
        secret_id: secret_id.clone().into(),
    };
    seen.add(&approle_auth);
    seen.add(bao.settings(approle_auth.clone()));

    // A full rotation with the sentinel token, then a rollback of another.
    let store = Kv2Store::new(settings.clone(), "secret", &path, Kv2Options::default())
        .await
        .unwrap();
    seen.add(&store);
    seen.add(store.describe());
    seen.add(store.capabilities());
    seen.add(store.required_permissions());
    seen.add(store.inspect().await);
    seen.add(store.plan_risks().await);
    seen.add(store.read_current().await);
    let p = plan(&store, RetireMode::SoftDelete).await;
    seen.add(&p);
    seen.add(serde_json::to_string(&p).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let engine = bao.engine(dir.path(), auth.clone(), Hooks::default());
    seen.add(engine.apply(&p).await);
    seen.add(engine.status(&p.id));
    seen.add(engine.finalize(&p.id, true).await);
    let p2 = plan(&store, RetireMode::Destroy).await;
    seen.add(engine.apply(&p2).await);
    seen.add(engine.rollback(&p2.id).await);

    // Errors: a conflicting stage, a stale promote, a missing version, a
    // denied read, a refused KV v1 store, a failed login.
    let t = RotationToken::new();
    seen.add(
        store
            .stage(&t, &SecretValue::from(doc(&old).to_string()))
            .await,
    );
    seen.add(
        store
            .stage(&t, &SecretValue::from(doc("SENTINELother").to_string()))
            .await,
    );
    seen.add(
        store
            .stage(&t, &SecretValue::from(format!("\"{old}\"")))
            .await,
    );
    seen.add(
        store
            .promote(&t, &keysweep_rotate::VersionRef("1".into()))
            .await,
    );
    seen.add(
        store
            .read_version(&keysweep_rotate::VersionRef("9999".into()))
            .await,
    );
    seen.add(store.discard_staged(&t).await);
    let mut r = StoreRef::new(KV1_KIND, format!("{kv1}/app"));
    r.options = settings.to_options();
    seen.add(Kv1Store::from_ref_with_auth(&r, auth.clone()).await);
    r.options.insert("allow_unversioned".into(), "true".into());
    seen.add(Kv1Store::from_ref_with_auth(&r, auth.clone()).await);
    let bad = VaultAuth::AppRole {
        mount: approle.clone(),
        role_id: role_id.clone(),
        secret_id: "SENTINELwrong-secret-id".to_string().into(),
    };
    seen.add(bao.settings(bad).client().await.err());
    let nobody = bao.settings(common::token_auth("SENTINELbad-token"));
    seen.add(Kv2Store::new(nobody, "secret", &path, Kv2Options::default()).await);

    // AppRole login with the sentinel secret id, and locate.
    let via_approle = Kv2Store::new(
        bao.settings(approle_auth),
        "secret",
        &path,
        Kv2Options::default(),
    )
    .await
    .unwrap();
    seen.add(via_approle.read_current().await);
    let found = locate(&settings, "secret", &format!("ks-sentinel/{id}"), |v| {
        if v.expose_str().unwrap_or("").contains("\"app\"") {
            vec![v.len()]
        } else {
            vec![]
        }
    })
    .await;
    // Versions 2-4; version 1 (the sentinel) was soft-deleted by finalize.
    assert_eq!(found.as_ref().unwrap().len(), 3, "live versions are found");
    seen.add(found);
    seen.add(Kv2Options::default());
    seen.add(NOISY_LOG_TARGETS);
    seen.add(VaultSettings::from_options_with_auth(
        &settings.to_options(),
        auth,
    ));

    drop(guard);
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("TRACE"), "tracing was not captured");
    assert!(logs.contains("promoted"), "our own events are captured");
    assert!(logs.contains("rustify"), "third-party events are captured");
    seen.0.push_str(&logs);
    for d in dir.path().read_dir().unwrap() {
        seen.0
            .push_str(&std::fs::read_to_string(d.unwrap().path()).unwrap_or_default());
    }

    // Every password the path ever held (all versions, read as root).
    let mut values = vec![old.clone(), token_id, secret_id, role_id];
    let meta = bao.meta("secret", &path).await.unwrap();
    let current = meta["current_version"].as_u64().unwrap();
    for v in 1..=current {
        if let Some(d) = bao.get("secret", &path, Some(v)).await {
            values.push(password(&d));
        }
    }
    assert!(values.len() >= 6, "{}", values.len());
    if let Some(at) = seen.0.find("SENTINEL") {
        let ctx = &seen.0[at.saturating_sub(300)..(at + 100).min(seen.0.len())];
        panic!("a sentinel was printed near: {ctx}");
    }
    for v in &values {
        assert!(v.len() >= 16);
        if let Some(at) = seen.0.find(v.as_str()) {
            let ctx = &seen.0[at.saturating_sub(300)..(at + v.len() + 50).min(seen.0.len())];
            panic!(
                "a secret was printed near: {}",
                ctx.replace(v.as_str(), "<VALUE>")
            );
        }
    }
}
