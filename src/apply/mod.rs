//! Applying a plan: all of it, verified, recorded, or nothing.
//!
//! One transaction: a transaction-scoped advisory lock (two applies never
//! interleave); a check that the target still is what the plan was made
//! against; every step; a fresh introspection of the target inside the same
//! transaction, which must equal the desired catalog; the history row; commit.
//! Any failure rolls everything back, and a failed attempt is recorded in a
//! transaction of its own.

mod history;

use crate::catalog::{Catalog, Fingerprint};
use crate::db::{DbError, Endpoint, query_error};
use crate::diff::diff;
use crate::pipeline::Planned;
use crate::plan::{Allowed, HazardKind, describe};
use crate::render::{forward_sql, rollback_sql};
use crate::source::Location;
use std::time::{Instant, SystemTime};

/// The advisory lock key every converge apply takes ("conv" in ASCII).
pub const LOCK_KEY: i64 = 0x636f_6e76;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Hazards the user did not allow; nothing was run.
    #[error("refused: {} step(s) have hazards that are not allowed", .0.len())]
    Refused(Vec<RefusedStep>),
    /// The target changed between planning and applying; nothing was run.
    #[error(
        "refused: the target changed since the plan was made (catalog {found}, plan made against {expected}); plan again"
    )]
    Drift { expected: String, found: String },
    /// A statement failed; the transaction was rolled back.
    #[error("{}", .0)]
    Statement(Box<FailedStatement>),
    /// The steps ran but the result does not equal the desired catalog; the
    /// transaction was rolled back.
    #[error(
        "after applying, the target does not match the desired schema; nothing was committed. Remaining differences:\n{0}\nthis is a converge bug: please report it with the desired files"
    )]
    Verify(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Clone)]
pub struct RefusedStep {
    pub index: usize,
    pub description: String,
    pub kind: HazardKind,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct FailedStatement {
    pub step: usize,
    pub steps: usize,
    pub description: String,
    pub statement: String,
    pub source: Option<Location>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl std::fmt::Display for FailedStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "step {}/{} failed ({}): {}",
            self.step, self.steps, self.description, self.message
        )?;
        if let Some(detail) = &self.detail {
            writeln!(f, "  detail: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "  hint: {hint}")?;
        }
        writeln!(f, "  statement: {}", self.statement)?;
        match &self.source {
            Some(source) => writeln!(f, "  caused by: {source}")?,
            None => writeln!(f, "  caused by: an object that is not in the desired files (a drop)")?,
        }
        write!(f, "nothing was changed: the transaction was rolled back")
    }
}

/// What a successful apply did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The history row, unless history is off.
    pub history_id: Option<i64>,
    pub steps: usize,
    pub catalog_after: Fingerprint,
    pub elapsed: std::time::Duration,
}

/// The hazards `allowed` does not cover.
pub fn refused(planned: &Planned, allowed: &Allowed) -> Vec<RefusedStep> {
    planned
        .plan
        .hazards()
        .filter(|(_, h)| !allowed.allows(h.kind))
        .map(|(i, h)| RefusedStep {
            index: i + 1,
            description: describe(&planned.plan.steps[i].change),
            kind: h.kind,
            message: h.message.clone(),
        })
        .collect()
}

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    pub allowed: Allowed,
    /// Write the history row (off only for throwaway databases).
    pub record_history: bool,
}

/// Applies `planned` to `target` (see the module comment).
pub async fn apply(target: &Endpoint, planned: &Planned, options: &ApplyOptions) -> Result<Applied, ApplyError> {
    let refused = refused(planned, &options.allowed);
    if !refused.is_empty() {
        return Err(ApplyError::Refused(refused));
    }
    let started = Instant::now();
    let started_at = SystemTime::now();
    let forward = forward_sql(&planned.plan);
    let rollback = rollback_sql(&planned.plan);
    let plan_sha = Fingerprint::of_bytes(format!("{forward}\0{rollback}").as_bytes());
    let steps = planned.plan.steps.len();
    let mut client = target.connect().await?;

    let outcome = match run(&mut client, planned).await {
        // Nothing ran: there is no attempt to record.
        Err(e @ ApplyError::Drift { .. }) => return Err(e),
        other => other,
    };
    let (error, after) = match &outcome {
        Ok(after) => (None, Some(after.clone())),
        Err(e) => (Some(e.to_string()), None),
    };
    let plan_json = planned.document().to_json();
    let after_json = outcome
        .as_ref()
        .ok()
        .map(|_| serde_json::to_string(&planned.desired_snapshot.catalog.canonical()).unwrap_or_default());
    let entry = |outcome: &'static str| history::Entry {
        kind: history::Kind::Apply,
        duration: started.elapsed(),
        environment: None,
        plan_source: None,
        plan_json: &plan_json,
        catalog_after_json: after_json.as_deref(),
        backup_path: None,
        backup_sha256: None,
        started_at,
        outcome,
        error: error.as_deref(),
        desired_files: &planned.fingerprints.desired_files.0,
        desired_catalog: &planned.fingerprints.desired_catalog.0,
        plan: &plan_sha.0,
        catalog_before: &planned.fingerprints.current_catalog.0,
        catalog_after: after.as_ref().map(|f: &Fingerprint| f.0.as_str()),
        steps: steps as i32,
        forward_sql: &forward,
        rollback_sql: &rollback,
    };
    match outcome {
        Ok(catalog_after) => {
            // Still inside the transaction `run` left open.
            let id = async {
                let id = if options.record_history {
                    history::ensure(&client).await?;
                    Some(history::record(&client, &entry("applied")).await?)
                } else {
                    None
                };
                client
                    .batch_execute("COMMIT")
                    .await
                    .map_err(query_error("cannot commit"))?;
                Ok::<_, DbError>(id)
            }
            .await;
            match id {
                Ok(history_id) => Ok(Applied {
                    history_id,
                    steps,
                    catalog_after,
                    elapsed: started.elapsed(),
                }),
                Err(e) => {
                    let _ = client.batch_execute("ROLLBACK").await;
                    Err(e.into())
                }
            }
        }
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            // The failed attempt is recorded on a fresh connection (the first
            // may be the reason for the failure).
            if !options.record_history {
                return Err(e);
            }
            if let Ok(fresh) = target.connect().await {
                let recorded = async {
                    history::ensure(&fresh).await?;
                    history::record(&fresh, &entry("failed")).await
                }
                .await;
                if let Err(h) = recorded {
                    eprintln!("warning: could not record the failed attempt in converge.history: {h}");
                }
            }
            Err(e)
        }
    }
}

/// Opens the transaction, checks for drift, runs the steps and verifies.
/// Leaves the transaction open on success; the caller commits.
async fn run(client: &mut tokio_postgres::Client, planned: &Planned) -> Result<Fingerprint, ApplyError> {
    client
        .batch_execute("BEGIN")
        .await
        .map_err(query_error("cannot begin the transaction"))?;
    client
        .execute("SELECT pg_catalog.pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(query_error("cannot take converge's advisory lock"))?;
    client
        .batch_execute("SET LOCAL client_min_messages = warning")
        .await
        .map_err(query_error("cannot set client_min_messages"))?;

    let before = crate::introspect::introspect_in_transaction(&*client).await?;
    let found = Fingerprint::of_catalog(&planned.normalize(&before.catalog));
    if found != planned.fingerprints.current_catalog {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(ApplyError::Drift {
            expected: planned.fingerprints.current_catalog.short().to_string(),
            found: found.short().to_string(),
        });
    }

    // Statements taken from the desired files resolve names as they did when
    // the shadow database loaded them.
    client
        .batch_execute("SET LOCAL search_path = public; SET LOCAL check_function_bodies = off")
        .await
        .map_err(query_error("cannot set search_path"))?;
    let steps = planned.plan.steps.len();
    for (i, step) in planned.plan.steps.iter().enumerate() {
        for statement in &step.forward {
            if let Err(e) = client.batch_execute(statement).await {
                let db = e.as_db_error();
                return Err(ApplyError::Statement(Box::new(FailedStatement {
                    step: i + 1,
                    steps,
                    description: describe(&step.change),
                    statement: statement.clone(),
                    source: step.source.clone(),
                    message: crate::db::error_message(&e),
                    detail: db.and_then(|d| d.detail()).map(str::to_string),
                    hint: db.and_then(|d| d.hint()).map(str::to_string),
                })));
            }
        }
    }

    let after = crate::introspect::introspect_in_transaction(&*client).await?;
    let after = planned.normalize(&after.catalog);
    if !after.same_as(&planned.desired_snapshot.catalog) {
        return Err(ApplyError::Verify(differences(
            &after,
            &planned.desired_snapshot.catalog,
        )));
    }
    Ok(Fingerprint::of_catalog(&after))
}

/// The remaining differences, one line each.
pub fn differences(actual: &Catalog, desired: &Catalog) -> String {
    let changes = diff(actual, desired);
    if changes.is_empty() {
        // Something the diff does not compare: name where the data differs.
        let a = serde_json::to_value(actual.canonical()).unwrap_or_default();
        let b = serde_json::to_value(desired.canonical()).unwrap_or_default();
        let mut paths = Vec::new();
        json_differences(&a, &b, String::new(), &mut paths);
        return paths
            .iter()
            .take(10)
            .map(|p| format!("  at {p}"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    changes
        .iter()
        .map(|c| format!("  {}", describe(c)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths where two JSON values differ.
fn json_differences(a: &serde_json::Value, b: &serde_json::Value, path: String, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => json_differences(p, q, format!("{path}.{k}"), out),
                    _ => out.push(format!("{path}.{k} (present on one side only)")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                json_differences(p, q, format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} vs {b}")),
        _ => {}
    }
}
