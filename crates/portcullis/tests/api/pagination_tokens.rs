//! Pagination tokens come back from the client: every list operation must answer a token it did
//! not issue with InvalidParameterException, never a store error. A NUL inside one was a 500 on
//! PostgreSQL, whose `text` cannot hold it (review finding L9).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::support::{Backend, TestServer, start};

backend_tests!(forged_pagination_tokens_are_invalid_parameters);

/// Tokens no list ever hands out: NULs where the store compares text, bytes that are not
/// UTF-8, text that is not base64.
fn forged() -> Vec<String> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    vec![
        b64(b"a\0b"),
        b64(b"\0"),
        b64(b"user\0"),
        b64(b"a\0b\0c"),
        b64(&[0xff, 0xfe, b'a']),
        "%%%".to_owned(),
        "not-base64!".to_owned(),
    ]
}

async fn assert_rejected(srv: &TestServer, op: &str, body: &Value, member: &str) {
    for token in forged() {
        let mut body = body.clone();
        body[member] = json!(token);
        let resp = srv.call(op, body.clone()).await;
        assert_eq!(
            (resp.status, resp.error_type()),
            (400, "InvalidParameterException"),
            "{op} {body}: {}",
            resp.text
        );
        assert_eq!(resp.message(), "Invalid pagination token.", "{op} {body}");
    }
}

async fn forged_pagination_tokens_are_invalid_parameters(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv.new_pool("paging").await;
    srv.create_user(&pool, "alice", &[("email", "alice@example.com")])
        .await;
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool, "GroupName": "staff" }),
    )
    .await;
    srv.ok(
        "CreateUserPoolClient",
        json!({ "UserPoolId": pool, "ClientName": "app" }),
    )
    .await;
    srv.ok(
        "CreateResourceServer",
        json!({ "UserPoolId": pool, "Identifier": "https://api.example.com", "Name": "api" }),
    )
    .await;

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "ListUsers",
            json!({ "UserPoolId": pool }),
            "PaginationToken",
        ),
        (
            "ListUsers",
            json!({ "UserPoolId": pool, "Filter": "email = \"alice@example.com\"" }),
            "PaginationToken",
        ),
        (
            "ListUsers",
            json!({ "UserPoolId": pool, "Filter": "status = \"Enabled\"" }),
            "PaginationToken",
        ),
        ("ListGroups", json!({ "UserPoolId": pool }), "NextToken"),
        (
            "AdminListGroupsForUser",
            json!({ "UserPoolId": pool, "Username": "alice" }),
            "NextToken",
        ),
        (
            "ListUsersInGroup",
            json!({ "UserPoolId": pool, "GroupName": "staff" }),
            "NextToken",
        ),
        ("ListUserPools", json!({ "MaxResults": 10 }), "NextToken"),
        (
            "ListUserPoolClients",
            json!({ "UserPoolId": pool }),
            "NextToken",
        ),
        (
            "ListResourceServers",
            json!({ "UserPoolId": pool, "MaxResults": 10 }),
            "NextToken",
        ),
    ];
    for (op, body, member) in &cases {
        assert_rejected(&srv, op, body, member).await;
    }

    // Under a prefix filter the cursor holds one NUL, between the value and the username key:
    // the token a page hands out works, any other NUL does not.
    for name in ["alice2", "alice3"] {
        srv.create_user(&pool, name, &[("email", &format!("{name}@example.com"))])
            .await;
    }
    let prefix = json!({ "UserPoolId": pool, "Filter": "email ^= \"alice\"", "Limit": 1 });
    let page = srv.ok("ListUsers", prefix.clone()).await;
    let token = page["PaginationToken"].as_str().expect("a second page");
    let mut next = prefix.clone();
    next["PaginationToken"] = json!(token);
    srv.ok("ListUsers", next).await;
    for bad in [&b"alice\0alice\0x"[..], b"\0\0", b"a\0\0"] {
        let mut body = prefix.clone();
        body["PaginationToken"] = json!(URL_SAFE_NO_PAD.encode(bad));
        let resp = srv.call("ListUsers", body.clone()).await;
        resp.assert_error("InvalidParameterException", 400);
    }
}
