//! Hazards: typed warnings on steps, which `apply` refuses unless allowed.
//!
//! `judge` looks at one change with the target's snapshot beside it: the
//! catalog says what the change touches, the planner statistics
//! (`Snapshot::stats`) how big it is. Hazards about cost (a rewrite, a long
//! lock) are left out for a table that is known to be empty; hazards about
//! data are always given. Nothing here runs a query: a table never analyzed
//! is said to be of unknown size, not counted.

mod access;
mod locks;

use crate::catalog::{QualifiedName, Snapshot, TableStats};
use crate::diff::Change;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HazardKind {
    /// The step destroys data: rows, column values, a sequence's position.
    DataLoss,
    /// The step rewrites every row of a table (a type change that is not a
    /// relabel, a volatile default, SET LOGGED), under ACCESS EXCLUSIVE.
    TableRewrite,
    /// The step blocks writes (or reads) on a table with rows for as long as
    /// it scans or builds: an index built without CONCURRENTLY, a constraint
    /// validated when added, SET NOT NULL, ATTACH PARTITION, a refresh.
    LongLock,
    /// The rollback of the step cannot bring back the data the step removes:
    /// it recreates the structure empty.
    Irreversible,
    /// Roles lose access they have now: privileges revoked, row-level
    /// security turned on or forced. Their queries fail or see fewer rows.
    AccessChange,
}

impl HazardKind {
    pub const ALL: [HazardKind; 5] = [
        HazardKind::DataLoss,
        HazardKind::TableRewrite,
        HazardKind::LongLock,
        HazardKind::Irreversible,
        HazardKind::AccessChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HazardKind::DataLoss => "data-loss",
            HazardKind::TableRewrite => "table-rewrite",
            HazardKind::LongLock => "long-lock",
            HazardKind::Irreversible => "irreversible",
            HazardKind::AccessChange => "access-change",
        }
    }

    pub fn parse(text: &str) -> Option<HazardKind> {
        HazardKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for HazardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub kind: HazardKind,
    /// One line: what is lost or risked, on which object, with the size
    /// estimate (if any) at the end.
    pub message: String,
    /// The size of the table the hazard is about, as `pg_class` estimates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
}

impl Hazard {
    /// A hazard about no table in particular.
    fn new(kind: HazardKind, message: String) -> Hazard {
        Hazard {
            kind,
            message,
            estimate: None,
        }
    }

    /// A hazard about `table`, with its size estimate appended to the message.
    fn on_table(kind: HazardKind, message: String, table: &QualifiedName, stats: Option<&TableStats>) -> Hazard {
        let estimate = Estimate {
            table: table.to_string(),
            rows: stats.and_then(|s| s.rows),
            bytes: stats.map(|s| s.bytes),
        };
        Hazard {
            kind,
            message: format!("{message} ({estimate})"),
            estimate: Some(estimate),
        }
    }
}

/// How big a table is, from the planner statistics (never counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    pub table: String,
    /// `reltuples`; absent when the table was never vacuumed or analyzed.
    pub rows: Option<i64>,
    /// `relpages` times the block size; absent when the table has no statistics.
    pub bytes: Option<i64>,
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.rows, self.bytes) {
            (Some(rows), Some(bytes)) => write!(
                f,
                "{}: about {} row{}, {} by pg_class statistics",
                self.table,
                thousands(rows),
                if rows == 1 { "" } else { "s" },
                size(bytes)
            ),
            (None, Some(bytes)) if bytes > 0 => write!(
                f,
                "{}: rows unknown (never analyzed), {} by pg_class statistics",
                self.table,
                size(bytes)
            ),
            (None, Some(_)) => write!(f, "{}: rows unknown (never analyzed)", self.table),
            (_, None) => write!(f, "{}: size unknown (no statistics)", self.table),
        }
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Bytes as PostgreSQL's `pg_size_pretty` would round them.
fn size(bytes: i64) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 10240.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{} {}", value.round() as i64, units[unit])
}

/// The hazards kinds a user allows (`--allow-hazards data-loss,...`, `all`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    all: bool,
    kinds: Vec<HazardKind>,
}

impl Allowed {
    /// Parses a comma-separated list; `all` allows every kind, now and later.
    pub fn parse(list: &[String]) -> Result<Allowed, String> {
        let mut allowed = Allowed::default();
        for item in list
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if item == "all" {
                allowed.all = true;
            } else if let Some(kind) = HazardKind::parse(item) {
                allowed.kinds.push(kind);
            } else {
                let known: Vec<&str> = HazardKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!(
                    "unknown hazard kind `{item}`; the kinds are: {}, or all",
                    known.join(", ")
                ));
            }
        }
        Ok(allowed)
    }

    pub fn allows(&self, kind: HazardKind) -> bool {
        self.all || self.kinds.contains(&kind)
    }
}

/// What a change is judged against: the target as it is (its catalog and
/// planner statistics, and which of its tables inherit from which) and the
/// desired catalog.
#[derive(Clone, Copy)]
pub struct Judging<'a> {
    pub current: &'a Snapshot,
    pub desired: &'a Snapshot,
    pub inheritance: &'a Inheritance,
}

/// The direct `INHERITS` children of each table of a catalog, found once
/// per plan: a parent's column changes reach its children, and scanning
/// every table for each change grew with the square of the schema.
#[derive(Debug, Default)]
pub struct Inheritance {
    children: std::collections::HashMap<QualifiedName, Vec<QualifiedName>>,
}

impl Inheritance {
    pub fn of(catalog: &crate::catalog::Catalog) -> Inheritance {
        let mut children: std::collections::HashMap<QualifiedName, Vec<QualifiedName>> = Default::default();
        for table in catalog.tables.values() {
            for parent in &table.inherits {
                children.entry(parent.clone()).or_default().push(table.name.clone());
            }
        }
        Inheritance { children }
    }

    fn children(&self, parent: &QualifiedName) -> &[QualifiedName] {
        self.children.get(parent).map(Vec::as_slice).unwrap_or(&[])
    }
}

impl<'a> Judging<'a> {
    /// The statistics of a table of the target (none for a table the plan creates).
    fn stats(&self, table: &QualifiedName) -> Option<&'a TableStats> {
        self.current.stats.get(table)
    }

    /// Whether a table of the target may hold rows: it exists and is not
    /// known to be empty. A table never analyzed may.
    fn may_have_rows(&self, table: &QualifiedName) -> bool {
        self.stats(table).is_some_and(|s| !s.known_empty())
    }
}

/// The hazards of a change, in kind order.
pub fn judge(change: &Change, judging: Judging<'_>) -> Vec<Hazard> {
    let mut hazards = data_loss(change, judging);
    hazards.extend(locks::judge(change, judging));
    hazards.extend(access::judge(change));
    hazards.sort_by_key(|h| h.kind);
    hazards
}

/// The tables of the target that have column `column` only from `table`,
/// directly or further down (a parent's DROP COLUMN recurses to them).
fn inheriting_children(judging: Judging<'_>, table: &QualifiedName, column: &str) -> Vec<QualifiedName> {
    descendants_with(judging, table, column, |c| c.inherited)
}

/// The tables of the target that inherit column `column` from `table`,
/// directly or further down, whether they also declare it or not (a
/// parent's ALTER COLUMN recurses to them).
fn inheritance_children(judging: Judging<'_>, table: &QualifiedName, column: &str) -> Vec<QualifiedName> {
    descendants_with(judging, table, column, |_| true)
}

/// The `INHERITS` descendants of `table` whose column `column` passes
/// `keep`, reached through children that pass it too; sorted.
fn descendants_with(
    judging: Judging<'_>,
    table: &QualifiedName,
    column: &str,
    keep: impl Fn(&crate::catalog::Column) -> bool,
) -> Vec<QualifiedName> {
    let tables = &judging.current.catalog.tables;
    let mut out = Vec::new();
    let mut parents = vec![table.clone()];
    while let Some(parent) = parents.pop() {
        for t in judging
            .inheritance
            .children(&parent)
            .iter()
            .filter_map(|c| tables.get(c))
        {
            if t.column(column).is_some_and(&keep) && !out.contains(&t.name) {
                out.push(t.name.clone());
                parents.push(t.name.clone());
            }
        }
    }
    out.sort();
    out
}

/// Data-loss hazards, each with its irreversible twin when the rollback
/// cannot bring the data back.
fn data_loss(change: &Change, judging: Judging<'_>) -> Vec<Hazard> {
    use Change::*;
    use HazardKind::{DataLoss, Irreversible};
    let on_table =
        |kind, message: String, table: &QualifiedName| Hazard::on_table(kind, message, table, judging.stats(table));
    match change {
        DropTable(t) => vec![
            on_table(DataLoss, format!("drops table {} and all its rows", t.name), &t.name),
            Hazard::new(
                Irreversible,
                format!(
                    "the rollback recreates table {} empty: its rows cannot be brought back",
                    t.name
                ),
            ),
        ],
        DropColumn { table, column } if column.generated.is_none() => {
            let mut out = vec![
                on_table(
                    DataLoss,
                    format!("drops column {table}.{} and its values", column.name),
                    table,
                ),
                Hazard::new(
                    Irreversible,
                    format!(
                        "the rollback recreates column {table}.{} empty: its values cannot be brought back",
                        column.name
                    ),
                ),
            ];
            // The drop recurses to the children that only inherit the column.
            for child in inheriting_children(judging, table, &column.name) {
                out.push(on_table(
                    DataLoss,
                    format!(
                        "drops column {child}.{} (inherited from {table}) and its values",
                        column.name
                    ),
                    &child,
                ));
            }
            out
        }
        NoInherit { table, parent } => {
            let Some(t) = judging.current.catalog.tables.get(table) else {
                return Vec::new();
            };
            let Some(p) = judging.current.catalog.tables.get(parent) else {
                return Vec::new();
            };
            let mut only_inherited: Vec<String> = t
                .columns
                .iter()
                .filter(|c| c.inherited && p.column(&c.name).is_some())
                .map(|c| format!("column {}", c.name))
                .collect();
            only_inherited.extend(
                t.constraints
                    .values()
                    .filter(|k| k.inherited && p.constraints.contains_key(&k.name))
                    .map(|k| format!("check {}", k.name)),
            );
            if only_inherited.is_empty() {
                return Vec::new();
            }
            vec![Hazard::new(
                Irreversible,
                format!(
                    "the rollback makes {table} inherit from {parent} again, but {} that it only inherited stay its own too (PostgreSQL cannot make them inherited-only again)",
                    only_inherited.join(", ")
                ),
            )]
        }
        AlterColumn { table, from, to }
            if from.data_type != to.data_type && !widens(&from.data_type, &to.data_type) =>
        {
            vec![
                on_table(
                    DataLoss,
                    format!(
                        "changes {table}.{} from {} to {}: values that do not fit are cut or make the change fail",
                        to.name, from.data_type, to.data_type
                    ),
                    table,
                ),
                Hazard::new(
                    Irreversible,
                    format!(
                        "the rollback changes {table}.{} back to {}: values cut by the change stay cut",
                        to.name, from.data_type
                    ),
                ),
            ]
        }
        DropEnum(e) => vec![Hazard::new(DataLoss, format!("drops enum type {}", e.name))],
        AlterEnum { from, to, .. } => {
            let removed: Vec<&str> = from
                .labels
                .iter()
                .filter(|l| !to.labels.contains(l))
                .map(String::as_str)
                .collect();
            if removed.is_empty() {
                Vec::new()
            } else {
                vec![Hazard::new(
                    DataLoss,
                    format!(
                        "removes label{} {} from enum {}: rows holding them make the change fail",
                        if removed.len() > 1 { "s" } else { "" },
                        removed.iter().map(|l| format!("'{l}'")).collect::<Vec<_>>().join(", "),
                        to.name
                    ),
                )]
            }
        }
        DropSequence(s) => vec![
            Hazard::new(DataLoss, format!("drops sequence {} and its current value", s.name)),
            Hazard::new(
                Irreversible,
                format!(
                    "the rollback recreates sequence {} at its start: its current value is lost",
                    s.name
                ),
            ),
        ],
        DropSchema(s) => vec![Hazard::new(DataLoss, format!("drops schema {}", s.name))],
        DropExtension(e) => vec![
            Hazard::new(
                DataLoss,
                format!("drops extension {} and everything it installed", e.name),
            ),
            Hazard::new(
                Irreversible,
                format!(
                    "the rollback recreates extension {} as installed: data kept in its objects is lost",
                    e.name
                ),
            ),
        ],
        _ => Vec::new(),
    }
}

/// A type change that keeps every value: a wider integer, a longer varchar,
/// more numeric precision, text from varchar, ...
pub fn widens(from: &str, to: &str) -> bool {
    let (from_base, from_mods) = split_type(from);
    let (to_base, to_mods) = split_type(to);
    let from_array = from.ends_with("[]");
    if from_array != to.ends_with("[]") {
        return false;
    }
    let rank = |t: &str| match t {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        _ => None,
    };
    if crate::catalog::is_user_defined_type(from) && to_base == "text" {
        // Every value of an enum (or other user type) has a text form.
        return true;
    }
    match (from_base.as_str(), to_base.as_str()) {
        (a, b) if rank(a).is_some() && rank(b).is_some() => rank(a) <= rank(b),
        ("smallint" | "integer" | "bigint", "numeric") => to_mods.is_empty(),
        ("real", "double precision") => true,
        ("character varying" | "character", "text") => true,
        ("character varying", "character varying") => match (from_mods.first(), to_mods.first()) {
            (_, None) => true,
            (Some(a), Some(b)) => b >= a,
            (None, Some(_)) => false,
        },
        ("text", "character varying") => to_mods.is_empty(),
        ("numeric", "numeric") => match (from_mods.as_slice(), to_mods.as_slice()) {
            (_, []) => true,
            ([p1, s1], [p2, s2]) => s2 >= s1 && p2 - s2 >= p1 - s1,
            ([p1], [p2]) => p2 >= p1,
            ([p1], [p2, s2]) => p2 - s2 >= *p1,
            _ => false,
        },
        ("timestamp without time zone", "timestamp with time zone") => false,
        (a, b) => a == b && from_mods == to_mods,
    }
}

/// `numeric(10,2)[]` → (`numeric`, [10, 2]); `timestamp(3) with time zone`
/// → (`timestamp with time zone`, [3]).
pub(crate) fn split_type(t: &str) -> (String, Vec<i64>) {
    let t = t.trim_end_matches("[]");
    match (t.find('('), t.find(')')) {
        (Some(open), Some(close)) if close > open => {
            let mods = t[open + 1..close]
                .split(',')
                .filter_map(|m| m.trim().parse().ok())
                .collect();
            (format!("{}{}", &t[..open], &t[close + 1..]), mods)
        }
        _ => (t.to_string(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Column;

    #[test]
    fn widening_changes_lose_nothing() {
        assert!(widens("integer", "bigint"));
        assert!(widens("character varying(10)", "character varying(20)"));
        assert!(widens("character varying(10)", "text"));
        assert!(widens("numeric(10,2)", "numeric(12,2)"));
        assert!(widens("numeric(10,2)", "numeric"));
        assert!(widens("integer[]", "bigint[]"));
    }

    #[test]
    fn narrowing_changes_are_data_loss() {
        assert!(!widens("bigint", "integer"));
        assert!(!widens("character varying(20)", "character varying(10)"));
        assert!(!widens("text", "character varying(10)"));
        assert!(!widens("numeric(10,2)", "numeric(10,0)"));
        assert!(!widens("text", "integer"));
        assert!(!widens("integer[]", "integer"));
        assert!(!widens("timestamp(6) with time zone", "timestamp(3) with time zone"));
    }

    fn table(name: &str, columns: Vec<Column>) -> crate::catalog::Table {
        crate::catalog::Table {
            name: QualifiedName::new("public", name),
            columns,
            ..Default::default()
        }
    }

    fn column(name: &str, data_type: &str) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            ..Default::default()
        }
    }

    /// A target with table `public.t` of the given statistics.
    fn target(stats: Option<TableStats>) -> Snapshot {
        let mut s = Snapshot::default();
        let t = table("t", vec![column("id", "integer")]);
        if let Some(stats) = stats {
            s.stats.insert(t.name.clone(), stats);
        }
        s.catalog.tables.insert(t.name.clone(), t);
        s
    }

    fn kinds(change: &Change, current: &Snapshot) -> Vec<HazardKind> {
        let desired = Snapshot::default();
        judge(
            change,
            Judging {
                current,
                desired: &desired,
                inheritance: &Inheritance::of(&current.catalog),
            },
        )
        .into_iter()
        .map(|h| h.kind)
        .collect()
    }

    #[test]
    fn a_drop_is_data_loss_and_irreversible_with_its_estimate() {
        let current = target(Some(TableStats {
            rows: Some(1_234_567),
            bytes: 300 * 1024 * 1024,
        }));
        let hazards = judge(
            &Change::DropTable(table("t", Vec::new())),
            Judging {
                current: &current,
                desired: &Snapshot::default(),
                inheritance: &Inheritance::of(&current.catalog),
            },
        );
        assert_eq!(
            hazards.iter().map(|h| h.kind).collect::<Vec<_>>(),
            [HazardKind::DataLoss, HazardKind::Irreversible]
        );
        assert_eq!(
            hazards[0].message,
            "drops table public.t and all its rows (public.t: about 1,234,567 rows, 300 MB by pg_class statistics)"
        );
    }

    #[test]
    fn a_table_never_analyzed_is_of_unknown_size_and_may_have_rows() {
        let current = target(Some(TableStats { rows: None, bytes: 0 }));
        let change = Change::AlterColumn {
            table: QualifiedName::new("public", "t"),
            from: column("id", "integer"),
            to: column("id", "bigint"),
        };
        let hazards = judge(
            &change,
            Judging {
                current: &current,
                desired: &Snapshot::default(),
                inheritance: &Inheritance::of(&current.catalog),
            },
        );
        assert_eq!(hazards.len(), 1, "{hazards:?}");
        assert_eq!(hazards[0].kind, HazardKind::TableRewrite);
        assert!(
            hazards[0]
                .message
                .ends_with("(public.t: rows unknown (never analyzed))"),
            "{}",
            hazards[0].message
        );
    }

    #[test]
    fn cost_hazards_skip_empty_and_new_tables() {
        let not_null = Change::AlterColumn {
            table: QualifiedName::new("public", "t"),
            from: column("id", "integer"),
            to: Column {
                not_null: true,
                ..column("id", "integer")
            },
        };
        let empty = target(Some(TableStats {
            rows: Some(0),
            bytes: 0,
        }));
        assert!(kinds(&not_null, &empty).is_empty());
        assert!(kinds(&not_null, &target(None)).is_empty(), "a table the plan creates");
        let full = target(Some(TableStats {
            rows: Some(10),
            bytes: 8192,
        }));
        assert_eq!(kinds(&not_null, &full), [HazardKind::LongLock]);
    }

    #[test]
    fn volatile_defaults_rewrite_and_stable_ones_do_not() {
        let full = target(Some(TableStats {
            rows: Some(10),
            bytes: 8192,
        }));
        let add = |default: &str| Change::AddColumn {
            table: QualifiedName::new("public", "t"),
            column: Column {
                default: Some(default.into()),
                ..column("c", "text")
            },
        };
        assert_eq!(kinds(&add("(random())::text"), &full), [HazardKind::TableRewrite]);
        assert_eq!(kinds(&add("gen_random_uuid()"), &full), [HazardKind::TableRewrite]);
        assert!(kinds(&add("now()"), &full).is_empty());
        assert!(kinds(&add("'x'::text"), &full).is_empty());
    }

    #[test]
    fn allowed_parses_kinds_and_all() {
        assert!(
            Allowed::parse(&["data-loss".into()])
                .unwrap()
                .allows(HazardKind::DataLoss)
        );
        assert!(Allowed::parse(&["all".into()]).unwrap().allows(HazardKind::DataLoss));
        assert!(!Allowed::parse(&[]).unwrap().allows(HazardKind::DataLoss));
        assert!(Allowed::parse(&["data-los".into()]).is_err());
        let some = Allowed::parse(&["table-rewrite,long-lock".into(), "irreversible".into()]).unwrap();
        assert!(some.allows(HazardKind::TableRewrite) && some.allows(HazardKind::LongLock));
        assert!(some.allows(HazardKind::Irreversible) && !some.allows(HazardKind::DataLoss));
        assert!(
            HazardKind::ALL
                .iter()
                .all(|k| Allowed::parse(&["all".into()]).unwrap().allows(*k))
        );
    }
}
