//! `WSPIoctl` in its full form, the one behind `WSAIoctl`: the control codes the built-in
//! providers serve (EX-1) and the extension functions they hand out by GUID.
//!
//! It decides what a code does to the socket and which bytes go into the output buffer; it
//! never sees a function pointer (the caller's layer turns an [`Extension`] into the
//! function's address) nor an `OVERLAPPED` (Ws2_32 indicates the completion of an
//! overlapped `WSAIoctl`, which always completes at once).

use crate::consts::*;
use crate::core::providers::socket::SocketState;
use crate::core::rules::Rule;
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, Stop};
use crate::error::WsaError;

/// An extension function a provider hands out for `SIO_GET_EXTENSION_FUNCTION_POINTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// `WSAID_WSARECVMSG`: `WSARecvMsg`.
    RecvMsg,
    /// `WSAID_CONNECTEX`: `ConnectEx` (EX-3).
    ConnectEx,
    /// `WSAID_ACCEPTEX`: `AcceptEx` (EX-2).
    AcceptEx,
    /// `WSAID_GETACCEPTEXSOCKADDRS`: `GetAcceptExSockaddrs` (EX-2).
    GetAcceptExSockaddrs,
    /// `WSAID_DISCONNECTEX`: `DisconnectEx` (EX-4).
    DisconnectEx,
}

impl Extension {
    /// The `WSAID_*` GUIDs, as windows-sys' `GUID::from_u128` writes them, with the functions
    /// the built-in providers serve. `WSAID_TRANSMITFILE` and `WSAID_TRANSMITPACKETS` are
    /// not served: asking for them fails `WSAEINVAL`, as for any GUID the provider does not
    /// know (EX-1, see [`crate::sys::WSAIoctl`]).
    pub const SERVED: [(u128, Extension); 5] = [
        (0xf689d7c8_6f1f_436b_8a53_e54fe351c322, Extension::RecvMsg),
        (0x25a207b9_ddf3_4660_8ee9_76e58c74063e, Extension::ConnectEx),
        (0xb5367df1_cbac_11cf_95ca_00805f48a192, Extension::AcceptEx),
        (
            0xb5367df2_cbac_11cf_95ca_00805f48a192,
            Extension::GetAcceptExSockaddrs,
        ),
        (
            0x7fda2e11_8630_436f_a031_f536a6eec157,
            Extension::DisconnectEx,
        ),
    ];

    /// The extension of a GUID given as its 16 bytes in memory (`Data1`, `Data2`, `Data3`
    /// native-endian, then `Data4`).
    pub fn of_guid(bytes: &[u8; 16]) -> Option<Extension> {
        let d1 = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let d2 = u16::from_ne_bytes([bytes[4], bytes[5]]);
        let d3 = u16::from_ne_bytes([bytes[6], bytes[7]]);
        let mut d4 = [0u8; 8];
        d4.copy_from_slice(&bytes[8..]);
        let uuid = (u128::from(d1) << 96)
            | (u128::from(d2) << 80)
            | (u128::from(d3) << 64)
            | u128::from(u64::from_be_bytes(d4));
        Extension::SERVED
            .iter()
            .find(|(g, _)| *g == uuid)
            .map(|(_, e)| *e)
    }

    /// The function's name, for traces.
    pub const fn name(self) -> &'static str {
        match self {
            Extension::RecvMsg => "WSARecvMsg",
            Extension::ConnectEx => "ConnectEx",
            Extension::AcceptEx => "AcceptEx",
            Extension::GetAcceptExSockaddrs => "GetAcceptExSockaddrs",
            Extension::DisconnectEx => "DisconnectEx",
        }
    }
}

/// What a successful `WSPIoctl` produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// This many bytes were written at the start of the output buffer (`*lpcbBytesReturned`).
    Wrote(u32),
    /// An extension function's address belongs in the output buffer (a pointer's size):
    /// the layer that holds the functions writes it.
    Extension(Extension),
}

impl Control {
    /// The bytes `*lpcbBytesReturned` reports.
    pub const fn bytes(self) -> u32 {
        match self {
            Control::Wrote(n) => n,
            Control::Extension(_) => std::mem::size_of::<usize>() as u32,
        }
    }
}

impl std::fmt::Display for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Control::Wrote(n) => write!(f, "0 ({n} bytes returned)"),
            Control::Extension(e) => write!(f, "0 (&{})", e.name()),
        }
    }
}

/// The size of a `SOCKET` and of a function pointer in the output buffer.
const POINTER: usize = std::mem::size_of::<usize>();

/// The `tcp_keepalive` structure's size: `onoff`, `keepalivetime`, `keepaliveinterval`.
const KEEPALIVE_VALS: usize = 12;

/// A 32-bit value at the start of `input`, when it holds one.
fn input_u32(input: Option<&[u8]>) -> Result<u32, WsaError> {
    match input {
        Some([a, b, c, d, ..]) => Ok(u32::from_ne_bytes([*a, *b, *c, *d])),
        _ => Err(WsaError::Fault),
    }
}

/// Writes `bytes` at the start of `output` when it has room for them.
fn output(out: Option<&mut [u8]>, bytes: &[u8]) -> Result<Control, WsaError> {
    match out {
        Some(o) if o.len() >= bytes.len() => {
            o[..bytes.len()].copy_from_slice(bytes);
            Ok(Control::Wrote(bytes.len() as u32))
        }
        _ => Err(WsaError::Fault),
    }
}

/// EX-1: whether an overlapped `WSAIoctl` serves `code`. The base-handle codes are answered
/// only without an `OVERLAPPED`; with one they are unsupported like an unknown code: the call
/// returns `WSA_IO_PENDING` and completes with `WSAEOPNOTSUPP` (win: sock.c
/// `test_base_handle`, `test_unsupported_ioctls`).
pub fn ex_1_served_overlapped(code: u32) -> bool {
    !matches!(
        code,
        SIO_BASE_HANDLE | SIO_BSP_HANDLE | SIO_BSP_HANDLE_SELECT | SIO_BSP_HANDLE_POLL
    )
}

/// EX-1: what a failed `WSAIoctl` without an `OVERLAPPED` leaves in `*lpcbBytesReturned`:
/// 0 for an unsupported code and for a refused `SIO_KEEPALIVE_VALS` (those reach the
/// driver, which reports the size), unchanged otherwise (win: sock.c
/// `test_unsupported_ioctls`, `test_keepalive_vals`, `test_fionread_siocatmark`,
/// `test_get_extension_func`).
pub fn ex_1_count_on_failure(code: u32, e: WsaError) -> Option<u32> {
    (e == WsaError::OperationNotSupported || code == SIO_KEEPALIVE_VALS).then_some(0)
}

impl Machine {
    /// EX-1, the one place it is decided: what `WSAIoctl`'s control `code` does on socket
    /// `s` of the built-in providers, with `input` and `out` as the caller's buffers (their
    /// lengths are `cbInBuffer` and `cbOutBuffer`).
    ///
    /// - `FIONBIO`: a 4-byte input, zero for blocking (refused with `WSAEINVAL` while a
    ///   `WSAEventSelect` is active, as `ioctlsocket`); nothing returned.
    /// - `FIONREAD`: 4 bytes out, the bytes one `recv` can read at once.
    /// - `SIOCATMARK`: 4 bytes out, TRUE (no urgent data is ever waiting).
    /// - `SIO_KEEPALIVE_VALS`: a 12-byte `tcp_keepalive` in: `onoff` sets `SO_KEEPALIVE`;
    ///   when on, `keepalivetime` and `keepaliveinterval` (milliseconds) become
    ///   `TCP_KEEPALIVE` and `TCP_KEEPINTVL` (seconds, rounded down); nothing returned.
    /// - `SIO_BASE_HANDLE`, `SIO_BSP_HANDLE`, `SIO_BSP_HANDLE_SELECT`, `SIO_BSP_HANDLE_POLL`:
    ///   a `SOCKET` out, the socket itself (the built-in providers are base providers).
    /// - `SIO_GET_EXTENSION_FUNCTION_POINTER`: a GUID in (16 bytes), a pointer out: the
    ///   extension function of [`Extension::SERVED`]; an unknown GUID fails `WSAEINVAL`.
    ///
    /// An input or output buffer that is NULL or too small fails `WSAEFAULT`; any other
    /// code fails `WSAEOPNOTSUPP` (win: sock.c `test_unsupported_ioctls`). The GUIDs not
    /// served yet are a divergence, listed at [`WSAIoctl`](crate::sys::WSAIoctl).
    pub(in crate::core) fn ex_1_control(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        code: u32,
        input: Option<&[u8]>,
        out: Option<&mut [u8]>,
    ) -> Result<Control, Stop> {
        cx.rule(Rule::Ex1);
        let ep = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
        let readable = self.transport.ep(ep).readable_bytes();
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        Ok(ex_1(st, s, code, input, out, readable)?)
    }
}

/// [`Machine::ex_1_control`] on the socket's own state.
fn ex_1(
    st: &mut SocketState,
    s: Socket,
    code: u32,
    input: Option<&[u8]>,
    out: Option<&mut [u8]>,
    readable: usize,
) -> Result<Control, WsaError> {
    match code {
        c if c == FIONBIO as u32 => {
            let mut v = input_u32(input)?;
            st.ioctl(FIONBIO, Some(&mut v), readable)?;
            Ok(Control::Wrote(0))
        }
        c if c == FIONREAD as u32 || c == SIOCATMARK as u32 => {
            let mut v = 0;
            st.ioctl(c as i32, Some(&mut v), readable)?;
            output(out, &v.to_ne_bytes())
        }
        SIO_KEEPALIVE_VALS => {
            let v = match input {
                Some(b) if b.len() >= KEEPALIVE_VALS => b,
                _ => return Err(WsaError::Fault),
            };
            let word = |i: usize| u32::from_ne_bytes([v[i], v[i + 1], v[i + 2], v[i + 3]]);
            let (on, time, interval) = (word(0), word(4), word(8));
            st.set_option(SO_KEEPALIVE, u32::from(on != 0));
            if on != 0 {
                st.set_option_at(IPPROTO_TCP, TCP_KEEPALIVE, time / 1000);
                st.set_option_at(IPPROTO_TCP, TCP_KEEPINTVL, interval / 1000);
            }
            Ok(Control::Wrote(0))
        }
        SIO_BASE_HANDLE | SIO_BSP_HANDLE | SIO_BSP_HANDLE_SELECT | SIO_BSP_HANDLE_POLL => {
            output(out, &s.raw().to_ne_bytes())
        }
        SIO_GET_EXTENSION_FUNCTION_POINTER => {
            let guid: &[u8; 16] = match input {
                Some(b) if b.len() >= 16 => b[..16].try_into().map_err(|_| WsaError::Fault)?,
                _ => return Err(WsaError::Fault),
            };
            let e = Extension::of_guid(guid).ok_or(WsaError::InvalidArgument)?;
            match out {
                Some(o) if o.len() >= POINTER => Ok(Control::Extension(e)),
                _ => Err(WsaError::Fault),
            }
        }
        _ => Err(WsaError::OperationNotSupported),
    }
}
