//! Hazards: typed warnings on steps, which `apply` refuses unless allowed.

use crate::diff::Change;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HazardKind {
    /// The step destroys data: rows, column values, a sequence's position.
    DataLoss,
}

impl HazardKind {
    pub const ALL: [HazardKind; 1] = [HazardKind::DataLoss];

    pub fn as_str(self) -> &'static str {
        match self {
            HazardKind::DataLoss => "data-loss",
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
    /// One line: what is lost or risked.
    pub message: String,
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

/// The hazards of a change.
pub fn judge(change: &Change) -> Vec<Hazard> {
    use Change::*;
    let data_loss = |message: String| {
        vec![Hazard {
            kind: HazardKind::DataLoss,
            message,
        }]
    };
    match change {
        DropTable(t) => data_loss(format!(
            "drops table {} and all its rows (rollback recreates it empty)",
            t.name
        )),
        DropColumn { table, column } if column.generated.is_none() => data_loss(format!(
            "drops column {table}.{} and its values (rollback recreates it empty)",
            column.name
        )),
        AlterColumn { table, from, to } if from.data_type != to.data_type => {
            if widens(&from.data_type, &to.data_type) {
                Vec::new()
            } else {
                data_loss(format!(
                    "changes {table}.{} from {} to {}: values that do not fit are cut or make the change fail",
                    to.name, from.data_type, to.data_type
                ))
            }
        }
        DropEnum(e) => data_loss(format!("drops enum type {}", e.name)),
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
                data_loss(format!(
                    "removes label{} {} from enum {}: rows holding them make the change fail",
                    if removed.len() > 1 { "s" } else { "" },
                    removed.iter().map(|l| format!("'{l}'")).collect::<Vec<_>>().join(", "),
                    to.name
                ))
            }
        }
        DropSequence(s) => data_loss(format!("drops sequence {} and its current value", s.name)),
        DropSchema(s) => data_loss(format!("drops schema {}", s.name)),
        DropExtension(e) => data_loss(format!("drops extension {} and everything it installed", e.name)),
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
fn split_type(t: &str) -> (String, Vec<i64>) {
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
    }
}
