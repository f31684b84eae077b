//! Concurrent requests: uniqueness holds, nothing fails with a 5xx, and read-modify-write
//! operations lose no update.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::support::{Backend, Resp, TestServer, attr, start};

backend_tests!(
    concurrent_creates_of_one_username,
    concurrent_creates_of_one_group,
    concurrent_identical_group_adds_are_idempotent,
    concurrent_tagging_loses_no_tag,
    concurrent_attribute_updates_lose_no_attribute,
);

/// Sends all the calls at once and returns the answers in call order.
async fn all_at_once(srv: &Arc<TestServer>, calls: Vec<(&'static str, Value)>) -> Vec<Resp> {
    let mut set = JoinSet::new();
    for (i, (op, body)) in calls.into_iter().enumerate() {
        let srv = srv.clone();
        set.spawn(async move { (i, srv.call(op, body).await) });
    }
    let mut out: Vec<(usize, Resp)> = set.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

fn tally(answers: &[Resp]) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for r in answers {
        let key = if r.status == 200 {
            "ok".to_owned()
        } else {
            format!("{} {}", r.status, r.error_type())
        };
        *t.entry(key).or_insert(0) += 1;
    }
    t
}

async fn concurrent_creates_of_one_username(backend: Backend) {
    let srv = Arc::new(start(&backend).await);
    let pool_id = srv.new_pool("race").await;
    let calls = (0..8)
        .map(|i| {
            (
                "AdminCreateUser",
                json!({
                    "UserPoolId": pool_id,
                    "Username": "contested",
                    "MessageAction": "SUPPRESS",
                    "UserAttributes": [{ "Name": "name", "Value": format!("try {i}") }],
                }),
            )
        })
        .collect();
    let answers = all_at_once(&srv, calls).await;
    assert_eq!(
        tally(&answers),
        BTreeMap::from([
            ("ok".to_owned(), 1),
            ("400 UsernameExistsException".to_owned(), 7)
        ]),
        "{:?}",
        answers.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(srv.all_users(&pool_id).await.len(), 1);
}

async fn concurrent_creates_of_one_group(backend: Backend) {
    let srv = Arc::new(start(&backend).await);
    let pool_id = srv.new_pool("race").await;
    let calls = (0..8)
        .map(|i| {
            (
                "CreateGroup",
                json!({ "UserPoolId": pool_id, "GroupName": "contested", "Precedence": i }),
            )
        })
        .collect();
    let answers = all_at_once(&srv, calls).await;
    assert_eq!(
        tally(&answers),
        BTreeMap::from([
            ("ok".to_owned(), 1),
            ("400 GroupExistsException".to_owned(), 7)
        ]),
        "{:?}",
        answers.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    // The group is the one the successful call created.
    let winner = answers.iter().find(|r| r.status == 200).unwrap();
    let got = srv
        .ok(
            "GetGroup",
            json!({ "UserPoolId": pool_id, "GroupName": "contested" }),
        )
        .await;
    assert_eq!(got["Group"], winner.body["Group"]);
}

async fn concurrent_identical_group_adds_are_idempotent(backend: Backend) {
    let srv = Arc::new(start(&backend).await);
    let pool_id = srv.new_pool("race").await;
    srv.create_user(&pool_id, "u", &[]).await;
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "g" }),
    )
    .await;
    let calls = (0..6)
        .map(|_| {
            (
                "AdminAddUserToGroup",
                json!({ "UserPoolId": pool_id, "Username": "u", "GroupName": "g" }),
            )
        })
        .collect();
    let answers = all_at_once(&srv, calls).await;
    assert_eq!(
        tally(&answers),
        BTreeMap::from([("ok".to_owned(), 6)]),
        "{:?}",
        answers.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let members = srv
        .ok(
            "ListUsersInGroup",
            json!({ "UserPoolId": pool_id, "GroupName": "g" }),
        )
        .await;
    assert_eq!(members["Users"].as_array().unwrap().len(), 1);
}

/// TagResource adds to the tags a resource has; two callers tagging at once must both see
/// their tags kept.
async fn concurrent_tagging_loses_no_tag(backend: Backend) {
    let srv = Arc::new(start(&backend).await);
    let pool = srv.create_pool(json!({ "PoolName": "tags" })).await;
    let arn = pool["Arn"].clone();
    let calls = (0..10)
        .map(|i| {
            (
                "TagResource",
                json!({ "ResourceArn": arn, "Tags": { format!("key{i}"): "v" } }),
            )
        })
        .collect();
    let answers = all_at_once(&srv, calls).await;
    assert_eq!(tally(&answers), BTreeMap::from([("ok".to_owned(), 10)]));
    let tags = srv
        .ok("ListTagsForResource", json!({ "ResourceArn": arn }))
        .await["Tags"]
        .clone();
    let keys: Vec<&String> = tags.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        10,
        "tags lost to concurrent TagResource: {tags}"
    );
}

/// AdminUpdateUserAttributes changes only the attributes it names; two admins updating
/// different attributes at once must both see their change kept.
async fn concurrent_attribute_updates_lose_no_attribute(backend: Backend) {
    let srv = Arc::new(start(&backend).await);
    let pool_id = srv.new_pool("attrs").await;
    srv.create_user(&pool_id, "u", &[]).await;
    let names = [
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "locale",
        "zoneinfo",
        "website",
    ];
    let calls = names
        .iter()
        .map(|n| {
            (
                "AdminUpdateUserAttributes",
                json!({ "UserPoolId": pool_id, "Username": "u",
                        "UserAttributes": [{ "Name": n, "Value": format!("{n}-value") }] }),
            )
        })
        .collect();
    let answers = all_at_once(&srv, calls).await;
    assert_eq!(
        tally(&answers),
        BTreeMap::from([("ok".to_owned(), names.len())])
    );
    let user = srv.get_user(&pool_id, "u").await;
    let lost: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| attr(&user["UserAttributes"], n) != Some(format!("{n}-value").as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "attributes lost to concurrent updates: {lost:?}"
    );
}
