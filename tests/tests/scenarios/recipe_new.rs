//! `boulder recipe new` on the real upstream tarballs of fourteen AerynOS
//! recipes: each draft passes `recipe check` as written, names the build
//! system the real recipe uses and (for at least twelve) the same SPDX
//! licences; a tree with no build system gets a commented skeleton; a
//! tarball served over real HTTP on loopback is drafted from its URL.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::http::Server;

fn boulder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(args)
        .output()
        .expect("boulder runs")
}

fn new_recipe(source: &str, out: &Path, cache: &Path) -> String {
    let output = boulder(&[
        "recipe",
        "new",
        source,
        "-o",
        out.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "recipe new {source}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let check = boulder(&["recipe", "check", out.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "the draft of {source} fails recipe check:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    fs::read_to_string(out.join("stone.yaml")).expect("the draft is written")
}

/// The build system a recipe's phases drive, named as the drafts name it.
fn build_system_of(recipe: &str) -> &'static str {
    if recipe.contains("%cmake") {
        "cmake"
    } else if recipe.contains("%meson") {
        "meson"
    } else if recipe.contains("%configure") || recipe.contains("%reconfigure") {
        "autotools"
    } else if recipe.contains("%perl_") {
        "perl"
    } else if recipe.contains("%python_") || recipe.contains("%pyproject_") {
        "python"
    } else {
        "make"
    }
}

fn licenses_of(recipe: &str) -> BTreeSet<String> {
    let (parsed, _) = boulder::recipe::parse(recipe);
    parsed
        .source
        .license
        .iter()
        .flat_map(|l| {
            l.value
                .split(" AND ")
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn drafts_of_the_real_tarballs_check_and_match_the_real_recipes() {
    let Some(fixtures) =
        test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), "recipe_new real tarballs")
    else {
        return;
    };
    let real = fixtures.join("real-recipes");
    let table = fs::read_to_string(real.join("RECIPES.tsv")).expect("RECIPES.tsv");
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    let mut right_licences = Vec::new();
    let mut report = String::new();
    let mut count = 0;
    for row in table.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = row.split('\t').collect();
        let (recipe_dir, tarball) = (fields[0], fields[2]);
        let original = fs::read_to_string(real.join("recipes").join(recipe_dir).join("stone.yaml"))
            .expect("real recipe");
        let source = real.join("sources").join(tarball);
        let out = tmp.path().join(recipe_dir.replace('/', "_"));
        let draft = new_recipe(source.to_str().unwrap(), &out, &cache);
        count += 1;

        let expected_system = build_system_of(&original);
        assert!(
            draft.contains(&format!("# Build system: {expected_system}\n")),
            "{recipe_dir}: expected {expected_system}:\n{draft}"
        );
        assert_eq!(
            build_system_of(&draft),
            expected_system,
            "{recipe_dir}:\n{draft}"
        );
        let (want, got) = (licenses_of(&original), licenses_of(&draft));
        report.push_str(&format!("{recipe_dir}: want {want:?}, got {got:?}\n"));
        if want == got {
            right_licences.push(recipe_dir.to_string());
        }
    }
    assert_eq!(count, 14, "RECIPES.tsv lists fourteen recipes");
    eprintln!("{report}");
    assert!(
        right_licences.len() >= 12,
        "only {} of 14 licences right:\n{report}",
        right_licences.len()
    );
}

/// A gzipped tarball of `files` below the top directory `top`.
const MIT: &str = "Copyright (c) 2024 Someone\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the \"Software\"), to deal\nin the Software without restriction, including without limitation the rights\nto use, copy, modify, merge, publish, distribute, sublicense, and/or sell\ncopies of the Software, and to permit persons to whom the Software is\nfurnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\nIMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\nFITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\nAUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\nLIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\nOUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\nSOFTWARE.\n";

#[test]
fn a_tree_without_a_build_system_gets_a_commented_skeleton() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("oddball-0.3.tar.gz");
    fs::write(
        &file,
        e2e::tar_gz(
            "oddball-0.3",
            &[
                ("README", "Just some files.\n"),
                ("odd.c", "int main(void){return 0;}\n"),
            ],
        ),
    )
    .expect("write");
    let draft = new_recipe(
        file.to_str().unwrap(),
        &tmp.path().join("out"),
        &tmp.path().join("cache"),
    );
    assert!(draft.contains("# Build system: unknown\n"), "{draft}");
    assert!(
        draft.contains("# FIXME: no build system was recognised"),
        "{draft}"
    );
    assert!(draft.contains("name        : oddball\n"), "{draft}");
    assert!(draft.contains("version     : \"0.3\"\n"), "{draft}");
    assert!(draft.contains("license     : NOASSERTION\n"), "{draft}");
    assert!(
        draft.contains("# FIXME: no licence file was recognised"),
        "{draft}"
    );
    // Writing over it needs --force.
    let again = boulder(&[
        "recipe",
        "new",
        file.to_str().unwrap(),
        "-o",
        tmp.path().join("out").to_str().unwrap(),
        "--cache-dir",
        tmp.path().join("cache").to_str().unwrap(),
    ]);
    assert!(!again.status.success());
}

#[test]
fn a_tarball_over_http_is_drafted_with_its_dependencies_and_hash() {
    let bytes = e2e::tar_gz(
        "widget-2.5",
        &[
            ("LICENSE", MIT),
            (
                "meson.build",
                "project('widget', 'c')\nglib = dependency('glib-2.0', version: '>=2.70')\nz = dependency('zlib')\nthreads = dependency('threads')\n",
            ),
            ("widget.c", "int main(void){return 0;}\n"),
        ],
    );
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let data = e2e::tar_gz("data", &[("words", "one two\n")]);
    let data_hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&data))
    };
    let server = Server::start(HashMap::from([
        ("dl/v2.5.tar.gz".to_string(), bytes),
        ("dl/data-1.tar.gz".to_string(), data),
    ]))
    .expect("server");
    let url = server.url("dl/v2.5.tar.gz");
    let data_url = server.url("dl/data-1.tar.gz");
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("widget");
    let output = boulder(&[
        "recipe",
        "new",
        &url,
        &data_url,
        "-o",
        out.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let check = boulder(&["recipe", "check", out.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let draft = fs::read_to_string(out.join("stone.yaml")).expect("draft");
    // Both upstreams, the project's first, each with the hash of what was served.
    assert!(
        draft.contains(&format!(
            "    - {url} : {hash}\n    - {data_url} : {data_hash}\n"
        )),
        "{draft}"
    );
    let monitoring = fs::read_to_string(out.join("monitoring.yaml")).expect("monitoring");
    assert!(
        monitoring.contains("releases:\n") && monitoring.contains("cpe: ~\n"),
        "{monitoring}"
    );
    // No name in `v2.5.tar.gz`: the archive's top directory gives it.
    assert!(draft.contains("name        : widget\n"), "{draft}");
    assert!(draft.contains("version     : \"2.5\"\n"), "{draft}");
    assert!(draft.contains("    - MIT\n"), "{draft}");
    assert!(
        draft.contains("builddeps   :\n    - pkgconfig(glib-2.0)\n    - pkgconfig(zlib)\n"),
        "{draft}"
    );
    assert!(draft.contains("setup       : |\n    %meson\n"), "{draft}");
    // The file is in the cache under its hash, for the first build.
    let cached: PathBuf = cache
        .join("upstreams/fetched")
        .join(&hash)
        .join("v2.5.tar.gz");
    assert!(cached.is_file());
}

#[test]
fn every_build_system_drafts_a_recipe_that_checks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    // (top directory, files, build system, what the draft must hold)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "crate-1.0",
            &[(
                "Cargo.toml",
                "[package]\nname = \"crate\"\ndescription = \"A crate\"\n",
            )],
            "cargo",
            &[
                "%cargo_build",
                "networking  : true",
                "summary     : \"A crate\"",
            ],
        ),
        (
            "gotool-0.4",
            &[("go.mod", "module example.org/gotool\n")],
            "go",
            &["%go_mod", "networking  : true"],
        ),
        (
            "pyproj-3.2",
            &[("pyproject.toml", "[project]\nname = \"pyproj\"\n")],
            "python",
            &["%pyproject_build", "name        : python-pyproj"],
        ),
        (
            "Foo-Bar-0.02",
            &[
                ("Build.PL", "use Module::Build;\n"),
                ("README", "same terms as Perl itself\n"),
            ],
            "perl",
            &[
                "%perl_module_build",
                "name        : perl-foo-bar",
                "- Artistic-1.0-Perl",
            ],
        ),
        (
            "regen-5.1",
            &[(
                "configure.ac",
                "AC_INIT([regen], [5.1])\nPKG_CHECK_MODULES([Z], [zlib >= 1.2])\n",
            )],
            "autotools",
            &["%reconfigure", "pkgconfig(zlib)"],
        ),
        (
            "cmk-1.1",
            &[(
                "CMakeLists.txt",
                "project(cmk)\nfind_package(ZLIB REQUIRED)\n",
            )],
            "cmake",
            &["%cmake_build", "cmake(ZLIB)"],
        ),
    ];
    for (top, files, system, wanted) in cases {
        let file = tmp.path().join(format!("{top}.tar.gz"));
        fs::write(&file, e2e::tar_gz(top, files)).expect("write");
        let draft = new_recipe(file.to_str().unwrap(), &tmp.path().join(top), &cache);
        assert!(
            draft.contains(&format!("# Build system: {system}\n")),
            "{top}:\n{draft}"
        );
        for want in *wanted {
            assert!(draft.contains(want), "{top}: no `{want}` in\n{draft}");
        }
    }
}
