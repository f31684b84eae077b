//! A pool's attribute schema: the standard OpenID attributes Cognito always has, plus the
//! custom ones the pool declares, and the rules attribute values must follow.

use std::collections::{BTreeMap, BTreeSet};

use portcullis_proto::{
    NumberAttributeConstraintsType, SchemaAttributeType, StringAttributeConstraintsType,
};

use crate::error::ApiError;

/// Standard attributes in the order Cognito lists them, with their types.
const STANDARD: &[(&str, &str)] = &[
    ("sub", "String"),
    ("name", "String"),
    ("given_name", "String"),
    ("family_name", "String"),
    ("middle_name", "String"),
    ("nickname", "String"),
    ("preferred_username", "String"),
    ("profile", "String"),
    ("picture", "String"),
    ("website", "String"),
    ("email", "String"),
    ("email_verified", "Boolean"),
    ("gender", "String"),
    ("birthdate", "String"),
    ("zoneinfo", "String"),
    ("locale", "String"),
    ("phone_number", "String"),
    ("phone_number_verified", "Boolean"),
    ("address", "String"),
    ("updated_at", "Number"),
    ("identities", "String"),
];

pub fn is_standard(name: &str) -> bool {
    STANDARD.iter().any(|(n, _)| *n == name)
}

fn string_limits(min: &str, max: &str) -> Option<StringAttributeConstraintsType> {
    Some(StringAttributeConstraintsType {
        min_length: Some(min.to_owned()),
        max_length: Some(max.to_owned()),
    })
}

fn standard_attribute(name: &str, data_type: &str) -> SchemaAttributeType {
    let mut attr = SchemaAttributeType {
        name: Some(name.to_owned()),
        attribute_data_type: Some(data_type.to_owned()),
        developer_only_attribute: Some(false),
        mutable: Some(true),
        required: Some(false),
        number_attribute_constraints: None,
        string_attribute_constraints: None,
    };
    match (name, data_type) {
        ("sub", _) => {
            attr.mutable = Some(false);
            attr.required = Some(true);
            attr.string_attribute_constraints = string_limits("1", "2048");
        }
        ("birthdate", _) => attr.string_attribute_constraints = string_limits("10", "10"),
        ("identities", _) => {}
        (_, "String") => attr.string_attribute_constraints = string_limits("0", "2048"),
        (_, "Number") => {
            attr.number_attribute_constraints = Some(NumberAttributeConstraintsType {
                min_value: Some("0".to_owned()),
                max_value: None,
            })
        }
        _ => {}
    }
    attr
}

const MAX_CUSTOM_ATTRIBUTES: usize = 50;

/// Builds the full schema of a new pool from the `Schema` given to CreateUserPool.
pub fn build_schema(given: &[SchemaAttributeType]) -> Result<Vec<SchemaAttributeType>, ApiError> {
    let mut schema: Vec<SchemaAttributeType> = STANDARD
        .iter()
        .map(|(n, t)| standard_attribute(n, t))
        .collect();
    let mut seen = BTreeSet::new();
    for attr in given {
        let name = attr.name.clone().unwrap_or_default();
        if !seen.insert(name.clone()) {
            return Err(ApiError::invalid_parameter(format!(
                "Duplicate attribute name in schema: {name}"
            )));
        }
        if let Some(existing) = schema
            .iter_mut()
            .find(|s| s.name.as_deref() == Some(name.as_str()))
        {
            apply_standard_override(existing, attr)?;
        } else {
            let custom = custom_attribute(attr)?;
            let short = custom.name.as_deref().and_then(short_name);
            if schema
                .iter()
                .any(|s| s.name.as_deref().and_then(short_name) == short)
            {
                return Err(ApiError::invalid_parameter(format!(
                    "Duplicate attribute name in schema: {name}"
                )));
            }
            schema.push(custom);
        }
    }
    check_custom_count(&schema)?;
    Ok(schema)
}

/// Standard attributes may be made required or immutable, and their limits narrowed; their
/// type never changes and they are never developer-only.
fn apply_standard_override(
    existing: &mut SchemaAttributeType,
    given: &SchemaAttributeType,
) -> Result<(), ApiError> {
    let name = existing.name.clone().unwrap_or_default();
    let retyped = given
        .attribute_data_type
        .as_ref()
        .is_some_and(|t| Some(t) != existing.attribute_data_type.as_ref());
    if retyped || given.developer_only_attribute == Some(true) {
        return Err(ApiError::invalid_parameter(format!(
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {name}"
        )));
    }
    if name == "sub" {
        return Err(ApiError::invalid_parameter(
            "The sub attribute cannot be modified.",
        ));
    }
    if let Some(r) = given.required {
        existing.required = Some(r);
    }
    if let Some(m) = given.mutable {
        existing.mutable = Some(m);
    }
    if given.string_attribute_constraints.is_some() {
        existing.string_attribute_constraints = given.string_attribute_constraints.clone();
    }
    if given.number_attribute_constraints.is_some() {
        existing.number_attribute_constraints = given.number_attribute_constraints.clone();
    }
    check_constraints(existing)
}

const DATA_TYPES: [&str; 4] = ["String", "Number", "DateTime", "Boolean"];

/// The name a declared attribute gets: `custom:<name>`, or `dev:custom:<name>` when it is
/// developer-only (Cognito's SchemaAttributeType.Name). Either prefix may be given.
fn custom_name(raw: &str, developer_only: bool) -> (String, String) {
    let short = raw.strip_prefix("dev:").unwrap_or(raw);
    let short = short.strip_prefix("custom:").unwrap_or(short).to_owned();
    let full = if developer_only {
        format!("dev:custom:{short}")
    } else {
        format!("custom:{short}")
    };
    (short, full)
}

/// The short name of a custom attribute (`tier` for `custom:tier` and `dev:custom:tier`).
fn short_name(full: &str) -> Option<&str> {
    full.strip_prefix("dev:")
        .unwrap_or(full)
        .strip_prefix("custom:")
}

fn custom_attribute(given: &SchemaAttributeType) -> Result<SchemaAttributeType, ApiError> {
    let raw = given.name.clone().unwrap_or_default();
    let developer_only = given.developer_only_attribute == Some(true) || raw.starts_with("dev:");
    let (short, full) = custom_name(&raw, developer_only);
    if short.is_empty() || short.chars().count() > 20 {
        return Err(ApiError::invalid_parameter(
            "Custom attribute names must be between 1 and 20 characters.",
        ));
    }
    if given.required == Some(true) {
        return Err(ApiError::invalid_parameter(
            "Required custom attributes are not supported currently.",
        ));
    }
    let data_type = given
        .attribute_data_type
        .clone()
        .filter(|t| DATA_TYPES.contains(&t.as_str()))
        .ok_or_else(|| {
            ApiError::invalid_parameter(
                "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
            )
        })?;
    let attr = SchemaAttributeType {
        name: Some(full),
        attribute_data_type: Some(data_type.clone()),
        developer_only_attribute: Some(developer_only),
        mutable: Some(given.mutable.unwrap_or(true)),
        required: Some(false),
        string_attribute_constraints: if data_type == "String" {
            given.string_attribute_constraints.clone()
        } else {
            None
        },
        number_attribute_constraints: if data_type == "Number" {
            given.number_attribute_constraints.clone()
        } else {
            None
        },
    };
    check_constraints(&attr)?;
    Ok(attr)
}

fn parse_limit(value: &Option<String>, what: &str, name: &str) -> Result<Option<i64>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            ApiError::invalid_parameter(format!("{what} of attribute {name} must be a number."))
        }),
    }
}

fn check_constraints(attr: &SchemaAttributeType) -> Result<(), ApiError> {
    let name = attr.name.as_deref().unwrap_or_default();
    if let Some(c) = &attr.string_attribute_constraints {
        let min = parse_limit(&c.min_length, "MinLength", name)?;
        let max = parse_limit(&c.max_length, "MaxLength", name)?;
        if min.is_some_and(|m| !(0..=2048).contains(&m))
            || max.is_some_and(|m| !(0..=2048).contains(&m))
            || matches!((min, max), (Some(a), Some(b)) if a > b)
        {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid string length constraints for attribute {name}: lengths must be within 0..2048 and MinLength no greater than MaxLength."
            )));
        }
    }
    if let Some(c) = &attr.number_attribute_constraints {
        let min = parse_limit(&c.min_value, "MinValue", name)?;
        let max = parse_limit(&c.max_value, "MaxValue", name)?;
        if matches!((min, max), (Some(a), Some(b)) if a > b) {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid number constraints for attribute {name}: MinValue is greater than MaxValue."
            )));
        }
    }
    Ok(())
}

fn check_custom_count(schema: &[SchemaAttributeType]) -> Result<(), ApiError> {
    let customs = schema
        .iter()
        .filter(|a| a.name.as_deref().and_then(short_name).is_some())
        .count();
    if customs > MAX_CUSTOM_ATTRIBUTES {
        return Err(ApiError::invalid_parameter(format!(
            "A user pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes."
        )));
    }
    Ok(())
}

/// AddCustomAttributes: only adds; an existing name is an error and nothing changes.
pub fn add_custom(
    schema: &[SchemaAttributeType],
    given: &[SchemaAttributeType],
) -> Result<Vec<SchemaAttributeType>, ApiError> {
    let mut out = schema.to_vec();
    for attr in given {
        let custom = custom_attribute(attr)?;
        let short = custom
            .name
            .as_deref()
            .and_then(short_name)
            .unwrap_or_default();
        // One short name is one attribute, developer-only or not.
        if let Some(existing) = out
            .iter()
            .filter_map(|a| a.name.as_deref())
            .find(|n| short_name(n) == Some(short))
        {
            return Err(ApiError::invalid_parameter(format!(
                "Existing attribute already has name {existing}."
            )));
        }
        out.push(custom);
    }
    check_custom_count(&out)?;
    Ok(out)
}

pub fn find<'a>(schema: &'a [SchemaAttributeType], name: &str) -> Option<&'a SchemaAttributeType> {
    schema.iter().find(|a| a.name.as_deref() == Some(name))
}

/// Checks a value against its attribute's type and limits, and returns it as stored (booleans
/// in lower case: Cognito accepts `True`). Refusals are InvalidParameterException in Cognito's
/// words where known: bare for email and phone formats, after "Attributes did not conform to
/// the schema: " otherwise.
pub fn check_value(attr: &SchemaAttributeType, value: &str) -> Result<String, ApiError> {
    let name = attr.name.as_deref().unwrap_or_default();
    let bad = |why: String| {
        ApiError::invalid_parameter(format!("Attributes did not conform to the schema: {why}"))
    };
    match attr.attribute_data_type.as_deref() {
        Some("Boolean") => {
            return match value.to_ascii_lowercase().as_str() {
                v @ ("true" | "false") => Ok(v.to_owned()),
                _ => Err(bad(format!(
                    "{name}: Attribute value must be true or false."
                ))),
            };
        }
        Some("Number") => {
            let n: f64 = value
                .parse()
                .map_err(|_| bad(format!("{name}: Number expected.")))?;
            if let Some(c) = &attr.number_attribute_constraints {
                let parse = |v: &Option<String>| v.as_deref().and_then(|s| s.parse::<f64>().ok());
                if parse(&c.min_value).is_some_and(|m| n < m) {
                    return Err(bad(format!("{name}: Number is below the minimum value.")));
                }
                if parse(&c.max_value).is_some_and(|m| n > m) {
                    return Err(bad(format!("{name}: Number exceeds the maximum value.")));
                }
            }
        }
        Some("DateTime") => {}
        _ => {
            let len = value.chars().count() as i64;
            if let Some(c) = &attr.string_attribute_constraints {
                let parse = |v: &Option<String>| v.as_deref().and_then(|s| s.parse::<i64>().ok());
                if parse(&c.min_length).is_some_and(|m| len < m) {
                    return Err(bad(format!("{name}: String is too short.")));
                }
                if parse(&c.max_length).is_some_and(|m| len > m) {
                    return Err(bad(format!(
                        "{name}: String must be no longer than {} characters.",
                        c.max_length.as_deref().unwrap_or_default()
                    )));
                }
            }
        }
    }
    match name {
        "email" if !is_email(value) => {
            Err(ApiError::invalid_parameter("Invalid email address format."))
        }
        "phone_number" if !is_phone(value) => {
            Err(ApiError::invalid_parameter("Invalid phone number format."))
        }
        _ => Ok(value.to_owned()),
    }
}

pub fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !v.chars().any(char::is_whitespace)
}

/// E.164: a plus sign and up to fifteen digits.
pub fn is_phone(v: &str) -> bool {
    v.strip_prefix('+')
        .is_some_and(|d| (4..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

/// Names of the required attributes a user lacks.
pub fn missing_required(
    schema: &[SchemaAttributeType],
    attrs: &BTreeMap<String, String>,
) -> Vec<String> {
    schema
        .iter()
        .filter(|a| a.required == Some(true))
        .filter_map(|a| a.name.clone())
        .filter(|n| n != "sub" && !attrs.contains_key(n))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn attr(name: &str, t: &str) -> SchemaAttributeType {
        SchemaAttributeType {
            name: Some(name.into()),
            attribute_data_type: Some(t.into()),
            ..Default::default()
        }
    }

    #[test]
    fn custom_attributes_get_their_prefix_and_standard_ones_can_be_required() {
        let mut email = attr("email", "String");
        email.required = Some(true);
        let s = build_schema(&[attr("tier", "Number"), email]).unwrap();
        assert!(find(&s, "custom:tier").is_some());
        assert_eq!(find(&s, "email").unwrap().required, Some(true));
        assert_eq!(find(&s, "sub").unwrap().mutable, Some(false));
        let missing = missing_required(&s, &BTreeMap::new());
        assert_eq!(missing, vec!["email".to_owned()]);
    }

    #[test]
    fn rejects_required_custom_and_duplicates() {
        let mut c = attr("x", "String");
        c.required = Some(true);
        assert!(build_schema(&[c]).is_err());
        assert!(build_schema(&[attr("x", "String"), attr("x", "String")]).is_err());
        let s = build_schema(&[attr("x", "String")]).unwrap();
        assert!(add_custom(&s, &[attr("x", "String")]).is_err());
        assert_eq!(
            add_custom(&s, &[attr("y", "Number")]).unwrap().len(),
            s.len() + 1
        );
    }

    #[test]
    fn developer_only_attributes_are_named_dev_custom() {
        let mut dev = attr("role", "String");
        dev.developer_only_attribute = Some(true);
        let s = build_schema(&[dev.clone()]).unwrap();
        let role = find(&s, "dev:custom:role").unwrap();
        assert_eq!(role.developer_only_attribute, Some(true));
        assert!(find(&s, "custom:role").is_none());
        let e = add_custom(&s, &[dev]).unwrap_err();
        assert_eq!(
            e.message,
            "Existing attribute already has name dev:custom:role."
        );
        let e = add_custom(&s, &[attr("role", "String")]).unwrap_err();
        assert_eq!(
            e.message,
            "Existing attribute already has name dev:custom:role."
        );
    }

    #[test]
    fn standard_attributes_keep_their_type_and_are_never_developer_only() {
        let mut dev_email = attr("email", "String");
        dev_email.developer_only_attribute = Some(true);
        for given in [dev_email, attr("email", "Number")] {
            assert_eq!(
                build_schema(&[given]).unwrap_err().message,
                "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email"
            );
        }
    }

    #[test]
    fn custom_attributes_need_a_known_data_type() {
        let untyped = SchemaAttributeType {
            name: Some("x".into()),
            ..Default::default()
        };
        for given in [untyped, attr("x", "Text")] {
            assert_eq!(
                build_schema(&[given]).unwrap_err().message,
                "Invalid AttributeDataType input, consider using the provided AttributeDataType enum."
            );
        }
    }

    #[test]
    fn checks_values() {
        let mut n = attr("custom:n", "Number");
        n.number_attribute_constraints = Some(NumberAttributeConstraintsType {
            min_value: Some("1".into()),
            max_value: Some("10".into()),
        });
        assert!(check_value(&n, "5").is_ok());
        assert!(check_value(&n, "11").is_err());
        assert!(check_value(&n, "abc").is_err());
        let s = build_schema(&[]).unwrap();
        assert!(check_value(find(&s, "email").unwrap(), "a@b.c").is_ok());
        assert!(check_value(find(&s, "email").unwrap(), "nope").is_err());
        assert!(check_value(find(&s, "phone_number").unwrap(), "+12065550100").is_ok());
        assert!(check_value(find(&s, "phone_number").unwrap(), "555").is_err());
        assert!(check_value(find(&s, "email_verified").unwrap(), "yes").is_err());
        assert_eq!(
            check_value(find(&s, "email_verified").unwrap(), "True").unwrap(),
            "true"
        );
        assert_eq!(
            check_value(find(&s, "email").unwrap(), "nope")
                .unwrap_err()
                .message,
            "Invalid email address format."
        );
        assert_eq!(
            check_value(find(&s, "phone_number").unwrap(), "555")
                .unwrap_err()
                .message,
            "Invalid phone number format."
        );
    }
}
