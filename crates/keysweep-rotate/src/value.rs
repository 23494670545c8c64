//! Secret values, rotation tokens and fingerprint (de)serialisation.

use keysweep_core::{Fingerprint, FingerprintKey};
use rand::rngs::SysRng;
use rand::TryRng;
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A secret value (a password, an access key's secret, a whole JSON secret
/// document) that can never be printed by accident.
///
/// It wraps [`secrecy::SecretBox`], so the bytes are zeroed on drop. It
/// implements neither `Display` nor `Serialize`, and its `Debug` shows only
/// the length. The bytes are reachable only through [`SecretValue::expose`];
/// what is safe to log or journal is its keyed [`Fingerprint`]
/// ([`SecretValue::fingerprint`]).
///
/// # Example
///
/// ```
/// use keysweep_core::FingerprintKey;
/// use keysweep_rotate::SecretValue;
///
/// let v = SecretValue::from("hunter2-but-longer");
/// assert_eq!(format!("{v:?}"), "SecretValue(<redacted>, len=18)");
/// let fp = v.fingerprint(&FingerprintKey::default());
/// assert_eq!(fp.to_hex().len(), 64);
/// ```
pub struct SecretValue(SecretBox<[u8]>);

impl SecretValue {
    /// Wraps raw bytes.
    pub fn new(bytes: Vec<u8>) -> SecretValue {
        SecretValue(SecretBox::from(bytes.into_boxed_slice()))
    }

    /// The raw bytes. Call this only to hand the value to the system that
    /// needs it (a store write, an issuer call), never to log it.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The value as UTF-8, or `None` when it is not valid UTF-8.
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(self.expose()).ok()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// The keyed fingerprint of this value
    /// ([`FingerprintKey::value_fingerprint`]), the form used for logs,
    /// journals and for matching scanner findings to stored values.
    pub fn fingerprint(&self, key: &FingerprintKey) -> Fingerprint {
        key.value_fingerprint(self.expose())
    }
}

impl Clone for SecretValue {
    fn clone(&self) -> SecretValue {
        SecretValue::new(self.expose().to_vec())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<redacted>, len={})", self.len())
    }
}

impl From<String> for SecretValue {
    fn from(s: String) -> SecretValue {
        SecretValue::new(s.into_bytes())
    }
}

impl From<&str> for SecretValue {
    fn from(s: &str) -> SecretValue {
        SecretValue::new(s.as_bytes().to_vec())
    }
}

impl From<Vec<u8>> for SecretValue {
    fn from(v: Vec<u8>) -> SecretValue {
        SecretValue::new(v)
    }
}

/// The idempotency token of one rotation: a random UUID v4 in its 36-character
/// hyphenated lowercase form.
///
/// It is a valid AWS `ClientRequestToken` (32 to 64 characters), so the AWS
/// store uses it as the version id of the pending value, and every step of the
/// state machine is keyed by it so that replaying a step is safe.
///
/// # Example
///
/// ```
/// use keysweep_rotate::RotationToken;
///
/// let t = RotationToken::new();
/// assert_eq!(t.as_str().len(), 36);
/// assert_eq!(t.as_str().as_bytes()[14], b'4'); // version 4
/// assert_eq!(RotationToken::parse(t.as_str()), Some(t.clone()));
/// assert_eq!(RotationToken::parse("not-a-uuid"), None);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RotationToken(String);

impl RotationToken {
    /// A new random token from the operating system's generator (`SysRng`,
    /// which rand 0.10 calls what earlier versions named `OsRng`).
    ///
    /// # Panics
    ///
    /// When the operating system cannot provide randomness, which keysweep
    /// treats like an allocation failure.
    pub fn new() -> RotationToken {
        let mut b = [0u8; 16];
        SysRng
            .try_fill_bytes(&mut b)
            .expect("the operating system random number generator failed");
        RotationToken::from_random_bytes(b)
    }

    /// A token built from 16 caller-provided random bytes (version and
    /// variant bits are set as UUID v4 requires). Meant for deterministic tests.
    pub fn from_random_bytes(mut b: [u8; 16]) -> RotationToken {
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        RotationToken(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    /// Parses a hyphenated UUID v4 (any case; stored lowercase).
    pub fn parse(s: &str) -> Option<RotationToken> {
        let s = s.to_ascii_lowercase();
        let b = s.as_bytes();
        if b.len() != 36 {
            return None;
        }
        for (i, &c) in b.iter().enumerate() {
            let ok = match i {
                8 | 13 | 18 | 23 => c == b'-',
                _ => c.is_ascii_hexdigit(),
            };
            if !ok {
                return None;
            }
        }
        if b[14] != b'4' || !matches!(b[19], b'8' | b'9' | b'a' | b'b') {
            return None;
        }
        Some(RotationToken(s))
    }

    /// The 36-character form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, used in rotation ids.
    pub fn short(&self) -> String {
        self.0.replace('-', "")[..12].to_string()
    }
}

impl Default for RotationToken {
    fn default() -> RotationToken {
        RotationToken::new()
    }
}

impl fmt::Display for RotationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RotationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RotationToken({})", self.0)
    }
}

impl Serialize for RotationToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RotationToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RotationToken, D::Error> {
        let s = String::deserialize(d)?;
        RotationToken::parse(&s)
            .ok_or_else(|| serde::de::Error::custom("rotation token is not a UUID v4"))
    }
}

/// Serde helpers writing a [`Fingerprint`] as 64 hex digits (keysweep-core's
/// type has no serde implementation of its own).
pub(crate) mod fp_hex {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(fp: &Fingerprint, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&fp.to_hex())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fingerprint, D::Error> {
        let s = String::deserialize(d)?;
        Fingerprint::from_hex(&s).ok_or_else(|| serde::de::Error::custom("bad fingerprint"))
    }
}

/// Lowercase hex of a byte slice.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_value() {
        let v = SecretValue::from("SENTINEL-value-123");
        let c = v.clone();
        assert!(!format!("{v:?}{c:?}").contains("SENTINEL"));
        assert_eq!(c.expose(), b"SENTINEL-value-123");
    }

    #[test]
    fn token_is_uuid_v4() {
        for _ in 0..50 {
            let t = RotationToken::new();
            assert_eq!(RotationToken::parse(t.as_str()).as_ref(), Some(&t));
            let j = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<RotationToken>(&j).unwrap(), t);
        }
        let t = RotationToken::from_random_bytes([0xff; 16]);
        assert_eq!(t.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(t.short(), "ffffffffffff");
        assert!(serde_json::from_str::<RotationToken>("\"x\"").is_err());
    }
}
