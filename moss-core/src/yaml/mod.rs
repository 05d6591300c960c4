//! The workspace's one YAML reader: recipes, macro files, profiles, triggers and
//! repository configuration all go through it, so the same text means the same thing in
//! every file kind.
//!
//! [`parse`] builds a [`Node`] tree that remembers the byte span of every node (recipes
//! walk it directly to report every problem at its place); [`from_str`] reads any serde
//! type from that tree. Serde on top of the tree, rather than a hand-written walk per file
//! kind, keeps the typed files' schemas as the plain structs they are (with serde's
//! `default`, `flatten`, `untagged` and `deny_unknown_fields`), while every error still
//! names its line, column and key path.

mod de;
pub mod scalar;
mod tree;

use std::fmt;

use serde::de::DeserializeOwned;

pub use scalar::Resolved;
pub use tree::{parse, Node, NodeKind, OffsetMap, PlainType, Scalar, Style, SyntaxError};

/// Why a YAML file could not be read into a type: a syntax error or a value of the wrong
/// shape, with its place. (Boxed: errors that embed it stay small.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<ErrorDetail>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorDetail {
    message: String,
    /// Byte offset of the node the error is about, once known.
    offset: Option<usize>,
    /// The key path to that node (`handlers.depmod.args[1]`), empty at the top.
    path: String,
    /// For a repeated key: the offset of its first occurrence.
    first: Option<usize>,
    /// 1-based line and column of `offset` (and of `first`), once the text is known.
    location: Option<(Location, Option<Location>)>,
}

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Error {
    /// What is wrong, without the place.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Where the error is, when known.
    pub fn location(&self) -> Option<Location> {
        self.0.location.map(|(at, _)| at)
    }

    /// The key path of the offending node (`paths[0].handlers`); empty at the top.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    fn placed(mut self, offset: usize, path: &de::Path<'_>) -> Self {
        if self.0.offset.is_none() {
            self.0.offset = Some(offset);
            self.0.path = path.to_string();
        }
        self
    }

    fn with_first(mut self, first: usize) -> Self {
        self.0.first = Some(first);
        self
    }

    fn locate(mut self, text: &str) -> Self {
        if let Some(offset) = self.0.offset {
            let first = self.0.first.map(|first| location(text, first));
            self.0.location = Some((location(text, offset), first));
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((at, _)) = self.0.location {
            write!(f, "line {}, column {}: ", at.line, at.column)?;
        }
        if !self.0.path.is_empty() {
            write!(f, "{}: ", self.0.path)?;
        }
        f.write_str(&self.0.message)?;
        if let Some((_, Some(first))) = self.0.location {
            write!(
                f,
                " (first at line {}, column {})",
                first.line, first.column
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<SyntaxError> for Error {
    fn from(error: SyntaxError) -> Self {
        let placed: Error = serde::de::Error::custom(error.message);
        placed.placed(error.offset, &de::Path::Root)
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(Box::new(ErrorDetail {
            message: message.to_string(),
            offset: None,
            path: String::new(),
            first: None,
            location: None,
        }))
    }
}

/// Reads one YAML document into `T`. An empty text is a null value.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    let root = parse(text).map_err(|error| Error::from(error).locate(text))?;
    from_node(text, &root)
}

/// Reads `T` from a tree already parsed from `text` (which is needed for line numbers).
pub fn from_node<T: DeserializeOwned>(text: &str, root: &Node) -> Result<T, Error> {
    T::deserialize(de::NodeDeserializer {
        node: root,
        path: de::Path::Root,
        is_key: false,
    })
    .map_err(|error| error.locate(text))
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
pub fn location(text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// `text` as a double-quoted YAML scalar, for writers: it reads back as exactly `text`.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
