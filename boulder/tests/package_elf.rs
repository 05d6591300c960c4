//! Packaging of real ELF files built by the real compiler: sonames,
//! interpreter, default template split, debug info split and stripping.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use boulder::package::analysis::debug_split;
use boulder::package::analysis::elf_info::{has_section, read_elf};
use boulder::package::entry::digest_file;
use boulder::package::{
    analyse, collect, default_templates, AnalysedPackage, Analysis, AnalysisError, AnalysisOptions,
    PackagePaths, PackageSettings, Rules, Tools,
};
use moss_core::stone::LayoutKind;

const GREET_H: &str = "const char *greeting(void);\n";
const GREET_C: &str =
    "#include \"greet.h\"\nconst char *greeting(void) { return \"Hello, packager!\"; }\n";
const HELLO_C: &str =
    "#include <stdio.h>\n#include \"greet.h\"\nint main(void) { puts(greeting()); return 0; }\n";
/// A second program, different from `hello` so it has its own build-id.
const TOOL_C: &str =
    "#include <stdio.h>\n#include \"greet.h\"\nint main(void) { printf(\"[%s]\\n\", greeting()); return 0; }\n";

/// A build of the `greet` library and two programs into an install tree.
struct Built {
    _dir: tempfile::TempDir,
    install: PathBuf,
    sysroot: PathBuf,
}

fn tool_missing(test: &str) -> bool {
    for tool in ["gcc", "objcopy", "strip"] {
        if Command::new(tool).arg("--version").output().is_err() {
            test_support::missing(test, &format!("`{tool}` is not installed"));
            return true;
        }
    }
    false
}

fn run(command: &mut Command) {
    let output = command.output().expect("run the compiler");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn build_greet() -> Built {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    let install = dir.path().join("install");
    let sysroot = dir.path().join("sysroot");
    for d in [&src, &sysroot] {
        fs::create_dir_all(d).expect("mkdir");
    }
    for d in [
        "usr/lib/pkgconfig",
        "usr/lib/cmake/Greet",
        "usr/bin",
        "usr/include",
        "etc",
    ] {
        fs::create_dir_all(install.join(d)).expect("mkdir");
    }
    fs::write(src.join("greet.h"), GREET_H).expect("write");
    fs::write(src.join("greet.c"), GREET_C).expect("write");
    fs::write(src.join("hello.c"), HELLO_C).expect("write");
    fs::write(src.join("greet-tool.c"), TOOL_C).expect("write");
    let lib_dir = install.join("usr/lib");

    run(Command::new("gcc")
        .args([
            "-shared",
            "-fPIC",
            "-g",
            "-O1",
            "-Wl,--build-id",
            "-Wl,-soname,libgreet.so.1",
        ])
        .arg("-o")
        .arg(lib_dir.join("libgreet.so.1"))
        .arg(src.join("greet.c")));
    symlink("libgreet.so.1", lib_dir.join("libgreet.so")).expect("symlink");
    for program in ["hello", "greet-tool"] {
        run(Command::new("gcc")
            .args(["-g", "-O1", "-Wl,--build-id"])
            .arg("-I")
            .arg(&src)
            .arg("-o")
            .arg(install.join("usr/bin").join(program))
            .arg(src.join(format!("{program}.c")))
            .arg("-L")
            .arg(&lib_dir)
            .arg("-lgreet"));
    }
    fs::write(install.join("usr/include/greet.h"), GREET_H).expect("write");
    fs::write(
        lib_dir.join("pkgconfig/greet.pc"),
        "prefix=/usr\nlibdir=${prefix}/lib\nzlib_name=zlib\n\nName: greet\nDescription: greetings\nVersion: 1.0\nRequires: ${zlib_name} >= 1.2\nRequires.private: libffi\nLibs: -L${libdir} -lgreet\n",
    )
    .expect("write");
    fs::write(
        lib_dir.join("cmake/Greet/GreetConfig.cmake"),
        "add_library(Greet::greet SHARED IMPORTED)\n",
    )
    .expect("write");
    fs::write(lib_dir.join("libgreet.la"), "# libtool archive\n").expect("write");
    fs::write(install.join("etc/greet.conf"), "loud=1\n").expect("write");
    Built {
        _dir: dir,
        install,
        sysroot,
    }
}

/// The default templates for `greet`, plus a recipe subpackage that takes
/// the `hello` program.
fn rules_and_options(built: &Built) -> (Rules, AnalysisOptions) {
    let templates = default_templates("greet");
    let paths: Vec<PackagePaths> = templates.iter().map(|t| t.paths.clone()).collect();
    let main = PackagePaths::new("greet", &[]);
    let subpackages = [PackagePaths::new("greet-hello", &["/usr/bin/hello"])];
    let rules = Rules::in_recipe_order(&paths, &main, &subpackages).expect("valid rules");
    let mut packages: BTreeMap<String, PackageSettings> = templates
        .into_iter()
        .map(|t| (t.paths.name, t.settings))
        .collect();
    packages.insert("greet-hello".into(), PackageSettings::default());
    let options = AnalysisOptions {
        tools: Tools::gnu(),
        system_root: built.sysroot.clone(),
        packages,
        ..AnalysisOptions::default()
    };
    (rules, options)
}

fn package<'a>(analysis: &'a Analysis, name: &str) -> &'a AnalysedPackage {
    analysis
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name} in {:?}", names(analysis)))
}

fn names(analysis: &Analysis) -> Vec<&str> {
    analysis.packages.iter().map(|p| p.name.as_str()).collect()
}

fn paths(package: &AnalysedPackage) -> Vec<&str> {
    package.files.iter().map(|f| f.path.as_str()).collect()
}

fn build_id_of(path: &Path) -> Vec<u8> {
    let data = fs::read(path).expect("read ELF");
    read_elf(&data)
        .and_then(|info| info.build_id)
        .expect("gcc wrote a build-id")
}

fn debug_path_for(build_id: &[u8]) -> String {
    let hex: String = build_id.iter().map(|b| format!("{b:02x}")).collect();
    format!("/usr/lib/debug/.build-id/{}/{}.debug", &hex[..2], &hex[2..])
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn shared_library_build_splits_and_relates_like_the_original() {
    if tool_missing("shared_library_build_splits_and_relates_like_the_original") {
        return;
    }
    let built = build_greet();
    let hello_on_disk = built.install.join("usr/bin/hello");
    let hello_build_id = build_id_of(&hello_on_disk);
    let lib_build_id = build_id_of(&built.install.join("usr/lib/libgreet.so.1"));
    let unstripped_digest = digest_file(&hello_on_disk).expect("digest");
    assert!(has_section(
        &fs::read(&hello_on_disk).expect("read"),
        ".debug_info"
    ));

    let (rules, options) = rules_and_options(&built);
    let collection = collect(&built.install, rules).expect("collect");
    let analysis = analyse(collection, &options).expect("analyse");
    assert_eq!(analysis.warnings, vec![], "no handler should have failed");
    assert_eq!(
        names(&analysis),
        ["greet", "greet-dbginfo", "greet-devel", "greet-hello"]
    );

    // Main package: the real library file, the programs not claimed by a
    // subpackage; no libtool archive, nothing outside /usr.
    let main = package(&analysis, "greet");
    assert_eq!(
        paths(main),
        ["/usr/bin/greet-tool", "/usr/lib/libgreet.so.1"]
    );
    assert!(
        main.provides.contains("soname(libgreet.so.1(x86_64))"),
        "{:?}",
        main.provides
    );
    assert!(main.provides.contains("binary(greet-tool)"));
    assert!(
        main.depends.contains("soname(libc.so.6(x86_64))"),
        "{:?}",
        main.depends
    );
    // greet-tool needs libgreet.so.1, which its own package provides.
    assert!(!main.depends.contains("soname(libgreet.so.1(x86_64))"));
    let interpreter = main
        .depends
        .iter()
        .find(|d| d.starts_with("interpreter("))
        .expect("an interpreter dependency");
    assert!(interpreter.starts_with("interpreter(/") && interpreter.ends_with("(x86_64))"));

    // The program in the recipe subpackage depends on the library's soname.
    let hello = package(&analysis, "greet-hello");
    assert_eq!(paths(hello), ["/usr/bin/hello"]);
    assert!(
        hello.depends.contains("soname(libgreet.so.1(x86_64))"),
        "{:?}",
        hello.depends
    );
    assert!(hello.depends.contains(interpreter.as_str()));
    assert!(hello.provides.contains("binary(hello)"));

    // -devel by the default templates: header, .so link, .pc, cmake config.
    let devel = package(&analysis, "greet-devel");
    assert_eq!(
        paths(devel),
        [
            "/usr/include/greet.h",
            "/usr/lib/cmake/Greet/GreetConfig.cmake",
            "/usr/lib/libgreet.so",
            "/usr/lib/pkgconfig/greet.pc",
        ]
    );
    let link = devel
        .files
        .iter()
        .find(|f| f.path == "/usr/lib/libgreet.so")
        .expect("link");
    assert_eq!(
        link.kind,
        LayoutKind::Symlink {
            target: "libgreet.so.1".into()
        }
    );
    let expected: Vec<&str> = vec!["name(greet)", "pkgconfig(libffi)", "pkgconfig(zlib)"];
    assert_eq!(
        devel.depends.iter().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        devel
            .provides
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["cmake(Greet)", "pkgconfig(greet)"]
    );

    // -dbginfo: one .debug per ELF file, named by build-id, with the debug info.
    let dbginfo = package(&analysis, "greet-dbginfo");
    let debug_paths = paths(dbginfo);
    assert_eq!(debug_paths.len(), 3, "{debug_paths:?}");
    assert!(debug_paths.contains(&debug_path_for(&hello_build_id).as_str()));
    assert!(debug_paths.contains(&debug_path_for(&lib_build_id).as_str()));
    for entry in &dbginfo.files {
        let on_disk = built.install.join(entry.path.trim_start_matches('/'));
        assert!(has_section(
            &fs::read(&on_disk).expect("read"),
            ".debug_info"
        ));
        let LayoutKind::Regular { digest } = entry.kind else {
            panic!("{} is not a regular file", entry.path)
        };
        assert_eq!(digest, digest_file(&on_disk).expect("digest"));
    }
    assert!(dbginfo.provides.is_empty() && dbginfo.depends.is_empty());

    // Shipped programs are stripped, linked to their debug file, recorded
    // with the digest of their final bytes, and still run.
    let stripped = fs::read(&hello_on_disk).expect("read");
    assert!(!has_section(&stripped, ".debug_info"));
    assert!(has_section(&stripped, ".gnu_debuglink"));
    let LayoutKind::Regular { digest } = hello.files[0].kind else {
        panic!("hello is not a regular file")
    };
    let size = hello.files[0].size;
    assert_eq!(digest, digest_file(&hello_on_disk).expect("digest"));
    assert_ne!(digest, unstripped_digest);
    assert_eq!(size, stripped.len() as u64);
    let lib = fs::read(built.install.join("usr/lib/libgreet.so.1")).expect("read");
    assert!(!has_section(&lib, ".debug_info"));
    let output = Command::new(&hello_on_disk)
        .env("LD_LIBRARY_PATH", built.install.join("usr/lib"))
        .output()
        .expect("run the stripped program");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Hello, packager!\n"
    );
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn debug_and_strip_can_be_turned_off() {
    if tool_missing("debug_and_strip_can_be_turned_off") {
        return;
    }
    let built = build_greet();
    let hello_on_disk = built.install.join("usr/bin/hello");
    let before = digest_file(&hello_on_disk).expect("digest");
    let (rules, mut options) = rules_and_options(&built);
    options.debug = false;
    options.strip = false;
    options.lastrip = false;
    let analysis =
        analyse(collect(&built.install, rules).expect("collect"), &options).expect("analyse");
    assert!(!names(&analysis).contains(&"greet-dbginfo"));
    assert_eq!(digest_file(&hello_on_disk).expect("digest"), before);
    assert!(has_section(
        &fs::read(&hello_on_disk).expect("read"),
        ".debug_info"
    ));
    assert!(paths(package(&analysis, "greet")).contains(&"/usr/lib/libgreet.la"));
    assert!(!built.install.join("usr/lib/debug").exists());
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn excludes_rundeps_and_conflicts_apply_per_package() {
    if tool_missing("excludes_rundeps_and_conflicts_apply_per_package") {
        return;
    }
    let built = build_greet();
    let (rules, mut options) = rules_and_options(&built);
    options.strip = false;
    options.debug = false;
    options.packages.insert(
        "greet-hello".into(),
        PackageSettings {
            rundeps: vec!["greet-data".into(), "pkgconfig(extra)".into()],
            rundeps_exclude: vec![r"^soname\(libc\.so".into(), "^interpreter".into()],
            provides_exclude: vec![r"binary\(hel".into()],
            conflicts: vec!["old-greet".into(), "binary(hello)".into()],
        },
    );
    let analysis =
        analyse(collect(&built.install, rules).expect("collect"), &options).expect("analyse");
    let hello = package(&analysis, "greet-hello");
    assert_eq!(
        hello.depends.iter().map(String::as_str).collect::<Vec<_>>(),
        [
            "name(greet-data)",
            "pkgconfig(extra)",
            "soname(libgreet.so.1(x86_64))"
        ]
    );
    assert!(hello.provides.is_empty(), "{:?}", hello.provides);
    assert_eq!(
        hello
            .conflicts
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["binary(hello)", "name(old-greet)"]
    );
    // Other packages keep their own relations.
    assert!(package(&analysis, "greet")
        .depends
        .contains("soname(libc.so.6(x86_64))"));
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn bad_settings_are_named_errors() {
    if tool_missing("bad_settings_are_named_errors") {
        return;
    }
    let built = build_greet();
    let (rules, mut options) = rules_and_options(&built);
    options.strip = false;
    options.debug = false;
    options.packages.insert(
        "greet-hello".into(),
        PackageSettings {
            provides_exclude: vec!["binary(".into()],
            ..PackageSettings::default()
        },
    );
    let error = analyse(
        collect(&built.install, rules.clone()).expect("collect"),
        &options,
    )
    .expect_err("bad regex");
    assert!(
        matches!(&error, AnalysisError::BadRegex { package, pattern, .. } if package == "greet-hello" && pattern == "binary("),
        "{error:?}"
    );

    options.packages.insert(
        "greet-hello".into(),
        PackageSettings {
            rundeps: vec!["sonam(libx.so)".into()],
            ..PackageSettings::default()
        },
    );
    let error = analyse(collect(&built.install, rules).expect("collect"), &options)
        .expect_err("bad relation");
    assert!(
        matches!(&error, AnalysisError::BadRelation { package, .. } if package == "greet-hello"),
        "{error:?}"
    );
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn failing_tools_leave_the_file_and_warn() {
    if tool_missing("failing_tools_leave_the_file_and_warn") {
        return;
    }
    let built = build_greet();
    let hello_on_disk = built.install.join("usr/bin/hello");
    let before = digest_file(&hello_on_disk).expect("digest");
    let (rules, mut options) = rules_and_options(&built);
    options.tools = Tools {
        objcopy: "/nonexistent/objcopy".into(),
        strip: "/nonexistent/strip".into(),
    };
    let analysis =
        analyse(collect(&built.install, rules).expect("collect"), &options).expect("analyse");
    assert_eq!(digest_file(&hello_on_disk).expect("digest"), before);
    let hello_warnings: Vec<_> = analysis
        .warnings
        .iter()
        .filter(|w| w.path == "/usr/bin/hello")
        .collect();
    assert_eq!(hello_warnings.len(), 2, "{:?}", analysis.warnings);
    assert!(hello_warnings[0].message.contains("/nonexistent/objcopy"));
    assert!(hello_warnings[1].message.contains("/nonexistent/strip"));
    assert!(!names(&analysis).contains(&"greet-dbginfo"));
    assert!(package(&analysis, "greet-hello")
        .depends
        .contains("soname(libgreet.so.1(x86_64))"));
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn hard_linked_programs_share_one_debug_file_and_final_digest() {
    if tool_missing("hard_linked_programs_share_one_debug_file_and_final_digest") {
        return;
    }
    let built = build_greet();
    let bin = built.install.join("usr/bin");
    // `hello-link` is walked (and stripped) before `hello`, which shares its inode.
    fs::hard_link(bin.join("hello"), bin.join("greet-link")).expect("hard link");
    let (rules, options) = rules_and_options(&built);
    let analysis =
        analyse(collect(&built.install, rules).expect("collect"), &options).expect("analyse");
    assert_eq!(analysis.warnings, vec![]);
    assert_eq!(package(&analysis, "greet-dbginfo").files.len(), 3);
    let final_digest = digest_file(&bin.join("hello")).expect("digest");
    let link = package(&analysis, "greet")
        .files
        .iter()
        .find(|f| f.path == "/usr/bin/greet-link")
        .expect("link collected");
    let hello = &package(&analysis, "greet-hello").files[0];
    for entry in [link, hello] {
        let LayoutKind::Regular { digest } = entry.kind else {
            panic!("not regular")
        };
        assert_eq!(digest, final_digest, "{}", entry.path);
    }
    assert!(!has_section(
        &fs::read(bin.join("greet-link")).expect("read"),
        ".debug_info"
    ));
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn emul32_library_goes_to_the_32bit_packages_with_the_386_isa() {
    if tool_missing("emul32_library_goes_to_the_32bit_packages_with_the_386_isa") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let install = dir.path().join("install");
    let lib32 = install.join("usr/lib32");
    fs::create_dir_all(&lib32).expect("mkdir");
    let source = dir.path().join("tiny.c");
    fs::write(&source, "int tiny(int x) { return x + 1; }\n").expect("write");
    // Freestanding, so no 32-bit C library is needed on the host.
    run(Command::new("gcc")
        .args([
            "-m32",
            "-g",
            "-shared",
            "-nostdlib",
            "-fPIC",
            "-Wl,--build-id",
        ])
        .arg("-Wl,-soname,libtiny.so.1")
        .arg("-o")
        .arg(lib32.join("libtiny.so.1"))
        .arg(&source));
    symlink("libtiny.so.1", lib32.join("libtiny.so")).expect("symlink");
    let build_id = build_id_of(&lib32.join("libtiny.so.1"));
    let hex: String = build_id.iter().map(|b| format!("{b:02x}")).collect();

    let templates = default_templates("tiny");
    let template_paths: Vec<PackagePaths> = templates.iter().map(|t| t.paths.clone()).collect();
    let rules = Rules::in_recipe_order(&template_paths, &PackagePaths::new("tiny", &[]), &[])
        .expect("rules");
    let options = AnalysisOptions {
        system_root: dir.path().join("sysroot"),
        packages: templates
            .into_iter()
            .map(|t| (t.paths.name, t.settings))
            .collect(),
        ..AnalysisOptions::default()
    };
    let analysis = analyse(collect(&install, rules).expect("collect"), &options).expect("analyse");
    assert_eq!(analysis.warnings, vec![]);
    assert_eq!(
        names(&analysis),
        ["tiny-32bit", "tiny-32bit-dbginfo", "tiny-32bit-devel"]
    );
    let bit32 = package(&analysis, "tiny-32bit");
    assert_eq!(paths(bit32), ["/usr/lib32/libtiny.so.1"]);
    assert_eq!(
        bit32.provides.iter().collect::<Vec<_>>(),
        ["soname(libtiny.so.1(386))"]
    );
    assert_eq!(bit32.depends.iter().collect::<Vec<_>>(), ["name(tiny)"]);
    assert_eq!(
        paths(package(&analysis, "tiny-32bit-dbginfo")),
        [format!(
            "/usr/lib32/debug/.build-id/{}/{}.debug",
            &hex[..2],
            &hex[2..]
        )]
    );
    let devel = package(&analysis, "tiny-32bit-devel");
    assert_eq!(paths(devel), ["/usr/lib32/libtiny.so"]);
    assert_eq!(
        devel.depends.iter().collect::<Vec<_>>(),
        ["name(tiny-32bit)", "name(tiny-devel)"]
    );
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn corrupted_real_elf_files_never_panic_the_reader() {
    if tool_missing("corrupted_real_elf_files_never_panic_the_reader") {
        return;
    }
    let built = build_greet();
    let original = fs::read(built.install.join("usr/bin/hello")).expect("read");
    assert!(read_elf(&original).is_some());
    // A fixed xorshift sequence: the same corruptions on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..400 {
        let mut bytes = original.clone();
        // Corrupt the headers most of the time: that is where the offsets are.
        let span = if round % 4 == 0 {
            bytes.len()
        } else {
            256.min(bytes.len())
        };
        for _ in 0..(1 + next() % 8) {
            let at = (next() as usize) % span;
            bytes[at] = next() as u8;
        }
        if round % 10 == 0 {
            bytes.truncate((next() as usize) % original.len());
        }
        let _ = read_elf(&bytes);
        let _ = has_section(&bytes, ".debug_info");
    }
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn run_paths_name_private_libraries_by_their_subdirectory() {
    if tool_missing("run_paths_name_private_libraries_by_their_subdirectory") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let install = dir.path().join("install");
    let private = install.join("usr/lib/greet");
    let plugins = private.join("plugins");
    fs::create_dir_all(&plugins).expect("mkdir");
    let src = dir.path().join("src");
    fs::create_dir_all(&src).expect("mkdir");
    fs::write(src.join("core.c"), "int greet_core(void) { return 7; }\n").expect("write");
    fs::write(
        src.join("plugin.c"),
        "int greet_core(void);\nint plugin(void) { return greet_core() + 1; }\n",
    )
    .expect("write");
    run(Command::new("gcc")
        .args(["-shared", "-fPIC", "-Wl,-soname,libgreet-core.so"])
        .arg("-o")
        .arg(private.join("libgreet-core.so"))
        .arg(src.join("core.c")));
    run(Command::new("gcc")
        .args(["-shared", "-fPIC", "-Wl,-rpath,$ORIGIN/.."])
        .arg("-o")
        .arg(plugins.join("libplugin.so"))
        .arg(src.join("plugin.c"))
        .arg("-L")
        .arg(&private)
        .arg("-lgreet-core"));

    let mut rules = Rules::new();
    rules.add("greet", "*").expect("rule");
    rules
        .add("greet-plugins", "/usr/lib/greet/plugins")
        .expect("rule");
    let options = AnalysisOptions {
        system_root: dir.path().join("sysroot"),
        strip: false,
        debug: false,
        ..AnalysisOptions::default()
    };
    let analysis = analyse(collect(&install, rules).expect("collect"), &options).expect("analyse");
    let main = package(&analysis, "greet");
    assert!(
        main.provides
            .contains("soname(greet/libgreet-core.so(x86_64))"),
        "{:?}",
        main.provides
    );
    let plugin = package(&analysis, "greet-plugins");
    assert!(
        plugin
            .provides
            .contains("soname(greet/plugins/libplugin.so(x86_64))"),
        "{:?}",
        plugin.provides
    );
    assert!(
        plugin
            .depends
            .contains("soname(greet/libgreet-core.so(x86_64))"),
        "{:?}",
        plugin.depends
    );
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn debug_files_are_never_written_through_a_symlink() {
    if tool_missing("debug_files_are_never_written_through_a_symlink") {
        return;
    }
    let built = build_greet();
    let outside = built.sysroot.join("outside");
    fs::create_dir_all(&outside).expect("mkdir");
    symlink(&outside, built.install.join("usr/lib/debug")).expect("symlink");
    let (rules, options) = rules_and_options(&built);
    let analysis =
        analyse(collect(&built.install, rules).expect("collect"), &options).expect("analyse");
    assert_eq!(fs::read_dir(&outside).expect("read").count(), 0);
    assert_eq!(analysis.warnings.len(), 3, "{:?}", analysis.warnings);
    assert!(analysis.warnings[0]
        .message
        .contains("/usr/lib/debug is a symlink"));
    // Stripping still happened.
    let hello = fs::read(built.install.join("usr/bin/hello")).expect("read");
    assert!(!has_section(&hello, ".debug_info"));
}

#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn sibling_providers_can_become_package_dependencies() {
    if tool_missing("sibling_providers_can_become_package_dependencies") {
        return;
    }
    let built = build_greet();
    let (rules, mut options) = rules_and_options(&built);
    options.debug = false;
    options.strip = false;
    options.name_sibling_providers = true;
    let analysis =
        analyse(collect(&built.install, rules).expect("collect"), &options).expect("analyse");
    let hello = package(&analysis, "greet-hello");
    assert!(hello.depends.contains("name(greet)"), "{:?}", hello.depends);
    assert!(!hello.depends.contains("soname(libgreet.so.1(x86_64))"));
    // Dependencies nothing in the build provides are unchanged.
    assert!(hello.depends.contains("soname(libc.so.6(x86_64))"));
    // The main package is no dependency of itself.
    assert!(!package(&analysis, "greet").depends.contains("name(greet)"));
}

/// Analysis links and strips an ELF file with GNU binutils in one
/// `objcopy` run; the bytes are those of the two separate steps
/// (`objcopy --add-gnu-debuglink`, then `strip`) for programs and for
/// libraries alike, so stones do not change.
#[test]
#[cfg_attr(lacks_gcc, ignore = "needs gcc and binutils")]
fn one_objcopy_run_links_and_strips_like_the_two_steps() {
    if tool_missing("one_objcopy_run_links_and_strips_like_the_two_steps") {
        return;
    }
    let built = build_greet();
    let tools = Tools::gnu();
    assert!(debug_split::is_gnu(&tools));
    assert!(!debug_split::is_gnu(&Tools::llvm()));
    let scratch = tempfile::tempdir().expect("tempdir");
    for (original, program_dir) in [
        (built.install.join("usr/bin/hello"), true),
        (built.install.join("usr/lib/libgreet.so.1"), false),
        (built.install.join("usr/lib/libgreet.so.1"), true),
        (built.install.join("usr/bin/hello"), false),
    ] {
        let debug = scratch.path().join("x.debug");
        let _ = fs::remove_file(&debug);
        debug_split::keep_debug(&tools, &original, &debug).expect("keep debug");
        let two_steps = scratch.path().join("two");
        let one_run = scratch.path().join("one");
        fs::copy(&original, &two_steps).expect("copy");
        fs::copy(&original, &one_run).expect("copy");
        debug_split::add_debuglink(&tools, &two_steps, &debug).expect("debug link");
        debug_split::strip(&tools, &two_steps, program_dir).expect("strip");
        debug_split::strip_with_debuglink(&tools, &one_run, &debug, program_dir).expect("one run");
        let (two, one) = (
            fs::read(&two_steps).expect("read"),
            fs::read(&one_run).expect("read"),
        );
        assert!(
            two == one,
            "{} (program directory: {program_dir}): the bytes differ",
            original.display()
        );
        assert!(has_section(&one, ".gnu_debuglink"));
        assert!(!has_section(&one, ".debug_info"));
    }
}
