//! The `converge` binary: parse the command line, run it, exit with its status.

use clap::Parser;
use converge::cli::{Cli, ExitStatus, Output, run};
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    converge::timings::start();
    converge::allocator::configure();
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
