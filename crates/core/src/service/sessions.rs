//! Challenge sessions: the state between InitiateAuth and RespondToAuthChallenge, kept in
//! the store (sealed) so that any node can answer either call, and usable once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::client_auth::ClientContext;
use super::issue::token_hash;
use crate::context::Core;
use crate::domain::{AuthSessionRecord, UserRecord};
use crate::error::{ApiError, ErrorCode};

fn context(id_hash: &str) -> String {
    format!("auth-session:{id_hash}")
}

/// Stores a session and returns the opaque string the client carries.
pub async fn open<S: Serialize>(
    core: &Core,
    ctx: &ClientContext,
    user: &UserRecord,
    challenge: &str,
    state: &S,
) -> Result<String, ApiError> {
    let mut raw = [0u8; 48];
    core.rng.fill(&mut raw);
    let session = URL_SAFE_NO_PAD.encode(raw);
    let id_hash = token_hash(&session);
    let minutes = ctx
        .client
        .settings
        .auth_session_validity
        .unwrap_or(3)
        .clamp(3, 15);
    let state = serde_json::to_vec(state).map_err(ApiError::internal)?;
    core.store
        .put_session(&AuthSessionRecord {
            id_hash: id_hash.clone(),
            pool_id: ctx.pool.id.clone(),
            client_id: ctx.client.id.clone(),
            sub: user.sub.clone(),
            challenge: challenge.to_owned(),
            state_sealed: core
                .sealer
                .seal(core.rng.as_ref(), &context(&id_hash), &state),
            expires_ms: core.now_ms() + minutes * 60_000,
        })
        .await?;
    Ok(session)
}

pub fn invalid_session() -> ApiError {
    ApiError::new(
        ErrorCode::NotAuthorizedException,
        "Invalid session for the user, session is expired.",
    )
}

/// A live session of this client for this challenge, with its state. Does not consume it.
pub async fn load<S: DeserializeOwned>(
    core: &Core,
    ctx: &ClientContext,
    session: &str,
    challenge: &str,
) -> Result<(AuthSessionRecord, S), ApiError> {
    let id_hash = token_hash(session);
    let record = core
        .store
        .get_session(&id_hash)
        .await?
        .ok_or_else(invalid_session)?;
    if record.client_id != ctx.client.id || record.pool_id != ctx.pool.id {
        return Err(invalid_session());
    }
    if record.expires_ms <= core.now_ms() {
        return Err(invalid_session());
    }
    if record.challenge != challenge {
        return Err(ApiError::invalid_parameter(format!(
            "The challenge name {challenge} does not match the session's challenge."
        )));
    }
    let state = core
        .sealer
        .open(&context(&id_hash), &record.state_sealed)
        .map_err(ApiError::internal)?;
    let state = serde_json::from_slice(&state).map_err(ApiError::internal)?;
    Ok((record, state))
}

/// Uses the session up; of two concurrent answers, only one gets through.
pub async fn consume(core: &Core, record: &AuthSessionRecord) -> Result<(), ApiError> {
    if core.store.consume_session(&record.id_hash).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            "Invalid session for the user, session can only be used once.",
        ))
    }
}
