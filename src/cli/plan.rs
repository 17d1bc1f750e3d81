//! `converge plan`.

use super::report;
use super::settings::common_flags;
use super::{Context, ExitStatus, Format, Output, PlanArgs};
use crate::config::Settings;
use crate::render::{PlanFiles, summary_of};
use crate::source::{Desired, Sources};

pub async fn run(args: &PlanArgs, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    let flags = Settings {
        format: args.format.map(|f| f.name().to_string()),
        ..common_flags(&args.common)
    };
    let settings = match context.settings(&flags) {
        Ok(s) => s,
        Err(e) => return report::error(output, e),
    };
    let planned = match super::apply::make_plan(&settings, context, output, crate::pipeline::TargetRead::Catalog).await
    {
        // Both catalogs of a big database are millions of small allocations:
        // the process, which ends after this command, gives them back at
        // once instead of freeing them one by one.
        Ok(p) => std::mem::ManuallyDrop::new(p),
        Err(status) => return status,
    };
    let started = std::time::Instant::now();
    let document = planned.document();
    let files = document.files();
    crate::timings::record("plan document and scripts", started);
    if let (Some(dir), true) = (&args.out, args.check) {
        return check_files(&files, dir, output);
    }
    if let Some(dir) = &args.out
        && let Err(e) = files.write(dir)
    {
        return report::error(output, format!("cannot write the plan to {}: {e}", dir.display()));
    }
    let text = match settings.format {
        Format::Text => {
            let mut t = summary_of(&document.steps, output.color);
            if !document.is_empty() {
                t.push_str("\n-- Forward SQL\n\n");
                t.push_str(&document.forward_sql());
                t.push_str("\n-- Rollback SQL\n\n");
                t.push_str(&document.rollback_sql());
            }
            t
        }
        Format::Sql => files.forward.clone(),
        Format::Json => files.json.clone(),
    };
    if let Err(e) = output.out.write_all(text.as_bytes()) {
        return report::error(output, format!("cannot write the plan: {e}"));
    }
    if let (Some(dir), false) = (&args.out, output.quiet) {
        let _ = writeln!(
            output.err,
            "wrote {}/{{forward.sql,rollback.sql,plan.json}}",
            dir.display()
        );
    }
    if args.check_data && !planned.plan.is_empty() {
        let target = match context.target(settings.url.as_deref()).await {
            Ok(t) => t,
            Err(e) => return report::error(output, e),
        };
        if let Some(status) = super::safety::data_checks(
            &target,
            &planned.plan,
            &planned.current.catalog,
            output,
            "apply would refuse",
            "then plan again",
        )
        .await
        {
            return status;
        }
    }
    if args.exit_code && !planned.plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

/// `--check`: the committed plan in `dir` must be what converge plans now.
fn check_files(files: &PlanFiles, dir: &std::path::Path, output: &mut Output<'_>) -> ExitStatus {
    let stale = files.stale(dir);
    if stale.is_empty() {
        if !output.quiet {
            let _ = writeln!(output.err, "{} is up to date", dir.display());
        }
        return ExitStatus::Success;
    }
    let names: Vec<String> = stale.iter().map(|n| dir.join(n).display().to_string()).collect();
    report::error(
        output,
        format!(
            "the plan in {} is stale: {} differ{} from what converge plans now; \
             rerun `converge plan --out {}` and commit the result",
            dir.display(),
            names.join(", "),
            if names.len() == 1 { "s" } else { "" },
            dir.display()
        ),
    )
}

/// Reads the desired files (without parsing them), reporting a file that
/// cannot be read.
pub fn read_sources(paths: &[std::path::PathBuf], output: &mut Output<'_>) -> Result<Sources, ExitStatus> {
    Sources::read(paths).map_err(|d| {
        let _ = writeln!(
            output.err,
            "{}",
            crate::diagnostic::render_text(&d, &Sources::default(), output.color)
        );
        ExitStatus::Failure
    })
}

/// Reads and parses the desired files, reporting problems.
pub fn load_desired(paths: &[std::path::PathBuf], output: &mut Output<'_>) -> Result<Desired, ExitStatus> {
    let sources = read_sources(paths, output)?;
    Desired::from_sources(sources.clone())
        .map_err(|diagnostics| report::pipeline(output, crate::pipeline::PipelineError::Source(diagnostics), &sources))
}
