//! Where a server's core went: samples from `perf script` sorted into the parts of a request.
//!
//! The report needs to say why a scenario stops where it does, not only that it does. A flat
//! list of hot functions hides that (memcpy is called by everyone; a kernel function is paid
//! for by whichever user code made the system call), so each sample is charged to the first
//! frame on its stack, from the leaf up, that belongs to a known part. Kernel samples are
//! charged by the system call that entered the kernel, read off the first user frame above
//! them: a `fcntl` from SQLite is SQLite's locking, a `writev` from hyper is the loopback.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// The parts, in the order the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Part {
    KernelNetwork,
    KernelFileLocks,
    KernelOtherSyscalls,
    KernelWakeups,
    KernelOther,
    Sqlite,
    Postgres,
    SigV4,
    Crypto,
    Json,
    RequestLog,
    Http,
    Allocator,
    Runtime,
    Service,
    Other,
}

impl Part {
    pub fn label(self) -> &'static str {
        match self {
            Part::KernelNetwork => "kernel: TCP over loopback (send, receive, wake the peer)",
            Part::KernelFileLocks => "kernel: SQLite's file locks (fcntl)",
            Part::KernelOtherSyscalls => "kernel: other system calls (fstat, read, clock)",
            Part::KernelWakeups => "kernel: waiting and waking (epoll, futex, scheduler)",
            Part::KernelOther => "kernel: interrupts and the rest",
            Part::Sqlite => "SQLite (statement, B-tree, pager, WAL) and rusqlite",
            Part::Postgres => "sqlx (its pool, the PostgreSQL client) and TLS",
            Part::SigV4 => "SigV4 verification",
            Part::Crypto => "other crypto (RSA, argon2id, SRP)",
            Part::Json => "JSON parse, validation and output",
            Part::RequestLog => "request log line",
            Part::Http => "HTTP/1.1 (hyper, axum, tower)",
            Part::Allocator => "memory allocator (malloc, free)",
            Part::Runtime => "async runtime (tokio, mio)",
            Part::Service => "Portcullis's own code (edge, services, store)",
            Part::Other => "everything else (std, unnamed frames)",
        }
    }
}

/// The part a user-space frame belongs to, if it names one.
fn user_part(symbol: &str) -> Option<Part> {
    const ALLOCATOR: [&str; 12] = [
        "malloc",
        "free",
        "cfree",
        "realloc",
        "calloc",
        "_int_malloc",
        "_int_free",
        "_int_realloc",
        "malloc_consolidate",
        "unlink_chunk",
        "__libc_malloc",
        "__libc_free",
    ];
    let s = symbol;
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| s.starts_with(p));
    let has = |needles: &[&str]| needles.iter().any(|n| s.contains(n));
    if ALLOCATOR.contains(&s)
        || starts(&[
            "__GI___libc_malloc",
            "__GI___libc_free",
            "__GI___libc_realloc",
            "__rustc::__rdl_",
            "__rustc::__rust_",
            "unlink_chunk",
        ])
    {
        return Some(Part::Allocator);
    }
    if s.contains("portcullis_http::sigv4") {
        return Some(Part::SigV4);
    }
    if starts(&[
        "sqlite3", "btree", "pager", "wal", "vdbe", "unix", "getPage", "moveTo",
    ]) || has(&["portcullis_store::inline", "rusqlite::"])
    {
        return Some(Part::Sqlite);
    }
    if has(&["sqlx_", "rustls", "aes_gcm"]) {
        return Some(Part::Postgres);
    }
    if s.starts_with("aws_lc_") || has(&["argon2", "modexp"]) {
        return Some(Part::Crypto);
    }
    if has(&["serde_json", "portcullis_proto", "serde_core"]) {
        return Some(Part::Json);
    }
    if has(&["tracing", "portcullis::logging", "nu_ansi_term"]) {
        return Some(Part::RequestLog);
    }
    // Our own frames sit between the HTTP stack and the libraries above: what they call
    // directly (std, string building) is theirs.
    if s.contains("portcullis_") || s.starts_with("portcullis::") {
        return Some(Part::Service);
    }
    if has(&[
        "hyper",
        "httparse",
        "axum",
        "tower",
        "http::header",
        "matchit",
    ]) {
        return Some(Part::Http);
    }
    if has(&["tokio::", "mio::"]) {
        return Some(Part::Runtime);
    }
    None
}

/// The part a kernel sample is charged to, by the system call its first user frame made.
fn kernel_part(first_user_symbol: Option<&str>) -> Part {
    let Some(s) = first_user_symbol else {
        return Part::KernelOther;
    };
    let has = |needles: &[&str]| needles.iter().any(|n| s.contains(n));
    if has(&["fcntl"]) {
        Part::KernelFileLocks
    } else if has(&["writev", "sendmsg", "sendto", "__send", "recv"]) {
        Part::KernelNetwork
    } else if has(&["epoll", "futex", "sched_yield", "nanosleep", "pthread_cond"]) {
        Part::KernelWakeups
    } else {
        Part::KernelOtherSyscalls
    }
}

/// One sample: its stack, leaf first, as (symbol, is kernel).
fn classify(stack: &[(&str, bool)]) -> Part {
    match stack.first() {
        None => Part::Other,
        Some((leaf, true)) => {
            // A sample taken while switching tasks is the scheduler's, whoever called it.
            if leaf.contains("finish_task_switch") || leaf.contains("schedule") {
                return Part::KernelWakeups;
            }
            kernel_part(stack.iter().find(|f| !f.1).map(|f| f.0))
        }
        Some(_) => {
            let part = stack
                .iter()
                .filter(|f| !f.1)
                .find_map(|f| user_part(f.0))
                .unwrap_or(Part::Other);
            // SigV4's hashing runs in aws-lc; it is SigV4's cost, not the tokens'.
            if part == Part::Crypto && stack.iter().any(|f| f.0.contains("sigv4")) {
                Part::SigV4
            } else {
                part
            }
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Profile {
    pub samples: u64,
    /// Samples per part.
    pub parts: BTreeMap<Part, u64>,
    /// Samples per leaf function (self time), for the list of hottest functions.
    pub leaves: BTreeMap<String, u64>,
}

/// Reads `perf script -F comm,tid,ip,sym,dso` output: a header line per sample, then one
/// indented line per frame (`address symbol (dso)`), then a blank line.
pub fn summarise(script: &str) -> Profile {
    let mut profile = Profile::default();
    let mut stack: Vec<(&str, bool)> = Vec::new();
    let flush = |stack: &mut Vec<(&str, bool)>, profile: &mut Profile| {
        if stack.is_empty() {
            return;
        }
        profile.samples += 1;
        *profile.parts.entry(classify(stack)).or_default() += 1;
        *profile.leaves.entry(stack[0].0.to_owned()).or_default() += 1;
        stack.clear();
    };
    for line in script.lines() {
        if line.trim().is_empty() {
            flush(&mut stack, &mut profile);
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            // A new sample's header.
            flush(&mut stack, &mut profile);
            continue;
        }
        if let Some(frame) = parse_frame(line) {
            stack.push(frame);
        }
    }
    flush(&mut stack, &mut profile);
    profile
}

/// `\t ffffffff817708c1 posix_lock_inode ([kernel.kallsyms])` -> ("posix_lock_inode", true).
fn parse_frame(line: &str) -> Option<(&str, bool)> {
    let rest = line.trim_start();
    let (_address, rest) = rest.split_once(' ')?;
    let (symbol, dso) = match rest.rfind(" (") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (rest, ""),
    };
    if symbol == "[unknown]" {
        return None;
    }
    let symbol = symbol.split("+0x").next().unwrap_or(symbol);
    Some((symbol, dso.starts_with("[kernel")))
}

/// The profile as Markdown: the parts, then the `top` hottest leaf functions.
pub fn markdown(profile: &Profile, title: &str, top: usize) -> String {
    let mut out = String::new();
    let total = profile.samples.max(1) as f64;
    let pct = |n: u64| 100.0 * n as f64 / total;
    let _ = writeln!(out, "{title} ({} samples)\n", profile.samples);
    let _ = writeln!(out, "| part of the request | share of the core's samples |");
    let _ = writeln!(out, "|---|---:|");
    let mut parts: Vec<_> = profile.parts.iter().collect();
    parts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (part, n) in parts {
        let _ = writeln!(out, "| {} | {:.1}% |", part.label(), pct(*n));
    }
    let _ = writeln!(out, "\n| hottest functions (self) | share |");
    let _ = writeln!(out, "|---|---:|");
    let mut leaves: Vec<_> = profile.leaves.iter().collect();
    leaves.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (name, n) in leaves.into_iter().take(top) {
        let shown: String = name.chars().take(110).collect();
        let _ = writeln!(out, "| `{}` | {:.1}% |", shown.replace('|', "\\|"), pct(*n));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SCRIPT: &str = "\
tokio-rt-worker  9867 
\t          7cab31 portcullis_store::inline::ReadConn::prepare (/srv/portcullis)
\t          7ca395 portcullis_store::inline::InlineDb::read (/srv/portcullis)
\tffffffffffffffff [unknown] ([unknown])

tokio-rt-worker  9867 
\tffffffff817708c1 posix_lock_inode ([kernel.kallsyms])
\tffffffff817729cd fcntl_setlk ([kernel.kallsyms])
\t           fcf60 __fcntl64_nocancel_adjusted (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t          944109 unixShmLock (/srv/portcullis)

tokio-rt-worker  9867 
\tffffffff81aa0001 tcp_sendmsg_locked ([kernel.kallsyms])
\t           f0001 __GI___writev (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t          5b59ee hyper::proto::h1::dispatch::Dispatcher<D,Bs,I,T>::poll_write (/srv/portcullis)

tokio-rt-worker  9867 
\t           a0001 __memmove_avx512_unaligned_erms (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t          120eba4 <serde_json::ser::Serializer<W,F>>::serialize_str (/srv/portcullis)

tokio-rt-worker  9867 
\t           a0002 _int_free (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t          120eba4 <serde_json::ser::Serializer<W,F>>::serialize_str (/srv/portcullis)

tokio-rt-worker  9867 
\t          300002 aws_lc_0_47_0_sha256_block_data_order_hw (/srv/portcullis)
\t          300001 portcullis_http::sigv4::canonical_request (/srv/portcullis)

tokio-rt-worker  9867 
\tffffffff81000001 finish_task_switch.isra.0 ([kernel.kallsyms])
\t           e0001 epoll_wait (/usr/lib/x86_64-linux-gnu/libc.so.6)

tokio-rt-worker  9867 
\t          900001 portcullis_core::service::users::attribute_list (/srv/portcullis)
";

    #[test]
    fn samples_are_charged_to_the_part_that_made_them() {
        let p = summarise(SCRIPT);
        assert_eq!(p.samples, 8);
        let of = |part| p.parts.get(&part).copied().unwrap_or(0);
        assert_eq!(of(Part::Sqlite), 1, "{:?}", p.parts);
        assert_eq!(of(Part::KernelFileLocks), 1);
        assert_eq!(of(Part::KernelNetwork), 1);
        // memcpy has no part of its own: its caller, the JSON serializer, pays.
        assert_eq!(of(Part::Json), 1);
        // The allocator is named even when JSON called it.
        assert_eq!(of(Part::Allocator), 1);
        assert_eq!(of(Part::SigV4), 1);
        assert_eq!(of(Part::KernelWakeups), 1);
        assert_eq!(of(Part::Service), 1);
        assert_eq!(p.leaves.get("posix_lock_inode"), Some(&1));
    }

    #[test]
    fn the_markdown_lists_parts_by_share_and_the_hottest_functions() {
        let md = markdown(&summarise(SCRIPT), "AdminGetUser (sqlite)", 3);
        assert!(md.starts_with("AdminGetUser (sqlite) (8 samples)"), "{md}");
        assert!(
            md.contains("| kernel: SQLite's file locks (fcntl) | 12.5% |"),
            "{md}"
        );
        assert_eq!(md.matches("| `").count(), 3, "{md}");
    }

    #[test]
    fn an_empty_script_is_an_empty_profile() {
        let p = summarise("");
        assert_eq!(p.samples, 0);
        assert!(markdown(&p, "nothing", 5).contains("(0 samples)"));
    }
}
