//! The calls the core accepts and what they return; `call_args.rs` has the arguments' text the
//! trace shows for each.
//!
//! A [`Call`] is one of eight families ([`ProcessCall`], [`KernelCall`], [`SocketCall`],
//! [`OptionCall`], [`DataCall`], [`EventCall`], [`IoCall`], [`SpiCall`]); each family has its
//! own rows of the call table and its own router in `ws2/mod.rs`, so no match is longer than a
//! family.
//!
//! Adding a Winsock or kernel32 call touches, in this order:
//! 1. here: a variant in its family and its row in that family's `spec`, and in `call_args.rs`
//!    its named arguments (all exhaustive, with no default arm, so the compiler asks for each);
//! 2. `ws2/mod.rs`: its arm in the family's router (`World::route_*`, exhaustive too), calling
//! 3. its handler in the core file that owns the state it changes;
//! 4. the `sys` wrapper (windows-sys' name and signature) and, where it makes sense, an `api`
//!    one.
//!
//! Nothing else: the gate, the last error, 1.1 hooks, alertable waits and the trace read the
//! call's row.
//!
//! This module decides no rule and holds no state: it only describes calls.

use std::fmt;

use std::net::SocketAddrV4;

pub use super::call_args::error_name;
use super::catalog::{Guid, ProtocolInfo};
use super::events::{EventHandle, EventOp};
use super::overlapped::{OpRequest, Packet, PortHandle};
use super::provider::Negotiated;
use super::providers::control::Control;
use super::providers::net::{WsaBufIn, WsaBufOut};
use super::ws2::table::Socket;
use super::ws2::version::{Version, WSADATA_SIZE};
use crate::consts::*;

/// One Winsock call with its arguments; caller memory appears as byte slices (`None` for NULL).
#[derive(Debug)]
pub enum Call<'a> {
    /// Ws2_32's own per-process calls.
    Process(ProcessCall<'a>),
    /// kernel32's thread and handle calls.
    Kernel(KernelCall),
    /// Calls that create, close, bind, connect or name a socket.
    Sockets(SocketCall<'a>),
    /// Calls that read or change a socket's options and modes.
    Options(OptionCall<'a>),
    /// Calls that move data or close a direction of a connection.
    Data(DataCall<'a>),
    /// Event objects and readiness.
    Events(EventCall<'a>),
    /// Overlapped operations, their results and completion ports.
    Io(IoCall<'a>),
    /// The service provider interface called directly ([`crate::spi::Client`]).
    Spi(SpiCall),
}

/// Each family converts into [`Call`], so a construction site names its family once:
/// `call(IoCall::CreatePort { .. })`.
macro_rules! into_call {
    ($($family:ident$(<$a:lifetime>)? => $variant:ident),* $(,)?) => {$(
        impl<'a> From<$family$(<$a>)?> for Call<'a> {
            fn from(c: $family$(<$a>)?) -> Call<'a> {
                Call::$variant(c)
            }
        }
    )*};
}

into_call! {
    ProcessCall<'a> => Process,
    KernelCall => Kernel,
    SocketCall<'a> => Sockets,
    OptionCall<'a> => Options,
    DataCall<'a> => Data,
    EventCall<'a> => Events,
    IoCall<'a> => Io,
    SpiCall => Spi,
}

/// Ws2_32's own per-process calls: startup, cleanup, the last error, Winsock 1.1 blocking, the
/// catalog and the name service.
#[derive(Debug)]
pub enum ProcessCall<'a> {
    /// `WSAStartup(wVersionRequested, lpWSAData)`.
    Startup {
        /// The requested version.
        requested: Version,
        /// The `WSADATA` to fill.
        data: Option<&'a mut [u8; WSADATA_SIZE]>,
    },
    /// `WSACleanup()`.
    Cleanup,
    /// `WSAGetLastError()`.
    GetLastError,
    /// `WSASetLastError(iError)`.
    SetLastError(i32),
    /// `WSAIsBlocking()`.
    IsBlocking,
    /// `WSACancelBlockingCall()`.
    CancelBlocking,
    /// `WSASetBlockingHook(lpBlockFunc)` or `WSAUnhookBlockingHook()`.
    SetBlockingHook(HookChange),
    /// Registers (`Some`) or removes (`None`) a name in the namespace (CL-9).
    RegisterName {
        /// The name.
        name: String,
        /// Its address.
        addr: Option<SocketAddrV4>,
    },
    /// Looks a name up in the namespace (CL-9).
    LookupName {
        /// The name.
        name: String,
    },
    /// An address to text conversion or back (AD-5).
    Convert(Conversion<'a>),
    /// Name resolution (AD-4).
    Resolve(Resolution<'a>),
    /// `WSAEnumProtocolsW(lpiProtocols, lpProtocolBuffer, lpdwBufferLength)`.
    EnumProtocols {
        /// The protocol filter (without its terminating 0).
        filter: Option<Vec<i32>>,
        /// The buffer, `*len` bytes long.
        buffer: Option<&'a mut [u8]>,
        /// `*lpdwBufferLength`, read and written back.
        len: Option<&'a mut u32>,
    },
}

/// An address to text conversion or back (AD-5), with the caller's buffers.
#[derive(Debug)]
pub enum Conversion<'a> {
    /// `inet_pton(Family, pszAddrString, pAddrBuf)`, or `InetPtonW` (`wide`).
    Pton {
        /// `Family`.
        family: i32,
        /// The string (`None`: NULL).
        text: Option<String>,
        /// `pAddrBuf`: 4 bytes for `AF_INET`, 16 for `AF_INET6` (`None`: NULL).
        out: Option<&'a mut [u8]>,
        /// True for `InetPtonW`.
        wide: bool,
    },
    /// `inet_ntop(Family, pAddr, pStringBuf, StringBufSize)`, or `InetNtopW`.
    Ntop {
        /// `Family`.
        family: i32,
        /// `pAddr`: 4 or 16 bytes (`None`: NULL).
        addr: Option<&'a [u8]>,
        /// `pStringBuf`, `StringBufSize` characters.
        out: TextOut<'a>,
    },
    /// `WSAStringToAddressW(AddressString, AddressFamily, lpProtocolInfo, lpAddress,
    /// lpAddressLength)`.
    StringToAddress {
        /// The string (`None`: NULL).
        text: Option<String>,
        /// `AddressFamily`.
        family: i32,
        /// `lpAddress`, `*lpAddressLength` bytes (`None`: NULL).
        out: Option<&'a mut [u8]>,
        /// `lpAddressLength`, read and written back.
        len: Option<&'a mut i32>,
    },
    /// `WSAAddressToStringW(lpsaAddress, dwAddressLength, lpProtocolInfo,
    /// lpszAddressString, lpdwAddressStringLength)`.
    AddressToString {
        /// `lpsaAddress`, `dwAddressLength` bytes (`None`: NULL).
        addr: Option<&'a [u8]>,
        /// `lpszAddressString`, `*lpdwAddressStringLength` characters.
        out: TextOut<'a>,
        /// `lpdwAddressStringLength`, read and written back.
        room: Option<&'a mut u32>,
    },
}

/// Name resolution (AD-4), with the caller's arguments.
#[derive(Debug)]
pub enum Resolution<'a> {
    /// `getaddrinfo(pNodeName, pServiceName, pHints, ppResult)`, or `GetAddrInfoW` (`wide`).
    GetAddrInfo {
        /// `pNodeName` (`None`: NULL).
        node: Option<String>,
        /// `pServiceName` (`None`: NULL).
        service: Option<String>,
        /// `*pHints` (`None`: NULL).
        hints: Option<Hints>,
        /// The key the result list will have (`None`: `ppResult` is NULL).
        key: Option<AddrInfoKey>,
        /// True for `GetAddrInfoW`.
        wide: bool,
    },
    /// `freeaddrinfo(pAddrInfo)` or `FreeAddrInfoW` (`wide`) of a non-NULL list.
    FreeAddrInfo {
        /// The list's key.
        key: AddrInfoKey,
        /// True for `FreeAddrInfoW`.
        wide: bool,
    },
    /// `gethostname(name, namelen)` or `GetHostNameW`, into `out`.
    GetHostName {
        /// The caller's buffer.
        out: TextOut<'a>,
    },
}

/// The hints `getaddrinfo` reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hints {
    /// `ai_flags`.
    pub flags: i32,
    /// `ai_family`.
    pub family: i32,
    /// `ai_socktype`.
    pub socktype: i32,
    /// `ai_protocol`.
    pub protocol: i32,
    /// True when `ai_addrlen`, `ai_canonname`, `ai_addr` or `ai_next` is not 0.
    pub others_set: bool,
}

/// A `getaddrinfo` result list as the core knows it: the address of its first node, used as
/// a key and never dereferenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddrInfoKey(pub usize);

/// One `getaddrinfo` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfo {
    /// `ai_family`: `AF_INET` or `AF_INET6`.
    pub family: i32,
    /// `ai_socktype`, as hinted.
    pub socktype: i32,
    /// `ai_protocol`, as hinted.
    pub protocol: i32,
    /// The address and the service's port.
    pub addr: std::net::SocketAddr,
    /// `ai_canonname` (the first result, with `AI_CANONNAME`).
    pub canonname: Option<String>,
}

impl fmt::Display for AddrInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.addr)?;
        match &self.canonname {
            Some(c) => write!(f, " ({c:?})"),
            None => Ok(()),
        }
    }
}

/// A caller's string buffer: NULL, bytes (the `A` functions) or UTF-16 units (the `W` ones).
#[derive(Debug)]
pub enum TextOut<'a> {
    /// A NULL buffer.
    Null,
    /// A `PSTR` of this many bytes.
    Narrow(&'a mut [u8]),
    /// A `PWSTR` of this many characters.
    Wide(&'a mut [u16]),
}

impl TextOut<'_> {
    /// Writes `text` (ASCII) and a NUL when the buffer holds both; false (nothing written)
    /// when it does not.
    pub fn write(&mut self, text: &str) -> bool {
        let n = text.len();
        match self {
            TextOut::Null => false,
            TextOut::Narrow(b) if b.len() > n => {
                b[..n].copy_from_slice(text.as_bytes());
                b[n] = 0;
                true
            }
            TextOut::Wide(w) if w.len() > n => {
                for (d, c) in w.iter_mut().zip(text.bytes()) {
                    *d = u16::from(c);
                }
                w[n] = 0;
                true
            }
            TextOut::Narrow(_) | TextOut::Wide(_) => false,
        }
    }
}

/// kernel32 calls on the thread and its handles: the last error, handle flags, clocks.
#[derive(Debug)]
pub enum KernelCall {
    /// kernel32 `SetHandleInformation(hObject, dwMask, dwFlags)` on a socket (DU-2).
    SetHandleInformation {
        /// `hObject`: the socket.
        s: Socket,
        /// `dwMask`: which flags to change.
        mask: u32,
        /// `dwFlags`: their new values.
        flags: u32,
    },
    /// kernel32 `GetHandleInformation(hObject, lpdwFlags)` on a socket (DU-2).
    GetHandleInformation {
        /// `hObject`: the socket.
        s: Socket,
        /// `lpdwFlags` is not NULL.
        has_flags: bool,
    },
    /// A kernel32 clock read (KW-3): GetTickCount(64), QueryPerformanceCounter/Frequency,
    /// GetSystemTimeAsFileTime.
    Clock(Clock),
    /// kernel32 `GetLastError()`: the same slot as `WSAGetLastError` (KW-1).
    Win32GetLastError,
    /// kernel32 `GetCurrentProcessId()`: the calling process's id, as
    /// [`Process::pid`](crate::Process::pid) gives it (DU-1's `dwProcessId`).
    CurrentProcessId,
    /// kernel32 `SetLastError(dwErrCode)`: the same slot as `WSASetLastError` (KW-1).
    Win32SetLastError(u32),
    /// kernel32 event objects and waits (KW-2).
    Object(ObjectCall),
}

/// kernel32's event objects and waits (KW-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectCall {
    /// `CreateEventW(lpEventAttributes, bManualReset, bInitialState, lpName)`.
    CreateEvent {
        /// `bManualReset`.
        manual: bool,
        /// `bInitialState`.
        initial: bool,
        /// `lpName` is not NULL (names are ignored).
        named: bool,
    },
    /// `SetEvent(hEvent)`.
    SetEvent(EventHandle),
    /// `ResetEvent(hEvent)`.
    ResetEvent(EventHandle),
    /// `CloseHandle(hObject)` (the raw handle: an event or a completion port).
    CloseHandle(isize),
    /// `WaitForSingleObject(Ex)` (`single`) or `WaitForMultipleObjects(Ex)`.
    Wait {
        /// The handles (`None`: a NULL array).
        handles: Option<Vec<EventHandle>>,
        /// `bWaitAll`.
        wait_all: bool,
        /// `dwMilliseconds` (`None`: `INFINITE`).
        timeout: Option<std::time::Duration>,
        /// `bAlertable` (the `Ex` forms; false for the others).
        alertable: bool,
        /// `WaitForSingleObject(Ex)`.
        single: bool,
        /// An `Ex` form.
        ex: bool,
    },
}

impl ObjectCall {
    /// The kernel32 function.
    pub const fn function(&self) -> &'static str {
        match self {
            ObjectCall::CreateEvent { .. } => "CreateEventW",
            ObjectCall::SetEvent(_) => "SetEvent",
            ObjectCall::ResetEvent(_) => "ResetEvent",
            ObjectCall::CloseHandle(_) => "CloseHandle",
            ObjectCall::Wait {
                single: true,
                ex: false,
                ..
            } => "WaitForSingleObject",
            ObjectCall::Wait {
                single: true,
                ex: true,
                ..
            } => "WaitForSingleObjectEx",
            ObjectCall::Wait {
                single: false,
                ex: false,
                ..
            } => "WaitForMultipleObjects",
            ObjectCall::Wait {
                single: false,
                ex: true,
                ..
            } => "WaitForMultipleObjectsEx",
        }
    }
}

/// Calls that create, close, bind, connect or name a socket; all but `socket` and
/// `closesocket` go down its provider chain.
#[derive(Debug)]
pub enum SocketCall<'a> {
    /// `socket(af, type, protocol)` or `WSASocketW(af, type, protocol, lpProtocolInfo, g, dwFlags)`.
    Socket {
        /// Address family.
        af: i32,
        /// Socket type.
        ty: i32,
        /// Protocol.
        protocol: i32,
        /// The protocol info passed to `WSASocketW`.
        info: Option<ProtocolInfo>,
        /// Socket group (`g`).
        group: u32,
        /// `WSA_FLAG_*`.
        flags: u32,
        /// True for `WSASocketW`, false for `socket`.
        wsa: bool,
    },
    /// `closesocket(s)`.
    CloseSocket(Socket),
    /// `WSADuplicateSocketW(s, dwProcessId, lpProtocolInfo)` (DU-1); `info` is the
    /// `WSAPROTOCOL_INFOW`'s bytes (`None`: NULL).
    Duplicate {
        /// The socket.
        s: Socket,
        /// `dwProcessId`.
        process: u32,
        /// `lpProtocolInfo`.
        info: Option<&'a mut [u8]>,
    },
    /// `bind(s, name, namelen)`; `addr` has `max(namelen, 0)` bytes.
    Bind {
        /// The socket.
        s: Socket,
        /// The address's bytes.
        addr: Option<&'a [u8]>,
    },
    /// `listen(s, backlog)`.
    Listen {
        /// The socket.
        s: Socket,
        /// The backlog.
        backlog: i32,
    },
    /// `accept(s, addr, addrlen)`.
    Accept {
        /// The listening socket.
        s: Socket,
        /// Where the peer's address goes.
        addr: Option<&'a mut [u8]>,
        /// `*addrlen`.
        len: Option<&'a mut i32>,
    },
    /// `connect(s, name, namelen)`.
    Connect {
        /// The socket.
        s: Socket,
        /// The address's bytes.
        addr: Option<&'a [u8]>,
    },
    /// `getsockname(s, name, namelen)`.
    SockName {
        /// The socket.
        s: Socket,
        /// The address buffer.
        addr: Option<&'a mut [u8]>,
        /// `*namelen`.
        len: Option<&'a mut i32>,
    },
    /// `getpeername(s, name, namelen)`.
    PeerName {
        /// The socket.
        s: Socket,
        /// The address buffer.
        addr: Option<&'a mut [u8]>,
        /// `*namelen`.
        len: Option<&'a mut i32>,
    },
}

/// Calls that read or change a socket's options and modes, through its provider chain.
#[derive(Debug)]
pub enum OptionCall<'a> {
    /// `setsockopt(s, level, optname, optval, optlen)`; `value` has `max(len, 0)` bytes.
    SetSockOpt {
        /// The socket.
        s: Socket,
        /// Option level.
        level: i32,
        /// Option name.
        name: i32,
        /// The value's bytes.
        value: Option<&'a [u8]>,
        /// `optlen` as passed.
        len: i32,
    },
    /// `getsockopt(s, level, optname, optval, optlen)`; `value` has `max(*len, 0)` bytes.
    GetSockOpt {
        /// The socket.
        s: Socket,
        /// Option level.
        level: i32,
        /// Option name.
        name: i32,
        /// The buffer for the value.
        value: Option<&'a mut [u8]>,
        /// `*optlen`, read and written back.
        len: Option<&'a mut i32>,
    },
    /// `ioctlsocket(s, cmd, argp)`.
    IoctlSocket {
        /// The socket.
        s: Socket,
        /// The command (`FIONBIO`, `FIONREAD`, ...).
        cmd: i32,
        /// `*argp`, read and written back.
        arg: Option<&'a mut u32>,
    },
    /// `WSAIoctl(s, code, in, cbIn, out, cbOut, lpcbBytesReturned, lpOverlapped,
    /// lpCompletionRoutine)` (EX-1): `input` has `cbInBuffer` bytes and `output`
    /// `cbOutBuffer`; the reply is a [`Reply::Control`].
    WsaIoctl {
        /// The socket.
        s: Socket,
        /// `dwIoControlCode`.
        code: u32,
        /// `lpvInBuffer` (`None`: NULL).
        input: Option<&'a [u8]>,
        /// `lpvOutBuffer` (`None`: NULL).
        output: Option<&'a mut [u8]>,
        /// `*lpcbBytesReturned`, written by the call.
        returned: Option<&'a mut u32>,
        /// The overlapped call's operation (`None`: `lpOverlapped` NULL): indicated as
        /// completed at once.
        req: Option<OpRequest>,
    },
}

/// Calls that move data or close a direction of a connection, through the socket's provider
/// chain.
#[derive(Debug)]
pub enum DataCall<'a> {
    /// `send(s, buf, len, flags)` (`to: None`) or `sendto(.., to, tolen)` (`to: Some`).
    Send {
        /// The socket.
        s: Socket,
        /// The data, `len` bytes (or fewer when `len` is negative).
        buf: Option<&'a [u8]>,
        /// `len` as passed.
        len: i32,
        /// `MSG_*`.
        flags: i32,
        /// sendto's destination.
        to: Option<Option<&'a [u8]>>,
    },
    /// `recv(s, buf, len, flags)` (`from: None`) or `recvfrom(.., from, fromlen)`.
    Recv {
        /// The socket.
        s: Socket,
        /// The buffer.
        buf: Option<&'a mut [u8]>,
        /// `len` as passed.
        len: i32,
        /// `MSG_*`.
        flags: i32,
        /// recvfrom's address buffer and `*fromlen`.
        from: Option<(Option<&'a mut [u8]>, Option<&'a mut i32>)>,
        /// `WSARecvMsg`'s control data and flags (EX-5; `None`: any other function).
        msg: Option<&'a mut MsgOut>,
    },
    /// `shutdown(s, how)`.
    Shutdown {
        /// The socket.
        s: Socket,
        /// `SD_RECEIVE`, `SD_SEND` or `SD_BOTH`.
        how: i32,
    },
    /// `WSASendDisconnect(s, lpOutboundDisconnectData)`.
    SendDisconnect {
        /// The socket.
        s: Socket,
        /// The disconnect data (`None`: a NULL pointer).
        data: Option<WsaBufIn<'a>>,
    },
    /// `WSARecvDisconnect(s, lpInboundDisconnectData)`.
    RecvDisconnect {
        /// The socket.
        s: Socket,
        /// Where the peer's disconnect data goes (`None`: a NULL pointer).
        data: Option<WsaBufOut<'a>>,
    },
}

/// Event objects and readiness: WSA events, WSAEventSelect, select and WSAPoll.
#[derive(Debug)]
pub enum EventCall<'a> {
    /// `WSAPoll(fdarray, fds, timeout)`.
    Poll {
        /// The entries (`None`: a NULL `fdarray`).
        fds: Option<&'a mut [crate::core::events::PollEntry]>,
        /// `fds` as passed.
        count: u32,
        /// `timeout` (`None`: negative, for ever).
        timeout: Option<std::time::Duration>,
    },
    /// `WSACreateEvent()`.
    CreateEvent,
    /// `WSACloseEvent`, `WSASetEvent` or `WSAResetEvent`.
    EventOp(EventHandle, EventOp),
    /// `WSAWaitForMultipleEvents(cEvents, lphEvents, fWaitAll, dwTimeout, fAlertable)`.
    WaitEvents {
        /// The events (`None`: a NULL array).
        events: Option<Vec<EventHandle>>,
        /// `fWaitAll`.
        wait_all: bool,
        /// `dwTimeout` (`None`: `WSA_INFINITE`).
        timeout: Option<std::time::Duration>,
        /// `fAlertable`.
        alertable: bool,
    },
    /// `WSAEventSelect(s, hEventObject, lNetworkEvents)`.
    EventSelect {
        /// The socket.
        s: Socket,
        /// The event.
        event: EventHandle,
        /// `FD_*` bits.
        mask: i32,
    },
    /// `WSAEnumNetworkEvents(s, hEventObject, lpNetworkEvents)`.
    EnumNetworkEvents {
        /// The socket.
        s: Socket,
        /// The event to reset (`None`: NULL).
        event: Option<EventHandle>,
        /// `lNetworkEvents` and `iErrorCode`.
        out: Option<&'a mut (u32, [i32; FD_MAX_EVENTS as usize])>,
    },
    /// `select(nfds, readfds, writefds, exceptfds, timeout)`.
    Select {
        /// The read set.
        read: Option<&'a mut Vec<Socket>>,
        /// The write set.
        write: Option<&'a mut Vec<Socket>>,
        /// The except set.
        except: Option<&'a mut Vec<Socket>>,
        /// The timeout (`Ok(None)`: NULL, wait for ever; `Err`: negative).
        timeout: Result<Option<std::time::Duration>, ()>,
    },
}

/// Overlapped operations, their results and completion ports.
#[derive(Debug)]
pub enum IoCall<'a> {
    /// WSASend, WSARecv, WSASendTo or WSARecvFrom with an `OVERLAPPED`.
    Overlapped {
        /// The socket.
        s: Socket,
        /// The operation (taken when it starts).
        req: Option<OpRequest>,
        /// A buffer pointer is invalid (NULL with a length): `WSAEFAULT` after the state checks.
        fault: bool,
        /// `WSASendTo`'s `lpTo`, `iToLen` bytes as passed (`None`: any other function, or
        /// NULL); decoded by the core into the operation's destination.
        to: Option<&'a [u8]>,
        /// `dwFlags`.
        flags: i32,
        /// The function's name.
        name: &'static str,
    },
    /// `WSAGetOverlappedResult(s, lpOverlapped, lpcbTransfer, fWait, lpdwFlags)`.
    OverlappedResult {
        /// The socket.
        s: Socket,
        /// The `OVERLAPPED`'s address (`None`: NULL).
        key: Option<usize>,
        /// Reads the record's `(Internal, InternalHigh)` (`None`: NULL `lpOverlapped`, or an
        /// operation of the safe API, which has no record and is named by `key`).
        record: Option<Record<'a>>,
        /// `fWait`.
        wait: bool,
        /// `lpcbTransfer` is not NULL.
        has_bytes: bool,
    },
    /// kernel32 `GetOverlappedResult(hFile, lpOverlapped, lpNumberOfBytesTransferred, bWait)`.
    GetOverlappedResult {
        /// `hFile`: the socket.
        s: Socket,
        /// Reads the record's `(Internal, InternalHigh)` (`None`: NULL `lpOverlapped`).
        record: Option<Record<'a>>,
        /// `bWait`.
        wait: bool,
        /// `lpNumberOfBytesTransferred` is not NULL.
        has_bytes: bool,
    },
    /// kernel32 `GetOverlappedResultEx(hFile, lpOverlapped, lpNumberOfBytesTransferred,
    /// dwMilliseconds, bAlertable)`.
    GetOverlappedResultEx {
        /// `hFile`: the socket.
        s: Socket,
        /// Reads the record's `(Internal, InternalHigh)` (`None`: NULL `lpOverlapped`).
        record: Option<Record<'a>>,
        /// `dwMilliseconds` (`None`: `INFINITE`).
        timeout: Option<std::time::Duration>,
        /// `bAlertable`.
        alertable: bool,
        /// `lpNumberOfBytesTransferred` is not NULL.
        has_bytes: bool,
    },
    /// kernel32 `GetQueuedCompletionStatusEx(port, entries, ulCount, .., dwMilliseconds,
    /// fAlertable)`.
    GetQueuedEx {
        /// The port.
        port: PortHandle,
        /// `ulCount` (the entries' room; 0 when the array is NULL).
        max: u32,
        /// `dwMilliseconds` (`None`: `INFINITE`).
        timeout: Option<std::time::Duration>,
        /// `fAlertable`.
        alertable: bool,
    },
    /// kernel32 `PostQueuedCompletionStatus(port, bytes, key, lpOverlapped)`.
    PostPacket {
        /// The port.
        port: PortHandle,
        /// The packet to queue.
        packet: Packet,
    },
    /// kernel32 `CancelIo(hFile)` and `CancelIoEx(hFile, lpOverlapped)`.
    Cancel {
        /// `hFile`: the socket.
        s: Socket,
        /// Which of its operations.
        which: Cancel,
    },
    /// `CreateIoCompletionPort(FileHandle, ExistingCompletionPort, CompletionKey, n)`.
    CreatePort {
        /// The socket to associate (`None`: `INVALID_HANDLE_VALUE`).
        socket: Option<Socket>,
        /// The existing port (`None`: NULL).
        existing: Option<PortHandle>,
        /// The completion key.
        key: usize,
    },
    /// `GetQueuedCompletionStatus(port, .., dwMilliseconds)`.
    GetQueued {
        /// The port.
        port: PortHandle,
        /// The timeout (`None`: `INFINITE`).
        timeout: Option<std::time::Duration>,
    },
}

/// The service provider interface called directly ([`crate::spi::Client`]).
#[derive(Debug)]
pub enum SpiCall {
    /// `WSPStartup` of a provider, made directly by a test ([`crate::spi::Client`]).
    SpiStartup {
        /// The provider's id.
        provider: Guid,
        /// The SPI version asked for.
        requested: Version,
    },
    /// `WSPCleanup` of a provider, made directly by a test.
    SpiCleanup {
        /// The provider's id.
        provider: Guid,
    },
}

impl Call<'_> {
    /// The call table: every per-call property, one row per call.
    ///
    /// This is the only place that says, for a call, what its C function is named, how it
    /// reports failure, whether it needs `WSAStartup` (ER-1), what it does to the last error
    /// (ER-4), whether a Winsock 1.1 blocking hook may make it (TH-5) and how it waits. The
    /// match is exhaustive with no default arm: a new `Call` variant does not compile until
    /// its row is written.
    pub fn spec(&self) -> Spec {
        match self {
            Call::Process(c) => c.spec(),
            Call::Kernel(c) => c.spec(),
            Call::Sockets(c) => c.spec(),
            Call::Options(c) => c.spec(),
            Call::Data(c) => c.spec(),
            Call::Events(c) => c.spec(),
            Call::Io(c) => c.spec(),
            Call::Spi(c) => c.spec(),
        }
    }
}

/// One row of the call table ([`Call::spec`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The C function's name, as the trace shows it.
    pub name: &'static str,
    /// Which DLL's contract the call belongs to.
    pub family: Family,
    /// The checks made before any argument is looked at.
    pub gate: Gate,
    /// How the C function reports failure (ER-4).
    pub returns: Returns,
    /// What the call does to the thread's last error.
    pub last_error: LastError,
    /// TH-5: a Winsock 1.1 blocking hook may make it while its thread's call is in progress.
    pub in_blocking_hook: bool,
    /// How the call waits when it blocks.
    pub wait: Wait,
    /// The call may be the process's final `WSACleanup` (CL-8: the harness then drops the
    /// completion routines still queued for the process).
    pub cleans_up: bool,
    /// The codes its failures set as last error.
    pub codes: Codes,
}

impl Spec {
    /// A Winsock call of `family` with the common properties: ER-1 and ER-5 apply, failure is
    /// `SOCKET_ERROR` with the last error set, a 1.1 hook may not make it, and a wait is
    /// alertable (seed 004: blocking Winsock calls run APCs and go on waiting).
    const fn of(family: Family, name: &'static str) -> Spec {
        Spec {
            name,
            family,
            gate: Gate::Started,
            returns: Returns::Status,
            last_error: LastError::Sets,
            in_blocking_hook: false,
            wait: Wait::Alertable,
            cleans_up: false,
            codes: Codes::Winsock,
        }
    }

    /// A kernel32 wait returning `BOOL` with Win32 codes (EX-7): no `WSAStartup` needed,
    /// allowed in a blocking hook, and with `alertable` returning `WAIT_IO_COMPLETION` once
    /// APCs ran.
    const fn kernel32_wait(name: &'static str, alertable: bool) -> Spec {
        Spec::of(Family::Kernel32, name)
            .gate(Gate::None)
            .returns(Returns::False)
            .in_hook()
            .waits(if alertable {
                Wait::AlertableReturns
            } else {
                Wait::NotAlertable
            })
            .win32_codes()
    }

    const fn win32_codes(self) -> Spec {
        Spec {
            codes: Codes::Win32,
            ..self
        }
    }

    const fn gate(self, gate: Gate) -> Spec {
        Spec { gate, ..self }
    }

    const fn returns(self, returns: Returns) -> Spec {
        Spec { returns, ..self }
    }

    const fn last_error(self, last_error: LastError) -> Spec {
        Spec { last_error, ..self }
    }

    const fn in_hook(self) -> Spec {
        Spec {
            in_blocking_hook: true,
            ..self
        }
    }

    const fn waits(self, wait: Wait) -> Spec {
        Spec { wait, ..self }
    }

    const fn cleans_up(self) -> Spec {
        Spec {
            cleans_up: true,
            ..self
        }
    }
}

/// Which contract a call belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A Ws2_32 export.
    Winsock,
    /// A kernel32 function Winsock code uses (completion ports, events, waits).
    Kernel32,
    /// A call of the service provider interface made directly ([`crate::spi::Client`]).
    Spi,
}

/// The checks a call gets before any argument is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// ER-1 (`WSANOTINITIALISED` while the startup count is 0), then ER-5 (`WSAENETDOWN`).
    Started,
    /// Neither: the call works without `WSAStartup` (TH-1, kernel32, the SPI client).
    None,
    /// The call makes those checks itself, as rules of its own (ST-*, CL-1, CL-11).
    Own,
}

/// What a call does to the calling thread's last error (ER-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastError {
    /// A failure sets it; a success leaves it alone.
    Sets,
    /// A failure sets it; a success sets it to 0, as Windows was observed to do.
    SetsAndClears,
    /// Never touched: the error is returned directly (`WSAStartup`) or in `lpErrno` (SPI).
    Untouched,
}

/// Which numbering a call's failures use for the last error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes {
    /// Winsock's (`WSAECONNRESET` 10054, ...).
    Winsock,
    /// Win32's, as kernel32 functions set them ([`WsaError::win32_code`](crate::WsaError::win32_code)).
    Win32,
}

/// Which kernel32 clock a [`KernelCall::Clock`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// `GetTickCount`: milliseconds of virtual time, wrapping at 2^32.
    TickCount,
    /// `GetTickCount64`: milliseconds of virtual time.
    TickCount64,
    /// `QueryPerformanceCounter`: virtual time in ticks of [`PERFORMANCE_FREQUENCY`].
    PerformanceCounter,
    /// `QueryPerformanceFrequency`: [`PERFORMANCE_FREQUENCY`].
    PerformanceFrequency,
    /// `GetSystemTimeAsFileTime`: 100 ns intervals since 1601, from [`VIRTUAL_EPOCH_FILETIME`].
    SystemTimeAsFileTime,
}

/// The performance counter's frequency: 10 MHz, as Windows 10 and later report it.
pub const PERFORMANCE_FREQUENCY: u64 = 10_000_000;

/// The wall-clock time virtual time 0 stands for, as a `FILETIME`: 2000-01-01 00:00:00 UTC.
pub const VIRTUAL_EPOCH_FILETIME: u64 = 125_911_584_000_000_000;

impl Clock {
    /// The kernel32 function that reads it.
    pub const fn function(self) -> &'static str {
        match self {
            Clock::TickCount => "GetTickCount",
            Clock::TickCount64 => "GetTickCount64",
            Clock::PerformanceCounter => "QueryPerformanceCounter",
            Clock::PerformanceFrequency => "QueryPerformanceFrequency",
            Clock::SystemTimeAsFileTime => "GetSystemTimeAsFileTime",
        }
    }
}

/// What `WSASetBlockingHook` / `WSAUnhookBlockingHook` ask for.
#[derive(Debug, Clone)]
pub enum HookChange {
    /// `WSASetBlockingHook(lpBlockFunc)` (`None`: a NULL `lpBlockFunc`).
    Set(Option<Hook>),
    /// `WSAUnhookBlockingHook()`.
    Unhook,
}

/// A Winsock 1.1 blocking hook the application installed (TH-5), as the layer that took it
/// made it callable. `id` is its address, which `WSASetBlockingHook` hands back as the
/// previous hook.
#[derive(Clone)]
pub struct Hook {
    /// The hook's address (never 0).
    pub id: usize,
    /// Runs the hook.
    pub run: std::sync::Arc<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hook({:#x})", self.id)
    }
}

/// Reads an `OVERLAPPED` record in the caller's memory: its `(Internal, InternalHigh)`.
///
/// `sys` builds it from the pointer it was given; the core calls it each time it looks,
/// so a wait sees the record as the completion left it.
#[derive(Clone, Copy)]
pub struct Record<'a>(pub &'a dyn Fn() -> (usize, usize));

impl Record<'_> {
    /// `(Internal, InternalHigh)` as the record holds them now.
    pub fn read(self) -> (usize, usize) {
        (self.0)()
    }
}

impl fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Record(&OVERLAPPED)")
    }
}

/// How a call waits when it must block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Alertably: queued APCs run during the wait, then the call goes on waiting (seed 004).
    Alertable,
    /// Alertably, and the call returns `WSA_WAIT_IO_COMPLETION` once APCs ran (OV-4).
    AlertableReturns,
    /// Not alertably: APCs wait for a later alertable wait (OV-4).
    NotAlertable,
}

/// How a Winsock function reports failure (ER-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// The error code itself (`WSAStartup`).
    ErrorCode,
    /// `INVALID_SOCKET` (`socket`, `WSASocketW`).
    Socket,
    /// `SOCKET_ERROR` (-1).
    Status,
    /// `WSA_INVALID_EVENT` (`WSACreateEvent`).
    InvalidEvent,
    /// `FALSE` (the event functions returning `BOOL`).
    False,
    /// `WSA_WAIT_FAILED` (`WSAWaitForMultipleEvents`).
    WaitFailed,
    /// `NULL` (`WSASetBlockingHook`).
    Null,
    /// `inet_pton`'s: 0 for a malformed string (`InetPtonW` also sets `WSAEINVAL`), -1 for
    /// the other failures.
    Pton,
    /// Nothing: the call cannot fail and returns the last error itself (`WSAGetLastError`,
    /// `GetLastError`); where it must refuse (CL-10) that value is the refusal's code.
    LastErrorValue,
}

impl Returns {
    /// The return value shown for a failure with `e`.
    pub fn failure(self, e: crate::WsaError) -> String {
        match self {
            Returns::ErrorCode => e.code().to_string(),
            Returns::Socket => "INVALID_SOCKET".into(),
            Returns::Status => "SOCKET_ERROR".into(),
            Returns::InvalidEvent => "WSA_INVALID_EVENT".into(),
            Returns::False => "FALSE".into(),
            Returns::WaitFailed => "WSA_WAIT_FAILED".into(),
            Returns::Null => "NULL".into(),
            Returns::LastErrorValue => error_name(e.code()),
            Returns::Pton if e == crate::WsaError::InvalidArgument => "0".into(),
            Returns::Pton => "-1".into(),
        }
    }
}

impl Returns {
    /// The number a failure with `e` returns ([`Returns::failure`]'s text as a number):
    /// `SOCKET_ERROR` and `INVALID_SOCKET` are -1 (`INVALID_SOCKET` is `(SOCKET)~0`),
    /// `WSA_WAIT_FAILED` 0xFFFFFFFF, `FALSE`, `NULL` and `WSA_INVALID_EVENT` 0.
    pub fn failure_value(self, e: crate::WsaError) -> i64 {
        match self {
            Returns::ErrorCode | Returns::LastErrorValue => i64::from(e.code()),
            Returns::Socket | Returns::Status => -1,
            Returns::InvalidEvent | Returns::False | Returns::Null => 0,
            Returns::WaitFailed => i64::from(u32::MAX),
            Returns::Pton if e == crate::WsaError::InvalidArgument => 0,
            Returns::Pton => -1,
        }
    }
}

/// What `WSARecvMsg` gets back besides the data (EX-5): `WSAMSG.Control` and `dwFlags`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MsgOut {
    /// `Control.len` as passed: the room for control data.
    pub room: usize,
    /// The control data: `WSACMSGHDR`s with their data, as they go into `Control.buf`.
    pub control: Vec<u8>,
    /// `MSG_TRUNC`, `MSG_CTRUNC` as they go into `dwFlags`.
    pub flags: u32,
}

/// Which operations `CancelIo` / `CancelIoEx` cancel (EX-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// `CancelIo`: the calling thread's operations on the handle.
    ThreadOps,
    /// `CancelIoEx(h, NULL)`: every operation on the handle.
    All,
    /// `CancelIoEx(h, lpOverlapped)`: the operation of this `OVERLAPPED`.
    One(usize),
}

/// What a successful call returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Success with nothing to return (the C function returns 0).
    Done,
    /// `WSAStartup`: the negotiated version.
    Version(Version),
    /// A new socket.
    Socket(Socket),
    /// `WSAGetLastError`'s value.
    LastError(i32),
    /// A count (`WSAEnumProtocolsW`: entries written; send/recv: bytes; select: sockets;
    /// WSAWaitForMultipleEvents: its `WSA_WAIT_*` value).
    Count(u32),
    /// A new event object.
    Event(EventHandle),
    /// The previous blocking hook (0: the default).
    Hook(usize),
    /// A completion port.
    Port(PortHandle),
    /// A dequeued completion packet.
    Packet(Packet),
    /// `GetQueuedCompletionStatusEx`'s packets, oldest first (at least one).
    Packets(Vec<Packet>),
    /// An alertable wait ended because APCs ran in it (OV-4): the wait functions return
    /// `WAIT_IO_COMPLETION`, the others FALSE with it as the last error.
    Alerted,
    /// `WSPStartup`'s answer.
    Negotiated(Negotiated),
    /// A namespace lookup's address (CL-9).
    Addr(SocketAddrV4),
    /// A clock's reading (KW-3).
    Time(u64),
    /// `getaddrinfo`'s results, in order (AD-4).
    AddrInfo(Vec<AddrInfo>),
    /// `WSAIoctl`'s outcome (EX-1).
    Control(Control),
}

impl Reply {
    /// The result as a number: what the C function returns for this reply; for a clock
    /// (KW-3), its reading, which `QueryPerformanceCounter` and `GetSystemTimeAsFileTime`
    /// write through their pointer. `None` for a blocking hook's address, which differs
    /// between runs (TH-2).
    pub fn returned(&self) -> Option<i64> {
        const TRUE: i64 = 1;
        Some(match self {
            Reply::Done
            | Reply::Version(_)
            | Reply::Negotiated(_)
            | Reply::Addr(_)
            | Reply::AddrInfo(_)
            | Reply::Control(_) => 0,
            Reply::Socket(s) => s.raw() as i64,
            Reply::LastError(e) => i64::from(*e),
            Reply::Count(n) => i64::from(*n),
            Reply::Event(h) => h.raw() as i64,
            Reply::Hook(0) => 0,
            Reply::Hook(_) => return None,
            Reply::Port(p) => p.raw() as i64,
            Reply::Packet(p) => i64::from(p.error.is_none()),
            Reply::Packets(_) => TRUE,
            Reply::Alerted => i64::from(WAIT_IO_COMPLETION),
            Reply::Time(t) => i64::try_from(*t).unwrap_or(i64::MAX),
        })
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Done => f.write_str("0"),
            Reply::Version(v) => write!(f, "0 (version {v})"),
            Reply::Socket(s) => write!(f, "{s}"),
            Reply::LastError(e) => write!(f, "{}", error_name(*e)),
            Reply::Count(n) => write!(f, "{n}"),
            Reply::Event(h) => write!(f, "{h}"),
            Reply::Hook(h) => f.write_str(if *h == 0 {
                "NULL (the default)"
            } else {
                "hook"
            }),
            Reply::Port(p) => write!(f, "{p}"),
            Reply::Packet(p) => match p.error {
                None => write!(f, "TRUE ({} bytes, key {:#x})", p.bytes, p.key),
                Some(e) => write!(f, "FALSE ({}, key {:#x})", e.name(), p.key),
            },
            Reply::Packets(list) => write!(f, "TRUE ({} entries)", list.len()),
            Reply::Alerted => f.write_str("WAIT_IO_COMPLETION"),
            Reply::Negotiated(n) => write!(f, "0 (version {}, high {})", n.version, n.high),
            Reply::Addr(a) => write!(f, "{a}"),
            Reply::Time(t) => write!(f, "{t}"),
            Reply::Control(c) => write!(f, "{c}"),
            Reply::AddrInfo(list) => {
                f.write_str("0 [")?;
                for (i, a) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl ProcessCall<'_> {
    /// This family's rows of the call table ([`Call::spec`]).
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            ProcessCall::Startup { .. } => Spec::of(Winsock, "WSAStartup")
                .gate(Gate::Own)
                .returns(Returns::ErrorCode)
                .last_error(LastError::Untouched),
            // CL-3: a successful WSACleanup clears the last error.
            ProcessCall::Cleanup => Spec::of(Winsock, "WSACleanup")
                .gate(Gate::Own)
                .last_error(LastError::SetsAndClears)
                .cleans_up(),
            // TH-1: per thread, no WSAStartup needed.
            ProcessCall::GetLastError => Spec::of(Winsock, "WSAGetLastError")
                .gate(Gate::None)
                .returns(Returns::LastErrorValue)
                .in_hook(),
            ProcessCall::SetLastError(_) => Spec::of(Winsock, "WSASetLastError")
                .gate(Gate::None)
                .in_hook(),
            ProcessCall::EnumProtocols { .. } => Spec::of(Winsock, "WSAEnumProtocolsW"),
            // TH-5: the two calls a blocking hook exists to make.
            ProcessCall::IsBlocking => Spec::of(Winsock, "WSAIsBlocking")
                .gate(Gate::None)
                .in_hook(),
            ProcessCall::CancelBlocking => Spec::of(Winsock, "WSACancelBlockingCall").in_hook(),
            ProcessCall::SetBlockingHook(HookChange::Set(_)) => {
                Spec::of(Winsock, "WSASetBlockingHook").returns(Returns::Null)
            }
            ProcessCall::SetBlockingHook(HookChange::Unhook) => {
                Spec::of(Winsock, "WSAUnhookBlockingHook")
            }
            ProcessCall::RegisterName { addr: Some(_), .. } => {
                Spec::of(Winsock, "WSASetServiceW (register)")
            }
            ProcessCall::RegisterName { addr: None, .. } => {
                Spec::of(Winsock, "WSASetServiceW (delete)")
            }
            ProcessCall::LookupName { .. } => Spec::of(Winsock, "WSALookupServiceBeginW"),
            ProcessCall::Convert(c) => c.spec(),
            ProcessCall::Resolve(r) => r.spec(),
        }
    }
}

impl Conversion<'_> {
    /// Its rows of the call table ([`Call::spec`]): AD-5, `inet_pton`/`inet_ntop` need no
    /// `WSAStartup`; the `WSA*` pair does.
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            Conversion::Pton { wide, .. } => {
                Spec::of(Winsock, if *wide { "InetPtonW" } else { "inet_pton" })
                    .gate(Gate::None)
                    .returns(Returns::Pton)
                    .in_hook()
            }
            Conversion::Ntop { out, .. } => {
                let wide = matches!(out, TextOut::Wide(_));
                Spec::of(Winsock, if wide { "InetNtopW" } else { "inet_ntop" })
                    .gate(Gate::None)
                    .returns(Returns::Null)
                    .in_hook()
            }
            Conversion::StringToAddress { .. } => Spec::of(Winsock, "WSAStringToAddressW"),
            Conversion::AddressToString { .. } => Spec::of(Winsock, "WSAAddressToStringW"),
        }
    }
}

impl Resolution<'_> {
    /// Its rows of the call table ([`Call::spec`]): AD-4. `getaddrinfo` returns its error
    /// and also sets it, and clears the last error on success (Wine's tests of Windows);
    /// freeing a list needs no `WSAStartup` and never sets the last error.
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            Resolution::GetAddrInfo { wide, .. } => {
                Spec::of(Winsock, if *wide { "GetAddrInfoW" } else { "getaddrinfo" })
                    .returns(Returns::ErrorCode)
                    .last_error(LastError::SetsAndClears)
            }
            Resolution::FreeAddrInfo { wide, .. } => Spec::of(
                Winsock,
                if *wide {
                    "FreeAddrInfoW"
                } else {
                    "freeaddrinfo"
                },
            )
            .gate(Gate::None)
            .last_error(LastError::Untouched)
            .in_hook(),
            Resolution::GetHostName { out } => {
                let wide = matches!(out, TextOut::Wide(_));
                Spec::of(Winsock, if wide { "GetHostNameW" } else { "gethostname" })
            }
        }
    }
}

impl KernelCall {
    /// This family's rows of the call table ([`Call::spec`]).
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            // KW-3: virtual time, no WSAStartup needed.
            KernelCall::Clock(clock) => Spec::of(Kernel32, clock.function())
                .gate(Gate::None)
                .in_hook(),
            KernelCall::CurrentProcessId => Spec::of(Kernel32, "GetCurrentProcessId")
                .gate(Gate::None)
                .last_error(LastError::Untouched)
                .in_hook(),
            // DU-2: kernel32 handle flags; a bad handle is ERROR_INVALID_HANDLE.
            KernelCall::SetHandleInformation { .. } => Spec::of(Kernel32, "SetHandleInformation")
                .gate(Gate::None)
                .returns(Returns::False)
                .in_hook()
                .win32_codes(),
            KernelCall::GetHandleInformation { .. } => Spec::of(Kernel32, "GetHandleInformation")
                .gate(Gate::None)
                .returns(Returns::False)
                .in_hook()
                .win32_codes(),
            KernelCall::Win32GetLastError => Spec::of(Kernel32, "GetLastError")
                .gate(Gate::None)
                .returns(Returns::LastErrorValue)
                .in_hook(),
            KernelCall::Win32SetLastError(_) => Spec::of(Kernel32, "SetLastError")
                .gate(Gate::None)
                .in_hook(),
            // KW-2: kernel objects, no WSAStartup needed; Win32 codes.
            KernelCall::Object(o) => {
                let spec = Spec::of(Kernel32, o.function())
                    .gate(Gate::None)
                    .win32_codes();
                match o {
                    ObjectCall::CreateEvent { .. } => spec.returns(Returns::Null),
                    ObjectCall::SetEvent(_)
                    | ObjectCall::ResetEvent(_)
                    | ObjectCall::CloseHandle(_) => spec.returns(Returns::False).in_hook(),
                    ObjectCall::Wait { alertable, .. } => {
                        spec.returns(Returns::WaitFailed).waits(if *alertable {
                            Wait::AlertableReturns
                        } else {
                            Wait::NotAlertable
                        })
                    }
                }
            }
        }
    }
}

impl SocketCall<'_> {
    /// This family's rows of the call table ([`Call::spec`]).
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            // win: sock.c test_WSASocket: a new socket leaves last error 0.
            SocketCall::Socket { wsa, .. } => {
                Spec::of(Winsock, if *wsa { "WSASocketW" } else { "socket" })
                    .returns(Returns::Socket)
                    .last_error(LastError::SetsAndClears)
            }
            SocketCall::CloseSocket(_) => Spec::of(Winsock, "closesocket"),
            SocketCall::Duplicate { .. } => Spec::of(Winsock, "WSADuplicateSocketW"),
            SocketCall::Bind { .. } => Spec::of(Winsock, "bind"),
            SocketCall::Listen { .. } => Spec::of(Winsock, "listen"),
            SocketCall::Accept { .. } => Spec::of(Winsock, "accept").returns(Returns::Socket),
            SocketCall::Connect { .. } => Spec::of(Winsock, "connect"),
            SocketCall::SockName { .. } => Spec::of(Winsock, "getsockname"),
            SocketCall::PeerName { .. } => Spec::of(Winsock, "getpeername"),
        }
    }
}

impl OptionCall<'_> {
    /// This family's rows of the call table ([`Call::spec`]).
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            // win: sock.c test_set_getsockopt.
            OptionCall::SetSockOpt { .. } => {
                Spec::of(Winsock, "setsockopt").last_error(LastError::SetsAndClears)
            }
            OptionCall::GetSockOpt { .. } => Spec::of(Winsock, "getsockopt"),
            // win: sock.c test_fionbio.
            OptionCall::IoctlSocket { .. } => {
                Spec::of(Winsock, "ioctlsocket").last_error(LastError::SetsAndClears)
            }
            OptionCall::WsaIoctl { .. } => Spec::of(Winsock, "WSAIoctl"),
        }
    }
}

impl<'a> DataCall<'a> {
    /// `WSASend`/`WSASendTo` without `lpOverlapped` whose `WSABUF` array cannot be read (a
    /// NULL `lpBuffers`, or an array or buffer outside the caller's memory). Winsock treats
    /// it as a NULL buffer with bytes to send: the socket checks come first, then
    /// `WSAEFAULT`, which this call produces by being exactly that.
    pub fn send_unreadable(s: Socket, flags: i32, to: Option<&'a [u8]>) -> DataCall<'a> {
        DataCall::Send {
            s,
            buf: None,
            len: 1,
            flags,
            to: to.map(Some),
        }
    }

    /// `WSARecv` without `lpOverlapped` whose `WSABUF` array cannot be written: as
    /// [`send_unreadable`](DataCall::send_unreadable), a NULL buffer with room asked for.
    pub fn recv_unreadable(s: Socket, flags: i32) -> DataCall<'a> {
        DataCall::Recv {
            s,
            buf: None,
            len: 1,
            flags,
            from: None,
            msg: None,
        }
    }
}

impl DataCall<'_> {
    /// This family's rows of the call table ([`Call::spec`]).
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            DataCall::Send { to: None, .. } => Spec::of(Winsock, "send"),
            DataCall::Send { to: Some(_), .. } => Spec::of(Winsock, "sendto"),
            DataCall::Recv { msg: Some(_), .. } => Spec::of(Winsock, "WSARecvMsg"),
            DataCall::Recv { from: None, .. } => Spec::of(Winsock, "recv"),
            DataCall::Recv { from: Some(_), .. } => Spec::of(Winsock, "recvfrom"),
            DataCall::Shutdown { .. } => Spec::of(Winsock, "shutdown"),
            DataCall::SendDisconnect { .. } => Spec::of(Winsock, "WSASendDisconnect"),
            DataCall::RecvDisconnect { .. } => Spec::of(Winsock, "WSARecvDisconnect"),
        }
    }
}

impl EventCall<'_> {
    /// This family's rows of the call table ([`Call::spec`]).
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            EventCall::Poll { .. } => Spec::of(Winsock, "WSAPoll"),
            EventCall::CreateEvent => {
                Spec::of(Winsock, "WSACreateEvent").returns(Returns::InvalidEvent)
            }
            EventCall::EventOp(_, op) => Spec::of(Winsock, op.function()).returns(Returns::False),
            // OV-4: only an alertable wait returns WSA_WAIT_IO_COMPLETION after APCs ran.
            EventCall::WaitEvents { alertable, .. } => {
                Spec::of(Winsock, "WSAWaitForMultipleEvents")
                    .returns(Returns::WaitFailed)
                    .waits(if *alertable {
                        Wait::AlertableReturns
                    } else {
                        Wait::NotAlertable
                    })
            }
            EventCall::EventSelect { .. } => Spec::of(Winsock, "WSAEventSelect"),
            EventCall::EnumNetworkEvents { .. } => Spec::of(Winsock, "WSAEnumNetworkEvents"),
            EventCall::Select { .. } => Spec::of(Winsock, "select"),
        }
    }
}

impl IoCall<'_> {
    /// This family's rows of the call table ([`Call::spec`]).
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            IoCall::Overlapped { name, .. } => Spec::of(Winsock, name),
            // OV-4: waiting for a result is not alertable.
            IoCall::OverlappedResult { .. } => Spec::of(Winsock, "WSAGetOverlappedResult")
                .returns(Returns::False)
                .waits(Wait::NotAlertable),
            // EX-7: answers from the record, with Win32 codes; no WSAStartup needed.
            IoCall::GetOverlappedResult { .. } => Spec::of(Kernel32, "GetOverlappedResult")
                .gate(Gate::None)
                .returns(Returns::False)
                .in_hook()
                .waits(Wait::NotAlertable)
                .win32_codes(),
            // EX-7: GetOverlappedResult with a timeout, alertable as asked.
            IoCall::GetOverlappedResultEx { alertable, .. } => {
                Spec::kernel32_wait("GetOverlappedResultEx", *alertable)
            }
            IoCall::GetQueuedEx { alertable, .. } => {
                Spec::kernel32_wait("GetQueuedCompletionStatusEx", *alertable)
            }
            IoCall::PostPacket { .. } => Spec::of(Kernel32, "PostQueuedCompletionStatus")
                .gate(Gate::None)
                .returns(Returns::False)
                .in_hook()
                .win32_codes(),
            IoCall::Cancel { which, .. } => Spec::of(
                Kernel32,
                match which {
                    Cancel::ThreadOps => "CancelIo",
                    Cancel::All | Cancel::One(_) => "CancelIoEx",
                },
            )
            .gate(Gate::None)
            .returns(Returns::False)
            .in_hook()
            .win32_codes(),
            // ER-1: kernel32 objects need no WSAStartup and are never refused by TH-5.
            IoCall::CreatePort { .. } => Spec::of(Kernel32, "CreateIoCompletionPort")
                .gate(Gate::None)
                .returns(Returns::Null)
                .in_hook(),
            IoCall::GetQueued { .. } => Spec::of(Kernel32, "GetQueuedCompletionStatus")
                .gate(Gate::None)
                .returns(Returns::False)
                .in_hook()
                .waits(Wait::NotAlertable)
                .win32_codes(),
        }
    }
}

impl SpiCall {
    /// This family's rows of the call table ([`Call::spec`]).
    pub fn spec(&self) -> Spec {
        use Family::*;
        match self {
            // The SPI client is Ws2_32 itself: no WSAStartup; errors go to lpErrno.
            SpiCall::SpiStartup { .. } => Spec::of(Spi, "WSPStartup")
                .gate(Gate::None)
                .last_error(LastError::Untouched),
            SpiCall::SpiCleanup { .. } => Spec::of(Spi, "WSPCleanup")
                .gate(Gate::None)
                .last_error(LastError::Untouched),
        }
    }
}
