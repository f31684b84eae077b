//! The master key and the root credentials: from the environment, or generated on first
//! start into 0600 files in the data dir.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portcullis_core::rng::{ALNUM, Rng, random_string};
use portcullis_core::seal::MASTER_KEY_LEN;
use portcullis_http::RootCredentials;
use serde::{Deserialize, Serialize};

fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// `PORTCULLIS_MASTER_KEY` (base64 of 32 bytes) or `<data-dir>/master.key`.
pub fn master_key(data_dir: &Path, rng: &dyn Rng) -> Result<Vec<u8>> {
    if let Ok(b64) = std::env::var("PORTCULLIS_MASTER_KEY") {
        let key = STANDARD
            .decode(b64.trim())
            .context("PORTCULLIS_MASTER_KEY must be base64")?;
        if key.len() != MASTER_KEY_LEN {
            bail!("PORTCULLIS_MASTER_KEY must decode to {MASTER_KEY_LEN} bytes");
        }
        return Ok(key);
    }
    let path = data_dir.join("master.key");
    if !path.exists() {
        let mut key = vec![0u8; MASTER_KEY_LEN];
        rng.fill(&mut key);
        write_private(&path, STANDARD.encode(&key).as_bytes())?;
        tracing::info!(path = %path.display(), "generated a new master key; back it up with the database");
    }
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let key = STANDARD
        .decode(text.trim())
        .with_context(|| format!("{} is not base64", path.display()))?;
    if key.len() != MASTER_KEY_LEN {
        bail!("{} must hold {MASTER_KEY_LEN} bytes", path.display());
    }
    Ok(key)
}

#[derive(Serialize, Deserialize)]
struct StoredCredentials {
    access_key_id: String,
    secret_access_key: String,
}

/// The credentials admin requests must be signed with.
pub fn root_credentials(data_dir: &Path, rng: &dyn Rng) -> Result<RootCredentials> {
    let id = std::env::var("PORTCULLIS_ROOT_ACCESS_KEY_ID").ok();
    let secret = std::env::var("PORTCULLIS_ROOT_SECRET_ACCESS_KEY").ok();
    match (id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => {
            return Ok(RootCredentials::new(access_key_id, secret_access_key));
        }
        (None, None) => {}
        _ => bail!(
            "set both PORTCULLIS_ROOT_ACCESS_KEY_ID and PORTCULLIS_ROOT_SECRET_ACCESS_KEY, or neither"
        ),
    }
    let path = data_dir.join("root-credentials.json");
    if !path.exists() {
        let creds = StoredCredentials {
            access_key_id: format!(
                "AKIA{}",
                random_string(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
            ),
            secret_access_key: random_string(rng, ALNUM, 40),
        };
        write_private(&path, serde_json::to_string_pretty(&creds)?.as_bytes())?;
        // Shown once, on the terminal only, never through the log.
        println!(
            "Generated root credentials (stored in {}):\n  AWS_ACCESS_KEY_ID={}\n  AWS_SECRET_ACCESS_KEY={}",
            path.display(),
            creds.access_key_id,
            creds.secret_access_key
        );
    }
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let stored: StoredCredentials =
        serde_json::from_str(&text).with_context(|| format!("{} is malformed", path.display()))?;
    Ok(RootCredentials::new(
        stored.access_key_id,
        stored.secret_access_key,
    ))
}
