//! `--verify`: what a rebuild made, compared with what an earlier build
//! left, as far as the earlier build's files allow.
//!
//! * the binary manifest (`manifest.<arch>.bin`, always given): every
//!   package's metadata, relations and build dependencies;
//! * the jsonc manifest beside it, when present: each package's file list
//!   (the binary manifest carries none);
//! * the stones beside it, when present under the same file names: each
//!   file's kind, content digest, link target, mode and owner.
//!
//! Every difference is listed, one line each, package first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::{Path, PathBuf};

use moss_core::stone::{LayoutEntry, LayoutKind, Meta, StoneReader};
use sha2::{Digest, Sha256};

use super::{io_error, EmitError};

/// How far a rebuild matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The sha256 of both binary manifests when they are byte-identical.
    pub identical_manifest: Option<String>,
    /// Whether the file lists of the jsonc manifest were compared.
    pub file_lists: bool,
    /// How many stones were compared file by file.
    pub stones: usize,
}

impl Verified {
    /// `metadata (manifest sha256 …), file lists, the files of 2 stone(s)`.
    pub fn summary(&self) -> String {
        let mut parts = vec![match &self.identical_manifest {
            Some(sha256) => format!("metadata (identical manifest, sha256 {sha256})"),
            None => "metadata".to_string(),
        }];
        if self.file_lists {
            parts.push("file lists".to_string());
        }
        if self.stones > 0 {
            parts.push(format!(
                "contents, modes and owners of the files of {} stone(s)",
                self.stones
            ));
        }
        parts.join(", ")
    }
}

/// The outcome: a match, or the list of differences.
pub type Verdict = Result<Verified, Vec<String>>;

/// The rebuild's files, in boulder's private output directory.
pub struct Fresh<'a> {
    pub manifest_bin: &'a Path,
    pub manifest_json: &'a Path,
    pub stones: &'a [PathBuf],
}

/// Compares `fresh` with the binary manifest at `given` and whatever lies
/// beside it.
pub fn verify(fresh: &Fresh<'_>, given: &Path) -> Result<Verdict, EmitError> {
    let given_bin = std::fs::read(given).map_err(io_error(given))?;
    let fresh_bin = std::fs::read(fresh.manifest_bin).map_err(io_error(fresh.manifest_bin))?;
    let mut differences = Vec::new();
    let mut verified = Verified {
        identical_manifest: None,
        file_lists: false,
        stones: 0,
    };
    let sha = |bytes: &[u8]| hex::encode(Sha256::digest(bytes));
    if sha(&fresh_bin) == sha(&given_bin) {
        verified.identical_manifest = Some(sha(&fresh_bin));
    } else {
        let ours = metas(fresh_bin, fresh.manifest_bin)?;
        let theirs = metas(given_bin, given)?;
        compare_metas(&ours, &theirs, &mut differences);
    }

    let dir = given.parent().unwrap_or(Path::new("."));
    let given_json = fresh
        .manifest_json
        .file_name()
        .map(|name| dir.join(name))
        .filter(|path| path.is_file());
    if let Some(given_json) = given_json {
        let ours = file_lists(fresh.manifest_json)?;
        let theirs = file_lists(&given_json)?;
        compare_file_lists(&ours, &theirs, &mut differences);
        verified.file_lists = true;
    }

    for stone in fresh.stones {
        let Some(name) = stone.file_name() else {
            continue;
        };
        let earlier = dir.join(name);
        if !earlier.is_file() {
            continue;
        }
        let ours = layout(stone)?;
        let theirs = layout(&earlier)?;
        let package = package_name(stone)?;
        compare_layouts(&package, &ours, &theirs, &mut differences);
        verified.stones += 1;
    }
    Ok(if differences.is_empty() {
        Ok(verified)
    } else {
        Err(differences)
    })
}

fn read_error(path: &Path) -> impl FnOnce(moss_core::stone::StoneError) -> EmitError + '_ {
    move |source| EmitError::ReadManifest {
        path: path.to_path_buf(),
        source: Box::new(source),
    }
}

fn metas(bytes: Vec<u8>, path: &Path) -> Result<BTreeMap<String, Meta>, EmitError> {
    let reader = StoneReader::new(std::io::Cursor::new(bytes)).map_err(read_error(path))?;
    let mut out = BTreeMap::new();
    for meta in reader.metas() {
        let meta = meta.map_err(read_error(path))?;
        out.insert(meta.name.clone(), meta);
    }
    Ok(out)
}

fn package_name(stone: &Path) -> Result<String, EmitError> {
    let reader = StoneReader::open_path(stone).map_err(read_error(stone))?;
    Ok(reader.meta().map_err(read_error(stone))?.name)
}

fn layout(stone: &Path) -> Result<BTreeMap<String, LayoutEntry>, EmitError> {
    let reader = StoneReader::open_path(stone).map_err(read_error(stone))?;
    Ok(reader
        .layout()
        .iter()
        .map(|entry| (entry.usr_path(), entry.clone()))
        .collect())
}

/// Package → files of a jsonc manifest (the leading comment skipped).
fn file_lists(path: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, EmitError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    let json = text
        .split_once("*/")
        .map_or(text.as_str(), |(_, rest)| rest);
    let value: serde_json::Value = serde_json::from_str(json).map_err(|error| EmitError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, error),
    })?;
    let mut out = BTreeMap::new();
    if let Some(packages) = value.get("packages").and_then(|p| p.as_object()) {
        for (name, package) in packages {
            let files = package
                .get("files")
                .and_then(|f| f.as_array())
                .map(|files| {
                    files
                        .iter()
                        .filter_map(|f| f.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            out.insert(name.clone(), files);
        }
    }
    Ok(out)
}

fn compare_metas(
    ours: &BTreeMap<String, Meta>,
    theirs: &BTreeMap<String, Meta>,
    out: &mut Vec<String>,
) {
    let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for name in names {
        let (a, b) = match (ours.get(name), theirs.get(name)) {
            (Some(a), Some(b)) => (a, b),
            (Some(_), None) => {
                out.push(format!(
                    "{name}: a new package (the earlier build had none)"
                ));
                continue;
            }
            (None, _) => {
                out.push(format!("{name}: the rebuild has no such package"));
                continue;
            }
        };
        let mut field = |what: &str, ours: String, theirs: String| {
            if ours != theirs {
                out.push(format!("{name}: {what} was `{theirs}`, now `{ours}`"));
            }
        };
        field("version", a.version.clone(), b.version.clone());
        field(
            "release",
            a.source_release.to_string(),
            b.source_release.to_string(),
        );
        field(
            "architecture",
            a.architecture.clone(),
            b.architecture.clone(),
        );
        field("summary", a.summary.clone(), b.summary.clone());
        field("description", a.description.clone(), b.description.clone());
        field("source", a.source_id.clone(), b.source_id.clone());
        field("homepage", a.homepage.clone(), b.homepage.clone());
        sets(name, "licenses", &a.licenses, &b.licenses, out);
        sets(name, "depends", &a.depends, &b.depends, out);
        sets(name, "provides", &a.provides, &b.provides, out);
        sets(name, "conflicts", &a.conflicts, &b.conflicts, out);
        sets(
            name,
            "build dependencies",
            &a.build_depends,
            &b.build_depends,
            out,
        );
    }
}

/// Reports what `ours` adds to and drops from `theirs`, order ignored.
fn sets<T: Display>(package: &str, what: &str, ours: &[T], theirs: &[T], out: &mut Vec<String>) {
    let ours: BTreeSet<String> = ours.iter().map(ToString::to_string).collect();
    let theirs: BTreeSet<String> = theirs.iter().map(ToString::to_string).collect();
    for added in ours.difference(&theirs) {
        out.push(format!("{package}: {what} gained {added}"));
    }
    for removed in theirs.difference(&ours) {
        out.push(format!("{package}: {what} lost {removed}"));
    }
}

fn compare_file_lists(
    ours: &BTreeMap<String, BTreeSet<String>>,
    theirs: &BTreeMap<String, BTreeSet<String>>,
    out: &mut Vec<String>,
) {
    let empty = BTreeSet::new();
    let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for name in names {
        let a = ours.get(name).unwrap_or(&empty);
        let b = theirs.get(name).unwrap_or(&empty);
        for gained in a.difference(b) {
            out.push(format!("{name}: gained {gained}"));
        }
        for lost in b.difference(a) {
            out.push(format!("{name}: lost {lost}"));
        }
    }
}

fn compare_layouts(
    package: &str,
    ours: &BTreeMap<String, LayoutEntry>,
    theirs: &BTreeMap<String, LayoutEntry>,
    out: &mut Vec<String>,
) {
    let paths: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for path in paths {
        match (ours.get(path), theirs.get(path)) {
            (Some(_), None) => out.push(format!("{package}: gained {path} (in the stone)")),
            (None, Some(_)) => out.push(format!("{package}: lost {path} (in the stone)")),
            (Some(a), Some(b)) => {
                let mut changes = Vec::new();
                if kind_name(&a.kind) != kind_name(&b.kind) {
                    changes.push(format!(
                        "was a {}, now a {}",
                        kind_name(&b.kind),
                        kind_name(&a.kind)
                    ));
                } else {
                    match (&a.kind, &b.kind) {
                        (LayoutKind::Regular { digest: x }, LayoutKind::Regular { digest: y })
                            if x != y =>
                        {
                            changes.push("content changed".to_string());
                        }
                        (LayoutKind::Symlink { target: x }, LayoutKind::Symlink { target: y })
                            if x != y =>
                        {
                            changes.push(format!("link target was `{y}`, now `{x}`"));
                        }
                        _ => {}
                    }
                }
                if a.mode != b.mode {
                    changes.push(format!("mode was {:o}, now {:o}", b.mode, a.mode));
                }
                if (a.uid, a.gid) != (b.uid, b.gid) {
                    changes.push(format!(
                        "owner was {}:{}, now {}:{}",
                        b.uid, b.gid, a.uid, a.gid
                    ));
                }
                if !changes.is_empty() {
                    out.push(format!("{package}: {path}: {}", changes.join(", ")));
                }
            }
            (None, None) => {}
        }
    }
}

fn kind_name(kind: &LayoutKind) -> &'static str {
    match kind {
        LayoutKind::Regular { .. } => "regular file",
        LayoutKind::Symlink { .. } => "symlink",
        LayoutKind::Directory => "directory",
        LayoutKind::CharDevice => "character device",
        LayoutKind::BlockDevice => "block device",
        LayoutKind::Fifo => "fifo",
        LayoutKind::Socket => "socket",
        LayoutKind::Unknown { .. } => "file of unknown type",
    }
}
