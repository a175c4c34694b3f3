//! Winsock constants with their Windows values and the types windows-sys gives them, so code
//! written against `windows_sys::Win32::Networking::WinSock` compiles unchanged against
//! [`crate::sys`], which re-exports everything here.
#![allow(missing_docs, non_camel_case_types)] // The names are Microsoft's; each value is documented in the Winsock headers.

pub use crate::error::codes::*;

/// A socket handle (`UINT_PTR`).
pub type SOCKET = usize;
/// An address family as `sockaddr` stores it.
pub type ADDRESS_FAMILY = u16;
/// A socket type (`SOCK_*`).
pub type WINSOCK_SOCKET_TYPE = i32;
/// A protocol number (`IPPROTO_*`).
pub type IPPROTO = i32;
/// `shutdown`'s `how` (`SD_*`).
pub type WINSOCK_SHUTDOWN_HOW = i32;
/// Flags of `send`/`recv` (`MSG_*`).
pub type SEND_RECV_FLAGS = i32;
/// A Winsock error value as `WSAGetLastError` returns it.
pub type WSA_ERROR = i32;
/// A Win32 `BOOL`.
pub type BOOL = i32;
/// An event object handle (`WSAEVENT`).
pub type WSAEVENT = isize;
/// A kernel object handle, as `WSAWaitForMultipleEvents` takes them (`WSAEVENT as HANDLE`).
pub type HANDLE = *mut core::ffi::c_void;

pub const INVALID_SOCKET: SOCKET = usize::MAX;
pub const SOCKET_ERROR: i32 = -1;
pub const TRUE: BOOL = 1;
pub const FALSE: BOOL = 0;

// Address families.
pub const AF_UNSPEC: ADDRESS_FAMILY = 0;
pub const AF_INET: ADDRESS_FAMILY = 2;
pub const AF_INET6: ADDRESS_FAMILY = 23;

// Socket types.
pub const SOCK_STREAM: WINSOCK_SOCKET_TYPE = 1;
pub const SOCK_DGRAM: WINSOCK_SOCKET_TYPE = 2;
pub const SOCK_RAW: WINSOCK_SOCKET_TYPE = 3;
pub const SOCK_RDM: WINSOCK_SOCKET_TYPE = 4;
pub const SOCK_SEQPACKET: WINSOCK_SOCKET_TYPE = 5;

// Protocols.
pub const IPPROTO_IP: IPPROTO = 0;
pub const IPPROTO_ICMP: IPPROTO = 1;
pub const IPPROTO_TCP: IPPROTO = 6;
pub const IPPROTO_UDP: IPPROTO = 17;
pub const IPPROTO_IPV6: IPPROTO = 41;
pub const IPPROTO_RAW: IPPROTO = 255;
/// The protocol number of ws2sim's built-in stream provider with disconnect data
/// (253 is reserved by IANA for experimentation and testing). Not a Windows constant.
pub const IPPROTO_WS2SIM_DISCONNECT_DATA: IPPROTO = 253;
/// `WSASocketW`: take the address family, type or protocol from the `WSAPROTOCOL_INFOW`.
pub const FROM_PROTOCOL_INFO: i32 = -1;

// Addresses.
pub const INADDR_ANY: u32 = 0;
pub const INADDR_LOOPBACK: u32 = 0x7f00_0001;
pub const INADDR_BROADCAST: u32 = 0xffff_ffff;
pub const SOMAXCONN: u32 = 5;

// shutdown.
pub const SD_RECEIVE: WINSOCK_SHUTDOWN_HOW = 0;
pub const SD_SEND: WINSOCK_SHUTDOWN_HOW = 1;
pub const SD_BOTH: WINSOCK_SHUTDOWN_HOW = 2;

// Socket options.
pub const SOL_SOCKET: i32 = 0xffff;
pub const SO_DEBUG: i32 = 0x0001;
pub const SO_ACCEPTCONN: i32 = 0x0002;
pub const SO_REUSEADDR: i32 = 0x0004;
pub const SO_KEEPALIVE: i32 = 0x0008;
pub const SO_DONTROUTE: i32 = 0x0010;
pub const SO_BROADCAST: i32 = 0x0020;
pub const SO_LINGER: i32 = 0x0080;
pub const SO_OOBINLINE: i32 = 0x0100;
pub const SO_DONTLINGER: i32 = !SO_LINGER;
pub const SO_EXCLUSIVEADDRUSE: i32 = !SO_REUSEADDR;
pub const SO_SNDBUF: i32 = 0x1001;
pub const SO_RCVBUF: i32 = 0x1002;
pub const SO_SNDTIMEO: i32 = 0x1005;
pub const SO_RCVTIMEO: i32 = 0x1006;
pub const SO_ERROR: i32 = 0x1007;
pub const SO_TYPE: i32 = 0x1008;
pub const SO_MAX_MSG_SIZE: i32 = 0x2003;
pub const SO_PROTOCOL_INFOA: i32 = 0x2004;
pub const SO_PROTOCOL_INFOW: i32 = 0x2005;
/// `setsockopt(accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, &listener, sizeof(SOCKET))`
/// after `AcceptEx` ([EX-2]).
///
/// [EX-2]: crate::rules#ex-2
pub const SO_UPDATE_ACCEPT_CONTEXT: i32 = 0x700B;
/// `setsockopt(s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0)` after `ConnectEx` ([EX-3]).
///
/// [EX-3]: crate::rules#ex-3
pub const SO_UPDATE_CONNECT_CONTEXT: i32 = 0x7010;

// DisconnectEx and TransmitFile flags (EX-4).
/// Close the connection after the operation.
pub const TF_DISCONNECT: u32 = 1;
/// The socket may be used again by `AcceptEx` or `ConnectEx` once the operation completed.
pub const TF_REUSE_SOCKET: u32 = 2;

// IPPROTO_TCP options.
pub const TCP_NODELAY: i32 = 1;
pub const TCP_KEEPALIVE: i32 = 3;
pub const TCP_KEEPIDLE: i32 = 3;
pub const TCP_KEEPCNT: i32 = 16;
pub const TCP_KEEPINTVL: i32 = 17;

// IPPROTO_IP options.
pub const IP_TOS: i32 = 3;
pub const IP_TTL: i32 = 4;
pub const IP_MULTICAST_IF: i32 = 9;
pub const IP_MULTICAST_TTL: i32 = 10;
pub const IP_MULTICAST_LOOP: i32 = 11;
pub const IP_ADD_MEMBERSHIP: i32 = 12;
pub const IP_DROP_MEMBERSHIP: i32 = 13;
pub const IP_DONTFRAGMENT: i32 = 14;
pub const IP_ADD_SOURCE_MEMBERSHIP: i32 = 15;
pub const IP_DROP_SOURCE_MEMBERSHIP: i32 = 16;
pub const IP_PKTINFO: i32 = 19;

// IPPROTO_IPV6 options.
pub const IPV6_UNICAST_HOPS: i32 = 4;
pub const IPV6_MULTICAST_IF: i32 = 9;
pub const IPV6_MULTICAST_HOPS: i32 = 10;
pub const IPV6_MULTICAST_LOOP: i32 = 11;
pub const IPV6_ADD_MEMBERSHIP: i32 = 12;
pub const IPV6_DROP_MEMBERSHIP: i32 = 13;
pub const IPV6_PKTINFO: i32 = 19;
pub const IPV6_V6ONLY: i32 = 27;

// ioctlsocket.
pub const FIONBIO: i32 = 0x8004_667e_u32 as i32;
pub const FIONREAD: i32 = 0x4004_667f;
pub const SIOCATMARK: i32 = 0x4004_7307;

// WSAIoctl (EX-1).
pub const SIO_GET_EXTENSION_FUNCTION_POINTER: u32 = 0xc800_0006;
pub const SIO_KEEPALIVE_VALS: u32 = 0x9800_0004;
pub const SIO_BASE_HANDLE: u32 = 0x4800_0022;
pub const SIO_BSP_HANDLE: u32 = 0x4800_001b;
pub const SIO_BSP_HANDLE_SELECT: u32 = 0x4800_001c;
pub const SIO_BSP_HANDLE_POLL: u32 = 0x4800_001d;

// send/recv flags.
pub const MSG_OOB: SEND_RECV_FLAGS = 1;
pub const MSG_PEEK: SEND_RECV_FLAGS = 2;
pub const MSG_DONTROUTE: SEND_RECV_FLAGS = 4;
pub const MSG_WAITALL: SEND_RECV_FLAGS = 8;
pub const MSG_PARTIAL: u32 = 0x8000;
/// `WSARecvMsg`'s `dwFlags`: the datagram was larger than the buffers ([EX-5]).
///
/// [EX-5]: crate::rules#ex-5
pub const MSG_TRUNC: u32 = 0x0100;
/// `WSARecvMsg`'s `dwFlags`: the control data did not fit `Control` ([EX-5]).
///
/// [EX-5]: crate::rules#ex-5
pub const MSG_CTRUNC: u32 = 0x0200;

// WSASocket flags.
pub const WSA_FLAG_OVERLAPPED: u32 = 0x01;
pub const WSA_FLAG_MULTIPOINT_C_ROOT: u32 = 0x02;
pub const WSA_FLAG_MULTIPOINT_C_LEAF: u32 = 0x04;
pub const WSA_FLAG_MULTIPOINT_D_ROOT: u32 = 0x08;
pub const WSA_FLAG_MULTIPOINT_D_LEAF: u32 = 0x10;
pub const WSA_FLAG_ACCESS_SYSTEM_SECURITY: u32 = 0x40;
pub const WSA_FLAG_NO_HANDLE_INHERIT: u32 = 0x80;
pub const WSA_FLAG_REGISTERED_IO: u32 = 0x100;

// Network events (WSAEventSelect).
pub const FD_READ_BIT: u32 = 0;
pub const FD_WRITE_BIT: u32 = 1;
pub const FD_OOB_BIT: u32 = 2;
pub const FD_ACCEPT_BIT: u32 = 3;
pub const FD_CONNECT_BIT: u32 = 4;
pub const FD_CLOSE_BIT: u32 = 5;
pub const FD_MAX_EVENTS: u32 = 10;
pub const FD_READ: u32 = 1 << FD_READ_BIT;
pub const FD_WRITE: u32 = 1 << FD_WRITE_BIT;
pub const FD_OOB: u32 = 1 << FD_OOB_BIT;
pub const FD_ACCEPT: u32 = 1 << FD_ACCEPT_BIT;
pub const FD_CONNECT: u32 = 1 << FD_CONNECT_BIT;
pub const FD_CLOSE: u32 = 1 << FD_CLOSE_BIT;
pub const FD_SETSIZE: u32 = 64;

// Waits.
pub const WSA_INFINITE: u32 = u32::MAX;
/// kernel32's `INFINITE`: no time limit for `GetQueuedCompletionStatus`, `SleepEx` and the other waits.
pub const INFINITE: u32 = u32::MAX;
pub const WSA_MAXIMUM_WAIT_EVENTS: u32 = 64;
pub const WSA_WAIT_EVENT_0: WSA_ERROR = 0;
pub const WSA_WAIT_IO_COMPLETION: WSA_ERROR = 0xc0;
pub const WSA_WAIT_TIMEOUT: u32 = 258;
pub const WSA_WAIT_FAILED: u32 = u32::MAX;
pub const WAIT_IO_COMPLETION: u32 = 0xc0;
pub const WSA_INVALID_EVENT: WSAEVENT = 0;

// Protocol catalog (WSAPROTOCOL_INFOW).
pub const XP1_CONNECTIONLESS: u32 = 0x0000_0001;
pub const XP1_GUARANTEED_DELIVERY: u32 = 0x0000_0002;
pub const XP1_GUARANTEED_ORDER: u32 = 0x0000_0004;
pub const XP1_MESSAGE_ORIENTED: u32 = 0x0000_0008;
pub const XP1_PSEUDO_STREAM: u32 = 0x0000_0010;
pub const XP1_GRACEFUL_CLOSE: u32 = 0x0000_0020;
pub const XP1_EXPEDITED_DATA: u32 = 0x0000_0040;
pub const XP1_CONNECT_DATA: u32 = 0x0000_0080;
pub const XP1_DISCONNECT_DATA: u32 = 0x0000_0100;
pub const XP1_SUPPORT_BROADCAST: u32 = 0x0000_0200;
pub const XP1_SUPPORT_MULTIPOINT: u32 = 0x0000_0400;
pub const XP1_MULTIPOINT_CONTROL_PLANE: u32 = 0x0000_0800;
pub const XP1_MULTIPOINT_DATA_PLANE: u32 = 0x0000_1000;
pub const XP1_QOS_SUPPORTED: u32 = 0x0000_2000;
pub const XP1_INTERRUPT: u32 = 0x0000_4000;
pub const XP1_UNI_SEND: u32 = 0x0000_8000;
pub const XP1_UNI_RECV: u32 = 0x0001_0000;
pub const XP1_IFS_HANDLES: u32 = 0x0002_0000;
pub const XP1_PARTIAL_MESSAGE: u32 = 0x0004_0000;
pub const XP1_SAN_SUPPORT_SDP: u32 = 0x0008_0000;
pub const PFL_MULTIPLE_PROTO_ENTRIES: u32 = 0x01;
pub const PFL_RECOMMENDED_PROTO_ENTRY: u32 = 0x02;
pub const PFL_HIDDEN: u32 = 0x04;
pub const PFL_MATCHES_PROTOCOL_ZERO: u32 = 0x08;
pub const PFL_NETWORKDIRECT_PROVIDER: u32 = 0x10;
pub const LAYERED_PROTOCOL: u32 = 0;
pub const BASE_PROTOCOL: u32 = 1;
pub const MAX_PROTOCOL_CHAIN: u32 = 7;
pub const WSAPROTOCOL_LEN: u32 = 255;
pub const BIGENDIAN: u32 = 0;
pub const LITTLEENDIAN: u32 = 1;
pub const SECURITY_PROTOCOL_NONE: u32 = 0;

// WSADATA.
pub const WSADESCRIPTION_LEN: u32 = 256;
pub const WSASYS_STATUS_LEN: u32 = 128;
