//! AWS Secrets Manager and IAM access keys, through moto.

use super::{password, unique, Servers, Transcript};
use crate::util::Dir;
use serde_json::{json, Value};

fn parse(v: &Value) -> Value {
    serde_json::from_str(v["value"].as_str().expect("secret value")).expect("JSON secret")
}

#[test]
fn iam_key_leak_is_located_rotated_and_revoked() {
    let Some(s) = Servers::get("iam_key_leak_is_located_rotated_and_revoked", &["moto"]) else {
        return;
    };
    let dir = Dir::new("rotate-iam");
    let user = unique("app-");
    let k = s.py(&["iam-user", &user]);
    let id = k["id"].as_str().unwrap().to_string();
    let secret = k["secret"].as_str().unwrap().to_string();
    let mut t = Transcript::new();
    t.secret(&secret);
    let name = format!("{user}/aws");
    let doc =
        json!({"aws_access_key_id": id, "aws_secret_access_key": secret, "region": "us-east-1"});
    s.py(&["sm-create", &name, &doc.to_string()]);
    dir.create(
        "deploy/credentials.ini",
        format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    );

    t.run(
        s.cmd(&dir)
            .args(["scan", "--format", "json", "-o", "findings.json", "deploy"]),
        1,
    );
    let out = t.run(
        s.cmd(&dir).args([
            "rotate",
            "locate",
            "--findings",
            "findings.json",
            "--aws-prefix",
            &user,
            "--format",
            "json",
            "--suggest-config",
            "suggested.toml",
        ]),
        0,
    );
    let located = out.json()["located"].as_array().unwrap().clone();
    let hit = located
        .iter()
        .find(|l| l["kind"] == "aws-secret-access-key" && l["labels"][0] == "AWSCURRENT")
        .unwrap_or_else(|| panic!("secret key not located: {located:?}"));
    assert_eq!(hit["store"]["kind"], "aws-secretsmanager");
    assert!(
        hit["store"]["locator"]
            .as_str()
            .unwrap()
            .contains(&format!(":secret:{name}")),
        "located by ARN: {hit}"
    );
    assert_eq!(hit["field"], "aws_secret_access_key");
    let suggested = dir.read("suggested.toml");
    assert!(
        suggested.contains("id_field = \"aws_access_key_id\""),
        "{suggested}"
    );
    assert!(
        suggested.contains(&format!("principal = \"{user}\"")),
        "the key's IAM user is found: {suggested}"
    );
    dir.create(
        "keysweep-rotate.toml",
        format!("state_dir = \"journal\"\n{suggested}"),
    );

    let out = t.run(
        s.cmd(&dir).args([
            "rotate",
            "plan",
            "--findings",
            "findings.json",
            "-o",
            "plan.json",
        ]),
        0,
    );
    assert!(out.stdout.contains("Plan: 1 to rotate"), "{}", out.stdout);
    assert!(out.stdout.contains("iam:CreateAccessKey"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("leaked credential {id}")),
        "{}",
        out.stdout
    );
    let plan: Value = serde_json::from_str(&dir.read("plan.json")).unwrap();
    let rot = plan["plans"][0]["plan"]["id"].as_str().unwrap().to_string();

    let out = t.run(
        s.cmd(&dir).args(["rotate", "apply", "--plan", "plan.json"]),
        0,
    );
    assert!(out.stdout.contains("OLD_DEACTIVATED"), "{}", out.stdout);
    let cur = parse(&s.py(&["sm-get", &name]));
    let new_id = cur["aws_access_key_id"].as_str().unwrap().to_string();
    let new_secret = cur["aws_secret_access_key"].as_str().unwrap().to_string();
    t.secret(&new_secret);
    assert_ne!(new_id, id);
    assert_eq!(cur["region"], "us-east-1");
    assert_eq!(parse(&s.py(&["sm-get", &name, "AWSPREVIOUS"])), doc);
    let who = s.py(&["sts", &new_id, &new_secret]);
    assert_eq!(who["ok"], true, "{who}");
    assert!(who["arn"]
        .as_str()
        .unwrap()
        .ends_with(&format!("user/{user}")));
    let keys = s.py(&["iam-keys", &user]);
    assert!(
        keys.as_array()
            .unwrap()
            .contains(&json!({"id": id, "status": "Inactive"})),
        "{keys}"
    );
    assert!(
        keys.as_array()
            .unwrap()
            .contains(&json!({"id": new_id, "status": "Active"})),
        "{keys}"
    );

    let out = t.run(
        s.cmd(&dir).args(["rotate", "status", "--format", "json"]),
        0,
    );
    assert_eq!(out.json()[0]["status"]["state"], "OLD_DEACTIVATED");
    // The grace period (7 days) is not over.
    let out = t.run(s.cmd(&dir).args(["rotate", "finalize", &rot]), 1);
    assert!(out.stderr.contains("grace"), "{}", out.stderr);
    let out = t.run(s.cmd(&dir).args(["rotate", "finalize", &rot, "--force"]), 0);
    assert!(out.stdout.contains("DONE"), "{}", out.stdout);
    assert_eq!(
        s.py(&["iam-keys", &user]),
        json!([{"id": new_id, "status": "Active"}])
    );
    let old = s.py(&["sts", &id, &secret]);
    assert_eq!(old, json!({"ok": false, "code": "InvalidClientTokenId"}));
    assert_eq!(s.py(&["sts", &new_id, &new_secret])["ok"], true);
    // Done: resume and rollback have nothing to do / are refused.
    t.run(s.cmd(&dir).args(["rotate", "rollback", &rot]), 2);

    t.file(&dir.path().join("plan.json"));
    t.file(&dir.path().join("findings.json"));
    t.dir(&dir.path().join("journal"));
    t.assert_clean();
}

#[test]
fn stale_plan_is_refused_and_a_rotation_rolls_back() {
    let Some(s) = Servers::get("stale_plan_is_refused_and_a_rotation_rolls_back", &["moto"]) else {
        return;
    };
    let dir = Dir::new("rotate-sm");
    let name = format!("{}/token", unique("svc-"));
    let old = format!("tok_{}", password(32));
    let changed = format!("tok_{}", password(32));
    let mut t = Transcript::new();
    t.secret(&old);
    t.secret(&changed);
    s.py(&[
        "sm-create",
        &name,
        &json!({"token": old, "owner": "billing"}).to_string(),
    ]);
    dir.create(
        "keysweep-rotate.toml",
        format!(
            "state_dir = \"journal\"\n[aws]\nregion = \"us-east-1\"\n\n[[rotation]]\nname = \"svc\"\n\
             store = {{ kind = \"aws-secretsmanager\", locator = \"{name}\" }}\nfield = \"token\"\n\
             issuer = {{ kind = \"random\", options = {{ length = 48 }} }}\ngrace = \"0s\"\n"
        ),
    );
    let endpoint = std::env::var("KEYSWEEP_MOTO_ENDPOINT").unwrap();
    let plan = |t: &mut Transcript, out: &str| {
        t.run(
            s.cmd(&dir).args([
                "rotate",
                "plan",
                "--rotation",
                "svc",
                "--endpoint-url",
                &endpoint,
                "-o",
                out,
            ]),
            0,
        );
    };
    plan(&mut t, "plan.json");
    // Somebody changes the secret between plan and apply.
    s.py(&[
        "sm-put-current",
        &name,
        &json!({"token": changed, "owner": "billing"}).to_string(),
    ]);
    let out = t.run(
        s.cmd(&dir).args(["rotate", "apply", "--plan", "plan.json"]),
        1,
    );
    assert!(
        out.stderr.contains("plan again") || out.stderr.contains("stale"),
        "{}",
        out.stderr
    );
    assert_eq!(parse(&s.py(&["sm-get", &name]))["token"], changed.as_str());
    let stages = s.py(&["sm-stages", &name]);
    assert!(!stages.to_string().contains("AWSPENDING"), "{stages}");

    plan(&mut t, "plan2.json");
    let p: Value = serde_json::from_str(&dir.read("plan2.json")).unwrap();
    let rot = p["plans"][0]["plan"]["id"].as_str().unwrap().to_string();
    let out = t.run(
        s.cmd(&dir)
            .args(["rotate", "apply", "--plan", "plan2.json"]),
        0,
    );
    assert!(
        out.stdout.contains("follow-up"),
        "random secrets need their consumers updated: {}",
        out.stdout
    );
    let cur = parse(&s.py(&["sm-get", &name]));
    let new = cur["token"].as_str().unwrap().to_string();
    t.secret(&new);
    assert_eq!(new.len(), 48);
    assert_eq!(cur["owner"], "billing");
    // Applying the same plan again is refused.
    t.run(
        s.cmd(&dir)
            .args(["rotate", "apply", "--plan", "plan2.json"]),
        1,
    );

    let out = t.run(s.cmd(&dir).args(["rotate", "rollback", &rot]), 0);
    assert!(out.stdout.contains("ROLLED_BACK"), "{}", out.stdout);
    assert_eq!(parse(&s.py(&["sm-get", &name]))["token"], changed.as_str());
    let out = t.run(
        s.cmd(&dir)
            .args(["rotate", "status", &rot, "--format", "json"]),
        0,
    );
    assert_eq!(out.json()[0]["status"]["state"], "ROLLED_BACK");

    t.dir(&dir.path().join("journal"));
    t.file(&dir.path().join("plan2.json"));
    t.assert_clean();
}

/// A rotator without `iam:UpdateAccessKey` gets past promotion and fails to
/// deactivate the old key: `apply` exits 2 and says to resume; `status`
/// shows where it stopped; `resume` with a fixed identity finishes the job
/// from the journal alone.
#[test]
fn failure_after_promotion_is_resumed() {
    let Some(s) = Servers::get("failure_after_promotion_is_resumed", &["moto"]) else {
        return;
    };
    let dir = Dir::new("rotate-resume");
    let user = unique("app-");
    let k = s.py(&["iam-user", &user]);
    let id = k["id"].as_str().unwrap().to_string();
    let secret = k["secret"].as_str().unwrap().to_string();
    let rotator = s.py(&[
        "iam-user",
        &unique("rotator-"),
        &json!([
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
            "iam:ListAccessKeys",
            "iam:CreateAccessKey",
            "iam:DeleteAccessKey",
            "iam:ListAttachedUserPolicies",
            "sts:GetCallerIdentity"
        ])
        .to_string(),
    ]);
    let rot_id = rotator["id"].as_str().unwrap().to_string();
    let rot_secret = rotator["secret"].as_str().unwrap().to_string();
    let mut t = Transcript::new();
    t.secret(&secret);
    t.secret(&rot_secret);
    let name = format!("{user}/aws");
    let doc = json!({"aws_access_key_id": id, "aws_secret_access_key": secret});
    s.py(&["sm-create", &name, &doc.to_string()]);
    let store = format!("aws-secretsmanager:{name}");
    let issuer = format!("aws-iam-access-key:{user}");
    let as_rotator = |c: &mut crate::util::TestCommand| {
        c.env("AWS_ACCESS_KEY_ID", &rot_id)
            .env("AWS_SECRET_ACCESS_KEY", &rot_secret);
    };
    let mut c = s.cmd(&dir);
    as_rotator(&mut c);
    t.run(
        c.args([
            "rotate",
            "plan",
            "--state-dir",
            "j",
            "--store",
            &store,
            "--field",
            "aws_secret_access_key",
            "--id-field",
            "aws_access_key_id",
            "--issuer",
            &issuer,
            "-o",
            "plan.json",
        ]),
        0,
    );
    let plan: Value = serde_json::from_str(&dir.read("plan.json")).unwrap();
    let rot = plan["plans"][0]["plan"]["id"].as_str().unwrap().to_string();
    let mut c = s.cmd(&dir);
    as_rotator(&mut c);
    let out = t.run(
        c.args([
            "rotate",
            "apply",
            "--state-dir",
            "j",
            "--plan",
            "plan.json",
            "-vvv",
        ]),
        2,
    );
    assert!(
        out.stderr
            .contains(&format!("keysweep rotate resume {rot}")),
        "{}",
        out.stderr
    );
    // Promotion happened: consumers already read the new key, which works.
    let cur = parse(&s.py(&["sm-get", &name]));
    let new_id = cur["aws_access_key_id"].as_str().unwrap().to_string();
    let new_secret = cur["aws_secret_access_key"].as_str().unwrap().to_string();
    t.secret(&new_secret);
    assert_ne!(new_id, id);
    assert_eq!(s.py(&["sts", &new_id, &new_secret])["ok"], true);
    let out = t.run(
        s.cmd(&dir).args([
            "rotate",
            "status",
            "--state-dir",
            "j",
            &rot,
            "--format",
            "json",
        ]),
        0,
    );
    let st = &out.json()[0]["status"];
    assert_eq!(st["state"], "CUTOVER", "{st}");
    assert_eq!(st["error_class"], "denied", "{st}");
    // Resume as an identity that may deactivate keys.
    let out = t.run(
        s.cmd(&dir)
            .args(["rotate", "resume", "--state-dir", "j", &rot, "-vvv"]),
        0,
    );
    assert!(out.stdout.contains("OLD_DEACTIVATED"), "{}", out.stdout);
    let keys = s.py(&["iam-keys", &user]);
    assert!(
        keys.as_array()
            .unwrap()
            .contains(&json!({"id": id, "status": "Inactive"})),
        "{keys}"
    );
    t.run(
        s.cmd(&dir)
            .args(["rotate", "finalize", "--state-dir", "j", &rot, "--force"]),
        0,
    );
    assert_eq!(
        s.py(&["iam-keys", &user]),
        json!([{"id": new_id, "status": "Active"}])
    );
    t.dir(&dir.path().join("j"));
    t.file(&dir.path().join("plan.json"));
    t.assert_clean();
}
