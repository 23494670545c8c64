//! [`SecretsManagerStore`]: an AWS Secrets Manager secret as a [`SecretStore`].

use crate::error::{code_of, err, sdk_error};
use crate::settings::{arn_region, refuse_body_logging, AwsSettings};
use crate::STORE_KIND;
use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::Client;
use keysweep_rotate::{
    BackendResult, ErrorClass, Permission, RetireMode, RotationToken, SecretStore, SecretValue,
    StoreCaps, StoreRef, StoreState, VersionInfo, VersionRef,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// The label consumers read.
pub(crate) const AWSCURRENT: &str = "AWSCURRENT";
/// The label of a value being rotated in; keysweep's lock.
pub(crate) const AWSPENDING: &str = "AWSPENDING";
/// The label of the value that was current before.
pub(crate) const AWSPREVIOUS: &str = "AWSPREVIOUS";

const UNKNOWN: u8 = 0;
const STRING: u8 = 1;
const BINARY: u8 = 2;

/// One AWS Secrets Manager secret as a [`SecretStore`] (DESIGN.md 7.5),
/// driving AWS's rotation protocol from the client instead of a Lambda:
///
/// | step | calls |
/// |---|---|
/// | `inspect` | `DescribeSecret` (`VersionIdsToStages`, `RotationEnabled`) |
/// | `acquire` | `DescribeSecret`: refused (`Locked`) if `AWSPENDING` is on a version that is neither current nor ours. The pending label *is* the lock; `release` is a no-op |
/// | `stage` | `GetSecretValue(VersionId = token)`: same bytes → done, other bytes → `Conflict` (real AWS answers `ResourceExistsException`; moto would silently overwrite, so keysweep compares itself); else `PutSecretValue(ClientRequestToken = token, VersionStages = [AWSPENDING])` |
/// | `read_staged` | `GetSecretValue(VersionId = token, VersionStage = AWSPENDING)`; `NotFound` when the label left our version |
/// | `promote` / `demote` | `DescribeSecret` (is `AWSCURRENT` still on the expected version? else `Conflict`), then `UpdateSecretVersionStage(AWSCURRENT, MoveToVersionId, RemoveFromVersionId = expected)`, itself a compare-and-swap; the old holder gets `AWSPREVIOUS` |
/// | `discard_staged` | `UpdateSecretVersionStage(AWSPENDING, RemoveFromVersionId = token)` if our version still carries it |
/// | `retire_version` | removes `AWSPREVIOUS` (and a stray `AWSPENDING`) from the version; the version becomes deprecated and AWS garbage-collects it. [`RetireMode::SoftDelete`] and [`RetireMode::Destroy`] do the same: Secrets Manager cannot delete one version |
///
/// Values are written as `SecretString` when they are UTF-8 and the current
/// version is a string, as `SecretBinary` otherwise. Every method is
/// idempotent by token, so the engine can replay any step after a crash.
///
/// The rotator needs `secretsmanager:DescribeSecret`, `GetSecretValue`,
/// `PutSecretValue` and `UpdateSecretVersionStage` on the secret (plus
/// `kms:Decrypt` and `kms:GenerateDataKey` on its key when that is a
/// customer-managed KMS key); see [`rotator_policy`](crate::rotator_policy).
pub struct SecretsManagerStore {
    settings: AwsSettings,
    client: Client,
    secret_id: String,
    /// The ARN, once `DescribeSecret` told it.
    arn: Arc<Mutex<Option<String>>>,
    /// Whether the secret holds strings or binaries (`UNKNOWN` until read).
    kind: AtomicU8,
    region: Option<String>,
}

impl std::fmt::Debug for SecretsManagerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsManagerStore")
            .field("secret_id", &self.secret_id)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SecretsManagerStore {
    /// A store for `secret_id` (a name or an ARN), with credentials from the
    /// standard AWS chain. Makes no AWS call. Refused (`Denied`) when
    /// `LOG_SIGNABLE_BODY` or `LOG_SENSITIVE_BODIES` is set; `Invalid` when no region can be found
    /// (neither settings, environment, profile nor the ARN name one).
    pub async fn new(settings: AwsSettings, secret_id: &str) -> BackendResult<SecretsManagerStore> {
        refuse_body_logging()?;
        let config = settings.sdk_config().await;
        SecretsManagerStore::with_config(settings, &config, secret_id)
    }

    /// A store using an explicit SDK configuration (e.g. from
    /// [`AwsSettings::sdk_config_with_credentials`] in tests). `settings` are
    /// only recorded in [`SecretStore::describe`]; `config` must agree with
    /// them.
    pub fn with_config(
        settings: AwsSettings,
        config: &SdkConfig,
        secret_id: &str,
    ) -> BackendResult<SecretsManagerStore> {
        refuse_body_logging()?;
        if secret_id.is_empty() {
            return Err(err(ErrorClass::Invalid, "empty secret id"));
        }
        let mut b = aws_sdk_secretsmanager::config::Builder::from(config);
        let region = match config.region() {
            Some(r) => Some(r.to_string()),
            None => arn_region(secret_id).map(str::to_string),
        };
        match &region {
            Some(r) => b = b.region(Region::new(r.clone())),
            None => {
                return Err(err(
                    ErrorClass::Invalid,
                    format!(
                        "no AWS region for secret {secret_id}: set the region option, \
                         AWS_REGION, or give the secret's ARN"
                    ),
                ))
            }
        }
        Ok(SecretsManagerStore {
            settings,
            client: Client::from_conf(b.build()),
            secret_id: secret_id.to_string(),
            arn: Arc::new(Mutex::new(
                secret_id.starts_with("arn:").then(|| secret_id.to_string()),
            )),
            kind: AtomicU8::new(UNKNOWN),
            region,
        })
    }

    /// Re-creates a store from its [`StoreRef`] (kind
    /// [`crate::STORE_KIND`]), for a
    /// [`BackendFactory`](keysweep_rotate::BackendFactory).
    pub async fn from_ref(r: &StoreRef) -> BackendResult<SecretsManagerStore> {
        if r.kind != STORE_KIND {
            return Err(err(
                ErrorClass::Unsupported,
                format!("store kind {} is not {STORE_KIND}", r.kind),
            ));
        }
        SecretsManagerStore::new(AwsSettings::from_options(&r.options), &r.locator).await
    }

    /// The secret id this store was made with (a name or an ARN).
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    fn resource(&self) -> String {
        self.arn
            .lock()
            .expect("arn lock")
            .clone()
            .unwrap_or_else(|| self.secret_id.clone())
    }

    /// `DescribeSecret`: version id → labels, and whether rotation is on.
    async fn describe_secret(&self) -> BackendResult<(BTreeMap<String, Vec<String>>, bool)> {
        let out = self
            .client
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeSecret", &self.secret_id, e))?;
        if let Some(arn) = out.arn() {
            *self.arn.lock().expect("arn lock") = Some(arn.to_string());
        }
        let map = out
            .version_ids_to_stages()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let mut v = v.clone();
                        v.sort();
                        (k.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok((map, out.rotation_enabled().unwrap_or(false)))
    }

    async fn get(
        &self,
        version: Option<&str>,
        stage: Option<&str>,
    ) -> BackendResult<(String, SecretValue)> {
        let what = version.or(stage).unwrap_or(AWSCURRENT);
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .set_version_id(version.map(str::to_string))
            .set_version_stage(stage.map(str::to_string))
            .send()
            .await
            .map_err(|e| sdk_error("GetSecretValue", &format!("{} {what}", self.resource()), e))?;
        self.value_of(out)
    }

    fn value_of(&self, mut out: GetSecretValueOutput) -> BackendResult<(String, SecretValue)> {
        let id = out.version_id.take().unwrap_or_default();
        let value = if let Some(s) = out.secret_string.take() {
            self.kind.store(STRING, Ordering::Relaxed);
            SecretValue::new(s.into_bytes())
        } else if let Some(b) = out.secret_binary.take() {
            self.kind.store(BINARY, Ordering::Relaxed);
            SecretValue::new(b.into_inner())
        } else {
            return Err(err(
                ErrorClass::Invalid,
                format!("{} version {id} has no value", self.resource()),
            ));
        };
        Ok((id, value))
    }

    /// Whether new versions should be written as `SecretBinary`.
    async fn write_binary(&self, value: &SecretValue) -> BackendResult<bool> {
        if value.expose_str().is_none() {
            return Ok(true);
        }
        if self.kind.load(Ordering::Relaxed) == UNKNOWN {
            self.get(None, Some(AWSCURRENT)).await?;
        }
        Ok(self.kind.load(Ordering::Relaxed) == BINARY)
    }

    /// `UpdateSecretVersionStage`; an `InvalidParameterException` (the label
    /// is not where `remove_from` says) is a lost compare-and-swap.
    async fn update_stage(
        &self,
        stage: &str,
        move_to: Option<&str>,
        remove_from: Option<&str>,
    ) -> BackendResult<()> {
        tracing::debug!(secret = %self.resource(), stage, ?move_to, ?remove_from, "UpdateSecretVersionStage");
        self.client
            .update_secret_version_stage()
            .secret_id(&self.secret_id)
            .version_stage(stage)
            .set_move_to_version_id(move_to.map(str::to_string))
            .set_remove_from_version_id(remove_from.map(str::to_string))
            .send()
            .await
            .map_err(|e| {
                let lost_cas = code_of(&e).as_deref() == Some("InvalidParameterException");
                let mut be = sdk_error("UpdateSecretVersionStage", &self.resource(), e);
                if lost_cas {
                    be.class = ErrorClass::Conflict;
                }
                be
            })?;
        Ok(())
    }

    /// Moves `AWSCURRENT` to `to` if it is on `expected`.
    async fn move_current(&self, to: &str, expected: &VersionRef) -> BackendResult<VersionRef> {
        let (map, _) = self.describe_secret().await?;
        let holder = holder(&map, AWSCURRENT);
        if holder == Some(to) {
            return Ok(VersionRef(to.to_string()));
        }
        if holder != Some(expected.as_str()) {
            return Err(err(
                ErrorClass::Conflict,
                format!(
                    "{}: AWSCURRENT is on {}, expected {expected}",
                    self.resource(),
                    holder.unwrap_or("<none>")
                ),
            ));
        }
        self.update_stage(AWSCURRENT, Some(to), Some(expected.as_str()))
            .await?;
        tracing::info!(secret = %self.resource(), current = to, previous = %expected, "AWSCURRENT moved");
        Ok(VersionRef(to.to_string()))
    }
}

fn holder<'m>(map: &'m BTreeMap<String, Vec<String>>, stage: &str) -> Option<&'m str> {
    map.iter()
        .find(|(_, labels)| labels.iter().any(|l| l == stage))
        .map(|(id, _)| id.as_str())
}

/// The ARN pattern of a secret given by name (Secrets Manager appends a
/// hyphen and 6 random characters).
fn arn_pattern(region: Option<&str>, secret_id: &str) -> String {
    if secret_id.starts_with("arn:") {
        return secret_id.to_string();
    }
    format!(
        "arn:aws:secretsmanager:{}:*:secret:{secret_id}-??????",
        region.unwrap_or("*")
    )
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    fn describe(&self) -> StoreRef {
        StoreRef {
            kind: STORE_KIND.to_string(),
            locator: self.secret_id.clone(),
            options: self.settings.to_options(),
        }
    }

    fn capabilities(&self) -> StoreCaps {
        StoreCaps {
            versioned: true,
            cas: true,
            labels: true,
            max_versions: None,
        }
    }

    fn required_permissions(&self) -> Vec<Permission> {
        let resource = self
            .arn
            .lock()
            .expect("arn lock")
            .clone()
            .unwrap_or_else(|| arn_pattern(self.region.as_deref(), &self.secret_id));
        [
            "DescribeSecret",
            "GetSecretValue",
            "PutSecretValue",
            "UpdateSecretVersionStage",
        ]
        .iter()
        .map(|a| Permission {
            action: format!("secretsmanager:{a}"),
            resource: resource.clone(),
        })
        .collect()
    }

    async fn inspect(&self) -> BackendResult<StoreState> {
        let (map, rotation) = self.describe_secret().await?;
        let version = |stage| holder(&map, stage).map(|v| VersionRef(v.to_string()));
        Ok(StoreState {
            current: version(AWSCURRENT),
            pending: version(AWSPENDING),
            previous: version(AWSPREVIOUS),
            versions: map
                .iter()
                .map(|(id, labels)| VersionInfo {
                    version: VersionRef(id.clone()),
                    labels: labels.clone(),
                })
                .collect(),
            native_rotation: rotation,
        })
    }

    async fn read_current(&self) -> BackendResult<(VersionRef, SecretValue)> {
        let (id, v) = self.get(None, Some(AWSCURRENT)).await?;
        Ok((VersionRef(id), v))
    }

    async fn read_version(&self, version: &VersionRef) -> BackendResult<SecretValue> {
        Ok(self.get(Some(version.as_str()), None).await?.1)
    }

    async fn acquire(&self, token: &RotationToken) -> BackendResult<()> {
        let (map, _) = self.describe_secret().await?;
        match (holder(&map, AWSPENDING), holder(&map, AWSCURRENT)) {
            (Some(p), current) if p != token.as_str() && Some(p) != current => Err(err(
                ErrorClass::Locked,
                format!(
                    "{}: AWSPENDING is on {p}, another rotation's version",
                    self.resource()
                ),
            )),
            _ => Ok(()),
        }
    }

    async fn release(&self, _token: &RotationToken) -> BackendResult<()> {
        // The lock is the AWSPENDING label, removed by discard_staged.
        Ok(())
    }

    async fn stage(&self, token: &RotationToken, value: &SecretValue) -> BackendResult<VersionRef> {
        match self.get(Some(token.as_str()), None).await {
            Ok((_, v)) if v.expose() == value.expose() => {
                tracing::debug!(secret = %self.resource(), version = %token, "already staged");
                return Ok(VersionRef::from(token));
            }
            Ok(_) => {
                return Err(err(
                    ErrorClass::Conflict,
                    format!(
                        "{}: version {token} exists with other data",
                        self.resource()
                    ),
                ))
            }
            Err(e) if e.class == ErrorClass::NotFound => {}
            Err(e) => return Err(e),
        }
        // Never steal another rotation's pending label (PutSecretValue would
        // move it silently).
        self.acquire(token).await?;
        let binary = self.write_binary(value).await?;
        let req = self
            .client
            .put_secret_value()
            .secret_id(&self.secret_id)
            .client_request_token(token.as_str())
            .version_stages(AWSPENDING);
        let req = if binary {
            req.secret_binary(Blob::new(value.expose().to_vec()))
        } else {
            let s = value.expose_str().expect("checked UTF-8").to_string();
            req.secret_string(s)
        };
        // ResourceExistsException (the token is bound to other data) maps
        // to Conflict.
        let out = req
            .send()
            .await
            .map_err(|e| sdk_error("PutSecretValue", &format!("{} {token}", self.resource()), e))?;
        let id = out.version_id().unwrap_or(token.as_str()).to_string();
        tracing::info!(secret = %self.resource(), version = %id, binary, "staged as AWSPENDING");
        Ok(VersionRef(id))
    }

    async fn read_staged(&self, token: &RotationToken) -> BackendResult<SecretValue> {
        match self.get(Some(token.as_str()), Some(AWSPENDING)).await {
            Ok((_, v)) => Ok(v),
            // Real AWS answers ResourceNotFoundException when the version
            // does not carry the label; moto answers InvalidRequestException.
            Err(e) if e.class == ErrorClass::Invalid => {
                let (map, _) = self.describe_secret().await?;
                if holder(&map, AWSPENDING) != Some(token.as_str()) {
                    Err(err(
                        ErrorClass::NotFound,
                        format!("{}: version {token} is not AWSPENDING", self.resource()),
                    ))
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn promote(
        &self,
        token: &RotationToken,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef> {
        self.move_current(token.as_str(), expected_current).await
    }

    async fn demote(
        &self,
        to: &VersionRef,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef> {
        self.move_current(to.as_str(), expected_current).await
    }

    async fn discard_staged(&self, token: &RotationToken) -> BackendResult<()> {
        let (map, _) = self.describe_secret().await?;
        if holder(&map, AWSPENDING) != Some(token.as_str()) {
            return Ok(());
        }
        match self
            .update_stage(AWSPENDING, None, Some(token.as_str()))
            .await
        {
            Ok(()) => {
                tracing::info!(secret = %self.resource(), version = %token, "AWSPENDING removed");
                Ok(())
            }
            // Lost a race with another remover: fine if the label is gone.
            Err(e) if e.class == ErrorClass::Conflict => {
                let (map, _) = self.describe_secret().await?;
                if holder(&map, AWSPENDING) == Some(token.as_str()) {
                    Err(e)
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn retire_version(&self, version: &VersionRef, how: RetireMode) -> BackendResult<()> {
        let (map, _) = self.describe_secret().await?;
        if holder(&map, AWSCURRENT) == Some(version.as_str()) {
            return Err(err(
                ErrorClass::Conflict,
                format!(
                    "{}: refusing to retire the current version {version}",
                    self.resource()
                ),
            ));
        }
        for stage in [AWSPREVIOUS, AWSPENDING] {
            if holder(&map, stage) == Some(version.as_str()) {
                self.update_stage(stage, None, Some(version.as_str()))
                    .await?;
            }
        }
        tracing::info!(secret = %self.resource(), %version, ?how, "version retired (labels dropped)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_and_patterns() {
        let map: BTreeMap<String, Vec<String>> = [
            ("a".to_string(), vec![AWSCURRENT.to_string()]),
            (
                "b".to_string(),
                vec![AWSPENDING.to_string(), "X".to_string()],
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(holder(&map, AWSCURRENT), Some("a"));
        assert_eq!(holder(&map, AWSPENDING), Some("b"));
        assert_eq!(holder(&map, AWSPREVIOUS), None);
        assert_eq!(
            arn_pattern(Some("eu-west-1"), "app/db"),
            "arn:aws:secretsmanager:eu-west-1:*:secret:app/db-??????"
        );
        let arn = "arn:aws:secretsmanager:eu-west-1:1:secret:app/db-AbCdEf";
        assert_eq!(arn_pattern(None, arn), arn);
    }
}
