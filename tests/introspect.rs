//! Introspection against a real PostgreSQL: a fixed number of bulk queries
//! whatever the size of the database, and the same catalog from a database
//! built by hand and one converged by converge.

mod support;

use converge::introspect::introspect_counted;

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
