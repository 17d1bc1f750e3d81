//! Recreating dependents: when a change drops or replaces an object, the
//! objects that depend on it and must survive are dropped before it and
//! created again after it, transitively.
//!
//! PostgreSQL refuses to drop an object others depend on (a primary key a
//! foreign key uses) or drops dependents silently (an index on a column that
//! is dropped and added again); either way the desired dependents have to be
//! put back explicitly. Only what can be recreated without losing data is
//! recreated this way: indexes, constraints, and generated columns (whose
//! values are computed). A column whose type changes disturbs only the
//! dependents PostgreSQL cannot carry through `ALTER COLUMN ... TYPE`:
//! generated columns. Other columns are recast in place by their own changes.

use crate::catalog::{Catalog, Column, DependencyKind, DependencyRef, ObjectId, QualifiedName, Snapshot};
use crate::diff::Change;
use foldhash::{HashMap, HashSet};
use std::collections::{BTreeMap, BTreeSet};

/// Replaces each column type change PostgreSQL has no cast for with a drop
/// and add of the column (its values cannot be converted; the drop carries
/// the data-loss hazard). `uncastable` holds (from, to) type pairs.
pub fn recreate_uncastable_columns(changes: &mut Vec<Change>, uncastable: &BTreeSet<(String, String)>) -> Vec<Added> {
    let mut added = Vec::new();
    changes.retain(|change| match change {
        Change::AlterColumn { table, from, to }
            if uncastable.contains(&(from.data_type.clone(), to.data_type.clone())) =>
        {
            let reason = format!(
                "PostgreSQL has no cast from {} to {}: the column is dropped and added again",
                from.data_type, to.data_type
            );
            added.push(Added {
                change: Change::DropColumn {
                    table: table.clone(),
                    column: from.clone(),
                },
                reason: reason.clone(),
            });
            added.push(Added {
                change: Change::AddColumn {
                    table: table.clone(),
                    column: to.clone(),
                },
                reason,
            });
            false
        }
        _ => true,
    });
    added
}

/// A change added by the expansion, and why.
pub struct Added {
    pub change: Change,
    pub reason: String,
}

/// Adds drop + create pairs for dependents of what `changes` drop or
/// replace, and removes comment changes on objects that are recreated (their
/// create sets the comment).
pub fn recreate_dependents(changes: &mut Vec<Change>, current: &Snapshot, desired: &Snapshot) -> Vec<Added> {
    let mut disturbed: BTreeMap<ObjectId, &'static str> = BTreeMap::new();
    let mut recreated: BTreeSet<ObjectId> = BTreeSet::new();
    for change in changes.iter() {
        for id in super::effects::effects(change).drops {
            disturbed.insert(id, "dropped");
        }
        match change {
            Change::AlterEnum {
                recreate: true,
                uses,
                domains,
                composites,
                ..
            } => {
                disturbed.insert(change.object(), "recreated");
                for c in composites {
                    disturbed.insert(ObjectId::Type(c.to.name.clone()), "recreated");
                    for u in &c.uses {
                        disturbed
                            .entry(ObjectId::Column(u.table.clone(), u.column.clone()))
                            .or_insert(RETYPED);
                    }
                }
                for d in domains {
                    disturbed.insert(ObjectId::Type(d.to.name.clone()), "recreated");
                    for u in &d.uses {
                        disturbed
                            .entry(ObjectId::Column(u.table.clone(), u.column.clone()))
                            .or_insert(RETYPED);
                    }
                }
                for u in uses {
                    disturbed
                        .entry(ObjectId::Column(u.table.clone(), u.column.clone()))
                        .or_insert(RETYPED);
                }
            }
            Change::RecreateDomain { uses, .. }
            | Change::RecreateCompositeType { uses, .. }
            | Change::RecreateCollation { uses, .. } => {
                disturbed.insert(change.object(), "recreated");
                // Its columns are recast: what PostgreSQL cannot carry through
                // ALTER COLUMN TYPE must be recreated around it.
                for u in uses {
                    disturbed
                        .entry(ObjectId::Column(u.table.clone(), u.column.clone()))
                        .or_insert(RETYPED);
                }
            }
            Change::AlterColumn { from, to, .. }
                if from.data_type != to.data_type || from.collation != to.collation =>
            {
                disturbed.entry(change.object()).or_insert(RETYPED);
            }
            _ => {}
        }
    }
    // Objects that are dropped and created again count as recreated.
    let created: BTreeSet<ObjectId> = changes
        .iter()
        .flat_map(|c| super::effects::effects(c).creates)
        .collect();
    for (id, why) in disturbed.iter_mut() {
        if created.contains(id) && *why != RETYPED {
            *why = "recreated";
            recreated.insert(id.clone());
        }
    }
    let dropped_for_good: BTreeSet<ObjectId> = disturbed
        .iter()
        .filter(|(id, why)| **why != RETYPED && !created.contains(*id))
        .map(|(id, _)| id.clone())
        .collect();

    let by_target = dependents_reachable(current, disturbed.keys());
    let mut regained_defaults: BTreeSet<ObjectId> = BTreeSet::new();
    // Aggregates replaced in place (`CREATE OR REPLACE AGGREGATE`): one that
    // stops using a dropped object lets go of it by its replacement, which
    // the graph runs before the drop, and is not recreated.
    let replaced_aggregates: BTreeSet<ObjectId> = changes
        .iter()
        .filter(|c| matches!(c, Change::ReplaceAggregate { .. }))
        .map(Change::object)
        .collect();

    let mut added = Vec::new();
    let mut queue: Vec<ObjectId> = disturbed.keys().cloned().collect();
    let mut seen: BTreeSet<ObjectId> = BTreeSet::new();
    while let Some(target) = queue.pop() {
        let why = disturbed.get(&target).copied().unwrap_or("recreated");
        for dependent in by_target.get(&target).into_iter().flatten() {
            let dependent = (*dependent).clone();
            let already = disturbed.get(&dependent).is_some_and(|w| *w != RETYPED);
            if already || dropped_for_good.contains(&dependent) || seen.contains(&dependent) {
                continue;
            }
            if why == RETYPED && !carried_by_retype(&dependent, &current.catalog) {
                continue;
            }
            if replaced_aggregates.contains(&dependent) && !desired.deps.contains_edge(&dependent, &target) {
                continue;
            }
            seen.insert(dependent.clone());
            // A column default that calls a function being replaced: the
            // default is dropped before and set again after.
            if let (ObjectId::Function(..), ObjectId::Column(table, column)) = (&target, &dependent)
                && let Some(pair) = default_around(table, column, &current.catalog, &desired.catalog)
            {
                let reason = format!("default set again because {target} is {why}");
                for change in pair {
                    added.push(Added {
                        change,
                        reason: reason.clone(),
                    });
                }
                regained_defaults.insert(dependent.clone());
                continue;
            }
            let Some((drop, create)) = recreation(&dependent, &current.catalog, &desired.catalog) else {
                continue;
            };
            let reason = format!("recreated because {target} is {why}");
            added.push(Added {
                change: drop,
                reason: reason.clone(),
            });
            added.push(Added { change: create, reason });
            disturbed.insert(dependent.clone(), "recreated");
            recreated.insert(dependent.clone());
            queue.push(dependent);
        }
    }
    // A recreated object gets its desired state (comment included) from its
    // create: drop the in-place changes the diff made for it.
    changes.retain(|c| {
        let in_place = matches!(
            c,
            Change::SetComment { .. }
                | Change::AlterConstraint { .. }
                | Change::AlterColumn { .. }
                | Change::AddIdentity { .. }
                | Change::DropIdentity { .. }
                | Change::ReplaceView { .. }
                | Change::ReplaceFunction { .. }
                | Change::ReplaceAggregate { .. }
                | Change::SetPopulated { .. }
                | Change::SetTriggerEnabled { .. }
                | Change::AlterPolicy { .. }
                | Change::SetPrivileges { .. }
                | Change::SetOwner { .. }
                | Change::SetRelationOptions { .. }
        );
        let superseded = recreated.contains(&c.object())
            || (matches!(c, Change::AlterColumn { .. }) && regained_defaults.contains(&c.object()));
        !(in_place && superseded)
    });
    added
}

/// The dependents (by edges other than references) of every object that
/// can be reached from `start` by going from objects to their dependents,
/// each list in the order of the edges. One pass over the edges per step
/// away from `start`, where a `sketch` of each edge's object rules out most
/// edges before the object is hashed: a reverse index of all the 100,000
/// edges of a 5,000-table catalog, for the few objects a plan disturbs,
/// cost more than everything else the ordering does.
fn dependents_reachable<'a, 's>(
    current: &'a Snapshot,
    start: impl Iterator<Item = &'s ObjectId>,
) -> HashMap<&'a ObjectId, Vec<&'a ObjectId>>
where
    'a: 's,
{
    // Each edge's sketch, taken once for all the passes.
    let edges: Vec<(u64, DependencyRef<'a>)> = current
        .deps
        .iter()
        .filter(|e| e.kind != DependencyKind::Reference)
        .map(|e| (sketch(e.to), e))
        .collect();
    let mut found: HashMap<&'a ObjectId, Vec<&'a ObjectId>> = HashMap::default();
    let mut searched: HashSet<&'s ObjectId> = HashSet::default();
    let mut frontier: HashSet<&'s ObjectId> = start.collect();
    while !frontier.is_empty() {
        let sketches: HashSet<u64> = frontier.iter().map(|id| sketch(id)).collect();
        let mut next: HashSet<&'s ObjectId> = HashSet::default();
        for &(sketched, e) in &edges {
            if sketches.contains(&sketched) && frontier.contains(e.to) {
                found.entry(e.to).or_default().push(e.from);
                if !frontier.contains(e.from) && !searched.contains(e.from) {
                    next.insert(e.from);
                }
            }
        }
        searched.extend(frontier);
        frontier = next;
    }
    found
}

/// A few bytes of an object's identity, taken without reading its names
/// through: its kind, the lengths of its last and first names and the ends
/// of its last name. Equal for equal objects.
fn sketch(id: &ObjectId) -> u64 {
    use ObjectId::*;
    let (kind, first, last): (u64, &str, &str) = match id {
        Schema(s) => (0, "", s),
        Extension(s) => (1, "", s),
        Type(q) => (2, &q.schema, &q.name),
        Sequence(q) => (3, &q.schema, &q.name),
        SequenceOwner(q) => (4, &q.schema, &q.name),
        Table(q) => (5, &q.schema, &q.name),
        Column(t, c) => (6, &t.name, c),
        Constraint(t, c) => (7, &t.name, c),
        Index(q) => (8, &q.schema, &q.name),
        View(q) => (9, &q.schema, &q.name),
        MaterializedView(q) => (10, &q.schema, &q.name),
        Function(q, args) => (11, &q.name, args),
        Aggregate(q, args) => (12, &q.name, args),
        Trigger(t, name) => (13, &t.name, name),
        Policy(t, name) => (14, &t.name, name),
        Collation(q) => (15, &q.schema, &q.name),
        DefaultPrivileges(role, _, kind) => (16, role, kind),
    };
    let bytes = last.as_bytes();
    let end = |i: Option<&u8>| u64::from(i.copied().unwrap_or(0));
    kind | (last.len() as u64 & 0xfff) << 8
        | (first.len() as u64 & 0xfff) << 20
        | end(bytes.first()) << 32
        | end(bytes.last()) << 40
        | end(first.as_bytes().last()) << 48
}

/// The two column changes that take a default out of the way of a function
/// being recreated and put the desired one back (the second also carries
/// every other change of the column).
fn default_around(table: &QualifiedName, column: &str, current: &Catalog, desired: &Catalog) -> Option<[Change; 2]> {
    let old = current.tables.get(table)?.column(column)?;
    let new = desired.tables.get(table)?.column(column)?;
    old.default.as_ref()?;
    let bare = Column {
        default: None,
        ..old.clone()
    };
    Some([
        Change::AlterColumn {
            table: table.clone(),
            from: old.clone(),
            to: bare.clone(),
        },
        Change::AlterColumn {
            table: table.clone(),
            from: bare,
            to: new.clone(),
        },
    ])
}

/// A column whose type changes.
const RETYPED: &str = "retyped";

/// Does a column's type change need this dependent recreated? PostgreSQL
/// rebuilds indexes and constraints itself, but refuses while a view, rule,
/// policy, trigger, SQL-standard function body or generated column uses it.
fn carried_by_retype(id: &ObjectId, catalog: &Catalog) -> bool {
    match id {
        ObjectId::Column(t, c) => catalog
            .tables
            .get(t)
            .and_then(|t| t.column(c))
            .is_some_and(|c| c.generated.is_some()),
        ObjectId::View(_)
        | ObjectId::MaterializedView(_)
        | ObjectId::Policy(..)
        | ObjectId::Trigger(..)
        | ObjectId::Function(..) => true,
        _ => false,
    }
}

/// The drop and create of an object that exists on both sides and can be
/// recreated without losing data.
fn recreation(id: &ObjectId, current: &Catalog, desired: &Catalog) -> Option<(Change, Change)> {
    match id {
        ObjectId::Index(q) => {
            let old = current.indexes.get(q).filter(|i| !i.inherited)?;
            let new = desired.indexes.get(q).filter(|i| !i.inherited)?;
            Some((Change::DropIndex(old.clone()), Change::CreateIndex(new.clone())))
        }
        ObjectId::Constraint(table, name) => {
            let old = current
                .tables
                .get(table)?
                .constraints
                .get(name)
                .filter(|c| !c.inherited)?;
            let new = desired
                .tables
                .get(table)?
                .constraints
                .get(name)
                .filter(|c| !c.inherited)?;
            Some((
                Change::DropConstraint {
                    table: table.clone(),
                    constraint: old.clone(),
                },
                Change::AddConstraint {
                    table: table.clone(),
                    constraint: new.clone(),
                },
            ))
        }
        ObjectId::View(q) | ObjectId::MaterializedView(q) => {
            let old = current.views.get(q)?;
            let new = desired.views.get(q)?;
            Some((Change::DropView(old.clone()), Change::CreateView(new.clone())))
        }
        ObjectId::Function(q, args) => {
            let key = (q.clone(), args.clone());
            let old = current.functions.get(&key)?;
            let new = desired.functions.get(&key)?;
            Some((Change::DropFunction(old.clone()), Change::CreateFunction(new.clone())))
        }
        ObjectId::Aggregate(q, args) => {
            let key = (q.clone(), args.clone());
            let old = current.aggregates.get(&key)?;
            let new = desired.aggregates.get(&key)?;
            Some((Change::DropAggregate(old.clone()), Change::CreateAggregate(new.clone())))
        }
        ObjectId::Trigger(t, n) => {
            let key = (t.clone(), n.clone());
            Some((
                Change::DropTrigger(current.triggers.get(&key)?.clone()),
                Change::CreateTrigger(desired.triggers.get(&key)?.clone()),
            ))
        }
        ObjectId::Policy(t, n) => {
            let key = (t.clone(), n.clone());
            Some((
                Change::DropPolicy(current.policies.get(&key)?.clone()),
                Change::CreatePolicy(desired.policies.get(&key)?.clone()),
            ))
        }
        ObjectId::Column(table, name) => {
            let old = current.tables.get(table)?.column(name)?;
            let new = desired.tables.get(table)?.column(name)?;
            (old.generated.is_some() && new.generated.is_some()).then(|| {
                (
                    Change::DropColumn {
                        table: table.clone(),
                        column: old.clone(),
                    },
                    Change::AddColumn {
                        table: table.clone(),
                        column: new.clone(),
                    },
                )
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dependents found pass by pass are, for every object reachable
    /// from the start, exactly those of a reverse index of every edge, in
    /// the same order.
    #[test]
    fn dependents_found_by_passes_are_those_of_a_whole_reverse_index() {
        let table = |n: usize| ObjectId::Table(QualifiedName::new("s", format!("t{n}")));
        let column = |n: usize, c: &str| ObjectId::Column(QualifiedName::new("s", format!("t{n}")), c.to_string());
        let view = |n: usize| ObjectId::View(QualifiedName::new("s", format!("v{n}")));
        let mut current = Snapshot::default();
        for n in 0..200 {
            // Same kinds and name lengths everywhere: sketches collide.
            current.deps.insert(column(n, "id"), table(n), DependencyKind::Auto);
            current.deps.insert(view(n), column(n, "id"), DependencyKind::Normal);
            current.deps.insert(view(n + 1), view(n), DependencyKind::Normal);
            current.deps.insert(view(n + 2), table(n), DependencyKind::Reference);
        }
        let mut whole: HashMap<&ObjectId, Vec<&ObjectId>> = HashMap::default();
        for e in current.deps.iter().filter(|e| e.kind != DependencyKind::Reference) {
            whole.entry(e.to).or_default().push(e.from);
        }
        let start = [table(150), column(7, "id")];
        let found = dependents_reachable(&current, start.iter());
        // Reachable: views 7.. and 150.., their columns and tables.
        assert!(found.contains_key(&view(199)) && found.contains_key(&column(150, "id")));
        assert!(!found.contains_key(&table(3)) && !found.contains_key(&view(6)));
        for (target, dependents) in &found {
            assert_eq!(Some(dependents), whole.get(target), "{target:?}");
        }
        // Every object reachable from the start has its dependents found.
        let mut queue: Vec<&ObjectId> = start.iter().collect();
        let mut reached: HashSet<&ObjectId> = HashSet::default();
        while let Some(id) = queue.pop() {
            if reached.insert(id) {
                assert_eq!(found.get(id), whole.get(id), "{id:?}");
                queue.extend(whole.get(id).into_iter().flatten());
            }
        }
        assert_eq!(reached.len(), 2 + 1 + (200 - 7) + 1, "two starts, a column, the views");
    }
}
