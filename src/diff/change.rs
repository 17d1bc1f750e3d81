//! `Change`: one thing that differs between the current and the desired
//! catalog, as typed data.
//!
//! A drop carries the whole old object and an alteration carries both
//! versions, so every change can be reversed (`Change::reverse`) and judged on
//! its own. The SQL each change becomes is written in `sql`, once for both
//! directions.

use crate::catalog::*;
use serde::Serialize;

/// A column that uses a type, as recreating the type must recast it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TypeUse {
    /// The table, or the composite type when `attribute` is set.
    pub table: QualifiedName,
    /// An attribute of a composite type rather than a table column.
    pub attribute: bool,
    pub column: String,
    /// The column's type as printed (`public.mood` or `public.mood[]`).
    pub data_type: String,
    /// The default to drop before the recast.
    pub default_before: Option<String>,
    /// The default to set after it.
    pub default_after: Option<String>,
}

/// A domain over a recreated type, recreated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DomainRecast {
    pub from: Domain,
    pub to: Domain,
    pub uses: Vec<TypeUse>,
}

/// A composite type over a recreated type, recreated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CompositeRecast {
    pub from: CompositeType,
    pub to: CompositeType,
    pub uses: Vec<TypeUse>,
}

impl CompositeRecast {
    fn reversed(&self) -> CompositeRecast {
        CompositeRecast {
            from: self.to.clone(),
            to: self.from.clone(),
            uses: self.uses.iter().map(TypeUse::reversed).collect(),
        }
    }
}

impl DomainRecast {
    fn reversed(&self) -> DomainRecast {
        DomainRecast {
            from: self.to.clone(),
            to: self.from.clone(),
            uses: self.uses.iter().map(TypeUse::reversed).collect(),
        }
    }
}

impl TypeUse {
    fn reversed(&self) -> TypeUse {
        TypeUse {
            default_before: self.default_after.clone(),
            default_after: self.default_before.clone(),
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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
        uses: Vec<TypeUse>,
        recreate: bool,
        recreate_back: bool,
        /// Domains over the enum, recreated with it.
        domains: Vec<DomainRecast>,
        /// Composite types with an attribute of the enum that columns use,
        /// recreated with it.
        composites: Vec<CompositeRecast>,
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
    /// Storage parameters of a table or materialized view (`SET (...)`, `RESET (...)`).
    SetRelationOptions {
        object: ObjectId,
        from: Vec<String>,
        to: Vec<String>,
    },
    SetReplicaIdentity {
        table: QualifiedName,
        from: String,
        to: String,
        /// The index of `REPLICA IDENTITY USING INDEX`, on each side.
        from_index: Option<String>,
        to_index: Option<String>,
    },
    SetRowSecurity {
        table: QualifiedName,
        from: (bool, bool),
        /// (enabled, forced)
        to: (bool, bool),
    },
    AttachPartition {
        table: QualifiedName,
        partition: PartitionOf,
    },
    DetachPartition {
        table: QualifiedName,
        partition: PartitionOf,
    },
    /// `ALTER TABLE table INHERIT parent`: the table already has the
    /// parent's columns and checks, which become inherited too (and stay
    /// the table's own).
    Inherit {
        table: QualifiedName,
        parent: QualifiedName,
    },
    /// `ALTER TABLE table NO INHERIT parent`: what the table had only from
    /// the parent becomes its own.
    NoInherit {
        table: QualifiedName,
        parent: QualifiedName,
    },
    CreateView(View),
    DropView(View),
    /// `CREATE OR REPLACE VIEW` (same columns, maybe more at the end).
    ReplaceView {
        from: View,
        to: View,
    },
    /// `REFRESH MATERIALIZED VIEW [WITH NO DATA]`.
    SetPopulated {
        view: QualifiedName,
        populated: bool,
    },
    CreateFunction(Function),
    DropFunction(Function),
    /// `CREATE OR REPLACE` (same arguments and result).
    ReplaceFunction {
        from: Function,
        to: Function,
    },
    CreateAggregate(Aggregate),
    DropAggregate(Aggregate),
    /// `CREATE OR REPLACE AGGREGATE` (same kind, arguments and result).
    ReplaceAggregate {
        from: Aggregate,
        to: Aggregate,
    },
    CreateTrigger(Trigger),
    DropTrigger(Trigger),
    SetTriggerEnabled {
        trigger: Trigger,
        from: String,
        to: String,
    },
    CreatePolicy(Policy),
    DropPolicy(Policy),
    /// `ALTER POLICY` (roles, USING, WITH CHECK).
    AlterPolicy {
        from: Policy,
        to: Policy,
    },
    CreateDomain(Domain),
    DropDomain(Domain),
    /// Default, NOT NULL and constraints of a domain whose base type stays.
    AlterDomain {
        from: Domain,
        to: Domain,
    },
    /// A domain whose base type changes while columns use it: created anew
    /// under its name and the columns recast through text.
    RecreateDomain {
        from: Domain,
        to: Domain,
        uses: Vec<TypeUse>,
    },
    CreateCompositeType(CompositeType),
    /// A composite type whose attributes' types change while columns use it:
    /// created anew and the columns recast through text.
    RecreateCompositeType {
        from: CompositeType,
        to: CompositeType,
        uses: Vec<TypeUse>,
    },
    /// A collation whose definition changes while columns use it: created
    /// anew and the columns moved to it.
    RecreateCollation {
        from: Collation,
        to: Collation,
        uses: Vec<TypeUse>,
    },
    DropCompositeType(CompositeType),
    AlterCompositeType {
        from: CompositeType,
        to: CompositeType,
    },
    CreateRangeType(RangeType),
    DropRangeType(RangeType),
    CreateCollation(Collation),
    DropCollation(Collation),
    /// GRANT and REVOKE to take an object's privileges from `from` to `to`.
    /// `keyword` is the object kind as GRANT writes it (`TABLE`, `SCHEMA`, ...).
    SetPrivileges {
        object: ObjectId,
        keyword: String,
        from: Acl,
        to: Acl,
    },
    /// `ALTER ... OWNER TO` (only when owners are managed).
    SetOwner {
        object: ObjectId,
        keyword: String,
        from: String,
        to: String,
    },
    SetDefaultPrivileges {
        from: DefaultPrivileges,
        to: DefaultPrivileges,
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
                domains,
                composites,
            } => AlterEnum {
                from: to,
                to: from,
                uses: uses.iter().map(TypeUse::reversed).collect(),
                recreate: recreate_back,
                recreate_back: recreate,
                domains: domains.iter().map(DomainRecast::reversed).collect(),
                composites: composites.iter().map(CompositeRecast::reversed).collect(),
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
            SetRelationOptions { object, from, to } => SetRelationOptions {
                object,
                from: to,
                to: from,
            },
            SetReplicaIdentity {
                table,
                from,
                to,
                from_index,
                to_index,
            } => SetReplicaIdentity {
                table,
                from: to,
                to: from,
                from_index: to_index,
                to_index: from_index,
            },
            SetRowSecurity { table, from, to } => SetRowSecurity {
                table,
                from: to,
                to: from,
            },
            AttachPartition { table, partition } => DetachPartition { table, partition },
            DetachPartition { table, partition } => AttachPartition { table, partition },
            Inherit { table, parent } => NoInherit { table, parent },
            NoInherit { table, parent } => Inherit { table, parent },
            CreateView(v) => DropView(v),
            DropView(v) => CreateView(v),
            ReplaceView { from, to } => ReplaceView { from: to, to: from },
            SetPopulated { view, populated } => SetPopulated {
                view,
                populated: !populated,
            },
            CreateFunction(f) => DropFunction(f),
            DropFunction(f) => CreateFunction(f),
            ReplaceFunction { from, to } => ReplaceFunction { from: to, to: from },
            CreateAggregate(a) => DropAggregate(a),
            DropAggregate(a) => CreateAggregate(a),
            ReplaceAggregate { from, to } => ReplaceAggregate { from: to, to: from },
            CreateTrigger(t) => DropTrigger(t),
            DropTrigger(t) => CreateTrigger(t),
            SetTriggerEnabled { trigger, from, to } => SetTriggerEnabled {
                trigger,
                from: to,
                to: from,
            },
            CreatePolicy(p) => DropPolicy(p),
            DropPolicy(p) => CreatePolicy(p),
            AlterPolicy { from, to } => AlterPolicy { from: to, to: from },
            CreateDomain(d) => DropDomain(d),
            DropDomain(d) => CreateDomain(d),
            AlterDomain { from, to } => AlterDomain { from: to, to: from },
            RecreateDomain { from, to, uses } => RecreateDomain {
                from: to,
                to: from,
                uses: uses.iter().map(TypeUse::reversed).collect(),
            },
            CreateCompositeType(t) => DropCompositeType(t),
            RecreateCompositeType { from, to, uses } => RecreateCompositeType {
                from: to,
                to: from,
                uses: uses.iter().map(TypeUse::reversed).collect(),
            },
            RecreateCollation { from, to, uses } => RecreateCollation {
                from: to,
                to: from,
                uses: uses.iter().map(TypeUse::reversed).collect(),
            },
            DropCompositeType(t) => CreateCompositeType(t),
            AlterCompositeType { from, to } => AlterCompositeType { from: to, to: from },
            CreateRangeType(t) => DropRangeType(t),
            DropRangeType(t) => CreateRangeType(t),
            CreateCollation(c) => DropCollation(c),
            DropCollation(c) => CreateCollation(c),
            SetPrivileges {
                object,
                keyword,
                from,
                to,
            } => SetPrivileges {
                object,
                keyword,
                from: to,
                to: from,
            },
            SetOwner {
                object,
                keyword,
                from,
                to,
            } => SetOwner {
                object,
                keyword,
                from: to,
                to: from,
            },
            SetDefaultPrivileges { from, to } => SetDefaultPrivileges { from: to, to: from },
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
            SetComment { object, .. }
            | SetRelationOptions { object, .. }
            | SetPrivileges { object, .. }
            | SetOwner { object, .. } => object.clone(),
            SetReplicaIdentity { table, .. }
            | SetRowSecurity { table, .. }
            | AttachPartition { table, .. }
            | DetachPartition { table, .. }
            | Inherit { table, .. }
            | NoInherit { table, .. } => ObjectId::Table(table.clone()),
            CreateView(v) | DropView(v) | ReplaceView { to: v, .. } => v.id(),
            SetPopulated { view, .. } => ObjectId::MaterializedView(view.clone()),
            CreateFunction(f) | DropFunction(f) | ReplaceFunction { to: f, .. } => {
                ObjectId::Function(f.name.clone(), f.identity_arguments.clone())
            }
            CreateAggregate(a) | DropAggregate(a) | ReplaceAggregate { to: a, .. } => a.id(),
            CreateTrigger(t) | DropTrigger(t) | SetTriggerEnabled { trigger: t, .. } => {
                ObjectId::Trigger(t.table.clone(), t.name.clone())
            }
            CreatePolicy(p) | DropPolicy(p) | AlterPolicy { to: p, .. } => {
                ObjectId::Policy(p.table.clone(), p.name.clone())
            }
            CreateDomain(d) | DropDomain(d) | AlterDomain { to: d, .. } | RecreateDomain { to: d, .. } => {
                ObjectId::Type(d.name.clone())
            }
            CreateCompositeType(t)
            | DropCompositeType(t)
            | AlterCompositeType { to: t, .. }
            | RecreateCompositeType { to: t, .. } => ObjectId::Type(t.name.clone()),
            CreateRangeType(t) | DropRangeType(t) => ObjectId::Type(t.name.clone()),
            CreateCollation(c) | DropCollation(c) | RecreateCollation { to: c, .. } => {
                ObjectId::Collation(c.name.clone())
            }
            SetDefaultPrivileges { to, .. } => {
                ObjectId::DefaultPrivileges(to.role.clone(), to.schema.clone(), to.object_type.clone())
            }
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
            | CreateIndex(_)
            | CreateView(_)
            | CreateFunction(_)
            | CreateAggregate(_)
            | CreateTrigger(_)
            | CreatePolicy(_)
            | CreateDomain(_)
            | CreateCompositeType(_)
            | CreateRangeType(_)
            | CreateCollation(_) => Verb::Create,
            DropView(_)
            | DropFunction(_)
            | DropAggregate(_)
            | DropTrigger(_)
            | DropPolicy(_)
            | DropDomain(_)
            | DropCompositeType(_)
            | DropRangeType(_)
            | DropCollation(_)
            | DropSchema(_)
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Create,
    Alter,
    Drop,
}
