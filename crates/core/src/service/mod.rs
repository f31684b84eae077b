//! Service functions: one per Cognito operation, taking the wire request and returning the
//! wire response. All behaviour lives here; the HTTP edge only parses and renders.

pub mod client_auth;
pub mod clients;
pub mod codes;
pub mod filter;
pub mod groups;
pub mod issue;
pub mod paging;
pub mod pools;
pub mod schema;
pub mod self_service;
pub mod sessions;
pub mod signin;
pub mod signup;
pub mod srp_flow;
pub mod tags;
pub mod users;

use crate::context::Core;
use crate::domain::{ClientRecord, PoolRecord};
use crate::error::ApiError;
use crate::repo::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

/// The pool, or Cognito's ResourceNotFoundException.
pub async fn load_pool(core: &Core, pool_id: &str) -> Result<PoolRecord, ApiError> {
    core.store
        .get_pool(pool_id)
        .await?
        .ok_or_else(|| ApiError::pool_not_found(pool_id))
}

/// The client of that pool, or ResourceNotFoundException.
pub async fn load_client(
    core: &Core,
    pool_id: &str,
    client_id: &str,
) -> Result<ClientRecord, ApiError> {
    match core.store.get_client(client_id).await? {
        Some(c) if c.pool_id == pool_id => Ok(c),
        _ => Err(ApiError::client_not_found(client_id)),
    }
}
