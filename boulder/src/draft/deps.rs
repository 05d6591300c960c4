//! Build dependencies read from a project's build files: `pkg-config`
//! modules and CMake packages, as moss provider names (`pkgconfig(x)`,
//! `cmake(X)`).
//!
//! This reads calls, it does not evaluate the build language: a dependency
//! behind an option is listed like any other, which is why the drafted
//! recipe says to check them.

use std::collections::BTreeSet;

/// `PKG_CHECK_MODULES(VAR, [mod >= 1 mod2])` and `PKG_CHECK_EXISTS` of a
/// `configure.ac`.
pub fn from_configure_ac(text: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    for macro_name in ["PKG_CHECK_MODULES", "PKG_CHECK_EXISTS"] {
        for args in calls(text, macro_name) {
            let index = usize::from(macro_name == "PKG_CHECK_MODULES");
            if let Some(modules) = args.get(index) {
                deps.extend(modules_of(modules).map(|m| format!("pkgconfig({m})")));
            }
        }
    }
    deps
}

/// `find_package(Name …)`, `pkg_check_modules(PREFIX … mod>=1)` and
/// `pkg_search_module` of a `CMakeLists.txt`.
pub fn from_cmake(text: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    let lower = text.to_ascii_lowercase();
    for args in calls_ci(text, &lower, "find_package") {
        let Some(name) = args.first().and_then(|a| a.split_whitespace().next()) else {
            continue;
        };
        let name = name.trim_matches('"');
        match name {
            // Part of CMake itself, or the host's basics.
            "PkgConfig" => {
                deps.insert("binary(pkg-config)".to_string());
            }
            // Modules of CMake itself that find the compiler's or host's parts.
            "Threads" | "OpenMP" | "" => {}
            "Git" => {
                deps.insert("binary(git)".to_string());
            }
            "Doxygen" => {
                deps.insert("binary(doxygen)".to_string());
            }
            _ if name.starts_with('$') => {}
            _ => {
                deps.insert(format!("cmake({name})"));
            }
        }
    }
    for command in ["pkg_check_modules", "pkg_search_module"] {
        for args in calls_ci(text, &lower, command) {
            let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            for word in words.iter().skip(1) {
                let word = word.trim_matches('"');
                if matches!(
                    word,
                    "REQUIRED"
                        | "QUIET"
                        | "IMPORTED_TARGET"
                        | "GLOBAL"
                        | "NO_CMAKE_PATH"
                        | "NO_CMAKE_ENVIRONMENT_PATH"
                ) || word.starts_with('$')
                {
                    continue;
                }
                let module = word.split(['>', '<', '=']).next().unwrap_or_default();
                if !module.is_empty() {
                    deps.insert(format!("pkgconfig({module})"));
                }
            }
        }
    }
    deps
}

/// `dependency('name', …)` of a `meson.build`.
pub fn from_meson(text: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    for args in calls(text, "dependency") {
        let Some(first) = args.first() else { continue };
        let name = first.trim().trim_matches(['\'', '"']);
        if name.is_empty() || !first.trim().starts_with(['\'', '"']) {
            continue;
        }
        // Meson's own names for the C library's parts and the compiler's.
        if matches!(
            name,
            "threads" | "dl" | "m" | "rt" | "openmp" | "mpi" | "intl" | "iconv"
        ) {
            continue;
        }
        deps.insert(format!("pkgconfig({name})"));
    }
    deps
}

/// The module names of a pkg-config module list (`[glib-2.0 >= 2.40 gio-2.0]`).
fn modules_of(list: &str) -> impl Iterator<Item = String> + '_ {
    let list = list.trim().trim_start_matches('[').trim_end_matches(']');
    let mut skip_next = false;
    list.split_whitespace().filter_map(move |word| {
        if skip_next {
            skip_next = false;
            return None;
        }
        if matches!(word, ">=" | "<=" | "=" | ">" | "<" | "!=") {
            skip_next = true;
            return None;
        }
        let word = word.trim_matches(['[', ']', ',', '"', '\'']);
        let ok = !word.is_empty()
            && !word.starts_with('$')
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c));
        ok.then(|| word.to_string())
    })
}

/// The argument lists of every `name(…)` call in `text` (commas at depth 1
/// separate arguments; `#` and `dnl` comments are not calls).
fn calls(text: &str, name: &str) -> Vec<Vec<String>> {
    calls_ci(text, text, name)
}

/// As [`calls`], matching `name` in `haystack` (a lower-cased copy of `text`
/// for case-insensitive languages) and reading the arguments from `text`.
fn calls_ci(text: &str, haystack: &str, name: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = haystack[from..].find(name) {
        let start = from + found;
        from = start + name.len();
        // A whole word, not in a comment line.
        let before = haystack[..start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let line_start = haystack[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_head = haystack[line_start..start].trim_start();
        if line_head.starts_with('#') || line_head.starts_with("dnl") {
            continue;
        }
        let rest = &text[from..];
        let Some(open) = rest.find(|c: char| !c.is_whitespace()) else {
            break;
        };
        if !rest[open..].starts_with('(') {
            continue;
        }
        let mut depth = 0usize;
        let mut args = Vec::new();
        let mut current = String::new();
        for c in rest[open..].chars() {
            match c {
                '(' | '[' => {
                    depth += 1;
                    if depth > 1 {
                        current.push(c);
                    }
                }
                ')' | ']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                    current.push(c);
                }
                ',' if depth == 1 => args.push(std::mem::take(&mut current)),
                c => current.push(c),
            }
        }
        args.push(current);
        out.push(args.into_iter().map(|a| a.trim().to_string()).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn configure_ac_modules() {
        let text = "dnl PKG_CHECK_MODULES([X], [nope])\nPKG_CHECK_MODULES([GLIB], [glib-2.0 >= 2.38 gio-2.0])\nPKG_CHECK_MODULES(SYSTEMD, libsystemd,, [have=no])\n";
        assert_eq!(
            from_configure_ac(text),
            set(&[
                "pkgconfig(gio-2.0)",
                "pkgconfig(glib-2.0)",
                "pkgconfig(libsystemd)"
            ])
        );
    }

    #[test]
    fn cmake_packages_and_modules() {
        let text = "find_package(PkgConfig REQUIRED)\nFIND_PACKAGE(ZLIB)\nfind_package(Threads)\n# find_package(Nope)\npkg_check_modules(GLIB REQUIRED IMPORTED_TARGET glib-2.0>=2.40 gobject-2.0)\n";
        assert_eq!(
            from_cmake(text),
            set(&[
                "binary(pkg-config)",
                "cmake(ZLIB)",
                "pkgconfig(glib-2.0)",
                "pkgconfig(gobject-2.0)"
            ])
        );
    }

    #[test]
    fn meson_dependencies() {
        let text = "glib_dep = dependency('glib-2.0', version: '>=2.38')\nthreads = dependency('threads')\ngi = dependency(\"gobject-introspection-1.0\", required: false)\nx = dependency(name_var)\n";
        assert_eq!(
            from_meson(text),
            set(&[
                "pkgconfig(glib-2.0)",
                "pkgconfig(gobject-introspection-1.0)"
            ])
        );
    }
}
