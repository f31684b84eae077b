//! RFC 6749 errors (section 5.2), typed; the HTTP edge renders them as
//! `{"error": ..., "error_description": ...}` with the status each calls for.

use std::fmt;

use crate::error::ApiError;
use crate::repo::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorKind {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    UnsupportedTokenType,
    ServerError,
}

impl OAuthErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorKind::InvalidRequest => "invalid_request",
            OAuthErrorKind::InvalidClient => "invalid_client",
            OAuthErrorKind::InvalidGrant => "invalid_grant",
            OAuthErrorKind::UnauthorizedClient => "unauthorized_client",
            OAuthErrorKind::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorKind::InvalidScope => "invalid_scope",
            OAuthErrorKind::UnsupportedTokenType => "unsupported_token_type",
            OAuthErrorKind::ServerError => "server_error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub kind: OAuthErrorKind,
    pub description: String,
    /// The client authenticated (or tried to) with HTTP Basic: an `invalid_client` answer is
    /// then 401 with `WWW-Authenticate: Basic`.
    pub basic_auth: bool,
}

impl OAuthError {
    pub fn new(kind: OAuthErrorKind, description: impl Into<String>) -> Self {
        Self {
            kind,
            description: description.into(),
            basic_auth: false,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorKind::InvalidRequest, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorKind::InvalidGrant, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorKind::InvalidScope, d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorKind::UnauthorizedClient, d)
    }
    pub fn invalid_client(basic_auth: bool) -> Self {
        Self {
            kind: OAuthErrorKind::InvalidClient,
            description: "Client authentication failed.".to_owned(),
            basic_auth,
        }
    }
    /// 401 for a failed Basic authentication, 500 for our own failures, else 400.
    pub fn status(&self) -> u16 {
        match self.kind {
            OAuthErrorKind::InvalidClient if self.basic_auth => 401,
            OAuthErrorKind::ServerError => 500,
            _ => 400,
        }
    }
}

impl From<ApiError> for OAuthError {
    /// Only for failures of ours: callers map expected domain errors themselves.
    fn from(e: ApiError) -> Self {
        match e.code {
            crate::error::ErrorCode::InternalErrorException => {
                Self::new(OAuthErrorKind::ServerError, "An internal error occurred.")
            }
            _ => Self::invalid_request(e.message),
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e).into()
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}
