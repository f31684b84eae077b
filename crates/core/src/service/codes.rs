//! One-time codes (sign-up confirmation, password reset, attribute verification): six
//! digits, stored only as a keyed hash, single use, superseded by the next code.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::context::Core;
use crate::domain::{CodePurpose, CodeRecord, PoolRecord, UserRecord};
use crate::error::{ApiError, ErrorCode};
use crate::messages::{self, Channel, Message};
use crate::rng::{DIGITS, random_string};

const HOUR_MS: i64 = 3_600_000;

pub fn lifetime_ms(purpose: CodePurpose) -> i64 {
    match purpose {
        CodePurpose::ForgotPassword => HOUR_MS,
        CodePurpose::SignUp | CodePurpose::VerifyEmail | CodePurpose::VerifyPhone => 24 * HOUR_MS,
    }
}

/// Keyed by the user's sub and purpose, so equal codes of two users hash differently.
pub fn hash_code(sub: &str, purpose: CodePurpose, code: &str) -> String {
    let key = format!("{}:{sub}", purpose.as_str());
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(code.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length; this arm cannot run.
        Err(_) => String::new(),
    }
}

/// Which channel account recovery uses for this user, per the pool's AccountRecoverySetting
/// (legacy default: a verified phone first, then a verified email).
pub fn recovery_channel(pool: &PoolRecord, user: &UserRecord) -> Option<Channel> {
    let mechanisms: Vec<String> = match &pool.settings.account_recovery_setting {
        Some(s) => {
            let mut list = s.recovery_mechanisms.clone().unwrap_or_default();
            list.sort_by_key(|m| m.priority);
            list.into_iter().map(|m| m.name).collect()
        }
        None => vec![
            "verified_phone_number".to_owned(),
            "verified_email".to_owned(),
        ],
    };
    mechanisms.iter().find_map(|m| match m.as_str() {
        "verified_email" if user.is_verified("email") && user.attr("email").is_some() => {
            Some(Channel::Email)
        }
        "verified_phone_number"
            if user.is_verified("phone_number") && user.attr("phone_number").is_some() =>
        {
            Some(Channel::Sms)
        }
        _ => None,
    })
}

fn template(pool: &PoolRecord, purpose: CodePurpose, channel: Channel) -> (Option<String>, String) {
    let t = pool
        .settings
        .verification_message_template
        .clone()
        .unwrap_or_default();
    match (purpose, channel) {
        (CodePurpose::ForgotPassword, Channel::Email) => (
            Some(messages::DEFAULT_RESET_SUBJECT.to_owned()),
            messages::DEFAULT_RESET_MESSAGE.to_owned(),
        ),
        (CodePurpose::ForgotPassword, Channel::Sms) => {
            (None, messages::DEFAULT_RESET_MESSAGE.to_owned())
        }
        (_, Channel::Email) => (
            Some(
                t.email_subject
                    .unwrap_or_else(|| messages::DEFAULT_VERIFICATION_SUBJECT.to_owned()),
            ),
            t.email_message
                .unwrap_or_else(|| messages::DEFAULT_VERIFICATION_MESSAGE.to_owned()),
        ),
        (_, Channel::Sms) => (
            None,
            t.sms_message
                .unwrap_or_else(|| messages::DEFAULT_VERIFICATION_MESSAGE.to_owned()),
        ),
    }
}

/// Stores a fresh code (superseding any earlier one) and delivers it. Returns the masked
/// destination for CodeDeliveryDetails.
pub async fn issue_and_send(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<String, ApiError> {
    issue_for_value(core, pool, user, purpose, channel, None).await
}

/// Like [`issue_and_send`], but for a new value that replaces the attribute only once the
/// code is redeemed; the code goes to that new value.
pub async fn issue_for_value(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    purpose: CodePurpose,
    channel: Channel,
    pending_value: Option<String>,
) -> Result<String, ApiError> {
    let destination = pending_value
        .clone()
        .or_else(|| user.attr(channel.attribute()).map(str::to_owned))
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "The user has no {} to send a code to.",
                channel.attribute()
            ))
        })?;
    let code = random_string(core.rng.as_ref(), DIGITS, 6);
    core.store
        .put_code(&CodeRecord {
            pool_id: pool.id.clone(),
            sub: user.sub.clone(),
            purpose,
            code_hash: hash_code(&user.sub, purpose, &code),
            expires_ms: core.now_ms() + lifetime_ms(purpose),
            attempts: 0,
            pending_value,
            previous_hash: None,
        })
        .await?;
    let (subject, body) = template(pool, purpose, channel);
    let message = Message {
        pool_id: pool.id.clone(),
        username: user.username.clone(),
        destination: destination.clone(),
        channel,
        purpose: purpose.as_str().to_owned(),
        code: Some(code.clone()),
        subject,
        body: messages::render(&body, &user.username, &code),
    };
    core.messages.send(&message).await.map_err(|e| {
        tracing::warn!(pool_id = %pool.id, error = %e, "code delivery failed");
        ApiError::new(
            ErrorCode::CodeDeliveryFailureException,
            "Unable to deliver the verification code.",
        )
    })?;
    Ok(messages::mask_destination(channel, &destination))
}

/// Wrong guesses allowed per code; after them the code is dead and a new one is needed.
pub const MAX_ATTEMPTS: i64 = 5;

/// Checks a code and uses it up, returning the value it was verifying if it held one back.
/// Wrong guesses count; the counter is all a failure changes.
pub async fn redeem(
    core: &Core,
    pool_id: &str,
    sub: &str,
    purpose: CodePurpose,
    given: &str,
) -> Result<Option<String>, ApiError> {
    let expired = || {
        ApiError::new(
            ErrorCode::ExpiredCodeException,
            "Invalid code provided, please request a code again.",
        )
    };
    let record = core
        .store
        .get_code(pool_id, sub, purpose)
        .await?
        .ok_or_else(expired)?;
    if record.expires_ms <= core.now_ms() {
        return Err(expired());
    }
    if record.attempts >= MAX_ATTEMPTS {
        return Err(ApiError::new(
            ErrorCode::TooManyFailedAttemptsException,
            "Too many failed attempts for this code; request a new one.",
        ));
    }
    let candidate = hash_code(sub, purpose, given.trim());
    let superseded = record.previous_hash.as_ref().is_some_and(|p| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            candidate.as_bytes(),
            p.as_bytes(),
        ))
    });
    if superseded {
        return Err(expired());
    }
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        candidate.as_bytes(),
        record.code_hash.as_bytes(),
    )) {
        core.store.bump_code_attempts(pool_id, sub, purpose).await?;
        return Err(ApiError::new(
            ErrorCode::CodeMismatchException,
            "Invalid verification code provided, please try again.",
        ));
    }
    core.store.delete_code(pool_id, sub, purpose).await?;
    Ok(record.pending_value)
}
