//! Which recipe of a run provides a build dependency, and why.
//!
//! Three sources, best first:
//!
//! 1. the manifest the recipe's last build left in the local repository
//!    (`REPO/<name>/manifest.<arch>.jsonc`): every package's `provides`,
//!    as the analysis of real files found them;
//! 2. what the recipe declares: its package names, `provides` entries and
//!    the literal `paths` it assigns (`/usr/lib/pkgconfig/x.pc`);
//! 3. a first-pass guess for a recipe never built: `pkgconfig(x)` and
//!    `soname(libx.so.N)` come from the recipe named `x`, `libx` or
//!    `x-devel`'s source, `binary(x)` from the recipe with a package `x`.

use std::collections::HashMap;

use super::local_repo::LocalRepo;
use super::recipes::PlannedRecipe;

/// Where a provider was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Manifest,
    Recipe,
    Guess,
}

impl Evidence {
    pub fn name(self) -> &'static str {
        match self {
            Evidence::Manifest => "manifest of the last build",
            Evidence::Recipe => "recipe",
            Evidence::Guess => "guess from the recipe's name",
        }
    }
}

/// One answer: recipe index, the package that has the provider, evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub recipe: usize,
    pub package: String,
    pub evidence: Evidence,
}

/// The providers of every recipe of a run.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    known: HashMap<String, Provider>,
    /// Recipe index by source name and by package name (for guesses).
    by_name: HashMap<String, usize>,
}

impl Providers {
    pub fn new(recipes: &[PlannedRecipe], repo: &LocalRepo) -> Self {
        let mut providers = Providers::default();
        for (index, recipe) in recipes.iter().enumerate() {
            providers.by_name.insert(recipe.name.clone(), index);
            for package in &recipe.packages {
                providers.by_name.entry(package.clone()).or_insert(index);
                providers.add(package, index, package, Evidence::Recipe);
                providers.add(
                    &format!("name({package})"),
                    index,
                    package,
                    Evidence::Recipe,
                );
            }
            for (provider, package) in &recipe.declared {
                providers.add(provider, index, package, Evidence::Recipe);
            }
        }
        // Manifests last: they win over what the recipe text suggests.
        for (index, recipe) in recipes.iter().enumerate() {
            for (package, provides) in repo.recorded_provides(&recipe.name) {
                for provider in provides {
                    providers.known.insert(
                        normalise(&provider),
                        Provider {
                            recipe: index,
                            package: package.clone(),
                            evidence: Evidence::Manifest,
                        },
                    );
                }
            }
        }
        providers
    }

    fn add(&mut self, provider: &str, recipe: usize, package: &str, evidence: Evidence) {
        self.known
            .entry(normalise(provider))
            .or_insert_with(|| Provider {
                recipe,
                package: package.to_string(),
                evidence,
            });
    }

    /// The recipe of the run that provides `dependency`, if any.
    pub fn lookup(&self, dependency: &str) -> Option<Provider> {
        let key = normalise(dependency);
        if let Some(found) = self.known.get(&key) {
            return Some(found.clone());
        }
        self.guess(&key)
    }

    fn guess(&self, key: &str) -> Option<Provider> {
        let (kind, name) = split(key)?;
        let candidates: Vec<String> = match kind {
            "pkgconfig" | "pkgconfig32" => {
                let bare = name.strip_prefix("lib").unwrap_or(name);
                vec![
                    name.to_string(),
                    format!("lib{bare}"),
                    bare.to_string(),
                    format!("{name}-devel"),
                ]
            }
            "soname" | "soname32" => {
                let stem = name.split(".so").next().unwrap_or(name);
                let bare = stem.strip_prefix("lib").unwrap_or(stem);
                vec![stem.to_string(), bare.to_string()]
            }
            "binary" | "sysbinary" => vec![name.to_string()],
            _ => Vec::new(),
        };
        candidates.iter().find_map(|candidate| {
            self.by_name.get(candidate).map(|&recipe| Provider {
                recipe,
                package: candidate.clone(),
                evidence: Evidence::Guess,
            })
        })
    }
}

/// `kind(name)` into its parts.
fn split(provider: &str) -> Option<(&str, &str)> {
    let (kind, rest) = provider.split_once('(')?;
    Some((kind, rest.strip_suffix(')')?))
}

/// One spelling per provider: manifests write sonames with their
/// architecture (`soname(libz.so.1(x86_64))`), recipes usually without.
pub fn normalise(provider: &str) -> String {
    let provider = provider.trim();
    if let Some((kind, name)) = split(provider) {
        if let Some((bare, arch)) = name.rsplit_once('(') {
            if arch.ends_with(')') {
                return format!("{kind}({bare})");
            }
        }
    }
    provider.to_string()
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn sonames_lose_their_architecture() {
        assert_eq!(
            normalise("soname(libgreet.so.1(x86_64))"),
            "soname(libgreet.so.1)"
        );
        assert_eq!(normalise("pkgconfig(libgreet)"), "pkgconfig(libgreet)");
        assert_eq!(normalise("make"), "make");
    }
}
