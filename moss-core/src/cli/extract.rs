//! `moss extract FILE... [-o DIR]`: writes each package's `/usr` tree to
//! `DIR/<name-version-release.arch>/usr/`.

use std::path::PathBuf;

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
        let usr = args.output.join(&id).join("usr");
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
