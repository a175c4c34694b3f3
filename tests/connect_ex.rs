//! EX-3 and EX-6 for `ConnectEx`, obtained as real callers do (`WSAIoctl` with
//! `WSAID_CONNECTEX`): the socket it needs, its completion with the send data, a refused
//! connection, and what `closesocket` (CS-6) and the final `WSACleanup` (CL-5) do to a pending
//! one. Results and error codes are asserted exactly.

use std::net::Ipv4Addr;
use std::ptr::{null, null_mut};

use ws2sim::sys::*;

mod common;
use common::*;

const ERROR_CONNECTION_REFUSED: u32 = 1225;

/// `ConnectEx`, looked up through `WSAIoctl` on `s`.
unsafe fn connect_ex(
    s: SOCKET,
) -> unsafe extern "system-unwind" fn(
    SOCKET,
    *const SOCKADDR,
    i32,
    *const core::ffi::c_void,
    u32,
    *mut u32,
    *mut OVERLAPPED,
) -> BOOL {
    let mut f: LPFN_CONNECTEX = None;
    let mut n = 0;
    let g = WSAID_CONNECTEX;
    let r = WSAIoctl(
        s,
        SIO_GET_EXTENSION_FUNCTION_POINTER,
        (&g as *const GUID).cast(),
        16,
        (&mut f as *mut LPFN_CONNECTEX).cast(),
        8,
        &mut n,
        null_mut(),
        None,
    );
    assert_eq!((r, n), (0, 8));
    f.expect("ConnectEx")
}

/// A TCP socket bound to the wildcard address.
fn bound_tcp() -> SOCKET {
    let s = tcp();
    let any = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
    assert_eq!(unsafe { bind(s, name_ptr(&any), 16) }, 0);
    s
}

#[test]
fn ex_3_connectex_needs_a_bound_unconnected_stream_socket() {
    started(|| unsafe {
        let l = tcp_listener(&sockaddr(Ipv4Addr::LOCALHOST, 7300), 4);
        let to = sockaddr(Ipv4Addr::LOCALHOST, 7300);
        let ce = connect_ex(l);
        let mut ov = ov_with_event();
        let unbound = tcp();
        let r = ce(unbound, name_ptr(&to), 16, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL), "unbound");
        let r = ce(l, name_ptr(&to), 16, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL), "listening");
        let u = udp_bound(&sockaddr(Ipv4Addr::LOCALHOST, 7301));
        let r = ce(u, name_ptr(&to), 16, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEINVAL), "datagram");
        let s = bound_tcp();
        let r = ce(s, name_ptr(&to), 16, null(), 0, null_mut(), null_mut());
        assert_eq!(
            (r, WSAGetLastError()),
            (FALSE, WSA_INVALID_PARAMETER),
            "no OVERLAPPED"
        );
        let r = ce(s, name_ptr(&to), 8, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEFAULT), "short address");
        assert_eq!(ov.Internal, 0xdead, "a refused call starts no operation");
        let c = tcp_connected(&to);
        let r = ce(c, name_ptr(&to), 16, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEISCONN), "connected");
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 0), WSA_WAIT_TIMEOUT);
        for s in [l, unbound, u, s, c] {
            closesocket(s);
        }
    });
}

#[test]
fn ex_3_connectex_connects_then_sends_its_data_and_completes_with_the_count() {
    started(|| unsafe {
        let to = sockaddr(Ipv4Addr::LOCALHOST, 7310);
        let l = tcp_listener(&to, 4);
        let s = bound_tcp();
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(s as HANDLE, port, 9, 0), port);
        let mut ov = ov_with_event();
        let mut sent = 0xdead;
        let ce = connect_ex(s);
        let r = ce(
            s,
            name_ptr(&to),
            16,
            b"abc".as_ptr().cast(),
            3,
            &mut sent,
            &mut ov,
        );
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        assert_eq!((ov.Internal, sent), (STATUS_PENDING, 0xdead));
        assert_eq!(
            wait_one(ov.hEvent as WSAEVENT, 1000),
            WSA_WAIT_EVENT_0 as u32
        );
        let (mut n, mut flags) = (0, 0);
        assert_eq!(
            WSAGetOverlappedResult(s, &ov, &mut n, FALSE, &mut flags),
            TRUE
        );
        assert_eq!((n, ov.Internal, ov.InternalHigh), (3, 0, 3));
        let (mut bytes, mut key, mut got) = (0, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!(
            (ok, bytes, key, got),
            (TRUE, 3, 9, &mut ov as *mut OVERLAPPED)
        );
        let a = accept_one(l);
        let (r, data) = recv_n(a, 16, 0);
        assert_eq!((r, &data[..]), (3, &b"abc"[..]));
        let mut peer = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        let mut len = 16;
        assert_eq!(getpeername(s, name_mut(&mut peer), &mut len), 0);
        assert_eq!(peer.sin_port, 7310u16.to_be());
        let r = ce(s, name_ptr(&to), 16, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSAEISCONN), "connected now");
        // SO_UPDATE_CONNECT_CONTEXT: accepted on the connected socket, not on another.
        let r = setsockopt(s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, null(), 0);
        assert_eq!(r, 0);
        let unconnected = bound_tcp();
        let r = setsockopt(
            unconnected,
            SOL_SOCKET,
            SO_UPDATE_CONNECT_CONTEXT,
            null(),
            0,
        );
        assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSAENOTCONN));
        closesocket(unconnected);
        for s in [l, s, a] {
            closesocket(s);
        }
        assert_eq!(CloseHandle(port), TRUE);
    });
}

#[test]
fn ex_3_refused_connectex_completes_with_connection_refused() {
    started(|| unsafe {
        let s = bound_tcp();
        let mut ov = ov_with_event();
        let to = sockaddr(Ipv4Addr::LOCALHOST, 7320); // nobody listens
        let r = connect_ex(s)(s, name_ptr(&to), 16, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        assert_eq!(
            wait_one(ov.hEvent as WSAEVENT, 1000),
            WSA_WAIT_EVENT_0 as u32
        );
        let (mut n, mut flags) = (0, 0);
        assert_eq!(
            WSAGetOverlappedResult(s, &ov, &mut n, FALSE, &mut flags),
            FALSE
        );
        assert_eq!(WSAGetLastError(), WSAECONNREFUSED);
        let mut n = 0;
        assert_eq!(GetOverlappedResult(s as HANDLE, &ov, &mut n, FALSE), FALSE);
        assert_eq!(GetLastError(), ERROR_CONNECTION_REFUSED);
        closesocket(s);
    });
}

#[test]
fn ex_6_closesocket_aborts_a_pending_connectex_with_its_completion() {
    started(|| unsafe {
        let s = bound_tcp();
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(s as HANDLE, port, 4, 0), port);
        let mut ov = ov_with_event();
        let to = sockaddr(Ipv4Addr::new(10, 0, 0, 99), 80); // no such host: 21 s to time out
        let r = connect_ex(s)(s, name_ptr(&to), 16, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        assert_eq!(closesocket(s), 0);
        // CS-6: aborted, with the event set and a packet.
        assert_eq!(ov.Internal, STATUS_CANCELLED);
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 0), WSA_WAIT_EVENT_0 as u32);
        let (mut bytes, mut key, mut got) = (0, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!((ok, GetLastError()), (FALSE, ERROR_OPERATION_ABORTED));
        assert_eq!((bytes, key, got), (0, 4, &mut ov as *mut OVERLAPPED));
        assert_eq!(CloseHandle(port), TRUE);
    });
}

#[test]
fn ex_6_final_cleanup_aborts_a_pending_connectex_silently() {
    process().run(|| unsafe {
        startup_2_2();
        let s = bound_tcp();
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(s as HANDLE, port, 4, 0), port);
        let mut ov = ov_with_event();
        let e = ov.hEvent;
        let to = sockaddr(Ipv4Addr::new(10, 0, 0, 99), 80);
        let r = connect_ex(s)(s, name_ptr(&to), 16, null(), 0, null_mut(), &mut ov);
        assert_eq!((r, WSAGetLastError()), (FALSE, WSA_IO_PENDING));
        assert_eq!(WSACleanup(), 0);
        // CL-5: the record says aborted; no packet (the event died with the cleanup).
        assert_eq!(ov.Internal, STATUS_CANCELLED);
        let (mut bytes, mut key, mut got) = (0, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!(
            (ok, GetLastError()),
            (FALSE, WAIT_TIMEOUT as u32),
            "no packet"
        );
        assert!(!e.is_null());
        assert_eq!(CloseHandle(port), TRUE);
    });
}
