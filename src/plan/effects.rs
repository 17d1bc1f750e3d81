//! What each change does to which objects: the facts the dependency graph is
//! built from.

use crate::catalog::{ConstraintKind, ObjectId, QualifiedName, Table};
use crate::diff::Change;

/// The objects a step creates, drops, or changes in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    pub creates: Vec<ObjectId>,
    pub drops: Vec<ObjectId>,
    /// Changed in place, including what the object needs.
    pub alters: Vec<ObjectId>,
    /// Changed in place without touching what the object needs (identity):
    /// ordered only among the other changes of the same object.
    pub touches: Vec<ObjectId>,
}

/// The constraints a table's creation or removal creates or drops as far as
/// ordering goes. The copies of a foreign key that PostgreSQL keeps on each
/// partition of the referencing table, and for each partition of the
/// referenced table, come and go with the foreign key they copy (with its own
/// step, or with its table): they order nothing by themselves, and counting
/// them would tie the partitions of two tables that reference each other into
/// a cycle.
fn ordering_constraints(t: &Table) -> impl Iterator<Item = ObjectId> + '_ {
    t.constraints
        .values()
        .filter(|c| !(c.inherited && c.kind == ConstraintKind::ForeignKey))
        .map(|c| ObjectId::Constraint(t.name.clone(), c.name.clone()))
}

pub fn effects(change: &Change) -> Effects {
    use Change::*;
    let mut e = Effects::default();
    let id = change.object();
    match change {
        CreateTable(t) => {
            e.creates.push(id);
            e.creates.extend(
                t.columns
                    .iter()
                    .map(|c| ObjectId::Column(t.name.clone(), c.name.clone())),
            );
            e.creates.extend(ordering_constraints(t));
        }
        DropTable(t) => {
            e.drops.push(id);
            e.drops.extend(
                t.columns
                    .iter()
                    .map(|c| ObjectId::Column(t.name.clone(), c.name.clone())),
            );
            e.drops.extend(ordering_constraints(t));
        }
        SetSequenceOwner { from, to, .. } => match (from, to) {
            (None, Some(_)) => e.creates.push(id),
            (Some(_), None) => e.drops.push(id),
            _ => e.alters.push(id),
        },
        // Comments, owners and privileges change nothing another step could
        // depend on; they only run after the object exists.
        SetComment { .. } | SetOwner { .. } | SetPrivileges { .. } | AddIdentity { .. } | DropIdentity { .. } => {
            e.touches.push(id)
        }
        SetDefaultPrivileges { .. } => {}
        // The index named by USING INDEX (a plain index, or a key
        // constraint's) must exist first.
        SetReplicaIdentity { table, to_index, .. } => {
            e.alters.push(id);
            if let Some(index) = to_index {
                e.alters
                    .push(ObjectId::Index(QualifiedName::new(table.schema.clone(), index.clone())));
                e.alters.push(ObjectId::Constraint(table.clone(), index.clone()));
            }
        }
        _ => match change.verb() {
            crate::diff::Verb::Create => e.creates.push(id),
            crate::diff::Verb::Drop => e.drops.push(id),
            crate::diff::Verb::Alter => e.alters.push(id),
        },
    }
    e
}
