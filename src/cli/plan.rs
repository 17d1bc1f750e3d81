//! `converge plan`.

use super::report;
use super::{Context, ExitStatus, Format, Output, PlanArgs};
use crate::render::{PlanFiles, forward_sql, plan_json, rollback_sql, summary};
use crate::source::{Desired, Sources};

pub async fn run(args: &PlanArgs, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    let planned = match super::apply::make_plan(&args.common, context, output).await {
        Ok(p) => p,
        Err(status) => return status,
    };
    let files = PlanFiles::render(&planned.plan, &planned.fingerprints, planned.current.server_version);
    if let Some(dir) = &args.out {
        if let Err(e) = files.write(dir) {
            return report::error(output, format!("cannot write the plan to {}: {e}", dir.display()));
        }
    }
    let text = match args.format {
        Format::Text => {
            let mut t = summary(&planned.plan, output.color);
            if !planned.plan.is_empty() {
                t.push_str("\n-- Forward SQL\n\n");
                t.push_str(&forward_sql(&planned.plan));
                t.push_str("\n-- Rollback SQL\n\n");
                t.push_str(&rollback_sql(&planned.plan));
            }
            t
        }
        Format::Sql => forward_sql(&planned.plan),
        Format::Json => {
            let json = plan_json(&planned.plan, &planned.fingerprints, planned.current.server_version);
            format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default())
        }
    };
    if let Err(e) = output.out.write_all(text.as_bytes()) {
        return report::error(output, format!("cannot write the plan: {e}"));
    }
    if let Some(dir) = &args.out {
        let _ = writeln!(
            output.err,
            "wrote {}/{{forward.sql,rollback.sql,plan.json}}",
            dir.display()
        );
    }
    if args.exit_code && !planned.plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

/// Reads and parses the desired files, reporting problems.
pub fn load_desired(paths: &[std::path::PathBuf], output: &mut Output<'_>) -> Result<Desired, ExitStatus> {
    let sources = Sources::read(paths).map_err(|d| {
        let _ = writeln!(
            output.err,
            "{}",
            crate::diagnostic::render_text(&d, &Sources::default(), output.color)
        );
        ExitStatus::Failure
    })?;
    Desired::from_sources(sources.clone())
        .map_err(|diagnostics| report::pipeline(output, crate::pipeline::PipelineError::Source(diagnostics), &sources))
}
