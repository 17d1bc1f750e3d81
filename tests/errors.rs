//! Desired states that must be rejected, once per `fixtures/errors/<case>/`:
//! converge must fail with a diagnostic of the expected kind at the expected
//! line (`expect.txt`: `<kind> <line>`), and the rendered diagnostic must match
//! its reviewed snapshot. `old.sql`, when present, is loaded into the target
//! first; the target must be unchanged afterwards.

mod support;

use converge::diagnostic::{Code, SourceText, line_column, render_text};
use converge::pipeline::{PipelineError, TargetRead, plan};
use converge::shadow::Janitor;
use converge::source::{Desired, Sources};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn main() {
    let args = Arguments::from_args();
    let mut cases: Vec<PathBuf> = std::fs::read_dir("fixtures/errors")
        .expect("fixtures/errors exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let trials = cases
        .into_iter()
        .map(|dir| {
            let name = format!("errors/{}", dir.file_name().unwrap_or_default().to_string_lossy());
            Trial::test(name, move || run_case(&dir))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_case(dir: &Path) -> Result<(), Failed> {
    let case = dir.file_name().unwrap_or_default().to_string_lossy().to_string();
    let expect = std::fs::read_to_string(dir.join("expect.txt"))
        .map_err(|_| format!("errors/{case}: needs expect.txt (`<kind> <line>`)"))?;
    let mut parts = expect.split_whitespace();
    let (kind, line) = (
        parts.next().unwrap_or(""),
        parts.next().and_then(|l| l.parse::<usize>().ok()),
    );
    let desired_path = if dir.join("new").is_dir() {
        dir.join("new")
    } else {
        dir.join("new.sql")
    };
    let old = std::fs::read_to_string(dir.join("old.sql")).ok();

    let sources = Sources::read(&[desired_path]).map_err(|d| format!("errors/{case}: {}", d.message))?;
    let rt = support::runtime();
    let diagnostics = rt.block_on(async {
        let desired = match Desired::from_sources(sources.clone()) {
            Ok(d) => d,
            Err(diagnostics) => return Ok(diagnostics),
        };
        let target = support::fresh_db(&format!("err_{case}")).await;
        if let Some(old) = &old {
            support::load(&target, old).await?;
        }
        let before = support::canonical::dump(&target).await?;
        let result = plan(desired, &target, &support::admin(), &Janitor::default(), &Default::default(), TargetRead::Catalog).await;
        let after = support::canonical::dump(&target).await?;
        support::drop_db(&target).await;
        if before != after {
            return Err(format!("errors/{case}: the target changed although planning failed"));
        }
        match result {
            Err(PipelineError::Source(diagnostics)) => Ok(diagnostics),
            Err(other) => Err(format!("errors/{case}: failed, but without a located diagnostic: {other}")),
            Ok(_) => Err(format!(
                "errors/{case}: converge accepted this desired state; cases under errors/ must fail (move it to another group if it is valid)"
            )),
        }
    })?;

    let first = diagnostics
        .first()
        .ok_or_else(|| format!("errors/{case}: no diagnostic"))?;
    let expected_codes: &[Code] = match kind {
        "syntax" => &[Code::Syntax],
        "not-schema" => &[Code::NotSchema, Code::MetaCommand],
        "shadow" => &[Code::ShadowLoad],
        "unsupported" => &[Code::Unsupported],
        other => return Err(format!("errors/{case}: unknown kind `{other}` in expect.txt").into()),
    };
    if !expected_codes.contains(&first.code) {
        return Err(format!(
            "errors/{case}: expected a {kind} diagnostic, got {:?}: {}",
            first.code, first.message
        )
        .into());
    }
    let label = first
        .primary
        .as_ref()
        .ok_or_else(|| format!("errors/{case}: the diagnostic has no location"))?;
    let text = sources.text(&label.span.path).unwrap_or_default();
    let (got_line, _) = line_column(text, label.span.start);
    if let Some(line) = line
        && got_line != line
    {
        return Err(format!(
            "errors/{case}: points at line {got_line}, expected line {line}: {}",
            first.message
        )
        .into());
    }
    let rendered: Vec<String> = diagnostics.iter().map(|d| render_text(d, &sources, false)).collect();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../fixtures/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(format!("diagnostic for fixtures/errors/{case}"));
    settings.bind(|| insta::assert_snapshot!(format!("errors__{case}"), rendered.join("\n")));
    Ok(())
}
