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
mod extensions;
mod net;
mod overlapped;

pub use events::*;
pub use extensions::*;
pub use overlapped::*;

use crate::consts::*;
use crate::core::call::{Call, OptionCall, ProcessCall, SocketCall};
use std::net::SocketAddrV4;

use crate::core::catalog::{ProtocolInfo, PROTOCOL_INFO_SIZE};
use crate::core::providers::socket::Linger;
use crate::core::ws2::table::Socket;
use crate::core::ws2::version::{Version, WsaData, WSADATA_SIZE};
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

/// `WSAStartup`: negotiates `requested` ([ST-1]) and counts one more startup ([ST-4]). Returns
/// what Windows writes into `WSADATA`; a refused version fails `VersionNotSupported`.
///
/// ```
/// use ws2sim::{api, Sim, Version, WsaError};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     let data = api::startup(Version::new(3, 3)).unwrap(); // answered with 2.2
///     assert_eq!((data.version, data.high_version), (Version::V2_2, Version::V2_2));
///     assert_eq!(data.description, "WinSock 2.0");
///     assert_eq!(api::startup(Version::new(0, 2)), Err(WsaError::VersionNotSupported));
///     assert_eq!(p.startup_count(), 1);
///     api::cleanup().unwrap();
///     assert_eq!(api::cleanup(), Err(WsaError::NotInitialised));
/// });
/// ```
///
/// [ST-1]: crate::rules#st-1
/// [ST-4]: crate::rules#st-4
pub fn startup(requested: Version) -> Result<WsaData, WsaError> {
    let mut data = [0u8; WSADATA_SIZE];
    call(ProcessCall::Startup {
        requested,
        data: Some(&mut data),
    })?;
    Ok(WsaData::for_request(requested))
}

/// `WSACleanup`: one less startup ([CL-2]); the last one performs the final cleanup, which
/// resets and frees the process's sockets and every other resource ([CL-6], [CL-8]). With no
/// startup left it fails `NotInitialised` ([CL-1]). See [`sys::WSACleanup`](crate::sys::WSACleanup)
/// for every rule.
///
/// ```
/// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     api::startup(Version::V2_2).unwrap();
///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
///     api::cleanup().unwrap(); // 2 -> 1: the socket lives on
///     assert_eq!(s.socket_type().unwrap(), SOCK_DGRAM);
///     api::cleanup().unwrap(); // 1 -> 0: the final cleanup frees it
///     assert_eq!(api::cleanup(), Err(WsaError::NotInitialised));
/// });
/// assert_eq!(p.live_resources(), 0);
/// ```
///
/// [CL-1]: crate::rules#cl-1
/// [CL-2]: crate::rules#cl-2
/// [CL-6]: crate::rules#cl-6
/// [CL-8]: crate::rules#cl-8
pub fn cleanup() -> Result<(), WsaError> {
    call(ProcessCall::Cleanup).map(drop)
}

/// `WSAGetLastError`: the calling thread's last error, as a raw value (it may be any `i32` a
/// program set with [`set_last_error`]). Each thread has its own; no startup is needed
/// ([TH-1]).
///
/// ```
/// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     assert_eq!(api::last_error(), 0);
///     let refused = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
///     assert_eq!(refused, Err(WsaError::NotInitialised));
///     assert_eq!(api::last_error(), WSANOTINITIALISED);
/// });
/// ```
///
/// [TH-1]: crate::rules#th-1
pub fn last_error() -> i32 {
    match call(ProcessCall::GetLastError) {
        Ok(Reply::LastError(e)) => e,
        other => unreachable!("WSAGetLastError always succeeds, got {other:?}"),
    }
}

/// `WSASetLastError`: sets the calling thread's last error ([TH-1]).
///
/// ```
/// use ws2sim::{api, Sim};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::set_last_error(-7);
///     assert_eq!(api::last_error(), -7);
///     let other = p.spawn(api::last_error); // another thread has its own
///     assert_eq!(other.join(), 0);
/// });
/// ```
///
/// [TH-1]: crate::rules#th-1
pub fn set_last_error(code: i32) {
    let _ = call(ProcessCall::SetLastError(code));
}

/// Registers `name` for `addr` in the simulation's namespace ([CL-9]: a stand-in for
/// `WSASetServiceW(.., RNRSERVICE_REGISTER, ..)`). Registering a name again replaces its
/// address. Needs `WSAStartup` ([ER-1]); an empty name fails `WSAEINVAL`.
///
/// Names belong to the namespace, not to the process's Ws2_32 state, so they survive
/// `WSACleanup` ([CL-9]) and the process:
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
///
/// [CL-9]: crate::rules#cl-9
/// [ER-1]: crate::rules#er-1
pub fn register_name(name: &str, addr: SocketAddrV4) -> Result<(), WsaError> {
    call(ProcessCall::RegisterName {
        name: name.to_owned(),
        addr: Some(addr),
    })
    .map(drop)
}

/// Removes `name` from the namespace (`RNRSERVICE_DELETE`); an unknown name fails
/// `WSASERVICE_NOT_FOUND`.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use ws2sim::{api, Sim, Version, WsaError};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let addr = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80);
///     api::register_name("www", addr).unwrap();
///     api::deregister_name("www").unwrap();
///     assert_eq!(api::lookup_name("www"), Err(WsaError::ServiceNotFound));
///     assert_eq!(api::deregister_name("www"), Err(WsaError::ServiceNotFound));
///     api::cleanup().unwrap();
/// });
/// ```
pub fn deregister_name(name: &str) -> Result<(), WsaError> {
    call(ProcessCall::RegisterName {
        name: name.to_owned(),
        addr: None,
    })
    .map(drop)
}

/// The address registered for `name` (a stand-in for `WSALookupServiceBeginW`/`NextW`), by
/// any process of the simulation; `WSASERVICE_NOT_FOUND` when there is none.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use ws2sim::{api, Sim, Version, WsaError};
///
/// let sim = Sim::new();
/// let host = sim.localhost();
/// let addr = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80);
/// host.process("server").run(|| {
///     api::startup(Version::V2_2).unwrap();
///     api::register_name("www", addr).unwrap();
/// });
/// host.process("client").run(|| {
///     api::startup(Version::V2_2).unwrap();
///     assert_eq!(api::lookup_name("www"), Ok(addr));
///     assert_eq!(api::lookup_name("ftp"), Err(WsaError::ServiceNotFound));
/// });
/// ```
pub fn lookup_name(name: &str) -> Result<SocketAddrV4, WsaError> {
    match call(ProcessCall::LookupName {
        name: name.to_owned(),
    })? {
        Reply::Addr(a) => Ok(a),
        other => unreachable!("a lookup replies with an address, got {other:?}"),
    }
}

/// `WSAEnumProtocolsW` with a buffer of the size Winsock asks for: the listed catalog entries
/// serving any protocol in `filter` (all when `None`), in catalog order ([SP-11]): TCP/IP,
/// UDP/IP, ws2sim's disconnect-data stream, then the providers a
/// [`SimBuilder::provider`](crate::SimBuilder::provider) added.
///
/// ```
/// use ws2sim::{api, consts::*, Sim, Version};
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| {
///     api::startup(Version::V2_2).unwrap();
///     let all = api::enum_protocols(None).unwrap();
///     let protocols: Vec<i32> = all.iter().map(|e| e.protocol).collect();
///     assert_eq!(protocols, [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_WS2SIM_DISCONNECT_DATA]);
///     assert_eq!(all[0].name, "MSAFD Tcpip [TCP/IP]");
///     let udp = api::enum_protocols(Some(&[IPPROTO_UDP])).unwrap();
///     assert_eq!((udp.len(), udp[0].socket_type), (1, SOCK_DGRAM));
///     api::cleanup().unwrap();
/// });
/// ```
///
/// [SP-11]: crate::rules#sp-11
pub fn enum_protocols(filter: Option<&[i32]>) -> Result<Vec<ProtocolInfo>, WsaError> {
    let mut len = 0u32;
    let sized = call(ProcessCall::EnumProtocols {
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
    let n = match call(ProcessCall::EnumProtocols {
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

fn new_socket<'a>(call_: impl Into<Call<'a>>) -> Result<Socket, WsaError> {
    match call(call_)? {
        Reply::Socket(s) => Ok(s),
        other => unreachable!("socket creation returned {other:?}"),
    }
}

impl Socket {
    /// `socket(af, type, protocol)`: a socket of the first catalog entry serving the triple
    /// ([SP-11]; `protocol` 0: the type's default), overlapped-capable, blocking, unbound. The
    /// errors and their order are [`sys::socket`](crate::sys::socket)'s.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, 0).unwrap();
    ///     assert_eq!(s.protocol_info().unwrap().protocol, IPPROTO_TCP);
    ///     assert_eq!(Socket::new(AF_INET.into(), 99, 0), Err(WsaError::SocketTypeNotSupported));
    ///     let wrong = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_UDP);
    ///     assert_eq!(wrong, Err(WsaError::ProtocolNotSupported));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [SP-11]: crate::rules#sp-11
    pub fn new(af: i32, ty: i32, protocol: i32) -> Result<Socket, WsaError> {
        new_socket(SocketCall::Socket {
            af,
            ty,
            protocol,
            info: None,
            group: 0,
            flags: WSA_FLAG_OVERLAPPED,
            wsa: false,
        })
    }

    /// `WSASocketW(af, type, protocol, info, 0, flags)`: as [`new`](Socket::new), with
    /// `WSA_FLAG_*` flags; with `info`, arguments that are 0 or `FROM_PROTOCOL_INFO` are taken
    /// from it.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::wsa(AF_INET.into(), SOCK_DGRAM, 0, None, WSA_FLAG_OVERLAPPED).unwrap();
    ///     assert_eq!(s.socket_type().unwrap(), SOCK_DGRAM);
    ///     let tcp = api::enum_protocols(Some(&[IPPROTO_TCP])).unwrap();
    ///     let s = Socket::wsa(0, 0, 0, Some(&tcp[0]), 0).unwrap(); // all three from the entry
    ///     assert_eq!(s.socket_type().unwrap(), SOCK_STREAM);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn wsa(
        af: i32,
        ty: i32,
        protocol: i32,
        info: Option<&ProtocolInfo>,
        flags: u32,
    ) -> Result<Socket, WsaError> {
        new_socket(SocketCall::Socket {
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
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let entries = api::enum_protocols(Some(&[IPPROTO_WS2SIM_DISCONNECT_DATA])).unwrap();
    ///     let s = Socket::from_protocol_info(&entries[0], WSA_FLAG_OVERLAPPED).unwrap();
    ///     assert_eq!(s.protocol_info().unwrap(), entries[0]);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn from_protocol_info(info: &ProtocolInfo, flags: u32) -> Result<Socket, WsaError> {
        Socket::wsa(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            Some(info),
            flags,
        )
    }

    /// `closesocket`: linger off (the default) returns at once and the queued data is still
    /// sent, then FIN ([CS-2]); a closed handle fails `NotSocket` and never comes back ([CS-1]).
    /// See [`sys::closesocket`](crate::sys::closesocket) for linger and every rule.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     s.close().unwrap();
    ///     assert_eq!(s.close(), Err(WsaError::NotSocket));
    ///     assert_eq!(s.socket_type(), Err(WsaError::NotSocket));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [CS-1]: crate::rules#cs-1
    /// [CS-2]: crate::rules#cs-2
    pub fn close(self) -> Result<(), WsaError> {
        call(SocketCall::CloseSocket(self)).map(drop)
    }

    /// `setsockopt(level, name)` with the value's bytes. Only `SOL_SOCKET` options are modelled;
    /// the errors are [`sys::setsockopt`](crate::sys::setsockopt)'s.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     s.set_option(SOL_SOCKET, SO_BROADCAST, &1u32.to_ne_bytes()).unwrap();
    ///     assert_eq!(s.option(SOL_SOCKET, SO_BROADCAST, 4).unwrap(), 1u32.to_ne_bytes());
    ///     let err = s.set_option(IPPROTO_TCP, 1, &1u32.to_ne_bytes());
    ///     assert_eq!(err, Err(WsaError::NoProtocolOption));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn set_option(self, level: i32, name: i32, value: &[u8]) -> Result<(), WsaError> {
        let len = i32::try_from(value.len()).map_err(|_| WsaError::Fault)?;
        call(OptionCall::SetSockOpt {
            s: self,
            level,
            name,
            value: Some(value),
            len,
        })
        .map(drop)
    }

    /// `getsockopt(level, name)` with a buffer of `capacity` bytes; returns the bytes Winsock
    /// reports (`optlen` on return). A capacity above `i32::MAX` fails `WSAEFAULT`; the other
    /// errors are [`sys::getsockopt`](crate::sys::getsockopt)'s.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     assert_eq!(s.option(SOL_SOCKET, SO_TYPE, 4).unwrap(), SOCK_STREAM.to_ne_bytes());
    ///     assert_eq!(s.option(SOL_SOCKET, SO_RCVBUF, 2), Err(WsaError::Fault)); // too small
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn option(self, level: i32, name: i32, capacity: usize) -> Result<Vec<u8>, WsaError> {
        // A length Winsock cannot express fails before anything is allocated.
        let mut len = i32::try_from(capacity).map_err(|_| WsaError::Fault)?;
        let mut buf = vec![0u8; capacity];
        call(OptionCall::GetSockOpt {
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

    /// `SO_LINGER` ([CS-8]): how [`close`](Socket::close) ends the connection. Stream sockets
    /// only: a datagram socket fails `NoProtocolOption`.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Linger, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     s.set_linger(Linger::on(0)).unwrap(); // close will reset the connection
    ///     assert_eq!(s.linger().unwrap(), Linger::on(0));
    ///     let u = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     assert_eq!(u.set_linger(Linger::on(5)), Err(WsaError::NoProtocolOption));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [CS-8]: crate::rules#cs-8
    pub fn set_linger(self, linger: Linger) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_LINGER, &linger.to_bytes())
    }

    /// `SO_LINGER` ([CS-8]): off by default.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Linger, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     assert_eq!(s.linger().unwrap(), Linger::OFF);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [CS-8]: crate::rules#cs-8
    pub fn linger(self) -> Result<Linger, WsaError> {
        Ok(Linger::from_bytes(self.dword(SO_LINGER)?.to_ne_bytes()))
    }

    /// `SO_DONTLINGER` ([CS-8]): `true` turns linger off, keeping `l_linger`; `false` turns it on.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Linger, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     s.set_linger(Linger::on(7)).unwrap();
    ///     s.set_dont_linger(true).unwrap();
    ///     assert_eq!(s.linger().unwrap(), Linger { onoff: 0, seconds: 7 });
    ///     assert!(s.dont_linger().unwrap());
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [CS-8]: crate::rules#cs-8
    pub fn set_dont_linger(self, on: bool) -> Result<(), WsaError> {
        self.set_option(SOL_SOCKET, SO_DONTLINGER, &u32::from(on).to_ne_bytes())
    }

    /// `SO_DONTLINGER` ([CS-8]): `!l_onoff`.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Linger, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP).unwrap();
    ///     assert!(s.dont_linger().unwrap());
    ///     s.set_linger(Linger::on(5)).unwrap();
    ///     assert!(!s.dont_linger().unwrap());
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    ///
    /// [CS-8]: crate::rules#cs-8
    pub fn dont_linger(self) -> Result<bool, WsaError> {
        Ok(self.dword(SO_DONTLINGER)? != 0)
    }

    /// `SO_TYPE`: `SOCK_STREAM` or `SOCK_DGRAM`.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     assert_eq!(s.socket_type().unwrap(), SOCK_DGRAM);
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn socket_type(self) -> Result<i32, WsaError> {
        Ok(self.dword(SO_TYPE)? as i32)
    }

    /// `SO_PROTOCOL_INFOW`: the catalog entry the socket belongs to.
    ///
    /// ```
    /// use ws2sim::{api, consts::*, Sim, Socket, Version};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     let info = s.protocol_info().unwrap();
    ///     assert_eq!((info.protocol, info.name.as_str()), (IPPROTO_UDP, "MSAFD Tcpip [UDP/IP]"));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn protocol_info(self) -> Result<ProtocolInfo, WsaError> {
        let b = self.option(SOL_SOCKET, SO_PROTOCOL_INFOW, PROTOCOL_INFO_SIZE)?;
        let b: [u8; PROTOCOL_INFO_SIZE] = b.try_into().map_err(|_| WsaError::Fault)?;
        Ok(ProtocolInfo::decode(&b))
    }

    /// `ioctlsocket(FIONBIO)`: a non-blocking socket's calls that would wait fail `WouldBlock`
    /// instead. A socket with a `WSAEventSelect` association cannot be made blocking
    /// (`InvalidArgument`).
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddrV4};
    /// use ws2sim::{api, consts::*, Sim, Socket, Version, WsaError};
    ///
    /// let sim = Sim::new();
    /// let p = sim.localhost().process("app");
    /// p.run(|| {
    ///     api::startup(Version::V2_2).unwrap();
    ///     let s = Socket::new(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP).unwrap();
    ///     s.bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5353)).unwrap();
    ///     s.set_nonblocking(true).unwrap();
    ///     assert_eq!(s.recv(&mut [0u8; 8]), Err(WsaError::WouldBlock));
    ///     api::cleanup().unwrap();
    /// });
    /// ```
    pub fn set_nonblocking(self, on: bool) -> Result<(), WsaError> {
        let mut arg = u32::from(on);
        call(OptionCall::IoctlSocket {
            s: self,
            cmd: FIONBIO,
            arg: Some(&mut arg),
        })
        .map(drop)
    }
}
