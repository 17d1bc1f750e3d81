//! Backups of the data a plan is about to destroy, taken with `pg_dump`
//! before applying (`apply --backup DIR`).
//!
//! Only what the data-loss steps touch is dumped: the tables they drop or
//! whose columns they drop or narrow, the tables of a dropped schema, the
//! tables with a column of a dropped or changed type, and dropped sequences.
//! The dump is data only, in pg_dump's custom format, restorable with
//! `pg_restore --data-only`; its path and sha256 go into the history row.

use crate::catalog::{Catalog, Fingerprint, QualifiedName};
use crate::db::Endpoint;
use crate::plan::HazardKind;
use crate::render::PlanDocument;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot create the backup directory {}: {source}", .dir.display())]
    Dir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run pg_dump ({program}): {source}; install the PostgreSQL client programs or drop --backup")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("pg_dump failed, nothing was applied: {0}")]
    Dump(String),
    #[error("cannot read the backup {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A finished backup.
#[derive(Debug, Clone)]
pub struct Backup {
    pub path: PathBuf,
    pub sha256: Fingerprint,
    /// The relations dumped, `schema.name`.
    pub relations: Vec<String>,
    pub bytes: u64,
}

/// The tables and sequences whose data the plan's data-loss steps destroy,
/// as they are in `current`.
pub fn relations_at_risk(document: &PlanDocument, current: &Catalog) -> Vec<QualifiedName> {
    let mut out = BTreeSet::new();
    for step in document.steps.iter().filter(|s| s.has_hazard(HazardKind::DataLoss)) {
        let name = step.object.name.as_str();
        match step.object.kind.as_str() {
            "table" => out.extend(current.tables.keys().filter(|k| k.to_string() == name).cloned()),
            "column" | "constraint" => out.extend(
                current
                    .tables
                    .keys()
                    .filter(|k| {
                        name.strip_prefix(&k.to_string())
                            .is_some_and(|rest| rest.starts_with('.'))
                    })
                    .cloned(),
            ),
            "schema" => {
                out.extend(current.tables.keys().filter(|k| k.schema == name).cloned());
                out.extend(current.sequences.keys().filter(|k| k.schema == name).cloned());
            }
            "type" => out.extend(
                current
                    .tables
                    .iter()
                    .filter(|(_, t)| t.columns.iter().any(|c| mentions_type(&c.data_type, name)))
                    .map(|(k, _)| k.clone()),
            ),
            "sequence" => out.extend(current.sequences.keys().filter(|k| k.to_string() == name).cloned()),
            _ => {}
        }
    }
    out.into_iter().collect()
}

/// Whether a column type (`public.mood`, `mood[]`) is the type `name`
/// (`public.mood`).
fn mentions_type(data_type: &str, name: &str) -> bool {
    let base = data_type.trim_end_matches("[]");
    base == name
        || name
            .split_once('.')
            .is_some_and(|(schema, n)| schema == "public" && base == n)
}

/// Dumps the data of `relations` from `target` into a new file under `dir`.
pub async fn take(target: &Endpoint, relations: &[QualifiedName], dir: &Path) -> Result<Backup, BackupError> {
    std::fs::create_dir_all(dir).map_err(|source| BackupError::Dir {
        dir: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(format!("converge-{}-{}.dump", target.dbname(), utc_stamp()));
    let program = pg_dump();
    let mut command = tokio::process::Command::new(&program);
    command
        .arg("--data-only")
        .arg("--format=custom")
        .arg("--no-password")
        .arg("--file")
        .arg(&path);
    for r in relations {
        command.arg("--table").arg(pattern(r));
    }
    for (key, value) in target.libpq_env() {
        command.env(key, value);
    }
    command.env_remove("PGSERVICE");
    let output = command.output().await.map_err(|source| BackupError::Spawn {
        program: program.display().to_string(),
        source,
    })?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&path);
        let message = String::from_utf8_lossy(&output.stderr).trim().replace('\n', "; ");
        return Err(BackupError::Dump(message));
    }
    let bytes = std::fs::read(&path).map_err(|source| BackupError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(Backup {
        sha256: Fingerprint::of_bytes(&bytes),
        bytes: bytes.len() as u64,
        path,
        relations: relations.iter().map(|r| r.to_string()).collect(),
    })
}

/// pg_dump's `--table` pattern matching exactly this relation.
fn pattern(name: &QualifiedName) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    format!("{}.{}", quote(&name.schema), quote(&name.name))
}

/// pg_dump next to the server binaries converge uses, else on PATH.
fn pg_dump() -> PathBuf {
    crate::cluster::find_bin_dir()
        .map(|dir| dir.join("pg_dump"))
        .ok()
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("pg_dump"))
}

/// The current UTC time as `20261130T013502Z`, for file names.
fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_quote_exactly() {
        let name = QualifiedName {
            schema: "Sales".into(),
            name: "order\"s".into(),
        };
        assert_eq!(pattern(&name), "\"Sales\".\"order\"\"s\"");
    }

    #[test]
    fn types_match_with_and_without_schema() {
        assert!(mentions_type("public.mood[]", "public.mood"));
        assert!(mentions_type("mood", "public.mood"));
        assert!(!mentions_type("moody", "public.mood"));
    }

    #[test]
    fn stamp_has_the_shape_of_a_utc_time() {
        let s = utc_stamp();
        assert_eq!(s.len(), 16);
        assert!(s.ends_with('Z') && s.as_bytes()[8] == b'T');
        assert!(s.starts_with("20"));
    }
}
