//! App clients: their auth flows, token lifetimes, attribute permissions and OAuth settings.

use portcullis_proto::{
    CreateUserPoolClientRequest, CreateUserPoolClientResponse, DeleteUserPoolClientRequest,
    DescribeUserPoolClientRequest, DescribeUserPoolClientResponse, ListUserPoolClientsRequest,
    ListUserPoolClientsResponse, TokenValidityUnitsType, UpdateUserPoolClientRequest,
    UpdateUserPoolClientResponse, UserPoolClientDescription, UserPoolClientType,
};
use std::sync::Arc;

use std::collections::BTreeSet;

use super::{load_client, load_pool, paging, schema};
use crate::clock::wire_time;
use crate::context::Core;
use crate::domain::{ClientRecord, PoolRecord};
use crate::error::{ApiError, ErrorCode};
use crate::ids;

const LEGACY_FLOWS: &[&str] = &[
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
];
const DEFAULT_FLOWS: &[&str] = &[
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_CUSTOM_AUTH",
];
const STANDARD_SCOPES: &[&str] = &[
    "phone",
    "email",
    "openid",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// Both the Create and the Update request carry these fields under the same names.
macro_rules! client_settings {
    ($req:expr) => {
        ClientSettings {
            refresh_token_validity: $req.refresh_token_validity,
            access_token_validity: $req.access_token_validity,
            id_token_validity: $req.id_token_validity,
            token_validity_units: $req.token_validity_units,
            read_attributes: $req.read_attributes,
            write_attributes: $req.write_attributes,
            explicit_auth_flows: $req.explicit_auth_flows,
            supported_identity_providers: $req.supported_identity_providers,
            callback_urls: $req.callback_urls,
            logout_urls: $req.logout_urls,
            default_redirect_uri: $req.default_redirect_uri,
            allowed_o_auth_flows: $req.allowed_o_auth_flows,
            allowed_o_auth_scopes: $req.allowed_o_auth_scopes,
            allowed_o_auth_flows_user_pool_client: $req.allowed_o_auth_flows_user_pool_client,
            analytics_configuration: $req.analytics_configuration,
            prevent_user_existence_errors: $req.prevent_user_existence_errors,
            enable_token_revocation: $req.enable_token_revocation,
            enable_propagate_additional_user_context_data: $req
                .enable_propagate_additional_user_context_data,
            auth_session_validity: $req.auth_session_validity,
            refresh_token_rotation: $req.refresh_token_rotation,
        }
    };
}

/// The settings Create and Update share; Update replaces all of them at once.
struct ClientSettings {
    refresh_token_validity: Option<i64>,
    access_token_validity: Option<i64>,
    id_token_validity: Option<i64>,
    token_validity_units: Option<TokenValidityUnitsType>,
    read_attributes: Option<Vec<String>>,
    write_attributes: Option<Vec<String>>,
    explicit_auth_flows: Option<Vec<String>>,
    supported_identity_providers: Option<Vec<String>>,
    callback_urls: Option<Vec<String>>,
    logout_urls: Option<Vec<String>>,
    default_redirect_uri: Option<String>,
    allowed_o_auth_flows: Option<Vec<String>>,
    allowed_o_auth_scopes: Option<Vec<String>>,
    allowed_o_auth_flows_user_pool_client: Option<bool>,
    analytics_configuration: Option<portcullis_proto::AnalyticsConfigurationType>,
    prevent_user_existence_errors: Option<String>,
    enable_token_revocation: Option<bool>,
    enable_propagate_additional_user_context_data: Option<bool>,
    auth_session_validity: Option<i64>,
    refresh_token_rotation: Option<portcullis_proto::RefreshTokenRotationType>,
}

fn seconds_per(unit: &str) -> i64 {
    match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        _ => 86_400,
    }
}

fn explicit_flows(given: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let Some(flows) = given.filter(|f| !f.is_empty()) else {
        return Ok(DEFAULT_FLOWS.iter().map(|s| (*s).to_owned()).collect());
    };
    let legacy = flows
        .iter()
        .filter(|f| LEGACY_FLOWS.contains(&f.as_str()))
        .count();
    if legacy > 0 && legacy < flows.len() {
        return Err(ApiError::invalid_parameter(
            "The provided values for ExplicitAuthFlows are not allowed: legacy values (ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH) and ALLOW_ values cannot be mixed.",
        ));
    }
    if legacy == 0 && !flows.iter().any(|f| f == "ALLOW_REFRESH_TOKEN_AUTH") {
        return Err(ApiError::invalid_parameter(
            "REFRESH_TOKEN_AUTH should always be allowed.",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(flows.len());
    for f in flows {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

/// Validity values in their unit, checked against Cognito's bounds; returns the units used.
fn token_validity(s: &ClientSettings) -> Result<(i64, i64, i64, TokenValidityUnitsType), ApiError> {
    let units = s.token_validity_units.clone().unwrap_or_default();
    let access_unit = units
        .access_token
        .clone()
        .unwrap_or_else(|| "hours".to_owned());
    let id_unit = units.id_token.clone().unwrap_or_else(|| "hours".to_owned());
    let refresh_unit = units
        .refresh_token
        .clone()
        .unwrap_or_else(|| "days".to_owned());
    // Defaults: 60 minutes for access and ID tokens, 30 days for refresh tokens.
    let (access, access_unit) = match s.access_token_validity {
        Some(v) => (v, access_unit),
        None if units.access_token.is_some() => (60 * 60 / seconds_per(&access_unit), access_unit),
        None => (60, "minutes".to_owned()),
    };
    let (id, id_unit) = match s.id_token_validity {
        Some(v) => (v, id_unit),
        None if units.id_token.is_some() => (60 * 60 / seconds_per(&id_unit), id_unit),
        None => (60, "minutes".to_owned()),
    };
    let (refresh, refresh_unit) = match s.refresh_token_validity {
        Some(v) if v != 0 => (v, refresh_unit),
        _ if units.refresh_token.is_some() => {
            (30 * 86_400 / seconds_per(&refresh_unit), refresh_unit)
        }
        _ => (30, "days".to_owned()),
    };
    let in_range = |v: i64, unit: &str, lo: i64, hi: i64| {
        let secs = v.saturating_mul(seconds_per(unit));
        (lo..=hi).contains(&secs)
    };
    if !in_range(access, &access_unit, 300, 86_400) {
        return Err(ApiError::invalid_parameter(
            "Invalid range for token validity: Access token validity must be between 5 minutes and 1 day.",
        ));
    }
    if !in_range(id, &id_unit, 300, 86_400) {
        return Err(ApiError::invalid_parameter(
            "Invalid range for token validity: ID token validity must be between 5 minutes and 1 day.",
        ));
    }
    if !in_range(refresh, &refresh_unit, 3600, 315_360_000) {
        return Err(ApiError::invalid_parameter(
            "Invalid range for token validity: Refresh token validity must be between 60 minutes and 3650 days.",
        ));
    }
    Ok((
        access,
        id,
        refresh,
        TokenValidityUnitsType {
            access_token: Some(access_unit),
            id_token: Some(id_unit),
            refresh_token: Some(refresh_unit),
        },
    ))
}

/// Absolute, no fragment, https unless loopback; custom app schemes (`myapp://cb`) allowed.
pub fn check_redirect_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("{url} is not an absolute URL"));
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err(format!("{url} has an invalid scheme"));
    }
    if url.contains('#') {
        return Err(format!("{url} must not contain a fragment"));
    }
    if scheme.eq_ignore_ascii_case("http") {
        let host_port = rest.split(['/', '?']).next().unwrap_or_default();
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            format!("[{}", v6.split(']').next().unwrap_or_default()) + "]"
        } else {
            host_port.split(':').next().unwrap_or_default().to_owned()
        };
        if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return Err(format!(
                "{url} must use https (http is allowed only for localhost)"
            ));
        }
    }
    if rest.is_empty() {
        return Err(format!("{url} has no host"));
    }
    Ok(())
}

fn check_oauth(
    s: &ClientSettings,
    has_secret: bool,
    custom_scopes: &BTreeSet<String>,
) -> Result<(), ApiError> {
    for (what, list) in [
        ("CallbackURLs", &s.callback_urls),
        ("LogoutURLs", &s.logout_urls),
    ] {
        for url in list.iter().flatten() {
            check_redirect_url(url)
                .map_err(|why| ApiError::invalid_parameter(format!("Invalid {what}: {why}.")))?;
        }
    }
    if let Some(default) = &s.default_redirect_uri {
        check_redirect_url(default).map_err(|why| {
            ApiError::invalid_parameter(format!("Invalid DefaultRedirectURI: {why}."))
        })?;
        if !s.callback_urls.iter().flatten().any(|u| u == default) {
            return Err(ApiError::invalid_parameter(
                "DefaultRedirectURI must be one of the CallbackURLs.",
            ));
        }
    }
    for scope in s.allowed_o_auth_scopes.iter().flatten() {
        if !STANDARD_SCOPES.contains(&scope.as_str()) && !custom_scopes.contains(scope) {
            // Custom scopes are `<resource server identifier>/<scope name>`.
            return Err(ApiError::new(
                ErrorCode::ScopeDoesNotExistException,
                format!("Invalid scope requested: {scope}"),
            ));
        }
    }
    let flows = s.allowed_o_auth_flows.clone().unwrap_or_default();
    if flows.iter().any(|f| f == "client_credentials") {
        if flows.len() > 1 {
            return Err(ApiError::new(
                ErrorCode::InvalidOAuthFlowException,
                "client_credentials flow can not be selected with either implicit or code flows.",
            ));
        }
        if !has_secret {
            return Err(ApiError::new(
                ErrorCode::InvalidOAuthFlowException,
                "client_credentials flow can not be selected if client does not have a client secret.",
            ));
        }
        // Machine-to-machine tokens carry only resource-server scopes.
        if let Some(scope) = s
            .allowed_o_auth_scopes
            .iter()
            .flatten()
            .find(|scope| STANDARD_SCOPES.contains(&scope.as_str()))
        {
            return Err(ApiError::new(
                ErrorCode::InvalidOAuthFlowException,
                format!("{scope} is not supported with client_credentials flow"),
            ));
        }
    }
    if s.allowed_o_auth_flows_user_pool_client == Some(true) {
        if flows.is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidOAuthFlowException,
                "AllowedOAuthFlows must be specified when AllowedOAuthFlowsUserPoolClient is true.",
            ));
        }
        if s.allowed_o_auth_scopes.as_ref().is_none_or(Vec::is_empty) {
            return Err(ApiError::invalid_parameter(
                "AllowedOAuthScopes must be specified when AllowedOAuthFlowsUserPoolClient is true.",
            ));
        }
        let browser = flows.iter().any(|f| f == "code" || f == "implicit");
        if browser && s.callback_urls.as_ref().is_none_or(Vec::is_empty) {
            return Err(ApiError::invalid_parameter(
                "CallbackURLs must be specified when the code or implicit flow is allowed.",
            ));
        }
    }
    Ok(())
}

fn check_attribute_permissions(pool: &PoolRecord, s: &ClientSettings) -> Result<(), ApiError> {
    let schema = pool
        .settings
        .schema_attributes
        .as_deref()
        .unwrap_or_default();
    for (what, list) in [("read", &s.read_attributes), ("write", &s.write_attributes)] {
        for name in list.iter().flatten() {
            if schema::find(schema, name).is_none() || (what == "write" && name == "sub") {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid {what} attributes specified while creating a client"
                )));
            }
        }
    }
    Ok(())
}

fn build(
    pool: &PoolRecord,
    mut client: UserPoolClientType,
    s: ClientSettings,
    has_secret: bool,
    custom_scopes: &BTreeSet<String>,
) -> Result<UserPoolClientType, ApiError> {
    check_attribute_permissions(pool, &s)?;
    check_oauth(&s, has_secret, custom_scopes)?;
    let (access, id, refresh, units) = token_validity(&s)?;
    for idp in s.supported_identity_providers.iter().flatten() {
        if idp != "COGNITO" {
            return Err(ApiError::invalid_parameter(format!(
                "The provider {idp} does not exist for User Pool {}",
                pool.id
            )));
        }
    }
    client.explicit_auth_flows = Some(explicit_flows(s.explicit_auth_flows)?);
    client.access_token_validity = Some(access);
    client.id_token_validity = Some(id);
    client.refresh_token_validity = Some(refresh);
    client.token_validity_units = Some(units);
    client.read_attributes = s.read_attributes.filter(|l| !l.is_empty());
    client.write_attributes = s.write_attributes.filter(|l| !l.is_empty());
    client.supported_identity_providers = s.supported_identity_providers;
    client.callback_urls = s.callback_urls;
    client.logout_urls = s.logout_urls;
    client.default_redirect_uri = s.default_redirect_uri;
    client.allowed_o_auth_flows = s.allowed_o_auth_flows;
    client.allowed_o_auth_scopes = s.allowed_o_auth_scopes;
    client.allowed_o_auth_flows_user_pool_client =
        Some(s.allowed_o_auth_flows_user_pool_client.unwrap_or(false));
    client.analytics_configuration = s.analytics_configuration;
    client.prevent_user_existence_errors = Some(
        s.prevent_user_existence_errors
            .unwrap_or_else(|| "LEGACY".to_owned()),
    );
    client.enable_token_revocation = Some(s.enable_token_revocation.unwrap_or(true));
    client.enable_propagate_additional_user_context_data = Some(
        s.enable_propagate_additional_user_context_data
            .unwrap_or(false),
    );
    client.auth_session_validity = Some(s.auth_session_validity.unwrap_or(3));
    client.refresh_token_rotation = s.refresh_token_rotation;
    Ok(client)
}

fn secret_context(client_id: &str) -> String {
    format!("client-secret:{client_id}")
}

/// The client's secret in the clear, for Describe and for SECRET_HASH checks.
pub fn client_secret(core: &Core, client: &ClientRecord) -> Result<Option<String>, ApiError> {
    let Some(sealed) = &client.secret_sealed else {
        return Ok(None);
    };
    let plain = core
        .sealer
        .open(&secret_context(&client.id), sealed)
        .map_err(ApiError::internal)?;
    String::from_utf8(plain)
        .map(Some)
        .map_err(ApiError::internal)
}

fn with_secret(core: &Core, record: &ClientRecord) -> Result<UserPoolClientType, ApiError> {
    let mut out = record.settings.clone();
    out.client_secret = client_secret(core, record)?;
    Ok(out)
}

pub async fn create_user_pool_client(
    core: &Core,
    req: CreateUserPoolClientRequest,
) -> Result<CreateUserPoolClientResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let custom_scopes = super::oauth::resource_servers::custom_scopes(core, &pool.id).await?;
    let client_id = ids::client_id(core.rng.as_ref());
    let secret = match (req.generate_secret, req.client_secret) {
        (_, Some(custom)) => Some(custom),
        (Some(true), None) => Some(ids::client_secret(core.rng.as_ref())),
        _ => None,
    };
    let now = core.now_ms();
    let base = UserPoolClientType {
        user_pool_id: Some(pool.id.clone()),
        client_name: Some(req.client_name.clone()),
        client_id: Some(client_id.clone()),
        creation_date: Some(wire_time(now)),
        last_modified_date: Some(wire_time(now)),
        ..Default::default()
    };
    let settings = build(
        &pool,
        base,
        client_settings!(req),
        secret.is_some(),
        &custom_scopes,
    )?;
    let record = ClientRecord {
        id: client_id.clone(),
        pool_id: pool.id.clone(),
        name: req.client_name,
        created_ms: now,
        modified_ms: now,
        secret_sealed: secret.as_ref().map(|s| {
            core.sealer
                .seal(core.rng.as_ref(), &secret_context(&client_id), s.as_bytes())
        }),
        settings,
    };
    core.store.insert_client(&record).await?;
    Ok(CreateUserPoolClientResponse {
        user_pool_client: Some(with_secret(core, &record)?),
    })
}

pub async fn describe_user_pool_client(
    core: &Core,
    req: DescribeUserPoolClientRequest,
) -> Result<DescribeUserPoolClientResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let record = load_client(core, &req.user_pool_id, &req.client_id).await?;
    Ok(DescribeUserPoolClientResponse {
        user_pool_client: Some(with_secret(core, &record)?),
    })
}

pub async fn update_user_pool_client(
    core: &Core,
    req: UpdateUserPoolClientRequest,
) -> Result<UpdateUserPoolClientResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let mut record =
        Arc::unwrap_or_clone(load_client(core, &req.user_pool_id, &req.client_id).await?);
    let custom_scopes = super::oauth::resource_servers::custom_scopes(core, &pool.id).await?;
    let now = core.now_ms();
    let name = req.client_name.unwrap_or_else(|| record.name.clone());
    let base = UserPoolClientType {
        user_pool_id: Some(pool.id.clone()),
        client_name: Some(name.clone()),
        client_id: Some(record.id.clone()),
        creation_date: record.settings.creation_date,
        last_modified_date: Some(wire_time(now)),
        ..Default::default()
    };
    let settings = build(
        &pool,
        base,
        client_settings!(req),
        record.secret_sealed.is_some(),
        &custom_scopes,
    )?;
    record.name = name;
    record.settings = settings;
    record.modified_ms = now;
    core.store.update_client(&record).await?;
    core.records.forget_client(&record.id);
    Ok(UpdateUserPoolClientResponse {
        user_pool_client: Some(with_secret(core, &record)?),
    })
}

pub async fn delete_user_pool_client(
    core: &Core,
    req: DeleteUserPoolClientRequest,
) -> Result<(), ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    load_client(core, &req.user_pool_id, &req.client_id).await?;
    core.store
        .delete_client(&req.user_pool_id, &req.client_id)
        .await?;
    core.records.forget_client(&req.client_id);
    Ok(())
}

pub async fn list_user_pool_clients(
    core: &Core,
    req: ListUserPoolClientsRequest,
) -> Result<ListUserPoolClientsResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let limit = paging::limit_or_max(req.max_results, 60);
    let after = paging::decode(req.next_token.as_deref())?;
    let rows = core
        .store
        .list_clients(&req.user_pool_id, after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = paging::page(rows, limit, |c| c.id.clone());
    Ok(ListUserPoolClientsResponse {
        user_pool_clients: Some(
            rows.into_iter()
                .map(|c| UserPoolClientDescription {
                    client_id: Some(c.id),
                    user_pool_id: Some(c.pool_id),
                    client_name: Some(c.name),
                })
                .collect(),
        ),
        next_token: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules() {
        assert!(check_redirect_url("https://app.example.com/cb").is_ok());
        assert!(check_redirect_url("http://localhost:3000/cb").is_ok());
        assert!(check_redirect_url("http://127.0.0.1/cb").is_ok());
        assert!(check_redirect_url("http://[::1]:8080/cb").is_ok());
        assert!(check_redirect_url("myapp://callback").is_ok());
        assert!(check_redirect_url("http://example.com/cb").is_err());
        assert!(check_redirect_url("https://example.com/cb#frag").is_err());
        assert!(check_redirect_url("/relative").is_err());
        assert!(check_redirect_url("http://localhost.evil.com/cb").is_err());
    }

    #[test]
    fn flow_rules() {
        let v = |xs: &[&str]| Some(xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(explicit_flows(None).map(|f| f.len()).ok(), Some(3));
        assert!(explicit_flows(v(&["ADMIN_NO_SRP_AUTH", "ALLOW_USER_SRP_AUTH"])).is_err());
        assert!(explicit_flows(v(&["ALLOW_USER_PASSWORD_AUTH"])).is_err());
        assert!(
            explicit_flows(v(&["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])).is_ok()
        );
        assert!(explicit_flows(v(&["ADMIN_NO_SRP_AUTH", "USER_PASSWORD_AUTH"])).is_ok());
    }
}
