//! A layered service provider written against `ws2sim::spi`, plugged into a simulation, and
//! checked by Ws2_32's contract checks.
//!
//! Run with `cargo run --example layered_counter`.
//!
//! 1. A client sends three small messages through `Counter` (a layered provider over TCP that
//!    counts bytes and buffers small sends in the process); the buffer is flushed before the
//!    client waits for the echo. Then it sends 10 more bytes and calls `WSACleanup` without
//!    closing: the counter's final `WSPCleanup` flushes them (SP-6), and the server gets all 40.
//! 2. The same client with a flawed `Counter` whose final `WSPCleanup` returns before flushing:
//!    Ws2_32 reports the SP-6 violation, and the 10 bytes are lost with the DLL (SP-7).
//! 3. `spi::check_provider` runs the standard scenarios on the conformant counter and on its
//!    two flawed variants (returns before flushing; cannot restart), and lists what it finds.

mod counter;

use std::net::{Ipv4Addr, SocketAddrV4};

use counter::{Counter, Flaw, COUNTER_PROTOCOL};
use ws2sim::consts::*;
use ws2sim::spi::check_provider;
use ws2sim::{api, Profile, Sim, Socket, Version};

const PORT: u16 = 7000;

/// Runs the scenario; returns the simulation and how many bytes the echo server received.
fn run(counter: Counter) -> (Sim, usize) {
    // Profile::Windows: the final WSACleanup closes open sockets gracefully (CL-6), so data
    // the counter flushes in its WSPCleanup still reaches the server.
    let sim = Sim::builder()
        .seed(1)
        .profile(Profile::Windows)
        .provider(counter)
        .build();
    let server = sim.host("server");
    let addr = SocketAddrV4::new(server.addr(), PORT);

    // An echo server on plain TCP: echoes the first 30 bytes, reads until the peer closes.
    let srv = server.process("echo");
    let echo = srv.spawn(move || {
        api::startup(Version::new(2, 2)).unwrap();
        let l = Socket::new(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP).unwrap();
        l.bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT))
            .unwrap();
        l.listen(1).unwrap();
        let (c, _) = l.accept().unwrap();
        let mut total = 0;
        let mut buf = [0u8; 256];
        loop {
            match c.recv(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if total < 30 {
                        let _ = c.send(&buf[..n]);
                    }
                    total += n;
                }
            }
        }
        api::cleanup().unwrap();
        total
    });

    let client = sim.localhost().process("client");
    client.run(|| {
        api::startup(Version::new(2, 2)).unwrap();
        let entry = api::enum_protocols(None)
            .unwrap()
            .into_iter()
            .find(|e| e.name == COUNTER_PROTOCOL)
            .expect("the counter's entry is in the catalog");
        let s = Socket::from_protocol_info(&entry, 0).unwrap();
        s.connect(addr).unwrap();
        for msg in [b"first msg ", b"second msg", b"third msg "] {
            assert_eq!(s.send(msg), Ok(10)); // held by the counter (threshold 1024)
        }
        let mut answer = [0u8; 30];
        let mut got = 0;
        while got < 30 {
            got += s.recv(&mut answer[got..]).unwrap(); // the counter flushes first
        }
        println!(
            "client got its echo: {:?}",
            String::from_utf8_lossy(&answer)
        );
        // Ten more bytes, then WSACleanup without closesocket: the counter's final
        // WSPCleanup must flush them before the socket is reset.
        s.send(b"last words").unwrap();
        api::cleanup().unwrap();
    });
    sim.run();
    let received = echo.join();
    println!("echo server received {received} bytes");
    (sim, received)
}

fn main() {
    println!("== a conformant layered provider");
    let counter = Counter::new(1024);
    let counts = counter.counts();
    let (sim, received) = run(counter);
    println!("counts: {:?}", *counts.lock().unwrap());
    assert_eq!(received, 40);
    assert!(sim.diagnostics().is_empty());
    assert_eq!(sim.lost_bytes(), 0);

    println!("\n== the same provider, returning from WSPCleanup before it flushes");
    let flawed = Counter::new(1024).with_flaw(Flaw::ReturnsBeforeFlush);
    let (sim, received) = run(flawed);
    assert_eq!(received, 30);
    for d in sim.diagnostics() {
        println!("diagnostic {}: {}", d.rule, d.message);
    }
    println!("bytes lost: {}", sim.lost_bytes());
    assert_eq!(sim.lost_bytes(), 10);

    println!("\n== spi::check_provider: the standard scenarios, on each variant");
    for (name, counter) in [
        ("conformant", Counter::new(1024)),
        (
            "returns before flush",
            Counter::new(1024).with_flaw(Flaw::ReturnsBeforeFlush),
        ),
        (
            "cannot restart",
            Counter::new(1024).with_flaw(Flaw::NoRestart),
        ),
    ] {
        let found = check_provider(counter);
        println!("{name}: {} violation(s)", found.len());
        for d in &found {
            println!("  {}: {}", d.rule, d.message);
        }
        assert_eq!(found.is_empty(), name == "conformant");
    }
}
