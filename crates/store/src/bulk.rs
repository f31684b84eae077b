//! Many users in one transaction, for imports and benchmark seeding.

use portcullis_core::domain::UserRecord;
use portcullis_core::repo::StoreResult;
use sqlx::AssertSqlSafe;

use crate::SqlStore;
use crate::error::backend;
use crate::rows::{USER_PARAMS, UserParams};

/// Rows per INSERT: 400 x 21 = 8,400 parameters, well under both SQLite's (32,766) and
/// PostgreSQL's (65,535) limits, and large enough that per-statement overhead vanishes.
const CHUNK_ROWS: usize = 400;

impl SqlStore {
    /// Inserts all `users` in one transaction with multi-row INSERTs and returns how many rows
    /// were written. Any conflict (with stored users or within `users`) writes nothing and is
    /// reported as [`portcullis_core::repo::StoreError::Conflict`].
    pub async fn bulk_insert_users(&self, users: &[UserRecord]) -> StoreResult<u64> {
        if users.is_empty() {
            return Ok(0);
        }
        let params = users
            .iter()
            .map(UserParams::new)
            .collect::<StoreResult<Vec<_>>>()?;
        // Every full chunk shares one text, so each connection prepares it once.
        let full_sql = insert_sql(CHUNK_ROWS.min(params.len()));
        with_pool!(self, db => async {
            let mut tx = db.begin().await?;
            let mut written = 0;
            for chunk in params.chunks(CHUNK_ROWS) {
                let sql = if chunk.len() == CHUNK_ROWS.min(params.len()) {
                    full_sql.clone()
                } else {
                    insert_sql(chunk.len())
                };
                // The text holds only column names and numbered placeholders; every value is
                // bound.
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for p in chunk {
                    query = bind_user!(query, p);
                }
                written += query.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(written)
        }
        .await)
        .map_err(backend("bulk_insert_users"))
    }
}

/// `INSERT INTO users (...) VALUES ($1, ..., $21), ($22, ...), ...` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(concat!(
        "INSERT INTO users (",
        user_write_columns!(),
        ") VALUES "
    ));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..USER_PARAMS {
            if col > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(row * USER_PARAMS + col + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_run_on_across_rows() {
        let sql = insert_sql(2);
        assert!(sql.contains("VALUES ($1, $2, $3,"));
        assert!(sql.contains("$21), ($22, $23,"));
        assert!(sql.ends_with("$41, $42)"));
    }
}
