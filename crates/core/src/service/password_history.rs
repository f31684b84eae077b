//! PasswordHistorySize: a user may not set any of their last N passwords again.
//!
//! The current password counts as the newest of the N; the earlier ones are kept as their
//! argon2 hashes (never the passwords) in the store, at most N per user. Checking a new
//! password costs up to N argon2 verifications, run one at a time on the hashing threads like
//! every other hash; N is bounded by Cognito's maximum, 24.
//!
//! Cognito enforces the setting only on its Essentials and Plus tiers; we enforce it whenever
//! the pool sets it. Callers check only after the caller proved who they are (current
//! password, reset code, admin credentials), so the history is never an oracle for strangers.

use crate::context::Core;
use crate::domain::{PoolRecord, UserRecord};
use crate::error::{ApiError, ErrorCode};
use crate::password;

fn reused() -> ApiError {
    ApiError::new(
        ErrorCode::PasswordHistoryPolicyViolationException,
        "Password has previously been used.",
    )
}

/// Refuses `new_password` when it is one of the user's last N passwords; otherwise records
/// the current password as history, as it is about to be replaced. A new user (no password
/// yet) has no history.
pub async fn admit(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    new_password: &str,
) -> Result<(), ApiError> {
    let size = password::history_size(
        pool.settings
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref()),
    );
    let Some(current) = user.password_hash.as_deref() else {
        return Ok(());
    };
    if size == 0 {
        return Ok(());
    }
    let mut earlier = vec![current.to_owned()];
    earlier.extend(
        core.store
            .password_history(&pool.id, &user.sub, size - 1)
            .await?,
    );
    for hash in &earlier {
        if core.passwords.verify(new_password, hash).await? {
            return Err(reused());
        }
    }
    // Recorded before the user row is written: should that write fail, the hash is still
    // the current one, and remembering it twice changes nothing.
    core.store
        .push_password_history(&pool.id, &user.sub, current, core.now_ms(), size)
        .await?;
    Ok(())
}
