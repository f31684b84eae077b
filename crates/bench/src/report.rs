//! Tables: plain text for the terminal, Markdown for `bench/results/`.

use std::fmt::Write as _;

use crate::bounds::{Bounds, bound_for};
use crate::runner::RunResult;
use crate::seed::SeedResult;

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

/// CPU use and run-queue wait, both in CPU seconds per second.
fn cpu(used: Option<f64>, wait: Option<f64>) -> String {
    format!("{} / {}", opt(used, 2), opt(wait, 2))
}

fn load(l: Option<[f64; 3]>) -> String {
    l.map_or_else(
        || "-".to_owned(),
        |[a, b, c]| format!("{a:.2} {b:.2} {c:.2}"),
    )
}

/// Throughput as a fraction of the scenario's one-core crypto bound.
fn fraction(r: &RunResult, bounds: Option<&Bounds>) -> (String, String) {
    match bounds.and_then(|b| bound_for(r.scenario, b)) {
        Some((per_s, what)) if per_s > 0.0 => (
            format!("{per_s:.0}/s ({what})"),
            format!("{:.0}%", 100.0 * r.ops_per_s / per_s),
        ),
        _ => ("-".to_owned(), "-".to_owned()),
    }
}

/// The terminal summary of one run.
pub fn text(r: &RunResult) -> String {
    let mut s = String::new();
    let l = r.latency.as_ref();
    let _ = writeln!(
        s,
        "{:<18} {:>4} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>11} {:>11}",
        "scenario",
        "conc",
        "ops",
        "ops/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "errors",
        "srvCPU/wait",
        "genCPU/wait"
    );
    let _ = writeln!(
        s,
        "{:<18} {:>4} {:>8} {:>9.1} {:>9} {:>9} {:>9} {:>9} {:>7} {:>11} {:>11}",
        r.scenario.name(),
        r.concurrency,
        r.ops,
        r.ops_per_s,
        opt(l.map(|l| l.p50_ms), 2),
        opt(l.map(|l| l.p90_ms), 2),
        opt(l.map(|l| l.p99_ms), 2),
        opt(l.map(|l| l.max_ms), 2),
        r.errors + r.warmup_errors,
        cpu(r.server_cpu, r.server_cpu_wait),
        cpu(r.generator_cpu, r.generator_cpu_wait),
    );
    let _ = writeln!(
        s,
        "users drawn from: {}; requests per op: {}; warm-up ops: {}; load before/after: {} / {}",
        r.users_drawn,
        r.requests_per_op,
        r.warmup_ops,
        load(r.load_before),
        load(r.load_after)
    );
    if r.errors + r.warmup_errors > 0 {
        let _ = writeln!(
            s,
            "ERRORS: {} measured, {} during warm-up",
            r.errors, r.warmup_errors
        );
        for (k, n) in &r.errors_by_kind {
            let _ = writeln!(s, "  {n:>8}  {k}");
        }
        for e in &r.error_samples {
            let _ = writeln!(s, "  e.g. {e}");
        }
    }
    s
}

/// The Markdown table of several runs, with the fraction-of-bound column.
pub fn markdown_runs(runs: &[RunResult], bounds: Option<&Bounds>) -> String {
    let mut s = String::new();
    s.push_str(
        "| scenario | conc | ops | ops/s | p50 ms | p90 ms | p99 ms | max ms | errors | bound (1 core) | of bound | server CPU / wait | gen CPU / wait | load before -> after |\n",
    );
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|\n");
    for r in runs {
        let l = r.latency.as_ref();
        let (bound, frac) = fraction(r, bounds);
        let errors = if r.errors + r.warmup_errors == 0 {
            "0".to_owned()
        } else {
            format!("**{} (+{} warm-up)**", r.errors, r.warmup_errors)
        };
        let name = match &r.label {
            Some(label) => format!("{} ({label})", r.scenario.name()),
            None => r.scenario.name().to_owned(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} -> {} |",
            name,
            r.concurrency,
            r.ops,
            r.ops_per_s,
            opt(l.map(|l| l.p50_ms), 2),
            opt(l.map(|l| l.p90_ms), 2),
            opt(l.map(|l| l.p99_ms), 2),
            opt(l.map(|l| l.max_ms), 1),
            errors,
            bound,
            frac,
            cpu(r.server_cpu, r.server_cpu_wait),
            cpu(r.generator_cpu, r.generator_cpu_wait),
            load(r.load_before),
            load(r.load_after),
        );
    }
    let failed: Vec<&RunResult> = runs
        .iter()
        .filter(|r| r.errors + r.warmup_errors > 0)
        .collect();
    if !failed.is_empty() {
        s.push_str("\n**Errors** (every failed operation is counted above):\n\n");
        for r in failed {
            for (k, n) in &r.errors_by_kind {
                let _ = writeln!(s, "- {}: {n} x {k}", r.scenario.name());
            }
            for e in &r.error_samples {
                let _ = writeln!(s, "  - e.g. `{e}`");
            }
        }
    }
    s
}

pub fn markdown_bounds(b: &Bounds) -> String {
    let mut s = String::new();
    s.push_str("| one-core operation | per second | ms each | samples |\n|---|---:|---:|---:|\n");
    let rows = [
        (
            format!("argon2id verify ({})", b.argon2_params),
            &b.argon2_verify,
        ),
        (
            format!("argon2id hash ({})", b.argon2_params),
            &b.argon2_hash,
        ),
        (
            "RSA-2048 PKCS#1 SHA-256 sign (aws-lc-rs)".to_owned(),
            &b.rsa_sign,
        ),
        (
            "RSA-2048 verify, key parsed per call (as the server does)".to_owned(),
            &b.rsa_verify,
        ),
        ("SRP server `start`".to_owned(), &b.srp_start),
        ("SRP server `check_claim`".to_owned(), &b.srp_check),
        ("SRP server login (start + check)".to_owned(), &b.srp_login),
        ("SRP `make_verifier`".to_owned(), &b.srp_make_verifier),
    ];
    for (name, r) in rows {
        let _ = writeln!(
            s,
            "| {name} | {:.1} | {:.3} | {} |",
            r.per_s, r.ms, r.samples
        );
    }
    let _ = writeln!(
        s,
        "\nLoad average before/after the bounds: {} -> {}",
        load(b.load_before),
        load(b.load_after)
    );
    s
}

pub fn markdown_seed(r: &SeedResult) -> String {
    let mut s = String::new();
    s.push_str("| seeding step | users | seconds | users/s |\n|---|---:|---:|---:|\n");
    let _ = writeln!(
        s,
        "| one argon2id hash shared by the bulk users | 1 | {:.3} | - |",
        r.hash_ms / 1000.0
    );
    let _ = writeln!(
        s,
        "| bulk: build records + `bulk_insert_users` | {} | {:.2} | {:.0} |",
        r.bulk_users, r.bulk_s, r.bulk_users_per_s
    );
    let _ = writeln!(
        s,
        "| bulk: inside `bulk_insert_users` only | {} | {:.2} | {:.0} |",
        r.bulk_users, r.insert_s, r.insert_users_per_s
    );
    let _ = writeln!(
        s,
        "| API: AdminCreateUser(SUPPRESS) + AdminSetUserPassword, {} in flight | {} | {:.2} | {:.1} |",
        r.api_concurrency, r.api_users, r.api_s, r.api_users_per_s
    );
    s
}
