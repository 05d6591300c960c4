//! A package name and version from an archive's file name (or URL), with
//! AerynOS's naming of language modules.

/// Name and version from the file name of an upstream archive:
/// `hello-1.2.tar.xz`, `hello_1.2.orig.tar.gz` (Debian), `v1.2.tar.gz`
/// (a forge's tag archive: the name comes from `fallback_name`, the
/// repository), `hello-v1.2.zip`.
pub fn split(file_name: &str, fallback_name: Option<&str>) -> (String, String) {
    let stem = strip_archive_suffix(file_name);
    let stem = stem.strip_suffix(".orig").unwrap_or(stem);
    // The version starts at the first `-` or `_` followed by a digit (or `v` and a digit).
    let bytes = stem.as_bytes();
    let mut split_at = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'-' || b == b'_' {
            let rest = &stem[i + 1..];
            if starts_version(rest) {
                split_at = Some(i);
                break;
            }
        }
    }
    match split_at {
        Some(i) => (stem[..i].to_string(), clean_version(trim_v(&stem[i + 1..]))),
        None if starts_version(stem) => (
            fallback_name.unwrap_or_default().to_string(),
            clean_version(trim_v(stem)),
        ),
        None => (stem.to_string(), String::new()),
    }
}

/// The recipe name for a package of `name`: lower case, and the language
/// prefix AerynOS gives Perl distributions and Python projects.
pub fn recipe_name(name: &str, language: Option<&str>) -> String {
    let mut out = name
        .replace("::", "-")
        .replace('_', "-")
        .to_ascii_lowercase();
    // Debian's names of Perl modules: libfoo-bar-perl.
    if let Some(inner) = out
        .strip_prefix("lib")
        .and_then(|n| n.strip_suffix("-perl"))
    {
        if language == Some("perl") {
            out = inner.to_string();
        }
    }
    if let Some(prefix) = language {
        if !out.starts_with(&format!("{prefix}-")) {
            out = format!("{prefix}-{out}");
        }
    }
    out
}

/// A version without the packaging words some projects append
/// (`0.1.3-Source`, `2.0-src`).
fn clean_version(version: &str) -> String {
    let lower = version.to_ascii_lowercase();
    for suffix in [
        "-source", "_source", ".source", "-src", "_src", ".src", "-dist",
    ] {
        if lower.ends_with(suffix) {
            return version[..version.len() - suffix.len()].to_string();
        }
    }
    version.to_string()
}

fn starts_version(text: &str) -> bool {
    let text = trim_v(text);
    text.chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn trim_v(text: &str) -> &str {
    match text.strip_prefix('v').or_else(|| text.strip_prefix('V')) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => text,
    }
}

fn strip_archive_suffix(name: &str) -> &str {
    const SUFFIXES: &[&str] = &[
        ".tar.gz",
        ".tar.xz",
        ".tar.bz2",
        ".tar.zst",
        ".tar.lz",
        ".tar.lzma",
        ".tgz",
        ".tbz2",
        ".txz",
        ".tar",
        ".zip",
    ];
    SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_from_file_names() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(split("hello-1.2.tar.xz", None), pair("hello", "1.2"));
        assert_eq!(split("aha_0.5.1.orig.tar.gz", None), pair("aha", "0.5.1"));
        assert_eq!(
            split("v0.19.0.tar.gz", Some("tini")),
            pair("tini", "0.19.0")
        );
        assert_eq!(split("gtk+-3.24.tar.xz", None), pair("gtk+", "3.24"));
        assert_eq!(split("foo-bar-v2.0.zip", None), pair("foo-bar", "2.0"));
        assert_eq!(
            split("soxr-0.1.3-Source.tar.xz", None),
            pair("soxr", "0.1.3")
        );
        assert_eq!(split("snapshot.tar.gz", None), pair("snapshot", ""));
    }

    #[test]
    fn language_prefixes() {
        assert_eq!(
            recipe_name("Class-Inspector", Some("perl")),
            "perl-class-inspector"
        );
        assert_eq!(
            recipe_name("libparse-yapp-perl", Some("perl")),
            "perl-parse-yapp"
        );
        assert_eq!(recipe_name("ply", Some("python")), "python-ply");
        assert_eq!(recipe_name("python-foo", Some("python")), "python-foo");
        assert_eq!(recipe_name("Tini", None), "tini");
    }
}
