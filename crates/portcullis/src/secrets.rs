//! The master key and the root credentials: from the environment, or generated on first
//! start into 0600 files in the data dir.
//!
//! An empty variable counts as unset (compose files write `VAR=` for one they leave out), and
//! a secret given in the environment must be strong: a short root secret or a master key of
//! repeated bytes is refused rather than trusted. A generated secret is never written to the
//! log stream (stdout): the log names the file that holds it.

use std::fs::{self, OpenOptions};
use std::io::{IsTerminal, Write};
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

/// Shortest root secret accepted from the environment (AWS's own are 40 characters).
pub const MIN_ROOT_SECRET_CHARS: usize = 32;
/// Fewest distinct byte values a master key may have: 32 random bytes have about 30, while
/// placeholders (all zeros, a repeated pattern) have a handful.
const MIN_DISTINCT_KEY_BYTES: usize = 12;

/// A variable's value, with an empty one counted as unset.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `PORTCULLIS_MASTER_KEY` (base64 of 32 bytes) or `<data-dir>/master.key`.
pub fn master_key(data_dir: &Path, rng: &dyn Rng) -> Result<Vec<u8>> {
    master_key_from(env("PORTCULLIS_MASTER_KEY"), data_dir, rng)
}

fn master_key_from(given: Option<String>, data_dir: &Path, rng: &dyn Rng) -> Result<Vec<u8>> {
    if let Some(b64) = given {
        let key = STANDARD
            .decode(b64.trim())
            .context("PORTCULLIS_MASTER_KEY must be base64")?;
        if key.len() != MASTER_KEY_LEN {
            bail!("PORTCULLIS_MASTER_KEY must decode to {MASTER_KEY_LEN} bytes");
        }
        let distinct = key.iter().collect::<std::collections::HashSet<_>>().len();
        if distinct < MIN_DISTINCT_KEY_BYTES {
            bail!(
                "PORTCULLIS_MASTER_KEY is not random (a placeholder?): make one with `head -c 32 /dev/urandom | base64`"
            );
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
    root_credentials_from(
        env("PORTCULLIS_ROOT_ACCESS_KEY_ID"),
        env("PORTCULLIS_ROOT_SECRET_ACCESS_KEY"),
        data_dir,
        rng,
    )
}

fn root_credentials_from(
    id: Option<String>,
    secret: Option<String>,
    data_dir: &Path,
    rng: &dyn Rng,
) -> Result<RootCredentials> {
    match (id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => {
            if secret_access_key.chars().count() < MIN_ROOT_SECRET_CHARS {
                bail!(
                    "PORTCULLIS_ROOT_SECRET_ACCESS_KEY must be at least {MIN_ROOT_SECRET_CHARS} characters"
                );
            }
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
        tracing::info!(path = %path.display(), "generated root credentials; they are in this file (0600)");
        // A person at a terminal sees them once; stdout is the log stream under systemd and
        // docker, and a secret written there stays in the logs.
        if std::io::stderr().is_terminal() {
            eprintln!(
                "Generated root credentials (stored in {}):\n  AWS_ACCESS_KEY_ID={}\n  AWS_SECRET_ACCESS_KEY={}",
                path.display(),
                creds.access_key_id,
                creds.secret_access_key
            );
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use portcullis_core::rng::SeededRng;

    use super::*;

    #[test]
    fn a_short_root_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rng = SeededRng::new(1);
        let short = root_credentials_from(
            Some("AKIAEXAMPLE".to_owned()),
            Some("x".repeat(MIN_ROOT_SECRET_CHARS - 1)),
            dir.path(),
            &rng,
        );
        assert!(short.is_err());
        let long = root_credentials_from(
            Some("AKIAEXAMPLE".to_owned()),
            Some("x".repeat(MIN_ROOT_SECRET_CHARS)),
            dir.path(),
            &rng,
        )
        .unwrap();
        assert_eq!(long.secret_access_key().len(), MIN_ROOT_SECRET_CHARS);
        // Neither wrote a file: the environment's credentials are used as given.
        assert!(!dir.path().join("root-credentials.json").exists());
    }

    #[test]
    fn a_placeholder_master_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rng = SeededRng::new(1);
        let zeros = STANDARD.encode([0u8; MASTER_KEY_LEN]);
        assert!(master_key_from(Some(zeros), dir.path(), &rng).is_err());
        let pattern = STANDARD.encode([1u8, 2, 3, 4].repeat(MASTER_KEY_LEN / 4));
        assert!(master_key_from(Some(pattern), dir.path(), &rng).is_err());
        let mut random = [0u8; MASTER_KEY_LEN];
        rng.fill(&mut random);
        let key = master_key_from(Some(STANDARD.encode(random)), dir.path(), &rng).unwrap();
        assert_eq!(key, random);
        assert!(!dir.path().join("master.key").exists());
    }

    #[test]
    fn generated_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let rng = SeededRng::new(2);
        master_key_from(None, dir.path(), &rng).unwrap();
        root_credentials_from(None, None, dir.path(), &rng).unwrap();
        for name in ["master.key", "root-credentials.json"] {
            let mode = fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
}
