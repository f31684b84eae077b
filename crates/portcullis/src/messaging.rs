//! Message delivery: one JSON line per message in `<data-dir>/outbox.jsonl`, or SMTP.

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
    lock: Mutex<()>,
}

impl Outbox {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }
}

#[async_trait]
impl MessageSender for Outbox {
    async fn send(&self, message: &Message) -> Result<(), String> {
        let mut line = serde_json::to_string(message).map_err(|e| e.to_string())?;
        line.push('\n');
        let _guard = self.lock.lock().await;
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
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
