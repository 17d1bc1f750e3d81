//! Where one command's time goes: with `CONVERGE_TIMINGS=1` in the
//! environment, each phase of a plan (the desired state from the cache or a
//! shadow load, reading the target, diff, ordering, fingerprints, writing the
//! plan) is timed, and the list is printed on stderr when the command ends.
//! Each line also gives the peak memory so far (Linux). It is for finding
//! out why a plan is slow or big on one database;
//! `converge-bench` measures the phases on the benchmark workloads.
//!
//! Phases end on several threads, interleaved with the command's own
//! output, so they are collected here and printed by `main` at the end.

use std::sync::{LazyLock, Mutex};
use std::time::Instant;

/// The environment variable that turns the timings on.
pub const ENV: &str = "CONVERGE_TIMINGS";

static ENABLED: LazyLock<bool> = LazyLock::new(|| std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0"));
static PROCESS_START: LazyLock<Instant> = LazyLock::new(Instant::now);
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Notes that `phase`, begun at `started`, has ended.
pub fn record(phase: &str, started: Instant) {
    if *ENABLED {
        let now = Instant::now();
        let line = format!(
            "timing: {phase}: {:.1} ms (ended at {:.1} ms{})",
            now.duration_since(started).as_secs_f64() * 1000.0,
            now.duration_since(*PROCESS_START).as_secs_f64() * 1000.0,
            peak_memory()
                .map(|kib| format!(", peak RSS so far {} MiB", kib / 1024))
                .unwrap_or_default()
        );
        if let Ok(mut lines) = LINES.lock() {
            lines.push(line);
        }
    }
}

/// Notes a fact about the command's course that explains its timings (why
/// a read was whole rather than partial, say).
pub fn note(text: &str) {
    if *ENABLED && let Ok(mut lines) = LINES.lock() {
        lines.push(format!("timing: note: {text}"));
    }
}

/// The process's peak resident memory so far, in KiB (`VmHWM`; Linux only,
/// else nothing).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Marks the start of the process, so that `record` can say when each phase
/// ended.
pub fn start() {
    LazyLock::force(&PROCESS_START);
}

/// The phases recorded so far and the whole command's time, one line each
/// (nothing unless the timings are on).
pub fn report() -> String {
    record("the whole command", *PROCESS_START);
    LINES
        .lock()
        .map(|mut lines| lines.drain(..).map(|l| l + "\n").collect())
        .unwrap_or_default()
}
