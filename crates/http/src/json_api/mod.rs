//! `POST /` with `X-Amz-Target`: Cognito's JSON 1.1 protocol.
//!
//! Order of checks, as AWS does them: the operation must exist, the caller of an
//! IAM-authorized operation must be signed, the body must be JSON of the right types, the
//! values must meet the model's constraints; only then does core see the request.

mod dispatch;
pub mod error;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Uri};
use axum::response::{IntoResponse, Response};
use portcullis_proto::{OPERATIONS, OperationInfo};
use serde_json::Value;

use crate::sigv4::{self, SignedRequest};
use crate::{AdminAuth, AppState};
pub use error::WireError;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const IDP_TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

fn operation(headers: &HeaderMap) -> Result<&'static OperationInfo, WireError> {
    let unknown = || WireError::new(400, "UnknownOperationException", "");
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unknown)?;
    let name = target.strip_prefix(IDP_TARGET_PREFIX).ok_or_else(unknown)?;
    // OPERATIONS is sorted by name (the proto tests hold it to that).
    OPERATIONS
        .binary_search_by(|op| op.name.cmp(name))
        .map(|i| &OPERATIONS[i])
        .map_err(|_| unknown())
}

fn check_content_type(headers: &HeaderMap) -> Result<(), WireError> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim();
    let accepted = [
        "application/x-amz-json-1.1",
        "application/x-amz-json-1.0",
        "application/json",
    ];
    if accepted.iter().any(|a| a.eq_ignore_ascii_case(media)) {
        return Ok(());
    }
    Err(WireError::new(
        400,
        "SerializationException",
        format!("Unsupported Content-Type: {ct:?}; expected {CONTENT_TYPE}."),
    ))
}

fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), WireError> {
    match &state.admin_auth {
        AdminAuth::AcceptAny => Ok(()),
        AdminAuth::Root(creds) => {
            let req = SignedRequest {
                method: method.as_str(),
                uri,
                headers,
                body,
            };
            let now = state.core.now_ms().div_euclid(1000);
            let region = state.core.settings.region.as_str();
            sigv4::verify_in_region(&req, creds, now, &["cognito-idp"], region)
                .map(|_| ())
                .map_err(|e| WireError::new(e.status(), e.error_type(), e.message()))
        }
    }
}

fn parse_body(body: &[u8]) -> Result<Value, WireError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        WireError::new(
            400,
            "SerializationException",
            format!("Malformed JSON body: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(WireError::new(
            400,
            "SerializationException",
            "The request body must be a JSON object.",
        ));
    }
    Ok(value)
}

/// Takes the request whole: axum's `HeaderMap` extractor would copy every header.
pub async fn handle(State(state): State<AppState>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    match serve(&state, &parts.method, &parts.uri, &parts.headers, body).await {
        Ok(body) => {
            let mut res = body.into_response();
            res.headers_mut()
                .insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
            res
        }
        Err(e) => e.into_response(),
    }
}

async fn serve(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, WireError> {
    let op = operation(headers)?;
    let body = read_body(body, state.limits.max_body_bytes).await?;
    if !op.unauthenticated {
        authenticate(state, method, uri, headers, &body)?;
    }
    check_content_type(headers)?;
    let mut value = parse_body(&body)?;
    drop_nulls(&mut value);
    state
        .model
        .validate_input(op.name, &value)
        .map_err(|e| WireError::new(400, e.aws_error_code(), e.message()))?;
    throttle_client(state, op.name, &value)?;
    dispatch::call(&state.core, op.name, value).await
}

/// The app client's bucket of the operation's quota category (the source's was checked
/// before the request was read; see `rate_limit`).
fn throttle_client(state: &AppState, op: &str, value: &Value) -> Result<(), WireError> {
    let Some(category) = crate::rate_limit::Category::of_operation(op) else {
        return Ok(());
    };
    let Some(client_id) = value.get("ClientId").and_then(Value::as_str) else {
        return Ok(());
    };
    if state.rate_limits.allow_client(category, client_id) {
        Ok(())
    } else {
        Err(WireError::new(
            400,
            "TooManyRequestsException",
            "Rate exceeded",
        ))
    }
}

/// A JSON `null` member means "absent", in structures and in maps alike:
/// amazon-cognito-identity-js sends `"DEVICE_KEY": null` in AuthParameters whenever no device
/// is remembered, and Cognito accepts it. Required members that are null are then reported
/// as missing by the validator.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, WireError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        WireError::new(
            413,
            "RequestEntityTooLargeException",
            format!("The request body is larger than the {limit} byte limit."),
        )
    })
}
