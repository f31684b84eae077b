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

/// ForgotPassword's medium: the pool's AccountRecoverySetting decides. A pool with neither a
/// setting nor an auto-verified attribute has users verified by an administrator, nearly
/// always by email, so email then (the legacy order would say phone first).
pub fn recovery_medium(pool: &PoolRecord, name: &str) -> Channel {
    let s = &pool.settings;
    if s.account_recovery_setting.is_none()
        && s.auto_verified_attributes
            .as_ref()
            .is_none_or(Vec::is_empty)
    {
        return medium(pool, name, &[Channel::Email]);
    }
    medium(pool, name, &super::recovery_order(pool))
}

/// ResendConfirmationCode's medium: the auto-verified attributes decide, email first, as for
/// a real user.
pub fn confirmation_medium(pool: &PoolRecord, name: &str) -> Channel {
    medium(pool, name, &[Channel::Email, Channel::Sms])
}

/// The simulated destination, unmasked only as far as the mask keeps characters.
fn destination(core: &Core, pool: &PoolRecord, name: &str, channel: Channel) -> String {
    simulated_destination(
        &core.sealer.subkey("code-decoy-destination"),
        pool,
        name,
        channel,
    )
}

/// An email address or phone number names itself; anything else gets letters or digits
/// drawn from a keyed hash of the pool and the name.
fn simulated_destination(
    key: &[u8; 32],
    pool: &PoolRecord,
    name: &str,
    channel: Channel,
) -> String {
    let trimmed = name.trim();
    match channel {
        Channel::Email if trimmed.contains('@') => trimmed.to_owned(),
        Channel::Sms if looks_like_phone(trimmed) => trimmed.to_owned(),
        _ => {
            let hash = keyed_hex(key, &[&pool.id, &canonical(pool, name)]);
            let bytes = hex::decode(&hash).unwrap_or_default();
            let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
            let letter = |i: usize| char::from(b'a' + byte(i) % 26);
            match channel {
                Channel::Email => format!("{}x@{}x.com", letter(0), letter(1)),
                Channel::Sms => {
                    let n = (u32::from(byte(2)) << 8) | u32::from(byte(3));
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pool(settings: serde_json::Value) -> PoolRecord {
        PoolRecord {
            id: "us-east-1_Test".to_owned(),
            name: "test".to_owned(),
            created_ms: 0,
            modified_ms: 0,
            settings: serde_json::from_value::<portcullis_proto::UserPoolType>(settings).unwrap(),
        }
    }

    #[test]
    fn phone_format() {
        assert!(looks_like_phone("+12065550100"));
        assert!(!looks_like_phone("+"));
        assert!(!looks_like_phone("12065550100"));
        assert!(!looks_like_phone("+1206x"));
    }

    #[test]
    fn medium_follows_the_name_then_the_pool() {
        let legacy = pool(serde_json::json!({}));
        assert_eq!(recovery_medium(&legacy, "a@b.example"), Channel::Email);
        assert_eq!(recovery_medium(&legacy, "+12065550100"), Channel::Sms);
        // Nothing verified automatically: administrators verify emails.
        assert_eq!(recovery_medium(&legacy, "bob"), Channel::Email);
        // Legacy recovery order, both verified: phone first, as for a real user with both.
        let both = pool(serde_json::json!({"AutoVerifiedAttributes": ["email", "phone_number"]}));
        assert_eq!(recovery_medium(&both, "bob"), Channel::Sms);
        let email_first = pool(serde_json::json!({
            "AccountRecoverySetting": {"RecoveryMechanisms": [
                {"Name": "verified_email", "Priority": 1},
                {"Name": "verified_phone_number", "Priority": 2},
            ]},
        }));
        assert_eq!(recovery_medium(&email_first, "bob"), Channel::Email);
        // A pool that verifies only phone numbers cannot have email-reachable users.
        let phones = pool(serde_json::json!({
            "AccountRecoverySetting": {"RecoveryMechanisms": [
                {"Name": "verified_email", "Priority": 1},
                {"Name": "verified_phone_number", "Priority": 2},
            ]},
            "AutoVerifiedAttributes": ["phone_number"],
        }));
        assert_eq!(recovery_medium(&phones, "bob"), Channel::Sms);
        assert_eq!(confirmation_medium(&phones, "bob"), Channel::Sms);
        assert_eq!(confirmation_medium(&legacy, "bob"), Channel::Email);
    }

    #[test]
    fn destinations_are_stable_varied_and_keyed() {
        let p = pool(serde_json::json!({"UsernameConfiguration": {"CaseSensitive": false}}));
        let key = [7u8; 32];
        let d = |name: &str| {
            mask_destination(
                Channel::Email,
                &simulated_destination(&key, &p, name, Channel::Email),
            )
        };
        assert_eq!(d("ghost"), d("ghost"));
        // The pool folds case, so the name's case does not show.
        assert_eq!(d("ghost"), d("GHOST"));
        let all: std::collections::HashSet<String> =
            (0..50).map(|i| d(&format!("user{i}"))).collect();
        assert!(all.len() > 10, "{all:?}");
        assert!(all.iter().all(|m| m.len() == 9 && m.contains("***@")));
        // Without the key nobody can predict them: other keys give other answers.
        let under_keys: std::collections::HashSet<String> = (0..20u8)
            .map(|i| simulated_destination(&[i; 32], &p, "ghost", Channel::Email))
            .collect();
        assert!(under_keys.len() > 5, "{under_keys:?}");
        // Email addresses and phone numbers stand for themselves.
        assert_eq!(
            simulated_destination(&key, &p, "amy@example.com", Channel::Email),
            "amy@example.com"
        );
        let sms = simulated_destination(&key, &p, "ghost", Channel::Sms);
        assert!(sms.starts_with("+1206555") && sms.len() == 12, "{sms}");
        assert_eq!(mask_destination(Channel::Sms, &sms).len(), 12);
    }
}
