//! Command line: every setting has a flag, an environment variable and a TOML key.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
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

impl Cli {
    /// Parses the process's arguments and environment. A variable set to the empty string
    /// counts as unset: compose files write `VAR=` for a setting they leave out, and clap would
    /// otherwise take it as an empty value (and refuse it for paths and numbers).
    pub fn from_env() -> Cli {
        Self::try_from(std::env::args_os(), |name| std::env::var_os(name))
            .unwrap_or_else(|e| e.exit())
    }

    /// As [`Cli::from_env`], with the environment read through `env`.
    pub fn try_from<I, T>(
        args: I,
        env: impl Fn(&std::ffi::OsStr) -> Option<std::ffi::OsString>,
    ) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let unset_if_empty = |arg: clap::Arg| {
            let empty = arg
                .get_env()
                .is_some_and(|name| env(name).is_some_and(|v| v.is_empty()));
            if empty { arg.env(None) } else { arg }
        };
        let command = Cli::command().mut_subcommands(|sub| sub.mut_args(unset_if_empty));
        let matches = command.try_get_matches_from(args)?;
        Cli::from_arg_matches(&matches)
    }
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

    /// Password hashes that may wait for a hashing thread; beyond them a request is refused
    /// at once with TooManyRequestsException [default: 64 per hashing thread].
    #[arg(long, env = "PORTCULLIS_HASH_QUEUE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_queue: Option<usize>,
    /// Connections served at once; more are answered 503 and closed [default: 900].
    #[arg(long, env = "PORTCULLIS_MAX_CONNECTIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers, and to start its next request on a
    /// kept-alive connection [default: 10].
    #[arg(long, env = "PORTCULLIS_HEADER_READ_TIMEOUT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_read_timeout: Option<u64>,
    /// Seconds a connection may move no byte before it is closed [default: 60].
    #[arg(long, env = "PORTCULLIS_IDLE_TIMEOUT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    /// Seconds a request may run before it is answered 504 [default: 30].
    #[arg(long, env = "PORTCULLIS_REQUEST_TIMEOUT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<u64>,
    /// Seconds open connections get to finish at shutdown [default: 10].
    #[arg(long, env = "PORTCULLIS_SHUTDOWN_GRACE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_grace: Option<u64>,
    /// Request rates per source address and Cognito quota category, over the defaults:
    /// `UserAuthentication=100/s,UserCreation=20/min,UserRead=off`. Categories:
    /// UserAuthentication, UserCreation, UserAccountRecovery, UserRead, UserUpdate, UserToken
    /// [defaults, per second: 20000, 2000, 2000, 200000, 10000, 50000].
    #[arg(long, env = "PORTCULLIS_RATE_LIMITS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<String>,
    /// Request rates per app client (so per user pool) and category on the JSON API, in the
    /// form of `--rate-limits`, over the same defaults.
    #[arg(long, env = "PORTCULLIS_CLIENT_RATE_LIMITS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_rate_limits: Option<String>,
    /// Size in bytes at which `outbox.jsonl` is rotated to `outbox.jsonl.1` (the previous
    /// `.1` is dropped) [default: 64 MiB].
    #[arg(long, env = "PORTCULLIS_OUTBOX_MAX_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_max_bytes: Option<u64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::ffi::{OsStr, OsString};

    use super::*;

    #[test]
    fn an_empty_variable_is_no_value() {
        // Values an empty variable used to give: "" for strings, an error for paths and numbers.
        let empty = |name: &OsStr| {
            name.to_str()
                .is_some_and(|n| n.starts_with("PORTCULLIS_"))
                .then(OsString::new)
        };
        let cli = Cli::try_from(["portcullis", "serve"], empty).unwrap();
        let Command::Serve(args) = cli.command;
        assert_eq!(args.config, None);
        assert_eq!(args.database_url, None);
        assert_eq!(args.data_dir, None);
        assert_eq!(args.hash_concurrency, None);
        // A flag still counts.
        let cli = Cli::try_from(["portcullis", "serve", "--hash-concurrency", "3"], empty).unwrap();
        let Command::Serve(args) = cli.command;
        assert_eq!(args.hash_concurrency, Some(3));
    }
}
