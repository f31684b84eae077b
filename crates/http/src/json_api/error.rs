//! Cognito's JSON error: `{"__type", "message"}` with `x-amzn-ErrorType` (trailing colon, as
//! AWS sends it) and `x-amzn-ErrorMessage`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portcullis_core::ApiError;
use serde_json::json;

use super::CONTENT_TYPE;

#[derive(Debug, Clone)]
pub struct WireError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl WireError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<ApiError> for WireError {
    fn from(e: ApiError) -> Self {
        Self::new(e.code.status(), e.code.as_str(), e.message)
    }
}

impl IntoResponse for WireError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = json!({"__type": self.code, "message": self.message}).to_string();
        let mut res = (status, body).into_response();
        let h = res.headers_mut();
        h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
        if let Ok(v) = HeaderValue::from_str(&format!("{}:", self.code)) {
            h.insert("x-amzn-errortype", v);
        }
        // Header values must be visible ASCII; a message that is not is left to the body.
        if let Ok(v) = HeaderValue::from_str(&self.message) {
            h.insert("x-amzn-errormessage", v);
        }
        res
    }
}
