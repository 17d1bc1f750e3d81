//! Which partitions' indexes a partitioned index (or key constraint) has
//! attached, as far as the diff is concerned.
//!
//! PostgreSQL cannot detach an index from its partitioned index, so a
//! partitioned index whose attachments change is dropped and created again,
//! attaching the indexes the desired state names. Only partitions that are
//! partitions on both sides count: a partition created or dropped brings or
//! takes its index by itself.

use crate::catalog::{AttachedKind, Catalog, IndexPartition, QualifiedName};

/// Whether `table` is a partition in both catalogs.
pub fn stays_partition(table: &QualifiedName, current: &Catalog, desired: &Catalog) -> bool {
    let is_partition = |c: &Catalog| c.tables.get(table).is_some_and(|t| t.partition_of.is_some());
    is_partition(current) && is_partition(desired)
}

/// Whether attachments `a` (current) and `b` (desired) differ on the
/// partitions both catalogs have, or `b` attaches the key of a new partition
/// (which creating the partition under an existing partitioned index would
/// not: PostgreSQL builds the partition's part of the index before its key).
pub fn differ(a: &[IndexPartition], b: &[IndexPartition], current: &Catalog, desired: &Catalog) -> bool {
    let counted = |p: &&IndexPartition| {
        stays_partition(&p.table, current, desired)
            || (p.kind == AttachedKind::LocalConstraint && !current.tables.contains_key(&p.table))
    };
    let kept = |list: &[IndexPartition]| -> Vec<(QualifiedName, QualifiedName)> {
        list.iter()
            .filter(counted)
            .map(|p| (p.table.clone(), p.index.clone()))
            .collect()
    };
    kept(a) != kept(b)
}
