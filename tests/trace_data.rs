//! Traces as data (issue 16 item 5): the JSON lines of real simulations (a quick start, a
//! connection between two hosts, a data loss) read back into the same trace and write the same
//! bytes again; packets between hosts are events of their own and arrows in the Mermaid
//! diagram.

use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};

use ws2sim::consts::*;
use ws2sim::{api, Event, EventKind, PacketKind, Profile, Sim, Socket, Trace, Version};

/// The quick start, through `api`: counted startups, a socket with linger, the final cleanup,
/// a stale handle, one cleanup too many.
fn quickstart() -> Sim {
    let sim = Sim::builder().seed(7).build();
    let app = sim.localhost().process("app");
    app.run(|| {
        api::startup(Version::V2_2).unwrap();
        api::startup(Version::V1_1).unwrap();
        let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        api::cleanup().unwrap();
        api::cleanup().unwrap();
        api::startup(Version::V2_2).unwrap();
        assert!(s.close().is_err());
        api::cleanup().unwrap();
        assert!(api::cleanup().is_err());
    });
    sim
}

/// A client on `localhost` sends "hello" to a server on host `server`, which accepts in a
/// thread of its own; both close gracefully.
fn two_hosts(seed: u64) -> Sim {
    let sim = Sim::builder().seed(seed).build();
    let server_host = sim.host("server");
    let server = server_host.process("server");
    let client = sim.localhost().process("client");
    let addr = SocketAddrV4::new(server_host.addr(), 8080);
    let listener = server.run(|| {
        api::startup(Version::V2_2).unwrap();
        let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        l.bind(addr).unwrap();
        l.listen(1).unwrap();
        l
    });
    let accepted = server.spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 16];
        let n = conn.recv(&mut buf).unwrap();
        conn.close().unwrap();
        n
    });
    client.run(|| {
        api::startup(Version::V2_2).unwrap();
        let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        s.connect(addr).unwrap();
        s.send(b"hello").unwrap();
        s.close().unwrap();
        api::cleanup().unwrap();
    });
    assert_eq!(accepted.join(), 5);
    sim.run();
    server.exit();
    sim
}

/// On one host: the accepted side shuts receiving down, the client's data then resets the
/// connection and is lost (SD-11).
fn data_loss() -> Sim {
    let sim = Sim::builder().seed(1).profile(Profile::Windows).build();
    let app = sim.localhost().process("app");
    app.run(|| {
        let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9000);
        api::startup(Version::V2_2).unwrap();
        let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        l.bind(addr).unwrap();
        l.listen(5).unwrap();
        let c = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        c.connect(addr).unwrap();
        let (a, _) = l.accept().unwrap();
        a.shutdown(Shutdown::Read).unwrap();
        c.send(b"lost!").unwrap();
        sim.run();
        for s in [a, c, l] {
            let _ = s.close();
        }
    });
    sim
}

#[track_caller]
fn reads_back_exactly(trace: &Trace) {
    let json = trace.to_json_lines();
    let back = Trace::from_json_lines(&json).unwrap_or_else(|e| panic!("{e}\n{json}"));
    assert_eq!(&back, trace, "trace -> json -> trace");
    assert_eq!(back.to_json_lines(), json, "json -> trace -> json");
    assert_eq!(back.to_mermaid(), trace.to_mermaid());
    assert_eq!(back.to_string(), trace.to_string());
}

#[test]
fn traces_of_real_simulations_read_back_exactly() {
    for sim in [quickstart(), two_hosts(3), two_hosts(4), data_loss()] {
        let trace = sim.trace();
        assert!(!trace.events().is_empty());
        assert_eq!(trace.header().seed, sim.seed());
        assert_eq!(trace.header().profile, sim.profile());
        assert_eq!(trace.header().scheduler, "random");
        reads_back_exactly(&trace);
    }
}

#[test]
fn the_header_names_the_run_and_its_hosts() {
    let trace = two_hosts(3).trace();
    let h = trace.header();
    let hosts: Vec<(&str, String)> = h
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.addr.to_string()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("localhost", "10.0.0.1".to_owned()),
            ("server", "10.0.0.2".to_owned())
        ]
    );
    assert_eq!(
        trace.to_json_lines().lines().next().unwrap(),
        "{\"kind\":\"header\",\"format\":\"ws2sim-trace\",\"version\":2,\"seed\":3,\
         \"profile\":\"Documented\",\"scheduler\":\"random\",\"hosts\":[\
         {\"name\":\"localhost\",\"addr\":\"10.0.0.1\"},{\"name\":\"server\",\"addr\":\"10.0.0.2\"}]}"
    );
}

#[test]
fn a_connection_between_two_hosts_is_in_the_trace_as_packets() {
    let trace = two_hosts(3).trace();
    let kinds = |from: &str| -> Vec<(PacketKind, u64)> {
        trace
            .packets()
            .filter(|(e, _)| e.host == from)
            .map(|(_, p)| (p.kind, p.bytes))
            .collect()
    };
    let client = kinds("localhost");
    let server = kinds("server");
    assert_eq!(client[0], (PacketKind::Syn, 0), "{client:?}");
    assert!(client.contains(&(PacketKind::Data, 5)), "{client:?}");
    assert!(client.contains(&(PacketKind::Fin, 0)), "{client:?}");
    assert_eq!(server[0], (PacketKind::SynAck, 0), "{server:?}");
    assert!(server.contains(&(PacketKind::Ack, 5)), "{server:?}");
    assert!(server.contains(&(PacketKind::Fin, 0)), "{server:?}");
    for (e, p) in trace.packets() {
        assert_eq!(e.kind, EventKind::Packet);
        assert_eq!(e.call, p.kind.name());
        let other = if e.host == "server" {
            "localhost"
        } else {
            "server"
        };
        assert_eq!(p.to_host, other, "{e}");
        assert!(p.arrives > e.time, "the link's latency: {e}");
        assert_eq!(p.from.unwrap().ip().octets()[0], 10, "{e}");
    }
    // Time never goes back, and packets sit among the calls that sent them.
    assert!(trace.events().windows(2).all(|w| w[0].time <= w[1].time));
    // The SYN left when connect was called, before the call returned (it blocked).
    let syn = trace.calls("SYN").next().unwrap();
    let connect = trace.calls("connect").next().unwrap();
    assert!(syn.seq < connect.seq, "{syn}\n{connect}");
    assert_eq!(syn.time, connect.time - connect.blocked, "{syn}\n{connect}");

    let m = trace.to_mermaid();
    assert!(m.contains("participant H0 as localhost 10.0.0.1\n"), "{m}");
    assert!(m.contains("participant H1 as server 10.0.0.2\n"), "{m}");
    assert!(
        m.contains("    H0->>H1: SYN :49152 → :8080 (arrives "),
        "{m}"
    );
    assert!(
        m.contains("    H1->>H0: SYN-ACK :8080 → :49152 (arrives "),
        "{m}"
    );
    assert!(
        m.contains("    H0->>H1: DATA 5 bytes :49152 → :8080"),
        "{m}"
    );
    assert!(m.contains("    H0->>H1: FIN :49152"), "{m}");
    assert!(m.contains("    H1->>H0: FIN :8080"), "{m}");
    assert!(!m.contains("ACK 5"), "ACKs stay out of the diagram: {m}");
    // Threads (ids count across the simulation): the server's main thread, the client's, the
    // server's accept thread.
    for t in [
        "server[1] thread 1",
        "server[1] thread 3",
        "client[2] thread 2",
    ] {
        assert!(m.contains(&format!(" as {t}\n")), "{t}: {m}");
    }
    assert!(m.contains("Note over H1: ExitProcess server[1]"), "{m}");
    assert!(
        m.contains(": t = 0.000000s\n") && m.contains(": t = 0.000"),
        "{m}"
    );
    assert!(!m.contains("[]"), "{m}");
}

#[test]
fn a_data_loss_is_an_event_and_the_reset_an_arrow() {
    let trace = data_loss().trace();
    let loss = trace.calls("DataLoss").next().expect("the data is lost");
    assert_eq!(loss.kind, EventKind::DataLoss);
    assert!(loss.args.contains("5 bytes"), "{loss}");
    assert!(trace
        .packets()
        .any(|(_, p)| p.kind == PacketKind::Rst && p.to_host == "localhost"));
    let m = trace.to_mermaid();
    assert!(m.contains("    H0-xH0: RST"), "{m}");
    assert!(m.contains("Note over H0: DataLoss app[1]: "), "{m}");
    assert!(m.contains(" [SD-11]"), "{m}");
    reads_back_exactly(&trace);
}

/// `(name, value)` of each argument.
fn named(e: &Event) -> Vec<(&str, &str)> {
    e.arguments
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect()
}

#[test]
fn call_events_carry_named_arguments_and_the_returned_number() {
    use ws2sim::sys::*;
    let sim = Sim::builder().seed(5).build();
    sim.localhost().process("app").run(|| unsafe {
        let mut data: WSADATA = std::mem::zeroed();
        assert_eq!(WSAStartup(0x0202, &mut data), 0);
        let s = socket(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP);
        let on: u32 = 1;
        let len = 4;
        assert_eq!(
            setsockopt(s, SOL_SOCKET, SO_BROADCAST, (&on as *const u32).cast(), len),
            0
        );
        assert_eq!(closesocket(0x1234), SOCKET_ERROR);
        let none: [HANDLE; 0] = [];
        assert_eq!(
            WSAWaitForMultipleEvents(0, none.as_ptr(), 0, 0, 0),
            WSA_WAIT_FAILED
        );
        assert_eq!(closesocket(s), 0);
    });
    let trace = sim.trace();
    let calls: Vec<&Event> = trace
        .events()
        .iter()
        .filter(|e| e.kind == EventKind::Call)
        .collect();
    let [startup, sock, opt, bad_close, wait, close, ..] = calls[..] else {
        panic!("{trace}")
    };
    assert_eq!(
        named(startup),
        [("wVersionRequested", "0x0202 (2.2)"), ("lpWSAData", "buf")]
    );
    assert_eq!(startup.returned, Some(0));
    assert_eq!(
        named(sock),
        [
            ("af", "AF_INET"),
            ("type", "SOCK_DGRAM"),
            ("protocol", "IPPROTO_UDP")
        ]
    );
    assert_eq!(
        sock.returned,
        Some(i64::from_str_radix(&sock.result[2..], 16).unwrap())
    );
    assert_eq!(
        named(opt),
        [
            ("s", sock.result.as_str()),
            ("level", "SOL_SOCKET"),
            ("optname", "SO_BROADCAST"),
            ("optval", "[01 00 00 00]"),
            ("optlen", "4")
        ]
    );
    assert_eq!(
        opt.args,
        "0x400000, SOL_SOCKET, SO_BROADCAST, [01 00 00 00], 4"
    );
    assert_eq!(named(bad_close), [("s", "0x1234")]);
    assert_eq!(
        (bad_close.result.as_str(), bad_close.returned),
        ("SOCKET_ERROR", Some(-1))
    );
    assert_eq!(
        named(wait),
        [
            ("lphEvents", "[]"),
            ("fWaitAll", "false"),
            ("dwTimeout", "0"),
            ("fAlertable", "false")
        ]
    );
    assert_eq!(
        (wait.result.as_str(), wait.returned),
        ("WSA_WAIT_FAILED", Some(0xFFFF_FFFF))
    );
    assert_eq!(close.returned, Some(0));
    let json = trace.to_json_lines();
    let line = json
        .lines()
        .find(|l| l.contains("\"call\":\"setsockopt\""))
        .unwrap();
    assert!(
        line.contains(
            "\"arguments\":[{\"name\":\"s\",\"value\":\"0x400000\"},\
             {\"name\":\"level\",\"value\":\"SOL_SOCKET\"},\
             {\"name\":\"optname\",\"value\":\"SO_BROADCAST\"},\
             {\"name\":\"optval\",\"value\":\"[01 00 00 00]\"},\
             {\"name\":\"optlen\",\"value\":\"4\"}],\"result\":\"0\",\"returned\":0,"
        ),
        "{line}"
    );
    reads_back_exactly(&trace);
}
