//! Reading JSON lines back into a [`Trace`]: a small JSON parser for the flat objects the
//! writer produces (strings, integers, `null`, arrays, objects; no floats), then a strict
//! mapping onto the trace types.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::{
    profile_from_name, Argument, Event, EventKind, Header, HostInfo, Packet, PacketKind, Trace,
    TRACE_FORMAT_VERSION,
};
use crate::core::rules::Rule;
use crate::WsaError;

/// Why [`Trace::from_json_lines`] could not read a trace, and on which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    line: usize,
    message: String,
}

impl TraceError {
    /// The line (from 1) that could not be read.
    pub fn line(&self) -> usize {
        self.line
    }

    /// What was wrong with it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TraceError {}

/// A JSON value. Numbers are integers only: the trace has no others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Str(String),
    Arr(Vec<Value>),
    Obj(Vec<(String, Value)>),
}

/// Parses one JSON value filling all of `text` (whitespace around it allowed).
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!(
            "unexpected text after the value at column {}",
            p.i + 1
        ));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

/// How deep arrays and objects may nest (the trace needs 3).
const MAX_DEPTH: usize = 32;

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at column {}", self.i + 1))
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) != Some(&c) {
            return self.err(&format!("expected {:?}", char::from(c)));
        }
        self.i += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.ws();
        match self.s.get(self.i) {
            None => self.err("expected a value, found the end of the line"),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'{') => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Obj(fields));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return self.err("expected a key");
                    }
                    let k = self.string()?;
                    self.eat(b':')?;
                    fields.push((k, self.value(depth + 1)?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Obj(fields));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::Arr(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.integer(),
            Some(_) => {
                for (word, v) in [
                    ("null", Value::Null),
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                ] {
                    if self.s[self.i..].starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return Ok(v);
                    }
                }
                self.err("expected a value")
            }
        }
    }

    fn integer(&mut self) -> Result<Value, String> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let digits = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let n = self.i - digits;
        if n == 0 || (n > 1 && self.s[digits] == b'0') {
            self.i = start;
            return self.err("malformed number");
        }
        if matches!(self.s.get(self.i), Some(b'.' | b'e' | b'E')) {
            return self.err("not an integer (the trace has no fractions)");
        }
        match self.text[start..self.i].parse::<i128>() {
            Ok(v) => Ok(Value::Int(v)),
            Err(_) => {
                self.i = start;
                self.err("integer out of range")
            }
        }
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, String> {
        let Some(h) = self.text.get(self.i..self.i + 4) else {
            return self.err("short \\u escape");
        };
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return self.err("bad \\u escape");
        }
        self.i += 4;
        Ok(u32::from_str_radix(h, 16).expect("four hex digits"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // the opening quote
        let mut out = String::new();
        loop {
            let run = self.i;
            while self
                .s
                .get(self.i)
                .is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20)
            {
                self.i += 1;
            }
            // Stops only at ASCII bytes: `run..i` lies on character boundaries.
            out.push_str(&self.text[run..self.i]);
            match self.s.get(self.i) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let Some(&c) = self.s.get(self.i) else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi) {
                                if !self.s[self.i..].starts_with(b"\\u") {
                                    return self.err("lone high surrogate");
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return self.err("bad low surrogate");
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(ch) => out.push(ch),
                                None => return self.err("lone low surrogate"),
                            }
                        }
                        _ => {
                            self.i -= 1;
                            return self.err("unknown escape");
                        }
                    }
                }
                Some(_) => return self.err("control character in a string"),
            }
        }
    }
}

/// `v` as an integer of type `T`; `key` names it in the error.
pub(crate) fn int<T: TryFrom<i128>>(v: Value, key: &str) -> Result<T, String> {
    match v {
        Value::Int(n) => T::try_from(n).map_err(|_| format!("{key:?} is out of range: {n}")),
        v => Err(format!("{key:?} is not an integer: {v:?}")),
    }
}

/// An object's fields, taken one key at a time; what is left at the end is an unknown key.
pub(crate) struct Fields(Vec<(String, Value)>);

impl Fields {
    pub(crate) fn of(v: Value, what: &str) -> Result<Fields, String> {
        match v {
            Value::Obj(f) => Ok(Fields(f)),
            _ => Err(format!("{what} is not an object")),
        }
    }

    pub(crate) fn take(&mut self, key: &str) -> Result<Value, String> {
        self.take_opt(key)?
            .ok_or_else(|| format!("missing key {key:?}"))
    }

    pub(crate) fn take_opt(&mut self, key: &str) -> Result<Option<Value>, String> {
        match self.0.iter().position(|(k, _)| k == key) {
            Some(i) => {
                let v = self.0.remove(i).1;
                if self.0.iter().any(|(k, _)| k == key) {
                    return Err(format!("key {key:?} twice"));
                }
                Ok(Some(v))
            }
            None => Ok(None),
        }
    }

    pub(crate) fn string(&mut self, key: &str) -> Result<String, String> {
        match self.take(key)? {
            Value::Str(s) => Ok(s),
            v => Err(format!("{key:?} is not a string: {v:?}")),
        }
    }

    pub(crate) fn int<T: TryFrom<i128>>(&mut self, key: &str) -> Result<T, String> {
        int(self.take(key)?, key)
    }

    pub(crate) fn nanos(&mut self, key: &str) -> Result<Duration, String> {
        self.int::<u64>(key).map(Duration::from_nanos)
    }

    pub(crate) fn addr(&mut self, key: &str) -> Result<Option<SocketAddrV4>, String> {
        match self.take(key)? {
            Value::Null => Ok(None),
            Value::Str(s) => s
                .parse()
                .map(Some)
                .map_err(|_| format!("{key:?} is not an ip:port address: {s:?}")),
            v => Err(format!("{key:?} is not an address: {v:?}")),
        }
    }

    pub(crate) fn done(self) -> Result<(), String> {
        match self.0.first() {
            None => Ok(()),
            Some((k, _)) => Err(format!("unknown key {k:?}")),
        }
    }
}

pub(super) fn trace(text: &str) -> Result<Trace, TraceError> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut lines = body.split('\n').enumerate().map(|(i, l)| (i + 1, l));
    let at = |line: usize| move |message: String| TraceError { line, message };
    let (n, first) = lines.next().expect("split gives at least one piece");
    if first.is_empty() && body.is_empty() {
        return Err(at(1)("empty trace: no header line".into()));
    }
    let header = header(first).map_err(at(n))?;
    let mut events = Vec::new();
    for (n, line) in lines {
        events.push(event(line).map_err(at(n))?);
    }
    Ok(Trace { header, events })
}

fn header(line: &str) -> Result<Header, String> {
    let mut f = Fields::of(parse(line)?, "the line")?;
    if f.take_opt("kind")? != Some(Value::Str("header".into())) {
        return Err("the first line is not the trace's header (kind \"header\")".into());
    }
    let format = f.string("format")?;
    if format != "ws2sim-trace" {
        return Err(format!("not a ws2sim trace (format {format:?})"));
    }
    let version: u32 = f.int("version")?;
    if version != TRACE_FORMAT_VERSION {
        return Err(format!(
            "trace format version {version}; this ws2sim reads version {TRACE_FORMAT_VERSION}"
        ));
    }
    let seed = f.int("seed")?;
    let profile = f.string("profile")?;
    let profile = profile_from_name(&profile).ok_or(format!("unknown profile {profile:?}"))?;
    let scheduler = f.string("scheduler")?;
    let hosts = match f.take("hosts")? {
        Value::Arr(items) => items
            .into_iter()
            .map(|h| {
                let mut h = Fields::of(h, "a host")?;
                let name = h.string("name")?;
                let addr = h.string("addr")?;
                let addr: Ipv4Addr = addr
                    .parse()
                    .map_err(|_| format!("host address {addr:?} is not IPv4"))?;
                h.done()?;
                Ok(HostInfo { name, addr })
            })
            .collect::<Result<_, String>>()?,
        v => return Err(format!("\"hosts\" is not an array: {v:?}")),
    };
    f.done()?;
    Ok(Header {
        seed,
        profile,
        scheduler,
        hosts,
    })
}

fn event(line: &str) -> Result<Event, String> {
    let mut f = Fields::of(parse(line)?, "the line")?;
    let kind = f.string("kind")?;
    let kind = EventKind::from_name(&kind).ok_or(format!("unknown event kind {kind:?}"))?;
    let seq = f.int("seq")?;
    let time = f.nanos("time_ns")?;
    let host = f.string("host")?;
    let process = f.string("process")?;
    let pid = f.int("pid")?;
    let thread = f.int("thread")?;
    let call = f.string("call")?;
    let args = f.string("args")?;
    let arguments = arguments(f.take("arguments")?)?;
    let result = f.string("result")?;
    let returned = returned(f.take("returned")?)?;
    let error = error(f.take("error")?, f.take("error_code")?)?;
    let rules = match f.take("rules")? {
        Value::Arr(ids) => ids
            .into_iter()
            .map(|id| match id {
                Value::Str(id) => Rule::from_id(&id).ok_or(format!("unknown rule {id:?}")),
                v => Err(format!("a rule id is not a string: {v:?}")),
            })
            .collect::<Result<_, String>>()?,
        v => return Err(format!("\"rules\" is not an array: {v:?}")),
    };
    let blocked = f.nanos("blocked_ns")?;
    let packet = f.take_opt("packet")?.map(packet).transpose()?;
    f.done()?;
    if (kind == EventKind::Packet) != packet.is_some() {
        return Err("a \"packet\" object goes with kind \"packet\" and only with it".into());
    }
    Ok(Event {
        seq,
        kind,
        time,
        host,
        process,
        pid,
        thread,
        call,
        args,
        arguments,
        result,
        returned,
        error,
        rules,
        blocked,
        packet,
    })
}

fn arguments(v: Value) -> Result<Vec<Argument>, String> {
    match v {
        Value::Arr(items) => items
            .into_iter()
            .map(|a| {
                let mut a = Fields::of(a, "an argument")?;
                let name = a.string("name")?;
                let value = a.string("value")?;
                a.done()?;
                Ok(Argument { name, value })
            })
            .collect(),
        v => Err(format!("\"arguments\" is not an array: {v:?}")),
    }
}

fn returned(v: Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Int(n) => i64::try_from(n)
            .map(Some)
            .map_err(|_| format!("\"returned\" {n} is out of range")),
        v => Err(format!("\"returned\" is not an integer or null: {v:?}")),
    }
}

fn error(name: Value, code: Value) -> Result<Option<WsaError>, String> {
    match (name, code) {
        (Value::Null, Value::Null) => Ok(None),
        (Value::Str(name), Value::Int(code)) => {
            let e = i32::try_from(code)
                .ok()
                .and_then(WsaError::from_code)
                .ok_or(format!("unknown error code {code}"))?;
            if e.name() != name {
                return Err(format!("error {name:?} does not match code {code}"));
            }
            Ok(Some(e))
        }
        (e, c) => Err(format!("bad error/error_code pair: {e:?}, {c:?}")),
    }
}

fn packet(p: Value) -> Result<Packet, String> {
    let mut p = Fields::of(p, "\"packet\"")?;
    let kind = p.string("kind")?;
    let kind = PacketKind::from_name(&kind).ok_or(format!("unknown packet {kind:?}"))?;
    let packet = Packet {
        kind,
        bytes: p.int("bytes")?,
        from: p.addr("from")?,
        to_host: p.string("to_host")?,
        to: p.addr("to")?,
        arrives: p.nanos("arrives_ns")?,
    };
    p.done()?;
    Ok(packet)
}
