//! Generated files kept in the repository: the book's reference pages, the
//! fuzz seeds. A test compares each committed file with what the code
//! generates now and fails when they differ; with `BLESS=1` in the
//! environment the same test writes the file instead, so one command
//! regenerates everything:
//!
//! ```sh
//! BLESS=1 cargo test --workspace
//! ```

use std::fs;
use std::path::Path;

/// The environment variable that turns the checks into writes.
pub const BLESS: &str = "BLESS";

/// Whether `BLESS` asks the tests to write their generated files (set to
/// anything but empty, `0` or `false`).
pub fn blessing() -> bool {
    std::env::var_os(BLESS).is_some_and(|value| !matches!(value.to_str(), Some("" | "0" | "false")))
}

/// Checks that the committed file `path` holds `generated`: with `BLESS=1`
/// writes it (when it differs) and passes; otherwise panics naming the
/// first differing line and the command that regenerates the file.
#[track_caller]
pub fn check_generated(path: &Path, generated: impl AsRef<[u8]>) {
    let generated = generated.as_ref();
    let committed = fs::read(path).ok();
    if committed.as_deref() == Some(generated) {
        return;
    }
    if blessing() {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        fs::write(path, generated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("blessed {}", path.display());
        return;
    }
    let at = match &committed {
        None => "it does not exist".to_string(),
        Some(committed) => format!(
            "first difference at line {}",
            first_difference(committed, generated)
        ),
    };
    panic!(
        "{} is stale ({at}); regenerate it with `{}`",
        path.display(),
        rerun_command()
    );
}

/// The 1-based line at which `a` and `b` first differ.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    a[..same].iter().filter(|&&c| c == b'\n').count() + 1
}

/// `BLESS=1 cargo test -p PACKAGE --test TARGET` for the running test
/// binary (cargo sets `CARGO_PKG_NAME` when it runs tests; the target is the
/// binary's name without cargo's hash suffix).
fn rerun_command() -> String {
    let package = std::env::var("CARGO_PKG_NAME").ok();
    let target = std::env::current_exe().ok().and_then(|exe| {
        let stem = exe.file_stem()?.to_str()?.to_string();
        Some(match stem.rsplit_once('-') {
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
            _ => stem,
        })
    });
    match (package, target) {
        (Some(package), Some(target)) => {
            format!("{BLESS}=1 cargo test -p {package} --test {target}")
        }
        _ => format!("{BLESS}=1 cargo test"),
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn first_difference_counts_lines() {
        assert_eq!(first_difference(b"a\nb\nc\n", b"a\nb\nx\n"), 3);
        assert_eq!(first_difference(b"a", b"b"), 1);
        assert_eq!(first_difference(b"a\n", b"a\nmore\n"), 2);
    }
}
