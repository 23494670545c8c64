//! Connections (admin sessions and login tests as the rotated role) and the
//! mapping of tokio-postgres errors to sanitized [`BackendError`]s.

use keysweep_rotate::{BackendError, ErrorClass};
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::time::Duration;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, Config, NoTls};

/// Where the admin connection goes, parsed once from the admin URL; the URL
/// itself (with its password) stays in a [`SecretString`] and is parsed
/// again for each connection.
pub(crate) struct Admin {
    url: SecretString,
    pub(crate) user: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) dbname: String,
}

/// Where a login as the rotated role is tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoginTarget {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) dbname: String,
}

/// Timeouts of one issuer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    /// Connecting (TCP and authentication).
    pub(crate) connect: Duration,
    /// One whole operation (connect plus queries).
    pub(crate) operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            operation: Duration::from_secs(30),
        }
    }
}

fn parse(url: &SecretString) -> Result<Config, BackendError> {
    // tokio-postgres's parse errors may quote the offending value: never
    // show them.
    url.expose_secret().parse::<Config>().map_err(|_| {
        BackendError::new(
            ErrorClass::Invalid,
            "the admin URL is not a valid PostgreSQL connection string (postgres://user:password@host:port/dbname; \
             only the sslmode values disable and prefer are supported)",
        )
    })
}

impl Admin {
    /// Parses and checks the admin URL.
    pub(crate) fn new(url: SecretString) -> Result<Admin, BackendError> {
        let cfg = parse(&url)?;
        if cfg.get_ssl_mode() == SslMode::Require {
            return Err(BackendError::new(
                ErrorClass::Unsupported,
                "the admin URL asks for sslmode=require, but keysweep-postgres connects without TLS \
                 (use it over loopback, a Unix socket or a tunnel)",
            ));
        }
        let user = cfg
            .get_user()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| BackendError::new(ErrorClass::Invalid, "the admin URL names no user"))?
            .to_string();
        if cfg.get_password().is_none() {
            tracing::debug!(user = %user, "admin URL has no password; relying on the server's auth method");
        }
        let host = match cfg.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(p)) => p.display().to_string(),
            None => match cfg.get_hostaddrs().first() {
                Some(ip) => ip.to_string(),
                None => {
                    return Err(BackendError::new(
                        ErrorClass::Invalid,
                        "the admin URL names no host",
                    ))
                }
            },
        };
        let port = cfg.get_ports().first().copied().unwrap_or(5432);
        // libpq's default database is the user's name.
        let dbname = cfg.get_dbname().unwrap_or(&user).to_string();
        Ok(Admin {
            url,
            user,
            host,
            port,
            dbname,
        })
    }

    /// Opens an admin session.
    pub(crate) async fn connect(&self, t: Timeouts) -> Result<Client, BackendError> {
        let mut cfg = parse(&self.url)?;
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(t.connect);
        }
        if cfg.get_application_name().is_none() {
            cfg.application_name("keysweep");
        }
        tracing::debug!(user = %self.user, host = %self.host, port = self.port, dbname = %self.dbname,
            "connecting to PostgreSQL as admin");
        bounded(t, "admin connection", spawn_connect(cfg))
            .await?
            .map_err(|e| backend_error("admin connection", &e))
    }
}

/// Connects with `cfg` and drives the connection on a spawned task.
async fn spawn_connect(cfg: Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = cfg.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(sqlstate = ?e.code().map(|c| c.code()), "PostgreSQL connection ended with an error");
        }
    });
    Ok(client)
}

/// Runs `fut` with the operation timeout; a timeout is `Transient`.
pub(crate) async fn bounded<T>(
    t: Timeouts,
    what: &str,
    fut: impl Future<Output = T>,
) -> Result<T, BackendError> {
    tokio::time::timeout(t.operation, fut).await.map_err(|_| {
        BackendError::new(
            ErrorClass::Transient,
            format!(
                "postgres {what}: timed out after {} s",
                t.operation.as_secs()
            ),
        )
    })
}

/// The result of a login attempt as the rotated role.
pub(crate) enum Login {
    /// Logged in; `SELECT session_user` returned this (the authenticated
    /// role; `current_user` could differ when the role has a `role` setting).
    Ok(String),
    /// The server said `28P01 invalid_password` (wrong password, or no such
    /// role, which PostgreSQL does not distinguish).
    Rejected,
    /// Anything else (unreachable, no `pg_hba.conf` entry, timeout…).
    Failed(BackendError),
}

/// Tries to log in as `role` with `password` and asks `session_user`.
pub(crate) async fn login(target: &LoginTarget, role: &str, password: &[u8], t: Timeouts) -> Login {
    let mut cfg = Config::new();
    cfg.host(&target.host)
        .port(target.port)
        .dbname(&target.dbname)
        .user(role)
        .password(password)
        .ssl_mode(SslMode::Disable)
        .connect_timeout(t.connect)
        .application_name("keysweep-login-test");
    let attempt = async {
        let client = spawn_connect(cfg).await?;
        let row = client.query_one("SELECT session_user::text", &[]).await?;
        Ok::<String, tokio_postgres::Error>(row.get(0))
    };
    match bounded(t, "login test", attempt).await {
        Ok(Ok(user)) => Login::Ok(user),
        Ok(Err(e)) if sqlstate(&e) == Some("28P01") => Login::Rejected,
        Ok(Err(e)) => Login::Failed(backend_error("login test", &e)),
        Err(timeout) => Login::Failed(timeout),
    }
}

/// The SQLSTATE of a server error.
pub(crate) fn sqlstate(e: &tokio_postgres::Error) -> Option<&str> {
    e.code().map(|c| c.code())
}

/// A sanitized error: a fixed text naming the operation, the SQLSTATE and its
/// condition name, or for errors without SQLSTATE the I/O error kind. Server
/// messages and tokio-postgres's `Display` are never included.
pub(crate) fn backend_error(what: &str, e: &tokio_postgres::Error) -> BackendError {
    match sqlstate(e) {
        Some(code) => BackendError::new(
            class_of(code),
            format!("postgres {what}: SQLSTATE {code} ({})", condition(code)),
        ),
        None => BackendError::new(
            ErrorClass::Transient,
            format!("postgres {what}: {}", io_kind(e)),
        ),
    }
}

/// The engine's class for a SQLSTATE.
pub(crate) fn class_of(code: &str) -> ErrorClass {
    match code {
        "28P01" | "28000" | "42501" => ErrorClass::Denied,
        "42704" => ErrorClass::NotFound,
        "3D000" => ErrorClass::Invalid,
        "53300" | "57P01" | "57P02" | "57P03" | "40001" | "40P01" => ErrorClass::Transient,
        c if c.starts_with("08") => ErrorClass::Transient,
        _ => ErrorClass::Other,
    }
}

/// PostgreSQL's condition name for the SQLSTATEs this crate meets.
fn condition(code: &str) -> &'static str {
    match code {
        "28P01" => "invalid_password",
        "28000" => "invalid_authorization_specification",
        "42501" => "insufficient_privilege",
        "42704" => "undefined_object",
        "3D000" => "invalid_catalog_name",
        "53300" => "too_many_connections",
        "57P01" => "admin_shutdown",
        "57P02" => "crash_shutdown",
        "57P03" => "cannot_connect_now",
        "40001" => "serialization_failure",
        "40P01" => "deadlock_detected",
        "25006" => "read_only_sql_transaction",
        c if c.starts_with("08") => "connection_exception",
        _ => "see PostgreSQL's error code table",
    }
}

/// What went wrong below the protocol, e.g. `ConnectionRefused`.
fn io_kind(e: &tokio_postgres::Error) -> String {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return format!("connection failed ({:?})", io.kind());
        }
        src = s.source();
    }
    if e.is_closed() {
        "connection closed".into()
    } else {
        "connection failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of("28P01"), ErrorClass::Denied);
        assert_eq!(class_of("42501"), ErrorClass::Denied);
        assert_eq!(class_of("42704"), ErrorClass::NotFound);
        assert_eq!(class_of("08006"), ErrorClass::Transient);
        assert_eq!(class_of("57P03"), ErrorClass::Transient);
        assert_eq!(class_of("XX000"), ErrorClass::Other);
    }

    #[test]
    fn admin_url_parsing() {
        let a = Admin::new(SecretString::from(
            "postgres://rot:SENTINELpw@db.internal:6432/app?application_name=x",
        ))
        .unwrap();
        assert_eq!(
            (a.user.as_str(), a.host.as_str(), a.port, a.dbname.as_str()),
            ("rot", "db.internal", 6432, "app")
        );
        let a = Admin::new(SecretString::from("host=127.0.0.1 user=rot password=x")).unwrap();
        assert_eq!((a.port, a.dbname.as_str()), (5432, "rot"));
        for (url, class) in [
            (
                "postgres://rot:SENTINELpw@h/db?sslmode=require",
                ErrorClass::Unsupported,
            ),
            (
                "postgres://rot:SENTINELpw@h/db?sslmode=verify-full",
                ErrorClass::Invalid,
            ),
            (
                "postgres://rot:SENTINELpw@h/db?bogus=1",
                ErrorClass::Invalid,
            ),
            ("postgres://:SENTINELpw@h/db", ErrorClass::Invalid),
            ("mysql://rot:SENTINELpw@h/db", ErrorClass::Invalid),
        ] {
            let e = Admin::new(SecretString::from(url)).err().expect(url);
            assert_eq!(e.class, class, "{url}");
            assert!(!e.to_string().contains("SENTINEL"), "{e}");
        }
    }

    #[tokio::test]
    async fn unreachable_server_is_transient_and_sanitized() {
        // Port 1 on loopback: nothing listens there.
        let target = LoginTarget {
            host: "127.0.0.1".into(),
            port: 1,
            dbname: "postgres".into(),
        };
        match login(&target, "app", b"SENTINELpw", Timeouts::default()).await {
            Login::Failed(e) => {
                assert_eq!(e.class, ErrorClass::Transient);
                assert!(e.message.contains("ConnectionRefused"), "{e}");
                assert!(!e.message.contains("SENTINEL"));
            }
            _ => panic!("expected a connection failure"),
        }
    }
}
