//! `#[repr(C)]` Winsock structures with windows-sys' names and 64-bit field order.
#![allow(non_snake_case, non_camel_case_types)]

use crate::core::catalog::{ProtocolInfo, PROTOCOL_INFO_SIZE};
use crate::core::version::WSADATA_SIZE;

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
