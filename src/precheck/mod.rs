//! Data checks before apply: the steps that the rows already in the target
//! would make fail (SET NOT NULL over NULLs, a unique key over duplicates, a
//! foreign key over orphan rows, a check that rows violate, an enum label
//! still in use, a value the new type of its column cannot hold), found
//! before anything runs.
//!
//! `checks` decides, from the plan and the target's catalog, which steps need
//! a check and writes its query; `run` runs them all in one READ ONLY
//! transaction, each under a savepoint so that a check PostgreSQL cannot run
//! (a column the plan adds) is reported as not checked instead of stopping
//! the others. Nothing here writes, and nothing is counted on a step that
//! needs no check. The report gives, per step, how many rows (or key values)
//! are in the way and the first few of their keys.

mod checks;

pub use checks::{Check, KEYS_SHOWN, checks};

use crate::catalog::Catalog;
use crate::db::{DbError, Endpoint, error_message, query_error};
use crate::pipeline::Planned;
use crate::plan::Plan;
use std::fmt;

/// How long a check waits for a lock on a table before giving up on it
/// (the pre-flight check names the session that holds it).
const LOCK_TIMEOUT: &str = "5s";

/// Rows that would make a step fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub step: usize,
    pub description: String,
    pub problem: String,
    /// How many rows (or, for a unique key, duplicated values).
    pub count: i64,
    /// Up to `KEYS_SHOWN` keys, sorted.
    pub keys: Vec<String>,
}

/// A check that could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    pub step: usize,
    pub description: String,
    pub problem: String,
    /// The server's message.
    pub reason: String,
}

/// What the data checks found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub checked: usize,
    pub findings: Vec<Finding>,
    pub unchecked: Vec<Unchecked>,
}

impl Report {
    /// True when no step would fail on existing rows.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for x in &self.findings {
            writeln!(f, "  step {} ({}): {}: {}", x.step, x.description, x.problem, x.count)?;
            let more = if x.count > x.keys.len() as i64 { ", ..." } else { "" };
            writeln!(f, "      e.g. {}{more}", x.keys.join("; "))?;
        }
        for u in &self.unchecked {
            writeln!(
                f,
                "  step {} ({}): not checked: {}: {}",
                u.step, u.description, u.problem, u.reason
            )?;
        }
        Ok(())
    }
}

/// Runs the data checks of `planned` against `target`, read-only.
pub async fn run(target: &Endpoint, planned: &Planned) -> Result<Report, DbError> {
    run_checks(target, checks(&planned.plan, &planned.current.catalog)).await
}

/// Runs the data checks of `plan`, made against the target's catalog
/// `current` (a reviewed plan read back with its catalog), read-only.
pub async fn run_plan(target: &Endpoint, plan: &Plan, current: &Catalog) -> Result<Report, DbError> {
    run_checks(target, checks(plan, current)).await
}

async fn run_checks(target: &Endpoint, checks: Vec<Check>) -> Result<Report, DbError> {
    let mut report = Report {
        checked: checks.len(),
        ..Report::default()
    };
    if checks.is_empty() {
        return Ok(report);
    }
    let mut client = target.connect().await?;
    let mut tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(query_error("cannot start the read-only transaction of the data checks"))?;
    // Expressions and names are as introspection printed them: qualified
    // under an empty search_path.
    tx.batch_execute(&format!(
        "SELECT pg_catalog.set_config('search_path', '', true), \
                pg_catalog.set_config('lock_timeout', '{LOCK_TIMEOUT}', true)"
    ))
    .await
    .map_err(query_error("cannot set up the data checks"))?;
    for check in checks {
        let savepoint = tx
            .savepoint("converge_check")
            .await
            .map_err(query_error("cannot start a data check"))?;
        let result = match &check.setup {
            Some(setup) => match savepoint.batch_execute(setup).await {
                Ok(()) => savepoint.query_one(check.sql.as_str(), &[]).await,
                Err(e) => Err(e),
            },
            None => savepoint.query_one(check.sql.as_str(), &[]).await,
        };
        savepoint
            .rollback()
            .await
            .map_err(query_error("cannot end a data check"))?;
        match result {
            Ok(row) => {
                let count: i64 = row.try_get(0).map_err(query_error("unexpected data check result"))?;
                let keys: Vec<Option<String>> = row.try_get(1).map_err(query_error("unexpected data check result"))?;
                if count > 0 {
                    report.findings.push(Finding {
                        step: check.step,
                        description: check.description,
                        problem: check.problem,
                        count,
                        keys: keys.into_iter().map(|k| k.unwrap_or_else(|| "NULL".into())).collect(),
                    });
                }
            }
            Err(e) => report.unchecked.push(Unchecked {
                step: check.step,
                description: check.description,
                problem: check.problem,
                reason: error_message(&e),
            }),
        }
    }
    tx.rollback()
        .await
        .map_err(query_error("cannot end the read-only transaction of the data checks"))?;
    Ok(report)
}
