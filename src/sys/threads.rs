use super::status;
use super::types::{FILETIME, HANDLE_FLAGS, WIN32_ERROR};
use super::{boolean, HANDLE};
use crate::consts::*;
use crate::core::call::{Clock, Hook, HookChange, KernelCall, ProcessCall};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::sim::thread::call;

/// `FARPROC`: a function pointer as `WSASetBlockingHook` takes it.
pub type FARPROC = Option<unsafe extern "system" fn() -> isize>;

/// `WSAIsBlocking`: TRUE while the calling thread's blocking call is in progress (from its
/// blocking hook or an APC).
///
/// # Divergence
/// Under Winsock 2 it also reports TRUE inside an APC that interrupted a blocking call
/// (Windows removed blocking calls' 1.1 semantics from 2.x and documents nothing there).
pub unsafe fn WSAIsBlocking() -> BOOL {
    match call(ProcessCall::IsBlocking) {
        Ok(Reply::Count(n)) => n as BOOL,
        _ => FALSE,
    }
}

/// `WSACancelBlockingCall` (CL-13): removed in Winsock 2 (`WSAEOPNOTSUPP`); under 1.1 it
/// cancels the thread's blocking call, which then fails `WSAEINTR`.
pub unsafe fn WSACancelBlockingCall() -> i32 {
    status(call(ProcessCall::CancelBlocking))
}

/// `WSASetBlockingHook` (TH-5, Winsock 1.1 only): the hook runs while the thread's blocking
/// calls wait; returns the previous hook (NULL: the default), or NULL on failure.
pub unsafe fn WSASetBlockingHook(lpblockfunc: FARPROC) -> FARPROC {
    let hook = lpblockfunc.map(|f| Hook {
        id: f as usize,
        // SAFETY: the caller of WSASetBlockingHook promised `f` is a valid blocking hook.
        run: std::sync::Arc::new(move || unsafe {
            f();
        }),
    });
    match call(ProcessCall::SetBlockingHook(HookChange::Set(hook))) {
        // SAFETY: a non-zero previous value is a FARPROC stored by an earlier call.
        Ok(Reply::Hook(prev)) if prev != 0 => Some(std::mem::transmute::<
            usize,
            unsafe extern "system" fn() -> isize,
        >(prev)),
        _ => None,
    }
}

/// `WSAUnhookBlockingHook` (TH-5): back to the default hook.
pub unsafe fn WSAUnhookBlockingHook() -> i32 {
    status(call(ProcessCall::SetBlockingHook(HookChange::Unhook)))
}

/// kernel32 `GetLastError`: the calling thread's last error, the same slot as
/// [`WSAGetLastError`](super::WSAGetLastError) reads ([KW-1]); it needs no `WSAStartup`.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// let p = sim.localhost().process("app");
/// p.run(|| unsafe {
///     // One slot: what Winsock sets, kernel32 reads, and back.
///     WSASetLastError(WSAECONNRESET);
///     assert_eq!(GetLastError(), WSAECONNRESET as u32);
///     SetLastError(995);
///     assert_eq!(WSAGetLastError(), 995);
/// });
/// ```
///
/// # Divergence
/// On Linux, `std::io::Error::last_os_error()` reads the C library's `errno`, not this
/// slot: code that reports Winsock errors through it must read `GetLastError()` (or
/// `WSAGetLastError()`) instead, which works on both.
///
/// [KW-1]: crate::rules#kw-1
pub unsafe fn GetLastError() -> WIN32_ERROR {
    match call(KernelCall::Win32GetLastError) {
        Ok(Reply::LastError(e)) => e as u32,
        other => unreachable!("GetLastError always succeeds, got {other:?}"),
    }
}

/// kernel32 `SetLastError`: sets the calling thread's last error, the same slot as
/// [`WSASetLastError`](super::WSASetLastError) writes ([KW-1]).
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     SetLastError(87);
///     assert_eq!((GetLastError(), WSAGetLastError()), (87, 87));
/// });
/// ```
///
/// [KW-1]: crate::rules#kw-1
pub unsafe fn SetLastError(dwerrcode: WIN32_ERROR) {
    let _ = call(KernelCall::Win32SetLastError(dwerrcode));
}

/// kernel32 `SetHandleInformation` on a socket handle ([DU-2]): changes the flags of `dwmask`
/// (`HANDLE_FLAG_INHERIT`, `HANDLE_FLAG_PROTECT_FROM_CLOSE`) to those of `dwflags`. A handle
/// that is no open socket of the process fails with `ERROR_INVALID_HANDLE` (6) as last error.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
///     // std and socket2 make sockets non-inheritable this way.
///     assert_eq!(SetHandleInformation(s as HANDLE, HANDLE_FLAG_INHERIT, 0), TRUE);
///     let mut flags = 0xFFFF;
///     assert_eq!(GetHandleInformation(s as HANDLE, &mut flags), TRUE);
///     assert_eq!(flags, 0);
///     assert_eq!(SetHandleInformation(0x4242 as HANDLE, HANDLE_FLAG_INHERIT, 0), FALSE);
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
///     WSACleanup();
/// });
/// ```
///
/// [DU-2]: crate::rules#du-2
pub unsafe fn SetHandleInformation(hobject: HANDLE, dwmask: u32, dwflags: HANDLE_FLAGS) -> BOOL {
    boolean(call(KernelCall::SetHandleInformation {
        s: Socket::from_raw(hobject as usize),
        mask: dwmask,
        flags: dwflags,
    }))
}

/// kernel32 `GetHandleInformation` on a socket handle ([DU-2]): the flags
/// [`SetHandleInformation`] stored, into `*lpdwflags`.
///
/// [DU-2]: crate::rules#du-2
pub unsafe fn GetHandleInformation(hobject: HANDLE, lpdwflags: *mut u32) -> BOOL {
    let r = call(KernelCall::GetHandleInformation {
        s: Socket::from_raw(hobject as usize),
        has_flags: !lpdwflags.is_null(),
    });
    match r {
        Ok(Reply::Count(flags)) => {
            lpdwflags.write_unaligned(flags);
            TRUE
        }
        _ => FALSE,
    }
}

/// kernel32 `Sleep`: `SleepEx(dwmilliseconds, FALSE)`, in virtual time ([KW-3]).
///
/// [KW-3]: crate::rules#kw-3
pub unsafe fn Sleep(dwmilliseconds: u32) {
    SleepEx(dwmilliseconds, FALSE);
}

/// Reads a kernel32 clock through the core.
fn clock(c: Clock) -> u64 {
    match call(KernelCall::Clock(c)) {
        Ok(Reply::Time(t)) => t,
        other => unreachable!("a clock read always succeeds, got {other:?}"),
    }
}

/// kernel32 `GetTickCount`: milliseconds of virtual time since the simulation started,
/// wrapping at 2^32 ([KW-3]).
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let (t0, c0) = (GetTickCount64(), {
///         let mut c = 0i64;
///         QueryPerformanceCounter(&mut c);
///         c
///     });
///     Sleep(1500);
///     assert_eq!(GetTickCount64() - t0, 1500);
///     assert_eq!(GetTickCount() as u64, GetTickCount64());
///     let (mut c1, mut f) = (0i64, 0i64);
///     QueryPerformanceCounter(&mut c1);
///     QueryPerformanceFrequency(&mut f);
///     assert_eq!((c1 - c0, f), (15_000_000, 10_000_000));
/// });
/// ```
///
/// [KW-3]: crate::rules#kw-3
pub unsafe fn GetTickCount() -> u32 {
    clock(Clock::TickCount) as u32
}

/// kernel32 `GetCurrentProcessId`: the calling process's id, the one
/// [`Process::pid`](crate::Process::pid) gives and [`WSADuplicateSocketW`](super::WSADuplicateSocketW)
/// takes. Never fails.
pub unsafe fn GetCurrentProcessId() -> u32 {
    match call(KernelCall::CurrentProcessId) {
        Ok(Reply::Count(pid)) => pid,
        other => unreachable!("GetCurrentProcessId always succeeds, got {other:?}"),
    }
}

/// kernel32 `GetTickCount64`: milliseconds of virtual time since the simulation started
/// ([KW-3]).
///
/// [KW-3]: crate::rules#kw-3
pub unsafe fn GetTickCount64() -> u64 {
    clock(Clock::TickCount64)
}

/// kernel32 `QueryPerformanceCounter`: virtual time in ticks of
/// `QueryPerformanceFrequency` (10 MHz) ([KW-3]). A NULL pointer fails (FALSE).
///
/// [KW-3]: crate::rules#kw-3
pub unsafe fn QueryPerformanceCounter(lpperformancecount: *mut i64) -> BOOL {
    if lpperformancecount.is_null() {
        return FALSE;
    }
    lpperformancecount.write_unaligned(clock(Clock::PerformanceCounter) as i64);
    TRUE
}

/// kernel32 `QueryPerformanceFrequency`: 10,000,000 ticks per second ([KW-3]).
///
/// [KW-3]: crate::rules#kw-3
pub unsafe fn QueryPerformanceFrequency(lpfrequency: *mut i64) -> BOOL {
    if lpfrequency.is_null() {
        return FALSE;
    }
    lpfrequency.write_unaligned(clock(Clock::PerformanceFrequency) as i64);
    TRUE
}

/// kernel32 `GetSystemTimeAsFileTime`: 2000-01-01 00:00:00 UTC plus virtual time, as a
/// `FILETIME` ([KW-3]).
///
/// [KW-3]: crate::rules#kw-3
pub unsafe fn GetSystemTimeAsFileTime(lpsystemtimeasfiletime: *mut FILETIME) {
    let t = clock(Clock::SystemTimeAsFileTime);
    if !lpsystemtimeasfiletime.is_null() {
        lpsystemtimeasfiletime.write_unaligned(FILETIME {
            dwLowDateTime: t as u32,
            dwHighDateTime: (t >> 32) as u32,
        });
    }
}

/// `SleepEx`: waits `dwmilliseconds` of virtual time (`INFINITE`: no limit); when
/// `balertable`, queued APCs run and it returns `WAIT_IO_COMPLETION` (0xC0), else 0.
pub unsafe fn SleepEx(dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let d = (dwmilliseconds != WSA_INFINITE)
        .then(|| std::time::Duration::from_millis(u64::from(dwmilliseconds)));
    if crate::sim::thread::sleep_ex(d, balertable != FALSE) {
        WAIT_IO_COMPLETION
    } else {
        0
    }
}
