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

mod aggregates;
mod by_name;
pub mod canonical;
mod dependencies;
mod filter;
mod fingerprint;
mod ids;
mod keyed;
mod objects;
mod privileges;
mod relations;
mod routines;
mod types;

pub use aggregates::*;
pub use by_name::{ByName, Named};
pub use dependencies::{Dependencies, Dependency, DependencyKind, DependencyRef};
pub use filter::Filter;
pub use fingerprint::Fingerprint;
pub use ids::{ObjectId, QualifiedName};
pub use keyed::Keyed;
pub use objects::*;
pub use privileges::*;
pub use relations::*;
pub use routines::*;
pub use types::*;

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
    #[serde(with = "keyed")]
    pub domains: BTreeMap<QualifiedName, Domain>,
    #[serde(with = "keyed")]
    pub composite_types: BTreeMap<QualifiedName, CompositeType>,
    #[serde(with = "keyed")]
    pub range_types: BTreeMap<QualifiedName, RangeType>,
    #[serde(with = "keyed")]
    pub collations: BTreeMap<QualifiedName, Collation>,
    /// Views and materialized views.
    #[serde(with = "keyed")]
    pub views: BTreeMap<QualifiedName, View>,
    /// Functions and procedures, keyed by name and identity arguments.
    #[serde(with = "keyed")]
    pub functions: BTreeMap<(QualifiedName, String), Function>,
    /// Aggregates, keyed like functions (they share their namespace).
    #[serde(with = "keyed")]
    pub aggregates: BTreeMap<(QualifiedName, String), Aggregate>,
    #[serde(with = "keyed")]
    pub triggers: BTreeMap<(QualifiedName, String), Trigger>,
    #[serde(with = "keyed")]
    pub policies: BTreeMap<(QualifiedName, String), Policy>,
    #[serde(with = "keyed")]
    pub default_privileges: BTreeMap<(String, String, String), DefaultPrivileges>,
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
        // ALTER TYPE ... ADD ATTRIBUTE appends, like ADD COLUMN.
        for t in c.composite_types.values_mut() {
            t.attributes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        c
    }

    /// The catalog with every owner blanked: owners are converged only when
    /// asked for.
    pub fn without_owners(&self) -> Catalog {
        let mut c = self.clone();
        c.clear_owners();
        c
    }

    /// Blanks every owner in place.
    pub fn clear_owners(&mut self) {
        let c = self;
        c.schemas.values_mut().for_each(|x| x.owner.clear());
        c.enums.values_mut().for_each(|x| x.owner.clear());
        c.sequences.values_mut().for_each(|x| x.owner.clear());
        c.tables.values_mut().for_each(|x| x.owner.clear());
        c.domains.values_mut().for_each(|x| x.owner.clear());
        c.composite_types.values_mut().for_each(|x| x.owner.clear());
        c.range_types.values_mut().for_each(|x| x.owner.clear());
        c.collations.values_mut().for_each(|x| x.owner.clear());
        c.views.values_mut().for_each(|x| x.owner.clear());
        c.functions.values_mut().for_each(|x| x.owner.clear());
        c.aggregates.values_mut().for_each(|x| x.owner.clear());
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
            ids.extend(
                t.constraints
                    .keys()
                    .map(|n| ObjectId::Constraint(q.clone(), n.to_string())),
            );
        }
        ids.extend(self.indexes.keys().map(|q| ObjectId::Index(q.clone())));
        ids.extend(self.domains.keys().map(|q| ObjectId::Type(q.clone())));
        ids.extend(self.composite_types.keys().map(|q| ObjectId::Type(q.clone())));
        ids.extend(self.range_types.keys().map(|q| ObjectId::Type(q.clone())));
        ids.extend(self.collations.keys().map(|q| ObjectId::Collation(q.clone())));
        ids.extend(self.views.values().map(View::id));
        ids.extend(
            self.functions
                .keys()
                .map(|(q, a)| ObjectId::Function(q.clone(), a.clone())),
        );
        ids.extend(self.aggregates.values().map(Aggregate::id));
        ids.extend(
            self.triggers
                .keys()
                .map(|(t, n)| ObjectId::Trigger(t.clone(), n.clone())),
        );
        ids.extend(
            self.policies
                .keys()
                .map(|(t, n)| ObjectId::Policy(t.clone(), n.clone())),
        );
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
            + self.domains.len()
            + self.composite_types.len()
            + self.range_types.len()
            + self.collations.len()
            + self.views.len()
            + self.functions.len()
            + self.aggregates.len()
            + self.triggers.len()
            + self.policies.len()
            + self.default_privileges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What introspection returns: the catalog, its dependencies and the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub catalog: Catalog,
    pub deps: Dependencies,
    /// `server_version_num`, e.g. 150018.
    pub server_version: i32,
    /// The role the snapshot was read as (`current_user`).
    pub role: String,
    /// Planner statistics of tables and materialized views, for the estimates
    /// beside hazards. Not part of the catalog: comparisons and fingerprints
    /// never see them, and they are not serialized.
    #[serde(skip)]
    pub stats: BTreeMap<QualifiedName, TableStats>,
}

/// What `pg_class` estimates about a table's size (no table is scanned or
/// locked to know it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// `reltuples`; `None` when the table was never vacuumed or analyzed
    /// (PostgreSQL 14 and later say -1).
    pub rows: Option<i64>,
    /// `relpages` times the block size (0 until the first VACUUM or ANALYZE).
    pub bytes: i64,
}

impl TableStats {
    /// Known to hold no rows: analyzed, and empty then.
    pub fn known_empty(&self) -> bool {
        self.rows == Some(0) && self.bytes == 0
    }
}
