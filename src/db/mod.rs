//! Connections: where a database is, how to show it without its password, and
//! connecting to it.
//!
//! Every connection converge opens goes through `Endpoint::connect`, so every
//! connection error reads the same way and none prints a password.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

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
    config: Config,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({self})")
    }
}

impl Endpoint {
    /// Parses a `postgres://` URL or a `key=value` connection string.
    pub fn parse(text: &str) -> Result<Endpoint, DbError> {
        let mut config = Config::from_str(text).map_err(|e| DbError::Invalid(one_line(&e.to_string())))?;
        if config.get_user().is_none() {
            let user = std::env::var("PGUSER")
                .ok()
                .or_else(os_user)
                .unwrap_or_else(|| "postgres".into());
            config.user(&user);
        }
        if config.get_password().is_none() {
            if let Ok(password) = std::env::var("PGPASSWORD") {
                config.password(password);
            }
        }
        if config.get_hosts().is_empty() {
            config.host_path("/var/run/postgresql");
        }
        Ok(Endpoint::from_config(config))
    }

    pub fn from_config(mut config: Config) -> Endpoint {
        if config.get_application_name().is_none() {
            config.application_name("converge");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        Endpoint { config }
    }

    /// The same server, another database.
    pub fn with_dbname(&self, dbname: &str) -> Endpoint {
        let mut config = self.config.clone();
        config.dbname(dbname);
        Endpoint { config }
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

    pub async fn connect(&self) -> Result<Client, DbError> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(|e| DbError::Connect {
            endpoint: self.to_string(),
            message: error_message(&e),
        })?;
        tokio::spawn(async move {
            // The connection ends when the client is dropped; an error here is
            // reported by the next query on the client.
            let _ = connection.await;
        });
        Ok(client)
    }
}

/// `postgres://user@host:port/db`, never with the password.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.config.get_user().unwrap_or("");
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => format!("{h}:{port}"),
            Some(Host::Unix(p)) => format!("[{}]:{port}", p.display()),
            None => String::from("localhost"),
        };
        write!(f, "postgres://{user}@{host}/{}", self.dbname())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_never_shows_the_password() {
        let e = Endpoint::parse("postgres://alice:s3cret@db.example.com:6543/app").unwrap();
        assert_eq!(e.to_string(), "postgres://alice@db.example.com:6543/app");
        let e = Endpoint::parse("host=/tmp/x user=bob password=hunter2 dbname=d").unwrap();
        assert!(!e.to_string().contains("hunter2"));
        assert_eq!(e.to_string(), "postgres://bob@[/tmp/x]:5432/d");
    }

    #[test]
    fn invalid_strings_are_errors_not_panics() {
        assert!(Endpoint::parse("postgres://[::1").is_err());
        assert!(Endpoint::parse("nonsense = = =").is_err());
    }
}
