//! Fixtures for tests of the core without threads (DESIGN.md: "Tests of the core need no
//! threads"): a small driver over [`World`] and one constructor per state a rule is tested
//! in — started, listening, connected, an overlapped receive pending, half-closed.
//!
//! A fixture drives Ws2_32, the provider chain and the transport only through the core's
//! entry points — [`World::new`], [`World::add_host`], [`World::add_process`],
//! [`World::dispatch`], [`World::advance_to`], [`World::next_event`] and the read-only
//! accessors — with [`Call`]s built as `sys` and `api` build them, so the tests written on it
//! do not depend on how the providers are implemented inside. Each constructor asserts the
//! state it builds, so a test starts from a state that is known to hold.
//!
//! A call that blocks is driven as the harness drives a parked thread (src/sim/thread.rs):
//! virtual time moves to the next delivery (or the call's own deadline) and the call is made
//! again with [`Cx::resume`]. There is only one caller at a time, so a call that nothing
//! can end is a broken fixture or test: the driver panics naming the call instead of
//! looping.
//!
//! The connected state spans **two processes on two hosts**: `me` (the process under test,
//! on host "server", holding the listener and the accepted socket) and a peer (process
//! "client" on host "client", holding the connecting socket). Rules about a process's final
//! cleanup (CL-5, CL-6, SP-6) need a peer that outlives the cleanup to observe what the wire
//! carried, and two hosts keep the two ends' addresses apart.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use crate::consts::*;
use crate::core::call::{
    Call, DataCall, EventCall, IoCall, OptionCall, ProcessCall, Reply, SocketCall,
};
use crate::core::catalog::{ProtocolInfo, PROTOCOL_INFO_SIZE};
use crate::core::events::{EventHandle, EventOp};
use crate::core::overlapped::{
    Memory, OpKind, OpRequest, OwnedMemory, Packet, PortHandle, Routine,
};
use crate::core::provider::Registered;
use crate::core::providers::sockaddr;
use crate::core::ws2::table::Socket;
use crate::core::ws2::version::{Version, WSADATA_SIZE};
use crate::core::{Cx, HostId, ProcessId, Profile, Step, ThreadId, World};
use crate::error::WsaError;

/// The latency of every link (loopback included) in the fixtures' worlds.
pub(crate) const LATENCY: Duration = Duration::from_millis(1);

/// How many times the driver makes a blocked call again before it gives up.
const MAX_STEPS: usize = 10_000;

/// A caller: a thread of a process on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Party {
    /// The process's host.
    pub host: HostId,
    /// The process.
    pub pid: ProcessId,
    /// Its main thread, which makes the fixture's calls.
    pub tid: ThreadId,
}

/// A world and the process under test.
#[derive(Debug)]
pub(crate) struct Fx {
    /// The whole state.
    pub world: World,
    /// The process under test (on host "server").
    pub me: Party,
}

/// [`Fx::listening`]: `me` has a TCP socket listening on `addr`.
#[derive(Debug)]
pub(crate) struct Listening {
    /// The world.
    pub fx: Fx,
    /// The listening socket (in `fx.me`).
    pub listener: Socket,
    /// Its address: `me`'s host address and the port asked for.
    pub addr: SocketAddrV4,
}

/// [`Fx::connected`]: one TCP connection between `me` and a peer process on another host.
#[derive(Debug)]
pub(crate) struct Connected {
    /// The world.
    pub fx: Fx,
    /// The listener the connection came through (in `fx.me`).
    pub listener: Socket,
    /// The accepted socket (in `fx.me`).
    pub local: Socket,
    /// The peer process (on host "client").
    pub peer: Party,
    /// The peer's connected socket.
    pub remote: Socket,
}

/// [`Fx::with_pending_recv`]: a connection whose `local` socket has an overlapped `WSARecv`
/// pending in event mode.
#[derive(Debug)]
pub(crate) struct PendingRecv {
    /// The connection.
    pub conn: Connected,
    /// The operation's `hEvent`: reset when it started (OV-3).
    pub event: EventHandle,
    /// The operation's `OVERLAPPED` address (its key).
    pub key: usize,
    /// The operation's own memory: [`Completion::fill_owned`] writes its outcome there.
    ///
    /// [`Completion::fill_owned`]: crate::core::overlapped::Completion::fill_owned
    pub memory: OwnedMemory,
}

/// [`Fx::half_closed`]: `me` shut its sending half (`shutdown(SD_SEND)`) and the peer has
/// received the FIN: its receives return 0.
#[derive(Debug)]
pub(crate) struct HalfClosed {
    /// The connection, `local` half-closed.
    pub conn: Connected,
}

impl Fx {
    /// A world with the built-in providers and `providers` after them, a host "server" and
    /// a process "app" on it that has not called `WSAStartup`.
    pub(crate) fn new(profile: Profile, providers: Vec<Registered>) -> Fx {
        let mut world = World::new(profile, LATENCY);
        for p in providers {
            let name = p.info.name.clone();
            world
                .add_provider(p)
                .unwrap_or_else(|e| panic!("fixture: provider {name} cannot register: {e}"));
        }
        let host = world.add_host("server");
        let (pid, tid) = world.add_process(host, "app");
        Fx {
            world,
            me: Party { host, pid, tid },
        }
    }

    /// Started: `me` made one successful `WSAStartup(2.2)` and holds nothing
    /// (`Profile::Documented`).
    pub(crate) fn started() -> Fx {
        Fx::started_in(Profile::Documented)
    }

    /// [`started`](Fx::started) under `profile`.
    pub(crate) fn started_in(profile: Profile) -> Fx {
        let mut fx = Fx::new(profile, Vec::new());
        fx.start(fx.me);
        fx
    }

    /// Listening: [`started`](Fx::started), plus a TCP socket of `me` bound to its host
    /// address and `port`, listening.
    pub(crate) fn listening(port: u16) -> Listening {
        Listening::build(Fx::started(), port)
    }

    /// Connected: [`listening`](Fx::listening), plus a peer process on another host that
    /// connected to the listener, and the accepted socket (`Profile::Documented`).
    pub(crate) fn connected(port: u16) -> Connected {
        Fx::connected_in(Profile::Documented, port)
    }

    /// [`connected`](Fx::connected) under `profile`.
    pub(crate) fn connected_in(profile: Profile, port: u16) -> Connected {
        Connected::build(Listening::build(Fx::started_in(profile), port))
    }

    /// [`connected_in`](Fx::connected_in), with the peer's socket's `SO_RCVBUF` set to
    /// `window` before it connected: what `me` sends beyond it waits in `me`'s send queue
    /// until the peer reads.
    pub(crate) fn connected_with_window(profile: Profile, port: u16, window: u32) -> Connected {
        Connected::build_with(
            Listening::build(Fx::started_in(profile), port),
            Some(window),
        )
    }

    /// An overlapped operation pending: [`connected`](Fx::connected) (port 7100), plus an
    /// overlapped `WSARecv` of 64 bytes on the accepted socket, in event mode (no routine),
    /// that nothing has completed (`Profile::Documented`).
    pub(crate) fn with_pending_recv() -> PendingRecv {
        Fx::with_pending_recv_in(Profile::Documented)
    }

    /// [`with_pending_recv`](Fx::with_pending_recv) under `profile`.
    pub(crate) fn with_pending_recv_in(profile: Profile) -> PendingRecv {
        PendingRecv::build(Fx::connected_in(profile, 7100))
    }

    /// Half-closed: [`connected`](Fx::connected) (port 7200), then `shutdown(local,
    /// SD_SEND)` and the FIN delivered (`Profile::Documented`).
    pub(crate) fn half_closed() -> HalfClosed {
        HalfClosed::build(Fx::connected(7200))
    }

    // -----------------------------------------------------------------------------------
    // The driver.

    /// Makes `call` as `me`'s main thread and drives it to its end.
    pub(crate) fn call<'a>(&mut self, call: impl Into<Call<'a>>) -> Result<Reply, WsaError> {
        let call = call.into();
        self.call_as(self.me, call)
    }

    /// Makes `call` as `who`'s main thread. A call that blocks is made again, with
    /// [`Cx::resume`], each time virtual time moved to the next delivery or to the call's
    /// deadline.
    ///
    /// # Panics
    /// When the call blocks with nothing pending that could end the wait (nothing else runs
    /// in a fixture), or is still blocked after `MAX_STEPS` tries.
    pub(crate) fn call_as(&mut self, who: Party, mut call: Call<'_>) -> Result<Reply, WsaError> {
        let shown = format!("{}({call})", call.spec().name);
        let mut cx = Cx::new(who.pid, who.tid);
        for _ in 0..MAX_STEPS {
            match self.world.dispatch(&mut cx, &mut call) {
                Step::Done(r) => return r,
                Step::Blocked(b) => {
                    let next = [self.world.next_event(), b.deadline]
                        .into_iter()
                        .flatten()
                        .min()
                        .unwrap_or_else(|| {
                            panic!(
                                "fixture: {shown} by process {} blocked in {:?} with nothing \
                                 pending that could end the wait (at {:?})",
                                who.pid,
                                b.what,
                                self.world.now()
                            )
                        });
                    self.world.advance_to(next);
                    cx.resume();
                }
            }
        }
        panic!(
            "fixture: {shown} by process {} still blocked after {MAX_STEPS} steps (at {:?})",
            who.pid,
            self.world.now()
        )
    }

    /// Delivers everything in flight: virtual time moves until no packet is pending.
    ///
    /// # Panics
    /// When packets are still pending after `MAX_STEPS` deliveries.
    pub(crate) fn settle(&mut self) {
        for _ in 0..MAX_STEPS {
            match self.world.next_event() {
                Some(t) => self.world.advance_to(t),
                None => return,
            }
        }
        panic!(
            "fixture: the network is still busy after {MAX_STEPS} deliveries (at {:?})",
            self.world.now()
        )
    }

    // -----------------------------------------------------------------------------------
    // Calls the fixtures and tests make often, each asserting that it succeeded.

    /// A new started process `name` on a new host `name`.
    pub(crate) fn peer(&mut self, name: &str) -> Party {
        let host = self.world.add_host(name);
        let (pid, tid) = self.world.add_process(host, name);
        let who = Party { host, pid, tid };
        self.start(who);
        who
    }

    /// `WSAStartup(2.2)` by `who`, asserted to succeed as its first startup.
    pub(crate) fn start(&mut self, who: Party) {
        let mut data = [0u8; WSADATA_SIZE];
        let r = self.call_as(
            who,
            Call::Process(ProcessCall::Startup {
                requested: Version::V2_2,
                data: Some(&mut data),
            }),
        );
        assert_eq!(r, Ok(Reply::Version(Version::V2_2)), "fixture: WSAStartup");
        let p = self.world.process(who.pid);
        assert!(p.is_started(), "fixture: started");
        assert_eq!(p.startup_count(), 1, "fixture: the first startup");
        assert_eq!(
            self.world.live_resources(who.pid),
            0,
            "fixture: holds nothing"
        );
    }

    /// `who`'s host address.
    pub(crate) fn ip(&self, who: Party) -> Ipv4Addr {
        self.world.host(who.host).addr.into()
    }

    /// `socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)` by `who`.
    pub(crate) fn tcp_socket(&mut self, who: Party) -> Socket {
        let r = self.call_as(
            who,
            Call::Sockets(SocketCall::Socket {
                af: AF_INET.into(),
                ty: SOCK_STREAM,
                protocol: IPPROTO_TCP,
                info: None,
                group: 0,
                flags: WSA_FLAG_OVERLAPPED,
                wsa: false,
            }),
        );
        match r {
            Ok(Reply::Socket(s)) => s,
            other => panic!("fixture: socket(AF_INET, SOCK_STREAM) returned {other:?}"),
        }
    }

    /// `WSASocketW(FROM_PROTOCOL_INFO ×3, entry, 0, WSA_FLAG_OVERLAPPED)` by `who`.
    pub(crate) fn socket_on(&mut self, who: Party, entry: &ProtocolInfo) -> Socket {
        let r = self.call_as(
            who,
            Call::Sockets(SocketCall::Socket {
                af: FROM_PROTOCOL_INFO,
                ty: FROM_PROTOCOL_INFO,
                protocol: FROM_PROTOCOL_INFO,
                info: Some(entry.clone()),
                group: 0,
                flags: WSA_FLAG_OVERLAPPED,
                wsa: true,
            }),
        );
        match r {
            Ok(Reply::Socket(s)) => s,
            other => panic!("fixture: WSASocketW on {:?} returned {other:?}", entry.name),
        }
    }

    /// The catalog entry listed as `name`, through `WSAEnumProtocolsW` by `who`.
    pub(crate) fn entry(&mut self, who: Party, name: &str) -> ProtocolInfo {
        let mut len = 0u32;
        let sized = self.call_as(
            who,
            Call::Process(ProcessCall::EnumProtocols {
                filter: None,
                buffer: None,
                len: Some(&mut len),
            }),
        );
        assert_eq!(sized, Err(WsaError::NoBufferSpace), "fixture: sizing");
        let mut buf = vec![0u8; len as usize];
        let n = match self.call_as(
            who,
            Call::Process(ProcessCall::EnumProtocols {
                filter: None,
                buffer: Some(&mut buf),
                len: Some(&mut len),
            }),
        ) {
            Ok(Reply::Count(n)) => n as usize,
            other => panic!("fixture: WSAEnumProtocolsW returned {other:?}"),
        };
        buf.chunks_exact(PROTOCOL_INFO_SIZE)
            .take(n)
            .map(|c| ProtocolInfo::decode(c.try_into().expect("whole entries")))
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("fixture: no catalog entry {name:?}"))
    }

    /// `setsockopt(s, level, name, &value, 4)` by `who`, a DWORD option.
    pub(crate) fn set_option(&mut self, who: Party, s: Socket, level: i32, name: i32, value: u32) {
        let bytes = value.to_ne_bytes();
        let r = self.call_as(
            who,
            Call::Options(OptionCall::SetSockOpt {
                s,
                level,
                name,
                value: Some(&bytes),
                len: 4,
            }),
        );
        assert_eq!(
            r,
            Ok(Reply::Done),
            "fixture: setsockopt({level:#x}, {name:#x}, {value})"
        );
    }

    /// `bind(s, addr)` then `listen(s, SOMAXCONN)` by `who`.
    pub(crate) fn listen(&mut self, who: Party, s: Socket, addr: SocketAddrV4) {
        let bytes = sockaddr::encode(addr);
        let bound = self.call_as(
            who,
            Call::Sockets(SocketCall::Bind {
                s,
                addr: Some(&bytes),
            }),
        );
        assert_eq!(bound, Ok(Reply::Done), "fixture: bind({addr})");
        let listening = self.call_as(
            who,
            Call::Sockets(SocketCall::Listen {
                s,
                backlog: SOMAXCONN as i32,
            }),
        );
        assert_eq!(listening, Ok(Reply::Done), "fixture: listen");
    }

    /// A blocking `connect(s, to)` by `who`, driven until the connection is established.
    pub(crate) fn connect(&mut self, who: Party, s: Socket, to: SocketAddrV4) {
        let bytes = sockaddr::encode(to);
        let r = self.call_as(
            who,
            Call::Sockets(SocketCall::Connect {
                s,
                addr: Some(&bytes),
            }),
        );
        assert_eq!(r, Ok(Reply::Done), "fixture: connect({to})");
    }

    /// A blocking `accept(listener, NULL, NULL)` by `who`.
    pub(crate) fn accept(&mut self, who: Party, listener: Socket) -> Socket {
        let r = self.call_as(
            who,
            Call::Sockets(SocketCall::Accept {
                s: listener,
                addr: None,
                len: None,
            }),
        );
        match r {
            Ok(Reply::Socket(s)) => s,
            other => panic!("fixture: accept returned {other:?}"),
        }
    }

    /// `getpeername(s)` by `who`.
    pub(crate) fn peer_name(&mut self, who: Party, s: Socket) -> Result<SocketAddrV4, WsaError> {
        let mut buf = [0u8; sockaddr::SOCKADDR_IN_SIZE];
        let mut len = buf.len() as i32;
        self.call_as(
            who,
            Call::Sockets(SocketCall::PeerName {
                s,
                addr: Some(&mut buf),
                len: Some(&mut len),
            }),
        )?;
        assert_eq!(len, sockaddr::SOCKADDR_IN_SIZE as i32);
        sockaddr::decode(&buf)
    }

    /// `send(s, data, len, 0)` by `who`: its return value.
    pub(crate) fn send(&mut self, who: Party, s: Socket, data: &[u8]) -> Result<Reply, WsaError> {
        self.call_as(
            who,
            Call::Data(DataCall::Send {
                s,
                buf: Some(data),
                len: data.len() as i32,
                flags: 0,
                to: None,
            }),
        )
    }

    /// One blocking `recv(s, buf, capacity, 0)` by `who`: the bytes received (empty: the
    /// peer closed gracefully), or the error.
    pub(crate) fn recv(
        &mut self,
        who: Party,
        s: Socket,
        capacity: usize,
    ) -> Result<Vec<u8>, WsaError> {
        let mut buf = vec![0u8; capacity];
        let r = self.call_as(
            who,
            Call::Data(DataCall::Recv {
                s,
                buf: Some(&mut buf),
                len: capacity as i32,
                flags: 0,
                from: None,
                msg: None,
            }),
        )?;
        match r {
            Reply::Count(n) => {
                buf.truncate(n as usize);
                Ok(buf)
            }
            other => panic!("fixture: recv returned {other:?}"),
        }
    }

    /// `recv` by `who` until it returns 0 or fails: everything received, and how it ended
    /// (`Ok(())`: 0, a graceful close).
    pub(crate) fn recv_to_end(&mut self, who: Party, s: Socket) -> (Vec<u8>, Result<(), WsaError>) {
        let mut got = Vec::new();
        for _ in 0..MAX_STEPS {
            match self.recv(who, s, 64 * 1024) {
                Ok(b) if b.is_empty() => return (got, Ok(())),
                Ok(b) => got.extend(b),
                Err(e) => return (got, Err(e)),
            }
        }
        panic!("fixture: recv never reached the end of the stream")
    }

    /// `ioctlsocket(s, FIONREAD)` by `who`: the bytes a recv would return now.
    pub(crate) fn readable(&mut self, who: Party, s: Socket) -> u32 {
        let mut n = 0u32;
        let r = self.call_as(
            who,
            Call::Options(OptionCall::IoctlSocket {
                s,
                cmd: FIONREAD,
                arg: Some(&mut n),
            }),
        );
        assert_eq!(r, Ok(Reply::Done), "fixture: FIONREAD");
        n
    }

    /// `WSACreateEvent()` by `who`.
    pub(crate) fn event(&mut self, who: Party) -> EventHandle {
        match self.call_as(who, Call::Events(EventCall::CreateEvent)) {
            Ok(Reply::Event(e)) => e,
            other => panic!("fixture: WSACreateEvent returned {other:?}"),
        }
    }

    /// Whether `ev` is signalled: `WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE)` by
    /// `who`, which must return `WSA_WAIT_EVENT_0` or `WSA_WAIT_TIMEOUT`.
    pub(crate) fn is_set(&mut self, who: Party, ev: EventHandle) -> bool {
        let r = self.call_as(
            who,
            Call::Events(EventCall::WaitEvents {
                events: Some(vec![ev]),
                wait_all: false,
                timeout: Some(Duration::ZERO),
                alertable: false,
            }),
        );
        match r {
            Ok(Reply::Count(n)) if n == WSA_WAIT_EVENT_0 as u32 => true,
            Ok(Reply::Count(WSA_WAIT_TIMEOUT)) => false,
            other => panic!("fixture: WSAWaitForMultipleEvents(0 ms) returned {other:?}"),
        }
    }

    /// A new completion port with `s` of `who` associated under `key`
    /// (`CreateIoCompletionPort` twice).
    pub(crate) fn port_for(&mut self, who: Party, s: Socket, key: usize) -> PortHandle {
        let port = match self.call_as(
            who,
            Call::Io(IoCall::CreatePort {
                socket: None,
                existing: None,
                key: 0,
            }),
        ) {
            Ok(Reply::Port(p)) => p,
            other => panic!("fixture: CreateIoCompletionPort returned {other:?}"),
        };
        let r = self.call_as(
            who,
            Call::Io(IoCall::CreatePort {
                socket: Some(s),
                existing: Some(port),
                key,
            }),
        );
        assert_eq!(r, Ok(Reply::Port(port)), "fixture: associating {s}");
        port
    }

    /// `GetQueuedCompletionStatus(port, .., 0)` by `who`: the oldest packet, or `None`
    /// (`WAIT_TIMEOUT`).
    pub(crate) fn next_packet(&mut self, who: Party, port: PortHandle) -> Option<Packet> {
        let r = self.call_as(
            who,
            Call::Io(IoCall::GetQueued {
                port,
                timeout: Some(Duration::ZERO),
            }),
        );
        match r {
            Ok(Reply::Packet(p)) => Some(p),
            Err(WsaError::WaitTimeout) => None,
            other => panic!("fixture: GetQueuedCompletionStatus(0 ms) returned {other:?}"),
        }
    }

    /// An overlapped `WSARecv` of `capacity` bytes on `s` by `who`, with `event` and
    /// `routine` (a completion routine, never called by the core), its record at
    /// `key`: its return value and the operation's memory.
    pub(crate) fn recv_overlapped(
        &mut self,
        who: Party,
        s: Socket,
        capacity: usize,
        event: Option<EventHandle>,
        routine: bool,
    ) -> (Result<Reply, WsaError>, usize, OwnedMemory) {
        let memory = OwnedMemory::default();
        let key = std::sync::Arc::as_ptr(&memory) as usize;
        let req = OpRequest {
            kind: OpKind::Recv {
                capacity,
                control: None,
            },
            key,
            event,
            // The core only hands a routine back; it never calls it.
            routine: routine.then(|| Routine(std::sync::Arc::new(|_, _, _| {}))),
            memory: Memory(Box::new(memory.clone())),
        };
        let r = self.call_as(
            who,
            Call::Io(IoCall::Overlapped {
                s,
                req: Some(req),
                fault: false,
                to: None,
                flags: 0,
                name: "WSARecv",
            }),
        );
        (r, key, memory)
    }
}

impl Listening {
    fn build(mut fx: Fx, port: u16) -> Listening {
        let me = fx.me;
        let listener = fx.tcp_socket(me);
        let addr = SocketAddrV4::new(fx.ip(me), port);
        fx.listen(me, listener, addr);
        assert_eq!(fx.world.live_resources(me.pid), 1, "fixture: the listener");
        Listening { fx, listener, addr }
    }
}

impl Connected {
    fn build(l: Listening) -> Connected {
        Connected::build_with(l, None)
    }

    fn build_with(l: Listening, window: Option<u32>) -> Connected {
        let Listening {
            mut fx,
            listener,
            addr,
        } = l;
        let me = fx.me;
        let peer = fx.peer("client");
        let remote = fx.tcp_socket(peer);
        if let Some(w) = window {
            fx.set_option(peer, remote, SOL_SOCKET, SO_RCVBUF, w);
        }
        fx.connect(peer, remote, addr);
        let local = fx.accept(me, listener);
        fx.settle();
        let remote_addr = fx
            .peer_name(me, local)
            .expect("fixture: the accepted socket's peer");
        assert_eq!(
            *remote_addr.ip(),
            fx.ip(peer),
            "fixture: accepted from the peer"
        );
        assert_eq!(
            fx.peer_name(peer, remote),
            Ok(addr),
            "fixture: connected to the listener"
        );
        assert_eq!(fx.readable(me, local), 0, "fixture: nothing sent yet");
        assert_eq!(
            fx.world.live_resources(me.pid),
            2,
            "fixture: listener, accepted"
        );
        assert_eq!(
            fx.world.live_resources(peer.pid),
            1,
            "fixture: the peer's socket"
        );
        Connected {
            fx,
            listener,
            local,
            peer,
            remote,
        }
    }
}

impl PendingRecv {
    fn build(mut conn: Connected) -> PendingRecv {
        let (me, local) = (conn.fx.me, conn.local);
        let event = conn.fx.event(me);
        let set = conn.fx.call(EventCall::EventOp(event, EventOp::Set));
        assert_eq!(set, Ok(Reply::Done), "fixture: WSASetEvent");
        assert!(conn.fx.is_set(me, event), "fixture: the event starts set");
        let (r, key, memory) = conn.fx.recv_overlapped(me, local, 64, Some(event), false);
        assert_eq!(r, Err(WsaError::IoPending), "fixture: WSARecv pends (OV-1)");
        assert!(
            !conn.fx.is_set(me, event),
            "fixture: reset at the start (OV-3)"
        );
        assert_eq!(
            conn.fx.world.live_resources(me.pid),
            4,
            "fixture: listener, accepted, event, operation"
        );
        assert!(
            conn.fx.world.take_completions().is_empty(),
            "fixture: nothing completed"
        );
        PendingRecv {
            conn,
            event,
            key,
            memory,
        }
    }
}

impl HalfClosed {
    fn build(mut conn: Connected) -> HalfClosed {
        let local = conn.local;
        let r = conn.fx.call(DataCall::Shutdown {
            s: local,
            how: SD_SEND,
        });
        assert_eq!(r, Ok(Reply::Done), "fixture: shutdown(SD_SEND)");
        conn.fx.settle();
        let (peer, remote) = (conn.peer, conn.remote);
        assert_eq!(
            conn.fx.recv(peer, remote, 16),
            Ok(Vec::new()),
            "fixture: FIN received"
        );
        HalfClosed { conn }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fixture_builds_and_checks_its_state() {
        let fx = Fx::started();
        assert_eq!(fx.world.process(fx.me.pid).startup_count(), 1);
        let l = Fx::listening(7000);
        assert_eq!(l.addr, SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 7000));
        let c = Fx::connected(7000);
        assert_ne!(c.local, c.listener);
        assert_ne!(c.fx.me.pid, c.peer.pid);
        let p = Fx::with_pending_recv();
        assert_eq!(p.memory.lock().unwrap().result, None, "pending");
        let h = Fx::half_closed();
        assert_eq!(h.conn.fx.world.lost_bytes(), 0);
    }

    #[test]
    #[should_panic(expected = "fixture: accept")]
    fn the_driver_panics_on_a_call_nothing_can_end() {
        let Listening {
            mut fx, listener, ..
        } = Fx::listening(7000);
        let me = fx.me;
        fx.accept(me, listener); // no connection will ever come
    }
}
