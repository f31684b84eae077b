//! Tests of the generated types: the operation table, and JSON round trips
//! through every struct with bodies built from the model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::validate::{Model, ValidationError};
use crate::*;

#[test]
fn operation_table() {
    // botocore 1.43.11 (the release the checked-in model was stripped from).
    assert_eq!(OPERATIONS.len(), 122);
    assert_eq!(
        OPERATIONS.iter().filter(|op| op.unauthenticated).count(),
        32
    );
    assert!(
        OPERATIONS.windows(2).all(|w| w[0].name < w[1].name),
        "sorted"
    );
    let auth = operation("InitiateAuth").unwrap();
    assert!(auth.unauthenticated);
    assert_eq!(auth.input, Some("InitiateAuthRequest"));
    assert_eq!(auth.output, Some("InitiateAuthResponse"));
    let create = operation("CreateUserPool").unwrap();
    assert!(!create.unauthenticated);
    assert_eq!(operation("AdminDeleteUser").unwrap().output, None);
    assert!(operation("Nope").is_none());
    assert_eq!(TARGET_PREFIX, "AWSCognitoIdentityProviderService");
    // Every named input/output has a generated struct.
    let structs: Vec<&str> = ROUND_TRIPS.iter().map(|(n, _)| *n).collect();
    for op in OPERATIONS {
        for shape in op.input.iter().chain(op.output.iter()) {
            assert!(structs.contains(shape), "{shape}");
        }
    }
}

#[test]
fn enum_values() {
    assert!(AUTH_FLOW_TYPE_VALUES.contains(&"USER_PASSWORD_AUTH"));
    assert_eq!(
        O_AUTH_FLOW_TYPE_VALUES,
        &["code", "implicit", "client_credentials"]
    );
}

#[test]
fn create_user_pool_round_trip() {
    let body = json!({
        "PoolName": "my pool",
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 8,
                "RequireUppercase": true,
                "RequireLowercase": true,
                "RequireNumbers": false,
                "RequireSymbols": false,
                "TemporaryPasswordValidityDays": 7
            }
        },
        "AutoVerifiedAttributes": ["email"],
        "UsernameAttributes": ["email"],
        "MfaConfiguration": "OFF",
        "Schema": [
            {"Name": "email", "AttributeDataType": "String", "Required": true, "Mutable": true},
            {
                "Name": "tenant",
                "AttributeDataType": "String",
                "Mutable": false,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"}
            }
        ],
        "UserPoolTags": {"env": "dev"}
    });
    let model = Model::load();
    assert_eq!(model.validate_input("CreateUserPool", &body), Ok(()));
    let req: CreateUserPoolRequest = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(req.pool_name, "my pool");
    let policy = req
        .policies
        .as_ref()
        .unwrap()
        .password_policy
        .as_ref()
        .unwrap();
    assert_eq!(policy.minimum_length, Some(8));
    assert_eq!(policy.require_uppercase, Some(true));
    let schema = req.schema.as_ref().unwrap();
    assert_eq!(schema.len(), 2);
    assert_eq!(schema[0].required, Some(true));
    assert_eq!(schema[1].developer_only_attribute, None);
    assert_eq!(
        schema[1]
            .string_attribute_constraints
            .as_ref()
            .unwrap()
            .max_length
            .as_deref(),
        Some("64")
    );
    assert_eq!(req.user_pool_tags.as_ref().unwrap()["env"], "dev");
    // Absent optionals stay absent on the way out.
    assert_eq!(serde_json::to_value(&req).unwrap(), body);
}

#[test]
fn admin_create_user_round_trip() {
    let body = json!({
        "UserPoolId": "us-east-1_AbC123",
        "Username": "alice",
        "UserAttributes": [
            {"Name": "email", "Value": "alice@example.com"},
            {"Name": "email_verified", "Value": "true"}
        ],
        "TemporaryPassword": "Temp#1234",
        "MessageAction": "SUPPRESS",
        "DesiredDeliveryMediums": ["EMAIL"],
        "ClientMetadata": {"source": "test"}
    });
    assert_eq!(
        Model::load().validate_input("AdminCreateUser", &body),
        Ok(())
    );
    let req: AdminCreateUserRequest = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(req.user_pool_id, "us-east-1_AbC123");
    let attrs = req.user_attributes.as_ref().unwrap();
    assert_eq!(attrs[0].name, "email");
    assert_eq!(attrs[0].value.as_deref(), Some("alice@example.com"));
    assert_eq!(serde_json::to_value(&req).unwrap(), body);
}

#[test]
fn list_users_round_trip_and_response() {
    let body = json!({
        "UserPoolId": "us-east-1_AbC123",
        "AttributesToGet": ["email", "sub"],
        "Limit": 10,
        "Filter": "email ^= \"alice\""
    });
    assert_eq!(Model::load().validate_input("ListUsers", &body), Ok(()));
    let req: ListUsersRequest = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(req.limit, Some(10));
    assert_eq!(serde_json::to_value(&req).unwrap(), body);

    // An output built in code: defaults for the rest, epoch-second floats.
    let resp = ListUsersResponse {
        users: Some(vec![UserType {
            username: Some("alice".to_owned()),
            attributes: Some(vec![AttributeType {
                name: "sub".to_owned(),
                value: Some("1234".to_owned()),
            }]),
            user_create_date: Some(epoch_seconds(1_700_000_000_123)),
            enabled: Some(true),
            user_status: Some("CONFIRMED".to_owned()),
            ..Default::default()
        }]),
        pagination_token: None,
    };
    assert_eq!(
        serde_json::to_value(&resp).unwrap(),
        json!({"Users": [{
            "Username": "alice",
            "Attributes": [{"Name": "sub", "Value": "1234"}],
            "UserCreateDate": 1_700_000_000.123,
            "Enabled": true,
            "UserStatus": "CONFIRMED"
        }]})
    );
}

#[test]
fn exceptions_keep_lowercase_wire_names() {
    let e = InvalidParameterException {
        message: Some("bad".to_owned()),
        reason_code: Some("x".to_owned()),
    };
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"message": "bad", "reasonCode": "x"})
    );
}

#[test]
fn required_members_default_on_output() {
    // Required output members are plain and always serialized.
    let resp = GetUserResponse {
        username: "bob".to_owned(),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&resp).unwrap(),
        json!({"Username": "bob", "UserAttributes": []})
    );
}

#[test]
fn epoch_seconds_keeps_milliseconds() {
    assert_eq!(epoch_seconds(1_500), 1.5);
    assert_eq!(epoch_seconds(-1), -0.001);
    assert_eq!(epoch_seconds(0), 0.0);
}

/// Builds a JSON value of the right type for every member of `shape`,
/// following the raw model; `depth` stops recursive shapes.
fn sample(shapes: &serde_json::Map<String, Value>, shape: &str, depth: usize) -> Value {
    let s = &shapes[shape];
    match s["type"].as_str().unwrap() {
        "string" => match s.get("enum") {
            Some(values) => values[0].clone(),
            None => json!("s"),
        },
        "blob" => json!("QUJD"),
        "integer" | "long" => json!(7),
        "boolean" => json!(true),
        "timestamp" | "float" | "double" => json!(1.5),
        "list" => json!([sample(
            shapes,
            s["member"]["shape"].as_str().unwrap(),
            depth + 1
        )]),
        "map" => json!({"k": sample(shapes, s["value"]["shape"].as_str().unwrap(), depth + 1)}),
        "structure" if s.get("document") == Some(&json!(true)) => json!({"doc": [1, "two"]}),
        "structure" => {
            let mut out = serde_json::Map::new();
            let required: Vec<&str> = s
                .get("required")
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            for (name, member) in s["members"].as_object().unwrap() {
                if depth > 8 && !required.contains(&name.as_str()) {
                    continue;
                }
                out.insert(
                    name.clone(),
                    sample(shapes, member["shape"].as_str().unwrap(), depth + 1),
                );
            }
            Value::Object(out)
        }
        other => panic!("{shape}: unexpected type {other}"),
    }
}

#[test]
fn every_struct_round_trips_model_shaped_json() {
    let raw: Value = serde_json::from_str(include_str!("../model/cognito-idp.json")).unwrap();
    let shapes = raw["shapes"].as_object().unwrap();
    let model = Model::load();
    let inputs: BTreeMap<&str, &str> = OPERATIONS
        .iter()
        .filter_map(|op| op.input.map(|i| (i, op.name)))
        .collect();
    assert_eq!(ROUND_TRIPS.len(), 373);
    for (name, round_trip) in ROUND_TRIPS {
        // Full body: every member present, so the output must equal the input
        // exactly (wire names, types, nothing dropped or added).
        let full = sample(shapes, name, 0);
        assert_eq!(round_trip(full.clone()).unwrap(), full, "{name}");
        // Empty body: everything defaults, so serde never rejects what the
        // validator would report as missing members.
        round_trip(json!({})).unwrap_or_else(|e| panic!("{name} from {{}}: {e}"));
        // The validator accepts the same JSON types serde does.
        if let Some(op) = inputs.get(name) {
            match model.validate_input(op, &full) {
                Ok(()) | Err(ValidationError::Constraint(_)) => {}
                Err(e) => panic!("{op}: {e}"),
            }
        }
    }
}
