//! Store tests. Every case runs on SQLite (a fresh file in a temp dir) and, when
//! `PORTCULLIS_TEST_POSTGRES_URL` is set, on PostgreSQL in a fresh schema that is dropped
//! afterwards, so parallel and repeated runs never see each other's rows.
//!
//! The cases are plain `async fn(SqlStore)`; `store_tests!` makes one `sqlite::<case>` and one
//! `postgres::<case>` test of each, so the per-backend counts show in the test output. Without
//! the variable at build time the PostgreSQL cases show as ignored, never as passed.

// A failed unwrap is a failed test, with the error in the panic message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::future::Future;

use portcullis_core::domain::{
    AuthSessionRecord, ClientRecord, CodePurpose, CodeRecord, FilterField, GroupRecord,
    LockoutSchedule, PoolRecord, RefreshTokenRecord, SignInFailures, SigningKeyRecord, UserFilter,
    UserKeys, UserRecord, UserStatus,
};
use portcullis_core::repo::{
    AliasKind, ClientRepo, CodeRepo, Conflict, Expiring, GroupRepo, HousekeepingRepo, KeyRepo,
    PoolRepo, SessionRepo, StoreError, StoreResult, TagRepo, TokenRepo, UserRepo,
};
use portcullis_store::SqlStore;
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

const PG_ENV: &str = "PORTCULLIS_TEST_POSTGRES_URL";

// ---------------------------------------------------------------------------------------------
// Harness

async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(SqlStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portcullis.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    let outcome = tokio::spawn(case(store.clone())).await;
    store.close().await;
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

async fn on_postgres<F, Fut>(case: F)
where
    F: FnOnce(SqlStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // Compiled to run (see `build.rs`), so an unset variable now is an error, not a pass.
    let base = match std::env::var(PG_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{PG_ENV} was set when the tests were built but is unset now: rebuild without it \
             to skip the PostgreSQL cases"
        ),
    };
    let schema = format!("portcullis_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&base).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let outcome = match SqlStore::connect(&url).await {
        Ok(store) => {
            assert_eq!(store.backend_name(), "postgres");
            let outcome = tokio::spawn(case(store.clone())).await;
            store.close().await;
            outcome.map_err(|err| err.into_panic())
        }
        Err(err) => Err(Box::new(format!("connect: {err}")) as Box<dyn std::any::Any + Send>),
    };
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

macro_rules! store_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $case() { crate::on_sqlite(crate::$case).await })*
        }
        // Ignored, visibly, when PORTCULLIS_TEST_POSTGRES_URL was unset at build time.
        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(
                    not(portcullis_pg_tests),
                    ignore = "needs PORTCULLIS_TEST_POSTGRES_URL"
                )]
                async fn $case() { crate::on_postgres(crate::$case).await }
            )*
        }
    };
}

/// A CI run must run the PostgreSQL cases, not skip them.
#[test]
fn postgres_cases_run_in_ci() {
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.trim().is_empty() && v != "false" && v != "0");
    assert!(
        !in_ci || cfg!(portcullis_pg_tests),
        "CI is set but {PG_ENV} was not set when the tests were built: the PostgreSQL cases \
         would be skipped"
    );
}

store_tests!(
    ping_answers,
    pool_round_trip,
    pool_pagination,
    client_round_trip,
    client_pagination,
    user_round_trip_and_lookups,
    username_conflict_writes_nothing,
    alias_conflicts_write_nothing,
    absent_aliases_never_collide,
    update_user_moves_alias_keys,
    update_user_conflict_changes_nothing,
    case_keys,
    user_pagination,
    filters_exact,
    filters_prefix,
    prefix_edge_cases,
    status_filter_ignores_case,
    enabled_filter,
    filtered_pagination,
    group_round_trip_and_conflict,
    group_pagination,
    memberships,
    membership_pagination,
    delete_user_cascades,
    delete_group_cascades,
    delete_pool_cascades,
    tags_replace,
    codes_lifecycle,
    code_consumed_once_under_concurrency,
    expired_codes_purged,
    allowance_windows,
    allowance_holds_under_concurrency,
    count_users,
    bulk_insert,
    bulk_insert_conflict_writes_nothing,
    signing_keys_oldest_first,
    refresh_token_lifecycle,
    refresh_token_rotation_has_one_winner,
    revocation_by_lineage_and_user,
    sessions_are_single_use,
    sign_in_failures,
    counting_attempts_locks_on_schedule,
    concurrent_attempts_all_count,
    concurrent_attempts_lock_like_sequential_ones,
    purge_quiet_failures_is_bounded,
    delete_user_removes_sign_in_state,
    delete_pool_removes_sign_in_state,
);

// ---------------------------------------------------------------------------------------------
// Fixtures

const POOL: &str = "us-east-1_TestPool1";
const OTHER_POOL: &str = "us-east-1_TestPool2";

fn pool_settings_json(id: &str) -> serde_json::Value {
    json!({
        "Id": id,
        "Name": format!("pool {id}"),
        "Policies": {"PasswordPolicy": {
            "MinimumLength": 12,
            "RequireUppercase": true,
            "RequireLowercase": false,
            "TemporaryPasswordValidityDays": 7
        }},
        "LambdaConfig": {"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:pre"},
        "SchemaAttributes": [{
            "Name": "email",
            "AttributeDataType": "String",
            "Mutable": true,
            "Required": true,
            "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "2048"}
        }],
        "AutoVerifiedAttributes": ["email"],
        "UserPoolTags": {"team": "identity", "ünïcode": "✓"},
        // Dates are f64 seconds; the last one needs every digit to come back bit-exact.
        "CreationDate": 1732872000.123,
        "LastModifiedDate": 0.30000000000000004,
        "DeletionProtection": "INACTIVE"
    })
}

fn pool(id: &str) -> PoolRecord {
    let settings_json = pool_settings_json(id);
    let settings = serde_json::from_value(settings_json.clone()).unwrap();
    let record = PoolRecord {
        id: id.into(),
        name: format!("pool {id}"),
        created_ms: 1_732_872_000_123,
        modified_ms: 1_732_872_000_456,
        settings,
    };
    // Every fixture field is one the wire type knows, so the round trip below is not vacuous.
    assert_eq!(
        serde_json::to_value(&record.settings).unwrap(),
        settings_json
    );
    record
}

fn client(pool_id: &str, id: &str) -> ClientRecord {
    let settings_json = json!({
        "UserPoolId": pool_id,
        "ClientId": id,
        "ClientName": format!("client {id}"),
        "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "CallbackURLs": ["https://app.example/cb"],
        "AllowedOAuthFlows": ["code"],
        "RefreshTokenValidity": 30,
        "TokenValidityUnits": {"AccessToken": "hours", "RefreshToken": "days"},
        "CreationDate": 1732872000.5
    });
    let settings = serde_json::from_value(settings_json.clone()).unwrap();
    let record = ClientRecord {
        id: id.into(),
        pool_id: pool_id.into(),
        name: format!("client {id}"),
        created_ms: 10,
        modified_ms: 20,
        secret_sealed: Some(vec![0, 1, 2, 0xfe, 0xff, 0]),
        settings,
    };
    assert_eq!(
        serde_json::to_value(&record.settings).unwrap(),
        settings_json
    );
    record
}

fn user(pool_id: &str, username: &str) -> UserRecord {
    let sub = uuid::Uuid::new_v4().to_string();
    UserRecord {
        pool_id: pool_id.into(),
        username: username.into(),
        sub: sub.clone(),
        status: UserStatus::Confirmed,
        enabled: true,
        created_ms: 1_000,
        modified_ms: 2_000,
        attributes: BTreeMap::from([("sub".to_string(), sub)]),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        password_set_ms: Some(1_500),
        srp_sealed: Some(vec![7, 0, 255, 42]),
        keys: UserKeys {
            username: username.to_lowercase(),
            ..UserKeys::default()
        },
        version: 0,
    }
}

fn with_attr(mut u: UserRecord, name: &str, value: &str) -> UserRecord {
    u.attributes.insert(name.into(), value.into());
    match name {
        "email" => u.keys.email = Some(value.to_lowercase()),
        "phone_number" => u.keys.phone_number = Some(value.into()),
        "preferred_username" => u.keys.preferred_username = Some(value.to_lowercase()),
        _ => {}
    }
    u
}

fn group(pool_id: &str, name: &str) -> GroupRecord {
    GroupRecord {
        pool_id: pool_id.into(),
        name: name.into(),
        description: Some(format!("the {name} group")),
        role_arn: Some("arn:aws:iam::123456789012:role/r".into()),
        precedence: Some(3),
        created_ms: 5,
        modified_ms: 6,
    }
}

fn filter(field: FilterField, prefix: bool, value: &str) -> UserFilter {
    UserFilter {
        field,
        prefix,
        value: value.into(),
    }
}

async fn setup_pools(s: &SqlStore) {
    s.insert_pool(&pool(POOL)).await.unwrap();
    s.insert_pool(&pool(OTHER_POOL)).await.unwrap();
}

fn conflict<T: std::fmt::Debug>(result: StoreResult<T>) -> Conflict {
    match result {
        Err(StoreError::Conflict(kind)) => kind,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Usernames of the users a filter selects, all in one page, in username-key order. (A prefix
/// match lists in its column's order, which `filtered_pagination` checks; here the question is
/// only who matches.)
async fn filtered(s: &SqlStore, f: UserFilter) -> Vec<String> {
    let mut users = s.list_users(POOL, Some(&f), None, 1000).await.unwrap();
    users.sort_by(|a, b| a.keys.username.cmp(&b.keys.username));
    users.into_iter().map(|u| u.username).collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The cursor core hands back for the next page: a prefix filter walks its column's order,
/// so its cursor is `<column value>\0<username key>`; everything else walks username keys.
fn list_cursor(f: &UserFilter, u: &UserRecord) -> String {
    if !f.prefix || f.field == FilterField::Enabled {
        return u.keys.username.clone();
    }
    let value = match f.field {
        FilterField::Username => u.username.clone(),
        FilterField::Sub => u.sub.clone(),
        FilterField::UserStatus => u.status.as_str().to_owned(),
        FilterField::Email => u.attr("email").unwrap_or_default().to_owned(),
        FilterField::PhoneNumber => u.attr("phone_number").unwrap_or_default().to_owned(),
        FilterField::Name => u.attr("name").unwrap_or_default().to_owned(),
        FilterField::GivenName => u.attr("given_name").unwrap_or_default().to_owned(),
        FilterField::FamilyName => u.attr("family_name").unwrap_or_default().to_owned(),
        FilterField::PreferredUsername => {
            u.attr("preferred_username").unwrap_or_default().to_owned()
        }
        FilterField::Enabled => String::new(),
    };
    format!("{value}\0{}", u.keys.username)
}

/// Walks every page, checking that each is at most `limit` long, and returns the keys seen.
async fn walk<T, F, Fut>(limit: u32, key: impl Fn(&T) -> String, mut page: F) -> Vec<String>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = StoreResult<Vec<T>>>,
{
    let mut keys = Vec::new();
    let mut after = None;
    loop {
        let rows = page(after.clone()).await.unwrap();
        assert!(rows.len() <= limit as usize, "page longer than the limit");
        let full = rows.len() == limit as usize;
        keys.extend(rows.iter().map(&key));
        after = keys.last().cloned();
        if !full || rows.is_empty() {
            return keys;
        }
    }
}

fn assert_strictly_ascending(keys: &[String]) {
    for pair in keys.windows(2) {
        assert!(pair[0] < pair[1], "out of order or repeated: {pair:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn ping_answers(s: SqlStore) {
    s.ping().await.unwrap();
}

async fn pool_round_trip(s: SqlStore) {
    let mut p = pool(POOL);
    s.insert_pool(&p).await.unwrap();
    let got = s.get_pool(POOL).await.unwrap().unwrap();
    assert_eq!(got, p);
    assert_eq!(
        serde_json::to_value(&got.settings).unwrap(),
        pool_settings_json(POOL)
    );
    assert!(s.get_pool("us-east-1_nope").await.unwrap().is_none());

    assert_eq!(conflict(s.insert_pool(&p).await), Conflict::Other);

    p.name = "renamed".into();
    p.modified_ms += 1;
    p.settings = serde_json::from_value(
        json!({"Id": POOL, "Name": "renamed", "MfaConfiguration": "OPTIONAL"}),
    )
    .unwrap();
    s.update_pool(&p).await.unwrap();
    assert_eq!(s.get_pool(POOL).await.unwrap().unwrap(), p);

    assert!(s.delete_pool(POOL).await.unwrap());
    assert!(s.get_pool(POOL).await.unwrap().is_none());
    assert!(!s.delete_pool(POOL).await.unwrap());
}

async fn pool_pagination(s: SqlStore) {
    let mut ids: Vec<String> = (0..11).map(|i| format!("us-east-1_P{i:02}x")).collect();
    // Upper and lower case sort bytewise: 'Z' < 'a'.
    ids.push("us-east-1_aLower".into());
    ids.push("us-east-1_ZUpper".into());
    for id in &ids {
        s.insert_pool(&pool(id)).await.unwrap();
    }
    ids.sort();
    assert!(s.list_pools(None, 0).await.unwrap().is_empty());
    for limit in [1, 4, 13, 50] {
        let keys = walk(
            limit,
            |p: &PoolRecord| p.id.clone(),
            |after| {
                let s = s.clone();
                async move { s.list_pools(after.as_deref(), limit).await }
            },
        )
        .await;
        assert_eq!(keys, ids, "limit {limit}");
    }
    let first = s.list_pools(None, 2).await.unwrap();
    assert_eq!(first[0], pool(&ids[0]));
}

async fn client_round_trip(s: SqlStore) {
    setup_pools(&s).await;
    let mut c = client(POOL, "clientabc123");
    s.insert_client(&c).await.unwrap();
    assert_eq!(s.get_client("clientabc123").await.unwrap().unwrap(), c);
    assert!(s.get_client("clientother").await.unwrap().is_none());

    // Ids are unique across pools.
    assert_eq!(
        conflict(s.insert_client(&client(OTHER_POOL, "clientabc123")).await),
        Conflict::Other
    );

    let mut public = client(POOL, "publicclient");
    public.secret_sealed = None;
    s.insert_client(&public).await.unwrap();
    assert_eq!(s.get_client("publicclient").await.unwrap().unwrap(), public);

    c.name = "renamed".into();
    c.secret_sealed = None;
    c.modified_ms = 99;
    c.settings =
        serde_json::from_value(json!({"ClientId": "clientabc123", "ClientName": "renamed"}))
            .unwrap();
    s.update_client(&c).await.unwrap();
    assert_eq!(s.get_client("clientabc123").await.unwrap().unwrap(), c);

    // Through the wrong pool a client can be neither updated nor deleted.
    let mut wrong = c.clone();
    wrong.pool_id = OTHER_POOL.into();
    wrong.name = "hijacked".into();
    s.update_client(&wrong).await.unwrap();
    assert_eq!(s.get_client("clientabc123").await.unwrap().unwrap(), c);
    assert!(!s.delete_client(OTHER_POOL, "clientabc123").await.unwrap());

    assert!(s.delete_client(POOL, "clientabc123").await.unwrap());
    assert!(s.get_client("clientabc123").await.unwrap().is_none());
    assert!(!s.delete_client(POOL, "clientabc123").await.unwrap());
}

async fn client_pagination(s: SqlStore) {
    setup_pools(&s).await;
    let mut ids: Vec<String> = (0..9).map(|i| format!("c{i}x{}", 9 - i)).collect();
    ids.push("Zclient".into());
    for id in &ids {
        s.insert_client(&client(POOL, id)).await.unwrap();
    }
    s.insert_client(&client(OTHER_POOL, "c5other"))
        .await
        .unwrap();
    ids.sort();
    for limit in [1, 3, 10, 11] {
        let keys = walk(
            limit,
            |c: &ClientRecord| c.id.clone(),
            |after| {
                let s = s.clone();
                async move { s.list_clients(POOL, after.as_deref(), limit).await }
            },
        )
        .await;
        assert_eq!(keys, ids, "limit {limit}");
    }
}

async fn user_round_trip_and_lookups(s: SqlStore) {
    setup_pools(&s).await;
    let mut u = user(POOL, "Alice");
    u = with_attr(u, "email", "Alice@Example.com");
    u = with_attr(u, "phone_number", "+15550001");
    u = with_attr(u, "preferred_username", "Ally");
    u = with_attr(u, "custom:tier", "gold \"quoted\" \\ ü");
    u.attributes.insert("email_verified".into(), "true".into());
    u.status = UserStatus::ForceChangePassword;
    u.enabled = false;
    s.insert_user(&u).await.unwrap();

    assert_eq!(
        s.get_user_by_username(POOL, "alice")
            .await
            .unwrap()
            .unwrap(),
        u
    );
    assert_eq!(s.get_user_by_sub(POOL, &u.sub).await.unwrap().unwrap(), u);
    let by = |kind, key: &'static str| {
        let s = s.clone();
        async move { s.get_user_by_alias(POOL, kind, key).await.unwrap() }
    };
    assert_eq!(by(AliasKind::Email, "alice@example.com").await.unwrap(), u);
    assert_eq!(by(AliasKind::PhoneNumber, "+15550001").await.unwrap(), u);
    assert_eq!(by(AliasKind::PreferredUsername, "ally").await.unwrap(), u);
    // Lookups go by key, and each alias only through its own column.
    assert!(by(AliasKind::Email, "Alice@Example.com").await.is_none());
    assert!(
        by(AliasKind::PhoneNumber, "alice@example.com")
            .await
            .is_none()
    );
    assert!(by(AliasKind::PreferredUsername, "alice").await.is_none());
    assert!(
        s.get_user_by_username(POOL, "Alice")
            .await
            .unwrap()
            .is_none()
    );
    // Scoped to the pool.
    assert!(
        s.get_user_by_username(OTHER_POOL, "alice")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_user_by_sub(OTHER_POOL, &u.sub)
            .await
            .unwrap()
            .is_none()
    );

    // Every status and the absent optionals survive too.
    for status in [
        UserStatus::Unconfirmed,
        UserStatus::Confirmed,
        UserStatus::ResetRequired,
        UserStatus::ExternalProvider,
    ] {
        let mut v = user(POOL, &format!("user-{}", status.as_str()));
        v.status = status;
        v.password_hash = None;
        v.password_set_ms = None;
        v.srp_sealed = None;
        s.insert_user(&v).await.unwrap();
        assert_eq!(s.get_user_by_sub(POOL, &v.sub).await.unwrap().unwrap(), v);
    }
}

async fn username_conflict_writes_nothing(s: SqlStore) {
    setup_pools(&s).await;
    s.insert_user(&user(POOL, "bob")).await.unwrap();
    let dup = with_attr(user(POOL, "BOB"), "email", "fresh@example.com");
    assert_eq!(conflict(s.insert_user(&dup).await), Conflict::Username);
    assert_eq!(s.count_users(POOL).await.unwrap(), 1);
    assert!(s.get_user_by_sub(POOL, &dup.sub).await.unwrap().is_none());
    assert!(
        s.get_user_by_alias(POOL, AliasKind::Email, "fresh@example.com")
            .await
            .unwrap()
            .is_none()
    );
    // The same key in another pool is no conflict.
    s.insert_user(&user(OTHER_POOL, "bob")).await.unwrap();
}

async fn alias_conflicts_write_nothing(s: SqlStore) {
    setup_pools(&s).await;
    let first = with_attr(
        with_attr(
            with_attr(user(POOL, "first"), "email", "same@example.com"),
            "phone_number",
            "+15550009",
        ),
        "preferred_username",
        "nick",
    );
    s.insert_user(&first).await.unwrap();
    let cases = [
        ("email", "SAME@example.com", Conflict::Email),
        ("phone_number", "+15550009", Conflict::PhoneNumber),
        ("preferred_username", "Nick", Conflict::PreferredUsername),
    ];
    for (attr, value, kind) in cases {
        let second = with_attr(user(POOL, "second"), attr, value);
        assert_eq!(conflict(s.insert_user(&second).await), kind, "{attr}");
        assert_eq!(s.count_users(POOL).await.unwrap(), 1, "{attr}");
        assert!(
            s.get_user_by_username(POOL, "second")
                .await
                .unwrap()
                .is_none()
        );
        // Another pool has its own keys.
        let elsewhere = with_attr(user(OTHER_POOL, &format!("second-{attr}")), attr, value);
        s.insert_user(&elsewhere).await.unwrap();
    }
    // An email that is only an attribute (not a sign-in key) does not collide.
    let mut plain = user(POOL, "plain");
    plain
        .attributes
        .insert("email".into(), "same@example.com".into());
    s.insert_user(&plain).await.unwrap();
}

async fn absent_aliases_never_collide(s: SqlStore) {
    setup_pools(&s).await;
    for i in 0..5 {
        s.insert_user(&user(POOL, &format!("nokeys{i}")))
            .await
            .unwrap();
    }
    assert_eq!(s.count_users(POOL).await.unwrap(), 5);
}

async fn update_user_moves_alias_keys(s: SqlStore) {
    setup_pools(&s).await;
    let mut u = with_attr(
        with_attr(user(POOL, "mover"), "email", "old@example.com"),
        "phone_number",
        "+15550100",
    );
    s.insert_user(&u).await.unwrap();

    u = with_attr(u, "email", "new@example.com");
    u.keys.phone_number = None;
    u.attributes.remove("phone_number");
    u = with_attr(u, "preferred_username", "moved");
    u.status = UserStatus::ResetRequired;
    u.enabled = false;
    u.password_hash = None;
    u.password_set_ms = None;
    u.srp_sealed = Some(b"new verifier".to_vec());
    u.modified_ms = 9_999;
    s.update_user(&u).await.unwrap();
    // The store bumps the version on every update.
    u.version += 1;

    assert_eq!(s.get_user_by_sub(POOL, &u.sub).await.unwrap().unwrap(), u);

    // A second writer still holding the first copy is refused, and writes nothing.
    let mut stale = u.clone();
    stale.version -= 1;
    stale.enabled = true;
    assert!(matches!(
        s.update_user(&stale).await,
        Err(StoreError::Stale)
    ));
    assert_eq!(s.get_user_by_sub(POOL, &u.sub).await.unwrap().unwrap(), u);
    let alias = |kind, key: &'static str| {
        let s = s.clone();
        async move { s.get_user_by_alias(POOL, kind, key).await.unwrap() }
    };
    assert!(alias(AliasKind::Email, "old@example.com").await.is_none());
    assert!(alias(AliasKind::PhoneNumber, "+15550100").await.is_none());
    assert_eq!(alias(AliasKind::Email, "new@example.com").await.unwrap(), u);
    assert_eq!(
        alias(AliasKind::PreferredUsername, "moved").await.unwrap(),
        u
    );
    // The filter columns follow the attributes.
    assert_eq!(
        filtered(&s, filter(FilterField::Email, false, "new@example.com")).await,
        names(&["mover"])
    );
    assert!(
        filtered(&s, filter(FilterField::Email, false, "old@example.com"))
            .await
            .is_empty()
    );
    assert!(
        filtered(&s, filter(FilterField::PhoneNumber, true, ""))
            .await
            .is_empty()
    );

    // The freed keys are free for someone else.
    let other = with_attr(
        with_attr(user(POOL, "taker"), "email", "old@example.com"),
        "phone_number",
        "+15550100",
    );
    s.insert_user(&other).await.unwrap();
}

async fn update_user_conflict_changes_nothing(s: SqlStore) {
    setup_pools(&s).await;
    let a = with_attr(user(POOL, "a"), "email", "a@example.com");
    let b = with_attr(user(POOL, "b"), "email", "b@example.com");
    s.insert_user(&a).await.unwrap();
    s.insert_user(&b).await.unwrap();
    let mut changed = with_attr(b.clone(), "email", "A@example.com");
    changed.modified_ms = 77;
    changed.status = UserStatus::Unconfirmed;
    assert_eq!(conflict(s.update_user(&changed).await), Conflict::Email);
    assert_eq!(s.get_user_by_sub(POOL, &b.sub).await.unwrap().unwrap(), b);
    let mut renamed = b.clone();
    renamed.keys.username = "a".into();
    assert_eq!(conflict(s.update_user(&renamed).await), Conflict::Username);
    assert_eq!(s.get_user_by_sub(POOL, &b.sub).await.unwrap().unwrap(), b);
}

async fn case_keys(s: SqlStore) {
    setup_pools(&s).await;
    // Shown as given, found and ordered by key.
    for name in ["Zed", "adam", "MIKE", "Émile"] {
        s.insert_user(&user(POOL, name)).await.unwrap();
    }
    let u = s.get_user_by_username(POOL, "mike").await.unwrap().unwrap();
    assert_eq!(u.username, "MIKE");
    assert_eq!(u.keys.username, "mike");
    let listed: Vec<(String, String)> = s
        .list_users(POOL, None, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.keys.username, u.username))
        .collect();
    let expected = [
        ("adam", "adam"),
        ("mike", "MIKE"),
        ("zed", "Zed"),
        ("émile", "Émile"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .collect();
    assert_eq!(listed, expected);
    // A case-sensitive pool keeps the username itself as the key: both may exist.
    let mut exact = user(POOL, "Adam");
    exact.keys.username = "Adam".into();
    s.insert_user(&exact).await.unwrap();
    assert_eq!(
        s.get_user_by_username(POOL, "Adam")
            .await
            .unwrap()
            .unwrap()
            .sub,
        exact.sub
    );
}

async fn user_pagination(s: SqlStore) {
    setup_pools(&s).await;
    let mut keys: Vec<String> = (0..23)
        .map(|i| format!("user{:03}", (i * 7) % 23))
        .collect();
    keys.extend(["UPPER", "~tilde", "ünï", "0zero", "日本"].map(String::from));
    for k in &keys {
        let mut u = user(POOL, k);
        u.keys.username = k.clone();
        s.insert_user(&u).await.unwrap();
    }
    for k in ["user005", "zzz"] {
        s.insert_user(&user(OTHER_POOL, k)).await.unwrap();
    }
    keys.sort();
    for limit in [1, 5, 7, 28, 60] {
        let seen = walk(
            limit,
            |u: &UserRecord| u.keys.username.clone(),
            |after| {
                let s = s.clone();
                async move { s.list_users(POOL, None, after.as_deref(), limit).await }
            },
        )
        .await;
        assert_strictly_ascending(&seen);
        assert_eq!(seen, keys, "limit {limit}");
    }
}

/// alice, bob, Carol and dave, with attributes enough for every filter; a twin of alice in
/// the other pool checks that filters stay inside their pool.
async fn filter_fixture(s: &SqlStore) -> BTreeMap<&'static str, UserRecord> {
    setup_pools(s).await;
    let mut alice = user(POOL, "alice");
    for (k, v) in [
        ("email", "alice@example.com"),
        ("phone_number", "+15550001"),
        ("name", "Alice Adams"),
        ("given_name", "Alice"),
        ("family_name", "Adams"),
        ("preferred_username", "ally"),
    ] {
        alice = with_attr(alice, k, v);
    }
    let mut bob = user(POOL, "bob");
    for (k, v) in [
        ("email", "bob@example.com"),
        ("phone_number", "+15550002"),
        ("name", "Bob Brown"),
        ("given_name", "Bob"),
        ("family_name", "Brown"),
        ("preferred_username", "bobby"),
    ] {
        bob = with_attr(bob, k, v);
    }
    bob.status = UserStatus::Unconfirmed;
    bob.enabled = false;
    let mut carol = user(POOL, "Carol");
    for (k, v) in [
        ("email", "carol@example.org"),
        ("phone_number", "+442000000"),
        ("name", "Carol Clark"),
        ("given_name", "Carol"),
        ("family_name", "Clark"),
    ] {
        carol = with_attr(carol, k, v);
    }
    carol.status = UserStatus::ForceChangePassword;
    let mut dave = user(POOL, "dave");
    dave.status = UserStatus::ResetRequired;
    let mut twin = alice.clone();
    twin.pool_id = OTHER_POOL.into();
    twin.sub = uuid::Uuid::new_v4().to_string();
    s.insert_user(&twin).await.unwrap();
    let all = BTreeMap::from([
        ("alice", alice),
        ("bob", bob),
        ("Carol", carol),
        ("dave", dave),
    ]);
    for u in all.values() {
        s.insert_user(u).await.unwrap();
    }
    all
}

async fn filters_exact(s: SqlStore) {
    let users = filter_fixture(&s).await;
    let cases: Vec<(FilterField, String, Vec<String>)> = vec![
        (FilterField::Username, "Carol".into(), names(&["Carol"])),
        // The displayed username, not the key.
        (FilterField::Username, "carol".into(), vec![]),
        (
            FilterField::Email,
            "bob@example.com".into(),
            names(&["bob"]),
        ),
        (FilterField::Email, "BOB@example.com".into(), vec![]),
        (
            FilterField::PhoneNumber,
            "+15550001".into(),
            names(&["alice"]),
        ),
        (FilterField::Name, "Carol Clark".into(), names(&["Carol"])),
        (FilterField::GivenName, "Bob".into(), names(&["bob"])),
        (FilterField::FamilyName, "Adams".into(), names(&["alice"])),
        (
            FilterField::PreferredUsername,
            "bobby".into(),
            names(&["bob"]),
        ),
        (FilterField::PreferredUsername, "bob".into(), vec![]),
        (
            FilterField::Sub,
            users["dave"].sub.clone(),
            names(&["dave"]),
        ),
        (FilterField::Sub, "no-such-sub".into(), vec![]),
        (FilterField::Email, "".into(), vec![]),
    ];
    for (field, value, expected) in cases {
        assert_eq!(
            filtered(&s, filter(field, false, &value)).await,
            expected,
            "{field:?} = {value:?}"
        );
    }
}

async fn filters_prefix(s: SqlStore) {
    let users = filter_fixture(&s).await;
    let sub = &users["bob"].sub;
    let cases: Vec<(FilterField, String, Vec<String>)> = vec![
        (FilterField::Username, "C".into(), names(&["Carol"])),
        (FilterField::Username, "c".into(), vec![]),
        (
            FilterField::Username,
            "".into(),
            names(&["alice", "bob", "Carol", "dave"]),
        ),
        (FilterField::Email, "alice".into(), names(&["alice"])),
        (
            FilterField::Email,
            "".into(),
            names(&["alice", "bob", "Carol"]),
        ),
        (
            FilterField::Email,
            "carol@example.org".into(),
            names(&["Carol"]),
        ),
        (FilterField::Email, "carol@example.org.".into(), vec![]),
        (
            FilterField::PhoneNumber,
            "+1555".into(),
            names(&["alice", "bob"]),
        ),
        (FilterField::PhoneNumber, "+4".into(), names(&["Carol"])),
        (FilterField::Name, "Bob B".into(), names(&["bob"])),
        (FilterField::GivenName, "Ca".into(), names(&["Carol"])),
        (FilterField::FamilyName, "A".into(), names(&["alice"])),
        (FilterField::FamilyName, "a".into(), vec![]),
        (FilterField::PreferredUsername, "b".into(), names(&["bob"])),
        (
            FilterField::PreferredUsername,
            "".into(),
            names(&["alice", "bob"]),
        ),
        (FilterField::Sub, sub[..8].to_string(), names(&["bob"])),
    ];
    for (field, value, expected) in cases {
        assert_eq!(
            filtered(&s, filter(field, true, &value)).await,
            expected,
            "{field:?} ^= {value:?}"
        );
    }
}

async fn prefix_edge_cases(s: SqlStore) {
    setup_pools(&s).await;
    let values = [
        "a",
        "ab",
        "abc",
        "ab\u{10FFFF}",
        "ab\u{10FFFF}z",
        "ab\u{10FFFF}\u{10FFFF}",
        "ac",
        "Ab",
        "AB",
        "b",
        "é",
        "éclair",
        "ê",
        "e\u{301}",
        "日",
        "日本",
        "日本語",
        "旦",
        "\u{D7FF}x",
        "\u{E000}",
        "\u{FFFF}",
        "\u{10000}",
        "\u{10FFFF}",
        "\u{10FFFF}\u{10FFFF}",
        "~",
        "\u{7F}",
        "\u{80}",
    ];
    let mut by_family = BTreeMap::new();
    for (i, v) in values.iter().enumerate() {
        let name = format!("u{i:02}");
        s.insert_user(&with_attr(user(POOL, &name), "family_name", v))
            .await
            .unwrap();
        by_family.insert(name, *v);
    }
    let prefixes = [
        "",
        "a",
        "ab",
        "ab\u{10FFFF}",
        "ab\u{10FFFF}\u{10FFFF}",
        "\u{10FFFF}",
        "AB",
        "é",
        "e",
        "日本",
        "日",
        "\u{D7FF}",
        "\u{FFFF}",
        "~",
        "\u{7F}",
        "zzz",
    ];
    for p in prefixes {
        let expected: Vec<String> = by_family
            .iter()
            .filter(|(_, v)| v.starts_with(p))
            .map(|(name, _)| name.clone())
            .collect();
        let got = filtered(&s, filter(FilterField::FamilyName, true, p)).await;
        assert_eq!(got, expected, "prefix {p:?}");
    }
    // A NUL can be in no stored value on PostgreSQL; it matches nobody on either backend.
    assert!(
        filtered(&s, filter(FilterField::FamilyName, true, "a\0"))
            .await
            .is_empty()
    );
    assert!(
        filtered(&s, filter(FilterField::FamilyName, false, "\0"))
            .await
            .is_empty()
    );
}

async fn status_filter_ignores_case(s: SqlStore) {
    filter_fixture(&s).await;
    for value in ["CONFIRMED", "confirmed", "Confirmed", "cOnFiRmEd"] {
        let got = filtered(&s, filter(FilterField::UserStatus, false, value)).await;
        assert_eq!(got, names(&["alice"]), "{value}");
    }
    let got = filtered(
        &s,
        filter(FilterField::UserStatus, false, "force_change_password"),
    )
    .await;
    assert_eq!(got, names(&["Carol"]));
    let got = filtered(&s, filter(FilterField::UserStatus, true, "Force")).await;
    assert_eq!(got, names(&["Carol"]));
    let got = filtered(&s, filter(FilterField::UserStatus, true, "un")).await;
    assert_eq!(got, names(&["bob"]));
    let got = filtered(&s, filter(FilterField::UserStatus, true, "")).await;
    assert_eq!(got, names(&["alice", "bob", "Carol", "dave"]));
    assert!(
        filtered(&s, filter(FilterField::UserStatus, false, "CONFIRM"))
            .await
            .is_empty()
    );
    assert!(
        filtered(&s, filter(FilterField::UserStatus, false, "enabled"))
            .await
            .is_empty()
    );
}

async fn enabled_filter(s: SqlStore) {
    filter_fixture(&s).await;
    let f = |prefix, v: &str| filter(FilterField::Enabled, prefix, v);
    assert_eq!(
        filtered(&s, f(false, "Enabled")).await,
        names(&["alice", "Carol", "dave"])
    );
    assert_eq!(filtered(&s, f(false, "Disabled")).await, names(&["bob"]));
    for nobody in ["enabled", "DISABLED", "true", "1", ""] {
        assert!(
            filtered(&s, f(false, nobody)).await.is_empty(),
            "{nobody:?}"
        );
    }
    assert_eq!(
        filtered(&s, f(true, "Ena")).await,
        names(&["alice", "Carol", "dave"])
    );
    assert_eq!(filtered(&s, f(true, "D")).await, names(&["bob"]));
    assert_eq!(filtered(&s, f(true, "")).await.len(), 4);
    assert!(filtered(&s, f(true, "e")).await.is_empty());
}

async fn filtered_pagination(s: SqlStore) {
    setup_pools(&s).await;
    let mut users = Vec::new();
    for i in 0..17 {
        let name = format!("p{:02}", (i * 5) % 17);
        let mut u = with_attr(user(POOL, &name), "email", &format!("{name}@example.com"));
        if i % 3 == 0 {
            u = with_attr(u, "given_name", "Same");
        }
        u.enabled = i % 2 == 0;
        s.insert_user(&u).await.unwrap();
        users.push(u);
    }
    s.insert_user(&with_attr(user(OTHER_POOL, "p01"), "given_name", "Same"))
        .await
        .unwrap();
    let expect = |keep: &dyn Fn(&UserRecord) -> bool| {
        let mut keys: Vec<String> = users
            .iter()
            .filter(|u| keep(u))
            .map(|u| u.keys.username.clone())
            .collect();
        keys.sort();
        keys
    };
    let cases = [
        (
            filter(FilterField::Email, true, "p0"),
            expect(&|u| u.username.starts_with("p0")),
        ),
        (
            filter(FilterField::GivenName, false, "Same"),
            expect(&|u| u.attr("given_name") == Some("Same")),
        ),
        (
            // Equal column values: the username key breaks the tie in the compound cursor.
            filter(FilterField::GivenName, true, "Sa"),
            expect(&|u| u.attr("given_name") == Some("Same")),
        ),
        (
            filter(FilterField::Enabled, false, "Disabled"),
            expect(&|u| !u.enabled),
        ),
        (
            filter(FilterField::UserStatus, false, "confirmed"),
            expect(&|_| true),
        ),
    ];
    for (f, expected) in cases {
        assert!(!expected.is_empty());
        for limit in [1, 2, 5, 100] {
            let seen: Vec<String> = walk(
                limit,
                |u: &UserRecord| list_cursor(&f, u),
                |after| {
                    let s = s.clone();
                    let f = f.clone();
                    async move { s.list_users(POOL, Some(&f), after.as_deref(), limit).await }
                },
            )
            .await
            .iter()
            .map(|cursor| cursor.rsplit('\0').next().unwrap_or_default().to_owned())
            .collect();
            assert_eq!(seen, expected, "{f:?}, limit {limit}");
        }
    }
}

async fn group_round_trip_and_conflict(s: SqlStore) {
    setup_pools(&s).await;
    let mut g = group(POOL, "admins");
    s.insert_group(&g).await.unwrap();
    assert_eq!(s.get_group(POOL, "admins").await.unwrap().unwrap(), g);
    assert!(s.get_group(OTHER_POOL, "admins").await.unwrap().is_none());
    assert!(s.get_group(POOL, "Admins").await.unwrap().is_none());

    let mut dup = group(POOL, "admins");
    dup.description = Some("second".into());
    assert_eq!(conflict(s.insert_group(&dup).await), Conflict::Group);
    assert_eq!(s.get_group(POOL, "admins").await.unwrap().unwrap(), g);
    s.insert_group(&group(OTHER_POOL, "admins")).await.unwrap();

    g.description = None;
    g.role_arn = None;
    g.precedence = None;
    g.modified_ms = 60;
    s.update_group(&g).await.unwrap();
    assert_eq!(s.get_group(POOL, "admins").await.unwrap().unwrap(), g);
    g.precedence = Some(0);
    s.update_group(&g).await.unwrap();
    assert_eq!(s.get_group(POOL, "admins").await.unwrap().unwrap(), g);

    assert!(s.delete_group(POOL, "admins").await.unwrap());
    assert!(!s.delete_group(POOL, "admins").await.unwrap());
    assert!(s.get_group(OTHER_POOL, "admins").await.unwrap().is_some());
}

async fn group_pagination(s: SqlStore) {
    setup_pools(&s).await;
    let mut names: Vec<String> = (0..12).map(|i| format!("g{:02}", (i * 5) % 12)).collect();
    names.extend(["Admins", "admins", "ünï"].map(String::from));
    for n in &names {
        s.insert_group(&group(POOL, n)).await.unwrap();
    }
    s.insert_group(&group(OTHER_POOL, "g05")).await.unwrap();
    s.insert_group(&group(OTHER_POOL, "zz")).await.unwrap();
    names.sort();
    for limit in [1, 4, 15, 40] {
        let seen = walk(
            limit,
            |g: &GroupRecord| g.name.clone(),
            |after| {
                let s = s.clone();
                async move { s.list_groups(POOL, after.as_deref(), limit).await }
            },
        )
        .await;
        assert_eq!(seen, names, "limit {limit}");
    }
}

async fn memberships(s: SqlStore) {
    setup_pools(&s).await;
    let u = user(POOL, "member");
    let v = user(POOL, "other");
    s.insert_user(&u).await.unwrap();
    s.insert_user(&v).await.unwrap();
    for g in ["readers", "writers"] {
        s.insert_group(&group(POOL, g)).await.unwrap();
    }
    s.add_member(POOL, "readers", &u.sub).await.unwrap();
    s.add_member(POOL, "readers", &u.sub).await.unwrap(); // idempotent
    s.add_member(POOL, "writers", &u.sub).await.unwrap();
    s.add_member(POOL, "readers", &v.sub).await.unwrap();

    let groups = s
        .list_groups_for_user(POOL, &u.sub, None, 10)
        .await
        .unwrap();
    assert_eq!(groups, vec![group(POOL, "readers"), group(POOL, "writers")]);
    let members = s
        .list_users_in_group(POOL, "readers", None, 10)
        .await
        .unwrap();
    assert_eq!(members, vec![u.clone(), v.clone()]);
    assert!(
        s.list_users_in_group(OTHER_POOL, "readers", None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    s.remove_member(POOL, "readers", &u.sub).await.unwrap();
    s.remove_member(POOL, "readers", &u.sub).await.unwrap(); // absent: no error
    let groups = s
        .list_groups_for_user(POOL, &u.sub, None, 10)
        .await
        .unwrap();
    assert_eq!(groups, vec![group(POOL, "writers")]);
    let members = s
        .list_users_in_group(POOL, "readers", None, 10)
        .await
        .unwrap();
    assert_eq!(members, vec![v]);
}

async fn membership_pagination(s: SqlStore) {
    setup_pools(&s).await;
    let mut group_names: Vec<String> = (0..9).map(|i| format!("grp{:02}", (i * 4) % 9)).collect();
    group_names.push("Zeta".into());
    for g in &group_names {
        s.insert_group(&group(POOL, g)).await.unwrap();
    }
    s.insert_group(&group(POOL, "unjoined")).await.unwrap();
    let mut user_keys = Vec::new();
    let mut subs = Vec::new();
    for i in 0..11 {
        let u = user(POOL, &format!("m{:02}", (i * 3) % 11));
        user_keys.push(u.keys.username.clone());
        subs.push(u.sub.clone());
        s.insert_user(&u).await.unwrap();
    }
    let outsider = user(POOL, "a-outsider");
    s.insert_user(&outsider).await.unwrap();
    for g in &group_names {
        s.add_member(POOL, g, &subs[0]).await.unwrap();
    }
    for sub in &subs {
        s.add_member(POOL, "grp03", sub).await.unwrap();
    }
    group_names.sort();
    user_keys.sort();
    for limit in [1, 3, 10, 20] {
        let seen = walk(
            limit,
            |g: &GroupRecord| g.name.clone(),
            |after| {
                let s = s.clone();
                let sub = subs[0].clone();
                async move {
                    s.list_groups_for_user(POOL, &sub, after.as_deref(), limit)
                        .await
                }
            },
        )
        .await;
        assert_eq!(seen, group_names, "limit {limit}");
        let seen = walk(
            limit,
            |u: &UserRecord| u.keys.username.clone(),
            |after| {
                let s = s.clone();
                async move {
                    s.list_users_in_group(POOL, "grp03", after.as_deref(), limit)
                        .await
                }
            },
        )
        .await;
        assert_eq!(seen, user_keys, "limit {limit}");
    }
}

async fn delete_user_cascades(s: SqlStore) {
    setup_pools(&s).await;
    let u = with_attr(user(POOL, "leaver"), "email", "leaver@example.com");
    let stay = user(POOL, "stayer");
    s.insert_user(&u).await.unwrap();
    s.insert_user(&stay).await.unwrap();
    s.insert_group(&group(POOL, "team")).await.unwrap();
    s.add_member(POOL, "team", &u.sub).await.unwrap();
    s.add_member(POOL, "team", &stay.sub).await.unwrap();
    for (who, purpose) in [
        (&u, CodePurpose::SignUp),
        (&u, CodePurpose::VerifyEmail),
        (&stay, CodePurpose::SignUp),
    ] {
        s.put_code(&code(&who.sub, purpose, "h")).await.unwrap();
    }

    assert!(s.delete_user(POOL, &u.sub).await.unwrap());
    assert!(s.get_user_by_sub(POOL, &u.sub).await.unwrap().is_none());
    assert!(
        s.get_user_by_alias(POOL, AliasKind::Email, "leaver@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_code(POOL, &u.sub, CodePurpose::SignUp)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_code(POOL, &u.sub, CodePurpose::VerifyEmail)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.list_groups_for_user(POOL, &u.sub, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let members = s.list_users_in_group(POOL, "team", None, 10).await.unwrap();
    assert_eq!(members, vec![stay.clone()]);
    assert!(
        s.get_code(POOL, &stay.sub, CodePurpose::SignUp)
            .await
            .unwrap()
            .is_some()
    );
    assert!(!s.delete_user(POOL, &u.sub).await.unwrap());
    // The username and alias are free again.
    s.insert_user(&with_attr(
        user(POOL, "leaver"),
        "email",
        "leaver@example.com",
    ))
    .await
    .unwrap();
}

async fn delete_group_cascades(s: SqlStore) {
    setup_pools(&s).await;
    let u = user(POOL, "member");
    s.insert_user(&u).await.unwrap();
    for g in ["doomed", "kept"] {
        s.insert_group(&group(POOL, g)).await.unwrap();
        s.add_member(POOL, g, &u.sub).await.unwrap();
    }
    assert!(s.delete_group(POOL, "doomed").await.unwrap());
    assert!(s.get_group(POOL, "doomed").await.unwrap().is_none());
    assert_eq!(
        s.list_groups_for_user(POOL, &u.sub, None, 10)
            .await
            .unwrap(),
        vec![group(POOL, "kept")]
    );
    assert!(
        s.list_users_in_group(POOL, "doomed", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.get_user_by_sub(POOL, &u.sub).await.unwrap().is_some());
    // Re-created, the group starts empty.
    s.insert_group(&group(POOL, "doomed")).await.unwrap();
    assert!(
        s.list_users_in_group(POOL, "doomed", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

fn pool_arn(pool_id: &str) -> String {
    format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool_id}")
}

fn code(sub: &str, purpose: CodePurpose, hash: &str) -> CodeRecord {
    CodeRecord {
        pool_id: POOL.into(),
        sub: sub.into(),
        purpose,
        code_hash: hash.into(),
        expires_ms: 1_700_000_000_000,
        pending_value: None,
        previous_hash: None,
    }
}

async fn delete_pool_cascades(s: SqlStore) {
    // The doomed pool's neighbours share its name or its ending; only its own rows may go.
    let doomed = "us-east-1_Doomed";
    let pools = [
        doomed,
        "us-east-1_DoomedToo",
        "eu-west-1_Doomed",
        OTHER_POOL,
    ];
    for p in pools {
        s.insert_pool(&pool(p)).await.unwrap();
        s.insert_client(&client(p, &format!("client{}", p.replace(['-', '_'], ""))))
            .await
            .unwrap();
        let u = with_attr(user(p, "shared-name"), "email", "shared@example.com");
        s.insert_user(&u).await.unwrap();
        s.insert_group(&group(p, "team")).await.unwrap();
        s.add_member(p, "team", &u.sub).await.unwrap();
        let mut c = code(&u.sub, CodePurpose::SignUp, "h");
        c.pool_id = p.into();
        s.put_code(&c).await.unwrap();
        s.put_tags(
            &pool_arn(p),
            &BTreeMap::from([("k".to_string(), p.to_string())]),
        )
        .await
        .unwrap();
    }
    // `LIKE '%userpool/us-east-1_Doomed'` would take this one too: `_` is a wildcard there.
    let lookalike = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1XDoomed";
    s.put_tags(
        lookalike,
        &BTreeMap::from([("k".to_string(), "v".to_string())]),
    )
    .await
    .unwrap();
    let doomed_sub = s
        .get_user_by_username(doomed, "shared-name")
        .await
        .unwrap()
        .unwrap()
        .sub;

    assert!(s.delete_pool(doomed).await.unwrap());

    assert!(s.get_pool(doomed).await.unwrap().is_none());
    assert!(s.get_client("clientuseast1Doomed").await.unwrap().is_none());
    assert!(s.list_clients(doomed, None, 10).await.unwrap().is_empty());
    assert_eq!(s.count_users(doomed).await.unwrap(), 0);
    assert!(
        s.list_users(doomed, None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.get_group(doomed, "team").await.unwrap().is_none());
    assert!(
        s.list_groups_for_user(doomed, &doomed_sub, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.list_users_in_group(doomed, "team", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.get_code(doomed, &doomed_sub, CodePurpose::SignUp)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.get_tags(&pool_arn(doomed)).await.unwrap().is_empty());

    for p in &pools[1..] {
        assert!(s.get_pool(p).await.unwrap().is_some(), "{p}");
        assert_eq!(s.list_clients(p, None, 10).await.unwrap().len(), 1, "{p}");
        assert_eq!(s.count_users(p).await.unwrap(), 1, "{p}");
        assert_eq!(
            s.list_users_in_group(p, "team", None, 10)
                .await
                .unwrap()
                .len(),
            1,
            "{p}"
        );
        let sub = s
            .get_user_by_username(p, "shared-name")
            .await
            .unwrap()
            .unwrap()
            .sub;
        assert!(
            s.get_code(p, &sub, CodePurpose::SignUp)
                .await
                .unwrap()
                .is_some(),
            "{p}"
        );
        assert_eq!(s.get_tags(&pool_arn(p)).await.unwrap().len(), 1, "{p}");
    }
    assert_eq!(s.get_tags(lookalike).await.unwrap().len(), 1);
    assert!(!s.delete_pool(doomed).await.unwrap());
}

async fn tags_replace(s: SqlStore) {
    let arn = pool_arn(POOL);
    assert!(s.get_tags(&arn).await.unwrap().is_empty());
    let first = BTreeMap::from([
        ("a".to_string(), "1".to_string()),
        ("b".to_string(), "".to_string()),
        ("ü".to_string(), "ß ✓".to_string()),
    ]);
    s.put_tags(&arn, &first).await.unwrap();
    assert_eq!(s.get_tags(&arn).await.unwrap(), first);
    let second = BTreeMap::from([
        ("b".to_string(), "2".to_string()),
        ("c".to_string(), "3".to_string()),
    ]);
    s.put_tags(&arn, &second).await.unwrap();
    assert_eq!(s.get_tags(&arn).await.unwrap(), second);
    let other = pool_arn(OTHER_POOL);
    s.put_tags(&other, &first).await.unwrap();
    s.put_tags(&arn, &BTreeMap::new()).await.unwrap();
    assert!(s.get_tags(&arn).await.unwrap().is_empty());
    assert_eq!(s.get_tags(&other).await.unwrap(), first);
}

async fn codes_lifecycle(s: SqlStore) {
    setup_pools(&s).await;
    let u = user(POOL, "coder");
    s.insert_user(&u).await.unwrap();
    let first = code(&u.sub, CodePurpose::ForgotPassword, "hash-one");
    s.put_code(&first).await.unwrap();
    assert_eq!(
        s.get_code(POOL, &u.sub, CodePurpose::ForgotPassword)
            .await
            .unwrap()
            .unwrap(),
        first
    );
    assert!(
        s.get_code(POOL, &u.sub, CodePurpose::SignUp)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_code(OTHER_POOL, &u.sub, CodePurpose::ForgotPassword)
            .await
            .unwrap()
            .is_none()
    );

    // A new code supersedes the old one.
    let mut second = code(&u.sub, CodePurpose::ForgotPassword, "hash-two");
    second.expires_ms += 60_000;
    s.put_code(&second).await.unwrap();
    // ...and remembers the code it replaced, so that one reads as expired, not wrong.
    second.previous_hash = Some("hash-one".into());
    assert_eq!(
        s.get_code(POOL, &u.sub, CodePurpose::ForgotPassword)
            .await
            .unwrap()
            .unwrap(),
        second
    );

    // Purposes are independent.
    let verify = code(&u.sub, CodePurpose::VerifyPhone, "hash-three");
    s.put_code(&verify).await.unwrap();
    s.delete_code(POOL, &u.sub, CodePurpose::ForgotPassword)
        .await
        .unwrap();
    assert!(
        s.get_code(POOL, &u.sub, CodePurpose::ForgotPassword)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.get_code(POOL, &u.sub, CodePurpose::VerifyPhone)
            .await
            .unwrap()
            .unwrap(),
        verify
    );

    // Nothing outstanding: nothing to consume, nothing to delete.
    assert!(
        !s.consume_code(POOL, &u.sub, CodePurpose::ForgotPassword, "hash-two")
            .await
            .unwrap()
    );
    s.delete_code(POOL, &u.sub, CodePurpose::ForgotPassword)
        .await
        .unwrap();

    // Consuming is conditional on the hash: a replaced code cannot be used up, the current
    // one only once.
    s.put_code(&code(&u.sub, CodePurpose::SignUp, "old"))
        .await
        .unwrap();
    s.put_code(&code(&u.sub, CodePurpose::SignUp, "new"))
        .await
        .unwrap();
    assert!(
        !s.consume_code(POOL, &u.sub, CodePurpose::SignUp, "old")
            .await
            .unwrap()
    );
    assert!(
        s.consume_code(POOL, &u.sub, CodePurpose::SignUp, "new")
            .await
            .unwrap()
    );
    assert!(
        !s.consume_code(POOL, &u.sub, CodePurpose::SignUp, "new")
            .await
            .unwrap()
    );
}

/// Expired codes go in bounded batches; live ones stay.
async fn expired_codes_purged(s: SqlStore) {
    setup_pools(&s).await;
    let u = user(POOL, "sweepme");
    s.insert_user(&u).await.unwrap();
    let t = 1_700_000_000_000;
    for (purpose, expires) in [
        (CodePurpose::SignUp, t - 2),
        (CodePurpose::ForgotPassword, t - 1),
        (CodePurpose::VerifyEmail, t + 1),
    ] {
        let mut c = code(&u.sub, purpose, "h");
        c.expires_ms = expires;
        s.put_code(&c).await.unwrap();
    }
    assert_eq!(s.purge_expired(Expiring::Codes, t, 1).await.unwrap(), 1);
    assert_eq!(s.purge_expired(Expiring::Codes, t, 10).await.unwrap(), 1);
    assert_eq!(s.purge_expired(Expiring::Codes, t, 10).await.unwrap(), 0);
    assert!(
        s.get_code(POOL, &u.sub, CodePurpose::VerifyEmail)
            .await
            .unwrap()
            .is_some()
    );
}

/// Two requests redeeming one code at once: exactly one uses it up.
async fn code_consumed_once_under_concurrency(s: SqlStore) {
    setup_pools(&s).await;
    let u = user(POOL, "racer");
    s.insert_user(&u).await.unwrap();
    s.put_code(&code(&u.sub, CodePurpose::ForgotPassword, "h"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let s = s.clone();
            let sub = u.sub.clone();
            tokio::spawn(async move {
                s.consume_code(POOL, &sub, CodePurpose::ForgotPassword, "h")
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
}

const HOUR: i64 = 3_600_000;

/// An allowance admits `limit` uses per window, refuses (writing nothing) while full, opens a
/// new window once the old one ended, and keeps pools and counters apart.
async fn allowance_windows(s: SqlStore) {
    setup_pools(&s).await;
    let t0 = 1_700_000_000_000;
    for expected in 1..=3 {
        assert_eq!(
            s.take_allowance(POOL, "attempts:x:u1", 3, HOUR, t0 + expected)
                .await
                .unwrap(),
            Some(expected)
        );
    }
    // Full: refused, and refusals do not extend the window.
    assert_eq!(
        s.take_allowance(POOL, "attempts:x:u1", 3, HOUR, t0 + 10)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.take_allowance(POOL, "attempts:x:u1", 3, HOUR, t0 + HOUR - 1)
            .await
            .unwrap(),
        None
    );
    // Other counters and pools are untouched.
    assert_eq!(
        s.take_allowance(POOL, "attempts:x:u2", 3, HOUR, t0)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        s.take_allowance(OTHER_POOL, "attempts:x:u1", 3, HOUR, t0)
            .await
            .unwrap(),
        Some(1)
    );
    // The window opened at t0 + 1 ends an hour later; then counting starts over.
    assert_eq!(
        s.take_allowance(POOL, "attempts:x:u1", 3, HOUR, t0 + 1 + HOUR)
            .await
            .unwrap(),
        Some(1)
    );
    // Clearing forgets the uses.
    s.clear_allowance(POOL, "attempts:x:u1").await.unwrap();
    assert_eq!(
        s.take_allowance(POOL, "attempts:x:u1", 1, HOUR, t0 + 2 + HOUR)
            .await
            .unwrap(),
        Some(1)
    );
    // Purging removes ended windows only, in bounded batches.
    let later = t0 + 10 * HOUR;
    s.take_allowance(POOL, "issues:x:fresh", 3, HOUR, later)
        .await
        .unwrap();
    assert_eq!(
        s.purge_expired(Expiring::CodeAllowances, later, 2)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.purge_expired(Expiring::CodeAllowances, later, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.purge_expired(Expiring::CodeAllowances, later, 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.take_allowance(POOL, "issues:x:fresh", 1, HOUR, later)
            .await
            .unwrap(),
        None,
        "a live window survives the purge"
    );
    // Deleting the pool deletes its allowances.
    assert_eq!(
        s.take_allowance(OTHER_POOL, "issues:x:fresh", 1, HOUR, later)
            .await
            .unwrap(),
        Some(1)
    );
    assert!(s.delete_pool(OTHER_POOL).await.unwrap());
    s.insert_pool(&pool(OTHER_POOL)).await.unwrap();
    assert_eq!(
        s.take_allowance(OTHER_POOL, "issues:x:fresh", 1, HOUR, later)
            .await
            .unwrap(),
        Some(1)
    );
}

/// Twenty concurrent takers of an allowance of five: exactly five get through. (The old
/// read-then-bump let every reader of a stale count through.)
async fn allowance_holds_under_concurrency(s: SqlStore) {
    setup_pools(&s).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                s.take_allowance(POOL, "attempts:forgot_password:u", 5, HOUR, 1_000)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut granted = Vec::new();
    for t in tasks {
        if let Some(n) = t.await.unwrap() {
            granted.push(n);
        }
    }
    granted.sort_unstable();
    assert_eq!(granted, vec![1, 2, 3, 4, 5]);
}

async fn count_users(s: SqlStore) {
    setup_pools(&s).await;
    assert_eq!(s.count_users(POOL).await.unwrap(), 0);
    let mut subs = Vec::new();
    for i in 0..3 {
        let u = user(POOL, &format!("c{i}"));
        subs.push(u.sub.clone());
        s.insert_user(&u).await.unwrap();
    }
    s.insert_user(&user(OTHER_POOL, "c0")).await.unwrap();
    assert_eq!(s.count_users(POOL).await.unwrap(), 3);
    assert_eq!(s.count_users(OTHER_POOL).await.unwrap(), 1);
    s.delete_user(POOL, &subs[1]).await.unwrap();
    assert_eq!(s.count_users(POOL).await.unwrap(), 2);
    assert_eq!(s.count_users("us-east-1_none").await.unwrap(), 0);
}

fn bulk_users(pool_id: &str, prefix: &str, n: usize) -> Vec<UserRecord> {
    (0..n)
        .map(|i| {
            let name = format!("{prefix}{i:05}");
            let u = with_attr(user(pool_id, &name), "email", &format!("{name}@bulk.test"));
            with_attr(u, "given_name", if i % 2 == 0 { "Even" } else { "Odd" })
        })
        .collect()
}

async fn bulk_insert(s: SqlStore) {
    setup_pools(&s).await;
    assert_eq!(s.bulk_insert_users(&[]).await.unwrap(), 0);
    // More than two chunks, with a partial last one.
    let users = bulk_users(POOL, "bulk", 1_003);
    assert_eq!(s.bulk_insert_users(&users).await.unwrap(), 1_003);
    assert_eq!(s.count_users(POOL).await.unwrap(), 1_003);
    // Stored exactly as single inserts would store them, filter columns included.
    for i in [0, 399, 400, 801, 1_002] {
        let got = s
            .get_user_by_sub(POOL, &users[i].sub)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, users[i]);
    }
    let got = s
        .get_user_by_alias(POOL, AliasKind::Email, "bulk00500@bulk.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, users[500]);
    let odd = s
        .list_users(
            POOL,
            Some(&filter(FilterField::GivenName, false, "Odd")),
            None,
            2_000,
        )
        .await
        .unwrap();
    assert_eq!(odd.len(), 501);
    let seen = walk(
        250,
        |u: &UserRecord| u.keys.username.clone(),
        |after| {
            let s = s.clone();
            async move { s.list_users(POOL, None, after.as_deref(), 250).await }
        },
    )
    .await;
    assert_eq!(seen.len(), 1_003);
    assert_strictly_ascending(&seen);
    // A small batch after a large one.
    assert_eq!(
        s.bulk_insert_users(&bulk_users(POOL, "more", 3))
            .await
            .unwrap(),
        3
    );
    assert_eq!(s.count_users(POOL).await.unwrap(), 1_006);
}

async fn bulk_insert_conflict_writes_nothing(s: SqlStore) {
    setup_pools(&s).await;
    s.insert_user(&user(POOL, "taken00900")).await.unwrap();
    // The clash is in the third chunk: the first two must be rolled back.
    let users = bulk_users(POOL, "taken", 1_000);
    assert_eq!(
        conflict(s.bulk_insert_users(&users).await),
        Conflict::Username
    );
    assert_eq!(s.count_users(POOL).await.unwrap(), 1);

    // Two of the batch clash with each other.
    let mut users = bulk_users(POOL, "twin", 10);
    let email = users[2].keys.email.clone();
    users[7].keys.email = email;
    assert_eq!(conflict(s.bulk_insert_users(&users).await), Conflict::Email);
    assert_eq!(s.count_users(POOL).await.unwrap(), 1);
    assert!(
        s.get_user_by_username(POOL, "twin00000")
            .await
            .unwrap()
            .is_none()
    );
}

fn signing_key(pool_id: &str, kid: &str, token_use: &str, created_ms: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        pool_id: pool_id.into(),
        kid: kid.into(),
        token_use: token_use.into(),
        private_sealed: vec![0, 1, 2, 3, 0xff],
        n: "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri".into(),
        e: "AQAB".into(),
        created_ms,
    }
}

fn refresh_token(hash: &str, sub: &str, origin: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: hash.into(),
        pool_id: POOL.into(),
        client_id: "client1".into(),
        sub: sub.into(),
        origin_jti: origin.into(),
        auth_time: 1_732_872_000,
        created_ms: 1_732_872_000_000,
        expires_ms: 1_735_464_000_000,
        revoked: false,
        rotated_ms: None,
    }
}

fn session(id_hash: &str, sub: &str) -> AuthSessionRecord {
    AuthSessionRecord {
        id_hash: id_hash.into(),
        pool_id: POOL.into(),
        client_id: "client1".into(),
        sub: sub.into(),
        challenge: "PASSWORD_VERIFIER".into(),
        state_sealed: vec![9, 8, 7, 0],
        expires_ms: 1_732_872_180_000,
    }
}

async fn signing_keys_oldest_first(s: SqlStore) {
    setup_pools(&s).await;
    let keys = [
        signing_key(POOL, "kid-b", "access", 200),
        signing_key(POOL, "kid-a", "id", 300),
        signing_key(POOL, "kid-c", "id", 100),
        signing_key(POOL, "kid-d", "access", 200),
    ];
    for k in &keys {
        s.insert_signing_key(k).await.unwrap();
    }
    s.insert_signing_key(&signing_key(OTHER_POOL, "kid-a", "id", 50))
        .await
        .unwrap();
    let got = s.signing_keys(POOL).await.unwrap();
    let expected = vec![
        keys[2].clone(),
        keys[0].clone(),
        keys[3].clone(),
        keys[1].clone(),
    ];
    assert_eq!(got, expected);
    assert_eq!(s.signing_keys(OTHER_POOL).await.unwrap().len(), 1);
    assert!(s.signing_keys("us-east-1_none").await.unwrap().is_empty());
    assert_eq!(
        conflict(s.insert_signing_key(&keys[0]).await),
        Conflict::Other
    );
}

async fn refresh_token_lifecycle(s: SqlStore) {
    let t = refresh_token("hash-1", "sub-1", "origin-1");
    s.insert_refresh_token(&t).await.unwrap();
    assert_eq!(s.get_refresh_token("hash-1").await.unwrap().unwrap(), t);
    assert!(s.get_refresh_token("hash-2").await.unwrap().is_none());
    assert_eq!(conflict(s.insert_refresh_token(&t).await), Conflict::Other);

    assert!(s.mark_refresh_rotated("hash-1", 5_000).await.unwrap());
    assert!(!s.mark_refresh_rotated("hash-1", 6_000).await.unwrap());
    let got = s.get_refresh_token("hash-1").await.unwrap().unwrap();
    assert_eq!(got.rotated_ms, Some(5_000));
    assert!(!got.revoked);
    assert!(!s.mark_refresh_rotated("no-such-hash", 1).await.unwrap());
}

async fn refresh_token_rotation_has_one_winner(s: SqlStore) {
    s.insert_refresh_token(&refresh_token("race", "sub-1", "origin-1"))
        .await
        .unwrap();
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.mark_refresh_rotated("race", 1_000 + i).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for t in tries {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
}

async fn revocation_by_lineage_and_user(s: SqlStore) {
    let tokens = [
        refresh_token("a1", "alice", "lineage-a"),
        refresh_token("a2", "alice", "lineage-a"),
        refresh_token("a3", "alice", "lineage-a2"),
        refresh_token("b1", "bob", "lineage-b"),
    ];
    for t in &tokens {
        s.insert_refresh_token(t).await.unwrap();
    }
    let mut elsewhere = refresh_token("x1", "alice", "lineage-a");
    elsewhere.pool_id = OTHER_POOL.into();
    s.insert_refresh_token(&elsewhere).await.unwrap();

    assert!(!s.origin_revoked(POOL, "alice", "lineage-a").await.unwrap());
    s.revoke_origin(POOL, "alice", "lineage-a").await.unwrap();
    assert!(s.origin_revoked(POOL, "alice", "lineage-a").await.unwrap());
    assert!(s.get_refresh_token("a1").await.unwrap().unwrap().revoked);
    assert!(s.get_refresh_token("a2").await.unwrap().unwrap().revoked);
    assert!(!s.origin_revoked(POOL, "alice", "lineage-a2").await.unwrap());
    assert!(
        !s.origin_revoked(OTHER_POOL, "alice", "lineage-a")
            .await
            .unwrap()
    );
    assert!(
        !s.origin_revoked(POOL, "alice", "never-issued")
            .await
            .unwrap()
    );
    // A lineage belongs to one user: naming another user finds nothing, and revokes nothing.
    assert!(!s.origin_revoked(POOL, "bob", "lineage-a").await.unwrap());
    s.revoke_origin(POOL, "bob", "lineage-a2").await.unwrap();
    assert!(!s.get_refresh_token("a3").await.unwrap().unwrap().revoked);

    s.revoke_user_tokens(POOL, "alice").await.unwrap();
    assert!(s.origin_revoked(POOL, "alice", "lineage-a2").await.unwrap());
    assert!(s.get_refresh_token("a3").await.unwrap().unwrap().revoked);
    assert!(!s.origin_revoked(POOL, "bob", "lineage-b").await.unwrap());
    assert!(!s.get_refresh_token("b1").await.unwrap().unwrap().revoked);
    assert!(!s.get_refresh_token("x1").await.unwrap().unwrap().revoked);
}

async fn sessions_are_single_use(s: SqlStore) {
    let first = session("sess-1", "sub-1");
    s.put_session(&first).await.unwrap();
    assert_eq!(s.get_session("sess-1").await.unwrap().unwrap(), first);
    // A decoy session for an unknown user has no sub and no user row.
    let decoy = session("sess-decoy", "");
    s.put_session(&decoy).await.unwrap();
    assert_eq!(s.get_session("sess-decoy").await.unwrap().unwrap(), decoy);

    let mut next = session("sess-1", "sub-1");
    next.challenge = "NEW_PASSWORD_REQUIRED".into();
    next.state_sealed = vec![1];
    s.put_session(&next).await.unwrap();
    assert_eq!(s.get_session("sess-1").await.unwrap().unwrap(), next);

    let tries: Vec<_> = (0..6)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.consume_session("sess-1").await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for t in tries {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert!(s.get_session("sess-1").await.unwrap().is_none());
    assert!(!s.consume_session("sess-1").await.unwrap());
    assert!(s.get_session("sess-decoy").await.unwrap().is_some());
}

async fn sign_in_failures(s: SqlStore) {
    assert_eq!(
        s.get_failures(POOL, "sub-1").await.unwrap(),
        SignInFailures::default()
    );
    let f = SignInFailures {
        failures: 5,
        locked_until_ms: 1_732_872_060_000,
    };
    s.put_failures(POOL, "sub-1", f).await.unwrap();
    assert_eq!(s.get_failures(POOL, "sub-1").await.unwrap(), f);
    assert_eq!(
        s.get_failures(OTHER_POOL, "sub-1").await.unwrap(),
        SignInFailures::default()
    );
    let g = SignInFailures {
        failures: 6,
        locked_until_ms: 0,
    };
    s.put_failures(POOL, "sub-1", g).await.unwrap();
    assert_eq!(s.get_failures(POOL, "sub-1").await.unwrap(), g);
    s.put_failures(POOL, "sub-1", SignInFailures::default())
        .await
        .unwrap();
    assert_eq!(
        s.get_failures(POOL, "sub-1").await.unwrap(),
        SignInFailures::default()
    );
    // Clearing what is already clear is fine.
    s.put_failures(POOL, "sub-2", SignInFailures::default())
        .await
        .unwrap();
}

const SCHEDULE: LockoutSchedule = LockoutSchedule {
    free_failures: 5,
    first_lock_ms: 1_000,
    max_lock_ms: 900_000,
    forget_after_ms: 900_000,
};
const T0: i64 = 1_732_872_000_000;

fn failing(failures: i64, locked_until_ms: i64) -> Option<SignInFailures> {
    Some(SignInFailures {
        failures,
        locked_until_ms,
    })
}

async fn counting_attempts_locks_on_schedule(s: SqlStore) {
    let count = |now: i64| {
        let s = s.clone();
        async move {
            s.count_attempt(POOL, "sub-1", now, &SCHEDULE)
                .await
                .unwrap()
        }
    };
    for n in 1..5 {
        assert_eq!(count(T0).await, failing(n, 0));
    }
    // The fifth failure locks for a second.
    assert_eq!(count(T0).await, failing(5, T0 + 1_000));
    // During the lock nothing counts and the lock does not grow.
    assert_eq!(count(T0 + 999).await, None);
    assert_eq!(
        s.get_failures(POOL, "sub-1").await.unwrap(),
        failing(5, T0 + 1_000).unwrap()
    );
    // Other keys and pools are not affected.
    assert_eq!(
        s.count_attempt(OTHER_POOL, "sub-1", T0, &SCHEDULE)
            .await
            .unwrap(),
        failing(1, 0)
    );
    // Each later failure doubles the lock, up to the cap.
    let mut now = T0 + 1_000;
    let mut last_failure = now;
    let mut expected_lock = 2_000;
    for n in 6..20 {
        let lock = expected_lock.min(900_000);
        assert_eq!(count(now).await, failing(n, now + lock), "failure {n}");
        last_failure = now;
        now += lock;
        expected_lock *= 2;
    }
    let lock_end = last_failure + 900_000;
    assert_eq!(
        s.get_failures(POOL, "sub-1").await.unwrap().locked_until_ms,
        lock_end
    );
    // At the end of the longest lock the count goes on (another fifteen-minute lock)...
    assert_eq!(count(lock_end).await, failing(20, lock_end + 900_000));
    // ...and is forgotten only after fifteen quiet minutes past the end of the lock.
    let lock_end = lock_end + 900_000;
    assert_eq!(
        count(lock_end + 899_999).await,
        failing(21, lock_end + 899_999 + 900_000)
    );
    let lock_end = lock_end + 899_999 + 900_000;
    assert_eq!(count(lock_end + 900_000).await, failing(1, 0));
}

async fn concurrent_attempts_all_count(s: SqlStore) {
    // With no lock in reach, twenty concurrent attempts make twenty distinct counts: none is lost.
    let never = LockoutSchedule {
        free_failures: 100,
        ..SCHEDULE
    };
    let tries: Vec<_> = (0..20)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.count_attempt(POOL, "sub-1", T0, &never).await.unwrap() })
        })
        .collect();
    let mut counts = vec![];
    for t in tries {
        counts.push(t.await.unwrap().unwrap().failures);
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=20).collect::<Vec<_>>());
    assert_eq!(s.get_failures(POOL, "sub-1").await.unwrap().failures, 20);
}

async fn concurrent_attempts_lock_like_sequential_ones(s: SqlStore) {
    let admitted = |results: &[Option<SignInFailures>]| results.iter().flatten().count();
    let mut sequential = vec![];
    for _ in 0..20 {
        sequential.push(
            s.count_attempt(POOL, "one-by-one", T0, &SCHEDULE)
                .await
                .unwrap(),
        );
    }
    let tries: Vec<_> = (0..20)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                s.count_attempt(POOL, "all-at-once", T0, &SCHEDULE)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut parallel = vec![];
    for t in tries {
        parallel.push(t.await.unwrap());
    }
    assert_eq!(admitted(&sequential), 5);
    assert_eq!(admitted(&parallel), 5);
    assert_eq!(
        s.get_failures(POOL, "one-by-one").await.unwrap(),
        s.get_failures(POOL, "all-at-once").await.unwrap()
    );
    assert_eq!(
        s.get_failures(POOL, "all-at-once").await.unwrap(),
        failing(5, T0 + 1_000).unwrap()
    );
}

async fn purge_quiet_failures_is_bounded(s: SqlStore) {
    let day = 86_400_000;
    for key in ["quiet-1", "quiet-2", "quiet-3"] {
        s.count_attempt(POOL, key, T0 - day, &SCHEDULE)
            .await
            .unwrap();
    }
    s.count_attempt(POOL, "recent", T0, &SCHEDULE)
        .await
        .unwrap();
    s.put_failures(
        POOL,
        "locked",
        SignInFailures {
            failures: 9,
            locked_until_ms: T0 + 60_000,
        },
    )
    .await
    .unwrap();
    let quiet_since = T0 - 900_000;
    assert_eq!(
        s.purge_expired(Expiring::SignInFailures, quiet_since, 2)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.purge_expired(Expiring::SignInFailures, quiet_since, 2)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.purge_expired(Expiring::SignInFailures, quiet_since, 2)
            .await
            .unwrap(),
        0
    );
    for key in ["quiet-1", "quiet-2", "quiet-3"] {
        assert_eq!(
            s.get_failures(POOL, key).await.unwrap(),
            SignInFailures::default()
        );
    }
    assert_eq!(s.get_failures(POOL, "recent").await.unwrap().failures, 1);
    assert_eq!(s.get_failures(POOL, "locked").await.unwrap().failures, 9);
}

async fn delete_user_removes_sign_in_state(s: SqlStore) {
    setup_pools(&s).await;
    let gone = user(POOL, "gone");
    let kept = user(POOL, "kept");
    let failing = SignInFailures {
        failures: 2,
        locked_until_ms: 0,
    };
    for u in [&gone, &kept] {
        s.insert_user(u).await.unwrap();
        s.insert_refresh_token(&refresh_token(
            &format!("t-{}", u.username),
            &u.sub,
            &u.username,
        ))
        .await
        .unwrap();
        s.put_session(&session(&format!("s-{}", u.username), &u.sub))
            .await
            .unwrap();
        s.put_failures(POOL, &u.sub, failing).await.unwrap();
    }
    assert!(s.delete_user(POOL, &gone.sub).await.unwrap());
    assert!(s.get_refresh_token("t-gone").await.unwrap().is_none());
    assert!(s.get_session("s-gone").await.unwrap().is_none());
    assert_eq!(
        s.get_failures(POOL, &gone.sub).await.unwrap(),
        SignInFailures::default()
    );
    assert!(s.get_refresh_token("t-kept").await.unwrap().is_some());
    assert!(s.get_session("s-kept").await.unwrap().is_some());
    assert_eq!(s.get_failures(POOL, &kept.sub).await.unwrap(), failing);
}

async fn delete_pool_removes_sign_in_state(s: SqlStore) {
    setup_pools(&s).await;
    let failing = SignInFailures {
        failures: 1,
        locked_until_ms: 0,
    };
    for p in [POOL, OTHER_POOL] {
        let u = user(p, "someone");
        s.insert_user(&u).await.unwrap();
        s.insert_signing_key(&signing_key(p, "kid", "id", 1))
            .await
            .unwrap();
        let mut t = refresh_token(&format!("t-{p}"), &u.sub, "origin");
        t.pool_id = p.into();
        s.insert_refresh_token(&t).await.unwrap();
        let mut ses = session(&format!("s-{p}"), &u.sub);
        ses.pool_id = p.into();
        s.put_session(&ses).await.unwrap();
        s.put_failures(p, &u.sub, failing).await.unwrap();
        s.put_failures(p, "decoy-or-gone", failing).await.unwrap();
    }
    assert!(s.delete_pool(POOL).await.unwrap());
    assert!(s.signing_keys(POOL).await.unwrap().is_empty());
    assert!(
        s.get_refresh_token(&format!("t-{POOL}"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.get_session(&format!("s-{POOL}")).await.unwrap().is_none());
    assert_eq!(
        s.get_failures(POOL, "decoy-or-gone").await.unwrap(),
        SignInFailures::default()
    );

    assert_eq!(s.signing_keys(OTHER_POOL).await.unwrap().len(), 1);
    assert!(
        s.get_refresh_token(&format!("t-{OTHER_POOL}"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.get_session(&format!("s-{OTHER_POOL}"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        s.get_failures(OTHER_POOL, "decoy-or-gone").await.unwrap(),
        failing
    );
}

// ---------------------------------------------------------------------------------------------
// Connection handling, once per backend kind

#[tokio::test]
async fn sqlite_file_is_created_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqlStore::connect(&url).await.unwrap();
    assert!(path.exists());
    store.insert_pool(&pool(POOL)).await.unwrap();
    store.close().await;
    // Migrations already applied: reopening neither fails nor loses data.
    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(store.get_pool(POOL).await.unwrap().unwrap(), pool(POOL));
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut sqlx::SqliteConnection::connect(&url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    store.close().await;
}

#[tokio::test]
async fn sqlite_in_memory_keeps_its_data() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.insert_pool(&pool(POOL)).await.unwrap();
    assert!(store.get_pool(POOL).await.unwrap().is_some());
    store.ping().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn unknown_scheme_is_refused_without_echoing_the_url() {
    let err = SqlStore::connect("mysql://root:hunter2@localhost/db")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Backend(_)));
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn unreachable_postgres_is_a_backend_error_without_the_password() {
    // Port 1 on loopback: refused at once, no network beyond this machine.
    let err = SqlStore::connect("postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Backend(_)));
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn sql_store_is_a_complete_store() {
    fn assert_store<T: portcullis_core::repo::Store + Clone + 'static>() {}
    assert_store::<SqlStore>();
}

// Keeps the helper honest: the page walker must see every key once.
#[test]
fn strictly_ascending_rejects_repeats() {
    let keys = names(&["a", "b", "b"]);
    let outcome = std::panic::catch_unwind(|| assert_strictly_ascending(&keys));
    assert!(outcome.is_err());
}
