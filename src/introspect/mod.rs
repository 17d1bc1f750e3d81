//! Reading a database's schema into a `Snapshot` (catalog + dependencies).
//!
//! The same code reads the shadow database (the desired state) and the target,
//! so both sides are normalized by the same server functions (`format_type`,
//! `pg_get_expr`, `pg_get_constraintdef`, `pg_get_indexdef`) under an empty
//! `search_path`, where every name comes out schema-qualified. It runs a fixed
//! number of bulk queries (one per object kind, in `queries/*.sql`), whatever
//! the number of tables, and never writes.

mod bodies;
mod build;
mod changes;
mod deps;
mod parallel;
mod stats;
mod versions;

pub use changes::{reread_catalog_changes, reread_changes};
pub use versions::{RowVersions, read as read_row_versions};

use crate::catalog::Snapshot;
use crate::db::{DbError, Endpoint, query_error};
use std::sync::LazyLock;
use tokio_postgres::{Client, GenericClient, Row};

/// One bulk query per object kind, each read once: (what it reads, SQL).
const QUERY_FILES: [(&str, &str); 20] = [
    ("schemas", include_str!("queries/schemas.sql")),
    ("extensions", include_str!("queries/extensions.sql")),
    ("collations", include_str!("queries/collations.sql")),
    ("enum types", include_str!("queries/enums.sql")),
    ("domains", include_str!("queries/domains.sql")),
    ("composite types", include_str!("queries/composite_types.sql")),
    ("range types", include_str!("queries/range_types.sql")),
    ("sequences", include_str!("queries/sequences.sql")),
    ("tables", include_str!("queries/tables.sql")),
    ("views", include_str!("queries/views.sql")),
    ("columns", include_str!("queries/columns.sql")),
    ("constraints", include_str!("queries/constraints.sql")),
    ("indexes", include_str!("queries/indexes.sql")),
    ("functions", include_str!("queries/functions.sql")),
    ("aggregates", include_str!("queries/aggregates.sql")),
    ("triggers", include_str!("queries/triggers.sql")),
    ("policies", include_str!("queries/policies.sql")),
    ("default privileges", include_str!("queries/default_privileges.sql")),
    ("dependencies", include_str!("queries/dependencies.sql")),
    ("table statistics", include_str!("queries/table_stats.sql")),
];

/// The queries with their shared filters expanded, once.
static QUERIES: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    QUERY_FILES
        .iter()
        .map(|(name, sql)| (*name, expand(sql, Read::All)))
        .collect()
});

/// Which relations the queries with an `{{only:...}}` filter read.
#[derive(Clone, Copy)]
enum Read {
    All,
    /// Those whose OIDs are in the array given as `$1`.
    Only,
}

/// Expands `{{user_schema:alias}}`, `{{user_schema_oid:oid}}`,
/// `{{not_extension_member:catalog:oid}}`,
/// `{{managed_table:alias}}`, `{{managed_view:alias}}`,
/// `{{managed_relation:alias}}` (either), `{{acl:...}}` and
/// `{{only:relation oid}}` (see `Read`) in a query.
fn expand(sql: &str, read: Read) -> String {
    expand_with(sql, read, &|_| None)
}

/// `expand`, with the placeholders `more` knows (it gets the placeholder's
/// parts split at `:`) expanded by it.
fn expand_with(sql: &str, read: Read, more: &dyn Fn(&[&str]) -> Option<String>) -> String {
    let mut out = String::with_capacity(sql.len() * 2);
    let mut rest = sql;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        let parts: Vec<&str> = inner.split(':').collect();
        if let Some(expanded) = more(&parts) {
            out.push_str(&expanded);
            rest = &rest[start + len + 2..];
            continue;
        }
        out.push_str(&match parts.as_slice() {
            ["user_schema", n] => user_schema(n),
            // The same test on a schema OID, without a join to pg_namespace
            // (see columns.sql).
            ["user_schema_oid", oid] => format!(
                "{oid} <> ALL (ARRAY(SELECT xn.oid FROM pg_catalog.pg_namespace xn WHERE NOT {})::pg_catalog.oid[])",
                user_schema("xn")
            ),
            ["not_extension_member", catalog, oid] => not_extension_member(catalog, oid),
            ["managed_table", c] => format!(
                "({c}.relkind IN ('r', 'p') AND {})",
                not_extension_member("pg_class", &format!("{c}.oid"))
            ),
            // Tables and views in one condition (not `managed_table OR
            // managed_view`): one NOT EXISTS lets the planner hash the
            // extension members once instead of probing them per row.
            ["managed_relation", c] => format!(
                "({c}.relkind IN ('r', 'p', 'v', 'm') AND {})",
                not_extension_member("pg_class", &format!("{c}.oid"))
            ),
            ["managed_view", c] => format!(
                "({c}.relkind IN ('v', 'm') AND {})",
                not_extension_member("pg_class", &format!("{c}.oid"))
            ),
            ["acl", column, kind, owner] => acl(column, kind, owner),
            ["only", relation] => match read {
                Read::All => "true".to_string(),
                Read::Only => format!("({relation} = ANY($1::pg_catalog.oid[]))"),
            },
            _ => inner.to_string(),
        });
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// An ACL as a sorted text array of `grantee<TAB>privilege<TAB>t|f`, with a
/// NULL ACL read as the kind's default and the owner's own grants left out:
/// they come with ownership. For relations, schemas and types, each
/// privilege of the owner's default that the owner no longer has (it revoked
/// it from itself) is listed under `REVOKED_FROM_OWNER`, whoever the owner
/// is, so that a reduced owner is seen without plans depending on owners.
fn acl(column: &str, kind: &str, owner: &str) -> String {
    let value = if kind.is_empty() {
        format!("coalesce({column}, '{{}}'::pg_catalog.aclitem[])")
    } else {
        format!("coalesce({column}, pg_catalog.acldefault('{kind}', {owner}))")
    };
    let entry = "(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END) \
         || E'\\t' || a.privilege_type || E'\\t' || CASE WHEN a.is_grantable THEN 't' ELSE 'f' END";
    if owner.is_empty() {
        return format!(
            "CASE WHEN pg_catalog.cardinality({value}) = 0 THEN ARRAY[]::text[] ELSE \
             ARRAY(SELECT {entry} FROM pg_catalog.aclexplode({value}) a ORDER BY 1) END"
        );
    }
    if !matches!(kind, "r" | "s" | "n" | "T") {
        return format!(
            "CASE WHEN pg_catalog.cardinality({value}) = 0 THEN ARRAY[]::text[] ELSE \
             ARRAY(SELECT {entry} FROM pg_catalog.aclexplode({value}) a WHERE a.grantee <> {owner} ORDER BY 1) END"
        );
    }
    let revoked = crate::catalog::REVOKED_FROM_OWNER;
    format!(
        "ARRAY(SELECT {entry} FROM pg_catalog.aclexplode({value}) a WHERE a.grantee <> {owner} \
         UNION ALL \
         SELECT '{revoked}' || E'\\t' || d.privilege_type || E'\\tf' \
         FROM pg_catalog.aclexplode(pg_catalog.acldefault('{kind}', {owner})) d \
         WHERE {column} IS NOT NULL AND d.grantee = {owner} AND NOT EXISTS \
         (SELECT 1 FROM pg_catalog.aclexplode({column}) o WHERE o.grantee = {owner} AND o.privilege_type = d.privilege_type) \
         ORDER BY 1)"
    )
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

/// The rows of every query, before they become a catalog, by query name.
#[derive(Default)]
pub(crate) struct Rows {
    by_name: std::collections::HashMap<&'static str, Vec<Row>>,
}

impl Rows {
    pub fn get(&self, name: &str) -> &[Row] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The rows of one query, taken out (to be decoded and freed on their own).
    fn take(&mut self, name: &str) -> Vec<Row> {
        self.by_name.remove(name).unwrap_or_default()
    }
}

/// Reads the database in one consistent, read-only snapshot, on `client`.
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
    tx.commit()
        .await
        .map_err(query_error("cannot end the read-only transaction"))?;
    Ok(result)
}

/// Reads the database at `endpoint` in one consistent, read-only snapshot,
/// on several connections sharing that snapshot when the database is big
/// enough for it to pay (see `parallel`).
pub async fn introspect_endpoint(endpoint: &Endpoint) -> Result<Snapshot, DbError> {
    Ok(introspect_endpoint_counted(endpoint).await?.0)
}

/// `introspect_endpoint`, also returning how many queries it sent on all
/// connections together.
pub async fn introspect_endpoint_counted(endpoint: &Endpoint) -> Result<(Snapshot, usize), DbError> {
    let (snapshot, _, sent) = parallel::read(endpoint, false).await?;
    Ok((snapshot, sent))
}

/// `introspect_endpoint`, with the versions of the catalog's rows in the
/// same snapshot (`versions`): what an apply of a plan made from this read
/// compares to know that the target has not changed since.
pub async fn introspect_endpoint_versioned(endpoint: &Endpoint) -> Result<(Snapshot, RowVersions), DbError> {
    let (snapshot, versions, _) = parallel::read(endpoint, true).await?;
    let versions = versions.ok_or_else(|| DbError::Query {
        context: "cannot read the versions of the catalog's rows".into(),
        message: "the read returned none".into(),
    })?;
    Ok((snapshot, versions))
}

/// Reads the database from inside a transaction the caller owns (apply uses
/// this to verify its own changes before committing). Sets `search_path`
/// (empty), `TimeZone`, `DateStyle` and `IntervalStyle` for the rest of that
/// transaction.
pub async fn introspect_in_transaction(client: &impl GenericClient) -> Result<Snapshot, DbError> {
    Ok(read(client).await?.0)
}

/// `introspect_in_transaction` for a transaction that has changed nothing
/// yet, on `endpoint`: a big catalog is read on several connections at once
/// (see `parallel`), the helpers seeing the snapshot the transaction exports.
/// Apply checks its starting point with this; its end state, which only its
/// own transaction sees, is read with `introspect_in_transaction`.
pub async fn introspect_unchanged_transaction(
    client: &impl GenericClient,
    endpoint: &Endpoint,
) -> Result<Snapshot, DbError> {
    Ok(parallel::read_in(client, endpoint).await?.0)
}

/// Every query on one connection, inside the caller's transaction.
async fn read(client: &impl GenericClient) -> Result<(Snapshot, usize), DbError> {
    prepare_session(client).await?;
    let server = server_facts(client).await?;
    let all: Vec<usize> = (0..QUERIES.len()).collect();
    let by_name = run_queries(client, &all).await?;
    let sent = 2 + QUERIES.len();
    Ok((assemble(by_name, server)?, sent))
}

/// Every name schema-qualified and every constant printed the same way
/// whatever the session's defaults, for the rest of the transaction; a
/// `work_mem` that lets the biggest queries sort in memory; no JIT (on a
/// big catalog the planner's costs pass its threshold, and compiling costs
/// more than these queries save).
async fn prepare_session(client: &impl GenericClient) -> Result<(), DbError> {
    client
        .batch_execute(
            "SELECT pg_catalog.set_config('search_path', '', true), \
                    pg_catalog.set_config('TimeZone', 'UTC', true), \
                    pg_catalog.set_config('DateStyle', 'ISO, MDY', true), \
                    pg_catalog.set_config('IntervalStyle', 'postgres', true), \
                    pg_catalog.set_config('work_mem', '64MB', true), \
                    pg_catalog.set_config('jit', 'off', true)",
        )
        .await
        .map_err(query_error("cannot set the session for introspection"))
}

/// What the snapshot records about the server besides the catalog, and how
/// many relations the database has (to judge whether reading in parallel
/// pays).
struct ServerFacts {
    version: i32,
    role: String,
    relations: i64,
}

async fn server_facts(client: &impl GenericClient) -> Result<ServerFacts, DbError> {
    let context = "cannot read the server version and the current role";
    let row = client
        .query_one(
            "SELECT pg_catalog.current_setting('server_version_num')::int, current_user::text, \
                    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class)",
            &[],
        )
        .await
        .map_err(query_error(context))?;
    Ok(ServerFacts {
        version: row.try_get(0).map_err(query_error(context))?,
        role: row.try_get(1).map_err(query_error(context))?,
        relations: row.try_get(2).map_err(query_error(context))?,
    })
}

/// While the queries of a whole read run, no nested-loop joins. A whole read
/// joins every row of `pg_attribute`, `pg_index`, `pg_constraint` ... that
/// belongs to a managed relation with the rows that describe it; the planner,
/// whose estimates for the schema filters are far too low (it expected 796
/// of the 94,597 columns of the 5,000-table benchmark), chose an index probe
/// per row into `pg_attrdef`, `pg_description`, `pg_depend` ..., where one
/// hash of each catalog costs a fraction (columns 0.85 → 0.57 s, indexes
/// 0.48 → 0.39 s, views 0.24 → 0.14 s at N = 5,000). A join that must be a
/// nested loop (the `LATERAL` look-ups of `indexes.sql`) still is one. Reading
/// what a transaction changed (`changes`), a handful of relations, keeps
/// nested loops: there the probes are what is cheap.
const WHOLE_READ_JOINS: &str = "SET LOCAL enable_nestloop = off";
const JOINS_AGAIN: &str = "SET LOCAL enable_nestloop TO DEFAULT";

/// What one query of a whole read returned: its rows, or, for the two with
/// the most rows, those rows decoded as they arrived, so that their raw
/// rows (about 1 KB each for a column: the row and where each of its 29
/// values is) are never all held at once.
pub(crate) enum Fetched {
    Rows(&'static str, Vec<Row>),
    /// The columns query's rows, decoded, by relation but not yet in
    /// column order.
    Columns(build::ColumnsByRelation),
    Dependencies(Vec<deps::DepRow>),
}

/// Runs the queries with these indexes into `QUERIES` on one connection.
async fn run_queries(client: &impl GenericClient, indexes: &[usize]) -> Result<Vec<Fetched>, DbError> {
    let session = |sql: &'static str| async move {
        client
            .batch_execute(sql)
            .await
            .map_err(query_error("cannot set the session for introspection"))
    };
    // All sent at once: tokio-postgres pipelines them on the connection, so
    // the server runs one after the other without waiting for a round trip
    // in between, and the rows of one are decoded while the next runs.
    let reads = indexes.iter().map(|&i| {
        let (name, sql) = &QUERIES[i];
        async move {
            match *name {
                "columns" => decoded(client, name, sql, build::column_row)
                    .await
                    .map(Fetched::Columns),
                "dependencies" => decoded(client, name, sql, deps::read).await.map(|mut rows: Vec<_>| {
                    // Grown by doubling: up to twice its rows (~8 MiB of them
                    // at 5,000 tables), held until the dependencies are built.
                    rows.shrink_to_fit();
                    Fetched::Dependencies(rows)
                }),
                _ => client
                    .query(sql.as_str(), &[])
                    .await
                    .map(|rows| Fetched::Rows(name, rows))
                    .map_err(query_error(format!("cannot read {name}"))),
            }
        }
    });
    // Each query is prepared (a round trip) before it runs, so the setting
    // back can only be sent once they have all answered.
    let (_, fetched) =
        futures_util::future::try_join(session(WHOLE_READ_JOINS), futures_util::future::try_join_all(reads)).await?;
    session(JOINS_AGAIN).await?;
    Ok(fetched)
}

/// The rows of query `name`, each decoded by `decode` as it arrives and
/// added to a `C` (a list, or the columns by relation).
async fn decoded<T, C: Default + Extend<T>>(
    client: &impl GenericClient,
    name: &str,
    sql: &str,
    decode: fn(&Row) -> Result<T, DbError>,
) -> Result<C, DbError> {
    use futures_util::TryStreamExt;
    let fail = || query_error(format!("cannot read {name}"));
    let rows = client
        .query_raw(sql, std::iter::empty::<&(dyn tokio_postgres::types::ToSql + Sync)>())
        .await
        .map_err(fail())?;
    let mut rows = std::pin::pin!(rows);
    let mut decoded = C::default();
    while let Some(row) = rows.try_next().await.map_err(fail())? {
        decoded.extend(Some(decode(&row)?));
    }
    Ok(decoded)
}

/// The snapshot from every query's rows.
fn assemble(fetched: Vec<Fetched>, server: ServerFacts) -> Result<Snapshot, DbError> {
    let mut rows = Rows::default();
    let (mut columns, mut dependency_rows) = (build::ColumnsByRelation::default(), Vec::new());
    for f in fetched {
        match f {
            Fetched::Rows(name, r) => {
                rows.by_name.insert(name, r);
            }
            Fetched::Columns(c) => columns = c,
            Fetched::Dependencies(d) => dependency_rows = d,
        }
    }
    let started = std::time::Instant::now();
    // The columns are put in order on another thread while this one builds
    // the other objects.
    let built = std::thread::scope(|scope| {
        let columns = scope.spawn(move || columns.finish());
        build::catalog(&mut rows, &server.role, || {
            Ok(columns.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        })
    });
    let (catalog, oids) = built?;
    crate::timings::record("introspection: build: objects", started);
    let stats = stats::table_stats(rows.get("table statistics"))?;
    // Freeing the rows left (the big queries' were freed as they were
    // built) and, after the dependencies, some 100,000 OID entries takes
    // time that nothing waits for: done on the side (if no thread can be
    // had, the refused closure drops them here). The rows go before the
    // dependencies are built, which is when the most is held.
    let _ = std::thread::Builder::new().spawn(move || drop(rows));
    let started = std::time::Instant::now();
    let deps = deps::dependencies(dependency_rows, &oids, &catalog)?;
    crate::timings::record("introspection: build: dependencies", started);
    let _ = std::thread::Builder::new().spawn(move || drop(oids));
    Ok(Snapshot {
        catalog,
        deps,
        server_version: server.version,
        role: server.role,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_all_expanded() {
        for (name, sql) in QUERIES.iter() {
            assert!(!sql.contains("{{"), "unexpanded placeholder in {name}:\n{sql}");
        }
    }
}
