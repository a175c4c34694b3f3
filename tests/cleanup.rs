//! WSACleanup: SPEC rules CL-1, CL-2, CL-3, CL-6 (the part without connections), CL-8, CL-11.

use ws2sim::sys::*;
use ws2sim::{Event, Rule, Sim, Trace, WsaError};

mod common;
use common::*;

fn cleanups(trace: &Trace) -> Vec<Event> {
    trace.calls("WSACleanup").cloned().collect()
}

#[test]
fn cl_1_cleanup_without_startup_fails_not_initialised() {
    let (sim, p) = app();
    p.run(|| unsafe {
        WSASetLastError(0);
        assert_fails(WSACleanup(), WSANOTINITIALISED);
        assert_eq!(WSAGetLastError(), 10093);
        // Still nothing started, and again.
        WSASetLastError(77);
        assert_fails(WSACleanup(), WSANOTINITIALISED);
    });
    assert_eq!(p.startup_count(), 0);
    let events = cleanups(&sim.trace());
    assert_eq!(events.len(), 2);
    for e in &events {
        assert_eq!(e.result, "SOCKET_ERROR", "{e}");
        assert_eq!(e.error, Some(WsaError::NotInitialised), "{e}");
        assert!(e.rules.contains(&Rule::Cl1), "{e}");
        assert!(!e.rules.contains(&Rule::Cl8), "{e}");
    }
}

#[test]
fn cl_1_one_cleanup_too_many_fails_not_initialised() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        assert_eq!(startup(0x0101), 0);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.startup_count(), 0);
        assert_fails(WSACleanup(), WSANOTINITIALISED);
        assert_fails(WSACleanup(), WSANOTINITIALISED);
        assert_eq!(p.startup_count(), 0);
        // The process can start again after the extra cleanups.
        startup_2_2();
        assert_eq!(p.startup_count(), 1);
        assert_eq!(WSACleanup(), 0);
    });
    let events = cleanups(&sim.trace());
    let errors: Vec<Option<WsaError>> = events.iter().map(|e| e.error).collect();
    assert_eq!(
        errors,
        vec![
            None,
            None,
            Some(WsaError::NotInitialised),
            Some(WsaError::NotInitialised),
            None
        ]
    );
}

#[test]
fn cl_1_api_cleanup_reports_not_initialised() {
    let (_sim, p) = app();
    p.run(|| {
        assert_eq!(ws2sim::api::cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(ws2sim::api::last_error(), WSANOTINITIALISED);
    });
}

#[test]
fn cl_2_non_final_cleanup_only_decrements() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        startup_2_2();
        let s = tcp();
        let d = udp();
        set_linger(s, 1, 9);
        assert_eq!(p.live_resources(), 2);

        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.startup_count(), 1);
        // Nothing else changed: the sockets work and keep their options.
        assert_eq!(p.live_resources(), 2);
        assert_eq!(so_type(s), (0, SOCK_STREAM));
        assert_eq!(so_type(d), (0, SOCK_DGRAM));
        assert_eq!(get_linger(s), linger(1, 9));
        let mut nb = 1u32;
        assert_eq!(ioctlsocket(s, FIONBIO, &mut nb), 0);
        // New sockets can still be made.
        let t = tcp();
        assert_eq!(p.live_resources(), 3);
        assert_eq!(closesocket(t), 0);

        // Only the call reaching 0 cleans up.
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.startup_count(), 0);
        assert_eq!(p.live_resources(), 0);
        assert_fails(so_type(s).0, WSANOTINITIALISED);
    });
    let events = cleanups(&sim.trace());
    assert_eq!(events.len(), 2);
    assert!(events[0].rules.contains(&Rule::Cl2), "{}", events[0]);
    for rule in [Rule::Cl6, Rule::Cl8] {
        assert!(!events[0].rules.contains(&rule), "{}", events[0]);
        assert!(events[1].rules.contains(&rule), "{}", events[1]);
    }
}

#[test]
fn cl_2_only_the_last_of_many_cleanups_is_final() {
    let (sim, p) = app();
    p.run(|| unsafe {
        for _ in 0..10 {
            startup_2_2();
        }
        let s = tcp();
        for left in (1..10u32).rev() {
            assert_eq!(WSACleanup(), 0);
            assert_eq!(p.startup_count(), left);
            assert_eq!(p.live_resources(), 1);
            assert_eq!(so_type(s), (0, SOCK_STREAM));
        }
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.startup_count(), 0);
        assert_eq!(p.live_resources(), 0);
    });
    let final_flags: Vec<bool> = cleanups(&sim.trace())
        .iter()
        .map(|e| e.rules.contains(&Rule::Cl8))
        .collect();
    let mut expected = vec![false; 9];
    expected.push(true);
    assert_eq!(final_flags, expected);
}

#[test]
fn cl_2_one_process_cleanup_does_not_touch_another() {
    let sim = Sim::new();
    let p = sim.localhost().process("a");
    let q = sim.localhost().process("b");
    let qs = q.run(|| {
        startup_2_2();
        tcp()
    });
    p.run(|| unsafe {
        startup_2_2();
        let _ = tcp();
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.live_resources(), 0);
    });
    assert_eq!(q.startup_count(), 1);
    assert_eq!(q.live_resources(), 1);
    q.run(|| {
        assert_eq!(so_type(qs), (0, SOCK_STREAM));
    });
}

#[test]
fn cl_3_successful_cleanup_clears_the_last_error() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        startup_2_2();
        // Non-final cleanup.
        WSASetLastError(WSAEWOULDBLOCK);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSAGetLastError(), 0);
        // A genuine failure's last error is cleared too.
        assert_fails(closesocket(12345 * 4), WSAENOTSOCK);
        // Final cleanup.
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSAGetLastError(), 0);
        // A failing cleanup does not clear it: it sets WSANOTINITIALISED.
        WSASetLastError(-1234);
        assert_fails(WSACleanup(), WSANOTINITIALISED);
    });
    let events = cleanups(&sim.trace());
    assert!(events[0].rules.contains(&Rule::Cl3), "{}", events[0]);
    assert!(events[1].rules.contains(&Rule::Cl3), "{}", events[1]);
    assert!(!events[2].rules.contains(&Rule::Cl3), "{}", events[2]);
}

#[test]
fn cl_3_last_error_cleared_only_for_the_calling_process() {
    let sim = Sim::new();
    let p = sim.localhost().process("a");
    let q = sim.localhost().process("b");
    p.run(|| unsafe {
        startup_2_2();
        q.run(|| WSASetLastError(WSAECONNRESET));
        WSASetLastError(WSAECONNRESET);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSAGetLastError(), 0);
        q.run(|| assert_eq!(WSAGetLastError(), WSAECONNRESET));
    });
}

#[test]
fn cl_6_final_cleanup_deallocates_open_sockets() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let a = tcp();
        let b = udp();
        let c = WSASocketW(
            AF_INET as i32,
            SOCK_STREAM,
            IPPROTO_TCP,
            std::ptr::null(),
            0,
            WSA_FLAG_OVERLAPPED,
        );
        assert_ne!(c, INVALID_SOCKET);
        let closed = tcp();
        assert_eq!(closesocket(closed), 0);
        assert_eq!(p.live_resources(), 3);

        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.live_resources(), 0);

        startup_2_2();
        for s in [a, b, c, closed] {
            assert_fails(closesocket(s), WSAENOTSOCK);
            assert_fails(so_type(s).0, WSAENOTSOCK);
            let mut arg = 1u32;
            assert_fails(ioctlsocket(s, FIONBIO, &mut arg), WSAENOTSOCK);
        }
        assert_eq!(p.live_resources(), 0);
        assert_eq!(WSACleanup(), 0);
    });
    let events = cleanups(&sim.trace());
    assert_eq!(events.len(), 2);
    assert!(events[0].rules.contains(&Rule::Cl6), "{}", events[0]);
    // No socket was open at the second final cleanup.
    assert!(!events[1].rules.contains(&Rule::Cl6), "{}", events[1]);
    assert!(events[1].rules.contains(&Rule::Cl8), "{}", events[1]);
}

#[test]
fn cl_8_final_cleanup_releases_every_socket() {
    let (sim, p) = app();
    let handles = p.run(|| unsafe {
        startup_2_2();
        startup_2_2();
        assert_eq!(p.live_resources(), 0);
        let mut handles = Vec::new();
        for i in 0..1000 {
            handles.push(if i % 2 == 0 { tcp() } else { udp() });
            assert_eq!(p.live_resources(), i + 1);
        }
        for &s in &handles[..10] {
            assert_eq!(closesocket(s), 0);
        }
        assert_eq!(p.live_resources(), 990);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.live_resources(), 990);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.live_resources(), 0);
        handles
    });
    assert_eq!(p.live_resources(), 0);
    p.run(|| unsafe {
        startup_2_2();
        for &s in &handles {
            assert_fails(closesocket(s), WSAENOTSOCK);
        }
        assert_eq!(p.live_resources(), 0);
        assert_eq!(WSACleanup(), 0);
    });
    let events = cleanups(&sim.trace());
    assert!(!events[0].rules.contains(&Rule::Cl8), "{}", events[0]);
    assert!(events[1].rules.contains(&Rule::Cl8), "{}", events[1]);
    assert!(events[1].rules.contains(&Rule::Cl6), "{}", events[1]);
}

#[test]
fn cl_8_only_the_cleaning_process_releases() {
    let sim = Sim::new();
    let p = sim.localhost().process("a");
    let q = sim.localhost().process("b");
    p.run(|| {
        startup_2_2();
        for _ in 0..5 {
            tcp();
        }
        q.run(|| {
            startup_2_2();
            for _ in 0..7 {
                udp();
            }
        });
        assert_eq!(unsafe { WSACleanup() }, 0);
    });
    assert_eq!(p.live_resources(), 0);
    assert_eq!(q.live_resources(), 7);
}

#[test]
fn cl_11_cleanup_on_a_failed_network_still_counts_down() {
    let sim = Sim::new();
    let host = sim.localhost();
    let p = host.process("app");
    let s = p.run(|| {
        startup_2_2();
        startup_2_2();
        tcp()
    });
    sim.set_network_down(&host, true);
    p.run(|| unsafe {
        WSASetLastError(0);
        assert_fails(WSACleanup(), WSAENETDOWN);
        assert_eq!(WSAGetLastError(), 10050);
        assert_eq!(p.startup_count(), 1);
        assert_eq!(p.live_resources(), 1, "not the final cleanup");
        // Other calls report the failure too (ER-5).
        assert_fails(so_type(s).0, WSAENETDOWN);

        assert_fails(WSACleanup(), WSAENETDOWN);
        assert_eq!(p.startup_count(), 0);
        // The final cleanup happened anyway.
        assert_eq!(p.live_resources(), 0);
        assert_eq!(p.negotiated_version(), None);
        // With the count at 0, CL-1 comes first.
        assert_fails(WSACleanup(), WSANOTINITIALISED);
        assert_fails(so_type(s).0, WSANOTINITIALISED);
    });
    sim.set_network_down(&host, false);
    p.run(|| unsafe {
        assert_fails(WSACleanup(), WSANOTINITIALISED);
        startup_2_2();
        assert_fails(so_type(s).0, WSAENOTSOCK);
        let t = tcp();
        assert_eq!(so_type(t), (0, SOCK_STREAM));
        WSASetLastError(5);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSAGetLastError(), 0);
    });
    assert_eq!(p.live_resources(), 0);

    let events = cleanups(&sim.trace());
    assert_eq!(events.len(), 5);
    for e in &events[..2] {
        assert_eq!(e.result, "SOCKET_ERROR", "{e}");
        assert_eq!(e.error, Some(WsaError::NetworkDown), "{e}");
        assert!(e.rules.contains(&Rule::Cl11), "{e}");
    }
    assert!(!events[0].rules.contains(&Rule::Cl8), "{}", events[0]);
    assert!(events[1].rules.contains(&Rule::Cl8), "{}", events[1]);
    assert!(events[1].rules.contains(&Rule::Cl6), "{}", events[1]);
    for e in &events[2..4] {
        assert_eq!(e.error, Some(WsaError::NotInitialised), "{e}");
        assert!(e.rules.contains(&Rule::Cl1), "{e}");
        assert!(!e.rules.contains(&Rule::Cl11), "{e}");
    }
    assert_eq!(events[4].error, None);
    assert!(!events[4].rules.contains(&Rule::Cl11), "{}", events[4]);
}

#[test]
fn cl_11_single_startup_final_cleanup_on_failed_network() {
    let sim = Sim::new();
    let host = sim.localhost();
    let p = host.process("app");
    let handles = p.run(|| {
        assert_eq!(startup(0x0101), 0);
        vec![tcp(), udp(), tcp()]
    });
    assert_eq!(p.live_resources(), 3);
    sim.set_network_down(&host, true);
    p.run(|| unsafe {
        assert_fails(WSACleanup(), WSAENETDOWN);
    });
    assert_eq!(p.startup_count(), 0);
    assert_eq!(p.live_resources(), 0);
    assert_eq!(p.negotiated_version(), None);
    sim.set_network_down(&host, false);
    p.run(|| unsafe {
        startup_2_2();
        assert_eq!(p.negotiated_version(), Some(ws2sim::Version::V2_2));
        for &s in &handles {
            assert_fails(closesocket(s), WSAENOTSOCK);
        }
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn cl_11_network_down_on_another_host_does_not_matter() {
    let sim = Sim::new();
    let here = sim.localhost();
    let there = sim.host("server");
    let p = here.process("app");
    sim.set_network_down(&there, true);
    p.run(|| unsafe {
        startup_2_2();
        startup_2_2();
        let s = tcp();
        assert_eq!(WSACleanup(), 0);
        assert_eq!(so_type(s), (0, SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSAGetLastError(), 0);
    });
    assert_eq!(p.live_resources(), 0);
}
