//! EX-1: `WSAIoctl` through the `sys` layer: the extension-function lookup by GUID, the
//! `ioctlsocket` codes, `SIO_KEEPALIVE_VALS`, the base-handle codes, the errors for bad
//! buffers and unknown codes, and an overlapped `WSAIoctl`'s completion (event, result,
//! completion-port packet). Every result and error code is asserted exactly.

use std::net::Ipv4Addr;
use std::ptr::{null, null_mut};

use ws2sim::sys::*;

mod common;
use common::*;

/// `WSAIoctl` without an `OVERLAPPED`: its return value, the bytes returned (preset to
/// 0xdead) and the last error (preset to 0xbeef).
unsafe fn ioctl(s: SOCKET, code: u32, input: &[u8], out: &mut [u8]) -> (i32, u32, i32) {
    let mut n = 0xdead;
    WSASetLastError(0xbeef);
    let (ip, il) = if input.is_empty() {
        (null(), 0)
    } else {
        (input.as_ptr().cast(), input.len() as u32)
    };
    let (op, ol) = if out.is_empty() {
        (null_mut(), 0)
    } else {
        (out.as_mut_ptr().cast(), out.len() as u32)
    };
    let r = WSAIoctl(s, code, ip, il, op, ol, &mut n, null_mut(), None);
    (r, n, WSAGetLastError())
}

/// A GUID's 16 bytes as they lie in memory.
fn guid_bytes(g: &GUID) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&g.data1.to_ne_bytes());
    b[4..6].copy_from_slice(&g.data2.to_ne_bytes());
    b[6..8].copy_from_slice(&g.data3.to_ne_bytes());
    b[8..].copy_from_slice(&g.data4);
    b
}

#[test]
fn ex_1_extension_pointer_by_guid_unknown_guid_einval_short_buffers_efault() {
    started(|| unsafe {
        let s = udp();
        let mut out = [0u8; 8];
        let r = ioctl(
            s,
            SIO_GET_EXTENSION_FUNCTION_POINTER,
            &guid_bytes(&WSAID_WSARECVMSG),
            &mut out,
        );
        assert_eq!(r, (0, 8, 0xbeef));
        assert_eq!(usize::from_ne_bytes(out), WSARecvMsg as *const () as usize);
        let bogus = guid_bytes(&GUID::from_u128(0x01020304_0506_0708_090a_0b0c0d0e0f10));
        let mut out = [0u8; 8];
        let r = ioctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &bogus, &mut out);
        assert_eq!(r, (SOCKET_ERROR, 0xdead, WSAEINVAL));
        assert_eq!(out, [0; 8], "nothing written");
        // Not served (a documented divergence): the GUID is unknown to the provider.
        let r = ioctl(
            s,
            SIO_GET_EXTENSION_FUNCTION_POINTER,
            &guid_bytes(&WSAID_TRANSMITFILE),
            &mut out,
        );
        assert_eq!(r, (SOCKET_ERROR, 0xdead, WSAEINVAL));
        let g = guid_bytes(&WSAID_WSARECVMSG);
        let r = ioctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, &mut [0u8; 4]);
        assert_eq!(
            r,
            (SOCKET_ERROR, 0xdead, WSAEFAULT),
            "output shorter than a pointer"
        );
        let r = ioctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &g[..8], &mut out);
        assert_eq!(
            r,
            (SOCKET_ERROR, 0xdead, WSAEFAULT),
            "input shorter than a GUID"
        );
        let r = ioctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &[], &mut out);
        assert_eq!(r, (SOCKET_ERROR, 0xdead, WSAEFAULT), "NULL input");
        closesocket(s);
    });
}

#[test]
fn ex_1_the_wsarecvmsg_pointer_receives_a_datagram_and_its_sender() {
    started(|| unsafe {
        let rx = udp_bound(&sockaddr(Ipv4Addr::LOCALHOST, 7100));
        let tx = udp_bound(&sockaddr(Ipv4Addr::LOCALHOST, 7101));
        let mut f: LPFN_WSARECVMSG = None;
        let mut n = 0;
        let g = WSAID_WSARECVMSG;
        let r = WSAIoctl(
            rx,
            SIO_GET_EXTENSION_FUNCTION_POINTER,
            (&g as *const GUID).cast(),
            16,
            (&mut f as *mut LPFN_WSARECVMSG).cast(),
            8,
            &mut n,
            null_mut(),
            None,
        );
        assert_eq!((r, n), (0, 8));
        let recv_msg = f.expect("a function");
        // Sent with WSASendMsg, exported directly.
        let mut data = *b"hello";
        let mut buf = WSABUF {
            len: 5,
            buf: data.as_mut_ptr(),
        };
        let mut to = sockaddr(Ipv4Addr::LOCALHOST, 7100);
        let msg = WSAMSG {
            name: name_mut(&mut to),
            namelen: 16,
            lpBuffers: &mut buf,
            dwBufferCount: 1,
            ..WSAMSG::default()
        };
        let mut sent = 0;
        assert_eq!(WSASendMsg(tx, &msg, 0, &mut sent, null_mut(), None), 0);
        assert_eq!(sent, 5);
        let mut space = [0u8; 16];
        let mut control = [0u8; 32];
        let mut from = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        let mut rbuf = WSABUF {
            len: 16,
            buf: space.as_mut_ptr(),
        };
        let mut msg = WSAMSG {
            name: name_mut(&mut from),
            namelen: 16,
            lpBuffers: &mut rbuf,
            dwBufferCount: 1,
            Control: WSABUF {
                len: 32,
                buf: control.as_mut_ptr(),
            },
            dwFlags: 0,
        };
        let mut got = 0;
        assert_eq!(recv_msg(rx, &mut msg, &mut got, null_mut(), None), 0);
        assert_eq!((got, &space[..5]), (5, &b"hello"[..]));
        assert_eq!((msg.namelen, msg.Control.len, msg.dwFlags), (16, 0, 0));
        assert_eq!(from.sin_port, 7101u16.to_be());
        let r = recv_msg(rx, null_mut(), &mut got, null_mut(), None);
        assert_fails(r, WSAEFAULT);
        closesocket(rx);
        closesocket(tx);
    });
}

#[test]
fn ex_1_fionbio_fionread_siocatmark_through_wsaioctl() {
    started(|| unsafe {
        let rx = udp_bound(&sockaddr(Ipv4Addr::LOCALHOST, 7200));
        let on = 1u32.to_ne_bytes();
        assert_eq!(ioctl(rx, FIONBIO as u32, &on, &mut []), (0, 0, 0xbeef));
        let mut b = [0u8; 4];
        assert_fails(recv(rx, b.as_mut_ptr(), 4, 0), WSAEWOULDBLOCK);
        let r = ioctl(rx, FIONBIO as u32, &on[..2], &mut []);
        assert_eq!(r, (SOCKET_ERROR, 0xdead, WSAEFAULT), "short input");
        let r = ioctl(rx, FIONBIO as u32, &[], &mut []);
        assert_eq!(r, (SOCKET_ERROR, 0xdead, WSAEFAULT), "NULL input");
        let tx = udp();
        let to = sockaddr(Ipv4Addr::LOCALHOST, 7200);
        let sent = sendto(tx, b"abc".as_ptr(), 3, 0, name_ptr(&to), 16);
        assert_eq!(sent, 3);
        Sleep(10); // The datagram arrives in virtual time.
        let mut out = [0xffu8; 4];
        assert_eq!(ioctl(rx, FIONREAD as u32, &[], &mut out), (0, 4, 0xbeef));
        assert_eq!(u32::from_ne_bytes(out), 3);
        let r = ioctl(rx, FIONREAD as u32, &[], &mut [0u8; 3]);
        assert_eq!(r, (SOCKET_ERROR, 0xdead, WSAEFAULT), "short output");
        let mut out = [0u8; 4];
        assert_eq!(ioctl(rx, SIOCATMARK as u32, &[], &mut out), (0, 4, 0xbeef));
        assert_eq!(u32::from_ne_bytes(out), 1, "no urgent data: TRUE");
        let r = ioctl(rx, SIOCATMARK as u32, &[], &mut []);
        assert_eq!(r, (SOCKET_ERROR, 0xdead, WSAEFAULT), "NULL output");
        closesocket(rx);
        closesocket(tx);
    });
}

#[test]
fn ex_1_keepalive_vals_set_so_keepalive_and_the_tcp_times() {
    started(|| unsafe {
        let s = tcp();
        let vals = |on: u32, time: u32, interval: u32| {
            let k = tcp_keepalive {
                onoff: on,
                keepalivetime: time,
                keepaliveinterval: interval,
            };
            let mut b = [0u8; 12];
            b[..4].copy_from_slice(&k.onoff.to_ne_bytes());
            b[4..8].copy_from_slice(&k.keepalivetime.to_ne_bytes());
            b[8..].copy_from_slice(&k.keepaliveinterval.to_ne_bytes());
            b
        };
        let keepalive = |s| {
            let mut v = [0xffu8; 1];
            let mut len = 1;
            assert_eq!(
                getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, v.as_mut_ptr(), &mut len),
                0
            );
            v[0]
        };
        let tcp_opt = |s, name| {
            let mut v = 0u32;
            let mut len = 4;
            let p = (&mut v as *mut u32).cast();
            assert_eq!(getsockopt(s, IPPROTO_TCP, name, p, &mut len), 0);
            v
        };
        assert_eq!(
            ioctl(s, SIO_KEEPALIVE_VALS, &vals(1, 5000, 2500), &mut []),
            (0, 0, 0xbeef)
        );
        assert_eq!(keepalive(s), 1);
        assert_eq!(
            (tcp_opt(s, TCP_KEEPALIVE), tcp_opt(s, TCP_KEEPINTVL)),
            (5, 2)
        );
        assert_eq!(
            ioctl(s, SIO_KEEPALIVE_VALS, &vals(0, 100, 100), &mut []),
            (0, 0, 0xbeef)
        );
        assert_eq!(keepalive(s), 0);
        assert_eq!(tcp_opt(s, TCP_KEEPALIVE), 5, "times kept while off");
        let r = ioctl(s, SIO_KEEPALIVE_VALS, &vals(1, 1, 1)[..11], &mut []);
        assert_eq!(r, (SOCKET_ERROR, 0, WSAEFAULT), "the size is reset to 0");
        assert_eq!(keepalive(s), 0, "a refused call changes nothing");
        closesocket(s);
    });
}

#[test]
fn ex_1_base_handle_codes_return_the_socket_itself() {
    started(|| unsafe {
        let s = tcp();
        for code in [
            SIO_BASE_HANDLE,
            SIO_BSP_HANDLE,
            SIO_BSP_HANDLE_SELECT,
            SIO_BSP_HANDLE_POLL,
        ] {
            let mut out = [0u8; 8];
            assert_eq!(ioctl(s, code, &[], &mut out), (0, 8, 0xbeef), "{code:#x}");
            assert_eq!(usize::from_ne_bytes(out), s);
            let r = ioctl(s, code, &[], &mut [0u8; 4]);
            assert_eq!(
                r,
                (SOCKET_ERROR, 0xdead, WSAEFAULT),
                "{code:#x} short output"
            );
        }
        closesocket(s);
    });
}

#[test]
fn ex_1_unknown_code_eopnotsupp_bad_socket_enotsock_null_count_efault() {
    process().run(|| unsafe {
        let mut out = [0u8; 8];
        let r = ioctl(1234, SIO_BASE_HANDLE, &[], &mut out);
        assert_eq!(
            r,
            (SOCKET_ERROR, 0xdead, WSANOTINITIALISED),
            "before WSAStartup"
        );
        startup_2_2();
        let s = tcp();
        let r = ioctl(s, 0xdead_0001, &[], &mut out);
        assert_eq!(
            r,
            (SOCKET_ERROR, 0, WSAEOPNOTSUPP),
            "the size is reset to 0"
        );
        let r = ioctl(s + 1000, SIO_BASE_HANDLE, &[], &mut out);
        assert_eq!(r, (SOCKET_ERROR, 0xdead, WSAENOTSOCK));
        let p = out.as_mut_ptr().cast();
        let r = WSAIoctl(
            s,
            SIO_BASE_HANDLE,
            null(),
            0,
            p,
            8,
            null_mut(),
            null_mut(),
            None,
        );
        assert_fails(r, WSAEFAULT);
        let mut ov = OVERLAPPED::default();
        let r = WSAIoctl(s, 0xdead_0001, null(), 0, p, 8, null_mut(), &mut ov, None);
        assert_fails(r, WSAEFAULT); // Before the code is looked at, with an OVERLAPPED too.
        assert_eq!(ov.Internal, 0, "no operation started");
        closesocket(s);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn ex_1_overlapped_wsaioctl_completes_at_once_with_event_result_and_a_zero_byte_packet() {
    started(|| unsafe {
        let s = tcp();
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert!(!port.is_null());
        assert_eq!(CreateIoCompletionPort(s as HANDLE, port, 77, 0), port);
        let mut ov = OVERLAPPED {
            Internal: 0xdead,
            InternalHigh: 0xdead,
            hEvent: WSACreateEvent() as HANDLE,
            ..OVERLAPPED::default()
        };
        let mut out = [0xffu8; 4];
        let mut n = 0xdead;
        let op = out.as_mut_ptr().cast();
        let r = WSAIoctl(s, FIONREAD as u32, null(), 0, op, 4, &mut n, &mut ov, None);
        assert_eq!((r, n, u32::from_ne_bytes(out)), (0, 4, 0));
        assert_eq!(
            (ov.Internal, ov.InternalHigh),
            (0, 0),
            "the completion has no bytes"
        );
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 0), WSA_WAIT_EVENT_0 as u32);
        let (mut bytes, mut flags) = (0xdead, 0);
        assert_eq!(
            WSAGetOverlappedResult(s, &ov, &mut bytes, FALSE, &mut flags),
            TRUE
        );
        assert_eq!(bytes, 0);
        let (mut bytes, mut key, mut got) = (0xdead, 0, null_mut());
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!(
            (ok, bytes, key, got),
            (TRUE, 0, 77, &mut ov as *mut OVERLAPPED)
        );
        // A refused overlapped WSAIoctl indicates nothing.
        let mut ov2 = OVERLAPPED::default();
        let g = [0u8; 16];
        let r = WSAIoctl(
            s,
            SIO_GET_EXTENSION_FUNCTION_POINTER,
            g.as_ptr().cast(),
            16,
            op,
            8,
            &mut n,
            &mut ov2,
            None,
        );
        assert_fails(r, WSAEINVAL);
        let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
        assert_eq!(
            (ok, GetLastError()),
            (FALSE, WAIT_TIMEOUT as u32),
            "no packet"
        );
        closesocket(s);
        assert_eq!(CloseHandle(port), TRUE);
    });
}

#[test]
fn ex_1_overlapped_unknown_code_and_base_handle_pend_then_fail_not_supported() {
    started(|| unsafe {
        const ERROR_NOT_SUPPORTED: u32 = 50;
        const STATUS_NOT_SUPPORTED: usize = 0xC000_00BB;
        let s = tcp();
        let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0);
        assert_eq!(CreateIoCompletionPort(s as HANDLE, port, 5, 0), port);
        for code in [0xdead_0001, SIO_BASE_HANDLE] {
            let mut ov = OVERLAPPED::default();
            let mut base = [0xeeu8; 8];
            let mut n = 0xdead;
            let r = WSAIoctl(
                s,
                code,
                null(),
                0,
                base.as_mut_ptr().cast(),
                8,
                &mut n,
                &mut ov,
                None,
            );
            assert_fails(r, WSA_IO_PENDING);
            assert_eq!((n, base), (0xdead, [0xee; 8]), "{code:#x}: nothing written");
            assert_eq!((ov.Internal, ov.InternalHigh), (STATUS_NOT_SUPPORTED, 0));
            let (mut bytes, mut key, mut got) = (0xdead, 0, null_mut());
            let ok = GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0);
            assert_eq!(
                (ok, GetLastError()),
                (FALSE, ERROR_NOT_SUPPORTED),
                "{code:#x}"
            );
            assert_eq!((bytes, key, got), (0, 5, &mut ov as *mut OVERLAPPED));
            let (mut bytes, mut flags) = (0, 0);
            assert_eq!(
                WSAGetOverlappedResult(s, &ov, &mut bytes, FALSE, &mut flags),
                FALSE
            );
            assert_eq!(WSAGetLastError(), WSAEOPNOTSUPP);
        }
        closesocket(s);
        assert_eq!(CloseHandle(port), TRUE);
    });
}
