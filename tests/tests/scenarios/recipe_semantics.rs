//! Recipe semantics as upstream boulder has them, and hostile recipe input:
//! unknown keys are errors for `recipe check` but warnings for `build` and
//! `recipe expand` (unless `--strict`); a package defined twice is merged;
//! only the fields upstream expands are expanded; names cannot become paths
//! outside the output; very long lines, very many problems and very long
//! phases are handled in linear time without a panic.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{cache_dir, have_dpkg, workspace};
use moss_core::stone::{Meta, StoneReader};
use test_support::text;

fn boulder() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_boulder"));
    command.env_remove("SOURCE_DATE_EPOCH");
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let output: Output = command.output().expect("boulder runs");
    (
        output.status.code().unwrap_or(-1),
        text(&output.stdout),
        text(&output.stderr),
    )
}

/// The upstream expansion set, or `None` after reporting it missing.
fn expansion_set(test: &str) -> Option<PathBuf> {
    test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), test)
        .map(|dir| dir.join("upstream-expansions"))
}

const HEADER: &str = "name        : sample
version     : 1.0
release     : 1
summary     : Root summary
license     : MPL-2.0
homepage    : https://example.invalid
";

/// Writes `text` as `stone.yaml` in a fresh directory.
fn recipe(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stone.yaml");
    fs::write(&path, text).expect("write the recipe");
    (dir, path)
}

fn json_check(path: &Path) -> serde_json::Value {
    let (_, stdout, stderr) = run(boulder()
        .args(["recipe", "check", "--format", "json"])
        .arg(path));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("JSON ({e}): {stdout}\n{stderr}"))
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn every_recipe_upstream_accepts_passes_the_build_recipe_stage() {
    let Some(set) = expansion_set("every_recipe_upstream_accepts_passes_the_build_recipe_stage")
    else {
        return;
    };
    let engine = boulder::recipe::check::Engine::embedded().expect("macros load");
    let files = boulder::recipe::discover(&[set.join("recipes")]).expect("the set's recipes");
    assert!(files.len() > 600, "{} recipes", files.len());
    let mut refused = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(set.join("recipes")).expect("inside");
        let letter_name = relative.parent().expect("letter/name").to_path_buf();
        let refused_upstream = set
            .join("expected")
            .join(letter_name.with_extension("error"))
            .exists();
        let report = engine.check_file(file).expect("readable");
        let lenient = boulder::recipe::problem::Strictness::Lenient;
        // The build's recipe stage: checked leniently, then every phase script
        // of every target rendered and the packages planned.
        let accepted = report.error_count(lenient) == 0
            && boulder::build::script::RecipeScripts::new(
                engine.library(),
                &report.recipe,
                &report.text,
                boulder::recipe::HOST_ARCH,
                Default::default(),
            )
            .and_then(|scripts| scripts.phases().map(|_| scripts))
            .is_ok_and(|scripts| {
                boulder::build::package_plan::plan(&report.recipe, &scripts).is_ok()
            });
        if accepted == refused_upstream {
            refused.push(letter_name.display().to_string());
        }
    }
    assert_eq!(
        refused,
        Vec::<String>::new(),
        "the build stage disagrees with upstream"
    );
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn upstream_accepted_recipes_expand_with_warnings() {
    let Some(set) = expansion_set("upstream_accepted_recipes_expand_with_warnings") else {
        return;
    };
    // The recipes with keys upstream ignores and the one with a package defined twice.
    for name in [
        "c/curl",
        "f/foot",
        "l/linux-tools",
        "n/nerd-fonts",
        "n/nvidia-graphics-driver",
        "q/qt5-svg",
        "v/v4l-utils",
        "w/wlroots",
        "z/zfs",
    ] {
        let path = set.join("recipes").join(name).join("stone.yaml");
        let (code, stdout, stderr) = run(boulder().args(["recipe", "expand"]).arg(&path));
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stdout.contains("phase install ----"), "{name}: {stdout}");
        assert!(
            stderr.contains('⚠') || stderr.contains("warning"),
            "{name}: {stderr}"
        );
        let (code, _, stderr) = run(boulder().args(["recipe", "expand", "--strict"]).arg(&path));
        if name == "v/v4l-utils" {
            // Merging a package defined twice is no mistake, strict or not.
            assert_eq!(code, 0, "{name}: {stderr}");
        } else {
            assert_eq!(code, 1, "{name}: --strict expands it\n{stderr}");
        }
    }
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn check_flags_the_known_misspellings_with_suggestions() {
    let Some(set) = expansion_set("check_flags_the_known_misspellings_with_suggestions") else {
        return;
    };
    let document = json_check(&set.join("recipes"));
    let mut suggested = BTreeSet::new();
    for d in document["diagnostics"].as_array().expect("diagnostics") {
        if let Some(suggestion) = d["suggestion"].as_str() {
            let file = d["file"].as_str().unwrap_or_default();
            let name = file
                .trim_end_matches("/stone.yaml")
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let message = d["message"].as_str().unwrap_or_default();
            let key = message.split('`').nth(1).unwrap_or_default().to_string();
            assert_eq!(d["severity"], "error", "{d}");
            suggested.insert((name, key, suggestion.to_string()));
        }
    }
    let expected: BTreeSet<(String, String, String)> = [
        ("containerd", "tune", "tuning"),
        ("curl", "tune", "tuning"),
        ("foot", "dependencies", "builddeps"),
        ("iptables", "tune", "tuning"),
        ("libnl", "tune", "tuning"),
        ("nftables", "tune", "tuning"),
        ("nvidia-graphics-driver", "extract", "unpack"),
        ("runc", "tune", "tuning"),
        ("wlroots", "test", "check"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(suggested, expected);
    // Keys without a likely meaning are errors too, and the package defined
    // twice is a warning.
    assert_eq!(document["errors"], 21, "{document:#}");
    assert_eq!(document["warnings"], 1, "{document:#}");
}

#[test]
fn unknown_keys_are_check_errors_and_expand_warnings() {
    let (_dir, path) = recipe(&format!(
        "{HEADER}tune        :\n    - lto: full\ninstall     : |\n    true\n"
    ));
    let (code, stdout, stderr) = run(boulder().args(["recipe", "check"]).arg(&path));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("stone.yaml:7:1"), "{stderr}");
    assert!(stderr.contains("did you mean `tuning`?"), "{stderr}");

    let (code, stdout, stderr) = run(boulder().args(["recipe", "expand"]).arg(&path));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("phase install ----"), "{stdout}");
    assert!(stderr.contains("unknown key `tune`"), "{stderr}");
    // miette wraps help text at the terminal width: compare with whitespace squashed.
    let squashed = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(squashed.contains("`--strict` refuses it"), "{stderr}");

    let (code, _, stderr) = run(boulder().args(["recipe", "expand", "--strict"]).arg(&path));
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn build_strict_refuses_an_unknown_key_before_any_work() {
    let (dir, path) = recipe(&format!(
        "{HEADER}tune        :\n    - lto: full\ninstall     : |\n    true\n"
    ));
    let out = dir.path().join("out");
    let (code, stdout, stderr) = run(boulder()
        .arg("build")
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .arg(&path)
        .arg("-o")
        .arg(&out)
        .arg("--strict"));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("stone.yaml:7:1"), "{stderr}");
    assert!(stderr.contains("1 error(s); nothing was built"), "{stderr}");
    assert!(stdout.contains("Checking the recipe"), "{stdout}");
    assert!(!stdout.contains("Preparing the build root"), "{stdout}");
    assert!(!out.exists());
}

/// Builds `path` with the shared root cache; returns the output dir and stdout.
fn build(path: &Path) -> (tempfile::TempDir, String) {
    let out = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = run(boulder()
        .arg("build")
        .arg("--cache-dir")
        .arg(cache_dir())
        .arg(path)
        .arg("-o")
        .arg(out.path())
        .current_dir(workspace()));
    assert_eq!(code, 0, "build failed\n{stdout}\n{stderr}");
    (out, stdout)
}

fn stones(dir: &Path) -> BTreeMap<String, (Meta, Vec<String>)> {
    let mut found = BTreeMap::new();
    for entry in fs::read_dir(dir).expect("output") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "stone") {
            let reader = StoneReader::open_path(&path).expect("stone");
            let meta = reader.meta().expect("meta");
            let files = reader.layout().iter().map(|e| e.usr_path()).collect();
            found.insert(meta.name.clone(), (meta, files));
        }
    }
    found
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn build_warns_merges_twice_defined_packages_and_expands_only_upstreams_fields() {
    if !have_dpkg() {
        return;
    }
    let (_dir, path) = recipe(&format!(
        "{HEADER}description : |
    Shows the standard %%configure action, 100%% literal.
tune        :
    - lto: full
install     : |
    mkdir -p %(installroot)/usr/share/sample %(installroot)/usr/bin
    for f in a b c; do echo $f > %(installroot)/usr/share/sample/$f.txt; done
    printf '#!/bin/sh\\necho sample\\n' > %(installroot)/usr/bin/sample
    chmod 755 %(installroot)/usr/bin/sample
packages    :
    - \"%(name)-extra\":
        summary: First summary
        paths:
            - /usr/share/sample/a.txt
    - \"%(name)-other\":
        paths:
            - /usr/share/sample
    - \"%(name)-extra\":
        paths:
            - /usr/share/sample/b.txt
toolchain   : gnu
"
    ));
    let (out, stdout) = build(&path);
    assert!(
        stdout.contains("warning: ") && stdout.contains("stone.yaml:9:1: unknown key `tune`"),
        "{stdout}"
    );
    assert!(stdout.contains("did you mean `tuning`?"), "{stdout}");
    assert!(
        stdout.contains("`sample-extra` is defined twice"),
        "{stdout}"
    );
    let stones = stones(out.path());
    let main = &stones["sample"].0;
    // `%%` is the only macro in the description: a literal `%` in the stone.
    assert_eq!(
        main.description,
        "Shows the standard %configure action, 100% literal."
    );
    // The paths of both definitions count, in recipe order: `a.txt` is the
    // later `-other` rule's, `b.txt` the second `-extra` definition's.
    let files = |name: &str| -> Vec<String> {
        stones[name]
            .1
            .iter()
            .filter(|f| f.contains("sample/"))
            .cloned()
            .collect()
    };
    assert_eq!(files("sample-extra"), vec!["/usr/share/sample/b.txt"]);
    assert_eq!(
        files("sample-other"),
        vec!["/usr/share/sample/a.txt", "/usr/share/sample/c.txt"]
    );
    // The later definition's summary (none, so the recipe's) replaces the first.
    assert_eq!(stones["sample-extra"].0.summary, "Root summary");
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn the_greeter_example_keeps_its_literal_percent() {
    if !have_dpkg() {
        return;
    }
    let (out, _) = build(&workspace().join("recipes-example/greeter"));
    let stones = stones(out.path());
    let description = &stones["greeter"].0.description;
    assert!(
        description.contains("driven by the standard %configure action"),
        "{description}"
    );
}

#[test]
fn names_and_versions_that_could_become_paths_are_refused_with_a_location() {
    let cases = [
        ("name        : a/b\n", 1, 16, "contains `/`"),
        ("name        : ../up\n", 1, 15, "starts with `.`"),
        ("name        : \"a\\nb\"\n", 1, 17, "U+000A"),
        ("name        : \"a\\0b\"\n", 1, 17, "NUL"),
        ("name        : .hidden\n", 1, 15, "starts with `.`"),
    ];
    for (line, row, column, message) in cases {
        let text = HEADER.replacen("name        : sample\n", line, 1);
        let (_dir, path) = recipe(&text);
        let document = json_check(&path);
        let found: Vec<(u64, u64, String)> = document["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| {
                (
                    d["line"].as_u64().unwrap_or(0),
                    d["column"].as_u64().unwrap_or(0),
                    d["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(found.len(), 1, "{line:?}: {found:?}");
        assert_eq!(
            (found[0].0, found[0].1),
            (row, column),
            "{line:?}: {found:?}"
        );
        assert!(found[0].2.contains(message), "{line:?}: {found:?}");
    }
    for (snippet, message) in [
        (
            "version     : 1.0/../x\n",
            "version `1.0/../x` contains `/`",
        ),
        (
            "packages    :\n    - \"%(name)/../../x\":\n        paths: [/usr]\n",
            "package name `sample/../../x` contains `/`",
        ),
        (
            "packages    :\n    - \"..\":\n        paths: [/usr]\n",
            "package name `..` starts with `.`",
        ),
    ] {
        let text = format!("{}{snippet}", HEADER.replacen("version     : 1.0\n", "", 1));
        let text = if snippet.starts_with("version") {
            text
        } else {
            format!("{text}version     : 1.0\n")
        };
        let (dir, path) = recipe(&text);
        let document = json_check(&path);
        let messages: Vec<&str> = document["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter_map(|d| d["message"].as_str())
            .collect();
        assert_eq!(messages, vec![message], "{snippet}");
        // `build` refuses it too, before anything is written.
        let out = dir.path().join("out");
        let (code, _, stderr) = run(boulder()
            .arg("build")
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .arg(&path)
            .arg("-o")
            .arg(&out));
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn a_one_megabyte_line_renders_a_clipped_snippet() {
    let long = "x".repeat(1 << 20);
    let (_dir, path) = recipe(&format!(
        "{HEADER}description : {long} %(libdir)\nunknownkey  : {long}\n"
    ));
    let (code, stdout, stderr) = run(boulder().args(["recipe", "check"]).arg(&path));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        !stderr.contains("panicked"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    // Positions are exact; the snippet is clipped, not the whole megabyte.
    assert!(
        stderr.contains(&format!("stone.yaml:7:{}]", 15 + long.len() + 1)),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(stderr.contains("stone.yaml:8:1]"));
    assert!(stderr.contains("not available here"));
    assert!(
        stderr.len() < 20_000,
        "{} bytes of diagnostics",
        stderr.len()
    );
    assert!(stdout.contains("2 error(s)"), "{stdout}");
}

/// No cap on the diagnostics: every one of 20,000 unknown keys is reported,
/// the last with its exact line. (That checking stays linear in the number of
/// keys is the `recipe_scaling` benchmark's job; 100,000 keys here cost the
/// test suite 12 CPU-s per run for nothing more.)
#[test]
fn twenty_thousand_unknown_keys_are_all_reported() {
    const KEYS: usize = 20_000;
    let mut text = String::from(HEADER);
    for i in 0..KEYS {
        text.push_str(&format!("unknown{i}: x\n"));
    }
    let (_dir, path) = recipe(&text);
    let document = json_check(&path);
    assert_eq!(document["errors"], KEYS);
    let diagnostics = document["diagnostics"].as_array().expect("diagnostics");
    let last = &diagnostics[KEYS - 1];
    assert_eq!(last["line"], KEYS + 6);
    assert_eq!(
        last["message"],
        format!("unknown key `unknown{}` in the recipe", KEYS - 1)
    );
}

/// Lines of the long phase: expanded (`: N sample`), about 6.8 MiB, more than
/// the kernel lets a program's arguments and environment hold together in any
/// configuration (at most 6 MiB: three quarters of the 8 MiB stack limit)
/// and fifty times a single argument's limit (128 KiB), so the phase can only
/// reach the shell as a file. (That a script longer than the macro
/// evaluator's fixed step bound expands is `a_script_longer_than_the_fixed_bound_expands`
/// in boulder's unit tests; a million lines here cost 28 CPU-s per test run.)
const LONG_PHASE_LINES: usize = 450_000;

fn long_phase_recipe() -> (tempfile::TempDir, PathBuf) {
    let mut text =
        format!("{HEADER}install     : |\n    mkdir -p %(installroot)/usr/share/lines\n");
    for i in 0..LONG_PHASE_LINES {
        text.push_str(&format!("    : {i} %(name)\n"));
    }
    text.push_str("    echo done > %(installroot)/usr/share/lines/done\n");
    // gcc is what the host profile's roots have.
    text.push_str("toolchain   : gnu\n");
    recipe(&text)
}

#[test]
fn a_phase_beyond_the_kernels_argument_limits_expands() {
    let (_dir, path) = long_phase_recipe();
    let (code, stdout, stderr) = run(boulder()
        .args(["recipe", "expand", "--phase", "install"])
        .arg(&path));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.len() > 6 << 20, "{} bytes", stdout.len());
    assert_eq!(stdout.matches(" sample\n").count(), LONG_PHASE_LINES);
    assert!(stdout.contains(&format!("\n: {} sample\n", LONG_PHASE_LINES - 1)));
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_phase_beyond_the_kernels_argument_limits_builds() {
    if !have_dpkg() {
        return;
    }
    let (_dir, path) = long_phase_recipe();
    let (out, _) = build(&path);
    let stones = stones(out.path());
    assert!(
        stones["sample"]
            .1
            .contains(&"/usr/share/lines/done".to_string()),
        "{:?}",
        stones["sample"].1
    );
}
