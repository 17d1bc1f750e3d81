//! Shared test support: one real PostgreSQL per test binary, started with
//! converge's own embedded-cluster code in a throwaway directory, fresh
//! databases on it, and an independent canonical dump of a database's schema
//! to compare catalogs without trusting converge's own introspection.

#![allow(dead_code)]

pub mod bin;
pub mod canonical;
pub mod dumped;
pub mod kept;
pub mod printed;

use converge::cluster::{Cluster, ClusterOptions};
use converge::db::Endpoint;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

struct Server {
    socket_dir: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();
/// Owned here so the `atexit` hook can stop the server and remove its files.
static RUNNING: Mutex<Option<(Cluster, tempfile::TempDir)>> = Mutex::new(None);
static COUNTER: AtomicUsize = AtomicUsize::new(0);

extern "C" fn stop_server() {
    if let Ok(mut running) = RUNNING.lock() {
        // Dropping the cluster stops the server; dropping the directory removes it.
        drop(running.take());
    }
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("converge-test-")
            .tempdir_in(cluster_parent())
            .expect("create a directory for the test cluster");
        // The server may run as another user (tests run as root here): let it in.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod test dir");
        let cluster = Cluster::start(&ClusterOptions {
            data_dir: dir.path().join("data"),
            throwaway: true,
        })
        .unwrap_or_else(|e| panic!("start the test PostgreSQL cluster: {e}"));
        let socket_dir = cluster.socket_dir().display().to_string();
        *RUNNING.lock().unwrap() = Some((cluster, dir));
        // SAFETY: registering a plain extern "C" function.
        unsafe {
            libc::atexit(stop_server);
        }
        Server { socket_dir }
    })
}

/// Where the test cluster's throwaway directory goes: in memory (`/dev/shm`)
/// when the machine has it, else the temporary directory. The tests create
/// and drop two thousand databases of a few hundred files each; on ext4 the
/// kernel's search for inodes not recently freed then took about 40% of all
/// CPU samples (`ext4_create`), and the fixture tests twice as long.
///
/// A `/dev/shm` with less than `SHM_NEEDED` free (containers often mount
/// 64 MiB) is not used: the cluster's WAL alone may grow to 1 GiB.
fn cluster_parent() -> std::path::PathBuf {
    const SHM_NEEDED: u64 = 4 << 30;
    let shm = std::path::Path::new("/dev/shm");
    let writable = tempfile::Builder::new()
        .prefix("converge-probe-")
        .tempdir_in(shm)
        .is_ok();
    if writable && free_bytes(shm).is_some_and(|free| free >= SHM_NEEDED) {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// The bytes an unprivileged user may still write on the file system of `path`.
fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a NUL-terminated path, and a buffer statvfs fills when it returns 0.
    let stat = unsafe {
        if libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return None;
        }
        stat.assume_init()
    };
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// A connection string for `dbname` on the test server.
pub fn url(dbname: &str) -> String {
    format!("host={} port=5432 user=postgres dbname={dbname}", server().socket_dir)
}

pub fn endpoint(dbname: &str) -> Endpoint {
    Endpoint::parse(&url(dbname)).expect("test endpoint")
}

/// The maintenance database: where shadow databases are made.
pub fn admin() -> Endpoint {
    endpoint("postgres")
}

/// A new, empty database (from template0) named after `label`.
pub async fn fresh_db(label: &str) -> Endpoint {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let name = format!("t{}_{n}_{clean}", std::process::id());
    let client = admin().connect().await.expect("connect to the test server");
    client
        // FILE_COPY (PostgreSQL 15+) is several times faster for small databases.
        .batch_execute(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE template0 STRATEGY FILE_COPY"
        ))
        .await
        .expect("create a test database");
    endpoint(&name)
}

pub async fn drop_db(db: &Endpoint) {
    if let Ok(client) = admin().connect().await {
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", db.dbname()))
            .await;
    }
}

/// Runs a SQL file's statements one by one, in file order, as psql would.
pub async fn load(db: &Endpoint, sql: &str) -> Result<(), String> {
    let client = db.connect().await.map_err(|e| e.to_string())?;
    client
        .batch_execute("SET client_min_messages = warning")
        .await
        .map_err(|e| e.to_string())?;
    let statements = pg_query::split_with_parser(sql)
        .or_else(|_| pg_query::split_with_scanner(sql))
        .map_err(|e| e.to_string())?;
    for statement in statements {
        if statement.trim().is_empty() {
            continue;
        }
        client
            .batch_execute(statement)
            .await
            .map_err(|e| format!("{}\n  in: {}", converge::db::error_message(&e), statement.trim()))?;
    }
    Ok(())
}

/// Runs a whole script in one transaction.
pub async fn run_in_transaction(db: &Endpoint, sql: &str) -> Result<(), String> {
    let client = db.connect().await.map_err(|e| e.to_string())?;
    client
        .batch_execute(&format!("SET client_min_messages = warning; BEGIN;\n{sql}\nCOMMIT;"))
        .await
        .map_err(|e| converge::db::error_message(&e))
}

/// A tokio runtime for one test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Creates roles (cluster-wide) if they do not exist yet.
pub async fn create_roles(roles: &[String]) -> Result<(), String> {
    if roles.is_empty() {
        return Ok(());
    }
    let client = admin().connect().await.map_err(|e| e.to_string())?;
    for role in roles {
        let sql = format!(
            "DO $$ BEGIN CREATE ROLE \"{}\" NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
            role.replace('"', "\"\"")
        );
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| converge::db::error_message(&e))?;
    }
    Ok(())
}

/// The single value of `sql` (a bigint) on `db`, on a new connection.
pub async fn query_i64(db: &Endpoint, sql: &str) -> i64 {
    let client = db.connect().await.expect("connect");
    client.query_one(sql, &[]).await.expect(sql).get(0)
}

/// The single value of `sql` (text, maybe NULL) on `db`, on a new connection.
pub async fn query_text(db: &Endpoint, sql: &str) -> Option<String> {
    let client = db.connect().await.expect("connect");
    client.query_one(sql, &[]).await.expect(sql).get(0)
}

/// Polls `sql` (a count) on `db` until it reaches `n`, for at most 60 s.
pub async fn wait_for(db: &Endpoint, sql: &str, n: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if query_i64(db, sql).await >= n {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for: {sql}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
