//! converge's dump of a database, written to files, planned against the
//! same database: the plan must be empty.

use converge::catalog::Snapshot;
use converge::dump::{DumpFile, DumpOptions, dump};
use converge::pipeline::{Options, plan_snapshots, read_desired};
use converge::render::forward_sql;
use converge::shadow::Janitor;
use converge::source::{Desired, SourceMap};

/// The dump of the database read as `snapshot`, written into a new
/// temporary directory.
pub fn to_dir(snapshot: &Snapshot, options: &DumpOptions) -> Result<(Vec<DumpFile>, tempfile::TempDir), String> {
    let files = dump(snapshot, options).map_err(|e| format!("dump: {e}"))?;
    let dir = tempfile::Builder::new()
        .prefix("converge-dump-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    converge::dump::write(&files, dir.path(), false).map_err(|e| format!("write: {e}"))?;
    Ok((files, dir))
}

/// Dumps the database read as `snapshot` and plans it against the dump (the
/// dumped files loaded into a shadow database): the plan must be empty.
/// Returns the dumped files.
pub async fn plans_empty(snapshot: &Snapshot, manage_owners: bool) -> Result<Vec<DumpFile>, String> {
    let (files, dir) = to_dir(snapshot, &DumpOptions { owners: manage_owners })?;
    let desired = Desired::load(&[dir.path().to_path_buf()])
        .map_err(|d| format!("the dumped files are rejected: {d:?}\n\n{}", show(&files)))?;
    let janitor = Janitor::default();
    let read = read_desired(&desired, &super::admin(), &janitor).await;
    janitor.cleanup().await;
    let options = Options {
        manage_owners,
        ..Default::default()
    };
    let planned = read
        .and_then(|dumped| {
            plan_snapshots(
                &SourceMap::of(&desired),
                dumped,
                snapshot.clone(),
                &Default::default(),
                &options,
            )
        })
        .map_err(|e| format!("planning against the dump failed: {e:?}\n\n{}", show(&files)))?;
    if !planned.plan.is_empty() {
        return Err(format!(
            "the plan against the dump is not empty:\n{}\n\ndumped files:\n{}",
            forward_sql(&planned.plan),
            show(&files)
        ));
    }
    Ok(files)
}

/// The files, each under a header with its path.
pub fn show(files: &[DumpFile]) -> String {
    files
        .iter()
        .map(|f| format!("==> {} <==\n{}", f.path.display(), f.text))
        .collect::<Vec<_>>()
        .join("\n")
}
