//! A small Winsock echo library written against windows-sys and nothing else: a blocking TCP
//! client with a receive timeout and `TCP_NODELAY`, and a server that receives through
//! overlapped `WSARecv` and an I/O completion port.
//!
//! Nothing here knows about ws2sim. On Windows it uses the real Winsock; on other targets its
//! Cargo.toml points `windows-sys` at `windows-sys-sim`, and its tests (`tests/echo.rs`) run it
//! between simulated hosts. `facade-example-real-check` compiles this same file against the
//! real windows-sys, so the code is proved to be plain windows-sys code.

use std::mem::{size_of, zeroed};
use std::ptr::null_mut;

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Networking::WinSock::*;
use windows_sys::Win32::System::Threading::INFINITE;
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatus, OVERLAPPED,
};

/// A Winsock error: the value `WSAGetLastError` (or `WSAStartup`) returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(pub i32);

/// The calling thread's last Winsock error.
fn last_error() -> Error {
    Error(unsafe { WSAGetLastError() })
}

/// `r`, or the last error when it is `SOCKET_ERROR`.
fn check(r: i32) -> Result<i32, Error> {
    if r == SOCKET_ERROR {
        Err(last_error())
    } else {
        Ok(r)
    }
}

/// Winsock 2.2, started for as long as this value lives (`WSACleanup` when dropped).
#[derive(Debug)]
pub struct Winsock(());

impl Winsock {
    /// `WSAStartup(2.2)`.
    pub fn start() -> Result<Winsock, Error> {
        let mut data: WSADATA = unsafe { zeroed() };
        match unsafe { WSAStartup(0x0202, &mut data) } {
            0 => Ok(Winsock(())),
            e => Err(Error(e)),
        }
    }
}

impl Drop for Winsock {
    fn drop(&mut self) {
        unsafe { WSACleanup() };
    }
}

/// A socket, closed when dropped.
#[derive(Debug)]
pub struct Socket(SOCKET);

impl Drop for Socket {
    fn drop(&mut self) {
        unsafe { closesocket(self.0) };
    }
}

impl Socket {
    fn tcp() -> Result<Socket, Error> {
        let s = unsafe { socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP) };
        if s == INVALID_SOCKET {
            return Err(last_error());
        }
        Ok(Socket(s))
    }

    fn set<T>(&self, level: i32, name: i32, value: T) -> Result<(), Error> {
        let p = (&value as *const T).cast::<u8>();
        check(unsafe { setsockopt(self.0, level, name, p, size_of::<T>() as i32) }).map(drop)
    }

    fn send_all(&self, mut data: &[u8]) -> Result<(), Error> {
        while !data.is_empty() {
            let n = check(unsafe { send(self.0, data.as_ptr(), data.len() as i32, 0) })?;
            data = &data[n as usize..];
        }
        Ok(())
    }
}

/// `ip:port` as a `SOCKADDR_IN`.
fn v4(ip: [u8; 4], port: u16) -> SOCKADDR_IN {
    let mut a: SOCKADDR_IN = unsafe { zeroed() };
    a.sin_family = AF_INET;
    a.sin_port = port.to_be();
    a.sin_addr.S_un.S_addr = u32::from_ne_bytes(ip);
    a
}

/// A TCP socket listening on every address at `port`.
pub fn listen_on(port: u16) -> Result<Socket, Error> {
    let s = Socket::tcp()?;
    s.set(SOL_SOCKET, SO_REUSEADDR, 1i32)?;
    let addr = v4([0, 0, 0, 0], port);
    let name = (&addr as *const SOCKADDR_IN).cast::<SOCKADDR>();
    check(unsafe { bind(s.0, name, size_of::<SOCKADDR_IN>() as i32) })?;
    check(unsafe { listen(s.0, SOMAXCONN as i32) })?;
    Ok(s)
}

/// Accepts one connection and echoes what it sends until it shuts down its side, then
/// shuts down ours. Receives through overlapped `WSARecv` on an I/O completion port; sends
/// block. Returns the number of bytes echoed.
pub fn serve_one(listener: &Socket) -> Result<usize, Error> {
    let s = unsafe { accept(listener.0, null_mut(), null_mut()) };
    if s == INVALID_SOCKET {
        return Err(last_error());
    }
    let s = Socket(s);
    let port = unsafe { CreateIoCompletionPort(s.0 as HANDLE, null_mut(), 7, 0) };
    if port.is_null() || port == INVALID_HANDLE_VALUE {
        return Err(last_error());
    }
    let mut total = 0;
    let mut buf = [0u8; 512];
    loop {
        let mut ov: OVERLAPPED = unsafe { zeroed() };
        let wsabuf = WSABUF {
            len: buf.len() as u32,
            buf: buf.as_mut_ptr(),
        };
        let mut flags = 0u32;
        let r = unsafe { WSARecv(s.0, &wsabuf, 1, null_mut(), &mut flags, &mut ov, None) };
        if r == SOCKET_ERROR && unsafe { WSAGetLastError() } != WSA_IO_PENDING {
            return Err(last_error());
        }
        let (mut n, mut key, mut done) = (0u32, 0usize, null_mut::<OVERLAPPED>());
        if unsafe { GetQueuedCompletionStatus(port, &mut n, &mut key, &mut done, INFINITE) } == 0 {
            return Err(last_error());
        }
        assert_eq!(
            (key, done),
            (7, &raw mut ov),
            "the completion is this receive's"
        );
        if n == 0 {
            break;
        }
        s.send_all(&buf[..n as usize])?;
        total += n as usize;
    }
    check(unsafe { shutdown(s.0, SD_SEND) })?;
    Ok(total)
}

/// Connects to `ip:port`, sends `message`, shuts down its sending side and returns all it
/// receives until the server shuts down. Each receive waits at most `timeout_ms`
/// (`SO_RCVTIMEO`; `WSAETIMEDOUT` when it runs out). Nagle is off (`TCP_NODELAY`).
pub fn echo(ip: [u8; 4], port: u16, message: &[u8], timeout_ms: u32) -> Result<Vec<u8>, Error> {
    let s = Socket::tcp()?;
    s.set(IPPROTO_TCP, TCP_NODELAY, 1i32)?;
    s.set(SOL_SOCKET, SO_RCVTIMEO, timeout_ms)?;
    let addr = v4(ip, port);
    let name = (&addr as *const SOCKADDR_IN).cast::<SOCKADDR>();
    check(unsafe { connect(s.0, name, size_of::<SOCKADDR_IN>() as i32) })?;
    s.send_all(message)?;
    check(unsafe { shutdown(s.0, SD_SEND) })?;
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match check(unsafe { recv(s.0, buf.as_mut_ptr(), buf.len() as i32, 0) })? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n as usize]),
        }
    }
}

/// [`echo`] to a host given by name: resolved with `getaddrinfo` (IPv4 results only).
pub fn echo_to(host: &str, port: u16, message: &[u8], timeout_ms: u32) -> Result<Vec<u8>, Error> {
    let node = std::ffi::CString::new(host).map_err(|_| Error(WSAEINVAL))?;
    let hints = ADDRINFOA {
        ai_family: AF_INET as i32,
        ai_socktype: SOCK_STREAM,
        ai_protocol: IPPROTO_TCP,
        ..Default::default()
    };
    let mut res = null_mut();
    match unsafe { getaddrinfo(node.as_ptr().cast(), std::ptr::null(), &hints, &mut res) } {
        0 => {}
        e => return Err(Error(e)),
    }
    let addr = unsafe { *(*res).ai_addr.cast::<SOCKADDR_IN>() };
    unsafe { freeaddrinfo(res) };
    let ip = unsafe { addr.sin_addr.S_un.S_addr }.to_ne_bytes();
    echo(ip, port, message, timeout_ms)
}

/// `WSAETIMEDOUT`, for callers matching on [`Error`].
pub const TIMED_OUT: Error = Error(WSAETIMEDOUT);
