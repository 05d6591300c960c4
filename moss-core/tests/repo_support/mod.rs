//! The loopback HTTP server of the repository tests (shared by every test
//! crate through test-support).
#![allow(dead_code)]

pub use test_support::http::HttpServer;
