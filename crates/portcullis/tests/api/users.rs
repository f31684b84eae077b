//! User administration: AdminCreateUser and its invitations, reads, updates, deletes,
//! enable/disable, passwords, and ListUsers.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{Backend, TestServer, attr, list, start, usernames};

backend_tests!(
    admin_create_user_sends_invitation,
    admin_create_user_with_given_temporary_password,
    message_action_suppress_writes_nothing,
    admin_create_user_resend,
    duplicate_username_changes_nothing,
    invalid_admin_create_user_changes_nothing,
    unknown_user_is_user_not_found,
    disable_enable_delete_user,
    admin_confirm_sign_up_of_confirmed_user_is_refused,
    set_user_password_statuses,
    invalid_password_leaves_user_unchanged,
    reset_password_sends_code_to_verified_email,
    reset_password_without_verified_contact_sends_nothing,
    reset_password_of_force_change_password_user_is_refused,
    update_and_delete_attributes,
    attribute_errors_change_nothing,
    list_users_filters,
    list_users_filter_errors,
    list_users_user_status_filter_is_case_insensitive,
    list_users_pagination,
    list_users_attributes_to_get,
    email_as_username_pool,
    alias_pool,
    sms_invitation,
    username_case_sensitivity,
);

const GOOD_PASSWORD: &str = "Corr3ct-Horse!";

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

/// A pool that auto-verifies email (so resets go to a verified email).
async fn email_pool(srv: &TestServer) -> String {
    srv.create_pool(json!({ "PoolName": "people", "AutoVerifiedAttributes": ["email"] }))
        .await["Id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn status(user: &Value) -> &str {
    user["UserStatus"].as_str().unwrap_or_default()
}

async fn admin_create_user_sends_invitation(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    let out = srv
        .ok(
            "AdminCreateUser",
            json!({
                "UserPoolId": pool_id,
                "Username": "alice",
                "UserAttributes": [
                    { "Name": "email", "Value": "alice@example.com" },
                    { "Name": "email_verified", "Value": "true" },
                    { "Name": "given_name", "Value": "Alice" },
                ],
                "DesiredDeliveryMediums": ["EMAIL"],
            }),
        )
        .await;
    let user = &out["User"];
    assert_eq!(user["Username"], "alice");
    assert_eq!(status(user), "FORCE_CHANGE_PASSWORD");
    assert_eq!(user["Enabled"], true);
    assert!(user["UserCreateDate"].is_number());
    assert!(user["UserLastModifiedDate"].is_number());
    let sub = attr(&user["Attributes"], "sub").unwrap().to_owned();
    assert!(is_uuid(&sub), "{sub}");
    assert_eq!(
        attr(&user["Attributes"], "email"),
        Some("alice@example.com")
    );
    assert_eq!(attr(&user["Attributes"], "given_name"), Some("Alice"));

    // The invitation, in the outbox.
    let outbox = srv.outbox();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let m = &outbox[0];
    for key in [
        "pool_id",
        "username",
        "destination",
        "channel",
        "code",
        "subject",
        "body",
    ] {
        assert!(
            m.get(key).is_some_and(|v| !v.is_null()),
            "{key} missing in {m}"
        );
    }
    assert_eq!(m["pool_id"], pool_id.as_str());
    assert_eq!(m["username"], "alice");
    assert_eq!(m["destination"], "alice@example.com");
    assert_eq!(m["channel"], "EMAIL");
    let code = m["code"].as_str().unwrap();
    // A generated temporary password follows the pool's (default) policy.
    assert!(code.chars().count() >= 8, "{code}");
    assert!(code.chars().any(|c| c.is_ascii_uppercase()), "{code}");
    assert!(code.chars().any(|c| c.is_ascii_lowercase()), "{code}");
    assert!(code.chars().any(|c| c.is_ascii_digit()), "{code}");
    assert!(code.chars().any(|c| !c.is_ascii_alphanumeric()), "{code}");
    let body = m["body"].as_str().unwrap();
    assert!(body.contains(code), "{body}");
    assert!(body.contains("alice"), "{body}");
    assert!(!m["subject"].as_str().unwrap().is_empty());

    // AdminGetUser agrees with the creation.
    let got = srv.get_user(&pool_id, "alice").await;
    assert_eq!(got["Username"], "alice");
    assert_eq!(got["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(got["Enabled"], true);
    assert_eq!(got["UserAttributes"], user["Attributes"]);
    assert_eq!(got["UserCreateDate"], user["UserCreateDate"]);
    // The pool counts it.
    assert_eq!(
        srv.describe_pool(&pool_id).await["EstimatedNumberOfUsers"],
        1
    );
}

async fn admin_create_user_with_given_temporary_password(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "bob",
            "TemporaryPassword": "Temp0rary!pw",
            "UserAttributes": [{ "Name": "email", "Value": "bob@example.com" }],
            "DesiredDeliveryMediums": ["EMAIL"],
        }),
    )
    .await;
    let outbox = srv.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0]["code"], "Temp0rary!pw");
    assert_eq!(outbox[0]["destination"], "bob@example.com");
    assert!(outbox[0]["body"].as_str().unwrap().contains("Temp0rary!pw"));
}

async fn message_action_suppress_writes_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    let out = srv
        .ok(
            "AdminCreateUser",
            json!({
                "UserPoolId": pool_id,
                "Username": "quiet",
                "MessageAction": "SUPPRESS",
                "UserAttributes": [
                    { "Name": "email", "Value": "quiet@example.com" },
                    { "Name": "phone_number", "Value": "+12065550100" },
                ],
                "DesiredDeliveryMediums": ["EMAIL", "SMS"],
            }),
        )
        .await;
    assert_eq!(status(&out["User"]), "FORCE_CHANGE_PASSWORD");
    assert!(srv.outbox().is_empty(), "{:?}", srv.outbox());
    assert_eq!(usernames(&srv.all_users(&pool_id).await), vec!["quiet"]);
}

async fn admin_create_user_resend(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    let body = |action: Option<&str>| {
        let mut b = json!({
            "UserPoolId": pool_id,
            "Username": "again",
            "UserAttributes": [{ "Name": "email", "Value": "again@example.com" }],
            "DesiredDeliveryMediums": ["EMAIL"],
        });
        if let Some(a) = action {
            b["MessageAction"] = json!(a);
        }
        b
    };
    srv.ok("AdminCreateUser", body(None)).await;
    srv.ok("AdminCreateUser", body(Some("RESEND"))).await;
    let outbox = srv.outbox();
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[1]["destination"], "again@example.com");
    assert_ne!(
        outbox[0]["code"], outbox[1]["code"],
        "RESEND resets the password"
    );
    assert_eq!(srv.all_users(&pool_id).await.len(), 1);
    // Once confirmed, RESEND is refused and sends nothing.
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "again", "Password": GOOD_PASSWORD, "Permanent": true }),
    )
    .await;
    let before = srv.get_user(&pool_id, "again").await;
    srv.err(
        "AdminCreateUser",
        body(Some("RESEND")),
        "UnsupportedUserStateException",
    )
    .await;
    assert_eq!(srv.outbox().len(), 2);
    assert_eq!(srv.get_user(&pool_id, "again").await, before);
    // RESEND for nobody.
    let mut ghost = body(Some("RESEND"));
    ghost["Username"] = json!("ghost");
    srv.err("AdminCreateUser", ghost, "UserNotFoundException")
        .await;
    assert_eq!(srv.outbox().len(), 2);
}

async fn duplicate_username_changes_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "dup",
            "UserAttributes": [{ "Name": "email", "Value": "first@example.com" }],
            "DesiredDeliveryMediums": ["EMAIL"],
        }),
    )
    .await;
    let before = srv.get_user(&pool_id, "dup").await;
    let outbox_before = srv.outbox();
    srv.err(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "dup",
            "UserAttributes": [{ "Name": "email", "Value": "second@example.com" }],
            "DesiredDeliveryMediums": ["EMAIL"],
        }),
        "UsernameExistsException",
    )
    .await;
    assert_eq!(srv.get_user(&pool_id, "dup").await, before);
    assert_eq!(srv.all_users(&pool_id).await.len(), 1);
    assert_eq!(
        srv.outbox(),
        outbox_before,
        "no invitation for a refused user"
    );
}

async fn invalid_admin_create_user_changes_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv
        .create_pool(json!({
            "PoolName": "strict",
            "Schema": [{ "Name": "name", "AttributeDataType": "String", "Required": true, "Mutable": true }],
        }))
        .await["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_name = json!([{ "Name": "name", "Value": "N" }]);
    for (body, error) in [
        // The temporary password must follow the policy.
        (
            json!({ "Username": "u1", "TemporaryPassword": "weak", "UserAttributes": with_name }),
            "InvalidPasswordException",
        ),
        // A required attribute is missing.
        (json!({ "Username": "u2" }), "InvalidParameterException"),
        // An attribute the schema does not have.
        (
            json!({ "Username": "u3", "UserAttributes": [
                { "Name": "name", "Value": "N" }, { "Name": "custom:nope", "Value": "x" }] }),
            "InvalidParameterException",
        ),
        // sub is the server's.
        (
            json!({ "Username": "u4", "UserAttributes": [
                { "Name": "name", "Value": "N" }, { "Name": "sub", "Value": "mine" }] }),
            "InvalidParameterException",
        ),
        // Not in the enum.
        (
            json!({ "Username": "u5", "UserAttributes": with_name, "MessageAction": "SHOUT" }),
            "InvalidParameterException",
        ),
    ] {
        let mut body = body;
        body["UserPoolId"] = json!(pool_id);
        srv.err("AdminCreateUser", body, error).await;
    }
    assert!(srv.all_users(&pool_id).await.is_empty());
    assert!(srv.outbox().is_empty());
}

async fn unknown_user_is_user_not_found(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(&pool_id, "real", &[("email", "real@example.com")])
        .await;
    let before = srv.all_users(&pool_id).await;
    let ghost = "ghost";
    for (op, extra) in [
        ("AdminGetUser", json!({})),
        ("AdminDeleteUser", json!({})),
        ("AdminDisableUser", json!({})),
        ("AdminEnableUser", json!({})),
        ("AdminConfirmSignUp", json!({})),
        ("AdminResetUserPassword", json!({})),
        (
            "AdminSetUserPassword",
            json!({ "Password": GOOD_PASSWORD, "Permanent": true }),
        ),
        (
            "AdminUpdateUserAttributes",
            json!({ "UserAttributes": [{ "Name": "name", "Value": "x" }] }),
        ),
        (
            "AdminDeleteUserAttributes",
            json!({ "UserAttributeNames": ["name"] }),
        ),
        ("AdminListGroupsForUser", json!({})),
    ] {
        let mut body = extra;
        body["UserPoolId"] = json!(pool_id);
        body["Username"] = json!(ghost);
        let res = srv.err(op, body, "UserNotFoundException").await;
        assert_eq!(res.message(), "User does not exist.", "{op}");
    }
    assert_eq!(srv.all_users(&pool_id).await, before);
    assert!(srv.outbox().is_empty());
}

async fn disable_enable_delete_user(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(&pool_id, "dora", &[]).await;
    srv.create_user(&pool_id, "other", &[]).await;
    assert_eq!(
        srv.ok(
            "AdminDisableUser",
            json!({ "UserPoolId": pool_id, "Username": "dora" })
        )
        .await,
        json!({})
    );
    assert_eq!(srv.get_user(&pool_id, "dora").await["Enabled"], false);
    let listed = srv.all_users(&pool_id).await;
    let dora = listed.iter().find(|u| u["Username"] == "dora").unwrap();
    assert_eq!(dora["Enabled"], false);
    // Disabling twice is fine.
    srv.ok(
        "AdminDisableUser",
        json!({ "UserPoolId": pool_id, "Username": "dora" }),
    )
    .await;
    srv.ok(
        "AdminEnableUser",
        json!({ "UserPoolId": pool_id, "Username": "dora" }),
    )
    .await;
    assert_eq!(srv.get_user(&pool_id, "dora").await["Enabled"], true);

    assert_eq!(
        srv.ok(
            "AdminDeleteUser",
            json!({ "UserPoolId": pool_id, "Username": "dora" })
        )
        .await,
        json!({})
    );
    srv.err(
        "AdminGetUser",
        json!({ "UserPoolId": pool_id, "Username": "dora" }),
        "UserNotFoundException",
    )
    .await;
    assert_eq!(usernames(&srv.all_users(&pool_id).await), vec!["other"]);
    assert_eq!(
        srv.describe_pool(&pool_id).await["EstimatedNumberOfUsers"],
        1
    );
    // Deleting again: the user is gone.
    srv.err(
        "AdminDeleteUser",
        json!({ "UserPoolId": pool_id, "Username": "dora" }),
        "UserNotFoundException",
    )
    .await;
    // The name is free again.
    srv.create_user(&pool_id, "dora", &[]).await;
}

async fn admin_confirm_sign_up_of_confirmed_user_is_refused(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(&pool_id, "conf", &[]).await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "conf", "Password": GOOD_PASSWORD, "Permanent": true }),
    )
    .await;
    let before = srv.get_user(&pool_id, "conf").await;
    let res = srv
        .err(
            "AdminConfirmSignUp",
            json!({ "UserPoolId": pool_id, "Username": "conf" }),
            "NotAuthorizedException",
        )
        .await;
    assert_eq!(
        res.message(),
        "User cannot be confirmed. Current status is CONFIRMED"
    );
    assert_eq!(srv.get_user(&pool_id, "conf").await, before);
}

async fn set_user_password_statuses(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(&pool_id, "pat", &[]).await;
    let set = |permanent: Option<bool>| {
        let mut b = json!({ "UserPoolId": pool_id, "Username": "pat", "Password": GOOD_PASSWORD });
        if let Some(p) = permanent {
            b["Permanent"] = json!(p);
        }
        b
    };
    assert_eq!(
        srv.ok("AdminSetUserPassword", set(Some(true))).await,
        json!({})
    );
    assert_eq!(status(&srv.get_user(&pool_id, "pat").await), "CONFIRMED");
    srv.ok("AdminSetUserPassword", set(Some(false))).await;
    assert_eq!(
        status(&srv.get_user(&pool_id, "pat").await),
        "FORCE_CHANGE_PASSWORD"
    );
    srv.ok("AdminSetUserPassword", set(Some(true))).await;
    srv.ok("AdminSetUserPassword", set(None)).await;
    assert_eq!(
        status(&srv.get_user(&pool_id, "pat").await),
        "FORCE_CHANGE_PASSWORD",
        "Permanent defaults to false"
    );
    // A RESET_REQUIRED user gets out of it with a permanent password.
    srv.ok("AdminSetUserPassword", set(Some(true))).await;
    srv.ok(
        "AdminUpdateUserAttributes",
        json!({ "UserPoolId": pool_id, "Username": "pat", "UserAttributes": [
            { "Name": "email", "Value": "pat@example.com" },
            { "Name": "email_verified", "Value": "true" },
        ] }),
    )
    .await;
    srv.ok(
        "AdminResetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "pat" }),
    )
    .await;
    assert_eq!(
        status(&srv.get_user(&pool_id, "pat").await),
        "RESET_REQUIRED"
    );
    srv.ok("AdminSetUserPassword", set(Some(true))).await;
    assert_eq!(status(&srv.get_user(&pool_id, "pat").await), "CONFIRMED");
}

async fn invalid_password_leaves_user_unchanged(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(&pool_id, "ivan", &[]).await;
    srv.create_user(&pool_id, "fresh", &[]).await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "ivan", "Password": GOOD_PASSWORD, "Permanent": true }),
    )
    .await;
    for (user, expected_status) in [("ivan", "CONFIRMED"), ("fresh", "FORCE_CHANGE_PASSWORD")] {
        let before = srv.get_user(&pool_id, user).await;
        for (bad, why) in [
            ("Sh0rt!", "Password not long enough"),
            ("alllower1!", "uppercase"),
            ("ALLUPPER1!", "lowercase"),
            ("NoDigits!!", "numeric"),
            ("NoSymbols11", "symbol"),
        ] {
            for permanent in [true, false] {
                let res = srv
                    .err(
                        "AdminSetUserPassword",
                        json!({ "UserPoolId": pool_id, "Username": user, "Password": bad, "Permanent": permanent }),
                        "InvalidPasswordException",
                    )
                    .await;
                assert!(
                    res.message()
                        .starts_with("Password did not conform with password policy"),
                    "{}",
                    res.message()
                );
                assert!(res.message().contains(why), "{bad}: {}", res.message());
            }
        }
        let after = srv.get_user(&pool_id, user).await;
        assert_eq!(after, before, "{user} changed");
        assert_eq!(status(&after), expected_status);
    }
}

async fn reset_password_sends_code_to_verified_email(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(
        &pool_id,
        "rita",
        &[("email", "rita@example.com"), ("email_verified", "true")],
    )
    .await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "rita", "Password": GOOD_PASSWORD, "Permanent": true }),
    )
    .await;
    assert!(srv.outbox().is_empty());
    let out = srv
        .ok(
            "AdminResetUserPassword",
            json!({ "UserPoolId": pool_id, "Username": "rita" }),
        )
        .await;
    assert_eq!(out, json!({}));
    let user = srv.get_user(&pool_id, "rita").await;
    assert_eq!(status(&user), "RESET_REQUIRED");
    let outbox = srv.outbox();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let m = &outbox[0];
    assert_eq!(m["pool_id"], pool_id.as_str());
    assert_eq!(m["username"], "rita");
    assert_eq!(m["destination"], "rita@example.com");
    assert_eq!(m["channel"], "EMAIL");
    let code = m["code"].as_str().unwrap();
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "not a 6-digit code: {code}"
    );
    assert!(m["body"].as_str().unwrap().contains(code));
    assert!(m["subject"].is_string());
}

async fn reset_password_without_verified_contact_sends_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(&pool_id, "nora", &[("email", "nora@example.com")])
        .await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "nora", "Password": GOOD_PASSWORD, "Permanent": true }),
    )
    .await;
    srv.ok(
        "AdminResetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "nora" }),
    )
    .await;
    assert_eq!(
        status(&srv.get_user(&pool_id, "nora").await),
        "RESET_REQUIRED"
    );
    // Cognito only messages a verified email or phone.
    assert!(srv.outbox().is_empty(), "{:?}", srv.outbox());
}

/// Cognito refuses to reset the password of an admin-created user who never signed in:
/// NotAuthorizedException "User password cannot be reset in the current state." (reported
/// from live AWS for both AdminResetUserPassword and ForgotPassword).
async fn reset_password_of_force_change_password_user_is_refused(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(
        &pool_id,
        "newbie",
        &[("email", "newbie@example.com"), ("email_verified", "true")],
    )
    .await;
    let before = srv.get_user(&pool_id, "newbie").await;
    assert_eq!(status(&before), "FORCE_CHANGE_PASSWORD");
    let res = srv
        .call(
            "AdminResetUserPassword",
            json!({ "UserPoolId": pool_id, "Username": "newbie" }),
        )
        .await;
    let after = srv.get_user(&pool_id, "newbie").await;
    res.assert_error("NotAuthorizedException", 400);
    assert_eq!(
        res.message(),
        "User password cannot be reset in the current state."
    );
    assert_eq!(after, before);
    assert!(srv.outbox().is_empty());
}

async fn update_and_delete_attributes(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv
        .create_pool(json!({
            "PoolName": "attrs",
            "Schema": [{ "Name": "plan", "AttributeDataType": "String", "Mutable": true }],
        }))
        .await["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    srv.create_user(
        &pool_id,
        "uma",
        &[
            ("email", "uma@example.com"),
            ("email_verified", "true"),
            ("given_name", "Uma"),
        ],
    )
    .await;
    let out = srv
        .ok(
            "AdminUpdateUserAttributes",
            json!({
                "UserPoolId": pool_id,
                "Username": "uma",
                "UserAttributes": [
                    { "Name": "given_name", "Value": "Uma B." },
                    { "Name": "family_name", "Value": "Berg" },
                    { "Name": "custom:plan", "Value": "gold" },
                ],
            }),
        )
        .await;
    assert_eq!(out, json!({}));
    let u = srv.get_user(&pool_id, "uma").await;
    let attrs = &u["UserAttributes"];
    assert_eq!(attr(attrs, "given_name"), Some("Uma B."));
    assert_eq!(attr(attrs, "family_name"), Some("Berg"));
    assert_eq!(attr(attrs, "custom:plan"), Some("gold"));
    assert_eq!(attr(attrs, "email_verified"), Some("true"));

    // A new email is unverified unless the same call says otherwise.
    srv.ok(
        "AdminUpdateUserAttributes",
        json!({ "UserPoolId": pool_id, "Username": "uma",
                "UserAttributes": [{ "Name": "email", "Value": "uma@new.example.com" }] }),
    )
    .await;
    let attrs = srv.get_user(&pool_id, "uma").await["UserAttributes"].clone();
    assert_eq!(attr(&attrs, "email"), Some("uma@new.example.com"));
    assert_eq!(attr(&attrs, "email_verified"), Some("false"));
    srv.ok(
        "AdminUpdateUserAttributes",
        json!({ "UserPoolId": pool_id, "Username": "uma",
                "UserAttributes": [
                    { "Name": "email", "Value": "uma@third.example.com" },
                    { "Name": "email_verified", "Value": "true" },
                ] }),
    )
    .await;
    let attrs = srv.get_user(&pool_id, "uma").await["UserAttributes"].clone();
    assert_eq!(attr(&attrs, "email_verified"), Some("true"));

    let out = srv
        .ok(
            "AdminDeleteUserAttributes",
            json!({ "UserPoolId": pool_id, "Username": "uma",
                    "UserAttributeNames": ["family_name", "custom:plan"] }),
        )
        .await;
    assert_eq!(out, json!({}));
    let attrs = srv.get_user(&pool_id, "uma").await["UserAttributes"].clone();
    assert_eq!(attr(&attrs, "family_name"), None);
    assert_eq!(attr(&attrs, "custom:plan"), None);
    assert_eq!(attr(&attrs, "given_name"), Some("Uma B."));
}

async fn attribute_errors_change_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    srv.create_user(
        &pool_id,
        "vic",
        &[("email", "vic@example.com"), ("name", "Vic")],
    )
    .await;
    let before = srv.get_user(&pool_id, "vic").await;
    for attrs in [
        json!([{ "Name": "custom:nope", "Value": "x" }]),
        json!([{ "Name": "sub", "Value": "00000000-0000-4000-8000-000000000000" }]),
        // One bad attribute spoils the whole update.
        json!([{ "Name": "name", "Value": "Changed" }, { "Name": "nonsense", "Value": "x" }]),
    ] {
        srv.err(
            "AdminUpdateUserAttributes",
            json!({ "UserPoolId": pool_id, "Username": "vic", "UserAttributes": attrs }),
            "InvalidParameterException",
        )
        .await;
    }
    for names in [
        json!(["sub"]),
        json!(["custom:nope"]),
        json!(["name", "sub"]),
    ] {
        srv.err(
            "AdminDeleteUserAttributes",
            json!({ "UserPoolId": pool_id, "Username": "vic", "UserAttributeNames": names }),
            "InvalidParameterException",
        )
        .await;
    }
    assert_eq!(srv.get_user(&pool_id, "vic").await, before);
}

async fn list_users_fixture(srv: &TestServer) -> (String, String) {
    let pool_id = email_pool(srv).await;
    let alice = srv
        .create_user(
            &pool_id,
            "alice",
            &[
                ("email", "alice@example.com"),
                ("given_name", "Alice"),
                ("family_name", "Smith"),
            ],
        )
        .await;
    srv.create_user(
        &pool_id,
        "albert",
        &[("email", "albert@corp.example"), ("given_name", "Albert")],
    )
    .await;
    srv.create_user(
        &pool_id,
        "bob",
        &[
            ("email", "bob@example.com"),
            ("phone_number", "+12065550100"),
        ],
    )
    .await;
    srv.create_user(&pool_id, "carol", &[("email", "carol@example.com")])
        .await;
    srv.create_user(
        &pool_id,
        "dave",
        &[("name", "Dave D"), ("preferred_username", "dd")],
    )
    .await;
    srv.ok(
        "AdminDisableUser",
        json!({ "UserPoolId": pool_id, "Username": "bob" }),
    )
    .await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "carol", "Password": GOOD_PASSWORD, "Permanent": true }),
    )
    .await;
    let sub = attr(&alice["Attributes"], "sub").unwrap().to_owned();
    (pool_id, sub)
}

async fn filtered(srv: &TestServer, pool_id: &str, filter: &str) -> Vec<String> {
    let out = srv
        .ok(
            "ListUsers",
            json!({ "UserPoolId": pool_id, "Filter": filter }),
        )
        .await;
    assert!(
        out.get("PaginationToken").is_none_or(Value::is_null),
        "{filter}"
    );
    usernames(&list(&out, "Users"))
}

async fn list_users_filters(backend: Backend) {
    let srv = start(&backend).await;
    let (pool_id, alice_sub) = list_users_fixture(&srv).await;
    let sub_filter = format!("sub = \"{alice_sub}\"");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("", vec!["albert", "alice", "bob", "carol", "dave"]),
        ("username = \"alice\"", vec!["alice"]),
        ("username ^= \"al\"", vec!["albert", "alice"]),
        ("username = \"Alice\"", vec![]),
        ("email = \"bob@example.com\"", vec!["bob"]),
        ("email=\"carol@example.com\"", vec!["carol"]),
        ("email ^= \"al\"", vec!["albert", "alice"]),
        ("email = \"nobody@example.com\"", vec![]),
        ("given_name = \"Alice\"", vec!["alice"]),
        ("given_name ^= \"Al\"", vec!["albert", "alice"]),
        ("family_name = \"Smith\"", vec!["alice"]),
        ("name = \"Dave D\"", vec!["dave"]),
        ("preferred_username = \"dd\"", vec!["dave"]),
        ("phone_number = \"+12065550100\"", vec!["bob"]),
        ("phone_number ^= \"+1206\"", vec!["bob"]),
        ("cognito:user_status = \"CONFIRMED\"", vec!["carol"]),
        (
            "cognito:user_status = \"FORCE_CHANGE_PASSWORD\"",
            vec!["albert", "alice", "bob", "dave"],
        ),
        ("status = \"Disabled\"", vec!["bob"]),
        (
            "status = \"Enabled\"",
            vec!["albert", "alice", "carol", "dave"],
        ),
        (sub_filter.as_str(), vec!["alice"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            filtered(&srv, &pool_id, filter).await,
            expected,
            "filter {filter:?}"
        );
    }
    // A filtered listing pages like an unfiltered one.
    let mut seen = vec![];
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let mut body = json!({ "UserPoolId": pool_id, "Filter": "email ^= \"a\"", "Limit": 1 });
        if let Some(t) = &token {
            body["PaginationToken"] = json!(t);
        }
        let page = srv.ok("ListUsers", body).await;
        let users = list(&page, "Users");
        assert!(users.len() <= 1);
        seen.extend(usernames(&users));
        match page["PaginationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, vec!["albert", "alice"]);
}

async fn list_users_filter_errors(backend: Backend) {
    let srv = start(&backend).await;
    let (pool_id, _) = list_users_fixture(&srv).await;
    let before = srv.all_users(&pool_id).await;
    for filter in [
        "email",
        "email = alice",
        "email ~ \"a\"",
        "email = \"a\" \"b\"",
        "custom:plan = \"gold\"",
        "shoe_size = \"9\"",
        "= \"x\"",
    ] {
        srv.err(
            "ListUsers",
            json!({ "UserPoolId": pool_id, "Filter": filter }),
            "InvalidParameterException",
        )
        .await;
    }
    srv.err(
        "ListUsers",
        json!({ "UserPoolId": pool_id, "Limit": 61 }),
        "InvalidParameterException",
    )
    .await;
    srv.err(
        "ListUsers",
        json!({ "UserPoolId": pool_id, "AttributesToGet": ["shoe_size"] }),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(srv.all_users(&pool_id).await, before);
}

/// The ListUsers reference: "cognito:user_status (called Status in the Console)
/// (case-insensitive)", while `status` (Enabled/Disabled) is case-sensitive.
async fn list_users_user_status_filter_is_case_insensitive(backend: Backend) {
    let srv = start(&backend).await;
    let (pool_id, _) = list_users_fixture(&srv).await;
    for value in ["confirmed", "Confirmed", "CONFIRMED"] {
        assert_eq!(
            filtered(
                &srv,
                &pool_id,
                &format!("cognito:user_status = \"{value}\"")
            )
            .await,
            vec!["carol"],
            "cognito:user_status = {value:?}"
        );
    }
}

async fn list_users_pagination(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    let mut created = HashSet::new();
    for i in 0..7 {
        let name = format!("user{i}");
        srv.create_user(&pool_id, &name, &[]).await;
        created.insert(name);
    }
    let mut pages = vec![];
    let mut seen = vec![];
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "UserPoolId": pool_id, "Limit": 3 });
        if let Some(t) = &token {
            body["PaginationToken"] = json!(t);
        }
        let page = srv.ok("ListUsers", body).await;
        let users = list(&page, "Users");
        pages.push(users.len());
        seen.extend(
            users
                .iter()
                .map(|u| u["Username"].as_str().unwrap().to_owned()),
        );
        match page["PaginationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages.len() < 10, "pagination does not end");
    }
    assert_eq!(pages, vec![3, 3, 1]);
    let distinct: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(distinct.len(), seen.len(), "listed twice: {seen:?}");
    assert_eq!(distinct, created);
    // Without a limit, all of them (the maximum page is 60).
    assert_eq!(srv.all_users(&pool_id).await.len(), 7);
    let all = srv.ok("ListUsers", json!({ "UserPoolId": pool_id })).await;
    assert_eq!(list(&all, "Users").len(), 7);
    assert!(all.get("PaginationToken").is_none_or(Value::is_null));
}

async fn list_users_attributes_to_get(backend: Backend) {
    let srv = start(&backend).await;
    let (pool_id, _) = list_users_fixture(&srv).await;
    let out = srv
        .ok(
            "ListUsers",
            json!({ "UserPoolId": pool_id, "AttributesToGet": ["email"], "Filter": "username ^= \"al\"" }),
        )
        .await;
    let users = list(&out, "Users");
    assert_eq!(users.len(), 2);
    for u in &users {
        let names: Vec<&str> = u["Attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["email"], "{u}");
        assert!(u["UserStatus"].is_string());
    }
}

async fn email_as_username_pool(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv
        .create_pool(json!({ "PoolName": "by-email", "UsernameAttributes": ["email"] }))
        .await["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = srv
        .create_user(&pool_id, "ann@example.com", &[("email_verified", "true")])
        .await;
    let username = user["Username"].as_str().unwrap().to_owned();
    assert!(is_uuid(&username), "{username}");
    assert_eq!(attr(&user["Attributes"], "sub"), Some(username.as_str()));
    assert_eq!(attr(&user["Attributes"], "email"), Some("ann@example.com"));
    // The email finds the user.
    let got = srv.get_user(&pool_id, "ann@example.com").await;
    assert_eq!(got["Username"], username.as_str());
    assert_eq!(srv.get_user(&pool_id, &username).await, got);
    // The email is taken.
    srv.err(
        "AdminCreateUser",
        json!({ "UserPoolId": pool_id, "Username": "ann@example.com", "MessageAction": "SUPPRESS" }),
        "UsernameExistsException",
    )
    .await;
    // Not an email.
    srv.err(
        "AdminCreateUser",
        json!({ "UserPoolId": pool_id, "Username": "ann", "MessageAction": "SUPPRESS" }),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(srv.all_users(&pool_id).await.len(), 1);
    let listed = filtered(&srv, &pool_id, "email = \"ann@example.com\"").await;
    assert_eq!(listed, vec![username]);
}

async fn alias_pool(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv
        .create_pool(json!({
            "PoolName": "aliases",
            "AliasAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
        }))
        .await["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shared = "shared@example.com";
    srv.create_user(
        &pool_id,
        "erin",
        &[("email", shared), ("email_verified", "true")],
    )
    .await;
    // A verified email is a sign-in alias: it finds its user.
    assert_eq!(srv.get_user(&pool_id, shared).await["Username"], "erin");
    let erin = srv.get_user(&pool_id, "erin").await;

    // Another user may not take it as a verified alias...
    srv.err(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "frank",
            "MessageAction": "SUPPRESS",
            "UserAttributes": [
                { "Name": "email", "Value": shared },
                { "Name": "email_verified", "Value": "true" },
            ],
        }),
        "AliasExistsException",
    )
    .await;
    assert_eq!(usernames(&srv.all_users(&pool_id).await), vec!["erin"]);
    assert_eq!(srv.get_user(&pool_id, "erin").await, erin);

    // ...but may have it unverified, which makes no alias.
    srv.create_user(&pool_id, "gina", &[("email", shared)])
        .await;
    assert_eq!(srv.get_user(&pool_id, shared).await["Username"], "erin");

    // ForceAliasCreation moves the alias to the new user.
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "hank",
            "MessageAction": "SUPPRESS",
            "ForceAliasCreation": true,
            "UserAttributes": [
                { "Name": "email", "Value": shared },
                { "Name": "email_verified", "Value": "true" },
            ],
        }),
    )
    .await;
    assert_eq!(srv.get_user(&pool_id, shared).await["Username"], "hank");
    let erin = srv.get_user(&pool_id, "erin").await;
    assert_eq!(
        attr(&erin["UserAttributes"], "email_verified"),
        Some("false")
    );
    assert_eq!(attr(&erin["UserAttributes"], "email"), Some(shared));

    // Verifying the same email for another user collides with hank's alias.
    let gina = srv.get_user(&pool_id, "gina").await;
    srv.err(
        "AdminUpdateUserAttributes",
        json!({ "UserPoolId": pool_id, "Username": "gina",
                "UserAttributes": [{ "Name": "email_verified", "Value": "true" }] }),
        "AliasExistsException",
    )
    .await;
    assert_eq!(srv.get_user(&pool_id, "gina").await, gina);
    assert_eq!(srv.get_user(&pool_id, shared).await["Username"], "hank");
}

async fn sms_invitation(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = email_pool(&srv).await;
    // SMS is the default medium.
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "sam",
            "UserAttributes": [
                { "Name": "email", "Value": "sam@example.com" },
                { "Name": "phone_number", "Value": "+12065550123" },
            ],
        }),
    )
    .await;
    let outbox = srv.outbox();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0]["channel"], "SMS");
    assert_eq!(outbox[0]["destination"], "+12065550123");
    assert_eq!(outbox[0]["username"], "sam");
    let code = outbox[0]["code"].as_str().unwrap();
    assert!(outbox[0]["body"].as_str().unwrap().contains(code));
    // Both mediums: one message each.
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "tess",
            "UserAttributes": [
                { "Name": "email", "Value": "tess@example.com" },
                { "Name": "phone_number", "Value": "+12065550124" },
            ],
            "DesiredDeliveryMediums": ["EMAIL", "SMS"],
        }),
    )
    .await;
    let outbox = srv.outbox();
    assert_eq!(outbox.len(), 3, "{outbox:?}");
    let channels: HashSet<&str> = outbox[1..]
        .iter()
        .map(|m| m["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, HashSet::from(["EMAIL", "SMS"]));
    assert_eq!(
        outbox[1]["code"], outbox[2]["code"],
        "one temporary password"
    );
}

async fn username_case_sensitivity(backend: Backend) {
    let srv = start(&backend).await;
    let insensitive = srv
        .create_pool(json!({
            "PoolName": "insensitive",
            "UsernameConfiguration": { "CaseSensitive": false },
        }))
        .await["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    srv.create_user(&insensitive, "Zoe", &[]).await;
    let zoe = srv.get_user(&insensitive, "Zoe").await;
    assert_eq!(srv.get_user(&insensitive, "zoe").await, zoe);
    assert_eq!(srv.get_user(&insensitive, "ZOE").await, zoe);
    srv.err(
        "AdminCreateUser",
        json!({ "UserPoolId": insensitive, "Username": "zoe", "MessageAction": "SUPPRESS" }),
        "UsernameExistsException",
    )
    .await;
    assert_eq!(srv.all_users(&insensitive).await.len(), 1);
    srv.ok(
        "AdminDisableUser",
        json!({ "UserPoolId": insensitive, "Username": "ZoE" }),
    )
    .await;
    assert_eq!(srv.get_user(&insensitive, "Zoe").await["Enabled"], false);

    // The API's default is case-sensitive.
    let sensitive = srv.new_pool("sensitive").await;
    srv.create_user(&sensitive, "Zoe", &[]).await;
    srv.create_user(&sensitive, "zoe", &[]).await;
    assert_eq!(
        usernames(&srv.all_users(&sensitive).await),
        vec!["Zoe", "zoe"]
    );
    srv.err(
        "AdminGetUser",
        json!({ "UserPoolId": sensitive, "Username": "ZOE" }),
        "UserNotFoundException",
    )
    .await;
}
