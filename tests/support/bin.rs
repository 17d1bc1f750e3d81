//! Running the `converge` binary the way a user does, with nothing from the
//! test's own environment leaking in (no `DATABASE_URL`, no colors, no
//! terminal on stdin).

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Runs `converge args...` in `cwd` (or the test's directory).
pub fn converge(args: &[&str], cwd: Option<&Path>) -> Output {
    converge_with(args, cwd, &[])
}

/// As `converge`, with extra environment variables.
pub fn converge_with(args: &[&str], cwd: Option<&Path>, vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_converge"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.output().expect("run converge")
}

/// Starts `converge args...` as a child process, without a terminal, its
/// output piped, for tests that act while it runs.
pub fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_converge"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn converge")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A temporary directory holding `files` (relative paths and their text).
pub fn schema_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, sql) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
        std::fs::write(path, sql).expect("write a file");
    }
    dir
}
