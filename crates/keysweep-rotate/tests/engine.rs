//! Scenario tests of plan/apply/status/resume/rollback/finalize on the fakes.

mod common;

use common::{token, Fixture, OLD};
use keysweep_rotate::testing::{Action, Faults, When, AWSCURRENT, AWSPENDING, AWSPREVIOUS};
use keysweep_rotate::{
    CredentialStatus, Engine, Error, ErrorClass, Issuer, IssuerRef, Mode, OnFull, PlanBuilder,
    RandomIssuer, SecretStore, SecretValue, State, Step, Strategy, VersionRef,
};
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn happy_path_json_field() {
    let fx = Fixture::json();
    let plan = fx.plan().await;
    assert!(plan.hash_ok());
    let json = serde_json::to_string(&plan).unwrap();
    assert!(!json.contains(OLD));
    let old_version = fx.sm.version_with(AWSCURRENT).unwrap();
    assert_eq!(plan.old_version.as_str(), old_version);

    let engine = fx.engine(Faults::new());
    let st = engine.apply(&plan).await.unwrap();
    assert_eq!(st.state, State::OldDeactivated);
    assert_eq!(st.mode, Mode::Apply);
    fx.assert_clean("apply");
    // New version current, old one previous, AWSPENDING gone.
    assert_eq!(fx.sm.version_with(AWSCURRENT).unwrap(), plan.token.as_str());
    assert_eq!(fx.sm.version_with(AWSPREVIOUS).unwrap(), old_version);
    // The rest of the document is byte-for-byte the same.
    let doc = fx.sm.get_secret_value(None, None).unwrap();
    let text = String::from_utf8(doc.expose().to_vec()).unwrap();
    let new = fx.current_value();
    let expected = format!(
        "{{\n  \"user\": \"app\",\n  \"password\": \"{}\",\n  \"port\": 5432.0\n}}\n",
        new.expose_str().unwrap()
    );
    assert_eq!(text, expected);
    // Old credential deactivated, new one active.
    let old_id = fx.iam.id_of(OLD.as_bytes()).unwrap();
    assert!(fx
        .iam
        .credentials()
        .contains(&(old_id.clone(), CredentialStatus::Inactive)));

    // Finalize: revoke, verify dead, retire.
    let st = engine.finalize(&plan.id, true).await.unwrap();
    assert_eq!(st.state, State::Done);
    assert_eq!(fx.iam.credentials().len(), 1);
    assert_eq!(fx.iam.id_of(OLD.as_bytes()), None);
    assert_eq!(fx.sm.version_with(AWSPREVIOUS), None);
    fx.assert_clean("finalize");
    // Journal: plan header first, then started/ok pairs.
    let journal =
        std::fs::read_to_string(fx.dir.path().join(format!("{}.jsonl", plan.id))).unwrap();
    let first: serde_json::Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    assert_eq!(first["step"], "plan");
    assert!(journal.lines().last().unwrap().contains("\"DONE\""));
    // Resume of a finished rotation does nothing.
    let lines = journal.lines().count();
    assert_eq!(engine.resume(&plan.id).await.unwrap().state, State::Done);
    let again = std::fs::read_to_string(fx.dir.path().join(format!("{}.jsonl", plan.id))).unwrap();
    assert_eq!(again.lines().count(), lines);
}

#[tokio::test]
async fn apply_twice_is_refused() {
    let fx = Fixture::plain();
    let plan = fx.plan().await;
    let engine = fx.engine(Faults::new());
    engine.apply(&plan).await.unwrap();
    assert!(matches!(
        engine.apply(&plan).await,
        Err(Error::AlreadyStarted(_))
    ));
}

#[tokio::test]
async fn stale_plan_is_refused_without_a_journal() {
    let fx = Fixture::plain();
    let plan = fx.plan().await;
    // Somebody re-saves the secret after planning.
    fx.sm
        .put_secret_value(token(7).as_str(), OLD.as_bytes(), &[AWSCURRENT])
        .unwrap();
    let engine = fx.engine(Faults::new());
    match engine.apply(&plan).await {
        Err(Error::StalePlan { reasons, .. }) => {
            assert!(reasons[0].contains("current version"), "{reasons:?}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(engine.status(&plan.id), Err(Error::NoJournal(_))));
    assert_eq!(fx.iam.credentials().len(), 1);

    // A new key at the issuer also makes the plan stale.
    let fx = Fixture::plain();
    let plan = fx.plan().await;
    fx.iam.add_credential(b"another-key-value-000000");
    assert!(matches!(
        fx.engine(Faults::new()).apply(&plan).await,
        Err(Error::StalePlan { .. })
    ));
}

#[tokio::test]
async fn edited_plan_is_refused() {
    let fx = Fixture::plain();
    let mut plan = fx.plan().await;
    plan.strategy = Strategy::overlap(0);
    assert!(matches!(
        fx.engine(Faults::new()).apply(&plan).await,
        Err(Error::PlanHashMismatch { .. })
    ));
    // A plan survives a JSON round trip unchanged.
    let plan = fx.plan().await;
    let back: keysweep_rotate::RotationPlan =
        serde_json::from_str(&serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    assert_eq!(back, plan);
    assert!(back.hash_ok());
}

#[tokio::test]
async fn concurrent_writer_makes_promote_fail_and_the_run_abort_cleanly() {
    let fx = Fixture::json();
    let plan = fx.plan().await;
    let writer = fx.sm.clone();
    let other = token(9);
    let other_id = other.to_string();
    let doc = fx.sm.get_secret_value(None, None).unwrap();
    let faults = Faults::new();
    faults.on(
        "store.promote",
        When::Before,
        Action::Run(Arc::new(move || {
            // Another tool re-writes the secret (same credential) meanwhile.
            writer
                .put_secret_value(&other_id, doc.expose(), &[AWSCURRENT])
                .unwrap();
        })),
    );
    let err = fx.engine(faults.clone()).apply(&plan).await.unwrap_err();
    match &err {
        Error::Aborted { step, source, .. } => {
            assert_eq!(*step, Step::Promote);
            assert_eq!(source.class, ErrorClass::Conflict);
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(faults.pending(), 0);
    let engine = fx.engine(Faults::new());
    let st = engine.status(&plan.id).unwrap();
    assert_eq!(st.state, State::Aborted);
    // The writer's version stays current, nothing is pending, the new
    // credential is revoked and the old one untouched.
    assert_eq!(fx.sm.version_with(AWSCURRENT).unwrap(), other.as_str());
    fx.assert_clean("concurrent writer");
    assert_eq!(fx.iam.credentials().len(), 1);
    assert!(fx.iam.accepts(OLD.as_bytes()));
}

#[tokio::test]
async fn two_plans_one_secret_only_one_promotes() {
    let fx = Fixture::plain();
    let a = fx.plan_with(fx.builder().token(token(1))).await;
    let b = fx.plan_with(fx.builder().token(token(2))).await;
    let faults = Faults::new();
    faults.on("store.stage", When::After, Action::Crash);
    let engine_a = fx.engine(faults);
    assert!(matches!(
        engine_a.apply(&a).await,
        Err(Error::Crashed { step: Step::Stage })
    ));
    // B sees A's AWSPENDING and is refused.
    let engine = fx.engine(Faults::new());
    assert!(matches!(
        engine.apply(&b).await,
        Err(Error::StalePlan { .. })
    ));
    assert_eq!(
        engine.resume(&a.id).await.unwrap().state,
        State::OldDeactivated
    );
    // After A, B's observed version is gone: still refused.
    assert!(matches!(
        engine.apply(&b).await,
        Err(Error::StalePlan { .. })
    ));
    fx.assert_clean("two plans");
}

#[tokio::test]
async fn lock_file_stops_a_second_applier() {
    let fx = Fixture::plain();
    let plan = fx.plan().await;
    let other = fx.engine(Faults::new());
    let id = plan.id.clone();
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let faults = Faults::new();
    faults.on(
        "issuer.create",
        When::Before,
        Action::Run(Arc::new(move || {
            let (other, id) = (other.clone(), id.clone());
            let r = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                rt.block_on(other.resume(&id)).map(|s| s.state)
            })
            .join()
            .unwrap();
            *seen2.lock().unwrap() = Some(format!("{r:?}"));
        })),
    );
    fx.engine(faults).apply(&plan).await.unwrap();
    let seen = seen.lock().unwrap().clone().unwrap();
    assert!(seen.contains("Locked"), "{seen}");
}

#[tokio::test]
async fn two_key_limit_refuse_or_free_a_slot() {
    // Overlap refuses by default when both slots are taken.
    let fx = Fixture::plain();
    let spare = fx.iam.add_credential(b"spare-key-value-00000000");
    let f = fx.factory.clone();
    let r = fx
        .builder()
        .plan(&f.store_handle("app/db"), &f.issuer_handle("app"))
        .await;
    assert!(matches!(r, Err(Error::Refused(_))), "{r:?}");
    // RevokeInactive refuses while the spare key is active...
    let mut b = fx.builder();
    b.strategy(Strategy::Overlap {
        grace_secs: 0,
        on_full: OnFull::RevokeInactive,
    });
    let r = b
        .plan(&f.store_handle("app/db"), &f.issuer_handle("app"))
        .await;
    assert!(matches!(r, Err(Error::Refused(_))));
    // ...and frees its slot once it is inactive.
    fx.iam.set_status(&spare, CredentialStatus::Inactive);
    let plan = fx.plan_with(&b).await;
    assert_eq!(plan.free_slot.as_ref(), Some(&spare));
    assert!(plan.risks.iter().any(|r| r.code == "free-slot"));
    let engine = fx.engine(Faults::new());
    assert_eq!(
        engine.apply(&plan).await.unwrap().state,
        State::OldDeactivated
    );
    assert!(!fx.iam.credentials().iter().any(|(id, _)| *id == spare));
    fx.assert_clean("free slot");
}

#[tokio::test]
async fn contain_first_at_the_limit_revokes_the_old_key_first() {
    let fx = Fixture::plain();
    fx.iam.add_credential(b"spare-key-value-00000000");
    let mut b = fx.builder();
    b.strategy(Strategy::ContainFirst { grace_secs: 0 });
    let plan = fx.plan_with(&b).await;
    assert!(plan.contain_by_revoke);
    assert_eq!(plan.steps[1].step, Step::Contain);
    let engine = fx.engine(Faults::new());
    assert_eq!(engine.apply(&plan).await.unwrap().state, State::Cutover);
    assert!(!fx.iam.accepts(OLD.as_bytes()));
    fx.assert_clean("contain first");
    // The old key is gone: rollback is refused.
    assert!(matches!(
        engine.rollback(&plan.id).await,
        Err(Error::InvalidState { .. })
    ));
    assert_eq!(
        engine.finalize(&plan.id, true).await.unwrap().state,
        State::Done
    );
}

#[tokio::test]
async fn issuer_limit_hit_during_apply_aborts() {
    let fx = Fixture::plain();
    let plan = fx.plan().await;
    let iam = fx.iam.clone();
    let faults = Faults::new();
    faults.on(
        "issuer.create",
        When::Before,
        Action::Run(Arc::new(move || {
            iam.add_credential(b"raced-in-key-value-00000");
        })),
    );
    let err = fx.engine(faults).apply(&plan).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::LimitExceeded, "{err}");
    fx.assert_clean("limit during apply");
    assert_eq!(
        fx.sm.version_with(AWSCURRENT),
        Some(plan.old_version.0.clone())
    );
}

#[tokio::test]
async fn rollback_after_promotion() {
    let fx = Fixture::json();
    let plan = fx.plan().await;
    let engine = fx.engine(Faults::new());
    engine.apply(&plan).await.unwrap();
    let new = fx.current_value();
    let st = engine.rollback(&plan.id).await.unwrap();
    assert_eq!(st.state, State::RolledBack);
    assert_eq!(st.mode, Mode::Rollback);
    assert_eq!(
        fx.sm.version_with(AWSCURRENT),
        Some(plan.old_version.0.clone())
    );
    assert_eq!(fx.current_value().expose(), OLD.as_bytes());
    assert!(fx.iam.accepts(OLD.as_bytes()));
    assert!(!fx.iam.accepts(new.expose()));
    assert_eq!(fx.iam.credentials().len(), 1);
    fx.assert_clean("rollback");
    assert!(matches!(
        engine.finalize(&plan.id, true).await,
        Err(Error::InvalidState { .. })
    ));
}

#[tokio::test]
async fn rollback_before_promotion_is_an_abort() {
    let fx = Fixture::plain();
    let plan = fx.plan().await;
    let faults = Faults::new();
    faults.on("issuer.test", When::Before, Action::Crash);
    assert!(fx.engine(faults).apply(&plan).await.is_err());
    let engine = fx.engine(Faults::new());
    let st = engine.status(&plan.id).unwrap();
    assert_eq!(st.state, State::Set);
    assert_eq!(st.incomplete, Some(Step::Test));
    assert_eq!(
        engine.rollback(&plan.id).await.unwrap().state,
        State::Aborted
    );
    fx.assert_clean("rollback before promote");
    assert_eq!(fx.iam.credentials().len(), 1);
}

#[tokio::test]
async fn finalize_waits_for_the_grace_period() {
    let fx = Fixture::plain();
    let plan = fx.plan().await; // grace 3600 s
    let now = Arc::new(Mutex::new(jiff::Timestamp::now()));
    let n2 = now.clone();
    let engine = Engine::builder(fx.dir.path(), Arc::new(fx.factory.clone()))
        .clock(Arc::new(move || *n2.lock().unwrap()))
        .build();
    engine.apply(&plan).await.unwrap();
    match engine.finalize(&plan.id, false).await {
        Err(Error::GraceNotElapsed { remaining_secs, .. }) => assert!(remaining_secs > 3500),
        other => panic!("{other:?}"),
    }
    let later = *now.lock().unwrap() + jiff::SignedDuration::from_secs(3601);
    *now.lock().unwrap() = later;
    assert_eq!(
        engine.finalize(&plan.id, false).await.unwrap().state,
        State::Done
    );
}

#[tokio::test]
async fn random_issuer_records_a_manual_follow_up() {
    let fx = Fixture::plain();
    let issuer = RandomIssuer::builder()
        .alphabet("abcdef0123456789")
        .length(48)
        .build()
        .unwrap();
    let plan = PlanBuilder::new()
        .plan(&fx.factory.store_handle("app/signing-key"), &issuer)
        .await
        .unwrap();
    assert_eq!(plan.target.issuer.kind, "random");
    assert!(plan.risks.iter().any(|r| r.code == "manual-follow-up"));
    assert!(!plan
        .steps
        .iter()
        .any(|s| matches!(s.step, Step::Deactivate | Step::Revoke)));
    let engine = fx.engine(Faults::new());
    let st = engine.apply(&plan).await.unwrap();
    assert_eq!(st.state, State::Cutover);
    assert_eq!(st.follow_ups.len(), 1);
    let v = fx.sm.get_secret_value(None, None).unwrap();
    assert_eq!(v.len(), 48);
    assert_eq!(
        engine.finalize(&plan.id, true).await.unwrap().state,
        State::Done
    );
    assert_eq!(fx.sm.version_with(AWSPENDING), None);
}

#[tokio::test]
async fn every_store_and_issuer_call_is_idempotent_by_token() {
    let fx = Fixture::plain();
    let store = fx.factory.store_handle("app/db");
    let issuer = fx.factory.issuer_handle("app");
    let t = token(3);
    let old = VersionRef(fx.sm.version_with(AWSCURRENT).unwrap());
    let ctx = keysweep_rotate::CreateCtx::default();

    store.acquire(&t).await.unwrap();
    store.acquire(&t).await.unwrap();
    let cred = issuer.create(&t, &ctx).await.unwrap();
    assert_eq!(issuer.find(&t, &ctx).await.unwrap(), Some(cred.id.clone()));
    let v1 = store.stage(&t, &cred.value).await.unwrap();
    let v2 = store.stage(&t, &cred.value).await.unwrap();
    assert_eq!(v1, v2);
    // Same token, other value: refused, never overwritten.
    let e = store.stage(&t, &SecretValue::from("x")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict);
    assert_eq!(
        store.read_staged(&t).await.unwrap().expose(),
        cred.value.expose()
    );
    issuer.set(&cred, None).await.unwrap();
    issuer.set(&cred, None).await.unwrap();
    issuer.test(&cred).await.unwrap();
    issuer.test(&cred).await.unwrap();
    assert_eq!(store.promote(&t, &old).await.unwrap(), v1);
    assert_eq!(store.promote(&t, &old).await.unwrap(), v1);
    store.discard_staged(&t).await.unwrap();
    store.discard_staged(&t).await.unwrap();
    store.release(&t).await.unwrap();
    let old_id = fx.iam.id_of(OLD.as_bytes()).unwrap();
    issuer.deactivate(&old_id).await.unwrap();
    issuer.deactivate(&old_id).await.unwrap();
    issuer.reactivate(&old_id).await.unwrap();
    issuer.reactivate(&old_id).await.unwrap();
    store.demote(&old, &v1).await.unwrap();
    store.demote(&old, &v1).await.unwrap();
    assert_eq!(fx.sm.version_with(AWSCURRENT), Some(old.0.clone()));
    issuer.revoke(&cred.id).await.unwrap();
    issuer.revoke(&cred.id).await.unwrap();
    store
        .retire_version(&v1, keysweep_rotate::RetireMode::DropLabels)
        .await
        .unwrap();
    store
        .retire_version(&v1, keysweep_rotate::RetireMode::DropLabels)
        .await
        .unwrap();
    // A CAS against a stale expected version fails.
    let t2 = token(4);
    store.stage(&t2, &SecretValue::from("y")).await.unwrap();
    let e = store.promote(&t2, &v1).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict);
    // A foreign AWSPENDING is a lock.
    let e = store.acquire(&t).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Locked);
    assert_eq!(issuer.describe(), IssuerRef::new("memory", "app"),);
}

#[tokio::test]
async fn value_lost_before_staging_is_revoked_and_issued_again() {
    let fx = Fixture::json();
    let plan = fx.plan().await;
    let faults = Faults::new();
    faults.on("store.stage", When::Before, Action::Crash);
    let r = fx.engine(faults).apply(&plan).await;
    assert!(
        matches!(r, Err(Error::Crashed { step: Step::Stage })),
        "{r:?}"
    );
    // The minted credential exists, but its value died with the process.
    assert_eq!(fx.iam.credentials().len(), 2);
    let lost = fx
        .engine(Faults::new())
        .status(&plan.id)
        .unwrap()
        .new_credential
        .unwrap();
    let st = fx.engine(Faults::new()).resume(&plan.id).await.unwrap();
    assert_eq!(st.state, State::OldDeactivated);
    assert_ne!(st.new_credential.as_ref(), Some(&lost));
    assert!(!fx.iam.credentials().iter().any(|(id, _)| *id == lost));
    let journal =
        std::fs::read_to_string(fx.dir.path().join(format!("{}.jsonl", plan.id))).unwrap();
    assert!(journal.contains("lost before staging"), "{journal}");
    fx.assert_clean("value lost");
}

#[tokio::test]
async fn engine_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let fx = Fixture::plain();
    let plan = fx.plan().await;
    let engine = fx.engine(Faults::new());
    let f = engine.apply(&plan);
    assert_send(&f);
    f.await.unwrap();
    assert_send(&engine.resume(&plan.id));
    assert_send(&engine.rollback(&plan.id));
    assert_send(&engine.finalize(&plan.id, true));
    fn assert_sync<T: Send + Sync + Clone>() {}
    assert_sync::<Engine>();
    assert_sync::<keysweep_rotate::RotationPlan>();
}

#[tokio::test]
async fn id_field_is_rewritten_with_the_new_credential_id() {
    use keysweep_rotate::testing::{FakeFactory, FakeIam, FakeSecretsManager};
    use keysweep_rotate::FieldPath;
    let iam = FakeIam::new(2);
    let old_id = iam.add_credential(b"old-secret-key-0001");
    let doc = format!(
        r#"{{"aws_access_key_id": "{}", "aws_secret_access_key": "old-secret-key-0001", "region": "eu-west-1"}}"#,
        old_id.as_str()
    );
    let sm = FakeSecretsManager::new(doc.as_bytes());
    let factory = FakeFactory::new(sm.clone(), iam.clone());
    let plan = PlanBuilder::new()
        .field(FieldPath::new("aws_secret_access_key").unwrap())
        .id_field(FieldPath::new("aws_access_key_id").unwrap())
        .plan(
            &factory.store_handle("app/aws"),
            &factory.issuer_handle("app"),
        )
        .await
        .unwrap();
    assert_eq!(
        plan.target.id_field.as_ref().map(|f| f.as_str()),
        Some("aws_access_key_id")
    );
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::builder(dir.path(), Arc::new(factory)).build();
    assert_eq!(
        engine.apply(&plan).await.unwrap().state,
        State::OldDeactivated
    );
    let cur = sm.get_secret_value(None, None).unwrap();
    let v: serde_json::Value = serde_json::from_slice(cur.expose()).unwrap();
    let new_secret = v["aws_secret_access_key"].as_str().unwrap();
    let new_id = iam.id_of(new_secret.as_bytes()).expect("new key issued");
    assert_eq!(v["aws_access_key_id"], new_id.as_str());
    assert_ne!(new_id, old_id);
    assert_eq!(v["region"], "eu-west-1");
    assert!(iam
        .credentials()
        .contains(&(old_id, CredentialStatus::Inactive)));
}
