//! moss-core: the moss package engine.
//!
//! Each module has one job; see `book/src/architecture.md` for the data flow.
//! Nothing in this library prints: errors are typed (`thiserror`) and the
//! binaries render them.

pub mod blit;
#[cfg(feature = "cli")]
pub mod cli;
pub mod client;
pub mod db;
pub mod fault;
pub mod fetch;
pub mod installation;
pub mod name;
pub mod repo;
pub mod resolve;
pub mod sandbox;
pub mod state;
pub mod stone;
pub mod store;
pub mod transaction;
pub mod tree;
pub mod trigger;
pub mod util;
pub mod yaml;
