//! The resolved settings: flags and environment over the TOML file over defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};

use portcullis_http::RateLimitSettings;

use crate::cli::ServeArgs;
use crate::serving::ConnectionLimits;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub public_url: String,
    pub region: String,
    pub account_id: String,
    pub insecure_accept_any_credentials: bool,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub json_logs: bool,
    pub hash_concurrency: usize,
    pub allow_public_clients_without_pkce: bool,
    pub sweeper: crate::housekeeping::Sweeper,

    pub limits: ServerLimits,
}

/// What bounds the work one caller can cause; every value has a flag (see `cli.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    pub connections: ConnectionLimits,
    pub request_timeout: Duration,
    /// Per source address.
    pub rate_limits: RateLimitSettings,
    /// Per app client (so per user pool) on the JSON API.
    pub client_rate_limits: RateLimitSettings,
    /// Hashes waiting for a hashing thread; `None`: 64 per thread.
    pub hash_queue: Option<usize>,
    pub outbox_max_bytes: u64,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            connections: ConnectionLimits::default(),
            request_timeout: portcullis_http::Limits::default().request_timeout,
            rate_limits: RateLimitSettings::default(),
            client_rate_limits: RateLimitSettings::default(),
            hash_queue: None,
            outbox_max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Compose files write `VAR=` for a variable they do not set: an empty value means "not set".
fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn given_path(value: Option<PathBuf>) -> Option<PathBuf> {
    value.filter(|v| !v.as_os_str().is_empty())
}

impl Config {
    pub fn resolve(args: ServeArgs) -> Result<Config> {
        let mut figment = Figment::new();
        if let Some(path) = given_path(args.config.clone()) {
            if !path.exists() {
                bail!("config file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file(path));
        }
        let merged: ServeArgs = figment
            .merge(Serialized::defaults(&args))
            .extract()
            .context("invalid configuration")?;
        Self::from_args(merged)
    }

    fn from_args(a: ServeArgs) -> Result<Config> {
        let limits = limits_from_args(&a)?;
        let listen: SocketAddr = given(a.listen)
            .as_deref()
            .unwrap_or("127.0.0.1:9229")
            .parse()
            .context("--listen must be an address like 127.0.0.1:9229")?;
        let data_dir = given_path(a.data_dir).unwrap_or_else(|| PathBuf::from("./portcullis-data"));
        let database_url = given(a.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("portcullis.db").display()));
        let region = given(a.region).unwrap_or_else(|| "us-east-1".to_owned());
        if !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || region.is_empty()
        {
            bail!("--region must look like us-east-1");
        }
        let account_id = given(a.account_id).unwrap_or_else(|| "000000000000".to_owned());
        if account_id.len() != 12 || !account_id.chars().all(|c| c.is_ascii_digit()) {
            bail!("--account-id must be twelve digits");
        }
        let json_logs = match given(a.log_format).as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => bail!("--log-format must be text or json, not {other}"),
        };
        Ok(Config {
            public_url: given(a.public_url)
                .unwrap_or_else(|| format!("http://{listen}"))
                .trim_end_matches('/')
                .to_owned(),
            listen,
            data_dir,
            database_url,
            region,
            account_id,
            insecure_accept_any_credentials: a.insecure_accept_any_credentials.unwrap_or(false),
            smtp_url: given(a.smtp_url),
            smtp_from: given(a.smtp_from),
            json_logs,
            hash_concurrency: a
                .hash_concurrency
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
            allow_public_clients_without_pkce: a.allow_public_clients_without_pkce.unwrap_or(false),
            sweeper: crate::housekeeping::Sweeper::from_settings(
                a.sweep_interval_secs,
                a.sweep_batch,
            )?,

            limits,
        })
    }
}

fn limits_from_args(a: &ServeArgs) -> Result<ServerLimits> {
    let defaults = ServerLimits::default();
    let seconds = |value: Option<u64>, default: Duration, flag: &str| -> Result<Duration> {
        match value {
            None => Ok(default),
            Some(0) => bail!("--{flag} must be at least 1 second"),
            Some(s) => Ok(Duration::from_secs(s)),
        }
    };
    let c = defaults.connections;
    let connections = ConnectionLimits {
        max_connections: match a.max_connections {
            None => c.max_connections,
            Some(0) => bail!("--max-connections must be at least 1"),
            Some(n) => n,
        },
        header_read_timeout: seconds(
            a.header_read_timeout,
            c.header_read_timeout,
            "header-read-timeout",
        )?,
        idle_timeout: seconds(a.idle_timeout, c.idle_timeout, "idle-timeout")?,
        shutdown_grace: seconds(a.shutdown_grace, c.shutdown_grace, "shutdown-grace")?,
        ..c
    };
    let request_timeout = seconds(
        a.request_timeout,
        defaults.request_timeout,
        "request-timeout",
    )?;
    let rate_limits = match given(a.rate_limits.clone()) {
        None => defaults.rate_limits,
        Some(spec) => {
            RateLimitSettings::parse(&spec).map_err(|e| anyhow::anyhow!("--rate-limits: {e}"))?
        }
    };
    let client_rate_limits = match given(a.client_rate_limits.clone()) {
        None => defaults.client_rate_limits,
        Some(spec) => RateLimitSettings::parse(&spec)
            .map_err(|e| anyhow::anyhow!("--client-rate-limits: {e}"))?,
    };
    Ok(ServerLimits {
        connections,
        request_timeout,
        rate_limits,
        client_rate_limits,
        hash_queue: a.hash_queue,
        outbox_max_bytes: a.outbox_max_bytes.unwrap_or(defaults.outbox_max_bytes),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_mean_unset() {
        let args = ServeArgs {
            listen: Some(String::new()),
            data_dir: Some(PathBuf::new()),
            database_url: Some(String::new()),
            public_url: Some(" ".to_owned()),
            region: Some(String::new()),
            account_id: Some(String::new()),
            smtp_url: Some(String::new()),
            smtp_from: Some(String::new()),
            log_format: Some(String::new()),
            rate_limits: Some(String::new()),
            ..ServeArgs::default()
        };
        let c = Config::from_args(args).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9229");
        assert_eq!(c.data_dir, PathBuf::from("./portcullis-data"));
        assert_eq!(c.database_url, "sqlite://./portcullis-data/portcullis.db");
        assert_eq!(c.public_url, "http://127.0.0.1:9229");
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.account_id, "000000000000");
        assert_eq!(c.smtp_url, None);
        assert_eq!(c.smtp_from, None);
        assert!(!c.json_logs);
        assert_eq!(c.limits, ServerLimits::default());
    }

    #[test]
    fn limits_come_from_their_flags() {
        let args = ServeArgs {
            max_connections: Some(5),
            header_read_timeout: Some(3),
            request_timeout: Some(7),
            rate_limits: Some("UserCreation=2/min".to_owned()),
            hash_queue: Some(4),
            outbox_max_bytes: Some(1000),
            ..ServeArgs::default()
        };
        let l = Config::from_args(args).unwrap().limits;
        assert_eq!(l.connections.max_connections, 5);
        assert_eq!(l.connections.header_read_timeout, Duration::from_secs(3));
        assert_eq!(l.request_timeout, Duration::from_secs(7));
        assert_eq!(l.hash_queue, Some(4));
        assert_eq!(l.outbox_max_bytes, 1000);
        assert_ne!(l.rate_limits, RateLimitSettings::default());
        for bad in [
            ServeArgs {
                max_connections: Some(0),
                ..ServeArgs::default()
            },
            ServeArgs {
                idle_timeout: Some(0),
                ..ServeArgs::default()
            },
            ServeArgs {
                rate_limits: Some("Nope=1/s".to_owned()),
                ..ServeArgs::default()
            },
        ] {
            assert!(Config::from_args(bad).is_err());
        }
    }
}
