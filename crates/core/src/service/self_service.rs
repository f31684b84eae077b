//! Operations a signed-in user calls with an access token, and the token lifecycle
//! operations around them (refresh, revocation, global sign-out).

use portcullis_proto::{
    AdminUserGlobalSignOutRequest, ChangePasswordRequest, CodeDeliveryDetailsType,
    DeleteUserAttributesRequest, DeleteUserRequest, GetTokensFromRefreshTokenRequest,
    GetTokensFromRefreshTokenResponse, GetUserAttributeVerificationCodeRequest,
    GetUserAttributeVerificationCodeResponse, GetUserRequest, GetUserResponse,
    GlobalSignOutRequest, RevokeTokenRequest, UpdateUserAttributesRequest,
    UpdateUserAttributesResponse, VerifyUserAttributeRequest,
};
use serde_json::Value;

use super::attributes::permissions::{self, Stage, Writer};
use super::client_auth::{self, ClientContext};
use super::issue::{self, Lineage, authorize_access_token};
use super::users::{self, PoolRules, load_user, set_password};
use super::{codes, load_pool, signin};
use crate::context::Core;
use crate::domain::{CodePurpose, PoolRecord, UserRecord};
use crate::error::{ApiError, ErrorCode};
use crate::messages::Channel;
use crate::password;
use crate::repo::StoreError;

pub async fn get_user(core: &Core, req: GetUserRequest) -> Result<GetUserResponse, ApiError> {
    let (pool, user, claims) = authorize_access_token(core, &req.access_token).await?;
    let client = token_client_record(core, &pool, &claims).await?;
    let UserRecord {
        username,
        sub,
        attributes,
        ..
    } = user;
    Ok(GetUserResponse {
        username,
        user_attributes: users::owned_attributes_where(sub, attributes, |name| {
            permissions::readable(&pool, &client, name)
        }),
        ..Default::default()
    })
}

/// The app client an access token was minted for (through the record cache), for its
/// attribute permissions; a token of a deleted client is refused.
async fn token_client_record(
    core: &Core,
    pool: &PoolRecord,
    claims: &serde_json::Map<String, Value>,
) -> Result<std::sync::Arc<crate::domain::ClientRecord>, ApiError> {
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    super::find_client(core, client_id)
        .await?
        .filter(|c| c.pool_id == pool.id)
        .ok_or_else(|| ApiError::new(ErrorCode::NotAuthorizedException, "Invalid Access Token"))
}

/// The client that minted an access token, for its attribute permissions.
async fn token_client(
    core: &Core,
    pool: &PoolRecord,
    claims: &serde_json::Map<String, Value>,
) -> Result<ClientContext, ApiError> {
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    client_auth::resolve(core, client_id, Some(&pool.id))
        .await
        .map_err(|_| ApiError::new(ErrorCode::NotAuthorizedException, "Invalid Access Token"))
}

fn channel_of(attribute: &str) -> Option<(Channel, CodePurpose)> {
    match attribute {
        "email" => Some((Channel::Email, CodePurpose::VerifyEmail)),
        "phone_number" => Some((Channel::Sms, CodePurpose::VerifyPhone)),
        _ => None,
    }
}

fn delivery(channel: Channel, masked: String) -> CodeDeliveryDetailsType {
    CodeDeliveryDetailsType {
        destination: Some(masked),
        delivery_medium: Some(channel.as_str().to_owned()),
        attribute_name: Some(channel.attribute().to_owned()),
    }
}

pub async fn update_user_attributes(
    core: &Core,
    req: UpdateUserAttributesRequest,
) -> Result<UpdateUserAttributesResponse, ApiError> {
    super::retry_on_conflict(|| update_user_attributes_once(core, req.clone())).await
}

async fn update_user_attributes_once(
    core: &Core,
    req: UpdateUserAttributesRequest,
) -> Result<UpdateUserAttributesResponse, ApiError> {
    let (pool, mut user, claims) = authorize_access_token(core, &req.access_token).await?;
    let ctx = token_client(core, &pool, &claims).await?;
    let writer = Writer::Client(&ctx.client);
    let writes = permissions::check_writes(&pool, writer, Stage::Existing, &req.user_attributes)?;
    let auto = pool
        .settings
        .auto_verified_attributes
        .clone()
        .unwrap_or_default();
    let held_back = pool
        .settings
        .user_attribute_update_settings
        .as_ref()
        .and_then(|s| s.attributes_require_verification_before_update.clone())
        .unwrap_or_default();
    let mut pending = vec![];
    let mut applied = vec![];
    for (name, value) in writes {
        if user.attributes.get(&name) == Some(&value) {
            continue;
        }
        // The old, verified value stays in force until the new one is verified.
        if held_back.contains(&name) && user.is_verified(&name) {
            pending.push((name, value));
            continue;
        }
        applied.push((name, value));
    }
    let changed = permissions::apply(&mut user.attributes, applied, writer);
    let to_verify: Vec<String> = changed.into_iter().filter(|n| auto.contains(n)).collect();
    let rules = PoolRules::of(&pool);
    user.keys = rules.keys(&user.username, &user.attributes);
    users::check_not_shadowing(core, &pool, &rules, &user.sub, &user.keys, false).await?;
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(c) => users::conflict_error(&rules, c, false),
        other => other.into(),
    })?;
    let mut list = vec![];
    for name in to_verify {
        if let Some((channel, purpose)) = channel_of(&name) {
            let masked = codes::issue_and_send(core, &pool, &user, purpose, channel).await?;
            list.push(delivery(channel, masked));
        }
    }
    for (name, value) in pending {
        if let Some((channel, purpose)) = channel_of(&name) {
            let masked =
                codes::issue_for_value(core, &pool, &user, purpose, channel, Some(value)).await?;
            list.push(delivery(channel, masked));
        }
    }
    Ok(UpdateUserAttributesResponse {
        code_delivery_details_list: Some(list),
    })
}

pub async fn get_user_attribute_verification_code(
    core: &Core,
    req: GetUserAttributeVerificationCodeRequest,
) -> Result<GetUserAttributeVerificationCodeResponse, ApiError> {
    let (pool, user, _) = authorize_access_token(core, &req.access_token).await?;
    let (channel, purpose) = channel_of(&req.attribute_name).ok_or_else(|| {
        ApiError::invalid_parameter("Only email and phone_number can be verified.")
    })?;
    // A new value held back until verified keeps being the one verified: a resent code goes
    // to it, or the pending change would be silently dropped for the old value.
    let pending = match core.store.get_code(&pool.id, &user.sub, purpose).await? {
        Some(record) if record.expires_ms > core.now_ms() => record.pending_value,
        _ => None,
    };
    let masked = codes::issue_for_value(core, &pool, &user, purpose, channel, pending).await?;
    Ok(GetUserAttributeVerificationCodeResponse {
        code_delivery_details: Some(delivery(channel, masked)),
    })
}

pub async fn verify_user_attribute(
    core: &Core,
    req: VerifyUserAttributeRequest,
) -> Result<(), ApiError> {
    let (pool, mut user, _) = authorize_access_token(core, &req.access_token).await?;
    let (_, purpose) = channel_of(&req.attribute_name).ok_or_else(|| {
        ApiError::invalid_parameter("Only email and phone_number can be verified.")
    })?;
    let rules = PoolRules::of(&pool);
    // With AttributesRequireVerificationBeforeUpdate the code was sent to a new value held
    // back until now; redeeming it applies that value, verified.
    let mut proven = user.attributes.clone();
    proven.insert(
        format!("{}_verified", req.attribute_name),
        "true".to_owned(),
    );
    // An alias another user holds is refused before the code is spent.
    let keys = rules.keys(&user.username, &proven);
    users::check_alias_free(core, &pool, &rules, &user.sub, &keys).await?;
    let pending = codes::redeem(core, &pool.id, &user.sub, purpose, &req.code).await?;
    if let Some(value) = pending {
        user.attributes.insert(req.attribute_name.clone(), value);
    }
    user.attributes.insert(
        format!("{}_verified", req.attribute_name),
        "true".to_owned(),
    );
    user.keys = rules.keys(&user.username, &user.attributes);
    users::check_alias_free(core, &pool, &rules, &user.sub, &user.keys).await?;
    users::check_not_shadowing(core, &pool, &rules, &user.sub, &user.keys, false).await?;
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(c) => users::conflict_error(&rules, c, false),
        other => other.into(),
    })?;
    Ok(())
}

pub async fn delete_user_attributes(
    core: &Core,
    req: DeleteUserAttributesRequest,
) -> Result<(), ApiError> {
    super::retry_on_conflict(|| delete_user_attributes_once(core, req.clone())).await
}

async fn delete_user_attributes_once(
    core: &Core,
    req: DeleteUserAttributesRequest,
) -> Result<(), ApiError> {
    let (pool, mut user, claims) = authorize_access_token(core, &req.access_token).await?;
    let ctx = token_client(core, &pool, &claims).await?;
    let rules = PoolRules::of(&pool);
    permissions::check_deletes(
        &pool,
        Writer::Client(&ctx.client),
        &rules,
        &req.user_attribute_names,
    )?;
    for name in &req.user_attribute_names {
        user.attributes.remove(name);
        if channel_of(name).is_some() {
            user.attributes.remove(&format!("{name}_verified"));
        }
    }
    user.keys = rules.keys(&user.username, &user.attributes);
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await?;
    Ok(())
}

pub async fn change_password(core: &Core, req: ChangePasswordRequest) -> Result<(), ApiError> {
    let (pool, mut user, claims) = authorize_access_token(core, &req.access_token).await?;
    let previous = req.previous_password.as_deref().unwrap_or_default();
    signin::check_password(core, &pool, Some(&user), &user.username, previous).await?;
    let policy = password::complete_policy(
        pool.settings
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref()),
    );
    password::check_policy(&policy, &req.proposed_password)?;
    set_password(core, &pool, &mut user, &req.proposed_password).await?;
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await?;
    // Every other session ends with the old password; the one that changed it goes on.
    let own = claims.get("origin_jti").and_then(Value::as_str);
    issue::end_sessions(core, &pool.id, &user.sub, own).await?;
    Ok(())
}

pub async fn delete_user(core: &Core, req: DeleteUserRequest) -> Result<(), ApiError> {
    let (pool, user, _) = authorize_access_token(core, &req.access_token).await?;
    core.store.delete_user(&pool.id, &user.sub).await?;
    Ok(())
}

pub async fn global_sign_out(core: &Core, req: GlobalSignOutRequest) -> Result<(), ApiError> {
    let (pool, user, _) = authorize_access_token(core, &req.access_token).await?;
    issue::end_sessions(core, &pool.id, &user.sub, None).await?;
    Ok(())
}

pub async fn admin_user_global_sign_out(
    core: &Core,
    req: AdminUserGlobalSignOutRequest,
) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let user = load_user(core, &pool, &req.username).await?;
    issue::end_sessions(core, &pool.id, &user.sub, None).await?;
    Ok(())
}

pub async fn revoke_token(core: &Core, req: RevokeTokenRequest) -> Result<(), ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    client_auth::check_client_secret(&ctx, req.client_secret.as_deref()).map_err(|_| {
        ApiError::new(
            ErrorCode::UnauthorizedException,
            "Invalid client credentials.",
        )
    })?;
    if ctx.client.settings.enable_token_revocation == Some(false) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedOperationException,
            "Token revocation is not enabled for this client.",
        ));
    }
    if req.token.split('.').count() == 3 {
        return Err(ApiError::new(
            ErrorCode::UnsupportedTokenTypeException,
            "Only refresh tokens can be revoked.",
        ));
    }
    let Some(record) = core
        .store
        .get_refresh_token(&issue::token_hash(&req.token))
        .await?
    else {
        // Unknown or already-removed tokens: nothing to revoke, and nothing to reveal.
        return Ok(());
    };
    if record.client_id != ctx.client.id {
        return Err(ApiError::new(
            ErrorCode::UnauthorizedException,
            "The token was not issued to this client.",
        ));
    }
    core.store
        .revoke_origin(&record.pool_id, &record.sub, &record.origin_jti)
        .await?;
    Ok(())
}

pub async fn get_tokens_from_refresh_token(
    core: &Core,
    req: GetTokensFromRefreshTokenRequest,
) -> Result<GetTokensFromRefreshTokenResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    client_auth::check_client_secret(&ctx, req.client_secret.as_deref())?;
    if !client_auth::flow_allowed(&ctx, "REFRESH_TOKEN_AUTH") {
        return Err(ApiError::invalid_parameter(
            "Auth flow not enabled for this client",
        ));
    }
    let record = issue::usable_or_reused(core, &ctx, &req.refresh_token).await?;
    let user = core
        .store
        .get_user_by_sub(&ctx.pool.id, &record.sub)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotAuthorizedException, "Invalid Refresh Token"))?;
    if !user.enabled {
        return Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            "User is disabled.",
        ));
    }
    let lineage = Lineage {
        origin_jti: record.origin_jti.clone(),
        auth_time: record.auth_time,
    };
    let new_refresh = issue::rotate(core, &ctx, &record).await?;
    let result = issue::issue(core, &ctx, &user, Some(lineage), new_refresh).await?;
    Ok(GetTokensFromRefreshTokenResponse {
        authentication_result: Some(result),
    })
}
