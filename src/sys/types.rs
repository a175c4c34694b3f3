//! `#[repr(C)]` Winsock structures with windows-sys' names and 64-bit field order.
#![allow(non_snake_case, non_camel_case_types)]

use crate::core::catalog::{ProtocolInfo, PROTOCOL_INFO_SIZE};
use crate::core::ws2::version::WSADATA_SIZE;

/// `GUID`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GUID {
    /// First 32 bits.
    pub data1: u32,
    /// Next 16 bits.
    pub data2: u16,
    /// Next 16 bits.
    pub data3: u16,
    /// Last 64 bits.
    pub data4: [u8; 8],
}

impl GUID {
    /// The GUID whose text form is `uuid` in hex, as windows-sys' `GUID::from_u128`:
    /// `GUID::from_u128(0xb5367df1_cbac_11cf_95ca_00805f48a192)` is `WSAID_ACCEPTEX`.
    ///
    /// ```
    /// let g = ws2sim::sys::GUID::from_u128(0x01020304_0506_0708_090a_0b0c0d0e0f10);
    /// assert_eq!((g.data1, g.data2, g.data3), (0x01020304, 0x0506, 0x0708));
    /// assert_eq!(g.data4, [9, 10, 11, 12, 13, 14, 15, 16]);
    /// ```
    pub const fn from_u128(uuid: u128) -> Self {
        Self {
            data1: (uuid >> 96) as u32,
            data2: (uuid >> 80) as u16,
            data3: (uuid >> 64) as u16,
            data4: (uuid as u64).to_be_bytes(),
        }
    }
}

/// `WSADATA`, as `WSAStartup` fills it (64-bit layout).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WSADATA {
    /// The negotiated version.
    pub wVersion: u16,
    /// The highest version supported.
    pub wHighVersion: u16,
    /// Maximum sockets (1.x only).
    pub iMaxSockets: u16,
    /// Maximum UDP datagram (1.x only).
    pub iMaxUdpDg: u16,
    /// Vendor information: never written.
    pub lpVendorInfo: *mut u8,
    /// NUL-terminated description.
    pub szDescription: [i8; 257],
    /// NUL-terminated status.
    pub szSystemStatus: [i8; 129],
}

impl Default for WSADATA {
    fn default() -> Self {
        WSADATA {
            wVersion: 0,
            wHighVersion: 0,
            iMaxSockets: 0,
            iMaxUdpDg: 0,
            lpVendorInfo: std::ptr::null_mut(),
            szDescription: [0; 257],
            szSystemStatus: [0; 129],
        }
    }
}

/// `WSAPROTOCOLCHAIN`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WSAPROTOCOLCHAIN {
    /// 0 layered, 1 base, more for a chain.
    pub ChainLen: i32,
    /// Catalog entry ids.
    pub ChainEntries: [u32; 7],
}

/// `WSAPROTOCOL_INFOW`: one catalog entry.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WSAPROTOCOL_INFOW {
    /// `XP1_*` flags.
    pub dwServiceFlags1: u32,
    /// Reserved.
    pub dwServiceFlags2: u32,
    /// Reserved.
    pub dwServiceFlags3: u32,
    /// Reserved.
    pub dwServiceFlags4: u32,
    /// `PFL_*` flags.
    pub dwProviderFlags: u32,
    /// The provider.
    pub ProviderId: GUID,
    /// The entry's id.
    pub dwCatalogEntryId: u32,
    /// The protocol chain.
    pub ProtocolChain: WSAPROTOCOLCHAIN,
    /// Version.
    pub iVersion: i32,
    /// Address family.
    pub iAddressFamily: i32,
    /// Largest address.
    pub iMaxSockAddr: i32,
    /// Smallest address.
    pub iMinSockAddr: i32,
    /// Socket type.
    pub iSocketType: i32,
    /// Protocol.
    pub iProtocol: i32,
    /// Protocol range.
    pub iProtocolMaxOffset: i32,
    /// Byte order.
    pub iNetworkByteOrder: i32,
    /// Security scheme.
    pub iSecurityScheme: i32,
    /// Largest message.
    pub dwMessageSize: u32,
    /// Reserved for the provider.
    pub dwProviderReserved: u32,
    /// NUL-terminated UTF-16 name.
    pub szProtocol: [u16; 256],
}

impl Default for WSAPROTOCOL_INFOW {
    fn default() -> Self {
        WSAPROTOCOL_INFOW::from(&ProtocolInfo::decode(&[0; PROTOCOL_INFO_SIZE]))
    }
}

impl From<&ProtocolInfo> for WSAPROTOCOL_INFOW {
    fn from(info: &ProtocolInfo) -> Self {
        let bytes = info.encode();
        // SAFETY: WSAPROTOCOL_INFOW is repr(C), PROTOCOL_INFO_SIZE bytes (checked below), with
        // no padding and only integer fields, so every byte pattern is a valid value.
        unsafe { std::mem::transmute::<[u8; PROTOCOL_INFO_SIZE], WSAPROTOCOL_INFOW>(bytes) }
    }
}

impl From<&WSAPROTOCOL_INFOW> for ProtocolInfo {
    fn from(info: &WSAPROTOCOL_INFOW) -> Self {
        // SAFETY: as above; reading a repr(C) integer-only struct as bytes.
        let bytes =
            unsafe { std::mem::transmute::<WSAPROTOCOL_INFOW, [u8; PROTOCOL_INFO_SIZE]>(*info) };
        ProtocolInfo::decode(&bytes)
    }
}

/// `LINGER`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LINGER {
    /// Non-zero: linger on.
    pub l_onoff: u16,
    /// Timeout in seconds.
    pub l_linger: u16,
}

const _: () = assert!(std::mem::size_of::<WSADATA>() == WSADATA_SIZE);
const _: () = assert!(std::mem::size_of::<WSAPROTOCOL_INFOW>() == PROTOCOL_INFO_SIZE);
const _: () = assert!(std::mem::size_of::<LINGER>() == 4);

/// `SOCKADDR`: a generic socket address.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SOCKADDR {
    /// Address family.
    pub sa_family: u16,
    /// Address data.
    pub sa_data: [i8; 14],
}

/// `IN_ADDR_0_0`: an IPv4 address as four bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IN_ADDR_0_0 {
    /// First byte.
    pub s_b1: u8,
    /// Second byte.
    pub s_b2: u8,
    /// Third byte.
    pub s_b3: u8,
    /// Fourth byte.
    pub s_b4: u8,
}

/// `IN_ADDR_0_1`: an IPv4 address as two words.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IN_ADDR_0_1 {
    /// First word.
    pub s_w1: u16,
    /// Second word.
    pub s_w2: u16,
}

/// `IN_ADDR_0`: the union inside `IN_ADDR`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union IN_ADDR_0 {
    /// As bytes.
    pub S_un_b: IN_ADDR_0_0,
    /// As words.
    pub S_un_w: IN_ADDR_0_1,
    /// As one `u32` in network byte order.
    pub S_addr: u32,
}

impl Default for IN_ADDR_0 {
    fn default() -> Self {
        IN_ADDR_0 { S_addr: 0 }
    }
}

impl std::fmt::Debug for IN_ADDR_0 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SAFETY: every variant is plain bytes; reading the u32 is always valid.
        let addr = unsafe { self.S_addr };
        write!(f, "{}", std::net::Ipv4Addr::from(u32::from_be(addr)))
    }
}

/// `IN_ADDR`: an IPv4 address.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct IN_ADDR {
    /// The address.
    pub S_un: IN_ADDR_0,
}

/// `SOCKADDR_IN`: an IPv4 socket address (port and address in network byte order).
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddrV4};
/// use ws2sim::sys::SOCKADDR_IN;
/// let a = SOCKADDR_IN::from(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80));
/// assert_eq!(a.sin_port, 80u16.to_be());
/// assert_eq!(SocketAddrV4::from(a), SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80));
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SOCKADDR_IN {
    /// `AF_INET`.
    pub sin_family: u16,
    /// Port, network byte order.
    pub sin_port: u16,
    /// Address.
    pub sin_addr: IN_ADDR,
    /// Zero.
    pub sin_zero: [i8; 8],
}

impl From<std::net::SocketAddrV4> for SOCKADDR_IN {
    fn from(a: std::net::SocketAddrV4) -> Self {
        SOCKADDR_IN {
            sin_family: crate::consts::AF_INET,
            sin_port: a.port().to_be(),
            sin_addr: IN_ADDR {
                S_un: IN_ADDR_0 {
                    S_addr: u32::from(*a.ip()).to_be(),
                },
            },
            sin_zero: [0; 8],
        }
    }
}

impl From<SOCKADDR_IN> for std::net::SocketAddrV4 {
    fn from(a: SOCKADDR_IN) -> Self {
        // SAFETY: every variant of the union is plain bytes.
        let addr = unsafe { a.sin_addr.S_un.S_addr };
        std::net::SocketAddrV4::new(u32::from_be(addr).into(), u16::from_be(a.sin_port))
    }
}

/// `WSABUF`: a buffer for the WSA functions.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WSABUF {
    /// Length in bytes.
    pub len: u32,
    /// The bytes.
    pub buf: *mut u8,
}

impl Default for WSABUF {
    fn default() -> Self {
        WSABUF {
            len: 0,
            buf: std::ptr::null_mut(),
        }
    }
}

const _: () = assert!(std::mem::size_of::<SOCKADDR_IN>() == 16);
const _: () = assert!(std::mem::size_of::<SOCKADDR>() == 16);

/// `FD_SET`: up to 64 sockets for `select`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FD_SET {
    /// How many entries of `fd_array` are used.
    pub fd_count: u32,
    /// The sockets.
    pub fd_array: [usize; 64],
}

impl Default for FD_SET {
    fn default() -> Self {
        FD_SET {
            fd_count: 0,
            fd_array: [0; 64],
        }
    }
}

/// `TIMEVAL`: `select`'s timeout.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TIMEVAL {
    /// Seconds.
    pub tv_sec: i32,
    /// Microseconds.
    pub tv_usec: i32,
}

/// `WSANETWORKEVENTS`: what `WSAEnumNetworkEvents` reports.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WSANETWORKEVENTS {
    /// The `FD_*` bits recorded.
    pub lNetworkEvents: i32,
    /// Each event's error code, by `FD_*_BIT`.
    pub iErrorCode: [i32; 10],
}

/// `OVERLAPPED_0_0`: the file offset of an `OVERLAPPED`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OVERLAPPED_0_0 {
    /// Low 32 bits.
    pub Offset: u32,
    /// High 32 bits.
    pub OffsetHigh: u32,
}

/// `OVERLAPPED_0`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union OVERLAPPED_0 {
    /// The offset.
    pub Anonymous: OVERLAPPED_0_0,
    /// A pointer.
    pub Pointer: *mut core::ffi::c_void,
}

impl Default for OVERLAPPED_0 {
    fn default() -> Self {
        OVERLAPPED_0 {
            Pointer: std::ptr::null_mut(),
        }
    }
}

impl std::fmt::Debug for OVERLAPPED_0 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OVERLAPPED_0 { .. }")
    }
}

/// `OVERLAPPED` (`WSAOVERLAPPED`): `Internal` holds the operation's NTSTATUS
/// (`STATUS_PENDING` 0x103 while pending), `InternalHigh` the bytes transferred.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OVERLAPPED {
    /// NTSTATUS of the operation.
    pub Internal: usize,
    /// Bytes transferred.
    pub InternalHigh: usize,
    /// File offset (unused for sockets).
    pub Anonymous: OVERLAPPED_0,
    /// The event to set on completion (ignored when a completion routine is given).
    pub hEvent: *mut core::ffi::c_void,
}

impl Default for OVERLAPPED {
    fn default() -> Self {
        OVERLAPPED {
            Internal: 0,
            InternalHigh: 0,
            Anonymous: OVERLAPPED_0::default(),
            hEvent: std::ptr::null_mut(),
        }
    }
}

/// `WSAOVERLAPPED`: the same structure.
pub type WSAOVERLAPPED = OVERLAPPED;

/// `LPWSAOVERLAPPED_COMPLETION_ROUTINE`.
pub type LPWSAOVERLAPPED_COMPLETION_ROUTINE = Option<
    unsafe extern "system" fn(
        dwerror: u32,
        cbtransferred: u32,
        lpoverlapped: *mut OVERLAPPED,
        dwflags: u32,
    ),
>;

/// `WIN32_ERROR` (windows-sys: `Win32::Foundation`): a Win32 error code as kernel32's
/// `GetLastError` returns it.
pub type WIN32_ERROR = u32;

/// `HANDLE_FLAGS` (windows-sys: `Win32::Foundation`): what `SetHandleInformation` sets.
pub type HANDLE_FLAGS = u32;
/// `HANDLE_FLAG_INHERIT`: child processes inherit the handle.
pub const HANDLE_FLAG_INHERIT: HANDLE_FLAGS = 1;
/// `HANDLE_FLAG_PROTECT_FROM_CLOSE`: `CloseHandle` refuses to close the handle.
pub const HANDLE_FLAG_PROTECT_FROM_CLOSE: HANDLE_FLAGS = 2;

/// `FILETIME` (windows-sys: `Win32::Foundation`): 100 ns intervals since 1601-01-01, in two
/// halves.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct FILETIME {
    /// The low 32 bits.
    pub dwLowDateTime: u32,
    /// The high 32 bits.
    pub dwHighDateTime: u32,
}

/// `WSAPOLL_EVENT_FLAGS`: `WSAPoll`'s event bits.
pub type WSAPOLL_EVENT_FLAGS = i16;
/// `POLLRDNORM`: normal data may be read.
pub const POLLRDNORM: WSAPOLL_EVENT_FLAGS = 256;
/// `POLLRDBAND`: priority data may be read.
pub const POLLRDBAND: WSAPOLL_EVENT_FLAGS = 512;
/// `POLLIN`: `POLLRDNORM | POLLRDBAND`.
pub const POLLIN: WSAPOLL_EVENT_FLAGS = 768;
/// `POLLPRI`: not supported by Windows' WSAPoll (`WSAEINVAL`).
pub const POLLPRI: WSAPOLL_EVENT_FLAGS = 1024;
/// `POLLWRNORM`: normal data may be written.
pub const POLLWRNORM: WSAPOLL_EVENT_FLAGS = 16;
/// `POLLOUT`: `POLLWRNORM`.
pub const POLLOUT: WSAPOLL_EVENT_FLAGS = 16;
/// `POLLWRBAND`: priority data may be written (not supported: `WSAEINVAL`).
pub const POLLWRBAND: WSAPOLL_EVENT_FLAGS = 32;
/// `POLLERR`: an error occurred.
pub const POLLERR: WSAPOLL_EVENT_FLAGS = 1;
/// `POLLHUP`: the connection was closed or aborted.
pub const POLLHUP: WSAPOLL_EVENT_FLAGS = 2;
/// `POLLNVAL`: not a socket.
pub const POLLNVAL: WSAPOLL_EVENT_FLAGS = 4;

/// `WSAPOLLFD`: one entry of `WSAPoll`'s array.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WSAPOLLFD {
    /// The socket (a negative value, e.g. `INVALID_SOCKET`, is ignored).
    pub fd: crate::sys::SOCKET,
    /// The events asked for.
    pub events: WSAPOLL_EVENT_FLAGS,
    /// The events that hold, written by `WSAPoll`.
    pub revents: WSAPOLL_EVENT_FLAGS,
}
