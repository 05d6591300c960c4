//! Which installed Debian package provides what a root request names:
//! `binary(x)`, `sysbinary(x)`, `pkgconfig(x)`, `pkgconfig32(x)`,
//! `soname(x)`, `cmake(X)`, `python(x)`, `perl(X::Y)` and package names
//! (Debian's own, or AerynOS names through `debian-names.tsv`). The answer
//! comes from dpkg's file lists, so only what is installed is found.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::dpkg::{self, DpkgPackage};

/// AerynOS package names and the Debian packages that hold the same files
/// (the first installed one is taken).
const DEBIAN_NAMES: &str = include_str!("debian-names.tsv");

use super::arch::HOST;

/// What satisfies one request on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The Debian package to import.
    pub package: String,
    /// A link the package gets in the root, `/usr`-relative path → target,
    /// when the host only has a versioned name (`clang-cpp` → `clang-cpp-14`).
    pub link: Option<(String, String)>,
}

/// Every installed package's file list as dpkg wrote it (one path a line),
/// in package-name order. Lookups scan the text: the few lookups of an
/// on-demand import cost less than indexing every path of the host (over
/// a hundred thousand on a development machine) before the first one.
pub struct HostFiles {
    lists: Vec<(String, String)>,
}

/// Whether `text` has a line that is exactly `line`.
fn has_line(text: &str, line: &str) -> bool {
    let Some(first) = line.chars().next() else {
        return false;
    };
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find(line) {
        let start = from + at;
        let end = start + line.len();
        if (start == 0 || bytes[start - 1] == b'\n') && (end == bytes.len() || bytes[end] == b'\n')
        {
            return true;
        }
        from = start + first.len_utf8();
    }
    false
}

impl HostFiles {
    /// Reads the file list of every installed package.
    pub fn read(admin: &Path, installed: &BTreeMap<String, DpkgPackage>) -> HostFiles {
        let lists = installed
            .values()
            .filter_map(|pkg| {
                let text = dpkg::file_list_text(admin, pkg).ok()?;
                Some((pkg.name.clone(), text))
            })
            .collect();
        HostFiles { lists }
    }

    #[cfg(test)]
    fn add(&mut self, path: &str, package: &str) {
        match self.lists.iter_mut().find(|(p, _)| p == package) {
            Some((_, text)) => {
                text.push_str(path);
                text.push('\n');
            }
            None => self.lists.push((package.to_string(), format!("{path}\n"))),
        }
    }

    /// Every listed path with its package, packages in name order.
    fn paths(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lists
            .iter()
            .flat_map(|(package, text)| text.lines().map(move |path| (package.as_str(), path)))
    }

    /// The listed paths whose file name is `name`.
    fn named(&self, name: &str) -> Vec<String> {
        self.paths()
            .filter(|(_, path)| path.rsplit('/').next() == Some(name))
            .map(|(_, path)| path.to_string())
            .collect()
    }

    /// The first package (by name) that lists exactly `path`.
    fn owner_exact(&self, path: &str) -> Option<&str> {
        self.lists
            .iter()
            .find(|(_, text)| has_line(text, path))
            .map(|(package, _)| package.as_str())
    }

    /// The package that lists `path`, also under its merged-`/usr` spelling.
    fn owner_of(&self, path: &str) -> Option<&str> {
        if let Some(owner) = self.owner_exact(path) {
            return Some(owner);
        }
        let other = match path.strip_prefix("/usr") {
            Some(rest) => rest.to_string(),
            None => format!("/usr{path}"),
        };
        self.owner_exact(&other)
    }

    /// The package of `path`, following an `/etc/alternatives` link on the host.
    fn owner_following(&self, host_root: &Path, path: &str) -> Option<String> {
        let on_host = host_root.join(path.trim_start_matches('/'));
        if let Ok(target) = fs::read_link(&on_host) {
            if let Some(text) = target.to_str() {
                if text.starts_with("/etc/alternatives/") {
                    if let Some(real) = dpkg::resolve_alternative(text) {
                        if let Some(owner) = self.owner_of(&real) {
                            return Some(owner.to_string());
                        }
                    }
                }
            }
        }
        self.owner_of(path).map(str::to_string)
    }
}

/// `kind(name)` → (kind, name); a bare name is `name`.
fn split(request: &str) -> (&str, &str) {
    let request = request.trim();
    match request.split_once('(') {
        Some((kind, rest)) if rest.ends_with(')') => (kind, &rest[..rest.len() - 1]),
        _ => ("name", request),
    }
}

/// The AerynOS → Debian names table.
fn debian_names() -> impl Iterator<Item = (&'static str, Vec<&'static str>)> {
    DEBIAN_NAMES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (aeryn, debian) = l.split_once('\t')?;
            Some((aeryn.trim(), debian.split_whitespace().collect()))
        })
}

/// The Debian names an AerynOS package name stands for.
pub fn debian_counterparts(name: &str) -> Vec<&'static str> {
    debian_names()
        .find(|(aeryn, _)| *aeryn == name)
        .map(|(_, debian)| debian)
        .unwrap_or_default()
}

/// Finds the installed package that provides `request`.
pub fn find(
    request: &str,
    installed: &BTreeMap<String, DpkgPackage>,
    files: &HostFiles,
    host_root: &Path,
) -> Option<Found> {
    let (kind, name) = split(request);
    if name.is_empty() || name.contains('/') && !matches!(kind, "python" | "python3") {
        return None;
    }
    let plain = |package: String| Found {
        package,
        link: None,
    };
    let first_owner = |paths: &[String]| {
        paths
            .iter()
            .find_map(|p| files.owner_following(host_root, p))
            .map(plain)
    };
    match kind {
        "binary" | "sysbinary" => {
            let dirs: &[&str] = if kind == "binary" {
                &["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
            } else {
                &["/usr/sbin", "/sbin"]
            };
            let paths: Vec<String> = dirs.iter().map(|d| format!("{d}/{name}")).collect();
            first_owner(&paths).or_else(|| versioned_binary(name, files, &dirs[..1]))
        }
        "pkgconfig" => first_owner(&[
            format!("/usr/lib/{}/pkgconfig/{name}.pc", HOST.multiarch),
            format!("/usr/lib/pkgconfig/{name}.pc"),
            format!("/usr/share/pkgconfig/{name}.pc"),
        ]),
        "pkgconfig32" => {
            let mut paths: Vec<String> = HOST
                .multiarch32
                .map(|dir| format!("/usr/lib/{dir}/pkgconfig/{name}.pc"))
                .into_iter()
                .collect();
            paths.push(format!("/usr/lib32/pkgconfig/{name}.pc"));
            first_owner(&paths)
        }
        "soname" => {
            // `libz.so.1(x86_64)`: the architecture suffix is AerynOS's.
            let suffix = format!("({})", HOST.name);
            let file = name.strip_suffix(suffix.as_str()).unwrap_or(name);
            first_owner(&[
                format!("/usr/lib/{}/{file}", HOST.multiarch),
                format!("/lib/{}/{file}", HOST.multiarch),
                format!("/usr/lib64/{file}"),
                format!("/usr/lib/{file}"),
            ])
        }
        "cmake" => {
            let wanted = [
                format!("{name}Config.cmake"),
                format!("{}-config.cmake", name.to_lowercase()),
            ];
            wanted.iter().find_map(|file| {
                let cmake_dirs: Vec<String> = files
                    .named(file)
                    .into_iter()
                    .filter(|p| p.to_lowercase().contains("cmake"))
                    .collect();
                first_owner(&cmake_dirs)
            })
        }
        "python" | "python3" => {
            let module = name.replace('-', "_");
            let base = "/usr/lib/python3/dist-packages";
            first_owner(&[
                format!("{base}/{module}/__init__.py"),
                format!("{base}/{module}.py"),
                format!("{base}/{}/__init__.py", module.to_lowercase()),
                format!("{base}/{}.py", module.to_lowercase()),
            ])
            .or_else(|| python_distribution(&module, files))
        }
        "perl" => {
            let relative = format!("/{}.pm", name.replace("::", "/"));
            let file = relative.rsplit('/').next().unwrap_or_default();
            let paths: Vec<String> = files
                .named(file)
                .into_iter()
                .filter(|p| p.contains("/perl") && p.ends_with(&relative))
                .collect();
            first_owner(&paths)
        }
        "name" => package_named(name, installed).map(plain),
        _ => None,
    }
}

/// An installed package called `name` (or providing it as a virtual
/// package), else the installed Debian counterpart of an AerynOS name.
fn package_named(name: &str, installed: &BTreeMap<String, DpkgPackage>) -> Option<String> {
    if installed.contains_key(name) {
        return Some(name.to_string());
    }
    let counterpart = debian_counterparts(name)
        .into_iter()
        .find(|d| installed.contains_key(*d))
        .map(str::to_string);
    counterpart.or_else(|| {
        installed
            .values()
            .find(|p| p.provides.iter().any(|v| v == name))
            .map(|p| p.name.clone())
    })
}

/// `x-N` (highest N) in `dirs` when the host has only a versioned name.
fn versioned_binary(name: &str, files: &HostFiles, dirs: &[&str]) -> Option<Found> {
    let prefix = format!("{name}-");
    let mut best: Option<(u32, String, String)> = None;
    for (_, path) in files.paths() {
        let Some((dir, file)) = path.rsplit_once('/') else {
            continue;
        };
        let Some(version) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Ok(number) = version.parse::<u32>() else {
            continue;
        };
        if dirs.contains(&dir) && best.as_ref().is_none_or(|(n, _, _)| number > *n) {
            best = Some((number, file.to_string(), path.to_string()));
        }
    }
    let (_, file, path) = best?;
    let package = files.owner_of(&path)?.to_string();
    let link_dir = super::files::usr_relative(path.rsplit_once('/')?.0).unwrap_or("bin".into());
    Some(Found {
        package,
        link: Some((format!("{link_dir}/{name}"), file)),
    })
}

/// A `python(x)` met by a `*.dist-info` or `*.egg-info` directory of that name.
fn python_distribution(module: &str, files: &HostFiles) -> Option<Found> {
    let wanted = module.to_lowercase();
    files
        .paths()
        .filter(|(_, path)| path.starts_with("/usr/lib/python3/dist-packages/"))
        .find(|(_, path)| {
            let Some(dir) = path.rsplit('/').next() else {
                return false;
            };
            let Some(stem) = dir
                .strip_suffix(".dist-info")
                .or_else(|| dir.strip_suffix(".egg-info"))
            else {
                return false;
            };
            let project = stem.split('-').next().unwrap_or(stem);
            project.to_lowercase().replace('-', "_") == wanted
        })
        .map(|(owner, _)| Found {
            package: owner.to_string(),
            link: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, provides: &[&str]) -> DpkgPackage {
        DpkgPackage {
            name: name.into(),
            key: name.into(),
            version: "1".into(),
            architecture: "amd64".into(),
            depends: Vec::new(),
            provides: provides.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn host(lists: &[(&str, &[&str])]) -> (BTreeMap<String, DpkgPackage>, HostFiles) {
        let mut installed = BTreeMap::new();
        let mut files = HostFiles { lists: Vec::new() };
        for (name, paths) in lists {
            installed.insert(name.to_string(), pkg(name, &["virtual-thing"]));
            for path in *paths {
                // The fixture is written for x86_64; this host's triplet stands in.
                files.add(&path.replace("x86_64-linux-gnu", HOST.multiarch), name);
            }
        }
        (installed, files)
    }

    #[test]
    fn every_provider_kind_finds_its_package() {
        let (installed, files) = host(&[
            ("cmake", &["/usr/bin/cmake"]),
            ("util-linux", &["/sbin/fsck"]),
            (
                "zlib1g-dev",
                &["/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc"],
            ),
            ("lib32z1-dev", &["/usr/lib32/pkgconfig/zlib.pc"]),
            ("zlib1g", &["/lib/x86_64-linux-gnu/libz.so.1"]),
            (
                "libfmt-dev",
                &["/usr/lib/x86_64-linux-gnu/cmake/fmt/fmt-config.cmake"],
            ),
            (
                "qtbase5-dev",
                &["/usr/lib/x86_64-linux-gnu/cmake/Qt5Core/Qt5CoreConfig.cmake"],
            ),
            (
                "python3-setuptools",
                &["/usr/lib/python3/dist-packages/setuptools/__init__.py"],
            ),
            (
                "python3-installer",
                &["/usr/lib/python3/dist-packages/installer-0.6.0.dist-info"],
            ),
            ("libyaml-perl", &["/usr/share/perl5/YAML/Tiny.pm"]),
            (
                "clang-14",
                &["/usr/bin/clang-cpp-14", "/usr/bin/clang-cpp-11"],
            ),
            (
                "libstdc++-12-dev",
                &["/usr/lib/gcc/x86_64-linux-gnu/12/libstdc++.a"],
            ),
        ]);
        let root = Path::new("/nonexistent-host-root");
        let found = |r: &str| find(r, &installed, &files, root).map(|f| f.package);
        assert_eq!(found("binary(cmake)").as_deref(), Some("cmake"));
        assert_eq!(found("sysbinary(fsck)").as_deref(), Some("util-linux"));
        assert_eq!(found("binary(fsck)").as_deref(), Some("util-linux"));
        assert_eq!(found("pkgconfig(zlib)").as_deref(), Some("zlib1g-dev"));
        assert_eq!(found("pkgconfig32(zlib)").as_deref(), Some("lib32z1-dev"));
        assert_eq!(
            found(&format!("soname(libz.so.1({}))", HOST.name)).as_deref(),
            Some("zlib1g")
        );
        assert_eq!(found("cmake(fmt)").as_deref(), Some("libfmt-dev"));
        assert_eq!(found("cmake(Qt5Core)").as_deref(), Some("qtbase5-dev"));
        assert_eq!(
            found("python(setuptools)").as_deref(),
            Some("python3-setuptools")
        );
        assert_eq!(
            found("python(installer)").as_deref(),
            Some("python3-installer")
        );
        assert_eq!(found("perl(YAML::Tiny)").as_deref(), Some("libyaml-perl"));
        assert_eq!(found("cmake").as_deref(), Some("cmake"));
        assert_eq!(found("name(cmake)").as_deref(), Some("cmake"));
        assert_eq!(found("virtual-thing").as_deref(), Some("clang-14"));
        assert_eq!(
            found("libstdc++-static").as_deref(),
            Some("libstdc++-12-dev")
        );
        assert_eq!(found("binary(meson)"), None);
        assert_eq!(found("pkgconfig(../../etc/passwd)"), None);
        let versioned = find("binary(clang-cpp)", &installed, &files, root).expect("versioned");
        assert_eq!(versioned.package, "clang-14");
        assert_eq!(
            versioned.link,
            Some(("bin/clang-cpp".to_string(), "clang-cpp-14".to_string()))
        );
    }

    #[test]
    fn only_whole_lines_match() {
        let text = "/usr/bin/clang-14\n/usr/bin/clang\n/usr/lib/x\n";
        assert!(has_line(text, "/usr/bin/clang"));
        assert!(has_line(text, "/usr/bin/clang-14"));
        assert!(has_line(text, "/usr/lib/x"));
        assert!(!has_line(text, "/usr/bin/clan"));
        assert!(!has_line(text, "/usr/lib"));
        assert!(!has_line(text, "bin/clang"));
        assert!(!has_line(text, ""));
        assert!(has_line("/last", "/last"));
    }

    #[test]
    fn the_names_table_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for line in DEBIAN_NAMES.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (aeryn, debian) = line.split_once('\t').expect("a tab in every line");
            assert!(!aeryn.trim().is_empty(), "{line}");
            assert!(!debian.trim().is_empty(), "{line}");
            assert!(seen.insert(aeryn.trim()), "{aeryn} twice");
        }
        assert_eq!(debian_counterparts("zlib-devel"), vec!["zlib1g-dev"]);
    }
}
