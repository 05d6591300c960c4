//! `boulder build` of many recipes, through the real binary: dependency
//! order into a local repository, up-to-date runs, rebuilding a library's
//! users after a change, cycles, failure isolation, the JSON plan against
//! a real run, and a library and its user built as two commands. The
//! builds need real roots imported from the host (dpkg); planning does not.

use crate::common;

use common::{cache_dir, have_dpkg, workspace};

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use test_support::text;

fn boulder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg(args[0])
        .arg("--cache-dir")
        .arg(cache_dir())
        .args(&args[1..])
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("boulder runs")
}

fn shown(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A scratch tree with copies of the named examples (so they can change).
fn examples(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in names {
        copy_tree(
            &workspace().join("recipes-example").join(name),
            &dir.path().join("recipes").join(name),
        );
    }
    dir
}

/// A recipe with sources inline: `build` is the build phase.
fn write_recipe(dir: &Path, name: &str, builddeps: &[&str], build: &str, extra: &str) {
    let recipe = dir.join(name);
    fs::create_dir_all(&recipe).expect("mkdir");
    let deps: String = builddeps.iter().map(|d| format!("    - {d}\n")).collect();
    let deps = if deps.is_empty() {
        String::new()
    } else {
        format!("builddeps   :\n{deps}")
    };
    fs::write(
        recipe.join("stone.yaml"),
        format!(
            "name        : {name}\nversion     : 1\nrelease     : 1\nsummary     : {name}\n\
             license     : MPL-2.0\nhomepage    : https://example.invalid/{name}\n\
             description : |\n    A test recipe.\n{deps}\
             build       : |\n    {build}\n\
             install     : |\n    install -Dm00644 /dev/null %(installroot)/usr/share/{name}/marker\n{extra}"
        ),
    )
    .expect("write recipe");
}

/// The status column of `recipe` in the summary table.
fn status_of(stdout: &str, recipe: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(recipe) && !l.starts_with("building"))
        .unwrap_or_else(|| panic!("no row for {recipe} in\n{stdout}"));
    let rest = line[recipe.len()..].trim();
    // The time column is last.
    rest.rsplit_once("  ")
        .map_or(rest, |(status, _)| status)
        .trim()
        .to_string()
}

fn run_build(recipes: &Path, repo: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "build",
        recipes.to_str().expect("utf-8"),
        "--repo",
        repo.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    boulder(&args)
}

fn plan_json(recipes: &Path, repo: &Path) -> serde_json::Value {
    let output = run_build(recipes, repo, &["--plan"]);
    assert!(output.status.success(), "{}", shown(&output));
    serde_json::from_slice(&output.stdout).expect("the plan is JSON")
}

fn order_of(plan: &serde_json::Value) -> Vec<String> {
    plan["recipes"]
        .as_array()
        .expect("recipes")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn libraries_build_first_then_everything_is_up_to_date_and_a_change_rebuilds_only_its_users() {
    if !have_dpkg() {
        return;
    }
    let tree = examples(&["hello", "libgreet", "welcome"]);
    let recipes = tree.path().join("recipes");
    let repo = tree.path().join("repo");

    let first = run_build(&recipes, &repo, &["-j", "2"]);
    assert!(first.status.success(), "{}", shown(&first));
    let stdout = text(&first.stdout);
    for name in ["hello", "libgreet", "welcome"] {
        assert_eq!(status_of(&stdout, name), "built", "{stdout}");
    }
    let built_library = stdout.find("built libgreet").expect("libgreet built");
    let started_user = stdout.find("building welcome").expect("welcome built");
    assert!(built_library < started_user, "{stdout}");
    // The user was linked against the library from the local repository.
    let manifest =
        fs::read_to_string(repo.join("packages/welcome/manifest.x86_64.jsonc")).expect("manifest");
    assert!(
        manifest.contains("soname(libgreet.so.1(x86_64))"),
        "{manifest}"
    );
    assert!(manifest.contains("pkgconfig(libgreet)"), "{manifest}");
    assert!(repo.join("stone.index").is_file());

    let second = run_build(&recipes, &repo, &[]);
    assert!(second.status.success(), "{}", shown(&second));
    let stdout = text(&second.stdout);
    for name in ["hello", "libgreet", "welcome"] {
        assert_eq!(status_of(&stdout, name), "up to date", "{stdout}");
    }
    assert!(!stdout.contains("building "), "{stdout}");

    // A real change of the library's code: the library and its user.
    let source = recipes.join("libgreet/pkg/greet.c");
    let mut code = fs::read_to_string(&source).expect("greet.c");
    code.push_str("\nint greet_version(void)\n{\n    return 2;\n}\n");
    fs::write(&source, code).expect("write greet.c");
    let third = run_build(&recipes, &repo, &[]);
    assert!(third.status.success(), "{}", shown(&third));
    let stdout = text(&third.stdout);
    assert_eq!(status_of(&stdout, "libgreet"), "built", "{stdout}");
    assert_eq!(status_of(&stdout, "welcome"), "built", "{stdout}");
    assert_eq!(status_of(&stdout, "hello"), "up to date", "{stdout}");

    // --force builds what is up to date.
    let forced = run_build(&recipes, &repo, &["--force"]);
    assert!(forced.status.success(), "{}", shown(&forced));
    assert_eq!(status_of(&text(&forced.stdout), "hello"), "built");
}

#[test]
fn a_cycle_is_reported_with_the_reason_of_each_edge_and_nothing_builds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recipes = dir.path().join("recipes");
    write_recipe(&recipes, "cyc-a", &["pkgconfig(cyc-b)"], "true", "");
    write_recipe(
        &recipes,
        "cyc-b",
        &["binary(cyc-a)"],
        "true",
        "packages    :\n    - \"%(name)-devel\":\n        paths:\n            - /usr/lib/pkgconfig/cyc-b.pc\n",
    );
    write_recipe(&recipes, "cyc-free", &[], "true", "");
    let output = run_build(&recipes, &dir.path().join("repo"), &[]);
    assert!(!output.status.success(), "{}", shown(&output));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cycle"), "{stderr}");
    assert!(
        stderr.contains("cyc-a needs cyc-b (pkgconfig(cyc-b) is provided by cyc-b-devel (recipe))"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cyc-b needs cyc-a (binary(cyc-a) is provided by cyc-a"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was built"), "{stderr}");
    assert!(!dir.path().join("repo/packages").exists());
}

#[test]
fn every_broken_recipe_is_reported_before_anything_builds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recipes = dir.path().join("recipes");
    write_recipe(&recipes, "fine", &[], "true", "");
    for name in ["bad-one", "bad-two"] {
        write_recipe(&recipes, name, &[], "true", "");
        let path = recipes.join(name).join("stone.yaml");
        let text = fs::read_to_string(&path).expect("read");
        fs::write(&path, text.replace("version     : 1\n", "")).expect("write");
    }
    let output = run_build(&recipes, &dir.path().join("repo"), &[]);
    assert!(!output.status.success(), "{}", shown(&output));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("bad-one/stone.yaml"), "{stderr}");
    assert!(stderr.contains("bad-two/stone.yaml"), "{stderr}");
    assert!(
        stderr.contains("2 recipe(s) cannot be read; nothing was built"),
        "{stderr}"
    );
    assert!(!dir.path().join("repo/packages").exists());
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_failure_skips_its_users_and_the_rest_still_builds() {
    if !have_dpkg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let recipes = dir.path().join("recipes");
    write_recipe(
        &recipes,
        "breaks",
        &[],
        "echo the build breaks here; false",
        "",
    );
    write_recipe(&recipes, "needs-breaks", &["breaks"], "true", "");
    write_recipe(
        &recipes,
        "needs-needs-breaks",
        &["needs-breaks"],
        "true",
        "",
    );
    write_recipe(&recipes, "independent", &[], "true", "");
    let repo = dir.path().join("repo");
    let output = run_build(&recipes, &repo, &[]);
    assert!(!output.status.success(), "{}", shown(&output));
    let stdout = text(&output.stdout);
    assert_eq!(status_of(&stdout, "breaks"), "FAILED", "{stdout}");
    assert_eq!(
        status_of(&stdout, "needs-breaks"),
        "skipped because of breaks",
        "{stdout}"
    );
    assert_eq!(
        status_of(&stdout, "needs-needs-breaks"),
        "skipped because of needs-breaks",
        "{stdout}"
    );
    assert_eq!(status_of(&stdout, "independent"), "built", "{stdout}");
    // The failure's log is in the summary.
    assert!(
        stdout.contains("breaks failed; the end of its log"),
        "{stdout}"
    );
    assert!(stdout.contains("the build breaks here"), "{stdout}");
    assert!(repo.join("packages/independent").is_dir());
    assert!(!repo.join("packages/needs-breaks").exists());
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn the_json_plan_agrees_with_a_real_run() {
    if !have_dpkg() {
        return;
    }
    let tree = examples(&["libgreet", "welcome", "hello"]);
    let recipes = tree.path().join("recipes");
    let repo = tree.path().join("repo");

    let before = plan_json(&recipes, &repo);
    assert_eq!(before["schema"], "boulder-plan/1");
    let order = order_of(&before);
    let position = |name: &str| order.iter().position(|n| n == name).expect(name);
    assert!(position("libgreet") < position("welcome"), "{order:?}");
    let welcome = &before["recipes"][position("welcome")];
    assert_eq!(welcome["action"], "build");
    assert_eq!(welcome["inputs_digest"], serde_json::Value::Null);
    let depends = welcome["depends"].as_array().expect("depends");
    assert_eq!(depends.len(), 1, "{welcome}");
    assert_eq!(depends[0]["recipe"], "libgreet");
    assert_eq!(depends[0]["dependency"], "pkgconfig(libgreet)");
    assert_eq!(depends[0]["package"], "libgreet-devel");
    for entry in before["recipes"].as_array().expect("recipes") {
        assert_eq!(entry["action"], "build", "{entry}");
    }

    let run = run_build(&recipes, &repo, &[]);
    assert!(run.status.success(), "{}", shown(&run));
    let stdout = text(&run.stdout);
    // The run follows the plan's order.
    let announced = format!("in order: {} ", order.join(", "));
    assert!(stdout.contains(&announced), "{announced}\n{stdout}");

    let after = plan_json(&recipes, &repo);
    assert_eq!(order_of(&after), order);
    for entry in after["recipes"].as_array().expect("recipes") {
        let name = entry["name"].as_str().expect("name");
        assert_eq!(entry["action"], "up-to-date", "{entry}");
        let state = fs::read_to_string(repo.join("packages").join(name).join("build-state"))
            .expect("build state");
        let inputs = entry["inputs_digest"].as_str().expect("digest");
        assert!(
            state.contains(&format!("inputs {inputs}\n")),
            "{state}\n{entry}"
        );
        let outputs = entry["outputs"].as_array().expect("outputs");
        assert!(!outputs.is_empty(), "{entry}");
        for output in outputs {
            assert!(
                repo.join(output.as_str().expect("path")).is_file(),
                "{output}"
            );
        }
    }
    // After a build, the manifest says who provides what.
    let welcome = &after["recipes"][position("welcome")];
    assert_eq!(
        welcome["depends"][0]["evidence"],
        "manifest of the last build"
    );
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_library_and_its_user_build_as_two_commands_with_one_repository() {
    if !have_dpkg() {
        return;
    }
    let tree = examples(&["libgreet", "welcome"]);
    let recipes = tree.path().join("recipes");
    let repo = tree.path().join("repo");
    let repo_arg = repo.to_str().expect("utf-8");
    // Without the repository the user cannot be built.
    let alone = boulder(&[
        "build",
        recipes.join("welcome").to_str().expect("utf-8"),
        "-o",
        tree.path().to_str().expect("utf-8"),
    ]);
    assert!(!alone.status.success(), "{}", shown(&alone));
    for name in ["libgreet", "welcome"] {
        let output = boulder(&[
            "build",
            recipes.join(name).to_str().expect("utf-8"),
            "--repo",
            repo_arg,
        ]);
        assert!(output.status.success(), "{name}: {}", shown(&output));
        assert!(
            text(&output.stdout).contains("published"),
            "{}",
            shown(&output)
        );
    }
    let index = moss_core::repo::read_index(&repo.join("stone.index")).expect("index");
    let names: Vec<&str> = index.iter().map(|e| e.meta.name.as_str()).collect();
    for name in ["libgreet", "libgreet-devel", "welcome"] {
        assert!(names.contains(&name), "{names:?}");
    }
    assert!(repo.join("packages/welcome/manifest.x86_64.bin").is_file());
}

#[test]
fn options_for_one_recipe_are_refused_for_a_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recipes = dir.path().join("recipes");
    write_recipe(&recipes, "one", &[], "true", "");
    write_recipe(&recipes, "two", &[], "true", "");
    let root = dir.path().join("root");
    let output = run_build(
        &recipes,
        &dir.path().join("repo"),
        &["--install", root.to_str().expect("utf-8")],
    );
    assert!(!output.status.success(), "{}", shown(&output));
    assert!(
        text(&output.stderr).contains("--install works on one recipe"),
        "{}",
        shown(&output)
    );
    assert!(!root.exists());
}
