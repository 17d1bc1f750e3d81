//! The `converge` binary against a real PostgreSQL: exit codes, plan files,
//! refusals that change nothing, failures that roll back, the history table,
//! connection errors, interruption, and the README's quick start.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use support::bin::{converge, converge_with, schema_dir, text};
use support::query_i64;

#[test]
fn plan_exit_codes_plan_files_and_apply() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cli_plan").await;
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[
            ("b.sql", "CREATE TABLE app.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, status app.status NOT NULL);"),
            ("a.sql", "CREATE SCHEMA app;\nCREATE TYPE app.status AS ENUM ('new', 'paid');"),
        ]);
        let schema_path = schema.path().to_str().unwrap();
        let out = tempfile::tempdir().unwrap();
        let plan_dir = out.path().join("plan");
        let plan_dir_s = plan_dir.to_str().unwrap();

        let o = converge(&["plan", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--exit-code", "--out", plan_dir_s], None);
        assert_eq!(o.status.code(), Some(2), "changes: exit 2\n{}", text(&o.stderr));
        let stdout = text(&o.stdout);
        assert!(stdout.contains("Plan: 3 to create, 0 to alter, 0 to drop"), "{stdout}");
        assert!(stdout.contains("CREATE TYPE app.status AS ENUM ('new', 'paid');"), "{stdout}");
        assert!(stdout.contains("-- Rollback SQL"), "{stdout}");
        for file in ["forward.sql", "rollback.sql", "plan.json"] {
            assert!(plan_dir.join(file).is_file(), "--out writes {file}");
        }
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(plan_dir.join("plan.json")).unwrap()).unwrap();
        assert_eq!(json["format_version"], 1);
        assert_eq!(json["steps"].as_array().map(Vec::len), Some(3));
        assert_eq!(json["fingerprints"]["desired_files"].as_str().map(str::len), Some(64));

        // The same inputs give byte-identical plans (timings on stderr change
        // nothing on stdout).
        let again = converge_with(
            &["plan", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--format", "sql"],
            None,
            &[("CONVERGE_TIMINGS", "1")],
        );
        assert_eq!(again.status.code(), Some(0), "without --exit-code, changes still exit 0");
        assert_eq!(text(&again.stdout), std::fs::read_to_string(plan_dir.join("forward.sql")).unwrap());
        let timings = text(&again.stderr);
        for phase in ["read the target", "diff", "fingerprint of the target", "the whole command"] {
            assert!(timings.contains(&format!("timing: {phase}: ")), "CONVERGE_TIMINGS=1 times {phase}:\n{timings}");
        }
        // The first plan cached the desired catalog: the second reads it back
        // instead of parsing the files and loading a shadow database, and
        // takes the desired catalog's fingerprint the first one recorded.
        assert!(timings.contains("timing: desired state: cache lookup: "), "{timings}");
        assert!(
            !timings.contains("timing: desired state: parse: ") && !timings.contains("shadow load"),
            "the second plan of the same files is served from the cache:\n{timings}"
        );
        assert!(
            !timings.contains("timing: fingerprint of the desired state: "),
            "the cached desired catalog is not hashed again:\n{timings}"
        );
        let warm_dir = out.path().join("warm");
        let o = converge(&["plan", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--out", warm_dir.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let warm: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(warm_dir.join("plan.json")).unwrap()).unwrap();
        assert_eq!(warm["fingerprints"], json["fingerprints"], "a plan from the cache records the fingerprints a fresh one computed");

        let o = converge_with(
            &["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes"],
            None,
            &[("CONVERGE_TIMINGS", "1")],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains("Applied 3 steps"), "{err}");
        // The plan was made in the same run: the end state, equal to the
        // desired catalog, takes the JSON written while the steps ran.
        assert!(err.contains("timing: apply: the desired catalog's JSON (while the steps run): "), "{err}");
        assert!(err.contains("timing: apply: the end state compared with the desired catalog: "), "{err}");
        assert!(!err.contains("timing: apply: the end state's JSON and fingerprint: "), "{err}");

        let o = converge(&["plan", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--exit-code"], None);
        assert_eq!(o.status.code(), Some(0), "nothing to do: exit 0\n{}", text(&o.stderr));
        assert!(text(&o.stdout).contains("No changes"));

        // The history row.
        assert_eq!(query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'applied'").await, 1);
        assert_eq!(
            query_i64(
                &db,
                "SELECT count(*) FROM converge.history WHERE length(desired_files_sha256) = 64 \
                 AND length(plan_sha256) = 64 AND length(catalog_before_sha256) = 64 \
                 AND length(catalog_after_sha256) = 64 AND forward_sql LIKE '%CREATE TABLE app.orders%' \
                 AND rollback_sql LIKE '%DROP TABLE app.orders%' AND steps = 3 AND finished_at >= started_at"
            )
            .await,
            1
        );
        support::drop_db(&db).await;
    });
}

#[test]
fn a_warning_printed_while_planning_does_not_hang_the_command() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cli_warning").await;
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("a.sql", "CREATE TABLE t (id bigint PRIMARY KEY);")]);
        // The cache "directory" is a file: storing the entry fails, which is
        // only a warning, printed from one of the runtime's threads.
        let not_a_dir = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_converge"))
            .args([
                "plan",
                "--url",
                &url,
                "--dev-url",
                &admin,
                "--schema",
                schema.path().to_str().unwrap(),
            ])
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .env("CONVERGE_CACHE", not_a_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("converge plan hung after a warning");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("warning: cannot write the desired-catalog cache"),
            "{}",
            text(&o.stderr)
        );
        assert!(text(&o.stdout).contains("CREATE TABLE"), "{}", text(&o.stdout));
    });
}

#[test]
fn data_loss_is_refused_with_exit_3_and_changes_nothing() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cli_refuse").await;
        support::load(&db, "CREATE TABLE keep (id int PRIMARY KEY); CREATE TABLE old_events (id int, payload text); INSERT INTO old_events VALUES (1, 'a'), (2, 'b');").await.unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("keep.sql", "CREATE TABLE keep (id int PRIMARY KEY, note text);")]);
        let schema_path = schema.path().to_str().unwrap();
        let before = support::canonical::dump(&db).await.unwrap();

        let o = converge(&["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes"], None);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains("drop table public.old_events"), "{err}");
        assert!(err.contains("--allow-hazards data-loss,irreversible"), "{err}");
        assert!(err.contains("public.old_events: rows unknown (never analyzed)"), "{err}");
        assert_eq!(support::canonical::dump(&db).await.unwrap(), before, "a refused apply changes nothing");
        assert_eq!(query_i64(&db, "SELECT count(*) FROM old_events").await, 2);

        let o = converge(&["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes", "--allow-hazards", "data-loss,irreversible"], None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(query_i64(&db, "SELECT count(*) FROM pg_class WHERE relname = 'old_events'").await, 0);

        let o = converge(&["apply", "--url", &url, "--schema", schema_path, "--dev-url", &admin, "--allow-hazards", "data-los"], None);
        assert_eq!(o.status.code(), Some(1), "an unknown hazard kind is an error");
        support::drop_db(&db).await;
    });
}

#[test]
fn a_failing_statement_leaves_catalog_and_data_as_they_were() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cli_fail").await;
        support::load(&db, "CREATE TABLE accounts (id int PRIMARY KEY, email text); INSERT INTO accounts VALUES (1, 'a@x'), (2, NULL);").await.unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        // Creating `audit` succeeds; making email NOT NULL fails on row 2.
        let schema = schema_dir(&[(
            "app.sql",
            "CREATE TABLE audit (id int PRIMARY KEY);\n\nCREATE TABLE accounts (\n    id int PRIMARY KEY,\n    email text NOT NULL\n);\n",
        )]);
        let schema_path = schema.path().to_str().unwrap();
        let before = support::canonical::dump(&db).await.unwrap();
        let rows_before = query_i64(&db, "SELECT count(*) FROM accounts").await;

        // The data checks would refuse before anything runs: skipped, so that
        // the statement fails in the middle of the plan.
        let o = converge(&["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes", "--allow-hazards", "long-lock", "--skip-data-checks"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains("ALTER TABLE public.accounts ALTER COLUMN email SET NOT NULL"), "names the statement: {err}");
        assert!(err.contains("app.sql:3:1"), "names the desired file and line: {err}");
        assert!(err.contains("contains null values"), "has the server's message: {err}");
        assert!(err.contains("nothing was changed"), "{err}");
        assert_eq!(support::canonical::dump(&db).await.unwrap(), before, "the catalog is as it was");
        assert_eq!(query_i64(&db, "SELECT count(*) FROM accounts").await, rows_before);
        assert_eq!(query_i64(&db, "SELECT count(*) FROM accounts WHERE email IS NULL").await, 1);
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'failed' AND error LIKE '%null values%'").await,
            1,
            "the failed attempt is recorded"
        );
        support::drop_db(&db).await;
    });
}

#[test]
fn a_statement_failing_before_many_others_is_the_one_reported_and_nothing_after_it_runs() {
    // The steps' statements are sent ahead of their answers: a failure early
    // in a long plan must still be the error reported (not the refusals of
    // the statements sent after it), and none of those may have run.
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cli_fail_early").await;
        support::load(&db, "CREATE TABLE accounts (id int PRIMARY KEY, email text); INSERT INTO accounts VALUES (1, 'a@x'), (2, 'a@x');").await.unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        // The unique key fails on the duplicated email; the 150 tables whose
        // foreign keys refer to it come after it in the plan.
        let mut desired = String::from("CREATE TABLE accounts (\n    id int PRIMARY KEY,\n    email text UNIQUE\n);\n");
        for i in 0..150 {
            desired.push_str(&format!("CREATE TABLE zz_{i:03} (id int PRIMARY KEY, email text REFERENCES accounts (email));\n"));
        }
        let schema = schema_dir(&[("app.sql", &desired)]);
        let schema_path = schema.path().to_str().unwrap();
        let before = support::canonical::dump(&db).await.unwrap();

        let o = converge(&["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes", "--allow-hazards", "long-lock", "--skip-data-checks"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains("step 1/151 failed"), "the first step fails, 150 after it: {err}");
        assert!(err.contains("ALTER TABLE public.accounts ADD CONSTRAINT accounts_email_key UNIQUE (email)"), "names the statement: {err}");
        assert!(err.contains("is duplicated"), "has the server's message: {err}");
        assert!(!err.contains("current transaction is aborted"), "{err}");
        assert_eq!(support::canonical::dump(&db).await.unwrap(), before, "the catalog is as it was");
        assert_eq!(query_i64(&db, "SELECT count(*) FROM pg_class WHERE relname LIKE 'zz\\_%'").await, 0);
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'failed' AND error LIKE '%is duplicated%'").await,
            1,
            "the failed attempt is recorded"
        );
        support::drop_db(&db).await;
    });
}

#[test]
fn bad_input_is_an_error_with_its_location() {
    let admin = support::url("postgres");
    let schema = schema_dir(&[("t.sql", "CREATE TABLE ok (id int);\nCREATE TABEL broken (id int);\n")]);
    let o = converge(
        &[
            "plan",
            "--url",
            &admin,
            "--dev-url",
            &admin,
            "--schema",
            schema.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("t.sql:2:8"), "{err}");
    assert!(err.contains("TABEL"), "{err}");
    // The line itself, from the file read again once the plan failed.
    assert!(err.contains("CREATE TABEL broken (id int);"), "{err}");

    let schema = schema_dir(&[("t.sql", "CREATE TABLE ok (id int);\nINSERT INTO ok VALUES (1);\n")]);
    let o = converge(
        &[
            "plan",
            "--url",
            &admin,
            "--dev-url",
            &admin,
            "--schema",
            schema.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("INSERT is not a schema definition"),
        "{}",
        text(&o.stderr)
    );

    let o = converge(&["plan", "--schema", "/nonexistent/schema"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("/nonexistent/schema"));

    let o = converge(&["plan", "--no-such-flag"], None);
    assert_eq!(o.status.code(), Some(1), "usage errors exit 1, not 2 (2 means changes)");
}

#[test]
fn an_unreachable_server_is_one_line_without_the_password() {
    let schema = schema_dir(&[("t.sql", "CREATE TABLE t (id int);")]);
    let admin = support::url("postgres");
    let o = converge(
        &[
            "plan",
            "--url",
            "postgres://alice:s3cretpw@127.0.0.1:1/app",
            "--dev-url",
            &admin,
            "--schema",
            schema.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("postgres://alice@127.0.0.1:1/app"), "{err}");
    assert!(!err.contains("s3cretpw"), "never the password: {err}");
}

#[test]
fn apply_without_a_terminal_needs_yes() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cli_yes").await;
        let schema = schema_dir(&[("t.sql", "CREATE TABLE t (id int);")]);
        let o = converge(
            &[
                "apply",
                "--url",
                &support::url(&db.dbname()),
                "--dev-url",
                &support::url("postgres"),
                "--schema",
                schema.path().to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o.stderr).contains("pass --yes"), "{}", text(&o.stderr));
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM pg_class WHERE relname = 't'").await,
            0
        );
        support::drop_db(&db).await;
    });
}

#[test]
fn an_interrupted_plan_drops_its_shadow_database() {
    // A desired state large enough that loading it takes a while.
    let mut sql = String::new();
    for i in 0..3000 {
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id int PRIMARY KEY, a text, b jsonb);\nCREATE INDEX t{i}_a ON t{i} (a);\n"
        ));
    }
    let schema = schema_dir(&[("big.sql", &sql)]);
    let admin = support::url("postgres");
    let rt = support::runtime();
    let child = Command::new(env!("CARGO_BIN_EXE_converge"))
        .args([
            "plan",
            "--url",
            &admin,
            "--dev-url",
            &admin,
            "--schema",
            schema.path().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn converge");
    let pid = child.id() as i32;
    // Other tests plan at the same time: count only this process's shadows.
    let pattern = format!("converge_shadow_{pid}_%");
    let shadows = || async {
        let client = support::admin().connect().await.expect("connect");
        let row = client
            .query_one("SELECT count(*) FROM pg_database WHERE datname LIKE $1", &[&pattern])
            .await
            .expect("count shadows");
        row.get::<_, i64>(0)
    };
    rt.block_on(async {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while shadows().await == 0 {
            assert!(std::time::Instant::now() < deadline, "no shadow database appeared");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let output = child.wait_with_output().expect("wait for converge");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("interrupted"), "{}", text(&output.stderr));
    rt.block_on(async { assert_eq!(shadows().await, 0, "the shadow database was dropped") });
}

#[test]
fn quick_start_converges_the_local_development_database() {
    let project = tempfile::tempdir().unwrap();
    // The server runs as another user when the tests run as root: let it in.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(project.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let schema = project.path().join("schema");
    std::fs::create_dir_all(&schema).unwrap();
    for entry in walk(Path::new("schema")) {
        let target = schema.join(entry.strip_prefix("schema").unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    let o = converge(&["apply", "--yes"], Some(project.path()));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = converge(&["plan", "--exit-code"], Some(project.path()));
    assert_eq!(
        o.status.code(),
        Some(0),
        "plan after apply is empty: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(text(&o.stdout).contains("No changes"));
    assert!(
        !project.path().join(".converge/pgdata/postmaster.pid").exists(),
        "the local server is stopped when the command ends"
    );
}

/// On converge's own embedded server the shadow database is kept: after a
/// one-statement edit, the next plan updates it incrementally, and plans
/// exactly what a fresh full load plans.
#[test]
fn the_embedded_server_keeps_its_shadow_and_updates_it_incrementally() {
    let rt = support::runtime();
    let db = rt.block_on(support::fresh_db("cli_embedded_kept"));
    let url = support::url(&db.dbname());
    let project = tempfile::tempdir().unwrap();
    // The server runs as another user when the tests run as root: let it in.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(project.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = project.path().join("schema/app.sql");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let mut sql = String::from("CREATE SCHEMA app;\n");
    for i in 0..20 {
        sql.push_str(&format!(
            "CREATE TABLE app.t{i} (id bigint PRIMARY KEY, note text);\nCREATE INDEX t{i}_note ON app.t{i} (note);\n"
        ));
    }
    std::fs::write(&file, &sql).unwrap();
    let plan = |vars: &[(&str, &str)]| {
        let o = converge_with(&["plan", "--url", &url, "--format", "sql"], Some(project.path()), vars);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        (text(&o.stdout), text(&o.stderr))
    };
    let (_, log) = plan(&[("CONVERGE_SHADOW_LOG", "1")]);
    assert!(log.contains("shadow: full load"), "no kept shadow yet: {log}");

    std::fs::write(
        &file,
        sql.replace(
            "app.t7 (id bigint PRIMARY KEY, note text)",
            "app.t7 (id bigint PRIMARY KEY, note text, extra int)",
        ),
    )
    .unwrap();
    let (incremental, log) = plan(&[("CONVERGE_SHADOW_LOG", "1")]);
    assert!(log.contains("shadow: Incremental"), "the kept shadow is updated: {log}");
    assert!(
        log.contains("read: Changes"),
        "only what the update changed is read, the rest kept from the first plan: {log}"
    );
    assert!(incremental.contains("extra"), "{incremental}");
    // Without the cache (which would hold the state just planned), nothing
    // is kept: a fresh shadow database, loaded in full.
    let (full, log) = plan(&[("CONVERGE_SHADOW_LOG", "1"), ("CONVERGE_CACHE", "off")]);
    assert!(!log.contains("shadow: "), "no kept shadow without the cache: {log}");
    assert_eq!(incremental, full, "the same plan as from a fresh shadow database");
    // CONVERGE_SHADOW_REUSE=off: a fresh shadow database on the embedded server too.
    std::fs::write(
        &file,
        sql.replace(
            "app.t3 (id bigint PRIMARY KEY, note text)",
            "app.t3 (id bigint PRIMARY KEY, note varchar(9))",
        ),
    )
    .unwrap();
    let (changed, log) = plan(&[("CONVERGE_SHADOW_LOG", "1"), ("CONVERGE_SHADOW_REUSE", "off")]);
    assert!(!log.contains("shadow: "), "no kept shadow when turned off: {log}");
    assert!(
        changed.contains("varchar(9)") || changed.contains("character varying(9)"),
        "{changed}"
    );
    assert!(
        !project.path().join(".converge/pgdata/postmaster.pid").exists(),
        "the local server is stopped when the command ends"
    );
    rt.block_on(support::drop_db(&db));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "sql") {
            out.push(p);
        }
    }
    out
}
