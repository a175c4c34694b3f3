//! The machine a provider call works on: the hosts, the processes (their socket rows, event
//! objects and completion ports), the transport, the overlapped queue, the threads in
//! blocking calls and virtual time.
//!
//! It does not hold Ws2_32's registry — the catalog, the providers and their instances, the
//! namespace, diagnostics — which [`World`](super::World) keeps above it: a provider reaches
//! other providers only through [`Lower`](super::provider::Lower), and never the catalog.
//! A process's Ws2_32-only records (its startup count and version, the providers it loaded,
//! its threads' blocking hooks) sit in its [`ProcessState`] but are visible only inside
//! `core::ws2`: the compiler keeps a provider (built-in or a user's) from reading or
//! changing them.

use std::time::Duration;

use super::overlapped::Overlapped;
use super::transport::Transport;
use super::ws2::process::ProcessState;
use super::ws2::table::Generations;
use super::ws2::threads::Threads;
use super::{Cx, HostId, HostState, ProcessId, Profile};

/// See the [module docs](self).
#[derive(Debug)]
pub struct Machine {
    pub(crate) profile: Profile,
    pub(crate) hosts: Vec<HostState>,
    /// Private: Ws2_32 reaches a process through [`Machine::process_mut`]; a provider sees
    /// only the socket rows, events and ports (the Ws2_32-only records of a process are
    /// visible in `core::ws2` alone).
    processes: Vec<ProcessState>,
    pub(crate) generations: Generations,
    pub(crate) transport: Transport,
    pub(crate) now: Duration,
    pub(crate) overlapped: Overlapped,
    pub(crate) threads: Threads,
    /// The sockets the current call reached through a provider: the only ones whose pending
    /// overlapped operations the call can have made completable (a delivery can complete
    /// any, and polls all of them).
    pub(crate) touched: Vec<crate::core::ws2::table::Socket>,
    /// The buffers blocking stream receives posted while they wait, by thread.
    pub(crate) blocked_posts: std::collections::BTreeMap<
        crate::core::ThreadId,
        (crate::core::transport::EndpointId, usize),
    >,
    /// Where the datagram the current call received was sent (EX-5's `IN_PKTINFO`).
    pub(crate) received_to: Option<std::net::Ipv4Addr>,
    /// The sockets shared between processes (DU-1).
    pub(crate) duplicates: crate::core::providers::duplicate::Duplicates,
}

impl Machine {
    /// An empty machine whose links take `latency`.
    pub fn new(profile: Profile, latency: Duration) -> Machine {
        Machine {
            profile,
            hosts: Vec::new(),
            processes: Vec::new(),
            generations: Generations::default(),
            transport: Transport::new(latency),
            now: Duration::ZERO,
            overlapped: Overlapped::default(),
            threads: Threads::default(),
            touched: Vec::new(),
            blocked_posts: Default::default(),
            received_to: None,
            duplicates: Default::default(),
        }
    }

    /// A process's state.
    pub fn process(&self, p: ProcessId) -> &ProcessState {
        &self.processes[p.0 as usize - 1]
    }

    /// KW-3: a new simulated thread's object in process `p`, the kernel32 `HANDLE` that
    /// `WaitForSingleObject` waits on until the thread ends (`None`: the process's handle
    /// table is full).
    pub fn thread_object(&mut self, p: ProcessId) -> Option<crate::core::events::EventHandle> {
        let (process, generations) = self.process_and_generations(p);
        process.add_thread_object(generations).ok()
    }

    /// KW-3: the thread whose object is `h` ended: the object is signalled for good.
    pub fn thread_ended(&mut self, p: ProcessId, h: crate::core::events::EventHandle) {
        self.process_mut(p).signal(h, true);
    }

    /// How many processes the simulation made (their ids are 1..=this).
    pub(crate) fn process_count(&self) -> usize {
        self.processes.len()
    }

    pub(crate) fn process_mut(&mut self, p: ProcessId) -> &mut ProcessState {
        &mut self.processes[p.0 as usize - 1]
    }

    /// A process's state and the handle generations, borrowed together (creating a handle
    /// needs both).
    pub(crate) fn process_and_generations(
        &mut self,
        p: ProcessId,
    ) -> (&mut ProcessState, &mut Generations) {
        (&mut self.processes[p.0 as usize - 1], &mut self.generations)
    }

    /// The processes, by id.
    pub(crate) fn process_ids(&self) -> impl Iterator<Item = ProcessId> {
        (1..=self.processes.len() as u32).map(ProcessId)
    }

    /// Starts a process named `name` on `host`.
    pub(crate) fn push_process(&mut self, host: HostId, name: &str) -> ProcessId {
        self.processes.push(ProcessState::new(name, host));
        ProcessId(self.processes.len() as u32)
    }

    /// A host's state.
    pub fn host(&self, h: HostId) -> &HostState {
        &self.hosts[h.0 as usize]
    }

    /// Records that the current call reached socket `s` through a provider.
    pub(crate) fn touch(&mut self, s: crate::core::ws2::table::Socket) {
        if !self.touched.contains(&s) {
            self.touched.push(s);
        }
    }

    /// Completes what the current call made completable: the pending operations of the
    /// sockets it reached, in the order it reached them (not a walk of every socket).
    pub(crate) fn poll_touched(&mut self) {
        for s in std::mem::take(&mut self.touched) {
            self.poll_socket_ops(s);
        }
    }

    /// True when the caller's host has its network down (SP-3, CL-11).
    pub(crate) fn caller_network_down(&self, cx: &Cx) -> bool {
        self.host(self.process(cx.process).host()).network_down
    }
}
