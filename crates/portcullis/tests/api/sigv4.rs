//! SigV4 on IAM-authorized (admin) operations, none on the public ones, and the insecure mode.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::support::{Backend, Creds, Req, SIGNATURE_ERRORS, Sign, start, start_with, stranger};

backend_tests!(
    unsigned_admin_call_is_missing_authentication_token,
    every_iam_operation_requires_a_signature,
    no_public_operation_requires_a_signature,
    unknown_key_id_is_unrecognized_client,
    wrong_secret_is_invalid_signature,
    body_tampered_after_signing_is_invalid_signature,
    signed_header_tampered_after_signing_is_invalid_signature,
    signature_sixteen_minutes_old_is_expired,
    signature_sixteen_minutes_ahead_is_not_yet_current,
    signature_within_fifteen_minutes_is_accepted,
    signature_for_another_service_is_invalid,
    public_operations_ignore_signatures,
    insecure_mode_accepts_unsigned_admin_calls,
);

const MIN: Duration = Duration::from_secs(60);

fn create(name: &str) -> Req {
    Req::op("CreateUserPool", &json!({ "PoolName": name }))
}

async fn unsigned_admin_call_is_missing_authentication_token(backend: Backend) {
    let srv = start(&backend).await;
    let existing = srv.new_pool("existing").await;
    let before = srv.pool_ids().await;
    let res = srv.send(create("unsigned").unsigned()).await;
    res.assert_error("MissingAuthenticationTokenException", 400);
    // Authentication comes before parsing: an anonymous caller learns nothing about the body.
    let res = srv.send(create("x").raw_body("{not json").unsigned()).await;
    res.assert_error("MissingAuthenticationTokenException", 400);
    let res = srv
        .send(Req::op("DeleteUserPool", &json!({ "UserPoolId": existing })).unsigned())
        .await;
    res.assert_error("MissingAuthenticationTokenException", 400);
    let res = srv
        .send(Req::op("ListUserPools", &json!({ "MaxResults": 60 })).unsigned())
        .await;
    res.assert_error("MissingAuthenticationTokenException", 400);
    assert_eq!(srv.pool_ids().await, before);
    srv.describe_pool(&existing).await;
}

/// IAM-authorized operations of the model (all the implemented ones and a few not yet).
const IAM_OPERATIONS: &[&str] = &[
    "CreateUserPool",
    "DescribeUserPool",
    "UpdateUserPool",
    "DeleteUserPool",
    "ListUserPools",
    "AddCustomAttributes",
    "CreateUserPoolClient",
    "DescribeUserPoolClient",
    "UpdateUserPoolClient",
    "DeleteUserPoolClient",
    "ListUserPoolClients",
    "AdminCreateUser",
    "AdminGetUser",
    "AdminDeleteUser",
    "AdminUpdateUserAttributes",
    "AdminDeleteUserAttributes",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminSetUserPassword",
    "AdminResetUserPassword",
    "AdminConfirmSignUp",
    "ListUsers",
    "CreateGroup",
    "GetGroup",
    "UpdateGroup",
    "DeleteGroup",
    "ListGroups",
    "AdminAddUserToGroup",
    "AdminRemoveUserFromGroup",
    "AdminListGroupsForUser",
    "ListUsersInGroup",
    "AdminInitiateAuth",
    "AdminRespondToAuthChallenge",
    "AdminUserGlobalSignOut",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "SetUserPoolMfaConfig",
    "CreateUserPoolDomain",
    "CreateIdentityProvider",
    "AdminSetUserMFAPreference",
    "CreateUserImportJob",
];

/// The operations the model marks `authtype: none` (cognito-wire.md 1.3).
const PUBLIC_OPERATIONS: &[&str] = &[
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteWebAuthnCredential",
    "ForgetDevice",
    "ForgotPassword",
    "GetDevice",
    "GetTokensFromRefreshToken",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "SetUserMFAPreference",
    "SetUserSettings",
    "SignUp",
    "StartWebAuthnRegistration",
    "UpdateAuthEventFeedback",
    "UpdateDeviceStatus",
    "UpdateUserAttributes",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

async fn every_iam_operation_requires_a_signature(backend: Backend) {
    let srv = start(&backend).await;
    for op in IAM_OPERATIONS {
        let res = srv.send(Req::op(op, &json!({})).unsigned()).await;
        assert_eq!(
            (res.status, res.error_type()),
            (400, "MissingAuthenticationTokenException"),
            "{op}: {}",
            res.text
        );
        let res = srv
            .send(Req::op(op, &json!({})).sign(Sign::With(stranger())))
            .await;
        assert_eq!(
            res.error_type(),
            "UnrecognizedClientException",
            "{op}: {}",
            res.text
        );
    }
    assert!(srv.pool_ids().await.is_empty());
}

async fn no_public_operation_requires_a_signature(backend: Backend) {
    let srv = start(&backend).await;
    for op in PUBLIC_OPERATIONS {
        for req in [
            Req::op(op, &json!({})).unsigned(),
            Req::op(op, &json!({})).sign(Sign::With(stranger())),
        ] {
            let res = srv.send(req).await;
            assert!(
                !SIGNATURE_ERRORS.contains(&res.error_type()),
                "{op} was rejected for its signature: {}",
                res.text
            );
            assert_ne!(res.error_type(), "UnknownOperationException", "{op}");
            assert!(res.status < 500, "{op}: {} {}", res.status, res.text);
        }
    }
}

async fn unknown_key_id_is_unrecognized_client(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .send(create("stranger").sign(Sign::With(stranger())))
        .await;
    res.assert_error("UnrecognizedClientException", 400);
    assert_eq!(
        res.message(),
        "The security token included in the request is invalid."
    );
    assert!(srv.pool_ids().await.is_empty());
}

async fn wrong_secret_is_invalid_signature(backend: Backend) {
    let srv = start(&backend).await;
    let root = srv.creds.clone().unwrap();
    let wrong = Creds {
        access_key_id: root.access_key_id.clone(),
        secret_access_key: format!("{}x", root.secret_access_key),
    };
    let res = srv
        .send(create("wrong-secret").sign(Sign::With(wrong)))
        .await;
    res.assert_error("InvalidSignatureException", 400);
    // The secret is never echoed.
    assert!(!res.text.contains(&root.secret_access_key));
    assert!(srv.pool_ids().await.is_empty());
}

async fn body_tampered_after_signing_is_invalid_signature(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .send(create("signed").tamper(json!({ "PoolName": "tampered" }).to_string()))
        .await;
    res.assert_error("InvalidSignatureException", 400);
    assert!(srv.pool_ids().await.is_empty());
    // The same request untampered goes through.
    srv.send(create("signed")).await.assert_ok();
    assert_eq!(srv.pool_ids().await.len(), 1);
}

async fn signed_header_tampered_after_signing_is_invalid_signature(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("victim").await;
    // A signed harmless call, its target swapped for a destructive one.
    let res = srv
        .send(
            Req::op("DeleteUserPool", &json!({ "UserPoolId": pool_id }))
                .target(Some("AWSCognitoIdentityProviderService.DescribeUserPool"))
                .after_signing(
                    "x-amz-target",
                    "AWSCognitoIdentityProviderService.DeleteUserPool",
                ),
        )
        .await;
    res.assert_error("InvalidSignatureException", 400);
    srv.describe_pool(&pool_id).await;
}

async fn signature_sixteen_minutes_old_is_expired(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .send(create("old").sign(Sign::RootAt(SystemTime::now() - 16 * MIN)))
        .await;
    res.assert_error("InvalidSignatureException", 400);
    assert!(
        res.message().starts_with("Signature expired"),
        "{}",
        res.message()
    );
    assert!(srv.pool_ids().await.is_empty());
}

async fn signature_sixteen_minutes_ahead_is_not_yet_current(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .send(create("future").sign(Sign::RootAt(SystemTime::now() + 16 * MIN)))
        .await;
    res.assert_error("InvalidSignatureException", 400);
    assert!(
        res.message().starts_with("Signature not yet current"),
        "{}",
        res.message()
    );
    assert!(srv.pool_ids().await.is_empty());
}

async fn signature_within_fifteen_minutes_is_accepted(backend: Backend) {
    let srv = start(&backend).await;
    srv.send(create("a").sign(Sign::RootAt(SystemTime::now() - 14 * MIN)))
        .await
        .assert_ok();
    srv.send(create("b").sign(Sign::RootAt(SystemTime::now() + 14 * MIN)))
        .await
        .assert_ok();
    assert_eq!(srv.pool_ids().await.len(), 2);
}

async fn signature_for_another_service_is_invalid(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .send(create("other").sign(Sign::RootForService("dynamodb")))
        .await;
    res.assert_error("InvalidSignatureException", 400);
    assert!(srv.pool_ids().await.is_empty());
}

/// Public (unauthenticated) operations answer the same whether they are unsigned, signed
/// badly or signed well: the signature is never checked (Cognito ignores it).
async fn public_operations_ignore_signatures(backend: Backend) {
    let srv = start(&backend).await;
    let client = "unknownclient0000000000000";
    let unknown_client = format!("User pool client {client} does not exist.");
    let calls: Vec<(&str, Value, &str, &str)> = vec![
        (
            "SignUp",
            json!({ "ClientId": client, "Username": "bob", "Password": "Passw0rd!" }),
            "ResourceNotFoundException",
            &unknown_client,
        ),
        (
            "InitiateAuth",
            json!({
                "ClientId": client,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": "bob", "PASSWORD": "Passw0rd!" },
            }),
            "ResourceNotFoundException",
            &unknown_client,
        ),
        (
            "ConfirmSignUp",
            json!({ "ClientId": client, "Username": "bob", "ConfirmationCode": "123456" }),
            "ResourceNotFoundException",
            &unknown_client,
        ),
        (
            "ForgotPassword",
            json!({ "ClientId": client, "Username": "bob" }),
            "ResourceNotFoundException",
            &unknown_client,
        ),
        // Authorized by an access token, not by IAM.
        (
            "GetUser",
            json!({ "AccessToken": "not.a.token" }),
            "NotAuthorizedException",
            "",
        ),
    ];
    for (op, body, expected, message) in calls {
        let variants = [
            ("unsigned", Req::op(op, &body).unsigned()),
            (
                "signed by a stranger",
                Req::op(op, &body).sign(Sign::With(stranger())),
            ),
            (
                "signed 16 minutes ago",
                Req::op(op, &body).sign(Sign::RootAt(SystemTime::now() - 16 * MIN)),
            ),
            (
                "garbage Authorization",
                Req::op(op, &body)
                    .unsigned()
                    .header("authorization", "AWS4-HMAC-SHA256 garbage"),
            ),
            ("signed by root", Req::op(op, &body)),
        ];
        for (how, req) in variants {
            let res = srv.send(req).await;
            assert!(
                !SIGNATURE_ERRORS.contains(&res.error_type()),
                "{op} {how} was rejected for its signature: {}",
                res.text
            );
            assert_eq!(res.error_type(), expected, "{op} {how}: {}", res.text);
            if !message.is_empty() {
                assert_eq!(res.message(), message, "{op} {how}");
            }
            assert_eq!(res.status, 400);
        }
    }
}

async fn insecure_mode_accepts_unsigned_admin_calls(backend: Backend) {
    let srv = start_with(&backend, true).await;
    assert!(srv.creds.is_none());
    assert!(!srv.dir.path().join("root-credentials.json").exists());
    let res = srv.send(create("anyone").unsigned()).await;
    let pool_id = res.assert_ok()["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Any signature is accepted too, even from an unknown key.
    let res = srv
        .send(Req::op("ListUserPools", &json!({ "MaxResults": 60 })).sign(Sign::With(stranger())))
        .await;
    let pools = res.assert_ok()["UserPools"].as_array().unwrap().clone();
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0]["Id"], pool_id.as_str());
    let res = srv
        .send(Req::op("DescribeUserPool", &json!({ "UserPoolId": pool_id })).unsigned())
        .await;
    assert_eq!(res.assert_ok()["UserPool"]["Name"], "anyone");
    // Validation still applies.
    let res = srv
        .send(Req::op("DescribeUserPool", &json!({})).unsigned())
        .await;
    res.assert_error("InvalidParameterException", 400);
}
