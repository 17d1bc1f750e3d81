//! The convergence test, once per fixture under `fixtures/<group>/<case>/`
//! (every group but `errors/`):
//!
//! 1. load old.sql (and data.sql) into a fresh database, plan towards new.sql;
//! 2. plan a second time from the same inputs: the SQL must be byte-identical;
//!    the desired catalog read back from the desired-catalog cache must equal
//!    the one the shadow gave;
//! 3. apply, starting from the plan's own read of the target (its catalog
//!    rows have not changed since: the apply must see that and not read it
//!    again);
//! 4. (a) the result equals a database built from new.sql directly, both by
//!    converge's catalog and by an independent canonical dump;
//! 5. (b) a second plan is empty;
//! 6. (c) the rollback SQL, run in one transaction, gives back old.sql's
//!    catalog;
//! 7. the forward and rollback SQL match the reviewed insta snapshot;
//! 8. the kept shadow database, loaded with old.sql and brought to new.sql
//!    incrementally, reads back the catalog and dependencies of the full
//!    load of step 1 (a case the kept shadow must load in full is counted,
//!    and most cases must go incremental);
//! 9. converge's dump of the database built from new.sql, planned against
//!    it, gives an empty plan.
//!
//! Contract of a case folder: old.sql and new.sql load in file order (new.sql
//! may be out of order when the case has reference.sql, its loadable
//! equivalent); data.sql, if present, is run after old.sql.

mod support;

use converge::catalog::Snapshot;
use converge::pipeline::{TargetRead, plan_snapshots, read_desired, read_target, read_target_for, uncastable_types};
use converge::plan::Allowed;
use converge::render::{forward_sql, rollback_sql};
use converge::shadow::{Janitor, Obtained, Reread};
use converge::source::{Desired, SourceMap, Sources};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cases whose kept shadow went incremental, and those it loaded in full.
static INCREMENTAL: AtomicUsize = AtomicUsize::new(0);
static FULL_LOADS: AtomicUsize = AtomicUsize::new(0);
/// Incremental cases whose snapshot was read as what the update changed,
/// merged into the snapshot before it (not read in full).
static READ_CHANGES: AtomicUsize = AtomicUsize::new(0);
/// Index definitions compared with the server's `pg_get_indexdef`.
static INDEX_DEFINITIONS: AtomicUsize = AtomicUsize::new(0);
/// Plans whose end state apply's read found as what its transaction
/// changed (not as a whole read), and those it read whole.
static END_CHANGES: AtomicUsize = AtomicUsize::new(0);
static END_WHOLE: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let args = Arguments::from_args();
    let cases = cases();
    // Every case's roles exist before any case runs: a role created while
    // another case is between its plan and its apply changes a row the
    // apply's check of its starting point counts (`pg_roles`), and that
    // case would read its target again (step 3).
    let roles: Vec<String> = cases.iter().flat_map(|dir| roles_of(dir)).collect();
    if let Err(e) = support::runtime().block_on(support::create_roles(&roles)) {
        eprintln!("error: cannot create the fixtures' roles: {e}");
        std::process::exit(101);
    }
    let trials = cases
        .into_iter()
        .map(|dir| {
            let name = case_name(&dir);
            Trial::test(name, move || run_case(&dir))
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    let (incremental, full) = (INCREMENTAL.load(Ordering::SeqCst), FULL_LOADS.load(Ordering::SeqCst));
    let changes = READ_CHANGES.load(Ordering::SeqCst);
    eprintln!(
        "kept shadow: {incremental} case(s) updated incrementally ({changes} read as their changes), {full} loaded in full"
    );
    // A kept shadow that always loads in full would compare full loads with
    // full loads: on a whole run, most cases must go incremental.
    if incremental + full >= 100 && incremental < 4 * full {
        eprintln!(
            "error: too few cases went incremental ({incremental} of {})",
            incremental + full
        );
        std::process::exit(101);
    }
    // Likewise, reading only what an update changed must be what most
    // incremental cases compare (partitioning is read in full by design).
    if incremental >= 100 && changes * 5 < incremental * 4 {
        eprintln!("error: too few incremental cases were read as their changes ({changes} of {incremental})");
        std::process::exit(101);
    }
    let (end_changes, end_whole) = (END_CHANGES.load(Ordering::SeqCst), END_WHOLE.load(Ordering::SeqCst));
    eprintln!("apply's end state: {end_changes} plan(s) read as their changes, {end_whole} read whole");
    // Verifying from what the transaction changed must be what most plans
    // compare (a filter, partitioning and online steps are read whole).
    if incremental + full >= 100 && end_changes * 3 < (end_changes + end_whole) * 2 {
        eprintln!(
            "error: too few plans' end states were read as their changes ({end_changes} of {})",
            end_changes + end_whole
        );
        std::process::exit(101);
    }
    let compared = INDEX_DEFINITIONS.load(Ordering::SeqCst);
    eprintln!("index definitions compared with pg_get_indexdef: {compared}");
    if incremental + full >= 100 && compared < 100 {
        eprintln!("error: too few index definitions were compared ({compared})");
        std::process::exit(101);
    }
    conclusion.exit();
}

fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = Path::new("fixtures");
    let mut groups: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("fixtures/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "errors"))
        .collect();
    groups.sort();
    for group in groups {
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&group)
            .expect("read a fixture group")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        out.extend(cases);
    }
    out
}

fn case_name(dir: &Path) -> String {
    let case = dir.file_name().unwrap_or_default().to_string_lossy();
    let group = dir
        .parent()
        .and_then(|p| p.file_name())
        .unwrap_or_default()
        .to_string_lossy();
    format!("{group}/{case}")
}

/// The roles a case needs (its `roles.txt`, one per line).
fn roles_of(dir: &Path) -> Vec<String> {
    read(dir, "roles.txt")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

fn run_case(dir: &Path) -> Result<(), Failed> {
    let name = case_name(dir);
    let old = read(dir, "old.sql").ok_or_else(|| format!("{name}: every case needs old.sql (it may be empty)"))?;
    if read(dir, "new.sql").is_none() {
        return Err(
            format!("{name}: every case needs new.sql; cases that must fail belong under fixtures/errors/").into(),
        );
    }
    let reference = read(dir, "reference.sql")
        .or_else(|| read(dir, "new.sql"))
        .unwrap_or_default();
    let data = read(dir, "data.sql");
    let roles = roles_of(dir);
    let rt = support::runtime();
    let result = rt.block_on(async {
        support::create_roles(&roles).await?;
        let target = support::fresh_db(&format!("{name}_target")).await;
        let built = support::fresh_db(&format!("{name}_built")).await;
        let outcome = converge_case(dir, &name, &target, &built, &old, &reference, data.as_deref()).await;
        support::drop_db(&target).await;
        support::drop_db(&built).await;
        outcome
    });
    let (forward, rollback) = result.map_err(Failed::from)?;
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../fixtures/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(format!("forward and rollback SQL of fixtures/{name}"));
    settings.bind(|| {
        insta::assert_snapshot!(
            name.replace('/', "__"),
            format!("{forward}\n-- ======== rollback ========\n\n{rollback}")
        );
    });
    Ok(())
}

async fn converge_case(
    dir: &Path,
    name: &str,
    target: &converge::db::Endpoint,
    built: &converge::db::Endpoint,
    old: &str,
    reference: &str,
    data: Option<&str>,
) -> Result<(String, String), String> {
    support::load(target, old)
        .await
        .map_err(|e| format!("{name}: old.sql does not load: {e}"))?;
    if let Some(data) = data {
        support::load(target, data)
            .await
            .map_err(|e| format!("{name}: data.sql does not load: {e}"))?;
    }
    support::load(built, reference)
        .await
        .map_err(|e| format!("{name}: new.sql (or reference.sql) does not load in file order: {e}"))?;

    let case = case_options(dir)?;
    let options = converge::pipeline::Options {
        manage_owners: case.manage_owners,
        filter: converge::catalog::Filter {
            include_schemas: case.include_schemas,
            exclude_schemas: case.exclude_schemas,
            exclude_objects: case.exclude_objects,
        },
        online: false,
    };
    let janitor = Janitor::default();
    let desired =
        Desired::load(&[dir.join("new.sql")]).map_err(|d| format!("{name}: desired files rejected: {d:?}"))?;
    let source_map = SourceMap::of(&desired);
    let desired_snapshot = read_desired(&desired, &support::admin(), &janitor)
        .await
        .map_err(|e| format!("{name}: shadow: {e:?}"))?;
    cache_round_trip(&desired_snapshot, &source_map).map_err(|e| format!("{name}: {e}"))?;
    kept_shadow(name, old, &desired, &desired_snapshot).await?;
    let (before, before_rows): (Snapshot, _) = read_target_for(target, TargetRead::ToApply)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    parked_round_trip(&before).map_err(|e| format!("{name}: {e}"))?;
    let before_dump = support::canonical::dump(target).await?;

    let uncastable = uncastable_types(target, &before, &desired_snapshot)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let mut planned = plan_snapshots(
        &source_map,
        desired_snapshot.clone(),
        before.clone(),
        &uncastable,
        &options,
    )
    .map_err(|e| format!("{name}: {e}"))?;
    planned.current_rows = before_rows;
    let again = plan_snapshots(
        &source_map,
        desired_snapshot.clone(),
        before.clone(),
        &uncastable,
        &options,
    )
    .map_err(|e| format!("{name}: {e}"))?;
    let forward = forward_sql(&planned.plan);
    let rollback = rollback_sql(&planned.plan);
    if forward != forward_sql(&again.plan) || rollback != rollback_sql(&again.plan) {
        return Err(format!(
            "{name}: planning twice from the same inputs gave different SQL"
        ));
    }
    end_state_read(name, target, &planned).await?;
    let apply_options = converge::apply::ApplyOptions {
        allowed: Allowed::parse(&["all".into()]).unwrap_or_default(),
        record_history: true,
        ..Default::default()
    };
    let applied = converge::apply::apply(target, &planned, &apply_options)
        .await
        .map_err(|e| format!("{name}: apply failed: {e}\n\nforward SQL:\n{forward}"))?;
    if applied.start != converge::apply::StartingPoint::EarlierRead {
        return Err(format!(
            "{name}: the apply read its starting point again, though no catalog row changed since the plan read it"
        ));
    }

    // (a) the target now equals a database built from new.sql; with a
    // filter, in what the filter keeps, and everything else is untouched
    let after = read_target(target).await.map_err(|e| format!("{name}: {e}"))?;
    let built_snapshot = read_target(built).await.map_err(|e| format!("{name}: {e}"))?;
    let compared = support::printed::index_definitions_match(built, &built_snapshot)
        .await
        .map_err(|e| format!("{name}: the database built from new.sql: {e}"))?;
    INDEX_DEFINITIONS.fetch_add(compared, Ordering::SeqCst);
    support::dumped::plans_empty(&built_snapshot, case.manage_owners)
        .await
        .map_err(|e| format!("{name}: the dump of the database built from new.sql: {e}"))?;
    if !options.filter.is_empty() {
        let (kept_after, kept_built) = (
            after.catalog.filtered(&options.filter),
            built_snapshot.catalog.filtered(&options.filter),
        );
        if !kept_after.same_as(&kept_built) {
            return Err(format!(
                "{name}: after apply, the managed objects differ from new.sql's:\n{}",
                converge::apply::differences(&kept_after, &kept_built)
            ));
        }
        let kept_before = before.catalog.filtered(&options.filter).object_ids();
        let after_ids = after.catalog.object_ids();
        let lost: Vec<String> = before
            .catalog
            .object_ids()
            .into_iter()
            .filter(|id| !kept_before.contains(id) && !after_ids.contains(id))
            .map(|id| id.to_string())
            .collect();
        if !lost.is_empty() {
            return Err(format!(
                "{name}: apply touched objects outside the filter: {}",
                lost.join(", ")
            ));
        }
    } else if !after.catalog.same_as(&built_snapshot.catalog) {
        return Err(format!(
            "{name}: after apply, the catalog differs from one built from new.sql:\n{}",
            converge::apply::differences(&after.catalog, &built_snapshot.catalog)
        ));
    }
    let (after_dump, built_dump) = (
        support::canonical::dump(target).await?,
        support::canonical::dump(built).await?,
    );
    if options.filter.is_empty() && after_dump != built_dump {
        return Err(format!(
            "{name}: after apply, the canonical dump differs from one built from new.sql:\n{}",
            line_diff(&built_dump, &after_dump)
        ));
    }

    // (b) a second plan is empty
    let second = plan_snapshots(
        &source_map,
        desired_snapshot.clone(),
        after.clone(),
        &Default::default(),
        &options,
    )
    .map_err(|e| format!("{name}: {e}"))?;
    if !second.plan.is_empty() {
        return Err(format!(
            "{name}: the plan after apply is not empty:\n{}",
            forward_sql(&second.plan)
        ));
    }

    // (c) the rollback gives back old.sql's catalog
    support::run_in_transaction(target, &rollback)
        .await
        .map_err(|e| format!("{name}: rollback SQL failed: {e}\n\nrollback SQL:\n{rollback}"))?;
    let restored = read_target(target).await.map_err(|e| format!("{name}: {e}"))?;
    if !restored.catalog.same_as(&before.catalog) {
        return Err(format!(
            "{name}: after rollback, the catalog differs from old.sql's:\n{}",
            converge::apply::differences(&restored.catalog, &before.catalog)
        ));
    }
    let restored_dump = support::canonical::dump(target).await?;
    if restored_dump != before_dump {
        return Err(format!(
            "{name}: after rollback, the canonical dump differs from old.sql's:\n{}",
            line_diff(&before_dump, &restored_dump)
        ));
    }
    Ok((forward, rollback))
}

/// The kept shadow database loaded with old.sql, brought to `new`
/// incrementally, gives `full`, the snapshot of a full load of `new`.
async fn kept_shadow(name: &str, old: &str, new: &Desired, full: &Snapshot) -> Result<(), String> {
    let old = Desired::from_sources(Sources::from_texts([("old.sql".to_string(), old.to_string())]))
        .map_err(|d| format!("{name}: old.sql is refused as desired files: {d:?}"))?;
    let case = support::kept::KeptCase::new();
    let result = async {
        case.prime(&old)
            .await
            .map_err(|e| format!("{name}: old.sql does not load into the kept shadow: {e}"))?;
        let (incremental, how) = case.update(name, new).await?;
        match &how {
            Obtained::FullLoad { reason } => {
                eprintln!("{name}: the kept shadow loads in full ({reason})");
                FULL_LOADS.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            Obtained::Incremental { read, .. } => {
                INCREMENTAL.fetch_add(1, Ordering::SeqCst);
                match read {
                    Reread::Changes => {
                        READ_CHANGES.fetch_add(1, Ordering::SeqCst);
                    }
                    Reread::Whole { reason } => eprintln!("{name}: the kept shadow is read in full ({reason})"),
                }
                support::kept::same(name, &incremental, full, &how)
            }
        }
    }
    .await;
    case.drop().await;
    result
}

/// The desired catalog stored in the desired-catalog cache and read back is
/// the same: a warm plan must see exactly what a cold one saw.
fn cache_round_trip(snapshot: &Snapshot, source_map: &SourceMap) -> Result<(), String> {
    use converge::cache::{CacheKey, CachedDesired, DesiredCache};
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let cache = DesiredCache::new(dir.path());
    let key = CacheKey::new(source_map.fingerprint(), snapshot.server_version, &snapshot.role);
    let entry = CachedDesired {
        snapshot: snapshot.clone(),
        source_map: source_map.clone(),
    };
    cache.put(&key, &entry).map_err(|e| format!("cache write: {e}"))?;
    match cache.get(&key) {
        Some(read) if read == entry => Ok(()),
        Some(_) => Err("the desired catalog read back from the cache differs from the one stored".into()),
        None => Err("the desired catalog stored in the cache does not read back".into()),
    }
}

/// The target's snapshot encoded while a cold plan waits for its desired
/// state (`pipeline::parked`) decodes to the same snapshot, table statistics
/// included: the plan must see exactly what was read.
fn parked_round_trip(snapshot: &Snapshot) -> Result<(), String> {
    use converge::pipeline::parked::Parked;
    match Parked::park(snapshot.clone()) {
        Parked::Held(_) => Err("the target's snapshot could not be encoded to wait for the desired state".into()),
        parked => match parked.unpark() {
            Ok(read) if read == *snapshot => Ok(()),
            Ok(_) => Err("the target's snapshot, encoded and decoded, differs from the one read".into()),
            Err(e) => Err(format!("the target's snapshot, encoded, does not decode: {e}")),
        },
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaseOptions {
    #[serde(default)]
    manage_owners: bool,
    #[serde(default)]
    include_schemas: Vec<String>,
    #[serde(default)]
    exclude_schemas: Vec<String>,
    #[serde(default)]
    exclude_objects: Vec<String>,
}

/// `options.toml` of a case, if it has one.
fn case_options(dir: &Path) -> Result<CaseOptions, String> {
    match std::fs::read_to_string(dir.join("options.toml")) {
        Ok(text) => toml::from_str(&text).map_err(|e| format!("{}: options.toml: {e}", dir.display())),
        Err(_) => Ok(CaseOptions::default()),
    }
}

/// Lines only in `expected` (-) and only in `actual` (+).
fn line_diff(expected: &str, actual: &str) -> String {
    let e: std::collections::BTreeSet<&str> = expected.lines().collect();
    let a: std::collections::BTreeSet<&str> = actual.lines().collect();
    let mut out: Vec<String> = e.difference(&a).map(|l| format!("- {l}")).collect();
    out.extend(a.difference(&e).map(|l| format!("+ {l}")));
    out.join("\n")
}

/// Apply's read of its end state from what its transaction changed, merged
/// into its starting point (`apply::read_end`), equals a whole read in the
/// same transaction: the plan's steps are run as apply runs them, in a
/// transaction that is then rolled back. Plans with a step that cannot run
/// in a transaction are applied in groups and verified whole: skipped.
async fn end_state_read(
    name: &str,
    target: &converge::db::Endpoint,
    planned: &converge::pipeline::Planned,
) -> Result<(), String> {
    let document = planned.document();
    if document.steps.is_empty() || document.steps.iter().any(|s| !s.transactional) {
        return Ok(());
    }
    let fail = |what: &str| {
        let what = what.to_string();
        move |e: tokio_postgres::Error| format!("{name}: end state read: {what}: {e}")
    };
    let client = target.connect().await.map_err(|e| format!("{name}: {e}"))?;
    client.batch_execute("BEGIN").await.map_err(fail("begin"))?;
    let before = converge::apply::read_start(&client, target, &document.options)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    client
        .batch_execute(&converge::sql::settings_batch(&converge::sql::step_settings(), true))
        .await
        .map_err(fail("settings"))?;
    for statement in document.steps.iter().flat_map(|s| &s.forward) {
        client.batch_execute(statement).await.map_err(fail(statement))?;
    }
    let (end, read) = converge::apply::read_end(&client, Some(before), &document.options)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let (whole, _) = converge::apply::read_end(&client, None, &document.options)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    client.batch_execute("ROLLBACK").await.map_err(fail("rollback"))?;
    if !end.same_as(&whole) {
        return Err(format!(
            "{name}: apply's end state read from what its transaction changed ({read:?}) differs from a whole read:\n{}",
            converge::apply::differences(&end, &whole)
        ));
    }
    match read {
        converge::apply::EndRead::Changes => END_CHANGES.fetch_add(1, Ordering::SeqCst),
        converge::apply::EndRead::Whole(_) => END_WHOLE.fetch_add(1, Ordering::SeqCst),
    };
    Ok(())
}
