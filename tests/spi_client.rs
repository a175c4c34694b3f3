//! SP-1..SP-10 and CL-9: Ws2_32 as the client of its service providers (seeds 002, 003).
//!
//! Two paths reach a provider's `WSPStartup`/`WSPCleanup`: the Ws2_32 path (`sys`: the first
//! socket of a provider loads it, the final `WSACleanup` unloads it) and the SPI path
//! ([`Client`]: the calls a test makes directly, with the same contract checks). Both share
//! the provider's per-process count. What happened is read from the trace (the rules each call
//! fired), from the sockets' behaviour and from `Sim::diagnostics` (contract violations).
//!
//! The last part plugs deliberately flawed layered providers in, to show each contract check
//! of Ws2_32 reports what it should.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::ptr::{addr_of, addr_of_mut, null_mut};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use ws2sim::spi::{
    Client, DataLocation, Negotiated, Provider, ProviderInfo, Spi, Stop, DISCONNECT_DATA_ENTRY,
    DISCONNECT_DATA_PROVIDER, MSAFD_TCPIP_PROVIDER, SPI_VERSION, TCP_ENTRY,
};
use ws2sim::sys::*;
use ws2sim::{api, Event, Guid, Process, Profile, Rule, Sim, Socket, Version, WsaError};

mod common;
use common::*;

const DISC: i32 = IPPROTO_WS2SIM_DISCONNECT_DATA;
const PROFILES: [Profile; 2] = [Profile::Documented, Profile::Windows];
const V2_2: Version = Version::new(2, 2);

/// The SPI client of MSAFD Tcpip (the TCP and UDP entries).
fn msafd() -> Client {
    Client::new(MSAFD_TCPIP_PROVIDER)
}

/// The SPI client of the built-in disconnect-data stream provider.
fn dd() -> Client {
    Client::new(DISCONNECT_DATA_PROVIDER)
}

/// What the built-in providers (SPI 2.0 to 2.2) answer to a `WSPStartup` of `version`.
fn negotiated(version: Version) -> Result<Negotiated, WsaError> {
    Ok(Negotiated {
        version,
        high: V2_2,
    })
}

fn sim_with(profile: Profile) -> Sim {
    Sim::builder().profile(profile).build()
}

/// True when the call loaded a provider (SP-1).
fn loads(e: &Event) -> bool {
    e.rules.contains(&Rule::Sp1)
}

/// Asserts `e` fired `rule`.
#[track_caller]
fn assert_fired(e: &Event, rule: Rule) {
    assert!(e.rules.contains(&rule), "{rule:?} expected in {e}");
}

/// Asserts `e` did not fire `rule`.
#[track_caller]
fn assert_not_fired(e: &Event, rule: Rule) {
    assert!(!e.rules.contains(&rule), "{rule:?} not expected in {e}");
}

/// Asserts the simulation reported no contract violation.
#[track_caller]
fn assert_no_diagnostics(sim: &Sim) {
    let d = sim.diagnostics();
    assert!(d.is_empty(), "{d:?}");
}

/// `getsockopt(s, SO_TYPE)` with the last error preset: (result, last error after it).
fn so_type_err(s: SOCKET) -> (i32, i32) {
    last_error_after(|| so_type(s).0)
}

// ---------------------------------------------------------------------------------------------
// Overlapped receives (SP-4), laid out as tests/overlapped.rs does: the OVERLAPPED first, so
// the completion routine finds the record from lpOverlapped.

#[repr(C)]
struct Recv {
    ov: OVERLAPPED,
    wsabuf: WSABUF,
    buf: [u8; 16],
    /// How often the completion routine ran for it.
    routine_calls: AtomicU32,
}

/// A [`Recv`] on the heap that never moves; freed when the test drops it.
struct RecvBox(*mut Recv);

impl RecvBox {
    fn new() -> RecvBox {
        let p = Box::into_raw(Box::new(Recv {
            ov: OVERLAPPED::default(),
            wsabuf: WSABUF {
                len: 16,
                buf: null_mut(),
            },
            buf: [0xee; 16],
            routine_calls: AtomicU32::new(0),
        }));
        unsafe { (*p).wsabuf.buf = addr_of_mut!((*p).buf).cast() };
        RecvBox(p)
    }

    /// `WSARecv(s)` into the record with `hEvent = e` and `routine`; asserts it is pending.
    #[track_caller]
    unsafe fn post(&self, s: SOCKET, e: WSAEVENT, routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE) {
        (*self.0).ov.hEvent = e as HANDLE;
        let mut n = 0xdead_u32;
        let mut flags = 0u32;
        WSASetLastError(BEEF);
        let r = WSARecv(
            s,
            addr_of!((*self.0).wsabuf),
            1,
            &mut n,
            &mut flags,
            addr_of_mut!((*self.0).ov),
            routine,
        );
        assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
        assert_eq!(self.status(), OverlappedStatus::Pending);
    }

    fn status(&self) -> OverlappedStatus {
        overlapped_status(unsafe { &*addr_of!((*self.0).ov) })
    }

    fn routine_calls(&self) -> u32 {
        unsafe { (*self.0).routine_calls.load(SeqCst) }
    }
}

impl Drop for RecvBox {
    fn drop(&mut self) {
        unsafe { drop(Box::from_raw(self.0)) };
    }
}

unsafe extern "system" fn count_routine(_: u32, _: u32, ov: *mut OVERLAPPED, _: u32) {
    (*ov.cast::<Recv>()).routine_calls.fetch_add(1, SeqCst);
}

const ABORTED: OverlappedStatus = OverlappedStatus::Failed(WsaError::OperationAborted);

/// The event is signalled (a zero-timeout wait finds it).
fn is_set(e: WSAEVENT) -> bool {
    match wait_one(e, 0) {
        SIGNALLED => true,
        WSA_WAIT_TIMEOUT => false,
        other => panic!("WSAWaitForMultipleEvents returned {other:#x}"),
    }
}

// ---------------------------------------------------------------------------------------------
// SP-1

#[test]
fn sp_1_startup_loads_nothing_first_socket_of_each_provider_loads_it() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        // No WSPStartup yet: both built-in providers have a count of 0.
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(dd().cleanup(), Err(WsaError::NotInitialised));
        let a = tcp();
        let b = tcp();
        let u = udp();
        let d = stream_socket(DISC);
        let e = stream_socket(DISC);
        assert_eq!(so_type(a), (0, SOCK_STREAM));
        assert_eq!(so_type(u), (0, SOCK_DGRAM));
        assert_eq!(so_type(d), (0, SOCK_STREAM));
        for s in [a, b, u, d, e] {
            assert_eq!(closesocket(s), 0);
        }
        assert_eq!(WSACleanup(), 0);
        // One WSPStartup per provider, matched by the final cleanup's one WSPCleanup: the
        // counts are back at 0 (three loads of MSAFD would have left it at 2).
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(dd().cleanup(), Err(WsaError::NotInitialised));
    });
    let startups = events_of(&sim, "WSAStartup", &p);
    assert_eq!(startups.len(), 1);
    assert_not_fired(&startups[0], Rule::Sp1);
    let sockets = events_of(&sim, "socket", &p);
    assert_eq!(
        sockets.iter().map(loads).collect::<Vec<_>>(),
        vec![true, false, false, true, false],
        "tcp, tcp, udp, disconnect-data, disconnect-data"
    );
    // The provider's WSPStartup was asked for SPI 2.2 and negotiated it (SP-10).
    assert_fired(&sockets[0], Rule::Sp10);
    assert_not_fired(&sockets[1], Rule::Sp10);
    assert_fired(&sockets[3], Rule::Sp10);
    assert_eq!(SPI_VERSION, V2_2);
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_1_udp_first_then_tcp_shares_the_msafd_instance() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let u = udp();
        let t = tcp();
        let w = WSASocketW(INET, SOCK_STREAM, IPPROTO_TCP, std::ptr::null(), 0, 0);
        assert_ne!(w, INVALID_SOCKET);
        assert_eq!(so_type(u), (0, SOCK_DGRAM));
        assert_eq!(so_type(t), (0, SOCK_STREAM));
        assert_eq!(so_type(w), (0, SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
    });
    let sockets = events_of(&sim, "socket", &p);
    assert_eq!(
        sockets.iter().map(loads).collect::<Vec<_>>(),
        vec![true, false]
    );
    let wsa = events_of(&sim, "WSASocketW", &p);
    assert_eq!(wsa.len(), 1);
    assert!(!loads(&wsa[0]), "{}", wsa[0]);
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_1_failed_socket_loads_no_provider() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        WSASetLastError(BEEF);
        assert_eq!(socket(INET, SOCK_STREAM, 0xdead), INVALID_SOCKET);
        assert_eq!(WSAGetLastError(), WSAEPROTONOSUPPORT);
        // Nothing was started.
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(dd().cleanup(), Err(WsaError::NotInitialised));
        // The next good socket loads MSAFD.
        let _ = tcp();
        assert_eq!(WSACleanup(), 0);
    });
    let sockets = events_of(&sim, "socket", &p);
    assert_eq!(sockets.len(), 2);
    assert!(!loads(&sockets[0]), "{}", sockets[0]);
    assert!(loads(&sockets[1]), "{}", sockets[1]);
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_1_each_process_loads_its_own_instance() {
    let sim = Sim::new();
    let a = sim.localhost().process("a");
    let b = sim.localhost().process("b");
    a.run(|| {
        startup_2_2();
        tcp();
    });
    b.run(|| {
        startup_2_2();
        // a's WSPStartup does not count in b.
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        tcp();
        udp();
    });
    assert!(loads(&events_of(&sim, "socket", &a)[0]));
    let b_sockets = events_of(&sim, "socket", &b);
    assert_eq!(
        b_sockets.iter().map(loads).collect::<Vec<_>>(),
        vec![true, false]
    );
    // b's final cleanup ends b's instance, not a's: a's socket still works.
    b.run(|| assert_eq!(unsafe { WSACleanup() }, 0));
    a.run(|| unsafe {
        assert_eq!(so_type(tcp()), (0, SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
    });
    let a_sockets = events_of(&sim, "socket", &a);
    assert!(!loads(&a_sockets[1]), "{}", a_sockets[1]);
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_1_after_final_cleanup_and_new_startup_the_next_socket_loads_again() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let _ = tcp();
        let _ = stream_socket(DISC);
        assert_eq!(WSACleanup(), 0);
        startup_2_2();
        // ST-6: a clean state; the provider is not loaded until a socket needs it.
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        let _ = udp();
        let _ = tcp();
        let _ = stream_socket(DISC);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(dd().cleanup(), Err(WsaError::NotInitialised));
    });
    let startups = events_of(&sim, "WSAStartup", &p);
    assert_eq!(startups.len(), 2);
    for e in &startups {
        assert_fired(e, Rule::St6);
        assert_not_fired(e, Rule::Sp1);
    }
    let sockets = events_of(&sim, "socket", &p);
    assert_eq!(
        sockets.iter().map(loads).collect::<Vec<_>>(),
        vec![true, true, true, false, true],
        "tcp, dd | udp, tcp, dd"
    );
    for e in events_of(&sim, "WSACleanup", &p) {
        assert_fired(&e, Rule::Sp2);
        assert_fired(&e, Rule::Cl8);
    }
    assert_no_diagnostics(&sim);
}

// ---------------------------------------------------------------------------------------------
// SP-2

#[test]
fn sp_2_client_cleanups_that_are_not_final_leave_the_socket_working() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let s = tcp(); // MSAFD: count 1
        let c = msafd();
        assert_eq!(c.startup(V2_2), negotiated(V2_2)); // 2
        assert_eq!(c.startup(V2_2), negotiated(V2_2)); // 3
        assert_eq!(c.cleanup(), Ok(())); // 2
        let mut errno = 0x7777;
        assert_eq!(c.wsp_cleanup(&mut errno), 0); // 1
        assert_eq!(errno, 0x7777, "lpErrno is written only on failure");
        // Neither was the final one: the socket still works.
        assert_eq!(p.live_resources(), 1);
        assert_eq!(so_type(s), (0, SOCK_STREAM));
        set_linger(s, 1, 3);
        assert_eq!(get_linger(s), linger(1, 3));
        set_nonblocking(s, true);

        // The final WSACleanup makes the last WSPCleanup: it cleans up.
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.live_resources(), 0);
        assert_eq!(c.cleanup(), Err(WsaError::NotInitialised));
        startup_2_2();
        assert_eq!(so_type_err(s), (SOCKET_ERROR, WSAENOTSOCK));
        assert_eq!(WSACleanup(), 0);
    });
    let wsp = events_of(&sim, "WSPCleanup", &p);
    assert_eq!(wsp.len(), 3);
    for e in &wsp[..2] {
        assert_eq!((e.result.as_str(), e.error), ("0", None), "{e}");
        assert_fired(e, Rule::Sp2);
        assert_not_fired(e, Rule::Sp4);
        assert_not_fired(e, Rule::Cl6);
    }
    assert_eq!(wsp[2].error, Some(WsaError::NotInitialised), "{}", wsp[2]);
    assert_fired(&wsp[2], Rule::Sp3);
    let cleanup = &events_of(&sim, "WSACleanup", &p)[0];
    assert_fired(cleanup, Rule::Sp2);
    assert_fired(cleanup, Rule::Sp4);
    assert_fired(cleanup, Rule::Cl6);
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_2_client_startups_and_cleanups_without_sockets() {
    let (sim, p) = app();
    p.run(|| {
        let c = msafd();
        assert_eq!(c.startup(V2_2), negotiated(V2_2));
        assert_eq!(c.startup(V2_2), negotiated(V2_2));
        assert_eq!(c.cleanup(), Ok(()));
        assert_eq!(c.cleanup(), Ok(())); // the final one
        assert_eq!(c.cleanup(), Err(WsaError::NotInitialised));
        let mut errno = 0;
        assert_eq!(c.wsp_cleanup(&mut errno), SOCKET_ERROR);
        assert_eq!(errno, WSANOTINITIALISED);
        // The disconnect-data provider's count is its own: never started.
        assert_eq!(dd().cleanup(), Err(WsaError::NotInitialised));
    });
    // The SPI path needs no WSAStartup and does not create Ws2_32 state.
    assert_eq!(p.startup_count(), 0);
    let wsp = events_of(&sim, "WSPCleanup", &p);
    assert_eq!(wsp.len(), 5);
    for e in &wsp[..2] {
        assert_eq!((e.result.as_str(), e.error), ("0", None), "{e}");
        assert_fired(e, Rule::Sp2);
        assert_not_fired(e, Rule::Sp3);
    }
    for e in &wsp[2..] {
        assert_eq!(e.result, "SOCKET_ERROR", "{e}");
        assert_eq!(e.error, Some(WsaError::NotInitialised), "{e}");
        assert_fired(e, Rule::Sp3);
        assert_not_fired(e, Rule::Sp2);
    }
    let startups = events_of(&sim, "WSPStartup", &p);
    assert_eq!(startups.len(), 2);
    for e in &startups {
        assert_eq!(e.result, "0 (version 2.2, high 2.2)", "{e}");
        assert_fired(e, Rule::Sp10);
    }
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_2_client_startup_outlives_the_final_wsacleanup() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let s = tcp(); // count 1
        assert_eq!(msafd().startup(V2_2), negotiated(V2_2)); // count 2
                                                             // The final WSACleanup makes one WSPCleanup (count 1): not the provider's final one.
        assert_eq!(WSACleanup(), 0);
        // CL-8: Ws2_32 frees its sockets anyway.
        assert_eq!(p.live_resources(), 0);
        // The client's own startup is still outstanding: its cleanup is the final one.
        assert_eq!(msafd().cleanup(), Ok(()));
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        startup_2_2();
        assert_eq!(so_type_err(s), (SOCKET_ERROR, WSAENOTSOCK));
        assert_eq!(WSACleanup(), 0);
    });
    let cleanup = &events_of(&sim, "WSACleanup", &p)[0];
    assert_fired(cleanup, Rule::Sp2);
    assert_fired(cleanup, Rule::Cl6);
    assert_fired(cleanup, Rule::Cl8);
    assert_not_fired(cleanup, Rule::Sp4);
    assert_no_diagnostics(&sim);
}

// ---------------------------------------------------------------------------------------------
// SP-3

#[test]
fn sp_3_wspcleanup_with_count_zero_fails_not_initialised_in_lp_errno() {
    let (sim, p) = app();
    p.run(|| unsafe {
        for c in [msafd(), dd()] {
            assert_eq!(c.cleanup(), Err(WsaError::NotInitialised));
            let mut errno = 0x7777;
            assert_eq!(c.wsp_cleanup(&mut errno), -1);
            assert_eq!(errno, 10093);
        }
        // With Ws2_32 started but no socket: still 0.
        startup_2_2();
        let mut errno = 0;
        assert_eq!(msafd().wsp_cleanup(&mut errno), -1);
        assert_eq!(errno, WSANOTINITIALISED);
        assert_eq!(WSACleanup(), 0);
    });
    let wsp = events_of(&sim, "WSPCleanup", &p);
    assert_eq!(wsp.len(), 5);
    for e in &wsp {
        assert_eq!(e.result, "SOCKET_ERROR", "{e}");
        assert_eq!(e.error, Some(WsaError::NotInitialised), "{e}");
        assert_fired(e, Rule::Sp3);
    }
    // A correct provider failing correctly is no contract violation.
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_3_unknown_provider_id_fails_einval() {
    let (sim, p) = app();
    let unknown = [
        Client::new(Guid::new(0xdead_beef, 1, 2, *b"NOSUCHPR")),
        Client::new(Guid::default()),
    ];
    p.run(|| unsafe {
        for c in unknown {
            assert_eq!(c.startup(V2_2), Err(WsaError::InvalidArgument));
            assert_eq!(c.cleanup(), Err(WsaError::InvalidArgument));
            let mut errno = 0;
            assert_eq!(c.wsp_cleanup(&mut errno), SOCKET_ERROR);
            assert_eq!(errno, 10022);
        }
        // Started or not makes no difference.
        startup_2_2();
        let _ = tcp();
        assert_eq!(unknown[0].cleanup(), Err(WsaError::InvalidArgument));
        assert_eq!(unknown[0].startup(V2_2), Err(WsaError::InvalidArgument));
        assert_eq!(WSACleanup(), 0);
    });
    for e in events_of(&sim, "WSPStartup", &p)
        .iter()
        .chain(&events_of(&sim, "WSPCleanup", &p))
    {
        assert_eq!(e.error, Some(WsaError::InvalidArgument), "{e}");
        assert_fired(e, Rule::Sp3);
    }
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_3_final_wspcleanup_on_a_failed_network_cleans_and_reports_enetdown() {
    let sim = Sim::new();
    let host = sim.localhost();
    let p = host.process("app");
    let s = p.run(|| {
        startup_2_2();
        tcp() // MSAFD: count 1
    });
    sim.set_network_down(&host, true);
    p.run(|| unsafe {
        WSASetLastError(BEEF);
        let mut errno = 0;
        assert_eq!(msafd().wsp_cleanup(&mut errno), SOCKET_ERROR);
        assert_eq!(errno, WSAENETDOWN);
        assert_eq!(WSAGetLastError(), BEEF, "lpErrno, not the last error");
        // It was the final one: the provider reset its socket and its count is 0.
        assert_eq!(p.live_resources(), 0);
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
    });
    sim.set_network_down(&host, false);
    p.run(|| unsafe {
        assert_eq!(so_type_err(s), (SOCKET_ERROR, WSAENOTSOCK));
        // SP-9: it starts again at once.
        assert_eq!(msafd().startup(V2_2), negotiated(V2_2));
        assert_eq!(msafd().cleanup(), Ok(()));
        assert_eq!(WSACleanup(), 0);
    });
    let wsp = events_of(&sim, "WSPCleanup", &p);
    assert_eq!(wsp[0].error, Some(WsaError::NetworkDown), "{}", wsp[0]);
    assert_fired(&wsp[0], Rule::Sp3);
    assert_fired(&wsp[0], Rule::Sp4);
    assert_fired(&wsp[0], Rule::Cl6);
    assert_eq!(wsp[1].error, Some(WsaError::NotInitialised), "{}", wsp[1]);
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_3_non_final_wspcleanup_on_a_failed_network_reports_enetdown() {
    let sim = Sim::new();
    let host = sim.localhost();
    let p = host.process("app");
    let s = p.run(|| {
        startup_2_2();
        let s = tcp(); // count 1
        assert_eq!(msafd().startup(V2_2), negotiated(V2_2)); // count 2
        s
    });
    sim.set_network_down(&host, true);
    p.run(|| {
        let mut errno = 0;
        assert_eq!(msafd().wsp_cleanup(&mut errno), SOCKET_ERROR);
        assert_eq!(errno, WSAENETDOWN);
        // Not the final one: the socket is still there.
        assert_eq!(p.live_resources(), 1);
    });
    sim.set_network_down(&host, false);
    p.run(|| unsafe {
        assert_eq!(so_type(s), (0, SOCK_STREAM));
        // The count was decremented: Ws2_32's own startup is the last one.
        assert_eq!(WSACleanup(), 0);
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
    });
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_3_wspstartup_and_wspcleanup_never_touch_the_last_error() {
    let (sim, p) = app();
    let unknown = Client::new(Guid::new(1, 2, 3, [4; 8]));
    p.run(|| unsafe {
        for preset in [BEEF, 0, WSAEWOULDBLOCK] {
            WSASetLastError(preset);
            let c = msafd();
            assert_eq!(c.cleanup(), Err(WsaError::NotInitialised));
            assert_eq!(c.startup(Version::V1_1), Err(WsaError::VersionNotSupported));
            assert_eq!(unknown.startup(V2_2), Err(WsaError::InvalidArgument));
            assert_eq!(unknown.cleanup(), Err(WsaError::InvalidArgument));
            assert_eq!(c.startup(V2_2), negotiated(V2_2));
            assert_eq!(c.cleanup(), Ok(()));
            assert_eq!(WSAGetLastError(), preset);
        }
        // In a started process with a socket of the provider too.
        startup_2_2();
        let _ = tcp();
        WSASetLastError(BEEF);
        assert_eq!(msafd().startup(V2_2), negotiated(V2_2));
        assert_eq!(msafd().cleanup(), Ok(()));
        assert_eq!(msafd().cleanup(), Ok(())); // final: resets the socket
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(WSAGetLastError(), BEEF);
        assert_eq!(WSACleanup(), 0);
    });
    assert_no_diagnostics(&sim);
}

// ---------------------------------------------------------------------------------------------
// SP-4

#[test]
fn sp_4_final_wsacleanup_resets_connections_and_aborts_overlapped_silently() {
    let sim = sim_with(Profile::Documented);
    let k = tcp_pair_with(&sim, 7300, |_| {});
    let a = RecvBox::new();
    let b = RecvBox::new();
    k.server.run(|| unsafe {
        let e = event();
        a.post(k.s, e, None);
        b.post(k.s, 0, Some(count_routine));
        assert!(!is_set(e));
        assert_eq!(
            k.server.live_resources(),
            5,
            "2 sockets, 1 event, 2 operations"
        );
    });
    k.server.run(|| unsafe {
        WSASetLastError(BEEF);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(WSAGetLastError(), 0);
        assert_eq!(a.status(), ABORTED);
        assert_eq!(b.status(), ABORTED);
        // No routine now or later.
        assert_eq!(SleepEx(0, TRUE), 0);
        assert_eq!(SleepEx(20, TRUE), 0);
        assert_eq!(b.routine_calls(), 0);
        assert_eq!(k.server.live_resources(), 0);
    });
    sim.run();
    // The peer sees the reset.
    k.client_reads(&[], RESET);
    assert_eq!(a.status(), ABORTED);
    assert_eq!(b.routine_calls(), 0);
    let cleanup = &events_of(&sim, "WSACleanup", &k.server)[0];
    for rule in [Rule::Sp2, Rule::Sp4, Rule::Cl5, Rule::Cl6, Rule::Cl8] {
        assert_fired(cleanup, rule);
    }
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_4_direct_final_wspcleanup_aborts_overlapped_without_setting_the_event() {
    let sim = sim_with(Profile::Documented);
    let k = tcp_pair_with(&sim, 7301, |_| {});
    let a = RecvBox::new();
    let b = RecvBox::new();
    k.server.run(|| unsafe {
        let e = event();
        a.post(k.s, e, None);
        b.post(k.s, 0, Some(count_routine));
        // The listener's socket loaded MSAFD once: this is its final WSPCleanup.
        let mut errno = 0x7777;
        assert_eq!(msafd().wsp_cleanup(&mut errno), 0);
        assert_eq!(errno, 0x7777);
        assert_eq!(a.status(), ABORTED);
        assert_eq!(b.status(), ABORTED);
        // Ws2_32 is still started, so the event still exists: it was not set.
        assert!(!is_set(e));
        assert_eq!(SleepEx(0, TRUE), 0);
        assert_eq!(b.routine_calls(), 0);
        // The provider's sockets are gone; the event is all that is left.
        assert_eq!(k.server.live_resources(), 1);
        for s in [k.s, k.listener] {
            assert_eq!(so_type_err(s), (SOCKET_ERROR, WSAENOTSOCK));
            assert_fails(closesocket(s), WSAENOTSOCK);
        }
        assert_eq!(k.server.startup_count(), 1);
    });
    sim.run();
    k.client_reads(&[], RESET);
    k.server.run(|| unsafe {
        assert_eq!(WSACleanup(), 0);
        assert_eq!(k.server.live_resources(), 0);
    });
    assert_eq!(b.routine_calls(), 0);
    let wsp = &events_of(&sim, "WSPCleanup", &k.server)[0];
    for rule in [Rule::Sp2, Rule::Sp4, Rule::Cl5, Rule::Cl6] {
        assert_fired(wsp, rule);
    }
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_4_direct_final_wspcleanup_closes_sockets_by_profile() {
    for profile in PROFILES {
        let sim = sim_with(profile);
        let k = tcp_pair_with(&sim, 7302, |_| {});
        let hello = pattern(100);
        k.server.run(|| {
            send_all(k.s, &hello);
            assert_eq!(msafd().cleanup(), Ok(()));
            assert_eq!(so_type_err(k.s), (SOCKET_ERROR, WSAENOTSOCK));
            assert_eq!(
                last_error_after(|| send_bytes(k.s, b"x")),
                (SOCKET_ERROR, WSAENOTSOCK)
            );
        });
        sim.run();
        match profile {
            // CL-6 Documented: reset; data already delivered is still read first.
            Profile::Documented => k.client_reads(&hello, RESET),
            // CL-6 Windows: closed as closesocket would with the default linger.
            Profile::Windows => k.client_reads(&hello, GRACEFUL),
        }
        assert_no_diagnostics(&sim);
    }
}

#[test]
fn sp_4_direct_final_wspcleanup_interrupts_blocking_calls_on_its_sockets() {
    let (sim, p) = app();
    let (r, thread) = p.run(|| unsafe {
        startup_2_2();
        let addr = sockaddr(Ipv4Addr::new(10, 0, 0, 1), 7303);
        let l = tcp_listener(&addr, 5);
        let _c = tcp_connected(&addr);
        let s = accept_one(l);
        let t = ws2sim::thread::spawn(move || {
            let (r, bytes) = recv_n(s, 64, 0);
            let e = if r == SOCKET_ERROR {
                WSAGetLastError()
            } else {
                0
            };
            (r, e, bytes)
        });
        sim.run(); // the thread blocks in recv
        assert!(!t.is_finished());
        assert_eq!(msafd().cleanup(), Ok(()));
        let id = t.id();
        let r = t.join();
        assert_eq!(WSACleanup(), 0);
        (r, id)
    });
    assert_eq!(r, (SOCKET_ERROR, WSAEINTR, vec![]));
    let tid: u32 = thread.to_string().parse().unwrap();
    let recv = sim
        .trace()
        .calls("recv")
        .find(|e| e.thread == tid)
        .cloned()
        .unwrap();
    assert_eq!(recv.error, Some(WsaError::Interrupted), "{recv}");
    assert_no_diagnostics(&sim);
}

// ---------------------------------------------------------------------------------------------
// SP-5 (and SP-6 for a provider whose data lives in the transport)

const SENT: usize = 5000;
const WINDOW: u32 = 1000;
const SLOW: Duration = Duration::from_millis(50);

/// A connection in a `Sim` of `profile` with a 50 ms link whose client just sent 5000 bytes
/// the server (receive window 1000) has not read: most of them are still queued at the client.
fn slow_pair_with_unsent_data(profile: Profile, port: u16) -> (Pair, Vec<u8>) {
    let sim = Sim::builder().profile(profile).latency(SLOW).build();
    let data = pattern(SENT);
    let k = tcp_pair(&sim, port, WINDOW);
    k.client.run(|| send_all(k.c, &data));
    (k, data)
}

#[test]
fn sp_5_closed_sockets_data_survives_the_final_wsacleanup() {
    for profile in PROFILES {
        let (k, data) = slow_pair_with_unsent_data(profile, 7400);
        let sim = &k.sim;
        k.client.run(|| unsafe {
            let t = sim.now();
            assert_eq!(closesocket(k.c), 0);
            assert_eq!(WSACleanup(), 0);
            // SP-6: the data is in the transport; the cleanup did not wait for it.
            assert_eq!(sim.now(), t, "{profile:?}");
        });
        assert_eq!(sim.lost_bytes(), 0, "{profile:?}");
        assert!(k.client.is_running());
        k.server_reads(&data, GRACEFUL);
        assert_no_loss(sim);
        let cleanup = &events_of(sim, "WSACleanup", &k.client)[0];
        assert_eq!(cleanup.blocked, Duration::ZERO, "{cleanup}");
        assert_fired(cleanup, Rule::Sp2);
        // The final WSPCleanup ran (SP-4), but the closed socket was not one of the sockets
        // it reset.
        assert_fired(cleanup, Rule::Sp4);
        assert_not_fired(cleanup, Rule::Cl6);
        assert_no_diagnostics(sim);
    }
}

#[test]
fn sp_5_closed_sockets_data_survives_a_direct_final_wspcleanup() {
    for profile in PROFILES {
        let (k, data) = slow_pair_with_unsent_data(profile, 7401);
        let sim = &k.sim;
        k.client.run(|| unsafe {
            assert_eq!(closesocket(k.c), 0);
            assert_eq!(msafd().cleanup(), Ok(())); // the final WSPCleanup
            assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        });
        assert_eq!(sim.lost_bytes(), 0, "{profile:?}");
        k.server_reads(&data, GRACEFUL);
        assert_no_loss(sim);
        k.client.run(|| assert_eq!(unsafe { WSACleanup() }, 0));
        assert_no_diagnostics(sim);
    }
}

#[test]
fn sp_5_windows_closed_sockets_data_survives_cleanup_and_exit() {
    let (k, data) = slow_pair_with_unsent_data(Profile::Windows, 7402);
    k.client.run(|| unsafe {
        assert_eq!(closesocket(k.c), 0);
        assert_eq!(WSACleanup(), 0);
    });
    // SP-7: the built-in provider's data lives in the transport, which outlives the process.
    k.client.exit();
    assert_eq!(k.sim.lost_bytes(), 0);
    k.server_reads(&data, GRACEFUL);
    assert_no_loss(&k.sim);
    assert_no_diagnostics(&k.sim);
}

#[test]
fn sp_5_open_socket_is_reset_while_the_closed_one_keeps_sending() {
    // Documented: the final cleanup resets the open connection (SP-4) and leaves the closed
    // one's data flowing (SP-5).
    let sim = Sim::builder()
        .profile(Profile::Documented)
        .latency(SLOW)
        .build();
    let Hosts {
        server,
        client,
        server_ip,
        ..
    } = two_hosts(sim.clone());
    let addr = sockaddr(server_ip, 7403);
    let l = server.run(|| {
        let l = tcp();
        set_dword_opt(l, SO_RCVBUF, WINDOW);
        assert_eq!(unsafe { bind(l, name_ptr(&addr), 16) }, 0);
        assert_eq!(unsafe { listen(l, 5) }, 0);
        l
    });
    let (closed, open) = client.run(|| (tcp_connected(&addr), tcp_connected(&addr)));
    let (s_closed, s_open) = server.run(|| (accept_one(l), accept_one(l)));
    let data = pattern(SENT);
    client.run(|| unsafe {
        send_all(closed, &data);
        send_all(open, b"open");
        assert_eq!(closesocket(closed), 0);
        assert_eq!(WSACleanup(), 0);
    });
    assert_reads_to_end(&server, s_closed, &data, GRACEFUL);
    assert_reads_to_end(&server, s_open, b"open", RESET);
    assert_eq!(sim.lost_bytes(), 0);
    let cleanup = &events_of(&sim, "WSACleanup", &client)[0];
    assert_fired(cleanup, Rule::Sp4);
    assert_fired(cleanup, Rule::Cl6);
    assert_no_diagnostics(&sim);
}

// ---------------------------------------------------------------------------------------------
// SP-8

#[test]
fn sp_8_killed_process_with_a_loaded_provider_new_process_starts_at_once() {
    for profile in PROFILES {
        let sim = sim_with(profile);
        let k = tcp_pair_with(&sim, 7500, |_| {});
        k.client.run(|| {
            // The client's provider: loaded by its socket, plus two SPI startups.
            assert_eq!(msafd().startup(V2_2), negotiated(V2_2));
            assert_eq!(msafd().startup(V2_2), negotiated(V2_2));
            send_all(k.c, b"before");
        });
        k.client.kill();
        assert!(!k.client.is_running());
        let kill = events_of(&sim, "TerminateProcess", &k.client)
            .pop()
            .unwrap();
        assert_fired(&kill, Rule::Sp8);

        // A new process on the same host starts, loads its own provider and connects.
        let t = sim.now();
        let client2 = sim.host("client").process("client2");
        client2.run(|| unsafe {
            startup_2_2();
            // Nothing of the killed process's provider counts here.
            assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
            let c2 = tcp();
            assert_eq!(
                sim.now(),
                t,
                "{profile:?}: no waiting for the killed process"
            );
            assert_eq!(connect(c2, name_ptr(&k.addr), 16), 0);
            send_all(c2, b"after");
            assert_eq!(closesocket(c2), 0);
            assert_eq!(WSACleanup(), 0);
        });
        let sockets = events_of(&sim, "socket", &client2);
        assert!(loads(&sockets[0]), "{}", sockets[0]);

        // The killed process's connection was closed abortively, after what was delivered.
        k.server_reads(b"before", RESET);
        let s2 = k.server.run(|| accept_one(k.listener));
        assert_reads_to_end(&k.server, s2, b"after", GRACEFUL);
        assert_no_diagnostics(&sim);
    }
}

#[test]
fn sp_8_exit_without_cleanup_then_a_new_process_uses_the_catalog() {
    let (sim, p) = app();
    p.run(|| {
        startup_2_2();
        let _ = tcp();
        let _ = stream_socket(DISC);
        assert_eq!(dd().startup(V2_2), negotiated(V2_2));
    });
    p.exit();
    let exit = events_of(&sim, "ExitProcess", &p).pop().unwrap();
    assert_fired(&exit, Rule::Cl7);
    let q = sim.localhost().process("next");
    q.run(|| unsafe {
        startup_2_2();
        assert_eq!(api::enum_protocols(None).unwrap().len(), 3);
        assert_eq!(dd().cleanup(), Err(WsaError::NotInitialised));
        let d = stream_socket(DISC);
        assert_eq!(so_type(d), (0, SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
    });
    assert!(loads(&events_of(&sim, "socket", &q)[0]));
    assert_no_diagnostics(&sim);
}

// ---------------------------------------------------------------------------------------------
// SP-9

#[test]
fn sp_9_immediate_restart_after_final_wsacleanup_loads_the_provider_again() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let a = tcp();
        let _ = stream_socket(DISC);
        let t = sim.now();
        assert_eq!(WSACleanup(), 0);
        startup_2_2();
        let b = tcp();
        let d = stream_socket(DISC);
        assert_eq!(sim.now(), t, "no virtual time passed");
        assert_eq!(so_type(b), (0, SOCK_STREAM));
        assert_eq!(so_type(d), (0, SOCK_STREAM));
        set_linger(b, 1, 2);
        assert_eq!(so_type_err(a), (SOCKET_ERROR, WSAENOTSOCK));
        assert_eq!(WSACleanup(), 0);
    });
    let sockets = events_of(&sim, "socket", &p);
    assert_eq!(sockets.len(), 4);
    for e in &sockets {
        assert!(loads(e), "{e}");
        assert_fired(e, Rule::Sp10);
        assert_eq!(e.error, None, "{e}");
    }
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_9_client_restarts_right_after_each_final_wspcleanup() {
    let (sim, p) = app();
    p.run(|| {
        for c in [msafd(), dd()] {
            for _ in 0..3 {
                assert_eq!(c.startup(V2_2), negotiated(V2_2));
                assert_eq!(c.cleanup(), Ok(()));
            }
            assert_eq!(c.startup(V2_2), negotiated(V2_2));
            assert_eq!(c.startup(V2_2), negotiated(V2_2));
            assert_eq!(c.cleanup(), Ok(()));
            assert_eq!(c.cleanup(), Ok(()));
            assert_eq!(
                c.startup(Version::new(2, 0)),
                negotiated(Version::new(2, 0))
            );
            assert_eq!(c.cleanup(), Ok(()));
            assert_eq!(c.cleanup(), Err(WsaError::NotInitialised));
        }
    });
    assert_eq!(sim.now(), Duration::ZERO);
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_9_direct_final_wspcleanup_then_the_process_goes_on() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let s = tcp();
        assert_eq!(msafd().cleanup(), Ok(())); // final: s is reset
        assert_eq!(so_type_err(s), (SOCKET_ERROR, WSAENOTSOCK));
        // The provider accepts a new WSPStartup at once.
        assert_eq!(msafd().startup(V2_2), negotiated(V2_2));
        let t = tcp();
        assert_eq!(so_type(t), (0, SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
        assert_eq!(p.live_resources(), 0);
    });
    assert_no_diagnostics(&sim);
}

// ---------------------------------------------------------------------------------------------
// SP-10

#[test]
fn sp_10_client_negotiation_by_requested_version() {
    let (sim, p) = app();
    p.run(|| {
        for c in [msafd(), dd()] {
            let ok = [
                (Version::new(2, 2), Version::new(2, 2)),
                (Version::new(3, 0), Version::new(2, 2)),
                (Version::new(2, 0), Version::new(2, 0)),
                (Version::new(2, 1), Version::new(2, 1)),
                (Version::new(2, 9), Version::new(2, 2)),
                (Version::new(255, 255), Version::new(2, 2)),
            ];
            for (requested, version) in ok {
                assert_eq!(c.startup(requested), negotiated(version), "{requested}");
            }
            for requested in [
                Version::new(1, 1),
                Version::new(1, 9),
                Version::new(1, 0),
                Version::new(0, 0),
                Version::new(0, 2),
            ] {
                assert_eq!(
                    c.startup(requested),
                    Err(WsaError::VersionNotSupported),
                    "{requested}"
                );
            }
            // Only the successful startups counted.
            for _ in ok {
                assert_eq!(c.cleanup(), Ok(()));
            }
            assert_eq!(c.cleanup(), Err(WsaError::NotInitialised));
        }
    });
    let startups = events_of(&sim, "WSPStartup", &p);
    assert_eq!(startups.len(), 22);
    assert_eq!(startups[1].result, "0 (version 2.2, high 2.2)");
    assert_eq!(startups[2].result, "0 (version 2.0, high 2.2)");
    for e in &startups {
        assert_fired(e, Rule::Sp10);
    }
    assert_eq!(startups[6].error, Some(WsaError::VersionNotSupported));
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_10_failed_startup_does_not_count() {
    let (sim, p) = app();
    p.run(|| unsafe {
        assert_eq!(
            msafd().startup(Version::V1_1),
            Err(WsaError::VersionNotSupported)
        );
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        // Also once Ws2_32 holds a startup of its own.
        startup_2_2();
        let s = tcp();
        assert_eq!(
            msafd().startup(Version::V1_1),
            Err(WsaError::VersionNotSupported)
        );
        assert_eq!(msafd().cleanup(), Ok(())); // Ws2_32's startup: the final one
        assert_eq!(so_type_err(s), (SOCKET_ERROR, WSAENOTSOCK));
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(WSACleanup(), 0);
    });
    assert_no_diagnostics(&sim);
}

// ---------------------------------------------------------------------------------------------
// CL-9

fn addr(last: u8, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port)
}

#[test]
fn cl_9_names_survive_the_final_cleanup() {
    let (sim, p) = app();
    p.run(|| {
        api::startup(V2_2).unwrap();
        api::startup(V2_2).unwrap();
        api::register_name("www", addr(1, 80)).unwrap();
        api::cleanup().unwrap();
        api::cleanup().unwrap(); // final
        assert_eq!(p.startup_count(), 0);
        api::startup(V2_2).unwrap();
        assert_eq!(api::lookup_name("www"), Ok(addr(1, 80)));
        api::cleanup().unwrap();
    });
    for e in sim.trace().calls("WSALookupServiceBeginW") {
        assert_fired(e, Rule::Cl9);
    }
    let reg = sim
        .trace()
        .calls("WSASetServiceW (register)")
        .next()
        .cloned();
    assert_fired(&reg.unwrap(), Rule::Cl9);
    assert_no_diagnostics(&sim);
}

#[test]
fn cl_9_names_survive_process_exit_and_kill() {
    let sim = Sim::new();
    let a = sim.localhost().process("a");
    let b = sim.localhost().process("b");
    a.run(|| {
        api::startup(V2_2).unwrap();
        api::register_name("from-a", addr(1, 1)).unwrap();
    });
    a.exit();
    b.run(|| {
        api::startup(V2_2).unwrap();
        api::register_name("from-b", addr(2, 2)).unwrap();
    });
    b.kill();
    let c = sim.host("elsewhere").process("c");
    c.run(|| {
        api::startup(V2_2).unwrap();
        assert_eq!(api::lookup_name("from-a"), Ok(addr(1, 1)));
        assert_eq!(api::lookup_name("from-b"), Ok(addr(2, 2)));
        api::cleanup().unwrap();
    });
}

#[test]
fn cl_9_name_calls_without_startup_fail_not_initialised() {
    let (sim, p) = app();
    p.run(|| {
        assert_eq!(api::lookup_name("x"), Err(WsaError::NotInitialised));
        assert_eq!(api::last_error(), WSANOTINITIALISED);
        assert_eq!(
            api::register_name("x", addr(1, 1)),
            Err(WsaError::NotInitialised)
        );
        assert_eq!(api::deregister_name("x"), Err(WsaError::NotInitialised));
        api::startup(V2_2).unwrap();
        // The failed register registered nothing.
        assert_eq!(api::lookup_name("x"), Err(WsaError::ServiceNotFound));
        api::register_name("x", addr(1, 1)).unwrap();
        api::cleanup().unwrap();
        // After the final cleanup: ER-1 again, though the name is still there.
        assert_eq!(api::lookup_name("x"), Err(WsaError::NotInitialised));
        api::startup(V2_2).unwrap();
        assert_eq!(api::lookup_name("x"), Ok(addr(1, 1)));
        api::cleanup().unwrap();
    });
    let lookups: Vec<Event> = sim
        .trace()
        .calls("WSALookupServiceBeginW")
        .cloned()
        .collect();
    assert_eq!(lookups.len(), 4);
    assert_fired(&lookups[0], Rule::Er1);
    assert_eq!(lookups[0].result, "SOCKET_ERROR");
}

#[test]
fn cl_9_unknown_name_fails_service_not_found() {
    let (_sim, p) = app();
    p.run(|| {
        api::startup(V2_2).unwrap();
        api::set_last_error(BEEF);
        assert_eq!(api::lookup_name("nobody"), Err(WsaError::ServiceNotFound));
        assert_eq!(WsaError::ServiceNotFound.code(), 10108);
        assert_eq!(api::last_error(), 10108);
        api::set_last_error(BEEF);
        assert_eq!(
            api::deregister_name("nobody"),
            Err(WsaError::ServiceNotFound)
        );
        assert_eq!(api::last_error(), 10108);
        // Names are matched exactly.
        api::register_name("Host", addr(1, 1)).unwrap();
        assert_eq!(api::lookup_name("Hos"), Err(WsaError::ServiceNotFound));
        assert_eq!(api::lookup_name("Host "), Err(WsaError::ServiceNotFound));
        assert_eq!(api::lookup_name("Host"), Ok(addr(1, 1)));
        api::cleanup().unwrap();
    });
}

#[test]
fn cl_9_empty_name_fails_einval() {
    let (_sim, p) = app();
    p.run(|| {
        api::startup(V2_2).unwrap();
        api::set_last_error(BEEF);
        assert_eq!(
            api::register_name("", addr(1, 1)),
            Err(WsaError::InvalidArgument)
        );
        assert_eq!(api::last_error(), WSAEINVAL);
        api::set_last_error(BEEF);
        assert_eq!(api::deregister_name(""), Err(WsaError::InvalidArgument));
        assert_eq!(api::last_error(), 10022);
        api::cleanup().unwrap();
    });
}

#[test]
fn cl_9_deregister_removes_and_register_replaces() {
    let (_sim, p) = app();
    p.run(|| {
        api::startup(V2_2).unwrap();
        api::register_name("svc", addr(1, 1)).unwrap();
        api::register_name("other", addr(3, 3)).unwrap();
        api::register_name("svc", addr(2, 2)).unwrap();
        assert_eq!(api::lookup_name("svc"), Ok(addr(2, 2)));
        assert_eq!(api::deregister_name("svc"), Ok(()));
        assert_eq!(api::lookup_name("svc"), Err(WsaError::ServiceNotFound));
        assert_eq!(api::deregister_name("svc"), Err(WsaError::ServiceNotFound));
        // Only that name went.
        assert_eq!(api::lookup_name("other"), Ok(addr(3, 3)));
        api::cleanup().unwrap();
        // A deregistration survives cleanup too.
        api::startup(V2_2).unwrap();
        assert_eq!(api::lookup_name("svc"), Err(WsaError::ServiceNotFound));
        api::cleanup().unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// Ws2_32's contract checks against flawed providers. `Layer` is a layered provider over TCP
// that keeps no data of its own; each `Flaw` breaks one rule of the startup/cleanup contract.

const LAYER_ID: Guid = Guid::new(0x5350_c11e, 0x5350, 0x0001, *b"SPCLIENT");
const LAYER_PROTOCOL: &str = "spi_client test layer";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    /// A correct provider.
    None,
    /// SP-3: its cleanup succeeds with a count of 0.
    CleanupIgnoresCount,
    /// SP-9: it refuses a WSPStartup after its final WSPCleanup.
    RefusesRestart,
    /// SP-10: it answers the requested version instead of min(requested, highest).
    AnswersRequested,
    /// SP-2: it forgets its clients: every cleanup fails WSANOTINITIALISED.
    ForgetsClients,
    /// SP-6: it claims to still hold bytes in the process at its final cleanup.
    HoldsBytes(usize),
}

#[derive(Debug, Clone)]
struct Layer {
    flaw: Flaw,
    clients: u32,
    cleaned: bool,
}

impl Layer {
    fn new(flaw: Flaw) -> Layer {
        Layer {
            flaw,
            clients: 0,
            cleaned: false,
        }
    }
}

impl Provider for Layer {
    fn info(&self) -> ProviderInfo {
        let mut info = ProviderInfo::layered(LAYER_ID, "layer", &[(TCP_ENTRY, LAYER_PROTOCOL)]);
        info.data = DataLocation::Transport;
        info
    }

    fn startup(&mut self, _: &mut Spi<'_>, requested: Version) -> Result<Negotiated, WsaError> {
        if self.flaw == Flaw::RefusesRestart && self.cleaned {
            return Err(WsaError::SystemNotReady);
        }
        let n = self.info().negotiate(requested)?;
        if self.flaw != Flaw::ForgetsClients {
            self.clients += 1;
        }
        if self.flaw == Flaw::AnswersRequested {
            return Ok(Negotiated {
                version: requested,
                high: n.high,
            });
        }
        Ok(n)
    }

    fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
        if self.clients == 0 {
            if self.flaw == Flaw::CleanupIgnoresCount {
                return Ok(());
            }
            return Err(WsaError::NotInitialised.into());
        }
        self.clients -= 1;
        if self.clients == 0 {
            self.cleaned = true;
        }
        Ok(())
    }

    fn unsent_bytes(&self) -> usize {
        match self.flaw {
            Flaw::HoldsBytes(n) => n,
            _ => 0,
        }
    }
}

fn layer_sim(flaw: Flaw) -> (Sim, Process) {
    let sim = Sim::builder().provider(Layer::new(flaw)).build();
    let p = sim.localhost().process("app");
    (sim, p)
}

fn layer() -> Client {
    Client::new(LAYER_ID)
}

/// A socket of the layer's catalog entry (chain: the layer, then TCP).
#[track_caller]
fn layer_socket() -> Result<Socket, WsaError> {
    let entry = api::enum_protocols(None)
        .unwrap()
        .into_iter()
        .find(|e| e.name == LAYER_PROTOCOL)
        .expect("the layer's entry is in the catalog");
    assert_eq!(entry.chain.len, 2);
    assert_eq!(entry.chain.entries[1], TCP_ENTRY);
    Socket::from_protocol_info(&entry, 0)
}

#[test]
fn sp_1_layered_socket_loads_both_providers_and_shares_msafd() {
    let (sim, p) = layer_sim(Flaw::None);
    p.run(|| unsafe {
        startup_2_2();
        let s = layer_socket().unwrap();
        assert_eq!(s.socket_type(), Ok(SOCK_STREAM));
        // MSAFD is already loaded for the layered chain: a plain TCP socket shares it.
        let t = tcp();
        assert_eq!(WSACleanup(), 0);
        // Each provider had one WSPStartup, matched by the final cleanup.
        assert_eq!(layer().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised));
        let _ = t;
    });
    let wsa = events_of(&sim, "WSASocketW", &p);
    assert!(loads(&wsa[0]), "{}", wsa[0]);
    let sockets = events_of(&sim, "socket", &p);
    assert!(!loads(&sockets[0]), "{}", sockets[0]);
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_1_disconnect_data_entry_is_its_own_provider() {
    let (sim, p) = app();
    p.run(|| unsafe {
        startup_2_2();
        let entry = api::enum_protocols(None)
            .unwrap()
            .into_iter()
            .find(|e| e.catalog_entry_id == DISCONNECT_DATA_ENTRY)
            .unwrap();
        assert_eq!(entry.provider_id, DISCONNECT_DATA_PROVIDER);
        assert_ne!(entry.provider_id, MSAFD_TCPIP_PROVIDER);
        let _ = tcp();
        let d = Socket::from_protocol_info(&entry, 0).unwrap();
        assert_eq!(d.socket_type(), Ok(SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
    });
    assert!(loads(&events_of(&sim, "socket", &p)[0]));
    assert!(loads(&events_of(&sim, "WSASocketW", &p)[0]));
    assert_no_diagnostics(&sim);
}

#[test]
fn sp_3_cleanup_succeeding_with_count_zero_is_diagnosed() {
    let (sim, p) = layer_sim(Flaw::CleanupIgnoresCount);
    p.run(|| {
        // The provider answers 0; Ws2_32 passes that on and reports the violation.
        assert_eq!(layer().cleanup(), Ok(()));
    });
    let d = sim.diagnostics();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].rule, Rule::Sp3);
    assert_eq!(d[0].pid, p.pid());
    assert!(
        d[0].message.contains("WSANOTINITIALISED"),
        "{}",
        d[0].message
    );
    // The correct built-in providers, called the same way, are not diagnosed.
    p.run(|| assert_eq!(msafd().cleanup(), Err(WsaError::NotInitialised)));
    assert_eq!(sim.diagnostics().len(), 1);
}

#[test]
fn sp_2_cleanup_failing_with_startups_outstanding_is_diagnosed() {
    let (sim, p) = layer_sim(Flaw::ForgetsClients);
    p.run(|| {
        assert_eq!(layer().startup(V2_2), negotiated(V2_2));
        assert_eq!(layer().cleanup(), Err(WsaError::NotInitialised));
    });
    let d = sim.diagnostics();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].rule, Rule::Sp2);
}

#[test]
fn sp_9_provider_refusing_restart_is_diagnosed() {
    let (sim, p) = layer_sim(Flaw::RefusesRestart);
    p.run(|| {
        assert_eq!(layer().startup(V2_2), negotiated(V2_2));
        assert_eq!(layer().cleanup(), Ok(()));
        assert!(sim.diagnostics().is_empty());
        assert_eq!(layer().startup(V2_2), Err(WsaError::SystemNotReady));
    });
    let d = sim.diagnostics();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].rule, Rule::Sp9);
}

#[test]
fn sp_9_ws2_32_reload_of_a_provider_refusing_restart_is_diagnosed() {
    let (sim, p) = layer_sim(Flaw::RefusesRestart);
    p.run(|| unsafe {
        startup_2_2();
        let _ = layer_socket().unwrap();
        assert_eq!(WSACleanup(), 0);
        assert!(sim.diagnostics().is_empty());
        startup_2_2();
        WSASetLastError(BEEF);
        assert_eq!(layer_socket(), Err(WsaError::SystemNotReady));
        assert_eq!(WSAGetLastError(), WSASYSNOTREADY);
        // The built-in provider below restarted fine: plain TCP works.
        assert_eq!(so_type(tcp()), (0, SOCK_STREAM));
        assert_eq!(WSACleanup(), 0);
    });
    let d = sim.diagnostics();
    assert!(!d.is_empty());
    assert!(d.iter().all(|d| d.rule == Rule::Sp9), "{d:?}");
}

#[test]
fn sp_10_wrong_negotiation_is_diagnosed() {
    let (sim, p) = layer_sim(Flaw::AnswersRequested);
    p.run(|| {
        // 2.1 is within the range: the answer is right, no diagnostic.
        assert_eq!(
            layer().startup(Version::new(2, 1)),
            negotiated(Version::new(2, 1))
        );
        assert!(sim.diagnostics().is_empty());
        // 3.0 must give 2.2; the flawed provider says 3.0.
        assert_eq!(
            layer().startup(Version::new(3, 0)),
            Ok(Negotiated {
                version: Version::new(3, 0),
                high: V2_2
            })
        );
    });
    let d = sim.diagnostics();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].rule, Rule::Sp10);
}

#[test]
fn sp_6_bytes_held_in_the_process_at_final_cleanup_are_diagnosed_and_lost_once() {
    let (sim, p) = layer_sim(Flaw::HoldsBytes(7));
    p.run(|| {
        assert_eq!(layer().startup(V2_2), negotiated(V2_2));
        assert_eq!(layer().startup(V2_2), negotiated(V2_2));
        assert_eq!(layer().cleanup(), Ok(()));
        // Not the final one: nothing is checked yet.
        assert!(sim.diagnostics().is_empty());
        assert_eq!(sim.lost_bytes(), 0);
        assert_eq!(layer().cleanup(), Ok(()));
        assert_eq!(sim.lost_bytes(), 7);
        // The same bytes are not lost twice: not at the next final cleanup ...
        assert_eq!(layer().startup(V2_2), negotiated(V2_2));
        assert_eq!(layer().cleanup(), Ok(()));
        assert_eq!(sim.lost_bytes(), 7);
    });
    // ... nor when the process exits.
    p.exit();
    assert_eq!(sim.lost_bytes(), 7);
    // Reported once: still holding the same bytes later is the same violation.
    let d = sim.diagnostics();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].rule, Rule::Sp6);
    assert!(d[0].message.contains("7 unsent byte"), "{}", d[0].message);
    let wsp = events_of(&sim, "WSPCleanup", &p);
    assert_eq!(wsp.len(), 3);
    assert_not_fired(&wsp[0], Rule::Sp6);
    assert_fired(&wsp[1], Rule::Sp6);
    assert_fired(&wsp[1], Rule::Sp7);
    assert_not_fired(&wsp[2], Rule::Sp6);
    let losses = data_losses(&sim.trace());
    assert_eq!(losses.len(), 1, "{losses:?}");
    assert_eq!(losses[0].0, 7);
    assert_eq!(losses[0].1.rules, vec![Rule::Sp7]);
}

#[test]
fn sp_2_correct_layered_provider_passes_every_check() {
    let (sim, p) = layer_sim(Flaw::None);
    p.run(|| unsafe {
        assert_eq!(layer().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(
            layer().startup(Version::V1_1),
            Err(WsaError::VersionNotSupported)
        );
        assert_eq!(layer().startup(V2_2), negotiated(V2_2));
        startup_2_2();
        let s = layer_socket().unwrap(); // the layer's count is 2
        assert_eq!(layer().cleanup(), Ok(())); // 1
        assert_eq!(s.socket_type(), Ok(SOCK_STREAM));
        assert_eq!(WSACleanup(), 0); // the layer's final WSPCleanup
        assert_eq!(layer().cleanup(), Err(WsaError::NotInitialised));
        assert_eq!(layer().startup(V2_2), negotiated(V2_2));
        assert_eq!(layer().cleanup(), Ok(()));
    });
    assert_no_diagnostics(&sim);
    assert_eq!(sim.lost_bytes(), 0);
}
