//! Dependencies and providers: a kind plus a name, written `kind(name)` in
//! text and as a kind byte plus a string in Meta records.

use std::fmt;
use std::str::FromStr;

use super::error::StoneError;

/// What namespace a dependency or provider name lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DependencyKind {
    /// A package name: `name(foo)`.
    PackageName,
    /// A shared library soname: `soname(libc.so.6(x86_64))`.
    SharedLibrary,
    PkgConfig,
    Interpreter,
    CMake,
    Python,
    Binary,
    SystemBinary,
    PkgConfig32,
    /// A kind byte this version does not know; kept so it can be written back.
    Unknown(u8),
}

const KINDS: [(DependencyKind, u8, &str); 9] = [
    (DependencyKind::PackageName, 0, "name"),
    (DependencyKind::SharedLibrary, 1, "soname"),
    (DependencyKind::PkgConfig, 2, "pkgconfig"),
    (DependencyKind::Interpreter, 3, "interpreter"),
    (DependencyKind::CMake, 4, "cmake"),
    (DependencyKind::Python, 5, "python"),
    (DependencyKind::Binary, 6, "binary"),
    (DependencyKind::SystemBinary, 7, "sysbinary"),
    (DependencyKind::PkgConfig32, 8, "pkgconfig32"),
];

impl DependencyKind {
    pub fn from_byte(b: u8) -> Self {
        KINDS
            .iter()
            .find(|(_, byte, _)| *byte == b)
            .map_or(DependencyKind::Unknown(b), |(k, _, _)| *k)
    }

    pub fn to_byte(self) -> u8 {
        match self {
            DependencyKind::Unknown(b) => b,
            known => KINDS
                .iter()
                .find(|(k, _, _)| *k == known)
                .map_or(255, |(_, b, _)| *b),
        }
    }

    /// The lowercase name used in `kind(name)` text.
    pub fn as_str(self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _, _)| *k == self)
            .map_or("unknown", |(_, _, s)| s)
    }

    /// Parses the lowercase kind name.
    pub fn from_name(s: &str) -> Option<Self> {
        KINDS.iter().find(|(_, _, n)| *n == s).map(|(k, _, _)| *k)
    }
}

impl fmt::Display for DependencyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Splits `kind(name)`; a text without parentheses is a package name.
fn parse_kind_name(text: &str) -> Result<(DependencyKind, String), StoneError> {
    let err = |reason: &str| StoneError::InvalidDependency {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    if text.is_empty() {
        return Err(err("it is empty"));
    }
    match text.find('(') {
        None => Ok((DependencyKind::PackageName, text.to_string())),
        Some(open) => {
            let kind_text = &text[..open];
            let kind = DependencyKind::from_name(kind_text)
                .ok_or_else(|| err("unknown kind; expected one of name, soname, pkgconfig, interpreter, cmake, python, binary, sysbinary, pkgconfig32"))?;
            let name = text[open + 1..]
                .strip_suffix(')')
                .ok_or_else(|| err("missing closing parenthesis"))?;
            if name.is_empty() {
                return Err(err("the name inside the parentheses is empty"));
            }
            Ok((kind, name.to_string()))
        }
    }
}

macro_rules! kind_name_type {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty {
            pub kind: DependencyKind,
            pub name: String,
        }

        impl $ty {
            pub fn new(kind: DependencyKind, name: impl Into<String>) -> Self {
                $ty { kind, name: name.into() }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", self.kind, self.name)
            }
        }

        /// Parses `kind(name)`; a bare `name` means `name(name)`.
        impl FromStr for $ty {
            type Err = StoneError;
            fn from_str(s: &str) -> Result<Self, StoneError> {
                let (kind, name) = parse_kind_name(s)?;
                Ok($ty { kind, name })
            }
        }

        /// Ordered by the `kind(name)` text, as the original tools order them.
        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.to_string().cmp(&other.to_string())
            }
        }

        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
    };
}

kind_name_type!(
    /// Something a package needs: `kind(name)`.
    Dependency
);
kind_name_type!(
    /// Something a package offers (or, in Conflicts, refuses): `kind(name)`.
    Provider
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_parentheses() {
        let d: Dependency = "soname(libc.so.6(x86_64))".parse().unwrap();
        assert_eq!(d.kind, DependencyKind::SharedLibrary);
        assert_eq!(d.name, "libc.so.6(x86_64)");
        assert_eq!(d.to_string(), "soname(libc.so.6(x86_64))");
    }

    #[test]
    fn bare_name_is_package_name() {
        let p: Provider = "nano".parse().unwrap();
        assert_eq!(p, Provider::new(DependencyKind::PackageName, "nano"));
    }

    #[test]
    fn rejects_bad_text() {
        assert!("bogus(x)".parse::<Dependency>().is_err());
        assert!("cmake(x".parse::<Dependency>().is_err());
        assert!("cmake()".parse::<Dependency>().is_err());
        assert!("".parse::<Dependency>().is_err());
    }

    #[test]
    fn kind_bytes_round_trip() {
        for b in 0..=255u8 {
            assert_eq!(DependencyKind::from_byte(b).to_byte(), b);
        }
    }
}
