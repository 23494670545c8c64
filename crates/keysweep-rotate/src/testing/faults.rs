//! Fault injection shared by the fakes.

use crate::error::{BackendError, BackendResult, ErrorClass};
use std::fmt;
use std::sync::{Arc, Mutex};

/// Whether a fault fires before the call takes effect or after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Before the effect: the call changes nothing.
    Before,
    /// After the effect: the call changed the backend, then "died".
    After,
}

/// Which call a fault targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// The n-th call (0-based) through any fake sharing the [`Faults`].
    Index(usize),
    /// The next call of this name, e.g. `store.promote`, `issuer.create`.
    Name(String),
}

/// What a fault does.
#[derive(Clone)]
pub enum Action {
    /// Return [`ErrorClass::Crash`]: the engine stops at once without
    /// journaling the outcome, as if the process died.
    Crash,
    /// Return an ordinary error of this class.
    Fail(ErrorClass),
    /// Run this code (a concurrent writer, say), then let the call proceed.
    Run(Arc<dyn Fn() + Send + Sync>),
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Crash => f.write_str("Crash"),
            Action::Fail(c) => write!(f, "Fail({c})"),
            Action::Run(_) => f.write_str("Run(..)"),
        }
    }
}

/// One injected fault; each fires at most once.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Which call.
    pub at: Match,
    /// Before or after its effect.
    pub when: When,
    /// What happens.
    pub action: Action,
}

#[derive(Default)]
struct Inner {
    calls: Vec<String>,
    faults: Vec<Fault>,
}

/// A call counter, call log and fault list shared by fake stores and issuers
/// (clone it into each). Calls are numbered in the order they happen across
/// all fakes sharing it, so a test can target "every call index".
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<Inner>>);

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.0.lock().unwrap();
        f.debug_struct("Faults")
            .field("calls", &i.calls.len())
            .field("pending", &i.faults)
            .finish()
    }
}

impl Faults {
    /// No faults.
    pub fn new() -> Faults {
        Faults::default()
    }

    /// Adds a fault.
    pub fn add(&self, fault: Fault) -> &Faults {
        self.0.lock().unwrap().faults.push(fault);
        self
    }

    /// Crash at call `index`, before or after its effect.
    pub fn crash_at(&self, index: usize, when: When) -> &Faults {
        self.add(Fault {
            at: Match::Index(index),
            when,
            action: Action::Crash,
        })
    }

    /// Fail call `index` with `class`, before or after its effect.
    pub fn fail_at(&self, index: usize, when: When, class: ErrorClass) -> &Faults {
        self.add(Fault {
            at: Match::Index(index),
            when,
            action: Action::Fail(class),
        })
    }

    /// Act on the next call named `name`.
    pub fn on(&self, name: &str, when: When, action: Action) -> &Faults {
        self.add(Fault {
            at: Match::Name(name.into()),
            when,
            action,
        })
    }

    /// How many calls were made.
    pub fn calls(&self) -> usize {
        self.0.lock().unwrap().calls.len()
    }

    /// The names of the calls made, in order.
    pub fn log(&self) -> Vec<String> {
        self.0.lock().unwrap().calls.clone()
    }

    /// Whether any fault is still waiting to fire.
    pub fn pending(&self) -> usize {
        self.0.lock().unwrap().faults.len()
    }

    fn fire(&self, index: usize, name: &str, when: When) -> BackendResult<()> {
        let action = {
            let mut i = self.0.lock().unwrap();
            let pos = i.faults.iter().position(|f| {
                f.when == when
                    && match &f.at {
                        Match::Index(n) => *n == index,
                        Match::Name(n) => n == name,
                    }
            });
            match pos {
                Some(p) => i.faults.remove(p).action,
                None => return Ok(()),
            }
        };
        tracing::debug!(call = name, index, ?when, ?action, "fault fires");
        match action {
            Action::Crash => Err(BackendError::new(
                ErrorClass::Crash,
                format!("injected crash {when:?} call {index} ({name})"),
            )),
            Action::Fail(c) => Err(BackendError::new(
                c,
                format!("injected failure {when:?} call {index} ({name})"),
            )),
            Action::Run(f) => {
                f();
                Ok(())
            }
        }
    }

    /// Runs `op` as call `name` with the faults applied around it.
    pub(crate) fn call<T>(
        &self,
        name: &str,
        op: impl FnOnce() -> BackendResult<T>,
    ) -> BackendResult<T> {
        let index = {
            let mut i = self.0.lock().unwrap();
            i.calls.push(name.to_string());
            i.calls.len() - 1
        };
        self.fire(index, name, When::Before)?;
        let r = op();
        self.fire(index, name, When::After)?;
        r
    }
}
