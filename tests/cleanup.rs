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

// ---------------------------------------------------------------------------------------------
// CL-6 (connections), CL-7, SP-8 (connections). The server's receive window is 1000 bytes, so
// of the client's 5000 bytes 1000 reach the server and 4000 stay queued at the client until
// the server reads.

use ws2sim::{Process, Profile};

const SENT: usize = 5000;
const WINDOW: u32 = 1000;
const PROFILES: [Profile; 2] = [Profile::Documented, Profile::Windows];

fn sim_with(profile: Profile) -> Sim {
    Sim::builder().profile(profile).build()
}

/// A connection in a new `Sim` of `profile` whose client sent 5000 bytes of [`pattern`], 4000
/// of them still queued at the client: (the pair, the bytes sent).
fn pair_with_unsent_data(profile: Profile) -> (Pair, Vec<u8>) {
    let data = pattern(SENT);
    let p = tcp_pair(&sim_with(profile), 7100, WINDOW);
    p.client.run(|| send_all(p.c, &data));
    p.sim.run();
    (p, data)
}

/// Asserts the trace names exactly `bytes` lost, in one `DataLoss` event of `p` for `rule`.
#[track_caller]
fn assert_one_loss_by(p: &Process, bytes: u64, rule: Rule) {
    let loss = assert_one_loss(p.sim(), p, bytes);
    assert_eq!(loss.rules, vec![rule], "{loss}");
}

/// The client's final cleanup: returns 0 and clears the last error.
#[track_caller]
fn client_cleans_up(p: &Pair) {
    p.client.run(|| unsafe {
        WSASetLastError(BEEF);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSAGetLastError(), 0);
    });
    assert_eq!(p.client.live_resources(), 0);
    let ev = events_of(&p.sim, "WSACleanup", &p.client).pop().unwrap();
    assert!(ev.rules.contains(&Rule::Cl6), "{ev}");
}

/// The client closes its socket, then makes its final cleanup.
fn client_closes_then_cleans_up(p: &Pair) {
    p.client.run(|| unsafe {
        assert_eq!(closesocket(p.c), 0);
        // The final cleanup does not touch sockets already closed.
        assert_eq!(WSACleanup(), 0);
    });
}

/// The unsent bytes were discarded by a reset: the server reads the 1000 that had arrived,
/// then WSAECONNRESET; the 4000 others are lost in one `DataLoss` event of the client.
#[track_caller]
fn assert_reset_losing_the_unsent_bytes(p: &Pair, data: &[u8], rule: Rule) {
    p.sim.run();
    p.server_reads(&data[..WINDOW as usize], RESET);
    p.sim.run();
    assert_one_loss_by(&p.client, 4000, rule);
}

#[test]
fn cl_6_final_cleanup_documented_resets_connections_and_discards_unsent_data() {
    let (p, data) = pair_with_unsent_data(Profile::Documented);
    client_cleans_up(&p);
    assert_eq!(p.sim.lost_bytes(), 4000, "discarded at the cleanup");
    assert_reset_losing_the_unsent_bytes(&p, &data, Rule::Cl6);
}

#[test]
fn cl_6_final_cleanup_windows_closes_gracefully_with_default_linger() {
    let (p, data) = pair_with_unsent_data(Profile::Windows);
    client_cleans_up(&p);
    assert_eq!(p.sim.lost_bytes(), 0);
    p.server_reads(&data, GRACEFUL);
    assert_no_loss(&p.sim);
}

#[test]
fn cl_6_final_cleanup_with_linger_zero_resets_in_both_profiles() {
    for profile in PROFILES {
        let data = pattern(SENT);
        let p = tcp_pair(&sim_with(profile), 7100, WINDOW);
        p.client.run(|| unsafe {
            set_linger(p.c, 1, 0);
            send_all(p.c, &data);
            p.sim.run();
            assert_eq!(WSACleanup(), 0);
        });
        assert_eq!(p.sim.lost_bytes(), 4000, "{profile:?}");
        assert_reset_losing_the_unsent_bytes(&p, &data, Rule::Cl6);
    }
}

#[test]
fn cl_7_closed_sockets_data_keeps_flowing_while_the_process_lives() {
    for profile in PROFILES {
        let (p, data) = pair_with_unsent_data(profile);
        client_closes_then_cleans_up(&p);
        assert_eq!(p.sim.lost_bytes(), 0, "{profile:?}");
        assert!(p.client.is_running());
        p.server_reads(&data, GRACEFUL);
        p.client.exit();
        assert_no_loss(&p.sim);
    }
}

#[test]
fn cl_7_exit_with_unsent_data_documented_loses_it_and_resets() {
    let (p, data) = pair_with_unsent_data(Profile::Documented);
    let sim = &p.sim;
    client_closes_then_cleans_up(&p);
    // The server reads once: 1000 more bytes go on the wire.
    p.server.run(|| {
        assert_eq!(
            recv_n(p.s, 64 * 1024, 0),
            (WINDOW as i32, data[..1000].to_vec())
        )
    });
    assert_eq!(sim.lost_bytes(), 0, "nothing lost while the process lives");
    p.client.exit();
    assert_eq!(sim.lost_bytes(), 3000, "lost with the DLL");
    let exit = events_of(sim, "ExitProcess", &p.client).pop().unwrap();
    assert!(exit.rules.contains(&Rule::Cl7), "{exit}");
    sim.run();
    // The bytes already on their way arrive, then the reset.
    p.server_reads(&data[1000..2000], RESET);
    sim.run();
    assert_one_loss_by(&p.client, (SENT - 2000) as u64, Rule::Cl7);
}

#[test]
fn cl_7_exit_right_after_a_graceful_close_with_every_byte_on_the_wire_loses_nothing() {
    // Documented: the 4 bytes and the FIN are on the wire, not yet acknowledged, when the
    // process exits in the same virtual millisecond. They arrive, so they count as delivered
    // (CL-7): nothing is lost, and with nothing lost there is no reset.
    let sim = sim_with(Profile::Documented);
    let p = tcp_pair(&sim, 7110, 64 * 1024);
    let at = sim.now();
    p.client.run(|| unsafe {
        assert_eq!(send_bytes(p.c, b"ping"), 4);
        assert_eq!(closesocket(p.c), 0); // linger off: graceful (CS-2)
        assert_eq!(WSACleanup(), 0);
    });
    p.client.exit();
    assert_eq!(sim.now(), at, "sent, closed, cleaned up and exited at once");
    let exit = events_of(&sim, "ExitProcess", &p.client).pop().unwrap();
    assert!(exit.rules.contains(&Rule::Cl7), "{exit}");
    p.server_reads(b"ping", GRACEFUL);
    assert_no_loss(&sim);
}

#[test]
fn cl_7_exit_with_unsent_data_windows_keeps_sending() {
    let (p, data) = pair_with_unsent_data(Profile::Windows);
    client_closes_then_cleans_up(&p);
    p.client.exit();
    assert!(!p.client.is_running());
    assert_eq!(p.sim.lost_bytes(), 0);
    p.sim.run();
    p.server_reads(&data, GRACEFUL);
    assert_no_loss(&p.sim);
}

#[test]
fn cl_7_recommended_sequence_loses_nothing_in_both_profiles() {
    for profile in PROFILES {
        let (p, data) = pair_with_unsent_data(profile);
        p.client
            .run(|| assert_eq!(unsafe { shutdown(p.c, SD_SEND) }, 0));
        p.server_reads(&data, GRACEFUL);
        p.server.run(|| unsafe {
            assert_eq!(closesocket(p.s), 0);
            assert_eq!(closesocket(p.listener), 0);
            assert_eq!(WSACleanup(), 0);
        });
        p.client.run(|| unsafe {
            // Wait for the peer's close.
            assert_eq!(recv_n(p.c, 16, 0).0, 0, "{profile:?}");
            assert_eq!(closesocket(p.c), 0);
            assert_eq!(WSACleanup(), 0);
        });
        p.client.exit();
        p.server.exit();
        assert_no_loss(&p.sim);
    }
}

#[test]
fn sp_8_kill_resets_connections_and_frees_the_listeners_port() {
    for profile in PROFILES {
        let sim = sim_with(profile);
        let p = tcp_pair_with(&sim, 7200, |_| {});
        let hello = pattern(100);
        p.server.run(|| send_all(p.s, &hello));
        sim.run();
        p.server.kill();
        assert!(!p.server.is_running());
        let ev = events_of(&sim, "TerminateProcess", &p.server)
            .pop()
            .unwrap();
        assert!(ev.rules.contains(&Rule::Sp8), "{ev}");

        // A new process on the same host starts and takes the port at once.
        let t = sim.now();
        let server2 = sim.host("server").process("server2");
        let l2 = server2.run(|| {
            startup_2_2();
            tcp_listener(&p.addr, 5)
        });
        assert_eq!(sim.now(), t);

        sim.run();
        p.client_reads(&hello, RESET);
        p.client.run(|| unsafe {
            WSASetLastError(BEEF);
            assert_fails(send(p.c, hello.as_ptr(), 10, 0), WSAECONNRESET);
            assert_eq!(closesocket(p.c), 0);
            // The catalog and the new listener work.
            let c2 = tcp_connected(&p.addr);
            send_all(c2, &hello);
            assert_eq!(closesocket(c2), 0);
        });
        let s2 = server2.run(|| accept_one(l2));
        assert_reads_to_end(&server2, s2, &hello, GRACEFUL);
        assert_no_loss(&sim);
    }
}

#[test]
fn sp_8_exit_without_cleanup_closes_connections_by_profile() {
    for profile in PROFILES {
        let (p, data) = pair_with_unsent_data(profile);
        assert_eq!(p.client.startup_count(), 1);
        p.client.exit();
        assert!(!p.client.is_running());
        match profile {
            Profile::Documented => assert_reset_losing_the_unsent_bytes(&p, &data, Rule::Cl7),
            Profile::Windows => {
                p.sim.run();
                p.server_reads(&data, GRACEFUL);
                assert_no_loss(&p.sim);
            }
        }
        // A new process on the client's host starts at once and connects.
        let client2 = p.sim.host("client").process("client2");
        client2.run(|| unsafe {
            startup_2_2();
            let c = tcp_connected(&p.addr);
            assert_eq!(closesocket(c), 0);
            assert_eq!(WSACleanup(), 0);
        });
    }
}
