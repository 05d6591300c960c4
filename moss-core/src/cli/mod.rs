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

#[derive(Debug, Parser)]
#[command(name = "moss", version, about = "The moss package engine")]
pub struct Cli {
    /// Root of the installation to operate on.
    #[arg(short = 'D', long = "directory", global = true, default_value = "/")]
    pub root: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

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
}

/// Entry point of the `moss` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: miette::Result<ExitCode> = match cli.command {
        Command::Version => {
            println!("moss {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
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
