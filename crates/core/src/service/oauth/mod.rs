//! OAuth 2.0 and OpenID Connect: resource servers and their scopes, user pool domains, the
//! hosted sign-in, authorization codes with PKCE, and the token, revocation and userInfo
//! endpoints. The HTTP edge (`crates/http/src/oauth`, `crates/http/src/ui`) only parses and
//! renders; every rule lives here.

pub mod authorize;
pub mod domains;
pub mod error;
pub mod hosted;
pub mod mint;
pub mod records;
pub mod resource_servers;
pub mod scopes;
pub mod token;
pub mod ui_customization;
pub mod userinfo;

pub use records::{
    AuthCodeRecord, DomainRecord, OAuthGrantRecord, OAuthRepo, ResourceServerRecord,
    UiCustomizationRecord,
};
