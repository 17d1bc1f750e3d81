//! The embedded PostgreSQL cluster: converge's own server, for the local
//! development database, for shadow databases, and for the tests.
//!
//! It is built from the PostgreSQL server binaries installed on the machine
//! (nothing is downloaded), listens only on a Unix socket in a private
//! directory, runs as the unprivileged `postgres` user when converge runs as
//! root (initdb and postgres refuse root), and is stopped when the `Cluster`
//! value is dropped. The server process is spawned from a dedicated thread with
//! a parent-death signal, so it cannot outlive converge even if converge is
//! killed.

mod binaries;

pub use binaries::{find_bin_dir, server_version_num};

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The port number in the socket file's name (`.s.PGSQL.<port>`); nothing
/// listens on TCP.
const PORT: u16 = 5432;
/// The superuser initdb creates.
pub const SUPERUSER: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot find the PostgreSQL server binaries (initdb, postgres): {0}")]
    NoBinaries(String),
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    User(String),
    #[error("initdb failed for {dir}:\n{output}")]
    Initdb { dir: String, output: String },
    #[error("the local PostgreSQL server did not start; its log ({log}) ends with:\n{tail}")]
    Start { log: String, tail: String },
    #[error(
        "the local database in {dir} is in use by another process (postmaster pid {pid}); \
         wait for the other converge command to finish"
    )]
    InUse { dir: String, pid: String },
}

fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let action = action.into();
    move |source| ClusterError::Io { action, source }
}

/// How to run a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The data directory; created and initialized when it has no cluster yet.
    pub data_dir: PathBuf,
    /// Trade durability for speed (fsync off): for throwaway clusters only.
    pub throwaway: bool,
}

/// A running cluster. Dropping it stops the server.
pub struct Cluster {
    socket_dir: PathBuf,
    data_dir: PathBuf,
    stop: Option<mpsc::Sender<()>>,
    keeper: Option<std::thread::JoinHandle<()>>,
}

impl Cluster {
    /// Initializes the data directory if needed and starts the server.
    pub fn start(options: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let bin = find_bin_dir().map_err(ClusterError::NoBinaries)?;
        let run_as = RunAs::current()?;
        let data_dir = absolute(&options.data_dir)?;
        let parent = data_dir.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io(format!("cannot create {}", parent.display())))?;

        if !data_dir.join("PG_VERSION").exists() {
            initdb(&bin, &data_dir, &run_as)?;
        }
        check_not_running(&data_dir)?;

        let socket_dir = private_socket_dir(&run_as)?;
        let log_path = parent.join(format!(
            "{}.log",
            data_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "postgres".into())
        ));
        let log = std::fs::File::create(&log_path).map_err(io(format!("cannot create {}", log_path.display())))?;
        run_as.chown(&log_path)?;

        let mut command = Command::new(bin.join("postgres"));
        command
            .arg("-D")
            .arg(&data_dir)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-c", "listen_addresses=", "-p", &PORT.to_string()])
            .args(["-c", "max_connections=100", "-c", "log_min_messages=warning"]);
        if options.throwaway {
            command.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io("cannot open the server log"))?)
            .stderr(log)
            .current_dir(&data_dir);
        run_as.apply(&mut command);

        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<std::io::Result<u32>>();
        // The server is spawned by a thread that lives exactly as long as the
        // cluster: the parent-death signal fires when that thread ends.
        let keeper = std::thread::Builder::new()
            .name("converge-postgres".into())
            .spawn(move || keep(command, started_tx, stop_rx))
            .map_err(io("cannot start the server thread"))?;
        let pid = started_rx
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("server thread ended")))
            .map_err(io("cannot run postgres"))?;

        let mut cluster = Cluster {
            socket_dir,
            data_dir: data_dir.clone(),
            stop: Some(stop_tx),
            keeper: Some(keeper),
        };
        if let Err(e) = cluster.wait_ready(pid, &log_path) {
            cluster.shutdown();
            return Err(e);
        }
        Ok(cluster)
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn port(&self) -> u16 {
        PORT
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A connection configuration for database `dbname` as the superuser.
    pub fn config(&self, dbname: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.socket_dir)
            .port(PORT)
            .user(SUPERUSER)
            .dbname(dbname)
            .application_name("converge");
        config
    }

    fn wait_ready(&self, pid: u32, log_path: &Path) -> Result<(), ClusterError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let pid_file = self.data_dir.join("postmaster.pid");
        let socket = self.socket_dir.join(format!(".s.PGSQL.{PORT}"));
        loop {
            if socket.exists()
                && let Ok(text) = std::fs::read_to_string(&pid_file)
            {
                let lines: Vec<&str> = text.lines().collect();
                if lines.first().map(|l| l.trim()) == Some(&pid.to_string())
                    && lines.get(7).map(|l| l.trim()) == Some("ready")
                {
                    return Ok(());
                }
            }
            // SAFETY: kill with signal 0 only checks that the process exists.
            let alive = unsafe { libc::kill(pid as i32, 0) } == 0;
            if !alive || Instant::now() > deadline {
                return Err(ClusterError::Start {
                    log: log_path.display().to_string(),
                    tail: tail(log_path),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
        let _ = std::fs::remove_dir_all(&self.socket_dir);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs in the keeper thread: spawn, report, wait for the stop request, stop.
fn keep(mut command: Command, started: mpsc::Sender<std::io::Result<u32>>, stop: mpsc::Receiver<()>) {
    // SAFETY: prctl is async-signal-safe; it runs in the child after the
    // uid/gid change (which would otherwise clear the setting).
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child: Child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let _ = started.send(Ok(child.id()));
    // Either a stop request or the cluster value was dropped.
    let _ = stop.recv();
    // SIGINT: fast shutdown (active sessions are ended, no wait for clients).
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => break,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn initdb(bin: &Path, data_dir: &Path, run_as: &RunAs) -> Result<(), ClusterError> {
    std::fs::create_dir_all(data_dir).map_err(io(format!("cannot create {}", data_dir.display())))?;
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io(format!("cannot set permissions of {}", data_dir.display())))?;
    run_as.chown(data_dir)?;
    let mut command = Command::new(bin.join("initdb"));
    command
        .arg("-D")
        .arg(data_dir)
        .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        .stdin(Stdio::null())
        .current_dir(data_dir);
    run_as.apply(&mut command);
    let output = command.output().map_err(io("cannot run initdb"))?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        let _ = std::fs::remove_dir_all(data_dir);
        return Err(ClusterError::Initdb {
            dir: data_dir.display().to_string(),
            output: text.trim().to_string(),
        });
    }
    Ok(())
}

/// Refuses to start a second server on a data directory that one is using.
fn check_not_running(data_dir: &Path) -> Result<(), ClusterError> {
    let pid_file = data_dir.join("postmaster.pid");
    let Ok(text) = std::fs::read_to_string(&pid_file) else {
        return Ok(());
    };
    let pid = text.lines().next().unwrap_or("").trim().to_string();
    if let Ok(n) = pid.parse::<i32>() {
        // SAFETY: signal 0 only checks existence.
        if n > 0 && unsafe { libc::kill(n, 0) } == 0 {
            let cmdline = std::fs::read_to_string(format!("/proc/{n}/cmdline")).unwrap_or_default();
            if cmdline.contains("postgres") {
                return Err(ClusterError::InUse {
                    dir: data_dir.display().to_string(),
                    pid,
                });
            }
        }
    }
    // A stale pid file from a server that is gone: postgres removes it itself.
    Ok(())
}

fn private_socket_dir(run_as: &RunAs) -> Result<PathBuf, ClusterError> {
    // Short, under /tmp: a Unix socket path has at most 107 bytes.
    let dir = tempfile::Builder::new()
        .prefix("converge-")
        .tempdir_in("/tmp")
        .map_err(io("cannot create a socket directory in /tmp"))?
        .keep();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io("cannot set the socket directory's permissions"))?;
    run_as.chown(&dir)?;
    Ok(dir)
}

fn absolute(path: &Path) -> Result<PathBuf, ClusterError> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .map_err(io("cannot read the working directory"))?
            .join(path))
    }
}

fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// The user the server runs as: the current one, or `postgres` for root.
struct RunAs {
    ids: Option<(u32, u32)>,
}

impl RunAs {
    fn current() -> Result<RunAs, ClusterError> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(RunAs { ids: None });
        }
        let name = std::env::var("CONVERGE_PG_USER").unwrap_or_else(|_| "postgres".into());
        let user = nix::unistd::User::from_name(&name).ok().flatten().ok_or_else(|| {
            ClusterError::User(format!(
                "converge runs as root, and PostgreSQL refuses to; it runs the local server as \
                     the user `{name}`, which does not exist (create it, or name another with CONVERGE_PG_USER)"
            ))
        })?;
        Ok(RunAs {
            ids: Some((user.uid.as_raw(), user.gid.as_raw())),
        })
    }

    fn apply(&self, command: &mut Command) {
        if let Some((uid, gid)) = self.ids {
            command.uid(uid).gid(gid);
        }
    }

    fn chown(&self, path: &Path) -> Result<(), ClusterError> {
        if let Some((uid, gid)) = self.ids {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .map_err(io(format!("cannot hand {} to the server's user", path.display())))?;
        }
        Ok(())
    }
}
