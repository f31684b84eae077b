//! The hosted sign-in (`/login`): password sign-in with the same lookup, lockout and status
//! rules as InitiateAuth, the new-password step for users with a temporary password, the
//! hosted-UI session, and the sealed values the pages keep in cookies.
//!
//! Cookies hold nothing in the clear: each value is sealed with the master key (AES-256-GCM)
//! under a purpose-specific context, so a cookie cannot be forged, read, or moved from one
//! purpose to another.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::RespondToAuthChallengeRequest;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::authorize::{self, ValidAuthorize};
use crate::context::Core;
use crate::domain::{UserRecord, UserStatus};
use crate::error::ApiError;
use crate::service::{client_auth, issue, schema, signin, users};
use crate::tokens;

/// How long the hosted-UI session lasts, as Cognito's cookie (one hour).
pub const SESSION_TTL_MS: i64 = 60 * 60 * 1000;
/// How long a rendered form may be submitted.
pub const CSRF_TTL_MS: i64 = 60 * 60 * 1000;

fn cookie_context(purpose: &str) -> String {
    format!("hosted-ui-cookie:{purpose}")
}

/// A value sealed for a cookie of `purpose`, as base64url text.
pub fn seal_cookie<T: Serialize>(
    core: &Core,
    purpose: &str,
    value: &T,
) -> Result<String, ApiError> {
    let plain = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let sealed = core
        .sealer
        .seal(core.rng.as_ref(), &cookie_context(purpose), &plain);
    Ok(URL_SAFE_NO_PAD.encode(sealed))
}

/// The value of a cookie of `purpose`, or None when it was not sealed by us for that purpose.
pub fn open_cookie<T: DeserializeOwned>(core: &Core, purpose: &str, text: &str) -> Option<T> {
    let sealed = URL_SAFE_NO_PAD.decode(text).ok()?;
    let plain = core.sealer.open(&cookie_context(purpose), &sealed).ok()?;
    serde_json::from_slice(&plain).ok()
}

/// The hosted-UI session: who signed in to which pool, and when. The cookie is only its
/// name: the session lasts while its row in the store does, so sign-out, a password change or
/// reset, and `/logout` end it on every node, also for a copy of the cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiSession {
    /// Random; the store keeps its hash. Empty in cookies made before sessions were stored,
    /// which therefore no longer resume.
    #[serde(default)]
    pub id: String,
    pub pool_id: String,
    pub sub: String,
    /// Seconds.
    pub auth_time: i64,
    pub expires_ms: i64,
}

/// The anti-forgery token of a form, kept in a cookie and repeated in a hidden field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsrfToken {
    pub token: String,
    pub expires_ms: i64,
}

impl CsrfToken {
    pub fn new(core: &Core) -> Self {
        let mut raw = [0u8; 32];
        core.rng.fill(&mut raw);
        CsrfToken {
            token: URL_SAFE_NO_PAD.encode(raw),
            expires_ms: core.now_ms() + CSRF_TTL_MS,
        }
    }

    /// Whether `given` (the form field) matches this cookie's token, in constant time.
    pub fn accepts(&self, core: &Core, given: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.expires_ms > core.now_ms() && bool::from(self.token.as_bytes().ct_eq(given.as_bytes()))
    }
}

/// Where a sign-in step leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Signed in: send the browser here and remember the session.
    SignedIn {
        location: String,
        session: UiSession,
    },
    /// The user has a temporary password and must choose a new one.
    NewPasswordRequired {
        /// The challenge session (single use, a few minutes).
        session: String,
        username: String,
        /// Attributes the pool requires that the user does not have yet.
        required_attributes: Vec<String>,
    },
}

async fn signed_in(
    core: &Core,
    valid: &ValidAuthorize,
    user: &UserRecord,
) -> Result<LoginOutcome, ApiError> {
    let now = core.now_ms();
    let auth_time = now.div_euclid(1000);
    let location = authorize::complete(core, valid, user, auth_time).await?;
    let mut raw = [0u8; 32];
    core.rng.fill(&mut raw);
    let session = UiSession {
        id: URL_SAFE_NO_PAD.encode(raw),
        pool_id: valid.ctx.pool.id.clone(),
        sub: user.sub.clone(),
        auth_time,
        expires_ms: now + SESSION_TTL_MS,
    };
    core.store
        .insert_hosted_session(
            &issue::token_hash(&session.id),
            &session.pool_id,
            &session.sub,
            session.expires_ms,
        )
        .await?;
    Ok(LoginOutcome::SignedIn { location, session })
}

/// `/logout`: ends the session for every copy of its cookie.
pub async fn end_session(core: &Core, session: &UiSession) -> Result<(), ApiError> {
    if !session.id.is_empty() {
        core.store
            .delete_hosted_session(&issue::token_hash(&session.id))
            .await?;
    }
    Ok(())
}

/// Signs in with username (or alias) and password. Unknown users and wrong passwords get the
/// same answer, after the same time; lockout and user status apply as in InitiateAuth.
pub async fn password_login(
    core: &Core,
    valid: &ValidAuthorize,
    username: &str,
    password: &str,
) -> Result<LoginOutcome, ApiError> {
    if username.trim().is_empty() || password.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Enter your username and password.",
        ));
    }
    let ctx = &valid.ctx;
    let username = username.trim();
    // Unknown names count against a counter of their own, so they lock like real users.
    let user = users::find_user(core, &ctx.pool, username).await?;
    signin::check_password(core, &ctx.pool, user.as_ref(), username, password).await?;
    let user = user.ok_or_else(signin::wrong_credentials)?;
    signin::check_status(core, ctx, &user)?;
    if user.status == UserStatus::ForceChangePassword {
        let outcome = signin::after_password(core, ctx, user.clone()).await?;
        let params = outcome.challenge_parameters.unwrap_or_default();
        let required: Vec<String> = params
            .get("requiredAttributes")
            .and_then(|r| serde_json::from_str::<Vec<String>>(r).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.trim_start_matches("userAttributes.").to_owned())
            .collect();
        return Ok(LoginOutcome::NewPasswordRequired {
            session: outcome.session.unwrap_or_default(),
            username: user.username.clone(),
            required_attributes: required,
        });
    }
    signed_in(core, valid, &user).await
}

/// The attributes the new-password form asks for: those the pool requires and the user lacks.
pub async fn new_password_fields(
    core: &Core,
    valid: &ValidAuthorize,
    username: &str,
) -> Result<Vec<String>, ApiError> {
    let pool = &valid.ctx.pool;
    Ok(match users::find_user(core, pool, username).await? {
        Some(user) => schema::missing_required(
            pool.settings
                .schema_attributes
                .as_deref()
                .unwrap_or_default(),
            &user.attributes,
        ),
        None => vec![],
    })
}

/// Answers the new-password step through RespondToAuthChallenge (so the password policy and
/// attribute rules are the API's), then signs the user in. The API tokens that step mints
/// are revoked at once: the client gets its tokens through the code.
pub async fn new_password(
    core: &Core,
    valid: &ValidAuthorize,
    session: &str,
    username: &str,
    new_password: &str,
    attributes: &BTreeMap<String, String>,
) -> Result<LoginOutcome, ApiError> {
    let ctx = &valid.ctx;
    let mut responses = BTreeMap::new();
    responses.insert("USERNAME".to_owned(), username.to_owned());
    responses.insert("NEW_PASSWORD".to_owned(), new_password.to_owned());
    if let Some(secret) = &ctx.secret {
        responses.insert(
            "SECRET_HASH".to_owned(),
            client_auth::secret_hash(secret, username, &ctx.client.id),
        );
    }
    // The form asks only for the attributes the pool requires and the user lacks; anything
    // else posted is dropped, so the page can never write more than it showed.
    let required = new_password_fields(core, valid, username).await?;
    for (name, value) in attributes.iter().filter(|(n, _)| required.contains(n)) {
        responses.insert(format!("userAttributes.{name}"), value.clone());
    }
    let out = signin::respond_to_auth_challenge(
        core,
        RespondToAuthChallengeRequest {
            client_id: ctx.client.id.clone(),
            challenge_name: "NEW_PASSWORD_REQUIRED".to_owned(),
            session: Some(session.to_owned()),
            challenge_responses: Some(responses),
            ..Default::default()
        },
    )
    .await?;
    let result = out
        .authentication_result
        .ok_or_else(|| ApiError::internal("new password step did not sign the user in"))?;
    let claims = result
        .access_token
        .as_deref()
        .and_then(|t| tokens::peek_claims(t).ok());
    let claim = |name: &str| claims.as_ref()?.get(name)?.as_str().map(str::to_owned);
    if let (Some(sub), Some(origin)) = (claim("sub"), claim("origin_jti")) {
        core.store
            .revoke_origin(&ctx.pool.id, &sub, &origin)
            .await?;
    }
    let user = users::load_user(core, &ctx.pool, username).await?;
    signed_in(core, valid, &user).await
}

/// Answers a request from an existing hosted-UI session without showing a page, when the
/// session is for this pool and its user may still sign in. None: show the sign-in page.
pub async fn resume(
    core: &Core,
    valid: &ValidAuthorize,
    session: &UiSession,
) -> Result<Option<String>, ApiError> {
    let now = core.now_ms();
    if session.id.is_empty() || session.pool_id != valid.ctx.pool.id || session.expires_ms <= now {
        return Ok(None);
    }
    let live = core
        .store
        .hosted_session_live(
            &issue::token_hash(&session.id),
            &session.pool_id,
            &session.sub,
            now,
        )
        .await?;
    if !live {
        return Ok(None);
    }
    let Some(user) = core
        .store
        .get_user_by_sub(&session.pool_id, &session.sub)
        .await?
    else {
        return Ok(None);
    };
    if !user.enabled || !matches!(user.status, UserStatus::Confirmed) {
        return Ok(None);
    }
    Ok(Some(
        authorize::complete(core, valid, &user, session.auth_time).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Self-service pages: sign-up, confirmation, forgotten password. Each goes through the same
// service functions as the API operations, with SECRET_HASH computed for clients with a
// secret (the page is the client's own front end).

/// The longest value a page field may carry.
pub const MAX_FIELD_LEN: usize = 2048;

fn check_fields(fields: &[(&str, &str)]) -> Result<(), ApiError> {
    for (label, value) in fields {
        if value.trim().is_empty() {
            return Err(ApiError::invalid_parameter(format!("Enter your {label}.")));
        }
        if value.len() > MAX_FIELD_LEN {
            return Err(ApiError::invalid_parameter(format!(
                "The {label} is too long."
            )));
        }
    }
    Ok(())
}

fn secret_hash_for(valid: &ValidAuthorize, username: &str) -> Option<String> {
    valid
        .ctx
        .secret
        .as_deref()
        .map(|s| client_auth::secret_hash(s, username, &valid.ctx.client.id))
}

/// Whether the pool lets people sign themselves up.
pub fn self_sign_up_allowed(valid: &ValidAuthorize) -> bool {
    valid
        .ctx
        .pool
        .settings
        .admin_create_user_config
        .as_ref()
        .and_then(|c| c.allow_admin_create_user_only)
        != Some(true)
}

/// The attributes the sign-up page asks for besides username and password: what the pool
/// requires, and the email / phone number it verifies (so a code can reach the user), unless
/// that is what users sign in with.
pub fn sign_up_attributes(valid: &ValidAuthorize) -> Vec<String> {
    let s = &valid.ctx.pool.settings;
    let username_attrs = s.username_attributes.clone().unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for a in s.auto_verified_attributes.iter().flatten() {
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    for a in s.schema_attributes.iter().flatten() {
        let Some(name) = a.name.as_ref() else {
            continue;
        };
        let settable = name != "sub" && a.developer_only_attribute != Some(true);
        if settable && a.required == Some(true) && !out.contains(name) {
            out.push(name.clone());
        }
    }
    out.retain(|a| !username_attrs.contains(a));
    out
}

/// What sign-up led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUpOutcome {
    /// The account can sign in now.
    Confirmed,
    /// A code was sent (to `destination`, masked) and must be entered.
    NeedsConfirmation { destination: Option<String> },
}

pub async fn sign_up(
    core: &Core,
    valid: &ValidAuthorize,
    username: &str,
    password: &str,
    attributes: &BTreeMap<String, String>,
) -> Result<SignUpOutcome, ApiError> {
    check_fields(&[("username", username), ("password", password)])?;
    for (name, value) in attributes {
        check_fields(&[(name.as_str(), value.as_str())])?;
    }
    let username = username.trim();
    let out = crate::service::signup::sign_up(
        core,
        portcullis_proto::SignUpRequest {
            client_id: valid.ctx.client.id.clone(),
            secret_hash: secret_hash_for(valid, username),
            username: username.to_owned(),
            password: Some(password.to_owned()),
            user_attributes: Some(
                attributes
                    .iter()
                    .map(|(n, v)| portcullis_proto::AttributeType {
                        name: n.clone(),
                        value: Some(v.trim().to_owned()),
                    })
                    .collect(),
            ),
            ..Default::default()
        },
    )
    .await?;
    Ok(if out.user_confirmed {
        SignUpOutcome::Confirmed
    } else {
        SignUpOutcome::NeedsConfirmation {
            destination: out.code_delivery_details.and_then(|d| d.destination),
        }
    })
}

pub async fn confirm_sign_up(
    core: &Core,
    valid: &ValidAuthorize,
    username: &str,
    code: &str,
) -> Result<(), ApiError> {
    check_fields(&[("username", username), ("code", code)])?;
    let username = username.trim();
    crate::service::signup::confirm_sign_up(
        core,
        portcullis_proto::ConfirmSignUpRequest {
            client_id: valid.ctx.client.id.clone(),
            secret_hash: secret_hash_for(valid, username),
            username: username.to_owned(),
            confirmation_code: code.trim().to_owned(),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// Sends a password reset code if the name leads to a user who can receive one. The page
/// answers alike whatever happened (unknown, disabled, no verified channel, a limit reached,
/// a failed delivery), so only a malformed field is an error here; the rest is logged.
pub async fn forgot_password(
    core: &Core,
    valid: &ValidAuthorize,
    username: &str,
) -> Result<(), ApiError> {
    check_fields(&[("username", username)])?;
    let username = username.trim();
    let outcome = crate::service::signup::forgot_password_hiding(
        core,
        portcullis_proto::ForgotPasswordRequest {
            client_id: valid.ctx.client.id.clone(),
            secret_hash: secret_hash_for(valid, username),
            username: username.to_owned(),
            ..Default::default()
        },
        Some(true),
    )
    .await;
    if let Err(e) = outcome {
        tracing::info!(pool_id = %valid.ctx.pool.id, error = %e.code.as_str(), "hosted reset request not served");
    }
    Ok(())
}

/// The hosted reset form never reveals whether the account exists, whatever the client's
/// PreventUserExistenceErrors says.
pub async fn confirm_forgot_password(
    core: &Core,
    valid: &ValidAuthorize,
    username: &str,
    code: &str,
    password: &str,
) -> Result<(), ApiError> {
    check_fields(&[
        ("username", username),
        ("code", code),
        ("new password", password),
    ])?;
    let username = username.trim();
    crate::service::signup::confirm_forgot_password_hiding(
        core,
        portcullis_proto::ConfirmForgotPasswordRequest {
            client_id: valid.ctx.client.id.clone(),
            secret_hash: secret_hash_for(valid, username),
            username: username.to_owned(),
            confirmation_code: code.trim().to_owned(),
            password: password.to_owned(),
            ..Default::default()
        },
        Some(true),
    )
    .await?;
    Ok(())
}
