//! Applying a plan in groups (online mode): each run of transactional steps
//! in a transaction of its own, each other step (CREATE INDEX CONCURRENTLY,
//! VALIDATE CONSTRAINT) outside any transaction.
//!
//! A session-level advisory lock is held from the start to the end, so two
//! applies still never interleave; the drift check runs before the first
//! group and the verification of the end state after the last. Every
//! statement runs under the configured `lock_timeout` and
//! `statement_timeout`; when a lock is not granted in time (SQLSTATE 55P03)
//! the statement, or its group's whole transaction, is tried again after a
//! wait that doubles each time, a bounded number of times, and each new
//! attempt is reported.
//!
//! What it must not do: pretend a later failure undoes earlier groups. A
//! committed group stays; the error names the groups that committed, and the
//! next plan finishes the change (or drops what an interrupted concurrent
//! index build left behind).

use super::expected::Expected;
use super::{
    ApplyError, ApplyOptions, ApplyTimes, KnownStart, LOCK_KEY, Observer, Ran, Request, Retry, StepStarted,
    run_statement,
};
use crate::db::{Endpoint, query_error};
use crate::pipeline::normalize;
use crate::render::{Group, StepDoc, groups};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// The first wait before a new attempt; each later wait doubles it.
const FIRST_WAIT: Duration = Duration::from_millis(200);
/// The longest wait between two attempts.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Runs `request`'s plan group by group (see the module comment). On
/// success, leaves open the transaction that verified the end state: the
/// caller records the history row in it and commits.
pub(super) async fn run(
    client: &mut Client,
    target: &Endpoint,
    request: &Request<'_>,
    known: Option<KnownStart>,
    options: &ApplyOptions,
    started: Instant,
    observer: &mut impl Observer,
) -> Result<Ran, ApplyError> {
    let document = request.document;
    let mut times = ApplyTimes::default();
    let phase = Instant::now();
    let ahead = request.desired.clone().and_then(Expected::start);
    client
        .batch_execute("SET client_min_messages = warning")
        .await
        .map_err(query_error("cannot set client_min_messages"))?;
    client
        .execute("SELECT pg_catalog.pg_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(query_error("cannot take converge's advisory lock"))?;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(query_error("cannot begin the transaction"))?;
    let checked = match super::check_start(client, target, document, known).await {
        Ok((before, start)) => observer.before_steps(client, &before.catalog).await.map(|()| start),
        Err(e) => Err(e),
    };
    client
        .batch_execute("COMMIT")
        .await
        .map_err(query_error("cannot end the transaction of the drift check"))?;
    let start = checked?;
    times.before_steps = phase.elapsed();
    let phase = Instant::now();
    // Statements taken from the desired files resolve names as they did when
    // the shadow database loaded them.
    client
        .batch_execute(&crate::sql::settings_batch(&crate::sql::step_settings(), false))
        .await
        .map_err(query_error("cannot set search_path"))?;
    super::set_timeouts(client, options, false).await?;

    let total = document.steps.len();
    let mut committed: Vec<String> = Vec::new();
    for group in groups(&document.steps) {
        let steps = &document.steps[group.first - 1..group.last];
        let mut run = Runner {
            client,
            options,
            total,
            started,
            progress: &mut |s| observer.step(s),
        };
        let result = match group.transaction {
            Some(_) => run.transaction(&group, steps).await,
            None => run.outside(&group, steps).await,
        };
        if let Err(error) = result {
            return Err(if committed.is_empty() {
                error
            } else {
                ApplyError::Partial {
                    committed,
                    error: Box::new(error),
                }
            });
        }
        committed.push(group.label());
    }

    // The groups' own transactions and retries are the steps' time here.
    times.steps = phase.elapsed();
    let phase = Instant::now();
    let verified = async {
        client
            .batch_execute("RESET lock_timeout; RESET statement_timeout; BEGIN")
            .await
            .map_err(query_error("cannot begin the transaction"))?;
        let after = crate::introspect::introspect_in_transaction(&*client).await?;
        let after = normalize(after.catalog, &document.options);
        let (fingerprint, json) =
            super::end_state_expecting(&after, &document.fingerprints.desired_catalog, ahead).await;
        if fingerprint != document.fingerprints.desired_catalog {
            return Err(ApplyError::Unverified(match &request.desired {
                Some(desired) => super::differences(&after, desired),
                None => format!(
                    "  the catalog's fingerprint is {}, the plan leads to {}",
                    fingerprint.short(),
                    document.fingerprints.desired_catalog.short()
                ),
            }));
        }
        times.verification = phase.elapsed();
        Ok(Ran {
            fingerprint,
            json,
            start,
            times,
        })
    }
    .await;
    verified.map_err(|error| ApplyError::Partial {
        committed,
        error: Box::new(error),
    })
}

/// Runs groups, with the settings of the apply.
struct Runner<'c, 'p, 'q> {
    client: &'c Client,
    options: &'c ApplyOptions,
    total: usize,
    started: Instant,
    progress: &'p mut (dyn FnMut(&StepStarted<'_>) + 'q),
}

impl Runner<'_, '_, '_> {
    fn attempts(&self) -> u32 {
        self.options.lock_attempts.max(1)
    }

    fn report(&mut self, step: &StepDoc, retry: Option<Retry>) {
        (self.progress)(&StepStarted {
            index: step.index,
            total: self.total,
            description: &step.description,
            statements: &step.forward,
            elapsed: self.started.elapsed(),
            retry,
        });
    }

    /// The steps of `group` in one transaction, all tried again when a lock
    /// is not granted in time.
    async fn transaction(&mut self, group: &Group, steps: &[StepDoc]) -> Result<(), ApplyError> {
        let attempts = self.attempts();
        let mut retry = None;
        for attempt in 1..=attempts {
            self.client
                .batch_execute("BEGIN")
                .await
                .map_err(query_error("cannot begin the transaction"))?;
            let mut result = Ok(());
            for (i, step) in steps.iter().enumerate() {
                self.report(step, if i == 0 { retry.take() } else { None });
                for statement in &step.forward {
                    result = run_statement(self.client, step, self.total, statement).await;
                    if result.is_err() {
                        break;
                    }
                }
                if result.is_err() {
                    break;
                }
            }
            let error = match result {
                Ok(()) => {
                    return self
                        .client
                        .batch_execute("COMMIT")
                        .await
                        .map_err(|e| query_error(format!("cannot commit {}", group.label()))(e).into());
                }
                Err(e) => e,
            };
            let _ = self.client.batch_execute("ROLLBACK").await;
            match lock_not_available(&error) {
                Some(message) if attempt < attempts => {
                    let waited = wait(attempt);
                    tokio::time::sleep(waited).await;
                    retry = Some(Retry {
                        attempt: attempt + 1,
                        attempts,
                        waited,
                        message,
                    });
                }
                _ => {
                    return Err(with_outcome(
                        error,
                        format!("the transaction of {} was rolled back", group.label()),
                    ));
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// A step outside any transaction: each statement commits as it runs,
    /// and one whose lock is not granted in time is tried again.
    async fn outside(&mut self, group: &Group, steps: &[StepDoc]) -> Result<(), ApplyError> {
        let attempts = self.attempts();
        for step in steps {
            self.report(step, None);
            for statement in &step.forward {
                let mut attempt = 1;
                loop {
                    let Err(error) = run_statement(self.client, step, self.total, statement).await else {
                        break;
                    };
                    match lock_not_available(&error) {
                        Some(message) if attempt < attempts => {
                            // A concurrent build that timed out waiting for
                            // a lock may have left its INVALID index.
                            drop_invalid_index(self.client, statement).await?;
                            let waited = wait(attempt);
                            tokio::time::sleep(waited).await;
                            attempt += 1;
                            self.report(
                                step,
                                Some(Retry {
                                    attempt,
                                    attempts,
                                    waited,
                                    message,
                                }),
                            );
                        }
                        _ => {
                            return Err(with_outcome(
                                error,
                                format!(
                                    "{} ran outside a transaction: its statements before this one stay applied, and a failed concurrent index build leaves an INVALID index behind, which the next plan drops and builds again",
                                    group.label()
                                ),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The wait before attempt `attempt + 1`.
fn wait(attempt: u32) -> Duration {
    FIRST_WAIT.saturating_mul(1 << (attempt - 1).min(16)).min(LONGEST_WAIT)
}

/// The server's message when `error` is a lock not granted in time.
fn lock_not_available(error: &ApplyError) -> Option<String> {
    match error {
        ApplyError::Statement(f) if f.lock_not_available => Some(f.message.clone()),
        _ => None,
    }
}

/// `error` saying what its failure left behind.
fn with_outcome(error: ApplyError, outcome: String) -> ApplyError {
    match error {
        ApplyError::Statement(mut f) => {
            f.outcome = outcome;
            ApplyError::Statement(f)
        }
        other => other,
    }
}

/// Drops the INVALID index a failed `CREATE INDEX CONCURRENTLY` statement
/// left, if it left one.
async fn drop_invalid_index(client: &Client, statement: &str) -> Result<(), ApplyError> {
    let Some((schema, name)) = concurrent_index_name(statement) else {
        return Ok(());
    };
    let rows = client
        .query(
            "SELECT pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, c.relname)
             FROM pg_catalog.pg_index i
             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisvalid",
            &[&schema, &name],
        )
        .await
        .map_err(query_error("cannot look for an INVALID index"))?;
    for row in rows {
        let drop: String = row.get(0);
        client
            .batch_execute(&drop)
            .await
            .map_err(query_error(format!("cannot drop the INVALID index {schema}.{name}")))?;
    }
    Ok(())
}

/// The schema and name of the index a `CREATE INDEX CONCURRENTLY` creates.
fn concurrent_index_name(statement: &str) -> Option<(String, String)> {
    let parsed = pg_query::parse(statement, 0).ok()?;
    match parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()? {
        pg_query::NodeEnum::IndexStmt(s) if s.concurrent && !s.idxname.is_empty() => {
            let schema = s
                .relation
                .as_ref()
                .map(|r| r.schemaname.clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "public".into());
            Some((schema, s.idxname.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_a_bound() {
        assert_eq!(wait(1), Duration::from_millis(200));
        assert_eq!(wait(2), Duration::from_millis(400));
        assert_eq!(wait(4), Duration::from_millis(1600));
        assert_eq!(wait(30), LONGEST_WAIT);
    }

    #[test]
    fn the_index_of_a_concurrent_build_is_named() {
        assert_eq!(
            concurrent_index_name("CREATE UNIQUE INDEX CONCURRENTLY i ON app.t USING btree (a)"),
            Some(("app".into(), "i".into()))
        );
        assert_eq!(concurrent_index_name("CREATE INDEX i ON app.t (a)"), None);
    }
}
