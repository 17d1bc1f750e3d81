//! Connections as libpq makes them, against a real PostgreSQL server that this
//! test starts itself: listening on 127.0.0.1 with TLS (a certificate made
//! here for `db.test` and 127.0.0.1, signed by a CA made here) and on a Unix
//! socket, with scram-sha-256 passwords over TCP and trust on the socket.
//!
//! Environment variables are given to `Endpoint::parse_with_env` as maps, so
//! no test changes the process's environment.

use converge::db::{Endpoint, SslMode};
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// alice may connect with or without TLS; bob and everyone else only with
/// TLS; certuser only with a client certificate.
const HBA: &str = "\
local all all trust
hostssl all certuser 127.0.0.1/32 cert
hostnossl all alice 127.0.0.1/32 scram-sha-256
hostssl all all 127.0.0.1/32 scram-sha-256
";

/// Passwords with the characters that need quoting or escaping.
const ALICE_PASSWORD: &str = r"a l:i\ce'pw";
const BOB_PASSWORD: &str = "bob-Secret-42";

struct Server {
    port: u16,
    socket_dir: String,
    /// The CA that signed the server's certificate, another CA, and a client
    /// certificate for certuser with its key.
    ca: PathBuf,
    wrong_ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    files: PathBuf,
}

static SERVER: OnceLock<Server> = OnceLock::new();
type Running = (mpsc::Sender<()>, std::thread::JoinHandle<()>, tempfile::TempDir);
static RUNNING: Mutex<Option<Running>> = Mutex::new(None);

extern "C" fn stop_server() {
    if let Ok(mut running) = RUNNING.lock()
        && let Some((stop, keeper, dir)) = running.take()
    {
        let _ = stop.send(());
        let _ = keeper.join();
        drop(dir);
    }
}

/// The uid and gid the server runs as: `postgres` when the tests run as root.
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let user = nix::unistd::User::from_name("postgres")
        .ok()
        .flatten()
        .expect("the tests run as root, so the server needs the `postgres` user");
    Some((user.uid.as_raw(), user.gid.as_raw()))
}

fn hand_over(path: &Path, ids: Option<(u32, u32)>) {
    if let Some((uid, gid)) = ids {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    }
}

fn write(path: &Path, text: &str, mode: u32, ids: Option<(u32, u32)>) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    hand_over(path, ids);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .unwrap()
        .port()
}

struct Certificates {
    ca: String,
    wrong_ca: String,
    server: (String, String),
    client: (String, String),
}

fn certificates() -> Certificates {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_params = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
    };
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params("converge test CA").self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params("converge test CA"), ca_key);
    let wrong_key = KeyPair::generate().unwrap();
    let wrong_ca = ca_params("converge other CA").self_signed(&wrong_key).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["db.test".to_string(), "127.0.0.1".to_string()]).unwrap();
    server.distinguished_name.push(DnType::CommonName, "db.test");
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.distinguished_name.push(DnType::CommonName, "certuser");
    let client_cert = client.signed_by(&client_key, &issuer).unwrap();

    Certificates {
        ca: ca_cert.pem(),
        wrong_ca: wrong_ca.pem(),
        server: (server_cert.pem(), server_key.serialize_pem()),
        client: (client_cert.pem(), client_key.serialize_pem()),
    }
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let bin = converge::cluster::find_bin_dir().expect("PostgreSQL server binaries");
        let ids = run_as();
        let dir = tempfile::Builder::new()
            .prefix("converge-conn-")
            .tempdir()
            .expect("temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
        hand_over(&data, ids);
        let socket_dir = dir.path().join("sock");
        std::fs::create_dir(&socket_dir).unwrap();
        hand_over(&socket_dir, ids);
        // Files for the client side: owned by the test's user.
        let files = dir.path().join("client");
        std::fs::create_dir(&files).unwrap();

        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            .current_dir(&data);
        if let Some((uid, gid)) = ids {
            initdb.uid(uid).gid(gid);
        }
        let out = initdb.output().expect("run initdb");
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));

        let certs = certificates();
        write(&data.join("server.crt"), &certs.server.0, 0o644, ids);
        write(&data.join("server.key"), &certs.server.1, 0o600, ids);
        write(&data.join("ca.crt"), &certs.ca, 0o644, ids);
        write(&data.join("pg_hba.conf"), HBA, 0o600, ids);
        let port = free_port();
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'ca.crt'\n\
             password_encryption = 'scram-sha-256'\nfsync = off\nmax_connections = 40\n",
            socket_dir.display()
        );
        let conf_path = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).unwrap();
        text.push_str(&conf);
        write(&conf_path, &text, 0o600, ids);

        let ca = files.join("ca.crt");
        write(&ca, &certs.ca, 0o644, None);
        let wrong_ca = files.join("wrong-ca.crt");
        write(&wrong_ca, &certs.wrong_ca, 0o644, None);
        let client_cert = files.join("certuser.crt");
        write(&client_cert, &certs.client.0, 0o644, None);
        let client_key = files.join("certuser.key");
        write(&client_key, &certs.client.1, 0o600, None);

        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut postgres = Command::new(bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .current_dir(&data);
        if let Some((uid, gid)) = ids {
            postgres.uid(uid).gid(gid);
        }
        // The server is spawned by a thread that lives as long as the test
        // process, with a parent-death signal, so it cannot outlive the tests.
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        let keeper = std::thread::spawn(move || {
            // SAFETY: prctl is async-signal-safe.
            unsafe {
                postgres.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
                    Ok(())
                });
            }
            let mut child = postgres.spawn().expect("start postgres");
            started_tx.send(()).unwrap();
            let _ = stop_rx.recv();
            // SAFETY: signalling our own child.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGINT);
            }
            let _ = child.wait();
        });
        started_rx.recv().unwrap();
        let server = Server {
            port,
            socket_dir: socket_dir.display().to_string(),
            ca,
            wrong_ca,
            client_cert,
            client_key,
            files,
        };
        let log_path = dir.path().join("server.log");
        *RUNNING.lock().unwrap() = Some((stop_tx, keeper, dir));
        // SAFETY: registering a plain extern "C" function.
        unsafe {
            libc::atexit(stop_server);
        }

        // Ready when the socket accepts; then the roles.
        let admin = Endpoint::parse_with_env(
            &format!("host={} port={port} user=postgres dbname=postgres", server.socket_dir),
            &env(&[]),
        )
        .unwrap();
        runtime().block_on(async {
            let deadline = Instant::now() + Duration::from_secs(60);
            let client = loop {
                match admin.connect().await {
                    Ok(client) => break client,
                    Err(e) if Instant::now() > deadline => {
                        panic!(
                            "server did not start: {e}\n{}",
                            std::fs::read_to_string(&log_path).unwrap_or_default()
                        )
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            };
            let quote = |p: &str| p.replace('\'', "''");
            client
                .batch_execute(&format!(
                    "CREATE ROLE alice LOGIN PASSWORD '{}'; CREATE ROLE bob LOGIN PASSWORD '{}'; \
                     CREATE ROLE certuser LOGIN;",
                    quote(ALICE_PASSWORD),
                    quote(BOB_PASSWORD)
                ))
                .await
                .expect("create roles");
        });
        server
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// An environment with HOME in an empty directory (no ~/.pgpass, no
/// ~/.postgresql) plus `pairs`.
fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    let home = HOME.get_or_init(|| tempfile::tempdir().unwrap());
    let mut env: HashMap<String, String> = [("HOME".to_string(), home.path().display().to_string())].into();
    env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// A key=value value, quoted.
fn q(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn endpoint(text: &str, pairs: &[(&str, &str)]) -> Endpoint {
    Endpoint::parse_with_env(text, &env(pairs)).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// What the server says about the session: (TLS in use, user, application_name).
async fn session(endpoint: &Endpoint) -> Result<(bool, String, String), String> {
    let client = endpoint.connect().await.map_err(|e| e.to_string())?;
    let row = client
        .query_one(
            "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), \
             current_user::text, current_setting('application_name')",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok((row.get(0), row.get(1), row.get(2)))
}

fn connect(text: &str, pairs: &[(&str, &str)]) -> Result<(bool, String, String), String> {
    let endpoint = endpoint(text, pairs);
    runtime().block_on(session(&endpoint))
}

/// Connects and returns whether TLS is in use.
fn tls_in_use(text: &str, pairs: &[(&str, &str)]) -> bool {
    connect(text, pairs).unwrap_or_else(|e| panic!("{text}: {e}")).0
}

fn failure(text: &str, pairs: &[(&str, &str)]) -> String {
    match connect(text, pairs) {
        Ok(_) => panic!("{text}: connected, but should not have"),
        Err(e) => {
            assert!(!e.contains('\n'), "not one line: {e}");
            e
        }
    }
}

fn bob(rest: &str) -> String {
    let s = server();
    format!(
        "host=127.0.0.1 port={} user=bob password={BOB_PASSWORD} dbname=postgres {rest}",
        s.port
    )
}

fn alice(rest: &str) -> String {
    let s = server();
    format!(
        "host=127.0.0.1 port={} user=alice password={} dbname=postgres {rest}",
        s.port,
        q(ALICE_PASSWORD)
    )
}

#[test]
fn defaults_from_the_environment_reach_the_server() {
    let s = server();
    let port = s.port.to_string();
    let endpoint = endpoint(
        "",
        &[
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", &port),
            ("PGUSER", "bob"),
            ("PGPASSWORD", BOB_PASSWORD),
            ("PGDATABASE", "postgres"),
            ("PGSSLMODE", "verify-ca"),
            ("PGSSLROOTCERT", s.ca.to_str().unwrap()),
            ("PGAPPNAME", "env-app"),
            ("PGCONNECT_TIMEOUT", "5"),
            ("PGOPTIONS", "-c statement_timeout=5s"),
        ],
    );
    assert_eq!(endpoint.ssl().mode, SslMode::VerifyCa);
    runtime().block_on(async {
        let client = endpoint.connect().await.unwrap();
        let row = client
            .query_one(
                "SELECT current_user::text, current_database()::text, current_setting('application_name'), \
                 current_setting('statement_timeout'), (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "bob");
        assert_eq!(row.get::<_, String>(1), "postgres");
        assert_eq!(row.get::<_, String>(2), "env-app");
        assert_eq!(row.get::<_, String>(3), "5s");
        assert!(row.get::<_, bool>(4));
    });
}

#[test]
fn the_string_beats_the_environment() {
    let s = server();
    let wrong = [
        ("PGHOST", "/nonexistent"),
        ("PGPORT", "1"),
        ("PGUSER", "nobody"),
        ("PGPASSWORD", "not-the-password"),
        ("PGDATABASE", "nodb"),
        ("PGSSLMODE", "disable"),
        ("PGAPPNAME", "env-app"),
    ];
    let url = format!(
        "postgresql://bob:{BOB_PASSWORD}@127.0.0.1:{}/postgres?sslmode=require&application_name=url-app",
        s.port
    );
    assert_eq!(connect(&url, &wrong).unwrap(), (true, "bob".into(), "url-app".into()));
    let text = bob("sslmode=require application_name='key value app'");
    assert_eq!(
        connect(&text, &wrong).unwrap(),
        (true, "bob".into(), "key value app".into())
    );
    // The password with a space, a colon, a backslash and a quote, quoted.
    let (ssl, user, _) = connect(&alice("sslmode=require"), &wrong).unwrap();
    assert!(ssl);
    assert_eq!(user, "alice");
    // ... and percent-encoded in a URL.
    let url = format!(
        "postgres://alice:a%20l%3Ai%5Cce%27pw@127.0.0.1:{}/postgres?sslmode=disable",
        s.port
    );
    assert!(!connect(&url, &wrong).unwrap().0);
}

#[test]
fn unix_socket_urls_and_query_hosts() {
    let s = server();
    let encoded = s.socket_dir.replace('/', "%2F");
    // sslmode does not apply to Unix sockets, as in libpq.
    let url = format!("postgres://postgres@{encoded}:{}/postgres?sslmode=require", s.port);
    assert_eq!(connect(&url, &[]).unwrap().1, "postgres");
    let url = format!(
        "postgresql:///postgres?host={}&port={}&user=postgres",
        s.socket_dir, s.port
    );
    assert!(!connect(&url, &[]).unwrap().0);
    let port = s.port.to_string();
    let (ssl, user, _) = connect(
        "dbname=postgres",
        &[("PGHOST", &s.socket_dir), ("PGPORT", &port), ("PGUSER", "postgres")],
    )
    .unwrap();
    assert!(!ssl);
    assert_eq!(user, "postgres");
}

#[test]
fn host_lists_try_each_host_in_turn() {
    let s = server();
    let closed = free_port();
    let text = format!(
        "host=127.0.0.1,127.0.0.1 port={closed},{} user=bob password={BOB_PASSWORD} dbname=postgres",
        s.port
    );
    assert!(tls_in_use(&text, &[]));
    let text = format!("host=127.0.0.1 port={closed} user=bob dbname=postgres connect_timeout=2");
    let e = failure(&text, &[]);
    assert!(e.contains("cannot connect to postgres://bob@127.0.0.1:"), "{e}");
}

fn pgpass_file(name: &str, text: &str, mode: u32) -> PathBuf {
    let path = server().files.join(name);
    write(&path, text, mode, None);
    path
}

#[test]
fn passwords_from_the_password_file() {
    let s = server();
    // alice's password escaped: `\:` and `\\`.
    let escaped = ALICE_PASSWORD.replace('\\', "\\\\").replace(':', "\\:");
    let file = pgpass_file(
        "pgpass",
        &format!(
            "# comment\n\
             127.0.0.1:{port}:otherdb:bob:not-this-one\n\
             127.0.0.1:{port}:*:bob:{BOB_PASSWORD}\n\
             *:*:*:alice:{escaped}\n\
             *:*:*:*:fallback\n",
            port = s.port
        ),
        0o600,
    );
    let file = file.to_str().unwrap();
    let base = format!("host=127.0.0.1 port={} dbname=postgres sslmode=require", s.port);
    assert!(tls_in_use(&format!("{base} user=bob"), &[("PGPASSFILE", file)]));
    assert!(tls_in_use(&format!("{base} user=alice"), &[("PGPASSFILE", file)]));
    assert!(tls_in_use(&format!("{base} user=alice passfile={file}"), &[]));
    // ~/.pgpass when PGPASSFILE is not set.
    let home = tempfile::tempdir().unwrap();
    std::fs::copy(file, home.path().join(".pgpass")).unwrap();
    let home_dir = home.path().to_str().unwrap();
    assert!(tls_in_use(&format!("{base} user=bob"), &[("HOME", home_dir)]));
    // The first matching line wins: for otherdb that is the wrong password.
    let e = failure(
        &format!("host=127.0.0.1 port={} dbname=otherdb user=bob sslmode=require", s.port),
        &[("PGPASSFILE", file)],
    );
    assert!(e.contains("password authentication failed for user \"bob\""), "{e}");
    assert!(!e.contains("not-this-one"), "{e}");
    // A file that others may read is ignored, so no password is sent.
    let open = pgpass_file("pgpass-open", &format!("*:*:*:bob:{BOB_PASSWORD}\n"), 0o644);
    let endpoint = endpoint(&format!("{base} user=bob"), &[("PGPASSFILE", open.to_str().unwrap())]);
    assert!(!endpoint.has_password());
    let e = runtime().block_on(endpoint.connect()).unwrap_err().to_string();
    assert!(!e.contains(BOB_PASSWORD), "{e}");
    // The library's own lookup, for the record.
    assert_eq!(
        converge::db::pgpass::lookup(Path::new(file), "127.0.0.1", s.port, "postgres", "alice").as_deref(),
        Some(ALICE_PASSWORD)
    );
    assert_eq!(converge::db::pgpass::lookup(&open, "h", 1, "d", "bob"), None);
}

fn pg_stat_ssl_is(expected: bool, text: &str) {
    assert_eq!(tls_in_use(text, &[]), expected, "{text}");
}

#[test]
fn sslmode_disable_allow_prefer_require() {
    let s = server();
    // disable: plain; bob may only come with TLS.
    pg_stat_ssl_is(false, &alice("sslmode=disable"));
    let e = failure(&bob("sslmode=disable"), &[]);
    assert!(e.contains("no pg_hba.conf entry"), "{e}");
    // allow: plain first, TLS when the server turns plain down.
    pg_stat_ssl_is(false, &alice("sslmode=allow"));
    pg_stat_ssl_is(true, &bob("sslmode=allow"));
    // prefer (the default): TLS when offered ...
    pg_stat_ssl_is(true, &alice("sslmode=prefer"));
    pg_stat_ssl_is(true, &alice(""));
    // ... and plain when TLS fails (here: the certificate does not verify).
    let wrong = s.wrong_ca.display();
    pg_stat_ssl_is(false, &alice(&format!("sslmode=prefer sslrootcert={wrong}")));
    let e = failure(&bob(&format!("sslmode=prefer sslrootcert={wrong}")), &[]);
    assert!(e.contains("then without TLS"), "{e}");
    // require: TLS, certificate unchecked without a root certificate ...
    pg_stat_ssl_is(true, &bob("sslmode=require"));
    pg_stat_ssl_is(true, &bob("sslmode=require sslrootcert=/nonexistent/root.crt"));
    pg_stat_ssl_is(true, &bob("sslmode=require channel_binding=require"));
    // ... and checked like verify-ca with one.
    pg_stat_ssl_is(
        true,
        &bob(&format!(
            "host=localhost sslmode=require sslrootcert={}",
            s.ca.display()
        )),
    );
    let e = failure(&bob(&format!("sslmode=require sslrootcert={wrong}")), &[]);
    assert!(e.contains("certificate"), "{e}");
    // A client certificate without its key: require fails, prefer goes on without TLS.
    let no_key = format!("sslcert={} sslkey=/nonexistent/key", s.client_cert.display());
    let e = failure(&bob(&format!("sslmode=require {no_key}")), &[]);
    assert!(e.contains("certificate present, but not private key file"), "{e}");
    pg_stat_ssl_is(false, &alice(&format!("sslmode=prefer {no_key}")));
}

#[test]
fn system_roots_do_not_know_the_test_ca() {
    // verify-full is the default with sslrootcert=system.
    let e = failure(&bob("sslrootcert=system"), &[]);
    assert!(e.contains("certificate"), "{e}");
    let e = Endpoint::parse_with_env(&bob("sslrootcert=system sslmode=verify-ca"), &env(&[])).unwrap_err();
    assert!(e.to_string().contains("weak sslmode \"verify-ca\""), "{e}");
}

#[test]
fn verify_ca_and_verify_full() {
    let s = server();
    let ca = s.ca.display();
    let wrong = s.wrong_ca.display();
    // verify-ca: the chain, not the name (localhost is not in the certificate).
    pg_stat_ssl_is(true, &bob(&format!("sslmode=verify-ca sslrootcert={ca}")));
    pg_stat_ssl_is(
        true,
        &bob(&format!("host=localhost sslmode=verify-ca sslrootcert={ca}")),
    );
    let e = failure(&bob(&format!("sslmode=verify-ca sslrootcert={wrong}")), &[]);
    assert!(
        e.contains("is not signed by the root certificates in") && e.contains("wrong-ca.crt"),
        "{e}"
    );
    // verify-full: the chain and the name.
    pg_stat_ssl_is(true, &bob(&format!("sslmode=verify-full sslrootcert={ca}")));
    pg_stat_ssl_is(
        true,
        &bob(&format!(
            "host=db.test hostaddr=127.0.0.1 sslmode=verify-full sslrootcert={ca}"
        )),
    );
    let e = failure(
        &bob(&format!("host=localhost sslmode=verify-full sslrootcert={ca}")),
        &[],
    );
    assert!(e.contains("certificate") && e.contains("localhost"), "{e}");
    let e = failure(&bob(&format!("sslmode=verify-full sslrootcert={wrong}")), &[]);
    assert!(e.contains("UnknownIssuer"), "{e}");
    // The root certificate from ~/.postgresql/root.crt by default.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    let home_env = [("HOME", home.path().to_str().unwrap())];
    let e = failure(&bob("sslmode=verify-full"), &home_env);
    assert!(
        e.contains("root certificate file") && e.contains("does not exist"),
        "{e}"
    );
    std::fs::copy(&s.wrong_ca, home.path().join(".postgresql/root.crt")).unwrap();
    // With the file there, require verifies too.
    let e = failure(&bob("sslmode=require"), &home_env);
    assert!(
        e.contains("is not signed by") && e.contains(".postgresql/root.crt"),
        "{e}"
    );
    std::fs::copy(&s.ca, home.path().join(".postgresql/root.crt")).unwrap();
    assert!(tls_in_use(&bob("sslmode=verify-full"), &home_env));
    // And from PGSSLROOTCERT.
    assert!(tls_in_use(
        &bob("sslmode=verify-full"),
        &[("PGSSLROOTCERT", s.ca.to_str().unwrap())]
    ));
}

#[test]
fn client_certificates() {
    let s = server();
    let base = format!(
        "host=db.test hostaddr=127.0.0.1 port={} user=certuser dbname=postgres sslmode=verify-full sslrootcert={}",
        s.port,
        s.ca.display()
    );
    let with_cert = format!(
        "{base} sslcert={} sslkey={}",
        s.client_cert.display(),
        s.client_key.display()
    );
    let (ssl, user, _) = connect(&with_cert, &[]).unwrap();
    assert!(ssl);
    assert_eq!(user, "certuser");
    let e = failure(&base, &[]);
    assert!(e.contains("certificate"), "{e}");
    // A key that others may read is refused, as libpq does.
    let open_key = s.files.join("open.key");
    std::fs::copy(&s.client_key, &open_key).unwrap();
    std::fs::set_permissions(&open_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = failure(
        &format!(
            "{base} sslcert={} sslkey={}",
            s.client_cert.display(),
            open_key.display()
        ),
        &[],
    );
    assert!(e.contains("group or world access"), "{e}");
}

#[test]
fn a_wrong_password_is_one_line_without_the_password() {
    let s = server();
    let secret = "Wr0ng-Passw0rd-xyz";
    for mode in ["require", "prefer", "verify-full"] {
        let text = format!(
            "host=127.0.0.1 port={} user=bob password={secret} dbname=postgres sslmode={mode} sslrootcert={}",
            s.port,
            s.ca.display()
        );
        let endpoint = endpoint(&text, &[]);
        assert!(!endpoint.to_string().contains(secret));
        assert!(!format!("{endpoint:?}").contains(secret));
        let e = failure(&text, &[]);
        assert!(e.contains("password authentication failed for user \"bob\""), "{e}");
        assert!(!e.contains(secret), "{e}");
        assert!(
            e.starts_with(&format!(
                "cannot connect to postgres://bob@127.0.0.1:{}/postgres: ",
                s.port
            )),
            "{e}"
        );
    }
    // From PGPASSWORD and in a URL too.
    let e = failure(
        &format!("postgres://bob@127.0.0.1:{}/postgres?sslmode=require", s.port),
        &[("PGPASSWORD", secret)],
    );
    assert!(
        !e.contains(secret) && e.contains("password authentication failed"),
        "{e}"
    );
    let e = failure(&format!("postgres://bob:{secret}@127.0.0.1:{}/postgres", s.port), &[]);
    assert!(!e.contains(secret), "{e}");
}
