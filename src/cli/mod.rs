//! The command line: arguments in, library calls, text out, an exit status.
//!
//! Thin on purpose: commands write to the `Output` they are given and return
//! an `ExitStatus`, so they are tested without spawning the binary. Every
//! failure ends here as a message on stderr and a non-zero status; nothing
//! panics and nothing prints an error and exits 0.

mod apply;
mod context;
mod history;
mod misc;
mod plan;
mod report;
mod safety;
mod settings;

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
        Settings come from flags, then the selected environment of converge.toml, then its defaults.\n\n\
        Exit codes: 0 success; 1 error; 2 `plan --exit-code` found changes; 3 refused \
        (a hazard that is not allowed, or the target changed since the plan)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The configuration file [default: converge.toml, if it exists]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The environment of converge.toml to use [default: its default_environment]
    #[arg(long, short = 'e', global = true, value_name = "NAME")]
    pub env: Option<String>,
    /// Print more: every statement as it runs
    #[arg(long, short = 'v', global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only errors
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the SQL that would make the target match the desired files
    #[command(after_help = "Examples:\n  \
        converge plan                                   # local development database, schema/\n  \
        converge plan --env staging --format json\n  \
        converge plan --url postgres://app@db/app --dev-url postgres://app@db/postgres\n  \
        converge plan --out generated/next --exit-code  # write forward.sql, rollback.sql, plan.json\n  \
        converge plan --out generated/next --check      # fail when the committed plan is stale")]
    Plan(PlanArgs),
    /// Make the target match the desired files, in one verified transaction
    #[command(after_help = "Examples:\n  \
        converge apply --yes                            # local development database, schema/\n  \
        converge apply --url \"$DATABASE_URL\" --allow-hazards data-loss,irreversible")]
    Apply(ApplyArgs),
    /// Show the recent applies of the target and whether it drifted since the last
    #[command(after_help = "Examples:\n  \
        converge status                                 # local development database\n  \
        converge status --env production --limit 20\n  \
        converge status --url \"$DATABASE_URL\" --exit-code  # exit 2 when changed outside converge")]
    Status(StatusArgs),
    /// Undo the last apply (or apply ID) with its recorded rollback SQL
    #[command(after_help = "Examples:\n  \
        converge rollback                               # the last apply not rolled back yet\n  \
        converge rollback 42 --env staging --allow-hazards data-loss")]
    Rollback(RollbackArgs),
    /// Validate the desired files (parse and load them), without any target
    #[command(after_help = "Examples:\n  \
        converge check                                  # schema/, on converge's embedded server\n  \
        converge check --schema db/ --dev-url postgres://me@localhost/postgres")]
    Check(CheckArgs),
    /// Write a database's schema as desired-state files
    #[command(after_help = "Examples:\n  \
        converge dump --url \"$DATABASE_URL\" --out schema/\n  \
        converge dump --env production --out schema/ --force")]
    Dump(DumpArgs),
    /// Write a commented converge.toml and an empty schema/ directory
    #[command(after_help = "Example:\n  converge init")]
    Init,
    /// Print a shell completion script
    #[command(after_help = "Example:\n  converge completions bash > /etc/bash_completion.d/converge")]
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    #[command(after_help = "Example:\n  converge man > converge.1 && man ./converge.1")]
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Desired schema files or directories (recursively, *.sql); repeatable [default: schema]
    #[arg(long = "schema", value_name = "PATH")]
    pub schema: Vec<PathBuf>,
    /// The database to change [default: the environment's, else $DATABASE_URL, else the local development database]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A server where converge may create and drop temporary databases for the
    /// desired state [default: converge's local embedded server]
    #[arg(long = "dev-url", value_name = "URL")]
    pub dev_url: Option<String>,
    /// Online strategy: CREATE/DROP INDEX CONCURRENTLY outside a transaction,
    /// foreign keys and checks added NOT VALID then validated, SET NOT NULL
    /// through a validated check, steps in transaction groups, lock_timeout
    /// with retries [default: the environment's `online`, else off]
    #[arg(long)]
    pub online: bool,
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

impl Format {
    /// The name used on the command line and in converge.toml.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Sql => "sql",
            Format::Json => "json",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: Common,
    /// text, sql or json [default: text]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Also write forward.sql, rollback.sql and plan.json into DIR
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --out: write nothing, exit 1 if the files in DIR differ from the plan
    #[arg(long, requires = "out")]
    pub check: bool,
    /// Exit 2 when there are changes, 0 when there are none
    #[arg(long = "exit-code")]
    pub exit_code: bool,
    /// Also run apply's data checks (read-only queries that scan the tables
    /// involved): exit 3 when existing rows would make a step fail
    #[arg(long = "check-data")]
    pub check_data: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub common: Common,
    /// Apply without asking for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Hazard kinds to allow, comma-separated (data-loss, irreversible,
    /// table-rewrite, long-lock, access-change), or `all`
    #[arg(long = "allow-hazards", value_name = "KIND,...", value_delimiter = ',')]
    pub allow_hazards: Option<Vec<String>>,
    /// Do not record the apply in the converge.history table (for throwaway
    /// databases, such as test fixtures)
    #[arg(long = "no-history", env = "CONVERGE_NO_HISTORY", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_history: bool,
    /// Apply this reviewed plan directory (from `plan --out`) exactly, instead of planning now
    #[arg(long, value_name = "DIR")]
    pub plan: Option<PathBuf>,
    /// Before applying, pg_dump the data that data-loss steps destroy into DIR
    #[arg(long, value_name = "DIR")]
    pub backup: Option<PathBuf>,
    /// Confirm a protected environment's apply without a terminal: its name
    #[arg(long, value_name = "ENV")]
    pub confirm: Option<String>,
    /// lock_timeout for every statement, as PostgreSQL reads it (`5s`,
    /// `500ms`) [default: 5s with --online, else none]
    #[arg(long = "lock-timeout", value_name = "DURATION")]
    pub lock_timeout: Option<String>,
    /// statement_timeout for every statement (`10min`) [default: none]
    #[arg(long = "statement-timeout", value_name = "DURATION")]
    pub statement_timeout: Option<String>,
    #[command(flatten)]
    pub safety: safety::SafetyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The database to inspect [default: the environment's, else $DATABASE_URL, else the local development database]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// How many history entries to show
    #[arg(long, default_value_t = 10)]
    pub limit: i64,
    /// Exit 2 when the target changed outside converge since its last apply
    #[arg(long = "exit-code")]
    pub exit_code: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// The converge.history id of the apply to undo [default: the last apply not rolled back]
    pub id: Option<i64>,
    /// The database to change [default: the environment's, else $DATABASE_URL, else the local development database]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Roll back without asking for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Hazard kinds to allow, comma-separated (data-loss), or `all`
    #[arg(long = "allow-hazards", value_name = "KIND,...", value_delimiter = ',')]
    pub allow_hazards: Option<Vec<String>>,
    /// Confirm a protected environment's rollback without a terminal: its name
    #[arg(long, value_name = "ENV")]
    pub confirm: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Desired schema files or directories [default: schema]
    #[arg(long = "schema", value_name = "PATH")]
    pub schema: Vec<PathBuf>,
    /// A server where converge may create and drop a temporary database
    #[arg(long = "dev-url", value_name = "URL")]
    pub dev_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DumpArgs {
    /// The database to read [default: the environment's, else $DATABASE_URL, else the local development database]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The directory to write (it must be empty, unless --force)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into a directory that is not empty
    #[arg(long)]
    pub force: bool,
}

/// Where commands write: standard output for results, standard error for
/// messages, and whether they are terminals.
pub struct Output<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub color: bool,
    pub interactive: bool,
    /// Only errors on stderr.
    pub quiet: bool,
    /// Every statement as it runs.
    pub verbose: bool,
    /// Standard error is a terminal: progress is drawn in place.
    pub err_terminal: bool,
}

/// Runs a parsed command line to its exit status, cleaning up shadow
/// databases and the embedded server also when interrupted.
pub async fn run(cli: Cli, output: &mut Output<'_>) -> ExitStatus {
    output.quiet = cli.global.quiet;
    output.verbose = cli.global.verbose;
    let config = match crate::config::Config::load(cli.global.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return report::error(output, e),
    };
    let context = Context::new(config, cli.global.env.clone());
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
        Command::Status(args) => history::status(args, context, output).await,
        Command::Rollback(args) => history::rollback(args, context, output).await,
        Command::Check(args) => misc::check(args, context, output).await,
        Command::Dump(args) => misc::dump(args, context, output).await,
        Command::Init => misc::init(output),
        Command::Completions { shell } => misc::completions(*shell, output),
        Command::Man => misc::man(output),
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
