//! Tokens as the OAuth endpoints issue them: the access token carries the granted scopes and
//! `version: 2`; the ID token exists only when `openid` was granted, carries `nonce` and
//! `at_hash`, and releases attributes by scope. Client-credentials tokens speak for the
//! client itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, json};
use sha2::{Digest, Sha256};

use super::records::OAuthGrantRecord;
use super::scopes;
use crate::context::Core;
use crate::domain::{RefreshTokenRecord, UserRecord};
use crate::error::ApiError;
use crate::rng;
use crate::service::client_auth::ClientContext;
use crate::service::issue::{self, Lineage};
use crate::tokens::{self, TokenKind};

/// The body of a successful token response (RFC 6749 section 5.1).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// OpenID Connect's `at_hash`: the left half of SHA-256 of the access token, base64url.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn new_refresh_token(core: &Core) -> String {
    let mut raw = [0u8; 48];
    core.rng.fill(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Tokens for a user signed in through the hosted UI (or refreshing such a sign-in).
pub async fn user_tokens(
    core: &Core,
    ctx: &ClientContext,
    user: &UserRecord,
    lineage: &Lineage,
    granted: &[String],
    nonce: Option<&str>,
    new_refresh: bool,
) -> Result<TokenResponse, ApiError> {
    let now_ms = core.now_ms();
    let now = now_ms.div_euclid(1000);
    let (access_ttl, id_ttl, refresh_ttl) = issue::lifetimes(ctx);
    let keys = tokens::pool_keys(core, &ctx.pool.id).await?;
    let iss = issue::issuer(core, &ctx.pool.id);
    let event_id = rng::uuid_v4(core.rng.as_ref());

    // Claim order as in Cognito's hosted-UI sample: sub, cognito:groups, iss, version, ...
    let mut access = Map::new();
    access.insert("sub".into(), json!(user.sub));
    let mut groups = Map::new();
    issue::group_claims(core, user, &mut groups).await?;
    access.extend(groups.clone());
    access.insert("iss".into(), json!(iss));
    access.insert("version".into(), json!(2));
    access.insert("client_id".into(), json!(ctx.client.id));
    access.insert("origin_jti".into(), json!(lineage.origin_jti));
    access.insert("event_id".into(), json!(event_id));
    access.insert("token_use".into(), json!("access"));
    access.insert("scope".into(), json!(scopes::join(granted)));
    access.insert("auth_time".into(), json!(lineage.auth_time));
    access.insert("exp".into(), json!(now + access_ttl));
    access.insert("iat".into(), json!(now));
    access.insert("jti".into(), json!(rng::uuid_v4(core.rng.as_ref())));
    access.insert("username".into(), json!(user.username));
    let access_token = tokens::sign_token(&keys, TokenKind::Access, &access)?;

    let id_token = if scopes::has(granted, scopes::OPENID) {
        let mut id = Map::new();
        id.insert("at_hash".into(), json!(at_hash(&access_token)));
        id.insert("sub".into(), json!(user.sub));
        id.extend(groups);
        id.extend(scopes::attribute_claims(
            &user.attributes,
            ctx.client.settings.read_attributes.as_deref(),
            granted,
            false,
        ));
        id.insert("iss".into(), json!(iss));
        id.insert("cognito:username".into(), json!(user.username));
        if let Some(n) = nonce {
            id.insert("nonce".into(), json!(n));
        }
        id.insert("origin_jti".into(), json!(lineage.origin_jti));
        id.insert("aud".into(), json!(ctx.client.id));
        id.insert("event_id".into(), json!(event_id));
        id.insert("token_use".into(), json!("id"));
        id.insert("auth_time".into(), json!(lineage.auth_time));
        id.insert("exp".into(), json!(now + id_ttl));
        id.insert("iat".into(), json!(now));
        id.insert("jti".into(), json!(rng::uuid_v4(core.rng.as_ref())));
        Some(tokens::sign_token(&keys, TokenKind::Id, &id)?)
    } else {
        None
    };

    let refresh_token = if new_refresh {
        let token = new_refresh_token(core);
        core.store
            .insert_refresh_token(&RefreshTokenRecord {
                token_hash: issue::token_hash(&token),
                pool_id: ctx.pool.id.clone(),
                client_id: ctx.client.id.clone(),
                sub: user.sub.clone(),
                origin_jti: lineage.origin_jti.clone(),
                auth_time: lineage.auth_time,
                created_ms: now_ms,
                expires_ms: now_ms + refresh_ttl * 1000,
                revoked: false,
                rotated_ms: None,
            })
            .await?;
        core.store
            .put_oauth_grant(&OAuthGrantRecord {
                pool_id: ctx.pool.id.clone(),
                origin_jti: lineage.origin_jti.clone(),
                client_id: ctx.client.id.clone(),
                scopes: scopes::join(granted),
                created_ms: now_ms,
                expires_ms: Some(now_ms + refresh_ttl * 1000),
            })
            .await?;
        Some(token)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        id_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: access_ttl,
    })
}

/// A client-credentials access token: the client speaks for itself, with custom scopes only.
pub async fn client_token(
    core: &Core,
    ctx: &ClientContext,
    granted: &[String],
) -> Result<TokenResponse, ApiError> {
    let now = core.now_ms().div_euclid(1000);
    let (access_ttl, _, _) = issue::lifetimes(ctx);
    let keys = tokens::pool_keys(core, &ctx.pool.id).await?;
    let mut access = Map::new();
    access.insert("sub".into(), json!(ctx.client.id));
    access.insert("token_use".into(), json!("access"));
    access.insert("scope".into(), json!(scopes::join(granted)));
    access.insert("auth_time".into(), json!(now));
    access.insert("iss".into(), json!(issue::issuer(core, &ctx.pool.id)));
    access.insert("exp".into(), json!(now + access_ttl));
    access.insert("iat".into(), json!(now));
    access.insert("version".into(), json!(2));
    access.insert("jti".into(), json!(rng::uuid_v4(core.rng.as_ref())));
    access.insert("client_id".into(), json!(ctx.client.id));
    Ok(TokenResponse {
        access_token: tokens::sign_token(&keys, TokenKind::Access, &access)?,
        id_token: None,
        refresh_token: None,
        token_type: "Bearer",
        expires_in: access_ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OpenID Connect Core, appendix A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        // has at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
