//! How often one-time codes may be guessed and issued. A six-digit code falls to about a
//! million guesses, so what protects an account is not the code but these allowances: they
//! are counted in the store (shared by every node on one database), per user and purpose
//! across re-issued codes, so requesting a new code never buys new guesses.
//!
//! Each allowance is a fixed window: the first use opens it, at most `count` uses fit in it,
//! and uses refused while it is full do not extend it. A burst straddling two windows can
//! reach twice the count; the arithmetic below assumes that worst case.
//!
//! With the defaults an attacker gets at most 5 guesses per hour at one user's reset code:
//! about 44,000 a year against a space of 10^6, while the owner, who knows the code, needs
//! one. Cognito documents limits of the same order (ConfirmForgotPassword 5-20 per hour,
//! ResendConfirmationCode and GetUserAttributeVerificationCode 5 per hour, VerifyUserAttribute
//! and ConfirmSignUp 15 per hour) and answers past them with LimitExceededException.

use crate::domain::CodePurpose;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// At most `count` uses per window of `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub count: i64,
    pub window_ms: i64,
}

impl Allowance {
    pub const fn per_hour(count: i64) -> Self {
        Self {
            count,
            window_ms: HOUR_MS,
        }
    }
}

/// The allowances of one kind of code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurposeLimits {
    /// Redemption attempts (right or wrong) per user, across every code issued for the
    /// purpose. A success clears the count.
    pub attempts: Allowance,
    /// Codes issued per user.
    pub issues: Allowance,
}

/// Every code limit, in one place. Later configurable; the defaults are what the server runs
/// with today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLimits {
    /// ConfirmSignUp / ResendConfirmationCode (and the code SignUp sends).
    pub sign_up: PurposeLimits,
    /// ConfirmForgotPassword / ForgotPassword, AdminResetUserPassword.
    pub forgot_password: PurposeLimits,
    /// VerifyUserAttribute / GetUserAttributeVerificationCode and the codes attribute
    /// updates send, for email and phone alike.
    pub verify_attribute: PurposeLimits,
    /// Codes of any purpose sent to one email address or phone number in one pool, however
    /// many users name it: one mailbox cannot be flooded through many accounts.
    pub per_destination: Allowance,
}

impl Default for CodeLimits {
    fn default() -> Self {
        Self {
            sign_up: PurposeLimits {
                attempts: Allowance::per_hour(5),
                issues: Allowance::per_hour(5),
            },
            forgot_password: PurposeLimits {
                attempts: Allowance::per_hour(5),
                issues: Allowance::per_hour(5),
            },
            verify_attribute: PurposeLimits {
                attempts: Allowance::per_hour(5),
                issues: Allowance::per_hour(5),
            },
            per_destination: Allowance::per_hour(10),
        }
    }
}

impl CodeLimits {
    /// The allowances of a purpose; every new kind of code (MFA, passwordless) gets an arm.
    pub fn of(&self, purpose: CodePurpose) -> PurposeLimits {
        match purpose {
            CodePurpose::SignUp => self.sign_up,
            CodePurpose::ForgotPassword => self.forgot_password,
            CodePurpose::VerifyEmail | CodePurpose::VerifyPhone => self.verify_attribute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_has_limits_and_attribute_kinds_share_them() {
        let l = CodeLimits::default();
        for p in [
            CodePurpose::SignUp,
            CodePurpose::ForgotPassword,
            CodePurpose::VerifyEmail,
            CodePurpose::VerifyPhone,
        ] {
            let of = l.of(p);
            assert!(of.attempts.count >= 1 && of.attempts.window_ms >= MINUTE_MS);
            assert!(of.issues.count >= 1 && of.issues.window_ms >= MINUTE_MS);
        }
        assert_eq!(
            l.of(CodePurpose::VerifyEmail),
            l.of(CodePurpose::VerifyPhone)
        );
        // Guessing a reset code: at most 5 an hour, so a 50% chance at a million codes takes
        // over ten years.
        let reset = l.of(CodePurpose::ForgotPassword).attempts;
        let per_year = reset.count * (365 * 24 * HOUR_MS / reset.window_ms);
        assert!(per_year * 10 < 500_000, "{per_year}");
    }
}
