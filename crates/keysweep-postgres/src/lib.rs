//! keysweep's rotation backend for PostgreSQL role passwords.
//!
//! [`PostgresIssuer`] implements [`keysweep_rotate::Issuer`] for one role: it
//! generates a random password, puts it into effect with
//! `ALTER ROLE … PASSWORD` through a separate **admin** connection, tests it
//! by logging in as the role, and checks that the old password is dead.
//! [`url_parts`] reads the non-secret parts of a leaked `postgres://` URL so
//! the CLI can build the plan's [`IssuerRef`].
//!
//! | Issuer method | What happens on the server |
//! |---|---|
//! | `inspect` | admin session: the role exists, can log in, and the admin may change its password; then a login as the role with the stored (leaked) value says whether it is the current password |
//! | `create` | nothing: a random alphanumeric password is generated (default 32 characters) |
//! | `set` | `ALTER ROLE "<role>" PASSWORD '<SCRAM-SHA-256 verifier>'` (see below): the old password stops working at once |
//! | `test` | login as the role with the new password, `SELECT session_user` must be the role, bounded retries (default 3 tries, 1 s then 2 s apart) |
//! | `revoke` | nothing (`set` did it) |
//! | `verify_dead` | login with the old password: `28P01` means dead |
//!
//! # Secrets
//!
//! * The plaintext password never reaches the server. `set` computes a
//!   SCRAM-SHA-256 verifier locally (random salt, 4096 iterations, SASLprep;
//!   PostgreSQL stores a pre-hashed verifier as given) and logins use SCRAM.
//! * The verifier is sensitive too (offline guessing; with a recorded SCRAM
//!   exchange it yields the client proof), so it is never part of a
//!   statement's text: it is sent as a bind parameter into a
//!   transaction-local setting, and a `DO` block runs
//!   `format('ALTER ROLE %I PASSWORD %L', …)` server-side. Hence
//!   `log_statement = ddl`/`mod`, `pg_stat_statements` and `pg_stat_activity`
//!   never see it, nor does tokio-postgres's debug log (the parameter's
//!   `Debug` is redacted). With `log_statement = all` (or
//!   `log_min_duration_statement` set) PostgreSQL logs bind parameters, so
//!   the verifier would be logged — except that a superuser admin sets
//!   `log_parameter_max_length = 0` for the transaction (PostgreSQL 13+).
//!   The plan reports which case applies (risk `pg-statement-logging`).
//!   Errors inside the `DO` block are re-raised with a fixed message so
//!   PL/pgSQL's error context (which quotes the statement) is not logged.
//! * Errors carry SQLSTATE codes and fixed texts, never server messages.
//!   `Debug`/`Display` of the issuer show the admin URL as
//!   `postgres://user:<redacted>@host:port/db`.
//! * tokio-postgres logs statement texts at debug level through the `log`
//!   crate (target `tokio_postgres`); they hold no secret here, but the CLI
//!   should still cap that target at `info`.
//!
//! # No overlap
//!
//! A role has exactly one password, so the old one stops working at the set
//! step, before the store promotes the new value: consumers fail from set
//! until they read the new value (plan risk `no-overlap`). `deactivate` is
//! unsupported (`NOLOGIN` would lock out the new password too) and `revoke`
//! is a no-op. Going back after set (an abort after a failed test, or a
//! rollback after promotion) needs the old password set again; the engine's
//! compensation steps do not do that (yet), so after such an abort or
//! rollback the store serves the old password while the role has another
//! one. `tests/postgres.rs` pins this behaviour down.
//!
//! # TLS
//!
//! Connections are plain TCP (tokio-postgres `NoTls`): meant for loopback, a
//! Unix socket directory, or a tunnel. An admin URL with `sslmode=require` is
//! refused (`Unsupported`); `prefer` and `disable` connect without TLS.
//!
//! # Example
//!
//! ```no_run
//! use keysweep_postgres::{url_parts, PostgresIssuer, PostgresOptions};
//! use keysweep_rotate::Issuer;
//! use secrecy::SecretString;
//!
//! // A URL the scanner found (its password is the leaked credential).
//! let leaked = url_parts("postgres://app:leaked@db.internal:5432/orders")?;
//! let opts = PostgresOptions {
//!     host: Some(leaked.host.clone()),
//!     port: Some(leaked.port),
//!     dbname: leaked.dbname.clone(),
//!     ..PostgresOptions::default()
//! };
//! // The rotator's own admin role, never `app` itself.
//! let admin = SecretString::from(std::env::var("KEYSWEEP_PG_ADMIN_URL").unwrap());
//! let issuer = PostgresIssuer::new(admin, &leaked.user, opts)?;
//! println!("{issuer}"); // postgres role app (admin postgres://rotator:<redacted>@…)
//! assert_eq!(issuer.describe().kind, "postgres");
//! # Ok::<(), keysweep_rotate::BackendError>(())
//! ```
//!
//! # Crate features
//!
//! None. The crate always builds tokio-postgres without TLS.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod conn;
mod issuer;
mod sql;
mod url;

pub use issuer::{PostgresIssuer, PostgresOptions, DEFAULT_ADMIN_URL_ENV};
pub use sql::{quote_identifier, quote_literal};
pub use url::{url_parts, UrlParts};

use keysweep_rotate::{BackendResult, Issuer, IssuerRef};
use std::sync::Arc;

/// The [`IssuerRef::kind`] of [`PostgresIssuer`].
pub const ISSUER_KIND: &str = "postgres";

/// The issuer described by `r` if its kind is `postgres` (`Ok(None)`
/// otherwise), for a [`BackendFactory`](keysweep_rotate::BackendFactory).
/// Reads the admin URL from the environment (see
/// [`PostgresIssuer::from_ref`]); connects to nothing.
pub async fn issuer_from_ref(r: &IssuerRef) -> BackendResult<Option<Arc<dyn Issuer>>> {
    if r.kind != ISSUER_KIND {
        return Ok(None);
    }
    Ok(Some(Arc::new(PostgresIssuer::from_ref(r)?)))
}

/// What the admin role needs, as SQL an operator can run (least privilege).
pub fn required_privileges_doc() -> &'static str {
    PRIVILEGES
}

const PRIVILEGES: &str = r#"keysweep-postgres changes a role's password through an admin connection
(KEYSWEEP_PG_ADMIN_URL, or the variable named by the plan's admin_url_env).
It must be a different role from the one rotated: keysweep refuses to rotate
a role with its own (leaked) password.

PostgreSQL 15 and older: CREATEROLE is enough for non-superuser roles.

    CREATE ROLE keysweep_rotator LOGIN CREATEROLE PASSWORD '...';

PostgreSQL 16 and newer: CREATEROLE only lets a role change the password of
roles on which it holds ADMIN OPTION (it gets that for roles it creates
itself). Grant it without inheriting the role's privileges:

    CREATE ROLE keysweep_rotator LOGIN CREATEROLE PASSWORD '...';
    GRANT app TO keysweep_rotator WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;

The password of a SUPERUSER role can only be changed by a superuser.

Also needed:
  * CONNECT on the admin URL's database (PUBLIC has it by default) and
    PL/pgSQL there (installed by default);
  * logins as the rotated role must work from the rotator's host to the
    plan's host/port/dbname with a password method (scram-sha-256) in
    pg_hba.conf: they test the new password and check that the old one is
    dead;
  * plain TCP: no TLS (loopback, a Unix socket directory, or a tunnel).

keysweep reads pg_roles (public) and the settings is_superuser,
server_version_num, log_statement, log_min_duration_statement and
log_parameter_max_length."#;
