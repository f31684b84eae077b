//! Request-rate limits on what an anonymous caller can reach, per source address and per app
//! client.
//!
//! Cognito meters its API in quota categories (UserAuthentication, UserCreation,
//! UserAccountRecovery, ...) and answers a caller over the rate with
//! `TooManyRequestsException` "Rate exceeded". The same categories are used here, with two
//! buckets per request:
//! - the caller's address (an IPv6 caller by its /64, which one host usually owns whole), so
//!   one abusive source cannot take a category's capacity from everyone else;
//! - the app client the JSON API request names (`ClientId`), so many sources together cannot
//!   take one user pool's capacity: a client belongs to one pool, and only an administrator
//!   can make more of them.
//!
//! IAM-authenticated (admin) operations are not limited: their caller holds the root
//! credentials.
//!
//! The buckets live in this process's memory (`governor`'s GCRA), so each node counts alone: a
//! node behind a load balancer lets a source through at up to N times the rate over N nodes.
//! That is acceptable for a throttle (it is a bound on load, not a security decision), and a
//! counter in the database would cost a write per request. The limits that must hold across
//! nodes (code attempts and issuance, lockout) are kept in the store.
//!
//! Behind a reverse proxy every request comes from the proxy's address, so the limits then
//! apply to all callers together: raise them or turn them off there.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota};

/// Cognito's quota categories for the operations an anonymous caller can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    UserAuthentication,
    UserCreation,
    UserAccountRecovery,
    UserRead,
    UserUpdate,
    UserToken,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::UserAuthentication,
        Category::UserCreation,
        Category::UserAccountRecovery,
        Category::UserRead,
        Category::UserUpdate,
        Category::UserToken,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::UserAuthentication => "UserAuthentication",
            Category::UserCreation => "UserCreation",
            Category::UserAccountRecovery => "UserAccountRecovery",
            Category::UserRead => "UserRead",
            Category::UserUpdate => "UserUpdate",
            Category::UserToken => "UserToken",
        }
    }

    fn from_name(name: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// Requests per second from one source (or for one app client) before it is throttled.
    /// Ceilings against floods rather than Cognito's per-account quotas: far above what one
    /// client needs, above what `bench/run` sends from its one address to its one app client
    /// (on one core: about 2,000 refreshes, 23,000 GetUser and 4,000 token grants a second)
    /// with room for a host several times faster, and above what one node serves when a
    /// reverse proxy makes all callers one address. An operator who wants Cognito's own
    /// figures sets them (`--rate-limits`).
    pub fn default_per_second(self) -> u32 {
        match self {
            Category::UserAuthentication => 20_000,
            Category::UserCreation => 2_000,
            Category::UserAccountRecovery => 2_000,
            Category::UserRead => 200_000,
            Category::UserUpdate => 10_000,
            Category::UserToken => 50_000,
        }
    }

    /// The category of a JSON API operation an anonymous caller may call; `None` for the
    /// IAM-authenticated ones and unknown names.
    pub fn of_operation(op: &str) -> Option<Category> {
        Some(match op {
            "InitiateAuth" | "RespondToAuthChallenge" => Category::UserAuthentication,
            "SignUp" | "ConfirmSignUp" => Category::UserCreation,
            "ForgotPassword"
            | "ConfirmForgotPassword"
            | "ResendConfirmationCode"
            | "ChangePassword" => Category::UserAccountRecovery,
            "GetUser"
            | "GetDevice"
            | "ListDevices"
            | "GetUserAuthFactors"
            | "ListWebAuthnCredentials" => Category::UserRead,
            "UpdateUserAttributes"
            | "DeleteUserAttributes"
            | "DeleteUser"
            | "VerifyUserAttribute"
            | "GetUserAttributeVerificationCode"
            | "GlobalSignOut"
            | "SetUserMFAPreference"
            | "SetUserSettings"
            | "AssociateSoftwareToken"
            | "VerifySoftwareToken"
            | "ConfirmDevice"
            | "ForgetDevice"
            | "UpdateDeviceStatus"
            | "UpdateAuthEventFeedback"
            | "StartWebAuthnRegistration"
            | "CompleteWebAuthnRegistration"
            | "DeleteWebAuthnCredential" => Category::UserUpdate,
            "GetTokensFromRefreshToken" | "RevokeToken" => Category::UserToken,
            _ => return None,
        })
    }

    /// The category of a hosted page or OAuth endpoint; `None` for static and discovery paths.
    pub fn of_path(path: &str) -> Option<Category> {
        Some(match path {
            "/login" | "/oauth2/authorize" => Category::UserAuthentication,
            "/signup" | "/confirm" => Category::UserCreation,
            "/forgotPassword" | "/confirmForgotPassword" => Category::UserAccountRecovery,
            "/oauth2/userInfo" => Category::UserRead,
            "/oauth2/token" | "/oauth2/revoke" => Category::UserToken,
            _ => return None,
        })
    }
}

/// One category's limit: `count` requests per `period`, as a burst that refills evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

impl Rate {
    pub fn per_second(count: u32) -> Rate {
        Rate {
            count,
            period: Duration::from_secs(1),
        }
    }

    fn quota(self) -> Option<Quota> {
        let count = NonZeroU32::new(self.count)?;
        let each = self.period.checked_div(count.get())?;
        Quota::with_period(each).map(|q| q.allow_burst(count))
    }
}

/// The limit of each category: `None` turns a category's limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings(pub BTreeMap<Category, Option<Rate>>);

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self(
            Category::ALL
                .into_iter()
                .map(|c| (c, Some(Rate::per_second(c.default_per_second()))))
                .collect(),
        )
    }
}

impl RateLimitSettings {
    /// Every category off.
    pub fn off() -> Self {
        Self(Category::ALL.into_iter().map(|c| (c, None)).collect())
    }

    /// Applies `Category=N/s,Category=N/min,Category=off,...` over the defaults.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut settings = Self::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected Category=N/s, N/min or off"))?;
            let name = name.trim();
            let category = Category::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "unknown rate-limit category {name:?} (known: {})",
                    known.join(", ")
                )
            })?;
            let value = value.trim();
            let rate = if value.eq_ignore_ascii_case("off") {
                None
            } else {
                let (count, unit) = value
                    .split_once('/')
                    .ok_or_else(|| format!("{item:?}: expected N/s, N/min or off"))?;
                let count: u32 = count
                    .trim()
                    .parse()
                    .map_err(|_| format!("{item:?}: {count:?} is not a count"))?;
                let period = match unit.trim() {
                    "s" | "sec" | "second" => Duration::from_secs(1),
                    "min" | "minute" => Duration::from_secs(60),
                    "h" | "hour" => Duration::from_secs(3600),
                    other => return Err(format!("{item:?}: unknown unit {other:?}")),
                };
                if count == 0 {
                    return Err(format!("{item:?}: use `off` rather than 0"));
                }
                Some(Rate { count, period })
            };
            settings.0.insert(category, rate);
        }
        Ok(settings)
    }
}

/// How many checks pass between two sweeps of idle buckets.
const SWEEP_EVERY: u32 = 1 << 14;

/// The buckets of one kind of key, for every limited category.
struct Buckets<K: std::hash::Hash + Eq + Clone> {
    limiters: BTreeMap<Category, DefaultKeyedRateLimiter<K>>,
    checks: AtomicU32,
}

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    fn new(settings: &RateLimitSettings) -> Self {
        let limiters = settings
            .0
            .iter()
            .filter_map(|(c, rate)| {
                let quota = rate.and_then(Rate::quota)?;
                Some((*c, DefaultKeyedRateLimiter::dashmap(quota)))
            })
            .collect();
        Self {
            limiters,
            checks: AtomicU32::new(0),
        }
    }

    fn allow(&self, category: Category, key: &K) -> bool {
        let Some(limiter) = self.limiters.get(&category) else {
            return true;
        };
        // Buckets of keys gone quiet are full again and carry no information: drop them now
        // and then, so a caller rotating addresses or client ids cannot grow the map without
        // bound.
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for l in self.limiters.values() {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
        limiter.check_key(key).is_ok()
    }
}

/// The buckets of every limited category, by source and by app client.
pub struct RateLimiter {
    sources: Buckets<IpAddr>,
    clients: Buckets<String>,
}

impl RateLimiter {
    /// `per_source` limits each caller's address, `per_client` each app client.
    pub fn new(per_source: &RateLimitSettings, per_client: &RateLimitSettings) -> Self {
        Self {
            sources: Buckets::new(per_source),
            clients: Buckets::new(per_client),
        }
    }

    /// Whether a request of `category` from `source` may go on; counts it if so.
    pub fn allow(&self, category: Category, source: IpAddr) -> bool {
        self.sources.allow(category, &source_key(source))
    }

    /// Whether a request of `category` for app client `client_id` may go on; counts it if so.
    pub fn allow_client(&self, category: Category, client_id: &str) -> bool {
        // Longer than any real client id (the model allows 128): not worth a bucket, and a
        // request carrying it fails validation anyway.
        if client_id.len() > 128 {
            return true;
        }
        self.clients.allow(category, &client_id.to_owned())
    }
}

/// An IPv6 source counts by its /64: a single host commonly holds a whole /64.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_overrides_the_defaults() {
        let s = RateLimitSettings::parse("UserCreation=3/min, userauthentication=off").unwrap();
        assert_eq!(
            s.0[&Category::UserCreation],
            Some(Rate {
                count: 3,
                period: Duration::from_secs(60)
            })
        );
        assert_eq!(s.0[&Category::UserAuthentication], None);
        assert_eq!(
            s.0[&Category::UserRead],
            Some(Rate::per_second(Category::UserRead.default_per_second()))
        );
        for bad in [
            "Nope=1/s",
            "UserRead",
            "UserRead=x/s",
            "UserRead=1/day",
            "UserRead=0/s",
        ] {
            assert!(RateLimitSettings::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_source_over_its_burst_is_throttled_and_others_are_not() {
        let s = RateLimitSettings::parse("UserCreation=3/min").unwrap();
        let limiter = RateLimiter::new(&s, &RateLimitSettings::off());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.allow(Category::UserCreation, a));
        }
        assert!(!limiter.allow(Category::UserCreation, a));
        assert!(limiter.allow(Category::UserCreation, b));
        // Other categories have their own buckets.
        assert!(limiter.allow(Category::UserAuthentication, a));
    }

    #[test]
    fn an_ipv6_host_counts_by_its_64() {
        let s = RateLimitSettings::parse("UserCreation=1/min").unwrap();
        let limiter = RateLimiter::new(&s, &RateLimitSettings::off());
        assert!(limiter.allow(Category::UserCreation, "2001:db8::1".parse().unwrap()));
        assert!(!limiter.allow(Category::UserCreation, "2001:db8::2".parse().unwrap()));
        assert!(limiter.allow(Category::UserCreation, "2001:db8:0:1::1".parse().unwrap()));
    }

    #[test]
    fn each_app_client_has_its_own_buckets() {
        let s = RateLimitSettings::parse("UserCreation=2/min").unwrap();
        let limiter = RateLimiter::new(&RateLimitSettings::off(), &s);
        assert!(limiter.allow_client(Category::UserCreation, "a"));
        assert!(limiter.allow_client(Category::UserCreation, "a"));
        assert!(!limiter.allow_client(Category::UserCreation, "a"));
        assert!(limiter.allow_client(Category::UserCreation, "b"));
        assert!(limiter.allow(Category::UserCreation, "192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn operations_fall_in_cognitos_categories() {
        assert_eq!(
            Category::of_operation("InitiateAuth"),
            Some(Category::UserAuthentication)
        );
        assert_eq!(
            Category::of_operation("ForgotPassword"),
            Some(Category::UserAccountRecovery)
        );
        assert_eq!(Category::of_operation("AdminGetUser"), None);
        assert_eq!(
            Category::of_path("/oauth2/token"),
            Some(Category::UserToken)
        );
        assert_eq!(Category::of_path("/health"), None);
    }
}
