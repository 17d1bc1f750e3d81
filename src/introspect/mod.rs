//! Reading a database's schema into a `Snapshot` (catalog + dependencies).
//!
//! The same code reads the shadow database (the desired state) and the target,
//! so both sides are normalized by the same server functions (`format_type`,
//! `pg_get_expr`, `pg_get_constraintdef`, `pg_get_indexdef`) under an empty
//! `search_path`, where every name comes out schema-qualified. It runs a fixed
//! number of bulk queries (one per object kind, in `queries/*.sql`), whatever
//! the number of tables, and never writes.

mod build;
mod deps;

use crate::catalog::Snapshot;
use crate::db::{DbError, query_error};
use std::sync::LazyLock;
use tokio_postgres::{Client, GenericClient, Row};

/// The queries, with their shared filters expanded once.
struct Queries {
    schemas: String,
    extensions: String,
    enums: String,
    sequences: String,
    tables: String,
    columns: String,
    constraints: String,
    indexes: String,
    dependencies: String,
}

static QUERIES: LazyLock<Queries> = LazyLock::new(|| Queries {
    schemas: expand(include_str!("queries/schemas.sql")),
    extensions: expand(include_str!("queries/extensions.sql")),
    enums: expand(include_str!("queries/enums.sql")),
    sequences: expand(include_str!("queries/sequences.sql")),
    tables: expand(include_str!("queries/tables.sql")),
    columns: expand(include_str!("queries/columns.sql")),
    constraints: expand(include_str!("queries/constraints.sql")),
    indexes: expand(include_str!("queries/indexes.sql")),
    dependencies: expand(include_str!("queries/dependencies.sql")),
});


/// Expands `{{user_schema:alias}}`, `{{not_extension_member:catalog:oid}}` and
/// `{{managed_table:alias}}` in a query.
fn expand(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() * 2);
    let mut rest = sql;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        let parts: Vec<&str> = inner.split(':').collect();
        out.push_str(&match parts.as_slice() {
            ["user_schema", n] => user_schema(n),
            ["not_extension_member", catalog, oid] => not_extension_member(catalog, oid),
            ["managed_table", c] => format!(
                "({c}.relkind = 'r' AND NOT {c}.relispartition AND {})",
                not_extension_member("pg_class", &format!("{c}.oid"))
            ),
            _ => inner.to_string(),
        });
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

fn user_schema(n: &str) -> String {
    format!(
        "({n}.nspname NOT IN ('pg_catalog', 'information_schema', '{reserved}') \
         AND {n}.nspname NOT LIKE 'pg\\_toast%' AND {n}.nspname NOT LIKE 'pg\\_temp\\_%')",
        reserved = crate::source::RESERVED_SCHEMA
    )
}

fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend xd \
         WHERE xd.classid = 'pg_catalog.{catalog}'::pg_catalog.regclass \
         AND xd.objid = {oid} AND xd.deptype = 'e')"
    )
}

/// The rows of every query, before they become a catalog.
pub(crate) struct Rows {
    pub schemas: Vec<Row>,
    pub extensions: Vec<Row>,
    pub enums: Vec<Row>,
    pub sequences: Vec<Row>,
    pub tables: Vec<Row>,
    pub columns: Vec<Row>,
    pub constraints: Vec<Row>,
    pub indexes: Vec<Row>,
    pub dependencies: Vec<Row>,
}

/// Reads the database in one consistent, read-only snapshot.
pub async fn introspect(client: &mut Client) -> Result<Snapshot, DbError> {
    Ok(introspect_counted(client).await?.0)
}

/// `introspect`, also returning how many queries it sent (always the same
/// number, whatever the size of the database).
pub async fn introspect_counted(client: &mut Client) -> Result<(Snapshot, usize), DbError> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(query_error("cannot start a read-only transaction"))?;
    let result = read(&tx).await?;
    tx.commit().await.map_err(query_error("cannot end the read-only transaction"))?;
    Ok(result)
}

/// Reads the database from inside a transaction the caller owns (apply uses
/// this to verify its own changes before committing). Sets `search_path`
/// (empty), `TimeZone`, `DateStyle` and `IntervalStyle` for the rest of that
/// transaction.
pub async fn introspect_in_transaction(client: &impl GenericClient) -> Result<Snapshot, DbError> {
    Ok(read(client).await?.0)
}

async fn read(client: &impl GenericClient) -> Result<(Snapshot, usize), DbError> {
    // Every name schema-qualified, every constant printed the same way
    // whatever the session's defaults.
    client
        .batch_execute(
            "SELECT pg_catalog.set_config('search_path', '', true), \
                    pg_catalog.set_config('TimeZone', 'UTC', true), \
                    pg_catalog.set_config('DateStyle', 'ISO, MDY', true), \
                    pg_catalog.set_config('IntervalStyle', 'postgres', true)",
        )
        .await
        .map_err(query_error("cannot set the session for introspection"))?;
    let version: i32 = client
        .query_one("SELECT pg_catalog.current_setting('server_version_num')::int", &[])
        .await
        .map_err(query_error("cannot read the server version"))?
        .try_get(0)
        .map_err(query_error("cannot read the server version"))?;
    let sent = std::cell::Cell::new(2);
    let q = &*QUERIES;
    let run = |name: &'static str, sql: &'static str| {
        sent.set(sent.get() + 1);
        async move {
            client
                .query(sql, &[])
                .await
                .map_err(query_error(format!("cannot read {name}")))
        }
    };
    let rows = Rows {
        schemas: run("schemas", &q.schemas).await?,
        extensions: run("extensions", &q.extensions).await?,
        enums: run("enum types", &q.enums).await?,
        sequences: run("sequences", &q.sequences).await?,
        tables: run("tables", &q.tables).await?,
        columns: run("columns", &q.columns).await?,
        constraints: run("constraints", &q.constraints).await?,
        indexes: run("indexes", &q.indexes).await?,
        dependencies: run("dependencies", &q.dependencies).await?,
    };
    let (catalog, oids) = build::catalog(&rows)?;
    let deps = deps::dependencies(&rows.dependencies, &oids)?;
    Ok((
        Snapshot {
            catalog,
            deps,
            server_version: version,
        },
        sent.get(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_all_expanded() {
        let q = &*QUERIES;
        for sql in [
            &q.schemas,
            &q.extensions,
            &q.enums,
            &q.sequences,
            &q.tables,
            &q.columns,
            &q.constraints,
            &q.indexes,
            &q.dependencies,
        ] {
            assert!(!sql.contains("{{"), "unexpanded placeholder in:\n{sql}");
        }
        assert!(q.tables.contains("c.relkind = 'r'"));
    }
}
