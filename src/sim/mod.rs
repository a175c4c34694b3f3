//! The harness: [`Sim`], its hosts and processes, virtual time and the trace.
//!
//! `sim` owns the core behind one lock, runs test code as simulated threads of simulated
//! processes, and records every call. Handles ([`Sim`], [`Host`], [`Process`]) are cheap clones
//! sharing one simulation.

mod determinism;
mod policy;
pub use policy::Scheduler;
pub(crate) mod failure;
pub(crate) mod handle;
mod process;
pub(crate) mod sched;
mod spin;
pub use failure::SimError;
pub use spin::DEFAULT_SPIN_LIMIT;
pub(crate) mod thread;

pub use determinism::check_determinism;
pub use process::{Host, Process};

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::core::call_args::Args;
use crate::core::rules::Rule;
use crate::core::{HostId, ProcessId, ThreadId, World};
use crate::trace::{Argument, Event, EventKind, Header, HostInfo, Packet, Trace};
use crate::{Profile, WsaError};

/// The environment variable that gives the seed when [`SimBuilder::seed`] was not called ([TH-6]).
///
/// [TH-6]: crate::rules#th-6
pub const SEED_ENV: &str = "WS2SIM_SEED";

/// Configures a [`Sim`].
///
/// ```
/// use ws2sim::{Profile, Sim};
/// let sim = Sim::builder().seed(7).profile(Profile::Windows).build();
/// assert_eq!(sim.seed(), 7);
/// assert_eq!(sim.profile(), Profile::Windows);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct SimBuilder {
    seed: Option<u64>,
    profile: Profile,
    tracing: Option<bool>,
    latency: Option<Duration>,
    spin_limit: Option<u64>,
    scheduler: Scheduler,
    providers: Vec<crate::core::provider::Registered>,
}

/// How long a packet takes between two hosts (and on a host's loopback) unless
/// [`SimBuilder::latency`] or [`Sim::set_link_latency`] says otherwise.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(1);

impl SimBuilder {
    /// The scheduler's seed. Without it the seed comes from `WS2SIM_SEED`, else it is 0.
    pub fn seed(mut self, seed: u64) -> SimBuilder {
        self.seed = Some(seed);
        self
    }

    /// Which reading of Winsock to follow where documents and Windows disagree.
    pub fn profile(mut self, profile: Profile) -> SimBuilder {
        self.profile = profile;
        self
    }

    /// How many polls that find nothing to do (a `WSAEWOULDBLOCK`, a wait or `select` that
    /// timed out) a thread may make while virtual time stands still before it counts as
    /// spinning ([TH-8], default [`DEFAULT_SPIN_LIMIT`]): once every runnable thread has, time
    /// jumps to the next timer or delivery; with nothing pending, a livelock is reported.
    ///
    /// ```
    /// use ws2sim::consts::*;
    /// use ws2sim::{api, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::builder().spin_limit(100).build();
    /// let app = sim.localhost().process("app");
    /// let spun = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     app.run(|| {
    ///         api::startup(Version::V2_2).unwrap();
    ///         let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///         s.bind("127.0.0.1:9".parse().unwrap()).unwrap();
    ///         s.set_nonblocking(true).unwrap();
    ///         let mut buf = [0u8; 8];
    ///         for _ in 0..1_000 {
    ///             // Nothing will ever arrive: a livelock, reported after 100 polls.
    ///             assert_eq!(s.recv(&mut buf), Err(WsaError::WouldBlock));
    ///         }
    ///     })
    /// }));
    /// let msg = spun.unwrap_err().downcast::<String>().unwrap();
    /// assert!(msg.contains("livelock") && msg.contains("seed"));
    /// ```
    ///
    /// [TH-8]: crate::rules#th-8
    pub fn spin_limit(mut self, calls: u64) -> SimBuilder {
        self.spin_limit = Some(calls);
        self
    }

    /// How simulated threads are scheduled: [`Scheduler::Random`] (the default) or
    /// [`Scheduler::pct`]. Seed and scheduler together fix the schedule; the trace header
    /// and a sweep's failure report name both.
    ///
    /// ```
    /// use ws2sim::{api, Scheduler, Sim};
    ///
    /// // PCT with depth 1 never preempts: the first thread to run finishes its calls
    /// // before the other starts.
    /// let sim = Sim::builder().seed(4).scheduler(Scheduler::pct(1)).build();
    /// let p = sim.localhost().process("app");
    /// let worker = || {
    ///     for _ in 0..3 {
    ///         api::last_error();
    ///     }
    /// };
    /// let (a, b) = (p.spawn(worker), p.spawn(worker));
    /// a.join();
    /// b.join();
    /// let threads: Vec<u32> = sim.trace().events().iter().map(|e| e.thread).collect();
    /// assert!(threads.windows(2).filter(|w| w[0] != w[1]).count() <= 1, "{threads:?}");
    /// ```
    pub fn scheduler(mut self, scheduler: Scheduler) -> SimBuilder {
        self.scheduler = scheduler;
        self
    }

    /// The scheduler simulations of this builder use.
    pub(crate) fn scheduler_of(&self) -> Scheduler {
        self.scheduler
    }

    /// How long every packet takes, on every link and loopback (default 1 ms of virtual time).
    pub fn latency(mut self, latency: Duration) -> SimBuilder {
        self.latency = Some(latency);
        self
    }

    /// Whether to record the trace (default: yes). Benchmarks and very long property runs may
    /// turn it off; [`Sim::trace`] is then empty.
    pub fn tracing(mut self, on: bool) -> SimBuilder {
        self.tracing = Some(on);
        self
    }

    /// Adds a user service provider: its protocols join the catalog after the built-in ones
    /// (and after providers added before it), and each process that loads it gets its own
    /// clone ([SP-1]). See [`crate::spi::Provider`] for how to write one.
    ///
    /// [SP-1]: crate::rules#sp-1
    pub fn provider<P: crate::spi::Provider + Clone>(mut self, provider: P) -> SimBuilder {
        let info = provider.info();
        let prototype = Mutex::new(provider);
        let make: crate::core::provider::Factory = Arc::new(move || {
            let p = prototype.lock().unwrap_or_else(|e| e.into_inner()).clone();
            Box::new(p) as Box<dyn crate::spi::Provider>
        });
        self.providers
            .push(crate::core::provider::Registered { info, make });
        self
    }

    /// The simulation, with one host, `"localhost"`.
    ///
    /// # Panics
    /// When `WS2SIM_SEED` is set (and no seed was given) but is not a decimal `u64`, or when a
    /// provider cannot join the catalog ([`try_build`](SimBuilder::try_build) returns that
    /// as an error).
    pub fn build(self) -> Sim {
        self.try_build()
            .unwrap_or_else(|e| panic!("ws2sim: SimBuilder::build: {e}"))
    }

    /// The simulation, or why a provider given to [`provider`](SimBuilder::provider) cannot
    /// join the catalog.
    ///
    /// ```
    /// use ws2sim::spi::{Provider, ProviderError, ProviderInfo, Negotiated, Spi, Stop};
    /// use ws2sim::{Guid, Sim, Version, WsaError};
    ///
    /// #[derive(Clone)]
    /// struct Nowhere;
    /// impl Provider for Nowhere {
    ///     fn info(&self) -> ProviderInfo {
    ///         ProviderInfo::layered(Guid::new(9, 9, 9, [9; 8]), "nowhere", &[(4242, "x")])
    ///     }
    ///     fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
    ///         self.info().negotiate(v)
    ///     }
    ///     fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> { Ok(()) }
    /// }
    /// let err = Sim::builder().provider(Nowhere).try_build().unwrap_err();
    /// assert!(matches!(err, ProviderError::UnknownEntry { over: 4242, .. }));
    /// ```
    ///
    /// # Panics
    /// When `WS2SIM_SEED` is set (and no seed was given) but is not a decimal `u64`.
    pub fn try_build(self) -> Result<Sim, crate::spi::ProviderError> {
        let seed = self.seed.unwrap_or_else(|| match std::env::var(SEED_ENV) {
            Ok(v) => v
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("ws2sim: {SEED_ENV}={v:?} is not a decimal u64 seed")),
            Err(_) => 0,
        });
        let mut world = World::new(self.profile, self.latency.unwrap_or(DEFAULT_LATENCY));
        for p in self.providers {
            world.add_provider(p)?;
        }
        let localhost = world.add_host("localhost");
        let shared = Arc::new(Shared {
            owner: Mutex::new(std::sync::Weak::new()),
            seed,
            state: Mutex::new(State {
                world,
                sched: sched::Sched::new(seed, self.scheduler),
                scheduler: self.scheduler,
                diagnostics: Vec::new(),
                seed,
                trace: Vec::new(),
                seq: 0,
                tracing: self.tracing.unwrap_or(true),
                spin: spin::Spin::new(self.spin_limit.unwrap_or(spin::DEFAULT_SPIN_LIMIT)),
                panicked: Vec::new(),
            }),
        });
        let owner = Arc::new(Owner(shared.clone()));
        *shared.owner.lock().unwrap_or_else(|e| e.into_inner()) = Arc::downgrade(&owner);
        Ok(Sim {
            shared,
            localhost,
            _owner: owner,
        })
    }
}

/// What [`Sim::invariant_facts`] reads.
pub(crate) struct InvariantFacts {
    pub(crate) books: crate::core::overlapped::Books,
    pub(crate) pending: usize,
    /// Per process, by id from 1: name, startup count, live resources.
    pub(crate) processes: Vec<(String, u32, usize)>,
    /// Stream bytes queued, read, lost and held (CL-7).
    pub(crate) stream: (u64, u64, u64, u64),
}

/// What every handle of one simulation shares.
pub(crate) struct Shared {
    seed: u64,
    state: Mutex<State>,
    /// The user handles' common owner, while any is alive.
    owner: Mutex<std::sync::Weak<Owner>>,
}

/// Held by every user-facing handle (`Sim`, `Host`, `Process`, `ThreadHandle`): when the last
/// one goes, the simulated threads still parked are terminated, so their OS threads end
/// instead of waiting for ever.
pub(crate) struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        let unseen = {
            let mut g = self.0.lock();
            g.abort_threads(None, None);
            g.take_panicked(None)
        };
        // TH-7: a thread's panic nobody joined fails the simulation when its last handle goes.
        if let (Some(e), false) = (unseen, std::thread::panicking()) {
            panic!("{e}");
        }
    }
}

impl Shared {
    /// The user handles' owner, if one is still alive.
    pub(crate) fn owner(&self) -> Option<Arc<Owner>> {
        self.owner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .upgrade()
    }

    /// Panics unless no simulated thread runs: a simulation is driven from one OS thread at a
    /// time (its threads take turns; two OS threads entering it at once would not).
    pub(crate) fn check_idle(&self, state: &State) {
        if state
            .sched
            .slots
            .values()
            .any(|s| s.run == sched::Run::Running)
        {
            panic!(
                "ws2sim (seed {}): the simulation is already running on another OS thread; \
                 drive a Sim from one OS thread at a time (use Process::spawn for concurrency)",
                self.seed
            );
        }
    }

    /// The simulation's seed.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// The simulation's state. Never held while test code runs, so a panic in test code cannot
    /// poison it; a poisoned lock is still usable because every change is made whole.
    ///
    /// # Panics
    /// On a thread that is inside a call the core is running (a service provider's callback
    /// calling back into the harness: `Sim::run`, `thread::spawn`, `Process::run` ...): the
    /// lock is held further up this very thread, so waiting for it would hang for ever
    /// ([CL-10]'s situation; Winsock calls get `WSAEINPROGRESS` instead, `SleepEx` returns).
    ///
    /// [CL-10]: crate::rules#cl-10
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        if thread::in_core() {
            panic!(
                "ws2sim (seed {}): the simulation was called back from inside a service \
                 provider's callback (CL-10); a provider may call Winsock (it gets \
                 WSAEINPROGRESS) but not drive the simulation or start threads from there",
                self.seed
            );
        }
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The simulation's mutable state.
pub(crate) struct State {
    pub(crate) world: World,
    pub(crate) sched: sched::Sched,
    seed: u64,
    trace: Vec<Event>,
    seq: u64,
    tracing: bool,
    diagnostics: Vec<Diagnostic>,
    spin: spin::Spin,
    /// Simulated threads that panicked, until the panic is raised somewhere ([TH-7]).
    ///
    /// [TH-7]: crate::rules#th-7
    panicked: Vec<failure::Panicked>,
    /// How threads are scheduled (the trace header names it).
    scheduler: Scheduler,
}

/// A misuse the simulator detected where Windows would deadlock or behave in an undefined way
/// ([CL-12]: WSAStartup/WSACleanup in DllMain; [SD-13]: a blocking call from an APC inside a
/// blocking call), or a service provider breaking its side of the SPI contract ([SP-1]..[SP-10]).
/// Also recorded in the trace as a `Diagnostic` event.
///
/// [CL-12]: crate::rules#cl-12
/// [SD-13]: crate::rules#sd-13
/// [SP-1]: crate::rules#sp-1
/// [SP-10]: crate::rules#sp-10
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule naming the misuse.
    pub rule: Rule,
    /// The process's id.
    pub pid: u32,
    /// The process's name.
    pub process: String,
    /// The thread's id.
    pub thread: u32,
    /// What happened.
    pub message: String,
}

impl State {
    /// CL-8: what process `p` holds: the core's sockets, events and pending operations, and
    /// the completion routines queued to its threads.
    pub(crate) fn live_resources(&self, p: ProcessId) -> usize {
        let apcs = self
            .sched
            .slots
            .values()
            .flat_map(|s| s.apcs.iter())
            .filter(|a| a.winsock.is_some_and(|(q, _)| q == p))
            .count();
        self.world.live_resources(p) + apcs
    }

    /// Counts a call that is not traced (tracing off): the sequence numbers stay those of a
    /// traced run.
    pub(crate) fn count_call(&mut self) {
        self.seq += 1;
    }

    /// Appends an event made by a thread of process `pid`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_call(
        &mut self,
        pid: ProcessId,
        tid: ThreadId,
        call: &str,
        args: Args,
        (result, returned): (String, Option<i64>),
        error: Option<WsaError>,
        rules: &[Rule],
        started: Duration,
    ) {
        let seq = self.seq;
        self.seq += 1;
        if !self.tracing {
            return;
        }
        let process = self.world.process(pid);
        let host = self.world.host(process.host()).name.clone();
        let now = self.world.now();
        self.trace.push(Event {
            seq,
            kind: EventKind::Call,
            time: now,
            host,
            process: process.name().to_owned(),
            pid: pid.0,
            thread: tid.0,
            call: call.to_owned(),
            args: args.to_string(),
            arguments: args
                .into_vec()
                .into_iter()
                .map(|a| Argument {
                    name: a.name.to_owned(),
                    value: a.value,
                })
                .collect(),
            result,
            returned,
            error,
            rules: rules.to_vec(),
            blocked: now - started,
            packet: None,
        });
    }

    /// Appends a harness event (no thread made it).
    pub(crate) fn record_harness(
        &mut self,
        kind: EventKind,
        host: HostId,
        pid: Option<ProcessId>,
        call: &str,
        args: String,
        rules: Vec<Rule>,
    ) {
        let seq = self.seq;
        self.seq += 1;
        if !self.tracing {
            return;
        }
        let (process, pid) = match pid {
            Some(p) => (self.world.process(p).name().to_owned(), p.0),
            None => (String::new(), 0),
        };
        self.trace.push(Event {
            seq,
            kind,
            time: self.world.now(),
            host: self.world.host(host).name.clone(),
            process,
            pid,
            thread: 0,
            call: call.to_owned(),
            args,
            arguments: Vec::new(),
            result: String::new(),
            returned: None,
            error: None,
            rules,
            blocked: Duration::ZERO,
            packet: None,
        });
    }
}

impl State {
    /// The simulation's seed.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// [TH-7]: records that simulated thread `t` of `pid` panicked with `message`.
    /// [TH-7]: crate::rules#th-7
    pub(crate) fn thread_panicked(&mut self, t: ThreadId, pid: ProcessId, message: String) {
        let process = self.world.process(pid).name().to_owned();
        self.panicked.push(failure::Panicked {
            thread: t,
            process,
            message,
        });
    }

    /// [TH-7]: the oldest panic not raised yet, other than `except`'s (which its `join`
    /// raises), taken.
    ///
    /// [TH-7]: crate::rules#th-7
    pub(crate) fn take_panicked(&mut self, except: Option<ThreadId>) -> Option<SimError> {
        let i = self
            .panicked
            .iter()
            .position(|p| Some(p.thread) != except)?;
        Some(self.panicked.remove(i).error(self.seed))
    }

    /// Forgets `t`'s panic: its `join` raises it.
    pub(crate) fn joined(&mut self, t: ThreadId) {
        self.panicked.retain(|p| p.thread != t);
    }

    /// The panicked threads, for a deadlock report.
    pub(crate) fn panicked_lines(&self) -> Vec<String> {
        self.panicked
            .iter()
            .map(|p| {
                format!(
                    "  thread {} of process {:?}: panicked: {}",
                    p.thread, p.process, p.message
                )
            })
            .collect()
    }

    /// Applies the overlapped completions of the core: data and status into the caller's
    /// memory, and completion routines queued as APCs to their thread ([OV-4]) — dropped when
    /// the thread has ended ([OV-8]).
    ///
    /// [OV-4]: crate::rules#ov-4
    /// [OV-8]: crate::rules#ov-8
    pub(crate) fn apply_completions(&mut self) {
        for c in self.world.take_completions() {
            c.write_memory();
            let Some(routine) = c.routine else { continue };
            let Some(slot) = self.sched.slots.get_mut(&c.thread) else {
                continue;
            };
            if slot.run == sched::Run::Finished {
                continue; // OV-8
            }
            let error = c.result.err().map_or(0, |e| e.code() as u32);
            let bytes = c.result.unwrap_or(0);
            slot.apcs.push_back(sched::Apc {
                winsock: Some((c.process, c.socket)),
                run: Box::new(move || {
                    (routine.0)(error, bytes, 0);
                }),
            });
        }
    }

    /// [CL-8](crate::rules#cl-8): drops the completion routines still queued for threads of `p`.
    pub(crate) fn drop_winsock_apcs(&mut self, p: ProcessId) {
        for slot in self.sched.slots.values_mut() {
            slot.apcs.retain(|a| a.winsock.is_none_or(|(q, _)| q != p));
        }
    }

    /// Records the core's misuse diagnostics ([CL-12], [SD-13]) as `Diagnostic` events.
    ///
    /// [CL-12]: crate::rules#cl-12
    /// [SD-13]: crate::rules#sd-13
    pub(crate) fn record_diagnostics(&mut self) {
        for d in self.world.take_diagnostics() {
            let process = self.world.process(d.process);
            let diagnostic = Diagnostic {
                rule: d.rule,
                pid: d.process.0,
                process: process.name().to_owned(),
                thread: d.thread.0,
                message: d.message.clone(),
            };
            let host = process.host();
            self.record_harness(
                EventKind::Diagnostic,
                host,
                Some(d.process),
                "Diagnostic",
                d.message,
                vec![d.rule],
            );
            self.diagnostics.push(diagnostic);
        }
    }

    /// Records the transport's data losses as `DataLoss` events, each naming the rule that
    /// decided it ([CL-7], [CS-3], [CS-4], [CL-6], [SD-11], [SD-12], [SP-8]), its packets as
    /// `packet` events and its endpoint transitions as `Endpoint` events.
    ///
    /// [CL-6]: crate::rules#cl-6
    /// [CL-7]: crate::rules#cl-7
    /// [CS-3]: crate::rules#cs-3
    /// [CS-4]: crate::rules#cs-4
    /// [SD-11]: crate::rules#sd-11
    /// [SD-12]: crate::rules#sd-12
    /// [SP-8]: crate::rules#sp-8
    pub(crate) fn record_losses(&mut self) {
        // In time order: the packets that left before now, then the endpoint changes (all
        // made now: each step of virtual time is drained before the next), then the packets
        // that left now (a change comes before the packet it causes, as a SYN after
        // `Open -> Connecting`).
        let now = self.world.now();
        let (before, at_now): (Vec<_>, Vec<_>) =
            self.world.take_sent().into_iter().partition(|p| p.at < now);
        self.record_packets(before);
        self.record_transitions();
        self.record_packets(at_now);
        for loss in self.world.take_losses() {
            let host = self.world.process(loss.process).host();
            let socket = loss.socket.map_or("?".into(), |s| s.to_string());
            let peer = loss.peer.map_or("?".into(), |p| p.to_string());
            let args = format!(
                "socket {socket}, peer {peer}, {} bytes: {}",
                loss.bytes, loss.why
            );
            self.record_harness(
                EventKind::DataLoss,
                host,
                Some(loss.process),
                "DataLoss",
                args,
                vec![loss.rule],
            );
        }
    }

    /// Records the packets the transport put on the wire as `packet` events, at the time each
    /// left (counted in the sequence numbers when tracing is off, as harness events are).
    fn record_packets(&mut self, sent: Vec<crate::core::transport::Sent>) {
        for sent in sent {
            let seq = self.seq;
            self.seq += 1;
            if !self.tracing {
                continue;
            }
            let (process, pid) = match sent.process {
                Some(p) => (self.world.process(p).name().to_owned(), p.0),
                None => (String::new(), 0),
            };
            self.trace.push(Event {
                seq,
                kind: EventKind::Packet,
                time: sent.at,
                host: self.world.host(sent.from_host).name.clone(),
                process,
                pid,
                thread: 0,
                call: sent.kind.name().to_owned(),
                args: String::new(),
                arguments: Vec::new(),
                result: String::new(),
                returned: None,
                error: None,
                rules: Vec::new(),
                blocked: Duration::ZERO,
                packet: Some(Packet {
                    kind: sent.kind,
                    bytes: sent.bytes as u64,
                    from: sent.from,
                    to_host: self.world.host(sent.to_host).name.clone(),
                    to: sent.to,
                    arrives: sent.arrives,
                }),
            });
        }
    }

    /// Records the transport's endpoint transitions as `Endpoint` events (counted in the
    /// sequence numbers when tracing is off, as harness events are; formatted only when on).
    fn record_transitions(&mut self) {
        let changes = self.world.take_transitions();
        if !self.tracing {
            self.seq += changes.len() as u64;
            return;
        }
        for t in changes {
            let args = t.to_string();
            let pid = Some(t.origin);
            self.record_harness(
                EventKind::Endpoint,
                t.host,
                pid,
                "Endpoint",
                args,
                Vec::new(),
            );
        }
    }
}

/// A simulation: simulated hosts and processes on one network, virtual time, and a trace.
///
/// ```
/// use ws2sim::{api, Sim, Version};
/// let sim = Sim::new();
/// let app = sim.localhost().process("app");
/// let data = app.run(|| api::startup(Version::V2_2)).unwrap();
/// assert_eq!(data.version, Version::V2_2);
/// assert_eq!(app.startup_count(), 1);
/// ```
#[derive(Clone)]
pub struct Sim {
    shared: Arc<Shared>,
    localhost: HostId,
    _owner: Arc<Owner>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.shared.seed)
            .finish_non_exhaustive()
    }
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    /// A simulation with default settings (seed from `WS2SIM_SEED`, else 0; `Profile::Documented`).
    pub fn new() -> Sim {
        SimBuilder::default().build()
    }

    /// Configures a simulation.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    /// The seed this simulation runs with ([TH-6]).
    ///
    /// [TH-6]: crate::rules#th-6
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// True when the simulation records its trace ([`SimBuilder::tracing`]).
    pub(crate) fn is_tracing(&self) -> bool {
        self.shared.lock().tracing
    }

    /// The profile this simulation follows.
    pub fn profile(&self) -> Profile {
        self.shared.lock().world.profile()
    }

    /// The host every simulation starts with, `"localhost"` (10.0.0.1).
    pub fn localhost(&self) -> Host {
        Host {
            sim: self.clone(),
            id: self.localhost,
        }
    }

    /// The host named `name`, created (with the next 10.0.0.N address) if it does not exist.
    pub fn host(&self, name: &str) -> Host {
        let mut state = self.shared.lock();
        let id = match state.world.find_host(name) {
            Some(id) => id,
            None => state.world.add_host(name),
        };
        Host {
            sim: self.clone(),
            id,
        }
    }

    /// Moves virtual time forward by `d`, delivering every packet due by then. Virtual time
    /// saturates ([TH-10]): `Duration::MAX` is the end of time, and later delays end there.
    ///
    /// # Panics
    /// Called from an OS thread outside the simulation while a simulated thread runs: time
    /// must not jump under a running thread (drive a `Sim` from one OS thread at a time).
    ///
    /// [TH-10]: crate::rules#th-10
    pub fn advance(&self, d: Duration) {
        let mut state = self.shared.lock();
        if thread::try_current().is_none() {
            self.shared.check_idle(&state);
        }
        let t = state.world.now().saturating_add(d);
        state.world.advance_to(t);
        state.apply_completions();
        state.record_losses();
        state.sched.progress();
    }

    /// Runs the simulation until nothing is left to happen by itself: every runnable
    /// simulated thread runs, every packet in flight is delivered, and virtual time moves as far
    /// as needed ([TH-3]).
    ///
    /// Called from inside a simulated thread, that thread waits until nothing else can happen
    /// and then goes on (other threads still blocked then are no deadlock: it can still act).
    ///
    /// # Panics
    /// Called from outside, when threads are still blocked once nothing can happen any more:
    /// a deadlock ([TH-4]), reported with every blocked thread, its call and socket, the virtual
    /// time and the seed.
    ///
    /// Also when a simulated thread panicked and nobody joined it ([TH-7]): the message names
    /// the thread and the seed.
    ///
    /// [TH-3]: crate::rules#th-3
    /// [TH-4]: crate::rules#th-4
    /// [TH-7]: crate::rules#th-7
    pub fn run(&self) {
        if let Err(e) = self.try_run() {
            panic!("{e}");
        }
    }

    /// [`run`](Sim::run), with a deadlock or an unjoined thread's panic ([TH-7]) returned as
    /// a [`SimError`] instead of a panic. Called from inside a simulated thread it waits like
    /// `run` and returns `Ok`.
    ///
    /// ```
    /// use ws2sim::{api, Sim, SimError, Socket, Version};
    /// use ws2sim::consts::*;
    ///
    /// let sim = Sim::builder().seed(3).build();
    /// let p = sim.localhost().process("app");
    /// let _waiter = p.spawn(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     s.bind("127.0.0.1:9".parse().unwrap()).unwrap();
    ///     let mut buf = [0u8; 4];
    ///     s.recv(&mut buf) // nothing is ever sent
    /// });
    /// match sim.try_run() {
    ///     Err(SimError::Deadlock { report, seed: 3 }) => assert!(report.contains("recv")),
    ///     other => panic!("expected a deadlock, got {other:?}"),
    /// }
    /// ```
    ///
    /// [TH-7]: crate::rules#th-7
    pub fn try_run(&self) -> Result<(), SimError> {
        match thread::try_current() {
            Some(ctx) => {
                let g = ctx.lock();
                drop(ctx.switch(g, sched::Run::Driver(sched::Goal::Quiet)));
                Ok(())
            }
            None => handle::try_drive(&self.shared, sched::Goal::Quiet),
        }
    }

    /// Ends the simulation's threads now: every simulated thread still parked (blocked in a
    /// call, or never scheduled) is terminated and its OS thread ends, and every completion
    /// routine still queued is dropped unrun. What the simulation recorded (its trace,
    /// diagnostics, counters) stays readable.
    ///
    /// Dropping a simulation's last handle does the same ([TH-4]). Call `end` when a handle
    /// may still be held *inside* the simulation (a clone moved into a thread that blocks for
    /// ever, or captured by a queued routine): that handle keeps the simulation alive, so
    /// dropping the others would leave its threads parked. [`testing::sweep`] ends each
    /// simulation it runs.
    ///
    /// Returns the panic of a simulated thread that nobody joined ([TH-7]), if there was one.
    ///
    /// ```
    /// use ws2sim::{api, Sim, Socket, Version};
    /// use ws2sim::consts::*;
    ///
    /// let sim = Sim::builder().seed(1).build();
    /// let server = sim.localhost().process("server");
    /// let inside = server.clone(); // moved into the thread: it keeps the simulation alive
    /// let h = server.run(|| {
    ///     let h = ws2sim::thread::spawn(move || {
    ///         let _keeps = inside;
    ///         api::startup(Version::V2_2).unwrap();
    ///         let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///         s.bind("127.0.0.1:9".parse().unwrap()).unwrap();
    ///         let mut buf = [0u8; 4];
    ///         s.recv(&mut buf) // nothing is ever sent
    ///     });
    ///     ws2sim::thread::sleep(std::time::Duration::from_millis(1)); // it runs and blocks
    ///     h
    /// });
    /// assert!(!h.is_finished());
    /// assert_eq!(sim.end(), Ok(()));
    /// assert!(h.is_finished()); // terminated; its OS thread is gone
    /// ```
    ///
    /// # Panics
    /// Called from inside a simulated thread: a thread cannot end the simulation it runs in
    /// (`Process::kill` ends a process).
    ///
    /// [TH-4]: crate::rules#th-4
    /// [TH-7]: crate::rules#th-7
    /// [`testing::sweep`]: crate::testing::sweep
    pub fn end(&self) -> Result<(), SimError> {
        assert!(
            thread::try_current().is_none(),
            "ws2sim: Sim::end called from inside a simulated thread; it ends the simulation's \
             threads from outside (Process::kill ends a process)"
        );
        let (routines, unseen) = {
            let mut g = self.shared.lock();
            self.shared.check_idle(&g);
            g.abort_threads(None, None);
            let routines: Vec<_> = g
                .sched
                .slots
                .values_mut()
                .flat_map(|slot| std::mem::take(&mut slot.apcs))
                .collect();
            (routines, g.take_panicked(None))
        };
        // Outside the lock: a routine may hold the simulation's last other handle.
        drop(routines);
        match unseen {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// What `testing::check_invariants` checks, read under one lock: [OV-2]'s books and the
    /// pending count, and per process (by id) its name, startup count and live resources.
    ///
    /// [OV-2]: crate::rules#ov-2
    pub(crate) fn invariant_facts(&self) -> InvariantFacts {
        let state = self.shared.lock();
        let (books, pending) = state.world.overlapped.books();
        let processes = (1..=state.world.process_count() as u32)
            .map(|id| {
                let p = ProcessId(id);
                let proc_ = state.world.process(p);
                let name = proc_.name().to_owned();
                (name, proc_.startup_count(), state.live_resources(p))
            })
            .collect();
        InvariantFacts {
            books,
            pending,
            processes,
            stream: state.world.transport.stream_books(),
        }
    }

    /// Every misuse the simulator detected so far ([CL-12], [SD-13]).
    ///
    /// # Divergence
    /// Windows may deadlock ([CL-12]) or behave in an undefined way ([SD-13]); the simulator
    /// records a diagnostic instead. WSAStartup/WSACleanup in DllMain then proceed normally; a
    /// blocking call from an APC that interrupted a blocking call fails `WSAEINPROGRESS`.
    ///
    /// [CL-12]: crate::rules#cl-12
    /// [SD-13]: crate::rules#sd-13
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.shared.lock().diagnostics.clone()
    }

    /// The current virtual time (0 at the start).
    pub fn now(&self) -> Duration {
        self.shared.lock().world.now()
    }

    /// Every byte the network lost for good so far: data a sender handed to Winsock that the
    /// peer never received ([CL-7], [CS-3]). Each loss is also a `DataLoss` event in the trace.
    ///
    /// [CL-7]: crate::rules#cl-7
    /// [CS-3]: crate::rules#cs-3
    pub fn lost_bytes(&self) -> u64 {
        self.shared.lock().world.lost_bytes()
    }

    /// Sets how long packets take between two hosts (the same host twice: its loopback).
    pub fn set_link_latency(&self, a: &Host, b: &Host, latency: Duration) {
        self.shared
            .lock()
            .world
            .set_link_latency(a.id, b.id, latency);
    }

    /// A snapshot of the trace so far.
    pub fn trace(&self) -> Trace {
        let state = self.shared.lock();
        let header = Header {
            seed: self.shared.seed,
            profile: state.world.profile(),
            scheduler: state.scheduler.to_string(),
            hosts: state
                .world
                .hosts()
                .iter()
                .map(|h| HostInfo {
                    name: h.name.clone(),
                    addr: h.addr.into(),
                })
                .collect(),
        };
        Trace::new(header, state.trace.clone())
    }

    /// Fails (`true`) or restores a host's network subsystem: while failed, calls of processes
    /// on it report `WSAENETDOWN` ([ER-5]) and `WSACleanup` still counts down ([CL-11]).
    ///
    /// [CL-11]: crate::rules#cl-11
    /// [ER-5]: crate::rules#er-5
    pub fn set_network_down(&self, host: &Host, down: bool) {
        let mut state = self.shared.lock();
        let rules = state.world.set_network_down(host.id, down);
        let what = if down { "NetworkDown" } else { "NetworkUp" };
        state.record_harness(
            EventKind::Network,
            host.id,
            None,
            what,
            String::new(),
            rules,
        );
    }

    fn panic_msg(&self, what: &str) -> String {
        format!("ws2sim (seed {}): {what}", self.seed())
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};

    use crate::consts::*;
    use crate::{api, Sim, Socket, Version};

    /// After WSAStartup: a TCP listener on 127.0.0.1:`port` (backlog 5) and a client
    /// connected to it.
    fn listener_and_client(port: u16) -> (Socket, Socket) {
        let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        api::startup(Version::V2_2).unwrap();
        let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        l.bind(addr).unwrap();
        l.listen(5).unwrap();
        let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        c.connect(addr).unwrap();
        (l, c)
    }

    /// Every endpoint lifecycle change is an `Endpoint` event of the trace, in order, as the
    /// transport's phase funnel checked it.
    #[test]
    fn endpoint_transitions_are_endpoint_events_of_the_trace() {
        let sim = Sim::new();
        let app = sim.localhost().process("app");
        app.run(|| {
            let (l, c) = listener_and_client(9000);
            let (a, _) = l.accept().unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            for s in [a, c, l] {
                s.close().unwrap();
            }
        });
        sim.run();
        let trace = sim.trace();
        let endpoint: Vec<&str> = trace
            .events()
            .iter()
            .filter(|e| e.kind == crate::EventKind::Endpoint)
            .map(|e| e.args.as_str())
            .collect();
        // The listener (0.1), the connector (1.2) and the accepted connection (2.3): each
        // created, moved only along legal transitions, detached by closesocket, and removed
        // once both FINs were exchanged.
        assert_eq!(
            endpoint,
            [
                "endpoint 0.1: created Open",
                "endpoint 0.1 (socket 0x400000): Open -> Listening (backlog 5)",
                "endpoint 1.2: created Open",
                "endpoint 1.2 (socket 0x800004): Open -> Connecting",
                "endpoint 2.3: created Connected",
                "endpoint 1.2 (socket 0x800004): Connecting -> Connected",
                "endpoint 1.2 (socket 0x800004): Connected -> Connected (send shut)",
                "endpoint 1.2 (socket 0x800004): Connected (send shut) -> Connected (send FIN sent)",
                "endpoint 2.3 (socket 0xc00008): Connected -> Connected (send shut)",
                "endpoint 2.3 (socket 0xc00008): Connected (send shut) -> Connected (send FIN sent)",
                "endpoint 2.3 (socket 0xc00008): detached from its socket",
                "endpoint 1.2 (socket 0x800004): detached from its socket",
                "endpoint 0.1 (socket 0x400000): detached from its socket",
                "endpoint 0.1 (socket 0x400000): removed",
                "endpoint 2.3 (socket 0xc00008): Connected (send FIN sent) -> Connected (send FIN sent; recv FIN received)",
                "endpoint 2.3 (socket 0xc00008): removed",
                "endpoint 1.2 (socket 0x800004): Connected (send FIN sent) -> Connected (send FIN sent; recv FIN received)",
                "endpoint 1.2 (socket 0x800004): removed",
            ]
        );
    }

    /// The one `Endpoint::writable`: after shutdown(SD_SEND) a send no longer blocks (it fails
    /// WSAESHUTDOWN), so `select` keeps reporting the socket writable, as Windows' AFD poll
    /// does (win: Wine's afd tests), on streams and datagram sockets alike.
    #[test]
    fn select_keeps_reporting_writable_after_sd_send() {
        let sim = Sim::new();
        let app = sim.localhost().process("app");
        app.run(|| {
            let (_l, c) = listener_and_client(9001);
            let u = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
            let writable = |s: Socket| {
                let (mut r, mut w, mut e) = (Vec::new(), vec![s], Vec::new());
                let zero = Some(std::time::Duration::ZERO);
                api::select(&mut r, &mut w, &mut e, zero).unwrap() == 1
            };
            assert!(writable(c) && writable(u));
            c.shutdown(Shutdown::Write).unwrap();
            u.shutdown(Shutdown::Write).unwrap();
            assert!(writable(c) && writable(u));
            assert_eq!(c.send(b"x"), Err(crate::WsaError::Shutdown));
        });
    }
}
