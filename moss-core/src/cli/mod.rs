//! The `moss` command line: parses arguments and renders results. Thin by design:
//! every subcommand lives in its own file and calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod reference;

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
}

/// Entry point of the `moss` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: miette::Result<()> = match cli.command {
        Command::Version => {
            println!("moss {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
