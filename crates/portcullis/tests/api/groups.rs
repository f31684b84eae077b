//! Groups and memberships.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{Backend, TestServer, list, start, usernames};

backend_tests!(
    group_lifecycle,
    duplicate_group_changes_nothing,
    unknown_group_is_resource_not_found,
    memberships,
    membership_errors_change_nothing,
    deleting_user_or_group_ends_memberships,
    list_groups_pagination,
);

async fn group_names(srv: &TestServer, pool_id: &str) -> Vec<String> {
    let out = srv.ok("ListGroups", json!({ "UserPoolId": pool_id })).await;
    let mut names: Vec<String> = list(&out, "Groups")
        .iter()
        .map(|g| g["GroupName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn groups_of(srv: &TestServer, pool_id: &str, user: &str) -> Vec<String> {
    let out = srv
        .ok(
            "AdminListGroupsForUser",
            json!({ "UserPoolId": pool_id, "Username": user }),
        )
        .await;
    let mut names: Vec<String> = list(&out, "Groups")
        .iter()
        .map(|g| g["GroupName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn members(srv: &TestServer, pool_id: &str, group: &str) -> Vec<String> {
    let out = srv
        .ok(
            "ListUsersInGroup",
            json!({ "UserPoolId": pool_id, "GroupName": group }),
        )
        .await;
    usernames(&list(&out, "Users"))
}

async fn get_group(srv: &TestServer, pool_id: &str, group: &str) -> Value {
    srv.ok(
        "GetGroup",
        json!({ "UserPoolId": pool_id, "GroupName": group }),
    )
    .await["Group"]
        .clone()
}

async fn group_lifecycle(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("teams").await;
    let created = srv
        .ok(
            "CreateGroup",
            json!({
                "UserPoolId": pool_id,
                "GroupName": "admins",
                "Description": "The admins",
                "Precedence": 1,
                "RoleArn": "arn:aws:iam::123456789012:role/admins",
            }),
        )
        .await["Group"]
        .clone();
    assert_eq!(created["GroupName"], "admins");
    assert_eq!(created["UserPoolId"], pool_id.as_str());
    assert_eq!(created["Description"], "The admins");
    assert_eq!(created["Precedence"], 1);
    assert_eq!(created["RoleArn"], "arn:aws:iam::123456789012:role/admins");
    assert!(created["CreationDate"].is_number());
    assert!(created["LastModifiedDate"].is_number());
    assert_eq!(get_group(&srv, &pool_id, "admins").await, created);
    assert_eq!(group_names(&srv, &pool_id).await, vec!["admins"]);

    let updated = srv
        .ok(
            "UpdateGroup",
            json!({
                "UserPoolId": pool_id,
                "GroupName": "admins",
                "Description": "Still the admins",
                "Precedence": 2,
                "RoleArn": "arn:aws:iam::123456789012:role/admins",
            }),
        )
        .await["Group"]
        .clone();
    assert_eq!(updated["Description"], "Still the admins");
    assert_eq!(updated["Precedence"], 2);
    assert_eq!(updated["CreationDate"], created["CreationDate"]);
    assert_eq!(get_group(&srv, &pool_id, "admins").await, updated);

    let out = srv
        .ok(
            "DeleteGroup",
            json!({ "UserPoolId": pool_id, "GroupName": "admins" }),
        )
        .await;
    assert_eq!(out, json!({}));
    srv.err(
        "GetGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "admins" }),
        "ResourceNotFoundException",
    )
    .await;
    assert!(group_names(&srv, &pool_id).await.is_empty());
    // The name can be used again.
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "admins" }),
    )
    .await;
}

async fn duplicate_group_changes_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("teams").await;
    let other_pool = srv.new_pool("elsewhere").await;
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "ops", "Description": "first", "Precedence": 5 }),
    )
    .await;
    let before = get_group(&srv, &pool_id, "ops").await;
    srv.err(
        "CreateGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "ops", "Description": "second", "Precedence": 9 }),
        "GroupExistsException",
    )
    .await;
    assert_eq!(get_group(&srv, &pool_id, "ops").await, before);
    assert_eq!(group_names(&srv, &pool_id).await, vec!["ops"]);
    // The same name in another pool is another group.
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": other_pool, "GroupName": "ops" }),
    )
    .await;
    assert_eq!(get_group(&srv, &pool_id, "ops").await, before);
}

async fn unknown_group_is_resource_not_found(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("teams").await;
    srv.create_user(&pool_id, "u", &[]).await;
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "real" }),
    )
    .await;
    let before = get_group(&srv, &pool_id, "real").await;
    for (op, body) in [
        ("GetGroup", json!({ "GroupName": "ghost" })),
        (
            "UpdateGroup",
            json!({ "GroupName": "ghost", "Description": "x" }),
        ),
        ("DeleteGroup", json!({ "GroupName": "ghost" })),
        ("ListUsersInGroup", json!({ "GroupName": "ghost" })),
        (
            "AdminAddUserToGroup",
            json!({ "GroupName": "ghost", "Username": "u" }),
        ),
        (
            "AdminRemoveUserFromGroup",
            json!({ "GroupName": "ghost", "Username": "u" }),
        ),
    ] {
        let mut body = body;
        body["UserPoolId"] = json!(pool_id);
        srv.err(op, body, "ResourceNotFoundException").await;
    }
    assert_eq!(group_names(&srv, &pool_id).await, vec!["real"]);
    assert_eq!(get_group(&srv, &pool_id, "real").await, before);
    assert!(groups_of(&srv, &pool_id, "u").await.is_empty());
}

async fn memberships(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("teams").await;
    for u in ["ann", "ben", "cat"] {
        srv.create_user(&pool_id, u, &[]).await;
    }
    for g in ["dev", "ops"] {
        srv.ok(
            "CreateGroup",
            json!({ "UserPoolId": pool_id, "GroupName": g }),
        )
        .await;
    }
    let add = |user: &str, group: &str| json!({ "UserPoolId": pool_id, "Username": user, "GroupName": group });
    for (u, g) in [("ann", "dev"), ("ben", "dev"), ("ann", "ops")] {
        assert_eq!(srv.ok("AdminAddUserToGroup", add(u, g)).await, json!({}));
    }
    // Adding again is idempotent.
    srv.ok("AdminAddUserToGroup", add("ann", "dev")).await;
    assert_eq!(members(&srv, &pool_id, "dev").await, vec!["ann", "ben"]);
    assert_eq!(members(&srv, &pool_id, "ops").await, vec!["ann"]);
    assert_eq!(groups_of(&srv, &pool_id, "ann").await, vec!["dev", "ops"]);
    assert_eq!(groups_of(&srv, &pool_id, "ben").await, vec!["dev"]);
    assert!(groups_of(&srv, &pool_id, "cat").await.is_empty());

    assert_eq!(
        srv.ok("AdminRemoveUserFromGroup", add("ann", "dev")).await,
        json!({})
    );
    assert_eq!(members(&srv, &pool_id, "dev").await, vec!["ben"]);
    assert_eq!(groups_of(&srv, &pool_id, "ann").await, vec!["ops"]);
    // Removing a non-member changes nothing.
    srv.ok("AdminRemoveUserFromGroup", add("cat", "dev")).await;
    assert_eq!(members(&srv, &pool_id, "dev").await, vec!["ben"]);

    // Paging memberships.
    for u in ["ann", "cat"] {
        srv.ok("AdminAddUserToGroup", add(u, "dev")).await;
    }
    let first = srv
        .ok(
            "ListUsersInGroup",
            json!({ "UserPoolId": pool_id, "GroupName": "dev", "Limit": 2 }),
        )
        .await;
    assert_eq!(list(&first, "Users").len(), 2);
    let token = first["NextToken"].as_str().expect("a second page");
    let second = srv
        .ok(
            "ListUsersInGroup",
            json!({ "UserPoolId": pool_id, "GroupName": "dev", "Limit": 2, "NextToken": token }),
        )
        .await;
    let mut all = usernames(&list(&first, "Users"));
    all.extend(usernames(&list(&second, "Users")));
    all.sort();
    assert_eq!(all, vec!["ann", "ben", "cat"]);
    let first = srv
        .ok(
            "AdminListGroupsForUser",
            json!({ "UserPoolId": pool_id, "Username": "ann", "Limit": 1 }),
        )
        .await;
    assert_eq!(list(&first, "Groups").len(), 1);
    assert!(first["NextToken"].is_string());
}

async fn membership_errors_change_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("teams").await;
    srv.create_user(&pool_id, "ann", &[]).await;
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "dev" }),
    )
    .await;
    srv.ok(
        "AdminAddUserToGroup",
        json!({ "UserPoolId": pool_id, "Username": "ann", "GroupName": "dev" }),
    )
    .await;
    for op in ["AdminAddUserToGroup", "AdminRemoveUserFromGroup"] {
        srv.err(
            op,
            json!({ "UserPoolId": pool_id, "Username": "ghost", "GroupName": "dev" }),
            "UserNotFoundException",
        )
        .await;
    }
    srv.err(
        "AdminListGroupsForUser",
        json!({ "UserPoolId": pool_id, "Username": "ghost" }),
        "UserNotFoundException",
    )
    .await;
    srv.err(
        "AdminAddUserToGroup",
        json!({ "UserPoolId": "us-east-1_Ghost1234", "Username": "ann", "GroupName": "dev" }),
        "ResourceNotFoundException",
    )
    .await;
    assert_eq!(members(&srv, &pool_id, "dev").await, vec!["ann"]);
    assert_eq!(groups_of(&srv, &pool_id, "ann").await, vec!["dev"]);
}

async fn deleting_user_or_group_ends_memberships(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("teams").await;
    for u in ["ann", "ben"] {
        srv.create_user(&pool_id, u, &[]).await;
    }
    for g in ["dev", "ops"] {
        srv.ok(
            "CreateGroup",
            json!({ "UserPoolId": pool_id, "GroupName": g }),
        )
        .await;
        for u in ["ann", "ben"] {
            srv.ok(
                "AdminAddUserToGroup",
                json!({ "UserPoolId": pool_id, "Username": u, "GroupName": g }),
            )
            .await;
        }
    }
    srv.ok(
        "AdminDeleteUser",
        json!({ "UserPoolId": pool_id, "Username": "ben" }),
    )
    .await;
    assert_eq!(members(&srv, &pool_id, "dev").await, vec!["ann"]);
    assert_eq!(members(&srv, &pool_id, "ops").await, vec!["ann"]);
    srv.ok(
        "DeleteGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "ops" }),
    )
    .await;
    assert_eq!(groups_of(&srv, &pool_id, "ann").await, vec!["dev"]);
    // A user and a group re-created under the old names start with no memberships.
    srv.create_user(&pool_id, "ben", &[]).await;
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "ops" }),
    )
    .await;
    assert!(groups_of(&srv, &pool_id, "ben").await.is_empty());
    assert!(members(&srv, &pool_id, "ops").await.is_empty());
}

async fn list_groups_pagination(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("teams").await;
    let mut created = HashSet::new();
    for i in 0..5 {
        let name = format!("group-{i}");
        srv.ok(
            "CreateGroup",
            json!({ "UserPoolId": pool_id, "GroupName": name }),
        )
        .await;
        created.insert(name);
    }
    let mut pages = vec![];
    let mut seen = vec![];
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "UserPoolId": pool_id, "Limit": 2 });
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = srv.ok("ListGroups", body).await;
        let groups = list(&page, "Groups");
        pages.push(groups.len());
        seen.extend(
            groups
                .iter()
                .map(|g| g["GroupName"].as_str().unwrap().to_owned()),
        );
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages.len() < 10, "pagination does not end");
    }
    assert_eq!(pages, vec![2, 2, 1]);
    let distinct: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(distinct.len(), seen.len());
    assert_eq!(distinct, created);
}
