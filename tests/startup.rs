//! WSAStartup: SPEC rules ST-1 .. ST-6.

use ws2sim::sys::*;
use ws2sim::{Rule, Sim, Version};

mod common;
use common::*;

/// A pointer value `lpVendorInfo` is prefilled with; WSAStartup must never write the field (ST-2).
const VENDOR_SENTINEL: usize = 0xdead_beef;

/// A WSADATA full of garbage, so a field WSAStartup forgets to write shows up.
fn garbage_wsadata() -> WSADATA {
    WSADATA {
        wVersion: 0xaaaa,
        wHighVersion: 0xbbbb,
        iMaxSockets: 0xcccc,
        iMaxUdpDg: 0xdddd,
        lpVendorInfo: VENDOR_SENTINEL as *mut u8,
        szDescription: [0x55; 257],
        szSystemStatus: [0x55; 129],
    }
}

/// The NUL-terminated string at the start of `field`, or `None` if there is no NUL.
fn cstr(field: &[i8]) -> Option<String> {
    let end = field.iter().position(|&c| c == 0)?;
    Some(field[..end].iter().map(|&c| c as u8 as char).collect())
}

/// ST-2: the fields WSAStartup writes whatever the outcome.
fn check_st2(word: u16, d: &WSADATA) {
    let major = word & 0xff;
    assert_eq!(d.wHighVersion, 0x0202, "wHighVersion for {word:#06x}");
    assert_eq!(
        cstr(&d.szDescription).as_deref(),
        Some("WinSock 2.0"),
        "szDescription for {word:#06x}"
    );
    assert_eq!(
        cstr(&d.szSystemStatus).as_deref(),
        Some("Running"),
        "szSystemStatus for {word:#06x}"
    );
    let (sockets, udp) = if major == 1 { (32767, 65467) } else { (0, 0) };
    assert_eq!(d.iMaxSockets, sockets, "iMaxSockets for {word:#06x}");
    assert_eq!(d.iMaxUdpDg, udp, "iMaxUdpDg for {word:#06x}");
    assert_eq!(
        d.lpVendorInfo as usize, VENDOR_SENTINEL,
        "lpVendorInfo was written for {word:#06x}"
    );
}

#[test]
fn st_1_every_version_word_negotiates_per_table_and_fills_wsadata() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        for word in 0..=u16::MAX {
            let mut d = garbage_wsadata();
            let sentinel = 0x4000_0000 | i32::from(word);
            WSASetLastError(sentinel);
            let r = WSAStartup(word, &mut d);
            // ER-4: WSAStartup never touches the last error.
            assert_eq!(WSAGetLastError(), sentinel, "last error after {word:#06x}");
            // ST-2 on success and failure alike.
            check_st2(word, &d);
            match negotiate(word) {
                None => {
                    assert_eq!(r, WSAVERNOTSUPPORTED, "return for {word:#06x}");
                    assert_eq!(r, 10092);
                    // ST-4: a failure adds nothing.
                    assert_eq!(p.startup_count(), 0, "count after failed {word:#06x}");
                    assert_eq!(p.negotiated_version(), None);
                }
                Some(v) => {
                    assert_eq!(r, 0, "return for {word:#06x}");
                    assert_eq!(d.wVersion, v, "wVersion for {word:#06x}");
                    // ST-4: exactly one more startup.
                    assert_eq!(p.startup_count(), 1, "count after {word:#06x}");
                    assert_eq!(p.negotiated_version(), Some(Version::from_word(v)));
                    assert_eq!(WSACleanup(), 0, "cleanup after {word:#06x}");
                    assert_eq!(p.startup_count(), 0);
                }
            }
        }
    });
}

#[test]
fn st_1_named_rows_of_the_table() {
    let (sim, p) = app();
    let rows: [(u16, i32, u16); 14] = [
        (0x0000, WSAVERNOTSUPPORTED, 0),
        (0x0100, WSAVERNOTSUPPORTED, 0),
        (0xff00, WSAVERNOTSUPPORTED, 0),
        (0x0001, 0, 0x0001),
        (0x0101, 0, 0x0101),
        (0x0201, 0, 0x0101),
        (0xff01, 0, 0x0101),
        (0x0002, 0, 0x0002),
        (0x0102, 0, 0x0102),
        (0x0202, 0, 0x0202),
        (0x0302, 0, 0x0202),
        (0x0003, 0, 0x0202),
        (0x0303, 0, 0x0202),
        (0xffff, 0, 0x0202),
    ];
    p.run(|| unsafe {
        for (word, ret, version) in rows {
            let mut d = garbage_wsadata();
            assert_eq!(WSAStartup(word, &mut d), ret, "{word:#06x}");
            assert_eq!(d.wHighVersion, 0x0202, "{word:#06x}");
            if ret == 0 {
                assert_eq!(d.wVersion, version, "{word:#06x}");
                assert_eq!(WSACleanup(), 0);
            }
        }
    });
    // The trace names ST-1 on every startup and reports the refusals.
    let trace = sim.trace();
    let startups: Vec<_> = trace.calls("WSAStartup").collect();
    assert_eq!(startups.len(), rows.len());
    for (e, (word, ret, _)) in startups.iter().zip(rows) {
        assert!(e.rules.contains(&Rule::St1), "{word:#06x}: {e}");
        if ret == 0 {
            assert_eq!(e.error, None, "{e}");
        } else {
            assert_eq!(e.error, Some(ws2sim::WsaError::VersionNotSupported), "{e}");
            assert_eq!(e.result, "10092", "{e}");
        }
    }
}

#[test]
fn st_1_api_startup_reports_the_negotiated_version() {
    let (_sim, p) = app();
    p.run(|| {
        let d = ws2sim::api::startup(Version::new(1, 7)).unwrap();
        assert_eq!(d.version, Version::V1_1);
        assert_eq!(d.high_version, Version::V2_2);
        assert_eq!(d.max_sockets, 32767);
        assert_eq!(d.max_udp_dg, 65467);
        let d = ws2sim::api::startup(Version::new(9, 0)).unwrap();
        assert_eq!(d.version, Version::V2_2);
        assert_eq!(d.max_sockets, 0);
        assert_eq!(
            ws2sim::api::startup(Version::new(0, 2)),
            Err(ws2sim::WsaError::VersionNotSupported)
        );
    });
    assert_eq!(p.startup_count(), 2);
}

#[test]
fn st_2_wsadata_is_filled_when_the_version_is_refused() {
    let (sim, p) = app();
    p.run(|| unsafe {
        for word in [0x0000u16, 0x0100, 0x0200, 0xff00] {
            let mut d = garbage_wsadata();
            assert_eq!(WSAStartup(word, &mut d), WSAVERNOTSUPPORTED);
            assert_eq!(d.wHighVersion, 0x0202);
            assert_eq!(cstr(&d.szDescription).as_deref(), Some("WinSock 2.0"));
            assert_eq!(cstr(&d.szSystemStatus).as_deref(), Some("Running"));
            assert_eq!(d.iMaxSockets, 0);
            assert_eq!(d.iMaxUdpDg, 0);
            assert_eq!(d.lpVendorInfo as usize, VENDOR_SENTINEL);
        }
    });
    assert_eq!(p.startup_count(), 0);
    for e in sim.trace().calls("WSAStartup") {
        assert!(e.rules.contains(&Rule::St2), "{e}");
    }
}

#[test]
fn st_2_max_sockets_and_udp_datagram_only_for_major_1() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        for (word, sockets, udp) in [
            (0x0001u16, 32767u16, 65467u16),
            (0x0101, 32767, 65467),
            (0x0501, 32767, 65467),
            (0x0002, 0, 0),
            (0x0202, 0, 0),
            (0x0003, 0, 0),
        ] {
            let mut d = garbage_wsadata();
            assert_eq!(WSAStartup(word, &mut d), 0, "{word:#06x}");
            assert_eq!(d.iMaxSockets, sockets, "{word:#06x}");
            assert_eq!(d.iMaxUdpDg, udp, "{word:#06x}");
            assert_eq!(d.lpVendorInfo as usize, VENDOR_SENTINEL, "{word:#06x}");
            // The strings are NUL-terminated and NUL-padded over the garbage.
            assert!(d.szDescription[11..].iter().all(|&c| c == 0));
            assert!(d.szSystemStatus[7..].iter().all(|&c| c == 0));
        }
        for _ in 0..6 {
            assert_eq!(WSACleanup(), 0);
        }
    });
    assert_eq!(p.startup_count(), 0);
}

#[test]
fn st_3_null_wsadata_faults_after_the_version_check_for_every_word() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        WSASetLastError(4242);
        for word in 0..=u16::MAX {
            let r = WSAStartup(word, std::ptr::null_mut());
            if word & 0xff == 0 {
                assert_eq!(r, WSAVERNOTSUPPORTED, "{word:#06x}");
            } else {
                assert_eq!(r, WSAEFAULT, "{word:#06x}");
                assert_eq!(r, 10014);
            }
            assert_eq!(p.startup_count(), 0, "{word:#06x}");
        }
        assert_eq!(WSAGetLastError(), 4242, "WSAStartup changed the last error");
        // Nothing started: other calls still fail WSANOTINITIALISED.
        assert_fails(WSACleanup(), WSANOTINITIALISED);
    });
}

#[test]
fn st_3_null_wsadata_adds_nothing_to_a_started_process() {
    let (sim, p) = app();
    p.run(|| unsafe {
        let mut d = garbage_wsadata();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        assert_eq!(WSAStartup(0x0202, std::ptr::null_mut()), WSAEFAULT);
        assert_eq!(WSAStartup(0x0101, std::ptr::null_mut()), WSAEFAULT);
        assert_eq!(WSAStartup(0x0000, std::ptr::null_mut()), WSAVERNOTSUPPORTED);
        assert_eq!(p.startup_count(), 1);
        // The refused 1.1 request did not lower the version (ST-5 counts successes only).
        assert_eq!(p.negotiated_version(), Some(Version::V2_2));
        assert_eq!(WSACleanup(), 0);
        assert_fails(WSACleanup(), WSANOTINITIALISED);
    });
    let trace = sim.trace();
    let startups: Vec<_> = trace.calls("WSAStartup").collect();
    assert_eq!(startups.len(), 4);
    assert!(startups[1].rules.contains(&Rule::St3), "{}", startups[1]);
    assert_eq!(startups[1].error, Some(ws2sim::WsaError::Fault));
    assert!(!startups[3].rules.contains(&Rule::St3), "{}", startups[3]);
    assert_eq!(
        startups[3].error,
        Some(ws2sim::WsaError::VersionNotSupported)
    );
}

#[test]
fn st_4_each_success_counts_once_and_failures_count_nothing() {
    let (sim, p) = app();
    p.run(|| unsafe {
        let mut d = garbage_wsadata();
        assert_eq!(p.startup_count(), 0);
        for n in 1..=5u32 {
            assert_eq!(WSAStartup(0x0202, &mut d), 0);
            assert_eq!(p.startup_count(), n);
            assert_eq!(WSAStartup(0x0000, &mut d), WSAVERNOTSUPPORTED);
            assert_eq!(WSAStartup(0x0202, std::ptr::null_mut()), WSAEFAULT);
            assert_eq!(p.startup_count(), n);
        }
        for n in (0..5u32).rev() {
            assert_eq!(WSACleanup(), 0);
            assert_eq!(p.startup_count(), n);
        }
        assert_fails(WSACleanup(), WSANOTINITIALISED);
        assert_eq!(p.startup_count(), 0);
    });
    // The trace marks ST-4 on exactly the successful startups.
    let trace = sim.trace();
    let st4: Vec<bool> = trace
        .calls("WSAStartup")
        .map(|e| e.rules.contains(&Rule::St4))
        .collect();
    assert_eq!(st4.len(), 15);
    for (i, fired) in st4.iter().enumerate() {
        assert_eq!(*fired, i % 3 == 0, "startup #{i}");
    }
}

#[test]
fn st_4_counts_are_per_process() {
    let sim = Sim::new();
    let p = sim.localhost().process("a");
    let q = sim.localhost().process("b");
    p.run(|| unsafe {
        let mut d = garbage_wsadata();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        q.run(|| {
            assert_eq!(WSAStartup(0x0202, &mut d), 0);
        });
    });
    assert_eq!(p.startup_count(), 2);
    assert_eq!(q.startup_count(), 1);
    q.run(|| unsafe {
        assert_eq!(WSACleanup(), 0);
        assert_fails(WSACleanup(), WSANOTINITIALISED);
    });
    assert_eq!(p.startup_count(), 2);
    assert_eq!(q.startup_count(), 0);
}

#[test]
fn st_5_negotiated_version_is_the_lowest_since_the_first_startup() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        let mut d = garbage_wsadata();
        assert_eq!(p.negotiated_version(), None);
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::V2_2));
        assert_eq!(WSAStartup(0x0101, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::V1_1));
        // A higher version later does not raise it.
        assert_eq!(WSAStartup(0x0002, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::V1_1));
        assert_eq!(WSAStartup(0x0003, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::V1_1));
        // Non-final cleanups keep it.
        for left in (1..4u32).rev() {
            assert_eq!(WSACleanup(), 0);
            assert_eq!(p.startup_count(), left);
            assert_eq!(p.negotiated_version(), Some(Version::V1_1));
        }
        // The final cleanup forgets it.
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.negotiated_version(), None);
        // A new life starts from its own first startup.
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::V2_2));
        assert_eq!(WSACleanup(), 0);
    });
}

#[test]
fn st_5_lowest_is_by_major_then_minor_of_the_negotiated_version() {
    let (_sim, p) = app();
    p.run(|| unsafe {
        let mut d = garbage_wsadata();
        // 1.7 negotiates 1.1: the negotiated version is kept, not the requested one.
        assert_eq!(WSAStartup(0x0701, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::V1_1));
        // 1.0 is below 1.1.
        assert_eq!(WSAStartup(0x0001, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::new(1, 0)));
        assert_eq!(WSAStartup(0x0101, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::new(1, 0)));
        for _ in 0..3 {
            assert_eq!(WSACleanup(), 0);
        }
        // A new life: 2.1 first.
        assert_eq!(WSAStartup(0x0102, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::new(2, 1)));
        // Word 0x0003 (3.0) is numerically below 0x0102 but negotiates 2.2: stays 2.1.
        assert_eq!(WSAStartup(0x0003, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::new(2, 1)));
        assert_eq!(WSAStartup(0x0002, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::new(2, 0)));
        // 1.1 has a larger word (0x0101) than 2.0 (0x0002) but is lower.
        assert_eq!(WSAStartup(0x0101, &mut d), 0);
        assert_eq!(p.negotiated_version(), Some(Version::V1_1));
        for _ in 0..4 {
            assert_eq!(WSACleanup(), 0);
        }
        assert_eq!(p.negotiated_version(), None);
    });
}

#[test]
fn st_5_each_process_has_its_own_version() {
    let sim = Sim::new();
    let p = sim.localhost().process("old");
    let q = sim.localhost().process("new");
    p.run(|| unsafe {
        let mut d = garbage_wsadata();
        assert_eq!(WSAStartup(0x0101, &mut d), 0);
        q.run(|| assert_eq!(WSAStartup(0x0202, &mut d), 0));
    });
    assert_eq!(p.negotiated_version(), Some(Version::V1_1));
    assert_eq!(q.negotiated_version(), Some(Version::V2_2));
}

#[test]
fn st_6_first_startup_creates_state_and_restart_after_final_cleanup_is_clean() {
    let (sim, p) = app();
    let (old, new) = p.run(|| unsafe {
        let mut d = garbage_wsadata();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        let (t, u) = (tcp(), udp());
        assert_eq!(p.live_resources(), 2);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.live_resources(), 2, "a non-final cleanup frees nothing");
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.live_resources(), 0);

        // Restart: a clean state, nothing from the previous life.
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        assert_eq!(p.startup_count(), 1);
        assert_eq!(p.live_resources(), 0);
        for s in [t, u] {
            assert_fails(so_type(s).0, WSAENOTSOCK);
            assert_fails(closesocket(s), WSAENOTSOCK);
        }
        let fresh = tcp();
        assert_ne!(fresh, t);
        assert_ne!(fresh, u);
        assert_eq!(so_type(fresh), (0, SOCK_STREAM));
        assert_eq!(p.live_resources(), 1);
        // The old handles still do not reach the new socket.
        assert_fails(closesocket(t), WSAENOTSOCK);
        assert_eq!(so_type(fresh), (0, SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
        ([t, u], fresh)
    });
    assert_eq!(p.live_resources(), 0);
    assert!(!old.contains(&new));

    // ST-6 fires on the startups that create the state: the first, and the one after the
    // final cleanup; not on the second startup of the first life.
    let trace = sim.trace();
    let st6: Vec<bool> = trace
        .calls("WSAStartup")
        .map(|e| e.rules.contains(&Rule::St6))
        .collect();
    assert_eq!(st6, vec![true, false, true]);
}

#[test]
fn st_6_failed_startups_create_no_state() {
    let (sim, p) = app();
    p.run(|| unsafe {
        let mut d = garbage_wsadata();
        assert_eq!(WSAStartup(0x0000, &mut d), WSAVERNOTSUPPORTED);
        assert_eq!(WSAStartup(0x0202, std::ptr::null_mut()), WSAEFAULT);
        assert_eq!(p.negotiated_version(), None);
        assert_eq!(
            socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP),
            INVALID_SOCKET
        );
        assert_eq!(WSAGetLastError(), WSANOTINITIALISED);
    });
    assert!(sim
        .trace()
        .calls("WSAStartup")
        .all(|e| !e.rules.contains(&Rule::St6)));
}
