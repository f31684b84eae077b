//! Token-signing keys of each pool; the private half arrives sealed.

use async_trait::async_trait;
use portcullis_core::domain::SigningKeyRecord;
use portcullis_core::repo::{KeyRepo, StoreResult};

use crate::SqlStore;
use crate::error::backend;

const INSERT: &str = "INSERT INTO signing_keys \
                      (pool_id, kid, token_use, private_sealed, n, e, created_ms) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// `kid` breaks ties so keys made within one millisecond still come back in a stable order.
const LIST: &str = "SELECT pool_id, kid, token_use, private_sealed, n, e, created_ms \
                    FROM signing_keys WHERE pool_id = $1 ORDER BY created_ms, kid";

#[derive(sqlx::FromRow)]
struct KeyRow {
    pool_id: String,
    kid: String,
    token_use: String,
    private_sealed: Vec<u8>,
    n: String,
    e: String,
    created_ms: i64,
}

impl From<KeyRow> for SigningKeyRecord {
    fn from(row: KeyRow) -> Self {
        SigningKeyRecord {
            pool_id: row.pool_id,
            kid: row.kid,
            token_use: row.token_use,
            private_sealed: row.private_sealed,
            n: row.n,
            e: row.e,
            created_ms: row.created_ms,
        }
    }
}

#[async_trait]
impl KeyRepo for SqlStore {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(INSERT)
            .bind(&key.pool_id)
            .bind(&key.kid)
            .bind(&key.token_use)
            .bind(&key.private_sealed)
            .bind(&key.n)
            .bind(&key.e)
            .bind(key.created_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_signing_key"))?;
        Ok(())
    }

    async fn signing_keys(&self, pool_id: &str) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows = with_pool!(self, db => sqlx::query_as::<_, KeyRow>(LIST)
            .bind(pool_id)
            .fetch_all(db)
            .await)
        .map_err(backend("signing_keys"))?;
        Ok(rows.into_iter().map(SigningKeyRecord::from).collect())
    }
}
