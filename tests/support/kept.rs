//! A kept shadow database of its own for one test case, and the comparison
//! of what an incremental update gives with what a full load gives.

use converge::catalog::Snapshot;
use converge::shadow::{Janitor, KEPT_PREFIX, Kept, Obtained};
use converge::source::Desired;
use std::sync::atomic::{AtomicUsize, Ordering};

static CASES: AtomicUsize = AtomicUsize::new(0);

/// A kept shadow database with its record in a temporary directory; always
/// updated incrementally when it can be. `drop` removes the database.
pub struct KeptCase {
    pub kept: Kept,
    dbname: String,
    _record_dir: tempfile::TempDir,
}

impl KeptCase {
    pub fn new() -> KeptCase {
        let n = CASES.fetch_add(1, Ordering::SeqCst);
        let dbname = format!("{KEPT_PREFIX}test_{}_{n}", std::process::id());
        let record_dir = tempfile::tempdir().expect("a directory for the shadow record");
        let kept = Kept::new(&super::admin(), &dbname, &record_dir.path().join("record.json")).always_incremental();
        KeptCase {
            kept,
            dbname,
            _record_dir: record_dir,
        }
    }

    /// Loads `desired` into a fresh kept database, the start of a case.
    pub async fn prime(&self, desired: &Desired) -> Result<(), String> {
        self.kept
            .prime(desired, &Janitor::default())
            .await
            .map_err(|e| e.to_string())
    }

    /// Brings the kept database to `new` and reads it back.
    pub async fn update(&self, label: &str, new: &Desired) -> Result<(Snapshot, Obtained), String> {
        self.kept
            .desired_snapshot(new, &Janitor::default())
            .await
            .map_err(|e| format!("{label}: the kept shadow fails: {e}"))
    }

    pub async fn drop(&self) {
        super::drop_db(&super::endpoint(&self.dbname)).await;
    }
}

/// The catalog and dependencies of an incrementally updated shadow
/// (`incremental`, obtained `how`) equal those of a full load.
pub fn same(label: &str, incremental: &Snapshot, full: &Snapshot, how: &Obtained) -> Result<(), String> {
    if !incremental.catalog.same_as(&full.catalog) {
        return Err(format!(
            "{label}: the kept shadow ({how:?}) differs from a full load:\n{}",
            converge::apply::differences(&incremental.catalog, &full.catalog)
        ));
    }
    if incremental.deps != full.deps {
        let only = |a: &Snapshot, b: &Snapshot| {
            let theirs: std::collections::HashSet<_> = b.deps.iter().collect();
            a.deps
                .iter()
                .filter(|e| !theirs.contains(e))
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join("\n  ")
        };
        return Err(format!(
            "{label}: the kept shadow ({how:?}) has other dependencies than a full load:\n\
             only incremental:\n  {}\nonly full:\n  {}",
            only(incremental, full),
            only(full, incremental)
        ));
    }
    Ok(())
}
