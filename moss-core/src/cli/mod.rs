//! The `moss` command line: parses arguments and renders results. Thin by design:
//! every subcommand lives in its own file and calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod extract;
mod index;
mod info;
mod inspect;
mod install;
mod list;
mod pack;
mod progress;
pub mod reference;
mod remove;
mod repo;
pub mod sandbox;
mod search;
mod state;
mod sync;
mod verify;
mod when;

#[derive(Debug, Parser)]
#[command(name = "moss", version = VERSION, about = "The moss package engine")]
pub struct Cli {
    /// Root of the installation to operate on.
    #[arg(short = 'D', long = "directory", global = true, default_value = "/")]
    pub root: PathBuf,

    /// Assume yes for every question. Accepted for scripts written for
    /// upstream moss, which asks before it changes a root; this moss never asks.
    #[arg(short = 'y', long = "yes-all", visible_alias = "yes", global = true)]
    pub yes_all: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The version and the commit moss was built from (`0.1.0 (abc123def)`).
pub const VERSION: &str = env!("MOSS_VERSION_TEXT");

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the version of moss.
    Version,
    /// Install packages by name or provider from the repositories, or local .stone files.
    Install(install::Args),
    /// Remove installed packages.
    Remove(remove::Args),
    /// List packages.
    #[command(subcommand)]
    List(list::Args),
    /// Show package details.
    Info(info::Args),
    /// Move the installed packages to the best candidates of the repositories.
    Sync(sync::Args),
    /// Search the installed packages and the repositories.
    Search(search::Args),
    /// Manage the repositories of the root.
    #[command(subcommand)]
    Repo(repo::Args),
    /// Check the store and the live tree.
    Verify(verify::Args),
    /// Inspect and manage states.
    #[command(subcommand)]
    State(state::Args),
    /// Show the metadata and layout of stone archives.
    Inspect(inspect::Args),
    /// Write the `/usr` tree of stone archives into a folder.
    Extract(extract::Args),
    /// Write `stone.index` for a folder of stones.
    Index(index::Args),
    /// Write a stone archive from a directory tree.
    Pack(Box<pack::Args>),
    /// Run a command in the rootless sandbox: `moss sandbox ROOT [OPTIONS] -- CMD...`.
    Sandbox(sandbox::SandboxArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cli_docs::CompletionsArgs),
    /// Write the man pages (moss.1 and one per subcommand) into a directory.
    Man(cli_docs::ManArgs),
}

/// Commands that set a root up (`install`, `repo add`, `sync`) create a
/// `-D` root that does not exist yet, as `boulder build --install` does;
/// the others report it missing.
fn create_missing_root(cli: &Cli) -> miette::Result<()> {
    let sets_up = matches!(
        cli.command,
        Command::Install(_) | Command::Sync(_) | Command::Repo(repo::Args::Add { .. })
    );
    if sets_up && !cli.root.exists() {
        std::fs::create_dir_all(&cli.root).map_err(|error| {
            miette::miette!("cannot create the root {}: {error}", cli.root.display())
        })?;
    }
    Ok(())
}

/// Entry point of the `moss` binary.
pub fn main() -> ExitCode {
    // A closed output stream (`moss list installed | head`) ends moss by
    // SIGPIPE, the conventional way, instead of a panic (Rust ignores it).
    // SAFETY: installing the default action runs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    if let Err(report) = create_missing_root(&cli) {
        eprintln!("{report:?}");
        return ExitCode::FAILURE;
    }
    let result: miette::Result<ExitCode> = match cli.command {
        Command::Version => {
            println!("moss {VERSION}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions(args) => {
            cli_docs::print::<Cli>(args, "moss").map(|()| ExitCode::SUCCESS)
        }
        Command::Man(args) => cli_docs::man::<Cli>(args, "moss").map(|()| ExitCode::SUCCESS),
        Command::Install(args) => install::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::Remove(args) => remove::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::List(args) => list::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::Info(args) => info::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::Sync(args) => sync::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::Search(args) => search::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::Repo(args) => repo::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::Verify(args) => verify::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::State(args) => state::run(&cli.root, args).map(|()| ExitCode::SUCCESS),
        Command::Inspect(args) => inspect::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Extract(args) => extract::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Index(args) => index::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Pack(args) => pack::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Sandbox(args) => sandbox::run(args),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
