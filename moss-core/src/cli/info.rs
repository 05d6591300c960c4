//! `moss info NAME…`: details of cached packages.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::db::LayoutKind;
use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Package names.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Also list the package's files.
    #[arg(short, long)]
    pub files: bool,
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let engine = Engine::open(root).into_diagnostic()?;
    let installed = engine.installed().into_diagnostic()?;
    for name in &args.names {
        let Some(meta) = engine.package_by_name(name).into_diagnostic()? else {
            return Err(miette::miette!("no package named {name} is known"));
        };
        let is_installed = installed.iter().any(|(m, _)| m.id == meta.id);
        println!("Name:         {}", meta.name);
        println!("Version:      {}", meta.version);
        println!("Release:      {}", meta.source_release);
        println!("Build:        {}", meta.build_release);
        println!("Architecture: {}", meta.architecture);
        println!("Summary:      {}", meta.summary);
        println!("Description:  {}", meta.description);
        println!("Homepage:     {}", meta.homepage);
        println!("Licenses:     {}", meta.licenses.join(", "));
        for (label, list) in [
            ("Depends:", &meta.dependencies),
            ("Provides:", &meta.providers),
            ("Conflicts:", &meta.conflicts),
        ] {
            if !list.is_empty() {
                println!("{label:<13} {}", list.join(", "));
            }
        }
        println!("Installed:    {}", if is_installed { "yes" } else { "no" });
        println!("Package id:   {}", meta.id);
        if args.files {
            for rec in engine.files(&meta.id).into_diagnostic()? {
                match &rec.kind {
                    LayoutKind::Symlink(target) => println!("  /usr/{} -> {target}", rec.path),
                    _ => println!("  /usr/{}", rec.path),
                }
            }
        }
        println!();
    }
    Ok(())
}
