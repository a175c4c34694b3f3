//! The sans-IO core: the whole Winsock state of a simulation as a plain state machine.
//!
//! A call enters through [`World::dispatch`] with the calling process and thread and the current
//! virtual time, and leaves with its result plus the ids of the SPEC rules that decided it. The
//! core never sleeps, spawns, locks, reads a clock or touches real I/O; it sees the caller's memory
//! only as byte slices, the way a Winsock implementation sees user buffers. Each SPEC rule is
//! implemented at one place here, marked with its id in a comment.
//!
//! - `ws2/`: Ws2_32 (per-process state, dispatch, startup and cleanup, the SPI client);
//! - `providers/`: the built-in base providers, behind the same `Provider` trait as a user's;
//! - `transport/`: the per-host kernel side (endpoints, packets, loss accounting);
//! - `call.rs`: the calls and their table; `overlapped.rs`, `events.rs`: the overlapped queue
//!   and event objects; `catalog.rs`, `provider.rs`, `rules.rs`.

pub mod call;
pub mod call_args;
pub mod catalog;
pub mod events;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod machine;
pub mod overlapped;
mod ports;
#[macro_use]
mod spi_table;
pub mod provider;
pub mod providers;
pub mod request;
pub mod rules;
pub mod transport;
pub mod ws2;

use std::time::Duration;

use crate::error::WsaError;
pub use call::{Call, Reply};
use catalog::Catalog;
pub use machine::Machine;
use provider::Provider;
use rules::Rule;
use transport::Loss;
use ws2::process::Ending;
use ws2::table::Socket;

/// Why a call is waiting.
///
/// A provider usually passes on the [`Stop::Block`] of the layer below. One that waits for a
/// reason of its own builds it: the simulator makes the call again whenever something may have
/// changed (a packet arrived, another thread made a call, virtual time moved), and gives up at
/// `deadline` by making it again then. A wait nothing can end is reported as a deadlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// When the call gives up waiting by itself (a linger timeout), if ever.
    pub deadline: Option<Duration>,
    /// What it waits for, for deadlock reports (`"recv"`, `"closesocket (linger)"`).
    pub what: &'static str,
    /// The socket it waits on.
    pub socket: Option<Socket>,
}

/// What a call did.
#[derive(Debug)]
pub enum Step {
    /// It completed.
    Done(Result<Reply, WsaError>),
    /// It waits: make it again, with [`Cx::resume`], once something changed.
    Blocked(Block),
}

/// Why a call (or a provider's method) stopped early: an error (`lpErrno`), or a wait.
///
/// `?` turns a [`WsaError`] into `Stop::Fail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// It failed with this error.
    Fail(WsaError),
    /// It must wait; it is made again later.
    Block(Block),
}

impl From<WsaError> for Stop {
    fn from(e: WsaError) -> Stop {
        Stop::Fail(e)
    }
}

/// Which reading of Winsock the simulator follows where the documents and observed Windows
/// disagree (the rules marked *(profile)* in SPEC.md). Nothing else differs between profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// The seeds and Microsoft's documentation, taken literally (the default).
    #[default]
    Documented,
    /// What Windows 7 and later were observed to do.
    Windows,
}

/// A simulated host, by creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub(crate) u32);

/// A simulated process, unique in its simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessId(pub(crate) u32);

/// A simulated thread, unique in its simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThreadId(pub(crate) u32);

impl std::fmt::Display for ProcessId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for ThreadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One call's context: who calls and the rules that fired while handling it.
#[derive(Debug)]
pub struct Cx {
    /// The calling process.
    pub process: ProcessId,
    /// The calling thread.
    pub thread: ThreadId,
    /// True when the call is made again after it blocked.
    pub resumed: bool,
    /// When the call was first made (set by the dispatcher).
    pub started: Duration,
    /// True while the thread runs a simulated DllMain (the loader lock is held: CL-12).
    pub in_dllmain: bool,
    /// True while the thread runs an APC or completion routine for the simulator (CL-10).
    pub in_callback: bool,
    rules: Vec<Rule>,
}

impl Cx {
    /// A context for a call by `thread` of `process`.
    pub fn new(process: ProcessId, thread: ThreadId) -> Cx {
        Cx {
            process,
            thread,
            resumed: false,
            started: Duration::ZERO,
            in_dllmain: false,
            in_callback: false,
            rules: Vec::new(),
        }
    }

    /// Marks the call as made again after it blocked.
    pub fn resume(&mut self) {
        self.resumed = true;
    }

    /// Records that `rule` decided (part of) this call's outcome.
    pub fn rule(&mut self, rule: Rule) {
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
    }

    /// The rules recorded, in the order they fired.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A call that waits up to `timeout` from when it was first made (`None`: for ever):
    /// the block to return while `now` is before the deadline, `None` once it passed (the
    /// caller then returns its own timeout result).
    pub(crate) fn wait_until_timeout(
        &self,
        now: Duration,
        timeout: Option<Duration>,
        what: &'static str,
    ) -> Option<Stop> {
        let deadline = timeout.map(|t| self.started.saturating_add(t));
        deadline
            .is_none_or(|d| now < d)
            .then_some(Stop::Block(Block {
                deadline,
                what,
                socket: None,
            }))
    }
}

/// ER-3, the one place it is decided: pointer and buffer checks come after the state checks.
/// A handler makes its `pointers` check once the state passed; a `WSAEFAULT` it finds is
/// ER-3's, and is tagged so.
pub(crate) fn er_3_pointers<T>(cx: &mut Cx, pointers: Result<T, WsaError>) -> Result<T, WsaError> {
    if matches!(pointers, Err(WsaError::Fault)) {
        cx.rule(Rule::Er3);
    }
    pointers
}

/// A simulated host's state.
#[derive(Debug)]
pub struct HostState {
    /// The name given at creation.
    pub name: String,
    /// Its IPv4 address: 10.0.0.N by creation order.
    pub addr: [u8; 4],
    /// True while the simulation has failed its network subsystem (ER-5, CL-11).
    pub network_down: bool,
}

/// The whole simulated Winsock world of one simulation: Ws2_32's registry (the catalog, the
/// providers and their instances, the namespace, diagnostics) over the [`Machine`] that
/// provider calls work on.
///
/// `World` dereferences to its `Machine`, so Ws2_32's code reads the machine's state as its
/// own; a provider gets the machine alone ([`Spi`](provider::Spi)), never the registry.
#[derive(Debug)]
pub struct World {
    machine: Machine,
    catalog: Catalog,
    next_thread: u32,
    diagnostics: Vec<ws2::threads::Diagnostic>,
    providers: ws2::spi_client::Providers,
    names: ws2::names::Names,
}

impl std::ops::Deref for World {
    type Target = Machine;

    fn deref(&self) -> &Machine {
        &self.machine
    }
}

impl std::ops::DerefMut for World {
    fn deref_mut(&mut self) -> &mut Machine {
        &mut self.machine
    }
}

impl World {
    /// An empty world with the built-in providers, whose links take `latency`.
    pub fn new(profile: Profile, latency: Duration) -> World {
        let mut world = World {
            machine: Machine::new(profile, latency),
            catalog: Catalog::empty(),
            next_thread: 0,
            diagnostics: Vec::new(),
            providers: Default::default(),
            names: Default::default(),
        };
        for b in providers::Builtin::all() {
            let info = b.info();
            let make: provider::Factory = std::sync::Arc::new(move || Box::new(b.clone()));
            world
                .add_provider(provider::Registered { info, make })
                .expect("invariant: the built-in providers register");
        }
        world
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// When something next happens by itself (a packet arrives), if anything is pending.
    pub fn next_event(&self) -> Option<Duration> {
        self.transport.next_arrival()
    }

    /// Moves virtual time to `t` (never back), delivering every packet due by then.
    pub fn advance_to(&mut self, t: Duration) {
        let t = t.max(self.now);
        while let Some(at) = self.transport.next_arrival().filter(|at| *at <= t) {
            self.now = at;
            self.transport.run_until(at);
            self.poll_overlapped();
            self.poll_network_events();
        }
        self.now = t;
    }

    /// CL-8: what a process holds: sockets, events and pending overlapped operations (the
    /// harness adds queued completion routines).
    pub fn live_resources(&self, p: ProcessId) -> usize {
        self.process(p).live_resources() + self.overlapped.pending_of(p)
    }

    /// The overlapped operations completed since the last call, for the harness to apply.
    pub fn take_completions(&mut self) -> Vec<overlapped::Completion> {
        self.overlapped.take_completions()
    }

    /// Every byte the transport lost for good (CL-7).
    pub fn lost_bytes(&self) -> u64 {
        self.transport.lost_total()
    }

    /// The losses since the last call, for the trace.
    pub fn take_losses(&mut self) -> Vec<Loss> {
        self.transport.take_losses()
    }

    /// The endpoint lifecycle changes since the last call, in order, for the record.
    pub fn take_transitions(&mut self) -> Vec<transport::Transition> {
        self.transport.take_transitions()
    }

    /// The packets the transport put on the wire since the last call, for the trace.
    pub fn take_sent(&mut self) -> Vec<transport::Sent> {
        self.transport.take_sent()
    }

    /// Every host, by creation order.
    pub fn hosts(&self) -> &[HostState] {
        &self.hosts
    }

    /// Sets the latency between two hosts (the same host twice: its loopback).
    pub fn set_link_latency(&mut self, a: HostId, b: HostId, latency: Duration) {
        self.transport.set_link_latency(a, b, latency);
    }

    /// The profile deciding the rules marked *(profile)* in SPEC.md.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Adds a host named `name` with the next 10.0.0.N address.
    pub fn add_host(&mut self, name: &str) -> HostId {
        let n = self.hosts.len() as u32 + 1;
        let addr = [10, 0, (n >> 8) as u8, n as u8];
        self.hosts.push(HostState {
            name: name.to_owned(),
            addr,
            network_down: false,
        });
        self.transport.add_host(addr.into());
        HostId(n - 1)
    }

    /// The host named `name`, if there is one.
    pub fn find_host(&self, name: &str) -> Option<HostId> {
        self.hosts
            .iter()
            .position(|h| h.name == name)
            .map(|i| HostId(i as u32))
    }

    /// Fails or restores a host's network subsystem (ER-5, CL-11); returns the rules the
    /// change invokes, for the trace.
    pub fn set_network_down(&mut self, h: HostId, down: bool) -> Vec<Rule> {
        self.hosts[h.0 as usize].network_down = down;
        self.er_5_network_down(h).into_iter().collect()
    }

    /// ER-5, the one place it is decided: while the simulation has failed a host's network
    /// subsystem, calls of its processes fail `WSAENETDOWN` after ER-1 and before ER-2.
    pub(crate) fn er_5_network_down(&self, h: HostId) -> Option<Rule> {
        self.host(h).network_down.then_some(Rule::Er5)
    }

    /// Starts a process on `host`; returns it and its main thread.
    pub fn add_process(&mut self, host: HostId, name: &str) -> (ProcessId, ThreadId) {
        let pid = self.machine.push_process(host, name);
        let main = self.new_thread_id();
        (pid, main)
    }

    /// A new thread id (threads of any process share one numbering).
    pub fn new_thread_id(&mut self) -> ThreadId {
        self.next_thread += 1;
        ThreadId(self.next_thread)
    }

    /// Ends a process: normally (`ExitProcess`, the DLL is unloaded: CL-7) or by termination
    /// (SP-8). Returns the rules that decided what happened, for the trace; ending an ended
    /// process does nothing.
    ///
    /// Open sockets go as the final cleanup would take them under `Exit` (CL-6), abortively
    /// under `Kill` (SP-8). Then CL-7: under `Profile::Documented` the unsent data of sockets
    /// already closed is lost with the DLL (the peer gets what was on the wire, then a reset);
    /// under `Profile::Windows` the transport keeps sending it. Data already on the wire, and
    /// the FIN of a graceful close, still arrive: a closed socket whose every byte left
    /// loses nothing, and its peer sees the graceful close, not a reset.
    pub fn end_process(&mut self, p: ProcessId, how: Ending) -> Vec<Rule> {
        let mut rules = Vec::new();
        let Some(sockets) = self.process_mut(p).end(how) else {
            return rules;
        };
        self.forget_threads(p);
        // The process's memory is gone: its pending operations end without a trace.
        self.overlapped.discard(p);
        let reset = how == Ending::Kill || self.profile == Profile::Documented;
        let rule = if how == Ending::Kill {
            Rule::Sp8
        } else {
            Rule::Cl7
        };
        rules.push(rule);
        // SP-7: the provider DLLs go with the process; data one held in it is lost.
        rules.extend(self.drop_instances(p));
        for (s, st) in sockets {
            self.release_socket((p, s), &st, reset, rule);
        }
        if self.profile == Profile::Documented {
            for ep in self.transport.orphans_with_data(p) {
                rules.push(Rule::Cl7); // CL-7: lost with the DLL.
                let now = self.now;
                self.transport
                    .abort(now, ep, Rule::Cl7, "process exited with unsent data");
            }
        }
        rules.dedup();
        rules
    }
}
