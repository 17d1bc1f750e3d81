//! The online strategy: rewrites a plan so that existing tables stay
//! readable and writable while it runs.
//!
//! - Indexes on existing, non-partitioned tables are built and dropped
//!   `CONCURRENTLY`, in steps that run outside a transaction.
//! - Foreign keys and checks added to existing tables are added `NOT VALID`
//!   (a brief lock, no scan) and validated in a step at the end of the plan,
//!   outside the transaction that added them (`VALIDATE CONSTRAINT` takes
//!   only SHARE UPDATE EXCLUSIVE).
//! - SET NOT NULL on an existing column goes through a validated
//!   `CHECK (col IS NOT NULL)`, which lets PostgreSQL skip its scan, and the
//!   check is dropped afterwards.
//! - A validation left over by an interrupted online apply (a constraint
//!   still NOT VALID) runs outside a transaction too.
//!
//! It only rewrites SQL and regroups steps: the end state (and so the desired
//! catalog's fingerprint) is the same as without it. It never reorders steps
//! except to move validations after everything else, which nothing in a plan
//! depends on.

use super::{Step, hazard};
use crate::catalog::{Catalog, Constraint, ConstraintKind, QualifiedName, Snapshot};
use crate::diff::Change;
use crate::sql::{ident, qualified};
use pg_query::NodeEnum;

/// Rewrites `plan`'s steps for the online strategy (see the module comment).
pub fn online(plan: super::Plan, current: &Snapshot, desired: &Snapshot) -> super::Plan {
    let created: Vec<QualifiedName> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.change {
            Change::CreateTable(t) => Some(t.name.clone()),
            _ => None,
        })
        .collect();
    let existing = |table: &QualifiedName| !created.contains(table) && exists(&current.catalog, table);
    let inheritance = hazard::Inheritance::of(&current.catalog);
    let judging = hazard::Judging {
        current,
        desired,
        inheritance: &inheritance,
    };
    let mut steps = Vec::with_capacity(plan.steps.len());
    let mut last = Vec::new();
    for step in plan.steps {
        if step.implied_by.is_some() {
            steps.push(step);
            continue;
        }
        match &step.change.clone() {
            Change::CreateIndex(i) | Change::DropIndex(i) if !i.inherited && existing(&i.table) => {
                steps.push(concurrently(step));
            }
            Change::AddConstraint { table, constraint } if deferrable_validation(constraint) && existing(table) => {
                let (add, validate) = add_not_valid(step, table, constraint, judging);
                steps.push(add);
                last.push(validate);
            }
            Change::AlterConstraint { table, from, to }
                if !from.validated && to.validated && crate::diff::alterable(from, to) && existing(table) =>
            {
                let mut step = step;
                if step.forward.len() == 1 {
                    step.transactional = false;
                    step.reason = Some(validation_reason());
                }
                steps.push(step);
            }
            Change::AlterColumn { table, from, to }
                if to.not_null
                    && !from.not_null
                    && from.data_type == to.data_type
                    && to.generated.is_none()
                    && existing(table) =>
            {
                let (now, later) = set_not_null(step, table, from, to, judging);
                steps.extend(now);
                last.extend(later);
            }
            _ => steps.push(step),
        }
    }
    steps.extend(last);
    super::Plan { steps }
}

/// A plain table (not partitioned, not a partition) or a materialized view
/// of the target.
fn exists(catalog: &Catalog, table: &QualifiedName) -> bool {
    match catalog.tables.get(table) {
        Some(t) => t.partition_key.is_none() && t.partition_of.is_none(),
        None => catalog.views.contains_key(table),
    }
}

/// Constraints whose validation can be deferred: foreign keys and checks the
/// desired state wants valid.
fn deferrable_validation(c: &Constraint) -> bool {
    matches!(c.kind, ConstraintKind::ForeignKey | ConstraintKind::Check) && c.validated && !c.inherited
}

fn validation_reason() -> String {
    "validated outside a transaction, after the constraint was added NOT VALID: VALIDATE takes only SHARE UPDATE EXCLUSIVE, which lets reads and writes go on".into()
}

/// The index step, built or dropped CONCURRENTLY outside a transaction. The
/// index build's lock hazard is gone: writes go on while it builds.
fn concurrently(mut step: Step) -> Step {
    step.forward = step.forward.iter().map(|s| concurrent_statement(s)).collect();
    step.rollback = step.rollback.iter().map(|s| concurrent_statement(s)).collect();
    step.hazards.retain(|h| h.kind != hazard::HazardKind::LongLock);
    step.transactional = false;
    step
}

/// `CREATE INDEX` and `DROP INDEX` statements made CONCURRENTLY; any other
/// statement (a comment on the index) as it is.
pub fn concurrent_statement(sql: &str) -> String {
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return sql.to_string();
    };
    let Some(node) = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|s| s.node.clone())
    else {
        return sql.to_string();
    };
    let node = match node {
        NodeEnum::IndexStmt(mut s) => {
            s.concurrent = true;
            NodeEnum::IndexStmt(s)
        }
        NodeEnum::DropStmt(mut s) if s.remove_type == pg_query::protobuf::ObjectType::ObjectIndex as i32 => {
            s.concurrent = true;
            NodeEnum::DropStmt(s)
        }
        _ => return sql.to_string(),
    };
    node.deparse(Default::default()).unwrap_or_else(|_| sql.to_string())
}

/// `ALTER TABLE ... ADD CONSTRAINT ...` made `NOT VALID`.
fn not_valid_statement(sql: &str) -> String {
    let fallback = || format!("{sql} NOT VALID");
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return fallback();
    };
    let Some(NodeEnum::AlterTableStmt(mut stmt)) = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|s| s.node.clone())
    else {
        return fallback();
    };
    let mut changed = false;
    for cmd in &mut stmt.cmds {
        if let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_mut()
            && let Some(def) = cmd.def.as_mut()
            && let Some(NodeEnum::Constraint(c)) = def.node.as_mut()
        {
            c.skip_validation = true;
            c.initially_valid = false;
            changed = true;
        }
    }
    if !changed {
        return fallback();
    }
    NodeEnum::AlterTableStmt(stmt)
        .deparse(Default::default())
        .unwrap_or_else(|_| fallback())
}

/// The constraint as it is between its NOT VALID addition and its validation.
fn unvalidated(c: &Constraint) -> Constraint {
    Constraint {
        validated: false,
        definition: format!("{} NOT VALID", crate::diff::core_definition(&c.definition)),
        ..c.clone()
    }
}

/// Splits the addition of a foreign key or check into its NOT VALID addition
/// (in place) and its validation (at the end of the plan).
fn add_not_valid(step: Step, table: &QualifiedName, c: &Constraint, judging: hazard::Judging<'_>) -> (Step, Step) {
    let mut add = step;
    add.forward = add
        .forward
        .iter()
        .enumerate()
        .map(|(i, s)| if i == 0 { not_valid_statement(s) } else { s.clone() })
        .collect();
    add.change = Change::AddConstraint {
        table: table.clone(),
        constraint: unvalidated(c),
    };
    add.hazards = hazard::judge(&add.change, judging);
    let validate = Step {
        change: Change::AlterConstraint {
            table: table.clone(),
            from: unvalidated(c),
            to: c.clone(),
        },
        forward: vec![format!(
            "ALTER TABLE {} VALIDATE CONSTRAINT {}",
            qualified(table),
            ident(&c.name)
        )],
        // Undoing the addition drops the constraint, valid or not.
        rollback: Vec::new(),
        implied_by: None,
        reason: Some(validation_reason()),
        hazards: Vec::new(),
        source: add.source.clone(),
        transactional: false,
    };
    (add, validate)
}

/// The name of the temporary check behind an online SET NOT NULL.
fn not_null_check_name(column: &str) -> String {
    let mut name = format!("converge_not_null_{column}");
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// Splits SET NOT NULL into: the column's other changes and a NOT VALID
/// `CHECK (col IS NOT NULL)` (in place); its validation, then SET NOT NULL
/// (which the valid check lets skip its scan) and the check's removal (at the
/// end of the plan).
fn set_not_null(
    step: Step,
    table: &QualifiedName,
    from: &crate::catalog::Column,
    to: &crate::catalog::Column,
    judging: hazard::Judging<'_>,
) -> (Vec<Step>, Vec<Step>) {
    let t = qualified(table);
    let column = ident(&to.name);
    let set = format!("ALTER TABLE {t} ALTER COLUMN {column} SET NOT NULL");
    let check = Constraint {
        name: not_null_check_name(&to.name),
        kind: ConstraintKind::Check,
        definition: format!("CHECK (({column} IS NOT NULL))"),
        validated: true,
        ..Default::default()
    };
    let check_name = ident(&check.name);
    let add_check = format!("ALTER TABLE {t} ADD CONSTRAINT {check_name} CHECK ({column} IS NOT NULL) NOT VALID");
    let reason = format!(
        "SET NOT NULL of {table}.{} in steps: the check lets it skip its scan",
        to.name
    );
    let mut now = Vec::new();
    let other: Vec<String> = step.forward.iter().filter(|s| **s != set).cloned().collect();
    let nullable = crate::catalog::Column {
        not_null: false,
        ..to.clone()
    };
    if !other.is_empty() {
        let change = Change::AlterColumn {
            table: table.clone(),
            from: from.clone(),
            to: nullable.clone(),
        };
        now.push(Step {
            hazards: hazard::judge(&change, judging),
            rollback: crate::sql::statements(&change.reverse()),
            forward: other,
            change,
            ..step.clone()
        });
    }
    now.push(Step {
        change: Change::AddConstraint {
            table: table.clone(),
            constraint: unvalidated(&check),
        },
        forward: vec![add_check.clone()],
        rollback: vec![format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check_name}")],
        implied_by: None,
        reason: Some(reason.clone()),
        hazards: Vec::new(),
        source: step.source.clone(),
        transactional: true,
    });
    let validate = Step {
        change: Change::AlterConstraint {
            table: table.clone(),
            from: unvalidated(&check),
            to: check.clone(),
        },
        forward: vec![format!("ALTER TABLE {t} VALIDATE CONSTRAINT {check_name}")],
        rollback: Vec::new(),
        implied_by: None,
        reason: Some(validation_reason()),
        hazards: Vec::new(),
        source: step.source.clone(),
        transactional: false,
    };
    let finish = Step {
        change: Change::AlterColumn {
            table: table.clone(),
            from: nullable,
            to: to.clone(),
        },
        forward: vec![set, format!("ALTER TABLE {t} DROP CONSTRAINT {check_name}")],
        // Put the check back first, so that undoing its validation and its
        // addition find it.
        rollback: vec![
            add_check,
            format!("ALTER TABLE {t} ALTER COLUMN {column} DROP NOT NULL"),
        ],
        implied_by: None,
        reason: Some(reason),
        // The valid check proves the column has no NULLs: no scan.
        hazards: Vec::new(),
        source: step.source,
        transactional: true,
    };
    (now, vec![validate, finish])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_statements_become_concurrent() {
        assert_eq!(
            concurrent_statement("CREATE UNIQUE INDEX i ON public.t USING btree (a)"),
            "CREATE UNIQUE INDEX CONCURRENTLY i ON public.t USING btree (a)"
        );
        assert_eq!(
            concurrent_statement("DROP INDEX public.i"),
            "DROP INDEX CONCURRENTLY public.i"
        );
        assert_eq!(
            concurrent_statement("COMMENT ON INDEX public.i IS 'x'"),
            "COMMENT ON INDEX public.i IS 'x'"
        );
    }

    #[test]
    fn constraints_become_not_valid() {
        assert_eq!(
            not_valid_statement("ALTER TABLE public.t ADD CONSTRAINT c CHECK (a > 0)"),
            "ALTER TABLE public.t ADD CONSTRAINT c CHECK (a > 0) NOT VALID"
        );
        assert_eq!(
            not_valid_statement("ALTER TABLE public.t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES public.u(id)"),
            "ALTER TABLE public.t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES public.u (id) NOT VALID"
        );
    }
}
