//! The issue's acceptance scenario: a leaked `postgres://` URL found by
//! `keysweep scan` is located in OpenBao, planned, applied, tested and
//! finalized; the database accepts only the new password and OpenBao serves it.

use super::{password, pg_admin, pg_host_port, pg_login, unique, Servers, Transcript};
use crate::util::Dir;
use serde_json::Value;

#[test]
fn leaked_postgres_url_in_openbao_is_rotated_end_to_end() {
    let Some(s) = Servers::get(
        "leaked_postgres_url_in_openbao_is_rotated_end_to_end",
        &["bao", "postgres"],
    ) else {
        return;
    };
    let dir = Dir::new("rotate-bao-pg");
    let role = unique("app_");
    let old = password(24);
    let mut t = Transcript::new();
    t.secret(&old);
    pg_admin(&format!("CREATE ROLE {role} LOGIN PASSWORD '{old}'"));
    let (host, port) = pg_host_port();
    let url = |pw: &str| format!("postgres://{role}:{pw}@{host}:{port}/postgres");
    assert!(pg_login(&url(&old)));
    let path = format!("{role}/db");
    let put = s.py(&[
        "kv-put",
        "secret",
        &path,
        &serde_json::json!({"dsn": url(&old), "pool": "5"}).to_string(),
    ]);
    assert_eq!(put["data"]["version"], 1, "{put}");
    dir.create("app/config.env", format!("DATABASE_URL={}\n", url(&old)));

    t.run(
        s.cmd(&dir)
            .args(["scan", "--format", "json", "-o", "findings.json", "app"]),
        1,
    );
    let out = t.run(
        s.cmd(&dir).args([
            "rotate",
            "locate",
            "--findings",
            "findings.json",
            "--no-aws",
            "--vault-mount",
            &format!("secret/{role}"),
            "--format",
            "json",
            "--suggest-config",
            "suggested.toml",
        ]),
        0,
    );
    let v = out.json();
    let hit = &v["located"][0];
    assert_eq!(hit["store"]["kind"], "vault-kv2", "{v}");
    assert_eq!(hit["store"]["locator"], format!("secret/{path}"));
    assert_eq!(hit["field"], "dsn#password");
    assert_eq!(hit["version"], "1");
    let suggested = dir.read("suggested.toml");
    assert!(suggested.contains("kind = \"postgres\""), "{suggested}");
    assert!(
        suggested.contains(&format!("principal = \"{role}\"")),
        "{suggested}"
    );
    dir.create(
        "keysweep-rotate.toml",
        format!(
            "state_dir = \"journal\"\n{}\nretire = \"soft-delete\"\n",
            suggested.trim_end()
        ),
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
    assert!(
        out.stdout.contains(&format!("vault-kv2:secret/{path}")),
        "{}",
        out.stdout
    );
    let plan: Value = serde_json::from_str(&dir.read("plan.json")).unwrap();
    let rot = plan["plans"][0]["plan"]["id"].as_str().unwrap().to_string();

    t.run(
        s.cmd(&dir).args(["rotate", "apply", "--plan", "plan.json"]),
        0,
    );
    let cur = s.py(&["kv-get", "secret", &path]);
    assert_eq!(cur["data"]["metadata"]["version"], 2, "{cur}");
    assert_eq!(cur["data"]["data"]["pool"], "5");
    let dsn = cur["data"]["data"]["dsn"].as_str().unwrap().to_string();
    let new = dsn
        .split_once(&format!("{role}:"))
        .and_then(|(_, r)| r.split_once('@'))
        .map(|(pw, _)| pw.to_string())
        .expect("password in the new URL");
    t.secret(&new);
    assert_ne!(new, old);
    assert_eq!(dsn, url(&new), "only the password changed");
    assert!(pg_login(&url(&new)), "the new password works");
    assert!(!pg_login(&url(&old)), "the leaked password is refused");

    let out = t.run(s.cmd(&dir).args(["rotate", "finalize", &rot, "--force"]), 0);
    assert!(out.stdout.contains("DONE"), "{}", out.stdout);
    let meta = s.py(&["kv-meta", "secret", &path]);
    let v1 = &meta["data"]["versions"]["1"];
    assert_ne!(
        v1["deletion_time"], "",
        "the leaked version is soft-deleted: {meta}"
    );
    assert_eq!(v1["destroyed"], false);
    let cur = s.py(&["kv-get", "secret", &path]);
    assert_eq!(
        cur["data"]["data"]["dsn"],
        url(&new).as_str(),
        "OpenBao serves the new URL"
    );
    assert!(pg_login(&url(&new)) && !pg_login(&url(&old)));
    // No staging or lock keys are left behind.
    let list = s.py(&["kv-list", "secret", ".keysweep/staging"]);
    assert!(!list.to_string().contains(&role), "{list}");

    t.dir(&dir.path().join("journal"));
    t.file(&dir.path().join("plan.json"));
    if let Ok(audit) = std::env::var("KEYSWEEP_BAO_AUDIT_LOG") {
        t.file(std::path::Path::new(&audit));
    }
    t.assert_clean();
    // keysweep sends a SCRAM verifier, never the new password, to PostgreSQL
    // (whose log records every statement in these tests).
    if let Ok(log) = std::env::var("KEYSWEEP_PG_LOG") {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            !text.contains(new.as_str()),
            "the new password reached the server log"
        );
    }
    pg_admin(&format!("DROP ROLE {role}"));
}

#[test]
fn kv1_is_refused_with_a_reason() {
    let Some(s) = Servers::get("kv1_is_refused_with_a_reason", &["bao"]) else {
        return;
    };
    let dir = Dir::new("rotate-kv1");
    let mount = unique("kv1-");
    s.py(&["mount-kv1", &mount]);
    s.py(&[
        "kv1-put",
        &mount,
        "app",
        r#"{"password": "kv1-value-0001"}"#,
    ]);
    let out = s
        .cmd(&dir)
        .args([
            "rotate",
            "plan",
            "--store",
            &format!("vault-kv1:{mount}/app"),
            "--field",
            "password",
            "--issuer",
            "random",
        ])
        .run(2);
    assert!(out.stderr.contains("--allow-unversioned"), "{}", out.stderr);
    assert!(!out.stderr.contains("kv1-value-0001"));
}
