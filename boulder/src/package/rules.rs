//! Collection rules: which package an installed path belongs to.
//!
//! Rules are kept in the order the original adds them: the template packages,
//! then the main package's `paths`, then the recipe's `packages`. A path is
//! checked against the rules from the last added to the first and the first
//! match wins, so later rules have priority. A rule matches a path when the
//! path equals the pattern, matches it as a glob, or lies below it (the
//! pattern followed by `/**`).

use thiserror::Error;

use super::glob::{Glob, GlobError};

/// A package and the path patterns that collect into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePaths {
    pub name: String,
    pub paths: Vec<String>,
}

impl PackagePaths {
    pub fn new(name: impl Into<String>, paths: &[&str]) -> Self {
        Self {
            name: name.into(),
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// A pattern of a package that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("package `{package}`: bad path pattern")]
pub struct RuleError {
    pub package: String,
    #[source]
    pub source: GlobError,
}

#[derive(Debug, Clone)]
struct Rule {
    package: String,
    pattern: String,
    glob: Glob,
    below: Glob,
}

/// An ordered list of collection rules; later rules win.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rules in the original's order: `templates`, then `main` (the recipe's
    /// own `paths`), then the recipe's `subpackages` — so subpackages beat the
    /// main package, which beats the templates.
    pub fn in_recipe_order(
        templates: &[PackagePaths],
        main: &PackagePaths,
        subpackages: &[PackagePaths],
    ) -> Result<Self, RuleError> {
        let mut rules = Self::new();
        for package in templates.iter().chain([main]).chain(subpackages) {
            rules.add_package(package)?;
        }
        Ok(rules)
    }

    /// Adds every pattern of `package`, in order, with priority over all
    /// rules added before.
    pub fn add_package(&mut self, package: &PackagePaths) -> Result<(), RuleError> {
        for pattern in &package.paths {
            self.add(&package.name, pattern)?;
        }
        Ok(())
    }

    /// Adds one rule with priority over all rules added before.
    pub fn add(&mut self, package: &str, pattern: &str) -> Result<(), RuleError> {
        let error = |source| RuleError {
            package: package.to_string(),
            source,
        };
        // `/usr/include/` means the directory `/usr/include`.
        let trimmed = match pattern.trim_end_matches('/') {
            "" => pattern,
            t => t,
        };
        let glob = Glob::new(trimmed).map_err(error)?;
        let below = Glob::new(&format!("{}/**", trimmed.trim_end_matches('/'))).map_err(error)?;
        self.rules.push(Rule {
            package: package.to_string(),
            pattern: trimmed.to_string(),
            glob,
            below,
        });
        Ok(())
    }

    /// The package `path` (absolute, like `/usr/lib/libz.so.1`) belongs to.
    pub fn package_for(&self, path: &str) -> Option<&str> {
        self.rules
            .iter()
            .rev()
            .find(|rule| {
                rule.pattern == path || rule.glob.matches(path) || rule.below.matches(path)
            })
            .map(|rule| rule.package.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(list: &[(&str, &[&str])]) -> Rules {
        let mut rules = Rules::new();
        for (name, paths) in list {
            rules
                .add_package(&PackagePaths::new(*name, paths))
                .expect("valid patterns");
        }
        rules
    }

    #[test]
    fn later_rules_win() {
        let r = rules(&[
            ("foo", &["*"]),
            ("foo-devel", &["/usr/include", "/usr/lib/lib*.so"]),
        ]);
        assert_eq!(r.package_for("/usr/include/foo.h"), Some("foo-devel"));
        assert_eq!(r.package_for("/usr/lib/libfoo.so"), Some("foo-devel"));
        assert_eq!(r.package_for("/usr/lib/libfoo.so.1"), Some("foo"));
        assert_eq!(r.package_for("/usr/bin/foo"), Some("foo"));
    }

    #[test]
    fn directory_patterns_cover_their_contents_but_not_siblings() {
        let r = rules(&[("x", &["/usr/share/doc/"])]);
        assert_eq!(r.package_for("/usr/share/doc"), Some("x"));
        assert_eq!(r.package_for("/usr/share/doc/a/b"), Some("x"));
        assert_eq!(r.package_for("/usr/share/docs"), None);
    }

    #[test]
    fn recipe_order_puts_subpackages_first() {
        let templates = [
            PackagePaths::new("foo", &["*"]),
            PackagePaths::new("foo-devel", &["/usr/include"]),
        ];
        let main = PackagePaths::new("foo", &["/usr/include/foo/public.h"]);
        let subs = [PackagePaths::new("foo-extra", &["/usr/include/foo"])];
        let r = Rules::in_recipe_order(&templates, &main, &subs).expect("valid");
        assert_eq!(
            r.package_for("/usr/include/foo/public.h"),
            Some("foo-extra")
        );
        assert_eq!(r.package_for("/usr/include/bar.h"), Some("foo-devel"));

        let r = Rules::in_recipe_order(&templates, &main, &[]).expect("valid");
        assert_eq!(r.package_for("/usr/include/foo/public.h"), Some("foo"));
        assert_eq!(
            r.package_for("/usr/include/foo/private.h"),
            Some("foo-devel")
        );
    }

    #[test]
    fn bad_pattern_names_the_package() {
        let error = Rules::new()
            .add("foo-devel", "/usr/[lib")
            .expect_err("bad glob");
        assert_eq!(error.package, "foo-devel");
    }
}
