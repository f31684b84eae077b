//! Public operations are authorized by the app client: its id, and for clients with a
//! secret, a SECRET_HASH (or the secret itself) proving the caller knows it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::Arc;
use subtle::ConstantTimeEq;

use super::clients::client_secret;
use super::load_pool;
use crate::context::Core;
use crate::domain::{ClientRecord, PoolRecord};
use crate::error::{ApiError, ErrorCode};

pub struct ClientContext {
    pub pool: Arc<PoolRecord>,
    pub client: Arc<ClientRecord>,
    pub secret: Option<String>,
}

impl ClientContext {
    pub fn prevents_user_existence_errors(&self) -> bool {
        self.client
            .settings
            .prevent_user_existence_errors
            .as_deref()
            == Some("ENABLED")
    }

    pub fn id(&self) -> &str {
        &self.client.id
    }
}

/// The client and its pool; with `pool_id` (admin operations) the client must belong to it.
pub async fn resolve(
    core: &Core,
    client_id: &str,
    pool_id: Option<&str>,
) -> Result<ClientContext, ApiError> {
    if let Some(pool_id) = pool_id {
        load_pool(core, pool_id).await?;
    }
    let client = super::find_client(core, client_id)
        .await?
        .filter(|c| pool_id.is_none_or(|p| p == c.pool_id))
        .ok_or_else(|| ApiError::client_not_found(client_id))?;
    let pool = load_pool(core, &client.pool_id).await?;
    let secret = client_secret(core, &client)?;
    Ok(ClientContext {
        pool,
        client,
        secret,
    })
}

pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(username.as_bytes());
            mac.update(client_id.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Cognito's SECRET_HASH rule: required exactly when the client has a secret.
pub fn check_secret_hash(
    ctx: &ClientContext,
    username: &str,
    given: Option<&str>,
) -> Result<(), ApiError> {
    let Some(secret) = &ctx.secret else {
        return Ok(());
    };
    let Some(given) = given else {
        return Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            format!(
                "Client {} is configured with secret but SECRET_HASH was not received",
                ctx.id()
            ),
        ));
    };
    let expected = secret_hash(secret, username, ctx.id());
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            format!("Unable to verify secret hash for client {}", ctx.id()),
        ))
    }
}

/// For operations that take the client secret itself (RevokeToken, GetTokensFromRefreshToken).
pub fn check_client_secret(ctx: &ClientContext, given: Option<&str>) -> Result<(), ApiError> {
    let Some(secret) = &ctx.secret else {
        return Ok(());
    };
    match given {
        Some(g) if bool::from(secret.as_bytes().ct_eq(g.as_bytes())) => Ok(()),
        _ => Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            format!("Unable to verify secret for client {}", ctx.id()),
        )),
    }
}

const LEGACY_FLOWS: &[&str] = &[
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
];

/// Whether the client's ExplicitAuthFlows allow an auth flow. Legacy-valued clients always
/// allow SRP and refresh, as they did before the ALLOW_ values existed.
pub fn flow_allowed(ctx: &ClientContext, flow: &str) -> bool {
    let flows = ctx
        .client
        .settings
        .explicit_auth_flows
        .clone()
        .unwrap_or_default();
    let has = |f: &str| flows.iter().any(|x| x == f);
    let legacy = flows.iter().any(|f| LEGACY_FLOWS.contains(&f.as_str()));
    match flow {
        "USER_PASSWORD_AUTH" => has("ALLOW_USER_PASSWORD_AUTH") || has("USER_PASSWORD_AUTH"),
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            has("ALLOW_ADMIN_USER_PASSWORD_AUTH") || has("ADMIN_NO_SRP_AUTH")
        }
        "USER_SRP_AUTH" => has("ALLOW_USER_SRP_AUTH") || legacy,
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => has("ALLOW_REFRESH_TOKEN_AUTH") || legacy,
        "CUSTOM_AUTH" => has("ALLOW_CUSTOM_AUTH") || has("CUSTOM_AUTH_FLOW_ONLY"),
        "USER_AUTH" => has("ALLOW_USER_AUTH"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_the_documented_construction() {
        // base64(HMAC-SHA256(secret, username + client_id)), computed independently with
        // Python's hmac module.
        assert_eq!(
            secret_hash("secret", "alice", "client"),
            "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0="
        );
    }
}
