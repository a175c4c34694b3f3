//! The testing kit (issue 15 item 2): seed sweeps with `testing::sweep` and
//! `#[ws2sim::test]`, `WS2SIM_SEEDS`, the failure report and its replay command, the count of
//! distinct schedules, and `Sim::end` ending threads that hold a handle of their own
//! simulation (issue 12 item 4).
//!
//! The report's quietness and the environment variable are checked in a child process: this
//! test binary runs itself with `KIT_CHILD` naming one of the `child_*` tests.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ws2sim::consts::*;
use ws2sim::testing::{sweep, try_sweep_with, Seeds, SweepReport};
use ws2sim::{api, Sim, Socket, Version};

/// One thread: every seed gives the same schedule.
fn lone_udp_echo(sim: &Sim) {
    let p = sim.localhost().process("app");
    p.run(|| {
        api::startup(Version::V2_2).unwrap();
        let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
        s.bind("127.0.0.1:7".parse().unwrap()).unwrap();
        s.send_to(b"ping", "127.0.0.1:7".parse().unwrap()).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(s.recv(&mut buf).unwrap(), 4);
        api::cleanup().unwrap();
    });
}

/// Two threads of one process racing: each starts Winsock, makes a socket and cleans up, so
/// the handles each gets depend on the schedule.
fn racing_threads(sim: &Sim) -> (Socket, Socket) {
    let p = sim.localhost().process("app");
    let worker = || {
        api::startup(Version::V2_2).unwrap();
        let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
        std::thread::yield_now();
        let _ = api::last_error();
        s
    };
    let a = p.spawn(worker);
    let b = p.spawn(worker);
    (a.join(), b.join())
}

#[test]
fn a_sweep_runs_every_seed_and_counts_distinct_schedules() {
    let seen = AtomicUsize::new(0);
    let lone = try_sweep_with(Sim::builder(), 3..11, |sim| {
        seen.fetch_add(1, Ordering::SeqCst);
        lone_udp_echo(sim);
    })
    .unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 8);
    assert_eq!(
        lone,
        SweepReport {
            seeds: Seeds::from(3..11),
            distinct_schedules: Some(1)
        }
    );
    assert_eq!(
        lone.to_string(),
        "ws2sim: seeds 3..11 passed (1 distinct schedule: the seed changes nothing here, no \
         two threads race)"
    );
    let racing = try_sweep_with(Sim::builder(), 0..32, |sim| {
        racing_threads(sim);
    })
    .unwrap();
    let n = racing.distinct_schedules.unwrap();
    assert!(n > 1 && n <= 32, "{racing}");
    // Tracing off: nothing to count schedules by.
    let off = try_sweep_with(Sim::builder().tracing(false), 0..4, lone_udp_echo).unwrap();
    assert_eq!(off.distinct_schedules, None);
}

#[test]
fn a_sweep_stops_at_the_first_failing_seed_and_says_how_to_replay_it() {
    let mut ran = Vec::new();
    let failure = try_sweep_with(Sim::builder(), 10..100, |sim| {
        ran.push(sim.seed());
        assert_ne!(sim.seed(), 13, "seed thirteen");
    })
    .unwrap_err();
    assert_eq!(ran, [10, 11, 12, 13], "no seed after the failing one runs");
    assert_eq!((failure.seed, failure.passed), (13, 3));
    assert_eq!(failure.seeds, Seeds::from(10..100));
    assert!(failure.message.contains("seed thirteen"), "{failure}");
    let at = failure.location.as_deref().unwrap();
    assert!(at.starts_with("tests/testing_kit.rs:"), "{at}");
    let name = "a_sweep_stops_at_the_first_failing_seed_and_says_how_to_replay_it";
    assert_eq!(failure.test.as_deref(), Some(name));
    assert_eq!(
        failure.replay_command(),
        format!("WS2SIM_SEEDS=13..=13 cargo test -- --exact {name}")
    );
    let text = failure.to_string();
    assert!(
        text.ends_with(&format!("\n  replay: {}", failure.replay_command())),
        "{text}"
    );
    assert!(
        text.starts_with(
            "ws2sim: seed 13 failed (scheduler random; seeds 10..100: 3 passed before it, 1 distinct schedule \
             so far)\n  panicked at tests/testing_kit.rs:"
        ),
        "{text}"
    );
}

#[test]
fn th_7_a_sweep_fails_the_seed_whose_unjoined_thread_panicked() {
    let failure = try_sweep_with(Sim::builder(), 0..10, |sim| {
        let p = sim.localhost().process("app");
        let seed = sim.seed();
        let _never_joined = p.spawn(move || {
            if seed == 4 {
                panic!("worker fell over");
            }
        });
        sim.run();
    })
    .unwrap_err();
    assert_eq!(failure.seed, 4);
    assert!(
        failure.message.contains("panicked: worker fell over"),
        "{failure}"
    );
}

#[test]
fn seeds_parse_counts_and_ranges() {
    assert_eq!("1000".parse::<Seeds>(), Ok(Seeds::from(0..1000)));
    assert_eq!(
        " 5000 .. 6000 ".parse::<Seeds>(),
        Ok(Seeds::from(5000..6000))
    );
    assert_eq!("7..=9".parse::<Seeds>(), Ok(Seeds::from(7..10)));
    assert_eq!("9..7".parse::<Seeds>().map(|s| s.len()), Ok(0));
    assert_eq!(
        "0..=18446744073709551615".parse::<Seeds>().map(|s| s.end()),
        Ok(u64::MAX)
    );
    for bad in ["", "ten", "1..", "..5", "-1", "1...3", "1..=x"] {
        let e = bad.parse::<Seeds>().unwrap_err();
        assert!(
            e.to_string().contains("is not a seed count or range"),
            "{bad}: {e}"
        );
    }
}

/// TH-4 with a handle inside: a thread holding a clone of its own process blocks for ever;
/// dropping every outside handle would leave it parked, `Sim::end` ends its OS thread.
#[test]
fn th_4_end_terminates_threads_that_hold_a_handle_of_their_simulation() {
    let (alive_tx, alive_rx) = std::sync::mpsc::channel::<()>();
    let sim = Sim::builder().seed(2).build();
    let p = sim.localhost().process("app");
    let inside = p.clone();
    let h = p.run(|| {
        let h = ws2sim::thread::spawn(move || {
            let _alive = alive_tx;
            let _keeps = inside;
            api::startup(Version::V2_2).unwrap();
            let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
            s.bind("127.0.0.1:9".parse().unwrap()).unwrap();
            let mut buf = [0u8; 4];
            s.recv(&mut buf)
        });
        // Let it run until it blocks; then walk away from it.
        ws2sim::thread::sleep(Duration::from_millis(1));
        h
    });
    assert!(!h.is_finished());
    drop(h);
    // `inside` keeps the simulation alive: dropping every outside handle ends nothing.
    assert_eq!(
        alive_rx.recv_timeout(Duration::from_millis(50)),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout)
    );
    assert_eq!(sim.end(), Ok(()));
    drop((p, sim));
    let r = alive_rx.recv_timeout(Duration::from_secs(10));
    assert_eq!(r, Err(std::sync::mpsc::RecvTimeoutError::Disconnected));
}

#[ws2sim::test(seeds = 5..9)]
fn the_attribute_sweeps_its_seeds(sim: &Sim) {
    assert!((5..9).contains(&sim.seed()) || std::env::var_os("WS2SIM_SEEDS").is_some());
    lone_udp_echo(sim);
}

#[ws2sim::test(seeds = 3)]
#[should_panic(expected = "ws2sim: seed 0 failed")]
fn the_attribute_passes_other_attributes_on(sim: &Sim) {
    panic!("seed {} fails", sim.seed());
}

#[ws2sim::test]
fn the_attribute_defaults_to_100_seeds(sim: &Sim) {
    if std::env::var_os("WS2SIM_SEEDS").is_none() {
        assert!(sim.seed() < 100);
    }
}

/// Runs this test binary's test `name` alone in a child process with `KIT_CHILD` set.
fn child(name: &str, env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("KIT_CHILD", name)
        .env_remove("WS2SIM_SEEDS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn in_child(name: &str) -> bool {
    std::env::var("KIT_CHILD").as_deref() == Ok(name)
}

#[test]
fn child_failing_sweep() {
    if in_child("child_failing_sweep") {
        sweep(0..50, |sim| {
            let p = sim.localhost().process("app");
            let seed = sim.seed();
            p.run(|| assert!(seed != 6, "the bug shows at seed {seed}"));
        });
    }
}

#[test]
fn child_seed_list() {
    if in_child("child_seed_list") {
        let mut seen = Vec::new();
        sweep(0..3, |sim| seen.push(sim.seed()));
        eprintln!("seeds run: {seen:?}");
    }
}

#[test]
fn a_failing_sweep_prints_one_short_report_whatever_rust_backtrace_says() {
    if std::env::var_os("KIT_CHILD").is_some() {
        return;
    }
    for backtrace in ["0", "1", "full"] {
        let (ok, err) = child("child_failing_sweep", &[("RUST_BACKTRACE", backtrace)]);
        assert!(!ok, "{err}");
        assert!(
            !err.contains("stack backtrace"),
            "RUST_BACKTRACE={backtrace}:\n{err}"
        );
        assert!(!err.contains("replay with WS2SIM_SEED="), "{err}");
        let report: Vec<&str> = err.lines().filter(|l| l.starts_with("ws2sim:")).collect();
        assert_eq!(
            report,
            ["ws2sim: seed 6 failed (scheduler random; seeds 0..50: 6 passed before it, 1 distinct \
             schedule so far)"],
            "{err}"
        );
        assert_eq!(err.matches("the bug shows at seed 6").count(), 1, "{err}");
        assert!(
            err.contains("  replay: WS2SIM_SEEDS=6..=6 cargo test -- --exact child_failing_sweep")
                || err.contains("  replay: WS2SIM_SEEDS=6..=6 cargo test\n"),
            "{err}"
        );
        assert!(err.lines().count() < 12, "a short report:\n{err}");
    }
}

#[test]
fn ws2sim_seeds_replaces_the_sweeps_seeds() {
    if std::env::var_os("KIT_CHILD").is_some() {
        return;
    }
    let (ok, err) = child("child_seed_list", &[("WS2SIM_SEEDS", "40..=42")]);
    assert!(ok, "{err}");
    assert!(err.contains("seeds run: [40, 41, 42]"), "{err}");
    assert!(err.contains("ws2sim: seeds 40..43 passed"), "{err}");
    let (ok, err) = child("child_seed_list", &[("WS2SIM_SEEDS", "2")]);
    assert!(ok && err.contains("seeds run: [0, 1]"), "{err}");
    let (ok, err) = child("child_seed_list", &[("WS2SIM_SEEDS", "lots")]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("\"lots\" is not a seed count or range"),
        "{err}"
    );
}

/// OV-2's books: operations completed, aborted by closesocket, silently aborted by the final
/// cleanup, and forgotten with an exited process all balance; CL-8 holds after each.
#[test]
fn ov_2_check_invariants_balances_every_way_an_operation_ends() {
    use ws2sim::sys::*;
    use ws2sim::testing::check_invariants;
    let sim = Sim::builder().seed(3).build();
    let start_recv = |s: SOCKET, ov: &mut OVERLAPPED, buf: &mut [u8; 8]| unsafe {
        let b = WSABUF {
            len: 8,
            buf: buf.as_mut_ptr(),
        };
        let mut flags = 0u32;
        let r = WSARecv(s, &b, 1, std::ptr::null_mut(), &mut flags, ov, None);
        assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
    };
    let udp_at = |port: u16| unsafe {
        let s = socket(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP);
        let a = common::sockaddr(std::net::Ipv4Addr::LOCALHOST, port);
        assert_eq!(bind(s, common::name_ptr(&a), 16), 0);
        (s, a)
    };
    let app = sim.localhost().process("app");
    // Heap-held records: they must outlive the process's calls.
    let mut ovs: Vec<Box<(OVERLAPPED, [u8; 8])>> = (0..4)
        .map(|_| Box::new((unsafe { std::mem::zeroed() }, [0u8; 8])))
        .collect();
    app.run(|| unsafe {
        let mut d: WSADATA = std::mem::zeroed();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        // Completed: data arrives.
        let (s, a) = udp_at(7700);
        let (ov, buf) = &mut *ovs[0];
        start_recv(s, ov, buf);
        assert_eq!(sendto(s, b"hi".as_ptr(), 2, 0, common::name_ptr(&a), 16), 2);
        // Aborted by closesocket.
        let (t, _) = udp_at(7701);
        let (ov, buf) = &mut *ovs[1];
        start_recv(t, ov, buf);
        assert_eq!(closesocket(t), 0);
        // Aborted silently by the final cleanup.
        let (u, _) = udp_at(7702);
        let (ov, buf) = &mut *ovs[2];
        start_recv(u, ov, buf);
        ws2sim::thread::sleep(Duration::from_millis(5));
        assert_eq!(WSACleanup(), 0);
    });
    assert_eq!(check_invariants(&sim), Ok(()));
    // Forgotten: the process exits with an operation pending.
    let other = sim.localhost().process("other");
    other.run(|| unsafe {
        let mut d: WSADATA = std::mem::zeroed();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        let (s, _) = udp_at(7703);
        let (ov, buf) = &mut *ovs[3];
        start_recv(s, ov, buf);
    });
    assert_eq!(check_invariants(&sim), Ok(()), "pending is still pending");
    other.exit();
    assert_eq!(check_invariants(&sim), Ok(()));
    assert_eq!(other.live_resources(), 0);
}

/// CS-6 under the two profiles: a pending receive on a connected stream, then closesocket;
/// its completion packet says ERROR_OPERATION_ABORTED (Documented) or
/// ERROR_CONNECTION_ABORTED (Windows).
fn receive_then_close(sim: &Sim) {
    use ws2sim::sys::*;
    sim.localhost().process("app").run(|| unsafe {
        let mut d: WSADATA = std::mem::zeroed();
        assert_eq!(WSAStartup(0x0202, &mut d), 0);
        let at = common::sockaddr(std::net::Ipv4Addr::LOCALHOST, 7800);
        let addr = common::name_ptr(&at);
        let l = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        assert_eq!((bind(l, addr, 16), listen(l, 1)), (0, 0));
        let c = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        assert_eq!(connect(c, addr, 16), 0);
        let a = accept(l, std::ptr::null_mut(), std::ptr::null_mut());
        let port = CreateIoCompletionPort(a as HANDLE, std::ptr::null_mut(), 7, 0);
        let mut buf = [0u8; 8];
        let b = WSABUF {
            len: 8,
            buf: buf.as_mut_ptr(),
        };
        let mut ov: OVERLAPPED = std::mem::zeroed();
        let mut flags = 0u32;
        let r = WSARecv(a, &b, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
        assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
        assert_eq!(closesocket(a), 0);
        let mut n = 0u32;
        // The aborted operation's packet, with its error.
        let (mut key, mut done) = (0usize, std::ptr::null_mut());
        GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, 0);
        WSACleanup();
    });
}

#[test]
fn differential_runs_report_the_first_call_the_configurations_disagree_on() {
    use ws2sim::testing::{differential, first_divergence};
    use ws2sim::Profile;
    let d = differential(
        Sim::builder().profile(Profile::Documented),
        Sim::builder().profile(Profile::Windows),
        0..3,
        receive_then_close,
    )
    .unwrap_err();
    assert_eq!(d.seed, 0);
    let (a, b) = (d.a.clone().unwrap(), d.b.clone().unwrap());
    assert_eq!(
        a,
        "thread 1 GetQueuedCompletionStatus(0x1000000, 0) = FALSE (WSA_OPERATION_ABORTED, key 0x7)"
    );
    assert_eq!(
        b,
        "thread 1 GetQueuedCompletionStatus(0x1000000, 0) = FALSE (WSAECONNABORTED, key 0x7)"
    );
    assert!(d
        .to_string()
        .starts_with("ws2sim: seed 0: the runs differ at the application's call"));
    // The same configuration twice: nothing differs.
    let same = differential(Sim::builder(), Sim::builder(), 0..3, receive_then_close);
    assert_eq!(same, Ok(()));
    // A run that stops early differs where the other goes on.
    let short = Sim::new();
    short
        .localhost()
        .process("app")
        .run(|| api::startup(Version::V2_2).unwrap());
    let long = Sim::new();
    long.localhost().process("app").run(|| {
        api::startup(Version::V2_2).unwrap();
        api::cleanup().unwrap();
    });
    let d = first_divergence(0, &short.trace(), &long.trace()).unwrap();
    assert_eq!((d.index, d.a.as_deref()), (1, None));
    assert!(d.b.unwrap().contains("WSACleanup() = 0"));
}

mod transparency_check {
    use super::*;
    use ws2sim::spi::{
        check_provider_property, Negotiated, Provider, ProviderFailure, ProviderInfo, Request,
        Response, Spi, Stop, TCP_ENTRY, UDP_ENTRY,
    };
    use ws2sim::testing::{transparency, Entries};
    use ws2sim::{Guid, WsaError};

    /// Passes every call down (the trait's defaults), or, `drop_sends`, fails every send.
    #[derive(Clone)]
    struct Layer {
        drop_sends: bool,
    }

    const ID: Guid = Guid::new(0x51, 1, 2, *b"LAYERTST");

    impl Provider for Layer {
        fn info(&self) -> ProviderInfo {
            ProviderInfo::layered(ID, "layer", &[(TCP_ENTRY, "layer over tcp")])
        }
        fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
            self.info().negotiate(v)
        }
        fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
            Ok(())
        }
        fn handle(&mut self, spi: &mut Spi<'_>, r: Request<'_>) -> Result<Response, Stop> {
            match r {
                Request::Send { .. } if self.drop_sends => Err(WsaError::NetworkDown.into()),
                other => spi.lower().handle(other),
            }
        }
    }

    fn echo(sim: &Sim, entries: &Entries) {
        let tcp = entries.tcp.clone().expect("a TCP entry");
        sim.localhost().process("app").run(|| {
            api::startup(Version::V2_2).unwrap();
            let l = Socket::from_protocol_info(&tcp, 0).unwrap();
            l.bind("127.0.0.1:7".parse().unwrap()).unwrap();
            l.listen(1).unwrap();
            let c = Socket::from_protocol_info(&tcp, 0).unwrap();
            c.connect("127.0.0.1:7".parse().unwrap()).unwrap();
            let (a, _) = l.accept().unwrap();
            let _ = c.send(b"ping");
            a.close().unwrap();
            api::cleanup().unwrap();
        });
    }

    #[test]
    fn a_pass_through_layer_is_transparent_and_one_that_fails_sends_is_not() {
        // Both runs really use their own entries.
        let mut providers = Vec::new();
        let r = transparency(Layer { drop_sends: false }, 0..4, |sim, entries| {
            providers.push(entries.tcp.as_ref().map(|e| e.provider_id == ID));
            // The layer is over TCP only; the bare run has the built-in UDP entry.
            providers.push(Some(entries.udp.is_some()));
            echo(sim, entries)
        });
        assert_eq!(r, Ok(()));
        let per_seed = [Some(false), Some(true), Some(true), Some(false)];
        assert_eq!(providers, per_seed.repeat(4));
        let d = transparency(Layer { drop_sends: true }, 0..4, echo).unwrap_err();
        assert_eq!(d.seed, 0);
        let (a, b) = (d.a.unwrap(), d.b.unwrap());
        assert!(a.contains(" send(") && a.ends_with("= 4"), "{a}");
        assert!(
            b.contains(" send(") && b.ends_with("= SOCKET_ERROR WSAENETDOWN"),
            "{b}"
        );
    }

    /// [`Layer`] that counts its startups (SP-2, SP-3), over TCP and UDP; `deny_7` refuses
    /// binds to port 7 (WSAEACCES), which `check_provider`'s scenarios (port 9) never see.
    #[derive(Clone, Default)]
    struct Counting {
        started: u32,
        drop_sends: bool,
        deny_7: bool,
    }

    impl Provider for Counting {
        fn info(&self) -> ProviderInfo {
            let over = [(TCP_ENTRY, "counting tcp"), (UDP_ENTRY, "counting udp")];
            ProviderInfo::layered(ID, "counting", &over)
        }
        fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
            let n = self.info().negotiate(v)?;
            self.started += 1;
            Ok(n)
        }
        fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
            if self.started == 0 {
                return Err(WsaError::NotInitialised.into());
            }
            self.started -= 1;
            Ok(())
        }
        fn handle(&mut self, spi: &mut Spi<'_>, r: Request<'_>) -> Result<Response, Stop> {
            match r {
                Request::Send { .. } if self.drop_sends => Err(WsaError::NetworkDown.into()),
                Request::Bind { addr: Some(a), .. }
                    if self.deny_7 && a.get(2..4) == Some(&7u16.to_be_bytes()[..]) =>
                {
                    Err(WsaError::AccessDenied.into())
                }
                other => spi.lower().handle(other),
            }
        }
    }

    #[test]
    fn check_provider_property_passes_a_transparent_layer_and_shrinks_a_program_that_is_not() {
        if let Err(e) = check_provider_property(Counting::default(), 48, |_, _| false) {
            panic!("{e}");
        }
        let deny = Counting {
            deny_7: true,
            ..Counting::default()
        };
        let failure = check_provider_property(deny.clone(), 48, |_, _| false).unwrap_err();
        let ProviderFailure::NotTransparent {
            program,
            divergence,
        } = *failure
        else {
            panic!("expected a program, got {failure}");
        };
        // Shrunk to the few steps it takes: a startup, a socket, a bind to port 7.
        assert_eq!(program.steps.len(), 3, "{}", program.to_json());
        let b = divergence.b.unwrap();
        assert!(b.contains(" bind(") && b.ends_with("WSAEACCES"), "{b}");
        assert!(divergence.a.unwrap().ends_with(" = 0"));
        // The refusal is by design once declared: from there the runs may go their own ways.
        let declared = |_: &str, b: &str| b.contains(" bind(") && b.ends_with("WSAEACCES");
        if let Err(e) = check_provider_property(deny, 48, declared) {
            panic!("{e}");
        }
        // A layer that loses its sends is caught by the fixed scenarios first (SP-5, SP-6),
        // and so is one that does not count its startups (SP-3).
        let drop = Counting {
            drop_sends: true,
            ..Counting::default()
        };
        let findings = check_provider_property(drop, 1, |_, _| false).unwrap_err();
        assert!(matches!(
            &*findings,
            ProviderFailure::Findings(f) if f.iter().any(|d| d.rule == ws2sim::Rule::Sp6)
        ));
        let findings =
            check_provider_property(Layer { drop_sends: false }, 1, |_, _| false).unwrap_err();
        assert!(matches!(
            &*findings,
            ProviderFailure::Findings(f)
                if !f.is_empty() && f.iter().all(|d| d.rule == ws2sim::Rule::Sp3)
        ));
    }
}
