//! Rows as the tables hold them, and their conversion to and from core's records.
//!
//! The column lists are macros rather than consts so that `concat!` can splice them into
//! `&'static str` queries: sqlx 0.9 accepts only static SQL without an explicit assertion.

use std::collections::BTreeMap;

use portcullis_core::domain::{
    ClientRecord, GroupRecord, PoolRecord, UserKeys, UserRecord, UserStatus,
};
use portcullis_core::repo::StoreResult;

use crate::error::{corrupt, encode};

macro_rules! pool_columns {
    () => {
        "id, name, created_ms, modified_ms, settings"
    };
}

macro_rules! client_columns {
    () => {
        "id, pool_id, name, created_ms, modified_ms, secret_sealed, settings"
    };
}

/// What a user read needs; the filter columns are copies of attributes and are not read back.
macro_rules! user_columns {
    () => {
        "pool_id, sub, username, username_key, status, enabled, created_ms, modified_ms, \
         attributes, password_hash, password_set_ms, srp_sealed, email_key, phone_key, \
         preferred_key, version"
    };
}

/// Every written user column, in the order of [`bind_user!`]'s parameters `$1`..`$21`.
macro_rules! user_write_columns {
    () => {
        "pool_id, sub, username, username_key, status, enabled, created_ms, modified_ms, \
         attributes, password_hash, password_set_ms, srp_sealed, email_key, phone_key, \
         preferred_key, email, phone_number, name, given_name, family_name, preferred_username"
    };
}

/// Binds a [`UserParams`] as [`USER_PARAMS`] consecutive parameters, in [`user_write_columns!`] order.
macro_rules! bind_user {
    ($query:expr, $p:expr) => {
        $query
            .bind($p.pool_id)
            .bind($p.sub)
            .bind($p.username)
            .bind($p.username_key)
            .bind($p.status)
            .bind($p.enabled)
            .bind($p.created_ms)
            .bind($p.modified_ms)
            .bind(&$p.attributes)
            .bind($p.password_hash)
            .bind($p.password_set_ms)
            .bind($p.srp_sealed)
            .bind($p.email_key)
            .bind($p.phone_key)
            .bind($p.preferred_key)
            .bind($p.email)
            .bind($p.phone_number)
            .bind($p.name)
            .bind($p.given_name)
            .bind($p.family_name)
            .bind($p.preferred_username)
    };
}

macro_rules! group_columns {
    () => {
        "pool_id, name, description, role_arn, precedence, created_ms, modified_ms"
    };
}

pub(crate) const USER_PARAMS: usize = 21;

#[derive(sqlx::FromRow)]
pub(crate) struct PoolRow {
    id: String,
    name: String,
    created_ms: i64,
    modified_ms: i64,
    settings: String,
}

impl PoolRow {
    pub(crate) fn into_record(self) -> StoreResult<PoolRecord> {
        let settings = serde_json::from_str(&self.settings)
            .map_err(|e| corrupt(&format!("settings of pool {}", self.id), e))?;
        Ok(PoolRecord {
            id: self.id,
            name: self.name,
            created_ms: self.created_ms,
            modified_ms: self.modified_ms,
            settings,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    id: String,
    pool_id: String,
    name: String,
    created_ms: i64,
    modified_ms: i64,
    secret_sealed: Option<Vec<u8>>,
    settings: String,
}

impl ClientRow {
    pub(crate) fn into_record(self) -> StoreResult<ClientRecord> {
        let settings = serde_json::from_str(&self.settings)
            .map_err(|e| corrupt(&format!("settings of client {}", self.id), e))?;
        Ok(ClientRecord {
            id: self.id,
            pool_id: self.pool_id,
            name: self.name,
            created_ms: self.created_ms,
            modified_ms: self.modified_ms,
            secret_sealed: self.secret_sealed,
            settings,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pool_id: String,
    sub: String,
    username: String,
    username_key: String,
    status: String,
    enabled: i64,
    created_ms: i64,
    modified_ms: i64,
    attributes: String,
    password_hash: Option<String>,
    password_set_ms: Option<i64>,
    srp_sealed: Option<Vec<u8>>,
    email_key: Option<String>,
    phone_key: Option<String>,
    preferred_key: Option<String>,
    version: i64,
}

impl UserRow {
    /// Reads a row of [`user_columns!`] through rusqlite, for the inline reads.
    pub(crate) fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
        Ok(UserRow {
            pool_id: row.get(0)?,
            sub: row.get(1)?,
            username: row.get(2)?,
            username_key: row.get(3)?,
            status: row.get(4)?,
            enabled: row.get(5)?,
            created_ms: row.get(6)?,
            modified_ms: row.get(7)?,
            attributes: row.get(8)?,
            password_hash: row.get(9)?,
            password_set_ms: row.get(10)?,
            srp_sealed: row.get(11)?,
            email_key: row.get(12)?,
            phone_key: row.get(13)?,
            preferred_key: row.get(14)?,
            version: row.get(15)?,
        })
    }

    pub(crate) fn into_record(self) -> StoreResult<UserRecord> {
        let status = UserStatus::parse(&self.status)
            .ok_or_else(|| corrupt(&format!("status of user {}", self.sub), &self.status))?;
        let attributes: BTreeMap<String, String> = serde_json::from_str(&self.attributes)
            .map_err(|e| corrupt(&format!("attributes of user {}", self.sub), e))?;
        Ok(UserRecord {
            pool_id: self.pool_id,
            username: self.username,
            sub: self.sub,
            status,
            enabled: self.enabled != 0,
            created_ms: self.created_ms,
            modified_ms: self.modified_ms,
            attributes,
            password_hash: self.password_hash,
            password_set_ms: self.password_set_ms,
            srp_sealed: self.srp_sealed,
            keys: UserKeys {
                username: self.username_key,
                email: self.email_key,
                phone_number: self.phone_key,
                preferred_username: self.preferred_key,
            },
            version: self.version,
        })
    }
}

pub(crate) fn into_users(rows: Vec<UserRow>) -> StoreResult<Vec<UserRecord>> {
    rows.into_iter().map(UserRow::into_record).collect()
}

/// A user flattened into column values, borrowed from the record.
pub(crate) struct UserParams<'a> {
    pub pool_id: &'a str,
    pub sub: &'a str,
    pub username: &'a str,
    pub username_key: &'a str,
    /// Always upper case, so the status filter can compare case-insensitively by upper-casing
    /// only the filter value.
    pub status: &'static str,
    pub enabled: i64,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub attributes: String,
    pub password_hash: Option<&'a str>,
    pub password_set_ms: Option<i64>,
    pub srp_sealed: Option<&'a [u8]>,
    pub email_key: Option<&'a str>,
    pub phone_key: Option<&'a str>,
    pub preferred_key: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub name: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub preferred_username: Option<&'a str>,
}

impl<'a> UserParams<'a> {
    pub(crate) fn new(user: &'a UserRecord) -> StoreResult<Self> {
        let attributes = serde_json::to_string(&user.attributes).map_err(encode("attributes"))?;
        Ok(UserParams {
            pool_id: &user.pool_id,
            sub: &user.sub,
            username: &user.username,
            username_key: &user.keys.username,
            status: user.status.as_str(),
            enabled: i64::from(user.enabled),
            created_ms: user.created_ms,
            modified_ms: user.modified_ms,
            attributes,
            password_hash: user.password_hash.as_deref(),
            password_set_ms: user.password_set_ms,
            srp_sealed: user.srp_sealed.as_deref(),
            email_key: user.keys.email.as_deref(),
            phone_key: user.keys.phone_number.as_deref(),
            preferred_key: user.keys.preferred_username.as_deref(),
            email: user.attr("email"),
            phone_number: user.attr("phone_number"),
            name: user.attr("name"),
            given_name: user.attr("given_name"),
            family_name: user.attr("family_name"),
            preferred_username: user.attr("preferred_username"),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    pool_id: String,
    name: String,
    description: Option<String>,
    role_arn: Option<String>,
    precedence: Option<i64>,
    created_ms: i64,
    modified_ms: i64,
}

impl GroupRow {
    /// Reads a row of [`group_columns!`] through rusqlite, for the inline reads.
    pub(crate) fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<GroupRow> {
        Ok(GroupRow {
            pool_id: row.get(0)?,
            name: row.get(1)?,
            description: row.get(2)?,
            role_arn: row.get(3)?,
            precedence: row.get(4)?,
            created_ms: row.get(5)?,
            modified_ms: row.get(6)?,
        })
    }
}

impl From<GroupRow> for GroupRecord {
    fn from(row: GroupRow) -> Self {
        GroupRecord {
            pool_id: row.pool_id,
            name: row.name,
            description: row.description,
            role_arn: row.role_arn,
            precedence: row.precedence,
            created_ms: row.created_ms,
            modified_ms: row.modified_ms,
        }
    }
}
