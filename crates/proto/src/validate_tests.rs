//! Validator tests. Expected messages follow AWS's wording as seen in real
//! Cognito responses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde_json::json;

fn model() -> Model {
    Model::try_load().unwrap()
}

fn constraint(model: &Model, op: &str, body: Value) -> String {
    match model.validate_input(op, &body) {
        Err(ValidationError::Constraint(m)) => m,
        other => panic!("{op} {body}: expected a constraint error, got {other:?}"),
    }
}

fn serialization(model: &Model, op: &str, body: Value) -> String {
    match model.validate_input(op, &body) {
        Err(ValidationError::Serialization(m)) => m,
        other => panic!("{op} {body}: expected a serialization error, got {other:?}"),
    }
}

const POOL: &str = "us-east-1_AbC123";

#[test]
fn embedded_model_loads() {
    let model = Model::try_load().unwrap();
    assert_eq!(model.operations.len(), crate::OPERATIONS.len());
    for op in crate::OPERATIONS {
        assert!(model.has_operation(op.name), "{}", op.name);
    }
}

#[test]
fn every_model_pattern_compiles() {
    // Independent of `build`: walk the raw JSON so a pattern on a shape the
    // loader might skip is still covered.
    let raw: Value = serde_json::from_str(COGNITO_IDP_JSON).unwrap();
    let mut count = 0;
    for (name, shape) in raw["shapes"].as_object().unwrap() {
        if let Some(java) = shape.get("pattern").and_then(Value::as_str) {
            compile_pattern(java).unwrap_or_else(|e| panic!("{name}: {java}: {e}"));
            count += 1;
        }
    }
    assert!(count > 50, "only {count} patterns found");
    // Every override must still be needed, i.e. match a model pattern.
    for (java, _) in PATTERN_OVERRIDES {
        assert!(
            COGNITO_IDP_JSON.contains(&java.replace('\\', "\\\\")),
            "stale override {java}"
        );
    }
}

#[test]
fn java_pattern_semantics_are_kept() {
    let re = |p: &str| compile_pattern(p).unwrap();
    // \w is ASCII-only in Java.
    assert!(re(r"[\w-]+_[0-9a-zA-Z]+").is_match(POOL));
    assert!(!re(r"[\w-]+_[0-9a-zA-Z]+").is_match("us-éast-1_abc"));
    // \s is ASCII-only, \S its complement (so a no-break space is \S).
    assert!(re(r"[\S]+").is_match("pa\u{a0}ss"));
    assert!(!re(r"[\S]+").is_match("pa ss"));
    // Java's `.` stops at \r too; `(?s)` lifts that.
    assert!(re(r".*\{####\}.*").is_match("code {####}"));
    assert!(!re(r".*\{####\}.*").is_match("code\r{####}"));
    assert!(re(r"(?s).*").is_match("a\nb"));
    // Whole-value match, like Java's matches().
    assert!(!re("[0-9]+").is_match("12a"));
    // The lookbehind override: no trailing dot.
    let s3 = re(r"^[0-9A-Za-z\.\-_]*(?<!\.)$");
    assert!(s3.is_match("my.bucket-1"));
    assert!(s3.is_match(""));
    assert!(!s3.is_match("bucket."));
    // Unsupported constructs are refused, not mistranslated.
    assert!(compile_pattern("a(?=b)").is_err());
    assert!(compile_pattern(r"\Qa.b\E").is_err());
}

#[test]
fn missing_required_member() {
    let m = model();
    assert_eq!(
        constraint(&m, "CreateUserPool", json!({})),
        "1 validation error detected: Value null at 'poolName' failed to satisfy constraint: \
         Member must not be null"
    );
    // Explicit null counts as missing.
    assert_eq!(
        constraint(&m, "CreateUserPool", json!({"PoolName": null})),
        constraint(&m, "CreateUserPool", json!({}))
    );
}

#[test]
fn too_long() {
    let m = model();
    let name = "p".repeat(129);
    assert_eq!(
        constraint(&m, "CreateUserPool", json!({"PoolName": name})),
        format!(
            "1 validation error detected: Value '{name}' at 'poolName' failed to satisfy \
             constraint: Member must have length less than or equal to 128"
        )
    );
    // Length counts characters, not bytes: 128 two-byte letters fit.
    let fits = json!({"UserPoolId": POOL, "Username": "é".repeat(128)});
    assert_eq!(m.validate_input("AdminGetUser", &fits), Ok(()));
    let too_long = json!({"UserPoolId": POOL, "Username": "é".repeat(129)});
    assert_eq!(
        constraint(&m, "AdminGetUser", too_long),
        "1 validation error detected: Value at 'username' failed to satisfy constraint: \
         Member must have length less than or equal to 128"
    );
    // And \w is ASCII-only, as in Java: a pool name may not contain é.
    assert!(constraint(&m, "CreateUserPool", json!({"PoolName": "café"})).contains("pattern"));
}

#[test]
fn bad_pattern() {
    let m = model();
    assert_eq!(
        constraint(&m, "ListUsers", json!({"UserPoolId": "YOUR_USER_POOL_ID!"})),
        "1 validation error detected: Value 'YOUR_USER_POOL_ID!' at 'userPoolId' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+"
    );
    assert_eq!(
        constraint(&m, "CreateUserPool", json!({"PoolName": "abc!"})),
        "1 validation error detected: Value 'abc!' at 'poolName' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
    );
}

#[test]
fn enum_violation() {
    let m = model();
    assert_eq!(
        constraint(
            &m,
            "InitiateAuth",
            json!({"AuthFlow": "NOPE", "ClientId": "abc"})
        ),
        "1 validation error detected: Value 'NOPE' at 'authFlow' failed to satisfy constraint: \
         Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, \
         CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]"
    );
}

#[test]
fn enum_in_list_is_reported_on_the_list() {
    let m = model();
    let msg = constraint(
        &m,
        "CreateUserPoolClient",
        json!({"UserPoolId": POOL, "ClientName": "app",
               "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH"]}),
    );
    assert!(
        msg.starts_with(
            "1 validation error detected: Value '[ALLOW_USER_SRP_AUTH, ADMIN_USER_PASSWORD_AUTH]' \
             at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy constraint: \
             [Member must satisfy enum value set: [ADMIN_NO_SRP_AUTH, "
        ),
        "{msg}"
    );
    assert!(msg.ends_with("]]"), "{msg}");
}

#[test]
fn range() {
    let m = model();
    assert_eq!(
        constraint(&m, "ListUsers", json!({"UserPoolId": POOL, "Limit": 61})),
        "1 validation error detected: Value '61' at 'limit' failed to satisfy constraint: \
         Member must have value less than or equal to 60"
    );
    assert_eq!(
        constraint(&m, "ListUsers", json!({"UserPoolId": POOL, "Limit": -1})),
        "1 validation error detected: Value '-1' at 'limit' failed to satisfy constraint: \
         Member must have value greater than or equal to 0"
    );
    assert_eq!(
        m.validate_input("ListUsers", &json!({"UserPoolId": POOL, "Limit": 60})),
        Ok(())
    );
}

#[test]
fn wrong_json_types_are_serialization_errors() {
    let m = model();
    let cases = [
        (
            "CreateUserPool",
            json!({"PoolName": 5}),
            "NUMBER_VALUE can not be converted to a String",
        ),
        (
            "CreateUserPool",
            json!({"PoolName": true}),
            "BOOLEAN_VALUE can not be converted to a String",
        ),
        (
            "CreateUserPool",
            json!({"PoolName": ["a"]}),
            "Start of list found where not expected",
        ),
        (
            "CreateUserPool",
            json!({"PoolName": {"a": 1}}),
            "Start of structure or map found where not expected.",
        ),
        (
            "ListUsers",
            json!({"UserPoolId": POOL, "Limit": "10"}),
            "STRING_VALUE can not be converted to an Integer",
        ),
        // Not an int: Java's Integer cannot hold it, and neither could serde's i64 hold 5.5.
        (
            "ListUsers",
            json!({"UserPoolId": POOL, "Limit": 5.5}),
            "NUMBER_VALUE can not be converted to an Integer",
        ),
        (
            "ListUsers",
            json!({"UserPoolId": POOL, "Limit": 3_000_000_000_i64}),
            "NUMBER_VALUE can not be converted to an Integer",
        ),
        (
            "AdminCreateUser",
            json!({"UserPoolId": POOL, "Username": "u", "UserAttributes": {"Name": "email"}}),
            "Start of structure or map found where not expected.",
        ),
        (
            "AdminCreateUser",
            json!({"UserPoolId": POOL, "Username": "u", "UserAttributes": [{"Name": 1}]}),
            "NUMBER_VALUE can not be converted to a String",
        ),
        (
            "AdminCreateUser",
            json!({"UserPoolId": POOL, "Username": "u", "ForceAliasCreation": "yes"}),
            "STRING_VALUE can not be converted to a Boolean",
        ),
        (
            "CreateUserPool",
            json!({"PoolName": "p", "Policies": "strict"}),
            "STRING_VALUE can not be converted to a Structure",
        ),
        (
            "CreateUserPool",
            json!({"PoolName": "p", "UserPoolTags": {"k": 1}}),
            "NUMBER_VALUE can not be converted to a String",
        ),
        (
            "CreateUserPool",
            json!({"PoolName": "p", "AutoVerifiedAttributes": ["email", 3]}),
            "NUMBER_VALUE can not be converted to a String",
        ),
        // The body itself.
        (
            "CreateUserPool",
            json!([]),
            "Start of list found where not expected",
        ),
        (
            "CreateUserPool",
            json!("x"),
            "STRING_VALUE can not be converted to a Structure",
        ),
    ];
    for (op, body, expected) in cases {
        assert_eq!(serialization(&m, op, body), expected);
    }
}

#[test]
fn serialization_error_wins_over_constraint_errors() {
    let m = model();
    // poolName is too long (constraint) and Limit-like type error elsewhere.
    let body = json!({"PoolName": "p".repeat(200), "Policies": {"PasswordPolicy": {"MinimumLength": "8"}}});
    assert_eq!(
        serialization(&m, "CreateUserPool", body),
        "STRING_VALUE can not be converted to an Integer"
    );
}

#[test]
fn nested_structure_path() {
    let m = model();
    let body = json!({"PoolName": "pool", "Policies": {"PasswordPolicy": {"MinimumLength": 5}}});
    assert_eq!(
        constraint(&m, "CreateUserPool", body),
        "1 validation error detected: Value '5' at 'policies.passwordPolicy.minimumLength' \
         failed to satisfy constraint: Member must have value greater than or equal to 6"
    );
}

#[test]
fn list_member_path() {
    let m = model();
    let long = "n".repeat(33);
    let body = json!({
        "UserPoolId": POOL,
        "Username": "alice",
        "UserAttributes": [{"Name": "email", "Value": "a@example.com"}, {"Value": "x"}, {"Name": long}],
    });
    assert_eq!(
        constraint(&m, "AdminCreateUser", body),
        format!(
            "2 validation errors detected: Value null at 'userAttributes.2.member.name' failed to \
             satisfy constraint: Member must not be null; Value '{long}' at \
             'userAttributes.3.member.name' failed to satisfy constraint: Member must have length \
             less than or equal to 32"
        )
    );
}

#[test]
fn sensitive_values_are_not_echoed() {
    let m = model();
    let body = json!({"UserPoolId": POOL, "Username": "alice", "Password": "x".repeat(257)});
    assert_eq!(
        constraint(&m, "AdminSetUserPassword", body),
        "1 validation error detected: Value at 'password' failed to satisfy constraint: \
         Member must have length less than or equal to 256"
    );
    // Username is sensitive too; a missing one is still `Value null`.
    assert_eq!(
        constraint(&m, "AdminGetUser", json!({"UserPoolId": POOL})),
        "1 validation error detected: Value null at 'username' failed to satisfy constraint: \
         Member must not be null"
    );
    // A value inside a sensitive structure is not echoed either.
    let body = json!({"ClientId": "abc", "AuthFlow": "USER_SRP_AUTH",
                      "UserContextData": {"EncodedData": 7}});
    assert_eq!(
        serialization(&m, "InitiateAuth", body),
        "NUMBER_VALUE can not be converted to a String"
    );
    // Sensitive attribute values: a length error on the list of attributes
    // must not print the list.
    let attrs: Vec<Value> = (0..26)
        .map(|i| json!({"Name": format!("custom:a{i}"), "AttributeDataType": "String"}))
        .collect();
    let msg = constraint(
        &m,
        "AddCustomAttributes",
        json!({"UserPoolId": POOL, "CustomAttributes": attrs}),
    );
    assert!(
        msg.contains("Value '[{"),
        "custom attribute schema is not sensitive: {msg}"
    );
    let attrs: Vec<Value> = (0..1)
        .map(|_| json!({"Name": "email", "Value": "v".repeat(2049)}))
        .collect();
    let msg = constraint(
        &m,
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": POOL, "Username": "u", "UserAttributes": attrs}),
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value at 'userAttributes.1.member.value' failed to satisfy \
         constraint: Member must have length less than or equal to 2048"
    );
}

#[test]
fn several_errors_have_a_count_prefix() {
    let m = model();
    assert_eq!(
        constraint(&m, "CreateUserPool", json!({"PoolName": ""})),
        "2 validation errors detected: Value '' at 'poolName' failed to satisfy constraint: \
         Member must have length greater than or equal to 1; Value '' at 'poolName' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
    );
    // Members in model order: UserPoolId comes before Username in AdminGetUser.
    let msg = constraint(&m, "AdminGetUser", json!({}));
    assert_eq!(
        msg,
        "2 validation errors detected: Value null at 'userPoolId' failed to satisfy constraint: \
         Member must not be null; Value null at 'username' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[test]
fn map_constraints() {
    let m = model();
    let long = "v".repeat(257);
    assert_eq!(
        constraint(
            &m,
            "CreateUserPool",
            json!({"PoolName": "p", "UserPoolTags": {"team": long}})
        ),
        format!(
            "1 validation error detected: Value '{{team={long}}}' at 'userPoolTags' failed to \
             satisfy constraint: Map value must satisfy constraint: [Member must have length less \
             than or equal to 256, Member must have length greater than or equal to 0]"
        )
    );
    assert_eq!(
        constraint(
            &m,
            "CreateUserPool",
            json!({"PoolName": "p", "UserPoolTags": {"": "x"}})
        ),
        "1 validation error detected: Value '{=x}' at 'userPoolTags' failed to satisfy \
         constraint: Map keys must satisfy constraint: [Member must have length less than or \
         equal to 128, Member must have length greater than or equal to 1]"
    );
}

#[test]
fn unknown_members_are_ignored() {
    let m = model();
    let body = json!({"PoolName": "pool", "BrandNewFeature": {"Nested": [1, 2]}, "X": null});
    assert_eq!(m.validate_input("CreateUserPool", &body), Ok(()));
    let body = json!({"UserPoolId": POOL, "Limit": 10, "Unknown": "x"});
    assert_eq!(m.validate_input("ListUsers", &body), Ok(()));
}

#[test]
fn unknown_operation() {
    let m = model();
    assert_eq!(
        m.validate_input("FlyToTheMoon", &json!({})),
        Err(ValidationError::UnknownOperation(
            "Unknown operation FlyToTheMoon".to_owned()
        ))
    );
    assert!(!m.has_operation("FlyToTheMoon"));
}

#[test]
fn error_codes_and_display() {
    let e = ValidationError::Constraint("1 validation error detected: x".to_owned());
    assert_eq!(e.aws_error_code(), "InvalidParameterException");
    assert_eq!(e.message(), "1 validation error detected: x");
    assert_eq!(
        ValidationError::Serialization(String::new()).aws_error_code(),
        "SerializationException"
    );
}

#[test]
fn model_member_order_is_kept() {
    let m = model();
    let id = m.operations["CreateUserPool"].input.unwrap();
    let Kind::Structure(members) = &m.shape(id).kind else {
        panic!("not a structure")
    };
    let names: Vec<&str> = members.iter().take(3).map(|mm| mm.name.as_str()).collect();
    assert_eq!(names, ["PoolName", "Policies", "DeletionProtection"]);
    assert_eq!(lower_first("SMSMessage"), "sMSMessage");
    assert_eq!(lower_first("message"), "message");
}

#[test]
fn blob_length_counts_decoded_bytes() {
    assert_eq!(base64_decoded_len(""), 0);
    assert_eq!(base64_decoded_len("QQ=="), 1);
    assert_eq!(base64_decoded_len("QUI="), 2);
    assert_eq!(base64_decoded_len("QUJD"), 3);
    assert_eq!(base64_decoded_len("QUJDRA"), 4);
}

#[test]
fn model_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Model>();
    assert_send_sync::<ValidationError>();
}

#[test]
fn domains_admit_prefixes_and_host_names() {
    let m = model();
    for domain in ["myapp", "auth.example.com", "a-1.b-2.example"] {
        let body = json!({"UserPoolId": POOL, "Domain": domain});
        assert!(
            m.validate_input("CreateUserPoolDomain", &body).is_ok(),
            "{domain}"
        );
    }
    for domain in [
        "-app",
        "app-",
        "a..b",
        "auth.example.com.",
        "Auth.example.com",
        "a_b",
    ] {
        let body = json!({"UserPoolId": POOL, "Domain": domain});
        assert!(
            constraint(&m, "CreateUserPoolDomain", body).contains("pattern"),
            "{domain}"
        );
    }
}

#[test]
fn class_patterns_agree_with_their_regex() {
    let model = model();
    let mut samples: Vec<String> = vec![
        String::new(),
        "abc".into(),
        "eyJraWQiOiJ4In0.eyJzdWIiOiIxIn0.c2ln-_=".into(),
        "caf\u{e9}".into(),
        "\u{1f600}".into(),
        "a b".into(),
        "line\nbreak".into(),
    ];
    for byte in 0u8..128 {
        let c = char::from(byte);
        samples.push(c.to_string());
        samples.push(format!("{c}{c}"));
        samples.push(format!("a{c}9"));
    }
    let mut with_table = 0;
    for shape in &model.shapes {
        let Some(p) = &shape.pattern else { continue };
        if p.ascii_class.is_none() {
            continue;
        }
        with_table += 1;
        for s in &samples {
            assert_eq!(
                p.is_match(s),
                p.regex.is_match(s),
                "pattern {} on {s:?}",
                p.java
            );
        }
    }
    // Tokens, codes, secrets and more are single classes; the table must be in use.
    assert!(with_table >= 10, "only {with_table} shapes use the table");
    let token = r#"{"AccessToken": "abc.def.ghi"}"#;
    assert!(
        model
            .validate_input("GetUser", &serde_json::from_str(token).unwrap())
            .is_ok()
    );
    assert!(
        model
            .validate_input("GetUser", &json!({"AccessToken": "abc def"}))
            .is_err()
    );
}

#[test]
fn no_string_may_contain_nul() {
    let m = model();
    // A member the model leaves unconstrained (PostgreSQL cannot store the value).
    let msg = constraint(
        &m,
        "ListUsers",
        json!({"UserPoolId": POOL, "Filter": "email = \"a\u{0}\""}),
    );
    assert!(
        msg.starts_with("1 validation error detected: ")
            && msg.ends_with("at 'filter' failed to satisfy constraint: Member must not contain the character U+0000"),
        "{msg}"
    );
    // In a map of strings (AuthParameters), keys and values alike.
    for params in [
        json!({"USERNAME": "a\u{0}b"}),
        json!({"USER\u{0}NAME": "a"}),
    ] {
        let msg = constraint(
            &m,
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "abc", "AuthParameters": params}),
        );
        assert!(msg.contains("U+0000"), "{msg}");
    }
    // In a list of strings, named once among the element's constraints.
    let msg = constraint(
        &m,
        "UntagResource",
        json!({"ResourceArn": "arn:aws:cognito-idp:us-east-1:1:userpool/x", "TagKeys": ["a\u{0}"]}),
    );
    assert!(msg.contains("U+0000"), "{msg}");
    // The rule stays out of the messages of other failures.
    let msg = constraint(
        &m,
        "UntagResource",
        json!({"ResourceArn": "arn:aws:cognito-idp:us-east-1:1:userpool/x", "TagKeys": [""]}),
    );
    assert!(!msg.contains("U+0000"), "{msg}");
    assert!(
        m.validate_input(
            "ListUsers",
            &json!({"UserPoolId": POOL, "Filter": "email = \"a\""})
        )
        .is_ok()
    );
}
