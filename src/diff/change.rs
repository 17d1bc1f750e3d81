//! `Change`: one thing that differs between the current and the desired
//! catalog, as typed data.
//!
//! A drop carries the whole old object and an alteration carries both
//! versions, so every change can be reversed (`Change::reverse`) and judged on
//! its own. The SQL each change becomes is written in `sql`, once for both
//! directions.

use crate::catalog::*;
use serde::Serialize;

/// A column that uses an enum type, as an enum recreation must recast it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumUse {
    pub table: QualifiedName,
    pub column: String,
    /// The column's type as printed (`public.mood` or `public.mood[]`).
    pub data_type: String,
    /// The default to drop before the recast.
    pub default_before: Option<String>,
    /// The default to set after it.
    pub default_after: Option<String>,
}

impl EnumUse {
    fn reversed(&self) -> EnumUse {
        EnumUse {
            default_before: self.default_after.clone(),
            default_after: self.default_before.clone(),
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    CreateSchema(Schema),
    DropSchema(Schema),
    CreateExtension(Extension),
    DropExtension(Extension),
    AlterExtension {
        from: Extension,
        to: Extension,
    },
    CreateEnum(EnumType),
    DropEnum(EnumType),
    /// New labels are added in place, unless `recreate`: when labels are
    /// removed or reordered, or a new label is used in the same transaction
    /// (PostgreSQL refuses that), the type is recreated and `uses` recast.
    /// `recreate_back` is the same judgement for the reverse change.
    AlterEnum {
        from: EnumType,
        to: EnumType,
        uses: Vec<EnumUse>,
        recreate: bool,
        recreate_back: bool,
    },
    CreateSequence(Sequence),
    DropSequence(Sequence),
    /// Options only; ownership is `SetSequenceOwner`.
    AlterSequence {
        from: Sequence,
        to: Sequence,
    },
    SetSequenceOwner {
        sequence: QualifiedName,
        from: Option<ColumnRef>,
        to: Option<ColumnRef>,
    },
    /// Columns, their defaults, and the constraints left in the table; the
    /// table's indexes are `CreateIndex` changes of their own.
    CreateTable(Table),
    DropTable(Table),
    SetLogged {
        table: QualifiedName,
        unlogged: bool,
    },
    AddColumn {
        table: QualifiedName,
        column: Column,
    },
    DropColumn {
        table: QualifiedName,
        column: Column,
    },
    /// Everything but adding or dropping identity, which are changes of their
    /// own so that a sequence can be dropped between them (serial → identity).
    AlterColumn {
        table: QualifiedName,
        from: Column,
        to: Column,
    },
    /// `ADD GENERATED ... AS IDENTITY`; `column` is the desired column.
    AddIdentity {
        table: QualifiedName,
        column: Column,
    },
    /// `DROP IDENTITY`; `column` is the current column.
    DropIdentity {
        table: QualifiedName,
        column: Column,
    },
    AddConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    DropConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    /// Validation or (foreign keys) deferrability only.
    AlterConstraint {
        table: QualifiedName,
        from: Constraint,
        to: Constraint,
    },
    CreateIndex(Index),
    DropIndex(Index),
    SetComment {
        object: ObjectId,
        from: Option<String>,
        to: Option<String>,
    },
}

impl Change {
    /// The change that undoes this one.
    pub fn reverse(&self) -> Change {
        use Change::*;
        match self.clone() {
            CreateSchema(s) => DropSchema(s),
            DropSchema(s) => CreateSchema(s),
            CreateExtension(e) => DropExtension(e),
            DropExtension(e) => CreateExtension(e),
            AlterExtension { from, to } => AlterExtension { from: to, to: from },
            CreateEnum(e) => DropEnum(e),
            DropEnum(e) => CreateEnum(e),
            AlterEnum {
                from,
                to,
                uses,
                recreate,
                recreate_back,
            } => AlterEnum {
                from: to,
                to: from,
                uses: uses.iter().map(EnumUse::reversed).collect(),
                recreate: recreate_back,
                recreate_back: recreate,
            },
            CreateSequence(s) => DropSequence(s),
            DropSequence(s) => CreateSequence(s),
            AlterSequence { from, to } => AlterSequence { from: to, to: from },
            SetSequenceOwner { sequence, from, to } => SetSequenceOwner {
                sequence,
                from: to,
                to: from,
            },
            CreateTable(t) => DropTable(t),
            DropTable(t) => CreateTable(t),
            SetLogged { table, unlogged } => SetLogged {
                table,
                unlogged: !unlogged,
            },
            AddColumn { table, column } => DropColumn { table, column },
            DropColumn { table, column } => AddColumn { table, column },
            AlterColumn { table, from, to } => AlterColumn {
                table,
                from: to,
                to: from,
            },
            AddIdentity { table, column } => DropIdentity { table, column },
            DropIdentity { table, column } => AddIdentity { table, column },
            AddConstraint { table, constraint } => DropConstraint { table, constraint },
            DropConstraint { table, constraint } => AddConstraint { table, constraint },
            AlterConstraint { table, from, to } => AlterConstraint {
                table,
                from: to,
                to: from,
            },
            CreateIndex(i) => DropIndex(i),
            DropIndex(i) => CreateIndex(i),
            SetComment { object, from, to } => SetComment {
                object,
                from: to,
                to: from,
            },
        }
    }

    /// The object the change is about.
    pub fn object(&self) -> ObjectId {
        use Change::*;
        match self {
            CreateSchema(s) | DropSchema(s) => ObjectId::Schema(s.name.clone()),
            CreateExtension(e) | DropExtension(e) | AlterExtension { to: e, .. } => ObjectId::Extension(e.name.clone()),
            CreateEnum(e) | DropEnum(e) | AlterEnum { to: e, .. } => ObjectId::Type(e.name.clone()),
            CreateSequence(s) | DropSequence(s) | AlterSequence { to: s, .. } => ObjectId::Sequence(s.name.clone()),
            SetSequenceOwner { sequence, .. } => ObjectId::SequenceOwner(sequence.clone()),
            CreateTable(t) | DropTable(t) => ObjectId::Table(t.name.clone()),
            SetLogged { table, .. } => ObjectId::Table(table.clone()),
            AddColumn { table, column }
            | DropColumn { table, column }
            | AlterColumn { table, to: column, .. }
            | AddIdentity { table, column }
            | DropIdentity { table, column } => ObjectId::Column(table.clone(), column.name.clone()),
            AddConstraint { table, constraint }
            | DropConstraint { table, constraint }
            | AlterConstraint {
                table, to: constraint, ..
            } => ObjectId::Constraint(table.clone(), constraint.name.clone()),
            CreateIndex(i) | DropIndex(i) => ObjectId::Index(i.name.clone()),
            SetComment { object, .. } => object.clone(),
        }
    }

    /// What the change does, in the plan summary's vocabulary.
    pub fn verb(&self) -> Verb {
        use Change::*;
        match self {
            CreateSchema(_)
            | CreateExtension(_)
            | CreateEnum(_)
            | CreateSequence(_)
            | CreateTable(_)
            | AddColumn { .. }
            | AddConstraint { .. }
            | CreateIndex(_) => Verb::Create,
            DropSchema(_)
            | DropExtension(_)
            | DropEnum(_)
            | DropSequence(_)
            | DropTable(_)
            | DropColumn { .. }
            | DropConstraint { .. }
            | DropIndex(_) => Verb::Drop,
            SetSequenceOwner { from: None, .. } => Verb::Create,
            SetSequenceOwner { to: None, .. } => Verb::Drop,
            _ => Verb::Alter,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Create,
    Alter,
    Drop,
}
