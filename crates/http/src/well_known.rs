//! `<issuer>/.well-known/jwks.json` and `<issuer>/.well-known/openid-configuration`, with the
//! issuer `<public-url>/<poolId>`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_core::service::{issue, load_pool};
use portcullis_core::tokens;
use serde_json::json;

use crate::AppState;

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "User pool not found"})),
    )
        .into_response()
}

pub async fn jwks(State(state): State<AppState>, Path(pool_id): Path<String>) -> Response {
    if load_pool(&state.core, &pool_id).await.is_err() {
        return not_found();
    }
    match tokens::jwks(&state.core, &pool_id).await {
        Ok(keys) => Json(keys).into_response(),
        Err(e) => crate::json_api::WireError::from(e).into_response(),
    }
}

pub async fn openid_configuration(
    State(state): State<AppState>,
    Path(pool_id): Path<String>,
) -> Response {
    if load_pool(&state.core, &pool_id).await.is_err() {
        return not_found();
    }
    let issuer = issue::issuer(&state.core, &pool_id);
    let base = &state.core.settings.public_url;
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/userInfo"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "end_session_endpoint": format!("{base}/logout"),
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}
