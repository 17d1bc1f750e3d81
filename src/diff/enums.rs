//! Enum types: created, dropped, or given new labels; a type whose labels are
//! removed or reordered is recreated, and the columns using it recast.

use super::{Change, CompositeRecast, DomainRecast, TypeUse, comment, owner, paired, privileges};
use crate::catalog::{Catalog, Column, EnumType, ObjectId, QualifiedName, is_user_defined_type};
use aho_corasick::{AhoCorasick, MatchKind};
use std::collections::{HashMap, HashSet};

pub fn enums(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let relabeled: Vec<(&EnumType, &EnumType)> = paired(&current.enums, &desired.enums)
        .filter_map(|pair| match pair {
            (Some(a), Some(b)) if a.labels != b.labels => Some((a, b)),
            _ => None,
        })
        .collect();
    // One pass over each catalog's expressions for all relabeled enums.
    let recreate = needs_recreate(relabeled.iter().copied(), desired);
    let recreate_back = needs_recreate(relabeled.iter().map(|&(a, b)| (b, a)), current);
    // Built once, on the first enum whose labels change: one pass over the
    // columns instead of one per changed enum.
    let mut by_type: Option<ColumnsByType<'_>> = None;
    for pair in paired(&current.enums, &desired.enums) {
        match pair {
            (Some(a), None) => out.push(Change::DropEnum(a.clone())),
            (None, Some(b)) => out.push(Change::CreateEnum(b.clone())),
            (Some(a), Some(b)) => {
                if a.labels != b.labels {
                    let by_type = by_type.get_or_insert_with(|| ColumnsByType::new(current));
                    out.push(Change::AlterEnum {
                        from: a.clone(),
                        to: b.clone(),
                        uses: uses_indexed(by_type, current, desired, &a.name),
                        recreate: recreate.contains(&a.name),
                        recreate_back: recreate_back.contains(&a.name),
                        domains: domains_over(by_type, current, desired, &a.name),
                        composites: composites_over(by_type, current, desired, &a.name),
                    });
                }
                let id = ObjectId::Type(a.name.clone());
                owner(id.clone(), "TYPE", &a.owner, &b.owner, out);
                privileges(id.clone(), "TYPE", &a.acl, &b.acl, out);
                comment(id, &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

/// True when `to` only adds labels to `from`, keeping the old labels' order:
/// then `ALTER TYPE ... ADD VALUE` does it in place.
pub fn only_adds_labels(from: &[String], to: &[String]) -> bool {
    let mut remaining = to.iter();
    from.iter().all(|label| remaining.any(|l| l == label))
}

/// The enums among `changes` (from, to) that going from `from` to `to`
/// needs recreated: labels are removed or reordered, or a new label appears
/// in an expression of `after` (a default, a check, an index predicate),
/// which PostgreSQL does not allow in the transaction that added the label.
/// The expressions are read once for all the enums.
fn needs_recreate<'a>(
    changes: impl Iterator<Item = (&'a EnumType, &'a EnumType)>,
    after: &Catalog,
) -> HashSet<QualifiedName> {
    let mut recreate = HashSet::new();
    // Enums that only gain labels: their qualified name, and the new labels.
    let mut gaining: Vec<(&QualifiedName, String, Vec<&str>)> = Vec::new();
    for (from, to) in changes {
        if label_renames(&from.labels, &to.labels).is_some() {
            continue;
        }
        if !only_adds_labels(&from.labels, &to.labels) {
            recreate.insert(to.name.clone());
            continue;
        }
        let added = to
            .labels
            .iter()
            .filter(|l| !from.labels.contains(l))
            .map(String::as_str)
            .collect();
        gaining.push((&to.name, crate::sql::qualified(&to.name), added));
    }
    if gaining.is_empty() {
        return recreate;
    }
    // One pass over each expression tells whether it may name any gaining
    // type (a search per type made the diff of 25 such types at 5,000
    // tables spend most of its time here); only the few that may are
    // searched type by type. The pass looks for the types' own names, after
    // the dot: their schemas' names are in most expressions (every index
    // definition), which would leave the automaton's prefilter (a vectorized
    // one, for leftmost matching) nothing to skip.
    let searcher = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(gaining.iter().map(|(name, _, _)| crate::sql::ident(&name.name)))
        .ok();
    for_each_expression(after, |expr| {
        // Without the automaton (it could not be built), every expression.
        if searcher.as_ref().is_some_and(|s| !s.is_match(expr)) {
            return;
        }
        for (name, type_name, added) in &gaining {
            if expr.contains(type_name.as_str()) && added.iter().any(|label| expr.contains(label)) {
                recreate.insert((*name).clone());
            }
        }
    });
    recreate
}

/// Calls `visit` with every expression of `catalog` that can name an enum
/// label: column defaults and generation expressions, checks, index
/// definitions, views, triggers, functions, policies and domains.
fn for_each_expression<'a>(catalog: &'a Catalog, mut visit: impl FnMut(&'a str)) {
    for table in catalog.tables.values() {
        for column in &table.columns {
            column
                .default
                .as_deref()
                .into_iter()
                .chain(column.generated.as_deref())
                .for_each(&mut visit);
        }
        table.constraints.values().for_each(|c| visit(&c.definition));
    }
    catalog.indexes.values().for_each(|i| visit(&i.definition));
    catalog.views.values().for_each(|v| visit(&v.definition));
    catalog.triggers.values().for_each(|t| visit(&t.definition));
    catalog.functions.values().for_each(|f| visit(&f.definition));
    for policy in catalog.policies.values() {
        policy
            .using
            .as_deref()
            .into_iter()
            .chain(policy.with_check.as_deref())
            .for_each(&mut visit);
    }
    for domain in catalog.domains.values() {
        domain.default.as_deref().into_iter().for_each(&mut visit);
        domain.constraints.values().for_each(|c| visit(&c.definition));
    }
}

/// Labels renamed in place: the same number of labels, and every label that
/// differs is new on one side and gone on the other (`ALTER TYPE ... RENAME
/// VALUE` keeps the rows, which now read the new name).
pub fn label_renames(from: &[String], to: &[String]) -> Option<Vec<(String, String)>> {
    if from.len() != to.len() {
        return None;
    }
    let renames: Vec<(String, String)> = from
        .iter()
        .zip(to)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect();
    let clean = renames.iter().all(|(a, b)| !to.contains(a) && !from.contains(b));
    (!renames.is_empty() && clean).then_some(renames)
}

/// `is_user_defined_type`, quicker for the many types that have no `.` at
/// all (every user-defined type is printed qualified).
fn user_defined(data_type: &str) -> bool {
    memchr::memchr(b'.', data_type.as_bytes()).is_some() && is_user_defined_type(data_type)
}

/// The columns of a catalog by the type they are declared with (an array
/// column under its element type), in table then column order.
pub struct ColumnsByType<'a> {
    columns: HashMap<&'a str, Vec<(&'a QualifiedName, &'a Column)>>,
}

impl<'a> ColumnsByType<'a> {
    pub fn new(catalog: &'a Catalog) -> ColumnsByType<'a> {
        let mut columns: HashMap<&str, Vec<_>> = HashMap::new();
        for (table_name, table) in &catalog.tables {
            // Only user-defined types are asked for: most columns are not.
            for column in table.columns.iter().filter(|c| user_defined(&c.data_type)) {
                columns
                    .entry(column.data_type.trim_end_matches("[]"))
                    .or_default()
                    .push((table_name, column));
            }
        }
        ColumnsByType { columns }
    }

    /// The columns declared with the user-defined type `name` (or an array
    /// of it), in order.
    fn of(&self, name: &QualifiedName) -> &[(&'a QualifiedName, &'a Column)] {
        self.columns
            .get(crate::sql::qualified(name).as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// The columns (and composite type attributes) that use a type, directly or
/// as an array, on both sides.
pub fn uses(current: &Catalog, desired: &Catalog, name: &QualifiedName) -> Vec<TypeUse> {
    uses_indexed(&ColumnsByType::new(current), current, desired, name)
}

/// `uses`, with the columns of `current` indexed by type.
fn uses_indexed(
    by_type: &ColumnsByType<'_>,
    current: &Catalog,
    desired: &Catalog,
    name: &QualifiedName,
) -> Vec<TypeUse> {
    let mut found = column_uses(by_type, desired, name);
    for (type_name, composite) in &current.composite_types {
        let Some(desired_type) = desired.composite_types.get(type_name) else {
            continue;
        };
        for a in &composite.attributes {
            let Some(b) = desired_type.attributes.iter().find(|b| b.name == a.name) else {
                continue;
            };
            // A composite type that columns use is recreated instead.
            if uses_type(&a.data_type, name)
                && uses_type(&b.data_type, name)
                && column_uses(by_type, desired, type_name).is_empty()
            {
                found.push(TypeUse {
                    table: type_name.clone(),
                    attribute: true,
                    column: a.name.clone(),
                    data_type: a.data_type.clone(),
                    default_before: None,
                    default_after: None,
                });
            }
        }
    }
    found
}

/// Does a printed column type (`public.mood`, `public.mood[]`) name this type?
pub fn uses_type(data_type: &str, name: &QualifiedName) -> bool {
    let base = data_type.trim_end_matches("[]");
    base == crate::sql::qualified(name)
}

/// `current` with every enum label that the plan renames renamed in the
/// expressions PostgreSQL stores by reference (defaults, constraints,
/// indexes, views, policies, triggers, domains), or `None` when no label is
/// renamed. Function bodies are text and keep the old label.
pub fn with_renamed_labels(current: &Catalog, desired: &Catalog) -> Option<Catalog> {
    let mut replacements = Vec::new();
    for (name, a) in &current.enums {
        let Some(b) = desired.enums.get(name) else { continue };
        if let Some(renames) = label_renames(&a.labels, &b.labels) {
            let type_name = crate::sql::qualified(name);
            for (old, new) in renames {
                replacements.push((
                    format!("{}::{type_name}", crate::sql::literal(&old)),
                    format!("{}::{type_name}", crate::sql::literal(&new)),
                ));
            }
        }
    }
    if replacements.is_empty() {
        return None;
    }
    let fix = |text: &mut String| {
        for (old, new) in &replacements {
            if text.contains(old.as_str()) {
                *text = text.replace(old.as_str(), new);
            }
        }
    };
    let mut c = current.clone();
    for t in c.tables.values_mut() {
        for col in &mut t.columns {
            if let Some(d) = col.default.as_mut() {
                fix(d);
            }
        }
        for con in t.constraints.values_mut() {
            fix(&mut con.definition);
        }
    }
    c.indexes.values_mut().for_each(|i| fix(&mut i.definition));
    c.views.values_mut().for_each(|v| fix(&mut v.definition));
    c.triggers.values_mut().for_each(|t| fix(&mut t.definition));
    for p in c.policies.values_mut() {
        p.using.iter_mut().for_each(&fix);
        p.with_check.iter_mut().for_each(&fix);
    }
    for d in c.domains.values_mut() {
        d.default.iter_mut().for_each(&fix);
        d.constraints.values_mut().for_each(|k| fix(&mut k.definition));
    }
    Some(c)
}

/// Domains whose base type is the enum on both sides, with their columns.
fn domains_over(
    by_type: &ColumnsByType<'_>,
    current: &Catalog,
    desired: &Catalog,
    name: &QualifiedName,
) -> Vec<DomainRecast> {
    current
        .domains
        .values()
        .filter(|d| uses_type(&d.base_type, name))
        .filter_map(|d| {
            let to = desired.domains.get(&d.name).filter(|t| uses_type(&t.base_type, name))?;
            Some(DomainRecast {
                from: d.clone(),
                to: to.clone(),
                uses: uses_indexed(by_type, current, desired, &d.name),
            })
        })
        .collect()
}

/// The table columns that use a type, directly or as an array, on both sides.
fn column_uses(by_type: &ColumnsByType<'_>, desired: &Catalog, name: &QualifiedName) -> Vec<TypeUse> {
    let mut found = Vec::new();
    for &(table_name, column) in by_type.of(name) {
        let Some(desired_column) = desired.tables.get(table_name).and_then(|t| t.column(&column.name)) else {
            continue;
        };
        if uses_type(&desired_column.data_type, name) {
            found.push(TypeUse {
                table: table_name.clone(),
                attribute: false,
                column: column.name.clone(),
                data_type: column.data_type.clone(),
                default_before: column.default.clone(),
                default_after: desired_column.default.clone(),
            });
        }
    }
    found
}

/// Composite types with an attribute of the type on both sides that table
/// columns use: they must be recreated (and their columns recast) with it.
fn composites_over(
    by_type: &ColumnsByType<'_>,
    current: &Catalog,
    desired: &Catalog,
    name: &QualifiedName,
) -> Vec<CompositeRecast> {
    current
        .composite_types
        .values()
        .filter(|t| t.attributes.iter().any(|a| uses_type(&a.data_type, name)))
        .filter_map(|t| {
            let to = desired.composite_types.get(&t.name)?;
            let columns = column_uses(by_type, desired, &t.name);
            (!columns.is_empty()).then(|| CompositeRecast {
                from: t.clone(),
                to: to.clone(),
                uses: columns,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(labels: &[&str]) -> Vec<String> {
        labels.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn additions_keep_order_removals_do_not() {
        assert!(only_adds_labels(&v(&["a", "c"]), &v(&["a", "b", "c", "d"])));
        assert!(!only_adds_labels(&v(&["a", "c"]), &v(&["c", "a"])));
        assert!(!only_adds_labels(&v(&["a", "c"]), &v(&["a"])));
    }
}
