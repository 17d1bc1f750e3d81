//! The dependencies between a catalog's objects, each object's identity held
//! once.
//!
//! A 5,000-table catalog has some 150,000 edges between some 180,000
//! objects. Held as pairs of identities, every edge carried two copies of
//! them (five strings, each an allocation): about 330 bytes an edge, more
//! than the rest of the catalog's columns and indexes together, twice over
//! in a plan (the target's and the desired state's). Here each identity is
//! kept once, in order, and an edge is two positions in that list and a
//! kind: 12 bytes. Since the list is in order, positions compare as the
//! identities do, so the edges sorted by position are sorted by identity,
//! and every reader sees the edges in the same order as before.

use super::ObjectId;
use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use std::collections::hash_map::Entry;

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

/// One edge to add: `from` needs `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dependency {
    pub from: ObjectId,
    pub to: ObjectId,
    pub kind: DependencyKind,
}

/// One edge of a `Dependencies`, its ends borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DependencyRef<'a> {
    pub from: &'a ObjectId,
    pub to: &'a ObjectId,
    pub kind: DependencyKind,
}

/// An edge as positions in `Dependencies::objects`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Link {
    from: u32,
    to: u32,
    kind: DependencyKind,
}

/// All dependencies between the objects of one catalog: a set of edges.
///
/// The edges from one object are one range of the list, found by binary
/// search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Stored")]
pub struct Dependencies {
    /// Every object an edge names, and no other, in order, each once.
    objects: Vec<ObjectId>,
    /// In order (`from`, then `to`, then kind), each edge once, none from an
    /// object to itself.
    links: Vec<Link>,
}

/// `Dependencies` as read back (from the cache or a kept snapshot), to be
/// checked before it is used.
#[derive(Deserialize)]
struct Stored {
    objects: Vec<ObjectId>,
    links: Vec<Link>,
}

impl TryFrom<Stored> for Dependencies {
    type Error = String;

    fn try_from(stored: Stored) -> Result<Dependencies, String> {
        let Stored { mut objects, mut links } = stored;
        // Read into lists grown by doubling (a reader preallocates little for
        // a length it cannot trust): up to twice their size, ~6 MB more at
        // 5,000 tables for as long as the catalog is held.
        objects.shrink_to_fit();
        links.shrink_to_fit();
        let count = objects.len();
        let in_range = |i: u32| (i as usize) < count;
        if !objects.is_sorted_by(|a, b| a < b)
            || !links.is_sorted_by(|a, b| a < b)
            || links
                .iter()
                .any(|l| l.from == l.to || !in_range(l.from) || !in_range(l.to))
        {
            return Err("the stored dependencies are not in order".into());
        }
        let mut named = vec![false; count];
        for l in &links {
            named[l.from as usize] = true;
            named[l.to as usize] = true;
        }
        if named.contains(&false) {
            return Err("the stored dependencies name an object no edge has".into());
        }
        Ok(Dependencies { objects, links })
    }
}

/// A position in `objects`. A list of more than `u32::MAX` identities would
/// take hundreds of gigabytes: a position always fits.
fn position(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Dependencies {
    /// The set of these edges, in any order, repeats and edges from an
    /// object to itself left out. Each identity is kept once (the copies
    /// in other edges are dropped as they are met).
    pub fn from_edges(edges: Vec<Dependency>) -> Dependencies {
        let mut index: HashMap<ObjectId, u32> = HashMap::default();
        index.reserve(edges.len());
        let mut intern = |id: ObjectId| {
            let next = position(index.len());
            match index.entry(id) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => *e.insert(next),
            }
        };
        let mut links: Vec<Link> = Vec::with_capacity(edges.len());
        for e in edges {
            if e.from != e.to {
                let from = intern(e.from);
                links.push(Link {
                    from,
                    to: intern(e.to),
                    kind: e.kind,
                });
            }
        }
        // Positions in the order first met, then in identity order.
        let mut firsts: Vec<(ObjectId, u32)> = index.into_iter().collect();
        sort_objects(&mut firsts);
        let mut rank = vec![0u32; firsts.len()];
        let objects = firsts
            .into_iter()
            .enumerate()
            .map(|(at, (id, first))| {
                rank[first as usize] = position(at);
                id
            })
            .collect();
        for l in &mut links {
            l.from = rank[l.from as usize];
            l.to = rank[l.to as usize];
        }
        links.sort_unstable();
        links.dedup();
        Dependencies { objects, links }
    }

    /// Adds one edge; rebuilds the set, so bulk edges go through
    /// `from_edges`.
    pub fn insert(&mut self, from: ObjectId, to: ObjectId, kind: DependencyKind) {
        self.merge(Dependencies::from_edges(vec![Dependency { from, to, kind }]));
    }

    /// Every edge, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            objects: &self.objects,
            links: self.links.iter(),
        }
    }

    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Keeps only the edges `keep` says to (and the objects they name).
    pub fn retain(&mut self, mut keep: impl FnMut(DependencyRef<'_>) -> bool) {
        let objects = &self.objects;
        self.links.retain(|l| keep(view(objects, l)));
        let mut named = vec![false; self.objects.len()];
        for l in &self.links {
            named[l.from as usize] = true;
            named[l.to as usize] = true;
        }
        if !named.contains(&false) {
            return;
        }
        let mut rank = vec![0u32; self.objects.len()];
        let mut kept = 0;
        for (at, named) in named.iter().enumerate() {
            rank[at] = position(kept);
            kept += usize::from(*named);
        }
        let mut at = 0;
        self.objects.retain(|_| {
            at += 1;
            named[at - 1]
        });
        for l in &mut self.links {
            l.from = rank[l.from as usize];
            l.to = rank[l.to as usize];
        }
    }

    /// Adds the edges of `other`: the two lists of objects are merged in
    /// order (each identity moved, not copied), and the edges of both
    /// renumbered into it.
    pub fn merge(&mut self, other: Dependencies) {
        if self.objects.is_empty() {
            *self = other;
            return;
        }
        let mine = std::mem::take(&mut self.objects);
        let (mut rank_mine, mut rank_theirs) = (vec![0u32; mine.len()], vec![0u32; other.objects.len()]);
        let mut objects = Vec::with_capacity(mine.len() + other.objects.len());
        let mut a = mine.into_iter().enumerate().peekable();
        let mut b = other.objects.into_iter().enumerate().peekable();
        loop {
            let order = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((_, x)), Some((_, y))) => x.cmp(y),
            };
            let at = position(objects.len());
            if order.is_le()
                && let Some((i, id)) = a.next()
            {
                rank_mine[i] = at;
                objects.push(id);
            }
            if order.is_ge()
                && let Some((j, id)) = b.next()
            {
                rank_theirs[j] = at;
                if order.is_gt() {
                    objects.push(id);
                }
            }
        }
        let renumber = |l: &Link, rank: &[u32]| Link {
            from: rank[l.from as usize],
            to: rank[l.to as usize],
            kind: l.kind,
        };
        // The ranks keep the order of each list's objects, so each list of
        // edges stays in order renumbered: the two are merged in one pass.
        let mut links: Vec<Link> = Vec::with_capacity(self.links.len() + other.links.len());
        let mut a = self.links.iter().map(|l| renumber(l, &rank_mine)).peekable();
        let mut b = other.links.iter().map(|l| renumber(l, &rank_theirs)).peekable();
        loop {
            let next = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(x), Some(y)) if y < x => b.next(),
                (Some(_), _) => a.next(),
                (None, Some(_)) => b.next(),
            };
            if let Some(link) = next
                && links.last() != Some(&link)
            {
                links.push(link);
            }
        }
        *self = Dependencies { objects, links };
    }

    /// The edges from `from`, in order: one range of the list, which is
    /// ordered by `from` first.
    pub fn from<'a>(&'a self, from: &ObjectId) -> impl Iterator<Item = DependencyRef<'a>> + 'a {
        let range = match self.objects.binary_search(from) {
            Ok(at) => {
                let at = position(at);
                let first = self.links.partition_point(|l| l.from < at);
                let count = self.links[first..].partition_point(|l| l.from == at);
                first..first + count
            }
            Err(_) => 0..0,
        };
        self.links[range].iter().map(|l| view(&self.objects, l))
    }

    pub fn contains_edge(&self, from: &ObjectId, to: &ObjectId) -> bool {
        self.from(from).any(|e| e.to == to)
    }
}

/// The edge `l` with its ends in `objects`.
fn view<'a>(objects: &'a [ObjectId], l: &Link) -> DependencyRef<'a> {
    DependencyRef {
        from: &objects[l.from as usize],
        to: &objects[l.to as usize],
        kind: l.kind,
    }
}

/// Sorts (identity, first position) pairs by identity, on two threads for
/// a big catalog (sorting 180,000 identities is most of building the set).
fn sort_objects(pairs: &mut [(ObjectId, u32)]) {
    use rayon::slice::ParallelSliceMut;
    const PARALLEL_FROM: usize = 20_000;
    if pairs.len() < PARALLEL_FROM {
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    } else {
        pairs.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }
}

/// The edges of a `Dependencies`, in order.
pub struct Iter<'a> {
    objects: &'a [ObjectId],
    links: std::slice::Iter<'a, Link>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = DependencyRef<'a>;

    fn next(&mut self) -> Option<DependencyRef<'a>> {
        self.links.next().map(|l| view(self.objects, l))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.links.size_hint()
    }
}

impl<'a> IntoIterator for &'a Dependencies {
    type Item = DependencyRef<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;

    fn t(name: &str) -> ObjectId {
        ObjectId::Table(QualifiedName::new("app", name))
    }

    fn edge(from: &str, to: &str, kind: DependencyKind) -> Dependency {
        Dependency {
            from: t(from),
            to: t(to),
            kind,
        }
    }

    fn listed(d: &Dependencies) -> Vec<(String, String, DependencyKind)> {
        d.iter()
            .map(|e| (e.from.to_string(), e.to.to_string(), e.kind))
            .collect()
    }

    #[test]
    fn edges_are_kept_once_in_identity_order() {
        use DependencyKind::*;
        let d = Dependencies::from_edges(vec![
            edge("c", "a", Normal),
            edge("a", "b", Auto),
            edge("c", "a", Normal),
            edge("b", "b", Normal),
            edge("a", "b", Normal),
            edge("b", "c", Internal),
        ]);
        let a = |s: &str| format!("table app.{s}");
        assert_eq!(
            listed(&d),
            vec![
                (a("a"), a("b"), Normal),
                (a("a"), a("b"), Auto),
                (a("b"), a("c"), Internal),
                (a("c"), a("a"), Normal),
            ]
        );
        assert_eq!(d.from(&t("a")).count(), 2);
        assert_eq!(d.from(&t("z")).count(), 0);
        assert!(d.contains_edge(&t("c"), &t("a")));
        assert!(!d.contains_edge(&t("a"), &t("c")));
    }

    #[test]
    fn the_edges_from_an_object_are_exactly_those_it_is_the_source_of() {
        let mut deps = Dependencies::default();
        deps.insert(t("b"), ObjectId::Schema("app".into()), DependencyKind::Normal);
        deps.insert(t("b"), t("a"), DependencyKind::Auto);
        deps.insert(t("b"), t("c"), DependencyKind::Reference);
        deps.insert(t("a"), t("c"), DependencyKind::Normal);
        deps.insert(t("c"), t("b"), DependencyKind::Normal);
        deps.insert(ObjectId::Schema(String::new()), t("b"), DependencyKind::Normal);
        let b = t("b");
        let from_b: Vec<DependencyRef<'_>> = deps.from(&b).collect();
        let expected: Vec<DependencyRef<'_>> = deps.iter().filter(|e| e.from == &b).collect();
        assert_eq!(from_b, expected);
        assert_eq!(from_b.len(), 3);
        assert_eq!(deps.from(&ObjectId::Schema(String::new())).count(), 1);
        assert_eq!(deps.from(&t("z")).count(), 0);
    }

    #[test]
    fn merged_retained_and_read_back_sets_equal_sets_built_at_once() {
        use DependencyKind::*;
        let all = vec![
            edge("a", "b", Normal),
            edge("b", "d", Normal),
            edge("c", "a", Auto),
            edge("d", "e", Reference),
            edge("e", "a", Normal),
        ];
        let mut merged = Dependencies::from_edges(all[..2].to_vec());
        merged.merge(Dependencies::from_edges(all[1..].to_vec()));
        assert_eq!(merged, Dependencies::from_edges(all.clone()));
        let mut inserted = Dependencies::default();
        for e in all.iter().rev() {
            inserted.insert(e.from.clone(), e.to.clone(), e.kind);
        }
        assert_eq!(inserted, merged);

        merged.retain(|e| e.kind != Reference && e.from != &t("c"));
        let rest: Vec<Dependency> = all
            .iter()
            .filter(|e| e.kind != Reference && e.from != t("c"))
            .cloned()
            .collect();
        assert_eq!(merged, Dependencies::from_edges(rest));
    }

    #[test]
    fn sets_merged_chunk_by_chunk_equal_the_set_of_all_their_edges() {
        // As the dependencies query's rows are translated: chunk by chunk,
        // each chunk's set merged into the set so far; the same edges and
        // objects recur across chunks.
        use DependencyKind::*;
        let kinds = [Normal, Auto, Internal, Reference];
        let mut state = 7u64;
        let mut next = move |below: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % below
        };
        let all: Vec<Dependency> = (0..3_000)
            .map(|_| {
                let (from, to) = (next(400), next(400));
                edge(&format!("t{from}"), &format!("t{to}"), kinds[next(4) as usize])
            })
            .filter(|e| e.from != e.to)
            .collect();
        let at_once = Dependencies::from_edges(all.clone());
        for chunk in [1, 7, 256, 1_000, 5_000] {
            let mut merged = Dependencies::default();
            for part in all.chunks(chunk) {
                merged.merge(Dependencies::from_edges(part.to_vec()));
            }
            assert_eq!(merged, at_once, "chunks of {chunk}");
            let mut backwards = Dependencies::default();
            for part in all.rchunks(chunk) {
                backwards.merge(Dependencies::from_edges(part.to_vec()));
            }
            assert_eq!(backwards, at_once, "chunks of {chunk}, last first");
        }
        assert!(at_once.len() < all.len(), "some edges recur");
    }

    #[test]
    fn edges_read_back_in_bulk_are_the_set_written_and_a_disordered_one_is_refused() {
        let column = |t: u32, c: u32| ObjectId::Column(QualifiedName::new("s", format!("t{t}")), format!("c{c}"));
        let mut edges = Vec::new();
        for i in 0..500u32 {
            let (t, c) = ((i * 7919) % 13, (i * 31) % 5);
            let kind = [DependencyKind::Normal, DependencyKind::Auto][(i % 2) as usize];
            let to = ObjectId::Table(QualifiedName::new("s", format!("t{}", (t + 1) % 13)));
            edges.push(Dependency {
                from: column(t, c),
                to,
                kind,
            });
        }
        let deps = Dependencies::from_edges(edges);
        assert!(deps.len() > 100);
        let bytes = postcard::to_allocvec(&deps).unwrap();
        let read: Dependencies = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(read, deps);
        let stored = serde_json::to_string(&deps).unwrap();
        let json: Dependencies = serde_json::from_str(&stored).unwrap();
        assert_eq!(json, deps);
        // Positions out of range, or out of order: never used.
        let value: serde_json::Value = serde_json::from_str(&stored).unwrap();
        let mut out_of_range = value.clone();
        out_of_range["links"][0]["from"] = serde_json::json!(100_000);
        assert!(serde_json::from_value::<Dependencies>(out_of_range).is_err());
        let mut reversed = value;
        if let Some(links) = reversed["links"].as_array_mut() {
            links.reverse();
        }
        assert!(serde_json::from_value::<Dependencies>(reversed).is_err());
    }
}
