//! Shell completions and man pages, generated from the command-line
//! definition itself so they cannot fall behind it: the `completions` and
//! `man` commands of both `moss` and `boulder`.
//!
//! A crate of its own (not a module of moss-core) so that boulder, which
//! uses moss-core without its `cli` feature, shares it without the library
//! taking on clap; moss-core's `cli` feature pulls it in for `moss`.

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use miette::IntoDiagnostic;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory that receives the pages (created if missing), e.g.
    /// `~/.local/share/man/man1`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Prints the completion script of `C` for `args.shell` to stdout.
pub fn print<C: CommandFactory>(args: CompletionsArgs, name: &str) -> miette::Result<()> {
    let mut command = C::command();
    clap_complete::generate(args.shell, &mut command, name, &mut std::io::stdout());
    Ok(())
}

/// Writes `NAME.1` and `NAME-SUB[-SUB…].1` for every visible subcommand.
pub fn man<C: CommandFactory>(args: ManArgs, name: &str) -> miette::Result<()> {
    std::fs::create_dir_all(&args.dir).into_diagnostic()?;
    let mut command = C::command().name(name.to_string());
    command.build();
    let written = write_pages(&command, name, &args.dir)?;
    println!("wrote {written} man page(s) into {}", args.dir.display());
    Ok(())
}

fn write_pages(command: &clap::Command, page: &str, dir: &Path) -> miette::Result<usize> {
    let command = command.clone().name(page.to_string());
    let mut bytes = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut bytes)
        .into_diagnostic()?;
    let path = dir.join(format!("{page}.1"));
    std::fs::write(&path, bytes)
        .into_diagnostic()
        .map_err(|e| e.wrap_err(format!("cannot write {}", path.display())))?;
    let mut written = 1;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        written += write_pages(sub, &format!("{page}-{}", sub.get_name()), dir)?;
    }
    Ok(written)
}
