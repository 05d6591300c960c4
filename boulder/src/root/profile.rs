//! Profiles: which repositories a build root is made from, and the base
//! package set every root of the profile holds. Two ship inside boulder
//! (`profiles/*.yaml` at the top of the source tree); a file
//! `<profiles dir>/<name>.yaml` adds a profile or replaces a shipped one.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Cache, RootError};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "host";

const SHIPPED: [(&str, &str); 2] = [
    ("host", include_str!("../../../profiles/host.yaml")),
    ("aerynos", include_str!("../../../profiles/aerynos.yaml")),
];

/// One repository of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RepositorySpec {
    pub name: String,
    /// The index itself: `https://…/stone.index`, `file:///…` or `cache:<path
    /// relative to the cache directory>`.
    #[serde(default)]
    pub uri: Option<String>,
    /// Or a root index: `<base-uri>/<channel>/moss-root-index.json` names the
    /// history that `version` (`stream/x`, `tag/x` or `history/x`) means.
    #[serde(default)]
    pub base_uri: Option<String>,
    #[serde(default = "default_channel")]
    pub channel: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default = "default_arch")]
    pub arch: String,
    /// Higher wins when several repositories provide the same thing.
    #[serde(default)]
    pub priority: u64,
    /// `host`: the repository is made by the host import when it is missing.
    #[serde(default)]
    pub import: Option<String>,
}

fn default_channel() -> String {
    "main".into()
}

fn default_arch() -> String {
    crate::recipe::HOST_ARCH.into()
}

/// One tuning default of a profile: on, off, or an option of the group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ProfileTuning {
    Enabled(bool),
    Option(String),
}

impl Profile {
    /// The profile's tuning defaults as requests, to put before the recipe's.
    pub fn tuning_requests(&self) -> Vec<crate::macros::TuningRequest> {
        use crate::macros::{TuningRequest, TuningSetting};
        self.tuning
            .iter()
            .map(|(group, value)| {
                let setting = match value {
                    ProfileTuning::Enabled(true) => TuningSetting::Enable,
                    ProfileTuning::Enabled(false) => TuningSetting::Disable,
                    ProfileTuning::Option(option) => TuningSetting::Option(option.clone()),
                };
                TuningRequest::new(group.clone(), setting)
            })
            .collect()
    }
}

/// A loaded profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(skip)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub repositories: Vec<RepositorySpec>,
    /// The base set, `kind(name)` or bare package names.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Tuning defaults for this profile's toolchain, applied before the
    /// recipe's own `tuning` (which wins): `group: true|false|option`.
    #[serde(default)]
    pub tuning: std::collections::BTreeMap<String, ProfileTuning>,
    /// What each toolchain adds to a root: `llvm`, `gnu`, and `emul32` for
    /// recipes that also build 32-bit (requests, like `packages`).
    #[serde(default)]
    pub toolchains: std::collections::BTreeMap<String, Vec<String>>,
    /// Variables every phase of a build with this profile starts with
    /// (before the recipe's own `environment`).
    #[serde(default)]
    pub environment: std::collections::BTreeMap<String, String>,
    /// Variables added for one toolchain's builds (`llvm`, `gnu`).
    #[serde(default, rename = "toolchain-environment")]
    pub toolchain_environment:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// Requests that bring others along on this profile's repositories
    /// (`binary(perl)` → `perl`: Debian splits what AerynOS ships as one).
    #[serde(default)]
    pub implies: std::collections::BTreeMap<String, Vec<String>>,
    /// Links every root of the profile gets: path relative to `/` → target.
    #[serde(default)]
    pub links: std::collections::BTreeMap<String, String>,
    /// Small files every root of the profile gets: path relative to `/` →
    /// content (what a host's packages make at install time, say).
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
    /// Shell lines every phase script of this profile runs after the prologue
    /// and before the recipe's `environment`: where the root cannot do what the
    /// prologue asks (a locale it lacks), the profile overrides it here and the
    /// recipe's own expansion stays upstream's.
    #[serde(default, rename = "script-environment")]
    pub script_environment: Option<String>,
    /// Where it was read from (`None` for a shipped one).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Profile {
    /// Parses a profile file's text.
    pub fn parse(name: &str, text: &str, source: Option<&Path>) -> Result<Profile, RootError> {
        let shown = source.map_or_else(
            || PathBuf::from(format!("<shipped {name}>")),
            Path::to_path_buf,
        );
        let mut profile: Profile =
            moss_core::yaml::from_str(text).map_err(|e| RootError::BadProfile {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        if profile.repositories.is_empty() {
            return Err(RootError::BadProfile {
                path: shown,
                message: "it names no repository".into(),
            });
        }
        for repo in &profile.repositories {
            let ok = match (&repo.uri, &repo.base_uri) {
                (Some(_), None) => true,
                (None, Some(_)) => repo.version.is_some(),
                _ => false,
            };
            if !ok {
                return Err(RootError::BadProfile {
                    path: shown,
                    message: format!(
                        "repository `{}` needs either `uri`, or `base-uri` with `version`",
                        repo.name
                    ),
                });
            }
        }
        profile.name = name.to_string();
        profile.source = source.map(Path::to_path_buf);
        Ok(profile)
    }

    /// The profile `name`: from the profiles directory, else a shipped one.
    pub fn load(cache: &Cache, name: &str) -> Result<Profile, RootError> {
        if let Some(dir) = cache.profiles_dir() {
            let path = dir.join(format!("{name}.yaml"));
            if path.is_file() {
                let text =
                    std::fs::read_to_string(&path).map_err(RootError::io("reading", &path))?;
                return Profile::parse(name, &text, Some(&path));
            }
        }
        match SHIPPED.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => Profile::parse(name, text, None),
            None => Err(RootError::UnknownProfile {
                name: name.to_string(),
                known: list(cache).join(", "),
            }),
        }
    }
}

impl Profile {
    /// The requests a recipe's toolchain adds to its root: the toolchain's
    /// own, plus `emul32`'s when the recipe builds 32-bit too.
    pub fn toolchain_packages(&self, toolchain: &str, emul32: bool) -> Vec<String> {
        let mut names: Vec<String> = self.toolchains.get(toolchain).cloned().unwrap_or_default();
        if emul32 {
            names.extend(self.toolchains.get("emul32").cloned().unwrap_or_default());
        }
        names
    }

    /// [`Profile::toolchain_packages`] for a recipe's options.
    pub fn recipe_toolchain(&self, options: &crate::recipe::model::Options) -> Vec<String> {
        self.toolchain_packages(toolchain_name(options), options.emul32)
    }

    /// The variables the recipe's toolchain adds to its phases.
    pub fn recipe_environment(
        &self,
        options: &crate::recipe::model::Options,
    ) -> Vec<(String, String)> {
        self.toolchain_environment
            .get(toolchain_name(options))
            .map(|env| env.clone().into_iter().collect())
            .unwrap_or_default()
    }
}

fn toolchain_name(options: &crate::recipe::model::Options) -> &'static str {
    match options.toolchain {
        crate::recipe::model::Toolchain::Llvm => "llvm",
        crate::recipe::model::Toolchain::Gnu => "gnu",
    }
}

impl Profile {
    /// `requests` followed by what they imply, each once.
    pub fn with_implied(&self, requests: Vec<String>) -> Vec<String> {
        let mut out = requests;
        let mut i = 0;
        while i < out.len() {
            if let Some(more) = self.implies.get(out[i].trim()) {
                for extra in more {
                    if !out.contains(extra) {
                        out.push(extra.clone());
                    }
                }
            }
            i += 1;
        }
        out
    }
}

/// Names of every profile: the shipped ones and those in the profiles directory.
pub fn list(cache: &Cache) -> Vec<String> {
    let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(Ok(entries)) = cache.profiles_dir().map(std::fs::read_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "yaml") {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_string());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_parse() {
        for (name, text) in SHIPPED {
            let profile = Profile::parse(name, text, None).expect(name);
            assert!(!profile.packages.is_empty(), "{name}");
        }
        let host = Profile::parse("host", SHIPPED[0].1, None).expect("host");
        assert_eq!(host.repositories[0].import.as_deref(), Some("host"));
        let llvm = host.toolchain_packages("llvm", false);
        assert!(llvm.contains(&"binary(clang)".to_string()), "{llvm:?}");
        assert!(llvm.contains(&"binary(ld.lld)".to_string()), "{llvm:?}");
        let gnu32 = host.toolchain_packages("gnu", true);
        assert!(gnu32.contains(&"binary(gcc)".to_string()), "{gnu32:?}");
        assert!(gnu32.contains(&"gcc-multilib".to_string()), "{gnu32:?}");
        let implied = host.with_implied(vec!["binary(perl)".into(), "perl".into()]);
        assert_eq!(implied, vec!["binary(perl)".to_string(), "perl".into()]);
    }

    #[test]
    fn a_repository_needs_a_source() {
        let err = Profile::parse("x", "repositories:\n  - name: a\n    priority: 1\n", None)
            .expect_err("no uri");
        assert!(err.to_string().contains("needs either"), "{err}");
    }
}
