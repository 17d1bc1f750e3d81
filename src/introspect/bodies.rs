//! The tables, views and functions a function body uses.
//!
//! PostgreSQL records no dependencies for SQL and PL/pgSQL bodies stored as
//! text (only `BEGIN ATOMIC` bodies get them), yet a plan that creates an
//! index or a materialized view which calls a function needs the tables that
//! function reads to exist first. SQL bodies are parsed with pg_query,
//! PL/pgSQL bodies with pg_query's PL/pgSQL parser and then each embedded
//! query with pg_query. Unqualified names are taken to mean `public`, as the
//! desired files are loaded; a name that matches nothing in the catalog is
//! ignored. These references only order steps; they never force a drop.

use crate::catalog::{Catalog, ObjectId, QualifiedName};
use serde_json::Value;

/// The catalog objects a body refers to.
pub fn references(language: &str, body: &str, catalog: &Catalog) -> Vec<ObjectId> {
    let mut names = Names::default();
    match language {
        "sql" => collect_sql(body, &mut names),
        "plpgsql" => collect_plpgsql(body, &mut names),
        _ => {}
    }
    let mut out = Vec::new();
    for q in names.relations {
        if catalog.tables.contains_key(&q) {
            out.push(ObjectId::Table(q));
        } else if catalog.views.contains_key(&q) {
            out.push(ObjectId::View(q));
        }
    }
    for q in names.functions {
        out.extend(
            catalog
                .functions
                .range((q.clone(), String::new())..)
                .take_while(|((name, _), _)| *name == q)
                .map(|((name, args), _)| ObjectId::Function(name.clone(), args.clone())),
        );
    }
    out.sort();
    out.dedup();
    out
}

#[derive(Default)]
struct Names {
    relations: Vec<QualifiedName>,
    functions: Vec<QualifiedName>,
}

fn collect_sql(sql: &str, names: &mut Names) {
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return;
    };
    if let Ok(json) = serde_json::to_value(&parsed.protobuf) {
        walk(&json, names);
    }
}

fn collect_plpgsql(body: &str, names: &mut Names) {
    // The PL/pgSQL parser takes a whole CREATE FUNCTION statement.
    let mut tag = String::from("converge");
    while body.contains(&format!("${tag}$")) {
        tag.push('_');
    }
    let wrapped = format!("CREATE FUNCTION converge_body() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}$");
    let Ok(tree) = pg_query::parse_plpgsql(&wrapped) else {
        return;
    };
    let mut queries = Vec::new();
    collect_queries(&tree, &mut queries);
    for query in queries {
        // Expressions are stored without their SELECT, assignments as
        // `target := expression`.
        let expression = query.split_once(":=").map(|(_, rhs)| rhs).unwrap_or(&query);
        if pg_query::parse(&query, 0).is_ok() {
            collect_sql(&query, names);
        } else {
            collect_sql(&format!("SELECT {expression}"), names);
        }
    }
}

/// Every `"query"` string inside the PL/pgSQL parse tree.
fn collect_queries(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(q)) = map.get("query") {
                out.push(q.clone());
            }
            map.values().for_each(|c| collect_queries(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| collect_queries(c, out)),
        _ => {}
    }
}

fn walk(v: &Value, names: &mut Names) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(rel)), Some(Value::String(schema))) = (map.get("relname"), map.get("schemaname"))
                && !rel.is_empty()
            {
                names.relations.push(qualify(schema, rel));
            }
            if let Some(func) = map.get("funcname") {
                let mut parts = Vec::new();
                strings(func, &mut parts);
                match parts.as_slice() {
                    [name] => names.functions.push(qualify("", name)),
                    [schema, name] if schema != "pg_catalog" => names.functions.push(qualify(schema, name)),
                    _ => {}
                }
            }
            map.values().for_each(|c| walk(c, names));
        }
        Value::Array(items) => items.iter().for_each(|c| walk(c, names)),
        _ => {}
    }
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(s)) = map.get("sval") {
                out.push(s.clone());
            }
            map.values().for_each(|c| strings(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| strings(c, out)),
        _ => {}
    }
}

fn qualify(schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(if schema.is_empty() { "public" } else { schema }, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Function, Table};

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        for t in ["orders", "audit_log"] {
            let q = QualifiedName::new("public", t);
            c.tables.insert(
                q.clone(),
                Table {
                    name: q,
                    ..Default::default()
                },
            );
        }
        let f = QualifiedName::new("app", "price");
        c.functions.insert(
            (f.clone(), "integer".into()),
            Function {
                name: f,
                identity_arguments: "integer".into(),
                ..Default::default()
            },
        );
        c
    }

    #[test]
    fn sql_bodies_name_their_tables_and_functions() {
        let refs = references("sql", "SELECT app.price(o.id) FROM orders o", &catalog());
        assert!(refs.contains(&ObjectId::Table(QualifiedName::new("public", "orders"))));
        assert!(refs.contains(&ObjectId::Function(
            QualifiedName::new("app", "price"),
            "integer".into()
        )));
    }

    #[test]
    fn plpgsql_bodies_are_read_query_by_query() {
        let body = "DECLARE n int; BEGIN n := (SELECT count(*) FROM orders); \
                    INSERT INTO audit_log VALUES (n); IF n > 0 THEN RETURN; END IF; END";
        let refs = references("plpgsql", body, &catalog());
        assert!(refs.contains(&ObjectId::Table(QualifiedName::new("public", "orders"))));
        assert!(refs.contains(&ObjectId::Table(QualifiedName::new("public", "audit_log"))));
    }

    #[test]
    fn unknown_names_and_broken_bodies_are_ignored() {
        assert!(references("sql", "SELECT * FROM nowhere", &catalog()).is_empty());
        assert!(references("plpgsql", "BEGIN this is not valid", &catalog()).is_empty());
    }
}
