//! The operational layer against a real PostgreSQL, through the binary:
//! reviewed plans (applied exactly, refused when edited or when the target
//! drifted), the history of every attempt, a killed connection, concurrent
//! applies, `status`, `rollback`, protected environments and backups.

mod support;

use std::process::Command;
use support::bin::{converge, converge_with, schema_dir, spawn, text};
use support::{query_i64, query_text, wait_for};

const V1: &str = "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);\n";
const V2: &str = "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text);\n\
                  CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers);\n";

#[test]
fn a_reviewed_plan_is_applied_exactly_and_refused_when_edited_or_stale() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("ops_reviewed").await;
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("app.sql", V1)]);
        let schema_path = schema.path().to_str().unwrap();
        let plans = tempfile::tempdir().unwrap();
        let plan_dir = plans.path().join("v1");
        let plan_s = plan_dir.to_str().unwrap();

        let o = converge(
            &[
                "plan",
                "--url",
                &url,
                "--dev-url",
                &admin,
                "--schema",
                schema_path,
                "--out",
                plan_s,
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

        // An edited forward.sql is refused, and so is a plan.json whose steps
        // no longer render to the scripts.
        let edited = plans.path().join("edited");
        copy_dir(&plan_dir, &edited);
        let forward = std::fs::read_to_string(edited.join("forward.sql")).unwrap();
        std::fs::write(
            edited.join("forward.sql"),
            forward.replace("name text", "name varchar(5)"),
        )
        .unwrap();
        let o = converge(
            &["apply", "--url", &url, "--plan", edited.to_str().unwrap(), "--yes"],
            None,
        );
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("was edited after converge generated it"),
            "{}",
            text(&o.stderr)
        );

        let inconsistent = plans.path().join("inconsistent");
        copy_dir(&plan_dir, &inconsistent);
        let json = std::fs::read_to_string(inconsistent.join("plan.json")).unwrap();
        std::fs::write(
            inconsistent.join("plan.json"),
            json.replace("name text NOT NULL", "name text"),
        )
        .unwrap();
        let o = converge(
            &[
                "apply",
                "--url",
                &url,
                "--plan",
                inconsistent.to_str().unwrap(),
                "--yes",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("plan.json was edited"), "{}", text(&o.stderr));
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM pg_class WHERE relname = 'customers'").await,
            0
        );

        // Drift: the target changes between plan and apply.
        support::load(&db, "CREATE TABLE visitors (id int);").await.unwrap();
        let before = support::canonical::dump(&db).await.unwrap();
        let o = converge(&["apply", "--url", &url, "--plan", plan_s, "--yes"], None);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("the target changed since the plan was made"),
            "{}",
            text(&o.stderr)
        );
        assert_eq!(
            support::canonical::dump(&db).await.unwrap(),
            before,
            "a drifted plan changes nothing"
        );
        assert_eq!(
            query_i64(
                &db,
                "SELECT count(*) FROM converge.history WHERE outcome = 'refused' AND error LIKE '%changed since%'"
            )
            .await,
            1,
            "the refused attempt is recorded"
        );

        // Undo the drift: the reviewed plan applies as written, without a shadow.
        support::load(&db, "DROP TABLE visitors;").await.unwrap();
        let o = converge(&["apply", "--url", &url, "--plan", plan_s, "--yes"], None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(
            query_text(
                &db,
                "SELECT plan_source FROM converge.history WHERE outcome = 'applied'"
            )
            .await
            .as_deref(),
            Some(plan_s)
        );
        let o = converge(
            &[
                "plan",
                "--url",
                &url,
                "--dev-url",
                &admin,
                "--schema",
                schema_path,
                "--exit-code",
            ],
            None,
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "the reviewed plan reached the desired state: {}",
            text(&o.stdout)
        );
        support::drop_db(&db).await;
    });
}

#[test]
fn a_killed_connection_leaves_the_database_as_it_was_and_a_failed_row() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("ops_killed").await;
        support::load(
            &db,
            "CREATE TABLE accounts (id int PRIMARY KEY); INSERT INTO accounts SELECT generate_series(1, 100);",
        )
        .await
        .unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        // `audit` is created first; then the ALTER of `accounts` waits for the
        // lock the test holds, and the test kills the apply's connection.
        let schema = schema_dir(&[(
            "app.sql",
            "CREATE TABLE audit (id int PRIMARY KEY);\nCREATE TABLE accounts (id int PRIMARY KEY, note text);\n",
        )]);
        let schema_path = schema.path().to_str().unwrap();
        let before = support::canonical::dump(&db).await.unwrap();

        let holder = db.connect().await.unwrap();
        holder
            .batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS SHARE MODE;")
            .await
            .unwrap();
        let child = spawn(&[
            "apply",
            "--url",
            &url,
            "--dev-url",
            &admin,
            "--schema",
            schema_path,
            "--yes",
        ]);
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'converge' \
                       AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE%'";
        wait_for(&db, waiting, 1).await;
        let killed = query_i64(
            &db,
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'converge' AND wait_event_type = 'Lock') k",
        )
        .await;
        assert_eq!(killed, 1);
        let o = child.wait_with_output().unwrap();
        holder.batch_execute("COMMIT").await.unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        assert_eq!(
            support::canonical::dump(&db).await.unwrap(),
            before,
            "nothing of the apply remains"
        );
        assert_eq!(query_i64(&db, "SELECT count(*) FROM accounts").await, 100);
        assert_eq!(
            query_i64(
                &db,
                "SELECT count(*) FROM converge.history WHERE outcome = 'failed' AND kind = 'apply'"
            )
            .await,
            1,
            "the failed attempt is recorded on a fresh connection: {}",
            text(&o.stderr)
        );
        support::drop_db(&db).await;
    });
}

#[test]
fn two_applies_started_at_once_never_interleave() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("ops_concurrent").await;
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("app.sql", V2)]);
        let schema_path = schema.path().to_str().unwrap();

        // Hold converge's advisory lock so both applies plan, then queue on it.
        let holder = db.connect().await.unwrap();
        holder
            .execute("SELECT pg_advisory_lock($1)", &[&converge::apply::LOCK_KEY])
            .await
            .unwrap();
        let args = [
            "apply",
            "--url",
            &url,
            "--dev-url",
            &admin,
            "--schema",
            schema_path,
            "--yes",
        ];
        let (a, b) = (spawn(&args), spawn(&args));
        wait_for(
            &db,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
            2,
        )
        .await;
        holder
            .execute("SELECT pg_advisory_unlock($1)", &[&converge::apply::LOCK_KEY])
            .await
            .unwrap();
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let mut codes = [a.status.code(), b.status.code()];
        codes.sort();
        assert_eq!(
            codes,
            [Some(0), Some(3)],
            "one applies, the other finds the target changed:\n{}\n{}",
            text(&a.stderr),
            text(&b.stderr)
        );
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'applied'").await,
            1
        );
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'refused'").await,
            1
        );
        let o = converge(
            &[
                "plan",
                "--url",
                &url,
                "--dev-url",
                &admin,
                "--schema",
                schema_path,
                "--exit-code",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
        support::drop_db(&db).await;
    });
}

#[test]
fn status_shows_history_and_drift_and_rollback_restores_the_previous_catalog() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("ops_rollback").await;
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let v1 = schema_dir(&[("app.sql", V1)]);
        let v2 = schema_dir(&[("app.sql", V2)]);

        let o = converge(&["status", "--url", &url], None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert!(text(&o.stdout).contains("never applied"), "{}", text(&o.stdout));

        let apply = |dir: &tempfile::TempDir| {
            converge(
                &["apply", "--url", &url, "--dev-url", &admin, "--schema", dir.path().to_str().unwrap(), "--yes"],
                None,
            )
        };
        let o = apply(&v1);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        // The history's big columns are compressed with lz4 where the
        // server has it; a table made before that is brought to it.
        let lz4_where_available = "SELECT count(*) FROM pg_catalog.pg_attribute a, pg_catalog.pg_settings s \
             WHERE a.attrelid = 'converge.history'::pg_catalog.regclass \
               AND a.attname IN ('catalog_after_json', 'plan_json', 'forward_sql', 'rollback_sql') \
               AND s.name = 'default_toast_compression' \
               AND (a.attcompression = 'l') = ('lz4' = ANY (s.enumvals))";
        assert_eq!(query_i64(&db, lz4_where_available).await, 4);
        support::load(
            &db,
            "ALTER TABLE converge.history ALTER COLUMN catalog_after_json SET COMPRESSION pglz;",
        )
        .await
        .unwrap();
        support::load(&db, "INSERT INTO customers VALUES (1, 'Ada');").await.unwrap();
        let after_v1 = support::canonical::dump(&db).await.unwrap();
        let o = apply(&v2);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(query_i64(&db, lz4_where_available).await, 4);

        let o = converge(&["status", "--url", &url, "--exit-code"], None);
        assert_eq!(o.status.code(), Some(0), "no drift: {}", text(&o.stdout));
        let status = text(&o.stdout);
        assert!(status.contains("Drift: none"), "{status}");
        assert_eq!(status.matches(" apply ").count(), 2, "{status}");

        // A change made outside converge is drift, named object by object.
        support::load(&db, "CREATE INDEX customers_name ON customers (name);").await.unwrap();
        let o = converge(&["status", "--url", &url, "--exit-code"], None);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
        assert!(text(&o.stdout).contains("customers_name"), "{}", text(&o.stdout));

        // Rollback refuses while the target is not where the apply left it.
        let o = converge(&["rollback", "--url", &url, "--yes", "--allow-hazards", "data-loss,irreversible"], None);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("no longer in the state"), "{}", text(&o.stderr));
        support::load(&db, "DROP INDEX customers_name;").await.unwrap();

        // Undoing the creation of a table and a column destroys what they
        // hold: refused unless data loss is allowed.
        let o = converge(&["rollback", "--url", &url, "--yes"], None);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("data-loss"), "{}", text(&o.stderr));
        // It starts from the read that found the target where the apply
        // left it (no catalog row changed since): one read of the target.
        let o = converge_with(
            &["rollback", "--url", &url, "--yes", "--allow-hazards", "data-loss,irreversible"],
            None,
            &[("CONVERGE_TIMINGS", "1")],
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(err.contains("the starting point is the read made before the apply: no catalog row changed since"), "{err}");
        assert_eq!(err.matches("introspection: queries on").count(), 1, "{err}");
        assert_eq!(support::canonical::dump(&db).await.unwrap(), after_v1, "the catalog of v1 is back");
        assert_eq!(query_i64(&db, "SELECT count(*) FROM customers").await, 1, "and its data stayed");
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE kind = 'rollback' AND outcome = 'applied' AND rolls_back = 2").await,
            1
        );
        let o = converge(&["status", "--url", &url], None);
        assert!(text(&o.stdout).contains("rolled back by #"), "{}", text(&o.stdout));
        assert!(text(&o.stdout).contains("Drift: none"), "{}", text(&o.stdout));

        // The next rollback undoes v1 itself; the one after has nothing left.
        let o = converge(&["rollback", "--url", &url, "--yes", "--allow-hazards", "data-loss,irreversible"], None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(query_i64(&db, "SELECT count(*) FROM pg_class WHERE relname = 'customers'").await, 0);
        let o = converge(&["rollback", "--url", &url, "--yes"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("no successful apply left"), "{}", text(&o.stderr));
        support::drop_db(&db).await;
    });
}

#[test]
fn a_protected_environment_takes_only_a_confirmed_reviewed_plan() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("ops_protected").await;
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let project = schema_dir(&[("schema/app.sql", V1)]);
        std::fs::write(
            project.path().join("converge.toml"),
            format!("[environments.production]\nurl = \"{url}\"\ndev_url = \"{admin}\"\nprotected = true\n"),
        )
        .unwrap();
        let cwd = Some(project.path());

        let o = converge(&["apply", "--env", "production", "--yes"], cwd);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("is protected"), "{}", text(&o.stderr));

        let o = converge(&["plan", "--env", "production", "--out", "generated/release"], cwd);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let o = converge(
            &["apply", "--env", "production", "--plan", "generated/release", "--yes"],
            cwd,
        );
        assert_eq!(
            o.status.code(),
            Some(1),
            "--yes does not confirm a protected environment"
        );
        assert!(text(&o.stderr).contains("--confirm production"), "{}", text(&o.stderr));
        let o = converge(
            &[
                "apply",
                "--env",
                "production",
                "--plan",
                "generated/release",
                "--confirm",
                "staging",
            ],
            cwd,
        );
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM pg_class WHERE relname = 'customers'").await,
            0
        );

        let o = converge(
            &[
                "apply",
                "--env",
                "production",
                "--plan",
                "generated/release",
                "--confirm",
                "production",
            ],
            cwd,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(
            query_text(
                &db,
                "SELECT environment FROM converge.history WHERE outcome = 'applied'"
            )
            .await
            .as_deref(),
            Some("production")
        );
        support::drop_db(&db).await;
    });
}

#[test]
fn a_backup_holds_the_data_of_dropped_tables_and_is_recorded() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("ops_backup").await;
        support::load(
            &db,
            "CREATE TABLE keep (id int PRIMARY KEY, legacy text); INSERT INTO keep VALUES (1, 'x'), (2, 'y');\n\
             CREATE TABLE old_events (id int); INSERT INTO old_events SELECT generate_series(1, 5);",
        )
        .await
        .unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("app.sql", "CREATE TABLE keep (id int PRIMARY KEY);")]);
        let backups = tempfile::tempdir().unwrap();
        let o = converge(
            &[
                "apply",
                "--url",
                &url,
                "--dev-url",
                &admin,
                "--schema",
                schema.path().to_str().unwrap(),
                "--yes",
                "--allow-hazards",
                "data-loss,irreversible",
                "--backup",
                backups.path().to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let files: Vec<_> = std::fs::read_dir(backups.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "one dump: {files:?}");
        let bytes = std::fs::read(&files[0]).unwrap();
        let sha = converge::catalog::Fingerprint::of_bytes(&bytes).0;
        assert_eq!(
            query_text(
                &db,
                "SELECT backup_sha256 FROM converge.history WHERE outcome = 'applied'"
            )
            .await,
            Some(sha)
        );
        assert_eq!(
            query_text(
                &db,
                "SELECT backup_path FROM converge.history WHERE outcome = 'applied'"
            )
            .await,
            Some(files[0].display().to_string())
        );

        // The dump restores the rows that were dropped.
        let restored = support::fresh_db("ops_backup_restore").await;
        support::load(
            &restored,
            "CREATE TABLE keep (id int PRIMARY KEY, legacy text); CREATE TABLE old_events (id int);",
        )
        .await
        .unwrap();
        let pg_restore = converge::cluster::find_bin_dir().unwrap().join("pg_restore");
        let mut restore = Command::new(pg_restore);
        restore.args(["--data-only", "--no-password"]).arg(&files[0]);
        for (k, v) in restored.libpq_env() {
            restore.env(k, v);
        }
        restore.arg("--dbname").arg(restored.dbname());
        let r = restore.output().unwrap();
        assert!(r.status.success(), "{}", text(&r.stderr));
        assert_eq!(query_i64(&restored, "SELECT count(*) FROM old_events").await, 5);
        assert_eq!(
            query_i64(&restored, "SELECT count(*) FROM keep WHERE legacy IS NOT NULL").await,
            2
        );
        support::drop_db(&restored).await;
        support::drop_db(&db).await;
    });
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}
