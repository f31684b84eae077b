//! sqlx errors to [`StoreError`].
//!
//! A unique violation becomes [`StoreError::Conflict`]. PostgreSQL names the violated index
//! (`users_email_key_uq`) and SQLite lists its columns (`users.pool_id, users.email_key`);
//! the migrations name every unique index after the key column it guards, so one substring
//! test recognises both.

use portcullis_core::repo::{Conflict, StoreError};
use sqlx::error::ErrorKind;

/// Maps an error of operation `op`; `op` is a fixed name, so messages carry no bound values.
pub(crate) fn backend(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| map(op, err)
}

pub(crate) fn map(op: &'static str, err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation => {
            StoreError::Conflict(conflict_kind(db.constraint().unwrap_or(db.message())))
        }
        // The server's message names the problem, never the bound values (PostgreSQL keeps
        // those in DETAIL, which sqlx does not print).
        sqlx::Error::Database(db) => StoreError::Backend(format!(
            "{op}: database error {}: {}",
            db.code().as_deref().unwrap_or("?"),
            db.message()
        )),
        // May echo parts of a connection URL; say only what kind of problem it was.
        sqlx::Error::Configuration(_) => {
            StoreError::Backend(format!("{op}: invalid database configuration"))
        }
        _ => StoreError::Backend(format!("{op}: {err}")),
    }
}

pub(crate) fn migrate(err: sqlx::migrate::MigrateError) -> StoreError {
    match err {
        sqlx::migrate::MigrateError::Execute(inner) => map("migrate", inner),
        other => StoreError::Backend(format!("migrate: {other}")),
    }
}

/// A stored value the code cannot read back: the schema and the code disagree.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("unreadable {what}: {detail}"))
}

/// A value that cannot be turned into its column (in practice unreachable for our types).
pub(crate) fn encode(what: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
    move |err| StoreError::Backend(format!("cannot encode {what}: {err}"))
}

fn conflict_kind(constraint: &str) -> Conflict {
    // Most specific first: "username_key" must not shadow the alias keys, nor they it.
    if constraint.contains("email_key") {
        Conflict::Email
    } else if constraint.contains("phone_key") {
        Conflict::PhoneNumber
    } else if constraint.contains("preferred_key") {
        Conflict::PreferredUsername
    } else if constraint.contains("username_key") {
        Conflict::Username
    } else if constraint.contains("user_groups") {
        Conflict::Group
    } else {
        Conflict::Other
    }
}

/// Maps an error of an inline (rusqlite) statement; see [`crate::inline`].
pub(crate) fn inline(op: &'static str, err: rusqlite::Error) -> StoreError {
    // SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE: what sqlx calls a unique
    // violation. SQLite's message lists the columns, as sqlx's does.
    const UNIQUE_CODES: [i32; 2] = [1555, 2067];
    match err {
        rusqlite::Error::SqliteFailure(code, Some(message))
            if UNIQUE_CODES.contains(&code.extended_code) =>
        {
            StoreError::Conflict(conflict_kind(&message))
        }
        rusqlite::Error::SqliteFailure(code, message) => StoreError::Backend(format!(
            "{op}: database error {}: {}",
            code.extended_code,
            message.as_deref().unwrap_or("no message")
        )),
        other => StoreError::Backend(format!("{op}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_each_constraint_are_recognised() {
        let cases = [
            ("users_email_key_uq", Conflict::Email),
            (
                "UNIQUE constraint failed: users.pool_id, users.email_key",
                Conflict::Email,
            ),
            ("users_phone_key_uq", Conflict::PhoneNumber),
            (
                "UNIQUE constraint failed: users.pool_id, users.phone_key",
                Conflict::PhoneNumber,
            ),
            ("users_preferred_key_uq", Conflict::PreferredUsername),
            (
                "UNIQUE constraint failed: users.pool_id, users.preferred_key",
                Conflict::PreferredUsername,
            ),
            ("users_username_key_uq", Conflict::Username),
            (
                "UNIQUE constraint failed: users.pool_id, users.username_key",
                Conflict::Username,
            ),
            ("user_groups_pkey", Conflict::Group),
            (
                "UNIQUE constraint failed: user_groups.pool_id, user_groups.name",
                Conflict::Group,
            ),
            ("users_pkey", Conflict::Other),
            (
                "UNIQUE constraint failed: users.pool_id, users.sub",
                Conflict::Other,
            ),
            ("pools_pkey", Conflict::Other),
            ("UNIQUE constraint failed: clients.id", Conflict::Other),
        ];
        for (text, kind) in cases {
            assert_eq!(conflict_kind(text), kind, "{text}");
        }
    }
}
