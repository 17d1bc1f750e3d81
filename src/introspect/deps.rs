//! Translating `pg_depend` into dependencies between catalog identities, plus
//! the references inside function bodies that `pg_depend` does not record.
//!
//! Rows whose ends are not objects converge manages (built-in types,
//! languages, ...) are left out. Objects that belong to an extension stand for
//! the extension; array types stand for their element type; a view's rewrite
//! rule stands for the view; the `OWNED BY` link of a sequence becomes the
//! sequence's `SequenceOwner` object, so that a column default can need the
//! sequence while the ownership needs the column.

use super::bodies;
use super::build::{ClassObject, Oids};
use crate::catalog::{Catalog, Dependencies, Dependency, DependencyKind, ObjectId};
use crate::db::DbError;
use foldhash::HashMap;
use tokio_postgres::Row;

// Fixed OIDs of the system catalogs (the same in every PostgreSQL release).
const PG_CLASS: u32 = 1259;
const PG_TYPE: u32 = 1247;
const PG_PROC: u32 = 1255;
const PG_CONSTRAINT: u32 = 2606;
const PG_ATTRDEF: u32 = 2604;
const PG_NAMESPACE: u32 = 2615;
const PG_REWRITE: u32 = 2618;
const PG_TRIGGER: u32 = 2620;
const PG_EXTENSION: u32 = 3079;
const PG_POLICY: u32 = 3256;
const PG_COLLATION: u32 = 3456;

/// How many rows of the dependencies query become edges before they are
/// interned into the set (see `dependencies`).
const TRANSLATED_AT_ONCE: usize = 16_384;

/// A row of the dependencies query.
pub(crate) struct DepRow {
    classid: u32,
    objid: u32,
    objsubid: i32,
    refclassid: u32,
    refobjid: u32,
    refobjsubid: i32,
    /// `pg_depend.deptype`, a one-byte "char" (read without allocating).
    deptype: u8,
}

pub(crate) fn read(row: &Row) -> Result<DepRow, DbError> {
    let err = |e: tokio_postgres::Error| DbError::Query {
        context: "unexpected value in the dependency catalog query".into(),
        message: e.to_string(),
    };
    Ok(DepRow {
        classid: row.try_get(0).map_err(err)?,
        objid: row.try_get(1).map_err(err)?,
        objsubid: row.try_get(2).map_err(err)?,
        refclassid: row.try_get(3).map_err(err)?,
        refobjid: row.try_get(4).map_err(err)?,
        refobjsubid: row.try_get(5).map_err(err)?,
        deptype: row.try_get::<_, i8>(6).map_err(err)? as u8,
    })
}

/// The rows of the dependencies query, decoded (and freed).
pub(crate) fn decode(rows: Vec<Row>) -> Result<Vec<DepRow>, DbError> {
    rows.iter().map(read).collect()
}

/// What `rows` refer to, as (class, object) pairs without repeats, leaving
/// out what only maps objects to their extension or array types to their
/// element (which never become edges).
pub(crate) fn referenced(rows: &[DepRow]) -> (Vec<u32>, Vec<u32>) {
    let mut pairs: Vec<(u32, u32)> = rows
        .iter()
        .filter(|r| r.deptype != b'e' && !(r.deptype == b'i' && r.classid == PG_TYPE && r.refclassid == PG_TYPE))
        .map(|r| (r.refclassid, r.refobjid))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs.into_iter().unzip()
}

pub(crate) fn dependencies(rows: Vec<DepRow>, oids: &Oids, catalog: &Catalog) -> Result<Dependencies, DbError> {
    let mut members: HashMap<(u32, u32), ObjectId> = HashMap::default();
    let mut array_of: HashMap<u32, u32> = HashMap::default();
    for r in &rows {
        if r.deptype == b'e' && r.refclassid == PG_EXTENSION {
            if let Some(name) = oids.extensions.get(&r.refobjid) {
                members.insert((r.classid, r.objid), ObjectId::Extension(name.clone()));
            }
        } else if r.deptype == b'i' && r.classid == PG_TYPE && r.refclassid == PG_TYPE {
            array_of.insert(r.objid, r.refobjid);
        }
    }
    let resolve = |classid: u32, objid: u32, subid: i32| -> Option<ObjectId> {
        let objid = if classid == PG_TYPE {
            array_of.get(&objid).copied().unwrap_or(objid)
        } else {
            objid
        };
        if let Some(ext) = members.get(&(classid, objid)) {
            return Some(ext.clone());
        }
        match classid {
            PG_CLASS => match oids.classes.get(&objid)? {
                ClassObject::WithColumns(ObjectId::Table(q)) if subid > 0 => {
                    let column = oids.columns.get(&(objid, i16::try_from(subid).ok()?))?;
                    Some(ObjectId::Column(q.clone(), column.clone()))
                }
                ClassObject::WithColumns(id) | ClassObject::Other(id) => Some(id.clone()),
            },
            PG_TYPE => oids.types.get(&objid).cloned(),
            PG_PROC => oids.functions.get(&objid).cloned(),
            PG_CONSTRAINT => oids.constraints.get(&objid).cloned(),
            PG_ATTRDEF => oids.attrdefs.get(&objid).cloned(),
            PG_NAMESPACE => oids.namespaces.get(&objid).map(|n| ObjectId::Schema(n.clone())),
            PG_EXTENSION => oids.extensions.get(&objid).map(|n| ObjectId::Extension(n.clone())),
            PG_REWRITE => oids.rewrites.get(&objid).cloned(),
            PG_TRIGGER => oids.triggers.get(&objid).cloned(),
            PG_POLICY => oids.policies.get(&objid).cloned(),
            PG_COLLATION => oids.collations.get(&objid).cloned(),
            _ => None,
        }
    };
    // The rows are translated in two halves on two threads, each made a
    // set there (each identity kept once); the two sets are then merged.
    // Each half is translated a chunk of rows at a time, merged into the
    // half's set as it goes: the edges with their owned identities (~300
    // bytes each) are never all held at once (~30 MiB for 5,000 tables).
    let translate = |rows: &[DepRow]| {
        let mut dependencies = Dependencies::default();
        for chunk in rows.chunks(TRANSLATED_AT_ONCE) {
            let mut edges: Vec<Dependency> = Vec::with_capacity(chunk.len());
            // `from_edges` would drop an edge from an object to itself too,
            // but they are many (a column default's rows, and an identity
            // sequence's, resolve to the column itself): left out here, they
            // never hold their two owned identities.
            let mut insert = |from: ObjectId, to: ObjectId, kind: DependencyKind| {
                if from != to {
                    edges.push(Dependency { from, to, kind });
                }
            };
            for r in chunk {
                let kind = match r.deptype {
                    b'n' => DependencyKind::Normal,
                    b'a' => DependencyKind::Auto,
                    b'i' => DependencyKind::Internal,
                    _ => continue,
                };
                let (Some(from), Some(to)) = (
                    resolve(r.classid, r.objid, r.objsubid),
                    resolve(r.refclassid, r.refobjid, r.refobjsubid),
                ) else {
                    continue;
                };
                let from = match (&from, &to, kind) {
                    // A sequence OWNED BY a column: the ownership, not the sequence,
                    // needs the column.
                    (ObjectId::Sequence(s), ObjectId::Column(..), DependencyKind::Auto) => {
                        insert(
                            ObjectId::SequenceOwner(s.clone()),
                            from.clone(),
                            DependencyKind::Internal,
                        );
                        ObjectId::SequenceOwner(s.clone())
                    }
                    _ => from,
                };
                insert(from, to, kind);
            }
            dependencies.merge(Dependencies::from_edges(edges));
        }
        dependencies
    };
    let references = || {
        let mut references = Vec::new();
        for (function, language, body) in &oids.bodies {
            let Some(body) = body else { continue };
            for reference in bodies::references(language, body, catalog) {
                if *function != reference {
                    references.push(Dependency {
                        from: function.clone(),
                        to: reference,
                        kind: DependencyKind::Reference,
                    });
                }
            }
        }
        references
    };
    let (first, second) = rows.split_at(rows.len() / 2);
    let (mut dependencies, second, references) = std::thread::scope(|scope| {
        // Translated here after the first half if no thread can be had.
        let second_half = std::thread::Builder::new().spawn_scoped(scope, || translate(second));
        let (first, references) = (translate(first), references());
        let second = match second_half {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => translate(second),
        };
        (first, second, references)
    });
    dependencies.merge(second);
    dependencies.merge(Dependencies::from_edges(references));
    Ok(dependencies)
}
