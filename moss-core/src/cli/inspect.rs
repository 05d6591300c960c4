//! `moss inspect FILE...`: prints what a stone holds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use miette::{IntoDiagnostic, WrapErr};

use crate::stone::{Meta, Payload, StoneReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stones to inspect.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print only the layout, one `/usr/<path>\t<kind>[\t<digest|link>]` line per entry.
    #[arg(long)]
    pub layout_tsv: bool,
}

pub fn run(args: &Args) -> miette::Result<()> {
    for (i, file) in args.files.iter().enumerate() {
        let text = render(file, args.layout_tsv)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot inspect {}", file.display()))?;
        if i > 0 && !args.layout_tsv {
            println!();
        }
        print!("{text}");
    }
    Ok(())
}

fn render(file: &Path, layout_only: bool) -> Result<String, crate::stone::StoneError> {
    let reader = StoneReader::open_path(file)?;
    let mut out = String::new();
    if !layout_only {
        let header = reader.header();
        let _ = writeln!(out, "File: {}", file.display());
        let _ = writeln!(
            out,
            "Type: {} stone, {} payloads",
            header.file_type, header.num_payloads
        );
        for payload in reader.payloads() {
            if let Payload::Meta(records) = payload {
                render_meta(&mut out, &Meta::from_records(records)?);
            }
            if let Payload::Skipped(ph) = payload {
                let _ = writeln!(
                    out,
                    "Skipped payload: {} ({} bytes)",
                    ph.kind, ph.stored_size
                );
            }
        }
        let _ = writeln!(out, "Layout: {} entries", reader.layout().len());
    }
    for entry in reader.layout() {
        let _ = writeln!(out, "{}", entry.tsv_line());
    }
    Ok(out)
}

fn render_meta(out: &mut String, meta: &Meta) {
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(out, "{name:<14}: {value}");
    };
    field("Name", &meta.name);
    field("Version", &meta.version);
    field("Release", &meta.source_release.to_string());
    field("Build release", &meta.build_release.to_string());
    field("Architecture", &meta.architecture);
    field("Summary", &meta.summary);
    field("Description", &meta.description);
    field("Homepage", &meta.homepage);
    field("Source ID", &meta.source_id);
    field("Licenses", &meta.licenses.join(", "));
    if let Some(uri) = &meta.package_uri {
        field("Package URI", uri);
    }
    if let Some(hash) = &meta.package_hash {
        field("Package hash", hash);
    }
    if let Some(size) = meta.package_size {
        field("Package size", &size.to_string());
    }
    let lists = [
        (
            "Dependencies",
            meta.depends
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        ),
        (
            "Providers",
            meta.provides.iter().map(ToString::to_string).collect(),
        ),
        (
            "Conflicts",
            meta.conflicts.iter().map(ToString::to_string).collect(),
        ),
        (
            "Build dependencies",
            meta.build_depends.iter().map(ToString::to_string).collect(),
        ),
    ];
    for (title, items) in lists {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for item in items {
            let _ = writeln!(out, "    {item}");
        }
    }
}
