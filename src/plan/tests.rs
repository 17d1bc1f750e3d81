//! Ordering tests on hand-built catalogs: no database needed.

use super::*;
use crate::catalog::*;
use crate::diff::diff;

fn q(name: &str) -> QualifiedName {
    QualifiedName::new("public", name)
}

fn column(name: &str) -> Column {
    Column {
        name: name.into(),
        data_type: "integer".into(),
        not_null: true,
        default: None,
        identity: None,
        generated: None,
        collation: None,
        comment: None,
        ..Default::default()
    }
}

fn constraint(name: &str, kind: ConstraintKind, definition: &str, references: Option<&str>) -> Constraint {
    Constraint {
        name: name.into(),
        kind,
        definition: definition.into(),
        references: references.map(q),
        deferrable: false,
        initially_deferred: false,
        validated: true,
        comment: None,
        index_comment: None,
        inherited: false,
        on_partitioned_table: false,
        partitions: Vec::new(),
    }
}

/// Table `name` (id, other_id) with a primary key and, optionally, a foreign
/// key `other_id` → `references`(id).
fn table(name: &str, references: Option<&str>) -> Table {
    let mut constraints = ByName::default();
    constraints.insert(constraint(
        &format!("{name}_pkey"),
        ConstraintKind::PrimaryKey,
        "PRIMARY KEY (id)",
        None,
    ));
    if let Some(r) = references {
        let fk = format!("{name}_other_id_fkey");
        constraints.insert(constraint(
            &fk,
            ConstraintKind::ForeignKey,
            &format!("FOREIGN KEY (other_id) REFERENCES public.{r}(id)"),
            Some(r),
        ));
    }
    Table {
        name: q(name),
        unlogged: false,
        columns: vec![column("id"), column("other_id")],
        constraints,
        comment: None,
        ..Default::default()
    }
}

/// A snapshot of `tables`, with the dependencies PostgreSQL would record.
fn snapshot(tables: Vec<Table>, indexes: Vec<Index>) -> Snapshot {
    let mut s = Snapshot::default();
    s.catalog.schemas.insert(
        "public".into(),
        Schema {
            name: "public".into(),
            ..Default::default()
        },
    );
    for t in tables {
        let tid = ObjectId::Table(t.name.clone());
        s.deps
            .insert(tid.clone(), ObjectId::Schema("public".into()), DependencyKind::Normal);
        for c in t.constraints.values() {
            let cid = ObjectId::Constraint(t.name.clone(), c.name.clone());
            s.deps.insert(
                cid.clone(),
                ObjectId::Column(t.name.clone(), "id".into()),
                DependencyKind::Auto,
            );
            if let Some(r) = &c.references {
                s.deps.insert(
                    cid.clone(),
                    ObjectId::Column(t.name.clone(), "other_id".into()),
                    DependencyKind::Auto,
                );
                s.deps.insert(
                    cid.clone(),
                    ObjectId::Column(r.clone(), "id".into()),
                    DependencyKind::Normal,
                );
                s.deps.insert(
                    cid,
                    ObjectId::Constraint(r.clone(), format!("{}_pkey", r.name)),
                    DependencyKind::Normal,
                );
            }
        }
        s.catalog.tables.insert(t.name.clone(), t);
    }
    for i in indexes {
        s.deps.insert(
            ObjectId::Index(i.name.clone()),
            ObjectId::Column(i.table.clone(), "other_id".into()),
            DependencyKind::Auto,
        );
        s.catalog.indexes.insert(i.name.clone(), i);
    }
    s
}

fn index(name: &str, table: &str) -> Index {
    Index {
        name: q(name),
        table: q(table),
        definition: format!("CREATE INDEX {name} ON public.{table} USING btree (other_id)"),
        unique: false,
        valid: true,
        inherited: false,
        partitions: Vec::new(),
        comment: None,
    }
}

fn plan(current: &Snapshot, desired: &Snapshot) -> Plan {
    build(
        diff(&current.catalog, &desired.catalog),
        current,
        desired,
        None,
        &Default::default(),
    )
    .expect("plan")
}

fn descriptions(plan: &Plan) -> Vec<String> {
    plan.steps.iter().map(|s| describe(&s.change)).collect()
}

#[test]
fn a_referenced_table_is_created_first_with_the_foreign_key_inline() {
    let desired = snapshot(vec![table("orders", Some("users")), table("users", None)], vec![]);
    let p = plan(&snapshot(vec![], vec![]), &desired);
    assert_eq!(
        descriptions(&p),
        vec!["create table public.users", "create table public.orders"]
    );
    assert!(p.steps[1].forward[0].contains("FOREIGN KEY (other_id) REFERENCES public.users(id)"));
}

#[test]
fn tables_that_reference_each_other_get_their_foreign_keys_afterwards() {
    let desired = snapshot(vec![table("a", Some("b")), table("b", Some("a"))], vec![]);
    let p = plan(&snapshot(vec![], vec![]), &desired);
    assert_eq!(
        descriptions(&p),
        vec![
            "create table public.a",
            "create table public.b",
            "add foreign key a_other_id_fkey on public.a",
            "add foreign key b_other_id_fkey on public.b",
        ]
    );
    assert!(!p.steps[0].forward[0].contains("FOREIGN KEY"));
    assert!(p.steps[2].reason.is_some(), "the plan says why the key moved");
}

#[test]
fn a_ring_of_three_is_broken_too() {
    let desired = snapshot(
        vec![table("a", Some("b")), table("b", Some("c")), table("c", Some("a"))],
        vec![],
    );
    let p = plan(&snapshot(vec![], vec![]), &desired);
    let creates = p
        .steps
        .iter()
        .take(3)
        .filter(|s| matches!(s.change, Change::CreateTable(_)))
        .count();
    assert_eq!(creates, 3);
    assert_eq!(p.steps.len(), 6);
}

#[test]
fn drops_run_in_reverse_dependency_order() {
    let current = snapshot(vec![table("orders", Some("users")), table("users", None)], vec![]);
    let p = plan(&current, &snapshot(vec![], vec![]));
    assert_eq!(
        descriptions(&p),
        vec!["drop table public.orders", "drop table public.users"]
    );
    // The rollback creates them back in dependency order.
    let rollback: Vec<&str> = p.steps.iter().rev().map(|s| s.rollback[0].as_str()).collect();
    assert!(rollback[0].starts_with("CREATE TABLE public.users"));
    assert!(rollback[1].starts_with("CREATE TABLE public.orders"));
}

#[test]
fn an_index_dropped_with_its_table_runs_no_sql_but_comes_back_in_the_rollback() {
    let current = snapshot(vec![table("events", None)], vec![index("events_other_idx", "events")]);
    let p = plan(&current, &snapshot(vec![], vec![]));
    assert_eq!(
        descriptions(&p),
        vec!["drop index public.events_other_idx", "drop table public.events"]
    );
    assert_eq!(
        p.steps[0].implied_by,
        Some(ObjectId::Column(q("events"), "other_id".into()))
    );
    assert!(p.steps[0].forward.is_empty());
    assert_eq!(
        p.steps[0].rollback,
        vec!["CREATE INDEX events_other_idx ON public.events USING btree (other_id)"]
    );
    assert!(p.steps[0].hazards.is_empty(), "the table's drop carries the hazard");
    assert_eq!(p.steps[1].hazards[0].kind, HazardKind::DataLoss);
}

#[test]
fn the_same_inputs_give_the_same_plan() {
    let current = snapshot(vec![table("x", None), table("y", Some("x"))], vec![index("y_idx", "y")]);
    let desired = snapshot(
        vec![table("a", Some("b")), table("b", Some("a")), table("x", None)],
        vec![],
    );
    let first = plan(&current, &desired);
    for _ in 0..5 {
        assert_eq!(plan(&current, &desired), first);
    }
}

#[test]
fn changing_a_primary_key_recreates_the_foreign_keys_that_use_it() {
    let current = snapshot(vec![table("orders", Some("users")), table("users", None)], vec![]);
    let mut users = table("users", None);
    users.constraints.insert(constraint(
        "users_pkey",
        ConstraintKind::PrimaryKey,
        "PRIMARY KEY (id) DEFERRABLE",
        None,
    ));
    let desired = snapshot(vec![table("orders", Some("users")), users], vec![]);
    let p = plan(&current, &desired);
    assert_eq!(
        descriptions(&p),
        vec![
            "drop foreign key orders_other_id_fkey on public.orders",
            "drop primary key users_pkey on public.users",
            "add primary key users_pkey on public.users",
            "add foreign key orders_other_id_fkey on public.orders",
        ]
    );
    assert!(p.steps[0].reason.as_deref().unwrap_or("").contains("users_pkey"));
}
