//! EX-5: `WSARecvMsg`'s control data and flags: `IN_PKTINFO` with `IP_PKTINFO` set (the
//! address a datagram was sent to, and the interface), none without it, `MSG_TRUNC` for a
//! datagram larger than the buffers, `MSG_CTRUNC` for a control buffer too small. Results and
//! error codes are asserted exactly.

use std::ptr::null_mut;

use ws2sim::sys::*;
use ws2sim::Sim;

mod common;
use common::*;

/// `WSARecvMsg` into `room` bytes of data and `control_room` bytes of control data: (result,
/// error or 0, bytes, data, control, dwFlags).
fn recv_msg(s: SOCKET, room: usize, control_room: u32) -> (i32, i32, u32, Vec<u8>, Vec<u8>, u32) {
    unsafe {
        let mut data = vec![0u8; room];
        let mut control = vec![0u8; 64];
        let mut buf = WSABUF {
            len: room as u32,
            buf: data.as_mut_ptr(),
        };
        let mut msg = WSAMSG {
            lpBuffers: &mut buf,
            dwBufferCount: 1,
            Control: WSABUF {
                len: control_room,
                buf: control.as_mut_ptr(),
            },
            ..WSAMSG::default()
        };
        let mut n = 0;
        let r = WSARecvMsg(s, &mut msg, &mut n, null_mut(), None);
        let err = if r == 0 { 0 } else { WSAGetLastError() };
        control.truncate(msg.Control.len as usize);
        (r, err, n, data, control, msg.dwFlags)
    }
}

fn set_pktinfo(s: SOCKET) {
    let on: u32 = 1;
    let r = unsafe { setsockopt(s, IPPROTO_IP, IP_PKTINFO, (&on as *const u32).cast(), 4) };
    assert_eq!(r, 0);
}

/// The `IN_PKTINFO` message for a datagram sent to `to` arriving on interface `index`.
fn pktinfo(to: [u8; 4], index: u32) -> Vec<u8> {
    let mut v = 24usize.to_ne_bytes().to_vec();
    v.extend_from_slice(&IPPROTO_IP.to_ne_bytes());
    v.extend_from_slice(&IP_PKTINFO.to_ne_bytes());
    v.extend_from_slice(&to);
    v.extend_from_slice(&index.to_ne_bytes());
    v
}

#[test]
fn ex_5_wsarecvmsg_gives_in_pktinfo_only_with_ip_pktinfo_set() {
    let h = two_hosts(Sim::new());
    let ip = h.server_ip.octets();
    let rx = h
        .server
        .run(|| udp_bound(&sockaddr(std::net::Ipv4Addr::UNSPECIFIED, 7800)));
    h.client.run(|| {
        let tx = udp();
        let to = sockaddr(h.server_ip, 7800);
        assert_eq!(send_to(tx, b"one", &to), 3);
        assert_eq!(send_to(tx, b"two", &to), 3);
    });
    h.sim.advance(std::time::Duration::from_millis(10));
    h.server.run(|| {
        let (r, _, n, data, control, flags) = recv_msg(rx, 8, 64);
        assert_eq!(
            (r, n, &data[..3], control, flags),
            (0, 3, &b"one"[..], Vec::new(), 0),
            "no IP_PKTINFO"
        );
        set_pktinfo(rx);
        let (r, _, n, data, control, flags) = recv_msg(rx, 8, 64);
        assert_eq!((r, n, &data[..3], flags), (0, 3, &b"two"[..], 0));
        assert_eq!(
            control,
            pktinfo(ip, 2),
            "sent to the host's address, interface 2"
        );
        // Loopback: 127.0.0.1, interface 1.
        let tx = udp();
        assert_eq!(
            send_to(tx, b"lo", &sockaddr(std::net::Ipv4Addr::LOCALHOST, 7800)),
            2
        );
    });
    h.sim.advance(std::time::Duration::from_millis(10));
    h.server.run(|| {
        let (r, _, n, _, control, _) = recv_msg(rx, 8, 64);
        assert_eq!((r, n, control), (0, 2, pktinfo([127, 0, 0, 1], 1)));
    });
}

#[test]
fn ex_5_msg_trunc_for_a_large_datagram_msg_ctrunc_for_a_small_control_buffer() {
    started(|| {
        let at = sockaddr(std::net::Ipv4Addr::LOCALHOST, 7810);
        let rx = udp_bound(&at);
        set_pktinfo(rx);
        let tx = udp();
        assert_eq!(send_to(tx, b"0123456789", &at), 10);
        assert_eq!(send_to(tx, b"abc", &at), 3);
        assert_eq!(wait_one(select_events(rx, FD_READ), 1000), SIGNALLED);
        let (r, err, _, data, control, flags) = recv_msg(rx, 4, 64);
        assert_eq!((r, err), (SOCKET_ERROR, WSAEMSGSIZE));
        assert_eq!((&data[..], flags), (&b"0123"[..], MSG_TRUNC));
        assert_eq!(
            control,
            pktinfo([127, 0, 0, 1], 1),
            "the control data still comes"
        );
        let (r, _, n, _, control, flags) = recv_msg(rx, 8, 16);
        assert_eq!((r, n, control, flags), (0, 3, Vec::new(), MSG_CTRUNC));
    });
}

#[test]
fn ex_5_an_overlapped_wsarecvmsg_gets_its_control_data_and_flags_at_completion() {
    started(|| unsafe {
        let at = sockaddr(std::net::Ipv4Addr::LOCALHOST, 7820);
        let rx = udp_bound(&at);
        set_pktinfo(rx);
        let mut data = [0u8; 4];
        let mut control = [0u8; 64];
        let mut buf = WSABUF {
            len: 4,
            buf: data.as_mut_ptr(),
        };
        let mut msg = WSAMSG {
            lpBuffers: &mut buf,
            dwBufferCount: 1,
            Control: WSABUF {
                len: 64,
                buf: control.as_mut_ptr(),
            },
            dwFlags: 0xdead,
            ..WSAMSG::default()
        };
        let mut ov = ov_with_event();
        let r = WSARecvMsg(rx, &mut msg, null_mut(), &mut ov, None);
        assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
        let tx = udp();
        assert_eq!(send_to(tx, b"0123456789", &at), 10);
        assert_eq!(wait_one(ov.hEvent as WSAEVENT, 1000), SIGNALLED);
        let (mut n, mut flags) = (0, 0);
        assert_eq!(
            WSAGetOverlappedResult(rx, &ov, &mut n, FALSE, &mut flags),
            FALSE
        );
        assert_eq!(WSAGetLastError(), WSAEMSGSIZE);
        assert_eq!((&data, msg.dwFlags), (b"0123", MSG_TRUNC));
        let got = control[..msg.Control.len as usize].to_vec();
        assert_eq!(got, pktinfo([127, 0, 0, 1], 1));
    });
}
