//! An issuer for random application secrets (signing keys, shared tokens).

use crate::error::{BackendError, BackendResult, ErrorClass};
use crate::issuer::{
    CreateCtx, Credential, CredentialId, Issuer, IssuerCaps, IssuerRef, IssuerState, Liveness,
    SetOutcome, TestEvidence,
};
use crate::value::{RotationToken, SecretValue};
use async_trait::async_trait;
use rand::rngs::SysRng;
use rand::TryRng;

/// Letters and digits, the default alphabet.
pub const ALPHANUMERIC: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Mints random values from an alphabet; no provider behind it.
///
/// A random application secret has no issuer that can apply, deactivate or
/// revoke it: whoever reads it from the store *is* the consumer. So
/// [`Issuer::set`] returns a documented manual follow-up (update or restart
/// every consumer that cached the old value; it is journaled and shown by
/// `status`), `deactivate`/`revoke` are unsupported (the plan leaves those
/// steps out and lists the risk), and `verify_dead` answers `Unknown`.
///
/// Values come from the operating system's generator (`SysRng`, rand 0.10's
/// name for `OsRng`) with rejection sampling, so every symbol is equally
/// likely.
///
/// # Example
///
/// ```
/// use keysweep_rotate::RandomIssuer;
///
/// let issuer = RandomIssuer::builder().alphabet("abc123").length(20).build()?;
/// assert_eq!(issuer.generate()?.len(), 20);
/// // Wrong usage: an alphabet with one symbol has no entropy.
/// assert!(RandomIssuer::builder().alphabet("a").build().is_err());
/// # Ok::<(), keysweep_rotate::BackendError>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomIssuer {
    alphabet: Vec<u8>,
    length: usize,
}

/// Builds a [`RandomIssuer`].
///
/// Defaults: alphabet [`ALPHANUMERIC`], length 40 (about 238 bits).
#[derive(Clone, Debug)]
pub struct RandomIssuerBuilder {
    alphabet: String,
    length: usize,
}

impl RandomIssuerBuilder {
    /// The symbols to draw from: 2 to 256 distinct printable ASCII characters.
    pub fn alphabet(&mut self, a: &str) -> &mut RandomIssuerBuilder {
        self.alphabet = a.to_string();
        self
    }

    /// The value length, 8 to 4096.
    pub fn length(&mut self, n: usize) -> &mut RandomIssuerBuilder {
        self.length = n;
        self
    }

    /// The issuer, or an `Invalid` error for a bad alphabet or length.
    pub fn build(&self) -> BackendResult<RandomIssuer> {
        let bad = |m: &str| BackendError::new(ErrorClass::Invalid, m);
        let mut a: Vec<u8> = self.alphabet.bytes().collect();
        if a.iter().any(|b| !b.is_ascii_graphic() && *b != b' ') {
            return Err(bad("alphabet must be printable ASCII"));
        }
        a.sort_unstable();
        a.dedup();
        if a.len() != self.alphabet.len() || a.len() < 2 {
            return Err(bad(
                "alphabet needs at least 2 distinct symbols, no repeats",
            ));
        }
        if !(8..=4096).contains(&self.length) {
            return Err(bad("length must be between 8 and 4096"));
        }
        Ok(RandomIssuer {
            alphabet: self.alphabet.bytes().collect(),
            length: self.length,
        })
    }
}

impl RandomIssuer {
    /// A builder with the defaults.
    pub fn builder() -> RandomIssuerBuilder {
        RandomIssuerBuilder {
            alphabet: ALPHANUMERIC.into(),
            length: 40,
        }
    }

    /// Rebuilds the issuer from its [`IssuerRef`] (options `alphabet`,
    /// `length`), for a [`BackendFactory`](crate::BackendFactory).
    pub fn from_ref(r: &IssuerRef) -> BackendResult<RandomIssuer> {
        let mut b = RandomIssuer::builder();
        if let Some(a) = r.options.get("alphabet") {
            b.alphabet(a);
        }
        if let Some(n) = r.options.get("length") {
            let n = n
                .parse()
                .map_err(|_| BackendError::new(ErrorClass::Invalid, "length is not a number"))?;
            b.length(n);
        }
        b.build()
    }

    /// A new random value.
    pub fn generate(&self) -> BackendResult<SecretValue> {
        let n = self.alphabet.len();
        // Largest multiple of n not above 256: bytes beyond it are rejected.
        let limit = 256 - (256 % n);
        let mut out = Vec::with_capacity(self.length);
        let mut buf = [0u8; 64];
        while out.len() < self.length {
            SysRng.try_fill_bytes(&mut buf).map_err(|e| {
                BackendError::new(ErrorClass::Other, format!("OS random generator: {e}"))
            })?;
            for &b in &buf {
                if (b as usize) < limit && out.len() < self.length {
                    out.push(self.alphabet[b as usize % n]);
                }
            }
        }
        Ok(SecretValue::new(out))
    }
}

#[async_trait]
impl Issuer for RandomIssuer {
    fn describe(&self) -> IssuerRef {
        let mut r = IssuerRef::new("random", "");
        r.options.insert(
            "alphabet".into(),
            String::from_utf8_lossy(&self.alphabet).into_owned(),
        );
        r.options.insert("length".into(), self.length.to_string());
        r
    }

    fn capabilities(&self) -> IssuerCaps {
        IssuerCaps {
            max_credentials: None,
            overlap: true,
            deactivate: false,
            revoke: false,
            verify_dead: false,
        }
    }

    async fn inspect(&self, _current: &SecretValue) -> BackendResult<IssuerState> {
        Ok(IssuerState::default())
    }

    async fn create(&self, token: &RotationToken, _ctx: &CreateCtx) -> BackendResult<Credential> {
        Ok(Credential {
            id: CredentialId(format!("random-{}", token.short())),
            value: self.generate()?,
        })
    }

    async fn find(
        &self,
        _token: &RotationToken,
        _ctx: &CreateCtx,
    ) -> BackendResult<Option<CredentialId>> {
        Ok(None)
    }

    async fn set(
        &self,
        _new: &Credential,
        _old: Option<&CredentialId>,
    ) -> BackendResult<SetOutcome> {
        Ok(SetOutcome::ManualFollowUp {
            instructions: "the store now serves the new value; restart or reload every consumer \
                           that cached the old one (keysweep cannot reach them)"
                .into(),
        })
    }

    async fn test(&self, new: &Credential) -> BackendResult<TestEvidence> {
        let v = new.value.expose();
        if v.len() != self.length || !v.iter().all(|b| self.alphabet.contains(b)) {
            return Err(BackendError::new(
                ErrorClass::TestFailed,
                "the value does not follow the issuer's alphabet and length",
            ));
        }
        Ok(TestEvidence {
            detail: format!(
                "length {}, alphabet of {} symbols",
                self.length,
                self.alphabet.len()
            ),
        })
    }

    async fn deactivate(&self, _id: &CredentialId) -> BackendResult<()> {
        Err(unsupported())
    }

    async fn reactivate(&self, _id: &CredentialId) -> BackendResult<()> {
        Err(unsupported())
    }

    async fn revoke(&self, _id: &CredentialId) -> BackendResult<()> {
        Err(unsupported())
    }

    async fn verify_dead(&self, _old: &Credential) -> BackendResult<Liveness> {
        Ok(Liveness::Unknown)
    }
}

fn unsupported() -> BackendError {
    BackendError::new(
        ErrorClass::Unsupported,
        "random secrets have no issuer that can deactivate or revoke them",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_policy_and_vary() {
        let i = RandomIssuer::builder()
            .alphabet("xyz")
            .length(64)
            .build()
            .unwrap();
        let a = i.generate().unwrap();
        let b = i.generate().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.expose().iter().all(|c| b"xyz".contains(c)));
        assert_ne!(a.expose(), b.expose());
        let back = RandomIssuer::from_ref(&i.describe()).unwrap();
        assert_eq!(back.alphabet, i.alphabet);
        assert!(RandomIssuer::builder().alphabet("aa").build().is_err());
        assert!(RandomIssuer::builder().length(4).build().is_err());
    }

    #[test]
    fn roughly_uniform() {
        let i = RandomIssuer::builder()
            .alphabet("abc")
            .length(3000)
            .build()
            .unwrap();
        let v = i.generate().unwrap();
        for c in b"abc" {
            let n = v.expose().iter().filter(|x| *x == c).count();
            assert!((800..1200).contains(&n), "{n}");
        }
    }
}
