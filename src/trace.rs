//! The trace: every Winsock call and harness event of a simulation, in order.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

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

#[derive(Serialize)]
struct JsonEvent<'a> {
    seq: u64,
    time_ns: u64,
    host: &'a str,
    process: &'a str,
    pid: u32,
    thread: u32,
    call: &'a str,
    args: &'a str,
    result: &'a str,
    error: Option<&'static str>,
    error_code: Option<i32>,
    rules: Vec<&'static str>,
    blocked_ns: u64,
}

impl Event {
    fn json(&self) -> String {
        let e = JsonEvent {
            seq: self.seq,
            time_ns: u64::try_from(self.time.as_nanos()).unwrap_or(u64::MAX),
            host: &self.host,
            process: &self.process,
            pid: self.pid,
            thread: self.thread,
            call: &self.call,
            args: &self.args,
            result: &self.result,
            error: self.error.map(|e| e.name()),
            error_code: self.error.map(|e| e.code()),
            rules: self.rules.iter().map(|r| r.id()).collect(),
            blocked_ns: u64::try_from(self.blocked.as_nanos()).unwrap_or(u64::MAX),
        };
        serde_json::to_string(&e).expect("an event always serialises")
    }
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
