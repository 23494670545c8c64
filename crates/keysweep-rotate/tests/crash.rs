//! Crash-point tests: for every call the engine makes through the fakes,
//! crash (or fail) before and after it, then resume from the journal alone
//! with fresh handles over the same backend state, and check the invariants
//! of DESIGN.md 8.1:
//!
//! 1. AWSCURRENT always holds a credential the issuer accepts (checked at the
//!    crash point and after recovery);
//! 2. at most `max` credentials exist after DONE/ABORTED/ROLLED_BACK, and
//!    exactly one (the one current) once finished;
//! 3. no orphan AWSPENDING remains;
//! 4. the journal alone is enough to resume.

mod common;

use common::{Fixture, OLD};
use keysweep_rotate::testing::{Faults, When};
use keysweep_rotate::{Error, ErrorClass, RotationStatus, State};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Crash,
    Fail,
}

const KINDS: [Kind; 2] = [Kind::Crash, Kind::Fail];
const WHENS: [When; 2] = [When::Before, When::After];

fn inject(faults: &Faults, kind: Kind, index: usize, when: When) {
    match kind {
        Kind::Crash => faults.crash_at(index, when),
        Kind::Fail => faults.fail_at(index, when, ErrorClass::Transient),
    };
}

fn describe(kind: Kind, when: When, index: usize, faults: &Faults) -> String {
    let log = faults.log();
    format!(
        "{kind:?} {when:?} call {index} ({})",
        log.get(index).map_or("?", String::as_str)
    )
}

/// Resumes until the rotation stops (one resume suffices without faults).
async fn recover(fx: &Fixture, id: &str, ctx: &str) -> RotationStatus {
    let engine = fx.engine(Faults::new());
    match engine.status(id) {
        Err(Error::NoJournal(_)) => {
            panic!("{ctx}: no journal")
        }
        Err(e) => panic!("{ctx}: {e}"),
        Ok(_) => engine
            .resume(id)
            .await
            .unwrap_or_else(|e| panic!("{ctx}: resume: {e}")),
    }
}

/// Finishes a recovered rotation and checks the end state.
async fn finish(fx: &Fixture, id: &str, st: RotationStatus, ctx: &str) {
    fx.assert_clean(ctx);
    let engine = fx.engine(Faults::new());
    match st.state {
        State::OldDeactivated => {
            let done = engine.finalize(id, true).await.unwrap();
            assert_eq!(done.state, State::Done, "{ctx}");
            fx.assert_clean(ctx);
            assert_eq!(fx.iam.credentials().len(), 1, "{ctx}: {:?}", fx.iam);
            assert!(!fx.iam.accepts(OLD.as_bytes()), "{ctx}");
        }
        State::Aborted | State::RolledBack => {
            assert_eq!(fx.current_value().expose(), OLD.as_bytes(), "{ctx}");
            assert_eq!(fx.iam.credentials().len(), 1, "{ctx}: {:?}", fx.iam);
        }
        State::Done => {
            assert_eq!(fx.iam.credentials().len(), 1, "{ctx}: {:?}", fx.iam);
        }
        s => panic!("{ctx}: unexpected state {s}"),
    }
}

async fn apply_matrix(make: fn() -> Fixture) -> usize {
    // Count the calls of a clean apply.
    let clean = make();
    let plan = clean.plan().await;
    let faults = Faults::new();
    clean.engine(faults.clone()).apply(&plan).await.unwrap();
    let n = faults.calls();
    assert!(n >= 12, "{:?}", faults.log());
    let mut runs = 0;
    for index in 0..n {
        for when in WHENS {
            for kind in KINDS {
                let fx = make();
                let plan = fx.plan().await;
                let faults = Faults::new();
                inject(&faults, kind, index, when);
                let r = fx.engine(faults.clone()).apply(&plan).await;
                let ctx = describe(kind, when, index, &faults);
                assert_eq!(faults.pending(), 0, "{ctx}: fault did not fire");
                match (kind, &r) {
                    (Kind::Crash, Err(Error::Crashed { .. })) => {}
                    (Kind::Fail, Err(_)) => {}
                    _ => panic!("{ctx}: {r:?}"),
                }
                fx.assert_current_accepted(&format!("{ctx}, at the crash"));
                let engine = fx.engine(Faults::new());
                let st = match engine.status(&plan.id) {
                    // Failed while re-checking preconditions, before the
                    // journal existed: nothing may have changed.
                    Err(Error::NoJournal(_)) => {
                        assert_eq!(fx.iam.credentials().len(), 1, "{ctx}");
                        fx.assert_clean(&ctx);
                        engine.apply(&plan).await.unwrap()
                    }
                    _ => recover(&fx, &plan.id, &ctx).await,
                };
                finish(&fx, &plan.id, st, &ctx).await;
                runs += 1;
            }
        }
    }
    runs
}

#[tokio::test]
async fn crash_or_fail_around_every_apply_call_json_field() {
    let runs = apply_matrix(Fixture::json).await;
    assert!(runs >= 48);
}

#[tokio::test]
async fn crash_or_fail_around_every_apply_call_plain() {
    apply_matrix(Fixture::plain).await;
}

/// A test failure forces the abort path; then crash at every later call, so
/// compensation itself is interrupted everywhere.
#[tokio::test]
async fn crash_around_every_abort_call() {
    let make = || {
        let f = Faults::new();
        f.on(
            "issuer.test",
            When::Before,
            keysweep_rotate::testing::Action::Fail(ErrorClass::TestFailed),
        );
        f
    };
    let clean = Fixture::plain();
    let plan = clean.plan().await;
    let faults = make();
    let r = clean.engine(faults.clone()).apply(&plan).await;
    assert!(matches!(r, Err(Error::Aborted { .. })), "{r:?}");
    let log = faults.log();
    let first = log.iter().position(|c| c == "issuer.test").unwrap() + 1;
    for index in first..log.len() {
        for when in WHENS {
            let fx = Fixture::plain();
            let plan = fx.plan().await;
            let faults = make();
            faults.crash_at(index, when);
            let r = fx.engine(faults.clone()).apply(&plan).await;
            let ctx = describe(Kind::Crash, when, index, &faults);
            assert!(matches!(r, Err(Error::Crashed { .. })), "{ctx}: {r:?}");
            fx.assert_current_accepted(&ctx);
            let st = recover(&fx, &plan.id, &ctx).await;
            assert_eq!(st.state, State::Aborted, "{ctx}");
            finish(&fx, &plan.id, st, &ctx).await;
        }
    }
}

#[tokio::test]
async fn crash_or_fail_around_every_rollback_call() {
    let calls = {
        let fx = Fixture::json();
        let plan = fx.plan().await;
        fx.engine(Faults::new()).apply(&plan).await.unwrap();
        let faults = Faults::new();
        fx.engine(faults.clone()).rollback(&plan.id).await.unwrap();
        faults.calls()
    };
    for index in 0..calls {
        for when in WHENS {
            for kind in KINDS {
                let fx = Fixture::json();
                let plan = fx.plan().await;
                fx.engine(Faults::new()).apply(&plan).await.unwrap();
                let faults = Faults::new();
                inject(&faults, kind, index, when);
                let r = fx.engine(faults.clone()).rollback(&plan.id).await;
                let ctx = describe(kind, when, index, &faults);
                assert!(r.is_err(), "{ctx}");
                fx.assert_current_accepted(&ctx);
                let st = recover(&fx, &plan.id, &ctx).await;
                assert_eq!(st.state, State::RolledBack, "{ctx}");
                finish(&fx, &plan.id, st, &ctx).await;
            }
        }
    }
}

#[tokio::test]
async fn crash_or_fail_around_every_finalize_call() {
    let calls = {
        let fx = Fixture::plain();
        let plan = fx.plan().await;
        fx.engine(Faults::new()).apply(&plan).await.unwrap();
        let faults = Faults::new();
        fx.engine(faults.clone())
            .finalize(&plan.id, true)
            .await
            .unwrap();
        faults.calls()
    };
    assert!(calls >= 3);
    for index in 0..calls {
        for when in WHENS {
            for kind in KINDS {
                let fx = Fixture::plain();
                let plan = fx.plan().await;
                fx.engine(Faults::new()).apply(&plan).await.unwrap();
                let faults = Faults::new();
                inject(&faults, kind, index, when);
                let r = fx.engine(faults.clone()).finalize(&plan.id, true).await;
                let ctx = describe(kind, when, index, &faults);
                assert!(r.is_err(), "{ctx}");
                fx.assert_current_accepted(&ctx);
                let st = recover(&fx, &plan.id, &ctx).await;
                assert_eq!(st.state, State::Done, "{ctx}");
                finish(&fx, &plan.id, st, &ctx).await;
            }
        }
    }
}
