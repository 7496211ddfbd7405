//! The documents' promises point at tests that exist: every test THREAT_MODEL.md names beside a
//! promise is a `fn` of the project (a renamed or deleted test would leave a promise unchecked).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

fn sources(dir: &Path, out: &mut String) {
    for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(&p).unwrap());
        }
    }
}

#[test]
fn every_test_the_threat_model_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("THREAT_MODEL.md")).unwrap();
    let mut code = String::new();
    for d in ["src", "tests", "examples", "synth"] {
        sources(&root.join(d), &mut code);
    }
    // A test name: a backticked snake_case word of five words or more (optionally after a path and `::`).
    let mut named = 0;
    let mut missing = Vec::new();
    for quoted in doc.split('`').skip(1).step_by(2) {
        let name = quoted.rsplit("::").next().unwrap_or(quoted);
        let is_test = name.split('_').count() >= 5
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !is_test {
            continue;
        }
        named += 1;
        if !code.contains(&format!("fn {name}(")) {
            missing.push(name.to_string());
        }
    }
    assert!(named > 30, "only {named} test names found in THREAT_MODEL.md");
    assert!(missing.is_empty(), "THREAT_MODEL.md names tests that do not exist: {missing:#?}");
}
