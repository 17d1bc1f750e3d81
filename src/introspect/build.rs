//! Turning the introspection rows into a `Catalog`, and remembering which OID
//! is which object so `deps` can translate `pg_depend`.

use super::Rows;
use crate::catalog::*;
use crate::db::DbError;
use std::collections::HashMap;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

/// What an OID in `pg_class` is.
pub(crate) enum ClassObject {
    /// A table: sub-ids are its columns.
    Table(QualifiedName),
    Other(ObjectId),
}

/// OID → identity, per system catalog.
#[derive(Default)]
pub(crate) struct Oids {
    pub namespaces: HashMap<u32, String>,
    pub extensions: HashMap<u32, String>,
    pub types: HashMap<u32, ObjectId>,
    pub classes: HashMap<u32, ClassObject>,
    pub columns: HashMap<(u32, i16), String>,
    pub constraints: HashMap<u32, ObjectId>,
    pub attrdefs: HashMap<u32, ObjectId>,
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize, what: &str) -> Result<T, DbError> {
    row.try_get(index).map_err(|e| DbError::Query {
        context: format!("unexpected value in the {what} catalog query (column {index})"),
        message: e.to_string(),
    })
}

pub(crate) fn catalog(rows: &Rows) -> Result<(Catalog, Oids), DbError> {
    let mut c = Catalog::default();
    let mut oids = Oids::default();

    for r in &rows.schemas {
        let (oid, name): (u32, String) = (get(r, 0, "schema")?, get(r, 1, "schema")?);
        oids.namespaces.insert(oid, name.clone());
        c.schemas.insert(
            name.clone(),
            Schema {
                name,
                comment: get(r, 2, "schema")?,
            },
        );
    }
    for r in &rows.extensions {
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
    for r in &rows.enums {
        let q = QualifiedName::new(get::<String>(r, 2, "enum")?, get::<String>(r, 3, "enum")?);
        oids.types.insert(get(r, 0, "enum")?, ObjectId::Type(q.clone()));
        oids.types.insert(get(r, 1, "enum")?, ObjectId::Type(q.clone()));
        c.enums.insert(
            q.clone(),
            EnumType {
                name: q,
                labels: get(r, 4, "enum")?,
                comment: get(r, 5, "enum")?,
            },
        );
    }
    for r in &rows.sequences {
        let q = QualifiedName::new(get::<String>(r, 1, "sequence")?, get::<String>(r, 2, "sequence")?);
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
            },
        );
    }
    let mut tables_by_oid: HashMap<u32, QualifiedName> = HashMap::new();
    for r in &rows.tables {
        let oid: u32 = get(r, 0, "table")?;
        let q = QualifiedName::new(get::<String>(r, 2, "table")?, get::<String>(r, 3, "table")?);
        oids.classes.insert(oid, ClassObject::Table(q.clone()));
        oids.types.insert(get(r, 1, "table")?, ObjectId::Table(q.clone()));
        tables_by_oid.insert(oid, q.clone());
        let persistence: String = get(r, 4, "table")?;
        c.tables.insert(
            q.clone(),
            Table {
                name: q,
                unlogged: persistence == "u",
                columns: Vec::new(),
                constraints: Default::default(),
                comment: get(r, 5, "table")?,
            },
        );
    }
    for r in &rows.columns {
        let relid: u32 = get(r, 0, "column")?;
        let Some(table_name) = tables_by_oid.get(&relid) else {
            continue;
        };
        let attnum: i16 = get(r, 1, "column")?;
        let name: String = get(r, 2, "column")?;
        oids.columns.insert((relid, attnum), name.clone());
        let column_id = ObjectId::Column(table_name.clone(), name.clone());
        if let Some(def_oid) = get::<Option<u32>>(r, 6, "column")? {
            oids.attrdefs.insert(def_oid, column_id.clone());
        }
        let expr: Option<String> = get(r, 5, "column")?;
        let generated: String = get(r, 8, "column")?;
        let identity_kind: String = get(r, 7, "column")?;
        let identity = match (identity_kind.as_str(), get::<Option<u32>>(r, 11, "column")?) {
            ("a" | "d", Some(seq_oid)) => {
                oids.classes.insert(seq_oid, ClassObject::Other(column_id.clone()));
                Some(Identity {
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
                })
            }
            _ => None,
        };
        let column = Column {
            name,
            data_type: get(r, 3, "column")?,
            not_null: get(r, 4, "column")?,
            default: if generated.is_empty() { expr.clone() } else { None },
            identity,
            generated: if generated.is_empty() { None } else { expr },
            collation: get(r, 9, "column")?,
            comment: get(r, 10, "column")?,
        };
        if let Some(t) = c.tables.get_mut(table_name) {
            t.columns.push(column);
        }
    }
    for r in &rows.constraints {
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
            name: name.clone(),
            kind,
            definition: get(r, 4, "constraint")?,
            references,
            deferrable: get(r, 5, "constraint")?,
            initially_deferred: get(r, 6, "constraint")?,
            validated: get(r, 7, "constraint")?,
            comment: get(r, 10, "constraint")?,
            index_comment: None,
        };
        if let Some(t) = c.tables.get_mut(table_name) {
            t.constraints.insert(name, constraint);
        }
    }
    for r in &rows.indexes {
        let relid: u32 = get(r, 3, "index")?;
        let Some(table_name) = tables_by_oid.get(&relid) else {
            continue;
        };
        let oid: u32 = get(r, 0, "index")?;
        if let Some(constraint_oid) = get::<Option<u32>>(r, 8, "index")? {
            if let Some(ObjectId::Constraint(table, name)) = oids.constraints.get(&constraint_oid) {
                oids.classes.insert(
                    oid,
                    ClassObject::Other(ObjectId::Constraint(table.clone(), name.clone())),
                );
                let comment: Option<String> = get(r, 7, "index")?;
                if let Some(c) = c.tables.get_mut(table).and_then(|t| t.constraints.get_mut(name)) {
                    c.index_comment = comment;
                }
            }
            continue;
        }
        let q = QualifiedName::new(get::<String>(r, 1, "index")?, get::<String>(r, 2, "index")?);
        oids.classes.insert(oid, ClassObject::Other(ObjectId::Index(q.clone())));
        c.indexes.insert(
            q.clone(),
            Index {
                name: q,
                table: table_name.clone(),
                definition: get(r, 4, "index")?,
                unique: get(r, 5, "index")?,
                valid: get(r, 6, "index")?,
                comment: get(r, 7, "index")?,
            },
        );
    }
    Ok((c, oids))
}
