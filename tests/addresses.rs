//! AD-5: the address ⇄ text conversions through the `sys` layer, `inet_pton`/`InetPtonW`,
//! `inet_ntop`/`InetNtopW`, `WSAStringToAddressW` and `WSAAddressToStringW`. The expected
//! values are the ones Wine's conformance tests (`dlls/ws2_32/tests/protocol.c`) assert of
//! Windows. Every call is checked for its return value and for the last error after it.

use std::ptr::{null, null_mut};

use ws2sim::sys::*;

mod common;
use common::*;

const V4: i32 = AF_INET as i32;
const V6: i32 = AF_INET6 as i32;

/// `s` as a NUL-terminated UTF-16 string.
fn w(s: &str) -> Vec<u16> {
    s.encode_utf16().chain([0]).collect()
}

/// `s` as a NUL-terminated byte string.
fn a(s: &str) -> Vec<u8> {
    s.bytes().chain([0]).collect()
}

/// `inet_pton(family, text, buf)` into 16 bytes of 0xee: (return value, last error after it,
/// the buffer).
fn pton(family: i32, text: Option<&str>) -> (i32, i32, [u8; 16]) {
    let text = text.map(a);
    let mut buf = [0xee; 16];
    let p = text.as_ref().map_or(null(), |t| t.as_ptr());
    let (r, e) = last_error_after(|| unsafe { inet_pton(family, p, buf.as_mut_ptr().cast()) });
    (r, e, buf)
}

/// `InetPtonW(family, text, buf)`, as [`pton`].
fn pton_w(family: i32, text: &str) -> (i32, i32, [u8; 16]) {
    let text = w(text);
    let mut buf = [0xee; 16];
    let (r, e) =
        last_error_after(|| unsafe { InetPtonW(family, text.as_ptr(), buf.as_mut_ptr().cast()) });
    (r, e, buf)
}

/// `inet_ntop(family, addr, buf, size)` into a 64-byte buffer: the text (`None`: NULL
/// returned) and the last error after it.
fn ntop(family: i32, addr: &[u8], size: usize) -> (Option<String>, i32) {
    let mut buf = [0u8; 64];
    let (p, e) = last_error_after(|| unsafe {
        inet_ntop(family, addr.as_ptr().cast(), buf.as_mut_ptr(), size)
    });
    let text = (!p.is_null()).then(|| {
        assert_eq!(p, buf.as_ptr(), "inet_ntop returns its buffer");
        let n = buf.iter().position(|&b| b == 0).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    });
    (text, e)
}

/// A `SOCKADDR_IN6` of `ip`, `port` and `scope`.
fn in6(ip: [u8; 16], port: u16, scope: u32) -> SOCKADDR_IN6 {
    let mut s: SOCKADDR_IN6 = unsafe { std::mem::zeroed() };
    s.sin6_family = AF_INET6;
    s.sin6_port = port.to_be();
    s.sin6_addr.u.Byte = ip;
    s.Anonymous.sin6_scope_id = scope;
    s
}

/// A `SOCKADDR_IN` of `ip` and `port`.
fn in4(ip: [u8; 4], port: u16) -> SOCKADDR_IN {
    let mut s = SOCKADDR_IN {
        sin_family: AF_INET,
        sin_port: port.to_be(),
        ..Default::default()
    };
    s.sin_addr.S_un.S_addr = u32::from_ne_bytes(ip);
    s
}

/// `WSAAddressToStringW(addr, addr_len, NULL, buf, &room)` into 64 characters when `room`
/// allows: (return value, last error, room after, text written).
fn to_string<T>(addr: &T, addr_len: u32, room: u32) -> (i32, i32, u32, String) {
    let mut buf = [0u16; 64];
    let mut room = room;
    let (r, e) = last_error_after(|| unsafe {
        WSAAddressToStringW(
            (addr as *const T).cast(),
            addr_len,
            null(),
            buf.as_mut_ptr(),
            &mut room,
        )
    });
    let n = buf.iter().position(|&c| c == 0).unwrap();
    (r, e, room, String::from_utf16(&buf[..n]).unwrap())
}

/// `WSAStringToAddressW(text, family, NULL, buf, &len)` into a 28-byte `SOCKADDR_IN6` of
/// 0xee: (return value, last error, len after, the structure's bytes).
fn from_string(text: &str, family: i32, len: i32) -> (i32, i32, i32, [u8; 28]) {
    let text = w(text);
    let mut buf = [0xeeu8; 28];
    let mut len = len;
    let (r, e) = last_error_after(|| unsafe {
        WSAStringToAddressW(
            text.as_ptr(),
            family,
            null(),
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    });
    (r, e, len, buf)
}

#[test]
fn ad_5_inet_pton_converts_strict_dotted_decimal_without_startup() {
    process().run(|| {
        let (r, e, buf) = pton(V4, Some("192.168.0.1"));
        assert_eq!((r, e), (1, BEEF));
        assert_eq!(buf[..4], [192, 168, 0, 1]);
        assert_eq!(
            buf[4..],
            [0xee; 12],
            "only the address's 4 bytes are written"
        );
        for bad in [
            "0x12345678",
            "0177.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "",
            " 1.1.1.1",
        ] {
            let (r, e, buf) = pton(V4, Some(bad));
            assert_eq!((r, e), (0, BEEF), "{bad:?}: 0, the last error untouched");
            assert_eq!(buf, [0xee; 16], "{bad:?}: the buffer untouched");
        }
    });
}

#[test]
fn ad_5_inet_pton_converts_ipv6_text() {
    process().run(|| {
        let (r, e, buf) = pton(V6, Some("2030:a4b1::"));
        assert_eq!((r, e), (1, BEEF));
        assert_eq!(
            buf,
            [0x20, 0x30, 0xa4, 0xb1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let (r, _, buf) = pton(V6, Some("::204.152.189.116"));
        assert_eq!(r, 1);
        assert_eq!(buf[12..], [204, 152, 189, 116]);
        let (r, _, buf) = pton(V6, Some("::1"));
        assert_eq!(
            (r, buf[15], buf[..15].iter().all(|&b| b == 0)),
            (1, 1, true)
        );
        for bad in [
            ":::",
            "1::2::3",
            "12345::",
            "::1%4",
            "[::1]",
            "1:2:3:4:5:6:7:8:9",
            "g::",
        ] {
            let (r, e, _) = pton(V6, Some(bad));
            assert_eq!((r, e), (0, BEEF), "{bad:?}");
        }
    });
}

#[test]
fn ad_5_inet_pton_fails_efault_for_null_pointers_before_the_family() {
    process().run(|| {
        let (r, e, _) = pton(V4, None);
        assert_eq!((r, e), (-1, WSAEFAULT));
        let (r, e, _) = pton(AF_UNSPEC as i32, None);
        assert_eq!((r, e), (-1, WSAEFAULT));
        let text = a("1.2.3.4");
        let (r, e) = last_error_after(|| unsafe { inet_pton(12345, text.as_ptr(), null_mut()) });
        assert_eq!((r, e), (-1, WSAEFAULT));
    });
}

#[test]
fn ad_5_inet_pton_fails_eafnosupport_for_another_family() {
    process().run(|| {
        for family in [AF_UNSPEC as i32, 1, -1, 0x10000 + V4] {
            let (r, e, buf) = pton(family, Some("1.2.3.4"));
            assert_eq!((r, e), (-1, WSAEAFNOSUPPORT), "family {family}");
            assert_eq!(buf, [0xee; 16]);
        }
    });
}

#[test]
fn ad_5_inetptonw_also_sets_einval_for_a_malformed_string() {
    process().run(|| {
        let (r, e, buf) = pton_w(V4, "10.1.2.3");
        assert_eq!((r, e, buf[..4].to_vec()), (1, BEEF, vec![10, 1, 2, 3]));
        let (r, e, buf) = pton_w(V4, "10.1.2");
        assert_eq!((r, e, buf), (0, WSAEINVAL, [0xee; 16]));
        let (r, e, _) = pton_w(V6, "fe80::1%1");
        assert_eq!((r, e), (0, WSAEINVAL));
        let (r, e, _) = pton_w(AF_UNSPEC as i32, "::1");
        assert_eq!((r, e), (-1, WSAEAFNOSUPPORT));
    });
}

#[test]
fn ad_5_inet_ntop_writes_windows_text_without_startup() {
    process().run(|| {
        let cases: [([u8; 16], &str); 6] = [
            ([0; 16], "::"),
            (
                [
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0xcc, 0x98, 0xbd, 0x74,
                ],
                "::fffe:cc98:bd74",
            ),
            (
                [0x20, 0x30, 0xa4, 0xb1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                "2030:a4b1::",
            ),
            (
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcc, 0x98, 0xbd, 0x74],
                "::204.152.189.116",
            ),
            (
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1],
                "::ffff:10.0.0.1",
            ),
            (
                [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2],
                "fe80::1:0:0:2",
            ),
        ];
        for (addr, text) in cases {
            assert_eq!(ntop(V6, &addr, 64), (Some(text.to_string()), BEEF));
        }
        assert_eq!(
            ntop(V4, &[10, 0, 0, 255], 64),
            (Some("10.0.0.255".into()), BEEF)
        );
    });
}

#[test]
fn ad_5_inet_ntop_fails_einval_when_the_text_and_its_nul_do_not_fit() {
    process().run(|| {
        let addr = [10, 0, 0, 255];
        assert_eq!(ntop(V4, &addr, 11), (Some("10.0.0.255".into()), BEEF));
        assert_eq!(ntop(V4, &addr, 10), (None, WSAEINVAL));
        assert_eq!(ntop(V4, &addr, 0), (None, WSAEINVAL));
        let (p, e) =
            last_error_after(|| unsafe { inet_ntop(V4, addr.as_ptr().cast(), null_mut(), 64) });
        assert_eq!((p.is_null(), e), (true, WSAEINVAL));
    });
}

#[test]
fn ad_5_inet_ntop_fails_efault_for_a_null_address_and_eafnosupport_for_another_family() {
    process().run(|| {
        let mut buf = [0u8; 64];
        let (p, e) = last_error_after(|| unsafe { inet_ntop(V4, null(), buf.as_mut_ptr(), 64) });
        assert_eq!((p.is_null(), e), (true, WSAEFAULT));
        assert_eq!(ntop(1, &[0; 16], 64), (None, WSAEAFNOSUPPORT));
        assert_eq!(
            ntop(AF_UNSPEC as i32, &[0; 16], 64),
            (None, WSAEAFNOSUPPORT)
        );
    });
}

#[test]
fn ad_5_inetntopw_writes_utf16_text() {
    process().run(|| {
        let addr = [0x20u8, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let mut buf = [0xffffu16; 46];
        let p = unsafe { InetNtopW(V6, addr.as_ptr().cast(), buf.as_mut_ptr(), 46) };
        assert_eq!(p, buf.as_ptr());
        assert_eq!(String::from_utf16(&buf[..11]).unwrap(), "2001:db8::1");
        assert_eq!(buf[11], 0, "the NUL follows the text");
        let (p, e) = last_error_after(|| unsafe {
            InetNtopW(V6, addr.as_ptr().cast(), buf.as_mut_ptr(), 11)
        });
        assert_eq!((p.is_null(), e), (true, WSAEINVAL));
    });
}

#[test]
fn ad_5_wsaaddresstostringw_writes_address_port_and_scope() {
    process().run(|| {
        startup_2_2();
        assert_eq!(
            to_string(&in4([0; 4], 0), 16, 64),
            (0, BEEF, 8, "0.0.0.0".into())
        );
        assert_eq!(
            to_string(&in4([127, 127, 127, 127], 65535), 16, 64),
            (0, BEEF, 22, "127.127.127.127:65535".into())
        );
        let ip = [0x20, 0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01];
        assert_eq!(
            to_string(&in6(ip, 33274, 4660), 28, 64),
            (0, BEEF, 24, "[20ab::2001%4660]:33274".into())
        );
        assert_eq!(
            to_string(&in6(ip, 0, 4660), 28, 64),
            (0, BEEF, 16, "20ab::2001%4660".into())
        );
        assert_eq!(
            to_string(&in6(ip, 0, 0), 28, 64),
            (0, BEEF, 11, "20ab::2001".into())
        );
    });
}

#[test]
fn ad_5_wsaaddresstostringw_fails_efault_with_the_length_needed_when_the_buffer_is_short() {
    process().run(|| {
        startup_2_2();
        assert_eq!(
            to_string(&in4([0; 4], 0), 16, 0),
            (SOCKET_ERROR, WSAEFAULT, 8, "".into())
        );
        assert_eq!(
            to_string(&in4([0; 4], 0), 16, 7),
            (SOCKET_ERROR, WSAEFAULT, 8, "".into())
        );
        assert_eq!(
            to_string(&in4([0; 4], 0), 16, 8),
            (0, BEEF, 8, "0.0.0.0".into())
        );
        let mut room = 64;
        let addr = in4([1, 2, 3, 4], 0);
        let (r, e) = last_error_after(|| unsafe {
            WSAAddressToStringW(
                (&addr as *const SOCKADDR_IN).cast(),
                16,
                null(),
                null_mut(),
                &mut room,
            )
        });
        assert_eq!((r, e, room), (SOCKET_ERROR, WSAEFAULT, 8));
    });
}

#[test]
fn ad_5_wsaaddresstostringw_checks_the_structure_and_its_family() {
    process().run(|| {
        startup_2_2();
        let v4 = in4([1, 2, 3, 4], 0);
        assert_eq!(
            to_string(&v4, 15, 64),
            (SOCKET_ERROR, WSAEFAULT, 64, "".into())
        );
        assert_eq!(
            to_string(&in6([0; 16], 0, 0), 27, 64),
            (SOCKET_ERROR, WSAEFAULT, 64, "".into())
        );
        let mut other = v4;
        other.sin_family = AF_UNSPEC;
        assert_eq!(
            to_string(&other, 16, 64),
            (SOCKET_ERROR, WSAEINVAL, 64, "".into())
        );
        let mut room = 64;
        let mut buf = [0u16; 64];
        let (r, e) = last_error_after(|| unsafe {
            WSAAddressToStringW(null(), 16, null(), buf.as_mut_ptr(), &mut room)
        });
        assert_eq!((r, e), (SOCKET_ERROR, WSAEFAULT));
        let (r, e) = last_error_after(|| unsafe {
            WSAAddressToStringW(
                (&v4 as *const SOCKADDR_IN).cast(),
                16,
                null(),
                buf.as_mut_ptr(),
                null_mut(),
            )
        });
        assert_eq!((r, e), (SOCKET_ERROR, WSAEFAULT));
    });
}

#[test]
fn ad_5_wsastringtoaddressw_takes_inet_addr_forms_and_a_port() {
    process().run(|| {
        startup_2_2();
        let (r, e, len, buf) = from_string("127.127.127.127:65535", V4, 16);
        assert_eq!((r, e, len), (0, BEEF, 16));
        let expect = in4([127, 127, 127, 127], 65535);
        let expect: [u8; 16] = unsafe { std::mem::transmute(expect) };
        assert_eq!(buf[..16], expect);
        assert_eq!(buf[16..], [0xee; 12], "only the structure is written");
        for (text, ip, port) in [
            ("0.0.0.0", [0, 0, 0, 0], 0),
            ("1.2", [1, 0, 0, 2], 0),
            ("0x7f.1", [127, 0, 0, 1], 0),
            ("017.1.1.1:0x10", [15, 1, 1, 1], 16),
        ] {
            let (r, _, len, buf) = from_string(text, V4, 28);
            let expect: [u8; 16] = unsafe { std::mem::transmute(in4(ip, port)) };
            assert_eq!(
                (r, len, buf[..16].to_vec()),
                (0, 16, expect.to_vec()),
                "{text:?}"
            );
        }
    });
}

#[test]
fn ad_5_wsastringtoaddressw_takes_ipv6_with_scope_brackets_and_port() {
    process().run(|| {
        startup_2_2();
        let ip = [0x20, 0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01];
        for (text, port, scope) in [
            ("[20ab::2001%4660]:33274", 33274, 4660),
            ("20ab::2001%4660", 0, 4660),
            ("[20ab::2001]:33274", 33274, 0),
            ("20ab::2001", 0, 0),
        ] {
            let (r, e, len, buf) = from_string(text, V6, 28);
            let expect: [u8; 28] = unsafe { std::mem::transmute(in6(ip, port, scope)) };
            assert_eq!((r, e, len, buf), (0, BEEF, 28, expect), "{text:?}");
        }
    });
}

#[test]
fn ad_5_wsastringtoaddressw_fails_efault_with_the_size_needed_for_a_short_length() {
    process().run(|| {
        startup_2_2();
        let (r, e, len, buf) = from_string("1.2.3.4", V4, 15);
        assert_eq!((r, e, len, buf), (SOCKET_ERROR, WSAEFAULT, 16, [0xee; 28]));
        let (r, e, len, _) = from_string("::1", V6, 16);
        assert_eq!((r, e, len), (SOCKET_ERROR, WSAEFAULT, 28));
        let (r, e, len, _) = from_string("::1", V6, -1);
        assert_eq!((r, e, len), (SOCKET_ERROR, WSAEFAULT, 28));
        let text = w("::1");
        let (r, e) = last_error_after(|| unsafe {
            WSAStringToAddressW(text.as_ptr(), V6, null(), null_mut(), null_mut())
        });
        assert_eq!((r, e), (SOCKET_ERROR, WSAEFAULT));
    });
}

#[test]
fn ad_5_wsastringtoaddressw_fails_einval_for_a_malformed_string_or_another_family() {
    process().run(|| {
        startup_2_2();
        for bad in [
            "",
            "1.2.3.4.5",
            "256.0.0.0",
            "1.2.3.4:",
            "1.2.3.4:65536",
            "1.2.3.4:0x",
            "::1",
        ] {
            let (r, e, len, buf) = from_string(bad, V4, 16);
            assert_eq!(
                (r, e, len, buf),
                (SOCKET_ERROR, WSAEINVAL, 16, [0xee; 28]),
                "{bad:?}"
            );
        }
        for bad in ["[::1", "::1]:80", "[::1]:", "1.2.3.4", ":::"] {
            let (r, e, len, _) = from_string(bad, V6, 28);
            assert_eq!((r, e, len), (SOCKET_ERROR, WSAEINVAL, 28), "{bad:?}");
        }
        let (r, e, len, _) = from_string("1.2.3.4", AF_UNSPEC as i32, 28);
        assert_eq!((r, e, len), (SOCKET_ERROR, WSAEINVAL, 28));
    });
}

#[test]
fn ad_5_the_wsa_conversions_need_startup_and_inet_pton_does_not() {
    process().run(|| {
        let (r, e, len, _) = from_string("1.2.3.4", V4, 16);
        assert_eq!((r, e, len), (SOCKET_ERROR, WSANOTINITIALISED, 16));
        let (r, e, room, _) = to_string(&in4([1, 2, 3, 4], 0), 16, 64);
        assert_eq!((r, e, room), (SOCKET_ERROR, WSANOTINITIALISED, 64));
        assert_eq!(pton(V4, Some("1.2.3.4")).0, 1);
        assert_eq!(ntop(V4, &[1, 2, 3, 4], 64), (Some("1.2.3.4".into()), BEEF));
    });
}

#[test]
fn ad_5_text_and_address_round_trip() {
    process().run(|| {
        startup_2_2();
        for text in [
            "::",
            "::1",
            "fe80::1",
            "2001:db8:0:1:1:1:1:1",
            "1:0:0:2::3",
            "::ffff:1.2.3.4",
        ] {
            let (r, _, buf) = pton(V6, Some(text));
            assert_eq!(r, 1, "{text:?}");
            assert_eq!(ntop(V6, &buf, 64), (Some(text.to_string()), BEEF));
            let (r, _, len, sa) = from_string(text, V6, 28);
            assert_eq!((r, len), (0, 28));
            let sa: SOCKADDR_IN6 = unsafe { std::mem::transmute(sa) };
            assert_eq!(to_string(&sa, 28, 64).3, text);
        }
    });
}
