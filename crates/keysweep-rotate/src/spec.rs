//! The text forms of targets and policies, as the command line, the config
//! file and the Python bindings take them: `KIND:LOCATOR` stores,
//! `KIND[:PRINCIPAL]` issuers, strategy, on-full and retire names.
//!
//! Names are accepted with dashes or underscores (`contain-first`,
//! `contain_first`); [`Display`](fmt::Display) writes the dashed form.

use crate::issuer::IssuerRef;
use crate::plan::{OnFull, Strategy};
use crate::store::{RetireMode, StoreRef};
use std::fmt;
use std::str::FromStr;

/// A store, issuer or policy name that did not parse; the message lists
/// what is accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Not `KIND:LOCATOR`.
    #[error(
        "store must be KIND:LOCATOR (e.g. vault-kv2:secret/app/db, \
         aws-secretsmanager:prod/db), not {0:?}"
    )]
    Store(String),
    /// Not `KIND[:PRINCIPAL]`.
    #[error(
        "issuer must be KIND[:PRINCIPAL] (e.g. random, postgres:app, \
         aws-iam-access-key:deploy-bot), not {0:?}"
    )]
    Issuer(String),
    /// Not a strategy name.
    #[error("strategy must be overlap or contain-first, not {0:?}")]
    Strategy(String),
    /// Not an on-full policy.
    #[error("on_full must be refuse or revoke-inactive, not {0:?}")]
    OnFull(String),
    /// Not a retire mode.
    #[error("retire must be drop-labels, soft-delete or destroy, not {0:?}")]
    Retire(String),
}

impl FromStr for StoreRef {
    type Err = SpecError;

    /// `KIND:LOCATOR`, both non-empty; the locator may hold more colons (an
    /// ARN).
    fn from_str(s: &str) -> Result<StoreRef, SpecError> {
        match s.split_once(':') {
            Some((kind, locator)) if !kind.is_empty() && !locator.is_empty() => {
                Ok(StoreRef::new(kind, locator))
            }
            _ => Err(SpecError::Store(s.to_string())),
        }
    }
}

impl FromStr for IssuerRef {
    type Err = SpecError;

    /// `KIND` or `KIND:PRINCIPAL`; the kind is non-empty.
    fn from_str(s: &str) -> Result<IssuerRef, SpecError> {
        let (kind, principal) = s.split_once(':').unwrap_or((s, ""));
        if kind.is_empty() {
            return Err(SpecError::Issuer(s.to_string()));
        }
        Ok(IssuerRef::new(kind, principal))
    }
}

impl fmt::Display for IssuerRef {
    /// `KIND` or `KIND:PRINCIPAL` (options are not shown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.principal.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}:{}", self.kind, self.principal)
        }
    }
}

impl FromStr for RetireMode {
    type Err = SpecError;

    /// `drop-labels`, `soft-delete` or `destroy`.
    fn from_str(s: &str) -> Result<RetireMode, SpecError> {
        match s {
            "drop-labels" | "drop_labels" => Ok(RetireMode::DropLabels),
            "soft-delete" | "soft_delete" => Ok(RetireMode::SoftDelete),
            "destroy" => Ok(RetireMode::Destroy),
            o => Err(SpecError::Retire(o.to_string())),
        }
    }
}

impl fmt::Display for RetireMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RetireMode::DropLabels => "drop-labels",
            RetireMode::SoftDelete => "soft-delete",
            RetireMode::Destroy => "destroy",
        })
    }
}

impl FromStr for OnFull {
    type Err = SpecError;

    /// `refuse` or `revoke-inactive`.
    fn from_str(s: &str) -> Result<OnFull, SpecError> {
        match s {
            "refuse" => Ok(OnFull::Refuse),
            "revoke-inactive" | "revoke_inactive" => Ok(OnFull::RevokeInactive),
            o => Err(SpecError::OnFull(o.to_string())),
        }
    }
}

impl fmt::Display for OnFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnFull::Refuse => "refuse",
            OnFull::RevokeInactive => "revoke-inactive",
        })
    }
}

/// A [`Strategy`] by name, without its parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StrategyKind {
    /// [`Strategy::Overlap`] (the default).
    #[default]
    Overlap,
    /// [`Strategy::ContainFirst`].
    ContainFirst,
}

impl StrategyKind {
    /// The strategy with its grace period; `on_full` applies to
    /// [`Strategy::Overlap`] only.
    pub fn with(self, grace_secs: u64, on_full: OnFull) -> Strategy {
        match self {
            StrategyKind::Overlap => Strategy::Overlap {
                grace_secs,
                on_full,
            },
            StrategyKind::ContainFirst => Strategy::ContainFirst { grace_secs },
        }
    }
}

impl FromStr for StrategyKind {
    type Err = SpecError;

    /// `overlap` or `contain-first`.
    fn from_str(s: &str) -> Result<StrategyKind, SpecError> {
        match s {
            "overlap" => Ok(StrategyKind::Overlap),
            "contain-first" | "contain_first" => Ok(StrategyKind::ContainFirst),
            o => Err(SpecError::Strategy(o.to_string())),
        }
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StrategyKind::Overlap => "overlap",
            StrategyKind::ContainFirst => "contain-first",
        })
    }
}

impl From<&Strategy> for StrategyKind {
    fn from(s: &Strategy) -> StrategyKind {
        match s {
            Strategy::Overlap { .. } => StrategyKind::Overlap,
            Strategy::ContainFirst { .. } => StrategyKind::ContainFirst,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_issuers() {
        let s: StoreRef = "aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:x"
            .parse()
            .unwrap();
        assert_eq!(s.kind, "aws-secretsmanager");
        assert_eq!(s.locator, "arn:aws:secretsmanager:eu-west-1:1:secret:x");
        assert_eq!(s.to_string().parse::<StoreRef>().unwrap(), s);
        for bad in ["vault-kv2", ":x", "vault-kv2:", ""] {
            assert_eq!(
                bad.parse::<StoreRef>().unwrap_err(),
                SpecError::Store(bad.into())
            );
        }
        let i: IssuerRef = "postgres:app".parse().unwrap();
        assert_eq!((i.kind.as_str(), i.principal.as_str()), ("postgres", "app"));
        assert_eq!(i.to_string(), "postgres:app");
        let i: IssuerRef = "random".parse().unwrap();
        assert_eq!(i.principal, "");
        assert_eq!(i.to_string(), "random");
        assert!(":x".parse::<IssuerRef>().is_err());
        assert!("".parse::<IssuerRef>().is_err());
    }

    #[test]
    fn policy_names_round_trip() {
        for m in [
            RetireMode::DropLabels,
            RetireMode::SoftDelete,
            RetireMode::Destroy,
        ] {
            assert_eq!(m.to_string().parse::<RetireMode>().unwrap(), m);
        }
        assert_eq!(
            "soft_delete".parse::<RetireMode>().unwrap(),
            RetireMode::SoftDelete
        );
        for o in [OnFull::Refuse, OnFull::RevokeInactive] {
            assert_eq!(o.to_string().parse::<OnFull>().unwrap(), o);
        }
        assert_eq!(
            "revoke_inactive".parse::<OnFull>().unwrap(),
            OnFull::RevokeInactive
        );
        for k in [StrategyKind::Overlap, StrategyKind::ContainFirst] {
            assert_eq!(k.to_string().parse::<StrategyKind>().unwrap(), k);
            assert_eq!(StrategyKind::from(&k.with(60, OnFull::Refuse)), k);
        }
        assert_eq!(
            "contain_first".parse::<StrategyKind>().unwrap(),
            StrategyKind::ContainFirst
        );
        let e = "yolo".parse::<StrategyKind>().unwrap_err().to_string();
        assert!(e.contains("strategy") && e.contains("yolo"), "{e}");
        assert!("x".parse::<RetireMode>().is_err() && "x".parse::<OnFull>().is_err());
        assert_eq!(
            StrategyKind::Overlap.with(5, OnFull::RevokeInactive),
            Strategy::Overlap {
                grace_secs: 5,
                on_full: OnFull::RevokeInactive
            }
        );
    }
}
