//! `generated/initial/` holds the plan of the repository's own `schema/`
//! against an empty database, committed for review. This test checks it with
//! the binary's own `plan --out generated/initial --check`, as a project's CI
//! would, and fails when it is stale; set `CONVERGE_UPDATE_GENERATED=1` to
//! rewrite it.

mod support;

use support::bin::{converge, text};

#[test]
fn the_committed_initial_plan_is_up_to_date() {
    let rt = support::runtime();
    let empty = rt.block_on(support::fresh_db("generated_initial"));
    let url = support::url(&empty.dbname());
    let admin = support::url("postgres");
    let mut args = vec![
        "plan",
        "--url",
        &url,
        "--dev-url",
        &admin,
        "--schema",
        "schema",
        "--out",
        "generated/initial",
        "--format",
        "sql",
    ];
    if std::env::var_os("CONVERGE_UPDATE_GENERATED").is_none() {
        args.push("--check");
    }
    let o = converge(&args, None);
    rt.block_on(support::drop_db(&empty));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\ngenerated/initial/ is stale: schema/ or converge changed. Review and rewrite it with \
         `CONVERGE_UPDATE_GENERATED=1 cargo test --release --test generated`",
        text(&o.stderr)
    );
}
