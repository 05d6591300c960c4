//! The `moss` command line: parses arguments and renders results. Thin by design:
//! every subcommand lives in its own file and calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod sandbox;

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
