//! Recreating dependents: when a change drops or replaces an object, the
//! objects that depend on it and must survive are dropped before it and
//! created again after it, transitively.
//!
//! PostgreSQL refuses to drop an object others depend on (a primary key a
//! foreign key uses) or drops dependents silently (an index on a column that
//! is dropped and added again); either way the desired dependents have to be
//! put back explicitly. Only kinds that can be recreated without losing data
//! (indexes and constraints) are recreated this way; columns are recast in
//! place by their own changes.

use crate::catalog::{Catalog, ObjectId, Snapshot};
use crate::diff::Change;
use std::collections::{BTreeMap, BTreeSet};

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
        if let Change::AlterEnum { from, to, .. } = change {
            if !crate::diff::only_adds_labels(&from.labels, &to.labels) {
                disturbed.insert(change.object(), "recreated");
            }
        }
    }
    // Objects that are dropped and created again count as recreated.
    let created: BTreeSet<ObjectId> = changes
        .iter()
        .flat_map(|c| super::effects::effects(c).creates)
        .collect();
    for (id, why) in disturbed.iter_mut() {
        if created.contains(id) {
            *why = "recreated";
            recreated.insert(id.clone());
        }
    }
    let dropped_for_good: BTreeSet<ObjectId> = disturbed
        .keys()
        .filter(|id| !created.contains(*id))
        .cloned()
        .collect();

    let mut by_target: BTreeMap<&ObjectId, Vec<&ObjectId>> = BTreeMap::new();
    for edge in &current.deps.edges {
        by_target.entry(&edge.to).or_default().push(&edge.from);
    }

    let mut added = Vec::new();
    let mut queue: Vec<ObjectId> = disturbed.keys().cloned().collect();
    let mut seen: BTreeSet<ObjectId> = BTreeSet::new();
    while let Some(target) = queue.pop() {
        let why = disturbed.get(&target).copied().unwrap_or("recreated");
        for dependent in by_target.get(&target).into_iter().flatten() {
            let dependent = (*dependent).clone();
            if disturbed.contains_key(&dependent) || dropped_for_good.contains(&dependent) || !seen.insert(dependent.clone()) {
                continue;
            }
            let Some((drop, create)) = recreation(&dependent, &current.catalog, &desired.catalog) else {
                continue;
            };
            let reason = format!("recreated because {target} is {why}");
            added.push(Added { change: drop, reason: reason.clone() });
            added.push(Added { change: create, reason });
            disturbed.insert(dependent.clone(), "recreated");
            recreated.insert(dependent.clone());
            queue.push(dependent);
        }
    }
    // A recreated object gets its desired state (comment included) from its
    // create: drop the in-place changes the diff made for it.
    changes.retain(|c| {
        let in_place = matches!(c, Change::SetComment { .. } | Change::AlterConstraint { .. });
        !(in_place && recreated.contains(&c.object()))
    });
    added
}

/// The drop and create of an object that exists on both sides and can be
/// recreated without losing data.
fn recreation(id: &ObjectId, current: &Catalog, desired: &Catalog) -> Option<(Change, Change)> {
    match id {
        ObjectId::Index(q) => {
            let old = current.indexes.get(q)?;
            let new = desired.indexes.get(q)?;
            Some((Change::DropIndex(old.clone()), Change::CreateIndex(new.clone())))
        }
        ObjectId::Constraint(table, name) => {
            let old = current.tables.get(table)?.constraints.get(name)?;
            let new = desired.tables.get(table)?.constraints.get(name)?;
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
        _ => None,
    }
}
