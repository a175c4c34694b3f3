use super::types::*;
use super::{bytes_in, count, read_opt, with_addr_out, write_opt, wsabufs};
use crate::consts::*;
use crate::core::call::{DataCall, IoCall, Record};
use crate::core::events::EventHandle;
use std::net::SocketAddrV4;

use crate::core::overlapped::{Memory, OpKind, OpRequest, Payload, PortHandle, Routine, Sink};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// `INVALID_HANDLE_VALUE`.
pub const INVALID_HANDLE_VALUE: HANDLE = -1isize as HANDLE;

/// The caller's memory an overlapped operation writes on completion (addresses as integers:
/// the core carries this without looking inside).
struct OpMemory {
    overlapped: usize,
    bufs: Vec<(usize, usize)>,
    from: usize,
    fromlen: usize,
    /// `WSARecvMsg`'s `WSAMSG` (0: another function), for its control data and flags.
    msg: usize,
}

impl Sink for OpMemory {
    /// `STATUS_PENDING` into `Internal`, 0 into `InternalHigh`.
    fn pending(&self) {
        let ov = self.overlapped as *mut OVERLAPPED;
        if !ov.is_null() {
            // SAFETY: the caller of WSASend/WSARecv passed this OVERLAPPED, valid until the
            // operation completes; the operation has just started.
            unsafe {
                (*ov).Internal = crate::core::overlapped::status::PENDING;
                (*ov).InternalHigh = 0;
            }
        }
    }

    /// An overlapped `WSARecvMsg`'s control data into `Control.buf`, its length into
    /// `Control.len`, the flags into `dwFlags`.
    fn write_message(&self, control: &[u8], flags: u32) {
        let m = self.msg as *mut super::WSAMSG;
        if m.is_null() {
            return;
        }
        // SAFETY: the caller of WSARecvMsg promised that the WSAMSG and its buffers stay
        // valid until the operation completes; the core wrote no more than `Control.len`.
        unsafe {
            if !control.is_empty() {
                std::ptr::copy_nonoverlapping(control.as_ptr(), (*m).Control.buf, control.len());
            }
            (*m).Control.len = control.len() as u32;
            (*m).dwFlags = flags;
        }
    }

    /// Applies a completed overlapped operation to the caller's memory: the data into the
    /// buffers, the sender's address, and the status into `Internal`/`InternalHigh`.
    fn write(&self, result: Result<u32, WsaError>, data: &[u8], from: Option<SocketAddrV4>) {
        // SAFETY: the caller of WSASend/WSARecv promised that the OVERLAPPED and the buffers
        // stay valid until the operation completes (the Winsock contract); this is that
        // completion.
        unsafe {
            let mut rest = data;
            for &(ptr, len) in &self.bufs {
                let n = len.min(rest.len());
                if n > 0 {
                    std::ptr::copy_nonoverlapping(rest.as_ptr(), ptr as *mut u8, n);
                }
                rest = &rest[n..];
            }
            if let (Some(from), false, false) = (from, self.from == 0, self.fromlen == 0) {
                let len = (self.fromlen as *mut i32).read_unaligned();
                if len >= 16 {
                    let bytes = crate::core::providers::sockaddr::encode(from);
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.from as *mut u8, 16);
                    (self.fromlen as *mut i32).write_unaligned(16);
                }
            }
            let ov = self.overlapped as *mut OVERLAPPED;
            if !ov.is_null() {
                (*ov).Internal = crate::core::overlapped::ntstatus(result);
                (*ov).InternalHigh = result.unwrap_or(0) as usize;
            }
        }
    }
}

/// A completion routine as the core keeps it ([OV-4]): calls `f` with its `OVERLAPPED`.
///
/// [OV-4]: crate::rules#ov-4
fn routine(
    f: unsafe extern "system" fn(u32, u32, *mut OVERLAPPED, u32),
    overlapped: *mut OVERLAPPED,
) -> Routine {
    let overlapped = overlapped as usize;
    Routine(std::sync::Arc::new(move |error, bytes, flags| {
        // SAFETY: `f` is the non-NULL LPWSAOVERLAPPED_COMPLETION_ROUTINE the caller passed
        // and `overlapped` the OVERLAPPED it passed with it, valid until the routine ran.
        unsafe { f(error, bytes, overlapped as *mut OVERLAPPED, flags) }
    }))
}

/// The operation of an overlapped call that writes no buffers when it completes ([EX-1]:
/// `WSAIoctl`): only the status into `*overlapped`, `hEvent` and `routine` as passed.
///
/// # Safety
/// `overlapped` is a valid `OVERLAPPED` that stays valid until the operation completed.
///
/// [EX-1]: crate::rules#ex-1
pub(super) unsafe fn status_only(
    kind: OpKind,
    overlapped: *mut OVERLAPPED,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> OpRequest {
    let event = (*overlapped).hEvent as isize;
    OpRequest {
        kind,
        key: overlapped as usize,
        event: (event != 0).then(|| EventHandle::from_raw(event)),
        routine: routine.map(|f| self::routine(f, overlapped)),
        memory: Memory(Box::new(OpMemory {
            overlapped: overlapped as usize,
            bufs: Vec::new(),
            from: 0,
            fromlen: 0,
            msg: 0,
        })),
    }
}

/// An operation that fills one buffer of `len` bytes at `buf` on completion (`AcceptEx`;
/// `DisconnectEx` with none).
///
/// # Safety
/// `overlapped` is NULL or valid; `buf` holds `len` bytes until the operation completes.
pub(super) unsafe fn into_buffer(
    kind: OpKind,
    overlapped: *mut OVERLAPPED,
    buf: usize,
    len: usize,
) -> OpRequest {
    let event = if overlapped.is_null() {
        0
    } else {
        (*overlapped).hEvent as isize
    };
    OpRequest {
        kind,
        key: overlapped as usize,
        event: (event != 0).then(|| EventHandle::from_raw(event)),
        routine: None,
        memory: Memory(Box::new(OpMemory {
            overlapped: overlapped as usize,
            bufs: if buf == 0 || len == 0 {
                Vec::new()
            } else {
                vec![(buf, len)]
            },
            from: 0,
            fromlen: 0,
            msg: 0,
        })),
    }
}

/// What an overlapped send carries besides its buffers: `WSASendTo`'s `lpTo` as passed
/// (`None` for `WSASend`, or NULL) and `dwFlags`.
struct Target<'a> {
    to: Option<&'a [u8]>,
    flags: u32,
}

/// The overlapped path shared by the four functions (`send`: `None` for the receives).
#[allow(clippy::too_many_arguments)]
unsafe fn start_overlapped(
    name: &'static str,
    s: SOCKET,
    bufs: Option<Vec<(usize, usize)>>,
    send: Option<Target<'_>>,
    overlapped: *mut OVERLAPPED,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
    from: (usize, usize),
    bytes_out: *mut u32,
    flags_out: *mut u32,
    msg: *mut super::WSAMSG,
) -> i32 {
    let fault = bufs.is_none();
    let bufs = bufs.unwrap_or_default();
    let kind = match &send {
        Some(_) => {
            let len = bufs.iter().map(|b| b.1).sum();
            let parts = bufs.clone();
            // Read only once the core accepted the operation (OP-7: a datagram too large
            // fails before any byte is copied); the buffers are the caller's until it
            // completes (WSASend's contract).
            let read = move || {
                let mut data = Vec::with_capacity(len);
                for &(p, n) in &parts {
                    // SAFETY: `wsabufs` checked each buffer is the caller's readable memory.
                    data.extend_from_slice(unsafe {
                        std::slice::from_raw_parts(p as *const u8, n)
                    });
                }
                data
            };
            // The core decodes the destination (`IoCall::Overlapped::to`).
            OpKind::Send {
                data: Payload::later(len, Box::new(read)),
                to: None,
            }
        }
        None => OpKind::Recv {
            capacity: bufs.iter().map(|b| b.1).sum(),
            control: msg.as_ref().map(|m| {
                if m.Control.buf.is_null() {
                    0
                } else {
                    m.Control.len as usize
                }
            }),
        },
    };
    let msg = msg as usize;
    let event = (*overlapped).hEvent as isize;
    let req = OpRequest {
        kind,
        key: overlapped as usize,
        event: (event != 0).then(|| EventHandle::from_raw(event)),
        routine: routine.map(|f| self::routine(f, overlapped)),
        memory: Memory(Box::new(OpMemory {
            overlapped: overlapped as usize,
            bufs: if send.is_some() { Vec::new() } else { bufs },
            from: from.0,
            fromlen: from.1,
            msg,
        })),
    };
    let r = call(IoCall::Overlapped {
        s: Socket::from_raw(s),
        req: Some(req),
        fault,
        to: send.as_ref().and_then(|t| t.to),
        flags: send.as_ref().map_or(0, |t| t.flags as i32),
        name,
    });
    match r {
        Ok(Reply::Count(n)) => {
            write_opt(bytes_out, Some(n));
            write_opt(flags_out, Some(0));
            0
        }
        _ => SOCKET_ERROR,
    }
}

/// The non-overlapped path: a plain send over the gathered buffers.
unsafe fn send_gathered(
    s: SOCKET,
    bufs: Option<Vec<(usize, usize)>>,
    flags: u32,
    to: Option<&[u8]>,
    sent: *mut u32,
) -> i32 {
    let Some(bufs) = bufs else {
        let s = Socket::from_raw(s);
        return count(call(DataCall::send_unreadable(s, flags as i32, to)));
    };
    // OP-7: one buffer goes to the core as it is, so a huge datagram is refused before any
    // byte is copied; several are gathered.
    let gathered;
    let data: &[u8] = match bufs.as_slice() {
        [(p, n)] => std::slice::from_raw_parts(*p as *const u8, *n),
        _ => {
            let mut all = Vec::new();
            for &(p, n) in &bufs {
                all.extend_from_slice(std::slice::from_raw_parts(p as *const u8, n));
            }
            gathered = all;
            &gathered
        }
    };
    let r = count(call(DataCall::Send {
        s: Socket::from_raw(s),
        buf: Some(data),
        len: i32::try_from(data.len()).unwrap_or(i32::MAX),
        flags: flags as i32,
        to: to.map(Some),
    }));
    if r >= 0 {
        write_opt(sent, Some(r as u32));
        0
    } else {
        r
    }
}

/// An overlapped `WSARecvMsg` ([EX-5]): `WSARecvFrom` into the message's buffers and address,
/// and at completion its control data and flags into the `WSAMSG`.
///
/// # Safety
/// `m` is a valid `WSAMSG` whose buffers, like the `OVERLAPPED`, stay valid until completion.
///
/// [EX-5]: crate::rules#ex-5
pub(super) unsafe fn recv_msg_overlapped(
    s: SOCKET,
    m: *mut super::WSAMSG,
    recvd: *mut u32,
    overlapped: *mut OVERLAPPED,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let namelen: *mut i32 = if (*m).name.is_null() {
        std::ptr::null_mut()
    } else {
        &mut (*m).namelen
    };
    let from = ((*m).name as usize, namelen as usize);
    start_overlapped(
        "WSARecvMsg",
        s,
        wsabufs((*m).lpBuffers, (*m).dwBufferCount),
        None,
        overlapped,
        routine,
        from,
        recvd,
        &mut (*m).dwFlags,
        m,
    )
}

/// Copies `data` into the buffers `bufs` (address, length), in order.
///
/// # Safety
/// Each buffer holds its length in bytes.
pub(super) unsafe fn scatter(data: &[u8], bufs: &[(usize, usize)]) {
    let mut rest = data;
    for &(p, n) in bufs {
        let k = n.min(rest.len());
        std::ptr::copy_nonoverlapping(rest.as_ptr(), p as *mut u8, k);
        rest = &rest[k..];
    }
}

/// The non-overlapped path: a plain recv scattered into the buffers.
unsafe fn recv_scattered(
    s: SOCKET,
    bufs: Option<Vec<(usize, usize)>>,
    flags: *mut u32,
    from: Option<(*mut SOCKADDR, *mut i32)>,
    recvd: *mut u32,
) -> i32 {
    let f = read_opt(flags).unwrap_or(0) as i32;
    let Some(bufs) = bufs else {
        return count(call(DataCall::recv_unreadable(Socket::from_raw(s), f)));
    };
    let mut tmp = vec![0u8; bufs.iter().map(|b| b.1).sum()];
    let len = i32::try_from(tmp.len()).unwrap_or(i32::MAX);
    let r = match from {
        None => count(call(DataCall::Recv {
            s: Socket::from_raw(s),
            buf: Some(&mut tmp),
            len,
            flags: f,
            from: None,
            msg: None,
        })),
        Some((name, namelen)) => count(with_addr_out(name, namelen, |a, l| {
            call(DataCall::Recv {
                s: Socket::from_raw(s),
                buf: Some(&mut tmp),
                len,
                flags: f,
                from: Some((a, l)),
                msg: None,
            })
        })),
    };
    if r < 0 {
        return r;
    }
    // SP-12: Ws2_32 checked the count against `tmp`; slicing never goes past it.
    scatter(&tmp[..(r as usize).min(tmp.len())], &bufs);
    write_opt(recvd, Some(r as u32));
    write_opt(flags, Some(0));
    0
}

/// `WSASend`: with an `OVERLAPPED` on an overlapped socket, returns 0 when the send completed
/// at once or `SOCKET_ERROR`/`WSA_IO_PENDING`; completion sets `hEvent` ([OV-3]), or queues the
/// completion routine to this thread for its next alertable wait ([OV-4]), and posts to the
/// socket's completion port ([OV-6]). Without one, it is a blocking `send`.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let to = SOCKADDR_IN::from("127.0.0.1:9".parse::<std::net::SocketAddrV4>().unwrap());
///     let mut data = *b"ping";
///     let buf = WSABUF { len: 4, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     ov.hEvent = WSACreateEvent() as HANDLE;
///     let mut sent = 0;
///     let r = WSASendTo(s, &buf, 1, &mut sent, 0, (&to as *const SOCKADDR_IN).cast(), 16, &mut ov, None);
///     assert_eq!((r, sent), (0, 4)); // completed at once ...
///     assert_eq!(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 0, FALSE), WSA_WAIT_EVENT_0 as u32); // ... and signalled
///     WSACleanup();
/// });
/// ```
///
/// # Divergence
/// The service provider interface takes a send's bytes as one slice, not Windows' `WSABUF`
/// array. An overlapped send is read from its buffers only once it is accepted, and a
/// non-overlapped one with one buffer is passed as it is, so a datagram over the limit fails
/// `WSAEMSGSIZE` ([OP-7]) before any byte is copied. A non-overlapped send with several buffers
/// gathers them first: the outcome is the same, only the copy is made.
///
/// [OV-3]: crate::rules#ov-3
/// [OV-4]: crate::rules#ov-4
/// [OV-6]: crate::rules#ov-6
/// [OP-7]: crate::rules#op-7
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSASend(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytessent: *mut u32,
    dwflags: u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let bufs = wsabufs(lpbuffers, dwbuffercount);
    if lpoverlapped.is_null() {
        return send_gathered(s, bufs, dwflags, None, lpnumberofbytessent);
    }
    start_overlapped(
        "WSASend",
        s,
        bufs,
        Some(Target {
            to: None,
            flags: dwflags,
        }),
        lpoverlapped,
        lpcompletionroutine,
        (0, 0),
        lpnumberofbytessent,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

/// `WSASendTo`: `WSASend` to an address (datagram sockets).
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     // Two buffers, one datagram, overlapped with an event.
///     let (mut head, mut body) = (*b"he", *b"llo");
///     let bufs = [
///         WSABUF { len: 2, buf: head.as_mut_ptr() },
///         WSABUF { len: 3, buf: body.as_mut_ptr() },
///     ];
///     let mut ov = OVERLAPPED::default();
///     ov.hEvent = WSACreateEvent() as HANDLE;
///     let mut sent = 0;
///     let to = (&at as *const SOCKADDR_IN).cast();
///     assert_eq!(WSASendTo(tx, bufs.as_ptr(), 2, &mut sent, 0, to, 16, &mut ov, None), 0);
///     assert_eq!(sent, 5);
///     let (mut n, mut flags) = (0, 0);
///     assert_eq!(WSAGetOverlappedResult(tx, &ov, &mut n, TRUE, &mut flags), TRUE);
///     assert_eq!(n, 5);
///     let mut got = [0u8; 8];
///     assert_eq!(recv(rx, got.as_mut_ptr(), 8, 0), 5);
///     assert_eq!(&got[..5], b"hello");
///     // No address, and no connected peer to send to.
///     let r = WSASendTo(tx, bufs.as_ptr(), 2, &mut sent, 0, std::ptr::null(), 0, &mut ov, None);
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSAENOTCONN));
///     WSACleanup();
/// });
/// ```
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSASendTo(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytessent: *mut u32,
    dwflags: u32,
    lpto: *const SOCKADDR,
    itolen: i32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let bufs = wsabufs(lpbuffers, dwbuffercount);
    let to = bytes_in(lpto.cast(), itolen);
    if lpoverlapped.is_null() {
        return send_gathered(s, bufs, dwflags, to, lpnumberofbytessent);
    }
    start_overlapped(
        "WSASendTo",
        s,
        bufs,
        Some(Target { to, flags: dwflags }),
        lpoverlapped,
        lpcompletionroutine,
        (0, 0),
        lpnumberofbytessent,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

/// `WSARecv`: with an `OVERLAPPED`, returns 0 when data was there at once or
/// `SOCKET_ERROR`/`WSA_IO_PENDING`; buffers of one socket are filled in posting order ([OV-7]).
/// Completion as for [`WSASend`]: with a completion routine, the routine is queued to this
/// thread and runs in its next alertable wait ([OV-4]); otherwise `hEvent` is set. Without an
/// `OVERLAPPED`, it is a blocking `recv`.
///
/// # Divergence
/// Every socket accepts overlapped operations, whether or not it was made with
/// `WSA_FLAG_OVERLAPPED` (sockets from `socket` are overlapped on Windows too).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ws2sim::sys::*;
/// static GOT: AtomicU32 = AtomicU32::new(0);
/// unsafe extern "system" fn done(err: u32, n: u32, _ov: *mut OVERLAPPED, _flags: u32) {
///     assert_eq!(err, 0);
///     GOT.store(n, Ordering::SeqCst);
/// }
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7001".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 16];
///     let buf = WSABUF { len: 16, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let mut flags = 0;
///     let r = WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, Some(done));
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"hello".as_ptr(), 5, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // The routine runs in an alertable wait once the datagram arrived (1 ms later).
///     assert_eq!(SleepEx(WSA_INFINITE, TRUE), WAIT_IO_COMPLETION);
///     assert_eq!(GOT.load(Ordering::SeqCst), 5);
///     assert_eq!(&data[..5], b"hello");
///     WSACleanup();
/// });
/// ```
///
/// [OV-7]: crate::rules#ov-7
/// [OV-4]: crate::rules#ov-4
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSARecv(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytesrecvd: *mut u32,
    lpflags: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let bufs = wsabufs(lpbuffers, dwbuffercount);
    if lpoverlapped.is_null() {
        return recv_scattered(s, bufs, lpflags, None, lpnumberofbytesrecvd);
    }
    start_overlapped(
        "WSARecv",
        s,
        bufs,
        None,
        lpoverlapped,
        lpcompletionroutine,
        (0, 0),
        lpnumberofbytesrecvd,
        lpflags,
        std::ptr::null_mut(),
    )
}

/// `WSARecvFrom`: `WSARecv` that also reports the sender (written on completion), in event
/// mode here:
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7002".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 16];
///     let buf = WSABUF { len: 16, buf: data.as_mut_ptr() };
///     let mut from = SOCKADDR_IN::default();
///     let mut fromlen = 16;
///     let mut ov = OVERLAPPED::default();
///     ov.hEvent = WSACreateEvent() as HANDLE;
///     let mut flags = 0;
///     let r = WSARecvFrom(rx, &buf, 1, std::ptr::null_mut(), &mut flags,
///         (&mut from as *mut SOCKADDR_IN).cast(), &mut fromlen, &mut ov, None);
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"hi".as_ptr(), 2, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // The event is set when the datagram arrives; the record and the sender are filled.
///     assert_eq!(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, WSA_INFINITE, FALSE), 0);
///     assert_eq!(overlapped_status(&ov), OverlappedStatus::Done(2));
///     assert_eq!(std::net::SocketAddrV4::from(from).ip().octets(), [127, 0, 0, 1]);
///     WSACleanup();
/// });
/// ```
#[allow(clippy::too_many_arguments)]
pub unsafe fn WSARecvFrom(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytesrecvd: *mut u32,
    lpflags: *mut u32,
    lpfrom: *mut SOCKADDR,
    lpfromlen: *mut i32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let bufs = wsabufs(lpbuffers, dwbuffercount);
    if lpoverlapped.is_null() {
        return recv_scattered(
            s,
            bufs,
            lpflags,
            Some((lpfrom, lpfromlen)),
            lpnumberofbytesrecvd,
        );
    }
    let from = (lpfrom as usize, lpfromlen as usize);
    start_overlapped(
        "WSARecvFrom",
        s,
        bufs,
        None,
        lpoverlapped,
        lpcompletionroutine,
        from,
        lpnumberofbytesrecvd,
        lpflags,
        std::ptr::null_mut(),
    )
}

/// `WSAGetOverlappedResult` ([OV-5]): the answer comes from the record itself (`Internal`,
/// `InternalHigh`), so it works on any record, one the caller filled in included: TRUE with
/// `InternalHigh` bytes for `STATUS_SUCCESS`; FALSE with `WSA_IO_INCOMPLETE` for
/// `STATUS_PENDING` when `fWait` is FALSE; FALSE with the error of any other status
/// (`STATUS_CANCELLED` → `WSA_OPERATION_ABORTED`, `STATUS_CONNECTION_RESET` and
/// `STATUS_REMOTE_DISCONNECT` → `WSAECONNRESET`, `STATUS_CONNECTION_ABORTED` and
/// `STATUS_LOCAL_DISCONNECT` → `WSAECONNABORTED`, `STATUS_BUFFER_OVERFLOW` → `WSAEMSGSIZE`,
/// `STATUS_GRACEFUL_DISCONNECT` → `WSAEDISCON`; a status standing for no error the simulator
/// reports → `WSA_INVALID_PARAMETER`). `fWait` TRUE waits in virtual time, not alertably; a wait
/// whose socket another thread closes returns the aborted operation's
/// `WSA_OPERATION_ABORTED`. After closesocket or the final cleanup a new call fails on the
/// handle first (`WSAENOTSOCK`, `WSANOTINITIALISED`): read the record with
/// [`overlapped_status`] instead.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7003".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 8];
///     let buf = WSABUF { len: 8, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let (mut flags, mut n) = (0u32, 0u32);
///     WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
///     // Still pending.
///     assert_eq!(WSAGetOverlappedResult(rx, &ov, &mut n, FALSE, &mut flags), FALSE);
///     assert_eq!(WSAGetLastError(), WSA_IO_INCOMPLETE);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"abc".as_ptr(), 3, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // fWait TRUE waits (1 ms of virtual time here).
///     assert_eq!(WSAGetOverlappedResult(rx, &ov, &mut n, TRUE, &mut flags), TRUE);
///     assert_eq!(n, 3);
///     WSACleanup();
/// });
/// ```
///
/// [OV-5]: crate::rules#ov-5
pub unsafe fn WSAGetOverlappedResult(
    s: SOCKET,
    lpoverlapped: *const OVERLAPPED,
    lpcbtransfer: *mut u32,
    fwait: BOOL,
    lpdwflags: *mut u32,
) -> BOOL {
    // SAFETY: the caller passes a valid OVERLAPPED or NULL, as for the real function; the
    // core reads it only during this call.
    let read = || unsafe { ((*lpoverlapped).Internal, (*lpoverlapped).InternalHigh) };
    let r = call(IoCall::OverlappedResult {
        s: Socket::from_raw(s),
        key: (!lpoverlapped.is_null()).then_some(lpoverlapped as usize),
        record: (!lpoverlapped.is_null()).then_some(Record(&read)),
        wait: fwait != FALSE,
        has_bytes: !lpcbtransfer.is_null() && !lpdwflags.is_null(),
    });
    match r {
        Ok(Reply::Count(n)) => {
            write_opt(lpcbtransfer, Some(n));
            write_opt(lpdwflags, Some(0));
            TRUE
        }
        _ => FALSE,
    }
}

/// kernel32 `GetOverlappedResult` on a socket handle: [EX-7]. It reads the record itself
/// (`Internal`, `InternalHigh`), so it answers for any record, and sets Win32 codes as last
/// error (`ERROR_IO_INCOMPLETE` 996, `ERROR_OPERATION_ABORTED` 995, `ERROR_NETNAME_DELETED`
/// 64 after a peer's reset, `ERROR_INVALID_HANDLE` 6). It needs no `WSAStartup`.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let at = SOCKADDR_IN::from("127.0.0.1:7004".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 8];
///     let buf = WSABUF { len: 8, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let (mut flags, mut n) = (0u32, 0u32);
///     WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
///     assert_eq!(GetOverlappedResult(rx as HANDLE, &ov, &mut n, FALSE), FALSE);
///     assert_eq!(WSAGetLastError(), 996); // ERROR_IO_INCOMPLETE
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"abc".as_ptr(), 3, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     assert_eq!(GetOverlappedResult(rx as HANDLE, &ov, &mut n, TRUE), TRUE);
///     assert_eq!(n, 3);
///     WSACleanup();
/// });
/// ```
///
/// [EX-7]: crate::rules#ex-7
pub unsafe fn GetOverlappedResult(
    hfile: HANDLE,
    lpoverlapped: *const OVERLAPPED,
    lpnumberofbytestransferred: *mut u32,
    bwait: BOOL,
) -> BOOL {
    // SAFETY: the caller passes a valid OVERLAPPED or NULL, as for the real function; the
    // core reads it only during this call.
    let read = || unsafe { ((*lpoverlapped).Internal, (*lpoverlapped).InternalHigh) };
    let r = call(IoCall::GetOverlappedResult {
        s: Socket::from_raw(hfile as usize),
        record: (!lpoverlapped.is_null()).then_some(Record(&read)),
        wait: bwait != FALSE,
        has_bytes: !lpnumberofbytestransferred.is_null(),
    });
    match r {
        Ok(Reply::Count(n)) => {
            write_opt(lpnumberofbytestransferred, Some(n));
            TRUE
        }
        _ => FALSE,
    }
}

/// `CreateIoCompletionPort`: a new port (`FileHandle` `INVALID_HANDLE_VALUE`), or associates
/// a socket with `ExistingCompletionPort` (or a new port) under `CompletionKey`. NULL on
/// failure. Completion ports need no WSAStartup (they are kernel objects). Every operation
/// that completes on an associated socket posts one packet ([OV-6]), except those the final
/// cleanup aborts ([CL-5]).
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let port = CreateIoCompletionPort(s as HANDLE, std::ptr::null_mut(), 42, 0);
///     assert!(!port.is_null());
///     let to = SOCKADDR_IN::from("127.0.0.1:9".parse::<std::net::SocketAddrV4>().unwrap());
///     let mut data = *b"ping";
///     let buf = WSABUF { len: 4, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let mut sent = 0;
///     WSASendTo(s, &buf, 1, &mut sent, 0, (&to as *const SOCKADDR_IN).cast(), 16, &mut ov, None);
///     let (mut n, mut key, mut done) = (0u32, 0usize, std::ptr::null_mut());
///     assert_eq!(GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, 0), TRUE);
///     assert_eq!((n, key, done), (4, 42, &mut ov as *mut OVERLAPPED));
///     // Nothing more: a timeout of 10 ms of virtual time.
///     assert_eq!(GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, 10), FALSE);
///     assert_eq!(WSAGetLastError(), WAIT_TIMEOUT);
///     WSACleanup();
/// });
/// ```
///
/// # Divergence
/// An operation with a completion routine on an associated socket posts its packet too (the
/// routine also runs); its `hEvent` is left alone, as the routine makes it the caller's.
///
/// [OV-6]: crate::rules#ov-6
/// [CL-5]: crate::rules#cl-5
pub unsafe fn CreateIoCompletionPort(
    filehandle: HANDLE,
    existingcompletionport: HANDLE,
    completionkey: usize,
    numberofconcurrentthreads: u32,
) -> HANDLE {
    let _ = numberofconcurrentthreads;
    let socket =
        (filehandle != INVALID_HANDLE_VALUE).then(|| Socket::from_raw(filehandle as usize));
    let existing = (!existingcompletionport.is_null())
        .then(|| PortHandle::from_raw(existingcompletionport as isize));
    match call(IoCall::CreatePort {
        socket,
        existing,
        key: completionkey,
    }) {
        Ok(Reply::Port(p)) => p.raw() as HANDLE,
        _ => std::ptr::null_mut(),
    }
}

/// `GetQueuedCompletionStatus` ([OV-6]): the oldest packet of the port, waiting up to
/// `dwmilliseconds` of virtual time (`INFINITE`: no limit). TRUE for a successful operation;
/// FALSE with `*lpoverlapped` set and the operation's error for a failed one; FALSE with
/// `*lpoverlapped` NULL and `WAIT_TIMEOUT` on timeout.
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let port = CreateIoCompletionPort(rx as HANDLE, std::ptr::null_mut(), 7, 0);
///     let mut data = [0u8; 16];
///     let buf = WSABUF { len: 16, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let mut flags = 0;
///     let r = WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
///     assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"hello".as_ptr(), 5, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // A worker's loop: the packet names the socket (its key) and the operation.
///     let (mut n, mut key, mut done) = (0u32, 0usize, std::ptr::null_mut());
///     assert_eq!(GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, INFINITE), TRUE);
///     assert_eq!((n, key, done), (5, 7, &mut ov as *mut OVERLAPPED));
///     assert_eq!(&data[..5], b"hello");
///     // A failed operation's packet: FALSE, with the operation and its error.
///     WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut ov, None);
///     CancelIoEx(rx as HANDLE, &ov);
///     assert_eq!(GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, 0), FALSE);
///     assert_eq!((done, GetLastError()), (&mut ov as *mut OVERLAPPED, 995));
///     // Nothing queued: FALSE, no operation, WAIT_TIMEOUT.
///     assert_eq!(GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, 10), FALSE);
///     assert_eq!((done, GetLastError()), (std::ptr::null_mut(), WAIT_TIMEOUT as u32));
///     WSACleanup();
///     CloseHandle(port);
/// });
/// ```
///
/// [OV-6]: crate::rules#ov-6
pub unsafe fn GetQueuedCompletionStatus(
    completionport: HANDLE,
    lpnumberofbytestransferred: *mut u32,
    lpcompletionkey: *mut usize,
    lpoverlapped: *mut *mut OVERLAPPED,
    dwmilliseconds: u32,
) -> BOOL {
    let timeout = (dwmilliseconds != WSA_INFINITE)
        .then(|| std::time::Duration::from_millis(u64::from(dwmilliseconds)));
    let r = call(IoCall::GetQueued {
        port: PortHandle::from_raw(completionport as isize),
        timeout,
    });
    match r {
        Ok(Reply::Packet(p)) => {
            write_opt(lpnumberofbytestransferred, Some(p.bytes));
            write_opt(lpcompletionkey, Some(p.key));
            write_opt(lpoverlapped, Some(p.overlapped as *mut OVERLAPPED));
            if p.error.is_some() {
                FALSE
            } else {
                TRUE
            }
        }
        _ => {
            write_opt(lpoverlapped, Some(std::ptr::null_mut()));
            FALSE
        }
    }
}

/// What an `OVERLAPPED` record says of its operation (ws2sim helper, not a Windows function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlappedStatus {
    /// `Internal` is `STATUS_PENDING`.
    Pending,
    /// Completed: `InternalHigh` bytes.
    Done(u32),
    /// Failed with this error (`Internal` holds its NTSTATUS, e.g. `STATUS_CANCELLED` for
    /// `WSA_OPERATION_ABORTED`).
    Failed(WsaError),
}

/// Reads an `OVERLAPPED` record's `Internal`/`InternalHigh` as ws2sim and Windows write them
/// (NTSTATUS values), e.g. to check that the final cleanup left WSA_OPERATION_ABORTED ([CL-5]).
///
/// ```
/// use std::net::SocketAddrV4;
/// use ws2sim::sys::*;
/// use ws2sim::{Sim, WsaError};
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut data = [0u8; 8];
///     let buf = WSABUF { len: 8, buf: data.as_mut_ptr() };
///     let (mut first, mut second) = (OVERLAPPED::default(), OVERLAPPED::default());
///     let mut flags = 0;
///     WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut first, None);
///     WSARecv(rx, &buf, 1, std::ptr::null_mut(), &mut flags, &mut second, None);
///     assert_eq!(overlapped_status(&first), OverlappedStatus::Pending);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"abc".as_ptr(), 3, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     Sleep(1); // the datagram arrives and completes the first receive
///     assert_eq!(overlapped_status(&first), OverlappedStatus::Done(3));
///     assert_eq!(overlapped_status(&second), OverlappedStatus::Pending);
///     // The final cleanup aborts the second: only the record can tell, the socket is gone.
///     assert_eq!(WSACleanup(), 0);
///     let aborted = OverlappedStatus::Failed(WsaError::OperationAborted);
///     assert_eq!(overlapped_status(&second), aborted);
/// });
/// ```
///
/// [CL-5]: crate::rules#cl-5
pub fn overlapped_status(ov: &OVERLAPPED) -> OverlappedStatus {
    use crate::core::overlapped::{error_of_ntstatus, status};
    if ov.Internal == status::PENDING {
        return OverlappedStatus::Pending;
    }
    match error_of_ntstatus(ov.Internal) {
        None => OverlappedStatus::Done(ov.InternalHigh as u32),
        Some(e) => OverlappedStatus::Failed(e),
    }
}
