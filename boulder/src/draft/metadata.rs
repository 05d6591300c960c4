//! Homepage and summary from a project's metadata files (PKG-INFO, META.yml,
//! Cargo.toml, pyproject.toml) or, for the homepage, from the upstream URL.

use std::path::Path;

#[derive(Debug, Default, Clone)]
pub struct Meta {
    pub homepage: Option<String>,
    pub summary: Option<String>,
}

/// Reads the first metadata file that says something.
pub fn read(root: &Path) -> Meta {
    let mut meta = Meta::default();
    let text = |name: &str| std::fs::read_to_string(root.join(name)).ok();
    if let Some(pkg_info) = text("PKG-INFO") {
        meta.summary = header(&pkg_info, "Summary:");
        meta.homepage = header(&pkg_info, "Home-page:");
    }
    if let Some(meta_yml) = text("META.yml") {
        meta.summary = meta.summary.or_else(|| yaml_value(&meta_yml, "abstract"));
        meta.homepage = meta
            .homepage
            .or_else(|| yaml_value(&meta_yml, "homepage"))
            .or_else(|| yaml_value(&meta_yml, "repository"));
    }
    for toml in ["Cargo.toml", "pyproject.toml"] {
        if let Some(toml) = text(toml) {
            meta.summary = meta.summary.or_else(|| toml_value(&toml, "description"));
            meta.homepage = meta
                .homepage
                .or_else(|| toml_value(&toml, "homepage"))
                .or_else(|| toml_value(&toml, "repository"));
        }
    }
    meta.summary = meta.summary.filter(|s| !s.is_empty() && s != "UNKNOWN");
    meta.homepage = meta.homepage.filter(|h| h.starts_with("http"));
    meta
}

/// `(owner, repository)` of a GitHub, GitLab or Codeberg archive URL.
pub fn forge_repository(url: &str) -> Option<(String, String)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let mut parts = rest.split('/');
    let host = parts.next()?;
    if !matches!(host, "github.com" | "gitlab.com" | "codeberg.org") {
        return None;
    }
    let owner = parts.next().filter(|s| !s.is_empty())?;
    let repo = parts.next().filter(|s| !s.is_empty())?;
    Some((owner.to_string(), repo.trim_end_matches(".git").to_string()))
}

/// A homepage guessed from the URL: the forge's repository page, or the
/// site the file is on. None for local files.
pub fn homepage_from_url(url: &str) -> Option<String> {
    if let Some((owner, repo)) = forge_repository(url) {
        let host = url.split('/').nth(2)?;
        return Some(format!("https://{host}/{owner}/{repo}"));
    }
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split('/').next()?;
    if host.starts_with("127.") || host.starts_with("localhost") {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

fn header(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
}

/// `key: value` at any indentation of a simple YAML file.
fn yaml_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.trim().split_once(':')?;
        (k.trim() == key)
            .then(|| v.trim().trim_matches(['\'', '"']).to_string())
            .filter(|v| !v.is_empty())
    })
}

/// `key = "value"` of a TOML file (first occurrence).
fn toml_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        let v = v.trim();
        (k.trim() == key && v.starts_with('"'))
            .then(|| v.trim_matches('"').to_string())
            .filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homepages_from_urls() {
        assert_eq!(
            homepage_from_url("https://github.com/krallin/tini/archive/refs/tags/v0.19.0.tar.gz")
                .as_deref(),
            Some("https://github.com/krallin/tini")
        );
        assert_eq!(
            homepage_from_url("https://sourceware.org/pub/bzip2/bzip2-1.0.8.tar.gz").as_deref(),
            Some("https://sourceware.org")
        );
        assert_eq!(homepage_from_url("file:///tmp/x.tar.gz"), None);
    }
}
