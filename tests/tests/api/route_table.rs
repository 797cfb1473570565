//! The route table and `functions/src/bin` agree: one Lambda binary per route, no strays.

use std::collections::BTreeSet;

#[test]
fn one_lambda_binary_per_route() {
    let bin_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/src/bin");
    let binaries: BTreeSet<String> = std::fs::read_dir(&bin_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let routes: BTreeSet<String> = latch::ROUTES.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(binaries, routes);
    // Each binary runs the route it is named after.
    for name in &routes {
        let src = std::fs::read_to_string(bin_dir.join(format!("{name}.rs"))).unwrap();
        assert!(
            src.contains(&format!("run(\"{name}\")")),
            "{name}.rs does not run its own route"
        );
    }
}
