//! A simulated process: its Ws2_32 state (startup count, version, sockets) and per-thread last
//! errors.

use std::collections::BTreeMap;

use crate::consts::{FD_ACCEPT, FD_OOB, FD_READ, FD_WRITE};
use crate::core::call::{Hook, Reply};
use crate::core::catalog::ProtocolInfo;
use crate::core::events::{EventHandle, EventState, NetEvents};
use crate::core::overlapped::{Packet, PortHandle, PortState};
use crate::core::provider::ProviderIdx;
use crate::core::providers::socket::SocketState;
use crate::core::rules::Rule;
use crate::core::transport::EndpointId;
use crate::core::ws2::table::Table;
use crate::core::ws2::table::{Generations, Socket, SocketTable};
use crate::core::ws2::version::{negotiate, Version, WsaData, WSADATA_SIZE};
use crate::core::{Cx, HostId, ThreadId};
use crate::error::WsaError;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `ExitProcess`: DLLs are unloaded normally (CL-7).
    Exit,
    /// `TerminateProcess`: no cleanup code runs (SP-8).
    Kill,
}

/// Whether a process is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Running: Winsock calls can be made.
    Running,
    /// Ended as said.
    Ended(Ending),
}

/// The Ws2_32 state of a process between its first startup and its final cleanup (ST-6).
#[derive(Debug)]
struct Ws2 {
    /// Successful startups not yet matched by a cleanup (ST-4, CL-2); at least 1.
    count: u32,
    /// ST-5: the lowest version negotiated since this state was created.
    lowest: Version,
    /// Open sockets.
    sockets: SocketTable<SocketState>,
    /// The open sockets with a `WSAEventSelect` association: the only ones whose network
    /// events need looking at after a call.
    selected: std::collections::BTreeSet<Socket>,
    /// Event objects.
    events: Table<EventHandle, EventState>,
    /// TH-5: each thread's Winsock 1.1 blocking hook.
    hooks: BTreeMap<ThreadId, Hook>,
    /// SP-1: the providers loaded (one successful WSPStartup each), in load order.
    loaded: Vec<ProviderIdx>,
}

/// A simulated process's state.
#[derive(Debug)]
pub struct ProcessState {
    name: String,
    host: HostId,
    life: Life,
    /// `None` before the first startup and after a final cleanup.
    ws2: Option<Ws2>,
    /// TH-1: each thread's last error. Not Ws2_32 state: it survives cleanup.
    last_errors: BTreeMap<ThreadId, i32>,
    /// Completion ports: kernel objects, not Ws2_32 state.
    ports: Table<PortHandle, PortState>,
    /// KW-2: kernel32's event objects (`CreateEventW`). Kernel objects, not Ws2_32 state:
    /// they need no startup and survive cleanup.
    kernel_events: Table<EventHandle, EventState>,
    /// KW-3: the simulated threads' objects among `kernel_events` (signalled when the thread
    /// ends; not counted as live resources, not set or reset by `SetEvent`/`ResetEvent`).
    thread_objects: std::collections::BTreeSet<EventHandle>,
    /// AD-4: `getaddrinfo` results not freed yet. Heap memory, not Ws2_32 state: they
    /// survive cleanup.
    addrinfo: super::resolve::AddrInfoLists,
}

impl ProcessState {
    pub(in crate::core) fn new(name: &str, host: HostId) -> ProcessState {
        ProcessState {
            name: name.to_owned(),
            host,
            life: Life::Running,
            ws2: None,
            last_errors: BTreeMap::new(),
            ports: Table::default(),
            kernel_events: Table::default(),
            thread_objects: Default::default(),
            addrinfo: Default::default(),
        }
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host the process runs on.
    pub fn host(&self) -> HostId {
        self.host
    }

    /// Running or how it ended.
    pub fn life(&self) -> Life {
        self.life
    }

    /// True between a successful startup and the final cleanup.
    pub fn is_started(&self) -> bool {
        self.ws2.as_ref().is_some_and(|w| w.count > 0)
    }

    /// SP-1: true when this process's Ws2_32 has loaded provider `idx`.
    pub(in crate::core::ws2) fn is_loaded(&self, idx: ProviderIdx) -> bool {
        self.ws2.as_ref().is_some_and(|w| w.loaded.contains(&idx))
    }

    /// SP-1: records that provider `idx` was loaded.
    pub(in crate::core::ws2) fn mark_loaded(&mut self, idx: ProviderIdx) {
        if let Some(w) = self.ws2.as_mut() {
            w.loaded.push(idx);
        }
    }

    /// SP-1: forgets that provider `idx` was loaded (its final `WSPCleanup` happened).
    pub(in crate::core::ws2) fn unmark_loaded(&mut self, idx: ProviderIdx) {
        if let Some(w) = self.ws2.as_mut() {
            w.loaded.retain(|&l| l != idx);
        }
    }

    /// The protocol chain of an open socket.
    pub(in crate::core) fn socket_chain(&self, s: Socket) -> Option<&[ProviderIdx]> {
        Some(&self.ws2.as_ref()?.sockets.get(s)?.chain)
    }

    /// True when open socket `s` is a stream socket.
    pub(in crate::core) fn is_stream_socket(&self, s: Socket) -> bool {
        self.ws2
            .as_ref()
            .and_then(|w| w.sockets.get(s))
            .is_some_and(|st| st.entry.socket_type == crate::consts::SOCK_STREAM)
    }

    /// The startup count (ST-4).
    pub fn startup_count(&self) -> u32 {
        self.ws2.as_ref().map_or(0, |w| w.count)
    }

    /// ST-5: the version governing Winsock 1.1 behaviour, while started.
    pub fn version(&self) -> Option<Version> {
        self.ws2.as_ref().map(|w| w.lowest)
    }

    /// CL-8: sockets, events, pending operations and queued APCs held for this process, and
    /// (AD-4) the `getaddrinfo` lists it has not freed.
    pub fn live_resources(&self) -> usize {
        self.ws2
            .as_ref()
            .map_or(0, |w| w.sockets.len() + w.events.len())
            + self.addrinfo.len()
            + self.kernel_events.len()
            - self.thread_objects.len()
    }

    /// KW-3: a new thread's object, to wait on until the thread ends.
    pub(in crate::core) fn add_thread_object(
        &mut self,
        generations: &mut Generations,
    ) -> Result<EventHandle, WsaError> {
        let h = self.add_kernel_event(generations, false, false)?;
        self.thread_objects.insert(h);
        Ok(h)
    }

    /// True for a thread's object (KW-3).
    pub(in crate::core) fn is_thread_object(&self, h: EventHandle) -> bool {
        self.thread_objects.contains(&h)
    }

    /// AD-4: the `getaddrinfo` lists not freed yet.
    pub(in crate::core::ws2) fn addrinfo_lists(&mut self) -> &mut super::resolve::AddrInfoLists {
        &mut self.addrinfo
    }

    /// TH-1: a thread's last error (0 if it never had one).
    pub fn last_error(&self, t: ThreadId) -> i32 {
        self.last_errors.get(&t).copied().unwrap_or(0)
    }

    pub(in crate::core) fn set_last_error(&mut self, t: ThreadId, code: i32) {
        self.last_errors.insert(t, code);
    }

    /// `WSAStartup`: ST-1..ST-6.
    pub(in crate::core::ws2) fn startup(
        &mut self,
        cx: &mut Cx,
        requested: Version,
        data: Option<&mut [u8; WSADATA_SIZE]>,
    ) -> Result<Reply, WsaError> {
        let has_data = data.is_some();
        if let Some(out) = data {
            cx.rule(Rule::St2); // Filled whether or not the call succeeds.
            WsaData::for_request(requested).write_to(out);
        }
        cx.rule(Rule::St1);
        let version = negotiate(requested)?;
        if !has_data {
            cx.rule(Rule::St3); // After the version check.
            return Err(WsaError::Fault);
        }
        if self.ws2.as_ref().is_some_and(|w| w.count == 0) {
            // A final cleanup is still unloading providers (SP-6) on another thread.
            return Err(WsaError::InProgress);
        }
        cx.rule(Rule::St4);
        let ws2 = self.ws2.get_or_insert_with(|| {
            cx.rule(Rule::St6); // A clean state.
            Ws2 {
                count: 0,
                lowest: version,
                sockets: SocketTable::default(),
                selected: Default::default(),
                events: Table::default(),
                hooks: BTreeMap::new(),
                loaded: Vec::new(),
            }
        });
        ws2.count += 1;
        ws2.lowest = ws2.lowest.min(version); // ST-5
        Ok(Reply::Version(version))
    }

    /// `WSACleanup`'s count (CL-1, CL-2). When the call is the final one, returns the
    /// providers loaded, in load order: the caller unloads them, then [`release`]s the rest
    /// (CL-8). Until then the state stays, with a count of 0.
    ///
    /// [`release`]: ProcessState::release
    pub(in crate::core::ws2) fn cleanup(
        &mut self,
        cx: &mut Cx,
    ) -> Result<Option<Vec<ProviderIdx>>, WsaError> {
        let Some(ws2) = self.ws2.as_mut().filter(|w| w.count > 0) else {
            cx.rule(Rule::Cl1);
            return Err(WsaError::NotInitialised);
        };
        cx.rule(Rule::Cl2);
        ws2.count -= 1;
        if ws2.count > 0 {
            return Ok(None);
        }
        Ok(Some(std::mem::take(&mut ws2.loaded)))
    }

    /// Takes the whole Ws2_32 state away (final cleanup, process end), returning its open
    /// sockets, oldest first.
    pub(in crate::core::ws2) fn release(&mut self) -> Option<Vec<(Socket, SocketState)>> {
        let mut ws2 = self.ws2.take()?;
        let keys = ws2.sockets.keys();
        Some(
            keys.into_iter()
                .filter_map(|k| ws2.sockets.remove(k).map(|v| (k, v)))
                .collect(),
        )
    }

    /// Creates a socket of `entry` on `endpoint`.
    pub(in crate::core) fn open_socket(
        &mut self,
        generations: &mut Generations,
        entry: ProtocolInfo,
        chain: Vec<ProviderIdx>,
        endpoint: EndpointId,
    ) -> Result<Socket, WsaError> {
        let state = SocketState::new(entry, chain, endpoint);
        self.adopt_socket(generations, state, endpoint)
    }

    /// Creates a socket on `endpoint` with `template`'s entry and options (accept, CS-8).
    pub(in crate::core) fn adopt_socket(
        &mut self,
        generations: &mut Generations,
        template: SocketState,
        endpoint: EndpointId,
    ) -> Result<Socket, WsaError> {
        let ws2 = self.ws2.as_mut().ok_or(WsaError::NotInitialised)?;
        // The selection is inherited; what the template recorded is not.
        let events = NetEvents {
            select: template.events.select,
            enabled: FD_READ | FD_WRITE | FD_OOB | FD_ACCEPT,
            ..NetEvents::default()
        };
        let selected = events.select.is_some();
        let state = SocketState {
            endpoint,
            listening: false,
            closing: None,
            events,
            ..template
        };
        let s = ws2.sockets.insert(generations, state)?;
        if selected {
            ws2.selected.insert(s);
        }
        Ok(s)
    }

    /// ER-2: the live socket behind `s`, or `WSAENOTSOCK`.
    pub(in crate::core) fn socket_mut(
        &mut self,
        cx: &mut Cx,
        s: Socket,
    ) -> Result<&mut SocketState, WsaError> {
        let ws2 = self.ws2.as_mut().ok_or(WsaError::NotInitialised)?;
        ws2.sockets.get_mut(s).ok_or_else(|| {
            cx.rule(Rule::Er2);
            WsaError::NotSocket
        })
    }

    /// The row of live socket `s`, if it is one (for the core's own bookkeeping; calls check
    /// their handles with [`ProcessState::socket_mut`]).
    pub(in crate::core) fn row_mut(&mut self, s: Socket) -> Option<&mut SocketState> {
        self.ws2.as_mut()?.sockets.get_mut(s)
    }

    /// Every open socket, oldest first.
    pub(in crate::core) fn socket_keys(&self) -> Vec<Socket> {
        self.ws2
            .as_ref()
            .map_or_else(Vec::new, |w| w.sockets.keys())
    }

    /// A socket's endpoint and WSAEventSelect state.
    pub(in crate::core) fn net_events(&self, s: Socket) -> Option<(EndpointId, NetEvents)> {
        let st = self.ws2.as_ref()?.sockets.get(s)?;
        Some((st.endpoint, st.events.clone()))
    }

    pub(in crate::core) fn set_net_events(&mut self, s: Socket, ne: NetEvents) {
        let on = ne.select.is_some();
        let Some(st) = self.ws2.as_mut().and_then(|w| w.sockets.get_mut(s)) else {
            return;
        };
        st.events = ne;
        self.set_selected(s, on);
    }

    /// Records whether socket `s` has a `WSAEventSelect` association.
    pub(in crate::core) fn set_selected(&mut self, s: Socket, on: bool) {
        if let Some(ws2) = self.ws2.as_mut() {
            match on {
                true => ws2.selected.insert(s),
                false => ws2.selected.remove(&s),
            };
        }
    }

    /// The open sockets with a `WSAEventSelect` association, oldest first.
    pub(in crate::core) fn selected_sockets(&self) -> Vec<Socket> {
        self.ws2
            .as_ref()
            .map_or_else(Vec::new, |w| w.selected.iter().copied().collect())
    }

    /// A new event object.
    pub(in crate::core) fn add_event(
        &mut self,
        generations: &mut Generations,
    ) -> Result<EventHandle, WsaError> {
        let ws2 = self.ws2.as_mut().ok_or(WsaError::NotInitialised)?;
        ws2.events.insert(generations, EventState::default())
    }

    /// KW-2: a new kernel32 event object (`CreateEventW`).
    pub(in crate::core) fn add_kernel_event(
        &mut self,
        generations: &mut Generations,
        auto_reset: bool,
        signaled: bool,
    ) -> Result<EventHandle, WsaError> {
        let state = EventState {
            signaled,
            auto_reset,
        };
        self.kernel_events.insert(generations, state)
    }

    /// The event object behind a handle: a Winsock one (while started) or a kernel32 one
    /// (KW-2: they are the same kind of object).
    fn event_mut(&mut self, h: EventHandle) -> Option<&mut EventState> {
        match self.ws2.as_mut().and_then(|w| w.events.get_mut(h)) {
            Some(e) => Some(e),
            None => self.kernel_events.get_mut(h),
        }
    }

    /// Closes an event object; false for an unknown handle.
    pub(in crate::core) fn close_event(&mut self, h: EventHandle) -> bool {
        self.ws2.as_mut().and_then(|w| w.events.remove(h)).is_some()
            || (self.kernel_events.remove(h).is_some() && {
                self.thread_objects.remove(&h);
                true
            })
    }

    /// Closes a completion port (kernel32 `CloseHandle`); false for an unknown handle.
    pub(in crate::core) fn close_port(&mut self, p: PortHandle) -> bool {
        self.ports.remove(p).is_some()
    }

    /// Sets or resets an event object; false for an unknown handle.
    pub(in crate::core) fn signal(&mut self, h: EventHandle, on: bool) -> bool {
        match self.event_mut(h) {
            Some(e) => {
                e.signaled = on;
                true
            }
            None => false,
        }
    }

    /// KW-2: a wait was satisfied by `h`: an auto-reset event resets.
    pub(in crate::core) fn consume_auto_reset(&mut self, h: EventHandle) {
        if let Some(e) = self.event_mut(h) {
            if e.auto_reset {
                e.signaled = false;
            }
        }
    }

    /// Whether an event object is signalled; `None` for an unknown handle.
    pub(in crate::core) fn event_signaled(&self, h: EventHandle) -> Option<bool> {
        let ws2 = self.ws2.as_ref().and_then(|w| w.events.get(h));
        ws2.or_else(|| self.kernel_events.get(h))
            .map(|e| e.signaled)
    }

    /// TH-5: the blocking hook of `t` (`None`: the default).
    pub(in crate::core::ws2) fn blocking_hook(&self, t: ThreadId) -> Option<Hook> {
        self.ws2.as_ref()?.hooks.get(&t).cloned()
    }

    /// Installs (`Some`) or removes (`None`) a thread's blocking hook; returns the previous.
    pub(in crate::core::ws2) fn set_blocking_hook(
        &mut self,
        t: ThreadId,
        hook: Option<Hook>,
    ) -> Option<Hook> {
        let hooks = &mut self.ws2.as_mut()?.hooks;
        match hook {
            Some(h) => hooks.insert(t, h),
            None => hooks.remove(&t),
        }
    }

    /// A socket's endpoint, if the socket is open.
    pub(in crate::core) fn endpoint_of(&self, s: Socket) -> Option<EndpointId> {
        Some(self.ws2.as_ref()?.sockets.get(s)?.endpoint)
    }

    /// A socket's completion port and key (OV-6).
    pub(in crate::core) fn port_of(&self, s: Socket) -> Option<(PortHandle, usize)> {
        self.ws2.as_ref()?.sockets.get(s)?.port
    }

    pub(in crate::core) fn port_exists(&self, p: PortHandle) -> bool {
        self.ports.get(p).is_some()
    }

    pub(in crate::core) fn add_port(
        &mut self,
        generations: &mut Generations,
    ) -> Result<PortHandle, WsaError> {
        self.ports.insert(generations, PortState::default())
    }

    /// Queues a completion packet (OV-6).
    pub(in crate::core) fn post(&mut self, p: PortHandle, packet: Packet) {
        if let Some(port) = self.ports.get_mut(p) {
            port.packets.push_back(packet);
        }
    }

    /// The oldest packet of a port.
    pub(in crate::core) fn dequeue(&mut self, p: PortHandle) -> Option<Packet> {
        self.ports.get_mut(p)?.packets.pop_front()
    }

    /// Frees a socket's handle for good (CS-1).
    pub(in crate::core) fn remove_socket(&mut self, s: Socket) -> Option<SocketState> {
        let ws2 = self.ws2.as_mut()?;
        ws2.selected.remove(&s);
        ws2.sockets.remove(s)
    }

    /// Ends the process: its Ws2_32 state goes with it, whatever the startup count. Returns
    /// the sockets that were open, or `None` if the process had ended already.
    pub(in crate::core) fn end(&mut self, how: Ending) -> Option<Vec<(Socket, SocketState)>> {
        if self.life != Life::Running {
            return None;
        }
        self.life = Life::Ended(how);
        Some(self.release().unwrap_or_default())
    }
}
