//! The command line: arguments in, library calls, text out, an exit status.
//!
//! Thin on purpose: commands write to the `Output` they are given and return
//! an `ExitStatus`, so they are tested without spawning the binary. Every
//! failure ends here as a message on stderr and a non-zero status; nothing
//! panics and nothing prints an error and exits 0.

mod apply;
mod context;
mod plan;
mod report;

pub use context::Context;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// The contract of converge's exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success (and, for `plan --exit-code`, nothing to do).
    Success = 0,
    /// An error: bad input, an unreachable server, a failed statement.
    Failure = 1,
    /// `plan --exit-code` found changes.
    Changes = 2,
    /// Refused: a hazard that is not allowed, or drift since the plan.
    Refused = 3,
}

#[derive(Debug, Parser)]
#[command(
    name = "converge",
    version,
    about = "Declarative schema migrations for PostgreSQL",
    long_about = "Declarative schema migrations for PostgreSQL.\n\n\
        Keep the schema you want as plain SQL files (schema/ by default). \
        `converge plan` shows the SQL that takes a database there, with its rollback and hazards; \
        `converge apply` runs it in one verified transaction.\n\n\
        Exit codes: 0 success; 1 error; 2 `plan --exit-code` found changes; 3 refused \
        (a hazard that is not allowed, or the target changed since the plan)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the SQL that would make the target match the desired files
    #[command(after_help = "Examples:\n  \
        converge plan                                   # local development database, schema/\n  \
        converge plan --url postgres://app@db/app --dev-url postgres://app@db/postgres\n  \
        converge plan --out generated/next --exit-code  # write forward.sql, rollback.sql, plan.json")]
    Plan(PlanArgs),
    /// Make the target match the desired files, in one verified transaction
    #[command(after_help = "Examples:\n  \
        converge apply --yes                            # local development database, schema/\n  \
        converge apply --url \"$DATABASE_URL\" --allow-hazards data-loss")]
    Apply(ApplyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Desired schema files or directories (recursively, *.sql); repeatable
    #[arg(long = "schema", value_name = "PATH", default_value = "schema")]
    pub schema: Vec<PathBuf>,
    /// The database to change [default: $DATABASE_URL, else the local development database]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A server where converge may create and drop temporary databases for the
    /// desired state [default: converge's local embedded server]
    #[arg(long = "dev-url", value_name = "URL")]
    pub dev_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Summary, forward SQL and rollback SQL
    Text,
    /// The forward SQL script only
    Sql,
    /// plan.json
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write forward.sql, rollback.sql and plan.json into DIR
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes, 0 when there are none
    #[arg(long = "exit-code")]
    pub exit_code: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub common: Common,
    /// Apply without asking for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Hazard kinds to allow, comma-separated (data-loss), or `all`
    #[arg(long = "allow-hazards", value_name = "KIND,...", value_delimiter = ',')]
    pub allow_hazards: Vec<String>,
    /// Do not record the apply in the converge.history table (for throwaway
    /// databases, such as test fixtures)
    #[arg(long = "no-history", env = "CONVERGE_NO_HISTORY", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_history: bool,
}

/// Where commands write: standard output for results, standard error for
/// messages, and whether they are terminals.
pub struct Output<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub color: bool,
    pub interactive: bool,
}

/// Runs a parsed command line to its exit status, cleaning up shadow
/// databases and the embedded server also when interrupted.
pub async fn run(cli: Cli, output: &mut Output<'_>) -> ExitStatus {
    let context = Context::new();
    let status = tokio::select! {
        status = dispatch(&cli, &context, output) => status,
        signal = interrupted() => {
            let _ = writeln!(output.err, "converge: interrupted by {signal}; cleaning up, nothing was applied");
            ExitStatus::Failure
        }
    };
    context.shutdown().await;
    status
}

async fn dispatch(cli: &Cli, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    match &cli.command {
        Command::Plan(args) => plan::run(args, context, output).await,
        Command::Apply(args) => apply::run(args, context, output).await,
    }
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}
