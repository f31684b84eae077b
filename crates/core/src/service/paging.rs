//! Pagination tokens: opaque to clients, the last sort key of the previous page inside.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

pub fn encode(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key.as_bytes())
}

pub fn decode(token: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(Some)
        .ok_or_else(|| ApiError::invalid_parameter("Invalid pagination token."))
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
}
