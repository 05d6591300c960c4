//! The `boulder` command line: parses arguments and renders results. Every
//! subcommand lives in its own file and calls into the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) mod build;
pub(crate) mod build_many;
pub(crate) mod cache;
mod chroot;
mod downloads;
mod macros;
pub(crate) mod output;
pub(crate) mod profile;
pub(crate) mod recipe;
mod recipe_maintain;
mod recipe_new;

#[derive(Debug, Parser)]
#[command(
    name = "boulder",
    version = VERSION,
    about = "Build stone packages from stone.yaml recipes, rootless"
)]
pub struct Cli {
    /// Print only warnings, errors and the summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print everything, the traced prologue of every phase included.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The version and the commit boulder was built from (`0.1.0 (abc123def)`).
pub const VERSION: &str = env!("BOULDER_VERSION_TEXT");

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the version of boulder.
    Version,
    /// List the macros (actions, definitions, tuning groups) or show one in full.
    Macros(macros::MacrosArgs),
    /// Generate documentation from boulder's own data (the book's reference chapters).
    Doc(macros::DocArgs),
    /// Build a recipe into stones and manifests.
    Build(build::BuildArgs),
    /// Check recipes, show their expanded scripts, draft, update or bump them.
    #[command(subcommand)]
    Recipe(recipe::RecipeCommand),
    /// Enter a recipe's build root (a shell, or `-- COMMAND...`).
    Chroot(chroot::ChrootArgs),
    /// Profiles: the repositories and base package set build roots are made from.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// The build cache: roots, store, build directories.
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cli_docs::CompletionsArgs),
    /// Write the man pages (boulder.1 and one per subcommand) into a directory.
    Man(cli_docs::ManArgs),
}

/// Entry point of the `boulder` binary.
pub fn main() -> ExitCode {
    output::die_on_closed_output();
    let cli = Cli::parse();
    output::set_verbosity(match (cli.quiet, cli.verbose) {
        (true, _) => output::Verbosity::Quiet,
        (_, true) => output::Verbosity::Verbose,
        _ => output::Verbosity::Normal,
    });
    downloads::DownloadDisplay::install();
    // Errors keep long lines whole: a sha256 or a URL wrapped over two lines
    // cannot be copied.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    let result: miette::Result<ExitCode> = match cli.command {
        Command::Version => {
            println!("boulder {VERSION}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions(args) => {
            cli_docs::print::<Cli>(args, "boulder").map(|()| ExitCode::SUCCESS)
        }
        Command::Man(args) => cli_docs::man::<Cli>(args, "boulder").map(|()| ExitCode::SUCCESS),
        Command::Macros(args) => macros::run(args).map(|()| ExitCode::SUCCESS),
        Command::Doc(args) => macros::run_doc(args).map(|()| ExitCode::SUCCESS),
        Command::Build(args) => build::run(args),
        Command::Recipe(command) => recipe::run(command),
        Command::Chroot(args) => chroot::run(args),
        Command::Profile(command) => profile::run(command),
        Command::Cache(command) => cache::run(command),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
