//! `converge apply`.

use super::report;
use super::settings::{Resolved, common_flags};
use super::{ApplyArgs, Context, ExitStatus, Output};
use crate::apply::{
    ApplyError, ApplyOptions, BackupRecord, Kind, KnownStart, Observer, Request, StepStarted, execute, refused_steps,
};
use crate::catalog::Catalog;
use crate::config::Settings;
use crate::db::Endpoint;
use crate::pipeline::{PipelineError, Planned, TargetRead, normalize, read_target_for};
use crate::render::{PlanDocument, summary_of};
use std::io::BufRead;

pub async fn run(args: &ApplyArgs, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    let flags = Settings {
        allow_hazards: args.allow_hazards.clone(),
        backup_dir: args.backup.clone(),
        lock_timeout: args.lock_timeout.clone(),
        statement_timeout: args.statement_timeout.clone(),
        ..common_flags(&args.common)
    };
    let settings = match context.settings(&flags) {
        Ok(s) => s,
        Err(e) => return report::error(output, e),
    };
    if settings.protected && args.plan.is_none() {
        let env = settings.env.as_deref().unwrap_or("default");
        let _ = writeln!(
            output.err,
            "error: refused: environment `{env}` is protected: it is changed only by a reviewed plan.\n  \
             generate one with `converge plan --env {env} --out generated/<name>`, review and commit it, \
             then `converge apply --env {env} --plan generated/<name>`"
        );
        return ExitStatus::Refused;
    }
    let target = match context.target(settings.url.as_deref()).await {
        Ok(t) => t,
        Err(e) => return report::error(output, e),
    };
    // The document to apply: a reviewed plan read back, or a plan made now.
    let (document, planned) = match &args.plan {
        Some(dir) => match PlanDocument::read(dir) {
            Ok(d) => (d, None),
            Err(e) if e.is_tampering() => {
                let _ = writeln!(output.err, "error: refused: {e}");
                return ExitStatus::Refused;
            }
            Err(e) => return report::error(output, e),
        },
        None => match make_plan(&settings, context, output, TargetRead::ToApply).await {
            Ok(p) => (p.document(), Some(p)),
            Err(status) => return status,
        },
    };
    if document.is_empty() {
        if !output.quiet {
            let _ = writeln!(output.err, "No changes: {target} already matches the desired schema.");
        }
        return ExitStatus::Success;
    }
    let refusals = refused_steps(&document, &settings.allowed);
    if !refusals.is_empty() {
        return report_refusal(output, &refusals);
    }
    // Pre-flight and data checks, against the catalog the plan starts from.
    // A reviewed plan's starting point is read from the target: when nothing
    // is asked before applying and nothing backed up, the checks run inside
    // the apply on the starting point its drift check reads there (one read
    // of the target instead of two); else on a read of their own, before the
    // question, which the apply then starts from if no catalog row changed
    // meanwhile.
    let checks_in_apply = planned.is_none()
        && settings.backup_dir.is_none()
        && confirmed_up_front(args.yes, args.confirm.as_deref(), &settings);
    let read_plan;
    let mut read_current = None;
    let checked_before = match (planned.as_ref(), checks_in_apply) {
        (Some(p), _) => Some((&p.plan, &p.current.catalog)),
        (None, true) => None,
        (None, false) => {
            let (mut snapshot, rows) = match read_target_for(&target, TargetRead::ToApply).await {
                Ok(read) => read,
                Err(e) => return report::error(output, e),
            };
            snapshot.catalog = normalize(std::mem::take(&mut snapshot.catalog), &document.options);
            read_plan = document.plan();
            Some((&read_plan, &read_current.insert((snapshot, rows)).0.catalog))
        }
    };
    if let Some((plan, current)) = checked_before
        && let Some(status) = super::safety::before_apply(&args.safety, &target, None, plan, current, output).await
    {
        return status;
    }
    if let Err(status) = confirm(args.yes, args.confirm.as_deref(), &settings, &document, &target, output) {
        return status;
    }
    let backup = match (&settings.backup_dir, checked_before) {
        (Some(dir), Some((_, current))) => match backup(&target, &document, current, dir, output).await {
            Ok(b) => b,
            Err(status) => return status,
        },
        _ => None,
    };
    let plan_source = args.plan.as_ref().map(|d| d.display().to_string());
    // What was read of the target before (by a plan made now, or for the
    // checks) is given to the apply.
    let (desired, start) = match planned {
        Some(Planned {
            desired_snapshot,
            current,
            current_rows,
            fingerprints,
            ..
        }) => (
            Some(std::sync::Arc::new(desired_snapshot.catalog)),
            KnownStart::of_plan(current, current_rows, fingerprints.current_catalog),
        ),
        None => (
            None,
            read_current.and_then(|(snapshot, rows)| KnownStart::of_read(snapshot, rows)),
        ),
    };
    let request = Request {
        document: &document,
        desired,
        kind: Kind::Apply,
        environment: settings.env.as_deref(),
        plan_source: plan_source.as_deref(),
        backup: backup.as_ref(),
        start,
    };
    let options = settings.apply_options(!args.no_history);
    let checks = checks_in_apply.then(|| ChecksInApply {
        args: &args.safety,
        target: &target,
        plan: document.plan(),
    });
    run_request(&target, request, &options, output, "Applied", checks).await
}

/// Whether `confirm` lets the apply go without asking: `--yes`, or for a
/// protected environment `--confirm` with its name.
fn confirmed_up_front(yes: bool, confirm_env: Option<&str>, settings: &Resolved) -> bool {
    let env = settings.env.as_deref().unwrap_or("default");
    match settings.protected {
        true => confirm_env == Some(env),
        false => yes,
    }
}

/// The pre-flight and data checks of a reviewed plan, run inside the apply
/// on the starting point it has checked (see `run`).
pub struct ChecksInApply<'a> {
    args: &'a super::safety::SafetyArgs,
    target: &'a Endpoint,
    plan: crate::plan::Plan,
}

/// Runs a request with progress reports (and `checks` before its first
/// step) and reports its outcome; shared by `apply` and `rollback`.
pub async fn run_request(
    target: &Endpoint,
    request: Request<'_>,
    options: &ApplyOptions,
    output: &mut Output<'_>,
    done: &str,
    checks: Option<ChecksInApply<'_>>,
) -> ExitStatus {
    let mut progress = Progress::new(output, checks);
    let result = execute(target, request, options, &mut progress).await;
    progress.finish();
    match result {
        Ok(applied) => {
            if !output.quiet {
                let _ = writeln!(
                    output.err,
                    "{done} {} step{} to {target} in {} ms{}.",
                    applied.steps,
                    if applied.steps == 1 { "" } else { "s" },
                    applied.elapsed.as_millis(),
                    match applied.history_id {
                        Some(id) => format!(" (converge.history id {id})"),
                        None => " (not recorded: --no-history)".to_string(),
                    }
                );
            }
            ExitStatus::Success
        }
        Err(ApplyError::Refused(refusals)) => report_refusal(output, &refusals),
        // The checks reported it themselves.
        Err(ApplyError::BeforeSteps { refused: true, .. }) => ExitStatus::Refused,
        Err(ApplyError::BeforeSteps { refused: false, .. }) => ExitStatus::Failure,
        Err(e) if e.is_refusal() => {
            let _ = writeln!(output.err, "error: {e}");
            ExitStatus::Refused
        }
        Err(e) => report::error(output, e),
    }
}

/// Asks before changing anything: `--yes` or `y` on a terminal; for a
/// protected environment, its name typed on the terminal or `--confirm NAME`.
pub fn confirm(
    yes: bool,
    confirm_env: Option<&str>,
    settings: &Resolved,
    document: &PlanDocument,
    target: &Endpoint,
    output: &mut Output<'_>,
) -> Result<(), ExitStatus> {
    let env = settings.env.as_deref().unwrap_or("default");
    if confirmed_up_front(yes, confirm_env, settings) {
        return Ok(());
    }
    if settings.protected
        && let Some(given) = confirm_env
    {
        let _ = writeln!(
            output.err,
            "error: refused: --confirm {given} does not name the environment being changed (`{env}`)"
        );
        return Err(ExitStatus::Refused);
    }
    if !output.interactive {
        let how = if settings.protected {
            format!("pass --confirm {env}")
        } else {
            "pass --yes".to_string()
        };
        let _ = writeln!(
            output.err,
            "error: refused to apply without confirmation: standard input is not a terminal; {how}"
        );
        return Err(ExitStatus::Failure);
    }
    let _ = write!(
        output.err,
        "{}\n{}\n",
        summary_of(&document.steps, output.color),
        document.forward_sql()
    );
    let n = document.steps.len();
    if settings.protected {
        let _ = write!(
            output.err,
            "Environment `{env}` is protected. Type its name to apply these {n} steps to {target}: "
        );
    } else {
        let _ = write!(output.err, "Apply these {n} steps to {target}? [y/N] ");
    }
    let _ = output.err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    let answer = answer.trim();
    let yes = if settings.protected {
        answer == env
    } else {
        matches!(answer, "y" | "Y" | "yes" | "YES" | "Yes")
    };
    if yes {
        Ok(())
    } else {
        let _ = writeln!(output.err, "Not applied.");
        Err(ExitStatus::Failure)
    }
}

/// `--backup DIR`: dumps the data the plan's data-loss steps destroy.
async fn backup(
    target: &Endpoint,
    document: &PlanDocument,
    current: &Catalog,
    dir: &std::path::Path,
    output: &mut Output<'_>,
) -> Result<Option<BackupRecord>, ExitStatus> {
    let relations = crate::backup::relations_at_risk(document, current);
    if relations.is_empty() {
        if !output.quiet {
            let _ = writeln!(output.err, "backup: no step destroys data; nothing to back up");
        }
        return Ok(None);
    }
    let taken = crate::backup::take(target, &relations, dir)
        .await
        .map_err(|e| report::error(output, e))?;
    if !output.quiet {
        let _ = writeln!(
            output.err,
            "backup: {} ({} bytes, sha256 {}) holds the data of {}; restore with `pg_restore --data-only -d <database> {}`",
            taken.path.display(),
            taken.bytes,
            taken.sha256.short(),
            taken.relations.join(", "),
            taken.path.display()
        );
    }
    Ok(Some(BackupRecord {
        path: taken.path.display().to_string(),
        sha256: taken.sha256.0,
    }))
}

/// Progress of a running apply: one line rewritten in place on a terminal,
/// plain log lines otherwise; statements too with `-v`; nothing with `-q`.
/// And the checks to run before its first step, if any.
struct Progress<'o, 'a, 'c> {
    output: &'o mut Output<'a>,
    live: bool,
    checks: Option<ChecksInApply<'c>>,
}

impl Observer for Progress<'_, '_, '_> {
    async fn before_steps(&mut self, client: &tokio_postgres::Client, start: &Catalog) -> Result<(), ApplyError> {
        let Some(checks) = &self.checks else {
            return Ok(());
        };
        // Reported as they are found; the first line also says why in the
        // history row of the refused attempt.
        let mut report = Vec::new();
        let status = {
            let mut sink = std::io::sink();
            let mut out = Output {
                out: &mut sink,
                err: &mut report,
                ..*self.output
            };
            super::safety::before_apply(checks.args, checks.target, Some(client), &checks.plan, start, &mut out).await
        };
        let _ = self.output.err.write_all(&report);
        match status {
            None => Ok(()),
            Some(status) => {
                let report = String::from_utf8_lossy(&report);
                let first = report.lines().next().unwrap_or_default();
                Err(ApplyError::BeforeSteps {
                    refused: status == ExitStatus::Refused,
                    summary: first
                        .strip_prefix("error: ")
                        .unwrap_or(first)
                        .trim_end_matches(':')
                        .to_string(),
                })
            }
        }
    }

    fn step(&mut self, s: &StepStarted<'_>) {
        Progress::step(self, s);
    }
}

impl<'o, 'a, 'c> Progress<'o, 'a, 'c> {
    fn new(output: &'o mut Output<'a>, checks: Option<ChecksInApply<'c>>) -> Self {
        let live = output.err_terminal && !output.verbose && !output.quiet;
        Progress { output, live, checks }
    }

    fn step(&mut self, s: &StepStarted<'_>) {
        if self.output.quiet {
            return;
        }
        let elapsed = s.elapsed.as_secs_f64();
        if let Some(r) = &s.retry {
            if self.live {
                let _ = writeln!(self.output.err);
            }
            let _ = writeln!(
                self.output.err,
                "step {}/{}: {}; attempt {}/{} after waiting {} ms",
                s.index,
                s.total,
                r.message,
                r.attempt,
                r.attempts,
                r.waited.as_millis()
            );
        }
        if self.live {
            let _ = write!(
                self.output.err,
                "\r\x1b[2K[{}/{}] {elapsed:.1}s {}",
                s.index,
                s.total,
                truncate(s.description, 70)
            );
            let _ = self.output.err.flush();
        } else {
            let _ = writeln!(
                self.output.err,
                "step {}/{} ({elapsed:.1}s): {}",
                s.index, s.total, s.description
            );
            if self.output.verbose {
                for statement in s.statements {
                    let _ = writeln!(self.output.err, "  {statement};");
                }
            }
        }
    }

    fn finish(&mut self) {
        if self.live {
            let _ = write!(self.output.err, "\r\x1b[2K");
            let _ = self.output.err.flush();
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

pub fn report_refusal(output: &mut Output<'_>, refusals: &[crate::apply::RefusedStep]) -> ExitStatus {
    let _ = writeln!(
        output.err,
        "error: refused to apply: {} step(s) have hazards that are not allowed",
        refusals.len()
    );
    let mut kinds: Vec<&str> = Vec::new();
    for r in refusals {
        let _ = writeln!(
            output.err,
            "  step {} ({}): {}: {}",
            r.index, r.description, r.kind, r.message
        );
        if !kinds.contains(&r.kind.as_str()) {
            kinds.push(r.kind.as_str());
        }
    }
    let _ = writeln!(
        output.err,
        "nothing was changed; to allow these, pass --allow-hazards {}",
        kinds.join(",")
    );
    ExitStatus::Refused
}

/// Reads the desired files and plans against the target (shared by `plan`);
/// the files are parsed only when the desired-catalog cache does not have them.
pub async fn make_plan(
    settings: &Resolved,
    context: &Context,
    output: &mut Output<'_>,
    read: TargetRead,
) -> Result<Planned, ExitStatus> {
    let sources = super::plan::read_sources(&settings.schema, output)?;
    let servers = async {
        let target = context.target(settings.url.as_deref()).await?;
        let shadow = context.shadow(settings.dev_url.as_deref())?;
        Ok::<_, String>((target, shadow))
    };
    let (target, shadow) = match servers.await {
        Ok(servers) => servers,
        // Problems in the files come first, as when they were parsed before
        // anything else.
        Err(e) => {
            return Err(match crate::source::Desired::from_sources(sources.clone()) {
                Err(diagnostics) => report::pipeline(output, PipelineError::Source(diagnostics), &sources),
                Ok(_) => report::error(output, e),
            });
        }
    };
    // The files' text is not held while the plan is made (~7 MB at 5,000
    // tables, held at the plan's peak memory). Only problems found in the
    // files show it, so they read the files again: the same files, or the
    // problems are shown without their text.
    let digest = sources.digest();
    crate::pipeline::plan_sources(sources, &target, &shadow, context.janitor(), &settings.options, read)
        .await
        .map_err(|e| {
            let text = match &e {
                PipelineError::Source(_) => crate::source::Sources::read(&settings.schema)
                    .ok()
                    .filter(|again| again.digest() == digest)
                    .unwrap_or_default(),
                _ => crate::source::Sources::default(),
            };
            report::pipeline(output, e, &text)
        })
}
