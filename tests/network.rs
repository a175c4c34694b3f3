//! The simulated network through the `sys` layer: TCP connections across hosts and over
//! loopback, data transfer and virtual time, UDP, event objects and `WSAEventSelect`
//! (SD-12 for FD_CLOSE, CL-8 for event resources), `select`, and the harness rules TH-3/TH-4.
//! ER-3 for `getpeername`.
//!
//! Every test runs in virtual time: a blocking call advances the clock by the link latency
//! (1 ms per packet unless set otherwise) until it can complete.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use ws2sim::sys::*;
use ws2sim::{Process, Profile, Sim};

mod common;
use common::*;

const PORT: u16 = 7000;
const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;
const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// The first ephemeral port (Windows Vista and later).
const EPHEMERAL: u16 = 49152;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn v4(ip: Ipv4Addr, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip, port)
}

/// A `SOCKADDR_IN` filled with garbage, to see what a call writes.
fn junk_addr() -> SOCKADDR_IN {
    let mut a = sockaddr(Ipv4Addr::new(1, 2, 3, 4), 4321);
    a.sin_family = 0x5555;
    a
}

unsafe fn bind_to(s: SOCKET, ip: Ipv4Addr, port: u16) -> i32 {
    let a = sockaddr(ip, port);
    bind(s, name_ptr(&a), 16)
}

unsafe fn connect_to(s: SOCKET, ip: Ipv4Addr, port: u16) -> i32 {
    let a = sockaddr(ip, port);
    connect(s, name_ptr(&a), 16)
}

/// `getsockname`; asserts it succeeds and reports 16 bytes.
#[track_caller]
fn local(s: SOCKET) -> SocketAddrV4 {
    let mut a = junk_addr();
    let mut len = 64;
    assert_eq!(unsafe { getsockname(s, name_mut(&mut a), &mut len) }, 0);
    assert_eq!(len, 16);
    assert_eq!(a.sin_family, AF_INET);
    a.into()
}

/// Asserts `getsockname` fails WSAEINVAL (`s` is not bound).
#[track_caller]
fn assert_unbound(s: SOCKET) {
    let mut a = junk_addr();
    let mut len = 16;
    assert_fails(
        unsafe { getsockname(s, name_mut(&mut a), &mut len) },
        WSAEINVAL,
    );
}

/// `getpeername`; asserts it succeeds and reports 16 bytes.
#[track_caller]
fn peer(s: SOCKET) -> SocketAddrV4 {
    let mut a = junk_addr();
    let mut len = 64;
    assert_eq!(unsafe { getpeername(s, name_mut(&mut a), &mut len) }, 0);
    assert_eq!(len, 16);
    assert_eq!(a.sin_family, AF_INET);
    a.into()
}

/// `recvfrom(s)` into a `cap`-byte buffer prefilled with 0xee, with a junk address and
/// `fromlen`: (return value, the whole buffer, the address, `fromlen` after).
fn recv_from(s: SOCKET, cap: usize, fromlen: i32) -> (i32, Vec<u8>, SOCKADDR_IN, i32) {
    let mut buf = vec![0xeeu8; cap];
    let mut from = junk_addr();
    let mut len = fromlen;
    let r = unsafe {
        recvfrom(
            s,
            buf.as_mut_ptr(),
            cap as i32,
            0,
            name_mut(&mut from),
            &mut len,
        )
    };
    (r, buf, from, len)
}

/// Asserts a call returning `SOCKET` failed with `code`.
#[track_caller]
fn assert_invalid_socket(r: SOCKET, code: i32) {
    assert_eq!(r, INVALID_SOCKET);
    assert_eq!(unsafe { WSAGetLastError() }, code);
}

/// In the server: a TCP listener on 0.0.0.0:PORT with a backlog of 5.
#[track_caller]
fn listen_any(n: &Hosts) -> SOCKET {
    n.server.run(|| tcp_listener(&sockaddr(ANY, PORT), 5))
}

/// In the client: a blocking TCP connection to the server's PORT; asserts it is made.
#[track_caller]
fn connect_client(n: &Hosts) -> SOCKET {
    n.client.run(|| tcp_connected(&sockaddr(n.server_ip, PORT)))
}

/// A TCP connection on `n`: (listener on 0.0.0.0:PORT, accepted socket, client socket).
fn connect_pair(n: &Hosts) -> (SOCKET, SOCKET, SOCKET) {
    let l = listen_any(n);
    let c = connect_client(n);
    let s = n.server.run(|| accept_one(l));
    (l, s, c)
}

/// A non-blocking TCP socket whose connect to `ip:PORT` has started (fails WSAEWOULDBLOCK).
#[track_caller]
fn connect_started(ip: Ipv4Addr) -> SOCKET {
    let c = tcp();
    set_nonblocking(c, true);
    assert_fails(unsafe { connect_to(c, ip, PORT) }, WSAEWOULDBLOCK);
    c
}

/// In the server: a UDP socket bound to 0.0.0.0:5000.
fn udp_server(n: &Hosts) -> SOCKET {
    n.server.run(|| udp_bound(&sockaddr(ANY, 5000)))
}

/// Two started processes, "server" and "client", on the localhost of a new `Sim`.
fn on_localhost() -> (Sim, Process, Process) {
    let sim = Sim::new();
    let host = sim.localhost();
    let server = host.process("server");
    let client = host.process("client");
    server.run(startup_2_2);
    client.run(startup_2_2);
    (sim, server, client)
}

/// Non-blocking sends of `data` until one fails WSAEWOULDBLOCK: what each earlier one took.
#[track_caller]
fn sends_until_wouldblock(s: SOCKET, data: &[u8]) -> Vec<i32> {
    let mut taken = Vec::new();
    loop {
        let r = send_bytes(s, data);
        if r == SOCKET_ERROR {
            assert_eq!(unsafe { WSAGetLastError() }, WSAEWOULDBLOCK);
            return taken;
        }
        taken.push(r);
        assert!(taken.len() < 100);
    }
}

fn fd_set(socks: &[SOCKET]) -> FD_SET {
    let mut set = FD_SET {
        fd_count: socks.len() as u32,
        ..FD_SET::default()
    };
    set.fd_array[..socks.len()].copy_from_slice(socks);
    set
}

fn members(set: &FD_SET) -> Vec<SOCKET> {
    set.fd_array[..set.fd_count as usize].to_vec()
}

fn tv(sec: i32, usec: i32) -> TIMEVAL {
    TIMEVAL {
        tv_sec: sec,
        tv_usec: usec,
    }
}

/// `select` for readability of `socks` (no write or except set) with `timeout` (`None`: no
/// timeout): (return value, the sockets reported readable).
fn select_read(socks: &[SOCKET], timeout: Option<TIMEVAL>) -> (i32, Vec<SOCKET>) {
    let mut r = fd_set(socks);
    let t = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const TIMEVAL);
    let n = unsafe { select(0, &mut r, std::ptr::null_mut(), std::ptr::null_mut(), t) };
    (n, members(&r))
}

/// `select` for writability and exceptions of `c` (no read set) with `timeout`: (return
/// value, the sockets reported writable, the sockets reported in exceptfds).
fn select_write_except(c: SOCKET, timeout: TIMEVAL) -> (i32, Vec<SOCKET>, Vec<SOCKET>) {
    let mut w = fd_set(&[c]);
    let mut x = fd_set(&[c]);
    let n = unsafe { select(0, std::ptr::null_mut(), &mut w, &mut x, &timeout) };
    (n, members(&w), members(&x))
}

fn bit(fd_bit: u32) -> usize {
    fd_bit as usize
}

// =============================================================================================
// 1. TCP lifecycle

#[test]
fn tcp_lifecycle_across_two_hosts() {
    let n = two_hosts(Sim::new());
    let l = n.server.run(|| unsafe {
        let l = tcp();
        assert_eq!(bind_to(l, ANY, PORT), 0);
        assert_eq!(local(l), v4(ANY, PORT)); // the wildcard is reported as bound
        assert_eq!(listen(l, 5), 0);
        l
    });
    let c = n.client.run(|| unsafe {
        let c = tcp();
        assert_eq!(connect_to(c, n.server_ip, PORT), 0);
        assert_eq!(local(c).port(), EPHEMERAL);
        assert_eq!(peer(c), v4(n.server_ip, PORT));
        c
    });
    assert_eq!(n.sim.now(), ms(2)); // SYN and SYN-ACK, 1 ms each
    let s = n.server.run(|| unsafe {
        let mut from = junk_addr();
        let mut len = 100;
        let s = accept(l, name_mut(&mut from), &mut len);
        assert_ne!(s, INVALID_SOCKET);
        assert_ne!(s, l);
        assert_eq!(len, 16);
        assert_eq!(from.sin_family, AF_INET);
        assert_eq!(SocketAddrV4::from(from), v4(n.client_ip, EPHEMERAL));
        assert_eq!(local(s), v4(n.server_ip, PORT));
        assert_eq!(peer(s), v4(n.client_ip, EPHEMERAL));
        assert_eq!(send_bytes(s, b"hello"), 5);
        s
    });
    n.client.run(|| {
        assert_eq!(recv_n(c, 64, 0), (5, b"hello".to_vec()));
        assert_eq!(send_bytes(c, b"world!"), 6);
        assert_eq!(unsafe { closesocket(c) }, 0);
        assert_eq!(unsafe { WSACleanup() }, 0);
    });
    n.server.run(|| unsafe {
        assert_eq!(recv_n(s, 64, 0), (6, b"world!".to_vec()));
        assert_eq!(recv_n(s, 64, 0), (0, vec![])); // the client's FIN
        assert_eq!(closesocket(s), 0);
        assert_eq!(closesocket(l), 0);
        assert_eq!(WSACleanup(), 0);
    });
    n.sim.run();
    assert_eq!(n.sim.lost_bytes(), 0);
}

#[test]
fn tcp_lifecycle_over_loopback() {
    let (sim, server, client) = on_localhost();
    let l = server.run(|| unsafe {
        let l = tcp();
        assert_eq!(bind_to(l, LOOPBACK, PORT), 0);
        assert_eq!(local(l), v4(LOOPBACK, PORT));
        assert_eq!(listen(l, 5), 0);
        l
    });
    let c = client.run(|| unsafe {
        let c = tcp();
        assert_eq!(connect_to(c, LOOPBACK, PORT), 0);
        assert_eq!(peer(c), v4(LOOPBACK, PORT));
        assert_eq!(local(c).port(), EPHEMERAL);
        c
    });
    assert_eq!(sim.now(), ms(2));
    let s = server.run(|| unsafe {
        let mut from = junk_addr();
        let mut len = 16;
        let s = accept(l, name_mut(&mut from), &mut len);
        assert_ne!(s, INVALID_SOCKET);
        assert_eq!(len, 16);
        assert_eq!(SocketAddrV4::from(from).port(), EPHEMERAL);
        assert_eq!(local(s), v4(LOOPBACK, PORT));
        assert_eq!(send_bytes(s, b"ping"), 4);
        s
    });
    client.run(|| {
        assert_eq!(recv_n(c, 16, 0), (4, b"ping".to_vec()));
        assert_eq!(send_bytes(c, b"pong"), 4);
    });
    server.run(|| {
        assert_eq!(recv_n(s, 16, 0), (4, b"pong".to_vec()));
    });
}

/// Windows reports the address the connection actually uses once connected; the peer of a
/// loopback connection is 127.0.0.1 on both ends.
#[test]
fn tcp_loopback_connection_reports_loopback_addresses_on_both_ends() {
    let (_sim, server, client) = on_localhost();
    let l = server.run(|| tcp_listener(&sockaddr(ANY, PORT), 5));
    let c = client.run(|| tcp_connected(&sockaddr(LOOPBACK, PORT)));
    server.run(|| unsafe {
        let mut from = junk_addr();
        let mut len = 16;
        let s = accept(l, name_mut(&mut from), &mut len);
        assert_ne!(s, INVALID_SOCKET);
        assert_eq!(local(s), v4(LOOPBACK, PORT));
        assert_eq!(SocketAddrV4::from(from), v4(LOOPBACK, EPHEMERAL));
        assert_eq!(peer(s), v4(LOOPBACK, EPHEMERAL));
    });
    client.run(|| assert_eq!(local(c), v4(LOOPBACK, EPHEMERAL)));
}

/// doc (getsockname): a socket bound to the wildcard reports the host's address once it is
/// connected.
#[test]
fn tcp_getsockname_after_connect_reports_the_interface_address() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.client
        .run(|| assert_eq!(local(c), v4(n.client_ip, EPHEMERAL)));
    n.server.run(|| assert_eq!(local(s), v4(n.server_ip, PORT)));
}

#[test]
fn tcp_getsockname_unbound_fails_einval() {
    started(|| unsafe {
        for s in [tcp(), udp()] {
            let mut a = junk_addr();
            let mut len = 16;
            WSASetLastError(BEEF);
            assert_fails(getsockname(s, name_mut(&mut a), &mut len), WSAEINVAL);
            assert_eq!(len, 16);
            assert_eq!(a.sin_family, 0x5555, "nothing written");
        }
    });
}

#[test]
fn tcp_getsockname_reports_wildcard_and_ephemeral_binds() {
    started(|| unsafe {
        let a = tcp();
        assert_eq!(bind_to(a, ANY, PORT), 0);
        assert_eq!(local(a), v4(ANY, PORT));
        let b = tcp();
        assert_eq!(bind_to(b, ANY, 0), 0);
        assert_eq!(local(b), v4(ANY, EPHEMERAL));
        let c = tcp();
        assert_eq!(bind_to(c, LOOPBACK, 0), 0);
        assert_eq!(local(c), v4(LOOPBACK, EPHEMERAL + 1));
    });
}

#[test]
fn tcp_getsockname_short_namelen_fails_efault() {
    started(|| unsafe {
        let s = tcp();
        assert_eq!(bind_to(s, ANY, PORT), 0);
        let mut a = junk_addr();
        let mut len = 15;
        assert_fails(getsockname(s, name_mut(&mut a), &mut len), WSAEFAULT);
        assert_eq!(a.sin_family, 0x5555);
        assert_fails(
            getsockname(s, std::ptr::null_mut(), std::ptr::null_mut()),
            WSAEFAULT,
        );
    });
}

#[test]
fn tcp_connect_binds_implicitly_to_the_first_ephemeral_port() {
    let n = two_hosts(Sim::new());
    let l = listen_any(&n);
    n.client.run(|| unsafe {
        let c = tcp();
        assert_unbound(c);
        assert_eq!(connect_to(c, n.server_ip, PORT), 0);
        assert_eq!(local(c).port(), EPHEMERAL);
        let d = tcp();
        assert_eq!(connect_to(d, n.server_ip, PORT), 0);
        assert_eq!(local(d).port(), EPHEMERAL + 1);
    });
    n.server.run(|| {
        let mut from = junk_addr();
        let mut len = 16;
        let s = unsafe { accept(l, name_mut(&mut from), &mut len) };
        assert_ne!(s, INVALID_SOCKET);
        assert_eq!(SocketAddrV4::from(from), v4(n.client_ip, EPHEMERAL));
        let t = unsafe { accept(l, name_mut(&mut from), &mut len) };
        assert_ne!(t, INVALID_SOCKET);
        assert_eq!(SocketAddrV4::from(from), v4(n.client_ip, EPHEMERAL + 1));
    });
}

/// ER-3 (win: getpeername checks the connection state before its pointers).
#[test]
fn er_3_getpeername_state_before_pointers() {
    let n = two_hosts(Sim::new());
    let (l, s, c) = connect_pair(&n);
    n.client.run(|| unsafe {
        let fresh = tcp();
        let bound = tcp();
        assert_eq!(bind_to(bound, ANY, 0), 0);
        let dgram = udp();
        for sock in [fresh, bound, dgram] {
            WSASetLastError(BEEF);
            let r = getpeername(sock, std::ptr::null_mut(), std::ptr::null_mut());
            assert_fails(r, WSAENOTCONN);
            let mut len = 3;
            assert_fails(
                getpeername(sock, std::ptr::null_mut(), &mut len),
                WSAENOTCONN,
            );
            let mut a = junk_addr();
            let mut len = 16;
            assert_fails(getpeername(sock, name_mut(&mut a), &mut len), WSAENOTCONN);
            assert_eq!(a.sin_family, 0x5555);
        }
        // Connected: now the pointers matter.
        assert_fails(
            getpeername(c, std::ptr::null_mut(), std::ptr::null_mut()),
            WSAEFAULT,
        );
        let mut a = junk_addr();
        let mut len = 15;
        assert_fails(getpeername(c, name_mut(&mut a), &mut len), WSAEFAULT);
        assert_eq!(a.sin_family, 0x5555);
        assert_eq!(peer(c), v4(n.server_ip, PORT));
    });
    n.server.run(|| unsafe {
        assert_fails(
            getpeername(l, std::ptr::null_mut(), std::ptr::null_mut()),
            WSAENOTCONN,
        );
        assert_eq!(peer(s), v4(n.client_ip, EPHEMERAL));
    });
}

#[test]
fn tcp_accept_short_addrlen_fails_efault_and_keeps_the_connection_queued() {
    let n = two_hosts(Sim::new());
    let l = listen_any(&n);
    connect_client(&n);
    n.server.run(|| unsafe {
        let mut from = junk_addr();
        let mut len = 15;
        WSASetLastError(BEEF);
        assert_invalid_socket(accept(l, name_mut(&mut from), &mut len), WSAEFAULT);
        assert_eq!(from.sin_family, 0x5555, "nothing written");
        // An address without a length is no better.
        assert_invalid_socket(
            accept(l, name_mut(&mut from), std::ptr::null_mut()),
            WSAEFAULT,
        );
        // The connection is still there for a correct call.
        let mut len = 16;
        let s = accept(l, name_mut(&mut from), &mut len);
        assert_ne!(s, INVALID_SOCKET);
        assert_eq!(len, 16);
        assert_eq!(SocketAddrV4::from(from), v4(n.client_ip, EPHEMERAL));
        // And it was the only one.
        set_nonblocking(l, true);
        assert_invalid_socket(
            accept(l, std::ptr::null_mut(), std::ptr::null_mut()),
            WSAEWOULDBLOCK,
        );
    });
}

#[test]
fn tcp_bind_twice_fails_einval() {
    started(|| unsafe {
        let s = tcp();
        assert_eq!(bind_to(s, ANY, PORT), 0);
        WSASetLastError(BEEF);
        assert_fails(bind_to(s, ANY, PORT + 1), WSAEINVAL);
        assert_fails(bind_to(s, ANY, 0), WSAEINVAL);
        assert_eq!(local(s), v4(ANY, PORT));
    });
}

#[test]
fn tcp_bind_to_a_port_in_use_fails_eaddrinuse() {
    started(|| unsafe {
        let a = tcp();
        assert_eq!(bind_to(a, ANY, PORT), 0);
        let b = tcp();
        WSASetLastError(BEEF);
        assert_fails(bind_to(b, ANY, PORT), WSAEADDRINUSE);
        // b is still unbound and can bind elsewhere.
        assert_unbound(b);
        assert_eq!(bind_to(b, ANY, PORT + 1), 0);
        // UDP has its own ports.
        let u = udp();
        assert_eq!(bind_to(u, ANY, PORT), 0);
        // Closing the owner frees the port.
        assert_eq!(closesocket(a), 0);
        let c = tcp();
        assert_eq!(bind_to(c, ANY, PORT), 0);
    });
}

#[test]
fn tcp_bind_to_a_foreign_address_fails_eaddrnotavail() {
    let sim = Sim::new();
    let other = sim.host("other").addr();
    sim.localhost().process("t").run(|| unsafe {
        startup_2_2();
        let s = tcp();
        WSASetLastError(BEEF);
        assert_fails(
            bind_to(s, Ipv4Addr::new(10, 0, 0, 99), PORT),
            WSAEADDRNOTAVAIL,
        );
        assert_fails(bind_to(s, other, PORT), WSAEADDRNOTAVAIL);
        // The host's own address is fine.
        assert_eq!(bind_to(s, Ipv4Addr::new(10, 0, 0, 1), PORT), 0);
        assert_eq!(local(s), v4(Ipv4Addr::new(10, 0, 0, 1), PORT));
    });
}

#[test]
fn tcp_bind_with_short_namelen_fails_efault() {
    started(|| unsafe {
        let s = tcp();
        let a = sockaddr(ANY, PORT);
        WSASetLastError(BEEF);
        assert_fails(bind(s, name_ptr(&a), 15), WSAEFAULT);
        assert_fails(bind(s, name_ptr(&a), 0), WSAEFAULT);
        assert_fails(bind(s, name_ptr(&a), -1), WSAEFAULT);
        assert_fails(bind(s, std::ptr::null(), 16), WSAEFAULT);
        assert_eq!(bind(s, name_ptr(&a), 16), 0);
    });
}

#[test]
fn tcp_bind_with_af_inet6_family_fails_eafnosupport() {
    started(|| unsafe {
        let s = tcp();
        let mut a = sockaddr(ANY, PORT);
        a.sin_family = AF_INET6;
        WSASetLastError(BEEF);
        assert_fails(bind(s, name_ptr(&a), 16), WSAEAFNOSUPPORT);
        assert_unbound(s);
    });
}

#[test]
fn tcp_connect_without_listener_is_refused_after_one_round_trip() {
    let n = two_hosts(Sim::new());
    n.client.run(|| unsafe {
        let c = tcp();
        WSASetLastError(BEEF);
        assert_fails(connect_to(c, n.server_ip, PORT), WSAECONNREFUSED);
    });
    assert_eq!(n.sim.now(), ms(2));
    let ev = n.sim.trace().calls("connect").last().cloned().unwrap();
    assert_eq!(ev.blocked, ms(2));
}

#[test]
fn tcp_connect_refusal_takes_the_link_round_trip() {
    let sim = Sim::builder().latency(ms(5)).build();
    let n = two_hosts(sim);
    n.client.run(|| unsafe {
        let c = tcp();
        assert_fails(connect_to(c, n.server_ip, PORT), WSAECONNREFUSED);
    });
    assert_eq!(n.sim.now(), ms(10));
}

#[test]
fn tcp_connect_to_an_address_no_host_has_times_out_after_21_s() {
    let n = two_hosts(Sim::new());
    n.client.run(|| unsafe {
        let c = tcp();
        WSASetLastError(BEEF);
        assert_fails(
            connect_to(c, Ipv4Addr::new(10, 0, 0, 99), PORT),
            WSAETIMEDOUT,
        );
    });
    assert_eq!(n.sim.now(), Duration::from_secs(21));
}

#[test]
fn tcp_nonblocking_connect_wouldblock_then_already_then_isconn() {
    let n = two_hosts(Sim::new());
    listen_any(&n);
    let c = n.client.run(|| unsafe {
        let c = tcp();
        set_nonblocking(c, true);
        WSASetLastError(BEEF);
        assert_fails(connect_to(c, n.server_ip, PORT), WSAEWOULDBLOCK);
        assert_fails(connect_to(c, n.server_ip, PORT), WSAEALREADY);
        // Not connected yet.
        assert_fails(
            getpeername(c, std::ptr::null_mut(), std::ptr::null_mut()),
            WSAENOTCONN,
        );
        assert_fails(send_bytes(c, b"x"), WSAENOTCONN);
        c
    });
    assert_eq!(n.sim.now(), Duration::ZERO);
    n.sim.run();
    assert_eq!(n.sim.now(), ms(2));
    n.client.run(|| unsafe {
        assert_fails(connect_to(c, n.server_ip, PORT), WSAEISCONN);
        assert_eq!(peer(c), v4(n.server_ip, PORT));
    });
}

#[test]
fn tcp_listen_on_udp_fails_eopnotsupp() {
    started(|| unsafe {
        let u = udp();
        assert_eq!(bind_to(u, ANY, PORT), 0);
        WSASetLastError(BEEF);
        assert_fails(listen(u, 5), WSAEOPNOTSUPP);
    });
}

#[test]
fn tcp_listen_unbound_fails_einval() {
    started(|| unsafe {
        let s = tcp();
        WSASetLastError(BEEF);
        assert_fails(listen(s, 5), WSAEINVAL);
        assert_eq!(bind_to(s, ANY, PORT), 0);
        assert_eq!(listen(s, 5), 0);
    });
}

#[test]
fn tcp_accept_on_a_non_listening_socket_fails_einval() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.server.run(|| unsafe {
        let fresh = tcp();
        let bound = tcp();
        assert_eq!(bind_to(bound, ANY, PORT + 1), 0);
        for sock in [fresh, bound, s] {
            WSASetLastError(BEEF);
            assert_invalid_socket(
                accept(sock, std::ptr::null_mut(), std::ptr::null_mut()),
                WSAEINVAL,
            );
        }
        // Even with a bad address buffer: the state is checked first.
        let mut len = 1;
        assert_invalid_socket(accept(fresh, std::ptr::null_mut(), &mut len), WSAEINVAL);
    });
    n.client.run(|| {
        assert_invalid_socket(
            unsafe { accept(c, std::ptr::null_mut(), std::ptr::null_mut()) },
            WSAEINVAL,
        );
    });
}

#[test]
fn tcp_backlog_full_refuses_further_connects() {
    let n = two_hosts(Sim::new());
    let l = n.server.run(|| tcp_listener(&sockaddr(ANY, PORT), 1));
    n.client.run(|| unsafe {
        let c1 = tcp();
        assert_eq!(connect_to(c1, n.server_ip, PORT), 0);
        let c2 = tcp();
        assert_fails(connect_to(c2, n.server_ip, PORT), WSAECONNREFUSED);
    });
    n.server.run(|| accept_one(l));
    // Room again.
    connect_client(&n);
}

/// A listener bound to 127.0.0.1 takes loopback connections only.
#[test]
fn tcp_listener_bound_to_loopback_is_not_reachable_from_another_host() {
    let n = two_hosts(Sim::new());
    n.server.run(|| tcp_listener(&sockaddr(LOOPBACK, PORT), 5));
    n.client.run(|| unsafe {
        let c = tcp();
        assert_fails(connect_to(c, n.server_ip, PORT), WSAECONNREFUSED);
    });
}

#[test]
fn tcp_blocking_accept_waits_for_the_connection_in_virtual_time() {
    let n = two_hosts(Sim::new());
    let l = listen_any(&n);
    let c = n.client.run(|| connect_started(n.server_ip));
    n.server.run(|| accept_one(l));
    assert_eq!(n.sim.now(), ms(1)); // the SYN's arrival
    let ev = n.sim.trace().calls("accept").last().cloned().unwrap();
    assert_eq!(ev.blocked, ms(1));
    n.sim.run();
    n.client.run(|| assert_eq!(peer(c), v4(n.server_ip, PORT)));
}

// =============================================================================================
// 2. Data

/// 200 KB through the default 64 KiB buffers: a non-blocking sender that meets
/// WSAEWOULDBLOCK, a reader that reads in 5000-byte chunks.
#[test]
fn data_200_kb_arrive_in_order_and_complete_nonblocking_sender() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    let data = pattern(200 * 1024);
    n.client.run(|| set_nonblocking(c, true));
    let (mut sent, mut got, mut would_block, mut bursts) = (0usize, Vec::new(), 0, Vec::new());
    let mut shut = false;
    for _ in 0..1000 {
        n.client.run(|| {
            let before = sent;
            while sent < data.len() {
                let r = send_bytes(c, &data[sent..]);
                if r == SOCKET_ERROR {
                    assert_eq!(unsafe { WSAGetLastError() }, WSAEWOULDBLOCK);
                    would_block += 1;
                    break;
                }
                assert!(
                    r > 0 && r as usize <= data.len() - sent,
                    "send returned {r}"
                );
                sent += r as usize;
            }
            bursts.push(sent - before);
            if sent == data.len() && !shut {
                assert_eq!(unsafe { shutdown(c, SD_SEND) }, 0);
                shut = true;
            }
        });
        n.sim.run();
        n.server.run(|| loop {
            let avail = fionread(s) as usize;
            if avail == 0 {
                break;
            }
            let want = avail.min(5000);
            let (r, bytes) = recv_n(s, want, 0);
            assert_eq!(r as usize, want);
            got.extend_from_slice(&bytes);
        });
        if got.len() == data.len() {
            break;
        }
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data, "bytes arrived out of order or changed");
    // The first burst fills the peer's receive window and our send buffer: 64 KiB each.
    assert_eq!(bursts[0], 2 * 64 * 1024);
    assert!(
        would_block >= 2,
        "the sender met WSAEWOULDBLOCK {would_block} times"
    );
    n.server.run(|| assert_eq!(recv_n(s, 100, 0), (0, vec![])));
    assert_eq!(n.sim.lost_bytes(), 0);
}

/// A blocking sender whose sends fit in its buffer and the peer's window returns at once; the
/// blocking reader waits for each piece in virtual time.
#[test]
fn data_blocking_sender_interleaved_with_a_chunked_reader() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    let data = pattern(200 * 1024);
    let mut got = Vec::new();
    for chunk in data.chunks(100 * 1024) {
        n.client
            .run(|| assert_eq!(send_bytes(c, chunk), chunk.len() as i32));
        n.server.run(|| {
            let mut in_chunk = 0;
            while in_chunk < chunk.len() {
                let (r, bytes) = recv_n(s, 8192.min(chunk.len() - in_chunk), 0);
                assert!(r > 0, "recv returned {r}");
                in_chunk += bytes.len();
                got.extend_from_slice(&bytes);
            }
        });
    }
    assert!(got == data, "bytes arrived out of order or changed");
    n.client.run(|| assert_eq!(unsafe { closesocket(c) }, 0));
    n.server.run(|| assert_eq!(recv_n(s, 10, 0), (0, vec![])));
}

#[test]
fn data_msg_peek_does_not_consume() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.client.run(|| assert_eq!(send_bytes(c, b"hello"), 5));
    n.sim.run();
    n.server.run(|| {
        assert_eq!(recv_n(s, 64, MSG_PEEK), (5, b"hello".to_vec()));
        assert_eq!(fionread(s), 5);
        assert_eq!(recv_n(s, 3, MSG_PEEK), (3, b"hel".to_vec()));
        assert_eq!(recv_n(s, 64, 0), (5, b"hello".to_vec()));
        assert_eq!(fionread(s), 0);
    });
}

/// MSG_WAITALL waits for the whole length where a plain recv returns what is there.
#[test]
fn data_msg_waitall_waits_for_the_full_length() {
    let sim = Sim::new();
    let n = two_hosts(sim.clone());
    let (_l, s, c) = connect_pair(&n);
    let (sh, ch) = (sim.host("server"), sim.host("client"));
    assert_eq!(sim.now(), ms(2));
    // "hello" arrives at 3 ms, "world" at 12 ms.
    n.client.run(|| assert_eq!(send_bytes(c, b"hello"), 5));
    sim.set_link_latency(&sh, &ch, ms(10));
    n.client.run(|| assert_eq!(send_bytes(c, b"world"), 5));
    // A plain recv returns the first piece when it arrives.
    n.server
        .run(|| assert_eq!(recv_n(s, 10, 0), (5, b"hello".to_vec())));
    assert_eq!(sim.now(), ms(3));
    n.server
        .run(|| assert_eq!(recv_n(s, 10, 0), (5, b"world".to_vec())));
    assert_eq!(sim.now(), ms(12));
    // "abc" arrives at 13 ms, "defghij" at 22 ms.
    sim.set_link_latency(&sh, &ch, ms(1));
    n.client.run(|| assert_eq!(send_bytes(c, b"abc"), 3));
    sim.set_link_latency(&sh, &ch, ms(10));
    n.client.run(|| assert_eq!(send_bytes(c, b"defghij"), 7));
    n.server
        .run(|| assert_eq!(recv_n(s, 10, MSG_WAITALL), (10, b"abcdefghij".to_vec())));
    assert_eq!(sim.now(), ms(22));
    let ev = sim.trace().calls("recv").last().cloned().unwrap();
    assert_eq!(ev.blocked, ms(10));
}

#[test]
fn data_recv_on_unconnected_tcp_fails_enotconn() {
    started(|| unsafe {
        let fresh = tcp();
        let listener = tcp_listener(&sockaddr(ANY, PORT), 5);
        for s in [fresh, listener] {
            WSASetLastError(BEEF);
            assert_fails(recv_n(s, 10, 0).0, WSAENOTCONN);
            assert_fails(send_bytes(s, b"x"), WSAENOTCONN);
        }
    });
}

#[test]
fn data_nonblocking_recv_with_nothing_fails_wouldblock() {
    let n = two_hosts(Sim::new());
    let (_l, s, _c) = connect_pair(&n);
    n.server.run(|| unsafe {
        set_nonblocking(s, true);
        WSASetLastError(BEEF);
        assert_fails(recv_n(s, 10, 0).0, WSAEWOULDBLOCK);
        assert_fails(recv_n(s, 10, MSG_PEEK).0, WSAEWOULDBLOCK);
        assert_eq!(fionread(s), 0);
    });
    assert_eq!(n.sim.now(), ms(2), "non-blocking calls take no time");
}

#[test]
fn data_fionread_reports_queued_bytes() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.server.run(|| assert_eq!(fionread(s), 0));
    n.client.run(|| {
        assert_eq!(send_bytes(c, b"abc"), 3);
        assert_eq!(send_bytes(c, b"defg"), 4);
    });
    n.server
        .run(|| assert_eq!(fionread(s), 0, "still in flight"));
    n.sim.run();
    n.server.run(|| {
        assert_eq!(fionread(s), 7);
        assert_eq!(recv_n(s, 2, 0), (2, b"ab".to_vec()));
        assert_eq!(fionread(s), 5);
        assert_eq!(recv_n(s, 5, 0), (5, b"cdefg".to_vec()));
        assert_eq!(fionread(s), 0);
    });
}

#[test]
fn data_send_or_recv_with_null_buffer_and_length_fails_efault() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.client.run(|| unsafe {
        WSASetLastError(BEEF);
        assert_fails(send(c, std::ptr::null(), 5, 0), WSAEFAULT);
        assert_fails(send(c, b"abc".as_ptr(), -1, 0), WSAEFAULT);
        // A zero-length send with no buffer is fine.
        assert_eq!(send(c, std::ptr::null(), 0, 0), 0);
        assert_eq!(send_bytes(c, b"ok"), 2);
    });
    n.sim.run();
    n.server.run(|| unsafe {
        assert_fails(recv(s, std::ptr::null_mut(), 5, 0), WSAEFAULT);
        assert_eq!(fionread(s), 2, "nothing consumed");
        assert_eq!(recv_n(s, 5, 0), (2, b"ok".to_vec()));
    });
}

/// A smaller SO_SNDBUF (sender) and SO_RCVBUF (receiver) make a non-blocking sender meet
/// WSAEWOULDBLOCK earlier: it can have at most SO_RCVBUF bytes in the peer's window and
/// SO_SNDBUF more queued.
#[test]
fn data_so_sndbuf_and_so_rcvbuf_change_the_window() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    let block = pattern(4096);
    n.server.run(|| set_dword_opt(s, SO_RCVBUF, 2000));
    let taken = n.client.run(|| {
        set_dword_opt(c, SO_SNDBUF, 1000);
        set_nonblocking(c, true);
        sends_until_wouldblock(c, &block)
    });
    assert_eq!(taken, vec![1000, 1000, 1000]);
    n.sim.run();
    n.server.run(|| {
        assert_eq!(fionread(s), 2000, "the receive window");
        let (r, bytes) = recv_n(s, 4096, 0);
        assert_eq!(r, 2000);
        // Each send took the first 1000 bytes of the block.
        assert_eq!(bytes[..1000], block[..1000]);
        assert_eq!(bytes[1000..], block[..1000]);
    });
    n.sim.run();
    n.server.run(|| {
        let (r, bytes) = recv_n(s, 4096, 0);
        assert_eq!(r, 1000);
        assert_eq!(bytes[..], block[..1000]);
    });
    // With the default 64 KiB buffers the same sender gets 128 KiB in.
    let n2 = two_hosts(Sim::new());
    let (_l2, _s2, c2) = connect_pair(&n2);
    let big = pattern(256 * 1024);
    let taken = n2.client.run(|| {
        set_nonblocking(c2, true);
        sends_until_wouldblock(c2, &big)
    });
    assert_eq!(taken, vec![65536, 65536]);
}

#[test]
fn time_connect_with_1_ms_latency_completes_at_2_ms_and_is_traced_as_blocked() {
    let sim = Sim::builder().latency(ms(1)).build();
    let n = two_hosts(sim);
    let (_l, s, c) = connect_pair(&n);
    assert_eq!(n.sim.now(), ms(2));
    let trace = n.sim.trace();
    let ev = trace.calls("connect").last().cloned().unwrap();
    assert_eq!(ev.result, "0");
    assert_eq!(ev.time, ms(2));
    assert_eq!(ev.blocked, ms(2));
    assert!(ev.blocked > Duration::ZERO);
    // A blocking recv waits for the packet: 1 ms.
    n.client.run(|| assert_eq!(send_bytes(c, b"x"), 1));
    n.server
        .run(|| assert_eq!(recv_n(s, 4, 0), (1, b"x".to_vec())));
    assert_eq!(n.sim.now(), ms(3));
    let ev = n.sim.trace().calls("recv").last().cloned().unwrap();
    assert_eq!(ev.blocked, ms(1));
    // A call that does not wait records no blocked time.
    let ev = n.sim.trace().calls("send").last().cloned().unwrap();
    assert_eq!(ev.blocked, Duration::ZERO);
}

#[test]
fn time_set_link_latency_applies_to_one_link() {
    let sim = Sim::new();
    let n = two_hosts(sim.clone());
    sim.set_link_latency(&sim.host("server"), &sim.host("client"), ms(7));
    let _ = connect_pair(&n);
    assert_eq!(sim.now(), ms(14));
}

// =============================================================================================
// 3. UDP

#[test]
fn udp_sendto_recvfrom_between_hosts_reports_the_sender() {
    let n = two_hosts(Sim::new());
    let b = udp_server(&n);
    let a = n.client.run(|| {
        let a = udp();
        assert_eq!(send_to(a, b"ping", &sockaddr(n.server_ip, 5000)), 4);
        assert_eq!(local(a), v4(ANY, EPHEMERAL)); // bound implicitly
        a
    });
    n.server.run(|| {
        let (r, buf, from, len) = recv_from(b, 64, 32);
        assert_eq!(r, 4);
        assert_eq!(&buf[..4], b"ping");
        assert_eq!(len, 16);
        assert_eq!(SocketAddrV4::from(from), v4(n.client_ip, EPHEMERAL));
        assert_eq!(send_to(b, b"pong!", &from), 5);
    });
    assert_eq!(n.sim.now(), ms(1));
    n.client.run(|| {
        let (r, buf, from, _) = recv_from(a, 64, 16);
        assert_eq!(r, 5);
        assert_eq!(&buf[..5], b"pong!");
        assert_eq!(SocketAddrV4::from(from), v4(n.server_ip, 5000));
    });
    assert_eq!(n.sim.now(), ms(2));
}

#[test]
fn udp_datagrams_keep_their_boundaries_and_order() {
    let n = two_hosts(Sim::new());
    let b = udp_server(&n);
    n.client.run(|| {
        let a = udp();
        let to = sockaddr(n.server_ip, 5000);
        for msg in [&b"one"[..], b"three", b"", b"four"] {
            assert_eq!(send_to(a, msg, &to), msg.len() as i32);
        }
    });
    n.sim.run();
    n.server.run(|| {
        assert_eq!(recv_n(b, 64, 0), (3, b"one".to_vec()));
        assert_eq!(recv_n(b, 64, 0), (5, b"three".to_vec()));
        assert_eq!(recv_n(b, 64, 0), (0, vec![]));
        assert_eq!(recv_n(b, 64, 0), (4, b"four".to_vec()));
    });
}

#[test]
fn udp_connected_send_and_recv() {
    let n = two_hosts(Sim::new());
    let b = udp_server(&n);
    let a = n.client.run(|| unsafe {
        let a = udp();
        assert_eq!(connect_to(a, n.server_ip, 5000), 0);
        assert_eq!(peer(a), v4(n.server_ip, 5000));
        assert_eq!(local(a).port(), EPHEMERAL);
        assert_eq!(send_bytes(a, b"hi"), 2);
        a
    });
    assert_eq!(n.sim.now(), Duration::ZERO, "connect on UDP sends nothing");
    n.server.run(|| {
        let (r, buf, from, _) = recv_from(b, 8, 16);
        assert_eq!(r, 2);
        assert_eq!(&buf[..2], b"hi");
        let back = SocketAddrV4::from(from);
        assert_eq!(back, v4(n.client_ip, EPHEMERAL));
        // A datagram from another port first: the connected socket drops it.
        let me = udp_bound(&sockaddr(ANY, 5001));
        assert_eq!(send_to(me, b"spam", &sockaddr(n.client_ip, EPHEMERAL)), 4);
        assert_eq!(send_to(b, b"reply", &from), 5);
    });
    n.sim.run();
    n.client.run(|| {
        assert_eq!(recv_n(a, 16, 0), (5, b"reply".to_vec()));
        set_nonblocking(a, true);
        assert_fails(recv_n(a, 16, 0).0, WSAEWOULDBLOCK);
    });
}

#[test]
fn udp_datagram_larger_than_the_buffer_fails_emsgsize_with_truncated_data() {
    let n = two_hosts(Sim::new());
    let b = udp_server(&n);
    n.client.run(|| {
        let a = udp();
        let to = sockaddr(n.server_ip, 5000);
        assert_eq!(send_to(a, b"0123456789", &to), 10);
        assert_eq!(send_to(a, b"next", &to), 4);
    });
    n.sim.run();
    n.server.run(|| unsafe {
        // An 8-byte buffer of which recvfrom may use 4.
        let mut buf = [0xeeu8; 8];
        let mut from = junk_addr();
        let mut len = 16;
        WSASetLastError(BEEF);
        let r = recvfrom(b, buf.as_mut_ptr(), 4, 0, name_mut(&mut from), &mut len);
        assert_fails(r, WSAEMSGSIZE);
        assert_eq!(&buf, b"0123\xee\xee\xee\xee");
        assert_eq!(SocketAddrV4::from(from), v4(n.client_ip, EPHEMERAL));
        // The rest of that datagram is gone.
        assert_eq!(recv_n(b, 64, 0), (4, b"next".to_vec()));
    });
}

#[test]
fn udp_sendto_more_than_65507_bytes_fails_emsgsize() {
    let n = two_hosts(Sim::new());
    let b = udp_server(&n);
    let big = pattern(65508);
    n.client.run(|| unsafe {
        let a = udp();
        let to = sockaddr(n.server_ip, 5000);
        WSASetLastError(BEEF);
        assert_fails(send_to(a, &big, &to), WSAEMSGSIZE);
        assert_eq!(send_to(a, &big[..65507], &to), 65507);
    });
    n.sim.run();
    n.server.run(|| {
        let (r, bytes) = recv_n(b, 70000, 0);
        assert_eq!(r, 65507);
        assert_eq!(bytes[..], big[..65507]);
    });
}

#[test]
fn udp_recvfrom_short_fromlen_fails_efault_and_keeps_the_datagram() {
    let n = two_hosts(Sim::new());
    let b = udp_server(&n);
    n.client
        .run(|| assert_eq!(send_to(udp(), b"data", &sockaddr(n.server_ip, 5000)), 4));
    n.sim.run();
    n.server.run(|| unsafe {
        WSASetLastError(BEEF);
        let (r, _, from, _) = recv_from(b, 16, 15);
        assert_fails(r, WSAEFAULT);
        assert_eq!(from.sin_family, 0x5555);
        assert_eq!(fionread(b), 4, "the datagram is still queued");
        let (r, buf, _, _) = recv_from(b, 16, 16);
        assert_eq!(r, 4);
        assert_eq!(&buf[..4], b"data");
    });
}

#[test]
fn udp_over_loopback_reports_the_loopback_sender() {
    let (_sim, server, client) = on_localhost();
    let b = server.run(|| udp_bound(&sockaddr(LOOPBACK, 5000)));
    client.run(|| assert_eq!(send_to(udp(), b"x", &sockaddr(LOOPBACK, 5000)), 1));
    server.run(|| {
        let (r, _, from, _) = recv_from(b, 4, 16);
        assert_eq!(r, 1);
        assert_eq!(SocketAddrV4::from(from), v4(LOOPBACK, EPHEMERAL));
    });
}

// =============================================================================================
// 4. Events

#[test]
fn events_create_set_reset_close() {
    started(|| unsafe {
        let e = event();
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT, "created non-signalled");
        assert_eq!(WSASetEvent(e), TRUE);
        assert_eq!(wait_one(e, 0), SIGNALLED);
        assert_eq!(
            wait_one(e, 0),
            SIGNALLED,
            "manual reset: a wait does not reset it"
        );
        assert_eq!(WSASetEvent(e), TRUE, "setting twice is fine");
        assert_eq!(WSAResetEvent(e), TRUE);
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(WSAResetEvent(e), TRUE, "resetting twice is fine");
        assert_eq!(WSACloseEvent(e), TRUE);
    });
}

#[test]
fn events_invalid_handles_fail_wsa_invalid_handle() {
    started(|| unsafe {
        let closed = event();
        assert_eq!(WSACloseEvent(closed), TRUE);
        // (A socket handle or -1 would be real kernel handles on Windows: not used here.)
        for h in [closed, WSA_INVALID_EVENT, 0x1234] {
            WSASetLastError(BEEF);
            assert_eq!(WSASetEvent(h), FALSE, "WSASetEvent({h:#x})");
            assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
            WSASetLastError(BEEF);
            assert_eq!(WSAResetEvent(h), FALSE, "WSAResetEvent({h:#x})");
            assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
            WSASetLastError(BEEF);
            assert_eq!(WSACloseEvent(h), FALSE, "WSACloseEvent({h:#x})");
            assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
            WSASetLastError(BEEF);
            assert_eq!(wait_one(h, 0), WSA_WAIT_FAILED);
            assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
        }
        // One bad handle among good ones fails the wait too.
        let good = event();
        assert_eq!(WSASetEvent(good), TRUE);
        WSASetLastError(BEEF);
        assert_eq!(wait(&[good, closed], false, 0), WSA_WAIT_FAILED);
        assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
    });
}

#[test]
fn events_wait_returns_the_lowest_signalled_index() {
    started(|| unsafe {
        let es = [event(), event(), event()];
        assert_eq!(WSASetEvent(es[2]), TRUE);
        assert_eq!(wait(&es, false, 0), SIGNALLED + 2);
        assert_eq!(wait(&es, false, WSA_INFINITE), SIGNALLED + 2);
        assert_eq!(WSASetEvent(es[1]), TRUE);
        assert_eq!(wait(&es, false, 0), SIGNALLED + 1);
    });
}

#[test]
fn events_wait_timeout_zero_returns_at_once() {
    let (sim, p) = app();
    p.run(|| {
        startup_2_2();
        let e = event();
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(WSA_WAIT_TIMEOUT, 258);
    });
    assert_eq!(sim.now(), Duration::ZERO);
}

#[test]
fn events_wait_timeout_50_ms_advances_virtual_time_by_exactly_50_ms() {
    let (sim, p) = app();
    sim.advance(ms(3));
    p.run(|| {
        startup_2_2();
        let e = event();
        assert_eq!(wait_one(e, 50), WSA_WAIT_TIMEOUT);
    });
    assert_eq!(sim.now(), ms(53));
    let ev = sim
        .trace()
        .calls("WSAWaitForMultipleEvents")
        .last()
        .cloned()
        .unwrap();
    assert_eq!(ev.blocked, ms(50));
}

#[test]
fn events_wait_with_no_events_fails_wsa_invalid_parameter() {
    started(|| unsafe {
        let e = event();
        let h = [e as HANDLE];
        WSASetLastError(BEEF);
        assert_eq!(
            WSAWaitForMultipleEvents(0, h.as_ptr(), FALSE, 0, FALSE),
            WSA_WAIT_FAILED
        );
        assert_eq!(WSAGetLastError(), WSA_INVALID_PARAMETER);
        WSASetLastError(BEEF);
        let r = WSAWaitForMultipleEvents(0, std::ptr::null(), FALSE, 0, FALSE);
        assert_eq!(r, WSA_WAIT_FAILED);
        assert_eq!(WSAGetLastError(), WSA_INVALID_PARAMETER);
        assert_eq!(WSA_INVALID_PARAMETER, 87);
        // More than WSA_MAXIMUM_WAIT_EVENTS.
        let many: Vec<HANDLE> = (0..65).map(|_| event() as HANDLE).collect();
        WSASetLastError(BEEF);
        let r = WSAWaitForMultipleEvents(65, many.as_ptr(), FALSE, 0, FALSE);
        assert_eq!(r, WSA_WAIT_FAILED);
        assert_eq!(WSAGetLastError(), WSA_INVALID_PARAMETER);
    });
}

#[test]
fn events_wait_all_needs_every_event() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let es = [event(), event()];
        assert_eq!(WSASetEvent(es[1]), TRUE);
        assert_eq!(wait(&es, true, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(wait(&es, false, 0), SIGNALLED + 1);
        assert_eq!(wait(&es, true, 20), WSA_WAIT_TIMEOUT);
        assert_eq!(WSASetEvent(es[0]), TRUE);
        assert_eq!(wait(&es, true, 0), SIGNALLED);
        assert_eq!(wait(&es, true, WSA_INFINITE), SIGNALLED);
    });
    assert_eq!(sim.now(), ms(20));
}

/// TH-4: an infinite wait that nothing can end is a deadlock, not a hang.
#[test]
#[should_panic(expected = "deadlock")]
fn th_4_infinite_wait_with_nothing_pending_panics_deadlock() {
    started(|| {
        let e = event();
        wait_one(e, WSA_INFINITE)
    });
}

#[test]
fn events_wait_wakes_when_a_network_event_fires() {
    let n = two_hosts(Sim::new());
    let l = listen_any(&n);
    let e = n.server.run(|| select_events(l, FD_ACCEPT));
    n.client.run(|| connect_started(n.server_ip));
    n.server.run(|| {
        assert_eq!(wait_one(e, WSA_INFINITE), SIGNALLED);
        assert_eq!(enum_events(l, e).0, FD_ACCEPT);
    });
    assert_eq!(n.sim.now(), ms(1), "woken by the SYN's arrival");
}

#[test]
fn events_fd_accept_on_the_listener_when_a_client_connects() {
    let n = two_hosts(Sim::new());
    let l = listen_any(&n);
    let e = n.server.run(|| {
        // FD_ACCEPT only: accepted sockets inherit the selection and share the event.
        let e = select_events(l, FD_ACCEPT);
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(enum_events(l, e).0, 0);
        e
    });
    for _ in 0..2 {
        connect_client(&n);
    }
    n.server.run(|| unsafe {
        assert_eq!(wait_one(e, 0), SIGNALLED);
        let (events, codes) = enum_events(l, e);
        assert_eq!(events, FD_ACCEPT, "one FD_ACCEPT for two connections");
        assert_eq!(codes[bit(FD_ACCEPT_BIT)], 0);
        // WSAEnumNetworkEvents cleared the record and reset the event.
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(enum_events(l, e).0, 0);
        // accept re-enables FD_ACCEPT: the second connection is still queued.
        accept_one(l);
        assert_eq!(wait_one(e, 0), SIGNALLED);
        assert_eq!(enum_events(l, e).0, FD_ACCEPT);
        accept_one(l);
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(enum_events(l, e).0, 0);
        // The listener is non-blocking now.
        assert_invalid_socket(
            accept(l, std::ptr::null_mut(), std::ptr::null_mut()),
            WSAEWOULDBLOCK,
        );
    });
}

/// The accepted socket inherits the listener's WSAEventSelect association (doc: accept), but
/// not the events the listener recorded.
#[test]
fn events_accepted_socket_inherits_the_selection_but_not_recorded_events() {
    let n = two_hosts(Sim::new());
    let l = listen_any(&n);
    let e = n
        .server
        .run(|| select_events(l, FD_ACCEPT | FD_READ | FD_WRITE));
    connect_client(&n);
    n.server.run(|| {
        let s = accept_one(l);
        let (events, _) = enum_events(s, e);
        assert_eq!(events, FD_WRITE, "the new socket's own events only");
        assert_eq!(enum_events(l, e).0, FD_ACCEPT);
        // Inherited: non-blocking.
        assert_fails(recv_n(s, 4, 0).0, WSAEWOULDBLOCK);
    });
}

#[test]
fn events_fd_connect_and_fd_write_on_the_client() {
    let n = two_hosts(Sim::new());
    listen_any(&n);
    let (c, e) = n.client.run(|| unsafe {
        let c = tcp();
        let e = select_events(c, FD_CONNECT | FD_WRITE | FD_READ | FD_CLOSE);
        assert_fails(connect_to(c, n.server_ip, PORT), WSAEWOULDBLOCK);
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        (c, e)
    });
    n.client.run(|| {
        assert_eq!(wait_one(e, WSA_INFINITE), SIGNALLED);
        let (events, codes) = enum_events(c, e);
        assert_eq!(events, FD_CONNECT | FD_WRITE);
        assert_eq!(codes[bit(FD_CONNECT_BIT)], 0);
        assert_eq!(codes[bit(FD_WRITE_BIT)], 0);
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        // Writable again without a WSAEWOULDBLOCK in between: no second FD_WRITE.
        assert_eq!(send_bytes(c, b"x"), 1);
        assert_eq!(enum_events(c, e).0, 0);
    });
    assert_eq!(n.sim.now(), ms(2));
}

#[test]
fn events_fd_connect_reports_a_refusal() {
    let n = two_hosts(Sim::new());
    n.client.run(|| unsafe {
        let c = tcp();
        let e = select_events(c, FD_CONNECT | FD_WRITE);
        assert_fails(connect_to(c, n.server_ip, PORT), WSAEWOULDBLOCK);
        assert_eq!(wait_one(e, WSA_INFINITE), SIGNALLED);
        let (events, codes) = enum_events(c, e);
        assert_eq!(events, FD_CONNECT);
        assert_eq!(codes[bit(FD_CONNECT_BIT)], WSAECONNREFUSED);
    });
}

#[test]
fn events_fd_write_is_re_enabled_by_a_send_that_would_block() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.server.run(|| set_dword_opt(s, SO_RCVBUF, 100));
    let e = n.client.run(|| {
        set_dword_opt(c, SO_SNDBUF, 100);
        let e = select_events(c, FD_WRITE);
        assert_eq!(enum_events(c, e).0, FD_WRITE);
        let block = [7u8; 150];
        assert_eq!(send_bytes(c, &block), 100);
        assert_eq!(send_bytes(c, &block), 100);
        assert_fails(send_bytes(c, &block), WSAEWOULDBLOCK);
        assert_eq!(enum_events(c, e).0, 0);
        e
    });
    n.sim.run();
    n.server.run(|| assert_eq!(recv_n(s, 100, 0).0, 100));
    n.sim.run();
    n.client.run(|| {
        assert_eq!(wait_one(e, 0), SIGNALLED);
        assert_eq!(enum_events(c, e).0, FD_WRITE);
    });
}

#[test]
fn events_fd_read_is_re_enabled_only_by_recv() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    let e = n.server.run(|| select_events(s, FD_READ | FD_CLOSE));
    n.server.run(|| assert_eq!(enum_events(s, e).0, 0));
    n.client.run(|| assert_eq!(send_bytes(c, b"a"), 1));
    n.sim.run();
    n.server.run(|| {
        assert_eq!(wait_one(e, 0), SIGNALLED);
        let (events, codes) = enum_events(s, e);
        assert_eq!(events, FD_READ);
        assert_eq!(codes[bit(FD_READ_BIT)], 0);
    });
    // More data without a recv in between: no new FD_READ.
    n.client.run(|| assert_eq!(send_bytes(c, b"b"), 1));
    n.sim.run();
    n.server.run(|| {
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(enum_events(s, e).0, 0);
        assert_eq!(fionread(s), 2);
        // A recv that leaves data re-enables it and it is recorded at once.
        assert_eq!(recv_n(s, 1, 0), (1, b"a".to_vec()));
        assert_eq!(wait_one(e, 0), SIGNALLED);
        assert_eq!(enum_events(s, e).0, FD_READ);
        // A recv that empties the queue: nothing until new data.
        assert_eq!(recv_n(s, 8, 0), (1, b"b".to_vec()));
        assert_eq!(enum_events(s, e).0, 0);
    });
    n.client.run(|| assert_eq!(send_bytes(c, b"c"), 1));
    n.sim.run();
    n.server.run(|| assert_eq!(enum_events(s, e).0, FD_READ));
}

#[test]
fn events_event_select_makes_the_socket_nonblocking() {
    let n = two_hosts(Sim::new());
    let (_l, s, _c) = connect_pair(&n);
    n.server.run(|| unsafe {
        select_events(s, FD_READ);
        WSASetLastError(BEEF);
        assert_fails(recv_n(s, 4, 0).0, WSAEWOULDBLOCK);
        let mut off = 0u32;
        assert_fails(ioctlsocket(s, FIONBIO, &mut off), WSAEINVAL);
        let mut on = 1u32;
        assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0);
        // Cancelling the association (mask 0) allows blocking mode again.
        assert_eq!(WSAEventSelect(s, 0, 0), 0);
        assert_eq!(ioctlsocket(s, FIONBIO, &mut off), 0);
    });
}

#[test]
fn events_enum_network_events_with_null_record_fails_efault() {
    started(|| unsafe {
        let s = tcp();
        let e = select_events(s, FD_READ);
        WSASetLastError(BEEF);
        assert_fails(WSAEnumNetworkEvents(s, e, std::ptr::null_mut()), WSAEFAULT);
    });
}

/// ER-3 (issue 12 item 11): a bogus `hEventObject` fails with an error of the documented
/// set (WSAEINVAL; it was WSA_INVALID_HANDLE, which the page does not list), and nothing is
/// written or cleared.
#[test]
fn er_3_enum_network_events_with_a_bogus_event_fails_einval() {
    started(|| unsafe {
        let s = udp_bound(&sockaddr(Ipv4Addr::LOCALHOST, 7300));
        let e = select_events(s, FD_READ);
        assert_eq!(send_to(s, b"x", &sockaddr(Ipv4Addr::LOCALHOST, 7300)), 1);
        assert_eq!(wait_one(e, 1000), SIGNALLED);
        let mut ne = WSANETWORKEVENTS {
            lNetworkEvents: 0x7777,
            iErrorCode: [0x7777; 10],
        };
        assert_eq!(
            last_error_after(|| WSAEnumNetworkEvents(s, 0x4242_4242, &mut ne)),
            (SOCKET_ERROR, WSAEINVAL)
        );
        assert_eq!((ne.lNetworkEvents, ne.iErrorCode), (0x7777, [0x7777; 10]));
        // The events are still recorded for a call with the right event.
        assert_eq!(enum_events(s, e).0, FD_READ);
    });
}

/// SD-12: FD_CLOSE with error 0 after the peer's graceful close; recv then returns 0.
#[test]
fn sd_12_fd_close_with_error_0_on_graceful_close() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    let e = n.server.run(|| select_events(s, FD_READ | FD_CLOSE));
    n.client.run(|| assert_eq!(unsafe { closesocket(c) }, 0));
    n.sim.run();
    n.server.run(|| {
        assert_eq!(wait_one(e, 0), SIGNALLED);
        let (events, codes) = enum_events(s, e);
        assert_eq!(events, FD_CLOSE);
        assert_eq!(codes[bit(FD_CLOSE_BIT)], 0);
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(recv_n(s, 8, 0), (0, vec![]));
        // FD_CLOSE happens once.
        assert_eq!(enum_events(s, e).0, 0);
    });
    assert!(n
        .sim
        .trace()
        .calls("WSAEnumNetworkEvents")
        .any(|ev| ev.rules.iter().any(|r| r.id() == "SD-12")));
}

/// SD-12: FD_CLOSE after the peer's data is read, when data and FIN arrive together.
#[test]
fn sd_12_fd_close_after_data_and_graceful_close() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    let e = n.server.run(|| select_events(s, FD_READ | FD_CLOSE));
    n.client.run(|| {
        assert_eq!(send_bytes(c, b"last"), 4);
        assert_eq!(unsafe { shutdown(c, SD_SEND) }, 0);
    });
    n.sim.run();
    n.server.run(|| {
        let first = enum_events(s, e);
        assert_ne!(first.0 & FD_READ, 0);
        assert_eq!(recv_n(s, 8, 0), (4, b"last".to_vec()));
        assert_eq!(recv_n(s, 8, 0), (0, vec![]));
        let second = enum_events(s, e);
        // Over the two enumerations FD_CLOSE was reported exactly once, with error 0.
        let closes: Vec<i32> = [first, second]
            .iter()
            .filter(|(events, _)| events & FD_CLOSE != 0)
            .map(|(_, codes)| codes[bit(FD_CLOSE_BIT)])
            .collect();
        assert_eq!(closes, vec![0]);
        assert_eq!(enum_events(s, e).0, 0);
    });
}

/// SD-12 (profile): after a reset FD_CLOSE carries WSAECONNRESET (Documented) or
/// WSAECONNABORTED (Windows); recv fails WSAECONNRESET in both.
#[test]
fn sd_12_fd_close_after_a_reset_reports_the_profile_error() {
    for (profile, code) in [
        (Profile::Documented, WSAECONNRESET),
        (Profile::Windows, WSAECONNABORTED),
    ] {
        let n = two_hosts(Sim::builder().profile(profile).build());
        let (_l, s, c) = connect_pair(&n);
        let e = n.server.run(|| select_events(s, FD_READ | FD_CLOSE));
        n.client.run(|| {
            set_linger(c, 1, 0);
            assert_eq!(unsafe { closesocket(c) }, 0);
        });
        n.sim.run();
        n.server.run(|| {
            let (events, codes) = enum_events(s, e);
            assert_eq!(events, FD_CLOSE, "{profile:?}");
            assert_eq!(codes[bit(FD_CLOSE_BIT)], code, "{profile:?}");
            assert_fails(recv_n(s, 8, 0).0, WSAECONNRESET);
        });
    }
}

/// CL-8: event objects are per-process resources; the final cleanup frees them.
#[test]
fn cl_8_events_are_live_resources_freed_by_final_cleanup() {
    let (_sim, p) = app();
    let (e1, e2) = p.run(|| {
        startup_2_2();
        (event(), event())
    });
    assert_eq!(p.live_resources(), 2);
    let s = p.run(|| {
        let s = tcp();
        event_select(s, e1, FD_READ);
        s
    });
    assert_eq!(p.live_resources(), 3, "two events and a socket");
    p.run(|| assert_eq!(unsafe { WSACloseEvent(e2) }, TRUE));
    assert_eq!(p.live_resources(), 2);
    p.run(|| {
        // A second startup: the next cleanup is not final.
        startup_2_2();
        assert_eq!(unsafe { WSACleanup() }, 0);
    });
    assert_eq!(p.live_resources(), 2);
    p.run(|| assert_eq!(unsafe { WSACleanup() }, 0));
    assert_eq!(p.live_resources(), 0);
    p.run(|| unsafe {
        startup_2_2();
        WSASetLastError(BEEF);
        assert_eq!(
            WSASetEvent(e1),
            FALSE,
            "no event survives the final cleanup"
        );
        assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
        assert_fails(closesocket(s), WSAENOTSOCK);
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(p.live_resources(), 0);
}

// =============================================================================================
// 5. select

#[test]
fn select_readable_on_data() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.server
        .run(|| assert_eq!(select_read(&[s], Some(tv(0, 0))), (0, vec![])));
    n.client.run(|| assert_eq!(send_bytes(c, b"data"), 4));
    n.sim.run();
    n.server
        .run(|| assert_eq!(select_read(&[s], Some(tv(0, 0))), (1, vec![s])));
}

#[test]
fn select_without_timeout_waits_for_data() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.client.run(|| assert_eq!(send_bytes(c, b"data"), 4));
    n.server
        .run(|| assert_eq!(select_read(&[s], None), (1, vec![s])));
    assert_eq!(n.sim.now(), ms(3));
}

#[test]
fn select_readable_on_pending_accept() {
    let n = two_hosts(Sim::new());
    let l = listen_any(&n);
    n.server
        .run(|| assert_eq!(select_read(&[l], Some(tv(0, 0))).0, 0));
    connect_client(&n);
    n.server.run(|| {
        assert_eq!(select_read(&[l], Some(tv(0, 0))), (1, vec![l]));
        accept_one(l);
        assert_eq!(select_read(&[l], Some(tv(0, 0))).0, 0);
    });
}

#[test]
fn select_readable_on_graceful_close() {
    let n = two_hosts(Sim::new());
    let (_l, s, c) = connect_pair(&n);
    n.client
        .run(|| assert_eq!(unsafe { shutdown(c, SD_SEND) }, 0));
    n.sim.run();
    n.server.run(|| {
        assert_eq!(select_read(&[s], Some(tv(0, 0))), (1, vec![s]));
        assert_eq!(recv_n(s, 8, 0), (0, vec![]));
    });
}

#[test]
fn select_writable_when_connected() {
    let n = two_hosts(Sim::new());
    listen_any(&n);
    n.client.run(|| {
        let c = connect_started(n.server_ip);
        assert_eq!(select_write_except(c, tv(0, 0)).0, 0);
        // Waits for the connection: writable at 2 ms.
        assert_eq!(select_write_except(c, tv(5, 0)), (1, vec![c], vec![]));
    });
    assert_eq!(n.sim.now(), ms(2));
}

#[test]
fn select_exceptfds_on_a_refused_nonblocking_connect() {
    let n = two_hosts(Sim::new());
    n.client.run(|| {
        let c = connect_started(n.server_ip);
        assert_eq!(select_write_except(c, tv(5, 0)), (1, vec![], vec![c]));
    });
    assert_eq!(n.sim.now(), ms(2));
}

/// win (sock.c test_select): after select reports the failed connect, SO_ERROR holds its
/// error.
#[test]
fn select_refused_connect_leaves_the_error_in_so_error() {
    let n = two_hosts(Sim::new());
    n.client.run(|| unsafe {
        let c = connect_started(n.server_ip);
        let mut x = fd_set(&[c]);
        let t = tv(5, 0);
        assert_eq!(
            select(0, std::ptr::null_mut(), std::ptr::null_mut(), &mut x, &t),
            1
        );
        let mut err = -7i32;
        assert_eq!(get_opt(c, SO_ERROR, &mut err), (0, 4));
        assert_eq!(err, WSAECONNREFUSED);
    });
}

#[test]
fn select_with_every_set_empty_fails_einval() {
    started(|| unsafe {
        let t = tv(0, 0);
        WSASetLastError(BEEF);
        let r = select(
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &t,
        );
        assert_fails(r, WSAEINVAL);
        let (mut a, mut b, mut c) = (fd_set(&[]), fd_set(&[]), fd_set(&[]));
        WSASetLastError(BEEF);
        assert_fails(select(0, &mut a, &mut b, &mut c, &t), WSAEINVAL);
        // Also without a timeout: it fails rather than waiting forever.
        assert_fails(
            select(0, &mut a, &mut b, &mut c, std::ptr::null()),
            WSAEINVAL,
        );
    });
}

#[test]
fn select_with_a_closed_socket_fails_enotsock() {
    started(|| unsafe {
        let live = udp();
        let dead = tcp();
        assert_eq!(closesocket(dead), 0);
        let t = tv(0, 0);
        let mut r = fd_set(&[dead]);
        WSASetLastError(BEEF);
        assert_fails(
            select(0, &mut r, std::ptr::null_mut(), std::ptr::null_mut(), &t),
            WSAENOTSOCK,
        );
        // Next to a ready socket (a UDP socket is writable) it still fails.
        let mut w = fd_set(&[live, dead]);
        assert_fails(
            select(0, std::ptr::null_mut(), &mut w, std::ptr::null_mut(), &t),
            WSAENOTSOCK,
        );
    });
}

#[test]
fn select_timeout_zero_returns_0_immediately() {
    let n = two_hosts(Sim::new());
    let (_l, s, _c) = connect_pair(&n);
    let before = n.sim.now();
    n.server
        .run(|| assert_eq!(select_read(&[s], Some(tv(0, 0))), (0, vec![])));
    assert_eq!(n.sim.now(), before);
    let ev = n.sim.trace().calls("select").last().cloned().unwrap();
    assert_eq!(ev.blocked, Duration::ZERO);
}

#[test]
fn select_timeout_one_second_returns_0_after_exactly_one_second() {
    let n = two_hosts(Sim::new());
    let (_l, s, _c) = connect_pair(&n);
    assert_eq!(n.sim.now(), ms(2));
    n.server
        .run(|| assert_eq!(select_read(&[s], Some(tv(1, 0))), (0, vec![])));
    assert_eq!(n.sim.now(), ms(1002));
    let ev = n.sim.trace().calls("select").last().cloned().unwrap();
    assert_eq!(ev.blocked, Duration::from_secs(1));
}

/// TH-4: select with no timeout and nothing that can become ready is a deadlock.
#[test]
#[should_panic(expected = "deadlock")]
fn th_4_select_without_timeout_and_nothing_pending_panics_deadlock() {
    started(|| select_read(&[tcp_listener(&sockaddr(ANY, PORT), 5)], None));
}

// =============================================================================================
// 6. TH-3 and TH-4

/// TH-3: virtual time moves only when a call waits.
#[test]
fn th_3_virtual_time_only_moves_when_a_call_waits() {
    let n = two_hosts(Sim::new());
    let l = listen_any(&n);
    n.server.run(|| unsafe {
        set_nonblocking(l, true);
        for _ in 0..50 {
            assert_invalid_socket(
                accept(l, std::ptr::null_mut(), std::ptr::null_mut()),
                WSAEWOULDBLOCK,
            );
        }
    });
    let c = n.client.run(|| unsafe {
        let c = connect_started(n.server_ip);
        for _ in 0..50 {
            assert_fails(connect_to(c, n.server_ip, PORT), WSAEALREADY);
            let mut w = fd_set(&[c]);
            let t = tv(0, 0);
            assert_eq!(
                select(0, std::ptr::null_mut(), &mut w, std::ptr::null_mut(), &t),
                0
            );
            let e = event();
            assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
            assert_eq!(WSACloseEvent(e), TRUE);
        }
        c
    });
    assert_eq!(n.sim.now(), Duration::ZERO);
    let trace = n.sim.trace();
    assert!(trace.events().len() > 250);
    assert!(trace
        .events()
        .iter()
        .all(|e| e.time == Duration::ZERO && e.blocked == Duration::ZERO));
    // The SYN was in flight all along; delivering it takes the link's time.
    n.sim.run();
    assert_eq!(n.sim.now(), ms(2));
    n.server.run(|| accept_one(l));
    n.client.run(|| assert_eq!(peer(c), v4(n.server_ip, PORT)));
    assert_eq!(n.sim.now(), ms(2));
}

/// TH-4 and TH-6: a blocking recv that nothing can complete panics at once with a report
/// naming the call, the process and the seed.
#[test]
fn th_4_deadlock_report_names_thread_call_and_seed() {
    let sim = Sim::builder().seed(42).build();
    let server_host = sim.host("server");
    let server = server_host.process("echo-server");
    let client = sim.host("client").process("client");
    let l = server.run(|| {
        startup_2_2();
        tcp_listener(&sockaddr(ANY, PORT), 5)
    });
    client.run(|| {
        startup_2_2();
        tcp_connected(&sockaddr(server_host.addr(), PORT))
    });
    let s = server.run(|| accept_one(l));
    let before = sim.now();
    let panic = catch_unwind(AssertUnwindSafe(|| server.run(|| recv_n(s, 16, 0))))
        .expect_err("a recv nothing can complete must panic");
    let msg = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("the panic carries a message");
    for needle in ["deadlock", "recv", "echo-server", "seed 42"] {
        assert!(msg.contains(needle), "{needle:?} missing from: {msg}");
    }
    assert_eq!(sim.now(), before, "no time passed: nothing was pending");
}

// ---------------------------------------------------------------------------------------------
// PL-1, PL-2: WSAPoll

/// WSAPoll on `fds` with `timeout` ms: (result, last error, each entry's revents).
fn poll(fds: &mut [WSAPOLLFD], timeout: i32) -> (i32, i32, Vec<i16>) {
    unsafe {
        WSASetLastError(0);
        let r = WSAPoll(fds.as_mut_ptr(), fds.len() as u32, timeout);
        (
            r,
            WSAGetLastError(),
            fds.iter().map(|f| f.revents).collect(),
        )
    }
}

fn pollfd(fd: SOCKET, events: i16) -> WSAPOLLFD {
    WSAPOLLFD {
        fd,
        events,
        revents: 0x7777,
    }
}

#[test]
fn pl_1_wsapoll_reports_requested_events_errors_and_timeouts() {
    let sim = Sim::new();
    let pair = tcp_pair(&sim, 7900, 65536);
    pair.server.run(|| {
        // Connected, nothing to read: writable only; a negative fd is ignored.
        let mut fds = [
            pollfd(pair.s, POLLRDNORM | POLLWRNORM),
            pollfd(INVALID_SOCKET, POLLRDNORM),
        ];
        assert_eq!(poll(&mut fds, 0), (1, 0, vec![POLLWRNORM, 0]));
        // Nothing requested that holds: 0 after the timeout, in virtual time.
        let t0 = pair.sim.now();
        let mut fds = [pollfd(pair.s, POLLRDNORM)];
        assert_eq!(poll(&mut fds, 25), (0, 0, vec![0]));
        assert_eq!(pair.sim.now() - t0, std::time::Duration::from_millis(25));
        // Unsupported flags and a NULL array.
        for bad in [POLLPRI, POLLWRBAND, POLLERR] {
            let mut fds = [pollfd(pair.s, bad)];
            let (r, e, _) = poll(&mut fds, 0);
            assert_eq!((r, e), (SOCKET_ERROR, WSAEINVAL), "events {bad:#x}");
        }
        unsafe {
            assert_eq!(WSAPoll(std::ptr::null_mut(), 1, 0), SOCKET_ERROR);
            assert_eq!(WSAGetLastError(), WSAEFAULT);
        }
    });
    // Data arrives: a waiting poll wakes with POLLRDNORM.
    pair.client.run(|| send_all(pair.c, b"xyz"));
    pair.server.run(|| {
        let mut fds = [pollfd(pair.s, POLLRDNORM)];
        assert_eq!(poll(&mut fds, -1), (1, 0, vec![POLLRDNORM]));
        assert_eq!(recv_n(pair.s, 8, 0), (3, b"xyz".to_vec()));
    });
    // The peer closes gracefully: readable (recv returns the rest, then 0) and POLLHUP.
    pair.client
        .run(|| unsafe { assert_eq!(closesocket(pair.c), 0) });
    pair.server.run(|| {
        let mut fds = [pollfd(pair.s, POLLRDNORM)];
        assert_eq!(poll(&mut fds, -1), (1, 0, vec![POLLRDNORM | POLLHUP]));
    });
    let ev = &events_of(&sim, "WSAPoll", &pair.server)[0];
    assert!(ev.rules.contains(&ws2sim::Rule::Pl1), "{ev}");
}

#[test]
fn pl_2_failed_connect_and_socket_closed_by_another_thread() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        // A refused connect: POLLHUP | POLLERR, and SO_ERROR holds the error.
        let s = tcp();
        set_nonblocking(s, true);
        let nobody = sockaddr(Ipv4Addr::new(10, 0, 0, 1), 7901);
        assert_eq!(connect(s, name_ptr(&nobody), 16), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAEWOULDBLOCK);
        let mut fds = [pollfd(s, POLLWRNORM)];
        assert_eq!(poll(&mut fds, -1), (1, 0, vec![POLLHUP | POLLERR]));
        let mut err = 0i32;
        assert_eq!(get_opt(s, SO_ERROR, &mut err), (0, 4));
        assert_eq!(err, WSAECONNREFUSED);
        // A socket closed in another thread wakes the poll with POLLNVAL.
        let u = udp_bound(&sockaddr(Ipv4Addr::LOCALHOST, 7902));
        let closer = ws2sim::thread::spawn(move || {
            ws2sim::thread::sleep(std::time::Duration::from_millis(10));
            closesocket(u)
        });
        let mut fds = [pollfd(u, POLLRDNORM)];
        assert_eq!(poll(&mut fds, -1), (1, 0, vec![POLLNVAL]));
        assert_eq!(closer.join(), 0);
        assert_eq!(WSACleanup(), 0);
    });
}
