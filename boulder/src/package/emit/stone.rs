//! One analysed package as a `.stone`: Meta, Layout (analysis order), Index
//! and Content (unique files, largest first).

use std::fs::File;
use std::io::BufWriter;
use std::str::FromStr;

use moss_core::stone::{
    Content, ContentSource, Dependency, LayoutEntry, LayoutKind, Meta, Provider, StoneWriter,
};

use super::{io_error, set_mtime, EmitError, EmitOptions, EmittedStone, PackageInfo, SourceInfo};
use crate::package::analysis::AnalysedPackage;
use crate::package::entry::CollectedEntry;

/// The package's metadata as its stone carries it.
pub fn meta(
    source: &SourceInfo,
    package: &AnalysedPackage,
    info: &PackageInfo,
    options: &EmitOptions,
) -> Result<Meta, EmitError> {
    let mut licenses = source.licenses.clone();
    licenses.sort();
    Ok(Meta {
        name: package.name.clone(),
        version: source.version.clone(),
        source_release: source.release,
        build_release: options.build_release,
        architecture: options.architecture.clone(),
        summary: info.summary.clone(),
        description: info.description.clone(),
        source_id: source.name.clone(),
        homepage: source.homepage.clone(),
        licenses,
        depends: relations::<Dependency>(&package.name, &package.depends)?,
        provides: relations::<Provider>(&package.name, &package.provides)?,
        conflicts: relations::<Provider>(&package.name, &package.conflicts)?,
        package_uri: None,
        package_hash: None,
        package_size: None,
        build_depends: Vec::new(),
    })
}

fn relations<T: FromStr<Err = moss_core::stone::StoneError>>(
    package: &str,
    texts: &std::collections::BTreeSet<String>,
) -> Result<Vec<T>, EmitError> {
    texts
        .iter()
        .map(|text| {
            T::from_str(text).map_err(|source| EmitError::Relation {
                package: package.to_string(),
                text: text.clone(),
                source: Box::new(source),
            })
        })
        .collect()
}

/// The layout record of one shipped entry.
pub fn layout_entry(package: &str, entry: &CollectedEntry) -> Result<LayoutEntry, EmitError> {
    let path = entry
        .usr_relative()
        .ok_or_else(|| EmitError::OutsideUsr {
            package: package.to_string(),
            path: entry.path.clone(),
        })?
        .to_string();
    Ok(LayoutEntry {
        uid: entry.uid,
        gid: entry.gid,
        mode: entry.mode,
        tag: 0,
        kind: entry.kind.clone(),
        path,
    })
}

/// Writes `package` into the output directory; the file appears complete or
/// not at all.
pub fn write(
    source: &SourceInfo,
    package: &AnalysedPackage,
    info: &PackageInfo,
    options: &EmitOptions,
) -> Result<EmittedStone, EmitError> {
    let meta = meta(source, package, info, options)?;
    let layout = package
        .files
        .iter()
        .map(|entry| layout_entry(&package.name, entry))
        .collect::<Result<Vec<_>, _>>()?;
    let contents = package
        .files
        .iter()
        .filter_map(|entry| match entry.kind {
            LayoutKind::Regular { digest } => Some(Content {
                digest,
                size: entry.size,
                source: ContentSource::Path(
                    options
                        .install_root
                        .join(entry.path.trim_start_matches('/')),
                ),
            }),
            _ => None,
        })
        .collect();
    // The file name is made of these: nothing that could leave the output directory.
    moss_core::name::check_stone_identity(&meta.name, &meta.version, &meta.architecture)?;
    let path = options.output_dir.join(meta.file_name());
    let partial = options
        .output_dir
        .join(format!(".{}.partial", meta.file_name()));
    let file = File::create(&partial).map_err(io_error(&partial))?;
    let stone_error = |source| EmitError::Stone {
        package: package.name.clone(),
        source: Box::new(source),
    };
    let writer = StoneWriter::new(options.write)
        .write_binary(BufWriter::new(file), &meta, &layout, contents)
        .map_err(stone_error)?;
    writer
        .into_inner()
        .map_err(|e| io_error(&partial)(e.into_error()))?;
    set_mtime(&partial, options.source_date_epoch)?;
    std::fs::rename(&partial, &path).map_err(io_error(&path))?;
    let size = std::fs::metadata(&path).map_err(io_error(&path))?.len();
    Ok(EmittedStone {
        package: package.name.clone(),
        path,
        size,
        files: package.files.len(),
    })
}
