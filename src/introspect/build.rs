//! Turning the introspection rows into a `Catalog`, and remembering which OID
//! is which object so `deps` can translate `pg_depend`.

use super::Rows;
use crate::catalog::*;
use crate::db::DbError;
// foldhash: these maps are keyed by OIDs and identities, hashed hundreds
// of thousands of times per catalog; SipHash's DoS resistance buys nothing.
use foldhash::HashMap;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

/// What an OID in `pg_class` is.
pub(crate) enum ClassObject {
    /// A table, view or composite type: sub-ids are its columns.
    WithColumns(ObjectId),
    Other(ObjectId),
}

/// OID → identity, per system catalog.
#[derive(Default)]
pub(crate) struct Oids {
    pub namespaces: HashMap<u32, String>,
    pub extensions: HashMap<u32, String>,
    pub types: HashMap<u32, ObjectId>,
    pub classes: HashMap<u32, ClassObject>,
    /// (relation oid, attnum) → column name.
    pub columns: HashMap<(u32, i16), String>,
    pub constraints: HashMap<u32, ObjectId>,
    pub attrdefs: HashMap<u32, ObjectId>,
    /// `pg_proc`: functions, procedures and aggregates.
    pub functions: HashMap<u32, ObjectId>,
    pub rewrites: HashMap<u32, ObjectId>,
    pub triggers: HashMap<u32, ObjectId>,
    pub policies: HashMap<u32, ObjectId>,
    pub collations: HashMap<u32, ObjectId>,
    /// (function, language, source text) of every function, for the
    /// references inside bodies that `pg_depend` does not record.
    pub bodies: Vec<(ObjectId, String, Option<String>)>,
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize, what: &str) -> Result<T, DbError> {
    row.try_get(index).map_err(|e| DbError::Query {
        context: format!("unexpected value in the {what} catalog query (column {index})"),
        message: e.to_string(),
    })
}

/// An ACL read as `grantee<TAB>privilege<TAB>t|f` lines.
fn acl(row: &Row, index: usize, what: &str) -> Result<Acl, DbError> {
    let items: Vec<String> = get(row, index, what)?;
    Ok(items
        .iter()
        .filter_map(|item| {
            let mut parts = item.split('\t');
            Some(Grant {
                grantee: parts.next()?.to_string(),
                privilege: parts.next()?.to_string(),
                grantable: parts.next()? == "t",
            })
        })
        .collect())
}

fn qname(row: &Row, schema: usize, name: usize, what: &str) -> Result<QualifiedName, DbError> {
    Ok(QualifiedName::new(
        get::<String>(row, schema, what)?,
        get::<String>(row, name, what)?,
    ))
}

fn json(row: &Row, index: usize, what: &str) -> Result<Vec<serde_json::Value>, DbError> {
    let text: String = get(row, index, what)?;
    serde_json::from_str(&text).map_err(|e| DbError::Query {
        context: format!("unexpected JSON in the {what} catalog query"),
        message: e.to_string(),
    })
}

fn json_str(v: &serde_json::Value, i: usize) -> Option<String> {
    v.get(i).and_then(|x| x.as_str()).map(str::to_string)
}

/// One row of `queries/aggregates.sql`.
fn aggregate(r: &Row) -> Result<Aggregate, DbError> {
    let what = "aggregate";
    Ok(Aggregate {
        name: qname(r, 1, 2, what)?,
        identity_arguments: get(r, 3, what)?,
        arguments: get(r, 4, what)?,
        result: get(r, 5, what)?,
        kind: match get::<String>(r, 6, what)?.as_str() {
            "o" => AggregateKind::OrderedSet,
            "h" => AggregateKind::Hypothetical,
            _ => AggregateKind::Normal,
        },
        sfunc: get(r, 7, what)?,
        stype: get(r, 8, what)?,
        sspace: get(r, 9, what)?,
        finalfunc: get(r, 10, what)?,
        finalfunc_extra: get(r, 11, what)?,
        finalfunc_modify: get(r, 12, what)?,
        combinefunc: get(r, 13, what)?,
        serialfunc: get(r, 14, what)?,
        deserialfunc: get(r, 15, what)?,
        initcond: get(r, 16, what)?,
        msfunc: get(r, 17, what)?,
        minvfunc: get(r, 18, what)?,
        mstype: get(r, 19, what)?,
        msspace: get(r, 20, what)?,
        mfinalfunc: get(r, 21, what)?,
        mfinalfunc_extra: get(r, 22, what)?,
        mfinalfunc_modify: get(r, 23, what)?,
        minitcond: get(r, 24, what)?,
        sortop: get(r, 25, what)?,
        parallel: get(r, 26, what)?,
        comment: get(r, 27, what)?,
        owner: get(r, 28, what)?,
        acl: acl(r, 29, what)?,
    })
}

/// `columns` gives the decoded rows of the columns query (`column_rows`),
/// which may be decoded on another thread meanwhile.
pub(crate) fn catalog(
    rows: &mut Rows,
    role: &str,
    columns: impl FnOnce() -> Result<Vec<RelationColumns>, DbError>,
) -> Result<(Catalog, Oids), DbError> {
    let mut c = Catalog::default();
    let mut oids = Oids::default();
    // The maps that take an entry per relation, type or constraint, sized
    // once (growing them rehashes every entry each time).
    let count = |names: &[&str]| names.iter().map(|n| rows.get(n).len()).sum::<usize>();
    oids.classes
        .reserve(count(&["composite types", "sequences", "tables", "views", "indexes"]));
    oids.types
        .reserve(2 * count(&["enum types", "domains", "composite types", "range types"]) + count(&["tables", "views"]));
    oids.constraints.reserve(count(&["constraints"]));

    for r in rows.get("schemas") {
        let (oid, name): (u32, String) = (get(r, 0, "schema")?, get(r, 1, "schema")?);
        oids.namespaces.insert(oid, name.clone());
        c.schemas.insert(
            name.clone(),
            Schema {
                name,
                comment: get(r, 2, "schema")?,
                owner: get(r, 3, "schema")?,
                acl: acl(r, 4, "schema")?,
            },
        );
    }
    for r in rows.get("extensions") {
        let (oid, name): (u32, String) = (get(r, 0, "extension")?, get(r, 1, "extension")?);
        oids.extensions.insert(oid, name.clone());
        c.extensions.insert(
            name.clone(),
            Extension {
                name,
                schema: get(r, 2, "extension")?,
                version: get(r, 3, "extension")?,
                comment: get(r, 4, "extension")?,
            },
        );
    }
    for r in rows.get("collations") {
        let q = qname(r, 1, 2, "collation")?;
        oids.collations
            .insert(get(r, 0, "collation")?, ObjectId::Collation(q.clone()));
        c.collations.insert(
            q.clone(),
            Collation {
                name: q,
                provider: get(r, 3, "collation")?,
                collate: get(r, 4, "collation")?,
                ctype: get(r, 5, "collation")?,
                locale: get(r, 6, "collation")?,
                deterministic: get(r, 7, "collation")?,
                comment: get(r, 8, "collation")?,
                owner: get(r, 9, "collation")?,
            },
        );
    }
    for r in rows.get("enum types") {
        let q = qname(r, 2, 3, "enum")?;
        oids.types.insert(get(r, 0, "enum")?, ObjectId::Type(q.clone()));
        oids.types.insert(get(r, 1, "enum")?, ObjectId::Type(q.clone()));
        c.enums.insert(
            q.clone(),
            EnumType {
                name: q,
                labels: get(r, 4, "enum")?,
                comment: get(r, 5, "enum")?,
                owner: get(r, 6, "enum")?,
                acl: acl(r, 7, "enum")?,
            },
        );
    }
    for r in rows.get("domains") {
        let q = qname(r, 2, 3, "domain")?;
        let id = ObjectId::Type(q.clone());
        oids.types.insert(get(r, 0, "domain")?, id.clone());
        oids.types.insert(get(r, 1, "domain")?, id.clone());
        let mut constraints = std::collections::BTreeMap::new();
        for v in json(r, 8, "domain")? {
            let name = json_str(&v, 0).unwrap_or_default();
            if let Some(oid) = v.get(4).and_then(|o| o.as_u64()) {
                oids.constraints.insert(oid as u32, id.clone());
            }
            constraints.insert(
                name.clone(),
                DomainConstraint {
                    name,
                    definition: json_str(&v, 1).unwrap_or_default(),
                    validated: v.get(2).and_then(|b| b.as_bool()).unwrap_or(true),
                    comment: json_str(&v, 3),
                },
            );
        }
        c.domains.insert(
            q.clone(),
            Domain {
                name: q,
                base_type: get(r, 4, "domain")?,
                collation: get(r, 5, "domain")?,
                default: get(r, 6, "domain")?,
                not_null: get(r, 7, "domain")?,
                constraints,
                comment: get(r, 9, "domain")?,
                owner: get(r, 10, "domain")?,
                acl: acl(r, 11, "domain")?,
            },
        );
    }
    for r in rows.get("composite types") {
        let q = qname(r, 3, 4, "composite type")?;
        let id = ObjectId::Type(q.clone());
        oids.types.insert(get(r, 0, "composite type")?, id.clone());
        oids.types.insert(get(r, 1, "composite type")?, id.clone());
        let class_oid: u32 = get(r, 2, "composite type")?;
        oids.classes.insert(class_oid, ClassObject::Other(id.clone()));
        let attributes = json(r, 5, "composite type")?
            .iter()
            .map(|v| CompositeAttribute {
                name: json_str(v, 0).unwrap_or_default(),
                data_type: json_str(v, 1).unwrap_or_default(),
                collation: json_str(v, 2),
                comment: json_str(v, 3),
            })
            .collect();
        c.composite_types.insert(
            q.clone(),
            CompositeType {
                name: q,
                attributes,
                comment: get(r, 6, "composite type")?,
                owner: get(r, 7, "composite type")?,
                acl: acl(r, 8, "composite type")?,
            },
        );
    }
    for r in rows.get("range types") {
        let q = qname(r, 2, 3, "range type")?;
        let id = ObjectId::Type(q.clone());
        oids.types.insert(get(r, 0, "range type")?, id.clone());
        oids.types.insert(get(r, 1, "range type")?, id.clone());
        if let Some(multi) = get::<Option<u32>>(r, 11, "range type")? {
            oids.types.insert(multi, id.clone());
        }
        let multirange = match (
            get::<Option<String>>(r, 9, "range type")?,
            get::<Option<String>>(r, 10, "range type")?,
        ) {
            (Some(s), Some(n)) => Some(QualifiedName::new(s, n)),
            _ => None,
        };
        c.range_types.insert(
            q.clone(),
            RangeType {
                name: q,
                subtype: get(r, 4, "range type")?,
                subtype_opclass: get(r, 5, "range type")?,
                collation: get(r, 6, "range type")?,
                canonical: get(r, 7, "range type")?,
                subtype_diff: get(r, 8, "range type")?,
                multirange,
                comment: get(r, 12, "range type")?,
                owner: get(r, 13, "range type")?,
                acl: acl(r, 14, "range type")?,
            },
        );
    }
    for r in rows.get("sequences") {
        let q = qname(r, 1, 2, "sequence")?;
        oids.classes.insert(
            get(r, 0, "sequence")?,
            ClassObject::Other(ObjectId::Sequence(q.clone())),
        );
        let owner_table: Option<String> = get(r, 12, "sequence")?;
        let owned_by = match (get::<Option<String>>(r, 11, "sequence")?, owner_table) {
            (Some(schema), Some(table)) => Some(ColumnRef {
                table: QualifiedName::new(schema, table),
                column: get::<Option<String>>(r, 13, "sequence")?.unwrap_or_default(),
            }),
            _ => None,
        };
        c.sequences.insert(
            q.clone(),
            Sequence {
                name: q,
                options: SequenceOptions {
                    data_type: get(r, 3, "sequence")?,
                    start: get(r, 4, "sequence")?,
                    increment: get(r, 5, "sequence")?,
                    min: get(r, 6, "sequence")?,
                    max: get(r, 7, "sequence")?,
                    cache: get(r, 8, "sequence")?,
                    cycle: get(r, 9, "sequence")?,
                },
                owned_by,
                comment: get(r, 10, "sequence")?,
                owner: get(r, 14, "sequence")?,
                acl: acl(r, 15, "sequence")?,
            },
        );
    }
    // Relations with columns: oid → identity, for the columns query.
    let mut tables_by_oid: HashMap<u32, QualifiedName> = HashMap::default();
    let mut views_by_oid: HashMap<u32, QualifiedName> = HashMap::default();
    for r in &rows.take("tables") {
        let oid: u32 = get(r, 0, "table")?;
        let q = qname(r, 2, 3, "table")?;
        oids.classes
            .insert(oid, ClassObject::WithColumns(ObjectId::Table(q.clone())));
        oids.types.insert(get(r, 1, "table")?, ObjectId::Table(q.clone()));
        tables_by_oid.insert(oid, q.clone());
        let persistence: String = get(r, 4, "table")?;
        let partition_of = match (
            get::<Option<String>>(r, 8, "table")?,
            get::<Option<String>>(r, 9, "table")?,
            get::<Option<String>>(r, 10, "table")?,
        ) {
            (Some(bound), Some(schema), Some(parent)) => Some(PartitionOf {
                parent: QualifiedName::new(schema, parent),
                bound,
            }),
            _ => None,
        };
        let replica_identity = match get::<String>(r, 12, "table")?.as_str() {
            "n" => "nothing",
            "f" => "full",
            "i" => "index",
            _ => "default",
        };
        let parent_schemas: Vec<String> = get(r, 18, "table")?;
        let parent_names: Vec<String> = get(r, 19, "table")?;
        let inherits = parent_schemas
            .into_iter()
            .zip(parent_names)
            .map(|(schema, name)| QualifiedName::new(schema, name))
            .collect();
        c.tables.insert(
            q.clone(),
            Table {
                name: q,
                inherits,
                unlogged: persistence == "u",
                columns: Vec::new(),
                constraints: Default::default(),
                partition_key: get(r, 7, "table")?,
                partition_of,
                options: get(r, 11, "table")?,
                replica_identity: replica_identity.into(),
                replica_identity_index: get(r, 17, "table")?,
                row_security: get(r, 13, "table")?,
                force_row_security: get(r, 14, "table")?,
                owner: get(r, 15, "table")?,
                acl: acl(r, 16, "table")?,
                comment: get(r, 5, "table")?,
            },
        );
    }
    for r in &rows.take("views") {
        let oid: u32 = get(r, 0, "view")?;
        let q = qname(r, 2, 3, "view")?;
        let materialized = get::<String>(r, 4, "view")? == "m";
        let id = if materialized {
            ObjectId::MaterializedView(q.clone())
        } else {
            ObjectId::View(q.clone())
        };
        oids.classes.insert(oid, ClassObject::WithColumns(id.clone()));
        oids.types.insert(get(r, 1, "view")?, id.clone());
        if let Some(rule) = get::<Option<u32>>(r, 11, "view")? {
            oids.rewrites.insert(rule, id.clone());
        }
        views_by_oid.insert(oid, q.clone());
        c.views.insert(
            q.clone(),
            View {
                name: q,
                materialized,
                definition: get(r, 5, "view")?,
                options: get(r, 6, "view")?,
                columns: Vec::new(),
                populated: get(r, 7, "view")?,
                comment: get(r, 8, "view")?,
                owner: get(r, 9, "view")?,
                acl: acl(r, 10, "view")?,
            },
        );
    }
    // Each relation's columns, in column order (`ColumnsByRelation`): a table or
    // view is looked up once and takes its list whole.
    let relations = columns()?;
    oids.columns.reserve(relations.iter().map(|r| r.columns.len()).sum());
    oids.attrdefs.reserve(
        relations
            .iter()
            .flat_map(|r| &r.facts)
            .filter(|f| f.default_oid.is_some())
            .count(),
    );
    for RelationColumns { relid, columns, facts } in relations {
        if let Some(view_name) = views_by_oid.get(&relid) {
            for (column, fact) in columns.iter().zip(&facts) {
                oids.columns.insert((relid, fact.attnum), column.name.clone());
            }
            if let Some(v) = c.views.get_mut(view_name) {
                v.columns = columns
                    .into_iter()
                    .map(|column| ViewColumn {
                        name: column.name,
                        data_type: column.data_type,
                        default: column.default,
                        comment: column.comment,
                        acl: column.acl,
                    })
                    .collect();
            }
            continue;
        }
        let Some(table_name) = tables_by_oid.get(&relid) else {
            continue;
        };
        for (column, fact) in columns.iter().zip(&facts) {
            oids.columns.insert((relid, fact.attnum), column.name.clone());
            if fact.default_oid.is_none() && fact.identity_sequence.is_none() {
                continue;
            }
            let column_id = ObjectId::Column(table_name.clone(), column.name.clone());
            if let Some(def_oid) = fact.default_oid {
                oids.attrdefs.insert(def_oid, column_id.clone());
            }
            if let Some(seq_oid) = fact.identity_sequence {
                oids.classes.insert(seq_oid, ClassObject::Other(column_id));
            }
        }
        if let Some(t) = c.tables.get_mut(table_name) {
            t.columns = columns;
        }
    }
    for r in &rows.take("constraints") {
        let relid: u32 = get(r, 1, "constraint")?;
        let Some(table_name) = tables_by_oid.get(&relid) else {
            continue;
        };
        let name: String = get(r, 2, "constraint")?;
        oids.constraints.insert(
            get(r, 0, "constraint")?,
            ObjectId::Constraint(table_name.clone(), name.clone()),
        );
        let kind = match get::<String>(r, 3, "constraint")?.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "f" => ConstraintKind::ForeignKey,
            "c" => ConstraintKind::Check,
            _ => ConstraintKind::Exclusion,
        };
        let references = match (
            get::<Option<String>>(r, 8, "constraint")?,
            get::<Option<String>>(r, 9, "constraint")?,
        ) {
            (Some(s), Some(t)) => Some(QualifiedName::new(s, t)),
            _ => None,
        };
        let constraint = Constraint {
            name,
            kind,
            definition: get(r, 4, "constraint")?,
            references,
            deferrable: get(r, 5, "constraint")?,
            initially_deferred: get(r, 6, "constraint")?,
            validated: get(r, 7, "constraint")?,
            comment: get(r, 10, "constraint")?,
            index_comment: None,
            inherited: get(r, 11, "constraint")?,
            on_partitioned_table: false,
            partitions: Vec::new(),
        };
        if let Some(t) = c.tables.get_mut(table_name) {
            let constraint = Constraint {
                on_partitioned_table: t.partition_key.is_some()
                    && matches!(
                        kind,
                        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
                    ),
                ..constraint
            };
            t.constraints.insert(constraint);
        }
    }
    // (parent index oid, the attached index) in the order they are read.
    let mut attached: Vec<(u32, IndexPartition)> = Vec::new();
    for r in &rows.take("indexes") {
        let relid: u32 = get(r, 3, "index")?;
        let Some(relation) = tables_by_oid.get(&relid).or_else(|| views_by_oid.get(&relid)) else {
            continue;
        };
        let oid: u32 = get(r, 0, "index")?;
        let parent: Option<u32> = get(r, 10, "index")?;
        if let Some(constraint_oid) = get::<Option<u32>>(r, 8, "index")? {
            if let Some(ObjectId::Constraint(table, name)) = oids.constraints.get(&constraint_oid) {
                oids.classes.insert(
                    oid,
                    ClassObject::Other(ObjectId::Constraint(table.clone(), name.clone())),
                );
                let comment: Option<String> = get(r, 7, "index")?;
                if let Some(c) = c.tables.get_mut(table).and_then(|t| t.constraints.get_mut(name)) {
                    c.index_comment = comment;
                    if let Some(parent) = parent {
                        attached.push((
                            parent,
                            IndexPartition {
                                table: table.clone(),
                                index: QualifiedName::new(table.schema.clone(), name.clone()),
                                kind: if c.inherited {
                                    AttachedKind::InheritedConstraint
                                } else {
                                    AttachedKind::LocalConstraint
                                },
                                definition: c.definition.clone(),
                            },
                        ));
                    }
                }
            }
            continue;
        }
        let q = qname(r, 1, 2, "index")?;
        if let Some(parent) = parent {
            attached.push((
                parent,
                IndexPartition {
                    table: relation.clone(),
                    index: q.clone(),
                    kind: AttachedKind::Index,
                    definition: get(r, 4, "index")?,
                },
            ));
        }
        oids.classes.insert(oid, ClassObject::Other(ObjectId::Index(q.clone())));
        c.indexes.insert(
            q.clone(),
            Index {
                name: q,
                table: relation.clone(),
                definition: get(r, 4, "index")?,
                unique: get(r, 5, "index")?,
                valid: get(r, 6, "index")?,
                inherited: get(r, 9, "index")?,
                partitions: Vec::new(),
                comment: get(r, 7, "index")?,
            },
        );
    }
    for (parent, partition) in attached {
        let partitions = match oids.classes.get(&parent) {
            Some(ClassObject::Other(ObjectId::Index(q))) => c.indexes.get_mut(q).map(|i| &mut i.partitions),
            Some(ClassObject::Other(ObjectId::Constraint(table, name))) => c
                .tables
                .get_mut(table)
                .and_then(|t| t.constraints.get_mut(name))
                .map(|k| &mut k.partitions),
            _ => None,
        };
        if let Some(partitions) = partitions {
            partitions.push(partition);
        }
    }
    for index in c.indexes.values_mut() {
        index.partitions.sort();
    }
    for table in c.tables.values_mut() {
        for k in table.constraints.values_mut() {
            k.partitions.sort();
        }
    }
    for r in &rows.take("functions") {
        let q = qname(r, 1, 2, "function")?;
        let args: String = get(r, 4, "function")?;
        let id = ObjectId::Function(q.clone(), args.clone());
        oids.functions.insert(get(r, 0, "function")?, id.clone());
        oids.bodies.push((id, get(r, 11, "function")?, get(r, 12, "function")?));
        c.functions.insert(
            (q.clone(), args.clone()),
            Function {
                name: q,
                identity_arguments: args,
                kind: if get::<String>(r, 3, "function")? == "p" {
                    RoutineKind::Procedure
                } else {
                    RoutineKind::Function
                },
                arguments: get(r, 5, "function")?,
                result: get(r, 6, "function")?,
                definition: get(r, 7, "function")?,
                comment: get(r, 8, "function")?,
                owner: get(r, 9, "function")?,
                acl: acl(r, 10, "function")?,
            },
        );
    }
    for r in rows.get("aggregates") {
        let a = aggregate(r)?;
        oids.functions.insert(get(r, 0, "aggregate")?, a.id());
        c.aggregates.insert((a.name.clone(), a.identity_arguments.clone()), a);
    }
    for r in rows.get("triggers") {
        let relid: u32 = get(r, 1, "trigger")?;
        let Some(relation) = tables_by_oid.get(&relid).or_else(|| views_by_oid.get(&relid)) else {
            continue;
        };
        let name: String = get(r, 2, "trigger")?;
        oids.triggers
            .insert(get(r, 0, "trigger")?, ObjectId::Trigger(relation.clone(), name.clone()));
        c.triggers.insert(
            (relation.clone(), name.clone()),
            Trigger {
                table: relation.clone(),
                name,
                definition: get(r, 3, "trigger")?,
                enabled: get(r, 4, "trigger")?,
                comment: get(r, 5, "trigger")?,
            },
        );
    }
    for r in rows.get("policies") {
        let relid: u32 = get(r, 1, "policy")?;
        let Some(table) = tables_by_oid.get(&relid) else {
            continue;
        };
        let name: String = get(r, 2, "policy")?;
        oids.policies
            .insert(get(r, 0, "policy")?, ObjectId::Policy(table.clone(), name.clone()));
        c.policies.insert(
            (table.clone(), name.clone()),
            Policy {
                table: table.clone(),
                name,
                permissive: get(r, 3, "policy")?,
                command: get(r, 4, "policy")?,
                roles: get(r, 5, "policy")?,
                using: get(r, 6, "policy")?,
                with_check: get(r, 7, "policy")?,
                comment: get(r, 8, "policy")?,
            },
        );
    }
    for r in rows.get("default privileges") {
        let owner: String = get(r, 0, "default privileges")?;
        let mut grants = acl(r, 3, "default privileges")?;
        // The creating role's own rights come with ownership.
        grants.retain(|g| g.grantee != owner);
        let d = DefaultPrivileges {
            // The role converge connects as stands for "whoever applies".
            role: if owner == role { CURRENT_ROLE.to_string() } else { owner },
            schema: get(r, 1, "default privileges")?,
            object_type: get::<Option<String>>(r, 2, "default privileges")?.unwrap_or_default(),
            grants,
        };
        c.default_privileges.insert(d.key(), d);
    }
    Ok((c, oids))
}

/// A row of the columns query, decoded without the rest of the catalog (so
/// the biggest query's rows are decoded beside everything else).
pub(crate) struct ColumnRow {
    relid: u32,
    facts: ColumnFacts,
    column: Column,
}

/// What the catalog's OID maps need of a column besides its name.
pub(crate) struct ColumnFacts {
    attnum: i16,
    /// The `pg_attrdef` row of its default or generation expression.
    default_oid: Option<u32>,
    /// The sequence of an identity column.
    identity_sequence: Option<u32>,
}

/// The columns of one table or view, in column order.
pub(crate) struct RelationColumns {
    relid: u32,
    columns: Vec<Column>,
    /// Of each column, in the same order.
    facts: Vec<ColumnFacts>,
}

/// Adds to `oids` the identities of relations read by name only
/// (`queries/referenced_names.sql`: relations a partial read's dependency
/// rows refer to, which the transaction did not change), as `catalog` names
/// the same relations and parts from the whole read's rows: tables and views
/// with their columns and row types, standalone sequences, an identity
/// sequence as its column, a column default as its column, a constraint, an
/// index (as its constraint when it implements one), a view's rule.
pub(crate) fn add_names(oids: &mut Oids, rows: &[Row]) -> Result<(), DbError> {
    let what = "referenced relation";
    let kind = |r: &Row| get::<String>(r, 0, what);
    let mut tables: HashMap<u32, QualifiedName> = HashMap::default();
    let mut views: HashMap<u32, ObjectId> = HashMap::default();
    // Relations first, then constraints, then what names them.
    for r in rows {
        match kind(r)?.as_str() {
            "relation" => {
                let oid: u32 = get(r, 1, what)?;
                let q = qname(r, 3, 4, what)?;
                let id = match get::<String>(r, 5, what)?.as_str() {
                    "r" | "p" => {
                        tables.insert(oid, q.clone());
                        ObjectId::Table(q)
                    }
                    "m" => ObjectId::MaterializedView(q),
                    _ => ObjectId::View(q),
                };
                if !tables.contains_key(&oid) {
                    views.insert(oid, id.clone());
                }
                oids.types.insert(get(r, 6, what)?, id.clone());
                oids.classes.insert(oid, ClassObject::WithColumns(id));
            }
            "sequence" => {
                let q = qname(r, 3, 4, what)?;
                oids.classes
                    .insert(get(r, 1, what)?, ClassObject::Other(ObjectId::Sequence(q)));
            }
            _ => {}
        }
    }
    for r in rows {
        if kind(r)? == "constraint" {
            let Some(table) = tables.get(&get::<u32>(r, 6, what)?) else {
                continue;
            };
            let name: String = get(r, 4, what)?;
            oids.constraints
                .insert(get(r, 1, what)?, ObjectId::Constraint(table.clone(), name));
        }
    }
    for r in rows {
        match kind(r)?.as_str() {
            "column" => {
                let relid: u32 = get(r, 1, what)?;
                let name: String = get(r, 4, what)?;
                if let (Some(table), Some(default)) = (tables.get(&relid), get::<Option<u32>>(r, 6, what)?) {
                    oids.attrdefs
                        .insert(default, ObjectId::Column(table.clone(), name.clone()));
                }
                oids.columns.insert((relid, get(r, 2, what)?), name);
            }
            "identity" => {
                let relid: u32 = get(r, 6, what)?;
                let Some(table) = tables.get(&relid) else {
                    continue;
                };
                let Some(column) = oids.columns.get(&(relid, get(r, 2, what)?)) else {
                    continue;
                };
                let id = ObjectId::Column(table.clone(), column.clone());
                oids.classes.insert(get(r, 1, what)?, ClassObject::Other(id));
            }
            "index" => {
                let oid: u32 = get(r, 1, what)?;
                match get::<Option<u32>>(r, 6, what)? {
                    Some(constraint) => {
                        if let Some(id @ ObjectId::Constraint(..)) = oids.constraints.get(&constraint) {
                            oids.classes.insert(oid, ClassObject::Other(id.clone()));
                        }
                    }
                    None => {
                        let q = qname(r, 3, 4, what)?;
                        oids.classes.insert(oid, ClassObject::Other(ObjectId::Index(q)));
                    }
                }
            }
            "rule" => {
                if let Some(view) = views.get(&get::<u32>(r, 6, what)?) {
                    oids.rewrites.insert(get(r, 1, what)?, view.clone());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The rows of the columns query, decoded and grouped by relation (the
/// query leaves sorting to us); the rows are freed.
pub(crate) fn column_rows(rows: Vec<Row>) -> Result<Vec<RelationColumns>, DbError> {
    let mut grouped = ColumnsByRelation::default();
    for r in &rows {
        grouped.add(column_row(r)?);
    }
    drop(rows);
    Ok(grouped.finish())
}

/// Decoded rows of the columns query grouped by relation as they arrive, to
/// be put in column order (`finish`). A column is big (about 270 bytes with
/// what the OID maps need), so the rows are never all held in one list as
/// well as in their relations' (at 5,000 tables that was ~30 MiB more at
/// the peak): each goes straight to its relation's list.
#[derive(Default)]
pub(crate) struct ColumnsByRelation {
    /// Where each relation met is in `relations`.
    at: HashMap<u32, usize>,
    relations: Vec<(u32, Vec<ColumnRow>)>,
}

impl ColumnsByRelation {
    pub(crate) fn add(&mut self, row: ColumnRow) {
        let next = self.relations.len();
        let at = *self.at.entry(row.relid).or_insert(next);
        if at == next {
            self.relations.push((row.relid, Vec::new()));
        }
        self.relations[at].1.push(row);
    }

    /// Each relation's columns in column order, the relations in OID order.
    /// Each column is moved once more, into a list of its final size, and
    /// each relation's rows are freed as it is done.
    pub(crate) fn finish(self) -> Vec<RelationColumns> {
        let ColumnsByRelation { at, mut relations } = self;
        drop(at);
        relations.sort_unstable_by_key(|(relid, _)| *relid);
        relations
            .into_iter()
            .map(|(relid, mut rows)| {
                rows.sort_unstable_by_key(|r| r.facts.attnum);
                let mut relation = RelationColumns {
                    relid,
                    columns: Vec::with_capacity(rows.len()),
                    facts: Vec::with_capacity(rows.len()),
                };
                for row in rows {
                    relation.columns.push(row.column);
                    relation.facts.push(row.facts);
                }
                relation
            })
            .collect()
    }
}

impl Extend<ColumnRow> for ColumnsByRelation {
    fn extend<I: IntoIterator<Item = ColumnRow>>(&mut self, rows: I) {
        for row in rows {
            self.add(row);
        }
    }
}

/// One row of the columns query, decoded.
pub(crate) fn column_row(r: &Row) -> Result<ColumnRow, DbError> {
    let expr: Option<String> = get(r, 5, "column")?;
    let generated: String = get(r, 8, "column")?;
    let identity_kind: String = get(r, 7, "column")?;
    let identity_sequence = get::<Option<u32>>(r, 11, "column")?;
    let identity = match (identity_kind.as_str(), identity_sequence) {
        ("a" | "d", Some(_)) => Some(Box::new(Identity {
            kind: if identity_kind == "a" {
                IdentityKind::Always
            } else {
                IdentityKind::ByDefault
            },
            sequence: QualifiedName::new(
                get::<Option<String>>(r, 12, "column")?.unwrap_or_default(),
                get::<Option<String>>(r, 13, "column")?.unwrap_or_default(),
            ),
            options: SequenceOptions {
                data_type: get::<Option<String>>(r, 14, "column")?.unwrap_or_default(),
                start: get::<Option<i64>>(r, 15, "column")?.unwrap_or_default(),
                increment: get::<Option<i64>>(r, 16, "column")?.unwrap_or_default(),
                min: get::<Option<i64>>(r, 17, "column")?.unwrap_or_default(),
                max: get::<Option<i64>>(r, 18, "column")?.unwrap_or_default(),
                cache: get::<Option<i64>>(r, 19, "column")?.unwrap_or_default(),
                cycle: get::<Option<bool>>(r, 20, "column")?.unwrap_or_default(),
            },
        })),
        _ => None,
    };
    let storage = get::<Option<&str>>(r, 21, "column")?.map(Storage::of_code);
    let type_storage = Storage::of_code(get::<&str>(r, 26, "column")?);
    Ok(ColumnRow {
        relid: get(r, 0, "column")?,
        facts: ColumnFacts {
            attnum: get(r, 1, "column")?,
            default_oid: get(r, 6, "column")?,
            identity_sequence: identity.as_ref().and(identity_sequence),
        },
        column: Column {
            name: get(r, 2, "column")?,
            data_type: get(r, 3, "column")?,
            not_null: get(r, 4, "column")?,
            default: if generated.is_empty() { expr.clone() } else { None },
            identity,
            generated: if generated.is_empty() { None } else { expr },
            collation: get(r, 9, "column")?,
            storage,
            type_storage,
            compression: get(r, 22, "column")?,
            statistics: get(r, 23, "column")?,
            options: get(r, 27, "column")?,
            inherited: get(r, 28, "column")?,
            acl: acl(r, 24, "column")?,
            comment: get(r, 10, "column")?,
        },
    })
}
