//! CS-1 (closesocket and handle values), CS-8 (linger options and the option-length behaviour
//! Windows shows in Wine's sock.c `test_set_getsockopt`) and `ioctlsocket`.

use std::collections::BTreeSet;

use ws2sim::sys::*;
use ws2sim::{Linger, Sim, Socket, WsaError};

mod common;
use common::*;

/// `setsockopt(SOL_SOCKET, name)` with `bytes`; returns (result, last error).
unsafe fn set(s: SOCKET, name: i32, bytes: &[u8]) -> (i32, i32) {
    last_error_after(|| setsockopt(s, SOL_SOCKET, name, bytes.as_ptr(), bytes.len() as i32))
}

/// `getsockopt(SOL_SOCKET, name)` into a 4-byte buffer prefilled with 0xdeadbeef, with `*optlen`
/// = `optlen`; returns (result, last error, buffer as u32 LE, optlen after).
unsafe fn get4(s: SOCKET, name: i32, optlen: i32) -> (i32, i32, u32, i32) {
    let mut buf = 0xdeadbeef_u32.to_le_bytes();
    let mut len = optlen;
    let (r, err) = last_error_after(|| getsockopt(s, SOL_SOCKET, name, buf.as_mut_ptr(), &mut len));
    (r, err, u32::from_le_bytes(buf), len)
}

unsafe fn get_dword(s: SOCKET, name: i32) -> u32 {
    let (r, _, v, len) = get4(s, name, 4);
    assert_eq!((r, len), (0, 4), "getsockopt({name:#x})");
    v
}

// ---------------------------------------------------------------------------------------------
// CS-1

#[test]
fn cs_1_closesocket_on_unknown_handles_fails_enotsock() {
    started(|| unsafe {
        let live = tcp();
        for h in [0, 1, 3, 4, 8, 0x1234, live + 1, live + 4, INVALID_SOCKET] {
            WSASetLastError(BEEF);
            assert_eq!(closesocket(h), SOCKET_ERROR, "handle {h:#x}");
            assert_eq!(WSAGetLastError(), WSAENOTSOCK, "handle {h:#x}");
        }
        // The live socket was not disturbed by the misses.
        assert_eq!(get_dword(live, SO_TYPE), SOCK_STREAM as u32);
        assert_eq!(closesocket(live), 0);
    });
}

#[test]
fn cs_1_closesocket_twice_fails_enotsock() {
    started(|| unsafe {
        let s = tcp();
        WSASetLastError(BEEF);
        assert_eq!(closesocket(s), 0);
        assert_fails(closesocket(s), WSAENOTSOCK);
        // Through the safe layer as well.
        assert_eq!(Socket::from_raw(s).close(), Err(WsaError::NotSocket));
    });
}

#[test]
fn cs_1_handles_are_nonzero_multiples_of_four() {
    started(|| unsafe {
        let mut open = Vec::new();
        for i in 0..64 {
            let s = if i % 2 == 0 { tcp() } else { udp() };
            assert_eq!(s % 4, 0, "{s:#x}");
            assert_ne!(s, 0);
            assert_ne!(s, INVALID_SOCKET);
            open.push(s);
        }
        for s in open {
            assert_eq!(closesocket(s), 0);
        }
    });
}

#[test]
fn cs_1_closed_handles_are_never_handed_out_again() {
    const CYCLES: usize = 4;
    const PER_CYCLE: usize = 600;
    let sim = Sim::new();
    let procs = [sim.localhost().process("a"), sim.host("other").process("b")];
    let mut seen = BTreeSet::new();
    let mut stale: Vec<SOCKET> = Vec::new();
    let mut total = 0usize;
    for cycle in 0..CYCLES {
        for p in &procs {
            let made = p.run(|| unsafe {
                startup_2_2();
                // Handles from earlier cycles and from the other process reach nothing.
                for &h in &stale {
                    WSASetLastError(BEEF);
                    assert_eq!(closesocket(h), SOCKET_ERROR, "cycle {cycle}: {h:#x}");
                    assert_eq!(WSAGetLastError(), WSAENOTSOCK);
                }
                let mut made = Vec::with_capacity(PER_CYCLE);
                let mut open = Vec::new();
                for i in 0..PER_CYCLE {
                    let s = if i % 3 == 0 { udp() } else { tcp() };
                    made.push(s);
                    open.push(s);
                    // Close most right away so slots are reused; some stay open until the
                    // final cleanup closes them.
                    if i % 5 != 4 {
                        assert_eq!(closesocket(open.pop().unwrap()), 0);
                    }
                }
                assert!(!open.is_empty());
                assert_eq!(WSACleanup(), 0);
                made
            });
            assert_eq!(p.live_resources(), 0);
            total += made.len();
            seen.extend(made.iter().copied());
            assert_eq!(seen.len(), total, "a handle value was handed out twice");
            stale.extend(made.iter().step_by(37));
        }
    }
    assert_eq!(total, CYCLES * PER_CYCLE * procs.len());
    assert_eq!(seen.len(), total);
    assert!(seen
        .iter()
        .all(|&h| h % 4 == 0 && h != 0 && h != INVALID_SOCKET));
}

// ---------------------------------------------------------------------------------------------
// CS-8: linger

#[test]
fn cs_8_so_linger_round_trips() {
    started(|| unsafe {
        let s = tcp();
        assert_eq!(get_linger(s), LINGER::default(), "linger is off by default");
        for (onoff, linger) in [(0, 0), (0, 73), (1, 0), (5, 189), (0x100, 7)] {
            set_linger(s, onoff, linger);
            let got = get_linger(s);
            assert_eq!((got.l_onoff, got.l_linger), (onoff, linger));
            assert_eq!(
                get_dword(s, SO_DONTLINGER),
                u32::from(onoff == 0),
                "SO_DONTLINGER = !l_onoff for {onoff:#x}"
            );
        }
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_so_linger_round_trips_through_api() {
    started(|| {
        let s = Socket::new(INET, SOCK_STREAM, IPPROTO_TCP).unwrap();
        assert_eq!(s.linger(), Ok(Linger::OFF));
        assert_eq!(s.dont_linger(), Ok(true));
        s.set_linger(Linger::on(189)).unwrap();
        assert_eq!(s.linger(), Ok(Linger::on(189)));
        assert_eq!(s.dont_linger(), Ok(false));
        s.set_dont_linger(true).unwrap();
        assert_eq!(
            s.linger(),
            Ok(Linger {
                onoff: 0,
                seconds: 189
            })
        );
        s.close().unwrap();
    });
}

#[test]
fn cs_8_so_dontlinger_flips_l_onoff_and_keeps_l_linger() {
    started(|| unsafe {
        let s = tcp();
        set_linger(s, 5, 189);
        assert_eq!(set(s, SO_DONTLINGER, &1u32.to_ne_bytes()), (0, 0));
        assert_eq!(get_linger(s), linger(0, 189));
        assert_eq!(get_dword(s, SO_DONTLINGER), 1);

        assert_eq!(set(s, SO_DONTLINGER, &0u32.to_ne_bytes()), (0, 0));
        assert_eq!(get_linger(s), linger(1, 189));
        assert_eq!(get_dword(s, SO_DONTLINGER), 0);

        // Any non-zero value means TRUE and reads back as 1.
        assert_eq!(set(s, SO_DONTLINGER, &0x100u32.to_ne_bytes()), (0, 0));
        assert_eq!(get_dword(s, SO_DONTLINGER), 1);
        assert_eq!(get_linger(s), linger(0, 189));
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_udp_has_no_linger_options() {
    started(|| unsafe {
        let s = udp();
        for name in [SO_LINGER, SO_DONTLINGER] {
            let (r, err, v, len) = get4(s, name, 4);
            assert_eq!((r, err), (SOCKET_ERROR, WSAENOPROTOOPT), "get {name:#x}");
            assert_eq!(
                (v, len),
                (0xdeadbeef, 4),
                "get {name:#x} left the buffer alone"
            );
        }
        let l = linger(1, 5);
        WSASetLastError(BEEF);
        assert_fails(
            setsockopt(s, SOL_SOCKET, SO_LINGER, (&l as *const LINGER).cast(), 4),
            WSAENOPROTOOPT,
        );
        assert_eq!(
            set(s, SO_DONTLINGER, &1u32.to_ne_bytes()),
            (SOCKET_ERROR, WSAENOPROTOOPT)
        );
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_null_option_value_fails_efault() {
    started(|| unsafe {
        let s = tcp();
        set_linger(s, 1, 9);
        for (name, len) in [(SO_LINGER, 4), (SO_LINGER, 0), (SO_DONTLINGER, 4)] {
            WSASetLastError(BEEF);
            assert_eq!(
                setsockopt(s, SOL_SOCKET, name, std::ptr::null(), len),
                SOCKET_ERROR,
                "set {name:#x} NULL, {len}"
            );
            assert_eq!(WSAGetLastError(), WSAEFAULT, "set {name:#x} NULL, {len}");
        }
        assert_eq!(get_linger(s), linger(1, 9));

        for name in [SO_LINGER, SO_DONTLINGER, SO_TYPE] {
            let mut len = 4;
            WSASetLastError(BEEF);
            assert_eq!(
                getsockopt(s, SOL_SOCKET, name, std::ptr::null_mut(), &mut len),
                SOCKET_ERROR
            );
            assert_eq!(WSAGetLastError(), WSAEFAULT, "get {name:#x} NULL optval");
            assert_eq!(len, 4);

            let mut buf = [0xeeu8; 4];
            WSASetLastError(BEEF);
            assert_eq!(
                getsockopt(s, SOL_SOCKET, name, buf.as_mut_ptr(), std::ptr::null_mut()),
                SOCKET_ERROR
            );
            assert_eq!(WSAGetLastError(), WSAEFAULT, "get {name:#x} NULL optlen");
        }
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_get_so_linger_short_optlen_zeroes_and_fails_efault() {
    started(|| unsafe {
        let s = tcp();
        set_linger(s, 1, 9);
        assert_eq!(
            get4(s, SO_LINGER, 1),
            (SOCKET_ERROR, WSAEFAULT, 0xdeadbe00, 1)
        );
        assert_eq!(
            get4(s, SO_LINGER, 2),
            (SOCKET_ERROR, WSAEFAULT, 0xdead0000, 2)
        );
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_get_so_linger_optlen_four_or_more_reports_four() {
    started(|| unsafe {
        let s = tcp();
        set_linger(s, 1, 9);
        let expect = u32::from_le_bytes([1, 0, 9, 0]);
        let (r, _, v, len) = get4(s, SO_LINGER, 4);
        assert_eq!((r, v, len), (0, expect, 4));

        let mut buf = [0xeeu8; 8];
        let mut len = 8;
        assert_eq!(
            getsockopt(s, SOL_SOCKET, SO_LINGER, buf.as_mut_ptr(), &mut len),
            0
        );
        assert_eq!(len, 4);
        assert_eq!(buf, [1, 0, 9, 0, 0xee, 0xee, 0xee, 0xee]);
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_set_so_linger_needs_four_bytes() {
    started(|| unsafe {
        let s = tcp();
        let value = [1u8, 0, 42, 0, 0xff, 0xff, 0xff, 0xff];
        for n in [1usize, 2] {
            assert_eq!(
                set(s, SO_LINGER, &value[..n]),
                (SOCKET_ERROR, WSAEFAULT),
                "optlen {n}"
            );
            assert_eq!(
                get_linger(s),
                LINGER::default(),
                "optlen {n} changed nothing"
            );
        }
        assert_eq!(set(s, SO_LINGER, &value), (0, 0));
        assert_eq!(get_linger(s), linger(1, 42));
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_get_so_dontlinger_short_optlen_reports_one() {
    started(|| unsafe {
        let s = tcp();
        // Linger off: SO_DONTLINGER is TRUE.
        for (optlen, value, len_after) in [(1, 0xdeadbe01, 1), (2, 0xdead0001, 1), (4, 1, 4)] {
            let (r, _, v, len) = get4(s, SO_DONTLINGER, optlen);
            assert_eq!((r, v, len), (0, value, len_after), "optlen {optlen}");
        }
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_set_so_dontlinger_with_optlen_zero_succeeds_and_changes_nothing() {
    started(|| unsafe {
        let s = tcp();
        set_linger(s, 1, 5);
        let one = 1u32.to_ne_bytes();
        WSASetLastError(BEEF);
        assert_eq!(setsockopt(s, SOL_SOCKET, SO_DONTLINGER, one.as_ptr(), 0), 0);
        assert_eq!(WSAGetLastError(), 0);
        assert_eq!(get_linger(s), linger(1, 5));
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_getsockopt_zero_or_negative_optlen_fails_efault() {
    started(|| unsafe {
        let s = tcp();
        for name in [SO_LINGER, SO_DONTLINGER, SO_TYPE, SO_SNDBUF] {
            for optlen in [0, -1] {
                assert_eq!(
                    get4(s, name, optlen),
                    (SOCKET_ERROR, WSAEFAULT, 0xdeadbeef, optlen),
                    "option {name:#x}, optlen {optlen}"
                );
            }
        }
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_so_protocol_infow_length_handling() {
    started(|| unsafe {
        let s = tcp();
        let mut buf = vec![WSAPROTOCOL_INFOW::default(); 2];
        let ptr = buf.as_mut_ptr().cast::<u8>();

        let mut len = (INFO_SIZE / 2) as i32;
        WSASetLastError(BEEF);
        assert_fails(
            getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, ptr, &mut len),
            WSAEFAULT,
        );
        assert_eq!(len, 628);

        let mut len = 2 * INFO_SIZE as i32;
        assert_eq!(
            getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, ptr, &mut len),
            0
        );
        assert_eq!(len, 2 * 628);
        assert_eq!(buf[0].iProtocol, IPPROTO_TCP);
        assert_eq!(
            buf[1],
            WSAPROTOCOL_INFOW::default(),
            "only one entry written"
        );

        let mut info = WSAPROTOCOL_INFOW::default();
        assert_eq!(get_opt(s, SO_PROTOCOL_INFOW, &mut info), (0, 628));
        assert_eq!(info, buf[0]);
        assert_eq!(info.dwCatalogEntryId, 1001);
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_getsockopt_unknown_level_fails_einval() {
    started(|| unsafe {
        let s = tcp();
        for level in [0xffff_ffff_u32 as i32, 0x8000, 0x800] {
            let mut buf = 0xdeadbeef_u32.to_le_bytes();
            let mut len = 4;
            WSASetLastError(BEEF);
            assert_eq!(
                getsockopt(s, level, SO_LINGER, buf.as_mut_ptr(), &mut len),
                SOCKET_ERROR,
                "level {level:#x}"
            );
            assert_eq!(WSAGetLastError(), WSAEINVAL, "level {level:#x}");
        }
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_unknown_or_read_only_option_fails_enoprotoopt() {
    started(|| unsafe {
        let s = tcp();
        assert_eq!(
            get4(s, 0x7777, 4),
            (SOCKET_ERROR, WSAENOPROTOOPT, 0xdeadbeef, 4)
        );
        assert_eq!(
            set(s, 0x7777, &1u32.to_ne_bytes()),
            (SOCKET_ERROR, WSAENOPROTOOPT)
        );
        assert_eq!(
            set(s, SO_ACCEPTCONN, &1u32.to_ne_bytes()),
            (SOCKET_ERROR, WSAENOPROTOOPT)
        );
        assert_eq!(get_dword(s, SO_ACCEPTCONN), 0);
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn cs_8_getsockopt_on_closed_socket_fails_enotsock_and_leaves_optval() {
    started(|| unsafe {
        let s = tcp();
        assert_eq!(closesocket(s), 0);
        for name in [SO_RCVBUF, SO_LINGER, SO_DONTLINGER] {
            assert_eq!(
                get4(s, name, 4),
                (SOCKET_ERROR, WSAENOTSOCK, 0xdeadbeef, 4),
                "option {name:#x}"
            );
        }
        assert_eq!(
            set(s, SO_LINGER, &[1, 0, 1, 0]),
            (SOCKET_ERROR, WSAENOTSOCK)
        );
    });
}

#[test]
fn cs_8_send_and_receive_buffers_default_to_64k() {
    started(|| unsafe {
        for s in [tcp(), udp()] {
            assert_eq!(get_dword(s, SO_SNDBUF), 65536);
            assert_eq!(get_dword(s, SO_RCVBUF), 65536);
            assert_eq!(closesocket(s), 0);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// ioctlsocket

#[test]
fn ioctl_fionbio_null_argp_fails_efault() {
    started(|| unsafe {
        let s = tcp();
        WSASetLastError(BEEF);
        assert_fails(ioctlsocket(s, FIONBIO, std::ptr::null_mut()), WSAEFAULT);
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn ioctl_fionbio_on_and_off_succeeds_and_clears_last_error() {
    started(|| unsafe {
        let s = tcp();
        for on in [1u32, 0] {
            let mut arg = on;
            WSASetLastError(BEEF);
            assert_eq!(ioctlsocket(s, FIONBIO, &mut arg), 0, "FIONBIO {on}");
            assert_eq!(WSAGetLastError(), 0, "FIONBIO {on}");
            assert_eq!(arg, on);
        }
        assert_eq!(Socket::from_raw(s).set_nonblocking(true), Ok(()));
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn ioctl_unknown_command_fails_eopnotsupp() {
    started(|| unsafe {
        let s = tcp();
        let mut arg = 7u32;
        WSASetLastError(BEEF);
        assert_fails(ioctlsocket(s, BEEF, &mut arg), WSAEOPNOTSUPP);
        assert_eq!(arg, 7);
        assert_eq!(closesocket(s), 0);
    });
}

#[test]
fn ioctl_fionread_reports_zero_bytes() {
    started(|| unsafe {
        for s in [tcp(), udp()] {
            let mut arg = 0xdeadbeef_u32;
            assert_eq!(ioctlsocket(s, FIONREAD, &mut arg), 0);
            assert_eq!(arg, 0);
            assert_eq!(closesocket(s), 0);
        }
    });
}

#[test]
fn ioctl_on_closed_socket_fails_enotsock() {
    started(|| unsafe {
        let s = tcp();
        assert_eq!(closesocket(s), 0);
        let mut arg = 1u32;
        WSASetLastError(BEEF);
        assert_fails(ioctlsocket(s, FIONBIO, &mut arg), WSAENOTSOCK);
    });
}
