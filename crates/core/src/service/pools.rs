//! User pools: create, describe, update (full replacement), delete, list, custom attributes.

use portcullis_proto::{
    AccountRecoverySettingType, AddCustomAttributesRequest, AdminCreateUserConfigType,
    CreateUserPoolRequest, CreateUserPoolResponse, DeleteUserPoolRequest, DescribeUserPoolRequest,
    DescribeUserPoolResponse, DeviceConfigurationType, EmailConfigurationType, LambdaConfigType,
    ListUserPoolsRequest, ListUserPoolsResponse, SignInPolicyType, SmsConfigurationType,
    UpdateUserPoolRequest, UserAttributeUpdateSettingsType, UserPoolAddOnsType,
    UserPoolDescriptionType, UserPoolPolicyType, UserPoolType, VerificationMessageTemplateType,
};
use std::sync::Arc;

use super::{load_pool, paging, schema};
use crate::clock::wire_time;
use crate::context::Core;
use crate::domain::PoolRecord;
use crate::error::ApiError;
use crate::ids;
use crate::password;

/// Both the Create and the Update request carry these fields under the same names.
macro_rules! mutable_settings {
    ($req:expr) => {
        MutableSettings {
            policies: $req.policies,
            deletion_protection: $req.deletion_protection,
            lambda_config: $req.lambda_config,
            auto_verified_attributes: $req.auto_verified_attributes,
            sms_verification_message: $req.sms_verification_message,
            email_verification_message: $req.email_verification_message,
            email_verification_subject: $req.email_verification_subject,
            verification_message_template: $req.verification_message_template,
            sms_authentication_message: $req.sms_authentication_message,
            user_attribute_update_settings: $req.user_attribute_update_settings,
            mfa_configuration: $req.mfa_configuration,
            device_configuration: $req.device_configuration,
            email_configuration: $req.email_configuration,
            sms_configuration: $req.sms_configuration,
            admin_create_user_config: $req.admin_create_user_config,
            user_pool_add_ons: $req.user_pool_add_ons,
            account_recovery_setting: $req.account_recovery_setting,
            user_pool_tier: $req.user_pool_tier,
        }
    };
}

/// The settings UpdateUserPool may change. Create and Update both pass through here, so an
/// omitted field gets the same default in both: that is Cognito's full-replacement rule.
struct MutableSettings {
    policies: Option<UserPoolPolicyType>,
    deletion_protection: Option<String>,
    lambda_config: Option<LambdaConfigType>,
    auto_verified_attributes: Option<Vec<String>>,
    sms_verification_message: Option<String>,
    email_verification_message: Option<String>,
    email_verification_subject: Option<String>,
    verification_message_template: Option<VerificationMessageTemplateType>,
    sms_authentication_message: Option<String>,
    user_attribute_update_settings: Option<UserAttributeUpdateSettingsType>,
    mfa_configuration: Option<String>,
    device_configuration: Option<DeviceConfigurationType>,
    email_configuration: Option<EmailConfigurationType>,
    sms_configuration: Option<SmsConfigurationType>,
    admin_create_user_config: Option<AdminCreateUserConfigType>,
    user_pool_add_ons: Option<UserPoolAddOnsType>,
    account_recovery_setting: Option<AccountRecoverySettingType>,
    user_pool_tier: Option<String>,
}

fn apply(pool: &mut UserPoolType, s: MutableSettings) -> Result<(), ApiError> {
    let mfa = s.mfa_configuration.unwrap_or_else(|| "OFF".to_owned());
    if mfa != "OFF" && s.sms_configuration.is_none() {
        return Err(ApiError::invalid_parameter(
            "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
        ));
    }
    if let Some(attrs) = &s.user_attribute_update_settings
        && let Some(list) = &attrs.attributes_require_verification_before_update
    {
        let auto = s.auto_verified_attributes.clone().unwrap_or_default();
        if let Some(a) = list.iter().find(|a| !auto.contains(a)) {
            return Err(ApiError::invalid_parameter(format!(
                "The attribute {a} must be in AutoVerifiedAttributes to require verification before update."
            )));
        }
    }
    let mut policies = s.policies.unwrap_or_default();
    policies.password_policy = Some(password::complete_policy(policies.password_policy.as_ref()));
    if policies.sign_in_policy.is_none() {
        policies.sign_in_policy = Some(SignInPolicyType {
            allowed_first_auth_factors: Some(vec!["PASSWORD".to_owned()]),
        });
    }
    let mut template = s.verification_message_template.unwrap_or_default();
    // The legacy top-level message fields and the template describe the same messages;
    // Cognito mirrors one into the other.
    if template.email_message.is_none() {
        template.email_message = s.email_verification_message.clone();
    }
    if template.email_subject.is_none() {
        template.email_subject = s.email_verification_subject.clone();
    }
    if template.sms_message.is_none() {
        template.sms_message = s.sms_verification_message.clone();
    }
    if template.default_email_option.is_none() {
        template.default_email_option = Some("CONFIRM_WITH_CODE".to_owned());
    }
    let mut admin = s.admin_create_user_config.unwrap_or_default();
    admin.allow_admin_create_user_only = Some(admin.allow_admin_create_user_only.unwrap_or(false));
    admin.unused_account_validity_days = Some(admin.unused_account_validity_days.unwrap_or(7));

    pool.email_verification_message = template.email_message.clone();
    pool.email_verification_subject = template.email_subject.clone();
    pool.sms_verification_message = template.sms_message.clone();
    pool.verification_message_template = Some(template);
    pool.policies = Some(policies);
    pool.deletion_protection = Some(
        s.deletion_protection
            .unwrap_or_else(|| "INACTIVE".to_owned()),
    );
    pool.lambda_config = Some(s.lambda_config.unwrap_or_default());
    pool.auto_verified_attributes = s.auto_verified_attributes;
    pool.sms_authentication_message = s.sms_authentication_message;
    pool.user_attribute_update_settings = Some(s.user_attribute_update_settings.unwrap_or_else(
        || UserAttributeUpdateSettingsType {
            attributes_require_verification_before_update: Some(vec![]),
        },
    ));
    pool.mfa_configuration = Some(mfa);
    pool.device_configuration = s.device_configuration;
    pool.email_configuration =
        Some(
            s.email_configuration
                .unwrap_or_else(|| EmailConfigurationType {
                    email_sending_account: Some("COGNITO_DEFAULT".to_owned()),
                    ..Default::default()
                }),
        );
    pool.sms_configuration = s.sms_configuration;
    pool.admin_create_user_config = Some(admin);
    pool.user_pool_add_ons = s.user_pool_add_ons;
    pool.account_recovery_setting = s.account_recovery_setting;
    pool.user_pool_tier = Some(s.user_pool_tier.unwrap_or_else(|| "ESSENTIALS".to_owned()));
    Ok(())
}

pub async fn create_user_pool(
    core: &Core,
    req: CreateUserPoolRequest,
) -> Result<CreateUserPoolResponse, ApiError> {
    let alias = req.alias_attributes.clone().unwrap_or_default();
    let username_attrs = req.username_attributes.clone().unwrap_or_default();
    if !alias.is_empty() && !username_attrs.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
        ));
    }
    let schema_attributes = schema::build_schema(req.schema.as_deref().unwrap_or_default())?;
    let now = core.now_ms();
    let id = ids::user_pool_id(core.rng.as_ref(), &core.settings.region);
    let mut pool = UserPoolType {
        id: Some(id.clone()),
        name: Some(req.pool_name.clone()),
        arn: Some(ids::user_pool_arn(
            &core.settings.region,
            &core.settings.account_id,
            &id,
        )),
        creation_date: Some(wire_time(now)),
        last_modified_date: Some(wire_time(now)),
        schema_attributes: Some(schema_attributes),
        alias_attributes: req.alias_attributes.filter(|a| !a.is_empty()),
        username_attributes: req.username_attributes.filter(|a| !a.is_empty()),
        username_configuration: req.username_configuration,
        ..Default::default()
    };
    apply(&mut pool, mutable_settings!(req))?;
    let record = PoolRecord {
        id: id.clone(),
        name: req.pool_name,
        created_ms: now,
        modified_ms: now,
        settings: pool,
    };
    core.store.insert_pool(&record).await?;
    crate::tokens::create_pool_keys(core, &id).await?;
    let tags = req.user_pool_tags.unwrap_or_default();
    if !tags.is_empty() {
        let arn = record.settings.arn.clone().unwrap_or_default();
        core.store.put_tags(&arn, &tags).await?;
    }
    Ok(CreateUserPoolResponse {
        user_pool: Some(describe(core, record).await?),
    })
}

/// The pool as DescribeUserPool shows it, with the fields computed on read.
async fn describe(core: &Core, record: PoolRecord) -> Result<UserPoolType, ApiError> {
    let mut pool = record.settings;
    pool.estimated_number_of_users = Some(core.store.count_users(&record.id).await?);
    super::oauth::domains::fill_pool_domains(core, &mut pool).await?;
    let tags = core
        .store
        .get_tags(pool.arn.as_deref().unwrap_or_default())
        .await?;
    pool.user_pool_tags = Some(tags);
    Ok(pool)
}

pub async fn describe_user_pool(
    core: &Core,
    req: DescribeUserPoolRequest,
) -> Result<DescribeUserPoolResponse, ApiError> {
    let record = load_pool(core, &req.user_pool_id).await?;
    Ok(DescribeUserPoolResponse {
        user_pool: Some(describe(core, Arc::unwrap_or_clone(record)).await?),
    })
}

pub async fn update_user_pool(core: &Core, req: UpdateUserPoolRequest) -> Result<(), ApiError> {
    let mut record = Arc::unwrap_or_clone(load_pool(core, &req.user_pool_id).await?);
    let mut pool = record.settings.clone();
    apply(&mut pool, mutable_settings!(req))?;
    if let Some(name) = req.pool_name {
        pool.name = Some(name.clone());
        record.name = name;
    }
    let now = core.now_ms();
    pool.last_modified_date = Some(wire_time(now));
    record.settings = pool;
    record.modified_ms = now;
    core.store.update_pool(&record).await?;
    core.records.forget_pool(&record.id);
    // Tags are their own resource (TagResource); UpdateUserPool replaces them only when given.
    if let Some(tags) = req.user_pool_tags {
        let arn = record.settings.arn.clone().unwrap_or_default();
        core.store.put_tags(&arn, &tags).await?;
    }
    Ok(())
}

pub async fn delete_user_pool(core: &Core, req: DeleteUserPoolRequest) -> Result<(), ApiError> {
    let record = load_pool(core, &req.user_pool_id).await?;
    if record.settings.deletion_protection.as_deref() == Some("ACTIVE") {
        return Err(ApiError::invalid_parameter(
            "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
        ));
    }
    core.store.delete_pool(&record.id).await?;
    core.records.forget_pool(&record.id);
    core.records.forget_pool_clients(&record.id);
    crate::tokens::forget_pool(core, &record.id);
    Ok(())
}

pub async fn list_user_pools(
    core: &Core,
    req: ListUserPoolsRequest,
) -> Result<ListUserPoolsResponse, ApiError> {
    let limit = paging::limit_or_max(Some(req.max_results), 60);
    let after = paging::decode(req.next_token.as_deref())?;
    let rows = core.store.list_pools(after.as_deref(), limit + 1).await?;
    let (rows, next) = paging::page(rows, limit, |p| p.id.clone());
    Ok(ListUserPoolsResponse {
        user_pools: Some(
            rows.into_iter()
                .map(|p| UserPoolDescriptionType {
                    id: Some(p.id),
                    name: Some(p.name),
                    lambda_config: p.settings.lambda_config,
                    status: p.settings.status,
                    last_modified_date: Some(wire_time(p.modified_ms)),
                    creation_date: Some(wire_time(p.created_ms)),
                })
                .collect(),
        ),
        next_token: next,
    })
}

pub async fn add_custom_attributes(
    core: &Core,
    req: AddCustomAttributesRequest,
) -> Result<(), ApiError> {
    let mut record = Arc::unwrap_or_clone(load_pool(core, &req.user_pool_id).await?);
    let current = record
        .settings
        .schema_attributes
        .clone()
        .unwrap_or_default();
    let updated = schema::add_custom(&current, &req.custom_attributes)?;
    let now = core.now_ms();
    record.settings.schema_attributes = Some(updated);
    record.settings.last_modified_date = Some(wire_time(now));
    record.modified_ms = now;
    core.store.update_pool(&record).await?;
    core.records.forget_pool(&record.id);
    Ok(())
}
