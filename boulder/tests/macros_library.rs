//! Tests of the embedded macro library (`macros/` at the workspace root).

use boulder::macros::{CompilerKind, MacroLibrary, RecipeFacts, ScriptContext};

fn facts() -> RecipeFacts {
    RecipeFacts {
        jobs: 4,
        ..RecipeFacts::new("demo", "1.0", 1)
    }
}

#[test]
fn embedded_library_loads_with_all_targets() {
    let library = MacroLibrary::embedded().unwrap_or_else(|error| panic!("{error}"));
    let targets: Vec<&str> = library.targets().collect();
    assert_eq!(targets, ALL_TARGETS);
}

/// The embedded library reads a target's arch file when the target is first
/// asked for. Read whole, at once, its files have no problem and no unknown
/// key (a late read reports neither), and every target comes out the same
/// either way, whichever target is asked for first.
#[test]
fn the_lazily_read_embedded_library_is_the_library_read_whole() {
    let whole = MacroLibrary::from_layers(vec![MacroLibrary::embedded_sources()])
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(whole.warnings().is_empty(), "{:?}", whole.warnings());
    for first in ALL_TARGETS {
        let lazy = MacroLibrary::embedded().unwrap();
        let mut order = vec![first];
        order.extend(ALL_TARGETS.iter().filter(|name| **name != first));
        for name in order {
            assert_eq!(
                format!("{:?}", lazy.target(name).expect("target")),
                format!("{:?}", whole.target(name).expect("target")),
                "target {name}, after {first} first"
            );
        }
        assert_eq!(
            lazy.host_target().name(),
            whole.host_target().name(),
            "host target"
        );
    }
}

/// Every target upstream boulder has a macro file for.
const ALL_TARGETS: [&str; 7] = [
    "aarch64",
    "emul32/x86_64",
    "riscv64",
    "x86",
    "x86_64",
    "x86_64-stage1",
    "x86_64-v3x",
];

#[test]
fn prologue_expands_for_every_target() {
    let library = MacroLibrary::embedded().unwrap();
    for target in ALL_TARGETS {
        let context = ScriptContext::new(&library, target, &facts(), &[]).unwrap();
        let prologue = context
            .prologue()
            .unwrap_or_else(|e| panic!("{target}: {e:?}"));
        let text = prologue.text();
        assert!(text.starts_with("#!/usr/bin/bash\n"), "{text}");
        assert!(text.contains("export NINJA_STATUS=\"[%f/%t %es (%P)] \""));
        assert!(!context.flags(CompilerKind::C).is_empty());
    }
}

/// Every macro name the survey of real recipes found (macros.md, "What real recipes use").
const SURVEY_ACTIONS: [&str; 45] = [
    "autogen",
    "bazel_build",
    "bazel_fetch",
    "cargo_build",
    "cargo_fetch",
    "cargo_install",
    "cargo_test",
    "ccache_stats",
    "ccache_zero",
    "cmake",
    "cmake_build",
    "cmake_install",
    "cmake_kf6",
    "cmake_qt6",
    "cmake_test",
    "configure",
    "configure_with_bash",
    "export_docbook_catalogs",
    "gem_build",
    "gem_install",
    "go_mod",
    "install_bin",
    "install_dir",
    "install_exe",
    "install_file",
    "make",
    "make_install",
    "meson",
    "meson_build",
    "meson_install",
    "meson_test",
    "ninja",
    "ninja_install",
    "ninja_test",
    "patch",
    "perl_setup",
    "pyproject_build",
    "pyproject_install",
    "python_compile",
    "python_install",
    "python_setup",
    "qmake_qt5",
    "reconfigure",
    "sysusers",
    "tmpfiles",
];

const SURVEY_DEFINITIONS: [&str; 49] = [
    "ar",
    "bashcompletionsdir",
    "bindir",
    "build_platform",
    "builddir",
    "buildroot",
    "cargo_profile",
    "cargo_target_dir",
    "cc",
    "cflags",
    "completionsdir",
    "cxx",
    "datadir",
    "docdir",
    "elvishcompletionsdir",
    "fishcompletionsdir",
    "host_platform",
    "includedir",
    "installroot",
    "jobs",
    "ld",
    "ldflags",
    "libdir",
    "libexecdir",
    "libsuffix",
    "mandir",
    "march",
    "mtune",
    "name",
    "nm",
    "objcopy",
    "options_cargo_release",
    "options_cmake_kf6",
    "options_configure",
    "pkgdir",
    "prefix",
    "ranlib",
    "release",
    "sbindir",
    "sourcedir",
    "sysconfdir",
    "sysusersdir",
    "target_triple",
    "tmpfilesdir",
    "udevrulesdir",
    "vendordir",
    "version",
    "workdir",
    "zshcompletionsdir",
];

/// Other names the reference lists (§3.6–3.8) that a compatible set provides.
const REFERENCE_ACTIONS: [&str; 24] = [
    "scriptBase",
    "autogen_with_bash",
    "reconfigure_with_bash",
    "make_no_verbose",
    "cmake_make",
    "cmake_unity",
    "meson_unity",
    "cargo_set_environment",
    "cargo_vendor",
    "cargo_home_breaks_this_build",
    "perl_module_setup",
    "perl_module_build",
    "perl_module_install",
    "qt_user_facing_links",
    "gtk_update_icon_cache",
    "llvm_merge_s1",
    "llvm_merge_s2",
    "bolt_instr",
    "bolt_merge",
    "bolt_opt",
    "bolt_perf",
    "bolt_perf2bolt",
    "export_docbook_catalogs",
    "install_dir",
];

const REFERENCE_DEFINITIONS: [&str; 58] = [
    "infodir",
    "localedir",
    "localstatedir",
    "sharedstatedir",
    "runstatedir",
    "vendorID",
    "objc",
    "objcxx",
    "cpp",
    "objcpp",
    "objcxxcpp",
    "d",
    "strip",
    "path",
    "ccachedir",
    "gocachedir",
    "gomodcachedir",
    "cargocachedir",
    "zigcachedir",
    "sccachedir",
    "pkgconfigpath",
    "goamd64_arch",
    "options_cmake",
    "options_cmake_ninja",
    "options_cmake_make",
    "options_meson",
    "ninja_common",
    "options_cargo",
    "bazel_profile",
    "options_bazel",
    "options_bazel_release",
    "options_qmake_qt5",
    "options_cmake_qt6",
    "pgo_stage",
    "pgo_dir",
    "compiler_cache",
    "scompiler_cache",
    "sourcedateepoch",
    "compiler_go_cache",
    "compiler_go_mod_cache",
    "compiler_cargo_cache",
    "compiler_zig_cache",
    "rustc_wrapper",
    "compiler_c",
    "compiler_cxx",
    "compiler_ld",
    "compiler_path",
    "cxxflags",
    "fflags",
    "dflags",
    "rustflags",
    "valaflags",
    "goflags",
    "compiler_objcopy",
    "compiler_strip",
    "compiler_ar",
    "compiler_nm",
    "compiler_ranlib",
];

#[test]
fn every_surveyed_and_reference_name_resolves_on_every_target() {
    let library = MacroLibrary::embedded().unwrap();
    for target in ALL_TARGETS {
        let context = ScriptContext::new(&library, target, &facts(), &[]).unwrap();
        for name in SURVEY_ACTIONS.iter().chain(&REFERENCE_ACTIONS) {
            assert!(
                context.target().action(name).is_some(),
                "{target}: action %{name}"
            );
            if let Err(errors) = context.expand(&format!("%{name}")) {
                panic!("{target}: %{name}: {errors:?}");
            }
        }
        for name in SURVEY_DEFINITIONS.iter().chain(&REFERENCE_DEFINITIONS) {
            if let Err(errors) = context.expand(&format!("%({name})")) {
                panic!("{target}: %({name}): {errors:?}");
            }
        }
    }
}

#[test]
fn definitions_have_the_documented_values() {
    let library = MacroLibrary::embedded().unwrap();
    let facts = RecipeFacts {
        workdir: Some("/mason/build/x86_64/demo-1.0".into()),
        ..facts()
    };
    let native = ScriptContext::new(&library, "x86_64", &facts, &[]).unwrap();
    let emul32 = ScriptContext::new(&library, "emul32/x86_64", &facts, &[]).unwrap();
    let value =
        |context: &ScriptContext, name: &str| context.expand(&format!("%({name})")).unwrap().text();
    let expected = [
        ("libdir", "/usr/lib", "/usr/lib32"),
        ("libexecdir", "/usr/lib/demo", "/usr/lib32/demo"),
        ("libsuffix", "", "32"),
        ("prefix", "/usr", "/usr"),
        ("vendordir", "/usr/share/defaults", "/usr/share/defaults"),
        ("installroot", "/mason/install", "/mason/install"),
        ("pkgdir", "/mason/recipe/pkg", "/mason/recipe/pkg"),
        ("sourcedir", "/mason/sourcedir", "/mason/sourcedir"),
        (
            "buildroot",
            "/mason/build/x86_64",
            "/mason/build/emul32/x86_64",
        ),
        (
            "workdir",
            "/mason/build/x86_64/demo-1.0",
            "/mason/build/x86_64/demo-1.0",
        ),
        ("builddir", "aerynos-builddir", "aerynos-builddir"),
        ("cc", "clang", "clang -m32"),
        ("cxx", "clang++", "clang++ -m32"),
        ("ld", "ld.lld", "ld.lld"),
        (
            "host_platform",
            "x86_64-aerynos-linux",
            "i686-aerynos-linux",
        ),
        (
            "target_triple",
            "x86_64-unknown-linux-gnu",
            "i686-unknown-linux-gnu",
        ),
        (
            "cargo_target_dir",
            "target/x86_64-unknown-linux-gnu/release",
            "target/i686-unknown-linux-gnu/release",
        ),
        ("march", "x86-64-v2", "i686"),
        ("jobs", "4", "4"),
        ("pgo_stage", "NONE", "NONE"),
        (
            "pgo_dir",
            "/mason/build/x86_64-pgo",
            "/mason/build/emul32/x86_64-pgo",
        ),
    ];
    for (name, native_value, emul32_value) in expected {
        assert_eq!(value(&native, name), native_value, "x86_64 %({name})");
        assert_eq!(value(&emul32, name), emul32_value, "emul32 %({name})");
    }
}

/// The default tuning of x86_64 with LLVM: every default group's flag strings,
/// de-duplicated and sorted as whole strings like the original tool does. The
/// strings are upstream boulder's, byte for byte (its phase scripts for real
/// recipes export exactly these).
#[test]
fn default_x86_64_flags() {
    let library = MacroLibrary::embedded().unwrap();
    let context = ScriptContext::new(&library, "x86_64", &facts(), &[]).unwrap();
    let exports: std::collections::BTreeMap<_, _> =
        context.environment_exports().unwrap().into_iter().collect();
    assert_eq!(
        exports["CFLAGS"],
        "-O2 -Werror=odr -Werror=strict-aliasing -Wp,-D_GLIBCXX_ASSERTIONS \
         -Wp,-U_FORTIFY_SOURCE,-D_FORTIFY_SOURCE=3 -fcf-protection -fexceptions \
         -ffat-lto-objects -flto=thin -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
         -fstack-protector --param ssp-buffer-size=32 -g -fasynchronous-unwind-tables \
         -march=x86-64-v2 -mtune=ivybridge -mprefer-vector-width=128 -mtls-dialect=gnu2 \
         -pipe -Wformat -Wformat-security -Wno-error -fPIC"
    );
    assert_eq!(
        exports["LDFLAGS"],
        "-Wl,--as-needed -Wl,--build-id=sha1 -Wl,--compress-debug-sections=zstd -Wl,--icf=safe \
         -Wl,--undefined-version -Wl,-Bsymbolic-functions -Wl,-O2,--gc-sections \
         -Wl,-z,pack-relative-relocs -Wl,-z,relro,-z,now -flto=thin"
    );
    assert_eq!(
        exports["RUSTFLAGS"],
        "-C debuginfo=2 -C split-debuginfo=off -C force-frame-pointers \
         -C link-args=-Wl,--build-id=sha1 -C link-args=-Wl,--compress-debug-sections=zstd \
         -C lto=thin -C linker-plugin-lto -C embed-bitcode=yes -C opt-level=3 \
         -C codegen-units=1 -C strip=none -C target-cpu=x86-64-v2"
    );
    assert_eq!(
        exports["GOFLAGS"],
        "-buildmode=pie -ldflags=-linkmode=external -mod=readonly -modcacherw -trimpath"
    );

    // GNU: LTO uses the job count, fat LTO objects and LTO errors apply.
    let gnu = RecipeFacts {
        toolchain: boulder::macros::Toolchain::Gnu,
        ..facts()
    };
    let context = ScriptContext::new(&library, "x86_64", &gnu, &[]).unwrap();
    let exports: std::collections::BTreeMap<_, _> =
        context.environment_exports().unwrap().into_iter().collect();
    assert!(
        exports["CFLAGS"].contains("-flto=4"),
        "{}",
        exports["CFLAGS"]
    );
    assert!(exports["CFLAGS"].contains("-ffat-lto-objects"));
    assert!(exports["CFLAGS"].contains("-Werror=odr -Werror=lto-type-mismatch"));
    assert!(!exports["LDFLAGS"].contains("--icf"));
}

#[test]
fn recipe_tuning_changes_flags() {
    use boulder::macros::{TuningRequest, TuningSetting};
    let library = MacroLibrary::embedded().unwrap();
    // The tuning list of the llvm fixture.
    let requests = [
        TuningRequest::new("bolt", TuningSetting::Enable),
        TuningRequest::new("fortify", TuningSetting::Disable),
        TuningRequest::new("harden", TuningSetting::Disable),
        TuningRequest::new("icf", TuningSetting::Option("all".into())),
        TuningRequest::new("lto", TuningSetting::Disable),
        TuningRequest::new("nosemantic", TuningSetting::Enable),
        TuningRequest::new("optimize", TuningSetting::Option("speed".into())),
        TuningRequest::new("polly", TuningSetting::Enable),
        TuningRequest::new("symbolic", TuningSetting::Enable),
    ];
    let context = ScriptContext::new(&library, "x86_64", &facts(), &requests).unwrap();
    let cflags = context.flags(CompilerKind::C);
    assert!(cflags.contains("-O3 "), "{cflags}");
    assert!(!cflags.contains("-O2"), "{cflags}");
    assert!(!cflags.contains("FORTIFY"), "{cflags}");
    assert!(cflags.contains("-fno-stack-protector"), "{cflags}");
    assert!(!cflags.contains("-flto"), "{cflags}");
    assert!(cflags.contains("-Xclang -mllvm -Xclang -polly"), "{cflags}");
    assert!(cflags.contains("-fno-semantic-interposition"), "{cflags}");
    let ldflags = context.flags(CompilerKind::Ld);
    assert!(
        ldflags.contains("-Wl,--icf=all") && ldflags.contains("-Wl,-q"),
        "{ldflags}"
    );

    let mold = RecipeFacts {
        mold: true,
        ..facts()
    };
    let context = ScriptContext::new(&library, "x86_64", &mold, &[]).unwrap();
    assert!(context.flags(CompilerKind::C).ends_with(" -fuse-ld=mold"));
    assert!(context
        .flags(CompilerKind::Rust)
        .ends_with(" -Clink-arg=-fuse-ld=mold"));
}

/// Expanding each action's example leaves no reference to a known macro behind
/// (a `%s` of printf or `%f` of NINJA_STATUS in the *output* is shell text).
#[test]
fn every_action_example_expands_completely() {
    use boulder::macros::{tokenize, TokenKind};
    let library = MacroLibrary::embedded().unwrap();
    for target in ["x86_64", "emul32/x86_64"] {
        let context = ScriptContext::new(&library, target, &facts(), &[]).unwrap();
        let mut examples = 0;
        for action in context.target().actions() {
            let script = match &action.example {
                Some(example) => {
                    examples += 1;
                    example.clone()
                }
                None => format!("%{}", action.name),
            };
            let expansion = context
                .expand(&script)
                .unwrap_or_else(|errors| panic!("{target}: %{}: {errors:?}", action.name));
            assert!(
                action
                    .dependencies
                    .iter()
                    .all(|dep| expansion.dependencies.contains(dep)),
                "{}: dependencies not collected",
                action.name
            );
            let text = expansion.text();
            let (tokens, _) = tokenize(&text);
            for token in tokens {
                match &token.kind {
                    // The prologue echoes "The work directory %(workdir) is ..." on purpose.
                    TokenKind::Definition(name) | TokenKind::Builtin(name)
                        if !context
                            .target()
                            .actions()
                            .any(|a| a.command.contains(&format!("%%({name})"))) =>
                    {
                        panic!("{}: `%({name})` left in {text}", action.name)
                    }
                    // Messages such as "%configure: no ./configure" are written
                    // `%%configure` on purpose; any other known action is left over.
                    TokenKind::Action(name)
                        if context.target().action(name).is_some()
                            && !context
                                .target()
                                .actions()
                                .any(|a| a.command.contains(&format!("%%{name}"))) =>
                    {
                        panic!("{}: `%{name}` left in {text}", action.name)
                    }
                    _ => {}
                }
            }
        }
        // Only the prologue, which boulder itself puts in every script, has no example.
        let total = context.target().actions().count();
        assert_eq!(examples, total - 1, "actions without an example");
    }
}

#[test]
fn breakpoint_inside_a_data_dir_action_keeps_the_outer_span() {
    let dir = tempfile::tempdir().unwrap();
    let actions = dir.path().join("macros/actions");
    std::fs::create_dir_all(&actions).unwrap();
    std::fs::write(
        actions.join("debug.yaml"),
        "actions:\n    - inspect:\n        description: stop here\n        command: |\n            ls\n            %break_exit\n",
    )
    .unwrap();
    let library = MacroLibrary::with_data_dirs(&[dir.path().to_path_buf()]).unwrap();
    let context = ScriptContext::new(&library, "x86_64", &facts(), &[]).unwrap();
    let expansion = context.expand("%make\n%inspect\n").unwrap();
    assert_eq!(
        expansion.segments[1],
        boulder::macros::Segment::Breakpoint {
            exit: true,
            input_span: 6..14
        }
    );
}

#[test]
fn data_dir_duplicates_across_files_are_errors_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let actions = dir.path().join("macros/actions");
    std::fs::create_dir_all(&actions).unwrap();
    let action = "actions:\n    - tool:\n        description: d\n        command: c\n";
    std::fs::write(actions.join("b.yaml"), action).unwrap();
    std::fs::write(actions.join("a.yaml"), action).unwrap();
    let error = MacroLibrary::with_data_dirs(&[dir.path().to_path_buf()]).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("a.yaml") && message.contains("b.yaml"),
        "{message}"
    );
    assert!(message.find("a.yaml") < message.find("b.yaml"), "{message}");

    let missing = MacroLibrary::with_data_dirs(&[dir.path().join("nope")]).unwrap_err();
    assert!(missing.to_string().contains("nope"), "{missing}");
}

/// The phases of the real recipes in the fixtures expand with no macro left.
#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn fixture_recipes_expand() {
    use boulder::macros::{TuningRequest, TuningSetting};
    let Some(fixtures) =
        test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), "fixture_recipes_expand")
    else {
        return;
    };
    let library = MacroLibrary::embedded().unwrap();
    for file in [
        "llvm-stone.yml",
        "boulder-stone.yml",
        "italian-pizza.yml",
        "pineapple.yml",
    ] {
        let text = std::fs::read_to_string(fixtures.join("recipes").join(file)).unwrap();
        let recipe: FixtureRecipe = moss_core::yaml::from_str(&text).unwrap();
        let requests: Vec<TuningRequest> = recipe
            .tuning
            .iter()
            .map(|entry| match entry {
                FixtureTuning::Group(group) => TuningRequest::new(group, TuningSetting::Enable),
                FixtureTuning::Setting(map) => {
                    let (group, value) = map.iter().next().unwrap();
                    let setting = match value {
                        FixtureTuningValue::On(true) => TuningSetting::Enable,
                        FixtureTuningValue::On(false) => TuningSetting::Disable,
                        FixtureTuningValue::Option(option) => TuningSetting::Option(option.clone()),
                    };
                    TuningRequest::new(group, setting)
                }
            })
            .collect();
        let context = ScriptContext::new(&library, "x86_64", &facts(), &requests)
            .unwrap_or_else(|errors| panic!("{file}: {errors:?}"));
        for (phase, script) in recipe.phases() {
            let Some(script) = script else {
                continue;
            };
            let expansion = context
                .expand(script)
                .unwrap_or_else(|errors| panic!("{file} {phase}: {errors:?}"));
            let text = expansion.text();
            assert!(!text.contains("%("), "{file} {phase}: {text}");
        }
    }
}

/// The parts of a fixture recipe the expansion test reads.
#[derive(serde::Deserialize)]
struct FixtureRecipe {
    #[serde(default)]
    tuning: Vec<FixtureTuning>,
    environment: Option<String>,
    setup: Option<String>,
    build: Option<String>,
    install: Option<String>,
    check: Option<String>,
    workload: Option<String>,
}

impl FixtureRecipe {
    fn phases(&self) -> [(&str, Option<&String>); 6] {
        [
            ("environment", self.environment.as_ref()),
            ("setup", self.setup.as_ref()),
            ("build", self.build.as_ref()),
            ("install", self.install.as_ref()),
            ("check", self.check.as_ref()),
            ("workload", self.workload.as_ref()),
        ]
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum FixtureTuning {
    Group(String),
    Setting(std::collections::BTreeMap<String, FixtureTuningValue>),
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum FixtureTuningValue {
    On(bool),
    Option(String),
}

/// Upstream's own macro files load: `Tip:` (and `tip:`) is a known action key;
/// a key no schema knows is ignored with a warning naming file, action and key.
#[test]
fn upstream_style_macro_files_load_and_unknown_keys_warn() {
    let dir = tempfile::tempdir().unwrap();
    let actions = dir.path().join("macros/actions");
    std::fs::create_dir_all(&actions).unwrap();
    std::fs::write(
        actions.join("extra.yaml"),
        "actions:\n    - install_twice:\n        description: Installs twice\n        Tip: Try `%%install_twice -j1`\n        example: |\n            %install_twice\n        command: |\n            %make_install\n            %make_install\n        dependencies:\n            - binary(make)\n        colour: blue\nrecipeHints: []\n",
    )
    .unwrap();
    let library = MacroLibrary::with_data_dirs(&[dir.path().to_path_buf()]).unwrap();
    let action = library
        .host_target()
        .action("install_twice")
        .expect("loaded");
    assert_eq!(action.tip.as_deref(), Some("Try `%%install_twice -j1`"));
    let warnings: Vec<String> = library.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings.iter().any(|w| w.contains("extra.yaml")
            && w.contains("action `install_twice`")
            && w.contains("`colour`")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("`recipeHints`")),
        "{warnings:?}"
    );
    // The embedded files carry no unknown key.
    assert!(MacroLibrary::embedded().unwrap().warnings().is_empty());
}
