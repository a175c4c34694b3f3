//! The Winsock lifecycle, simulated and real.
//!
//! Group `lifecycle`, two functions measured the same way:
//! - `ws2sim`: one iteration is `WSAStartup(2.2)` → `socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)`
//!   → `closesocket` → `WSACleanup` through `ws2sim::sys`, every result asserted, inside one
//!   `Process::run` of a Sim built with tracing off (so memory stays flat however many
//!   iterations criterion runs). The final cleanup each time tears the process's Ws2_32 state
//!   down and the next startup builds it again (ST-6, CL-8).
//! - `kernel`: the baseline, `socket2::Socket::new(IPv4, STREAM)` then drop: a real kernel TCP
//!   socket created and closed (no bind, no traffic).
//!
//! Reading the ratio `ws2sim / kernel`: below 1, a simulated lifecycle (four Winsock calls, each
//! through the simulation's lock, the rule engine and the trace recorder) costs less than one
//! socket/close pair of system calls, so swapping real sockets for the simulator never slows a
//! test suite down; around 1, they cost the same; well above 1 (say 10), the per-call overhead of
//! the simulator dominates and is worth profiling. The absolute numbers depend on the machine;
//! only the ratio, taken from one run, is meaningful.
//!
//! Run: `cargo bench --bench lifecycle` (or add `-- --quick` for a short run).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use socket2::{Domain, Socket, Type};
use ws2sim::{sys as ws, Sim};

fn lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("lifecycle");

    let sim = Sim::builder().tracing(false).build();
    let app = sim.localhost().process("bench");
    app.run(|| {
        group.bench_function("ws2sim", |b| {
            b.iter(|| unsafe {
                let mut data = ws::WSADATA::default();
                assert_eq!(ws::WSAStartup(black_box(0x0202), &mut data), 0);
                let s = ws::socket(
                    black_box(i32::from(ws::AF_INET)),
                    ws::SOCK_STREAM,
                    ws::IPPROTO_TCP,
                );
                assert_ne!(s, ws::INVALID_SOCKET);
                assert_eq!(ws::closesocket(black_box(s)), 0);
                assert_eq!(ws::WSACleanup(), 0);
            });
        });
    });
    assert_eq!(app.live_resources(), 0);
    assert_eq!(app.startup_count(), 0);
    assert!(sim.trace().events().is_empty(), "tracing is off");

    group.bench_function("kernel", |b| {
        b.iter(|| {
            let s = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a kernel TCP socket");
            drop(black_box(s));
        });
    });

    group.finish();
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
