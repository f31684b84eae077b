//! Command line: every setting has a flag, an environment variable and a TOML key.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    about = "A self-hosted identity service that speaks Amazon Cognito's protocol"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
}

/// Flags override the environment, which overrides the config file, which overrides defaults.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
pub struct ServeArgs {
    /// TOML file with the same settings (keys as the long flags, with underscores).
    #[arg(long, env = "PORTCULLIS_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:9229].
    #[arg(long, env = "PORTCULLIS_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Directory for the SQLite database, keys and the outbox [default: ./portcullis-data].
    #[arg(long, env = "PORTCULLIS_DATA_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://...` or `postgres://...` [default: SQLite file in the data dir].
    #[arg(long, env = "PORTCULLIS_DATABASE_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// URL clients reach this server at; token issuers derive from it [default: http://<listen>].
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Region in pool ids and ARNs [default: us-east-1].
    #[arg(long, env = "PORTCULLIS_REGION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Twelve-digit account id in ARNs [default: 000000000000].
    #[arg(long, env = "PORTCULLIS_ACCOUNT_ID")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Accept any SigV4 credentials, or none, on admin operations. Local emulation only.
    #[arg(long, env = "PORTCULLIS_INSECURE_ACCEPT_ANY_CREDENTIALS", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_accept_any_credentials: Option<bool>,
    /// SMTP server for messages, e.g. `smtp://mail.example.com:587` or `smtps://...`;
    /// without it messages go to `<data-dir>/outbox.jsonl`.
    #[arg(long, env = "PORTCULLIS_SMTP_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// Sender address for email.
    #[arg(long, env = "PORTCULLIS_SMTP_FROM")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_from: Option<String>,
    /// `text` or `json`.
    #[arg(long, env = "PORTCULLIS_LOG_FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    /// Concurrent password hashes [default: number of CPUs].
    #[arg(long, env = "PORTCULLIS_HASH_CONCURRENCY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_concurrency: Option<usize>,
    /// Let app clients without a secret use the authorization-code flow without PKCE, as
    /// Cognito does. Off by default (RFC 9700: public clients use PKCE).
    #[arg(long, env = "PORTCULLIS_ALLOW_PUBLIC_CLIENTS_WITHOUT_PKCE", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_public_clients_without_pkce: Option<bool>,
    /// Seconds between sweeps that delete expired sessions, codes and tokens [default: 60].
    #[arg(long, env = "PORTCULLIS_SWEEP_INTERVAL_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep_interval_secs: Option<u64>,
    /// Rows one sweep deletes at most, per kind [default: 1000].
    #[arg(long, env = "PORTCULLIS_SWEEP_BATCH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep_batch: Option<u32>,
}
