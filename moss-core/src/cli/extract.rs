//! `moss extract FILE... [-o DIR]`: writes each package's `/usr` tree to
//! `DIR/<name-version-release.arch>/usr/`.

use std::path::{Path, PathBuf};

use miette::{IntoDiagnostic, WrapErr};

use crate::stone::{extract, StoneReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stones to extract.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to put the `<name-version-release.arch>` folders.
    #[arg(short = 'o', long = "output", default_value = ".")]
    pub output: PathBuf,
}

pub fn run(args: &Args) -> miette::Result<()> {
    for file in &args.files {
        let mut reader = StoneReader::open_path(file)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read {}", file.display()))?;
        let meta = reader
            .meta()
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read the metadata of {}", file.display()))?;
        // Name, version and architecture become a folder name: refuse what could
        // escape `-o` or reach through what an earlier stone extracted.
        crate::name::check_stone_identity(&meta.name, &meta.version, &meta.architecture)
            .into_diagnostic()
            .wrap_err_with(|| format!("{} cannot be extracted", file.display()))?;
        let id = meta.id();
        crate::stone::check_layout_path(&id)
            .into_diagnostic()
            .wrap_err("the package id cannot be used as a folder name")?;
        // The output folder is the caller's; below it, nothing that is a
        // symlink is followed: the package folder and its `usr` must be
        // directories this or an earlier extraction made.
        std::fs::create_dir_all(&args.output)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot create {}", args.output.display()))?;
        let package = args.output.join(&id);
        real_dir(&package)?;
        let usr = package.join("usr");
        real_dir(&usr)?;
        let stats = extract(&mut reader, &usr)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot extract {}", file.display()))?;
        println!(
            "{}: {} files, {} symlinks, {} directories, {} special files -> {}",
            id,
            stats.regular,
            stats.symlinks,
            stats.directories,
            stats.special,
            usr.display()
        );
    }
    Ok(())
}

/// Creates `dir`, or accepts it when it is already a directory; refuses a
/// symlink (or anything else) in its place.
fn real_dir(dir: &Path) -> miette::Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(e)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot create {}", dir.display()))
        }
    }
    let meta = std::fs::symlink_metadata(dir)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read {}", dir.display()))?;
    if meta.file_type().is_symlink() {
        return Err(miette::miette!(
            "{} is a symlink: moss extract never follows a symlink it did not create",
            dir.display()
        ));
    }
    if !meta.is_dir() {
        return Err(miette::miette!("{} is not a directory", dir.display()));
    }
    Ok(())
}
