//! Regression check for issue 17: linking ws2sim with its default features must not add trait
//! impls on primitive types to the user's crate.
//!
//! serde_json, for example, implements `PartialEq<Value>` for every integer type. A crate that
//! has it anywhere in its dependency graph can no longer write `x != INVALID_SOCKET as _`: the
//! target of `as _` is inferred from the `PartialEq` impls of `x`'s type, and with two impls
//! there is nothing to infer from (E0282/E0283). socket2 and std write exactly these idioms
//! against windows-sys, and ws2sim's `sys` is meant to replace windows-sys with no source change.
//!
//! The check is that this crate compiles; the tests also run the idioms on real results. Do not
//! "fix" a compile error here by adding a type annotation: find the dependency that brought
//! the impl.
#![cfg(test)]

use std::mem;

use ws2sim::sys::*;
use ws2sim::Sim;

/// What socket2 calls `RawSocket` on Windows: the handle as a `u64`.
type RawSocket = u64;

/// socket2's `syscall!` macro: compare a result with an error value through `PartialEq::eq`.
macro_rules! syscall {
    ($fn:ident($($arg:expr),* $(,)?), $err_test:path, $err_value:expr) => {{
        #[allow(unused_unsafe)]
        let res = unsafe { $fn($($arg),*) };
        if $err_test(&res, &$err_value) {
            Err(unsafe { WSAGetLastError() })
        } else {
            Ok(res)
        }
    }};
}

fn in_process<T>(f: impl FnOnce() -> T) -> T {
    let sim = Sim::new();
    let p = sim.localhost().process("inference-check");
    p.run(|| {
        let mut data: WSADATA = unsafe { mem::zeroed() };
        assert_eq!(unsafe { WSAStartup(0x0202, &mut data) }, 0);
        let r = f();
        assert_eq!(unsafe { WSACleanup() }, 0);
        r
    })
}

#[test]
fn usize_compared_with_invalid_socket_as_underscore() {
    let s: usize = 5;
    assert!(s != INVALID_SOCKET as _);
    let s: SOCKET = in_process(|| unsafe { socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP) });
    assert!(s != INVALID_SOCKET as _);
    let same = s == INVALID_SOCKET as _;
    assert!(!same);
}

#[test]
fn raw_socket_u64_compared_with_invalid_socket_as_underscore() {
    // socket2's sockref.rs: `assert!(socket != crate::sys::INVALID_SOCKET as _);`
    let raw: RawSocket =
        in_process(|| unsafe { socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP) as RawSocket });
    assert!(raw != INVALID_SOCKET as _);
    let invalid: RawSocket = INVALID_SOCKET as _;
    assert_eq!(invalid, INVALID_SOCKET as _);
    assert_ne!(raw, INVALID_SOCKET as _);
}

#[test]
fn results_compared_with_socket_error() {
    in_process(|| unsafe {
        // std's sys/net: `if ret == c::SOCKET_ERROR as _ { ... }`
        let ret = closesocket(INVALID_SOCKET);
        assert!(ret == SOCKET_ERROR as _);
        let r: i32 = closesocket(INVALID_SOCKET);
        assert!(r == SOCKET_ERROR);
        let r: i32 = 0;
        assert!(r != SOCKET_ERROR);
        // Widened results, as std's `cvt` and socket2's `recv` see them.
        let n: isize = closesocket(INVALID_SOCKET) as isize;
        assert!(n == SOCKET_ERROR as _);
        let n: i64 = closesocket(INVALID_SOCKET).into();
        assert_eq!(n, SOCKET_ERROR as _);
        assert_eq!(WSAGetLastError(), WSAENOTSOCK);
    });
}

#[test]
fn socket2_syscall_macro_with_socket_error_and_invalid_socket() {
    in_process(|| {
        let s = syscall!(
            socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP),
            PartialEq::eq,
            INVALID_SOCKET
        )
        .expect("a TCP socket");
        let buf = [0u8; 4];
        // Arguments cast with `as _` to the parameter types, as socket2 passes them.
        let sent = syscall!(
            send(s, buf.as_ptr() as *const _, buf.len() as _, 0),
            PartialEq::eq,
            SOCKET_ERROR
        );
        assert_eq!(sent, Err(WSAENOTCONN));
        let mut nonblocking: u32 = 1;
        let r = syscall!(
            ioctlsocket(s, FIONBIO as _, &mut nonblocking),
            PartialEq::eq,
            SOCKET_ERROR
        );
        assert_eq!(r, Ok(0));
        let closed = syscall!(closesocket(s), PartialEq::eq, SOCKET_ERROR);
        assert_eq!(closed, Ok(0));
        let again = syscall!(closesocket(s), PartialEq::eq, SOCKET_ERROR);
        assert_eq!(again, Err(WSAENOTSOCK));
    });
}

#[test]
fn lengths_and_sizes_cast_with_as_underscore() {
    in_process(|| unsafe {
        let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
        let mut addr: SOCKADDR_IN = mem::zeroed();
        addr.sin_family = AF_INET as _;
        let mut len = mem::size_of::<SOCKADDR_IN>() as _;
        let r = bind(s, &addr as *const _ as *const _, len);
        assert!(r != SOCKET_ERROR as _);
        let r = getsockname(s, &mut addr as *mut _ as *mut _, &mut len);
        assert!(r != SOCKET_ERROR as _);
        assert!(len as usize == mem::size_of::<SOCKADDR_IN>());
        assert!(closesocket(s) == 0 as _);
    });
}
