//! The periodic housekeeping sweep: every `interval`, core's sweeper deletes expired rows in
//! bounded batches, repeating at once while batches come back full (a flood being cleared),
//! up to a few rounds per tick. Every node runs it; the deletes are idempotent, so nodes
//! sharing one database need no coordination. It stops with the server's shutdown token.

use std::time::Duration;

use anyhow::{Result, bail};
use portcullis_core::Core;
use portcullis_core::service::housekeeping::{self, DEFAULT_BATCH, DEFAULT_INTERVAL_MS};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Rounds of one batch per kind a tick may run while batches come back full.
const MAX_ROUNDS_PER_TICK: u32 = 16;
/// The largest batch accepted: one statement deleting more would hold SQLite's writer long.
const MAX_BATCH: u32 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sweeper {
    pub interval: Duration,
    pub batch: u32,
}

impl Default for Sweeper {
    fn default() -> Self {
        Sweeper {
            interval: Duration::from_millis(DEFAULT_INTERVAL_MS),
            batch: DEFAULT_BATCH,
        }
    }
}

impl Sweeper {
    pub fn from_settings(interval_secs: Option<u64>, batch: Option<u32>) -> Result<Sweeper> {
        let mut s = Sweeper::default();
        if let Some(secs) = interval_secs {
            if !(1..=86_400).contains(&secs) {
                bail!("--sweep-interval-secs must be between 1 and 86400");
            }
            s.interval = Duration::from_secs(secs);
        }
        if let Some(batch) = batch {
            if !(1..=MAX_BATCH).contains(&batch) {
                bail!("--sweep-batch must be between 1 and {MAX_BATCH}");
            }
            s.batch = batch;
        }
        Ok(s)
    }
}

pub fn spawn(core: Core, settings: Sweeper, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(settings.interval) => {}
            }
            for _ in 0..MAX_ROUNDS_PER_TICK {
                match housekeeping::sweep(&core, settings.batch).await {
                    Ok(swept) => {
                        if swept.total() > 0 {
                            tracing::debug!(deleted = swept.total(), "housekeeping sweep");
                        }
                        if !swept.more {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "housekeeping sweep failed");
                        break;
                    }
                }
                if shutdown.is_cancelled() {
                    return;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_have_defaults_and_bounds() {
        assert_eq!(
            Sweeper::from_settings(None, None).ok(),
            Some(Sweeper::default())
        );
        assert_eq!(
            Sweeper::from_settings(Some(5), Some(10)).ok(),
            Some(Sweeper {
                interval: Duration::from_secs(5),
                batch: 10
            })
        );
        assert!(Sweeper::from_settings(Some(0), None).is_err());
        assert!(Sweeper::from_settings(None, Some(0)).is_err());
        assert!(Sweeper::from_settings(None, Some(MAX_BATCH + 1)).is_err());
    }
}
