//! Integration tests against a real local moto server (Secrets Manager, IAM,
//! STS).
//!
//! The server is shared by every test (and by other crates' tests): each test
//! uses its own randomly named secrets and users and never resets it. Start
//! it as `scripts/servers` does:
//!
//! ```text
//! INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p 5077 &
//! eval "$(python3 crates/keysweep-aws/tests/moto_bootstrap.py http://127.0.0.1:5077)"
//! export KEYSWEEP_MOTO_ENDPOINT=http://127.0.0.1:5077 KEYSWEEP_MOTO_ACCESS_KEY_ID KEYSWEEP_MOTO_SECRET_ACCESS_KEY
//! ```
//!
//! Without `KEYSWEEP_MOTO_ENDPOINT` every test prints `SKIPPED: ...` and
//! passes, unless `KEYSWEEP_REQUIRE_SERVERS=1`, which makes it fail.

#[macro_use]
mod fixtures;

use aws_credential_types::Credentials;
use aws_sdk_secretsmanager::primitives::Blob;
use fixtures::*;
use keysweep_aws::{
    locate_with_config, rotator_policy, AwsSettings, SecretsManagerStore, IAM_ISSUER_KIND,
    STORE_KIND,
};
use keysweep_rotate::{
    BackendError, CreateCtx, Credential, CredentialId, Engine, Error, ErrorClass, FieldPath,
    FingerprintKey, Issuer, Liveness, Locator, OnFull, PlanBuilder, RandomIssuer, RetireMode,
    RotationToken, SecretStore, SecretValue, State, Step, Strategy, VersionRef, Wanted,
};
use std::sync::Arc;
use std::time::Duration;

/// 1. A JSON application secret rotated in field `password` by RandomIssuer.
#[tokio::test]
async fn secrets_manager_happy_path_with_random_issuer() {
    let moto = moto_or_skip!("secrets_manager_happy_path_with_random_issuer");
    let old_pw = "OLDpasswordSENTINEL-0123456789";
    let name = unique("ks-happy");
    let arn = moto
        .secret(
            &name,
            &format!(r#"{{"username":"app","password":"{old_pw}","port":5432}}"#),
        )
        .await;
    let admin = moto.admin().await;
    let store = SecretsManagerStore::with_config(moto.settings(), &admin, &name).unwrap();
    let issuer = RandomIssuer::builder().build().unwrap();
    let plan = PlanBuilder::new()
        .field(FieldPath::new("password").unwrap())
        .strategy(Strategy::overlap(0))
        .plan(&store, &issuer)
        .await
        .unwrap();
    assert_eq!(plan.target.store.kind, STORE_KIND);
    assert_eq!(plan.target.store.locator, name);
    assert_eq!(
        plan.target.store.options["endpoint_url"],
        moto.endpoint.as_str()
    );
    // The ARN was learnt by inspect, so permissions name it exactly.
    assert!(plan
        .permissions
        .iter()
        .any(|p| p.action == "secretsmanager:PutSecretValue" && p.resource == arn));
    assert!(!serde_json::to_string(&plan).unwrap().contains(old_pw));
    let old_version = moto.holder(&name, "AWSCURRENT").await.unwrap();
    assert_eq!(plan.old_version.as_str(), old_version);

    let dir = tempfile::tempdir().unwrap();
    let f = Factory {
        config: admin,
        interfere: false,
    };
    let engine = Engine::builder(dir.path(), Arc::new(f)).build();
    let st = engine.apply(&plan).await.unwrap();
    assert_eq!(st.state, State::Cutover); // random secrets cannot be deactivated
    assert_eq!(
        moto.holder(&name, "AWSCURRENT").await.as_deref(),
        Some(plan.token.as_str())
    );
    assert_eq!(
        moto.holder(&name, "AWSPREVIOUS").await.as_deref(),
        Some(old_version.as_str())
    );
    assert_eq!(moto.holder(&name, "AWSPENDING").await, None);
    let doc: serde_json::Value =
        serde_json::from_str(&moto.value(&name, "AWSCURRENT").await).unwrap();
    assert_eq!(doc["username"], "app");
    assert_eq!(doc["port"], 5432);
    let new_pw = doc["password"].as_str().unwrap();
    assert_eq!(new_pw.len(), 40);
    assert_ne!(new_pw, old_pw);
    let prev: serde_json::Value =
        serde_json::from_str(&moto.value(&name, "AWSPREVIOUS").await).unwrap();
    assert_eq!(prev["password"], old_pw);

    let st = engine.finalize(&plan.id, true).await.unwrap();
    assert_eq!(st.state, State::Done);
    // Retire dropped AWSPREVIOUS; the old version is deprecated.
    assert_eq!(moto.holder(&name, "AWSPREVIOUS").await, None);
    assert_eq!(
        moto.holder(&name, "AWSCURRENT").await.as_deref(),
        Some(plan.token.as_str())
    );
}

/// 2. An IAM key stored as JSON: new key works, old one is deactivated by
/// apply and deleted by finalize. Runs under a TRACE subscriber capturing
/// every log line (the SDK's too) and checks no key secret appears.
#[tokio::test]
async fn iam_key_happy_path_and_no_secret_in_logs() {
    let moto = moto_or_skip!("iam_key_happy_path_and_no_secret_in_logs");
    let fx = IamFixture::new(moto, 0).await;
    let capture = Capture::default();
    let sub = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer({
            let c = capture.clone();
            move || c.clone()
        })
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(sub);

    let plan = fx.plan(&fx.builder()).await.unwrap();
    assert_eq!(plan.old_credential, Some(CredentialId(fx.old.0.clone())));
    assert_eq!(plan.target.issuer.kind, IAM_ISSUER_KIND);
    assert_eq!(plan.target.issuer.principal, fx.user);
    let user_arn = format!("arn:aws:iam::123456789012:user/{}", fx.user);
    assert!(plan
        .permissions
        .iter()
        .any(|p| p.action == "iam:CreateAccessKey" && p.resource == user_arn));
    assert!(plan.risks.iter().any(|r| r.code == "distribute-new-key"));
    let steps: Vec<Step> = plan.steps.iter().map(|s| s.step).collect();
    assert!(steps.contains(&Step::Deactivate) && steps.contains(&Step::Revoke));

    let engine = fx.engine(false);
    let st = engine.apply(&plan).await.unwrap();
    assert_eq!(st.state, State::OldDeactivated);
    let (new_id, new_secret) = fx.current_key().await;
    assert_ne!(new_id, fx.old.0);
    assert_eq!(st.new_credential, Some(CredentialId(new_id.clone())));
    assert_eq!(fx.moto.whoami(&new_id, &new_secret).await, Ok(user_arn));
    let keys = fx.moto.keys(&fx.user).await;
    assert_eq!(keys[&fx.old.0], "Inactive");
    assert_eq!(keys[&new_id], "Active");
    assert_eq!(fx.moto.holder(&fx.secret, "AWSPENDING").await, None);
    let journal =
        std::fs::read_to_string(fx.dir.path().join(format!("{}.jsonl", plan.id))).unwrap();
    assert!(journal.contains("sts:GetCallerIdentity arn:aws:iam::123456789012:user/"));

    let st = engine.finalize(&plan.id, true).await.unwrap();
    assert_eq!(st.state, State::Done);
    let keys = fx.moto.keys(&fx.user).await;
    assert_eq!(keys.len(), 1);
    assert!(keys.contains_key(&new_id));
    assert_eq!(
        fx.moto.whoami(&fx.old.0, &fx.old.1).await,
        Err("InvalidClientTokenId".into())
    );
    let old = Credential {
        id: CredentialId(fx.old.0.clone()),
        value: SecretValue::from(fx.old.1.as_str()),
    };
    assert_eq!(fx.issuer().verify_dead(&old).await.unwrap(), Liveness::Dead);
    let new = Credential {
        id: CredentialId(new_id.clone()),
        value: SecretValue::from(new_secret.as_str()),
    };
    let quick = fx.issuer().with_test_timeout(Duration::from_secs(1));
    assert_eq!(quick.verify_dead(&new).await.unwrap(), Liveness::Alive);
    // Idempotent revoke of a deleted key.
    fx.issuer().revoke(&old.id).await.unwrap();

    drop(guard);
    let logs = capture.text();
    assert!(logs.contains(&new_id), "the capture saw the run");
    for (what, s) in [("old", &fx.old.1), ("new", &new_secret)] {
        assert!(!logs.contains(s.as_str()), "{what} secret key in the logs");
    }
    assert!(!journal.contains(&fx.old.1) && !journal.contains(&new_secret));
}

/// 3. Every store step replayed with the same token: same result, no extra
/// versions.
#[tokio::test]
async fn store_steps_are_idempotent() {
    let moto = moto_or_skip!("store_steps_are_idempotent");
    let name = unique("ks-idem");
    moto.secret(&name, "value-0").await;
    let admin = moto.admin().await;
    let store = SecretsManagerStore::with_config(moto.settings(), &admin, &name).unwrap();
    let (old, v0) = store.read_current().await.unwrap();
    assert_eq!(v0.expose(), b"value-0");
    let t = RotationToken::new();
    let v1 = SecretValue::from("value-1");

    store.acquire(&t).await.unwrap();
    store.acquire(&t).await.unwrap();
    let a = store.stage(&t, &v1).await.unwrap();
    let b = store.stage(&t, &v1).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a.as_str(), t.as_str());
    // Same token, other bytes: refused (moto itself would overwrite).
    let e = store
        .stage(&t, &SecretValue::from("value-X"))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict);
    assert!(!e.message.contains("value-"), "{e}");
    assert_eq!(store.read_staged(&t).await.unwrap().expose(), b"value-1");
    assert_eq!(moto.version_count(&name).await, 2);
    // Another rotation cannot take the lock now.
    let other = RotationToken::new();
    assert_eq!(
        store.acquire(&other).await.unwrap_err().class,
        ErrorClass::Locked
    );
    assert_eq!(
        store.stage(&other, &v1).await.unwrap_err().class,
        ErrorClass::Locked
    );

    assert_eq!(store.promote(&t, &old).await.unwrap().as_str(), t.as_str());
    assert_eq!(store.promote(&t, &old).await.unwrap().as_str(), t.as_str());
    assert_eq!(
        moto.holder(&name, "AWSCURRENT").await.as_deref(),
        Some(t.as_str())
    );
    assert_eq!(moto.holder(&name, "AWSPREVIOUS").await, Some(old.0.clone()));
    // Staging again after promotion is still a no-op.
    store.stage(&t, &v1).await.unwrap();

    store.discard_staged(&t).await.unwrap();
    store.discard_staged(&t).await.unwrap();
    assert_eq!(moto.holder(&name, "AWSPENDING").await, None);
    assert_eq!(
        store.read_staged(&t).await.unwrap_err().class,
        ErrorClass::NotFound
    );
    let st = store.inspect().await.unwrap();
    assert_eq!(st.current, Some(VersionRef::from(&t)));
    assert_eq!(st.previous, Some(old.clone()));
    assert_eq!(st.pending, None);
    assert!(!st.native_rotation);

    // Rollback (demote) twice, then forward again.
    let tv = VersionRef::from(&t);
    assert_eq!(store.demote(&old, &tv).await.unwrap(), old);
    assert_eq!(store.demote(&old, &tv).await.unwrap(), old);
    assert_eq!(store.read_current().await.unwrap().1.expose(), b"value-0");
    // A CAS against the wrong expected version is a conflict.
    assert_eq!(
        store.promote(&t, &tv).await.unwrap_err().class,
        ErrorClass::Conflict
    );
    store.promote(&t, &old).await.unwrap();

    assert_eq!(
        store
            .retire_version(&tv, RetireMode::DropLabels)
            .await
            .unwrap_err()
            .class,
        ErrorClass::Conflict
    );
    store
        .retire_version(&old, RetireMode::DropLabels)
        .await
        .unwrap();
    store
        .retire_version(&old, RetireMode::Destroy)
        .await
        .unwrap();
    assert_eq!(moto.holder(&name, "AWSPREVIOUS").await, None);
    // The retired version is deprecated but still readable by id.
    assert_eq!(store.read_version(&old).await.unwrap().expose(), b"value-0");
    assert_eq!(moto.version_count(&name).await, 2);
    store.release(&t).await.unwrap();
}

/// Another writer takes AWSPENDING away from our version: read_staged is
/// NotFound and our lock is gone (Locked), so the engine would abort.
#[tokio::test]
async fn stolen_pending_label() {
    let moto = moto_or_skip!("stolen_pending_label");
    let name = unique("ks-stolen");
    moto.secret(&name, "value-0").await;
    let admin = moto.admin().await;
    let store = SecretsManagerStore::with_config(moto.settings(), &admin, &name).unwrap();
    let t = RotationToken::new();
    store.acquire(&t).await.unwrap();
    store.stage(&t, &SecretValue::from("mine")).await.unwrap();
    let thief = RotationToken::new();
    moto.sm()
        .await
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(thief.as_str())
        .secret_string("theirs")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    assert_eq!(
        moto.holder(&name, "AWSPENDING").await.as_deref(),
        Some(thief.as_str())
    );
    let e = store.read_staged(&t).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::NotFound, "{e}");
    assert_eq!(
        store.acquire(&t).await.unwrap_err().class,
        ErrorClass::Locked
    );
    // Discarding ours leaves theirs alone.
    store.discard_staged(&t).await.unwrap();
    assert_eq!(
        moto.holder(&name, "AWSPENDING").await.as_deref(),
        Some(thief.as_str())
    );
}

/// Binary secrets stay binary; missing secrets are NotFound.
#[tokio::test]
async fn binary_secrets_and_missing_secrets() {
    let moto = moto_or_skip!("binary_secrets_and_missing_secrets");
    let name = unique("ks-bin");
    moto.sm()
        .await
        .create_secret()
        .name(&name)
        .secret_binary(Blob::new(vec![0xff, 0x00, 0x01]))
        .send()
        .await
        .unwrap();
    let admin = moto.admin().await;
    let store = SecretsManagerStore::with_config(moto.settings(), &admin, &name).unwrap();
    let (old, v) = store.read_current().await.unwrap();
    assert_eq!(v.expose(), [0xff, 0x00, 0x01]);
    let t = RotationToken::new();
    store.stage(&t, &SecretValue::from("text")).await.unwrap();
    let got = moto
        .sm()
        .await
        .get_secret_value()
        .secret_id(&name)
        .version_id(t.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_binary().unwrap().as_ref(), b"text");
    assert!(got.secret_string().is_none());
    store.promote(&t, &old).await.unwrap();
    assert_eq!(store.read_current().await.unwrap().1.expose(), b"text");

    let missing =
        SecretsManagerStore::with_config(moto.settings(), &admin, &unique("ks-none")).unwrap();
    assert_eq!(
        missing.inspect().await.unwrap_err().class,
        ErrorClass::NotFound
    );
    assert_eq!(
        missing.read_current().await.unwrap_err().class,
        ErrorClass::NotFound
    );
}

/// 4. AWSCURRENT moves behind the engine's back between test and promote:
/// promote is a conflict and the run aborts cleanly.
#[tokio::test]
async fn concurrent_writer_aborts_the_rotation_cleanly() {
    let moto = moto_or_skip!("concurrent_writer_aborts_the_rotation_cleanly");
    let fx = IamFixture::new(moto, 0).await;
    let plan = fx.plan(&fx.builder()).await.unwrap();
    let err = fx.engine(true).apply(&plan).await.unwrap_err();
    match &err {
        Error::Aborted { step, source, .. } => {
            assert_eq!(*step, Step::Promote);
            assert_eq!(source.class, ErrorClass::Conflict);
        }
        e => panic!("{e:?}"),
    }
    let st = fx.engine(false).status(&plan.id).unwrap();
    assert_eq!(st.state, State::Aborted);
    // The writer's version is current, nothing pending, the new key gone,
    // the old key untouched.
    let current = fx.moto.holder(&fx.secret, "AWSCURRENT").await.unwrap();
    assert_ne!(current, plan.token.as_str());
    assert_ne!(current, plan.old_version.as_str());
    assert_eq!(fx.moto.holder(&fx.secret, "AWSPENDING").await, None);
    assert_eq!(fx.current_key().await, fx.old);
    let keys = fx.moto.keys(&fx.user).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[&fx.old.0], "Active");
}

/// 5. Two keys: refused by default, LimitExceeded on create; with
/// `on_full = revoke_inactive` an inactive spare key is deleted instead.
#[tokio::test]
async fn two_key_limit() {
    let moto = moto_or_skip!("two_key_limit");
    let fx = IamFixture::new(moto, 1).await;
    let spare = fx.others[0].0.clone();
    match fx.plan(&fx.builder()).await {
        Err(Error::Refused(m)) => assert!(m.contains("limit"), "{m}"),
        other => panic!("{other:?}"),
    }
    let e = fx
        .issuer()
        .create(&RotationToken::new(), &CreateCtx::default())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::LimitExceeded, "{e}");
    // Both keys active: revoke_inactive has nothing to free.
    let mut b = fx.builder();
    b.strategy(Strategy::Overlap {
        grace_secs: 0,
        on_full: OnFull::RevokeInactive,
    });
    assert!(matches!(fx.plan(&b).await, Err(Error::Refused(_))));

    fx.issuer()
        .deactivate(&CredentialId(spare.clone()))
        .await
        .unwrap();
    fx.issuer()
        .deactivate(&CredentialId(spare.clone()))
        .await
        .unwrap();
    let plan = fx.plan(&b).await.unwrap();
    assert_eq!(plan.free_slot, Some(CredentialId(spare.clone())));
    let st = fx.engine(false).apply(&plan).await.unwrap();
    assert_eq!(st.state, State::OldDeactivated);
    let keys = fx.moto.keys(&fx.user).await;
    assert!(!keys.contains_key(&spare), "{keys:?}");
    assert_eq!(keys[&fx.old.0], "Inactive");
    let (new_id, _) = fx.current_key().await;
    assert_eq!(keys[&new_id], "Active");
}

/// 6. Rollback after promotion: the old value is current again, the old key
/// active, the new key deleted.
#[tokio::test]
async fn rollback_after_promotion() {
    let moto = moto_or_skip!("rollback_after_promotion");
    let fx = IamFixture::new(moto, 0).await;
    let plan = fx.plan(&fx.builder()).await.unwrap();
    let engine = fx.engine(false);
    assert_eq!(
        engine.apply(&plan).await.unwrap().state,
        State::OldDeactivated
    );
    let (new_id, _) = fx.current_key().await;
    let st = engine.rollback(&plan.id).await.unwrap();
    assert_eq!(st.state, State::RolledBack);
    assert_eq!(fx.current_key().await, fx.old);
    assert_eq!(
        fx.moto.holder(&fx.secret, "AWSCURRENT").await.as_deref(),
        Some(plan.old_version.as_str())
    );
    assert_eq!(fx.moto.holder(&fx.secret, "AWSPENDING").await, None);
    let keys = fx.moto.keys(&fx.user).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[&fx.old.0], "Active");
    assert!(!keys.contains_key(&new_id));
    assert!(fx.moto.whoami(&fx.old.0, &fx.old.1).await.is_ok());
}

/// 7. The secret changes after planning: apply refuses before touching
/// anything.
#[tokio::test]
async fn stale_plan_is_refused() {
    let moto = moto_or_skip!("stale_plan_is_refused");
    let fx = IamFixture::new(moto, 0).await;
    let plan = fx.plan(&fx.builder()).await.unwrap();
    let doc = fx.moto.value(&fx.secret, "AWSCURRENT").await;
    fx.moto
        .sm()
        .await
        .put_secret_value()
        .secret_id(&fx.secret)
        .secret_string(doc)
        .send()
        .await
        .unwrap();
    let engine = fx.engine(false);
    match engine.apply(&plan).await {
        Err(Error::StalePlan { reasons, .. }) => {
            assert!(
                reasons.iter().any(|r| r.contains("current version")),
                "{reasons:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(engine.status(&plan.id), Err(Error::NoJournal(_))));
    assert_eq!(fx.moto.keys(&fx.user).await.len(), 1);
}

/// 8. The rotator is the user being rotated: refused at plan and create.
#[tokio::test]
async fn rotating_with_the_principals_own_identity_is_denied() {
    let moto = moto_or_skip!("rotating_with_the_principals_own_identity_is_denied");
    let mut fx = IamFixture::new(moto, 0).await;
    // Give the user rights, so only keysweep's own check can stop it.
    fx.moto
        .iam()
        .await
        .put_user_policy()
        .user_name(&fx.user)
        .policy_name("allow-all")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    fx.rotator = fx
        .moto
        .config(Credentials::new(&fx.old.0, &fx.old.1, None, None, "leaked"))
        .await;
    let issuer = fx.issuer();
    let e = issuer
        .inspect(&SecretValue::from(fx.old.1.as_str()))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Denied);
    assert!(
        e.message.contains(&fx.user) && !e.message.contains(&fx.old.1),
        "{e}"
    );
    let e = issuer
        .create(&RotationToken::new(), &CreateCtx::default())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Denied);
    match fx.plan(&fx.builder()).await {
        Err(Error::Backend(BackendError {
            class: ErrorClass::Denied,
            ..
        })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(fx.moto.keys(&fx.user).await.len(), 1);
}

/// A user carrying AWS's quarantine policy (here a customer-managed copy of
/// the name: moto's server has no AWS-managed policies) is reported, and the
/// plan carries the `quarantined` risk; the rotator's own identity still
/// rotates it.
#[tokio::test]
async fn quarantined_user_is_reported() {
    let moto = moto_or_skip!("quarantined_user_is_reported");
    let fx = IamFixture::new(moto, 0).await;
    let iam = fx.moto.iam().await;
    let policy = iam
        .create_policy()
        .policy_name(unique("AWSCompromisedKeyQuarantineV3"))
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:CreateAccessKey"],"Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name(&fx.user)
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let st = fx
        .issuer()
        .inspect(&SecretValue::from(fx.old.1.as_str()))
        .await
        .unwrap();
    assert!(st.quarantined);
    assert_eq!(st.current, None, "a secret key alone does not name its key");
    assert_eq!(st.credentials.len(), 1);
    let plan = fx.plan(&fx.builder()).await.unwrap();
    assert!(plan.risks.iter().any(|r| r.code == "quarantined"));
}

/// 9. A rotator holding only the actions of `rotator_policy(...)` can run
/// the whole IAM rotation, and is denied any other action.
///
/// moto evaluates identity policies for Secrets Manager, IAM and STS, but
/// only by action: it checks every non-S3 request against resource `*`, so a
/// statement naming the secret's or the user's ARN never matches there. The
/// policy is therefore installed with `*` resources; that the resources
/// keysweep declares in plans are exactly those of the documented policy is
/// a unit test (`policy::tests`).
#[tokio::test]
async fn least_privilege_rotator_policy_suffices() {
    let moto = moto_or_skip!("least_privilege_rotator_policy_suffices");
    let mut fx = IamFixture::new(moto, 0).await;
    let rotator = unique("ks-rotator");
    let keys = fx.moto.user(&rotator, 1).await;
    let policy = rotator_policy("*", "*");
    fx.moto
        .iam()
        .await
        .put_user_policy()
        .user_name(&rotator)
        .policy_name("keysweep-rotator")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    fx.rotator = fx
        .moto
        .config(Credentials::new(
            &keys[0].0, &keys[0].1, None, None, "rotator",
        ))
        .await;

    // Other actions are denied: the policy is really evaluated.
    let sm = aws_sdk_secretsmanager::Client::new(&fx.rotator);
    let e = sm
        .create_secret()
        .name(unique("ks-denied"))
        .secret_string("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
    let e = aws_sdk_iam::Client::new(&fx.rotator)
        .create_user()
        .user_name(unique("ks-denied"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");

    let plan = fx.plan(&fx.builder()).await.unwrap();
    let engine = fx.engine(false);
    assert_eq!(
        engine.apply(&plan).await.unwrap().state,
        State::OldDeactivated
    );
    assert_eq!(
        engine.finalize(&plan.id, true).await.unwrap().state,
        State::Done
    );
    let (new_id, new_secret) = fx.current_key().await;
    assert!(fx.moto.whoami(&new_id, &new_secret).await.is_ok());
    assert_eq!(fx.moto.keys(&fx.user).await.len(), 1);
}

/// 10. locate finds a leaked value in AWSCURRENT (whole value) and in
/// AWSPREVIOUS (a JSON field), with store refs usable for plans.
#[tokio::test]
async fn locate_finds_current_and_previous_values() {
    let moto = moto_or_skip!("locate_finds_current_and_previous_values");
    let prefix = unique("ks-loc");
    let leaked_a = "ghp_LEAKEDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let leaked_b = "xoxb-LEAKED-bbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let a = moto.secret(&format!("{prefix}/a"), leaked_a).await;
    let b = moto
        .secret(
            &format!("{prefix}/b"),
            &format!(r#"{{"user":"bot","api_key":"{leaked_b}"}}"#),
        )
        .await;
    moto.sm()
        .await
        .put_secret_value()
        .secret_id(&b)
        .secret_string(r#"{"user":"bot","api_key":"fresh"}"#)
        .send()
        .await
        .unwrap();
    moto.secret(&unique("ks-elsewhere"), leaked_a).await;

    let key = FingerprintKey::new(b"locate-test-key".to_vec());
    let wanted = |rule: &str, s: &str| Wanted {
        rule_id: rule.into(),
        fingerprint: key.fingerprint(rule, s.as_bytes()),
    };
    let locator = Locator::new(
        key.clone(),
        [
            wanted("ks.github.1", leaked_a),
            wanted("ks.slack.1", leaked_b),
        ],
    );
    let admin = moto.admin().await;
    let mut found = locate_with_config(&moto.settings(), &admin, Some(&prefix), |v| {
        locator.matches(v)
    })
    .await
    .unwrap();
    found.sort_by(|x, y| x.store.locator.cmp(&y.store.locator));
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].store.locator, a);
    assert_eq!(found[0].store.kind, STORE_KIND);
    assert_eq!(found[0].labels, vec!["AWSCURRENT".to_string()]);
    assert_eq!(found[0].matched.field, None);
    assert_eq!(found[0].matched.wanted.rule_id, "ks.github.1");
    assert_eq!(found[1].store.locator, b);
    assert_eq!(found[1].labels, vec!["AWSPREVIOUS".to_string()]);
    assert_eq!(
        found[1].matched.field.as_ref().map(|f| f.as_str()),
        Some("api_key")
    );
    assert_eq!(
        moto.holder(&b, "AWSPREVIOUS").await.as_deref(),
        Some(found[1].version.as_str())
    );
    // The refs rebuild working stores.
    let s = SecretsManagerStore::with_config(
        AwsSettings::from_options(&found[1].store.options),
        &admin,
        &found[1].store.locator,
    )
    .unwrap();
    assert!(s.read_version(&found[1].version).await.is_ok());
    // Without a prefix the third copy is found too.
    let all = locate_with_config(&moto.settings(), &admin, None, |v| locator.matches(v))
        .await
        .unwrap();
    assert!(all.len() >= 3);
}
