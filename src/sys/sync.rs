//! kernel32's event objects and waits ([KW-2]): `CreateEventW`, `SetEvent`, `ResetEvent`,
//! `CloseHandle`, `WaitForSingleObject(Ex)`, `WaitForMultipleObjects(Ex)`. WSA events are the
//! same objects, so a `WSACreateEvent` event can be waited on here and a `CreateEventW` one
//! passed to `WSAEventSelect` or `WSAWaitForMultipleEvents`.
//!
//! These functions need no `WSAStartup` and set Win32 codes (`ERROR_INVALID_HANDLE` 6,
//! `ERROR_INVALID_PARAMETER` 87) as the last error. Only events and completion ports are
//! kernel objects in the simulation (no thread, mutex or semaphore handles).
//!
//! [KW-2]: crate::rules#kw-2

use std::time::Duration;

use crate::core::call::{KernelCall, ObjectCall};
use crate::core::Reply;
use crate::sim::thread::call;
use crate::EventHandle;

use super::{BOOL, FALSE, HANDLE, TRUE, WSA_INFINITE, WSA_MAXIMUM_WAIT_EVENTS};

/// `SECURITY_ATTRIBUTES`: ignored by the simulation (there is one user and no inheritance).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SECURITY_ATTRIBUTES {
    /// The structure's size.
    pub nLength: u32,
    /// A security descriptor.
    pub lpSecurityDescriptor: *mut core::ffi::c_void,
    /// Whether child processes inherit the handle.
    pub bInheritHandle: BOOL,
}

impl Default for SECURITY_ATTRIBUTES {
    fn default() -> Self {
        // SAFETY: integers and a NULL pointer.
        unsafe { std::mem::zeroed() }
    }
}

/// A wait's first handle was signalled (`WAIT_OBJECT_0 + i`: the `i`-th).
pub const WAIT_OBJECT_0: u32 = 0;
/// A wait failed; the last error says why.
pub const WAIT_FAILED: u32 = 0xffff_ffff;

fn object(o: ObjectCall) -> Result<Reply, crate::WsaError> {
    call(KernelCall::Object(o))
}

fn to_bool(r: Result<Reply, crate::WsaError>) -> BOOL {
    if r.is_ok() {
        TRUE
    } else {
        FALSE
    }
}

/// `CreateEventW`: a new event object, manual-reset (`bManualReset`) or auto-reset, signalled
/// or not (`bInitialState`) ([KW-2]). `lpEventAttributes` and `lpName` are ignored (every
/// event is unnamed). Returns the handle; it is a kernel object, so it survives `WSACleanup`
/// and counts in [`Process::live_resources`](crate::Process::live_resources) until
/// [`CloseHandle`].
///
/// ```
/// use ws2sim::sys::*;
/// let sim = ws2sim::Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let auto = CreateEventW(std::ptr::null(), FALSE, TRUE, std::ptr::null());
///     assert!(!auto.is_null());
///     assert_eq!(WaitForSingleObject(auto, 0), WAIT_OBJECT_0); // and it resets
///     assert_eq!(WaitForSingleObject(auto, 10), WAIT_TIMEOUT as u32);
///     assert_eq!(CloseHandle(auto), TRUE);
///     assert_eq!(WaitForSingleObject(auto, 0), WAIT_FAILED);
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
/// });
/// ```
///
/// [KW-2]: crate::rules#kw-2
pub unsafe fn CreateEventW(
    _lpeventattributes: *const SECURITY_ATTRIBUTES,
    bmanualreset: BOOL,
    binitialstate: BOOL,
    lpname: *const u16,
) -> HANDLE {
    match object(ObjectCall::CreateEvent {
        manual: bmanualreset != FALSE,
        initial: binitialstate != FALSE,
        named: !lpname.is_null(),
    }) {
        Ok(Reply::Event(h)) => h.raw() as HANDLE,
        Ok(_) | Err(_) => std::ptr::null_mut(),
    }
}

/// `SetEvent`: signals an event object (a `CreateEventW` or a WSA event). An auto-reset event
/// stays signalled until a wait it satisfies. An unknown handle: `FALSE`,
/// `ERROR_INVALID_HANDLE`.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let ready = CreateEventW(std::ptr::null(), TRUE, FALSE, std::ptr::null());
///     let h = ready as usize;
///     // Another thread signals it after 5 ms of virtual time.
///     let worker = ws2sim::thread::spawn(move || unsafe {
///         Sleep(5);
///         SetEvent(h as HANDLE)
///     });
///     assert_eq!(WaitForSingleObject(ready, INFINITE), WAIT_OBJECT_0);
///     assert_eq!(GetTickCount64(), 5);
///     assert_eq!(worker.join(), TRUE);
///     // Manual-reset: it stays signalled.
///     assert_eq!(WaitForSingleObject(ready, 0), WAIT_OBJECT_0);
///     CloseHandle(ready);
///     assert_eq!(SetEvent(ready), FALSE);
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
/// });
/// ```
pub unsafe fn SetEvent(hevent: HANDLE) -> BOOL {
    to_bool(object(ObjectCall::SetEvent(EventHandle::from_raw(
        hevent as isize,
    ))))
}

/// `ResetEvent`: makes an event object non-signalled. An unknown handle: `FALSE`,
/// `ERROR_INVALID_HANDLE`.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     // Manual-reset and signalled: every wait is satisfied until it is reset.
///     let ev = CreateEventW(std::ptr::null(), TRUE, TRUE, std::ptr::null());
///     assert_eq!(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);
///     assert_eq!(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);
///     assert_eq!(ResetEvent(ev), TRUE);
///     assert_eq!(WaitForSingleObject(ev, 0), WAIT_TIMEOUT as u32);
///     assert_eq!(CloseHandle(ev), TRUE);
///     assert_eq!(ResetEvent(ev), FALSE);
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
/// });
/// ```
pub unsafe fn ResetEvent(hevent: HANDLE) -> BOOL {
    to_bool(object(ObjectCall::ResetEvent(EventHandle::from_raw(
        hevent as isize,
    ))))
}

/// `CloseHandle`: closes an event object or a completion port. Anything else (a socket: use
/// `closesocket`; a handle already closed): `FALSE`, `ERROR_INVALID_HANDLE`.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let ev = WSACreateEvent() as HANDLE; // a WSA event is an event object too
///     let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 0);
///     assert_eq!(CloseHandle(ev), TRUE);
///     assert_eq!(CloseHandle(port), TRUE);
///     assert_eq!(CloseHandle(ev), FALSE); // already closed
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(CloseHandle(s as HANDLE), FALSE); // sockets take closesocket
///     assert_eq!(GetLastError(), 6);
///     assert_eq!(closesocket(s), 0);
///     assert_eq!(WSACleanup(), 0);
/// });
/// assert_eq!(p.live_resources(), 0);
/// ```
pub unsafe fn CloseHandle(hobject: HANDLE) -> BOOL {
    to_bool(object(ObjectCall::CloseHandle(hobject as isize)))
}

unsafe fn wait(
    handles: Option<Vec<EventHandle>>,
    wait_all: bool,
    ms: u32,
    alertable: Option<BOOL>,
    single: bool,
) -> u32 {
    let timeout = (ms != WSA_INFINITE).then(|| Duration::from_millis(u64::from(ms)));
    match object(ObjectCall::Wait {
        handles,
        wait_all,
        timeout,
        alertable: alertable.is_some_and(|a| a != FALSE),
        single,
        ex: alertable.is_some(),
    }) {
        Ok(Reply::Count(n)) => n,
        Ok(Reply::Alerted) => crate::sys::WAIT_IO_COMPLETION,
        Ok(_) | Err(_) => WAIT_FAILED,
    }
}

unsafe fn handles(n: u32, p: *const HANDLE) -> Option<Vec<EventHandle>> {
    (!p.is_null()).then(|| {
        // One past the maximum is enough for the core to refuse the count.
        let n = (n as usize).min(WSA_MAXIMUM_WAIT_EVENTS as usize + 1);
        (0..n)
            .map(|i| EventHandle::from_raw(p.add(i).read_unaligned() as isize))
            .collect()
    })
}

/// `WaitForSingleObject`: waits until the event is signalled (`WAIT_OBJECT_0`) or
/// `dwMilliseconds` of virtual time pass (`WAIT_TIMEOUT`; `INFINITE`: never). A wait an
/// auto-reset event satisfies resets it. An unknown handle: `WAIT_FAILED`,
/// `ERROR_INVALID_HANDLE`. Not alertable.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let readable = WSACreateEvent();
///     assert_eq!(WSAEventSelect(rx, readable, FD_READ as i32), 0);
///     // Nothing to read: the wait times out after 100 ms of virtual time.
///     let t0 = GetTickCount64();
///     assert_eq!(WaitForSingleObject(readable as HANDLE, 100), WAIT_TIMEOUT as u32);
///     assert_eq!(GetTickCount64() - t0, 100);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"hi".as_ptr(), 2, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     // The datagram arrives 1 ms later and signals the event.
///     assert_eq!(WaitForSingleObject(readable as HANDLE, INFINITE), WAIT_OBJECT_0);
///     assert_eq!(GetTickCount64() - t0, 101);
///     assert_eq!(WaitForSingleObject(0x4242 as HANDLE, 0), WAIT_FAILED);
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
///     WSACleanup();
/// });
/// ```
pub unsafe fn WaitForSingleObject(hhandle: HANDLE, dwmilliseconds: u32) -> u32 {
    let h = vec![EventHandle::from_raw(hhandle as isize)];
    wait(Some(h), false, dwmilliseconds, None, true)
}

/// `WaitForSingleObjectEx`: [`WaitForSingleObject`]; when `bAlertable`, queued APCs and
/// completion routines run during the wait, which then returns `WAIT_IO_COMPLETION`.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// static SENT: AtomicU32 = AtomicU32::new(0);
///
/// unsafe extern "system" fn done(_err: u32, n: u32, _ov: *mut OVERLAPPED, _flags: u32) {
///     SENT.store(n, Ordering::SeqCst);
/// }
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let stop = CreateEventW(std::ptr::null(), TRUE, FALSE, std::ptr::null());
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let to = SOCKADDR_IN::from("127.0.0.1:9".parse::<std::net::SocketAddrV4>().unwrap());
///     let mut data = *b"ping";
///     let buf = WSABUF { len: 4, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let to_ptr = (&to as *const SOCKADDR_IN).cast();
///     WSASendTo(s, &buf, 1, std::ptr::null_mut(), 0, to_ptr, 16, &mut ov, Some(done));
///     // Not alertable: the routine stays queued and the wait times out.
///     assert_eq!(WaitForSingleObjectEx(stop, 10, FALSE), WAIT_TIMEOUT as u32);
///     assert_eq!(SENT.load(Ordering::SeqCst), 0);
///     // Alertable: the routine runs and ends the wait.
///     assert_eq!(WaitForSingleObjectEx(stop, INFINITE, TRUE), WAIT_IO_COMPLETION);
///     assert_eq!(SENT.load(Ordering::SeqCst), 4);
///     CloseHandle(stop);
///     WSACleanup();
/// });
/// ```
pub unsafe fn WaitForSingleObjectEx(hhandle: HANDLE, dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let h = vec![EventHandle::from_raw(hhandle as isize)];
    wait(Some(h), false, dwmilliseconds, Some(balertable), true)
}

/// `WaitForMultipleObjects`: waits for any (`WAIT_OBJECT_0 + i`, the lowest signalled `i`) or,
/// with `bWaitAll`, all of `nCount` events. A count of 0 or above 64, or a NULL array:
/// `WAIT_FAILED`, `ERROR_INVALID_PARAMETER`; an unknown handle `ERROR_INVALID_HANDLE`.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let new_event = || CreateEventW(std::ptr::null(), TRUE, FALSE, std::ptr::null());
///     let events = [new_event(), new_event()];
///     SetEvent(events[1]);
///     // Any: the index of the signalled one.
///     assert_eq!(WaitForMultipleObjects(2, events.as_ptr(), FALSE, 0), WAIT_OBJECT_0 + 1);
///     // All: one is not enough.
///     assert_eq!(WaitForMultipleObjects(2, events.as_ptr(), TRUE, 20), WAIT_TIMEOUT as u32);
///     SetEvent(events[0]);
///     assert_eq!(WaitForMultipleObjects(2, events.as_ptr(), FALSE, 0), WAIT_OBJECT_0); // lowest
///     assert_eq!(WaitForMultipleObjects(2, events.as_ptr(), TRUE, 0), WAIT_OBJECT_0);
///     assert_eq!(WaitForMultipleObjects(0, events.as_ptr(), FALSE, 0), WAIT_FAILED);
///     assert_eq!(GetLastError(), 87); // ERROR_INVALID_PARAMETER
///     for e in events {
///         CloseHandle(e);
///     }
/// });
/// ```
pub unsafe fn WaitForMultipleObjects(
    ncount: u32,
    lphandles: *const HANDLE,
    bwaitall: BOOL,
    dwmilliseconds: u32,
) -> u32 {
    let h = handles(ncount, lphandles);
    wait(h, bwaitall != FALSE, dwmilliseconds, None, false)
}

/// `WaitForMultipleObjectsEx`: [`WaitForMultipleObjects`], alertable as
/// [`WaitForSingleObjectEx`].
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// static SENT: AtomicU32 = AtomicU32::new(0);
///
/// unsafe extern "system" fn done(_err: u32, n: u32, _ov: *mut OVERLAPPED, _flags: u32) {
///     SENT.store(n, Ordering::SeqCst);
/// }
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let new_event = || CreateEventW(std::ptr::null(), FALSE, FALSE, std::ptr::null());
///     let events = [new_event(), new_event()];
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let to = SOCKADDR_IN::from("127.0.0.1:9".parse::<std::net::SocketAddrV4>().unwrap());
///     let mut data = *b"ping";
///     let buf = WSABUF { len: 4, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let to_ptr = (&to as *const SOCKADDR_IN).cast();
///     WSASendTo(s, &buf, 1, std::ptr::null_mut(), 0, to_ptr, 16, &mut ov, Some(done));
///     // An I/O loop's wait: the routine ran (WAIT_IO_COMPLETION), then an event fires.
///     let wait = || WaitForMultipleObjectsEx(2, events.as_ptr(), FALSE, INFINITE, TRUE);
///     assert_eq!(wait(), WAIT_IO_COMPLETION);
///     assert_eq!(SENT.load(Ordering::SeqCst), 4);
///     SetEvent(events[1]);
///     assert_eq!(wait(), WAIT_OBJECT_0 + 1);
///     // Auto-reset: that wait reset it.
///     let again = WaitForMultipleObjectsEx(2, events.as_ptr(), FALSE, 0, TRUE);
///     assert_eq!(again, WAIT_TIMEOUT as u32);
///     for e in events {
///         CloseHandle(e);
///     }
///     WSACleanup();
/// });
/// ```
pub unsafe fn WaitForMultipleObjectsEx(
    ncount: u32,
    lphandles: *const HANDLE,
    bwaitall: BOOL,
    dwmilliseconds: u32,
    balertable: BOOL,
) -> u32 {
    let h = handles(ncount, lphandles);
    wait(
        h,
        bwaitall != FALSE,
        dwmilliseconds,
        Some(balertable),
        false,
    )
}
