//! One-time codes, at most one per (pool, user, purpose), a new one superseding the old; and
//! the allowances that limit how often codes are tried and issued.

use async_trait::async_trait;
use portcullis_core::domain::{CodePurpose, CodeRecord};
use portcullis_core::repo::{CodeRepo, StoreResult};

use crate::SqlStore;
use crate::error::backend;

// `attempts` stays 0: attempts are counted in code_allowances, which a new code leaves alone.
const PUT: &str = "INSERT INTO codes \
                   (pool_id, sub, purpose, code_hash, expires_ms, attempts, pending_value) \
                   VALUES ($1, $2, $3, $4, $5, 0, $6) \
                   ON CONFLICT (pool_id, sub, purpose) DO UPDATE SET \
                   previous_hash = codes.code_hash, \
                   code_hash = excluded.code_hash, expires_ms = excluded.expires_ms, \
                   pending_value = excluded.pending_value";
const GET: &str = "SELECT code_hash, expires_ms, pending_value, previous_hash FROM codes \
                   WHERE pool_id = $1 AND sub = $2 AND purpose = $3";
/// Conditional on the hash, so of two requests redeeming the same code only one wins.
const CONSUME: &str = "DELETE FROM codes \
                       WHERE pool_id = $1 AND sub = $2 AND purpose = $3 AND code_hash = $4";
const DELETE: &str = "DELETE FROM codes WHERE pool_id = $1 AND sub = $2 AND purpose = $3";

/// Takes one use in one statement. A missing row, or one whose window has ended ($4 = now),
/// starts a new window with one use; otherwise the count goes up only while it is below the
/// limit ($5). When the window is full the WHERE leaves the row untouched and RETURNING gives
/// nothing: the caller is refused. Both SQLite (3.35+) and PostgreSQL evaluate the conflict
/// branch against the latest row under its lock, so concurrent takers never overshoot.
const TAKE: &str = "INSERT INTO code_allowances (pool_id, counter, used, window_ends_ms) \
                    VALUES ($1, $2, 1, $3) \
                    ON CONFLICT (pool_id, counter) DO UPDATE SET \
                    used = CASE WHEN code_allowances.window_ends_ms <= $4 THEN 1 \
                                ELSE code_allowances.used + 1 END, \
                    window_ends_ms = CASE WHEN code_allowances.window_ends_ms <= $4 \
                                THEN excluded.window_ends_ms \
                                ELSE code_allowances.window_ends_ms END \
                    WHERE code_allowances.window_ends_ms <= $4 OR code_allowances.used < $5 \
                    RETURNING used";
const CLEAR: &str = "DELETE FROM code_allowances WHERE pool_id = $1 AND counter = $2";
/// The sweeper's statement for ended windows (`Expiring::CodeAllowances`). Bounded, so a sweep
/// never holds a long lock; the row-value IN works on both backends.
pub(crate) const PURGE: &str = "DELETE FROM code_allowances WHERE (pool_id, counter) IN \
                     (SELECT pool_id, counter FROM code_allowances WHERE window_ends_ms <= $1 \
                      LIMIT CAST($2 AS BIGINT))";

#[async_trait]
impl CodeRepo for SqlStore {
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(PUT)
            .bind(&code.pool_id)
            .bind(&code.sub)
            .bind(code.purpose.as_str())
            .bind(&code.code_hash)
            .bind(code.expires_ms)
            .bind(&code.pending_value)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("put_code"))?;
        Ok(())
    }

    async fn get_code(
        &self,
        pool_id: &str,
        sub: &str,
        purpose: CodePurpose,
    ) -> StoreResult<Option<CodeRecord>> {
        let row =
            with_pool!(self, db => sqlx::query_as::<_, (String, i64, Option<String>, Option<String>)>(GET)
            .bind(pool_id)
            .bind(sub)
            .bind(purpose.as_str())
            .fetch_optional(db)
            .await)
            .map_err(backend("get_code"))?;
        Ok(row.map(
            |(code_hash, expires_ms, pending_value, previous_hash)| CodeRecord {
                pool_id: pool_id.to_owned(),
                sub: sub.to_owned(),
                purpose,
                code_hash,
                expires_ms,
                pending_value,
                previous_hash,
            },
        ))
    }

    async fn consume_code(
        &self,
        pool_id: &str,
        sub: &str,
        purpose: CodePurpose,
        code_hash: &str,
    ) -> StoreResult<bool> {
        let removed = with_pool!(self, db => sqlx::query(CONSUME)
            .bind(pool_id)
            .bind(sub)
            .bind(purpose.as_str())
            .bind(code_hash)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("consume_code"))?;
        Ok(removed > 0)
    }

    async fn delete_code(&self, pool_id: &str, sub: &str, purpose: CodePurpose) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(DELETE)
            .bind(pool_id)
            .bind(sub)
            .bind(purpose.as_str())
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("delete_code"))?;
        Ok(())
    }

    async fn take_allowance(
        &self,
        pool_id: &str,
        counter: &str,
        limit: i64,
        window_ms: i64,
        now_ms: i64,
    ) -> StoreResult<Option<i64>> {
        with_pool!(self, db => sqlx::query_scalar::<_, i64>(TAKE)
            .bind(pool_id)
            .bind(counter)
            .bind(now_ms.saturating_add(window_ms))
            .bind(now_ms)
            .bind(limit)
            .fetch_optional(db)
            .await)
        .map_err(backend("take_allowance"))
    }

    async fn clear_allowance(&self, pool_id: &str, counter: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(CLEAR)
            .bind(pool_id)
            .bind(counter)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("clear_allowance"))?;
        Ok(())
    }
}
