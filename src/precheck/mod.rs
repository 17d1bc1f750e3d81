//! Data checks before apply: the steps that the rows already in the target
//! would make fail (SET NOT NULL over NULLs, a unique key over duplicates, a
//! foreign key over orphan rows, a check that rows violate, an enum label
//! still in use, a value the new type of its column cannot hold), found
//! before anything runs.
//!
//! `checks` decides, from the plan and the target's catalog, which steps need
//! a check and writes its query; `run` runs them all in one READ ONLY
//! transaction, sent to the server at once, each under a savepoint so that
//! a check PostgreSQL cannot run (a column the plan adds) is reported as not
//! checked instead of stopping the others. Nothing here writes, and nothing
//! is counted on a step that needs no check. The report gives, per step, how
//! many rows (or key values) are in the way and the first few of their keys.

mod checks;

pub use checks::{Check, KEYS_SHOWN, checks};

use crate::catalog::Catalog;
use crate::db::{DbError, Endpoint, error_message, query_error};
use crate::pipeline::Planned;
use crate::plan::Plan;
use futures_util::future::{MaybeDone, maybe_done};
use std::fmt;
use std::pin::Pin;
use tokio_postgres::Row;

/// How long a check waits for a lock on a table before giving up on it
/// (the pre-flight check names the session that holds it).
const LOCK_TIMEOUT: &str = "5s";

/// Polls each of `futures` once, in order, then waits for them all:
/// tokio-postgres sends a request when it is first polled, so the server
/// gets them in that order, one after the other. Their outputs, in order.
async fn sent_in_order<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<MaybeDone<F>>>> = futures.into_iter().map(|f| Box::pin(maybe_done(f))).collect();
    for future in &mut futures {
        let _ = futures_util::poll!(future.as_mut());
    }
    futures_util::future::join_all(futures.iter_mut().map(|f| f.as_mut())).await;
    futures.iter_mut().filter_map(|f| f.as_mut().take_output()).collect()
}

/// Each data check runs between these, so that one PostgreSQL cannot run
/// leaves the transaction usable for the next.
const SAVEPOINT: &str = "SAVEPOINT converge_check";
const BACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT converge_check; RELEASE SAVEPOINT converge_check";

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
    let started = std::time::Instant::now();
    let mut client = target.connect().await?;
    let tx = client
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
    // Every check is sent at once, each as its savepoint, its setup, its
    // query and the rollback to its savepoint, so that the server runs
    // them one after the other without a round trip in between (one at a
    // time, a check took ~1 ms, mostly waiting). A check that fails leaves
    // the transaction aborted only until the rollback to its savepoint, the
    // next statement; its query has a sync of its own, so the server skips
    // nothing else.
    type Sent<'a> = Pin<Box<dyn Future<Output = Result<Option<Row>, tokio_postgres::Error>> + Send + 'a>>;
    let on = &tx;
    let mut statements: Vec<Sent<'_>> = Vec::new();
    for check in &checks {
        statements.push(Box::pin(
            async move { on.batch_execute(SAVEPOINT).await.map(|()| None) },
        ));
        if let Some(setup) = &check.setup {
            statements.push(Box::pin(async move { on.batch_execute(setup).await.map(|()| None) }));
        }
        statements.push(Box::pin(async move {
            on.query_typed_one(check.sql.as_str(), &[]).await.map(Some)
        }));
        statements.push(Box::pin(async move {
            on.batch_execute(BACK_TO_SAVEPOINT).await.map(|()| None)
        }));
    }
    let mut answers = sent_in_order(statements).await.into_iter();
    let mut next = |context: &'static str| {
        answers.next().ok_or_else(|| DbError::Query {
            context: context.into(),
            message: "no answer".into(),
        })
    };
    let mut results = Vec::with_capacity(checks.len());
    for check in &checks {
        next("cannot start a data check")?.map_err(query_error("cannot start a data check"))?;
        // When the setup failed, the query ran in an aborted transaction:
        // the setup's error is the one to report.
        let setup = match check.setup {
            Some(_) => next("cannot run a data check")?.map(|_| ()),
            None => Ok(()),
        };
        let query = next("cannot run a data check")?;
        next("cannot end a data check")?.map_err(query_error("cannot end a data check"))?;
        results.push(setup.and(query));
    }
    for (check, result) in checks.into_iter().zip(results) {
        match result {
            Ok(None) => {
                return Err(DbError::Query {
                    context: "unexpected data check result".into(),
                    message: "no row".into(),
                });
            }
            Ok(Some(row)) => {
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
    crate::timings::record(&format!("data checks ({})", report.checked), started);
    Ok(report)
}
