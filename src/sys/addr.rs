//! IPv6 address structures and the address ⇄ text conversions ([AD-5]): `inet_pton`,
//! `InetPtonW`, `inet_ntop`, `InetNtopW`, `WSAStringToAddressW`, `WSAAddressToStringW`.
//!
//! The functions turn the caller's strings and buffers into slices and hand the conversion
//! to the core, which decides every result and error. The `A` variants of the two `WSA*`
//! functions are not provided (windows-sys code calls the `W` ones).
//!
//! [AD-5]: crate::rules#ad-5

use crate::core::call::{Conversion, ProcessCall, TextOut};
use crate::core::Reply;
use crate::error::WsaError;
use crate::sim::thread::call;

use super::{status, SOCKADDR, WSAPROTOCOL_INFOW};

/// An IPv6 address (`IN6_ADDR`), as windows-sys lays it out.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IN6_ADDR {
    /// The address's bytes or words, network order.
    pub u: IN6_ADDR_0,
}

/// `IN6_ADDR`'s union.
#[repr(C)]
#[derive(Clone, Copy)]
pub union IN6_ADDR_0 {
    /// The 16 bytes.
    pub Byte: [u8; 16],
    /// The 8 words.
    pub Word: [u16; 8],
}

/// `SCOPE_ID`: a scope identifier (`Value`, a 28-bit zone and 4-bit level, as one `u32`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SCOPE_ID {
    /// The identifier.
    pub Anonymous: SCOPE_ID_0,
}

/// `SCOPE_ID`'s union.
#[repr(C)]
#[derive(Clone, Copy)]
pub union SCOPE_ID_0 {
    /// Zone and level as bit fields.
    pub Anonymous: SCOPE_ID_0_0,
    /// The whole value.
    pub Value: u32,
}

/// `SCOPE_ID`'s bit fields.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SCOPE_ID_0_0 {
    /// Zone (28 bits) and level (4 bits).
    pub _bitfield: u32,
}

/// `SOCKADDR_IN6`: an IPv6 socket address (28 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SOCKADDR_IN6 {
    /// `AF_INET6`.
    pub sin6_family: u16,
    /// Port, network byte order.
    pub sin6_port: u16,
    /// Flow information.
    pub sin6_flowinfo: u32,
    /// The address.
    pub sin6_addr: IN6_ADDR,
    /// The scope identifier.
    pub Anonymous: SOCKADDR_IN6_0,
}

/// `SOCKADDR_IN6`'s union.
#[repr(C)]
#[derive(Clone, Copy)]
pub union SOCKADDR_IN6_0 {
    /// The scope as a number.
    pub sin6_scope_id: u32,
    /// The scope as a `SCOPE_ID`.
    pub sin6_scope_struct: SCOPE_ID,
}

/// `SOCKADDR_STORAGE`: room for any socket address (128 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SOCKADDR_STORAGE {
    /// The address family.
    pub ss_family: u16,
    /// Padding.
    pub __ss_pad1: [i8; 6],
    /// Alignment.
    pub __ss_align: i64,
    /// Padding.
    pub __ss_pad2: [i8; 112],
}

/// The NUL-terminated string at `p` (`None`: NULL); bytes above 0x7f are kept as U+FFFD,
/// which no address contains.
pub(super) unsafe fn narrow(p: *const u8) -> Option<String> {
    (!p.is_null()).then(|| {
        String::from_utf8_lossy(std::ffi::CStr::from_ptr(p.cast()).to_bytes()).into_owned()
    })
}

/// The NUL-terminated UTF-16 string at `p` (`None`: NULL).
pub(super) unsafe fn wide(p: *const u16) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut n = 0;
    while p.add(n).read_unaligned() != 0 {
        n += 1;
    }
    let units: Vec<u16> = (0..n).map(|i| p.add(i).read_unaligned()).collect();
    Some(String::from_utf16_lossy(&units))
}

/// The bytes an address of `family` takes in `inet_pton`/`inet_ntop` (0 for another family:
/// the core refuses the family before it looks at the buffer).
fn address_size(family: i32) -> usize {
    match u16::try_from(family) {
        Ok(crate::consts::AF_INET) => 4,
        Ok(crate::consts::AF_INET6) => 16,
        _ => 0,
    }
}

/// `inet_pton`'s return value for a conversion's outcome.
fn pton_result(r: Result<Reply, WsaError>) -> i32 {
    match r {
        Ok(Reply::Count(n)) => n as i32,
        Ok(_) => 1,
        Err(WsaError::InvalidArgument) => 0,
        Err(_) => -1,
    }
}

unsafe fn pton(family: i32, text: Option<String>, out: *mut core::ffi::c_void, w: bool) -> i32 {
    let size = address_size(family);
    let out = (!out.is_null()).then(|| std::slice::from_raw_parts_mut(out.cast::<u8>(), size));
    pton_result(call(ProcessCall::Convert(Conversion::Pton {
        family,
        text,
        out,
        wide: w,
    })))
}

/// `inet_pton`: the text form of an IPv4 or IPv6 address into its bytes ([AD-5]). No
/// `WSAStartup` needed.
///
/// Returns 1; 0 for a string that is not a strict dotted-decimal IPv4 address (no octal,
/// hex, short forms or leading zeros) or an IPv6 address (RFC 4291, with an optional IPv4
/// tail), leaving the last error alone; -1 with `WSAEFAULT` for a NULL string or buffer,
/// `WSAEAFNOSUPPORT` for a family other than `AF_INET` and `AF_INET6`. `pAddrBuf` must
/// have room for 4 or 16 bytes.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut v4 = [0u8; 4];
///     assert_eq!(inet_pton(AF_INET as i32, c"10.0.0.1".as_ptr().cast(), v4.as_mut_ptr().cast()), 1);
///     assert_eq!(v4, [10, 0, 0, 1]);
///     let mut v6 = [0u8; 16];
///     assert_eq!(inet_pton(AF_INET6 as i32, c"fd00::2".as_ptr().cast(), v6.as_mut_ptr().cast()), 1);
///     assert_eq!(v6[..2], [0xfd, 0x00]);
///     assert_eq!(inet_pton(AF_INET as i32, c"010.0.0.1".as_ptr().cast(), v4.as_mut_ptr().cast()), 0);
/// });
/// ```
///
/// [AD-5]: crate::rules#ad-5
pub unsafe fn inet_pton(
    family: i32,
    pszaddrstring: *const u8,
    paddrbuf: *mut core::ffi::c_void,
) -> i32 {
    pton(family, narrow(pszaddrstring), paddrbuf, false)
}

/// `InetPtonW`: [`inet_pton`] for a UTF-16 string, except that a malformed string also sets
/// `WSAEINVAL` (it still returns 0), as Windows does.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let w = |text: &str| text.encode_utf16().chain(Some(0)).collect::<Vec<u16>>();
///     let mut v6 = [0u8; 16];
///     assert_eq!(InetPtonW(AF_INET6 as i32, w("fe80::1").as_ptr(), v6.as_mut_ptr().cast()), 1);
///     assert_eq!((v6[0], v6[1], v6[15]), (0xfe, 0x80, 1));
///     let mut v4 = [0u8; 4];
///     let r = InetPtonW(AF_INET as i32, w("192.168.1.20").as_ptr(), v4.as_mut_ptr().cast());
///     assert_eq!((r, v4), (1, [192, 168, 1, 20]));
///     // Not an address: 0, and unlike inet_pton the last error says so.
///     let r = InetPtonW(AF_INET as i32, w("example.com").as_ptr(), v4.as_mut_ptr().cast());
///     assert_eq!((r, WSAGetLastError()), (0, WSAEINVAL));
///     let r = InetPtonW(99, w("10.0.0.1").as_ptr(), v4.as_mut_ptr().cast());
///     assert_eq!((r, WSAGetLastError()), (-1, WSAEAFNOSUPPORT));
/// });
/// ```
pub unsafe fn InetPtonW(
    family: i32,
    pszaddrstring: *const u16,
    paddrbuf: *mut core::ffi::c_void,
) -> i32 {
    pton(family, wide(pszaddrstring), paddrbuf, true)
}

unsafe fn ntop(family: i32, paddr: *const core::ffi::c_void, out: TextOut<'_>) -> bool {
    let size = address_size(family);
    let addr = (!paddr.is_null()).then(|| std::slice::from_raw_parts(paddr.cast::<u8>(), size));
    call(ProcessCall::Convert(Conversion::Ntop { family, addr, out })).is_ok()
}

/// `inet_ntop`: the text form of an IPv4 or IPv6 address ([AD-5]). No `WSAStartup` needed.
///
/// Writes the text and its NUL into `pStringBuf` and returns it; IPv6 text has lowercase
/// groups, the first longest run of zero groups as `::`, and a dotted tail for
/// `::a.b.c.d` and `::ffff:a.b.c.d`. Returns NULL with `WSAEINVAL` for a NULL buffer or one
/// too small for the text and its NUL, `WSAEFAULT` for a NULL address, `WSAEAFNOSUPPORT`
/// for another family.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let addr = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcc, 0x98, 0xbd, 0x74];
///     let mut text = [0u8; 46];
///     let p = inet_ntop(AF_INET6 as i32, addr.as_ptr().cast(), text.as_mut_ptr(), 46);
///     assert_eq!(std::ffi::CStr::from_ptr(p.cast()).to_str(), Ok("::204.152.189.116"));
///     let small = inet_ntop(AF_INET6 as i32, addr.as_ptr().cast(), text.as_mut_ptr(), 17);
///     assert!(small.is_null());
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
/// });
/// ```
///
/// [AD-5]: crate::rules#ad-5
pub unsafe fn inet_ntop(
    family: i32,
    paddr: *const core::ffi::c_void,
    pstringbuf: *mut u8,
    stringbufsize: usize,
) -> *const u8 {
    let out = match pstringbuf.is_null() {
        true => TextOut::Null,
        false => TextOut::Narrow(std::slice::from_raw_parts_mut(pstringbuf, stringbufsize)),
    };
    if ntop(family, paddr, out) {
        pstringbuf
    } else {
        std::ptr::null()
    }
}

/// `InetNtopW`: [`inet_ntop`] into a UTF-16 buffer of `StringBufSize` characters.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let addr = [0xfdu8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2a];
///     let mut text = [0u16; 46]; // INET6_ADDRSTRLEN
///     let p = InetNtopW(AF_INET6 as i32, addr.as_ptr().cast(), text.as_mut_ptr(), 46);
///     assert_eq!(p, text.as_ptr());
///     let len = text.iter().position(|&c| c == 0).unwrap();
///     assert_eq!(String::from_utf16_lossy(&text[..len]), "fd00::2a");
///     // "fd00::2a" and its NUL need 9 characters.
///     let p = InetNtopW(AF_INET6 as i32, addr.as_ptr().cast(), text.as_mut_ptr(), 8);
///     assert!(p.is_null());
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
/// });
/// ```
pub unsafe fn InetNtopW(
    family: i32,
    paddr: *const core::ffi::c_void,
    pstringbuf: *mut u16,
    stringbufsize: usize,
) -> *const u16 {
    let out = match pstringbuf.is_null() {
        true => TextOut::Null,
        false => TextOut::Wide(std::slice::from_raw_parts_mut(pstringbuf, stringbufsize)),
    };
    if ntop(family, paddr, out) {
        pstringbuf
    } else {
        std::ptr::null()
    }
}

/// `WSAStringToAddressW`: a string into a `SOCKADDR_IN` or `SOCKADDR_IN6` ([AD-5]).
///
/// `AF_INET` takes `inet_addr`'s forms (one to four parts, each decimal, octal after a 0 or
/// hex after 0x; `"1.2"` is 1.0.0.2) and an optional `:port` (1 to 65535, in the same
/// bases); `AF_INET6` takes an address with an optional `%scope`, optionally in brackets
/// followed by `:port`. `lpProtocolInfo` is not used.
///
/// Errors, in order: `WSANOTINITIALISED`; `WSAEINVAL` for another family; `WSAEFAULT` for a
/// NULL `lpAddressLength`, or a NULL `lpAddress` or `*lpAddressLength` below the structure's
/// size, which is then written to `*lpAddressLength`; `WSAEINVAL` for a NULL or malformed
/// string (`*lpAddressLength` unchanged). On success the structure is written whole (port,
/// flow info and scope 0 unless given) and `*lpAddressLength` is its size.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let text: Vec<u16> = "[::1]:8080\0".encode_utf16().collect();
///     let mut a: SOCKADDR_IN6 = std::mem::zeroed();
///     let mut len = std::mem::size_of::<SOCKADDR_IN6>() as i32;
///     let r = WSAStringToAddressW(text.as_ptr(), AF_INET6 as i32, std::ptr::null(),
///         (&mut a as *mut SOCKADDR_IN6).cast(), &mut len);
///     assert_eq!((r, len, a.sin6_family, u16::from_be(a.sin6_port)), (0, 28, AF_INET6, 8080));
///     assert_eq!(a.sin6_addr.u.Byte[15], 1);
/// });
/// ```
///
/// [AD-5]: crate::rules#ad-5
pub unsafe fn WSAStringToAddressW(
    addressstring: *const u16,
    addressfamily: i32,
    _lpprotocolinfo: *const WSAPROTOCOL_INFOW,
    lpaddress: *mut SOCKADDR,
    lpaddresslength: *mut i32,
) -> i32 {
    let mut len = super::read_opt(lpaddresslength);
    let room = len.map_or(0, |l| usize::try_from(l).unwrap_or(0));
    let out = (!lpaddress.is_null())
        .then(|| std::slice::from_raw_parts_mut(lpaddress.cast::<u8>(), room));
    let r = call(ProcessCall::Convert(Conversion::StringToAddress {
        text: wide(addressstring),
        family: addressfamily,
        out,
        len: len.as_mut(),
    }));
    super::write_opt(lpaddresslength, len);
    status(r)
}

/// `WSAAddressToStringW`: a `SOCKADDR_IN` or `SOCKADDR_IN6` as text ([AD-5]):
/// `a.b.c.d`, `a.b.c.d:port`, `addr`, `addr%scope`, `[addr%scope]:port` (the port and scope
/// only when not 0). `lpProtocolInfo` is not used.
///
/// Errors, in order: `WSANOTINITIALISED`; `WSAEFAULT` for a NULL address or length, or a
/// `dwAddressLength` below the family's structure; `WSAEINVAL` for another family;
/// `WSAEFAULT` when `*lpdwAddressStringLength` (characters) cannot hold the text and its
/// NUL or the buffer is NULL, with the length needed written to it. On success it is the
/// text's length plus one.
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     WSAStartup(0x0202, &mut d);
///     let mut a: SOCKADDR_IN = std::mem::zeroed();
///     a.sin_family = AF_INET;
///     a.sin_port = 80u16.to_be();
///     a.sin_addr.S_un.S_addr = u32::from_ne_bytes([10, 0, 0, 1]);
///     let mut text = [0u16; 64];
///     let mut len = 64;
///     let r = WSAAddressToStringW((&a as *const SOCKADDR_IN).cast(), 16, std::ptr::null(),
///         text.as_mut_ptr(), &mut len);
///     assert_eq!((r, len), (0, 12)); // 11 characters and the NUL
///     assert_eq!(String::from_utf16_lossy(&text[..11]), "10.0.0.1:80");
/// });
/// ```
///
/// [AD-5]: crate::rules#ad-5
pub unsafe fn WSAAddressToStringW(
    lpsaaddress: *const SOCKADDR,
    dwaddresslength: u32,
    _lpprotocolinfo: *const WSAPROTOCOL_INFOW,
    lpszaddressstring: *mut u16,
    lpdwaddressstringlength: *mut u32,
) -> i32 {
    let mut room = super::read_opt(lpdwaddressstringlength);
    let n = dwaddresslength as usize;
    let addr =
        (!lpsaaddress.is_null()).then(|| std::slice::from_raw_parts(lpsaaddress.cast::<u8>(), n));
    let out = match (lpszaddressstring.is_null(), room) {
        (false, Some(chars)) => TextOut::Wide(std::slice::from_raw_parts_mut(
            lpszaddressstring,
            chars as usize,
        )),
        (true, _) | (false, None) => TextOut::Null,
    };
    let r = call(ProcessCall::Convert(Conversion::AddressToString {
        addr,
        out,
        room: room.as_mut(),
    }));
    super::write_opt(lpdwaddressstringlength, room);
    status(r)
}
