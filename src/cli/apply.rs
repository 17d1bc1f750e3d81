//! `converge apply`.

use super::report;
use super::settings::{Resolved, common_flags};
use super::{ApplyArgs, Context, ExitStatus, Output};
use crate::apply::{ApplyError, ApplyOptions, apply, refused};
use crate::config::Settings;
use crate::pipeline::Planned;
use crate::render::{forward_sql, summary};
use std::io::BufRead;

pub async fn run(args: &ApplyArgs, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    let flags = Settings {
        allow_hazards: args.allow_hazards.clone(),
        ..common_flags(&args.common)
    };
    let settings = match context.settings(&flags) {
        Ok(s) => s,
        Err(e) => return report::error(output, e),
    };
    let allowed = settings.allowed.clone();
    let target = match context.target(settings.url.as_deref()).await {
        Ok(t) => t,
        Err(e) => return report::error(output, e),
    };
    let planned = match make_plan(&settings, context, output).await {
        Ok(p) => p,
        Err(status) => return status,
    };
    if planned.plan.is_empty() {
        let _ = writeln!(output.err, "No changes: {target} already matches the desired schema.");
        return ExitStatus::Success;
    }
    let refusals = refused(&planned, &allowed);
    if !refusals.is_empty() {
        return report_refusal(output, &refusals);
    }
    if let Some(status) = super::safety::before_apply(&args.safety, &target, &planned, output).await {
        return status;
    }
    if !args.yes {
        if !output.interactive {
            return report::error(
                output,
                "refusing to apply without confirmation: standard input is not a terminal; pass --yes",
            );
        }
        let _ = write!(
            output.err,
            "{}\n{}\n",
            summary(&planned.plan, output.color),
            forward_sql(&planned.plan)
        );
        let _ = write!(
            output.err,
            "Apply these {} steps to {target}? [y/N] ",
            planned.plan.steps.len()
        );
        let _ = output.err.flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            let _ = writeln!(output.err, "Not applied.");
            return ExitStatus::Failure;
        }
    }
    let options = ApplyOptions {
        allowed,
        record_history: !args.no_history,
    };
    match apply(&target, &planned, &options).await {
        Ok(applied) => {
            let _ = writeln!(
                output.err,
                "Applied {} step{} to {target} in {} ms{}.",
                applied.steps,
                if applied.steps == 1 { "" } else { "s" },
                applied.elapsed.as_millis(),
                match applied.history_id {
                    Some(id) => format!(" (converge.history id {id})"),
                    None => " (not recorded: --no-history)".to_string(),
                }
            );
            ExitStatus::Success
        }
        Err(ApplyError::Refused(refusals)) => report_refusal(output, &refusals),
        Err(e @ ApplyError::Drift { .. }) => {
            let _ = writeln!(output.err, "error: {e}");
            ExitStatus::Refused
        }
        Err(e) => report::error(output, e),
    }
}

fn report_refusal(output: &mut Output<'_>, refusals: &[crate::apply::RefusedStep]) -> ExitStatus {
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

/// Loads the desired files and plans against the target (shared by `plan`).
pub async fn make_plan(settings: &Resolved, context: &Context, output: &mut Output<'_>) -> Result<Planned, ExitStatus> {
    let desired = super::plan::load_desired(&settings.schema, output)?;
    let sources = desired.sources.clone();
    let target = context
        .target(settings.url.as_deref())
        .await
        .map_err(|e| report::error(output, e))?;
    let shadow = context
        .shadow_server(settings.dev_url.as_deref())
        .await
        .map_err(|e| report::error(output, e))?;
    crate::pipeline::plan(desired, &target, &shadow, context.janitor(), &settings.options)
        .await
        .map_err(|e| report::pipeline(output, e, &sources))
}
