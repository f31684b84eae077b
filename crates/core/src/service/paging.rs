//! Pagination tokens: opaque to clients, the last sort key of the previous page inside.
//!
//! A token comes back from the client, so it is input like any other: it must decode to text
//! the store can compare with. PostgreSQL's `text` cannot hold NUL (a query with one fails), so
//! a NUL is refused here as an invalid token. The one place a NUL belongs is the separator of a
//! two-part cursor (`<column value>\0<username key>`, ListUsers under a prefix filter), read by
//! [`decode_pair`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

/// What every operation answers for a token it did not issue.
const INVALID: &str = "Invalid pagination token.";

pub fn encode(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key.as_bytes())
}

/// A one-part cursor: the last key of the previous page, without NUL.
pub fn decode(token: Option<&str>) -> Result<Option<String>, ApiError> {
    decode_with_separators(token, 0)
}

/// A cursor of at most two parts, `<value>\0<key>`: at most one NUL, the separator.
pub fn decode_pair(token: Option<&str>) -> Result<Option<String>, ApiError> {
    decode_with_separators(token, 1)
}

fn decode_with_separators(token: Option<&str>, nuls: usize) -> Result<Option<String>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| s.bytes().filter(|&b| b == 0).count() <= nuls)
        .map(Some)
        .ok_or_else(|| ApiError::invalid_parameter(INVALID))
}

/// Fetches `limit + 1` rows to know whether another page exists without a second query.
pub fn page<T>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        let next = rows.last().map(|r| encode(&key(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

/// Cognito treats a missing or zero limit as the maximum.
pub fn limit_or_max(limit: Option<i64>, max: u32) -> u32 {
    match limit {
        Some(l) if l > 0 => u32::try_from(l).unwrap_or(max).min(max),
        _ => max,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn round_trip_and_paging() {
        assert_eq!(
            decode(Some(&encode("us-east-1_x"))).unwrap().unwrap(),
            "us-east-1_x"
        );
        assert!(decode(Some("%%%")).is_err());
        let (rows, next) = page(vec![1, 2, 3], 2, |r| r.to_string());
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(decode(next.as_deref()).unwrap().unwrap(), "2");
        let (_, next) = page(vec![1, 2], 2, |r| r.to_string());
        assert!(next.is_none());
        assert_eq!(limit_or_max(None, 60), 60);
        assert_eq!(limit_or_max(Some(0), 60), 60);
        assert_eq!(limit_or_max(Some(5), 60), 5);
    }

    #[test]
    fn a_nul_is_an_invalid_token_except_as_the_one_separator_of_a_pair() {
        for bad in ["a\0b", "\0", "abc\0"] {
            let err = decode(Some(&encode(bad))).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidParameterException, "{bad:?}");
        }
        assert_eq!(
            decode_pair(Some(&encode("v\0user"))).unwrap().as_deref(),
            Some("v\0user")
        );
        assert_eq!(
            decode_pair(Some(&encode("user"))).unwrap().as_deref(),
            Some("user")
        );
        assert!(decode_pair(Some(&encode("v\0u\0x"))).is_err());
        assert!(decode_pair(Some(&encode("\0\0"))).is_err());
    }
}
