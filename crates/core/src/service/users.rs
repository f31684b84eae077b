//! User administration: create, read, update, delete, enable, passwords, and ListUsers.

use std::collections::BTreeMap;

use portcullis_proto::{
    AdminConfirmSignUpRequest, AdminCreateUserRequest, AdminCreateUserResponse,
    AdminDeleteUserAttributesRequest, AdminDeleteUserRequest, AdminDisableUserRequest,
    AdminEnableUserRequest, AdminGetUserRequest, AdminGetUserResponse,
    AdminResetUserPasswordRequest, AdminSetUserPasswordRequest, AdminUpdateUserAttributesRequest,
    AttributeType, ListUsersRequest, ListUsersResponse, UserType,
};

use super::attributes::permissions::{self, Stage, Writer};
use super::{codes, filter, load_pool, paging, schema};
use crate::clock::wire_time;
use crate::context::Core;
use crate::domain::{
    CodePurpose, FilterField, PoolRecord, UserFilter, UserKeys, UserRecord, UserStatus,
};
use crate::error::{ApiError, ErrorCode};
use crate::messages::{self, Channel, Message};
use crate::password;
use crate::repo::{AliasKind, Conflict, StoreError};
use crate::rng;

/// How a pool identifies users: case folding, and which attributes sign users in.
#[derive(Debug, Clone)]
pub struct PoolRules {
    pub case_sensitive: bool,
    pub username_attributes: Vec<String>,
    pub alias_attributes: Vec<String>,
}

impl PoolRules {
    pub fn of(pool: &PoolRecord) -> Self {
        let s = &pool.settings;
        Self {
            case_sensitive: s
                .username_configuration
                .as_ref()
                .is_none_or(|c| c.case_sensitive),
            username_attributes: s.username_attributes.clone().unwrap_or_default(),
            alias_attributes: s.alias_attributes.clone().unwrap_or_default(),
        }
    }

    pub fn username_key(&self, username: &str) -> String {
        if self.case_sensitive {
            username.to_owned()
        } else {
            username.to_lowercase()
        }
    }

    pub fn signs_in_with(&self, attribute: &str) -> bool {
        self.username_attributes.iter().any(|a| a == attribute)
    }

    pub fn is_alias(&self, attribute: &str) -> bool {
        self.alias_attributes.iter().any(|a| a == attribute)
    }

    /// An email or phone number identifies its user when it is the username, or when it is an
    /// alias and verified; preferred_username needs no verification.
    pub fn keys(&self, username: &str, attrs: &BTreeMap<String, String>) -> UserKeys {
        let contact_key = |attr: &str| {
            let value = attrs.get(attr)?;
            let verified =
                attrs.get(&format!("{attr}_verified")).map(String::as_str) == Some("true");
            if self.signs_in_with(attr) || (self.is_alias(attr) && verified) {
                Some(if attr == "email" {
                    value.to_lowercase()
                } else {
                    value.clone()
                })
            } else {
                None
            }
        };
        UserKeys {
            username: self.username_key(username),
            email: contact_key("email"),
            phone_number: contact_key("phone_number"),
            preferred_username: if self.is_alias("preferred_username") {
                attrs
                    .get("preferred_username")
                    .map(|v| self.username_key(v))
            } else {
                None
            },
        }
    }
}

/// Finds a user by username, or by any attribute the pool lets users sign in with.
pub async fn find_user(
    core: &Core,
    pool: &PoolRecord,
    name: &str,
) -> Result<Option<UserRecord>, ApiError> {
    let rules = PoolRules::of(pool);
    if let Some(u) = core
        .store
        .get_user_by_username(&pool.id, &rules.username_key(name))
        .await?
    {
        return Ok(Some(u));
    }
    let mut aliases = vec![];
    if rules.signs_in_with("email") || rules.is_alias("email") {
        aliases.push((AliasKind::Email, name.to_lowercase()));
    }
    if rules.signs_in_with("phone_number") || rules.is_alias("phone_number") {
        aliases.push((AliasKind::PhoneNumber, name.to_owned()));
    }
    if rules.is_alias("preferred_username") {
        aliases.push((AliasKind::PreferredUsername, rules.username_key(name)));
    }
    for (kind, key) in aliases {
        if let Some(u) = core.store.get_user_by_alias(&pool.id, kind, &key).await? {
            return Ok(Some(u));
        }
    }
    Ok(None)
}

/// The user, or UserNotFoundException.
pub async fn load_user(core: &Core, pool: &PoolRecord, name: &str) -> Result<UserRecord, ApiError> {
    find_user(core, pool, name)
        .await?
        .ok_or_else(ApiError::user_not_found)
}

/// Turns a uniqueness conflict into the error Cognito gives for it in this pool: a new user
/// whose sign-in email or phone is taken gets UsernameExistsException; any other clash with a
/// user's email, phone or preferred_username (an alias, or an update of a sign-in attribute)
/// is AliasExistsException.
pub fn conflict_error(rules: &PoolRules, conflict: Conflict, creating: bool) -> ApiError {
    let taken = |attr: &str| {
        let message = format!("An account with the given {attr} already exists.");
        if creating && rules.signs_in_with(attr) {
            ApiError::new(ErrorCode::UsernameExistsException, message)
        } else {
            ApiError::new(ErrorCode::AliasExistsException, message)
        }
    };
    match conflict {
        Conflict::Username if creating => ApiError::new(
            ErrorCode::UsernameExistsException,
            "User account already exists",
        ),
        Conflict::Email => taken("email"),
        Conflict::PhoneNumber => taken("phone_number"),
        Conflict::PreferredUsername => taken("preferred_username"),
        _ => ApiError::new(
            ErrorCode::UsernameExistsException,
            "User account already exists",
        ),
    }
}

fn map_store(rules: &PoolRules, creating: bool) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::Conflict(c) => conflict_error(rules, c, creating),
        other => other.into(),
    }
}

/// Refuses keys that another user of the pool already holds as a sign-in alias.
pub async fn check_alias_free(
    core: &Core,
    pool: &PoolRecord,
    rules: &PoolRules,
    sub: &str,
    keys: &UserKeys,
) -> Result<(), ApiError> {
    for (kind, key, conflict) in [
        (AliasKind::Email, &keys.email, Conflict::Email),
        (
            AliasKind::PhoneNumber,
            &keys.phone_number,
            Conflict::PhoneNumber,
        ),
        (
            AliasKind::PreferredUsername,
            &keys.preferred_username,
            Conflict::PreferredUsername,
        ),
    ] {
        let Some(key) = key else { continue };
        if let Some(owner) = core.store.get_user_by_alias(&pool.id, kind, key).await?
            && owner.sub != sub
        {
            return Err(conflict_error(rules, conflict, false));
        }
    }
    Ok(())
}

/// Sign-in looks a name up as a username first and as an alias second, so a username equal to
/// another user's alias would take that user's sign-ins and password resets (and the reverse
/// for a preferred_username equal to another user's username). The store keeps usernames and
/// each alias kind unique on their own; this refuses the clashes between them.
pub async fn check_not_shadowing(
    core: &Core,
    pool: &PoolRecord,
    rules: &PoolRules,
    sub: &str,
    keys: &UserKeys,
    creating: bool,
) -> Result<(), ApiError> {
    let other = |u: Option<UserRecord>| u.is_some_and(|u| u.sub != sub);
    if let Some(preferred) = &keys.preferred_username
        && other(core.store.get_user_by_username(&pool.id, preferred).await?)
    {
        return Err(conflict_error(rules, Conflict::PreferredUsername, false));
    }
    if creating {
        let name = &keys.username;
        for (kind, key) in [
            (AliasKind::Email, name.to_lowercase()),
            (AliasKind::PhoneNumber, name.clone()),
            (AliasKind::PreferredUsername, name.clone()),
        ] {
            if other(core.store.get_user_by_alias(&pool.id, kind, &key).await?) {
                return Err(conflict_error(rules, Conflict::Username, true));
            }
        }
    }
    Ok(())
}

/// Sets a password: the argon2id hash for password sign-in and the sealed SRP verifier for
/// SRP sign-in, both from the one plaintext.
pub async fn set_password(
    core: &Core,
    pool: &PoolRecord,
    user: &mut UserRecord,
    password: &str,
) -> Result<(), ApiError> {
    super::password_history::admit(core, pool, user, password).await?;
    user.password_hash = Some(core.passwords.hash(password).await?);
    user.srp_sealed = Some(super::srp_flow::seal_verifier(core, pool, user, password)?);
    user.password_set_ms = Some(core.now_ms());
    Ok(())
}

fn attribute_list(user: &UserRecord, only: Option<&[String]>) -> Vec<AttributeType> {
    let wanted = |n: &str| only.is_none_or(|names| names.iter().any(|w| w == n));
    sub_first(
        wanted("sub").then(|| user.sub.clone()),
        user.attributes
            .iter()
            .filter(|(name, _)| *name != "sub" && wanted(name))
            .map(|(name, value)| (name.clone(), value.clone())),
    )
}

/// Every attribute, moving the record's strings instead of copying them.
fn owned_attribute_list(sub: String, attributes: BTreeMap<String, String>) -> Vec<AttributeType> {
    sub_first(Some(sub), attributes.into_iter())
}

/// The attributes `keep` lets through (`sub` always), moving the record's strings.
pub fn owned_attributes_where(
    sub: String,
    attributes: BTreeMap<String, String>,
    keep: impl Fn(&str) -> bool,
) -> Vec<AttributeType> {
    sub_first(
        Some(sub),
        attributes.into_iter().filter(|(name, _)| keep(name)),
    )
}

/// `sub` first, as Cognito lists it; the rest in the order given (name order).
fn sub_first(
    sub: Option<String>,
    rest: impl Iterator<Item = (String, String)>,
) -> Vec<AttributeType> {
    sub.map(|value| ("sub".to_owned(), value))
        .into_iter()
        .chain(rest.filter(|(name, _)| name != "sub"))
        .map(|(name, value)| AttributeType {
            name,
            value: Some(value),
        })
        .collect()
}

pub fn user_type(user: &UserRecord, only: Option<&[String]>) -> UserType {
    UserType {
        username: Some(user.username.clone()),
        attributes: Some(attribute_list(user, only)),
        user_create_date: Some(wire_time(user.created_ms)),
        user_last_modified_date: Some(wire_time(user.modified_ms)),
        enabled: Some(user.enabled),
        user_status: Some(user.status.as_str().to_owned()),
        mfa_options: None,
    }
}

fn password_policy(pool: &PoolRecord) -> portcullis_proto::PasswordPolicyType {
    password::complete_policy(
        pool.settings
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref()),
    )
}

/// The username Cognito stores: the given one, or for email/phone-as-username pools a UUID
/// equal to `sub`, with the given email or phone becoming an attribute.
pub fn resolve_new_username(
    rules: &PoolRules,
    given: &str,
    sub: &str,
    attrs: &mut BTreeMap<String, String>,
) -> Result<String, ApiError> {
    if rules.username_attributes.is_empty() {
        // Cognito's documented rule for alias pools: a username may not look like the kind of
        // value users also sign in with, so it can never be mistaken for another user's alias.
        if rules.is_alias("email") && schema::is_email(given) {
            return Err(ApiError::invalid_parameter(
                "Username cannot be of email format, since user pool is configured for email alias.",
            ));
        }
        if rules.is_alias("phone_number") && schema::is_phone(given) {
            return Err(ApiError::invalid_parameter(
                "Username cannot be of phone number format, since user pool is configured for phone number alias.",
            ));
        }
        return Ok(given.to_owned());
    }
    let attr = if given.contains('@') && rules.signs_in_with("email") {
        "email"
    } else if given.starts_with('+') && rules.signs_in_with("phone_number") {
        "phone_number"
    } else {
        let wanted = rules
            .username_attributes
            .join(" or ")
            .replace("phone_number", "a phone number")
            .replace("email", "an email");
        return Err(ApiError::invalid_parameter(format!(
            "Username should be {wanted}."
        )));
    };
    match attrs.get(attr) {
        Some(v) if v != given => {
            return Err(ApiError::invalid_parameter(format!(
                "The {attr} attribute must match the username."
            )));
        }
        _ => {
            attrs.insert(attr.to_owned(), given.to_owned());
        }
    }
    Ok(sub.to_owned())
}

/// Where a message to this user can go, in the order of the channels asked for; falls back
/// to the other channel when the user lacks the asked one.
fn destinations(
    user_attrs: &BTreeMap<String, String>,
    wanted: &[Channel],
) -> Vec<(Channel, String)> {
    let available = |c: Channel| user_attrs.get(c.attribute()).cloned().map(|d| (c, d));
    let chosen: Vec<_> = wanted.iter().filter_map(|c| available(*c)).collect();
    if !chosen.is_empty() {
        return chosen;
    }
    [Channel::Email, Channel::Sms]
        .into_iter()
        .filter_map(available)
        .take(1)
        .collect()
}

async fn send(core: &Core, message: Message) -> Result<(), ApiError> {
    core.messages.send(&message).await.map_err(|e| {
        tracing::warn!(pool_id = %message.pool_id, channel = message.channel.as_str(), error = %e, "message delivery failed");
        ApiError::new(
            ErrorCode::CodeDeliveryFailureException,
            "Unable to deliver the message.",
        )
    })
}

async fn send_invitation(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    temporary: &str,
    mediums: &[String],
) -> Result<(), ApiError> {
    let wanted: Vec<Channel> = if mediums.is_empty() {
        vec![Channel::Sms]
    } else {
        mediums
            .iter()
            .map(|m| {
                if m == "EMAIL" {
                    Channel::Email
                } else {
                    Channel::Sms
                }
            })
            .collect()
    };
    let template = pool
        .settings
        .admin_create_user_config
        .as_ref()
        .and_then(|c| c.invite_message_template.clone())
        .unwrap_or_default();
    // Users of email/phone-as-username pools sign in with what they typed, not the UUID.
    let shown_name = user
        .attr("email")
        .filter(|_| {
            !pool
                .settings
                .username_attributes
                .as_deref()
                .unwrap_or_default()
                .is_empty()
        })
        .unwrap_or(&user.username)
        .to_owned();
    for (channel, destination) in destinations(&user.attributes, &wanted) {
        let (subject, body) = match channel {
            Channel::Email => (
                Some(
                    template
                        .email_subject
                        .clone()
                        .unwrap_or_else(|| messages::DEFAULT_INVITE_SUBJECT.to_owned()),
                ),
                template
                    .email_message
                    .clone()
                    .unwrap_or_else(|| messages::DEFAULT_INVITE_EMAIL.to_owned()),
            ),
            Channel::Sms => (
                None,
                template
                    .sms_message
                    .clone()
                    .unwrap_or_else(|| messages::DEFAULT_INVITE_EMAIL.to_owned()),
            ),
        };
        send(
            core,
            Message {
                pool_id: pool.id.clone(),
                username: user.username.clone(),
                destination,
                channel,
                purpose: "invitation".to_owned(),
                code: Some(temporary.to_owned()),
                subject,
                body: messages::render(&body, &shown_name, temporary),
            },
        )
        .await?;
    }
    Ok(())
}

pub async fn admin_create_user(
    core: &Core,
    req: AdminCreateUserRequest,
) -> Result<AdminCreateUserResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let rules = PoolRules::of(&pool);
    let policy = password_policy(&pool);
    if let Some(tmp) = &req.temporary_password {
        password::check_policy(&policy, tmp)?;
    }
    let temporary = req
        .temporary_password
        .clone()
        .unwrap_or_else(|| password::temporary_password(core.rng.as_ref(), &policy));
    let mediums = req.desired_delivery_mediums.clone().unwrap_or_default();

    if req.message_action.as_deref() == Some("RESEND") {
        let mut user = load_user(core, &pool, &req.username).await?;
        if user.status != UserStatus::ForceChangePassword {
            return Err(ApiError::new(
                ErrorCode::UnsupportedUserStateException,
                format!(
                    "User is in {} state and cannot be resent an invitation.",
                    user.status.as_str()
                ),
            ));
        }
        set_password(core, &pool, &mut user, &temporary).await?;
        user.modified_ms = core.now_ms();
        core.store.update_user(&user).await?;
        send_invitation(core, &pool, &user, &temporary, &mediums).await?;
        return Ok(AdminCreateUserResponse {
            user: Some(user_type(&user, None)),
        });
    }

    let attrs_in = req.user_attributes.clone().unwrap_or_default();
    let mut attrs: BTreeMap<String, String> =
        permissions::check_writes(&pool, Writer::Admin, Stage::Creating, &attrs_in)?
            .into_iter()
            .collect();
    let sub = rng::uuid_v4(core.rng.as_ref());
    let username = resolve_new_username(&rules, &req.username, &sub, &mut attrs)?;
    let schema = pool
        .settings
        .schema_attributes
        .as_deref()
        .unwrap_or_default();
    let missing = schema::missing_required(schema, &attrs);
    if let Some(name) = missing.first() {
        return Err(ApiError::invalid_parameter(format!(
            "Attributes did not conform to the schema: {name}: The attribute is required"
        )));
    }
    attrs.insert("sub".to_owned(), sub.clone());
    let now = core.now_ms();
    let keys = rules.keys(&username, &attrs);
    let mut user = UserRecord {
        pool_id: pool.id.clone(),
        username,
        sub,
        status: UserStatus::ForceChangePassword,
        enabled: true,
        created_ms: now,
        modified_ms: now,
        attributes: attrs,
        password_hash: None,
        password_set_ms: None,
        srp_sealed: None,
        keys,
        version: 0,
    };
    check_not_shadowing(core, &pool, &rules, &user.sub, &user.keys, true).await?;
    set_password(core, &pool, &mut user, &temporary).await?;
    if req.force_alias_creation == Some(true) {
        release_aliases(core, &pool, &rules, &user).await?;
    }
    core.store
        .insert_user(&user)
        .await
        .map_err(map_store(&rules, true))?;
    if req.message_action.as_deref() != Some("SUPPRESS") {
        send_invitation(core, &pool, &user, &temporary, &mediums).await?;
    }
    Ok(AdminCreateUserResponse {
        user: Some(user_type(&user, None)),
    })
}

/// ForceAliasCreation: a verified email or phone moves from its current owner to this user.
pub async fn release_aliases(
    core: &Core,
    pool: &PoolRecord,
    rules: &PoolRules,
    user: &UserRecord,
) -> Result<(), ApiError> {
    for (kind, key, attr) in [
        (AliasKind::Email, &user.keys.email, "email"),
        (
            AliasKind::PhoneNumber,
            &user.keys.phone_number,
            "phone_number",
        ),
    ] {
        let Some(key) = key else { continue };
        if !rules.is_alias(attr) {
            continue;
        }
        if let Some(mut owner) = core.store.get_user_by_alias(&pool.id, kind, key).await?
            && owner.sub != user.sub
        {
            owner
                .attributes
                .insert(format!("{attr}_verified"), "false".to_owned());
            owner.keys = rules.keys(&owner.username, &owner.attributes);
            owner.modified_ms = core.now_ms();
            core.store.update_user(&owner).await?;
        }
    }
    Ok(())
}

pub async fn admin_get_user(
    core: &Core,
    req: AdminGetUserRequest,
) -> Result<AdminGetUserResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let user = load_user(core, &pool, &req.username).await?;
    let user_status = Some(user.status.as_str().to_owned());
    let user_create_date = Some(wire_time(user.created_ms));
    let user_last_modified_date = Some(wire_time(user.modified_ms));
    let enabled = Some(user.enabled);
    let UserRecord {
        username,
        sub,
        attributes,
        ..
    } = user;
    Ok(AdminGetUserResponse {
        username,
        user_attributes: Some(owned_attribute_list(sub, attributes)),
        user_create_date,
        user_last_modified_date,
        enabled,
        user_status,
        ..Default::default()
    })
}

pub async fn admin_delete_user(core: &Core, req: AdminDeleteUserRequest) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let user = load_user(core, &pool, &req.username).await?;
    core.store.delete_user(&pool.id, &user.sub).await?;
    Ok(())
}

async fn set_enabled(
    core: &Core,
    pool_id: &str,
    username: &str,
    enabled: bool,
) -> Result<(), ApiError> {
    super::retry_on_conflict(|| set_enabled_once(core, pool_id, username, enabled)).await
}

async fn set_enabled_once(
    core: &Core,
    pool_id: &str,
    username: &str,
    enabled: bool,
) -> Result<(), ApiError> {
    let pool = load_pool(core, pool_id).await?;
    let mut user = load_user(core, &pool, username).await?;
    if user.enabled != enabled {
        user.enabled = enabled;
        user.modified_ms = core.now_ms();
        core.store.update_user(&user).await?;
    }
    Ok(())
}

pub async fn admin_disable_user(core: &Core, req: AdminDisableUserRequest) -> Result<(), ApiError> {
    set_enabled(core, &req.user_pool_id, &req.username, false).await
}

pub async fn admin_enable_user(core: &Core, req: AdminEnableUserRequest) -> Result<(), ApiError> {
    set_enabled(core, &req.user_pool_id, &req.username, true).await
}

fn auto_verified(pool: &PoolRecord, attribute: &str) -> bool {
    pool.settings
        .auto_verified_attributes
        .iter()
        .flatten()
        .any(|a| a == attribute)
}

pub async fn admin_update_user_attributes(
    core: &Core,
    req: AdminUpdateUserAttributesRequest,
) -> Result<(), ApiError> {
    super::retry_on_conflict(|| admin_update_user_attributes_once(core, req.clone())).await
}

async fn admin_update_user_attributes_once(
    core: &Core,
    req: AdminUpdateUserAttributesRequest,
) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let rules = PoolRules::of(&pool);
    let mut user = load_user(core, &pool, &req.username).await?;
    let writes =
        permissions::check_writes(&pool, Writer::Admin, Stage::Existing, &req.user_attributes)?;
    let changed = permissions::apply(&mut user.attributes, writes, Writer::Admin);
    // A changed email or phone that the call did not vouch for is sent a code when the pool
    // verifies it automatically.
    let to_verify: Vec<String> = changed
        .into_iter()
        .filter(|name| !user.is_verified(name) && auto_verified(&pool, name))
        .collect();
    user.keys = rules.keys(&user.username, &user.attributes);
    check_not_shadowing(core, &pool, &rules, &user.sub, &user.keys, false).await?;
    user.modified_ms = core.now_ms();
    core.store
        .update_user(&user)
        .await
        .map_err(map_store(&rules, false))?;
    for attr in to_verify {
        let (purpose, channel) = if attr == "email" {
            (CodePurpose::VerifyEmail, Channel::Email)
        } else {
            (CodePurpose::VerifyPhone, Channel::Sms)
        };
        codes::issue_and_send(core, &pool, &user, purpose, channel).await?;
    }
    Ok(())
}

pub async fn admin_delete_user_attributes(
    core: &Core,
    req: AdminDeleteUserAttributesRequest,
) -> Result<(), ApiError> {
    super::retry_on_conflict(|| admin_delete_user_attributes_once(core, req.clone())).await
}

async fn admin_delete_user_attributes_once(
    core: &Core,
    req: AdminDeleteUserAttributesRequest,
) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let rules = PoolRules::of(&pool);
    let mut user = load_user(core, &pool, &req.username).await?;
    permissions::check_deletes(&pool, Writer::Admin, &rules, &req.user_attribute_names)?;
    for name in &req.user_attribute_names {
        user.attributes.remove(name);
        if name == "email" || name == "phone_number" {
            user.attributes.remove(&format!("{name}_verified"));
        }
    }
    user.keys = rules.keys(&user.username, &user.attributes);
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await?;
    Ok(())
}

pub async fn admin_set_user_password(
    core: &Core,
    req: AdminSetUserPasswordRequest,
) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let mut user = load_user(core, &pool, &req.username).await?;
    password::check_policy(&password_policy(&pool), &req.password)?;
    let now = core.now_ms();
    set_password(core, &pool, &mut user, &req.password).await?;
    user.status = if req.permanent == Some(true) {
        UserStatus::Confirmed
    } else {
        UserStatus::ForceChangePassword
    };
    user.modified_ms = now;
    core.store.update_user(&user).await?;
    super::issue::end_sessions(core, &pool.id, &user.sub, None).await?;
    // A new password supersedes any pending reset code.
    core.store
        .delete_code(&pool.id, &user.sub, CodePurpose::ForgotPassword)
        .await?;
    Ok(())
}

pub async fn admin_reset_user_password(
    core: &Core,
    req: AdminResetUserPasswordRequest,
) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let mut user = load_user(core, &pool, &req.username).await?;
    // A user who never chose a password has nothing to reset; an admin resends the
    // invitation instead.
    if user.status == UserStatus::ForceChangePassword {
        return Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            "User password cannot be reset in the current state.",
        ));
    }
    user.status = UserStatus::ResetRequired;
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await?;
    // A reset is what an admin does to a password believed stolen: whoever signed in with it
    // keeps no token and no hosted session.
    super::issue::end_sessions(core, &pool.id, &user.sub, None).await?;
    if let Some(channel) = codes::recovery_channel(&pool, &user) {
        codes::issue_and_send(core, &pool, &user, CodePurpose::ForgotPassword, channel).await?;
    }
    Ok(())
}

pub async fn admin_confirm_sign_up(
    core: &Core,
    req: AdminConfirmSignUpRequest,
) -> Result<(), ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let mut user = load_user(core, &pool, &req.username).await?;
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            ),
        ));
    }
    user.status = UserStatus::Confirmed;
    user.modified_ms = core.now_ms();
    core.store.update_user(&user).await?;
    core.store
        .delete_code(&pool.id, &user.sub, CodePurpose::SignUp)
        .await?;
    Ok(())
}

/// Where the next ListUsers page starts. A prefix filter pages through its attribute's order
/// (the store walks that index), so its cursor is the attribute value and the username key.
fn list_cursor(user: &UserRecord, filter: Option<&UserFilter>) -> String {
    let Some(f) = filter.filter(|f| f.prefix && f.field != FilterField::Enabled) else {
        return user.keys.username.clone();
    };
    let value = match f.field {
        FilterField::Username => user.username.as_str(),
        FilterField::Sub => user.sub.as_str(),
        FilterField::UserStatus => user.status.as_str(),
        FilterField::Email => user.attr("email").unwrap_or_default(),
        FilterField::PhoneNumber => user.attr("phone_number").unwrap_or_default(),
        FilterField::Name => user.attr("name").unwrap_or_default(),
        FilterField::GivenName => user.attr("given_name").unwrap_or_default(),
        FilterField::FamilyName => user.attr("family_name").unwrap_or_default(),
        FilterField::PreferredUsername => user.attr("preferred_username").unwrap_or_default(),
        FilterField::Enabled => "",
    };
    format!("{value}\0{}", user.keys.username)
}

pub async fn list_users(core: &Core, req: ListUsersRequest) -> Result<ListUsersResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let filter = filter::parse(req.filter.as_deref())?;
    let limit = paging::limit_or_max(req.limit, 60);
    // Under a prefix filter the cursor is two parts (see `list_cursor`).
    let after = if filter
        .as_ref()
        .is_some_and(|f| f.prefix && f.field != FilterField::Enabled)
    {
        paging::decode_pair(req.pagination_token.as_deref())?
    } else {
        paging::decode(req.pagination_token.as_deref())?
    };
    let schema = pool
        .settings
        .schema_attributes
        .as_deref()
        .unwrap_or_default();
    if let Some(names) = &req.attributes_to_get
        && let Some(bad) = names.iter().find(|n| schema::find(schema, n).is_none())
    {
        return Err(ApiError::invalid_parameter(format!(
            "One or more requested attributes do not exist: {bad}"
        )));
    }
    let rows = core
        .store
        .list_users(&pool.id, filter.as_ref(), after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = paging::page(rows, limit, |u| list_cursor(u, filter.as_ref()));
    Ok(ListUsersResponse {
        users: Some(
            rows.iter()
                .map(|u| user_type(u, req.attributes_to_get.as_deref()))
                .collect(),
        ),
        pagination_token: next,
    })
}
