//! `setsockopt` and `getsockopt` at `SOL_SOCKET` (CS-8 and the option-length behaviour Windows
//! shows in Wine's sock.c `test_set_getsockopt`).

use crate::consts::*;
use crate::core::catalog::PROTOCOL_INFO_SIZE;
use crate::core::providers::socket::{Linger, SocketState};
use crate::core::rules::Rule;
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
    /// A `BOOL` read leniently: set takes 0..4 bytes (0 bytes leaves the value unchanged); get
    /// with `optlen` 1..3 writes that many bytes and reports `optlen` 1.
    Bool,
    /// A one-byte boolean: get writes 1 byte and reports `optlen` 1; set needs 1 byte.
    ByteBool,
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
    /// Stored as a 32-bit value under its name.
    Stored(i32, Shape),
}

impl Opt {
    fn shape(self) -> Shape {
        match self {
            Opt::Linger => Shape::Dword,
            Opt::DontLinger | Opt::AcceptConn => Shape::Bool,
            Opt::Type | Opt::MaxMsgSize => Shape::StrictDword,
            Opt::ProtocolInfo => Shape::ProtocolInfo,
            Opt::Stored(_, shape) => shape,
        }
    }
}

/// The option at (`level`, `name`) for this socket: an unknown level fails `WSAEINVAL`; an
/// option the level or the socket's protocol lacks fails `WSAENOPROTOOPT`.
///
/// # Divergence
/// Only `SOL_SOCKET` options are modelled; `IPPROTO_TCP`, `IPPROTO_UDP` and `IPPROTO_IP` are
/// known levels whose options all fail `WSAENOPROTOOPT`.
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

fn lookup(cx: &mut Cx, socket: &SocketState, level: i32, name: i32) -> Result<Opt, WsaError> {
    if level != SOL_SOCKET {
        return Err(if [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IP].contains(&level) {
            WsaError::NoProtocolOption
        } else {
            WsaError::InvalidArgument
        });
    }
    let datagram = socket.entry.is_connectionless();
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
        SO_BROADCAST | SO_OOBINLINE | SO_REUSEADDR | SO_EXCLUSIVEADDRUSE => {
            Opt::Stored(name, Shape::Bool)
        }
        SO_KEEPALIVE | SO_DONTROUTE => Opt::Stored(name, Shape::ByteBool),
        SO_SNDBUF | SO_RCVBUF => Opt::Stored(name, Shape::Dword),
        SO_SNDTIMEO | SO_RCVTIMEO | SO_ERROR => Opt::Stored(name, Shape::StrictDword),
        _ => return Err(WsaError::NoProtocolOption),
    };
    Ok(opt)
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
    let opt = lookup(cx, socket, level, name)?;
    match opt {
        // Read-only options. SO_TYPE fails WSAEINVAL on datagram sockets (win: test_WSASocket).
        Opt::Type if socket.entry.is_connectionless() => return Err(WsaError::InvalidArgument),
        Opt::Type | Opt::AcceptConn | Opt::MaxMsgSize | Opt::ProtocolInfo => {
            return Err(WsaError::NoProtocolOption)
        }
        Opt::Linger | Opt::DontLinger | Opt::Stored(..) => {}
    }
    // ER-3: pointer and length checks come last.
    let value = value.ok_or(WsaError::Fault)?;
    if len < 0 {
        return Err(WsaError::Fault);
    }
    let need = match opt.shape() {
        Shape::Dword | Shape::StrictDword => 4,
        Shape::ByteBool => 1,
        Shape::Bool | Shape::ProtocolInfo => 0,
    };
    if value.len() < need {
        return Err(WsaError::Fault);
    }
    let mut raw = [0u8; 4];
    let n = value.len().min(4);
    raw[..n].copy_from_slice(&value[..n]);
    let flag = u32::from(u32::from_ne_bytes(raw) != 0);
    match opt {
        Opt::Linger => socket.linger = Linger::from_bytes(raw), // CS-8: kept as given.
        Opt::DontLinger if value.is_empty() => {}
        // CS-8: SO_DONTLINGER = !l_onoff; l_linger is kept.
        Opt::DontLinger => socket.linger.onoff = u16::from(flag == 0),
        Opt::Stored(_, Shape::Bool) if value.is_empty() => {}
        Opt::Stored(name, Shape::Bool | Shape::ByteBool) => socket.set_option(name, flag),
        Opt::Stored(name, _) => socket.set_option(name, u32::from_ne_bytes(raw)),
        Opt::Type | Opt::AcceptConn | Opt::MaxMsgSize | Opt::ProtocolInfo => {
            unreachable!("read-only options returned above")
        }
    }
    Ok(())
}

fn get_value(
    cx: &mut Cx,
    socket: &mut SocketState,
    level: i32,
    name: i32,
    value: Option<&mut [u8]>,
    len: Option<&mut i32>,
) -> Result<(), WsaError> {
    let opt = lookup(cx, socket, level, name)?;
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
        Opt::Stored(name, _) => socket.option(name).to_ne_bytes(),
        Opt::ProtocolInfo => unreachable!("written above"),
    };
    let have = value.len();
    match opt.shape() {
        Shape::Dword if have < 4 => {
            value.fill(0);
            Err(WsaError::Fault)
        }
        Shape::StrictDword if have < 4 => Err(WsaError::Fault),
        Shape::Bool | Shape::ByteBool if have == 0 => Err(WsaError::Fault),
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
        Shape::Dword | Shape::StrictDword | Shape::Bool | Shape::ProtocolInfo => {
            value[..4].copy_from_slice(&bytes);
            *len = 4;
            Ok(())
        }
    }
}
