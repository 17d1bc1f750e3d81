//! Which objects a project manages: `include_schemas`, `exclude_schemas` and
//! `exclude_objects` of `converge.toml`. Objects outside the filter are left
//! out of both catalogs, so converge neither creates, changes nor drops them.

use super::{Catalog, QualifiedName};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Only these schemas (all when empty).
    pub include_schemas: Vec<String>,
    pub exclude_schemas: Vec<String>,
    /// `schema.name` patterns; `*` matches any run of characters.
    pub exclude_objects: Vec<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.include_schemas.is_empty() && self.exclude_schemas.is_empty() && self.exclude_objects.is_empty()
    }

    pub fn keeps_schema(&self, schema: &str) -> bool {
        (self.include_schemas.is_empty() || self.include_schemas.iter().any(|s| s == schema))
            && !self.exclude_schemas.iter().any(|s| s == schema)
    }

    pub fn keeps(&self, name: &QualifiedName) -> bool {
        self.keeps_schema(&name.schema)
            && !self
                .exclude_objects
                .iter()
                .any(|p| glob(p, &format!("{}.{}", name.schema, name.name)))
    }
}

impl Catalog {
    /// The objects `filter` keeps (objects inside a kept table stay with it).
    pub fn filtered(&self, filter: &Filter) -> Catalog {
        let mut c = self.clone();
        c.retain_filtered(filter);
        c
    }

    /// Keeps only the objects `filter` keeps, in place (no copy of a big
    /// catalog when it is not needed any more).
    pub fn retain_filtered(&mut self, filter: &Filter) {
        if filter.is_empty() {
            return;
        }
        let c = self;
        c.schemas.retain(|s, _| filter.keeps_schema(s));
        c.enums.retain(|q, _| filter.keeps(q));
        c.domains.retain(|q, _| filter.keeps(q));
        c.composite_types.retain(|q, _| filter.keeps(q));
        c.range_types.retain(|q, _| filter.keeps(q));
        c.collations.retain(|q, _| filter.keeps(q));
        c.sequences.retain(|q, _| filter.keeps(q));
        c.tables.retain(|q, _| filter.keeps(q));
        c.views.retain(|q, _| filter.keeps(q));
        c.indexes.retain(|q, i| filter.keeps(q) && filter.keeps(&i.table));
        c.functions.retain(|(q, _), _| filter.keeps(q));
        c.aggregates.retain(|(q, _), _| filter.keeps(q));
        c.triggers.retain(|(t, _), _| filter.keeps(t));
        c.policies.retain(|(t, _), _| filter.keeps(t));
        c.default_privileges
            .retain(|(_, s, _), _| s.is_empty() || filter.keeps_schema(s));
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_schema_lists() {
        assert!(glob("public.tmp_*", "public.tmp_orders"));
        assert!(!glob("public.tmp_*", "public.orders"));
        assert!(glob("*.audit_*_log", "app.audit_user_log"));
        let f = Filter {
            include_schemas: vec!["app".into(), "billing".into()],
            exclude_schemas: vec!["billing".into()],
            exclude_objects: vec!["app.scratch*".into()],
        };
        assert!(f.keeps(&QualifiedName::new("app", "orders")));
        assert!(!f.keeps(&QualifiedName::new("app", "scratch_1")));
        assert!(!f.keeps(&QualifiedName::new("billing", "invoices")));
        assert!(!f.keeps(&QualifiedName::new("public", "t")));
    }
}
