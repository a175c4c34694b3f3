use std::time::Duration;

use crate::consts::*;
use crate::core::call::EventCall;
use crate::core::events::{EventHandle, EventOp};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// What `WSAEnumNetworkEvents` reports ([`Socket::network_events`](crate::Socket::network_events)):
/// the `FD_*` events recorded and their error codes.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use ws2sim::{api, consts::*, EventHandle, Sim, Socket, Version};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     l.bind(addr).unwrap();
///     l.listen(5).unwrap();
///     let e = EventHandle::create().unwrap();
///     l.event_select(e, FD_ACCEPT).unwrap();
///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     c.connect(addr).unwrap();
///     let got = l.network_events(Some(e)).unwrap();
///     assert_eq!(got.events, FD_ACCEPT);
///     assert!(got.has(FD_ACCEPT) && !got.has(FD_READ));
///     assert_eq!(got.error(FD_ACCEPT), Some(0));
///     assert_eq!(got.error(FD_READ), None);
///     api::cleanup().unwrap();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetworkEvents {
    /// The `FD_*` bits recorded.
    pub events: u32,
    /// Error codes by `FD_*_BIT` (0: none).
    pub errors: [i32; FD_MAX_EVENTS as usize],
}

impl NetworkEvents {
    /// True when `fd` (one `FD_*` bit) was recorded.
    pub fn has(&self, fd: u32) -> bool {
        self.events & fd != 0
    }

    /// The error code recorded with `fd` (one `FD_*` bit), if it was recorded.
    pub fn error(&self, fd: u32) -> Option<i32> {
        self.has(fd)
            .then(|| self.errors[fd.trailing_zeros() as usize])
    }
}

/// The outcome of [`wait_for_events`].
///
/// ```
/// use std::time::Duration;
/// use ws2sim::api::{self, Wait};
/// use ws2sim::{EventHandle, Sim, Version};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let (a, b) = (EventHandle::create().unwrap(), EventHandle::create().unwrap());
///     let ms = Some(Duration::from_millis(10));
///     assert_eq!(api::wait_for_events(&[a, b], false, ms).unwrap(), Wait::Timeout);
///     b.set().unwrap();
///     assert_eq!(api::wait_for_events(&[a, b], false, ms).unwrap(), Wait::Signaled(1));
///     api::cleanup().unwrap();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The event at this index is signalled (with `wait_all`: all are, index 0).
    Signaled(usize),
    /// The timeout passed first.
    Timeout,
}

impl EventHandle {
    /// `WSACreateEvent`: a manual-reset event of the process, not signalled; waits do not reset
    /// it. Needs `WSAStartup` (`NotInitialised`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ws2sim::api::{self, Wait};
    /// use ws2sim::{EventHandle, Sim, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let e = EventHandle::create().unwrap();
    ///     let now = Some(Duration::ZERO);
    ///     assert_eq!(api::wait_for_events(&[e], false, now).unwrap(), Wait::Timeout);
    ///     e.set().unwrap();
    ///     assert_eq!(api::wait_for_events(&[e], false, now).unwrap(), Wait::Signaled(0));
    ///     assert_eq!(api::wait_for_events(&[e], false, now).unwrap(), Wait::Signaled(0));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn create() -> Result<EventHandle, WsaError> {
        match call(EventCall::CreateEvent)? {
            Reply::Event(h) => Ok(h),
            other => unreachable!("WSACreateEvent returned {other:?}"),
        }
    }

    /// `WSASetEvent`: signals the event until it is reset; an unknown handle fails
    /// `InvalidHandle`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ws2sim::api::{self, Wait};
    /// use ws2sim::{EventHandle, Sim, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let e = EventHandle::create().unwrap();
    ///     let setter = p.spawn(move || {
    ///         ws2sim::thread::sleep(Duration::from_millis(5));
    ///         e.set().unwrap();
    ///     });
    ///     assert_eq!(api::wait_for_events(&[e], false, None).unwrap(), Wait::Signaled(0));
    ///     assert_eq!(sim.now(), Duration::from_millis(5)); // virtual time
    ///     setter.join();
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn set(self) -> Result<(), WsaError> {
        call(EventCall::EventOp(self, EventOp::Set)).map(drop)
    }

    /// `WSAResetEvent`: makes the event not signalled; an unknown handle fails `InvalidHandle`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ws2sim::api::{self, Wait};
    /// use ws2sim::{EventHandle, Sim, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let e = EventHandle::create().unwrap();
    ///     e.set().unwrap();
    ///     e.reset().unwrap();
    ///     let now = Some(Duration::ZERO);
    ///     assert_eq!(api::wait_for_events(&[e], false, now).unwrap(), Wait::Timeout);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn reset(self) -> Result<(), WsaError> {
        call(EventCall::EventOp(self, EventOp::Reset)).map(drop)
    }

    /// `WSACloseEvent`: the handle is then unknown, and calls with it fail `InvalidHandle`.
    ///
    /// ```
    /// use ws2sim::{api, EventHandle, Sim, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let e = EventHandle::create().unwrap();
    ///     e.close().unwrap();
    ///     assert_eq!(e.set(), Err(WsaError::InvalidHandle));
    ///     assert_eq!(e.close(), Err(WsaError::InvalidHandle));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn close(self) -> Result<(), WsaError> {
        call(EventCall::EventOp(self, EventOp::Close)).map(drop)
    }
}

/// `WSAWaitForMultipleEvents` (not alertable): waits in virtual time until one event (or, with
/// `wait_all`, every event) is signalled, or `timeout` passes (`None`: no limit). No event is
/// reset. No events, or more than 64, fail `InvalidParameter`; an unknown handle
/// `InvalidHandle`.
///
/// ```
/// use std::time::Duration;
/// use ws2sim::api::{self, Wait};
/// use ws2sim::{EventHandle, Sim, Version, WsaError};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let (a, b) = (EventHandle::create().unwrap(), EventHandle::create().unwrap());
///     b.set().unwrap();
///     let t0 = sim.now();
///     let ms = Some(Duration::from_millis(100));
///     assert_eq!(api::wait_for_events(&[a, b], true, ms).unwrap(), Wait::Timeout);
///     assert_eq!(sim.now() - t0, Duration::from_millis(100));
///     assert_eq!(api::wait_for_events(&[a, b], false, ms).unwrap(), Wait::Signaled(1));
///     assert_eq!(api::wait_for_events(&[], false, ms), Err(WsaError::InvalidParameter));
///     api::cleanup().unwrap();
/// });
/// ```
pub fn wait_for_events(
    events: &[EventHandle],
    wait_all: bool,
    timeout: Option<Duration>,
) -> Result<Wait, WsaError> {
    match call(EventCall::WaitEvents {
        events: Some(events.to_vec()),
        wait_all,
        timeout,
        alertable: false,
    })? {
        Reply::Count(WSA_WAIT_TIMEOUT) => Ok(Wait::Timeout),
        Reply::Count(n) => Ok(Wait::Signaled(n as usize)),
        other => unreachable!("WSAWaitForMultipleEvents returned {other:?}"),
    }
}

/// `select`: waits in virtual time until a socket of a set is ready or `timeout` passes
/// (`None`: no limit); each set keeps only its ready sockets. Returns how many are ready. All
/// sets empty fail `InvalidArgument`. See [`sys::select`](crate::sys::select) for what ready
/// means.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use std::time::Duration;
/// use ws2sim::{api, consts::*, Sim, Socket, Version};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
///     let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     l.bind(addr).unwrap();
///     l.listen(5).unwrap();
///     let (mut read, mut none) = (vec![l], vec![]);
///     let now = Some(Duration::ZERO);
///     assert_eq!(api::select(&mut read, &mut none, &mut vec![], now).unwrap(), 0);
///     assert!(read.is_empty());
///     let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
///     c.connect(addr).unwrap();
///     let (mut read, mut write) = (vec![l], vec![c]);
///     assert_eq!(api::select(&mut read, &mut write, &mut vec![], None).unwrap(), 2);
///     assert_eq!((read, write), (vec![l], vec![c]));
///     api::cleanup().unwrap();
/// });
/// ```
pub fn select(
    read: &mut Vec<Socket>,
    write: &mut Vec<Socket>,
    except: &mut Vec<Socket>,
    timeout: Option<Duration>,
) -> Result<usize, WsaError> {
    match call(EventCall::Select {
        read: Some(read),
        write: Some(write),
        except: Some(except),
        timeout: Ok(timeout),
    })? {
        Reply::Count(n) => Ok(n as usize),
        other => unreachable!("select returned {other:?}"),
    }
}
