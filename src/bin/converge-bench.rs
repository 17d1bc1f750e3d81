//! converge-bench: the wall time of each phase of `converge plan` and
//! `converge apply` over the generated workloads of
//! `../shared/bench/gen_schema.py`, per number of tables.
//!
//! For each N the parent process generates the workload (once; it is kept in
//! `--work`), then runs `converge-bench --one N` as a child process, which
//! measures everything for that N and prints one JSON object; the parent
//! collects them and prints one table. One process per N makes the peak
//! memory (VmHWM, a high-water mark of the whole process) a per-N figure.
//!
//! Per N and per run (`--repeat`, medians reported), on the target loaded
//! from `base.sql` with `changed.sql` as the desired state: loading base.sql,
//! each phase through the library API (parse, shadow load, introspect shadow,
//! introspect target, diff, order, render), the whole plan from files twice
//! (cold and warm), converge's apply of the plan on a fresh copy of the target,
//! and psql running the same forward script on another fresh copy.
//!
//! Every database it creates is dropped (also on errors and Ctrl-C); the
//! embedded server it starts is stopped and its directory removed.

use clap::{Parser, ValueEnum};
use converge::apply::{ApplyOptions, apply};
use converge::catalog::{Fingerprint, Snapshot};
use converge::cluster::{Cluster, ClusterOptions, SUPERUSER};
use converge::db::Endpoint;
use converge::diagnostic::{Diagnostic, line_column};
use converge::introspect::introspect_endpoint_counted;
use converge::pipeline::{self, Options, PipelineError, Planned, TargetRead};
use converge::plan::Allowed;
use converge::render::{PlanDocument, PlanFingerprints, forward_sql, rollback_sql};
use converge::shadow::{Janitor, Kept, Shadow, ShadowError};
use converge::source::{Desired, SourceMap, Sources};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Environment variables the parent hands the servers to its children with
/// (not arguments: a URL may hold a password, and arguments are public).
const ENV_URL_SERVER: &str = "CONVERGE_BENCH_URL_SERVER";
const ENV_DEV_URL: &str = "CONVERGE_BENCH_DEV_URL";
/// Set by the parent when both servers are its embedded throwaway one.
const ENV_THROWAWAY: &str = "CONVERGE_BENCH_THROWAWAY";

#[derive(Parser, Debug)]
#[command(
    name = "converge-bench",
    version,
    about = "Times each phase of converge's plan and apply over the gen_schema.py workloads"
)]
struct Args {
    /// Numbers of tables to benchmark, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,5000")]
    sizes: Vec<usize>,
    /// Runs per size; the table reports medians.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Where the workloads (kept between runs) and plan scripts are written.
    #[arg(long, default_value = "/tmp/converge-bench")]
    work: PathBuf,
    /// A server for the shadow databases (any database on it; converge creates and drops
    /// databases there). Default: --url-server, else an embedded throwaway server.
    #[arg(long, env = ENV_DEV_URL)]
    dev_url: Option<String>,
    /// A server for the target databases and their copies (created and dropped by the
    /// benchmark). Default: --dev-url, else an embedded throwaway server.
    #[arg(long, env = ENV_URL_SERVER)]
    url_server: Option<String>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
    /// The workload generator's seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The workload generator.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench/gen_schema.py"))]
    generator: PathBuf,
    /// Print the table of results written earlier with `--format json`, one or more files
    /// (comma-separated), their sizes merged; measures nothing.
    #[arg(long, value_name = "FILE", value_delimiter = ',', conflicts_with = "one")]
    render: Vec<PathBuf>,
    /// Internal: measure one size in this process and print its result as JSON.
    #[arg(long, hide = true)]
    one: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Markdown,
    Json,
}

/// One timed phase: every run's wall time and their median, in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Phase {
    name: String,
    median_ms: f64,
    samples_ms: Vec<f64>,
}

/// Everything measured for one N.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SizeResult {
    tables: usize,
    seed: u64,
    repeat: usize,
    server_version: String,
    base_bytes: u64,
    changed_bytes: u64,
    /// Statements of the desired state (changed.sql as converge reads it).
    statements: usize,
    /// Top-level `SET` lines removed from changed.sql (converge refuses SET).
    removed_set_lines: usize,
    /// Changes the diff found, and steps in the plan.
    changes: usize,
    steps: usize,
    forward_bytes: usize,
    /// Queries one introspection sends (the same for the shadow and the target).
    introspect_queries: usize,
    /// Phases in pipeline order, then plan, apply and the psql baseline.
    phases: Vec<Phase>,
    /// VmHWM of the process that measured this N (every phase).
    peak_rss_mib: f64,
    /// VmHWM during one cold `pipeline::plan_sources` from files (reset before it).
    plan_peak_rss_mib: Option<f64>,
    /// The database psql's run of forward.sql produced equals the desired catalog.
    psql_result_matches_desired: bool,
    /// What "warm" means in this build.
    warm_note: String,
    /// Wall time of the whole measurement of this N, in seconds.
    total_s: f64,
}

impl SizeResult {
    fn median(&self, name: &str) -> Option<f64> {
        self.phases.iter().find(|p| p.name == name).map(|p| p.median_ms)
    }
}

fn main() -> ExitCode {
    // Memory is measured as `converge` allocates it.
    converge::allocator::configure();
    let args = Args::parse();
    let result = match args.one {
        Some(n) => child_main(&args, n),
        None if !args.render.is_empty() => render_main(&args.render, args.format),
        None => parent_main(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("converge-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn validate(args: &Args) -> Result<(), String> {
    if args.sizes.is_empty() || args.sizes.contains(&0) {
        return Err("--sizes: give one or more positive numbers of tables, e.g. 100,1000".into());
    }
    if args.repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// the parent: workloads, the server, one child per N, the table
// ---------------------------------------------------------------------------

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn parent_main(args: &Args) -> Result<(), String> {
    validate(args)?;
    // Ctrl-C reaches the children too (same process group): they clean up and
    // fail; the parent then stops the server instead of dying first.
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
    std::fs::create_dir_all(&args.work).map_err(|e| format!("cannot create {}: {e}", args.work.display()))?;
    for &n in &args.sizes {
        prepare_workload(args, n)?;
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err("interrupted".into());
        }
    }
    let servers = Servers::resolve(args)?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    let started = Instant::now();
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for &n in &args.sizes {
        if INTERRUPTED.load(Ordering::SeqCst) {
            break;
        }
        eprintln!("converge-bench: N = {n} ({} run(s))", args.repeat);
        let output = Command::new(&exe)
            .arg("--one")
            .arg(n.to_string())
            .arg("--repeat")
            .arg(args.repeat.to_string())
            .arg("--work")
            .arg(&args.work)
            .arg("--seed")
            .arg(args.seed.to_string())
            .arg("--generator")
            .arg(&args.generator)
            .env(ENV_URL_SERVER, &servers.target)
            .env(ENV_DEV_URL, &servers.shadow)
            .env(ENV_THROWAWAY, if servers.cluster.is_some() { "1" } else { "0" })
            .env(converge::cache::ENV_CACHE, args.work.join(format!("cache-{n}")))
            // Only the one-statement-change phases use the kept shadow database.
            .env_remove(converge::shadow::ENV_SHADOW_REUSE)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output();
        match output {
            Ok(out) if out.status.success() => match serde_json::from_slice::<SizeResult>(&out.stdout) {
                Ok(r) => {
                    eprintln!("converge-bench: N = {n} done in {:.1} s", r.total_s);
                    results.push(r);
                }
                Err(e) => failures.push(format!("N = {n}: unreadable result from the child process: {e}")),
            },
            Ok(out) => failures.push(format!("N = {n}: the measuring process failed ({})", out.status)),
            Err(e) => failures.push(format!("N = {n}: cannot run {}: {e}", exe.display())),
        }
    }
    // Stops the embedded server, if any, and removes its directory.
    drop(servers);
    if !results.is_empty() {
        let report = Report {
            converge_version: env!("CARGO_PKG_VERSION").to_string(),
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            repeat: args.repeat,
            seed: args.seed,
            total_s: started.elapsed().as_secs_f64(),
            results,
        };
        match args.format {
            Format::Markdown => print!("{}", markdown(&report)),
            Format::Json => {
                let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
                println!("{text}");
            }
        }
    }
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err("interrupted".into());
    }
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    Ok(())
}

/// Everything one benchmark measured (`--format json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Report {
    converge_version: String,
    cores: usize,
    repeat: usize,
    seed: u64,
    total_s: f64,
    results: Vec<SizeResult>,
}

fn render_main(files: &[PathBuf], format: Format) -> Result<(), String> {
    let mut merged: Option<Report> = None;
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let report: Report = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a converge-bench JSON result: {e}", file.display()))?;
        match &mut merged {
            None => merged = Some(report),
            Some(m) => {
                m.total_s += report.total_s;
                for r in report.results {
                    m.results.retain(|x| x.tables != r.tables);
                    m.results.push(r);
                }
            }
        }
    }
    let Some(mut report) = merged.filter(|r| !r.results.is_empty()) else {
        return Err("no results to render".into());
    };
    report.results.sort_by_key(|r| r.tables);
    match format {
        Format::Markdown => print!("{}", markdown(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?),
    }
    Ok(())
}

/// Columns of the table: (phase name, header).
const COLUMNS: [(&str, &str); 20] = [
    ("load_base", "load base"),
    ("parse", "parse"),
    ("shadow_load", "shadow load"),
    ("introspect_shadow", "introspect shadow"),
    ("shadow_drop", "shadow drop"),
    ("introspect_target", "introspect target"),
    ("diff", "diff"),
    ("order", "order"),
    ("render", "render"),
    ("plan_cold", "plan cold"),
    ("plan_warm", "plan warm"),
    ("plan_to_apply", "plan to apply"),
    ("shadow_one_change", "shadow one change"),
    ("plan_one_change", "plan one change"),
    ("apply", "apply"),
    ("apply_steps", "apply: steps"),
    ("apply_verification", "apply: verification"),
    ("psql_apply", "psql apply"),
    ("apply_one_change", "apply one change"),
    ("psql_one_change", "psql one change"),
];

fn ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

fn markdown(report: &Report) -> String {
    let results = &report.results;
    let columns = &COLUMNS;
    let mut out = String::new();
    out.push_str("| N | statements | steps |");
    for (_, header) in columns {
        let _ = write!(out, " {header} |");
    }
    out.push_str(" queries | peak RSS (MiB) | plan peak RSS (MiB) |\n|---:|---:|---:|");
    for _ in columns {
        out.push_str("---:|");
    }
    out.push_str("---:|---:|---:|\n");
    for r in results {
        let _ = write!(out, "| {} | {} | {} |", group(r.tables), group(r.statements), r.steps);
        for (name, _) in columns {
            let _ = write!(out, " {} |", ms(r.median(name)));
        }
        let _ = writeln!(
            out,
            " {} | {:.0} | {} |",
            r.introspect_queries,
            r.peak_rss_mib,
            r.plan_peak_rss_mib
                .map(|m| format!("{m:.0}"))
                .unwrap_or_else(|| "–".into())
        );
    }
    let first = &results[0];
    let mut runs = format!("{} run(s)", first.repeat);
    let others: Vec<String> = results
        .iter()
        .filter(|r| r.repeat != first.repeat)
        .map(|r| format!("N = {}: {}", group(r.tables), r.repeat))
        .collect();
    if !others.is_empty() {
        let _ = write!(runs, " ({})", others.join(", "));
    }
    let _ = write!(
        out,
        "\nTimes in ms, median of {runs}; PostgreSQL {} on {} core(s); workloads of \
         `gen_schema.py --seed {}`, the target loaded from base.sql, the desired state changed.sql",
        first.server_version, report.cores, report.seed
    );
    if first.removed_set_lines > 0 {
        out.push_str(" (its `SET client_min_messages` line removed: converge refuses `SET`)");
    }
    out.push_str(
        ". *load base*: base.sql sent in multi-statement queries of 400 statements, one transaction \
         each (one transaction for the whole file runs out of lock slots at N = 5,000); *parse*: \
         `Desired::load`; *shadow load*: create the shadow database and run every desired statement \
         in it; *introspect*: `introspect_endpoint_counted` (connections included), *queries* is the number of \
         statements it sends; *shadow drop*: `Shadow::drop`; *order*: `plan::build` (it renders each step's SQL); \
         *render*: forward and rollback scripts and plan.json; *plan cold/warm*: `pipeline::plan_sources` \
         from the files, first and second time in the process; *plan to apply*: a third time, as `converge \
         apply` plans: with the versions of the target's catalog rows (`TargetRead::ToApply`), the plan \
         the apply below applies; *shadow one change*: the kept shadow \
         database (loaded with changed.sql first, not measured) brought to changed.sql with one more column \
         in one table (`Kept::desired_snapshot`, introspection included); *plan one change*: \
         `pipeline::plan_sources` with that file, parse included (a cache miss: the kept shadow is updated \
         incrementally); the kept shadow is used in these two phases only; *apply*: `apply::apply` (lock, drift \
         check, steps, verification, history row) on a fresh copy of the target (a copy's catalog rows \
         are the target's: the drift check finds them unchanged and starts from the plan's read), *apply: \
         steps* and *apply: verification* two of its parts (`Applied::times`); *psql apply*: the \
         same forward.sql with `psql --single-transaction` on another copy; *apply one change*: that \
         copy, now at changed.sql, planned towards the one-change file (from the cache, not measured) and \
         the one-step plan applied the same way (its verification reads what the transaction changed); \
         *psql one change*: that plan's forward.sql with psql on the psql copy. Peak RSS: VmHWM of the \
         process that measured that N (it holds a whole plan and the phase-by-phase data at once); \
         plan peak RSS: VmHWM during one cold plan.\n",
    );
    let _ = writeln!(out, "\nWarm: {}", first.warm_note);
    let per_n: Vec<String> = results
        .iter()
        .map(|r| format!("N={} {:.0} s", r.tables, r.total_s))
        .collect();
    let _ = writeln!(
        out,
        "\nBenchmark wall time {:.0} s ({}).",
        report.total_s,
        per_n.join(", ")
    );
    let bad: Vec<String> = results
        .iter()
        .filter(|r| !r.psql_result_matches_desired)
        .map(|r| r.tables.to_string())
        .collect();
    if !bad.is_empty() {
        let _ = writeln!(
            out,
            "\nWarning: psql's run of forward.sql did not produce the desired catalog at N = {}.",
            bad.join(", ")
        );
    }
    out
}

/// 10000 → 10,000.
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------
// workloads and servers
// ---------------------------------------------------------------------------

struct Workload {
    dir: PathBuf,
    base: PathBuf,
    changed: PathBuf,
    /// changed.sql as converge reads it: top-level `SET` lines blanked.
    desired: PathBuf,
    removed_set_lines: usize,
}

/// Generates the workload of `n` tables unless it is already there, and
/// writes the desired file.
fn prepare_workload(args: &Args, n: usize) -> Result<Workload, String> {
    let name = if args.seed == 42 {
        format!("n{n}")
    } else {
        format!("n{n}-s{}", args.seed)
    };
    let dir = args.work.join(name);
    let base = dir.join("base.sql");
    let changed = dir.join("changed.sql");
    let manifest = dir.join("manifest.json");
    if !(base.is_file() && changed.is_file() && manifest.is_file()) {
        eprintln!(
            "converge-bench: generating the workload of {n} tables in {}",
            dir.display()
        );
        let status = Command::new("python3")
            .arg(&args.generator)
            .arg("--tables")
            .arg(n.to_string())
            .arg("--seed")
            .arg(args.seed.to_string())
            .arg("--out")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run python3 {}: {e}", args.generator.display()))?;
        if !status.success() {
            // Leave no half-written workload that would be taken as complete.
            let _ = std::fs::remove_file(&manifest);
            return Err(format!("{} --tables {n} failed ({status})", args.generator.display()));
        }
    }
    let text = std::fs::read_to_string(&changed).map_err(|e| format!("cannot read {}: {e}", changed.display()))?;
    // converge refuses `SET` in desired files; the generator writes one
    // `SET client_min_messages = warning;` for psql. Blank such lines (line
    // numbers stay the same).
    let mut removed = 0;
    let mut desired_text = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end();
        if body.starts_with("SET ") && body.ends_with(';') {
            removed += 1;
            desired_text.push_str("-- (SET removed by converge-bench)\n");
        } else {
            desired_text.push_str(line);
        }
    }
    let desired_dir = dir.join("desired");
    std::fs::create_dir_all(&desired_dir).map_err(|e| format!("cannot create {}: {e}", desired_dir.display()))?;
    let desired = desired_dir.join("changed.sql");
    if std::fs::read_to_string(&desired).ok().as_deref() != Some(desired_text.as_str()) {
        std::fs::write(&desired, &desired_text).map_err(|e| format!("cannot write {}: {e}", desired.display()))?;
    }
    Ok(Workload {
        dir,
        base,
        changed,
        desired,
        removed_set_lines: removed,
    })
}

/// The servers to use, as connection strings; the embedded one when none is given.
struct Servers {
    /// Where target databases are created.
    target: String,
    /// Where shadow databases are created.
    shadow: String,
    /// Dropped in this order: the server stops, then its directory goes.
    cluster: Option<Cluster>,
    dir: Option<tempfile::TempDir>,
}

impl Servers {
    fn resolve(args: &Args) -> Result<Servers, String> {
        let target = args.url_server.clone().or_else(|| args.dev_url.clone());
        let shadow = args.dev_url.clone().or_else(|| args.url_server.clone());
        if let (Some(target), Some(shadow)) = (target, shadow) {
            return Ok(Servers {
                target,
                shadow,
                cluster: None,
                dir: None,
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("converge-bench-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a directory for the embedded server: {e}"))?;
        // The server runs as `postgres` when this runs as root: let it in.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot set the permissions of {}: {e}", dir.path().display()))?;
        eprintln!(
            "converge-bench: starting an embedded PostgreSQL server in {}",
            dir.path().display()
        );
        let cluster = Cluster::start(&ClusterOptions {
            data_dir: dir.path().join("data"),
            throwaway: true,
        })
        .map_err(|e| format!("cannot start the embedded PostgreSQL server: {e}"))?;
        let url = format!(
            "host={} port={} user={SUPERUSER} dbname=postgres",
            cluster.socket_dir().display(),
            cluster.port()
        );
        Ok(Servers {
            target: url.clone(),
            shadow: url,
            cluster: Some(cluster),
            dir: Some(dir),
        })
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        drop(self.cluster.take());
        drop(self.dir.take());
    }
}

/// `conn` (a URL or a key=value string) with another database, for psql.
fn with_dbname(conn: &str, db: &str) -> String {
    for scheme in ["postgresql://", "postgres://"] {
        if let Some(rest) = conn.strip_prefix(scheme) {
            let (main, query) = match rest.find('?') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            let authority = main.split('/').next().unwrap_or("");
            return format!("{scheme}{authority}/{db}{query}");
        }
    }
    // In a key=value string the last value of a keyword wins.
    format!("{conn} dbname='{db}'")
}

// ---------------------------------------------------------------------------
// the child: one N, measured
// ---------------------------------------------------------------------------

fn child_main(args: &Args, n: usize) -> Result<(), String> {
    validate(args)?;
    let workload = prepare_workload(args, n)?;
    let servers = Servers::resolve(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(async {
        let ctx = Ctx::new(args, n, &workload, &servers)?;
        let outcome = tokio::select! {
            r = measure(&ctx) => r,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        };
        // Ctrl-C also stops the parent's embedded server (same process
        // group), which takes every database with it: nothing to drop then.
        let throwaway = std::env::var(ENV_THROWAWAY).is_ok_and(|v| v == "1");
        if !(throwaway && outcome.as_ref().is_err_and(|e| e == "interrupted")) {
            ctx.cleanup().await;
        }
        outcome
    });
    drop(runtime);
    drop(servers);
    let result = result?;
    let text = serde_json::to_string(&result).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

struct Ctx<'a> {
    n: usize,
    repeat: usize,
    seed: u64,
    workload: &'a Workload,
    /// The maintenance database of the target server, and its connection string.
    target_server: Endpoint,
    target_conn: String,
    shadow_server: Endpoint,
    janitor: Janitor,
    /// Databases this process created on the target server.
    created: Mutex<Vec<String>>,
    /// Prefix of every database name.
    tag: String,
}

impl<'a> Ctx<'a> {
    fn new(args: &Args, n: usize, workload: &'a Workload, servers: &Servers) -> Result<Ctx<'a>, String> {
        Ok(Ctx {
            n,
            repeat: args.repeat,
            seed: args.seed,
            workload,
            target_server: Endpoint::parse(&servers.target).map_err(|e| format!("--url-server: {e}"))?,
            target_conn: servers.target.clone(),
            shadow_server: Endpoint::parse(&servers.shadow).map_err(|e| format!("--dev-url: {e}"))?,
            janitor: Janitor::default(),
            created: Mutex::new(Vec::new()),
            tag: format!("cbench_{}_{n}", std::process::id()),
        })
    }

    fn log(&self, message: &str) {
        eprintln!("  [N={}] {message}", self.n);
    }

    /// Creates database `name` from `template` on the target server.
    async fn create_db(&self, name: &str, template: &str) -> Result<Endpoint, String> {
        if let Ok(mut created) = self.created.lock() {
            created.push(name.to_string());
        }
        let client = self.target_server.connect().await.map_err(|e| e.to_string())?;
        let version: i32 = client
            .query_one("SELECT pg_catalog.current_setting('server_version_num')::int", &[])
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|e| format!("cannot read the server version: {}", converge::db::error_message(&e)))?;
        // FILE_COPY (15+): a plain copy of the files, much faster than WAL_LOG for a template.
        let strategy = if version >= 150000 { " STRATEGY FILE_COPY" } else { "" };
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"{strategy}"))
            .await
            .map_err(|e| format!("cannot create the database {name}: {}", converge::db::error_message(&e)))?;
        Ok(self.target_server.with_dbname(name))
    }

    async fn drop_db(&self, name: &str) -> Result<(), String> {
        let client = self.target_server.connect().await.map_err(|e| e.to_string())?;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .map_err(|e| format!("cannot drop the database {name}: {}", converge::db::error_message(&e)))?;
        if let Ok(mut created) = self.created.lock() {
            created.retain(|c| c != name);
        }
        Ok(())
    }

    /// Drops every database still there: this process's and shadow ones.
    async fn cleanup(&self) {
        self.janitor.cleanup().await;
        let names: Vec<String> = self.created.lock().map(|c| c.clone()).unwrap_or_default();
        for name in names.iter().rev() {
            // The server may be busy ending the failed session: try a few times.
            let mut attempt = 0;
            while let Err(e) = self.drop_db(name).await {
                attempt += 1;
                if attempt == 5 {
                    eprintln!("converge-bench: warning: {e}");
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

/// Samples per phase, in the order first seen.
#[derive(Default)]
struct Timings {
    phases: Vec<(String, Vec<f64>)>,
}

impl Timings {
    fn add(&mut self, name: &str, started: Instant) -> f64 {
        self.add_duration(name, started.elapsed())
    }

    fn add_duration(&mut self, name: &str, took: Duration) -> f64 {
        let ms = took.as_secs_f64() * 1000.0;
        match self.phases.iter_mut().find(|(n, _)| n == name) {
            Some((_, samples)) => samples.push(ms),
            None => self.phases.push((name.to_string(), vec![ms])),
        }
        ms
    }

    fn into_phases(self) -> Vec<Phase> {
        self.phases
            .into_iter()
            .map(|(name, samples_ms)| Phase {
                name,
                median_ms: median(&samples_ms),
                samples_ms,
            })
            .collect()
    }
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Statements per transaction when loading base.sql. One transaction for the
/// whole file runs out of lock slots at N = 5000 with the default settings
/// (each created relation holds a lock until commit).
const LOAD_BATCH: usize = 400;

/// base.sql split into multi-statement strings of `LOAD_BATCH` statements:
/// each is sent as one query, which PostgreSQL runs as one transaction.
fn load_batches(sql: &str) -> Result<Vec<String>, String> {
    let statements = pg_query::split_with_parser(sql).map_err(|e| e.to_string())?;
    Ok(statements
        .chunks(LOAD_BATCH)
        .map(|chunk| {
            let mut batch = String::new();
            for statement in chunk {
                batch.push_str(statement);
                batch.push_str("\n;\n");
            }
            batch
        })
        .collect())
}

/// VmHWM of this process, in KiB.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Returns freed memory to the system and resets VmHWM to the current RSS.
fn reset_hwm() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn diagnostics_text(diagnostics: &[Diagnostic]) -> String {
    let mut out = format!("the desired schema has {} problem(s):", diagnostics.len());
    for d in diagnostics.iter().take(5) {
        let _ = write!(out, "\n  {}", diagnostic_text(d));
    }
    out
}

fn diagnostic_text(d: &Diagnostic) -> String {
    match &d.primary {
        Some(label) => {
            let line = std::fs::read_to_string(&label.span.path)
                .map(|text| line_column(&text, label.span.start).0)
                .unwrap_or(0);
            format!("{}:{line}: {}", label.span.path, d.message)
        }
        None => d.message.clone(),
    }
}

fn pipeline_text(e: PipelineError) -> String {
    match e {
        PipelineError::Source(diagnostics) => diagnostics_text(&diagnostics),
        other => other.to_string(),
    }
}

fn shadow_text(e: ShadowError) -> String {
    match e {
        ShadowError::Load(d) => diagnostic_text(&d),
        other => other.to_string(),
    }
}

/// Writes `sql` to `path` and runs it with psql in one transaction on the
/// database at `conn`, with the settings apply runs the steps with; the
/// run's time is recorded as `phase` and returned.
async fn psql_script(
    psql: &Path,
    path: &Path,
    sql: &str,
    conn: &str,
    t: &mut Timings,
    phase: &'static str,
) -> Result<f64, String> {
    std::fs::write(path, sql).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let start = Instant::now();
    let output = tokio::process::Command::new(psql)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f"])
        .arg(path)
        .arg("-d")
        .arg(conn)
        .env(
            "PGOPTIONS",
            "-c search_path=public -c check_function_bodies=off -c client_min_messages=warning",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", psql.display()))?;
    let ms = t.add(phase, start);
    if !output.status.success() {
        return Err(format!(
            "psql -f {} ({phase}) failed ({}): {}",
            path.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(ms)
}

/// changed.sql with one statement changed, written next to it.
struct OneChange {
    path: PathBuf,
    what: String,
}

/// Adds a column to the `CREATE TABLE` statement in the middle of the file:
/// the most common edit of a schema.
fn one_statement_change(desired: &Path) -> Result<OneChange, String> {
    let text = std::fs::read_to_string(desired).map_err(|e| format!("cannot read {}: {e}", desired.display()))?;
    let starts: Vec<usize> = text.match_indices("\nCREATE TABLE ").map(|(i, _)| i + 1).collect();
    let Some(&start) = starts.get(starts.len() / 2) else {
        return Err(format!("{} has no CREATE TABLE", desired.display()));
    };
    let end = text[start..]
        .find("\n);")
        .map(|i| start + i)
        .ok_or_else(|| format!("{}: a CREATE TABLE that does not end with `);`", desired.display()))?;
    let what = text[start..]
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches(" (")
        .to_string();
    let changed = format!("{},\n    bench_added_note text{}", &text[..end], &text[end..]);
    let path = desired.with_file_name("one_change.sql");
    std::fs::write(&path, changed).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(OneChange {
        path,
        what: format!("a column added to {}", what.trim_start_matches("CREATE TABLE ")),
    })
}

/// `pipeline::plan_sources` from the file at `path` against `target`,
/// reading it as `read` says.
async fn plan_file(
    ctx: &Ctx<'_>,
    path: &Path,
    target: &Endpoint,
    options: &Options,
    read: TargetRead,
) -> Result<Planned, String> {
    let sources = read_sources(path)?;
    pipeline::plan_sources(sources, target, &ctx.shadow_server, &ctx.janitor, options, read)
        .await
        .map_err(pipeline_text)
}

fn read_sources(path: &Path) -> Result<Sources, String> {
    Sources::read(&[path.to_path_buf()]).map_err(|d| diagnostic_text(&d))
}

fn load_desired(path: &Path) -> Result<Desired, String> {
    Desired::load(&[path.to_path_buf()]).map_err(|d| diagnostics_text(&d))
}

async fn measure(ctx: &Ctx<'_>) -> Result<SizeResult, String> {
    let started = Instant::now();
    let w = ctx.workload;
    let mut t = Timings::default();
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);

    let server_version = {
        let client = ctx.target_server.connect().await.map_err(|e| e.to_string())?;
        let row = client
            .query_one("SELECT pg_catalog.current_setting('server_version')", &[])
            .await
            .map_err(|e| format!("cannot read the server version: {}", converge::db::error_message(&e)))?;
        row.try_get::<_, String>(0).map_err(|e| e.to_string())?
    };

    // Load base.sql: into the target the first time, into scratch databases after.
    let base_sql = std::fs::read_to_string(&w.base).map_err(|e| format!("cannot read {}: {e}", w.base.display()))?;
    let batches = load_batches(&base_sql).map_err(|e| format!("cannot split {}: {e}", w.base.display()))?;
    let target_name = format!("{}_target", ctx.tag);
    let target = ctx.create_db(&target_name, "template0").await?;
    for r in 0..ctx.repeat {
        let name = if r == 0 {
            target_name.clone()
        } else {
            let name = format!("{}_load_{r}", ctx.tag);
            ctx.create_db(&name, "template0").await?;
            name
        };
        let endpoint = ctx.target_server.with_dbname(&name);
        let client = endpoint.connect().await.map_err(|e| e.to_string())?;
        let start = Instant::now();
        for batch in &batches {
            client
                .batch_execute(batch)
                .await
                .map_err(|e| format!("cannot load base.sql: {}", converge::db::error_message(&e)))?;
        }
        let ms = t.add("load_base", start);
        drop(client);
        ctx.log(&format!("load base {}/{}: {:.1} s", r + 1, ctx.repeat, ms / 1000.0));
        if r > 0 {
            ctx.drop_db(&name).await?;
        }
    }
    drop((base_sql, batches));

    let options = Options::default();
    let mut plan_peak: Option<u64> = None;
    let mut statements = 0;
    let mut changes_count = 0;
    let mut steps = 0;
    let mut forward_bytes = 0;
    let mut queries = 0;
    let mut psql_matches = true;
    let forward_path = w.dir.join("forward.sql");
    let psql = converge::cluster::find_bin_dir()
        .map(|d| d.join("psql"))
        .ok()
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"));

    for r in 0..ctx.repeat {
        let run = format!("run {}/{}", r + 1, ctx.repeat);

        // The whole plan from the files, first cold (no desired-catalog
        // cache: its directory is removed first), then warm (from the cache
        // the cold plan wrote).
        if let Some(dir) = std::env::var_os(converge::cache::ENV_CACHE) {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot clear the cache {}: {e}", Path::new(&dir).display())),
            }
        }
        let can_reset = reset_hwm();
        // The phases of the cold plan alone (`CONVERGE_TIMINGS=1`).
        let _ = converge::timings::report();
        let start = Instant::now();
        let planned = plan_file(ctx, &w.desired, &target, &options, TargetRead::Catalog).await?;
        let cold = t.add("plan_cold", start);
        let phases = converge::timings::report();
        if !phases.is_empty() {
            ctx.log(&format!("{run}: the cold plan's phases:\n{phases}"));
        }
        if can_reset {
            plan_peak = plan_peak.max(vm_hwm_kib());
        }
        drop(planned);
        let start = Instant::now();
        let planned: Planned = plan_file(ctx, &w.desired, &target, &options, TargetRead::Catalog).await?;
        let warm = t.add("plan_warm", start);
        drop(planned);
        // As `converge apply` plans: the versions of the target's catalog
        // rows read too, for the apply below.
        let start = Instant::now();
        let planned: Planned = plan_file(ctx, &w.desired, &target, &options, TargetRead::ToApply).await?;
        let to_apply = t.add("plan_to_apply", start);
        ctx.log(&format!(
            "{run}: plan cold {:.1} s, warm {:.1} s, to apply {:.1} s",
            cold / 1000.0,
            warm / 1000.0,
            to_apply / 1000.0
        ));

        // One statement changed: the kept shadow database, first loaded with
        // changed.sql (not measured), is brought up to date incrementally,
        // first alone, then back, then within a whole plan (a
        // desired-catalog cache miss).
        let one_change = one_statement_change(&w.desired)?;
        converge::shadow::set_reuse(Some(true));
        let kept = Kept::from_env(&ctx.shadow_server, false);
        if let Some(kept) = &kept {
            let changed = load_desired(&w.desired)?;
            kept.prime(&changed, &ctx.janitor).await.map_err(shadow_text)?;
            let one = load_desired(&one_change.path)?;
            let start = Instant::now();
            let (_, how) = kept.desired_snapshot(&one, &ctx.janitor).await.map_err(shadow_text)?;
            let ms = t.add("shadow_one_change", start);
            ctx.log(&format!(
                "{run}: one statement changed ({}): shadow {:.1} s, {how:?}",
                one_change.what,
                ms / 1000.0
            ));
            let back = load_desired(&w.desired)?;
            let (_, how) = kept.desired_snapshot(&back, &ctx.janitor).await.map_err(shadow_text)?;
            ctx.log(&format!("{run}: and back: {how:?}"));
            let start = Instant::now();
            let planned = plan_file(ctx, &one_change.path, &target, &options, TargetRead::Catalog).await?;
            let ms = t.add("plan_one_change", start);
            drop(planned);
            ctx.log(&format!("{run}: plan after one statement changed {:.1} s", ms / 1000.0));
        }
        converge::shadow::set_reuse(None);

        // Each phase on its own.
        let start = Instant::now();
        let desired = load_desired(&w.desired)?;
        t.add("parse", start);
        statements = desired.statements.len();

        let start = Instant::now();
        let shadow = Shadow::create(&ctx.shadow_server, &ctx.janitor)
            .await
            .map_err(shadow_text)?;
        shadow.load(&desired).await.map_err(shadow_text)?;
        t.add("shadow_load", start);

        let start = Instant::now();
        let (desired_snapshot, q) = introspect_endpoint_counted(&shadow.endpoint())
            .await
            .map_err(|e| format!("cannot read the shadow database: {e}"))?;
        t.add("introspect_shadow", start);
        queries = q;

        let start = Instant::now();
        shadow
            .drop(&ctx.janitor)
            .await
            .map_err(|e| format!("cannot drop the shadow database: {e}"))?;
        t.add("shadow_drop", start);

        let start = Instant::now();
        let (current, q) = introspect_endpoint_counted(&target)
            .await
            .map_err(|e| format!("cannot read the target: {e}"))?;
        t.add("introspect_target", start);
        if q != queries {
            ctx.log(&format!(
                "introspection sent {queries} queries to the shadow, {q} to the target"
            ));
        }

        let start = Instant::now();
        let uncastable = pipeline::uncastable_types(&target, &current, &desired_snapshot)
            .await
            .map_err(pipeline_text)?;
        t.add("cast_check", start);

        // As `pipeline::plan_snapshots` does with the default options.
        let start = Instant::now();
        let current = Snapshot {
            catalog: current.catalog.without_owners(),
            ..current
        };
        let desired_snapshot = Snapshot {
            catalog: desired_snapshot.catalog.without_owners(),
            ..desired_snapshot
        };
        t.add("normalize", start);

        let start = Instant::now();
        let changes = converge::diff::diff(&current.catalog, &desired_snapshot.catalog);
        t.add("diff", start);
        changes_count = changes.len();

        // Made with the desired state in a plan (and kept in its cache), not
        // by the ordering: built (and dropped) outside its timing.
        let source_map = SourceMap::of(&desired);
        let start = Instant::now();
        let plan = converge::plan::build(changes, &current, &desired_snapshot, Some(&source_map), &uncastable)
            .map_err(|e| e.to_string())?;
        t.add("order", start);

        let start = Instant::now();
        let fingerprints = PlanFingerprints {
            current_catalog: Fingerprint::of_catalog(&current.catalog),
            desired_catalog: Fingerprint::of_catalog(&desired_snapshot.catalog),
            desired_files: desired.fingerprint(),
        };
        t.add("fingerprints", start);

        let start = Instant::now();
        let forward = forward_sql(&plan);
        let rollback = rollback_sql(&plan);
        let json_text = PlanDocument::new(
            &plan,
            &fingerprints,
            desired_snapshot.server_version,
            &Default::default(),
        )
        .to_json();
        t.add("render", start);
        steps = plan.steps.len();
        forward_bytes = forward.len();
        if plan.steps.len() != planned.plan.steps.len() || forward != forward_sql(&planned.plan) {
            ctx.log("warning: the phase-by-phase plan differs from pipeline::plan's");
        }
        drop((
            forward,
            rollback,
            json_text,
            plan,
            desired,
            source_map,
            current,
            desired_snapshot,
        ));

        // converge's apply on a fresh copy of the target.
        let name = format!("{}_apply_{r}", ctx.tag);
        let start = Instant::now();
        let copy = ctx.create_db(&name, &target_name).await?;
        t.add("copy_target", start);
        let apply_options = ApplyOptions {
            allowed: Allowed::parse(&["all".into()])?,
            record_history: true,
            ..Default::default()
        };
        let start = Instant::now();
        let applied = apply(&copy, &planned, &apply_options).await;
        let apply_ms = t.add("apply", start);
        let applied = applied.map_err(|e| format!("converge apply failed: {e}"))?;
        t.add_duration("apply_steps", applied.times.steps);
        t.add_duration("apply_verification", applied.times.verification);
        // Then one statement changed: the copy, now at changed.sql, planned
        // towards one_change.sql (its desired catalog from the cache the
        // one-change plan wrote; not measured), and that plan applied.
        let one = plan_file(ctx, &one_change.path, &copy, &options, TargetRead::ToApply).await?;
        let start = Instant::now();
        let applied = apply(&copy, &one, &apply_options).await;
        let apply_one_ms = t.add("apply_one_change", start);
        applied.map_err(|e| format!("converge apply of one change failed: {e}"))?;
        let one_forward = forward_sql(&one.plan);
        drop(one);
        ctx.drop_db(&name).await?;

        // The same forward script with psql on another copy.
        let name = format!("{}_psql_{r}", ctx.tag);
        let copy = ctx.create_db(&name, &target_name).await?;
        let conn = with_dbname(&ctx.target_conn, &name);
        let forward = forward_sql(&planned.plan);
        let psql_ms = psql_script(&psql, &forward_path, &forward, &conn, &mut t, "psql_apply").await?;
        if r == 0 {
            let (after, _) = introspect_endpoint_counted(&copy)
                .await
                .map_err(|e| format!("cannot read {copy}: {e}"))?;
            psql_matches = planned
                .normalize(after.catalog)
                .same_as(&planned.desired_snapshot.catalog);
            if !psql_matches {
                ctx.log("warning: psql's result differs from the desired catalog");
            }
        }
        // The one-step plan, the same way, on the copy psql brought to changed.sql.
        let psql_one_ms = psql_script(&psql, &forward_path, &one_forward, &conn, &mut t, "psql_one_change").await?;
        ctx.drop_db(&name).await?;
        ctx.log(&format!(
            "{run}: apply {:.1} s, psql {:.1} s; one change: apply {:.2} s, psql {:.2} s",
            apply_ms / 1000.0,
            psql_ms / 1000.0,
            apply_one_ms / 1000.0,
            psql_one_ms / 1000.0
        ));
    }

    ctx.drop_db(&target_name).await?;
    let peak = vm_hwm_kib().unwrap_or(0);
    Ok(SizeResult {
        tables: ctx.n,
        seed: ctx.seed,
        repeat: ctx.repeat,
        server_version,
        base_bytes: size(&w.base),
        changed_bytes: size(&w.changed),
        statements,
        removed_set_lines: w.removed_set_lines,
        changes: changes_count,
        steps,
        forward_bytes,
        introspect_queries: queries,
        phases: t.into_phases(),
        peak_rss_mib: mib(peak),
        plan_peak_rss_mib: plan_peak.map(mib),
        psql_result_matches_desired: psql_matches,
        warm_note: "the second `pipeline::plan_sources` in the same process right after the first: \
                    the desired catalog and source map come from the cache the first one wrote (the \
                    files are read and hashed, not parsed; no shadow; the target is introspected)"
            .into(),
        total_s: started.elapsed().as_secs_f64(),
    })
}
