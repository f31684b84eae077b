//! Operation name -> core service function. Each arm deserializes the validated body into
//! the operation's wire type and serializes the result.

use std::future::Future;

use portcullis_core::service::oauth::{domains, resource_servers, ui_customization};
use portcullis_core::service::{clients, groups, pools, self_service, signin, signup, tags, users};
use portcullis_core::{ApiError, Core};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::WireError;

/// Runs one operation and renders its answer as the response body. The answer goes straight
/// to bytes, not through a `Value` tree: the wire types leave out absent members themselves.
async fn run<'a, Req, Resp, Fut>(
    core: &'a Core,
    body: Value,
    f: impl FnOnce(&'a Core, Req) -> Fut,
) -> Result<Vec<u8>, WireError>
where
    Req: DeserializeOwned,
    Resp: Serialize,
    Fut: Future<Output = Result<Resp, ApiError>> + 'a,
{
    // The validator has already checked types, so a failure here is a gap in it; report it
    // the way AWS reports type errors.
    let req: Req = serde_json::from_value(body)
        .map_err(|e| WireError::new(400, "SerializationException", e.to_string()))?;
    let resp = f(core, req).await?;
    // Most answers fit here, so the buffer is not regrown several times while writing.
    let mut bytes = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut bytes, &resp) {
        // An operation without output answers `{}`, as Cognito does.
        Ok(()) if bytes == b"null" => Ok(b"{}".to_vec()),
        Ok(()) => Ok(bytes),
        Err(e) => Err(ApiError::internal(e).into()),
    }
}

pub async fn call(core: &Core, op: &str, body: Value) -> Result<Vec<u8>, WireError> {
    // Each operation's future is boxed at its own size. Unboxed, this function's future would
    // be as large as the largest of some sixty (kilobytes), and the layers above copy it
    // whole: that copy was a tenth of the instructions of an AdminGetUser.
    macro_rules! ops {
        ($($name:literal => $f:path,)*) => {
            match op {
                $($name => Box::pin(run(core, body, $f)).await,)*
                other => Err(WireError::new(
                    400,
                    "UnsupportedOperationException",
                    format!("Portcullis does not implement {other} yet."),
                )),
            }
        };
    }
    ops! {
        "CreateUserPool" => pools::create_user_pool,
        "DescribeUserPool" => pools::describe_user_pool,
        "UpdateUserPool" => pools::update_user_pool,
        "DeleteUserPool" => pools::delete_user_pool,
        "ListUserPools" => pools::list_user_pools,
        "AddCustomAttributes" => pools::add_custom_attributes,
        "CreateUserPoolClient" => clients::create_user_pool_client,
        "DescribeUserPoolClient" => clients::describe_user_pool_client,
        "UpdateUserPoolClient" => clients::update_user_pool_client,
        "DeleteUserPoolClient" => clients::delete_user_pool_client,
        "ListUserPoolClients" => clients::list_user_pool_clients,
        "AdminCreateUser" => users::admin_create_user,
        "AdminGetUser" => users::admin_get_user,
        "AdminDeleteUser" => users::admin_delete_user,
        "AdminUpdateUserAttributes" => users::admin_update_user_attributes,
        "AdminDeleteUserAttributes" => users::admin_delete_user_attributes,
        "AdminDisableUser" => users::admin_disable_user,
        "AdminEnableUser" => users::admin_enable_user,
        "AdminSetUserPassword" => users::admin_set_user_password,
        "AdminResetUserPassword" => users::admin_reset_user_password,
        "AdminConfirmSignUp" => users::admin_confirm_sign_up,
        "ListUsers" => users::list_users,
        "CreateGroup" => groups::create_group,
        "GetGroup" => groups::get_group,
        "UpdateGroup" => groups::update_group,
        "DeleteGroup" => groups::delete_group,
        "ListGroups" => groups::list_groups,
        "AdminAddUserToGroup" => groups::admin_add_user_to_group,
        "AdminRemoveUserFromGroup" => groups::admin_remove_user_from_group,
        "AdminListGroupsForUser" => groups::admin_list_groups_for_user,
        "ListUsersInGroup" => groups::list_users_in_group,
        "SignUp" => signup::sign_up,
        "ConfirmSignUp" => signup::confirm_sign_up,
        "ResendConfirmationCode" => signup::resend_confirmation_code,
        "ForgotPassword" => signup::forgot_password,
        "ConfirmForgotPassword" => signup::confirm_forgot_password,
        "InitiateAuth" => signin::initiate_auth,
        "AdminInitiateAuth" => signin::admin_initiate_auth,
        "RespondToAuthChallenge" => signin::respond_to_auth_challenge,
        "AdminRespondToAuthChallenge" => signin::admin_respond_to_auth_challenge,
        "GetUser" => self_service::get_user,
        "UpdateUserAttributes" => self_service::update_user_attributes,
        "GetUserAttributeVerificationCode" => self_service::get_user_attribute_verification_code,
        "VerifyUserAttribute" => self_service::verify_user_attribute,
        "DeleteUserAttributes" => self_service::delete_user_attributes,
        "ChangePassword" => self_service::change_password,
        "DeleteUser" => self_service::delete_user,
        "GlobalSignOut" => self_service::global_sign_out,
        "AdminUserGlobalSignOut" => self_service::admin_user_global_sign_out,
        "RevokeToken" => self_service::revoke_token,
        "GetTokensFromRefreshToken" => self_service::get_tokens_from_refresh_token,
        "CreateResourceServer" => resource_servers::create_resource_server,
        "DescribeResourceServer" => resource_servers::describe_resource_server,
        "UpdateResourceServer" => resource_servers::update_resource_server,
        "DeleteResourceServer" => resource_servers::delete_resource_server,
        "ListResourceServers" => resource_servers::list_resource_servers,
        "CreateUserPoolDomain" => domains::create_user_pool_domain,
        "DescribeUserPoolDomain" => domains::describe_user_pool_domain,
        "UpdateUserPoolDomain" => domains::update_user_pool_domain,
        "DeleteUserPoolDomain" => domains::delete_user_pool_domain,
        "SetUICustomization" => ui_customization::set_ui_customization,
        "GetUICustomization" => ui_customization::get_ui_customization,
        "TagResource" => tags::tag_resource,
        "UntagResource" => tags::untag_resource,
        "ListTagsForResource" => tags::list_tags_for_resource,
    }
}
