//! Answers for names that lead to no deliverable user (unknown, disabled, or without a
//! verified channel) when the app client has PreventUserExistenceErrors=ENABLED. Cognito
//! then answers "as if": a CodeDeliveryDetails whose medium follows the name's format and the
//! pool's settings, and CodeMismatchException for a code. To be worth anything the simulation
//! must be indistinguishable from the real answer:
//! - the destination is a plausible mask (`k***@q***`, `+*******4821`) derived from the name
//!   with a keyed hash: the same name always gets the same one, two names rarely share it,
//!   and nobody without the master key can tell it from a real user's;
//! - the name is counted against the same issue and attempt allowances a user would be, so
//!   LimitExceededException arrives at the same call for real and simulated users.

use portcullis_proto::CodeDeliveryDetailsType;

use super::{attempts_counter, code_mismatch, count_issue, delivery_details, keyed_hex, take};
use crate::context::Core;
use crate::domain::{CodePurpose, PoolRecord};
use crate::error::ApiError;
use crate::messages::{Channel, mask_destination};
use crate::service::users::PoolRules;

/// The counting subject of a name nobody holds: a keyed hash of the pool and the name as
/// look-ups compare it (case folded where the pool folds case, emails always).
pub fn subject(core: &Core, pool: &PoolRecord, name: &str) -> String {
    let hash = keyed_hex(
        &core.sealer.subkey("code-decoy"),
        &[&pool.id, &canonical(pool, name)],
    );
    format!("name:{}", &hash[..32.min(hash.len())])
}

fn canonical(pool: &PoolRecord, name: &str) -> String {
    let key = PoolRules::of(pool).username_key(name.trim());
    if key.contains('@') {
        key.to_lowercase()
    } else {
        key
    }
}

fn looks_like_phone(name: &str) -> bool {
    name.strip_prefix('+')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The medium a name in this format would get: its own kind for an email address or phone
/// number, else the first of `preferred` the pool verifies (or the first of `preferred`).
fn medium(pool: &PoolRecord, name: &str, preferred: &[Channel]) -> Channel {
    if name.contains('@') {
        return Channel::Email;
    }
    if looks_like_phone(name) {
        return Channel::Sms;
    }
    let verified = pool
        .settings
        .auto_verified_attributes
        .clone()
        .unwrap_or_default();
    preferred
        .iter()
        .copied()
        .find(|c| verified.iter().any(|a| a == c.attribute()))
        .or_else(|| preferred.first().copied())
        .unwrap_or(Channel::Email)
}

/// ForgotPassword's medium: the pool's AccountRecoverySetting decides.
pub fn recovery_medium(pool: &PoolRecord, name: &str) -> Channel {
    medium(pool, name, &super::recovery_order(pool))
}

/// ResendConfirmationCode's medium: the auto-verified attributes decide, email first, as for
/// a real user.
pub fn confirmation_medium(pool: &PoolRecord, name: &str) -> Channel {
    medium(pool, name, &[Channel::Email, Channel::Sms])
}

/// The simulated destination, unmasked only as far as the mask keeps characters.
fn destination(core: &Core, pool: &PoolRecord, name: &str, channel: Channel) -> String {
    let trimmed = name.trim();
    match channel {
        Channel::Email if trimmed.contains('@') => trimmed.to_owned(),
        Channel::Sms if looks_like_phone(trimmed) => trimmed.to_owned(),
        _ => {
            let hash = keyed_hex(
                &core.sealer.subkey("code-decoy-destination"),
                &[&pool.id, &canonical(pool, name)],
            );
            let bytes = hex::decode(&hash).unwrap_or_default();
            let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
            let letter = |i: usize| char::from(b'a' + byte(i) % 26);
            match channel {
                Channel::Email => format!("{}x@{}x.com", letter(0), letter(1)),
                Channel::Sms => {
                    let n = u32::from(byte(2)) << 8 | u32::from(byte(3));
                    format!("+1206555{:04}", n % 10_000)
                }
            }
        }
    }
}

/// The answer a real delivery would give, counted like one.
pub async fn issue(
    core: &Core,
    pool: &PoolRecord,
    name: &str,
    subject: &str,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<CodeDeliveryDetailsType, ApiError> {
    let to = destination(core, pool, name, channel);
    count_issue(core, &pool.id, subject, purpose, channel, &to).await?;
    Ok(delivery_details(channel, mask_destination(channel, &to)))
}

/// A redemption for a name nobody holds: counted like a real attempt, then a mismatch.
pub async fn redeem(core: &Core, pool: &PoolRecord, name: &str, purpose: CodePurpose) -> ApiError {
    let counter = attempts_counter(purpose, &subject(core, pool, name));
    let allowance = core.settings.code_limits.of(purpose).attempts;
    match take(core, &pool.id, &counter, allowance).await {
        Ok(()) => code_mismatch(),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_format() {
        assert!(looks_like_phone("+12065550100"));
        assert!(!looks_like_phone("+"));
        assert!(!looks_like_phone("12065550100"));
        assert!(!looks_like_phone("+1206x"));
    }
}
