//! Safe, idiomatic Winsock for new Rust code: [`Socket`] values and `Result<T, WsaError>`.
//!
//! Every function makes exactly the Winsock call its name says (the trace shows the same calls
//! as code using [`sys`](crate::sys)) and holds no behaviour of its own.
//!
//! ```
//! use ws2sim::{api, consts::*, Linger, Sim, Socket, Version, WsaError};
//! let sim = Sim::new();
//! sim.localhost().process("app").run(|| {
//!     api::startup(Version::V2_2).unwrap();
//!     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
//!     s.set_linger(Linger::on(5)).unwrap();
//!     assert_eq!(s.linger().unwrap(), Linger::on(5));
//!     assert!(!s.dont_linger().unwrap());
//!     s.close().unwrap();
//!     assert_eq!(s.close(), Err(WsaError::NotSocket));
//!     api::cleanup().unwrap();
//! });
//! ```

mod events;
mod net;
mod overlapped;

pub use events::*;
pub use overlapped::*;

use crate::consts::*;
use crate::core::call::Call;
use std::net::SocketAddrV4;

use crate::core::catalog::{ProtocolInfo, PROTOCOL_INFO_SIZE};
use crate::core::providers::socket::Linger;
use crate::core::ws2::table::Socket;
use crate::core::ws2::version::{Version, WsaData, WSADATA_SIZE};
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// `WSAStartup`: negotiates `requested` (ST-1) and counts one more startup (ST-4). Returns what
/// Windows writes into `WSADATA`.
pub fn startup(requested: Version) -> Result<WsaData, WsaError> {
    let mut data = [0u8; WSADATA_SIZE];
    call(Call::Startup {
        requested,
        data: Some(&mut data),
    })?;
    Ok(WsaData::for_request(requested))
}

/// `WSACleanup`: one less startup; the last one performs the final cleanup (CL-2).
pub fn cleanup() -> Result<(), WsaError> {
    call(Call::Cleanup).map(drop)
}

/// `WSAGetLastError`: the calling thread's last error, as a raw value (it may be any `i32` a
/// program set with [`set_last_error`]).
pub fn last_error() -> i32 {
    match call(Call::GetLastError) {
        Ok(Reply::LastError(e)) => e,
        other => unreachable!("WSAGetLastError always succeeds, got {other:?}"),
    }
}

/// `WSASetLastError`.
pub fn set_last_error(code: i32) {
    let _ = call(Call::SetLastError(code));
}

/// Registers `name` for `addr` in the simulation's namespace (CL-9: a stand-in for
/// `WSASetServiceW(.., RNRSERVICE_REGISTER, ..)`). Registering a name again replaces its
/// address. Needs `WSAStartup` (ER-1); an empty name fails `WSAEINVAL`.
///
/// Names belong to the namespace, not to the process's Ws2_32 state, so they survive
/// `WSACleanup` (CL-9) and the process:
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use ws2sim::{api, Sim, Version, WsaError};
///
/// let sim = Sim::new();
/// let addr = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80);
/// sim.localhost().process("server").run(|| {
///     api::startup(Version::new(2, 2)).unwrap();
///     api::register_name("www", addr).unwrap();
///     api::cleanup().unwrap();
///     assert_eq!(api::lookup_name("www"), Err(WsaError::NotInitialised));
///     api::startup(Version::new(2, 2)).unwrap();
///     assert_eq!(api::lookup_name("www"), Ok(addr));
///     api::cleanup().unwrap();
/// });
/// ```
///
/// # Divergence
/// One flat, simulation-wide map from names to IPv4 addresses instead of `WSAQUERYSETW`
/// records and namespace providers.
pub fn register_name(name: &str, addr: SocketAddrV4) -> Result<(), WsaError> {
    call(Call::RegisterName {
        name: name.to_owned(),
        addr: Some(addr),
    })
    .map(drop)
}

/// Removes `name` from the namespace (`RNRSERVICE_DELETE`); an unknown name fails
/// `WSASERVICE_NOT_FOUND`.
pub fn deregister_name(name: &str) -> Result<(), WsaError> {
    call(Call::RegisterName {
        name: name.to_owned(),
        addr: None,
    })
    .map(drop)
}

/// The address registered for `name` (a stand-in for `WSALookupServiceBeginW`/`NextW`);
/// `WSASERVICE_NOT_FOUND` when there is none.
pub fn lookup_name(name: &str) -> Result<SocketAddrV4, WsaError> {
    match call(Call::LookupName {
        name: name.to_owned(),
    })? {
        Reply::Addr(a) => Ok(a),
        other => unreachable!("a lookup replies with an address, got {other:?}"),
    }
}

/// `WSAEnumProtocolsW` with a buffer of the size Winsock asks for: the listed catalog entries
/// serving any protocol in `filter` (all when `None`).
pub fn enum_protocols(filter: Option<&[i32]>) -> Result<Vec<ProtocolInfo>, WsaError> {
    let mut len = 0u32;
    let sized = call(Call::EnumProtocols {
        filter: filter.map(<[i32]>::to_vec),
        buffer: None,
        len: Some(&mut len),
    });
    match sized {
        Err(WsaError::NoBufferSpace) => {}
        Err(e) => return Err(e),
        Ok(other) => unreachable!("a NULL buffer never succeeds, got {other:?}"),
    }
    let mut buf = vec![0u8; len as usize];
    let n = match call(Call::EnumProtocols {
        filter: filter.map(<[i32]>::to_vec),
        buffer: Some(&mut buf),
        len: Some(&mut len),
    })? {
        Reply::Count(n) => n as usize,
        other => unreachable!("WSAEnumProtocolsW returned {other:?}"),
    };
    Ok(buf
        .chunks_exact(PROTOCOL_INFO_SIZE)
        .take(n)
        .map(|c| ProtocolInfo::decode(c.try_into().expect("chunks are whole entries")))
        .collect())
}

fn new_socket(call_: Call<'_>) -> Result<Socket, WsaError> {
    match call(call_)? {
        Reply::Socket(s) => Ok(s),
        other => unreachable!("socket creation returned {other:?}"),
    }
}

impl Socket {
    /// `socket(af, type, protocol)`.
    pub fn new(af: i32, ty: i32, protocol: i32) -> Result<Socket, WsaError> {
        new_socket(Call::Socket {
            af,
            ty,
            protocol,
            info: None,
            group: 0,
            flags: WSA_FLAG_OVERLAPPED,
            wsa: false,
        })
    }

    /// `WSASocketW(af, type, protocol, info, 0, flags)`.
    pub fn wsa(
        af: i32,
        ty: i32,
        protocol: i32,
        info: Option<&ProtocolInfo>,
        flags: u32,
    ) -> Result<Socket, WsaError> {
        new_socket(Call::Socket {
            af,
            ty,
            protocol,
            info: info.cloned(),
            group: 0,
            flags,
            wsa: true,
        })
    }

    /// `WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, info, 0, flags)`:
    /// a socket of exactly this catalog entry.
    pub fn from_protocol_info(info: &ProtocolInfo, flags: u32) -> Result<Socket, WsaError> {
        Socket::wsa(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            Some(info),
            flags,
        )
    }

    /// `closesocket`.
    pub fn close(self) -> Result<(), WsaError> {
        call(Call::CloseSocket(self)).map(drop)
    }

    /// `setsockopt(level, name)` with the value's bytes.
    pub fn set_option(self, level: i32, name: i32, value: &[u8]) -> Result<(), WsaError> {
        let len = i32::try_from(value.len()).map_err(|_| WsaError::Fault)?;
        call(Call::SetSockOpt {
            s: self,
            level,
            name,
            value: Some(value),
            len,
        })
        .map(drop)
    }

    /// `getsockopt(level, name)` with a buffer of `capacity` bytes; returns the bytes Winsock
    /// reports (`optlen` on return). A capacity above `i32::MAX` fails `WSAEFAULT`.
    pub fn option(self, level: i32, name: i32, capacity: usize) -> Result<Vec<u8>, WsaError> {
        // A length Winsock cannot express fails before anything is allocated.
        let mut len = i32::try_from(capacity).map_err(|_| WsaError::Fault)?;
        let mut buf = vec![0u8; capacity];
        call(Call::GetSockOpt {
            s: self,
            level,
            name,
            value: Some(&mut buf),
            len: Some(&mut len),
        })?;
        buf.truncate(usize::try_from(len).unwrap_or(0));
        Ok(buf)
    }

    fn dword(self, name: i32) -> Result<u32, WsaError> {
        let b = self.option(SOL_SOCKET, name, 4)?;
        let mut raw = [0u8; 4];
        raw[..b.len().min(4)].copy_from_slice(&b[..b.len().min(4)]);
        Ok(u32::from_ne_bytes(raw))
    }

    /// `SO_LINGER` (CS-8).
    pub fn set_linger(self, linger: Linger) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_LINGER, &linger.to_bytes())
    }

    /// `SO_LINGER` (CS-8).
    pub fn linger(self) -> Result<Linger, WsaError> {
        Ok(Linger::from_bytes(self.dword(SO_LINGER)?.to_ne_bytes()))
    }

    /// `SO_DONTLINGER` (CS-8): `true` turns linger off, keeping `l_linger`.
    pub fn set_dont_linger(self, on: bool) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_DONTLINGER, &u32::from(on).to_ne_bytes())
    }

    /// `SO_DONTLINGER` (CS-8): `!l_onoff`.
    pub fn dont_linger(self) -> Result<bool, WsaError> {
        Ok(self.dword(SO_DONTLINGER)? != 0)
    }

    /// `SO_TYPE`: `SOCK_STREAM` or `SOCK_DGRAM`.
    pub fn socket_type(self) -> Result<i32, WsaError> {
        Ok(self.dword(SO_TYPE)? as i32)
    }

    /// `SO_PROTOCOL_INFOW`: the catalog entry the socket belongs to.
    pub fn protocol_info(self) -> Result<ProtocolInfo, WsaError> {
        let b = self.option(SOL_SOCKET, SO_PROTOCOL_INFOW, PROTOCOL_INFO_SIZE)?;
        let b: [u8; PROTOCOL_INFO_SIZE] = b.try_into().map_err(|_| WsaError::Fault)?;
        Ok(ProtocolInfo::decode(&b))
    }

    /// `ioctlsocket(FIONBIO)`.
    pub fn set_nonblocking(self, on: bool) -> Result<(), WsaError> {
        let mut arg = u32::from(on);
        call(Call::IoctlSocket {
            s: self,
            cmd: FIONBIO,
            arg: Some(&mut arg),
        })
        .map(drop)
    }
}
