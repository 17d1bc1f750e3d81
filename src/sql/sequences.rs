//! SQL for sequences, and the sequence options of identity columns.

use super::ident::qualified;
use super::objects::push_comment;
use crate::catalog::{Acl, ObjectId, Sequence, SequenceOptions};

pub fn create(s: &Sequence, initial: &Acl) -> Vec<String> {
    let options = options(&s.options, None);
    let mut out = vec![format!(
        "CREATE SEQUENCE {}{}{}",
        qualified(&s.name),
        if options.is_empty() { "" } else { " " },
        options.join(" ")
    )];
    let id = ObjectId::Sequence(s.name.clone());
    push_comment(&mut out, &id, s.comment.as_deref());
    if !s.owner.is_empty() {
        out.push(super::privileges::owner(&id, "SEQUENCE", &s.owner));
    }
    out.extend(super::privileges::grants(&id, "SEQUENCE", initial, &s.acl));
    out
}

pub fn alter(from: &Sequence, to: &Sequence) -> Vec<String> {
    let changed = changed_options(&from.options, &to.options);
    if changed.is_empty() {
        return Vec::new();
    }
    vec![format!("ALTER SEQUENCE {} {}", qualified(&to.name), changed.join(" "))]
}

/// The options that differ from what PostgreSQL would pick for a sequence of
/// this type (`implied_type` is the type a bare identity sequence gets: its
/// column's).
pub fn options(o: &SequenceOptions, implied_type: Option<&str>) -> Vec<String> {
    let d = SequenceOptions::defaults_for(&o.data_type, o.increment);
    let mut out = Vec::new();
    if o.data_type != implied_type.unwrap_or("bigint") {
        out.push(format!("AS {}", o.data_type));
    }
    if o.increment != 1 {
        out.push(format!("INCREMENT BY {}", o.increment));
    }
    if o.min != d.min {
        out.push(format!("MINVALUE {}", o.min));
    }
    if o.max != d.max {
        out.push(format!("MAXVALUE {}", o.max));
    }
    let start_default = if o.increment > 0 { o.min } else { o.max };
    if o.start != start_default {
        out.push(format!("START WITH {}", o.start));
    }
    if o.cache != 1 {
        out.push(format!("CACHE {}", o.cache));
    }
    if o.cycle {
        out.push("CYCLE".into());
    }
    out
}

/// `ALTER SEQUENCE` clauses for the options that change. A type change also
/// states the bounds, which PostgreSQL would otherwise adjust on its own.
pub fn changed_options(from: &SequenceOptions, to: &SequenceOptions) -> Vec<String> {
    let mut out = Vec::new();
    let type_changes = from.data_type != to.data_type;
    if type_changes {
        out.push(format!("AS {}", to.data_type));
    }
    if from.increment != to.increment {
        out.push(format!("INCREMENT BY {}", to.increment));
    }
    if type_changes || from.min != to.min {
        out.push(format!("MINVALUE {}", to.min));
    }
    if type_changes || from.max != to.max {
        out.push(format!("MAXVALUE {}", to.max));
    }
    if from.start != to.start {
        out.push(format!("START WITH {}", to.start));
    }
    if from.cache != to.cache {
        out.push(format!("CACHE {}", to.cache));
    }
    if from.cycle != to.cycle {
        out.push(if to.cycle { "CYCLE".into() } else { "NO CYCLE".into() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_are_left_out() {
        let d = SequenceOptions::defaults_for("bigint", 1);
        assert!(options(&d, None).is_empty());
        let down = SequenceOptions::defaults_for("integer", -1);
        assert_eq!(options(&down, None), vec!["AS integer", "INCREMENT BY -1"]);
        let custom = SequenceOptions {
            start: 1000,
            cache: 20,
            cycle: true,
            ..d
        };
        assert_eq!(options(&custom, None), vec!["START WITH 1000", "CACHE 20", "CYCLE"]);
    }
}
