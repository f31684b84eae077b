//! Groups and memberships. A membership row names the group and the user's sub; it goes when
//! either goes.

use async_trait::async_trait;
use portcullis_core::domain::{GroupRecord, UserRecord};
use portcullis_core::repo::{GroupRepo, StoreResult};

use crate::SqlStore;
use crate::error::backend;
use crate::rows::{GroupRow, UserRow, into_users};

const INSERT: &str = concat!(
    "INSERT INTO user_groups (",
    group_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
);
const GET: &str = concat!(
    "SELECT ",
    group_columns!(),
    " FROM user_groups WHERE pool_id = $1 AND name = $2"
);
const UPDATE: &str = "UPDATE user_groups SET description = $3, role_arn = $4, precedence = $5, \
                      created_ms = $6, modified_ms = $7 WHERE pool_id = $1 AND name = $2";
const DELETE_MEMBERS: &str = "DELETE FROM group_members WHERE pool_id = $1 AND group_name = $2";
const DELETE_GROUP: &str = "DELETE FROM user_groups WHERE pool_id = $1 AND name = $2";
const LIST_FIRST: &str = concat!(
    "SELECT ",
    group_columns!(),
    " FROM user_groups WHERE pool_id = $1 ORDER BY name LIMIT CAST($2 AS BIGINT)"
);
const LIST_AFTER: &str = concat!(
    "SELECT ",
    group_columns!(),
    " FROM user_groups WHERE pool_id = $1 AND name > $2 ORDER BY name LIMIT CAST($3 AS BIGINT)"
);
const ADD_MEMBER: &str = "INSERT INTO group_members (pool_id, group_name, sub) VALUES ($1, $2, $3) \
                          ON CONFLICT DO NOTHING";
const REMOVE_MEMBER: &str =
    "DELETE FROM group_members WHERE pool_id = $1 AND group_name = $2 AND sub = $3";
// Semi-joins rather than joins: the select list stays the plain column list, and the planner
// may walk either side's index.
const GROUPS_OF_USER_FIRST: &str = concat!(
    "SELECT ",
    group_columns!(),
    " FROM user_groups WHERE pool_id = $1 AND name IN \
     (SELECT group_name FROM group_members WHERE pool_id = $1 AND sub = $2) \
     ORDER BY name LIMIT CAST($3 AS BIGINT)"
);
const GROUPS_OF_USER_AFTER: &str = concat!(
    "SELECT ",
    group_columns!(),
    " FROM user_groups WHERE pool_id = $1 AND name IN \
     (SELECT group_name FROM group_members WHERE pool_id = $1 AND sub = $2) \
     AND name > $3 ORDER BY name LIMIT CAST($4 AS BIGINT)"
);
const USERS_IN_GROUP_FIRST: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE pool_id = $1 AND sub IN \
     (SELECT sub FROM group_members WHERE pool_id = $1 AND group_name = $2) \
     ORDER BY username_key LIMIT CAST($3 AS BIGINT)"
);
const USERS_IN_GROUP_AFTER: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE pool_id = $1 AND sub IN \
     (SELECT sub FROM group_members WHERE pool_id = $1 AND group_name = $2) \
     AND username_key > $3 ORDER BY username_key LIMIT CAST($4 AS BIGINT)"
);

#[async_trait]
impl GroupRepo for SqlStore {
    async fn insert_group(&self, group: &GroupRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(INSERT)
            .bind(&group.pool_id)
            .bind(&group.name)
            .bind(group.description.as_deref())
            .bind(group.role_arn.as_deref())
            .bind(group.precedence)
            .bind(group.created_ms)
            .bind(group.modified_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_group"))?;
        Ok(())
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<GroupRecord>> {
        let row = with_pool!(self, db => sqlx::query_as::<_, GroupRow>(GET)
            .bind(pool_id)
            .bind(name)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_group"))?;
        Ok(row.map(GroupRecord::from))
    }

    async fn update_group(&self, group: &GroupRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(UPDATE)
            .bind(&group.pool_id)
            .bind(&group.name)
            .bind(group.description.as_deref())
            .bind(group.role_arn.as_deref())
            .bind(group.precedence)
            .bind(group.created_ms)
            .bind(group.modified_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("update_group"))?;
        Ok(())
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
        with_pool!(self, db => async {
            let mut tx = db.begin().await?;
            sqlx::query(DELETE_MEMBERS).bind(pool_id).bind(name).execute(&mut *tx).await?;
            let deleted =
                sqlx::query(DELETE_GROUP).bind(pool_id).bind(name).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(deleted.rows_affected() > 0)
        }
        .await)
        .map_err(backend("delete_group"))
    }

    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<GroupRecord>> {
        let limit = i64::from(limit);
        let rows = with_pool!(self, db => match after {
            None => {
                sqlx::query_as::<_, GroupRow>(LIST_FIRST)
                    .bind(pool_id)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
            Some(after) => {
                sqlx::query_as::<_, GroupRow>(LIST_AFTER)
                    .bind(pool_id)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
        })
        .map_err(backend("list_groups"))?;
        Ok(rows.into_iter().map(GroupRecord::from).collect())
    }

    async fn add_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(ADD_MEMBER)
            .bind(pool_id)
            .bind(group)
            .bind(sub)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("add_member"))?;
        Ok(())
    }

    async fn remove_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(REMOVE_MEMBER)
            .bind(pool_id)
            .bind(group)
            .bind(sub)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("remove_member"))?;
        Ok(())
    }

    async fn list_groups_for_user(
        &self,
        pool_id: &str,
        sub: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<GroupRecord>> {
        let limit = i64::from(limit);
        // Every token issue reads the first page, so it takes the inline path on SQLite.
        if after.is_none()
            && let Some(rows) = self.inline_read("list_groups_for_user", |conn| {
                conn.prepare(GROUPS_OF_USER_FIRST)?
                    .query_map(
                        rusqlite::named_params! {"$1": pool_id, "$2": sub, "$3": limit},
                        GroupRow::from_sqlite,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
        {
            return Ok(rows?.into_iter().map(GroupRecord::from).collect());
        }
        let rows = with_pool!(self, db => match after {
            None => {
                sqlx::query_as::<_, GroupRow>(GROUPS_OF_USER_FIRST)
                    .bind(pool_id)
                    .bind(sub)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
            Some(after) => {
                sqlx::query_as::<_, GroupRow>(GROUPS_OF_USER_AFTER)
                    .bind(pool_id)
                    .bind(sub)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
        })
        .map_err(backend("list_groups_for_user"))?;
        Ok(rows.into_iter().map(GroupRecord::from).collect())
    }

    async fn list_users_in_group(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        let limit = i64::from(limit);
        let rows = with_pool!(self, db => match after {
            None => {
                sqlx::query_as::<_, UserRow>(USERS_IN_GROUP_FIRST)
                    .bind(pool_id)
                    .bind(group)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
            Some(after) => {
                sqlx::query_as::<_, UserRow>(USERS_IN_GROUP_AFTER)
                    .bind(pool_id)
                    .bind(group)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
        })
        .map_err(backend("list_users_in_group"))?;
        into_users(rows)
    }
}
