//! What the OAuth side keeps in the store: resource servers, user pool domains, authorization
//! codes and the scopes granted to an OAuth sign-in lineage; and the repository trait over them.

use async_trait::async_trait;
pub use portcullis_proto::ResourceServerScopeType;

use crate::repo::StoreResult;

/// A resource server: an API whose scopes (`<identifier>/<scope>`) app clients may be granted.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceServerRecord {
    pub pool_id: String,
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ResourceServerScopeType>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// A user pool domain. A prefix domain (`myapp`) is served on any host whose first label is
/// the prefix; a custom domain (`auth.example.com`) on exactly that host. A pool has at most
/// one of each, and a domain belongs to one pool.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainRecord {
    pub domain: String,
    pub pool_id: String,
    pub custom: bool,
    pub certificate_arn: Option<String>,
    pub managed_login_version: Option<i64>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// An authorization code. Only the SHA-256 of the code is stored; it is single use, and the
/// row outlives its use so a replay can be recognised (and the tokens minted from it revoked).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthCodeRecord {
    pub code_hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub sub: String,
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scopes: String,
    pub nonce: Option<String>,
    /// BASE64URL(SHA-256(code_verifier)); only S256 is accepted.
    pub code_challenge: Option<String>,
    /// The lineage the tokens redeemed with this code will carry.
    pub origin_jti: String,
    /// Seconds: when the user signed in.
    pub auth_time: i64,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub used: bool,
}

/// The scopes granted to one OAuth sign-in lineage, so refreshed tokens carry them again.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthGrantRecord {
    pub pool_id: String,
    pub origin_jti: String,
    pub client_id: String,
    /// Space-separated.
    pub scopes: String,
    pub created_ms: i64,
    /// When the newest refresh token of the lineage expires; the sweeper removes the grant
    /// after that. None for grants written before this was recorded.
    pub expires_ms: Option<i64>,
}

/// Hosted-page branding of a pool (`client_id` `ALL`) or of one app client.
#[derive(Debug, Clone, PartialEq)]
pub struct UiCustomizationRecord {
    pub pool_id: String,
    /// An app client id, or `ALL` for the pool's default.
    pub client_id: String,
    pub css: Option<String>,
    /// PNG or JPEG bytes.
    pub image: Option<Vec<u8>>,
    /// `image/png` or `image/jpeg`.
    pub image_type: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

#[async_trait]
pub trait OAuthRepo: Send + Sync {
    /// Conflict when the pool already has a resource server with this identifier.
    async fn insert_resource_server(&self, rs: &ResourceServerRecord) -> StoreResult<()>;
    async fn get_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServerRecord>>;
    /// False when there was no such resource server.
    async fn update_resource_server(&self, rs: &ResourceServerRecord) -> StoreResult<bool>;
    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool>;
    /// Ordered by identifier; `after` is the last identifier seen.
    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ResourceServerRecord>>;

    /// Conflict when the domain is taken, or the pool already has a domain of that kind.
    async fn insert_domain(&self, domain: &DomainRecord) -> StoreResult<()>;
    async fn get_domain(&self, domain: &str) -> StoreResult<Option<DomainRecord>>;
    async fn pool_domains(&self, pool_id: &str) -> StoreResult<Vec<DomainRecord>>;
    /// False when the pool has no such domain.
    async fn update_domain(&self, domain: &DomainRecord) -> StoreResult<bool>;
    async fn delete_domain(&self, pool_id: &str, domain: &str) -> StoreResult<bool>;

    async fn insert_auth_code(&self, code: &AuthCodeRecord) -> StoreResult<()>;
    async fn get_auth_code(&self, code_hash: &str) -> StoreResult<Option<AuthCodeRecord>>;
    /// Marks the code used; true only for the one caller that did (single use).
    async fn consume_auth_code(&self, code_hash: &str) -> StoreResult<bool>;
    /// Removes codes that expired before `before_ms`; returns how many.
    async fn purge_auth_codes(&self, before_ms: i64) -> StoreResult<u64>;

    /// Idempotent per (pool, origin_jti).
    async fn put_oauth_grant(&self, grant: &OAuthGrantRecord) -> StoreResult<()>;
    async fn get_oauth_grant(
        &self,
        pool_id: &str,
        origin_jti: &str,
    ) -> StoreResult<Option<OAuthGrantRecord>>;

    /// Replaces the branding of (pool, client).
    async fn put_ui_customization(&self, ui: &UiCustomizationRecord) -> StoreResult<()>;
    async fn get_ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<UiCustomizationRecord>>;
}
