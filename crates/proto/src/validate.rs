//! Model-driven validation of request bodies, the way AWS's front end does it.
//!
//! The server calls [`Model::load`] once at start-up, keeps the [`Model`], and
//! runs [`Model::validate_input`] on the raw JSON body of every request before
//! deserializing it into the typed struct from [`crate::generated`]. The
//! validator guarantees that a body it accepts deserializes: it rejects every
//! JSON type that serde would reject, and it reports missing required members
//! (which the typed structs default instead of rejecting).
//!
//! Two kinds of failure, as AWS reports them:
//! * [`ValidationError::Serialization`]: a member has the wrong JSON type, or
//!   the body is not an object (`SerializationException`, HTTP 400). Only the
//!   first one is reported, like a deserializer that stops.
//! * [`ValidationError::Constraint`]: the body is well typed but breaks
//!   model constraints (`InvalidParameterException`, HTTP 400), with AWS's
//!   `N validation error(s) detected: ...` message listing every violation,
//!   members in model order, depth first.
//!
//! Members the model does not know are ignored: newer clients may send them.
//!
//! Message details, matched to real AWS messages where known, best effort
//! where not:
//! * Paths lower only the first letter of each member (`sMSMessage`), list
//!   items are `name.N.member` counting from 1. A list of scalars and a map
//!   are reported once, on the collection, listing all of the element's
//!   constraints: `Member must satisfy constraint: [...]`,
//!   `Map keys must satisfy constraint: [...]`, `Map value must ...`.
//! * Values are echoed Java-style (`[a, b]`, `{k=v}`) unless the member, its
//!   shape, an enclosing shape or anything inside it is sensitive, or it is a
//!   blob: then the message reads `Value at '<path>' ...`.
//! * Patterns are Java regexes, matched against the whole value with Java's
//!   meaning (ASCII `\w`, `\s`, `\d`); see `PATTERN_OVERRIDES` in the source.
//! * Per member: length, value range, pattern, enum, and one rule of ours:
//!   no string contains U+0000 (see `NUL_PHRASE`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use regex::Regex;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The stripped botocore model, as checked in.
const COGNITO_IDP_JSON: &str = include_str!("../model/cognito-idp.json");

/// Why a request body was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    /// Wrong JSON type somewhere in the body: AWS `SerializationException`.
    Serialization(String),
    /// Model constraint violations: AWS `InvalidParameterException`.
    Constraint(String),
    /// The operation is not in the model: AWS `UnknownOperationException`.
    /// Routing normally catches this first (see [`Model::has_operation`]).
    UnknownOperation(String),
}

impl ValidationError {
    /// The AWS error code (`__type`) this error is reported as.
    pub fn aws_error_code(&self) -> &'static str {
        match self {
            ValidationError::Serialization(_) => "SerializationException",
            ValidationError::Constraint(_) => "InvalidParameterException",
            ValidationError::UnknownOperation(_) => "UnknownOperationException",
        }
    }

    /// The message, as AWS words it.
    pub fn message(&self) -> &str {
        match self {
            ValidationError::Serialization(m)
            | ValidationError::Constraint(m)
            | ValidationError::UnknownOperation(m) => m,
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.aws_error_code(), self.message())
    }
}

impl std::error::Error for ValidationError {}

/// The model could not be loaded (bad JSON, dangling shape reference, or a
/// pattern the regex crate cannot compile). For the embedded model this is a
/// bug caught by this crate's tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError(String);

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid service model: {}", self.0)
    }
}

impl std::error::Error for ModelError {}

/// Index of a shape in [`Model::shapes`].
type ShapeId = usize;

/// The service model, resolved for validation: shape references are indexes
/// and every pattern is compiled once, here, not per request.
#[derive(Debug)]
pub struct Model {
    shapes: Vec<Shape>,
    operations: HashMap<String, Operation>,
}

#[derive(Debug)]
struct Operation {
    input: Option<ShapeId>,
}

#[derive(Debug)]
struct Shape {
    kind: Kind,
    min: Option<i64>,
    max: Option<i64>,
    pattern: Option<Pattern>,
    enum_values: Option<Vec<String>>,
    /// The model marks the shape sensitive: its value is never echoed.
    sensitive: bool,
    /// The shape is sensitive or holds a sensitive shape somewhere below, so
    /// rendering the whole value (as list and map errors do) would leak it.
    contains_sensitive: bool,
}

#[derive(Debug)]
struct Pattern {
    /// The model's (Java) pattern, quoted in error messages.
    java: String,
    /// The same, translated and anchored for the regex crate.
    regex: Regex,
    /// For a pattern that is one character class repeated, `[...]+` (every token and code
    /// shape), the ASCII characters the class admits: an all-ASCII value, the usual case, is
    /// then checked by table. The regex engine over a 1 KB access token was 3% of GetUser.
    ascii_class: Option<AsciiClass>,
}

impl Pattern {
    fn is_match(&self, s: &str) -> bool {
        match &self.ascii_class {
            Some(class) if s.is_ascii() => !s.is_empty() && s.bytes().all(|b| class.admits(b)),
            _ => self.regex.is_match(s),
        }
    }
}

#[derive(Debug, Clone)]
struct AsciiClass([bool; 128]);

impl AsciiClass {
    fn admits(&self, byte: u8) -> bool {
        self.0.get(usize::from(byte)).copied().unwrap_or(false)
    }

    /// `Some` when `java` is a single bracket class followed by `+` and nothing else. The
    /// table is read off the translated class itself, one character at a time, so it agrees
    /// with the regex by construction.
    fn of(java: &str) -> Option<AsciiClass> {
        let inner = java.strip_prefix('[')?.strip_suffix("]+")?;
        // No bracket inside (nested classes, or `\]` and `\[` escapes) and no intersection:
        // then the only `]` ends the class and the `+` applies to all of it.
        if inner.is_empty() || inner.contains(['[', ']', '&']) {
            return None;
        }
        let one = compile_pattern(&format!("[{inner}]")).ok()?;
        let mut table = [false; 128];
        for (byte, admitted) in (0u8..).zip(table.iter_mut()) {
            *admitted = one.is_match(char::from(byte).encode_utf8(&mut [0; 4]));
        }
        Some(AsciiClass(table))
    }
}

#[derive(Debug)]
enum Kind {
    String,
    Integer,
    Long,
    Boolean,
    Timestamp,
    Blob,
    Float,
    Document,
    Structure(Vec<Member>),
    List(MemberRef),
    Map { key: MemberRef, value: MemberRef },
}

#[derive(Debug)]
struct Member {
    /// Wire name, e.g. `PoolName`.
    name: String,
    /// Name in error paths: the wire name with its first letter lowered,
    /// as AWS's validator prints it (`PoolName` -> `poolName`, `SMSMessage`
    /// -> `sMSMessage`).
    path_name: String,
    required: bool,
    target: MemberRef,
}

#[derive(Debug, Clone, Copy)]
struct MemberRef {
    shape: ShapeId,
    /// Sensitive flag on the reference itself (the target may also be).
    sensitive: bool,
}

impl Model {
    /// Loads the embedded Cognito model. Call once at start-up and keep it.
    ///
    /// # Panics
    /// Only if the embedded model is broken, which `tests::embedded_model_loads`
    /// rules out; use [`Model::try_load`] to handle that case yourself.
    pub fn load() -> Model {
        match Model::try_load() {
            Ok(model) => model,
            // A broken embedded model is a build defect, not a runtime condition.
            Err(e) => panic!("{e}"),
        }
    }

    /// Loads the embedded Cognito model, reporting a broken model as an error.
    pub fn try_load() -> Result<Model, ModelError> {
        Model::from_json(COGNITO_IDP_JSON)
    }

    /// Builds a model from botocore-format JSON (stripped or not).
    pub fn from_json(json: &str) -> Result<Model, ModelError> {
        let raw: RawModel =
            serde_json::from_str(json).map_err(|e| ModelError(format!("model JSON: {e}")))?;
        build(raw)
    }

    /// Whether the model has an operation of this name.
    pub fn has_operation(&self, operation: &str) -> bool {
        self.operations.contains_key(operation)
    }

    /// Validates a request body for `operation` against the model.
    ///
    /// `body` must be the parsed JSON body; callers should parse an empty
    /// HTTP body as `{}`. Unknown members are ignored.
    pub fn validate_input(&self, operation: &str, body: &Value) -> Result<(), ValidationError> {
        let op = self.operations.get(operation).ok_or_else(|| {
            ValidationError::UnknownOperation(format!("Unknown operation {operation}"))
        })?;
        let Some(input) = op.input else {
            // No input shape: any object is fine, like an empty structure.
            return match body {
                Value::Object(_) => Ok(()),
                other => Err(ValidationError::Serialization(mismatch(
                    other,
                    "a Structure",
                ))),
            };
        };
        let mut walker = Walker {
            model: self,
            errors: Vec::new(),
        };
        walker
            .value(input, false, body, "")
            .map_err(ValidationError::Serialization)?;
        match walker.errors.len() {
            0 => Ok(()),
            1 => Err(ValidationError::Constraint(format!(
                "1 validation error detected: {}",
                walker.errors.join("; ")
            ))),
            n => Err(ValidationError::Constraint(format!(
                "{n} validation errors detected: {}",
                walker.errors.join("; ")
            ))),
        }
    }

    fn shape(&self, id: ShapeId) -> &Shape {
        // Ids come from `build`, which checks every reference.
        &self.shapes[id]
    }
}

// ---------------------------------------------------------------------------
// Validation walk

/// A serialization error message; the walk stops at the first one.
type SerResult = Result<(), String>;

struct Walker<'m> {
    model: &'m Model,
    errors: Vec<String>,
}

impl Walker<'_> {
    /// Checks a present, non-null `value` against shape `id` at `path`.
    /// `hidden`: the value must not be echoed (sensitive here or above).
    fn value(&mut self, id: ShapeId, hidden: bool, value: &Value, path: &str) -> SerResult {
        let model = self.model;
        let shape = model.shape(id);
        let hidden = hidden || shape.sensitive;
        match &shape.kind {
            Kind::Structure(members) => {
                let Value::Object(object) = value else {
                    return Err(mismatch(value, "a Structure"));
                };
                for member in members {
                    let path = join(path, &member.path_name);
                    let member_hidden = hidden || member.target.sensitive;
                    match object.get(&member.name) {
                        None | Some(Value::Null) => {
                            if member.required {
                                self.errors.push(not_null(&path));
                            }
                        }
                        Some(v) => self.value(member.target.shape, member_hidden, v, &path)?,
                    }
                }
                Ok(())
            }
            Kind::List(element) => {
                let Value::Array(items) = value else {
                    return Err(mismatch(value, "a List"));
                };
                // Type errors first: AWS deserializes the whole body before it validates.
                for item in items {
                    if !item.is_null() {
                        type_check(model, element.shape, item)?;
                    }
                }
                self.size(shape, hidden, value, path, items.len());
                let element_hidden = hidden || element.sensitive;
                let render_hidden = hidden || shape.contains_sensitive;
                if is_scalar(&model.shape(element.shape).kind) {
                    // A list of scalars is reported as one error on the list.
                    let mut failed = false;
                    for (i, item) in items.iter().enumerate() {
                        if item.is_null() {
                            self.errors.push(not_null(&list_item(path, i)));
                        } else {
                            failed |= !scalar_phrases(model.shape(element.shape), item).is_empty();
                        }
                    }
                    if failed {
                        let all = all_phrases(model.shape(element.shape), items.iter());
                        self.errors.push(failure(
                            value,
                            render_hidden,
                            path,
                            &format!("Member must satisfy constraint: [{}]", all.join(", ")),
                        ));
                    }
                } else {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = list_item(path, i);
                        if item.is_null() {
                            self.errors.push(not_null(&item_path));
                        } else {
                            self.value(element.shape, element_hidden, item, &item_path)?;
                        }
                    }
                }
                Ok(())
            }
            Kind::Map { key, value: val } => {
                let Value::Object(entries) = value else {
                    return Err(mismatch(value, "a Map"));
                };
                for v in entries.values() {
                    if !v.is_null() {
                        type_check(model, val.shape, v)?;
                    }
                }
                self.size(shape, hidden, value, path, entries.len());
                let render_hidden = hidden || shape.contains_sensitive;
                let key_shape = model.shape(key.shape);
                let keys: Vec<Value> = entries.keys().cloned().map(Value::String).collect();
                if keys
                    .iter()
                    .any(|k| !scalar_phrases(key_shape, k).is_empty())
                {
                    self.errors.push(failure(
                        value,
                        render_hidden,
                        path,
                        &format!(
                            "Map keys must satisfy constraint: [{}]",
                            all_phrases(key_shape, keys.iter()).join(", ")
                        ),
                    ));
                }
                let value_shape = model.shape(val.shape);
                let value_hidden = hidden || val.sensitive;
                if is_scalar(&value_shape.kind) {
                    let mut failed = false;
                    for (k, v) in entries {
                        if v.is_null() {
                            self.errors.push(not_null(&map_entry(path, k)));
                        } else {
                            failed |= !scalar_phrases(value_shape, v).is_empty();
                        }
                    }
                    if failed {
                        self.errors.push(failure(
                            value,
                            render_hidden,
                            path,
                            &format!(
                                "Map value must satisfy constraint: [{}]",
                                all_phrases(value_shape, entries.values()).join(", ")
                            ),
                        ));
                    }
                } else {
                    for (k, v) in entries {
                        let entry_path = map_entry(path, k);
                        if v.is_null() {
                            self.errors.push(not_null(&entry_path));
                        } else {
                            self.value(val.shape, value_hidden, v, &entry_path)?;
                        }
                    }
                }
                Ok(())
            }
            _ => {
                // A scalar member of a structure (list and map elements that
                // are scalars are handled above, as AWS reports them).
                type_check(model, id, value)?;
                for phrase in scalar_phrases(shape, value) {
                    self.errors
                        .push(failure(value, hidden || is_blob(shape), path, &phrase));
                }
                Ok(())
            }
        }
    }

    /// Length constraints of a list or map.
    fn size(&mut self, shape: &Shape, hidden: bool, value: &Value, path: &str, len: usize) {
        let hidden = hidden || shape.contains_sensitive;
        for phrase in length_phrases(shape, len as i64) {
            self.errors.push(failure(value, hidden, path, &phrase));
        }
    }
}

/// `a.b` path join; the body itself has the empty path.
fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// AWS numbers list items from 1: `userAttributes.1.member`.
fn list_item(path: &str, index: usize) -> String {
    format!("{path}.{}.member", index + 1)
}

/// AWS's form for map entries is not documented; `<map>.<key>.member`
/// mirrors the list form. (Cognito's maps all hold strings, whose errors are
/// reported on the map itself, so this only shows for null values.)
fn map_entry(path: &str, key: &str) -> String {
    format!("{path}.{key}.member")
}

fn not_null(path: &str) -> String {
    format!("Value null at '{path}' failed to satisfy constraint: Member must not be null")
}

fn failure(value: &Value, hidden: bool, path: &str, phrase: &str) -> String {
    if hidden {
        format!("Value at '{path}' failed to satisfy constraint: {phrase}")
    } else {
        format!(
            "Value '{}' at '{path}' failed to satisfy constraint: {phrase}",
            render(value)
        )
    }
}

/// Java-ish rendering, as AWS echoes values: strings bare, lists `[a, b]`,
/// maps and structures `{k=v, k2=v2}`.
fn render(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k}={}", render(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

fn is_scalar(kind: &Kind) -> bool {
    !matches!(kind, Kind::Structure(_) | Kind::List(_) | Kind::Map { .. })
}

fn is_blob(shape: &Shape) -> bool {
    // Blobs are base64 text on the wire; AWS would echo the decoded bytes'
    // Java buffer, which is useless, so the value is left out.
    matches!(shape.kind, Kind::Blob)
}

/// Checks the JSON type of `value` for shape `id`. For a collection or
/// structure only the container is checked; its content is walked separately.
/// Every JSON value accepted here deserializes into the generated Rust type.
fn type_check(model: &Model, id: ShapeId, value: &Value) -> SerResult {
    let (ok, expected) = match model.shape(id).kind {
        Kind::String | Kind::Blob => (value.is_string(), "a String"),
        // `integer` is a Java int on AWS's side, even though Rust holds i64.
        Kind::Integer => (
            value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "an Integer",
        ),
        Kind::Long => (value.as_i64().is_some(), "a Long"),
        Kind::Boolean => (value.is_boolean(), "a Boolean"),
        Kind::Timestamp => (value.is_number(), "a Date"),
        Kind::Float => (value.is_number(), "a Double"),
        Kind::Document => (true, "a Document"),
        Kind::Structure(_) => (value.is_object(), "a Structure"),
        Kind::List(_) => (value.is_array(), "a List"),
        Kind::Map { .. } => (value.is_object(), "a Map"),
    };
    if ok {
        Ok(())
    } else {
        Err(mismatch(value, expected))
    }
}

/// AWS's (Coral's) wording for a JSON value of the wrong type.
fn mismatch(found: &Value, expected: &str) -> String {
    let token = match found {
        Value::Array(_) => return "Start of list found where not expected".to_owned(),
        Value::Object(_) => {
            return "Start of structure or map found where not expected.".to_owned();
        }
        Value::String(_) => "STRING_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::Bool(_) => "BOOLEAN_VALUE",
        Value::Null => "NULL_VALUE",
    };
    format!("{token} can not be converted to {expected}")
}

// ---------------------------------------------------------------------------
// Constraint phrases

/// Phrases of the constraints `value` (already type checked) breaks, in the
/// fixed order: length, value range, pattern, enum, NUL.
fn scalar_phrases(shape: &Shape, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match (&shape.kind, value) {
        (Kind::String, Value::String(s)) => {
            // Length counts Unicode scalar values, not bytes.
            out.extend(length_phrases(shape, s.chars().count() as i64));
            if let Some(p) = &shape.pattern
                && !p.is_match(s)
            {
                out.push(pattern_phrase(p));
            }
            if let Some(values) = &shape.enum_values
                && !values.iter().any(|v| v == s)
            {
                out.push(enum_phrase(values));
            }
            if s.contains('\0') {
                out.push(NUL_PHRASE.to_owned());
            }
        }
        (Kind::Blob, Value::String(s)) => {
            out.extend(length_phrases(shape, base64_decoded_len(s)));
        }
        (Kind::Integer | Kind::Long, Value::Number(n)) => {
            if let Some(n) = n.as_i64() {
                if let Some(max) = shape.max
                    && n > max
                {
                    out.push(format!(
                        "Member must have value less than or equal to {max}"
                    ));
                }
                if let Some(min) = shape.min
                    && n < min
                {
                    out.push(format!(
                        "Member must have value greater than or equal to {min}"
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

fn length_phrases(shape: &Shape, len: i64) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(max) = shape.max
        && len > max
    {
        out.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    if let Some(min) = shape.min
        && len < min
    {
        out.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    out
}

/// Every constraint of an element shape, failing or not: AWS lists them all
/// inside `Member must satisfy constraint: [...]` and `Map keys must ...`.
/// The NUL rule, ours and not the model's, is listed only when one of
/// `values` breaks it, so AWS's wording stays as it is for the others.
fn all_phrases<'v>(shape: &Shape, mut values: impl Iterator<Item = &'v Value>) -> Vec<String> {
    let mut out = Vec::new();
    let numeric = matches!(shape.kind, Kind::Integer | Kind::Long);
    let what = if numeric { "value" } else { "length" };
    if let Some(max) = shape.max {
        out.push(format!(
            "Member must have {what} less than or equal to {max}"
        ));
    }
    if let Some(min) = shape.min {
        out.push(format!(
            "Member must have {what} greater than or equal to {min}"
        ));
    }
    if let Some(p) = &shape.pattern {
        out.push(pattern_phrase(p));
    }
    if let Some(values) = &shape.enum_values {
        out.push(enum_phrase(values));
    }
    if matches!(shape.kind, Kind::String)
        && values.any(|v| v.as_str().is_some_and(|s| s.contains('\0')))
    {
        out.push(NUL_PHRASE.to_owned());
    }
    out
}

/// No string may carry U+0000, whatever its shape (an addition to the model's constraints):
/// PostgreSQL's `text` cannot hold it, so such a value would fail in the store as an internal
/// error after the request had been accepted, and no Cognito value legitimately contains it.
const NUL_PHRASE: &str = "Member must not contain the character U+0000";

fn pattern_phrase(p: &Pattern) -> String {
    format!("Member must satisfy regular expression pattern: {}", p.java)
}

fn enum_phrase(values: &[String]) -> String {
    format!(
        "Member must satisfy enum value set: [{}]",
        values.join(", ")
    )
}

/// Decoded size of base64 text, for blob length constraints (which count
/// bytes). Malformed base64 is left to the handler that decodes it.
fn base64_decoded_len(s: &str) -> i64 {
    let data = s.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    let padding = s.bytes().rev().take_while(|&b| b == b'=').count().min(2);
    ((data / 4) * 3 + (data % 4).saturating_sub(1)) as i64 - padding as i64
}

// ---------------------------------------------------------------------------
// Java -> Rust regex translation (the one place that knows the difference)

/// Model patterns the regex crate cannot express even after
/// [`translate_java_pattern`], keyed by the exact model text. The
/// replacement is final regex-crate syntax.
const PATTERN_OVERRIDES: &[(&str, &str)] = &[
    // S3BucketType: "must not end with a dot" is a Java lookbehind `(?<!\.)`;
    // the regex crate has no lookaround. Same language: empty, or ending in a
    // non-dot allowed character.
    (
        r"^[0-9A-Za-z\.\-_]*(?<!\.)$",
        r"^(?:[0-9A-Za-z.\-_]*[0-9A-Za-z\-_])?$",
    ),
    // DomainType: the model's pattern admits only a prefix label, yet the same shape carries
    // custom domains (`auth.example.com`), which Cognito accepts. Dot-separated labels of the
    // same form; core tells prefix from custom by CustomDomainConfig and checks each.
    (
        r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$",
        r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)*$",
    ),
];

/// Java's line terminators, which its `.` does not match (without `(?s)`).
const JAVA_DOT: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";

/// Translates a Java regex to the regex crate's dialect, keeping Java's
/// meaning where the two differ:
/// * `\w \d \s` and their negations are ASCII-only in Java (no
///   `UNICODE_CHARACTER_CLASS` flag), Unicode-aware in the regex crate: they
///   become explicit ASCII classes (nested classes are fine in both).
/// * Java's `.` also stops at `\r`, U+0085, U+2028 and U+2029.
/// * Lookaround and `\Q..\E`, `\G`, `\Z`, `\R`, `\X`, `\h`, `\H`, `\v`, `\V`
///   have no safe equivalent: an error, to be fixed in [`PATTERN_OVERRIDES`].
///
/// Whole-value matching (Java's `matches()`) is added by the caller.
fn translate_java_pattern(java: &str) -> Result<String, String> {
    if let Some((_, rust)) = PATTERN_OVERRIDES.iter().find(|(j, _)| *j == java) {
        return Ok((*rust).to_owned());
    }
    let mut out = String::with_capacity(java.len() + 16);
    let mut chars = java.chars().peekable();
    let mut class_depth = 0usize;
    let mut dotall = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    return Err("trailing backslash".to_owned());
                };
                match e {
                    'w' => out.push_str("[0-9A-Za-z_]"),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    's' => out.push_str(r"[\t\n\x0B\x0C\r ]"),
                    'S' => out.push_str(r"[^\t\n\x0B\x0C\r ]"),
                    'Q' | 'E' | 'G' | 'Z' | 'R' | 'X' | 'h' | 'H' | 'v' | 'V' => {
                        return Err(format!("unsupported escape \\{e}"));
                    }
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' => {
                class_depth += 1;
                out.push('[');
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            '.' if class_depth == 0 && !dotall => out.push_str(JAVA_DOT),
            '(' if class_depth == 0 && chars.peek() == Some(&'?') => {
                let ahead: String = chars.clone().take(3).collect();
                if ["?=", "?!", "?<=", "?<!"]
                    .iter()
                    .any(|l| ahead.starts_with(l))
                {
                    return Err("lookaround is not supported".to_owned());
                }
                // Inline flags such as `(?s)` or `(?is:`: approximate Java's
                // scoping by switching dot-all on for the rest of the pattern.
                let flags: String = chars
                    .clone()
                    .skip(1)
                    .take_while(|f| f.is_ascii_alphabetic() || *f == '-')
                    .collect();
                let after = chars.clone().nth(1 + flags.len());
                let enabled = flags.split('-').next().unwrap_or_default();
                if matches!(after, Some(')' | ':')) && enabled.contains('s') {
                    dotall = true;
                }
                out.push('(');
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

fn compile_pattern(java: &str) -> Result<Regex, String> {
    let rust = translate_java_pattern(java)?;
    Regex::new(&format!("^(?:{rust})$")).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------
// Loading

#[derive(Deserialize)]
struct RawModel {
    operations: BTreeMap<String, RawOperation>,
    shapes: BTreeMap<String, RawShape>,
}

#[derive(Deserialize)]
struct RawOperation {
    input: Option<RawRef>,
}

#[derive(Deserialize)]
struct RawRef {
    shape: String,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "ordered_members")]
    members: Vec<(String, RawRef)>,
    #[serde(default)]
    required: Vec<String>,
    min: Option<serde_json::Number>,
    max: Option<serde_json::Number>,
    pattern: Option<String>,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<String>>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    document: bool,
    member: Option<RawRef>,
    key: Option<RawRef>,
    value: Option<RawRef>,
}

/// `members` in document order: serde_json's map type sorts its keys (the
/// workspace does not enable `preserve_order`), and error order follows the
/// model's member order.
fn ordered_members<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, RawRef)>, D::Error> {
    struct Ordered;
    impl<'de> Visitor<'de> for Ordered {
        type Value = Vec<(String, RawRef)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of member references")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry::<String, RawRef>()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Ordered)
}

fn bound(
    shape: &str,
    which: &str,
    n: Option<&serde_json::Number>,
) -> Result<Option<i64>, ModelError> {
    match n {
        None => Ok(None),
        Some(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ModelError(format!("shape {shape}: {which} {n} is not an integer"))),
    }
}

fn build(raw: RawModel) -> Result<Model, ModelError> {
    let ids: HashMap<&str, ShapeId> = raw
        .shapes
        .keys()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    let resolve = |owner: &str, r: &RawRef| -> Result<MemberRef, ModelError> {
        let shape = *ids
            .get(r.shape.as_str())
            .ok_or_else(|| ModelError(format!("{owner} refers to unknown shape {}", r.shape)))?;
        Ok(MemberRef {
            shape,
            sensitive: r.sensitive,
        })
    };
    let need = |owner: &str, what: &str, r: &Option<RawRef>| -> Result<MemberRef, ModelError> {
        match r {
            Some(r) => resolve(owner, r),
            None => Err(ModelError(format!("shape {owner} has no {what}"))),
        }
    };

    // Many shapes share a pattern; compile each distinct one once.
    let mut compiled: HashMap<&str, Regex> = HashMap::new();
    let mut shapes = Vec::with_capacity(raw.shapes.len());
    for (name, s) in &raw.shapes {
        let kind = match s.kind.as_str() {
            "string" => Kind::String,
            "integer" => Kind::Integer,
            "long" => Kind::Long,
            "boolean" => Kind::Boolean,
            "timestamp" => Kind::Timestamp,
            "blob" => Kind::Blob,
            "float" | "double" => Kind::Float,
            "structure" | "union" if s.document => Kind::Document,
            "structure" | "union" => {
                let mut members = Vec::with_capacity(s.members.len());
                for (member, r) in &s.members {
                    members.push(Member {
                        name: member.clone(),
                        path_name: lower_first(member),
                        required: s.required.iter().any(|x| x == member),
                        target: resolve(&format!("{name}.{member}"), r)?,
                    });
                }
                Kind::Structure(members)
            }
            "list" => Kind::List(need(name, "member", &s.member)?),
            "map" => Kind::Map {
                key: need(name, "key", &s.key)?,
                value: need(name, "value", &s.value)?,
            },
            other => return Err(ModelError(format!("shape {name}: unknown type {other}"))),
        };
        let pattern = match &s.pattern {
            None => None,
            Some(java) => {
                let regex = match compiled.get(java.as_str()) {
                    Some(r) => r.clone(),
                    None => {
                        let r = compile_pattern(java).map_err(|e| {
                            ModelError(format!("shape {name}: pattern {java}: {e}"))
                        })?;
                        compiled.insert(java, r.clone());
                        r
                    }
                };
                Some(Pattern {
                    java: java.clone(),
                    regex,
                    ascii_class: AsciiClass::of(java),
                })
            }
        };
        shapes.push(Shape {
            kind,
            min: bound(name, "min", s.min.as_ref())?,
            max: bound(name, "max", s.max.as_ref())?,
            pattern,
            enum_values: s.enum_values.clone(),
            sensitive: s.sensitive,
            contains_sensitive: false,
        });
    }
    mark_contains_sensitive(&mut shapes);

    let mut operations = HashMap::with_capacity(raw.operations.len());
    for (name, op) in &raw.operations {
        let input = match &op.input {
            Some(r) => Some(resolve(name, r)?.shape),
            None => None,
        };
        operations.insert(name.clone(), Operation { input });
    }
    Ok(Model { shapes, operations })
}

/// Fixpoint over the shape graph (it may have cycles): a shape contains
/// sensitive data if it is sensitive or any shape it refers to does, or a
/// reference to it is marked sensitive.
fn mark_contains_sensitive(shapes: &mut [Shape]) {
    loop {
        let mut changed = false;
        for i in 0..shapes.len() {
            if shapes[i].contains_sensitive {
                continue;
            }
            let refs: Vec<MemberRef> = match &shapes[i].kind {
                Kind::Structure(members) => members.iter().map(|m| m.target).collect(),
                Kind::List(m) => vec![*m],
                Kind::Map { key, value } => vec![*key, *value],
                _ => Vec::new(),
            };
            let contains = shapes[i].sensitive
                || refs.iter().any(|r| {
                    r.sensitive || shapes[r.shape].contains_sensitive || shapes[r.shape].sensitive
                });
            if contains {
                shapes[i].contains_sensitive = true;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// `PoolName` -> `poolName`: AWS lowers only the first letter.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "validate_fuzz.rs"]
mod fuzz;
