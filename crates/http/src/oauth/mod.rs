//! The OAuth 2.0 endpoints of a user pool: `/oauth2/token`, `/oauth2/revoke` and
//! `/oauth2/userInfo`. Parsing (forms, HTTP Basic, bearer tokens) and rendering (RFC 6749 /
//! RFC 6750 errors) only; the rules are in `portcullis_core::service::oauth`.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portcullis_core::service::oauth::domains;
use portcullis_core::service::oauth::error::{OAuthError, OAuthErrorKind};
use portcullis_core::service::oauth::token::{self, ClientCredentials};
use portcullis_core::service::oauth::userinfo::{self, BearerError};
use portcullis_core::{ApiError, Core};
use serde_json::json;

use crate::AppState;

/// Forms on these endpoints are small; anything larger is refused before parsing.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth2/token", post(token_endpoint))
        .route("/oauth2/revoke", post(revoke_endpoint))
        .route(
            "/oauth2/userInfo",
            get(userinfo_endpoint).post(userinfo_endpoint),
        )
}

/// The pool whose registered domain the request's Host names, if any.
pub async fn host_pool(core: &Core, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return Ok(None);
    };
    domains::pool_for_host(core, host).await
}

/// Why a form could not be read.
#[derive(Debug)]
pub enum FormError {
    TooLarge,
    NotAForm,
    Malformed,
}

/// Reads an `application/x-www-form-urlencoded` body of at most `limit` bytes.
pub async fn read_form(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<(String, String)>, FormError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if media.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(FormError::NotAForm);
    }
    let bytes: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| FormError::TooLarge)?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes).map_err(|_| FormError::Malformed)?;
    if has_nul(&pairs) {
        return Err(FormError::Malformed);
    }
    Ok(pairs)
}

/// A NUL in a parameter is malformed input: no identifier, code or token holds one, and
/// PostgreSQL's text cannot (a lookup with one fails as an internal error).
pub fn has_nul(pairs: &[(String, String)]) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
}

/// Pairs to a map; a repeated parameter is refused (RFC 6749 section 3.2).
pub fn unique(pairs: Vec<(String, String)>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if out.contains_key(&k) {
            return Err(k);
        }
        out.insert(k, v);
    }
    Ok(out)
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a space).
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                out.push(v);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The client credentials of a token or revocation request: HTTP Basic
/// (`client_secret_basic`, each part form-encoded as RFC 6749 section 2.3.1 says), or the
/// `client_id` / `client_secret` form fields (`client_secret_post`), never both.
fn client_credentials(
    headers: &HeaderMap,
    params: &mut BTreeMap<String, String>,
) -> Result<ClientCredentials, OAuthError> {
    let form_id = params.remove("client_id");
    let form_secret = params.remove("client_secret");
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return Ok(ClientCredentials {
            client_id: form_id,
            // An empty secret is no secret (public clients' libraries send one).
            client_secret: form_secret.filter(|s| !s.is_empty()),
            basic: false,
        });
    };
    let bad_basic = || OAuthError::invalid_client(true);
    let value = auth.to_str().map_err(|_| bad_basic())?;
    let (scheme, rest) = value.split_once(' ').ok_or_else(bad_basic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_request(
            "Only HTTP Basic client authentication is accepted in the Authorization header.",
        ));
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad_basic())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad_basic())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad_basic)?;
    let id = form_decode(id).ok_or_else(bad_basic)?;
    let secret = form_decode(secret).ok_or_else(bad_basic)?;
    if form_secret.is_some() || form_id.as_deref().is_some_and(|f| f != id) {
        return Err(OAuthError::invalid_request(
            "Use one client authentication method, not two.",
        ));
    }
    Ok(ClientCredentials {
        client_id: Some(id),
        client_secret: Some(secret).filter(|s| !s.is_empty()),
        basic: true,
    })
}

fn no_store(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An RFC 6749 error response.
pub fn oauth_error(e: &OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (
        status,
        axum::Json(json!({"error": e.kind.as_str(), "error_description": e.description})),
    )
        .into_response();
    if e.kind == OAuthErrorKind::InvalidClient && e.basic_auth {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"portcullis\", charset=\"UTF-8\""),
        );
    }
    no_store(&mut res);
    res
}

fn form_error(e: FormError) -> OAuthError {
    match e {
        FormError::TooLarge => OAuthError::invalid_request("The request body is too large."),
        FormError::NotAForm => OAuthError::invalid_request(
            "The request body must be application/x-www-form-urlencoded.",
        ),
        FormError::Malformed => OAuthError::invalid_request("The form is malformed."),
    }
}

/// Reads the form and the client credentials of a token or revocation request.
async fn prepare(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(BTreeMap<String, String>, ClientCredentials, Option<String>), Response> {
    let pairs = match read_form(headers, body, MAX_FORM_BYTES).await {
        Ok(p) => p,
        Err(FormError::TooLarge) => {
            let mut res = oauth_error(&form_error(FormError::TooLarge));
            *res.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return Err(res);
        }
        Err(e) => return Err(oauth_error(&form_error(e))),
    };
    let mut params = unique(pairs).map_err(|name| {
        oauth_error(&OAuthError::invalid_request(format!(
            "The parameter {name} was given more than once."
        )))
    })?;
    let creds = client_credentials(headers, &mut params).map_err(|e| oauth_error(&e))?;
    let pool = host_pool(&state.core, headers)
        .await
        .map_err(|e| oauth_error(&e.into()))?;
    Ok((params, creds, pool))
}

async fn token_endpoint(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let (params, creds, pool) = match prepare(&state, &headers, body).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    match token::token(&state.core, &creds, &params, pool.as_deref()).await {
        Ok(tokens) => {
            let mut res = axum::Json(tokens).into_response();
            no_store(&mut res);
            res
        }
        Err(e) => oauth_error(&e),
    }
}

async fn revoke_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (params, creds, pool) = match prepare(&state, &headers, body).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    match token::revoke(&state.core, &creds, &params, pool.as_deref()).await {
        Ok(()) => {
            let mut res = StatusCode::OK.into_response();
            no_store(&mut res);
            res
        }
        Err(e) => oauth_error(&e),
    }
}

fn bearer_error(status: StatusCode, challenge: String, error: &str, description: &str) -> Response {
    let mut res = (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    no_store(&mut res);
    res
}

async fn userinfo_endpoint(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        // RFC 6750 section 3.1: no credentials, no error code in the challenge.
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "Bearer".to_owned(),
            "invalid_request",
            "An access token is required: Authorization: Bearer <token>.",
        );
    };
    let pool = match host_pool(&state.core, &headers).await {
        Ok(p) => p,
        Err(e) => return oauth_error(&e.into()),
    };
    match userinfo::user_info(&state.core, &token, pool.as_deref()).await {
        Ok(claims) => {
            let mut res = axum::Json(claims).into_response();
            no_store(&mut res);
            res
        }
        Err(BearerError::InvalidToken(why)) => bearer_error(
            StatusCode::UNAUTHORIZED,
            format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                why.replace(['"', '\\'], "'")
            ),
            "invalid_token",
            &why,
        ),
        Err(BearerError::InsufficientScope) => bearer_error(
            StatusCode::FORBIDDEN,
            "Bearer error=\"insufficient_scope\", scope=\"openid\"".to_owned(),
            "insufficient_scope",
            "The access token was not granted the openid scope.",
        ),
        Err(BearerError::Internal(e)) => oauth_error(&e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let pairs = vec![
            ("a".to_owned(), "1".to_owned()),
            ("a".to_owned(), "2".to_owned()),
        ];
        assert_eq!(unique(pairs), Err("a".to_owned()));
    }
}
