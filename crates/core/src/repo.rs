//! Repository traits: the only way core reaches storage. One sqlx implementation serves
//! SQLite and PostgreSQL (crate `portcullis-store`).
//!
//! Lists are keyset-paginated: `after` is the sort key of the last row of the previous page,
//! and implementations return at most `limit` rows in ascending key order.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::domain::{
    AuthSessionRecord, ClientRecord, CodePurpose, CodeRecord, GroupRecord, LockoutSchedule,
    PoolRecord, RefreshTokenRecord, SignInFailures, SigningKeyRecord, UserFilter, UserRecord,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule would be broken; nothing was written.
    #[error("conflict on {0:?}")]
    Conflict(Conflict),
    /// The row changed (or vanished) since it was read; nothing was written.
    #[error("the record was changed by another request")]
    Stale,
    #[error("storage failure: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    Username,
    Email,
    PhoneNumber,
    PreferredUsername,
    Group,
    Other,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which sign-in alias column a lookup goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasKind {
    Email,
    PhoneNumber,
    PreferredUsername,
}

#[async_trait]
pub trait PoolRepo: Send + Sync {
    async fn insert_pool(&self, pool: &PoolRecord) -> StoreResult<()>;
    async fn get_pool(&self, id: &str) -> StoreResult<Option<PoolRecord>>;
    async fn update_pool(&self, pool: &PoolRecord) -> StoreResult<()>;
    /// Removes the pool and everything in it (clients, users, groups, codes, tags) at once.
    async fn delete_pool(&self, id: &str) -> StoreResult<bool>;
    async fn list_pools(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<PoolRecord>>;
    async fn count_users(&self, pool_id: &str) -> StoreResult<i64>;
}

#[async_trait]
pub trait ClientRepo: Send + Sync {
    async fn insert_client(&self, client: &ClientRecord) -> StoreResult<()>;
    /// Public operations know only the client id; it is unique across pools.
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>>;
    async fn update_client(&self, client: &ClientRecord) -> StoreResult<()>;
    async fn delete_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool>;
    async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ClientRecord>>;
}

#[async_trait]
pub trait UserRepo: Send + Sync {
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn get_user_by_username(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Option<UserRecord>>;
    async fn get_user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<UserRecord>>;
    async fn get_user_by_alias(
        &self,
        pool_id: &str,
        kind: AliasKind,
        key: &str,
    ) -> StoreResult<Option<UserRecord>>;
    /// Replaces the row identified by (pool_id, sub) if its version is still `user.version`;
    /// otherwise `StoreError::Stale`.
    async fn update_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// Removes the user with its memberships and codes.
    async fn delete_user(&self, pool_id: &str, sub: &str) -> StoreResult<bool>;
    /// Ordered by username key; `after` is the last username key seen.
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;
}

#[async_trait]
pub trait GroupRepo: Send + Sync {
    async fn insert_group(&self, group: &GroupRecord) -> StoreResult<()>;
    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<GroupRecord>>;
    async fn update_group(&self, group: &GroupRecord) -> StoreResult<()>;
    /// Removes the group and its memberships.
    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool>;
    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<GroupRecord>>;
    /// Idempotent.
    async fn add_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<()>;
    async fn remove_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<()>;
    /// Ordered by group name.
    async fn list_groups_for_user(
        &self,
        pool_id: &str,
        sub: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<GroupRecord>>;
    /// Ordered by username key.
    async fn list_users_in_group(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;
}

#[async_trait]
pub trait TagRepo: Send + Sync {
    async fn get_tags(&self, resource_arn: &str) -> StoreResult<BTreeMap<String, String>>;
    /// Replaces the resource's whole tag set.
    async fn put_tags(
        &self,
        resource_arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> StoreResult<()>;
    /// Adds or overwrites these tags, leaving the others; concurrent merges lose nothing.
    async fn merge_tags(
        &self,
        resource_arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> StoreResult<()>;
    /// Removes these keys, leaving the others.
    async fn remove_tags(&self, resource_arn: &str, keys: &[String]) -> StoreResult<()>;
}

#[async_trait]
pub trait CodeRepo: Send + Sync {
    /// Replaces any earlier code of the same user and purpose: a new code supersedes the old.
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()>;
    async fn get_code(
        &self,
        pool_id: &str,
        sub: &str,
        purpose: CodePurpose,
    ) -> StoreResult<Option<CodeRecord>>;
    /// Removes the code if it still has this hash: true only for the one caller that removed
    /// it (single use); false, with nothing written, when it is gone or was replaced.
    async fn consume_code(
        &self,
        pool_id: &str,
        sub: &str,
        purpose: CodePurpose,
        code_hash: &str,
    ) -> StoreResult<bool>;
    async fn delete_code(&self, pool_id: &str, sub: &str, purpose: CodePurpose) -> StoreResult<()>;
    /// Takes one use of the allowance `counter` of the pool, atomically (one statement): at
    /// most `limit` uses per window of `window_ms`, the window opened by its first use. Returns
    /// the uses counted so far in the window, or None, with nothing written, when it is full.
    async fn take_allowance(
        &self,
        pool_id: &str,
        counter: &str,
        limit: i64,
        window_ms: i64,
        now_ms: i64,
    ) -> StoreResult<Option<i64>>;
    /// Forgets the allowance's uses (after a code was redeemed).
    async fn clear_allowance(&self, pool_id: &str, counter: &str) -> StoreResult<()>;
}

#[async_trait]
pub trait KeyRepo: Send + Sync {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()>;
    /// Oldest first.
    async fn signing_keys(&self, pool_id: &str) -> StoreResult<Vec<SigningKeyRecord>>;
}

#[async_trait]
pub trait TokenRepo: Send + Sync {
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()>;
    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>>;
    /// Marks a token as replaced by rotation; false when another request rotated it first.
    async fn mark_refresh_rotated(&self, token_hash: &str, at_ms: i64) -> StoreResult<bool>;
    /// Revokes every refresh token of one sign-in lineage of user `sub`.
    async fn revoke_origin(&self, pool_id: &str, sub: &str, origin_jti: &str) -> StoreResult<()>;
    /// Whether the lineage an access or ID token of user `sub` came from was revoked.
    async fn origin_revoked(&self, pool_id: &str, sub: &str, origin_jti: &str)
    -> StoreResult<bool>;
    /// Global sign-out: revokes every refresh token of the user, and with them (through
    /// `origin_revoked`) every access and ID token minted from one.
    async fn revoke_user_tokens(&self, pool_id: &str, sub: &str) -> StoreResult<()>;
    /// As `revoke_user_tokens`, sparing the one lineage `keep_origin` (the caller's own).
    async fn revoke_user_tokens_except(
        &self,
        pool_id: &str,
        sub: &str,
        keep_origin: &str,
    ) -> StoreResult<()>;
}

/// Hosted-UI sessions: the cookie names a row, and the session lasts while the row does.
#[async_trait]
pub trait HostedSessionRepo: Send + Sync {
    async fn insert_hosted_session(
        &self,
        id_hash: &str,
        pool_id: &str,
        sub: &str,
        expires_ms: i64,
    ) -> StoreResult<()>;
    /// Whether the session of user `sub` exists and has not expired at `now_ms`.
    async fn hosted_session_live(
        &self,
        id_hash: &str,
        pool_id: &str,
        sub: &str,
        now_ms: i64,
    ) -> StoreResult<bool>;
    /// Idempotent.
    async fn delete_hosted_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Ends every hosted-UI session of the user.
    async fn delete_user_hosted_sessions(&self, pool_id: &str, sub: &str) -> StoreResult<()>;
}

/// The hashes of a user's earlier passwords (PasswordHistorySize).
#[async_trait]
pub trait PasswordHistoryRepo: Send + Sync {
    /// At most `limit` hashes, newest first.
    async fn password_history(
        &self,
        pool_id: &str,
        sub: &str,
        limit: u32,
    ) -> StoreResult<Vec<String>>;
    /// Records a hash the user had until `set_ms`, then keeps only the newest `keep`.
    async fn push_password_history(
        &self,
        pool_id: &str,
        sub: &str,
        password_hash: &str,
        set_ms: i64,
        keep: u32,
    ) -> StoreResult<()>;
}

/// Rows that outlive their use: what the housekeeping sweeper deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiring {
    /// Sign-in challenge sessions (`auth_sessions`), decoys for unknown users included.
    ChallengeSessions,
    /// One-time codes (`codes`).
    Codes,
    /// OAuth authorization codes (`oauth_codes`).
    AuthorizationCodes,
    /// Refresh tokens and the lineage rows of tokens minted without one.
    RefreshTokens,
    /// The scopes granted to an OAuth sign-in lineage (`oauth_grants`).
    OAuthGrants,
    /// Hosted-UI sessions.
    HostedSessions,
    /// Sign-in failure counters (`sign_in_failures`), unknown names' included, once neither a
    /// failure nor a lock is newer than the cut-off: the next attempt would forget them anyway.
    SignInFailures,
    /// Windows of code allowances (`code_allowances`) that have ended.
    CodeAllowances,
}

#[async_trait]
pub trait HousekeepingRepo: Send + Sync {
    /// Deletes at most `limit` rows of `what` that expired before `before_ms` and returns how
    /// many. One statement, idempotent: several nodes may run it at once.
    async fn purge_expired(&self, what: Expiring, before_ms: i64, limit: u32) -> StoreResult<u64>;
}

#[async_trait]
pub trait SessionRepo: Send + Sync {
    async fn put_session(&self, session: &AuthSessionRecord) -> StoreResult<()>;
    async fn get_session(&self, id_hash: &str) -> StoreResult<Option<AuthSessionRecord>>;
    /// Deletes the session; true only for the one caller that removed it (single use).
    async fn consume_session(&self, id_hash: &str) -> StoreResult<bool>;
    /// The failure counter under `key` (a user's sub, or the keyed name of an unknown user).
    async fn get_failures(&self, pool_id: &str, key: &str) -> StoreResult<SignInFailures>;
    /// Writes absolute values; only for resets (the default deletes the row) and tests.
    /// Counting goes through `count_attempt`, never through a read and a put.
    async fn put_failures(&self, pool_id: &str, key: &str, f: SignInFailures) -> StoreResult<()>;
    /// Counts one password attempt under `key` before the password is checked, in one
    /// statement: unless the key is locked at `now_ms`, adds one failure (or starts again
    /// from one when neither a failure nor the lock's end lies within `forget_after_ms`), sets
    /// the lock the schedule gives for the new count, and returns the new state. `None` when
    /// the key is locked: nothing was written (an attempt during a lock neither counts nor
    /// extends it).
    async fn count_attempt(
        &self,
        pool_id: &str,
        key: &str,
        now_ms: i64,
        schedule: &LockoutSchedule,
    ) -> StoreResult<Option<SignInFailures>>;
}

/// Everything core needs from storage.
pub trait Store:
    PoolRepo
    + ClientRepo
    + UserRepo
    + GroupRepo
    + TagRepo
    + CodeRepo
    + KeyRepo
    + TokenRepo
    + SessionRepo
    + HostedSessionRepo
    + PasswordHistoryRepo
    + HousekeepingRepo
    + crate::service::oauth::OAuthRepo
{
}

impl<T> Store for T where
    T: PoolRepo
        + ClientRepo
        + UserRepo
        + GroupRepo
        + TagRepo
        + CodeRepo
        + KeyRepo
        + TokenRepo
        + SessionRepo
        + HostedSessionRepo
        + PasswordHistoryRepo
        + HousekeepingRepo
        + crate::service::oauth::OAuthRepo
{
}
