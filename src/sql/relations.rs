//! SQL for views and materialized views, functions, triggers and policies.

use super::ident::{ident, qualified};
use super::objects::push_comment;
use super::privileges::{grants, owner};
use crate::catalog::*;

pub fn create_view(v: &View, source: Option<String>, initial: &Acl) -> Vec<String> {
    let name = qualified(&v.name);
    let mut out = vec![match source {
        Some(sql) => {
            let mut out = vec![sql];
            out.extend(options_after_source(v));
            out.extend(after_create_statements(v, initial));
            return out;
        }
        None => {
            let with = if v.options.is_empty() {
                String::new()
            } else {
                format!(" WITH ({})", v.options.join(", "))
            };
            let query = v.definition.trim().trim_end_matches(';');
            if v.materialized {
                let data = if v.populated { "WITH DATA" } else { "WITH NO DATA" };
                format!("CREATE MATERIALIZED VIEW {name}{with} AS\n{query}\n{data}")
            } else {
                format!("CREATE VIEW {name}{with} AS\n{query}")
            }
        }
    }];
    after_create(&mut out, v, initial);
    out
}

/// The options a view ends up with when the statement that creates it (the
/// user's own) did not say them all: later `ALTER VIEW ... SET` statements.
fn options_after_source(v: &View) -> Vec<String> {
    let name = qualified(&v.name);
    let keyword = if v.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
    let mut out = Vec::new();
    if !v.materialized {
        let keys = ["check_option", "security_barrier", "security_invoker"];
        let unset: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !v.options.iter().any(|o| o.starts_with(&format!("{k}="))))
            .collect();
        if !unset.is_empty() {
            out.push(format!("ALTER VIEW {name} RESET ({})", unset.join(", ")));
        }
    }
    if !v.options.is_empty() {
        out.push(format!("ALTER {keyword} {name} SET ({})", v.options.join(", ")));
    }
    out
}

fn after_create_statements(v: &View, initial: &Acl) -> Vec<String> {
    let mut out = Vec::new();
    after_create(&mut out, v, initial);
    out
}

/// Comments, owner and privileges of a view just created.
fn after_create(out: &mut Vec<String>, v: &View, initial: &Acl) {
    let id = v.id();
    push_comment(out, &id, v.comment.as_deref());
    for c in &v.columns {
        let column = ObjectId::Column(v.name.clone(), c.name.clone());
        if let Some(d) = &c.default {
            out.push(format!(
                "ALTER VIEW {} ALTER COLUMN {} SET DEFAULT {d}",
                qualified(&v.name),
                ident(&c.name)
            ));
        }
        push_comment(out, &column, c.comment.as_deref());
        out.extend(grants(&column, "TABLE", &Acl::new(), &c.acl));
    }
    if !v.owner.is_empty() {
        let keyword = if v.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
        out.push(owner(&id, keyword, &v.owner));
    }
    out.extend(grants(&id, "TABLE", initial, &v.acl));
}

pub fn drop_view(v: &View) -> Vec<String> {
    let kind = if v.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
    vec![format!("DROP {kind} {}", qualified(&v.name))]
}

/// `CREATE OR REPLACE VIEW`, after resetting options the new view drops;
/// a view that loses or changes columns (the reverse of adding one) is
/// dropped and created.
pub fn replace_view(from: &View, to: &View, source: Option<String>, initial: &Acl) -> Vec<String> {
    let keeps_columns = to.columns.len() >= from.columns.len()
        && from
            .columns
            .iter()
            .zip(&to.columns)
            .all(|(a, b)| a.name == b.name && a.data_type == b.data_type);
    if !keeps_columns {
        let mut out = drop_view(from);
        out.extend(create_view(to, source, initial));
        return out;
    }
    let name = qualified(&to.name);
    let mut out = Vec::new();
    let keys = |opts: &[String]| -> Vec<String> {
        opts.iter()
            .map(|o| o.split('=').next().unwrap_or(o).to_string())
            .collect()
    };
    let gone: Vec<String> = keys(&from.options)
        .into_iter()
        .filter(|k| !keys(&to.options).contains(k))
        .collect();
    if !gone.is_empty() {
        out.push(format!("ALTER VIEW {name} RESET ({})", gone.join(", ")));
    }
    let from_source = source.is_some();
    let sql = match source {
        Some(sql) => sql.replacen("CREATE VIEW", "CREATE OR REPLACE VIEW", 1),
        None => {
            let with = if to.options.is_empty() {
                String::new()
            } else {
                format!(" WITH ({})", to.options.join(", "))
            };
            format!(
                "CREATE OR REPLACE VIEW {name}{with} AS\n{}",
                to.definition.trim().trim_end_matches(';')
            )
        }
    };
    out.push(sql);
    if from_source {
        out.extend(options_after_source(to));
    }
    for c in &to.columns {
        let before = from
            .columns
            .iter()
            .find(|o| o.name == c.name)
            .and_then(|o| o.default.as_ref());
        if before != c.default.as_ref() {
            let column = ident(&c.name);
            out.push(match &c.default {
                Some(d) => format!("ALTER VIEW {name} ALTER COLUMN {column} SET DEFAULT {d}"),
                None => format!("ALTER VIEW {name} ALTER COLUMN {column} DROP DEFAULT"),
            });
        }
    }
    out
}

pub fn set_populated(view: &QualifiedName, populated: bool) -> Vec<String> {
    let data = if populated { "" } else { " WITH NO DATA" };
    vec![format!("REFRESH MATERIALIZED VIEW {}{data}", qualified(view))]
}

/// `ALTER ... SET (k=v)` and `RESET (k)` for storage parameters.
pub fn set_options(object: &ObjectId, from: &[String], to: &[String]) -> Vec<String> {
    let (keyword, name) = match object {
        ObjectId::MaterializedView(q) => ("MATERIALIZED VIEW", qualified(q)),
        ObjectId::View(q) => ("VIEW", qualified(q)),
        other => ("TABLE", other.table().map(qualified).unwrap_or_else(|| other.name())),
    };
    let key = |o: &String| o.split('=').next().unwrap_or(o).to_string();
    let mut out = Vec::new();
    let reset: Vec<String> = from
        .iter()
        .map(key)
        .filter(|k| !to.iter().any(|o| key(o) == *k))
        .collect();
    if !reset.is_empty() {
        out.push(format!("ALTER {keyword} {name} RESET ({})", reset.join(", ")));
    }
    let set: Vec<&String> = to.iter().filter(|o| !from.contains(o)).collect();
    if !set.is_empty() {
        let set: Vec<String> = set.into_iter().cloned().collect();
        out.push(format!("ALTER {keyword} {name} SET ({})", set.join(", ")));
    }
    out
}

pub fn create_function(f: &Function, initial: &Acl) -> Vec<String> {
    let id = ObjectId::Function(f.name.clone(), f.identity_arguments.clone());
    let mut out = vec![f.definition.trim_end().to_string()];
    push_comment(&mut out, &id, f.comment.as_deref());
    if !f.owner.is_empty() {
        out.push(owner(&id, "ROUTINE", &f.owner));
    }
    out.extend(grants(&id, "ROUTINE", initial, &f.acl));
    out
}

pub fn drop_function(f: &Function) -> Vec<String> {
    vec![format!("DROP ROUTINE {}({})", qualified(&f.name), f.identity_arguments)]
}

pub fn create_trigger(t: &Trigger, source: Option<String>) -> Vec<String> {
    let mut out = vec![source.unwrap_or_else(|| t.definition.clone())];
    if t.enabled != "O" {
        out.push(trigger_enabled(t, &t.enabled));
    }
    push_comment(
        &mut out,
        &ObjectId::Trigger(t.table.clone(), t.name.clone()),
        t.comment.as_deref(),
    );
    out
}

pub fn trigger_enabled(t: &Trigger, state: &str) -> String {
    let action = match state {
        "D" => "DISABLE",
        "R" => "ENABLE REPLICA",
        "A" => "ENABLE ALWAYS",
        _ => "ENABLE",
    };
    format!(
        "ALTER TABLE {} {action} TRIGGER {}",
        qualified(&t.table),
        ident(&t.name)
    )
}

pub fn drop_trigger(t: &Trigger) -> Vec<String> {
    vec![format!("DROP TRIGGER {} ON {}", ident(&t.name), qualified(&t.table))]
}

fn roles(p: &Policy) -> String {
    p.roles
        .iter()
        .map(|r| if r == "public" { "PUBLIC".to_string() } else { ident(r) })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn create_policy(p: &Policy, source: Option<String>) -> Vec<String> {
    let mut out = vec![source.unwrap_or_else(|| {
        let mut sql = format!(
            "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
            ident(&p.name),
            qualified(&p.table),
            if p.permissive { "PERMISSIVE" } else { "RESTRICTIVE" },
            p.command,
            roles(p)
        );
        if let Some(using) = &p.using {
            sql.push_str(&format!(" USING ({using})"));
        }
        if let Some(check) = &p.with_check {
            sql.push_str(&format!(" WITH CHECK ({check})"));
        }
        sql
    })];
    push_comment(
        &mut out,
        &ObjectId::Policy(p.table.clone(), p.name.clone()),
        p.comment.as_deref(),
    );
    out
}

pub fn drop_policy(p: &Policy) -> Vec<String> {
    vec![format!("DROP POLICY {} ON {}", ident(&p.name), qualified(&p.table))]
}

/// `ALTER POLICY`; an expression that goes away needs the policy recreated.
pub fn alter_policy(from: &Policy, to: &Policy, source: Option<String>) -> Vec<String> {
    if (from.using.is_some() && to.using.is_none()) || (from.with_check.is_some() && to.with_check.is_none()) {
        let mut out = drop_policy(from);
        out.extend(create_policy(to, source));
        return out;
    }
    let mut sql = format!(
        "ALTER POLICY {} ON {} TO {}",
        ident(&to.name),
        qualified(&to.table),
        roles(to)
    );
    if let Some(using) = &to.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &to.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    vec![sql]
}

pub fn row_security(table: &QualifiedName, from: (bool, bool), to: (bool, bool)) -> Vec<String> {
    let t = qualified(table);
    let mut out = Vec::new();
    if from.0 != to.0 {
        out.push(format!(
            "ALTER TABLE {t} {} ROW LEVEL SECURITY",
            if to.0 { "ENABLE" } else { "DISABLE" }
        ));
    }
    if from.1 != to.1 {
        out.push(format!(
            "ALTER TABLE {t} {} ROW LEVEL SECURITY",
            if to.1 { "FORCE" } else { "NO FORCE" }
        ));
    }
    out
}

pub fn replica_identity(table: &QualifiedName, to: &str, index: Option<&str>) -> Vec<String> {
    let identity = match (to, index) {
        ("index", Some(i)) => format!("USING INDEX {}", ident(i)),
        ("full", _) => "FULL".into(),
        ("nothing", _) => "NOTHING".into(),
        _ => "DEFAULT".into(),
    };
    vec![format!("ALTER TABLE {} REPLICA IDENTITY {identity}", qualified(table))]
}
