//! The SQL that creates a check constraint, an exclusion constraint, an
//! index, a view, a materialized view, a trigger or a policy exactly as the
//! desired files define it.
//!
//! PostgreSQL prints some expressions in a form that does not read back to
//! the same expression (a `varchar` column `IN (...)` list prints as
//! `ANY ((ARRAY[...])::text[])`, which parses to a different tree). Creating
//! such an object from its printed definition would leave the target
//! different from a database built from the files. So objects that come from
//! the desired files are created from the user's own statement, re-printed by
//! pg_query's deparser with the table's schema made explicit.

use crate::catalog::{ObjectId, QualifiedName};
use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType};

/// The creating SQL of each object a statement defines this way.
pub fn source_definitions(node: &NodeEnum) -> Vec<(ObjectId, String)> {
    let mut out = Vec::new();
    match node {
        NodeEnum::CreateStmt(s) => {
            let Some(relation) = qualified_range_var(s.relation.as_ref()) else {
                return out;
            };
            let table = name_of(&relation);
            for elt in s.table_elts.iter().chain(s.constraints.iter()) {
                match elt.node.as_ref() {
                    Some(NodeEnum::ColumnDef(c)) => {
                        for con in &c.constraints {
                            if let Some(NodeEnum::Constraint(con)) = con.node.as_ref()
                                && con.contype == ConstrType::ConstrCheck as i32
                            {
                                // An unnamed column check gets PostgreSQL's
                                // first-choice name; it is used only if the
                                // shadow database has a constraint of that name.
                                let name = if con.conname.is_empty() {
                                    format!("{}_{}_check", table.name, c.colname)
                                } else {
                                    con.conname.clone()
                                };
                                push_constraint(&mut out, &relation, &table, con, name);
                            }
                        }
                    }
                    Some(NodeEnum::Constraint(con)) if !con.conname.is_empty() && is_expression_constraint(con) => {
                        push_constraint(&mut out, &relation, &table, con, con.conname.clone());
                    }
                    _ => {}
                }
            }
        }
        NodeEnum::AlterTableStmt(s) if s.objtype == ObjectType::ObjectTable as i32 => {
            let Some(relation) = qualified_range_var(s.relation.as_ref()) else {
                return out;
            };
            let table = name_of(&relation);
            for cmd in &s.cmds {
                let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
                    continue;
                };
                if cmd.subtype != AlterTableType::AtAddConstraint as i32 {
                    continue;
                }
                if let Some(NodeEnum::Constraint(con)) = cmd.def.as_ref().and_then(|d| d.node.as_ref())
                    && !con.conname.is_empty()
                    && is_expression_constraint(con)
                {
                    push_constraint(&mut out, &relation, &table, con, con.conname.clone());
                }
            }
        }
        NodeEnum::ViewStmt(s) => {
            if let Some(view) = qualified_range_var(s.view.as_ref()) {
                let mut stmt = s.clone();
                stmt.view = Some(view.clone());
                stmt.replace = false;
                if let Some(sql) = deparse(NodeEnum::ViewStmt(stmt)) {
                    out.push((ObjectId::View(name_of(&view)), sql));
                }
            }
        }
        NodeEnum::CreateTableAsStmt(s) if s.objtype == ObjectType::ObjectMatview as i32 => {
            let mut stmt = s.clone();
            if let Some(into) = stmt.into.as_mut()
                && let Some(rel) = qualified_range_var(into.rel.as_ref())
            {
                into.rel = Some(rel.clone());
                if let Some(sql) = deparse(NodeEnum::CreateTableAsStmt(stmt)) {
                    out.push((ObjectId::MaterializedView(name_of(&rel)), sql));
                }
            }
        }
        NodeEnum::CreateTrigStmt(s) if !s.replace => {
            if let Some(relation) = qualified_range_var(s.relation.as_ref()) {
                let mut stmt = s.clone();
                stmt.relation = Some(relation.clone());
                if let Some(sql) = deparse(NodeEnum::CreateTrigStmt(stmt)) {
                    out.push((ObjectId::Trigger(name_of(&relation), s.trigname.clone()), sql));
                }
            }
        }
        NodeEnum::CreatePolicyStmt(s) => {
            if let Some(table) = qualified_range_var(s.table.as_ref()) {
                let mut stmt = s.clone();
                stmt.table = Some(table.clone());
                if let Some(sql) = deparse(NodeEnum::CreatePolicyStmt(stmt)) {
                    out.push((ObjectId::Policy(name_of(&table), s.policy_name.clone()), sql));
                }
            }
        }
        NodeEnum::IndexStmt(s) if !s.idxname.is_empty() => {
            let Some(relation) = qualified_range_var(s.relation.as_ref()) else {
                return out;
            };
            let mut stmt = s.clone();
            stmt.relation = Some(relation.clone());
            if let Some(sql) = deparse(NodeEnum::IndexStmt(stmt)) {
                out.push((
                    ObjectId::Index(QualifiedName::new(relation.schemaname.clone(), s.idxname.clone())),
                    sql,
                ));
            }
        }
        _ => {}
    }
    out
}

fn is_expression_constraint(con: &protobuf::Constraint) -> bool {
    con.contype == ConstrType::ConstrCheck as i32 || con.contype == ConstrType::ConstrExclusion as i32
}

fn push_constraint(
    out: &mut Vec<(ObjectId, String)>,
    relation: &protobuf::RangeVar,
    table: &QualifiedName,
    con: &protobuf::Constraint,
    name: String,
) {
    let mut con = con.clone();
    con.conname = name.clone();
    let stmt = protobuf::AlterTableStmt {
        relation: Some(relation.clone()),
        cmds: vec![protobuf::Node {
            node: Some(NodeEnum::AlterTableCmd(Box::new(protobuf::AlterTableCmd {
                subtype: AlterTableType::AtAddConstraint as i32,
                // Every enum field must hold a defined value: libpg_query
                // asserts on the protobuf default (0, undefined).
                behavior: protobuf::DropBehavior::DropRestrict as i32,
                def: Some(Box::new(protobuf::Node {
                    node: Some(NodeEnum::Constraint(Box::new(con))),
                })),
                ..Default::default()
            }))),
        }],
        objtype: ObjectType::ObjectTable as i32,
        missing_ok: false,
    };
    if let Some(sql) = deparse(NodeEnum::AlterTableStmt(stmt)) {
        out.push((ObjectId::Constraint(table.clone(), name), sql));
    }
}

/// The relation with its schema made explicit (`public` when unqualified).
fn qualified_range_var(r: Option<&protobuf::RangeVar>) -> Option<protobuf::RangeVar> {
    let mut r = r?.clone();
    if r.schemaname.is_empty() {
        r.schemaname = "public".into();
    }
    r.location = -1;
    Some(r)
}

fn name_of(r: &protobuf::RangeVar) -> QualifiedName {
    QualifiedName::new(r.schemaname.clone(), r.relname.clone())
}

fn deparse(node: NodeEnum) -> Option<String> {
    node.deparse(Default::default()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs(sql: &str) -> Vec<(ObjectId, String)> {
        let parsed = pg_query::parse(sql, 0).unwrap();
        let node = parsed.protobuf.stmts[0].stmt.as_ref().unwrap().node.clone().unwrap();
        source_definitions(&node)
    }

    #[test]
    fn checks_and_indexes_keep_the_users_expression_with_the_schema_explicit() {
        let d = defs(
            "create table orders (status varchar(10) check (status in ('a', 'b')), constraint ok check (status <> 'c'))",
        );
        let t = QualifiedName::new("public", "orders");
        assert_eq!(d[0].0, ObjectId::Constraint(t.clone(), "orders_status_check".into()));
        assert!(
            d[0].1
                .starts_with("ALTER TABLE public.orders ADD CONSTRAINT orders_status_check CHECK"),
            "{}",
            d[0].1
        );
        assert!(d[0].1.contains("IN ('a', 'b')"), "{}", d[0].1);
        assert_eq!(d[1].0, ObjectId::Constraint(t, "ok".into()));
        let d = defs("create index open_orders on orders (id) where status in ('a', 'b')");
        assert!(
            d[0].1.starts_with("CREATE INDEX open_orders ON public.orders"),
            "{}",
            d[0].1
        );
    }
}
