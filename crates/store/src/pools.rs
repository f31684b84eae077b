//! Pools, and the removal of a pool with everything in it.

use async_trait::async_trait;
use portcullis_core::domain::PoolRecord;
use portcullis_core::repo::{PoolRepo, StoreResult};

use crate::SqlStore;
use crate::error::{backend, encode};
use crate::rows::PoolRow;

const INSERT: &str = concat!(
    "INSERT INTO pools (",
    pool_columns!(),
    ") VALUES ($1, $2, $3, $4, $5)"
);
const GET: &str = concat!("SELECT ", pool_columns!(), " FROM pools WHERE id = $1");
const UPDATE: &str = "UPDATE pools SET name = $2, created_ms = $3, modified_ms = $4, settings = $5 \
                      WHERE id = $1";
const LIST_FIRST: &str = concat!(
    "SELECT ",
    pool_columns!(),
    " FROM pools ORDER BY id LIMIT CAST($1 AS BIGINT)"
);
const LIST_AFTER: &str = concat!(
    "SELECT ",
    pool_columns!(),
    " FROM pools WHERE id > $1 ORDER BY id LIMIT CAST($2 AS BIGINT)"
);
const COUNT_USERS: &str = "SELECT COUNT(*) FROM users WHERE pool_id = $1";

// Children before parents, so the foreign keys' cascades find nothing left to do and the
// outcome does not depend on them.
const DELETE_MEMBERS: &str = "DELETE FROM group_members WHERE pool_id = $1";
const DELETE_CODES: &str = "DELETE FROM codes WHERE pool_id = $1";
const DELETE_USERS: &str = "DELETE FROM users WHERE pool_id = $1";
const DELETE_GROUPS: &str = "DELETE FROM user_groups WHERE pool_id = $1";
const DELETE_CLIENTS: &str = "DELETE FROM clients WHERE pool_id = $1";
const DELETE_KEYS: &str = "DELETE FROM signing_keys WHERE pool_id = $1";
const DELETE_TOKENS: &str = "DELETE FROM refresh_tokens WHERE pool_id = $1";
const DELETE_SESSIONS: &str = "DELETE FROM auth_sessions WHERE pool_id = $1";
const DELETE_FAILURES: &str = "DELETE FROM sign_in_failures WHERE pool_id = $1";
/// Tags are keyed by ARN (`arn:aws:cognito-idp:<region>:<account>:userpool/<id>`), and region
/// and account are not ours to know here, so match the ARN's end. Not `LIKE`: pool ids contain
/// `_`, which LIKE treats as a wildcard.
const DELETE_TAGS: &str = "DELETE FROM tags WHERE length(resource_arn) >= length($1) \
                           AND substr(resource_arn, length(resource_arn) - length($1) + 1) = $1";
const DELETE_POOL: &str = "DELETE FROM pools WHERE id = $1";

#[async_trait]
impl PoolRepo for SqlStore {
    async fn insert_pool(&self, pool: &PoolRecord) -> StoreResult<()> {
        let settings = serde_json::to_string(&pool.settings).map_err(encode("pool settings"))?;
        with_pool!(self, db => sqlx::query(INSERT)
            .bind(&pool.id)
            .bind(&pool.name)
            .bind(pool.created_ms)
            .bind(pool.modified_ms)
            .bind(&settings)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_pool"))?;
        Ok(())
    }

    async fn get_pool(&self, id: &str) -> StoreResult<Option<PoolRecord>> {
        with_pool!(self, db => sqlx::query_as::<_, PoolRow>(GET).bind(id).fetch_optional(db).await)
            .map_err(backend("get_pool"))?
            .map(PoolRow::into_record)
            .transpose()
    }

    async fn update_pool(&self, pool: &PoolRecord) -> StoreResult<()> {
        let settings = serde_json::to_string(&pool.settings).map_err(encode("pool settings"))?;
        with_pool!(self, db => sqlx::query(UPDATE)
            .bind(&pool.id)
            .bind(&pool.name)
            .bind(pool.created_ms)
            .bind(pool.modified_ms)
            .bind(&settings)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("update_pool"))?;
        Ok(())
    }

    async fn delete_pool(&self, id: &str) -> StoreResult<bool> {
        let arn_suffix = format!("userpool/{id}");
        with_pool!(self, db => async {
            let mut tx = db.begin().await?;
            for sql in [
                DELETE_MEMBERS,
                DELETE_CODES,
                DELETE_TOKENS,
                DELETE_SESSIONS,
                DELETE_FAILURES,
                DELETE_USERS,
                DELETE_GROUPS,
                DELETE_CLIENTS,
                DELETE_KEYS,
            ] {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
            }
            sqlx::query(DELETE_TAGS).bind(&arn_suffix).execute(&mut *tx).await?;
            let deleted = sqlx::query(DELETE_POOL).bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(deleted.rows_affected() > 0)
        }
        .await)
        .map_err(backend("delete_pool"))
    }

    async fn list_pools(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<PoolRecord>> {
        let limit = i64::from(limit);
        let rows = with_pool!(self, db => match after {
            None => sqlx::query_as::<_, PoolRow>(LIST_FIRST).bind(limit).fetch_all(db).await,
            Some(after) => {
                sqlx::query_as::<_, PoolRow>(LIST_AFTER)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
        })
        .map_err(backend("list_pools"))?;
        rows.into_iter().map(PoolRow::into_record).collect()
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<i64> {
        with_pool!(self, db => sqlx::query_scalar::<_, i64>(COUNT_USERS)
            .bind(pool_id)
            .fetch_one(db)
            .await)
        .map_err(backend("count_users"))
    }
}
