//! Point reads on a SQLite file without a thread hand-off.
//!
//! sqlx gives every SQLite connection a thread of its own: a query is a message to that thread
//! and its answer a message back, and the pool's checkout and return add more wake-ups. For a
//! read that SQLite answers in a few microseconds from the mapped file, those hand-offs were
//! about half of the server's CPU (profile: bench/results/2026-11-29-profiles.md, AdminGetUser
//! on one core). The handful of reads on every request's path (a user by key, a token
//! lineage's revocation, the health ping) therefore run here, on the calling thread, through
//! rusqlite and with the same SQL text as their sqlx twin.
//!
//! Running them inline is safe for the event loop because a WAL reader never waits for a
//! writer: these connections have no busy timeout, and should SQLite ever answer BUSY (WAL
//! recovery after a crash, a checkpoint restarting the log) the caller gets [`Inline::Busy`]
//! and takes the sqlx path, which waits on its own thread. Everything that writes, scans or
//! sorts stays on sqlx. The reader connections are read-only (`query_only`), so the read path
//! cannot change the database whatever SQL reaches it.
//!
//! One write has an inline path too: the refresh-token insert that every sign-in makes. After
//! the password hash has run for milliseconds and pushed everything else out of the CPU's
//! caches, each extra hand-off to a sqlx thread and back costs far more than the insert.
//! [`InlineWriter`] is one connection that never waits on SQLite: another writer holding the
//! database's write lock means [`Inline::Busy`] and the sqlx path (a thread of this process
//! running one statement on the connection is waited for: that takes microseconds). It never
//! checkpoints either (a checkpoint syncs files
//! to disk): every [`WRITES_PER_CHECKPOINT`] inline writes, the store hands a passive
//! checkpoint to sqlx's thread, as SQLite's own auto-checkpoint would have run one.
//!
//! Reads go to that writer's connection too whenever no other thread is using it. A SQLite
//! connection keeps its page cache and its map of the file only while nothing else writes:
//! a reader that finds the log changed since its last read drops both, unmaps the file and
//! faults every page back in, which cost a sign-in (one write, then reads by the next sign-in)
//! about 0.1 ms of re-faulting. The writer's own writes leave its cache valid. Every inline
//! read, on either kind of connection, prepares its statements through [`ReadConn`], which
//! refuses a statement that would write.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError, TryLockError};

use rusqlite::{CachedStatement, Connection, ErrorCode, OpenFlags};

/// Idle connections kept for reuse. Inline reads never await, so at most one per runtime
/// thread is busy at a time; more than that would only sit idle.
const MAX_IDLE: usize = 8;

/// The outcome of an inline read.
pub(crate) enum Inline<T> {
    Done(rusqlite::Result<T>),
    /// SQLite could not answer without waiting: take the sqlx path.
    Busy,
}

/// A connection lent for one read. Its statements come from [`ReadConn::prepare`].
#[derive(Clone, Copy)]
pub(crate) struct ReadConn<'c>(&'c Connection);

impl<'c> ReadConn<'c> {
    /// The cached statement for `sql`, refused unless SQLite says it leaves the database as
    /// it is: the writer's connection is lent for reads too, and must come back unchanged.
    pub(crate) fn prepare(&self, sql: &str) -> rusqlite::Result<CachedStatement<'c>> {
        let statement = self.0.prepare_cached(sql)?;
        if statement.readonly() {
            Ok(statement)
        } else {
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                Some(format!("an inline read may not write: {sql}")),
            ))
        }
    }
}

pub(crate) struct InlineReader {
    path: PathBuf,
    mmap_bytes: i64,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for InlineReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl InlineReader {
    /// Opens one connection to `path` up front, so a database that cannot be read this way
    /// is found at start-up and the store keeps to sqlx alone.
    pub(crate) fn open(path: &Path, mmap_bytes: i64) -> rusqlite::Result<InlineReader> {
        let reader = InlineReader {
            path: path.to_owned(),
            mmap_bytes,
            idle: Mutex::new(Vec::new()),
        };
        let first = reader.connect()?;
        reader.put_back(first);
        Ok(reader)
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        // READ_WRITE only so that the WAL index (-shm) can be set up as for any reader;
        // `query_only` then refuses every statement that would write.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "mmap_size", self.mmap_bytes)?;
        // No waiting on this thread: BUSY goes back to the caller at once.
        conn.busy_timeout(std::time::Duration::ZERO)?;
        Ok(conn)
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(conn) => Ok(conn),
            None => self.connect(),
        }
    }

    fn put_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
    }

    /// Closes the idle connections.
    pub(crate) fn close_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Runs `read` on an idle connection (a new one if none is idle).
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(ReadConn<'_>) -> rusqlite::Result<T>,
    ) -> Inline<T> {
        let conn = match self.take() {
            Ok(conn) => conn,
            Err(e) if is_busy(&e) => return Inline::Busy,
            Err(e) => return Inline::Done(Err(e)),
        };
        let result = read(ReadConn(&conn));
        // A statement that failed is reset when its cached handle is next used, so the
        // connection stays reusable either way.
        self.put_back(conn);
        answer(result)
    }
}

fn answer<T>(result: rusqlite::Result<T>) -> Inline<T> {
    match result {
        Err(e) if is_busy(&e) => Inline::Busy,
        other => Inline::Done(other),
    }
}

/// The inline paths to one SQLite file.
#[derive(Debug)]
pub(crate) struct InlineDb {
    pub(crate) reader: InlineReader,
    pub(crate) writer: InlineWriter,
}

impl InlineDb {
    pub(crate) fn open(path: &Path, mmap_bytes: i64) -> rusqlite::Result<InlineDb> {
        Ok(InlineDb {
            reader: InlineReader::open(path, mmap_bytes)?,
            writer: InlineWriter::open(path, mmap_bytes)?,
        })
    }

    /// Runs `read` on the writer's connection if no other thread is using it, else on a
    /// reader connection (see the module's notes).
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(ReadConn<'_>) -> rusqlite::Result<T>,
    ) -> Inline<T> {
        match self.writer.lend(read) {
            Ok(done) => done,
            Err(read) => self.reader.read(read),
        }
    }

    /// Closes every inline connection, so that at shutdown the sqlx pool closes last and
    /// checkpoints the WAL into the database file.
    pub(crate) fn close(&self) {
        self.reader.close_idle();
        self.writer.close();
    }
}

/// Inline writes between two checkpoints. A refresh-token insert adds about five pages to the
/// log, so this keeps the log near the 1,000 pages at which SQLite would checkpoint by itself.
pub(crate) const WRITES_PER_CHECKPOINT: u32 = 256;

/// One connection for writes on the calling thread. A caller that finds it in use, or finds
/// the database's write lock taken, gets [`Inline::Busy`] instead of waiting.
pub(crate) struct InlineWriter {
    conn: Mutex<Option<Connection>>,
    since_checkpoint: AtomicU32,
}

impl std::fmt::Debug for InlineWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineWriter").finish_non_exhaustive()
    }
}

impl InlineWriter {
    /// Opens the connection with the settings sqlx's connections have (foreign keys,
    /// `synchronous = NORMAL`, the same memory map), but no busy timeout and no checkpoints.
    pub(crate) fn open(path: &Path, mmap_bytes: i64) -> rusqlite::Result<InlineWriter> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "mmap_size", mmap_bytes)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        Ok(InlineWriter {
            conn: Mutex::new(Some(conn)),
            since_checkpoint: AtomicU32::new(0),
        })
    }

    /// Runs `write`, which must be one autocommit statement: with no busy timeout, a
    /// transaction of several could meet BUSY halfway and be left open on the connection.
    pub(crate) fn write<T>(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Inline<T> {
        // Waiting here is brief: whoever holds the connection runs one statement and never
        // awaits meanwhile (an inline read, or another inline write). A panic mid-statement
        // leaves nothing half-done in SQLite, so a poisoned lock is still usable.
        let guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(conn) = guard.as_ref() else {
            return Inline::Busy;
        };
        match write(conn) {
            Err(e) if is_busy(&e) => Inline::Busy,
            Ok(done) => {
                self.since_checkpoint.fetch_add(1, Ordering::Relaxed);
                Inline::Done(Ok(done))
            }
            Err(e) => Inline::Done(Err(e)),
        }
    }

    /// Runs `read` on this connection if no other thread holds it; otherwise hands `read`
    /// back untouched.
    fn lend<T, F>(&self, read: F) -> Result<Inline<T>, F>
    where
        F: FnOnce(ReadConn<'_>) -> rusqlite::Result<T>,
    {
        let guard = match self.conn.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => return Err(read),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        match guard.as_ref() {
            Some(conn) => Ok(answer(read(ReadConn(conn)))),
            None => Err(read),
        }
    }

    /// True once per [`WRITES_PER_CHECKPOINT`] inline writes: the caller should checkpoint.
    pub(crate) fn checkpoint_due(&self) -> bool {
        let done = self.since_checkpoint.load(Ordering::Relaxed);
        done >= WRITES_PER_CHECKPOINT
            && self
                .since_checkpoint
                .compare_exchange(done, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Closes the connection; later writes take the sqlx path.
    pub(crate) fn close(&self) {
        let mut guard = match self.conn.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.take();
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn wal_database(dir: &Path) -> (PathBuf, Connection) {
        let path = dir.join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "wal").unwrap();
        conn.execute_batch(
            "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT); INSERT INTO t VALUES ('a', 'one');",
        )
        .unwrap();
        (path, conn)
    }

    fn value_of(reader: &InlineReader, key: &str) -> Inline<Option<String>> {
        reader.read(|conn| {
            use rusqlite::OptionalExtension;
            conn.prepare("SELECT v FROM t WHERE k = $1")?
                .query_row([key], |row| row.get(0))
                .optional()
        })
    }

    #[test]
    fn sees_what_other_connections_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_database(dir.path());
        let reader = InlineReader::open(&path, 1 << 20).unwrap();
        assert!(matches!(value_of(&reader, "a"), Inline::Done(Ok(Some(v))) if v == "one"));
        assert!(matches!(value_of(&reader, "b"), Inline::Done(Ok(None))));
        writer
            .execute("INSERT INTO t VALUES ('b', 'two')", [])
            .unwrap();
        assert!(matches!(value_of(&reader, "b"), Inline::Done(Ok(Some(v))) if v == "two"));
    }

    #[test]
    fn cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_database(dir.path());
        let reader = InlineReader::open(&path, 1 << 20).unwrap();
        let attempt = reader.read(|conn| conn.0.execute("DELETE FROM t", []));
        assert!(matches!(attempt, Inline::Done(Err(_))));
        let left: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 1);
        // The refused statement leaves the connection usable.
        assert!(matches!(value_of(&reader, "a"), Inline::Done(Ok(Some(_)))));
    }

    fn write_row(writer: &InlineWriter, key: &str) -> Inline<usize> {
        writer.write(|conn| conn.execute("INSERT INTO t VALUES ($1, 'w')", [key]))
    }

    #[test]
    fn a_write_is_seen_by_other_connections() {
        let dir = tempfile::tempdir().unwrap();
        let (path, other) = wal_database(dir.path());
        let writer = InlineWriter::open(&path, 1 << 20).unwrap();
        assert!(matches!(write_row(&writer, "w1"), Inline::Done(Ok(1))));
        let seen: String = other
            .query_row("SELECT v FROM t WHERE k = 'w1'", [], |row| row.get(0))
            .unwrap();
        assert_eq!(seen, "w");
        // A constraint error is an answer, not BUSY, and leaves the connection usable.
        assert!(matches!(write_row(&writer, "w1"), Inline::Done(Err(_))));
        assert!(matches!(write_row(&writer, "w2"), Inline::Done(Ok(1))));
    }

    #[test]
    fn a_taken_write_lock_is_handed_back_instead_of_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let (path, other) = wal_database(dir.path());
        let writer = InlineWriter::open(&path, 1 << 20).unwrap();
        other.execute_batch("BEGIN IMMEDIATE;").unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(write_row(&writer, "w1"), Inline::Busy));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        other.execute_batch("COMMIT;").unwrap();
        assert!(matches!(write_row(&writer, "w1"), Inline::Done(Ok(1))));
        writer.close();
        assert!(matches!(write_row(&writer, "w2"), Inline::Busy));
    }

    #[test]
    fn a_checkpoint_falls_due_once_per_batch_of_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _other) = wal_database(dir.path());
        let writer = InlineWriter::open(&path, 1 << 20).unwrap();
        let mut due = 0;
        for i in 0..WRITES_PER_CHECKPOINT * 4 + 3 {
            assert!(matches!(
                write_row(&writer, &format!("k{i}")),
                Inline::Done(Ok(1))
            ));
            due += usize::from(writer.checkpoint_due());
        }
        assert_eq!(due, 4);
        // The writer never checkpoints by itself: past SQLite's 1,000-page mark, every frame
        // it wrote is still in the log.
        let count = |conn: &Connection| {
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
        };
        let Inline::Done(Ok(frames)) = writer.write(count) else {
            panic!("the checkpoint pragma failed");
        };
        assert!(frames > 1000, "{frames} frames in the log");
    }

    /// Which connection served a read: only the readers are `query_only`.
    fn served_by_a_reader(db: &InlineDb) -> bool {
        let Inline::Done(Ok(query_only)) = db.read(|conn| {
            conn.prepare("PRAGMA query_only")?
                .query_row([], |row| row.get::<_, i64>(0))
        }) else {
            panic!("the probe failed");
        };
        query_only == 1
    }

    #[test]
    fn reads_take_the_writers_connection_while_no_one_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _other) = wal_database(dir.path());
        let db = InlineDb::open(&path, 1 << 20).unwrap();
        assert!(!served_by_a_reader(&db));
        {
            let _held = db.writer.conn.lock().unwrap();
            assert!(served_by_a_reader(&db));
        }
        assert!(!served_by_a_reader(&db));
        db.writer.close();
        assert!(served_by_a_reader(&db));
    }

    #[test]
    fn a_read_may_not_write_on_either_connection() {
        let dir = tempfile::tempdir().unwrap();
        let (path, other) = wal_database(dir.path());
        let db = InlineDb::open(&path, 1 << 20).unwrap();
        let delete = |conn: ReadConn<'_>| conn.prepare("DELETE FROM t")?.execute([]);
        let Inline::Done(Err(e)) = db.read(delete) else {
            panic!("a delete went through an inline read on the writer's connection");
        };
        assert!(e.to_string().contains("may not write"), "{e}");
        let Inline::Done(Err(_)) = db.reader.read(delete) else {
            panic!("a delete went through an inline read on a reader connection");
        };
        let left: i64 = other
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 1);
        // The refusal leaves the writer usable for reads and writes.
        assert!(!served_by_a_reader(&db));
        assert!(matches!(write_row(&db.writer, "w1"), Inline::Done(Ok(1))));
    }

    #[test]
    fn a_write_waits_for_a_read_on_its_connection_instead_of_giving_up() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _other) = wal_database(dir.path());
        let db = std::sync::Arc::new(InlineDb::open(&path, 1 << 20).unwrap());
        let (reading, read_started) = std::sync::mpsc::channel();
        let (finish, may_finish) = std::sync::mpsc::channel::<()>();
        let reader_db = std::sync::Arc::clone(&db);
        let read = std::thread::spawn(move || {
            let served = reader_db.read(|conn| {
                reading.send(()).unwrap();
                may_finish.recv().unwrap();
                conn.prepare("SELECT count(*) FROM t")?
                    .query_row([], |row| row.get::<_, i64>(0))
            });
            matches!(served, Inline::Done(Ok(1)))
        });
        read_started.recv().unwrap();
        let writer_db = std::sync::Arc::clone(&db);
        let write = std::thread::spawn(move || {
            matches!(write_row(&writer_db.writer, "w1"), Inline::Done(Ok(1)))
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!write.is_finished(), "the write should wait for the read");
        finish.send(()).unwrap();
        assert!(read.join().unwrap());
        assert!(
            write.join().unwrap(),
            "the write gave up instead of waiting"
        );
    }

    #[test]
    fn busy_is_handed_back_instead_of_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_database(dir.path());
        let reader = InlineReader::open(&path, 1 << 20).unwrap();
        // An exclusive-mode writer keeps every other connection out of a WAL database.
        writer
            .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
            .unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(value_of(&reader, "a"), Inline::Busy));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        writer
            .execute_batch("COMMIT; PRAGMA locking_mode = NORMAL; SELECT 1 FROM t;")
            .unwrap();
        drop(writer);
        assert!(matches!(value_of(&reader, "a"), Inline::Done(Ok(Some(_)))));
    }
}
