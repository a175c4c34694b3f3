//! The transport: the kernel side of every host's sockets. Endpoints (connections, listeners,
//! datagram sockets) live here and outlive the process that opened them: data of a socket
//! closed with `closesocket` keeps flowing (CS-2, CL-7) while the transport holds it.
//!
//! Every packet takes the link's latency in virtual time and packets from one endpoint arrive
//! in the order they were sent. Nothing here reads a clock: time comes in as `now`.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use crate::core::rules::Rule;
use crate::core::ws2::table::Socket;
use crate::core::ws2::table::{Generations, Key, Table};
use crate::core::{HostId, ProcessId};
use crate::error::WsaError;

/// The most bytes one data packet carries.
const MSS: usize = 64 * 1024;
/// How long a connection attempt to an address no host has takes to fail (`WSAETIMEDOUT`),
/// as Windows' default of two SYN retransmissions does.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(21);
/// The first ephemeral port, as on Windows Vista and later.
const EPHEMERAL_FIRST: u16 = 49152;

/// An endpoint, generation-tagged so a packet for a closed endpoint never reaches a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointId(u64);

impl Key for EndpointId {
    fn encode(generation: u64, slot: usize) -> Self {
        EndpointId(generation << 24 | slot as u64)
    }

    fn decode(self) -> Option<(u64, usize)> {
        Some((self.0 >> 24, (self.0 & 0xff_ffff) as usize))
    }
}

/// The transport protocol of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// A byte stream with connections (TCP and the disconnect-data provider).
    Stream,
    /// Datagrams (UDP).
    Datagram,
}

/// Where an endpoint is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Created, maybe bound; never connected.
    Open,
    /// `listen` succeeded.
    Listening,
    /// `connect` sent a SYN and waits for the answer.
    Connecting,
    /// Connected (a stream's connection exists, maybe half-closed; a datagram socket has a
    /// default peer).
    Connected,
    /// The last connection attempt failed with this error.
    Failed(WsaError),
}

/// Data lost for good: the peer never received these bytes (CL-7, CS-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// The process that sent the data.
    pub process: ProcessId,
    /// The socket handle the data was sent on.
    pub socket: Option<Socket>,
    /// Where it was going.
    pub peer: Option<SocketAddrV4>,
    /// How many bytes.
    pub bytes: usize,
    /// The rule that decided the loss (CS-3, CS-4, CL-6, CL-7, SD-11, SD-12, SP-8).
    pub rule: Rule,
    /// Why, in words.
    pub why: &'static str,
}

/// A kernel endpoint.
#[derive(Debug)]
pub struct Endpoint {
    /// The host it lives on.
    pub host: HostId,
    /// Stream or datagram.
    pub proto: Proto,
    /// True when the provider carries disconnect data (XP1_DISCONNECT_DATA).
    pub disconnect_data: bool,
    /// The process that opened it.
    pub origin: ProcessId,
    /// The socket handle that refers to it (kept for reports after the socket is closed).
    pub socket: Option<Socket>,
    /// True while a socket handle refers to it; false after closesocket, cleanup or exit.
    pub attached: bool,
    /// The bound address.
    pub local: Option<SocketAddrV4>,
    /// The peer's address (streams: once connecting; datagrams: the default peer).
    pub peer_addr: Option<SocketAddrV4>,
    /// Life phase.
    pub phase: Phase,
    /// SO_SNDBUF.
    pub sndbuf: usize,
    /// SO_RCVBUF.
    pub rcvbuf: usize,
    /// The connected peer endpoint (streams).
    pub peer: Option<EndpointId>,
    /// Bytes accepted from the application, not yet transmitted.
    pub send_q: VecDeque<u8>,
    /// Bytes transmitted whose acknowledgement has not come back yet.
    pub unacked: usize,
    /// Overlapped receives pending on the socket (SD-10: they still take data after
    /// SD_RECEIVE).
    pub pending_recvs: usize,
    /// The peer acknowledged our FIN.
    pub fin_acked: bool,
    /// Bytes received, not yet read.
    pub recv_q: VecDeque<u8>,
    /// Receive-window bytes promised to packets in flight towards this endpoint.
    reserved: usize,
    /// The application shut down sending (shutdown SD_SEND, WSASendDisconnect, close).
    pub shut_send: bool,
    /// The application shut down receiving (SD_RECEIVE, WSARecvDisconnect).
    pub shut_recv: bool,
    /// Our FIN went out (after all queued data).
    pub fin_sent: bool,
    /// The peer's FIN arrived: reads return 0 once `recv_q` is empty.
    pub fin_rcvd: bool,
    /// The connection was reset or aborted: calls fail with this error.
    pub error: Option<WsaError>,
    /// Disconnect data to send with our FIN (SD-3).
    pub disc_out: Option<Vec<u8>>,
    /// Disconnect data that came with the peer's FIN, until retrieved (SD-3, SD-9).
    pub disc_in: Option<Vec<u8>>,
    /// Listen backlog and connections waiting for accept.
    pub backlog: usize,
    /// Established connections not yet accepted.
    pub accept_q: VecDeque<EndpointId>,
    /// Datagrams received, not yet read, with their sender.
    pub dgrams: VecDeque<(SocketAddrV4, Vec<u8>)>,
    /// The arrival time of the last packet this endpoint sent (keeps its packets in order).
    last_arrival: Duration,
}

impl Endpoint {
    /// A fresh endpoint: open, attached, unbound, with the given buffer sizes.
    fn new(
        host: HostId,
        proto: Proto,
        disconnect_data: bool,
        origin: ProcessId,
        bufs: (usize, usize),
    ) -> Endpoint {
        Endpoint {
            host,
            proto,
            disconnect_data,
            origin,
            socket: None,
            attached: true,
            local: None,
            peer_addr: None,
            phase: Phase::Open,
            sndbuf: bufs.0,
            rcvbuf: bufs.1,
            peer: None,
            send_q: VecDeque::new(),
            unacked: 0,
            pending_recvs: 0,
            fin_acked: false,
            recv_q: VecDeque::new(),
            reserved: 0,
            shut_send: false,
            shut_recv: false,
            fin_sent: false,
            fin_rcvd: false,
            error: None,
            disc_out: None,
            disc_in: None,
            backlog: 0,
            accept_q: VecDeque::new(),
            dgrams: VecDeque::new(),
            last_arrival: Duration::ZERO,
        }
    }

    /// True while data handed to Winsock has not been acknowledged by the peer: queued, in
    /// flight, or a FIN not yet acknowledged after a shutdown.
    pub fn unsent(&self) -> bool {
        !self.send_q.is_empty() || self.unacked > 0
    }

    /// CS-4: everything sent and acknowledged, FIN included (or the connection is gone).
    pub fn drained(&self) -> bool {
        self.error.is_some() || (!self.unsent() && self.fin_sent && self.fin_acked)
    }

    /// Bytes that can be read now (streams) or the size of the next datagram.
    pub fn readable_bytes(&self) -> usize {
        match self.proto {
            Proto::Stream => self.recv_q.len(),
            Proto::Datagram => self.dgrams.front().map_or(0, |d| d.1.len()),
        }
    }
}

#[derive(Debug)]
enum Packet {
    /// A connection request to an address.
    Syn { to: SocketAddrV4 },
    /// The answer: the accepting side's new endpoint.
    SynAck,
    /// Stream bytes.
    Data(Vec<u8>),
    /// End of the sender's data, with its disconnect data.
    Fin(Option<Vec<u8>>),
    /// Reset.
    Rst,
    /// Acknowledges stream bytes and, with `fin`, the FIN.
    Ack { bytes: usize, fin: bool },
    /// A datagram to a port of a host (resolved when it left), with the sender's address.
    Datagram {
        host: HostId,
        to: SocketAddrV4,
        from: SocketAddrV4,
        data: Vec<u8>,
    },
    /// No host answered the SYN.
    ConnectTimeout,
}

#[derive(Debug)]
struct Wire {
    from: EndpointId,
    /// Who sent it, kept for loss reports after the sender is gone.
    sender: Owner,
    /// The endpoint it goes to (None: routed by address).
    to: Option<EndpointId>,
    packet: Packet,
}

/// Whose data a packet carries: the process and socket that sent it and where it was going.
#[derive(Debug, Clone, Copy)]
struct Owner {
    process: ProcessId,
    socket: Option<Socket>,
    peer: Option<SocketAddrV4>,
}

/// All endpoints of all hosts, and the packets between them.
#[derive(Debug, Default)]
pub struct Transport {
    endpoints: Table<EndpointId, Endpoint>,
    generations: Generations,
    hosts: Vec<Ipv4Addr>,
    ports: BTreeMap<(HostId, Proto, u16), EndpointId>,
    next_port: BTreeMap<(HostId, Proto), u16>,
    wire: BTreeMap<(Duration, u64), Wire>,
    wire_seq: u64,
    latency: Duration,
    links: BTreeMap<(HostId, HostId), Duration>,
    losses: Vec<Loss>,
    lost_total: u64,
}

impl Transport {
    /// A transport whose links take `latency` unless set otherwise.
    pub fn new(latency: Duration) -> Transport {
        Transport {
            latency,
            ..Transport::default()
        }
    }

    /// Registers a host and its address.
    pub fn add_host(&mut self, addr: Ipv4Addr) {
        self.hosts.push(addr);
    }

    /// Sets the latency between two hosts (either order; a host with itself: loopback).
    pub fn set_link_latency(&mut self, a: HostId, b: HostId, latency: Duration) {
        self.links.insert((a.min(b), a.max(b)), latency);
    }

    fn latency(&self, a: HostId, b: HostId) -> Duration {
        self.links
            .get(&(a.min(b), a.max(b)))
            .copied()
            .unwrap_or(self.latency)
    }

    /// The host with this address as seen from `from` (127.x.x.x is `from` itself).
    pub fn host_of(&self, from: HostId, ip: Ipv4Addr) -> Option<HostId> {
        if ip.is_loopback() {
            return Some(from);
        }
        self.hosts
            .iter()
            .position(|h| *h == ip)
            .map(|i| HostId(i as u32))
    }

    /// True when an endpoint bound to `bound` on `host` takes traffic for `dialled` coming
    /// from `src_host`: the wildcard takes everything; a loopback address only traffic to it
    /// from the same host; any other address only traffic to it.
    fn accepts(
        &self,
        bound: Option<SocketAddrV4>,
        host: HostId,
        dialled: Ipv4Addr,
        src_host: HostId,
    ) -> bool {
        match bound.map(|b| *b.ip()) {
            None => false,
            Some(ip) if ip.is_unspecified() => true,
            Some(ip) if ip.is_loopback() => dialled == ip && src_host == host,
            Some(ip) => dialled == ip,
        }
    }

    /// A host's own address.
    pub fn host_addr(&self, h: HostId) -> Ipv4Addr {
        self.hosts[h.0 as usize]
    }

    /// Every byte lost so far (CL-7).
    pub fn lost_total(&self) -> u64 {
        self.lost_total
    }

    /// The losses recorded since the last call, for the trace.
    pub fn take_losses(&mut self) -> Vec<Loss> {
        std::mem::take(&mut self.losses)
    }

    /// An endpoint.
    pub fn get(&self, e: EndpointId) -> Option<&Endpoint> {
        self.endpoints.get(e)
    }

    /// An endpoint, mutably.
    pub fn get_mut(&mut self, e: EndpointId) -> Option<&mut Endpoint> {
        self.endpoints.get_mut(e)
    }

    /// The endpoint of a socket: it exists as long as its socket does.
    pub fn ep(&self, e: EndpointId) -> &Endpoint {
        self.endpoints
            .get(e)
            .expect("invariant: a socket's endpoint lives while the socket does")
    }

    /// The endpoint of a socket, mutably.
    pub fn ep_mut(&mut self, e: EndpointId) -> &mut Endpoint {
        self.endpoints
            .get_mut(e)
            .expect("invariant: a socket's endpoint lives while the socket does")
    }

    /// A new endpoint for a socket.
    pub fn create(
        &mut self,
        host: HostId,
        proto: Proto,
        disconnect_data: bool,
        origin: ProcessId,
        bufs: (usize, usize),
    ) -> EndpointId {
        let ep = Endpoint::new(host, proto, disconnect_data, origin, bufs);
        self.endpoints
            .insert(&mut self.generations, ep)
            .expect("the transport has room for 2^24 endpoints per slot generation")
    }

    /// Binds `e` to `addr` (port 0: an ephemeral port). The address must be the wildcard, a
    /// loopback address or the host's own (`WSAEADDRNOTAVAIL`); the port must be free on the
    /// host for the protocol (`WSAEADDRINUSE`); binding twice fails `WSAEINVAL`.
    pub fn bind(&mut self, e: EndpointId, addr: SocketAddrV4) -> Result<SocketAddrV4, WsaError> {
        let (host, proto, bound) = {
            let ep = self.ep(e);
            (ep.host, ep.proto, ep.local.is_some())
        };
        if bound {
            return Err(WsaError::InvalidArgument);
        }
        let ip = *addr.ip();
        if !(ip.is_unspecified() || ip.is_loopback() || ip == self.host_addr(host)) {
            return Err(WsaError::AddressNotAvailable);
        }
        let port = if addr.port() == 0 {
            self.ephemeral_port(host, proto)?
        } else if self.ports.contains_key(&(host, proto, addr.port())) {
            return Err(WsaError::AddressInUse);
        } else {
            addr.port()
        };
        self.ports.insert((host, proto, port), e);
        let local = SocketAddrV4::new(ip, port);
        self.ep_mut(e).local = Some(local);
        Ok(local)
    }

    /// Binds to the wildcard address and an ephemeral port unless bound already.
    pub fn bind_implicitly(&mut self, e: EndpointId) -> Result<(), WsaError> {
        if self.ep(e).local.is_none() {
            self.bind(e, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
        }
        Ok(())
    }

    fn ephemeral_port(&mut self, host: HostId, proto: Proto) -> Result<u16, WsaError> {
        let next = self
            .next_port
            .entry((host, proto))
            .or_insert(EPHEMERAL_FIRST);
        for _ in 0..=(u16::MAX - EPHEMERAL_FIRST) {
            let port = *next;
            *next = if port == u16::MAX {
                EPHEMERAL_FIRST
            } else {
                port + 1
            };
            if !self.ports.contains_key(&(host, proto, port)) {
                return Ok(port);
            }
        }
        Err(WsaError::NoBufferSpace)
    }

    fn schedule(
        &mut self,
        now: Duration,
        from: EndpointId,
        to: Option<EndpointId>,
        dest_host: HostId,
        packet: Packet,
    ) {
        let src_host = self.ep(from).host;
        let arrive = (now + self.latency(src_host, dest_host)).max(self.ep(from).last_arrival);
        self.ep_mut(from).last_arrival = arrive;
        self.schedule_at(arrive, from, to, packet);
    }

    fn schedule_at(
        &mut self,
        at: Duration,
        from: EndpointId,
        to: Option<EndpointId>,
        packet: Packet,
    ) {
        self.wire_seq += 1;
        let sender = self.owner(from);
        let wire = Wire {
            from,
            sender,
            to,
            packet,
        };
        self.wire.insert((at, self.wire_seq), wire);
    }

    /// Sends a SYN to `to` (streams). The endpoint must be bound.
    pub fn connect(&mut self, now: Duration, e: EndpointId, to: SocketAddrV4) {
        let host = self.ep(e).host;
        // The wildcard becomes the interface the connection uses: loopback or the host's.
        let ip = if to.ip().is_loopback() {
            *to.ip()
        } else {
            self.host_addr(host)
        };
        {
            let ep = self.ep_mut(e);
            ep.phase = Phase::Connecting;
            ep.peer_addr = Some(to);
            if let Some(local) = ep.local.filter(|l| l.ip().is_unspecified()) {
                ep.local = Some(SocketAddrV4::new(ip, local.port()));
            }
        }
        match self.host_of(host, *to.ip()) {
            Some(dest) => self.schedule(now, e, None, dest, Packet::Syn { to }),
            None => self.schedule_at(now + CONNECT_TIMEOUT, e, Some(e), Packet::ConnectTimeout),
        }
    }

    /// Moves queued bytes onto the wire as far as the peer's window allows, then the FIN once
    /// everything is out and sending was shut down.
    pub fn pump(&mut self, now: Duration, e: EndpointId) {
        let Some(ep) = self.get(e) else { return };
        if ep.proto != Proto::Stream || ep.phase != Phase::Connected || ep.error.is_some() {
            return;
        }
        let Some(peer) = ep.peer else { return };
        let Some(peer_ep) = self.get(peer) else {
            return;
        };
        let peer_host = peer_ep.host;
        loop {
            let window = {
                let p = self.ep(peer);
                p.rcvbuf.saturating_sub(p.recv_q.len() + p.reserved)
            };
            let n = self.ep(e).send_q.len().min(window).min(MSS);
            if n == 0 {
                break;
            }
            let bytes: Vec<u8> = self.ep_mut(e).send_q.drain(..n).collect();
            self.ep_mut(e).unacked += n;
            self.ep_mut(peer).reserved += n;
            self.schedule(now, e, Some(peer), peer_host, Packet::Data(bytes));
        }
        let ep = self.ep(e);
        if ep.send_q.is_empty() && ep.shut_send && !ep.fin_sent {
            let disc = self.ep_mut(e).disc_out.take();
            self.ep_mut(e).fin_sent = true;
            self.schedule(now, e, Some(peer), peer_host, Packet::Fin(disc));
        }
    }

    /// Takes up to `buf.len()` bytes from the receive queue (or copies them, with `peek`), then
    /// lets the peer send into the room made.
    pub fn read(&mut self, now: Duration, e: EndpointId, buf: &mut [u8], peek: bool) -> usize {
        let ep = self.ep_mut(e);
        let n = buf.len().min(ep.recv_q.len());
        for (dst, src) in buf.iter_mut().zip(ep.recv_q.iter()) {
            *dst = *src;
        }
        if !peek {
            ep.recv_q.drain(..n);
            if let Some(peer) = ep.peer {
                self.pump(now, peer);
            }
        }
        n
    }

    /// Sends a datagram from `e` to `to`.
    pub fn send_datagram(&mut self, now: Duration, e: EndpointId, to: SocketAddrV4, data: Vec<u8>) {
        let ep = self.ep(e);
        let host = ep.host;
        let Some(local) = ep.local else { return };
        let from = if to.ip().is_loopback() {
            SocketAddrV4::new(*to.ip(), local.port())
        } else {
            self.visible_addr(host, local)
        };
        if let Some(dest) = self.host_of(host, *to.ip()) {
            let packet = Packet::Datagram {
                host: dest,
                to,
                from,
                data,
            };
            self.schedule(now, e, None, dest, packet);
        }
    }

    /// Aborts the connection: unsent data is discarded (a loss decided by `rule`), the peer
    /// gets a reset.
    pub fn abort(&mut self, now: Duration, e: EndpointId, rule: Rule, why: &'static str) {
        let ep = self.ep_mut(e);
        let unsent = ep.send_q.len();
        ep.send_q.clear();
        ep.shut_send = true;
        ep.shut_recv = true;
        let already = ep.error.is_some();
        ep.error.get_or_insert(WsaError::ConnectionAborted);
        let peer = ep.peer;
        if unsent > 0 {
            self.lose(e, unsent, rule, why);
        }
        if let (false, Some(peer)) = (already, peer) {
            if let Some(peer_host) = self.get(peer).map(|p| p.host) {
                self.schedule(now, e, Some(peer), peer_host, Packet::Rst);
            }
        }
    }

    fn owner(&self, e: EndpointId) -> Owner {
        let ep = self.ep(e);
        Owner {
            process: ep.origin,
            socket: ep.socket,
            peer: ep.peer_addr,
        }
    }

    fn lose(&mut self, e: EndpointId, bytes: usize, rule: Rule, why: &'static str) {
        self.lose_as(self.owner(e), bytes, rule, why);
    }

    fn lose_as(&mut self, owner: Owner, bytes: usize, rule: Rule, why: &'static str) {
        self.losses.push(Loss {
            process: owner.process,
            socket: owner.socket,
            peer: owner.peer,
            bytes,
            rule,
            why,
        });
        self.lost_total += bytes as u64;
    }

    /// Records bytes a process held outside the transport (a provider's own buffer) as lost
    /// with it (SP-7).
    pub fn lose_in_process(
        &mut self,
        process: ProcessId,
        bytes: usize,
        rule: Rule,
        why: &'static str,
    ) {
        let owner = Owner {
            process,
            socket: None,
            peer: None,
        };
        self.lose_as(owner, bytes, rule, why);
    }

    /// Drops bytes received but never read (SD-11: shutdown(SD_RECEIVE) with data queued): a
    /// loss, charged to the sender when it still exists.
    pub fn discard_unread(&mut self, e: EndpointId, rule: Rule, why: &'static str) {
        let ep = self.ep_mut(e);
        let n = ep.recv_q.len();
        ep.recv_q.clear();
        let peer = ep.peer.filter(|p| self.get(*p).is_some());
        if n > 0 {
            self.lose(peer.unwrap_or(e), n, rule, why);
        }
    }

    /// Detaches an endpoint from its socket (closesocket, cleanup, exit). A detached endpoint
    /// keeps sending what it holds; it goes away once there is nothing left to do.
    ///
    /// A connection closed with data it never read is reset, and that data is lost (as
    /// RFC 1122 §4.2.2.13 and Windows do).
    pub fn detach(&mut self, now: Duration, e: EndpointId) {
        let ep = self.ep(e);
        if ep.proto == Proto::Stream && ep.phase == Phase::Connected && !ep.recv_q.is_empty() {
            self.discard_unread(e, Rule::Cs2, "unread data discarded by closesocket");
            self.abort(now, e, Rule::Cs2, "closed with unread data");
        }
        let ep = self.ep_mut(e);
        ep.attached = false;
        // Connections that were never accepted die with their listener.
        let pending: Vec<EndpointId> = ep.accept_q.drain(..).collect();
        for child in pending {
            self.abort(now, child, Rule::Sd12, "connection never accepted");
            if let Some(c) = self.get_mut(child) {
                c.attached = false;
            }
            self.reap(child);
        }
        self.reap(e);
    }

    /// Removes a detached endpoint that has nothing left to do.
    fn reap(&mut self, e: EndpointId) {
        let Some(ep) = self.get(e) else { return };
        let done = !ep.attached
            && match ep.phase {
                Phase::Connected if ep.proto == Proto::Stream => {
                    ep.error.is_some() || (ep.fin_sent && ep.fin_rcvd && ep.send_q.is_empty())
                }
                // A connection attempt still in flight finishes first.
                Phase::Connecting => false,
                Phase::Open | Phase::Listening | Phase::Connected | Phase::Failed(_) => true,
            };
        if done {
            let ep = self.endpoints.remove(e).expect("checked above");
            if let Some(local) = ep.local {
                if self.ports.get(&(ep.host, ep.proto, local.port())) == Some(&e) {
                    self.ports.remove(&(ep.host, ep.proto, local.port()));
                }
            }
        }
    }

    /// Endpoints opened by `p` that no socket refers to any more and still have unsent data.
    pub fn orphans_with_data(&self, p: ProcessId) -> Vec<EndpointId> {
        self.endpoints
            .iter()
            .filter(|(_, ep)| ep.origin == p && !ep.attached && ep.unsent())
            .map(|(id, _)| id)
            .collect()
    }

    /// When the next packet arrives, if any is in flight.
    pub fn next_arrival(&self) -> Option<Duration> {
        self.wire.keys().next().map(|(t, _)| *t)
    }

    /// Delivers every packet due at or before `now`, in order.
    pub fn run_until(&mut self, now: Duration) {
        while let Some(entry) = self.wire.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, _), wire) = entry.remove_entry();
            self.deliver(at, wire);
        }
    }

    fn deliver(&mut self, now: Duration, w: Wire) {
        match w.packet {
            Packet::Syn { to } => self.on_syn(now, w.from, to),
            Packet::SynAck => self.on_syn_ack(now, w.from, w.to),
            Packet::Data(bytes) => self.on_data(now, w.from, w.sender, w.to, bytes),
            Packet::Fin(disc) => self.on_fin(now, w.from, w.to, disc),
            Packet::Ack { bytes, fin } => {
                if let Some(ep) = w.to.and_then(|t| self.get_mut(t)) {
                    ep.unacked = ep.unacked.saturating_sub(bytes);
                    ep.fin_acked |= fin;
                }
            }
            Packet::Rst => self.on_rst(w.to),
            Packet::Datagram {
                host,
                to,
                from,
                data,
            } => self.on_datagram(host, to, from, data),
            Packet::ConnectTimeout => {
                if let Some(ep) = w.to.and_then(|t| self.get_mut(t)) {
                    if ep.phase == Phase::Connecting {
                        ep.phase = Phase::Failed(WsaError::TimedOut);
                    }
                }
                if let Some(t) = w.to {
                    self.reap(t);
                }
            }
        }
    }

    fn on_syn(&mut self, now: Duration, from: EndpointId, to: SocketAddrV4) {
        let Some(src) = self.get(from) else { return };
        let src_host = src.host;
        let src_addr = src.local.map(|l| self.visible_addr(src_host, l));
        let listener = self
            .host_of(src_host, *to.ip())
            .and_then(|h| self.ports.get(&(h, Proto::Stream, to.port())).copied())
            .filter(|l| {
                self.get(*l).is_some_and(|l| {
                    l.phase == Phase::Listening
                        && l.attached
                        && l.accept_q.len() < l.backlog
                        && self.accepts(l.local, l.host, *to.ip(), src_host)
                })
            });
        let Some(listener) = listener else {
            // No listener, or its backlog is full: refused.
            let dest = self.host_of(src_host, *to.ip()).unwrap_or(src_host);
            self.schedule_reply(now, dest, from, Packet::Rst);
            return;
        };
        let l = self.ep(listener);
        let child = Endpoint {
            local: l
                .local
                .map(|a| SocketAddrV4::new(self.visible_ip(l.host, *to.ip()), a.port())),
            peer_addr: src_addr,
            phase: Phase::Connected,
            peer: Some(from),
            ..Endpoint::new(
                l.host,
                Proto::Stream,
                l.disconnect_data,
                l.origin,
                (l.sndbuf, l.rcvbuf),
            )
        };
        let child = self
            .endpoints
            .insert(&mut self.generations, child)
            .expect("the transport has room for another endpoint");
        self.ep_mut(listener).accept_q.push_back(child);
        self.schedule(now, child, Some(from), src_host, Packet::SynAck);
    }

    /// A packet sent on behalf of an address nobody owns (a refusal): it takes the link's
    /// latency back to `to`.
    fn schedule_reply(&mut self, now: Duration, from_host: HostId, to: EndpointId, packet: Packet) {
        let to_host = self.ep(to).host;
        let at = now + self.latency(from_host, to_host);
        self.schedule_at(at, to, Some(to), packet);
    }

    /// The address a peer sees for a local address (the wildcard becomes the host's address).
    fn visible_addr(&self, host: HostId, local: SocketAddrV4) -> SocketAddrV4 {
        if local.ip().is_unspecified() {
            SocketAddrV4::new(self.host_addr(host), local.port())
        } else {
            local
        }
    }

    /// The local IP of an accepted connection: the address the connector used.
    fn visible_ip(&self, host: HostId, dialled: Ipv4Addr) -> Ipv4Addr {
        if dialled.is_loopback() {
            dialled
        } else {
            self.host_addr(host)
        }
    }

    fn on_syn_ack(&mut self, now: Duration, child: EndpointId, to: Option<EndpointId>) {
        let Some(to) = to else { return };
        match self.get_mut(to) {
            Some(ep) if ep.phase == Phase::Connecting => {
                ep.phase = Phase::Connected;
                ep.peer = Some(child);
                self.pump(now, to);
            }
            // The connector went away meanwhile: the half-open connection is reset.
            _ => self.on_rst(Some(child)),
        }
    }

    fn on_data(
        &mut self,
        now: Duration,
        from: EndpointId,
        sender: Owner,
        to: Option<EndpointId>,
        bytes: Vec<u8>,
    ) {
        let n = bytes.len();
        let Some(to) = to else { return };
        let Some(ep) = self.get_mut(to) else {
            // The receiver is gone: these bytes are lost, and the sender gets a reset.
            self.lose_as(sender, n, Rule::Sd12, "receiver gone");
            self.on_rst(Some(from));
            return;
        };
        ep.reserved = ep.reserved.saturating_sub(n);
        if ep.error.is_some() {
            self.lose_as(sender, n, Rule::Sd12, "connection reset");
        } else if (ep.shut_recv && ep.pending_recvs == 0) || !ep.attached {
            // SD-11: data for a stream socket that shut down receiving (or was closed) resets
            // the connection.
            self.lose_as(sender, n, Rule::Sd11, "receiver shut down receiving");
            self.abort(now, to, Rule::Sd11, "connection reset by receiver");
            self.reap(to);
        } else {
            ep.recv_q.extend(bytes);
            if let Some(host) = self.get(from).map(|f| f.host) {
                self.schedule(
                    now,
                    to,
                    Some(from),
                    host,
                    Packet::Ack {
                        bytes: n,
                        fin: false,
                    },
                );
            }
        }
    }

    fn on_fin(
        &mut self,
        now: Duration,
        from: EndpointId,
        to: Option<EndpointId>,
        disc: Option<Vec<u8>>,
    ) {
        let Some(to) = to else { return };
        let Some(ep) = self.get_mut(to) else { return };
        ep.fin_rcvd = true;
        if disc.is_some() {
            ep.disc_in = disc;
        }
        if let Some(host) = self.get(from).map(|f| f.host) {
            self.schedule(
                now,
                to,
                Some(from),
                host,
                Packet::Ack {
                    bytes: 0,
                    fin: true,
                },
            );
        }
        self.pump(now, to);
        self.reap(to);
    }

    fn on_rst(&mut self, to: Option<EndpointId>) {
        let Some(to) = to else { return };
        let Some(ep) = self.get_mut(to) else { return };
        if ep.phase == Phase::Connecting {
            ep.phase = Phase::Failed(WsaError::ConnectionRefused);
        } else if ep.error.is_none() {
            ep.error = Some(WsaError::ConnectionReset);
            let unsent = ep.send_q.len();
            ep.send_q.clear();
            if unsent > 0 {
                self.lose(to, unsent, Rule::Sd12, "connection reset by peer");
            }
        }
        self.reap(to);
    }

    fn on_datagram(&mut self, host: HostId, to: SocketAddrV4, sender: SocketAddrV4, data: Vec<u8>) {
        let Some(&dest) = self.ports.get(&(host, Proto::Datagram, to.port())) else {
            return;
        };
        let Some(ep) = self.get(dest) else { return };
        let src_host = if sender.ip().is_loopback() {
            host
        } else {
            self.host_of(host, *sender.ip()).unwrap_or(host)
        };
        if !self.accepts(ep.local, ep.host, *to.ip(), src_host) {
            return;
        }
        let Some(ep) = self.get_mut(dest) else { return };
        if ep.peer_addr.is_some_and(|p| p != sender) {
            return; // A connected datagram socket only takes its peer's datagrams.
        }
        let queued: usize = ep.dgrams.iter().map(|d| d.1.len()).sum();
        if queued + data.len() <= ep.rcvbuf {
            ep.dgrams.push_back((sender, data)); // SD-11: still queued after SD_RECEIVE.
        }
    }
}
