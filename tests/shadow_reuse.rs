//! The incremental shadow gives exactly what a full load gives, on a
//! generated workload of the benchmark's kind (`../shared/bench/gen_schema.py`
//! when it is there, else an equivalent one generated here): for its whole
//! change set, and for single statement changes. Every fixture is checked
//! the same way by `tests/fixtures.rs` (old.sql, then new.sql). And a
//! desired state given away to the load (which frees its classifications
//! before loading, as a plan does) loads what a lent one does.

mod support;

use converge::shadow::{Janitor, Obtained, Reread, fresh_snapshot};
use converge::source::{Desired, Sources};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use support::kept::KeptCase;

fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test("workload/change_set", workload_change_set),
        Trial::test("workload/single_statement_changes", workload_single_changes),
        Trial::test("workload/given_away_loads_the_same", workload_given_away),
    ];
    libtest_mimic::run(&args, trials).exit();
}

fn desired(name: &str, text: &str) -> Result<Desired, String> {
    Desired::from_sources(Sources::from_texts([(format!("{name}.sql"), text.to_string())]))
        .map_err(|d| format!("{name}: the desired files are refused: {d:?}"))
}

/// Brings `case` from its current state to `new` incrementally and compares
/// the result with a full load of `new`. Returns how the snapshot was made.
async fn compare(case: &KeptCase, label: &str, new: &Desired) -> Result<Obtained, String> {
    let (incremental, obtained) = case.update(label, new).await?;
    if let Obtained::FullLoad { .. } = obtained {
        // A full load compared with a full load would only cost time.
        return Ok(obtained);
    }
    let full = fresh_snapshot(&support::admin(), new, &Janitor::default())
        .await
        .map_err(|e| format!("{label}: the full load fails: {e}"))?;
    support::kept::same(label, &incremental, &full, &obtained)?;
    Ok(obtained)
}

/// base.sql and changed.sql of the benchmark's kind, at a small size.
fn workload() -> (String, String) {
    let script = Path::new("../shared/bench/gen_schema.py");
    if script.is_file() {
        let out = tempfile::tempdir().expect("a directory for the workload");
        let status = std::process::Command::new("python3")
            .arg(script)
            .args(["--tables", "50", "--seed", "42", "--out"])
            .arg(out.path())
            .stdout(std::process::Stdio::null())
            .status();
        if status.is_ok_and(|s| s.success()) {
            let read = |f: &str| std::fs::read_to_string(out.path().join(f)).expect("generated workload file");
            let strip = |s: String| s.replace("SET client_min_messages = warning;", "");
            return (strip(read("base.sql")), strip(read("changed.sql")));
        }
    }
    generated_workload()
}

/// A workload like gen_schema.py's, for machines without it: schemas, enum
/// types, sequences, tables with identity keys, defaults, checks and foreign
/// keys to earlier tables, indexes, a function and a trigger, views and
/// comments; changed.sql adds and drops columns, indexes, a table, an enum
/// label and a view column, and changes defaults and comments.
fn generated_workload() -> (String, String) {
    let tables = 50;
    let schemas = ["app", "billing", "sales"];
    let mut base = String::new();
    let mut changed = String::new();
    let both = |base: &mut String, changed: &mut String, s: &str| {
        base.push_str(s);
        changed.push_str(s);
    };
    for s in schemas {
        both(&mut base, &mut changed, &format!("CREATE SCHEMA {s};\n"));
        both(
            &mut base,
            &mut changed,
            &format!("CREATE SEQUENCE {s}.{s}_doc_no_seq START WITH 1000;\n"),
        );
    }
    base.push_str("CREATE TYPE app.status AS ENUM ('pending', 'active', 'closed');\n");
    changed.push_str("CREATE TYPE app.status AS ENUM ('pending', 'active', 'suspended', 'closed');\n");
    both(
        &mut base,
        &mut changed,
        "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;\n",
    );
    for i in 0..tables {
        let s = schemas[i % schemas.len()];
        let fk = if i > 0 {
            let j = (i * 7) % i;
            format!(
                ",\n    t{j}_id bigint REFERENCES {}.t{j} (id) ON DELETE SET NULL",
                schemas[j % schemas.len()]
            )
        } else {
            String::new()
        };
        let table = |extra: &str, default: &str| {
            format!(
                "CREATE TABLE {s}.t{i} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
                 name text NOT NULL DEFAULT {default},\n    status app.status NOT NULL DEFAULT 'pending',\n    \
                 score integer CHECK (score >= 0),\n    updated_at timestamptz DEFAULT now(){extra}{fk}\n);\n"
            )
        };
        base.push_str(&table("", "''"));
        match i % 10 {
            3 => changed.push_str(&table(",\n    note text", "''")),
            5 => changed.push_str(&table("", "'unnamed'")),
            _ => changed.push_str(&table("", "''")),
        }
        let index = format!("CREATE INDEX t{i}_name ON {s}.t{i} (name);\n");
        base.push_str(&index);
        if i % 10 != 7 {
            changed.push_str(&index);
        }
        if i % 10 == 2 {
            changed.push_str(&format!(
                "CREATE INDEX t{i}_score ON {s}.t{i} (score) WHERE score > 0;\n"
            ));
        }
        if i % 5 == 0 {
            both(
                &mut base,
                &mut changed,
                &format!("CREATE VIEW {s}.v{i} AS SELECT id, name, status FROM {s}.t{i} WHERE status <> 'closed';\n"),
            );
            both(
                &mut base,
                &mut changed,
                &format!(
                    "CREATE TRIGGER t{i}_touch BEFORE UPDATE ON {s}.t{i} FOR EACH ROW EXECUTE FUNCTION app.touch();\n"
                ),
            );
        }
        base.push_str(&format!("COMMENT ON TABLE {s}.t{i} IS 'table {i}';\n"));
        changed.push_str(&format!(
            "COMMENT ON TABLE {s}.t{i} IS 'table {i}{}';\n",
            if i % 10 == 4 { " (changed)" } else { "" }
        ));
    }
    changed.push_str("CREATE TABLE app.added (id int PRIMARY KEY, t1_id bigint REFERENCES billing.t1 (id));\n");
    (base, changed)
}

fn workload_change_set() -> Result<(), Failed> {
    let (base, changed) = workload();
    let (base, changed) = (desired("base", &base)?, desired("changed", &changed)?);
    let rt = support::runtime();
    rt.block_on(async {
        let case = KeptCase::new();
        let result = async {
            case.prime(&base)
                .await
                .map_err(|e| format!("base.sql does not load: {e}"))?;
            let how = compare(&case, "base.sql -> changed.sql", &changed).await?;
            if !matches!(
                how,
                Obtained::Incremental {
                    read: Reread::Changes,
                    ..
                }
            ) {
                return Err(format!(
                    "the workload's change set must go incremental, read as its changes: {how:?}"
                ));
            }
            // And back.
            compare(&case, "changed.sql -> base.sql", &base).await?;
            Ok(())
        }
        .await;
        case.drop().await;
        result
    })
    .map_err(Failed::from)
}

/// A plan gives its parsed desired state away to the shadow load, which
/// keeps only the statements' texts: the snapshot must be the one a lent
/// desired state (whole) gives.
fn workload_given_away() -> Result<(), Failed> {
    let (_, changed) = workload();
    let changed = desired("changed", &changed)?;
    let rt = support::runtime();
    rt.block_on(async {
        let lent = fresh_snapshot(&support::admin(), &changed, &Janitor::default())
            .await
            .map_err(|e| format!("changed.sql lent does not load: {e}"))?;
        let given = fresh_snapshot(&support::admin(), changed.clone(), &Janitor::default())
            .await
            .map_err(|e| format!("changed.sql given away does not load: {e}"))?;
        if lent.catalog.tables.is_empty() {
            return Err("the workload loaded no table".to_string());
        }
        if !given.catalog.same_as(&lent.catalog) || given.deps != lent.deps {
            return Err(format!(
                "a desired state given away loads another snapshot than a lent one:\n{}",
                converge::apply::differences(&given.catalog, &lent.catalog)
            ));
        }
        Ok(())
    })
    .map_err(Failed::from)
}

/// One statement at a time changes, is added or removed, from the same kept
/// database, each compared with a full load.
fn workload_single_changes() -> Result<(), Failed> {
    let (_, changed) = workload();
    let statements = desired("changed", &changed)?;
    let texts: Vec<String> = statements
        .statements
        .iter()
        .map(|s| statements.sql(s).to_string())
        .collect();
    // A spread of statements, each edited in a way that keeps the file valid.
    let picks: Vec<usize> = (0..texts.len()).step_by((texts.len() / 8).max(1)).collect();
    let rt = support::runtime();
    rt.block_on(async {
        let case = KeptCase::new();
        let result = async {
            let mut incremental = 0;
            let mut read_changes = 0;
            case.prime(&statements)
                .await
                .map_err(|e| format!("changed.sql does not load: {e}"))?;
            for &k in &picks {
                let edited = edit(&texts[k]);
                for (label, variant) in [("edited", Some(edited)), ("removed", None)] {
                    let mut lines: Vec<String> = texts.clone();
                    match variant {
                        Some(e) => lines[k] = e,
                        None => {
                            lines.remove(k);
                        }
                    }
                    let Ok(next) = desired("next", &(lines.join(";\n") + ";\n")) else {
                        continue;
                    };
                    // Removing a statement others need makes a schema that does not load.
                    if fresh_snapshot(&support::admin(), &next, &Janitor::default())
                        .await
                        .is_err()
                    {
                        continue;
                    }
                    let what = format!("statement {k} {label}: {}", texts[k].lines().next().unwrap_or(""));
                    if let Obtained::Incremental { read, .. } = compare(&case, &what, &next).await? {
                        incremental += 1;
                        read_changes += usize::from(read == Reread::Changes);
                    }
                    // Back to the workload, incrementally as well.
                    compare(&case, &format!("{what} (undone)"), &statements).await?;
                }
            }
            if incremental == 0 {
                return Err("no single statement change went incremental".to_string());
            }
            if read_changes < incremental {
                return Err(format!(
                    "only {read_changes} of {incremental} incremental updates were read as their changes"
                ));
            }
            Ok(())
        }
        .await;
        case.drop().await;
        result
    })
    .map_err(Failed::from)
}

/// A small edit that keeps a statement valid: a comment's text, an extra
/// column in a table, a column less in a view, an index made descending.
fn edit(statement: &str) -> String {
    let upper = statement.to_uppercase();
    if upper.starts_with("COMMENT ON") {
        statement.replacen(" IS '", " IS 'edited ", 1)
    } else if upper.starts_with("CREATE TABLE") {
        match statement.rfind(')') {
            Some(at) => format!("{},\n    edited_note text{}", &statement[..at], &statement[at..]),
            None => statement.to_string(),
        }
    } else if upper.starts_with("CREATE INDEX") || upper.starts_with("CREATE UNIQUE INDEX") {
        match statement.rfind(')') {
            Some(at) => format!("{} DESC{}", &statement[..at], &statement[at..]),
            None => statement.to_string(),
        }
    } else {
        format!("{statement}\n-- edited")
    }
}
