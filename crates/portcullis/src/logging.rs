//! Log output: one line per event on stdout, written in batches.
//!
//! A write(2) per line cost about 5% of the CPU of a cheap request such as AdminGetUser (the
//! server logs one line per request). Lines therefore go into an in-process buffer that is
//! written out when it fills, every [`FLUSH_INTERVAL`] from a background thread, and when the
//! [`LogGuard`] is dropped at shutdown. A hard crash can lose at most the last interval's
//! lines; a panic's message goes to stderr directly and is never held back.
//!
//! A line logged while a request runs carries that request's id (`request_id`), the same id
//! its request line and its `x-amzn-RequestId` header carry.

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use portcullis_http::request_log::current_request_id;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// The longest a line waits in the buffer.
const FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// Room for a few hundred request lines between writes.
const BUFFER_BYTES: usize = 64 * 1024;

/// Installs the global subscriber (`PORTCULLIS_LOG` filter, default `info`; JSON lines or
/// text). Keep the guard for the life of the process: dropping it writes out what is
/// buffered and stops the flushing thread.
pub fn init(json: bool) -> LogGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTCULLIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = batched(Box::new(std::io::stdout()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colour codes only for a person at a terminal, not in files and collectors.
        .with_ansi(std::io::stdout().is_terminal());
    // `try_init` so an embedding test harness that already set a subscriber is no error.
    let _ = if json {
        builder
            .json()
            .event_format(WithRequestId::json(format().json()))
            .try_init()
    } else {
        builder
            .event_format(WithRequestId::text(format()))
            .try_init()
    };
    guard
}

fn format() -> format::Format {
    format::Format::default()
}

/// Adds the running request's id to a line formatted by `inner`, as a field at the end of a
/// text line or the first member of a JSON one.
struct WithRequestId<F> {
    inner: F,
    json: bool,
}

impl<F> WithRequestId<F> {
    fn text(inner: F) -> Self {
        Self { inner, json: false }
    }

    fn json(inner: F) -> Self {
        Self { inner, json: true }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithRequestId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        // Request lines name their id themselves and are written outside the request's scope.
        let Some(id) = current_request_id() else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        let body = line.strip_suffix('\n').unwrap_or(&line);
        if self.json {
            match body.strip_prefix('{') {
                Some(members) => writeln!(writer, "{{\"request_id\":\"{id}\",{members}"),
                None => writeln!(writer, "{body}"),
            }
        } else {
            writeln!(writer, "{body} request_id={id}")
        }
    }
}

type Sink = Box<dyn Write + Send>;

struct Shared {
    out: Mutex<BufWriter<Sink>>,
    stopping: Mutex<bool>,
    wake: Condvar,
}

impl Shared {
    fn out(&self) -> MutexGuard<'_, BufWriter<Sink>> {
        // A panic while holding the lock leaves at worst a partial line: keep logging.
        self.out.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn flush(&self) {
        // Nowhere to report a failing stdout; the next flush tries again.
        let _ = self.out().flush();
    }
}

/// The writer the subscriber formats each event into.
#[derive(Clone)]
pub struct Batched(Arc<Shared>);

/// One event's bytes, appended to the buffer under its lock.
pub struct BufferedLine<'a>(MutexGuard<'a, BufWriter<Sink>>);

impl Write for BufferedLine<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // The flushing thread and the guard decide when bytes leave the process.
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Batched {
    type Writer = BufferedLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        BufferedLine(self.0.out())
    }
}

/// Writes out what is buffered and stops the flushing thread when dropped.
pub struct LogGuard {
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        *self
            .shared
            .stopping
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
        self.shared.flush();
    }
}

/// A buffered writer over `sink` and the guard that owns its flushing thread.
fn batched(sink: Sink) -> (Batched, LogGuard) {
    let shared = Arc::new(Shared {
        out: Mutex::new(BufWriter::with_capacity(BUFFER_BYTES, sink)),
        stopping: Mutex::new(false),
        wake: Condvar::new(),
    });
    let for_thread = Arc::clone(&shared);
    let flusher = std::thread::Builder::new()
        .name("log-flush".into())
        .spawn(move || flush_until_stopped(&for_thread))
        .ok();
    if flusher.is_none() {
        eprintln!(
            "portcullis: no log flushing thread; log lines are written when the buffer fills"
        );
    }
    (Batched(Arc::clone(&shared)), LogGuard { shared, flusher })
}

fn flush_until_stopped(shared: &Shared) {
    let mut stopping = shared
        .stopping
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    while !*stopping {
        stopping = shared
            .wake
            .wait_timeout(stopping, FLUSH_INTERVAL)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        shared.flush();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// What `event` logs as a line under the formatter `init` installs, inside request `id`.
    fn logged_within(id: Option<uuid::Uuid>, json: bool) -> String {
        let sink = Captured::default();
        let writer = {
            let sink = sink.clone();
            move || sink.clone()
        };
        let builder = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false);
        let subscriber: Box<dyn Subscriber + Send + Sync> = if json {
            Box::new(
                builder
                    .json()
                    .event_format(WithRequestId::json(format().json()))
                    .finish(),
            )
        } else {
            Box::new(builder.event_format(WithRequestId::text(format())).finish())
        };
        let _guard = tracing::subscriber::set_default(subscriber);
        let log = || tracing::warn!(pool_id = "eu-west-1_x", "message delivery failed");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        match id {
            Some(id) => runtime.block_on(portcullis_http::request_log::within_request(
                id,
                async move { log() },
            )),
            None => log(),
        }
        sink.text()
    }

    #[test]
    fn a_text_line_inside_a_request_ends_with_its_id() {
        let id = uuid::Uuid::new_v4();
        let line = logged_within(Some(id), false);
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            line.ends_with(&format!(
                "message delivery failed pool_id=\"eu-west-1_x\" request_id={id}\n"
            )),
            "{line}"
        );
        let outside = logged_within(None, false);
        assert!(!outside.contains("request_id"), "{outside}");
        assert!(outside.ends_with("pool_id=\"eu-west-1_x\"\n"), "{outside}");
    }

    #[test]
    fn a_json_line_inside_a_request_holds_its_id() {
        let id = uuid::Uuid::new_v4();
        let line = logged_within(Some(id), true);
        let parsed: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(parsed["request_id"], id.to_string());
        assert_eq!(parsed["fields"]["message"], "message delivery failed");
        assert_eq!(parsed["level"], "WARN");
        let outside: serde_json::Value =
            serde_json::from_str(logged_within(None, true).trim_end()).unwrap();
        assert!(outside.get("request_id").is_none(), "{outside}");
        assert_eq!(outside["fields"]["pool_id"], "eu-west-1_x");
    }

    #[test]
    fn lines_leave_in_batches_within_the_interval() {
        let sink = Captured::default();
        let (writer, guard) = batched(Box::new(sink.clone()));
        writer.make_writer().write_all(b"one\n").unwrap();
        writer.make_writer().write_all(b"two\n").unwrap();
        assert_eq!(sink.text(), "", "held in the buffer, not written per line");
        let deadline = std::time::Instant::now() + FLUSH_INTERVAL * 20;
        while sink.text().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(FLUSH_INTERVAL / 4);
        }
        assert_eq!(sink.text(), "one\ntwo\n");
        drop(guard);
    }

    #[test]
    fn dropping_the_guard_writes_what_is_left() {
        let sink = Captured::default();
        let (writer, guard) = batched(Box::new(sink.clone()));
        writer.make_writer().write_all(b"last words\n").unwrap();
        drop(guard);
        assert_eq!(sink.text(), "last words\n");
    }

    #[test]
    fn a_full_buffer_is_written_at_once() {
        let sink = Captured::default();
        let (writer, guard) = batched(Box::new(sink.clone()));
        let line = vec![b'x'; 1000];
        for _ in 0..(BUFFER_BYTES / line.len() + 2) {
            writer.make_writer().write_all(&line).unwrap();
        }
        assert!(sink.text().len() >= BUFFER_BYTES - line.len());
        drop(guard);
    }
}
