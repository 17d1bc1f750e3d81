//! Which statements go into which file.

use super::paths::{disambiguate, object_path, schema_path};
use super::{DumpFile, DumpOptions};
use crate::catalog::*;
use crate::diff::Change;
use crate::sql::{Context, qualified, render};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The comment PostgreSQL gives the `public` schema of a new database.
const PUBLIC_COMMENT: &str = "standard public schema";
/// The comment of the `plpgsql` extension every new database has.
const PLPGSQL_COMMENT: &str = "PL/pgSQL procedural language";

/// One file being written: a header and statements.
struct File {
    header: Vec<String>,
    statements: Vec<String>,
    /// Written even without statements (the `public` schema's file says
    /// why it has none).
    keep: bool,
}

impl File {
    fn text(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            out.push_str("-- ");
            out.push_str(line);
            out.push('\n');
        }
        for s in &self.statements {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(s.trim_end().trim_end_matches(';').trim_end());
            out.push_str(";\n");
        }
        out
    }
}

struct Dumper<'a> {
    catalog: &'a Catalog,
    server_version: i32,
    ctx: Context<'static>,
    files: BTreeMap<PathBuf, File>,
}

pub fn files(snapshot: &Snapshot, options: &DumpOptions) -> Vec<DumpFile> {
    let catalog = if options.owners {
        snapshot.catalog.clone()
    } else {
        snapshot.catalog.without_owners()
    };
    let mut d = Dumper {
        catalog: &catalog,
        server_version: snapshot.server_version,
        ctx: Context::plain(),
        files: BTreeMap::new(),
    };
    d.schemas();
    d.extensions();
    d.types();
    d.collations();
    d.sequences();
    d.functions();
    d.aggregates();
    d.tables();
    d.views();
    d.leftovers();
    d.default_privileges();
    let files = d
        .files
        .into_iter()
        .filter(|(_, f)| f.keep || !f.statements.is_empty())
        .map(|(path, f)| DumpFile { text: f.text(), path })
        .collect();
    disambiguate(files)
}

impl Dumper<'_> {
    fn file(&mut self, path: PathBuf, header: impl FnOnce() -> Vec<String>) -> &mut File {
        self.files.entry(path).or_insert_with(|| File {
            header: header(),
            statements: Vec::new(),
            keep: false,
        })
    }

    fn push(&mut self, path: PathBuf, header: impl FnOnce() -> Vec<String>, statements: Vec<String>) {
        let file = self.file(path, header);
        file.statements
            .extend(statements.iter().map(|s| super::rewrite::array_casts(s)));
    }

    fn render(&self, change: Change) -> Vec<String> {
        render(&change, &self.ctx)
            .iter()
            .map(|statement| crate::sql::owner_grant_in_desired_files(statement))
            .collect()
    }

    /// The object's CREATE (with its comments, owner and grants relative to
    /// the built-in privileges), then what makes its grants right when
    /// default privileges gave it others at creation.
    fn create(&self, change: Change, keyword: &str, acl: &Acl) -> Vec<String> {
        let object = change.object();
        let mut out = self.render(change);
        out.extend(self.after_default_privileges(object, keyword, acl));
        out
    }

    /// GRANT and REVOKE from what the connecting role's default privileges
    /// give a new object of this kind to `acl`; nothing when none apply.
    /// (Together with the grants relative to the built-in privileges, the
    /// object ends with `acl` whichever of the two it started from.)
    fn after_default_privileges(&self, object: ObjectId, keyword: &str, acl: &Acl) -> Vec<String> {
        let Some(initial) = self.initial_acl(&object, keyword) else {
            return Vec::new();
        };
        let builtin = crate::sql::default_acl(keyword);
        if initial == builtin {
            return Vec::new();
        }
        let state = after_grants(&initial, &builtin, acl);
        if state == *acl {
            return Vec::new();
        }
        self.render(Change::SetPrivileges {
            object,
            keyword: keyword.to_string(),
            from: state,
            to: acl.clone(),
        })
    }

    /// The privileges a new object gets from the default privileges of the
    /// role that creates it (as `plan` computes them), if any apply.
    fn initial_acl(&self, object: &ObjectId, keyword: &str) -> Option<Acl> {
        let object_type = match keyword {
            "TABLE" => "TABLES",
            "SEQUENCE" => "SEQUENCES",
            "ROUTINE" | "FUNCTION" | "PROCEDURE" => "FUNCTIONS",
            "TYPE" | "DOMAIN" => "TYPES",
            "SCHEMA" => "SCHEMAS",
            _ => return None,
        };
        let entry = |schema: &str| {
            self.catalog
                .default_privileges
                .get(&(CURRENT_ROLE.to_string(), schema.to_string(), object_type.to_string()))
                .map(|d| d.grants.clone())
        };
        let global = entry("");
        let in_schema = match object.schema() {
            Some(schema) if keyword != "SCHEMA" => entry(schema),
            _ => None,
        };
        if global.is_none() && in_schema.is_none() {
            return None;
        }
        let mut acl = global.unwrap_or_else(|| crate::sql::default_acl(keyword));
        acl.extend(in_schema.unwrap_or_default());
        Some(acl)
    }

    fn schemas(&mut self) {
        let c = self.catalog;
        for s in c.schemas.values() {
            let statements = if s.name == "public" {
                self.public_schema(s)
            } else {
                self.create(Change::CreateSchema(s.clone()), "SCHEMA", &s.acl)
            };
            let name = crate::sql::ident(&s.name);
            let public = s.name == "public";
            let header = move || {
                let mut lines = vec![format!("Schema {name}.")];
                if public {
                    lines
                        .push("Every database has it: only what differs from a new database's is written here.".into());
                }
                lines
            };
            self.push(schema_path(&s.name), header, statements);
            if public {
                self.file(schema_path(&s.name), Vec::new).keep = true;
            }
        }
    }

    /// Every database starts with a `public` schema: only what differs from
    /// a new one is written.
    fn public_schema(&self, s: &Schema) -> Vec<String> {
        let id = ObjectId::Schema(s.name.clone());
        let modern = self.server_version == 0 || self.server_version >= 150000;
        let public = |privilege: &str| Grant {
            grantee: "PUBLIC".into(),
            privilege: privilege.into(),
            grantable: false,
        };
        let (default_owner, default_acl): (&str, Acl) = if modern {
            ("pg_database_owner", [public("USAGE")].into())
        } else {
            ("", [public("USAGE"), public("CREATE")].into())
        };
        let mut out = Vec::new();
        if s.comment.as_deref() != Some(PUBLIC_COMMENT) {
            out.extend(self.render(Change::SetComment {
                object: id.clone(),
                from: Some(PUBLIC_COMMENT.into()),
                to: s.comment.clone(),
            }));
        }
        if !s.owner.is_empty() && s.owner != default_owner {
            out.extend(self.render(Change::SetOwner {
                object: id.clone(),
                keyword: "SCHEMA".into(),
                from: default_owner.into(),
                to: s.owner.clone(),
            }));
        }
        out.extend(self.render(Change::SetPrivileges {
            object: id,
            keyword: "SCHEMA".into(),
            from: default_acl,
            to: s.acl.clone(),
        }));
        out
    }

    fn extensions(&mut self) {
        let mut statements = Vec::new();
        for e in self.catalog.extensions.values() {
            if e.name == "plpgsql" {
                // Installed in every new database.
                if e.comment.as_deref() != Some(PLPGSQL_COMMENT) {
                    statements.extend(self.render(Change::SetComment {
                        object: ObjectId::Extension(e.name.clone()),
                        from: Some(PLPGSQL_COMMENT.into()),
                        to: e.comment.clone(),
                    }));
                }
                continue;
            }
            statements.extend(self.render(Change::CreateExtension(e.clone())));
        }
        self.push(
            PathBuf::from("extensions.sql"),
            || vec!["Extensions.".into()],
            statements,
        );
    }

    fn types(&mut self) {
        let c = self.catalog;
        for e in c.enums.values() {
            let s = self.create(Change::CreateEnum(e.clone()), "TYPE", &e.acl);
            self.push_object(&e.name, "types", "Enum type", s);
        }
        for d in c.domains.values() {
            let s = self.create(Change::CreateDomain(d.clone()), "DOMAIN", &d.acl);
            self.push_object(&d.name, "types", "Domain", s);
        }
        for t in c.composite_types.values() {
            let s = self.create(Change::CreateCompositeType(t.clone()), "TYPE", &t.acl);
            self.push_object(&t.name, "types", "Composite type", s);
        }
        for r in c.range_types.values() {
            let s = self.create(Change::CreateRangeType(r.clone()), "TYPE", &r.acl);
            self.push_object(&r.name, "types", "Range type", s);
        }
    }

    fn collations(&mut self) {
        let catalog = self.catalog;
        for c in catalog.collations.values() {
            let s = self.render(Change::CreateCollation(c.clone()));
            self.push_object(&c.name, "collations", "Collation", s);
        }
    }

    fn push_object(&mut self, name: &QualifiedName, kind: &str, what: &str, statements: Vec<String>) {
        let header = format!("{what} {}.", qualified(name));
        self.push(object_path(&name.schema, kind, &name.name), || vec![header], statements);
    }

    /// Standalone sequences; those owned by a table's column are written
    /// with the table.
    fn sequences(&mut self) {
        let c = self.catalog;
        for s in c.sequences.values() {
            if self.owning_table(s).is_some() {
                continue;
            }
            let statements = self.sequence(s);
            self.push_object(&s.name, "sequences", "Sequence", statements);
        }
    }

    fn owning_table(&self, s: &Sequence) -> Option<&Table> {
        s.owned_by.as_ref().and_then(|o| self.catalog.tables.get(&o.table))
    }

    /// CREATE SEQUENCE, and its OWNED BY when the owning table is not dumped.
    fn sequence(&self, s: &Sequence) -> Vec<String> {
        let mut out = self.create(Change::CreateSequence(s.clone()), "SEQUENCE", &s.acl);
        if let Some(owned_by) = &s.owned_by {
            out.extend(self.render(Change::SetSequenceOwner {
                sequence: s.name.clone(),
                from: None,
                to: Some(owned_by.clone()),
            }));
        }
        out
    }

    fn functions(&mut self) {
        let c = self.catalog;
        let mut by_name: BTreeMap<&QualifiedName, Vec<&Function>> = BTreeMap::new();
        for f in c.functions.values() {
            by_name.entry(&f.name).or_default().push(f);
        }
        for (name, overloads) in by_name {
            let mut statements = Vec::new();
            for f in &overloads {
                statements.extend(self.create(Change::CreateFunction((*f).clone()), "ROUTINE", &f.acl));
            }
            let what = match (
                overloads.iter().all(|f| f.kind == RoutineKind::Procedure),
                overloads.len(),
            ) {
                (true, 1) => "Procedure".to_string(),
                (false, 1) => "Function".to_string(),
                (true, n) => format!("Procedure ({n} overloads)"),
                (false, n) => format!("Function ({n} overloads)"),
            };
            let header = format!("{what} {}.", qualified(name));
            self.push(
                object_path(&name.schema, "functions", &name.name),
                || vec![header],
                statements,
            );
        }
    }

    /// Every aggregate of a name in one file, as functions are.
    fn aggregates(&mut self) {
        let c = self.catalog;
        let mut by_name: BTreeMap<&QualifiedName, Vec<&Aggregate>> = BTreeMap::new();
        for a in c.aggregates.values() {
            by_name.entry(&a.name).or_default().push(a);
        }
        for (name, overloads) in by_name {
            let mut statements = Vec::new();
            for a in &overloads {
                statements.extend(self.create(
                    Change::CreateAggregate((*a).clone()),
                    crate::diff::AGGREGATE_GRANT_KEYWORD,
                    &a.acl,
                ));
            }
            let what = match overloads.len() {
                1 => "Aggregate".to_string(),
                n => format!("Aggregate ({n} overloads)"),
            };
            self.push_object(name, "aggregates", &what, statements);
        }
    }

    /// Tables that reference each other through foreign keys (in a ring of
    /// two or more tables).
    fn tables_in_cycles(&self) -> BTreeSet<QualifiedName> {
        let names: Vec<&QualifiedName> = self.catalog.tables.keys().collect();
        let index: BTreeMap<&QualifiedName, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut g: petgraph::graph::DiGraph<(), ()> = petgraph::graph::DiGraph::new();
        let nodes: Vec<_> = names.iter().map(|_| g.add_node(())).collect();
        for (i, t) in self.catalog.tables.values().enumerate() {
            for c in t.constraints.values() {
                if let Some(&j) = c.references.as_ref().and_then(|r| index.get(r))
                    && j != i
                {
                    g.add_edge(nodes[i], nodes[j], ());
                }
            }
        }
        petgraph::algo::tarjan_scc(&g)
            .into_iter()
            .filter(|scc| scc.len() > 1)
            .flatten()
            .map(|n| names[n.index()].clone())
            .collect()
    }

    fn tables(&mut self) {
        let in_cycles = self.tables_in_cycles();
        let c = self.catalog;
        for t in c.tables.values() {
            let mut statements = Vec::new();
            // The sequences its columns own, first: the defaults use them.
            let owned: Vec<&Sequence> = c
                .sequences
                .values()
                .filter(|s| s.owned_by.as_ref().is_some_and(|o| o.table == t.name))
                .collect();
            for s in &owned {
                // An owned sequence has its table's owner (ALTER TABLE ...
                // OWNER TO takes it along; the sequence's own would fail).
                let s = Sequence {
                    owner: String::new(),
                    ..(*s).clone()
                };
                let acl = s.acl.clone();
                statements.extend(self.create(Change::CreateSequence(s), "SEQUENCE", &acl));
            }
            // Constraints written after the table: NOT VALID ones, and the
            // foreign keys of tables that reference each other.
            let cycle = in_cycles.contains(&t.name);
            let later: Vec<Constraint> = t
                .constraints
                .values()
                .filter(|k| {
                    // A partition's copies of its parent's constraints come with the parent's.
                    !k.inherited
                        && (!k.validated
                            || (cycle
                                && k.kind == ConstraintKind::ForeignKey
                                && k.references.as_ref() != Some(&t.name)))
                })
                .cloned()
                .collect();
            // A partitioned table's key that adopted a partition's own key
            // (a name other than PostgreSQL's) is written as pg_dump writes
            // it, after the partitions: added ONLY to the table, each
            // partition's key added under its name and attached. (Written
            // inside CREATE TABLE, the partitions would get keys of
            // PostgreSQL's naming.)
            let adopting = t.constraints.values().filter(|k| {
                !k.inherited
                    && k.on_partitioned_table
                    && k.partitions.iter().any(|p| {
                        p.kind == AttachedKind::LocalConstraint
                            || (k.kind == ConstraintKind::PrimaryKey
                                && p.index.name != format!("{}_pkey", p.table.name))
                    })
            });
            let later: Vec<Constraint> = later
                .into_iter()
                .chain(adopting.map(|k| {
                    let mut k = k.clone();
                    for p in &mut k.partitions {
                        if p.kind == AttachedKind::LocalConstraint {
                            p.kind = AttachedKind::InheritedConstraint;
                        }
                    }
                    k
                }))
                .collect();
            let mut table = t.clone();
            for k in &later {
                table.constraints.remove(&k.name);
            }
            statements.extend(self.create(Change::CreateTable(table), "TABLE", &t.acl));
            // An inheritance child's columns that differ from what INHERITS gives them.
            for change in crate::diff::inherited_column_changes(t, c) {
                statements.extend(self.render(change));
            }
            for k in later {
                statements.extend(self.render(Change::AddConstraint {
                    table: t.name.clone(),
                    constraint: k,
                }));
            }
            for s in &owned {
                if let Some(owned_by) = &s.owned_by {
                    statements.extend(self.render(Change::SetSequenceOwner {
                        sequence: s.name.clone(),
                        from: None,
                        to: Some(owned_by.clone()),
                    }));
                }
            }
            statements.extend(self.indexes_of(&t.name));
            if t.replica_identity == "index" {
                statements.extend(self.render(Change::SetReplicaIdentity {
                    table: t.name.clone(),
                    from: "default".into(),
                    to: "index".into(),
                    from_index: None,
                    to_index: t.replica_identity_index.clone(),
                }));
            }
            statements.extend(self.triggers_of(&t.name));
            for p in c.policies.values().filter(|p| p.table == t.name) {
                statements.extend(self.render(Change::CreatePolicy(p.clone())));
            }
            let what = if t.partition_key.is_some() {
                "Partitioned table"
            } else if t.partition_of.is_some() {
                "Partition"
            } else if !t.inherits.is_empty() {
                "Inheritance child table"
            } else {
                "Table"
            };
            self.push_object(&t.name, "tables", what, statements);
        }
    }

    fn indexes_of(&self, relation: &QualifiedName) -> Vec<String> {
        let mut out = Vec::new();
        // A partition's parts of its parent's indexes come with the parent's.
        for i in self
            .catalog
            .indexes
            .values()
            .filter(|i| &i.table == relation && !i.inherited)
        {
            out.extend(self.render(Change::CreateIndex(i.clone())));
        }
        out
    }

    fn triggers_of(&self, relation: &QualifiedName) -> Vec<String> {
        let mut out = Vec::new();
        for t in self.catalog.triggers.values().filter(|t| &t.table == relation) {
            out.extend(self.render(Change::CreateTrigger(t.clone())));
        }
        out
    }

    fn views(&mut self) {
        let c = self.catalog;
        for v in c.views.values() {
            let mut statements = self.create(Change::CreateView(v.clone()), "TABLE", &v.acl);
            if let Some(values) = super::rewrite::values_view(v) {
                // The CREATE VIEW is the first statement.
                statements[0] = values;
            }
            statements.extend(self.indexes_of(&v.name));
            statements.extend(self.triggers_of(&v.name));
            let what = if v.materialized { "Materialized view" } else { "View" };
            self.push_object(&v.name, "views", what, statements);
        }
    }

    /// Indexes, triggers and policies whose table or view is not in the
    /// catalog (none in a catalog read from a database), in files of their own.
    fn leftovers(&mut self) {
        let c = self.catalog;
        let known = |q: &QualifiedName| c.tables.contains_key(q) || c.views.contains_key(q);
        for i in c.indexes.values().filter(|i| !known(&i.table) && !i.inherited) {
            let s = self.render(Change::CreateIndex(i.clone()));
            self.push_object(&i.name, "indexes", "Index", s);
        }
        for t in c.triggers.values().filter(|t| !known(&t.table)) {
            let s = self.render(Change::CreateTrigger(t.clone()));
            self.push_object(&t.table, "triggers", "Triggers on", s);
        }
        for p in c.policies.values().filter(|p| !known(&p.table)) {
            let s = self.render(Change::CreatePolicy(p.clone()));
            self.push_object(&p.table, "policies", "Policies on", s);
        }
    }

    fn default_privileges(&mut self) {
        let mut statements = Vec::new();
        for d in self.catalog.default_privileges.values() {
            statements.extend(self.render(Change::SetDefaultPrivileges {
                from: builtin_default_privileges(d),
                to: d.clone(),
            }));
        }
        self.push(
            PathBuf::from("default_privileges.sql"),
            || vec!["Default privileges: what new objects are granted when they are created.".into()],
            statements,
        );
    }
}

/// What an `ALTER DEFAULT PRIVILEGES` entry starts from: PostgreSQL's
/// built-in privileges (database-wide entries replace them; entries for one
/// schema only add to them).
fn builtin_default_privileges(d: &DefaultPrivileges) -> DefaultPrivileges {
    let public = |privilege: &str| Grant {
        grantee: "PUBLIC".into(),
        privilege: privilege.into(),
        grantable: false,
    };
    let grants = match (d.schema.is_empty(), d.object_type.as_str()) {
        (true, "FUNCTIONS") => [public("EXECUTE")].into(),
        (true, "TYPES") => [public("USAGE")].into(),
        _ => Default::default(),
    };
    DefaultPrivileges { grants, ..d.clone() }
}

/// The privileges an object that started with `start` has after the GRANT
/// and REVOKE statements that take `from` to `to` (as `sql` writes them:
/// a GRANT without GRANT OPTION keeps an option already held, a REVOKE of
/// something not held does nothing).
fn after_grants(start: &Acl, from: &Acl, to: &Acl) -> Acl {
    let state = |acl: &Acl| -> BTreeMap<(String, String), bool> {
        acl.iter()
            .map(|g| ((g.grantee.clone(), g.privilege.clone()), g.grantable))
            .collect()
    };
    let (mut now, before, after) = (state(start), state(from), state(to));
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    for key in keys {
        match (before.get(key), after.get(key)) {
            (None, Some(false)) => {
                now.entry(key.clone()).or_insert(false);
            }
            (None, Some(true)) | (Some(false), Some(true)) => {
                now.insert(key.clone(), true);
            }
            (Some(_), None) => {
                now.remove(key);
            }
            (Some(true), Some(false)) => {
                if let Some(grantable) = now.get_mut(key) {
                    *grantable = false;
                }
            }
            _ => {}
        }
    }
    now.into_iter()
        .map(|((grantee, privilege), grantable)| Grant {
            grantee,
            privilege,
            grantable,
        })
        .collect()
}
