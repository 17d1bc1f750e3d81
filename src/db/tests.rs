use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    // HOME points nowhere, so no real ~/.pgpass or ~/.postgresql is read.
    let mut env: HashMap<String, String> = [("HOME".to_string(), "/nonexistent-home".to_string())].into();
    env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn parse(text: &str, pairs: &[(&str, &str)]) -> Endpoint {
    Endpoint::parse_with_env(text, &env(pairs)).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn error(text: &str, pairs: &[(&str, &str)]) -> String {
    Endpoint::parse_with_env(text, &env(pairs)).unwrap_err().to_string()
}

fn tcp(target: &Target) -> (&str, u16) {
    match &target.host {
        Host::Tcp(h) => (h.as_str(), target.port),
        Host::Unix(p) => panic!("expected a TCP host, got {}", p.display()),
    }
}

fn password(e: &Endpoint) -> Option<String> {
    e.postgres_config()
        .get_password()
        .map(|p| p.to_vec())
        .or_else(|| e.targets()[0].password.as_ref().map(|p| p.0.clone()))
        .map(|p| String::from_utf8(p).unwrap())
}

#[test]
fn display_never_shows_the_password() {
    let e = parse("postgres://alice:s3cret@db.example.com:6543/app", &[]);
    assert_eq!(e.to_string(), "postgres://alice@db.example.com:6543/app");
    assert!(!format!("{e:?}").contains("s3cret"));
    let e = parse("host=/tmp/x user=bob password=hunter2 dbname=d", &[]);
    assert!(!e.to_string().contains("hunter2"));
    assert!(!format!("{e:?}").contains("hunter2"));
    assert!(!format!("{:?}", e.targets()).contains("hunter2"));
    assert_eq!(e.to_string(), "postgres://bob@[/tmp/x]:5432/d");
    let e = parse("host=a,::1 port=1,2 user=u dbname=d", &[]);
    assert_eq!(e.to_string(), "postgres://u@a:1,[::1]:2/d");
}

#[test]
fn invalid_strings_are_errors_not_panics() {
    assert!(Endpoint::parse("postgres://[::1").is_err());
    assert!(Endpoint::parse("nonsense = = =").is_err());
    assert!(error("port=abc", &[]).contains("invalid port number: \"abc\""));
    assert!(error("port=70000", &[]).contains("invalid port number"));
    assert!(error("", &[("PGPORT", "x")]).contains("invalid port number: \"x\""));
    assert!(error("sslmode=sometimes", &[]).contains("invalid sslmode value: \"sometimes\""));
    assert!(error("host=a,b port=1,2,3", &[]).contains("could not match 3 port numbers to 2 hosts"));
    assert!(error("host=a,b hostaddr=127.0.0.1", &[]).contains("could not match 2 host names to 1 hostaddr"));
    assert!(error("hostaddr=db.example.com", &[]).contains("could not parse network address"));
    assert!(error("connect_timeout=soon", &[]).contains("invalid integer value \"soon\""));
    assert!(error("client_encoding=LATIN1", &[]).contains("UTF8"));
    assert!(error("target_session_attrs=standby", &[]).contains("not supported"));
    assert!(error("sslnegotiation=direct", &[]).contains("weak sslmode \"prefer\""));
}

#[test]
fn a_password_is_never_in_a_parse_error() {
    for text in [
        "user=u password=se cret",
        "user=u password=se cret=x",
        "postgres://u:se%ZZcret@h/db",
        "postgres://u:secret@[::1",
        "postgres://h/db?password=se=cret",
    ] {
        let message = Endpoint::parse_with_env(text, &env(&[])).unwrap_err().to_string();
        assert!(!message.contains("cret"), "{text}: {message}");
    }
}

#[test]
fn defaults_come_from_the_environment() {
    let e = parse(
        "",
        &[
            ("PGHOST", "db.example.com"),
            ("PGPORT", "6543"),
            ("PGUSER", "alice"),
            ("PGPASSWORD", "from-env"),
            ("PGDATABASE", "app"),
            ("PGSSLMODE", "require"),
            ("PGSSLROOTCERT", "/etc/ca.pem"),
            ("PGSSLCERT", "/etc/client.pem"),
            ("PGSSLKEY", "/etc/client.key"),
            ("PGAPPNAME", "from-env-app"),
            ("PGCONNECT_TIMEOUT", "7"),
            ("PGOPTIONS", "-c statement_timeout=5s"),
        ],
    );
    assert_eq!(tcp(&e.targets()[0]), ("db.example.com", 6543));
    assert_eq!(e.user(), "alice");
    assert_eq!(e.dbname(), "app");
    assert_eq!(password(&e).as_deref(), Some("from-env"));
    assert_eq!(e.ssl().mode, SslMode::Require);
    assert_eq!(e.ssl().root_cert, RootCert::File("/etc/ca.pem".into()));
    assert_eq!(e.ssl().cert, Path::new("/etc/client.pem"));
    assert_eq!(e.ssl().key, Path::new("/etc/client.key"));
    let c = e.postgres_config();
    assert_eq!(c.get_application_name(), Some("from-env-app"));
    assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(7)));
    assert_eq!(c.get_options(), Some("-c statement_timeout=5s"));
}

#[test]
fn the_string_beats_the_environment() {
    let environment = [
        ("PGHOST", "env-host"),
        ("PGPORT", "1111"),
        ("PGUSER", "env-user"),
        ("PGPASSWORD", "env-password"),
        ("PGDATABASE", "env-db"),
        ("PGSSLMODE", "disable"),
        ("PGAPPNAME", "env-app"),
    ];
    for text in [
        "host=str-host port=2222 user=str-user password=str-password dbname=str-db sslmode=verify-full \
         application_name=str-app",
        "postgres://str-user:str-password@str-host:2222/str-db?sslmode=verify-full&application_name=str-app",
        "postgresql://str-user:str-password@str-host:2222/str-db?application_name=str-app&sslmode=verify-full",
    ] {
        let e = parse(text, &environment);
        assert_eq!(tcp(&e.targets()[0]), ("str-host", 2222), "{text}");
        assert_eq!(e.user(), "str-user");
        assert_eq!(password(&e).as_deref(), Some("str-password"));
        assert_eq!(e.dbname(), "str-db");
        assert_eq!(e.ssl().mode, SslMode::VerifyFull);
        assert_eq!(e.postgres_config().get_application_name(), Some("str-app"));
    }
    // What the string leaves out still comes from the environment.
    let e = parse("postgres://str-host/str-db", &environment);
    assert_eq!(tcp(&e.targets()[0]), ("str-host", 1111));
    assert_eq!(e.user(), "env-user");
    assert_eq!(e.ssl().mode, SslMode::Disable);
    // A value given empty means the default, not the environment's.
    let e = parse("host='' port=5433", &environment);
    assert_ne!(e.targets()[0].host, Host::Tcp("env-host".into()));
}

#[test]
fn built_in_defaults() {
    let e = parse("", &[]);
    assert_eq!(e.user(), os_user().unwrap_or_else(|| "postgres".into()));
    // The database defaults to the user name.
    assert_eq!(e.dbname(), e.user());
    assert_eq!(e.targets().len(), 1);
    assert_eq!(e.targets()[0].host, settings::default_host());
    assert_eq!(e.targets()[0].port, 5432);
    assert_eq!(e.ssl().mode, SslMode::Prefer);
    assert_eq!(
        e.ssl().root_cert,
        RootCert::File("/nonexistent-home/.postgresql/root.crt".into())
    );
    assert_eq!(e.ssl().cert, Path::new("/nonexistent-home/.postgresql/postgresql.crt"));
    let c = e.postgres_config();
    assert_eq!(c.get_application_name(), Some("converge"));
    assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(10)));
    let e = parse("user=carol", &[]);
    assert_eq!(e.dbname(), "carol");
    let e = parse("fallback_application_name=fb", &[]);
    assert_eq!(e.postgres_config().get_application_name(), Some("fb"));
    // libpq: 0 waits forever; 1 means 2.
    assert_eq!(
        parse("connect_timeout=0", &[]).postgres_config().get_connect_timeout(),
        None
    );
    assert_eq!(
        parse("connect_timeout=1", &[]).postgres_config().get_connect_timeout(),
        Some(&Duration::from_secs(2))
    );
}

#[test]
fn unix_sockets_and_host_lists() {
    let e = parse("postgres://%2Fvar%2Frun%2Fpostgresql/db", &[]);
    assert_eq!(e.targets()[0].host, Host::Unix("/var/run/postgresql".into()));
    assert_eq!(e.dbname(), "db");
    let e = parse("postgres:///db?host=/tmp/sock&port=5433", &[]);
    assert_eq!(e.targets()[0].host, Host::Unix("/tmp/sock".into()));
    assert_eq!(e.targets()[0].port, 5433);
    let e = parse("", &[("PGHOST", "/tmp/a,b.example.com"), ("PGPORT", "1,2")]);
    assert_eq!(e.targets()[0].host, Host::Unix("/tmp/a".into()));
    assert_eq!(tcp(&e.targets()[1]), ("b.example.com", 2));
    let e = parse("host=db.test hostaddr=127.0.0.1", &[]);
    assert_eq!(tcp(&e.targets()[0]), ("db.test", 5432));
    assert_eq!(e.targets()[0].hostaddr, Some("127.0.0.1".parse().unwrap()));
    let e = parse("hostaddr=::1 port=7", &[]);
    assert_eq!(tcp(&e.targets()[0]), ("::1", 7));
    assert_eq!(e.to_string(), format!("postgres://{}@[::1]:7/{}", e.user(), e.dbname()));
}

#[test]
fn ssl_settings() {
    let e = parse("sslrootcert=system host=h", &[]);
    assert_eq!(e.ssl().root_cert, RootCert::System);
    assert_eq!(e.ssl().mode, SslMode::VerifyFull);
    assert!(error("sslrootcert=system sslmode=require", &[]).contains("weak sslmode \"require\""));
    let e = parse("sslsni=0 sslcertmode=disable ssl_min_protocol_version=TLSv1.3", &[]);
    assert!(!e.ssl().sni);
    assert_eq!(e.ssl().cert_mode, CertMode::Disable);
    assert!(!e.ssl().tls12 && e.ssl().tls13);
    assert!(error("ssl_min_protocol_version=TLSv1 ssl_max_protocol_version=TLSv1.1", &[]).contains("TLSv1.2"));
    assert!(error("ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2", &[]).contains("range"));
    for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
        assert_eq!(parse(&format!("sslmode={mode}"), &[]).ssl().mode.as_str(), mode);
    }
    assert_eq!(parse("postgres://h/?ssl=true", &[]).ssl().mode, SslMode::Require);
}

fn pgpass(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(format!("pgpass-{mode:o}"));
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn passwords_from_the_password_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = pgpass(
        dir.path(),
        "db.test:5432:app:alice:app-pw\n\
         db.test:5432:*:alice:any-db-pw\n\
         localhost:5432:*:bob:socket-pw\n\
         other:*:*:*:other\\:pw\n",
        0o600,
    );
    let file = file.to_str().unwrap();
    let with = [("PGPASSFILE", file)];
    let e = parse("host=db.test user=alice dbname=app", &with);
    assert_eq!(password(&e).as_deref(), Some("app-pw"));
    assert!(e.has_password());
    // Another database: the file is read again.
    assert_eq!(password(&e.with_dbname("logs")).as_deref(), Some("any-db-pw"));
    assert_eq!(
        password(&parse("postgres://alice@db.test/other", &with)).as_deref(),
        Some("any-db-pw")
    );
    assert_eq!(password(&parse("host=db.test port=5433 user=alice", &with)), None);
    assert_eq!(
        password(&parse("host=other user=x dbname=y port=9", &with)).as_deref(),
        Some("other:pw")
    );
    // The default socket directory is "localhost" in the file.
    assert_eq!(
        password(&parse("host=/var/run/postgresql user=bob", &with)).as_deref(),
        Some("socket-pw")
    );
    // passfile in the string beats PGPASSFILE; an explicit password beats the file.
    let e = parse(
        &format!("host=db.test user=alice dbname=app passfile={file}"),
        &[("PGPASSFILE", "/nope")],
    );
    assert_eq!(password(&e).as_deref(), Some("app-pw"));
    let e = parse("host=db.test user=alice dbname=app password=given", &with);
    assert_eq!(password(&e).as_deref(), Some("given"));
    let e = parse(
        "host=db.test user=alice dbname=app",
        &[("PGPASSFILE", file), ("PGPASSWORD", "env")],
    );
    assert_eq!(password(&e).as_deref(), Some("env"));
    // ~/.pgpass by default.
    std::fs::copy(file, dir.path().join(".pgpass")).unwrap();
    let home = dir.path().to_str().unwrap();
    let e = parse("host=db.test user=alice dbname=app", &[("HOME", home)]);
    assert_eq!(password(&e).as_deref(), Some("app-pw"));
    // A file others can read is ignored.
    let open = pgpass(dir.path(), "*:*:*:*:pw\n", 0o644);
    let e = parse("host=db.test user=alice", &[("PGPASSFILE", open.to_str().unwrap())]);
    assert_eq!(password(&e), None);
    assert!(!e.has_password());
}

#[test]
fn from_config_keeps_the_config() {
    let mut config = Config::new();
    config
        .host_path("/tmp/s")
        .port(5433)
        .user("postgres")
        .dbname("postgres");
    let e = Endpoint::from_config(config);
    assert_eq!(e.to_string(), "postgres://postgres@[/tmp/s]:5433/postgres");
    assert_eq!(e.ssl().mode, SslMode::Prefer);
    assert_eq!(e.postgres_config().get_application_name(), Some("converge"));
    assert_eq!(e.with_dbname("x").dbname(), "x");
}

#[test]
fn channel_binding_hash_follows_the_signature_algorithm() {
    use sha2::Digest;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["db.test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der = cert.der().as_ref();
    assert_eq!(tls::server_end_point(der).unwrap(), sha2::Sha384::digest(der).to_vec());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["db.test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der = cert.der().as_ref();
    assert_eq!(tls::server_end_point(der).unwrap(), sha2::Sha256::digest(der).to_vec());
    assert_eq!(tls::server_end_point(b"junk"), None);
}
