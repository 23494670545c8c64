//! Where journals and lock files live.
//!
//! The library reads no environment variable: front ends read
//! [`STATE_DIR_ENV`] and pass its value to [`resolve_state_dir`].

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The environment variable front ends read for the journal directory.
pub const STATE_DIR_ENV: &str = "KEYSWEEP_STATE_DIR";

/// The journal directory when nothing names one (relative to the working
/// directory).
pub const DEFAULT_STATE_DIR: &str = ".keysweep/rotations";

/// The journal directory: the explicit value (a command-line flag, a
/// function argument), else the config file's `state_dir`, else the
/// environment's value (the front end's read of [`STATE_DIR_ENV`]; empty
/// counts as unset), else [`DEFAULT_STATE_DIR`].
pub fn resolve_state_dir(
    explicit: Option<&Path>,
    config: Option<&Path>,
    env: Option<&OsStr>,
) -> PathBuf {
    explicit
        .or(config)
        .map(Path::to_path_buf)
        .or_else(|| env.filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_then_config_then_env_then_default() {
        let (a, b) = (Path::new("/a"), Path::new("/b"));
        let env = Some(OsStr::new("/env"));
        assert_eq!(resolve_state_dir(Some(a), Some(b), env), a);
        assert_eq!(resolve_state_dir(None, Some(b), env), b);
        assert_eq!(resolve_state_dir(None, None, env), Path::new("/env"));
        assert_eq!(
            resolve_state_dir(None, None, Some(OsStr::new(""))),
            Path::new(DEFAULT_STATE_DIR)
        );
        assert_eq!(
            resolve_state_dir(None, None, None),
            Path::new(DEFAULT_STATE_DIR)
        );
    }
}
