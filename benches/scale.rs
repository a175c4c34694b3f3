//! The figures of issue 11: per-call cost, how it grows with the number of open sockets, the
//! cost of a simulated-thread hand-off, and memory per idle socket. Every group has its baseline
//! in the same run, so results read as ratios.
//!
//! - `calls`: `WSAGetLastError` and `getsockopt(SO_TYPE)` through `ws2sim::sys`, against a
//!   kernel `getsockopt(SO_TYPE)` (socket2's `Socket::type`).
//! - `scale`: `WSAGetLastError` and a `socket` + `closesocket` pair with N = 0, 1,000, 10,000
//!   and 100,000 idle sockets open in the process (N = 0 is the baseline: the ratio N / 0 is
//!   the growth), and a final `WSACleanup` of N = 1,000, 10,000 and 50,000 UDP sockets each
//!   with a pending overlapped `WSARecv` (per object: divide by N; each socket takes a port
//!   of its own, so one host holds at most about 64,000).
//! - `handoff`: two simulated threads ping-ponging on two events (one round trip is two
//!   hand-offs), against two OS threads ping-ponging on crossbeam channels.
//!
//! After the groups, the bytes of heap held per idle socket (at 10,000) are printed, from a
//! counting allocator in this binary.
//!
//! Run: `cargo bench --bench scale` (or `-- --quick`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use socket2::{Domain, Socket as KernelSocket, Type};
use ws2sim::api;
use ws2sim::{consts::*, sys as ws, EventHandle, Sim, Socket, Version};

/// Counts the bytes currently allocated, for the memory figure.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A quiet simulation (tracing off) and its process, started.
fn started() -> (Sim, ws2sim::Process) {
    let sim = Sim::builder().tracing(false).build();
    let p = sim.localhost().process("bench");
    p.run(|| api::startup(Version::V2_2).unwrap());
    (sim, p)
}

/// `n` idle TCP sockets.
fn open_sockets(n: usize) -> Vec<Socket> {
    (0..n)
        .map(|_| Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap())
        .collect()
}

fn calls(c: &mut Criterion) {
    let mut group = c.benchmark_group("calls");
    let (_sim, p) = started();
    p.run(|| {
        let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        group.bench_function("ws2sim_getlasterror", |b| {
            b.iter(|| unsafe { black_box(ws::WSAGetLastError()) })
        });
        group.bench_function("ws2sim_getsockopt", |b| {
            b.iter(|| assert_eq!(black_box(s).socket_type(), Ok(SOCK_STREAM)))
        });
    });
    let k = KernelSocket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    group.bench_function("kernel_getsockopt", |b| {
        b.iter(|| black_box(k.r#type().unwrap()))
    });
    group.finish();
}

fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(20);
    for n in [0usize, 1_000, 10_000, 100_000] {
        let (_sim, p) = started();
        p.run(|| {
            let _idle = open_sockets(n);
            group.bench_function(format!("getlasterror/{n}"), |b| {
                b.iter(|| unsafe { black_box(ws::WSAGetLastError()) })
            });
            group.bench_function(format!("socket_close/{n}"), |b| {
                b.iter(|| {
                    let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
                    s.close().unwrap();
                })
            });
        });
    }
    for n in [1_000usize, 10_000, 50_000] {
        group.bench_function(format!("final_cleanup_pending_recvs/{n}"), |b| {
            b.iter_batched(
                || {
                    let (sim, p) = started();
                    let ops = p.run(|| {
                        (0..n)
                            .map(|i| {
                                let s =
                                    Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
                                let port = 1 + i as u16; // one port each: at most 60,000 per host
                                s.bind(std::net::SocketAddrV4::new([127, 0, 0, 1].into(), port))
                                    .unwrap();
                                s.recv_overlapped(64, None).unwrap()
                            })
                            .collect::<Vec<_>>()
                    });
                    (sim, p, ops)
                },
                |(sim, p, ops)| {
                    p.run(|| api::cleanup().unwrap());
                    (sim, p, ops)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn handoff(c: &mut Criterion) {
    let mut group = c.benchmark_group("handoff");
    let (_sim, p) = started();
    p.run(|| {
        let (ping, pong) = (
            EventHandle::create().unwrap(),
            EventHandle::create().unwrap(),
        );
        let echo = ws2sim::thread::spawn(move || loop {
            api::wait_for_events(&[ping], false, None).unwrap();
            ping.reset().unwrap();
            if pong.set().is_err() {
                break;
            }
        });
        group.bench_function("ws2sim_events_round_trip", |b| {
            b.iter(|| {
                ping.set().unwrap();
                api::wait_for_events(&[pong], false, None).unwrap();
                pong.reset().unwrap();
            })
        });
        drop(echo);
    });
    let (to_tx, to_rx) = crossbeam_channel::bounded::<u32>(0);
    let (back_tx, back_rx) = crossbeam_channel::bounded::<u32>(0);
    let os = std::thread::spawn(move || {
        while let Ok(v) = to_rx.recv() {
            if back_tx.send(v).is_err() {
                break;
            }
        }
    });
    group.bench_function("os_threads_channel_round_trip", |b| {
        b.iter(|| {
            to_tx.send(1).unwrap();
            black_box(back_rx.recv().unwrap());
        })
    });
    drop(to_tx);
    os.join().unwrap();
    group.finish();
}

fn memory(_: &mut Criterion) {
    let (_sim, p) = started();
    let before = LIVE.load(Ordering::Relaxed);
    let idle = p.run(|| open_sockets(10_000));
    let after = LIVE.load(Ordering::Relaxed);
    println!(
        "memory: {} bytes of heap per idle socket at 10,000 sockets",
        (after - before) / 10_000
    );
    drop(idle);
}

criterion_group!(benches, calls, scale, handoff, memory);
criterion_main!(benches);
