//! Resource servers: CreateResourceServer, DescribeResourceServer, UpdateResourceServer,
//! DeleteResourceServer, ListResourceServers. A resource server's scopes are granted as
//! `<Identifier>/<ScopeName>`.

use std::collections::BTreeSet;

use portcullis_proto::{
    CreateResourceServerRequest, CreateResourceServerResponse, DeleteResourceServerRequest,
    DescribeResourceServerRequest, DescribeResourceServerResponse, ListResourceServersRequest,
    ListResourceServersResponse, ResourceServerScopeType, ResourceServerType,
    UpdateResourceServerRequest, UpdateResourceServerResponse,
};

use super::records::ResourceServerRecord;
use crate::context::Core;
use crate::error::{ApiError, ErrorCode};
use crate::repo::StoreError;
use crate::service::{load_pool, paging};

/// Cognito's quota of resource servers per pool.
pub const MAX_PER_POOL: usize = 25;
/// Enough to read every resource server of a pool in one call.
const ALL: u32 = MAX_PER_POOL as u32 * 4;

fn to_wire(r: ResourceServerRecord) -> ResourceServerType {
    ResourceServerType {
        user_pool_id: Some(r.pool_id),
        identifier: Some(r.identifier),
        name: Some(r.name),
        scopes: Some(r.scopes),
    }
}

fn not_found(identifier: &str) -> ApiError {
    ApiError::not_found(format!("Resource server {identifier} does not exist."))
}

fn check_scopes(scopes: &[ResourceServerScopeType]) -> Result<(), ApiError> {
    let mut seen = BTreeSet::new();
    for s in scopes {
        if !seen.insert(s.scope_name.as_str()) {
            return Err(ApiError::invalid_parameter(format!(
                "Duplicate scope name: {}",
                s.scope_name
            )));
        }
    }
    Ok(())
}

/// Every custom scope (`<identifier>/<scope>`) the pool's resource servers define.
pub async fn custom_scopes(core: &Core, pool_id: &str) -> Result<BTreeSet<String>, ApiError> {
    let servers = core.store.list_resource_servers(pool_id, None, ALL).await?;
    Ok(servers
        .iter()
        .flat_map(|rs| {
            rs.scopes
                .iter()
                .map(move |s| format!("{}/{}", rs.identifier, s.scope_name))
        })
        .collect())
}

pub async fn create_resource_server(
    core: &Core,
    req: CreateResourceServerRequest,
) -> Result<CreateResourceServerResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let scopes = req.scopes.unwrap_or_default();
    check_scopes(&scopes)?;
    let existing = core
        .store
        .list_resource_servers(&pool.id, None, ALL)
        .await?;
    if existing.iter().any(|r| r.identifier == req.identifier) {
        return Err(already_exists(&req.identifier, &pool.id));
    }
    if existing.len() >= MAX_PER_POOL {
        return Err(ApiError::new(
            ErrorCode::LimitExceededException,
            format!("A user pool can have at most {MAX_PER_POOL} resource servers."),
        ));
    }
    let now = core.now_ms();
    let record = ResourceServerRecord {
        pool_id: pool.id.clone(),
        identifier: req.identifier.clone(),
        name: req.name,
        scopes,
        created_ms: now,
        modified_ms: now,
    };
    core.store
        .insert_resource_server(&record)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => already_exists(&req.identifier, &pool.id),
            other => ApiError::internal(other),
        })?;
    Ok(CreateResourceServerResponse {
        resource_server: to_wire(record),
    })
}

fn already_exists(identifier: &str, pool_id: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "{identifier} already exists in user pool {pool_id}."
    ))
}

pub async fn describe_resource_server(
    core: &Core,
    req: DescribeResourceServerRequest,
) -> Result<DescribeResourceServerResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let record = core
        .store
        .get_resource_server(&req.user_pool_id, &req.identifier)
        .await?
        .ok_or_else(|| not_found(&req.identifier))?;
    Ok(DescribeResourceServerResponse {
        resource_server: to_wire(record),
    })
}

/// Replaces the name and the whole scope list, as Cognito does.
pub async fn update_resource_server(
    core: &Core,
    req: UpdateResourceServerRequest,
) -> Result<UpdateResourceServerResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let mut record = core
        .store
        .get_resource_server(&req.user_pool_id, &req.identifier)
        .await?
        .ok_or_else(|| not_found(&req.identifier))?;
    let scopes = req.scopes.unwrap_or_default();
    check_scopes(&scopes)?;
    record.name = req.name;
    record.scopes = scopes;
    record.modified_ms = core.now_ms();
    if !core.store.update_resource_server(&record).await? {
        return Err(not_found(&req.identifier));
    }
    Ok(UpdateResourceServerResponse {
        resource_server: to_wire(record),
    })
}

pub async fn delete_resource_server(
    core: &Core,
    req: DeleteResourceServerRequest,
) -> Result<(), ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    if !core
        .store
        .delete_resource_server(&req.user_pool_id, &req.identifier)
        .await?
    {
        return Err(not_found(&req.identifier));
    }
    Ok(())
}

pub async fn list_resource_servers(
    core: &Core,
    req: ListResourceServersRequest,
) -> Result<ListResourceServersResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let limit = paging::limit_or_max(req.max_results, 50);
    let after = paging::decode(req.next_token.as_deref())?;
    let rows = core
        .store
        .list_resource_servers(&req.user_pool_id, after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = paging::page(rows, limit, |r| r.identifier.clone());
    Ok(ListResourceServersResponse {
        resource_servers: rows.into_iter().map(to_wire).collect(),
        next_token: next,
    })
}
