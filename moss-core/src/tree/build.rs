//! Building and checking a [`Tree`] (see the module documentation).

use std::collections::HashMap;

use super::hash::{FastMap, FastSet};

use super::{Node, NodeKind, PackageLayouts, Problem, Tree, TreeError, WRITE_BITS};
use crate::stone::{LayoutEntry, LayoutKind};

/// Symlink chains longer than this are treated as leading nowhere.
const MAX_LINK_DEPTH: u32 = 40;

/// Whether a layout path is a plain relative path below `/usr`.
pub(crate) fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Joins a symlink's text to the directory holding it, lexically, staying
/// inside `/usr`. `None` when the target leaves `/usr`.
fn lexical_join(parent: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    let rest = if let Some(abs) = target.strip_prefix('/') {
        let inside = abs.strip_prefix("usr")?;
        if !(inside.is_empty() || inside.starts_with('/')) {
            return None;
        }
        inside
    } else {
        parts.extend(parent.split('/').filter(|c| !c.is_empty()));
        target
    };
    for c in rest.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// The index of the last `/` in `path`. A byte scan: paths are short, and
/// `rfind`'s searcher costs more than the scan on the tree's 50,000 paths.
fn last_slash(path: &str) -> Option<usize> {
    path.bytes().rposition(|b| b == b'/')
}

fn parent_of(path: &str) -> &str {
    last_slash(path).map_or("", |i| &path[..i])
}

/// Follows the symlinks packages declare, assuming each leads to a directory
/// (checked once the final tree is known).
struct Resolver<'a> {
    symlinks: FastMap<&'a str, &'a str>,
}

/// A symlink an entry's path went through, and where it led.
#[derive(Clone)]
struct UsedLink<'a> {
    link: &'a str,
    resolved: String,
}

impl<'a> Resolver<'a> {
    fn resolve(
        &self,
        path: &str,
        follow_last: bool,
        depth: u32,
        used: &mut Vec<UsedLink<'a>>,
    ) -> Result<String, &'a str> {
        let mut comps = path.split('/').filter(|c| !c.is_empty()).peekable();
        let mut out = String::with_capacity(path.len());
        while let Some(c) = comps.next() {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(c);
            if comps.peek().is_none() && !follow_last {
                break;
            }
            if let Some((&link, &target)) = self.symlinks.get_key_value(out.as_str()) {
                if depth >= MAX_LINK_DEPTH {
                    return Err(link);
                }
                let joined = lexical_join(parent_of(&out), target).ok_or(link)?;
                let resolved = self.resolve(&joined, true, depth + 1, used)?;
                used.push(UsedLink {
                    link,
                    resolved: resolved.clone(),
                });
                out = resolved;
            }
        }
        Ok(out)
    }
}

struct Entry<'a> {
    package: u32,
    record: &'a LayoutEntry,
    path: String,
    used: Vec<UsedLink<'a>>,
}

/// Why two records at one path cannot both be placed, or `None` when they agree.
fn disagreement(a: &LayoutEntry, b: &LayoutEntry) -> Option<String> {
    let (pa, pb) = (a.mode & 0o7777, b.mode & 0o7777);
    let modes = || (pa != pb).then(|| format!("modes {pa:o} and {pb:o}"));
    match (&a.kind, &b.kind) {
        (LayoutKind::Regular { digest: x }, LayoutKind::Regular { digest: y }) if x != y => {
            Some(format!("different contents {x:032x} and {y:032x}"))
        }
        (LayoutKind::Symlink { target: x }, LayoutKind::Symlink { target: y }) if x != y => {
            Some(format!("symlinks to {x:?} and {y:?}"))
        }
        (LayoutKind::Symlink { .. }, LayoutKind::Symlink { .. }) => None,
        (x, y) if std::mem::discriminant(x) == std::mem::discriminant(y) => modes(),
        (x, y) => Some(format!("{} and {}", kind_name(x), kind_name(y))),
    }
}

fn kind_name(kind: &LayoutKind) -> &'static str {
    match kind {
        LayoutKind::Regular { .. } => "a regular file",
        LayoutKind::Symlink { .. } => "a symlink",
        LayoutKind::Directory => "a directory",
        _ => "a special file",
    }
}

pub(super) fn build(packages: &[PackageLayouts<'_>]) -> Result<Tree, TreeError> {
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let mut problems = Vec::new();

    // Unsafe paths are reported and left out of everything else.
    let mut records: Vec<(u32, &LayoutEntry)> = Vec::new();
    for (index, package) in packages.iter().enumerate() {
        for record in package.layouts {
            let bad_target = match &record.kind {
                LayoutKind::Symlink { target } => target.is_empty() || target.contains('\0'),
                _ => false,
            };
            if is_safe_path(&record.path) && !bad_target {
                records.push((index as u32, record));
            } else {
                problems.push(Problem::UnsafePath {
                    package: names[index].to_string(),
                    path: record.path.clone(),
                });
            }
        }
    }

    let mut symlinks = FastMap::default();
    let mut link_owner = FastMap::default();
    for &(package, record) in &records {
        if let LayoutKind::Symlink { target } = &record.kind {
            symlinks
                .entry(record.path.as_str())
                .or_insert(target.as_str());
            link_owner.entry(record.path.as_str()).or_insert(package);
        }
    }
    let resolver = Resolver { symlinks };

    // Where each entry really lands: its directory resolved (once per
    // directory, following symlinks), then its own name, never followed.
    type Resolved<'l> = Result<(String, Vec<UsedLink<'l>>), &'l str>;
    let mut dirs: FastMap<&str, Resolved<'_>> = FastMap::default();
    let mut entries = Vec::with_capacity(records.len());
    for &(package, record) in &records {
        let (dir, name) = match last_slash(&record.path) {
            Some(i) => (&record.path[..i], &record.path[i + 1..]),
            None => ("", record.path.as_str()),
        };
        let resolved = dirs.entry(dir).or_insert_with(|| {
            let mut used = Vec::new();
            resolver.resolve(dir, true, 0, &mut used).map(|d| (d, used))
        });
        match resolved {
            Ok((dir, used)) => entries.push(Entry {
                package,
                record,
                path: if dir.is_empty() {
                    name.to_string()
                } else {
                    let mut path = String::with_capacity(dir.len() + 1 + name.len());
                    path.push_str(dir);
                    path.push('/');
                    path.push_str(name);
                    path
                },
                used: used.clone(),
            }),
            Err(link) => problems.push(Problem::BeneathSymlink {
                path: record.path.clone(),
                package: names[package as usize].to_string(),
                link: link.to_string(),
                link_package: names[link_owner[*link] as usize].to_string(),
            }),
        }
    }

    // One record per final path; different records at one path clash.
    let mut at_path: FastMap<&str, usize> =
        FastMap::with_capacity_and_hasher(entries.len(), Default::default());
    for (index, entry) in entries.iter().enumerate() {
        match at_path.get(entry.path.as_str()) {
            None => {
                at_path.insert(entry.path.as_str(), index);
            }
            Some(&first) => {
                let first = &entries[first];
                if let Some(detail) = disagreement(first.record, entry.record) {
                    problems.push(Problem::Clash {
                        path: entry.path.clone(),
                        first: names[first.package as usize].to_string(),
                        second: names[entry.package as usize].to_string(),
                        detail,
                    });
                }
            }
        }
    }

    // Parents must be directories; the ones nobody lists are implied. Each
    // directory is checked once, however many entries it holds.
    let mut implied: FastSet<&str> = FastSet::default();
    implied.insert("");
    let mut memo: FastMap<&str, Option<usize>> = FastMap::default();
    for entry in &entries {
        let parent = parent_of(&entry.path);
        if let Some(i) = blocked(parent, &entries, &at_path, &mut implied, &mut memo) {
            problems.push(Problem::BeneathFile {
                path: entry.record.path.clone(),
                package: names[entry.package as usize].to_string(),
                file: entries[i].path.clone(),
                file_package: names[entries[i].package as usize].to_string(),
            });
        }
    }

    // A symlink an entry went through must lead to a directory.
    let is_dir = |path: &str| {
        implied.contains(path)
            || at_path
                .get(path)
                .is_some_and(|&i| matches!(entries[i].record.kind, LayoutKind::Directory))
    };
    for entry in &entries {
        if let Some(bad) = entry.used.iter().find(|u| !is_dir(&u.resolved)) {
            problems.push(Problem::BeneathSymlink {
                path: entry.record.path.clone(),
                package: names[entry.package as usize].to_string(),
                link: bad.link.to_string(),
                link_package: names[link_owner[bad.link] as usize].to_string(),
            });
        }
    }

    // Declared conflicts against every provider of every other package.
    let mut providers: HashMap<&str, u32> = HashMap::new();
    for (index, package) in packages.iter().enumerate() {
        for provider in &package.providers {
            providers.entry(provider.as_str()).or_insert(index as u32);
        }
    }
    for (index, package) in packages.iter().enumerate() {
        for conflict in &package.conflicts {
            if let Some(&other) = providers.get(conflict.as_str()) {
                if other as usize != index {
                    problems.push(Problem::Declared {
                        package: names[index].to_string(),
                        other: names[other as usize].to_string(),
                        provider: conflict.clone(),
                    });
                }
            }
        }
    }

    if !problems.is_empty() {
        return Err(TreeError { problems });
    }
    Ok(assemble(&entries, &at_path, &implied))
}

/// The shallowest of `dir` and its ancestors that an entry makes something
/// other than a directory (an index into `entries`); directories nobody
/// lists are added to `implied` on the way. Remembered per directory.
fn blocked<'e>(
    dir: &'e str,
    entries: &'e [Entry<'_>],
    at_path: &FastMap<&'e str, usize>,
    implied: &mut FastSet<&'e str>,
    memo: &mut FastMap<&'e str, Option<usize>>,
) -> Option<usize> {
    if dir.is_empty() {
        return None;
    }
    if let Some(&known) = memo.get(dir) {
        return known;
    }
    let above = blocked(parent_of(dir), entries, at_path, implied, memo);
    let result = above.or_else(|| match at_path.get(dir) {
        Some(&i) if !matches!(entries[i].record.kind, LayoutKind::Directory) => Some(i),
        Some(_) => None,
        None => {
            implied.insert(dir);
            None
        }
    });
    memo.insert(dir, result);
    result
}

/// Lays the checked entries out as nodes, parents before children.
fn assemble(
    entries: &[Entry<'_>],
    at_path: &FastMap<&str, usize>,
    implied: &FastSet<&str>,
) -> Tree {
    // Counting bytes, not `matches('/')`: its searcher costs more than the
    // rest of the sort key on a tree of 50,000 paths.
    let depth = |p: &str| {
        if p.is_empty() {
            0
        } else {
            p.bytes().filter(|&b| b == b'/').count() + 1
        }
    };
    // Parents before children, and each directory's children sorted by name.
    let mut order: Vec<(usize, &str, Option<usize>)> = implied
        .iter()
        .filter(|p| !at_path.contains_key(**p))
        .map(|p| (depth(p), *p, None))
        .chain(at_path.iter().map(|(p, i)| (depth(p), *p, Some(*i))))
        .collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));

    let mut index_of: FastMap<&str, u32> =
        FastMap::with_capacity_and_hasher(order.len(), Default::default());
    let mut nodes: Vec<Node> = Vec::with_capacity(order.len());
    for (_, path, entry) in order {
        let kind = match entry.map(|i| &entries[i]) {
            None => NodeKind::Directory {
                mode: 0o755,
                children: Vec::new(),
            },
            Some(e) => {
                let mode = e.record.mode & 0o7777;
                match &e.record.kind {
                    LayoutKind::Directory => NodeKind::Directory {
                        mode,
                        children: Vec::new(),
                    },
                    // Blitted files never carry a write bit (the original
                    // moss's rule): the tree's files share inodes with the
                    // store, and a writable one would be an edit of every
                    // state holding that content.
                    LayoutKind::Regular { digest } => NodeKind::File {
                        digest: *digest,
                        mode: mode & !WRITE_BITS,
                    },
                    LayoutKind::Symlink { target } => NodeKind::Symlink {
                        target: target.as_str().into(),
                    },
                    _ => NodeKind::Special {
                        mode: e.record.mode,
                    },
                }
            }
        };
        let me = nodes.len() as u32;
        let parent = if path.is_empty() {
            0
        } else {
            index_of[parent_of(path)]
        };
        if me != 0 {
            if let NodeKind::Directory { children, .. } = &mut nodes[parent as usize].kind {
                children.push(me);
            }
        }
        index_of.insert(path, me);
        nodes.push(Node {
            path: path.into(),
            parent,
            kind,
            package: entry.map(|i| entries[i].package),
        });
    }
    Tree { nodes }
}

#[cfg(test)]
pub(super) fn join_for_tests(parent: &str, target: &str) -> Option<String> {
    lexical_join(parent, target)
}
