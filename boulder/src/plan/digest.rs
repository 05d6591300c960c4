//! Input digests: a recipe is up to date when the digest of its inputs is
//! the one its stones were made from.
//!
//! The inputs are the recipe's directory (the recipe file, `pkg/` and any
//! local sources; upstreams are pinned by their hashes in the recipe
//! text), the run's settings that change the result (profile, build
//! release, macro data directories), and the output digest of each recipe
//! it depends on, so that a rebuilt library rebuilds its users, while a
//! rebuild that made identical stones does not.

use std::fs;
use std::path::Path;

/// blake3 (hex) of every file below `dir`, hidden entries excluded, by
/// relative path; symlinks count by their target text.
pub fn directory(dir: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"boulder recipe directory 1\n");
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = entry.map_err(std::io::Error::other)?;
        let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let kind = entry.file_type();
        if kind.is_file() {
            hasher.update(b"file\0");
            hasher.update(relative.as_os_str().as_encoded_bytes());
            hasher.update(b"\0");
            hasher.update(blake3::hash(&fs::read(entry.path())?).as_bytes());
        } else if kind.is_symlink() {
            hasher.update(b"link\0");
            hasher.update(relative.as_os_str().as_encoded_bytes());
            hasher.update(b"\0");
            hasher.update(fs::read_link(entry.path())?.as_os_str().as_encoded_bytes());
        }
        hasher.update(b"\n");
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// The input digest of a build: its directory digest, the run's settings
/// (`settings`, one text), and its dependencies' `(name, output digest)`.
pub fn inputs(directory: &str, settings: &str, dependencies: &[(String, String)]) -> String {
    let mut dependencies = dependencies.to_vec();
    dependencies.sort();
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"boulder build inputs 1\n");
    hasher.update(directory.as_bytes());
    hasher.update(b"\n");
    hasher.update(settings.as_bytes());
    hasher.update(b"\n");
    for (name, outputs) in &dependencies {
        hasher.update(format!("dep {name} {outputs}\n").as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_changes_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("pkg")).unwrap();
        fs::write(dir.path().join("pkg/a.c"), "int a;").unwrap();
        let before = directory(dir.path()).unwrap();
        assert_eq!(before, directory(dir.path()).unwrap());
        fs::write(dir.path().join("pkg/a.c"), "int b;").unwrap();
        assert_ne!(before, directory(dir.path()).unwrap());
    }

    #[test]
    fn dependency_outputs_count_in_any_order() {
        let a = inputs(
            "d",
            "s",
            &[("x".into(), "1".into()), ("y".into(), "2".into())],
        );
        let b = inputs(
            "d",
            "s",
            &[("y".into(), "2".into()), ("x".into(), "1".into())],
        );
        assert_eq!(a, b);
        assert_ne!(a, inputs("d", "s", &[("x".into(), "1".into())]));
    }
}
