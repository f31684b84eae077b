//! The ListUsers filter language: `<attribute> <op> "<value>"`, op `=` or `^=`.

use crate::domain::{FilterField, UserFilter};
use crate::error::ApiError;

fn field(name: &str) -> Option<FilterField> {
    Some(match name {
        "username" => FilterField::Username,
        "email" => FilterField::Email,
        "phone_number" => FilterField::PhoneNumber,
        "name" => FilterField::Name,
        "given_name" => FilterField::GivenName,
        "family_name" => FilterField::FamilyName,
        "preferred_username" => FilterField::PreferredUsername,
        "sub" => FilterField::Sub,
        "cognito:user_status" => FilterField::UserStatus,
        "status" => FilterField::Enabled,
        _ => return None,
    })
}

fn parse_error() -> ApiError {
    ApiError::invalid_parameter("Error while parsing filter.")
}

/// `None` for an empty filter (every user).
pub fn parse(filter: Option<&str>) -> Result<Option<UserFilter>, ApiError> {
    let text = filter.unwrap_or_default().trim();
    if text.is_empty() {
        return Ok(None);
    }
    let name_end = text
        .find(|c: char| c.is_whitespace() || c == '=' || c == '^')
        .ok_or_else(parse_error)?;
    let (name, rest) = text.split_at(name_end);
    let rest = rest.trim_start();
    let (prefix, rest) = if let Some(r) = rest.strip_prefix("^=") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (false, r)
    } else {
        return Err(parse_error());
    };
    let rest = rest.trim();
    let body = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(parse_error)?;
    let mut value = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next().ok_or_else(parse_error)?),
            // An unescaped quote inside the value means two values or garbage after one.
            '"' => return Err(parse_error()),
            c => value.push(c),
        }
    }
    let field = field(name)
        .ok_or_else(|| ApiError::invalid_parameter(format!("Invalid search attribute: {name}")))?;
    Ok(Some(UserFilter {
        field,
        prefix,
        value,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        let f = parse(Some("email ^= \"ann\"")).unwrap().unwrap();
        assert_eq!(
            (f.field, f.prefix, f.value.as_str()),
            (FilterField::Email, true, "ann")
        );
        let f = parse(Some("email=\"a@b.c\"")).unwrap().unwrap();
        assert_eq!((f.field, f.prefix), (FilterField::Email, false));
        let f = parse(Some("cognito:user_status = \"CONFIRMED\""))
            .unwrap()
            .unwrap();
        assert_eq!(f.field, FilterField::UserStatus);
        let f = parse(Some(r#"name = "say \"hi\"""#)).unwrap().unwrap();
        assert_eq!(f.value, "say \"hi\"");
        assert!(parse(Some("")).unwrap().is_none());
        assert!(parse(None).unwrap().is_none());
        for bad in [
            "email",
            "email = ann",
            "email ~ \"x\"",
            "email = \"a\" \"b\"",
            "= \"x\"",
        ] {
            assert!(parse(Some(bad)).is_err(), "{bad}");
        }
        let e = parse(Some("custom:tier = \"1\"")).unwrap_err();
        assert!(e.message.contains("custom:tier"));
    }
}
