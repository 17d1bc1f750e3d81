//! Domains, composite types, range types and collations.

use super::{Change, comment, owner, paired, privileges};
use crate::catalog::{Catalog, Domain, ObjectId};

pub fn domains(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.domains, &desired.domains) {
        match pair {
            (Some(a), None) => out.push(Change::DropDomain(a.clone())),
            (None, Some(b)) => out.push(Change::CreateDomain(b.clone())),
            (Some(a), Some(b)) => {
                if a.base_type != b.base_type || a.collation != b.collation {
                    let uses = super::uses(current, desired, &a.name);
                    if uses.is_empty() {
                        out.push(Change::DropDomain(a.clone()));
                        out.push(Change::CreateDomain(b.clone()));
                    } else {
                        out.push(Change::RecreateDomain {
                            from: a.clone(),
                            to: b.clone(),
                            uses,
                        });
                    }
                    continue;
                }
                let strip = |d: &Domain| Domain {
                    owner: String::new(),
                    acl: Default::default(),
                    comment: None,
                    ..d.clone()
                };
                if strip(a) != strip(b) {
                    out.push(Change::AlterDomain {
                        from: a.clone(),
                        to: b.clone(),
                    });
                }
                let id = ObjectId::Type(b.name.clone());
                owner(id.clone(), "DOMAIN", &a.owner, &b.owner, out);
                privileges(id.clone(), "DOMAIN", &a.acl, &b.acl, out);
                comment(id, &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

pub fn composite_types(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.composite_types, &desired.composite_types) {
        match pair {
            (Some(a), None) => out.push(Change::DropCompositeType(a.clone())),
            (None, Some(b)) => out.push(Change::CreateCompositeType(b.clone())),
            (Some(a), Some(b)) => {
                let sorted = |t: &crate::catalog::CompositeType| {
                    let mut attrs = t.attributes.clone();
                    attrs.sort_by(|x, y| x.name.cmp(&y.name));
                    attrs
                };
                if sorted(a) != sorted(b) {
                    let retyped = a.attributes.iter().any(|x| {
                        b.attributes
                            .iter()
                            .any(|y| y.name == x.name && (y.data_type != x.data_type || y.collation != x.collation))
                    });
                    let uses: Vec<_> = super::uses(current, desired, &a.name)
                        .into_iter()
                        .filter(|u| !u.attribute)
                        .collect();
                    if retyped && !uses.is_empty() {
                        // PostgreSQL cannot retype an attribute while a column uses the type.
                        out.push(Change::RecreateCompositeType {
                            from: a.clone(),
                            to: b.clone(),
                            uses,
                        });
                        continue;
                    }
                    out.push(Change::AlterCompositeType {
                        from: a.clone(),
                        to: b.clone(),
                    });
                }
                let id = ObjectId::Type(b.name.clone());
                owner(id.clone(), "TYPE", &a.owner, &b.owner, out);
                privileges(id.clone(), "TYPE", &a.acl, &b.acl, out);
                comment(id, &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

pub fn range_types(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.range_types, &desired.range_types) {
        match pair {
            (Some(a), None) => out.push(Change::DropRangeType(a.clone())),
            (None, Some(b)) => out.push(Change::CreateRangeType(b.clone())),
            (Some(a), Some(b)) => {
                let shape = |x: &crate::catalog::RangeType| crate::catalog::RangeType {
                    owner: String::new(),
                    acl: Default::default(),
                    comment: None,
                    ..x.clone()
                };
                if shape(a) != shape(b) {
                    out.push(Change::DropRangeType(a.clone()));
                    out.push(Change::CreateRangeType(b.clone()));
                    continue;
                }
                let id = ObjectId::Type(b.name.clone());
                owner(id.clone(), "TYPE", &a.owner, &b.owner, out);
                privileges(id.clone(), "TYPE", &a.acl, &b.acl, out);
                comment(id, &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

pub fn collations(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.collations, &desired.collations) {
        match pair {
            (Some(a), None) => out.push(Change::DropCollation(a.clone())),
            (None, Some(b)) => out.push(Change::CreateCollation(b.clone())),
            (Some(a), Some(b)) => {
                let shape = |x: &crate::catalog::Collation| crate::catalog::Collation {
                    owner: String::new(),
                    comment: None,
                    ..x.clone()
                };
                if shape(a) != shape(b) {
                    let uses = collation_uses(current, desired, &a.name);
                    if uses.is_empty() {
                        out.push(Change::DropCollation(a.clone()));
                        out.push(Change::CreateCollation(b.clone()));
                    } else {
                        out.push(Change::RecreateCollation {
                            from: a.clone(),
                            to: b.clone(),
                            uses,
                        });
                    }
                    continue;
                }
                let id = ObjectId::Collation(b.name.clone());
                owner(id.clone(), "COLLATION", &a.owner, &b.owner, out);
                comment(id, &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

/// The columns that use a collation on both sides.
fn collation_uses(current: &Catalog, desired: &Catalog, name: &crate::catalog::QualifiedName) -> Vec<super::TypeUse> {
    let collation = crate::sql::qualified(name);
    let mut found = Vec::new();
    for (table_name, table) in &current.tables {
        let Some(wanted) = desired.tables.get(table_name) else {
            continue;
        };
        for c in &table.columns {
            let Some(w) = wanted.column(&c.name) else { continue };
            if c.collation.as_deref() == Some(collation.as_str()) && w.collation.as_deref() == Some(collation.as_str())
            {
                found.push(super::TypeUse {
                    table: table_name.clone(),
                    attribute: false,
                    column: c.name.clone(),
                    data_type: c.data_type.clone(),
                    default_before: None,
                    default_after: None,
                });
            }
        }
    }
    found
}
