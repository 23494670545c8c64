//! Sentinel test: run every operation, including failures, crashes and
//! recoveries, with tracing at TRACE into a buffer, and assert that no secret
//! value (the leaked one, the minted ones, the random ones) appears in logs,
//! journals, plans, statuses, error messages or `Debug` output.

mod common;

use common::{Fixture, OLD};
use keysweep_rotate::testing::{Action, Faults, When, AWSCURRENT};
use keysweep_rotate::{
    extract_field, replace_field, Credential, CredentialId, FieldPath, Issuer, PlanBuilder,
    RandomIssuer, SecretStore, SecretValue,
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

/// Everything printed or written during the test.
#[derive(Default)]
struct Seen(String);

impl Seen {
    fn add(&mut self, s: impl std::fmt::Debug) {
        self.0.push_str(&format!("{s:?}\n"));
    }
    fn add_text(&mut self, s: &str) {
        self.0.push_str(s);
        self.0.push('\n');
    }
    fn add_dir(&mut self, dir: &std::path::Path) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            self.add_text(&std::fs::read_to_string(&p).unwrap());
        }
    }
}

fn values_of(fx: &Fixture) -> Vec<SecretValue> {
    let mut out = fx.iam.all_values();
    for doc in fx.sm.all_values() {
        out.push(doc.clone());
        if let Ok(v) = extract_field(&doc, &FieldPath::new("password").unwrap()) {
            out.push(v);
        }
    }
    out
}

#[tokio::test]
async fn no_secret_value_is_ever_printed() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut seen = Seen::default();
    let mut values = Vec::new();

    // 1. Happy path on a JSON field, status, finalize.
    let fx = Fixture::json();
    let plan = fx.plan().await;
    seen.add_text(&serde_json::to_string_pretty(&plan).unwrap());
    seen.add(&plan);
    let engine = fx.engine(Faults::new());
    seen.add(engine.apply(&plan).await);
    seen.add(engine.status(&plan.id));
    seen.add_text(&serde_json::to_string(&engine.status(&plan.id).unwrap()).unwrap());
    seen.add(engine.finalize(&plan.id, true).await);
    seen.add(&engine);
    seen.add(&fx.factory);
    let store = fx.factory.store_handle("app/db");
    let (v, doc) = store.read_current().await.unwrap();
    seen.add((&v, &doc));
    seen.add(store.inspect().await);
    let issuer = fx.factory.issuer_handle("app");
    seen.add(issuer.inspect(&doc).await);
    let cred = Credential {
        id: CredentialId("AKIAFAKE".into()),
        value: doc.clone(),
    };
    seen.add(&cred);
    seen.add(issuer.test(&cred).await);
    seen.add(issuer.verify_dead(&cred).await);
    // Conflicting stage: the error must not quote either value.
    let t = common::token(5);
    store.stage(&t, &SecretValue::from(OLD)).await.unwrap();
    seen.add(store.stage(&t, &doc).await);
    seen.add(replace_field(&doc, &FieldPath::new("port").unwrap(), &doc));
    seen.add(extract_field(
        &SecretValue::from(format!("{{\"password\": {OLD}}}")),
        &FieldPath::new("password").unwrap(),
    ));
    seen.add_dir(fx.dir.path());
    values.extend(values_of(&fx));

    // 2. A concurrent writer: promote conflict, abort.
    let fx = Fixture::json();
    let plan = fx.plan().await;
    let sm = fx.sm.clone();
    let faults = Faults::new();
    faults.on(
        "store.promote",
        When::Before,
        Action::Run(Arc::new(move || {
            let doc = sm.get_secret_value(None, Some(AWSCURRENT)).unwrap();
            sm.put_secret_value(common::token(8).as_str(), doc.expose(), &[AWSCURRENT])
                .unwrap();
        })),
    );
    seen.add(&faults);
    let r = fx.engine(faults).apply(&plan).await;
    seen.add_text(&r.as_ref().unwrap_err().to_string());
    seen.add(r);
    seen.add_dir(fx.dir.path());
    values.extend(values_of(&fx));

    // 3. Crashes with recovery, rollback, stale plan.
    let fx = Fixture::plain();
    let plan = fx.plan().await;
    let faults = Faults::new();
    faults.on("store.stage", When::After, Action::Crash);
    seen.add(fx.engine(faults).apply(&plan).await);
    let engine = fx.engine(Faults::new());
    seen.add(engine.status(&plan.id));
    seen.add(engine.resume(&plan.id).await);
    seen.add(engine.rollback(&plan.id).await);
    seen.add(engine.finalize(&plan.id, false).await);
    let stale = fx.plan().await;
    fx.sm
        .put_secret_value(
            common::token(6).as_str(),
            b"something-else-entirely-42",
            &[AWSCURRENT],
        )
        .unwrap();
    seen.add(engine.apply(&stale).await);
    seen.add_dir(fx.dir.path());
    values.extend(values_of(&fx));

    // 4. The random issuer with a manual follow-up.
    let fx = Fixture::plain();
    let random = RandomIssuer::builder().length(24).build().unwrap();
    let plan = PlanBuilder::new()
        .plan(&fx.factory.store_handle("app/signing"), &random)
        .await
        .unwrap();
    let engine = fx.engine(Faults::new());
    seen.add(engine.apply(&plan).await);
    seen.add(engine.finalize(&plan.id, true).await);
    seen.add(&random);
    seen.add(random.generate());
    seen.add_dir(fx.dir.path());
    values.extend(values_of(&fx));

    drop(_guard);
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("TRACE"), "tracing was not captured");
    assert!(logs.contains("step ok"));
    seen.add_text(&logs);

    assert!(
        !seen.0.contains("SENTINEL"),
        "the leaked value's marker was printed"
    );
    let mut checked = 0;
    for v in &values {
        let s = String::from_utf8_lossy(v.expose()).into_owned();
        if s.len() < 8 {
            continue;
        }
        checked += 1;
        if let Some(at) = seen.0.find(&s) {
            let ctx = &seen.0[at.saturating_sub(200)..(at + s.len() + 50).min(seen.0.len())];
            panic!(
                "a secret value was printed near: {}",
                ctx.replace(&s, "<VALUE>")
            );
        }
    }
    assert!(checked >= 8, "{checked}");
}
