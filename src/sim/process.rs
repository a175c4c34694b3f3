use std::net::Ipv4Addr;

use crate::core::ws2::process::{Ending, Life};
use crate::core::{HostId, ProcessId, ThreadId};

use super::handle::{self, ThreadHandle};
use super::{sched, thread, Sim};

/// A simulated host: its own address and processes, on the simulation's network.
#[derive(Clone)]
pub struct Host {
    pub(super) sim: Sim,
    pub(super) id: HostId,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("name", &self.name()).finish()
    }
}

impl Host {
    /// Starts a new process named `name` on this host (each call starts another one).
    pub fn process(&self, name: &str) -> Process {
        let mut state = self.sim.shared.lock();
        let (id, main) = state.world.add_process(self.id, name);
        let rx = state.sched.add(main, Some(id), sched::Run::Outside, false);
        Process {
            sim: self.sim.clone(),
            id,
            main,
            rx,
        }
    }

    /// The host's name.
    pub fn name(&self) -> String {
        self.sim.shared.lock().world.host(self.id).name.clone()
    }

    /// The host's IPv4 address (10.0.0.N by creation order; localhost is 10.0.0.1).
    pub fn addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.sim.shared.lock().world.host(self.id).addr)
    }
}

/// A simulated process with its own Ws2_32 state.
///
/// Made by [`Host::process`]. Test code becomes the process's main thread inside
/// [`run`](Process::run), and [`spawn`](Process::spawn) adds threads; every Winsock call they
/// make is this process's. Between runs the test inspects it from outside: its startup count,
/// the resources it holds, whether it still runs. [`exit`](Process::exit) and
/// [`kill`](Process::kill) end it as `ExitProcess` and `TerminateProcess` would.
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::{api, consts::*, Sim, Socket, Version};
///
/// let sim = Sim::builder().seed(3).build();
/// let server_host = sim.host("server");
/// let server = server_host.process("server");
/// let client = sim.host("client").process("client");
/// let addr = SocketAddrV4::new(server_host.addr(), 8080);
///
/// // The server listens in its main thread ...
/// let listener = server.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     l.bind(addr).unwrap();
///     l.listen(1).unwrap();
///     l
/// });
/// // ... and accepts in a thread of its own, which waits for its turn.
/// let accepted = server.spawn(move || {
///     let (conn, _peer) = listener.accept().unwrap();
///     let mut buf = [0u8; 16];
///     let n = conn.recv(&mut buf).unwrap();
///     conn.close().unwrap();
///     buf[..n].to_vec()
/// });
///
/// // The client runs while the server's thread is blocked in accept: the scheduler
/// // switches between them at every Winsock call.
/// client.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     s.connect(addr).unwrap();
///     s.send(b"hello").unwrap();
///     s.close().unwrap();
///     api::cleanup().unwrap();
/// });
/// assert_eq!(accepted.join(), b"hello");
///
/// // From outside: the client is back to nothing; the server still holds its listener.
/// assert_eq!(client.startup_count(), 0);
/// assert_eq!(client.live_resources(), 0);
/// assert_eq!(server.startup_count(), 1);
/// assert!(server.live_resources() > 0);
///
/// // Ending the process (ExitProcess) frees everything it held, WSACleanup or not.
/// server.exit();
/// assert!(!server.is_running());
/// assert_eq!(server.live_resources(), 0);
/// ```
#[derive(Clone)]
pub struct Process {
    sim: Sim,
    id: ProcessId,
    main: ThreadId,
    rx: crossbeam_channel::Receiver<sched::Wake>,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.id.0)
            .field("name", &self.name())
            .finish()
    }
}

impl Process {
    /// Runs `f` on the calling OS thread as this process's main thread: every Winsock call `f`
    /// makes (through [`sys`](crate::sys) or [`api`](crate::api)) is made by this process.
    /// While `f` runs, the process's other threads and those of other processes run too, one
    /// at a time, switching at Winsock calls ([TH-2]). When `f` returns, they pause until the
    /// next `run`, [`join`](ThreadHandle::join) or [`Sim::run`]. Calls may nest
    /// (`other.run(..)` inside `f` runs as the other process until it returns).
    ///
    /// # Panics
    /// When the process has ended ([`exit`](Process::exit), [`kill`](Process::kill)), when its
    /// main thread is already running (a nested `run` of the same process), or on a deadlock
    /// ([TH-4]); the message names the seed.
    ///
    /// [TH-2]: crate::rules#th-2
    /// [TH-4]: crate::rules#th-4
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let outer = thread::try_current();
        {
            let mut state = self.sim.shared.lock();
            if state.world.process(self.id).life() != Life::Running {
                drop(state);
                panic!(
                    "{}",
                    self.sim.panic_msg(&format!(
                        "Process::run on process {:?} (pid {}), which has ended",
                        self.name(),
                        self.id.0
                    ))
                );
            }
            if state.sched.slot(self.main).run != sched::Run::Outside {
                drop(state);
                panic!(
                    "{}",
                    self.sim.panic_msg(&format!(
                        "Process::run on process {:?} (pid {}) while its main thread already runs",
                        self.name(),
                        self.id.0
                    ))
                );
            }
            match &outer {
                Some(o) => state.sched.set_run(o.tid, sched::Run::Outside),
                None => self.sim.shared.check_idle(&state),
            }
            state.sched.set_run(self.main, sched::Run::Running);
            state.sched.entry.push(self.main);
        }
        let entered = thread::enter(thread::ThreadCtx {
            shared: self.sim.shared.clone(),
            pid: self.id,
            tid: self.main,
            rx: self.rx.clone(),
        });
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        drop(entered);
        {
            let mut state = self.sim.shared.lock();
            state.sched.entry.retain(|t| *t != self.main);
            if state.sched.slot(self.main).run != sched::Run::Finished {
                state.sched.set_run(self.main, sched::Run::Outside);
            }
            if let Some(o) = &outer {
                state.sched.set_run(o.tid, sched::Run::Running);
            }
        }
        match result {
            Ok(v) => {
                // TH-7: a simulated thread's panic that happened meanwhile fails this run.
                let unseen = outer
                    .is_none()
                    .then(|| self.sim.shared.lock().take_panicked(None))
                    .flatten();
                if let Some(e) = unseen {
                    panic!("{e}");
                }
                v
            }
            Err(payload) => {
                // TH-6: the seed that replays a failure goes with it.
                let text = super::failure::panic_text(&*payload);
                if !text.contains("ws2sim (seed") && !crate::testing::quiet::is_quiet() {
                    let seed = self.sim.seed();
                    eprintln!(
                        "ws2sim: process {:?} panicked (seed {seed}; replay with \
                         WS2SIM_SEED={seed})",
                        self.name()
                    );
                }
                std::panic::resume_unwind(payload)
            }
        }
    }

    /// [`run`](Process::run), with a deadlock ([TH-4]) returned as
    /// [`SimError::Deadlock`](crate::SimError::Deadlock) instead of a panic (and nothing
    /// printed). Other panics (the closure's own, a misuse) go on as they would from `run`.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, SimError, Socket, Version};
    ///
    /// let sim = Sim::builder().seed(4).build();
    /// let app = sim.localhost().process("app");
    /// let waited = app.try_run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     s.bind("127.0.0.1:9".parse().unwrap()).unwrap();
    ///     let mut buf = [0u8; 4];
    ///     s.recv(&mut buf) // nothing is ever sent
    /// });
    /// assert!(matches!(waited, Err(SimError::Deadlock { seed: 4, .. })));
    /// ```
    ///
    /// # Panics
    /// As [`run`](Process::run), except on a deadlock.
    ///
    /// [TH-4]: crate::rules#th-4
    pub fn try_run<T>(&self, f: impl FnOnce() -> T) -> Result<T, crate::SimError> {
        match sched::trying(|| self.run(f)) {
            (Ok(v), _) => Ok(v),
            (Err(_), Some(report)) => Err(crate::SimError::Deadlock {
                report,
                seed: self.sim.seed(),
            }),
            (Err(payload), None) => std::panic::resume_unwind(payload),
        }
    }

    /// Starts a simulated thread of this process running `f` (on an OS thread of its own, but
    /// only when the scheduler gives it its turn). It first runs during the next
    /// [`run`](Process::run), [`join`](ThreadHandle::join) or [`Sim::run`].
    ///
    /// # Panics
    /// When the process has ended.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> ThreadHandle<T> {
        handle::spawn(&self.sim.shared, self.id, f)
            .unwrap_or_else(|msg| panic!("{}", self.sim.panic_msg(&msg)))
    }

    /// Ends the process normally (`ExitProcess`): Ws2_32 is unloaded whatever its startup
    /// count, and everything the process held goes with it ([CL-7]). Its threads end; pending
    /// overlapped operations are forgotten (the memory they would write is gone). Ending an
    /// ended process does nothing.
    ///
    /// Open connections go as the final cleanup takes them ([CL-6]); under `Profile::Documented`
    /// the unsent data of sockets already closed is lost with the DLL ([CL-7]), under
    /// `Profile::Windows` the transport goes on sending it.
    ///
    /// # Panics
    /// When called from one of the process's own threads: end it from outside (`ExitProcess`
    /// from inside never returns, which a Rust closure cannot model).
    ///
    /// [CL-6]: crate::rules#cl-6
    /// [CL-7]: crate::rules#cl-7
    pub fn exit(&self) {
        self.end(Ending::Exit, "ExitProcess");
    }

    /// Terminates the process (`TerminateProcess`): no cleanup code runs ([SP-8]). Ending an
    /// ended process does nothing.
    ///
    /// [SP-8]: crate::rules#sp-8
    pub fn kill(&self) {
        self.end(Ending::Kill, "TerminateProcess");
    }

    fn end(&self, how: Ending, call: &str) {
        if thread::try_current().is_some_and(|c| c.pid == self.id) {
            panic!(
                "{}",
                self.sim.panic_msg(&format!(
                    "{call} of process {:?} called from one of its own threads; end it from \
                     outside (after its Process::run returned)",
                    self.name()
                ))
            );
        }
        let mut state = self.sim.shared.lock();
        if state.world.process(self.id).life() != Life::Running {
            return;
        }
        // Every thread of the process ends with it, and with them what was queued to them
        // (CL-8, OV-8).
        state.abort_threads(None, Some(self.id));
        for slot in state.sched.slots.values_mut() {
            if slot.pid == Some(self.id) {
                slot.apcs.clear();
            }
        }
        state.drop_winsock_apcs(self.id);
        let rules = state.world.end_process(self.id, how);
        let host = state.world.process(self.id).host();
        state.record_harness(
            crate::EventKind::ProcessEnd,
            host,
            Some(self.id),
            call,
            String::new(),
            rules,
        );
        // What ending it put on the wire or lost comes right after the ending.
        state.record_losses();
    }

    /// [CL-8](crate::rules#cl-8): the sockets, events, pending operations and queued APCs the
    /// process holds.
    pub fn live_resources(&self) -> usize {
        self.sim.shared.lock().live_resources(self.id)
    }

    /// The Ws2_32 startup count: successful `WSAStartup`s not yet matched by `WSACleanup`.
    pub fn startup_count(&self) -> u32 {
        self.sim
            .shared
            .lock()
            .world
            .process(self.id)
            .startup_count()
    }

    /// [ST-5](crate::rules#st-5): the version that governs Winsock 1.1 behaviour (the lowest
    /// negotiated since the first startup), or `None` while Ws2_32 is not started.
    ///
    /// # Divergence
    /// SPEC [ST-5] says "the lowest negotiated by any live startup", but `WSACleanup` does not say
    /// which startup it ends, so the set of live startups is not observable. The simulator keeps
    /// the lowest version negotiated since the state was created, as ReactOS does, until the
    /// final cleanup.
    ///
    /// [ST-5]: crate::rules#st-5
    pub fn negotiated_version(&self) -> Option<crate::Version> {
        self.sim.shared.lock().world.process(self.id).version()
    }

    /// True until the process exits or is killed.
    pub fn is_running(&self) -> bool {
        self.sim.shared.lock().world.process(self.id).life() == Life::Running
    }

    /// The process id (unique in the simulation).
    pub fn pid(&self) -> u32 {
        self.id.0
    }

    /// The name given at creation.
    pub fn name(&self) -> String {
        self.sim
            .shared
            .lock()
            .world
            .process(self.id)
            .name()
            .to_owned()
    }

    /// The simulation this process belongs to.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }
}
