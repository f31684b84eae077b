//! Lockout after wrong passwords, counted so that it holds under concurrency and across nodes.
//!
//! The policy is Cognito's (cognito-wire.md 11.5): five wrong passwords are free; the fifth
//! locks the user for one second, and each further one doubles the lock, up to fifteen minutes.
//! An attempt during a lock is refused with NotAuthorizedException "Password attempts exceeded",
//! whatever the password, and neither counts nor extends the lock. A right password clears the
//! count; a count is forgotten after fifteen minutes with neither a failure nor a lock.
//!
//! Every password check (USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH, SRP's
//! PASSWORD_VERIFIER, the hosted login page, ChangePassword's previous password) counts its
//! attempt BEFORE the password is hashed, with one store statement that also refuses it when the
//! key is locked (`SessionRepo::count_attempt`), and a success takes the count back. Twenty
//! parallel guesses therefore meet the counter one after another, as twenty sequential ones do:
//! five are checked and fifteen refused. (Reading the count before the hash and writing it after
//! let every guess in flight pass the same check.) The price: an attempt's outcome is unknown
//! until it is hashed, so more than five sign-ins of ONE account in flight at the same moment
//! (within one hash, about 25 ms) are refused beyond the fifth as if locked, even with the right
//! password; the first success then clears the count. No scheme that bounds the guesses checked
//! per lock can admit a sixth attempt in flight, right or wrong.
//!
//! Targeted lockout (L11): anyone who knows a username can keep that user locked by guessing.
//! The lock is per user and for every source, as in Cognito, and no worse: a lock lasts at most
//! fifteen minutes, attempts during it do not lengthen it, and keeping a user locked takes a
//! fresh wrong guess at least every fifteen minutes. Locking per user *and source* instead would
//! let a guesser with many addresses multiply the guesses one account must withstand, which is
//! what the lock exists to bound; slowing down one noisy source is the per-source rate limiter's
//! job at the HTTP edge, in front of this.
//!
//! Names that match no user get a counter too (under PreventUserExistenceErrors=ENABLED, and
//! always on the hosted login page), keyed as `unknown_users::counter_key` says: they lock after
//! the same five failures, and cost the same store write as a real user's attempt.

use super::unknown_users;
use crate::context::Core;
use crate::domain::{LockoutSchedule, PoolRecord, UserRecord};
use crate::error::{ApiError, ErrorCode};

pub const SCHEDULE: LockoutSchedule = LockoutSchedule {
    free_failures: 5,
    first_lock_ms: 1_000,
    max_lock_ms: 15 * 60 * 1_000,
    forget_after_ms: 15 * 60 * 1_000,
};

/// Whose counter an attempt goes to: a user's, or an unknown name's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pool_id: String,
    key: String,
}

impl Counter {
    pub fn of_user(user: &UserRecord) -> Self {
        Self {
            pool_id: user.pool_id.clone(),
            key: user.sub.clone(),
        }
    }

    /// The counter of a name no user has; `name` as the caller gave it.
    pub fn of_unknown(core: &Core, pool: &PoolRecord, name: &str) -> Self {
        let canonical = unknown_users::canonical(pool, name);
        Self {
            pool_id: pool.id.clone(),
            key: unknown_users::counter_key(core, &pool.id, &canonical),
        }
    }
}

pub fn locked() -> ApiError {
    ApiError::new(
        ErrorCode::NotAuthorizedException,
        "Password attempts exceeded",
    )
}

/// Counts an attempt before its password is checked; refuses it while the counter is locked.
/// Call `succeeded` when the password proves right.
pub async fn count_attempt(core: &Core, counter: &Counter) -> Result<(), ApiError> {
    core.store
        .count_attempt(&counter.pool_id, &counter.key, core.now_ms(), &SCHEDULE)
        .await?
        .map(|_| ())
        .ok_or_else(locked)
}

/// A right password: the count (this attempt's included) starts again.
pub async fn succeeded(core: &Core, counter: &Counter) -> Result<(), ApiError> {
    core.store
        .put_failures(&counter.pool_id, &counter.key, Default::default())
        .await?;
    Ok(())
}

/// Refuses while the counter is locked, without counting: for steps that check no password
/// yet (the start of SRP), so a locked user learns it before doing the work.
pub async fn check_unlocked(core: &Core, counter: &Counter) -> Result<(), ApiError> {
    let f = core
        .store
        .get_failures(&counter.pool_id, &counter.key)
        .await?;
    if f.locked_until_ms > core.now_ms() {
        return Err(locked());
    }
    Ok(())
}
