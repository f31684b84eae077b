//! User pools: create, describe, update (full replacement), delete, list, custom attributes.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{ACCOUNT, Backend, REGION, list, start};

backend_tests!(
    create_describe_list_delete,
    created_pool_defaults,
    list_user_pools_pagination,
    unknown_pool_is_resource_not_found,
    deletion_protection_blocks_delete,
    username_and_alias_attributes_are_exclusive,
    invalid_create_leaves_nothing_behind,
    update_user_pool_is_full_replacement,
    update_user_pool_errors_change_nothing,
    add_custom_attributes,
    delete_pool_removes_everything_in_it,
);

fn is_pool_id(id: &str) -> bool {
    let Some(suffix) = id.strip_prefix(&format!("{REGION}_")) else {
        return false;
    };
    suffix.len() == 9 && suffix.chars().all(|c| c.is_ascii_alphanumeric())
}

fn schema_names(pool: &Value) -> Vec<String> {
    list(pool, "SchemaAttributes")
        .iter()
        .map(|a| a["Name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn create_describe_list_delete(backend: Backend) {
    let srv = start(&backend).await;
    let created = srv
        .create_pool(json!({
            "PoolName": "main pool",
            "Policies": { "PasswordPolicy": {
                "MinimumLength": 10, "RequireUppercase": true, "RequireLowercase": true,
                "RequireNumbers": false, "RequireSymbols": false,
                "TemporaryPasswordValidityDays": 3,
            } },
            "AutoVerifiedAttributes": ["email"],
            "UsernameAttributes": ["email"],
            "UsernameConfiguration": { "CaseSensitive": false },
            "Schema": [
                { "Name": "tier", "AttributeDataType": "String", "Mutable": true,
                  "StringAttributeConstraints": { "MinLength": "1", "MaxLength": "10" } },
            ],
            "UserPoolTags": { "env": "test" },
        }))
        .await;
    let id = created["Id"].as_str().unwrap().to_owned();
    assert!(is_pool_id(&id), "{id}");
    assert_eq!(created["Name"], "main pool");
    assert_eq!(
        created["Arn"],
        format!("arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{id}")
    );
    assert!(created["CreationDate"].is_number());
    assert!(created["LastModifiedDate"].is_number());
    let policy = &created["Policies"]["PasswordPolicy"];
    assert_eq!(policy["MinimumLength"], 10);
    assert_eq!(policy["RequireUppercase"], true);
    assert_eq!(policy["RequireNumbers"], false);
    assert_eq!(policy["TemporaryPasswordValidityDays"], 3);
    assert_eq!(created["AutoVerifiedAttributes"], json!(["email"]));
    assert_eq!(created["UsernameAttributes"], json!(["email"]));
    assert_eq!(created["UsernameConfiguration"]["CaseSensitive"], false);
    assert_eq!(created["UserPoolTags"], json!({ "env": "test" }));
    assert_eq!(created["EstimatedNumberOfUsers"], 0);
    let names = schema_names(&created);
    for n in [
        "sub",
        "email",
        "email_verified",
        "phone_number",
        "custom:tier",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }

    // Describe shows the pool exactly as Create returned it.
    let described = srv.describe_pool(&id).await;
    assert_eq!(described, created);

    // List shows it.
    let pools = srv.all_pools().await;
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0]["Id"], id.as_str());
    assert_eq!(pools[0]["Name"], "main pool");
    assert!(pools[0]["CreationDate"].is_number());

    let out = srv.ok("DeleteUserPool", json!({ "UserPoolId": id })).await;
    assert_eq!(out, json!({}));
    let res = srv
        .err(
            "DescribeUserPool",
            json!({ "UserPoolId": id }),
            "ResourceNotFoundException",
        )
        .await;
    assert_eq!(res.message(), format!("User pool {id} does not exist."));
    assert!(srv.all_pools().await.is_empty());
}

async fn created_pool_defaults(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv.create_pool(json!({ "PoolName": "defaults" })).await;
    let policy = &pool["Policies"]["PasswordPolicy"];
    assert_eq!(policy["MinimumLength"], 8);
    for k in [
        "RequireUppercase",
        "RequireLowercase",
        "RequireNumbers",
        "RequireSymbols",
    ] {
        assert_eq!(policy[k], true, "{k}");
    }
    assert_eq!(policy["TemporaryPasswordValidityDays"], 7);
    assert_eq!(pool["MfaConfiguration"], "OFF");
    assert_eq!(pool["DeletionProtection"], "INACTIVE");
    assert_eq!(
        pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        false
    );
    assert_eq!(
        pool["EmailConfiguration"]["EmailSendingAccount"],
        "COGNITO_DEFAULT"
    );
    assert_eq!(
        pool["VerificationMessageTemplate"]["DefaultEmailOption"],
        "CONFIRM_WITH_CODE"
    );
    assert!(pool.get("UsernameAttributes").is_none_or(Value::is_null));
    assert!(pool.get("AliasAttributes").is_none_or(Value::is_null));
}

async fn list_user_pools_pagination(backend: Backend) {
    let srv = start(&backend).await;
    let mut created = HashSet::new();
    for i in 0..5 {
        created.insert(srv.new_pool(&format!("pool-{i}")).await);
    }
    let mut seen = vec![];
    let mut token: Option<String> = None;
    let mut pages = vec![];
    loop {
        let mut body = json!({ "MaxResults": 2 });
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = srv.ok("ListUserPools", body).await;
        let items = list(&page, "UserPools");
        pages.push(items.len());
        seen.extend(items.iter().map(|p| p["Id"].as_str().unwrap().to_owned()));
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, vec![2, 2, 1]);
    let distinct: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        seen.len(),
        "a pool was listed twice: {seen:?}"
    );
    assert_eq!(distinct, created);
    // MaxResults is required.
    srv.err("ListUserPools", json!({}), "InvalidParameterException")
        .await;
}

async fn unknown_pool_is_resource_not_found(backend: Backend) {
    let srv = start(&backend).await;
    let real = srv.new_pool("real").await;
    let before = srv.describe_pool(&real).await;
    let ghost = "us-east-1_Ghost1234";
    for (op, body) in [
        ("DescribeUserPool", json!({ "UserPoolId": ghost })),
        ("UpdateUserPool", json!({ "UserPoolId": ghost })),
        ("DeleteUserPool", json!({ "UserPoolId": ghost })),
        (
            "AddCustomAttributes",
            json!({ "UserPoolId": ghost, "CustomAttributes": [{ "Name": "x", "AttributeDataType": "String" }] }),
        ),
        ("ListUserPoolClients", json!({ "UserPoolId": ghost })),
        ("ListUsers", json!({ "UserPoolId": ghost })),
        ("ListGroups", json!({ "UserPoolId": ghost })),
        (
            "CreateUserPoolClient",
            json!({ "UserPoolId": ghost, "ClientName": "c" }),
        ),
        (
            "AdminCreateUser",
            json!({ "UserPoolId": ghost, "Username": "u" }),
        ),
        (
            "CreateGroup",
            json!({ "UserPoolId": ghost, "GroupName": "g" }),
        ),
    ] {
        let res = srv.err(op, body, "ResourceNotFoundException").await;
        assert!(res.message().contains(ghost), "{op}: {}", res.message());
    }
    assert_eq!(srv.pool_ids().await, HashSet::from([real.clone()]));
    assert_eq!(srv.describe_pool(&real).await, before);
}

async fn deletion_protection_blocks_delete(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv
        .create_pool(json!({ "PoolName": "guarded", "DeletionProtection": "ACTIVE" }))
        .await;
    let id = pool["Id"].as_str().unwrap().to_owned();
    assert_eq!(pool["DeletionProtection"], "ACTIVE");
    srv.create_user(&id, "keeper", &[]).await;
    srv.err(
        "DeleteUserPool",
        json!({ "UserPoolId": id }),
        "InvalidParameterException",
    )
    .await;
    // The pool and what is in it remain.
    assert_eq!(srv.describe_pool(&id).await, {
        let mut p = pool.clone();
        p["EstimatedNumberOfUsers"] = json!(1);
        p
    });
    assert_eq!(srv.pool_ids().await.len(), 1);
    assert_eq!(srv.all_users(&id).await.len(), 1);
    // Lifted, the delete goes through.
    srv.ok(
        "UpdateUserPool",
        json!({ "UserPoolId": id, "DeletionProtection": "INACTIVE" }),
    )
    .await;
    srv.ok("DeleteUserPool", json!({ "UserPoolId": id })).await;
    srv.err(
        "DescribeUserPool",
        json!({ "UserPoolId": id }),
        "ResourceNotFoundException",
    )
    .await;
    assert!(srv.pool_ids().await.is_empty());
}

async fn username_and_alias_attributes_are_exclusive(backend: Backend) {
    let srv = start(&backend).await;
    srv.new_pool("existing").await;
    let before = srv.pool_ids().await;
    srv.err(
        "CreateUserPool",
        json!({
            "PoolName": "both",
            "UsernameAttributes": ["email"],
            "AliasAttributes": ["preferred_username"],
        }),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(srv.pool_ids().await, before);
    // Each alone is fine.
    srv.create_pool(json!({ "PoolName": "u", "UsernameAttributes": ["email"] }))
        .await;
    let p = srv
        .create_pool(json!({ "PoolName": "a", "AliasAttributes": ["email", "preferred_username"] }))
        .await;
    assert_eq!(p["AliasAttributes"], json!(["email", "preferred_username"]));
    assert_eq!(srv.pool_ids().await.len(), 3);
}

async fn invalid_create_leaves_nothing_behind(backend: Backend) {
    let srv = start(&backend).await;
    for body in [
        // MFA ON needs an SMS configuration.
        json!({ "PoolName": "mfa", "MfaConfiguration": "ON" }),
        // Out of the model's range.
        json!({ "PoolName": "short", "Policies": { "PasswordPolicy": { "MinimumLength": 5 } } }),
        // Not in the enum.
        json!({ "PoolName": "enum", "DeletionProtection": "MAYBE" }),
        json!({ "PoolName": "alias", "AliasAttributes": ["nickname"] }),
        // The same attribute twice in the schema.
        json!({ "PoolName": "dup", "Schema": [
            { "Name": "tier", "AttributeDataType": "String" },
            { "Name": "tier", "AttributeDataType": "String" },
        ] }),
    ] {
        srv.err("CreateUserPool", body, "InvalidParameterException")
            .await;
    }
    assert!(srv.pool_ids().await.is_empty());
}

async fn update_user_pool_is_full_replacement(backend: Backend) {
    let srv = start(&backend).await;
    let created = srv
        .create_pool(json!({
            "PoolName": "replace-me",
            "Policies": { "PasswordPolicy": {
                "MinimumLength": 12, "RequireUppercase": true, "RequireLowercase": true,
                "RequireNumbers": true, "RequireSymbols": true,
            } },
            "DeletionProtection": "ACTIVE",
            "AutoVerifiedAttributes": ["email"],
            "AliasAttributes": ["email"],
            "EmailVerificationMessage": "Custom code {####}",
            "EmailVerificationSubject": "Custom subject",
            "AdminCreateUserConfig": { "AllowAdminCreateUserOnly": true },
            "UserPoolTags": { "keep": "me" },
        }))
        .await;
    let id = created["Id"].as_str().unwrap().to_owned();
    // Only a new password policy is given: everything else returns to its default.
    let out = srv
        .ok(
            "UpdateUserPool",
            json!({
                "UserPoolId": id,
                "Policies": { "PasswordPolicy": { "MinimumLength": 9 } },
            }),
        )
        .await;
    assert_eq!(out, json!({}));
    let updated = srv.describe_pool(&id).await;
    let policy = &updated["Policies"]["PasswordPolicy"];
    assert_eq!(policy["MinimumLength"], 9);
    for k in [
        "RequireUppercase",
        "RequireLowercase",
        "RequireNumbers",
        "RequireSymbols",
    ] {
        assert_eq!(policy[k], false, "{k} should be reset");
    }
    assert_eq!(updated["DeletionProtection"], "INACTIVE");
    assert!(
        updated
            .get("AutoVerifiedAttributes")
            .is_none_or(|v| v.is_null() || v == &json!([])),
        "{}",
        updated["AutoVerifiedAttributes"]
    );
    assert_eq!(
        updated["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        false
    );
    assert_ne!(updated["EmailVerificationMessage"], "Custom code {####}");
    assert_ne!(updated["EmailVerificationSubject"], "Custom subject");
    assert_eq!(updated["MfaConfiguration"], "OFF");
    // What Update cannot change stays.
    for k in [
        "Id",
        "Name",
        "Arn",
        "CreationDate",
        "AliasAttributes",
        "SchemaAttributes",
        "UserPoolTags",
    ] {
        assert_eq!(updated[k], created[k], "{k} changed");
    }
    assert!(updated["LastModifiedDate"].as_f64() >= created["LastModifiedDate"].as_f64());
    // The deletion protection really is gone.
    srv.ok("DeleteUserPool", json!({ "UserPoolId": id })).await;
}

async fn update_user_pool_errors_change_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let id = srv.new_pool("stable").await;
    let before = srv.describe_pool(&id).await;
    for body in [
        json!({ "UserPoolId": id, "MfaConfiguration": "ON" }),
        json!({ "UserPoolId": id, "Policies": { "PasswordPolicy": { "MinimumLength": 100 } } }),
        json!({ "UserPoolId": id, "DeletionProtection": "SOMETIMES" }),
    ] {
        srv.err("UpdateUserPool", body, "InvalidParameterException")
            .await;
    }
    assert_eq!(srv.describe_pool(&id).await, before);
}

async fn add_custom_attributes(backend: Backend) {
    let srv = start(&backend).await;
    let id = srv.new_pool("custom").await;
    srv.ok(
        "AddCustomAttributes",
        json!({
            "UserPoolId": id,
            "CustomAttributes": [
                { "Name": "plan", "AttributeDataType": "String", "Mutable": true },
                { "Name": "seats", "AttributeDataType": "Number",
                  "NumberAttributeConstraints": { "MinValue": "1", "MaxValue": "100" } },
            ],
        }),
    )
    .await;
    let pool = srv.describe_pool(&id).await;
    let names = schema_names(&pool);
    assert!(names.contains(&"custom:plan".to_owned()), "{names:?}");
    assert!(names.contains(&"custom:seats".to_owned()), "{names:?}");
    // Adding one that exists fails and changes nothing.
    srv.err(
        "AddCustomAttributes",
        json!({
            "UserPoolId": id,
            "CustomAttributes": [{ "Name": "plan", "AttributeDataType": "String" }],
        }),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(srv.describe_pool(&id).await, pool);
    // The new attribute can be written.
    let user = srv
        .create_user(
            &id,
            "carl",
            &[("custom:plan", "gold"), ("custom:seats", "5")],
        )
        .await;
    assert_eq!(
        crate::support::attr(&user["Attributes"], "custom:plan"),
        Some("gold")
    );
}

async fn delete_pool_removes_everything_in_it(backend: Backend) {
    let srv = start(&backend).await;
    let doomed = srv
        .create_pool(json!({ "PoolName": "doomed", "UserPoolTags": { "a": "1" } }))
        .await;
    let kept = srv
        .create_pool(json!({ "PoolName": "kept", "UserPoolTags": { "b": "2" } }))
        .await;
    let doomed_id = doomed["Id"].as_str().unwrap().to_owned();
    let kept_id = kept["Id"].as_str().unwrap().to_owned();
    for id in [&doomed_id, &kept_id] {
        srv.create_user(id, "user", &[("email", "user@example.com")])
            .await;
        srv.ok("CreateGroup", json!({ "UserPoolId": id, "GroupName": "g" }))
            .await;
        srv.ok(
            "AdminAddUserToGroup",
            json!({ "UserPoolId": id, "Username": "user", "GroupName": "g" }),
        )
        .await;
    }
    let client = srv
        .ok(
            "CreateUserPoolClient",
            json!({ "UserPoolId": doomed_id, "ClientName": "c" }),
        )
        .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept_before = srv.describe_pool(&kept_id).await;

    srv.ok("DeleteUserPool", json!({ "UserPoolId": doomed_id }))
        .await;

    srv.err(
        "DescribeUserPoolClient",
        json!({ "UserPoolId": doomed_id, "ClientId": client }),
        "ResourceNotFoundException",
    )
    .await;
    srv.err(
        "ListTagsForResource",
        json!({ "ResourceArn": doomed["Arn"] }),
        "ResourceNotFoundException",
    )
    .await;
    // The other pool is untouched.
    assert_eq!(srv.describe_pool(&kept_id).await, kept_before);
    assert_eq!(
        srv.ok("ListTagsForResource", json!({ "ResourceArn": kept["Arn"] }))
            .await["Tags"],
        json!({ "b": "2" })
    );
    assert_eq!(srv.all_users(&kept_id).await.len(), 1);
    let members = srv
        .ok(
            "ListUsersInGroup",
            json!({ "UserPoolId": kept_id, "GroupName": "g" }),
        )
        .await;
    assert_eq!(list(&members, "Users").len(), 1);
}
