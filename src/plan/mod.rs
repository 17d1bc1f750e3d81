//! From changes to an ordered plan of steps, each with forward SQL, rollback
//! SQL, hazards and the desired statement that caused it.
//!
//! `build` recreates the dependents of dropped or replaced objects
//! (`expand`), turns every change into a step, orders the steps with a
//! dependency graph (`graph`), moving foreign keys out of table creation and
//! removal when tables form a cycle, and marks the drops PostgreSQL performs by
//! itself (an index dropped with its table) so their SQL is not run twice.
//! The rollback of a plan is the reverse of every step, in reverse order.

mod effects;
mod expand;
mod graph;
pub mod hazard;
mod online;

pub use effects::{Effects, effects};
pub use hazard::{Allowed, Estimate, Hazard, HazardKind};
pub use online::online;

/// Column type changes PostgreSQL has no cast for: (from, to) as
/// `format_type` prints them.
pub type Uncastable = std::collections::BTreeSet<(String, String)>;

use crate::catalog::{ConstraintKind, DependencyKind, ObjectId, Snapshot};
use crate::diff::{Change, Verb};
use crate::source::{Location, SourceMap};
use foldhash::HashMap;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "converge cannot order these steps, which depend on each other in a cycle:\n{0}\n\
         this is a converge bug: please report it with the desired files"
    )]
    Cycle(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub change: Change,
    /// The statements to run; empty when PostgreSQL does this step by itself
    /// as part of another (see `implied_by`).
    pub forward: Vec<String>,
    /// The statements that undo this step.
    pub rollback: Vec<String>,
    /// The object whose drop also drops this one.
    pub implied_by: Option<ObjectId>,
    /// Why a step that the diff did not ask for is in the plan.
    pub reason: Option<String>,
    pub hazards: Vec<Hazard>,
    /// The desired statement that defines the object.
    pub source: Option<Location>,
    /// False for a step that runs outside the plan's transactions, each
    /// statement committed as it runs (online mode: concurrent index builds,
    /// validations).
    pub transactional: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Every hazard of every step, with its step's index.
    pub fn hazards(&self) -> impl Iterator<Item = (usize, &Hazard)> {
        self.steps
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.hazards.iter().map(move |h| (i, h)))
    }
}

/// A step being assembled.
struct Draft {
    change: Change,
    reason: Option<String>,
    /// A foreign key moved out of a table's creation or removal: never implied.
    detached: bool,
}

/// Plans the changes that take `current` to `desired`.
pub fn build(
    changes: Vec<Change>,
    current: &Snapshot,
    desired: &Snapshot,
    source: Option<&SourceMap>,
    uncastable: &Uncastable,
) -> Result<Plan, PlanError> {
    let mut changes = changes;
    let recast = expand::recreate_uncastable_columns(&mut changes, uncastable);
    changes.extend(recast.iter().map(|a| a.change.clone()));
    let dependents = expand::recreate_dependents(&mut changes, current, desired);
    let mut drafts: Vec<Draft> = changes
        .into_iter()
        .map(|change| Draft {
            reason: recast.iter().find(|a| a.change == change).map(|a| a.reason.clone()),
            change,
            detached: false,
        })
        .collect();
    drafts.extend(dependents.into_iter().map(|a| Draft {
        change: a.change,
        reason: Some(a.reason),
        detached: false,
    }));

    let mut order = None;
    for _ in 0..4 {
        let effects: Vec<Effects> = drafts.iter().map(|d| effects(&d.change)).collect();
        let nodes: Vec<graph::Node<'_>> = drafts
            .iter()
            .zip(&effects)
            .map(|(d, e)| graph::Node {
                change: &d.change,
                effects: e,
            })
            .collect();
        let mut edges = graph::edges(&nodes, &current.deps, &desired.deps);
        let hosts = table_drop_hosts(&drafts, &implied_drops(&drafts, current));
        carry_implied_edges(&mut edges, &hosts);
        let cycles = graph::cycles(drafts.len(), &edges);
        if cycles.is_empty() {
            add_soft_edges(
                &mut edges,
                graph::soft_edges(&nodes, &current.deps, &desired.deps),
                drafts.len(),
            );
            let keys: Vec<(u8, ObjectId, usize)> = drafts
                .iter()
                .enumerate()
                .map(|(i, d)| (phase(&d.change), d.change.object(), i))
                .collect();
            order = graph::sort(&keys, &edges);
            break;
        }
        if !detach_foreign_keys(&mut drafts, &cycles, &hosts) {
            let text = cycles
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|&i| format!("  {}", describe(&drafts[i].change)))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .collect::<Vec<_>>()
                .join("\n  --\n");
            return Err(PlanError::Cycle(text));
        }
    }
    let Some(order) = order else {
        return Err(PlanError::Cycle("(foreign keys could not break the cycle)".into()));
    };

    let implied: Vec<Option<ObjectId>> = implied_drops(&drafts, current)
        .into_iter()
        .map(|i| i.map(|(object, _)| object))
        .collect();
    let source_sql = |id: &ObjectId| source.and_then(|s| s.source_sql(id)).map(str::to_string);
    // Default privileges change early in a plan, so every object it creates
    // (and every object its rollback creates) starts with the desired ones.
    let initial_acl = |id: &ObjectId, keyword: &str| initial_privileges(&desired.catalog, id, keyword);
    let inheritance = hazard::Inheritance::of(&current.catalog);
    let forward_context = crate::sql::Context {
        source: &source_sql,
        initial_acl: &initial_acl,
    };
    let rollback_context = crate::sql::Context {
        source: &|_| None,
        initial_acl: &initial_acl,
    };
    let mut steps = Vec::with_capacity(order.len());
    for i in order {
        let d = &drafts[i];
        let implied_by = implied[i].clone();
        let object = d.change.object();
        let located = match &d.change {
            Change::SetComment { object, .. } => source.and_then(|s| s.commenting(object)),
            _ if d.change.verb() == Verb::Drop => None,
            _ => source.and_then(|s| s.defining(&object)),
        };
        steps.push(Step {
            forward: if implied_by.is_some() {
                Vec::new()
            } else {
                crate::sql::render(&d.change, &forward_context)
            },
            rollback: crate::sql::render(&d.change.reverse(), &rollback_context),
            hazards: if implied_by.is_some() {
                Vec::new()
            } else {
                hazard::judge(
                    &d.change,
                    hazard::Judging {
                        current,
                        desired,
                        inheritance: &inheritance,
                    },
                )
            },
            source: located,
            implied_by,
            reason: d.reason.clone(),
            change: d.change.clone(),
            transactional: true,
        });
    }
    // An in-place change with nothing to run (an option PostgreSQL sets by
    // itself) is not a step.
    steps.retain(|s| !(s.forward.is_empty() && s.implied_by.is_none()));
    Ok(Plan { steps })
}

/// The privileges an object gets when the role converge connects as creates
/// it under `catalog`'s default privileges: the database-wide entry (or the
/// built-in defaults) plus the entry for its schema.
fn initial_privileges(catalog: &crate::catalog::Catalog, id: &ObjectId, keyword: &str) -> crate::catalog::Acl {
    use crate::catalog::CURRENT_ROLE;
    let object_type = match keyword {
        "TABLE" => "TABLES",
        "SEQUENCE" => "SEQUENCES",
        "ROUTINE" | "FUNCTION" | "PROCEDURE" => "FUNCTIONS",
        "TYPE" | "DOMAIN" => "TYPES",
        "SCHEMA" => "SCHEMAS",
        _ => return crate::sql::default_acl(keyword),
    };
    let entry = |schema: &str| {
        catalog
            .default_privileges
            .get(&(CURRENT_ROLE.to_string(), schema.to_string(), object_type.to_string()))
            .map(|d| d.grants.clone())
    };
    let mut acl = entry("").unwrap_or_else(|| crate::sql::default_acl(keyword));
    if keyword != "SCHEMA"
        && let Some(schema) = id.schema()
    {
        acl.extend(entry(schema).unwrap_or_default());
    }
    acl
}

/// Adds the preferred orderings that do not close a cycle: soft edges inside
/// a cycle are dropped until none is left.
fn add_soft_edges(
    edges: &mut std::collections::BTreeSet<graph::Edge>,
    mut soft: std::collections::BTreeSet<graph::Edge>,
    count: usize,
) {
    loop {
        let mut all = edges.clone();
        all.extend(soft.iter().copied());
        let cycles = graph::cycles(count, &all);
        if cycles.is_empty() {
            *edges = all;
            return;
        }
        let before = soft.len();
        for cycle in &cycles {
            soft.retain(|e| !(cycle.binary_search(&e.before).is_ok() && cycle.binary_search(&e.after).is_ok()));
        }
        if soft.len() == before {
            return;
        }
    }
}

/// Moves the foreign keys of tables created or dropped inside a cycle (or
/// dropped with a table that is) into steps of their own. Returns false when
/// there was nothing to move.
fn detach_foreign_keys(drafts: &mut Vec<Draft>, cycles: &[Vec<usize>], hosts: &[Option<usize>]) -> bool {
    let in_cycle: std::collections::BTreeSet<usize> = cycles.iter().flatten().copied().collect();
    let carried = (0..drafts.len()).filter(|i| hosts[*i].is_some_and(|h| in_cycle.contains(&h)));
    let tables: std::collections::BTreeSet<usize> = in_cycle.iter().copied().chain(carried).collect();
    let mut moved = Vec::new();
    for i in tables {
        let creating = match &drafts[i].change {
            Change::CreateTable(_) => true,
            Change::DropTable(_) => false,
            _ => continue,
        };
        let (Change::CreateTable(t) | Change::DropTable(t)) = &mut drafts[i].change else {
            continue;
        };
        let foreign: Vec<String> = t
            .constraints
            .values()
            // A partition's copy of its parent's key comes with the parent's.
            .filter(|c| c.kind == ConstraintKind::ForeignKey && c.references.as_ref() != Some(&t.name) && !c.inherited)
            .map(|c| c.name.clone())
            .collect();
        for name in foreign {
            if let Some(constraint) = t.constraints.remove(&name) {
                moved.push((creating, t.name.clone(), constraint));
            }
        }
    }
    let any = !moved.is_empty();
    for (creating, table, constraint) in moved {
        drafts.push(Draft {
            change: if creating {
                Change::AddConstraint { table, constraint }
            } else {
                Change::DropConstraint { table, constraint }
            },
            reason: Some("moved out of the table's statement: the tables reference each other".into()),
            detached: true,
        });
    }
    any
}

/// The steps a table's drop carries out (its partitions, indexes and
/// constraints, the sequences its columns own) really happen when the table
/// is dropped: whatever they must follow or precede, the table's drop must
/// follow or precede too. For each draft, the `DropTable` draft that carries
/// it out, when there is one.
fn table_drop_hosts(drafts: &[Draft], implied: &[Option<(ObjectId, usize)>]) -> Vec<Option<usize>> {
    (0..drafts.len())
        .map(|start| {
            let mut i = start;
            // Follow steps implied by implied steps to the one that runs; the
            // bound guards against a malformed chain.
            for _ in 0..implied.len() {
                match &implied[i] {
                    Some((_, j)) => i = *j,
                    None => break,
                }
            }
            (i != start && matches!(drafts[i].change, Change::DropTable(_))).then_some(i)
        })
        .collect()
}

/// Adds, for every edge that touches a step a table's drop carries out, the
/// same edge on the table's drop.
fn carry_implied_edges(edges: &mut std::collections::BTreeSet<graph::Edge>, hosts: &[Option<usize>]) {
    let carried: Vec<graph::Edge> = edges
        .iter()
        .filter(|e| hosts[e.before].is_some() || hosts[e.after].is_some())
        .map(|e| graph::Edge {
            before: hosts[e.before].unwrap_or(e.before),
            after: hosts[e.after].unwrap_or(e.after),
        })
        .filter(|e| e.before != e.after)
        .collect();
    edges.extend(carried);
}

/// For each draft, the object whose drop makes PostgreSQL drop it too, and
/// the draft that drops that object.
fn implied_drops(drafts: &[Draft], current: &Snapshot) -> Vec<Option<(ObjectId, usize)>> {
    let mut dropped_by: HashMap<ObjectId, usize> = HashMap::default();
    for (i, d) in drafts.iter().enumerate() {
        for id in effects(&d.change).drops {
            dropped_by.entry(id).or_insert(i);
        }
    }
    drafts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            if d.detached {
                return None;
            }
            let probe = match &d.change {
                Change::DropIndex(_)
                | Change::DropConstraint { .. }
                | Change::DropTrigger(_)
                | Change::DropPolicy(_)
                | Change::DropTable(_) => d.change.object(),
                Change::DropSequence(s) => ObjectId::SequenceOwner(s.name.clone()),
                // Dropping the owning column would drop the sequence too: the
                // ownership goes by itself only when the sequence goes.
                Change::SetSequenceOwner { sequence, to: None, .. } => {
                    let seq = ObjectId::Sequence(sequence.clone());
                    return dropped_by.get(&seq).filter(|&&j| j != i).map(|&j| (seq, j));
                }
                _ => return None,
            };
            let edges: Vec<crate::catalog::DependencyRef<'_>> = current.deps.from(&probe).collect();
            edges.iter().find_map(|e| {
                let automatic = matches!(e.kind, DependencyKind::Auto | DependencyKind::Internal);
                let j = *dropped_by.get(e.to)?;
                // PostgreSQL drops it with `e.to` only if nothing else it
                // depends on goes first: a foreign key whose referenced
                // column is dropped by another step (a column changing to a
                // type it cannot be cast to) must be dropped itself, before
                // that step, or that step fails on it. (Whole tables are
                // ordered by their foreign keys already.)
                let blocked = edges.iter().any(|other| {
                    !matches!(other.kind, DependencyKind::Auto | DependencyKind::Internal)
                        && dropped_by
                            .get(other.to)
                            .is_some_and(|&k| k != i && k != j && matches!(drafts[k].change, Change::DropColumn { .. }))
                });
                (automatic && j != i && !blocked).then(|| (e.to.clone(), j))
            })
        })
        .collect()
}

/// Cosmetic order among steps free to run in any order: drops first (they
/// free names), then creation in the order a person would write it.
fn phase(change: &Change) -> u8 {
    use Change::*;
    match change {
        DropPolicy(_) | DropTrigger(_) => 0,
        DropView(_) => 1,
        DropIndex(_) => 2,
        DropConstraint { constraint, .. } if constraint.kind == ConstraintKind::ForeignKey => 3,
        DropConstraint { .. } => 4,
        SetSequenceOwner { to: None, .. } => 5,
        DetachPartition { .. } | NoInherit { .. } => 6,
        DropColumn { .. } => 7,
        DropTable(_) => 8,
        DropAggregate(_) | DropFunction(_) => 9,
        DropSequence(_) => 10,
        DropDomain(_) | DropCompositeType(_) | DropRangeType(_) => 11,
        DropEnum(_) => 12,
        DropCollation(_) => 13,
        DropExtension(_) => 14,
        DropSchema(_) => 15,
        CreateSchema(_) => 19,
        CreateExtension(_) => 21,
        AlterExtension { .. } => 22,
        CreateCollation(_) | RecreateCollation { .. } => 23,
        CreateEnum(_) => 24,
        AlterEnum { .. } => 25,
        CreateDomain(_) | AlterDomain { .. } | RecreateDomain { .. } => 26,
        CreateCompositeType(_) | AlterCompositeType { .. } | RecreateCompositeType { .. } | CreateRangeType(_) => 27,
        CreateSequence(_) => 28,
        AlterSequence { .. } => 29,
        CreateFunction(_) | ReplaceFunction { .. } | CreateAggregate(_) | ReplaceAggregate { .. } => 30,
        CreateTable(_) => 31,
        AttachPartition { .. } => 32,
        // After the columns and checks INHERIT needs the table to have.
        Inherit { .. } => 39,
        SetLogged { .. } | SetRelationOptions { .. } => 33,
        AddColumn { .. } => 34,
        DropIdentity { .. } | AlterColumn { .. } => 35,
        AddIdentity { .. } | SetSequenceOwner { .. } => 36,
        AddConstraint { constraint, .. } if constraint.kind == ConstraintKind::ForeignKey => 38,
        AddConstraint { .. } => 37,
        AlterConstraint { .. } => 39,
        CreateIndex(_) => 40,
        SetReplicaIdentity { .. } => 41,
        CreateView(_) | ReplaceView { .. } => 42,
        SetPopulated { .. } => 43,
        CreateTrigger(_) | SetTriggerEnabled { .. } => 44,
        SetRowSecurity { .. } => 45,
        CreatePolicy(_) | AlterPolicy { .. } => 46,
        SetOwner { .. } => 47,
        SetPrivileges { .. } => 48,
        // Early: objects created later in the plan get them, as in the shadow.
        SetDefaultPrivileges { .. } => 20,
        SetComment { .. } => 50,
    }
}

/// One line for a change: `create table public.users`.
pub fn describe(change: &Change) -> String {
    use Change::*;
    let object = change.object();
    match change {
        SetComment { to: None, .. } => format!("remove comment on {object}"),
        SetComment { .. } => format!("set comment on {object}"),
        SetSequenceOwner { sequence, to: None, .. } => format!("drop ownership of sequence {sequence}"),
        SetSequenceOwner {
            sequence, to: Some(c), ..
        } => format!("set owner of sequence {sequence} to {c}"),
        AlterEnum { recreate: true, .. } => format!("recreate {object}"),
        AlterEnum { .. } => format!("add values to {object}"),
        AddColumn { .. } => format!("add {object}"),
        AddIdentity { .. } => format!("add identity to {object}"),
        DropIdentity { .. } => format!("drop identity of {object}"),
        AddConstraint { table, constraint } => {
            format!("add {} {} on {table}", constraint.kind.describe(), constraint.name)
        }
        DropConstraint { table, constraint } => {
            format!("drop {} {} on {table}", constraint.kind.describe(), constraint.name)
        }
        AlterConstraint { table, to, .. } => {
            format!("alter {} {} on {table}", to.kind.describe(), to.name)
        }
        SetLogged { unlogged: true, .. } => format!("make {object} unlogged"),
        SetLogged { .. } => format!("make {object} logged"),
        SetRelationOptions { .. } => format!("set storage parameters of {object}"),
        SetReplicaIdentity { to, .. } => format!("set replica identity of {object} to {to}"),
        SetRowSecurity { to, .. } => format!(
            "set row-level security of {object} to {}{}",
            if to.0 { "enabled" } else { "disabled" },
            if to.1 { ", forced" } else { "" }
        ),
        AttachPartition { partition, .. } => format!("attach {object} to {}", partition.parent),
        DetachPartition { partition, .. } => format!("detach {object} from {}", partition.parent),
        Inherit { parent, .. } => format!("make {object} inherit from {parent}"),
        NoInherit { parent, .. } => format!("make {object} stop inheriting from {parent}"),
        ReplaceView { .. } | ReplaceFunction { .. } | ReplaceAggregate { .. } => format!("replace {object}"),
        RecreateDomain { .. } => format!("recreate domain {}", object.name()),
        RecreateCompositeType { .. } | RecreateCollation { .. } => format!("recreate {object}"),
        SetPopulated { populated: true, .. } => format!("refresh {object}"),
        SetPopulated { .. } => format!("empty {object} (WITH NO DATA)"),
        SetTriggerEnabled { to, .. } => format!(
            "{} {object}",
            match to.as_str() {
                "D" => "disable",
                "R" => "enable (replica) ",
                "A" => "enable (always)",
                _ => "enable",
            }
        ),
        SetPrivileges { .. } => format!("change privileges on {object}"),
        SetOwner { to, .. } => format!("change owner of {object} to {to}"),
        SetDefaultPrivileges { .. } => format!("change default privileges {}", object.name()),
        _ => {
            let verb = match change.verb() {
                Verb::Create => "create",
                Verb::Drop => "drop",
                Verb::Alter => "alter",
            };
            format!("{verb} {object}")
        }
    }
}

#[cfg(test)]
mod tests;
