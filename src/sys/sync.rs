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
pub unsafe fn SetEvent(hevent: HANDLE) -> BOOL {
    to_bool(object(ObjectCall::SetEvent(EventHandle::from_raw(
        hevent as isize,
    ))))
}

/// `ResetEvent`: makes an event object non-signalled. An unknown handle: `FALSE`,
/// `ERROR_INVALID_HANDLE`.
pub unsafe fn ResetEvent(hevent: HANDLE) -> BOOL {
    to_bool(object(ObjectCall::ResetEvent(EventHandle::from_raw(
        hevent as isize,
    ))))
}

/// `CloseHandle`: closes an event object or a completion port. Anything else (a socket: use
/// `closesocket`; a handle already closed): `FALSE`, `ERROR_INVALID_HANDLE`.
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
pub unsafe fn WaitForSingleObject(hhandle: HANDLE, dwmilliseconds: u32) -> u32 {
    let h = vec![EventHandle::from_raw(hhandle as isize)];
    wait(Some(h), false, dwmilliseconds, None, true)
}

/// `WaitForSingleObjectEx`: [`WaitForSingleObject`]; when `bAlertable`, queued APCs and
/// completion routines run during the wait, which then returns `WAIT_IO_COMPLETION`.
pub unsafe fn WaitForSingleObjectEx(hhandle: HANDLE, dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let h = vec![EventHandle::from_raw(hhandle as isize)];
    wait(Some(h), false, dwmilliseconds, Some(balertable), true)
}

/// `WaitForMultipleObjects`: waits for any (`WAIT_OBJECT_0 + i`, the lowest signalled `i`) or,
/// with `bWaitAll`, all of `nCount` events. A count of 0 or above 64, or a NULL array:
/// `WAIT_FAILED`, `ERROR_INVALID_PARAMETER`; an unknown handle `ERROR_INVALID_HANDLE`.
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
