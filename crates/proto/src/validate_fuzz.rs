//! Property-based fuzzing of the request validator (a child of `validate`, to walk the model's
//! resolved shapes). Bodies are grown from the model itself, each member drawn from a palette of
//! valid, boundary and hostile values by a tape of random choices that proptest shrinks, so the
//! cases stay close to what an operation accepts.
//!
//! Properties: no body panics; every refusal is a SerializationException or an
//! InvalidParameterException with a message; the answer is the same every time; and the
//! module's promise holds: a body it accepts deserializes into the operation's Rust type.
//! `PROPTEST_CASES=N cargo test -p portcullis-proto fuzz_` runs N cases (docs/fuzzing.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

use super::*;
use crate::generated::*;

fn config(ci: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci);
    Config {
        cases,
        ..Config::default()
    }
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(Model::load)
}

/// Whether `body` deserializes into the input type of `op` (None: not an operation the server
/// implements, so no type is listed here).
macro_rules! deserializes {
    ($op:expr, $body:expr, { $($name:ident => $ty:ty,)* }) => {
        match $op {
            $(stringify!($name) => Some(serde_json::from_value::<$ty>($body).map(|_| ()).map_err(|e| e.to_string())),)*
            _ => None,
        }
    };
}

fn deserializes(op: &str, body: Value) -> Option<Result<(), String>> {
    deserializes!(op, body, {
    CreateUserPool => CreateUserPoolRequest,
    DescribeUserPool => DescribeUserPoolRequest,
    UpdateUserPool => UpdateUserPoolRequest,
    DeleteUserPool => DeleteUserPoolRequest,
    ListUserPools => ListUserPoolsRequest,
    AddCustomAttributes => AddCustomAttributesRequest,
    CreateUserPoolClient => CreateUserPoolClientRequest,
    DescribeUserPoolClient => DescribeUserPoolClientRequest,
    UpdateUserPoolClient => UpdateUserPoolClientRequest,
    DeleteUserPoolClient => DeleteUserPoolClientRequest,
    ListUserPoolClients => ListUserPoolClientsRequest,
    AdminCreateUser => AdminCreateUserRequest,
    AdminGetUser => AdminGetUserRequest,
    AdminDeleteUser => AdminDeleteUserRequest,
    AdminUpdateUserAttributes => AdminUpdateUserAttributesRequest,
    AdminDeleteUserAttributes => AdminDeleteUserAttributesRequest,
    AdminDisableUser => AdminDisableUserRequest,
    AdminEnableUser => AdminEnableUserRequest,
    AdminSetUserPassword => AdminSetUserPasswordRequest,
    AdminResetUserPassword => AdminResetUserPasswordRequest,
    AdminConfirmSignUp => AdminConfirmSignUpRequest,
    ListUsers => ListUsersRequest,
    CreateGroup => CreateGroupRequest,
    GetGroup => GetGroupRequest,
    UpdateGroup => UpdateGroupRequest,
    DeleteGroup => DeleteGroupRequest,
    ListGroups => ListGroupsRequest,
    AdminAddUserToGroup => AdminAddUserToGroupRequest,
    AdminRemoveUserFromGroup => AdminRemoveUserFromGroupRequest,
    AdminListGroupsForUser => AdminListGroupsForUserRequest,
    ListUsersInGroup => ListUsersInGroupRequest,
    SignUp => SignUpRequest,
    ConfirmSignUp => ConfirmSignUpRequest,
    ResendConfirmationCode => ResendConfirmationCodeRequest,
    ForgotPassword => ForgotPasswordRequest,
    ConfirmForgotPassword => ConfirmForgotPasswordRequest,
    InitiateAuth => InitiateAuthRequest,
    AdminInitiateAuth => AdminInitiateAuthRequest,
    RespondToAuthChallenge => RespondToAuthChallengeRequest,
    AdminRespondToAuthChallenge => AdminRespondToAuthChallengeRequest,
    GetUser => GetUserRequest,
    UpdateUserAttributes => UpdateUserAttributesRequest,
    GetUserAttributeVerificationCode => GetUserAttributeVerificationCodeRequest,
    VerifyUserAttribute => VerifyUserAttributeRequest,
    DeleteUserAttributes => DeleteUserAttributesRequest,
    ChangePassword => ChangePasswordRequest,
    DeleteUser => DeleteUserRequest,
    GlobalSignOut => GlobalSignOutRequest,
    AdminUserGlobalSignOut => AdminUserGlobalSignOutRequest,
    RevokeToken => RevokeTokenRequest,
    GetTokensFromRefreshToken => GetTokensFromRefreshTokenRequest,
    CreateResourceServer => CreateResourceServerRequest,
    DescribeResourceServer => DescribeResourceServerRequest,
    UpdateResourceServer => UpdateResourceServerRequest,
    DeleteResourceServer => DeleteResourceServerRequest,
    ListResourceServers => ListResourceServersRequest,
    CreateUserPoolDomain => CreateUserPoolDomainRequest,
    DescribeUserPoolDomain => DescribeUserPoolDomainRequest,
    UpdateUserPoolDomain => UpdateUserPoolDomainRequest,
    DeleteUserPoolDomain => DeleteUserPoolDomainRequest,
    SetUICustomization => SetUICustomizationRequest,
    GetUICustomization => GetUICustomizationRequest,
    TagResource => TagResourceRequest,
    UntagResource => UntagResourceRequest,
    ListTagsForResource => ListTagsForResourceRequest,
    })
}

/// Random choices, read one at a time; an exhausted tape chooses 0 (the plainest value).
struct Tape<'a>(&'a [u8], usize);

impl Tape<'_> {
    fn next(&mut self) -> u8 {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b
    }
    fn pick<T: Clone>(&mut self, from: &[T]) -> T {
        from[usize::from(self.next()) % from.len()].clone()
    }
}

fn strings() -> Vec<String> {
    vec![
        "a".into(),
        "abc".into(),
        "us-east-1_AbC123".into(),
        "a@example.com".into(),
        "+12065550100".into(),
        "Passw0rd!".into(),
        "https://example.com/cb".into(),
        "code {####}".into(),
        "link {##click##}".into(),
        String::new(),
        " ".into(),
        "\u{0}".into(),
        "a\nb".into(),
        "caf\u{e9}".into(),
        "\u{1f600}".into(),
        "\u{202e}".into(),
        "x".repeat(129),
        "y".repeat(2049),
        "ALLOW_USER_SRP_AUTH".into(),
        "email".into(),
    ]
}

fn hostile() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(2_147_483_648_i64),
        json!(u64::MAX),
        json!(-1e300),
        json!(""),
        json!("\u{0}"),
        json!([]),
        json!({}),
        json!([[[[]]]]),
        json!({"a": {"b": {"c": []}}}),
    ]
}

fn grow(shape: ShapeId, tape: &mut Tape<'_>, depth: usize) -> Value {
    let model = model();
    let s = model.shape(shape);
    let roll = tape.next();
    if roll % 16 == 15 || depth > 8 {
        return tape.pick(&hostile());
    }
    match &s.kind {
        Kind::String => match &s.enum_values {
            Some(values) if roll % 4 != 3 => json!(tape.pick(values)),
            _ if roll % 4 != 3 => fitting(s, strings().into_iter().map(Value::from), tape)
                .unwrap_or_else(|| json!(tape.pick(&strings()))),
            _ => json!(tape.pick(&strings())),
        },
        Kind::Integer | Kind::Long => {
            let mut edges = vec![0, 1, -1, 60, 61, i64::from(i32::MAX), i64::from(i32::MIN)];
            edges.extend(s.min.into_iter().flat_map(|m| [m - 1, m]));
            edges.extend(s.max.into_iter().flat_map(|m| [m, m + 1]));
            if roll % 4 != 3 {
                fitting(s, edges.iter().map(|e| json!(e)), tape)
                    .unwrap_or_else(|| json!(tape.pick(&edges)))
            } else {
                json!(tape.pick(&edges))
            }
        }
        Kind::Boolean => json!(roll.is_multiple_of(2)),
        Kind::Timestamp | Kind::Float => json!(f64::from(roll) / 3.0),
        Kind::Blob => json!(tape.pick(&["YQ==", "", "!!", "YWJj"])),
        Kind::Document => tape.pick(&hostile()),
        Kind::Structure(members) => {
            let mut out = Map::new();
            for m in members {
                if m.required || tape.next().is_multiple_of(3) {
                    out.insert(m.name.clone(), grow(m.target.shape, tape, depth + 1));
                }
            }
            Value::Object(out)
        }
        Kind::List(element) => {
            let n = usize::from(tape.next() % 4);
            Value::Array(
                (0..n)
                    .map(|_| grow(element.shape, tape, depth + 1))
                    .collect(),
            )
        }
        Kind::Map { value, .. } => {
            let n = usize::from(tape.next() % 3);
            let mut out = Map::new();
            for _ in 0..n {
                let key = tape.pick(&strings());
                out.insert(key, grow(value.shape, tape, depth + 1));
            }
            Value::Object(out)
        }
    }
}

/// One of `candidates` that meets the shape's constraints, searched from a random start, so
/// that most grown bodies get past the validator and exercise the deserialization promise.
fn fitting(
    shape: &Shape,
    candidates: impl Iterator<Item = Value>,
    tape: &mut Tape<'_>,
) -> Option<Value> {
    let all: Vec<Value> = candidates.collect();
    let start = usize::from(tape.next());
    (0..all.len())
        .map(|i| &all[(start + i) % all.len()])
        .find(|v| type_check_ok(shape, v) && scalar_phrases(shape, v).is_empty())
        .cloned()
}

fn type_check_ok(shape: &Shape, v: &Value) -> bool {
    match shape.kind {
        Kind::Integer => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        _ => true,
    }
}

fn operations() -> Vec<(String, ShapeId)> {
    let mut ops: Vec<(String, ShapeId)> = model()
        .operations
        .iter()
        .filter_map(|(name, op)| op.input.map(|i| (name.clone(), i)))
        .collect();
    ops.sort();
    ops
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn fuzz_validator_bodies_grown_from_the_model(
        op in any::<prop::sample::Index>(),
        tape in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let ops = operations();
        let (name, input) = &ops[op.index(ops.len())];
        let body = grow(*input, &mut Tape(&tape, 0), 0);
        let first = model().validate_input(name, &body);
        prop_assert_eq!(&first, &model().validate_input(name, &body));
        match first {
            Ok(()) => {
                if std::env::var_os("FUZZ_STATS").is_some() {
                    eprintln!("accepted {name}");
                }
                if let Some(result) = deserializes(name, body.clone()) {
                    prop_assert!(result.is_ok(), "{name} accepted {body} but it does not deserialize: {result:?}");
                }
            }
            Err(ValidationError::Serialization(m) | ValidationError::Constraint(m)) => {
                prop_assert!(!m.is_empty());
            }
            Err(e) => prop_assert!(false, "{name}: {e:?}"),
        }
    }

    #[test]
    fn fuzz_validator_arbitrary_json(
        op in any::<prop::sample::Index>(),
        body in any_json(),
    ) {
        let ops = operations();
        let (name, _) = &ops[op.index(ops.len())];
        match model().validate_input(name, &body) {
            Ok(()) => {
                if let Some(result) = deserializes(name, body.clone()) {
                    prop_assert!(result.is_ok(), "{name} accepted {body}: {result:?}");
                }
            }
            Err(ValidationError::Serialization(m) | ValidationError::Constraint(m)) => {
                prop_assert!(!m.is_empty());
            }
            Err(e) => prop_assert!(false, "{name}: {e:?}"),
        }
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::from),
        "[A-Z][a-zA-Z]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "(UserPoolId|Username|ClientId|AuthFlow|AuthParameters|UserAttributes|Name|Value|Limit|Filter|MaxResults|Policies|Schema)",
                    any::<String>(),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
