//! `WSARecvMsg`'s control data and flags (EX-5): `IN_PKTINFO` for a socket with
//! `IP_PKTINFO` set, and `MSG_TRUNC` / `MSG_CTRUNC`.
//!
//! This module decides what goes into `WSAMSG.Control` and `dwFlags` after a receive; the
//! receive itself is `recvfrom`'s. It does not write the caller's memory: `sys` copies the
//! bytes.

use std::net::Ipv4Addr;

use crate::consts::*;
use crate::core::call::MsgOut;
use crate::core::rules::Rule;
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, Stop};
use crate::error::WsaError;

/// `sizeof(WSACMSGHDR)` on 64-bit Windows, which is also where the data starts
/// (`WSA_CMSGDATA_ALIGN`): `cmsg_len` (a `SIZE_T`), `cmsg_level`, `cmsg_type`.
const CMSG_HEADER: usize = 16;
/// `sizeof(IN_PKTINFO)`: `ipi_addr`, `ipi_ifindex`.
const PKTINFO: usize = 8;

/// The interface a datagram to `to` arrived on (sim): 1, the loopback interface, for
/// 127.0.0.0/8; 2, the host's one network interface, for everything else.
pub fn interface_of(to: Ipv4Addr) -> u32 {
    if to.is_loopback() {
        1
    } else {
        2
    }
}

impl Machine {
    /// EX-5, the one place it is decided: after `WSARecvMsg`'s receive on `s` (`result`),
    /// `dwFlags` holds `MSG_TRUNC` when the datagram did not fit (the call fails
    /// `WSAEMSGSIZE`, the buffers filled); when the socket has `IP_PKTINFO` set and a
    /// datagram was received, `Control` holds one `IN_PKTINFO` message (`cmsg_level`
    /// `IPPROTO_IP`, `cmsg_type` `IP_PKTINFO`, 24 bytes with its header) naming the address the
    /// datagram was sent to and the interface it came in on; a `Control.len` too small for
    /// it gets none and `MSG_CTRUNC`. Anything else leaves `Control` empty.
    pub(in crate::core) fn ex_5_message(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        result: &Result<usize, Stop>,
        m: &mut MsgOut,
    ) {
        cx.rule(Rule::Ex5);
        let truncated = matches!(result, Err(Stop::Fail(WsaError::MessageSize)));
        let received = result.is_ok() || truncated;
        let to = self.received_to.take().filter(|_| received);
        *m = self.message_for(cx.process, s, to, truncated, m.room);
    }

    /// EX-5's answer for a datagram sent to `to` (`None`: none was received) that was
    /// `truncated` or not, with `room` bytes of `Control`: the same for an overlapped
    /// `WSARecvMsg`, whose completion carries it.
    pub(in crate::core) fn message_for(
        &mut self,
        process: crate::core::ProcessId,
        s: Socket,
        to: Option<Ipv4Addr>,
        truncated: bool,
        room: usize,
    ) -> MsgOut {
        let mut m = MsgOut {
            room,
            control: Vec::new(),
            flags: if truncated { MSG_TRUNC } else { 0 },
        };
        let wants = self
            .process_mut(process)
            .row_mut(s)
            .is_some_and(|row| row.option_at(IPPROTO_IP, IP_PKTINFO) != 0);
        let Some(to) = to.filter(|_| wants) else {
            return m;
        };
        let len = CMSG_HEADER + PKTINFO;
        if room < len {
            m.flags |= MSG_CTRUNC;
            return m;
        }
        m.control.extend_from_slice(&len.to_ne_bytes());
        m.control.extend_from_slice(&IPPROTO_IP.to_ne_bytes());
        m.control.extend_from_slice(&IP_PKTINFO.to_ne_bytes());
        m.control.extend_from_slice(&to.octets());
        m.control.extend_from_slice(&interface_of(to).to_ne_bytes());
        m
    }
}
