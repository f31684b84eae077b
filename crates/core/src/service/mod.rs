//! Service functions: one per Cognito operation, taking the wire request and returning the
//! wire response. All behaviour lives here; the HTTP edge only parses and renders.

pub mod attributes;
pub mod client_auth;
pub mod clients;
pub mod codes;
pub mod filter;
pub mod groups;
pub mod housekeeping;
pub mod issue;
pub mod lockout;
pub mod oauth;
pub mod paging;
pub mod password_history;
pub mod pools;
pub mod schema;
pub mod self_service;
pub mod sessions;
pub mod signin;
pub mod signup;
pub mod srp_flow;
pub mod tags;
pub mod unknown_users;
pub mod users;

use std::sync::Arc;

use crate::context::Core;
use crate::domain::{ClientRecord, PoolRecord};
use crate::error::ApiError;
use crate::repo::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Stale => ApiError::new(
                crate::error::ErrorCode::ConcurrentModificationException,
                "The resource was changed by another request at the same time; try again.",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// Runs a read-modify-write operation again when another request changed the same record
/// in between; the operation re-reads fresh state on each attempt.
pub async fn retry_on_conflict<T, F, Fut>(mut operation: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    const ATTEMPTS: usize = 8;
    let mut attempt = 1;
    loop {
        match operation().await {
            Err(e)
                if e.code == crate::error::ErrorCode::ConcurrentModificationException
                    && attempt < ATTEMPTS =>
            {
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The pool, or Cognito's ResourceNotFoundException.
pub async fn load_pool(core: &Core, pool_id: &str) -> Result<Arc<PoolRecord>, ApiError> {
    let now = core.now_ms();
    if let Some(pool) = core.records.pool(pool_id, now) {
        return Ok(pool);
    }
    let pool = Arc::new(
        core.store
            .get_pool(pool_id)
            .await?
            .ok_or_else(|| ApiError::pool_not_found(pool_id))?,
    );
    core.records.put_pool(&pool, now);
    Ok(pool)
}

/// A client by id alone (public operations know no pool), through the record cache.
pub async fn find_client(
    core: &Core,
    client_id: &str,
) -> Result<Option<Arc<ClientRecord>>, ApiError> {
    let now = core.now_ms();
    if let Some(client) = core.records.client(client_id, now) {
        return Ok(Some(client));
    }
    let client = core.store.get_client(client_id).await?.map(Arc::new);
    if let Some(c) = &client {
        core.records.put_client(c, now);
    }
    Ok(client)
}

/// The client of that pool, or ResourceNotFoundException.
pub async fn load_client(
    core: &Core,
    pool_id: &str,
    client_id: &str,
) -> Result<Arc<ClientRecord>, ApiError> {
    match find_client(core, client_id).await? {
        Some(c) if c.pool_id == pool_id => Ok(c),
        _ => Err(ApiError::client_not_found(client_id)),
    }
}
