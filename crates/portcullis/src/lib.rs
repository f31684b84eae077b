//! Wiring: configuration, storage, keys, core and the HTTP edge, and graceful shutdown.

pub mod cli;
pub mod config;
pub mod housekeeping;

pub mod files;
pub mod logging;
pub mod messaging;
pub mod secrets;
pub mod serving;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use async_trait::async_trait;
use portcullis_core::Core;
use portcullis_core::cache::RecordCache;
use portcullis_core::clock::{Clock, SystemClock};
use portcullis_core::context::CoreSettings;
use portcullis_core::messages::MessageSender;
use portcullis_core::password::PasswordHasher;
use portcullis_core::rng::{Rng, SystemRng};
use portcullis_core::seal::Sealer;
use portcullis_core::service::srp_flow::SrpDecoy;
use portcullis_core::tokens::KeyCache;
use portcullis_http::{AdminAuth, AppParts, AppState, Limits, RateLimiter, Readiness};
use portcullis_proto::Model;
use portcullis_store::SqlStore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::messaging::{Outbox, Smtp};

/// Options tests change; production uses the defaults.
#[derive(Clone, Default)]
pub struct Overrides {
    /// Cheap argon2 parameters, so test suites don't spend minutes hashing.
    pub fast_password_hashing: bool,
    /// A clock the test moves by hand (lockout and expiry without sleeping); the wall clock
    /// when None.
    pub clock: Option<Arc<dyn Clock>>,
}

struct StoreReadiness(Arc<SqlStore>);

#[async_trait]
impl Readiness for StoreReadiness {
    async fn ready(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// How long shutdown waits for the database to close (SQLite checkpoints its WAL then).
const STORE_CLOSE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// A started server: its address, and the handle that stops it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    /// Ends once connections are drained and the store is closed.
    pub task: JoinHandle<std::io::Result<()>>,
    /// The housekeeping sweeper; it ends with the shutdown token.
    pub sweeper: JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish (for the shutdown grace period at
    /// most), closes the store, and waits for all of it.
    pub async fn stop(self) -> Result<()> {
        self.shutdown.cancel();
        self.task.await.context("server task panicked")??;
        self.sweeper.await.context("sweeper task panicked")?;
        Ok(())
    }
}

pub async fn start(config: Config, overrides: Overrides) -> Result<RunningServer> {
    files::private_dir(&config.data_dir)?;
    files::private_sqlite(&config.database_url)?;
    let rng: Arc<dyn Rng> = Arc::new(SystemRng);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // A public URL derived from the listen address must name the port actually bound (the
    // listen port may be 0).
    let public_url = if config.public_url == format!("http://{}", config.listen) {
        format!("http://{addr}")
    } else {
        config.public_url.clone()
    };
    let store = Arc::new(
        SqlStore::connect(&config.database_url)
            .await
            .context("cannot open the database")?,
    );
    tracing::info!(backend = store.backend_name(), "database ready");
    // Secrets only once the database opened: a start that fails on its settings leaves no
    // generated key or credentials behind.
    let master_key = secrets::master_key(&config.data_dir, rng.as_ref())?;
    let sealer = Sealer::new(&master_key).context("master key")?;
    let admin_auth = if config.insecure_accept_any_credentials {
        tracing::warn!(
            "INSECURE: --insecure-accept-any-credentials is set; admin operations accept ANY caller. Use only for throwaway local emulation."
        );
        AdminAuth::AcceptAny
    } else {
        AdminAuth::Root(secrets::root_credentials(&config.data_dir, rng.as_ref())?)
    };
    let limits = &config.limits;
    let outbox = Outbox::new(
        config.data_dir.join("outbox.jsonl"),
        limits.outbox_max_bytes,
    );
    let messages: Arc<dyn MessageSender> = match &config.smtp_url {
        Some(url) => {
            let from = config.smtp_from.as_deref().unwrap_or("no-reply@localhost");
            Arc::new(Smtp::new(url, from, outbox)?)
        }
        None => Arc::new(outbox),
    };
    let passwords = if overrides.fast_password_hashing {
        PasswordHasher::insecure_for_tests(rng.clone())
    } else {
        let threads = config.hash_concurrency.max(1);
        let queue = limits
            .hash_queue
            .unwrap_or(threads * portcullis_core::hash_threads::DEFAULT_QUEUE_PER_THREAD);
        PasswordHasher::bounded(rng.clone(), threads, queue)
    };
    let srp_decoy = Arc::new(SrpDecoy::default());
    let core = Core {
        store: store.clone(),
        clock: overrides
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock)),
        rng,
        sealer: Arc::new(sealer),
        messages,
        passwords,
        keys: Arc::new(KeyCache::default()),
        srp_decoy,
        // Two seconds: how long another node may serve a pool or client setting after a
        // change made elsewhere.
        records: Arc::new(RecordCache::new(2_000)),
        settings: CoreSettings {
            region: config.region.clone(),
            account_id: config.account_id.clone(),
            public_url,
            allow_public_clients_without_pkce: config.allow_public_clients_without_pkce,
            code_limits: Default::default(),
        },
    };
    let shutdown = CancellationToken::new();
    let sweeper = housekeeping::spawn(core.clone(), config.sweeper, shutdown.clone());
    let state = AppState::new(AppParts {
        core,
        model: Arc::new(Model::try_load().context("the embedded Cognito model is broken")?),
        admin_auth,
        readiness: Arc::new(StoreReadiness(store.clone())),
        limits: Limits {
            request_timeout: limits.request_timeout,
            ..Limits::default()
        },
        rate_limits: Arc::new(RateLimiter::new(
            &limits.rate_limits,
            &limits.client_rate_limits,
        )),
    });
    let token = shutdown.clone();
    let app = portcullis_http::router(state);
    let connections = limits.connections;
    let task = tokio::spawn(async move {
        let served = serving::serve(listener, app, connections, token).await;
        if tokio::time::timeout(STORE_CLOSE_DEADLINE, store.close())
            .await
            .is_err()
        {
            tracing::warn!("the database did not close in time");
        }
        served
    });
    Ok(RunningServer {
        addr,
        shutdown,
        task,
        sweeper,
    })
}

async fn termination() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// `portcullis serve`: runs until SIGINT or SIGTERM, then drains in-flight requests.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let config = Config::resolve(args)?;
    let _log_guard = logging::init(config.json_logs);
    let server = start(config.clone(), Overrides::default()).await?;
    tracing::info!(
        listen = %server.addr,
        public_url = %config.public_url,
        data_dir = %config.data_dir.display(),
        "portcullis is serving"
    );
    termination().await;
    tracing::info!("shutting down; finishing in-flight requests");
    server.stop().await?;
    tracing::info!("stopped");
    Ok(())
}
