//! Layout paths come from archives, i.e. from strangers: this is the one
//! check that keeps them inside the `/usr` they are meant for.

use super::error::{Result, StoneError};

/// Accepts a `/usr`-relative layout path only if it is made of plain
/// components: not empty, not absolute, no NUL, no `.` or `..`, no empty
/// component (`a//b`, trailing `/`).
pub fn check_layout_path(path: &str) -> Result<()> {
    let refuse = |reason| {
        Err(StoneError::UnsafePath {
            path: path.to_string(),
            reason,
        })
    };
    if path.is_empty() {
        return refuse("the path is empty");
    }
    if path.starts_with('/') {
        return refuse("the path is absolute");
    }
    if path.contains('\0') {
        return refuse("the path contains a NUL byte");
    }
    for component in path.split('/') {
        match component {
            "" => return refuse("the path has an empty component"),
            "." => return refuse("the path has a `.` component"),
            ".." => return refuse("the path has a `..` component"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_layout_path;

    #[test]
    fn accepts_plain_paths() {
        for p in [
            "bin/nano",
            "share/defaults/italian-pizza",
            "a",
            "..a/b..",
            ".hidden",
        ] {
            assert!(check_layout_path(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn refuses_escapes() {
        for p in [
            "",
            "/etc/passwd",
            "a/../../b",
            "..",
            "a/./b",
            "a//b",
            "a/",
            "a\0b",
            "./a",
        ] {
            assert!(check_layout_path(p).is_err(), "{p:?}");
        }
    }
}
