//! `recipe new`: a first `stone.yaml` drafted from an upstream archive.
//!
//! From the unpacked tree: the build system (and the matching actions), the
//! SPDX licence of its licence files, build dependencies read from
//! `configure.ac`, `CMakeLists.txt` or `meson.build`, and the name, version,
//! homepage and summary from the file name, URL and metadata files. Where a
//! human must decide, the recipe says so in a `FIXME` comment.

mod buildsys;
mod deps;
mod license;
mod metadata;
mod name;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use buildsys::BuildSystem;
pub use license::Licenses;

/// What `recipe new` read from an archive.
#[derive(Debug, Clone)]
pub struct Draft {
    pub name: String,
    pub version: String,
    pub url: String,
    pub sha256: String,
    pub homepage: Option<String>,
    pub summary: Option<String>,
    pub system: BuildSystem,
    pub licenses: Licenses,
    pub builddeps: BTreeSet<String>,
    /// The build files the dependencies were read from.
    pub deps_from: Vec<String>,
    /// `find_package` names the project's own CMake modules resolve.
    pub unresolved: Vec<String>,
    /// Further upstreams (URL, sha256) listed after the main one.
    pub extra_upstreams: Vec<(String, String)>,
}

/// The archive to draft from.
pub struct Source<'a> {
    /// As it will be written in the recipe.
    pub url: &'a str,
    /// The archive's file name (name and version come from it).
    pub file_name: &'a str,
    pub sha256: &'a str,
    /// The archive unpacked with no leading directory stripped.
    pub tree: &'a Path,
}

/// Reads `source` into a [`Draft`].
pub fn draft(source: &Source<'_>) -> Draft {
    let (root, top_dir) = project_root(source.tree);
    let top = |name: &str| root.join(name).is_file();
    let system = BuildSystem::detect(&top);
    let files = top_files(&root);
    let sources = source_files(&root);

    let forge_name = metadata::forge_repository(source.url).map(|(_, repo)| repo);
    let (mut raw_name, mut version) = name::split(source.file_name, forge_name.as_deref());
    if let Some(dir) = &top_dir {
        let (dir_name, dir_version) = name::split(dir, None);
        if raw_name.is_empty() {
            raw_name = dir_name;
        }
        if version.is_empty() {
            version = dir_version;
        }
    }
    let name = name::recipe_name(&raw_name, system.language());

    let licenses = license::detect(&root, &files, system.language() == Some("perl"), &sources);
    let mut builddeps = BTreeSet::new();
    let mut deps_from = Vec::new();
    for file in buildsys::dependency_files(system) {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        let found = match system {
            BuildSystem::Cmake => deps::from_cmake(&text),
            BuildSystem::Meson => deps::from_meson(&text),
            _ => deps::from_configure_ac(&text),
        };
        if !found.is_empty() {
            deps_from.push(file.to_string());
            builddeps.extend(found);
        }
    }
    // `find_package(X)` served by the project's own `FindX.cmake` names no
    // CMake package: what the module looks for must be found by hand.
    let own_modules = cmake_find_modules(&root);
    let mut unresolved = Vec::new();
    builddeps.retain(|dep| {
        let module = dep
            .strip_prefix("cmake(")
            .and_then(|d| d.strip_suffix(')'))
            .filter(|m| own_modules.contains(*m));
        if let Some(module) = module {
            unresolved.push(module.to_string());
        }
        module.is_none()
    });
    let meta = metadata::read(&root);
    Draft {
        name,
        version,
        url: source.url.to_string(),
        sha256: source.sha256.to_string(),
        homepage: meta
            .homepage
            .or_else(|| metadata::homepage_from_url(source.url)),
        summary: meta.summary,
        system,
        licenses,
        builddeps,
        deps_from,
        unresolved,
        extra_upstreams: Vec::new(),
    }
}

/// `X` for every `FindX.cmake` the project ships.
fn cmake_find_modules(root: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(root)
        .max_depth(4)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("Find")?
                .strip_suffix(".cmake")
                .map(str::to_string)
        })
        .collect()
}

impl Draft {
    /// A `monitoring.yaml` as AerynOS keeps beside each recipe: where new
    /// releases are announced and the CPE names security advisories use.
    pub fn monitoring(&self) -> String {
        let rss = match metadata::forge_repository(&self.url) {
            Some((owner, repo)) if self.url.contains("://github.com/") => {
                format!("https://github.com/{owner}/{repo}/releases.atom")
            }
            _ => "~".to_string(),
        };
        format!(
            "releases:\n  # FIXME: the project's id on release-monitoring.org\n  id: ~\n  rss: {rss}\nsecurity:\n  # FIXME: the CPE vendor and product, when the project has any\n  cpe: ~\n"
        )
    }
}

/// The directory the project is in: the archive's single top directory, or
/// the tree itself; and that directory's name.
fn project_root(tree: &Path) -> (PathBuf, Option<String>) {
    let entries: Vec<PathBuf> = std::fs::read_dir(tree)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    match entries.as_slice() {
        [only] if only.is_dir() => (
            only.clone(),
            only.file_name().map(|n| n.to_string_lossy().into_owned()),
        ),
        _ => (tree.to_path_buf(), None),
    }
}

/// The regular files directly in `root`, relative, sorted.
fn top_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| PathBuf::from(e.file_name()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Source files of the tree (relative), shallow first, a bounded number.
fn source_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .max_depth(4)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && buildsys::is_source_file(e.path()))
        .filter_map(|e| e.path().strip_prefix(root).ok().map(Path::to_path_buf))
        .take(2000)
        .collect();
    files.sort_by_key(|p| p.components().count());
    files
}

impl Draft {
    /// The recipe text, with `FIXME` comments where a human must decide.
    pub fn render(&self) -> String {
        use crate::recipe::edit::double_quoted;
        let mut out = String::new();
        let line = |out: &mut String, text: &str| {
            out.push_str(text);
            out.push('\n');
        };
        line(
            &mut out,
            &format!("# Drafted by `boulder recipe new` from {}", self.url),
        );
        line(&mut out, &format!("# Build system: {}", self.system.name()));
        line(&mut out, &format!("name        : {}", self.name));
        if self.version.is_empty() {
            line(
                &mut out,
                "# FIXME: no version in the file name; write the upstream version",
            );
            line(&mut out, "version     : \"0\"");
        } else {
            line(
                &mut out,
                &format!("version     : {}", double_quoted(&self.version)),
            );
        }
        line(&mut out, "release     : 1");
        match &self.homepage {
            Some(url) => line(&mut out, &format!("homepage    : {url}")),
            None => {
                line(&mut out, "# FIXME: the project's home page");
                line(
                    &mut out,
                    &format!("homepage    : https://example.invalid/{}", self.name),
                );
            }
        }
        line(&mut out, "upstreams   :");
        line(&mut out, &format!("    - {} : {}", self.url, self.sha256));
        for (url, sha256) in &self.extra_upstreams {
            line(&mut out, &format!("    - {url} : {sha256}"));
        }
        match &self.summary {
            Some(summary) => line(
                &mut out,
                &format!("summary     : {}", double_quoted(summary)),
            ),
            None => {
                line(&mut out, "# FIXME: one line saying what this is");
                line(&mut out, &format!("summary     : \"{}\"", self.name));
            }
        }
        line(
            &mut out,
            "# FIXME: a paragraph for people choosing what to install",
        );
        line(&mut out, "description : |");
        line(
            &mut out,
            &format!(
                "    {}",
                self.summary.clone().unwrap_or_else(|| self.name.clone())
            ),
        );
        match self.licenses.ids.as_slice() {
            [] => {
                line(
                    &mut out,
                    "# FIXME: no licence file was recognised; write the SPDX identifier(s)",
                );
                line(&mut out, "license     : NOASSERTION");
            }
            ids => {
                let files: BTreeSet<String> = self
                    .licenses
                    .sources
                    .iter()
                    .map(|(_, f)| f.display().to_string())
                    .collect();
                line(
                    &mut out,
                    &format!(
                        "# Detected in {}; check it against the source headers",
                        files.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                );
                line(&mut out, "license     :");
                for id in ids {
                    line(&mut out, &format!("    - {id}"));
                }
            }
        }
        if !self.builddeps.is_empty() {
            line(
                &mut out,
                &format!(
                    "# Read from {}: remove those behind options the build does not use",
                    self.deps_from.join(", ")
                ),
            );
            line(&mut out, "builddeps   :");
            for dep in &self.builddeps {
                line(&mut out, &format!("    - {dep}"));
            }
        }
        if !self.unresolved.is_empty() {
            line(
                &mut out,
                &format!(
                    "# FIXME: the project's own CMake modules find {}; add what they look for",
                    self.unresolved.join(", ")
                ),
            );
        }
        if self.system.networking() {
            line(
                &mut out,
                "# The build downloads its dependencies; vendor them to build offline",
            );
            line(&mut out, "networking  : true");
        }
        for (phase, body) in self.system.phases() {
            line(&mut out, &format!("{phase:<12}: |"));
            for body_line in body.lines() {
                line(&mut out, &format!("    {body_line}"));
            }
        }
        if let Some(check) = self.system.check() {
            line(
                &mut out,
                "# FIXME: run the test suite once its dependencies are known:",
            );
            line(&mut out, "# check       : |");
            line(&mut out, &format!("#     {check}"));
        }
        out
    }
}
