//! The kept shadow database: the previous plan's shadow database, kept on the
//! shadow server under a name converge owns, so that a small change of the
//! desired files re-creates only what it touches (`shadow::incremental`)
//! instead of loading every statement again.
//!
//! The database is `converge_shadow_kept_<hash>` (the hash of the working
//! directory and the server, so projects sharing a `--dev-url` server keep
//! one each). Its statements are recorded in the desired-catalog cache
//! directory (`shadow-<database>.json`), with a random token that is also
//! the database's comment: a record is used only when its token, its server
//! major version, role and converge version match the database. Its last
//! snapshot is kept beside the record (`shadow-<database>.snapshot`, for the
//! same token), so that after an update only what the update changed is read
//! (`introspect::reread_changes`), not the whole catalog again. Any update
//! runs in one transaction, under an advisory lock taken without waiting
//! (another converge process using the database makes this one load a fresh
//! database instead), and writes a new token in that transaction. Whatever
//! goes wrong (no record, a mismatch, a statement refused, an object kind it
//! does not follow) rolls back and leaves the answer to a full load in a
//! fresh database, which then replaces the kept one: the kept database never
//! decides what a desired state means unless it provably holds the previous
//! one. It is used on converge's own embedded server unless
//! `CONVERGE_SHADOW_REUSE=off`, on a `--dev-url` server only with
//! `CONVERGE_SHADOW_REUSE=on` (a database left on a shared server should be
//! asked for), and never with `CONVERGE_CACHE=off`.

use super::incremental::{Delta, Name, Recorded, record};
use super::{Janitor, Shadow, ShadowError, ToLoad, load};
use crate::catalog::{Fingerprint, Snapshot};
use crate::db::{DbError, Endpoint, query_error};
use crate::introspect::introspect;
use crate::source::{Desired, Statement};
use crate::timings;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;
use tokio_postgres::Client;

/// `CONVERGE_SHADOW_REUSE=on`: keep the shadow database and update it
/// incrementally, also on a `--dev-url` server; `off`: never, also on the
/// embedded server (where it is kept by default). Without it being kept,
/// every shadow is a fresh, dropped database.
pub const ENV_SHADOW_REUSE: &str = "CONVERGE_SHADOW_REUSE";

/// Turns the kept shadow database on or off for this process whatever
/// `CONVERGE_SHADOW_REUSE` says (`None`: as it says). For the benchmark,
/// which measures plans with it and without it in one process.
pub fn set_reuse(on: Option<bool>) {
    let value = match on {
        None => OVERRIDE_UNSET,
        Some(true) => OVERRIDE_ON,
        Some(false) => OVERRIDE_OFF,
    };
    OVERRIDE.store(value, Ordering::SeqCst);
}

static OVERRIDE: AtomicU8 = AtomicU8::new(OVERRIDE_UNSET);
const OVERRIDE_UNSET: u8 = 0;
const OVERRIDE_ON: u8 = 1;
const OVERRIDE_OFF: u8 = 2;

/// Prefix of kept shadow databases' names.
pub const KEPT_PREFIX: &str = "converge_shadow_kept_";

/// Layout of the record file and of the kept snapshot (postcard, not
/// self-describing: a catalog type that changes how it is written changes
/// this); records of another layout are not used. (3: columns' storage
/// written as an enum; 4: dependencies as a list of objects and edges
/// between their positions.)
const FORMAT: u32 = 4;

/// Advisory lock key (in the kept database) held while a process uses it.
const LOCK_KEY: i64 = 0x636f_6e76_7368_6477; // "convshdw"

/// An incremental update that re-runs more than this share of the statements
/// is left to a full load, which is faster than dropping that much.
const MAX_RERUN_SHARE: f64 = 0.5;

/// What the kept database holds, as written next to the desired-catalog cache.
#[derive(Debug, Serialize, Deserialize)]
struct RecordFile<'a> {
    format: u32,
    database: String,
    /// Also the database's comment (`converge shadow <token>`).
    token: String,
    server_major: i32,
    role: String,
    converge_version: String,
    /// In load order; borrowed when written (not a copy of the statements'
    /// record, ~20 MB at 5,000 tables, only to be serialized).
    statements: Cow<'a, [Recorded]>,
}

/// How a desired snapshot was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Obtained {
    /// The kept database was brought up to date: `run` of `total` statements
    /// ran again after `recreated` objects were dropped, and `foreign_keys`
    /// foreign keys to them from tables that stayed were added back.
    Incremental {
        recreated: usize,
        run: usize,
        total: usize,
        foreign_keys: usize,
        /// How the snapshot was read after the update.
        read: Reread,
    },
    /// Every statement was loaded into a fresh database, for this reason.
    FullLoad { reason: String },
}

/// How the snapshot of an updated kept database was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reread {
    /// Only what the update changed, merged into the snapshot of the kept
    /// database before it (`introspect::reread_changes`).
    Changes,
    /// The whole catalog, for this reason.
    Whole { reason: String },
}

/// The kept shadow database of this project on one server.
pub struct Kept {
    server: Endpoint,
    name: String,
    record_path: PathBuf,
    /// Above this share of statements to run again, a full load is faster.
    max_rerun_share: f64,
}

impl Kept {
    /// The kept database for `server`, recorded in the desired-catalog cache
    /// directory; `None` when the cache is off, or unless
    /// `CONVERGE_SHADOW_REUSE=on` or (`own_server` and not
    /// `CONVERGE_SHADOW_REUSE=off`). `own_server`: the server is converge's
    /// embedded one, which belongs to the project directory (its address, a
    /// socket directory made afresh at each start, does not name it).
    pub fn from_env(server: &Endpoint, own_server: bool) -> Option<Kept> {
        let on = match OVERRIDE.load(Ordering::SeqCst) {
            OVERRIDE_ON => true,
            OVERRIDE_OFF => false,
            _ => match std::env::var_os(ENV_SHADOW_REUSE) {
                Some(v) if v == "on" => true,
                Some(v) if v == "off" => false,
                _ => own_server,
            },
        };
        if !on {
            return None;
        }
        let cache = crate::cache::DesiredCache::from_env()?;
        let cwd = std::env::current_dir().unwrap_or_default();
        let identity = match own_server {
            true => format!("{}\0embedded", cwd.display()),
            false => format!("{}\0{}\0{}", cwd.display(), server, server.user()),
        };
        let hash = Fingerprint::of_bytes(identity.as_bytes()).to_string();
        let name = format!("{KEPT_PREFIX}{}", &hash[hash.len() - 16..]);
        Some(Kept::new(
            server,
            &name,
            &cache.dir().join(format!("shadow-{name}.json")),
        ))
    }

    /// The kept database `name` on `server`, recorded in `record_path`.
    /// `name` must start with `KEPT_PREFIX`.
    pub fn new(server: &Endpoint, name: &str, record_path: &Path) -> Kept {
        Kept {
            server: server.clone(),
            name: name.to_string(),
            record_path: record_path.to_path_buf(),
            max_rerun_share: MAX_RERUN_SHARE,
        }
    }

    /// Updates incrementally however much must run again (for tests, which
    /// compare small schemas where one statement is a large share).
    pub fn always_incremental(self) -> Kept {
        Kept {
            max_rerun_share: 1.0,
            ..self
        }
    }

    /// The desired snapshot, from the kept database brought up to date when
    /// that is provably the same as a full load, else from a full load in a
    /// fresh database that then becomes the kept one. A `desired` given by
    /// value keeps only its texts once recorded, and goes once a full load
    /// has loaded it (see `ToLoad`; an update that cannot go on needs it for
    /// the full load).
    pub async fn desired_snapshot(
        &self,
        desired: impl Into<ToLoad<'_>>,
        janitor: &Janitor,
    ) -> Result<(Snapshot, Obtained), ShadowError> {
        let mut desired = desired.into();
        let started = Instant::now();
        let statements = record(desired.get());
        desired.keep_texts_only();
        timings::record("kept shadow: record the statements", started);
        let reason = match self.update(desired.get(), &statements).await {
            Ok(Ok((snapshot, obtained))) => {
                verbose(&format!("{obtained:?}"));
                return Ok((snapshot, obtained));
            }
            Ok(Err(reason)) => reason,
            Err(e) => format!("the kept shadow database cannot be used: {e}"),
        };
        verbose(&format!("full load: {reason}"));
        let snapshot = self.full_load(desired, statements, janitor).await?;
        Ok((snapshot, Obtained::FullLoad { reason }))
    }

    /// Loads `desired` into a fresh database that becomes the kept one (and
    /// reads it, as a plan would): for the tests and the benchmark, which
    /// start updates from a known state.
    pub async fn prime(&self, desired: &Desired, janitor: &Janitor) -> Result<(), ShadowError> {
        self.full_load(desired.into(), record(desired), janitor)
            .await
            .map(|_| ())
    }

    /// Loads every statement into a fresh database, reads it, and keeps it
    /// in place of the kept one (or drops it when that fails: the snapshot
    /// is still right). A `desired` given by value goes once loaded.
    async fn full_load(
        &self,
        desired: ToLoad<'_>,
        statements: Vec<Recorded>,
        janitor: &Janitor,
    ) -> Result<Snapshot, ShadowError> {
        let shadow = Shadow::create(&self.server, janitor).await?;
        let result = async {
            shadow.load(desired.get()).await?;
            drop(desired);
            let mut client = shadow.endpoint().connect().await?;
            let snapshot = introspect(&mut client).await?;
            Ok::<_, ShadowError>((snapshot, server_identity(&client).await?))
        }
        .await;
        match result {
            Ok((snapshot, (major, role))) => {
                match self.adopt(&shadow, janitor, major, role, statements).await {
                    Ok(token) => self.write_snapshot(&token, &snapshot),
                    Err(e) => {
                        verbose(&format!("the shadow database is not kept: {e}"));
                        shadow.drop(janitor).await?;
                    }
                }
                Ok(snapshot)
            }
            Err(e) => {
                shadow.drop(janitor).await?;
                Err(e)
            }
        }
    }

    /// Brings the kept database to `statements` and reads it, or the reason only
    /// a full load is sure (nothing is changed then).
    async fn update(
        &self,
        desired: &Desired,
        statements: &[Recorded],
    ) -> Result<Result<(Snapshot, Obtained), String>, DbError> {
        let started = Instant::now();
        let Some(old) = self.read_record() else {
            return Ok(Err("no kept shadow database".into()));
        };
        timings::record("kept shadow: read the record", started);
        // The snapshot of the database as the record has it, decoded while
        // the update runs.
        let previous = {
            let (path, token) = (self.snapshot_path(), old.token.clone());
            tokio::task::spawn_blocking(move || read_snapshot(&path, &token))
        };
        let client = match self.server.with_dbname(&self.name).connect().await {
            Ok(c) => c,
            Err(e) => return Ok(Err(format!("cannot connect to the kept shadow database: {e}"))),
        };
        let locked: bool = client
            .query_one("SELECT pg_catalog.pg_try_advisory_lock($1)", &[&LOCK_KEY])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(query_error("cannot lock the kept shadow database"))?;
        if !locked {
            return Ok(Err(
                "the kept shadow database is in use by another converge process".into()
            ));
        }
        let (major, role) = server_identity(&client).await?;
        let comment = database_comment(&client).await?;
        if old.format != FORMAT
            || old.database != self.name
            || comment.as_deref() != Some(&token_comment(&old.token))
            || old.server_major != major
            || old.role != role
            || old.converge_version != env!("CARGO_PKG_VERSION")
        {
            return Ok(Err("the kept shadow database does not match its record".into()));
        }
        let started = Instant::now();
        let mut delta = match Delta::new(&old.statements, statements) {
            Ok(d) => d,
            Err(reason) => return Ok(Err(reason)),
        };
        let foreign_keys = loop {
            let found = dependents(&client, delta.to_drop()).await?;
            if let Some(reason) = found.refusal {
                return Ok(Err(reason));
            }
            match delta.add_dependents(found.names) {
                Ok(true) => continue,
                Ok(false) => break found.foreign_keys,
                Err(reason) => return Ok(Err(reason)),
            }
        };
        // Foreign keys of tables that are re-created come back with them.
        let foreign_keys: Vec<ForeignKey> = foreign_keys
            .into_iter()
            .filter(|fk| !delta.to_drop().contains(&fk.table))
            .collect();
        if let Some(fk) = foreign_keys.iter().find(|fk| fk.on_partition) {
            return Ok(Err(format!(
                "foreign key {} of partitioned table {:?} references what changes",
                fk.name, fk.table
            )));
        }
        timings::record("kept shadow: what to re-create", started);
        let run = delta.to_run();
        if run.len() as f64 > self.max_rerun_share * statements.len() as f64 {
            return Ok(Err(format!(
                "{} of {} statements would run again",
                run.len(),
                statements.len()
            )));
        }
        let started = Instant::now();
        let token = new_token();
        let applied = self.apply(&client, desired, &delta, &run, &foreign_keys, &token).await;
        if let Err(e) = applied {
            // Nothing of the update stays; the record still matches.
            let _ = client.batch_execute("ROLLBACK").await;
            return Ok(Err(format!("the incremental update failed: {e}")));
        }
        timings::record("kept shadow: update", started);
        // The old record (~25 MB at 5,000 tables) and the delta over it are
        // done with: freed before what changed is read.
        let (recreated, reran) = (delta.to_drop().len(), run.len());
        drop(run);
        drop(delta);
        drop(old);
        // What changed is read before the commit, in the update's own
        // transaction: its rows are the ones with its transaction id.
        let started = Instant::now();
        let reread = match previous.await.ok().flatten() {
            None => Err("no snapshot of the kept shadow database before the update".to_string()),
            Some(previous) => match crate::introspect::reread_changes(&client, previous).await {
                Ok(found) => found,
                Err(e) => {
                    let _ = client.batch_execute("ROLLBACK").await;
                    return Ok(Err(format!("cannot read what the incremental update changed: {e}")));
                }
            },
        };
        timings::record("kept shadow: read what changed", started);
        client
            .batch_execute("COMMIT")
            .await
            .map_err(query_error("cannot commit the incremental update"))?;
        self.write_record(&RecordFile {
            format: FORMAT,
            database: self.name.clone(),
            token: token.clone(),
            server_major: major,
            role,
            converge_version: env!("CARGO_PKG_VERSION").to_string(),
            statements: Cow::Borrowed(statements),
        });
        let (snapshot, read) = match reread {
            Ok(snapshot) => (snapshot, Reread::Changes),
            Err(reason) => {
                verbose(&format!("read in full: {reason}"));
                let started = Instant::now();
                let mut reader = self.server.with_dbname(&self.name).connect().await?;
                let snapshot = introspect(&mut reader).await?;
                timings::record("kept shadow: read", started);
                (snapshot, Reread::Whole { reason })
            }
        };
        drop(client);
        let started = Instant::now();
        self.write_snapshot(&token, &snapshot);
        timings::record("kept shadow: keep the snapshot", started);
        let obtained = Obtained::Incremental {
            recreated,
            run: reran,
            total: statements.len(),
            foreign_keys: foreign_keys.len(),
            read,
        };
        Ok(Ok((snapshot, obtained)))
    }

    /// Drops what changed, runs the statements and adds back the foreign keys
    /// the drops took from tables that stay, in one transaction that also
    /// writes the new token, and that the caller commits.
    async fn apply(
        &self,
        client: &Client,
        desired: &Desired,
        delta: &Delta<'_>,
        run: &[usize],
        foreign_keys: &[ForeignKey],
        token: &str,
    ) -> Result<(), ShadowError> {
        load::prepare(client).await?;
        client
            .batch_execute("BEGIN")
            .await
            .map_err(query_error("cannot start the incremental update"))?;
        let restore = restore_statements(client, foreign_keys).await?;
        let (kinds, schemas, names) = columns(delta.to_drop());
        let drops: Vec<String> = client
            .query(include_str!("drops.sql"), &[&kinds, &schemas, &names])
            .await
            .map_err(query_error("cannot list what the incremental update drops"))?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(query_error("cannot list what the incremental update drops"))?;
        if !drops.is_empty() {
            client
                .batch_execute(&drops.join(";\n"))
                .await
                .map_err(query_error("cannot drop what changed in the kept shadow database"))?;
        }
        let statements: Vec<&Statement> = run.iter().map(|&j| &desired.statements[j]).collect();
        load::run_statements_in_transaction(client, desired, &statements).await?;
        if !restore.is_empty() {
            client
                .batch_execute(&restore.join(";\n"))
                .await
                .map_err(query_error("cannot add back the foreign keys to what was re-created"))?;
        }
        client
            .batch_execute(&format!(
                "COMMENT ON DATABASE \"{}\" IS '{}'",
                self.name,
                token_comment(token)
            ))
            .await
            .map_err(query_error("cannot mark the kept shadow database"))?;
        Ok(())
    }

    /// Makes a freshly loaded shadow database the kept one, replacing the
    /// previous kept database when no other process uses it.
    async fn adopt(
        &self,
        shadow: &Shadow,
        janitor: &Janitor,
        server_major: i32,
        role: String,
        statements: Vec<Recorded>,
    ) -> Result<String, DbError> {
        let client = self.server.connect().await?;
        let token = new_token();
        // Each on its own: DROP DATABASE cannot run in a transaction block.
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\"", self.name))
            .await
            .map_err(query_error("cannot replace the kept shadow database"))?;
        client
            .batch_execute(&format!(
                "COMMENT ON DATABASE \"{}\" IS '{}'",
                shadow.name,
                token_comment(&token)
            ))
            .await
            .map_err(query_error("cannot mark the shadow database as kept"))?;
        client
            .batch_execute(&format!(
                "ALTER DATABASE \"{}\" RENAME TO \"{}\"",
                shadow.name, self.name
            ))
            .await
            .map_err(query_error("cannot keep the shadow database"))?;
        janitor.release(&shadow.name);
        self.write_record(&RecordFile {
            format: FORMAT,
            database: self.name.clone(),
            token: token.clone(),
            server_major,
            role,
            converge_version: env!("CARGO_PKG_VERSION").to_string(),
            statements: Cow::Owned(statements),
        });
        Ok(token)
    }

    /// Where the snapshot of the kept database is kept, next to its record.
    fn snapshot_path(&self) -> PathBuf {
        self.record_path.with_extension("snapshot")
    }

    /// Keeps the snapshot of the kept database as it is with `token`, for
    /// the next update to read only what it changes. One that cannot be
    /// written only costs a full read next time.
    fn write_snapshot(&self, token: &str, snapshot: &Snapshot) {
        let written = write_streamed(&self.snapshot_path(), |out| {
            postcard::to_io(&SnapshotHeader::new(token), &mut *out).map_err(std::io::Error::other)?;
            postcard::to_io(snapshot, out).map_err(std::io::Error::other)?;
            Ok(())
        });
        if let Err(e) = written {
            eprintln!(
                "warning: cannot keep the shadow snapshot in {}: {e}",
                self.snapshot_path().display()
            );
        }
    }

    fn read_record(&self) -> Option<RecordFile<'static>> {
        let bytes = std::fs::read(&self.record_path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes the record atomically. A record that cannot be written only
    /// costs a full load next time (its token will not match).
    fn write_record(&self, record: &RecordFile<'_>) {
        if let Err(e) = write_atomically(&self.record_path, record) {
            eprintln!(
                "warning: cannot write the shadow record {}: {e}",
                self.record_path.display()
            );
        }
    }
}

fn write_atomically(path: &Path, record: &RecordFile<'_>) -> std::io::Result<()> {
    write_streamed(path, |out| {
        serde_json::to_writer(out, record).map_err(std::io::Error::other)
    })
}

/// Replaces `path` atomically (a temporary file in the same directory,
/// renamed) with what `write` writes, through a buffer: the record and the
/// snapshot (~13 and ~11 MB at 5,000 tables) are not first encoded whole in
/// memory, at the moment a plan's read of the target is building its
/// catalog.
fn write_streamed(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&mut tempfile::NamedTempFile>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut file);
        write(&mut out)?;
        std::io::Write::flush(&mut out)?;
    }
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// What precedes the kept snapshot in its file: a snapshot is used only by
/// the same converge build's layout, for the record's token.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct SnapshotHeader {
    format: u32,
    converge_version: String,
    token: String,
}

impl SnapshotHeader {
    fn new(token: &str) -> SnapshotHeader {
        SnapshotHeader {
            format: FORMAT,
            converge_version: env!("CARGO_PKG_VERSION").to_string(),
            token: token.to_string(),
        }
    }
}

/// The kept snapshot at `path` if it is the one of `token`.
fn read_snapshot(path: &Path, token: &str) -> Option<Snapshot> {
    let bytes = std::fs::read(path).ok()?;
    let (header, body) = postcard::take_from_bytes::<SnapshotHeader>(&bytes).ok()?;
    if header != SnapshotHeader::new(token) {
        return None;
    }
    postcard::from_bytes(body).ok()
}

/// A foreign key that references an object to re-create: the drop takes it
/// from its table, and when the table is not re-created as well the update
/// adds it back as it was.
struct ForeignKey {
    table: Name,
    name: String,
    /// On a partitioned table or a partition (not followed).
    on_partition: bool,
}

/// The statements that add `foreign_keys` back (with their comments), read
/// as they are before anything is dropped.
async fn restore_statements(client: &Client, foreign_keys: &[ForeignKey]) -> Result<Vec<String>, DbError> {
    if foreign_keys.is_empty() {
        return Ok(Vec::new());
    }
    let (mut schemas, mut tables, mut names) = (Vec::new(), Vec::new(), Vec::new());
    for fk in foreign_keys {
        if let Name::Relation { schema, name } = &fk.table {
            schemas.push(schema.as_str());
            tables.push(name.as_str());
            names.push(fk.name.as_str());
        }
    }
    let context = "cannot read the foreign keys to add back";
    let statements: Vec<String> = client
        .query(include_str!("foreign_keys.sql"), &[&schemas, &tables, &names])
        .await
        .map_err(query_error(context))?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(query_error(context))?;
    if statements.len() != names.len() {
        return Err(DbError::Query {
            context: context.to_string(),
            message: format!("{} of {} found", statements.len(), names.len()),
        });
    }
    Ok(statements)
}

/// Objects PostgreSQL drops along with the named ones.
struct Found {
    names: Vec<Name>,
    /// Foreign keys that reference them, which are not followed further.
    foreign_keys: Vec<ForeignKey>,
    /// Why only a full load is sure, when the drop reaches what this module
    /// does not follow.
    refusal: Option<String>,
}

async fn dependents(client: &Client, wanted: &std::collections::BTreeSet<Name>) -> Result<Found, DbError> {
    if wanted.iter().any(|n| matches!(n, Name::Extension { .. })) {
        return Ok(Found {
            names: Vec::new(),
            foreign_keys: Vec::new(),
            refusal: Some("an extension changes".into()),
        });
    }
    let (kinds, schemas, names) = columns(wanted);
    let rows = client
        .query(include_str!("objects.sql"), &[&kinds, &schemas, &names])
        .await
        .map_err(query_error("cannot read what depends on the changed objects"))?;
    let mut found = Found {
        names: Vec::new(),
        foreign_keys: Vec::new(),
        refusal: None,
    };
    for row in rows {
        let read = |i: usize| row.try_get::<_, Option<String>>(i).ok().flatten().unwrap_or_default();
        let (kind, schema, name) = (read(0), read(1), read(2));
        let partition: bool = row.try_get(3).unwrap_or(true);
        if kind == "foreign_key" {
            found.foreign_keys.push(ForeignKey {
                table: Name::Relation { schema, name },
                name: read(4),
                on_partition: partition,
            });
            continue;
        }
        if partition {
            found.refusal = Some(format!("partitioned table {schema}.{name} changes"));
        }
        found.names.push(match kind.as_str() {
            "relation" => Name::Relation { schema, name },
            "type" => Name::Type { schema, name },
            "function" => Name::Function { schema, name },
            "schema" => Name::Schema { name },
            "collation" => Name::Collation { schema, name },
            _ => {
                found.refusal = Some(format!("a changed object has a dependent of kind {schema}"));
                continue;
            }
        });
    }
    Ok(found)
}

/// Names as three parallel arrays (kind, schema, name) for the SQL files.
fn columns(names: &std::collections::BTreeSet<Name>) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for n in names {
        let (kind, schema, name) = match n {
            Name::Schema { name } => ("schema", "", name.as_str()),
            Name::Extension { name } => ("extension", "", name.as_str()),
            Name::Relation { schema, name } => ("relation", schema.as_str(), name.as_str()),
            Name::Type { schema, name } => ("type", schema.as_str(), name.as_str()),
            Name::Function { schema, name } => ("function", schema.as_str(), name.as_str()),
            Name::Collation { schema, name } => ("collation", schema.as_str(), name.as_str()),
            Name::UniqueIndexOn { .. } | Name::Details { .. } => continue,
        };
        out.0.push(kind.to_string());
        out.1.push(schema.to_string());
        out.2.push(name.to_string());
    }
    out
}

/// The server's major version and the role connected.
async fn server_identity(client: &Client) -> Result<(i32, String), DbError> {
    let context = "cannot read the shadow server's version and role";
    client
        .query_one(
            "SELECT pg_catalog.current_setting('server_version_num')::int / 10000, current_user::text",
            &[],
        )
        .await
        .and_then(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .map_err(query_error(context))
}

async fn database_comment(client: &Client) -> Result<Option<String>, DbError> {
    client
        .query_one(
            "SELECT pg_catalog.shobj_description(oid, 'pg_database') FROM pg_catalog.pg_database \
             WHERE datname = pg_catalog.current_database()",
            &[],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(query_error("cannot read the kept shadow database's comment"))
}

fn token_comment(token: &str) -> String {
    format!("converge shadow {token}")
}

/// A token no other update will write: the time, the process and a counter.
fn new_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let text = format!(
        "{nanos}\0{}\0{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    Fingerprint::of_bytes(text.as_bytes()).to_string()[..32].to_string()
}

/// `CONVERGE_SHADOW_LOG=1` says on stderr how each shadow was obtained.
fn verbose(message: &str) {
    if std::env::var_os("CONVERGE_SHADOW_LOG").is_some_and(|v| v == "1") {
        eprintln!("shadow: {message}");
    }
}
