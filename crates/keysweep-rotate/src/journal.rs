//! The append-only JSONL journal and the lock file.
//!
//! Layout of a journal directory:
//!
//! * `<rotation_id>.jsonl`: one [`JournalRecord`] per line, appended and
//!   `fsync`ed before the engine moves on. The first record (`step: "plan"`)
//!   carries the whole plan, so the journal alone is enough to resume. A torn
//!   last line (a crash in the middle of a write) is ignored on load; any other
//!   unreadable line is an error.
//! * `<rotation_id>.lock`: an advisory exclusive lock (`flock`/`LockFileEx`
//!   through `fs4`) held while an operation runs, so two appliers never drive
//!   the same rotation. The operating system drops it when the process dies,
//!   so a crash never leaves a stale lock behind. The file itself stays (it
//!   names the last holder's pid for humans); removing it would race.
//!
//! Journal records never contain secret values: ids, fingerprints, error
//! classes and notes built from ids only.

use crate::error::{Error, ErrorClass, Result};
use crate::plan::RotationPlan;
use crate::state::{Phase, State, Step};
use crate::value::RotationToken;
use fs4::fs_std::FileExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalRecord {
    /// The rotation id.
    pub rotation_id: String,
    /// Its token.
    pub token: RotationToken,
    /// The step.
    pub step: Step,
    /// started, ok or failed.
    pub phase: Phase,
    /// Ids involved (`new_credential`, `new_version`, `old_version`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ids: BTreeMap<String, String>,
    /// Keyed fingerprints (hex) of values involved (`new_value`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fingerprints: BTreeMap<String, String>,
    /// Why the step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<ErrorClass>,
    /// When.
    pub at: Timestamp,
    /// The state after this record (informational; the engine recomputes it).
    pub state: State,
    /// A note without values (a manual follow-up, a skipped step's reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The plan, on the `plan` header record only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Box<RotationPlan>>,
}

/// Checks that a rotation id is safe as a file name.
pub(crate) fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRotationId)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The journal file of one rotation.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Option<File>,
}

impl Journal {
    pub fn path(dir: &Path, id: &str) -> Result<PathBuf> {
        check_id(id)?;
        Ok(dir.join(format!("{id}.jsonl")))
    }

    /// Opens for appending, creating the file (and fsyncing the directory)
    /// when `create` is set.
    pub fn open(dir: &Path, id: &str, create: bool) -> Result<Journal> {
        let path = Journal::path(dir, id)?;
        if !create && !path.exists() {
            return Err(Error::NoJournal(id.to_string()));
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let file = OpenOptions::new()
            .create(create)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        if create {
            sync_dir(dir);
        } else {
            drop_torn_tail(&file, &path)?;
        }
        Ok(Journal {
            path,
            file: Some(file),
        })
    }

    /// Appends one record and fsyncs it.
    pub fn append(&mut self, r: &JournalRecord) -> Result<()> {
        let mut line = serde_json::to_vec(r).expect("records serialise");
        line.push(b'\n');
        let f = self.file.as_mut().expect("journal open");
        f.write_all(&line).map_err(io(&self.path))?;
        f.sync_data().map_err(io(&self.path))?;
        tracing::trace!(step = %r.step, phase = ?r.phase, state = %r.state, "journaled");
        Ok(())
    }

    /// Reads all records of a rotation.
    pub fn load(dir: &Path, id: &str) -> Result<Vec<JournalRecord>> {
        let path = Journal::path(dir, id)?;
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoJournal(id.to_string()))
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let lines: Vec<String> = BufReader::new(file)
            .lines()
            .collect::<std::io::Result<_>>()
            .map_err(io(&path))?;
        let mut out = Vec::with_capacity(lines.len());
        let n = lines.len();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<JournalRecord>(line) {
                Ok(r) => out.push(r),
                Err(_) if i + 1 == n => {
                    tracing::warn!(path = %path.display(), line = i + 1, "ignoring torn last journal line");
                }
                Err(e) => {
                    return Err(Error::CorruptJournal {
                        path: path.display().to_string(),
                        line: i + 1,
                        reason: format!("line {}, column {}", e.line(), e.column()),
                    })
                }
            }
        }
        if out.is_empty() {
            return Err(Error::NoJournal(id.to_string()));
        }
        Ok(out)
    }
}

/// Cuts a torn last line (no trailing newline) so the next record starts on
/// a line of its own.
fn drop_torn_tail(file: &File, path: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    let mut bytes = Vec::new();
    f.seek(SeekFrom::Start(0)).map_err(io(path))?;
    f.read_to_end(&mut bytes).map_err(io(path))?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    tracing::warn!(path = %path.display(), "cutting a torn last journal line");
    file.set_len(keep as u64).map_err(io(path))?;
    file.sync_data().map_err(io(path))
}

fn sync_dir(dir: &Path) {
    // Best effort: directories cannot be opened for sync on every platform.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The advisory lock of one rotation, held until dropped.
#[derive(Debug)]
pub(crate) struct LockFile {
    _file: File,
}

impl LockFile {
    /// Takes the lock without waiting.
    pub fn acquire(dir: &Path, id: &str) -> Result<LockFile> {
        check_id(id)?;
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(format!("{id}.lock"));
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match FileExt::try_lock_exclusive(&file) {
            Ok(true) => {}
            Ok(false) => return Err(Error::Locked(id.to_string())),
            Err(e) => return Err(io(&path)(e)),
        }
        // Informational contents; the lock is the flock, not the bytes.
        let _ = file.set_len(0);
        let _ = writeln!(file, "pid {} rotation {id}", std::process::id());
        tracing::debug!(rotation = id, "lock file taken");
        Ok(LockFile { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(check_id("rot-0123abcd").is_ok());
        for bad in ["", "../x", "ROT", "a/b", &"a".repeat(65)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    fn record(step: Step) -> JournalRecord {
        JournalRecord {
            rotation_id: "rot-1".into(),
            token: RotationToken::from_random_bytes([1; 16]),
            step,
            phase: Phase::Ok,
            ids: BTreeMap::new(),
            fingerprints: BTreeMap::new(),
            error_class: None,
            at: Timestamp::UNIX_EPOCH,
            state: State::Planned,
            note: None,
            plan: None,
        }
    }

    #[test]
    fn torn_last_line_is_ignored_then_cut() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), "rot-1", true).unwrap();
        j.append(&record(Step::Lock)).unwrap();
        drop(j);
        let path = Journal::path(dir.path(), "rot-1").unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"rotation_id\":\"rot-1\",\"tok").unwrap();
        assert_eq!(Journal::load(dir.path(), "rot-1").unwrap().len(), 1);
        let mut j = Journal::open(dir.path(), "rot-1", false).unwrap();
        j.append(&record(Step::Issue)).unwrap();
        let all = Journal::load(dir.path(), "rot-1").unwrap();
        assert_eq!(
            all.iter().map(|r| r.step).collect::<Vec<_>>(),
            [Step::Lock, Step::Issue]
        );
        // A bad line in the middle is corruption, not a torn write.
        std::fs::write(&path, "garbage\n{}\n").unwrap();
        assert!(matches!(
            Journal::load(dir.path(), "rot-1"),
            Err(Error::CorruptJournal { line: 1, .. })
        ));
        assert!(matches!(
            Journal::load(dir.path(), "rot-2"),
            Err(Error::NoJournal(_))
        ));
    }

    #[test]
    fn lock_excludes_second_holder() {
        let dir = tempfile::tempdir().unwrap();
        let a = LockFile::acquire(dir.path(), "rot-1").unwrap();
        assert!(matches!(
            LockFile::acquire(dir.path(), "rot-1"),
            Err(Error::Locked(_))
        ));
        assert!(LockFile::acquire(dir.path(), "rot-2").is_ok());
        drop(a);
        assert!(LockFile::acquire(dir.path(), "rot-1").is_ok());
    }
}
