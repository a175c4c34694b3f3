//! The sans-IO core: the whole Winsock state of a simulation as a plain state machine.
//!
//! A call enters through [`World::dispatch`] with the calling process and thread and the current
//! virtual time, and leaves with its result plus the ids of the SPEC rules that decided it. The
//! core never sleeps, spawns, locks, reads a clock or touches real I/O; it sees the caller's memory
//! only as byte slices, the way a Winsock implementation sees user buffers. Each SPEC rule is
//! implemented at one place here, marked with its id in a comment.

pub mod builtin;
pub mod call;
pub mod catalog;
pub mod events;
pub mod names;
pub mod net;
pub mod overlapped;
pub mod process;
pub mod provider;
pub mod rules;
pub mod sockaddr;
pub mod socket;
pub mod sockopt;
pub mod spi_client;
pub mod table;
pub mod threads;
pub mod transport;
pub mod version;

use std::time::Duration;

use crate::consts::*;
use crate::error::WsaError;
pub use call::{Call, Gate, LastError, Reply, Spec};
use catalog::Catalog;
use process::{Ending, ProcessState};
use provider::Provider;
use rules::Rule;
use socket::SocketState;
use table::{Generations, Socket};
use transport::{Loss, Proto, Transport};

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

/// The whole simulated Winsock world of one simulation.
#[derive(Debug)]
pub struct World {
    profile: Profile,
    catalog: Catalog,
    hosts: Vec<HostState>,
    processes: Vec<ProcessState>,
    generations: Generations,
    next_thread: u32,
    transport: Transport,
    now: Duration,
    overlapped: overlapped::Overlapped,
    blocked: std::collections::BTreeMap<ThreadId, threads::BlockedCall>,
    interrupts: std::collections::BTreeMap<ThreadId, Rule>,
    diagnostics: Vec<threads::Diagnostic>,
    providers: spi_client::Providers,
    names: names::Names,
}

impl World {
    /// An empty world with the built-in providers, whose links take `latency`.
    pub fn new(profile: Profile, latency: Duration) -> World {
        let mut world = World {
            profile,
            catalog: Catalog::empty(),
            hosts: Vec::new(),
            processes: Vec::new(),
            generations: Generations::default(),
            next_thread: 0,
            transport: Transport::new(latency),
            now: Duration::ZERO,
            overlapped: Default::default(),
            blocked: Default::default(),
            interrupts: Default::default(),
            diagnostics: Vec::new(),
            providers: Default::default(),
            names: Default::default(),
        };
        for b in builtin::Builtin::all() {
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

    /// A host's state.
    pub fn host(&self, h: HostId) -> &HostState {
        &self.hosts[h.0 as usize]
    }

    /// Fails or restores a host's network subsystem (ER-5, CL-11).
    pub fn set_network_down(&mut self, h: HostId, down: bool) {
        self.hosts[h.0 as usize].network_down = down;
    }

    /// Starts a process on `host`; returns it and its main thread.
    pub fn add_process(&mut self, host: HostId, name: &str) -> (ProcessId, ThreadId) {
        let pid = ProcessId(self.processes.len() as u32 + 1);
        let main = self.new_thread_id();
        self.processes.push(ProcessState::new(name, host));
        (pid, main)
    }

    /// A process's state.
    pub fn process(&self, p: ProcessId) -> &ProcessState {
        &self.processes[p.0 as usize - 1]
    }

    pub(crate) fn process_mut(&mut self, p: ProcessId) -> &mut ProcessState {
        &mut self.processes[p.0 as usize - 1]
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
    /// already closed is lost with the DLL (the peer gets a reset); under `Profile::Windows`
    /// the transport keeps sending it.
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
        if self.drop_instances(p, Rule::Sp7) {
            rules.push(Rule::Sp7);
        }
        for (_, st) in sockets {
            self.release_socket(&st, reset, rule);
        }
        if self.profile == Profile::Documented {
            for ep in self.transport.orphans_with_data(p) {
                rules.push(Rule::Cl7); // CL-7: lost with the DLL.
                self.transport
                    .abort(self.now, ep, Rule::Cl7, "process exited with unsent data");
            }
        }
        rules.dedup();
        rules
    }

    /// Frees the endpoint of a socket that is going away without closesocket: reset, or closed
    /// as closesocket would without waiting (linger 0 resets; anything else is graceful).
    fn release_socket(&mut self, st: &SocketState, reset: bool, rule: Rule) {
        let ep = st.endpoint;
        let abortive = reset || (st.linger.is_on() && st.linger.seconds == 0);
        let e = self.transport.ep(ep);
        let connected = e.proto == Proto::Stream && e.phase == transport::Phase::Connected;
        if connected && abortive {
            self.transport
                .abort(self.now, ep, rule, "socket reset by cleanup or exit");
        } else if connected {
            let e = self.transport.ep_mut(ep);
            e.shut_send = true;
            self.transport.pump(self.now, ep);
        }
        self.transport.detach(self.now, ep);
    }

    /// The funnel every Winsock call goes through.
    ///
    /// ER-4: a failing call (other than `WSAStartup`, which returns its error directly) sets the
    /// calling thread's last error. Some successful calls clear it, as Windows does (see
    /// [`Call::clears_last_error`]). A call that must wait leaves the last error alone.
    pub fn dispatch(&mut self, cx: &mut Cx, call: &mut Call<'_>) -> Step {
        let spec = call.spec();
        if !cx.resumed {
            cx.started = self.now;
        }
        // A new call while this thread's blocking call is outstanding comes from its blocking
        // hook (Winsock 1.1) or from an APC that interrupted the wait.
        let nested = !cx.resumed && self.blocked.contains_key(&cx.thread);
        let winsock_1 = self
            .process(cx.process)
            .version()
            .is_some_and(|v| v.is_1x());
        let routed = if let Some(rule) = cx
            .resumed
            .then(|| self.interrupts.remove(&cx.thread))
            .flatten()
        {
            cx.rule(rule); // CL-4, CS-7, CL-13: the blocking call was cancelled.
            Err(Stop::Fail(WsaError::Interrupted))
        } else if nested && winsock_1 && !spec.in_blocking_hook {
            cx.rule(Rule::Th5); // TH-5
            if spec.cleans_up {
                cx.rule(Rule::Cl10); // CL-10
            }
            Err(Stop::Fail(WsaError::InProgress))
        } else {
            self.route(cx, spec, call)
        };
        self.poll_overlapped();
        self.poll_network_events();
        let result = match routed {
            Ok(reply) => Ok(reply),
            Err(Stop::Fail(e)) => Err(e),
            Err(Stop::Block(_)) if nested => {
                // SD-13: undefined on Windows; the simulator fails the inner call.
                let what = spec.name;
                self.diagnose(
                    cx,
                    Rule::Sd13,
                    format!("{what} would block inside an APC that interrupted a blocking call on the same thread"),
                );
                Err(WsaError::InProgress)
            }
            Err(Stop::Block(b)) => {
                let blocked = threads::BlockedCall {
                    process: cx.process,
                    socket: b.socket,
                };
                self.blocked.insert(cx.thread, blocked);
                return Step::Blocked(b);
            }
        };
        if !nested {
            self.blocked.remove(&cx.thread);
        }
        let thread = cx.thread;
        let process = self.process_mut(cx.process);
        match (&result, spec.last_error) {
            (_, LastError::Untouched) | (Ok(_), LastError::Sets) => {}
            (Err(e), LastError::Sets | LastError::SetsAndClears) => {
                cx.rule(Rule::Er4); // ER-4
                process.set_last_error(thread, e.code());
            }
            (Ok(_), LastError::SetsAndClears) => process.set_last_error(thread, 0),
        }
        Step::Done(result)
    }

    /// ER-1 then ER-5: the checks made before any argument is looked at.
    fn gate(&self, cx: &mut Cx) -> Result<(), WsaError> {
        let process = self.process(cx.process);
        if !process.is_started() {
            cx.rule(Rule::Er1); // ER-1
            return Err(WsaError::NotInitialised);
        }
        if self.host(process.host()).network_down {
            cx.rule(Rule::Er5); // ER-5
            return Err(WsaError::NetworkDown);
        }
        Ok(())
    }

    /// Sends a call to its handler: Ws2_32's own, or the socket's provider chain.
    fn route(&mut self, cx: &mut Cx, spec: Spec, call: &mut Call<'_>) -> Result<Reply, Stop> {
        match spec.gate {
            Gate::Started => self.gate(cx)?,
            Gate::None | Gate::Own => {}
        }
        match call {
            Call::Startup { requested, data } => {
                self.ws2_startup(cx, *requested, data.as_deref_mut())
            }
            Call::GetLastError => {
                cx.rule(Rule::Th1); // TH-1
                Ok(Reply::LastError(
                    self.process(cx.process).last_error(cx.thread),
                ))
            }
            Call::SetLastError(code) => {
                cx.rule(Rule::Th1); // TH-1
                self.process_mut(cx.process)
                    .set_last_error(cx.thread, *code);
                Ok(Reply::Done)
            }
            Call::Cleanup => self.ws2_cleanup(cx),
            Call::IsBlocking => Ok(Reply::Count(u32::from(self.is_blocking(cx.thread)))),
            Call::CreatePort {
                socket,
                existing,
                key,
            } => self.create_port(cx, *socket, *existing, *key),
            Call::GetQueued { port, timeout } => self.dequeue_packet(cx, *port, *timeout),
            Call::SpiStartup {
                provider,
                requested,
            } => self
                .spi_startup(cx, *provider, *requested)
                .map(Reply::Negotiated),
            Call::SpiCleanup { provider } => self.spi_cleanup(cx, *provider).map(done),
            Call::Overlapped { s, req, fault, .. } => {
                let req = req.take().ok_or(WsaError::InvalidParameter)?;
                let (s, op) = (*s, provider::Overlapped { req, fault: *fault });
                self.via_socket(cx, s, |p, spi| p.start_overlapped(spi, s, op))
                    .map(count)
            }
            Call::OverlappedResult {
                s,
                key,
                wait,
                has_bytes,
            } => {
                let (s, key, wait, has_bytes) = (*s, *key, *wait, *has_bytes);
                if cx.resumed && self.process(cx.process).socket_chain(s).is_none() {
                    // The socket was closed while the call waited: the outcome is in the
                    // OVERLAPPED record, which Ws2_32 reads itself.
                    return self.overlapped_result(cx, s, key, wait, has_bytes);
                }
                self.via_socket(cx, s, |p, spi| {
                    p.get_overlapped_result(spi, s, key, wait, has_bytes)
                })
                .map(count)
            }
            Call::CancelBlocking => self.ws2_cancel_blocking_call(cx),
            Call::SetBlockingHook(hook) => self.set_blocking_hook(cx, *hook),
            Call::Socket {
                af,
                ty,
                protocol,
                info,
                group,
                flags,
                ..
            } => self.ws2_socket(cx, *af, *ty, *protocol, info.as_ref(), *group, *flags),
            Call::CloseSocket(s) => self.ws2_close_socket(cx, *s),
            Call::SetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => {
                let (s, level, name, len) = (*s, *level, *name, *len);
                let value = value.as_deref();
                self.via_socket(cx, s, |p, spi| {
                    p.set_sock_opt(spi, s, level, name, value, len)
                })
                .map(done)
            }
            Call::GetSockOpt {
                s,
                level,
                name,
                value,
                len,
            } => {
                let (s, level, name) = (*s, *level, *name);
                let (value, len) = (value.as_deref_mut(), len.as_deref_mut());
                self.via_socket(cx, s, |p, spi| {
                    p.get_sock_opt(spi, s, level, name, value, len)
                })
                .map(done)
            }
            Call::IoctlSocket { s, cmd, arg } => {
                let (s, cmd, arg) = (*s, *cmd, arg.as_deref_mut());
                self.via_socket(cx, s, |p, spi| p.ioctl(spi, s, cmd, arg))
                    .map(done)
            }
            Call::EnumProtocols {
                filter,
                buffer,
                len,
            } => {
                cx.rule(Rule::Sp11); // SP-11
                Ok(enum_protocols(
                    &self.catalog,
                    filter.as_deref(),
                    buffer.as_deref_mut(),
                    len.as_deref_mut(),
                )?)
            }
            Call::Bind { s, addr } => {
                let (s, addr) = (*s, addr.as_deref());
                self.via_socket(cx, s, |p, spi| p.bind(spi, s, addr))
                    .map(done)
            }
            Call::Listen { s, backlog } => {
                let (s, backlog) = (*s, *backlog);
                self.via_socket(cx, s, |p, spi| p.listen(spi, s, backlog))
                    .map(done)
            }
            Call::Accept { s, addr, len } => {
                self.ws2_accept(cx, *s, addr.as_deref_mut(), len.as_deref_mut())
            }
            Call::Connect { s, addr } => {
                let (s, addr) = (*s, addr.as_deref());
                self.via_socket(cx, s, |p, spi| p.connect(spi, s, addr))
                    .map(done)
            }
            Call::Send {
                s,
                buf,
                len,
                flags,
                to,
            } => {
                let (s, buf, len, flags) = (*s, buf.as_deref(), *len, *flags);
                match *to {
                    None => self.via_socket(cx, s, |p, spi| p.send(spi, s, buf, len, flags)),
                    Some(to) => {
                        self.via_socket(cx, s, |p, spi| p.send_to(spi, s, buf, len, flags, to))
                    }
                }
                .map(count)
            }
            Call::Recv {
                s,
                buf,
                len,
                flags,
                from,
            } => {
                let (s, buf, len, flags) = (*s, buf.as_deref_mut(), *len, *flags);
                match from.as_mut() {
                    None => self.via_socket(cx, s, |p, spi| p.recv(spi, s, buf, len, flags)),
                    Some((b, l)) => {
                        let (b, l) = (b.as_deref_mut(), l.as_deref_mut());
                        self.via_socket(cx, s, |p, spi| p.recv_from(spi, s, buf, len, flags, b, l))
                    }
                }
                .map(count)
            }
            Call::SockName { s, addr, len } => {
                let (s, addr, len) = (*s, addr.as_deref_mut(), len.as_deref_mut());
                self.via_socket(cx, s, |p, spi| p.sock_name(spi, s, addr, len))
                    .map(done)
            }
            Call::PeerName { s, addr, len } => {
                let (s, addr, len) = (*s, addr.as_deref_mut(), len.as_deref_mut());
                self.via_socket(cx, s, |p, spi| p.peer_name(spi, s, addr, len))
                    .map(done)
            }
            Call::Shutdown { s, how } => {
                let (s, how) = (*s, *how);
                self.via_socket(cx, s, |p, spi| p.shutdown(spi, s, how))
                    .map(done)
            }
            Call::SendDisconnect { s, data } => {
                let s = *s;
                let data = data.as_ref().map(|d| net::WsaBufIn {
                    buf: d.buf,
                    len: d.len,
                });
                self.via_socket(cx, s, |p, spi| p.send_disconnect(spi, s, data))
                    .map(done)
            }
            Call::CreateEvent => self.create_event(cx),
            Call::EventOp(h, op) => self.event_op(cx, *h, *op),
            Call::WaitEvents {
                events,
                wait_all,
                timeout,
                ..
            } => self.wait_events(cx, events.as_deref(), *wait_all, *timeout),
            Call::EventSelect { s, event, mask } => self.event_select(cx, *s, *event, *mask),
            Call::EnumNetworkEvents { s, event, out } => {
                self.enum_network_events(cx, *s, *event, out.as_deref_mut())
            }
            Call::Select {
                read,
                write,
                except,
                timeout,
            } => {
                let timeout = timeout.map_err(|()| WsaError::InvalidArgument)?;
                let sets = [
                    read.as_deref_mut(),
                    write.as_deref_mut(),
                    except.as_deref_mut(),
                ];
                self.select(cx, sets, timeout)
            }
            Call::RecvDisconnect { s, data } => {
                let s = *s;
                let data = data.as_mut().map(|d| net::WsaBufOut {
                    buf: d.buf.as_deref_mut(),
                    len: &mut *d.len,
                });
                self.via_socket(cx, s, |p, spi| p.recv_disconnect(spi, s, data))
                    .map(done)
            }
            Call::RegisterName { name, addr } => self.register_name(cx, name, *addr),
            Call::LookupName { name } => self.lookup_name(cx, name),
        }
    }

    /// `WSAStartup` (ST-1..ST-6), and CL-12 when made from DllMain.
    fn ws2_startup(
        &mut self,
        cx: &mut Cx,
        requested: version::Version,
        data: Option<&mut [u8; version::WSADATA_SIZE]>,
    ) -> Result<Reply, Stop> {
        if cx.in_dllmain {
            self.diagnose(
                cx,
                Rule::Cl12,
                "WSAStartup called from DllMain (the loader lock is held)".into(),
            );
        }
        Ok(self.process_mut(cx.process).startup(cx, requested, data)?)
    }

    /// `WSACleanup` as called: CL-10 from inside a callback, CL-12 from DllMain, then
    /// [`cleanup`](World::cleanup).
    fn ws2_cleanup(&mut self, cx: &mut Cx) -> Result<Reply, Stop> {
        if cx.in_callback {
            // CL-10: not from inside a completion routine or callback being run.
            cx.rule(Rule::Cl10);
            return Err(WsaError::InProgress.into());
        }
        if cx.in_dllmain {
            self.diagnose(cx, Rule::Cl12, "WSACleanup called from DllMain (the loader lock is held): it unloads provider DLLs and can deadlock".into());
        }
        self.cleanup(cx)
    }

    /// `WSACleanup`: CL-1, CL-2, CL-3, CL-4, CL-8, CL-11; the final one unloads every
    /// provider the process loaded (SP-2..SP-6), which resets the sockets (CL-5, CL-6).
    fn cleanup(&mut self, cx: &mut Cx) -> Result<Reply, Stop> {
        let pid = cx.process;
        // A final cleanup that waited for a provider (SP-6) goes on where it stopped.
        if !self.is_unloading(pid) {
            if let Some(loaded) = self.process_mut(pid).cleanup(cx)? {
                // CL-4: every blocking call of the process's other threads returns WSAEINTR.
                let me = cx.thread;
                self.interrupt(cx, Rule::Cl4, |t, b| b.process == pid && t != me);
                self.begin_unload(pid, loaded);
            }
        }
        if self.is_unloading(pid) {
            self.unload(cx)?;
            // CL-8: nothing of the process's Ws2_32 state survives. Sockets a provider left
            // (one still started by a direct SPI client) are freed as CL-6 says.
            let left = self.process_mut(pid).release().unwrap_or_default();
            let reset = self.profile == Profile::Documented;
            for (_, st) in left {
                cx.rule(Rule::Cl6);
                self.release_socket(&st, reset, Rule::Cl6);
            }
            // CL-5 for those left sockets too: their operations end silently.
            self.abort_ops(|p, _| p == pid, false);
            cx.rule(Rule::Cl8);
        }
        if self.caller_network_down(cx) {
            // CL-11: the count was still decremented (and a final cleanup still performed).
            cx.rule(Rule::Cl11);
            return Err(WsaError::NetworkDown.into());
        }
        cx.rule(Rule::Cl3); // CL-3
        Ok(Reply::Done)
    }

    /// `socket`/`WSASocketW`: the catalog chooses the entry (SP-11), Ws2_32 loads its chain's
    /// providers (SP-1) and the top one makes the socket.
    #[allow(clippy::too_many_arguments)]
    fn ws2_socket(
        &mut self,
        cx: &mut Cx,
        af: i32,
        ty: i32,
        protocol: i32,
        info: Option<&catalog::ProtocolInfo>,
        group: u32,
        flags: u32,
    ) -> Result<Reply, Stop> {
        cx.rule(Rule::Sp11); // SP-11: the catalog decides, success or failure.
        let entry = self.catalog.select(af, ty, protocol, info)?.clone();
        let chain = self.chain_of(&entry)?;
        self.load_chain(cx, &chain)?;
        let args = provider::SocketArgs {
            af,
            ty,
            protocol,
            entry,
            group,
            flags,
        };
        let before = self.process(cx.process).socket_keys();
        let s = self.call_provider(cx, chain.clone(), 0, |p, spi| p.socket(spi, &args))?;
        self.check_new_socket(cx, s, &chain, &before, "WSPSocket")?;
        Ok(Reply::Socket(s))
    }

    /// SP-1: a socket a provider hands Ws2_32 must be a new handle of the chain's.
    fn check_new_socket(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        chain: &[provider::ProviderIdx],
        before: &[Socket],
        what: &str,
    ) -> Result<(), WsaError> {
        let ok = !before.contains(&s) && self.process(cx.process).socket_chain(s) == Some(chain);
        if !ok {
            let name = self.provider_info(chain[0]).name.clone();
            self.diagnose(
                cx,
                Rule::Sp1,
                format!("provider {name}: {what} succeeded with {s}, which is not a new socket of its chain"),
            );
            return Err(WsaError::ProviderFailedInit);
        }
        Ok(())
    }

    /// `accept` through the listener's provider.
    fn ws2_accept(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        addr: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<Reply, Stop> {
        let chain = self
            .process_mut(cx.process)
            .socket_mut(cx, s)?
            .chain
            .clone();
        let before = self.process(cx.process).socket_keys();
        let new = self.via_socket(cx, s, |p, spi| p.accept(spi, s, addr, len))?;
        self.check_new_socket(cx, new, &chain, &before, "WSPAccept")?;
        Ok(Reply::Socket(new))
    }

    /// `closesocket`: CS-1 (unknown or closed handle → `WSAENOTSOCK`), then the socket's
    /// provider closes it.
    fn ws2_close_socket(&mut self, cx: &mut Cx, s: Socket) -> Result<Reply, Stop> {
        if let Err(e) = self.process_mut(cx.process).socket_mut(cx, s) {
            cx.rule(Rule::Cs1); // CS-1
            return Err(e.into());
        }
        self.via_socket(cx, s, |p, spi| p.close_socket(spi, s))?;
        if let Some(&top) = self
            .process(cx.process)
            .socket_chain(s)
            .and_then(<[_]>::first)
        {
            let name = self.provider_info(top).name.clone();
            self.diagnose(
                cx,
                Rule::Cs1,
                format!("provider {name}: WSPCloseSocket succeeded but {s} is still open"),
            );
        }
        Ok(Reply::Done)
    }

    /// `WSACancelBlockingCall`: through the provider of the socket the thread's blocking call
    /// waits on, if it waits on one.
    fn ws2_cancel_blocking_call(&mut self, cx: &mut Cx) -> Result<Reply, Stop> {
        let socket = self.blocked.get(&cx.thread).and_then(|b| b.socket);
        match socket.filter(|s| self.process(cx.process).socket_chain(*s).is_some()) {
            Some(s) => self
                .via_socket(cx, s, |p, spi| p.cancel_blocking_call(spi))
                .map(done),
            None => self.cancel_blocking_call(cx),
        }
    }

    /// The built-in providers' `WSPSocket`: a fresh endpoint for a socket of `entry`.
    pub(super) fn open_socket(
        &mut self,
        cx: &mut Cx,
        entry: catalog::ProtocolInfo,
        chain: Vec<provider::ProviderIdx>,
    ) -> Result<Reply, Stop> {
        let proto = if entry.is_connectionless() {
            Proto::Datagram
        } else {
            Proto::Stream
        };
        let host = self.process(cx.process).host();
        let bufs = (
            socket::DEFAULT_BUFFER_SIZE as usize,
            socket::DEFAULT_BUFFER_SIZE as usize,
        );
        let disc = entry.has_disconnect_data();
        let ep = self.transport.create(host, proto, disc, cx.process, bufs);
        let process = &mut self.processes[cx.process.0 as usize - 1];
        match process.open_socket(&mut self.generations, entry, chain, ep) {
            Ok(s) => {
                self.transport.ep_mut(ep).socket = Some(s);
                Ok(Reply::Socket(s))
            }
            Err(e) => {
                self.transport.detach(self.now, ep);
                Err(e.into())
            }
        }
    }

    /// The built-in providers' `WSPCloseSocket`: CS-6, the network half (CS-2..CS-5), CS-7.
    ///
    /// Ws2_32 has checked the handle (CS-1); a bad one passed down by a layered provider fails
    /// `WSAENOTSOCK` in `close_network` (ER-2).
    pub(super) fn close_socket(&mut self, cx: &mut Cx, s: Socket) -> Result<Reply, Stop> {
        let pid = cx.process;
        let pending = self.overlapped.pending_of(pid) > 0;
        if pending && self.abort_ops(|p, s2| p == pid && s2 == s, true) {
            // CS-6: pending operations fail and their completion action IS performed.
            cx.rule(Rule::Cs6);
        }
        self.close_network(cx, s)?;
        self.process_mut(cx.process).remove_socket(s);
        // CS-7: blocking calls on the socket in other threads return WSAEINTR.
        let (p, me) = (cx.process, cx.thread);
        self.interrupt(cx, Rule::Cs7, |t, b| {
            b.process == p && b.socket == Some(s) && t != me
        });
        cx.rule(Rule::Cs1); // CS-1: the handle dies for good.
        Ok(Reply::Done)
    }

    /// The built-in providers' `WSPSetSockOpt`.
    pub(super) fn set_sock_opt(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        level: i32,
        name: i32,
        value: Option<&[u8]>,
        len: i32,
    ) -> Result<(), Stop> {
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        sockopt::set(cx, st, level, name, value, len)?;
        // The transport uses the buffer sizes.
        let (ep, snd, rcv) = (st.endpoint, st.option(SO_SNDBUF), st.option(SO_RCVBUF));
        let e = self.transport.ep_mut(ep);
        e.sndbuf = snd as usize;
        e.rcvbuf = rcv as usize;
        if let Some(peer) = e.peer {
            self.transport.pump(self.now, peer);
        }
        Ok(())
    }

    /// The built-in providers' `WSPGetSockOpt`.
    pub(super) fn get_sock_opt(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        level: i32,
        name: i32,
        value: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<(), Stop> {
        let ep = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
        let failed = match self.transport.ep(ep).phase {
            transport::Phase::Failed(e) => Some(e),
            _ => None,
        };
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        if let Some(e) = failed {
            // SO_ERROR reports why the last connect failed.
            st.set_option(SO_ERROR, e.code() as u32);
        }
        sockopt::get(cx, st, level, name, value, len)?;
        Ok(())
    }

    /// The built-in providers' `ioctlsocket` commands.
    pub(super) fn ioctl(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        cmd: i32,
        arg: Option<&mut u32>,
    ) -> Result<(), Stop> {
        let ep = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
        let readable = self.transport.ep(ep).readable_bytes();
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        st.ioctl(cmd, arg, readable)?;
        Ok(())
    }
}

/// A data call's reply: the byte count.
fn count(n: usize) -> Reply {
    Reply::Count(n as u32)
}

/// A call that returns 0 on success.
fn done((): ()) -> Reply {
    Reply::Done
}

/// SP-11: `WSAEnumProtocolsW` into a caller's buffer of `*len` bytes.
///
/// `len` NULL → `WSAEFAULT` (sim: Windows' behaviour is undocumented). A NULL buffer, or one
/// shorter than every listed entry needs, → `WSAENOBUFS` with the needed length written back
/// (win: protocol.c). Otherwise the entries are written and their count returned.
fn enum_protocols(
    catalog: &Catalog,
    filter: Option<&[i32]>,
    buffer: Option<&mut [u8]>,
    len: Option<&mut u32>,
) -> Result<Reply, WsaError> {
    let Some(len) = len else {
        return Err(WsaError::Fault);
    };
    let listed = catalog.enumerate(filter);
    let needed = listed.len() * catalog::PROTOCOL_INFO_SIZE;
    match buffer {
        Some(buf) if buf.len() >= needed && (*len as usize) >= needed => {
            for (chunk, entry) in buf
                .chunks_exact_mut(catalog::PROTOCOL_INFO_SIZE)
                .zip(&listed)
            {
                chunk.copy_from_slice(&entry.encode());
            }
            Ok(Reply::Count(listed.len() as u32))
        }
        _ => {
            *len = needed as u32;
            Err(WsaError::NoBufferSpace)
        }
    }
}
