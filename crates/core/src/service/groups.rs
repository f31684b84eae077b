//! Groups and memberships.

use portcullis_proto::{
    AdminAddUserToGroupRequest, AdminListGroupsForUserRequest, AdminListGroupsForUserResponse,
    AdminRemoveUserFromGroupRequest, CreateGroupRequest, CreateGroupResponse, DeleteGroupRequest,
    GetGroupRequest, GetGroupResponse, GroupType, ListGroupsRequest, ListGroupsResponse,
    ListUsersInGroupRequest, ListUsersInGroupResponse, UpdateGroupRequest, UpdateGroupResponse,
};

use super::users::{load_user, user_type};
use super::{load_pool, paging};
use crate::clock::wire_time;
use crate::context::Core;
use crate::domain::GroupRecord;
use crate::error::{ApiError, ErrorCode};
use crate::repo::StoreError;

fn group_type(g: &GroupRecord) -> GroupType {
    GroupType {
        group_name: Some(g.name.clone()),
        user_pool_id: Some(g.pool_id.clone()),
        description: g.description.clone(),
        role_arn: g.role_arn.clone(),
        precedence: g.precedence,
        last_modified_date: Some(wire_time(g.modified_ms)),
        creation_date: Some(wire_time(g.created_ms)),
    }
}

async fn load_group(core: &Core, pool_id: &str, name: &str) -> Result<GroupRecord, ApiError> {
    core.store
        .get_group(pool_id, name)
        .await?
        .ok_or_else(ApiError::group_not_found)
}

pub async fn create_group(
    core: &Core,
    req: CreateGroupRequest,
) -> Result<CreateGroupResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let now = core.now_ms();
    let group = GroupRecord {
        pool_id: req.user_pool_id,
        name: req.group_name,
        description: req.description,
        role_arn: req.role_arn,
        precedence: req.precedence,
        created_ms: now,
        modified_ms: now,
    };
    core.store.insert_group(&group).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::new(
            ErrorCode::GroupExistsException,
            format!("A group with the name {} already exists.", group.name),
        ),
        other => ApiError::internal(other),
    })?;
    Ok(CreateGroupResponse {
        group: Some(group_type(&group)),
    })
}

pub async fn get_group(core: &Core, req: GetGroupRequest) -> Result<GetGroupResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let group = load_group(core, &req.user_pool_id, &req.group_name).await?;
    Ok(GetGroupResponse {
        group: Some(group_type(&group)),
    })
}

/// Fields left out of the request keep their values.
pub async fn update_group(
    core: &Core,
    req: UpdateGroupRequest,
) -> Result<UpdateGroupResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let mut group = load_group(core, &req.user_pool_id, &req.group_name).await?;
    if req.description.is_some() {
        group.description = req.description;
    }
    if req.role_arn.is_some() {
        group.role_arn = req.role_arn;
    }
    if req.precedence.is_some() {
        group.precedence = req.precedence;
    }
    group.modified_ms = core.now_ms();
    core.store.update_group(&group).await?;
    Ok(UpdateGroupResponse {
        group: Some(group_type(&group)),
    })
}

pub async fn delete_group(core: &Core, req: DeleteGroupRequest) -> Result<(), ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    load_group(core, &req.user_pool_id, &req.group_name).await?;
    core.store
        .delete_group(&req.user_pool_id, &req.group_name)
        .await?;
    Ok(())
}

pub async fn list_groups(
    core: &Core,
    req: ListGroupsRequest,
) -> Result<ListGroupsResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    let limit = paging::limit_or_max(req.limit, 60);
    let after = paging::decode(req.next_token.as_deref())?;
    let rows = core
        .store
        .list_groups(&req.user_pool_id, after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = paging::page(rows, limit, |g| g.name.clone());
    Ok(ListGroupsResponse {
        groups: Some(rows.iter().map(group_type).collect()),
        next_token: next,
    })
}

pub async fn admin_add_user_to_group(
    core: &Core,
    req: AdminAddUserToGroupRequest,
) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let user = load_user(core, &pool, &req.username).await?;
    load_group(core, &pool.id, &req.group_name).await?;
    core.store
        .add_member(&pool.id, &req.group_name, &user.sub)
        .await?;
    Ok(())
}

pub async fn admin_remove_user_from_group(
    core: &Core,
    req: AdminRemoveUserFromGroupRequest,
) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let user = load_user(core, &pool, &req.username).await?;
    load_group(core, &pool.id, &req.group_name).await?;
    core.store
        .remove_member(&pool.id, &req.group_name, &user.sub)
        .await?;
    Ok(())
}

pub async fn admin_list_groups_for_user(
    core: &Core,
    req: AdminListGroupsForUserRequest,
) -> Result<AdminListGroupsForUserResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let user = load_user(core, &pool, &req.username).await?;
    let limit = paging::limit_or_max(req.limit, 60);
    let after = paging::decode(req.next_token.as_deref())?;
    let rows = core
        .store
        .list_groups_for_user(&pool.id, &user.sub, after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = paging::page(rows, limit, |g| g.name.clone());
    Ok(AdminListGroupsForUserResponse {
        groups: Some(rows.iter().map(group_type).collect()),
        next_token: next,
    })
}

pub async fn list_users_in_group(
    core: &Core,
    req: ListUsersInGroupRequest,
) -> Result<ListUsersInGroupResponse, ApiError> {
    load_pool(core, &req.user_pool_id).await?;
    load_group(core, &req.user_pool_id, &req.group_name).await?;
    let limit = paging::limit_or_max(req.limit, 60);
    let after = paging::decode(req.next_token.as_deref())?;
    let rows = core
        .store
        .list_users_in_group(
            &req.user_pool_id,
            &req.group_name,
            after.as_deref(),
            limit + 1,
        )
        .await?;
    let (rows, next) = paging::page(rows, limit, |u| u.keys.username.clone());
    Ok(ListUsersInGroupResponse {
        users: Some(rows.iter().map(|u| user_type(u, None)).collect()),
        next_token: next,
    })
}
