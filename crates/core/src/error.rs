//! The typed domain error. The HTTP edge turns it into Cognito's JSON error
//! (`__type`, `message`, `x-amzn-ErrorType`); clients key off these names.

use std::fmt;

macro_rules! error_codes {
    ($($name:ident),* $(,)?) => {
        /// Cognito's exception names, exactly as they travel in `__type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($name),* }

        impl ErrorCode {
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name)),* }
            }
        }
    };
}

error_codes! {
    AliasExistsException,
    CodeDeliveryFailureException,
    CodeMismatchException,
    ConcurrentModificationException,
    ExpiredCodeException,
    GroupExistsException,
    InternalErrorException,
    InvalidOAuthFlowException,
    InvalidParameterException,
    InvalidPasswordException,
    InvalidUserPoolConfigurationException,
    LimitExceededException,
    NotAuthorizedException,
    PasswordHistoryPolicyViolationException,
    PasswordResetRequiredException,
    RefreshTokenReuseException,
    ResourceNotFoundException,
    ScopeDoesNotExistException,
    SerializationException,
    TooManyFailedAttemptsException,
    TooManyRequestsException,
    UnauthorizedException,
    UnknownOperationException,
    UnsupportedOperationException,
    UnsupportedTokenTypeException,
    UnsupportedUserStateException,
    UserNotConfirmedException,
    UserNotFoundException,
    UsernameExistsException,
}

impl ErrorCode {
    /// Cognito answers every modelled client error with 400 and its own failures with 500.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InternalErrorException => 500,
            _ => 400,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterException, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceNotFoundException, message)
    }
    pub fn user_not_found() -> Self {
        Self::new(ErrorCode::UserNotFoundException, "User does not exist.")
    }
    pub fn pool_not_found(pool_id: &str) -> Self {
        Self::not_found(format!("User pool {pool_id} does not exist."))
    }
    pub fn client_not_found(client_id: &str) -> Self {
        Self::not_found(format!("User pool client {client_id} does not exist."))
    }
    pub fn group_not_found() -> Self {
        Self::not_found("Group not found.")
    }
    /// A failure of ours, not the caller's. The detail goes to the log, never to the client.
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            ErrorCode::InternalErrorException,
            "An internal error occurred.",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;
