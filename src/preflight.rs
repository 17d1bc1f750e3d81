//! Pre-flight: the sessions that would block an apply, found before it starts.
//!
//! Most steps take an ACCESS EXCLUSIVE lock on their table, which waits for
//! every transaction holding any lock on it, and makes every later query on
//! the table wait behind it. A session that has held such a lock for a while
//! (an idle transaction left open, a long report) would stall the apply and,
//! through the lock queue, the application. `blockers` lists those sessions
//! from `pg_locks` and `pg_stat_activity`, reading the catalog only; the
//! caller refuses to start unless told to go ahead. It cannot promise that no
//! session takes a lock a moment later: it catches what is already there.

use crate::catalog::{Catalog, ObjectId, QualifiedName};
use crate::db::{DbError, Endpoint, query_error};
use crate::diff::Change;
use crate::plan::Plan;
use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

/// Sessions holding locks on the relations, with their transaction's age.
const QUERY: &str = include_str!("preflight.sql");

/// How long a query text shown in a report may be.
const QUERY_PREFIX: usize = 80;

/// A session that holds locks on a table the plan changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocker {
    pub pid: i32,
    pub user: String,
    pub application: String,
    /// `active`, `idle in transaction`, ...
    pub state: String,
    /// How long its transaction has been open.
    pub transaction_age: Duration,
    /// The start of its current (or last) query.
    pub query: String,
    /// `public.orders (AccessShareLock)`, sorted.
    pub locks: Vec<String>,
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {}, user {}, application {:?}, {} for {}s: holds {}; query: {}",
            self.pid,
            self.user,
            self.application,
            self.state,
            self.transaction_age.as_secs(),
            self.locks.join(", "),
            self.query
        )
    }
}

/// The tables, views and materialized views a plan locks, that exist in the
/// target `current` (a relation the plan creates cannot be locked by anyone).
pub fn touched_relations(plan: &Plan, current: &Catalog) -> BTreeSet<QualifiedName> {
    let mut names = BTreeSet::new();
    for step in &plan.steps {
        let change = &step.change;
        match change.object() {
            ObjectId::Table(q)
            | ObjectId::Column(q, _)
            | ObjectId::Constraint(q, _)
            | ObjectId::View(q)
            | ObjectId::MaterializedView(q)
            | ObjectId::Trigger(q, _)
            | ObjectId::Policy(q, _) => {
                names.insert(q);
            }
            ObjectId::Index(q) => {
                if let Some(index) = current.indexes.get(&q) {
                    names.insert(index.table.clone());
                }
            }
            _ => {}
        }
        match change {
            Change::CreateIndex(i) | Change::DropIndex(i) => {
                names.insert(i.table.clone());
            }
            Change::AddConstraint { constraint, .. } | Change::DropConstraint { constraint, .. } => {
                names.extend(constraint.references.clone());
            }
            Change::AttachPartition { partition, .. } | Change::DetachPartition { partition, .. } => {
                names.insert(partition.parent.clone());
            }
            Change::Inherit { parent, .. } | Change::NoInherit { parent, .. } => {
                names.insert(parent.clone());
            }
            Change::AlterEnum { uses, .. }
            | Change::RecreateDomain { uses, .. }
            | Change::RecreateCompositeType { uses, .. }
            | Change::RecreateCollation { uses, .. } => {
                names.extend(uses.iter().filter(|u| !u.attribute).map(|u| u.table.clone()));
            }
            _ => {}
        }
    }
    names.retain(|q| current.tables.contains_key(q) || current.views.contains_key(q));
    names
}

/// The sessions holding a lock on one of `relations` in a transaction open
/// for at least `min_age`, asked on a connection of its own.
pub async fn blockers(
    target: &Endpoint,
    relations: &BTreeSet<QualifiedName>,
    min_age: Duration,
) -> Result<Vec<Blocker>, DbError> {
    if relations.is_empty() {
        return Ok(Vec::new());
    }
    blockers_on(&target.connect().await?, relations, min_age).await
}

/// `blockers`, asked on `client`: the session of `client` is never one
/// (an apply asks on its own connection, inside its transaction, so that
/// what its reads hold there is not taken for another session's).
pub async fn blockers_on(
    client: &impl tokio_postgres::GenericClient,
    relations: &BTreeSet<QualifiedName>,
    min_age: Duration,
) -> Result<Vec<Blocker>, DbError> {
    if relations.is_empty() {
        return Ok(Vec::new());
    }
    let (schemas, names): (Vec<String>, Vec<String>) =
        relations.iter().map(|q| (q.schema.clone(), q.name.clone())).unzip();
    let rows = client
        .query(QUERY, &[&schemas, &names, &min_age.as_secs_f64()])
        .await
        .map_err(query_error("cannot list the sessions holding locks"))?;
    let mut out = Vec::new();
    for r in rows {
        let bad = query_error("unexpected value in the session list");
        let age: f64 = r
            .try_get(4)
            .map_err(query_error("unexpected value in the session list"))?;
        let query: String = r.try_get(5).map_err(bad)?;
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let query = match query.char_indices().nth(QUERY_PREFIX) {
            Some((i, _)) => format!("{}...", &query[..i]),
            None => query,
        };
        let get = |i: usize| -> Result<String, DbError> {
            r.try_get::<_, Option<String>>(i)
                .map(Option::unwrap_or_default)
                .map_err(query_error("unexpected value in the session list"))
        };
        out.push(Blocker {
            pid: r
                .try_get(0)
                .map_err(query_error("unexpected value in the session list"))?,
            user: get(1)?,
            application: get(2)?,
            state: get(3)?,
            transaction_age: Duration::from_secs_f64(age.max(0.0)),
            query,
            locks: r
                .try_get(6)
                .map_err(query_error("unexpected value in the session list"))?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Constraint, ConstraintKind, Table};
    use crate::plan::Step;

    fn step(change: Change) -> Step {
        Step {
            change,
            forward: vec!["-- sql".into()],
            rollback: Vec::new(),
            implied_by: None,
            reason: None,
            hazards: Vec::new(),
            source: None,
            transactional: true,
        }
    }

    #[test]
    fn a_foreign_key_touches_both_tables_and_new_tables_none() {
        let q = |n: &str| QualifiedName::new("public", n);
        let mut current = Catalog::default();
        for n in ["orders", "customers"] {
            current.tables.insert(
                q(n),
                Table {
                    name: q(n),
                    ..Default::default()
                },
            );
        }
        let plan = Plan {
            steps: vec![
                step(Change::AddConstraint {
                    table: q("orders"),
                    constraint: Constraint {
                        name: "orders_customer_fkey".into(),
                        kind: ConstraintKind::ForeignKey,
                        references: Some(q("customers")),
                        ..Default::default()
                    },
                }),
                step(Change::CreateTable(Table {
                    name: q("audit"),
                    ..Default::default()
                })),
            ],
        };
        assert_eq!(
            touched_relations(&plan, &current).into_iter().collect::<Vec<_>>(),
            [q("customers"), q("orders")]
        );
    }
}
