//! The commands around `plan` and `apply`: `check`, `dump`, `init`,
//! `completions` and `man`.

use super::report;
use super::{CheckArgs, Cli, Context, DumpArgs, ExitStatus, Output};
use crate::config::{FILE_NAME, STARTER, Settings};
use crate::dump::{DumpOptions, dump as dump_files, write};
use clap::CommandFactory;
use std::path::Path;

/// `converge check`: the desired files parse and load, with no target.
pub async fn check(args: &CheckArgs, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    let flags = Settings {
        schema: (!args.schema.is_empty()).then(|| args.schema.clone()),
        dev_url: args.dev_url.clone(),
        ..Default::default()
    };
    let settings = match context.settings(&flags) {
        Ok(s) => s,
        Err(e) => return report::error(output, e),
    };
    let desired = match super::plan::load_desired(&settings.schema, output) {
        Ok(d) => d,
        Err(status) => return status,
    };
    let shadow = match context.shadow_server(settings.dev_url.as_deref()).await {
        Ok(s) => s,
        Err(e) => return report::error(output, e),
    };
    let snapshot = match crate::pipeline::read_desired(&desired, &shadow, context.janitor()).await {
        Ok(s) => s,
        Err(e) => return report::pipeline(output, e, &desired.sources),
    };
    if !output.quiet {
        let catalog = snapshot.catalog.filtered(&settings.options.filter);
        let _ = writeln!(
            output.err,
            "ok: {} file{}, {} statement{}, {} object{} ({} table{}) load on PostgreSQL {}",
            desired.sources.files.len(),
            plural(desired.sources.files.len()),
            desired.statements.len(),
            plural(desired.statements.len()),
            catalog.len(),
            plural(catalog.len()),
            catalog.tables.len(),
            plural(catalog.tables.len()),
            server_version(snapshot.server_version)
        );
    }
    ExitStatus::Success
}

/// `converge dump`: the target's schema as desired-state files.
pub async fn dump(args: &DumpArgs, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    let flags = Settings {
        url: args.url.clone(),
        ..Default::default()
    };
    let settings = match context.settings(&flags) {
        Ok(s) => s,
        Err(e) => return report::error(output, e),
    };
    let target = match context.target(settings.url.as_deref()).await {
        Ok(t) => t,
        Err(e) => return report::error(output, e),
    };
    let mut snapshot = match crate::pipeline::read_target(&target).await {
        Ok(s) => s,
        Err(e) => return report::error(output, e),
    };
    snapshot.catalog = snapshot.catalog.filtered(&settings.options.filter);
    let options = DumpOptions {
        owners: settings.options.manage_owners,
    };
    let files = match dump_files(&snapshot, &options) {
        Ok(f) => f,
        Err(e) => return report::error(output, e),
    };
    if let Err(e) = write(&files, &args.out, args.force) {
        return report::error(output, e);
    }
    if !output.quiet {
        let _ = writeln!(
            output.err,
            "wrote {} file{} under {} ({} object{} of {target}); `converge plan --schema {}` should now report no changes",
            files.len(),
            plural(files.len()),
            args.out.display(),
            snapshot.catalog.len(),
            plural(snapshot.catalog.len()),
            args.out.display()
        );
    }
    ExitStatus::Success
}

/// `converge init`: a commented `converge.toml` and `schema/`, never
/// overwriting either.
pub fn init(output: &mut Output<'_>) -> ExitStatus {
    let config = Path::new(FILE_NAME);
    if config.exists() {
        return report::error(
            output,
            format!("{FILE_NAME} already exists; converge init leaves it as it is (remove it to start over)"),
        );
    }
    if let Err(e) = std::fs::write(config, STARTER) {
        return report::error(output, format!("cannot write {FILE_NAME}: {e}"));
    }
    let schema = Path::new("schema");
    let created_schema = !schema.exists();
    if created_schema && let Err(e) = std::fs::create_dir(schema) {
        return report::error(output, format!("cannot create schema/: {e}"));
    }
    if !output.quiet {
        let _ = writeln!(
            output.err,
            "wrote {FILE_NAME}{}.\nNext: write your schema as .sql files in schema/ (or `converge dump --url URL --out schema/ --force` \
             an existing database), then `converge plan`.\nAdd .converge/ (the local development server) to .gitignore.",
            if created_schema {
                " and schema/"
            } else {
                " (schema/ exists, left as it is)"
            }
        );
    }
    ExitStatus::Success
}

/// `converge completions SHELL`.
pub fn completions(shell: clap_complete::Shell, output: &mut Output<'_>) -> ExitStatus {
    clap_complete::generate(shell, &mut Cli::command(), "converge", output.out);
    ExitStatus::Success
}

/// `converge man`.
pub fn man(output: &mut Output<'_>) -> ExitStatus {
    match clap_mangen::Man::new(Cli::command()).render(output.out) {
        Ok(()) => ExitStatus::Success,
        Err(e) => report::error(output, format!("cannot write the man page: {e}")),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `170004` as `17.4`.
fn server_version(num: i32) -> String {
    format!("{}.{}", num / 10000, num % 10000)
}
