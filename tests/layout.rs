//! Our `#[repr(C)]` Winsock types and constants against windows-sys' (64-bit Windows), so code
//! written against `windows_sys::Win32::Networking::WinSock` runs unchanged on `ws2sim::sys`.

use std::mem::{align_of, offset_of, size_of};

use windows_sys::Win32::Networking::WinSock as ws;
use ws2sim::sys as ours;
use ws2sim::{api, ProtocolInfo};

mod common;
use common::*;

#[test]
fn layout_sizes_and_alignments_match_windows_sys() {
    macro_rules! same {
        ($ours:ty, $theirs:ty) => {
            assert_eq!(
                size_of::<$ours>(),
                size_of::<$theirs>(),
                "size of {}",
                stringify!($ours)
            );
            assert_eq!(
                align_of::<$ours>(),
                align_of::<$theirs>(),
                "align of {}",
                stringify!($ours)
            );
        };
    }
    same!(ours::WSADATA, ws::WSADATA);
    same!(ours::WSAPROTOCOL_INFOW, ws::WSAPROTOCOL_INFOW);
    same!(ours::WSAPROTOCOLCHAIN, ws::WSAPROTOCOLCHAIN);
    same!(ours::GUID, windows_sys::core::GUID);
    same!(ours::LINGER, ws::LINGER);
    same!(ours::IN6_ADDR, ws::IN6_ADDR);
    same!(ours::SOCKADDR_IN6, ws::SOCKADDR_IN6);
    same!(ours::SOCKADDR_STORAGE, ws::SOCKADDR_STORAGE);
    same!(ours::SCOPE_ID, ws::SCOPE_ID);
    // The 64-bit sizes the simulator reads and writes in caller memory.
    assert_eq!(size_of::<ours::WSADATA>(), 408);
    assert_eq!(size_of::<ours::WSAPROTOCOL_INFOW>(), 628);
    assert_eq!(size_of::<ours::WSAPROTOCOLCHAIN>(), 32);
    assert_eq!(size_of::<ours::GUID>(), 16);
    assert_eq!(size_of::<ours::LINGER>(), 4);
}

#[test]
fn layout_field_offsets_match_windows_sys() {
    macro_rules! offsets {
        ($ours:ty, $theirs:ty: $($field:ident),+ $(,)?) => {$(
            assert_eq!(
                offset_of!($ours, $field),
                offset_of!($theirs, $field),
                "{}::{}",
                stringify!($ours),
                stringify!($field)
            );
        )+};
    }
    offsets!(ours::SOCKADDR_IN6, ws::SOCKADDR_IN6:
        sin6_family, sin6_port, sin6_flowinfo, sin6_addr, Anonymous);
    offsets!(ours::SOCKADDR_STORAGE, ws::SOCKADDR_STORAGE:
        ss_family, __ss_pad1, __ss_align, __ss_pad2);
    assert_eq!(size_of::<ours::SOCKADDR_IN6>(), 28);
    assert_eq!(size_of::<ours::SOCKADDR_STORAGE>(), 128);
    offsets!(ours::WSADATA, ws::WSADATA:
        wVersion, wHighVersion, iMaxSockets, iMaxUdpDg, lpVendorInfo, szDescription,
        szSystemStatus);
    offsets!(ours::WSAPROTOCOL_INFOW, ws::WSAPROTOCOL_INFOW:
        dwServiceFlags1, dwServiceFlags2, dwServiceFlags3, dwServiceFlags4, dwProviderFlags,
        ProviderId, dwCatalogEntryId, ProtocolChain, iVersion, iAddressFamily, iMaxSockAddr,
        iMinSockAddr, iSocketType, iProtocol, iProtocolMaxOffset, iNetworkByteOrder,
        iSecurityScheme, dwMessageSize, dwProviderReserved, szProtocol);
    offsets!(ours::WSAPROTOCOLCHAIN, ws::WSAPROTOCOLCHAIN: ChainLen, ChainEntries);
    offsets!(ours::GUID, windows_sys::core::GUID: data1, data2, data3, data4);
    offsets!(ours::LINGER, ws::LINGER: l_onoff, l_linger);
}

#[test]
fn layout_field_types_match_windows_sys() {
    // Assigning each of our fields to the windows-sys field fails to compile on a type mismatch.
    let o = ours::WSAPROTOCOL_INFOW::default();
    let mut t: ws::WSAPROTOCOL_INFOW = unsafe { std::mem::zeroed() };
    t.dwServiceFlags1 = o.dwServiceFlags1;
    t.dwServiceFlags2 = o.dwServiceFlags2;
    t.dwServiceFlags3 = o.dwServiceFlags3;
    t.dwServiceFlags4 = o.dwServiceFlags4;
    t.dwProviderFlags = o.dwProviderFlags;
    t.ProviderId.data1 = o.ProviderId.data1;
    t.ProviderId.data2 = o.ProviderId.data2;
    t.ProviderId.data3 = o.ProviderId.data3;
    t.ProviderId.data4 = o.ProviderId.data4;
    t.dwCatalogEntryId = o.dwCatalogEntryId;
    t.ProtocolChain.ChainLen = o.ProtocolChain.ChainLen;
    t.ProtocolChain.ChainEntries = o.ProtocolChain.ChainEntries;
    t.iVersion = o.iVersion;
    t.iAddressFamily = o.iAddressFamily;
    t.iMaxSockAddr = o.iMaxSockAddr;
    t.iMinSockAddr = o.iMinSockAddr;
    t.iSocketType = o.iSocketType;
    t.iProtocol = o.iProtocol;
    t.iProtocolMaxOffset = o.iProtocolMaxOffset;
    t.iNetworkByteOrder = o.iNetworkByteOrder;
    t.iSecurityScheme = o.iSecurityScheme;
    t.dwMessageSize = o.dwMessageSize;
    t.dwProviderReserved = o.dwProviderReserved;
    t.szProtocol = o.szProtocol;
    assert_eq!(t.szProtocol, [0u16; 256]);

    let o = ours::WSADATA::default();
    let mut t: ws::WSADATA = unsafe { std::mem::zeroed() };
    t.wVersion = o.wVersion;
    t.wHighVersion = o.wHighVersion;
    t.iMaxSockets = o.iMaxSockets;
    t.iMaxUdpDg = o.iMaxUdpDg;
    t.lpVendorInfo = o.lpVendorInfo;
    t.szDescription = o.szDescription;
    t.szSystemStatus = o.szSystemStatus;
    assert!(t.lpVendorInfo.is_null());

    let o = ours::LINGER {
        l_onoff: 1,
        l_linger: 2,
    };
    let t = ws::LINGER {
        l_onoff: o.l_onoff,
        l_linger: o.l_linger,
    };
    assert_eq!((t.l_onoff, t.l_linger), (1, 2));
}

/// Each catalog entry, converted to our `WSAPROTOCOL_INFOW`, has the `ProtocolInfo`'s values
/// field for field, and reads the same through windows-sys' layout.
#[test]
fn layout_catalog_entries_convert_field_for_field() {
    let entries = process().run(|| {
        api::startup(ws2sim::Version::V2_2).unwrap();
        let e = api::enum_protocols(None).unwrap();
        api::cleanup().unwrap();
        e
    });
    assert_eq!(entries.len(), 3);
    for info in &entries {
        let c = ours::WSAPROTOCOL_INFOW::from(info);
        assert_eq!(c.dwServiceFlags1, info.service_flags1);
        assert_eq!(c.dwServiceFlags2, info.service_flags2);
        assert_eq!(c.dwServiceFlags3, info.service_flags3);
        assert_eq!(c.dwServiceFlags4, info.service_flags4);
        assert_eq!(c.dwProviderFlags, info.provider_flags);
        assert_eq!(c.ProviderId.data1, info.provider_id.data1);
        assert_eq!(c.ProviderId.data2, info.provider_id.data2);
        assert_eq!(c.ProviderId.data3, info.provider_id.data3);
        assert_eq!(c.ProviderId.data4, info.provider_id.data4);
        assert_eq!(c.dwCatalogEntryId, info.catalog_entry_id);
        assert_eq!(c.ProtocolChain.ChainLen, info.chain.len);
        assert_eq!(c.ProtocolChain.ChainEntries, info.chain.entries);
        assert_eq!(c.iVersion, info.version);
        assert_eq!(c.iAddressFamily, info.address_family);
        assert_eq!(c.iMaxSockAddr, info.max_sockaddr);
        assert_eq!(c.iMinSockAddr, info.min_sockaddr);
        assert_eq!(c.iSocketType, info.socket_type);
        assert_eq!(c.iProtocol, info.protocol);
        assert_eq!(c.iProtocolMaxOffset, info.protocol_max_offset);
        assert_eq!(c.iNetworkByteOrder, info.network_byte_order);
        assert_eq!(c.iSecurityScheme, info.security_scheme);
        assert_eq!(c.dwMessageSize, info.message_size);
        assert_eq!(c.dwProviderReserved, info.provider_reserved);
        let units: Vec<u16> = info.name.encode_utf16().collect();
        assert!(!units.is_empty() && units.len() < 256);
        assert_eq!(&c.szProtocol[..units.len()], &units[..]);
        assert!(c.szProtocol[units.len()..].iter().all(|&u| u == 0));
        assert_eq!(&ProtocolInfo::from(&c), info, "round trip");

        // The same bytes read through windows-sys' struct.
        let t: ws::WSAPROTOCOL_INFOW = unsafe { std::mem::transmute(c) };
        assert_eq!(t.dwServiceFlags1, info.service_flags1);
        assert_eq!(t.dwProviderFlags, info.provider_flags);
        assert_eq!(t.ProviderId.data1, info.provider_id.data1);
        assert_eq!(t.ProviderId.data4, info.provider_id.data4);
        assert_eq!(t.dwCatalogEntryId, info.catalog_entry_id);
        assert_eq!(t.ProtocolChain.ChainLen, info.chain.len);
        assert_eq!(t.ProtocolChain.ChainEntries, info.chain.entries);
        assert_eq!(t.iAddressFamily, info.address_family);
        assert_eq!(t.iSocketType, info.socket_type);
        assert_eq!(t.iProtocol, info.protocol);
        assert_eq!(t.dwMessageSize, info.message_size);
        assert_eq!(t.dwProviderReserved, info.provider_reserved);
        assert_eq!(t.szProtocol, c.szProtocol);
    }
}

/// Same value and same type: `same(a, b)` does not compile when the types differ.
fn same<T: PartialEq + std::fmt::Debug>(name: &str, ours: T, theirs: T) {
    assert_eq!(ours, theirs, "{name}");
}

macro_rules! same_consts {
    ($($name:ident),+ $(,)?) => {$( same(stringify!($name), ours::$name, ws::$name); )+};
}

#[test]
fn layout_constants_match_windows_sys() {
    same_consts!(
        AF_UNSPEC,
        AF_INET,
        AF_INET6,
        SOCK_STREAM,
        SOCK_DGRAM,
        SOCK_RAW,
        IPPROTO_IP,
        IPPROTO_TCP,
        IPPROTO_UDP,
        FROM_PROTOCOL_INFO,
        SOL_SOCKET,
        SO_ACCEPTCONN,
        SO_REUSEADDR,
        SO_KEEPALIVE,
        SO_BROADCAST,
        SO_LINGER,
        SO_OOBINLINE,
        SO_DONTLINGER,
        SO_EXCLUSIVEADDRUSE,
        SO_SNDBUF,
        SO_RCVBUF,
        SO_SNDTIMEO,
        SO_RCVTIMEO,
        SO_ERROR,
        SO_TYPE,
        SO_MAX_MSG_SIZE,
        SO_PROTOCOL_INFOW,
        IPPROTO_IPV6,
        INADDR_BROADCAST,
        TCP_NODELAY,
        TCP_KEEPALIVE,
        TCP_KEEPIDLE,
        TCP_KEEPCNT,
        TCP_KEEPINTVL,
        IP_TOS,
        IP_TTL,
        IP_MULTICAST_IF,
        IP_MULTICAST_TTL,
        IP_MULTICAST_LOOP,
        IP_ADD_MEMBERSHIP,
        IP_DROP_MEMBERSHIP,
        IP_DONTFRAGMENT,
        IP_ADD_SOURCE_MEMBERSHIP,
        IP_DROP_SOURCE_MEMBERSHIP,
        IP_PKTINFO,
        IPV6_UNICAST_HOPS,
        IPV6_MULTICAST_IF,
        IPV6_MULTICAST_HOPS,
        IPV6_MULTICAST_LOOP,
        IPV6_ADD_MEMBERSHIP,
        IPV6_DROP_MEMBERSHIP,
        IPV6_PKTINFO,
        IPV6_V6ONLY,
        FIONBIO,
        FIONREAD,
        SIOCATMARK,
        INVALID_SOCKET,
        SOCKET_ERROR,
        SD_RECEIVE,
        SD_SEND,
        SD_BOTH,
        WSA_FLAG_OVERLAPPED,
        WSA_FLAG_MULTIPOINT_C_ROOT,
        WSA_FLAG_MULTIPOINT_C_LEAF,
        WSA_FLAG_MULTIPOINT_D_ROOT,
        WSA_FLAG_MULTIPOINT_D_LEAF,
        WSA_FLAG_NO_HANDLE_INHERIT,
        FD_READ,
        FD_WRITE,
        FD_OOB,
        FD_ACCEPT,
        FD_CONNECT,
        FD_CLOSE,
        FD_READ_BIT,
        FD_WRITE_BIT,
        FD_OOB_BIT,
        FD_ACCEPT_BIT,
        FD_CONNECT_BIT,
        FD_CLOSE_BIT,
        FD_MAX_EVENTS,
        FD_SETSIZE,
        XP1_CONNECTIONLESS,
        XP1_GUARANTEED_DELIVERY,
        XP1_GUARANTEED_ORDER,
        XP1_MESSAGE_ORIENTED,
        XP1_PSEUDO_STREAM,
        XP1_GRACEFUL_CLOSE,
        XP1_EXPEDITED_DATA,
        XP1_CONNECT_DATA,
        XP1_DISCONNECT_DATA,
        XP1_SUPPORT_BROADCAST,
        XP1_SUPPORT_MULTIPOINT,
        XP1_MULTIPOINT_CONTROL_PLANE,
        XP1_MULTIPOINT_DATA_PLANE,
        XP1_QOS_SUPPORTED,
        XP1_INTERRUPT,
        XP1_UNI_SEND,
        XP1_UNI_RECV,
        XP1_IFS_HANDLES,
        XP1_PARTIAL_MESSAGE,
        XP1_SAN_SUPPORT_SDP,
        PFL_MULTIPLE_PROTO_ENTRIES,
        PFL_RECOMMENDED_PROTO_ENTRY,
        PFL_HIDDEN,
        PFL_MATCHES_PROTOCOL_ZERO,
        PFL_NETWORKDIRECT_PROVIDER,
        MSG_OOB,
        MSG_PEEK,
        MSG_WAITALL,
        WSA_INFINITE,
        WSA_WAIT_TIMEOUT,
        WSA_WAIT_FAILED,
        WSA_WAIT_IO_COMPLETION,
        WSA_INVALID_EVENT,
    );
}

#[test]
fn layout_error_codes_match_windows_sys() {
    same_consts!(
        WSA_INVALID_HANDLE,
        WSA_INVALID_PARAMETER,
        WSA_OPERATION_ABORTED,
        WSA_IO_INCOMPLETE,
        WSA_IO_PENDING,
        WSAEINTR,
        WSAEFAULT,
        WSAEINVAL,
        WSAEMFILE,
        WSAEWOULDBLOCK,
        WSAEINPROGRESS,
        WSAENOTSOCK,
        WSAEMSGSIZE,
        WSAENOPROTOOPT,
        WSAEPROTONOSUPPORT,
        WSAESOCKTNOSUPPORT,
        WSAEOPNOTSUPP,
        WSAEAFNOSUPPORT,
        WSAENETDOWN,
        WSAECONNABORTED,
        WSAECONNRESET,
        WSAENOBUFS,
        WSAEISCONN,
        WSAENOTCONN,
        WSAESHUTDOWN,
        WSAVERNOTSUPPORTED,
        WSANOTINITIALISED,
        WSAEDISCON,
    );
    // The typed errors carry the same values.
    assert_eq!(ws2sim::WsaError::NotSocket.code(), ws::WSAENOTSOCK);
    assert_eq!(ws2sim::WsaError::Fault.code(), ws::WSAEFAULT);
    assert_eq!(ws2sim::WsaError::InvalidArgument.code(), ws::WSAEINVAL);
    assert_eq!(ws2sim::WsaError::NoBufferSpace.code(), ws::WSAENOBUFS);
    assert_eq!(
        ws2sim::WsaError::NoProtocolOption.code(),
        ws::WSAENOPROTOOPT
    );
    assert_eq!(
        ws2sim::WsaError::OperationNotSupported.code(),
        ws::WSAEOPNOTSUPP
    );
}

/// Catalog and WSADATA constants: same value and same type as windows-sys.
#[test]
fn layout_catalog_constants_match_windows_sys() {
    same_consts!(
        LAYERED_PROTOCOL,
        BASE_PROTOCOL,
        MAX_PROTOCOL_CHAIN,
        WSAPROTOCOL_LEN,
        BIGENDIAN,
        LITTLEENDIAN,
        SECURITY_PROTOCOL_NONE,
        WSADESCRIPTION_LEN,
        WSASYS_STATUS_LEN,
        WSA_WAIT_EVENT_0,
    );
}
