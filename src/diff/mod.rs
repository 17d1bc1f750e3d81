//! `diff(current, desired)`: the changes that take one catalog to the other.
//!
//! Pure and deterministic: maps are walked in key order with a merge join, so
//! the cost is linear in the number of objects. One file per object kind.
//! Ordering the changes is `plan`'s job, not this module's.

mod aggregates;
mod attached;
mod change;
mod detached;
mod enums;
mod inheritance;
mod others;
mod routines;
mod security;
mod tables;
mod types;
mod views;

pub use aggregates::{GRANT_KEYWORD as AGGREGATE_GRANT_KEYWORD, OWNER_KEYWORD as AGGREGATE_OWNER_KEYWORD};
pub use change::{Change, CompositeRecast, DomainRecast, TypeUse, Verb};
pub use enums::{label_renames, only_adds_labels, uses, uses_type};
pub use inheritance::after_create as inherited_column_changes;
pub use tables::{alterable, core_definition};

use crate::catalog::{Catalog, ObjectId};
use std::collections::BTreeMap;

pub fn diff(current: &Catalog, desired: &Catalog) -> Vec<Change> {
    let mut out = Vec::new();
    enums::enums(current, desired, &mut out);
    // Renaming an enum label renames it in every stored expression that
    // uses it: compare the rest as the target will be after the renames.
    let renamed = enums::with_renamed_labels(current, desired);
    let current = renamed.as_ref().unwrap_or(current);
    // Partitions that are detached for good are compared as the plain tables
    // the detach leaves.
    let detached = detached::with_detached_partitions(current, desired);
    let current = detached.as_ref().unwrap_or(current);
    // Tables that lose a parent are compared as the NO INHERIT leaves them.
    let left = inheritance::with_left_parents(current, desired);
    let current = left.as_ref().unwrap_or(current);
    others::schemas(current, desired, &mut out);
    others::extensions(current, desired, &mut out);
    types::collations(current, desired, &mut out);
    types::domains(current, desired, &mut out);
    types::composite_types(current, desired, &mut out);
    types::range_types(current, desired, &mut out);
    others::sequences(current, desired, &tables::recreated(current, desired), &mut out);
    routines::functions(current, desired, &mut out);
    aggregates::aggregates(current, desired, &mut out);
    tables::tables(current, desired, &mut out);
    views::views(current, desired, &mut out);
    others::indexes(current, desired, &mut out);
    routines::triggers(current, desired, &mut out);
    security::policies(current, desired, &mut out);
    security::default_privileges(current, desired, &mut out);
    // Domains recreated with their enum get their desired state there.
    let mut with_enum: Vec<ObjectId> = Vec::new();
    for c in &out {
        if let Change::AlterEnum {
            recreate: true,
            domains,
            composites,
            ..
        } = c
        {
            with_enum.extend(domains.iter().map(|d| ObjectId::Type(d.to.name.clone())));
            with_enum.extend(composites.iter().map(|d| ObjectId::Type(d.to.name.clone())));
        }
    }
    out.retain(|c| {
        !(matches!(
            c,
            Change::AlterDomain { .. }
                | Change::AlterCompositeType { .. }
                | Change::RecreateCompositeType { .. }
                | Change::SetComment { .. }
                | Change::SetOwner { .. }
                | Change::SetPrivileges { .. }
        ) && with_enum.contains(&c.object()))
    });
    out
}

/// An owner change (owners are blanked when they are not managed).
pub(crate) fn owner(object: ObjectId, keyword: &str, from: &str, to: &str, out: &mut Vec<Change>) {
    if from != to && !from.is_empty() && !to.is_empty() {
        out.push(Change::SetOwner {
            object,
            keyword: keyword.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        });
    }
}

/// A privileges change on an object that exists on both sides.
pub(crate) fn privileges(
    object: ObjectId,
    keyword: &str,
    from: &crate::catalog::Acl,
    to: &crate::catalog::Acl,
    out: &mut Vec<Change>,
) {
    if from != to {
        out.push(Change::SetPrivileges {
            object,
            keyword: keyword.to_string(),
            from: from.clone(),
            to: to.clone(),
        });
    }
}

/// Walks two maps in key order, yielding each key's value on either side.
pub(crate) fn paired<'a, K: Ord, V>(
    a: &'a BTreeMap<K, V>,
    b: &'a BTreeMap<K, V>,
) -> impl Iterator<Item = (Option<&'a V>, Option<&'a V>)> + 'a {
    paired_in_order(a.iter(), b.iter())
}

/// `paired` over two lists of (key, value) pairs, each in key order.
pub(crate) fn paired_in_order<'a, K: Ord, V: 'a>(
    a: impl Iterator<Item = (K, &'a V)> + 'a,
    b: impl Iterator<Item = (K, &'a V)> + 'a,
) -> impl Iterator<Item = (Option<&'a V>, Option<&'a V>)> + 'a {
    let mut ia = a.peekable();
    let mut ib = b.peekable();
    std::iter::from_fn(move || match (ia.peek(), ib.peek()) {
        (None, None) => None,
        (Some(_), None) => ia.next().map(|(_, v)| (Some(v), None)),
        (None, Some(_)) => ib.next().map(|(_, v)| (None, Some(v))),
        (Some((ka, _)), Some((kb, _))) => match ka.cmp(kb) {
            std::cmp::Ordering::Less => ia.next().map(|(_, v)| (Some(v), None)),
            std::cmp::Ordering::Greater => ib.next().map(|(_, v)| (None, Some(v))),
            std::cmp::Ordering::Equal => {
                let va = ia.next().map(|(_, v)| v);
                let vb = ib.next().map(|(_, v)| v);
                Some((va, vb))
            }
        },
    })
}

/// A comment change on an object that exists on both sides.
pub(crate) fn comment(object: ObjectId, from: &Option<String>, to: &Option<String>, out: &mut Vec<Change>) {
    if from != to {
        out.push(Change::SetComment {
            object,
            from: from.clone(),
            to: to.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_merges_in_key_order() {
        let a: BTreeMap<i32, &str> = [(1, "a1"), (3, "a3")].into();
        let b: BTreeMap<i32, &str> = [(2, "b2"), (3, "b3")].into();
        let got: Vec<_> = paired(&a, &b).map(|(x, y)| (x.copied(), y.copied())).collect();
        assert_eq!(
            got,
            vec![(Some("a1"), None), (None, Some("b2")), (Some("a3"), Some("b3"))]
        );
    }
}
