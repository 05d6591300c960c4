//! `moss pack DIR -o FILE`: writes a Binary stone of the tree in DIR, which
//! stands for `/usr` (`DIR/bin/x` is installed as `/usr/bin/x`).

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use miette::{IntoDiagnostic, WrapErr};

use crate::stone::{Dependency, Meta, Provider, StoneWriter, WriteOptions, DEFAULT_LEVEL};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory that becomes `/usr`.
    pub dir: PathBuf,
    /// The stone to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "1")]
    pub version: String,
    #[arg(long, default_value_t = 1)]
    pub release: u64,
    #[arg(long, default_value_t = 1)]
    pub build_release: u64,
    #[arg(long, default_value = std::env::consts::ARCH)]
    pub architecture: String,
    #[arg(long, default_value = "")]
    pub summary: String,
    #[arg(long, default_value = "")]
    pub description: String,
    #[arg(long, default_value = "")]
    pub homepage: String,
    /// Defaults to the package name.
    #[arg(long)]
    pub source_id: Option<String>,
    /// An SPDX licence; repeat for several.
    #[arg(long = "license")]
    pub licenses: Vec<String>,
    /// `kind(name)`, e.g. `soname(libc.so.6(x86_64))`; a bare name means `name(x)`.
    #[arg(long = "depends")]
    pub depends: Vec<Dependency>,
    #[arg(long = "provides")]
    pub provides: Vec<Provider>,
    #[arg(long = "conflicts")]
    pub conflicts: Vec<Provider>,
    /// zstd level.
    #[arg(long, default_value_t = DEFAULT_LEVEL)]
    pub level: i32,
    /// zstd worker threads (default: one per CPU).
    #[arg(long)]
    pub threads: Option<u32>,
    /// zstd window log of the content (the original's writer uses 31 with
    /// level 18); zstd's default for the level when not given.
    #[arg(long, value_parser = clap::value_parser!(u32).range(10..=31))]
    pub window_log: Option<u32>,
}

/// Whether `dir`'s only entry is a `usr` directory (a whole root given
/// where its `/usr` was meant).
fn holds_only_usr(dir: &std::path::Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let names: Vec<_> = entries.flatten().map(|e| e.file_name()).take(2).collect();
    names.len() == 1 && names[0] == "usr" && dir.join("usr").is_dir()
}

pub fn run(args: &Args) -> miette::Result<()> {
    let meta = Meta {
        name: args.name.clone(),
        version: args.version.clone(),
        source_release: args.release,
        build_release: args.build_release,
        architecture: args.architecture.clone(),
        summary: args.summary.clone(),
        description: args.description.clone(),
        source_id: args.source_id.clone().unwrap_or_else(|| args.name.clone()),
        homepage: args.homepage.clone(),
        licenses: args.licenses.clone(),
        depends: args.depends.clone(),
        provides: args.provides.clone(),
        conflicts: args.conflicts.clone(),
        ..Meta::default()
    };
    if holds_only_usr(&args.dir) {
        eprintln!(
            "warning: {} holds nothing but a usr/ folder: DIR is what becomes /usr, so these \
             files would install under /usr/usr/; pack {} instead",
            args.dir.display(),
            args.dir.join("usr").display()
        );
    }
    let mut options = WriteOptions {
        level: args.level,
        ..WriteOptions::default()
    };
    if let Some(threads) = args.threads {
        options.threads = threads;
    }
    let file = File::create(&args.output)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot create {}", args.output.display()))?;
    let mut writer = StoneWriter::new(options);
    if let Some(log) = args.window_log {
        writer = writer.window_log(log);
    }
    // The content is compressed next to the output first (see `pack_tree`).
    let scratch_dir = match args.output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    writer
        .pack_tree(
            BufWriter::with_capacity(1 << 20, file),
            &meta,
            &args.dir,
            &scratch_dir,
        )
        .into_diagnostic()
        .wrap_err_with(|| {
            format!(
                "cannot pack {} into {}",
                args.dir.display(),
                args.output.display()
            )
        })?;
    Ok(())
}
