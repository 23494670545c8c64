//! A PostgreSQL password kept in AWS Secrets Manager (the JSON shape RDS
//! uses), planned from command-line flags instead of a config file.

use super::{password, pg_admin, pg_host_port, pg_login, unique, Servers, Transcript};
use crate::util::Dir;
use serde_json::{json, Value};

#[test]
fn postgres_password_in_secrets_manager_is_rotated() {
    let Some(s) = Servers::get(
        "postgres_password_in_secrets_manager_is_rotated",
        &["moto", "postgres"],
    ) else {
        return;
    };
    let dir = Dir::new("rotate-sm-pg");
    let role = unique("svc_");
    let old = password(24);
    let mut t = Transcript::new();
    t.secret(&old);
    pg_admin(&format!("CREATE ROLE {role} LOGIN PASSWORD '{old}'"));
    let (host, port) = pg_host_port();
    let name = format!("{role}/rds");
    let doc = json!({"engine": "postgres", "username": role, "password": old, "host": host, "port": port, "dbname": "postgres"});
    s.py(&["sm-create", &name, &doc.to_string()]);
    let url = |pw: &str| format!("postgres://{role}:{pw}@{host}:{port}/postgres");

    let port_opt = format!("port={port}");
    let host_opt = format!("host={host}");
    t.run(
        s.cmd(&dir).args([
            "rotate",
            "plan",
            "--state-dir",
            "journal",
            "--store",
            &format!("aws-secretsmanager:{name}"),
            "--field",
            "password",
            "--issuer",
            &format!("postgres:{role}"),
            "--issuer-opt",
            &host_opt,
            "--issuer-opt",
            &port_opt,
            "--issuer-opt",
            "dbname=postgres",
            "--grace",
            "0s",
            "-o",
            "plan.json",
        ]),
        0,
    );
    let plan: Value = serde_json::from_str(&dir.read("plan.json")).unwrap();
    let rot = plan["plans"][0]["plan"]["id"].as_str().unwrap().to_string();
    t.run(
        s.cmd(&dir).args([
            "rotate",
            "apply",
            "--state-dir",
            "journal",
            "--plan",
            "plan.json",
        ]),
        0,
    );
    let cur: Value =
        serde_json::from_str(s.py(&["sm-get", &name])["value"].as_str().unwrap()).unwrap();
    let new = cur["password"].as_str().unwrap().to_string();
    t.secret(&new);
    assert_ne!(new, old);
    assert_eq!(cur["username"], role.as_str());
    assert_eq!(cur["port"], port);
    assert!(pg_login(&url(&new)));
    assert!(!pg_login(&url(&old)));
    let out = t.run(
        s.cmd(&dir)
            .args(["rotate", "finalize", "--state-dir", "journal", &rot]),
        0,
    );
    assert!(out.stdout.contains("DONE"), "{}", out.stdout);
    assert!(pg_login(&url(&new)) && !pg_login(&url(&old)));
    t.dir(&dir.path().join("journal"));
    t.assert_clean();
    pg_admin(&format!("DROP ROLE {role}"));
}
