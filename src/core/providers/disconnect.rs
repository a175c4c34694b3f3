//! ws2sim's disconnect-data stream provider: a TCP-like stream protocol whose entry sets
//! `XP1_DISCONNECT_DATA`, so WSASendDisconnect/WSARecvDisconnect carry data (SD-3, SP-11).
//! The transport carries the data with the close; this file only describes the provider.

use super::Builtin;
use crate::consts::*;
use crate::core::catalog::{ProtocolInfo, DISCONNECT_DATA_PROVIDER};

/// The provider, serving [`entries`].
pub fn provider() -> Builtin {
    Builtin::new(
        DISCONNECT_DATA_PROVIDER,
        "ws2sim Disconnect-Data",
        entries(),
    )
}

/// SP-11: one stream entry with `XP1_DISCONNECT_DATA` and `XP1_CONNECT_DATA`, listed after
/// MSAFD Tcpip's.
///
/// # Divergence
/// Windows ships no built-in provider with disconnect data (TCP/IP has none); this one exists
/// so SD-3 can be exercised. Its protocol number is ws2sim's own
/// (`IPPROTO_WS2SIM_DISCONNECT_DATA`).
pub fn entries() -> Vec<ProtocolInfo> {
    vec![ProtocolInfo {
        service_flags1: XP1_DISCONNECT_DATA
            | XP1_CONNECT_DATA
            | XP1_GRACEFUL_CLOSE
            | XP1_GUARANTEED_ORDER
            | XP1_GUARANTEED_DELIVERY,
        ..ProtocolInfo::ipv4_base(
            1003,
            DISCONNECT_DATA_PROVIDER,
            SOCK_STREAM,
            IPPROTO_WS2SIM_DISCONNECT_DATA,
            "ws2sim Disconnect-Data Stream [TCP/IP]",
        )
    }]
}
