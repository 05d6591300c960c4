//! What can be wrong with a tree.

use std::fmt;

/// One reason a set of packages cannot form a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A path that is empty, absolute, or has `.`/`..`/empty components.
    UnsafePath { package: String, path: String },
    /// Two packages place different things at one path.
    Clash {
        path: String,
        first: String,
        second: String,
        detail: String,
    },
    /// An entry lies beneath a symlink that does not lead to a directory in `/usr`.
    BeneathSymlink {
        path: String,
        package: String,
        link: String,
        link_package: String,
    },
    /// An entry lies beneath something that is not a directory.
    BeneathFile {
        path: String,
        package: String,
        file: String,
        file_package: String,
    },
    /// A package declares a conflict with a provider of another selected package.
    Declared {
        package: String,
        other: String,
        provider: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnsafePath { package, path } => {
                write!(f, "{package}: unsafe path {path:?} (must be relative, without . or ..)")
            }
            Problem::Clash {
                path,
                first,
                second,
                detail,
            } => write!(f, "/usr/{path}: {first} and {second} disagree ({detail})"),
            Problem::BeneathSymlink {
                path,
                package,
                link,
                link_package,
            } => write!(
                f,
                "/usr/{path} of {package} lies beneath /usr/{link}, a symlink of {link_package} \
                 that does not lead to a directory inside /usr"
            ),
            Problem::BeneathFile {
                path,
                package,
                file,
                file_package,
            } => write!(
                f,
                "/usr/{path} of {package} lies beneath /usr/{file} of {file_package}, which is not a directory"
            ),
            Problem::Declared {
                package,
                other,
                provider,
            } => write!(f, "{package} conflicts with {provider}, provided by {other}"),
        }
    }
}

/// Every problem found while building a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TreeError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} conflict(s) in the new tree:", self.problems.len())?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}
