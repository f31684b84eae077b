//! Tags on user pools.

use serde_json::{Value, json};

use crate::support::{ACCOUNT, Backend, TestServer, start};

backend_tests!(
    tag_lifecycle,
    tag_errors_change_nothing,
    update_user_pool_tags
);

async fn tags(srv: &TestServer, arn: &Value) -> Value {
    srv.ok("ListTagsForResource", json!({ "ResourceArn": arn }))
        .await["Tags"]
        .clone()
}

async fn tag_lifecycle(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv
        .create_pool(json!({ "PoolName": "tagged", "UserPoolTags": { "env": "test" } }))
        .await;
    let arn = pool["Arn"].clone();
    assert_eq!(tags(&srv, &arn).await, json!({ "env": "test" }));

    let out = srv
        .ok(
            "TagResource",
            json!({ "ResourceArn": arn, "Tags": { "team": "blue", "env": "prod" } }),
        )
        .await;
    assert_eq!(out, json!({}));
    assert_eq!(
        tags(&srv, &arn).await,
        json!({ "env": "prod", "team": "blue" })
    );

    let out = srv
        .ok(
            "UntagResource",
            json!({ "ResourceArn": arn, "TagKeys": ["env", "not-there"] }),
        )
        .await;
    assert_eq!(out, json!({}));
    assert_eq!(tags(&srv, &arn).await, json!({ "team": "blue" }));
    // DescribeUserPool shows the same tags.
    let id = pool["Id"].as_str().unwrap();
    assert_eq!(
        srv.describe_pool(id).await["UserPoolTags"],
        json!({ "team": "blue" })
    );
}

async fn tag_errors_change_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv
        .create_pool(json!({ "PoolName": "tagged", "UserPoolTags": { "env": "test" } }))
        .await;
    let arn = pool["Arn"].as_str().unwrap().to_owned();
    let id = pool["Id"].as_str().unwrap().to_owned();
    let ghost = format!("arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/us-east-1_Ghost1234");
    let wrong_account = arn.replace(ACCOUNT, "999999999999");
    for bad in [ghost.as_str(), wrong_account.as_str()] {
        srv.err(
            "TagResource",
            json!({ "ResourceArn": bad, "Tags": { "x": "y" } }),
            "ResourceNotFoundException",
        )
        .await;
        srv.err(
            "UntagResource",
            json!({ "ResourceArn": bad, "TagKeys": ["env"] }),
            "ResourceNotFoundException",
        )
        .await;
        srv.err(
            "ListTagsForResource",
            json!({ "ResourceArn": bad }),
            "ResourceNotFoundException",
        )
        .await;
    }
    // Not an ARN at all: the model's pattern.
    srv.err(
        "ListTagsForResource",
        json!({ "ResourceArn": "definitely not an arn" }),
        "InvalidParameterException",
    )
    .await;
    // Too many tags: at most 50 on a resource.
    let many: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    srv.err(
        "TagResource",
        json!({ "ResourceArn": arn, "Tags": many }),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(tags(&srv, &json!(arn)).await, json!({ "env": "test" }));
    assert_eq!(
        srv.describe_pool(&id).await["UserPoolTags"],
        json!({ "env": "test" })
    );
}

async fn update_user_pool_tags(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv
        .create_pool(json!({ "PoolName": "tagged", "UserPoolTags": { "a": "1" } }))
        .await;
    let id = pool["Id"].as_str().unwrap();
    srv.ok(
        "UpdateUserPool",
        json!({ "UserPoolId": id, "UserPoolTags": { "b": "2" } }),
    )
    .await;
    assert_eq!(tags(&srv, &pool["Arn"]).await, json!({ "b": "2" }));
}
