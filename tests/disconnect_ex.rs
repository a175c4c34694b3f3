//! EX-4 and EX-6 for `DisconnectEx`: its checks, the overlapped and the blocking close, what
//! the socket and its peer can do afterwards, `TF_REUSE_SOCKET` giving the socket to
//! `AcceptEx` again, and what `closesocket` (CS-6) and the final `WSACleanup` (CL-5) do to a
//! pending one. Results and error codes are asserted exactly (win: Wine's sock.c
//! `test_DisconnectEx`; flags: Microsoft's `DisconnectEx` page).

use std::net::Ipv4Addr;
use std::ptr::null_mut;

use ws2sim::sys::*;
use ws2sim::Sim;

mod common;
use common::*;

/// A connected pair on one host: (listener, client, accepted).
fn local_pair(port: u16) -> (SOCKET, SOCKET, SOCKET) {
    let addr = sockaddr(Ipv4Addr::LOCALHOST, port);
    let l = tcp_listener(&addr, 4);
    let c = tcp_connected(&addr);
    let a = accept_one(l);
    (l, c, a)
}

#[test]
fn ex_4_disconnectex_checks_the_socket_flags_and_connection() {
    started(|| unsafe {
        let mut ov = ov_with_event();
        assert_eq!(DisconnectEx(0xdead, &mut ov, 0, 0), FALSE);
        assert_eq!(WSAGetLastError(), WSAENOTSOCK);
        let unconnected = tcp();
        assert_eq!(DisconnectEx(unconnected, &mut ov, 0, 0), FALSE);
        assert_eq!(WSAGetLastError(), WSAENOTCONN, "at once, even overlapped");
        assert_eq!(DisconnectEx(unconnected, null_mut(), 0, 0), FALSE);
        assert_eq!(WSAGetLastError(), WSAENOTCONN);
        let u = udp();
        assert_eq!(DisconnectEx(u, null_mut(), 0, 0), FALSE);
        assert_eq!(WSAGetLastError(), WSAENOTCONN, "datagram");
        let (l, c, a) = local_pair(7500);
        assert_eq!(DisconnectEx(c, &mut ov, TF_DISCONNECT, 0), FALSE);
        assert_eq!(WSAGetLastError(), WSAEINVAL, "flags");
        assert_eq!(DisconnectEx(c, &mut ov, 0, 1), FALSE);
        assert_eq!(WSAGetLastError(), WSAEINVAL, "reserved");
        assert_eq!(ov.Internal, 0xdead, "a refused call starts no operation");
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(send_bytes(c, b"still open"), 10);
        for s in [unconnected, u, l, c, a] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_4_overlapped_disconnectex_completes_with_0_bytes_once_the_close_is_acknowledged() {
    started(|| unsafe {
        let (l, c, a) = local_pair(7510);
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(c as HANDLE, port, 77, 0), port);
        let mut ov = ov_with_event();
        assert_eq!(DisconnectEx(c, &mut ov, 0, 0), FALSE);
        assert_eq!(WSAGetLastError(), WSA_IO_PENDING);
        assert_eq!(ov.Internal, STATUS_PENDING);
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 1000), SIGNALLED);
        let (mut n, mut flags) = (0xdead, 0);
        assert_eq!(
            WSAGetOverlappedResult(c, &ov, &mut n, FALSE, &mut flags),
            TRUE
        );
        assert_eq!((n, ov.Internal, ov.InternalHigh), (0, 0, 0));
        let (mut bytes, mut key, mut got) = (0xdead, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!(
            (ok, bytes, key, got),
            (TRUE, 0, 77, &mut ov as *mut OVERLAPPED)
        );
        // The peer reads the end; it can still send, and the closed side still receives.
        assert_eq!(recv_n(a, 16, 0), (0, Vec::new()));
        assert_eq!(send_bytes(a, b"late"), 4);
        assert_eq!(recv_n(c, 16, 0), (4, b"late".to_vec()));
        assert_eq!(send_bytes(c, b"x"), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAESHUTDOWN);
        let to = sockaddr(Ipv4Addr::LOCALHOST, 7510);
        assert_eq!(connect(c, name_ptr(&to), 16), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAEISCONN);
        let mut peer = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        let mut len = 16;
        assert_eq!(getpeername(c, name_mut(&mut peer), &mut len), 0);
        assert_eq!(u16::from_be(peer.sin_port), 7510);
        for s in [l, c, a] {
            closesocket(s);
        }
        assert_eq!(CloseHandle(port), TRUE);
    });
}

#[test]
fn ex_4_blocking_disconnectex_returns_true_and_again_true() {
    started(|| unsafe {
        let (l, c, a) = local_pair(7520);
        assert_eq!(DisconnectEx(c, null_mut(), 0, 0), TRUE);
        assert_eq!(DisconnectEx(c, null_mut(), 0, 0), TRUE, "twice");
        assert_eq!(recv_n(a, 16, 0), (0, Vec::new()));
        for s in [l, c, a] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_4_tf_reuse_socket_gives_the_socket_to_acceptex_again() {
    started(|| unsafe {
        let (l, c, a) = local_pair(7530);
        assert_eq!(DisconnectEx(a, null_mut(), TF_REUSE_SOCKET, 0), TRUE);
        // The old connection closed gracefully; the handle is a fresh socket.
        assert_eq!(recv_n(c, 16, 0), (0, Vec::new()));
        let mut peer = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        let mut len = 16;
        assert_eq!(getpeername(a, name_mut(&mut peer), &mut len), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAENOTCONN);
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        let r = AcceptEx(
            l,
            a,
            buf.as_mut_ptr().cast(),
            0,
            32,
            32,
            null_mut(),
            &mut ov,
        );
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        let c2 = tcp_connected(&sockaddr(Ipv4Addr::LOCALHOST, 7530));
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 1000), SIGNALLED);
        assert_eq!(send_bytes(c2, b"again"), 5);
        assert_eq!(recv_n(a, 16, 0), (5, b"again".to_vec()));
        for s in [l, c, a, c2] {
            closesocket(s);
        }
    });
}

/// A pair whose client has more queued than the server's receive window, so its
/// `DisconnectEx` cannot complete until the server reads.
fn stuck_disconnect(sim: &Sim, port: u16) -> (Pair, Box<OVERLAPPED>, usize) {
    let pair = tcp_pair(sim, port, 1024);
    let mut ov = Box::new(OVERLAPPED::default());
    let sent = pair.client.run(|| unsafe {
        set_nonblocking(pair.c, true);
        let data = pattern(8192);
        let sent = send(pair.c, data.as_ptr(), data.len() as i32, 0);
        assert!(sent > 1024, "{sent}");
        ov.hEvent = event() as HANDLE;
        assert_eq!(DisconnectEx(pair.c, &mut *ov, 0, 0), FALSE);
        assert_eq!(WSAGetLastError(), WSA_IO_PENDING);
        sent as usize
    });
    sim.advance(std::time::Duration::from_millis(50));
    assert_eq!(ov.Internal, STATUS_PENDING, "waits for the server to read");
    (pair, ov, sent)
}

#[test]
fn ex_4_disconnectex_waits_for_the_peer_to_take_the_data() {
    let sim = Sim::new();
    let (pair, ov, sent) = stuck_disconnect(&sim, 7540);
    pair.server_reads(&pattern(sent), GRACEFUL);
    sim.advance(std::time::Duration::from_millis(50));
    assert_eq!((ov.Internal, ov.InternalHigh), (0, 0));
}

#[test]
fn ex_6_closesocket_aborts_a_pending_disconnectex_with_its_completion() {
    let sim = Sim::new();
    let (pair, ov, _) = stuck_disconnect(&sim, 7550);
    pair.client.run(|| unsafe {
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        // Associated after the start: the packet still goes to the port.
        assert_eq!(CreateIoCompletionPort(pair.c as HANDLE, port, 5, 0), port);
        assert_eq!(closesocket(pair.c), 0);
        assert_eq!(ov.Internal, STATUS_CANCELLED);
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 0), SIGNALLED);
        let (mut bytes, mut key, mut got) = (0xdead, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!((ok, GetLastError()), (FALSE, ERROR_OPERATION_ABORTED));
        assert_eq!(
            (bytes, key, got as usize),
            (0, 5, &*ov as *const OVERLAPPED as usize)
        );
        assert_eq!(CloseHandle(port), TRUE);
    });
}

#[test]
fn ex_6_final_cleanup_aborts_a_pending_disconnectex_silently() {
    let sim = Sim::new();
    let (pair, ov, _) = stuck_disconnect(&sim, 7560);
    let e = ov.hEvent as WSAEVENT;
    pair.client.run(|| unsafe {
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT);
        assert_eq!(WSACleanup(), 0);
    });
    // CL-5: the record says aborted; no event is set (it died with the cleanup).
    assert_eq!(ov.Internal, STATUS_CANCELLED);
}
