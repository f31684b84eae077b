//! App clients. Client ids are unique across pools: public operations know only the id.

use async_trait::async_trait;
use portcullis_core::domain::ClientRecord;
use portcullis_core::repo::{ClientRepo, StoreResult};

use crate::SqlStore;
use crate::error::{backend, encode};
use crate::rows::ClientRow;

const INSERT: &str = concat!(
    "INSERT INTO clients (",
    client_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
);
const GET: &str = concat!("SELECT ", client_columns!(), " FROM clients WHERE id = $1");
/// Keyed by pool too, so a client id cannot be updated through another pool.
const UPDATE: &str = "UPDATE clients SET name = $3, created_ms = $4, modified_ms = $5, \
                      secret_sealed = $6, settings = $7 WHERE id = $1 AND pool_id = $2";
const DELETE: &str = "DELETE FROM clients WHERE pool_id = $1 AND id = $2";
const LIST_FIRST: &str = concat!(
    "SELECT ",
    client_columns!(),
    " FROM clients WHERE pool_id = $1 ORDER BY id LIMIT CAST($2 AS BIGINT)"
);
const LIST_AFTER: &str = concat!(
    "SELECT ",
    client_columns!(),
    " FROM clients WHERE pool_id = $1 AND id > $2 ORDER BY id LIMIT CAST($3 AS BIGINT)"
);

#[async_trait]
impl ClientRepo for SqlStore {
    async fn insert_client(&self, client: &ClientRecord) -> StoreResult<()> {
        let settings =
            serde_json::to_string(&client.settings).map_err(encode("client settings"))?;
        with_pool!(self, db => sqlx::query(INSERT)
            .bind(&client.id)
            .bind(&client.pool_id)
            .bind(&client.name)
            .bind(client.created_ms)
            .bind(client.modified_ms)
            .bind(client.secret_sealed.as_deref())
            .bind(&settings)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_client"))?;
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>> {
        with_pool!(self, db => sqlx::query_as::<_, ClientRow>(GET)
            .bind(client_id)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_client"))?
        .map(ClientRow::into_record)
        .transpose()
    }

    async fn update_client(&self, client: &ClientRecord) -> StoreResult<()> {
        let settings =
            serde_json::to_string(&client.settings).map_err(encode("client settings"))?;
        with_pool!(self, db => sqlx::query(UPDATE)
            .bind(&client.id)
            .bind(&client.pool_id)
            .bind(&client.name)
            .bind(client.created_ms)
            .bind(client.modified_ms)
            .bind(client.secret_sealed.as_deref())
            .bind(&settings)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("update_client"))?;
        Ok(())
    }

    async fn delete_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        let deleted = with_pool!(self, db => sqlx::query(DELETE)
            .bind(pool_id)
            .bind(client_id)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("delete_client"))?;
        Ok(deleted > 0)
    }

    async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ClientRecord>> {
        let limit = i64::from(limit);
        let rows = with_pool!(self, db => match after {
            None => {
                sqlx::query_as::<_, ClientRow>(LIST_FIRST)
                    .bind(pool_id)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
            Some(after) => {
                sqlx::query_as::<_, ClientRow>(LIST_AFTER)
                    .bind(pool_id)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
        })
        .map_err(backend("list_clients"))?;
        rows.into_iter().map(ClientRow::into_record).collect()
    }
}
