//! `portcullis-bench`: a load generator for any Cognito-compatible endpoint, plus seeding and
//! crypto bounds for Portcullis. See `bench/README.md`.

// The generator shares the machine with the server; cheaper allocation leaves it more headroom.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bounds;
mod cognito;
mod floor;
mod http1;
mod procstat;
mod profile;
mod report;
mod runner;
mod scenario;
mod seed;
mod state;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use crate::cognito::{Cognito, RootCredentials};
use crate::scenario::{Scenario, ScenarioKind};
use crate::state::State;

#[derive(Debug, Parser)]
#[command(name = "portcullis-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Drive one scenario with N concurrent workers and report latency and throughput.
    Run(RunArgs),
    /// Create a pool and client through the API, bulk-insert users into the database, and
    /// create sign-in users through the API; writes a state file for `run`.
    Seed(SeedCli),
    /// Measure the one-core crypto bounds (argon2id, RSA-2048, SRP) at the server's parameters.
    Bounds(BoundsArgs),
    /// Render JSON results (from `run`, `seed`, `bounds`) as Markdown tables.
    Report(ReportArgs),
    /// Serve fixed answers and nothing else: the HTTP ceiling for the read scenarios.
    Floor(FloorArgs),
    /// Sort `perf script` samples of a server into the parts of a request, as Markdown.
    Profile(ProfileArgs),
}

#[derive(Debug, Args)]
struct ProfileArgs {
    /// Output of `perf script -F comm,tid,ip,sym,dso` on a call-graph recording.
    #[arg(long)]
    script: PathBuf,
    /// The line above the tables.
    #[arg(long, default_value = "Profile")]
    title: String,
    /// How many of the hottest functions to list.
    #[arg(long, default_value_t = 15)]
    top: usize,
    /// Also write the sample counts as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct FloorArgs {
    #[arg(long, default_value = "127.0.0.1:9250")]
    listen: std::net::SocketAddr,
}

#[derive(Debug, Args)]
struct EndpointArgs {
    /// Base URL of the Cognito-compatible service.
    #[arg(long, default_value = "http://127.0.0.1:9229")]
    endpoint: String,
    /// Access key id for SigV4-signed admin operations.
    #[arg(long, env = "PORTCULLIS_ROOT_ACCESS_KEY_ID")]
    access_key_id: Option<String>,
    /// Secret access key for SigV4-signed admin operations.
    #[arg(
        long,
        env = "PORTCULLIS_ROOT_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    secret_access_key: Option<String>,
    /// SigV4 region.
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

impl EndpointArgs {
    fn client(&self, max_connections: usize) -> anyhow::Result<Cognito> {
        let creds = match (&self.access_key_id, &self.secret_access_key) {
            (Some(id), Some(secret)) => Some(RootCredentials {
                access_key_id: id.clone(),
                secret_access_key: secret.clone(),
            }),
            (None, None) => None,
            _ => bail!("give both --access-key-id and --secret-access-key, or neither"),
        };
        Cognito::new(&self.endpoint, &self.region, creds, max_connections)
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    #[arg(long, value_enum)]
    scenario: ScenarioKind,
    /// Concurrent workers, each with one request in flight (closed loop).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured time after warm-up, e.g. `10s`, `500ms`, `1m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured time before, e.g. `2s`.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// With --state: draw from at most this many seeded users. Without: create this many users
    /// through the API in a fresh pool first.
    #[arg(long)]
    users: Option<u64>,
    /// State file written by `seed`.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Write the result as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Users signed in before refresh/get-user runs, whose tokens the workers use.
    #[arg(long, default_value_t = 32)]
    token_users: usize,
    /// Characters of a seeded email used as the ListUsers prefix.
    #[arg(long, default_value_t = 3)]
    prefix_len: usize,
    /// Server process id, to report its CPU use during the run.
    #[arg(long)]
    server_pid: Option<u32>,
    /// A label for reports (e.g. the backend).
    #[arg(long)]
    label: Option<String>,
}

#[derive(Debug, Args)]
struct SeedCli {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// The server's database (`sqlite://...` or `postgres://...`), for the bulk insert.
    #[arg(long)]
    database_url: Option<String>,
    /// Users inserted straight into the database.
    #[arg(long, default_value_t = 0)]
    pool_users: u64,
    /// Instead of --pool-users: create this many pool users (`user<i>`, same attributes, no
    /// password) through the API with AdminCreateUser, for endpoints whose database we cannot
    /// reach (other Cognito-compatible servers). Slower; use a smaller count.
    #[arg(long, default_value_t = 0, conflicts_with_all = ["pool_users", "database_url"])]
    users_via_api: u64,
    /// Users created through the API (with SRP verifiers) for the sign-in scenarios.
    #[arg(long, default_value_t = 200)]
    signin_users: usize,
    /// Users per `bulk_insert_users` call (one transaction each).
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// API calls in flight while creating sign-in users.
    #[arg(long, default_value_t = 4)]
    api_concurrency: usize,
    /// The password of every seeded user.
    #[arg(long, default_value = state::DEFAULT_PASSWORD)]
    password: String,
    /// Where to write the state file for `run --state`.
    #[arg(long)]
    state: PathBuf,
    /// Write the seeding figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct BoundsArgs {
    /// Time spent on each measurement.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    budget: Duration,
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Bounds JSON (from `bounds --json`): adds the bounds table and the fraction-of-bound column.
    #[arg(long)]
    bounds: Option<PathBuf>,
    /// Print the bounds table.
    #[arg(long)]
    bounds_table: bool,
    /// Seed JSON (from `seed --json`).
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Instead of the runs table, print the peers table: one column per system (the label
    /// before its first comma), this label's system first, with the ratio to the best peer.
    #[arg(long)]
    peers_base: Option<String>,
    /// The heading of the --peers-base column.
    #[arg(long, default_value = "Portcullis")]
    peers_base_title: String,
    /// Run JSON files (from `run --json`), in table order.
    runs: Vec<PathBuf>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (try 10s, 500ms, 1m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit in {s:?}: use ms, s or m")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &PathBuf) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn write_json<T: serde::Serialize>(path: &PathBuf, value: &T) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("writing {}", path.display()))
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let api = args.endpoint.client(args.concurrency)?;
    let state = match &args.state {
        Some(path) => State::load(path)?,
        None => {
            let n = usize::try_from(args.users.unwrap_or(20))?;
            eprintln!("run: no --state, creating a pool with {n} users through the API");
            let (pool_id, client_id) =
                state::create_pool_and_client(&api, &format!("bench-{}", state::nonce(6))).await?;
            let users: Vec<state::ApiUser> = (0..n)
                .map(|i| state::ApiUser {
                    username: state::api_username(i),
                    email: state::api_email(i),
                })
                .collect();
            state::create_api_users(&api, &pool_id, &users, state::DEFAULT_PASSWORD, 4).await?;
            State {
                endpoint: args.endpoint.endpoint.clone(),
                pool_id,
                client_id,
                password: state::DEFAULT_PASSWORD.to_owned(),
                bulk_users: 0,
                api_users: users,
            }
        }
    };
    let users_limit = if args.state.is_some() {
        args.users
    } else {
        None
    };
    let cfg = runner::RunConfig {
        concurrency: args.concurrency,
        warmup: args.warmup,
        duration: args.duration,
        server_pid: args.server_pid,
        label: args.label.clone(),
        endpoint: args.endpoint.endpoint.clone(),
    };
    let prepared = Scenario::prepare(
        args.scenario,
        api,
        &state,
        users_limit,
        args.token_users,
        args.prefix_len,
    )
    .await
    .with_context(|| format!("preparing {}", args.scenario.name()));
    let scenario = match prepared {
        Ok(s) => s,
        Err(e) => {
            // Recorded, so a report can say "unsupported (<error>)" instead of losing the row.
            if let Some(path) = &args.json {
                let r = runner::RunResult::setup_failed(args.scenario, &cfg, format!("{e:#}"));
                write_json(path, &r)?;
            }
            return Err(e);
        }
    };
    let result = runner::run(scenario, &cfg).await?;
    print!("{}", report::text(&result));
    if let Some(path) = &args.json {
        write_json(path, &result)?;
    }
    if result.errors + result.warmup_errors > 0 {
        eprintln!(
            "run: {} had {} errors ({} during warm-up); exiting with status 1",
            result.scenario.name(),
            result.errors + result.warmup_errors,
            result.warmup_errors
        );
        return Ok(ExitCode::FAILURE);
    }
    if result.ops == 0 {
        eprintln!("run: no operation completed in the measured window; exiting with status 1");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn seed_cmd(args: SeedCli) -> anyhow::Result<ExitCode> {
    let api = args.endpoint.client(args.api_concurrency)?;
    if !api.has_credentials() {
        bail!(
            "seeding creates a pool with admin operations: give --access-key-id and --secret-access-key"
        );
    }
    let (state, result) = seed::seed(
        &api,
        &args.endpoint.endpoint,
        &seed::SeedArgs {
            database_url: args.database_url.clone(),
            pool_users: args.pool_users,
            users_via_api: args.users_via_api,
            api_users: args.signin_users,
            batch: args.batch,
            api_concurrency: args.api_concurrency,
            password: args.password.clone(),
        },
    )
    .await?;
    state.save(&args.state)?;
    print!("{}", report::markdown_seed(&result));
    if let Some(path) = &args.json {
        write_json(path, &result)?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn bounds_cmd(args: BoundsArgs) -> anyhow::Result<ExitCode> {
    let b = bounds::measure_all(args.budget).await?;
    print!("{}", report::markdown_bounds(&b));
    if let Some(path) = &args.json {
        write_json(path, &b)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn report_cmd(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let bounds: Option<bounds::Bounds> = args.bounds.as_ref().map(read_json).transpose()?;
    if args.bounds_table {
        let b = bounds
            .as_ref()
            .ok_or_else(|| anyhow!("--bounds-table needs --bounds"))?;
        print!("{}", report::markdown_bounds(b));
    }
    if let Some(path) = &args.seed {
        let s: seed::SeedResult = read_json(path)?;
        print!("{}", report::markdown_seed(&s));
    }
    if !args.runs.is_empty() {
        let runs = args
            .runs
            .iter()
            .map(read_json)
            .collect::<anyhow::Result<Vec<runner::RunResult>>>()?;
        match &args.peers_base {
            Some(base) => print!(
                "{}",
                report::markdown_peers(&runs, base, &args.peers_base_title)
            ),
            None => print!("{}", report::markdown_runs(&runs, bounds.as_ref())),
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Run(a) => run(a).await,
        Command::Seed(a) => seed_cmd(a).await,
        Command::Bounds(a) => bounds_cmd(a).await,
        Command::Report(a) => report_cmd(a),
        Command::Floor(a) => floor::serve(a.listen).await.map(|()| ExitCode::SUCCESS),
        Command::Profile(a) => profile_command(&a),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("portcullis-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn profile_command(args: &ProfileArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.script)
        .with_context(|| format!("reading {}", args.script.display()))?;
    // perf prints symbol names as they are; a stray non-UTF-8 byte must not lose the profile.
    let profile = profile::summarise(&String::from_utf8_lossy(&bytes));
    if profile.samples == 0 {
        bail!("{} holds no samples", args.script.display());
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&profile)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    print!("{}", profile::markdown(&profile, &args.title, args.top));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("1h").is_err());
    }
}
