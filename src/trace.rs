//! The trace: every Winsock call and harness event of a simulation, in order.

use std::fmt;
use std::time::Duration;

use crate::core::rules::Rule;

/// One recorded event: a Winsock call with its outcome, or a harness event (a process ending,
/// the network failing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Position in the trace, from 0.
    pub seq: u64,
    /// Virtual time of the event.
    pub time: Duration,
    /// The host's name.
    pub host: String,
    /// The process's name (empty for host events).
    pub process: String,
    /// The process id (0 for host events).
    pub pid: u32,
    /// The calling thread's id (0 for events not made by a thread).
    pub thread: u32,
    /// The function called (`"closesocket"`) or the harness event (`"ExitProcess"`).
    pub call: String,
    /// The arguments as passed, with symbolic names where Winsock has them.
    pub args: String,
    /// What the function returned (`"0"`, a socket handle, `"SOCKET_ERROR"`, ...).
    pub result: String,
    /// The error the call reported, if it failed.
    pub error: Option<crate::WsaError>,
    /// The SPEC rules that decided the outcome, in the order they fired.
    pub rules: Vec<Rule>,
    /// How long the call waited in virtual time before completing (zero if it did not block);
    /// `time` is when it completed.
    pub blocked: Duration,
}

impl Event {
    /// The event as one JSON object, keys in a fixed order, written by hand so that the crate
    /// needs no JSON library (issue 17: serde_json's `PartialEq<Value>` impls on the integer
    /// types would break `x != INVALID_SOCKET as _` inference in every crate linking ws2sim).
    /// The bytes are those serde_json writes for the same object (tested below).
    fn json(&self) -> String {
        let mut out = String::with_capacity(160 + self.args.len());
        out.push_str("{\"seq\":");
        out.push_str(&self.seq.to_string());
        out.push_str(",\"time_ns\":");
        out.push_str(&nanos(self.time).to_string());
        for (key, value) in [("host", &self.host), ("process", &self.process)] {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            json_string(&mut out, value);
        }
        out.push_str(",\"pid\":");
        out.push_str(&self.pid.to_string());
        out.push_str(",\"thread\":");
        out.push_str(&self.thread.to_string());
        for (key, value) in [
            ("call", &self.call),
            ("args", &self.args),
            ("result", &self.result),
        ] {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            json_string(&mut out, value);
        }
        match self.error {
            None => out.push_str(",\"error\":null,\"error_code\":null"),
            Some(e) => {
                out.push_str(",\"error\":");
                json_string(&mut out, e.name());
                out.push_str(",\"error_code\":");
                out.push_str(&e.code().to_string());
            }
        }
        out.push_str(",\"rules\":[");
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&mut out, r.id());
        }
        out.push_str("],\"blocked_ns\":");
        out.push_str(&nanos(self.blocked).to_string());
        out.push('}');
        out
    }
}

/// A duration in whole nanoseconds, saturating at `u64::MAX` (584 years).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Appends `s` as a JSON string (RFC 8259): `"` and `\` escaped, control characters as
/// `\n`-style escapes or `\u00xx`, everything else (non-ASCII included) as it is.
fn json_string(out: &mut String, s: &str) {
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

impl fmt::Display for Event {
    /// `#3 0.000000s server/app[1:1] closesocket(0x100004) = 0 [CS-1]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {}.{:06}s {}/{}[{}:{}] {}({}){} = {}",
            self.seq,
            self.time.as_secs(),
            self.time.subsec_micros(),
            self.host,
            self.process,
            self.pid,
            self.thread,
            self.call,
            self.args,
            if self.blocked.is_zero() {
                String::new()
            } else {
                format!(" (blocked {:?})", self.blocked)
            },
            self.result
        )?;
        if let Some(e) = self.error {
            write!(f, " {}", e.name())?;
        }
        if !self.rules.is_empty() {
            let ids: Vec<&str> = self.rules.iter().map(|r| r.id()).collect();
            write!(f, " [{}]", ids.join(" "))?;
        }
        Ok(())
    }
}

/// A snapshot of a simulation's trace ([`Sim::trace`](crate::Sim::trace)).
///
/// Same seed and same program give the same trace, byte for byte (TH-2).
///
/// ```
/// use ws2sim::{Sim, api};
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| api::cleanup()).unwrap_err();
/// let trace = sim.trace();
/// let last = trace.events().last().unwrap();
/// assert_eq!(last.call, "WSACleanup");
/// assert_eq!(last.error, Some(ws2sim::WsaError::NotInitialised));
/// assert!(trace.to_json_lines().contains("\"error\":\"WSANOTINITIALISED\""));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    events: Vec<Event>,
}

impl Trace {
    pub(crate) fn new(events: Vec<Event>) -> Trace {
        Trace { events }
    }

    /// Every event, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The events of calls to the function `name`.
    pub fn calls<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| e.call == name)
    }

    /// One JSON object per line: `seq`, `time_ns`, `host`, `process`, `pid`, `thread`, `call`,
    /// `args`, `result`, `error`, `error_code`, `rules`, `blocked_ns`.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            out.push_str(&e.json());
            out.push('\n');
        }
        out
    }

    /// A Mermaid sequence diagram: each process talks to its own Ws2_32.
    pub fn to_mermaid(&self) -> String {
        let clean = |s: &str| s.replace([';', '#'], ",");
        let mut out = String::from("sequenceDiagram\n");
        let mut seen = Vec::new();
        for e in self.events.iter().filter(|e| e.pid != 0) {
            if !seen.contains(&e.pid) {
                seen.push(e.pid);
                out.push_str(&format!(
                    "    participant P{0} as {1}/{2} (pid {0})\n    participant W{0} as Ws2_32 (pid {0})\n",
                    e.pid, e.host, e.process
                ));
            }
        }
        for e in &self.events {
            if e.pid == 0 {
                out.push_str(&format!(
                    "    Note over P{}: {} {}\n",
                    seen.first().copied().unwrap_or(0),
                    clean(&e.call),
                    clean(&e.args)
                ));
                continue;
            }
            out.push_str(&format!(
                "    P{0}->>W{0}: {1}({2})\n",
                e.pid,
                e.call,
                clean(&e.args)
            ));
            let err = e
                .error
                .map(|x| format!(" {}", x.name()))
                .unwrap_or_default();
            let ids: Vec<&str> = e.rules.iter().map(|r| r.id()).collect();
            out.push_str(&format!(
                "    W{0}-->>P{0}: {1}{2} [{3}]\n",
                e.pid,
                clean(&e.result),
                err,
                ids.join(" ")
            ));
        }
        out
    }
}

impl fmt::Display for Trace {
    /// One readable line per event.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

/// With the `serde` feature, an [`Event`] serialises as the object of its JSON line (the same
/// keys, in the same order), and a [`Trace`] as the sequence of its events.
#[cfg(feature = "serde")]
impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Event", 13)?;
        st.serialize_field("seq", &self.seq)?;
        st.serialize_field("time_ns", &nanos(self.time))?;
        st.serialize_field("host", &self.host)?;
        st.serialize_field("process", &self.process)?;
        st.serialize_field("pid", &self.pid)?;
        st.serialize_field("thread", &self.thread)?;
        st.serialize_field("call", &self.call)?;
        st.serialize_field("args", &self.args)?;
        st.serialize_field("result", &self.result)?;
        st.serialize_field("error", &self.error.map(|e| e.name()))?;
        st.serialize_field("error_code", &self.error.map(|e| e.code()))?;
        let rules: Vec<&str> = self.rules.iter().map(|r| r.id()).collect();
        st.serialize_field("rules", &rules)?;
        st.serialize_field("blocked_ns", &nanos(self.blocked))?;
        st.end()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Trace {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(host: &str, args: &str, error: Option<crate::WsaError>, rules: Vec<Rule>) -> Event {
        Event {
            seq: 3,
            time: Duration::new(2, 5),
            host: host.into(),
            process: "app".into(),
            pid: 1,
            thread: 2,
            call: "closesocket".into(),
            args: args.into(),
            result: "SOCKET_ERROR".into(),
            error,
            rules,
            blocked: Duration::MAX,
        }
    }

    #[test]
    fn json_line_is_what_serde_json_reads() {
        let e = event(
            "h\"ost\\",
            "0x100004, \"a\nb\"\u{1}\u{7f}é",
            Some(crate::WsaError::NotSocket),
            Rule::ALL.iter().copied().take(3).collect(),
        );
        let v: serde_json::Value = serde_json::from_str(&e.json()).unwrap();
        assert_eq!(v["seq"], 3);
        assert_eq!(v["time_ns"], 2_000_000_005u64);
        assert_eq!(v["host"], e.host.as_str());
        assert_eq!(v["args"], e.args.as_str());
        assert_eq!(v["error"], "WSAENOTSOCK");
        assert_eq!(v["error_code"], 10038);
        assert_eq!(v["rules"].as_array().unwrap().len(), 3);
        assert_eq!(v["blocked_ns"], u64::MAX);
        let ok = event("h", "", None, vec![]);
        let v: serde_json::Value = serde_json::from_str(&ok.json()).unwrap();
        assert!(v["error"].is_null() && v["error_code"].is_null());
        assert_eq!(v["rules"], serde_json::json!([]));
    }

    proptest! {
        #[test]
        fn json_string_matches_serde_json(s in prop_oneof![any::<String>(), "[\\x00-\\x7f]{0,40}"]) {
            let mut ours = String::new();
            json_string(&mut ours, &s);
            prop_assert_eq!(ours, serde_json::to_string(&s).unwrap());
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_serialisation_is_the_json_line() {
        let e = event(
            "h\"",
            "a\tb",
            Some(crate::WsaError::NotSocket),
            vec![Rule::ALL[0]],
        );
        assert_eq!(serde_json::to_string(&e).unwrap(), e.json());
        let t = Trace::new(vec![e.clone(), event("h", "", None, vec![])]);
        let lines: Vec<String> = t.to_json_lines().lines().map(str::to_owned).collect();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            format!("[{}]", lines.join(","))
        );
    }
}
