//! The resolved settings: flags and environment over the TOML file over defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};

use crate::cli::ServeArgs;

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
}

impl Config {
    pub fn resolve(args: ServeArgs) -> Result<Config> {
        let mut figment = Figment::new();
        if let Some(path) = &args.config {
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
        let listen: SocketAddr = a
            .listen
            .as_deref()
            .unwrap_or("127.0.0.1:9229")
            .parse()
            .context("--listen must be an address like 127.0.0.1:9229")?;
        let data_dir = a
            .data_dir
            .unwrap_or_else(|| PathBuf::from("./portcullis-data"));
        let database_url = a
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("portcullis.db").display()));
        let region = a.region.unwrap_or_else(|| "us-east-1".to_owned());
        if !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || region.is_empty()
        {
            bail!("--region must look like us-east-1");
        }
        let account_id = a.account_id.unwrap_or_else(|| "000000000000".to_owned());
        if account_id.len() != 12 || !account_id.chars().all(|c| c.is_ascii_digit()) {
            bail!("--account-id must be twelve digits");
        }
        let json_logs = match a.log_format.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => bail!("--log-format must be text or json, not {other}"),
        };
        Ok(Config {
            public_url: a
                .public_url
                .unwrap_or_else(|| format!("http://{listen}"))
                .trim_end_matches('/')
                .to_owned(),
            listen,
            data_dir,
            database_url,
            region,
            account_id,
            insecure_accept_any_credentials: a.insecure_accept_any_credentials.unwrap_or(false),
            smtp_url: a.smtp_url,
            smtp_from: a.smtp_from,
            json_logs,
            hash_concurrency: a
                .hash_concurrency
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
            allow_public_clients_without_pkce: a.allow_public_clients_without_pkce.unwrap_or(false),
            sweeper: crate::housekeeping::Sweeper::from_settings(
                a.sweep_interval_secs,
                a.sweep_batch,
            )?,
        })
    }
}
