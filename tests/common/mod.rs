//! Helpers shared by the integration tests (`mod common; use common::*;`).
//!
//! The helpers that assert are `#[track_caller]`, so a failure points at the test line that
//! called them.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};

use ws2sim::sys::*;
use ws2sim::{Event, Process, Sim};

/// `AF_INET` as the `i32` that `socket` and `WSASocketW` take.
pub const INET: i32 = AF_INET as i32;

/// The size of one `WSAPROTOCOL_INFOW` (628 bytes).
pub const INFO_SIZE: usize = std::mem::size_of::<WSAPROTOCOL_INFOW>();

/// A last-error sentinel no call sets by itself: 0xdeadbeef.
pub const BEEF: i32 = 0xdeadbeef_u32 as i32;

/// A proptest configuration of `cases` cases (`PROPTEST_CASES` overrides it for longer runs),
/// with no regression files.
pub fn proptest_cases(cases: u32) -> proptest::prelude::ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    proptest::prelude::ProptestConfig {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}

/// A process "t" on the localhost of a new `Sim`.
pub fn process() -> Process {
    Sim::new().localhost().process("t")
}

/// A new `Sim` and a process "app" on its localhost, for tests that read the trace.
pub fn app() -> (Sim, Process) {
    let sim = Sim::new();
    let p = sim.localhost().process("app");
    (sim, p)
}

/// `WSAStartup(version)` into a throwaway `WSADATA`: its return value.
pub fn startup(version: u16) -> i32 {
    let mut d = WSADATA::default();
    unsafe { WSAStartup(version, &mut d) }
}

/// Asserts `WSAStartup(2.2)` succeeds.
#[track_caller]
pub fn startup_2_2() {
    assert_eq!(startup(0x0202), 0);
}

/// Runs `f` in a fresh process between `WSAStartup(2.2)` and the final `WSACleanup`.
pub fn started<T>(f: impl FnOnce() -> T) -> T {
    process().run(|| {
        startup_2_2();
        let r = f();
        assert_eq!(unsafe { WSACleanup() }, 0);
        r
    })
}

/// A new TCP socket (`socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)`); asserts it was made.
#[track_caller]
pub fn tcp() -> SOCKET {
    let s = unsafe { socket(INET, SOCK_STREAM, IPPROTO_TCP) };
    assert_ne!(s, INVALID_SOCKET);
    s
}

/// A new stream socket of `protocol` (`socket(AF_INET, SOCK_STREAM, protocol)`); asserts it
/// was made.
#[track_caller]
pub fn stream_socket(protocol: i32) -> SOCKET {
    let s = unsafe { socket(INET, SOCK_STREAM, protocol) };
    assert_ne!(s, INVALID_SOCKET, "socket(protocol {protocol})");
    s
}

/// A new UDP socket (`socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)`); asserts it was made.
#[track_caller]
pub fn udp() -> SOCKET {
    let s = unsafe { socket(INET, SOCK_DGRAM, IPPROTO_UDP) };
    assert_ne!(s, INVALID_SOCKET);
    s
}

/// Asserts a call returned `SOCKET_ERROR` and set the last error to `code`.
#[track_caller]
pub fn assert_fails(r: i32, code: i32) {
    assert_eq!(r, SOCKET_ERROR);
    assert_eq!(unsafe { WSAGetLastError() }, code);
}

/// Runs `f` with the last error preset to [`BEEF`]: its result and the last error after it,
/// so a call that forgets to set (or clear) the last error shows.
pub fn last_error_after<T>(f: impl FnOnce() -> T) -> (T, i32) {
    unsafe { WSASetLastError(BEEF) };
    let r = f();
    (r, unsafe { WSAGetLastError() })
}

/// The last error of `p`'s main thread (TH-1), read from outside the process.
pub fn last_error(p: &Process) -> i32 {
    p.run(|| unsafe { WSAGetLastError() })
}

/// ST-1: the version word `WSAStartup(word)` negotiates, or `None` for WSAVERNOTSUPPORTED.
pub fn negotiate(word: u16) -> Option<u16> {
    let (major, minor) = (word & 0xff, word >> 8);
    match major {
        0 => None,
        1 => Some(1 | minor.min(1) << 8),
        2 => Some(2 | minor.min(2) << 8),
        _ => Some(0x0202),
    }
}

/// `getsockopt(s, SOL_SOCKET, name)` into `*value` with `optlen = size_of::<T>()`:
/// (return value, `optlen` after).
///
/// # Safety
///
/// Whatever bytes the option writes must be a valid `T`.
pub unsafe fn get_opt<T>(s: SOCKET, name: i32, value: &mut T) -> (i32, i32) {
    let mut len = std::mem::size_of::<T>() as i32;
    let r = getsockopt(s, SOL_SOCKET, name, (value as *mut T).cast(), &mut len);
    (r, len)
}

/// `getsockopt(s, SOL_SOCKET, SO_TYPE)` into an `i32` prefilled with -7: (return value, type).
pub fn so_type(s: SOCKET) -> (i32, i32) {
    let mut ty = -7i32;
    let (r, _) = unsafe { get_opt(s, SO_TYPE, &mut ty) };
    (r, ty)
}

/// A `LINGER` value.
pub fn linger(l_onoff: u16, l_linger: u16) -> LINGER {
    LINGER { l_onoff, l_linger }
}

/// `LINGER { onoff, seconds }` as the four bytes `setsockopt(SO_LINGER)` takes.
pub fn linger_bytes(onoff: u16, seconds: u16) -> [u8; 4] {
    let [a, b] = onoff.to_ne_bytes();
    let [c, d] = seconds.to_ne_bytes();
    [a, b, c, d]
}

/// `setsockopt(s, SOL_SOCKET, SO_LINGER)` with a whole `LINGER`; asserts it succeeds and clears
/// the last error.
#[track_caller]
pub fn set_linger(s: SOCKET, onoff: u16, seconds: u16) {
    let l = linger(onoff, seconds);
    let len = std::mem::size_of::<LINGER>() as i32;
    let r = last_error_after(|| unsafe {
        setsockopt(s, SOL_SOCKET, SO_LINGER, (&l as *const LINGER).cast(), len)
    });
    assert_eq!(r, (0, 0));
}

/// `getsockopt(s, SOL_SOCKET, SO_LINGER)` into a prefilled `LINGER`; asserts it succeeds and
/// reports 4 bytes.
#[track_caller]
pub fn get_linger(s: SOCKET) -> LINGER {
    let mut l = linger(0xaaaa, 0xbbbb);
    assert_eq!(unsafe { get_opt(s, SO_LINGER, &mut l) }, (0, 4));
    l
}

/// `setsockopt(s, SOL_SOCKET, name)` with a DWORD; asserts it succeeds.
#[track_caller]
pub fn set_dword_opt(s: SOCKET, name: i32, value: u32) {
    let bytes = value.to_ne_bytes();
    let r = unsafe { setsockopt(s, SOL_SOCKET, name, bytes.as_ptr(), 4) };
    assert_eq!(r, 0, "setsockopt({name:#x}, {value})");
}

/// `ioctlsocket(s, FIONBIO, on)`; asserts it succeeds.
#[track_caller]
pub fn set_nonblocking(s: SOCKET, on: bool) {
    let mut arg = u32::from(on);
    assert_eq!(unsafe { ioctlsocket(s, FIONBIO, &mut arg) }, 0);
}

/// `ioctlsocket(s, FIONREAD)` into a prefilled DWORD; asserts it succeeds: the bytes readable.
#[track_caller]
pub fn fionread(s: SOCKET) -> u32 {
    let mut n = 0xdead_u32;
    assert_eq!(unsafe { ioctlsocket(s, FIONREAD, &mut n) }, 0);
    n
}

// ---------------------------------------------------------------------------------------------
// Addresses and sockets on the simulated network. The socket helpers run inside a started
// process.

/// `ip:port` as a `SOCKADDR_IN`.
pub fn sockaddr(ip: Ipv4Addr, port: u16) -> SOCKADDR_IN {
    SOCKADDR_IN::from(SocketAddrV4::new(ip, port))
}

/// `a` as the `name` pointer `bind`, `connect` and `sendto` take.
pub fn name_ptr(a: &SOCKADDR_IN) -> *const SOCKADDR {
    (a as *const SOCKADDR_IN).cast()
}

/// `a` as the `name` pointer `accept`, `recvfrom`, `getsockname` and `getpeername` fill.
pub fn name_mut(a: &mut SOCKADDR_IN) -> *mut SOCKADDR {
    (a as *mut SOCKADDR_IN).cast()
}

/// A TCP socket bound to `addr` and listening with `backlog`; asserts each step.
#[track_caller]
pub fn tcp_listener(addr: &SOCKADDR_IN, backlog: i32) -> SOCKET {
    let l = tcp();
    assert_eq!(unsafe { bind(l, name_ptr(addr), 16) }, 0, "bind");
    assert_eq!(unsafe { listen(l, backlog) }, 0, "listen");
    l
}

/// A TCP socket connected (blocking: one round trip of virtual time) to `addr`; asserts it.
#[track_caller]
pub fn tcp_connected(addr: &SOCKADDR_IN) -> SOCKET {
    let c = tcp();
    assert_eq!(unsafe { connect(c, name_ptr(addr), 16) }, 0, "connect");
    c
}

/// `accept(l)` without an address (blocking unless `l` is non-blocking); asserts it succeeds.
#[track_caller]
pub fn accept_one(l: SOCKET) -> SOCKET {
    let s = unsafe { accept(l, std::ptr::null_mut(), std::ptr::null_mut()) };
    assert_ne!(s, INVALID_SOCKET, "accept failed with {}", unsafe {
        WSAGetLastError()
    });
    s
}

/// A UDP socket bound to `addr`; asserts it was made and bound.
#[track_caller]
pub fn udp_bound(addr: &SOCKADDR_IN) -> SOCKET {
    let u = udp();
    assert_eq!(unsafe { bind(u, name_ptr(addr), 16) }, 0, "bind");
    u
}

/// `send(s, data, flags 0)`: its return value.
pub fn send_bytes(s: SOCKET, data: &[u8]) -> i32 {
    unsafe { send(s, data.as_ptr(), data.len() as i32, 0) }
}

/// `sendto(s, data, flags 0, to)`: its return value.
pub fn send_to(s: SOCKET, data: &[u8], to: &SOCKADDR_IN) -> i32 {
    unsafe { sendto(s, data.as_ptr(), data.len() as i32, 0, name_ptr(to), 16) }
}

/// `recv` into a buffer of `n` bytes prefilled with 0xee: the return value and the bytes it
/// reports (none for 0 or `SOCKET_ERROR`).
pub fn recv_n(s: SOCKET, n: usize, flags: i32) -> (i32, Vec<u8>) {
    let mut buf = vec![0xeeu8; n];
    let r = unsafe { recv(s, buf.as_mut_ptr(), n as i32, flags) };
    buf.truncate(r.max(0) as usize);
    (r, buf)
}

// ---------------------------------------------------------------------------------------------
// Event objects and WSAEventSelect.

/// A new event (`WSACreateEvent`); asserts it was made.
#[track_caller]
pub fn event() -> WSAEVENT {
    let e = unsafe { WSACreateEvent() };
    assert_ne!(e, WSA_INVALID_EVENT);
    e
}

/// `WSAEventSelect(s, e, mask)`; asserts it succeeds.
#[track_caller]
pub fn event_select(s: SOCKET, e: WSAEVENT, mask: u32) {
    assert_eq!(unsafe { WSAEventSelect(s, e, mask as i32) }, 0);
}

/// A new event associated with `s` for `mask` by `WSAEventSelect`; asserts both steps.
#[track_caller]
pub fn select_events(s: SOCKET, mask: u32) -> WSAEVENT {
    let e = event();
    event_select(s, e, mask);
    e
}

/// `WSAWaitForMultipleEvents(events, all, timeout, FALSE)`: its return value.
pub fn wait(events: &[WSAEVENT], all: bool, timeout: u32) -> u32 {
    let handles: Vec<HANDLE> = events.iter().map(|&e| e as HANDLE).collect();
    let all = if all { TRUE } else { FALSE };
    unsafe { WSAWaitForMultipleEvents(handles.len() as u32, handles.as_ptr(), all, timeout, FALSE) }
}

/// [`wait`] for the one event `e`.
pub fn wait_one(e: WSAEVENT, timeout: u32) -> u32 {
    wait(&[e], false, timeout)
}

/// `WSAWaitForMultipleEvents` found the first (or only) event signalled.
pub const SIGNALLED: u32 = WSA_WAIT_EVENT_0 as u32;

/// `WSAEnumNetworkEvents(s, e)` into a prefilled record; asserts it succeeds: (the events,
/// the error codes by `FD_*_BIT`).
#[track_caller]
pub fn enum_events(s: SOCKET, e: WSAEVENT) -> (u32, [i32; 10]) {
    let mut ne = WSANETWORKEVENTS {
        lNetworkEvents: 0x7777,
        iErrorCode: [0x7777; 10],
    };
    assert_eq!(unsafe { WSAEnumNetworkEvents(s, e, &mut ne) }, 0);
    (ne.lNetworkEvents as u32, ne.iErrorCode)
}

// ---------------------------------------------------------------------------------------------
// Connections between two hosts.

/// Host "server" with a process "server" and host "client" with a process "client", both
/// started with `WSAStartup(2.2)`.
pub struct Hosts {
    pub sim: Sim,
    pub server: Process,
    pub client: Process,
    /// The address of host "server".
    pub server_ip: Ipv4Addr,
    /// The address of host "client".
    pub client_ip: Ipv4Addr,
}

/// [`Hosts`] in `sim`.
pub fn two_hosts(sim: Sim) -> Hosts {
    let sh = sim.host("server");
    let ch = sim.host("client");
    let server = sh.process("server");
    let client = ch.process("client");
    server.run(startup_2_2);
    client.run(startup_2_2);
    Hosts {
        server_ip: sh.addr(),
        client_ip: ch.addr(),
        sim,
        server,
        client,
    }
}

/// A stream connection between a server process (host "server", listening on `port`) and a
/// client process (host "client"), both started with `WSAStartup(2.2)`.
pub struct Pair {
    /// The simulation both run in.
    pub sim: Sim,
    /// The process on host "server" that owns `listener` and `s`.
    pub server: Process,
    /// The process on host "client" that owns `c`.
    pub client: Process,
    /// The server's listening socket.
    pub listener: SOCKET,
    /// The server's accepted socket.
    pub s: SOCKET,
    /// The client's connected socket.
    pub c: SOCKET,
    /// The server's address.
    pub addr: SOCKADDR_IN,
}

/// Connects a client to a server listening on `port` with stream sockets of `protocol`
/// (`IPPROTO_TCP` or a stream provider of the catalog). `listener_setup` runs on the listening
/// socket between `bind` and `listen` (options set there are inherited by the accepted socket,
/// e.g. a small `SO_RCVBUF` that leaves a sender's data queued).
#[track_caller]
pub fn stream_pair(
    sim: &Sim,
    port: u16,
    protocol: i32,
    listener_setup: impl FnOnce(SOCKET),
) -> Pair {
    let Hosts {
        sim,
        server,
        client,
        server_ip,
        ..
    } = two_hosts(sim.clone());
    let addr = sockaddr(server_ip, port);
    let listener = server.run(|| unsafe {
        let l = stream_socket(protocol);
        assert_eq!(bind(l, name_ptr(&addr), 16), 0);
        listener_setup(l);
        assert_eq!(listen(l, 5), 0);
        l
    });
    let c = client.run(|| {
        let c = stream_socket(protocol);
        assert_eq!(unsafe { connect(c, name_ptr(&addr), 16) }, 0);
        c
    });
    let s = server.run(|| accept_one(listener));
    Pair {
        sim,
        server,
        client,
        listener,
        s,
        c,
        addr,
    }
}

/// [`stream_pair`] over TCP.
#[track_caller]
pub fn tcp_pair_with(sim: &Sim, port: u16, listener_setup: impl FnOnce(SOCKET)) -> Pair {
    stream_pair(sim, port, IPPROTO_TCP, listener_setup)
}

/// [`tcp_pair_with`] whose accepted socket has `SO_RCVBUF = rcvbuf`: a client that sends more
/// than `rcvbuf` bytes keeps the rest queued until the server reads.
#[track_caller]
pub fn tcp_pair(sim: &Sim, port: u16, rcvbuf: u32) -> Pair {
    tcp_pair_with(sim, port, |l| set_dword_opt(l, SO_RCVBUF, rcvbuf))
}

/// How a read to the end of a stream ended: `recv` returned 0 (the peer's FIN).
pub const GRACEFUL: (i32, i32) = (0, 0);
/// How a read to the end of a stream ended: `recv` failed `WSAECONNRESET`.
pub const RESET: (i32, i32) = (SOCKET_ERROR, WSAECONNRESET);

impl Pair {
    /// The server reads its accepted socket to the end: asserts it gets exactly `expect`, then
    /// `end` ([`GRACEFUL`], [`RESET`], ...).
    #[track_caller]
    pub fn server_reads(&self, expect: &[u8], end: (i32, i32)) {
        assert_reads_to_end(&self.server, self.s, expect, end);
    }

    /// The client reads its socket to the end, as [`Pair::server_reads`].
    #[track_caller]
    pub fn client_reads(&self, expect: &[u8], end: (i32, i32)) {
        assert_reads_to_end(&self.client, self.c, expect, end);
    }
}

/// `n` bytes with a pattern whose period (251) no chunk size of the tests divides, so lost,
/// duplicated or reordered chunks show.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// `send(s, data)`; asserts every byte was taken.
#[track_caller]
pub fn send_all(s: SOCKET, data: &[u8]) {
    let r = send_bytes(s, data);
    assert_eq!(r, data.len() as i32, "send of {} bytes", data.len());
}

/// `recv` in 64 KiB pieces, calling `before_each` before each, until one returns 0 or
/// `SOCKET_ERROR`: the bytes received, the final return value and the last error after it (0
/// when the final return was 0).
fn read_until_end(s: SOCKET, mut before_each: impl FnMut()) -> (Vec<u8>, i32, i32) {
    let mut got = Vec::new();
    loop {
        before_each();
        let (r, bytes) = recv_n(s, 64 * 1024, 0);
        if r > 0 {
            got.extend_from_slice(&bytes);
            continue;
        }
        let err = if r == SOCKET_ERROR {
            unsafe { WSAGetLastError() }
        } else {
            0
        };
        return (got, r, err);
    }
}

/// Blocking `recv` in 64 KiB pieces until it returns 0 or `SOCKET_ERROR`: the bytes received,
/// the final return value and the last error after it (0 when the final return was 0).
pub fn recv_to_end(s: SOCKET) -> (Vec<u8>, i32, i32) {
    read_until_end(s, || {})
}

/// Non-blocking reads: delivers everything in flight (`sim.run()`), reads, and repeats until
/// a `recv` returns 0 or fails; returns as [`recv_to_end`].
pub fn recv_nonblocking_to_end(sim: &Sim, s: SOCKET) -> (Vec<u8>, i32, i32) {
    read_until_end(s, || sim.run())
}

/// In `p`, reads `s` to the end ([`recv_to_end`]); asserts it gets exactly `expect`, then
/// `end`: [`GRACEFUL`], [`RESET`] or another `(SOCKET_ERROR, error)`.
#[track_caller]
pub fn assert_reads_to_end(p: &Process, s: SOCKET, expect: &[u8], end: (i32, i32)) {
    let (got, r, err) = p.run(|| recv_to_end(s));
    assert_eq!(got.len(), expect.len(), "bytes read before the end");
    assert!(got == expect, "the bytes arrive unchanged and in order");
    assert_eq!((r, err), end, "how the stream ended");
}

// ---------------------------------------------------------------------------------------------
// The trace.

/// The events named `call` that `p` (or the harness for `p`) recorded, in order.
pub fn events_of(sim: &Sim, call: &str, p: &Process) -> Vec<Event> {
    sim.trace()
        .calls(call)
        .filter(|e| e.pid == p.pid())
        .cloned()
        .collect()
}

/// The `DataLoss` events of a trace with the byte count each names.
pub fn data_losses(trace: &ws2sim::Trace) -> Vec<(u64, Event)> {
    trace
        .calls("DataLoss")
        .map(|e| {
            let n = e
                .args
                .split(" bytes:")
                .next()
                .and_then(|head| head.rsplit(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("a DataLoss event names its byte count: {e}"));
            (n, e.clone())
        })
        .collect()
}

/// Asserts `sim` counts exactly `bytes` lost, all in one `DataLoss` event of `p`: that event.
#[track_caller]
pub fn assert_one_loss(sim: &Sim, p: &Process, bytes: u64) -> Event {
    assert_eq!(sim.lost_bytes(), bytes);
    let mut losses = data_losses(&sim.trace());
    assert_eq!(losses.len(), 1, "{losses:?}");
    let (n, ev) = losses.pop().unwrap();
    assert_eq!(n, bytes, "{ev}");
    assert_eq!(ev.pid, p.pid(), "{ev}");
    ev
}

/// Delivers everything in flight; asserts nothing was lost and no `DataLoss` was recorded.
#[track_caller]
pub fn assert_no_loss(sim: &Sim) {
    sim.run();
    assert_eq!(sim.lost_bytes(), 0);
    let losses = data_losses(&sim.trace());
    assert!(losses.is_empty(), "{losses:?}");
}

/// `OVERLAPPED.Internal` of a pending operation (`STATUS_PENDING`).
pub const STATUS_PENDING: usize = 0x103;
/// `OVERLAPPED.Internal` of an aborted operation (`STATUS_CANCELLED`).
pub const STATUS_CANCELLED: usize = 0xC000_0120;
/// kernel32's code for an aborted operation.
pub const ERROR_OPERATION_ABORTED: u32 = 995;

/// An `OVERLAPPED` with a new event and `Internal` preset to 0xdead, so what an operation
/// writes (or leaves alone) shows.
pub fn ov_with_event() -> OVERLAPPED {
    OVERLAPPED {
        Internal: 0xdead,
        hEvent: event() as HANDLE,
        ..OVERLAPPED::default()
    }
}
