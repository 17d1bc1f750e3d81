//! What a connection string means once libpq's defaults are filled in: the
//! `PG*` environment variables where the string says nothing, then the
//! built-in defaults (the OS user, the user's name as database, the
//! `/var/run/postgresql` socket directory, port 5432, sslmode=prefer), and
//! the password file when no password is given.

use super::conninfo::{self, Params};
use super::pgpass;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_postgres::Config;
use tokio_postgres::config::{ChannelBinding, Host, LoadBalanceHosts, SslNegotiation, TargetSessionAttrs};

/// libpq's sslmode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// Without TLS first; with TLS if the server refuses that.
    Allow,
    /// With TLS when the server offers it, else without (the default).
    Prefer,
    /// TLS; the certificate is checked only if a root certificate is there.
    Require,
    /// TLS; the certificate chain must lead to the root certificate.
    VerifyCa,
    /// TLS; the chain and the host name are checked.
    VerifyFull,
}

impl SslMode {
    pub fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// The nearest mode tokio-postgres has.
    pub(crate) fn to_tokio(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as T;
        match self {
            SslMode::Disable => T::Disable,
            SslMode::Allow | SslMode::Prefer => T::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => T::Require,
        }
    }
}

/// sslrootcert: a file of PEM certificates, or the system's trusted roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    File(PathBuf),
    System,
}

/// sslcertmode: whether a client certificate is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertMode {
    Disable,
    Allow,
    Require,
}

/// The TLS settings of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslSettings {
    pub mode: SslMode,
    /// Default `~/.postgresql/root.crt`; when that file is missing, the modes
    /// below verify-ca do not verify the server's certificate.
    pub root_cert: RootCert,
    /// The client certificate (default `~/.postgresql/postgresql.crt`), sent
    /// when the file exists.
    pub cert: PathBuf,
    /// Its key (default `~/.postgresql/postgresql.key`).
    pub key: PathBuf,
    pub cert_mode: CertMode,
    /// Send the host name (SNI) in the handshake (sslsni, default on).
    pub sni: bool,
    /// The TLS versions allowed by ssl_min/max_protocol_version (rustls has
    /// 1.2 and 1.3; libpq's default minimum is 1.2).
    pub tls12: bool,
    pub tls13: bool,
}

impl SslSettings {
    /// libpq's defaults for `mode`, with the files under `home/.postgresql`.
    pub fn defaults(mode: SslMode, home: &Path) -> SslSettings {
        let dir = home.join(".postgresql");
        SslSettings {
            mode,
            root_cert: RootCert::File(dir.join("root.crt")),
            cert: dir.join("postgresql.crt"),
            key: dir.join("postgresql.key"),
            cert_mode: CertMode::Allow,
            sni: true,
            tls12: true,
            tls13: true,
        }
    }
}

/// A password that never shows in Debug output.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("********")
    }
}

/// One server to try: libpq tries the hosts of a list in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host name (for TLS and the password file), the socket directory,
    /// or the address when only `hostaddr` was given.
    pub host: Host,
    /// The address to connect to instead of looking the name up.
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
    /// From the password file, when no password was given.
    pub(crate) password: Option<Secret>,
}

impl Target {
    /// The host as the password file names it.
    pub(crate) fn pgpass_host(&self) -> String {
        match &self.host {
            Host::Tcp(h) => h.clone(),
            Host::Unix(p) => p.display().to_string(),
        }
    }

    /// `host:port` for messages.
    pub(crate) fn show(&self) -> String {
        let host = match &self.host {
            Host::Tcp(h) if h.contains(':') => format!("[{h}]"),
            Host::Tcp(h) => h.clone(),
            Host::Unix(p) => format!("[{}]", p.display()),
        };
        format!("{host}:{}", self.port)
    }
}

/// A parsed endpoint's parts.
pub(crate) struct Resolved {
    pub config: Config,
    pub targets: Vec<Target>,
    pub ssl: SslSettings,
    pub passfile: Option<PathBuf>,
}

/// The environment variable that gives each keyword's default.
fn env_var(keyword: &str) -> Option<&'static str> {
    Some(match keyword {
        "host" => "PGHOST",
        "hostaddr" => "PGHOSTADDR",
        "port" => "PGPORT",
        "dbname" => "PGDATABASE",
        "user" => "PGUSER",
        "password" => "PGPASSWORD",
        "passfile" => "PGPASSFILE",
        "options" => "PGOPTIONS",
        "application_name" => "PGAPPNAME",
        "connect_timeout" => "PGCONNECT_TIMEOUT",
        "client_encoding" => "PGCLIENTENCODING",
        "sslmode" => "PGSSLMODE",
        "sslrootcert" => "PGSSLROOTCERT",
        "sslcert" => "PGSSLCERT",
        "sslkey" => "PGSSLKEY",
        "sslsni" => "PGSSLSNI",
        "sslcertmode" => "PGSSLCERTMODE",
        "sslcompression" => "PGSSLCOMPRESSION",
        "sslnegotiation" => "PGSSLNEGOTIATION",
        "ssl_min_protocol_version" => "PGSSLMINPROTOCOLVERSION",
        "ssl_max_protocol_version" => "PGSSLMAXPROTOCOLVERSION",
        "channel_binding" => "PGCHANNELBINDING",
        "target_session_attrs" => "PGTARGETSESSIONATTRS",
        "load_balance_hosts" => "PGLOADBALANCEHOSTS",
        "gssencmode" => "PGGSSENCMODE",
        _ => return None,
    })
}

/// The names of the environment variables that `resolve` reads.
pub(crate) fn env_names() -> impl Iterator<Item = &'static str> {
    conninfo::KEYWORDS.iter().filter_map(|k| env_var(k)).chain(["HOME"])
}

struct Values<'a> {
    given: HashMap<String, String>,
    env: &'a HashMap<String, String>,
}

impl Values<'_> {
    /// The string's value, else the environment's; an empty value (given or
    /// not) means the default, and a value given in the string, even an
    /// empty one, hides the environment's (as in libpq).
    fn get(&self, keyword: &str) -> Option<&str> {
        let value = match self.given.get(keyword) {
            Some(v) => Some(v.as_str()),
            None => env_var(keyword).and_then(|var| self.env.get(var)).map(String::as_str),
        };
        value.filter(|v| !v.is_empty())
    }

    fn int(&self, keyword: &str) -> Result<Option<i64>, String> {
        match self.get(keyword) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("invalid integer value \"{v}\" for connection option \"{keyword}\"")),
        }
    }

    fn choice<T: Copy>(&self, keyword: &str, choices: &[(&str, T)]) -> Result<Option<T>, String> {
        match self.get(keyword) {
            None => Ok(None),
            Some(v) => choices
                .iter()
                .find(|(name, _)| *name == v)
                .map(|(_, value)| Some(*value))
                .ok_or_else(|| format!("invalid {keyword} value: \"{v}\"")),
        }
    }
}

/// The home directory: `HOME`, else the user's entry in the password database.
pub(crate) fn home(env: &HashMap<String, String>) -> PathBuf {
    if let Some(home) = env.get("HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.dir)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The host when none is given: the server's socket directory when it
/// exists, else localhost over TCP.
pub(crate) fn default_host() -> Host {
    if Path::new(pgpass::DEFAULT_SOCKET_DIR).is_dir() {
        Host::Unix(PathBuf::from(pgpass::DEFAULT_SOCKET_DIR))
    } else {
        Host::Tcp("localhost".into())
    }
}

/// Resolves a connection string against an environment.
pub(crate) fn resolve(text: &str, env: &HashMap<String, String>, os_user: Option<String>) -> Result<Resolved, String> {
    let params: Params = conninfo::parse(text)?;
    let values = Values {
        given: params.into_iter().collect(),
        env,
    };
    let home = home(env);

    if let Some(encoding) = values.get("client_encoding")
        && !matches!(
            encoding.to_ascii_lowercase().as_str(),
            "utf8" | "utf-8" | "unicode" | "auto"
        )
    {
        return Err(format!(
            "client_encoding \"{encoding}\" is not supported: converge always uses UTF8"
        ));
    }
    if values.get("gssencmode") == Some("require") {
        return Err("gssencmode=require: converge does not support GSSAPI encryption".into());
    }
    values.choice("gssencmode", &[("disable", ()), ("prefer", ()), ("require", ())])?;
    values.choice("sslcompression", &[("0", ()), ("1", ())])?;

    let targets = targets(&values)?;
    let user = values
        .get("user")
        .map(str::to_string)
        .or(os_user)
        .unwrap_or_else(|| "postgres".into());
    let dbname = values.get("dbname").map(str::to_string).unwrap_or_else(|| user.clone());

    let mut config = Config::new();
    config.user(&user).dbname(&dbname);
    if let Some(options) = values.get("options") {
        config.options(options);
    }
    let application_name = values
        .get("application_name")
        .or_else(|| values.get("fallback_application_name"))
        .unwrap_or("converge");
    config.application_name(application_name);
    // libpq: zero or less waits forever, and 1 means 2; converge's default is 10.
    match values.int("connect_timeout")? {
        None => {
            config.connect_timeout(Duration::from_secs(10));
        }
        Some(n) if n <= 0 => {}
        Some(n) => {
            config.connect_timeout(Duration::from_secs(n.max(2) as u64));
        }
    }
    if let Some(n) = values.int("tcp_user_timeout")?
        && n > 0
    {
        // libpq's value is in milliseconds.
        config.tcp_user_timeout(Duration::from_millis(n as u64));
    }
    if let Some(n) = values.int("keepalives")? {
        config.keepalives(n != 0);
    }
    if let Some(n) = values.int("keepalives_idle")?
        && n > 0
    {
        config.keepalives_idle(Duration::from_secs(n as u64));
    }
    if let Some(n) = values.int("keepalives_interval")?
        && n > 0
    {
        config.keepalives_interval(Duration::from_secs(n as u64));
    }
    if let Some(n) = values.int("keepalives_count")?
        && n > 0
    {
        config.keepalives_retries(n as u32);
    }
    match values.get("target_session_attrs") {
        None | Some("any") => {}
        Some("read-write") => {
            config.target_session_attrs(TargetSessionAttrs::ReadWrite);
        }
        Some("read-only") => {
            config.target_session_attrs(TargetSessionAttrs::ReadOnly);
        }
        Some(v @ ("primary" | "standby" | "prefer-standby")) => {
            return Err(format!("target_session_attrs \"{v}\" is not supported by converge"));
        }
        Some(v) => return Err(format!("invalid target_session_attrs value: \"{v}\"")),
    }
    if let Some(binding) = values.choice(
        "channel_binding",
        &[
            ("disable", ChannelBinding::Disable),
            ("prefer", ChannelBinding::Prefer),
            ("require", ChannelBinding::Require),
        ],
    )? {
        config.channel_binding(binding);
    }
    if let Some(balance) = values.choice(
        "load_balance_hosts",
        &[
            ("disable", LoadBalanceHosts::Disable),
            ("random", LoadBalanceHosts::Random),
        ],
    )? {
        config.load_balance_hosts(balance);
    }

    let ssl = ssl_settings(&values, &home)?;
    if let Some(negotiation) = values.choice(
        "sslnegotiation",
        &[
            ("postgres", SslNegotiation::Postgres),
            ("direct", SslNegotiation::Direct),
        ],
    )? {
        if negotiation == SslNegotiation::Direct
            && matches!(ssl.mode, SslMode::Disable | SslMode::Allow | SslMode::Prefer)
        {
            return Err(format!(
                "weak sslmode \"{}\" may not be used with sslnegotiation=direct (use \"require\", \"verify-ca\", \
                 or \"verify-full\")",
                ssl.mode.as_str()
            ));
        }
        config.ssl_negotiation(negotiation);
    }
    config.ssl_mode(ssl.mode.to_tokio());
    set_hosts(&mut config, &targets);

    let mut passfile = None;
    match values.get("password") {
        Some(password) => {
            config.password(password);
        }
        None => {
            let file = values
                .get("passfile")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".pgpass"));
            passfile = Some(file);
        }
    }
    let mut resolved = Resolved {
        config,
        targets,
        ssl,
        passfile,
    };
    fill_passwords(&mut resolved.targets, resolved.passfile.as_deref(), &dbname, &user);
    Ok(resolved)
}

/// Looks each target's password up in the password file.
pub(crate) fn fill_passwords(targets: &mut [Target], passfile: Option<&Path>, dbname: &str, user: &str) {
    for target in targets {
        target.password = passfile
            .and_then(|file| pgpass::lookup(file, &target.pgpass_host(), target.port, dbname, user))
            .map(|p| Secret(p.into_bytes()));
    }
}

/// The hosts of the targets into the config (for `Endpoint::postgres_config`).
pub(crate) fn set_hosts(config: &mut Config, targets: &[Target]) {
    for target in targets {
        match &target.host {
            Host::Tcp(h) => config.host(h),
            Host::Unix(p) => config.host_path(p),
        };
        config.port(target.port);
    }
    if targets.iter().all(|t| t.hostaddr.is_some()) {
        for target in targets {
            if let Some(addr) = target.hostaddr {
                config.hostaddr(addr);
            }
        }
    }
}

/// host, hostaddr and port, as lists of the same length (or one port).
fn targets(values: &Values) -> Result<Vec<Target>, String> {
    let hosts: Vec<&str> = values.get("host").map(|h| h.split(',').collect()).unwrap_or_default();
    let addrs: Vec<&str> = values
        .get("hostaddr")
        .map(|h| h.split(',').collect())
        .unwrap_or_default();
    let count = if !hosts.is_empty() {
        hosts.len()
    } else {
        addrs.len().max(1)
    };
    if !addrs.is_empty() && addrs.len() != count {
        return Err(format!(
            "could not match {} host names to {} hostaddr values",
            count,
            addrs.len()
        ));
    }
    let ports: Vec<&str> = values.get("port").map(|p| p.split(',').collect()).unwrap_or(vec![""]);
    if ports.len() != 1 && ports.len() != count {
        return Err(format!(
            "could not match {} port numbers to {} hosts",
            ports.len(),
            count
        ));
    }
    (0..count)
        .map(|i| {
            let hostaddr = match addrs.get(i).map(|a| a.trim()).filter(|a| !a.is_empty()) {
                Some(a) => Some(
                    a.parse::<IpAddr>()
                        .map_err(|_| format!("could not parse network address \"{a}\""))?,
                ),
                None => None,
            };
            let host = match hosts.get(i).map(|h| h.trim()).filter(|h| !h.is_empty()) {
                Some(h) if h.starts_with('/') => Host::Unix(PathBuf::from(h)),
                Some(h) => Host::Tcp(h.to_string()),
                None => match hostaddr {
                    Some(addr) => Host::Tcp(addr.to_string()),
                    None => default_host(),
                },
            };
            let port_text = ports.get(i).or(ports.first()).copied().unwrap_or("").trim();
            let port = if port_text.is_empty() {
                5432
            } else {
                port_text
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("invalid port number: \"{port_text}\""))?
            };
            Ok(Target {
                host,
                hostaddr,
                port,
                password: None,
            })
        })
        .collect()
}

fn ssl_settings(values: &Values, home: &Path) -> Result<SslSettings, String> {
    let mut ssl = SslSettings::defaults(SslMode::Prefer, home);
    if let Some(root) = values.get("sslrootcert") {
        ssl.root_cert = if root == "system" {
            RootCert::System
        } else {
            RootCert::File(PathBuf::from(root))
        };
    }
    ssl.mode = match values.get("sslmode") {
        Some(mode) => SslMode::parse(mode).ok_or_else(|| format!("invalid sslmode value: \"{mode}\""))?,
        // libpq 16: the system's roots make verify-full the default.
        None if ssl.root_cert == RootCert::System => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    if ssl.root_cert == RootCert::System && ssl.mode != SslMode::VerifyFull {
        return Err(format!(
            "weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\")",
            ssl.mode.as_str()
        ));
    }
    if let Some(cert) = values.get("sslcert") {
        ssl.cert = PathBuf::from(cert);
    }
    if let Some(key) = values.get("sslkey") {
        ssl.key = PathBuf::from(key);
    }
    if let Some(mode) = values.choice(
        "sslcertmode",
        &[
            ("disable", CertMode::Disable),
            ("allow", CertMode::Allow),
            ("require", CertMode::Require),
        ],
    )? {
        ssl.cert_mode = mode;
    }
    if let Some(sni) = values.choice("sslsni", &[("0", false), ("1", true)])? {
        ssl.sni = sni;
    }
    let versions = [("TLSv1", 10), ("TLSv1.1", 11), ("TLSv1.2", 12), ("TLSv1.3", 13)];
    let min = values.choice("ssl_min_protocol_version", &versions)?.unwrap_or(12);
    let max = values.choice("ssl_max_protocol_version", &versions)?.unwrap_or(13);
    if min > max {
        return Err("invalid SSL protocol version range".into());
    }
    ssl.tls12 = min <= 12 && 12 <= max;
    ssl.tls13 = min <= 13 && 13 <= max;
    if !ssl.tls12 && !ssl.tls13 {
        return Err("ssl_max_protocol_version is below TLSv1.2, which converge does not support".into());
    }
    Ok(ssl)
}
