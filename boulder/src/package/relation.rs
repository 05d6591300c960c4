//! Dependencies, providers and conflicts in their `kind(name)` text form.
//!
//! moss knows nine kinds; a bare name means `name(...)`. The text form is what
//! recipes, the database and the CLI use, so it is what analysis produces.

use std::fmt;

use thiserror::Error;

/// The kind of a dependency or provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Name,
    Soname,
    Pkgconfig,
    Interpreter,
    Cmake,
    Python,
    Binary,
    Sysbinary,
    Pkgconfig32,
}

impl Kind {
    /// Every kind, in the order of their numbers in the stone format.
    pub const ALL: [Kind; 9] = [
        Kind::Name,
        Kind::Soname,
        Kind::Pkgconfig,
        Kind::Interpreter,
        Kind::Cmake,
        Kind::Python,
        Kind::Binary,
        Kind::Sysbinary,
        Kind::Pkgconfig32,
    ];

    /// The lowercase name used in the text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Name => "name",
            Kind::Soname => "soname",
            Kind::Pkgconfig => "pkgconfig",
            Kind::Interpreter => "interpreter",
            Kind::Cmake => "cmake",
            Kind::Python => "python",
            Kind::Binary => "binary",
            Kind::Sysbinary => "sysbinary",
            Kind::Pkgconfig32 => "pkgconfig32",
        }
    }
}

/// One dependency, provider or conflict: a kind and a name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Relation {
    pub kind: Kind,
    pub name: String,
}

/// Why a `kind(name)` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RelationError {
    #[error("`{text}` is empty")]
    Empty { text: String },
    #[error("`{text}` has an unknown kind `{kind}`; known kinds: name, soname, pkgconfig, interpreter, cmake, python, binary, sysbinary, pkgconfig32")]
    UnknownKind { text: String, kind: String },
    #[error("`{text}` opens `(` but does not end with `)`")]
    Unclosed { text: String },
}

impl Relation {
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
        }
    }

    /// Parses `kind(name)` or a bare `name`. The name runs from the first `(`
    /// to the final `)`, so `soname(libc.so.6(x86_64))` keeps its inner
    /// parentheses.
    pub fn parse(text: &str) -> Result<Self, RelationError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(RelationError::Empty {
                text: text.to_string(),
            });
        }
        let Some(open) = trimmed.find('(') else {
            return Ok(Self::new(Kind::Name, trimmed));
        };
        let Some(inner) = trimmed[open + 1..].strip_suffix(')') else {
            return Err(RelationError::Unclosed {
                text: text.to_string(),
            });
        };
        let kind_text = &trimmed[..open];
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind_text)
            .ok_or_else(|| RelationError::UnknownKind {
                text: text.to_string(),
                kind: kind_text.to_string(),
            })?;
        if inner.is_empty() {
            return Err(RelationError::Empty {
                text: text.to_string(),
            });
        }
        Ok(Self::new(kind, inner))
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.kind.as_str(), self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for text in [
            "soname(libc.so.6(x86_64))",
            "pkgconfig(glib-2.0)",
            "name(foo)",
            "pkgconfig32(zlib)",
        ] {
            let relation = Relation::parse(text).expect("valid");
            assert_eq!(relation.to_string(), text);
        }
        assert_eq!(
            Relation::parse("soname(libc.so.6(x86_64))")
                .expect("valid")
                .name,
            "libc.so.6(x86_64)"
        );
    }

    #[test]
    fn bare_names_are_name_kind() {
        assert_eq!(
            Relation::parse(" greet-devel ").expect("valid"),
            Relation::new(Kind::Name, "greet-devel")
        );
    }

    #[test]
    fn malformed_text_is_an_error() {
        assert!(matches!(
            Relation::parse("sonam(libc.so.6)"),
            Err(RelationError::UnknownKind { .. })
        ));
        assert!(matches!(
            Relation::parse("soname(libc.so.6"),
            Err(RelationError::Unclosed { .. })
        ));
        assert!(matches!(
            Relation::parse("  "),
            Err(RelationError::Empty { .. })
        ));
        assert!(matches!(
            Relation::parse("binary()"),
            Err(RelationError::Empty { .. })
        ));
    }
}
