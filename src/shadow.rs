//! The shadow database: a temporary database the desired statements are loaded
//! into, so PostgreSQL itself validates and normalizes them before they are
//! read back with the same introspection as the target.
//!
//! Every shadow database is registered with a `Janitor` the moment it is
//! created and dropped by it afterwards, whether the command succeeds, fails
//! or is interrupted.

use crate::catalog::Snapshot;
use crate::db::{DbError, Endpoint, error_message, query_error};
use crate::diagnostic::{Code, Diagnostic, Span, char_to_byte};
use crate::introspect::introspect_endpoint;
use crate::source::Desired;
use std::sync::{Arc, Mutex};

/// Why the desired state could not be read through a shadow database.
#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    #[error("cannot create a shadow database on {server}: {message}")]
    Create { server: String, message: String },
    #[error(transparent)]
    Db(#[from] DbError),
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
        client
            .batch_execute(
                "SET client_min_messages = warning; SET check_function_bodies = off; \
                 SET search_path = public",
            )
            .await
            .map_err(query_error("cannot prepare the shadow database"))?;
        for stmt in &desired.statements {
            let sql = desired.sql(stmt);
            if let Err(e) = client.batch_execute(sql).await {
                let Some(db) = e.as_db_error() else {
                    return Err(query_error("the shadow database failed")(e).into());
                };
                let file = &desired.sources.files[stmt.file];
                let mut span = desired.span(stmt);
                if db.position().is_none() {
                    // No position: point at the name the message is about
                    // (`relation "coupons" does not exist`), when the statement has it.
                    if let Some(at) = quoted_name(db.message()).and_then(|name| find_word(sql, name)) {
                        let start = stmt.start + at;
                        span = Span {
                            path: file.path.clone(),
                            start,
                            end: start + quoted_name(db.message()).map(str::len).unwrap_or(1),
                        };
                    }
                }
                if let Some(tokio_postgres::error::ErrorPosition::Original(pos)) = db.position() {
                    let at = stmt.start + char_to_byte(sql, (*pos as usize).saturating_sub(1));
                    let end = file.text[at..stmt.end]
                        .find(|c: char| c.is_whitespace() || matches!(c, ',' | ')' | '('))
                        .map(|i| at + i.max(1))
                        .unwrap_or(stmt.end);
                    span = Span {
                        path: file.path.clone(),
                        start: at,
                        end: end.max(at + 1).min(file.text.len()),
                    };
                }
                let mut d = Diagnostic::new(
                    Code::ShadowLoad,
                    format!("PostgreSQL rejects this statement: {}", db.message()),
                )
                .at(span, "rejected here");
                if let Some(detail) = db.detail() {
                    d = d.note(detail.to_string());
                }
                d = d.help(db.hint().map(str::to_string).unwrap_or_else(|| {
                    "fix the statement; the desired files must load into an empty database".to_string()
                }));
                return Err(ShadowError::Load(Box::new(d)));
            }
        }
        Ok(())
    }

    pub async fn drop(self, janitor: &Janitor) -> Result<(), DbError> {
        drop_database(&self.server, &self.name).await?;
        janitor.release(&self.name);
        Ok(())
    }
}

/// Loads the desired statements into a fresh shadow database on `server` and
/// reads it back. The shadow database is dropped before this returns.
pub async fn desired_snapshot(
    server: &Endpoint,
    desired: &Desired,
    janitor: &Janitor,
) -> Result<Snapshot, ShadowError> {
    let shadow = Shadow::create(server, janitor).await?;
    let result = async {
        shadow.load(desired).await?;
        Ok::<_, ShadowError>(introspect_endpoint(&shadow.endpoint()).await?)
    }
    .await;
    shadow.drop(janitor).await?;
    result
}

/// The first `"quoted"` name in a server message.
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    (len > 0).then(|| &message[start..start + len])
}

/// The byte offset of `word` in `sql` as a whole word, ignoring case, skipping
/// the statement's first line (the object being created is named there).
fn find_word(sql: &str, word: &str) -> Option<usize> {
    let lower = sql.to_lowercase();
    let word = word.to_lowercase();
    if lower.len() != sql.len() {
        return None;
    }
    let first_line_end = sql.find('\n').unwrap_or(0);
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    lower.match_indices(&word).map(|(i, _)| i).find(|&i| {
        i > first_line_end
            && !is_word(lower[..i].chars().next_back())
            && !is_word(lower[i + word.len()..].chars().next())
    })
}

async fn drop_database(server: &Endpoint, name: &str) -> Result<(), DbError> {
    let client = server.connect().await?;
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .map_err(query_error(format!("cannot drop the shadow database {name}")))
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}", nanos & 0xffff_ffff_ffff)
}
