//! Event objects (`WSACreateEvent` and friends, `WSAWaitForMultipleEvents`), network-event
//! recording for `WSAEventSelect` / `WSAEnumNetworkEvents` (with the documented re-enabling
//! rules and SD-12's FD_CLOSE codes), and `select`.

use std::time::Duration;

use super::call::ObjectCall;
use super::overlapped::PortHandle;
use super::providers::calls::Cs7;
use super::providers::net::Sd12;
use super::rules::Rule;
use super::transport::{Endpoint, Phase, Proto};
use super::ws2::table::{Key, Socket};
use super::{Cx, Machine, Profile, Reply, Stop};
use crate::consts::*;
use crate::error::WsaError;

/// An event object handle (`WSAEVENT`), made by [`EventHandle::create`] (`WSACreateEvent`).
/// Values are never 0 (`WSA_INVALID_EVENT`) and never equal a socket handle; [`raw`](Self::raw)
/// is the value [`sys`](crate::sys) functions take.
///
/// ```
/// use ws2sim::{api, sys, EventHandle, Sim, Version};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let e = EventHandle::create().unwrap();
///     assert_ne!(e.raw(), sys::WSA_INVALID_EVENT);
///     assert_eq!(unsafe { sys::WSASetEvent(e.raw()) }, sys::TRUE);
///     e.close().unwrap();
///     assert_eq!(EventHandle::from_raw(e.raw()), e);
///     api::cleanup().unwrap();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventHandle(isize);

impl EventHandle {
    /// The handle with this raw `WSAEVENT` value (valid or not).
    pub const fn from_raw(raw: isize) -> EventHandle {
        EventHandle(raw)
    }

    /// The raw `WSAEVENT` value.
    pub const fn raw(self) -> isize {
        self.0
    }
}

impl Key for EventHandle {
    fn encode(generation: u64, slot: usize) -> Self {
        EventHandle(Socket::encode(generation, slot).raw() as isize)
    }

    fn decode(self) -> Option<(u64, usize)> {
        Socket::from_raw(self.0 as usize).decode()
    }
}

impl std::fmt::Display for EventHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// An event object: manual-reset as `WSACreateEvent` makes, or either kind from kernel32's
/// `CreateEventW` (KW-2).
#[derive(Debug, Clone, Default)]
pub struct EventState {
    /// Signalled or not.
    pub signaled: bool,
    /// Auto-reset: a wait it satisfies resets it (only `CreateEventW` makes these).
    pub auto_reset: bool,
}

/// The network events that need no call to be re-enabled after they were recorded.
const ONE_SHOT: u32 = FD_CONNECT | FD_CLOSE;

/// A socket's `WSAEventSelect` state.
#[derive(Debug, Clone, Default)]
pub struct NetEvents {
    /// The associated event and the events asked for (`None`: no association).
    pub select: Option<(EventHandle, u32)>,
    /// Events recorded, not yet read by `WSAEnumNetworkEvents`.
    pub recorded: u32,
    /// Their error codes, by `FD_*_BIT`.
    pub errors: [i32; FD_MAX_EVENTS as usize],
    /// Events that may be recorded now: each is disabled once recorded until the call that
    /// re-enables it (recv for FD_READ, send failing WSAEWOULDBLOCK for FD_WRITE, accept for
    /// FD_ACCEPT).
    pub enabled: u32,
    /// A connect is under way: FD_CONNECT is due when it ends.
    pub connect_pending: bool,
    /// FD_CLOSE was recorded already (it happens once).
    pub close_reported: bool,
}

impl NetEvents {
    /// Re-enables an event after the call that the documentation says re-enables it.
    pub fn reenable(&mut self, bits: u32) {
        self.enabled |= bits & !ONE_SHOT;
    }
}

/// The events that hold for an endpoint now, with their error codes.
fn conditions(ep: &Endpoint, profile: Profile) -> Vec<(u32, i32)> {
    let mut out = Vec::new();
    if ep.readable_bytes() > 0 {
        out.push((FD_READ, 0));
    }
    if ep.writable() {
        out.push((FD_WRITE, 0));
    }
    if ep.is_listening() && ep.pending_accepts() > 0 {
        out.push((FD_ACCEPT, 0));
    }
    let stream = ep.proto == Proto::Stream;
    match ep.phase() {
        Phase::Connected { .. } | Phase::Reset { .. } if stream => out.push((FD_CONNECT, 0)),
        Phase::Failed(e) => out.push((FD_CONNECT, e.code())),
        Phase::Open { .. }
        | Phase::Listening { .. }
        | Phase::Connecting
        | Phase::Connected { .. }
        | Phase::Reset { .. } => {}
    }
    if stream && ep.is_connected() {
        // SD-12: FD_CLOSE with 0 for a graceful close; for a reset, WSAECONNRESET as
        // documented, WSAECONNABORTED as Windows was observed to report.
        if ep.reset_error().is_some() {
            let code = match profile {
                Profile::Documented => WsaError::ConnectionReset,
                Profile::Windows => WsaError::ConnectionAborted,
            };
            out.push((FD_CLOSE, code.code()));
        } else if ep.fin_received() && ep.recv_q.is_empty() {
            out.push((FD_CLOSE, 0));
        }
    }
    out
}

impl Machine {
    /// Records the network events that now hold for every socket with a `WSAEventSelect`
    /// association, and signals their events. Called after every call and every delivery; it
    /// looks at the selected sockets only, so idle sockets cost nothing.
    pub fn poll_network_events(&mut self) {
        let profile = self.profile;
        for pid in self.process_ids() {
            let keys = self.process(pid).selected_sockets();
            for s in keys {
                let Some((ep, mut ne)) = self.process(pid).net_events(s) else {
                    continue;
                };
                let Some((event, mask)) = ne.select else {
                    continue;
                };
                let Some(endpoint) = self.transport.get(ep) else {
                    continue;
                };
                let mut fired = false;
                for (bit, code) in conditions(endpoint, profile) {
                    let due = match bit {
                        FD_CONNECT => ne.connect_pending,
                        FD_CLOSE => !ne.close_reported,
                        _ => ne.enabled & bit != 0,
                    };
                    if mask & bit == 0 || !due {
                        continue;
                    }
                    ne.recorded |= bit;
                    ne.errors[bit.trailing_zeros() as usize] = code;
                    ne.enabled &= !bit;
                    match bit {
                        FD_CONNECT => ne.connect_pending = false,
                        FD_CLOSE => ne.close_reported = true,
                        _ => {}
                    }
                    fired = true;
                }
                self.process_mut(pid).set_net_events(s, ne);
                if fired {
                    self.process_mut(pid).signal(event, true);
                }
            }
        }
    }

    /// `WSACreateEvent`: a manual-reset event, not signalled.
    pub(super) fn create_event(&mut self, cx: &mut Cx) -> Result<Reply, Stop> {
        let (process, generations) = self.process_and_generations(cx.process);
        Ok(Reply::Event(process.add_event(generations)?))
    }

    /// `WSACloseEvent`, `WSASetEvent`, `WSAResetEvent`: an unknown handle fails
    /// `WSA_INVALID_HANDLE`.
    pub(super) fn event_op(
        &mut self,
        cx: &mut Cx,
        h: EventHandle,
        op: EventOp,
    ) -> Result<Reply, Stop> {
        let process = self.process_mut(cx.process);
        let ok = match op {
            EventOp::Close => process.close_event(h),
            EventOp::Set => process.signal(h, true),
            EventOp::Reset => process.signal(h, false),
        };
        if ok {
            Ok(Reply::Done)
        } else {
            Err(WsaError::InvalidHandle.into())
        }
    }

    /// `WSAWaitForMultipleEvents` (and kernel32's waits, named `what`): the index of the
    /// signalled event (`wait_all`: once all are), or `WSA_WAIT_TIMEOUT` when `timeout` passes
    /// (`None`: never). Manual-reset events stay signalled; the auto-reset ones that satisfied
    /// the wait are reset (KW-2).
    pub(super) fn wait_events(
        &mut self,
        cx: &mut Cx,
        events: Option<&[EventHandle]>,
        wait_all: bool,
        timeout: Option<Duration>,
        what: &'static str,
    ) -> Result<Reply, Stop> {
        let events = events.ok_or(WsaError::InvalidParameter)?;
        if events.is_empty() || events.len() > WSA_MAXIMUM_WAIT_EVENTS as usize {
            return Err(WsaError::InvalidParameter.into());
        }
        let process = self.process(cx.process);
        let mut states = Vec::with_capacity(events.len());
        for h in events {
            states.push(process.event_signaled(*h).ok_or(WsaError::InvalidHandle)?);
        }
        let ready = if wait_all {
            states.iter().all(|s| *s).then_some(0)
        } else {
            states.iter().position(|s| *s)
        };
        if let Some(i) = ready {
            // KW-2: the events the wait was satisfied by, of which auto-reset ones reset.
            let satisfied = if wait_all { events } else { &events[i..=i] };
            let process = self.process_mut(cx.process);
            for h in satisfied {
                process.consume_auto_reset(*h);
            }
            return Ok(Reply::Count(WSA_WAIT_EVENT_0 as u32 + i as u32));
        }
        match cx.wait_until_timeout(self.now, timeout, what) {
            Some(block) => Err(block),
            None => Ok(Reply::Count(WSA_WAIT_TIMEOUT)),
        }
    }

    /// `WSAEventSelect`: associates `event` with the socket for the events in `mask` (0: no
    /// association) and makes the socket non-blocking. Conditions that already hold are
    /// recorded at once.
    pub(super) fn event_select(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        event: EventHandle,
        mask: i32,
    ) -> Result<Reply, Stop> {
        let process = self.process_mut(cx.process);
        process.socket_mut(cx, s)?;
        let mask = mask as u32;
        if mask != 0 && process.event_signaled(event).is_none() {
            return Err(WsaError::InvalidArgument.into());
        }
        let st = process.socket_mut(cx, s)?;
        st.nonblocking = true;
        st.events.select = (mask != 0).then_some((event, mask));
        st.events.enabled = FD_READ | FD_WRITE | FD_OOB | FD_ACCEPT;
        process.set_selected(s, mask != 0);
        self.poll_network_events();
        Ok(Reply::Done)
    }

    /// `WSAEnumNetworkEvents`: the recorded events and their error codes, then clears them and
    /// resets `event` if one is given.
    pub(super) fn enum_network_events(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        event: Option<EventHandle>,
        out: Option<&mut (u32, [i32; FD_MAX_EVENTS as usize])>,
    ) -> Result<Reply, Stop> {
        let process = self.process_mut(cx.process);
        process.socket_mut(cx, s)?;
        if let Some(h) = event {
            if process.event_signaled(h).is_none() {
                // Not an event of the process: WSAEINVAL, of the errors Microsoft's page
                // lists (WSA_INVALID_HANDLE is not among them).
                return Err(WsaError::InvalidArgument.into());
            }
        }
        let out = out.ok_or(WsaError::Fault)?;
        let st = process.socket_mut(cx, s)?;
        *out = (st.events.recorded, st.events.errors);
        let recorded = st.events.recorded;
        Machine::sd_12(cx, Sd12::Events { recorded });
        st.events.recorded = 0;
        st.events.errors = [0; FD_MAX_EVENTS as usize];
        if let Some(h) = event {
            process.signal(h, false);
        }
        Ok(Reply::Done)
    }

    /// `select`: how many sockets are ready; each set keeps its ready sockets only. All sets
    /// empty → `WSAEINVAL`; an unknown socket → `WSAENOTSOCK`; a socket closed while it
    /// waited → CS-7 ([`Machine::cs_7`]).
    pub(super) fn select(
        &mut self,
        cx: &mut Cx,
        sets: [Option<&mut Vec<Socket>>; 3],
        timeout: Option<Duration>,
    ) -> Result<Reply, Stop> {
        if sets.iter().all(|s| s.as_ref().is_none_or(|v| v.is_empty())) {
            return Err(WsaError::InvalidArgument.into());
        }
        let mut ready: [Vec<Socket>; 3] = Default::default();
        let mut gone: [Vec<Socket>; 3] = Default::default();
        for (k, set) in sets.iter().enumerate() {
            for &s in set.iter().flat_map(|v| v.iter()) {
                // Handles are never reused (CS-1): a socket unknown now that the call is made
                // again was open when it started.
                if cx.resumed && self.process(cx.process).socket_chain(s).is_none() {
                    if !gone[k].contains(&s) {
                        gone[k].push(s);
                    }
                    continue;
                }
                let ep = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
                let e = self.transport.ep(ep);
                let yes = match k {
                    0 => readable(e),
                    1 => e.writable(),
                    _ => e.failure().is_some(),
                };
                if yes && !ready[k].contains(&s) {
                    ready[k].push(s);
                }
            }
        }
        let closed = self.cs_7(
            cx,
            Cs7::Select {
                ready: &mut ready,
                gone,
            },
        );
        let n: usize = ready.iter().map(Vec::len).sum();
        if closed.is_ok() && n == 0 {
            if let Some(block) = cx.wait_until_timeout(self.now, timeout, "select") {
                return Err(block);
            }
        }
        // CS-7's failure reports nothing ready: every set given is emptied.
        for (set, r) in sets.into_iter().zip(ready) {
            if let Some(v) = set {
                *v = r;
            }
        }
        closed?;
        Ok(Reply::Count(n as u32))
    }
}

/// True when a receive (or accept) would not block: data or a datagram waits, a connection
/// waits to be accepted, or the peer closed (a receive returns 0 or the reset's error).
fn readable(e: &Endpoint) -> bool {
    e.readable_bytes() > 0
        || (e.is_listening() && e.pending_accepts() > 0)
        || (e.proto == Proto::Stream
            && e.is_connected()
            && (e.fin_received() || e.reset_error().is_some()))
}

/// One `WSAPOLLFD`: the socket, the events asked for, and (written) those that hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollEntry {
    /// `fd` (`None`: a negative value, which `WSAPoll` ignores).
    pub fd: Option<Socket>,
    /// `events`.
    pub events: i16,
    /// `revents`, written by the call.
    pub revents: i16,
}

/// `WSAPoll`'s event flags.
pub mod poll {
    /// Normal data may be read.
    pub const POLLRDNORM: i16 = 0x100;
    /// Priority data may be read.
    pub const POLLRDBAND: i16 = 0x200;
    /// Normal data may be written.
    pub const POLLWRNORM: i16 = 0x10;
    /// An error occurred.
    pub const POLLERR: i16 = 0x1;
    /// The connection was closed or aborted.
    pub const POLLHUP: i16 = 0x2;
    /// The socket is not a socket of the process.
    pub const POLLNVAL: i16 = 0x4;
}

impl Machine {
    /// PL-1 and PL-2, the one place they are decided: `WSAPoll` reports, per entry, the
    /// requested `POLLRDNORM` / `POLLRDBAND` / `POLLWRNORM` that hold, plus `POLLERR`,
    /// `POLLHUP` and `POLLNVAL` whenever they hold, and returns how many entries have any;
    /// with none it waits up to `timeout` (virtual time; `None`: for ever) and then returns
    /// 0. A negative fd is ignored; any other requested flag (`POLLPRI`, `POLLWRBAND`, ...) is
    /// `WSAEINVAL`; a NULL array with entries is `WSAEFAULT`. A failed connect reports
    /// `POLLHUP | POLLERR`; a socket closed meanwhile (also by another thread, which wakes
    /// the poll) reports `POLLNVAL`.
    ///
    /// # Divergence
    /// Out-of-band data is not modelled, so `POLLRDBAND` never holds.
    pub(super) fn pl_1_poll(
        &mut self,
        cx: &mut Cx,
        fds: Option<&mut [PollEntry]>,
        count: u32,
        timeout: Option<Duration>,
    ) -> Result<Reply, Stop> {
        use poll::*;
        cx.rule(Rule::Pl1);
        let Some(fds) = fds else {
            return Err(if count == 0 {
                WsaError::InvalidArgument
            } else {
                WsaError::Fault
            }
            .into());
        };
        if fds
            .iter()
            .any(|f| f.fd.is_some() && f.events & !(POLLRDNORM | POLLRDBAND | POLLWRNORM) != 0)
        {
            return Err(WsaError::InvalidArgument.into());
        }
        let mut n = 0u32;
        for f in fds.iter_mut() {
            f.revents = match f.fd {
                None => 0,
                Some(s) => self.pl_2_revents(cx, s, f.events),
            };
            n += u32::from(f.revents != 0);
        }
        if n == 0 {
            if let Some(block) = cx.wait_until_timeout(self.now, timeout, "WSAPoll") {
                return Err(block);
            }
        }
        Ok(Reply::Count(n))
    }
}

impl Machine {
    /// PL-2 (with PL-1's requested flags): one entry's `revents`. A socket that is no open
    /// socket of the process is `POLLNVAL`; a failed connect `POLLHUP | POLLERR`; a reset
    /// `POLLERR` (and `POLLHUP` on a stream); a stream the peer finished `POLLHUP`.
    fn pl_2_revents(&self, cx: &mut Cx, s: Socket, events: i16) -> i16 {
        use poll::*;
        let Some(ep) = self.process(cx.process).endpoint_of(s) else {
            cx.rule(Rule::Pl2);
            return POLLNVAL;
        };
        let e = self.transport.ep(ep);
        let mut r = 0;
        if events & POLLRDNORM != 0 && readable(e) {
            r |= POLLRDNORM;
        }
        if events & POLLWRNORM != 0 && e.writable() {
            r |= POLLWRNORM;
        }
        let (failed, reset) = (e.failure().is_some(), e.reset_error().is_some());
        if failed || reset {
            r |= POLLERR;
        }
        if failed || (e.proto == Proto::Stream && (e.fin_received() || reset)) {
            cx.rule(Rule::Pl2);
            r |= POLLHUP;
        }
        r
    }
}

impl Machine {
    /// KW-2, the one place it is decided: kernel32's event objects and waits. `CreateEventW`
    /// makes a manual- or auto-reset event in the given state (names are ignored);
    /// `SetEvent`/`ResetEvent` act on it or on a WSA event (the same objects); `CloseHandle`
    /// closes an event or a completion port; the waits are `WSAWaitForMultipleEvents`' (an
    /// auto-reset event resets when it satisfies one). Failures are Win32 codes: an unknown
    /// handle `ERROR_INVALID_HANDLE`, a count of 0 or above 64 or a NULL array
    /// `ERROR_INVALID_PARAMETER`.
    ///
    /// # Divergence
    /// Only events and completion ports are kernel objects here: there are no thread,
    /// process, mutex or semaphore handles to wait on, and `CloseHandle` on a socket fails
    /// `ERROR_INVALID_HANDLE` (use `closesocket`). Event names are ignored: each
    /// `CreateEventW` makes a new, unnamed event.
    pub(super) fn kw_2_object(&mut self, cx: &mut Cx, o: &ObjectCall) -> Result<Reply, Stop> {
        cx.rule(Rule::Kw2);
        match o {
            ObjectCall::CreateEvent {
                manual, initial, ..
            } => {
                let (process, generations) = self.process_and_generations(cx.process);
                let h = process.add_kernel_event(generations, !*manual, *initial)?;
                Ok(Reply::Event(h))
            }
            ObjectCall::SetEvent(h) | ObjectCall::ResetEvent(h) => {
                let on = matches!(o, ObjectCall::SetEvent(_));
                let process = self.process_mut(cx.process);
                // A thread's object is signalled by its end alone (KW-3).
                if process.is_thread_object(*h) {
                    return Err(WsaError::InvalidHandle.into());
                }
                match process.signal(*h, on) {
                    true => Ok(Reply::Done),
                    false => Err(WsaError::InvalidHandle.into()),
                }
            }
            ObjectCall::CloseHandle(raw) => {
                let process = self.process_mut(cx.process);
                let closed = process.close_event(EventHandle::from_raw(*raw))
                    || process.close_port(PortHandle::from_raw(*raw));
                match closed {
                    true => Ok(Reply::Done),
                    false => Err(WsaError::InvalidHandle.into()),
                }
            }
            ObjectCall::Wait {
                handles,
                wait_all,
                timeout,
                ..
            } => self.wait_events(cx, handles.as_deref(), *wait_all, *timeout, o.function()),
        }
    }
}

/// What `event_op` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOp {
    /// `WSACloseEvent`.
    Close,
    /// `WSASetEvent`.
    Set,
    /// `WSAResetEvent`.
    Reset,
}

impl EventOp {
    /// The Winsock function that makes the operation.
    pub const fn function(self) -> &'static str {
        match self {
            EventOp::Close => "WSACloseEvent",
            EventOp::Set => "WSASetEvent",
            EventOp::Reset => "WSAResetEvent",
        }
    }
}
