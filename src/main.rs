//! The `converge` binary: parse the command line, run it, exit with its status.

use clap::Parser;
use converge::cli::{Cli, ExitStatus, Output, run};
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    converge::timings::start();
    one_malloc_arena();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors; usage errors exit 1 (2 means
            // "plan found changes").
            return ExitCode::from(if e.use_stderr() { ExitStatus::Failure as u8 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(ExitStatus::Failure as u8);
        }
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // Not locked for the whole command: warnings are printed from the
    // runtime's other threads (`eprintln!`), which would wait forever on a
    // lock this thread holds until the end.
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let mut output = Output {
        out: &mut out,
        err: &mut err,
        color,
        interactive: std::io::stdin().is_terminal(),
        quiet: false,
        verbose: false,
        err_terminal: std::io::stderr().is_terminal(),
    };
    let status = runtime.block_on(run(cli, &mut output));
    let _ = std::io::Write::write_all(output.err, converge::timings::report().as_bytes());
    ExitCode::from(status as u8)
}

/// Makes glibc's allocator keep one heap for all threads (before any thread
/// starts). By default each thread that allocates gets an arena of its own,
/// and memory freed in one is reused only by the threads allocating there:
/// a plan reads rows on the runtime's threads, frees them, then builds the
/// catalog and its dependencies on others, so the freed rows were held
/// besides the new objects (at 5,000 tables, peak memory 252 MiB with its
/// own arenas, 236 MiB with one; the threads rarely allocate at the same
/// time, so the shared lock costs no measurable time).
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; it is called
    // before this process starts any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
