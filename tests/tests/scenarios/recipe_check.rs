//! `boulder recipe check` and `boulder recipe expand`, run as the real binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn boulder() -> Command {
    Command::new(env!("CARGO_BIN_EXE_boulder"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("boulder sits in the workspace")
        .to_path_buf()
}

fn fixtures(test: &str) -> Option<PathBuf> {
    test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), test).map(|dir| dir.join("recipes"))
}

fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("boulder runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn examples_are_valid() {
    let (code, stdout, stderr) = run(boulder()
        .args(["recipe", "check"])
        .arg(workspace().join("recipes-example")));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("all valid"), "{stdout}");
    let count: usize = stdout
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(count >= 5, "{stdout}");
}

#[test]
fn acceptance_examples_and_real_recipes_pass() {
    let mut command = boulder();
    command
        .args(["recipe", "check"])
        .arg(workspace().join("recipes-example"));
    if let Some(dir) = fixtures("acceptance_examples_and_real_recipes_pass") {
        for name in ["llvm-stone", "boulder-stone", "italian-pizza", "pineapple"] {
            command.arg(dir.join(format!("{name}.yml")));
        }
    }
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

fn broken_recipe() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let recipe = dir.path().join("pkg/broken");
    std::fs::create_dir_all(&recipe).expect("mkdir");
    std::fs::write(
        recipe.join("stone.yaml"),
        "name        : broken
version     : 1.0
release     : 1
homepage    : https://example.invalid
license     : MPL-2.0
tune        :
    - lto: full
build       : |
    make -C src %(prefx)/bin
",
    )
    .expect("write recipe");
    dir
}

#[test]
fn broken_recipe_fails_with_rendered_diagnostics() {
    let dir = broken_recipe();
    let (code, stdout, stderr) = run(boulder().args(["recipe", "check"]).arg(dir.path()));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("stone.yaml:6:1"), "{stderr}");
    assert!(stderr.contains("did you mean `tuning`?"), "{stderr}");
    assert!(stderr.contains("stone.yaml:9:17"), "{stderr}");
    assert!(stderr.contains("did you mean `%(prefix)`?"), "{stderr}");
    assert!(stdout.contains("2 error(s) in 1 recipe(s)"), "{stdout}");
}

#[test]
fn json_format_for_ci() {
    let dir = broken_recipe();
    let (code, stdout, _) = run(boulder()
        .args(["recipe", "check", "--format", "json"])
        .arg(dir.path()));
    assert_eq!(code, 1);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(document["errors"], 2);
    let diagnostics = document["diagnostics"].as_array().expect("array");
    let summary: Vec<(u64, u64, String)> = diagnostics
        .iter()
        .map(|d| {
            assert!(d["file"].as_str().unwrap_or("").ends_with("stone.yaml"));
            (
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
                d["suggestion"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![(6, 1, "tuning".to_string()), (9, 17, "prefix".to_string())]
    );
}

#[test]
fn missing_paths_are_reported() {
    let (code, _, stderr) = run(boulder().args(["recipe", "check", "/nonexistent/recipe"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("no such file"), "{stderr}");
}

/// Any `%name` / `%(name)` left in a script that names a known macro.
fn leftover_macros(script: &str) -> Vec<String> {
    let library = boulder::macros::MacroLibrary::embedded().expect("macros load");
    let target = library.target("x86_64").expect("x86_64 macros");
    let actions: Vec<String> = target.actions().map(|a| a.name.clone()).collect();
    let mut left = Vec::new();
    // The prologue echoes this literally, as upstream's does (`%%(workdir)`).
    let script = script.replace("The work directory %(workdir) is", "");
    let script = script.as_str();
    for (i, _) in script.match_indices('%') {
        let rest = &script[i + 1..];
        if rest.starts_with('(')
            && rest[1..].find(')').is_some_and(|end| {
                rest[1..1 + end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        {
            left.push(rest.chars().take(30).collect());
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if actions.contains(&name) || name.starts_with("break_") {
            left.push(name);
        }
    }
    left
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn expand_of_llvm_leaves_no_macro_token() {
    let Some(dir) = fixtures("expand_of_llvm_leaves_no_macro_token") else {
        return;
    };
    let (code, stdout, stderr) = run(boulder()
        .args(["recipe", "expand"])
        .arg(dir.join("llvm-stone.yml")));
    assert_eq!(code, 0, "{stderr}");
    for phase in ["setup", "build", "install"] {
        assert!(
            stdout.contains(&format!("phase {phase} ----")),
            "missing {phase}"
        );
    }
    assert!(stdout.contains("/mason/install"), "installroot expanded");
    assert_eq!(leftover_macros(&stdout), Vec::<String>::new());
}

#[test]
fn expand_one_phase_shows_breakpoints() {
    let recipe = workspace().join("recipes-example/breakpoint-demo/stone.yaml");
    let (code, stdout, stderr) = run(boulder()
        .args(["recipe", "expand", "--target", "x86_64", "--phase", "build"])
        .arg(&recipe));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.matches("phase build ----").count(), 1, "{stdout}");
    assert!(!stdout.contains("phase install ----"));
    let source = std::fs::read_to_string(&recipe).expect("read the recipe");
    let line = source
        .lines()
        .position(|l| l.trim() == "%break_continue")
        .expect("the recipe has a breakpoint")
        + 1;
    assert!(
        stdout.contains(&format!(
            "# ---- breakpoint (continue) at recipe line {line}"
        )),
        "{stdout}"
    );
    assert_eq!(leftover_macros(&stdout), Vec::<String>::new());
}

/// The checks `recipe check` runs on every core give, file by file and in
/// the order asked, the same problems as checking one file after another;
/// an unreadable file is an error in its own place.
#[test]
fn parallel_check_matches_one_by_one() {
    let Some(dir) = fixtures("parallel_check_matches_one_by_one") else {
        return;
    };
    let broken = broken_recipe();
    let mut paths = vec![workspace().join("recipes-example"), broken.path().into()];
    paths.extend(
        ["llvm-stone", "boulder-stone", "italian-pizza", "pineapple"]
            .map(|name| dir.join(format!("{name}.yml"))),
    );
    let mut files = boulder::recipe::discover(&paths).expect("discovering the fixtures");
    files.insert(files.len() / 2, broken.path().join("absent/stone.yaml"));
    assert!(files.len() > 4, "too few fixtures to spread over threads");
    let engine = boulder::recipe::check::Engine::embedded().expect("macros");
    let problems = |report: &boulder::recipe::check::CheckReport| {
        report
            .problems
            .iter()
            .map(|p| (p.code, p.span.clone(), p.message.clone()))
            .collect::<Vec<_>>()
    };
    let parallel = engine.check_files(&files, 3);
    assert_eq!(parallel.len(), files.len());
    let mut with_problems = 0;
    for (file, result) in files.iter().zip(&parallel) {
        match (engine.check_file(file), result) {
            (Ok(alone), Ok(report)) => {
                assert_eq!(&report.path, file);
                assert_eq!(problems(&alone), problems(report), "{}", file.display());
                with_problems += usize::from(!report.problems.is_empty());
            }
            (Err(_), Err(_)) => {}
            (alone, report) => panic!(
                "{}: alone {:?}, in parallel {:?}",
                file.display(),
                alone.map(|r| r.problems.len()),
                report.as_ref().map(|r| r.problems.len())
            ),
        }
    }
    assert!(with_problems >= 1, "the broken recipe's problems are found");
    assert!(
        parallel.iter().filter(|r| r.is_err()).count() == 1,
        "the absent file is the one error"
    );
}
