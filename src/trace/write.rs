//! The JSON lines of a trace, written by hand so that the crate needs no JSON library (issue
//! 17: serde_json's `PartialEq<Value>` impls on the integer types would break
//! `x != INVALID_SOCKET as _` inference in every crate linking ws2sim). The bytes are those
//! serde_json writes for the same objects (tested in `tests.rs`).

use std::net::SocketAddrV4;
use std::time::Duration;

use super::{profile_name, Event, Header, Packet, TRACE_FORMAT_VERSION};

/// A duration in whole nanoseconds, saturating at `u64::MAX` (584 years).
pub(super) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Appends `s` as a JSON string (RFC 8259): `"` and `\` escaped, control characters as
/// `\n`-style escapes or `\u00xx`, everything else (non-ASCII included) as it is.
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `,"key":` (or `"key":` first in an object).
fn key(out: &mut String, key: &str) {
    if !out.ends_with('{') {
        out.push(',');
    }
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

fn str_field(out: &mut String, k: &str, v: &str) {
    key(out, k);
    json_string(out, v);
}

fn num_field(out: &mut String, k: &str, v: impl ToString) {
    key(out, k);
    out.push_str(&v.to_string());
}

fn addr_field(out: &mut String, k: &str, v: Option<SocketAddrV4>) {
    match v {
        Some(a) => str_field(out, k, &a.to_string()),
        None => {
            key(out, k);
            out.push_str("null");
        }
    }
}

/// The header line (without its newline).
pub(super) fn header(h: &Header) -> String {
    let mut out = String::from("{");
    str_field(&mut out, "kind", "header");
    str_field(&mut out, "format", "ws2sim-trace");
    num_field(&mut out, "version", TRACE_FORMAT_VERSION);
    num_field(&mut out, "seed", h.seed);
    str_field(&mut out, "profile", profile_name(h.profile));
    str_field(&mut out, "scheduler", &h.scheduler);
    key(&mut out, "hosts");
    out.push('[');
    for (i, host) in h.hosts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        str_field(&mut out, "name", &host.name);
        str_field(&mut out, "addr", &host.addr.to_string());
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// Appends an event's line (without its newline).
pub(super) fn event(out: &mut String, e: &Event) {
    out.push('{');
    str_field(out, "kind", e.kind.name());
    num_field(out, "seq", e.seq);
    num_field(out, "time_ns", nanos(e.time));
    str_field(out, "host", &e.host);
    str_field(out, "process", &e.process);
    num_field(out, "pid", e.pid);
    num_field(out, "thread", e.thread);
    str_field(out, "call", &e.call);
    str_field(out, "args", &e.args);
    key(out, "arguments");
    out.push('[');
    for (i, a) in e.arguments.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        str_field(out, "name", &a.name);
        str_field(out, "value", &a.value);
        out.push('}');
    }
    out.push(']');
    str_field(out, "result", &e.result);
    match e.returned {
        None => out.push_str(",\"returned\":null"),
        Some(n) => num_field(out, "returned", n),
    }
    match e.error {
        None => out.push_str(",\"error\":null,\"error_code\":null"),
        Some(err) => {
            str_field(out, "error", err.name());
            num_field(out, "error_code", err.code());
        }
    }
    key(out, "rules");
    out.push('[');
    for (i, r) in e.rules.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, r.id());
    }
    out.push(']');
    num_field(out, "blocked_ns", nanos(e.blocked));
    if let Some(p) = &e.packet {
        key(out, "packet");
        packet(out, p);
    }
    out.push('}');
}

fn packet(out: &mut String, p: &Packet) {
    out.push('{');
    str_field(out, "kind", p.kind.name());
    num_field(out, "bytes", p.bytes);
    addr_field(out, "from", p.from);
    str_field(out, "to_host", &p.to_host);
    addr_field(out, "to", p.to);
    num_field(out, "arrives_ns", nanos(p.arrives));
    out.push('}');
}
