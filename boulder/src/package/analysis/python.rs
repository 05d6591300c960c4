//! `python(name)` for installed Python distributions, from the `Name:` field of
//! `*.dist-info/METADATA` or `*.egg-info/PKG-INFO`, normalised as PEP 503 says.
//! A metadata file without `Name:` gets a warning instead of a provider (the
//! original panics there).

use std::fs::File;
use std::io::{BufRead, BufReader};

use super::context::{Decision, FileContext};
use crate::package::relation::{Kind, Relation};

/// Headers end at the first blank line; a metadata header block this long is
/// not a real one.
const MAX_HEADER_LINES: usize = 10_000;

pub fn handle(file: &mut FileContext) -> Decision {
    if !file.entry.is_regular() || !is_metadata_file(file.path()) {
        return Decision::Next;
    }
    match read_name(&file.on_disk) {
        Ok(Some(name)) => {
            file.provides
                .insert(Relation::new(Kind::Python, normalise(&name)));
        }
        Ok(None) => file.warn("Python metadata has no `Name:` field; no python() provider added"),
        Err(error) => file.warn(format!("cannot read Python metadata: {error}")),
    }
    Decision::Next
}

fn is_metadata_file(path: &str) -> bool {
    let mut parts = path.rsplitn(3, '/');
    let (Some(name), Some(dir)) = (parts.next(), parts.next()) else {
        return false;
    };
    (name == "METADATA" && dir.ends_with(".dist-info"))
        || (name == "PKG-INFO" && dir.ends_with(".egg-info"))
}

fn read_name(path: &std::path::Path) -> std::io::Result<Option<String>> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut line = Vec::new();
    for _ in 0..MAX_HEADER_LINES {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            break;
        }
        if let Some((key, value)) = text.split_once(':') {
            if key.eq_ignore_ascii_case("name") && !value.trim().is_empty() {
                return Ok(Some(value.trim().to_string()));
            }
        }
    }
    Ok(None)
}

/// PEP 503: lowercase, and every run of `-`, `_` and `.` becomes one `-`.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalisation() {
        assert_eq!(normalise("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(normalise("zope.interface"), "zope-interface");
        assert_eq!(normalise("PyYAML"), "pyyaml");
    }

    #[test]
    fn metadata_paths() {
        assert!(is_metadata_file(
            "/usr/lib/python3.12/site-packages/foo-1.0.dist-info/METADATA"
        ));
        assert!(is_metadata_file(
            "/usr/lib/python3.12/site-packages/foo.egg-info/PKG-INFO"
        ));
        assert!(!is_metadata_file(
            "/usr/lib/python3.12/site-packages/foo/METADATA"
        ));
        assert!(!is_metadata_file("METADATA"));
    }
}
