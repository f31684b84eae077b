//! User pool domains: CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain,
//! DeleteUserPoolDomain, and which pool a request's Host header names.
//!
//! A prefix domain `myapp` is served on any host whose first label is `myapp` (Cognito's
//! `myapp.auth.<region>.amazoncognito.com`; here, for example, `myapp.auth.example.com`
//! pointed at this server). A custom domain is served on exactly that host name.

use portcullis_proto::{
    CreateUserPoolDomainRequest, CreateUserPoolDomainResponse, CustomDomainConfigType,
    DeleteUserPoolDomainRequest, DescribeUserPoolDomainRequest, DescribeUserPoolDomainResponse,
    DomainDescriptionType, UpdateUserPoolDomainRequest, UpdateUserPoolDomainResponse, UserPoolType,
};

use super::records::DomainRecord;
use crate::context::Core;
use crate::error::ApiError;
use crate::repo::StoreError;
use crate::service::load_pool;

const RESERVED: &[&str] = &["aws", "amazon", "cognito"];

/// `[a-z0-9-]`, 1..63, not starting or ending with `-`, free of Cognito's reserved words.
pub fn check_prefix(domain: &str) -> Result<(), ApiError> {
    let ok_chars = domain
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if domain.is_empty()
        || domain.len() > 63
        || !ok_chars
        || domain.starts_with('-')
        || domain.ends_with('-')
    {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid domain {domain:?}: a domain prefix has 1 to 63 characters a-z, 0-9 and -, and neither starts nor ends with -."
        )));
    }
    if let Some(word) = RESERVED.iter().find(|w| domain.contains(*w)) {
        return Err(ApiError::invalid_parameter(format!(
            "Domain cannot contain reserved word: {word}"
        )));
    }
    Ok(())
}

/// A host name: dot-separated labels of `[a-z0-9-]`, at least two labels.
pub fn check_custom(domain: &str) -> Result<(), ApiError> {
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "Invalid custom domain {domain:?}: expected a lowercase host name such as auth.example.com."
        )))
    }
}

/// The host part of the public URL: where a custom domain's CNAME should point.
fn public_host(core: &Core) -> String {
    let url = &core.settings.public_url;
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    rest.split('/').next().unwrap_or_default().to_owned()
}

fn taken(domain: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "Domain {domain} is already associated with another user pool."
    ))
}

fn no_such_domain() -> ApiError {
    ApiError::invalid_parameter("No such domain or user pool exists.")
}

pub async fn create_user_pool_domain(
    core: &Core,
    req: CreateUserPoolDomainRequest,
) -> Result<CreateUserPoolDomainResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let custom = req.custom_domain_config.is_some();
    if custom {
        check_custom(&req.domain)?;
    } else {
        check_prefix(&req.domain)?;
    }
    if core.store.get_domain(&req.domain).await?.is_some() {
        return Err(taken(&req.domain));
    }
    let existing = core.store.pool_domains(&pool.id).await?;
    if existing.iter().any(|d| d.custom == custom) {
        return Err(ApiError::invalid_parameter(format!(
            "User pool {} already has a {} domain configured.",
            pool.id,
            if custom { "custom" } else { "prefix" }
        )));
    }
    let now = core.now_ms();
    let version = req.managed_login_version.unwrap_or(1);
    if !(1..=2).contains(&version) {
        return Err(ApiError::invalid_parameter(
            "ManagedLoginVersion must be 1 or 2.",
        ));
    }
    let record = DomainRecord {
        domain: req.domain.clone(),
        pool_id: pool.id.clone(),
        custom,
        certificate_arn: req.custom_domain_config.map(|c| c.certificate_arn),
        managed_login_version: Some(version),
        created_ms: now,
        modified_ms: now,
    };
    core.store
        .insert_domain(&record)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => taken(&req.domain),
            other => ApiError::internal(other),
        })?;
    Ok(CreateUserPoolDomainResponse {
        managed_login_version: Some(version),
        cloud_front_domain: custom.then(|| public_host(core)),
    })
}

pub async fn describe_user_pool_domain(
    core: &Core,
    req: DescribeUserPoolDomainRequest,
) -> Result<DescribeUserPoolDomainResponse, ApiError> {
    // Cognito answers an unknown domain with an empty description, not an error.
    let Some(d) = core.store.get_domain(&req.domain).await? else {
        return Ok(DescribeUserPoolDomainResponse {
            domain_description: Some(DomainDescriptionType::default()),
        });
    };
    Ok(DescribeUserPoolDomainResponse {
        domain_description: Some(DomainDescriptionType {
            user_pool_id: Some(d.pool_id),
            aws_account_id: Some(core.settings.account_id.clone()),
            domain: Some(d.domain),
            s3_bucket: None,
            cloud_front_distribution: Some(public_host(core)),
            version: Some(d.modified_ms.to_string()),
            status: Some("ACTIVE".to_owned()),
            custom_domain_config: d.certificate_arn.map(|arn| CustomDomainConfigType {
                certificate_arn: arn,
            }),
            managed_login_version: d.managed_login_version,
        }),
    })
}

pub async fn update_user_pool_domain(
    core: &Core,
    req: UpdateUserPoolDomainRequest,
) -> Result<UpdateUserPoolDomainResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let mut d = core
        .store
        .get_domain(&req.domain)
        .await?
        .filter(|d| d.pool_id == req.user_pool_id)
        .ok_or_else(no_such_domain)?;
    if let Some(v) = req.managed_login_version {
        if !(1..=2).contains(&v) {
            return Err(ApiError::invalid_parameter(
                "ManagedLoginVersion must be 1 or 2.",
            ));
        }
        d.managed_login_version = Some(v);
    }
    if let Some(cfg) = req.custom_domain_config {
        if !d.custom {
            return Err(ApiError::invalid_parameter(
                "CustomDomainConfig applies only to custom domains.",
            ));
        }
        d.certificate_arn = Some(cfg.certificate_arn);
    }
    d.modified_ms = core.now_ms();
    if !core.store.update_domain(&d).await? {
        return Err(no_such_domain());
    }
    Ok(UpdateUserPoolDomainResponse {
        managed_login_version: d.managed_login_version,
        cloud_front_domain: d.custom.then(|| public_host(core)),
    })
}

pub async fn delete_user_pool_domain(
    core: &Core,
    req: DeleteUserPoolDomainRequest,
) -> Result<(), ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    if !core
        .store
        .delete_domain(&req.user_pool_id, &req.domain)
        .await?
    {
        return Err(no_such_domain());
    }
    Ok(())
}

/// Sets `Domain` and `CustomDomain` of a described pool.
pub async fn fill_pool_domains(core: &Core, pool: &mut UserPoolType) -> Result<(), ApiError> {
    let Some(id) = pool.id.clone() else {
        return Ok(());
    };
    for d in core.store.pool_domains(&id).await? {
        if d.custom {
            pool.custom_domain = Some(d.domain);
        } else {
            pool.domain = Some(d.domain);
        }
    }
    Ok(())
}

/// The pool a request's Host header names through a registered domain, if any: the whole
/// host (port removed) as a custom domain, else its first label as a prefix domain. IP
/// literals and the public URL's own host name no domain.
pub async fn pool_for_host(core: &Core, host: &str) -> Result<Option<String>, ApiError> {
    let name = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty()
        || name.parse::<std::net::IpAddr>().is_ok()
        || name.starts_with('[')
        || strip_port(&public_host(core)).eq_ignore_ascii_case(&name)
    {
        return Ok(None);
    }
    if name.contains('.')
        && let Some(d) = core.store.get_domain(&name).await?
        && d.custom
    {
        return Ok(Some(d.pool_id));
    }
    let first = name.split('.').next().unwrap_or_default();
    if check_prefix(first).is_err() {
        return Ok(None);
    }
    Ok(core
        .store
        .get_domain(first)
        .await?
        .filter(|d| !d.custom)
        .map(|d| d.pool_id))
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [v6]:port; an unclosed bracket is left whole (it names no domain of ours).
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_rules() {
        assert!(check_prefix("myapp").is_ok());
        assert!(check_prefix("my-app-2").is_ok());
        assert!(check_prefix("").is_err());
        assert!(check_prefix("-x").is_err());
        assert!(check_prefix("x-").is_err());
        assert!(check_prefix("My").is_err());
        assert!(check_prefix("a.b").is_err());
        assert!(check_prefix(&"a".repeat(64)).is_err());
        assert!(check_prefix("myaws").is_err());
        assert!(check_prefix("cognito-login").is_err());
    }

    #[test]
    fn custom_rules() {
        assert!(check_custom("auth.example.com").is_ok());
        assert!(check_custom("example").is_err());
        assert!(check_custom("a..b").is_err());
        assert!(check_custom("Auth.example.com").is_err());
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("a.example.com:8080"), "a.example.com");
        assert_eq!(strip_port("a.example.com"), "a.example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }

    #[test]
    fn an_unclosed_bracket_is_no_panic() {
        // `Host: [` reached `&host[..host.len() + 1]`.
        assert_eq!(strip_port("["), "[");
        assert_eq!(strip_port("[x"), "[x");
        assert_eq!(strip_port("[::1:80"), "[::1:80");
    }
}
