//! The history table: what converge applied or rolled back, when, by whom,
//! from which files and plan, and what it did (or why it failed or was
//! refused). `status` and `rollback` read it back.

use crate::db::{DbError, query_error};
use tokio_postgres::GenericClient;

/// Creates the history table, or brings an older one up to date: its last
/// column added, compressed with lz4 where the server has it.
pub async fn ensure(client: &impl GenericClient) -> Result<(), DbError> {
    let current = client
        .query_opt(
            "SELECT 1 FROM pg_catalog.pg_attribute a, pg_catalog.pg_settings s \
             WHERE a.attrelid = pg_catalog.to_regclass('converge.history') AND a.attname = 'catalog_after_json' \
               AND s.name = 'default_toast_compression' \
               AND (a.attcompression = 'l' OR NOT 'lz4' = ANY (s.enumvals))",
            &[],
        )
        .await
        .map_err(query_error("cannot look for the history table converge.history"))?;
    if current.is_some() {
        return Ok(());
    }
    client
        .batch_execute(include_str!("history.sql"))
        .await
        .map_err(query_error("cannot create the history table converge.history"))
}

/// What a row records about the run itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Apply,
    /// The rollback of the apply with this id.
    Rollback {
        of: i64,
    },
}

/// One history row to write.
pub struct Entry<'a> {
    pub kind: Kind,
    pub started_at: std::time::SystemTime,
    pub duration: std::time::Duration,
    /// `applied`, `failed` or `refused`.
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    pub environment: Option<&'a str>,
    /// The plan directory applied, or None for a plan made by the same run.
    pub plan_source: Option<&'a str>,
    pub desired_files: &'a str,
    pub desired_catalog: &'a str,
    pub plan: &'a str,
    pub catalog_before: &'a str,
    pub catalog_after: Option<&'a str>,
    pub steps: i32,
    pub forward_sql: &'a str,
    pub rollback_sql: &'a str,
    pub plan_json: &'a str,
    pub catalog_after_json: Option<&'a str>,
    pub backup_path: Option<&'a str>,
    pub backup_sha256: Option<&'a str>,
}

/// Inserts a row and returns its id.
pub async fn record(client: &impl GenericClient, e: &Entry<'_>) -> Result<i64, DbError> {
    let os_user = std::env::var("USER").ok().or_else(|| std::env::var("LOGNAME").ok());
    let host = hostname();
    let (kind, rolls_back) = match e.kind {
        Kind::Apply => ("apply", None),
        Kind::Rollback { of } => ("rollback", Some(of)),
    };
    let duration_ms = e.duration.as_millis() as i64;
    let row = client
        .query_one(
            "INSERT INTO converge.history (started_at, outcome, error, os_user, host, converge_version, \
             desired_files_sha256, desired_catalog_sha256, plan_sha256, catalog_before_sha256, \
             catalog_after_sha256, steps, forward_sql, rollback_sql, kind, rolls_back, environment, \
             plan_source, duration_ms, backup_path, backup_sha256, plan_json, catalog_after_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
             $20, $21, $22, $23) RETURNING id",
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
                &kind,
                &rolls_back,
                &e.environment,
                &e.plan_source,
                &duration_ms,
                &e.backup_path,
                &e.backup_sha256,
                &e.plan_json,
                &e.catalog_after_json,
            ],
        )
        .await
        .map_err(query_error("cannot write the history row"))?;
    Ok(row.get(0))
}

/// A history row as `status` and `rollback` read it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    /// UTC, `2026-11-22 05:12:03Z`.
    pub started_at: String,
    pub kind: String,
    pub rolls_back: Option<i64>,
    pub outcome: String,
    pub error: Option<String>,
    pub db_user: String,
    pub os_user: Option<String>,
    pub host: Option<String>,
    pub environment: Option<String>,
    pub plan_source: Option<String>,
    pub steps: i32,
    pub duration_ms: Option<i64>,
    pub catalog_before_sha256: String,
    pub catalog_after_sha256: Option<String>,
    pub backup_path: Option<String>,
    /// The id of a later successful rollback of this apply, if any.
    pub rolled_back_by: Option<i64>,
}

const COLUMNS: &str = "h.id, to_char(h.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z', h.kind, \
     h.rolls_back, h.outcome, h.error, h.db_user, h.os_user, h.host, h.environment, h.plan_source, h.steps, \
     h.duration_ms, h.catalog_before_sha256, h.catalog_after_sha256, h.backup_path, \
     (SELECT max(r.id) FROM converge.history r \
      WHERE r.kind = 'rollback' AND r.outcome = 'applied' AND r.rolls_back = h.id)";

fn row(r: &tokio_postgres::Row) -> Row {
    Row {
        id: r.get(0),
        started_at: r.get(1),
        kind: r.get(2),
        rolls_back: r.get(3),
        outcome: r.get(4),
        error: r.get(5),
        db_user: r.get(6),
        os_user: r.get(7),
        host: r.get(8),
        environment: r.get(9),
        plan_source: r.get(10),
        steps: r.get(11),
        duration_ms: r.get(12),
        catalog_before_sha256: r.get(13),
        catalog_after_sha256: r.get(14),
        backup_path: r.get(15),
        rolled_back_by: r.get(16),
    }
}

/// Whether the target has a history table at all.
pub async fn exists(client: &impl GenericClient) -> Result<bool, DbError> {
    let row = client
        .query_one("SELECT pg_catalog.to_regclass('converge.history') IS NOT NULL", &[])
        .await
        .map_err(query_error("cannot look for the history table converge.history"))?;
    Ok(row.get(0))
}

/// The latest `limit` rows, newest first.
pub async fn recent(client: &impl GenericClient, limit: i64) -> Result<Vec<Row>, DbError> {
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM converge.history h ORDER BY h.id DESC LIMIT $1"),
            &[&limit],
        )
        .await
        .map_err(query_error("cannot read converge.history"))?;
    Ok(rows.iter().map(row).collect())
}

/// The row with this id.
pub async fn get(client: &impl GenericClient, id: i64) -> Result<Option<Row>, DbError> {
    let found = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM converge.history h WHERE h.id = $1"),
            &[&id],
        )
        .await
        .map_err(query_error("cannot read converge.history"))?;
    Ok(found.as_ref().map(row))
}

/// The last successful apply or rollback: the state converge last left the
/// target in.
pub async fn last_success(client: &impl GenericClient) -> Result<Option<Row>, DbError> {
    let found = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM converge.history h WHERE h.outcome = 'applied' ORDER BY h.id DESC LIMIT 1"),
            &[],
        )
        .await
        .map_err(query_error("cannot read converge.history"))?;
    Ok(found.as_ref().map(row))
}

/// The last successful apply that no successful rollback has undone.
pub async fn last_undoable(client: &impl GenericClient) -> Result<Option<Row>, DbError> {
    let found = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM converge.history h WHERE h.kind = 'apply' AND h.outcome = 'applied' \
                 AND NOT EXISTS (SELECT 1 FROM converge.history r WHERE r.kind = 'rollback' \
                 AND r.outcome = 'applied' AND r.rolls_back = h.id) ORDER BY h.id DESC LIMIT 1"
            ),
            &[],
        )
        .await
        .map_err(query_error("cannot read converge.history"))?;
    Ok(found.as_ref().map(row))
}

/// The stored plan document and after-catalog of a row.
pub async fn documents(client: &impl GenericClient, id: i64) -> Result<(Option<String>, Option<String>), DbError> {
    let r = client
        .query_one(
            "SELECT plan_json, catalog_after_json FROM converge.history WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(query_error("cannot read converge.history"))?;
    Ok((r.get(0), r.get(1)))
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
