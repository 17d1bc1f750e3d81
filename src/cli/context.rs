//! Where the databases of one command come from, and cleaning up after it.
//!
//! The target is `--url`, else `DATABASE_URL`, else the project's local
//! development database on the embedded server under `.converge/`. Shadow
//! databases go to `--dev-url`, else to the embedded server. The embedded
//! server is started at most once per command and stopped when it ends.

use crate::cluster::{Cluster, ClusterOptions};
use crate::db::{DbError, Endpoint, query_error};
use crate::shadow::{Janitor, ShadowError};
use std::path::PathBuf;
use std::sync::Mutex;

/// The name of the local development database on the embedded server.
pub const DEV_DATABASE: &str = "development";

pub struct Context {
    janitor: Janitor,
    cluster: Mutex<Option<Cluster>>,
    /// `.converge/` in the working directory.
    home: PathBuf,
    /// `converge.toml` (or its defaults).
    pub config: crate::config::Config,
    /// `--env`.
    pub env: Option<String>,
}

impl Context {
    pub fn new(config: crate::config::Config, env: Option<String>) -> Context {
        Context {
            janitor: Janitor::default(),
            cluster: Mutex::new(None),
            home: PathBuf::from(".converge"),
            config,
            env,
        }
    }

    pub fn janitor(&self) -> &Janitor {
        &self.janitor
    }

    /// The database to change: `url` (from `--url` or the environment),
    /// else `DATABASE_URL`, else the local development database.
    pub async fn target(&self, url: Option<&str>) -> Result<Endpoint, String> {
        if let Some(url) = url {
            return Endpoint::parse(url).map_err(|e| format!("target URL: {e}"));
        }
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.trim().is_empty()
        {
            return Endpoint::parse(&url).map_err(|e| format!("DATABASE_URL: {e}"));
        }
        let server = self.embedded().await?;
        ensure_database(&server, DEV_DATABASE)
            .await
            .map_err(|e| e.to_string())?;
        Ok(server.with_dbname(DEV_DATABASE))
    }

    /// A server for shadow databases.
    pub async fn shadow_server(&self, dev_url: Option<&str>) -> Result<Endpoint, String> {
        match dev_url {
            Some(url) => Endpoint::parse(url).map_err(|e| format!("--dev-url: {e}")),
            None => self.embedded().await,
        }
    }

    /// Where shadow databases go: `dev_url`, else the embedded server,
    /// started only when a shadow database is needed (a plan from the
    /// desired-catalog cache needs none).
    pub fn shadow(&self, dev_url: Option<&str>) -> Result<Shadow<'_>, String> {
        Ok(match dev_url {
            Some(url) => Shadow::Url(Endpoint::parse(url).map_err(|e| format!("--dev-url: {e}"))?),
            None => Shadow::Embedded(self),
        })
    }

    /// The embedded server's maintenance database, starting the server on
    /// first use.
    async fn embedded(&self) -> Result<Endpoint, String> {
        let mut slot = self
            .cluster
            .lock()
            .map_err(|_| "internal error: cluster lock poisoned".to_string())?;
        if slot.is_none() {
            let options = ClusterOptions {
                data_dir: self.home.join("pgdata"),
                throwaway: false,
            };
            let cluster = tokio::task::block_in_place(|| Cluster::start(&options))
                .map_err(|e| format!("cannot start converge's local PostgreSQL server: {e}"))?;
            *slot = Some(cluster);
        }
        let cluster = slot.as_ref().ok_or("internal error: no cluster")?;
        Ok(Endpoint::from_config(cluster.config("postgres")))
    }

    /// The embedded server's version and superuser, known without starting
    /// it: the version is its binary's.
    fn embedded_identity(&self) -> Result<(i32, String), String> {
        if let Ok(slot) = self.cluster.lock()
            && slot.is_some()
        {
            // Running already: asking it is as cheap and cannot disagree.
            return Err(String::new());
        }
        let bin = crate::cluster::find_bin_dir()?;
        Ok((
            crate::cluster::server_version_num(&bin)?,
            crate::cluster::SUPERUSER.to_string(),
        ))
    }

    /// Drops leftover shadow databases, then stops the embedded server.
    pub async fn shutdown(&self) {
        self.janitor.cleanup().await;
        let cluster = self.cluster.lock().ok().and_then(|mut c| c.take());
        if let Some(cluster) = cluster {
            tokio::task::block_in_place(|| drop(cluster));
        }
    }
}

/// Creates `name` on `server` if it does not exist.
pub async fn ensure_database(server: &Endpoint, name: &str) -> Result<(), DbError> {
    let client = server.connect().await?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", &[&name])
        .await
        .map_err(query_error("cannot list databases"))?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                crate::sql::ident(name)
            ))
            .await
            .map_err(query_error(format!("cannot create the database {name}")))?;
    }
    Ok(())
}

/// The server for shadow databases of one command.
pub enum Shadow<'a> {
    /// `--dev-url`.
    Url(Endpoint),
    /// The embedded server, started on first use.
    Embedded(&'a Context),
}

impl crate::pipeline::ShadowServer for Shadow<'_> {
    async fn identity(&self) -> Result<(i32, String), ShadowError> {
        match self {
            Shadow::Url(endpoint) => endpoint.identity().await,
            Shadow::Embedded(context) => match context.embedded_identity() {
                Ok(identity) => Ok(identity),
                Err(_) => self.endpoint().await?.identity().await,
            },
        }
    }

    async fn endpoint(&self) -> Result<Endpoint, ShadowError> {
        match self {
            Shadow::Url(endpoint) => Ok(endpoint.clone()),
            Shadow::Embedded(context) => context.embedded().await.map_err(ShadowError::Server),
        }
    }

    fn owned_by_converge(&self) -> bool {
        matches!(self, Shadow::Embedded(_))
    }
}
