//! Plans as text: the forward and rollback SQL scripts, the human summary,
//! and `plan.json`.
//!
//! Nothing here reads the clock or anything else that changes between runs:
//! the same plan renders to the same bytes.

mod document;

pub use document::{
    Group, ObjectRef, PLAN_FORMAT_VERSION, PlanDocument, PlanFileError, PlanFiles, PlanFingerprints, StepDoc, groups,
    steps_of,
};

use crate::diff::Verb;
use crate::plan::{HazardKind, Plan};
use crate::sql::{Setting, step_settings};
use std::fmt::Write;

/// The forward script of `plan`.
pub fn forward_sql(plan: &Plan) -> String {
    forward_script(&step_settings(), &steps_of(plan))
}

/// The rollback script of `plan`.
pub fn rollback_sql(plan: &Plan) -> String {
    rollback_script(&step_settings(), &steps_of(plan))
}

/// The human summary of `plan`.
pub fn summary(plan: &Plan, color: bool) -> String {
    summary_of(&steps_of(plan), color)
}

/// The forward script: the session settings, then every step's statements,
/// in order, each step headed by a comment saying what it does and where it
/// comes from.
pub fn forward_script(settings: &[Setting], steps: &[StepDoc]) -> String {
    let mut out = String::new();
    let n = steps.len();
    let _ = writeln!(out, "-- converge: {n} step{} to apply, in this order", plural(n));
    write_settings(&mut out, settings);
    // A plan in one transaction says nothing of groups.
    let grouped = steps.iter().any(|s| !s.transactional);
    let groups = groups(steps);
    for step in steps {
        out.push('\n');
        if grouped && let Some(g) = groups.iter().find(|g| g.first == step.index) {
            let _ = writeln!(out, "-- ==== {} ====", g.label());
            if g.transaction.is_none() {
                let _ = writeln!(out, "-- (each statement commits as it runs)");
            }
            out.push('\n');
        }
        let _ = writeln!(out, "-- step {}/{n}: {}", step.index, step.heading());
        if let Some(reason) = &step.reason {
            let _ = writeln!(out, "-- {reason}");
        }
        for h in &step.hazards {
            let _ = writeln!(out, "-- hazard {}: {}", h.kind, h.message);
        }
        if step.forward.is_empty()
            && let Some(by) = &step.implied_by
        {
            let _ = writeln!(out, "-- (nothing to run: PostgreSQL drops it with {by})");
        }
        for stmt in &step.forward {
            let _ = writeln!(out, "{stmt};");
        }
    }
    out
}

/// The rollback script: the session settings, then the reverse of every
/// step, last step first.
pub fn rollback_script(settings: &[Setting], steps: &[StepDoc]) -> String {
    let mut out = String::new();
    let n = steps.len();
    let _ = writeln!(
        out,
        "-- converge rollback: undoes the {n} step{} of the plan, last first",
        plural(n)
    );
    write_settings(&mut out, settings);
    for step in steps.iter().rev() {
        out.push('\n');
        let _ = writeln!(out, "-- undo step {}/{n}: {}", step.index, step.description);
        if step.has_hazard(HazardKind::DataLoss) {
            let _ = writeln!(
                out,
                "-- note: this restores the structure, not the data the step destroyed"
            );
        }
        for stmt in &step.rollback {
            let _ = writeln!(out, "{stmt};");
        }
    }
    out
}

/// The settings the steps run under, as `SET` statements (session-wide: a
/// script may run outside a transaction).
fn write_settings(out: &mut String, settings: &[Setting]) {
    if settings.is_empty() {
        return;
    }
    out.push('\n');
    let _ = writeln!(out, "-- the settings converge apply runs the steps with");
    for setting in settings {
        let _ = writeln!(out, "{};", setting.statement(false));
    }
}

/// The human summary: a count line (steps by verb, hazards by kind), then
/// the steps grouped by the object they change (a table with its columns,
/// constraints and indexes), in plan order, each with its marker, source,
/// reason and hazards.
pub fn summary_of(steps: &[StepDoc], color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    if steps.is_empty() {
        return "No changes: the target matches the desired schema.\n".into();
    }
    let count = |verb: Verb| {
        steps
            .iter()
            .filter(|s| s.verb == verb && s.implied_by.is_none())
            .count()
    };
    let mut by_kind: Vec<(HazardKind, usize)> = Vec::new();
    for h in steps.iter().flat_map(|s| &s.hazards) {
        match by_kind.iter_mut().find(|(k, _)| *k == h.kind) {
            Some((_, n)) => *n += 1,
            None => by_kind.push((h.kind, 1)),
        }
    }
    by_kind.sort();
    let hazards: usize = by_kind.iter().map(|(_, n)| n).sum();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan: {} to create, {} to alter, {} to drop{}",
        count(Verb::Create),
        count(Verb::Alter),
        count(Verb::Drop),
        if hazards > 0 {
            let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
            format!(
                ", {} ({})",
                paint("1;31", &format!("{hazards} hazard{}", plural(hazards))),
                kinds.join(", ")
            )
        } else {
            String::new()
        }
    );
    // Groups in the order their first step runs.
    let mut by_object: Vec<(&str, Vec<&StepDoc>)> = Vec::new();
    for step in steps {
        let key = if step.group.is_empty() {
            step.object.name.as_str()
        } else {
            step.group.as_str()
        };
        match by_object.iter_mut().find(|(g, _)| *g == key) {
            Some((_, members)) => members.push(step),
            None => by_object.push((key, vec![step])),
        }
    }
    for (group, members) in by_object {
        out.push('\n');
        let flagged = members.iter().any(|s| !s.hazards.is_empty());
        let _ = writeln!(
            out,
            "  {}{}",
            paint("1", group),
            if flagged { paint("1;31", "  ⚠") } else { String::new() }
        );
        for step in members {
            let (marker, code) = match step.verb {
                Verb::Create => ("+", "32"),
                Verb::Alter => ("~", "33"),
                Verb::Drop => ("-", "31"),
            };
            let mut line = format!("    {} {}", paint(code, marker), step.description);
            if let Some(by) = &step.implied_by {
                line.push_str(&paint("2", &format!("  (dropped with {by})")));
            }
            if let Some(source) = &step.source {
                line.push_str(&paint("2", &format!("  {source}")));
            }
            let _ = writeln!(out, "{line}");
            if let Some(reason) = &step.reason {
                let _ = writeln!(out, "        {}", paint("2", reason));
            }
            for h in &step.hazards {
                let _ = writeln!(
                    out,
                    "        {} {}",
                    paint("1;31", &format!("⚠ {}:", h.kind)),
                    h.message
                );
            }
        }
    }
    if steps.iter().any(|s| !s.transactional) {
        let _ = writeln!(
            out,
            "\nRuns in these groups, in order (a group that fails does not undo the groups before it):"
        );
        for g in groups(steps) {
            match g.transaction {
                Some(_) => {
                    let _ = writeln!(out, "  {}", g.label());
                }
                None => {
                    let first = steps
                        .iter()
                        .find(|s| s.index == g.first)
                        .and_then(|s| s.forward.first())
                        .map(|s| first_line(s))
                        .unwrap_or_default();
                    let _ = writeln!(out, "  {} {}", g.label(), first);
                }
            }
        }
    }
    out
}

/// The statement's first line, shortened to fit a summary line.
fn first_line(statement: &str) -> String {
    let line = statement.lines().next().unwrap_or_default();
    if line.chars().count() > 90 {
        format!("{}…", line.chars().take(89).collect::<String>())
    } else {
        line.to_string()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
