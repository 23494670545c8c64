//! Plan files: what `keysweep rotate plan -o FILE` writes and `apply --plan`
//! reads, and what the Python bindings' `save_plans`/`load_plans` exchange.
//!
//! ```json
//! {"format": "keysweep-rotation-plan", "version": 1,
//!  "plans": [{"name": "billing-db", "plan": { ... }}]}
//! ```
//!
//! A bare [`RotationPlan`] (what library users serialise) is read as a file
//! holding that one plan, named by its id. Plans hold no secret values, so
//! parse errors may quote the text.

use crate::plan::RotationPlan;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `format` of a plan file.
pub const PLAN_FORMAT: &str = "keysweep-rotation-plan";

/// The plan file `version` this library writes and reads.
pub const PLAN_FILE_VERSION: u32 = 1;

/// Why a plan file could not be read or written. `origin` is the file's
/// path (or a caller's label for text, such as `<string>`).
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// The file could not be read.
    #[error("cannot read plan {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write plan {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON at all.
    #[error("{origin}: not JSON")]
    NotJson {
        /// Where the text came from.
        origin: String,
        /// serde_json's reason.
        #[source]
        source: serde_json::Error,
    },
    /// JSON, but neither a plan file nor a plan.
    #[error("{origin}: not a keysweep plan")]
    NotAPlan {
        /// Where the text came from.
        origin: String,
        /// serde_json's reason.
        #[source]
        source: serde_json::Error,
    },
    /// A plan file of another version.
    #[error(
        "{origin}: plan file version {found} is not supported (this keysweep reads version \
         {supported}); make the plan again with this keysweep"
    )]
    Version {
        /// Where the text came from.
        origin: String,
        /// The file's `version`.
        found: u64,
        /// [`PLAN_FILE_VERSION`].
        supported: u32,
    },
}

/// A plan file: one or more plans, each with the name of the config entry
/// it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFile {
    /// Always [`PLAN_FORMAT`].
    pub format: String,
    /// File format version ([`PLAN_FILE_VERSION`]).
    pub version: u32,
    /// The rotations, in order.
    pub plans: Vec<NamedPlan>,
}

/// A plan and the name of the config entry it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedPlan {
    /// `[[rotation]]` name, `command-line`, or the plan's id.
    pub name: String,
    /// The plan.
    pub plan: RotationPlan,
}

impl NamedPlan {
    /// A plan named by its id.
    pub fn by_id(plan: RotationPlan) -> NamedPlan {
        NamedPlan {
            name: plan.id.clone(),
            plan,
        }
    }
}

impl PlanFile {
    /// A file of the current version holding `plans`.
    pub fn new(plans: Vec<NamedPlan>) -> PlanFile {
        PlanFile {
            format: PLAN_FORMAT.into(),
            version: PLAN_FILE_VERSION,
            plans,
        }
    }

    /// Parses a plan file, or a bare plan; errors name `origin`.
    pub fn parse(origin: &str, text: &str) -> Result<PlanFile, PlanFileError> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|source| PlanFileError::NotJson {
                origin: origin.into(),
                source,
            })?;
        let not_a_plan = |source| PlanFileError::NotAPlan {
            origin: origin.into(),
            source,
        };
        if v.get("format").and_then(|f| f.as_str()) == Some(PLAN_FORMAT) {
            if let Some(found) = v.get("version").and_then(|n| n.as_u64()) {
                if found != u64::from(PLAN_FILE_VERSION) {
                    return Err(PlanFileError::Version {
                        origin: origin.into(),
                        found,
                        supported: PLAN_FILE_VERSION,
                    });
                }
            }
            return serde_json::from_value(v).map_err(not_a_plan);
        }
        let plan: RotationPlan = serde_json::from_value(v).map_err(not_a_plan)?;
        Ok(PlanFile::new(vec![NamedPlan::by_id(plan)]))
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<PlanFile, PlanFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanFileError::Read {
            path: path.into(),
            source,
        })?;
        PlanFile::parse(&path.display().to_string(), &text)
    }

    /// The file's text: pretty JSON and a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("plans serialise");
        text.push('\n');
        text
    }

    /// Writes the file atomically: a temporary file in the same directory,
    /// synced, then renamed over `path`. A path that exists and is neither
    /// a file nor a directory (`/dev/stdout`, a FIFO) is written in place.
    pub fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let err = |source| PlanFileError::Write {
            path: path.into(),
            source,
        };
        let text = self.to_json();
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(err)?;
            return f.write_all(text.as_bytes()).map_err(err);
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".keysweep-plan-")
            .tempfile_in(dir)
            .map_err(err)?;
        tmp.write_all(text.as_bytes()).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(path).map_err(|e| err(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeFactory, FakeIam, FakeSecretsManager};
    use crate::PlanBuilder;

    async fn a_plan() -> RotationPlan {
        let iam = FakeIam::new(2);
        iam.add_credential(b"leaked-password-0001");
        let sm = FakeSecretsManager::new(br#"{"password": "leaked-password-0001"}"#);
        let factory = FakeFactory::new(sm, iam);
        PlanBuilder::new()
            .field(crate::FieldPath::new("password").unwrap())
            .plan(
                &factory.store_handle("app/db"),
                &factory.issuer_handle("app"),
            )
            .await
            .unwrap()
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn saved_files_load_back_identically() {
        let plan = rt().block_on(a_plan());
        let file = PlanFile::new(vec![
            NamedPlan {
                name: "billing-db".into(),
                plan: plan.clone(),
            },
            NamedPlan::by_id(plan.clone()),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        file.save(&path).unwrap();
        let back = PlanFile::load(&path).unwrap();
        assert_eq!(back, file);
        assert!(back.plans[0].plan.hash_ok());
        assert_eq!(back.plans[1].name, plan.id);
        // Saving again replaces the file, leaving no temporary behind.
        file.save(&path).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with("}\n") && text.contains("\"version\": 1"),
            "{text}"
        );
        assert!(!text.contains("leaked-password-0001"));

        // A bare plan is a file of one plan named by its id.
        let bare = serde_json::to_string(&plan).unwrap();
        let f = PlanFile::parse("<string>", &bare).unwrap();
        assert_eq!(f.plans, vec![NamedPlan::by_id(plan)]);
    }

    #[test]
    fn other_versions_and_garbage_are_clear_errors() {
        let plan = rt().block_on(a_plan());
        let mut v = serde_json::to_value(PlanFile::new(vec![NamedPlan::by_id(plan)])).unwrap();
        v["version"] = 2.into();
        let e = PlanFile::parse("p.json", &v.to_string()).unwrap_err();
        assert!(
            matches!(
                e,
                PlanFileError::Version {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(msg.contains("p.json") && msg.contains("version 2"), "{msg}");

        let e = PlanFile::parse("p.json", "{nope").unwrap_err();
        assert!(matches!(e, PlanFileError::NotJson { .. }), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
        let e = PlanFile::parse("p.json", r#"{"hello": 1}"#).unwrap_err();
        assert!(matches!(e, PlanFileError::NotAPlan { .. }), "{e:?}");
        let e = PlanFile::load(Path::new("/nonexistent/plan.json")).unwrap_err();
        assert!(matches!(e, PlanFileError::Read { .. }), "{e:?}");
    }
}
