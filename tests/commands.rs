//! The commands around `plan` and `apply`, through the binary: settings from
//! `converge.toml` and their precedence, `plan --check`, `check`, `dump`,
//! `init`, `completions` and `man`.

mod support;

use std::path::Path;
use support::bin::{converge, converge_with, schema_dir, text};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
    std::fs::write(path, text).expect("write");
}

#[test]
fn flags_beat_the_environment_which_beats_the_defaults() {
    let rt = support::runtime();
    rt.block_on(async {
        let behind = support::fresh_db("cfg_behind").await;
        let current = support::fresh_db("cfg_current").await;
        let sql = "CREATE TABLE public.notes (id bigint PRIMARY KEY, body text NOT NULL);";
        support::load(&current, sql).await.unwrap();
        let project = schema_dir(&[("db/notes.sql", sql)]);
        let dir = project.path();
        write(
            dir,
            "converge.toml",
            &format!(
                r#"
schema = ["db"]
dev_url = "{admin}"
default_environment = "behind"

[defaults]
format = "json"

[environments.behind]
url = "{behind}"

[environments.current]
url_env = "CURRENT_DATABASE_URL"
format = "sql"
"#,
                admin = support::url("postgres"),
                behind = support::url(&behind.dbname()),
            ),
        );
        let current_url = support::url(&current.dbname());
        let vars = [("CURRENT_DATABASE_URL", current_url.as_str())];

        // default_environment, schema from the top level, format from [defaults]
        let o = converge_with(&["plan", "--exit-code"], Some(dir), &vars);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("[defaults] format = json");
        assert_eq!(json["steps"].as_array().map(Vec::len), Some(1));

        // --env picks the other environment, its URL from the variable, its format over [defaults]
        let o = converge_with(&["plan", "--exit-code", "--env", "current"], Some(dir), &vars);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert!(
            text(&o.stdout).starts_with("-- converge: 0 steps"),
            "format = sql prints the (empty) script: {}",
            text(&o.stdout)
        );

        // flags beat the environment
        let behind_url = support::url(&behind.dbname());
        let o = converge_with(
            &[
                "plan",
                "--exit-code",
                "--env",
                "current",
                "--url",
                &behind_url,
                "--format",
                "text",
            ],
            Some(dir),
            &vars,
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        assert!(text(&o.stdout).contains("Plan: 1 to create"), "{}", text(&o.stdout));

        // a variable that is not set, an unknown environment, an unknown key
        let o = converge(&["plan", "--env", "current"], Some(dir));
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o.stderr).contains("$CURRENT_DATABASE_URL, which is not set"),
            "{}",
            text(&o.stderr)
        );
        let o = converge(&["plan", "--env", "prod"], Some(dir));
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o.stderr).contains("no environment `prod`"), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("behind, current"), "{}", text(&o.stderr));
        write(dir, "typo.toml", "shema = [\"db\"]\n");
        let o = converge(&["--config", "typo.toml", "plan"], Some(dir));
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o.stderr).contains("typo.toml") && text(&o.stderr).contains("shema"),
            "{}",
            text(&o.stderr)
        );
        let o = converge(&["--config", "missing.toml", "plan"], Some(dir));
        assert_eq!(o.status.code(), Some(1), "a --config that does not exist is an error");
    });
}

#[test]
fn plan_check_fails_on_a_stale_plan_and_writes_nothing() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cfg_check").await;
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let schema = schema_dir(&[("t.sql", "CREATE TABLE public.t (id int PRIMARY KEY);")]);
        let s = schema.path().to_str().unwrap();
        let out = tempfile::tempdir().unwrap();
        let plan_dir = out.path().join("plan");
        let p = plan_dir.to_str().unwrap();
        let base = ["plan", "--url", &url, "--dev-url", &admin, "--schema", s, "--out", p];

        let o = converge(&[&base[..], &["--check"]].concat(), None);
        assert_eq!(o.status.code(), Some(1), "no plan written yet: stale");
        assert!(!plan_dir.exists(), "--check writes nothing");

        let o = converge(&base, None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let o = converge(&[&base[..], &["--check"]].concat(), None);
        assert_eq!(o.status.code(), Some(0), "up to date\n{}", text(&o.stderr));

        let written = std::fs::read_to_string(plan_dir.join("forward.sql")).unwrap();
        std::fs::write(
            schema.path().join("t.sql"),
            "CREATE TABLE public.t (id bigint PRIMARY KEY);",
        )
        .unwrap();
        let o = converge(&[&base[..], &["--check"]].concat(), None);
        assert_eq!(o.status.code(), Some(1));
        let err = text(&o.stderr);
        assert!(
            err.contains("is stale") && err.contains("forward.sql") && err.contains("plan.json"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(plan_dir.join("forward.sql")).unwrap(),
            written,
            "--check writes nothing"
        );
    });
}

#[test]
fn check_loads_the_desired_files_without_a_target() {
    let admin = support::url("postgres");
    let good = schema_dir(&[
        ("b.sql", "CREATE TABLE app.items (id int PRIMARY KEY, kind app.kind);"),
        ("a.sql", "CREATE SCHEMA app; CREATE TYPE app.kind AS ENUM ('a', 'b');"),
    ]);
    let o = converge(
        &["check", "--dev-url", &admin, "--schema", good.path().to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("ok: 2 files, 3 statements"),
        "{}",
        text(&o.stderr)
    );

    let bad = schema_dir(&[("t.sql", "CREATE TABLE public.t (id int, kind public.nope);")]);
    let o = converge(
        &["check", "--dev-url", &admin, "--schema", bad.path().to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("t.sql:1:") && err.contains("public.nope"), "{err}");
}

#[test]
fn dump_writes_files_that_plan_empty_and_refuses_a_non_empty_directory() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cfg_dump").await;
        support::load(
            &db,
            "CREATE SCHEMA shop;
             CREATE TYPE shop.state AS ENUM ('open', 'closed');
             CREATE TABLE shop.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, state shop.state NOT NULL);
             CREATE INDEX orders_open ON shop.orders (id) WHERE state = 'open';
             CREATE VIEW shop.open_orders AS SELECT id FROM shop.orders WHERE state = 'open';",
        )
        .await
        .unwrap();
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("schema");
        let d = dir.to_str().unwrap();

        let o = converge(&["dump", "--url", &url, "--out", d], None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert!(dir.join("shop/tables/orders.sql").is_file());
        let o = converge(
            &["plan", "--url", &url, "--dev-url", &admin, "--schema", d, "--exit-code"],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "the dump plans empty:\n{}", text(&o.stdout));

        let o = converge(&["dump", "--url", &url, "--out", d], None);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o.stderr).contains("is not empty"), "{}", text(&o.stderr));
        let o = converge(&["dump", "--url", &url, "--out", d, "--force"], None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    });
}

#[test]
fn excluded_schemas_are_neither_planned_nor_dropped() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cfg_filter").await;
        support::load(
            &db,
            "CREATE SCHEMA legacy; CREATE TABLE legacy.old (id int); CREATE TABLE public.t (id int);",
        )
        .await
        .unwrap();
        let project = schema_dir(&[("schema/t.sql", "CREATE TABLE public.t (id int, note text);")]);
        write(project.path(), "converge.toml", "exclude_schemas = [\"legacy\"]\n");
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let o = converge(
            &["apply", "--url", &url, "--dev-url", &admin, "--yes"],
            Some(project.path()),
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "no data-loss step: legacy is not managed\n{}",
            text(&o.stderr)
        );
        let client = db.connect().await.unwrap();
        let n: i64 = client
            .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'legacy'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "legacy.old is left alone");
    });
}

#[test]
fn init_writes_a_starter_once_and_it_loads() {
    let dir = tempfile::tempdir().unwrap();
    let o = converge(&["init"], Some(dir.path()));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(dir.path().join("schema").is_dir());
    let starter = std::fs::read_to_string(dir.path().join("converge.toml")).unwrap();
    converge::config::Config::parse(&starter, Path::new("converge.toml")).expect("the starter file parses");

    std::fs::write(dir.path().join("converge.toml"), "# mine\n").unwrap();
    let o = converge(&["init"], Some(dir.path()));
    assert_eq!(o.status.code(), Some(1), "init never overwrites");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("converge.toml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let o = converge(&["completions", shell], None);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = text(&o.stdout);
        assert!(
            script.contains("allow-hazards") && script.contains("dev-url"),
            "{shell}: {script}"
        );
    }
    let o = converge(&["man"], None);
    assert_eq!(o.status.code(), Some(0));
    let page = text(&o.stdout);
    assert!(page.starts_with(".ie") || page.contains(".TH converge"), "{page}");
}

/// `--format json` is a versioned document: its whole text for a fixed
/// schema against an empty database is a reviewed snapshot, so any change to
/// its shape shows up in review (and must come with a format_version bump
/// when it is not an addition).
#[test]
fn plan_json_matches_its_snapshot() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cfg_json").await;
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let project = schema_dir(&[
            ("schema/a.sql", "CREATE TYPE mood AS ENUM ('ok', 'meh');\n"),
            (
                "schema/b.sql",
                "CREATE TABLE people (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    mood mood NOT NULL DEFAULT 'ok'\n);\nCREATE INDEX people_mood ON people (mood);\n",
            ),
        ]);
        let o = converge(
            &["plan", "--url", &url, "--dev-url", &admin, "--format", "json"],
            Some(project.path()),
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let json = text(&o.stdout);
        let value: serde_json::Value = serde_json::from_str(&json).expect("plan.json parses");
        assert_eq!(value["format_version"], 1);
        insta::assert_snapshot!("plan_json", json);
        support::drop_db(&db).await;
    });
}

/// The README's quick start runs `cargo run --release -- apply --yes`: with
/// more than one binary in the package (`converge-bench`), that works only
/// while the manifest names `converge` as the one `cargo run` runs.
#[test]
fn cargo_run_runs_converge() {
    let manifest: toml::Table = std::fs::read_to_string("Cargo.toml")
        .expect("Cargo.toml")
        .parse()
        .expect("Cargo.toml is TOML");
    let binaries = std::fs::read_dir("src/bin").map(|d| d.count()).unwrap_or(0) + 1;
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    assert!(readme.contains("cargo run --release -- apply --yes"));
    if binaries > 1 {
        assert_eq!(
            manifest["package"].get("default-run").and_then(|v| v.as_str()),
            Some("converge"),
            "{binaries} binaries: `cargo run` needs `default-run = \"converge\"` in [package]"
        );
    }
}

#[test]
fn plan_asks_the_target_which_type_changes_it_cannot_cast() {
    let rt = support::runtime();
    rt.block_on(async {
        let db = support::fresh_db("cfg_casts").await;
        support::load(&db, "CREATE TABLE public.t (id int, a int, b date, c int);")
            .await
            .unwrap();
        // int → uuid has no cast: the column is re-created; date → text and
        // int → bigint are cast in place. Three questions, asked together
        // while the plan is diffed.
        let project = schema_dir(&[(
            "schema/t.sql",
            "CREATE TABLE public.t (id int, a uuid, b text, c bigint);",
        )]);
        let url = support::url(&db.dbname());
        let admin = support::url("postgres");
        let o = converge(
            &["plan", "--url", &url, "--dev-url", &admin, "--format", "sql"],
            Some(project.path()),
        );
        let plan = text(&o.stdout);
        assert!(o.status.success(), "{}\n{plan}", text(&o.stderr));
        assert!(plan.contains("DROP COLUMN a"), "a is re-created:\n{plan}");
        assert!(plan.contains("ADD COLUMN a uuid"), "a is re-created:\n{plan}");
        assert!(plan.contains("ALTER COLUMN b TYPE text"), "b is cast:\n{plan}");
        assert!(plan.contains("ALTER COLUMN c TYPE bigint"), "c is cast:\n{plan}");
        assert!(
            !plan.contains("DROP COLUMN b") && !plan.contains("DROP COLUMN c"),
            "{plan}"
        );
    });
}
