//! Applying a plan document: all of it, verified, recorded, or nothing.
//!
//! One transaction: a transaction-scoped advisory lock (two applies never
//! interleave); a check that the target still is what the plan was made
//! against (its catalog fingerprint and server major version; when the
//! target was read just before the apply, by a plan made now, for a
//! reviewed plan's checks or by `rollback`'s check, and the versions of its
//! catalog rows have not changed since, that read: see
//! `introspect::RowVersions`); the caller's
//! own checks of that starting point (`Observer::before_steps`: `apply
//! --plan`'s pre-flight and data checks); every step; a
//! fresh introspection of the target inside the same transaction (what the
//! steps changed, merged into the starting point: `read_end`), whose
//! fingerprint must be the plan's desired one; the history row; commit. Any
//! failure rolls everything back, and a failed or refused attempt is recorded
//! in a transaction of its own.
//!
//! The same path runs a live plan (`apply`), a reviewed plan read from its
//! directory (`apply --plan`) and the undo of an earlier apply (`rollback`):
//! each is a [`PlanDocument`].

mod expected;
pub mod history;
mod online;
mod undo;

pub use history::Kind;
pub use undo::undo_document;

use crate::catalog::{Catalog, Fingerprint, Snapshot};
use crate::db::{DbError, Endpoint, query_error};
use crate::diff::diff;
use crate::pipeline::{Planned, normalize};
use crate::plan::{Allowed, HazardKind, describe};
use crate::render::PlanDocument;
use crate::source::Location;
use crate::timings;
use expected::Expected;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The advisory lock key every converge apply takes ("conv" in ASCII).
pub const LOCK_KEY: i64 = 0x636f_6e76;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Hazards the user did not allow; nothing was run.
    #[error("refused: {} step(s) have hazards that are not allowed", .0.len())]
    Refused(Vec<RefusedStep>),
    /// The target changed between planning and applying; nothing was run.
    #[error(
        "refused: the target changed since the plan was made (its catalog is {found}, the plan was made against {expected}); plan again"
    )]
    Drift { expected: String, found: String },
    /// The plan was made against another PostgreSQL major version.
    #[error(
        "refused: the plan was made against PostgreSQL {planned} and the target runs PostgreSQL {found}; plan again against this server"
    )]
    ServerVersion { planned: i32, found: i32 },
    /// A statement failed; the transaction was rolled back.
    #[error("{}", .0)]
    Statement(Box<FailedStatement>),
    /// The caller's checks before the first step (`Observer::before_steps`)
    /// refused, or could not run; they reported why. Nothing ran.
    #[error("{summary}")]
    BeforeSteps { refused: bool, summary: String },
    /// The steps ran but the result does not equal the desired catalog; the
    /// transaction was rolled back.
    #[error(
        "after applying, the target does not match the plan's end state; nothing was committed. Remaining differences:\n{0}\nthis is a converge bug: please report it with the desired files"
    )]
    Verify(String),
    /// An online apply's steps ran and committed, but the result does not
    /// equal the desired catalog.
    #[error(
        "after applying, the target does not match the plan's end state. Remaining differences:\n{0}\nthis is a converge bug: please report it with the desired files"
    )]
    Unverified(String),
    /// An online apply failed after some of its groups committed: they
    /// stay applied (PostgreSQL cannot take back a committed transaction).
    #[error(
        "{error}\n{} group(s) of the plan were committed before the failure and stay applied: {}; the rest did not run. Plan again (`converge plan`) to see what remains, and apply to finish",
        .committed.len(), .committed.join(", ")
    )]
    Partial {
        committed: Vec<String>,
        error: Box<ApplyError>,
    },
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
    /// The server did not grant a lock in time (SQLSTATE 55P03).
    pub lock_not_available: bool,
    /// What the failure left behind, in one sentence.
    pub outcome: String,
}

const NOTHING_CHANGED: &str = "nothing was changed: the transaction was rolled back";

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
        write!(f, "{}", self.outcome)
    }
}

/// What a successful apply did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The history row, unless history is off.
    pub history_id: Option<i64>,
    pub steps: usize,
    pub catalog_after: Fingerprint,
    pub elapsed: Duration,
    /// How the apply knew its starting point.
    pub start: StartingPoint,
    /// Where its time went.
    pub times: ApplyTimes,
}

/// Where an apply's time went, phase by phase (`converge-bench` reports
/// them beside psql's run of the same statements).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyTimes {
    /// The check that the target is what the plan was made against, and the
    /// caller's own checks (`Observer::before_steps`).
    pub before_steps: Duration,
    /// The steps' statements.
    pub steps: Duration,
    /// Reading the end state and comparing it with the plan's.
    pub verification: Duration,
    /// The history row and the commit.
    pub record_and_commit: Duration,
}

/// What a successful run of the steps leaves for `execute`: the end state's
/// fingerprint and canonical JSON, how the starting point was known, and the
/// times so far.
struct Ran {
    fingerprint: Fingerprint,
    json: String,
    start: StartingPoint,
    times: ApplyTimes,
}

/// How an apply knew the catalog it started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPoint {
    /// A read made before the apply (`Request::start`: the plan's own, a
    /// reviewed plan's checks', `rollback`'s): no catalog row had changed
    /// since.
    EarlierRead,
    /// Read inside the apply, and its fingerprint compared with the plan's.
    ReadAgain,
}

/// The target as it was read before the apply, with the versions of its
/// catalog rows in that read (`pipeline::TargetRead::ToApply`), its catalog
/// normalized by the plan's options, and that catalog's fingerprint.
pub struct KnownStart {
    pub snapshot: Snapshot,
    pub rows: crate::introspect::RowVersions,
    pub fingerprint: Fingerprint,
}

impl KnownStart {
    /// What a plan made now read of its target (`Planned::current`, whose
    /// fingerprint the plan holds), when it read the versions of the rows
    /// too.
    pub fn of_plan(
        current: Snapshot,
        current_rows: Option<crate::introspect::RowVersions>,
        fingerprint: Fingerprint,
    ) -> Option<KnownStart> {
        current_rows.map(|rows| KnownStart {
            snapshot: current,
            rows,
            fingerprint,
        })
    }

    /// A read of the target made before the apply, its catalog normalized
    /// as the plan's is: its fingerprint is taken here.
    pub fn of_read(snapshot: Snapshot, rows: Option<crate::introspect::RowVersions>) -> Option<KnownStart> {
        rows.map(|rows| KnownStart {
            fingerprint: Fingerprint::of_catalog(&snapshot.catalog),
            snapshot,
            rows,
        })
    }
}

impl ApplyError {
    /// Refusals (exit 3): nothing ran because a rule said no.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ApplyError::Refused(_)
                | ApplyError::Drift { .. }
                | ApplyError::ServerVersion { .. }
                | ApplyError::BeforeSteps { refused: true, .. }
        )
    }
}

/// The hazards of `planned` that `allowed` does not cover.
pub fn refused(planned: &Planned, allowed: &Allowed) -> Vec<RefusedStep> {
    refused_steps(&planned.document(), allowed)
}

/// The hazards of `document` that `allowed` does not cover.
pub fn refused_steps(document: &PlanDocument, allowed: &Allowed) -> Vec<RefusedStep> {
    document
        .steps
        .iter()
        .flat_map(|s| s.hazards.iter().map(move |h| (s, h)))
        .filter(|(_, h)| !allowed.allows(h.kind))
        .map(|(s, h)| RefusedStep {
            index: s.index,
            description: s.description.clone(),
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
    /// `lock_timeout` for every statement, as PostgreSQL reads it (`5s`).
    pub lock_timeout: Option<String>,
    /// `statement_timeout` for every statement.
    pub statement_timeout: Option<String>,
    /// How many times an online apply tries a statement (or a transaction)
    /// whose lock was not granted in time (SQLSTATE 55P03) before it gives
    /// up; it waits twice as long before each new attempt. 0 and 1: once.
    pub lock_attempts: u32,
}

/// A backup taken before applying, recorded in the history row.
#[derive(Debug, Clone)]
pub struct BackupRecord {
    pub path: String,
    pub sha256: String,
}

/// What to apply and how to record it.
pub struct Request<'a> {
    pub document: &'a PlanDocument,
    /// The desired catalog, when this run knows it (a live plan): its JSON
    /// is written while the steps run (see `expected`), and a failed
    /// verification names each remaining difference.
    pub desired: Option<Arc<Catalog>>,
    pub kind: Kind,
    pub environment: Option<&'a str>,
    /// The plan directory, for `apply --plan`.
    pub plan_source: Option<&'a str>,
    pub backup: Option<&'a BackupRecord>,
    /// The target as read just before the apply (a plan made now, a
    /// reviewed plan's checks, `rollback`'s check): the starting point when
    /// no catalog row has changed since, instead of a read.
    pub start: Option<KnownStart>,
}

/// A step about to run, for progress reports.
#[derive(Debug, Clone)]
pub struct StepStarted<'a> {
    /// 1-based.
    pub index: usize,
    pub total: usize,
    pub description: &'a str,
    pub statements: &'a [String],
    /// Since the apply started.
    pub elapsed: Duration,
    /// Set when the step is tried again: why, and after how long a wait.
    pub retry: Option<Retry>,
}

/// A new attempt after a lock was not granted in time.
#[derive(Debug, Clone)]
pub struct Retry {
    /// 2 for the first retry.
    pub attempt: u32,
    pub attempts: u32,
    pub waited: Duration,
    /// The server's message for the failed attempt.
    pub message: String,
}

/// What the caller of `execute` is told, and asked, as an apply goes.
pub trait Observer {
    /// Inside the apply (in its transaction, or for an online plan right
    /// after the drift check), once the target is known to be what the plan
    /// was made against and before the first step: the caller's own checks
    /// of that starting point `start` (normalized as the plan's catalogs
    /// are), with `client` the apply's connection. An error refuses the
    /// apply; nothing has run.
    fn before_steps(
        &mut self,
        client: &tokio_postgres::Client,
        start: &Catalog,
    ) -> impl Future<Output = Result<(), ApplyError>> {
        let _ = (client, start);
        async { Ok(()) }
    }

    /// Before each step (and each new attempt of it).
    fn step(&mut self, step: &StepStarted<'_>) {
        let _ = step;
    }
}

/// Nothing to tell or ask.
impl Observer for () {}

/// Applies `planned` to `target` (see the module comment). What the plan
/// read of the target is copied to be the starting point when its rows
/// have not changed since (see `KnownStart`).
pub async fn apply(target: &Endpoint, planned: &Planned, options: &ApplyOptions) -> Result<Applied, ApplyError> {
    let document = planned.document();
    let request = Request {
        document: &document,
        desired: Some(Arc::new(planned.desired_snapshot.catalog.clone())),
        kind: Kind::Apply,
        environment: None,
        plan_source: None,
        backup: None,
        start: planned.current_rows.as_ref().and_then(|rows| {
            KnownStart::of_plan(
                planned.current.clone(),
                Some(rows.clone()),
                planned.fingerprints.current_catalog.clone(),
            )
        }),
    };
    execute(target, request, options, &mut ()).await
}

/// Applies a plan document to `target` (see the module comment), asking
/// `observer` before the first step and telling it of each.
pub async fn execute(
    target: &Endpoint,
    mut request: Request<'_>,
    options: &ApplyOptions,
    observer: &mut impl Observer,
) -> Result<Applied, ApplyError> {
    let known = request.start.take();
    let request = &request;
    let document = request.document;
    let refused = refused_steps(document, &options.allowed);
    if !refused.is_empty() {
        return Err(ApplyError::Refused(refused));
    }
    let started = Instant::now();
    let started_at = SystemTime::now();
    let forward = document.forward_sql();
    let rollback = document.rollback_sql();
    let plan_sha = Fingerprint::of_bytes(format!("{forward}\0{rollback}").as_bytes());
    let plan_json = document.to_json();
    let steps = document.steps.len();
    let mut client = target.connect().await?;

    // Online plans (and any plan with a step PostgreSQL refuses to run in a
    // transaction) run in groups.
    let grouped = document.options.online || document.steps.iter().any(|s| !s.transactional);
    let outcome = if grouped {
        online::run(&mut client, target, request, known, options, started, observer).await
    } else {
        run(&mut client, target, request, known, options, started, observer).await
    };
    let phase = Instant::now();
    // The end state's fingerprint, and its canonical JSON for the history row.
    let (outcome, after) = match outcome {
        Ok(Ran {
            fingerprint,
            json,
            start,
            times,
        }) => (Ok((fingerprint.clone(), start, times)), Some((fingerprint, json))),
        Err(e) => (Err(e), None),
    };
    let error = outcome.as_ref().err().map(|e| e.to_string());
    let entry = |outcome: &'static str| history::Entry {
        kind: request.kind,
        started_at,
        duration: started.elapsed(),
        outcome,
        error: error.as_deref(),
        environment: request.environment,
        plan_source: request.plan_source,
        desired_files: &document.fingerprints.desired_files.0,
        desired_catalog: &document.fingerprints.desired_catalog.0,
        plan: &plan_sha.0,
        catalog_before: &document.fingerprints.current_catalog.0,
        catalog_after: after.as_ref().map(|(f, _)| f.0.as_str()),
        steps: steps as i32,
        forward_sql: &forward,
        rollback_sql: &rollback,
        plan_json: &plan_json,
        catalog_after_json: after.as_ref().map(|(_, j)| j.as_str()),
        backup_path: request.backup.map(|b| b.path.as_str()),
        backup_sha256: request.backup.map(|b| b.sha256.as_str()),
    };
    match outcome {
        Ok((catalog_after, start, mut times)) => {
            // Still inside the transaction `run` left open.
            let id = async {
                let id = if options.record_history {
                    history::ensure(&client).await?;
                    Some(history::record(&client, &entry("applied")).await?)
                } else {
                    None
                };
                timings::record("apply: record the history row", phase);
                let phase = Instant::now();
                client
                    .batch_execute("COMMIT")
                    .await
                    .map_err(query_error("cannot commit"))?;
                timings::record("apply: commit", phase);
                Ok::<_, DbError>(id)
            }
            .await;
            match id {
                Ok(history_id) => Ok(Applied {
                    history_id,
                    steps,
                    catalog_after,
                    elapsed: started.elapsed(),
                    start,
                    times: {
                        times.record_and_commit = phase.elapsed();
                        times
                    },
                }),
                Err(e) => {
                    let _ = client.batch_execute("ROLLBACK").await;
                    Err(e.into())
                }
            }
        }
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            if options.record_history {
                // On a fresh connection: the first may be the reason for the
                // failure.
                let outcome = match &e {
                    e if e.is_refusal() => "refused",
                    ApplyError::Partial { .. } => "partial",
                    _ => "failed",
                };
                let recorded = async {
                    let fresh = target.connect().await?;
                    history::ensure(&fresh).await?;
                    history::record(&fresh, &entry(outcome)).await
                }
                .await;
                if let Err(h) = recorded {
                    eprintln!("warning: could not record the {outcome} attempt in converge.history: {h}");
                }
            }
            Err(e)
        }
    }
}

/// The end state's fingerprint and its canonical JSON, which the history row
/// stores (`status` compares the target with it later): serialized once,
/// the fingerprint being the sha256 of that JSON
/// (`Fingerprint::of_catalog`).
/// `end_state(catalog)`, taken from `ahead` when `catalog` is the desired
/// catalog written there.
async fn end_state_expecting(
    catalog: &Catalog,
    expected: &Fingerprint,
    ahead: Option<Expected>,
) -> (Fingerprint, String) {
    if let Some(ahead) = ahead
        && let Some(known) = ahead.of(catalog, expected).await
    {
        return known;
    }
    let started = Instant::now();
    let end_state = end_state(catalog);
    timings::record("apply: the end state's JSON and fingerprint", started);
    end_state
}

fn end_state(catalog: &Catalog) -> (Fingerprint, String) {
    // Plain data with string keys: serializing cannot fail.
    let mut json = Vec::new();
    let _ = crate::catalog::canonical::write_json(catalog, &mut json);
    (
        Fingerprint::of_bytes(&json),
        String::from_utf8(json).unwrap_or_default(),
    )
}

/// Opens the transaction, checks the starting point, asks the observer,
/// runs the steps and verifies the end state. Leaves the transaction open on
/// success; the caller commits.
async fn run(
    client: &mut tokio_postgres::Client,
    target: &Endpoint,
    request: &Request<'_>,
    known: Option<KnownStart>,
    options: &ApplyOptions,
    started: Instant,
    observer: &mut impl Observer,
) -> Result<Ran, ApplyError> {
    let document = request.document;
    let mut times = ApplyTimes::default();
    let before_steps = Instant::now();
    let ahead = request.desired.clone().and_then(Expected::start);
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

    let phase = Instant::now();
    let (before, start) = check_start(client, target, document, known).await?;
    timings::record("apply: check the starting point", phase);
    let phase = Instant::now();
    let checked = observer.before_steps(client, &before.catalog).await;
    timings::record("apply: the caller's checks before the steps", phase);
    checked?;
    set_timeouts(client, options, true).await?;
    times.before_steps = before_steps.elapsed();

    // Statements taken from the desired files resolve names as they did when
    // the shadow database loaded them.
    client
        .batch_execute(&crate::sql::settings_batch(&crate::sql::step_settings(), true))
        .await
        .map_err(query_error("cannot set search_path"))?;
    let phase = Instant::now();
    run_steps(client, document, started, observer).await?;
    times.steps = phase.elapsed();
    timings::record("apply: run the steps", phase);

    let phase = Instant::now();
    let EndState {
        catalog: after,
        fingerprint,
        json,
        missed,
    } = read_end_state_expecting(
        &*client,
        Some(before),
        &document.fingerprints.desired_catalog,
        &document.options,
        ahead,
    )
    .await?;
    times.verification = phase.elapsed();
    timings::record("apply: verify the end state", phase);
    if let Some(missed) = missed {
        eprintln!(
            "warning: converge's read of what this apply changed missed part of it; the whole catalog, read \
             again, is what the plan leads to, so the apply goes on. This is a fault in converge: please report \
             it with the plan. What the partial read missed:\n{missed}"
        );
    }
    if fingerprint != document.fingerprints.desired_catalog {
        return Err(ApplyError::Verify(match &request.desired {
            Some(desired) => differences(&after, desired),
            None => format!(
                "  the catalog's fingerprint is {}, the plan leads to {}",
                fingerprint.short(),
                document.fingerprints.desired_catalog.short()
            ),
        }));
    }
    Ok(Ran {
        fingerprint,
        json,
        start,
        times,
    })
}

/// Refuses when the target is not what the plan was made against: another
/// server major version, or another catalog (drift). Runs in the caller's
/// transaction on `target`, before it changes anything (so a big catalog is
/// read on several connections sharing its snapshot). Returns the starting
/// point, from which the end state is read (`read_end`): `known` when the
/// versions of the catalog's rows are still those it was read with (no
/// catalog row can have changed: see `introspect::RowVersions`), its
/// fingerprint then compared with the plan's, else what it reads
/// (`read_start`).
async fn check_start(
    client: &tokio_postgres::Client,
    target: &Endpoint,
    document: &PlanDocument,
    known: Option<KnownStart>,
) -> Result<(Snapshot, StartingPoint), ApplyError> {
    if let Some(known) = known {
        let rows = crate::introspect::read_row_versions(client).await?;
        if rows == known.rows {
            check_server(known.snapshot.server_version, document)?;
            check_catalog(&known.fingerprint, document)?;
            timings::note("the starting point is the read made before the apply: no catalog row changed since");
            return Ok((known.snapshot, StartingPoint::EarlierRead));
        }
        timings::note(&format!(
            "the target's catalog rows changed since the read before the apply ({} -> {}): it is read again",
            known.rows.short(),
            rows.short()
        ));
    }
    let before = read_start(client, target, &document.options).await?;
    check_server(before.server_version, document)?;
    check_catalog(&Fingerprint::of_catalog(&before.catalog), document)?;
    Ok((before, StartingPoint::ReadAgain))
}

/// Refuses a plan made against another catalog than the one with `found`
/// as its fingerprint (drift).
fn check_catalog(found: &Fingerprint, document: &PlanDocument) -> Result<(), ApplyError> {
    if *found != document.fingerprints.current_catalog {
        return Err(ApplyError::Drift {
            expected: document.fingerprints.current_catalog.short().to_string(),
            found: found.short().to_string(),
        });
    }
    Ok(())
}

/// Refuses a plan made against another major version than `server_version`.
fn check_server(server_version: i32, document: &PlanDocument) -> Result<(), ApplyError> {
    let found_major = server_version / 10000;
    if found_major != document.server_major {
        return Err(ApplyError::ServerVersion {
            planned: document.server_major,
            found: found_major,
        });
    }
    Ok(())
}

/// The target as a transaction that has changed nothing yet sees it, its
/// catalog normalized by `options` as the plan's are: apply's starting
/// point.
pub async fn read_start(
    client: &tokio_postgres::Client,
    target: &Endpoint,
    options: &crate::pipeline::Options,
) -> Result<Snapshot, DbError> {
    let mut before = crate::introspect::introspect_unchanged_transaction(client, target).await?;
    before.catalog = normalize(std::mem::take(&mut before.catalog), options);
    Ok(before)
}

/// How `read_end` read the end state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndRead {
    /// What the transaction changed, merged into its starting point.
    Changes,
    /// The whole catalog, and why.
    Whole(String),
}

/// The catalog as the current transaction has left it, normalized by
/// `options`. From `before` (`read_start` in the same transaction), only
/// what the transaction changed is read and merged into it
/// (`introspect::reread_catalog_changes`): verifying a small change to a database
/// of thousands of tables then costs a fraction of reading it all, on the
/// one connection that sees the transaction's changes. Without `before`,
/// with a filter (the starting point then lacks what the filter leaves
/// out), or where only a whole read is sure, the whole catalog is read.
pub async fn read_end(
    client: &impl tokio_postgres::GenericClient,
    before: Option<Snapshot>,
    options: &crate::pipeline::Options,
) -> Result<(Catalog, EndRead), DbError> {
    let why = match before {
        None => "no starting point".to_string(),
        Some(_) if !options.filter.is_empty() => "a filter is set".to_string(),
        Some(before) => match crate::introspect::reread_catalog_changes(client, before).await? {
            Ok(after) => return Ok((normalize(after, options), EndRead::Changes)),
            Err(why) => why,
        },
    };
    timings::note(&format!("the end state is read whole: {why}"));
    let after = crate::introspect::introspect_in_transaction(client).await?;
    Ok((normalize(after.catalog, options), EndRead::Whole(why)))
}

/// The end state as `read_end_state` found it.
pub struct EndState {
    pub catalog: Catalog,
    /// The fingerprint of `catalog`'s canonical JSON.
    pub fingerprint: Fingerprint,
    pub json: String,
    /// When the read of what the transaction changed disagreed with
    /// `expected` and a whole read then agreed: how the two differ. The
    /// whole read is the end state; the partial one missed something (a
    /// fault of converge's, to report, though it costs the apply only time).
    pub missed: Option<String>,
}

/// The end state (`read_end`), and its fingerprint: a read of what the
/// transaction changed that does not lead to `expected` is never trusted
/// alone (only a whole read may conclude that the steps missed their end
/// state), so the whole catalog is then read again.
pub async fn read_end_state(
    client: &impl tokio_postgres::GenericClient,
    before: Option<Snapshot>,
    expected: &Fingerprint,
    options: &crate::pipeline::Options,
) -> Result<EndState, DbError> {
    read_end_state_expecting(client, before, expected, options, None).await
}

/// `read_end_state`, with the desired catalog's JSON written ahead when the
/// caller has it (see `expected`).
async fn read_end_state_expecting(
    client: &impl tokio_postgres::GenericClient,
    before: Option<Snapshot>,
    expected: &Fingerprint,
    options: &crate::pipeline::Options,
    ahead: Option<Expected>,
) -> Result<EndState, DbError> {
    let (catalog, read) = read_end(client, before, options).await?;
    let (fingerprint, json) = end_state_expecting(&catalog, expected, ahead).await;
    if fingerprint == *expected || read != EndRead::Changes {
        return Ok(EndState {
            catalog,
            fingerprint,
            json,
            missed: None,
        });
    }
    let (whole, _) = read_end(client, None, options).await?;
    let (whole_fingerprint, whole_json) = end_state(&whole);
    let missed = (whole_fingerprint == *expected).then(|| differences(&catalog, &whole));
    Ok(EndState {
        catalog: whole,
        fingerprint: whole_fingerprint,
        json: whole_json,
        missed,
    })
}

/// Sends the configured `lock_timeout` and `statement_timeout` (through
/// `set_config`, so the server checks the values), for the transaction only
/// when `local`.
async fn set_timeouts(client: &tokio_postgres::Client, options: &ApplyOptions, local: bool) -> Result<(), ApplyError> {
    for (name, value) in [
        ("lock_timeout", &options.lock_timeout),
        ("statement_timeout", &options.statement_timeout),
    ] {
        if let Some(value) = value {
            client
                .execute(
                    "SELECT pg_catalog.set_config($1, $2, $3)",
                    &[&name, &value.as_str(), &local],
                )
                .await
                .map_err(query_error(format!("cannot set {name} to {value}")))?;
        }
    }
    Ok(())
}

/// Runs one statement of `step`, naming the step when it fails.
/// How many of the steps' statements are sent ahead of the one whose
/// answer `run_steps` waits for.
const STATEMENTS_AHEAD: usize = 64;

/// Runs every step's statements in order, in the transaction open on
/// `client`, telling `observer` as each step begins. The statements are sent
/// ahead of their answers (up to `STATEMENTS_AHEAD`; tokio-postgres pipelines
/// the requests of futures polled together): the server runs them one after
/// the other as it would one at a time, without waiting a round trip between
/// them. After a statement fails, PostgreSQL refuses every later one in the
/// same transaction ("current transaction is aborted"), so nothing sent
/// ahead can run: the first failure is the one reported, and the caller
/// rolls back.
async fn run_steps(
    client: &tokio_postgres::Client,
    document: &PlanDocument,
    started: Instant,
    observer: &mut impl Observer,
) -> Result<(), ApplyError> {
    use futures_util::StreamExt;
    let total = document.steps.len();
    let statements = document
        .steps
        .iter()
        .flat_map(|step| step.forward.iter().map(move |statement| (step, statement)));
    let mut answers =
        futures_util::stream::iter(statements.map(|(step, statement)| run_statement(client, step, total, statement)))
            .buffered(STATEMENTS_AHEAD);
    for step in &document.steps {
        observer.step(&StepStarted {
            index: step.index,
            total,
            description: &step.description,
            statements: &step.forward,
            elapsed: started.elapsed(),
            retry: None,
        });
        for _ in &step.forward {
            // One answer per statement, in order: the stream cannot end first.
            if let Some(answer) = answers.next().await {
                answer?;
            }
        }
    }
    Ok(())
}

async fn run_statement(
    client: &tokio_postgres::Client,
    step: &crate::render::StepDoc,
    total: usize,
    statement: &str,
) -> Result<(), ApplyError> {
    client.batch_execute(statement).await.map_err(|e| {
        let db = e.as_db_error();
        ApplyError::Statement(Box::new(FailedStatement {
            step: step.index,
            steps: total,
            description: step.description.clone(),
            statement: statement.to_string(),
            source: step.source.clone(),
            message: crate::db::error_message(&e),
            detail: db.and_then(|d| d.detail()).map(str::to_string),
            hint: db.and_then(|d| d.hint()).map(str::to_string),
            lock_not_available: e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE),
            outcome: NOTHING_CHANGED.to_string(),
        }))
    })
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
