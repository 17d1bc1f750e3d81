//! Introspection composes the definition of the commonest indexes itself
//! (pg_get_indexdef is the most expensive call of a big read): whatever it
//! composes must be, to the byte, what the server prints.

use converge::catalog::Snapshot;
use converge::db::Endpoint;
use std::collections::HashMap;

/// Compares every index definition of `snapshot` (read from `db`) with
/// `pg_get_indexdef` under the empty `search_path` introspection uses;
/// returns how many were compared.
pub async fn index_definitions_match(db: &Endpoint, snapshot: &Snapshot) -> Result<usize, String> {
    let client = db.connect().await.map_err(|e| e.to_string())?;
    client
        .batch_execute("SET search_path = ''")
        .await
        .map_err(|e| e.to_string())?;
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text, pg_catalog.pg_get_indexdef(c.oid) \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('i', 'I')",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    let printed: HashMap<(String, String), String> = rows.iter().map(|r| ((r.get(0), r.get(1)), r.get(2))).collect();
    let mut differ = Vec::new();
    for (name, index) in &snapshot.catalog.indexes {
        match printed.get(&(name.schema.clone(), name.name.clone())) {
            Some(server) if *server == index.definition => {}
            Some(server) => differ.push(format!(
                "{name}:\n  introspection: {}\n  pg_get_indexdef: {server}",
                index.definition
            )),
            None => differ.push(format!("{name}: no such index in the database")),
        }
    }
    if differ.is_empty() {
        Ok(snapshot.catalog.indexes.len())
    } else {
        Err(format!(
            "index definitions differ from what the server prints:\n{}",
            differ.join("\n")
        ))
    }
}
