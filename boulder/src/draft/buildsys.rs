//! Which build system a source tree uses, and the phases that drive it with
//! boulder's actions.

use std::path::Path;

/// A build system `recipe new` knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildSystem {
    /// A generated `configure` script.
    Autotools,
    /// `configure.ac` without a generated `configure`: regenerate first.
    AutotoolsReconfigure,
    Cmake,
    Meson,
    Cargo,
    /// PEP 517 (`pyproject.toml` with a build backend).
    Pyproject,
    /// `setup.py`.
    PythonSetup,
    /// `Makefile.PL` (ExtUtils::MakeMaker).
    PerlMakeMaker,
    /// `Build.PL` (Module::Build).
    PerlModuleBuild,
    /// `go.mod`.
    Go,
    /// A hand-written Makefile.
    Make,
    Unknown,
}

impl BuildSystem {
    /// Detects the build system from the files at the top of the tree. The
    /// order settles trees with several: a generated `configure` is what a
    /// release tarball is meant to be built with; meson and CMake come before
    /// a Makefile that only wraps them.
    pub fn detect(top: &dyn Fn(&str) -> bool) -> BuildSystem {
        if top("configure") && (top("configure.ac") || top("configure.in") || top("Makefile.in")) {
            BuildSystem::Autotools
        } else if top("meson.build") {
            BuildSystem::Meson
        } else if top("CMakeLists.txt") {
            BuildSystem::Cmake
        } else if top("configure.ac") || top("configure.in") {
            BuildSystem::AutotoolsReconfigure
        } else if top("Cargo.toml") {
            BuildSystem::Cargo
        } else if top("Makefile.PL") {
            BuildSystem::PerlMakeMaker
        } else if top("Build.PL") {
            BuildSystem::PerlModuleBuild
        } else if top("pyproject.toml") && !top("setup.py") {
            BuildSystem::Pyproject
        } else if top("setup.py") {
            BuildSystem::PythonSetup
        } else if top("go.mod") {
            BuildSystem::Go
        } else if top("Makefile") || top("makefile") || top("GNUmakefile") {
            BuildSystem::Make
        } else {
            BuildSystem::Unknown
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            BuildSystem::Autotools | BuildSystem::AutotoolsReconfigure => "autotools",
            BuildSystem::Cmake => "cmake",
            BuildSystem::Meson => "meson",
            BuildSystem::Cargo => "cargo",
            BuildSystem::Pyproject | BuildSystem::PythonSetup => "python",
            BuildSystem::PerlMakeMaker | BuildSystem::PerlModuleBuild => "perl",
            BuildSystem::Go => "go",
            BuildSystem::Make => "make",
            BuildSystem::Unknown => "unknown",
        }
    }

    /// The language prefix of the recipe name (`perl-`, `python-`).
    pub fn language(self) -> Option<&'static str> {
        match self {
            BuildSystem::Pyproject | BuildSystem::PythonSetup => Some("python"),
            BuildSystem::PerlMakeMaker | BuildSystem::PerlModuleBuild => Some("perl"),
            _ => None,
        }
    }

    /// The recipe's phases: `(key, body)`, bodies one command a line, `#`
    /// lines are comments for the packager.
    pub fn phases(self) -> Vec<(&'static str, &'static str)> {
        match self {
            BuildSystem::Autotools => vec![
                ("setup", "%configure"),
                ("build", "%make"),
                ("install", "%make_install"),
            ],
            BuildSystem::AutotoolsReconfigure => vec![
                ("setup", "%reconfigure"),
                ("build", "%make"),
                ("install", "%make_install"),
            ],
            BuildSystem::Cmake => vec![
                ("setup", "%cmake"),
                ("build", "%cmake_build"),
                ("install", "%cmake_install"),
            ],
            BuildSystem::Meson => vec![
                ("setup", "%meson"),
                ("build", "%meson_build"),
                ("install", "%meson_install"),
            ],
            BuildSystem::Cargo => vec![
                ("setup", "%cargo_fetch"),
                ("build", "%cargo_build"),
                ("install", "%cargo_install"),
            ],
            BuildSystem::Pyproject => vec![
                ("build", "%pyproject_build"),
                ("install", "%pyproject_install"),
            ],
            BuildSystem::PythonSetup => vec![
                ("build", "%python_setup"),
                ("install", "%python_install"),
            ],
            BuildSystem::PerlMakeMaker => vec![
                ("setup", "%perl_setup"),
                ("build", "%make"),
                ("install", "%make_install"),
            ],
            BuildSystem::PerlModuleBuild => vec![
                ("setup", "%perl_module_setup"),
                ("build", "%perl_module_build"),
                ("install", "%perl_module_install"),
            ],
            BuildSystem::Go => vec![
                ("setup", "%go_mod"),
                (
                    "build",
                    "# FIXME: name what to build, e.g. `go build -trimpath -o %(name) ./cmd/%(name)`\ngo build -trimpath -o %(name) .",
                ),
                ("install", "%install_bin %(name)"),
            ],
            BuildSystem::Make => vec![
                ("build", "%make"),
                (
                    "install",
                    "# FIXME: check how the Makefile takes the prefix (PREFIX, prefix) and DESTDIR\n%make_install PREFIX=%(prefix)",
                ),
            ],
            BuildSystem::Unknown => vec![
                (
                    "setup",
                    "# FIXME: no build system was recognised; configure the sources here\ntrue",
                ),
                ("build", "# FIXME: compile here, e.g. `%make`\ntrue"),
                (
                    "install",
                    "# FIXME: install into %(installroot), e.g. `%make_install PREFIX=%(prefix)`\n# or `%install_bin BINARY`\ntrue",
                ),
            ],
        }
    }

    /// The command that runs the test suite, left commented in the draft.
    pub fn check(self) -> Option<&'static str> {
        match self {
            BuildSystem::Autotools | BuildSystem::AutotoolsReconfigure => Some("%make check"),
            BuildSystem::Meson => Some("%meson_test"),
            BuildSystem::Cmake => Some("%cmake_test"),
            BuildSystem::Cargo => Some("%cargo_test"),
            BuildSystem::PerlMakeMaker => Some("%make test"),
            BuildSystem::Go => Some("go test ./..."),
            _ => None,
        }
    }

    /// Recipe options the build system needs (`networking` for downloads).
    pub fn networking(self) -> bool {
        matches!(self, BuildSystem::Cargo | BuildSystem::Go)
    }
}

/// Build files to read dependencies from, by build system.
pub fn dependency_files(system: BuildSystem) -> &'static [&'static str] {
    match system {
        BuildSystem::Autotools | BuildSystem::AutotoolsReconfigure => {
            &["configure.ac", "configure.in"]
        }
        BuildSystem::Cmake => &["CMakeLists.txt"],
        BuildSystem::Meson => &["meson.build"],
        _ => &[],
    }
}

/// True when `path` looks like a source file whose header may carry a
/// licence notice.
pub fn is_source_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(
            e,
            "c" | "h"
                | "cc"
                | "cpp"
                | "cxx"
                | "hh"
                | "hpp"
                | "rs"
                | "go"
                | "py"
                | "pm"
                | "pl"
                | "vala"
                | "js"
                | "sh"
                | "in"
                | "ac"
                | "am"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(files: &[&str]) -> BuildSystem {
        BuildSystem::detect(&|name| files.contains(&name))
    }

    #[test]
    fn detection_order() {
        assert_eq!(
            detect(&["configure", "configure.ac", "CMakeLists.txt"]),
            BuildSystem::Autotools
        );
        assert_eq!(detect(&["meson.build", "Makefile"]), BuildSystem::Meson);
        assert_eq!(detect(&["configure.ac"]), BuildSystem::AutotoolsReconfigure);
        assert_eq!(
            detect(&["setup.py", "pyproject.toml"]),
            BuildSystem::PythonSetup
        );
        assert_eq!(detect(&["pyproject.toml"]), BuildSystem::Pyproject);
        assert_eq!(
            detect(&["Makefile.PL", "Makefile"]),
            BuildSystem::PerlMakeMaker
        );
        assert_eq!(detect(&["go.mod"]), BuildSystem::Go);
        assert_eq!(detect(&["README"]), BuildSystem::Unknown);
    }
}
