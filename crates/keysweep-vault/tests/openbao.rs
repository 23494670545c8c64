//! Integration tests against a real OpenBao dev server (`KEYSWEEP_BAO_ADDR`,
//! `KEYSWEEP_BAO_TOKEN`). Tests run in parallel on one server: each uses its
//! own random paths and creates its own mounts when it needs special config.

mod common;

use common::{assert_no_leftovers, doc, issuer_accepts, password, plan, uniq, Bao, Hooks};
use keysweep_rotate::{
    Error, ErrorClass, PlanBuilder, RetireMode, RotationToken, SecretStore, SecretValue, Severity,
    State, Step, StoreRef, VersionRef,
};
use keysweep_vault::{
    locate, rotator_policy, store_from_ref, Kv1Store, Kv2Options, Kv2Store, VaultAuth, KV1_KIND,
    KV2_KIND,
};
use serde_json::json;
use std::sync::Arc;

const OLD: &str = "old-Password-0001-for-tests";

async fn setup(bao: &Bao, mount: &str) -> (String, u64) {
    let path = format!("ks-test/{}/db", uniq());
    let v = bao.put(mount, &path, doc(OLD)).await;
    (path, v)
}

fn version_of(meta: &serde_json::Value, n: u64) -> &serde_json::Value {
    &meta["versions"][n.to_string()]
}

#[tokio::test]
async fn kv2_happy_path_then_soft_delete_and_destroy() {
    let bao = need_bao!("kv2_happy_path_then_soft_delete_and_destroy");
    let (path, v0) = setup(&bao, "secret").await;
    let store = bao.store(bao.root_auth(), "secret", &path).await;
    assert_eq!(store.capabilities().max_versions, Some(10));
    let state = store.inspect().await.unwrap();
    assert_eq!(state.current, Some(VersionRef(v0.to_string())));
    assert_eq!(state.pending, None);

    let p = plan(&store, RetireMode::SoftDelete).await;
    assert_eq!(p.old_version, VersionRef(v0.to_string()));
    assert_eq!(p.target.store.kind, KV2_KIND);
    assert!(p
        .permissions
        .iter()
        .any(|x| x.resource == format!("secret/data/{path}")));
    let dir = tempfile::tempdir().unwrap();
    let engine = bao.engine(dir.path(), bao.root_auth(), Hooks::default());
    let st = engine.apply(&p).await.unwrap();
    assert_eq!(st.state, State::Cutover);
    assert_eq!(st.new_version, Some(VersionRef((v0 + 1).to_string())));

    let cur = bao.get("secret", &path, None).await.unwrap();
    let new_pw = password(&cur);
    assert_ne!(new_pw, OLD);
    assert!(issuer_accepts(&new_pw).await);
    assert_eq!(cur["username"], "app");
    let meta = bao.meta("secret", &path).await.unwrap();
    assert_eq!(meta["current_version"], v0 + 1);
    let old = bao.get("secret", &path, Some(v0)).await.unwrap();
    assert_eq!(password(&old), OLD);
    assert_no_leftovers(&bao, "secret", &path, "after apply").await;

    let st = engine.finalize(&p.id, true).await.unwrap();
    assert_eq!(st.state, State::Done);
    let meta = bao.meta("secret", &path).await.unwrap();
    assert_ne!(version_of(&meta, v0)["deletion_time"], "");
    assert_eq!(version_of(&meta, v0)["destroyed"], false);
    assert!(store
        .read_version(&VersionRef(v0.to_string()))
        .await
        .is_err_and(|e| e.class == ErrorClass::NotFound));

    // A second rotation, retiring by destroy.
    let p = plan(&store, RetireMode::Destroy).await;
    assert_eq!(p.old_version, VersionRef((v0 + 1).to_string()));
    engine.apply(&p).await.unwrap();
    engine.finalize(&p.id, true).await.unwrap();
    let meta = bao.meta("secret", &path).await.unwrap();
    assert_eq!(meta["current_version"], v0 + 2);
    assert_eq!(version_of(&meta, v0 + 1)["destroyed"], true);
    let cur = bao.get("secret", &path, None).await.unwrap();
    assert_ne!(password(&cur), new_pw);
    assert_no_leftovers(&bao, "secret", &path, "after the second rotation").await;
}

#[tokio::test]
async fn store_steps_are_idempotent() {
    let bao = need_bao!("store_steps_are_idempotent");
    let (path, v0) = setup(&bao, "secret").await;
    let store = bao.store(bao.root_auth(), "secret", &path).await;
    let t = RotationToken::new();
    let v0r = VersionRef(v0.to_string());
    let (cur, old_doc) = store.read_current().await.unwrap();
    assert_eq!(cur, v0r);
    assert_eq!(
        old_doc.expose_str().unwrap(),
        format!(r#"{{"password":"{OLD}","username":"app"}}"#)
    );

    store.acquire(&t).await.unwrap();
    store.acquire(&t).await.unwrap();
    let new_doc = SecretValue::from(r#"{"username":"app","password":"NewPassw0rd"}"#);
    let predicted = store.stage(&t, &new_doc).await.unwrap();
    assert_eq!(predicted, VersionRef((v0 + 1).to_string()));
    assert_eq!(store.stage(&t, &new_doc).await.unwrap(), predicted);
    let other = SecretValue::from(r#"{"username":"app","password":"Other"}"#);
    assert_eq!(
        store.stage(&t, &other).await.unwrap_err().class,
        ErrorClass::Conflict
    );
    assert_eq!(
        store
            .stage(&t, &SecretValue::from("not json"))
            .await
            .unwrap_err()
            .class,
        ErrorClass::Invalid
    );
    // Staging is visible as a pending version of another rotation.
    let pending = store.inspect().await.unwrap().pending;
    assert_eq!(pending, Some(VersionRef(t.to_string())));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(store.read_staged(&t).await.unwrap().expose())
            .unwrap(),
        json!({"username":"app","password":"NewPassw0rd"})
    );

    let v1 = store.promote(&t, &v0r).await.unwrap();
    assert_eq!(v1, predicted);
    assert_eq!(
        store.promote(&t, &v0r).await.unwrap(),
        v1,
        "replayed promote"
    );
    assert_eq!(
        password(&bao.get("secret", &path, None).await.unwrap()),
        "NewPassw0rd"
    );
    // The engine's fallback after cleanup: the predicted version is readable.
    store.discard_staged(&t).await.unwrap();
    store.discard_staged(&t).await.unwrap();
    assert_eq!(
        store.read_staged(&t).await.unwrap_err().class,
        ErrorClass::NotFound
    );
    assert!(store.read_version(&predicted).await.is_ok());

    let v2 = store.demote(&v0r, &v1).await.unwrap();
    assert_eq!(v2, VersionRef((v0 + 2).to_string()));
    assert_eq!(
        store.demote(&v0r, &v1).await.unwrap(),
        v2,
        "replayed demote"
    );
    assert_eq!(
        password(&bao.get("secret", &path, None).await.unwrap()),
        OLD
    );
    // A stale expectation is a conflict.
    assert_eq!(
        store.demote(&v1, &v0r).await.unwrap_err().class,
        ErrorClass::Conflict
    );

    assert_eq!(
        store
            .retire_version(&v2, RetireMode::SoftDelete)
            .await
            .unwrap_err()
            .class,
        ErrorClass::Conflict
    );
    store
        .retire_version(&v1, RetireMode::SoftDelete)
        .await
        .unwrap();
    store
        .retire_version(&v1, RetireMode::SoftDelete)
        .await
        .unwrap();
    store
        .retire_version(&v1, RetireMode::Destroy)
        .await
        .unwrap();
    store
        .retire_version(&v1, RetireMode::Destroy)
        .await
        .unwrap();
    store
        .retire_version(&VersionRef("999".into()), RetireMode::Destroy)
        .await
        .unwrap();
    let st = store.inspect().await.unwrap();
    let labels = |v: &VersionRef| {
        st.versions
            .iter()
            .find(|i| &i.version == v)
            .map(|i| i.labels.clone())
            .unwrap()
    };
    assert_eq!(labels(&v1), ["destroyed"]);
    assert_eq!(labels(&v2), ["current"]);
    assert_eq!(st.previous, Some(v0r.clone()));

    store.release(&RotationToken::new()).await.unwrap();
    assert!(bao
        .meta("secret", &format!(".keysweep/locks/{path}"))
        .await
        .is_some());
    store.release(&t).await.unwrap();
    store.release(&t).await.unwrap();
    assert_no_leftovers(&bao, "secret", &path, "end").await;
    assert_eq!(
        store
            .read_version(&VersionRef("x".into()))
            .await
            .unwrap_err()
            .class,
        ErrorClass::Invalid
    );
}

#[tokio::test]
async fn conflicting_writer_before_promote_aborts_cleanly() {
    let bao = need_bao!("conflicting_writer_before_promote_aborts_cleanly");
    let (path, v0) = setup(&bao, "secret").await;
    let store = bao.store(bao.root_auth(), "secret", &path).await;
    let p = plan(&store, RetireMode::SoftDelete).await;
    let (b, pth) = (bao.clone(), path.clone());
    let hooks = Hooks {
        before: Some((
            "promote",
            Arc::new(move || {
                let (b, pth) = (b.clone(), pth.clone());
                Box::pin(async move {
                    b.put("secret", &pth, doc("written-by-someone-else")).await;
                })
            }),
        )),
        ..Hooks::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let r = bao
        .engine(dir.path(), bao.root_auth(), hooks)
        .apply(&p)
        .await;
    match &r {
        Err(Error::Aborted { step, source, .. }) => {
            assert_eq!(*step, Step::Promote);
            assert_eq!(source.class, ErrorClass::Conflict);
            assert!(
                source.message.contains("check-and-set"),
                "{}",
                source.message
            );
        }
        r => panic!("{r:?}"),
    }
    let engine = bao.engine(dir.path(), bao.root_auth(), Hooks::default());
    assert_eq!(engine.status(&p.id).unwrap().state, State::Aborted);
    let meta = bao.meta("secret", &path).await.unwrap();
    assert_eq!(
        meta["current_version"],
        v0 + 1,
        "only the other writer wrote"
    );
    assert_eq!(
        password(&bao.get("secret", &path, None).await.unwrap()),
        "written-by-someone-else"
    );
    assert_no_leftovers(&bao, "secret", &path, "after abort").await;
}

/// Crash before and after every store call of `apply`, then resume from
/// the journal with fresh stores; the invariants of DESIGN.md 8.1 hold.
#[tokio::test]
async fn crash_at_every_store_call_then_resume() {
    let bao = need_bao!("crash_at_every_store_call_then_resume");
    let calls = {
        let (path, _) = setup(&bao, "secret").await;
        let store = bao.store(bao.root_auth(), "secret", &path).await;
        let p = plan(&store, RetireMode::SoftDelete).await;
        let hooks = Hooks::default();
        let dir = tempfile::tempdir().unwrap();
        bao.engine(dir.path(), bao.root_auth(), hooks.clone())
            .apply(&p)
            .await
            .unwrap();
        let log = hooks.log.lock().unwrap().clone();
        assert!(log.contains(&"promote".to_string()), "{log:?}");
        assert!(log.len() >= 8, "{log:?}");
        log
    };
    for (i, name) in calls.iter().enumerate() {
        for after in [false, true] {
            let ctx = format!(
                "crash {} call {i} ({name})",
                if after { "after" } else { "before" }
            );
            let (path, v0) = setup(&bao, "secret").await;
            let store = bao.store(bao.root_auth(), "secret", &path).await;
            let p = plan(&store, RetireMode::SoftDelete).await;
            let dir = tempfile::tempdir().unwrap();
            let hooks = Hooks {
                crash_at: Some((i, after)),
                ..Hooks::default()
            };
            let r = bao
                .engine(dir.path(), bao.root_auth(), hooks)
                .apply(&p)
                .await;
            assert!(matches!(r, Err(Error::Crashed { .. })), "{ctx}: {r:?}");
            // Invariant 1 at the crash point.
            let cur = password(&bao.get("secret", &path, None).await.unwrap());
            assert!(cur == OLD || issuer_accepts(&cur).await, "{ctx}");

            let engine = bao.engine(dir.path(), bao.root_auth(), Hooks::default());
            let st = match engine.status(&p.id) {
                Err(Error::NoJournal(_)) => engine.apply(&p).await,
                Ok(_) => engine.resume(&p.id).await,
                Err(e) => panic!("{ctx}: {e}"),
            }
            .unwrap_or_else(|e| panic!("{ctx}: recovery: {e}"));
            assert_eq!(st.state, State::Cutover, "{ctx}");
            let meta = bao.meta("secret", &path).await.unwrap();
            assert_eq!(
                meta["current_version"],
                v0 + 1,
                "{ctx}: exactly one new version"
            );
            let cur = bao.get("secret", &path, None).await.unwrap();
            assert!(issuer_accepts(&password(&cur)).await, "{ctx}");
            assert_eq!(cur["username"], "app", "{ctx}");
            assert_eq!(
                password(&bao.get("secret", &path, Some(v0)).await.unwrap()),
                OLD
            );
            assert_no_leftovers(&bao, "secret", &path, &ctx).await;
            assert_eq!(
                engine.finalize(&p.id, true).await.unwrap().state,
                State::Done
            );
        }
    }
}

#[tokio::test]
async fn rollback_after_promotion_writes_the_old_value_as_a_new_version() {
    let bao = need_bao!("rollback_after_promotion_writes_the_old_value_as_a_new_version");
    let (path, v0) = setup(&bao, "secret").await;
    let store = bao.store(bao.root_auth(), "secret", &path).await;
    let p = plan(&store, RetireMode::SoftDelete).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = bao.engine(dir.path(), bao.root_auth(), Hooks::default());
    engine.apply(&p).await.unwrap();
    let new_pw = password(&bao.get("secret", &path, None).await.unwrap());
    let st = engine.rollback(&p.id).await.unwrap();
    assert_eq!(st.state, State::RolledBack);
    let meta = bao.meta("secret", &path).await.unwrap();
    assert_eq!(meta["current_version"], v0 + 2);
    assert_eq!(
        password(&bao.get("secret", &path, None).await.unwrap()),
        OLD
    );
    assert_eq!(
        password(&bao.get("secret", &path, Some(v0 + 1)).await.unwrap()),
        new_pw
    );
    assert_no_leftovers(&bao, "secret", &path, "after rollback").await;
}

#[tokio::test]
async fn lock_excludes_a_second_rotation_and_expired_locks_are_broken() {
    let bao = need_bao!("lock_excludes_a_second_rotation_and_expired_locks_are_broken");
    let (path, _) = setup(&bao, "secret").await;
    let store = bao.store(bao.root_auth(), "secret", &path).await;
    let (t1, t2) = (RotationToken::new(), RotationToken::new());
    store.acquire(&t1).await.unwrap();
    let e = store.acquire(&t2).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Locked);
    assert!(
        e.message.contains(&format!("rot-{}", t1.short())),
        "{}",
        e.message
    );
    // The planner sees the foreign lock.
    let r = PlanBuilder::new()
        .plan(&store, &common::issuer())
        .await
        .unwrap_err();
    assert_eq!(r.class(), ErrorClass::Locked, "{r}");
    // An apply of a plan made before the lock is refused too.
    store.release(&t1).await.unwrap();
    let p = plan(&store, RetireMode::SoftDelete).await;
    store.acquire(&t1).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = bao.engine(dir.path(), bao.root_auth(), Hooks::default());
    let r = engine.apply(&p).await;
    assert!(matches!(r, Err(Error::StalePlan { .. })), "{r:?}");
    store.release(&t1).await.unwrap();

    // An expired lock of a crashed rotation is broken.
    let dead = RotationToken::new();
    bao.put(
        "secret",
        &format!(".keysweep/locks/{path}"),
        json!({"rotation_token": dead.to_string(), "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await;
    store.acquire(&t2).await.unwrap();
    let lock = bao
        .get("secret", &format!(".keysweep/locks/{path}"), None)
        .await
        .unwrap();
    assert_eq!(lock["rotation_token"], t2.to_string());
    assert_eq!(
        store.acquire(&dead).await.unwrap_err().class,
        ErrorClass::Locked
    );
    store.release(&t2).await.unwrap();

    // A short TTL expires on its own.
    let opts = Kv2Options {
        lock_ttl: std::time::Duration::from_secs(1),
        ..Kv2Options::default()
    };
    let short = Kv2Store::new(bao.root_settings(), "secret", &path, opts)
        .await
        .unwrap();
    short.acquire(&t1).await.unwrap();
    assert_eq!(
        short.acquire(&t2).await.unwrap_err().class,
        ErrorClass::Locked
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    short.acquire(&t2).await.unwrap();
    short.release(&t2).await.unwrap();
    assert_no_leftovers(&bao, "secret", &path, "end").await;
}

#[tokio::test]
async fn kv1_is_refused_unless_allowed_then_saves_and_cleans_the_previous_value() {
    let bao = need_bao!("kv1_is_refused_unless_allowed_then_saves_and_cleans_the_previous_value");
    let mount = format!("kv1-{}", uniq());
    bao.mount_kv(&mount, "1").await;
    let root = bao.root().await;
    let path = "app/db";
    vaultrs::kv1::set(
        &root,
        &mount,
        path,
        &std::collections::HashMap::from([("username", "app"), ("password", OLD)]),
    )
    .await
    .unwrap();

    let mut r = StoreRef::new(KV1_KIND, format!("{mount}/{path}"));
    r.options = bao.root_settings().to_options();
    let e = Kv1Store::from_ref_with_auth(&r, bao.root_auth())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Unsupported);
    assert!(
        e.message
            .contains("KV v1 has no versions and no check-and-set"),
        "{e}"
    );
    assert!(e.message.contains("allow_unversioned=true"), "{e}");
    let mut r2 = r.clone();
    r2.kind = KV2_KIND.into();
    let e = Kv2Store::from_ref_with_auth(&r2, bao.root_auth())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Unsupported);
    assert!(e.message.contains("allow_unversioned=true"), "{e}");
    // store_from_ref (credentials from the environment) ignores other kinds.
    assert!(store_from_ref(&StoreRef::new("memory", "x"))
        .await
        .unwrap()
        .is_none());

    r.options.insert("allow_unversioned".into(), "true".into());
    let store = Kv1Store::from_ref_with_auth(&r, bao.root_auth())
        .await
        .unwrap();
    assert_eq!(store.describe(), {
        let mut d = r.clone();
        d.options
            .insert("lock_prefix".into(), ".keysweep/locks".into());
        d.options
            .insert("staging_prefix".into(), ".keysweep/staging".into());
        d.options.insert("lock_ttl_secs".into(), "3600".into());
        d
    });
    assert!(!store.capabilities().cas);
    let p = plan(&store, RetireMode::SoftDelete).await;
    assert!(p
        .risks
        .iter()
        .any(|r| r.code == "vault-kv1-unversioned" && r.severity == Severity::High));
    assert!(p.old_version.as_str().starts_with("kv1-"));
    let dir = tempfile::tempdir().unwrap();
    let engine = bao.engine(dir.path(), bao.root_auth(), Hooks::default());
    let st = engine.apply(&p).await.unwrap();
    assert_eq!(st.state, State::Cutover);
    let cur: serde_json::Value = vaultrs::kv1::get(&root, &mount, path).await.unwrap();
    assert!(issuer_accepts(&password(&cur)).await);
    assert_eq!(cur["username"], "app");
    let saved_key = format!(".keysweep/staging/{path}/previous-{}", p.token);
    let saved: serde_json::Value = vaultrs::kv1::get(&root, &mount, &saved_key).await.unwrap();
    assert_eq!(password(&saved), OLD);
    // The old value stays readable by its id until finalize.
    let old = store.read_version(&p.old_version).await.unwrap();
    assert!(old.expose_str().unwrap().contains(OLD));
    let names = vaultrs::kv1::list(&root, &mount, &format!(".keysweep/staging/{path}"))
        .await
        .unwrap()
        .data
        .keys;
    assert!(!names.contains(&p.token.to_string()), "{names:?}");
    assert!(vaultrs::kv1::get::<serde_json::Value>(
        &root,
        &mount,
        &format!(".keysweep/locks/{path}")
    )
    .await
    .is_err());

    assert_eq!(
        engine.finalize(&p.id, true).await.unwrap().state,
        State::Done
    );
    assert!(
        vaultrs::kv1::get::<serde_json::Value>(&root, &mount, &saved_key)
            .await
            .is_err()
    );

    // Rollback restores the saved value, then drops the copy.
    let p = plan(&store, RetireMode::SoftDelete).await;
    engine.apply(&p).await.unwrap();
    assert_eq!(
        engine.rollback(&p.id).await.unwrap().state,
        State::RolledBack
    );
    let cur: serde_json::Value = vaultrs::kv1::get(&root, &mount, path).await.unwrap();
    let restored = store.read_version(&p.old_version).await.unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(restored.expose()).unwrap(),
        cur
    );
    let names = vaultrs::kv1::list(&root, &mount, &format!(".keysweep/staging/{path}"))
        .await
        .unwrap()
        .data
        .keys;
    assert_eq!(names, ["salt"]);
}

#[tokio::test]
async fn small_max_versions_and_delete_version_after_are_plan_risks() {
    let bao = need_bao!("small_max_versions_and_delete_version_after_are_plan_risks");
    let mount = format!("kvmax-{}", uniq());
    bao.mount_kv(&mount, "2").await;
    let root = bao.root().await;
    let mut cfg = vaultrs::api::kv2::requests::SetConfigurationRequest::builder();
    cfg.max_versions(1u64);
    vaultrs::kv2::config::set(&root, &mount, Some(&mut cfg))
        .await
        .unwrap();
    bao.put(&mount, "app", doc(OLD)).await;
    let store = bao.store(bao.root_auth(), &mount, "app").await;
    assert_eq!(store.capabilities().max_versions, Some(1));
    let p = plan(&store, RetireMode::SoftDelete).await;
    let risk = p
        .risks
        .iter()
        .find(|r| r.code == "vault-max-versions")
        .expect("risk");
    assert_eq!(risk.severity, Severity::High);
    assert!(risk.message.contains("mount's config"), "{}", risk.message);

    // Key metadata overrides the mount: 2 versions is a warning.
    let mut m = vaultrs::api::kv2::requests::SetSecretMetadataRequest::builder();
    m.max_versions(2u64).delete_version_after("1h");
    vaultrs::kv2::set_metadata(&root, &mount, "app", Some(&mut m))
        .await
        .unwrap();
    let store = bao.store(bao.root_auth(), &mount, "app").await;
    let risks = store.plan_risks().await.unwrap();
    let mv = risks
        .iter()
        .find(|r| r.code == "vault-max-versions")
        .unwrap();
    assert_eq!(mv.severity, Severity::Warning);
    let dva = risks
        .iter()
        .find(|r| r.code == "vault-delete-version-after")
        .expect("delete_version_after risk");
    assert!(dva.message.contains("1h"), "{}", dva.message);

    // The default mount has neither risk.
    let (path, _) = setup(&bao, "secret").await;
    let store = bao.store(bao.root_auth(), "secret", &path).await;
    assert!(store.plan_risks().await.unwrap().is_empty());
}

#[tokio::test]
async fn least_privilege_policy_is_enough_and_no_more() {
    let bao = need_bao!("least_privilege_policy_is_enough_and_no_more");
    let (path, v0) = setup(&bao, "secret").await;
    let (other, _) = setup(&bao, "secret").await;
    let hcl = rotator_policy("secret", &path, &Kv2Options::default());
    let token = bao
        .token_with_policy(&format!("ks-rotator-{}", uniq()), &hcl)
        .await;
    let auth = common::token_auth(&token);
    let store = bao.store(auth.clone(), "secret", &path).await;
    let p = plan(&store, RetireMode::Destroy).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = bao.engine(dir.path(), auth.clone(), Hooks::default());
    assert_eq!(engine.apply(&p).await.unwrap().state, State::Cutover);
    assert_eq!(
        engine.finalize(&p.id, true).await.unwrap().state,
        State::Done
    );
    let meta = bao.meta("secret", &path).await.unwrap();
    assert_eq!(version_of(&meta, v0)["destroyed"], true);
    assert_no_leftovers(&bao, "secret", &path, "least privilege").await;
    // Rollback works with the same token.
    let p = plan(&store, RetireMode::Destroy).await;
    engine.apply(&p).await.unwrap();
    assert_eq!(
        engine.rollback(&p.id).await.unwrap().state,
        State::RolledBack
    );

    // Nothing else.
    let elsewhere = bao.store(auth, "secret", &other).await;
    let e = elsewhere.read_current().await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Denied, "{e}");
    assert!(e.message.contains("403"), "{e}");
    assert_eq!(
        elsewhere
            .acquire(&RotationToken::new())
            .await
            .unwrap_err()
            .class,
        ErrorClass::Denied
    );
}

#[tokio::test]
async fn approle_login_rotates() {
    let bao = need_bao!("approle_login_rotates");
    let (path, _) = setup(&bao, "secret").await;
    let root = bao.root().await;
    let policy = format!("ks-approle-{}", uniq());
    vaultrs::sys::policy::set(
        &root,
        &policy,
        &rotator_policy("secret", &path, &Kv2Options::default()),
    )
    .await
    .unwrap();
    let mount = format!("approle-{}", uniq());
    vaultrs::sys::auth::enable(&root, &mount, "approle", None)
        .await
        .unwrap();
    let mut role = vaultrs::api::auth::approle::requests::SetAppRoleRequest::builder();
    role.token_policies(vec![policy.clone()]).token_ttl("1h");
    vaultrs::auth::approle::role::set(&root, &mount, "rotator", Some(&mut role))
        .await
        .unwrap();
    let role_id = vaultrs::auth::approle::role::read_id(&root, &mount, "rotator")
        .await
        .unwrap()
        .role_id;
    let secret_id = vaultrs::auth::approle::role::secret::generate(&root, &mount, "rotator", None)
        .await
        .unwrap()
        .secret_id;
    let auth = VaultAuth::AppRole {
        mount: mount.clone(),
        role_id,
        secret_id: secret_id.into(),
    };
    let store = bao.store(auth.clone(), "secret", &path).await;
    let p = plan(&store, RetireMode::SoftDelete).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = bao.engine(dir.path(), auth, Hooks::default());
    assert_eq!(engine.apply(&p).await.unwrap().state, State::Cutover);
    assert_eq!(
        engine.finalize(&p.id, true).await.unwrap().state,
        State::Done
    );

    let bad = VaultAuth::AppRole {
        mount,
        role_id: "nope".into(),
        secret_id: "wrong".to_string().into(),
    };
    let e = match bao.settings(bad).client().await {
        Ok(_) => panic!("login with a wrong secret id succeeded"),
        Err(e) => e,
    };
    assert_eq!(e.class, ErrorClass::Denied, "{e}");
}

#[tokio::test]
async fn locate_finds_old_and_current_versions() {
    let bao = need_bao!("locate_finds_old_and_current_versions");
    let mount = format!("loc-{}", uniq());
    bao.mount_kv(&mount, "2").await;
    const LEAK: &str = "leaked-Value-42";
    // a: leaked in version 1, replaced in version 2.
    bao.put(&mount, "team/a", doc(LEAK)).await;
    bao.put(&mount, "team/a", doc("fine")).await;
    // b/c: leaked in its current version.
    bao.put(&mount, "team/b/c", doc("fine")).await;
    bao.put(&mount, "team/b/c", json!({"token": LEAK})).await;
    // d: leaked in a deleted version; e: never leaked.
    bao.put(&mount, "d", doc(LEAK)).await;
    bao.put(&mount, "d", doc("fine")).await;
    vaultrs::kv2::delete_versions(&bao.root().await, &mount, "d", vec![1])
        .await
        .unwrap();
    bao.put(&mount, "e", doc("fine")).await;
    // keysweep's own staging keys are skipped.
    bao.put(&mount, ".keysweep/staging/team/a/x", doc(LEAK))
        .await;

    let matcher = |v: &SecretValue| {
        if v.expose_str().unwrap().contains(LEAK) {
            vec!["hit"]
        } else {
            vec![]
        }
    };
    let mut found = locate(&bao.root_settings(), &mount, "", matcher)
        .await
        .unwrap();
    found.sort_by(|a, b| a.store.locator.cmp(&b.store.locator));
    let got: Vec<(String, String, bool)> = found
        .iter()
        .map(|l| (l.store.locator.clone(), l.version.0.clone(), l.current))
        .collect();
    assert_eq!(
        got,
        [
            (format!("{mount}/team/a"), "1".to_string(), false),
            (format!("{mount}/team/b/c"), "2".to_string(), true),
        ]
    );
    assert_eq!(found[0].store.kind, KV2_KIND);
    assert_eq!(found[0].matched, "hit");
    // The location plans directly.
    let store = Kv2Store::from_ref_with_auth(&found[1].store, bao.root_auth())
        .await
        .unwrap();
    assert_eq!(store.read_current().await.unwrap().0, found[1].version);

    let sub = locate(&bao.root_settings(), &mount, "team/b", matcher)
        .await
        .unwrap();
    assert_eq!(sub.len(), 1);
    let key = locate(&bao.root_settings(), &mount, "team/a", matcher)
        .await
        .unwrap();
    assert_eq!(key.len(), 1);
    let none = locate(&bao.root_settings(), &mount, "nothing/here", matcher)
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn namespaces_are_sent_and_recorded() {
    let bao = need_bao!("namespaces_are_sent_and_recorded");
    let ns = format!("ks-ns-{}", uniq());
    bao.create_namespace(&ns).await;
    let mut settings = bao.root_settings();
    settings.namespace = Some(ns.clone());
    let admin = settings.client().await.unwrap();
    let mut b = vaultrs::api::sys::requests::EnableEngineRequest::builder();
    b.options(std::collections::HashMap::from([(
        "version".to_string(),
        "2".to_string(),
    )]));
    vaultrs::sys::mount::enable(&admin, "kv", "kv", Some(&mut b))
        .await
        .unwrap();
    vaultrs::kv2::set(&admin, "kv", "app", &doc(OLD))
        .await
        .unwrap();
    // The same mount and path outside the namespace do not exist.
    assert!(bao
        .store(bao.root_auth(), "kv", "app")
        .await
        .read_current()
        .await
        .is_err());

    let store = Kv2Store::new(settings, "kv", "app", Kv2Options::default())
        .await
        .unwrap();
    assert_eq!(store.describe().options["namespace"], ns);
    let p = plan(&store, RetireMode::SoftDelete).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = bao.engine(dir.path(), bao.root_auth(), Hooks::default());
    assert_eq!(engine.apply(&p).await.unwrap().state, State::Cutover);
    let cur: serde_json::Value = vaultrs::kv2::read(&admin, "kv", "app").await.unwrap();
    assert!(issuer_accepts(&password(&cur)).await);
}

/// TLS: `ca_cert` trusts the server, no CA fails, `skip_verify` connects.
/// Needs a second server started with `bao server -dev -dev-tls
/// -dev-tls-cert-dir=DIR`: `KEYSWEEP_BAO_TLS_ADDR=https://…` and
/// `KEYSWEEP_BAO_TLS_CA=DIR/vault-ca.pem` (skipped when unset; the lead's
/// server script starts only the plain-HTTP server).
#[tokio::test]
async fn tls_ca_cert_and_skip_verify() {
    let (Ok(addr), Ok(ca)) = (
        std::env::var("KEYSWEEP_BAO_TLS_ADDR"),
        std::env::var("KEYSWEEP_BAO_TLS_CA"),
    ) else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: tls_ca_cert_and_skip_verify (KEYSWEEP_BAO_TLS_ADDR/KEYSWEEP_BAO_TLS_CA unset)"
        );
        return;
    };
    let token = std::env::var("KEYSWEEP_BAO_TLS_TOKEN").unwrap_or_else(|_| "root".into());
    let bao = Bao {
        addr: addr.clone(),
        root: token.clone(),
    };
    let mut s = bao.root_settings();
    s.ca_cert = Some(ca.clone().into());
    let path = format!("ks-tls/{}", uniq());
    let c = s.client().await.unwrap();
    vaultrs::kv2::set(&c, "secret", &path, &doc(OLD))
        .await
        .unwrap();
    let store = Kv2Store::new(s.clone(), "secret", &path, Kv2Options::default())
        .await
        .unwrap();
    assert_eq!(store.describe().options["ca_cert"], ca);
    let (_, v) = store.read_current().await.unwrap();
    assert!(v.expose_str().unwrap().contains(OLD));

    s.ca_cert = None;
    let e = Kv2Store::new(s.clone(), "secret", &path, Kv2Options::default())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Other, "{e}");
    assert!(e.message.contains("certificate"), "{e}");
    s.skip_verify = true;
    let store = Kv2Store::new(s, "secret", &path, Kv2Options::default())
        .await
        .unwrap();
    assert!(store.read_current().await.is_ok());
}
