//! [`PostgresIssuer`]: rotates one role's password.

use crate::conn::{self, backend_error, bounded, Admin, Login, LoginTarget, Timeouts};
use crate::sql::{self, Verifier};
use crate::ISSUER_KIND;
use keysweep_rotate::{
    async_trait, BackendError, BackendResult, CreateCtx, Credential, CredentialId, CredentialInfo,
    CredentialStatus, ErrorClass, Issuer, IssuerCaps, IssuerRef, IssuerState, Liveness, Permission,
    RandomIssuer, Risk, RotationToken, SecretValue, SetOutcome, Severity, TestEvidence,
    ALPHANUMERIC,
};
use secrecy::SecretString;
use std::fmt;
use std::time::Duration;
use tokio_postgres::Client;

/// The environment variable holding the admin URL by default.
pub const DEFAULT_ADMIN_URL_ENV: &str = "KEYSWEEP_PG_ADMIN_URL";

/// Settings of a [`PostgresIssuer`] besides the admin URL and the role.
///
/// Defaults ([`PostgresOptions::default`]): login target taken from the admin
/// URL, passwords of 32 alphanumeric characters, admin URL variable
/// `KEYSWEEP_PG_ADMIN_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Host for login tests as the role (a name, an IP address, or a Unix
    /// socket directory starting with `/`); default: the admin URL's first
    /// host.
    pub host: Option<String>,
    /// Port for login tests; default: the admin URL's port, else 5432.
    pub port: Option<u16>,
    /// Database for login tests; default: the admin URL's database, else
    /// the admin user's name (libpq's default).
    pub dbname: Option<String>,
    /// Length of generated passwords, 16 to 1024; default 32 (alphanumeric,
    /// about 190 bits).
    pub password_length: usize,
    /// The environment variable [`PostgresIssuer::from_ref`] reads the admin
    /// URL from; default `KEYSWEEP_PG_ADMIN_URL`. Recorded in the plan (the
    /// URL never is).
    pub admin_url_env: String,
}

impl Default for PostgresOptions {
    fn default() -> PostgresOptions {
        PostgresOptions {
            host: None,
            port: None,
            dbname: None,
            password_length: 32,
            admin_url_env: DEFAULT_ADMIN_URL_ENV.into(),
        }
    }
}

impl PostgresOptions {
    /// The options recorded in an [`IssuerRef`]: `host`, `port`, `dbname`,
    /// `password_length`, `admin_url_env` (all optional). Unknown options are
    /// refused (`Invalid`), so a misspelt setting is not silently ignored.
    pub fn from_ref(r: &IssuerRef) -> BackendResult<PostgresOptions> {
        let bad = |m: String| BackendError::new(ErrorClass::Invalid, m);
        let mut o = PostgresOptions::default();
        for (k, v) in &r.options {
            match k.as_str() {
                "host" => o.host = Some(v.clone()),
                "port" => {
                    o.port =
                        Some(v.parse().map_err(|_| {
                            bad(format!("postgres option port {v:?} is not a port"))
                        })?)
                }
                "dbname" => o.dbname = Some(v.clone()),
                "password_length" => {
                    o.password_length = v.parse().map_err(|_| {
                        bad(format!(
                            "postgres option password_length {v:?} is not a number"
                        ))
                    })?
                }
                "admin_url_env" => o.admin_url_env = v.clone(),
                other => return Err(bad(format!("unknown postgres issuer option {other:?}"))),
            }
        }
        Ok(o)
    }
}

/// Rotates the password of one PostgreSQL role, through an admin connection
/// (a different role with `CREATEROLE`, or a superuser: see
/// [`required_privileges_doc`](crate::required_privileges_doc)).
///
/// * Credential id: the role name. Value: the plaintext password, generated
///   alphanumeric by [`Issuer::create`] (nothing happens on the server then).
/// * [`Issuer::set`] sends a SCRAM-SHA-256 verifier computed here, never the
///   plaintext; the old password stops working at once (no overlap).
/// * [`Issuer::test`] and [`Issuer::verify_dead`] log in as the role.
///
/// `Debug` and `Display` show the admin URL without its password.
pub struct PostgresIssuer {
    admin: Admin,
    role: String,
    login: LoginTarget,
    password_length: usize,
    admin_url_env: String,
    timeouts: Timeouts,
    test_attempts: u32,
    test_delay: Duration,
}

impl fmt::Debug for PostgresIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresIssuer")
            .field("role", &self.role)
            .field("admin", &format_args!("{}", self.admin_display()))
            .field("login", &self.login)
            .field("password_length", &self.password_length)
            .field("admin_url_env", &self.admin_url_env)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for PostgresIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "postgres role {} (admin {})",
            self.role,
            self.admin_display()
        )
    }
}

/// Facts about the role and the admin session, read with one query.
struct Facts {
    can_login: bool,
    role_super: bool,
    valid_until: Option<String>,
    admin_super: bool,
    admin_createrole: bool,
    admin_has_admin_option: bool,
    session_user: String,
    server_version: i32,
    log_statement: String,
    log_min_duration: String,
    log_parameter_max_length: Option<String>,
    current_user: String,
}

const FACTS: &str = "SELECT r.rolcanlogin, r.rolsuper, r.rolvaliduntil::text, \
     a.rolsuper, a.rolcreaterole, pg_has_role(a.oid, r.oid, 'USAGE WITH ADMIN OPTION'), \
     session_user::text, current_setting('server_version_num')::int, \
     current_setting('log_statement'), current_setting('log_min_duration_statement'), \
     current_setting('log_parameter_max_length', true), current_user::text \
     FROM pg_roles r, pg_roles a WHERE r.rolname = $1 AND a.rolname = current_user";

impl PostgresIssuer {
    /// An issuer for `role`, changing its password through `admin_url` (an
    /// admin connection: a role with `CREATEROLE` or a superuser, never the
    /// leaked credential itself). `opts` says where to test logins as the
    /// role; missing parts come from the admin URL.
    ///
    /// Fails with `Invalid` for a malformed URL or role name or a bad
    /// password length, and `Unsupported` for `sslmode=require` (no TLS in
    /// this build). Connects to nothing.
    pub fn new(
        admin_url: SecretString,
        role: &str,
        opts: PostgresOptions,
    ) -> BackendResult<PostgresIssuer> {
        let bad = |m: &str| BackendError::new(ErrorClass::Invalid, m);
        if role.is_empty() || role.len() > 63 || role.contains('\0') {
            return Err(bad("a PostgreSQL role name has 1 to 63 bytes and no NUL"));
        }
        if !(16..=1024).contains(&opts.password_length) {
            return Err(bad("password_length must be between 16 and 1024"));
        }
        if opts.port == Some(0) {
            return Err(bad("port must not be 0"));
        }
        let admin = Admin::new(admin_url)?;
        let login = LoginTarget {
            host: opts
                .host
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| admin.host.clone()),
            port: opts.port.unwrap_or(admin.port),
            dbname: opts
                .dbname
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| admin.dbname.clone()),
        };
        Ok(PostgresIssuer {
            admin,
            role: role.to_string(),
            login,
            password_length: opts.password_length,
            admin_url_env: opts.admin_url_env,
            timeouts: Timeouts::default(),
            test_attempts: 3,
            test_delay: Duration::from_secs(1),
        })
    }

    /// Rebuilds an issuer from its [`IssuerRef`] (kind `postgres`, principal
    /// the role; options as in [`PostgresOptions::from_ref`]). The admin URL
    /// is read from the environment variable named by option
    /// `admin_url_env` (default `KEYSWEEP_PG_ADMIN_URL`), never from the plan.
    pub fn from_ref(r: &IssuerRef) -> BackendResult<PostgresIssuer> {
        if r.kind != ISSUER_KIND {
            return Err(BackendError::new(
                ErrorClass::Invalid,
                format!("issuer kind {:?} is not {ISSUER_KIND:?}", r.kind),
            ));
        }
        let opts = PostgresOptions::from_ref(r)?;
        let url = std::env::var(&opts.admin_url_env).map_err(|_| {
            BackendError::new(
                ErrorClass::Invalid,
                format!(
                    "environment variable {} (the PostgreSQL admin URL) is not set or not UTF-8",
                    opts.admin_url_env
                ),
            )
        })?;
        PostgresIssuer::new(SecretString::from(url), &r.principal, opts)
    }

    /// Login tests ([`Issuer::test`]) try up to `attempts` times (at least
    /// 1), waiting `delay` before the second try and doubling it after each.
    /// Default: 3 attempts, 1 s. Retries help behind connection poolers and
    /// replicas that learn the new password late.
    pub fn with_test_retries(mut self, attempts: u32, delay: Duration) -> PostgresIssuer {
        self.test_attempts = attempts.max(1);
        self.test_delay = delay;
        self
    }

    /// The role whose password rotates.
    pub fn role(&self) -> &str {
        &self.role
    }

    fn admin_display(&self) -> String {
        format!(
            "postgres://{}:<redacted>@{}:{}/{}",
            self.admin.user,
            bracket(&self.admin.host),
            self.admin.port,
            self.admin.dbname
        )
    }

    fn id(&self) -> CredentialId {
        CredentialId(self.role.clone())
    }

    /// Never rotate with the leaked credential itself.
    fn refuse_self(&self, session_user: Option<&str>) -> BackendResult<()> {
        if self.admin.user == self.role || session_user == Some(self.role.as_str()) {
            return Err(BackendError::new(
                ErrorClass::Denied,
                format!(
                    "the admin connection logs in as {0}, the role being rotated; use another role \
                     with CREATEROLE (never the leaked credential itself)",
                    self.role
                ),
            ));
        }
        Ok(())
    }

    fn check_id(&self, id: &CredentialId) -> BackendResult<()> {
        if id.as_str() != self.role {
            return Err(BackendError::new(
                ErrorClass::Invalid,
                format!("credential {id} is not role {}", self.role),
            ));
        }
        Ok(())
    }

    async fn admin(&self) -> BackendResult<Client> {
        self.refuse_self(None)?;
        let client = self.admin.connect(self.timeouts).await?;
        Ok(client)
    }

    /// Reads [`Facts`] and refuses what cannot work: a missing role, a
    /// `NOLOGIN` role, an admin without the privilege to change the password,
    /// an admin session that is the role itself.
    async fn facts(&self, client: &Client) -> BackendResult<Facts> {
        let rows = bounded(
            self.timeouts,
            "role lookup",
            client.query(FACTS, &[&self.role]),
        )
        .await?
        .map_err(|e| backend_error("role lookup", &e))?;
        let Some(r) = rows.first() else {
            return Err(BackendError::new(
                ErrorClass::NotFound,
                format!(
                    "role {} does not exist on {}:{}",
                    self.role, self.admin.host, self.admin.port
                ),
            ));
        };
        let f = Facts {
            can_login: r.get(0),
            role_super: r.get(1),
            valid_until: r.get(2),
            admin_super: r.get(3),
            admin_createrole: r.get(4),
            admin_has_admin_option: r.get(5),
            session_user: r.get(6),
            server_version: r.get(7),
            log_statement: r.get(8),
            log_min_duration: r.get(9),
            log_parameter_max_length: r.get(10),
            current_user: r.get(11),
        };
        self.refuse_self(Some(&f.session_user))?;
        self.refuse_self(Some(&f.current_user))?;
        let denied = |m: String| Err(BackendError::new(ErrorClass::Denied, m));
        let role = &self.role;
        let admin = &f.session_user;
        if !f.can_login {
            return Err(BackendError::new(
                ErrorClass::Invalid,
                format!("role {role} is NOLOGIN: its password is not a usable credential"),
            ));
        }
        if f.role_super && !f.admin_super {
            return denied(format!(
                "role {role} is a superuser; only a superuser can change its password, and admin {admin} is not one"
            ));
        }
        if !f.admin_super && !f.admin_createrole {
            return denied(format!(
                "admin {admin} has neither SUPERUSER nor CREATEROLE, so it cannot change the password of {role}"
            ));
        }
        if !f.admin_super && f.server_version >= 160000 && !f.admin_has_admin_option {
            return denied(format!(
                "PostgreSQL 16+: admin {admin} has CREATEROLE but no ADMIN OPTION on role {role} \
                 (GRANT {role} TO {admin} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE)"
            ));
        }
        Ok(f)
    }

    async fn try_login(&self, password: &[u8]) -> Login {
        conn::login(&self.login, &self.role, password, self.timeouts).await
    }

    fn login_place(&self) -> String {
        format!(
            "{}:{}/{}",
            bracket(&self.login.host),
            self.login.port,
            self.login.dbname
        )
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('/') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[async_trait]
impl Issuer for PostgresIssuer {
    fn describe(&self) -> IssuerRef {
        let mut r = IssuerRef::new(ISSUER_KIND, self.role.clone());
        r.options.insert("host".into(), self.login.host.clone());
        r.options.insert("port".into(), self.login.port.to_string());
        r.options.insert("dbname".into(), self.login.dbname.clone());
        r.options
            .insert("password_length".into(), self.password_length.to_string());
        r.options
            .insert("admin_url_env".into(), self.admin_url_env.clone());
        r
    }

    /// One password per role, no overlap (the old password dies at `set`),
    /// no deactivation (`NOLOGIN` would lock out the new password too: old
    /// and new share the role), `revoke` is a no-op (done by `set`),
    /// `verify_dead` logs in with the old password.
    fn capabilities(&self) -> IssuerCaps {
        IssuerCaps {
            max_credentials: None,
            overlap: false,
            deactivate: false,
            revoke: true,
            verify_dead: true,
        }
    }

    fn required_permissions(&self) -> Vec<Permission> {
        let server = format!("{}:{}", bracket(&self.admin.host), self.admin.port);
        vec![
            Permission {
                action:
                    "postgres:ALTER ROLE PASSWORD (CREATEROLE, +ADMIN OPTION on 16+, or SUPERUSER)"
                        .into(),
                resource: format!("role:{}@{server}", self.role),
            },
            Permission {
                action: "postgres:CONNECT".into(),
                resource: format!(
                    "database:{}@{server} as {}",
                    self.admin.dbname, self.admin.user
                ),
            },
        ]
    }

    async fn inspect(&self, current: &SecretValue) -> BackendResult<IssuerState> {
        let client = self.admin().await?;
        self.facts(&client).await?;
        drop(client);
        let works = match self.try_login(current.expose()).await {
            Login::Ok(user) if user == self.role => true,
            Login::Ok(user) => {
                return Err(BackendError::new(
                    ErrorClass::Invalid,
                    format!(
                        "logging in as {} at {} gives session_user {user}",
                        self.role,
                        self.login_place()
                    ),
                ))
            }
            Login::Rejected => false,
            // The login test must work before anything changes: after `set`
            // it is the only check that the new password is usable.
            Login::Failed(e) => {
                return Err(BackendError::new(
                    e.class,
                    format!(
                        "cannot test logins as {} at {}: {}",
                        self.role,
                        self.login_place(),
                        e.message
                    ),
                ))
            }
        };
        tracing::debug!(role = %self.role, current_works = works, "inspected PostgreSQL role");
        Ok(IssuerState {
            current: works.then(|| self.id()),
            credentials: vec![CredentialInfo {
                id: self.id(),
                status: CredentialStatus::Active,
            }],
            quarantined: false,
        })
    }

    async fn plan_risks(&self) -> BackendResult<Vec<Risk>> {
        let client = self.admin().await?;
        let f = self.facts(&client).await?;
        drop(client);
        let role = &self.role;
        let mut risks = vec![Risk {
            code: "no-overlap".into(),
            severity: Severity::High,
            message: format!(
                "PostgreSQL roles have one password: the old password of {role} stops working at \
                 the set step, so consumers still using it fail until they read the new value \
                 (from set to promote, and longer for consumers that cache it); going back after \
                 set means setting the old password again"
            ),
        }];
        let logs_all = f.log_statement == "all" || !f.log_min_duration.starts_with('-');
        let params_logged = f.log_parameter_max_length.as_deref() != Some("0");
        let quiet = f.admin_super && f.server_version >= 130000;
        let (severity, detail) = if !logs_all || !params_logged {
            (
                Severity::Info,
                "bind parameters are not logged, so neither the password nor its verifier reaches the server log",
            )
        } else if quiet {
            (
                Severity::Info,
                "the superuser admin turns off parameter logging for its transaction, so neither \
                 the password nor its verifier reaches the server log",
            )
        } else {
            (
                Severity::Warning,
                "bind parameters are logged, so the SCRAM verifier (not the password) of the new \
                 password will be in the server log; a verifier allows offline guessing, which a \
                 random password defeats, but keep the log private",
            )
        };
        risks.push(Risk {
            code: "pg-statement-logging".into(),
            severity,
            message: format!(
                "log_statement = {}, log_min_duration_statement = {}: keysweep sends only a SCRAM-SHA-256 \
                 verifier, as a bind parameter of a statement whose text holds no secret; {detail}",
                f.log_statement, f.log_min_duration
            ),
        });
        if let Some(until) = &f.valid_until {
            if until != "infinity" {
                risks.push(Risk {
                    code: "pg-valid-until".into(),
                    severity: Severity::Warning,
                    message: format!(
                        "role {role} has VALID UNTIL {until}; ALTER ROLE ... PASSWORD keeps it, so \
                         the new password expires then too"
                    ),
                });
            }
        }
        Ok(risks)
    }

    async fn create(&self, token: &RotationToken, _ctx: &CreateCtx) -> BackendResult<Credential> {
        let value = RandomIssuer::builder()
            .alphabet(ALPHANUMERIC)
            .length(self.password_length)
            .build()?
            .generate()?;
        tracing::debug!(role = %self.role, token = %token, length = self.password_length,
            "generated a new PostgreSQL password (nothing changed on the server yet)");
        Ok(Credential {
            id: self.id(),
            value,
        })
    }

    /// `create` changes nothing on the server, so there is never anything to
    /// find.
    async fn find(
        &self,
        _token: &RotationToken,
        _ctx: &CreateCtx,
    ) -> BackendResult<Option<CredentialId>> {
        Ok(None)
    }

    async fn set(
        &self,
        new: &Credential,
        _old: Option<&CredentialId>,
    ) -> BackendResult<SetOutcome> {
        self.check_id(&new.id)?;
        let verifier = Verifier::new(new.value.expose());
        let mut client = self.admin().await?;
        let res = bounded(
            self.timeouts,
            "ALTER ROLE",
            sql::set_password(&mut client, &self.role, &verifier),
        )
        .await?;
        match res {
            Ok(quiet) => {
                tracing::info!(role = %self.role, parameter_logging_off = quiet,
                    "PostgreSQL role password changed (SCRAM-SHA-256 verifier sent)");
                Ok(SetOutcome::Applied)
            }
            Err(e) => {
                let ours = e.as_db_error().map(|d| d.message()) == Some(sql::SET_PASSWORD_FAILED);
                let mut err = backend_error("ALTER ROLE", &e);
                if conn::sqlstate(&e) == Some("42704") && !ours {
                    // The DO block itself failed: no PL/pgSQL.
                    err = BackendError::new(
                        ErrorClass::Unsupported,
                        format!(
                            "postgres ALTER ROLE: PL/pgSQL is not available in database {}",
                            self.admin.dbname
                        ),
                    );
                } else if err.class == ErrorClass::NotFound {
                    err.message = format!("role {} does not exist ({})", self.role, err.message);
                }
                tracing::warn!(role = %self.role, class = %err.class, error = %err.message,
                    "changing the PostgreSQL role password failed");
                Err(err)
            }
        }
    }

    async fn test(&self, new: &Credential) -> BackendResult<TestEvidence> {
        self.check_id(&new.id)?;
        let mut delay = self.test_delay;
        let mut last = None;
        for attempt in 1..=self.test_attempts {
            if attempt > 1 {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
            match self.try_login(new.value.expose()).await {
                Login::Ok(user) if user == self.role => {
                    tracing::debug!(role = %self.role, attempt, "login test passed");
                    return Ok(TestEvidence {
                        detail: format!(
                            "logged in at {} as {user} (session_user) after {attempt} {}",
                            self.login_place(),
                            if attempt == 1 { "try" } else { "tries" }
                        ),
                    });
                }
                Login::Ok(user) => {
                    return Err(BackendError::new(
                        ErrorClass::TestFailed,
                        format!("login as {} gave session_user {user}", self.role),
                    ))
                }
                Login::Rejected => {
                    tracing::debug!(role = %self.role, attempt, "login test: SQLSTATE 28P01");
                    last = Some("SQLSTATE 28P01 (invalid_password)".to_string());
                }
                Login::Failed(e) => {
                    tracing::debug!(role = %self.role, attempt, error = %e.message, "login test failed");
                    let retry = e.class == ErrorClass::Transient;
                    last = Some(e.message);
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(BackendError::new(
            ErrorClass::TestFailed,
            format!(
                "the new password of {} does not log in at {}: {}",
                self.role,
                self.login_place(),
                last.unwrap_or_default()
            ),
        ))
    }

    async fn deactivate(&self, _id: &CredentialId) -> BackendResult<()> {
        Err(no_deactivation())
    }

    async fn reactivate(&self, _id: &CredentialId) -> BackendResult<()> {
        Err(no_deactivation())
    }

    /// A no-op success: `set` already replaced the old password, and since
    /// old and new share one id (the role), revoking here could only hit the
    /// new password.
    async fn revoke(&self, id: &CredentialId) -> BackendResult<()> {
        self.check_id(id)?;
        tracing::debug!(role = %self.role, "revoke: nothing to do (set replaced the old password)");
        Ok(())
    }

    async fn verify_dead(&self, old: &Credential) -> BackendResult<Liveness> {
        self.check_id(&old.id)?;
        Ok(match self.try_login(old.value.expose()).await {
            Login::Rejected => Liveness::Dead,
            Login::Ok(_) => Liveness::Alive,
            Login::Failed(e) => {
                tracing::warn!(role = %self.role, error = %e.message, "verify_dead: cannot tell");
                Liveness::Unknown
            }
        })
    }
}

fn no_deactivation() -> BackendError {
    BackendError::new(
        ErrorClass::Unsupported,
        "a PostgreSQL role password cannot be deactivated: NOLOGIN would lock out the new \
         password too (old and new belong to the same role)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(url: &str, role: &str) -> PostgresIssuer {
        PostgresIssuer::new(SecretString::from(url), role, PostgresOptions::default()).unwrap()
    }

    #[test]
    fn describe_round_trips_and_redacts() {
        let i = issuer("postgres://rot:SENTINELpw@db.internal:6432/app", "app_rw");
        let r = i.describe();
        assert_eq!(r.kind, "postgres");
        assert_eq!(r.principal, "app_rw");
        assert_eq!(r.options["host"], "db.internal");
        assert_eq!(r.options["port"], "6432");
        assert_eq!(r.options["dbname"], "app");
        assert_eq!(r.options["password_length"], "32");
        assert_eq!(r.options["admin_url_env"], "KEYSWEEP_PG_ADMIN_URL");
        let o = PostgresOptions::from_ref(&r).unwrap();
        assert_eq!(o.port, Some(6432));
        let shown = format!("{i:?} {i} {r:?} {:?}", i.required_permissions());
        assert!(!shown.contains("SENTINEL"), "{shown}");
        assert!(
            shown.contains("postgres://rot:<redacted>@db.internal:6432/app"),
            "{shown}"
        );
    }

    #[test]
    fn options_override_the_admin_url() {
        let opts = PostgresOptions {
            host: Some("::1".into()),
            port: Some(7000),
            dbname: Some("orders".into()),
            password_length: 48,
            admin_url_env: "MY_ADMIN".into(),
        };
        let i =
            PostgresIssuer::new(SecretString::from("postgres://rot:pw@h/db"), "app", opts).unwrap();
        assert_eq!(i.login_place(), "[::1]:7000/orders");
        assert_eq!(i.describe().options["admin_url_env"], "MY_ADMIN");
    }

    #[test]
    fn bad_settings() {
        let url = || SecretString::from("postgres://rot:pw@h/db");
        let o = PostgresOptions::default;
        for role in ["", "a\0b", &"x".repeat(64)] {
            let e = PostgresIssuer::new(url(), role, o()).unwrap_err();
            assert_eq!(e.class, ErrorClass::Invalid);
        }
        for n in [0, 15, 1025] {
            let opts = PostgresOptions {
                password_length: n,
                ..o()
            };
            assert!(PostgresIssuer::new(url(), "app", opts).is_err());
        }
        let mut r = IssuerRef::new("postgres", "app");
        r.options.insert("sslmode".into(), "require".into());
        assert_eq!(
            PostgresOptions::from_ref(&r).unwrap_err().class,
            ErrorClass::Invalid
        );
        let mut r = IssuerRef::new("postgres", "app");
        r.options.insert("port".into(), "http".into());
        assert!(PostgresOptions::from_ref(&r).is_err());
        assert!(PostgresIssuer::from_ref(&IssuerRef::new("random", "app")).is_err());
    }

    #[test]
    fn from_ref_reads_the_named_variable_and_never_shows_it() {
        let mut r = IssuerRef::new("postgres", "app");
        r.options.insert(
            "admin_url_env".into(),
            "KEYSWEEP_PG_TEST_SURELY_UNSET_VARIABLE".into(),
        );
        let e = PostgresIssuer::from_ref(&r).unwrap_err();
        assert_eq!(e.class, ErrorClass::Invalid);
        assert!(e.message.contains("KEYSWEEP_PG_TEST_SURELY_UNSET_VARIABLE"));
        // PATH is set but is no URL; its value must not appear.
        let path = std::env::var("PATH").unwrap_or_default();
        r.options.insert("admin_url_env".into(), "PATH".into());
        let e = PostgresIssuer::from_ref(&r).unwrap_err();
        assert_eq!(e.class, ErrorClass::Invalid);
        assert!(path.len() < 3 || !e.message.contains(&path));
    }

    #[tokio::test]
    async fn refuses_to_rotate_with_the_leaked_role_itself() {
        // Refused before any connection is made (nothing listens on port 1).
        let i = issuer("postgres://app:pw@127.0.0.1:1/db", "app");
        let e = i.inspect(&SecretValue::from("pw")).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Denied);
        let cred = Credential {
            id: CredentialId("app".into()),
            value: SecretValue::from("new-password-0123456789"),
        };
        assert_eq!(
            i.set(&cred, None).await.unwrap_err().class,
            ErrorClass::Denied
        );
    }

    #[tokio::test]
    async fn create_generates_alphanumeric_passwords_without_touching_the_server() {
        let opts = PostgresOptions {
            password_length: 40,
            ..PostgresOptions::default()
        };
        let i = PostgresIssuer::new(
            SecretString::from("postgres://rot:pw@127.0.0.1:1/db"),
            "app",
            opts,
        )
        .unwrap();
        let t = RotationToken::new();
        let a = i.create(&t, &CreateCtx::default()).await.unwrap();
        let b = i.create(&t, &CreateCtx::default()).await.unwrap();
        assert_eq!(a.id.as_str(), "app");
        assert_eq!(a.value.len(), 40);
        assert!(a.value.expose().iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a.value.expose(), b.value.expose());
        assert_eq!(i.find(&t, &CreateCtx::default()).await.unwrap(), None);
        i.revoke(&CredentialId("app".into())).await.unwrap();
        assert!(i.revoke(&CredentialId("other".into())).await.is_err());
        assert_eq!(
            i.deactivate(&CredentialId("app".into()))
                .await
                .unwrap_err()
                .class,
            ErrorClass::Unsupported
        );
        let caps = i.capabilities();
        assert!(!caps.overlap && !caps.deactivate && caps.revoke && caps.verify_dead);
        assert_eq!(caps.max_credentials, None);
    }
}
