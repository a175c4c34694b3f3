//! The testing kit's program executor: one [`Op`] of a [`Program`](crate::testing::program::Program)
//! made as application code makes it, through this module's functions on the calling
//! simulated thread, with `WSAGetLastError` read right after the call. It lives in `sys`
//! because it passes raw pointers (and NULLs, for hostile programs), which only `sys` does.
//!
//! The shared tables (slots, handles seen, overlapped operations, outcomes) are locked only
//! between calls, never across one: a call may block, and another simulated thread of the
//! same OS process then needs them.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::*;
use crate::testing::program::{payload_byte, Handle, Op, Outcome};
use crate::testing::Entries;

/// The longest buffer a step may ask for: longer ones are refused, not allocated.
pub(crate) const MAX_LEN: u32 = 1 << 20;

/// An overlapped operation's memory: it stays where it is until the run ends (and for ever
/// when the operation is still pending then, so a late completion never writes freed memory).
pub(crate) struct PendingOp {
    socket: SOCKET,
    recv: bool,
    event: WSAEVENT,
    ov: OVERLAPPED,
    wsabuf: WSABUF,
    buf: Vec<u8>,
}

// SAFETY: the raw pointers point into the operation's own boxed memory, which only
// simulated threads touch, one at a time (the simulation runs one thread at a time).
unsafe impl Send for PendingOp {}

/// What the steps of one run share.
#[derive(Default)]
pub(crate) struct Tables {
    /// Per process: slot → handle.
    pub(crate) slots: Vec<HashMap<u8, SOCKET>>,
    /// Every handle `Socket` and `Accept` returned, in order.
    pub(crate) seen: Vec<SOCKET>,
    /// Per process: operation number → its memory.
    pub(crate) ops: Vec<HashMap<u8, Box<PendingOp>>>,
    /// Operations replaced by a later one of the same number, kept alive. Boxed: the
    /// simulator holds pointers into them, so they must not move when the vector grows.
    #[allow(clippy::vec_box)]
    pub(crate) replaced: Vec<Box<PendingOp>>,
    /// One per step.
    pub(crate) outcomes: Vec<Outcome>,
}

impl Tables {
    /// Keeps the memory of operations still pending alive for ever (see [`PendingOp`]).
    pub(crate) fn release(&mut self) {
        let all = self
            .ops
            .iter_mut()
            .flat_map(|m| m.drain().map(|(_, op)| op))
            .chain(self.replaced.drain(..));
        for op in all {
            if op.ov.Internal == STATUS_PENDING {
                Box::leak(op);
            }
        }
    }
}

/// The `Internal` of an `OVERLAPPED` whose operation has not completed.
const STATUS_PENDING: usize = 0x103;

/// A step's view of the run: which process and step it is, the peers' host addresses, the
/// tables.
pub(crate) struct Exec<'a> {
    pub(crate) process: usize,
    pub(crate) step: usize,
    pub(crate) addrs: &'a [Ipv4Addr],
    pub(crate) tables: &'a Mutex<Tables>,
    /// The entries `Socket` makes TCP and UDP sockets from (`WSASocketW`), if any.
    pub(crate) entries: Option<&'a Entries>,
}

/// What a Winsock call gave back, before the last error is read.
struct Got {
    value: i64,
    data: Vec<u8>,
    out_len: Option<i32>,
}

fn got(value: impl Into<i64>) -> Got {
    Got {
        value: value.into(),
        data: Vec::new(),
        out_len: None,
    }
}

impl Exec<'_> {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn handle(&self, h: Handle) -> SOCKET {
        let t = self.tables();
        match h {
            Handle::Slot(s) => t.slots[self.process]
                .get(&s)
                .copied()
                .unwrap_or(INVALID_SOCKET),
            Handle::Seen(_) if t.seen.is_empty() => 0,
            Handle::Seen(i) => t.seen[usize::from(i) % t.seen.len()],
            Handle::Raw(v) => v as SOCKET,
        }
    }

    fn store(&self, slot: u8, s: SOCKET) {
        let mut t = self.tables();
        t.slots[self.process].insert(slot, s);
        if s != INVALID_SOCKET {
            t.seen.push(s);
        }
    }

    fn payload(&self, len: u32) -> Vec<u8> {
        (0..len as usize)
            .map(|i| payload_byte(self.step, i))
            .collect()
    }

    fn to(&self, process: usize, port: u16) -> SOCKADDR_IN {
        SOCKADDR_IN::from(SocketAddrV4::new(self.addrs[process], port))
    }

    /// Runs a Winsock op and reads the last error after it. Harness ops are not Winsock
    /// calls: the runner makes them.
    pub(crate) fn winsock(&self, op: &Op) -> Outcome {
        if let Some(len) = op_len(op).filter(|&l| l > MAX_LEN) {
            return Outcome::Refused(format!("a length of {len} bytes (at most {MAX_LEN})"));
        }
        // SAFETY: every pointer passed points into memory this function or the tables own
        // for at least as long as the call may use it.
        let g = match unsafe { self.call(op) } {
            Ok(g) => g,
            Err(why) => return Outcome::Refused(why),
        };
        let error = unsafe { WSAGetLastError() };
        Outcome::Returned {
            value: g.value,
            error,
            data: g.data,
            out_len: g.out_len,
        }
    }

    /// One exhaustive dispatch: each op's call in a function of its own.
    unsafe fn call(&self, op: &Op) -> Result<Got, String> {
        Ok(match *op {
            Op::Startup { version } => {
                let mut d: WSADATA = std::mem::zeroed();
                got(WSAStartup(version, &mut d))
            }
            Op::Cleanup {} => got(WSACleanup()),
            Op::Socket {
                slot,
                af,
                ty,
                protocol,
            } => self.socket(slot, af, ty, protocol),
            Op::Close { socket } => got(closesocket(self.handle(socket))),
            Op::Bind { socket, port } => {
                let a = SOCKADDR_IN::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port));
                got(bind(self.handle(socket), name(&a), 16))
            }
            Op::Listen { socket, backlog } => got(listen(self.handle(socket), backlog)),
            Op::Connect { socket, to, port } => {
                got(connect(self.handle(socket), name(&self.to(to, port)), 16))
            }
            Op::Accept { socket, slot } => self.accept(socket, slot),
            Op::Send { socket, len } => {
                let data = self.payload(len);
                got(send(self.handle(socket), data.as_ptr(), len as i32, 0))
            }
            Op::Recv { socket, len } => self.recv(socket, len),
            Op::SendTo {
                socket,
                to,
                port,
                len,
            } => self.send_to(socket, to, port, len),
            Op::Shutdown { socket, how } => got(shutdown(self.handle(socket), how)),
            Op::SendDisconnect { socket, len } => self.send_disconnect(socket, len),
            Op::RecvDisconnect { socket, len } => self.recv_disconnect(socket, len),
            Op::SetLinger {
                socket,
                onoff,
                seconds,
            } => self.set_linger(socket, onoff, seconds),
            Op::SetNonBlocking { socket, on } => {
                let mut arg = u32::from(on);
                got(ioctlsocket(self.handle(socket), FIONBIO, &mut arg))
            }
            Op::SetOption {
                socket,
                level,
                name,
                ref value,
                len,
                null,
            } => self.set_option(socket, (level, name), value, len, null),
            Op::GetOption {
                socket,
                level,
                name,
                len,
                null,
            } => self.get_option(socket, (level, name), len, null),
            Op::RecvOverlapped { socket, id, len } => self.start(socket, id, len, true),
            Op::SendOverlapped { socket, id, len } => self.start(socket, id, len, false),
            Op::WaitOverlapped { id, timeout_ms } => return self.wait(id, timeout_ms),
            Op::Sleep { ms } => {
                sleep(ms);
                got(0)
            }
            Op::Exit { .. } | Op::Kill { .. } | Op::NetworkDown { .. } => {
                return Err("a harness action, which the runner makes".into())
            }
        })
    }

    /// `socket`, or `WSASocketW` from the run's TCP or UDP entry when the arguments name
    /// that protocol.
    unsafe fn socket(&self, slot: u8, af: i32, ty: i32, protocol: i32) -> Got {
        let entry = self.entries.and_then(|e| {
            let inet = af == i32::from(AF_INET);
            match (ty, protocol) {
                (SOCK_STREAM, 0 | IPPROTO_TCP) if inet => e.tcp.as_ref(),
                (SOCK_DGRAM, 0 | IPPROTO_UDP) if inet => e.udp.as_ref(),
                _ => None,
            }
        });
        let s = match entry {
            Some(info) => {
                let raw = WSAPROTOCOL_INFOW::from(info);
                WSASocketW(af, ty, protocol, &raw, 0, WSA_FLAG_OVERLAPPED)
            }
            None => socket(af, ty, protocol),
        };
        self.store(slot, s);
        got(s as i64)
    }

    unsafe fn accept(&self, socket: Handle, slot: u8) -> Got {
        let mut a: SOCKADDR_IN = std::mem::zeroed();
        let mut len = 16;
        let s = accept(
            self.handle(socket),
            (&mut a as *mut SOCKADDR_IN).cast(),
            &mut len,
        );
        self.store(slot, s);
        got(s as i64)
    }

    unsafe fn recv(&self, socket: Handle, len: u32) -> Got {
        let mut buf = vec![0u8; len as usize];
        let n = recv(self.handle(socket), buf.as_mut_ptr(), len as i32, 0);
        buf.truncate(usize::try_from(n).unwrap_or(0));
        Got {
            data: buf,
            ..got(n)
        }
    }

    unsafe fn send_to(&self, socket: Handle, to: usize, port: u16, len: u32) -> Got {
        let data = self.payload(len);
        let a = self.to(to, port);
        let s = self.handle(socket);
        got(sendto(s, data.as_ptr(), len as i32, 0, name(&a), 16))
    }

    unsafe fn send_disconnect(&self, socket: Handle, len: u32) -> Got {
        let mut data = self.payload(len);
        let b = WSABUF {
            len,
            buf: data.as_mut_ptr(),
        };
        let p: *const WSABUF = if len == 0 { std::ptr::null() } else { &b };
        got(WSASendDisconnect(self.handle(socket), p))
    }

    unsafe fn recv_disconnect(&self, socket: Handle, len: u32) -> Got {
        let mut buf = vec![0u8; len as usize];
        let mut b = WSABUF {
            len,
            buf: buf.as_mut_ptr(),
        };
        // The call writes `len` back through its pointer: made from a mutable borrow.
        let p: *const WSABUF = if len == 0 {
            std::ptr::null()
        } else {
            (&mut b as *mut WSABUF).cast_const()
        };
        let r = WSARecvDisconnect(self.handle(socket), p);
        let after = std::ptr::read_volatile(&b.len);
        buf.truncate(if r == 0 { after.min(len) as usize } else { 0 });
        Got {
            value: r.into(),
            data: buf,
            out_len: (len > 0).then_some(after as i32),
        }
    }

    unsafe fn set_linger(&self, socket: Handle, onoff: u16, seconds: u16) -> Got {
        let mut v = [0u8; 4];
        v[..2].copy_from_slice(&onoff.to_ne_bytes());
        v[2..].copy_from_slice(&seconds.to_ne_bytes());
        got(setsockopt(
            self.handle(socket),
            SOL_SOCKET,
            SO_LINGER,
            v.as_ptr(),
            4,
        ))
    }

    unsafe fn set_option(
        &self,
        socket: Handle,
        (level, opt): (i32, i32),
        value: &[u8],
        len: i32,
        null: bool,
    ) -> Got {
        let size = usize::try_from(len).unwrap_or(0);
        let mut buf = value.to_vec();
        buf.resize(buf.len().max(size), 0);
        let p = if null { std::ptr::null() } else { buf.as_ptr() };
        got(setsockopt(self.handle(socket), level, opt, p, len))
    }

    unsafe fn get_option(
        &self,
        socket: Handle,
        (level, opt): (i32, i32),
        len: Option<i32>,
        null: bool,
    ) -> Got {
        let size = len
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(0)
            .max(16);
        let mut buf = vec![0xa5u8; size];
        let mut optlen = len.unwrap_or(0);
        let v = if null {
            std::ptr::null_mut()
        } else {
            buf.as_mut_ptr()
        };
        let lp: *mut i32 = if len.is_some() {
            &mut optlen
        } else {
            std::ptr::null_mut()
        };
        let r = getsockopt(self.handle(socket), level, opt, v, lp);
        Got {
            value: r.into(),
            data: buf,
            out_len: len.map(|_| optlen),
        }
    }

    /// An overlapped `WSARecv` or `WSASend` with an event, its memory kept as operation `n`.
    unsafe fn start(&self, socket: Handle, n: u8, len: u32, recv: bool) -> Got {
        let s = self.handle(socket);
        let mut op = Box::new(PendingOp {
            socket: s,
            recv,
            event: WSACreateEvent(),
            ov: OVERLAPPED::default(),
            wsabuf: WSABUF {
                len,
                buf: std::ptr::null_mut(),
            },
            buf: if recv {
                vec![0u8; len as usize]
            } else {
                self.payload(len)
            },
        });
        op.ov.hEvent = op.event as HANDLE;
        op.wsabuf.buf = op.buf.as_mut_ptr();
        let (ov, wsabuf): (*mut OVERLAPPED, *const WSABUF) = (&mut op.ov, &op.wsabuf);
        {
            // Kept before the call: the call may complete into it at once or later.
            let mut t = self.tables();
            if let Some(old) = t.ops[self.process].insert(n, op) {
                t.replaced.push(old);
            }
        }
        let mut done = 0u32;
        let r = if recv {
            let mut flags = 0u32;
            WSARecv(s, wsabuf, 1, &mut done, &mut flags, ov, None)
        } else {
            WSASend(s, wsabuf, 1, &mut done, 0, ov, None)
        };
        got(r)
    }

    /// `WSAWaitForMultipleEvents` on operation `n`'s event, then `WSAGetOverlappedResult`.
    unsafe fn wait(&self, n: u8, timeout_ms: u32) -> Result<Got, String> {
        let (s, recv, event, ov, buf) = {
            let t = self.tables();
            let op = t.ops[self.process]
                .get(&n)
                .ok_or_else(|| format!("no overlapped operation {n} in this process"))?;
            (
                op.socket,
                op.recv,
                op.event,
                &op.ov as *const OVERLAPPED,
                op.buf.as_ptr(),
            )
        };
        let ev = event as HANDLE;
        let w = WSAWaitForMultipleEvents(1, &ev, TRUE, timeout_ms, FALSE);
        if w == WSA_WAIT_TIMEOUT || w == WSA_WAIT_FAILED {
            return Ok(got(i64::from(w as i32)));
        }
        let (mut done, mut flags) = (0u32, 0u32);
        if WSAGetOverlappedResult(s, ov, &mut done, FALSE, &mut flags) == FALSE {
            return Ok(got(-1));
        }
        let data = if recv {
            std::slice::from_raw_parts(buf, done as usize).to_vec()
        } else {
            Vec::new()
        };
        Ok(Got { data, ..got(done) })
    }
}

fn name(a: &SOCKADDR_IN) -> *const SOCKADDR {
    (a as *const SOCKADDR_IN).cast()
}

/// The length an op asks the runner to allocate, if any.
fn op_len(op: &Op) -> Option<u32> {
    match *op {
        Op::Send { len, .. }
        | Op::Recv { len, .. }
        | Op::SendTo { len, .. }
        | Op::SendDisconnect { len, .. }
        | Op::RecvDisconnect { len, .. }
        | Op::RecvOverlapped { len, .. }
        | Op::SendOverlapped { len, .. } => Some(len),
        Op::SetOption { len, ref value, .. } => {
            Some(u32::try_from(len).unwrap_or(0).max(value.len() as u32))
        }
        Op::GetOption { len, .. } => len.map(|l| u32::try_from(l).unwrap_or(0)),
        Op::Startup { .. }
        | Op::Cleanup {}
        | Op::Socket { .. }
        | Op::Close { .. }
        | Op::Bind { .. }
        | Op::Listen { .. }
        | Op::Connect { .. }
        | Op::Accept { .. }
        | Op::Shutdown { .. }
        | Op::SetLinger { .. }
        | Op::SetNonBlocking { .. }
        | Op::WaitOverlapped { .. }
        | Op::Sleep { .. }
        | Op::Exit { .. }
        | Op::Kill { .. }
        | Op::NetworkDown { .. } => None,
    }
}

pub(crate) fn sleep(ms: u32) {
    crate::thread::sleep(Duration::from_millis(u64::from(ms)));
}
