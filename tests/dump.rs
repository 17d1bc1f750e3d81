//! `dump`: a database's schema written as desired-state files, such that
//! planning the same database against them gives an empty plan.
//!
//! - `schema`: the repository's `schema/`, applied by converge, dumped, planned;
//! - `layout`: a database with tables that reference each other, triggers,
//!   policies, views, functions, sequences, grants and default privileges,
//!   grown by ALTER statements: where each object's statements go, that
//!   every file parses, and that the plan against the dump is empty;
//! - `rebuild`: converging an empty database to that dump and dumping it
//!   gives the same files again;
//! - `write_*`: the output directory rules.
//!
//! Every fixture's desired schema is dumped and planned the same way by
//! `tests/fixtures.rs`, on the database it builds from new.sql anyway.

mod support;

use converge::db::Endpoint;
use converge::dump::{DumpFile, DumpOptions};
use converge::pipeline::{Options, TargetRead, plan, read_target};
use converge::plan::Allowed;
use converge::shadow::Janitor;
use converge::source::Desired;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test("schema", || run(schema_case())),
        Trial::test("layout", || run(layout_case())),
        Trial::test(
            "write_refuses_a_non_empty_directory",
            write_refuses_a_non_empty_directory,
        ),
        Trial::test("write_force_replaces_sql_files", write_force_replaces_sql_files),
        // `default_privileges.sql` sorts between `app/` and `extensions.sql`;
        // the table uses the extension's type, which no statement is known
        // to create: CREATE EXTENSION must still load before it.
        Trial::test("default_privileges_and_extension_types", || run(adp_extension_case())),
        Trial::test("rebuild", || {
            run(rebuild_case("dump_rebuild", &LAYOUT_SQL.replace(REPLICA_IDENTITY, "")))
        }),
        // A table created with REPLICA IDENTITY USING INDEX: set after the
        // index exists.
        Trial::test("rebuild_replica_identity_using_index", || {
            run(rebuild_case(
                "dump_rebuild_replica_identity",
                "CREATE TABLE public.t (id integer NOT NULL);
                 CREATE UNIQUE INDEX t_id_idx ON public.t (id);
                 ALTER TABLE public.t REPLICA IDENTITY USING INDEX t_id_idx;",
            ))
        }),
        // A NOT VALID foreign key of a created table: added after the table
        // (PostgreSQL marks every constraint inside CREATE TABLE valid).
        Trial::test("rebuild_not_valid_foreign_key", || {
            run(rebuild_case(
                "dump_rebuild_not_valid_fk",
                "CREATE TABLE public.p (id integer PRIMARY KEY);
                 CREATE TABLE public.c (p_id integer);
                 ALTER TABLE public.c ADD CONSTRAINT c_p_id_fkey FOREIGN KEY (p_id) REFERENCES public.p (id) NOT VALID;",
            ))
        }),
    ];
    libtest_mimic::run(&args, trials).exit();
}

fn run(case: impl std::future::Future<Output = Result<(), String>>) -> Result<(), Failed> {
    support::runtime().block_on(case).map_err(Failed::from)
}

/// Dumps `db` into a new temporary directory.
async fn dump_to_dir(db: &Endpoint, options: &DumpOptions) -> Result<(Vec<DumpFile>, tempfile::TempDir), String> {
    let snapshot = read_target(db).await.map_err(|e| format!("introspect: {e}"))?;
    support::dumped::to_dir(&snapshot, options)
}

/// The dump of `db`, planned against `db`: the plan must be empty.
async fn dump_and_plan(db: &Endpoint, manage_owners: bool) -> Result<Vec<DumpFile>, String> {
    let snapshot = read_target(db).await.map_err(|e| format!("introspect: {e}"))?;
    support::dumped::plans_empty(&snapshot, manage_owners).await
}

/// Converges `db` to the files under `paths` with converge's own plan and apply.
async fn converge_to(db: &Endpoint, paths: &[PathBuf], manage_owners: bool) -> Result<(), String> {
    let desired = Desired::load(paths).map_err(|d| format!("desired files rejected: {d:?}"))?;
    let janitor = Janitor::default();
    let options = Options {
        manage_owners,
        ..Default::default()
    };
    let planned = plan(desired, db, &support::admin(), &janitor, &options, TargetRead::Catalog).await;
    janitor.cleanup().await;
    let planned = planned.map_err(|e| format!("plan: {e:?}"))?;
    let apply_options = converge::apply::ApplyOptions {
        allowed: Allowed::parse(&["all".into()]).unwrap_or_default(),
        record_history: false,
        ..Default::default()
    };
    converge::apply::apply(db, &planned, &apply_options)
        .await
        .map_err(|e| format!("apply: {e}"))?;
    Ok(())
}

async fn schema_case() -> Result<(), String> {
    let db = support::fresh_db("dump_schema").await;
    let result = async {
        converge_to(&db, &[PathBuf::from("schema")], false).await?;
        let files = dump_and_plan(&db, false).await?;
        let paths: BTreeSet<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        for expected in [
            "extensions.sql",
            "billing/schema.sql",
            "billing/tables/invoices.sql",
            "billing/sequences/invoice_number_seq.sql",
            "billing/types/currency_code.sql",
        ] {
            if !paths.contains(expected) {
                return Err(format!("no {expected} in the dump: {paths:?}"));
            }
        }
        Ok(())
    }
    .await;
    support::drop_db(&db).await;
    result
}

const REPLICA_IDENTITY: &str = "ALTER TABLE app.audit REPLICA IDENTITY USING INDEX audit_id_idx;\n";

const LAYOUT_ROLES: [&str; 2] = ["dump_reader", "dump_writer"];

/// Everything the layout documents, written the way a database grows: some
/// objects changed after they were created.
const LAYOUT_SQL: &str = r#"
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'The application.';
GRANT USAGE ON SCHEMA app TO dump_reader;
CREATE EXTENSION citext;
CREATE COLLATION app.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TYPE app.status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
CREATE TYPE app.money_pair AS (amount numeric, currency text);
CREATE TYPE app.price_range AS RANGE (subtype = numeric);
CREATE SEQUENCE app.invoice_numbers START WITH 1000;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE FUNCTION app.total(a integer, b integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE FUNCTION app.total(a numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT a';
REVOKE EXECUTE ON FUNCTION app.total(numeric) FROM PUBLIC;
CREATE PROCEDURE app.noop() LANGUAGE sql AS 'SELECT 1';

CREATE TABLE app.customers (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text COLLATE app.ci,
    favourite_order integer,
    updated_at timestamptz
);
CREATE TABLE app.orders (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES app.customers (id) ON DELETE CASCADE,
    status app.status NOT NULL DEFAULT 'new',
    quantity app.positive,
    invoice bigint DEFAULT nextval('app.invoice_numbers'),
    parent_id integer REFERENCES app.orders (id),
    updated_at timestamptz
);
ALTER TABLE app.customers ADD CONSTRAINT customers_favourite_order_fkey
    FOREIGN KEY (favourite_order) REFERENCES app.orders (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE app.orders ADD CONSTRAINT orders_quantity_small CHECK (quantity < 1000) NOT VALID;
COMMENT ON TABLE app.orders IS 'Orders placed by customers.';
COMMENT ON COLUMN app.orders.status IS 'Where the order is.';
CREATE INDEX orders_customer_idx ON app.orders (customer_id);
CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_readers ON app.orders FOR SELECT TO dump_reader USING (status <> 'new');
GRANT SELECT ON app.orders TO dump_reader;
GRANT SELECT, INSERT, UPDATE ON app.orders TO dump_writer WITH GRANT OPTION;
GRANT UPDATE (name) ON app.customers TO dump_writer;

CREATE TABLE app.events (at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

CREATE VIEW app.open_orders AS SELECT id, customer_id FROM app.orders WHERE status <> 'shipped';
GRANT SELECT ON app.open_orders TO dump_reader;
CREATE MATERIALIZED VIEW app.order_counts AS SELECT customer_id, count(*) AS n FROM app.orders GROUP BY customer_id;
CREATE UNIQUE INDEX order_counts_customer_idx ON app.order_counts (customer_id);

ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO dump_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC;
CREATE TABLE app.audit (id bigint NOT NULL, note text);
ALTER TABLE app.audit ADD COLUMN kind varchar(10) CHECK (kind IN ('login', 'logout'));
ALTER TABLE app.audit DROP COLUMN note;
CREATE UNIQUE INDEX audit_id_idx ON app.audit (id);
ALTER TABLE app.audit REPLICA IDENTITY USING INDEX audit_id_idx;
CREATE POLICY audit_logins ON app.audit FOR SELECT USING (kind IN ('login', 'other'));
CREATE VIEW app.logins AS SELECT id FROM app.audit WHERE kind IN ('login', 'logout');
CREATE FUNCTION app.later() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE TYPE app.late_enum AS ENUM ('x');

CREATE SCHEMA "Other Schema";
CREATE TABLE "Other Schema"."Mixed Case" (id integer);
CREATE TABLE public.plain (id integer, code citext);
COMMENT ON SCHEMA public IS 'Changed.';
"#;

async fn layout_case() -> Result<(), String> {
    let roles: Vec<String> = LAYOUT_ROLES.iter().map(|r| r.to_string()).collect();
    support::create_roles(&roles).await?;
    let db = support::fresh_db("dump_layout").await;
    let result = async {
        support::load(&db, LAYOUT_SQL)
            .await
            .map_err(|e| format!("layout SQL: {e}"))?;
        let files = dump_and_plan(&db, false).await?;
        let text = |path: &str| -> Result<&str, String> {
            files
                .iter()
                .find(|f| f.path == Path::new(path))
                .map(|f| f.text.as_str())
                .ok_or_else(|| format!("no {path} in the dump:\n{}", support::dumped::show(&files)))
        };
        let paths: BTreeSet<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        let expected: BTreeSet<String> = [
            "default_privileges.sql",
            "extensions.sql",
            "Other%20Schema/schema.sql",
            "Other%20Schema/tables/Mixed%20Case.sql",
            "app/collations/ci.sql",
            "app/functions/later.sql",
            "app/functions/noop.sql",
            "app/functions/total.sql",
            "app/functions/touch.sql",
            "app/schema.sql",
            "app/sequences/invoice_numbers.sql",
            "app/tables/audit.sql",
            "app/tables/customers.sql",
            "app/tables/events.sql",
            "app/tables/events_2024.sql",
            "app/tables/orders.sql",
            "app/types/late_enum.sql",
            "app/types/money_pair.sql",
            "app/types/positive.sql",
            "app/types/price_range.sql",
            "app/types/status.sql",
            "app/views/logins.sql",
            "app/views/open_orders.sql",
            "app/views/order_counts.sql",
            "public/schema.sql",
            "public/tables/plain.sql",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        if paths != expected {
            return Err(format!(
                "unexpected layout:\n  missing: {:?}\n  extra: {:?}",
                expected.difference(&paths).collect::<Vec<_>>(),
                paths.difference(&expected).collect::<Vec<_>>()
            ));
        }
        // Every file parses, and every statement ends with a semicolon.
        for f in &files {
            pg_query::parse(&f.text, 0).map_err(|e| format!("{} does not parse: {e}", f.path.display()))?;
            if !f.text.starts_with("-- ") || !f.text.trim_end().ends_with(';') {
                return Err(format!(
                    "{} has no header or does not end a statement:\n{}",
                    f.path.display(),
                    f.text
                ));
            }
        }
        let orders = text("app/tables/orders.sql")?;
        let customers = text("app/tables/customers.sql")?;
        let contains = |file: &str, text: &str, what: &str| -> Result<(), String> {
            if text.contains(what) {
                Ok(())
            } else {
                Err(format!("{file} lacks `{what}`:\n{text}"))
            }
        };
        // The tables reference each other: their foreign keys follow them,
        // except the self-reference, which stays in CREATE TABLE.
        contains(
            "orders",
            orders,
            "ALTER TABLE app.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY",
        )?;
        contains(
            "customers",
            customers,
            "ALTER TABLE app.customers ADD CONSTRAINT customers_favourite_order_fkey FOREIGN KEY",
        )?;
        contains("orders", orders, "CONSTRAINT orders_parent_id_fkey FOREIGN KEY")?;
        if orders.contains("ADD CONSTRAINT orders_parent_id_fkey") {
            return Err(format!("the self-reference left CREATE TABLE:\n{orders}"));
        }
        // NOT VALID constraints are added after the table (CREATE TABLE
        // would make them valid).
        let not_valid = orders
            .split(";\n")
            .find(|s| s.contains("ADD CONSTRAINT orders_quantity_small CHECK"))
            .ok_or_else(|| format!("orders_quantity_small is not added after the table:\n{orders}"))?;
        contains("orders", not_valid, "NOT VALID")?;
        for what in [
            "CREATE INDEX orders_customer_idx",
            "CREATE TRIGGER orders_touch",
            "CREATE POLICY orders_readers",
            "ENABLE ROW LEVEL SECURITY",
            "COMMENT ON COLUMN app.orders.status",
            "GRANT SELECT ON TABLE app.orders TO dump_reader",
            "WITH GRANT OPTION",
        ] {
            contains("orders", orders, what)?;
        }
        for what in [
            "CREATE SEQUENCE app.customers_id_seq",
            "ALTER SEQUENCE app.customers_id_seq OWNED BY app.customers.id",
            "GRANT UPDATE (name) ON TABLE app.customers TO dump_writer",
        ] {
            contains("customers", customers, what)?;
        }
        // The table created before the default privileges does not have theirs.
        contains(
            "customers",
            customers,
            "REVOKE SELECT ON TABLE app.customers FROM dump_reader",
        )?;
        let total = text("app/functions/total.sql")?;
        contains("total", total, "app.total(a integer, b integer)")?;
        contains("total", total, "app.total(a numeric)")?;
        contains(
            "total",
            total,
            "REVOKE EXECUTE ON ROUTINE app.total(a numeric) FROM PUBLIC",
        )
        .or_else(|_| {
            contains(
                "total",
                total,
                "REVOKE EXECUTE ON ROUTINE app.total(numeric) FROM PUBLIC",
            )
        })?;
        contains(
            "order_counts",
            text("app/views/order_counts.sql")?,
            "CREATE UNIQUE INDEX order_counts_customer_idx",
        )?;
        let defaults = text("default_privileges.sql")?;
        contains(
            "defaults",
            defaults,
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO dump_reader",
        )?;
        contains(
            "public",
            text("public/schema.sql")?,
            "COMMENT ON SCHEMA public IS 'Changed.'",
        )?;
        if !text("extensions.sql")?.contains("citext") || text("extensions.sql")?.contains("plpgsql") {
            return Err(format!("extensions.sql:\n{}", text("extensions.sql")?));
        }
        Ok(())
    }
    .await;
    support::drop_db(&db).await;
    result
}

/// Converging an empty database to the dump of `sql` and dumping that
/// gives the same files.
async fn rebuild_case(label: &str, sql: &str) -> Result<(), String> {
    let roles: Vec<String> = LAYOUT_ROLES.iter().map(|r| r.to_string()).collect();
    support::create_roles(&roles).await?;
    let db = support::fresh_db(label).await;
    let again = support::fresh_db(&format!("{label}_again")).await;
    let result = async {
        support::load(&db, sql).await?;
        let (files, dir) = dump_to_dir(&db, &DumpOptions::default()).await?;
        converge_to(&again, &[dir.path().to_path_buf()], false).await?;
        let (second, _dir) = dump_to_dir(&again, &DumpOptions::default()).await?;
        if second != files {
            return Err(format!(
                "dumping what the dump builds gives other files:\n{}\n\nfirst:\n{}",
                support::dumped::show(&second),
                support::dumped::show(&files)
            ));
        }
        Ok(())
    }
    .await;
    support::drop_db(&db).await;
    support::drop_db(&again).await;
    result
}

async fn adp_extension_case() -> Result<(), String> {
    support::create_roles(&["dump_reader".to_string()]).await?;
    let db = support::fresh_db("dump_adp_extension").await;
    let result = async {
        support::load(
            &db,
            "CREATE EXTENSION citext;
             CREATE SCHEMA app;
             CREATE TABLE app.t (code citext);
             ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO dump_reader;",
        )
        .await?;
        dump_and_plan(&db, false).await.map(|_| ())
    }
    .await;
    support::drop_db(&db).await;
    result
}

fn sample_files() -> Vec<DumpFile> {
    vec![DumpFile {
        path: PathBuf::from("app/schema.sql"),
        text: "-- Schema app.\nCREATE SCHEMA app;\n".into(),
    }]
}

fn write_refuses_a_non_empty_directory() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("notes.txt"), "mine")?;
    let err = converge::dump::write(&sample_files(), dir.path(), false).expect_err("a non-empty directory is refused");
    let message = err.to_string();
    if !message.contains(&dir.path().display().to_string()) {
        return Err(format!("the error does not name the directory: {message}").into());
    }
    if dir.path().join("app").exists() {
        return Err("a refused dump wrote files".into());
    }
    // An empty directory, or one that does not exist yet, is fine.
    let empty = tempfile::tempdir()?;
    converge::dump::write(&sample_files(), empty.path(), false)?;
    converge::dump::write(&sample_files(), &empty.path().join("new/sub"), false)?;
    if !empty.path().join("new/sub/app/schema.sql").exists() {
        return Err("files were not written into a new directory".into());
    }
    Ok(())
}

fn write_force_replaces_sql_files() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("old/tables"))?;
    std::fs::write(dir.path().join("old/tables/gone.sql"), "CREATE TABLE old.gone ();")?;
    std::fs::write(dir.path().join("README.md"), "kept")?;
    converge::dump::write(&sample_files(), dir.path(), true)?;
    if dir.path().join("old").exists() {
        return Err("a stale .sql file (and its directory) survived --force".into());
    }
    if !dir.path().join("README.md").exists() || !dir.path().join("app/schema.sql").exists() {
        return Err("force must keep other files and write the dump".into());
    }
    Ok(())
}
