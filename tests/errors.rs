//! Error precedence (SPEC ER-1 .. ER-5) and the per-thread last error (TH-1).

use ws2sim::sys::*;
use ws2sim::{api, Event, Rule, Sim, Socket, Trace, Version, WsaError};

mod common;
use common::*;

/// Asserts a status call returned `SOCKET_ERROR` and set the last error to `code`, starting
/// from a sentinel last error so a call that forgets to set it is caught.
fn check(what: &str, code: i32, f: impl FnOnce() -> i32) {
    unsafe {
        WSASetLastError(0x7777);
        assert_eq!(f(), SOCKET_ERROR, "{what}: return value");
        assert_eq!(WSAGetLastError(), code, "{what}: last error");
    }
}

/// As [`check`] for the calls that return `INVALID_SOCKET`.
fn check_socket(what: &str, code: i32, f: impl FnOnce() -> SOCKET) {
    unsafe {
        WSASetLastError(0x7777);
        assert_eq!(f(), INVALID_SOCKET, "{what}: return value");
        assert_eq!(WSAGetLastError(), code, "{what}: last error");
    }
}

/// Every handle-taking call of the first wave, on handle `s`, with valid arguments
/// (`valid_args`) or NULL/garbage ones, must fail with `code`.
fn every_handle_call_fails(s: SOCKET, code: i32) {
    unsafe {
        let mut buf = [0u8; 16];
        let mut len = 16i32;
        let linger = [1u8, 0, 5, 0];
        let mut arg = 1u32;
        check(&format!("closesocket({s:#x})"), code, || closesocket(s));
        check(&format!("getsockopt({s:#x}, valid)"), code, || {
            getsockopt(s, SOL_SOCKET, SO_TYPE, buf.as_mut_ptr(), &mut len)
        });
        check(&format!("getsockopt({s:#x}, NULL, NULL)"), code, || {
            getsockopt(
                s,
                SOL_SOCKET,
                SO_LINGER,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        });
        check(&format!("getsockopt({s:#x}, bad level)"), code, || {
            getsockopt(s, 0x1234_5678, 0x7654, std::ptr::null_mut(), &mut len)
        });
        check(&format!("setsockopt({s:#x}, valid)"), code, || {
            setsockopt(s, SOL_SOCKET, SO_LINGER, linger.as_ptr(), 4)
        });
        check(&format!("setsockopt({s:#x}, NULL)"), code, || {
            setsockopt(s, SOL_SOCKET, SO_LINGER, std::ptr::null(), 4)
        });
        check(&format!("setsockopt({s:#x}, negative len)"), code, || {
            setsockopt(s, SOL_SOCKET, SO_LINGER, linger.as_ptr(), -1)
        });
        check(&format!("ioctlsocket({s:#x}, FIONBIO)"), code, || {
            ioctlsocket(s, FIONBIO, &mut arg)
        });
        check(&format!("ioctlsocket({s:#x}, NULL)"), code, || {
            ioctlsocket(s, FIONBIO, std::ptr::null_mut())
        });
        check(&format!("ioctlsocket({s:#x}, bad cmd)"), code, || {
            ioctlsocket(s, 0x0bad_c0de, std::ptr::null_mut())
        });
    }
}

/// The events of `trace` for which `pred` holds, in order.
fn events_where(trace: &Trace, pred: impl Fn(&Event) -> bool) -> Vec<&Event> {
    trace.events().iter().filter(|e| pred(e)).collect()
}

/// Deterministic pseudo-random handle values (SplitMix64).
fn random_handles(n: usize) -> Vec<SOCKET> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as usize
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// ER-1

#[test]
fn er_1_every_call_before_startup_fails_not_initialised_whatever_the_arguments() {
    let (sim, p) = app();
    p.run(|| unsafe {
        check_socket("WSASocketW(0,0,0,NULL,0,0)", WSANOTINITIALISED, || {
            WSASocketW(0, 0, 0, std::ptr::null(), 0, 0)
        });
        check_socket("WSASocketW(garbage)", WSANOTINITIALISED, || {
            WSASocketW(-5, 0x7fff, -9, std::ptr::null(), 0xffff_ffff, 0xffff_ffff)
        });
        check_socket("socket(0xdead,..)", WSANOTINITIALISED, || {
            socket(0xdead, 0xbeef, 0x1234)
        });
        check_socket(
            "socket(AF_INET, SOCK_STREAM, TCP)",
            WSANOTINITIALISED,
            || socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP),
        );
        for s in [0, 1, 4, 0xdead_beef, INVALID_SOCKET] {
            every_handle_call_fails(s, WSANOTINITIALISED);
        }
        check(
            "WSAEnumProtocolsW(NULL, NULL, NULL)",
            WSANOTINITIALISED,
            || WSAEnumProtocolsW(std::ptr::null(), std::ptr::null_mut(), std::ptr::null_mut()),
        );
        let mut len = 0u32;
        check(
            "WSAEnumProtocolsW(NULL, NULL, &0)",
            WSANOTINITIALISED,
            || WSAEnumProtocolsW(std::ptr::null(), std::ptr::null_mut(), &mut len),
        );
        assert_eq!(len, 0, "WSAEnumProtocolsW wrote the length before startup");
        check("WSACleanup", WSANOTINITIALISED, || WSACleanup());
    });
    assert_eq!(p.startup_count(), 0);
    assert_eq!(p.live_resources(), 0);
    // ER-1 decided every failure; no later check (ER-2, ER-3) ran.
    let trace = sim.trace();
    let failures = events_where(&trace, |e| e.error.is_some());
    assert_eq!(failures.len(), 4 + 5 * 10 + 3);
    for e in failures {
        assert_eq!(e.error, Some(WsaError::NotInitialised), "{e}");
        if e.call != "WSACleanup" {
            assert!(e.rules.contains(&Rule::Er1), "{e}");
        }
        for later in [Rule::Er2, Rule::Er3, Rule::Er5] {
            assert!(!e.rules.contains(&later), "{e}");
        }
    }
}

#[test]
fn er_1_after_the_final_cleanup_live_looking_handles_fail_not_initialised() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let s = tcp();
        let d = udp();
        assert_eq!(WSACleanup(), 0);
        // Count 0 again: not WSAENOTSOCK but WSANOTINITIALISED.
        every_handle_call_fails(s, WSANOTINITIALISED);
        every_handle_call_fails(d, WSANOTINITIALISED);
        check_socket("socket", WSANOTINITIALISED, || {
            socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP)
        });
    });
}

#[test]
fn er_1_failed_startups_leave_the_process_uninitialised() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        let mut d = WSADATA::default();
        assert_eq!(WSAStartup(0x0000, &mut d), WSAVERNOTSUPPORTED);
        assert_eq!(WSAStartup(0x0202, std::ptr::null_mut()), WSAEFAULT);
        check_socket("socket", WSANOTINITIALISED, || {
            socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP)
        });
    });
}

#[test]
fn er_1_api_layer_reports_not_initialised() {
    let (_sim, p) = app();
    p.run(|| {
        assert_eq!(
            Socket::new(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP),
            Err(WsaError::NotInitialised)
        );
        assert_eq!(Socket::wsa(0, 0, 0, None, 0), Err(WsaError::NotInitialised));
        let s = Socket::from_raw(0x40);
        assert_eq!(s.socket_type(), Err(WsaError::NotInitialised));
        assert_eq!(s.set_nonblocking(true), Err(WsaError::NotInitialised));
        assert_eq!(s.linger(), Err(WsaError::NotInitialised));
        assert_eq!(s.close(), Err(WsaError::NotInitialised));
        assert_eq!(api::enum_protocols(None), Err(WsaError::NotInitialised));
        assert_eq!(api::cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(api::last_error(), WSANOTINITIALISED);
    });
}

// ---------------------------------------------------------------------------------------------
// ER-2

#[test]
fn er_2_unknown_handles_fail_not_socket() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let live = tcp();
        let mut bad = vec![
            0,
            INVALID_SOCKET,
            1,
            2,
            3,
            4,
            8,
            0x100,
            0xdead_beef,
            usize::MAX - 3,
            live + 1,
            live + 2,
            live + 4,
            live - 4,
            live ^ (1 << 40),
            live | (1 << 63),
        ];
        bad.extend(random_handles(200).into_iter().filter(|&h| h != live));
        for s in bad {
            every_handle_call_fails(s, WSAENOTSOCK);
        }
        // The live socket was not touched by any of it.
        assert_eq!(so_type(live), (0, SOCK_STREAM));
        assert_eq!(p.live_resources(), 1);
        assert_eq!(closesocket(live), 0);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn er_2_closed_handles_fail_not_socket() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let a = tcp();
        let b = udp();
        assert_eq!(closesocket(a), 0);
        assert_eq!(closesocket(b), 0);
        every_handle_call_fails(a, WSAENOTSOCK);
        every_handle_call_fails(b, WSAENOTSOCK);
        // A new socket (possibly in the same slot) is not reachable through the old handles.
        let c = tcp();
        assert_ne!(c, a);
        assert_ne!(c, b);
        every_handle_call_fails(a, WSAENOTSOCK);
        assert_eq!(so_type(c), (0, SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
    });
    let trace = sim.trace();
    let stale = events_where(&trace, |e| e.error == Some(WsaError::NotSocket));
    assert_eq!(stale.len(), 30);
    for e in stale {
        assert!(e.rules.contains(&Rule::Er2), "{e}");
        assert!(!e.rules.contains(&Rule::Er3), "{e}");
        assert_eq!(e.result, "SOCKET_ERROR", "{e}");
    }
}

#[test]
fn er_2_handles_from_before_the_final_cleanup_fail_not_socket() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        startup_2_2();
        let a = tcp();
        let b = udp();
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSACleanup(), 0);
        startup_2_2();
        every_handle_call_fails(a, WSAENOTSOCK);
        every_handle_call_fails(b, WSAENOTSOCK);
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn er_2_another_process_handle_fails_not_socket() {
    let sim = Sim::new();
    let p = sim.localhost().process("a");
    let q = sim.localhost().process("b");
    let theirs = q.run(|| {
        startup_2_2();
        tcp()
    });
    p.run(|| {
        startup_2_2();
        let mine = tcp();
        every_handle_call_fails(theirs, WSAENOTSOCK);
        assert_eq!(so_type(mine), (0, SOCK_STREAM));
        q.run(|| every_handle_call_fails(mine, WSAENOTSOCK));
        assert_eq!(so_type(mine), (0, SOCK_STREAM));
    });
    // Neither socket was closed by the other process's attempts.
    assert_eq!(p.live_resources(), 1);
    assert_eq!(q.live_resources(), 1);
    q.run(|| {
        assert_eq!(so_type(theirs), (0, SOCK_STREAM));
    });
    // A process on another host too.
    let r = sim.host("remote").process("c");
    r.run(|| {
        startup_2_2();
        every_handle_call_fails(theirs, WSAENOTSOCK);
    });
}

#[test]
fn er_2_api_layer_reports_not_socket() {
    let (_sim, p) = app();
    p.run(|| {
        api::startup(Version::V2_2).unwrap();
        let s = Socket::new(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP).unwrap();
        s.close().unwrap();
        assert_eq!(s.close(), Err(WsaError::NotSocket));
        assert_eq!(s.socket_type(), Err(WsaError::NotSocket));
        assert_eq!(s.set_nonblocking(false), Err(WsaError::NotSocket));
        assert_eq!(Socket::from_raw(12).linger(), Err(WsaError::NotSocket));
        assert_eq!(api::last_error(), WSAENOTSOCK);
        api::cleanup().unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// ER-3

#[test]
fn er_3_option_errors_come_before_pointer_errors() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let t = tcp();
        let u = udp();
        let null = std::ptr::null_mut::<u8>();
        let nlen = std::ptr::null_mut::<i32>();
        let mut len = 4i32;
        // UDP has no linger: WSAENOPROTOOPT even with NULL pointers.
        check(
            "getsockopt(udp, SO_LINGER, NULL, NULL)",
            WSAENOPROTOOPT,
            || getsockopt(u, SOL_SOCKET, SO_LINGER, null, nlen),
        );
        check(
            "getsockopt(udp, SO_DONTLINGER, NULL, NULL)",
            WSAENOPROTOOPT,
            || getsockopt(u, SOL_SOCKET, SO_DONTLINGER, null, nlen),
        );
        check(
            "setsockopt(udp, SO_LINGER, NULL, 4)",
            WSAENOPROTOOPT,
            || setsockopt(u, SOL_SOCKET, SO_LINGER, std::ptr::null(), 4),
        );
        check(
            "setsockopt(udp, SO_DONTLINGER, NULL, 4)",
            WSAENOPROTOOPT,
            || setsockopt(u, SOL_SOCKET, SO_DONTLINGER, std::ptr::null(), 4),
        );
        // TCP has it: now the pointers decide, WSAEFAULT.
        check("getsockopt(tcp, SO_LINGER, NULL, &len)", WSAEFAULT, || {
            getsockopt(t, SOL_SOCKET, SO_LINGER, null, &mut len)
        });
        let mut buf = [0u8; 4];
        check("getsockopt(tcp, SO_LINGER, buf, NULL)", WSAEFAULT, || {
            getsockopt(t, SOL_SOCKET, SO_LINGER, buf.as_mut_ptr(), nlen)
        });
        check("getsockopt(tcp, SO_LINGER, NULL, NULL)", WSAEFAULT, || {
            getsockopt(t, SOL_SOCKET, SO_LINGER, null, nlen)
        });
        check("setsockopt(tcp, SO_LINGER, NULL, 4)", WSAEFAULT, || {
            setsockopt(t, SOL_SOCKET, SO_LINGER, std::ptr::null(), 4)
        });
        check("ioctlsocket(tcp, FIONBIO, NULL)", WSAEFAULT, || {
            ioctlsocket(t, FIONBIO, std::ptr::null_mut())
        });
        // An unsupported command is refused before its argument pointer is looked at.
        check("ioctlsocket(tcp, bad cmd, NULL)", WSAEOPNOTSUPP, || {
            ioctlsocket(t, 0x0bad_c0de, std::ptr::null_mut())
        });
        // None of this changed the sockets.
        assert_eq!(so_type(t), (0, SOCK_STREAM));
        assert_eq!(so_type(u), (0, SOCK_DGRAM));
        assert_eq!(get_linger(t), LINGER::default());
        assert_eq!(WSACleanup(), 0);
    });
    let trace = sim.trace();
    let faults = events_where(&trace, |e| {
        e.error == Some(WsaError::Fault) && e.call != "ioctlsocket"
    });
    assert_eq!(faults.len(), 4);
    for e in faults {
        assert!(e.rules.contains(&Rule::Er3), "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// ER-4

#[test]
fn er_4_failures_return_the_documented_value_and_set_the_last_error() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        // socket/WSASocketW: INVALID_SOCKET (usize::MAX), never SOCKET_ERROR as usize or 0.
        check_socket("WSASocketW(0,0,0,NULL,0,0)", WSAEINVAL, || {
            WSASocketW(0, 0, 0, std::ptr::null(), 0, 0)
        });
        check_socket("socket(AF_INET, 0x7fff, 0)", WSAESOCKTNOSUPPORT, || {
            socket(AF_INET as i32, 0x7fff, 0)
        });
        check_socket("socket(0xdead, SOCK_STREAM, 0)", WSAEAFNOSUPPORT, || {
            socket(0xdead, SOCK_STREAM, 0)
        });
        assert_eq!(INVALID_SOCKET, usize::MAX);
        // Status calls: SOCKET_ERROR (-1).
        check("closesocket(0)", WSAENOTSOCK, || closesocket(0));
        let mut len = -1i32;
        let mut v = 0u32;
        let t = tcp();
        check("getsockopt(tcp, SO_TYPE, &v, &-1)", WSAEFAULT, || {
            getsockopt(
                t,
                SOL_SOCKET,
                SO_TYPE,
                (&mut v as *mut u32).cast(),
                &mut len,
            )
        });
        check("setsockopt(tcp, SO_LINGER, &v, -1)", WSAEFAULT, || {
            setsockopt(t, SOL_SOCKET, SO_LINGER, (&v as *const u32).cast(), -1)
        });
        check("setsockopt(tcp, SO_LINGER, &v, 2)", WSAEFAULT, || {
            setsockopt(t, SOL_SOCKET, SO_LINGER, (&v as *const u32).cast(), 2)
        });
        check("WSAEnumProtocolsW(NULL, NULL, NULL)", WSAEFAULT, || {
            WSAEnumProtocolsW(std::ptr::null(), std::ptr::null_mut(), std::ptr::null_mut())
        });
        assert_eq!(WSACleanup(), 0);
        check("WSACleanup", WSANOTINITIALISED, || WSACleanup());
    });
    // The trace names ER-4 on every failure it recorded the last error for.
    let trace = sim.trace();
    let failures = events_where(&trace, |e| e.error.is_some());
    assert_eq!(failures.len(), 9);
    for e in failures {
        assert!(e.rules.contains(&Rule::Er4), "{e}");
        let expected = if e.call == "socket" || e.call == "WSASocketW" {
            "INVALID_SOCKET"
        } else {
            "SOCKET_ERROR"
        };
        assert_eq!(e.result, expected, "{e}");
    }
}

#[test]
fn er_4_wsastartup_returns_its_error_and_leaves_the_last_error_alone() {
    let (sim, p) = app();
    p.run(|| unsafe {
        let mut d = WSADATA::default();
        for sentinel in [0, 1234, WSAEWOULDBLOCK, -1] {
            WSASetLastError(sentinel);
            assert_eq!(WSAStartup(0x0000, &mut d), WSAVERNOTSUPPORTED);
            assert_eq!(WSAGetLastError(), sentinel);
            assert_eq!(WSAStartup(0x0101, std::ptr::null_mut()), WSAEFAULT);
            assert_eq!(WSAGetLastError(), sentinel);
            assert_eq!(WSAStartup(0x0202, &mut d), 0);
            assert_eq!(WSAGetLastError(), sentinel, "a successful startup");
        }
        assert_eq!(p.startup_count(), 4);
    });
    let trace = sim.trace();
    for e in trace.calls("WSAStartup") {
        assert!(!e.rules.contains(&Rule::Er4), "{e}");
        match e.error {
            None => assert_eq!(e.result, "0 (version 2.2)", "{e}"),
            Some(err) => assert_eq!(e.result, err.code().to_string(), "{e}"),
        }
    }
}

#[test]
fn er_4_odd_argument_values_never_panic() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let t = tcp();
        let u = udp();
        let mut buf = [0u8; 700];
        for s in [t, u] {
            for level in [
                SOL_SOCKET,
                IPPROTO_TCP,
                IPPROTO_UDP,
                IPPROTO_IP,
                -1,
                i32::MIN,
                i32::MAX,
            ] {
                for name in [
                    0,
                    -1,
                    i32::MIN,
                    i32::MAX,
                    SO_LINGER,
                    SO_TYPE,
                    SO_PROTOCOL_INFOW,
                ] {
                    for l in [i32::MIN, -1, 0, 1, 3, 4, 700] {
                        let mut len = l;
                        let r = getsockopt(s, level, name, buf.as_mut_ptr(), &mut len);
                        assert!(r == 0 || r == SOCKET_ERROR);
                        let r = setsockopt(s, level, name, buf.as_ptr(), l);
                        assert!(r == 0 || r == SOCKET_ERROR);
                    }
                }
            }
            for cmd in [0, -1, i32::MIN, i32::MAX, FIONBIO, FIONREAD, SIOCATMARK] {
                let mut arg = 0u32;
                let r = ioctlsocket(s, cmd, &mut arg);
                assert!(r == 0 || r == SOCKET_ERROR);
            }
        }
        for (af, ty, proto) in [
            (i32::MIN, i32::MIN, i32::MIN),
            (-1, -1, -1),
            (i32::MAX, i32::MAX, i32::MAX),
            (0, 0, 1),
        ] {
            let s = socket(af, ty, proto);
            assert_eq!(s, INVALID_SOCKET, "socket({af}, {ty}, {proto})");
            let s = WSASocketW(af, ty, proto, std::ptr::null(), u32::MAX, u32::MAX);
            assert_eq!(s, INVALID_SOCKET, "WSASocketW({af}, {ty}, {proto})");
        }
        let mut len = 1u32;
        let mut info = WSAPROTOCOL_INFOW::default();
        assert_fails(
            WSAEnumProtocolsW(std::ptr::null(), &mut info, &mut len),
            WSAENOBUFS,
        );
        // The sockets are still fine.
        assert_eq!(so_type(t).1, SOCK_STREAM);
        assert_eq!(so_type(u).1, SOCK_DGRAM);
        assert_eq!(WSACleanup(), 0);
    });
    // Every failure in the trace has an error and the documented failure value.
    for e in sim.trace().events() {
        if let Some(err) = e.error {
            let expected = match e.call.as_str() {
                "socket" | "WSASocketW" => "INVALID_SOCKET".to_owned(),
                "WSAStartup" => err.code().to_string(),
                _ => "SOCKET_ERROR".to_owned(),
            };
            assert_eq!(e.result, expected, "{e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ER-5

#[test]
fn er_5_network_down_fails_every_call_net_down_after_er_1_before_er_2() {
    let sim = Sim::new();
    let host = sim.localhost();
    let p = host.process("app");
    sim.set_network_down(&host, true);
    // Before startup: ER-1 first.
    p.run(|| unsafe {
        check_socket("socket before startup", WSANOTINITIALISED, || {
            socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP)
        });
        every_handle_call_fails(0x40, WSANOTINITIALISED);
        check("WSACleanup before startup", WSANOTINITIALISED, || {
            WSACleanup()
        });
    });
    sim.set_network_down(&host, false);
    let (s, closed) = p.run(|| {
        startup_2_2();
        let closed = tcp();
        assert_eq!(unsafe { closesocket(closed) }, 0);
        (tcp(), closed)
    });
    sim.set_network_down(&host, true);
    p.run(|| unsafe {
        check_socket("socket", WSAENETDOWN, || {
            socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP)
        });
        check_socket("WSASocketW(garbage)", WSAENETDOWN, || {
            WSASocketW(0, 0, 0, std::ptr::null(), 0, 0)
        });
        // A live socket, a closed one, made-up ones: WSAENETDOWN, not WSAENOTSOCK.
        for h in [s, closed, 0, INVALID_SOCKET, 3, 0xdead_beef] {
            every_handle_call_fails(h, WSAENETDOWN);
        }
        check("WSAEnumProtocolsW", WSAENETDOWN, || {
            WSAEnumProtocolsW(std::ptr::null(), std::ptr::null_mut(), std::ptr::null_mut())
        });
        // The last error functions still work.
        WSASetLastError(31);
        assert_eq!(WSAGetLastError(), 31);
    });
    assert_eq!(p.startup_count(), 1);
    assert_eq!(
        p.live_resources(),
        1,
        "closesocket under ER-5 closed nothing"
    );
    sim.set_network_down(&host, false);
    p.run(|| unsafe {
        // Everything works again; the socket survived.
        assert_eq!(so_type(s), (0, SOCK_STREAM));
        let t = tcp();
        assert_eq!(closesocket(t), 0);
        check("closesocket(closed)", WSAENOTSOCK, || closesocket(closed));
        assert_eq!(closesocket(s), 0);
        assert_eq!(WSACleanup(), 0);
    });
    let trace = sim.trace();
    let down = events_where(&trace, |e| e.error == Some(WsaError::NetworkDown));
    assert_eq!(down.len(), 2 + 6 * 10 + 1);
    for e in down {
        assert!(e.rules.contains(&Rule::Er5), "{e}");
        assert!(!e.rules.contains(&Rule::Er2), "{e}");
        assert!(!e.rules.contains(&Rule::Er3), "{e}");
    }
    let harness = events_where(&trace, |e| e.call == "NetworkDown");
    assert_eq!(harness.len(), 2);
}

#[test]
fn er_5_only_the_failed_host_is_affected() {
    let sim = Sim::new();
    let a = sim.localhost();
    let b = sim.host("other");
    let p = a.process("p");
    let q = b.process("q");
    p.run(startup_2_2);
    q.run(startup_2_2);
    sim.set_network_down(&b, true);
    p.run(|| {
        let s = tcp();
        assert_eq!(so_type(s), (0, SOCK_STREAM));
        q.run(|| {
            check_socket("socket on the failed host", WSAENETDOWN, || unsafe {
                socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP)
            });
        });
        assert_eq!(unsafe { closesocket(s) }, 0);
    });
}

#[test]
fn er_5_api_layer_reports_network_down() {
    let sim = Sim::new();
    let host = sim.localhost();
    let p = host.process("app");
    let s = p.run(|| {
        api::startup(Version::V2_2).unwrap();
        Socket::new(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP).unwrap()
    });
    sim.set_network_down(&host, true);
    p.run(|| {
        assert_eq!(s.socket_type(), Err(WsaError::NetworkDown));
        assert_eq!(
            Socket::new(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP),
            Err(WsaError::NetworkDown)
        );
        assert_eq!(api::enum_protocols(None), Err(WsaError::NetworkDown));
        assert_eq!(s.close(), Err(WsaError::NetworkDown));
        assert_eq!(api::last_error(), WSAENETDOWN);
    });
    sim.set_network_down(&host, false);
    p.run(|| {
        assert_eq!(s.socket_type(), Ok(SOCK_DGRAM));
        s.close().unwrap();
        api::cleanup().unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// TH-1

#[test]
fn th_1_last_error_works_without_startup() {
    let (sim, p) = app();
    p.run(|| unsafe {
        assert_eq!(WSAGetLastError(), 0);
        for v in [WSAENOTSOCK, 0, -1, 1, i32::MIN, i32::MAX, 0x1234_5678] {
            WSASetLastError(v);
            assert_eq!(WSAGetLastError(), v);
            assert_eq!(WSAGetLastError(), v, "reading does not reset it");
        }
        api::set_last_error(WSAEINTR);
        assert_eq!(api::last_error(), WSAEINTR);
        assert_eq!(WSAGetLastError(), WSAEINTR);
    });
    assert_eq!(p.startup_count(), 0);
    let trace = sim.trace();
    assert_eq!(trace.events().len(), 1 + 7 * 3 + 3);
    for e in trace.events() {
        assert_eq!(e.error, None, "{e}");
        assert!(e.rules.contains(&Rule::Th1), "{e}");
        assert!(!e.rules.contains(&Rule::Er1), "{e}");
    }
}

#[test]
fn th_1_each_process_main_thread_has_its_own_last_error() {
    let sim = Sim::new();
    let p = sim.localhost().process("a");
    let q = sim.localhost().process("b");
    let r = sim.host("elsewhere").process("c");
    p.run(|| unsafe {
        WSASetLastError(111);
        q.run(|| {
            assert_eq!(WSAGetLastError(), 0);
            WSASetLastError(222);
            r.run(|| {
                assert_eq!(WSAGetLastError(), 0);
                // A failing call sets only this thread's last error.
                assert_fails(WSACleanup(), WSANOTINITIALISED);
            });
            assert_eq!(WSAGetLastError(), 222);
        });
        assert_eq!(WSAGetLastError(), 111);
    });
    q.run(|| assert_eq!(unsafe { WSAGetLastError() }, 222));
    r.run(|| assert_eq!(unsafe { WSAGetLastError() }, WSANOTINITIALISED));
    p.run(|| assert_eq!(unsafe { WSAGetLastError() }, 111));
    // Each run of a process is the same main thread: the value persists between runs.
    let threads: Vec<(u32, u32)> = sim
        .trace()
        .events()
        .iter()
        .map(|e| (e.pid, e.thread))
        .collect();
    for (pid, thread) in &threads {
        for (pid2, thread2) in &threads {
            assert_eq!(pid == pid2, thread == thread2, "pid {pid}/{pid2}");
        }
    }
}

#[test]
fn th_1_last_error_survives_cleanup_except_as_cl_3_says() {
    let sim = Sim::new();
    let host = sim.localhost();
    let p = host.process("app");
    p.run(|| unsafe {
        WSASetLastError(4321);
        startup_2_2();
        // WSAStartup leaves it (ER-4).
        assert_eq!(WSAGetLastError(), 4321);
        startup_2_2();
        assert_eq!(WSAGetLastError(), 4321);
        assert_eq!(WSACleanup(), 0);
        // CL-3.
        assert_eq!(WSAGetLastError(), 0);
        WSASetLastError(999);
    });
    // A final cleanup that fails (network down) destroys the Ws2_32 state, but the thread's
    // last error is not part of it: it holds the failure's code afterwards.
    sim.set_network_down(&host, true);
    p.run(|| unsafe {
        assert_eq!(WSAGetLastError(), 999);
        assert_eq!(WSACleanup(), SOCKET_ERROR);
        assert_eq!(p.startup_count(), 0);
        assert_eq!(WSAGetLastError(), WSAENETDOWN);
    });
    sim.set_network_down(&host, false);
    p.run(|| unsafe {
        assert_eq!(WSAGetLastError(), WSAENETDOWN);
        WSASetLastError(555);
        assert_eq!(WSAGetLastError(), 555);
        // A restart does not reset it either.
        startup_2_2();
        assert_eq!(WSAGetLastError(), 555);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSAGetLastError(), 0);
    });
}
