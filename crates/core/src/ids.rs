//! Identifiers in Cognito's formats; clients parse some of them (the region prefix of a pool
//! id, for example), so the shapes matter.

use crate::rng::{ALNUM, LOWER_ALNUM, Rng, random_string};

/// `<region>_<9 alphanumerics>`, e.g. `us-east-1_h6I5IqQSs`.
pub fn user_pool_id(rng: &dyn Rng, region: &str) -> String {
    format!("{region}_{}", random_string(rng, ALNUM, 9))
}

/// 26 lowercase alphanumerics, as Cognito's app client ids.
pub fn client_id(rng: &dyn Rng) -> String {
    random_string(rng, LOWER_ALNUM, 26)
}

/// 51 lowercase alphanumerics (about 263 bits).
pub fn client_secret(rng: &dyn Rng) -> String {
    random_string(rng, LOWER_ALNUM, 51)
}

pub fn user_pool_arn(region: &str, account_id: &str, pool_id: &str) -> String {
    format!("arn:aws:cognito-idp:{region}:{account_id}:userpool/{pool_id}")
}

/// The pool id inside a user pool ARN, if the ARN is one.
pub fn pool_id_from_arn(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:cognito-idp:")?;
    let mut parts = rest.splitn(3, ':');
    let _region = parts.next()?;
    let _account = parts.next()?;
    parts.next()?.strip_prefix("userpool/")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    #[test]
    fn formats() {
        let rng = SeededRng::new(3);
        let id = user_pool_id(&rng, "us-east-1");
        let suffix = id.strip_prefix("us-east-1_").unwrap();
        assert_eq!(suffix.len(), 9);
        assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));
        let c = client_id(&rng);
        assert_eq!(c.len(), 26);
        assert!(
            c.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        let arn = user_pool_arn("eu-west-1", "123456789012", "eu-west-1_abc");
        assert_eq!(
            arn,
            "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"
        );
        assert_eq!(pool_id_from_arn(&arn), Some("eu-west-1_abc"));
        assert_eq!(pool_id_from_arn("arn:aws:s3:::bucket"), None);
    }
}
