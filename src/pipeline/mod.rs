//! The planning pipeline end to end: desired files → shadow → both snapshots
//! → diff → plan. `plan` and `apply` both start here.

pub mod parked;

use crate::cache::{CacheKey, CachedDesired, DesiredCache};
use crate::catalog::{Fingerprint, Snapshot};
use crate::db::{DbError, Endpoint};
use crate::diagnostic::Diagnostic;
use crate::introspect::{RowVersions, introspect_endpoint, introspect_endpoint_versioned};
use crate::plan::{Plan, PlanError, Uncastable};
use crate::render::PlanFingerprints;
use crate::shadow::{Janitor, ShadowError, desired_snapshot};
use crate::source::{Desired, SourceMap, Sources};
use crate::timings;
use parked::Parked;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Problems in the desired files, each with its location.
    #[error("the desired schema has {} problem(s)", .0.len())]
    Source(Vec<Diagnostic>),
    #[error(transparent)]
    Shadow(#[from] ShadowError),
    #[error("cannot read the target: {0}")]
    Target(DbError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Work moved off the runtime's threads was cancelled: the process is
    /// shutting down.
    #[error("interrupted while {0}")]
    Interrupted(&'static str),
}

/// What a plan converges beyond the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Options {
    /// Converge object owners too (`ALTER ... OWNER TO`); otherwise owners
    /// are left as they are and ignored in every comparison.
    pub manage_owners: bool,
    /// The objects the project manages (all by default).
    pub filter: crate::catalog::Filter,
    /// The online strategy (`--online`): concurrent index builds, constraints
    /// added NOT VALID then validated, steps grouped into transactions (see
    /// `plan::online`). It changes how the plan gets to the desired state,
    /// never the state: both fingerprints mean the same with it or without.
    #[serde(default)]
    pub online: bool,
}

/// Everything a plan was made from. Both snapshots' catalogs are normalized
/// by the options (owners blanked unless managed).
pub struct Planned {
    pub desired_snapshot: Snapshot,
    pub current: Snapshot,
    /// The versions of the target's catalog rows when `current` was read,
    /// when the plan was made to be applied (`TargetRead::ToApply`): the
    /// apply then knows the target unchanged without reading it again.
    pub current_rows: Option<RowVersions>,
    pub plan: Plan,
    pub fingerprints: PlanFingerprints,
    pub options: Options,
}

impl Planned {
    /// The plan as `plan.json` writes it.
    pub fn document(&self) -> crate::render::PlanDocument {
        crate::render::PlanDocument::new(
            &self.plan,
            &self.fingerprints,
            self.current.server_version,
            &self.options,
        )
    }

    /// A catalog read later, normalized the way this plan's catalogs are.
    pub fn normalize(&self, catalog: crate::catalog::Catalog) -> crate::catalog::Catalog {
        normalize(catalog, &self.options)
    }
}

/// `catalog` as a plan made with `options` sees it: filtered, and without
/// owners unless they are managed. It works in place: a catalog of
/// thousands of tables is not copied.
pub fn normalize(mut catalog: crate::catalog::Catalog, options: &Options) -> crate::catalog::Catalog {
    catalog.retain_filtered(&options.filter);
    if !options.manage_owners {
        catalog.clear_owners();
    }
    catalog
}

/// The desired state, parsed or from the cache.
pub struct DesiredState {
    pub snapshot: Snapshot,
    pub source_map: SourceMap,
    /// The cache entry that holds this state, when there is one.
    pub entry: Option<CacheEntry>,
}

/// Where a desired state is cached: its key and the checksum of the
/// entry's body, which name the entry's recorded fingerprints.
pub struct CacheEntry {
    cache: DesiredCache,
    key: CacheKey,
    checksum: Fingerprint,
}

impl CacheEntry {
    /// How `options` normalize a catalog, as a key of the recorded
    /// fingerprints (the online strategy does not change the state).
    fn normalization(options: &Options) -> Option<String> {
        serde_json::to_string(&(&options.filter, options.manage_owners)).ok()
    }

    /// The fingerprint of this entry's catalog normalized by `options`, as
    /// a plan of this build recorded it.
    fn desired_fingerprint(&self, options: &Options) -> Option<Fingerprint> {
        self.cache
            .desired_fingerprint(&self.key, &self.checksum, &Self::normalization(options)?)
    }

    /// Records it; the plan does not need it, so a failure is only a warning.
    fn record_desired_fingerprint(&self, options: &Options, fingerprint: &Fingerprint) {
        if let Some(normalization) = Self::normalization(options) {
            let recorded = self
                .cache
                .put_desired_fingerprint(&self.key, &self.checksum, &normalization, fingerprint);
            report_store(&self.cache, recorded);
        }
    }
}

/// The server shadow databases go to. Its version and the role converge
/// uses there are part of the desired-catalog cache key; a plan from the
/// cache never needs the server itself, so a server that has to be started
/// first (the embedded one) is started only on a cache miss.
pub trait ShadowServer {
    /// `server_version_num` and the role, for the cache key.
    fn identity(&self) -> impl Future<Output = Result<(i32, String), ShadowError>>;
    /// The server's maintenance endpoint, started if need be.
    fn endpoint(&self) -> impl Future<Output = Result<Endpoint, ShadowError>>;
    /// Whether the server is converge's own (the embedded one), where the
    /// shadow database is kept and updated incrementally unless
    /// `CONVERGE_SHADOW_REUSE=off` (see `shadow::reuse`); on a `--dev-url`
    /// server, which others share, it is kept only when asked for.
    fn owned_by_converge(&self) -> bool {
        false
    }
}

/// A running server (`--dev-url`): both are asked of it.
impl ShadowServer for Endpoint {
    async fn identity(&self) -> Result<(i32, String), ShadowError> {
        let context = "cannot read the shadow server's version and role";
        let client = self.connect().await.map_err(ShadowError::Db)?;
        client
            .query_one(
                "SELECT pg_catalog.current_setting('server_version_num')::int, current_user::text",
                &[],
            )
            .await
            .and_then(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .map_err(|e| ShadowError::Db(crate::db::query_error(context)(e)))
    }

    async fn endpoint(&self) -> Result<Endpoint, ShadowError> {
        Ok(self.clone())
    }
}

/// Reads the desired state of `sources`: from the desired-catalog cache
/// (`crate::cache`) when it holds these files as read by this server's major
/// version and role, without parsing them; otherwise parses them (any
/// problem in them is reported as without a cache) and loads them into a
/// shadow database on `shadow_server`, and caches the result.
pub async fn read_desired_sources(
    sources: Sources,
    shadow_server: &impl ShadowServer,
    janitor: &Janitor,
) -> Result<DesiredState, PipelineError> {
    let (state, storing) = read_desired_sources_storing(sources, shadow_server, janitor).await?;
    storing.wait().await;
    Ok(state)
}

/// A cache entry being written on another thread (megabytes for thousands
/// of tables), while the caller plans with the state it holds.
#[must_use = "the entry must be waited for before the process ends"]
struct Storing(Option<tokio::task::JoinHandle<()>>);

impl Storing {
    async fn wait(self) {
        if let Some(task) = self.0 {
            // The write warns of its own failures; a panic there is a bug
            // that must not pass unseen.
            if let Err(e) = task.await
                && e.is_panic()
            {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// `read_desired_sources`, with the cache entry of a miss written while the
/// caller goes on.
async fn read_desired_sources_storing(
    sources: Sources,
    shadow_server: &impl ShadowServer,
    janitor: &Janitor,
) -> Result<(DesiredState, Storing), PipelineError> {
    let started = Instant::now();
    let cache = DesiredCache::from_env();
    let key = match &cache {
        // A server that cannot be asked is reported by the shadow load, after
        // the files are parsed (so their problems come first, as without a
        // cache).
        Some(_) => shadow_server
            .identity()
            .await
            .ok()
            .map(|(version, role)| CacheKey::new(sources.fingerprint(), version, &role)),
        None => None,
    };
    if let (Some(cache), Some(key)) = (&cache, &key) {
        // Reading a big entry is CPU work: off the threads that read the target.
        let hit = {
            let (cache, key) = (cache.clone(), key.clone());
            tokio::task::spawn_blocking(move || cache.get_checked(&key)).await
        };
        timings::record("desired state: cache lookup", started);
        if let Ok(Some((cached, checksum))) = hit {
            let state = DesiredState {
                snapshot: cached.snapshot,
                source_map: cached.source_map,
                entry: Some(CacheEntry {
                    cache: cache.clone(),
                    key: key.clone(),
                    checksum,
                }),
            };
            return Ok((state, Storing(None)));
        }
    }
    let started = Instant::now();
    // Statement texts parsed before are not parsed again.
    let known = cache.as_ref().map(DesiredCache::known_statements).unwrap_or_default();
    let (desired, learned) = Desired::from_sources_known(sources, known).map_err(PipelineError::Source)?;
    timings::record("desired state: parse", started);
    // What the parse learned is written on the side while the source map is
    // taken (and the shadow server started if it has to be): both need the
    // statements' classifications, which the shadow load then frees.
    let desired = std::sync::Arc::new(desired);
    let remember = cache.clone().map(|cache| {
        let desired = desired.clone();
        on_the_side("writing the parsed statements to the cache", move || {
            let started = Instant::now();
            // A write that fails only costs a full parse next time.
            if let Err(e) = cache.put_known_statements(&learned.view(&desired)) {
                eprintln!(
                    "warning: cannot write the parsed statements to the cache in {}: {e}",
                    cache.dir().display()
                );
            }
            timings::record("desired state: write the parsed statements", started);
        })
    });
    let started = Instant::now();
    let source_map = SourceMap::of(&desired);
    timings::record("desired state: source map", started);
    let server = shadow_server.endpoint().await?;
    if let Some(remember) = remember {
        remember.await?;
    }
    let started = Instant::now();
    // Given away: only its texts are kept for the load, and they go once
    // loaded, before the shadow is read back (`shadow::ToLoad`).
    let snapshot = shadow_snapshot(desired, &server, shadow_server.owned_by_converge(), janitor).await?;
    timings::record("desired state: shadow load and read", started);
    let mut state = DesiredState {
        snapshot,
        source_map,
        entry: None,
    };
    let storing = match (cache, key) {
        (Some(cache), Some(key)) => {
            let started = Instant::now();
            let encoded = CachedDesired::encode(&state.snapshot, &state.source_map);
            timings::record("desired state: encode the cache entry", started);
            match encoded {
                Ok(body) => {
                    let checksum = Fingerprint::of_bytes(&body);
                    state.entry = Some(CacheEntry {
                        cache: cache.clone(),
                        key: key.clone(),
                        checksum: checksum.clone(),
                    });
                    Storing(Some(tokio::task::spawn_blocking(move || {
                        let started = Instant::now();
                        report_store(&cache, cache.put_encoded(&key, body, checksum));
                        timings::record("desired state: cache store (while planning)", started);
                    })))
                }
                Err(e) => {
                    report_store(&cache, Err(e));
                    Storing(None)
                }
            }
        }
        _ => Storing(None),
    };
    Ok((state, storing))
}

/// Reads the desired state through a shadow database on `shadow_server`,
/// or from the desired-catalog cache (`crate::cache`) when it holds these
/// files as read by this server's major version and role.
pub async fn read_desired(
    desired: &Desired,
    shadow_server: &Endpoint,
    janitor: &Janitor,
) -> Result<Snapshot, PipelineError> {
    let cached = match DesiredCache::from_env() {
        Some(cache) => Some((
            cache_key(desired.fingerprint(), shadow_server)
                .await
                .map_err(PipelineError::Shadow)?,
            cache,
        )),
        None => None,
    };
    if let Some((key, cache)) = &cached
        && let Some(hit) = cache.get(key)
    {
        return Ok(hit.snapshot);
    }
    let snapshot = shadow_snapshot(desired, shadow_server, shadow_server.owned_by_converge(), janitor).await?;
    if let Some((key, cache)) = &cached {
        let entry = CachedDesired {
            snapshot: snapshot.clone(),
            source_map: SourceMap::of(desired),
        };
        store(cache, key, &entry);
    }
    Ok(snapshot)
}

async fn shadow_snapshot(
    desired: impl Into<crate::shadow::ToLoad<'_>>,
    shadow_server: &Endpoint,
    own_server: bool,
    janitor: &Janitor,
) -> Result<Snapshot, PipelineError> {
    let mut snapshot = desired_snapshot(shadow_server, desired, own_server, janitor)
        .await
        .map_err(|e| match e {
            ShadowError::Load(d) => PipelineError::Source(vec![*d]),
            other => PipelineError::Shadow(other),
        })?;
    // The shadow's table sizes mean nothing (hazards judge the target's),
    // and the cache does not keep them: a cold plan sees what a warm one does.
    snapshot.stats.clear();
    Ok(snapshot)
}

/// Writes a cache entry; the plan does not need the cache, so a failure is
/// only a warning.
fn store(cache: &DesiredCache, key: &CacheKey, entry: &CachedDesired) {
    report_store(cache, cache.put(key, entry));
}

/// Warns of a cache entry that could not be written.
fn report_store(cache: &DesiredCache, written: std::io::Result<()>) {
    if let Err(e) = written {
        eprintln!(
            "warning: cannot write the desired-catalog cache in {}: {e}",
            cache.dir().display()
        );
    }
}

/// The cache key of the files with fingerprint `files` on `shadow_server`
/// (its version and our role there).
async fn cache_key(files: Fingerprint, shadow_server: &Endpoint) -> Result<CacheKey, ShadowError> {
    let (version, role) = shadow_server.identity().await?;
    Ok(CacheKey::new(files, version, &role))
}

/// Reads the target database.
pub async fn read_target(target: &Endpoint) -> Result<Snapshot, PipelineError> {
    Ok(read_target_for(target, TargetRead::Catalog).await?.0)
}

/// What a plan reads of the target besides its catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetRead {
    /// The catalog alone: a plan to be shown or written.
    Catalog,
    /// The versions of its rows too (`introspect::RowVersions`, ~60 ms of
    /// the server's time at 5,000 tables, while converge builds the
    /// catalog from the rows): a read the apply that follows
    /// starts from (a plan to be applied now, a reviewed plan's checks),
    /// knowing the target unchanged without reading it again.
    ToApply,
}

/// Reads the target database, and the versions of its catalog's rows when
/// `read` asks for them.
pub async fn read_target_for(
    target: &Endpoint,
    read: TargetRead,
) -> Result<(Snapshot, Option<RowVersions>), PipelineError> {
    let started = Instant::now();
    let snapshot = match read {
        TargetRead::Catalog => introspect_endpoint(target).await.map(|s| (s, None)),
        TargetRead::ToApply => introspect_endpoint_versioned(target)
            .await
            .map(|(s, rows)| (s, Some(rows))),
    };
    timings::record("read the target", started);
    snapshot.map_err(PipelineError::Target)
}

/// Plans the change of the target towards the desired files, parsed,
/// reading the target as `read` says.
pub async fn plan(
    desired: Desired,
    target: &Endpoint,
    shadow_server: &Endpoint,
    janitor: &Janitor,
    options: &Options,
    read: TargetRead,
) -> Result<Planned, PipelineError> {
    let desired_snapshot = read_desired(&desired, shadow_server, janitor).await?;
    let (current, rows) = read_target_for(target, read).await?;
    let uncastable = uncastable_types(target, &current, &desired_snapshot).await?;
    let mut planned = plan_snapshots(
        &SourceMap::of(&desired),
        desired_snapshot,
        current,
        &uncastable,
        options,
    )?;
    planned.current_rows = rows;
    Ok(planned)
}

/// Plans the change of the target towards the desired files as read (not
/// parsed): a plan from the desired-catalog cache does not parse them. The
/// target is read while the desired state is, as `read` says.
pub async fn plan_sources(
    sources: Sources,
    target: &Endpoint,
    shadow_server: &impl ShadowServer,
    janitor: &Janitor,
    options: &Options,
    read: TargetRead,
) -> Result<Planned, PipelineError> {
    // The target, read first, waits encoded if the desired state is long to
    // come (`parked`).
    let (ready, desired_ready) = tokio::sync::oneshot::channel::<()>();
    let (desired, current) = futures_util::future::join(
        async {
            let desired = read_desired_sources_storing(sources, shadow_server, janitor).await;
            let _ = ready.send(());
            desired
        },
        async {
            let (current, rows) = read_target_for(target, read).await?;
            let parked = match tokio::time::timeout(parked::HELD_FOR, desired_ready).await {
                Ok(_) => Parked::Held(Box::new(current)),
                Err(_) => {
                    let started = Instant::now();
                    let parked = on_the_side("encoding the target's catalog", move || Parked::park(current)).await?;
                    timings::record("the target's catalog encoded while the desired state is read", started);
                    parked
                }
            };
            Ok::<_, PipelineError>((parked, rows))
        },
    )
    .await;
    let (desired, storing) = desired?;
    // A new cache entry is written while the plan is made.
    let planned = async {
        let (current, rows) = current?;
        let (current, rows) = match current {
            Parked::Held(current) => (*current, rows),
            parked => match on_the_side("decoding the target's catalog", move || {
                let started = Instant::now();
                let current = parked.unpark();
                timings::record("the target's catalog decoded", started);
                current
            })
            .await?
            {
                Ok(current) => (current, rows),
                Err(e) => {
                    eprintln!(
                        "warning: the target's catalog, encoded while the desired state was read, does not decode \
                         ({e}); it is read again. This is a fault in converge: please report it"
                    );
                    // Read again: at another time than the rows' versions.
                    (read_target(target).await?, None)
                }
            },
        };
        let uncastable = Asked::start(target, builtin_type_changes(&current, &desired.snapshot));
        let known = desired.entry.as_ref().and_then(|e| e.desired_fingerprint(options));
        let recorded = known.is_some();
        let mut planned = plan_snapshots_known(
            &desired.source_map,
            desired.snapshot,
            current,
            uncastable,
            options,
            known,
        )?;
        planned.current_rows = rows;
        if let (Some(entry), false) = (&desired.entry, recorded) {
            entry.record_desired_fingerprint(options, &planned.fingerprints.desired_catalog);
        }
        Ok(planned)
    }
    .await;
    storing.wait().await;
    planned
}

/// Starts CPU work (`what`) off the runtime's threads at once, so that the
/// work joined with it, or done before the returned future is awaited,
/// goes on meanwhile. A panic there is a bug that must not pass unseen; the
/// work is cancelled only when the runtime shuts down.
fn on_the_side<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = Result<T, PipelineError>> {
    let task = tokio::task::spawn_blocking(work);
    async move {
        match task.await {
            Ok(value) => Ok(value),
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Err(PipelineError::Interrupted(what)),
            },
        }
    }
}

/// Type pairs (from, to) of the planned column type changes that PostgreSQL
/// cannot cast, asked of the target itself (`SELECT NULL::from::to`). Only
/// built-in types are asked about: user-defined types are recast through
/// their text form.
pub async fn uncastable_types(
    target: &Endpoint,
    current: &Snapshot,
    desired: &Snapshot,
) -> Result<Uncastable, PipelineError> {
    ask_uncastable(target, builtin_type_changes(current, desired)).await
}

/// The (from, to) pairs of built-in column types that the desired state
/// changes.
fn builtin_type_changes(current: &Snapshot, desired: &Snapshot) -> Uncastable {
    let mut pairs = Uncastable::new();
    let builtin = |t: &str| !crate::catalog::is_user_defined_type(t);
    for (name, table) in &current.catalog.tables {
        let Some(wanted) = desired.catalog.tables.get(name) else {
            continue;
        };
        // Mostly the same columns in the same order: paired by position,
        // each looked up by name only where the names differ.
        for (k, column) in table.columns.iter().enumerate() {
            let w = match wanted.columns.get(k) {
                Some(w) if w.name == column.name => Some(w),
                _ => wanted.column(&column.name),
            };
            if let Some(w) = w
                && w.data_type != column.data_type
                && builtin(&column.data_type)
                && builtin(&w.data_type)
            {
                pairs.insert((column.data_type.clone(), w.data_type.clone()));
            }
        }
    }
    pairs
}

/// Which of `pairs` the target cannot cast. The questions go out together
/// (pipelined on one connection: one round trip, not one each); each is
/// its own statement, so one failing leaves the others be.
async fn ask_uncastable(target: &Endpoint, pairs: Uncastable) -> Result<Uncastable, PipelineError> {
    if pairs.is_empty() {
        return Ok(pairs);
    }
    let client = target.connect().await.map_err(PipelineError::Target)?;
    let client = &client;
    // Type names as format_type printed them: safe to splice.
    let answers = futures_util::future::join_all(pairs.iter().map(|(from, to)| async move {
        client
            .simple_query(&format!("SELECT NULL::{from}::{to}"))
            .await
            .is_err()
    }))
    .await;
    Ok(pairs
        .into_iter()
        .zip(answers)
        .filter_map(|(pair, refused)| refused.then_some(pair))
        .collect())
}

/// The answer of `ask_uncastable`, being asked on another thread while the
/// plan is diffed (only ordering the steps needs it).
enum Asked {
    Known(Result<Uncastable, PipelineError>),
    Pending(std::sync::mpsc::Receiver<Result<Uncastable, PipelineError>>),
}

impl Asked {
    /// Starts asking about `pairs` on a thread of its own (with its own
    /// runtime, so that waiting for the answer can never hold up the task
    /// that answers, whatever runtime the caller runs on).
    fn start(target: &Endpoint, pairs: Uncastable) -> Asked {
        if pairs.is_empty() {
            return Asked::Known(Ok(pairs));
        }
        let (send, receive) = std::sync::mpsc::channel();
        let target = target.clone();
        let asking = move || {
            let started = Instant::now();
            let answer = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(ask_uncastable(&target, pairs)),
                Err(e) => Err(asking_failed(e.to_string())),
            };
            timings::record("type changes PostgreSQL cannot cast (while diffing)", started);
            // Nobody waits for it if planning failed first.
            let _ = send.send(answer);
        };
        if let Err(e) = std::thread::Builder::new().spawn(asking) {
            return Asked::Known(Err(asking_failed(format!("cannot start a thread: {e}"))));
        }
        Asked::Pending(receive)
    }

    /// The answer (waits for it).
    fn answer(self) -> Result<Uncastable, PipelineError> {
        match self {
            Asked::Known(answer) => answer,
            Asked::Pending(receive) => receive
                .recv()
                .unwrap_or_else(|_| Err(asking_failed("the thread asking it ended without an answer".into()))),
        }
    }
}

fn asking_failed(message: String) -> PipelineError {
    PipelineError::Target(crate::db::DbError::Query {
        context: "cannot ask the target which type changes it can cast".into(),
        message,
    })
}

fn timed_fingerprint(catalog: &crate::catalog::Catalog, what: &str) -> Fingerprint {
    let started = Instant::now();
    let fingerprint = Fingerprint::of_catalog(catalog);
    timings::record(what, started);
    fingerprint
}

/// The pure part: both snapshots are known.
pub fn plan_snapshots(
    source_map: &SourceMap,
    desired_snapshot: Snapshot,
    current: Snapshot,
    uncastable: &Uncastable,
    options: &Options,
) -> Result<Planned, PipelineError> {
    plan_snapshots_known(
        source_map,
        desired_snapshot,
        current,
        Asked::Known(Ok(uncastable.clone())),
        options,
        None,
    )
}

/// `plan_snapshots`, with the fingerprint of the desired catalog (normalized
/// by `options`) when it is known already: it is then not hashed again.
fn plan_snapshots_known(
    source_map: &SourceMap,
    desired_snapshot: Snapshot,
    current: Snapshot,
    uncastable: Asked,
    options: &Options,
    desired_fingerprint: Option<Fingerprint>,
) -> Result<Planned, PipelineError> {
    let mut desired_snapshot = desired_snapshot;
    desired_snapshot.catalog = normalize(std::mem::take(&mut desired_snapshot.catalog), options);
    let mut current = current;
    current.catalog = normalize(std::mem::take(&mut current.catalog), options);
    // The fingerprints (sha256 of each catalog's canonical form: megabytes
    // of JSON for thousands of tables) are made on two other threads while
    // this one diffs and orders.
    let (plan, fingerprints) = std::thread::scope(|scope| {
        let current_fingerprint = scope.spawn(|| timed_fingerprint(&current.catalog, "fingerprint of the target"));
        // Known already, or being hashed.
        let desired_fingerprint = desired_fingerprint.ok_or_else(|| {
            scope.spawn(|| timed_fingerprint(&desired_snapshot.catalog, "fingerprint of the desired state"))
        });
        let started = Instant::now();
        let changes = crate::diff::diff(&current.catalog, &desired_snapshot.catalog);
        timings::record("diff", started);
        let started = Instant::now();
        let plan = uncastable.answer().and_then(|uncastable| {
            crate::plan::build(changes, &current, &desired_snapshot, Some(source_map), &uncastable)
                .map(|plan| {
                    if options.online {
                        crate::plan::online(plan, &current, &desired_snapshot)
                    } else {
                        plan
                    }
                })
                .map_err(PipelineError::from)
        });
        timings::record("order and render the steps", started);
        let desired_fingerprint = desired_fingerprint.or_else(|hashing| hashing.join());
        let fingerprints = match (current_fingerprint.join(), desired_fingerprint) {
            (Ok(current_catalog), Ok(desired_catalog)) => PlanFingerprints {
                current_catalog,
                desired_catalog,
                desired_files: source_map.fingerprint(),
            },
            // Hashing plain data does not panic; if it ever did, the panic
            // goes on here rather than leaving a plan without fingerprints.
            (Err(panic), _) | (_, Err(panic)) => std::panic::resume_unwind(panic),
        };
        (plan, fingerprints)
    });
    let plan = plan?;
    Ok(Planned {
        desired_snapshot,
        current,
        current_rows: None,
        plan,
        fingerprints,
        options: options.clone(),
    })
}
