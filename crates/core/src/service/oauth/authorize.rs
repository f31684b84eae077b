//! `/oauth2/authorize` and what the hosted sign-in completes: checking an authorization
//! request, and answering it with a code (or, for clients allowed the implicit flow, tokens)
//! sent to the registered redirect URI.
//!
//! Until the client and its redirect URI are known good, nothing is ever sent to the redirect
//! URI: the person sees an error page instead (an open redirector otherwise). After that,
//! errors go back to the client as RFC 6749 section 4.1.2.1 describes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::mint;
use super::records::AuthCodeRecord;
use super::{resource_servers, scopes};
use crate::context::Core;
use crate::domain::UserRecord;
use crate::error::{ApiError, ErrorCode};
use crate::rng;
use crate::service::client_auth::{self, ClientContext};
use crate::service::issue::{self, Lineage};

/// Authorization codes live five minutes, as Cognito's.
pub const CODE_TTL_MS: i64 = 5 * 60 * 1000;
/// Used codes are kept this long past expiry, so late replays are still recognised.
pub const CODE_RETENTION_MS: i64 = 60 * 60 * 1000;
/// The longest value accepted for any one parameter.
pub const MAX_PARAM_LEN: usize = 2048;

/// The parameters of an authorization request, as `/oauth2/authorize` and `/login` take them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl AuthorizeParams {
    /// From query pairs; unknown parameters are ignored, a repeated one is an error (RFC 6749
    /// section 3.1), and so is an overlong one.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, String> {
        let mut p = AuthorizeParams::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "response_type" => &mut p.response_type,
                "client_id" => &mut p.client_id,
                "redirect_uri" => &mut p.redirect_uri,
                "state" => &mut p.state,
                "scope" => &mut p.scope,
                "nonce" => &mut p.nonce,
                "code_challenge" => &mut p.code_challenge,
                "code_challenge_method" => &mut p.code_challenge_method,
                "identity_provider" => &mut p.identity_provider,
                "idp_identifier" => &mut p.idp_identifier,
                "prompt" => &mut p.prompt,
                "lang" => &mut p.lang,
                _ => continue,
            };
            if slot.is_some() {
                return Err(format!("The parameter {name} was given more than once."));
            }
            if value.len() > MAX_PARAM_LEN {
                return Err(format!("The parameter {name} is too long."));
            }
            // No identifier holds a NUL, and PostgreSQL's text cannot: bad input, not a lookup.
            if value.contains('\0') {
                return Err(format!("The parameter {name} is malformed."));
            }
            *slot = Some(value.clone());
        }
        Ok(p)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    /// The implicit flow: tokens in the redirect URI's fragment.
    Token,
}

/// An authorization request that passed every check.
pub struct ValidAuthorize {
    pub ctx: ClientContext,
    pub params: AuthorizeParams,
    pub response_type: ResponseType,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `prompt=login`: sign in again even with a session.
    pub force_login: bool,
    /// `prompt=none`: never show a page.
    pub no_prompt: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown to the person; the client or its redirect URI cannot be trusted.
    Page { status: u16, message: String },
    /// `302` to this location: the error sent back to the client.
    Redirect { location: String },
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The redirect URI with parameters added to its query, or set as its fragment.
pub fn redirect_with(redirect_uri: &str, fragment: bool, pairs: &[(&str, &str)]) -> String {
    let encoded = encode_pairs(pairs);
    if fragment {
        format!("{redirect_uri}#{encoded}")
    } else if redirect_uri.contains('?') {
        format!("{redirect_uri}&{encoded}")
    } else {
        format!("{redirect_uri}?{encoded}")
    }
}

/// Cognito's code for a redirect URI the client has not registered.
pub const REDIRECT_MISMATCH: &str = "redirect_mismatch";

/// The hosted error page (`/error` on this host) for `error`, as Cognito's URL carries it.
pub fn error_page_location(error: &str, client_id: &str) -> String {
    format!(
        "/error?{}",
        encode_pairs(&[("error", error), ("client_id", client_id)])
    )
}

/// What the error page says for a code it carries; None for codes it does not know.
pub fn error_page_message(error: &str) -> Option<&'static str> {
    match error {
        REDIRECT_MISMATCH => {
            Some("The redirect_uri of this sign-in request is not registered for the app client.")
        }
        _ => None,
    }
}

fn page(status: u16, message: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Page {
        status,
        message: message.into(),
    }
}

/// Checks an authorization request. `host_pool` is the pool named by the request's Host
/// (a registered domain), if any: the client must then belong to it.
pub async fn validate(
    core: &Core,
    params: &AuthorizeParams,
    host_pool: Option<&str>,
) -> Result<ValidAuthorize, AuthorizeError> {
    let client_id = params
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| page(400, "The sign-in request has no client_id."))?;
    let ctx = match client_auth::resolve(core, client_id, None).await {
        Ok(ctx) => ctx,
        Err(e) if e.code == ErrorCode::ResourceNotFoundException => {
            return Err(page(
                400,
                "The sign-in request names an unknown app client.",
            ));
        }
        Err(_) => {
            return Err(page(
                500,
                "Something went wrong on our side. Try again later.",
            ));
        }
    };
    if host_pool.is_some_and(|p| p != ctx.pool.id) {
        return Err(page(400, "The app client does not belong to this domain."));
    }
    let redirect_uri = params
        .redirect_uri
        .clone()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| page(400, "The sign-in request has no redirect_uri."))?;
    let registered = ctx
        .client
        .settings
        .callback_urls
        .iter()
        .flatten()
        .any(|u| *u == redirect_uri);
    if !registered {
        // As Cognito: the browser goes to the error page of this host, the code in its URL.
        return Err(AuthorizeError::Redirect {
            location: error_page_location(REDIRECT_MISMATCH, client_id),
        });
    }
    // From here on the redirect URI is the client's own: errors go back to it.
    let state = params.state.clone();
    let fragment = params.response_type.as_deref() == Some("token");
    let fail = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = &state {
            pairs.push(("state", s.as_str()));
        }
        AuthorizeError::Redirect {
            location: redirect_with(&redirect_uri, fragment, &pairs),
        }
    };
    let settings = &ctx.client.settings;
    let flows: Vec<&str> = settings
        .allowed_o_auth_flows
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let response_type = match params.response_type.as_deref() {
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "response_type must be code or token",
            ));
        }
        None => return Err(fail("invalid_request", "response_type is required")),
    };
    let flow_needed = match response_type {
        ResponseType::Code => "code",
        ResponseType::Token => "implicit",
    };
    if settings.allowed_o_auth_flows_user_pool_client != Some(true) || !flows.contains(&flow_needed)
    {
        return Err(fail(
            "unauthorized_client",
            "The app client is not allowed this flow",
        ));
    }
    let cognito_login = settings
        .supported_identity_providers
        .as_ref()
        .is_none_or(|l| l.iter().any(|p| p == "COGNITO"));
    if params.idp_identifier.is_some()
        || params
            .identity_provider
            .as_deref()
            .is_some_and(|p| p != "COGNITO")
        || !cognito_login
    {
        return Err(fail(
            "invalid_request",
            "Only the COGNITO identity provider is supported",
        ));
    }
    let allowed: Vec<String> = settings.allowed_o_auth_scopes.clone().unwrap_or_default();
    let requested = match params.scope.as_deref() {
        Some(s) => scopes::parse(s),
        None => allowed.clone(),
    };
    if requested.is_empty() {
        return Err(fail("invalid_scope", "No scope was requested"));
    }
    if requested.iter().any(|s| !allowed.contains(s)) {
        return Err(fail(
            "invalid_scope",
            "A requested scope is not allowed for this app client",
        ));
    }
    let needs_openid = [scopes::EMAIL, scopes::PHONE, scopes::PROFILE]
        .iter()
        .any(|s| scopes::has(&requested, s));
    if needs_openid && !scopes::has(&requested, scopes::OPENID) {
        return Err(fail(
            "invalid_scope",
            "The email, phone and profile scopes require openid",
        ));
    }
    if requested.iter().any(|s| scopes::is_custom(s)) {
        let defined = resource_servers::custom_scopes(core, &ctx.pool.id)
            .await
            .map_err(|_| fail("server_error", "Try again later"))?;
        if requested
            .iter()
            .any(|s| scopes::is_custom(s) && !defined.contains(s))
        {
            return Err(fail(
                "invalid_scope",
                "A requested scope is not defined by any resource server",
            ));
        }
    }
    let code_challenge = match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method was sent without code_challenge",
            ));
        }
        (Some(c), Some("S256")) => {
            let well_formed = c.len() == 43
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !well_formed {
                return Err(fail(
                    "invalid_request",
                    "code_challenge must be the base64url SHA-256 of the code_verifier",
                ));
            }
            Some(c.to_owned())
        }
        (Some(_), _) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
    };
    if response_type == ResponseType::Code
        && code_challenge.is_none()
        && ctx.client.secret_sealed.is_none()
        && !core.settings.allow_public_clients_without_pkce
    {
        return Err(fail(
            "invalid_request",
            "code_challenge is required: this app client has no secret, so it must use PKCE (S256)",
        ));
    }
    let prompt: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .collect();
    Ok(ValidAuthorize {
        ctx,
        params: params.clone(),
        response_type,
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        scopes: requested,
        nonce: params.nonce.clone(),
        code_challenge: if response_type == ResponseType::Code {
            code_challenge
        } else {
            None
        },
        force_login: prompt.contains(&"login"),
        no_prompt: prompt.contains(&"none"),
    })
}

impl ValidAuthorize {
    /// An error sent back to the client's redirect URI.
    pub fn error_location(&self, error: &str, description: &str) -> String {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = &self.state {
            pairs.push(("state", s.as_str()));
        }
        redirect_with(
            &self.redirect_uri,
            self.response_type == ResponseType::Token,
            &pairs,
        )
    }
}

/// Answers the request for a user who has signed in (at `auth_time`, seconds): a single-use
/// code, or in the implicit flow the tokens themselves. Returns where to send the browser.
pub async fn complete(
    core: &Core,
    valid: &ValidAuthorize,
    user: &UserRecord,
    auth_time: i64,
) -> Result<String, ApiError> {
    let lineage = Lineage {
        origin_jti: rng::uuid_v4(core.rng.as_ref()),
        auth_time,
    };
    match valid.response_type {
        ResponseType::Code => {
            let mut raw = [0u8; 32];
            core.rng.fill(&mut raw);
            let code = URL_SAFE_NO_PAD.encode(raw);
            let now = core.now_ms();
            core.store.purge_auth_codes(now - CODE_RETENTION_MS).await?;
            core.store
                .insert_auth_code(&AuthCodeRecord {
                    code_hash: issue::token_hash(&code),
                    pool_id: valid.ctx.pool.id.clone(),
                    client_id: valid.ctx.client.id.clone(),
                    sub: user.sub.clone(),
                    redirect_uri: valid.redirect_uri.clone(),
                    scopes: scopes::join(&valid.scopes),
                    nonce: valid.nonce.clone(),
                    code_challenge: valid.code_challenge.clone(),
                    origin_jti: lineage.origin_jti,
                    auth_time,
                    created_ms: now,
                    expires_ms: now + CODE_TTL_MS,
                    used: false,
                })
                .await?;
            let mut pairs = vec![("code", code.as_str())];
            if let Some(s) = &valid.state {
                pairs.push(("state", s.as_str()));
            }
            Ok(redirect_with(&valid.redirect_uri, false, &pairs))
        }
        ResponseType::Token => {
            // These tokens have no refresh token: a lineage row of their own is what lets
            // sign-out and revocation reach them.
            let (access_ttl, id_ttl, _) = issue::lifetimes(&valid.ctx);
            let expires_ms = core.now_ms() + access_ttl.max(id_ttl).saturating_mul(1000);
            issue::record_tokenless_lineage(core, &valid.ctx, &user.sub, &lineage, expires_ms)
                .await?;
            let t = mint::user_tokens(
                core,
                &valid.ctx,
                user,
                &lineage,
                &valid.scopes,
                valid.nonce.as_deref(),
                false,
            )
            .await?;
            let expires_in = t.expires_in.to_string();
            let mut pairs = vec![("access_token", t.access_token.as_str())];
            if let Some(id) = &t.id_token {
                pairs.push(("id_token", id.as_str()));
            }
            pairs.push(("token_type", "Bearer"));
            pairs.push(("expires_in", expires_in.as_str()));
            if let Some(s) = &valid.state {
                pairs.push(("state", s.as_str()));
            }
            Ok(redirect_with(&valid.redirect_uri, true, &pairs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(xs: &[(&str, &str)]) -> Vec<(String, String)> {
        xs.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn params_reject_repeats_and_overlong_values() {
        let p = AuthorizeParams::from_pairs(&pairs(&[("client_id", "c"), ("x", "y")]));
        assert_eq!(p.map(|p| p.client_id), Ok(Some("c".to_owned())));
        assert!(AuthorizeParams::from_pairs(&pairs(&[("state", "a"), ("state", "b")])).is_err());
        let long = "a".repeat(MAX_PARAM_LEN + 1);
        assert!(AuthorizeParams::from_pairs(&pairs(&[("state", &long)])).is_err());
    }

    #[test]
    fn redirects_encode_their_parameters() {
        assert_eq!(
            redirect_with(
                "https://a.example/cb",
                false,
                &[("code", "x"), ("state", "a b&c")]
            ),
            "https://a.example/cb?code=x&state=a%20b%26c"
        );
        assert_eq!(
            redirect_with("https://a.example/cb?k=v", false, &[("code", "x")]),
            "https://a.example/cb?k=v&code=x"
        );
        assert_eq!(
            redirect_with("myapp://cb", true, &[("access_token", "t")]),
            "myapp://cb#access_token=t"
        );
    }
}
