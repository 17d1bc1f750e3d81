//! `generated/initial/` holds the plan of the repository's own `schema/`
//! against an empty database, committed for review. This test regenerates it
//! and fails when the committed files are stale; set
//! `CONVERGE_UPDATE_GENERATED=1` to rewrite them.

mod support;

use converge::pipeline::plan;
use converge::render::PlanFiles;
use converge::shadow::Janitor;
use converge::source::Desired;
use std::path::Path;

#[test]
fn the_committed_initial_plan_is_up_to_date() {
    let rt = support::runtime();
    let files = rt.block_on(async {
        let empty = support::fresh_db("generated_initial").await;
        let desired = Desired::load(&["schema".into()]).expect("schema/ parses");
        let planned = plan(
            desired,
            &empty,
            &support::admin(),
            &Janitor::default(),
            &Default::default(),
        )
        .await
        .expect("plan schema/");
        support::drop_db(&empty).await;
        PlanFiles::render(&planned.plan, &planned.fingerprints, planned.current.server_version)
    });
    let dir = Path::new("generated/initial");
    if std::env::var_os("CONVERGE_UPDATE_GENERATED").is_some() {
        files.write(dir).expect("write generated/initial");
        return;
    }
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    // The server's minor version may differ between machines; nothing else may.
    let without_version = |json: &str| -> String {
        json.lines()
            .filter(|l| !l.trim_start().starts_with("\"server_version\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let stale = read("forward.sql") != files.forward
        || read("rollback.sql") != files.rollback
        || without_version(&read("plan.json")) != without_version(&files.json);
    assert!(
        !stale,
        "generated/initial/ is stale: schema/ or converge changed. Review and rewrite it with \
         `CONVERGE_UPDATE_GENERATED=1 cargo test --release --test generated`"
    );
}
