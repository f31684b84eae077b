//! `/oauth2/userInfo`: the signed-in user's attributes, for an access token that was granted
//! `openid`, filtered by the token's `email`, `phone` and `profile` scopes.

use serde_json::{Map, Value, json};

use super::scopes;
use crate::context::Core;
use crate::error::ApiError;
use crate::service::load_pool;
use crate::tokens::{self, TokenProblem};

/// Why a bearer token was refused (RFC 6750 section 3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerError {
    /// 401 `error="invalid_token"`.
    InvalidToken(String),
    /// 403 `error="insufficient_scope"`.
    InsufficientScope,
    Internal(ApiError),
}

impl From<ApiError> for BearerError {
    fn from(e: ApiError) -> Self {
        BearerError::Internal(e)
    }
}

impl From<crate::repo::StoreError> for BearerError {
    fn from(e: crate::repo::StoreError) -> Self {
        BearerError::Internal(ApiError::internal(e))
    }
}

pub async fn user_info(
    core: &Core,
    token: &str,
    host_pool: Option<&str>,
) -> Result<Map<String, Value>, BearerError> {
    let invalid = |why: &str| BearerError::InvalidToken(why.to_owned());
    let unverified = tokens::peek(token).map_err(|_| invalid("The token is malformed."))?;
    let iss = unverified
        .claims()
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("The token has no issuer."))?
        .to_owned();
    let pool_id = iss
        .strip_prefix(&format!("{}/", core.settings.public_url))
        .ok_or_else(|| invalid("The token was not issued here."))?;
    if host_pool.is_some_and(|p| p != pool_id) {
        return Err(invalid("The token was issued by another user pool."));
    }
    let pool = load_pool(core, pool_id)
        .await
        .map_err(|_| invalid("The token was not issued here."))?;
    let keys = tokens::pool_keys(core, &pool.id).await?;
    let claims = unverified
        .verify(&keys, &iss, "access", core.now_ms().div_euclid(1000))
        .map_err(|p| match p {
            TokenProblem::Expired => invalid("The access token has expired."),
            _ => invalid("The access token is invalid."),
        })?;
    let granted = scopes::parse(
        claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    if !scopes::has(&granted, scopes::OPENID) {
        return Err(BearerError::InsufficientScope);
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("The access token is invalid."))?;
    if let Some(origin) = claims.get("origin_jti").and_then(Value::as_str)
        && core.store.origin_revoked(&pool.id, sub, origin).await?
    {
        return Err(invalid("The access token has been revoked."));
    }
    let user = core
        .store
        .get_user_by_sub(&pool.id, sub)
        .await?
        .filter(|u| u.enabled)
        .ok_or_else(|| invalid("The user no longer exists or is disabled."))?;
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let readable = match crate::service::find_client(core, client_id).await? {
        Some(c) => c.settings.read_attributes.clone(),
        None => return Err(invalid("The token's app client no longer exists.")),
    };
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.sub));
    out.extend(scopes::attribute_claims(
        &user.attributes,
        readable.as_deref(),
        &granted,
        true,
    ));
    out.insert("username".into(), json!(user.username));
    Ok(out)
}
