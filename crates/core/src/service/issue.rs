//! Minting tokens for a signed-in user, refreshing them, and checking access tokens
//! presented to the self-service operations.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::AuthenticationResultType;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::attributes::permissions;
use super::client_auth::ClientContext;
use super::load_pool;
use crate::context::Core;
use crate::domain::{PoolRecord, RefreshTokenRecord, UserRecord};
use crate::error::{ApiError, ErrorCode};
use crate::rng;
use crate::tokens::{self, TokenKind, TokenProblem};

pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

pub fn issuer(core: &Core, pool_id: &str) -> String {
    format!("{}/{pool_id}", core.settings.public_url)
}

fn seconds(value: Option<i64>, unit: Option<&str>, default_secs: i64) -> i64 {
    let Some(v) = value else {
        return default_secs;
    };
    let per = match unit {
        Some("seconds") => 1,
        Some("minutes") => 60,
        Some("days") => 86_400,
        Some("hours") => 3_600,
        _ => return default_secs,
    };
    v.saturating_mul(per)
}

/// Token lifetimes of a client in seconds: (access, id, refresh).
pub fn lifetimes(ctx: &ClientContext) -> (i64, i64, i64) {
    let s = &ctx.client.settings;
    let units = s.token_validity_units.clone().unwrap_or_default();
    (
        seconds(
            s.access_token_validity,
            units.access_token.as_deref(),
            3_600,
        ),
        seconds(s.id_token_validity, units.id_token.as_deref(), 3_600),
        seconds(
            s.refresh_token_validity,
            units.refresh_token.as_deref(),
            30 * 86_400,
        ),
    )
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The sign-in a token descends from.
#[derive(Debug, Clone)]
pub struct Lineage {
    pub origin_jti: String,
    pub auth_time: i64,
}

pub async fn group_claims(
    core: &Core,
    user: &UserRecord,
    claims: &mut Map<String, Value>,
) -> Result<(), ApiError> {
    let groups = core
        .store
        .list_groups_for_user(&user.pool_id, &user.sub, None, 10_000)
        .await?;
    if groups.is_empty() {
        return Ok(());
    }
    claims.insert(
        "cognito:groups".into(),
        json!(groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>()),
    );
    let roles: Vec<&str> = groups
        .iter()
        .filter_map(|g| g.role_arn.as_deref())
        .collect();
    if !roles.is_empty() {
        claims.insert("cognito:roles".into(), json!(roles));
        // Lowest precedence wins; a tie at the top means no preferred role.
        let mut ranked: Vec<_> = groups
            .iter()
            .filter(|g| g.role_arn.is_some())
            .map(|g| (g.precedence.unwrap_or(i64::MAX), g.role_arn.clone()))
            .collect();
        ranked.sort_by_key(|(p, _)| *p);
        if let [first, rest @ ..] = ranked.as_slice()
            && rest.first().is_none_or(|second| second.0 != first.0)
        {
            claims.insert("cognito:preferred_role".into(), json!(first.1));
        }
    }
    Ok(())
}

fn attribute_claims(ctx: &ClientContext, user: &UserRecord, claims: &mut Map<String, Value>) {
    for (name, value) in &user.attributes {
        if name == "sub" || !permissions::readable(&ctx.pool, &ctx.client, name) {
            continue;
        }
        let v = match name.as_str() {
            "email_verified" | "phone_number_verified" => json!(value == "true"),
            "updated_at" => value
                .parse::<i64>()
                .map_or_else(|_| json!(value), |n| json!(n)),
            _ => json!(value),
        };
        claims.insert(name.clone(), v);
    }
}

/// Mints ID and access tokens, and a refresh token when `new_refresh` is set.
pub async fn issue(
    core: &Core,
    ctx: &ClientContext,
    user: &UserRecord,
    lineage: Option<Lineage>,
    new_refresh: bool,
) -> Result<AuthenticationResultType, ApiError> {
    let now_ms = core.now_ms();
    let now = now_ms.div_euclid(1000);
    let lineage = lineage.unwrap_or_else(|| Lineage {
        origin_jti: rng::uuid_v4(core.rng.as_ref()),
        auth_time: now,
    });
    let (access_ttl, id_ttl, refresh_ttl) = lifetimes(ctx);
    let keys = tokens::pool_keys(core, &ctx.pool.id).await?;
    let iss = issuer(core, &ctx.pool.id);
    let event_id = rng::uuid_v4(core.rng.as_ref());

    let mut shared = Map::new();
    shared.insert("sub".into(), json!(user.sub));
    group_claims(core, user, &mut shared).await?;
    shared.insert("iss".into(), json!(iss));
    shared.insert("origin_jti".into(), json!(lineage.origin_jti));
    shared.insert("event_id".into(), json!(event_id));
    shared.insert("auth_time".into(), json!(lineage.auth_time));
    shared.insert("iat".into(), json!(now));

    let mut id = shared.clone();
    attribute_claims(ctx, user, &mut id);
    id.insert("aud".into(), json!(ctx.client.id));
    id.insert("token_use".into(), json!("id"));
    id.insert("cognito:username".into(), json!(user.username));
    id.insert("exp".into(), json!(now + id_ttl));
    id.insert("jti".into(), json!(rng::uuid_v4(core.rng.as_ref())));

    let mut access = shared;
    access.insert("client_id".into(), json!(ctx.client.id));
    access.insert("token_use".into(), json!("access"));
    access.insert("scope".into(), json!(ADMIN_SCOPE));
    access.insert("exp".into(), json!(now + access_ttl));
    access.insert("jti".into(), json!(rng::uuid_v4(core.rng.as_ref())));
    access.insert("username".into(), json!(user.username));

    let refresh_token = if new_refresh {
        let mut raw = [0u8; 48];
        core.rng.fill(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        core.store
            .insert_refresh_token(&RefreshTokenRecord {
                token_hash: token_hash(&token),
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
        Some(token)
    } else {
        None
    };
    Ok(AuthenticationResultType {
        access_token: Some(tokens::sign_token(&keys, TokenKind::Access, &access)?),
        expires_in: Some(access_ttl),
        token_type: Some("Bearer".to_owned()),
        refresh_token,
        id_token: Some(tokens::sign_token(&keys, TokenKind::Id, &id)?),
        new_device_metadata: None,
    })
}

fn not_authorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::NotAuthorizedException, message)
}

/// The grace period of the client's refresh-token rotation, or None when rotation is off.
pub fn rotation_grace_ms(ctx: &ClientContext) -> Option<i64> {
    let r = ctx.client.settings.refresh_token_rotation.as_ref()?;
    (r.feature == "ENABLED").then(|| r.retry_grace_period_seconds.unwrap_or(0).clamp(0, 60) * 1000)
}

fn reused() -> ApiError {
    ApiError::new(
        ErrorCode::RefreshTokenReuseException,
        "The refresh token has already been used.",
    )
}

/// A refresh token replaced by rotation and presented again: whoever holds it may have stolen
/// it, so the whole lineage goes, the newest tokens included (RFC 9700 section 4.14.2).
async fn refuse_reuse(core: &Core, record: &RefreshTokenRecord) -> ApiError {
    match core
        .store
        .revoke_origin(&record.pool_id, &record.sub, &record.origin_jti)
        .await
    {
        Ok(()) => reused(),
        Err(e) => e.into(),
    }
}

/// A refresh token's record if it may still be used by this client, for InitiateAuth's
/// REFRESH_TOKEN_AUTH. A rotated-out token is refused here as everywhere (its lineage is
/// revoked), with the error InitiateAuth has for a revoked token.
pub async fn usable_refresh_token(
    core: &Core,
    ctx: &ClientContext,
    token: &str,
) -> Result<RefreshTokenRecord, ApiError> {
    usable_or_reused(core, ctx, token).await.map_err(|e| {
        if e.code == ErrorCode::RefreshTokenReuseException {
            not_authorized("Refresh Token has been revoked")
        } else {
            e
        }
    })
}

/// As `usable_refresh_token`, answering reuse of a rotated-out token with
/// RefreshTokenReuseException (GetTokensFromRefreshToken and `/oauth2/token`).
pub async fn usable_or_reused(
    core: &Core,
    ctx: &ClientContext,
    token: &str,
) -> Result<RefreshTokenRecord, ApiError> {
    let invalid = || not_authorized("Invalid Refresh Token");
    let record = core
        .store
        .get_refresh_token(&token_hash(token))
        .await?
        .ok_or_else(invalid)?;
    if record.client_id != ctx.client.id || record.pool_id != ctx.pool.id {
        return Err(invalid());
    }
    if record.revoked {
        return Err(not_authorized("Refresh Token has been revoked"));
    }
    let now = core.now_ms();
    if record.expires_ms <= now {
        return Err(not_authorized("Refresh Token has expired"));
    }
    if let Some(at) = record.rotated_ms {
        // Rotation may have been switched off since: the token was still replaced.
        let grace = rotation_grace_ms(ctx).unwrap_or(0);
        if grace == 0 || now - at > grace {
            return Err(refuse_reuse(core, &record).await);
        }
    }
    Ok(record)
}

/// Whether this refresh hands out a new refresh token (rotation is on for the client), after
/// marking the presented one replaced. Of two concurrent uses without a grace period, the
/// loser is a reuse.
pub async fn rotate(
    core: &Core,
    ctx: &ClientContext,
    record: &RefreshTokenRecord,
) -> Result<bool, ApiError> {
    let Some(grace) = rotation_grace_ms(ctx) else {
        return Ok(false);
    };
    if record.rotated_ms.is_some() {
        // A retry within the grace period (usable_or_reused refused the others).
        return Ok(true);
    }
    let marked = core
        .store
        .mark_refresh_rotated(&record.token_hash, core.now_ms())
        .await?;
    if !marked && grace == 0 {
        return Err(refuse_reuse(core, record).await);
    }
    Ok(true)
}

/// The lineage row of tokens minted without a refresh token (the implicit flow): revocation
/// and sign-out reach tokens only through their lineage's rows. Its key is no hash of any
/// token, so it can never be presented as a refresh token.
pub async fn record_tokenless_lineage(
    core: &Core,
    ctx: &ClientContext,
    sub: &str,
    lineage: &Lineage,
    expires_ms: i64,
) -> Result<(), ApiError> {
    core.store
        .insert_refresh_token(&RefreshTokenRecord {
            token_hash: format!("tokenless:{}", lineage.origin_jti),
            pool_id: ctx.pool.id.clone(),
            client_id: ctx.client.id.clone(),
            sub: sub.to_owned(),
            origin_jti: lineage.origin_jti.clone(),
            auth_time: lineage.auth_time,
            created_ms: core.now_ms(),
            expires_ms,
            revoked: false,
            rotated_ms: None,
        })
        .await?;
    Ok(())
}

/// Ends what a signed-in user holds: every token family (refresh, ID and access tokens, the
/// implicit flow's included) and every hosted-UI session. `keep_origin` spares the caller's
/// own lineage (ChangePassword keeps the session that changed the password).
pub async fn end_sessions(
    core: &Core,
    pool_id: &str,
    sub: &str,
    keep_origin: Option<&str>,
) -> Result<(), ApiError> {
    match keep_origin {
        Some(keep) => {
            core.store
                .revoke_user_tokens_except(pool_id, sub, keep)
                .await?
        }
        None => core.store.revoke_user_tokens(pool_id, sub).await?,
    }
    core.store.delete_user_hosted_sessions(pool_id, sub).await?;
    Ok(())
}

/// The user an access token speaks for, after every check Cognito makes: signature, expiry,
/// `token_use`, scope, global sign-out, revocation, and that the user still exists and is
/// enabled.
pub async fn authorize_access_token(
    core: &Core,
    token: &str,
) -> Result<(Arc<PoolRecord>, UserRecord, Map<String, Value>), ApiError> {
    let invalid = || not_authorized("Invalid Access Token");
    let unverified = tokens::peek(token).map_err(|_| invalid())?;
    let iss = unverified
        .claims()
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?
        .to_owned();
    let pool_id = iss
        .strip_prefix(&format!("{}/", core.settings.public_url))
        .ok_or_else(invalid)?
        .to_owned();
    let pool = load_pool(core, &pool_id).await.map_err(|_| invalid())?;
    let keys = tokens::pool_keys(core, &pool.id).await?;
    let now_ms = core.now_ms();
    let claims = unverified
        .verify(&keys, &iss, "access", now_ms.div_euclid(1000))
        .map_err(|p| match p {
            TokenProblem::Expired => not_authorized("Access Token has expired"),
            _ => invalid(),
        })?;
    let scopes = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !scopes.split(' ').any(|s| s == ADMIN_SCOPE) {
        return Err(not_authorized("Access Token does not have required scopes"));
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    // A deleted app client takes its tokens with it.
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    match super::find_client(core, client_id).await? {
        Some(c) if c.pool_id == pool.id => {}
        _ => return Err(invalid()),
    }
    // Every token descends from a refresh-token lineage; sign-out and revocation kill the
    // lineage, and with it the tokens.
    let origin = claims
        .get("origin_jti")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    if core.store.origin_revoked(&pool.id, sub, origin).await? {
        return Err(not_authorized("Access Token has been revoked"));
    }
    let user = core
        .store
        .get_user_by_sub(&pool.id, sub)
        .await?
        .ok_or_else(ApiError::user_not_found)?;
    if !user.enabled {
        return Err(not_authorized("User is disabled."));
    }
    Ok((pool, user, claims))
}
