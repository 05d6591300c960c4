//! The build manifests: `manifest.<arch>.bin` (a BuildManifest stone that
//! `--verify` compares) and `manifest.<arch>.jsonc` (for humans and diffs).
//! `-dbginfo` packages are left out of both, as in the original.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use moss_core::stone::{Dependency, FileType, Meta, StoneReader, StoneWriter};
use regex::Regex;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{io_error, set_mtime, EmitError, EmitOptions, PackageInfo, SourceInfo};
use crate::package::analysis::AnalysedPackage;

/// The first line of the jsonc manifest.
pub const JSONC_HEADER: &str = "/** Human readable report. This is not consumed by boulder */";

fn is_dbginfo(package: &AnalysedPackage) -> bool {
    package.name.ends_with("-dbginfo")
}

/// The manifest's packages: every package but `-dbginfo`, by name.
fn manifest_packages<'a>(packages: &[&'a AnalysedPackage]) -> Vec<&'a AnalysedPackage> {
    let mut kept: Vec<&AnalysedPackage> = packages
        .iter()
        .copied()
        .filter(|p| !is_dbginfo(p))
        .collect();
    kept.sort_by(|a, b| a.name.cmp(&b.name));
    kept
}

/// The build dependencies as the manifests list them: root `builddeps` and
/// `checkdeps`, sorted, without duplicates.
fn build_deps(source: &SourceInfo) -> BTreeSet<String> {
    source.build_deps.iter().cloned().collect()
}

/// The encoded binary manifest.
pub fn encode_binary(
    source: &SourceInfo,
    packages: &[&AnalysedPackage],
    info: &BTreeMap<String, PackageInfo>,
    options: &EmitOptions,
) -> Result<Vec<u8>, EmitError> {
    let default_info = PackageInfo::default();
    let mut build_depends = Vec::new();
    for text in build_deps(source) {
        let dependency = Dependency::from_str(&text).map_err(|source| EmitError::Relation {
            package: "(build dependencies)".into(),
            text: text.clone(),
            source: Box::new(source),
        })?;
        build_depends.push(dependency);
    }
    let mut metas = Vec::new();
    for package in manifest_packages(packages) {
        let package_info = info.get(&package.name).unwrap_or(&default_info);
        let mut meta = super::stone::meta(source, package, package_info, options)?;
        meta.build_release = 0;
        meta.build_depends = build_depends.clone();
        metas.push(meta);
    }
    // At the original's level, so that the same packages give the same bytes.
    let write = moss_core::stone::WriteOptions {
        level: moss_core::stone::MANIFEST_LEVEL,
        ..options.write
    };
    StoneWriter::new(write)
        .write_metas(Vec::new(), FileType::BuildManifest, &metas)
        .map_err(|source| EmitError::Stone {
            package: "(manifest)".into(),
            source: Box::new(source),
        })
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JsonManifest {
    manifest_version: &'static str,
    packages: BTreeMap<String, JsonPackage>,
    source_name: String,
    source_release: String,
    source_version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JsonPackage {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    build_depends: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<String>,
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    provides: Vec<String>,
}

/// The dependencies the jsonc lists: analysis results in `kind(name)` form
/// plus the recipe's rundeps exactly as written (the stone has them parsed,
/// so a bare `foo` is `name(foo)` there and `foo` here), minus excludes.
fn json_depends(package: &AnalysedPackage, info: &PackageInfo) -> Vec<String> {
    // Analysis never produces `name(...)` dependencies: those all come from rundeps.
    let excludes: Vec<Regex> = info
        .rundeps_exclude
        .iter()
        .filter_map(|pattern| Regex::new(pattern).ok())
        .collect();
    let mut depends: Vec<String> = package
        .depends
        .iter()
        .filter(|dep| !dep.starts_with("name("))
        .cloned()
        .chain(
            info.rundeps
                .iter()
                .filter(|dep| !excludes.iter().any(|re| re.is_match(dep)))
                .cloned(),
        )
        .collect();
    depends.sort();
    depends.dedup();
    depends
}

/// The jsonc manifest text.
pub fn encode_json(
    source: &SourceInfo,
    packages: &[&AnalysedPackage],
    info: &BTreeMap<String, PackageInfo>,
) -> String {
    let default_info = PackageInfo::default();
    let build_depends: Vec<String> = build_deps(source).into_iter().collect();
    let packages = manifest_packages(packages)
        .into_iter()
        .map(|package| {
            let package_info = info.get(&package.name).unwrap_or(&default_info);
            let mut files: Vec<String> = package.files.iter().map(|f| f.path.clone()).collect();
            files.sort();
            let entry = JsonPackage {
                build_depends: build_depends.clone(),
                depends: json_depends(package, package_info),
                files,
                name: package.name.clone(),
                provides: package.provides.iter().cloned().collect(),
            };
            (package.name.clone(), entry)
        })
        .collect();
    let manifest = JsonManifest {
        manifest_version: "0.2",
        packages,
        source_name: source.name.clone(),
        source_release: source.release.to_string(),
        source_version: source.version.clone(),
    };
    let mut out = Vec::new();
    out.extend_from_slice(JSONC_HEADER.as_bytes());
    out.push(b'\n');
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    #[allow(
        clippy::expect_used,
        reason = "serializing plain strings and maps into memory cannot fail"
    )]
    let () = manifest
        .serialize(&mut serializer)
        .expect("the manifest serializes");
    out.push(b'\n');
    #[allow(
        clippy::expect_used,
        reason = "the header is a str and serde_json writes UTF-8"
    )]
    let text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text
}

/// The two manifest file names for `arch`.
pub fn file_names(arch: &str) -> (String, String) {
    (
        format!("manifest.{arch}.bin"),
        format!("manifest.{arch}.jsonc"),
    )
}

/// Writes both manifests into the output directory.
pub fn write(
    source: &SourceInfo,
    packages: &[&AnalysedPackage],
    info: &BTreeMap<String, PackageInfo>,
    options: &EmitOptions,
) -> Result<(PathBuf, PathBuf), EmitError> {
    let (bin_name, json_name) = file_names(&options.architecture);
    let bin = options.output_dir.join(bin_name);
    let json = options.output_dir.join(json_name);
    write_file(
        &bin,
        &encode_binary(source, packages, info, options)?,
        options,
    )?;
    write_file(
        &json,
        encode_json(source, packages, info).as_bytes(),
        options,
    )?;
    Ok((bin, json))
}

fn write_file(path: &Path, bytes: &[u8], options: &EmitOptions) -> Result<(), EmitError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let partial = path.with_file_name(format!(".{}.partial", name.unwrap_or_default()));
    let mut file = File::create(&partial).map_err(io_error(&partial))?;
    // No fsync: outputs are reproducible, and a sync per file costs more
    // than the rest of emission on a busy disk.
    file.write_all(bytes).map_err(io_error(&partial))?;
    drop(file);
    set_mtime(&partial, options.source_date_epoch)?;
    std::fs::rename(&partial, path).map_err(io_error(path))
}

/// How a fresh manifest compares with a given one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Byte-identical; the sha256 of both.
    HashMatch { sha256: String },
    /// Different bytes, same packages (every field compared).
    ContentMatch,
    /// The packages differ; the names of those that differ.
    Mismatch { differing: Vec<String> },
}

/// Compares the binary manifest `fresh` with the file at `given`.
pub fn verify(fresh: &[u8], given: &Path) -> Result<Verification, EmitError> {
    let given_bytes = std::fs::read(given).map_err(io_error(given))?;
    let fresh_hash = hex::encode(Sha256::digest(fresh));
    if fresh_hash == hex::encode(Sha256::digest(&given_bytes)) {
        return Ok(Verification::HashMatch { sha256: fresh_hash });
    }
    let read = |bytes: Vec<u8>, path: &Path| -> Result<BTreeMap<String, Meta>, EmitError> {
        let error = |source| EmitError::ReadManifest {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let reader = StoneReader::new(std::io::Cursor::new(bytes)).map_err(error)?;
        let mut metas = BTreeMap::new();
        for meta in reader.metas() {
            let meta = normalized(meta.map_err(error)?);
            metas.insert(meta.name.clone(), meta);
        }
        Ok(metas)
    };
    let fresh = read(fresh.to_vec(), Path::new("(the fresh manifest)"))?;
    let given = read(given_bytes, given)?;
    let names: BTreeSet<&String> = fresh.keys().chain(given.keys()).collect();
    let differing: Vec<String> = names
        .into_iter()
        .filter(|name| fresh.get(*name) != given.get(*name))
        .cloned()
        .collect();
    Ok(if differing.is_empty() {
        Verification::ContentMatch
    } else {
        Verification::Mismatch { differing }
    })
}

/// Record order does not matter when comparing: sort the repeated fields.
fn normalized(mut meta: Meta) -> Meta {
    meta.licenses.sort();
    meta.depends.sort();
    meta.depends.dedup();
    meta.provides.sort();
    meta.provides.dedup();
    meta.conflicts.sort();
    meta.conflicts.dedup();
    meta.build_depends.sort();
    meta.build_depends.dedup();
    meta
}
