//! Whether a database's catalog can have changed since it was read, known
//! without reading it again.
//!
//! Apply must start from the catalog its plan was made against, and read
//! it again inside its transaction to know (a second or more at 5,000
//! tables, most of an apply's own time). A live plan (`converge apply`) has
//! just read that catalog: if no catalog row has changed since, what it
//! read is the starting point. The server says whether one has, in one
//! cheap query (`queries/row_versions.sql`: the count of each catalog's rows
//! and a hash of their `xmin`, which every new row version changes), run in
//! the plan's read snapshot and again in the apply's transaction. Equal
//! digests mean the catalog reads the same; unequal ones only that it may
//! not, and the apply then reads it as before.

use crate::db::{DbError, query_error};
use std::sync::LazyLock;
use tokio_postgres::{GenericClient, Statement};

/// The digest of the versions of the catalog rows a read depends on, as
/// one snapshot saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowVersions(String);

impl RowVersions {
    /// The first 12 hex digits, for messages.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

/// The database-local catalogs whose rows are counted and hashed by their
/// `xmin` alone (`pg_index`, with its states, and the shared catalogs are
/// written out in the query).
const BY_XMIN: [&str; 28] = [
    "pg_aggregate",
    "pg_am",
    "pg_attrdef",
    "pg_attribute",
    "pg_cast",
    "pg_class",
    "pg_collation",
    "pg_constraint",
    "pg_default_acl",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_extension",
    "pg_inherits",
    "pg_language",
    "pg_namespace",
    "pg_opclass",
    "pg_operator",
    "pg_partitioned_table",
    "pg_policy",
    "pg_proc",
    "pg_range",
    "pg_rewrite",
    "pg_sequence",
    "pg_trigger",
    "pg_ts_config",
    "pg_ts_dict",
    "pg_type",
];

static QUERY: LazyLock<String> = LazyLock::new(|| {
    let by_xmin = BY_XMIN
        .iter()
        .map(|catalog| {
            format!(
                "SELECT '{catalog}', pg_catalog.count(*), \
                 pg_catalog.sum(pg_catalog.hashint8extended(x.xmin::text::bigint, 0)) FROM pg_catalog.{catalog} x"
            )
        })
        .collect::<Vec<_>>()
        .join("\n    UNION ALL\n    ");
    include_str!("queries/row_versions.sql").replace("{{row_versions}}", &by_xmin)
});

/// The statement of `read`'s query prepared on `client`, whose session a
/// whole read has set (`prepare_session`: JIT is off for its transaction),
/// for `read_prepared`.
pub async fn prepare(client: &impl GenericClient) -> Result<Statement, DbError> {
    client
        .prepare(QUERY.as_str())
        .await
        .map_err(query_error("cannot read the versions of the catalog's rows"))
}

/// `read`, with the statement `prepare` made: nothing but the query is
/// sent, so that its first poll sends it.
pub async fn read_prepared(client: &impl GenericClient, statement: &Statement) -> Result<RowVersions, DbError> {
    let context = "cannot read the versions of the catalog's rows";
    let row = client.query_one(statement, &[]).await.map_err(query_error(context))?;
    Ok(RowVersions(row.try_get(0).map_err(query_error(context))?))
}

/// The row versions as `client`'s transaction sees them (in a READ
/// COMMITTED transaction: as of this query). Without JIT: on a catalog of
/// some 30,000 tables the query's cost passes `jit_above_cost`, and
/// compiling would cost more than the query; the setting is put back to the
/// session's after it (an apply's steps run in that transaction).
pub async fn read(client: &impl GenericClient) -> Result<RowVersions, DbError> {
    let context = "cannot read the versions of the catalog's rows";
    client
        .batch_execute("SET LOCAL jit = off")
        .await
        .map_err(query_error(context))?;
    let versions = read_prepared(client, &prepare(client).await?).await?;
    client
        .batch_execute("SET LOCAL jit TO DEFAULT")
        .await
        .map_err(query_error(context))?;
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogs the query hashes otherwise.
    const BY_CONTENT: [&str; 3] = ["pg_index", "pg_roles", "pg_tablespace"];

    /// The catalogs a query names (`pg_catalog.pg_x` not followed by `(`,
    /// which calls a function).
    fn catalogs_named(sql: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = sql;
        while let Some(at) = rest.find("pg_catalog.pg_") {
            let name: String = rest[at + "pg_catalog.".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let after = rest[at + "pg_catalog.".len() + name.len()..].trim_start();
            if !after.starts_with('(') {
                found.push(name.clone());
            }
            rest = &rest[at + "pg_catalog.".len() + name.len()..];
        }
        found
    }

    #[test]
    fn every_catalog_a_read_queries_is_versioned() {
        // Read for other reasons than the catalog's content: the locks of
        // the current transaction and the current database's OID (what a
        // transaction changed, `changes`).
        let not_content = ["pg_locks", "pg_database"];
        let mut queries: Vec<(&str, String)> = super::super::QUERIES
            .iter()
            .map(|(name, sql)| (*name, sql.clone()))
            .collect();
        queries.push((
            "acl",
            super::super::expand("{{acl:c.relacl:r:c.relowner}}", super::super::Read::All),
        ));
        for (name, sql) in queries {
            for catalog in catalogs_named(&sql) {
                assert!(
                    BY_XMIN.contains(&catalog.as_str())
                        || BY_CONTENT.contains(&catalog.as_str())
                        || not_content.contains(&catalog.as_str()),
                    "the {name} query reads {catalog}, which queries/row_versions.sql does not cover: add it to BY_XMIN"
                );
            }
        }
    }

    #[test]
    fn the_scan_finds_catalogs_and_skips_functions() {
        assert_eq!(
            catalogs_named("FROM pg_catalog.pg_class c, pg_catalog.pg_get_expr (x) JOIN pg_catalog.pg_ts_dict d"),
            ["pg_class", "pg_ts_dict"]
        );
    }

    #[test]
    fn the_query_names_each_catalog_once() {
        for catalog in BY_XMIN.iter().chain(&BY_CONTENT) {
            assert_eq!(
                QUERY.matches(&format!("FROM pg_catalog.{catalog} x")).count(),
                1,
                "{catalog}"
            );
        }
        assert!(!QUERY.contains("{{"));
    }
}
