//! SD-1..SD-12: WSASendDisconnect (seed 004), WSARecvDisconnect and shutdown, observed on both
//! ends of a connection between two simulated hosts.
//!
//! Every connection is made the same way: the server listens on `server:7000`, the client
//! connects (blocking: one round trip of virtual time), the server accepts. TCP is the built-in
//! provider without disconnect data; protocol 253 is the built-in stream provider with
//! XP1_DISCONNECT_DATA (at most `MAX_DISCONNECT_DATA` bytes per direction).

use std::net::Ipv4Addr;
use std::ptr::{addr_of_mut, null, null_mut};

use ws2sim::sys::*;
use ws2sim::{Profile, Sim, MAX_DISCONNECT_DATA};

mod common;
use common::*;

const PORT: u16 = 7000;
const UDP_PORT: u16 = 9000;
const SA_LEN: i32 = std::mem::size_of::<SOCKADDR_IN>() as i32;
const DISC: i32 = IPPROTO_WS2SIM_DISCONNECT_DATA;

/// A stream connection with `protocol` (IPPROTO_TCP or the disconnect-data provider) in `sim`;
/// the listener is closed once the connection is accepted.
fn conn_in(sim: Sim, protocol: i32) -> Pair {
    let k = stream_pair(&sim, PORT, protocol, |_| {});
    k.server
        .run(|| assert_eq!(unsafe { closesocket(k.listener) }, 0));
    k
}

fn tcp_conn() -> Pair {
    conn_in(Sim::new(), IPPROTO_TCP)
}

fn disc_conn() -> Pair {
    conn_in(Sim::new(), DISC)
}

/// [`Hosts`] in a new `Sim`, and the address `server:UDP_PORT` for a UDP socket of the server.
fn udp_hosts() -> (Hosts, SOCKADDR_IN) {
    let h = two_hosts(Sim::new());
    let addr = sockaddr(h.server_ip, UDP_PORT);
    (h, addr)
}

/// `recv(s)` of up to 64 bytes with the last error preset: (result, last error after it).
fn recv_err(s: SOCKET) -> (i32, i32) {
    last_error_after(|| recv_n(s, 64, 0).0)
}

/// `send(s, data)` with the last error preset: (result, last error after it).
fn send_err(s: SOCKET, data: &[u8]) -> (i32, i32) {
    last_error_after(|| send_bytes(s, data))
}

/// Asserts the connection of `s` was reset: send and recv both fail WSAECONNRESET.
#[track_caller]
fn assert_reset(s: SOCKET) {
    assert_eq!(send_err(s, b"x"), (SOCKET_ERROR, WSAECONNRESET));
    assert_eq!(recv_err(s), (SOCKET_ERROR, WSAECONNRESET));
}

/// Non-blocking from now on, `s` reads exactly `data`, then recv would block: no FIN arrived.
#[track_caller]
fn assert_reads_only(s: SOCKET, data: &[u8]) {
    set_nonblocking(s, true);
    assert_eq!(recv_n(s, 64, 0), (data.len() as i32, data.to_vec()));
    assert_eq!(recv_err(s), (SOCKET_ERROR, WSAEWOULDBLOCK));
}

/// `WSASendDisconnect(s, &WSABUF { data })`.
unsafe fn send_disconnect_data(s: SOCKET, data: &[u8]) -> i32 {
    let mut copy = data.to_vec();
    let b = WSABUF {
        len: copy.len() as u32,
        buf: copy.as_mut_ptr(),
    };
    WSASendDisconnect(s, &b)
}

/// [`send_disconnect_data`] with the last error preset: (result, last error after it).
fn send_disconnect_err(s: SOCKET, data: &[u8]) -> (i32, i32) {
    last_error_after(|| unsafe { send_disconnect_data(s, data) })
}

/// `WSARecvDisconnect(s, &WSABUF { cap bytes prefilled with 0xaa })`: (result, `len` after,
/// the buffer).
unsafe fn recv_disconnect(s: SOCKET, cap: u32) -> (i32, u32, Vec<u8>) {
    let mut buf = vec![0xaa_u8; cap as usize];
    let mut b = WSABUF {
        len: cap,
        buf: buf.as_mut_ptr(),
    };
    let r = WSARecvDisconnect(s, addr_of_mut!(b));
    (r, b.len, buf)
}

/// `WSARecvDisconnect` into 64 bytes; asserts it succeeds and returns exactly `expect` (none:
/// `len` 0): the whole buffer.
#[track_caller]
fn assert_disconnect_data(s: SOCKET, expect: &[u8]) -> Vec<u8> {
    let (r, len, buf) = unsafe { recv_disconnect(s, 64) };
    assert_eq!((r, len), (0, expect.len() as u32));
    assert_eq!(&buf[..expect.len()], expect);
    buf
}

/// A TCP socket made non-blocking, filled until send fails WSAEWOULDBLOCK: the bytes queued.
#[track_caller]
fn fill_until_wouldblock(s: SOCKET) -> usize {
    set_nonblocking(s, true);
    let chunk = vec![0x5a_u8; 256 * 1024];
    let mut total = 0usize;
    loop {
        let (r, e) = send_err(s, &chunk);
        if r == SOCKET_ERROR {
            assert_eq!(e, WSAEWOULDBLOCK);
            return total;
        }
        assert!(r > 0);
        total += r as usize;
        assert!(total < 64 * 1024 * 1024, "the send queue never filled");
    }
}

// ---------------------------------------------------------------------------------------------
// SD-1

#[test]
fn sd_1_send_disconnect_null_is_shutdown_send_and_peer_reads_data_then_zero() {
    let k = tcp_conn();
    k.client.run(|| unsafe {
        assert_eq!(send_bytes(k.c, b"hello"), 5);
        assert_eq!(send_bytes(k.c, b" world"), 6);
        assert_eq!(WSASendDisconnect(k.c, null()), 0);
        assert_eq!(send_err(k.c, b"late"), (SOCKET_ERROR, WSAESHUTDOWN));
        // Still WSAESHUTDOWN on a second try, and for an empty send.
        assert_eq!(send_err(k.c, b""), (SOCKET_ERROR, WSAESHUTDOWN));
    });
    k.server.run(|| {
        // The buffered data first, in pieces, then 0 (and 0 again).
        assert_eq!(recv_n(k.s, 3, 0), (3, b"hel".to_vec()));
        assert_eq!(recv_n(k.s, 64, 0), (8, b"lo world".to_vec()));
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        // Only the client's sending half is closed: the server can still send to it.
        assert_eq!(send_bytes(k.s, b"reply"), 5);
    });
    k.client.run(|| {
        assert_eq!(recv_n(k.c, 64, 0), (5, b"reply".to_vec()));
    });
    assert_no_loss(&k.sim);
}

// ---------------------------------------------------------------------------------------------
// SD-2

#[test]
fn sd_2_disconnect_data_on_tcp_fails_enoprotoopt_and_nothing_changes() {
    let k = tcp_conn();
    k.client.run(|| {
        assert_eq!(
            send_disconnect_err(k.c, b"bye!!"),
            (SOCKET_ERROR, WSAENOPROTOOPT)
        );
        // An empty WSABUF is still non-NULL.
        assert_eq!(
            send_disconnect_err(k.c, b""),
            (SOCKET_ERROR, WSAENOPROTOOPT)
        );
        // The socket can still send.
        assert_eq!(send_bytes(k.c, b"data"), 4);
    });
    k.sim.run();
    // No FIN was sent: the connection is still open.
    k.server.run(|| assert_reads_only(k.s, b"data"));
}

#[test]
fn sd_2_disconnect_data_on_udp_fails_enoprotoopt_and_can_still_send() {
    let (h, addr) = udp_hosts();
    let r = h.server.run(|| udp_bound(&addr));
    h.client.run(|| {
        let u = udp();
        assert_eq!(
            send_disconnect_err(u, b"bye"),
            (SOCKET_ERROR, WSAENOPROTOOPT)
        );
        assert_eq!(send_to(u, b"dgram", &addr), 5);
    });
    h.sim.run();
    h.server.run(|| {
        assert_eq!(fionread(r), 5);
        assert_eq!(recv_n(r, 64, 0), (5, b"dgram".to_vec()));
    });
}

// ---------------------------------------------------------------------------------------------
// SD-3

#[test]
fn sd_3_disconnect_data_travels_with_the_close_and_is_retrieved_once() {
    let k = disc_conn();
    k.client.run(|| unsafe {
        assert_eq!(send_bytes(k.c, b"req"), 3);
        assert_eq!(send_disconnect_data(k.c, b"bye!!"), 0);
        assert_eq!(send_err(k.c, b"x"), (SOCKET_ERROR, WSAESHUTDOWN));
    });
    k.server.run(|| unsafe {
        assert_eq!(recv_n(k.s, 64, 0), (3, b"req".to_vec()));
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        let buf = assert_disconnect_data(k.s, b"bye!!");
        assert!(buf[5..].iter().all(|&b| b == 0xaa), "wrote past the data");
        // Returned once: a second retrieval finds nothing.
        let buf = assert_disconnect_data(k.s, b"");
        assert!(buf.iter().all(|&b| b == 0xaa));
        // The server's sending half is untouched.
        assert_eq!(send_bytes(k.s, b"ok"), 2);
        assert_eq!(WSASendDisconnect(k.s, null()), 0);
    });
    k.client.run(|| {
        assert_eq!(recv_n(k.c, 64, 0), (2, b"ok".to_vec()));
        assert_eq!(recv_n(k.c, 64, 0), (0, vec![]));
        // The server sent no disconnect data.
        assert_disconnect_data(k.c, b"");
    });
    assert_no_loss(&k.sim);
}

#[test]
fn sd_3_disconnect_data_up_to_the_maximum_reaches_the_peer() {
    assert_eq!(MAX_DISCONNECT_DATA, 64);
    let k = disc_conn();
    let data: Vec<u8> = (0..64u8).collect();
    k.client
        .run(|| unsafe { assert_eq!(send_disconnect_data(k.c, &data), 0) });
    k.server.run(|| {
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        assert_disconnect_data(k.s, &data);
    });
}

#[test]
fn sd_3_disconnect_data_after_fd_close() {
    let k = disc_conn();
    let ev = k.server.run(|| select_events(k.s, FD_CLOSE));
    // Nothing happened yet.
    k.server
        .run(|| assert_eq!(wait_one(ev, 0), WSA_WAIT_TIMEOUT));
    let t0 = k.sim.now();
    k.client
        .run(|| unsafe { assert_eq!(send_disconnect_data(k.c, b"later"), 0) });
    k.server.run(|| unsafe {
        // The wait ends when the FIN (with its data) arrives, one link latency later.
        assert_eq!(wait_one(ev, WSA_INFINITE), SIGNALLED);
        assert!(k.sim.now() > t0);
        let (events, codes) = enum_events(k.s, ev);
        assert_eq!(events, FD_CLOSE);
        assert_eq!(codes[FD_CLOSE_BIT as usize], 0);
        assert_disconnect_data(k.s, b"later");
        assert_eq!(recv_disconnect(k.s, 64).1, 0);
        assert_eq!(WSACloseEvent(ev), TRUE);
    });
}

// ---------------------------------------------------------------------------------------------
// SD-4

#[test]
fn sd_4_unconnected_and_listening_stream_sockets_fail_enotconn() {
    started(|| unsafe {
        for protocol in [IPPROTO_TCP, DISC] {
            let s = stream_socket(protocol);
            let fails_enotconn = |state: &str| {
                assert_eq!(
                    last_error_after(|| WSASendDisconnect(s, null())),
                    (SOCKET_ERROR, WSAENOTCONN),
                    "{state}, protocol {protocol}"
                );
            };
            fails_enotconn("fresh");
            // ER-3: the state is checked before the buffer (a NULL buf with a length).
            let bad = WSABUF {
                len: 5,
                buf: null_mut(),
            };
            assert_eq!(
                last_error_after(|| WSASendDisconnect(s, &bad)),
                (SOCKET_ERROR, WSAENOTCONN),
                "fresh, bad buffer, protocol {protocol}"
            );
            let any = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
            assert_eq!(bind(s, name_ptr(&any), SA_LEN), 0);
            fails_enotconn("bound");
            assert_eq!(listen(s, 5), 0);
            fails_enotconn("listening");
            assert_eq!(closesocket(s), 0);
        }
    });
}

#[test]
fn sd_4_udp_send_disconnect_is_shutdown_send() {
    let (h, addr) = udp_hosts();
    let r = h.server.run(|| {
        let r = udp_bound(&addr);
        set_nonblocking(r, true);
        r
    });
    let (u, v) = h.client.run(|| unsafe {
        // Not connected.
        let u = udp();
        assert_eq!(send_to(u, b"one", &addr), 3);
        assert_eq!(WSASendDisconnect(u, null()), 0);
        assert_eq!(
            last_error_after(|| send_to(u, b"two", &addr)),
            (SOCKET_ERROR, WSAESHUTDOWN)
        );
        // Connected.
        let v = udp();
        assert_eq!(connect(v, name_ptr(&addr), SA_LEN), 0);
        assert_eq!(send_bytes(v, b"three"), 5);
        assert_eq!(WSASendDisconnect(v, null()), 0);
        assert_eq!(send_err(v, b"four"), (SOCKET_ERROR, WSAESHUTDOWN));
        assert_eq!(
            last_error_after(|| send_to(v, b"five", &addr)),
            (SOCKET_ERROR, WSAESHUTDOWN)
        );
        // SD-8 on UDP as well.
        assert_eq!(WSASendDisconnect(v, null()), 0);
        (u, v)
    });
    h.sim.run();
    h.server.run(|| {
        // Only the datagrams sent before the shutdowns arrived.
        assert_eq!(recv_n(r, 64, 0), (3, b"one".to_vec()));
        assert_eq!(recv_n(r, 64, 0), (5, b"three".to_vec()));
        assert_eq!(recv_err(r), (SOCKET_ERROR, WSAEWOULDBLOCK));
    });
    h.client.run(|| unsafe {
        assert_eq!(closesocket(u), 0);
        assert_eq!(closesocket(v), 0);
    });
}

// ---------------------------------------------------------------------------------------------
// SD-5

#[test]
fn sd_5_bad_disconnect_buffers_fail_efault_and_nothing_changes() {
    let k = disc_conn();
    k.client.run(|| unsafe {
        let null_buf = WSABUF {
            len: 5,
            buf: null_mut(),
        };
        assert_eq!(
            last_error_after(|| WSASendDisconnect(k.c, &null_buf)),
            (SOCKET_ERROR, WSAEFAULT)
        );
        let too_long = [7u8; MAX_DISCONNECT_DATA + 1];
        assert_eq!(
            send_disconnect_err(k.c, &too_long),
            (SOCKET_ERROR, WSAEFAULT)
        );
        // Nothing changed: the socket can still send.
        assert_eq!(send_bytes(k.c, b"still"), 5);
    });
    k.sim.run();
    k.server.run(|| assert_reads_only(k.s, b"still"));
    // The failed calls left no disconnect data behind: a plain close carries none.
    k.client
        .run(|| unsafe { assert_eq!(WSASendDisconnect(k.c, null()), 0) });
    k.sim.run();
    k.server.run(|| {
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        assert_disconnect_data(k.s, b"");
    });
}

#[test]
fn sd_5_wsasend_and_wsarecv_with_a_null_buffer_array_fail_efault_after_the_socket_checks() {
    let k = tcp_conn();
    k.client.run(|| unsafe {
        let (mut n, mut flags) = (0u32, 0u32);
        assert_eq!(
            last_error_after(|| WSASend(k.c, null(), 1, &mut n, 0, null_mut(), None)),
            (SOCKET_ERROR, WSAEFAULT)
        );
        assert_eq!(
            last_error_after(|| WSARecv(k.c, null_mut(), 1, &mut n, &mut flags, null_mut(), None)),
            (SOCKET_ERROR, WSAEFAULT)
        );
        // The socket checks come first: a handle that is no socket fails WSAENOTSOCK.
        let not_a_socket = k.c + 4096;
        assert_eq!(
            last_error_after(|| WSASend(not_a_socket, null(), 1, &mut n, 0, null_mut(), None)),
            (SOCKET_ERROR, WSAENOTSOCK)
        );
        // Nothing changed: the socket still sends.
        assert_eq!(send_bytes(k.c, b"still"), 5);
    });
    k.sim.run();
    k.server.run(|| assert_reads_only(k.s, b"still"));
}

// ---------------------------------------------------------------------------------------------
// SD-6

#[test]
fn sd_6_never_blocks_with_linger_and_queued_data_and_keeps_the_socket() {
    let k = tcp_conn();
    let queued = k.client.run(|| unsafe {
        set_linger(k.c, 1, 30);
        // Fill the send queue (the server reads nothing yet), then make the socket blocking
        // again: closesocket would now linger up to 30 s.
        let queued = fill_until_wouldblock(k.c);
        set_nonblocking(k.c, false);
        let t0 = k.sim.now();
        assert_eq!(WSASendDisconnect(k.c, null()), 0);
        assert_eq!(k.sim.now(), t0, "WSASendDisconnect took virtual time");
        // The socket is still there.
        assert_eq!(get_linger(k.c), linger(1, 30));
        assert_eq!(so_type(k.c), (0, SOCK_STREAM));
        assert_eq!(send_err(k.c, b"x"), (SOCKET_ERROR, WSAESHUTDOWN));
        queued
    });
    k.server.run(|| {
        // Everything queued arrives, then the close.
        let (got, r, err) = recv_to_end(k.s);
        assert_eq!(got.len(), queued);
        assert_eq!((r, err), GRACEFUL);
    });
    k.client.run(|| unsafe {
        // Still valid until closesocket.
        assert_eq!(get_linger(k.c), linger(1, 30));
        assert_eq!(closesocket(k.c), 0);
        assert_eq!(so_type(k.c).0, SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAENOTSOCK);
    });
    assert_no_loss(&k.sim);
}

// ---------------------------------------------------------------------------------------------
// SD-7

#[test]
fn sd_7_connect_after_send_disconnect_fails_eisconn() {
    let k = tcp_conn();
    k.client.run(|| unsafe {
        assert_eq!(WSASendDisconnect(k.c, null()), 0);
        assert_eq!(
            last_error_after(|| connect(k.c, name_ptr(&k.addr), SA_LEN)),
            (SOCKET_ERROR, WSAEISCONN)
        );
    });
    k.server.run(|| {
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
    });
    k.sim.run();
    k.client.run(|| unsafe {
        // Still after the FIN was delivered.
        assert_eq!(
            last_error_after(|| connect(k.c, name_ptr(&k.addr), SA_LEN)),
            (SOCKET_ERROR, WSAEISCONN)
        );
    });
}

// ---------------------------------------------------------------------------------------------
// SD-8

#[test]
fn sd_8_send_disconnect_and_shutdown_send_twice_return_zero() {
    let k = tcp_conn();
    k.client.run(|| unsafe {
        assert_eq!(send_bytes(k.c, b"abc"), 3);
        assert_eq!(WSASendDisconnect(k.c, null()), 0);
        assert_eq!(WSASendDisconnect(k.c, null()), 0);
        assert_eq!(send_err(k.c, b"x"), (SOCKET_ERROR, WSAESHUTDOWN));
    });
    k.server.run(|| unsafe {
        assert_eq!(send_bytes(k.s, b"de"), 2);
        assert_eq!(shutdown(k.s, SD_SEND), 0);
        assert_eq!(shutdown(k.s, SD_SEND), 0);
        // And the two calls mix.
        assert_eq!(WSASendDisconnect(k.s, null()), 0);
        assert_eq!(send_err(k.s, b"x"), (SOCKET_ERROR, WSAESHUTDOWN));
        // The client's data and one close, as if it had called once.
        assert_eq!(recv_n(k.s, 64, 0), (3, b"abc".to_vec()));
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
    });
    k.client.run(|| {
        assert_eq!(recv_n(k.c, 64, 0), (2, b"de".to_vec()));
        assert_eq!(recv_n(k.c, 64, 0), (0, vec![]));
    });
    assert_no_loss(&k.sim);
}

// ---------------------------------------------------------------------------------------------
// SD-9

#[test]
fn sd_9_recv_disconnect_null_on_tcp_is_shutdown_receive() {
    let k = tcp_conn();
    k.server.run(|| unsafe {
        assert_eq!(WSARecvDisconnect(k.s, null()), 0);
        assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAESHUTDOWN));
        // The sending half is untouched.
        assert_eq!(send_bytes(k.s, b"hi"), 2);
    });
    k.client.run(|| {
        assert_eq!(recv_n(k.c, 64, 0), (2, b"hi".to_vec()));
    });
}

#[test]
fn sd_9_recv_disconnect_with_buffer_on_tcp_fails_enoprotoopt() {
    let k = tcp_conn();
    k.server.run(|| unsafe {
        let ((r, _, _), e) = last_error_after(|| recv_disconnect(k.s, 64));
        assert_eq!((r, e), (SOCKET_ERROR, WSAENOPROTOOPT));
    });
    // Receiving was not shut down: data still arrives and is read.
    k.client.run(|| assert_eq!(send_bytes(k.c, b"more"), 4));
    k.server.run(|| {
        assert_eq!(recv_n(k.s, 64, 0), (4, b"more".to_vec()));
    });
    assert_no_loss(&k.sim);
}

#[test]
fn sd_9_recv_disconnect_buffer_too_small_fails_efault_then_retrieves() {
    let k = disc_conn();
    k.client
        .run(|| unsafe { assert_eq!(send_disconnect_data(k.c, b"0123456789"), 0) });
    k.server.run(|| unsafe {
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        // One byte short.
        let ((r, _, _), e) = last_error_after(|| recv_disconnect(k.s, 9));
        assert_eq!((r, e), (SOCKET_ERROR, WSAEFAULT));
        // A NULL buf with a length.
        let mut bad = WSABUF {
            len: 10,
            buf: null_mut(),
        };
        assert_eq!(
            last_error_after(|| WSARecvDisconnect(k.s, addr_of_mut!(bad))),
            (SOCKET_ERROR, WSAEFAULT)
        );
        // Nothing was consumed and receiving was not shut down by the failures.
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        let (r, len, buf) = recv_disconnect(k.s, 10);
        assert_eq!((r, len), (0, 10));
        assert_eq!(buf, b"0123456789");
        // Now it is shutdown(SD_RECEIVE).
        assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAESHUTDOWN));
    });
}

#[test]
fn sd_9_recv_disconnect_not_connected_fails_enotconn() {
    started(|| unsafe {
        for protocol in [IPPROTO_TCP, DISC] {
            let s = stream_socket(protocol);
            assert_eq!(
                last_error_after(|| WSARecvDisconnect(s, null())),
                (SOCKET_ERROR, WSAENOTCONN),
                "protocol {protocol}"
            );
            assert_eq!(closesocket(s), 0);
        }
    });
}

/// A `WSABUF` in read-only memory: any write through a pointer to it is a segfault.
struct ReadOnly(WSABUF);
// SAFETY: never written (that is the point); the raw pointer inside is NULL.
unsafe impl Sync for ReadOnly {}
static EMPTY: ReadOnly = ReadOnly(WSABUF {
    len: 0,
    buf: null_mut(),
});

/// Issue 12 item 9: `WSARecvDisconnect` wrote the `WSABUF` back even when it failed, so a
/// constant `&WSABUF { len: 0, buf: NULL }` before `WSAStartup` segfaulted (exit 139). It
/// writes back only on success, and only a `len` that changed.
#[test]
fn sd_9_recv_disconnect_writes_the_wsabuf_back_only_when_it_changed() {
    let empty: *const WSABUF = &EMPTY.0;
    let sim = Sim::new();
    sim.localhost().process("app").run(|| unsafe {
        // ER-1: nothing is looked at, nothing written.
        assert_eq!(
            last_error_after(|| WSARecvDisconnect(0x1234, empty)),
            (SOCKET_ERROR, WSANOTINITIALISED)
        );
        startup_2_2();
        assert_eq!(
            last_error_after(|| WSARecvDisconnect(0x1234, empty)),
            (SOCKET_ERROR, WSAENOTSOCK)
        );
        assert_eq!(WSACleanup(), 0);
    });
    // A success that copies nothing leaves `len` 0: nothing to write either.
    let k = disc_conn();
    k.client
        .run(|| unsafe { assert_eq!(shutdown(k.c, SD_SEND), 0) });
    k.server.run(|| unsafe {
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        assert_eq!(WSARecvDisconnect(k.s, empty), 0);
        assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAESHUTDOWN));
    });
    assert_eq!(EMPTY.0.len, 0);
}

// ---------------------------------------------------------------------------------------------
// SD-10

#[test]
fn sd_10_shutdown_with_bad_how_fails_einval() {
    let k = tcp_conn();
    k.client.run(|| unsafe {
        for how in [3, -1, 4, i32::MAX, i32::MIN] {
            assert_eq!(
                last_error_after(|| shutdown(k.c, how)),
                (SOCKET_ERROR, WSAEINVAL),
                "how {how}"
            );
        }
        // Nothing was shut down.
        assert_eq!(send_bytes(k.c, b"ping"), 4);
    });
    k.server.run(|| {
        assert_eq!(recv_n(k.s, 64, 0), (4, b"ping".to_vec()));
        assert_eq!(send_bytes(k.s, b"pong"), 4);
    });
    k.client.run(|| {
        assert_eq!(recv_n(k.c, 64, 0), (4, b"pong".to_vec()));
    });
}

#[test]
fn sd_10_shutdown_unconnected_tcp_fails_enotconn() {
    started(|| unsafe {
        let s = tcp();
        let every_how_fails_enotconn = |state: &str| {
            for how in [SD_RECEIVE, SD_SEND, SD_BOTH] {
                assert_eq!(
                    last_error_after(|| shutdown(s, how)),
                    (SOCKET_ERROR, WSAENOTCONN),
                    "{state}, how {how}"
                );
            }
        };
        every_how_fails_enotconn("fresh");
        let any = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        assert_eq!(bind(s, name_ptr(&any), SA_LEN), 0);
        assert_eq!(listen(s, 5), 0);
        every_how_fails_enotconn("listening");
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn sd_10_after_shutdown_receive_recv_fails_eshutdown_but_send_works() {
    let k = tcp_conn();
    k.server.run(|| unsafe {
        assert_eq!(shutdown(k.s, SD_RECEIVE), 0);
        assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAESHUTDOWN));
        assert_eq!(send_bytes(k.s, b"still here"), 10);
        assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAESHUTDOWN));
        // SD_RECEIVE twice is fine too.
        assert_eq!(shutdown(k.s, SD_RECEIVE), 0);
    });
    k.client.run(|| {
        assert_eq!(recv_n(k.c, 64, 0), (10, b"still here".to_vec()));
    });
    // The server can still close its sending half gracefully.
    k.server
        .run(|| unsafe { assert_eq!(shutdown(k.s, SD_SEND), 0) });
    k.client.run(|| {
        assert_eq!(recv_n(k.c, 64, 0), (0, vec![]));
    });
    assert_no_loss(&k.sim);
}

// ---------------------------------------------------------------------------------------------
// SD-11

#[test]
fn sd_11_data_arriving_after_shutdown_receive_resets_the_connection() {
    let k = tcp_conn();
    k.server
        .run(|| unsafe { assert_eq!(shutdown(k.s, SD_RECEIVE), 0) });
    k.client.run(|| {
        assert_eq!(send_bytes(k.c, &[1u8; 100]), 100);
    });
    assert_eq!(k.sim.lost_bytes(), 0);
    k.sim.run();
    assert_eq!(k.sim.lost_bytes(), 100);
    k.client.run(|| assert_reset(k.c));
    k.server.run(|| {
        assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAESHUTDOWN));
    });
    // Nothing more is lost: the failed send queued nothing.
    k.sim.run();
    assert_eq!(k.sim.lost_bytes(), 100);
}

#[test]
fn sd_11_unread_data_at_shutdown_receive_resets_the_connection() {
    let k = tcp_conn();
    k.client.run(|| {
        assert_eq!(send_bytes(k.c, &[2u8; 40]), 40);
    });
    k.sim.run();
    k.server.run(|| unsafe {
        assert_eq!(fionread(k.s), 40);
        assert_eq!(shutdown(k.s, SD_RECEIVE), 0);
        assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAESHUTDOWN));
    });
    k.sim.run();
    k.client.run(|| assert_reset(k.c));
    // The 40 bytes the server's application never read were discarded.
    assert_eq!(k.sim.lost_bytes(), 40);
}

#[test]
fn sd_11_udp_datagrams_still_queue_after_shutdown_receive() {
    let (h, addr) = udp_hosts();
    let (server, client, sim) = (&h.server, &h.client, &h.sim);
    let r = server.run(|| unsafe {
        let r = udp_bound(&addr);
        assert_eq!(shutdown(r, SD_RECEIVE), 0);
        assert_eq!(fionread(r), 0);
        r
    });
    client.run(|| {
        let u = udp();
        assert_eq!(send_to(u, &[3u8; 12], &addr), 12);
        assert_eq!(send_to(u, &[4u8; 7], &addr), 7);
    });
    sim.run();
    server.run(|| {
        // Queued (FIONREAD: the size of the first datagram), but not receivable.
        assert_eq!(fionread(r), 12);
        assert_eq!(recv_err(r), (SOCKET_ERROR, WSAESHUTDOWN));
        assert_eq!(fionread(r), 12);
    });
    client.run(|| {
        // No reset on UDP: the sender carries on.
        let u = udp();
        assert_eq!(send_to(u, b"z", &addr), 1);
    });
    assert_eq!(sim.lost_bytes(), 0);
}

// ---------------------------------------------------------------------------------------------
// SD-12

#[test]
fn sd_12_graceful_close_peer_reads_data_then_zero() {
    let k = tcp_conn();
    k.client.run(|| unsafe {
        assert_eq!(send_bytes(k.c, b"last words"), 10);
        assert_eq!(closesocket(k.c), 0);
        assert_eq!(send_err(k.c, b"x"), (SOCKET_ERROR, WSAENOTSOCK));
    });
    k.server.run(|| {
        assert_eq!(recv_n(k.s, 64, 0), (10, b"last words".to_vec()));
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
    });
    assert_no_loss(&k.sim);
}

#[test]
fn sd_12_abortive_close_peer_reads_delivered_data_then_econnreset() {
    let k = tcp_conn();
    k.client.run(|| {
        assert_eq!(send_bytes(k.c, b"abc"), 3);
    });
    k.sim.run();
    k.client.run(|| unsafe {
        set_linger(k.c, 1, 0);
        assert_eq!(closesocket(k.c), 0);
        assert_eq!(recv_err(k.c), (SOCKET_ERROR, WSAENOTSOCK));
    });
    k.server.run(|| {
        // What was delivered before the reset is still read, then the reset.
        assert_eq!(recv_n(k.s, 64, 0), (3, b"abc".to_vec()));
        assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAECONNRESET));
        assert_eq!(send_err(k.s, b"x"), (SOCKET_ERROR, WSAECONNRESET));
    });
    assert_eq!(k.sim.lost_bytes(), 0);
}

/// The FD_CLOSE the server records when the client closes (`abortive`: linger {1, 0}): (the
/// events, the error codes).
fn fd_close_after_client_close(sim: Sim, abortive: bool) -> (u32, [i32; 10]) {
    let k = conn_in(sim, IPPROTO_TCP);
    let ev = k.server.run(|| select_events(k.s, FD_CLOSE));
    k.server
        .run(|| assert_eq!(wait_one(ev, 0), WSA_WAIT_TIMEOUT));
    k.client.run(|| unsafe {
        if abortive {
            set_linger(k.c, 1, 0);
        }
        assert_eq!(closesocket(k.c), 0);
    });
    k.server.run(|| {
        assert_eq!(wait_one(ev, WSA_INFINITE), SIGNALLED);
        let fd_close = enum_events(k.s, ev);
        // FD_CLOSE happens once.
        assert_eq!(wait_one(ev, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(enum_events(k.s, ev).0, 0);
        // recv reports the same close in both profiles.
        if abortive {
            assert_eq!(recv_err(k.s), (SOCKET_ERROR, WSAECONNRESET));
        } else {
            assert_eq!(recv_n(k.s, 64, 0), (0, vec![]));
        }
        fd_close
    })
}

#[test]
fn sd_12_fd_close_error_zero_for_graceful_close() {
    for profile in [Profile::Documented, Profile::Windows] {
        let (events, codes) =
            fd_close_after_client_close(Sim::builder().profile(profile).build(), false);
        assert_eq!(events, FD_CLOSE, "{profile:?}");
        assert_eq!(codes[FD_CLOSE_BIT as usize], 0, "{profile:?}");
    }
}

#[test]
fn sd_12_fd_close_reports_econnreset_for_a_reset_documented() {
    let (events, codes) = fd_close_after_client_close(Sim::new(), true);
    assert_eq!(events, FD_CLOSE);
    assert_eq!(codes[FD_CLOSE_BIT as usize], WSAECONNRESET);
}

#[test]
fn sd_12_fd_close_reports_econnaborted_for_a_reset_windows() {
    let sim = Sim::builder().profile(Profile::Windows).build();
    let (events, codes) = fd_close_after_client_close(sim, true);
    assert_eq!(events, FD_CLOSE);
    assert_eq!(codes[FD_CLOSE_BIT as usize], WSAECONNABORTED);
}
