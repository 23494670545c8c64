//! The rotator's least-privilege IAM policy.

use serde_json::{json, Value};

/// The least-privilege IAM policy document (JSON) a rotator needs to rotate
/// the access keys of `iam_user_arn` stored in `secret_arn`, and to run
/// `locate`.
///
/// `secret_arn` may be a pattern (`arn:aws:secretsmanager:*:123456789012:secret:app/*`).
/// Statements:
///
/// * `KeysweepSecret`: `secretsmanager:DescribeSecret`, `GetSecretValue`,
///   `PutSecretValue`, `UpdateSecretVersionStage` on `secret_arn`;
/// * `KeysweepLocate`: `secretsmanager:ListSecrets` on `*` (the action has no
///   resource-level permissions; it reveals names and metadata, no values);
/// * `KeysweepAccessKeys`: `iam:ListAccessKeys`, `CreateAccessKey`,
///   `UpdateAccessKey`, `DeleteAccessKey`, `ListAttachedUserPolicies` on
///   `iam_user_arn`;
/// * `KeysweepIdentity`: `sts:GetCallerIdentity` (AWS allows it to every
///   principal anyway; listed for completeness).
///
/// A secret encrypted with a customer-managed KMS key also needs
/// `kms:Decrypt` and `kms:GenerateDataKey` on that key (not included).
///
/// # Example
///
/// ```
/// let p = keysweep_aws::rotator_policy(
///     "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/aws-AbCdEf",
///     "arn:aws:iam::123456789012:user/app",
/// );
/// assert_eq!(p["Version"], "2012-10-17");
/// assert_eq!(p["Statement"].as_array().unwrap().len(), 4);
/// ```
pub fn rotator_policy(secret_arn: &str, iam_user_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "KeysweepSecret",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage"
                ],
                "Resource": secret_arn
            },
            {
                "Sid": "KeysweepLocate",
                "Effect": "Allow",
                "Action": ["secretsmanager:ListSecrets"],
                "Resource": "*"
            },
            {
                "Sid": "KeysweepAccessKeys",
                "Effect": "Allow",
                "Action": [
                    "iam:ListAccessKeys",
                    "iam:CreateAccessKey",
                    "iam:UpdateAccessKey",
                    "iam:DeleteAccessKey",
                    "iam:ListAttachedUserPolicies"
                ],
                "Resource": iam_user_arn
            },
            {
                "Sid": "KeysweepIdentity",
                "Effect": "Allow",
                "Action": ["sts:GetCallerIdentity"],
                "Resource": "*"
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IamAccessKeyIssuer, SecretsManagerStore};
    use keysweep_rotate::{Issuer, SecretStore};
    use std::collections::BTreeSet;

    /// Every permission the store and issuer declare for a plan is granted
    /// by the documented policy (same action, same resource).
    #[tokio::test]
    async fn policy_covers_declared_permissions() {
        let settings = crate::AwsSettings {
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let config = settings
            .sdk_config_with_credentials(aws_credential_types::Credentials::new(
                "AKIDEXAMPLE",
                "x",
                None,
                None,
                "t",
            ))
            .await;
        let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/aws-AbCdEf";
        let store = SecretsManagerStore::with_config(settings.clone(), &config, secret).unwrap();
        let issuer = IamAccessKeyIssuer::with_config(settings, &config, "app").unwrap();
        let user = "arn:aws:iam::*:user/app";
        let policy = rotator_policy(secret, user);
        let mut granted = BTreeSet::new();
        for st in policy["Statement"].as_array().unwrap() {
            for a in st["Action"].as_array().unwrap() {
                granted.insert((
                    a.as_str().unwrap().to_string(),
                    st["Resource"].as_str().unwrap().to_string(),
                ));
            }
        }
        let mut wanted = store.required_permissions();
        wanted.extend(issuer.required_permissions());
        for p in wanted {
            assert!(
                granted.contains(&(p.action.clone(), p.resource.clone())),
                "{p:?} not granted"
            );
        }
    }
}
