//! boulder: a rootless package build tool for `stone.yaml` recipes.
//!
//! Nothing in this library prints except the `cli` module and the
//! breakpoint console (`build::breakpoint`, which talks to the terminal);
//! errors are typed and rendered by the binary as miette diagnostics.

pub mod build;
pub mod cli;
pub(crate) mod cpus;
pub(crate) mod draft;
pub mod macros;
pub(crate) mod maintain;
pub mod package;
pub(crate) mod plan;
pub mod recipe;
pub mod root;
pub(crate) mod suggest;
pub mod upstream;
