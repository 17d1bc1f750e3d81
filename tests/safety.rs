//! `apply`'s safety checks against a real PostgreSQL: hazard kinds and their
//! estimates, data checks that find the rows a step would fail on before
//! anything runs, and the pre-flight refusal when another session holds a
//! lock on a table the plan changes; the verification of the end state
//! before commit. Every refusal leaves the database as it was. A reviewed
//! plan applied without a question runs the same checks inside the apply,
//! on the starting point its drift check reads; a plan made now, or a
//! reviewed plan's checks made before the apply, leave the apply their read
//! of the target to start from when no catalog row changed since.

mod support;

use support::bin::{converge, converge_with, schema_dir, text};
use support::query_i64;

/// Customers and their orders, no foreign key between them yet.
const ORDERS: &str = "CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, note text);
INSERT INTO customers VALUES (1), (2);";

/// The desired state of `ORDERS`: a foreign key from orders to customers.
const ORDERS_WITH_FOREIGN_KEY: &str = "CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers (id), note text);";

/// A customers table, and (`plan_customers_note`) a plan adding a column.
const CUSTOMERS: &str = "CREATE TABLE customers (id int PRIMARY KEY, name text);\n";

/// The plan, made to be applied now, from `db` (at `CUSTOMERS`) to
/// `CUSTOMERS` with a `note` column added.
async fn plan_customers_note(
    db: &converge::db::Endpoint,
    janitor: &converge::shadow::Janitor,
) -> converge::pipeline::Planned {
    let desired = converge::source::Desired::from_sources(converge::source::Sources::from_texts([(
        "schema.sql".to_string(),
        format!("{CUSTOMERS}ALTER TABLE customers ADD COLUMN note text;\n"),
    )]))
    .unwrap();
    converge::pipeline::plan(
        desired,
        db,
        &support::admin(),
        janitor,
        &Default::default(),
        converge::pipeline::TargetRead::ToApply,
    )
    .await
    .unwrap()
}

/// Writes the reviewed plan from the database at `url` to
/// `ORDERS_WITH_FOREIGN_KEY` into `plans/name` (`converge plan --out`, with
/// `more` flags); returns that directory.
fn foreign_key_plan(url: &str, plans: &std::path::Path, name: &str, more: &[&str]) -> String {
    let schema = schema_dir(&[("s.sql", ORDERS_WITH_FOREIGN_KEY)]);
    let admin = support::url("postgres");
    let dir = plans.join(name).to_str().unwrap().to_string();
    let mut args = vec![
        "plan",
        "--url",
        url,
        "--dev-url",
        &admin,
        "--schema",
        schema.path().to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    args.extend(["--out", dir.as_str()]);
    let o = converge(&args, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    dir
}

#[test]
fn orphan_rows_are_reported_before_anything_runs() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_orphans").await;
        support::load(&db, &format!("{ORDERS}\nINSERT INTO orders VALUES (1, 1, 'a'), (2, 99, 'b'), (3, 98, 'c'), (4, NULL, 'd'), (5, 2, 'e');"))
            .await
            .unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("s.sql", ORDERS_WITH_FOREIGN_KEY)]);
        let schema_path = schema.path().to_str().unwrap();
        let before = support::canonical::dump(&db).await.unwrap();

        // `plan --check-data` runs the same checks, and changes nothing either.
        let o = converge(&["plan", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--check-data"], None);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains("apply would refuse: 1 step would fail on rows already in the target"), "{err}");
        assert!(err.contains("e.g. (id)=(2): (customer_id)=(99); (id)=(3): (customer_id)=(98)"), "{err}");

        // The validation scan is a long-lock hazard: refused first, by kind.
        let o = converge(&["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes"], None);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains("long-lock: adding foreign key orders_customer_id_fkey checks every row of public.orders"), "{err}");
        assert!(err.contains("(public.orders: rows unknown (never analyzed))"), "{err}");

        // Allowed, the data check finds the two orphans, with their keys.
        let o = converge(
            &["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes", "--allow-hazards", "long-lock"],
            None,
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains("1 step would fail on rows already in the target"), "{err}");
        assert!(
            err.contains("rows of public.orders whose (customer_id) has no match in public.customers (id), which foreign key orders_customer_id_fkey refuses: 2"),
            "{err}"
        );
        assert!(err.contains("e.g. (id)=(2): (customer_id)=(99); (id)=(3): (customer_id)=(98)"), "{err}");
        assert!(err.contains("nothing was changed"), "{err}");
        assert_eq!(support::canonical::dump(&db).await.unwrap(), before, "a refused apply changes nothing");
        assert_eq!(query_i64(&db, "SELECT count(*) FROM orders").await, 5);
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'converge'").await,
            0,
            "nothing ran, not even the history table's creation"
        );

        // The rows fixed, the same apply goes through.
        support::load(&db, "DELETE FROM orders WHERE customer_id > 2;").await.unwrap();
        let o = converge(
            &["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes", "--allow-hazards", "long-lock"],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'").await,
            1
        );
        support::drop_db(&db).await;
    });
}

/// `apply --plan DIR --yes` reads the target once: its pre-flight and data
/// checks run inside the apply, after the drift check and before the first
/// step, on the catalog the drift check read; a refusal there rolls back and
/// is recorded in the history. The apply's own connection is no blocker.
#[test]
fn a_reviewed_plans_checks_run_inside_the_apply() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_reviewed").await;
        support::load(&db, &format!("{ORDERS}\nINSERT INTO orders VALUES (1, 1, 'a'), (2, 99, 'b'), (3, 2, 'c');"))
            .await
            .unwrap();
        let url = support::url(&db.dbname());
        let plans = tempfile::tempdir().unwrap();
        let plan_dir = foreign_key_plan(&url, plans.path(), "fk", &[]);
        let plan = plan_dir.as_str();
        let before = support::canonical::dump(&db).await.unwrap();
        let apply = [
            "apply",
            "--url",
            &url,
            "--plan",
            plan,
            "--yes",
            "--allow-hazards",
            "long-lock",
            "--blocker-age",
            "0",
        ];

        // The orphan is found inside the apply: one read of the target, the
        // drift check's.
        let o = converge_with(&apply, None, &[("CONVERGE_TIMINGS", "1")]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains("1 step would fail on rows already in the target"), "{err}");
        assert!(err.contains("e.g. (id)=(2): (customer_id)=(99)"), "{err}");
        assert!(err.contains("apply: check the starting point"), "{err}");
        assert!(err.contains("apply: the caller's checks before the steps"), "{err}");
        assert!(!err.contains("timing: read the target"), "no read of its own: {err}");
        assert!(!err.contains("step 1/"), "no step ran: {err}");
        assert_eq!(
            support::canonical::dump(&db).await.unwrap(),
            before,
            "a refused apply changes nothing"
        );
        assert_eq!(
            query_i64(
                &db,
                "SELECT count(*) FROM converge.history \
                 WHERE outcome = 'refused' AND error = 'refused to apply: 1 step would fail on rows already in the target'"
            )
            .await,
            1,
            "the refused attempt is recorded"
        );

        // An online plan (groups, each in a transaction of its own) runs them
        // after its drift check, before its first group.
        let online_dir = foreign_key_plan(&url, plans.path(), "fk-online", &["--online"]);
        let online = online_dir.as_str();
        let o = converge(&["apply", "--url", &url, "--plan", online, "--yes", "--allow-hazards", "all"], None);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains("1 step would fail on rows already in the target"), "{err}");
        assert_eq!(support::canonical::dump(&db).await.unwrap(), before, "a refused apply changes nothing");
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'refused'").await,
            2
        );

        // A session that has held a lock on orders for a second blocks it.
        support::load(&db, "DELETE FROM orders WHERE customer_id = 99;")
            .await
            .unwrap();
        let blocker = db.connect().await.unwrap();
        blocker
            .batch_execute("BEGIN; SELECT count(*) FROM orders;")
            .await
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let mut blocked = apply;
        blocked[9] = "1"; // --blocker-age
        let o = converge(&blocked, None);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(
            err.contains("1 session holds locks on tables the plan changes"),
            "{err}"
        );
        assert!(err.contains("holds public.orders (AccessShareLock)"), "{err}");
        assert_eq!(
            query_i64(&db, "SELECT count(*) FROM converge.history WHERE outcome = 'refused'").await,
            3
        );
        blocker.batch_execute("COMMIT").await.unwrap();

        // Nothing in the way, it applies, though every transaction counts as
        // old enough: the apply's own does not block it.
        let o = converge(&apply, None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(
            query_i64(
                &db,
                "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'"
            )
            .await,
            1
        );
        drop(blocker);
        support::drop_db(&db).await;
    });
}

/// A reviewed plan applied with a backup (or after a question) runs its
/// checks on a read of its own, before the apply; the apply then starts
/// from that read when no catalog row changed since, and a target that had
/// drifted from the plan before that read is refused there, before any step.
#[test]
fn a_reviewed_plan_with_a_backup_starts_from_the_read_its_checks_made() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_backup_start").await;
        support::load(&db, ORDERS).await.unwrap();
        let url = support::url(&db.dbname());
        let plans = tempfile::tempdir().unwrap();
        let plan_dir = foreign_key_plan(&url, plans.path(), "fk", &[]);
        let plan = plan_dir.as_str();
        let backups = tempfile::tempdir().unwrap();
        let apply = [
            "apply",
            "--url",
            &url,
            "--plan",
            plan,
            "--yes",
            "--allow-hazards",
            "all",
            "--backup",
            backups.path().to_str().unwrap(),
        ];
        let foreign_keys = "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'";

        support::load(&db, "ALTER TABLE customers ADD COLUMN name text;")
            .await
            .unwrap();
        let o = converge_with(&apply, None, &[("CONVERGE_TIMINGS", "1")]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains("the target changed since the plan was made"), "{err}");
        assert!(!err.contains("step 1/"), "no step ran: {err}");
        assert_eq!(
            err.matches("introspection: queries on").count(),
            1,
            "the checks' read only, none in the apply: {err}"
        );
        assert_eq!(query_i64(&db, foreign_keys).await, 0);

        support::load(&db, "ALTER TABLE customers DROP COLUMN name;")
            .await
            .unwrap();
        let o = converge_with(&apply, None, &[("CONVERGE_TIMINGS", "1")]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(
            err.contains("the starting point is the read made before the apply: no catalog row changed since"),
            "{err}"
        );
        assert_eq!(err.matches("introspection: queries on").count(), 1, "{err}");
        assert_eq!(query_i64(&db, foreign_keys).await, 1);
        support::drop_db(&db).await;
    });
}

#[test]
fn nulls_duplicates_checks_and_removed_labels_are_found_per_step() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_data").await;
        support::load(
            &db,
            r#"
            CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
            CREATE TABLE people (id int PRIMARY KEY, email text, age int, nick text, feeling mood, code text);
            INSERT INTO people VALUES
                (1, 'a@x', 30, 'x', 'happy', '1'), (2, 'a@x', -1, NULL, 'meh', '2'), (3, 'b@x', 40, NULL, 'sad', 'x'),
                (4, 'b@x', -5, 'y', 'happy', NULL), (5, 'c@x', 20, 'z', 'meh', '9999999999');
            CREATE TABLE keyless (n int);
            INSERT INTO keyless VALUES (1), (1), (2);
            "#,
        )
        .await
        .unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[(
            "s.sql",
            r#"
            CREATE TYPE mood AS ENUM ('happy', 'sad');
            CREATE TABLE people (
                id int PRIMARY KEY,
                email text UNIQUE,
                age int CHECK (age >= 0),
                nick text NOT NULL,
                feeling mood,
                code int,
                bonus int CONSTRAINT people_bonus_check CHECK (bonus >= 0)
            );
            CREATE TABLE keyless (n int PRIMARY KEY);
            "#,
        )]);
        let schema_path = schema.path().to_str().unwrap();
        let before = support::canonical::dump(&db).await.unwrap();

        let o = converge(
            &["apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes", "--allow-hazards", "all"],
            None,
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        for expected in [
            "rows where public.people.nick is NULL, which SET NOT NULL refuses: 2",
            "e.g. (id)=(2); (id)=(3)",
            "values of public.people (email) held by more than one row, which unique constraint people_email_key refuses: 2",
            "e.g. (email)=(a@x) ×2; (email)=(b@x) ×2",
            "rows of public.people that check people_age_check (age >= 0) refuses: 2",
            "e.g. (id)=(2); (id)=(4)",
            "rows of public.people whose feeling holds a label removed from public.mood: 2",
            "values of public.keyless (n) held by more than one row, which primary key keyless_pkey refuses: 1",
            "e.g. (n)=(1) ×2",
            "values of public.people.code that cannot become integer: 2",
            "e.g. (id)=(3); (id)=(5)",
            // The check of a constraint on a column the plan adds cannot
            // run before the plan has run; the checks after it (the unique
            // key's, a step after it) still run.
            "not checked: rows of public.people that check people_bonus_check (bonus >= 0) refuses: column \"bonus\" does not exist",
        ] {
            assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
        }
        // The report lists findings before what was not checked: the step
        // numbers give the order the checks ran in.
        let step_of = |description: &str| {
            err.lines().find_map(|line| {
                let rest = line.trim_start().strip_prefix("step ")?;
                let (number, after) = rest.split_once(' ')?;
                after.starts_with(description).then(|| number.parse::<usize>().ok()).flatten()
            })
        };
        let (unchecked, later) = (
            step_of("(add check constraint people_bonus_check on public.people)"),
            step_of("(add unique constraint people_email_key on public.people)"),
        );
        assert!(
            matches!((unchecked, later), (Some(u), Some(l)) if u < l),
            "a step checked after the one that could not be:\n{err}"
        );
        assert_eq!(support::canonical::dump(&db).await.unwrap(), before, "a refused apply changes nothing");

        // --skip-data-checks lets PostgreSQL refuse instead: still nothing changed.
        let o = converge(
            &[
                "apply", "--url", &url, "--dev-url", &admin, "--schema", schema_path, "--yes", "--allow-hazards", "all",
                "--skip-data-checks", "--no-history",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        assert_eq!(support::canonical::dump(&db).await.unwrap(), before);
        support::drop_db(&db).await;
    });
}

#[test]
fn a_session_holding_a_lock_on_a_changed_table_blocks_the_apply() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_preflight").await;
        support::load(
            &db,
            "CREATE TABLE events (id int PRIMARY KEY, payload text); CREATE TABLE other (id int);",
        )
        .await
        .unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[(
            "s.sql",
            "CREATE TABLE events (id int PRIMARY KEY, payload text, seen boolean); CREATE TABLE other (id int);",
        )]);
        let schema_path = schema.path().to_str().unwrap();

        // A report left open in a transaction that has read the table.
        let blocker = db.connect().await.unwrap();
        let pid: i32 = blocker.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        for statement in [
            "SET application_name = 'nightly-report'",
            "BEGIN",
            "SELECT count(*) FROM events",
        ] {
            blocker.batch_execute(statement).await.unwrap();
        }
        // A session on a table the plan does not touch is no blocker.
        let bystander = db.connect().await.unwrap();
        bystander
            .batch_execute("BEGIN; SELECT count(*) FROM other;")
            .await
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let before = support::canonical::dump(&db).await.unwrap();

        let o = converge(
            &[
                "apply",
                "--url",
                &url,
                "--dev-url",
                &admin,
                "--schema",
                schema_path,
                "--yes",
                "--blocker-age",
                "1",
            ],
            None,
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(
            err.contains("1 session holds locks on tables the plan changes"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "pid {pid}, user postgres, application \"nightly-report\", idle in transaction for "
            )),
            "{err}"
        );
        assert!(
            err.contains("holds public.events (AccessShareLock); query: SELECT count(*) FROM events\n"),
            "{err}"
        );
        assert!(err.contains(&format!("pg_terminate_backend({pid})")), "{err}");
        assert!(err.contains("--ignore-blockers"), "{err}");
        assert_eq!(
            support::canonical::dump(&db).await.unwrap(),
            before,
            "a refused apply changes nothing"
        );

        // With --ignore-blockers the apply starts and waits for the lock,
        // which the report releases a moment later.
        let release = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            blocker.batch_execute("COMMIT").await.unwrap();
            blocker
        });
        let (u, a, s) = (url.clone(), admin.clone(), schema_path.to_string());
        let o = tokio::task::spawn_blocking(move || {
            converge(
                &[
                    "apply",
                    "--url",
                    &u,
                    "--dev-url",
                    &a,
                    "--schema",
                    &s,
                    "--yes",
                    "--blocker-age",
                    "1",
                    "--ignore-blockers",
                ],
                None,
            )
        })
        .await
        .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        drop(release.await.unwrap());
        assert_eq!(
            query_i64(
                &db,
                "SELECT count(*) FROM information_schema.columns WHERE column_name = 'seen'"
            )
            .await,
            1
        );
        drop(bystander);
        support::drop_db(&db).await;
    });
}

#[test]
fn hazards_carry_the_planner_estimate_and_skip_tables_known_empty() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_estimates").await;
        support::load(
            &db,
            r#"
            CREATE TABLE big (id int PRIMARY KEY, n int);
            INSERT INTO big SELECT g, g FROM generate_series(1, 1000) g;
            CREATE TABLE empty (id int PRIMARY KEY, n int);
            CREATE TABLE fresh (id int PRIMARY KEY, n int);
            ANALYZE big;
            ANALYZE empty;
            "#,
        )
        .await
        .unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[(
            "s.sql",
            r#"
            CREATE TABLE big (id int PRIMARY KEY, n bigint NOT NULL);
            CREATE INDEX big_n ON big (n);
            CREATE TABLE empty (id int PRIMARY KEY, n bigint NOT NULL);
            CREATE INDEX empty_n ON empty (n);
            CREATE TABLE fresh (id int PRIMARY KEY, n int);
            CREATE INDEX fresh_n ON fresh (n);
            "#,
        )]);
        let schema_path = schema.path().to_str().unwrap();
        let o = converge(&["plan", "--url", &url, "--dev-url", &admin, "--schema", schema_path], None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let plan = text(&o.stdout);
        let estimate = "(public.big: about 1,000 rows, ";
        for expected in [
            "table-rewrite: changing public.big.n from integer to bigint rewrites every row",
            "long-lock: SET NOT NULL on public.big.n scans every row under ACCESS EXCLUSIVE lock",
            "long-lock: building index public.big_n without CONCURRENTLY blocks writes to public.big",
            "long-lock: building index public.fresh_n without CONCURRENTLY blocks writes to public.fresh until it is built (public.fresh: rows unknown (never analyzed))",
        ] {
            let line = plan.lines().find(|l| l.contains(expected)).unwrap_or_else(|| panic!("no `{expected}` in:\n{plan}"));
            if expected.contains("public.big") {
                assert!(line.contains(estimate) && line.ends_with(" by pg_class statistics)"), "{line}");
            }
        }
        let empty: Vec<&str> = plan.lines().filter(|l| l.contains("hazard") && l.contains("public.empty")).collect();
        assert!(empty.is_empty(), "an analyzed empty table costs nothing to change: {empty:?}");
        support::drop_db(&db).await;
    });
}

/// Apply verifies its end state before it commits: steps that do not lead
/// to the plan's end state (here a column added with another type than the
/// plan's) are rolled back, and the error names the difference.
#[test]
fn an_end_state_other_than_the_plans_is_not_committed() {
    use converge::apply::{ApplyError, ApplyOptions};
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_verify").await;
        support::load(&db, CUSTOMERS).await.unwrap();
        let janitor = converge::shadow::Janitor::default();
        let mut planned = plan_customers_note(&db, &janitor).await;
        janitor.cleanup().await;
        let step = planned
            .plan
            .steps
            .iter_mut()
            .find(|s| s.forward.iter().any(|f| f.contains("ADD COLUMN note text")))
            .expect("the plan adds the column");
        step.forward = step
            .forward
            .iter()
            .map(|f| f.replace("note text", "note varchar(10)"))
            .collect();
        let options = ApplyOptions {
            record_history: false,
            ..Default::default()
        };
        let error = converge::apply::apply(&db, &planned, &options).await.unwrap_err();
        assert!(matches!(error, ApplyError::Verify(_)), "{error}");
        assert!(error.to_string().contains("customers.note"), "{error}");
        let columns = query_i64(
            &db,
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.customers'::regclass AND attname = 'note'",
        )
        .await;
        assert_eq!(columns, 0, "nothing was committed");
        support::drop_db(&db).await;
    });
}

/// The history row holds the end state's canonical JSON and its sha256.
/// When the run has the desired catalog, that JSON is written while the
/// steps run and taken for an end state equal to it: it must be the JSON of
/// the catalog a whole read finds after the commit, byte for byte.
#[test]
fn the_history_row_holds_the_json_of_the_end_state_the_apply_verified() {
    use converge::apply::ApplyOptions;
    use converge::catalog::Fingerprint;
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_history_json").await;
        support::load(&db, CUSTOMERS).await.unwrap();
        let janitor = converge::shadow::Janitor::default();
        let planned = plan_customers_note(&db, &janitor).await;
        janitor.cleanup().await;
        let options = ApplyOptions {
            record_history: true,
            ..Default::default()
        };
        let applied = converge::apply::apply(&db, &planned, &options).await.unwrap();
        assert_eq!(applied.catalog_after, planned.fingerprints.desired_catalog);

        let client = db.connect().await.unwrap();
        let row = client
            .query_one(
                "SELECT catalog_after_sha256, \
                 encode(sha256(convert_to(catalog_after_json, 'UTF8')), 'hex') \
                 FROM converge.history WHERE id = $1",
                &[&applied.history_id.expect("history is on")],
            )
            .await
            .unwrap();
        let (recorded, of_json): (String, String) = (row.get(0), row.get(1));
        assert_eq!(recorded, planned.fingerprints.desired_catalog.0);
        assert_eq!(of_json, recorded, "the JSON stored is the one fingerprinted");
        let now = converge::introspect::introspect_endpoint(&db).await.unwrap();
        let now = planned.normalize(now.catalog);
        assert_eq!(Fingerprint::of_catalog(&now).0, recorded, "and the catalog committed");
        support::drop_db(&db).await;
    });
}

/// The end state is read from what the transaction changed; a read that
/// does not lead to the plan's end state is never trusted alone. Given a
/// starting point that lacks a table the transaction never touches (as a
/// fault in the partial read would), the whole catalog is read again: it
/// agrees, and what the partial read missed is reported. Where the whole
/// read disagrees too, nothing is reported as missed: the steps are wrong.
/// A plan made to be applied now (`converge apply`, `TargetRead::ToApply`)
/// gives the apply its own read of the target, with the versions of the
/// catalog's rows: when none changed, the apply starts from that read
/// without reading the catalog again, even after VACUUM and ANALYZE (which
/// write their statistics in place). A temporary table another session
/// holds changes catalog rows outside what converge reads: the apply reads
/// the target again, finds it as planned, and applies. A column added
/// meanwhile is drift: refused, nothing run.
#[test]
fn a_plan_made_now_starts_from_its_own_read_unless_a_catalog_row_changed() {
    use converge::apply::{ApplyError, ApplyOptions, StartingPoint};
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_known_start").await;
        support::load(&db, &format!("{CUSTOMERS}INSERT INTO customers VALUES (1, 'a');\n"))
            .await
            .unwrap();
        let janitor = converge::shadow::Janitor::default();
        let plan = || async {
            let planned = plan_customers_note(&db, &janitor).await;
            assert!(
                planned.current_rows.is_some(),
                "a plan to apply reads the rows' versions"
            );
            planned
        };
        let options = ApplyOptions {
            allowed: converge::plan::Allowed::parse(&["all".into()]).unwrap(),
            record_history: false,
            ..Default::default()
        };
        let notes = "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.customers'::regclass \
                     AND attname = 'note' AND NOT attisdropped";

        let planned = plan().await;
        support::load(&db, "VACUUM ANALYZE customers;").await.unwrap();
        let applied = converge::apply::apply(&db, &planned, &options).await.unwrap();
        assert_eq!(applied.start, StartingPoint::EarlierRead);
        assert_eq!(query_i64(&db, notes).await, 1);

        support::load(&db, "ALTER TABLE customers DROP COLUMN note;")
            .await
            .unwrap();
        let planned = plan().await;
        let other = db.connect().await.unwrap();
        other.batch_execute("CREATE TEMP TABLE scratch (x int)").await.unwrap();
        let applied = converge::apply::apply(&db, &planned, &options).await.unwrap();
        assert_eq!(applied.start, StartingPoint::ReadAgain);
        assert_eq!(query_i64(&db, notes).await, 1);
        drop(other);

        support::load(&db, "ALTER TABLE customers DROP COLUMN note;")
            .await
            .unwrap();
        let planned = plan().await;
        support::load(&db, "ALTER TABLE customers ADD COLUMN email text;")
            .await
            .unwrap();
        let error = converge::apply::apply(&db, &planned, &options).await.unwrap_err();
        assert!(matches!(error, ApplyError::Drift { .. }), "{error}");
        assert_eq!(query_i64(&db, notes).await, 0, "nothing ran");
        janitor.cleanup().await;
        support::drop_db(&db).await;
    });
}

#[test]
fn a_partial_end_state_read_that_disagrees_is_checked_by_a_whole_read() {
    use converge::apply::{read_end, read_end_state, read_start};
    use converge::catalog::Fingerprint;
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("safety_partial_end").await;
        support::load(
            &db,
            "CREATE TABLE changed (id int);\nCREATE TABLE untouched (id int);\n",
        )
        .await
        .unwrap();
        let options = converge::pipeline::Options::default();
        let client = db.connect().await.unwrap();
        client.batch_execute("BEGIN").await.unwrap();
        let before = read_start(&client, &db, &options).await.unwrap();
        let start = Fingerprint::of_catalog(&before.catalog);
        client
            .batch_execute("ALTER TABLE public.changed ADD COLUMN note text")
            .await
            .unwrap();
        let (whole, _) = read_end(&client, None, &options).await.unwrap();
        let expected = Fingerprint::of_catalog(&whole);

        let sound = read_end_state(&client, Some(before.clone()), &expected, &options)
            .await
            .unwrap();
        assert_eq!(sound.fingerprint, expected);
        assert!(sound.missed.is_none(), "{:?}", sound.missed);

        let mut faulty = before.clone();
        faulty.catalog.tables.retain(|name, _| name.name != "untouched");
        let checked = read_end_state(&client, Some(faulty.clone()), &expected, &options)
            .await
            .unwrap();
        assert_eq!(checked.fingerprint, expected, "the whole read is the end state");
        let missed = checked.missed.expect("the partial read's miss is reported");
        assert!(missed.contains("untouched"), "{missed}");

        let refused = read_end_state(&client, Some(faulty), &start, &options).await.unwrap();
        assert_eq!(refused.fingerprint, expected, "read whole");
        assert!(refused.missed.is_none(), "{:?}", refused.missed);
        client.batch_execute("ROLLBACK").await.unwrap();
        support::drop_db(&db).await;
    });
}
