//! Cognito Identity Provider wire protocol: typed request/response structs
//! generated from botocore's model ([`generated`], re-exported here) and the
//! model-driven request validator ([`validate`]).
//!
//! Regenerate with `tools/gen_proto/strip_model.py` then `tools/gen_proto/gen.py`;
//! `tools/gen_proto/check.sh` fails when the checked-in files drift.

pub mod generated;
pub mod validate;

pub use generated::*;
pub use validate::{Model, ModelError, ValidationError};

/// Milliseconds since the Unix epoch to the fractional epoch seconds Cognito
/// puts in timestamp members (`CreationDate`, `UserCreateDate`, ...).
pub fn epoch_seconds(ms: i64) -> f64 {
    // Exact for any realistic date (|ms| < 2^53); one correctly rounded division.
    ms as f64 / 1000.0
}

#[cfg(test)]
mod tests;
