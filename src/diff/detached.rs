//! Partitions that the plan detaches and keeps as tables of their own.
//!
//! `DETACH PARTITION` leaves the partition's copies of its parent's columns,
//! indexes and constraints on it, as its own. A partition that stops being
//! one (its parent is dropped or stops being partitioned, while the table
//! stays) is therefore compared as the table it will be after the detach:
//! what it inherited counts as local, so that what the desired table does
//! not have is dropped and what it has is kept. Foreign-key copies are left
//! as they are: they go with the parent's foreign key when that is dropped
//! first.

use crate::catalog::{Catalog, ConstraintKind};

/// `current` with the partitions that are detached, and not attached
/// elsewhere, turned into plain tables (their partition link kept, for the
/// detach itself); `None` when there are none.
pub fn with_detached_partitions(current: &Catalog, desired: &Catalog) -> Option<Catalog> {
    let detached: Vec<_> = current
        .tables
        .values()
        .filter(|a| {
            a.partition_of.is_some()
                && desired
                    .tables
                    .get(&a.name)
                    .is_some_and(|b| b.partition_of.is_none() && b.partition_key == a.partition_key)
        })
        .map(|a| a.name.clone())
        .collect();
    if detached.is_empty() {
        return None;
    }
    let mut c = current.clone();
    for name in &detached {
        if let Some(t) = c.tables.get_mut(name) {
            for column in &mut t.columns {
                column.inherited = false;
            }
            for constraint in t.constraints.values_mut() {
                if constraint.kind != ConstraintKind::ForeignKey {
                    constraint.inherited = false;
                }
            }
        }
    }
    for index in c.indexes.values_mut() {
        if detached.contains(&index.table) {
            index.inherited = false;
        }
    }
    Some(c)
}
