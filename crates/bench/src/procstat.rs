//! CPU time and load average from /proc (Linux), so a result says how busy the generator, the
//! server and the machine were while it was measured.

/// Clock ticks per second of `utime`/`stime` in /proc/<pid>/stat (`getconf CLK_TCK`; 100 on
/// every mainstream Linux architecture).
const CLK_TCK: f64 = 100.0;

/// User + system CPU seconds used so far by `pid` (all its threads), or by this process.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces; the fields after its closing ')' do not.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / CLK_TCK)
}

/// Seconds spent running and seconds spent runnable but waiting for a CPU (run-queue delay),
/// summed over the threads `pid` (or this process) has now, from /proc/<pid>/task/*/schedstat.
/// Threads that exited are missing, so this is an approximation; the wait is the direct sign
/// of other work competing for the same CPU.
pub fn sched_seconds(pid: Option<u32>) -> Option<(f64, f64)> {
    let dir = match pid {
        Some(p) => format!("/proc/{p}/task"),
        None => "/proc/self/task".to_owned(),
    };
    let (mut run_ns, mut wait_ns) = (0u64, 0u64);
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        let mut it = text
            .split_whitespace()
            .map(|f| f.parse::<u64>().unwrap_or(0));
        run_ns += it.next().unwrap_or(0);
        wait_ns += it.next().unwrap_or(0);
    }
    Some((run_ns as f64 / 1e9, wait_ns as f64 / 1e9))
}

/// Seconds run so far by the threads of `pid` whose name starts with `prefix` (their
/// schedstat run time, in nanoseconds, so exact where utime/stime tick in 10 ms steps).
pub fn threads_run_seconds(pid: u32, prefix: &str) -> Option<f64> {
    let mut run_ns = 0u64;
    let mut found = false;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let Ok(name) = std::fs::read_to_string(entry.path().join("comm")) else {
            continue;
        };
        if !name.starts_with(prefix) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        found = true;
        run_ns += text
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0);
    }
    found.then(|| run_ns as f64 / 1e9)
}

/// Resident memory (VmRSS, KiB) of `pid` now, from /proc/<pid>/status.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// The anonymous part of it (RssAnon, KiB): what the process itself allocated. The rest is
/// mapped files (the binary; for SQLite, the database file mapped by each connection, which
/// is the OS page cache, shared and reclaimable, and counted once per mapping).
pub fn rss_anon_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "RssAnon:")
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The 1-, 5- and 15-minute load averages, as `uptime` prints them.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// Measures CPU use of this process and, optionally, the server over an interval.
pub struct CpuWindow {
    server_pid: Option<u32>,
    self_start: Option<f64>,
    server_start: Option<f64>,
    self_sched: Option<(f64, f64)>,
    server_sched: Option<(f64, f64)>,
    server_hash_start: Option<f64>,
}

fn hash_seconds(pid: Option<u32>) -> Option<f64> {
    threads_run_seconds(pid?, portcullis_core::hash_threads::THREAD_NAME_PREFIX)
}

/// CPU figures over a window, each in seconds per wall second (1.0 = one core's worth).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub generator_cpu: Option<f64>,
    pub server_cpu: Option<f64>,
    /// Run-queue delay: time the threads were ready to run but another task had the CPU.
    pub generator_wait: Option<f64>,
    pub server_wait: Option<f64>,
    /// The part of `server_cpu` the server's password-hashing threads ran (Portcullis names
    /// them; other servers have none).
    pub server_hash_cpu: Option<f64>,
}

impl CpuWindow {
    pub fn start(server_pid: Option<u32>) -> Self {
        Self {
            server_pid,
            self_start: cpu_seconds(None),
            server_start: server_pid.and_then(|p| cpu_seconds(Some(p))),
            self_sched: sched_seconds(None),
            server_sched: server_pid.and_then(|p| sched_seconds(Some(p))),
            server_hash_start: hash_seconds(server_pid),
        }
    }

    pub fn finish(&self, wall_s: f64) -> CpuUse {
        let per_s = |start: Option<f64>, end: Option<f64>| match (start, end) {
            (Some(a), Some(b)) if wall_s > 0.0 => Some(((b - a) / wall_s).max(0.0)),
            _ => None,
        };
        let wait = |start: Option<(f64, f64)>, end: Option<(f64, f64)>| {
            per_s(start.map(|s| s.1), end.map(|e| e.1))
        };
        let server_now = self.server_pid.and_then(|p| sched_seconds(Some(p)));
        CpuUse {
            generator_cpu: per_s(self.self_start, cpu_seconds(None)),
            server_cpu: per_s(
                self.server_start,
                self.server_pid.and_then(|p| cpu_seconds(Some(p))),
            ),
            generator_wait: wait(self.self_sched, sched_seconds(None)),
            server_wait: wait(self.server_sched, server_now),
            server_hash_cpu: per_s(self.server_hash_start, hash_seconds(self.server_pid)),
        }
    }
}
