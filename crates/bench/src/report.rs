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

/// How a hashing scenario's server CPU divides, per operation, measured over the run's own
/// window: argon2id on the hashing threads, and everything else. Only where the server names
/// its hashing threads (Portcullis) and the run did hash.
struct HashSplit {
    /// Cores' worth of time the hashing threads ran (1.0 = the whole of one core).
    share: f64,
    hash_ms: f64,
    rest_ms: f64,
}

fn hash_split(r: &RunResult) -> Option<HashSplit> {
    let (share, total) = (r.server_hash_cpu?, r.server_cpu?);
    if share <= 0.0 || r.ops == 0 {
        return None;
    }
    let per_op = |cpu: f64| 1000.0 * cpu * r.elapsed_s / r.ops as f64;
    Some(HashSplit {
        share,
        hash_ms: per_op(share),
        rest_ms: per_op((total - share).max(0.0)),
    })
}

/// The argon2id bound a hashing scenario is read against, in ms per hash.
fn argon2_bound_ms(r: &RunResult, bounds: &Bounds) -> Option<f64> {
    use crate::scenario::ScenarioKind as K;
    match r.scenario {
        K::PasswordSignIn => Some(bounds.argon2_verify.ms),
        K::SignUp => Some(bounds.argon2_hash.ms),
        _ => None,
    }
}

/// All the crypto one operation of a hashing scenario must do, in ms on one core: its argon2id
/// work and, for a password sign-in, the RSA signatures of its ID and access tokens. On a host
/// where signing is slow next to hashing, those signatures alone keep a sign-in well under the
/// argon2id bound; this ceiling shows how much of the rest is the server's own doing.
fn crypto_floor_ms(r: &RunResult, bounds: &Bounds) -> Option<f64> {
    use crate::scenario::ScenarioKind as K;
    match r.scenario {
        K::PasswordSignIn => Some(bounds.argon2_verify.ms + 2.0 * bounds.rsa_sign.ms),
        K::SignUp => Some(bounds.argon2_hash.ms + bounds.srp_make_verifier.ms),
        _ => None,
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
    if let Some(split) = hash_split(r) {
        let _ = writeln!(
            s,
            "server CPU per op: argon2id threads {:.2} ms ({:.0}% of the wall time), the rest {:.2} ms",
            split.hash_ms,
            100.0 * split.share,
            split.rest_ms
        );
    }
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
        let errors = if r.setup_error.is_some() {
            "**could not start**".to_owned()
        } else if r.errors + r.warmup_errors == 0 {
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
    let splits: Vec<(&RunResult, HashSplit)> = runs
        .iter()
        .filter_map(|r| hash_split(r).map(|split| (r, split)))
        .collect();
    if !splits.is_empty() {
        s.push_str(
            "\nWhere the server's core went in the hashing runs, measured over each run's own window \
             (the hashing threads' run time, from /proc): argon2id inside the server, against the \
             bound's hash measured apart, and everything else the server did per operation. The \
             argon2id share is the fraction of wall time the core spent hashing; unlike the \
             \"of bound\" column, it does not depend on the host's speed being the same at two \
             moments. The last two columns add the rest of the crypto one operation cannot skip \
             (a password sign-in: argon2id verify + two RSA-2048 signatures; a sign-up: argon2id \
             hash + SRP verifier), measured apart, and read the throughput against that \
             ceiling.\n\n",
        );
        s.push_str("| scenario | argon2id share of the core | argon2id in the server, ms per op | bound, ms per hash | in the server / bound | rest of the server, ms per op | all crypto per op, ms | ops/s of the crypto ceiling |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (r, split) in splits {
            let bound = bounds.and_then(|b| argon2_bound_ms(r, b));
            let crypto = bounds.and_then(|b| crypto_floor_ms(r, b));
            let name = match &r.label {
                Some(label) => format!("{} ({label})", r.scenario.name()),
                None => r.scenario.name().to_owned(),
            };
            let _ = writeln!(
                s,
                "| {name} | {:.1}% | {:.2} | {} | {} | {:.2} | {} | {} |",
                100.0 * split.share,
                split.hash_ms,
                opt(bound, 2),
                opt(bound.map(|b| split.hash_ms / b), 2),
                split.rest_ms,
                opt(crypto, 2),
                crypto.map_or_else(
                    || "-".to_owned(),
                    |ms| format!("{:.0}%", r.ops_per_s * ms / 10.0)
                ),
            );
        }
    }
    let failed: Vec<&RunResult> = runs
        .iter()
        .filter(|r| r.errors + r.warmup_errors > 0 || r.setup_error.is_some())
        .collect();
    if !failed.is_empty() {
        s.push_str("\n**Errors** (every failed operation is counted above):\n\n");
        for r in failed {
            if let Some(e) = &r.setup_error {
                let _ = writeln!(s, "- {}: could not start: `{e}`", r.scenario.name());
            }
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
            "RSA-2048 verify, key parsed once (as the server does)".to_owned(),
            &b.rsa_verify,
        ),
        ("SRP server `start`".to_owned(), &b.srp_start),
        ("SRP server `check_claim`".to_owned(), &b.srp_check),
        ("SRP server login (start + check)".to_owned(), &b.srp_login),
        ("SRP `make_verifier`".to_owned(), &b.srp_make_verifier),
    ];
    let client = b
        .srp_client
        .as_ref()
        .map(|r| ("SRP client answer (the generator's share)".to_owned(), r));
    for (name, r) in rows.into_iter().chain(client) {
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
    if r.bulk_via_api {
        let _ = writeln!(
            s,
            "| pool users through the API: AdminCreateUser(SUPPRESS), no password, {} in flight | {} | {:.2} | {:.1} |",
            r.api_concurrency, r.bulk_users, r.bulk_s, r.bulk_users_per_s
        );
    } else {
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
    }
    let _ = writeln!(
        s,
        "| API: AdminCreateUser(SUPPRESS) + AdminSetUserPassword, {} in flight | {} | {:.2} | {:.1} |",
        r.api_concurrency, r.api_users, r.api_s, r.api_users_per_s
    );
    s
}

/// A label is `<system>[, <variant>]` (e.g. `moto`, `sqlite, prefix-len 8`): the system is the
/// column of the peers table, the scenario and variant its row.
fn split_label(r: &RunResult) -> (String, String) {
    let label = r.label.clone().unwrap_or_default();
    let (system, variant) = match label.split_once(", ") {
        Some((a, b)) => (a.to_owned(), format!(" ({b})")),
        None => (label, String::new()),
    };
    (system, format!("{}{variant}", r.scenario.name()))
}

/// What one peers-table cell says, and the ops/s that counts for the ratio (None when the
/// scenario did not work there).
fn peer_cell(r: Option<&RunResult>) -> (String, Option<f64>) {
    let Some(r) = r else {
        return ("not run".to_owned(), None);
    };
    let first_error = || {
        r.error_samples
            .first()
            .cloned()
            .or_else(|| r.errors_by_kind.keys().next().cloned())
            .unwrap_or_default()
            .replace('|', "\\|")
            .replace('\n', " ")
    };
    let short = |e: String| {
        let e = e.trim().to_owned();
        if e.chars().count() > 140 {
            format!("{}...", e.chars().take(140).collect::<String>())
        } else {
            e
        }
    };
    if let Some(e) = &r.setup_error {
        return (
            format!("unsupported (`{}`)", short(e.replace('|', "\\|"))),
            None,
        );
    }
    let errors = r.errors + r.warmup_errors;
    if r.ops == 0 {
        if errors > 0 {
            return (format!("unsupported (`{}`)", short(first_error())), None);
        }
        return ("0 (no operation completed)".to_owned(), None);
    }
    if errors > 0 {
        return (
            format!(
                "{:.1} (**{errors} errors**, e.g. `{}`)",
                r.ops_per_s,
                short(first_error())
            ),
            Some(r.ops_per_s),
        );
    }
    (format!("{:.1}", r.ops_per_s), Some(r.ops_per_s))
}

/// The peers table: one row per scenario (and variant), one ops/s column per system (the label
/// before the first comma), `base` first, and the ratio base / best peer.
pub fn markdown_peers(runs: &[RunResult], base: &str, base_title: &str) -> String {
    let mut systems: Vec<String> = vec![base.to_owned()];
    let mut rows: Vec<String> = vec![];
    for r in runs {
        let (system, row) = split_label(r);
        if !systems.contains(&system) {
            systems.push(system);
        }
        if !rows.contains(&row) {
            rows.push(row);
        }
    }
    let find = |system: &str, row: &str| {
        runs.iter().find(|r| {
            let (s, w) = split_label(r);
            s == system && w == row
        })
    };
    let mut s = String::new();
    let _ = write!(s, "| scenario | {base_title} ops/s |");
    for p in &systems[1..] {
        let _ = write!(s, " {p} ops/s |");
    }
    s.push_str(" Portcullis / best peer | note |\n|---|---:|");
    for _ in &systems[1..] {
        s.push_str("---:|");
    }
    s.push_str("---:|---|\n");
    for row in &rows {
        let (base_text, base_ops) = peer_cell(find(base, row));
        let _ = write!(s, "| {row} | {base_text} |");
        let mut best: Option<(f64, &str)> = None;
        for p in &systems[1..] {
            let (text, ops) = peer_cell(find(p, row));
            let _ = write!(s, " {text} |");
            if let Some(o) = ops.filter(|o| *o > 0.0)
                && best.is_none_or(|(b, _)| o > b)
            {
                best = Some((o, p));
            }
        }
        let ratio = match (base_ops, best) {
            (Some(b), Some((o, who))) => format!("{:.2}x ({who})", b / o),
            _ => "-".to_owned(),
        };
        let note = if row.starts_with("password-sign-in")
            || row.starts_with("srp-sign-in")
            || row.starts_with("sign-up")
        {
            "peers store plaintext passwords and hash nothing (Portcullis: argon2id)"
        } else {
            ""
        };
        let _ = writeln!(s, " {ratio} | {note} |");
    }
    type PeakOf = fn(&RunResult) -> Option<u64>;
    let peak_rows: [(&str, PeakOf); 2] = [
        ("peak VmRSS during load (MiB, 200 ms samples)", |r| {
            r.server_rss_peak_kib
        }),
        (
            "peak RssAnon during load (MiB; VmRSS less mapped files)",
            |r| r.server_rss_anon_peak_kib,
        ),
    ];
    for (title, field) in peak_rows {
        let _ = write!(s, "| {title} |");
        for p in &systems {
            let peak = runs
                .iter()
                .filter(|r| split_label(r).0 == *p)
                .filter_map(field)
                .max();
            let _ = write!(
                s,
                " {} |",
                peak.map_or_else(|| "-".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0))
            );
        }
        s.push_str(" - | |\n");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn sign_in_run(server_hash_cpu: Option<f64>) -> RunResult {
        serde_json::from_value(serde_json::json!({
            "scenario": "password-sign-in", "endpoint": "http://127.0.0.1:1", "label": "sqlite",
            "concurrency": 8, "warmup_s": 2.0, "duration_s": 10.0, "elapsed_s": 10.0,
            "ops": 600, "requests_per_op": 1, "ops_per_s": 60.0, "latency": null,
            "errors": 0, "warmup_errors": 0, "warmup_ops": 120, "errors_by_kind": {},
            "error_samples": [], "users_drawn": 200, "generator_cpu": 0.02,
            "server_cpu": 1.0, "server_hash_cpu": server_hash_cpu,
            "load_before": null, "load_after": null
        }))
        .unwrap()
    }

    fn rate(ms: f64) -> serde_json::Value {
        serde_json::json!({"per_s": 1000.0 / ms, "ms": ms, "samples": 100})
    }

    #[test]
    fn a_hashing_run_splits_into_argon2id_and_the_rest() {
        let bounds: Bounds = serde_json::from_value(serde_json::json!({
            "argon2_verify": rate(15.0), "argon2_hash": rate(15.5), "argon2_params": "m=19456,t=2,p=1",
            "rsa_sign": rate(0.25), "rsa_verify": rate(0.02), "srp_start": rate(1.0),
            "srp_check": rate(1.5), "srp_login": rate(2.5), "srp_make_verifier": rate(0.6),
            "srp_client": null, "load_before": null, "load_after": null
        }))
        .unwrap();
        let run = sign_in_run(Some(0.9));
        let split = hash_split(&run).unwrap();
        assert!((split.hash_ms - 15.0).abs() < 1e-9);
        assert!((split.rest_ms - 10.0 / 6.0).abs() < 1e-9);
        let table = markdown_runs(&[run], Some(&bounds));
        assert!(
            // 60 sign-ins/s against 15 ms of argon2id + 2 x 0.25 ms of RSA: 93% of that ceiling.
            table.contains(
                "| password-sign-in (sqlite) | 90.0% | 15.00 | 15.00 | 1.00 | 1.67 | 15.50 | 93% |"
            ),
            "{table}"
        );
        assert!(text(&sign_in_run(Some(0.9))).contains("argon2id threads 15.00 ms (90% of"));
        // A server without named hashing threads (a peer) gets no split.
        assert!(hash_split(&sign_in_run(None)).is_none());
        assert!(!markdown_runs(&[sign_in_run(None)], Some(&bounds)).contains("argon2id share"));
    }
}
