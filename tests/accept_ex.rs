//! EX-2 and EX-6 for `AcceptEx`, `GetAcceptExSockaddrs` and `SO_UPDATE_ACCEPT_CONTEXT`: the
//! checks in Windows' order, the completion at connect or at the first data with both
//! addresses in the buffer, a short address room, the listener's completion key, FD_ACCEPT
//! left alone, and what closing either socket (CS-6) and the final `WSACleanup` (CL-5) do
//! to a pending one. Results and error codes are asserted exactly (win: Wine's sock.c
//! `test_AcceptEx`, `test_completion_port`, `test_accept_events`).

use std::net::Ipv4Addr;
use std::ptr::null_mut;

use ws2sim::sys::*;

mod common;
use common::*;

const STATUS_BUFFER_TOO_SMALL: usize = 0xC000_0023;
/// `sizeof(SOCKADDR_IN) + 16`: the room an address needs.
const ROOM: u32 = 32;

/// `AcceptEx(l, a, buf, data, ROOM, ROOM, NULL, ov)`.
unsafe fn accept_ex(l: SOCKET, a: SOCKET, buf: &mut [u8], data: u32, ov: &mut OVERLAPPED) -> i32 {
    AcceptEx(
        l,
        a,
        buf.as_mut_ptr().cast(),
        data,
        ROOM,
        ROOM,
        null_mut(),
        ov,
    )
}

/// The operation's outcome by `WSAGetOverlappedResult(l, ov, .., fWait)`: (TRUE/FALSE, bytes,
/// error when FALSE).
unsafe fn result_of(l: SOCKET, ov: &OVERLAPPED, wait: bool) -> (i32, u32, i32) {
    let (mut n, mut flags) = (0, 0);
    let ok = WSAGetOverlappedResult(l, ov, &mut n, i32::from(wait), &mut flags);
    let err = if ok == TRUE { 0 } else { WSAGetLastError() };
    (ok, n, err)
}

/// The (local, remote) addresses `GetAcceptExSockaddrs` finds, with their lengths.
unsafe fn sockaddrs(buf: &[u8], data: u32) -> ((SOCKADDR_IN, i32), (SOCKADDR_IN, i32)) {
    let (mut local, mut remote) = (null_mut(), null_mut());
    let (mut llen, mut rlen) = (0, 0);
    GetAcceptExSockaddrs(
        buf.as_ptr().cast(),
        data,
        ROOM,
        ROOM,
        &mut local,
        &mut llen,
        &mut remote,
        &mut rlen,
    );
    let read = |p: *mut SOCKADDR| (p as *const SOCKADDR_IN).read_unaligned();
    ((read(local), llen), (read(remote), rlen))
}

fn addr_of(a: &SOCKADDR_IN) -> (u32, u16) {
    (
        u32::from_be(unsafe { a.sin_addr.S_un.S_addr }),
        u16::from_be(a.sin_port),
    )
}

#[test]
fn ex_2_acceptex_checks_its_arguments_in_windows_order() {
    started(|| unsafe {
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7400);
        let l = tcp_listener(&addr, 4);
        let a = tcp();
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        let r = AcceptEx(
            l,
            a,
            buf.as_mut_ptr().cast(),
            0,
            ROOM,
            ROOM,
            null_mut(),
            null_mut(),
        );
        assert_eq!(
            (r, WSAGetLastError()),
            (FALSE, WSA_INVALID_PARAMETER),
            "no OVERLAPPED"
        );
        let r = accept_ex(0xdead, a, &mut buf, 0, &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAENOTSOCK), "listener");
        // Windows marks the record pending even for a call it refuses.
        assert_eq!(ov.Internal, STATUS_PENDING);
        let r = accept_ex(l, 0xdead, &mut buf, 0, &mut ov);
        assert_eq!(
            (r, WSAGetLastError()),
            (FALSE, WSAENOTSOCK),
            "accept socket"
        );
        let idle = tcp();
        let idle_addr = sockaddr(Ipv4Addr::LOCALHOST, 7401);
        assert_eq!(bind(idle, name_ptr(&idle_addr), 16), 0);
        let r = accept_ex(idle, a, &mut buf, 0, &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL), "not listening");
        let r = AcceptEx(l, a, null_mut(), 0, ROOM, ROOM, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEFAULT), "NULL buffer");
        let r = AcceptEx(
            l,
            a,
            buf.as_mut_ptr().cast(),
            0,
            ROOM,
            0,
            null_mut(),
            &mut ov,
        );
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEFAULT), "no remote room");
        let u = udp();
        let r = accept_ex(l, u, &mut buf, 0, &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL), "datagram");
        let r = accept_ex(l, idle, &mut buf, 0, &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL), "bound");
        let r = accept_ex(l, l, &mut buf, 0, &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL), "listening");
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 0), WSA_WAIT_TIMEOUT);
        // The accept socket of a pending AcceptEx can be given to no other.
        let r = accept_ex(l, a, &mut buf, 0, &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        let mut ov2 = ov_with_event();
        let mut buf2 = [0u8; 64];
        let r = accept_ex(l, a, &mut buf2, 0, &mut ov2);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL), "used");
        assert_eq!(connect(a, name_ptr(&addr), 16), SOCKET_ERROR);
        assert_eq!(
            WSAGetLastError(),
            WSAEINVAL,
            "connect on a waiting accept socket"
        );
        for s in [l, a, idle, u] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_2_acceptex_completes_at_connect_with_both_addresses_and_the_listeners_key() {
    started(|| unsafe {
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7410);
        let l = tcp_listener(&addr, 4);
        let a = tcp();
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(l as HANDLE, port, 125, 0), port);
        assert_eq!(CreateIoCompletionPort(a as HANDLE, port, 236, 0), port);
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        let r = accept_ex(l, a, &mut buf, 0, &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        assert_eq!(ov.Internal, STATUS_PENDING);
        let c = tcp_connected(&addr);
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 1000), SIGNALLED);
        assert_eq!(result_of(l, &ov, false), (TRUE, 0, 0));
        assert_eq!((ov.Internal, ov.InternalHigh), (0, 0));
        let (mut bytes, mut key, mut got) = (0xdead, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!(
            (ok, bytes, key, got),
            (TRUE, 0, 125, &mut ov as *mut OVERLAPPED),
            "the listener's key"
        );
        // The addresses, read back as GetAcceptExSockaddrs finds them.
        let mut client = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        let mut len = 16;
        assert_eq!(getsockname(c, name_mut(&mut client), &mut len), 0);
        let ((local, llen), (remote, rlen)) = sockaddrs(&buf, 0);
        assert_eq!((addr_of(&local), llen), ((0x7f00_0001, 7410), 16));
        assert_eq!((addr_of(&remote), rlen), (addr_of(&client), 16));
        // Until SO_UPDATE_ACCEPT_CONTEXT, getpeername fails; the connection works.
        let mut peer = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        let mut len = 16;
        assert_eq!(getpeername(a, name_mut(&mut peer), &mut len), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAENOTCONN);
        let lv = l;
        let r = setsockopt(
            a,
            SOL_SOCKET,
            SO_UPDATE_ACCEPT_CONTEXT,
            (&lv as *const SOCKET).cast(),
            std::mem::size_of::<SOCKET>() as i32,
        );
        assert_eq!(r, 0);
        assert_eq!(getpeername(a, name_mut(&mut peer), &mut len), 0);
        assert_eq!(addr_of(&peer), addr_of(&client));
        assert_eq!(send_bytes(c, b"ping"), 4);
        assert_eq!(recv_n(a, 16, 0), (4, b"ping".to_vec()));
        for s in [l, a, c] {
            closesocket(s);
        }
        assert_eq!(CloseHandle(port), TRUE);
    });
}

#[test]
fn ex_2_acceptex_with_room_for_data_waits_for_the_first_data_or_the_end() {
    started(|| unsafe {
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7420);
        let l = tcp_listener(&addr, 4);
        let a = tcp();
        let mut buf = [0u8; 2 + 64];
        let mut ov = ov_with_event();
        assert_eq!(accept_ex(l, a, &mut buf, 2, &mut ov), FALSE);
        assert_eq!(WSAGetLastError(), WSA_IO_PENDING);
        let c = tcp_connected(&addr);
        assert_eq!(
            wait_one(ov.hEvent as WSAEVENT, 100),
            WSA_WAIT_TIMEOUT,
            "connected, no data"
        );
        assert_eq!(ov.Internal, STATUS_PENDING);
        assert_eq!(result_of(l, &ov, false), (FALSE, 0, WSA_IO_INCOMPLETE));
        assert_eq!(send_bytes(c, b"x"), 1);
        assert_eq!(result_of(l, &ov, true), (TRUE, 1, 0));
        assert_eq!(buf[0], b'x');
        let ((local, _), _) = sockaddrs(&buf, 2);
        assert_eq!(addr_of(&local), (0x7f00_0001, 7420));
        // A client that connects and closes without sending: TRUE with 0 bytes.
        let a2 = tcp();
        let mut buf2 = [0u8; 960 + 64];
        let mut ov2 = ov_with_event();
        assert_eq!(accept_ex(l, a2, &mut buf2, 960, &mut ov2), FALSE);
        let c2 = tcp_connected(&addr);
        assert_eq!(closesocket(c2), 0);
        assert_eq!(result_of(l, &ov2, true), (TRUE, 0, 0));
        for s in [l, a, a2, c] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_2_short_address_room_fails_at_connect_and_leaves_the_connection_queued() {
    started(|| unsafe {
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7430);
        let l = tcp_listener(&addr, 4);
        let a = tcp();
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        let r = AcceptEx(
            l,
            a,
            buf.as_mut_ptr().cast(),
            0,
            3,
            ROOM,
            null_mut(),
            &mut ov,
        );
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        let c = tcp_connected(&addr);
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 1000), SIGNALLED);
        assert_eq!((ov.Internal, ov.InternalHigh), (STATUS_BUFFER_TOO_SMALL, 0));
        assert_eq!(result_of(l, &ov, false), (FALSE, 0, WSAEFAULT));
        // The connection was not taken: accept returns it.
        let s = accept(l, null_mut(), null_mut());
        assert_ne!(s, INVALID_SOCKET);
        // A local room of 0 is allowed: only the remote address is written.
        let a2 = tcp();
        let mut ov2 = ov_with_event();
        let r = AcceptEx(
            l,
            a2,
            buf.as_mut_ptr().cast(),
            0,
            0,
            ROOM,
            null_mut(),
            &mut ov2,
        );
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        let c2 = tcp_connected(&addr);
        assert_eq!(result_of(l, &ov2, true), (TRUE, 0, 0));
        let (mut local, mut remote) = (std::ptr::dangling_mut::<SOCKADDR>(), null_mut());
        let (mut llen, mut rlen) = (-7, 0);
        GetAcceptExSockaddrs(
            buf.as_ptr().cast(),
            0,
            0,
            ROOM,
            &mut local,
            &mut llen,
            &mut remote,
            &mut rlen,
        );
        assert_eq!((local, llen), (std::ptr::dangling_mut(), -7), "left alone");
        let mut client = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        let mut len = 16;
        assert_eq!(getsockname(c2, name_mut(&mut client), &mut len), 0);
        let remote = (remote as *const SOCKADDR_IN).read_unaligned();
        assert_eq!((addr_of(&remote), rlen), (addr_of(&client), 16));
        for s in [l, a, a2, c, c2, s] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_2_a_pending_acceptex_takes_the_connection_before_fd_accept() {
    started(|| unsafe {
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7440);
        let l = tcp_listener(&addr, 4);
        let e = select_events(l, FD_ACCEPT);
        let a = tcp();
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        assert_eq!(accept_ex(l, a, &mut buf, 0, &mut ov), FALSE);
        let c = tcp_connected(&addr);
        assert_eq!(result_of(l, &ov, true), (TRUE, 0, 0));
        assert_eq!(wait_one(e, 0), WSA_WAIT_TIMEOUT, "no FD_ACCEPT");
        assert_eq!(enum_events(l, e).0, 0);
        // With no AcceptEx pending, the next connection is the listener's again.
        let c2 = tcp_connected(&addr);
        assert_eq!(wait_one(e, 1000), SIGNALLED);
        assert_eq!(enum_events(l, e).0, FD_ACCEPT);
        for s in [l, a, c, c2] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_2_so_update_accept_context_checks_its_value_and_inherits_the_listeners_options() {
    started(|| unsafe {
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7450);
        let l = tcp_listener(&addr, 4);
        set_linger(l, 1, 7);
        let a = tcp();
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        let set = |s: SOCKET, value: SOCKET, len: i32| {
            let r = setsockopt(
                s,
                SOL_SOCKET,
                SO_UPDATE_ACCEPT_CONTEXT,
                (&value as *const SOCKET).cast(),
                len,
            );
            if r == 0 {
                0
            } else {
                WSAGetLastError()
            }
        };
        assert_eq!(set(a, l, 8), WSAENOTCONN, "not accepted yet");
        assert_eq!(accept_ex(l, a, &mut buf, 0, &mut ov), FALSE);
        let c = tcp_connected(&addr);
        assert_eq!(result_of(l, &ov, true), (TRUE, 0, 0));
        assert_eq!(set(a, l, 4), WSAEFAULT, "shorter than a SOCKET");
        assert_eq!(set(a, 0xdead, 8), WSAENOTSOCK);
        assert_eq!(set(a, c, 8), WSAEINVAL, "not a listener");
        let before = get_linger(a);
        assert_eq!((before.l_onoff, before.l_linger), (0, 0));
        assert_eq!(set(a, l, 8), 0);
        let after = get_linger(a);
        assert_eq!((after.l_onoff, after.l_linger), (1, 7));
        for s in [l, a, c] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_2_acceptex_is_the_function_wsaioctl_hands_out() {
    started(|| unsafe {
        let l = tcp();
        for (guid, f) in [
            (WSAID_ACCEPTEX, AcceptEx as *const () as usize),
            (
                WSAID_GETACCEPTEXSOCKADDRS,
                GetAcceptExSockaddrs as *const () as usize,
            ),
            (WSAID_DISCONNECTEX, DisconnectEx as *const () as usize),
        ] {
            let (mut out, mut n) = (0usize, 0);
            let r = WSAIoctl(
                l,
                SIO_GET_EXTENSION_FUNCTION_POINTER,
                (&guid as *const GUID).cast(),
                16,
                (&mut out as *mut usize).cast(),
                8,
                &mut n,
                null_mut(),
                None,
            );
            assert_eq!((r, n, out), (0, 8, f));
        }
        closesocket(l);
    });
}

#[test]
fn ex_6_closing_the_listener_aborts_a_pending_acceptex_with_its_completion() {
    started(|| unsafe {
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7460);
        let l = tcp_listener(&addr, 4);
        let a = tcp();
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(l as HANDLE, port, 125, 0), port);
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        assert_eq!(accept_ex(l, a, &mut buf, 0, &mut ov), FALSE);
        assert_eq!(closesocket(l), 0);
        assert_eq!(ov.Internal, STATUS_CANCELLED);
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 0), SIGNALLED);
        let (mut bytes, mut key, mut got) = (0xdead, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!((ok, GetLastError()), (FALSE, ERROR_OPERATION_ABORTED));
        assert_eq!((bytes, key, got), (0, 125, &mut ov as *mut OVERLAPPED));
        // The accept socket is free again.
        let l2 = tcp_listener(&sockaddr(Ipv4Addr::LOCALHOST, 7461), 4);
        let mut ov2 = ov_with_event();
        assert_eq!(accept_ex(l2, a, &mut buf, 0, &mut ov2), FALSE);
        assert_eq!(WSAGetLastError(), WSA_IO_PENDING);
        for s in [a, l2] {
            closesocket(s);
        }
        assert_eq!(CloseHandle(port), TRUE);
    });
}

#[test]
fn ex_6_closing_the_accept_socket_aborts_a_pending_acceptex() {
    started(|| unsafe {
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7470);
        let l = tcp_listener(&addr, 4);
        let a = tcp();
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        assert_eq!(accept_ex(l, a, &mut buf, 0, &mut ov), FALSE);
        assert_eq!(closesocket(a), 0);
        assert_eq!(ov.Internal, STATUS_CANCELLED);
        assert_eq!(result_of(l, &ov, false), (FALSE, 0, WSA_OPERATION_ABORTED));
        // The next connection is the listener's to accept.
        let c = tcp_connected(&addr);
        let s = accept(l, null_mut(), null_mut());
        assert_ne!(s, INVALID_SOCKET);
        for s in [l, c, s] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_6_final_cleanup_aborts_a_pending_acceptex_silently() {
    process().run(|| unsafe {
        startup_2_2();
        let addr = sockaddr(Ipv4Addr::LOCALHOST, 7480);
        let l = tcp_listener(&addr, 4);
        let a = tcp();
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(l as HANDLE, port, 125, 0), port);
        let mut buf = [0u8; 64];
        let mut ov = ov_with_event();
        assert_eq!(accept_ex(l, a, &mut buf, 0, &mut ov), FALSE);
        assert_eq!(WSACleanup(), 0);
        // CL-5: the record says aborted, and no packet is queued.
        assert_eq!(ov.Internal, STATUS_CANCELLED);
        let (mut bytes, mut key, mut got) = (0, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!((ok, GetLastError()), (FALSE, WAIT_TIMEOUT as u32));
        assert_eq!(CloseHandle(port), TRUE);
    });
}
