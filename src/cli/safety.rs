//! The checks `apply` runs after the hazard check and before it changes
//! anything: pre-flight (sessions that would block the apply) and data checks
//! (rows that would make a step fail). Either refuses with exit 3. A
//! reviewed plan applied without a question runs them inside the apply, on
//! the starting point its drift check reads (`cli::apply`).

use super::{ExitStatus, Output};
use crate::catalog::Catalog;
use crate::db::Endpoint;
use crate::plan::Plan;
use clap::Args;
use std::time::Duration;

#[derive(Debug, Clone, Default, Args)]
pub struct SafetyArgs {
    /// Start even when other sessions hold locks on the tables the plan
    /// changes (the apply then waits for them)
    #[arg(long = "ignore-blockers")]
    pub ignore_blockers: bool,
    /// A session holding a lock on a table the plan changes blocks the apply
    /// when its transaction has been open this long
    #[arg(long = "blocker-age", value_name = "SECONDS", default_value_t = 10)]
    pub blocker_age: u64,
    /// Do not check the existing rows against the plan's new constraints
    /// before applying
    #[arg(long = "skip-data-checks")]
    pub skip_data_checks: bool,
}

/// Pre-flight, then data checks. `Some(status)` when the apply must not
/// start. `apply_client`: the apply's own connection, when they run inside
/// the apply (the pre-flight then asks on it).
pub async fn before_apply(
    args: &SafetyArgs,
    target: &Endpoint,
    apply_client: Option<&tokio_postgres::Client>,
    plan: &Plan,
    current: &Catalog,
    output: &mut Output<'_>,
) -> Option<ExitStatus> {
    if !args.ignore_blockers {
        let relations = crate::preflight::touched_relations(plan, current);
        let min_age = Duration::from_secs(args.blocker_age);
        let found = match apply_client {
            Some(client) => crate::preflight::blockers_on(client, &relations, min_age).await,
            None => crate::preflight::blockers(target, &relations, min_age).await,
        };
        match found {
            Ok(blockers) if blockers.is_empty() => {}
            Ok(blockers) => {
                let _ = writeln!(
                    output.err,
                    "error: refused to apply: {} session{} hold{} locks on tables the plan changes, in transactions open {}s or more:",
                    blockers.len(),
                    if blockers.len() == 1 { "" } else { "s" },
                    if blockers.len() == 1 { "s" } else { "" },
                    args.blocker_age
                );
                for b in &blockers {
                    let _ = writeln!(output.err, "  {b}");
                }
                let pids: Vec<String> = blockers.iter().map(|b| b.pid.to_string()).collect();
                let _ = writeln!(
                    output.err,
                    "nothing was changed; wait for them to finish, end them (pg_terminate_backend({})), or pass --ignore-blockers",
                    pids.join("), pg_terminate_backend(")
                );
                return Some(ExitStatus::Refused);
            }
            Err(e) => return Some(super::report::error(output, e)),
        }
    }
    if !args.skip_data_checks {
        return data_checks(
            target,
            plan,
            current,
            output,
            "refused to apply",
            "or pass --skip-data-checks to let PostgreSQL refuse",
        )
        .await;
    }
    None
}

/// Runs the data checks and reports them; `Some(Refused)` when rows would
/// make a step fail. `headline` starts the refusal, `way_out` ends its advice.
pub async fn data_checks(
    target: &Endpoint,
    plan: &Plan,
    current: &Catalog,
    output: &mut Output<'_>,
    headline: &str,
    way_out: &str,
) -> Option<ExitStatus> {
    match crate::precheck::run_plan(target, plan, current).await {
        Ok(report) if report.is_clean() => {
            if !report.unchecked.is_empty() && !output.quiet {
                let _ = write!(output.err, "warning: some data checks could not run:\n{report}");
            }
            None
        }
        Ok(report) => {
            let _ = write!(
                output.err,
                "error: {headline}: {} step{} would fail on rows already in the target:\n{report}",
                report.findings.len(),
                if report.findings.len() == 1 { "" } else { "s" }
            );
            let _ = writeln!(
                output.err,
                "nothing was changed; fix these rows first (or add the constraint NOT VALID), {way_out}"
            );
            Some(ExitStatus::Refused)
        }
        Err(e) => Some(super::report::error(output, e)),
    }
}
