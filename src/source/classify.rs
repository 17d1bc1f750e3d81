//! What one desired statement is: a schema definition converge accepts (with
//! the names it creates and the names it needs), or something it refuses, and
//! why.
//!
//! Names are resolved the way the shadow load resolves them: an unqualified
//! name means `public`. The names found here only order the statements and
//! point messages at their source; the shadow database, not this module,
//! decides what the statements mean.

use crate::catalog::{ObjectId, QualifiedName};
use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A name in one of PostgreSQL's namespaces, as statements create and use them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Key {
    Schema(String),
    Extension(String),
    /// Tables, sequences, indexes and views share one namespace per schema.
    Relation(QualifiedName),
    /// Types, including the row type of every table.
    Type(QualifiedName),
    /// The unique indexes of a table, which foreign keys to it need.
    UniqueIndexOn(QualifiedName),
    /// Everything statements add to a table after creating it (indexes,
    /// constraints, comments), which `CREATE TABLE ... (LIKE it ...)` copies.
    Details(QualifiedName),
    /// Every overload of a function or procedure name.
    Function(QualifiedName),
    Collation(QualifiedName),
}

/// An accepted statement's role in the desired state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementInfo {
    /// Orders statements that do not depend on each other: schemas first,
    /// comments last.
    pub phase: u8,
    pub creates: Vec<Key>,
    pub references: Vec<Key>,
    /// The objects this statement defines, to point plan steps at it.
    pub defines: Vec<ObjectId>,
    /// The object a `COMMENT ON` statement sets the comment of.
    pub comments_on: Option<ObjectId>,
    /// Objects this statement creates from an expression, with the SQL that
    /// creates them as written (filled in by `source::definitions`).
    pub source_sql: Vec<(ObjectId, String)>,
    /// `ALTER DEFAULT PRIVILEGES`, which applies to what is created after it.
    pub is_default_privileges: bool,
    /// Tables the statement names only as the target of a foreign key
    /// (also in `references`, as the relation and its unique indexes).
    pub foreign_key_targets: Vec<QualifiedName>,
    /// Relations (tables, views, sequences) whose privileges a `GRANT` or
    /// `REVOKE` sets.
    pub privileges_on: Vec<QualifiedName>,
}

/// Why a statement is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a schema definition at all (data, transaction control, settings).
    NotSchema { what: String, help: String },
    /// A schema definition converge does not manage yet.
    Unsupported { what: String, help: String },
}

pub fn classify(node: &NodeEnum) -> Result<StatementInfo, Refusal> {
    use NodeEnum as N;
    let mut info = match node {
        N::CreateSchemaStmt(s) => {
            if !s.schema_elts.is_empty() {
                return Err(unsupported(
                    "CREATE SCHEMA with embedded objects",
                    "write CREATE SCHEMA alone and each object as its own statement",
                ));
            }
            StatementInfo {
                phase: 0,
                creates: vec![Key::Schema(s.schemaname.clone())],
                defines: vec![ObjectId::Schema(s.schemaname.clone())],
                ..Default::default()
            }
        }
        N::CreateExtensionStmt(s) => StatementInfo {
            phase: 1,
            creates: vec![Key::Extension(s.extname.clone())],
            defines: vec![ObjectId::Extension(s.extname.clone())],
            references: option_string(node, "schema").map(Key::Schema).into_iter().collect(),
            ..Default::default()
        },
        N::CreateEnumStmt(s) => {
            let q = qualified(&strings(&s.type_name));
            StatementInfo {
                phase: 2,
                creates: vec![Key::Type(q.clone())],
                defines: vec![ObjectId::Type(q)],
                ..Default::default()
            }
        }
        N::AlterEnumStmt(s) => {
            let q = qualified(&strings(&s.type_name));
            StatementInfo {
                phase: 3,
                defines: vec![ObjectId::Type(q)],
                ..Default::default()
            }
        }
        N::CreateSeqStmt(s) => {
            let q = range_var(s.sequence.as_ref());
            let mut info = StatementInfo {
                phase: 3,
                creates: vec![Key::Relation(q.clone())],
                defines: vec![ObjectId::Sequence(q.clone())],
                ..Default::default()
            };
            if let Some(owner) = owned_by(node) {
                info.references.push(Key::Relation(owner));
                info.defines.push(ObjectId::SequenceOwner(q));
            }
            info
        }
        N::AlterSeqStmt(s) => {
            let q = range_var(s.sequence.as_ref());
            let mut info = StatementInfo {
                phase: 7,
                defines: vec![ObjectId::Sequence(q.clone())],
                ..Default::default()
            };
            if let Some(owner) = owned_by(node) {
                info.references.push(Key::Relation(owner));
                info.defines.insert(0, ObjectId::SequenceOwner(q));
            }
            info
        }
        N::CreateStmt(s) => create_table(s)?,
        N::AlterTableStmt(s) => alter_table(s)?,
        N::IndexStmt(s) => {
            let table = range_var(s.relation.as_ref());
            let mut info = StatementInfo {
                phase: 6,
                ..Default::default()
            };
            if !s.idxname.is_empty() {
                let q = QualifiedName::new(table.schema.clone(), s.idxname.clone());
                info.creates.push(Key::Relation(q.clone()));
                info.defines.push(ObjectId::Index(q));
            }
            if s.unique {
                info.creates.push(Key::UniqueIndexOn(table.clone()));
            }
            info.creates.push(Key::Details(table));
            if s.concurrent {
                return Err(not_schema(
                    "CREATE INDEX CONCURRENTLY",
                    "write CREATE INDEX; how an index is built is decided when applying (see --online in the README)",
                ));
            }
            info
        }
        N::CommentStmt(s) => comment(s)?,
        N::ViewStmt(s) => {
            let q = range_var(s.view.as_ref());
            StatementInfo {
                phase: 7,
                creates: vec![Key::Relation(q.clone()), Key::Type(q.clone())],
                defines: vec![ObjectId::View(q)],
                ..Default::default()
            }
        }
        N::CreateTableAsStmt(s) => {
            if s.objtype != ObjectType::ObjectMatview as i32 {
                return Err(not_schema(
                    "CREATE TABLE ... AS",
                    "define the table with CREATE TABLE; its rows are data, not schema",
                ));
            }
            let q = range_var(s.into.as_ref().and_then(|i| i.rel.as_ref()));
            StatementInfo {
                phase: 7,
                creates: vec![Key::Relation(q.clone()), Key::Type(q.clone())],
                defines: vec![ObjectId::MaterializedView(q)],
                ..Default::default()
            }
        }
        N::RefreshMatViewStmt(_) => {
            return Err(not_schema(
                "REFRESH MATERIALIZED VIEW",
                "remove it; converge creates materialized views WITH DATA unless they say WITH NO DATA",
            ));
        }
        N::CreateFunctionStmt(s) => {
            let q = qualified(&strings(&s.funcname));
            StatementInfo {
                phase: 3,
                creates: vec![Key::Function(q.clone())],
                defines: vec![ObjectId::Function(q, String::new())],
                ..Default::default()
            }
        }
        N::AlterFunctionStmt(s) => {
            let q = s
                .func
                .as_ref()
                .map(|f| qualified(&strings(&f.objname)))
                .unwrap_or_default();
            StatementInfo {
                phase: 10,
                references: vec![Key::Function(q)],
                ..Default::default()
            }
        }
        N::CreateTrigStmt(s) => {
            let table = range_var(s.relation.as_ref());
            let function = qualified(&strings(&s.funcname));
            StatementInfo {
                phase: 8,
                references: vec![Key::Function(function)],
                defines: vec![ObjectId::Trigger(table, s.trigname.clone())],
                ..Default::default()
            }
        }
        N::CreateDomainStmt(s) => {
            let q = qualified(&strings(&s.domainname));
            StatementInfo {
                phase: 2,
                creates: vec![Key::Type(q.clone())],
                defines: vec![ObjectId::Type(q)],
                ..Default::default()
            }
        }
        N::AlterDomainStmt(s) => {
            let q = qualified(&strings(&s.type_name));
            StatementInfo {
                phase: 3,
                references: vec![Key::Type(q.clone())],
                defines: vec![ObjectId::Type(q)],
                ..Default::default()
            }
        }
        N::CompositeTypeStmt(s) => {
            let q = range_var(s.typevar.as_ref());
            StatementInfo {
                phase: 2,
                creates: vec![Key::Type(q.clone()), Key::Relation(q.clone())],
                defines: vec![ObjectId::Type(q)],
                ..Default::default()
            }
        }
        N::CreateRangeStmt(s) => {
            let q = qualified(&strings(&s.type_name));
            let json = serde_json::to_value(node).unwrap_or_default();
            let functions = ["canonical", "subtype_diff"]
                .iter()
                .filter_map(|option| find_def_elem(&json, option))
                .map(|arg| {
                    let mut parts = Vec::new();
                    collect_strings(arg, &mut parts);
                    Key::Function(qualified(&parts))
                })
                .collect();
            let mut creates = vec![Key::Type(q.clone())];
            if let Some(arg) = find_def_elem(&json, "multirange_type_name") {
                let mut parts = Vec::new();
                collect_strings(arg, &mut parts);
                creates.push(Key::Type(qualified(&parts)));
            }
            StatementInfo {
                phase: 4,
                creates,
                references: functions,
                defines: vec![ObjectId::Type(q)],
                ..Default::default()
            }
        }
        N::DefineStmt(s) if s.kind == ObjectType::ObjectCollation as i32 => {
            let q = qualified(&strings(&s.defnames));
            StatementInfo {
                phase: 1,
                creates: vec![Key::Collation(q.clone())],
                defines: vec![ObjectId::Collation(q)],
                ..Default::default()
            }
        }
        N::DefineStmt(s) if s.kind == ObjectType::ObjectAggregate as i32 => {
            let q = qualified(&strings(&s.defnames));
            StatementInfo {
                phase: 4,
                creates: vec![Key::Function(q.clone())],
                references: aggregate_functions(node).into_iter().map(Key::Function).collect(),
                defines: vec![ObjectId::Aggregate(q, String::new())],
                ..Default::default()
            }
        }
        N::CreatePolicyStmt(s) => {
            let table = range_var(s.table.as_ref());
            StatementInfo {
                phase: 8,
                defines: vec![ObjectId::Policy(table, s.policy_name.clone())],
                ..Default::default()
            }
        }
        N::AlterPolicyStmt(s) => {
            let table = range_var(s.table.as_ref());
            StatementInfo {
                phase: 9,
                defines: vec![ObjectId::Policy(table, s.policy_name.clone())],
                ..Default::default()
            }
        }
        N::GrantStmt(g) => StatementInfo {
            phase: 10,
            privileges_on: granted_relations(g),
            ..Default::default()
        },
        N::AlterOwnerStmt(_) => StatementInfo {
            phase: 10,
            ..Default::default()
        },
        N::AlterDefaultPrivilegesStmt(_) => {
            let json = serde_json::to_value(node).unwrap_or_default();
            let schemas = find_def_elem(&json, "schemas")
                .map(|arg| {
                    let mut names = Vec::new();
                    collect_strings(arg, &mut names);
                    names.into_iter().map(Key::Schema).collect()
                })
                .unwrap_or_default();
            StatementInfo {
                phase: 1,
                references: schemas,
                is_default_privileges: true,
                ..Default::default()
            }
        }
        other => return Err(refuse(other)),
    };
    let mut refs = Vec::new();
    let mut targets = Vec::new();
    // Safe to serialize: plain generated data.
    if let Ok(json) = serde_json::to_value(node) {
        collect_references(&json, &mut refs, &mut targets);
    }
    targets.sort();
    targets.dedup();
    for q in targets {
        let relation = Key::Relation(q.clone());
        if !refs.contains(&relation) && !info.references.contains(&relation) {
            info.foreign_key_targets.push(q);
        }
        refs.push(relation);
    }
    info.references.extend(refs);
    // `SFUNC = name` parses as a type name: it names a function.
    for function in aggregate_functions(node) {
        info.references.retain(|r| *r != Key::Type(function.clone()));
    }
    info.references.sort();
    info.references.dedup();
    let creates = info.creates.clone();
    info.references.retain(|r| match r {
        // A table's foreign key to itself uses the keys the table declares.
        Key::UniqueIndexOn(q) => !creates.contains(&Key::Relation(q.clone())) && !creates.contains(r),
        _ => !creates.contains(r),
    });
    info.foreign_key_targets
        .retain(|q| !creates.contains(&Key::Relation(q.clone())));
    Ok(info)
}

fn create_table(s: &pg_query::protobuf::CreateStmt) -> Result<StatementInfo, Refusal> {
    let q = range_var(s.relation.as_ref());
    let persistence = s.relation.as_ref().map(|r| r.relpersistence.as_str()).unwrap_or("p");
    if persistence == "t" {
        return Err(not_schema(
            "CREATE TEMPORARY TABLE",
            "temporary tables live for one session; define a permanent table or remove the statement",
        ));
    }
    if s.of_typename.is_some() {
        return Err(unsupported(
            "typed tables (CREATE TABLE ... OF type)",
            "list the columns instead",
        ));
    }
    if !s.tablespacename.is_empty() || !(s.access_method.is_empty() || s.access_method == "heap") {
        return Err(unsupported(
            "tablespaces and table access methods other than heap",
            "define the table without TABLESPACE or USING",
        ));
    }
    let mut info = StatementInfo {
        phase: 4,
        creates: vec![Key::Relation(q.clone()), Key::Type(q.clone())],
        defines: vec![ObjectId::Table(q.clone())],
        ..Default::default()
    };
    for elt in s.table_elts.iter().chain(s.constraints.iter()) {
        match elt.node.as_ref() {
            Some(NodeEnum::ColumnDef(c)) => {
                info.defines.push(ObjectId::Column(q.clone(), c.colname.clone()));
                for con in &c.constraints {
                    if let Some(NodeEnum::Constraint(con)) = con.node.as_ref()
                        && !con.conname.is_empty()
                    {
                        info.defines.push(ObjectId::Constraint(q.clone(), con.conname.clone()));
                    }
                }
            }
            Some(NodeEnum::Constraint(con)) if !con.conname.is_empty() => {
                info.defines.push(ObjectId::Constraint(q.clone(), con.conname.clone()));
                if is_key_constraint(con) {
                    info.creates
                        .push(Key::Relation(QualifiedName::new(q.schema.clone(), con.conname.clone())));
                }
            }
            Some(NodeEnum::TableLikeClause(like)) => {
                info.references.push(Key::Details(range_var(like.relation.as_ref())));
            }
            _ => {}
        }
    }
    // INHERITS takes the parents' columns and checks as they are then, so
    // the parents' own ALTER TABLE statements come first.
    if s.partbound.is_none() {
        for parent in &s.inh_relations {
            if let Some(NodeEnum::RangeVar(r)) = parent.node.as_ref() {
                info.references.push(Key::Details(range_var(Some(r))));
            }
        }
    }
    Ok(info)
}

fn alter_table(s: &pg_query::protobuf::AlterTableStmt) -> Result<StatementInfo, Refusal> {
    if s.objtype == ObjectType::ObjectIndex as i32 {
        return attach_index(s);
    }
    let on_table = s.objtype == ObjectType::ObjectTable as i32;
    let on_view = s.objtype == ObjectType::ObjectView as i32
        || s.objtype == ObjectType::ObjectMatview as i32
        || s.objtype == ObjectType::ObjectSequence as i32;
    if !on_table && !on_view {
        return Err(unsupported(
            "ALTER on this kind of object",
            "define the object's final state in its CREATE statement",
        ));
    }
    let q = range_var(s.relation.as_ref());
    let mut info = StatementInfo {
        phase: if on_view { 10 } else { 5 },
        ..Default::default()
    };
    for cmd in &s.cmds {
        let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
            continue;
        };
        use AlterTableType as A;
        let subtype = A::try_from(cmd.subtype).unwrap_or(A::Undefined);
        match subtype {
            A::AtAddColumn => {
                if let Some(NodeEnum::ColumnDef(c)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
                    info.defines.push(ObjectId::Column(q.clone(), c.colname.clone()));
                }
            }
            A::AtAddConstraint => {
                if let Some(NodeEnum::Constraint(c)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
                    if !c.conname.is_empty() {
                        info.defines.push(ObjectId::Constraint(q.clone(), c.conname.clone()));
                        // (USING INDEX takes over an index that has the name already.)
                        if is_key_constraint(c) && c.indexname.is_empty() {
                            info.creates
                                .push(Key::Relation(QualifiedName::new(q.schema.clone(), c.conname.clone())));
                        }
                    }
                    // PRIMARY KEY / UNIQUE USING INDEX needs that index first.
                    if !c.indexname.is_empty() {
                        info.references
                            .push(Key::Relation(QualifiedName::new(q.schema.clone(), c.indexname.clone())));
                    }
                }
            }
            A::AtColumnDefault
            | A::AtDropNotNull
            | A::AtSetNotNull
            | A::AtAlterColumnType
            | A::AtAddIdentity
            | A::AtSetIdentity
            | A::AtDropIdentity
            | A::AtDropExpression
            | A::AtAlterConstraint
            | A::AtValidateConstraint => {
                if !cmd.name.is_empty() {
                    info.defines.push(ObjectId::Column(q.clone(), cmd.name.clone()));
                }
            }
            A::AtSetStorage | A::AtSetCompression | A::AtSetStatistics => {
                if !cmd.name.is_empty() {
                    info.defines.push(ObjectId::Column(q.clone(), cmd.name.clone()));
                }
            }
            A::AtChangeOwner => info.phase = 10,
            A::AtEnableTrig
            | A::AtEnableAlwaysTrig
            | A::AtEnableReplicaTrig
            | A::AtDisableTrig
            | A::AtEnableTrigAll
            | A::AtDisableTrigAll
            | A::AtEnableTrigUser
            | A::AtDisableTrigUser => info.phase = 9,
            A::AtEnableRowSecurity
            | A::AtDisableRowSecurity
            | A::AtForceRowSecurity
            | A::AtNoForceRowSecurity
            | A::AtSetRelOptions
            | A::AtResetRelOptions
            | A::AtReplaceRelOptions
            | A::AtSetLogged
            | A::AtSetUnLogged
            | A::AtAttachPartition
            | A::AtAddInherit
            | A::AtSetOptions
            | A::AtResetOptions => {}
            A::AtReplicaIdentity => {
                if let Some(NodeEnum::ReplicaIdentityStmt(r)) = cmd.def.as_ref().and_then(|d| d.node.as_ref())
                    && !r.name.is_empty()
                {
                    info.references
                        .push(Key::Relation(QualifiedName::new(q.schema.clone(), r.name.clone())));
                }
            }
            A::AtDropColumn
            | A::AtDropConstraint
            | A::AtDetachPartition
            | A::AtDetachPartitionFinalize
            | A::AtDropInherit => {
                return Err(not_schema(
                    "ALTER TABLE ... DROP / DETACH / NO INHERIT",
                    "to drop a column, constraint, partition or parent, remove it from its CREATE statement",
                ));
            }
            _ => {
                return Err(unsupported(
                    "this ALTER TABLE action",
                    "see the README for the table attributes converge manages",
                ));
            }
        }
    }
    info.creates.push(Key::Details(q.clone()));
    info.defines.push(ObjectId::Table(q));
    Ok(info)
}

/// `ALTER INDEX parent ATTACH PARTITION child` (as pg_dump writes a
/// partitioned index): it needs both indexes; the shadow records the
/// attachment, which is part of the parent index's definition.
fn attach_index(s: &pg_query::protobuf::AlterTableStmt) -> Result<StatementInfo, Refusal> {
    let parent = range_var(s.relation.as_ref());
    let mut info = StatementInfo {
        phase: 7,
        references: vec![Key::Relation(parent)],
        ..Default::default()
    };
    for cmd in &s.cmds {
        let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
            continue;
        };
        let attach = AlterTableType::try_from(cmd.subtype) == Ok(AlterTableType::AtAttachPartition);
        match cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
            Some(NodeEnum::PartitionCmd(p)) if attach => {
                info.references.push(Key::Relation(range_var(p.name.as_ref())));
            }
            _ => {
                return Err(unsupported(
                    "ALTER INDEX other than ATTACH PARTITION",
                    "define the index's final state in its CREATE INDEX statement",
                ));
            }
        }
    }
    Ok(info)
}

fn comment(s: &pg_query::protobuf::CommentStmt) -> Result<StatementInfo, Refusal> {
    let names = s
        .object
        .as_ref()
        .and_then(|o| serde_json::to_value(o.as_ref()).ok())
        .map(|v| {
            let mut out = Vec::new();
            collect_strings(&v, &mut out);
            out
        })
        .unwrap_or_default();
    let kind = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    let target = match kind {
        ObjectType::ObjectSchema => names.first().map(|n| ObjectId::Schema(n.clone())),
        ObjectType::ObjectExtension => names.first().map(|n| ObjectId::Extension(n.clone())),
        ObjectType::ObjectTable => Some(ObjectId::Table(qualified(&names))),
        ObjectType::ObjectSequence => Some(ObjectId::Sequence(qualified(&names))),
        ObjectType::ObjectIndex => Some(ObjectId::Index(qualified(&names))),
        ObjectType::ObjectType => Some(ObjectId::Type(qualified(&names))),
        ObjectType::ObjectView => Some(ObjectId::View(qualified(&names))),
        ObjectType::ObjectMatview => Some(ObjectId::MaterializedView(qualified(&names))),
        ObjectType::ObjectDomain => Some(ObjectId::Type(qualified(&names))),
        ObjectType::ObjectCollation => Some(ObjectId::Collation(qualified(&names))),
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            let name = match s.object.as_ref().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::ObjectWithArgs(f)) => qualified(&strings(&f.objname)),
                _ => qualified(&names),
            };
            Some(ObjectId::Function(name, String::new()))
        }
        ObjectType::ObjectAggregate => {
            let name = match s.object.as_ref().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::ObjectWithArgs(f)) => qualified(&strings(&f.objname)),
                _ => qualified(&names),
            };
            Some(ObjectId::Aggregate(name, String::new()))
        }
        ObjectType::ObjectDomconstraint => {
            let domain = match s.object.as_ref().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::List(l)) => l
                    .items
                    .first()
                    .and_then(|n| serde_json::to_value(n).ok())
                    .map(|v| {
                        let mut out = Vec::new();
                        collect_strings(&v, &mut out);
                        qualified(&out)
                    })
                    .unwrap_or_default(),
                _ => qualified(&names),
            };
            Some(ObjectId::Type(domain))
        }
        ObjectType::ObjectColumn
        | ObjectType::ObjectTabconstraint
        | ObjectType::ObjectTrigger
        | ObjectType::ObjectPolicy => {
            let (last, table) = names
                .split_last()
                .map(|(l, t)| (l.clone(), t.to_vec()))
                .unwrap_or_default();
            let table = qualified(&table);
            Some(match kind {
                ObjectType::ObjectColumn => ObjectId::Column(table, last),
                ObjectType::ObjectTrigger => ObjectId::Trigger(table, last),
                ObjectType::ObjectPolicy => ObjectId::Policy(table, last),
                _ => ObjectId::Constraint(table, last),
            })
        }
        _ => {
            return Err(unsupported(
                "COMMENT ON this kind of object",
                "see the README for the object kinds converge manages",
            ));
        }
    };
    let mut info = StatementInfo {
        phase: 9,
        comments_on: target.clone(),
        ..Default::default()
    };
    if let Some(t) = &target {
        info.references.push(match t {
            ObjectId::Schema(s) => Key::Schema(s.clone()),
            ObjectId::Extension(e) => Key::Extension(e.clone()),
            ObjectId::Type(q) => Key::Type(q.clone()),
            ObjectId::Table(q) | ObjectId::Sequence(q) | ObjectId::Index(q) => Key::Relation(q.clone()),
            ObjectId::Column(q, _)
            | ObjectId::Constraint(q, _)
            | ObjectId::Trigger(q, _)
            | ObjectId::Policy(q, _)
            | ObjectId::View(q)
            | ObjectId::MaterializedView(q)
            | ObjectId::SequenceOwner(q) => Key::Relation(q.clone()),
            ObjectId::Function(q, _) | ObjectId::Aggregate(q, _) => Key::Function(q.clone()),
            ObjectId::Collation(q) => Key::Collation(q.clone()),
            ObjectId::DefaultPrivileges(..) => Key::Schema(String::new()),
        });
        if let Some(table) = t.table() {
            info.creates.push(Key::Details(table.clone()));
        }
    }
    Ok(info)
}

/// The refusal for a statement kind converge does not accept.
fn refuse(node: &NodeEnum) -> Refusal {
    use NodeEnum as N;
    let data = "keep data changes in a data migration or a seed script; desired files hold only schema definitions";
    match node {
        N::InsertStmt(_) => not_schema("INSERT", data),
        N::UpdateStmt(_) => not_schema("UPDATE", data),
        N::DeleteStmt(_) => not_schema("DELETE", data),
        N::MergeStmt(_) => not_schema("MERGE", data),
        N::CopyStmt(_) => not_schema("COPY", data),
        N::TruncateStmt(_) => not_schema("TRUNCATE", data),
        N::SelectStmt(_) => not_schema("SELECT", "remove it; desired files hold only schema definitions"),
        N::TransactionStmt(_) => not_schema(
            "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT)",
            "remove it; converge applies the whole change in one transaction itself",
        ),
        N::VariableSetStmt(_) | N::VariableShowStmt(_) => not_schema(
            "SET",
            "remove it; desired statements are loaded with the default settings (unqualified names mean public)",
        ),
        N::DropStmt(_) => not_schema(
            "DROP",
            "the desired files say what should exist; to drop an object, delete its CREATE statement",
        ),
        N::RenameStmt(_) => not_schema("RENAME", "write the object under its new name in its CREATE statement"),
        N::DoStmt(_) | N::CallStmt(_) => not_schema(
            "DO / CALL",
            "remove it; desired files hold only schema definitions, which converge runs itself",
        ),
        N::ExplainStmt(_)
        | N::VacuumStmt(_)
        | N::LockStmt(_)
        | N::CheckPointStmt(_)
        | N::NotifyStmt(_)
        | N::ListenStmt(_)
        | N::ClusterStmt(_)
        | N::ReindexStmt(_)
        | N::DiscardStmt(_) => not_schema(
            "this statement",
            "remove it; desired files hold only schema definitions",
        ),
        N::CreateRoleStmt(_) | N::AlterRoleStmt(_) | N::DropRoleStmt(_) | N::CreatedbStmt(_) | N::DropdbStmt(_) => {
            not_schema(
                "roles and databases",
                "they belong to the whole server, not to one database's schema; manage them outside converge",
            )
        }
        N::ViewStmt(_) => unsupported("views", "views arrive in a later converge release"),
        N::CreateTableAsStmt(_) => unsupported(
            "materialized views and CREATE TABLE AS",
            "define the table with CREATE TABLE",
        ),
        N::CreateFunctionStmt(_) => unsupported(
            "functions and procedures",
            "functions arrive in a later converge release",
        ),
        N::CreateTrigStmt(_) => unsupported("triggers", "triggers arrive in a later converge release"),
        N::CreateDomainStmt(_) => unsupported("domains", "use the domain's base type and a CHECK constraint for now"),
        N::CompositeTypeStmt(_) | N::CreateRangeStmt(_) => {
            unsupported("composite and range types", "only enum types are managed for now")
        }
        N::CreatePolicyStmt(_) => unsupported(
            "row-level security policies",
            "policies arrive in a later converge release",
        ),
        N::GrantStmt(_) | N::GrantRoleStmt(_) | N::AlterDefaultPrivilegesStmt(_) => unsupported(
            "privileges (GRANT, REVOKE)",
            "privileges arrive in a later converge release",
        ),
        N::AlterOwnerStmt(_) => unsupported("ownership (OWNER TO)", "ownership arrives in a later converge release"),
        _ => unsupported(
            "this kind of statement",
            "see the README for the object kinds converge manages",
        ),
    }
}

/// The relations a `GRANT` or `REVOKE` names (none when it is about other
/// kinds of object, or about all tables of a schema).
fn granted_relations(g: &pg_query::protobuf::GrantStmt) -> Vec<QualifiedName> {
    use pg_query::protobuf::GrantTargetType;
    let relations = g.objtype == ObjectType::ObjectTable as i32 || g.objtype == ObjectType::ObjectSequence as i32;
    if !relations || g.targtype != GrantTargetType::AclTargetObject as i32 {
        return Vec::new();
    }
    g.objects
        .iter()
        .filter_map(|o| match o.node.as_ref() {
            Some(NodeEnum::RangeVar(r)) => Some(range_var(Some(r))),
            _ => None,
        })
        .collect()
}

/// The support functions a `CREATE AGGREGATE` names (none for other
/// statements).
fn aggregate_functions(node: &NodeEnum) -> Vec<QualifiedName> {
    const OPTIONS: [&str; 8] = [
        "sfunc",
        "finalfunc",
        "combinefunc",
        "serialfunc",
        "deserialfunc",
        "msfunc",
        "minvfunc",
        "mfinalfunc",
    ];
    let NodeEnum::DefineStmt(s) = node else {
        return Vec::new();
    };
    if s.kind != ObjectType::ObjectAggregate as i32 {
        return Vec::new();
    }
    let json = serde_json::to_value(node).unwrap_or_default();
    OPTIONS
        .iter()
        .filter_map(|option| find_def_elem(&json, option))
        .map(|arg| {
            let mut parts = Vec::new();
            collect_strings(arg, &mut parts);
            qualified(&parts)
        })
        .collect()
}

/// Primary key, unique and exclusion constraints have an index of their name.
fn is_key_constraint(c: &pg_query::protobuf::Constraint) -> bool {
    use pg_query::protobuf::ConstrType as C;
    [
        C::ConstrPrimary as i32,
        C::ConstrUnique as i32,
        C::ConstrExclusion as i32,
    ]
    .contains(&c.contype)
}

fn not_schema(what: &str, help: &str) -> Refusal {
    Refusal::NotSchema {
        what: what.into(),
        help: help.into(),
    }
}

fn unsupported(what: &str, help: &str) -> Refusal {
    Refusal::Unsupported {
        what: what.into(),
        help: help.into(),
    }
}

fn range_var(r: Option<&pg_query::protobuf::RangeVar>) -> QualifiedName {
    match r {
        Some(r) => QualifiedName::new(
            if r.schemaname.is_empty() {
                "public"
            } else {
                r.schemaname.as_str()
            },
            r.relname.clone(),
        ),
        None => QualifiedName::new("public", ""),
    }
}

/// `[name]` or `[schema, name]` (longer lists keep their last two parts).
fn qualified(names: &[String]) -> QualifiedName {
    match names {
        [] => QualifiedName::new("public", ""),
        [name] => QualifiedName::new("public", name.clone()),
        [.., schema, name] => QualifiedName::new(schema.clone(), name.clone()),
    }
}

fn strings(nodes: &[pg_query::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// Every string value (`{"sval": ...}`) inside a JSON tree, in order.
fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(s)) = map.get("sval") {
                out.push(s.clone());
            }
            for (_, child) in map {
                collect_strings(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// The value of a `DefElem` option named `name` whose argument is a string.
fn option_string(node: &NodeEnum, name: &str) -> Option<String> {
    let json = serde_json::to_value(node).ok()?;
    find_def_elem(&json, name).and_then(|arg| {
        let mut out = Vec::new();
        collect_strings(arg, &mut out);
        out.into_iter().next()
    })
}

/// The table a sequence's `OWNED BY table.column` names.
fn owned_by(node: &NodeEnum) -> Option<QualifiedName> {
    let json = serde_json::to_value(node).ok()?;
    let arg = find_def_elem(&json, "owned_by")?;
    let mut parts = Vec::new();
    collect_strings(arg, &mut parts);
    // OWNED BY NONE is the single name "none"
    if parts.len() < 2 {
        return None;
    }
    parts.pop();
    Some(qualified(&parts))
}

fn find_def_elem<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Object(map) => {
            if map.get("defname").and_then(Value::as_str) == Some(name) {
                return map.get("arg");
            }
            map.values().find_map(|c| find_def_elem(c, name))
        }
        Value::Array(items) => items.iter().find_map(|c| find_def_elem(c, name)),
        _ => None,
    }
}

/// Finds the relations, types and schemas a statement's tree mentions.
///
/// The protobuf tree is walked as JSON, by shape: a `RangeVar` has `relname`,
/// a `TypeName` has `names` and `typemod`, a `FuncCall` has `funcname`. A
/// `nextval('name')` argument names a sequence. The table a foreign key
/// references (`pktable`) goes to `targets`, with its unique indexes and
/// schema to `out`.
fn collect_references(v: &Value, out: &mut Vec<Key>, targets: &mut Vec<QualifiedName>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(pk)) = map.get("pktable")
                && let (Some(Value::String(rel)), Some(Value::String(schema))) =
                    (pk.get("relname"), pk.get("schemaname"))
            {
                let schema = if schema.is_empty() { "public" } else { schema.as_str() };
                let q = QualifiedName::new(schema, rel.clone());
                out.push(Key::UniqueIndexOn(q.clone()));
                out.push(Key::Schema(q.schema.clone()));
                targets.push(q);
            }
            if let (Some(Value::String(rel)), Some(Value::String(schema))) = (map.get("relname"), map.get("schemaname"))
            {
                let schema = if schema.is_empty() { "public" } else { schema.as_str() };
                if !rel.is_empty() {
                    out.push(Key::Relation(QualifiedName::new(schema, rel.clone())));
                    out.push(Key::Schema(schema.to_string()));
                }
            } else if map.contains_key("typemod") {
                if let Some(names) = map.get("names") {
                    let mut parts = Vec::new();
                    collect_strings(names, &mut parts);
                    if parts.len() == 1 || parts.first().is_some_and(|s| s != "pg_catalog") {
                        let q = qualified(&parts);
                        out.push(Key::Schema(q.schema.clone()));
                        out.push(Key::Type(q));
                    }
                }
            } else if let Some(func) = map.get("funcname") {
                let mut parts = Vec::new();
                collect_strings(func, &mut parts);
                if parts.len() == 1 || parts.first().is_some_and(|s| s != "pg_catalog") {
                    out.push(Key::Function(qualified(&parts)));
                }
                if matches!(parts.last().map(String::as_str), Some("nextval" | "setval" | "currval"))
                    && let Some(args) = map.get("args")
                {
                    let mut consts = Vec::new();
                    collect_strings(args, &mut consts);
                    if let Some(name) = consts.first() {
                        let q = qualified(&split_qualified(name));
                        out.push(Key::Schema(q.schema.clone()));
                        out.push(Key::Relation(q));
                    }
                }
            }
            if let Some(coll) = map.get("collname") {
                let mut parts = Vec::new();
                collect_strings(coll, &mut parts);
                if parts.len() == 1 || parts.first().is_some_and(|s| s != "pg_catalog") {
                    out.push(Key::Collation(qualified(&parts)));
                }
            }
            for (key, child) in map {
                if key != "pktable" {
                    collect_references(child, out, targets);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_references(i, out, targets)),
        _ => {}
    }
}

/// Splits `schema.name` as PostgreSQL reads a regclass literal: unquoted
/// parts fold to lower case, `"quoted"` parts keep theirs.
fn split_qualified(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            c if quoted => current.push(c),
            c => current.extend(c.to_lowercase()),
        }
    }
    parts.push(current);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(sql: &str) -> Result<StatementInfo, Refusal> {
        let parsed = pg_query::parse(sql, 0).unwrap();
        let node = parsed.protobuf.stmts[0].stmt.as_ref().unwrap().node.clone().unwrap();
        classify(&node)
    }

    fn q(s: &str, n: &str) -> QualifiedName {
        QualifiedName::new(s, n)
    }

    #[test]
    fn create_table_creates_and_references() {
        let i = info(
            "create table app.orders (id bigint default nextval('app.\"Seq\"'), status app.status, \
             user_id int references users(id), constraint ok check (id > 0))",
        )
        .unwrap();
        assert!(i.creates.contains(&Key::Relation(q("app", "orders"))));
        assert!(i.references.contains(&Key::Relation(q("app", "Seq"))));
        assert!(i.references.contains(&Key::Type(q("app", "status"))));
        assert!(i.references.contains(&Key::Relation(q("public", "users"))));
        assert!(i.references.contains(&Key::Schema("app".into())));
        assert!(!i.references.contains(&Key::Relation(q("app", "orders"))));
        assert!(
            i.defines
                .contains(&ObjectId::Constraint(q("app", "orders"), "ok".into()))
        );
        assert!(
            i.defines
                .contains(&ObjectId::Column(q("app", "orders"), "status".into()))
        );
    }

    #[test]
    fn tables_named_only_by_foreign_keys_are_told_apart() {
        let i = info(
            "create table app.orders (id int primary key, user_id int references users(id), \
             parent_id int references app.orders(id), shop_id int references shops(id), \
             check (shop_id > 0), like shops)",
        )
        .unwrap();
        assert_eq!(i.foreign_key_targets, vec![q("public", "users")]);
        assert!(i.references.contains(&Key::Relation(q("public", "users"))));
        assert!(i.references.contains(&Key::UniqueIndexOn(q("public", "users"))));
        let alter = info("alter table a add constraint a_b foreign key (b_id) references s.b (id)").unwrap();
        assert_eq!(alter.foreign_key_targets, vec![q("s", "b")]);
        assert!(alter.references.contains(&Key::Relation(q("public", "a"))));
    }

    #[test]
    fn builtin_types_are_not_references() {
        let i = info("create table t (a int, b varchar(3), c timestamptz)").unwrap();
        assert!(
            i.references
                .iter()
                .all(|k| !matches!(k, Key::Type(t) if t.schema == "pg_catalog"))
        );
    }

    #[test]
    fn data_and_session_statements_are_refused() {
        for sql in [
            "insert into t values (1)",
            "begin",
            "set search_path = x",
            "drop table t",
            "copy t from stdin",
        ] {
            assert!(matches!(info(sql), Err(Refusal::NotSchema { .. })), "{sql}");
        }
        assert!(matches!(
            info("create rule r as on insert to t do nothing"),
            Err(Refusal::Unsupported { .. })
        ));
    }

    #[test]
    fn attaching_an_index_needs_both_indexes() {
        let i = info("alter index app.parent_idx attach partition app.child_idx").unwrap();
        assert_eq!(
            i.references,
            vec![
                Key::Schema("app".into()),
                Key::Relation(q("app", "child_idx")),
                Key::Relation(q("app", "parent_idx")),
            ]
        );
        assert!(i.creates.is_empty());
        assert!(matches!(
            info("alter index app.parent_idx set (fillfactor = 70)"),
            Err(Refusal::Unsupported { .. })
        ));
    }

    #[test]
    fn comments_name_their_object() {
        let i = info("comment on column app.t.c is 'x'").unwrap();
        assert_eq!(i.comments_on, Some(ObjectId::Column(q("app", "t"), "c".into())));
        let i = info("comment on constraint ck on t is 'x'").unwrap();
        assert_eq!(i.comments_on, Some(ObjectId::Constraint(q("public", "t"), "ck".into())));
    }

    #[test]
    fn aggregates_need_their_support_functions() {
        let i = info(
            "create aggregate app.total(numeric) (sfunc = app.add, stype = numeric, \
             finalfunc = fin, combinefunc = app.add, initcond = '0')",
        )
        .unwrap();
        assert_eq!(i.creates, vec![Key::Function(q("app", "total"))]);
        assert_eq!(i.defines, vec![ObjectId::Aggregate(q("app", "total"), String::new())]);
        assert!(i.references.contains(&Key::Function(q("app", "add"))));
        assert!(i.references.contains(&Key::Function(q("public", "fin"))));
        assert!(!i.references.contains(&Key::Type(q("app", "add"))));
        let i = info("comment on aggregate app.total(numeric) is 'x'").unwrap();
        assert_eq!(
            i.comments_on,
            Some(ObjectId::Aggregate(q("app", "total"), String::new()))
        );
        assert!(matches!(
            info("create operator app.=== (function = app.eq, leftarg = int, rightarg = int)"),
            Err(Refusal::Unsupported { .. })
        ));
    }

    #[test]
    fn regclass_literals_fold_case_like_postgres() {
        assert_eq!(split_qualified("App.\"My\"\"Seq\""), vec!["app", "My\"Seq"]);
    }
}
