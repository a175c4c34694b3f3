//! The machine a provider call works on: the hosts, the processes (their socket tables,
//! event objects and completion ports, with the per-process records Ws2_32 keeps there), the
//! transport, the overlapped queue, the threads in blocking calls and virtual time.
//!
//! It does not hold Ws2_32's registry — the catalog, the providers and their instances, the
//! namespace, diagnostics — which [`World`](super::World) keeps above it: a provider reaches
//! other providers only through [`Lower`](super::provider::Lower), and never the catalog.

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
    pub(crate) processes: Vec<ProcessState>,
    pub(crate) generations: Generations,
    pub(crate) transport: Transport,
    pub(crate) now: Duration,
    pub(crate) overlapped: Overlapped,
    pub(crate) threads: Threads,
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
        }
    }

    /// A process's state.
    pub fn process(&self, p: ProcessId) -> &ProcessState {
        &self.processes[p.0 as usize - 1]
    }

    pub(crate) fn process_mut(&mut self, p: ProcessId) -> &mut ProcessState {
        &mut self.processes[p.0 as usize - 1]
    }

    /// A host's state.
    pub fn host(&self, h: HostId) -> &HostState {
        &self.hosts[h.0 as usize]
    }

    /// True when the caller's host has its network down (SP-3, CL-11).
    pub(crate) fn caller_network_down(&self, cx: &Cx) -> bool {
        self.host(self.process(cx.process).host()).network_down
    }
}
