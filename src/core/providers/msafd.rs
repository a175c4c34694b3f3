//! MSAFD Tcpip: the TCP and UDP catalog entries Windows lists first (SP-11).

use super::Builtin;
use crate::consts::*;
use crate::core::catalog::{ProtocolInfo, MSAFD_TCPIP_PROVIDER};

/// The provider, serving [`entries`].
pub fn provider() -> Builtin {
    Builtin::new(MSAFD_TCPIP_PROVIDER, "MSAFD Tcpip", entries())
}

/// SP-11: `MSAFD Tcpip [TCP/IP]` then `MSAFD Tcpip [UDP/IP]`, with Windows' service flags
/// (what Windows lists beyond these: [`Catalog::builtin`](crate::core::catalog::Catalog::builtin)).
pub fn entries() -> Vec<ProtocolInfo> {
    let tcp = ProtocolInfo {
        service_flags1: XP1_IFS_HANDLES
            | XP1_EXPEDITED_DATA
            | XP1_GRACEFUL_CLOSE
            | XP1_GUARANTEED_ORDER
            | XP1_GUARANTEED_DELIVERY,
        provider_flags: PFL_MATCHES_PROTOCOL_ZERO,
        ..ProtocolInfo::ipv4_base(
            1001,
            MSAFD_TCPIP_PROVIDER,
            SOCK_STREAM,
            IPPROTO_TCP,
            "MSAFD Tcpip [TCP/IP]",
        )
    };
    let udp = ProtocolInfo {
        service_flags1: XP1_IFS_HANDLES
            | XP1_SUPPORT_MULTIPOINT
            | XP1_SUPPORT_BROADCAST
            | XP1_MESSAGE_ORIENTED
            | XP1_CONNECTIONLESS,
        provider_flags: PFL_MATCHES_PROTOCOL_ZERO,
        message_size: 65527,
        ..ProtocolInfo::ipv4_base(
            1002,
            MSAFD_TCPIP_PROVIDER,
            SOCK_DGRAM,
            IPPROTO_UDP,
            "MSAFD Tcpip [UDP/IP]",
        )
    };
    vec![tcp, udp]
}
