//! Records as the store keeps them. Settings that Cognito returns whole (a pool's
//! configuration, a client's) are kept as the wire shape itself, so Describe returns exactly
//! what Create and Update stored.

use std::collections::BTreeMap;

use portcullis_proto::{UserPoolClientType, UserPoolType};

#[derive(Debug, Clone, PartialEq)]
pub struct PoolRecord {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// The pool as DescribeUserPool shows it, minus the fields computed on read
    /// (EstimatedNumberOfUsers).
    pub settings: UserPoolType,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    pub id: String,
    pub pool_id: String,
    pub name: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// Sealed with the master key; never stored in the clear.
    pub secret_sealed: Option<Vec<u8>>,
    /// The client as DescribeUserPoolClient shows it, without `ClientSecret`.
    pub settings: UserPoolClientType,
}

/// Lookup keys derived from a user's attributes and the pool's rules (case folding, which
/// attributes are sign-in aliases). The store enforces their uniqueness per pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserKeys {
    pub username: String,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub preferred_username: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub pool_id: String,
    /// The username as Cognito shows it (a UUID equal to `sub` in email/phone-as-username pools).
    pub username: String,
    pub sub: String,
    pub status: UserStatus,
    pub enabled: bool,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// Every attribute, `sub` and `*_verified` included, values as strings as on the wire.
    pub attributes: BTreeMap<String, String>,
    /// PHC string (argon2id).
    pub password_hash: Option<String>,
    /// When the current password was set; temporary passwords expire from here.
    pub password_set_ms: Option<i64>,
    /// The SRP salt and verifier of the current password, sealed with the master key.
    pub srp_sealed: Option<Vec<u8>>,
    pub keys: UserKeys,
    /// Bumped by the store on every update; an update made from an older copy is refused
    /// (`StoreError::Stale`), so concurrent changes are never silently lost.
    pub version: i64,
}

impl UserRecord {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
    pub fn is_verified(&self, attribute: &str) -> bool {
        self.attr(&format!("{attribute}_verified")) == Some("true")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
    ResetRequired,
    ExternalProvider,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ResetRequired => "RESET_REQUIRED",
            UserStatus::ExternalProvider => "EXTERNAL_PROVIDER",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "UNCONFIRMED" => UserStatus::Unconfirmed,
            "CONFIRMED" => UserStatus::Confirmed,
            "FORCE_CHANGE_PASSWORD" => UserStatus::ForceChangePassword,
            "RESET_REQUIRED" => UserStatus::ResetRequired,
            "EXTERNAL_PROVIDER" => UserStatus::ExternalProvider,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupRecord {
    pub pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// Why a one-time code was issued; a code answers only its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    SignUp,
    ForgotPassword,
    VerifyEmail,
    VerifyPhone,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::SignUp => "sign_up",
            CodePurpose::ForgotPassword => "forgot_password",
            CodePurpose::VerifyEmail => "verify_email",
            CodePurpose::VerifyPhone => "verify_phone",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CodeRecord {
    pub pool_id: String,
    pub sub: String,
    pub purpose: CodePurpose,
    /// HMAC-SHA256 of the code under a key derived from the master key and bound to the
    /// user's sub and the purpose; codes are never stored in the clear.
    pub code_hash: String,
    pub expires_ms: i64,
    /// A new email or phone number waiting for this code before it replaces the old one
    /// (AttributesRequireVerificationBeforeUpdate).
    pub pending_value: Option<String>,
    /// The code this one replaced, so a stale code is told apart from a wrong one. Kept by
    /// the store; ignored when writing.
    pub previous_hash: Option<String>,
}

/// A ListUsers filter after parsing: one attribute, exact or prefix match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    pub field: FilterField,
    pub prefix: bool,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterField {
    Username,
    Email,
    PhoneNumber,
    Name,
    GivenName,
    FamilyName,
    PreferredUsername,
    Sub,
    /// `cognito:user_status`
    UserStatus,
    /// `status`: Enabled / Disabled
    Enabled,
}

/// One RSA signing key of a pool. Each pool has one for ID tokens and one for access
/// tokens, as Cognito does; more may exist during a rotation.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub pool_id: String,
    pub kid: String,
    /// `id` or `access`.
    pub token_use: String,
    /// PKCS#8 DER of the private key, sealed with the master key.
    pub private_sealed: Vec<u8>,
    /// Base64url modulus and exponent, published in the JWKS.
    pub n: String,
    pub e: String,
    pub created_ms: i64,
}

/// A refresh token is an opaque random string; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub sub: String,
    /// Shared by every token minted from this sign-in; revocation follows it.
    pub origin_jti: String,
    /// Seconds, the original sign-in time carried into refreshed tokens.
    pub auth_time: i64,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked: bool,
    /// When rotation replaced this token; reuse after the grace period is refused.
    pub rotated_ms: Option<i64>,
}

/// State kept between InitiateAuth and RespondToAuthChallenge. Lives in the store so any
/// node can answer the second call.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSessionRecord {
    /// SHA-256 of the Session string handed to the client.
    pub id_hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub sub: String,
    pub challenge: String,
    /// Sealed JSON with the challenge's private state (for SRP, the server secret b).
    pub state_sealed: Vec<u8>,
    pub expires_ms: i64,
}

/// Failed sign-ins of a user, for the growing lockout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInFailures {
    pub failures: i64,
    pub locked_until_ms: i64,
}

/// The lockout schedule the store applies when it counts an attempt (see
/// `service::lockout` for the policy and why). The store needs the numbers because counting,
/// locking and forgetting happen in one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutSchedule {
    /// Failures counted before the first lock; at least 2.
    pub free_failures: i64,
    /// The first lock, doubled for each further failure.
    pub first_lock_ms: i64,
    /// The longest lock.
    pub max_lock_ms: i64,
    /// A count with no failure for this long starts again from zero.
    pub forget_after_ms: i64,
}
