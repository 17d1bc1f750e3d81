//! Connections: where a database is, how to show it without its password, and
//! connecting to it, the way libpq (and so psql) does.
//!
//! - Connection strings are `postgres://` / `postgresql://` URLs or
//!   `key=value` strings (`conninfo.rs`).
//! - What the string does not say comes from the `PG*` environment variables,
//!   then libpq's defaults; a missing password from `~/.pgpass` or
//!   `PGPASSFILE` (`settings.rs`, `pgpass.rs`).
//! - TLS through rustls with libpq's sslmode values, from `disable` to
//!   `verify-full` (`tls.rs`); Unix sockets never use TLS.
//!
//! Every connection converge opens goes through `Endpoint::connect`, so every
//! connection error reads the same way and none prints a password.

mod conninfo;
pub mod pgpass;
mod settings;
mod tls;

pub use settings::{CertMode, RootCert, SslMode, SslSettings, Target};

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_postgres::config::{Host, LoadBalanceHosts};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, Config, NoTls, Socket};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid connection string: {0}")]
    Invalid(String),
    #[error("cannot connect to {endpoint}: {message}")]
    Connect { endpoint: String, message: String },
    #[error("{context}: {message}")]
    Query { context: String, message: String },
}

/// A database to connect to.
#[derive(Clone)]
pub struct Endpoint {
    /// Everything but the TLS settings and the password file's passwords;
    /// the password here is one given explicitly.
    config: Config,
    /// The servers to try, in order.
    targets: Vec<Target>,
    ssl: SslSettings,
    /// The password file, when no password was given.
    passfile: Option<std::path::PathBuf>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({self} sslmode={})", self.ssl.mode.as_str())
    }
}

impl Endpoint {
    /// Parses a `postgres://` URL or a `key=value` connection string, with
    /// defaults from the process's environment.
    pub fn parse(text: &str) -> Result<Endpoint, DbError> {
        let env: HashMap<String, String> = settings::env_names()
            .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
            .collect();
        Endpoint::parse_with_env(text, &env)
    }

    /// Parses a connection string with defaults from `env` (variable name to
    /// value: `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
    /// `PGSSLMODE`, `PGPASSFILE`, `HOME`, ...) instead of the process's.
    pub fn parse_with_env(text: &str, env: &HashMap<String, String>) -> Result<Endpoint, DbError> {
        let resolved = settings::resolve(text, env, os_user()).map_err(|e| DbError::Invalid(one_line(&e)))?;
        Ok(Endpoint {
            config: resolved.config,
            targets: resolved.targets,
            ssl: resolved.ssl,
            passfile: resolved.passfile,
        })
    }

    /// An endpoint from a tokio-postgres configuration, taken as it is (no
    /// environment, no password file); its sslmode is disable, prefer or
    /// require, and TLS files are looked for under `~/.postgresql` as libpq does.
    pub fn from_config(mut config: Config) -> Endpoint {
        if config.get_application_name().is_none() {
            config.application_name("converge");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let ports = config.get_ports();
        let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let addrs = config.get_hostaddrs();
        let mut targets: Vec<Target> = config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| Target {
                host: host.clone(),
                hostaddr: addrs.get(i).copied(),
                port: port(i),
                password: None,
            })
            .collect();
        if targets.is_empty() {
            targets = addrs
                .iter()
                .enumerate()
                .map(|(i, addr)| Target {
                    host: Host::Tcp(addr.to_string()),
                    hostaddr: Some(*addr),
                    port: port(i),
                    password: None,
                })
                .collect();
        }
        if targets.is_empty() {
            targets.push(Target {
                host: settings::default_host(),
                hostaddr: None,
                port: port(0),
                password: None,
            });
        }
        let mode = match config.get_ssl_mode() {
            tokio_postgres::config::SslMode::Disable => SslMode::Disable,
            tokio_postgres::config::SslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        };
        let home: HashMap<String, String> = std::env::var("HOME")
            .map(|h| ("HOME".to_string(), h))
            .into_iter()
            .collect();
        let ssl = SslSettings::defaults(mode, &settings::home(&home));
        Endpoint {
            config,
            targets,
            ssl,
            passfile: None,
        }
    }

    /// The same server, another database.
    /// Whether this endpoint names one server only (one host and port): every
    /// connection made from it then reaches the same server.
    pub fn is_single_server(&self) -> bool {
        self.targets.len() == 1
    }

    pub fn with_dbname(&self, dbname: &str) -> Endpoint {
        let mut endpoint = self.clone();
        endpoint.config.dbname(dbname);
        if endpoint.passfile.is_some() {
            let user = endpoint.user();
            settings::fill_passwords(&mut endpoint.targets, endpoint.passfile.as_deref(), dbname, &user);
        }
        endpoint
    }

    pub fn dbname(&self) -> String {
        self.config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("postgres")
            .to_string()
    }

    pub fn user(&self) -> String {
        self.config.get_user().unwrap_or("postgres").to_string()
    }

    /// The servers tried, in order (one unless the string lists several).
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    pub fn ssl(&self) -> &SslSettings {
        &self.ssl
    }

    /// The settings handed to tokio-postgres (user, database, options,
    /// application name, timeouts, hosts). Its password is one given in the
    /// string or `PGPASSWORD`, not one from the password file.
    pub fn postgres_config(&self) -> &Config {
        &self.config
    }

    /// The environment that points a libpq client (pg_dump, psql) at the
    /// first server of this endpoint, password included: handed to a child
    /// process's environment, never to its command line.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        if let Some(target) = self.targets.first() {
            let host = match (&target.host, target.hostaddr) {
                (Host::Unix(p), _) => p.display().to_string(),
                (Host::Tcp(h), _) => h.clone(),
            };
            env.push(("PGHOST", host));
            if let Some(addr) = target.hostaddr {
                env.push(("PGHOSTADDR", addr.to_string()));
            }
            env.push(("PGPORT", target.port.to_string()));
            let password = self
                .config
                .get_password()
                .map(<[u8]>::to_vec)
                .or_else(|| target.password.as_ref().map(|s| s.0.clone()));
            if let Some(password) = password {
                env.push(("PGPASSWORD", String::from_utf8_lossy(&password).into_owned()));
            }
        }
        env.push(("PGUSER", self.user()));
        env.push(("PGDATABASE", self.dbname()));
        env.push(("PGSSLMODE", self.ssl.mode.as_str().to_string()));
        match &self.ssl.root_cert {
            settings::RootCert::File(path) => env.push(("PGSSLROOTCERT", path.display().to_string())),
            settings::RootCert::System => env.push(("PGSSLROOTCERT", "system".to_string())),
        }
        env.push(("PGSSLCERT", self.ssl.cert.display().to_string()));
        env.push(("PGSSLKEY", self.ssl.key.display().to_string()));
        env.push(("PGAPPNAME", "converge".to_string()));
        env
    }

    /// Whether a password will be sent: given, or found in the password file.
    pub fn has_password(&self) -> bool {
        self.config.get_password().is_some() || self.targets.iter().any(|t| t.password.is_some())
    }

    /// Connects to the first target that accepts, with TLS as the sslmode says.
    pub async fn connect(&self) -> Result<Client, DbError> {
        let mut order: Vec<&Target> = self.targets.iter().collect();
        if self.config.get_load_balance_hosts() == LoadBalanceHosts::Random {
            shuffle(&mut order);
        }
        let mut tls: Option<Result<tls::Tls, String>> = None;
        let mut failures = Vec::new();
        for target in order {
            match self.connect_target(target, &mut tls).await {
                Ok(client) => return Ok(client),
                Err(message) if self.targets.len() > 1 => failures.push(format!("{}: {message}", target.show())),
                Err(message) => failures.push(message),
            }
        }
        Err(DbError::Connect {
            endpoint: self.to_string(),
            message: self.scrub(&one_line(&failures.join("; "))),
        })
    }

    async fn connect_target(
        &self,
        target: &Target,
        tls: &mut Option<Result<tls::Tls, String>>,
    ) -> Result<Client, String> {
        // libpq never uses TLS on a Unix socket.
        if matches!(target.host, Host::Unix(_)) || self.ssl.mode == SslMode::Disable {
            return self
                .attempt(target, tokio_postgres::config::SslMode::Disable, NoTls)
                .await
                .map_err(|e| error_message(&e));
        }
        // The TLS configuration is made (its files read) once per connect.
        let mut tls_config = || tls.get_or_insert_with(|| tls::Tls::new(&self.ssl)).clone();
        use tokio_postgres::config::SslMode as Mode;
        match self.ssl.mode {
            SslMode::Allow => match self.attempt(target, Mode::Disable, NoTls).await {
                Ok(client) => Ok(client),
                // The server turned the plain connection down: try TLS.
                Err(plain) if plain.as_db_error().is_some() => {
                    let then = |with_tls: String| format!("{}; then with TLS: {with_tls}", error_message(&plain));
                    let tls = tls_config().map_err(then)?;
                    let started = Arc::new(AtomicBool::new(false));
                    self.attempt(target, Mode::Require, tls.connector(started))
                        .await
                        .map_err(|e| then(error_message(&e)))
                }
                Err(plain) => Err(error_message(&plain)),
            },
            SslMode::Prefer => {
                let without_tls = |with_tls: String| async move {
                    self.attempt(target, Mode::Disable, NoTls)
                        .await
                        .map_err(|e| format!("{with_tls}; then without TLS: {}", error_message(&e)))
                };
                let tls = match tls_config() {
                    Ok(tls) => tls,
                    // Like a failed handshake: libpq goes on without TLS.
                    Err(message) => return without_tls(message).await,
                };
                let started = Arc::new(AtomicBool::new(false));
                match self.attempt(target, Mode::Prefer, tls.connector(started.clone())).await {
                    Ok(client) => Ok(client),
                    // TLS was agreed but failed (handshake or authentication): try without.
                    Err(with_tls) if started.load(Ordering::SeqCst) => without_tls(error_message(&with_tls)).await,
                    Err(e) => Err(error_message(&e)),
                }
            }
            // (disable was handled above)
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull | SslMode::Disable => {
                let tls = tls_config()?;
                let started = Arc::new(AtomicBool::new(false));
                self.attempt(target, Mode::Require, tls.connector(started))
                    .await
                    .map_err(|e| error_message(&e))
            }
        }
    }

    /// One connection attempt to one target.
    async fn attempt<T>(
        &self,
        target: &Target,
        mode: tokio_postgres::config::SslMode,
        tls: T,
    ) -> Result<Client, tokio_postgres::Error>
    where
        T: MakeTlsConnect<Socket> + 'static,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as tokio_postgres::tls::TlsConnect<Socket>>::Future: Send,
    {
        let config = self.target_config(target, mode);
        let (client, connection) = config.connect(tls).await?;
        tokio::spawn(async move {
            // The connection ends when the client is dropped; an error here is
            // reported by the next query on the client.
            let _ = connection.await;
        });
        Ok(client)
    }

    /// The configuration for one target: the common settings, its host, and
    /// its password.
    fn target_config(&self, target: &Target, mode: tokio_postgres::config::SslMode) -> Config {
        let c = &self.config;
        let mut config = Config::new();
        if let Some(user) = c.get_user() {
            config.user(user);
        }
        if let Some(password) = c.get_password() {
            config.password(password);
        } else if let Some(password) = &target.password {
            config.password(&password.0);
        }
        if let Some(dbname) = c.get_dbname() {
            config.dbname(dbname);
        }
        if let Some(options) = c.get_options() {
            config.options(options);
        }
        if let Some(name) = c.get_application_name() {
            config.application_name(name);
        }
        if let Some(timeout) = c.get_connect_timeout() {
            config.connect_timeout(*timeout);
        }
        if let Some(timeout) = c.get_tcp_user_timeout() {
            config.tcp_user_timeout(*timeout);
        }
        config.keepalives(c.get_keepalives());
        config.keepalives_idle(c.get_keepalives_idle());
        if let Some(interval) = c.get_keepalives_interval() {
            config.keepalives_interval(interval);
        }
        if let Some(retries) = c.get_keepalives_retries() {
            config.keepalives_retries(retries);
        }
        config.target_session_attrs(c.get_target_session_attrs());
        config.channel_binding(c.get_channel_binding());
        config.ssl_negotiation(c.get_ssl_negotiation());
        match &target.host {
            Host::Tcp(h) => config.host(h),
            Host::Unix(p) => config.host_path(p),
        };
        if let Some(addr) = target.hostaddr {
            config.hostaddr(addr);
        }
        config.port(target.port);
        config.ssl_mode(mode);
        config
    }

    /// A message with every password this endpoint knows masked.
    fn scrub(&self, message: &str) -> String {
        let mut message = message.to_string();
        let passwords = self.config.get_password().into_iter().chain(
            self.targets
                .iter()
                .filter_map(|t| t.password.as_ref().map(|p| p.0.as_slice())),
        );
        for password in passwords {
            if let Ok(password) = std::str::from_utf8(password)
                && password.len() >= 3
            {
                message = message.replace(password, "********");
            }
        }
        message
    }
}

/// `postgres://user@host:port/db`, never with the password.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.config.get_user().unwrap_or("");
        let hosts: Vec<String> = self.targets.iter().map(Target::show).collect();
        let hosts = if hosts.is_empty() {
            "localhost".to_string()
        } else {
            hosts.join(",")
        };
        write!(f, "postgres://{user}@{hosts}/{}", self.dbname())
    }
}

/// A tokio-postgres error as one line: the server's message when there is one.
pub fn error_message(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return one_line(db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let message = s.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = s.source();
    }
    one_line(&text)
}

/// Wraps a query error with what converge was doing.
pub fn query_error(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> DbError {
    let context = context.into();
    move |e| DbError::Query {
        context,
        message: error_message(&e),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn os_user() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// load_balance_hosts=random: a shuffle that needs no random-number crate.
fn shuffle<T>(items: &mut [T]) {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ ((std::process::id() as u64) << 32)
        | 1;
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

#[cfg(test)]
mod tests;
