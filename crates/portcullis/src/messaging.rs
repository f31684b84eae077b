//! Message delivery: one JSON line per message in `<data-dir>/outbox.jsonl`, or SMTP.
//!
//! The outbox holds live codes and temporary passwords, so it is created 0600; and anyone can
//! make the server write to it (SignUp, ForgotPassword), so it is bounded: when a line would
//! take it past its size limit it is renamed to `outbox.jsonl.1` (replacing the previous one)
//! and a new file is begun. At most twice the limit is ever on disk. How many codes one
//! address may be sent is limited where codes are issued, in the store.

use std::path::PathBuf;

use anyhow::{Context, Result};
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use portcullis_core::messages::{Channel, Message, MessageSender};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

/// Appends each message to the outbox file. The lock keeps concurrent lines whole.
pub struct Outbox {
    path: PathBuf,
    max_bytes: u64,
    lock: Mutex<()>,
}

impl Outbox {
    pub fn new(path: PathBuf, max_bytes: u64) -> Self {
        Self {
            path,
            max_bytes,
            lock: Mutex::new(()),
        }
    }

    /// Where the previous file goes when this one is full.
    pub fn rotated_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".1");
        PathBuf::from(name)
    }

    /// Moves a file that `extra` more bytes would take past the limit out of the way.
    async fn rotate_if_full(&self, extra: u64) -> std::io::Result<()> {
        let size = match tokio::fs::metadata(&self.path).await {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if size > 0 && size.saturating_add(extra) > self.max_bytes {
            tokio::fs::rename(&self.path, self.rotated_path()).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl MessageSender for Outbox {
    async fn send(&self, message: &Message) -> Result<(), String> {
        let mut line = serde_json::to_string(message).map_err(|e| e.to_string())?;
        line.push('\n');
        let _guard = self.lock.lock().await;
        let failed = |e: std::io::Error| format!("outbox {}: {e}", self.path.display());
        self.rotate_if_full(line.len() as u64)
            .await
            .map_err(failed)?;
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .await
            .map_err(|e| format!("outbox {}: {e}", self.path.display()))?;
        f.write_all(line.as_bytes())
            .await
            .map_err(|e| format!("outbox {}: {e}", self.path.display()))?;
        f.flush().await.map_err(|e| e.to_string())
    }
}

/// Email over SMTP; SMS still lands in the outbox, since no SMS gateway is configured.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    sms: Outbox,
}

impl Smtp {
    pub fn new(url: &str, from: &str, sms: Outbox) -> Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("invalid --smtp-url")?
            .build();
        let from: Mailbox = from.parse().context("invalid --smtp-from address")?;
        Ok(Self {
            transport,
            from,
            sms,
        })
    }
}

#[async_trait]
impl MessageSender for Smtp {
    async fn send(&self, message: &Message) -> Result<(), String> {
        if message.channel == Channel::Sms {
            return self.sms.send(message).await;
        }
        let to: Mailbox = message
            .destination
            .parse()
            .map_err(|e| format!("invalid recipient: {e}"))?;
        // A Message-ID in the sender's domain: mail without one is penalised by filters.
        let message_id = format!("<{}@{}>", uuid::Uuid::new_v4(), self.from.email.domain());
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(message_id))
            .subject(message.subject.clone().unwrap_or_default())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| e.to_string())?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use portcullis_core::messages::{Channel, Message};

    use super::*;

    fn message(n: usize) -> Message {
        Message {
            pool_id: "us-east-1_x".to_owned(),
            username: format!("user{n}"),
            destination: "a@example.com".to_owned(),
            channel: Channel::Email,
            purpose: "sign_up".to_owned(),
            code: Some("123456".to_owned()),
            subject: Some("s".to_owned()),
            body: "b".repeat(100),
        }
    }

    #[tokio::test]
    async fn the_outbox_is_private_and_rotates_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().join("outbox.jsonl"), 1000);
        for n in 0..40 {
            outbox.send(&message(n)).await.unwrap();
        }
        let current = std::fs::metadata(dir.path().join("outbox.jsonl")).unwrap();
        let rotated = std::fs::metadata(outbox.rotated_path()).unwrap();
        assert!(current.len() <= 1000, "{}", current.len());
        assert!(rotated.len() <= 1000, "{}", rotated.len());
        assert_eq!(current.permissions().mode() & 0o777, 0o600);
        assert_eq!(rotated.permissions().mode() & 0o777, 0o600);
        // The newest message is in the current file, whole.
        let text = std::fs::read_to_string(dir.path().join("outbox.jsonl")).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["username"], "user39");
        assert!(
            text.lines()
                .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        );
    }
}
