//! SQL for domains, composite types, range types and collations.

use super::ident::{ident, literal, qualified};
use super::objects::push_comment;
use super::privileges::{grants, owner};
use crate::catalog::*;

fn after_type(
    out: &mut Vec<String>,
    id: &ObjectId,
    keyword: &str,
    comment: Option<&str>,
    who: &str,
    acl: &Acl,
    initial: &Acl,
) {
    push_comment(out, id, comment);
    if !who.is_empty() {
        out.push(owner(id, keyword, who));
    }
    out.extend(grants(id, keyword, initial, acl));
}

pub fn create_domain(d: &Domain, initial: &Acl) -> Vec<String> {
    let name = qualified(&d.name);
    let mut sql = format!("CREATE DOMAIN {name} AS {}", d.base_type);
    if let Some(c) = &d.collation {
        sql.push_str(&format!(" COLLATE {c}"));
    }
    if let Some(default) = &d.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if d.not_null {
        sql.push_str(" NOT NULL");
    }
    let mut out = vec![sql];
    for c in d.constraints.values() {
        out.extend(add_domain_constraint(d, c));
    }
    after_type(
        &mut out,
        &ObjectId::Type(d.name.clone()),
        "DOMAIN",
        d.comment.as_deref(),
        &d.owner,
        &d.acl,
        initial,
    );
    out
}

fn add_domain_constraint(d: &Domain, c: &DomainConstraint) -> Vec<String> {
    let name = qualified(&d.name);
    let mut out = vec![format!(
        "ALTER DOMAIN {name} ADD CONSTRAINT {} {}",
        ident(&c.name),
        c.definition
    )];
    if let Some(comment) = &c.comment {
        out.push(format!(
            "COMMENT ON CONSTRAINT {} ON DOMAIN {name} IS {}",
            ident(&c.name),
            literal(comment)
        ));
    }
    out
}

pub fn alter_domain(from: &Domain, to: &Domain) -> Vec<String> {
    let name = qualified(&to.name);
    let mut out = Vec::new();
    if from.default != to.default {
        out.push(match &to.default {
            Some(d) => format!("ALTER DOMAIN {name} SET DEFAULT {d}"),
            None => format!("ALTER DOMAIN {name} DROP DEFAULT"),
        });
    }
    if from.not_null != to.not_null {
        out.push(format!(
            "ALTER DOMAIN {name} {} NOT NULL",
            if to.not_null { "SET" } else { "DROP" }
        ));
    }
    for c in from.constraints.values() {
        match to.constraints.get(&c.name) {
            Some(n) if n.definition == c.definition => {}
            Some(n)
                if crate::diff::core_definition(&n.definition) == crate::diff::core_definition(&c.definition)
                    && n.validated
                    && !c.validated =>
            {
                out.push(format!("ALTER DOMAIN {name} VALIDATE CONSTRAINT {}", ident(&c.name)));
            }
            _ => out.push(format!("ALTER DOMAIN {name} DROP CONSTRAINT {}", ident(&c.name))),
        }
    }
    for c in to.constraints.values() {
        match from.constraints.get(&c.name) {
            Some(o) if o.definition == c.definition => {
                if o.comment != c.comment {
                    out.push(format!(
                        "COMMENT ON CONSTRAINT {} ON DOMAIN {name} IS {}",
                        ident(&c.name),
                        c.comment.as_deref().map(literal).unwrap_or_else(|| "NULL".into())
                    ));
                }
            }
            Some(o)
                if crate::diff::core_definition(&o.definition) == crate::diff::core_definition(&c.definition)
                    && c.validated
                    && !o.validated => {}
            _ => out.extend(add_domain_constraint(to, c)),
        }
    }
    out
}

pub fn create_composite(t: &CompositeType, initial: &Acl) -> Vec<String> {
    let attributes: Vec<String> = t
        .attributes
        .iter()
        .map(|a| match &a.collation {
            Some(c) => format!("{} {} COLLATE {c}", ident(&a.name), a.data_type),
            None => format!("{} {}", ident(&a.name), a.data_type),
        })
        .collect();
    let mut out = vec![format!(
        "CREATE TYPE {} AS ({})",
        qualified(&t.name),
        attributes.join(", ")
    )];
    for a in &t.attributes {
        push_comment(
            &mut out,
            &ObjectId::Column(t.name.clone(), a.name.clone()),
            a.comment.as_deref(),
        );
    }
    after_type(
        &mut out,
        &ObjectId::Type(t.name.clone()),
        "TYPE",
        t.comment.as_deref(),
        &t.owner,
        &t.acl,
        initial,
    );
    out
}

pub fn alter_composite(from: &CompositeType, to: &CompositeType) -> Vec<String> {
    let name = qualified(&to.name);
    let mut out = Vec::new();
    for a in &from.attributes {
        if !to.attributes.iter().any(|b| b.name == a.name) {
            out.push(format!("ALTER TYPE {name} DROP ATTRIBUTE {}", ident(&a.name)));
        }
    }
    for b in &to.attributes {
        let collate = b
            .collation
            .as_ref()
            .map(|c| format!(" COLLATE {c}"))
            .unwrap_or_default();
        match from.attributes.iter().find(|a| a.name == b.name) {
            None => out.push(format!(
                "ALTER TYPE {name} ADD ATTRIBUTE {} {}{collate}",
                ident(&b.name),
                b.data_type
            )),
            Some(a) if (&a.data_type, &a.collation) != (&b.data_type, &b.collation) => out.push(format!(
                "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {}{collate}",
                ident(&b.name),
                b.data_type
            )),
            _ => {}
        }
        let old_comment = from
            .attributes
            .iter()
            .find(|a| a.name == b.name)
            .and_then(|a| a.comment.clone());
        if old_comment != b.comment {
            out.push(super::objects::comment(
                &ObjectId::Column(to.name.clone(), b.name.clone()),
                b.comment.as_deref(),
            ));
        }
    }
    out
}

pub fn create_range(r: &RangeType, initial: &Acl) -> Vec<String> {
    let mut options = vec![format!("SUBTYPE = {}", r.subtype)];
    if let Some(o) = &r.subtype_opclass {
        options.push(format!("SUBTYPE_OPCLASS = {o}"));
    }
    if let Some(c) = &r.collation {
        options.push(format!("COLLATION = {c}"));
    }
    if let Some(c) = &r.canonical {
        options.push(format!("CANONICAL = {c}"));
    }
    if let Some(d) = &r.subtype_diff {
        options.push(format!("SUBTYPE_DIFF = {d}"));
    }
    if let Some(m) = &r.multirange
        && *m != default_multirange(&r.name)
    {
        options.push(format!("MULTIRANGE_TYPE_NAME = {}", qualified(m)));
    }
    let mut out = vec![format!(
        "CREATE TYPE {} AS RANGE ({})",
        qualified(&r.name),
        options.join(", ")
    )];
    after_type(
        &mut out,
        &ObjectId::Type(r.name.clone()),
        "TYPE",
        r.comment.as_deref(),
        &r.owner,
        &r.acl,
        initial,
    );
    out
}

/// PostgreSQL's name for a range type's multirange: `range` replaced by
/// `multirange`, or `_multirange` appended.
fn default_multirange(name: &QualifiedName) -> QualifiedName {
    let n = match name.name.rfind("range") {
        Some(i) => format!("{}multirange{}", &name.name[..i], &name.name[i + 5..]),
        None => format!("{}_multirange", name.name),
    };
    QualifiedName::new(name.schema.clone(), n)
}

pub fn create_collation(c: &Collation) -> Vec<String> {
    let mut options = vec![format!("provider = {}", c.provider)];
    if c.provider == "icu" {
        if let Some(l) = &c.locale {
            options.push(format!("locale = {}", literal(l)));
        }
    } else {
        if let Some(l) = &c.collate {
            options.push(format!("lc_collate = {}", literal(l)));
        }
        if let Some(l) = &c.ctype {
            options.push(format!("lc_ctype = {}", literal(l)));
        }
    }
    if !c.deterministic {
        options.push("deterministic = false".into());
    }
    let id = ObjectId::Collation(c.name.clone());
    let mut out = vec![format!(
        "CREATE COLLATION {} ({})",
        qualified(&c.name),
        options.join(", ")
    )];
    push_comment(&mut out, &id, c.comment.as_deref());
    if !c.owner.is_empty() {
        out.push(owner(&id, "COLLATION", &c.owner));
    }
    out
}

/// A domain created anew under its name, its columns recast, the old one dropped.
pub fn recreate_domain(to: &Domain, uses: &[crate::diff::TypeUse], initial: &Acl) -> Vec<String> {
    let name = qualified(&to.name);
    let old = super::objects::renamed_aside(&to.name);
    let mut out = vec![format!("ALTER DOMAIN {name} RENAME TO {}", ident(&old.name))];
    out.extend(create_domain(to, initial));
    out.extend(super::objects::recast(&name, uses));
    out.push(format!("DROP DOMAIN {}", qualified(&old)));
    out
}

/// A composite type created anew under its name, its columns recast through
/// text, the old one dropped.
pub fn recreate_composite(to: &CompositeType, uses: &[crate::diff::TypeUse], initial: &Acl) -> Vec<String> {
    let name = qualified(&to.name);
    let old = super::objects::renamed_aside(&to.name);
    let mut out = vec![format!("ALTER TYPE {name} RENAME TO {}", ident(&old.name))];
    out.extend(create_composite(to, initial));
    out.extend(super::objects::recast(&name, uses));
    out.push(format!("DROP TYPE {}", qualified(&old)));
    out
}

/// A collation created anew under its name, its columns moved to it (which
/// rebuilds their indexes), the old one dropped.
pub fn recreate_collation(to: &Collation, uses: &[crate::diff::TypeUse]) -> Vec<String> {
    let name = qualified(&to.name);
    let old = super::objects::renamed_aside(&to.name);
    let mut out = vec![format!("ALTER COLLATION {name} RENAME TO {}", ident(&old.name))];
    out.extend(create_collation(to));
    for u in uses {
        out.push(format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE {} COLLATE {name}",
            qualified(&u.table),
            ident(&u.column),
            u.data_type
        ));
    }
    out.push(format!("DROP COLLATION {}", qualified(&old)));
    out
}
