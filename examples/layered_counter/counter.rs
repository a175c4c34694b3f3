//! `Counter`: a layered service provider over TCP that counts the bytes sent and received
//! through it and buffers small sends in the process, handing them to TCP once `threshold`
//! bytes wait (or before a receive, a shutdown, a close, and its final `WSPCleanup`).
//!
//! Because it keeps data in the process, it declares `DataLocation::Process` (SP-7) and must
//! flush before its final `WSPCleanup` returns (SP-6). [`Flaw`] turns it into one of two
//! deliberately non-conformant providers, which Ws2_32's checks catch.
#![allow(dead_code)] // Each user (the example, the tests) uses part of it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use ws2sim::consts::FIONBIO;
use ws2sim::spi::{
    DataLocation, Negotiated, Provider, ProviderInfo, Spi, Stop, WsaBufIn, TCP_ENTRY,
};
use ws2sim::{Guid, Socket, Version, WsaError};

/// The counter's provider id.
pub const COUNTER_ID: Guid = Guid::new(0xC0C0_0001, 0x5753, 0x5349, *b"COUNTER!");

/// The counter's catalog entry name.
pub const COUNTER_PROTOCOL: &str = "Counter over TCP";

/// What the counter saw, over every process using it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Bytes the application sent.
    pub sent: u64,
    /// Bytes handed to TCP.
    pub flushed: u64,
    /// Bytes the application received.
    pub received: u64,
    /// Successful `WSPStartup`s.
    pub startups: u64,
    /// `WSPCleanup`s that brought the count to 0.
    pub final_cleanups: u64,
}

/// A deliberate contract violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    /// None: a conformant provider.
    None,
    /// Its final `WSPCleanup` returns without flushing the data it holds (violates SP-6).
    ReturnsBeforeFlush,
    /// It refuses `WSPStartup` once it has been cleaned up (violates SP-9).
    NoRestart,
}

/// The provider. Each process gets its own clone; the counts are shared by all clones.
#[derive(Debug, Clone)]
pub struct Counter {
    threshold: usize,
    flaw: Flaw,
    clients: u32,
    cleaned: bool,
    pending: BTreeMap<Socket, Vec<u8>>,
    /// Bytes of `pending` a blocking send below already queued in the transport while it
    /// waits for room (ws2sim's TCP queues everything before it waits): no longer at risk.
    handed: BTreeMap<Socket, usize>,
    nonblocking: BTreeSet<Socket>,
    counts: Arc<Mutex<Counts>>,
}

impl Counter {
    /// A counter that holds up to `threshold` bytes per socket before passing them on.
    pub fn new(threshold: usize) -> Counter {
        Counter {
            threshold,
            flaw: Flaw::None,
            clients: 0,
            cleaned: false,
            pending: BTreeMap::new(),
            handed: BTreeMap::new(),
            nonblocking: BTreeSet::new(),
            counts: Arc::default(),
        }
    }

    /// The same counter with a contract violation.
    pub fn with_flaw(mut self, flaw: Flaw) -> Counter {
        self.flaw = flaw;
        self
    }

    /// The shared counts, to read after (or during) a simulation.
    pub fn counts(&self) -> Arc<Mutex<Counts>> {
        self.counts.clone()
    }

    fn count(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.counts.lock().unwrap());
    }

    /// Hands socket `s`'s held bytes to TCP. A blocking send below may wait: the bytes are
    /// then in the transport already (`handed`), and the call is made again later. On a socket
    /// that turned out non-blocking (WSAEventSelect), what TCP cannot take now stays held.
    fn flush(&mut self, spi: &mut Spi<'_>, s: Socket) -> Result<(), Stop> {
        while let Some(buf) = self.pending.get_mut(&s).filter(|b| !b.is_empty()) {
            let len = buf.len().min(i32::MAX as usize) as i32;
            match spi.lower().send(s, Some(buf), len, 0) {
                Ok(n) => {
                    buf.drain(..n);
                    self.handed.remove(&s);
                    self.count(|c| c.flushed += n as u64);
                }
                Err(Stop::Fail(WsaError::WouldBlock)) => return Ok(()),
                Err(Stop::Fail(e)) => {
                    // The connection cannot take it any more: the error is the caller's.
                    self.pending.remove(&s);
                    self.handed.remove(&s);
                    return Err(e.into());
                }
                Err(block) => {
                    self.handed.insert(s, len as usize);
                    return Err(block);
                }
            }
        }
        self.pending.remove(&s);
        Ok(())
    }

    /// True while bytes of `s` are held and not yet in the transport.
    fn holds(&self, s: Socket) -> bool {
        let held = self.pending.get(&s).map_or(0, Vec::len);
        held > self.handed.get(&s).copied().unwrap_or(0)
    }
}

impl Provider for Counter {
    fn info(&self) -> ProviderInfo {
        let mut info =
            ProviderInfo::layered(COUNTER_ID, "Counter", &[(TCP_ENTRY, COUNTER_PROTOCOL)]);
        info.data = DataLocation::Process; // SP-7: its send buffer is process memory.
        info
    }

    fn startup(&mut self, _: &mut Spi<'_>, requested: Version) -> Result<Negotiated, WsaError> {
        if self.flaw == Flaw::NoRestart && self.cleaned {
            return Err(WsaError::SystemNotReady);
        }
        let n = self.info().negotiate(requested)?; // SP-10
        self.clients += 1;
        self.count(|c| c.startups += 1);
        Ok(n)
    }

    fn cleanup(&mut self, spi: &mut Spi<'_>) -> Result<(), Stop> {
        if self.clients == 0 {
            return Err(WsaError::NotInitialised.into()); // SP-3
        }
        if self.clients == 1 && self.flaw != Flaw::ReturnsBeforeFlush {
            // SP-6: nothing may stay in the process. Flushing may wait; the call is then made
            // again, and the count is only taken when it returns.
            let sockets: Vec<Socket> = self.pending.keys().copied().collect();
            for s in sockets {
                match self.flush(spi, s) {
                    Err(Stop::Fail(_)) | Ok(()) => {}
                    Err(block) => return Err(block),
                }
            }
        }
        self.clients -= 1; // SP-2
        if self.clients == 0 {
            self.cleaned = true;
            self.nonblocking.clear();
            self.count(|c| c.final_cleanups += 1);
        }
        Ok(())
    }

    fn unsent_bytes(&self) -> usize {
        let held: usize = self.pending.values().map(Vec::len).sum();
        held - self.handed.values().sum::<usize>()
    }

    fn close_socket(&mut self, spi: &mut Spi<'_>, s: Socket) -> Result<(), Stop> {
        match self.flush(spi, s) {
            // Queued in the transport: the close goes on at once (CS-2) and TCP sends it.
            Err(Stop::Block(_)) => {}
            // The connection is gone (reset): the held bytes cannot be sent; close anyway.
            Err(Stop::Fail(_)) | Ok(()) => {}
        }
        if self.holds(s) {
            // Non-blocking and TCP is full: closing now would lose the bytes.
            return Err(WsaError::WouldBlock.into());
        }
        self.pending.remove(&s);
        self.handed.remove(&s);
        spi.lower().close_socket(s)?;
        self.nonblocking.remove(&s);
        Ok(())
    }

    fn ioctl(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        cmd: i32,
        arg: Option<&mut u32>,
    ) -> Result<(), Stop> {
        let on = arg.as_deref().map(|a| *a != 0);
        spi.lower().ioctl(s, cmd, arg)?;
        if let (FIONBIO, Some(on)) = (cmd, on) {
            // A non-blocking socket is not buffered: a send must say at once what it took.
            if on {
                self.flush(spi, s)?;
                self.nonblocking.insert(s);
            } else {
                self.nonblocking.remove(&s);
            }
        }
        Ok(())
    }

    fn send(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&[u8]>,
        len: i32,
        flags: i32,
    ) -> Result<usize, Stop> {
        if self.nonblocking.contains(&s) || flags != 0 {
            // Not buffered; held bytes go first (XP1_GUARANTEED_ORDER).
            self.flush(spi, s)?;
            if self.holds(s) {
                return Err(WsaError::WouldBlock.into());
            }
            let n = spi.lower().send(s, buf, len, flags)?;
            self.count(|c| {
                c.sent += n as u64;
                c.flushed += n as u64;
            });
            return Ok(n);
        }
        if !spi.resumed() {
            let n = usize::try_from(len).map_err(|_| WsaError::Fault)?;
            let data = match buf {
                Some(b) => &b[..n],
                None if n == 0 => &[][..],
                None => return Err(WsaError::Fault.into()),
            };
            let held = self.pending.entry(s).or_default();
            let before = held.len();
            held.extend_from_slice(data);
            // The socket's state, as TCP checks it (a 0-byte send below). If that must wait,
            // the bytes are already held, and the call made again does not add them twice.
            match spi.lower().send(s, Some(&[]), 0, 0) {
                Ok(_) | Err(Stop::Block(_)) => {}
                Err(Stop::Fail(e)) => {
                    if let Some(held) = self.pending.get_mut(&s) {
                        held.truncate(before);
                    }
                    return Err(e.into());
                }
            }
            self.count(|c| c.sent += n as u64);
        }
        if self.pending.get(&s).map_or(0, Vec::len) >= self.threshold {
            self.flush(spi, s)?;
        }
        Ok(usize::try_from(len).unwrap_or(0))
    }

    fn recv(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        buf: Option<&mut [u8]>,
        len: i32,
        flags: i32,
    ) -> Result<usize, Stop> {
        // A request must leave before its answer is awaited.
        self.flush(spi, s)?;
        let n = spi.lower().recv(s, buf, len, flags)?;
        self.count(|c| c.received += n as u64);
        Ok(n)
    }

    fn shutdown(&mut self, spi: &mut Spi<'_>, s: Socket, how: i32) -> Result<(), Stop> {
        self.flush(spi, s)?;
        spi.lower().shutdown(s, how)
    }

    fn send_disconnect(
        &mut self,
        spi: &mut Spi<'_>,
        s: Socket,
        data: Option<WsaBufIn<'_>>,
    ) -> Result<(), Stop> {
        self.flush(spi, s)?;
        spi.lower().send_disconnect(s, data)
    }
}
