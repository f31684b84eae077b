//! N closed-loop workers for warm-up + duration; every measured latency goes into an HDR
//! histogram, every error into a count.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::procstat::{CpuWindow, load_average, rss_anon_kib, rss_kib};
use crate::scenario::{Scenario, ScenarioKind};

/// Latencies are recorded in microseconds, from 1 us to 10 minutes, 3 significant digits.
const MAX_LATENCY_US: u64 = 600_000_000;
/// How often the server's resident memory is sampled during a run.
const RSS_SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// Distinct error messages kept as samples.
const ERROR_SAMPLES: usize = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// One scenario's figures, as printed and written to `--json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub scenario: ScenarioKind,
    pub endpoint: String,
    pub label: Option<String>,
    pub concurrency: usize,
    pub warmup_s: f64,
    pub duration_s: f64,
    /// From the end of warm-up until the last measured operation finished.
    pub elapsed_s: f64,
    /// Successful operations measured.
    pub ops: u64,
    pub requests_per_op: u32,
    pub ops_per_s: f64,
    pub latency: Option<Latency>,
    /// Failed operations after warm-up, and during warm-up; both fail the run.
    pub errors: u64,
    pub warmup_errors: u64,
    pub warmup_ops: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub error_samples: Vec<String>,
    pub users_drawn: u64,
    /// CPU seconds per wall second over the measured window (1.0 = one core busy).
    pub generator_cpu: Option<f64>,
    pub server_cpu: Option<f64>,
    /// Run-queue delay per wall second: how long ready threads waited for a CPU that other
    /// work held. High values mean the machine was busy and the figures are low.
    #[serde(default)]
    pub generator_cpu_wait: Option<f64>,
    #[serde(default)]
    pub server_cpu_wait: Option<f64>,
    /// The part of `server_cpu` spent in the server's password-hashing threads (Portcullis
    /// only), so a hashing scenario splits into argon2id and everything else, measured over
    /// the same window as the throughput.
    #[serde(default)]
    pub server_hash_cpu: Option<f64>,
    pub load_before: Option<[f64; 3]>,
    pub load_after: Option<[f64; 3]>,
    /// The server's peak resident memory (VmRSS, KiB) over warm-up + measurement, sampled
    /// every 200 ms (with --server-pid).
    #[serde(default)]
    pub server_rss_peak_kib: Option<u64>,
    /// The peak of its anonymous part (RssAnon, KiB), sampled with it.
    #[serde(default)]
    pub server_rss_anon_peak_kib: Option<u64>,
    /// Set when the scenario could not even start (its fixtures failed): the endpoint does not
    /// support it, or it is broken. No operation was run.
    #[serde(default)]
    pub setup_error: Option<String>,
}

impl RunResult {
    /// A result for a scenario whose preparation failed: no operations, the error kept.
    pub fn setup_failed(kind: ScenarioKind, cfg: &RunConfig, error: String) -> RunResult {
        RunResult {
            scenario: kind,
            endpoint: cfg.endpoint.clone(),
            label: cfg.label.clone(),
            concurrency: cfg.concurrency,
            warmup_s: cfg.warmup.as_secs_f64(),
            duration_s: cfg.duration.as_secs_f64(),
            elapsed_s: 0.0,
            ops: 0,
            requests_per_op: kind.requests_per_op(),
            ops_per_s: 0.0,
            latency: None,
            errors: 0,
            warmup_errors: 0,
            warmup_ops: 0,
            errors_by_kind: BTreeMap::new(),
            error_samples: vec![],
            users_drawn: 0,
            generator_cpu: None,
            server_cpu: None,
            generator_cpu_wait: None,
            server_cpu_wait: None,
            server_hash_cpu: None,
            load_before: None,
            load_after: None,
            server_rss_peak_kib: None,
            server_rss_anon_peak_kib: None,
            setup_error: Some(error),
        }
    }
}

struct WorkerOutcome {
    hist: Histogram<u64>,
    warmup_ops: u64,
    warmup_errors: u64,
    errors: BTreeMap<String, u64>,
    samples: Vec<String>,
}

pub struct RunConfig {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub server_pid: Option<u32>,
    pub label: Option<String>,
    pub endpoint: String,
}

pub async fn run(scenario: Scenario, cfg: &RunConfig) -> anyhow::Result<RunResult> {
    let scenario = Arc::new(scenario);
    let load_before = load_average();
    let concurrency = cfg.concurrency.max(1);
    let rss_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rss_sampler = cfg.server_pid.map(|pid| {
        let done = rss_done.clone();
        tokio::spawn(async move {
            let mut peak = (rss_kib(pid), rss_anon_kib(pid));
            let mut tick = tokio::time::interval(RSS_SAMPLE_EVERY);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                tick.tick().await;
                peak = (peak.0.max(rss_kib(pid)), peak.1.max(rss_anon_kib(pid)));
            }
            peak
        })
    });
    let start = Instant::now();
    let measure_from = start + cfg.warmup;
    let end = measure_from + cfg.duration;
    let mut workers = Vec::with_capacity(concurrency);
    for id in 0..concurrency {
        let mut worker = scenario.worker(id)?;
        let scenario = scenario.clone();
        let mut out = WorkerOutcome {
            hist: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)?,
            warmup_ops: 0,
            warmup_errors: 0,
            errors: BTreeMap::new(),
            samples: vec![],
        };
        workers.push(tokio::spawn(async move {
            loop {
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let measured = began >= measure_from;
                match scenario.once(&mut worker).await {
                    Ok(latency) if measured => {
                        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                        out.hist.saturating_record(us.max(1));
                    }
                    Ok(_) => out.warmup_ops += 1,
                    Err(e) => {
                        if measured {
                            *out.errors.entry(e.kind()).or_default() += 1;
                        } else {
                            out.warmup_errors += 1;
                            *out.errors
                                .entry(format!("{} [warm-up]", e.kind()))
                                .or_default() += 1;
                        }
                        if out.samples.len() < ERROR_SAMPLES {
                            out.samples.push(e.to_string());
                        }
                    }
                }
            }
            out
        }));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu = CpuWindow::start(cfg.server_pid);
    let mut hist: Histogram<u64> = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)?;
    let mut errors_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut error_samples: Vec<String> = vec![];
    let (mut warmup_ops, mut warmup_errors) = (0, 0);
    for w in workers {
        let out = w.await?;
        hist.add(&out.hist)?;
        warmup_ops += out.warmup_ops;
        warmup_errors += out.warmup_errors;
        for (k, n) in out.errors {
            *errors_by_kind.entry(k).or_default() += n;
        }
        for s in out.samples {
            if error_samples.len() < ERROR_SAMPLES && !error_samples.contains(&s) {
                error_samples.push(s);
            }
        }
    }
    let elapsed_s = measure_from.elapsed().as_secs_f64();
    let cpu = cpu.finish(elapsed_s);
    rss_done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (server_rss_peak_kib, server_rss_anon_peak_kib) = match rss_sampler {
        Some(task) => task.await?,
        None => (None, None),
    };
    let errors = errors_by_kind.values().sum::<u64>() - warmup_errors;
    let ops = hist.len();
    let ms = |us: u64| us as f64 / 1000.0;
    let latency = (ops > 0).then(|| Latency {
        p50_ms: ms(hist.value_at_quantile(0.50)),
        p90_ms: ms(hist.value_at_quantile(0.90)),
        p99_ms: ms(hist.value_at_quantile(0.99)),
        max_ms: ms(hist.max()),
        mean_ms: hist.mean() / 1000.0,
    });
    Ok(RunResult {
        scenario: scenario.kind,
        endpoint: cfg.endpoint.clone(),
        label: cfg.label.clone(),
        concurrency,
        warmup_s: cfg.warmup.as_secs_f64(),
        duration_s: cfg.duration.as_secs_f64(),
        elapsed_s,
        ops,
        requests_per_op: scenario.kind.requests_per_op(),
        ops_per_s: if elapsed_s > 0.0 {
            ops as f64 / elapsed_s
        } else {
            0.0
        },
        latency,
        errors,
        warmup_errors,
        warmup_ops,
        errors_by_kind,
        error_samples,
        users_drawn: scenario.users_drawn,
        generator_cpu: cpu.generator_cpu,
        server_cpu: cpu.server_cpu,
        generator_cpu_wait: cpu.generator_wait,
        server_cpu_wait: cpu.server_wait,
        server_hash_cpu: cpu.server_hash_cpu,
        load_before,
        load_after: load_average(),
        server_rss_peak_kib,
        server_rss_anon_peak_kib,
        setup_error: None,
    })
}
