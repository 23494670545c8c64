//! A wrapper for matched secret bytes that never prints them by accident.

use std::fmt;
use std::sync::Arc;

/// The raw bytes of a matched secret.
///
/// `Debug` and `Display` print only the redacted form (see [`Secret::redacted`]);
/// the raw value is reachable only through the explicit [`Secret::expose`]. The
/// bytes are shared (`Arc`), so cloning a finding does not copy the secret.
///
/// # Example
///
/// ```
/// use keysweep_core::Secret;
///
/// let s = Secret::new(b"ghp_exampleexampleexample".to_vec());
/// assert!(!format!("{s:?}").contains("exampleexample"));
/// assert_eq!(s.expose(), b"ghp_exampleexampleexample");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    /// Wraps raw secret bytes.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Secret {
        Secret(bytes.into())
    }

    /// Returns the raw secret. Call this only to hand the value to something
    /// that needs it (a `--reveal` output, a rotation), never to log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The length of the secret in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A redacted form safe for humans and logs.
    ///
    /// Secrets of 16 bytes or more keep their first four characters (which for
    /// most provider tokens is the public prefix such as `ghp_` or `AKIA`);
    /// shorter ones keep nothing. The rest becomes `*****`, whatever its length.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// Redacts raw bytes the same way as [`Secret::redacted`].
pub(crate) fn redact(bytes: &[u8]) -> String {
    const MASK: &str = "*****";
    if bytes.len() < 16 {
        return MASK.to_string();
    }
    let keep: String = bytes[..4]
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    format!("{keep}{MASK}")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({:?}, len={})", self.redacted(), self.0.len())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let raw = b"AKIAZZZZSENTINEL7QXW";
        let s = Secret::new(raw.to_vec());
        let dbg = format!("{s:?}");
        let disp = format!("{s}");
        assert!(!dbg.contains("SENTINEL"), "{dbg}");
        assert!(!disp.contains("SENTINEL"), "{disp}");
        assert_eq!(disp, "AKIA*****");
        assert_eq!(s.expose(), raw);
    }

    #[test]
    fn short_secrets_keep_nothing() {
        assert_eq!(Secret::new(b"hunter2".to_vec()).redacted(), "*****");
    }

    #[test]
    fn non_printable_prefix_is_masked() {
        let s = Secret::new(vec![
            0u8, 1, 2, 3, b'a', b'b', b'c', b'd', 5, 6, 7, 8, 9, 10, 11, 12,
        ]);
        assert_eq!(s.redacted(), "????*****");
    }
}
