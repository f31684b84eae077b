//! Self-service sign-up and account recovery: SignUp, ConfirmSignUp,
//! ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword.

use std::collections::BTreeMap;

use portcullis_proto::{
    CodeDeliveryDetailsType, ConfirmForgotPasswordRequest, ConfirmSignUpRequest,
    ConfirmSignUpResponse, ForgotPasswordRequest, ForgotPasswordResponse,
    ResendConfirmationCodeRequest, ResendConfirmationCodeResponse, SignUpRequest, SignUpResponse,
};

use super::attributes::permissions::{self, Stage, Writer};
use super::client_auth::{self, ClientContext};
use super::codes::{Delivery, Issue};
use super::users::{self, PoolRules, find_user, set_password};
use super::{codes, schema};
use crate::context::Core;
use crate::domain::{CodePurpose, PoolRecord, SignInFailures, UserRecord, UserStatus};
use crate::error::{ApiError, ErrorCode};
use crate::messages::Channel;
use crate::password;
use crate::repo::StoreError;
use crate::rng;

fn delivery(channel: Channel, masked: String) -> CodeDeliveryDetailsType {
    codes::delivery_details(channel, masked)
}

/// Where a sign-up confirmation code goes: the first auto-verified attribute the user has.
fn confirmation_channel(pool: &PoolRecord, user: &UserRecord) -> Option<Channel> {
    let auto = pool
        .settings
        .auto_verified_attributes
        .clone()
        .unwrap_or_default();
    [Channel::Email, Channel::Sms]
        .into_iter()
        .find(|c| auto.iter().any(|a| a == c.attribute()) && user.attr(c.attribute()).is_some())
}

fn policy(pool: &PoolRecord) -> portcullis_proto::PasswordPolicyType {
    password::complete_policy(
        pool.settings
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref()),
    )
}

pub async fn sign_up(core: &Core, req: SignUpRequest) -> Result<SignUpResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    client_auth::check_secret_hash(&ctx, &req.username, req.secret_hash.as_deref())?;
    let pool = &ctx.pool;
    if pool
        .settings
        .admin_create_user_config
        .as_ref()
        .and_then(|c| c.allow_admin_create_user_only)
        == Some(true)
    {
        return Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            "SignUp is not permitted for this user pool",
        ));
    }
    let password = req
        .password
        .as_deref()
        .ok_or_else(|| ApiError::invalid_parameter("A password is required to sign up."))?;
    password::check_policy(&policy(pool), password)?;
    let attrs_in = req.user_attributes.unwrap_or_default();
    let mut attrs: BTreeMap<String, String> = permissions::check_writes(
        pool,
        Writer::Client(&ctx.client),
        Stage::Creating,
        &attrs_in,
    )?
    .into_iter()
    .collect();
    let rules = PoolRules::of(pool);
    let sub = rng::uuid_v4(core.rng.as_ref());
    let username = users::resolve_new_username(&rules, &req.username, &sub, &mut attrs)?;
    // A preferred_username alias signs its user in, so Cognito takes it only from confirmed
    // accounts, never at sign-up.
    if rules.is_alias("preferred_username") && attrs.contains_key("preferred_username") {
        return Err(ApiError::invalid_parameter(
            "Preferred username cannot be provided for unconfirmed account, since user pool is configured for preferred username alias.",
        ));
    }
    let schema_attrs = pool
        .settings
        .schema_attributes
        .as_deref()
        .unwrap_or_default();
    if let Some(name) = schema::missing_required(schema_attrs, &attrs).first() {
        return Err(ApiError::invalid_parameter(format!(
            "Attributes did not conform to the schema: {name}: The attribute is required"
        )));
    }
    attrs.insert("sub".to_owned(), sub.clone());
    let now = core.now_ms();
    let mut user = UserRecord {
        pool_id: pool.id.clone(),
        keys: rules.keys(&username, &attrs),
        username,
        sub: sub.clone(),
        status: UserStatus::Unconfirmed,
        enabled: true,
        created_ms: now,
        modified_ms: now,
        attributes: attrs,
        password_hash: None,
        password_set_ms: None,
        srp_sealed: None,
        version: 0,
    };
    users::check_not_shadowing(core, pool, &rules, &user.sub, &user.keys, true).await?;
    set_password(core, pool, &mut user, password).await?;
    // The code's limits are taken before the user is written, so a limit leaves nothing.
    let channel = confirmation_channel(pool, &user);
    let allowed = match channel {
        Some(c) => Some(codes::allow_issue(core, pool, &user, CodePurpose::SignUp, c).await?),
        None => None,
    };
    core.store.insert_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(crate::repo::Conflict::Username) => {
            ApiError::new(ErrorCode::UsernameExistsException, "User already exists")
        }
        StoreError::Conflict(c) => users::conflict_error(&rules, c, true),
        other => other.into(),
    })?;
    let code_delivery_details = match channel.zip(allowed) {
        Some((channel, allowed)) => {
            let issue = Issue {
                purpose: CodePurpose::SignUp,
                channel,
                pending_value: None,
                delivery: Delivery::Inline,
                allowed: Some(allowed),
            };
            let masked = codes::issue(core, pool, &user, issue).await?;
            Some(delivery(channel, masked))
        }
        None => None,
    };
    Ok(SignUpResponse {
        user_confirmed: false,
        code_delivery_details,
        user_sub: sub,
        session: None,
    })
}

/// The user a public code operation names. Under PreventUserExistenceErrors an unknown user
/// yields None instead of an error, and the caller answers as if the user existed.
async fn find_public(
    core: &Core,
    ctx: &ClientContext,
    name: &str,
) -> Result<Option<UserRecord>, ApiError> {
    find_hidden(core, ctx, name, ctx.prevents_user_existence_errors()).await
}

async fn find_hidden(
    core: &Core,
    ctx: &ClientContext,
    name: &str,
    hide: bool,
) -> Result<Option<UserRecord>, ApiError> {
    match find_user(core, &ctx.pool, name).await? {
        Some(u) => Ok(Some(u)),
        None if hide => Ok(None),
        None => Err(ApiError::user_not_found()),
    }
}

/// When existence is hidden, codes are delivered in the background, so the answer's timing
/// does not reveal a real delivery (an SMTP round trip) against a simulated one.
fn delivery_mode(hide: bool) -> Delivery {
    if hide {
        Delivery::Queued
    } else {
        Delivery::Inline
    }
}

pub async fn confirm_sign_up(
    core: &Core,
    req: ConfirmSignUpRequest,
) -> Result<ConfirmSignUpResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    client_auth::check_secret_hash(&ctx, &req.username, req.secret_hash.as_deref())?;
    let Some(mut user) = find_public(core, &ctx, &req.username).await? else {
        // Cognito: CodeMismatchException for a user that does not exist, after the same
        // attempt counting a real user meets.
        return Err(
            codes::decoy::redeem(core, &ctx.pool, &req.username, CodePurpose::SignUp).await,
        );
    };
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            ),
        ));
    }
    let pool = &ctx.pool;
    let channel = confirmation_channel(pool, &user);
    let rules = PoolRules::of(pool);
    // Check for an alias clash before the code is used up, so the user can retry with
    // ForceAliasCreation.
    if let Some(c) = channel {
        user.attributes
            .insert(format!("{}_verified", c.attribute()), "true".to_owned());
    }
    let keys = rules.keys(&user.username, &user.attributes);
    if req.force_alias_creation != Some(true) {
        users::check_alias_free(core, pool, &rules, &user.sub, &keys).await?;
    }
    codes::redeem(
        core,
        &pool.id,
        &user.sub,
        CodePurpose::SignUp,
        &req.confirmation_code,
    )
    .await?;
    user.keys = keys;
    if req.force_alias_creation == Some(true) {
        users::release_aliases(core, pool, &rules, &user).await?;
    }
    user.status = UserStatus::Confirmed;
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(c) => users::conflict_error(&rules, c, false),
        other => other.into(),
    })?;
    Ok(ConfirmSignUpResponse { session: None })
}

pub async fn resend_confirmation_code(
    core: &Core,
    req: ResendConfirmationCodeRequest,
) -> Result<ResendConfirmationCodeResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    client_auth::check_secret_hash(&ctx, &req.username, req.secret_hash.as_deref())?;
    let pool = &ctx.pool;
    let user = find_public(core, &ctx, &req.username).await?;
    // Cognito answers a disabled or unknown user with CodeDeliveryDetails under
    // PreventUserExistenceErrors; counted like a real one.
    let deliverable = user.filter(|u| u.enabled || !ctx.prevents_user_existence_errors());
    let Some(user) = deliverable else {
        let subject = codes::decoy::subject(core, pool, &req.username);
        let medium = codes::decoy::confirmation_medium(pool, &req.username);
        let details = codes::decoy::issue(
            core,
            pool,
            &req.username,
            &subject,
            CodePurpose::SignUp,
            medium,
        )
        .await?;
        return Ok(ResendConfirmationCodeResponse {
            code_delivery_details: Some(details),
        });
    };
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::invalid_parameter("User is already confirmed."));
    }
    let channel = confirmation_channel(pool, &user).ok_or_else(|| {
        ApiError::invalid_parameter(
            "The user has no auto-verified email or phone number to send a code to.",
        )
    })?;
    let masked = codes::issue(
        core,
        pool,
        &user,
        Issue {
            purpose: CodePurpose::SignUp,
            channel,
            pending_value: None,
            delivery: delivery_mode(ctx.prevents_user_existence_errors()),
            allowed: None,
        },
    )
    .await?;
    Ok(ResendConfirmationCodeResponse {
        code_delivery_details: Some(delivery(channel, masked)),
    })
}

pub async fn forgot_password(
    core: &Core,
    req: ForgotPasswordRequest,
) -> Result<ForgotPasswordResponse, ApiError> {
    forgot_password_hiding(core, req, None).await
}

/// ForgotPassword; `hide` overrides the client's PreventUserExistenceErrors (the hosted pages
/// never reveal whether an account exists).
pub async fn forgot_password_hiding(
    core: &Core,
    req: ForgotPasswordRequest,
    hide: Option<bool>,
) -> Result<ForgotPasswordResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    client_auth::check_secret_hash(&ctx, &req.username, req.secret_hash.as_deref())?;
    let pool = &ctx.pool;
    let hide = hide.unwrap_or_else(|| ctx.prevents_user_existence_errors());
    let user = find_hidden(core, &ctx, &req.username, hide).await?;
    // The user and the channel a real code would take, if there is one to take.
    let target = match user {
        Some(u) if !u.enabled && !hide => {
            return Err(ApiError::new(
                ErrorCode::NotAuthorizedException,
                "User is disabled.",
            ));
        }
        Some(u) if u.enabled => match codes::recovery_channel(pool, &u) {
            Some(channel) => Some((u, channel)),
            None if hide => None,
            None => {
                return Err(ApiError::invalid_parameter(
                    "Cannot reset password for the user as there is no registered/verified email or phone_number",
                ));
            }
        },
        _ => None,
    };
    let Some((user, channel)) = target else {
        // Unknown, disabled, or without a verified channel, under PreventUserExistenceErrors:
        // a simulated delivery, as Cognito documents, counted like a real one.
        let subject = codes::decoy::subject(core, pool, &req.username);
        let medium = codes::decoy::recovery_medium(pool, &req.username);
        let details = codes::decoy::issue(
            core,
            pool,
            &req.username,
            &subject,
            CodePurpose::ForgotPassword,
            medium,
        )
        .await?;
        return Ok(ForgotPasswordResponse {
            code_delivery_details: Some(details),
        });
    };
    let masked = codes::issue(
        core,
        pool,
        &user,
        Issue {
            purpose: CodePurpose::ForgotPassword,
            channel,
            pending_value: None,
            delivery: delivery_mode(hide),
            allowed: None,
        },
    )
    .await?;
    Ok(ForgotPasswordResponse {
        code_delivery_details: Some(delivery(channel, masked)),
    })
}

pub async fn confirm_forgot_password(
    core: &Core,
    req: ConfirmForgotPasswordRequest,
) -> Result<(), ApiError> {
    confirm_forgot_password_hiding(core, req, None).await
}

/// ConfirmForgotPassword; `hide` as for [`forgot_password_hiding`].
pub async fn confirm_forgot_password_hiding(
    core: &Core,
    req: ConfirmForgotPasswordRequest,
    hide: Option<bool>,
) -> Result<(), ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    client_auth::check_secret_hash(&ctx, &req.username, req.secret_hash.as_deref())?;
    // Every input check comes before the user is looked up, so a weak password gets the same
    // answer for every name.
    password::check_policy(&policy(&ctx.pool), &req.password)?;
    let hide = hide.unwrap_or_else(|| ctx.prevents_user_existence_errors());
    let user = find_hidden(core, &ctx, &req.username, hide).await?;
    // Cognito: CodeMismatchException for users that do not exist or are disabled.
    let Some(mut user) = user.filter(|u| u.enabled || !hide) else {
        return Err(codes::decoy::redeem(
            core,
            &ctx.pool,
            &req.username,
            CodePurpose::ForgotPassword,
        )
        .await);
    };
    codes::redeem(
        core,
        &ctx.pool.id,
        &user.sub,
        CodePurpose::ForgotPassword,
        &req.confirmation_code,
    )
    .await?;
    set_password(core, &ctx.pool, &mut user, &req.password).await?;
    if user.status != UserStatus::Unconfirmed {
        user.status = UserStatus::Confirmed;
    }
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await?;
    super::issue::end_sessions(core, &ctx.pool.id, &user.sub, None).await?;
    core.store
        .put_failures(&ctx.pool.id, &user.sub, SignInFailures::default())
        .await?;
    Ok(())
}
