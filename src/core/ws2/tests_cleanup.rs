//! CL-5, CL-6 and SP-6 on the core fixtures: what a process's final cleanup does to its
//! pending overlapped operations, its open connections and the data its providers hold.
//!
//! The rules are decided in `spi_client.rs`: CL-5 in `reset_provider_sockets` (the base
//! provider's final cleanup, SP-4), CL-6 in `cl_6_release`, SP-6 in `checked_cleanup` and
//! `unload`. The tests reach them only through `World::dispatch`.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::sync::Arc;

use crate::consts::*;
use crate::core::call::{Call, EventCall, ProcessCall, Reply, SocketCall, SpiCall};
use crate::core::catalog::{Guid, MSAFD_TCPIP_PROVIDER};
use crate::core::fixtures::{Connected, Fx, PendingRecv};
use crate::core::overlapped::ntstatus;
use crate::core::provider::{Negotiated, Provider, ProviderInfo, Registered, Spi};
use crate::core::ws2::table::Socket;
use crate::core::ws2::version::Version;
use crate::core::{Cx, Profile, Step, Stop};
use crate::error::WsaError;
use crate::spi::TCP_ENTRY;

/// The completion key of the sockets associated with a port.
const PORT_KEY: usize = 42;
/// `STATUS_CANCELLED`: the status `OVERLAPPED.Internal` holds for WSA_OPERATION_ABORTED.
const STATUS_CANCELLED: usize = 0xC000_0120;

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

// ---------------------------------------------------------------------------------------
// CL-5

#[test]
fn cl_5_final_cleanup_aborts_pending_recvs_without_event_routine_or_packet() {
    let PendingRecv {
        conn: Connected { mut fx, local, .. },
        event,
        key,
        memory,
    } = Fx::with_pending_recv();
    let me = fx.me;
    let port = fx.port_for(me, local, PORT_KEY);
    let (r, key2, memory2) = fx.recv_overlapped(me, local, 64, None, true);
    assert_eq!(r, Err(WsaError::IoPending));

    assert_eq!(fx.call(ProcessCall::Cleanup), Ok(Reply::Done));

    // Both fail WSA_OPERATION_ABORTED, in posting order, with no routine to queue ...
    let done = fx.world.take_completions();
    let seen: Vec<_> = done
        .iter()
        .map(|c| (c.key, c.socket, c.result, c.routine.is_some()))
        .collect();
    let aborted = Err(WsaError::OperationAborted);
    assert_eq!(
        seen,
        [(key, local, aborted, false), (key2, local, aborted, false)],
        "CL-5: aborted, and the routine is NOT queued"
    );
    // ... their status readable in the record (OVERLAPPED.Internal, the owned memory) ...
    for c in &done {
        assert_eq!(ntstatus(c.result), STATUS_CANCELLED);
        c.write_memory();
    }
    for m in [&memory, &memory2] {
        assert_eq!(m.lock().unwrap().result, Some(aborted));
    }
    // ... and no packet on the port (a kernel object: it outlives Ws2_32's state).
    assert_eq!(fx.next_packet(me, port), None, "CL-5: no completion packet");
    // The event went with the rest of Ws2_32's state (CL-8); the final WSPCleanup test
    // below reads that it was not set.
    let wait = fx.call(EventCall::WaitEvents {
        events: Some(vec![event]),
        wait_all: false,
        timeout: Some(std::time::Duration::ZERO),
        alertable: false,
    });
    assert_eq!(wait, Err(WsaError::NotInitialised));
    assert_eq!(fx.world.live_resources(me.pid), 0, "CL-8");
}

/// The same path (SP-4 → CL-5) taken by a provider's final `WSPCleanup` made directly while
/// Ws2_32 stays started: the event survives the cleanup, so its state can be read.
#[test]
fn cl_5_final_wsp_cleanup_aborts_pending_recv_and_leaves_its_event_unset() {
    let PendingRecv {
        conn: Connected { mut fx, local, .. },
        event,
        key,
        memory,
    } = Fx::with_pending_recv();
    let me = fx.me;
    let port = fx.port_for(me, local, PORT_KEY);

    let r = fx.call(SpiCall::SpiCleanup {
        provider: MSAFD_TCPIP_PROVIDER,
    });
    assert_eq!(r, Ok(Reply::Done), "the final WSPCleanup of MSAFD Tcpip");

    assert!(fx.world.process(me.pid).is_started());
    assert!(!fx.is_set(me, event), "CL-5: the event is NOT set");
    let done = fx.world.take_completions();
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0].key, done[0].result, done[0].routine.is_some()),
        (key, Err(WsaError::OperationAborted), false)
    );
    done[0].write_memory();
    assert_eq!(
        memory.lock().unwrap().result,
        Some(Err(WsaError::OperationAborted))
    );
    assert_eq!(fx.next_packet(me, port), None, "CL-5: no completion packet");
    // SP-4: the provider's sockets were reset and freed; the event alone is left.
    assert_eq!(
        fx.call(SocketCall::CloseSocket(local)),
        Err(WsaError::NotSocket)
    );
    assert_eq!(fx.world.live_resources(me.pid), 1);
}

// ---------------------------------------------------------------------------------------
// CL-6

#[test]
fn cl_6_final_cleanup_resets_the_open_connection_documented() {
    let Connected {
        mut fx,
        local,
        peer,
        remote,
        ..
    } = Fx::connected(7300);
    let me = fx.me;
    assert_eq!(fx.call(ProcessCall::Cleanup), Ok(Reply::Done));
    assert_eq!(fx.world.live_resources(me.pid), 0, "deallocated");
    fx.settle();
    assert_eq!(
        fx.recv(peer, remote, 16),
        Err(WsaError::ConnectionReset),
        "CL-6 (Documented): the peer sees a reset"
    );
    assert_eq!(fx.world.lost_bytes(), 0, "nothing was unsent");
    // The handle died with the state: after a new startup it is no socket (ER-2).
    fx.start(me);
    assert_eq!(
        fx.call(SocketCall::CloseSocket(local)),
        Err(WsaError::NotSocket)
    );
}

#[test]
fn cl_6_final_cleanup_closes_the_open_connection_gracefully_windows() {
    let Connected {
        mut fx,
        peer,
        remote,
        ..
    } = Fx::connected_in(Profile::Windows, 7300);
    let me = fx.me;
    assert_eq!(fx.call(ProcessCall::Cleanup), Ok(Reply::Done));
    assert_eq!(fx.world.live_resources(me.pid), 0, "deallocated");
    fx.settle();
    assert_eq!(
        fx.recv(peer, remote, 16),
        Ok(Vec::new()),
        "CL-6 (Windows, linger off): closed gracefully, recv returns 0"
    );
    assert_eq!(fx.world.lost_bytes(), 0);
}

// ---------------------------------------------------------------------------------------
// SP-6

/// The built-in providers keep unsent data in the transport (SP-7), so their final
/// `WSPCleanup` has nothing to flush: the cleanup returns at once and the data still
/// queued when it ran arrives, all of it, once the peer reads.
#[test]
fn sp_6_built_in_final_cleanup_returns_at_once_with_the_data_in_the_transport() {
    let Connected {
        mut fx,
        local,
        peer,
        remote,
        ..
    } = Fx::connected_with_window(Profile::Windows, 7400, 4096);
    let me = fx.me;
    let data = pattern(20_000);
    // It fits the send buffer, so send returns at once; the peer's window takes 4 KiB.
    assert_eq!(fx.send(me, local, &data), Ok(Reply::Count(20_000)));
    fx.settle();
    assert_eq!(
        fx.readable(peer, remote),
        4096,
        "the rest waits in the send queue"
    );
    let before = fx.world.now();
    assert_eq!(fx.call(ProcessCall::Cleanup), Ok(Reply::Done));
    assert_eq!(fx.world.now(), before, "SP-6: nothing to wait for");
    let (got, end) = fx.recv_to_end(peer, remote);
    assert_eq!(end, Ok(()), "a graceful close after the data");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "every byte, in order");
    assert_eq!(fx.world.lost_bytes(), 0);
    assert!(fx.world.take_diagnostics().is_empty());
}

/// A layered provider that keeps every byte sent in the process and hands it to the
/// provider below only at its final `WSPCleanup` — the smallest provider SP-6 is about.
#[derive(Debug, Clone, Default)]
struct Holder {
    clients: u32,
    /// A final cleanup is flushing (it waited and is made again).
    flushing: bool,
    held: BTreeMap<Socket, Vec<u8>>,
}

const HOLDER_ID: Guid = Guid::new(0x401D_0001, 0x5753, 0x5349, *b"HOLDER!!");
const HOLDER_PROTOCOL: &str = "Holder over TCP";

impl Holder {
    fn registered() -> Registered {
        Registered {
            info: Holder::default().info(),
            make: Arc::new(|| Box::new(Holder::default()) as Box<dyn Provider>),
        }
    }
}

impl Provider for Holder {
    fn info(&self) -> ProviderInfo {
        // DataLocation::Process, the layered default.
        ProviderInfo::layered(HOLDER_ID, "Holder", &[(TCP_ENTRY, HOLDER_PROTOCOL)])
    }

    fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
        let n = self.info().negotiate(v)?;
        self.clients += 1;
        Ok(n)
    }

    fn cleanup(&mut self, spi: &mut Spi<'_>) -> Result<(), Stop> {
        if !self.flushing {
            if self.clients == 0 {
                return Err(WsaError::NotInitialised.into());
            }
            self.clients -= 1;
            if self.clients > 0 {
                return Ok(());
            }
            self.flushing = true;
        }
        // A send below that waits makes the cleanup wait; made again, it reports the bytes
        // it queued the first time.
        while let Some((&s, buf)) = self.held.iter().next() {
            spi.lower().send(s, Some(buf), buf.len() as i32, 0)?;
            self.held.remove(&s);
        }
        self.flushing = false;
        Ok(())
    }

    fn unsent_bytes(&self) -> usize {
        self.held.values().map(Vec::len).sum()
    }

    fn send(
        &mut self,
        _: &mut Spi<'_>,
        s: Socket,
        buf: Option<&[u8]>,
        len: i32,
        _: i32,
    ) -> Result<usize, Stop> {
        let buf = buf.unwrap_or_default();
        let n = usize::try_from(len).unwrap_or(0).min(buf.len());
        self.held.entry(s).or_default().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// A provider holding data in the process: the final cleanup waits (in virtual time) until
/// its `WSPCleanup` has handed everything to the transport, before the base provider below
/// closes the socket; the peer gets every byte.
///
/// The peer's receive window is small and the peer reads only while the cleanup waits, as a
/// thread of its own would: the test makes the cleanup call itself, step by step, and lets
/// the peer read between the steps.
#[test]
fn sp_6_final_cleanup_waits_until_a_layered_provider_flushed_to_the_transport() {
    let mut fx = Fx::new(Profile::Windows, vec![Holder::registered()]);
    let me = fx.me;
    fx.start(me);
    let peer = fx.peer("client");
    let listener = fx.tcp_socket(peer);
    // The accepted socket inherits it: a small window, so the flush has to wait.
    fx.set_option(peer, listener, SOL_SOCKET, SO_RCVBUF, 4096);
    let addr = SocketAddrV4::new(fx.ip(peer), 7500);
    fx.listen(peer, listener, addr);
    let entry = fx.entry(me, HOLDER_PROTOCOL);
    let s = fx.socket_on(me, &entry);
    fx.connect(me, s, addr);
    let remote = fx.accept(peer, listener);
    // A small send buffer below (set through the holder): the flush waits until the window
    // lets the bytes go.
    fx.set_option(me, s, SOL_SOCKET, SO_SNDBUF, 1024);
    let data = pattern(20_000);
    assert_eq!(fx.send(me, s, &data), Ok(Reply::Count(20_000)));
    fx.settle();
    assert_eq!(
        fx.readable(peer, remote),
        0,
        "the holder keeps it in the process"
    );

    let before = fx.world.now();
    let mut cx = Cx::new(me.pid, me.tid);
    let mut cleanup = Call::Process(ProcessCall::Cleanup);
    let mut got = Vec::new();
    let mut waits = 0;
    let result = loop {
        match fx.world.dispatch(&mut cx, &mut cleanup) {
            Step::Done(r) => break r,
            Step::Blocked(b) => {
                assert_eq!(b.what, "WSACleanup (WSPCleanup flushing)");
                waits += 1;
                assert!(waits < 1000, "the flush never ends");
                // The peer reads what arrived (a blocking recv: virtual time moves).
                got.extend(
                    fx.recv(peer, remote, 64 * 1024)
                        .expect("data, not an error"),
                );
                cx.resume();
            }
        }
    };
    assert_eq!(result, Ok(Reply::Done));
    assert!(
        waits > 0,
        "SP-6: WSACleanup waited for the provider's flush"
    );
    assert!(fx.world.now() > before, "in virtual time");
    assert_eq!(fx.world.live_resources(me.pid), 0);
    let (rest, end) = fx.recv_to_end(peer, remote);
    got.extend(rest);
    assert_eq!(
        end,
        Ok(()),
        "closed gracefully after the data (Windows, CL-6)"
    );
    assert_eq!(got.len(), data.len());
    assert!(got == data, "every byte, in order");
    assert_eq!(fx.world.lost_bytes(), 0);
    assert!(fx.world.take_diagnostics().is_empty());
}
