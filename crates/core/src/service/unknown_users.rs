//! What a sign-in name that matches no user looks like, when the app client asks Cognito not to
//! reveal which users exist (PreventUserExistenceErrors=ENABLED) and on the hosted login page.
//!
//! An unknown name must answer like a real user's: the same canonical form echoed back, an SRP
//! user id of the same shape, a salt that stays the same from one attempt to the next, and a
//! failure counter that locks after as many wrong passwords. Everything here is derived from
//! the name with keys from `Sealer::subkey`, so it agrees across restarts and across nodes that
//! share the master key, and nothing about unknown names needs storing except their counter
//! (kept under a keyed hash, so attempted names never reach the database in clear).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::users::PoolRules;
use crate::context::Core;
use crate::domain::PoolRecord;

/// Counter keys of unknown names start with this; real users' keys are their `sub` (a UUID),
/// so the two can never meet.
const COUNTER_PREFIX: &str = "unknown:";

fn keyed(core: &Core, purpose: &str, pool_id: &str, canonical: &str) -> [u8; 32] {
    let key = core.sealer.subkey(purpose);
    // HMAC takes keys of any length; a 32-byte one is always accepted.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(&key) {
        Ok(mac) => mac,
        Err(_) => return [0u8; 32],
    };
    mac.update(pool_id.as_bytes());
    mac.update(&[0]);
    mac.update(canonical.as_bytes());
    mac.finalize().into_bytes().into()
}

fn signs_in_with(rules: &PoolRules, attribute: &str) -> bool {
    rules.username_attributes.iter().any(|a| a == attribute)
        || rules.alias_attributes.iter().any(|a| a == attribute)
}

/// The form a real user's lookup would fold `name` to: email addresses in lower case when email
/// signs users in, usernames in lower case when the pool ignores case. `bob` and `BOB` are one
/// name in a case-insensitive pool, two in a case-sensitive one, exactly as for real users.
pub fn canonical(pool: &PoolRecord, name: &str) -> String {
    let rules = PoolRules::of(pool);
    if name.contains('@') && signs_in_with(&rules, "email") {
        name.to_lowercase()
    } else {
        rules.username_key(name)
    }
}

/// The failure-counter key of an unknown name (see `lockout`).
pub fn counter_key(core: &Core, pool_id: &str, canonical: &str) -> String {
    let mac = keyed(core, "sign-in-unknown-name", pool_id, canonical);
    format!("{COUNTER_PREFIX}{}", hex::encode(&mac[..16]))
}

/// The SRP salt shown for an unknown name: 16 bytes like a real salt, stable for the name.
pub fn srp_salt(core: &Core, pool_id: &str, canonical: &str) -> Vec<u8> {
    keyed(core, "srp-decoy-salt", pool_id, canonical)[..16].to_vec()
}

/// The USERNAME / USER_ID_FOR_SRP echoed for an unknown name. A real user's is the stored
/// username: a UUID in pools where email or phone is the username, and also whenever the name
/// was an email or phone alias (the answer then names the user, not the alias). An unknown name
/// gets a stable keyed UUID in those cases, and its canonical form otherwise, as a real
/// username would come back.
pub fn srp_user_id(core: &Core, pool: &PoolRecord, canonical: &str) -> String {
    let rules = PoolRules::of(pool);
    let alias_form = (canonical.contains('@') && signs_in_with(&rules, "email"))
        || (canonical.starts_with('+') && signs_in_with(&rules, "phone_number"));
    if !rules.username_attributes.is_empty() || alias_form {
        let mac = keyed(core, "srp-decoy-user-id", &pool.id, canonical);
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&mac[..16]);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    } else {
        canonical.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use portcullis_proto::{UserPoolType, UsernameConfigurationType};

    use super::*;

    fn pool(settings: UserPoolType) -> PoolRecord {
        PoolRecord {
            id: "us-east-1_Test".to_owned(),
            name: "test".to_owned(),
            created_ms: 0,
            modified_ms: 0,
            settings,
        }
    }

    #[test]
    fn canonical_names_fold_as_user_lookups_do() {
        let strict = pool(UserPoolType::default());
        assert_eq!(canonical(&strict, "Bob"), "Bob");
        // No email sign-in: an address is just a (case-sensitive) username.
        assert_eq!(canonical(&strict, "Bob@Example.com"), "Bob@Example.com");
        let folding = pool(UserPoolType {
            username_configuration: Some(UsernameConfigurationType {
                case_sensitive: false,
            }),
            ..UserPoolType::default()
        });
        assert_eq!(canonical(&folding, "Bob"), "bob");
        assert_eq!(canonical(&folding, "BOB"), canonical(&folding, "bob"));
        // Email sign-in folds addresses even in a case-sensitive pool, as the alias key does.
        for settings in [
            UserPoolType {
                username_attributes: Some(vec!["email".to_owned()]),
                ..UserPoolType::default()
            },
            UserPoolType {
                alias_attributes: Some(vec!["email".to_owned()]),
                ..UserPoolType::default()
            },
        ] {
            let email = pool(settings);
            assert_eq!(canonical(&email, "Bob@Example.COM"), "bob@example.com");
            assert_eq!(canonical(&email, "Bob"), "Bob");
        }
    }
}
