//! One-time codes (sign-up confirmation, password reset, attribute verification, and every
//! later kind: MFA, passwordless sign-in): six digits, stored only as a keyed hash, single
//! use, superseded by the next code. Every kind goes through [`issue`] and [`redeem`], so
//! the limits that make six digits safe hold for all of them:
//! - each redemption attempt takes one use of the user's attempt allowance for the purpose
//!   *before* the code is compared, in one store statement that refuses when the allowance is
//!   spent; the allowance is counted apart from the code, so a re-issued code buys no
//!   guesses, and concurrent guesses cannot overshoot it;
//! - each issued code takes one use of the user's issue allowance for the purpose and one of
//!   the destination's (an email address or phone number, whichever user names it).
//!
//! Past either, Cognito's LimitExceededException. The numbers live in
//! [`crate::code_limits::CodeLimits`]. Names that lead to no deliverable user (under
//! PreventUserExistenceErrors) are counted the same way under a keyed hash of the name, see
//! [`decoy`], so the limits themselves reveal nothing.

pub mod decoy;

use hmac::{Hmac, KeyInit, Mac};
use portcullis_proto::CodeDeliveryDetailsType;
use sha2::Sha256;

use crate::code_limits::Allowance;
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

/// HMAC-SHA256 under a subkey of the master key, over purpose, sub and code: a copy of the
/// database alone cannot be searched for the code, and equal codes of two users or purposes
/// hash differently. Codes stored before this key was introduced (keyed with public data
/// only) no longer match after an upgrade; they live at most a day, and users request anew.
pub fn hash_code(core: &Core, sub: &str, purpose: CodePurpose, code: &str) -> String {
    keyed_hex(
        &core.sealer.subkey("code-hmac"),
        &[purpose.as_str(), sub, code],
    )
}

/// Hex HMAC-SHA256 of the parts, each ended by a NUL so no two part lists collide.
pub(crate) fn keyed_hex(key: &[u8; 32], parts: &[&str]) -> String {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            for p in parts {
                mac.update(p.as_bytes());
                mac.update(&[0]);
            }
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length; this arm cannot run.
        Err(_) => String::new(),
    }
}

/// Cognito's answer past a code limit, for too many requests and too many guesses alike.
pub fn limit_exceeded() -> ApiError {
    ApiError::new(
        ErrorCode::LimitExceededException,
        "Attempt limit exceeded, please try after some time.",
    )
}

pub fn code_mismatch() -> ApiError {
    ApiError::new(
        ErrorCode::CodeMismatchException,
        "Invalid verification code provided, please try again.",
    )
}

pub fn expired_code() -> ApiError {
    ApiError::new(
        ErrorCode::ExpiredCodeException,
        "Invalid code provided, please request a code again.",
    )
}

pub fn delivery_details(channel: Channel, masked: String) -> CodeDeliveryDetailsType {
    CodeDeliveryDetailsType {
        destination: Some(masked),
        delivery_medium: Some(channel.as_str().to_owned()),
        attribute_name: Some(channel.attribute().to_owned()),
    }
}

/// Whom a count is kept for: a user's sub, or the keyed hash of a name that leads to no
/// deliverable user ([`decoy::subject`]).
fn attempts_counter(purpose: CodePurpose, subject: &str) -> String {
    format!("attempts:{}:{subject}", purpose.as_str())
}

fn issues_counter(purpose: CodePurpose, subject: &str) -> String {
    format!("issues:{}:{subject}", purpose.as_str())
}

/// Destinations are counted under a keyed hash, so the table holds no addresses. Email
/// addresses compare case-insensitively, as mail systems treat them.
fn destination_counter(core: &Core, channel: Channel, destination: &str) -> String {
    let normal = match channel {
        Channel::Email => destination.trim().to_lowercase(),
        Channel::Sms => destination.trim().to_owned(),
    };
    let key = core.sealer.subkey("code-destination");
    let hash = keyed_hex(&key, &[channel.as_str(), &normal]);
    format!("destination:{}", &hash[..32.min(hash.len())])
}

/// Takes one use of an allowance, or answers LimitExceededException.
async fn take(
    core: &Core,
    pool_id: &str,
    counter: &str,
    allowance: Allowance,
) -> Result<(), ApiError> {
    core.store
        .take_allowance(
            pool_id,
            counter,
            allowance.count,
            allowance.window_ms,
            core.now_ms(),
        )
        .await?
        .map(|_| ())
        .ok_or_else(limit_exceeded)
}

/// Counts one issued code for the subject and its destination. Used for real codes and for
/// simulated deliveries alike, so both cost the same writes and meet the same limits.
async fn count_issue(
    core: &Core,
    pool_id: &str,
    subject: &str,
    purpose: CodePurpose,
    channel: Channel,
    destination: &str,
) -> Result<(), ApiError> {
    let limits = &core.settings.code_limits;
    take(
        core,
        pool_id,
        &issues_counter(purpose, subject),
        limits.of(purpose).issues,
    )
    .await?;
    take(
        core,
        pool_id,
        &destination_counter(core, channel, destination),
        limits.per_destination,
    )
    .await
}

/// Which channel account recovery uses for this user, per the pool's AccountRecoverySetting
/// (legacy default: a verified phone first, then a verified email).
pub fn recovery_channel(pool: &PoolRecord, user: &UserRecord) -> Option<Channel> {
    recovery_order(pool).iter().find_map(|m| match *m {
        Channel::Email if user.is_verified("email") && user.attr("email").is_some() => {
            Some(Channel::Email)
        }
        Channel::Sms if user.is_verified("phone_number") && user.attr("phone_number").is_some() => {
            Some(Channel::Sms)
        }
        _ => None,
    })
}

/// The pool's recovery channels, first choice first (`admin_only` gives none).
pub fn recovery_order(pool: &PoolRecord) -> Vec<Channel> {
    let names: Vec<String> = match &pool.settings.account_recovery_setting {
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
    names
        .iter()
        .filter_map(|n| match n.as_str() {
            "verified_email" => Some(Channel::Email),
            "verified_phone_number" => Some(Channel::Sms),
            _ => None,
        })
        .collect()
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

/// Proof that a code's issue allowances were taken ([`allow_issue`]), for a caller that must
/// know before it writes anything: SignUp creates the user only once its code may be sent,
/// so a limit never leaves a user behind an error.
#[derive(Debug)]
pub struct Allowed(());

/// Takes the issue allowances of a code for `user` (who need not be stored yet), sent by
/// `channel` to `destination` (the attribute's value, or a value held back).
pub async fn allow_issue(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<Allowed, ApiError> {
    let destination = user.attr(channel.attribute()).unwrap_or_default();
    count_issue(core, &pool.id, &user.sub, purpose, channel, destination).await?;
    Ok(Allowed(()))
}

/// How a code reaches its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent before the call answers; a failure is CodeDeliveryFailureException.
    Inline,
    /// Handed to a background task: the answer does not wait for the mail server, so its
    /// timing does not tell a real delivery from a simulated one (PreventUserExistenceErrors).
    /// A failure is only logged.
    Queued,
}

/// What to issue.
#[derive(Debug)]
pub struct Issue {
    pub purpose: CodePurpose,
    pub channel: Channel,
    /// A new email or phone number that replaces the attribute only once the code is
    /// redeemed; the code goes to it.
    pub pending_value: Option<String>,
    pub delivery: Delivery,
    /// Set when [`allow_issue`] already counted this code.
    pub allowed: Option<Allowed>,
}

/// Stores a fresh code (superseding any earlier one) and delivers it, within the user's and
/// the destination's issue allowances. Returns the masked destination.
pub async fn issue(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    what: Issue,
) -> Result<String, ApiError> {
    let Issue {
        purpose,
        channel,
        pending_value,
        delivery,
        allowed,
    } = what;
    let destination = pending_value
        .clone()
        .or_else(|| user.attr(channel.attribute()).map(str::to_owned))
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "The user has no {} to send a code to.",
                channel.attribute()
            ))
        })?;
    if allowed.is_none() {
        count_issue(core, &pool.id, &user.sub, purpose, channel, &destination).await?;
    }
    let code = random_string(core.rng.as_ref(), DIGITS, 6);
    core.store
        .put_code(&CodeRecord {
            pool_id: pool.id.clone(),
            sub: user.sub.clone(),
            purpose,
            code_hash: hash_code(core, &user.sub, purpose, &code),
            expires_ms: core.now_ms() + lifetime_ms(purpose),
            pending_value,
            previous_hash: None,
        })
        .await?;
    let (subject, body) = template(pool, purpose, channel);
    let masked = messages::mask_destination(channel, &destination);
    let message = Message {
        pool_id: pool.id.clone(),
        username: user.username.clone(),
        destination,
        channel,
        purpose: purpose.as_str().to_owned(),
        code: Some(code.clone()),
        subject,
        body: messages::render(&body, &user.username, &code),
    };
    send(core, message, delivery).await?;
    Ok(masked)
}

async fn send(core: &Core, message: Message, delivery: Delivery) -> Result<(), ApiError> {
    let handle = match delivery {
        Delivery::Queued => tokio::runtime::Handle::try_current().ok(),
        Delivery::Inline => None,
    };
    if let Some(handle) = handle {
        let sender = core.messages.clone();
        handle.spawn(async move {
            if let Err(e) = sender.send(&message).await {
                tracing::warn!(pool_id = %message.pool_id, error = %e, "queued code delivery failed");
            }
        });
        return Ok(());
    }
    core.messages.send(&message).await.map_err(|e| {
        tracing::warn!(pool_id = %message.pool_id, error = %e, "code delivery failed");
        ApiError::new(
            ErrorCode::CodeDeliveryFailureException,
            "Unable to deliver the verification code.",
        )
    })
}

/// [`issue`], delivered inline.
pub async fn issue_and_send(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<String, ApiError> {
    issue_for_value(core, pool, user, purpose, channel, None).await
}

/// [`issue`] for a value held back until the code is redeemed, delivered inline.
pub async fn issue_for_value(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    purpose: CodePurpose,
    channel: Channel,
    pending_value: Option<String>,
) -> Result<String, ApiError> {
    issue(
        core,
        pool,
        user,
        Issue {
            purpose,
            channel,
            pending_value,
            delivery: Delivery::Inline,
            allowed: None,
        },
    )
    .await
}

/// Checks a code and uses it up, returning the value it was verifying if it held one back.
///
/// The attempt is counted first, atomically, against the user's allowance for the purpose:
/// past it even the right code is refused (LimitExceededException) until the window ends, so
/// no number of parallel or re-issued guesses gets further. A success clears the count; a
/// failure changes nothing but the count.
pub async fn redeem(
    core: &Core,
    pool_id: &str,
    sub: &str,
    purpose: CodePurpose,
    given: &str,
) -> Result<Option<String>, ApiError> {
    let counter = attempts_counter(purpose, sub);
    take(
        core,
        pool_id,
        &counter,
        core.settings.code_limits.of(purpose).attempts,
    )
    .await?;
    let record = core
        .store
        .get_code(pool_id, sub, purpose)
        .await?
        .ok_or_else(expired_code)?;
    if record.expires_ms <= core.now_ms() {
        return Err(expired_code());
    }
    let candidate = hash_code(core, sub, purpose, given.trim());
    let matches = |hash: &str| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            candidate.as_bytes(),
            hash.as_bytes(),
        ))
    };
    if record.previous_hash.as_deref().is_some_and(matches) {
        return Err(expired_code());
    }
    if !matches(&record.code_hash) {
        return Err(code_mismatch());
    }
    // Another request with the same code, or a newer code, got there first.
    if !core
        .store
        .consume_code(pool_id, sub, purpose, &record.code_hash)
        .await?
    {
        return Err(expired_code());
    }
    core.store.clear_allowance(pool_id, &counter).await?;
    Ok(record.pending_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hashes_depend_on_key_and_every_part() {
        let k = [1u8; 32];
        let base = keyed_hex(&k, &["forgot_password", "sub-1", "123456"]);
        assert_eq!(base.len(), 64);
        assert_eq!(base, keyed_hex(&k, &["forgot_password", "sub-1", "123456"]));
        assert_ne!(
            base,
            keyed_hex(&[2u8; 32], &["forgot_password", "sub-1", "123456"])
        );
        assert_ne!(base, keyed_hex(&k, &["sign_up", "sub-1", "123456"]));
        assert_ne!(base, keyed_hex(&k, &["forgot_password", "sub-2", "123456"]));
        // Parts are delimited: moving a character across a boundary changes the hash.
        assert_ne!(keyed_hex(&k, &["ab", "c"]), keyed_hex(&k, &["a", "bc"]));
    }

    #[test]
    fn limit_answer_is_cognitos() {
        let e = limit_exceeded();
        assert_eq!(e.code, ErrorCode::LimitExceededException);
        assert_eq!(
            e.message,
            "Attempt limit exceeded, please try after some time."
        );
    }
}
