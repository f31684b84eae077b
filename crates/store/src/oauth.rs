//! OAuth state: resource servers, user pool domains, authorization codes (by hash) and the
//! scopes granted to OAuth sign-in lineages. Every table cascades from its pool.

use async_trait::async_trait;
use portcullis_core::repo::StoreResult;
use portcullis_core::service::oauth::{
    AuthCodeRecord, DomainRecord, OAuthGrantRecord, OAuthRepo, ResourceServerRecord,
    UiCustomizationRecord,
};

use crate::SqlStore;
use crate::error::{backend, corrupt, encode};

const RS_INSERT: &str = "INSERT INTO resource_servers \
                         (pool_id, identifier, name, scopes, created_ms, modified_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6)";
const RS_GET: &str = "SELECT pool_id, identifier, name, scopes, created_ms, modified_ms \
                      FROM resource_servers WHERE pool_id = $1 AND identifier = $2";
const RS_UPDATE: &str = "UPDATE resource_servers SET name = $3, scopes = $4, modified_ms = $5 \
                         WHERE pool_id = $1 AND identifier = $2";
const RS_DELETE: &str = "DELETE FROM resource_servers WHERE pool_id = $1 AND identifier = $2";
const RS_LIST_FIRST: &str = "SELECT pool_id, identifier, name, scopes, created_ms, modified_ms \
                             FROM resource_servers WHERE pool_id = $1 \
                             ORDER BY identifier LIMIT CAST($2 AS BIGINT)";
const RS_LIST_AFTER: &str = "SELECT pool_id, identifier, name, scopes, created_ms, modified_ms \
                             FROM resource_servers WHERE pool_id = $1 AND identifier > $2 \
                             ORDER BY identifier LIMIT CAST($3 AS BIGINT)";

const DOMAIN_INSERT: &str = "INSERT INTO user_pool_domains (domain, pool_id, custom, \
                             certificate_arn, managed_login_version, created_ms, modified_ms) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)";
const DOMAIN_GET: &str = "SELECT domain, pool_id, custom, certificate_arn, \
                          managed_login_version, created_ms, modified_ms \
                          FROM user_pool_domains WHERE domain = $1";
const DOMAIN_OF_POOL: &str = "SELECT domain, pool_id, custom, certificate_arn, \
                              managed_login_version, created_ms, modified_ms \
                              FROM user_pool_domains WHERE pool_id = $1 ORDER BY custom";
const DOMAIN_UPDATE: &str = "UPDATE user_pool_domains SET certificate_arn = $3, \
                             managed_login_version = $4, modified_ms = $5 \
                             WHERE domain = $1 AND pool_id = $2";
const DOMAIN_DELETE: &str = "DELETE FROM user_pool_domains WHERE pool_id = $1 AND domain = $2";

const CODE_INSERT: &str = "INSERT INTO oauth_codes (code_hash, pool_id, client_id, sub, \
                           redirect_uri, scopes, nonce, code_challenge, origin_jti, auth_time, \
                           created_ms, expires_ms, used) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
const CODE_GET: &str = "SELECT code_hash, pool_id, client_id, sub, redirect_uri, scopes, nonce, \
                        code_challenge, origin_jti, auth_time, created_ms, expires_ms, used \
                        FROM oauth_codes WHERE code_hash = $1";
/// Conditional, so of two concurrent redemptions exactly one sees a row change.
const CODE_CONSUME: &str = "UPDATE oauth_codes SET used = 1 WHERE code_hash = $1 AND used = 0";
const CODE_PURGE: &str = "DELETE FROM oauth_codes WHERE expires_ms < $1";

const GRANT_PUT: &str = "INSERT INTO oauth_grants (pool_id, origin_jti, client_id, scopes, \
                         created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (pool_id, origin_jti) DO UPDATE SET \
                         client_id = excluded.client_id, scopes = excluded.scopes, \
                         expires_ms = excluded.expires_ms";
const GRANT_GET: &str = "SELECT pool_id, origin_jti, client_id, scopes, created_ms, expires_ms \
                         FROM oauth_grants WHERE pool_id = $1 AND origin_jti = $2";

const UI_PUT: &str = "INSERT INTO ui_customizations (pool_id, client_id, css, image, image_type, \
                      created_ms, modified_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                      ON CONFLICT (pool_id, client_id) DO UPDATE SET css = excluded.css, \
                      image = excluded.image, image_type = excluded.image_type, \
                      modified_ms = excluded.modified_ms";
const UI_GET: &str = "SELECT pool_id, client_id, css, image, image_type, created_ms, modified_ms \
                      FROM ui_customizations WHERE pool_id = $1 AND client_id = $2";

#[derive(sqlx::FromRow)]
struct UiRow {
    pool_id: String,
    client_id: String,
    css: Option<String>,
    image: Option<Vec<u8>>,
    image_type: Option<String>,
    created_ms: i64,
    modified_ms: i64,
}

impl From<UiRow> for UiCustomizationRecord {
    fn from(row: UiRow) -> Self {
        UiCustomizationRecord {
            pool_id: row.pool_id,
            client_id: row.client_id,
            css: row.css,
            image: row.image,
            image_type: row.image_type,
            created_ms: row.created_ms,
            modified_ms: row.modified_ms,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ResourceServerRow {
    pool_id: String,
    identifier: String,
    name: String,
    scopes: String,
    created_ms: i64,
    modified_ms: i64,
}

impl ResourceServerRow {
    fn into_record(self) -> StoreResult<ResourceServerRecord> {
        let scopes = serde_json::from_str(&self.scopes).map_err(|e| {
            corrupt(
                &format!(
                    "scopes of resource server {} in {}",
                    self.identifier, self.pool_id
                ),
                e,
            )
        })?;
        Ok(ResourceServerRecord {
            pool_id: self.pool_id,
            identifier: self.identifier,
            name: self.name,
            scopes,
            created_ms: self.created_ms,
            modified_ms: self.modified_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DomainRow {
    domain: String,
    pool_id: String,
    custom: i64,
    certificate_arn: Option<String>,
    managed_login_version: Option<i64>,
    created_ms: i64,
    modified_ms: i64,
}

impl From<DomainRow> for DomainRecord {
    fn from(row: DomainRow) -> Self {
        DomainRecord {
            domain: row.domain,
            pool_id: row.pool_id,
            custom: row.custom != 0,
            certificate_arn: row.certificate_arn,
            managed_login_version: row.managed_login_version,
            created_ms: row.created_ms,
            modified_ms: row.modified_ms,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: String,
    pool_id: String,
    client_id: String,
    sub: String,
    redirect_uri: String,
    scopes: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    origin_jti: String,
    auth_time: i64,
    created_ms: i64,
    expires_ms: i64,
    used: i64,
}

impl From<CodeRow> for AuthCodeRecord {
    fn from(row: CodeRow) -> Self {
        AuthCodeRecord {
            code_hash: row.code_hash,
            pool_id: row.pool_id,
            client_id: row.client_id,
            sub: row.sub,
            redirect_uri: row.redirect_uri,
            scopes: row.scopes,
            nonce: row.nonce,
            code_challenge: row.code_challenge,
            origin_jti: row.origin_jti,
            auth_time: row.auth_time,
            created_ms: row.created_ms,
            expires_ms: row.expires_ms,
            used: row.used != 0,
        }
    }
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    pool_id: String,
    origin_jti: String,
    client_id: String,
    scopes: String,
    created_ms: i64,
    expires_ms: Option<i64>,
}

impl From<GrantRow> for OAuthGrantRecord {
    fn from(row: GrantRow) -> Self {
        OAuthGrantRecord {
            pool_id: row.pool_id,
            origin_jti: row.origin_jti,
            client_id: row.client_id,
            scopes: row.scopes,
            created_ms: row.created_ms,
            expires_ms: row.expires_ms,
        }
    }
}

#[async_trait]
impl OAuthRepo for SqlStore {
    async fn insert_resource_server(&self, rs: &ResourceServerRecord) -> StoreResult<()> {
        let scopes = serde_json::to_string(&rs.scopes).map_err(encode("resource server scopes"))?;
        with_pool!(self, db => sqlx::query(RS_INSERT)
            .bind(&rs.pool_id)
            .bind(&rs.identifier)
            .bind(&rs.name)
            .bind(&scopes)
            .bind(rs.created_ms)
            .bind(rs.modified_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_resource_server"))?;
        Ok(())
    }

    async fn get_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServerRecord>> {
        with_pool!(self, db => sqlx::query_as::<_, ResourceServerRow>(RS_GET)
            .bind(pool_id)
            .bind(identifier)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_resource_server"))?
        .map(ResourceServerRow::into_record)
        .transpose()
    }

    async fn update_resource_server(&self, rs: &ResourceServerRecord) -> StoreResult<bool> {
        let scopes = serde_json::to_string(&rs.scopes).map_err(encode("resource server scopes"))?;
        let changed = with_pool!(self, db => sqlx::query(RS_UPDATE)
            .bind(&rs.pool_id)
            .bind(&rs.identifier)
            .bind(&rs.name)
            .bind(&scopes)
            .bind(rs.modified_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("update_resource_server"))?;
        Ok(changed > 0)
    }

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool> {
        let deleted = with_pool!(self, db => sqlx::query(RS_DELETE)
            .bind(pool_id)
            .bind(identifier)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("delete_resource_server"))?;
        Ok(deleted > 0)
    }

    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ResourceServerRecord>> {
        let limit = i64::from(limit);
        let rows = with_pool!(self, db => match after {
            None => {
                sqlx::query_as::<_, ResourceServerRow>(RS_LIST_FIRST)
                    .bind(pool_id)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
            Some(after) => {
                sqlx::query_as::<_, ResourceServerRow>(RS_LIST_AFTER)
                    .bind(pool_id)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
            }
        })
        .map_err(backend("list_resource_servers"))?;
        rows.into_iter()
            .map(ResourceServerRow::into_record)
            .collect()
    }

    async fn insert_domain(&self, d: &DomainRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(DOMAIN_INSERT)
            .bind(&d.domain)
            .bind(&d.pool_id)
            .bind(i64::from(d.custom))
            .bind(d.certificate_arn.as_deref())
            .bind(d.managed_login_version)
            .bind(d.created_ms)
            .bind(d.modified_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_domain"))?;
        Ok(())
    }

    async fn get_domain(&self, domain: &str) -> StoreResult<Option<DomainRecord>> {
        let row = with_pool!(self, db => sqlx::query_as::<_, DomainRow>(DOMAIN_GET)
            .bind(domain)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_domain"))?;
        Ok(row.map(DomainRecord::from))
    }

    async fn pool_domains(&self, pool_id: &str) -> StoreResult<Vec<DomainRecord>> {
        let rows = with_pool!(self, db => sqlx::query_as::<_, DomainRow>(DOMAIN_OF_POOL)
            .bind(pool_id)
            .fetch_all(db)
            .await)
        .map_err(backend("pool_domains"))?;
        Ok(rows.into_iter().map(DomainRecord::from).collect())
    }

    async fn update_domain(&self, d: &DomainRecord) -> StoreResult<bool> {
        let changed = with_pool!(self, db => sqlx::query(DOMAIN_UPDATE)
            .bind(&d.domain)
            .bind(&d.pool_id)
            .bind(d.certificate_arn.as_deref())
            .bind(d.managed_login_version)
            .bind(d.modified_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("update_domain"))?;
        Ok(changed > 0)
    }

    async fn delete_domain(&self, pool_id: &str, domain: &str) -> StoreResult<bool> {
        let deleted = with_pool!(self, db => sqlx::query(DOMAIN_DELETE)
            .bind(pool_id)
            .bind(domain)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("delete_domain"))?;
        Ok(deleted > 0)
    }

    async fn insert_auth_code(&self, c: &AuthCodeRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(CODE_INSERT)
            .bind(&c.code_hash)
            .bind(&c.pool_id)
            .bind(&c.client_id)
            .bind(&c.sub)
            .bind(&c.redirect_uri)
            .bind(&c.scopes)
            .bind(c.nonce.as_deref())
            .bind(c.code_challenge.as_deref())
            .bind(&c.origin_jti)
            .bind(c.auth_time)
            .bind(c.created_ms)
            .bind(c.expires_ms)
            .bind(i64::from(c.used))
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_auth_code"))?;
        Ok(())
    }

    async fn get_auth_code(&self, code_hash: &str) -> StoreResult<Option<AuthCodeRecord>> {
        let row = with_pool!(self, db => sqlx::query_as::<_, CodeRow>(CODE_GET)
            .bind(code_hash)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_auth_code"))?;
        Ok(row.map(AuthCodeRecord::from))
    }

    async fn consume_auth_code(&self, code_hash: &str) -> StoreResult<bool> {
        let changed = with_pool!(self, db => sqlx::query(CODE_CONSUME)
            .bind(code_hash)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("consume_auth_code"))?;
        Ok(changed > 0)
    }

    async fn purge_auth_codes(&self, before_ms: i64) -> StoreResult<u64> {
        with_pool!(self, db => sqlx::query(CODE_PURGE)
            .bind(before_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("purge_auth_codes"))
    }

    async fn put_oauth_grant(&self, g: &OAuthGrantRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(GRANT_PUT)
            .bind(&g.pool_id)
            .bind(&g.origin_jti)
            .bind(&g.client_id)
            .bind(&g.scopes)
            .bind(g.created_ms)
            .bind(g.expires_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("put_oauth_grant"))?;
        Ok(())
    }

    async fn get_oauth_grant(
        &self,
        pool_id: &str,
        origin_jti: &str,
    ) -> StoreResult<Option<OAuthGrantRecord>> {
        let row = with_pool!(self, db => sqlx::query_as::<_, GrantRow>(GRANT_GET)
            .bind(pool_id)
            .bind(origin_jti)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_oauth_grant"))?;
        Ok(row.map(OAuthGrantRecord::from))
    }

    async fn put_ui_customization(&self, ui: &UiCustomizationRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(UI_PUT)
            .bind(&ui.pool_id)
            .bind(&ui.client_id)
            .bind(ui.css.as_deref())
            .bind(ui.image.as_deref())
            .bind(ui.image_type.as_deref())
            .bind(ui.created_ms)
            .bind(ui.modified_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("put_ui_customization"))?;
        Ok(())
    }

    async fn get_ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<UiCustomizationRecord>> {
        let row = with_pool!(self, db => sqlx::query_as::<_, UiRow>(UI_GET)
            .bind(pool_id)
            .bind(client_id)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_ui_customization"))?;
        Ok(row.map(UiCustomizationRecord::from))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! Each case runs on SQLite and, when `PORTCULLIS_TEST_POSTGRES_URL` is set, on PostgreSQL
    //! in a fresh schema (as `tests/store.rs` does).

    use portcullis_core::domain::PoolRecord;
    use portcullis_core::repo::{Conflict, PoolRepo, StoreError};
    use portcullis_core::service::oauth::records::ResourceServerScopeType;

    use super::*;

    use crate::test_support::both;

    both!(
        resource_servers_round_trip,
        domains_are_unique,
        codes_are_single_use,
        grants_upsert,
        pool_deletion_cascades,
        ui_customizations_replace,
    );

    async fn ui_customizations_replace(s: SqlStore) {
        pool(&s, "us-east-1_a").await;
        let mut ui = UiCustomizationRecord {
            pool_id: "us-east-1_a".to_owned(),
            client_id: "ALL".to_owned(),
            css: Some(".banner-customizable { color: red; }".to_owned()),
            image: Some(vec![0x89, b'P', b'N', b'G', 0, 1, 2]),
            image_type: Some("image/png".to_owned()),
            created_ms: 1,
            modified_ms: 1,
        };
        s.put_ui_customization(&ui).await.unwrap();
        assert_eq!(
            s.get_ui_customization("us-east-1_a", "ALL").await.unwrap(),
            Some(ui.clone())
        );
        let created = ui.created_ms;
        ui.css = None;
        ui.image = None;
        ui.image_type = None;
        ui.created_ms = 99;
        ui.modified_ms = 2;
        s.put_ui_customization(&ui).await.unwrap();
        let got = s
            .get_ui_customization("us-east-1_a", "ALL")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.css, None);
        assert_eq!(got.image, None);
        assert_eq!((got.created_ms, got.modified_ms), (created, 2));
        assert!(
            s.get_ui_customization("us-east-1_a", "c1")
                .await
                .unwrap()
                .is_none()
        );
        assert!(s.delete_pool("us-east-1_a").await.unwrap());
        assert!(
            s.get_ui_customization("us-east-1_a", "ALL")
                .await
                .unwrap()
                .is_none()
        );
    }

    async fn pool(s: &SqlStore, id: &str) {
        let settings = serde_json::from_value(serde_json::json!({"Id": id, "Name": id})).unwrap();
        s.insert_pool(&PoolRecord {
            id: id.to_owned(),
            name: id.to_owned(),
            created_ms: 1,
            modified_ms: 1,
            settings,
        })
        .await
        .unwrap();
    }

    fn rs(pool_id: &str, identifier: &str) -> ResourceServerRecord {
        ResourceServerRecord {
            pool_id: pool_id.to_owned(),
            identifier: identifier.to_owned(),
            name: "n".to_owned(),
            scopes: vec![ResourceServerScopeType {
                scope_name: "read".to_owned(),
                scope_description: "Read".to_owned(),
            }],
            created_ms: 5,
            modified_ms: 6,
        }
    }

    fn domain(pool_id: &str, name: &str, custom: bool) -> DomainRecord {
        DomainRecord {
            domain: name.to_owned(),
            pool_id: pool_id.to_owned(),
            custom,
            certificate_arn: custom.then(|| "arn:aws:acm:us-east-1:1:certificate/x".to_owned()),
            managed_login_version: Some(1),
            created_ms: 1,
            modified_ms: 1,
        }
    }

    fn code(pool_id: &str, hash: &str, expires_ms: i64) -> AuthCodeRecord {
        AuthCodeRecord {
            code_hash: hash.to_owned(),
            pool_id: pool_id.to_owned(),
            client_id: "c".to_owned(),
            sub: "s".to_owned(),
            redirect_uri: "https://app.example.com/cb".to_owned(),
            scopes: "openid email".to_owned(),
            nonce: Some("n".to_owned()),
            code_challenge: None,
            origin_jti: "o".to_owned(),
            auth_time: 7,
            created_ms: 1,
            expires_ms,
            used: false,
        }
    }

    async fn resource_servers_round_trip(s: SqlStore) {
        pool(&s, "us-east-1_a").await;
        pool(&s, "us-east-1_b").await;
        for id in ["b", "a", "https://api", "c"] {
            s.insert_resource_server(&rs("us-east-1_a", id))
                .await
                .unwrap();
        }
        // The same identifier in another pool is another resource server.
        s.insert_resource_server(&rs("us-east-1_b", "a"))
            .await
            .unwrap();
        assert!(matches!(
            s.insert_resource_server(&rs("us-east-1_a", "a")).await,
            Err(StoreError::Conflict(Conflict::Other))
        ));
        let got = s.get_resource_server("us-east-1_a", "a").await.unwrap();
        assert_eq!(got, Some(rs("us-east-1_a", "a")));
        let page = s
            .list_resource_servers("us-east-1_a", None, 2)
            .await
            .unwrap();
        let ids: Vec<_> = page.iter().map(|r| r.identifier.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        let page = s
            .list_resource_servers("us-east-1_a", Some("b"), 10)
            .await
            .unwrap();
        let ids: Vec<_> = page.iter().map(|r| r.identifier.as_str()).collect();
        assert_eq!(ids, ["c", "https://api"]);
        let mut changed = rs("us-east-1_a", "a");
        changed.name = "renamed".to_owned();
        changed.scopes.clear();
        assert!(s.update_resource_server(&changed).await.unwrap());
        assert_eq!(
            s.get_resource_server("us-east-1_a", "a").await.unwrap(),
            Some(changed)
        );
        assert!(
            !s.update_resource_server(&rs("us-east-1_a", "zzz"))
                .await
                .unwrap()
        );
        assert!(s.delete_resource_server("us-east-1_a", "a").await.unwrap());
        assert!(!s.delete_resource_server("us-east-1_a", "a").await.unwrap());
        assert!(
            s.get_resource_server("us-east-1_b", "a")
                .await
                .unwrap()
                .is_some()
        );
    }

    async fn domains_are_unique(s: SqlStore) {
        pool(&s, "us-east-1_a").await;
        pool(&s, "us-east-1_b").await;
        s.insert_domain(&domain("us-east-1_a", "shop", false))
            .await
            .unwrap();
        s.insert_domain(&domain("us-east-1_a", "auth.example.com", true))
            .await
            .unwrap();
        // Taken by another pool; a second prefix domain for the same pool.
        assert!(matches!(
            s.insert_domain(&domain("us-east-1_b", "shop", false)).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            s.insert_domain(&domain("us-east-1_a", "shop2", false))
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            s.get_domain("shop").await.unwrap(),
            Some(domain("us-east-1_a", "shop", false))
        );
        let mine = s.pool_domains("us-east-1_a").await.unwrap();
        assert_eq!(mine.len(), 2);
        assert!(!mine[0].custom && mine[1].custom);
        let mut d = domain("us-east-1_a", "shop", false);
        d.managed_login_version = Some(2);
        d.modified_ms = 9;
        assert!(s.update_domain(&d).await.unwrap());
        assert_eq!(s.get_domain("shop").await.unwrap(), Some(d));
        // Only through its own pool.
        assert!(!s.delete_domain("us-east-1_b", "shop").await.unwrap());
        assert!(s.delete_domain("us-east-1_a", "shop").await.unwrap());
        assert!(s.get_domain("shop").await.unwrap().is_none());
        s.insert_domain(&domain("us-east-1_b", "shop", false))
            .await
            .unwrap();
    }

    async fn codes_are_single_use(s: SqlStore) {
        pool(&s, "us-east-1_a").await;
        s.insert_auth_code(&code("us-east-1_a", "h1", 100))
            .await
            .unwrap();
        s.insert_auth_code(&code("us-east-1_a", "h2", 500))
            .await
            .unwrap();
        assert_eq!(
            s.get_auth_code("h1").await.unwrap(),
            Some(code("us-east-1_a", "h1", 100))
        );
        assert!(s.consume_auth_code("h1").await.unwrap());
        assert!(!s.consume_auth_code("h1").await.unwrap());
        assert!(!s.consume_auth_code("missing").await.unwrap());
        assert!(s.get_auth_code("h1").await.unwrap().unwrap().used);
        // Of two concurrent redemptions, exactly one wins.
        let (a, b) = tokio::join!(s.consume_auth_code("h2"), s.consume_auth_code("h2"));
        assert!(a.unwrap() ^ b.unwrap());
        assert_eq!(s.purge_auth_codes(200).await.unwrap(), 1);
        assert!(s.get_auth_code("h1").await.unwrap().is_none());
        assert!(s.get_auth_code("h2").await.unwrap().is_some());
    }

    async fn grants_upsert(s: SqlStore) {
        pool(&s, "us-east-1_a").await;
        let mut g = OAuthGrantRecord {
            pool_id: "us-east-1_a".to_owned(),
            origin_jti: "o1".to_owned(),
            client_id: "c".to_owned(),
            scopes: "openid".to_owned(),
            created_ms: 1,
            expires_ms: Some(2),
        };
        s.put_oauth_grant(&g).await.unwrap();
        g.scopes = "openid email".to_owned();
        s.put_oauth_grant(&g).await.unwrap();
        assert_eq!(
            s.get_oauth_grant("us-east-1_a", "o1").await.unwrap(),
            Some(g)
        );
        assert!(
            s.get_oauth_grant("us-east-1_a", "o2")
                .await
                .unwrap()
                .is_none()
        );
    }

    async fn pool_deletion_cascades(s: SqlStore) {
        pool(&s, "us-east-1_a").await;
        pool(&s, "us-east-1_b").await;
        for p in ["us-east-1_a", "us-east-1_b"] {
            s.insert_resource_server(&rs(p, "api")).await.unwrap();
            s.insert_auth_code(&code(p, &format!("code-{p}"), 100))
                .await
                .unwrap();
            s.put_oauth_grant(&OAuthGrantRecord {
                pool_id: p.to_owned(),
                origin_jti: "o".to_owned(),
                client_id: "c".to_owned(),
                scopes: "openid".to_owned(),
                created_ms: 1,
                expires_ms: Some(2),
            })
            .await
            .unwrap();
        }
        s.insert_domain(&domain("us-east-1_a", "shop", false))
            .await
            .unwrap();
        assert!(s.delete_pool("us-east-1_a").await.unwrap());
        assert!(s.get_domain("shop").await.unwrap().is_none());
        assert!(
            s.get_resource_server("us-east-1_a", "api")
                .await
                .unwrap()
                .is_none()
        );
        assert!(s.get_auth_code("code-us-east-1_a").await.unwrap().is_none());
        assert!(
            s.get_oauth_grant("us-east-1_a", "o")
                .await
                .unwrap()
                .is_none()
        );
        // The other pool keeps its own.
        assert!(
            s.get_resource_server("us-east-1_b", "api")
                .await
                .unwrap()
                .is_some()
        );
        assert!(s.get_auth_code("code-us-east-1_b").await.unwrap().is_some());
    }
}
