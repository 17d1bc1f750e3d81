//! Introspection against a real PostgreSQL: a fixed number of bulk queries
//! whatever the size of the database, and the same snapshot whether a big
//! catalog is read on one connection or on several sharing one snapshot.

mod support;

use converge::introspect::{
    introspect_counted, introspect_endpoint_counted, introspect_in_transaction, introspect_unchanged_transaction,
};

fn schema_of(tables: usize) -> String {
    let mut sql =
        String::from("CREATE SCHEMA app;\nCREATE TYPE app.state AS ENUM ('a', 'b');\nCREATE SEQUENCE app.numbers;\n");
    for i in 0..tables {
        sql.push_str(&format!(
            "CREATE TABLE app.t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, s app.state DEFAULT 'a', \
             n bigint DEFAULT nextval('app.numbers'), parent bigint REFERENCES app.t{i} (id), CHECK (n > 0));\n\
             CREATE INDEX t{i}_s ON app.t{i} (s) WHERE n > 10;\nCOMMENT ON TABLE app.t{i} IS 'table {i}';\n"
        ));
    }
    sql
}

#[test]
fn introspection_sends_the_same_number_of_queries_whatever_the_size() {
    let rt = support::runtime();
    rt.block_on(async {
        let mut counts = Vec::new();
        for tables in [1, 40] {
            let db = support::fresh_db(&format!("introspect_{tables}")).await;
            support::load(&db, &schema_of(tables)).await.unwrap();
            let mut client = db.connect().await.unwrap();
            let (snapshot, queries) = introspect_counted(&mut client).await.unwrap();
            assert_eq!(snapshot.catalog.tables.len(), tables);
            assert_eq!(snapshot.catalog.indexes.len(), tables);
            counts.push(queries);
            support::drop_db(&db).await;
        }
        assert_eq!(counts[0], counts[1], "queries for 1 table vs 40 tables");
        assert!(counts[0] <= 24, "a handful of bulk queries, not {}", counts[0]);
    });
}

/// Past `PARALLEL_FROM_RELATIONS` (3,000 rows in `pg_class`), the catalog is
/// read on several connections; apply's starting-point check does the same
/// from inside its READ COMMITTED transaction. Both must give exactly what
/// one connection gives.
#[test]
fn a_big_catalog_reads_the_same_on_several_connections() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("introspect_parallel").await;
        // Each table: itself, its toast table and index, its primary key and
        // its identity sequence.
        let mut sql = String::from("CREATE SCHEMA app;\n");
        for i in 0..700 {
            sql.push_str(&format!(
                "CREATE TABLE app.t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text, \
                 parent bigint REFERENCES app.t{} (id));\n",
                i / 2
            ));
        }
        support::load(&db, &sql).await.unwrap();
        let mut client = db.connect().await.unwrap();
        let (single, single_sent) = introspect_counted(&mut client).await.unwrap();
        let (parallel, parallel_sent) = introspect_endpoint_counted(&db).await.unwrap();
        assert_eq!(single.catalog.tables.len(), 700);
        assert!(
            parallel_sent > single_sent,
            "the big catalog must be read on helper connections ({parallel_sent} vs {single_sent} statements)"
        );
        assert!(
            parallel.catalog.same_as(&single.catalog),
            "catalog read on several connections differs"
        );
        assert_eq!(parallel.deps, single.deps);

        client.batch_execute("BEGIN").await.unwrap();
        let unchanged = introspect_unchanged_transaction(&client, &db).await.unwrap();
        let in_transaction = introspect_in_transaction(&client).await.unwrap();
        client.batch_execute("ROLLBACK").await.unwrap();
        assert!(
            unchanged.catalog.same_as(&single.catalog),
            "apply's starting-point read differs"
        );
        assert_eq!(unchanged.deps, single.deps);
        assert!(in_transaction.catalog.same_as(&single.catalog));
        drop(client);
        support::drop_db(&db).await;
    });
}

/// Introspection composes the definitions of indexes on plain columns
/// itself, deciding as the server does whether each column's operator
/// class is its type's default and how its sort order is printed; every
/// shape here, composed or not, must read exactly as `pg_get_indexdef`
/// prints it.
#[test]
fn composed_index_definitions_are_what_the_server_prints() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("introspect_index_text").await;
        let sql = r#"
            CREATE SCHEMA "Odd Schema";
            CREATE TYPE "Odd Schema".mood AS ENUM ('calm', 'busy');
            CREATE DOMAIN "Odd Schema".label AS text;
            CREATE TABLE "Odd Schema"."Mixed Case" (
                id bigint PRIMARY KEY, "Title" varchar(80), body text, code char(4),
                mood "Odd Schema".mood, tags text[], moods "Odd Schema".mood[], doc jsonb,
                at timestamptz, name "Odd Schema".label, n int, UNIQUE (code));
            CREATE INDEX ON "Odd Schema"."Mixed Case" ("Title");
            CREATE INDEX ON "Odd Schema"."Mixed Case" ("Title" varchar_pattern_ops);
            CREATE INDEX ON "Odd Schema"."Mixed Case" (body text_pattern_ops);
            CREATE INDEX ON "Odd Schema"."Mixed Case" (body COLLATE "C");
            CREATE INDEX ON "Odd Schema"."Mixed Case" (code, body);
            CREATE INDEX ON "Odd Schema"."Mixed Case" (mood);
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING hash (mood);
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING hash ("Title");
            CREATE INDEX ON "Odd Schema"."Mixed Case" (tags);
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING gin (tags);
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING gin (moods);
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING gin (doc);
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING gin (doc jsonb_path_ops);
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING brin (at);
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING brin ("Title");
            CREATE INDEX ON "Odd Schema"."Mixed Case" USING spgist (body);
            CREATE INDEX ON "Odd Schema"."Mixed Case" (at DESC);
            CREATE INDEX ON "Odd Schema"."Mixed Case" (at DESC NULLS LAST, n NULLS FIRST);
            CREATE INDEX ON "Odd Schema"."Mixed Case" (at ASC NULLS LAST, n DESC NULLS FIRST);
            CREATE INDEX ON "Odd Schema"."Mixed Case" (name);
            CREATE UNIQUE INDEX ON "Odd Schema"."Mixed Case" (n, id) INCLUDE (body);
            CREATE UNIQUE INDEX ON "Odd Schema"."Mixed Case" (n) NULLS NOT DISTINCT;
            CREATE INDEX ON "Odd Schema"."Mixed Case" (lower(body)) WHERE n > 0;
            CREATE INDEX ON "Odd Schema"."Mixed Case" (n) WITH (fillfactor = 70);
        "#;
        support::load(&db, sql).await.unwrap();
        let mut client = db.connect().await.unwrap();
        let (snapshot, _) = introspect_counted(&mut client).await.unwrap();
        let compared = support::printed::index_definitions_match(&db, &snapshot)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(compared, 24, "every index but the two of constraints");
        support::drop_db(&db).await;
    });
}
