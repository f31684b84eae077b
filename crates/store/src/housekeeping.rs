//! Rows that end: hosted-UI sessions, password history, and the sweeper's bounded purges.
//!
//! Every purge is one `DELETE ... WHERE key IN (SELECT key ... LIMIT n)` statement over an
//! expiry index: it deletes at most `n` rows, so one call never holds the database for long,
//! and it is idempotent, so several nodes sweeping one database need no leader (two nodes that
//! pick the same rows delete them once between them).

use async_trait::async_trait;
use portcullis_core::repo::{
    Expiring, HostedSessionRepo, HousekeepingRepo, PasswordHistoryRepo, StoreResult,
};

use crate::SqlStore;
use crate::error::backend;

const SESSION_INSERT: &str =
    "INSERT INTO hosted_sessions (id_hash, pool_id, sub, expires_ms) VALUES ($1, $2, $3, $4)";
const SESSION_LIVE: &str = "SELECT expires_ms FROM hosted_sessions \
                            WHERE id_hash = $1 AND pool_id = $2 AND sub = $3 AND expires_ms > $4";
const SESSION_DELETE: &str = "DELETE FROM hosted_sessions WHERE id_hash = $1";
const SESSION_DELETE_USER: &str = "DELETE FROM hosted_sessions WHERE pool_id = $1 AND sub = $2";

const HISTORY_GET: &str = "SELECT password_hash FROM password_history \
                           WHERE pool_id = $1 AND sub = $2 \
                           ORDER BY set_ms DESC, password_hash DESC LIMIT $3";
const HISTORY_PUSH: &str = "INSERT INTO password_history (pool_id, sub, password_hash, set_ms) \
                            VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
const HISTORY_TRIM: &str = "DELETE FROM password_history WHERE pool_id = $1 AND sub = $2 \
                            AND password_hash NOT IN (SELECT password_hash FROM password_history \
                            WHERE pool_id = $1 AND sub = $2 \
                            ORDER BY set_ms DESC, password_hash DESC LIMIT $3)";

const PURGE_CHALLENGE_SESSIONS: &str = "DELETE FROM auth_sessions WHERE id_hash IN \
     (SELECT id_hash FROM auth_sessions WHERE expires_ms < $1 LIMIT $2)";
const PURGE_CODES: &str = "DELETE FROM codes WHERE (pool_id, sub, purpose) IN \
     (SELECT pool_id, sub, purpose FROM codes WHERE expires_ms < $1 LIMIT $2)";
const PURGE_AUTHORIZATION_CODES: &str = "DELETE FROM oauth_codes WHERE code_hash IN \
     (SELECT code_hash FROM oauth_codes WHERE expires_ms < $1 LIMIT $2)";
const PURGE_REFRESH_TOKENS: &str = "DELETE FROM refresh_tokens WHERE token_hash IN \
     (SELECT token_hash FROM refresh_tokens WHERE expires_ms < $1 LIMIT $2)";
const PURGE_OAUTH_GRANTS: &str = "DELETE FROM oauth_grants WHERE (pool_id, origin_jti) IN \
     (SELECT pool_id, origin_jti FROM oauth_grants WHERE expires_ms < $1 LIMIT $2)";
const PURGE_HOSTED_SESSIONS: &str = "DELETE FROM hosted_sessions WHERE id_hash IN \
     (SELECT id_hash FROM hosted_sessions WHERE expires_ms < $1 LIMIT $2)";

fn purge_sql(what: Expiring) -> &'static str {
    match what {
        Expiring::ChallengeSessions => PURGE_CHALLENGE_SESSIONS,
        Expiring::Codes => PURGE_CODES,
        Expiring::AuthorizationCodes => PURGE_AUTHORIZATION_CODES,
        Expiring::RefreshTokens => PURGE_REFRESH_TOKENS,
        Expiring::OAuthGrants => PURGE_OAUTH_GRANTS,
        Expiring::HostedSessions => PURGE_HOSTED_SESSIONS,
    }
}

#[async_trait]
impl HostedSessionRepo for SqlStore {
    async fn insert_hosted_session(
        &self,
        id_hash: &str,
        pool_id: &str,
        sub: &str,
        expires_ms: i64,
    ) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(SESSION_INSERT)
            .bind(id_hash)
            .bind(pool_id)
            .bind(sub)
            .bind(expires_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_hosted_session"))?;
        Ok(())
    }

    async fn hosted_session_live(
        &self,
        id_hash: &str,
        pool_id: &str,
        sub: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let found = with_pool!(self, db => sqlx::query_scalar::<_, i64>(SESSION_LIVE)
            .bind(id_hash)
            .bind(pool_id)
            .bind(sub)
            .bind(now_ms)
            .fetch_optional(db)
            .await)
        .map_err(backend("hosted_session_live"))?;
        Ok(found.is_some())
    }

    async fn delete_hosted_session(&self, id_hash: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(SESSION_DELETE)
            .bind(id_hash)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("delete_hosted_session"))?;
        Ok(())
    }

    async fn delete_user_hosted_sessions(&self, pool_id: &str, sub: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(SESSION_DELETE_USER)
            .bind(pool_id)
            .bind(sub)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("delete_user_hosted_sessions"))?;
        Ok(())
    }
}

#[async_trait]
impl PasswordHistoryRepo for SqlStore {
    async fn password_history(
        &self,
        pool_id: &str,
        sub: &str,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        with_pool!(self, db => sqlx::query_scalar::<_, String>(HISTORY_GET)
            .bind(pool_id)
            .bind(sub)
            .bind(i64::from(limit))
            .fetch_all(db)
            .await)
        .map_err(backend("password_history"))
    }

    async fn push_password_history(
        &self,
        pool_id: &str,
        sub: &str,
        password_hash: &str,
        set_ms: i64,
        keep: u32,
    ) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(HISTORY_PUSH)
            .bind(pool_id)
            .bind(sub)
            .bind(password_hash)
            .bind(set_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("push_password_history"))?;
        with_pool!(self, db => sqlx::query(HISTORY_TRIM)
            .bind(pool_id)
            .bind(sub)
            .bind(i64::from(keep))
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("trim_password_history"))?;
        Ok(())
    }
}

#[async_trait]
impl HousekeepingRepo for SqlStore {
    async fn purge_expired(&self, what: Expiring, before_ms: i64, limit: u32) -> StoreResult<u64> {
        with_pool!(self, db => sqlx::query(purge_sql(what))
            .bind(before_ms)
            .bind(i64::from(limit))
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("purge_expired"))
    }
}
