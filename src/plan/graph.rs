//! Ordering steps: a petgraph graph with one edge per dependency, cycles
//! broken by moving foreign keys out of table creation and removal, and a
//! deterministic topological sort.
//!
//! Edges come from the dependencies of both catalogs, by the rules each
//! commented where it is added. Ties between steps that may run in any order
//! are broken by (phase, object identity), so the same inputs always give the
//! same plan.

use super::effects::Effects;
use crate::catalog::{
    AttachedKind, Column, Constraint, ConstraintKind, Dependencies, DependencyKind, IndexPartition, ObjectId,
    QualifiedName, Table,
};
use crate::diff::Change;
use foldhash::HashMap;
use petgraph::graph::{DiGraph, NodeIndex};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

/// A step as the graph sees it.
pub struct Node<'a> {
    pub change: &'a Change,
    pub effects: &'a Effects,
}

/// `before` must run before `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    pub before: usize,
    pub after: usize,
}

/// Every ordering constraint between the steps.
pub fn edges(nodes: &[Node<'_>], current: &Dependencies, desired: &Dependencies) -> BTreeSet<Edge> {
    let mut creates: HashMap<&ObjectId, Vec<usize>> = HashMap::default();
    let mut drops: HashMap<&ObjectId, Vec<usize>> = HashMap::default();
    let mut alters: HashMap<&ObjectId, Vec<usize>> = HashMap::default();
    for (i, n) in nodes.iter().enumerate() {
        for id in &n.effects.creates {
            creates.entry(id).or_default().push(i);
        }
        for id in &n.effects.drops {
            drops.entry(id).or_default().push(i);
        }
        for id in &n.effects.alters {
            alters.entry(id).or_default().push(i);
        }
    }
    let lookup = |map: &HashMap<&ObjectId, Vec<usize>>, id: &ObjectId| map.get(id).cloned().unwrap_or_default();
    let mut out = BTreeSet::new();
    let mut must_run = |before: usize, after: usize| {
        if before != after {
            out.insert(Edge { before, after });
        }
    };

    // Only the edges from objects the steps create, change or drop matter
    // to rules 1 and 2: each such object's edges are one range of the set
    // (ordered by `from`), so the work follows the plan's size, not the
    // catalog's.
    // 1. What an object needs in the desired state is created or changed
    //    before the object is created or changed.
    for id in keys_of([&creates, &alters]) {
        let needers: Vec<usize> = [lookup(&creates, id), lookup(&alters, id)].concat();
        for e in desired.from(id).filter(|e| e.kind != DependencyKind::Reference) {
            let providers = [lookup(&creates, e.to), lookup(&alters, e.to)].concat();
            for &p in &providers {
                for &n in &needers {
                    must_run(p, n);
                }
            }
        }
    }
    // 2. An object that stops needing another (it is dropped, or changed so
    //    the need goes away) lets go of it before that other object is dropped
    //    or changed.
    for id in keys_of([&drops, &alters]) {
        let dropping = lookup(&drops, id);
        for e in current.from(id).filter(|e| e.kind != DependencyKind::Reference) {
            let altering = match alters.get(id) {
                Some(altering) if !desired.contains_edge(id, e.to) => altering.clone(),
                _ => Vec::new(),
            };
            if dropping.is_empty() && altering.is_empty() {
                continue;
            }
            let targets = [lookup(&drops, e.to), lookup(&alters, e.to)].concat();
            for &t in &targets {
                for &s in dropping.iter().chain(altering.iter()) {
                    must_run(s, t);
                }
            }
        }
    }
    // 3. An object dropped and created again is dropped first; an object is
    //    created before anything else is done to it.
    for (id, droppers) in &drops {
        for &c in creates.get(id).into_iter().flatten() {
            for &d in droppers {
                must_run(d, c);
            }
        }
    }
    let mut touched: HashMap<&ObjectId, Vec<usize>> = HashMap::default();
    for (i, n) in nodes.iter().enumerate() {
        for id in n.effects.alters.iter().chain(&n.effects.touches) {
            touched.entry(id).or_default().push(i);
        }
    }
    for (id, creators) in &creates {
        for &t in touched.get(id).into_iter().flatten() {
            for &c in creators {
                must_run(c, t);
            }
        }
    }
    // 4. A name is freed before it is taken: relations (tables, sequences,
    //    indexes, constraint indexes, identity sequences) share one namespace
    //    per schema, and types another.
    let slots: Vec<(Vec<Slot>, Vec<Slot>)> = nodes.iter().map(|n| name_slots(n.change)).collect();
    let mut freed: HashMap<&Slot, Vec<usize>> = HashMap::default();
    for (i, (_, frees)) in slots.iter().enumerate() {
        for slot in frees {
            freed.entry(slot).or_default().push(i);
        }
    }
    for (i, (claims, _)) in slots.iter().enumerate() {
        for slot in claims {
            for &d in freed.get(slot).into_iter().flatten() {
                must_run(d, i);
            }
        }
    }
    // 5. A partitioned index is created after the partitions (and their
    //    constraints) whose indexes it attaches, and dropped before them: it
    //    attaches them by name, and its drop adds the constraints back.
    for (i, n) in nodes.iter().enumerate() {
        let (partitions, creating) = match n.change {
            Change::CreateIndex(index) => (&index.partitions, true),
            Change::DropIndex(index) => (&index.partitions, false),
            Change::AddConstraint { constraint, .. } => (&constraint.partitions, true),
            Change::DropConstraint { constraint, .. } => (&constraint.partitions, false),
            _ => continue,
        };
        for p in partitions {
            let mut ids = vec![ObjectId::Table(p.table.clone())];
            if p.kind == AttachedKind::LocalConstraint {
                ids.push(ObjectId::Constraint(p.table.clone(), p.index.name.clone()));
            }
            for id in &ids {
                if creating {
                    for c in lookup(&creates, id) {
                        must_run(c, i);
                    }
                } else {
                    for d in lookup(&drops, id) {
                        must_run(i, d);
                    }
                }
            }
        }
    }
    // 6. Several changes to one object run in the order the diff made them
    //    (drop identity, then drop NOT NULL; set NOT NULL, then add identity).
    let mut altered: Vec<(&ObjectId, usize)> = nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.effects.alters.iter().chain(&n.effects.touches).map(move |id| (id, i)))
        .collect();
    altered.sort();
    for pair in altered.windows(2) {
        if pair[0].0 == pair[1].0 {
            must_run(pair[0].1, pair[1].1);
        }
    }
    // 6. A partition is detached before its indexes and constraints are
    //    dropped or changed: the copies of its parent's become its own only
    //    then (PostgreSQL refuses to drop them before).
    for (d, detach) in nodes.iter().enumerate() {
        let Change::DetachPartition { table, .. } = detach.change else {
            continue;
        };
        for (i, n) in nodes.iter().enumerate() {
            let on_table = match n.change {
                Change::DropIndex(index) => &index.table == table,
                Change::DropConstraint { table: t, .. } | Change::AlterConstraint { table: t, .. } => t == table,
                _ => false,
            };
            if on_table {
                must_run(d, i);
            }
        }
    }
    inheritance(nodes, current, desired, &mut must_run);
    out
}

/// 7. Classic inheritance: a parent's column and check changes recurse to
///    its children, INHERIT needs the child to match the parent already,
///    and NO INHERIT makes the child's copies its own.
fn inheritance(
    nodes: &[Node<'_>],
    current: &Dependencies,
    desired: &Dependencies,
    must_run: &mut impl FnMut(usize, usize),
) {
    use crate::diff::Verb;
    // (child, parent): PostgreSQL records inheritance as the child table
    // needing its parent (a partition's link is automatic, not this one).
    let pairs: BTreeSet<(&QualifiedName, &QualifiedName)> = current
        .iter()
        .chain(desired)
        .filter(|e| e.kind == DependencyKind::Normal)
        .filter_map(|e| match (e.from, e.to) {
            (ObjectId::Table(child), ObjectId::Table(parent)) => Some((child, parent)),
            _ => None,
        })
        .collect();
    if pairs.is_empty()
        && !nodes
            .iter()
            .any(|n| matches!(n.change, Change::Inherit { .. } | Change::NoInherit { .. }))
    {
        return;
    }
    // The steps on each table's columns and checks: table → (column or
    // check name, step, verb).
    let mut members: HashMap<QualifiedName, Vec<(String, usize, Verb)>> = HashMap::default();
    for (i, n) in nodes.iter().enumerate() {
        let (table, member) = match n.change.object() {
            ObjectId::Column(t, c) => (t, format!("column {c}")),
            ObjectId::Constraint(t, c) => (t, format!("constraint {c}")),
            _ => continue,
        };
        members.entry(table).or_default().push((member, i, n.change.verb()));
    }
    let on = |table: &QualifiedName| members.get(table).cloned().unwrap_or_default();
    for (child, parent) in &pairs {
        // A parent's change reaches the child's copy: it runs first. But a
        // column or check the child declares is added (or dropped) before
        // the parent adds its own, which merges with it.
        for (m, i, vi) in on(child) {
            for (_, j, vj) in on(parent).into_iter().filter(|(n, _, _)| *n == m) {
                if vj == Verb::Create && vi != Verb::Alter {
                    must_run(i, j);
                } else {
                    must_run(j, i);
                }
            }
        }
        // A child is created with the parent's columns and checks as the
        // plan leaves them.
        for (k, n) in nodes.iter().enumerate() {
            if matches!(n.change, Change::CreateTable(t) if &t.name == *child) {
                for (_, j, _) in on(parent) {
                    must_run(j, k);
                }
            }
        }
    }
    for (k, n) in nodes.iter().enumerate() {
        let (table, parent, inherit) = match n.change {
            Change::Inherit { table, parent } => (table, parent, true),
            Change::NoInherit { table, parent } => (table, parent, false),
            _ => continue,
        };
        for (_, j, _) in on(table).into_iter().chain(on(parent)) {
            if inherit {
                must_run(j, k);
            } else {
                must_run(k, j);
            }
        }
    }
}

/// The objects that are keys of any of `maps`, each once, in order.
fn keys_of<'a, const N: usize>(maps: [&HashMap<&'a ObjectId, Vec<usize>>; N]) -> Vec<&'a ObjectId> {
    let mut ids: Vec<&'a ObjectId> = maps.iter().flat_map(|m| m.keys().copied()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Preferred orderings from references inside function bodies (which
/// PostgreSQL does not record): what a function body reads is created before
/// the function, and dropped after it, when nothing forbids it. Dropping the
/// function first also makes the rollback, which runs the steps last first,
/// recreate what the body reads before the function.
pub fn soft_edges(nodes: &[Node<'_>], current: &Dependencies, desired: &Dependencies) -> BTreeSet<Edge> {
    let mut providers: HashMap<&ObjectId, Vec<usize>> = HashMap::default();
    let mut droppers: HashMap<&ObjectId, Vec<usize>> = HashMap::default();
    for (i, n) in nodes.iter().enumerate() {
        for id in n.effects.creates.iter().chain(&n.effects.alters) {
            providers.entry(id).or_default().push(i);
        }
        for id in &n.effects.drops {
            droppers.entry(id).or_default().push(i);
        }
    }
    let mut out = BTreeSet::new();
    reference_pairs(&droppers, current, |reader, read| {
        out.insert(Edge {
            before: reader,
            after: read,
        });
    });
    reference_pairs(&providers, desired, |needer, provider| {
        out.insert(Edge {
            before: provider,
            after: needer,
        });
    });
    out
}

/// Calls `each(a, b)` for every reference edge of `deps` from an object of
/// step `a` to an object of another step `b`, `steps` giving the steps of
/// each object. Each object's edges are one range of the set.
fn reference_pairs(steps: &HashMap<&ObjectId, Vec<usize>>, deps: &Dependencies, mut each: impl FnMut(usize, usize)) {
    for from in keys_of([steps]) {
        for e in deps.from(from).filter(|e| e.kind == DependencyKind::Reference) {
            for &a in &steps[from] {
                for &b in steps.get(e.to).into_iter().flatten() {
                    if a != b {
                        each(a, b);
                    }
                }
            }
        }
    }
}

/// A name in one of PostgreSQL's namespaces: (0 = relations, 1 = types,
/// 2 = collations).
type Slot = (u8, QualifiedName);

/// The names a change takes and the names it frees.
fn name_slots(change: &Change) -> (Vec<Slot>, Vec<Slot>) {
    use Change::*;
    let relation = |q: &QualifiedName| (0u8, q.clone());
    let key_index = |table: &QualifiedName, c: &Constraint| {
        matches!(
            c.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
        )
        .then(|| (0u8, QualifiedName::new(table.schema.clone(), c.name.clone())))
    };
    let identity = |c: &Column| c.identity.as_ref().map(|i| (0u8, i.sequence.clone()));
    // A partitioned index's step creates (and its drop frees) the plain
    // indexes it attaches.
    let attached_names = |partitions: &[IndexPartition]| {
        partitions
            .iter()
            .filter(|p| p.kind != AttachedKind::LocalConstraint)
            .map(|p| relation(&p.index))
            .collect::<Vec<_>>()
    };
    let index_names = |i: &crate::catalog::Index| {
        let mut names = vec![relation(&i.name)];
        names.extend(attached_names(&i.partitions));
        names
    };
    let key_names = |table: &QualifiedName, c: &Constraint| {
        let mut names: Vec<Slot> = key_index(table, c).into_iter().collect();
        names.extend(attached_names(&c.partitions));
        names
    };
    let table_names = |t: &Table| {
        let mut names = vec![relation(&t.name), (1u8, t.name.clone())];
        names.extend(t.constraints.values().filter_map(|c| key_index(&t.name, c)));
        names.extend(t.columns.iter().filter_map(identity));
        names
    };
    match change {
        CreateTable(t) => (table_names(t), Vec::new()),
        DropTable(t) => (Vec::new(), table_names(t)),
        CreateSequence(s) => (vec![relation(&s.name)], Vec::new()),
        DropSequence(s) => (Vec::new(), vec![relation(&s.name)]),
        CreateIndex(i) => (index_names(i), Vec::new()),
        DropIndex(i) => (Vec::new(), index_names(i)),
        CreateEnum(e) => (vec![(1, e.name.clone())], Vec::new()),
        DropEnum(e) => (Vec::new(), vec![(1, e.name.clone())]),
        AddConstraint { table, constraint } => (key_names(table, constraint), Vec::new()),
        DropConstraint { table, constraint } => (Vec::new(), key_names(table, constraint)),
        AddColumn { column, .. } | AddIdentity { column, .. } => (identity(column).into_iter().collect(), Vec::new()),
        DropColumn { column, .. } | DropIdentity { column, .. } => (Vec::new(), identity(column).into_iter().collect()),
        AlterColumn { from, to, .. } if identity(from) != identity(to) => {
            (identity(to).into_iter().collect(), identity(from).into_iter().collect())
        }
        CreateView(v) => (vec![relation(&v.name), (1, v.name.clone())], Vec::new()),
        DropView(v) => (Vec::new(), vec![relation(&v.name), (1, v.name.clone())]),
        CreateDomain(d) => (vec![(1, d.name.clone())], Vec::new()),
        DropDomain(d) => (Vec::new(), vec![(1, d.name.clone())]),
        CreateCompositeType(t) => (vec![(1, t.name.clone()), relation(&t.name)], Vec::new()),
        DropCompositeType(t) => (Vec::new(), vec![(1, t.name.clone()), relation(&t.name)]),
        CreateRangeType(r) => (vec![(1, r.name.clone())], Vec::new()),
        DropRangeType(r) => (Vec::new(), vec![(1, r.name.clone())]),
        CreateCollation(c) => (vec![(2, c.name.clone())], Vec::new()),
        DropCollation(c) => (Vec::new(), vec![(2, c.name.clone())]),
        _ => (Vec::new(), Vec::new()),
    }
}

/// The steps caught in cycles (strongly connected components of more than
/// one step), each component sorted.
pub fn cycles(count: usize, edges: &BTreeSet<Edge>) -> Vec<Vec<usize>> {
    let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(count, edges.len());
    let nodes: Vec<NodeIndex> = (0..count).map(|i| g.add_node(i)).collect();
    for e in edges {
        g.add_edge(nodes[e.before], nodes[e.after], ());
    }
    let mut found: Vec<Vec<usize>> = petgraph::algo::tarjan_scc(&g)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut c: Vec<usize> = c.into_iter().map(|n| g[n]).collect();
            c.sort_unstable();
            c
        })
        .collect();
    found.sort();
    found
}

/// A topological order; among steps that are ready, the smallest key first.
/// Returns `None` if the edges have a cycle.
pub fn sort<K: Ord + Clone>(keys: &[K], edges: &BTreeSet<Edge>) -> Option<Vec<usize>> {
    let mut waiting = vec![0usize; keys.len()];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
    for e in edges {
        waiting[e.after] += 1;
        next[e.before].push(e.after);
    }
    let mut ready: BinaryHeap<Reverse<(K, usize)>> = (0..keys.len())
        .filter(|&i| waiting[i] == 0)
        .map(|i| Reverse((keys[i].clone(), i)))
        .collect();
    let mut order = Vec::with_capacity(keys.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(i);
        for &n in &next[i] {
            waiting[n] -= 1;
            if waiting[n] == 0 {
                ready.push(Reverse((keys[n].clone(), n)));
            }
        }
    }
    (order.len() == keys.len()).then_some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_respects_edges_then_keys() {
        let keys = [3, 1, 2];
        let edges: BTreeSet<Edge> = [Edge { before: 0, after: 1 }].into();
        assert_eq!(sort(&keys, &edges), Some(vec![2, 0, 1]));
    }

    #[test]
    fn cycles_are_found_not_sorted() {
        let edges: BTreeSet<Edge> = [Edge { before: 0, after: 1 }, Edge { before: 1, after: 0 }].into();
        assert_eq!(sort(&[0, 0, 0], &edges), None);
        assert_eq!(cycles(3, &edges), vec![vec![0, 1]]);
    }
}
