//! The sweeper: deletes rows that expired, so storage stays bounded however many sign-ins are
//! started and never finished.
//!
//! One call of [`sweep`] deletes at most one batch per kind of row, each through one bounded,
//! idempotent statement: any number of nodes may sweep one database at once, with no leader
//! and nothing to coordinate. The binary calls it periodically; tests call it with a clock of
//! their own.
//!
//! Some rows must outlive their own expiry:
//! - a refresh-token row is what revocation checks for every access and ID token of its
//!   lineage, and those may be minted up to a day (the longest access-token validity) before
//!   the refresh token expires, so the row stays that much longer;
//! - an authorization code stays an hour past expiry, so a late replay is still recognised
//!   (and revokes what the code minted);
//!
//! Counters that attackers can create at will (sign-in failures keyed by unknown names, code
//! allowances keyed by destinations) are swept too: a failure counter once the lockout would
//! forget it, an allowance once its window has ended.

use crate::context::Core;
use crate::error::ApiError;
use crate::repo::Expiring;
use crate::service::lockout;
use crate::service::oauth::authorize::CODE_RETENTION_MS;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What is swept, and how long past its expiry each kind is kept.
pub const KINDS: &[(Expiring, i64)] = &[
    (Expiring::ChallengeSessions, 0),
    (Expiring::HostedSessions, 0),
    (Expiring::AuthorizationCodes, CODE_RETENTION_MS),
    (Expiring::Codes, 0),
    (Expiring::RefreshTokens, DAY_MS),
    (Expiring::OAuthGrants, DAY_MS),
    (Expiring::SignInFailures, lockout::SCHEDULE.forget_after_ms),
    (Expiring::CodeAllowances, 0),
];

/// The default number of rows one sweep deletes per kind.
pub const DEFAULT_BATCH: u32 = 1_000;
/// The default pause between sweeps.
pub const DEFAULT_INTERVAL_MS: u64 = 60_000;

/// What one sweep deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub deleted: Vec<(Expiring, u64)>,
    /// Some kind filled its batch: more rows may be waiting.
    pub more: bool,
}

impl Swept {
    pub fn total(&self) -> u64 {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
}

/// Deletes at most `batch` expired rows of each kind.
pub async fn sweep(core: &Core, batch: u32) -> Result<Swept, ApiError> {
    let now = core.now_ms();
    let batch = batch.max(1);
    let mut swept = Swept::default();
    for &(kind, keep_ms) in KINDS {
        let n = core
            .store
            .purge_expired(kind, now.saturating_sub(keep_ms), batch)
            .await?;
        swept.more |= n >= u64::from(batch);
        swept.deleted.push((kind, n));
    }
    Ok(swept)
}
