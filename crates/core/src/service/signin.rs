//! InitiateAuth, AdminInitiateAuth and the challenges that follow them.

use std::collections::BTreeMap;

use portcullis_proto::{
    AdminInitiateAuthRequest, AdminInitiateAuthResponse, AdminRespondToAuthChallengeRequest,
    AdminRespondToAuthChallengeResponse, AttributeType, AuthenticationResultType,
    InitiateAuthRequest, InitiateAuthResponse, RespondToAuthChallengeRequest,
    RespondToAuthChallengeResponse,
};
use serde::{Deserialize, Serialize};

use super::attributes::permissions::{self, Stage, Writer};
use super::client_auth::{self, ClientContext};
use super::issue::{self, Lineage};
use super::lockout::{self, Counter};
use super::users::{PoolRules, find_user};
use super::{schema, sessions};
use crate::context::Core;
use crate::domain::{PoolRecord, UserRecord, UserStatus};
use crate::error::{ApiError, ErrorCode};
use crate::password;

/// What a step of sign-in produced: tokens, or the next challenge.
#[derive(Debug, Default)]
pub struct Outcome {
    pub challenge_name: Option<String>,
    pub session: Option<String>,
    pub challenge_parameters: Option<BTreeMap<String, String>>,
    pub authentication_result: Option<AuthenticationResultType>,
}

fn not_authorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::NotAuthorizedException, message)
}

pub fn wrong_credentials() -> ApiError {
    not_authorized("Incorrect username or password.")
}

pub fn not_confirmed() -> ApiError {
    ApiError::new(
        ErrorCode::UserNotConfirmedException,
        "User is not confirmed.",
    )
}

/// Cognito refuses an unconfirmed user before it looks at the password, at the first step of
/// every flow (amazon-cognito-identity-js#288, "intended"; aws-sdk-js#4608 for
/// USER_PASSWORD_AUTH; an SRP client gets it from InitiateAuth, amplify-swift#3053). That tells
/// anyone the account exists, so under PreventUserExistenceErrors the status waits until the
/// password has proved right (`check_status`), and a wrong password reads as for anyone else.
pub fn refuse_unconfirmed_early(ctx: &ClientContext, user: &UserRecord) -> Result<(), ApiError> {
    if user.status == UserStatus::Unconfirmed && !ctx.prevents_user_existence_errors() {
        return Err(not_confirmed());
    }
    Ok(())
}

/// Checks a password with the lockout counted first (see `lockout`). `user` is None for a name
/// that matches no user: that name's counter is counted and a dummy hash spent, so the answer,
/// the store work and the time are those of a real user's wrong password.
pub async fn check_password(
    core: &Core,
    pool: &PoolRecord,
    user: Option<&UserRecord>,
    name: &str,
    password: &str,
) -> Result<(), ApiError> {
    let counter = match user {
        Some(u) => Counter::of_user(u),
        None => Counter::of_unknown(core, pool, name),
    };
    lockout::count_attempt(core, &counter).await?;
    let ok = match user.and_then(|u| u.password_hash.as_deref()) {
        Some(hash) => core.passwords.verify(password, hash).await?,
        None => {
            core.passwords.verify_dummy(password).await?;
            false
        }
    };
    if !ok {
        return Err(wrong_credentials());
    }
    lockout::succeeded(core, &counter).await
}

/// The user behind a sign-in name, or the error the client's existence policy calls for.
/// With PreventUserExistenceErrors the caller must still spend the time of a password
/// check, so unknown users cannot be told apart by timing.
async fn find_for_sign_in(
    core: &Core,
    ctx: &ClientContext,
    name: &str,
) -> Result<Option<UserRecord>, ApiError> {
    let user = find_user(core, &ctx.pool, name).await?;
    if user.is_none() && !ctx.prevents_user_existence_errors() {
        return Err(ApiError::user_not_found());
    }
    Ok(user)
}

/// Checks that apply after the password proved right, in Cognito's order.
pub fn check_status(core: &Core, ctx: &ClientContext, user: &UserRecord) -> Result<(), ApiError> {
    if !user.enabled {
        return Err(not_authorized("User is disabled."));
    }
    match user.status {
        UserStatus::Unconfirmed => Err(not_confirmed()),
        UserStatus::ResetRequired => Err(ApiError::new(
            ErrorCode::PasswordResetRequiredException,
            "Password reset required for the user",
        )),
        UserStatus::ForceChangePassword => {
            let days = ctx
                .pool
                .settings
                .policies
                .as_ref()
                .and_then(|p| p.password_policy.as_ref())
                .and_then(|p| p.temporary_password_validity_days)
                .filter(|d| *d > 0)
                .unwrap_or(7);
            let set = user.password_set_ms.unwrap_or(user.created_ms);
            if core.now_ms() > set + days * 86_400_000 {
                return Err(not_authorized(
                    "Temporary password has expired and must be reset by an administrator.",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH.
async fn password_auth(
    core: &Core,
    ctx: &ClientContext,
    params: &BTreeMap<String, String>,
) -> Result<Outcome, ApiError> {
    let username = required(params, "USERNAME")?;
    let password = required(params, "PASSWORD")?;
    client_auth::check_secret_hash(ctx, username, params.get("SECRET_HASH").map(String::as_str))?;
    let user = find_for_sign_in(core, ctx, username).await?;
    if let Some(u) = &user {
        refuse_unconfirmed_early(ctx, u)?;
    }
    check_password(core, &ctx.pool, user.as_ref(), username, password).await?;
    let user = user.ok_or_else(wrong_credentials)?;
    after_password(core, ctx, user).await
}

/// What follows a proven password: the new-password challenge, or tokens.
pub async fn after_password(
    core: &Core,
    ctx: &ClientContext,
    user: UserRecord,
) -> Result<Outcome, ApiError> {
    check_status(core, ctx, &user)?;
    if user.status == UserStatus::ForceChangePassword {
        return new_password_challenge(core, ctx, &user).await;
    }
    Ok(Outcome {
        authentication_result: Some(issue::issue(core, ctx, &user, None, true).await?),
        ..Default::default()
    })
}

#[derive(Serialize, Deserialize)]
struct NewPasswordState {}

fn writable_attributes(ctx: &ClientContext, user: &UserRecord) -> BTreeMap<String, String> {
    permissions::visible(&ctx.pool, &ctx.client, &user.attributes)
        .filter(|(k, _)| k.as_str() != "sub")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn new_password_challenge(
    core: &Core,
    ctx: &ClientContext,
    user: &UserRecord,
) -> Result<Outcome, ApiError> {
    let schema = ctx
        .pool
        .settings
        .schema_attributes
        .as_deref()
        .unwrap_or_default();
    let required: Vec<String> = schema::missing_required(schema, &user.attributes)
        .into_iter()
        .map(|n| format!("userAttributes.{n}"))
        .collect();
    let session = sessions::open(
        core,
        ctx,
        user,
        "NEW_PASSWORD_REQUIRED",
        &NewPasswordState {},
    )
    .await?;
    let mut params = BTreeMap::new();
    params.insert("USER_ID_FOR_SRP".to_owned(), user.username.clone());
    params.insert(
        "requiredAttributes".to_owned(),
        serde_json::to_string(&required).map_err(ApiError::internal)?,
    );
    params.insert(
        "userAttributes".to_owned(),
        serde_json::to_string(&writable_attributes(ctx, user)).map_err(ApiError::internal)?,
    );
    Ok(Outcome {
        challenge_name: Some("NEW_PASSWORD_REQUIRED".to_owned()),
        session: Some(session),
        challenge_parameters: Some(params),
        authentication_result: None,
    })
}

async fn answer_new_password(
    core: &Core,
    ctx: &ClientContext,
    session: &str,
    responses: &BTreeMap<String, String>,
) -> Result<Outcome, ApiError> {
    let (record, _state): (_, NewPasswordState) =
        sessions::load(core, ctx, session, "NEW_PASSWORD_REQUIRED").await?;
    let mut user = core
        .store
        .get_user_by_sub(&ctx.pool.id, &record.sub)
        .await?
        .ok_or_else(sessions::invalid_session)?;
    // Disabled, or given a password by an administrator, since the challenge was issued (L3).
    check_status(core, ctx, &user)?;
    if user.status != UserStatus::ForceChangePassword {
        return Err(sessions::invalid_session());
    }
    let username = required(responses, "USERNAME")?;
    let rules = PoolRules::of(&ctx.pool);
    if rules.username_key(username) != user.keys.username
        && find_user(core, &ctx.pool, username).await?.map(|u| u.sub) != Some(user.sub.clone())
    {
        return Err(sessions::invalid_session());
    }
    client_auth::check_secret_hash(
        ctx,
        username,
        responses.get("SECRET_HASH").map(String::as_str),
    )?;
    let new_password = required(responses, "NEW_PASSWORD")?;
    let policy = password::complete_policy(
        ctx.pool
            .settings
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref()),
    );
    password::check_policy(&policy, new_password)?;
    let given: Vec<AttributeType> = responses
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("userAttributes.").map(|name| AttributeType {
                name: name.to_owned(),
                value: Some(v.clone()),
            })
        })
        .collect();
    let writer = Writer::Client(&ctx.client);
    let writes = permissions::check_writes(&ctx.pool, writer, Stage::Existing, &given)?;
    permissions::apply(&mut user.attributes, writes, writer);
    let schema = ctx
        .pool
        .settings
        .schema_attributes
        .as_deref()
        .unwrap_or_default();
    if let Some(missing) = schema::missing_required(schema, &user.attributes).first() {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid attributes given, {missing} is missing"
        )));
    }
    sessions::consume(core, &record).await?;
    let now = core.now_ms();
    super::users::set_password(core, &ctx.pool, &mut user, new_password).await?;
    user.status = UserStatus::Confirmed;
    user.keys = rules.keys(&user.username, &user.attributes);
    super::users::check_not_shadowing(core, &ctx.pool, &rules, &user.sub, &user.keys, false)
        .await?;
    user.modified_ms = now;
    core.store.update_user(&user).await.map_err(|e| match e {
        crate::repo::StoreError::Conflict(c) => super::users::conflict_error(&rules, c, false),
        other => other.into(),
    })?;
    Ok(Outcome {
        authentication_result: Some(issue::issue(core, ctx, &user, None, true).await?),
        ..Default::default()
    })
}

/// REFRESH_TOKEN_AUTH: new ID and access tokens of the same lineage.
async fn refresh_auth(
    core: &Core,
    ctx: &ClientContext,
    params: &BTreeMap<String, String>,
) -> Result<Outcome, ApiError> {
    let token = required(params, "REFRESH_TOKEN")?;
    let record = issue::usable_refresh_token(core, ctx, token).await?;
    let user = core
        .store
        .get_user_by_sub(&ctx.pool.id, &record.sub)
        .await?
        .ok_or_else(|| not_authorized("Invalid Refresh Token"))?;
    if ctx.secret.is_some() {
        // Cognito computes SECRET_HASH for refresh with the canonical username.
        let given = params.get("SECRET_HASH").map(String::as_str);
        let by_username = client_auth::check_secret_hash(ctx, &user.username, given);
        if by_username.is_err() {
            client_auth::check_secret_hash(ctx, &user.sub, given)?;
        }
    }
    if !user.enabled {
        return Err(not_authorized("User is disabled."));
    }
    let lineage = Lineage {
        origin_jti: record.origin_jti.clone(),
        auth_time: record.auth_time,
    };
    Ok(Outcome {
        authentication_result: Some(issue::issue(core, ctx, &user, Some(lineage), false).await?),
        ..Default::default()
    })
}

fn required<'a>(params: &'a BTreeMap<String, String>, key: &str) -> Result<&'a str, ApiError> {
    params
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter(format!("Missing required parameter {key}")))
}

/// InitiateAuth names the flow ("USER_PASSWORD_AUTH flow not enabled for this client", as
/// boto3 users quote it); AdminInitiateAuth says "Auth flow not enabled for this client".
fn flow_not_enabled(flow: &str, admin: bool) -> ApiError {
    if admin {
        ApiError::invalid_parameter("Auth flow not enabled for this client")
    } else {
        ApiError::invalid_parameter(format!("{flow} flow not enabled for this client"))
    }
}

fn unsupported_flow() -> ApiError {
    ApiError::invalid_parameter("Initiate Auth method not supported.")
}

async fn initiate(
    core: &Core,
    ctx: &ClientContext,
    flow: &str,
    params: &BTreeMap<String, String>,
    admin: bool,
) -> Result<Outcome, ApiError> {
    let known = matches!(
        flow,
        "USER_SRP_AUTH" | "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" | "CUSTOM_AUTH" | "USER_AUTH"
    ) || (admin && matches!(flow, "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH"))
        || (!admin && flow == "USER_PASSWORD_AUTH");
    if !known {
        return Err(unsupported_flow());
    }
    if !client_auth::flow_allowed(ctx, flow) {
        return Err(flow_not_enabled(flow, admin));
    }
    match flow {
        "USER_PASSWORD_AUTH" | "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            password_auth(core, ctx, params).await
        }
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => refresh_auth(core, ctx, params).await,
        "USER_SRP_AUTH" => super::srp_flow::start(core, ctx, params).await,
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedOperationException,
            format!("The {flow} flow is not supported by this server yet."),
        )),
    }
}

async fn respond(
    core: &Core,
    ctx: &ClientContext,
    challenge: &str,
    session: Option<&str>,
    responses: &BTreeMap<String, String>,
) -> Result<Outcome, ApiError> {
    match challenge {
        "PASSWORD_VERIFIER" => super::srp_flow::answer(core, ctx, session, responses).await,
        "NEW_PASSWORD_REQUIRED" => {
            let session = session.ok_or_else(sessions::invalid_session)?;
            answer_new_password(core, ctx, session, responses).await
        }
        other => Err(ApiError::invalid_parameter(format!(
            "The challenge {other} is not supported by this server yet."
        ))),
    }
}

pub async fn initiate_auth(
    core: &Core,
    req: InitiateAuthRequest,
) -> Result<InitiateAuthResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    let params = req.auth_parameters.unwrap_or_default();
    let o = initiate(core, &ctx, &req.auth_flow, &params, false).await?;
    Ok(InitiateAuthResponse {
        challenge_name: o.challenge_name,
        session: o.session,
        challenge_parameters: o.challenge_parameters.or_else(|| Some(BTreeMap::new())),
        authentication_result: o.authentication_result,
        available_challenges: None,
    })
}

pub async fn admin_initiate_auth(
    core: &Core,
    req: AdminInitiateAuthRequest,
) -> Result<AdminInitiateAuthResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, Some(&req.user_pool_id)).await?;
    let params = req.auth_parameters.unwrap_or_default();
    let o = initiate(core, &ctx, &req.auth_flow, &params, true).await?;
    Ok(AdminInitiateAuthResponse {
        challenge_name: o.challenge_name,
        session: o.session,
        challenge_parameters: o.challenge_parameters.or_else(|| Some(BTreeMap::new())),
        authentication_result: o.authentication_result,
        available_challenges: None,
    })
}

pub async fn respond_to_auth_challenge(
    core: &Core,
    req: RespondToAuthChallengeRequest,
) -> Result<RespondToAuthChallengeResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, None).await?;
    let responses = req.challenge_responses.unwrap_or_default();
    let o = respond(
        core,
        &ctx,
        &req.challenge_name,
        req.session.as_deref(),
        &responses,
    )
    .await?;
    Ok(RespondToAuthChallengeResponse {
        challenge_name: o.challenge_name,
        session: o.session,
        challenge_parameters: o.challenge_parameters.or_else(|| Some(BTreeMap::new())),
        authentication_result: o.authentication_result,
    })
}

pub async fn admin_respond_to_auth_challenge(
    core: &Core,
    req: AdminRespondToAuthChallengeRequest,
) -> Result<AdminRespondToAuthChallengeResponse, ApiError> {
    let ctx = client_auth::resolve(core, &req.client_id, Some(&req.user_pool_id)).await?;
    let responses = req.challenge_responses.unwrap_or_default();
    let o = respond(
        core,
        &ctx,
        &req.challenge_name,
        req.session.as_deref(),
        &responses,
    )
    .await?;
    Ok(AdminRespondToAuthChallengeResponse {
        challenge_name: o.challenge_name,
        session: o.session,
        challenge_parameters: o.challenge_parameters.or_else(|| Some(BTreeMap::new())),
        authentication_result: o.authentication_result,
    })
}
