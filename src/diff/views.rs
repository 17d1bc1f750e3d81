//! Views and materialized views.

use super::{Change, comment, owner, paired, privileges};
use crate::catalog::{Catalog, ObjectId, View};

pub fn views(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.views, &desired.views) {
        match pair {
            (Some(a), None) => out.push(Change::DropView(a.clone())),
            (None, Some(b)) => out.push(Change::CreateView(b.clone())),
            (Some(a), Some(b)) => view(a, b, out),
            (None, None) => {}
        }
    }
}

fn view(a: &View, b: &View, out: &mut Vec<Change>) {
    if a.materialized != b.materialized || (a.definition != b.definition && !replaceable(a, b)) {
        out.push(Change::DropView(a.clone()));
        out.push(Change::CreateView(b.clone()));
        return;
    }
    let defaults = |v: &View| v.columns.iter().map(|c| c.default.clone()).collect::<Vec<_>>();
    if a.definition != b.definition || (!a.materialized && (a.options != b.options || defaults(a) != defaults(b))) {
        // CREATE OR REPLACE VIEW sets the options too.
        out.push(Change::ReplaceView {
            from: a.clone(),
            to: b.clone(),
        });
    } else if a.options != b.options {
        out.push(Change::SetRelationOptions {
            object: b.id(),
            from: a.options.clone(),
            to: b.options.clone(),
        });
    }
    if a.materialized && a.populated != b.populated {
        out.push(Change::SetPopulated {
            view: b.name.clone(),
            populated: b.populated,
        });
    }
    let keyword = if a.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
    owner(b.id(), keyword, &a.owner, &b.owner, out);
    privileges(b.id(), "TABLE", &a.acl, &b.acl, out);
    comment(b.id(), &a.comment, &b.comment, out);
    for col in &b.columns {
        if let Some(old) = a.columns.iter().find(|c| c.name == col.name) {
            let id = ObjectId::Column(b.name.clone(), col.name.clone());
            comment(id.clone(), &old.comment, &col.comment, out);
            privileges(id, "TABLE", &old.acl, &col.acl, out);
        }
    }
}

/// `CREATE OR REPLACE VIEW` keeps every existing column with its name and
/// type, in place, and may only add columns at the end. It is used only when
/// the columns stay exactly the same, so that the rollback (the same
/// replacement the other way) is one too: a view that gains a column is
/// dropped and created again, with its dependents, in both directions.
fn replaceable(a: &View, b: &View) -> bool {
    !a.materialized
        && b.columns.len() == a.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| x.name == y.name && x.data_type == y.data_type)
}
