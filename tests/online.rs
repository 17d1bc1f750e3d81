//! Online mode against a real PostgreSQL, through the binary: the plan's
//! concurrent index builds, NOT VALID constraints and their validation,
//! SET NOT NULL through a check, and its transaction groups; an online apply
//! that converges; an interrupted concurrent index build (an INVALID index)
//! that the next apply drops and builds again; a lock not granted in time,
//! tried again until it is.

mod support;

use std::time::Duration;
use support::bin::{converge, schema_dir, spawn, text};
use support::query_i64;

const BEFORE: &str = r#"
CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
CREATE TABLE orders (id int PRIMARY KEY, customer int, total int);
INSERT INTO customers SELECT i, 'n' || i, 'e' || i FROM generate_series(1, 50) i;
INSERT INTO orders SELECT i, 1 + i % 50, i FROM generate_series(1, 200) i;
ANALYZE customers;
ANALYZE orders;
"#;

const AFTER: &str = r#"
CREATE TABLE customers (id int PRIMARY KEY, name text, email text NOT NULL);
CREATE TABLE orders (
    id int PRIMARY KEY,
    customer int REFERENCES customers (id),
    total int CONSTRAINT total_positive CHECK (total > 0)
);
CREATE INDEX customers_email ON customers (email);
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE INDEX notes_body ON notes (body);
"#;

#[test]
fn an_online_plan_runs_in_groups_and_converges() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("online_plan").await;
        support::load(&db, BEFORE).await.expect("load");
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("app.sql", AFTER)]);
        let schema_path = schema.path().to_str().unwrap();
        let common = ["--url", &url, "--dev-url", &admin, "--schema", schema_path, "--online"];

        let o = converge(&[&["plan"][..], &common].concat(), None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let plan = text(&o.stdout);
        for expected in [
            "CREATE INDEX CONCURRENTLY customers_email ON public.customers",
            "FOREIGN KEY (customer) REFERENCES public.customers (id) NOT VALID",
            "CHECK (total > 0) NOT VALID",
            "ALTER TABLE public.orders VALIDATE CONSTRAINT orders_customer_fkey",
            "ALTER TABLE public.orders VALIDATE CONSTRAINT total_positive",
            "ADD CONSTRAINT converge_not_null_email CHECK (email IS NOT NULL) NOT VALID",
            "ALTER TABLE public.customers VALIDATE CONSTRAINT converge_not_null_email",
            "ALTER TABLE public.customers ALTER COLUMN email SET NOT NULL",
            "ALTER TABLE public.customers DROP CONSTRAINT converge_not_null_email",
            "-- ==== transaction 1 (steps 1-",
            "-- ==== outside a transaction: step ",
            "Runs in these groups, in order",
            "CREATE INDEX CONCURRENTLY customers_email",
        ] {
            assert!(plan.contains(expected), "the online plan lacks `{expected}`:\n{plan}");
        }
        // A table the plan creates gets its index in the transaction.
        assert!(
            plan.contains("CREATE INDEX notes_body ON public.notes"),
            "an index on a new table is built in the transaction:\n{plan}"
        );
        // The lock hazards the online strategy avoids are gone.
        assert!(!plan.contains("without CONCURRENTLY"), "{plan}");
        assert!(!plan.contains("SET NOT NULL on public.customers.email scans"), "{plan}");
        // The validations come after the steps that add the constraints.
        let add = plan
            .find("ADD CONSTRAINT orders_customer_fkey")
            .expect("the foreign key");
        let validate = plan
            .find("VALIDATE CONSTRAINT orders_customer_fkey;")
            .expect("its validation");
        assert!(add < validate, "{plan}");

        let o = converge(&[&["plan", "--format", "json"][..], &common].concat(), None);
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("plan.json");
        assert_eq!(json["options"]["online"], serde_json::Value::Bool(true));
        let steps = json["steps"].as_array().expect("steps");
        assert!(
            steps
                .iter()
                .any(|s| s["transactional"] == serde_json::Value::Bool(false))
        );

        let o = converge(&[&["apply", "--yes"][..], &common].concat(), None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

        for (online, what) in [(true, "online"), (false, "default")] {
            let mut args = vec![
                "plan",
                "--exit-code",
                "--url",
                &url,
                "--dev-url",
                &admin,
                "--schema",
                schema_path,
            ];
            if online {
                args.push("--online");
            }
            let o = converge(&args, None);
            assert_eq!(
                o.status.code(),
                Some(0),
                "the {what} plan after an online apply is not empty:\n{}{}",
                text(&o.stdout),
                text(&o.stderr)
            );
        }
        assert_eq!(
            query_i64(
                &db,
                "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.orders'::regclass AND NOT convalidated"
            )
            .await,
            0
        );
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'applied'").await,
            1
        );
        support::drop_db(&db).await;
    });
}

#[test]
fn an_interrupted_concurrent_index_build_is_dropped_and_built_again() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("online_invalid").await;
        support::load(
            &db,
            "CREATE TABLE t (id int PRIMARY KEY, code int);\n\
             INSERT INTO t SELECT i, i FROM generate_series(1, 100) i;\n\
             INSERT INTO t VALUES (101, 7);",
        )
        .await
        .expect("load");
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[(
            "app.sql",
            "CREATE TABLE t (id int PRIMARY KEY, code int, note text);\n\
             CREATE UNIQUE INDEX t_code ON t (code);\n",
        )]);
        let schema_path = schema.path().to_str().unwrap();
        let common = ["--url", &url, "--dev-url", &admin, "--schema", schema_path, "--online"];

        // The duplicate makes the concurrent build fail after the column's
        // transaction committed: an INVALID index is left behind.
        let o = converge(&[&["apply", "--yes", "--skip-data-checks"][..], &common].concat(), None);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("could not create unique index"), "{err}");
        assert!(err.contains("stay applied: transaction 1 (step 1)"), "{err}");
        assert!(err.contains("INVALID index"), "{err}");
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM pg_index WHERE indexrelid = 'public.t_code'::regclass AND NOT indisvalid").await,
            1,
            "the failed build leaves an INVALID index"
        );
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'note'").await,
            1,
            "the first group stays committed"
        );
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'partial' AND error LIKE '%transaction 1 (step 1)%'").await,
            1,
            "the history row records the committed group"
        );

        support::load(&db, "DELETE FROM t WHERE id = 101;").await.expect("fix the data");
        let o = converge(&[&["plan"][..], &common].concat(), None);
        let plan = text(&o.stdout);
        assert!(plan.contains("DROP INDEX CONCURRENTLY public.t_code"), "{plan}");
        assert!(plan.contains("CREATE UNIQUE INDEX CONCURRENTLY t_code ON public.t"), "{plan}");

        let o = converge(&[&["apply", "--yes"][..], &common].concat(), None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM pg_index WHERE indexrelid = 'public.t_code'::regclass AND indisvalid").await,
            1
        );
        let o = converge(&[&["plan", "--exit-code"][..], &common].concat(), None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
        support::drop_db(&db).await;
    });
}

#[test]
fn a_lock_not_granted_in_time_is_tried_again() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("online_retry").await;
        support::load(&db, "CREATE TABLE t (id int PRIMARY KEY);").await.expect("load");
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("app.sql", "CREATE TABLE t (id int PRIMARY KEY, note text);\n")]);
        let schema_path = schema.path().to_str().unwrap();

        // Another session holds a lock that ADD COLUMN waits for.
        let holder = db.connect().await.expect("connect");
        holder
            .batch_execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE")
            .await
            .expect("lock");
        let child = spawn(&[
                "apply",
                "--yes",
                "--online",
                "--ignore-blockers",
                "--lock-timeout",
                "100ms",
                "--url",
                &url,
                "--dev-url",
                &admin,
                "--schema",
                schema_path,
            ]);
        // Wait until the apply has been refused the lock at least once.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while query_i64(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE public.t ADD COLUMN%'",
        )
        .await
            == 0
        {
            assert!(std::time::Instant::now() < deadline, "the apply never waited for the lock");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        holder.batch_execute("COMMIT").await.expect("release");
        let o = child.wait_with_output().expect("wait");
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(err.contains("lock timeout"), "each retry is reported with its reason:\n{err}");
        assert!(err.contains("attempt 2/5 after waiting 200 ms"), "{err}");
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'note'").await,
            1
        );
        support::drop_db(&db).await;
    });
}
