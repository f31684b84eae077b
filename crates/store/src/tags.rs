//! Resource tags, keyed by ARN. A put replaces the whole set: core works out the new set
//! (TagResource merges, UntagResource removes) and the store only swaps it in atomically.

use std::collections::BTreeMap;

use async_trait::async_trait;
use portcullis_core::repo::{StoreResult, TagRepo};

use crate::SqlStore;
use crate::error::backend;

const GET: &str = "SELECT tag_key, tag_value FROM tags WHERE resource_arn = $1 ORDER BY tag_key";
const DELETE: &str = "DELETE FROM tags WHERE resource_arn = $1";
const INSERT: &str = "INSERT INTO tags (resource_arn, tag_key, tag_value) VALUES ($1, $2, $3)";
const UPSERT: &str = "INSERT INTO tags (resource_arn, tag_key, tag_value) VALUES ($1, $2, $3) \
                      ON CONFLICT (resource_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value";
const DELETE_KEY: &str = "DELETE FROM tags WHERE resource_arn = $1 AND tag_key = $2";

#[async_trait]
impl TagRepo for SqlStore {
    async fn get_tags(&self, resource_arn: &str) -> StoreResult<BTreeMap<String, String>> {
        let rows = with_pool!(self, db => sqlx::query_as::<_, (String, String)>(GET)
            .bind(resource_arn)
            .fetch_all(db)
            .await)
        .map_err(backend("get_tags"))?;
        Ok(rows.into_iter().collect())
    }

    async fn put_tags(
        &self,
        resource_arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> StoreResult<()> {
        // The delete comes first so that on SQLite the transaction takes the write lock with
        // its first statement: a read first could not wait out a concurrent writer.
        with_pool!(self, db => async {
            let mut tx = db.begin().await?;
            sqlx::query(DELETE).bind(resource_arn).execute(&mut *tx).await?;
            for (key, value) in tags {
                sqlx::query(INSERT)
                    .bind(resource_arn)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await)
        .map_err(backend("put_tags"))
    }

    async fn merge_tags(
        &self,
        resource_arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> StoreResult<()> {
        // Row-level upserts: two concurrent merges touch different rows, or the same row
        // last-writer-wins, and neither erases the other's keys.
        with_pool!(self, db => async {
            let mut tx = db.begin().await?;
            for (key, value) in tags {
                sqlx::query(UPSERT)
                    .bind(resource_arn)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await)
        .map_err(backend("merge_tags"))
    }

    async fn remove_tags(&self, resource_arn: &str, keys: &[String]) -> StoreResult<()> {
        with_pool!(self, db => async {
            let mut tx = db.begin().await?;
            for key in keys {
                sqlx::query(DELETE_KEY)
                    .bind(resource_arn)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await)
        .map_err(backend("remove_tags"))
    }
}
