//! The `/usr` tree of a state, computed in memory from the selected packages'
//! layouts and checked as a whole before anything is written.
//!
//! Parent directories nobody lists are implied (mode 0755). A symlink that
//! resolves to a directory inside `/usr` acts as that directory: entries
//! packages place beneath it move to the real directory. Every problem is
//! collected — unsafe paths, two packages placing different things at one
//! path, entries beneath a file or beneath a symlink that leads nowhere in
//! `/usr`, and declared `Conflicts` — and reported together.

mod build;
mod hash;
mod problem;

use crate::stone::{LayoutEntry, Meta};
use crate::store::Digest;

pub use problem::{Problem, TreeError};

/// The write bits, which no regular file of a tree keeps (0644 becomes 0444,
/// 0755 0555, 2775 2555): see [`NodeKind::File`].
pub const WRITE_BITS: u32 = 0o222;

/// One package's contribution to a tree: its layout (a stone's layout
/// entries, as read from the stone or from the database) and what the
/// conflict check needs of its metadata.
#[derive(Debug, Clone)]
pub struct PackageLayouts<'a> {
    /// How problems name it: `name-version-release.arch`.
    pub name: String,
    /// What it provides, as `kind(name)` text, `name(<name>)` included.
    pub providers: Vec<String>,
    /// The providers it declares a conflict with, as text.
    pub conflicts: Vec<String>,
    pub layouts: &'a [LayoutEntry],
}

impl<'a> PackageLayouts<'a> {
    /// A stone's package.
    pub fn from_stone(meta: &Meta, layouts: &'a [LayoutEntry]) -> Self {
        PackageLayouts {
            name: format!(
                "{}-{}-{}.{}",
                meta.name, meta.version, meta.source_release, meta.architecture
            ),
            providers: meta.all_providers().iter().map(|p| p.to_string()).collect(),
            conflicts: meta.conflicts.iter().map(|p| p.to_string()).collect(),
            layouts,
        }
    }
}

/// What a node of the tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Directory {
        mode: u32,
        children: Vec<u32>,
    },
    /// `mode` holds the permission bits only, without [`WRITE_BITS`].
    File {
        digest: Digest,
        mode: u32,
    },
    Symlink {
        target: Box<str>,
    },
    /// Devices, fifos and sockets: kept in the tree, not materialised.
    Special {
        mode: u32,
    },
}

/// A node: its path relative to `/usr` (empty for `/usr` itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub path: Box<str>,
    pub parent: u32,
    pub kind: NodeKind,
    /// Index of the package that placed it; `None` for implied directories.
    pub package: Option<u32>,
}

impl Node {
    /// The last path component.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }
}

/// A checked tree. Node 0 is `/usr`; parents come before their children and
/// every directory lists its children sorted by name.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// Builds and checks the tree of the given packages.
    pub fn build(packages: &[PackageLayouts<'_>]) -> Result<Self, TreeError> {
        build::build(packages)
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn root(&self) -> &Node {
        &self.nodes[0]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// The node at `path` (relative to `/usr`), walking down from the root
    /// through each directory's sorted children.
    pub fn find(&self, path: &str) -> Option<&Node> {
        let mut at = 0u32;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let NodeKind::Directory { children, .. } = &self.nodes[at as usize].kind else {
                return None;
            };
            let i = children
                .binary_search_by(|&c| self.nodes[c as usize].name().cmp(part))
                .ok()?;
            at = children[i];
        }
        self.nodes.get(at as usize)
    }
}

#[cfg(test)]
mod tests;
