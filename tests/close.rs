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

// ---------------------------------------------------------------------------------------------
// CS-2..CS-5: closesocket on a connection, by linger setting. The server's receive window is
// 1000 bytes, so of the client's 5000 bytes 1000 reach the server and 4000 stay queued in the
// client's send queue until the server reads.

use std::time::Duration;

use ws2sim::{Event, Rule};

const SENT: usize = 5000;
const WINDOW: u32 = 1000;

/// The `closesocket` calls `p` made, in order.
fn closes(sim: &Sim, p: &ws2sim::Process) -> Vec<Event> {
    events_of(sim, "closesocket", p)
}

/// The client closes its socket (with the last error preset), then tries again and fails
/// WSAENOTSOCK: (the virtual time the first closesocket took, its trace event).
#[track_caller]
fn client_closes(p: &Pair) -> (Duration, Event) {
    let waited = p.client.run(|| unsafe {
        WSASetLastError(BEEF);
        let t0 = p.sim.now();
        assert_eq!(closesocket(p.c), 0);
        let waited = p.sim.now() - t0;
        assert_fails(closesocket(p.c), WSAENOTSOCK);
        waited
    });
    (waited, closes(&p.sim, &p.client).swap_remove(0))
}

/// A connection whose client set `SO_LINGER {1, seconds}` and sent `len` bytes of
/// [`pattern`], delivered as far as the server's 1000-byte window lets them: (the pair, the
/// bytes sent).
fn sent_with_linger(port: u16, seconds: u16, len: usize) -> (Pair, Vec<u8>) {
    let p = tcp_pair(&Sim::new(), port, WINDOW);
    let data = pattern(len);
    p.client.run(|| {
        set_linger(p.c, 1, seconds);
        send_all(p.c, &data);
    });
    p.sim.run();
    (p, data)
}

/// The connection was reset with the bytes beyond the window still queued at the client: the
/// server reads the window's worth then WSAECONNRESET, and the 4000 unsent bytes are lost in
/// one `DataLoss` event of the client.
#[track_caller]
fn assert_reset_losing_the_unsent_bytes(p: &Pair, data: &[u8]) {
    p.sim.run();
    p.server_reads(&data[..WINDOW as usize], RESET);
    p.sim.run();
    assert_one_loss(&p.sim, &p.client, 4000);
}

#[test]
fn cs_2_linger_off_returns_at_once_and_queued_data_still_arrives_then_fin() {
    let sim = Sim::new();
    let p = tcp_pair(&sim, 7001, WINDOW);
    let data = pattern(SENT);
    p.client.run(|| {
        assert_eq!(get_linger(p.c), LINGER::default(), "linger off by default");
        send_all(p.c, &data);
    });
    sim.run();
    // Only the window's worth arrived: the rest is queued at the client.
    p.server
        .run(|| assert_eq!(fionread(p.s), WINDOW, "4000 bytes still queued"));
    let (waited, ev) = client_closes(&p);
    assert_eq!(waited, Duration::ZERO, "closesocket did not wait");
    assert_eq!((ev.error, ev.blocked), (None, Duration::ZERO), "{ev}");
    assert!(ev.rules.contains(&Rule::Cs2), "{ev}");

    p.server_reads(&data, GRACEFUL);
    assert_no_loss(&sim);
}

#[test]
fn cs_3_linger_zero_resets_at_once_and_discards_unsent_data() {
    let (p, data) = sent_with_linger(7002, 0, SENT);
    let (waited, ev) = client_closes(&p);
    assert_eq!(waited, Duration::ZERO, "closesocket did not wait");
    assert_eq!((ev.error, ev.blocked), (None, Duration::ZERO), "{ev}");
    assert!(ev.rules.contains(&Rule::Cs3), "{ev}");
    assert_eq!(p.sim.lost_bytes(), (SENT - WINDOW as usize) as u64);

    assert_reset_losing_the_unsent_bytes(&p, &data);
    p.server.run(|| unsafe {
        WSASetLastError(BEEF);
        assert_fails(send(p.s, data.as_ptr(), 10, 0), WSAECONNRESET);
    });
}

#[test]
fn cs_4_blocking_linger_times_out_then_resets() {
    let (p, data) = sent_with_linger(7003, 3, SENT);
    // The server never reads: the queued 4000 bytes can never go.
    let (waited, ev) = client_closes(&p);
    assert_eq!(waited, Duration::from_secs(3), "waited the timeout");
    assert_eq!(ev.error, None, "{ev}");
    assert_eq!(ev.blocked, Duration::from_secs(3), "{ev}");
    assert!(ev.rules.contains(&Rule::Cs4), "{ev}");
    assert_eq!(p.sim.lost_bytes(), 4000);

    assert_reset_losing_the_unsent_bytes(&p, &data);
}

#[test]
fn cs_4_blocking_linger_with_nothing_to_send_closes_gracefully_at_once() {
    // 600 bytes fit the window: everything was delivered.
    let (p, data) = sent_with_linger(7004, 10, 600);
    let t0 = p.sim.now();
    p.client.run(|| unsafe {
        assert_eq!(closesocket(p.c), 0);
        assert_eq!(p.sim.now(), t0);
    });
    p.server_reads(&data, GRACEFUL);
    assert_eq!(p.sim.lost_bytes(), 0);
}

#[test]
fn cs_4_blocking_linger_waits_until_data_in_flight_is_out() {
    let sim = Sim::new();
    // A default (64 KiB) window: all 5000 bytes leave the send queue at once but take 1 ms.
    let p = tcp_pair_with(&sim, 7005, |_| {});
    let data = pattern(SENT);
    let t0 = p.client.run(|| unsafe {
        set_linger(p.c, 1, 10);
        send_all(p.c, &data);
        let t0 = sim.now();
        assert_eq!(closesocket(p.c), 0);
        t0
    });
    let ev = &closes(&sim, &p.client)[0];
    assert!(ev.blocked > Duration::ZERO, "{ev}");
    assert!(
        sim.now() - t0 < Duration::from_secs(10),
        "graceful, not timed out"
    );
    p.server_reads(&data, GRACEFUL);
    assert_eq!(sim.lost_bytes(), 0);
}

#[test]
fn cs_5_nonblocking_linger_with_queued_data_would_block_and_keeps_the_socket() {
    let sim = Sim::new();
    let p = tcp_pair(&sim, 7006, WINDOW);
    let data = pattern(SENT + 100);
    let t0 = p.client.run(|| unsafe {
        set_linger(p.c, 1, 10);
        set_nonblocking(p.c, true);
        send_all(p.c, &data[..SENT]);
        let t0 = sim.now();
        WSASetLastError(BEEF);
        assert_fails(closesocket(p.c), WSAEWOULDBLOCK);
        assert_eq!(sim.now(), t0, "no wait");
        // The socket is still valid and usable.
        assert_eq!(get_linger(p.c), linger(1, 10));
        assert_eq!(so_type(p.c), (0, SOCK_STREAM));
        send_all(p.c, &data[SENT..]);
        t0
    });
    assert_eq!(sim.now(), t0);
    let ev = &closes(&sim, &p.client)[0];
    assert_eq!(ev.error, Some(WsaError::WouldBlock), "{ev}");
    assert!(ev.rules.contains(&Rule::Cs5), "{ev}");

    // No disconnect was started: once every byte is read, the server's recv would block
    // instead of returning 0.
    p.server.run(|| {
        set_nonblocking(p.s, true);
        let (got, r, err) = recv_nonblocking_to_end(&sim, p.s);
        assert!(
            got == data,
            "every byte, in order, including the later send"
        );
        assert_eq!((r, err), (SOCKET_ERROR, WSAEWOULDBLOCK), "no FIN");
    });
    // Nothing queued any more: now it closes.
    p.client.run(|| unsafe {
        assert_eq!(closesocket(p.c), 0);
        assert_fails(closesocket(p.c), WSAENOTSOCK);
    });
    p.server.run(|| {
        let (got, r, err) = recv_nonblocking_to_end(&sim, p.s);
        assert!(got.is_empty());
        assert_eq!((r, err), GRACEFUL, "the FIN came with the close");
    });
    assert_eq!(sim.lost_bytes(), 0);
}

#[test]
fn cs_5_nonblocking_linger_without_queued_data_closes() {
    let sim = Sim::new();
    let p = tcp_pair(&sim, 7007, WINDOW);
    let data = pattern(300);
    p.client.run(|| unsafe {
        set_linger(p.c, 1, 10);
        set_nonblocking(p.c, true);
        send_all(p.c, &data);
        // Until the peer acknowledges the bytes they are still queued (CS-5) ...
        assert_fails(closesocket(p.c), WSAEWOULDBLOCK);
        // ... once it has, nothing is queued and the close goes through at once.
        sim.run();
        assert_eq!(closesocket(p.c), 0);
        assert_fails(closesocket(p.c), WSAENOTSOCK);
    });
    let ev = &closes(&sim, &p.client)[1];
    assert_eq!((ev.error, ev.blocked), (None, Duration::ZERO), "{ev}");
    p.server_reads(&data, GRACEFUL);
    assert_eq!(sim.lost_bytes(), 0);
}

#[test]
fn cs_8_accepted_socket_inherits_the_listeners_linger() {
    let sim = Sim::new();
    let p = tcp_pair_with(&sim, 7008, |l| set_linger(l, 1, 555));
    p.server.run(|| {
        assert_eq!(get_linger(p.listener), linger(1, 555));
        assert_eq!(get_linger(p.s), linger(1, 555));
    });
    p.client
        .run(|| assert_eq!(get_linger(p.c), LINGER::default(), "the connector's own"));
    let accept = sim.trace().calls("accept").last().cloned().unwrap();
    assert!(accept.rules.contains(&Rule::Cs8), "{accept}");
}

#[test]
fn cs_8_inherited_linger_zero_governs_the_accepted_sockets_close() {
    let sim = Sim::new();
    let p = tcp_pair_with(&sim, 7009, |l| set_linger(l, 1, 0));
    p.server.run(|| unsafe {
        assert_eq!(get_linger(p.s), linger(1, 0));
        assert_eq!(closesocket(p.s), 0);
    });
    sim.run();
    // Reset, not FIN.
    p.client_reads(&[], RESET);
}

/// ER-4: no argument value makes a public function panic: a getsockopt buffer larger than
/// Winsock can express fails WSAEFAULT (before anything is allocated).
#[test]
fn er_4_api_option_with_an_impossible_capacity_fails_efault() {
    started(|| {
        let s = ws2sim::Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        assert_eq!(
            s.option(SOL_SOCKET, SO_TYPE, usize::MAX),
            Err(ws2sim::WsaError::Fault)
        );
        assert_eq!(
            s.option(SOL_SOCKET, SO_TYPE, 4),
            Ok(1i32.to_ne_bytes().to_vec())
        );
        s.close().unwrap();
    });
}
