//! Reading again only what the current transaction changed, in a database
//! whose snapshot before it is known, and merging that into the snapshot.
//!
//! The kept shadow database's update (`shadow::reuse`) re-creates a few
//! relations of thousands, and apply's verification (`apply::read_end`)
//! follows a plan that usually changes a few; reading the whole catalog
//! after either costs as much as reading a fresh database. Inside the
//! transaction, before it commits, the server itself says what changed:
//! every catalog row the transaction inserted or rewrote has its
//! transaction id (or one of its subtransactions') in `xmin`, every relation
//! a statement altered or dropped a part of is locked by the transaction,
//! and the relations that print a renamed enum label or sequence depend on
//! it (`queries/changed.sql`), independently of how the update or the plan
//! decided what to do. Then:
//!
//! - the catalog of the changed relations (sequences included) is read
//!   again with the same queries as a full read, filtered to those
//!   relations (`{{only:...}}`), with their indexes, triggers, policies and
//!   size estimates; the kinds that belong to no relation (types,
//!   functions, schemas, ...) are few and read in full; of the relations
//!   their dependency rows refer to and the transaction did not change
//!   (a table a foreign key or view uses), only what their OIDs translate
//!   to is read (`queries/referenced_names.sql`, `build::add_names`);
//! - the previous snapshot loses the relations read again and those that no
//!   longer exist (a drop leaves no row, so they are found by name among the
//!   relations that exist), and takes the ones read;
//! - the dependency edges of the changed relations' objects and of every
//!   object that belongs to no relation are replaced by those read again,
//!   and the references found in function bodies are found again against
//!   the merged catalog. Apply's verification compares catalogs alone
//!   (`reread_catalog_changes`): it reads no dependency rows, nor what
//!   the relations they refer to translate to.
//!
//! Partitioned tables, partitions and partitioned indexes link relations to
//! each other in the catalog (attached indexes); when any of them is among
//! the relations to read, the answer is "read it all" instead. The merged
//! snapshot must equal a full read of the same database: `tests/fixtures.rs`
//! compares them on every fixture, both after the kept shadow's update and
//! after the plan's steps, `tests/shadow_reuse.rs` on the benchmark's
//! schemas.

use super::{QUERIES, QUERY_FILES, Read, Rows, build, deps, expand, expand_with, prepare_session, server_facts, stats};
use crate::catalog::{Catalog, Dependencies, DependencyKind, ObjectId, QualifiedName, Snapshot};
use crate::db::{DbError, query_error};
use crate::timings;
use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;
use std::time::Instant;
use tokio_postgres::GenericClient;

/// The catalogs whose rows belong to a relation, with the column naming it:
/// what else than the relation itself an update's rows lead to, and what
/// of a relation the dependency rows are read again for. (Columns, indexes,
/// inheritance and sequence options are rows of their own, not objects
/// `pg_depend` names; row types lead to their relation through `typrelid`.)
const RELATION_PARTS: [(&str, &str); 5] = [
    ("pg_constraint", "conrelid"),
    ("pg_attrdef", "adrelid"),
    ("pg_rewrite", "ev_class"),
    ("pg_trigger", "tgrelid"),
    ("pg_policy", "polrelid"),
];

/// Expands the placeholders of the queries below that come from
/// `RELATION_PARTS`, then the common ones (`expand`):
///
/// - `{{changed_parts}}`: `UNION SELECT` the relation of every row of those
///   catalogs the current transaction wrote;
/// - `{{relations_of:cte:classid column:objid column}}`: the relations the
///   objects listed in `cte` belong to (or are), each catalog probed through
///   its OID index for the few objects of its class (`= ANY (ARRAY(...))`:
///   a join there is planned as a hash of the whole catalog, 31,086
///   triggers at N = 5,000 for a few hundred changed);
/// - `{{parts_of_changed:objid expression}}`: `WHEN` arms of a `CASE` on a
///   class id, true for the objects of those catalogs that belong to a
///   relation in `$1` or to none (a domain's constraint).
fn expand_parts(sql: &str) -> String {
    let parts = |each: &dyn Fn(&str, &str) -> String| -> Vec<String> {
        RELATION_PARTS
            .iter()
            .map(|(catalog, owner)| each(catalog, owner))
            .collect()
    };
    expand_with(sql, Read::All, &|placeholder| match placeholder {
        ["changed_parts"] => Some(
            parts(&|catalog, owner| {
                format!("UNION SELECT x.{owner} FROM pg_catalog.{catalog} x WHERE pg_catalog.age(x.xmin) <= 0")
            })
            .join("\n    "),
        ),
        ["relations_of", cte, class, object] => {
            let mut arms = vec![format!(
                "SELECT o.{object} FROM {cte} o WHERE o.{class} = 'pg_catalog.pg_class'::pg_catalog.regclass"
            )];
            let of_class = |catalog: &str| {
                format!(
                    "ANY (ARRAY(SELECT o.{object} FROM {cte} o \
                     WHERE o.{class} = 'pg_catalog.{catalog}'::pg_catalog.regclass))"
                )
            };
            arms.extend(parts(&|catalog, owner| {
                format!(
                    "SELECT x.{owner} FROM pg_catalog.{catalog} x WHERE x.oid = {}",
                    of_class(catalog)
                )
            }));
            arms.push(format!(
                "SELECT coalesce(nullif(t.typrelid, 0), e.typrelid) FROM pg_catalog.pg_type t \
                 LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem WHERE t.oid = {}",
                of_class("pg_type")
            ));
            Some(arms.join("\n    UNION "))
        }
        ["parts_of_changed", object] => Some(
            parts(&|catalog, owner| {
                format!(
                    "WHEN 'pg_catalog.{catalog}'::pg_catalog.regclass THEN {object} IN \
                     (SELECT x.oid FROM pg_catalog.{catalog} x \
                     WHERE x.{owner} = 0 OR x.{owner} = ANY($1::pg_catalog.oid[]))"
                )
            })
            .join("\n           "),
        ),
        _ => None,
    })
}

/// The queries of a partial read: (name, SQL, whether it takes the OIDs of
/// the relations to read as `$1`). The dependencies are those of the
/// changed relations' objects and of objects that belong to no relation
/// (`$1`: the changed relations only).
static PARTIAL_QUERIES: LazyLock<Vec<(&'static str, String, bool)>> = LazyLock::new(|| {
    QUERY_FILES
        .iter()
        .map(|(name, sql)| match *name {
            "dependencies" => (
                *name,
                expand_parts(&format!(
                    "{}\nSELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype \
                     FROM changed_dependencies",
                    include_str!("queries/changed_dependencies.sql")
                )),
                true,
            ),
            _ => (*name, expand(sql, Read::Only), sql.contains("{{only:")),
        })
        .collect()
});

static CHANGED: LazyLock<String> = LazyLock::new(|| expand_parts(include_str!("queries/changed.sql")));

/// The enums some of whose label rows the current transaction wrote: their
/// OID, name, labels now, and the labels of the rows it wrote.
const ENUMS_CHANGED: &str = "SELECT t.oid, n.nspname::text, t.typname::text, \
     pg_catalog.array_agg(e.enumlabel::text), \
     pg_catalog.array_agg(e.enumlabel::text) FILTER (WHERE pg_catalog.age(e.xmin) <= 0) \
     FROM pg_catalog.pg_type t \
     JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
     JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid \
     WHERE t.oid IN (SELECT x.enumtypid FROM pg_catalog.pg_enum x WHERE pg_catalog.age(x.xmin) <= 0) \
     GROUP BY t.oid, n.nspname, t.typname";

/// An enum some of whose label rows the current transaction wrote.
struct EnumWritten {
    oid: u32,
    name: QualifiedName,
    /// Its labels now.
    labels: Vec<String>,
    /// The labels of the rows the transaction wrote.
    written: Vec<String>,
}

/// Of the enums whose label rows the transaction wrote, those that may have
/// had a label renamed, so that the defaults, checks, predicates and views
/// using it may print another label (`ALTER TYPE ... RENAME VALUE` rewrites
/// the row the stored expressions point to). An enum had none renamed when
/// it was in `before`, every row written has a label it did not have, and
/// every label it had is still there: a renamed row would carry a new label
/// while its old label, still there, would be on a row written too (the
/// labels of an enum are unique). That is what `ADD VALUE` leaves, and the
/// many tables merely using the enum are not read again for it. (A value
/// added where the sort order has no room renumbers the others' rows: the
/// enum then counts as renamed, which costs only time.)
fn relabeled(written: Vec<EnumWritten>, before: &Catalog) -> Vec<u32> {
    written
        .into_iter()
        .filter(|e| match before.enums.get(&e.name) {
            Some(was) => {
                e.written.iter().any(|label| was.labels.contains(label))
                    || was.labels.iter().any(|label| !e.labels.contains(label))
            }
            None => true,
        })
        .map(|e| e.oid)
        .collect()
}

/// The comments on triggers, policies and table constraints in `before`, as
/// the four arrays `queries/uncommented.sql` takes: what each is on (kind),
/// its table's schema and name, its name.
fn commented_parts(before: &Catalog) -> [Vec<&str>; 4] {
    fn add<'a>(arrays: &mut [Vec<&'a str>; 4], values: [&'a str; 4]) {
        for (array, value) in arrays.iter_mut().zip(values) {
            array.push(value);
        }
    }
    let mut arrays: [Vec<&str>; 4] = Default::default();
    let mut push = |values| add(&mut arrays, values);
    for t in before.triggers.values().filter(|t| t.comment.is_some()) {
        push(["trigger", &t.table.schema, &t.table.name, &t.name]);
    }
    for p in before.policies.values().filter(|p| p.comment.is_some()) {
        push(["policy", &p.table.schema, &p.table.name, &p.name]);
    }
    for (table, t) in &before.tables {
        for c in t.constraints.values().filter(|c| c.comment.is_some()) {
            push(["constraint", &table.schema, &table.name, &c.name]);
        }
    }
    arrays
}

static UNCOMMENTED: &str = include_str!("queries/uncommented.sql");

static CLOSURE: LazyLock<String> = LazyLock::new(|| expand(include_str!("queries/changed_closure.sql"), Read::All));

static REFERENCED: LazyLock<String> = LazyLock::new(|| expand_parts(include_str!("queries/referenced.sql")));

static REFERENCED_NAMES: LazyLock<String> =
    LazyLock::new(|| expand(include_str!("queries/referenced_names.sql"), Read::All));

static EXISTING: LazyLock<String> = LazyLock::new(|| {
    expand(
        "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S') AND {{user_schema:n}}",
        Read::All,
    )
});

/// A partial read costs per relation (its queries probe the catalogs by
/// OID), a whole read per row of `pg_class`. At N = 5,000 (40,791 rows) the
/// benchmark's plan has 4,730 relations to read again (its 762 changed
/// tables with their indexes and sequences): apply verifies them in
/// 0.64-0.72 s against 1.62-1.69 s read whole. When the relations their
/// dependency rows refer to were read again whole too, 7,176 took
/// 1.17-1.46 s against 1.82-1.84 s, and a larger plan's ~17,000 (3,206
/// tables) 1.32-1.38 s against 1.52 s.
/// Above one relation to read in this many rows, the whole read is the
/// faster; below `PARTIAL_READ_UP_TO` relations, both take a fraction of a
/// second and the partial read is kept.
const WHOLE_READ_PAYS_FROM: usize = 2;
const PARTIAL_READ_UP_TO: usize = 1000;

/// Why a whole read is the faster, when `relations` to read of the
/// database's `pg_class` rows are too many.
fn too_many(relations: usize, rows: i64) -> Option<String> {
    let rows = usize::try_from(rows).unwrap_or(usize::MAX);
    (relations > PARTIAL_READ_UP_TO && relations.saturating_mul(WHOLE_READ_PAYS_FROM) > rows)
        .then(|| format!("{relations} relations to read again of {rows}: reading them all is faster"))
}

/// The snapshot of the database as the current transaction on `client` has
/// left it, from `previous` (a full read of it before the transaction
/// changed anything) and what the transaction changed; or why only a full
/// read is sure. Sets the session as `introspect_in_transaction` does, for
/// the rest of the transaction.
pub async fn reread_changes(
    client: &impl GenericClient,
    previous: Snapshot,
) -> Result<Result<Snapshot, String>, DbError> {
    reread(client, previous, Edges::Read).await
}

/// The catalog as the current transaction on `client` has left it, as
/// `reread_changes` finds it, without the dependencies between its objects
/// (apply's verification compares the catalog alone): the dependency rows
/// of what changed are not read, nor what the relations they refer to
/// translate to.
pub async fn reread_catalog_changes(
    client: &impl GenericClient,
    previous: Snapshot,
) -> Result<Result<Catalog, String>, DbError> {
    Ok(reread(client, previous, Edges::Skipped)
        .await?
        .map(|snapshot| snapshot.catalog))
}

/// Whether a partial read translates the dependency rows of what changed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edges {
    Read,
    /// The snapshot returned has no dependencies: only its catalog is kept.
    Skipped,
}

async fn reread(
    client: &impl GenericClient,
    previous: Snapshot,
    edges: Edges,
) -> Result<Result<Snapshot, String>, DbError> {
    prepare_session(client).await?;
    let server = server_facts(client).await?;
    if server.version != previous.server_version || server.role != previous.role {
        return Ok(Err(
            "the previous snapshot was read on another server or as another role".into(),
        ));
    }

    let context = "cannot read what the transaction changed";
    let started = Instant::now();
    // The comments removed are looked for beside the enums' labels (the two
    // questions are independent: one round trip).
    let [kinds, schemas, tables, names] = commented_parts(&previous.catalog);
    let uncommented = async {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        client.query(UNCOMMENTED, &[&kinds, &schemas, &tables, &names]).await
    };
    let (enum_rows, uncommented) = futures_util::future::join(client.query(ENUMS_CHANGED, &[]), uncommented).await;
    let enums = enum_rows
        .map_err(query_error(context))?
        .iter()
        .map(|row| {
            Ok(EnumWritten {
                oid: row.try_get(0)?,
                name: QualifiedName::new(row.try_get::<_, String>(1)?, row.try_get::<_, String>(2)?),
                labels: row.try_get(3)?,
                written: row.try_get::<_, Option<Vec<String>>>(4)?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, tokio_postgres::Error>>()
        .map_err(query_error(context))?;
    let relabeled = relabeled(enums, &previous.catalog);
    let mut touched: Vec<u32> = client
        .query(CHANGED.as_str(), &[&relabeled])
        .await
        .map_err(query_error(context))?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(query_error(context))?;
    for row in uncommented.map_err(query_error(context))? {
        touched.push(row.try_get(0).map_err(query_error(context))?);
    }
    let mut changed: Vec<u32> = Vec::new();
    let mut dirty: HashSet<QualifiedName> = HashSet::new();
    for row in client
        .query(CLOSURE.as_str(), &[&touched])
        .await
        .map_err(query_error(context))?
    {
        let oid: u32 = row.try_get(0).map_err(query_error(context))?;
        let name = QualifiedName::new(
            row.try_get::<_, String>(1).map_err(query_error(context))?,
            row.try_get::<_, String>(2).map_err(query_error(context))?,
        );
        if row.try_get::<_, bool>(4).map_err(query_error(context))? {
            return Ok(Err(format!("partitioned table, partition or index {name} changed")));
        }
        changed.push(oid);
        dirty.insert(name);
    }
    timings::record("read what changed: the changed relations", started);
    if let Some(why) = too_many(changed.len(), server.relations) {
        return Ok(Err(why));
    }
    changed.sort_unstable();
    changed.dedup();
    // The dependency rows first: what the relations they refer to translate
    // to is read too (`referred_only`: those the transaction did not change).
    let (dependency_rows, referred_only) = match edges {
        Edges::Skipped => (Vec::new(), Vec::new()),
        Edges::Read => {
            let started = Instant::now();
            let dependencies = PARTIAL_QUERIES
                .iter()
                .find(|(name, ..)| *name == "dependencies")
                .map(|(_, sql, _)| sql.as_str())
                .unwrap_or_default();
            let dependency_rows = deps::decode(
                client
                    .query(dependencies, &[&changed])
                    .await
                    .map_err(query_error("cannot read dependencies again"))?,
            )?;
            let (classes, objects) = deps::referenced(&dependency_rows);
            let mut referred_only = Vec::new();
            for row in client
                .query(REFERENCED.as_str(), &[&classes, &objects])
                .await
                .map_err(query_error(context))?
            {
                let oid: u32 = row.try_get(0).map_err(query_error(context))?;
                if row.try_get::<_, bool>(1).map_err(query_error(context))? {
                    return Ok(Err("a changed relation refers to a partitioned one".into()));
                }
                if changed.binary_search(&oid).is_err() {
                    referred_only.push(oid);
                }
            }
            referred_only.sort_unstable();
            referred_only.dedup();
            timings::record("read what changed: the relations they refer to", started);
            (dependency_rows, referred_only)
        }
    };
    let started = Instant::now();
    // Every relation's name (to know which are gone), sent first: its rows
    // are decoded while the server answers the queries after it.
    let existing = async {
        client
            .query(EXISTING.as_str(), &[])
            .await
            .map_err(query_error(context))?
            .iter()
            .map(|row| {
                Ok(QualifiedName::new(
                    row.try_get::<_, String>(0)?,
                    row.try_get::<_, String>(1)?,
                ))
            })
            .collect::<Result<HashSet<QualifiedName>, tokio_postgres::Error>>()
            .map_err(query_error(context))
    };
    // The relations changed are read again whole; those only referred to,
    // by what their OIDs translate to.
    let names = async {
        if referred_only.is_empty() {
            return Ok(Vec::new());
        }
        client
            .query(REFERENCED_NAMES.as_str(), &[&referred_only])
            .await
            .map_err(query_error("cannot read the names of the relations referred to"))
    };
    let others = PARTIAL_QUERIES.iter().filter(|(name, ..)| *name != "dependencies");
    let reads = others.map(|(name, sql, takes_oids)| {
        let oids = &changed;
        async move {
            let rows = match takes_oids {
                true => client.query(sql.as_str(), &[oids]).await,
                false => client.query(sql.as_str(), &[]).await,
            };
            rows.map(|rows| (*name, rows))
                .map_err(query_error(format!("cannot read {name} again")))
        }
    });
    let (existing, names, by_name) =
        futures_util::future::try_join3(existing, names, futures_util::future::try_join_all(reads)).await?;
    debug_assert_eq!(by_name.len() + 1, QUERIES.len());
    timings::record("read what changed: the relations that exist and the queries", started);
    let started = Instant::now();
    let mut rows = Rows {
        by_name: by_name.into_iter().collect(),
    };
    let column_rows = rows.take("columns");
    let (partial, mut oids) = build::catalog(&mut rows, &server.role, || build::column_rows(column_rows))?;
    build::add_names(&mut oids, &names)?;
    let fresh_stats = stats::table_stats(rows.get("table statistics"))?;

    // What was read again, and what changed whether or not it was read
    // (a standalone sequence replaced by an identity sequence of the same
    // name, which belongs to its column).
    let reread: HashSet<QualifiedName> = partial
        .tables
        .keys()
        .chain(partial.views.keys())
        .chain(partial.sequences.keys())
        .chain(dirty.iter())
        .cloned()
        .collect();
    let Snapshot {
        mut catalog,
        deps: mut dependencies,
        mut stats,
        ..
    } = previous;
    stats.retain(|q, _| existing.contains(q) && !reread.contains(q));
    stats.extend(fresh_stats);
    let kept = (edges == Edges::Read).then(|| Kept {
        existing: &existing,
        dirty: &dirty,
        tables: catalog.tables.keys().cloned().collect(),
    });
    merge_catalog(&mut catalog, partial, &reread, &existing);
    match kept {
        Some(kept) => {
            let fresh = deps::dependencies(dependency_rows, &oids, &catalog)?;
            merge_dependencies(&mut dependencies, fresh, &kept);
        }
        None => dependencies = Dependencies::default(),
    }
    timings::record("read what changed: build and merge", started);
    Ok(Ok(Snapshot {
        catalog,
        deps: dependencies,
        server_version: server.version,
        role: server.role,
        stats,
    }))
}

/// Takes the relations read again from `partial` into `catalog` (tables,
/// views and sequences), with their indexes, triggers and policies, in
/// place of what it had under the names in `reread` (those read again and
/// those that changed); drops the relations that no longer exist; takes
/// every kind that belongs to no relation from `partial` whole.
fn merge_catalog(
    catalog: &mut Catalog,
    partial: Catalog,
    reread: &HashSet<QualifiedName>,
    existing: &HashSet<QualifiedName>,
) {
    let stays = |q: &QualifiedName| existing.contains(q) && !reread.contains(q);
    catalog.tables.retain(|q, _| stays(q));
    catalog.views.retain(|q, _| stays(q));
    catalog.sequences.retain(|q, _| stays(q));
    catalog
        .indexes
        .retain(|q, index| stays(q) && !reread.contains(&index.table));
    catalog.triggers.retain(|(table, _), _| stays(table));
    catalog.policies.retain(|(table, _), _| stays(table));
    let Catalog {
        schemas,
        extensions,
        enums,
        sequences,
        tables,
        indexes,
        domains,
        composite_types,
        range_types,
        collations,
        views,
        functions,
        aggregates,
        triggers,
        policies,
        default_privileges,
    } = partial;
    catalog.tables.extend(tables);
    catalog.sequences.extend(sequences);
    catalog.views.extend(views);
    catalog.indexes.extend(indexes);
    catalog.triggers.extend(triggers);
    catalog.policies.extend(policies);
    catalog.schemas = schemas;
    catalog.extensions = extensions;
    catalog.enums = enums;
    catalog.domains = domains;
    catalog.composite_types = composite_types;
    catalog.range_types = range_types;
    catalog.collations = collations;
    catalog.functions = functions;
    catalog.aggregates = aggregates;
    catalog.default_privileges = default_privileges;
}

/// Which of the previous snapshot's dependency edges still hold as they
/// were: those from an object of a relation that exists and did not change.
struct Kept<'a> {
    existing: &'a HashSet<QualifiedName>,
    /// The relations the transaction changed (with their indexes and
    /// sequences).
    dirty: &'a HashSet<QualifiedName>,
    /// The previous snapshot's tables (a constraint on anything else is a
    /// domain's, which belongs to no relation).
    tables: BTreeSet<QualifiedName>,
}

impl Kept<'_> {
    fn from(&self, from: &ObjectId) -> bool {
        let relation = match from {
            ObjectId::Table(q)
            | ObjectId::Column(q, _)
            | ObjectId::Index(q)
            | ObjectId::View(q)
            | ObjectId::MaterializedView(q)
            | ObjectId::Trigger(q, _)
            | ObjectId::Policy(q, _)
            | ObjectId::Sequence(q)
            | ObjectId::SequenceOwner(q) => q,
            ObjectId::Constraint(q, _) if self.tables.contains(q) => q,
            ObjectId::Constraint(..)
            | ObjectId::Schema(_)
            | ObjectId::Extension(_)
            | ObjectId::Type(_)
            | ObjectId::Function(..)
            | ObjectId::Aggregate(..)
            | ObjectId::Collation(_)
            | ObjectId::DefaultPrivileges(..) => return false,
        };
        self.existing.contains(relation) && !self.dirty.contains(relation)
    }
}

/// Replaces the edges of what changed with `fresh` (read again, with every
/// function body's references found again).
fn merge_dependencies(dependencies: &mut Dependencies, fresh: Dependencies, kept: &Kept) {
    dependencies.retain(|e| e.kind != DependencyKind::Reference && kept.from(e.from));
    dependencies.merge(fresh);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Dependency, Domain, Index, Table, Trigger};

    fn q(name: &str) -> QualifiedName {
        QualifiedName::new("app", name)
    }

    fn table(name: &str, comment: &str) -> (QualifiedName, Table) {
        let table = Table {
            name: q(name),
            comment: Some(comment.to_string()),
            ..Table::default()
        };
        (q(name), table)
    }

    fn index(name: &str, on: &str) -> (QualifiedName, Index) {
        let index = Index {
            name: q(name),
            table: q(on),
            ..Index::default()
        };
        (q(name), index)
    }

    fn trigger(on: &str, name: &str) -> ((QualifiedName, String), Trigger) {
        let trigger = Trigger {
            table: q(on),
            name: name.to_string(),
            ..Trigger::default()
        };
        ((q(on), name.to_string()), trigger)
    }

    /// `kept` stays, `changed` is read again, `gone` was dropped; `domain`
    /// belongs to no relation.
    fn previous() -> Catalog {
        let mut c = Catalog::default();
        c.tables
            .extend([table("kept", "old"), table("changed", "old"), table("gone", "old")]);
        c.indexes.extend([
            index("kept_idx", "kept"),
            index("changed_idx", "changed"),
            index("gone_idx", "gone"),
        ]);
        c.triggers
            .extend([trigger("kept", "tg"), trigger("changed", "tg"), trigger("gone", "tg")]);
        c.domains.insert(q("domain"), Domain::default());
        c
    }

    #[test]
    fn only_enums_that_may_have_a_label_renamed_count_as_printing_otherwise() {
        let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut before = Catalog::default();
        for name in ["added", "renamed", "renamed_and_readded", "renumbered"] {
            let enum_type = crate::catalog::EnumType {
                name: q(name),
                labels: labels(&["low", "high"]),
                ..Default::default()
            };
            before.enums.insert(q(name), enum_type);
        }
        let written = |oid, name: &str, now: &[&str], written: &[&str]| EnumWritten {
            oid,
            name: q(name),
            labels: labels(now),
            written: labels(written),
        };
        let found = relabeled(
            vec![
                written(1, "added", &["low", "mid", "high"], &["mid"]),
                written(2, "renamed", &["low", "top"], &["top"]),
                written(3, "renamed_and_readded", &["low", "top", "high"], &["top", "high"]),
                written(4, "renumbered", &["low", "mid", "high"], &["low", "mid", "high"]),
                written(5, "new", &["a"], &["a"]),
            ],
            &before,
        );
        assert_eq!(found, [2, 3, 4, 5]);
    }

    #[test]
    fn placeholders_are_all_expanded() {
        let all = PARTIAL_QUERIES
            .iter()
            .map(|(name, sql, _)| (*name, sql.as_str()))
            .chain([
                ("changed", CHANGED.as_str()),
                ("closure", CLOSURE.as_str()),
                ("referenced", REFERENCED.as_str()),
                ("referenced names", REFERENCED_NAMES.as_str()),
                ("existing", EXISTING.as_str()),
            ]);
        for (name, sql) in all {
            assert!(!sql.contains("{{"), "unexpanded placeholder in {name}:\n{sql}");
        }
        for (catalog, owner) in RELATION_PARTS {
            for sql in [&*CHANGED, &*REFERENCED] {
                assert!(sql.contains(&format!("pg_catalog.{catalog} x")) && sql.contains(owner));
            }
        }
    }

    #[test]
    fn the_relations_read_again_replace_theirs_and_the_dropped_ones_go() {
        let mut catalog = previous();
        let mut partial = Catalog::default();
        partial.tables.extend([table("changed", "new")]);
        partial.indexes.extend([index("changed_idx2", "changed")]);
        partial.triggers.extend([trigger("changed", "tg2")]);
        let reread: HashSet<QualifiedName> = [q("changed")].into();
        let existing: HashSet<QualifiedName> = [q("kept"), q("kept_idx"), q("changed"), q("changed_idx2")].into();
        merge_catalog(&mut catalog, partial, &reread, &existing);

        let names = |keys: Vec<&QualifiedName>| keys.into_iter().map(|k| k.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(catalog.tables.keys().collect()), ["changed", "kept"]);
        assert_eq!(catalog.tables[&q("changed")].comment.as_deref(), Some("new"));
        assert_eq!(catalog.tables[&q("kept")].comment.as_deref(), Some("old"));
        assert_eq!(names(catalog.indexes.keys().collect()), ["changed_idx2", "kept_idx"]);
        let triggers: Vec<String> = catalog
            .triggers
            .keys()
            .map(|(t, n)| format!("{}.{n}", t.name))
            .collect();
        assert_eq!(triggers, ["changed.tg2", "kept.tg"]);
        // Kinds that belong to no relation come whole from the read.
        assert!(catalog.domains.is_empty());
    }

    #[test]
    fn only_edges_from_unchanged_relations_that_exist_are_kept() {
        let catalog = previous();
        let existing: HashSet<QualifiedName> = [q("kept"), q("kept_idx"), q("changed"), q("changed_idx")].into();
        let dirty: HashSet<QualifiedName> = [q("changed"), q("changed_idx")].into();
        let kept = Kept {
            existing: &existing,
            dirty: &dirty,
            tables: catalog.tables.keys().cloned().collect(),
        };
        let to = ObjectId::Schema("app".into());
        let edge = |from: ObjectId, kind| Dependency {
            from,
            to: to.clone(),
            kind,
        };
        let mut dependencies = Dependencies::from_edges(vec![
            edge(ObjectId::Column(q("kept"), "a".into()), DependencyKind::Normal),
            edge(ObjectId::Index(q("kept_idx")), DependencyKind::Auto),
            edge(ObjectId::Constraint(q("kept"), "c".into()), DependencyKind::Normal),
            edge(ObjectId::Column(q("changed"), "a".into()), DependencyKind::Normal),
            edge(ObjectId::Index(q("changed_idx")), DependencyKind::Auto),
            edge(ObjectId::Table(q("gone")), DependencyKind::Normal),
            edge(ObjectId::Constraint(q("domain"), "c".into()), DependencyKind::Normal),
            edge(ObjectId::Type(q("domain")), DependencyKind::Normal),
            edge(ObjectId::Function(q("f"), String::new()), DependencyKind::Reference),
        ]);
        let fresh = Dependencies::from_edges(vec![edge(
            ObjectId::Column(q("changed"), "b".into()),
            DependencyKind::Normal,
        )]);
        merge_dependencies(&mut dependencies, fresh, &kept);
        let from: Vec<String> = dependencies.iter().map(|e| format!("{:?}", e.from)).collect();
        assert_eq!(
            from.len(),
            4,
            "the kept table's column, index and constraint, and the fresh edge: {from:?}"
        );
        assert!(dependencies.iter().all(|e| match &e.from {
            ObjectId::Column(t, c) => t == &q("kept") || c == "b",
            ObjectId::Index(i) => i == &q("kept_idx"),
            ObjectId::Constraint(t, _) => t == &q("kept"),
            _ => false,
        }));
    }
}
