//! Users: keyed by (pool, sub), unique by username key and by each alias key, listed in
//! username-key order with an optional ListUsers filter.

use async_trait::async_trait;
use portcullis_core::domain::{FilterField, UserFilter, UserRecord};
use portcullis_core::repo::{AliasKind, StoreError, StoreResult, UserRepo};
use sqlx::AssertSqlSafe;

use crate::SqlStore;
use crate::error::backend;
use crate::prefix::upper_bound;
use crate::rows::{UserParams, UserRow, into_users};

const INSERT: &str = concat!(
    "INSERT INTO users (",
    user_write_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
     $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
);
/// Same parameter numbering as [`INSERT`], so both bind through `bind_user!`.
const UPDATE: &str = "UPDATE users SET username = $3, username_key = $4, status = $5, \
     enabled = $6, created_ms = $7, modified_ms = $8, attributes = $9, password_hash = $10, \
     password_set_ms = $11, srp_sealed = $12, email_key = $13, phone_key = $14, \
     preferred_key = $15, email = $16, phone_number = $17, name = $18, given_name = $19, \
     family_name = $20, preferred_username = $21, version = version + 1 \
     WHERE pool_id = $1 AND sub = $2 AND version = $22";
const BY_USERNAME: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE pool_id = $1 AND username_key = $2"
);
const BY_SUB: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE pool_id = $1 AND sub = $2"
);
const BY_EMAIL: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE pool_id = $1 AND email_key = $2"
);
const BY_PHONE: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE pool_id = $1 AND phone_key = $2"
);
const BY_PREFERRED: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE pool_id = $1 AND preferred_key = $2"
);
const DELETE_MEMBERS: &str = "DELETE FROM group_members WHERE pool_id = $1 AND sub = $2";
const DELETE_CODES: &str = "DELETE FROM codes WHERE pool_id = $1 AND sub = $2";
// Refresh tokens, open challenges and the lockout counter speak for the user: none may
// outlive it.
const DELETE_TOKENS: &str = "DELETE FROM refresh_tokens WHERE pool_id = $1 AND sub = $2";
const DELETE_SESSIONS: &str = "DELETE FROM auth_sessions WHERE pool_id = $1 AND sub = $2";
const DELETE_FAILURES: &str = "DELETE FROM sign_in_failures WHERE pool_id = $1 AND sub = $2";
const DELETE_USER: &str = "DELETE FROM users WHERE pool_id = $1 AND sub = $2";

#[async_trait]
impl UserRepo for SqlStore {
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()> {
        let p = UserParams::new(user)?;
        with_pool!(self, db => bind_user!(sqlx::query(INSERT), p).execute(db).await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_user"))?;
        Ok(())
    }

    async fn get_user_by_username(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Option<UserRecord>> {
        self.get_user_where(BY_USERNAME, pool_id, username_key)
            .await
    }

    async fn get_user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<UserRecord>> {
        self.get_user_where(BY_SUB, pool_id, sub).await
    }

    async fn get_user_by_alias(
        &self,
        pool_id: &str,
        kind: AliasKind,
        key: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let sql = match kind {
            AliasKind::Email => BY_EMAIL,
            AliasKind::PhoneNumber => BY_PHONE,
            AliasKind::PreferredUsername => BY_PREFERRED,
        };
        self.get_user_where(sql, pool_id, key).await
    }

    async fn update_user(&self, user: &UserRecord) -> StoreResult<()> {
        let p = UserParams::new(user)?;
        let updated = with_pool!(self, db => bind_user!(sqlx::query(UPDATE), p)
            .bind(user.version)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("update_user"))?;
        if updated == 0 {
            return Err(StoreError::Stale);
        }
        Ok(())
    }

    async fn delete_user(&self, pool_id: &str, sub: &str) -> StoreResult<bool> {
        with_pool!(self, db => async {
            let mut tx = db.begin().await?;
            for sql in [DELETE_MEMBERS, DELETE_CODES, DELETE_TOKENS, DELETE_SESSIONS, DELETE_FAILURES] {
                sqlx::query(sql).bind(pool_id).bind(sub).execute(&mut *tx).await?;
            }
            let deleted = sqlx::query(DELETE_USER).bind(pool_id).bind(sub).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(deleted.rows_affected() > 0)
        }
        .await)
        .map_err(backend("delete_user"))
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        let condition = match filter {
            None => Condition::All,
            Some(filter) => Condition::from_filter(filter),
        };
        let Some(query) = ListQuery::build(condition, after) else {
            return Ok(Vec::new());
        };
        let limit = i64::from(limit);
        let rows = with_pool!(self, db => {
            let mut q = sqlx::query_as::<_, UserRow>(AssertSqlSafe(query.sql)).bind(pool_id);
            for arg in query.args {
                q = match arg {
                    Arg::Text(text) => q.bind(text),
                    Arg::Int(int) => q.bind(int),
                };
            }
            q.bind(limit).fetch_all(db).await
        })
        .map_err(backend("list_users"))?;
        into_users(rows)
    }
}

impl SqlStore {
    async fn get_user_where(
        &self,
        sql: &'static str,
        pool_id: &str,
        key: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let inline = self.inline_lookup("get_user", sql, pool_id, key, UserRow::from_sqlite);
        if let Some(found) = inline {
            return found?.map(UserRow::into_record).transpose();
        }
        with_pool!(self, db => sqlx::query_as::<_, UserRow>(sql)
            .bind(pool_id)
            .bind(key)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_user"))?
        .map(UserRow::into_record)
        .transpose()
    }
}

/// A ListUsers filter reduced to what SQL needs: a fixed column and bound values.
#[derive(Debug, PartialEq)]
enum Condition {
    All,
    Nobody,
    Equals(&'static str, Arg),
    /// `column >= from` and, when there is an upper bound, `column < to`.
    Range {
        column: &'static str,
        from: String,
        to: Option<String>,
    },
}

#[derive(Debug, PartialEq)]
enum Arg {
    Text(String),
    Int(i64),
}

impl Condition {
    fn from_filter(filter: &UserFilter) -> Condition {
        // PostgreSQL text cannot hold NUL, so no stored value contains one; saying so here
        // keeps both backends alike and spares PostgreSQL an encoding error.
        if filter.value.contains('\0') {
            return Condition::Nobody;
        }
        let (column, value) = match filter.field {
            FilterField::Username => ("username", filter.value.clone()),
            FilterField::Email => ("email", filter.value.clone()),
            FilterField::PhoneNumber => ("phone_number", filter.value.clone()),
            FilterField::Name => ("name", filter.value.clone()),
            FilterField::GivenName => ("given_name", filter.value.clone()),
            FilterField::FamilyName => ("family_name", filter.value.clone()),
            FilterField::PreferredUsername => ("preferred_username", filter.value.clone()),
            FilterField::Sub => ("sub", filter.value.clone()),
            // Statuses are stored upper case and are ASCII: upper-casing the value is a
            // case-insensitive comparison that still uses the index.
            FilterField::UserStatus => ("status", filter.value.to_ascii_uppercase()),
            FilterField::Enabled => return Condition::enabled(&filter.value, filter.prefix),
        };
        if filter.prefix {
            let to = upper_bound(&value);
            Condition::Range {
                column,
                from: value,
                to,
            }
        } else {
            Condition::Equals(column, Arg::Text(value))
        }
    }

    /// `status = "Enabled"` / `"Disabled"`, spelled exactly; a prefix matches each word it
    /// starts, so the empty prefix matches everyone.
    fn enabled(value: &str, prefix: bool) -> Condition {
        let matches = |word: &str| {
            if prefix {
                word.starts_with(value)
            } else {
                word == value
            }
        };
        match (matches("Enabled"), matches("Disabled")) {
            (true, true) => Condition::All,
            (true, false) => Condition::Equals("enabled", Arg::Int(1)),
            (false, true) => Condition::Equals("enabled", Arg::Int(0)),
            (false, false) => Condition::Nobody,
        }
    }
}

/// SQL for one ListUsers page, with the filter's values in bind order. Parameters: `$1` the
/// pool, then the filter's values, then `after` when present, then the limit.
struct ListQuery {
    sql: String,
    args: Vec<Arg>,
}

impl ListQuery {
    /// `None` when the filter can match nobody. The text is assembled only from literals and
    /// the column names fixed in [`Condition::from_filter`]; every value is a bound parameter,
    /// which is what makes the `AssertSqlSafe` above sound.
    fn build(condition: Condition, after: Option<&str>) -> Option<ListQuery> {
        let ordered_by = match &condition {
            Condition::Range { column, .. } => Some(*column),
            _ => None,
        };
        let mut sql = String::from(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE pool_id = $1"
        ));
        let mut args = Vec::new();
        match condition {
            Condition::Nobody => return None,
            Condition::All => {}
            Condition::Equals(column, value) => {
                args.push(value);
                sql.push_str(&format!(" AND {column} = ${}", args.len() + 1));
            }
            Condition::Range { column, from, to } => {
                args.push(Arg::Text(from));
                sql.push_str(&format!(" AND {column} >= ${}", args.len() + 1));
                if let Some(to) = to {
                    args.push(Arg::Text(to));
                    sql.push_str(&format!(" AND {column} < ${}", args.len() + 1));
                }
            }
        }
        let mut next = args.len() + 2;
        // A prefix match walks its column's index in (column, username_key) order, so a page
        // costs its own rows even when the prefix matches most of the pool; the cursor is then
        // both values, `<column value>\0<username key>`. Other lists walk username keys.
        match ordered_by {
            Some(column) => {
                if let Some(after) = after {
                    let (value, key) = after.split_once('\0').unwrap_or((after, ""));
                    args.push(Arg::Text(value.to_owned()));
                    args.push(Arg::Text(key.to_owned()));
                    sql.push_str(&format!(
                        " AND ({column}, username_key) > (${}, ${})",
                        next,
                        next + 1
                    ));
                    next += 2;
                }
                sql.push_str(&format!(
                    " ORDER BY {column}, username_key LIMIT CAST(${next} AS BIGINT)"
                ));
            }
            None => {
                if let Some(after) = after {
                    args.push(Arg::Text(after.to_owned()));
                    sql.push_str(&format!(" AND username_key > ${next}"));
                    next += 1;
                }
                sql.push_str(&format!(
                    " ORDER BY username_key LIMIT CAST(${next} AS BIGINT)"
                ));
            }
        }
        Some(ListQuery { sql, args })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(field: FilterField, prefix: bool, value: &str) -> UserFilter {
        UserFilter {
            field,
            prefix,
            value: value.into(),
        }
    }

    #[test]
    fn queries_number_their_parameters_in_bind_order() {
        let q = ListQuery::build(Condition::All, None).map(|q| q.sql);
        assert!(q.is_some_and(|s| {
            s.ends_with("WHERE pool_id = $1 ORDER BY username_key LIMIT CAST($2 AS BIGINT)")
        }));

        let cond = Condition::from_filter(&filter(FilterField::Email, false, "a@b.c"));
        let Some(q) = ListQuery::build(cond, Some("key7")) else {
            panic!("an exact filter matches someone")
        };
        assert!(q.sql.ends_with(
            "WHERE pool_id = $1 AND email = $2 AND username_key > $3 ORDER BY username_key LIMIT CAST($4 AS BIGINT)"
        ));

        let cond = Condition::from_filter(&filter(FilterField::Email, true, "ab"));
        let Some(q) = ListQuery::build(cond, Some("abx@y.z\0key9")) else {
            panic!("a prefix filter matches someone")
        };
        assert!(q.sql.ends_with(
            "WHERE pool_id = $1 AND email >= $2 AND email < $3 \
             AND (email, username_key) > ($4, $5) ORDER BY email, username_key LIMIT CAST($6 AS BIGINT)"
        ));
        assert_eq!(
            q.args,
            vec![
                Arg::Text("ab".into()),
                Arg::Text("ac".into()),
                Arg::Text("abx@y.z".into()),
                Arg::Text("key9".into())
            ]
        );
    }

    #[test]
    fn enabled_words_are_exact_and_case_sensitive() {
        let c = |prefix, v| Condition::from_filter(&filter(FilterField::Enabled, prefix, v));
        assert_eq!(
            c(false, "Enabled"),
            Condition::Equals("enabled", Arg::Int(1))
        );
        assert_eq!(
            c(false, "Disabled"),
            Condition::Equals("enabled", Arg::Int(0))
        );
        assert_eq!(c(false, "enabled"), Condition::Nobody);
        assert_eq!(c(false, "true"), Condition::Nobody);
        assert_eq!(c(true, "En"), Condition::Equals("enabled", Arg::Int(1)));
        assert_eq!(c(true, ""), Condition::All);
        assert_eq!(c(true, "x"), Condition::Nobody);
    }

    #[test]
    fn status_is_upper_cased() {
        let c = Condition::from_filter(&filter(FilterField::UserStatus, false, "Confirmed"));
        assert_eq!(
            c,
            Condition::Equals("status", Arg::Text("CONFIRMED".into()))
        );
    }
}
