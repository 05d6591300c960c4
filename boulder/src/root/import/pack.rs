//! Packing one imported package as a stone, with providers from boulder's
//! own analysis (`binary()`, `sysbinary()`, `soname()`, `pkgconfig()`, …).

use std::collections::BTreeSet;
use std::fs;
use std::io::BufWriter;
use std::path::Path;
use std::str::FromStr;

use moss_core::stone::{
    Content, Dependency, DependencyKind, LayoutEntry, LayoutKind, Meta, Provider, StoneWriter,
    WriteOptions,
};

use super::super::RootError;
use super::arch::HOST;
use super::dpkg::DpkgPackage;
use super::files::{FileEntry, FileKind};
use crate::package::analysis::installed_file_providers;

/// zstd level of imported stones: they never leave this machine, so speed wins.
const LEVEL: i32 = 1;

/// Files up to this size are read once into memory, hashed and compressed
/// from there; larger ones are hashed and then read again while compressing.
const IN_MEMORY_FILE: u64 = 4 << 20;
/// At most this much of one package is held in memory (packages are packed
/// several at a time).
const IN_MEMORY_PACKAGE: u64 = 64 << 20;

/// Providers of the package's files plus its virtual packages, plus the
/// requests it was imported on demand for (`cmake(X)`, `python(x)`), which
/// the file analysis does not derive. `digests` are the contents' digests
/// by path, already computed while packing.
fn providers(
    pkg: &DpkgPackage,
    files: &[FileEntry],
    digests: &std::collections::HashMap<&str, u128>,
    extra: &[String],
) -> Vec<Provider> {
    let mut texts = BTreeSet::new();
    // A stone cannot provide another name (`name(...)` providers are not
    // written); requests by name are renamed instead, see `ondemand`.
    for request in extra {
        let request = request.trim();
        if request.contains('(') && !request.starts_with("name(") {
            texts.insert(request.to_string());
        }
    }
    for file in files {
        let digest = digests.get(file.path.as_str()).copied();
        let Ok(found) =
            installed_file_providers(&file.host, &format!("/usr/{}", file.path), digest)
        else {
            continue;
        };
        for relation in found {
            let text = relation.to_string();
            // Debian keeps libraries in a multiarch directory; recipes name
            // them by soname alone, so both forms are provided.
            let short = relation
                .name
                .strip_prefix(HOST.multiarch)
                .and_then(|rest| rest.strip_prefix('/'));
            if let Some(short) = short {
                texts.insert(format!("{}({short})", relation.kind.as_str()));
            }
            texts.insert(text);
        }
    }
    for virt in &pkg.provides {
        if virt != &pkg.name {
            texts.insert(format!("name({virt})"));
        }
    }
    texts
        .iter()
        .filter_map(|t| Provider::from_str(t).ok())
        .collect()
}

/// Writes `pkg` with `files` to `out` and returns its metadata (without the
/// index fields).
pub fn pack(
    pkg: &DpkgPackage,
    files: &[FileEntry],
    depends: &[String],
    extra: &[String],
    out: &Path,
) -> Result<(Meta, Vec<String>), RootError> {
    let mut skipped = Vec::new();
    let mut layout = Vec::with_capacity(files.len());
    let mut contents = Vec::new();
    let mut digests = std::collections::HashMap::new();
    let mut in_memory = 0u64;
    for file in files {
        let (mode, kind) = match &file.kind {
            FileKind::Regular { mode, size, .. } => {
                // Each file is read once where it is small: hashed here,
                // compressed from memory, its digest reused by the analysis.
                let small = *size <= IN_MEMORY_FILE && in_memory + size <= IN_MEMORY_PACKAGE;
                let content = if small {
                    fs::read(&file.host).map(Content::from_bytes).ok()
                } else {
                    Content::from_path(file.host.clone()).ok()
                };
                // A file this user cannot read (an unprivileged import) is left out.
                let Some(content) = content else {
                    skipped.push(file.path.clone());
                    continue;
                };
                if small {
                    in_memory += content.size;
                }
                let digest = content.digest;
                digests.insert(file.path.as_str(), digest);
                contents.push(content);
                (0o100000 | mode, LayoutKind::Regular { digest })
            }
            FileKind::Symlink { target } => (
                0o120777,
                LayoutKind::Symlink {
                    target: target.clone(),
                },
            ),
        };
        layout.push(LayoutEntry {
            uid: 0,
            gid: 0,
            mode,
            tag: 0,
            kind,
            path: file.path.clone(),
        });
    }
    let meta = Meta {
        name: pkg.name.clone(),
        version: pkg.version.clone(),
        source_release: 1,
        build_release: 1,
        architecture: HOST.name.into(),
        summary: format!("{} from the host's dpkg database", pkg.name),
        description: format!(
            "The files of the host's Debian package {} {}, imported by boulder.",
            pkg.name, pkg.version
        ),
        source_id: pkg.name.clone(),
        depends: depends
            .iter()
            .map(|d| Dependency::new(DependencyKind::PackageName, d.clone()))
            .collect(),
        provides: providers(pkg, files, &digests, extra),
        ..Meta::default()
    };
    let tmp = out.with_extension(format!("tmp.{}", std::process::id()));
    let file = fs::File::create(&tmp).map_err(RootError::io("creating", &tmp))?;
    let writer = StoneWriter::new(WriteOptions {
        level: LEVEL,
        ..WriteOptions::default()
    });
    let result = writer
        .write_binary(BufWriter::new(file), &meta, &layout, contents)
        .map_err(|source| RootError::Stone {
            path: out.to_path_buf(),
            source,
        });
    match result {
        Ok(w) => drop(w),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    }
    fs::rename(&tmp, out).map_err(RootError::io("renaming into place", out))?;
    Ok((meta, skipped))
}
