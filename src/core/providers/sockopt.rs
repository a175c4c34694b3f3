//! `setsockopt` and `getsockopt` at `SOL_SOCKET`, `IPPROTO_TCP`, `IPPROTO_IP` and `IPPROTO_IPV6`
//! (CS-8, OP-1, OP-4 and the option-length behaviour Windows
//! shows in Wine's sock.c `test_set_getsockopt`).

use crate::consts::*;
use crate::core::catalog::PROTOCOL_INFO_SIZE;
use crate::core::providers::socket::{Linger, SocketState};
use crate::core::rules::Rule;
use crate::core::transport::Share;
use crate::core::Cx;
use crate::error::WsaError;

/// How an option's value sits in the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Four bytes (`LINGER`, buffer sizes). Get with `optlen` 1..3 zeroes those bytes and fails
    /// `WSAEFAULT`; set needs at least 4 bytes.
    Dword,
    /// Four bytes, all or nothing: a short buffer fails `WSAEFAULT` and is left untouched.
    StrictDword,
    /// Four bytes (the `IPPROTO_TCP` keep-alive times, `IP_PKTINFO`, `IP_MULTICAST_IF`): set
    /// needs 4 bytes; a get with `optlen` 1..3 fails `WSAEFAULT`, leaves the buffer untouched
    /// and sets `*optlen` to 0 (win: test_set_getsockopt).
    Int,
    /// A `BOOL` read leniently: set takes 0..4 bytes (0 bytes leaves the value unchanged); get
    /// with `optlen` 1..3 writes that many bytes and reports `optlen` 1.
    Bool,
    /// A one-byte boolean (`SO_KEEPALIVE`, `TCP_NODELAY`): set needs 1 byte and reads only the
    /// first (0x100 is FALSE); get writes 1 byte and reports `optlen` 1.
    ByteBool,
    /// A `BOOL` of the IP levels (`IP_MULTICAST_LOOP`, `IP_DONTFRAGMENT`): set needs 1 byte and
    /// reads up to 4 (0x100 is TRUE); get with `optlen` 1..3 writes 1 byte and reports 1.
    IpBool,
    /// A value 0..=255 (`IP_TTL`, `IP_TOS`, `IP_MULTICAST_TTL`): set reads 1..4 bytes, a larger
    /// value fails `WSAEINVAL`; get as [`Shape::IpBool`].
    Small,
    /// A `WSAPROTOCOL_INFOW`: a short buffer fails `WSAEFAULT` and gets the needed `optlen`.
    ProtocolInfo,
}

/// The options the simulator models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Linger,
    DontLinger,
    Type,
    AcceptConn,
    MaxMsgSize,
    ProtocolInfo,
    /// Stored as a 32-bit value under its level and name.
    Stored(i32, i32, Shape),
    /// `IP_ADD_MEMBERSHIP` (`add`), `IP_DROP_MEMBERSHIP`, and with `source` their
    /// `_SOURCE_` forms: set only.
    Membership {
        add: bool,
        source: bool,
    },
}

impl Opt {
    fn shape(self) -> Shape {
        match self {
            Opt::Linger => Shape::Dword,
            Opt::DontLinger | Opt::AcceptConn => Shape::Bool,
            Opt::Type | Opt::MaxMsgSize | Opt::Membership { .. } => Shape::StrictDword,
            Opt::ProtocolInfo => Shape::ProtocolInfo,
            Opt::Stored(_, _, shape) => shape,
        }
    }
}

/// What [`cs_8`] is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Cs8 {
    /// `SO_LINGER` or `SO_DONTLINGER` is set or read.
    Option {
        /// The socket is connectionless.
        datagram: bool,
    },
    /// `accept` makes a socket from a listener.
    Inherit,
}

/// CS-8, the one place it is decided: `SO_LINGER` and `SO_DONTLINGER` (= `!l_onoff`) work on
/// stream sockets and fail `WSAENOPROTOOPT` on connectionless ones; an accepted socket
/// inherits its listener's linger.
pub fn cs_8(cx: &mut Cx, what: Cs8) -> Result<(), WsaError> {
    cx.rule(Rule::Cs8);
    match what {
        Cs8::Option { datagram: true } => Err(WsaError::NoProtocolOption),
        Cs8::Option { datagram: false } | Cs8::Inherit => Ok(()),
    }
}

/// OP-1, the one place it is decided: the option at (`level`, `name`) for this socket, with
/// the value type and size Windows gives it (win: sock.c `test_set_getsockopt`).
///
/// - `SOL_SOCKET`: the options of [CS-8](crate::rules#cs-8) and the stored ones below.
/// - `IPPROTO_TCP` (stream sockets only): `TCP_NODELAY` (a one-byte `BOOL`),
///   `TCP_KEEPALIVE` = `TCP_KEEPIDLE` (seconds, 7200 by default), `TCP_KEEPINTVL` (seconds,
///   1), `TCP_KEEPCNT` (0..=255, 10) as `DWORD`s.
/// - `IPPROTO_IP`: `IP_TTL` (128), `IP_TOS` (0), `IP_DONTFRAGMENT` (FALSE); and on datagram
///   sockets `IP_MULTICAST_TTL` (1), `IP_MULTICAST_LOOP` (TRUE), `IP_MULTICAST_IF` (an
///   `IN_ADDR`, INADDR_ANY), `IP_PKTINFO` (FALSE), and the set-only `IP_ADD_MEMBERSHIP`,
///   `IP_DROP_MEMBERSHIP` (an `IP_MREQ`), `IP_ADD_SOURCE_MEMBERSHIP`,
///   `IP_DROP_SOURCE_MEMBERSHIP` (an `IP_MREQ_SOURCE`).
/// - `IPPROTO_IPV6` on `AF_INET6` sockets: `IPV6_V6ONLY` (TRUE), `IPV6_UNICAST_HOPS`,
///   `IPV6_MULTICAST_HOPS`, `IPV6_MULTICAST_LOOP`, `IPV6_MULTICAST_IF`, `IPV6_PKTINFO`.
/// - `IPPROTO_UDP` has no modelled option.
///
/// An option the level lacks, or one for the other socket type, fails `WSAENOPROTOOPT`; a
/// level that is none of these fails `WSAEINVAL`, as Windows does.
///
/// # Divergence
/// The SPEC says an unknown *level* fails `WSAENOPROTOOPT`; Windows fails it `WSAEINVAL`
/// (win: sock.c `test_set_getsockopt`, levels 0xffffffff and 0x8000; Microsoft's setsockopt
/// page: "level is not valid"), and the simulator follows Windows. No `AF_INET6` socket
/// exists yet, so `IPPROTO_IPV6` on the `AF_INET` sockets there are fails `WSAEINVAL`: the
/// level is unknown to an IPv4 socket (sim: Windows' tests do not show this case). The
/// multicast, TOS and don't-fragment options are stored and read back but change nothing on
/// the simulated network, and the `IPPROTO_TCP` and `IP_MULTICAST_*`/`IP_PKTINFO` options
/// fail `WSAENOPROTOOPT` on the other socket type (sim).
fn op_1(cx: &mut Cx, socket: &SocketState, level: i32, name: i32) -> Result<Opt, WsaError> {
    cx.rule(Rule::Op1);
    let datagram = socket.entry.is_connectionless();
    let v6 = socket.entry.address_family == i32::from(AF_INET6);
    let opt = match level {
        SOL_SOCKET => return socket_level(cx, datagram, name),
        IPPROTO_TCP if !datagram => tcp_level(name),
        IPPROTO_IP => ip_level(datagram, name),
        IPPROTO_IPV6 if v6 => ipv6_level(datagram, name),
        IPPROTO_IPV6 => return Err(WsaError::InvalidArgument),
        IPPROTO_TCP | IPPROTO_UDP => None,
        _ => return Err(WsaError::InvalidArgument),
    };
    opt.ok_or(WsaError::NoProtocolOption)
}

fn socket_level(cx: &mut Cx, datagram: bool, name: i32) -> Result<Opt, WsaError> {
    let stored = |shape| Opt::Stored(SOL_SOCKET, name, shape);
    let opt = match name {
        SO_LINGER | SO_DONTLINGER => {
            cs_8(cx, Cs8::Option { datagram })?;
            if name == SO_LINGER {
                Opt::Linger
            } else {
                Opt::DontLinger
            }
        }
        SO_TYPE => Opt::Type,
        SO_ACCEPTCONN => Opt::AcceptConn,
        SO_PROTOCOL_INFOW => Opt::ProtocolInfo,
        SO_MAX_MSG_SIZE if datagram => Opt::MaxMsgSize,
        SO_BROADCAST | SO_OOBINLINE | SO_REUSEADDR | SO_EXCLUSIVEADDRUSE => stored(Shape::Bool),
        SO_KEEPALIVE | SO_DONTROUTE => stored(Shape::ByteBool),
        SO_SNDBUF | SO_RCVBUF => stored(Shape::Dword),
        SO_SNDTIMEO | SO_RCVTIMEO | SO_ERROR => stored(Shape::StrictDword),
        _ => return Err(WsaError::NoProtocolOption),
    };
    Ok(opt)
}

fn tcp_level(name: i32) -> Option<Opt> {
    let shape = match name {
        TCP_NODELAY => Shape::ByteBool,
        TCP_KEEPALIVE | TCP_KEEPINTVL | TCP_KEEPCNT => Shape::Int,
        _ => return None,
    };
    Some(Opt::Stored(IPPROTO_TCP, name, shape))
}

fn ip_level(datagram: bool, name: i32) -> Option<Opt> {
    let shape = match name {
        IP_TTL | IP_TOS => Shape::Small,
        IP_DONTFRAGMENT => Shape::IpBool,
        IP_MULTICAST_TTL if datagram => Shape::Small,
        IP_MULTICAST_LOOP if datagram => Shape::IpBool,
        IP_MULTICAST_IF | IP_PKTINFO if datagram => Shape::Int,
        IP_ADD_MEMBERSHIP
        | IP_DROP_MEMBERSHIP
        | IP_ADD_SOURCE_MEMBERSHIP
        | IP_DROP_SOURCE_MEMBERSHIP
            if datagram =>
        {
            return Some(Opt::Membership {
                add: name == IP_ADD_MEMBERSHIP || name == IP_ADD_SOURCE_MEMBERSHIP,
                source: name == IP_ADD_SOURCE_MEMBERSHIP || name == IP_DROP_SOURCE_MEMBERSHIP,
            })
        }
        _ => return None,
    };
    Some(Opt::Stored(IPPROTO_IP, name, shape))
}

fn ipv6_level(datagram: bool, name: i32) -> Option<Opt> {
    let shape = match name {
        IPV6_V6ONLY => Shape::ByteBool,
        IPV6_UNICAST_HOPS => Shape::Small,
        IPV6_MULTICAST_HOPS if datagram => Shape::Small,
        IPV6_MULTICAST_LOOP if datagram => Shape::IpBool,
        IPV6_MULTICAST_IF | IPV6_PKTINFO if datagram => Shape::Int,
        _ => return None,
    };
    Some(Opt::Stored(IPPROTO_IPV6, name, shape))
}

/// The value an option of `level` stores for the 1..4 bytes `raw` the caller gave: BOOLs
/// become 0 or 1; hop counts and `TCP_KEEPCNT` over 255 fail `WSAEINVAL` (win).
fn stored_value(level: i32, name: i32, shape: Shape, raw: [u8; 4]) -> Result<u32, WsaError> {
    let v = u32::from_ne_bytes(raw);
    match shape {
        Shape::ByteBool => Ok(u32::from(raw[0] != 0)),
        Shape::Bool | Shape::IpBool => Ok(u32::from(v != 0)),
        Shape::Small if v > 255 => Err(WsaError::InvalidArgument),
        Shape::Int if level == IPPROTO_TCP && name == TCP_KEEPCNT && v > 255 => {
            Err(WsaError::InvalidArgument)
        }
        Shape::Int if (level, name) == (IPPROTO_IP, IP_PKTINFO) => Ok(u32::from(v != 0)),
        Shape::Int if (level, name) == (IPPROTO_IPV6, IPV6_PKTINFO) => Ok(u32::from(v != 0)),
        Shape::Small | Shape::Int | Shape::Dword | Shape::StrictDword | Shape::ProtocolInfo => {
            Ok(v)
        }
    }
}

/// `setsockopt`. `value` holds `max(len, 0)` bytes.
///
/// # Divergence
/// A negative `optlen` fails `WSAEFAULT` for every option (Windows 7–10 do so for some options
/// and accept it for 4-byte ones, reading past the length).
pub fn set(
    cx: &mut Cx,
    socket: &mut SocketState,
    level: i32,
    name: i32,
    value: Option<&[u8]>,
    len: i32,
) -> Result<(), WsaError> {
    let r = set_value(cx, socket, level, name, value, len);
    crate::core::er_3_pointers(cx, r)
}

/// `getsockopt`. `value` holds `max(*len, 0)` bytes.
pub fn get(
    cx: &mut Cx,
    socket: &mut SocketState,
    level: i32,
    name: i32,
    value: Option<&mut [u8]>,
    len: Option<&mut i32>,
) -> Result<(), WsaError> {
    let r = get_value(cx, socket, level, name, value, len);
    crate::core::er_3_pointers(cx, r)
}

fn set_value(
    cx: &mut Cx,
    socket: &mut SocketState,
    level: i32,
    name: i32,
    value: Option<&[u8]>,
    len: i32,
) -> Result<(), WsaError> {
    let opt = op_1(cx, socket, level, name)?;
    match opt {
        // Read-only options. SO_TYPE fails WSAEINVAL on datagram sockets (win: test_WSASocket).
        Opt::Type if socket.entry.is_connectionless() => return Err(WsaError::InvalidArgument),
        Opt::Type | Opt::AcceptConn | Opt::MaxMsgSize | Opt::ProtocolInfo => {
            return Err(WsaError::NoProtocolOption)
        }
        Opt::Linger | Opt::DontLinger | Opt::Stored(..) | Opt::Membership { .. } => {}
    }
    // ER-3: pointer and length checks come last.
    let value = value.ok_or(WsaError::Fault)?;
    if len < 0 {
        return Err(WsaError::Fault);
    }
    if let Opt::Membership { add, source } = opt {
        return socket.membership(value, add, source);
    }
    let need = match opt.shape() {
        Shape::Dword | Shape::StrictDword | Shape::Int => 4,
        Shape::ByteBool | Shape::IpBool | Shape::Small => 1,
        Shape::Bool | Shape::ProtocolInfo => 0,
    };
    if value.len() < need {
        return Err(WsaError::Fault);
    }
    let mut raw = [0u8; 4];
    let n = value.len().min(4);
    raw[..n].copy_from_slice(&value[..n]);
    match opt {
        Opt::Linger => socket.linger = Linger::from_bytes(raw), // CS-8: kept as given.
        Opt::DontLinger if value.is_empty() => {}
        // CS-8: SO_DONTLINGER = !l_onoff; l_linger is kept.
        Opt::DontLinger => socket.linger.onoff = u16::from(u32::from_ne_bytes(raw) == 0),
        Opt::Stored(_, _, Shape::Bool) if value.is_empty() => {}
        Opt::Stored(level, name, shape) => {
            let v = stored_value(level, name, shape, raw)?;
            let pair = match (level, name) {
                (SOL_SOCKET, SO_REUSEADDR) => Some(SO_EXCLUSIVEADDRUSE),
                (SOL_SOCKET, SO_EXCLUSIVEADDRUSE) => Some(SO_REUSEADDR),
                _ => None,
            };
            if let Some(o) = pair {
                let other = socket.option(o);
                op_4(cx, Op4::Option { value: v, other })?;
            }
            socket.set_option_at(level, name, v);
        }
        Opt::Type | Opt::AcceptConn | Opt::MaxMsgSize | Opt::ProtocolInfo => {
            unreachable!("read-only options returned above")
        }
        Opt::Membership { .. } => unreachable!("memberships returned above"),
    }
    Ok(())
}

/// What [`op_4`] is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Op4<'a> {
    /// `SO_REUSEADDR` or `SO_EXCLUSIVEADDRUSE` is set to `value`; `other` is the other one's
    /// current value.
    Option {
        /// The value being set.
        value: u32,
        /// The other option's value.
        other: u32,
    },
    /// A socket with these options binds a port held by sockets with `held`.
    Bind {
        /// The binding socket's options.
        later: Share,
        /// The options of the sockets holding the port, in bind order.
        held: &'a [Share],
    },
}

/// OP-4, the one place it is decided.
///
/// [`Op4::Option`]: `SO_REUSEADDR` and `SO_EXCLUSIVEADDRUSE` cannot both be TRUE on one
/// socket; setting one while the other is TRUE fails `WSAEINVAL` and changes nothing.
///
/// [`Op4::Bind`]: binding a port another socket of the host holds (for the same protocol)
/// fails `WSAEADDRINUSE`, unless the later socket set `SO_REUSEADDR`: then it binds and
/// shares the port, except when a holder set `SO_EXCLUSIVEADDRUSE`, which makes the bind fail
/// `WSAEACCES`. A later socket with `SO_EXCLUSIVEADDRUSE` (or neither option) fails
/// `WSAEADDRINUSE` (Microsoft's "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE" and WSK
/// "Sharing Transport Addresses" tables, for the same address).
///
/// Of sockets sharing a port, the one bound last receives each unicast datagram (and takes
/// each incoming connection) that it accepts; a broadcast reaches all of them (sim).
///
/// # Divergence
/// Windows leaves unspecified which of the sockets sharing a port receives; the simulator
/// always picks the one bound last. Whether a port is in use is decided per host, protocol
/// and port, not per address (see [`bind`](crate::sys::bind)), and Windows' enhanced socket
/// security (the first socket must also set `SO_REUSEADDR` when the two belong to different
/// users) is not modelled: there is one user.
pub fn op_4(cx: &mut Cx, what: Op4<'_>) -> Result<(), WsaError> {
    match what {
        Op4::Option { value, other, .. } if value != 0 && other != 0 => {
            cx.rule(Rule::Op4);
            Err(WsaError::InvalidArgument)
        }
        Op4::Option { .. } => Ok(()),
        Op4::Bind { later, held } => {
            cx.rule(Rule::Op4);
            let exclusive = held.iter().any(|h| h.exclusive);
            match (later.reuse, exclusive) {
                (true, true) => Err(WsaError::AccessDenied),
                (true, false) => Ok(()),
                (false, _) => Err(WsaError::AddressInUse),
            }
        }
    }
}

fn get_value(
    cx: &mut Cx,
    socket: &mut SocketState,
    level: i32,
    name: i32,
    value: Option<&mut [u8]>,
    len: Option<&mut i32>,
) -> Result<(), WsaError> {
    let opt = op_1(cx, socket, level, name)?;
    if let Opt::Membership { .. } = opt {
        return Err(WsaError::NoProtocolOption); // Set only (sim).
    }
    // ER-3: pointer and length checks come last.
    let (Some(value), Some(len)) = (value, len) else {
        return Err(WsaError::Fault);
    };
    if opt == Opt::ProtocolInfo {
        if *len < 0 {
            return Err(WsaError::Fault);
        }
        if value.len() < PROTOCOL_INFO_SIZE {
            *len = PROTOCOL_INFO_SIZE as i32;
            return Err(WsaError::Fault);
        }
        value[..PROTOCOL_INFO_SIZE].copy_from_slice(&socket.entry.encode());
        return Ok(());
    }
    let bytes: [u8; 4] = match opt {
        Opt::Linger => socket.linger.to_bytes(),
        Opt::DontLinger => u32::from(!socket.linger.is_on()).to_ne_bytes(),
        Opt::Type => socket.entry.socket_type.to_ne_bytes(),
        Opt::AcceptConn => u32::from(socket.listening).to_ne_bytes(),
        Opt::MaxMsgSize => socket.entry.message_size.to_ne_bytes(),
        Opt::Stored(level, name, _) => socket.option_at(level, name).to_ne_bytes(),
        Opt::ProtocolInfo | Opt::Membership { .. } => unreachable!("answered above"),
    };
    write_value(opt.shape(), bytes, value, len)
}

/// Writes an option's 4 bytes into the caller's buffer as its shape says.
fn write_value(
    shape: Shape,
    bytes: [u8; 4],
    value: &mut [u8],
    len: &mut i32,
) -> Result<(), WsaError> {
    let have = value.len();
    match shape {
        Shape::Dword if have < 4 => {
            value.fill(0);
            Err(WsaError::Fault)
        }
        Shape::StrictDword if have < 4 => Err(WsaError::Fault),
        Shape::Int if have < 4 => {
            *len = 0;
            Err(WsaError::Fault)
        }
        Shape::Bool | Shape::ByteBool | Shape::IpBool | Shape::Small if have == 0 => {
            Err(WsaError::Fault)
        }
        Shape::ByteBool => {
            value[0] = bytes[0];
            *len = 1;
            Ok(())
        }
        Shape::Bool if have < 4 => {
            // Windows writes the bytes asked for but reports one (win: test_set_getsockopt).
            value.copy_from_slice(&bytes[..have]);
            *len = 1;
            Ok(())
        }
        Shape::IpBool | Shape::Small if have < 4 => {
            value[0] = bytes[0];
            *len = 1;
            Ok(())
        }
        Shape::Dword
        | Shape::StrictDword
        | Shape::Int
        | Shape::Bool
        | Shape::IpBool
        | Shape::Small
        | Shape::ProtocolInfo => {
            value[..4].copy_from_slice(&bytes);
            *len = 4;
            Ok(())
        }
    }
}
