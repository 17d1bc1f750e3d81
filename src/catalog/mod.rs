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
pub mod canonical;
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
            ids.extend(t.constraints.keys().map(|n| ObjectId::Constraint(q.clone(), n.clone())));
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

/// How strongly one object depends on another, as `pg_depend` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DependencyKind {
    /// The dependent must go before the referenced object can (`n`).
    Normal,
    /// The dependent is dropped together with the referenced object (`a`).
    Auto,
    /// The dependent is part of the referenced object's implementation (`i`).
    Internal,
    /// Found by converge in a function body, where PostgreSQL records
    /// nothing: an ordering preference, never a reason to drop.
    Reference,
}

/// One edge: `from` needs `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dependency {
    pub from: ObjectId,
    pub to: ObjectId,
    pub kind: DependencyKind,
}

/// All dependencies between the objects of one catalog.
///
/// A sorted list without repeats rather than a tree: the edges from one
/// object are one range of it, found by binary search, and a list costs
/// neither a node per handful of edges nor, when it is built from 100,000
/// `pg_depend` rows or read back from the cache, a second copy of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependencies {
    /// In order (`from`, then `to`, then kind), each edge once, none from an
    /// object to itself.
    #[serde(deserialize_with = "edges_in_order")]
    edges: Vec<Dependency>,
}

/// The edges as written (in order, when converge wrote them), put in order
/// if they are not.
fn edges_in_order<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Dependency>, D::Error> {
    Ok(Dependencies::from_edges(Vec::<Dependency>::deserialize(deserializer)?).edges)
}

impl Dependencies {
    /// The set of these edges, in any order, repeats and edges from an
    /// object to itself left out.
    pub fn from_edges(mut edges: Vec<Dependency>) -> Dependencies {
        if !edges.is_sorted_by(|a, b| a < b) {
            // Runs already in order (as `pg_depend` is read in halves) are
            // merged, not sorted again.
            edges.sort();
            edges.dedup();
        }
        edges.retain(|e| e.from != e.to);
        Dependencies { edges }
    }

    pub fn insert(&mut self, from: ObjectId, to: ObjectId, kind: DependencyKind) {
        if from != to {
            let edge = Dependency { from, to, kind };
            if let Err(at) = self.edges.binary_search(&edge) {
                self.edges.insert(at, edge);
            }
        }
    }

    /// Every edge, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Dependency> {
        self.edges.iter()
    }

    pub fn len(&self) -> usize {
        self.edges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Keeps only the edges `keep` says to.
    pub fn retain(&mut self, keep: impl FnMut(&Dependency) -> bool) {
        self.edges.retain(keep);
    }

    /// Adds the edges of `other`.
    pub fn merge(&mut self, other: Dependencies) {
        let mut edges = std::mem::take(&mut self.edges);
        edges.extend(other.edges);
        *self = Dependencies::from_edges(edges);
    }

    /// The edges from `from`, in order: one range of the list, which is
    /// ordered by `from` first.
    pub fn from<'a>(&'a self, from: &'a ObjectId) -> impl Iterator<Item = &'a Dependency> + 'a {
        let first = self.edges.partition_point(|e| &e.from < from);
        self.edges[first..].iter().take_while(move |e| &e.from == from)
    }

    pub fn contains_edge(&self, from: &ObjectId, to: &ObjectId) -> bool {
        self.from(from).any(|e| &e.to == to)
    }
}

impl<'a> IntoIterator for &'a Dependencies {
    type Item = &'a Dependency;
    type IntoIter = std::slice::Iter<'a, Dependency>;
    fn into_iter(self) -> Self::IntoIter {
        self.edges.iter()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edges_from_an_object_are_exactly_those_it_is_the_source_of() {
        let table = |n: &str| ObjectId::Table(QualifiedName::new("public", n));
        let mut deps = Dependencies::default();
        deps.insert(table("b"), ObjectId::Schema("public".into()), DependencyKind::Normal);
        deps.insert(table("b"), table("a"), DependencyKind::Auto);
        deps.insert(table("b"), table("c"), DependencyKind::Reference);
        deps.insert(table("a"), table("c"), DependencyKind::Normal);
        deps.insert(table("c"), table("b"), DependencyKind::Normal);
        deps.insert(ObjectId::Schema(String::new()), table("b"), DependencyKind::Normal);
        let b = table("b");
        let from_b: Vec<&Dependency> = deps.from(&b).collect();
        let expected: Vec<&Dependency> = deps.edges.iter().filter(|e| e.from == b).collect();
        assert_eq!(from_b, expected);
        assert_eq!(from_b.len(), 3);
        assert_eq!(deps.from(&ObjectId::Schema(String::new())).count(), 1);
        let z = table("z");
        assert_eq!(deps.from(&z).count(), 0);
    }

    #[test]
    fn a_list_of_edges_is_kept_as_their_set() {
        let table = |n: &str| ObjectId::Table(QualifiedName::new("public", n));
        let edge = |from: &str, to: &str| Dependency {
            from: table(from),
            to: table(to),
            kind: DependencyKind::Normal,
        };
        let deps = Dependencies::from_edges(vec![edge("c", "a"), edge("a", "b"), edge("c", "a"), edge("b", "b")]);
        let mut inserted = Dependencies::default();
        for (from, to) in [("a", "b"), ("c", "a"), ("b", "b"), ("c", "a")] {
            inserted.insert(table(from), table(to), DependencyKind::Normal);
        }
        assert_eq!(deps, inserted);
        assert_eq!(deps.iter().collect::<Vec<_>>(), [&edge("a", "b"), &edge("c", "a")]);
        assert!(deps.contains_edge(&table("c"), &table("a")));
        assert!(!deps.contains_edge(&table("a"), &table("c")));
        let mut merged = Dependencies::from_edges(vec![edge("c", "a")]);
        merged.merge(Dependencies::from_edges(vec![edge("a", "b"), edge("c", "a")]));
        assert_eq!(merged, deps);
    }

    #[test]
    fn edges_read_back_in_bulk_are_the_set_written() {
        let column = |t: u32, c: u32| ObjectId::Column(QualifiedName::new("s", format!("t{t}")), format!("c{c}"));
        let mut deps = Dependencies::default();
        for i in 0..500u32 {
            let (t, c) = ((i * 7919) % 13, (i * 31) % 5);
            let kind = [DependencyKind::Normal, DependencyKind::Auto][(i % 2) as usize];
            let to = ObjectId::Table(QualifiedName::new("s", format!("t{}", (t + 1) % 13)));
            deps.insert(column(t, c), to, kind);
        }
        assert!(deps.edges.len() > 100);
        let bytes = postcard::to_allocvec(&deps).unwrap();
        let read: Dependencies = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(read, deps);
        let json: Dependencies = serde_json::from_str(&serde_json::to_string(&deps).unwrap()).unwrap();
        assert_eq!(json, deps);
        // Written out of order (by hand), they still make the same set.
        let mut edges: Vec<&Dependency> = deps.edges.iter().collect();
        edges.reverse();
        let reversed: Dependencies =
            serde_json::from_str(&format!("{{\"edges\":{}}}", serde_json::to_string(&edges).unwrap())).unwrap();
        assert_eq!(reversed, deps);
    }
}
