//! Messages to users (codes, invitations): what they say and where they go. Delivery is a
//! port: the binary plugs in the outbox file or SMTP.

use async_trait::async_trait;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Channel {
    #[serde(rename = "EMAIL")]
    Email,
    #[serde(rename = "SMS")]
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "EMAIL",
            Channel::Sms => "SMS",
        }
    }
    /// The attribute a channel delivers to.
    pub fn attribute(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "phone_number",
        }
    }
}

/// One message, as the outbox records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub pool_id: String,
    pub username: String,
    pub destination: String,
    pub channel: Channel,
    /// What the message is for, e.g. `invitation`, `sign_up`, `forgot_password`.
    pub purpose: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub body: String,
}

#[async_trait]
pub trait MessageSender: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), String>;
}

/// Fills Cognito's placeholders: `{username}` and `{####}` (the code or temporary password).
pub fn render(template: &str, username: &str, code: &str) -> String {
    template
        .replace("{username}", username)
        .replace("{####}", code)
}

pub const DEFAULT_INVITE_EMAIL: &str =
    "Your username is {username} and temporary password is {####}. ";
pub const DEFAULT_INVITE_SUBJECT: &str = "Your temporary password";
pub const DEFAULT_VERIFICATION_MESSAGE: &str = "Your verification code is {####}. ";
pub const DEFAULT_VERIFICATION_SUBJECT: &str = "Your verification code";
pub const DEFAULT_RESET_MESSAGE: &str = "Your password reset code is {####}. ";
pub const DEFAULT_RESET_SUBJECT: &str = "Your password reset code";

/// Cognito's masked destination: `j***@e***` (current Cognito keeps only the first
/// character of the local part and of the domain, no top-level domain), `+*******0100`.
pub fn mask_destination(channel: Channel, destination: &str) -> String {
    match channel {
        Channel::Email => {
            let Some((local, domain)) = destination.split_once('@') else {
                return "***".to_owned();
            };
            let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
            format!("{}***@{}***", first(local), first(domain))
        }
        Channel::Sms => {
            let chars: Vec<char> = destination.chars().collect();
            let keep = 4.min(chars.len());
            let (head, tail) = chars.split_at(chars.len() - keep);
            let masked: String = head
                .iter()
                .map(|c| if *c == '+' { '+' } else { '*' })
                .collect();
            format!("{masked}{}", tail.iter().collect::<String>())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_cognito() {
        assert_eq!(
            mask_destination(Channel::Email, "jane@example.com"),
            "j***@e***"
        );
        assert_eq!(
            mask_destination(Channel::Email, "test@test.co.uk"),
            "t***@t***"
        );
        assert_eq!(
            mask_destination(Channel::Sms, "+12065550100"),
            "+*******0100"
        );
        assert_eq!(mask_destination(Channel::Email, "nobody"), "***");
    }

    #[test]
    fn renders_placeholders() {
        assert_eq!(
            render(DEFAULT_INVITE_EMAIL, "bob", "Tmp1!"),
            "Your username is bob and temporary password is Tmp1!. "
        );
    }
}
