//! Helpers shared by the integration tests (`mod common; use common::*;`).
//!
//! The helpers that assert are `#[track_caller]`, so a failure points at the test line that
//! called them.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use ws2sim::sys::*;
use ws2sim::{Process, Sim};

/// `AF_INET` as the `i32` that `socket` and `WSASocketW` take.
pub const INET: i32 = AF_INET as i32;

/// The size of one `WSAPROTOCOL_INFOW` (628 bytes).
pub const INFO_SIZE: usize = std::mem::size_of::<WSAPROTOCOL_INFOW>();

/// A last-error sentinel no call sets by itself: 0xdeadbeef.
pub const BEEF: i32 = 0xdeadbeef_u32 as i32;

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

// ---------------------------------------------------------------------------------------------
// Connections between two hosts (close, cleanup and process-end tests).

/// A TCP connection between a server process (host "server", listening on `port`) and a
/// client process (host "client"), both started with `WSAStartup(2.2)`.
pub struct Pair {
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

/// Connects a client to a server listening on `port`. `listener_setup` runs on the listening
/// socket before the client connects (options set there are inherited by the accepted socket,
/// e.g. a small `SO_RCVBUF` that leaves a sender's data queued).
#[track_caller]
pub fn tcp_pair_with(sim: &Sim, port: u16, listener_setup: impl FnOnce(SOCKET)) -> Pair {
    let server_host = sim.host("server");
    let server = server_host.process("server");
    let client = sim.host("client").process("client");
    let addr = SOCKADDR_IN::from(std::net::SocketAddrV4::new(server_host.addr(), port));
    let name = (&addr as *const SOCKADDR_IN).cast::<SOCKADDR>();
    let listener = server.run(|| unsafe {
        startup_2_2();
        let l = tcp();
        assert_eq!(bind(l, name, 16), 0);
        listener_setup(l);
        assert_eq!(listen(l, 5), 0);
        l
    });
    let c = client.run(|| unsafe {
        startup_2_2();
        let c = tcp();
        assert_eq!(connect(c, name, 16), 0);
        c
    });
    let s = server.run(|| unsafe {
        let s = accept(listener, std::ptr::null_mut(), std::ptr::null_mut());
        assert_ne!(s, INVALID_SOCKET);
        s
    });
    Pair {
        server,
        client,
        listener,
        s,
        c,
        addr,
    }
}

/// [`tcp_pair_with`] whose accepted socket has `SO_RCVBUF = rcvbuf`: a client that sends more
/// than `rcvbuf` bytes keeps the rest queued until the server reads.
#[track_caller]
pub fn tcp_pair(sim: &Sim, port: u16, rcvbuf: u32) -> Pair {
    tcp_pair_with(sim, port, |l| set_dword_opt(l, SO_RCVBUF, rcvbuf))
}

/// `n` bytes with a pattern whose period (251) no chunk size of the tests divides, so lost,
/// duplicated or reordered chunks show.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// `send(s, data)`; asserts every byte was taken.
#[track_caller]
pub fn send_all(s: SOCKET, data: &[u8]) {
    let r = unsafe { send(s, data.as_ptr(), data.len() as i32, 0) };
    assert_eq!(r, data.len() as i32, "send of {} bytes", data.len());
}

/// Blocking `recv` in 64 KiB pieces until it returns 0 or `SOCKET_ERROR`: the bytes received,
/// the final return value and the last error after it (0 when the final return was 0).
pub fn recv_to_end(s: SOCKET) -> (Vec<u8>, i32, i32) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let r = unsafe { recv(s, buf.as_mut_ptr(), buf.len() as i32, 0) };
        if r > 0 {
            got.extend_from_slice(&buf[..r as usize]);
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

/// Non-blocking reads: delivers everything in flight (`sim.run()`), reads, and repeats until
/// a `recv` returns 0 or fails; returns as [`recv_to_end`].
pub fn recv_nonblocking_to_end(sim: &Sim, s: SOCKET) -> (Vec<u8>, i32, i32) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        sim.run();
        let r = unsafe { recv(s, buf.as_mut_ptr(), buf.len() as i32, 0) };
        if r > 0 {
            got.extend_from_slice(&buf[..r as usize]);
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

/// The `DataLoss` events of a trace with the byte count each names.
pub fn data_losses(trace: &ws2sim::Trace) -> Vec<(u64, ws2sim::Event)> {
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
