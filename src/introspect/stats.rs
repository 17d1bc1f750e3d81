//! Planner statistics of tables (`pg_class.reltuples`, `relpages`), read
//! with the catalog so that hazards can say how big the table they are about
//! is. They are estimates and go beside the catalog, never into it.

use crate::catalog::{QualifiedName, TableStats};
use crate::db::DbError;
use std::collections::BTreeMap;
use tokio_postgres::Row;

/// The rows of `table_stats.sql` by table.
pub(super) fn table_stats(rows: &[Row]) -> Result<BTreeMap<QualifiedName, TableStats>, DbError> {
    let bad = |e: tokio_postgres::Error| DbError::Query {
        context: "unexpected value in the table statistics query".into(),
        message: e.to_string(),
    };
    let mut out = BTreeMap::new();
    for r in rows {
        let schema: String = r.try_get(0).map_err(bad)?;
        let name: String = r.try_get(1).map_err(bad)?;
        let reltuples: f64 = r.try_get(2).map_err(bad)?;
        let bytes: i64 = r.try_get(3).map_err(bad)?;
        let stats = TableStats {
            rows: (reltuples >= 0.0).then_some(reltuples.round() as i64),
            bytes,
        };
        out.insert(QualifiedName::new(schema, name), stats);
    }
    Ok(out)
}
