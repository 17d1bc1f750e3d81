//! Reporting failures: diagnostics rustc-style, everything else as one
//! `error:` line.

use super::{ExitStatus, Output};
use crate::diagnostic::{SourceText, render_text};
use crate::pipeline::PipelineError;

pub fn error(output: &mut Output<'_>, message: impl std::fmt::Display) -> ExitStatus {
    let _ = writeln!(output.err, "error: {message}");
    ExitStatus::Failure
}

pub fn pipeline(output: &mut Output<'_>, e: PipelineError, sources: &dyn SourceText) -> ExitStatus {
    match e {
        PipelineError::Source(diagnostics) => {
            for d in &diagnostics {
                let _ = writeln!(output.err, "{}", render_text(d, sources, output.color));
            }
            let _ = writeln!(
                output.err,
                "error: the desired schema has {} problem{}; nothing was planned",
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            );
            ExitStatus::Failure
        }
        other => error(output, other),
    }
}
