//! The shadow database: a temporary database the desired statements are loaded
//! into, so PostgreSQL itself validates and normalizes them before they are
//! read back with the same introspection as the target.
//!
//! Every shadow database is registered with a `Janitor` the moment it is
//! created and dropped by it afterwards, whether the command succeeds, fails
//! or is interrupted.

use crate::catalog::Snapshot;
use crate::db::{DbError, Endpoint, error_message, query_error};
use crate::diagnostic::Diagnostic;
use crate::introspect::introspect_endpoint;
use crate::source::{Desired, Statement};
use std::sync::{Arc, Mutex};

mod incremental;
mod load;
mod reuse;

pub use reuse::{ENV_SHADOW_REUSE, KEPT_PREFIX, Kept, Obtained, Reread, set_reuse};

/// Why the desired state could not be read through a shadow database.
#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    #[error("cannot create a shadow database on {server}: {message}")]
    Create { server: String, message: String },
    #[error(transparent)]
    Db(#[from] DbError),
    /// The server for shadow databases could not be had (the embedded
    /// server did not start).
    #[error("{0}")]
    Server(String),
    /// PostgreSQL refused a desired statement.
    #[error("{}", .0.message)]
    Load(Box<Diagnostic>),
}

/// Databases to drop before converge exits.
#[derive(Clone, Default)]
pub struct Janitor {
    pending: Arc<Mutex<Vec<(Endpoint, String)>>>,
}

impl Janitor {
    fn register(&self, server: &Endpoint, name: &str) {
        if let Ok(mut p) = self.pending.lock() {
            p.push((server.clone(), name.to_string()));
        }
    }

    fn release(&self, name: &str) {
        if let Ok(mut p) = self.pending.lock() {
            p.retain(|(_, n)| n != name);
        }
    }

    /// Drops every database still registered. Errors are reported on stderr:
    /// they must not hide the command's own outcome.
    pub async fn cleanup(&self) {
        let pending: Vec<(Endpoint, String)> = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return,
        };
        for (server, name) in pending {
            if let Err(e) = drop_database(&server, &name).await {
                eprintln!("warning: could not drop the shadow database {name}: {e}");
            }
        }
    }
}

/// A temporary database on a server where converge may create databases.
pub struct Shadow {
    server: Endpoint,
    name: String,
}

impl Shadow {
    pub async fn create(server: &Endpoint, janitor: &Janitor) -> Result<Shadow, ShadowError> {
        let client = server.connect().await?;
        let name = format!("converge_shadow_{}_{}", std::process::id(), unique_suffix());
        janitor.register(server, &name);
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .await
            .map_err(|e| ShadowError::Create {
                server: server.to_string(),
                message: error_message(&e),
            })?;
        Ok(Shadow {
            server: server.clone(),
            name,
        })
    }

    pub fn endpoint(&self) -> Endpoint {
        self.server.with_dbname(&self.name)
    }

    /// Runs every desired statement in load order; the first one PostgreSQL
    /// refuses becomes a diagnostic at its file and line.
    pub async fn load(&self, desired: &Desired) -> Result<(), ShadowError> {
        let client = self.endpoint().connect().await?;
        load::prepare(&client).await?;
        let statements: Vec<&Statement> = desired.statements.iter().collect();
        load::run_statements(&client, desired, &statements).await
    }

    pub async fn drop(self, janitor: &Janitor) -> Result<(), DbError> {
        drop_database(&self.server, &self.name).await?;
        janitor.release(&self.name);
        Ok(())
    }
}

/// Loads the desired statements into a shadow database on `server` and
/// reads it back: the kept shadow database brought up to date when it can be
/// (`reuse`: on converge's `own_server` unless `CONVERGE_SHADOW_REUSE=off`,
/// elsewhere only with `CONVERGE_SHADOW_REUSE=on`), else a fresh database,
/// which is kept for next time or dropped before this returns.
///
/// `desired` may be given by value (see `ToLoad`).
pub async fn desired_snapshot(
    server: &Endpoint,
    desired: impl Into<ToLoad<'_>>,
    own_server: bool,
    janitor: &Janitor,
) -> Result<Snapshot, ShadowError> {
    let desired = desired.into();
    if let Some(kept) = reuse::Kept::from_env(server, own_server) {
        return Ok(kept.desired_snapshot(desired, janitor).await?.0);
    }
    fresh_snapshot(server, desired, janitor).await
}

/// The desired state a shadow is loaded with. Given by value (or shared, as
/// an `Arc` no one else holds by then), it is of use to the load only: its
/// statements' classifications are freed before the load
/// (`Desired::forget_classifications`; the caller takes what it needs of
/// them first) and the rest once loaded, before the database is read back,
/// so that a big desired state is not held beside the rows read (of the
/// shadow, and of the target read meanwhile).
pub enum ToLoad<'a> {
    Borrowed(&'a Desired),
    Given(Arc<Desired>),
}

impl<'a> From<&'a Desired> for ToLoad<'a> {
    fn from(desired: &'a Desired) -> Self {
        ToLoad::Borrowed(desired)
    }
}

impl From<Desired> for ToLoad<'_> {
    fn from(desired: Desired) -> Self {
        ToLoad::Given(Arc::new(desired))
    }
}

impl From<Arc<Desired>> for ToLoad<'_> {
    fn from(desired: Arc<Desired>) -> Self {
        ToLoad::Given(desired)
    }
}

impl ToLoad<'_> {
    pub fn get(&self) -> &Desired {
        match self {
            ToLoad::Borrowed(d) => d,
            ToLoad::Given(d) => d,
        }
    }

    /// Frees the classifications of a desired state given away (still
    /// shared, it is left whole).
    fn keep_texts_only(&mut self) {
        if let ToLoad::Given(d) = self
            && let Some(d) = Arc::get_mut(d)
        {
            d.forget_classifications();
        }
    }
}

/// Loads the desired statements into a fresh shadow database on `server`,
/// reads it back and drops it. A `desired` given by value goes once loaded
/// (see `ToLoad`).
pub async fn fresh_snapshot(
    server: &Endpoint,
    desired: impl Into<ToLoad<'_>>,
    janitor: &Janitor,
) -> Result<Snapshot, ShadowError> {
    let mut desired = desired.into();
    desired.keep_texts_only();
    let shadow = Shadow::create(server, janitor).await?;
    let result = async {
        shadow.load(desired.get()).await?;
        drop(desired);
        Ok::<_, ShadowError>(introspect_endpoint(&shadow.endpoint()).await?)
    }
    .await;
    shadow.drop(janitor).await?;
    result
}

async fn drop_database(server: &Endpoint, name: &str) -> Result<(), DbError> {
    let client = server.connect().await?;
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .map_err(query_error(format!("cannot drop the shadow database {name}")))
}

/// What makes a shadow database's name unique: the time, and a counter of
/// this process, as two threads can read the same clock value (the clock of
/// a virtual machine can be coarse); the process id is in the name beside it.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CREATED: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:x}_{}",
        nanos & 0xffff_ffff_ffff,
        CREATED.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::unique_suffix;
    use std::collections::HashSet;

    #[test]
    fn shadow_names_taken_at_once_on_several_threads_differ() {
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..2_000).map(|_| unique_suffix()).collect::<Vec<_>>()))
            .collect();
        let names: Vec<String> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let distinct: HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        // PostgreSQL truncates names at 63 bytes: the whole name must fit.
        let longest = names
            .iter()
            .map(|n| format!("converge_shadow_{}_{n}", u32::MAX).len())
            .max();
        assert!(longest.unwrap() <= 63, "{longest:?}");
    }
}
