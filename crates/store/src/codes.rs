//! One-time codes: at most one per (pool, user, purpose); a new one supersedes the old.

use async_trait::async_trait;
use portcullis_core::domain::{CodePurpose, CodeRecord};
use portcullis_core::repo::{CodeRepo, StoreResult};

use crate::SqlStore;
use crate::error::backend;

const PUT: &str = "INSERT INTO codes \
                   (pool_id, sub, purpose, code_hash, expires_ms, attempts, pending_value) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) \
                   ON CONFLICT (pool_id, sub, purpose) DO UPDATE SET \
                   previous_hash = codes.code_hash, \
                   code_hash = excluded.code_hash, expires_ms = excluded.expires_ms, \
                   attempts = excluded.attempts, pending_value = excluded.pending_value";
const GET: &str = "SELECT code_hash, expires_ms, attempts, pending_value, previous_hash FROM codes \
                   WHERE pool_id = $1 AND sub = $2 AND purpose = $3";
/// One statement, so concurrent wrong guesses each count.
const BUMP: &str = "UPDATE codes SET attempts = attempts + 1 \
                    WHERE pool_id = $1 AND sub = $2 AND purpose = $3 RETURNING attempts";
const DELETE: &str = "DELETE FROM codes WHERE pool_id = $1 AND sub = $2 AND purpose = $3";

#[async_trait]
impl CodeRepo for SqlStore {
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(PUT)
            .bind(&code.pool_id)
            .bind(&code.sub)
            .bind(code.purpose.as_str())
            .bind(&code.code_hash)
            .bind(code.expires_ms)
            .bind(code.attempts)
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
            with_pool!(self, db => sqlx::query_as::<_, (String, i64, i64, Option<String>, Option<String>)>(GET)
            .bind(pool_id)
            .bind(sub)
            .bind(purpose.as_str())
            .fetch_optional(db)
            .await)
            .map_err(backend("get_code"))?;
        Ok(row.map(
            |(code_hash, expires_ms, attempts, pending_value, previous_hash)| CodeRecord {
                pool_id: pool_id.to_owned(),
                sub: sub.to_owned(),
                purpose,
                code_hash,
                expires_ms,
                attempts,
                pending_value,
                previous_hash,
            },
        ))
    }

    /// With no code outstanding there is nothing to count against: answers 0.
    async fn bump_code_attempts(
        &self,
        pool_id: &str,
        sub: &str,
        purpose: CodePurpose,
    ) -> StoreResult<i64> {
        let attempts = with_pool!(self, db => sqlx::query_scalar::<_, i64>(BUMP)
            .bind(pool_id)
            .bind(sub)
            .bind(purpose.as_str())
            .fetch_optional(db)
            .await)
        .map_err(backend("bump_code_attempts"))?;
        Ok(attempts.unwrap_or(0))
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
}
