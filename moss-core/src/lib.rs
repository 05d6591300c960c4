//! moss-core: the moss package engine.
//!
//! Each module has one job; see `book/src/architecture.md` for the data flow.
//! Nothing in this library prints: errors are typed (`thiserror`) and the
//! binaries render them.

pub mod blit;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "db")]
pub mod client;
#[cfg(feature = "db")]
pub mod db;
pub mod fault;
pub mod fetch;
pub mod installation;
pub mod name;
#[cfg(feature = "db")]
pub mod repo;
#[cfg(feature = "db")]
pub mod resolve;
pub mod sandbox;
#[cfg(feature = "db")]
pub mod state;
pub mod stone;
pub mod store;
#[cfg(feature = "db")]
pub mod transaction;
pub mod tree;
#[cfg(feature = "db")]
pub mod trigger;
pub mod util;
pub mod yaml;
