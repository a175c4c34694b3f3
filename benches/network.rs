//! A TCP exchange over loopback, simulated and real.
//!
//! Group `tcp_echo_1k`, two functions measured the same way:
//! - `ws2sim`: connect to a listener, send 1 KiB, the server reads it and echoes it back, the
//!   client reads it, both close; through `ws2sim::api`, two processes in one simulation with
//!   tracing off. Each iteration also moves virtual time (the handshake and the data take the
//!   link's latency), so this measures the scheduler, the transport and the calls together.
//! - `ws2sim_layered`: the same, with the client's socket on a pass-through layered provider
//!   (`ws2sim::spi`) over TCP: the cost of one more provider in the chain.
//! - `kernel`: the same exchange through `std::net` on 127.0.0.1, the baseline.
//!
//! Read the ratio `ws2sim / kernel` from one run; absolute times depend on the machine.
//! Run: `cargo bench --bench network` (or `-- --quick`).

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use ws2sim::spi::{Negotiated, Provider, ProviderInfo, Spi, Stop, TCP_ENTRY};
use ws2sim::{api, consts::*, Guid, Sim, Socket, Version, WsaError};

/// A layered provider that passes every call on.
#[derive(Clone, Default)]
struct PassThrough {
    clients: u32,
}

impl Provider for PassThrough {
    fn info(&self) -> ProviderInfo {
        ProviderInfo::layered(
            Guid::new(0xBE7C, 0, 0, *b"PASSTHRU"),
            "pass",
            &[(TCP_ENTRY, "pass")],
        )
    }
    fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
        let n = self.info().negotiate(v)?;
        self.clients += 1;
        Ok(n)
    }
    fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
        self.clients = self
            .clients
            .checked_sub(1)
            .ok_or(WsaError::NotInitialised)?;
        Ok(())
    }
}

fn tcp_echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("tcp_echo_1k");
    sim_echo(&mut group, "ws2sim", false);
    sim_echo(&mut group, "ws2sim_layered", true);

    let payload = vec![7u8; 1024];
    let kernel = TcpListener::bind("127.0.0.1:0").unwrap();
    let kaddr = kernel.local_addr().unwrap();
    group.bench_function("kernel", |b| {
        b.iter(|| {
            let mut c = TcpStream::connect(kaddr).unwrap();
            c.write_all(&payload).unwrap();
            let (mut s, _) = kernel.accept().unwrap();
            let mut buf = [0u8; 1024];
            s.read_exact(&mut buf).unwrap();
            s.write_all(&buf).unwrap();
            drop(s);
            c.read_exact(&mut buf).unwrap();
            black_box(&buf);
        })
    });
    group.finish();
}

/// The simulated exchange, the client's socket on the built-in TCP entry or on `PassThrough`.
fn sim_echo(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, layered: bool) {
    let payload = vec![7u8; 1024];
    let sim = Sim::builder()
        .tracing(false)
        .provider(PassThrough::default())
        .build();
    let host = sim.localhost();
    let (server, client) = (host.process("server"), host.process("client"));
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8000);
    let listener = server.run(|| {
        api::startup(Version::V2_2).unwrap();
        let l = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
        l.bind(addr).unwrap();
        l.listen(128).unwrap();
        l
    });
    let entry = client.run(|| {
        api::startup(Version::V2_2).unwrap();
        let wanted = if layered {
            "pass"
        } else {
            "MSAFD Tcpip [TCP/IP]"
        };
        api::enum_protocols(None)
            .unwrap()
            .into_iter()
            .find(|e| e.name == wanted)
            .unwrap()
    });
    group.bench_function(name, |b| {
        b.iter(|| {
            let c = client.run(|| {
                let c = Socket::from_protocol_info(&entry, 0).unwrap();
                c.connect(addr).unwrap();
                assert_eq!(c.send(&payload).unwrap(), 1024);
                c
            });
            server.run(|| {
                let (s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 1024];
                let mut got = 0;
                while got < 1024 {
                    got += s.recv(&mut buf[got..]).unwrap();
                }
                assert_eq!(s.send(&buf).unwrap(), 1024);
                s.close().unwrap();
            });
            client.run(|| {
                let mut buf = [0u8; 1024];
                let mut got = 0;
                while got < 1024 {
                    got += c.recv(&mut buf[got..]).unwrap();
                }
                black_box(&buf);
                c.close().unwrap();
            });
        })
    });
}

criterion_group!(benches, tcp_echo);
criterion_main!(benches);
