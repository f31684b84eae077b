//! The one check every attribute write goes through, and the one filter every read by an app
//! client goes through.
//!
//! Cognito's rules, as its developer guide and API reference state them:
//! - an app client writes only the attributes in its `WriteAttributes` (the standard ones when
//!   unset: custom attributes must be granted), plus the pool's required attributes, which
//!   every client may write;
//! - developer-only (`dev:custom:*`) attributes are written only by IAM-authorized (admin)
//!   operations. The API reference calls them "read-only to all app clients", while tests
//!   against Cognito (2019) found them readable only through admin operations; we take the
//!   stricter reading and never show them to an app client (GetUser, challenge parameters,
//!   tokens), since they exist to hold what the user must not see or touch;
//! - an immutable (`Mutable: false`) attribute is set only when the user is created (SignUp,
//!   AdminCreateUser), never later, even when it was left unset;
//! - `email_verified` / `phone_number_verified` are never written by a user; only an admin or
//!   a redeemed verification code sets them;
//! - a changed email or phone number loses its verification, whoever changes it (an admin may
//!   vouch for the new value in the same call);
//! - a forbidden write is `NotAuthorizedException` "A client attempted to write unauthorized
//!   attribute", and nothing is written.
//!
//! How each path calls it:
//! - a user acting through an app client (SignUp, UpdateUserAttributes, the
//!   NEW_PASSWORD_REQUIRED answer, the hosted pages): `check_writes(pool, Writer::Client(..),
//!   stage, given)` then `apply(attrs, writes, Writer::Client(..))`;
//! - an admin operation (AdminCreateUser, AdminUpdateUserAttributes): the same with
//!   `Writer::Admin`;
//! - attributes mapped from a federated identity provider are written as
//!   `Writer::Client(<the app client signed in through>)`: Cognito requires a client's
//!   WriteAttributes to include every mapped attribute and fails the sign-in otherwise, with
//!   `Stage::Creating` on the first sign-in and `Stage::Existing` after (an immutable mapped
//!   attribute then fails as "user.email: Attribute cannot be updated.", as Cognito does);
//! - values a trigger returns (a pre-sign-up auto-verification, a migrated user's attributes)
//!   come from code the pool owner deployed and are written as `Writer::Admin`, with the stage
//!   of the operation that ran the trigger;
//! - after applying, every writer recomputes the user's keys and calls
//!   `users::check_not_shadowing` (and `users::check_alias_free` when an alias becomes
//!   verified) before storing;
//! - reads by an app client (GetUser, the challenge's `userAttributes`, ID tokens):
//!   [`readable`] / [`visible`].

use std::collections::BTreeMap;

use portcullis_proto::{AttributeType, SchemaAttributeType};

use crate::domain::{ClientRecord, PoolRecord};
use crate::error::{ApiError, ErrorCode};
use crate::service::schema;
use crate::service::users::PoolRules;

/// Who is writing.
#[derive(Clone, Copy)]
pub enum Writer<'a> {
    /// An IAM-authorized operation: may write developer-only attributes and the `*_verified`
    /// flags.
    Admin,
    /// A user through this app client.
    Client(&'a ClientRecord),
}

/// Whether the user is being created (immutable attributes may be set) or already exists.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Creating,
    Existing,
}

/// The attributes whose verification a changed value loses.
pub const CONTACT_ATTRIBUTES: [&str; 2] = ["email", "phone_number"];

pub fn unauthorized() -> ApiError {
    ApiError::new(
        ErrorCode::NotAuthorizedException,
        "A client attempted to write unauthorized attribute",
    )
}

fn pool_schema(pool: &PoolRecord) -> &[SchemaAttributeType] {
    pool.settings
        .schema_attributes
        .as_deref()
        .unwrap_or_default()
}

pub fn is_developer_only(def: &SchemaAttributeType) -> bool {
    def.developer_only_attribute == Some(true)
        || def.name.as_deref().is_some_and(|n| n.starts_with("dev:"))
}

fn is_verification_flag(name: &str) -> bool {
    name == "email_verified" || name == "phone_number_verified"
}

/// Whether an app client may write this attribute (schema known, permissions only).
fn client_may_write(client: &ClientRecord, def: &SchemaAttributeType, name: &str) -> bool {
    if is_developer_only(def) || is_verification_flag(name) || name == "sub" {
        return false;
    }
    // Required attributes are writable by every client (a user must be able to supply them).
    // Without a WriteAttributes list a client writes the standard attributes only (Cognito's
    // API reference, UserPoolClientType.WriteAttributes): custom ones must be granted.
    def.required == Some(true)
        || match &client.settings.write_attributes {
            None => schema::is_standard(name),
            Some(list) => list.iter().any(|w| w == name),
        }
}

/// Checks every write against the schema and the writer's permissions, and returns the
/// values to store (booleans in Cognito's lower-case form). Nothing is written here; an error
/// means none of `given` may be applied.
pub fn check_writes(
    pool: &PoolRecord,
    writer: Writer<'_>,
    stage: Stage,
    given: &[AttributeType],
) -> Result<Vec<(String, String)>, ApiError> {
    let schema_attrs = pool_schema(pool);
    let mut out = Vec::with_capacity(given.len());
    for a in given {
        let value = a.value.as_deref().unwrap_or_default();
        let Some(def) = schema::find(schema_attrs, &a.name) else {
            return Err(ApiError::invalid_parameter(format!(
                "Attributes did not conform to the schema: {}: Attribute does not exist in the schema.",
                a.name
            )));
        };
        if let Writer::Client(client) = writer
            && !client_may_write(client, def, &a.name)
        {
            return Err(unauthorized());
        }
        if a.name == "sub" {
            return Err(ApiError::invalid_parameter(
                "Cannot modify an immutable attribute: sub",
            ));
        }
        if stage == Stage::Existing && def.mutable == Some(false) {
            return Err(ApiError::invalid_parameter(format!(
                "user.{}: Attribute cannot be updated.",
                a.name
            )));
        }
        let stored = schema::check_value(def, value)?;
        out.push((a.name.clone(), stored));
    }
    Ok(out)
}

/// Checks that these attributes may be deleted by this writer: a deletion is a write, so the
/// same permissions hold, and required, immutable and sign-in attributes are never deleted.
pub fn check_deletes(
    pool: &PoolRecord,
    writer: Writer<'_>,
    rules: &PoolRules,
    names: &[String],
) -> Result<(), ApiError> {
    let schema_attrs = pool_schema(pool);
    for name in names {
        let Some(def) = schema::find(schema_attrs, name) else {
            return Err(ApiError::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."
            )));
        };
        if let Writer::Client(client) = writer
            && !client_may_write(client, def, name)
        {
            return Err(unauthorized());
        }
        if def.required == Some(true) || def.mutable == Some(false) {
            return Err(ApiError::invalid_parameter(format!(
                "Cannot delete the required or immutable attribute {name}."
            )));
        }
        if rules.signs_in_with(name) {
            return Err(ApiError::invalid_parameter(format!(
                "Cannot delete {name}: it is this pool's username attribute."
            )));
        }
    }
    Ok(())
}

/// Applies checked writes. A changed email or phone number loses its verification unless an
/// admin sets the flag in the same call. Returns the contact attributes whose value changed.
pub fn apply(
    attrs: &mut BTreeMap<String, String>,
    writes: Vec<(String, String)>,
    writer: Writer<'_>,
) -> Vec<String> {
    let vouched = |name: &str| {
        matches!(writer, Writer::Admin)
            && writes
                .iter()
                .any(|(n, _)| n.strip_suffix("_verified") == Some(name))
    };
    let mut changed_contacts = vec![];
    for (name, value) in &writes {
        let changed = attrs.get(name) != Some(value);
        if changed && CONTACT_ATTRIBUTES.contains(&name.as_str()) {
            changed_contacts.push(name.clone());
        }
    }
    for name in &changed_contacts {
        if !vouched(name) {
            attrs.insert(format!("{name}_verified"), "false".to_owned());
        }
    }
    for (name, value) in writes {
        attrs.insert(name, value);
    }
    changed_contacts
}

/// Whether an app client may see this attribute: never a developer-only one; otherwise the
/// client's `ReadAttributes` (all when unset). `sub` is always readable.
pub fn readable(pool: &PoolRecord, client: &ClientRecord, name: &str) -> bool {
    if name == "sub" {
        return true;
    }
    // Standard attributes are never developer-only; a `custom:` one is only in a pool created
    // before such attributes were named `dev:custom:`.
    if name.starts_with("dev:")
        || (name.starts_with("custom:")
            && schema::find(pool_schema(pool), name).is_some_and(is_developer_only))
    {
        return false;
    }
    client
        .settings
        .read_attributes
        .as_ref()
        .is_none_or(|r| r.iter().any(|n| n == name))
}

/// The attributes of `attrs` this client may see, in the map's order.
pub fn visible<'a>(
    pool: &'a PoolRecord,
    client: &'a ClientRecord,
    attrs: &'a BTreeMap<String, String>,
) -> impl Iterator<Item = (&'a String, &'a String)> + 'a {
    attrs
        .iter()
        .filter(move |(name, _)| readable(pool, client, name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use portcullis_proto::{UserPoolClientType, UserPoolType};

    fn pool() -> PoolRecord {
        let given = [
            SchemaAttributeType {
                name: Some("role".into()),
                attribute_data_type: Some("String".into()),
                developer_only_attribute: Some(true),
                ..Default::default()
            },
            SchemaAttributeType {
                name: Some("tenant".into()),
                attribute_data_type: Some("String".into()),
                mutable: Some(false),
                ..Default::default()
            },
        ];
        PoolRecord {
            id: "p".into(),
            name: "p".into(),
            created_ms: 0,
            modified_ms: 0,
            settings: UserPoolType {
                schema_attributes: Some(schema::build_schema(&given).unwrap()),
                ..Default::default()
            },
        }
    }

    fn client(write: Option<&[&str]>, read: Option<&[&str]>) -> ClientRecord {
        let list = |l: Option<&[&str]>| l.map(|l| l.iter().map(|s| (*s).to_owned()).collect());
        ClientRecord {
            id: "c".into(),
            pool_id: "p".into(),
            name: "c".into(),
            created_ms: 0,
            modified_ms: 0,
            secret_sealed: None,
            settings: UserPoolClientType {
                write_attributes: list(write),
                read_attributes: list(read),
                ..Default::default()
            },
        }
    }

    fn one(name: &str, value: &str) -> Vec<AttributeType> {
        vec![AttributeType {
            name: name.into(),
            value: Some(value.into()),
        }]
    }

    #[test]
    fn clients_cannot_write_developer_only_verification_flags_or_unlisted_attributes() {
        let p = pool();
        let open = client(None, None);
        let narrow = client(Some(&["name"]), None);
        for (c, name, value) in [
            (&open, "custom:tenant", "acme"),
            (&open, "dev:custom:role", "admin"),
            (&open, "email_verified", "true"),
            (&open, "phone_number_verified", "true"),
            (&narrow, "given_name", "x"),
        ] {
            let e = check_writes(&p, Writer::Client(c), Stage::Creating, &one(name, value))
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::NotAuthorizedException, "{name}");
            assert_eq!(
                e.message,
                "A client attempted to write unauthorized attribute"
            );
        }
        assert!(
            check_writes(
                &p,
                Writer::Client(&narrow),
                Stage::Existing,
                &one("name", "x")
            )
            .is_ok()
        );
        // Admins may.
        assert!(
            check_writes(
                &p,
                Writer::Admin,
                Stage::Existing,
                &one("dev:custom:role", "x")
            )
            .is_ok()
        );
        assert!(
            check_writes(
                &p,
                Writer::Admin,
                Stage::Existing,
                &one("email_verified", "True")
            )
            .is_ok()
        );
    }

    #[test]
    fn immutable_attributes_are_set_only_at_creation() {
        let p = pool();
        let c = client(Some(&["custom:tenant"]), None);
        let given = one("custom:tenant", "acme");
        assert!(check_writes(&p, Writer::Client(&c), Stage::Creating, &given).is_ok());
        for writer in [Writer::Client(&c), Writer::Admin] {
            let e = check_writes(&p, writer, Stage::Existing, &given).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameterException);
            assert_eq!(
                e.message,
                "user.custom:tenant: Attribute cannot be updated."
            );
        }
    }

    #[test]
    fn a_changed_contact_loses_its_verification_unless_an_admin_vouches() {
        let c = client(None, None);
        let mut attrs = BTreeMap::from([
            ("email".to_owned(), "a@example.com".to_owned()),
            ("email_verified".to_owned(), "true".to_owned()),
        ]);
        let same = vec![("email".to_owned(), "a@example.com".to_owned())];
        assert!(apply(&mut attrs, same, Writer::Client(&c)).is_empty());
        assert_eq!(attrs["email_verified"], "true");
        let new = vec![("email".to_owned(), "b@example.com".to_owned())];
        assert_eq!(apply(&mut attrs, new, Writer::Client(&c)), vec!["email"]);
        assert_eq!(attrs["email_verified"], "false");
        let vouched = vec![
            ("email".to_owned(), "c@example.com".to_owned()),
            ("email_verified".to_owned(), "true".to_owned()),
        ];
        apply(&mut attrs, vouched, Writer::Admin);
        assert_eq!(attrs["email_verified"], "true");
    }

    #[test]
    fn reads_follow_read_attributes_and_never_show_developer_only_ones() {
        let p = pool();
        let attrs = BTreeMap::from([
            ("sub".to_owned(), "s".to_owned()),
            ("name".to_owned(), "n".to_owned()),
            ("email".to_owned(), "e@example.com".to_owned()),
            ("dev:custom:role".to_owned(), "admin".to_owned()),
        ]);
        let all = client(None, None);
        let seen: Vec<_> = visible(&p, &all, &attrs).map(|(n, _)| n.as_str()).collect();
        assert_eq!(seen, ["email", "name", "sub"]);
        let narrow = client(None, Some(&["name", "dev:custom:role"]));
        let seen: Vec<_> = visible(&p, &narrow, &attrs)
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(seen, ["name", "sub"]);
    }
}
