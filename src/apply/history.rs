//! The history table: what converge applied, when, by whom, from which files,
//! and what it did (or why it failed).

use crate::db::{DbError, query_error};
use tokio_postgres::GenericClient;

/// Creates the history table if it is missing.
pub async fn ensure(client: &impl GenericClient) -> Result<(), DbError> {
    client
        .batch_execute(include_str!("history.sql"))
        .await
        .map_err(query_error("cannot create the history table converge.history"))
}

/// One history row.
pub struct Entry<'a> {
    pub started_at: std::time::SystemTime,
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    pub desired_files: &'a str,
    pub desired_catalog: &'a str,
    pub plan: &'a str,
    pub catalog_before: &'a str,
    pub catalog_after: Option<&'a str>,
    pub steps: i32,
    pub forward_sql: &'a str,
    pub rollback_sql: &'a str,
}

/// Inserts a row and returns its id.
pub async fn record(client: &impl GenericClient, e: &Entry<'_>) -> Result<i64, DbError> {
    let os_user = std::env::var("USER").ok();
    let host = hostname();
    let row = client
        .query_one(
            "INSERT INTO converge.history (started_at, outcome, error, os_user, host, converge_version, \
             desired_files_sha256, desired_catalog_sha256, plan_sha256, catalog_before_sha256, \
             catalog_after_sha256, steps, forward_sql, rollback_sql) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            &[
                &e.started_at,
                &e.outcome,
                &e.error,
                &os_user,
                &host,
                &env!("CARGO_PKG_VERSION"),
                &e.desired_files,
                &e.desired_catalog,
                &e.plan,
                &e.catalog_before,
                &e.catalog_after,
                &e.steps,
                &e.forward_sql,
                &e.rollback_sql,
            ],
        )
        .await
        .map_err(query_error("cannot write the history row"))?;
    Ok(row.get(0))
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
