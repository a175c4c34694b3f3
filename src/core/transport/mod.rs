//! The transport: the kernel side of every host's sockets. Endpoints (connections, listeners,
//! datagram sockets) live here and outlive the process that opened them: data of a socket
//! closed with `closesocket` keeps flowing (CS-2, CL-7) while the transport holds it.
//!
//! Every packet takes the link's latency in virtual time and packets from one endpoint arrive
//! in the order they were sent. Nothing here reads a clock: time comes in as `now`.
//!
//! An endpoint's lifecycle is one [`Phase`] value changed only through the funnel in
//! `endpoint` (`Endpoint::set_phase`), which checks each transition and logs it; the
//! simulation drains that log with [`Transport::take_transitions`]. The transport does not
//! know Winsock calls or socket handles beyond the one it reports losses for: the providers
//! decide what a call does and ask for the transitions through the methods here.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use crate::core::rules::Rule;
use crate::core::ws2::table::Socket;
use crate::core::ws2::table::{Generations, Key, Table};
use crate::core::{HostId, ProcessId};
use crate::error::WsaError;
use crate::trace::PacketKind;

mod endpoint;
#[cfg(test)]
mod tests;

pub use endpoint::{Change, Endpoint, Phase, SendHalf, Transition};

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

impl std::fmt::Display for EndpointId {
    /// `slot.generation`, as in the trace's `Endpoint` events.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 & 0xff_ffff, self.0 >> 24)
    }
}

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

/// A packet put on the wire, for the record: the trace's `packet` events. The transport logs
/// every packet it schedules except its own connect timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// When it left.
    pub at: Duration,
    /// When it arrives (the link's latency later, in order behind the sender's earlier packets).
    pub arrives: Duration,
    /// The sending host.
    pub from_host: HostId,
    /// The host it goes to.
    pub to_host: HostId,
    /// The process whose endpoint sent it (`None`: a refusal sent for an address nobody owns).
    pub process: Option<ProcessId>,
    /// The sender's address, as the receiver sees it.
    pub from: Option<SocketAddrV4>,
    /// The address it goes to.
    pub to: Option<SocketAddrV4>,
    /// What it is.
    pub kind: PacketKind,
    /// Payload bytes: stream data, a datagram, a FIN's disconnect data, the bytes an ACK
    /// acknowledges.
    pub bytes: usize,
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

impl Packet {
    /// What the trace calls it.
    fn kind(&self) -> PacketKind {
        match self {
            Packet::Syn { .. } => PacketKind::Syn,
            Packet::SynAck => PacketKind::SynAck,
            Packet::Data(_) => PacketKind::Data,
            Packet::Fin(_) => PacketKind::Fin,
            Packet::Rst => PacketKind::Rst,
            Packet::Ack { .. } => PacketKind::Ack,
            Packet::Datagram { .. } => PacketKind::Datagram,
            Packet::ConnectTimeout => unreachable!("the connect timer is not logged"),
        }
    }

    /// Its payload bytes, as [`Sent::bytes`] counts them.
    fn bytes(&self) -> usize {
        match self {
            Packet::Data(b) | Packet::Datagram { data: b, .. } => b.len(),
            Packet::Fin(d) => d.as_ref().map_or(0, Vec::len),
            Packet::Ack { bytes, .. } => *bytes,
            Packet::Syn { .. } | Packet::SynAck | Packet::Rst | Packet::ConnectTimeout => 0,
        }
    }
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
    /// The endpoints bound to each port, in bind order (more than one only by OP-4's
    /// `SO_REUSEADDR`).
    ports: BTreeMap<(HostId, Proto, u16), Vec<EndpointId>>,
    next_port: BTreeMap<(HostId, Proto), u16>,
    wire: BTreeMap<(Duration, u64), Wire>,
    wire_seq: u64,
    latency: Duration,
    links: BTreeMap<(HostId, HostId), Duration>,
    losses: Vec<Loss>,
    lost_total: u64,
    /// CL-7's stream books: bytes applications queued to send, bytes they read, and the
    /// losses of bytes a process held outside the transport (SP-7), which never entered it.
    stream_queued: u64,
    stream_read: u64,
    lost_outside: u64,
    /// Bytes received but never read, dropped with their endpoint when its socket closed.
    unread_dropped: u64,
    /// Every endpoint lifecycle change since the log was last drained.
    transitions: Vec<Transition>,
    /// Every packet put on the wire since the log was last drained.
    sent: Vec<Sent>,
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

    /// Queues stream bytes an application sends on `e`: the one way bytes enter a
    /// connection (send, an overlapped send, ConnectEx's first data).
    pub fn queue_stream(&mut self, e: EndpointId, data: &[u8]) {
        self.ep_mut(e).send_q.extend(data);
        self.stream_queued += data.len() as u64;
    }

    /// CL-7's books for stream bytes: `(queued, read, lost, held)`, where every byte an
    /// application queued was read by the peer's application, lost (and counted), or is
    /// still held: in a send queue, on the wire, or in a receive queue. Bytes received but
    /// never read when the receiving socket closed count as read (the application had them
    /// and closed). `queued = read + lost + held` always.
    pub fn stream_books(&self) -> (u64, u64, u64, u64) {
        let queued_here: u64 = self
            .endpoints
            .iter()
            .map(|(_, ep)| (ep.send_q.len() + ep.recv_q.len()) as u64)
            .sum();
        let on_wire: u64 = self
            .wire
            .values()
            .map(|w| match &w.packet {
                Packet::Data(b) => b.len() as u64,
                _ => 0,
            })
            .sum();
        let lost = self.lost_total - self.lost_outside;
        let read = self.stream_read + self.unread_dropped;
        (self.stream_queued, read, lost, queued_here + on_wire)
    }

    /// The losses recorded since the last call, for the trace.
    pub fn take_losses(&mut self) -> Vec<Loss> {
        std::mem::take(&mut self.losses)
    }

    /// The endpoint lifecycle changes since the last call, in order, for the record.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.transitions)
    }

    /// The packets put on the wire since the last call, in order, for the trace.
    pub fn take_sent(&mut self) -> Vec<Sent> {
        std::mem::take(&mut self.sent)
    }

    /// Moves `e` to phase `to` through [`Endpoint::set_phase`], which checks and records it.
    fn set_phase(&mut self, e: EndpointId, to: Phase) {
        let ep = self
            .endpoints
            .get_mut(e)
            .expect("invariant: a phase changes only on a live endpoint");
        ep.set_phase(e, to, &mut self.transitions);
    }

    /// Inserts a new endpoint and records its creation.
    fn insert(&mut self, ep: Endpoint) -> EndpointId {
        let phase = ep.phase();
        let e = self
            .endpoints
            .insert(&mut self.generations, ep)
            .expect("the transport has room for 2^24 endpoints per slot generation");
        let created = self.endpoints.get(e).expect("just inserted");
        let t = created.transition(e, Change::Created(phase));
        self.transitions.push(t);
        e
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
        let ep = Endpoint::new(host, proto, disconnect_data, origin, bufs, Phase::OPEN);
        self.insert(ep)
    }

    /// `listen`: a stream endpoint that is open (or whose connection attempt failed), or
    /// listening already, listens with `backlog` (clamped to 1..=200).
    pub fn listen(&mut self, e: EndpointId, backlog: i32) {
        let backlog = usize::try_from(backlog).unwrap_or(0).clamp(1, 200);
        self.set_phase(e, Phase::Listening { backlog });
    }

    /// The next established connection waiting on listener `e`, left in the queue.
    pub fn peek_accept(&self, e: EndpointId) -> Option<EndpointId> {
        self.ep(e).accept_q.front().copied()
    }

    /// The next established connection waiting on listener `e`, if any.
    pub fn pop_accept(&mut self, e: EndpointId) -> Option<EndpointId> {
        self.ep_mut(e).accept_q.pop_front()
    }

    /// Gives a datagram endpoint its default peer (its halves stay as they are).
    pub fn connect_datagram(&mut self, e: EndpointId, to: SocketAddrV4) {
        let ep = self.ep_mut(e);
        ep.peer_addr = Some(to);
        if let Phase::Open { send, recv } = ep.phase() {
            self.set_phase(e, Phase::Connected { send, recv });
        }
    }

    /// A failed connection attempt was reported: the endpoint is open again.
    pub fn clear_failure(&mut self, e: EndpointId) {
        self.set_phase(e, Phase::OPEN);
    }

    /// The application shuts sending down: no more sends; on a stream the FIN, with
    /// `disconnect` data (SD-3), follows the queued data. Shutting down twice changes nothing.
    pub fn shut_send(&mut self, now: Duration, e: EndpointId, disconnect: Option<Vec<u8>>) {
        let ep = self.ep_mut(e);
        if ep.is_send_shut() {
            return;
        }
        ep.disc_out = disconnect;
        let to = ep.send_shut_phase();
        self.set_phase(e, to);
        self.pump(now, e);
    }

    /// The application shuts receiving down (what happens to unread data is the caller's).
    pub fn shut_recv(&mut self, e: EndpointId) {
        let to = self.ep(e).recv_shut_phase();
        self.set_phase(e, to);
    }

    /// Binds `e` to `addr` (port 0: an ephemeral port) with the socket's `share` options. The
    /// address must be the wildcard, a loopback address or the host's own
    /// (`WSAEADDRNOTAVAIL`); when the port is taken on the host for the protocol, `check` is
    /// given the options of the endpoints holding it and decides (OP-4); binding twice fails
    /// `WSAEINVAL`.
    pub fn bind(
        &mut self,
        e: EndpointId,
        addr: SocketAddrV4,
        share: Share,
        check: impl FnOnce(&[Share]) -> Result<(), WsaError>,
    ) -> Result<SocketAddrV4, WsaError> {
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
        } else {
            let holders: Vec<Share> = self
                .holders(host, proto, addr.port())
                .iter()
                .filter_map(|h| self.get(*h).map(|h| h.share))
                .collect();
            if !holders.is_empty() {
                check(&holders)?;
            }
            addr.port()
        };
        self.ports.entry((host, proto, port)).or_default().push(e);
        let local = SocketAddrV4::new(ip, port);
        let ep = self.ep_mut(e);
        ep.local = Some(local);
        ep.share = share;
        Ok(local)
    }

    /// The endpoints bound to `port` on `host` for `proto`, in bind order.
    fn holders(&self, host: HostId, proto: Proto, port: u16) -> &[EndpointId] {
        self.ports
            .get(&(host, proto, port))
            .map_or(&[], Vec::as_slice)
    }

    /// Binds to the wildcard address and an ephemeral port unless bound already.
    pub fn bind_implicitly(&mut self, e: EndpointId) -> Result<(), WsaError> {
        if self.ep(e).local.is_none() {
            let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
            self.bind(e, any, Share::default(), |_| Ok(()))?;
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
        let arrive = now
            .saturating_add(self.latency(src_host, dest_host))
            .max(self.ep(from).last_arrival);
        self.ep_mut(from).last_arrival = arrive;
        let ep = self.ep(from);
        let from_addr = ep.local.map(|l| self.visible_addr(src_host, l));
        let to_addr = match &packet {
            Packet::Syn { to } | Packet::Datagram { to, .. } => Some(*to),
            _ => ep.peer_addr,
        };
        let process = Some(ep.origin);
        self.log_sent(Sent {
            at: now,
            arrives: arrive,
            from_host: src_host,
            to_host: dest_host,
            process,
            from: from_addr,
            to: to_addr,
            kind: packet.kind(),
            bytes: packet.bytes(),
        });
        self.schedule_at(arrive, from, to, packet);
    }

    /// Logs a packet put on the wire (the connect timer is not one).
    fn log_sent(&mut self, sent: Sent) {
        self.sent.push(sent);
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
        self.set_phase(e, Phase::Connecting);
        {
            let ep = self.ep_mut(e);
            ep.peer_addr = Some(to);
            if let Some(local) = ep.local.filter(|l| l.ip().is_unspecified()) {
                ep.local = Some(SocketAddrV4::new(ip, local.port()));
            }
        }
        match self.host_of(host, *to.ip()) {
            Some(dest) => self.schedule(now, e, None, dest, Packet::Syn { to }),
            None => {
                let at = now.saturating_add(CONNECT_TIMEOUT);
                self.schedule_at(at, e, Some(e), Packet::ConnectTimeout)
            }
        }
    }

    /// Moves queued bytes onto the wire as far as the peer's window allows, then the FIN once
    /// everything is out and sending was shut down.
    pub fn pump(&mut self, now: Duration, e: EndpointId) {
        let Some(ep) = self.get(e) else { return };
        if !ep.is_live_stream() {
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
                // The receive buffer, or the buffers posted by pending receives if larger.
                p.rcvbuf
                    .max(p.posted)
                    .saturating_sub(p.recv_q.len() + p.reserved)
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
        if let (
            true,
            Phase::Connected {
                send: SendHalf::Shut,
                recv,
            },
        ) = (ep.send_q.is_empty(), ep.phase())
        {
            let disc = self.ep_mut(e).disc_out.take();
            let to = Phase::Connected {
                send: SendHalf::FinSent,
                recv,
            };
            self.set_phase(e, to);
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
            let peer = ep.peer;
            self.stream_read += n as u64;
            if let Some(peer) = peer {
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
        // A broadcast goes to every host, this one included (OP-6).
        let dests: Vec<HostId> = if is_broadcast(*to.ip()) {
            (0..self.hosts.len()).map(|h| HostId(h as u32)).collect()
        } else {
            self.host_of(host, *to.ip()).into_iter().collect()
        };
        for dest in dests {
            let packet = Packet::Datagram {
                host: dest,
                to,
                from,
                data: data.clone(),
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
        let already = ep.reset_error().is_some();
        let peer = ep.peer;
        let to = ep.reset_phase(WsaError::ConnectionAborted, true);
        self.set_phase(e, to);
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
        self.lost_outside += bytes as u64;
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
        if ep.proto == Proto::Stream && ep.is_connected() && !ep.recv_q.is_empty() {
            self.discard_unread(e, Rule::Cs2, "unread data discarded by closesocket");
            self.abort(now, e, Rule::Cs2, "closed with unread data");
        }
        self.detach_one(e);
        // Connections that were never accepted die with their listener.
        let pending: Vec<EndpointId> = self.ep_mut(e).accept_q.drain(..).collect();
        for child in pending {
            self.abort(now, child, Rule::Sd12, "connection never accepted");
            if self.get(child).is_some() {
                self.detach_one(child);
            }
            self.reap(child);
        }
        self.reap(e);
    }

    /// Detaches `e` from its socket through [`Endpoint::detach`], which checks and records it.
    fn detach_one(&mut self, e: EndpointId) {
        let ep = self
            .endpoints
            .get_mut(e)
            .expect("invariant: only a live endpoint is detached");
        ep.detach(e, &mut self.transitions);
    }

    /// Removes a detached endpoint that has nothing left to do.
    fn reap(&mut self, e: EndpointId) {
        let Some(ep) = self.get(e) else { return };
        let stream = ep.proto == Proto::Stream;
        let done = !ep.is_attached()
            && match ep.phase() {
                Phase::Connected { .. } | Phase::Reset { .. } if stream => ep.finished(),
                // A connection attempt still in flight finishes first.
                Phase::Connecting => false,
                Phase::Open { .. }
                | Phase::Listening { .. }
                | Phase::Connected { .. }
                | Phase::Reset { .. }
                | Phase::Failed(_) => true,
            };
        if done {
            let ep = self.endpoints.remove(e).expect("checked above");
            self.unread_dropped += ep.recv_q.len() as u64;
            self.transitions.push(ep.transition(e, Change::Removed));
            if let Some(local) = ep.local {
                let key = (ep.host, ep.proto, local.port());
                if let Some(holders) = self.ports.get_mut(&key) {
                    holders.retain(|h| *h != e);
                    if holders.is_empty() {
                        self.ports.remove(&key);
                    }
                }
            }
        }
    }

    /// Endpoints opened by `p` that no socket refers to any more and still hold data not yet
    /// on the wire (CL-7).
    ///
    /// Bytes already on the wire, acknowledged or not, are not held: they arrive and count as
    /// delivered. A graceful close puts its FIN on the wire as soon as the queue is empty
    /// ([`Transport::pump`]), so an endpoint with an empty queue has nothing left to lose.
    pub fn orphans_with_data(&self, p: ProcessId) -> Vec<EndpointId> {
        self.endpoints
            .iter()
            .filter(|(_, ep)| ep.origin == p && !ep.is_attached() && !ep.send_q.is_empty())
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
            Packet::Ack { bytes, fin } => self.on_ack(w.to, bytes, fin),
            Packet::Rst => self.on_rst(w.to),
            Packet::Datagram {
                host,
                to,
                from,
                data,
            } => self.on_datagram(host, to, from, data),
            Packet::ConnectTimeout => {
                if let Some(t) = w.to {
                    if self
                        .get(t)
                        .is_some_and(|ep| ep.phase() == Phase::Connecting)
                    {
                        self.set_phase(t, Phase::Failed(WsaError::TimedOut));
                    }
                    self.reap(t);
                }
            }
        }
    }

    /// An acknowledgement of `bytes` and, with `fin`, of our FIN.
    fn on_ack(&mut self, to: Option<EndpointId>, bytes: usize, fin: bool) {
        let Some((to, ep)) = to.and_then(|t| Some(t).zip(self.get_mut(t))) else {
            return;
        };
        ep.unacked = ep.unacked.saturating_sub(bytes);
        if let (
            true,
            Phase::Connected {
                send: SendHalf::FinSent,
                recv,
            },
        ) = (fin, ep.phase())
        {
            let acked = Phase::Connected {
                send: SendHalf::FinAcked,
                recv,
            };
            self.set_phase(to, acked);
        }
    }

    fn on_syn(&mut self, now: Duration, from: EndpointId, to: SocketAddrV4) {
        let Some(src) = self.get(from) else { return };
        let src_host = src.host;
        let src_addr = src.local.map(|l| self.visible_addr(src_host, l));
        // OP-4: of the listeners sharing the port, the one bound last takes the connection.
        let holders = match self.host_of(src_host, *to.ip()) {
            Some(h) => self.holders(h, Proto::Stream, to.port()),
            None => &[],
        };
        let listener = holders.iter().rev().copied().find(|l| {
            self.get(*l).is_some_and(|l| {
                let room = match l.phase() {
                    Phase::Listening { backlog } => l.pending_accepts() < backlog,
                    Phase::Open { .. }
                    | Phase::Connecting
                    | Phase::Connected { .. }
                    | Phase::Reset { .. }
                    | Phase::Failed(_) => false,
                };
                room && l.is_attached() && self.accepts(l.local, l.host, *to.ip(), src_host)
            })
        });
        let Some(listener) = listener else {
            // No listener, or its backlog is full: refused.
            let dest = self.host_of(src_host, *to.ip()).unwrap_or(src_host);
            self.schedule_reply(now, dest, from, Packet::Rst);
            return;
        };
        let l = self.ep(listener);
        let mut child = Endpoint::new(
            l.host,
            Proto::Stream,
            l.disconnect_data,
            l.origin,
            (l.sndbuf, l.rcvbuf),
            Phase::CONNECTED,
        );
        child.local = l
            .local
            .map(|a| SocketAddrV4::new(self.visible_ip(l.host, *to.ip()), a.port()));
        child.peer_addr = src_addr;
        child.peer = Some(from);
        let child = self.insert(child);
        self.ep_mut(listener).accept_q.push_back(child);
        self.schedule(now, child, Some(from), src_host, Packet::SynAck);
    }

    /// A packet sent on behalf of an address nobody owns (a refusal): it takes the link's
    /// latency back to `to`.
    fn schedule_reply(&mut self, now: Duration, from_host: HostId, to: EndpointId, packet: Packet) {
        let ep = self.ep(to);
        let to_host = ep.host;
        let at = now.saturating_add(self.latency(from_host, to_host));
        let sent = Sent {
            at: now,
            arrives: at,
            from_host,
            to_host,
            process: None,
            from: ep.peer_addr,
            to: ep.local.map(|l| self.visible_addr(to_host, l)),
            kind: packet.kind(),
            bytes: packet.bytes(),
        };
        self.log_sent(sent);
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
            Some(ep) if ep.phase() == Phase::Connecting => {
                ep.peer = Some(child);
                self.set_phase(to, Phase::CONNECTED);
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
        if ep.reset_error().is_some() {
            self.lose_as(sender, n, Rule::Sd12, "connection reset");
        } else if (ep.is_recv_shut() && ep.pending_recvs == 0) || !ep.is_attached() {
            // SD-11: data for a stream socket that shut down receiving (or was closed) resets
            // the connection.
            self.lose_as(sender, n, Rule::Sd11, "receiver shut down receiving");
            self.abort(now, to, Rule::Sd11, "connection reset by receiver");
            self.reap(to);
        } else {
            ep.recv_q.extend(bytes);
            self.acknowledge(now, to, from, n, false);
        }
    }

    /// `to` acknowledges `bytes` of data (and the FIN, when `fin`) back to `from`, if that
    /// endpoint still exists.
    fn acknowledge(
        &mut self,
        now: Duration,
        to: EndpointId,
        from: EndpointId,
        bytes: usize,
        fin: bool,
    ) {
        if let Some(host) = self.get(from).map(|f| f.host) {
            self.schedule(now, to, Some(from), host, Packet::Ack { bytes, fin });
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
        if disc.is_some() {
            ep.disc_in = disc;
        }
        let finished = ep.fin_rcvd_phase();
        self.set_phase(to, finished);
        self.acknowledge(now, to, from, 0, true);
        self.pump(now, to);
        self.reap(to);
    }

    fn on_rst(&mut self, to: Option<EndpointId>) {
        let Some(to) = to else { return };
        let Some(ep) = self.get_mut(to) else { return };
        match ep.phase() {
            Phase::Connecting => self.set_phase(to, Phase::Failed(WsaError::ConnectionRefused)),
            Phase::Connected { .. } => {
                let unsent = ep.send_q.len();
                ep.send_q.clear();
                let reset = ep.reset_phase(WsaError::ConnectionReset, false);
                self.set_phase(to, reset);
                if unsent > 0 {
                    self.lose(to, unsent, Rule::Sd12, "connection reset by peer");
                }
            }
            // A stale reset: nothing to reset.
            Phase::Open { .. }
            | Phase::Listening { .. }
            | Phase::Reset { .. }
            | Phase::Failed(_) => {}
        }
        self.reap(to);
    }

    /// A datagram reaches the endpoints bound to its port on `host`: OP-4, when several share
    /// the port, the one bound last that takes the address (and, if connected, this sender)
    /// gets it; a broadcast (`to` is 255.255.255.255 or the host's subnet broadcast) reaches
    /// every one of them.
    fn on_datagram(&mut self, host: HostId, to: SocketAddrV4, sender: SocketAddrV4, data: Vec<u8>) {
        let src_host = if sender.ip().is_loopback() {
            host
        } else {
            self.host_of(host, *sender.ip()).unwrap_or(host)
        };
        let broadcast = is_broadcast(*to.ip());
        let dialled = if broadcast {
            self.host_addr(host)
        } else {
            *to.ip()
        };
        let takers: Vec<EndpointId> = self
            .holders(host, Proto::Datagram, to.port())
            .iter()
            .rev()
            .copied()
            .filter(|d| {
                self.get(*d).is_some_and(|ep| {
                    self.accepts(ep.local, ep.host, dialled, src_host)
                        && ep.peer_addr.is_none_or(|p| p == sender)
                })
            })
            .take(if broadcast { usize::MAX } else { 1 })
            .collect();
        for dest in takers {
            let Some(ep) = self.get_mut(dest) else {
                continue;
            };
            let queued: usize = ep.dgrams.iter().map(|d| d.1.len()).sum();
            if queued + data.len() <= ep.rcvbuf {
                ep.dgrams.push_back((sender, data.clone(), *to.ip())); // SD-11: still queued after SD_RECEIVE.
            }
        }
    }
}

/// True for 255.255.255.255 and the simulated subnet's broadcast address, 10.0.0.255 (the
/// hosts are 10.0.0.N/24).
pub fn is_broadcast(ip: Ipv4Addr) -> bool {
    ip.is_broadcast() || ip == Ipv4Addr::new(10, 0, 0, 255)
}

/// A socket's address-sharing options at bind time (OP-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Share {
    /// `SO_REUSEADDR`.
    pub reuse: bool,
    /// `SO_EXCLUSIVEADDRUSE`.
    pub exclusive: bool,
}
