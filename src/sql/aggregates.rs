//! SQL for aggregates: `CREATE [OR REPLACE] AGGREGATE` written from the
//! catalog (PostgreSQL has no function that prints it), `DROP AGGREGATE`,
//! and the signatures other statements name an aggregate by.
//!
//! Options are written in a fixed order and only when they differ from
//! PostgreSQL's default, as pg_dump writes them, so the same aggregate is
//! always the same statement.

use super::ident::{literal, qualified};
use super::objects::push_comment;
use super::privileges::{grants, owner};
use crate::catalog::{Acl, Aggregate, AggregateKind, QualifiedName};

/// `schema.name(argument types)` as `DROP`, `COMMENT ON` and `ALTER
/// AGGREGATE` name it: `(*)` for an aggregate without arguments, `ORDER BY`
/// between the direct and aggregated arguments of an ordered-set one.
pub fn signature(name: &QualifiedName, identity_arguments: &str) -> String {
    let args = if identity_arguments.is_empty() {
        "*"
    } else {
        identity_arguments
    };
    format!("{}({args})", qualified(name))
}

/// The argument list as `GRANT ... ON FUNCTION` takes it (it knows no `ORDER
/// BY`): every argument in order. A hypothetical-set aggregate's trailing
/// `VARIADIC "any" ORDER BY VARIADIC "any"` is one argument.
pub fn function_arguments(identity_arguments: &str) -> String {
    match identity_arguments.split_once(" ORDER BY ") {
        None => identity_arguments.to_string(),
        Some((direct, aggregated)) if aggregated.starts_with("VARIADIC ") && direct.ends_with(aggregated) => {
            direct.to_string()
        }
        Some((direct, aggregated)) => format!("{direct}, {aggregated}"),
    }
}

/// The aggregate, with its comment, owner and privileges (from `initial`,
/// what it has right after creation).
pub fn create(a: &Aggregate, initial: &Acl) -> Vec<String> {
    let id = a.id();
    let mut out = vec![definition(a, false)];
    push_comment(&mut out, &id, a.comment.as_deref());
    if !a.owner.is_empty() {
        out.push(owner(&id, crate::diff::AGGREGATE_OWNER_KEYWORD, &a.owner));
    }
    out.extend(grants(&id, crate::diff::AGGREGATE_GRANT_KEYWORD, initial, &a.acl));
    out
}

/// `CREATE OR REPLACE AGGREGATE` with `to`'s definition (the OID, and so
/// views that call it, owner, privileges and comment stay).
pub fn replace(to: &Aggregate) -> Vec<String> {
    vec![definition(to, true)]
}

pub fn drop(a: &Aggregate) -> Vec<String> {
    vec![format!("DROP AGGREGATE {}", signature(&a.name, &a.identity_arguments))]
}

fn definition(a: &Aggregate, or_replace: bool) -> String {
    let normal = a.kind == AggregateKind::Normal;
    // FINALFUNC_MODIFY's default depends on the kind.
    let default_modify = if normal { "READ_ONLY" } else { "READ_WRITE" };
    let mut options = vec![format!("SFUNC = {}", a.sfunc), format!("STYPE = {}", a.stype)];
    if a.sspace != 0 {
        options.push(format!("SSPACE = {}", a.sspace));
    }
    if let Some(init) = &a.initcond {
        options.push(format!("INITCOND = {}", literal(init)));
    }
    if let Some(f) = &a.finalfunc {
        options.push(format!("FINALFUNC = {f}"));
    }
    if a.finalfunc_extra {
        options.push("FINALFUNC_EXTRA".into());
    }
    if a.finalfunc_modify != default_modify {
        options.push(format!("FINALFUNC_MODIFY = {}", a.finalfunc_modify));
    }
    for (keyword, f) in [
        ("COMBINEFUNC", &a.combinefunc),
        ("SERIALFUNC", &a.serialfunc),
        ("DESERIALFUNC", &a.deserialfunc),
    ] {
        if let Some(f) = f {
            options.push(format!("{keyword} = {f}"));
        }
    }
    if let Some(msfunc) = &a.msfunc {
        options.push(format!("MSFUNC = {msfunc}"));
        if let Some(f) = &a.minvfunc {
            options.push(format!("MINVFUNC = {f}"));
        }
        if let Some(t) = &a.mstype {
            options.push(format!("MSTYPE = {t}"));
        }
        if a.msspace != 0 {
            options.push(format!("MSSPACE = {}", a.msspace));
        }
        if let Some(init) = &a.minitcond {
            options.push(format!("MINITCOND = {}", literal(init)));
        }
        if let Some(f) = &a.mfinalfunc {
            options.push(format!("MFINALFUNC = {f}"));
        }
        if a.mfinalfunc_extra {
            options.push("MFINALFUNC_EXTRA".into());
        }
        if a.mfinalfunc_modify != default_modify {
            options.push(format!("MFINALFUNC_MODIFY = {}", a.mfinalfunc_modify));
        }
    }
    if let Some(op) = &a.sortop {
        options.push(format!("SORTOP = {op}"));
    }
    if a.kind == AggregateKind::Hypothetical {
        options.push("HYPOTHETICAL".into());
    }
    if a.parallel != "UNSAFE" {
        options.push(format!("PARALLEL = {}", a.parallel));
    }
    let args = if a.arguments.is_empty() {
        "*"
    } else {
        a.arguments.as_str()
    };
    format!(
        "CREATE {}AGGREGATE {}({args}) (\n    {}\n)",
        if or_replace { "OR REPLACE " } else { "" },
        qualified(&a.name),
        options.join(",\n    ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_name_every_form() {
        let q = QualifiedName::new("app", "n");
        assert_eq!(signature(&q, ""), "app.n(*)");
        assert_eq!(signature(&q, "numeric"), "app.n(numeric)");
        assert_eq!(function_arguments(""), "");
        assert_eq!(
            function_arguments("double precision ORDER BY integer"),
            "double precision, integer"
        );
        assert_eq!(
            function_arguments(r#"integer, VARIADIC "any" ORDER BY VARIADIC "any""#),
            r#"integer, VARIADIC "any""#
        );
    }

    #[test]
    fn options_at_their_default_are_left_out() {
        let a = Aggregate {
            name: QualifiedName::new("app", "total"),
            identity_arguments: "numeric".into(),
            arguments: "numeric".into(),
            result: "numeric".into(),
            sfunc: "app.add".into(),
            stype: "numeric".into(),
            initcond: Some(String::new()),
            finalfunc_modify: "READ_ONLY".into(),
            mfinalfunc_modify: "READ_ONLY".into(),
            combinefunc: Some("app.add".into()),
            parallel: "SAFE".into(),
            ..Default::default()
        };
        assert_eq!(
            definition(&a, false),
            "CREATE AGGREGATE app.total(numeric) (\n    SFUNC = app.add,\n    STYPE = numeric,\n    \
             INITCOND = '',\n    COMBINEFUNC = app.add,\n    PARALLEL = SAFE\n)"
        );
        assert_eq!(drop(&a), vec!["DROP AGGREGATE app.total(numeric)"]);
    }
}
