//! `/oauth2/token` and `/oauth2/revoke`: client authentication (HTTP Basic or form fields),
//! the `authorization_code`, `refresh_token` and `client_credentials` grants, and RFC 7009
//! revocation.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::{GetTokensFromRefreshTokenRequest, RevokeTokenRequest};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{OAuthError, OAuthErrorKind};
use super::mint::{self, TokenResponse};
use super::records::AuthCodeRecord;
use super::{resource_servers, scopes};
use crate::context::Core;
use crate::error::{ApiError, ErrorCode};
use crate::service::client_auth::{self, ClientContext};
use crate::service::issue::{self, Lineage};
use crate::service::self_service;

/// How the caller presented its client credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// They came in an `Authorization: Basic` header (`client_secret_basic`).
    pub basic: bool,
}

/// Compares two secrets in time independent of where they differ (and, through the hashes,
/// of their lengths).
fn secrets_equal(a: &str, b: &str) -> bool {
    let ha = Sha256::digest(a.as_bytes());
    let hb = Sha256::digest(b.as_bytes());
    bool::from(ha.as_slice().ct_eq(hb.as_slice()))
}

/// The client, authenticated: a client with a secret must present it; a public client
/// presents only its id. With `host_pool` (the request came through a pool's domain) the
/// client must belong to that pool.
pub async fn authenticate_client(
    core: &Core,
    creds: &ClientCredentials,
    host_pool: Option<&str>,
) -> Result<ClientContext, OAuthError> {
    let fail = || OAuthError::invalid_client(creds.basic);
    let client_id = creds.client_id.as_deref().ok_or_else(fail)?;
    let ctx = match client_auth::resolve(core, client_id, None).await {
        Ok(ctx) => ctx,
        Err(e) if e.code == ErrorCode::ResourceNotFoundException => return Err(fail()),
        Err(e) => return Err(e.into()),
    };
    if host_pool.is_some_and(|p| p != ctx.pool.id) {
        return Err(fail());
    }
    match (&ctx.secret, &creds.client_secret) {
        (Some(expected), Some(given)) if secrets_equal(expected, given) => Ok(ctx),
        (None, None) => Ok(ctx),
        _ => Err(fail()),
    }
}

fn param<'a>(params: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn required<'a>(params: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, OAuthError> {
    param(params, name)
        .ok_or_else(|| OAuthError::invalid_request(format!("Missing required parameter {name}.")))
}

fn oauth_flow_allowed(ctx: &ClientContext, flow: &str) -> bool {
    let s = &ctx.client.settings;
    s.allowed_o_auth_flows_user_pool_client == Some(true)
        && s.allowed_o_auth_flows.iter().flatten().any(|f| f == flow)
}

/// `POST /oauth2/token`. `params` is the form without duplicates; client credentials have
/// been taken out of it by the caller.
pub async fn token(
    core: &Core,
    creds: &ClientCredentials,
    params: &BTreeMap<String, String>,
    host_pool: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = required(params, "grant_type")?;
    if !matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(OAuthError::new(
            OAuthErrorKind::UnsupportedGrantType,
            format!("Grant type {grant_type} is not supported."),
        ));
    }
    let ctx = authenticate_client(core, creds, host_pool).await?;
    match grant_type {
        "authorization_code" => authorization_code(core, &ctx, params).await,
        "refresh_token" => refresh(core, &ctx, params).await,
        _ => client_credentials(core, &ctx, params).await,
    }
}

async fn client_credentials(
    core: &Core,
    ctx: &ClientContext,
    params: &BTreeMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    if ctx.secret.is_none() || !oauth_flow_allowed(ctx, "client_credentials") {
        return Err(OAuthError::unauthorized_client(
            "The client is not allowed the client_credentials grant.",
        ));
    }
    let allowed: Vec<String> = ctx
        .client
        .settings
        .allowed_o_auth_scopes
        .iter()
        .flatten()
        .filter(|s| scopes::is_custom(s))
        .cloned()
        .collect();
    let requested = match param(params, "scope") {
        Some(s) => scopes::parse(s),
        None => allowed.clone(),
    };
    if requested.is_empty() {
        return Err(OAuthError::invalid_scope(
            "The client has no custom scopes to grant.",
        ));
    }
    let defined = resource_servers::custom_scopes(core, &ctx.pool.id).await?;
    if let Some(bad) = requested
        .iter()
        .find(|s| !allowed.contains(s) || !defined.contains(*s))
    {
        return Err(OAuthError::invalid_scope(format!(
            "Scope {bad} is not allowed for this client."
        )));
    }
    Ok(mint::client_token(core, ctx, &requested).await?)
}

/// Checks a redeemed code against the request, once it has been claimed; pure, so expiry is
/// testable with any clock.
pub fn check_code(
    record: &AuthCodeRecord,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now_ms: i64,
) -> Result<(), OAuthError> {
    if record.expires_ms <= now_ms {
        return Err(OAuthError::invalid_grant(
            "The authorization code has expired.",
        ));
    }
    if redirect_uri != Some(record.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request.",
        ));
    }
    match (&record.code_challenge, code_verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier was sent, but the authorization request had no code_challenge.",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required.")),
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant("code_verifier does not match."))
            }
        }
    }
}

async fn authorization_code(
    core: &Core,
    ctx: &ClientContext,
    params: &BTreeMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let code = required(params, "code")?;
    if !oauth_flow_allowed(ctx, "code") {
        return Err(OAuthError::unauthorized_client(
            "The client is not allowed the authorization code grant.",
        ));
    }
    let invalid = || OAuthError::invalid_grant("The authorization code is invalid.");
    let hash = issue::token_hash(code);
    let record = core.store.get_auth_code(&hash).await?.ok_or_else(invalid)?;
    if record.client_id != ctx.client.id || record.pool_id != ctx.pool.id {
        return Err(invalid());
    }
    if !core.store.consume_auth_code(&hash).await? {
        // A replay: the code was redeemed before. Whoever holds it may be an attacker, so the
        // tokens minted from it go too (RFC 6749 section 4.1.2).
        core.store
            .revoke_origin(&record.pool_id, &record.sub, &record.origin_jti)
            .await?;
        return Err(OAuthError::invalid_grant(
            "The authorization code has already been used.",
        ));
    }
    check_code(
        &record,
        param(params, "redirect_uri"),
        param(params, "code_verifier"),
        core.now_ms(),
    )?;
    let user = core
        .store
        .get_user_by_sub(&record.pool_id, &record.sub)
        .await?
        .filter(|u| u.enabled)
        .ok_or_else(|| OAuthError::invalid_grant("The user can no longer sign in."))?;
    let granted = scopes::parse(&record.scopes);
    let lineage = Lineage {
        origin_jti: record.origin_jti.clone(),
        auth_time: record.auth_time,
    };
    Ok(mint::user_tokens(
        core,
        ctx,
        &user,
        &lineage,
        &granted,
        record.nonce.as_deref(),
        true,
    )
    .await?)
}

fn refresh_error(e: ApiError) -> OAuthError {
    match e.code {
        ErrorCode::NotAuthorizedException | ErrorCode::RefreshTokenReuseException => {
            OAuthError::invalid_grant(e.message)
        }
        ErrorCode::InvalidParameterException => OAuthError::unauthorized_client(e.message),
        _ => e.into(),
    }
}

async fn refresh(
    core: &Core,
    ctx: &ClientContext,
    params: &BTreeMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let token = required(params, "refresh_token")?;
    if !client_auth::flow_allowed(ctx, "REFRESH_TOKEN_AUTH") {
        return Err(OAuthError::unauthorized_client(
            "The client is not allowed to refresh tokens.",
        ));
    }
    let record = issue::usable_or_reused(core, ctx, token)
        .await
        .map_err(refresh_error)?;
    let Some(grant) = core
        .store
        .get_oauth_grant(&record.pool_id, &record.origin_jti)
        .await?
    else {
        // A sign-in through the API (InitiateAuth): refresh exactly as the API does.
        let out = self_service::get_tokens_from_refresh_token(
            core,
            GetTokensFromRefreshTokenRequest {
                refresh_token: token.to_owned(),
                client_id: ctx.client.id.clone(),
                client_secret: ctx.secret.clone(),
                ..Default::default()
            },
        )
        .await
        .map_err(refresh_error)?;
        let r = out.authentication_result.unwrap_or_default();
        return Ok(TokenResponse {
            access_token: r.access_token.unwrap_or_default(),
            id_token: r.id_token,
            refresh_token: r.refresh_token,
            token_type: "Bearer",
            expires_in: r.expires_in.unwrap_or_default(),
        });
    };
    let user = core
        .store
        .get_user_by_sub(&record.pool_id, &record.sub)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("Invalid Refresh Token"))?;
    if !user.enabled {
        return Err(OAuthError::invalid_grant("User is disabled."));
    }
    let new_refresh = issue::rotate(core, ctx, &record)
        .await
        .map_err(refresh_error)?;
    let lineage = Lineage {
        origin_jti: record.origin_jti.clone(),
        auth_time: record.auth_time,
    };
    let granted = scopes::parse(&grant.scopes);
    Ok(mint::user_tokens(core, ctx, &user, &lineage, &granted, None, new_refresh).await?)
}

/// `POST /oauth2/revoke` (RFC 7009): revokes a refresh token and every token minted from its
/// sign-in. Unknown tokens are no error.
pub async fn revoke(
    core: &Core,
    creds: &ClientCredentials,
    params: &BTreeMap<String, String>,
    host_pool: Option<&str>,
) -> Result<(), OAuthError> {
    let token = required(params, "token")?;
    let ctx = authenticate_client(core, creds, host_pool).await?;
    if let Some(hint) = param(params, "token_type_hint")
        && hint != "refresh_token"
    {
        return Err(OAuthError::new(
            OAuthErrorKind::UnsupportedTokenType,
            "Only refresh tokens can be revoked.",
        ));
    }
    self_service::revoke_token(
        core,
        RevokeTokenRequest {
            token: token.to_owned(),
            client_id: ctx.client.id.clone(),
            client_secret: ctx.secret.clone(),
        },
    )
    .await
    .map_err(|e| match e.code {
        ErrorCode::UnsupportedTokenTypeException => {
            OAuthError::new(OAuthErrorKind::UnsupportedTokenType, e.message)
        }
        ErrorCode::UnsupportedOperationException => OAuthError::invalid_request(e.message),
        ErrorCode::UnauthorizedException => OAuthError::unauthorized_client(e.message),
        _ => e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(challenge: Option<&str>) -> AuthCodeRecord {
        AuthCodeRecord {
            code_hash: "h".into(),
            pool_id: "p".into(),
            client_id: "c".into(),
            sub: "s".into(),
            redirect_uri: "https://app.example.com/cb".into(),
            scopes: "openid".into(),
            nonce: None,
            code_challenge: challenge.map(str::to_owned),
            origin_jti: "o".into(),
            auth_time: 0,
            created_ms: 0,
            expires_ms: 300_000,
            used: false,
        }
    }

    // RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const CB: Option<&str> = Some("https://app.example.com/cb");

    fn kind(r: Result<(), OAuthError>) -> Option<OAuthErrorKind> {
        r.err().map(|e| e.kind)
    }

    #[test]
    fn pkce_and_binding() {
        assert!(check_code(&record(Some(CHALLENGE)), CB, Some(VERIFIER), 1).is_ok());
        assert!(check_code(&record(None), CB, None, 1).is_ok());
        let bad = Some(OAuthErrorKind::InvalidGrant);
        assert_eq!(kind(check_code(&record(Some(CHALLENGE)), CB, None, 1)), bad);
        assert_eq!(
            kind(check_code(
                &record(Some(CHALLENGE)),
                CB,
                Some(&VERIFIER.replace('d', "e")),
                1
            )),
            bad
        );
        // PKCE downgrade: a verifier for a request that had no challenge.
        assert_eq!(kind(check_code(&record(None), CB, Some(VERIFIER), 1)), bad);
        // The verifier itself must be 43..128 unreserved characters.
        assert_eq!(
            kind(check_code(&record(Some(CHALLENGE)), CB, Some("short"), 1)),
            bad
        );
        assert_eq!(
            kind(check_code(
                &record(None),
                Some("https://app.example.com/other"),
                None,
                1
            )),
            bad
        );
        assert_eq!(kind(check_code(&record(None), None, None, 1)), bad);
    }

    #[test]
    fn codes_expire_after_five_minutes() {
        let r = record(None);
        assert!(check_code(&r, CB, None, 299_999).is_ok());
        assert_eq!(
            kind(check_code(&r, CB, None, 300_000)),
            Some(OAuthErrorKind::InvalidGrant)
        );
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}
