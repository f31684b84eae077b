//! Every implemented operation against its model: for each member of each operation's input,
//! boundary and invalid values generated from the botocore model the proto crate is built
//! from, plus bodies that are not JSON objects, nested too deep, too large or sent under the
//! wrong content type. Each case carries exactly one violation (the rest of the body is valid,
//! which the validator confirms in-process), and the server must answer it with the documented
//! error (SerializationException for a wrong JSON type or a body that is no JSON object,
//! InvalidParameterException for a broken constraint), a 4xx status, no panic, no error logged,
//! and no change in the database: not one row, not even a session.
//!
//! The model and the operation list are read at test time (the model file and `dispatch.rs`),
//! so a new operation or a model update is swept without editing this file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, Once};

use portcullis_proto::Model;
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{Map, Value, json};
use sqlx::{Connection, PgConnection, Row, SqliteConnection};
use tracing_subscriber::fmt::MakeWriter;

use crate::support::{Backend, JSON_11, Req, TestServer, start};

backend_tests!(every_operation_rejects_hostile_input_and_writes_nothing);

const MODEL_JSON: &str = include_str!("../../../proto/model/cognito-idp.json");
const DISPATCH_RS: &str = include_str!("../../../http/src/json_api/dispatch.rs");

/// Nesting deeper than this in the model is not expanded (Cognito's inputs are shallow).
const MAX_DEPTH: usize = 6;

// ---------------------------------------------------------------------------------------------
// The model, as the generator needs it

struct Shapes(Map<String, Value>);

impl Shapes {
    fn shape(&self, name: &str) -> &Value {
        &self.0[name]
    }
}

fn implemented_operations() -> Vec<String> {
    let re = regex::Regex::new(r#""([A-Za-z]+)" => [a-z_:]+,"#).unwrap();
    re.captures_iter(DISPATCH_RS)
        .map(|c| c[1].to_owned())
        .collect()
}

fn num(shape: &Value, key: &str) -> Option<i64> {
    shape.get(key).and_then(Value::as_i64)
}

fn required(shape: &Value) -> Vec<String> {
    shape["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn members(shape: &Value) -> Vec<(String, String)> {
    shape["members"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v["shape"].as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Valid values

/// Real resources of the test server, so that a request the validator wrongly let through
/// would find something to change.
struct Fixtures {
    by_member: BTreeMap<&'static str, String>,
    /// Turns through each kind's wrong JSON types, so every one is sent somewhere while each
    /// member gets only [`WRONG_TYPES_PER_MEMBER`] of them (keeps the sweep within seconds).
    turn: std::cell::Cell<usize>,
}

const WRONG_TYPES_PER_MEMBER: usize = 2;

/// A string `pattern` matches, its repetitions taken `k` times (within their bounds).
fn generate(hir: &Hir, k: u32, out: &mut String) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(Class::Unicode(class)) => {
            let has = |c: char| {
                class
                    .ranges()
                    .iter()
                    .any(|r| r.start() <= c && c <= r.end())
            };
            let pick = ['a', '0', 'A', '_', '-', '.']
                .into_iter()
                .find(|&c| has(c))
                .unwrap_or_else(|| class.ranges()[0].start());
            out.push(pick);
        }
        HirKind::Class(Class::Bytes(class)) => {
            out.push(char::from(class.ranges()[0].start()));
        }
        HirKind::Repetition(rep) => {
            let n = k.max(rep.min).min(rep.max.unwrap_or(u32::MAX));
            for _ in 0..n {
                generate(&rep.sub, k, out);
            }
        }
        HirKind::Capture(cap) => generate(&cap.sub, k, out),
        HirKind::Concat(parts) => parts.iter().for_each(|p| generate(p, k, out)),
        HirKind::Alternation(alts) => generate(&alts[0], k, out),
    }
}

fn parse_pattern(java: &str) -> Hir {
    regex_syntax::parse(java).unwrap_or_else(|e| panic!("pattern {java}: {e}"))
}

/// The whole-value matcher of a model pattern. The regex crate's Unicode `\w`, `\s` and `.`
/// differ from Java's only outside ASCII; the hostile values below are ASCII controls and
/// blanks, where the two agree.
fn matcher(java: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{java})$")).unwrap()
}

fn chars(s: &str) -> i64 {
    s.chars().count() as i64
}

/// The smallest string of `shape` (a string shape) within its length bounds.
fn valid_string(shape: &Value) -> String {
    if let Some(values) = shape["enum"].as_array() {
        return values[0].as_str().unwrap().to_owned();
    }
    let min = num(shape, "min").unwrap_or(0).max(1);
    let max = num(shape, "max").unwrap_or(i64::MAX);
    match shape["pattern"].as_str() {
        None => "a".repeat(min as usize),
        Some(java) => {
            let hir = parse_pattern(java);
            for k in 1..=4096 {
                let mut s = String::new();
                generate(&hir, k, &mut s);
                if chars(&s) >= min && chars(&s) <= max {
                    return s;
                }
                if chars(&s) > max {
                    break;
                }
            }
            panic!("no value of length {min}..{max} for pattern {java}")
        }
    }
}

/// A string of `shape` longer than its maximum by one.
fn too_long_string(shape: &Value, max: i64) -> String {
    let base = match shape["pattern"].as_str() {
        Some(java) => {
            let hir = parse_pattern(java);
            let mut s = String::new();
            let mut k = 1;
            while chars(&s) <= max && k < (1 << 20) {
                s.clear();
                generate(&hir, k, &mut s);
                k *= 2;
            }
            s
        }
        None => String::new(),
    };
    // A pattern whose repetitions are all bounded may top out below the limit: pad it.
    let padding = (max + 1 - chars(&base)).max(0) as usize;
    base.chars()
        .chain(std::iter::repeat_n('a', padding))
        .take(max as usize + 1)
        .collect()
}

impl Fixtures {
    fn valid(&self, shapes: &Shapes, name: &str, depth: usize) -> Value {
        let shape = shapes.shape(name);
        match shape["type"].as_str().unwrap() {
            "string" => json!(valid_string(shape)),
            "integer" | "long" => {
                let min = num(shape, "min").unwrap_or(i64::MIN);
                let max = num(shape, "max").unwrap_or(i64::MAX);
                json!(1.clamp(min, max))
            }
            "boolean" => json!(true),
            "blob" => json!("YQ=="),
            "timestamp" | "double" | "float" => json!(1),
            "list" => {
                let min = num(shape, "min").unwrap_or(0);
                let element = shape["member"]["shape"].as_str().unwrap();
                Value::Array(
                    (0..min)
                        .map(|_| self.valid(shapes, element, depth + 1))
                        .collect(),
                )
            }
            "map" => {
                let min = num(shape, "min").unwrap_or(0);
                let key = shapes.shape(shape["key"]["shape"].as_str().unwrap());
                let value = shape["value"]["shape"].as_str().unwrap();
                let mut out = Map::new();
                for i in 0..min {
                    out.insert(
                        format!("{}{i}", valid_string(key)),
                        self.valid(shapes, value, depth + 1),
                    );
                }
                Value::Object(out)
            }
            "structure" | "union" => {
                let mut out = Map::new();
                let req = required(shape);
                for (member, target) in members(shape) {
                    if req.contains(&member) && depth < MAX_DEPTH {
                        out.insert(
                            member.clone(),
                            self.member_value(shapes, &member, &target, depth),
                        );
                    }
                }
                Value::Object(out)
            }
            other => panic!("shape {name}: type {other}"),
        }
    }

    fn member_value(&self, shapes: &Shapes, member: &str, target: &str, depth: usize) -> Value {
        match self.by_member.get(member) {
            Some(v) if shapes.shape(target)["type"] == "string" => json!(v),
            _ => self.valid(shapes, target, depth + 1),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Invalid values

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A wrong JSON type or a body that is no JSON object.
    Serialization,
    /// A model constraint broken.
    InvalidParameter,
    /// A body over the size limit.
    TooLarge,
}

impl Expect {
    fn error_type(self) -> &'static str {
        match self {
            Expect::Serialization => "SerializationException",
            Expect::InvalidParameter => "InvalidParameterException",
            Expect::TooLarge => "RequestEntityTooLargeException",
        }
    }
    fn status(self) -> u16 {
        match self {
            Expect::TooLarge => 413,
            _ => 400,
        }
    }
}

/// A value of some shape with one violation somewhere inside it.
struct Bad {
    value: Value,
    expect: Expect,
    what: String,
}

fn bad(value: Value, expect: Expect, what: impl Into<String>) -> Bad {
    Bad {
        value,
        expect,
        what: what.into(),
    }
}

/// Values that break a pattern without depending on how Java and the regex crate differ.
const PATTERN_BREAKERS: &[&str] = &["\u{0}", "\u{1}", " ", "\n", "\u{7f}", "a\u{0}b", "\t"];

fn wrong_types(kind: &str) -> Vec<Value> {
    match kind {
        "string" | "blob" => vec![json!(7), json!(true), json!([]), json!({}), json!(1.5)],
        "integer" => vec![
            json!("1"),
            json!(true),
            json!(1.5),
            json!([]),
            json!({}),
            json!(2_147_483_648_i64),
            json!(-2_147_483_649_i64),
            json!(u64::MAX),
            json!(1e300),
        ],
        "long" => vec![json!("1"), json!(1.5), json!(u64::MAX)],
        "boolean" => vec![json!("true"), json!(1), json!([]), json!({})],
        "list" => vec![json!({}), json!("a"), json!(1), json!(true)],
        "map" | "structure" | "union" => vec![json!([]), json!("a"), json!(1), json!(false)],
        "timestamp" => vec![json!("2020-01-01"), json!(true)],
        _ => vec![],
    }
}

impl Fixtures {
    /// Values of shape `name`, each with exactly one violation.
    fn invalid(&self, shapes: &Shapes, name: &str, depth: usize) -> Vec<Bad> {
        let shape = shapes.shape(name);
        let kind = shape["type"].as_str().unwrap();
        let all = wrong_types(kind);
        let turn = self.turn.get();
        self.turn.set(turn + WRONG_TYPES_PER_MEMBER);
        let mut out: Vec<Bad> = (0..WRONG_TYPES_PER_MEMBER.min(all.len()))
            .map(|i| all[(turn + i) % all.len()].clone())
            .map(|v| {
                let what = format!("{kind} sent as {v}");
                bad(v, Expect::Serialization, what)
            })
            .collect();
        if depth >= MAX_DEPTH {
            return out;
        }
        let min = num(shape, "min");
        let max = num(shape, "max");
        match kind {
            "string" => {
                let valid = valid_string(shape);
                if let Some(max) = max.filter(|m| *m < 300_000) {
                    out.push(bad(
                        json!(too_long_string(shape, max)),
                        Expect::InvalidParameter,
                        format!("length {}", max + 1),
                    ));
                }
                if let Some(min) = min.filter(|m| *m > 0) {
                    let short: String = valid.chars().take(min as usize - 1).collect();
                    out.push(bad(
                        json!(short),
                        Expect::InvalidParameter,
                        format!("length {}", min - 1),
                    ));
                }
                if let Some(values) = shape["enum"].as_array() {
                    out.push(bad(
                        json!("NOT_A_MEMBER_OF_THE_ENUM"),
                        Expect::InvalidParameter,
                        "unknown enum value",
                    ));
                    let first = values[0].as_str().unwrap();
                    let lower = first.to_lowercase();
                    if lower != first && !values.iter().any(|v| v == &json!(lower)) {
                        out.push(bad(
                            json!(lower),
                            Expect::InvalidParameter,
                            "enum in lowercase",
                        ));
                    }
                } else if let Some(java) = shape["pattern"].as_str() {
                    let re = matcher(java);
                    let len_ok = |s: &str| {
                        chars(s) >= min.unwrap_or(0) && chars(s) <= max.unwrap_or(i64::MAX)
                    };
                    let mut found = 0;
                    for breaker in PATTERN_BREAKERS {
                        let times =
                            (min.unwrap_or(1).max(1) as usize).div_ceil(chars(breaker) as usize);
                        let s = breaker.repeat(times);
                        if len_ok(&s) && !re.is_match(&s) {
                            out.push(bad(
                                json!(s),
                                Expect::InvalidParameter,
                                format!("breaks pattern {java}: {breaker:?}"),
                            ));
                            found += 1;
                            if found == 3 {
                                break;
                            }
                        }
                    }
                }
                // No string may hold a NUL, whatever the model says of it: PostgreSQL cannot
                // store one.
                if shape["enum"].is_null() {
                    let mut with_nul: String = valid
                        .chars()
                        .take(valid.chars().count().saturating_sub(1))
                        .collect();
                    with_nul.push('\u{0}');
                    out.push(bad(
                        json!(with_nul),
                        Expect::InvalidParameter,
                        "a NUL inside",
                    ));
                }
            }
            "integer" | "long" => {
                let fits = |n: i64| kind == "long" || i32::try_from(n).is_ok();
                if let Some(min) = min.filter(|m| fits(*m - 1)) {
                    out.push(bad(
                        json!(min - 1),
                        Expect::InvalidParameter,
                        "below minimum",
                    ));
                }
                if let Some(max) = max.filter(|m| fits(*m + 1)) {
                    out.push(bad(
                        json!(max + 1),
                        Expect::InvalidParameter,
                        "above maximum",
                    ));
                }
            }
            "blob" => {
                if let Some(max) = max {
                    let bytes = vec![b'a'; max as usize + 1];
                    use base64::Engine;
                    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
                    out.push(bad(
                        json!(text),
                        Expect::InvalidParameter,
                        format!("{} bytes", max + 1),
                    ));
                }
            }
            "list" => {
                let element = shape["member"]["shape"].as_str().unwrap();
                let valid_element = self.valid(shapes, element, depth + 1);
                let padding = min.unwrap_or(0).max(1) as usize - 1;
                for b in self.invalid(shapes, element, depth + 1) {
                    let mut items = vec![b.value];
                    items.extend((0..padding).map(|_| valid_element.clone()));
                    out.push(bad(
                        Value::Array(items),
                        b.expect,
                        format!("[0]: {}", b.what),
                    ));
                }
                let mut with_null = vec![Value::Null];
                with_null.extend((0..padding).map(|_| valid_element.clone()));
                out.push(bad(
                    Value::Array(with_null),
                    Expect::InvalidParameter,
                    "null element",
                ));
                if let Some(max) = max.filter(|m| *m < 2000) {
                    out.push(bad(
                        Value::Array(vec![valid_element.clone(); max as usize + 1]),
                        Expect::InvalidParameter,
                        format!("{} elements", max + 1),
                    ));
                }
                if let Some(min) = min.filter(|m| *m > 0) {
                    out.push(bad(
                        Value::Array(vec![valid_element; min as usize - 1]),
                        Expect::InvalidParameter,
                        format!("{} elements", min - 1),
                    ));
                }
            }
            "map" => {
                let key_shape = shapes.shape(shape["key"]["shape"].as_str().unwrap());
                let value = shape["value"]["shape"].as_str().unwrap();
                let key = valid_string(key_shape);
                let valid_value = self.valid(shapes, value, depth + 1);
                for b in self.invalid(shapes, value, depth + 1) {
                    out.push(bad(
                        json!({ key.clone(): b.value }),
                        b.expect,
                        format!("[{key}]: {}", b.what),
                    ));
                }
                // Keys are strings whatever happens: only their constraints can be broken.
                for b in self.invalid(shapes, shape["key"]["shape"].as_str().unwrap(), depth + 1) {
                    if let (Some(k), Expect::InvalidParameter) = (b.value.as_str(), b.expect) {
                        out.push(bad(
                            json!({ k: valid_value.clone() }),
                            Expect::InvalidParameter,
                            format!("key: {}", b.what),
                        ));
                    }
                }
                if let Some(max) = max.filter(|m| *m < 2000) {
                    let entries: Map<String, Value> = (0..=max)
                        .map(|i| (format!("{key}{i}"), valid_value.clone()))
                        .collect();
                    out.push(bad(
                        Value::Object(entries),
                        Expect::InvalidParameter,
                        format!("{} entries", max + 1),
                    ));
                }
            }
            "structure" | "union" => {
                let base = self.valid(shapes, name, depth);
                let req = required(shape);
                for (member, target) in members(shape) {
                    if req.contains(&member) {
                        let mut v = base.clone();
                        v.as_object_mut().unwrap().remove(&member);
                        out.push(bad(
                            v,
                            Expect::InvalidParameter,
                            format!("{member} missing"),
                        ));
                        let mut v = base.clone();
                        v[&member] = Value::Null;
                        out.push(bad(v, Expect::InvalidParameter, format!("{member} null")));
                    }
                    for b in self.invalid(shapes, &target, depth + 1) {
                        let mut v = base.clone();
                        v[&member] = b.value;
                        out.push(bad(v, b.expect, format!("{member}: {}", b.what)));
                    }
                }
            }
            _ => {}
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies no operation accepts

struct RawCase {
    what: String,
    body: Vec<u8>,
    content_type: Option<&'static str>,
    expect: Expect,
}

fn raw(what: &str, body: impl Into<Vec<u8>>, expect: Expect) -> RawCase {
    RawCase {
        what: what.to_owned(),
        body: body.into(),
        content_type: Some(JSON_11),
        expect,
    }
}

/// Bodies that are no JSON object, too deep, too large or mislabelled; `valid` is a body the
/// operation accepts, for the content-type cases.
fn raw_cases(valid: &Value, op: &str) -> Vec<RawCase> {
    let ser = Expect::Serialization;
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let mut cases = vec![
        raw("array body", "[]", ser),
        raw("string body", "\"x\"", ser),
        raw("number body", "1", ser),
        raw("boolean body", "true", ser),
        raw("null body", "null", ser),
        raw("truncated object", "{", ser),
        raw("missing value", "{\"a\":}", ser),
        raw("trailing garbage", "{}x", ser),
        raw("invalid UTF-8", b"{\"a\":\"\xff\xfe\"}".to_vec(), ser),
        raw("lone surrogate escape", "{\"a\":\"\\ud800\"}", ser),
        raw("deep arrays", deep(20_000), ser),
        raw(
            "deep arrays in an unknown member",
            format!("{{\"Unknown\":{}}}", deep(5_000)),
            ser,
        ),
        raw(
            "deep objects",
            format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)),
            ser,
        ),
    ];
    // The size limit is checked before anything else, the same for every operation: an admin
    // and a public one suffice (a megabyte signed and hashed per operation would double the
    // sweep's time).
    if ["AdminCreateUser", "InitiateAuth"].contains(&op) {
        cases.push(raw(
            "over the size limit",
            format!("{{\"Unknown\":\"{}\"}}", "a".repeat(1024 * 1024 + 1)),
            Expect::TooLarge,
        ));
    }
    for ct in [
        None,
        Some("text/plain"),
        Some("application/xml"),
        Some("application/x-www-form-urlencoded"),
    ] {
        cases.push(RawCase {
            what: format!("content type {ct:?}"),
            body: valid.to_string().into_bytes(),
            content_type: ct,
            expect: ser,
        });
    }
    cases
}

// ---------------------------------------------------------------------------------------------
// What the server did: answers, log lines, panics, database rows

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.lock().unwrap())).into_owned()
    }
}

/// Panics seen on any thread, with the thread's name: the server runs on the test's own
/// runtime, so a handler's panic happens on this test's thread (or a blocking-pool thread).
fn panics() -> &'static Mutex<Vec<String>> {
    static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current().name().unwrap_or("?").to_owned();
            if let Ok(mut seen) = PANICS.lock() {
                seen.push(format!("{thread}: {info}"));
            }
            previous(info);
        }));
    });
    &PANICS
}

/// Every row of every table, each rendered as text, sorted per table.
async fn snapshot(srv: &TestServer) -> BTreeMap<String, Vec<String>> {
    let url = srv.database_url();
    let mut out = BTreeMap::new();
    if url.starts_with("sqlite:") {
        let mut conn = SqliteConnection::connect(&format!("{url}?mode=ro"))
            .await
            .unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        for table in tables {
            let cols: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                    .bind(&table)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            let row_text = cols
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || ',' || ");
            let sql = format!("SELECT {row_text} FROM \"{table}\"");
            let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.sort();
            out.insert(table, rows);
        }
        conn.close().await.unwrap();
    } else {
        let mut conn = PgConnection::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(!tables.is_empty(), "no tables in the test's schema");
        for table in tables {
            let sql = format!("SELECT t::text FROM \"{table}\" t");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let mut rows: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
            rows.sort();
            out.insert(table, rows);
        }
        conn.close().await.unwrap();
    }
    out
}

fn diff(before: &BTreeMap<String, Vec<String>>, after: &BTreeMap<String, Vec<String>>) -> String {
    let mut text = String::new();
    for (table, rows) in after {
        let old = before.get(table).cloned().unwrap_or_default();
        if &old != rows {
            let added: Vec<&String> = rows.iter().filter(|r| !old.contains(r)).collect();
            let removed: Vec<&String> = old.iter().filter(|r| !rows.contains(r)).collect();
            let _ = write!(text, "{table}: +{added:?} -{removed:?}; ");
        }
    }
    text
}

// ---------------------------------------------------------------------------------------------
// The sweep

async fn every_operation_rejects_hostile_input_and_writes_nothing(backend: Backend) {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(log.clone())
        .with_ansi(false)
        .finish();
    // The server runs on this test's runtime, so its lines go to this thread's subscriber.
    let _log = tracing::subscriber::set_default(subscriber);
    let panics = panics();
    let thread = std::thread::current().name().unwrap_or("?").to_owned();

    let srv = start(&backend).await;
    let pool = srv.new_pool("hostile").await;
    let client = srv
        .ok(
            "CreateUserPoolClient",
            json!({ "UserPoolId": pool, "ClientName": "app",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] }),
        )
        .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    srv.create_user(&pool, "alice", &[("email", "alice@example.com")])
        .await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool, "Username": "alice", "Password": "Passw0rd!long", "Permanent": true }),
    )
    .await;
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool, "GroupName": "staff" }),
    )
    .await;
    let fixtures = Fixtures {
        by_member: BTreeMap::from([
            ("UserPoolId", pool.clone()),
            ("ClientId", client.clone()),
            ("Username", "alice".to_owned()),
            ("GroupName", "staff".to_owned()),
        ]),
        turn: Default::default(),
    };

    let model: Value = serde_json::from_str(MODEL_JSON).unwrap();
    let shapes = Shapes(model["shapes"].as_object().unwrap().clone());
    let validator = Model::load();
    let operations = implemented_operations();
    assert!(
        operations.len() > 50,
        "operations read from dispatch.rs: {operations:?}"
    );

    let _ = log.take();
    let mut failures: Vec<String> = vec![];
    let mut count = 0usize;
    let mut per_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut before = snapshot(&srv).await;
    for op in &operations {
        let input = model["operations"][op]["input"]["shape"]
            .as_str()
            .unwrap_or_else(|| panic!("{op} has no input shape"));
        let valid = fixtures.valid(&shapes, input, 0);
        // Every case below differs from this body in one place only.
        if let Err(e) = validator.validate_input(op, &valid) {
            panic!("the generated base body of {op} is invalid: {e}\n{valid}");
        }
        let started = std::time::Instant::now();
        let mut requests: Vec<(String, Req, Expect)> = vec![];
        for b in fixtures.invalid(&shapes, input, 0) {
            if !b.value.is_object() {
                continue; // A whole body of the wrong type: covered by the raw cases.
            }
            requests.push((b.what, Req::op(op, &b.value), b.expect));
        }
        for c in raw_cases(&valid, op) {
            let mut req = Req::op(op, &json!({})).raw_body(c.body);
            req = req.content_type(c.content_type);
            requests.push((c.what, req, c.expect));
        }
        for (what, req, expect) in requests {
            count += 1;
            *per_kind.entry(expect.error_type()).or_default() += 1;
            let shown_body: String = String::from_utf8_lossy(&req.body)
                .chars()
                .take(300)
                .collect();
            let resp = srv.try_send(req).await;
            let resp = match resp {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{op} [{what}]: no answer ({e}) to {shown_body}"));
                    continue;
                }
            };
            let got = (resp.status, resp.error_type().to_owned());
            if got != (expect.status(), expect.error_type().to_owned())
                || resp.message().is_empty()
                || resp.header("x-amzn-errortype") != Some(&format!("{}:", resp.error_type()))
            {
                failures.push(format!(
                    "{op} [{what}]: expected {} {}, got {} {} to {shown_body}",
                    expect.status(),
                    expect.error_type(),
                    resp.status,
                    resp.text.chars().take(300).collect::<String>()
                ));
            }
        }
        let sent = started.elapsed();
        let after = snapshot(&srv).await;
        if std::env::var_os("HOSTILE_TIMING").is_some() {
            println!(
                "{op}: {sent:?} sending, {:?} with the snapshot",
                started.elapsed()
            );
        }
        if after != before {
            failures.push(format!(
                "{op}: the database changed: {}",
                diff(&before, &after)
            ));
            before = after;
        }
        let lines = log.take();
        for line in lines.lines() {
            let request_ok = line.contains("status=4") || !line.contains("portcullis::request");
            if line.contains(" ERROR ") || line.contains(" WARN ") || !request_ok {
                failures.push(format!("{op}: logged {line}"));
            }
        }
        let seen: Vec<String> = panics
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.starts_with(&thread) || p.contains("tokio-runtime"))
            .cloned()
            .collect();
        if !seen.is_empty() {
            failures.push(format!("{op}: panicked: {seen:?}"));
            panics.lock().unwrap().clear();
        }
    }
    println!(
        "hostile model sweep ({backend:?}): {count} cases over {} operations; expected answers: {per_kind:?}",
        operations.len()
    );
    assert!(count > 1000, "only {count} cases were generated");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    srv.ok(
        "AdminGetUser",
        json!({ "UserPoolId": pool, "Username": "alice" }),
    )
    .await;
}
