//! The model: what a database's schema is, as plain data.
//!
//! A `Catalog` is read from a live database (the target, or the shadow database
//! holding the desired state) by `introspect`, and compared by `diff`. It holds
//! no connections and does no I/O; every collection is a `BTreeMap` keyed by the
//! object's qualified identity, so iteration order (and so every plan) is
//! deterministic. Text that PostgreSQL normalizes (types, defaults, constraint
//! and index definitions) is kept exactly as the server prints it, with
//! `search_path` empty so every name is schema-qualified the same way on both
//! sides.

mod fingerprint;
mod ids;
mod keyed;
mod objects;

pub use fingerprint::Fingerprint;
pub use ids::{ObjectId, QualifiedName};
pub use keyed::Keyed;
pub use objects::*;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The schema objects of one database that converge manages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(with = "keyed")]
    pub schemas: BTreeMap<String, Schema>,
    #[serde(with = "keyed")]
    pub extensions: BTreeMap<String, Extension>,
    #[serde(with = "keyed")]
    pub enums: BTreeMap<QualifiedName, EnumType>,
    #[serde(with = "keyed")]
    pub sequences: BTreeMap<QualifiedName, Sequence>,
    #[serde(with = "keyed")]
    pub tables: BTreeMap<QualifiedName, Table>,
    #[serde(with = "keyed")]
    pub indexes: BTreeMap<QualifiedName, Index>,
}

impl Catalog {
    /// The catalog with everything that does not count for equality put in a
    /// canonical form: columns sorted by name (PostgreSQL cannot reorder the
    /// columns of an existing table, so column order is not part of the state
    /// converge converges).
    pub fn canonical(&self) -> Catalog {
        let mut c = self.clone();
        for t in c.tables.values_mut() {
            t.columns.sort_by(|a, b| a.name.cmp(&b.name));
        }
        c
    }

    /// True when both catalogs describe the same schema (see [`Catalog::canonical`]).
    pub fn same_as(&self, other: &Catalog) -> bool {
        self.canonical() == other.canonical()
    }

    /// Every object's identity, with the objects inside tables (columns,
    /// constraints) included.
    pub fn object_ids(&self) -> BTreeSet<ObjectId> {
        let mut ids = BTreeSet::new();
        ids.extend(self.schemas.keys().map(|s| ObjectId::Schema(s.clone())));
        ids.extend(self.extensions.keys().map(|s| ObjectId::Extension(s.clone())));
        ids.extend(self.enums.keys().map(|q| ObjectId::Type(q.clone())));
        ids.extend(self.sequences.keys().map(|q| ObjectId::Sequence(q.clone())));
        for (q, t) in &self.tables {
            ids.insert(ObjectId::Table(q.clone()));
            ids.extend(t.columns.iter().map(|c| ObjectId::Column(q.clone(), c.name.clone())));
            ids.extend(t.constraints.keys().map(|n| ObjectId::Constraint(q.clone(), n.clone())));
        }
        ids.extend(self.indexes.keys().map(|q| ObjectId::Index(q.clone())));
        ids
    }

    /// The number of top-level objects, for summaries.
    pub fn len(&self) -> usize {
        self.schemas.len()
            + self.extensions.len()
            + self.enums.len()
            + self.sequences.len()
            + self.tables.len()
            + self.indexes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How strongly one object depends on another, as `pg_depend` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DependencyKind {
    /// The dependent must go before the referenced object can (`n`).
    Normal,
    /// The dependent is dropped together with the referenced object (`a`).
    Auto,
    /// The dependent is part of the referenced object's implementation (`i`).
    Internal,
}

/// One edge: `from` needs `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dependency {
    pub from: ObjectId,
    pub to: ObjectId,
    pub kind: DependencyKind,
}

/// All dependencies between the objects of one catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependencies {
    pub edges: BTreeSet<Dependency>,
}

impl Dependencies {
    pub fn insert(&mut self, from: ObjectId, to: ObjectId, kind: DependencyKind) {
        if from != to {
            self.edges.insert(Dependency { from, to, kind });
        }
    }

    pub fn contains_edge(&self, from: &ObjectId, to: &ObjectId) -> bool {
        [DependencyKind::Normal, DependencyKind::Auto, DependencyKind::Internal]
            .into_iter()
            .any(|kind| {
                self.edges.contains(&Dependency {
                    from: from.clone(),
                    to: to.clone(),
                    kind,
                })
            })
    }
}

/// What introspection returns: the catalog, its dependencies and the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub catalog: Catalog,
    pub deps: Dependencies,
    /// `server_version_num`, e.g. 150018.
    pub server_version: i32,
}
