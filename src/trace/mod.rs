//! The trace: every Winsock call, harness event and network packet of a simulation, in order,
//! with a header saying how the simulation ran.
//!
//! As data it is JSON lines ([`Trace::to_json_lines`]), read back by
//! [`Trace::from_json_lines`]: the first line is the [`Header`], then one object per [`Event`].
//! Both sides are written by hand, so the crate needs no JSON library (issue 17).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use crate::core::rules::Rule;
use crate::core::Profile;

mod mermaid;
pub(crate) mod read;
pub(crate) mod write;

pub use read::TraceError;

/// The version of the JSON-lines format [`Trace::to_json_lines`] writes (the header's
/// `version`). [`Trace::from_json_lines`] reads this version only. Version 2 added each
/// event's `arguments` (named) and `returned` (the result as a number).
pub const TRACE_FORMAT_VERSION: u32 = 2;

/// How a simulation ran: the first line of its JSON-lines trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The scheduler's seed ([`Sim::seed`](crate::Sim::seed)).
    pub seed: u64,
    /// The profile the simulation followed.
    pub profile: Profile,
    /// How the scheduler picks the next thread: [`Scheduler`](crate::Scheduler)'s text,
    /// `"random"` or `"pct(depth=3, steps=1000)"`.
    pub scheduler: String,
    /// Every host of the simulation when the trace was taken, by creation order.
    pub hosts: Vec<HostInfo>,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            seed: 0,
            profile: Profile::Documented,
            scheduler: "random".into(),
            hosts: Vec::new(),
        }
    }
}

impl fmt::Display for Header {
    /// `seed 7, profile Documented, scheduler random, hosts localhost (10.0.0.1), server (10.0.0.2)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}, profile {}, scheduler {}",
            self.seed,
            profile_name(self.profile),
            self.scheduler
        )?;
        for (i, h) in self.hosts.iter().enumerate() {
            let sep = if i == 0 { ", hosts " } else { ", " };
            write!(f, "{sep}{} ({})", h.name, h.addr)?;
        }
        Ok(())
    }
}

/// A simulated host as the header names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// The host's name.
    pub name: String,
    /// Its address: 10.0.0.N by creation order (`localhost` is 10.0.0.1; each host also has
    /// its loopback, 127.0.0.1).
    pub addr: Ipv4Addr,
}

/// What an [`Event`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A Winsock call (or `SleepEx`) made by a simulated thread, with its outcome.
    Call,
    /// A process ended: `ExitProcess` or `TerminateProcess`.
    ProcessEnd,
    /// A host's network subsystem failed or came back: `NetworkDown`, `NetworkUp` (ER-5).
    Network,
    /// Data lost for good (`DataLoss`): `args` says which socket, how many bytes and why.
    DataLoss,
    /// A misuse the simulator detected (`Diagnostic`), as [`Sim::diagnostics`](crate::Sim::diagnostics) lists.
    Diagnostic,
    /// A packet the transport put on the wire: [`Event::packet`] says which.
    Packet,
    /// An endpoint's lifecycle changed (`Endpoint`): created, a phase transition checked by
    /// the transport's phase funnel, detached from its socket, or removed; `args` says which
    /// endpoint and what changed (`endpoint 2.0 (socket 0x108): Connecting -> Connected`).
    Endpoint,
}

impl EventKind {
    /// Every kind, in the order above.
    pub const ALL: [EventKind; 7] = [
        EventKind::Call,
        EventKind::ProcessEnd,
        EventKind::Network,
        EventKind::DataLoss,
        EventKind::Diagnostic,
        EventKind::Packet,
        EventKind::Endpoint,
    ];

    /// The JSON `kind`: `"call"`, `"process_end"`, `"network"`, `"data_loss"`, `"diagnostic"`,
    /// `"packet"`, `"endpoint"`.
    pub const fn name(self) -> &'static str {
        match self {
            EventKind::Call => "call",
            EventKind::ProcessEnd => "process_end",
            EventKind::Network => "network",
            EventKind::DataLoss => "data_loss",
            EventKind::Diagnostic => "diagnostic",
            EventKind::Packet => "packet",
            EventKind::Endpoint => "endpoint",
        }
    }

    /// The kind named `name` (see [`EventKind::name`]).
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What a packet on the wire is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// A connection request (`connect`).
    Syn,
    /// The accepting side's answer.
    SynAck,
    /// Stream bytes.
    Data,
    /// The end of the sender's data (shutdown or a graceful close), with its disconnect data.
    Fin,
    /// A reset: an abortive close, data for a socket that shut receiving down, a refusal.
    Rst,
    /// Acknowledges stream bytes or a FIN.
    Ack,
    /// A datagram (UDP).
    Datagram,
}

impl PacketKind {
    /// Every kind, in the order above.
    pub const ALL: [PacketKind; 7] = [
        PacketKind::Syn,
        PacketKind::SynAck,
        PacketKind::Data,
        PacketKind::Fin,
        PacketKind::Rst,
        PacketKind::Ack,
        PacketKind::Datagram,
    ];

    /// `"SYN"`, `"SYN-ACK"`, `"DATA"`, `"FIN"`, `"RST"`, `"ACK"`, `"DATAGRAM"`: the event's
    /// `call` and the packet's JSON `kind`.
    pub const fn name(self) -> &'static str {
        match self {
            PacketKind::Syn => "SYN",
            PacketKind::SynAck => "SYN-ACK",
            PacketKind::Data => "DATA",
            PacketKind::Fin => "FIN",
            PacketKind::Rst => "RST",
            PacketKind::Ack => "ACK",
            PacketKind::Datagram => "DATAGRAM",
        }
    }

    /// The kind named `name` (see [`PacketKind::name`]).
    pub fn from_name(name: &str) -> Option<PacketKind> {
        PacketKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A packet between two endpoints, as the transport put it on the wire (a `packet` event).
/// The event's `host`, `process` and `pid` are the sender's (`pid` 0: a refusal sent for an
/// address no endpoint owns) and its `time` is when the packet left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// What it is.
    pub kind: PacketKind,
    /// Payload bytes: stream data, a datagram, a FIN's disconnect data, or the bytes an ACK
    /// acknowledges (0 for SYN, SYN-ACK, RST).
    pub bytes: u64,
    /// The sender's address as the receiver sees it (`None` if unbound).
    pub from: Option<SocketAddrV4>,
    /// The host it goes to.
    pub to_host: String,
    /// The address it goes to.
    pub to: Option<SocketAddrV4>,
    /// When it arrives, in virtual time.
    pub arrives: Duration,
}

/// One argument of a call event.
///
/// ```
/// use ws2sim::{sys::*, Sim};
///
/// let sim = Sim::builder().build();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut data: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut data);
///     closesocket(0x1234);
/// });
/// let close = sim.trace().events().iter().find(|e| e.call == "closesocket").unwrap().clone();
/// assert_eq!(close.arguments[0].name, "s");
/// assert_eq!(close.arguments[0].value, "0x1234");
/// assert_eq!(close.result, "SOCKET_ERROR");
/// assert_eq!(close.returned, Some(-1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argument {
    /// The parameter's name as Microsoft's reference gives it (`s`, `level`, `lpOverlapped`),
    /// or a short description where the value sums several up (`lpBuffers`: `5 bytes`).
    pub name: String,
    /// Its value as the trace shows it (`0x400000`, `SOL_SOCKET`, `NULL`, `[68 69]`).
    pub value: String,
}

/// One recorded event: a Winsock call with its outcome, a harness event (a process ending,
/// the network failing, data lost, a diagnostic) or a packet on the wire; [`Event::kind`]
/// says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Position in the trace, from 0.
    pub seq: u64,
    /// What the event records.
    pub kind: EventKind,
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
    /// The function called (`"closesocket"`), the harness event (`"ExitProcess"`), or the
    /// packet's [`PacketKind::name`] (`"SYN"`).
    pub call: String,
    /// The arguments as passed, with symbolic names where Winsock has them, as one line:
    /// the [`arguments`](Event::arguments)' values joined with `", "` (harness events: what
    /// happened; packets: empty).
    pub args: String,
    /// A call's arguments one by one, named (empty for other kinds).
    pub arguments: Vec<Argument>,
    /// What the function returned (`"0"`, a socket handle, `"SOCKET_ERROR"`, ...; empty for
    /// other kinds).
    pub result: String,
    /// The result as a number: the C function's return value (`SOCKET_ERROR` and
    /// `INVALID_SOCKET` are -1, `TRUE` 1, a handle its value); for a clock, its reading.
    /// `None` for other kinds and for a blocking hook's address, which differs between runs.
    pub returned: Option<i64>,
    /// The error the call reported, if it failed.
    pub error: Option<crate::WsaError>,
    /// The SPEC rules that decided the outcome, in the order they fired.
    pub rules: Vec<Rule>,
    /// How long the call waited in virtual time before completing (zero if it did not block);
    /// `time` is when it completed.
    pub blocked: Duration,
    /// The packet, for [`EventKind::Packet`] events (`None` for every other kind).
    pub packet: Option<Packet>,
}

/// The name a profile has in the header (`"Documented"`, `"Windows"`).
pub(crate) fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Documented => "Documented",
        Profile::Windows => "Windows",
    }
}

/// The profile named `name` (see [`profile_name`]).
fn profile_from_name(name: &str) -> Option<Profile> {
    [Profile::Documented, Profile::Windows]
        .into_iter()
        .find(|p| profile_name(*p) == name)
}

/// `2.000005s`: seconds with microseconds, as the text trace shows times.
fn seconds(d: Duration) -> String {
    format!("{}.{:06}s", d.as_secs(), d.subsec_micros())
}

impl fmt::Display for Event {
    /// `#3 0.000000s server/app[1:1] closesocket(0x100004) = 0 [CS-1]`, for a packet
    /// `#9 0.000000s localhost/app[1:0] DATA 5 bytes 127.0.0.1:49152 -> localhost 127.0.0.1:9000 (arrives 0.000100s)`,
    /// for an endpoint change `#4 0.000000s localhost/app[1:0] Endpoint(endpoint 0.1: created Open)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {}/{}[{}:{}] ",
            self.seq,
            seconds(self.time),
            self.host,
            self.process,
            self.pid,
            self.thread,
        )?;
        if let Some(p) = &self.packet {
            let addr = |a: Option<SocketAddrV4>| a.map_or("?".into(), |a| a.to_string());
            return write!(
                f,
                "{} {} bytes {} -> {} {} (arrives {})",
                p.kind.name(),
                p.bytes,
                addr(p.from),
                p.to_host,
                addr(p.to),
                seconds(p.arrives)
            );
        }
        if self.kind == EventKind::Endpoint {
            return write!(f, "{}({})", self.call, self.args);
        }
        write!(
            f,
            "{}({}){} = {}",
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

/// A snapshot of a simulation's trace ([`Sim::trace`](crate::Sim::trace)): its [`Header`]
/// and its events.
///
/// Same seed and same program give the same trace, byte for byte (TH-2).
///
/// ```
/// use ws2sim::{Sim, Trace, api};
/// let sim = Sim::builder().seed(7).build();
/// let p = sim.localhost().process("app");
/// p.run(|| api::cleanup()).unwrap_err();
/// let trace = sim.trace();
/// assert_eq!(trace.header().seed, 7);
/// let last = trace.events().last().unwrap();
/// assert_eq!(last.call, "WSACleanup");
/// assert_eq!(last.error, Some(ws2sim::WsaError::NotInitialised));
/// let json = trace.to_json_lines();
/// assert!(json.starts_with("{\"kind\":\"header\",\"format\":\"ws2sim-trace\",\"version\":2,\"seed\":7,"));
/// assert!(json.contains("\"error\":\"WSANOTINITIALISED\""));
/// // Read back exactly.
/// assert_eq!(Trace::from_json_lines(&json).unwrap(), trace);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    header: Header,
    events: Vec<Event>,
}

impl Trace {
    /// A trace of `events` under `header`.
    pub fn new(header: Header, events: Vec<Event>) -> Trace {
        Trace { header, events }
    }

    /// How the simulation ran.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Every event, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The events of calls to the function `name` (or harness events, or packets, so named).
    pub fn calls<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| e.call == name)
    }

    /// The packets the transport put on the wire, in order.
    pub fn packets(&self) -> impl Iterator<Item = (&Event, &Packet)> + '_ {
        self.events
            .iter()
            .filter_map(|e| e.packet.as_ref().map(|p| (e, p)))
    }

    /// A hash of the events (not the header, which names the seed): equal for two runs
    /// whose schedules and outcomes were the same. Stable across runs and platforms.
    pub(crate) fn schedule_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        let mut line = String::new();
        for e in &self.events {
            line.clear();
            write::event(&mut line, e);
            line.hash(&mut h);
        }
        h.finish()
    }

    /// One JSON object per line. The first is the header:
    ///
    /// ```text
    /// {"kind":"header","format":"ws2sim-trace","version":2,"seed":7,"profile":"Documented",
    ///  "scheduler":"random","hosts":[{"name":"localhost","addr":"10.0.0.1"}]}
    /// ```
    ///
    /// (one line), then one per event, keys in this order: `kind` ([`EventKind::name`]),
    /// `seq`, `time_ns`, `host`, `process`, `pid`, `thread`, `call`, `args`, `arguments` (an
    /// array of `{"name": ..., "value": ...}` objects, [`Argument`]), `result`, `returned`
    /// (the result as a number or `null`, [`Event::returned`]), `error`
    /// (the error's name or `null`), `error_code` (its code or `null`), `rules` (an array of
    /// rule ids), `blocked_ns`, and on `packet` events `packet`: an object with `kind`
    /// ([`PacketKind::name`]), `bytes`, `from`, `to_host`, `to` (addresses as `"ip:port"` or
    /// `null`) and `arrives_ns`. Times are whole nanoseconds (saturating at `u64::MAX`).
    /// Strings are escaped as serde_json escapes them, so equal traces give equal bytes.
    pub fn to_json_lines(&self) -> String {
        let mut out = write::header(&self.header);
        out.push('\n');
        for e in &self.events {
            write::event(&mut out, e);
            out.push('\n');
        }
        out
    }

    /// Reads what [`Trace::to_json_lines`] wrote: `Trace::from_json_lines(&t.to_json_lines())`
    /// is `t`, and writing it again gives the same bytes. Fails, naming the line, on anything
    /// else: a missing header, another format version, an unknown or missing key, a value of
    /// the wrong type, an unknown rule id, error name or kind, an error name that does not
    /// match its code.
    ///
    /// ```
    /// use ws2sim::Trace;
    /// let err = Trace::from_json_lines("{\"kind\":\"call\"}\n").unwrap_err();
    /// assert_eq!(err.line(), 1);
    /// assert!(err.to_string().contains("header"), "{err}");
    /// ```
    pub fn from_json_lines(text: &str) -> Result<Trace, TraceError> {
        read::trace(text)
    }

    /// A Mermaid sequence diagram: each host is a participant, each simulated thread one
    /// beside its host; a call is an arrow from the thread to its host's Winsock and the
    /// result (with the deciding rules) one back; packets between hosts are arrows from host
    /// to host (SYN, SYN-ACK, DATA and datagrams with their byte counts, FIN, and RST as a
    /// crossed arrow; ACKs and endpoint changes are in the trace, not in the diagram); harness events are notes
    /// over their host; a note spanning every participant gives the virtual time whenever it
    /// moved.
    pub fn to_mermaid(&self) -> String {
        mermaid::render(self)
    }
}

impl fmt::Display for Trace {
    /// One readable line per event (the header is not shown: see [`Header`]'s `Display`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
mod serialize;

#[cfg(test)]
mod tests;
