//! The characters a package name or version may hold.
//!
//! Names and versions end up in file and folder names (`<name>-<version>-….stone`,
//! `moss extract`'s `<name>-<version>-<release>.<arch>` folders), so each must be one
//! harmless path component: not empty, no `/`, no NUL, no control character, no
//! whitespace, and no leading `.` (which also rules out `.` and `..`). The stone format
//! itself allows any string; this is the rule boulder applies to recipes and moss to
//! what it reads, at every place a name is about to become part of a path.

/// What is being checked, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Package,
    Version,
    /// A stone's architecture (`x86_64`), also part of `moss extract`'s folder names.
    Architecture,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::Package => "package name",
            NameKind::Version => "version",
            NameKind::Architecture => "architecture",
        }
    }
}

/// Why a name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} `{}` {problem}", kind.noun(), shown(name))]
pub struct NameError {
    pub kind: NameKind,
    pub name: String,
    /// Byte offset of the offending character in `name` (0 for an empty name).
    pub offset: usize,
    pub problem: NameProblem,
}

/// The rule a name breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    #[error("is empty")]
    Empty,
    #[error("starts with `.`")]
    LeadingDot,
    #[error("contains `/`")]
    Slash,
    #[error("contains a NUL byte")]
    Nul,
    #[error("contains the control character U+{0:04X}")]
    Control(u32),
    #[error("contains whitespace (U+{0:04X})")]
    Whitespace(u32),
}

/// The name with control characters escaped, so a message shows what is there.
fn shown(name: &str) -> String {
    name.escape_debug().collect()
}

/// Checks a package name (a recipe's `name`, a subpackage, a stone's or index's name).
pub fn check_package_name(name: &str) -> Result<(), NameError> {
    check(NameKind::Package, name)
}

/// Checks a version.
pub fn check_version(version: &str) -> Result<(), NameError> {
    check(NameKind::Version, version)
}

/// Checks a stone's name, version and architecture, the parts of its folder and
/// file names.
pub fn check_stone_identity(
    name: &str,
    version: &str,
    architecture: &str,
) -> Result<(), NameError> {
    check(NameKind::Package, name)?;
    check(NameKind::Version, version)?;
    check(NameKind::Architecture, architecture)
}

/// Checks `name` as one path component of kind `kind`.
pub fn check(kind: NameKind, name: &str) -> Result<(), NameError> {
    let error = |offset, problem| NameError {
        kind,
        name: name.to_string(),
        offset,
        problem,
    };
    if name.is_empty() {
        return Err(error(0, NameProblem::Empty));
    }
    if name.starts_with('.') {
        return Err(error(0, NameProblem::LeadingDot));
    }
    for (offset, c) in name.char_indices() {
        let problem = match c {
            '/' => NameProblem::Slash,
            '\0' => NameProblem::Nul,
            c if c.is_control() => NameProblem::Control(c as u32),
            c if c.is_whitespace() => NameProblem::Whitespace(c as u32),
            _ => continue,
        };
        return Err(error(offset, problem));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_names_pass() {
        for name in [
            "glibc",
            "libstdc++-devel",
            "qt6-base",
            "python-pyzfs",
            "a_b.c",
            "x@1",
        ] {
            assert_eq!(check_package_name(name), Ok(()), "{name}");
        }
        for version in ["1.2.3", "2024.05.01", "1.0~rc1", "6.9+git20240101"] {
            assert_eq!(check_version(version), Ok(()), "{version}");
        }
    }

    #[test]
    fn path_characters_fail_at_their_offset() {
        let cases = [
            ("", 0, NameProblem::Empty),
            (".hidden", 0, NameProblem::LeadingDot),
            ("..", 0, NameProblem::LeadingDot),
            ("../etc", 0, NameProblem::LeadingDot),
            ("a/b", 1, NameProblem::Slash),
            ("ab\0", 2, NameProblem::Nul),
            ("a\nb", 1, NameProblem::Control(0x0a)),
            ("a\u{7f}", 1, NameProblem::Control(0x7f)),
            ("a b", 1, NameProblem::Whitespace(0x20)),
            ("é\u{a0}", 2, NameProblem::Whitespace(0xa0)),
        ];
        for (name, offset, problem) in cases {
            let error = check_package_name(name).expect_err(name);
            assert_eq!(
                (error.offset, &error.problem),
                (offset, &problem),
                "{name:?}"
            );
        }
    }

    #[test]
    fn messages_show_escaped_names() {
        let error = check_version("1\n2").expect_err("newline");
        assert_eq!(
            error.to_string(),
            "version `1\\n2` contains the control character U+000A"
        );
    }
}
