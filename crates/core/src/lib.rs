//! Portcullis core: every behaviour of the identity service, free of HTTP and SQL.
//!
//! The HTTP edge parses a request into a `portcullis_proto` type and calls a service function
//! here; services talk to storage only through the repository traits in [`repo`].

pub mod cache;
pub mod clock;
pub mod code_limits;
pub mod context;
pub mod domain;
pub mod error;
pub mod hash_threads;
pub mod ids;
pub mod messages;
pub mod password;
pub mod repo;
pub mod rng;
pub mod seal;
pub mod service;
pub mod srp;
pub mod tokens;

pub use context::Core;
pub use error::{ApiError, ErrorCode};

#[cfg(test)]
mod fuzz;
