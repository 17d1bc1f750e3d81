//! Running desired statements in a shadow database with few round trips,
//! while still reporting a refused statement at its file and line.
//!
//! Statements go to the server in batches: one simple-query message holding
//! many statements, which PostgreSQL runs as one implicit transaction. When a
//! batch fails, PostgreSQL has rolled all of it back, so the batch is run
//! again one statement at a time (each in its own transaction, as a psql
//! script would run them): the statement the server refuses then is reported
//! with the server's own message and position, exactly as if every statement
//! had been sent alone. A batch can also fail where single statements do not
//! (a label added to an enum type cannot be used in the transaction that added
//! it); that re-run succeeds and the load goes on.

use super::ShadowError;
use crate::db::query_error;
use crate::diagnostic::{Code, Diagnostic, Span, char_to_byte};
use crate::source::{Desired, Statement};
use tokio_postgres::Client;

/// Statements per batch: past a few hundred, a bigger transaction saves no
/// more round-trip or commit time (measured: see the README's benchmark).
const BATCH_STATEMENTS: usize = 200;

/// Bytes of SQL per batch, so a file of huge function bodies is not sent
/// as one message.
const BATCH_BYTES: usize = 256 * 1024;

/// The session settings every shadow load runs with: no notices, function
/// bodies not checked (they may use objects created after them), and
/// unqualified names in `public`, as `source::classify` resolves them.
pub const SESSION_SETTINGS: &str =
    "SET client_min_messages = warning; SET check_function_bodies = off; SET search_path = public";

/// Prepares a connection to a shadow database for loading statements.
pub async fn prepare(client: &Client) -> Result<(), ShadowError> {
    client
        .batch_execute(SESSION_SETTINGS)
        .await
        .map_err(query_error("cannot prepare the shadow database"))?;
    Ok(())
}

/// Runs `statements` (in the order given) on a prepared connection; the first
/// one PostgreSQL refuses becomes a diagnostic at its file and line.
pub async fn run_statements(client: &Client, desired: &Desired, statements: &[&Statement]) -> Result<(), ShadowError> {
    for batch in batches(statements) {
        if batch.len() > 1 {
            let sql = batch_sql(desired, batch);
            match client.batch_execute(&sql).await {
                Ok(()) => continue,
                // Refused: nothing of the batch is left; find the statement.
                Err(e) if e.as_db_error().is_some() => {}
                Err(e) => return Err(query_error("the shadow database failed")(e).into()),
            }
        }
        for stmt in batch {
            run_one(client, desired, stmt).await?;
        }
    }
    Ok(())
}

/// Runs `statements` inside the transaction the connection has open. A
/// refused statement aborts the transaction, so there is no running again
/// one by one: the error is the server's, without a source location (the
/// caller falls back to a load that reports it at its file and line).
pub async fn run_statements_in_transaction(
    client: &Client,
    desired: &Desired,
    statements: &[&Statement],
) -> Result<(), ShadowError> {
    for batch in batches(statements) {
        client
            .batch_execute(&batch_sql(desired, batch))
            .await
            .map_err(query_error("the shadow database refused a statement"))?;
    }
    Ok(())
}

/// Consecutive runs of statements, each within both batch limits.
fn batches<'s, 'a>(statements: &'s [&'a Statement]) -> Vec<&'s [&'a Statement]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, stmt) in statements.iter().enumerate() {
        let len = stmt.end - stmt.start;
        if i > start && (i - start >= BATCH_STATEMENTS || bytes + len > BATCH_BYTES) {
            out.push(&statements[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += len;
    }
    if start < statements.len() {
        out.push(&statements[start..]);
    }
    out
}

/// The statements of a batch as one script. Each ends with a newline before
/// its semicolon, so a trailing `--` comment cannot swallow the separator.
fn batch_sql(desired: &Desired, batch: &[&Statement]) -> String {
    let mut sql = String::with_capacity(batch.iter().map(|s| s.end - s.start + 3).sum());
    for stmt in batch {
        sql.push_str(desired.sql(stmt));
        sql.push_str("\n;\n");
    }
    sql
}

/// Runs one statement on its own; a refusal becomes a diagnostic.
async fn run_one(client: &Client, desired: &Desired, stmt: &Statement) -> Result<(), ShadowError> {
    let sql = desired.sql(stmt);
    let Err(e) = client.batch_execute(sql).await else {
        return Ok(());
    };
    let Some(db) = e.as_db_error() else {
        return Err(query_error("the shadow database failed")(e).into());
    };
    let file = &desired.sources.files[stmt.file];
    let mut span = desired.span(stmt);
    if db.position().is_none() {
        // No position: point at the name the message is about
        // (`relation "coupons" does not exist`), when the statement has it.
        if let Some(at) = quoted_name(db.message()).and_then(|name| find_word(sql, name)) {
            let start = stmt.start + at;
            span = Span {
                path: file.path.clone(),
                start,
                end: start + quoted_name(db.message()).map(str::len).unwrap_or(1),
            };
        }
    }
    if let Some(tokio_postgres::error::ErrorPosition::Original(pos)) = db.position() {
        let at = stmt.start + char_to_byte(sql, (*pos as usize).saturating_sub(1));
        let end = file.text[at..stmt.end]
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ')' | '('))
            .map(|i| at + i.max(1))
            .unwrap_or(stmt.end);
        span = Span {
            path: file.path.clone(),
            start: at,
            end: end.max(at + 1).min(file.text.len()),
        };
    }
    let mut d = Diagnostic::new(
        Code::ShadowLoad,
        format!("PostgreSQL rejects this statement: {}", db.message()),
    )
    .at(span, "rejected here");
    if let Some(detail) = db.detail() {
        d = d.note(detail.to_string());
    }
    d = d.help(
        db.hint()
            .map(str::to_string)
            .unwrap_or_else(|| "fix the statement; the desired files must load into an empty database".to_string()),
    );
    Err(ShadowError::Load(Box::new(d)))
}

/// The first `"quoted"` name in a server message.
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    (len > 0).then(|| &message[start..start + len])
}

/// The byte offset of `word` in `sql` as a whole word, ignoring case, skipping
/// the statement's first line (the object being created is named there).
fn find_word(sql: &str, word: &str) -> Option<usize> {
    let lower = sql.to_lowercase();
    let word = word.to_lowercase();
    if lower.len() != sql.len() {
        return None;
    }
    let first_line_end = sql.find('\n').unwrap_or(0);
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    lower.match_indices(&word).map(|(i, _)| i).find(|&i| {
        i > first_line_end
            && !is_word(lower[..i].chars().next_back())
            && !is_word(lower[i + word.len()..].chars().next())
    })
}
