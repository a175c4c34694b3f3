//! `SOCKADDR_IN` in a caller's memory: 16 bytes, family in native order, port and address in
//! network order.

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::consts::AF_INET;
use crate::error::WsaError;

/// The size of `SOCKADDR_IN`.
pub const SOCKADDR_IN_SIZE: usize = 16;

/// Reads an address: fewer than 16 bytes → `WSAEFAULT`; a family other than `AF_INET` →
/// `WSAEAFNOSUPPORT`.
pub fn decode(bytes: &[u8]) -> Result<SocketAddrV4, WsaError> {
    if bytes.len() < SOCKADDR_IN_SIZE {
        return Err(WsaError::Fault);
    }
    if u16::from_ne_bytes([bytes[0], bytes[1]]) != AF_INET {
        return Err(WsaError::AddressFamilyNotSupported);
    }
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
    Ok(SocketAddrV4::new(ip, port))
}

/// The 16 bytes of an address.
pub fn encode(addr: SocketAddrV4) -> [u8; SOCKADDR_IN_SIZE] {
    let mut b = [0u8; SOCKADDR_IN_SIZE];
    b[0..2].copy_from_slice(&AF_INET.to_ne_bytes());
    b[2..4].copy_from_slice(&addr.port().to_be_bytes());
    b[4..8].copy_from_slice(&addr.ip().octets());
    b
}

/// Checks an output address buffer before anything changes: both pointers present and at
/// least 16 bytes, else `WSAEFAULT`.
pub fn check_out(buf: &Option<&mut [u8]>, len: &Option<&mut i32>) -> Result<(), WsaError> {
    match (buf, len) {
        (Some(b), Some(l)) if **l >= SOCKADDR_IN_SIZE as i32 && b.len() >= SOCKADDR_IN_SIZE => {
            Ok(())
        }
        _ => Err(WsaError::Fault),
    }
}

/// Writes an address into a checked output buffer and sets its length to 16.
pub fn write_out(addr: SocketAddrV4, buf: Option<&mut [u8]>, len: Option<&mut i32>) {
    if let (Some(b), Some(l)) = (buf, len) {
        b[..SOCKADDR_IN_SIZE].copy_from_slice(&encode(addr));
        *l = SOCKADDR_IN_SIZE as i32;
    }
}
