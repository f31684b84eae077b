//! OAuth scopes: the standard ones, custom `<resource server>/<scope>` ones, and which user
//! attributes each standard scope releases.

use std::collections::BTreeMap;

pub const OPENID: &str = "openid";
pub const EMAIL: &str = "email";
pub const PHONE: &str = "phone";
pub const PROFILE: &str = "profile";
pub use crate::service::issue::ADMIN_SCOPE;

/// Scopes without a resource server.
pub const STANDARD: &[&str] = &[OPENID, EMAIL, PHONE, PROFILE, ADMIN_SCOPE];

pub fn is_custom(scope: &str) -> bool {
    !STANDARD.contains(&scope)
}

/// A space-separated scope parameter, split; empty parts (double spaces) are dropped and
/// repeats removed, keeping the first order.
pub fn parse(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

pub fn has(scopes: &[String], scope: &str) -> bool {
    scopes.iter().any(|s| s == scope)
}

/// Whether an attribute is released under these scopes. With `openid` alone every readable
/// attribute is; once `email`, `phone` or `profile` is asked for, only what they cover:
/// `email` the email and its verification, `phone` the phone number and its verification,
/// `profile` everything else.
pub fn releases(scopes: &[String], attribute: &str) -> bool {
    let email = has(scopes, EMAIL);
    let phone = has(scopes, PHONE);
    let profile = has(scopes, PROFILE);
    if !email && !phone && !profile {
        return true;
    }
    match attribute {
        "email" | "email_verified" => email,
        "phone_number" | "phone_number_verified" => phone,
        _ => profile,
    }
}

/// The attributes a client may read, filtered by scope, as claims: `*_verified` as JSON
/// booleans in tokens (`as_strings` false) or as the strings Cognito's userInfo returns.
pub fn attribute_claims(
    attributes: &BTreeMap<String, String>,
    readable: Option<&[String]>,
    scopes: &[String],
    as_strings: bool,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let mut out = serde_json::Map::new();
    for (name, value) in attributes {
        // Developer-only (`dev:`) attributes are never released to an app client.
        if name == "sub"
            || name.starts_with("dev:")
            || readable.is_some_and(|r| !r.contains(name))
            || !releases(scopes, name)
        {
            continue;
        }
        let v = match name.as_str() {
            _ if as_strings => json!(value),
            "email_verified" | "phone_number_verified" => json!(value == "true"),
            "updated_at" => value
                .parse::<i64>()
                .map_or_else(|_| json!(value), |n| json!(n)),
            _ => json!(value),
        };
        out.insert(name.clone(), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parsing() {
        assert_eq!(parse(" openid  email openid "), v(&["openid", "email"]));
        assert!(parse("").is_empty());
        assert!(is_custom("api/read"));
        assert!(!is_custom("openid"));
    }

    #[test]
    fn release_rules() {
        assert!(releases(&v(&["openid"]), "email"));
        assert!(releases(&v(&["openid"]), "custom:x"));
        assert!(releases(&v(&["openid", "email"]), "email_verified"));
        assert!(!releases(&v(&["openid", "email"]), "phone_number"));
        assert!(!releases(&v(&["openid", "email"]), "name"));
        assert!(releases(&v(&["openid", "profile"]), "name"));
        assert!(!releases(&v(&["openid", "profile"]), "email"));
        assert!(releases(&v(&["openid", "phone"]), "phone_number_verified"));
    }

    #[test]
    fn claims_types() {
        let mut attrs = BTreeMap::new();
        attrs.insert("sub".to_owned(), "s".to_owned());
        attrs.insert("email".to_owned(), "a@b.c".to_owned());
        attrs.insert("email_verified".to_owned(), "true".to_owned());
        let c = attribute_claims(&attrs, None, &v(&["openid"]), false);
        assert_eq!(c["email_verified"], serde_json::json!(true));
        assert!(!c.contains_key("sub"));
        let c = attribute_claims(&attrs, None, &v(&["openid"]), true);
        assert_eq!(c["email_verified"], serde_json::json!("true"));
        let only = vec!["email".to_owned()];
        let c = attribute_claims(&attrs, Some(&only), &v(&["openid"]), false);
        assert!(!c.contains_key("email_verified"));
    }
}
