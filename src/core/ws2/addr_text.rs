//! AD-5: addresses to text and back, as `inet_pton`/`InetPtonW`, `inet_ntop`/`InetNtopW`,
//! `WSAStringToAddressW` and `WSAAddressToStringW` do them.
//!
//! [`World::ad_5_convert`] is the one place the rule is decided: it checks the arguments in
//! Winsock's order and calls the pure parsers and formatters below. The readings follow
//! Wine's conformance tests of Windows (`dlls/ws2_32/tests/protocol.c`): `inet_pton` takes
//! strict dotted-decimal IPv4 only, `WSAStringToAddressW` takes `inet_addr`'s forms (one to
//! four parts, octal and hex) and a port; IPv6 text is RFC 4291's, with an embedded IPv4 tail.
//!
//! This module reads and writes the caller's memory only as the byte slices the call carries;
//! it knows no sockets and keeps no state.
//!
//! # Divergence
//! - On a malformed string Windows sometimes writes part of the address before failing
//!   (`"1.1.1.0a"` leaves 1.1.1.0 in the buffer); the simulator leaves the buffer untouched.
//! - `inet_ntop` with a NULL or too-small buffer fails `WSAEINVAL` (what Windows 7 reports;
//!   later versions report `STATUS_INVALID_PARAMETER`, which is not a Winsock code).
//! - IPv6 text compresses the first longest run of two or more zero groups (RFC 5952); the
//!   IPv4-compatible (`::a.b.c.d`, `a.b` not 0) and v4-mapped (`::ffff:a.b.c.d`) forms are
//!   written with a dotted tail, as Windows writes them.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::consts::{AF_INET, AF_INET6};
use crate::core::call::{Conversion, TextOut};
use crate::core::rules::Rule;
use crate::core::{Cx, Reply, Stop, World};
use crate::error::WsaError;

/// `sizeof(SOCKADDR_IN)`.
pub const SOCKADDR_IN_SIZE: usize = 16;
/// `sizeof(SOCKADDR_IN6)`.
pub const SOCKADDR_IN6_SIZE: usize = 28;

impl World {
    /// AD-5, the one place it is decided: the four conversions, their argument checks and
    /// errors. `inet_pton` and `inet_ntop` need no `WSAStartup` (the call table's gate);
    /// the `WSA*` pair does.
    pub(in crate::core) fn ad_5_convert(
        &mut self,
        cx: &mut Cx,
        c: &mut Conversion<'_>,
    ) -> Result<Reply, Stop> {
        cx.rule(Rule::Ad5);
        match c {
            Conversion::Pton {
                family,
                text,
                out,
                wide,
            } => pton(*family, text.as_deref(), out, *wide),
            Conversion::Ntop { family, addr, out } => ntop(*family, *addr, out),
            Conversion::StringToAddress {
                text,
                family,
                out,
                len,
            } => string_to_address(text.as_deref(), *family, out, len),
            Conversion::AddressToString { addr, out, room } => address_to_string(*addr, out, room),
        }
        .map_err(Stop::from)
    }
}

/// `inet_pton`: `Count(1)`; a malformed string → `Count(0)` with the last error untouched,
/// or for `InetPtonW` (`wide`) `WSAEINVAL` (which it returns as 0); NULL string or buffer →
/// `WSAEFAULT`, checked before the family (another family → `WSAEAFNOSUPPORT`).
fn pton(
    family: i32,
    text: Option<&str>,
    out: &mut Option<&mut [u8]>,
    wide: bool,
) -> Result<Reply, WsaError> {
    let (Some(text), Some(out)) = (text, out.as_deref_mut()) else {
        return Err(WsaError::Fault);
    };
    let parsed: Option<Vec<u8>> = match family_of(family)? {
        Family::V4 => pton_v4(text).map(|a| a.to_vec()),
        Family::V6 => pton_v6(text).map(|a| a.to_vec()),
    };
    match parsed {
        Some(bytes) if out.len() >= bytes.len() => {
            out[..bytes.len()].copy_from_slice(&bytes);
            Ok(Reply::Count(1))
        }
        Some(_) => Err(WsaError::Fault),
        None if wide => Err(WsaError::InvalidArgument),
        None => Ok(Reply::Count(0)),
    }
}

/// `inet_ntop`: writes the text and its NUL when the buffer holds both (`Count` of the
/// characters); otherwise (NULL, size 0, too small) `WSAEINVAL`. NULL address →
/// `WSAEFAULT`; another family → `WSAEAFNOSUPPORT`.
fn ntop(family: i32, addr: Option<&[u8]>, out: &mut TextOut<'_>) -> Result<Reply, WsaError> {
    let family = family_of(family)?;
    let addr = addr.ok_or(WsaError::Fault)?;
    let text = match family {
        Family::V4 => ntop_v4(addr.get(..4).ok_or(WsaError::Fault)?),
        Family::V6 => ntop_v6(addr.get(..16).ok_or(WsaError::Fault)?),
    };
    if out.write(&text) {
        Ok(Reply::Count(text.len() as u32))
    } else {
        Err(WsaError::InvalidArgument)
    }
}

/// `WSAStringToAddressW`: the room is checked first (`*len` below the family's structure →
/// `WSAEFAULT`, with `*len` set to it), then the text (malformed → `WSAEINVAL`, `*len`
/// unchanged); on success the structure is written and `*len` set to its size.
fn string_to_address(
    text: Option<&str>,
    family: i32,
    out: &mut Option<&mut [u8]>,
    len: &mut Option<&mut i32>,
) -> Result<Reply, WsaError> {
    let family = family_of(family).map_err(|_| WsaError::InvalidArgument)?;
    let len = len.as_deref_mut().ok_or(WsaError::Fault)?;
    let size = match family {
        Family::V4 => SOCKADDR_IN_SIZE,
        Family::V6 => SOCKADDR_IN6_SIZE,
    };
    let out = match out.as_deref_mut() {
        Some(out) if usize::try_from(*len).is_ok_and(|l| l >= size) && out.len() >= size => out,
        Some(_) | None => {
            *len = size as i32;
            return Err(WsaError::Fault);
        }
    };
    let text = text.ok_or(WsaError::InvalidArgument)?;
    let bytes = match family {
        Family::V4 => {
            let (ip, port) = parse_v4_name(text).ok_or(WsaError::InvalidArgument)?;
            sockaddr_in(ip, port).to_vec()
        }
        Family::V6 => {
            let (ip, port, scope) = parse_v6_name(text).ok_or(WsaError::InvalidArgument)?;
            sockaddr_in6(ip, port, scope).to_vec()
        }
    };
    out[..size].copy_from_slice(&bytes);
    *len = size as i32;
    Ok(Reply::Done)
}

/// `WSAAddressToStringW`: `addr` is the structure (`dwAddressLength` bytes; too short for its
/// family or NULL → `WSAEFAULT`; a family other than IPv4 or IPv6 → `WSAEINVAL`). The text
/// needs its length plus a NUL: with less room (or a NULL buffer) `*room` is set to that
/// and the call fails `WSAEFAULT`; on success `*room` is set to it too.
fn address_to_string(
    addr: Option<&[u8]>,
    out: &mut TextOut<'_>,
    room: &mut Option<&mut u32>,
) -> Result<Reply, WsaError> {
    let addr = addr.ok_or(WsaError::Fault)?;
    let room = room.as_deref_mut().ok_or(WsaError::Fault)?;
    let family = addr
        .get(..2)
        .map(|f| u16::from_ne_bytes([f[0], f[1]]))
        .ok_or(WsaError::Fault)?;
    let text = match family {
        AF_INET => {
            let a = addr.get(..SOCKADDR_IN_SIZE).ok_or(WsaError::Fault)?;
            let ip = ntop_v4(&a[4..8]);
            match port_of(a) {
                0 => ip,
                port => format!("{ip}:{port}"),
            }
        }
        AF_INET6 => {
            let a = addr.get(..SOCKADDR_IN6_SIZE).ok_or(WsaError::Fault)?;
            let mut ip = ntop_v6(&a[8..24]);
            let scope = u32::from_ne_bytes([a[24], a[25], a[26], a[27]]);
            if scope != 0 {
                ip = format!("{ip}%{scope}");
            }
            match port_of(a) {
                0 => ip,
                port => format!("[{ip}]:{port}"),
            }
        }
        _ => return Err(WsaError::InvalidArgument),
    };
    let needed = text.len() as u32 + 1;
    let fits = *room >= needed && out.write(&text);
    *room = needed;
    if fits {
        Ok(Reply::Done)
    } else {
        Err(WsaError::Fault)
    }
}

/// The two families the conversions know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// `AF_INET` or `AF_INET6`; anything else → `WSAEAFNOSUPPORT`.
fn family_of(family: i32) -> Result<Family, WsaError> {
    match u16::try_from(family) {
        Ok(AF_INET) => Ok(Family::V4),
        Ok(AF_INET6) => Ok(Family::V6),
        _ => Err(WsaError::AddressFamilyNotSupported),
    }
}

/// A structure's port (network order in bytes 2..4).
fn port_of(a: &[u8]) -> u16 {
    u16::from_be_bytes([a[2], a[3]])
}

/// `inet_pton(AF_INET)`: exactly four decimal parts of at most three digits, no leading
/// zeros, each at most 255, nothing before or after.
pub fn pton_v4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for byte in &mut out {
        *byte = dotted_octet(parts.next()?, false)?;
    }
    parts.next().is_none().then_some(out)
}

/// One part of a dotted quad: 1 to 3 decimal digits, at most 255; leading zeros only where
/// `zeros` allows them (an IPv6 address's IPv4 tail).
fn dotted_octet(p: &str, zeros: bool) -> Option<u8> {
    let digits = !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
    if !digits || (!zeros && p.len() > 1 && p.starts_with('0')) {
        return None;
    }
    p.parse::<u16>().ok().and_then(|v| u8::try_from(v).ok())
}

/// `inet_pton(AF_INET6)`: up to eight groups of 1 to 4 hex digits, one `::` standing for one
/// or more zero groups, and optionally a dotted IPv4 tail as the last two groups.
pub fn pton_v6(s: &str) -> Option<[u8; 16]> {
    let (head, tail) = match s.find("::") {
        Some(i) => (&s[..i], Some(&s[i + 2..])),
        None => (s, None),
    };
    let head_groups = groups(head, tail.is_none())?;
    let words: Vec<u16> = match tail {
        None => head_groups,
        Some(tail) => {
            let tail_groups = groups(tail, true)?;
            let n = head_groups.len() + tail_groups.len();
            if n > 7 {
                return None;
            }
            let mut w = head_groups;
            w.extend(std::iter::repeat_n(0, 8 - n));
            w.extend(tail_groups);
            w
        }
    };
    if words.len() != 8 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, w) in words.iter().enumerate() {
        out[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
    }
    Some(out)
}

/// The groups of one side of `::` (empty: none); the IPv4 tail is allowed where `last`.
fn groups(side: &str, last: bool) -> Option<Vec<u16>> {
    if side.is_empty() {
        return Some(Vec::new());
    }
    let parts: Vec<&str> = side.split(':').collect();
    let mut words = Vec::with_capacity(8);
    for (i, p) in parts.iter().enumerate() {
        if last && i == parts.len() - 1 && p.contains('.') {
            let mut v4 = [0u8; 4];
            let mut octets = p.split('.');
            for b in &mut v4 {
                *b = dotted_octet(octets.next()?, true)?;
            }
            if octets.next().is_some() {
                return None;
            }
            words.push(u16::from_be_bytes([v4[0], v4[1]]));
            words.push(u16::from_be_bytes([v4[2], v4[3]]));
        } else {
            let hex = !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_hexdigit());
            words.push(u16::from_str_radix(p, 16).ok().filter(|_| hex)?);
        }
    }
    (words.len() <= 8).then_some(words)
}

/// `inet_ntop(AF_INET)`.
pub fn ntop_v4(a: &[u8]) -> String {
    Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()
}

/// `inet_ntop(AF_INET6)`: lowercase groups without leading zeros, the first longest run of
/// two or more zero groups as `::`, and a dotted tail for the IPv4-compatible
/// (`::a.b.c.d`, a.b not 0) and v4-mapped (`::ffff:a.b.c.d`) forms.
pub fn ntop_v6(a: &[u8]) -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&a[..16]);
    let ip = Ipv6Addr::from(bytes);
    let w = ip.segments();
    let v4 = format!("{}.{}.{}.{}", a[12], a[13], a[14], a[15]);
    if w[..5] == [0; 5] && w[5] == 0xffff {
        return format!("::ffff:{v4}");
    }
    if w[..6] == [0; 6] && w[6] != 0 {
        return format!("::{v4}");
    }
    // The first longest run of two or more zero groups.
    let (mut best, mut at) = (0, 0);
    let mut i = 0;
    while i < 8 {
        let run = w[i..].iter().take_while(|&&g| g == 0).count();
        if run > best {
            (best, at) = (run, i);
        }
        i += run.max(1);
    }
    let hex = |ws: &[u16]| {
        ws.iter()
            .map(|g| format!("{g:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best < 2 {
        return hex(&w);
    }
    format!("{}::{}", hex(&w[..at]), hex(&w[at + best..]))
}

/// `WSAStringToAddressW(AF_INET)`: `inet_addr`'s forms (one to four parts, each decimal, octal
/// with a leading 0 or hex with 0x; the last part fills the bytes left) and an optional
/// `:port` (decimal, octal or hex, 1 to 65535).
pub fn parse_v4_name(s: &str) -> Option<([u8; 4], u16)> {
    let (addr, port) = match s.split_once(':') {
        Some((a, p)) => (a, port_number(p)?),
        None => (s, 0),
    };
    let parts: Vec<u64> = addr
        .split('.')
        .map(c_number)
        .collect::<Option<Vec<u64>>>()?;
    let (last, first) = parts.split_last()?;
    if first.len() > 3 || first.iter().any(|&p| p > 0xff) {
        return None;
    }
    let room_bits = 8 * (4 - first.len() as u32);
    let last = if first.is_empty() {
        *last & 0xffff_ffff
    } else if *last >> room_bits == 0 {
        *last
    } else {
        return None;
    };
    let mut value = last as u32;
    for (i, &p) in first.iter().enumerate() {
        value |= (p as u32) << (24 - 8 * i as u32);
    }
    Some((value.to_be_bytes(), port))
}

/// A number as C's `strtoul(s, 0)` reads one, whole: hex after 0x/0X, octal after 0,
/// decimal otherwise; nothing else in `s`.
fn c_number(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Overlong hex keeps its low bits (`0x123456789` → 0x23456789), as Windows does.
    let keep = digits.len().saturating_sub(16);
    u64::from_str_radix(&digits[keep..], radix).ok()
}

/// A port: a C number from 1 to 65535.
fn port_number(s: &str) -> Option<u16> {
    c_number(s)
        .filter(|&p| p > 0)
        .and_then(|p| u16::try_from(p).ok())
}

/// `WSAStringToAddressW(AF_INET6)`: an address, optionally `%scope` (decimal), optionally in
/// brackets followed by `:port`.
pub fn parse_v6_name(s: &str) -> Option<([u8; 16], u16, u32)> {
    let (inner, port) = match s.strip_prefix('[') {
        Some(rest) => {
            let (inner, after) = rest.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => port_number(p)?,
                None if after.is_empty() => 0,
                None => return None,
            };
            (inner, port)
        }
        None => (s, 0),
    };
    let (addr, scope) = match inner.split_once('%') {
        Some((a, sc)) => (a, sc.parse::<u32>().ok()?),
        None => (inner, 0),
    };
    Some((pton_v6(addr)?, port, scope))
}

/// A `SOCKADDR_IN`'s bytes.
pub fn sockaddr_in(ip: [u8; 4], port: u16) -> [u8; SOCKADDR_IN_SIZE] {
    let mut b = [0u8; SOCKADDR_IN_SIZE];
    b[..2].copy_from_slice(&AF_INET.to_ne_bytes());
    b[2..4].copy_from_slice(&port.to_be_bytes());
    b[4..8].copy_from_slice(&ip);
    b
}

/// A `SOCKADDR_IN6`'s bytes (flow info 0).
pub fn sockaddr_in6(ip: [u8; 16], port: u16, scope: u32) -> [u8; SOCKADDR_IN6_SIZE] {
    let mut b = [0u8; SOCKADDR_IN6_SIZE];
    b[..2].copy_from_slice(&AF_INET6.to_ne_bytes());
    b[2..4].copy_from_slice(&port.to_be_bytes());
    b[8..24].copy_from_slice(&ip);
    b[24..28].copy_from_slice(&scope.to_ne_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Option<String> {
        pton_v6(s).map(|b| Ipv6Addr::from(b).to_string())
    }

    #[test]
    fn pton_v4_is_strict_dotted_decimal() {
        assert_eq!(pton_v4("127.127.127.255"), Some([127, 127, 127, 255]));
        for bad in [
            "",
            " ",
            "1.1.1.010",
            "1.1.1.00",
            "1",
            "1.2.3",
            "3.4.5.6.7",
            " 3.4.5.6",
            "3.4.5.6 ",
            "1.1.1.0x1",
            "0x00010203",
            "127.127.127.256",
            "[0.1.2.3]",
            "::1",
            "1.1.1.-2",
        ] {
            assert_eq!(pton_v4(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn pton_v6_accepts_rfc_4291_forms_and_nothing_else() {
        assert_eq!(v6("::").as_deref(), Some("::"));
        assert_eq!(v6("0:a:b:c:d:e:f::").as_deref(), Some("0:a:b:c:d:e:f:0"));
        assert_eq!(v6("::0:a:b:c:d:e:f").as_deref(), Some("::a:b:c:d:e:f"));
        assert_eq!(v6("1::001.2.3.4").as_deref(), Some("1::102:304"));
        assert_eq!(
            v6("0:0:0:0:0:FFFF:129.144.52.38").as_deref(),
            Some("::ffff:129.144.52.38")
        );
        for bad in [
            "1::2::3",
            "1111:2222:::",
            ":1111::",
            "1111::5555:",
            "02001::1",
            "::/16",
            "::%16",
            "[::]",
            "1.2.3.4",
            "1::0001.2.3.4",
            "1::1.2.3.256",
            "1::1.2.3",
            "0x1111::",
            "1111:2222:3333:4444:5555:6666::7777:8888",
            "1111:2222:1.2.3.4",
            ":",
            "::.",
        ] {
            assert_eq!(v6(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ntop_v6_writes_windows_forms() {
        let text = |s: &str| ntop_v6(&pton_v6(s).unwrap());
        assert_eq!(text("::fffe:cc98:bd74"), "::fffe:cc98:bd74");
        assert_eq!(text("2030:a4b1::"), "2030:a4b1::");
        assert_eq!(text("::cc98:bd74"), "::204.152.189.116");
        assert_eq!(text("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(text("::1"), "::1");
        assert_eq!(text("::"), "::");
        assert_eq!(text("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(text("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
    }

    #[test]
    fn v4_names_take_inet_addr_forms_and_ports() {
        let p = |s: &str| parse_v4_name(s).map(|(a, port)| (u32::from_be_bytes(a), port));
        assert_eq!(p("1.1.1.0xaA"), Some((0x0101_01aa, 0)));
        assert_eq!(p("1.1.1.010"), Some((0x0101_0108, 0)));
        assert_eq!(p("1.223756"), Some((0x0103_6a0c, 0)));
        assert_eq!(p("3.4.756"), Some((0x0304_02f4, 0)));
        assert_eq!(p("0x123456789"), Some((0x2345_6789, 0)));
        assert_eq!(p("017700000001"), Some((0x7f00_0001, 0)));
        assert_eq!(p("127.127.127.127:0xAbCd"), Some((0x7f7f_7f7f, 43981)));
        assert_eq!(p("1.1.1.1:010"), Some((0x0101_0101, 8)));
        for bad in [
            "",
            "a",
            ".",
            "-1",
            "1.2.",
            "1..2",
            "756.3.4",
            "3.4.65536",
            "3.4.5.6.7",
            "1:0",
            "1:65537",
            "1:08",
            "1.1.1.0x",
            "1.1.1.08",
            " 3.4.5.6",
            "3.4.5.6 ",
            "::1",
            "3.4.5.+6",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn v6_names_take_brackets_ports_and_scopes() {
        let p = |s: &str| parse_v6_name(s).map(|(a, port, sc)| (Ipv6Addr::from(a), port, sc));
        let one = Ipv6Addr::LOCALHOST;
        assert_eq!(p("::1"), Some((one, 0, 0)));
        assert_eq!(p("[::1]"), Some((one, 0, 0)));
        assert_eq!(p("[::1]:65535"), Some((one, 65535, 0)));
        assert_eq!(p("[::1%4660]:80"), Some((one, 80, 4660)));
        assert_eq!(p("::1]:65535"), None);
        assert_eq!(p("1:2:3:"), None);
        assert_eq!(p(""), None);
    }
}
