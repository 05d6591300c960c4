//! Broken recipes: every diagnostic names the exact line and column of the offending
//! token (inside block scalars too) and suggests the right name; all errors of a recipe
//! are reported in one run.

use std::path::Path;
use std::sync::Arc;

use boulder::recipe::check::{CheckReport, Engine};
use boulder::recipe::problem::line_column;

fn check(text: &str) -> CheckReport {
    let engine = Engine::embedded().expect("embedded macros load");
    engine.check_text(Path::new("stone.yaml"), Arc::new(text.to_string()))
}

/// (line, column, suggestion) of every problem, in file order.
fn positions(report: &CheckReport) -> Vec<(usize, usize, Option<String>)> {
    report
        .problems
        .iter()
        .map(|p| {
            let (line, column) = line_column(&report.text, p.span.start);
            (line, column, p.suggestion.clone())
        })
        .collect()
}

const HEADER: &str = "name        : broken
version     : 1.0
release     : 1
homepage    : https://example.invalid
license     : MPL-2.0
";

fn only_problem(text: &str) -> (usize, usize, Option<String>, String) {
    let report = check(text);
    assert_eq!(
        report.problems.len(),
        1,
        "expected exactly one problem, got {:#?}",
        report.problems
    );
    let (line, column, suggestion) = positions(&report).remove(0);
    (line, column, suggestion, report.problems[0].message.clone())
}

#[test]
fn misspelt_top_level_key() {
    let text = format!("{HEADER}tune        :\n    - lto: full\n");
    let (line, column, suggestion, message) = only_problem(&text);
    assert_eq!((line, column), (6, 1));
    assert_eq!(suggestion.as_deref(), Some("tuning"));
    assert!(message.contains("unknown key `tune`"), "{message}");
}

#[test]
fn misspelt_upstream_property() {
    let text = format!(
        "{HEADER}upstreams   :\n    - https://example.invalid/a.tar.xz :\n        hash: {}\n        extract: false\n",
        "a".repeat(64)
    );
    let (line, column, suggestion, _) = only_problem(&text);
    assert_eq!((line, column), (9, 9));
    assert_eq!(suggestion.as_deref(), Some("unpack"));
}

#[test]
fn misspelt_keys_in_packages_and_profiles() {
    let text = format!(
        "{HEADER}packages    :\n    - \"%(name)-extra\":\n        sumary: x\nprofiles    :\n    - x86_64:\n        buidl: |\n            true\n"
    );
    let report = check(&text);
    let found = positions(&report);
    assert_eq!(
        found,
        vec![
            (8, 9, Some("summary".to_string())),
            (11, 9, Some("build".to_string())),
        ]
    );
}

#[test]
fn unknown_macro_inside_literal_block() {
    let text = format!("{HEADER}build       : |\n    echo start\n      make -C src %(prefx)/bin\n");
    let (line, column, suggestion, message) = only_problem(&text);
    assert_eq!((line, column), (8, 19));
    assert_eq!(suggestion.as_deref(), Some("prefix"));
    assert!(message.contains("build"), "{message}");
}

#[test]
fn unknown_macro_inside_folded_block_and_environment() {
    let text = format!(
        "{HEADER}environment : >\n    export A=1\n    B=%(libdri)\nsetup       : \"echo %(bindri)\"\n"
    );
    let report = check(&text);
    assert_eq!(
        positions(&report),
        vec![
            (8, 7, Some("libdir".to_string())),
            (9, 21, Some("bindir".to_string())),
        ]
    );
}

#[test]
fn unknown_action_suggests_the_action() {
    let text = format!("{HEADER}build       : |\n    %cargo_biuld\n");
    let (line, column, suggestion, _) = only_problem(&text);
    assert_eq!((line, column), (7, 5));
    assert_eq!(suggestion.as_deref(), Some("cargo_build"));
}

#[test]
fn unknown_tuning_option_and_group() {
    let text = format!("{HEADER}tuning      :\n    - lto: ful\n    - optimise: speed\n");
    let report = check(&text);
    assert_eq!(
        positions(&report),
        vec![
            (7, 12, Some("full".to_string())),
            (8, 7, Some("optimize".to_string())),
        ]
    );
}

#[test]
fn wrong_types_are_errors() {
    for (snippet, line, column) in [
        ("summary     : [a, b]\n", 6, 15),
        ("builddeps   : binary(make)\n", 6, 15),
        ("strip       : maybe\n", 6, 15),
        ("toolchain   : gcc\n", 6, 15),
    ] {
        let text = format!("{HEADER}{snippet}");
        let (l, c, _, message) = only_problem(&text);
        assert_eq!((l, c), (line, column), "{snippet}: {message}");
    }
    let release_zero = HEADER.replace("release     : 1", "release     : 0");
    let (line, column, _, message) = only_problem(&release_zero);
    assert_eq!((line, column), (3, 15));
    assert!(message.contains("greater than 0"), "{message}");
    let bad_version = HEADER.replace("version     : 1.0", "version     : v1.0");
    assert_eq!(only_problem(&bad_version).0, 2);
}

#[test]
fn upstreams_without_hash_or_ref() {
    let text = format!(
        "{HEADER}upstreams   :\n    - https://example.invalid/a.tar.xz :\n        rename: a.tar.xz\n    - git|https://example.invalid/r.git :\n        clonedir: r\n    - https://example.invalid/b.tar.xz : abc\n"
    );
    let report = check(&text);
    let lines: Vec<usize> = positions(&report).iter().map(|p| p.0).collect();
    assert_eq!(lines, vec![7, 9, 11], "{:#?}", report.problems);
}

#[test]
fn unterminated_definition() {
    let text = format!("{HEADER}install     : |\n    install -D out %(installroot%(bindir)/out\n");
    let (line, column, suggestion, message) = only_problem(&text);
    assert_eq!((line, column), (7, 20));
    assert_eq!(suggestion.as_deref(), Some("installroot"));
    assert!(message.contains("unterminated"), "{message}");
}

#[test]
fn five_errors_are_all_reported() {
    let text = format!(
        "{HEADER}summary     : [not, a, string]
tune        :
    - lto: full
tuning      :
    - lto: ful
build       : |
    echo start
    make -C src %(prefx)/bin
install     : |
    install -D out %(installroot%(bindir)/out
"
    );
    let report = check(&text);
    assert_eq!(
        positions(&report),
        vec![
            (6, 15, None),
            (7, 1, Some("tuning".to_string())),
            (10, 12, Some("full".to_string())),
            (13, 17, Some("prefix".to_string())),
            (15, 20, Some("installroot".to_string())),
        ]
    );
}

#[test]
fn emul32_profiles_are_checked_with_their_own_target() {
    let text = format!(
        "{HEADER}emul32      : true\nprofiles    :\n    - emul32:\n        setup: |\n            echo %(libsuffix) %(bogus)\n"
    );
    let (line, column, _, _) = only_problem(&text);
    assert_eq!((line, column), (10, 31));
}

#[test]
fn package_fields_only_know_name_version_release() {
    let text = format!("{HEADER}packages    :\n    - \"%(name)-devel\":\n        paths:\n            - \"%(libdir)/x\"\n");
    let (line, column, _, _) = only_problem(&text);
    assert_eq!((line, column), (9, 16));
}
