//! Socket options through the `sys` layer: the levels and value types (OP-1), the receive
//! and send timeouts in virtual time (OP-2), address sharing at bind (OP-4), `SO_ERROR` and
//! broadcast (OP-6). Every failing call is checked for its return value and its last error.

use std::net::Ipv4Addr;
use std::time::Duration;

use ws2sim::sys::*;
use ws2sim::Sim;

mod common;
use common::*;

const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

/// A return value that tells whether the call failed.
trait Outcome {
    fn failed(&self) -> bool;
}
impl Outcome for i32 {
    fn failed(&self) -> bool {
        *self == SOCKET_ERROR
    }
}
impl Outcome for SOCKET {
    fn failed(&self) -> bool {
        *self == INVALID_SOCKET
    }
}
impl Outcome for (i32, Vec<u8>) {
    fn failed(&self) -> bool {
        self.0 == SOCKET_ERROR
    }
}

/// Runs `f` with the last error preset to [`BEEF`]: its result and, when it failed, the last
/// error after it (0 when it succeeded: Windows leaves the last error alone then).
fn res<T: Outcome>(f: impl FnOnce() -> T) -> (T, i32) {
    let (r, e) = last_error_after(f);
    let e = if r.failed() { e } else { 0 };
    (r, e)
}

/// `setsockopt(s, level, name, bytes)`: (return value, last error after it).
fn set(s: SOCKET, level: i32, name: i32, bytes: &[u8]) -> (i32, i32) {
    res(|| unsafe { setsockopt(s, level, name, bytes.as_ptr(), bytes.len() as i32) })
}

/// `getsockopt(s, level, name)` into `cap` bytes of 0xee: (return value, last error after it,
/// the bytes `optlen` reports (all of them on failure), `optlen` after).
fn get(s: SOCKET, level: i32, name: i32, cap: usize) -> (i32, i32, Vec<u8>, i32) {
    let mut buf = vec![0xeeu8; cap];
    let mut len = cap as i32;
    let (r, e) = res(|| unsafe { getsockopt(s, level, name, buf.as_mut_ptr(), &mut len) });
    if r == 0 {
        buf.truncate(len.max(0) as usize);
    }
    (r, e, buf, len)
}

/// A successful 4-byte `getsockopt`: the DWORD.
#[track_caller]
fn get_u32(s: SOCKET, level: i32, name: i32) -> u32 {
    let (r, e, buf, len) = get(s, level, name, 4);
    assert_eq!((r, e, len), (0, 0, 4), "getsockopt({level}, {name:#x})");
    u32::from_ne_bytes(buf.try_into().unwrap())
}

/// Asserts `setsockopt` with a DWORD succeeds and clears the last error.
#[track_caller]
fn set_u32(s: SOCKET, level: i32, name: i32, v: u32) {
    assert_eq!(
        set(s, level, name, &v.to_ne_bytes()),
        (0, 0),
        "{level}, {name:#x}"
    );
}

const FAIL: i32 = SOCKET_ERROR;

// ---------------------------------------------------------------------------------------------
// OP-1

#[test]
fn op_1_sol_socket_bools_round_trip_as_4_byte_bools() {
    started(|| {
        for name in [
            SO_REUSEADDR,
            SO_EXCLUSIVEADDRUSE,
            SO_BROADCAST,
            SO_OOBINLINE,
        ] {
            let s = udp();
            assert_eq!(get_u32(s, SOL_SOCKET, name), 0, "{name:#x} default");
            set_u32(s, SOL_SOCKET, name, 7);
            assert_eq!(get_u32(s, SOL_SOCKET, name), 1, "{name:#x} set");
            set_u32(s, SOL_SOCKET, name, 0);
            assert_eq!(get_u32(s, SOL_SOCKET, name), 0, "{name:#x} cleared");
        }
    });
}

#[test]
fn op_1_a_bool_option_accepts_a_1_byte_or_4_byte_value() {
    started(|| {
        let s = tcp();
        assert_eq!(set(s, SOL_SOCKET, SO_BROADCAST, &[1]), (0, 0));
        assert_eq!(get_u32(s, SOL_SOCKET, SO_BROADCAST), 1);
        assert_eq!(
            set(s, SOL_SOCKET, SO_BROADCAST, &0u32.to_ne_bytes()),
            (0, 0)
        );
        assert_eq!(get_u32(s, SOL_SOCKET, SO_BROADCAST), 0);
        for (level, name) in [(SOL_SOCKET, SO_KEEPALIVE), (IPPROTO_TCP, TCP_NODELAY)] {
            assert_eq!(set(s, level, name, &[1]), (0, 0), "{name:#x} 1 byte");
            assert_eq!(get(s, level, name, 4), (0, 0, vec![1], 1));
            assert_eq!(set(s, level, name, &0u32.to_ne_bytes()), (0, 0));
            assert_eq!(get(s, level, name, 4), (0, 0, vec![0], 1));
            assert_eq!(set(s, level, name, &1u32.to_ne_bytes()), (0, 0));
            assert_eq!(get(s, level, name, 4), (0, 0, vec![1], 1));
        }
    });
}

#[test]
fn op_1_tcp_nodelay_round_trips_as_bool() {
    started(|| {
        let s = tcp();
        assert_eq!(get(s, IPPROTO_TCP, TCP_NODELAY, 4), (0, 0, vec![0], 1));
        assert_eq!(
            set(s, IPPROTO_TCP, TCP_NODELAY, &1u32.to_ne_bytes()),
            (0, 0)
        );
        assert_eq!(get(s, IPPROTO_TCP, TCP_NODELAY, 4), (0, 0, vec![1], 1));
        // One byte is read: 0x100 is FALSE (win).
        assert_eq!(
            set(s, IPPROTO_TCP, TCP_NODELAY, &0x100u32.to_ne_bytes()),
            (0, 0)
        );
        assert_eq!(get(s, IPPROTO_TCP, TCP_NODELAY, 4), (0, 0, vec![0], 1));
        assert_eq!(set(s, IPPROTO_TCP, TCP_NODELAY, &[]), (FAIL, WSAEFAULT));
    });
}

#[test]
fn op_1_sol_socket_dwords_round_trip() {
    started(|| {
        let s = tcp();
        assert_eq!(get_u32(s, SOL_SOCKET, SO_RCVBUF), 65536);
        assert_eq!(get_u32(s, SOL_SOCKET, SO_SNDBUF), 65536);
        assert_eq!(get_u32(s, SOL_SOCKET, SO_RCVTIMEO), 0);
        assert_eq!(get_u32(s, SOL_SOCKET, SO_SNDTIMEO), 0);
        for (name, v) in [(SO_RCVBUF, 1000), (SO_SNDBUF, 2000), (SO_RCVTIMEO, 300)] {
            set_u32(s, SOL_SOCKET, name, v);
            assert_eq!(get_u32(s, SOL_SOCKET, name), v);
        }
        set_u32(s, SOL_SOCKET, SO_SNDTIMEO, 400);
        assert_eq!(get_u32(s, SOL_SOCKET, SO_SNDTIMEO), 400);
        assert_eq!(set(s, SOL_SOCKET, SO_RCVTIMEO, &[1, 0]), (FAIL, WSAEFAULT));
        let (r, e, _, _) = get(s, SOL_SOCKET, SO_SNDTIMEO, 2);
        assert_eq!((r, e), (FAIL, WSAEFAULT));
    });
}

#[test]
fn op_1_read_only_sol_socket_options_answer_with_windows_types() {
    started(|| unsafe {
        let l = tcp_listener(&sockaddr(ANY, 7100), 5);
        let u = udp();
        assert_eq!(get_u32(l, SOL_SOCKET, SO_TYPE), SOCK_STREAM as u32);
        assert_eq!(get_u32(u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM as u32);
        assert_eq!(get_u32(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
        assert_eq!(get_u32(u, SOL_SOCKET, SO_ACCEPTCONN), 0);
        assert_eq!(get_u32(u, SOL_SOCKET, SO_ERROR), 0);
        let one = 1u32.to_ne_bytes();
        assert_eq!(
            set(l, SOL_SOCKET, SO_ACCEPTCONN, &one),
            (FAIL, WSAENOPROTOOPT)
        );
        let mut info: WSAPROTOCOL_INFOW = std::mem::zeroed();
        let mut len = INFO_SIZE as i32;
        let r = getsockopt(
            u,
            SOL_SOCKET,
            SO_PROTOCOL_INFOW,
            (&raw mut info).cast(),
            &mut len,
        );
        assert_eq!((r, len, info.iProtocol), (0, INFO_SIZE as i32, IPPROTO_UDP));
        let mut len = 4;
        let r = getsockopt(
            u,
            SOL_SOCKET,
            SO_PROTOCOL_INFOW,
            (&raw mut info).cast(),
            &mut len,
        );
        assert_eq!(
            (r, WSAGetLastError(), len),
            (FAIL, WSAEFAULT, INFO_SIZE as i32)
        );
        set_linger(l, 1, 9);
        assert_eq!(get_u32(l, SOL_SOCKET, SO_DONTLINGER), 0);
        set_u32(l, SOL_SOCKET, SO_DONTLINGER, 1);
        let g = get_linger(l);
        assert_eq!((g.l_onoff, g.l_linger), (0, 9));
    });
}

#[test]
fn op_1_tcp_keepalive_times_round_trip_as_dwords() {
    started(|| {
        let s = tcp();
        assert_eq!(TCP_KEEPIDLE, TCP_KEEPALIVE);
        assert_eq!(get_u32(s, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
        assert_eq!(get_u32(s, IPPROTO_TCP, TCP_KEEPINTVL), 1);
        assert_eq!(get_u32(s, IPPROTO_TCP, TCP_KEEPCNT), 10);
        for (name, v) in [(TCP_KEEPALIVE, 60), (TCP_KEEPINTVL, 5), (TCP_KEEPCNT, 3)] {
            set_u32(s, IPPROTO_TCP, name, v);
            assert_eq!(get_u32(s, IPPROTO_TCP, name), v);
        }
        let big = 256u32.to_ne_bytes();
        assert_eq!(set(s, IPPROTO_TCP, TCP_KEEPCNT, &big), (FAIL, WSAEINVAL));
        assert_eq!(set(s, IPPROTO_TCP, TCP_KEEPINTVL, &[5]), (FAIL, WSAEFAULT));
    });
}

#[test]
fn op_1_ip_options_round_trip_with_windows_defaults() {
    started(|| {
        let u = udp();
        let defaults = [
            (IP_TTL, 128),
            (IP_TOS, 0),
            (IP_DONTFRAGMENT, 0),
            (IP_MULTICAST_TTL, 1),
            (IP_MULTICAST_LOOP, 1),
            (IP_MULTICAST_IF, 0),
            (IP_PKTINFO, 0),
        ];
        for (name, v) in defaults {
            assert_eq!(get_u32(u, IPPROTO_IP, name), v, "{name} default");
        }
        let values = [
            (IP_TTL, 64),
            (IP_TOS, 8),
            (IP_DONTFRAGMENT, 1),
            (IP_MULTICAST_TTL, 5),
            (IP_MULTICAST_LOOP, 0),
            (IP_MULTICAST_IF, 0x0200_000a),
            (IP_PKTINFO, 1),
        ];
        for (name, v) in values {
            set_u32(u, IPPROTO_IP, name, v);
            assert_eq!(get_u32(u, IPPROTO_IP, name), v, "{name} set");
        }
        let big = 256u32.to_ne_bytes();
        assert_eq!(set(u, IPPROTO_IP, IP_TTL, &big), (FAIL, WSAEINVAL));
        // IP_TTL reads 1..4 bytes.
        assert_eq!(set(u, IPPROTO_IP, IP_TTL, &[33]), (0, 0));
        assert_eq!(get(u, IPPROTO_IP, IP_TTL, 1), (0, 0, vec![33], 1));
        // The multicast options are for datagram sockets.
        let s = tcp();
        assert_eq!(get_u32(s, IPPROTO_IP, IP_TTL), 128);
        let (r, e, _, _) = get(s, IPPROTO_IP, IP_MULTICAST_TTL, 4);
        assert_eq!((r, e), (FAIL, WSAENOPROTOOPT));
    });
}

#[test]
fn op_1_ip_memberships_are_set_only_and_checked() {
    started(|| {
        let u = udp();
        let mreq = [239, 1, 2, 3, 0, 0, 0, 0];
        assert_eq!(set(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq), (0, 0));
        let again = set(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq);
        assert_eq!(again, (FAIL, WSAEADDRINUSE));
        assert_eq!(set(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mreq), (0, 0));
        let gone = set(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mreq);
        assert_eq!(gone, (FAIL, WSAEADDRNOTAVAIL));
        let unicast = [10, 0, 0, 1, 0, 0, 0, 0];
        let r = set(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &unicast);
        assert_eq!(r, (FAIL, WSAEINVAL));
        assert_eq!(
            set(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq[..7]),
            (FAIL, WSAEFAULT)
        );
        let src = [239, 1, 2, 3, 10, 0, 0, 2, 0, 0, 0, 0];
        assert_eq!(set(u, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &src), (0, 0));
        assert_eq!(set(u, IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, &src), (0, 0));
        let short = set(u, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &mreq);
        assert_eq!(short, (FAIL, WSAEFAULT));
        let (r, e, _, _) = get(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, 8);
        assert_eq!((r, e), (FAIL, WSAENOPROTOOPT));
    });
}

#[test]
fn op_1_unknown_option_fails_wsaenoprotoopt() {
    started(|| {
        let one = 1u32.to_ne_bytes();
        let (s, u) = (tcp(), udp());
        let cases = [
            (s, SOL_SOCKET, 0x7777),
            (s, IPPROTO_TCP, 0x7777),
            (s, IPPROTO_IP, 0x7777),
            (u, IPPROTO_UDP, 1),
            (u, IPPROTO_TCP, TCP_NODELAY), // a TCP option on a datagram socket
        ];
        for (sock, level, name) in cases {
            let r = set(sock, level, name, &one);
            assert_eq!(r, (FAIL, WSAENOPROTOOPT), "set {level}, {name:#x}");
            let (r, e, _, _) = get(sock, level, name, 4);
            assert_eq!((r, e), (FAIL, WSAENOPROTOOPT), "get {level}, {name:#x}");
        }
    });
}

/// Divergence: SPEC OP-1 says WSAENOPROTOOPT; Windows (Wine's test_set_getsockopt) and the
/// simulator fail an unknown level WSAEINVAL.
#[test]
fn op_1_unknown_level_fails_wsaeinval_as_windows_does() {
    started(|| {
        let one = 1u32.to_ne_bytes();
        let s = tcp();
        for level in [0x8000, -1, 0x1234_5678] {
            assert_eq!(
                set(s, level, 1, &one),
                (FAIL, WSAEINVAL),
                "set level {level:#x}"
            );
            let (r, e, _, _) = get(s, level, 1, 4);
            assert_eq!((r, e), (FAIL, WSAEINVAL), "get level {level:#x}");
        }
    });
}

/// Divergence: there are no AF_INET6 sockets yet, so IPPROTO_IPV6 is a level an IPv4 socket
/// does not know: WSAEINVAL.
#[test]
fn op_1_ipv6_level_on_an_ipv4_socket_fails_wsaeinval() {
    started(|| {
        let one = 1u32.to_ne_bytes();
        let u = udp();
        for name in [
            IPV6_V6ONLY,
            IPV6_UNICAST_HOPS,
            IPV6_MULTICAST_LOOP,
            IPV6_PKTINFO,
        ] {
            assert_eq!(set(u, IPPROTO_IPV6, name, &one), (FAIL, WSAEINVAL));
            let (r, e, _, _) = get(u, IPPROTO_IPV6, name, 4);
            assert_eq!((r, e), (FAIL, WSAEINVAL));
        }
    });
}

// ---------------------------------------------------------------------------------------------
// OP-2

#[test]
fn op_2_recv_times_out_with_wsaetimedout_after_so_rcvtimeo() {
    let sim = Sim::new();
    let p = tcp_pair_with(&sim, 7200, |_| {});
    p.server.run(|| set_u32(p.s, SOL_SOCKET, SO_RCVTIMEO, 500));
    let before = sim.now();
    let r = p.server.run(|| res(|| recv_n(p.s, 16, 0)));
    assert_eq!(r, ((FAIL, vec![]), WSAETIMEDOUT));
    assert_eq!(sim.now() - before, Duration::from_millis(500));
    // No data lost: what arrives later is there for the next recv.
    p.client.run(|| send_all(p.c, b"late"));
    let r = p.server.run(|| recv_n(p.s, 16, 0));
    assert_eq!(r, (4, b"late".to_vec()));
}

#[test]
fn op_2_recvfrom_times_out_on_a_datagram_socket() {
    let sim = Sim::new();
    let p = sim.localhost().process("t");
    p.run(startup_2_2);
    let u = p.run(|| udp_bound(&sockaddr(ANY, 7201)));
    p.run(|| set_u32(u, SOL_SOCKET, SO_RCVTIMEO, 250));
    let before = sim.now();
    let r = p.run(|| res(|| recv_n(u, 16, 0)));
    assert_eq!(r, ((FAIL, vec![]), WSAETIMEDOUT));
    assert_eq!(sim.now() - before, Duration::from_millis(250));
    // A non-blocking socket does not wait at all.
    p.run(|| set_nonblocking(u, true));
    let before = sim.now();
    let r = p.run(|| res(|| recv_n(u, 16, 0)));
    assert_eq!(r, ((FAIL, vec![]), WSAEWOULDBLOCK));
    assert_eq!(sim.now(), before);
}

#[test]
fn op_2_send_times_out_with_wsaetimedout_after_so_sndtimeo_and_loses_nothing() {
    let sim = Sim::new();
    let p = tcp_pair(&sim, 7202, 1000);
    let data = pattern(200_000);
    p.client.run(|| set_u32(p.c, SOL_SOCKET, SO_SNDTIMEO, 300));
    let before = sim.now();
    let r = p.client.run(|| res(|| send_bytes(p.c, &data)));
    assert_eq!(r, (FAIL, WSAETIMEDOUT));
    assert_eq!(sim.now() - before, Duration::from_millis(300));
    p.client
        .run(|| assert_eq!(unsafe { shutdown(p.c, SD_SEND) }, 0));
    p.server_reads(&data, GRACEFUL);
}

#[test]
fn op_2_zero_timeout_means_recv_waits_for_ever() {
    let sim = Sim::new();
    let p = tcp_pair_with(&sim, 7203, |_| {});
    p.server.run(|| {
        set_u32(p.s, SOL_SOCKET, SO_RCVTIMEO, 100);
        set_u32(p.s, SOL_SOCKET, SO_RCVTIMEO, 0);
    });
    let s = p.s;
    let h = p.server.spawn(move || recv_n(s, 16, 0));
    sim.advance(Duration::from_secs(60));
    assert!(!h.is_finished(), "recv still waiting after 60 s");
    p.client.run(|| send_all(p.c, b"hi"));
    assert_eq!(h.join(), (2, b"hi".to_vec()));
}

// ---------------------------------------------------------------------------------------------
// OP-4

/// `bind(s, 0.0.0.0:port)`: (return value, last error after it).
fn bind_any(s: SOCKET, port: u16) -> (i32, i32) {
    let a = sockaddr(ANY, port);
    res(|| unsafe { bind(s, name_ptr(&a), 16) })
}

#[test]
fn op_4_second_bind_without_reuse_fails_wsaeaddrinuse() {
    started(|| {
        for make in [udp as fn() -> SOCKET, tcp] {
            let (a, b) = (make(), make());
            assert_eq!(bind_any(a, 7300), (0, 0));
            assert_eq!(bind_any(b, 7300), (FAIL, WSAEADDRINUSE));
            // SO_REUSEADDR on the earlier socket only does not help.
            let (c, d) = (make(), make());
            set_u32(c, SOL_SOCKET, SO_REUSEADDR, 1);
            assert_eq!(bind_any(c, 7301), (0, 0));
            assert_eq!(bind_any(d, 7301), (FAIL, WSAEADDRINUSE));
            for s in [a, b, c, d] {
                assert_eq!(unsafe { closesocket(s) }, 0);
            }
        }
    });
}

#[test]
fn op_4_reuseaddr_on_the_later_socket_lets_it_bind() {
    started(|| {
        let (a, b) = (udp(), udp());
        assert_eq!(bind_any(a, 7310), (0, 0));
        set_u32(b, SOL_SOCKET, SO_REUSEADDR, 1);
        assert_eq!(bind_any(b, 7310), (0, 0));
    });
}

#[test]
fn op_4_exclusiveaddruse_on_the_earlier_socket_makes_the_later_bind_fail_wsaeacces() {
    started(|| {
        let (a, b, c) = (udp(), udp(), udp());
        set_u32(a, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1);
        assert_eq!(bind_any(a, 7320), (0, 0));
        set_u32(b, SOL_SOCKET, SO_REUSEADDR, 1);
        assert_eq!(bind_any(b, 7320), (FAIL, WSAEACCES));
        // Without SO_REUSEADDR the later bind fails as it would anyway.
        assert_eq!(bind_any(c, 7320), (FAIL, WSAEADDRINUSE));
    });
}

#[test]
fn op_4_both_options_on_one_socket_fail_wsaeinval() {
    started(|| {
        let one = 1u32.to_ne_bytes();
        let a = udp();
        set_u32(a, SOL_SOCKET, SO_REUSEADDR, 1);
        assert_eq!(
            set(a, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, &one),
            (FAIL, WSAEINVAL)
        );
        assert_eq!(get_u32(a, SOL_SOCKET, SO_EXCLUSIVEADDRUSE), 0, "unchanged");
        let b = udp();
        set_u32(b, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1);
        assert_eq!(set(b, SOL_SOCKET, SO_REUSEADDR, &one), (FAIL, WSAEINVAL));
        assert_eq!(get_u32(b, SOL_SOCKET, SO_REUSEADDR), 0, "unchanged");
        // Setting one FALSE while the other is TRUE is fine.
        set_u32(b, SOL_SOCKET, SO_REUSEADDR, 0);
    });
}

/// sim: of two sockets sharing a port, the one bound last receives.
#[test]
fn op_4_the_socket_bound_last_receives() {
    started(|| {
        let (a, b, tx) = (udp(), udp(), udp());
        assert_eq!(bind_any(a, 7330), (0, 0));
        set_u32(b, SOL_SOCKET, SO_REUSEADDR, 1);
        assert_eq!(bind_any(b, 7330), (0, 0));
        let to = sockaddr(Ipv4Addr::LOCALHOST, 7330);
        assert_eq!(send_to(tx, b"one", &to), 3);
        assert_eq!(recv_n(b, 16, 0), (3, b"one".to_vec()));
        set_nonblocking(a, true);
        assert_eq!(res(|| recv_n(a, 16, 0)), ((FAIL, vec![]), WSAEWOULDBLOCK));
        // Streams: the listener bound last takes the connection.
        let l1 = tcp_listener(&sockaddr(ANY, 7331), 5);
        let l2 = tcp();
        set_u32(l2, SOL_SOCKET, SO_REUSEADDR, 1);
        assert_eq!(bind_any(l2, 7331), (0, 0));
        assert_eq!(unsafe { listen(l2, 5) }, 0);
        let _c = tcp_connected(&sockaddr(Ipv4Addr::LOCALHOST, 7331));
        set_nonblocking(l1, true);
        let r = res(|| unsafe { accept(l1, std::ptr::null_mut(), std::ptr::null_mut()) });
        assert_eq!(r, (INVALID_SOCKET, WSAEWOULDBLOCK));
        accept_one(l2);
    });
}

// ---------------------------------------------------------------------------------------------
// OP-6

#[test]
fn op_6_so_error_is_cleared_by_reading() {
    let n = two_hosts(Sim::new());
    let c = n.client.run(|| {
        let c = tcp();
        set_nonblocking(c, true);
        let a = sockaddr(n.server_ip, 7400);
        let r = res(|| unsafe { connect(c, name_ptr(&a), 16) });
        assert_eq!(r, (FAIL, WSAEWOULDBLOCK));
        c
    });
    n.sim.run(); // the RST comes back: the connect failed
    n.client.run(|| {
        assert_eq!(get_u32(c, SOL_SOCKET, SO_ERROR), WSAECONNREFUSED as u32);
        assert_eq!(
            get_u32(c, SOL_SOCKET, SO_ERROR),
            0,
            "cleared by the first read"
        );
        assert_eq!(get_u32(c, SOL_SOCKET, SO_ERROR), 0, "and stays cleared");
    });
    // A new failed connect, on another socket, has its own pending error.
    let d = n.client.run(|| {
        let d = tcp();
        set_nonblocking(d, true);
        let a = sockaddr(n.server_ip, 7401);
        let r = res(|| unsafe { connect(d, name_ptr(&a), 16) });
        assert_eq!(r, (FAIL, WSAEWOULDBLOCK));
        d
    });
    n.sim.run();
    n.client.run(|| {
        assert_eq!(get_u32(d, SOL_SOCKET, SO_ERROR), WSAECONNREFUSED as u32);
        assert_eq!(get_u32(c, SOL_SOCKET, SO_ERROR), 0);
    });
}

#[test]
fn op_6_so_error_set_by_setsockopt_is_cleared_by_reading() {
    started(|| {
        let s = tcp();
        set_u32(s, SOL_SOCKET, SO_ERROR, 1234);
        assert_eq!(get_u32(s, SOL_SOCKET, SO_ERROR), 1234);
        assert_eq!(get_u32(s, SOL_SOCKET, SO_ERROR), 0);
    });
}

#[test]
fn op_6_broadcast_without_so_broadcast_fails_wsaeacces() {
    started(|| {
        let u = udp();
        for ip in [Ipv4Addr::BROADCAST, Ipv4Addr::new(10, 0, 0, 255)] {
            let to = sockaddr(ip, 7410);
            assert_eq!(res(|| send_to(u, b"x", &to)), (FAIL, WSAEACCES));
        }
        // A unicast datagram needs no SO_BROADCAST.
        let to = sockaddr(Ipv4Addr::LOCALHOST, 7410);
        assert_eq!(res(|| send_to(u, b"x", &to)), (1, 0));
    });
}

#[test]
fn op_6_broadcast_with_so_broadcast_reaches_every_host() {
    let n = two_hosts(Sim::new());
    let rx_server = n.server.run(|| udp_bound(&sockaddr(ANY, 7420)));
    let (tx, rx_client) = n.client.run(|| {
        let rx = udp_bound(&sockaddr(ANY, 7420));
        let tx = udp();
        set_u32(tx, SOL_SOCKET, SO_BROADCAST, 1);
        let to = sockaddr(Ipv4Addr::BROADCAST, 7420);
        assert_eq!(res(|| send_to(tx, b"all", &to)), (3, 0));
        (tx, rx)
    });
    n.sim.run();
    let got = n.server.run(|| recv_n(rx_server, 16, 0));
    assert_eq!(got, (3, b"all".to_vec()));
    n.client.run(|| {
        assert_eq!(recv_n(rx_client, 16, 0), (3, b"all".to_vec()));
        let _ = tx;
    });
}

/// Divergence (documented on `op_6`): multicast datagrams are not delivered, even to a
/// member of the group on the sending host.
#[test]
fn op_6_multicast_is_not_delivered_divergence() {
    started(|| {
        let rx = udp_bound(&sockaddr(ANY, 7430));
        let mreq = [239, 1, 2, 3, 0, 0, 0, 0];
        assert_eq!(set(rx, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq), (0, 0));
        let tx = udp();
        let to = sockaddr(Ipv4Addr::new(239, 1, 2, 3), 7430);
        assert_eq!(res(|| send_to(tx, b"m", &to)), (1, 0));
        set_nonblocking(rx, true);
        let r = res(|| recv_n(rx, 16, 0));
        assert_eq!(r, ((FAIL, vec![]), WSAEWOULDBLOCK));
    });
}

#[test]
fn op_1_so_rcvbuf_0_still_delivers_into_a_waiting_blocking_recv() {
    let sim = ws2sim::Sim::new();
    let pair = tcp_pair(&sim, 7990, 0);
    let reader = pair.server.spawn(move || recv_n(pair.s, 16, 0));
    pair.client
        .run(|| assert_eq!(send_bytes(pair.c, b"hello"), 5));
    // With no receive buffer the data goes into the waiting call's buffer (as on Windows).
    assert_eq!(reader.join(), (5, b"hello".to_vec()));
    // With no call waiting, nothing is buffered: a non-blocking recv would block.
    pair.client
        .run(|| assert_eq!(send_bytes(pair.c, b"again"), 5));
    sim.advance(std::time::Duration::from_millis(20));
    pair.server.run(|| {
        set_nonblocking(pair.s, true);
        assert_eq!(recv_n(pair.s, 16, 0), (SOCKET_ERROR, Vec::new()));
        assert_eq!(unsafe { WSAGetLastError() }, WSAEWOULDBLOCK);
        set_nonblocking(pair.s, false);
        assert_eq!(recv_n(pair.s, 16, 0), (5, b"again".to_vec()));
    });
}
