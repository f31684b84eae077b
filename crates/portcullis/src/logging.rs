//! Log output: one line per event on stdout, written in batches.
//!
//! A write(2) per line cost about 5% of the CPU of a cheap request such as AdminGetUser (the
//! server logs one line per request). Lines therefore go into an in-process buffer that is
//! written out when it fills, every [`FLUSH_INTERVAL`] from a background thread, and when the
//! [`LogGuard`] is dropped at shutdown. A hard crash can lose at most the last interval's
//! lines; a panic's message goes to stderr directly and is never held back.

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

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
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    guard
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
