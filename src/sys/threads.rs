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
/// ```
/// use std::sync::atomic::{AtomicI32, Ordering};
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// static IN_HOOK: AtomicI32 = AtomicI32::new(-1);
///
/// unsafe extern "system" fn hook() -> isize {
///     // The hook runs while the thread's recv waits.
///     IN_HOOK.store(WSAIsBlocking(), Ordering::SeqCst);
///     WSACancelBlockingCall();
///     0
/// }
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0101, &mut d), 0); // blocking hooks are Winsock 1.1's
///     assert_eq!(WSAIsBlocking(), FALSE);
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<std::net::SocketAddrV4>().unwrap());
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(bind(s, (&at as *const SOCKADDR_IN).cast(), 16), 0);
///     assert!(WSASetBlockingHook(Some(hook)).is_none());
///     let mut buf = [0u8; 4];
///     assert_eq!(recv(s, buf.as_mut_ptr(), 4, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINTR);
///     assert_eq!(IN_HOOK.load(Ordering::SeqCst), TRUE);
///     assert_eq!(WSAIsBlocking(), FALSE); // the call is over
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
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

/// `WSACancelBlockingCall` ([CL-13]): removed in Winsock 2 (`WSAEOPNOTSUPP`); under 1.1 it
/// cancels the thread's blocking call, which then fails `WSAEINTR`.
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// unsafe extern "system" fn give_up() -> isize {
///     assert_eq!(WSACancelBlockingCall(), 0);
///     0
/// }
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0101, &mut d), 0);
///     // No blocking call to cancel.
///     assert_eq!(WSACancelBlockingCall(), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINVAL);
///     // From the blocking hook, it ends the recv that waits.
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<std::net::SocketAddrV4>().unwrap());
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(bind(s, (&at as *const SOCKADDR_IN).cast(), 16), 0);
///     WSASetBlockingHook(Some(give_up));
///     let mut buf = [0u8; 4];
///     assert_eq!(recv(s, buf.as_mut_ptr(), 4, 0), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEINTR);
///     assert_eq!(WSACleanup(), 0);
///
///     // Winsock 2 has no blocking calls to cancel.
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     assert_eq!(WSACancelBlockingCall(), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEOPNOTSUPP);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [CL-13]: crate::rules#cl-13
pub unsafe fn WSACancelBlockingCall() -> i32 {
    status(call(ProcessCall::CancelBlocking))
}

/// `WSASetBlockingHook` ([TH-5], Winsock 1.1 only): the hook runs while the thread's blocking
/// calls wait; returns the previous hook (NULL: the default), or NULL on failure.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// static RUNS: AtomicU32 = AtomicU32::new(0);
///
/// unsafe extern "system" fn pump() -> isize {
///     // A 1.1 application's hook would pump its window messages here.
///     RUNS.fetch_add(1, Ordering::SeqCst);
///     0
/// }
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0101, &mut d), 0);
///     assert!(WSASetBlockingHook(Some(pump)).is_none()); // the default hook was in place
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(bind(rx, (&at as *const SOCKADDR_IN).cast(), 16), 0);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     assert_eq!(sendto(tx, b"hi".as_ptr(), 2, 0, (&at as *const SOCKADDR_IN).cast(), 16), 2);
///     // The datagram arrives 1 ms later: recv waits, and the hook runs meanwhile.
///     let mut buf = [0u8; 4];
///     assert_eq!(recv(rx, buf.as_mut_ptr(), 4, 0), 2);
///     assert_eq!(RUNS.load(Ordering::SeqCst), 1);
///     // Setting a hook again returns the one it replaces.
///     let previous = WSASetBlockingHook(Some(pump));
///     assert_eq!(previous.map(|f| f as usize), Some(pump as usize));
///     assert_eq!(WSAUnhookBlockingHook(), 0);
///     assert_eq!(WSACleanup(), 0);
///
///     // Winsock 2 has no blocking hooks.
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     assert!(WSASetBlockingHook(Some(pump)).is_none());
///     assert_eq!(WSAGetLastError(), WSAEOPNOTSUPP);
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [TH-5]: crate::rules#th-5
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

/// `WSAUnhookBlockingHook` ([TH-5]): back to the default hook.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// static RUNS: AtomicU32 = AtomicU32::new(0);
///
/// unsafe extern "system" fn count() -> isize {
///     RUNS.fetch_add(1, Ordering::SeqCst);
///     0
/// }
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0101, &mut d), 0);
///     WSASetBlockingHook(Some(count));
///     assert_eq!(WSAUnhookBlockingHook(), 0);
///     // The default hook again: a blocking recv no longer runs `count`.
///     let at = SOCKADDR_IN::from("127.0.0.1:7000".parse::<std::net::SocketAddrV4>().unwrap());
///     let rx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     bind(rx, (&at as *const SOCKADDR_IN).cast(), 16);
///     let tx = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     sendto(tx, b"hi".as_ptr(), 2, 0, (&at as *const SOCKADDR_IN).cast(), 16);
///     let mut buf = [0u8; 4];
///     assert_eq!(recv(rx, buf.as_mut_ptr(), 4, 0), 2);
///     assert_eq!(RUNS.load(Ordering::SeqCst), 0);
///     assert!(WSASetBlockingHook(Some(count)).is_none()); // the default was in place
///     assert_eq!(WSACleanup(), 0);
///
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     assert_eq!(WSAUnhookBlockingHook(), SOCKET_ERROR);
///     assert_eq!(WSAGetLastError(), WSAEOPNOTSUPP); // Winsock 2 has no hooks
///     assert_eq!(WSACleanup(), 0);
/// });
/// ```
///
/// [TH-5]: crate::rules#th-5
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

/// kernel32 `GetHandleInformation` on a socket handle ([DU-2]): its flags into `*lpdwflags`:
/// `HANDLE_FLAG_INHERIT` for a new socket (none with `WSA_FLAG_NO_HANDLE_INHERIT`; an accepted
/// socket has its listener's), then what [`SetHandleInformation`] stored.
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
///     let mut flags = 0xFFFF;
///     // A new socket is inheritable, unless WSASocketW had WSA_FLAG_NO_HANDLE_INHERIT.
///     assert_eq!(GetHandleInformation(s as HANDLE, &mut flags), TRUE);
///     assert_eq!(flags, HANDLE_FLAG_INHERIT);
///     let both = HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE;
///     assert_eq!(SetHandleInformation(s as HANDLE, both, HANDLE_FLAG_PROTECT_FROM_CLOSE), TRUE);
///     assert_eq!(GetHandleInformation(s as HANDLE, &mut flags), TRUE);
///     assert_eq!(flags, HANDLE_FLAG_PROTECT_FROM_CLOSE);
///     // Only the flags of the mask change.
///     let inherit = HANDLE_FLAG_INHERIT;
///     assert_eq!(SetHandleInformation(s as HANDLE, inherit, inherit), TRUE);
///     assert_eq!(GetHandleInformation(s as HANDLE, &mut flags), TRUE);
///     assert_eq!(flags, HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE);
///     assert_eq!(GetHandleInformation(0x4242 as HANDLE, &mut flags), FALSE);
///     assert_eq!(GetLastError(), 6); // ERROR_INVALID_HANDLE
///     WSACleanup();
/// });
/// ```
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
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let t0 = GetTickCount64();
///     Sleep(250); // no wall-clock wait: virtual time moves on
///     assert_eq!(GetTickCount64() - t0, 250);
///     Sleep(0);
///     assert_eq!(GetTickCount64() - t0, 250);
/// });
/// assert_eq!(sim.now(), std::time::Duration::from_millis(250));
/// ```
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
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// let host = sim.localhost();
/// let (a, b) = (host.process("a"), host.process("b"));
/// let pid_a = a.run(|| unsafe { GetCurrentProcessId() });
/// let pid_b = b.run(|| unsafe { GetCurrentProcessId() });
/// assert_eq!((pid_a, pid_b), (a.pid(), b.pid()));
/// assert_ne!(pid_a, pid_b);
/// ```
pub unsafe fn GetCurrentProcessId() -> u32 {
    match call(KernelCall::CurrentProcessId) {
        Ok(Reply::Count(pid)) => pid,
        other => unreachable!("GetCurrentProcessId always succeeds, got {other:?}"),
    }
}

/// kernel32 `GetTickCount64`: milliseconds of virtual time since the simulation started
/// ([KW-3]).
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     assert_eq!(GetTickCount64(), 0);
///     // A wait that times out takes its whole timeout.
///     let ev = CreateEventW(std::ptr::null(), TRUE, FALSE, std::ptr::null());
///     assert_eq!(WaitForSingleObject(ev, 40), WAIT_TIMEOUT as u32);
///     assert_eq!(GetTickCount64(), 40);
///     CloseHandle(ev);
/// });
/// ```
///
/// [KW-3]: crate::rules#kw-3
pub unsafe fn GetTickCount64() -> u64 {
    clock(Clock::TickCount64)
}

/// kernel32 `QueryPerformanceCounter`: virtual time in ticks of
/// `QueryPerformanceFrequency` (10 MHz) ([KW-3]). A NULL pointer fails (FALSE).
///
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let (mut start, mut end, mut freq) = (0i64, 0i64, 0i64);
///     assert_eq!(QueryPerformanceCounter(&mut start), TRUE);
///     Sleep(3);
///     assert_eq!(QueryPerformanceCounter(&mut end), TRUE);
///     QueryPerformanceFrequency(&mut freq);
///     assert_eq!(end - start, 30_000); // 3 ms of 100 ns ticks
///     assert_eq!((end - start) * 1_000_000 / freq, 3_000); // in microseconds
///     assert_eq!(QueryPerformanceCounter(std::ptr::null_mut()), FALSE);
/// });
/// ```
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
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut freq = 0i64;
///     assert_eq!(QueryPerformanceFrequency(&mut freq), TRUE);
///     assert_eq!(freq, 10_000_000);
///     assert_eq!(QueryPerformanceFrequency(std::ptr::null_mut()), FALSE);
/// });
/// ```
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
/// ```
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let read = || {
///         let mut ft: FILETIME = std::mem::zeroed();
///         GetSystemTimeAsFileTime(&mut ft);
///         u64::from(ft.dwHighDateTime) << 32 | u64::from(ft.dwLowDateTime)
///     };
///     // 100 ns intervals since 1601-01-01: 145,731 days to 2000-01-01.
///     let y2k = 145_731 * 86_400 * 10_000_000;
///     assert_eq!(read(), y2k);
///     Sleep(1000);
///     assert_eq!(read(), y2k + 10_000_000);
/// });
/// ```
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
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use ws2sim::sys::*;
/// use ws2sim::Sim;
///
/// static SENT: AtomicU32 = AtomicU32::new(0);
///
/// unsafe extern "system" fn done(err: u32, n: u32, _ov: *mut OVERLAPPED, _flags: u32) {
///     assert_eq!(err, 0);
///     SENT.store(n, Ordering::SeqCst);
/// }
///
/// let sim = Sim::new();
/// sim.localhost().process("app").run(|| unsafe {
///     let mut d: WSADATA = std::mem::zeroed();
///     assert_eq!(WSAStartup(0x0202, &mut d), 0);
///     let s = socket(AF_INET as i32, SOCK_DGRAM, IPPROTO_UDP);
///     let to = SOCKADDR_IN::from("127.0.0.1:9".parse::<std::net::SocketAddrV4>().unwrap());
///     let mut data = *b"ping";
///     let buf = WSABUF { len: 4, buf: data.as_mut_ptr() };
///     let mut ov = OVERLAPPED::default();
///     let to_ptr = (&to as *const SOCKADDR_IN).cast();
///     let r = WSASendTo(s, &buf, 1, std::ptr::null_mut(), 0, to_ptr, 16, &mut ov, Some(done));
///     assert_eq!(r, 0);
///     // The routine waits for an alertable wait: not this one ...
///     assert_eq!(SleepEx(10, FALSE), 0);
///     assert_eq!(SENT.load(Ordering::SeqCst), 0);
///     // ... but this one, which returns as soon as it ran.
///     let t0 = GetTickCount64();
///     assert_eq!(SleepEx(INFINITE, TRUE), WAIT_IO_COMPLETION);
///     assert_eq!((SENT.load(Ordering::SeqCst), GetTickCount64() - t0), (4, 0));
///     WSACleanup();
/// });
/// ```
pub unsafe fn SleepEx(dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let d = (dwmilliseconds != WSA_INFINITE)
        .then(|| std::time::Duration::from_millis(u64::from(dwmilliseconds)));
    if crate::sim::thread::sleep_ex(d, balertable != FALSE) {
        WAIT_IO_COMPLETION
    } else {
        0
    }
}
