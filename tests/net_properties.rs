//! Property tests of the simulated network's close paths: CL-7 (the recommended shutdown
//! sequence never loses data; the naive one loses exactly the undelivered bytes under
//! `Profile::Documented` and nothing under `Profile::Windows`), CS-2..CS-5 (closesocket and
//! linger) and SD-1, SD-10..SD-12 (shutdown, WSASendDisconnect and what the peer observes).
//!
//! Each test drives two single-threaded processes alternately with non-blocking sockets: a call
//! that would block fails `WSAEWOULDBLOCK` and the test lets virtual time pass (`sim.advance`
//! or `sim.run`), so no call ever waits for the other process.

use std::net::Ipv4Addr;
use std::time::Duration;

use proptest::prelude::*;
use ws2sim::sys::*;
use ws2sim::{Process, Profile, Sim};

mod common;
use common::*;

const PORT: u16 = 7000;

/// The byte at position `i` of the stream sent by `side`: a hash of both, so a duplicated,
/// dropped or reordered chunk never matches the expected prefix by accident.
fn pat(side: usize, i: usize) -> u8 {
    let x = (i as u64 ^ ((side as u64) << 40)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 56) as u8
}

/// Bytes `from..from + len` of `side`'s stream.
fn stream(side: usize, from: usize, len: usize) -> Vec<u8> {
    (from..from + len).map(|i| pat(side, i)).collect()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The network a pair of processes talks over.
#[derive(Debug, Clone, Copy)]
struct NetCfg {
    profile: Profile,
    /// `SimBuilder::latency`, in ms.
    latency: u64,
    /// `Sim::set_link_latency` between the two hosts (or on the loopback), in ms.
    link: Option<u64>,
    /// Both processes on localhost, talking over 127.0.0.1.
    same_host: bool,
    /// SO_SNDBUF and SO_RCVBUF of the client socket.
    client_bufs: (u32, u32),
    /// SO_SNDBUF and SO_RCVBUF of the listener (the accepted socket inherits them).
    server_bufs: (u32, u32),
}

fn profile() -> impl Strategy<Value = Profile> {
    prop_oneof![Just(Profile::Documented), Just(Profile::Windows)]
}

fn buf_size() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(1024u32),
        1024u32..=8 * 1024,
        1024u32..=128 * 1024,
        Just(128 * 1024),
    ]
}

fn net_cfg(
    profile: impl Strategy<Value = Profile>,
    max_latency: u64,
) -> impl Strategy<Value = NetCfg> {
    (
        profile,
        0..=max_latency,
        proptest::option::of(0..=max_latency),
        any::<bool>(),
        (buf_size(), buf_size()),
        (buf_size(), buf_size()),
    )
        .prop_map(
            |(profile, latency, link, same_host, client_bufs, server_bufs)| NetCfg {
                profile,
                latency,
                link,
                same_host,
                client_bufs,
                server_bufs,
            },
        )
}

/// A connected pair of non-blocking TCP sockets, in two processes.
struct Pair {
    sim: Sim,
    client: Process,
    server: Process,
    /// The client's socket.
    c: SOCKET,
    /// The server's accepted socket.
    s: SOCKET,
    listener: SOCKET,
}

/// Starts both processes and connects them: the listener's buffers are set before the
/// connection is made, so the accepted socket has them.
fn connect_pair(cfg: &NetCfg) -> Pair {
    let sim = Sim::builder()
        .latency(ms(cfg.latency))
        .profile(cfg.profile)
        .build();
    let (ch, sh) = if cfg.same_host {
        (sim.localhost(), sim.localhost())
    } else {
        (sim.host("client"), sim.host("server"))
    };
    if let Some(l) = cfg.link {
        sim.set_link_latency(&ch, &sh, ms(l));
    }
    let server = sh.process("server");
    let client = ch.process("client");
    let ip = if cfg.same_host {
        Ipv4Addr::LOCALHOST
    } else {
        sh.addr()
    };
    let addr = sockaddr(ip, PORT);
    let set_bufs = |s: SOCKET, (sndbuf, rcvbuf): (u32, u32)| {
        set_dword_opt(s, SO_SNDBUF, sndbuf);
        set_dword_opt(s, SO_RCVBUF, rcvbuf);
    };
    let listener = server.run(|| unsafe {
        startup_2_2();
        let l = tcp();
        set_bufs(l, cfg.server_bufs);
        assert_eq!(bind(l, name_ptr(&addr), 16), 0);
        assert_eq!(listen(l, 5), 0);
        set_nonblocking(l, true);
        l
    });
    let c = client.run(|| unsafe {
        startup_2_2();
        let c = tcp();
        set_bufs(c, cfg.client_bufs);
        set_nonblocking(c, true);
        assert_fails(connect(c, name_ptr(&addr), 16), WSAEWOULDBLOCK);
        c
    });
    sim.run(); // SYN and SYN-ACK
    let s = server.run(|| {
        let s = accept_one(listener);
        set_nonblocking(s, true);
        s
    });
    Pair {
        sim,
        client,
        server,
        c,
        s,
        listener,
    }
}

/// `recv` into a fresh buffer of `len` bytes: Ok(bytes) (empty for 0) or Err(last error).
unsafe fn recv_some(s: SOCKET, len: usize) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; len];
    let r = recv(s, buf.as_mut_ptr(), len as i32, 0);
    if r == SOCKET_ERROR {
        return Err(WSAGetLastError());
    }
    assert!(
        r >= 0 && r as usize <= len,
        "recv returned {r} for {len} bytes"
    );
    buf.truncate(r as usize);
    Ok(buf)
}

/// `send` of `data`: Ok(count) or Err(last error).
unsafe fn send_some(s: SOCKET, data: &[u8]) -> Result<usize, i32> {
    let r = send(s, data.as_ptr(), data.len() as i32, 0);
    if r == SOCKET_ERROR {
        return Err(WSAGetLastError());
    }
    assert!(
        r >= 0 && r as usize <= data.len(),
        "send returned {r} for {} bytes",
        data.len()
    );
    Ok(r as usize)
}

/// Bytes named by the trace's DataLoss events in all, with the events' argument texts.
fn loss_report(sim: &Sim) -> (u64, Vec<String>) {
    let losses = data_losses(&sim.trace());
    let total = losses.iter().map(|(n, _)| n).sum();
    (total, losses.into_iter().map(|(_, e)| e.args).collect())
}

fn err_name(code: i32) -> String {
    ws2sim::WsaError::from_code(code).map_or(code.to_string(), |e| e.name().to_owned())
}

// ---------------------------------------------------------------------------------------------
// CL-7: the recommended sequence

/// The client sends `payload` bytes, shuts down sending, waits for the server's close (recv 0),
/// then closesocket, WSACleanup, exit. The server reads everything (`read` bytes at a time),
/// shuts down its side and closes. Returns what the server received.
fn recommended(
    pair: &Pair,
    payload: &[u8],
    read: usize,
    step: u64,
) -> Result<Vec<u8>, TestCaseError> {
    #[derive(PartialEq)]
    enum C {
        Sending,
        AwaitingClose,
        Done,
    }
    let (sim, c, s) = (&pair.sim, pair.c, pair.s);
    let mut state = C::Sending;
    let mut sent = 0usize;
    let mut received = Vec::new();
    let mut server_done = false;
    let mut idle = 0;
    while state != C::Done || !server_done {
        let mut progress = false;
        if state != C::Done {
            pair.client.run(|| unsafe {
                if state == C::Sending && sent < payload.len() {
                    match send_some(c, &payload[sent..]) {
                        Ok(n) => {
                            sent += n;
                            progress |= n > 0;
                        }
                        Err(e) => prop_assert_eq!(e, WSAEWOULDBLOCK, "client send"),
                    }
                }
                if state == C::Sending && sent == payload.len() {
                    prop_assert_eq!(shutdown(c, SD_SEND), 0);
                    state = C::AwaitingClose;
                    progress = true;
                }
                if state == C::AwaitingClose {
                    match recv_some(c, 4096) {
                        Ok(b) if b.is_empty() => {
                            // The server closed: its FIN came after all of our data was read.
                            prop_assert_eq!(closesocket(c), 0);
                            prop_assert_eq!(WSACleanup(), 0);
                            state = C::Done;
                            progress = true;
                        }
                        Ok(b) => prop_assert!(false, "the server sent {} bytes", b.len()),
                        Err(e) => prop_assert_eq!(e, WSAEWOULDBLOCK, "client recv"),
                    }
                }
                Ok(())
            })?;
            if state == C::Done {
                pair.client.exit();
            }
        }
        if !server_done {
            pair.server.run(|| unsafe {
                loop {
                    match recv_some(s, read) {
                        Ok(b) if b.is_empty() => {
                            prop_assert_eq!(shutdown(s, SD_SEND), 0);
                            prop_assert_eq!(closesocket(s), 0);
                            prop_assert_eq!(closesocket(pair.listener), 0);
                            prop_assert_eq!(WSACleanup(), 0);
                            server_done = true;
                            progress = true;
                            break;
                        }
                        Ok(b) => {
                            received.extend_from_slice(&b);
                            progress = true;
                        }
                        Err(e) => {
                            prop_assert_eq!(e, WSAEWOULDBLOCK, "server recv");
                            break;
                        }
                    }
                }
                Ok(())
            })?;
            if server_done {
                pair.server.exit();
            }
        }
        if progress {
            idle = 0;
            sim.advance(ms(step));
        } else {
            idle += 1;
            prop_assert!(
                idle < 3,
                "stuck at {:?}: client sent {sent} of {}, server received {}",
                sim.now(),
                payload.len(),
                received.len()
            );
            sim.run();
        }
    }
    sim.run();
    Ok(received)
}

// ---------------------------------------------------------------------------------------------
// CL-7: the naive sequence

/// The client queues as much of the payload as non-blocking sends take (`attempts` tries, time
/// `step` apart), then closesocket, WSACleanup, optionally lets `linger_ms` pass, and exits.
/// The server has not read anything until then. Returns (bytes accepted by send).
fn naive_client(
    pair: &Pair,
    payload: &[u8],
    attempts: usize,
    step: u64,
    linger_ms: u64,
) -> Result<usize, TestCaseError> {
    let c = pair.c;
    let mut accepted = 0usize;
    for _ in 0..attempts {
        pair.client.run(|| unsafe {
            match send_some(c, &payload[accepted..]) {
                Ok(n) => accepted += n,
                Err(e) => prop_assert_eq!(e, WSAEWOULDBLOCK, "client send"),
            }
            Ok(())
        })?;
        if accepted == payload.len() {
            break;
        }
        pair.sim.advance(ms(step));
    }
    pair.client.run(|| unsafe {
        // CS-2: linger off, closesocket returns at once whatever is queued.
        prop_assert_eq!(closesocket(c), 0);
        prop_assert_eq!(WSACleanup(), 0);
        Ok(())
    })?;
    pair.sim.advance(ms(linger_ms));
    pair.client.exit();
    Ok(accepted)
}

/// The server reads until recv returns 0 or fails with something other than WSAEWOULDBLOCK;
/// returns (bytes, 0 or the error), then closes and exits.
fn drain_server(pair: &Pair, read: usize) -> Result<(Vec<u8>, i32), TestCaseError> {
    let s = pair.s;
    let mut received = Vec::new();
    let mut idle = 0;
    let end = loop {
        let mut progress = false;
        let end = pair.server.run(|| unsafe {
            loop {
                match recv_some(s, read) {
                    Ok(b) if b.is_empty() => return Some(0),
                    Ok(b) => {
                        received.extend_from_slice(&b);
                        progress = true;
                    }
                    Err(WSAEWOULDBLOCK) => return None,
                    Err(e) => return Some(e),
                }
            }
        });
        if let Some(end) = end {
            break end;
        }
        idle = if progress { 0 } else { idle + 1 };
        prop_assert!(
            idle < 3,
            "server stuck after {} bytes at {:?}",
            received.len(),
            pair.sim.now()
        );
        pair.sim.run();
    };
    pair.server.run(|| unsafe {
        prop_assert_eq!(closesocket(s), 0);
        prop_assert_eq!(closesocket(pair.listener), 0);
        prop_assert_eq!(WSACleanup(), 0);
        Ok(())
    })?;
    pair.server.exit();
    pair.sim.run();
    Ok((received, end))
}

// ---------------------------------------------------------------------------------------------
// SD-12: random interleavings on one connection

#[derive(Debug, Clone)]
enum Op {
    Send {
        side: usize,
        len: usize,
    },
    Recv {
        side: usize,
        len: usize,
    },
    Shutdown {
        side: usize,
        how: i32,
    },
    SendDisconnect {
        side: usize,
    },
    /// closesocket, after setting SO_LINGER to `linger` if given.
    Close {
        side: usize,
        linger: Option<(u16, u16)>,
    },
    Advance {
        ms: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let side = 0usize..2;
    let len = prop_oneof![1usize..=64, 1usize..=4096, 1usize..=70_000];
    prop_oneof![
        6 => (side.clone(), prop_oneof![Just(0usize), len.clone()])
            .prop_map(|(side, len)| Op::Send { side, len }),
        6 => (side.clone(), len).prop_map(|(side, len)| Op::Recv { side, len }),
        1 => (side.clone(), prop_oneof![Just(SD_RECEIVE), Just(SD_SEND), Just(SD_BOTH)])
            .prop_map(|(side, how)| Op::Shutdown { side, how }),
        1 => side.clone().prop_map(|side| Op::SendDisconnect { side }),
        1 => (
            side,
            proptest::option::of((0u16..=1, prop_oneof![Just(0u16), 1u16..=3]))
        )
            .prop_map(|(side, linger)| Op::Close { side, linger }),
        4 => (0u64..5).prop_map(|ms| Op::Advance { ms }),
    ]
}

/// The errors a data or shutdown call on a connected (or closed) socket may report.
const DOCUMENTED: &[i32] = &[
    WSAEWOULDBLOCK,
    WSAESHUTDOWN,
    WSAENOTCONN,
    WSAECONNRESET,
    WSAECONNABORTED,
    WSAENOTSOCK,
];

/// What the test knows of one end of the connection.
#[derive(Debug, Default)]
struct End {
    closed: bool,
    /// This end shut down sending (shutdown SD_SEND/SD_BOTH, WSASendDisconnect, closesocket).
    shut_send: bool,
    /// This end shut down receiving (SD_RECEIVE/SD_BOTH).
    shut_recv: bool,
    /// Every byte a send on this end reported as sent, in order.
    sent: Vec<u8>,
    /// Every byte recv returned on this end, in order.
    received: Vec<u8>,
}

struct Conn {
    pair: Pair,
    ends: [End; 2],
    /// SO_LINGER of each end is on with a timeout > 0 (CS-4, CS-5).
    linger_timeout: [bool; 2],
    log: Vec<String>,
}

impl Conn {
    fn proc(&self, side: usize) -> &Process {
        if side == 0 {
            &self.pair.client
        } else {
            &self.pair.server
        }
    }

    fn sock(&self, side: usize) -> SOCKET {
        if side == 0 {
            self.pair.c
        } else {
            self.pair.s
        }
    }

    fn documented(&self, what: &str, side: usize, e: i32) -> Result<(), TestCaseError> {
        prop_assert!(
            DOCUMENTED.contains(&e),
            "{what} on side {side} failed {} (not a documented result); log: {:?}",
            err_name(e),
            self.log
        );
        Ok(())
    }

    /// recv on `side`: checks the bytes against what the peer sent, and a 0 against SD-12.
    /// Returns the outcome.
    fn recv(&mut self, side: usize, len: usize) -> Result<Result<usize, i32>, TestCaseError> {
        let (p, s) = (self.proc(side).clone(), self.sock(side));
        let r = p.run(|| unsafe { recv_some(s, len) });
        let (me, peer) = (&self.ends[side], &self.ends[1 - side]);
        match &r {
            Ok(b) => {
                prop_assert!(!me.closed, "recv on a closed socket returned {}", b.len());
                prop_assert!(
                    !me.shut_recv,
                    "SD-10: recv after SD_RECEIVE returned {} bytes",
                    b.len()
                );
                let at = me.received.len();
                prop_assert!(
                    at + b.len() <= peer.sent.len() && b[..] == peer.sent[at..at + b.len()],
                    "side {side} received bytes {at}..{} that are not the next ones the peer \
                     sent ({} sent); log: {:?}",
                    at + b.len(),
                    peer.sent.len(),
                    self.log
                );
                if b.is_empty() {
                    // SD-12, SD-1: 0 only for a graceful close, once every byte was read.
                    prop_assert!(
                        peer.shut_send && at == peer.sent.len(),
                        "side {side} read 0 after {at} of {} bytes (peer shut down sending: \
                         {}); log: {:?}",
                        peer.sent.len(),
                        peer.shut_send,
                        self.log
                    );
                }
                self.ends[side].received.extend_from_slice(b);
            }
            Err(e) => {
                self.documented("recv", side, *e)?;
                if me.closed {
                    prop_assert_eq!(*e, WSAENOTSOCK, "CS-1: recv on a closed socket");
                } else if me.shut_recv {
                    prop_assert_eq!(*e, WSAESHUTDOWN, "SD-10: recv after SD_RECEIVE");
                }
            }
        }
        Ok(r.map(|b| b.len()))
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.log.push(format!("{op:?}"));
        match *op {
            Op::Send { side, len } => {
                let (p, s) = (self.proc(side).clone(), self.sock(side));
                let data = stream(side, self.ends[side].sent.len(), len);
                let r = p.run(|| unsafe { send_some(s, &data) });
                let me = &self.ends[side];
                match r {
                    Ok(n) => {
                        prop_assert!(!me.closed, "send on a closed socket returned {n}");
                        prop_assert!(!me.shut_send, "SD-1: send after SD_SEND returned {n}");
                        self.ends[side].sent.extend_from_slice(&data[..n]);
                    }
                    Err(e) => {
                        self.documented("send", side, e)?;
                        if me.closed {
                            prop_assert_eq!(e, WSAENOTSOCK, "CS-1: send on a closed socket");
                        } else if me.shut_send {
                            prop_assert_eq!(e, WSAESHUTDOWN, "SD-1: send after SD_SEND");
                        }
                    }
                }
            }
            Op::Recv { side, len } => {
                let _ = self.recv(side, len)?;
            }
            Op::Shutdown { side, how } => {
                let (p, s) = (self.proc(side).clone(), self.sock(side));
                let r = p.run(|| unsafe { (shutdown(s, how), WSAGetLastError()) });
                self.after_shutdown(side, r, how != SD_SEND, how != SD_RECEIVE, "shutdown")?;
            }
            Op::SendDisconnect { side } => {
                let (p, s) = (self.proc(side).clone(), self.sock(side));
                let r = p
                    .run(|| unsafe { (WSASendDisconnect(s, std::ptr::null()), WSAGetLastError()) });
                self.after_shutdown(side, r, false, true, "WSASendDisconnect")?;
            }
            Op::Close { side, linger } => {
                let (p, s) = (self.proc(side).clone(), self.sock(side));
                let closed = self.ends[side].closed;
                let r = p.run(|| unsafe {
                    if let (Some((on, secs)), false) = (linger, closed) {
                        set_linger(s, on, secs);
                    }
                    (closesocket(s), WSAGetLastError())
                });
                self.after_close(side, r, linger)?;
            }
            Op::Advance { ms: n } => self.pair.sim.advance(ms(n)),
        }
        Ok(())
    }

    fn after_shutdown(
        &mut self,
        side: usize,
        (r, e): (i32, i32),
        recv: bool,
        send: bool,
        what: &str,
    ) -> Result<(), TestCaseError> {
        let me = &mut self.ends[side];
        if r == 0 {
            prop_assert!(!me.closed, "{what} on a closed socket succeeded");
            me.shut_recv |= recv;
            me.shut_send |= send;
        } else {
            prop_assert_eq!(r, SOCKET_ERROR);
            if me.closed {
                prop_assert_eq!(e, WSAENOTSOCK, "CS-1: {} on a closed socket", what);
            }
            self.documented(what, side, e)?;
        }
        Ok(())
    }

    fn after_close(
        &mut self,
        side: usize,
        (r, e): (i32, i32),
        linger: Option<(u16, u16)>,
    ) -> Result<(), TestCaseError> {
        if self.ends[side].closed {
            prop_assert_eq!(
                (r, e),
                (SOCKET_ERROR, WSAENOTSOCK),
                "CS-1: closesocket twice"
            );
            return Ok(());
        }
        if let Some((on, secs)) = linger {
            self.linger_timeout[side] = on != 0 && secs > 0;
        }
        if r == 0 {
            let me = &mut self.ends[side];
            me.closed = true;
            me.shut_send = true;
            me.shut_recv = true;
        } else {
            // CS-5: only a lingering close (timeout > 0) of a non-blocking socket with data
            // queued would block; the socket stays valid.
            prop_assert_eq!((r, e), (SOCKET_ERROR, WSAEWOULDBLOCK), "closesocket");
            prop_assert!(
                self.linger_timeout[side],
                "CS-2/CS-3: closesocket failed WSAEWOULDBLOCK without a linger timeout"
            );
        }
        Ok(())
    }

    /// Every open end shuts down sending; each end still receiving reads to the end of the
    /// stream (time passing as needed); then both are closed and the network runs dry.
    /// Returns how each receiving end's last recv ended (0 or the error).
    fn finish(&mut self) -> Result<[Option<i32>; 2], TestCaseError> {
        self.log.push("finish".into());
        for side in 0..2 {
            if !self.ends[side].closed {
                self.step(&Op::Shutdown { side, how: SD_SEND })?;
            }
        }
        let mut ended: [Option<i32>; 2] = [None, None];
        let reading = |e: &End| !e.closed && !e.shut_recv;
        let mut idle = 0;
        while (0..2).any(|side| reading(&self.ends[side]) && ended[side].is_none()) {
            self.pair.sim.run();
            let mut progress = false;
            for (side, end) in ended.iter_mut().enumerate() {
                if !reading(&self.ends[side]) || end.is_some() {
                    continue;
                }
                loop {
                    match self.recv(side, 64 * 1024)? {
                        Ok(0) => *end = Some(0),
                        Ok(_) => {
                            progress = true;
                            continue;
                        }
                        Err(WSAEWOULDBLOCK) => {}
                        Err(e) => *end = Some(e),
                    }
                    break;
                }
            }
            idle = if progress { 0 } else { idle + 1 };
            prop_assert!(
                idle < 3,
                "an end never saw the end of the stream: {:?}; log: {:?}",
                self.ends
                    .each_ref()
                    .map(|e| (e.sent.len(), e.received.len())),
                self.log
            );
        }
        for (side, end) in ended.iter().enumerate() {
            if let Some(e) = *end {
                prop_assert!(
                    [0, WSAECONNRESET, WSAECONNABORTED].contains(&e),
                    "SD-12: side {side}'s stream ended with {}; log: {:?}",
                    err_name(e),
                    self.log
                );
            }
        }
        for side in 0..2 {
            for _ in 0..3 {
                if self.ends[side].closed {
                    break;
                }
                self.step(&Op::Close { side, linger: None })?;
                self.pair.sim.run();
            }
            if !self.ends[side].closed {
                // Still WSAEWOULDBLOCK (CS-5): data the peer never takes. A blocking close
                // waits for the linger timeout in virtual time, resets and returns 0 (CS-4).
                self.log.push(format!("blocking close of side {side}"));
                let (p, s) = (self.proc(side).clone(), self.sock(side));
                let r = p.run(|| unsafe {
                    let mut off = 0u32;
                    prop_assert_eq!(ioctlsocket(s, FIONBIO, &mut off), 0);
                    Ok(closesocket(s))
                })?;
                prop_assert_eq!(
                    r,
                    0,
                    "CS-4: a lingering blocking close returns 0; log: {:?}",
                    self.log
                );
                let me = &mut self.ends[side];
                me.closed = true;
                me.shut_send = true;
                me.shut_recv = true;
            }
        }
        self.pair.sim.run();
        Ok(ended)
    }
}

/// CL-7's byte books and the other invariants of `testing::check_invariants` hold
/// (diagnostics aside).
fn kept_invariants(sim: &Sim) -> Result<(), TestCaseError> {
    if let Err(v) = ws2sim::testing::check_invariants(sim) {
        use ws2sim::Rule::{Cl7, Cl8, Cs1, Ov2};
        let broken: Vec<_> = v
            .iter()
            .filter(|v| matches!(v.rule, Ov2 | Cl7 | Cl8 | Cs1))
            .collect();
        prop_assert!(broken.is_empty(), "{:?}", broken);
    }
    Ok(())
}

/// Runs `ops` on a fresh connection, then [`Conn::finish`].
fn interleave(cfg: &NetCfg, ops: &[Op]) -> Result<Conn, TestCaseError> {
    let mut conn = Conn {
        pair: connect_pair(cfg),
        ends: [End::default(), End::default()],
        linger_timeout: [false; 2],
        log: Vec::new(),
    };
    for op in ops {
        conn.step(op)?;
        kept_invariants(&conn.pair.sim)?;
    }
    conn.finish()?;
    kept_invariants(&conn.pair.sim)?;
    Ok(conn)
}

fn payload_len(max: usize) -> impl Strategy<Value = usize> {
    prop_oneof![Just(0usize), 0usize..=1024, 0..=max]
}

proptest! {
    #![proptest_config(proptest_cases(96))]

    /// CL-7 (seed 000/001): shutdown(SD_SEND), wait for the peer's close (recv 0), closesocket,
    /// WSACleanup, exit never loses a byte, in either profile, whatever the buffers and
    /// latencies.
    #[test]
    fn cl_7_recommended_shutdown_sequence_delivers_everything(
        cfg in net_cfg(profile(), 50),
        len in payload_len(300 * 1024),
        read in prop_oneof![1usize..=4096, 1usize..=128 * 1024],
        step in 0u64..=5,
    ) {
        let payload = stream(0, 0, len);
        let pair = connect_pair(&cfg);
        let received = recommended(&pair, &payload, read, step)?;
        prop_assert_eq!(received.len(), payload.len());
        prop_assert!(received == payload, "the bytes arrived changed or out of order");
        prop_assert_eq!(pair.sim.lost_bytes(), 0);
        let (_, losses) = loss_report(&pair.sim);
        prop_assert!(losses.is_empty(), "DataLoss events: {:?}", losses);
        kept_invariants(&pair.sim)?;
    }

    /// CL-7: send, closesocket, WSACleanup and exit while data is still queued (the server
    /// reads nothing before the exit). Documented: exactly the bytes the server never got are
    /// lost, each recorded as a DataLoss event naming the client's socket, and the server sees
    /// them end with WSAECONNRESET; Windows: the transport delivers every byte, then a graceful
    /// close.
    #[test]
    fn cl_7_naive_sequence_loses_exactly_the_undelivered_bytes(
        cfg in net_cfg(profile(), 50),
        len in 1usize..=300 * 1024,
        attempts in 1usize..=4,
        step in 0u64..=5,
        before_exit in prop_oneof![Just(0u64), 0u64..=100],
        read in prop_oneof![1usize..=4096, 1usize..=128 * 1024],
    ) {
        let payload = stream(0, 0, len);
        let pair = connect_pair(&cfg);
        let accepted = naive_client(&pair, &payload, attempts, step, before_exit)?;
        let (received, end) = drain_server(&pair, read)?;
        prop_assert!(received.len() <= accepted);
        prop_assert!(received[..] == payload[..received.len()], "the bytes arrived changed");
        let lost = pair.sim.lost_bytes();
        let (logged, losses) = loss_report(&pair.sim);
        match cfg.profile {
            Profile::Documented => {
                prop_assert_eq!(lost, (accepted - received.len()) as u64);
                prop_assert_eq!(logged, lost, "DataLoss events: {:?}", losses);
                if lost > 0 {
                    prop_assert_eq!(err_name(end), err_name(WSAECONNRESET));
                    let socket = format!("socket {:#x},", pair.c);
                    prop_assert!(
                        losses.iter().all(|l| l.starts_with(&socket)),
                        "DataLoss events not naming {}: {:?}", socket, losses
                    );
                } else {
                    // Everything arrived: a graceful close, or a reset if the client exited
                    // before the peer acknowledged the last bytes (they still arrived first).
                    prop_assert!(
                        end == 0 || end == WSAECONNRESET,
                        "the stream ended with {}", err_name(end)
                    );
                }
                if accepted > cfg.server_bufs.1 as usize {
                    prop_assert!(lost > 0, "{} bytes accepted, server SO_RCVBUF {}", accepted,
                        cfg.server_bufs.1);
                }
            }
            Profile::Windows => {
                prop_assert_eq!(received.len(), accepted);
                prop_assert_eq!(end, 0, "recv ends with 0 after every byte");
                prop_assert_eq!(lost, 0);
                prop_assert!(losses.is_empty(), "DataLoss events: {:?}", losses);
            }
        }
        kept_invariants(&pair.sim)?;
    }

    /// SD-12, SD-1, SD-10, CS-1..CS-5: random sends, receives, shutdowns, WSASendDisconnects,
    /// closes (random linger) and time on both ends of one connection never panic; each end
    /// receives a prefix of what the other sent, in order, never duplicated; a recv returns 0
    /// only after every byte the peer sent before shutting down sending; every call returns a
    /// documented result; every stream still being read ends with 0 or a reset.
    #[test]
    fn sd_12_random_interleavings_keep_streams_intact(
        cfg in net_cfg(profile(), 5),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        interleave(&cfg, &ops)?;
    }

    /// The accounting identity behind `Sim::lost_bytes` ("data a sender handed to Winsock that
    /// the peer never received"): after the same random interleavings, every byte a send
    /// reported as sent was either returned by a recv or counted as lost (and so recorded as a
    /// DataLoss event, CL-7).
    #[test]
        fn sd_12_bytes_sent_equal_bytes_received_plus_bytes_lost(
        cfg in net_cfg(profile(), 5),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let conn = interleave(&cfg, &ops)?;
        let sent: usize = conn.ends.iter().map(|e| e.sent.len()).sum();
        let received: usize = conn.ends.iter().map(|e| e.received.len()).sum();
        let lost = conn.pair.sim.lost_bytes();
        let (logged, _) = loss_report(&conn.pair.sim);
        prop_assert_eq!(logged, lost, "DataLoss events and lost_bytes disagree");
        prop_assert_eq!(
            sent as u64, received as u64 + lost,
            "sent {:?}, received {:?}, lost {}; log: {:?}",
            conn.ends.each_ref().map(|e| e.sent.len()),
            conn.ends.each_ref().map(|e| e.received.len()),
            lost, conn.log
        );
    }
}
