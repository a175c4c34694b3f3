//! One SPI call as data: [`Request`] (which `WSP*` function, with its arguments) and
//! [`Response`] (what it returns).
//!
//! Every [`Provider`](super::provider::Provider) method that a provider does not override
//! passes its call to [`Provider::handle`](super::provider::Provider::handle) as a
//! `Request`. That gives a provider two ways to be written: method by method (a layered
//! provider that changes `send` overrides `send`), or as one function over all the calls it
//! does not override (a provider that injects faults, logs or counts every call overrides
//! `handle`; the built-in base providers serve every socket call there).
//!
//! This module holds only the data types; it does not decide anything, and it does not
//! cover `WSPStartup`/`WSPCleanup`, which are a provider's own lifecycle rather than a call
//! on a socket.

use super::call::Record;
use super::provider::{Overlapped, SocketArgs};
use super::providers::control::Control;
use super::providers::net::{WsaBufIn, WsaBufOut};
use super::ws2::table::Socket;
use super::Stop;
use crate::error::WsaError;

/// One SPI call on its way to a provider: the `WSP*` function and its arguments, as the
/// matching [`Provider`](super::provider::Provider) method receives them.
#[derive(Debug)]
pub enum Request<'a> {
    /// `WSPSocket`.
    Socket(&'a SocketArgs),
    /// `WSPCloseSocket`.
    CloseSocket {
        /// The socket.
        s: Socket,
    },
    /// `WSPBind`: `addr` holds `namelen` bytes (`None`: NULL).
    Bind {
        /// The socket.
        s: Socket,
        /// `name`.
        addr: Option<&'a [u8]>,
    },
    /// `WSPListen`.
    Listen {
        /// The socket.
        s: Socket,
        /// `backlog`.
        backlog: i32,
    },
    /// `WSPAccept`: the peer's address goes to `addr`/`len`.
    Accept {
        /// The listening socket.
        s: Socket,
        /// `addr`.
        addr: Option<&'a mut [u8]>,
        /// `addrlen`, read and written back.
        len: Option<&'a mut i32>,
    },
    /// `WSPConnect`.
    Connect {
        /// The socket.
        s: Socket,
        /// `name`.
        addr: Option<&'a [u8]>,
    },
    /// `WSPSend` without `lpOverlapped`.
    Send {
        /// The socket.
        s: Socket,
        /// The bytes (`None`: a NULL buffer).
        buf: Option<&'a [u8]>,
        /// `len` as given.
        len: i32,
        /// `flags`.
        flags: i32,
    },
    /// `WSPSendTo` without `lpOverlapped`.
    SendTo {
        /// The socket.
        s: Socket,
        /// The bytes (`None`: a NULL buffer).
        buf: Option<&'a [u8]>,
        /// `len` as given.
        len: i32,
        /// `flags`.
        flags: i32,
        /// `lpTo` (`None`: NULL).
        to: Option<&'a [u8]>,
    },
    /// `WSPRecv` without `lpOverlapped`.
    Recv {
        /// The socket.
        s: Socket,
        /// The buffer (`None`: NULL).
        buf: Option<&'a mut [u8]>,
        /// `len` as given.
        len: i32,
        /// `flags`.
        flags: i32,
    },
    /// `WSPRecvFrom` without `lpOverlapped`.
    RecvFrom {
        /// The socket.
        s: Socket,
        /// The buffer (`None`: NULL).
        buf: Option<&'a mut [u8]>,
        /// `len` as given.
        len: i32,
        /// `flags`.
        flags: i32,
        /// `lpFrom`.
        from: Option<&'a mut [u8]>,
        /// `lpFromlen`, read and written back.
        from_len: Option<&'a mut i32>,
    },
    /// `WSPSend`/`WSPSendTo`/`WSPRecv`/`WSPRecvFrom` with `lpOverlapped`.
    StartOverlapped {
        /// The socket.
        s: Socket,
        /// The operation.
        op: Overlapped,
    },
    /// `WSPGetOverlappedResult`.
    GetOverlappedResult {
        /// The socket.
        s: Socket,
        /// The address of the `OVERLAPPED` (`None`: an operation of the safe API).
        overlapped: Option<usize>,
        /// Reads its `(Internal, InternalHigh)` (OV-5).
        record: Option<Record<'a>>,
        /// `fWait`.
        wait: bool,
        /// False when `lpcbTransfer` is NULL.
        has_bytes: bool,
    },
    /// `WSPShutdown`.
    Shutdown {
        /// The socket.
        s: Socket,
        /// `how`.
        how: i32,
    },
    /// `WSPSendDisconnect` (`None`: a NULL `lpOutboundDisconnectData`).
    SendDisconnect {
        /// The socket.
        s: Socket,
        /// The disconnect data.
        data: Option<WsaBufIn<'a>>,
    },
    /// `WSPRecvDisconnect` (`None`: a NULL `lpInboundDisconnectData`).
    RecvDisconnect {
        /// The socket.
        s: Socket,
        /// Where the disconnect data goes.
        data: Option<WsaBufOut<'a>>,
    },
    /// `WSPGetSockOpt`: `value` has `max(*len, 0)` bytes; `*len` is written back.
    GetSockOpt {
        /// The socket.
        s: Socket,
        /// `level`.
        level: i32,
        /// `optname`.
        name: i32,
        /// `optval`.
        value: Option<&'a mut [u8]>,
        /// `optlen`.
        len: Option<&'a mut i32>,
    },
    /// `WSPSetSockOpt`: `value` has `max(len, 0)` bytes.
    SetSockOpt {
        /// The socket.
        s: Socket,
        /// `level`.
        level: i32,
        /// `optname`.
        name: i32,
        /// `optval`.
        value: Option<&'a [u8]>,
        /// `optlen` as given.
        len: i32,
    },
    /// `WSPIoctl` for `ioctlsocket`'s commands (`FIONBIO`, `FIONREAD`).
    Ioctl {
        /// The socket.
        s: Socket,
        /// `cmd`.
        cmd: i32,
        /// `argp`.
        arg: Option<&'a mut u32>,
    },
    /// `WSPDuplicateSocket` (DU-1): the token, answered as a [`Response::Count`], that a
    /// `WSPSocket` in process `process` names the socket by (`dwProviderReserved`).
    DuplicateSocket {
        /// The socket.
        s: Socket,
        /// `dwProcessId`.
        process: u32,
    },
    /// `WSPIoctl` as `WSAIoctl` calls it (EX-1): `input` has `cbInBuffer` bytes, `output`
    /// `cbOutBuffer`; the answer is a [`Response::Control`]. Ws2_32 indicates the completion
    /// of an overlapped call itself, so the provider answers at once.
    Control {
        /// The socket.
        s: Socket,
        /// `dwIoControlCode`.
        code: u32,
        /// `lpvInBuffer`.
        input: Option<&'a [u8]>,
        /// `lpvOutBuffer`.
        output: Option<&'a mut [u8]>,
    },
    /// `WSPGetSockName`.
    SockName {
        /// The socket.
        s: Socket,
        /// `name`.
        addr: Option<&'a mut [u8]>,
        /// `namelen`, read and written back.
        len: Option<&'a mut i32>,
    },
    /// `WSPGetPeerName`.
    PeerName {
        /// The socket.
        s: Socket,
        /// `name`.
        addr: Option<&'a mut [u8]>,
        /// `namelen`, read and written back.
        len: Option<&'a mut i32>,
    },
    /// `WSPCancelBlockingCall` for the calling thread.
    CancelBlockingCall,
}

/// What an SPI call returned (its `lpErrno` is the `Err` beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// A new socket (`WSPSocket`, `WSPAccept`).
    Socket(Socket),
    /// A byte count (the data calls and `WSPGetOverlappedResult`).
    Count(usize),
    /// Success with nothing to return.
    Done,
    /// What a `WSPIoctl` for `WSAIoctl` produced.
    Control(Control),
}

/// What a per-socket SPI call returns, to and from its [`Response`] (the trait's defaults and
/// `Lower::handle` convert with it; an answer of the wrong kind fails `WSAEINVALIDPROVIDER`).
pub trait FromResponse: Sized {
    /// The value a response carries.
    fn from_response(r: Response) -> Result<Self, Stop>;
    /// The response that carries it.
    fn into_response(self) -> Response;
}

impl FromResponse for () {
    fn from_response(r: Response) -> Result<(), Stop> {
        r.done()
    }
    fn into_response(self) -> Response {
        Response::Done
    }
}

impl FromResponse for usize {
    fn from_response(r: Response) -> Result<usize, Stop> {
        r.count()
    }
    fn into_response(self) -> Response {
        Response::Count(self)
    }
}

/// A `WSPDuplicateSocket` token, carried as a count.
impl FromResponse for u32 {
    fn from_response(r: Response) -> Result<u32, Stop> {
        r.count().map(|n| n as u32)
    }
    fn into_response(self) -> Response {
        Response::Count(self as usize)
    }
}

impl FromResponse for Socket {
    fn from_response(r: Response) -> Result<Socket, Stop> {
        r.socket()
    }
    fn into_response(self) -> Response {
        Response::Socket(self)
    }
}

impl FromResponse for Control {
    fn from_response(r: Response) -> Result<Control, Stop> {
        r.control()
    }
    fn into_response(self) -> Response {
        Response::Control(self)
    }
}

impl Response {
    /// The socket of a [`Response::Socket`]; any other answer breaks the SPI contract, and the
    /// call fails `WSAEINVALIDPROVIDER`.
    pub fn socket(self) -> Result<Socket, Stop> {
        match self {
            Response::Socket(s) => Ok(s),
            Response::Count(_) | Response::Done | Response::Control(_) => {
                Err(WsaError::InvalidProvider.into())
            }
        }
    }

    /// The count of a [`Response::Count`]; any other answer fails `WSAEINVALIDPROVIDER`.
    pub fn count(self) -> Result<usize, Stop> {
        match self {
            Response::Count(n) => Ok(n),
            Response::Socket(_) | Response::Done | Response::Control(_) => {
                Err(WsaError::InvalidProvider.into())
            }
        }
    }

    /// Success of a [`Response::Done`]; any other answer fails `WSAEINVALIDPROVIDER`.
    pub fn done(self) -> Result<(), Stop> {
        match self {
            Response::Done => Ok(()),
            Response::Socket(_) | Response::Count(_) | Response::Control(_) => {
                Err(WsaError::InvalidProvider.into())
            }
        }
    }

    /// The outcome of a [`Response::Control`]; any other answer fails `WSAEINVALIDPROVIDER`.
    pub fn control(self) -> Result<Control, Stop> {
        match self {
            Response::Control(c) => Ok(c),
            Response::Socket(_) | Response::Count(_) | Response::Done => {
                Err(WsaError::InvalidProvider.into())
            }
        }
    }
}
