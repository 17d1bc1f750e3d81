//! Tables, their columns and their constraints.

use super::{Change, comment, inheritance, owner, paired, paired_in_order, privileges};
use crate::catalog::*;
use std::collections::{BTreeMap, BTreeSet};

pub fn tables(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.tables, &desired.tables) {
        match pair {
            (Some(a), None) => out.push(Change::DropTable(a.clone())),
            (None, Some(b)) => create_table(b, desired, out),
            (Some(a), Some(b)) => {
                let parents = match (&a.partition_of, &b.partition_of) {
                    (Some(x), Some(y)) if x.parent == y.parent => {
                        current.tables.get(&x.parent).zip(desired.tables.get(&y.parent))
                    }
                    _ => None,
                };
                table(a, b, parents, (current, desired), out);
            }
            (None, None) => {}
        }
    }
}

/// A table cannot be partitioned, or stop being partitioned, in place, nor
/// have a column it declares become one it only inherits (see
/// `inheritance::unreachable`): it is dropped and created again.
fn recreates(a: &Table, b: &Table, current: &Catalog, desired: &Catalog) -> bool {
    a.partition_key != b.partition_key || inheritance::unreachable(a, b, current, desired)
}

/// The tables that are dropped and created again.
pub fn recreated(current: &Catalog, desired: &Catalog) -> BTreeSet<QualifiedName> {
    paired(&current.tables, &desired.tables)
        .filter_map(|pair| match pair {
            (Some(a), Some(b)) if recreates(a, b, current, desired) => Some(a.name.clone()),
            _ => None,
        })
        .collect()
}

/// A new table; `REPLICA IDENTITY USING INDEX` is set by a step of its own,
/// after the index exists. An inheritance child's columns that differ from
/// what its parents give it are changed right after.
fn create_table(b: &Table, desired: &Catalog, out: &mut Vec<Change>) {
    out.push(Change::CreateTable(b.clone()));
    out.extend(inheritance::after_create(b, desired));
    if b.replica_identity == "index" {
        out.push(Change::SetReplicaIdentity {
            table: b.name.clone(),
            from: "default".into(),
            to: b.replica_identity.clone(),
            from_index: None,
            to_index: b.replica_identity_index.clone(),
        });
    }
}

fn columns_by_name(columns: &[Column]) -> BTreeMap<&str, &Column> {
    columns.iter().map(|c| (c.name.as_str(), c)).collect()
}

/// `parents`: the partitioned table `a` and `b` are partitions of, on each
/// side, when both are partitions of the same table.
fn table(
    a: &Table,
    b: &Table,
    parents: Option<(&Table, &Table)>,
    catalogs: (&Catalog, &Catalog),
    out: &mut Vec<Change>,
) {
    let (current, desired) = catalogs;
    let stays_partition = a.partition_of.is_some() && b.partition_of.is_some();
    let key = |c: &Constraint| {
        matches!(
            c.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
        )
    };
    let name = &a.name;
    if recreates(a, b, current, desired) {
        out.push(Change::DropTable(a.clone()));
        create_table(b, desired, out);
        return;
    }
    let inherits = inheritance::involved(a, b);
    let kept_parents = if inherits {
        inheritance::kept_parents(a, b, current, desired)
    } else {
        Vec::new()
    };
    if inherits {
        inheritance::parent_changes(a, b, out);
    }
    if a.partition_of != b.partition_of {
        if let Some(p) = &a.partition_of {
            out.push(Change::DetachPartition {
                table: name.clone(),
                partition: p.clone(),
            });
        }
        if let Some(p) = &b.partition_of {
            out.push(Change::AttachPartition {
                table: name.clone(),
                partition: p.clone(),
            });
        }
    }
    if a.unlogged != b.unlogged {
        out.push(Change::SetLogged {
            table: name.clone(),
            unlogged: b.unlogged,
        });
    }
    if a.options != b.options {
        out.push(Change::SetRelationOptions {
            object: ObjectId::Table(name.clone()),
            from: a.options.clone(),
            to: b.options.clone(),
        });
    }
    if (&a.replica_identity, &a.replica_identity_index) != (&b.replica_identity, &b.replica_identity_index) {
        out.push(Change::SetReplicaIdentity {
            table: name.clone(),
            from: a.replica_identity.clone(),
            to: b.replica_identity.clone(),
            from_index: a.replica_identity_index.clone(),
            to_index: b.replica_identity_index.clone(),
        });
    }
    if (a.row_security, a.force_row_security) != (b.row_security, b.force_row_security) {
        out.push(Change::SetRowSecurity {
            table: name.clone(),
            from: (a.row_security, a.force_row_security),
            to: (b.row_security, b.force_row_security),
        });
    }
    let id = ObjectId::Table(name.clone());
    owner(id.clone(), "TABLE", &a.owner, &b.owner, out);
    privileges(id.clone(), "TABLE", &a.acl, &b.acl, out);
    comment(id, &a.comment, &b.comment, out);

    // Nothing to pair when the columns are the same and none is inherited
    // (most columns of most tables).
    let same_columns = !inherits && a.columns == b.columns && a.columns.iter().all(|c| !c.inherited);
    let (columns_a, columns_b) = if same_columns {
        (BTreeMap::new(), BTreeMap::new())
    } else {
        (columns_by_name(&a.columns), columns_by_name(&b.columns))
    };
    for pair in paired(&columns_a, &columns_b) {
        match pair {
            // A partition's columns come and go with its parent's.
            (Some(x), None) if x.inherited => {}
            // An inheritance child's too (a parent it keeps adds it; any
            // other way, the table is recreated).
            (None, Some(y)) if y.inherited && inherits => {}
            // A column a kept parent carries follows the parent's type; the
            // child may set its own default, NOT NULL, comment and grants.
            (Some(x), Some(y)) if inherits && inheritance::carried(&x.name, &kept_parents) => {
                let from = inheritance::after_parents(x, &kept_parents);
                let to = Column {
                    default: y.default.clone(),
                    not_null: y.not_null,
                    comment: y.comment.clone(),
                    acl: y.acl.clone(),
                    ..from.clone()
                };
                column(name, &from, &to, out);
            }
            // A column the child had only from parents that drop it, and
            // declares now: the parents' drop takes it, and it is added
            // again as the child's own.
            (Some(x), Some(y)) if inherits && x.inherited && !y.inherited => out.push(Change::AddColumn {
                table: name.clone(),
                column: (*y).clone(),
            }),
            (None, Some(y)) if y.inherited && b.partition_of.is_some() && a.partition_of.is_some() => {}
            // ... but a partition may set its own default and NOT NULL.
            (Some(x), Some(y)) if x.inherited && y.inherited => {
                let local = Column {
                    default: y.default.clone(),
                    not_null: y.not_null,
                    comment: y.comment.clone(),
                    ..(*x).clone()
                };
                let from = Column {
                    not_null: not_null_after_parent(parents, x, y),
                    ..(*x).clone()
                };
                column(name, &from, &local, out);
            }
            (Some(x), None) => out.push(Change::DropColumn {
                table: name.clone(),
                column: (*x).clone(),
            }),
            (None, Some(y)) => out.push(Change::AddColumn {
                table: name.clone(),
                column: (*y).clone(),
            }),
            // Nothing to compare (most columns of most tables).
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => column(
                name,
                x,
                &Column {
                    inherited: x.inherited,
                    ..(*y).clone()
                },
                out,
            ),
            (None, None) => {}
        }
    }

    for pair in paired_in_order(a.constraints.iter(), b.constraints.iter()) {
        match pair {
            // A partition's copies of its parent's constraints come and go
            // with the parent's, and with ATTACH and DETACH.
            (Some(x), None) if x.inherited => {}
            (None, Some(y)) if y.inherited => {}
            // A partition's own key that its parent's key adopts: the
            // parent's key is (re)built, adding it again as its copy; one
            // that the parent's key lets go is dropped with it and added
            // again alone.
            (Some(x), Some(y)) if stays_partition && key(x) && !x.inherited && y.inherited => {
                out.push(Change::DropConstraint {
                    table: name.clone(),
                    constraint: x.clone(),
                })
            }
            (Some(x), Some(y)) if stays_partition && key(x) && x.inherited && !y.inherited => {
                out.push(Change::AddConstraint {
                    table: name.clone(),
                    constraint: y.clone(),
                })
            }
            // A check the child had only from parents that drop it, and
            // declares now: added again as its own after the parents' drop.
            (Some(x), Some(y)) if inherits && x.inherited && !y.inherited => out.push(Change::AddConstraint {
                table: name.clone(),
                constraint: y.clone(),
            }),
            (Some(x), Some(y)) if x.inherited || y.inherited => {}
            (Some(x), Some(y)) if super::attached::differ(&x.partitions, &y.partitions, current, desired) => {
                out.push(Change::DropConstraint {
                    table: name.clone(),
                    constraint: x.clone(),
                });
                out.push(Change::AddConstraint {
                    table: name.clone(),
                    constraint: y.clone(),
                });
            }
            (Some(x), None) => out.push(Change::DropConstraint {
                table: name.clone(),
                constraint: x.clone(),
            }),
            (None, Some(y)) => out.push(Change::AddConstraint {
                table: name.clone(),
                constraint: y.clone(),
            }),
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => constraint(name, x, y, out),
            (None, None) => {}
        }
    }
}

/// Whether partition column `x` (to become `y`) is NOT NULL once its
/// parent's own change has run: SET NOT NULL and DROP NOT NULL on a
/// partitioned table recurse to its partitions (and PostgreSQL refuses DROP
/// NOT NULL on a partition while the parent keeps it), so a partition whose
/// column follows its parent's is changed by the parent's step. A partition
/// that goes another way than its parent keeps its own change.
fn not_null_after_parent(parents: Option<(&Table, &Table)>, x: &Column, y: &Column) -> bool {
    let parent_change = parents.and_then(|(pa, pb)| {
        let before = pa.column(&x.name)?.not_null;
        let after = pb.column(&x.name)?.not_null;
        (before != after).then_some(after)
    });
    match parent_change {
        Some(after) if after == y.not_null => after,
        _ => x.not_null,
    }
}

fn column(table: &QualifiedName, a: &Column, b: &Column, out: &mut Vec<Change>) {
    let id = ObjectId::Column(table.clone(), a.name.clone());
    // PostgreSQL cannot turn a column into a generated one, nor change a
    // generation expression: the column is dropped and added again.
    if b.generated.is_some() && a.generated != b.generated {
        out.push(Change::DropColumn {
            table: table.clone(),
            column: a.clone(),
        });
        out.push(Change::AddColumn {
            table: table.clone(),
            column: b.clone(),
        });
        return;
    }
    let without_identity = |c: &Column| Column {
        identity: None,
        ..c.clone()
    };
    match (&a.identity, &b.identity) {
        (Some(_), None) => {
            out.push(Change::DropIdentity {
                table: table.clone(),
                column: a.clone(),
            });
            alter_column(table, &without_identity(a), b, out);
        }
        (None, Some(_)) => {
            alter_column(table, a, &without_identity(b), out);
            out.push(Change::AddIdentity {
                table: table.clone(),
                column: b.clone(),
            });
        }
        _ => alter_column(table, a, b, out),
    }
    comment(id, &a.comment, &b.comment, out);
}

fn alter_column(table: &QualifiedName, a: &Column, b: &Column, out: &mut Vec<Change>) {
    let in_place = |c: &Column| Column {
        comment: None,
        acl: Default::default(),
        ..c.clone()
    };
    if in_place(a) != in_place(b) {
        out.push(Change::AlterColumn {
            table: table.clone(),
            from: a.clone(),
            to: b.clone(),
        });
    }
    privileges(
        ObjectId::Column(table.clone(), a.name.clone()),
        "TABLE",
        &a.acl,
        &b.acl,
        out,
    );
}

fn constraint(table: &QualifiedName, a: &Constraint, b: &Constraint, out: &mut Vec<Change>) {
    if a.definition != b.definition || a.kind != b.kind {
        if alterable(a, b) {
            out.push(Change::AlterConstraint {
                table: table.clone(),
                from: a.clone(),
                to: b.clone(),
            });
        } else {
            out.push(Change::DropConstraint {
                table: table.clone(),
                constraint: a.clone(),
            });
            out.push(Change::AddConstraint {
                table: table.clone(),
                constraint: b.clone(),
            });
            return;
        }
    }
    comment(
        ObjectId::Constraint(table.clone(), a.name.clone()),
        &a.comment,
        &b.comment,
        out,
    );
    comment(
        ObjectId::Index(QualifiedName::new(table.schema.clone(), a.name.clone())),
        &a.index_comment,
        &b.index_comment,
        out,
    );
}

/// Can `ALTER TABLE ... VALIDATE CONSTRAINT` or `ALTER CONSTRAINT` take `a`
/// to `b` in place?
pub fn alterable(a: &Constraint, b: &Constraint) -> bool {
    if a.kind != b.kind {
        return false;
    }
    let core_a = core_definition(&a.definition);
    let core_b = core_definition(&b.definition);
    if core_a != core_b {
        return false;
    }
    let validates = !a.validated && b.validated;
    let same_validation = a.validated == b.validated;
    let deferrability_changes = (a.deferrable, a.initially_deferred) != (b.deferrable, b.initially_deferred);
    // Only foreign keys can change deferrability in place (PostgreSQL 15).
    if deferrability_changes && a.kind != ConstraintKind::ForeignKey {
        return false;
    }
    (validates || same_validation) && (validates || deferrability_changes)
}

/// A constraint definition without its validation and deferrability clauses.
pub fn core_definition(definition: &str) -> String {
    let mut d = definition.to_string();
    for suffix in [
        " NOT VALID",
        " INITIALLY DEFERRED",
        " INITIALLY IMMEDIATE",
        " DEFERRABLE",
        " NOT DEFERRABLE",
    ] {
        d = d.replace(suffix, "");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fk(def: &str, validated: bool, deferrable: bool, deferred: bool) -> Constraint {
        Constraint {
            name: "fk".into(),
            kind: ConstraintKind::ForeignKey,
            definition: def.into(),
            references: None,
            deferrable,
            initially_deferred: deferred,
            validated,
            comment: None,
            index_comment: None,
            inherited: false,
            on_partitioned_table: false,
            partitions: Vec::new(),
        }
    }

    #[test]
    fn validation_and_deferrability_alter_in_place() {
        let base = "FOREIGN KEY (a) REFERENCES public.t(id)";
        let not_valid = fk(&format!("{base} NOT VALID"), false, false, false);
        let valid = fk(base, true, false, false);
        let deferred = fk(&format!("{base} DEFERRABLE INITIALLY DEFERRED"), true, true, true);
        assert!(alterable(&not_valid, &valid));
        assert!(!alterable(&valid, &not_valid), "un-validating needs drop and add");
        assert!(alterable(&valid, &deferred));
        let other = fk("FOREIGN KEY (b) REFERENCES public.t(id)", true, false, false);
        assert!(!alterable(&valid, &other));
    }
}
