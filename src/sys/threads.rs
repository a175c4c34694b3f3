use super::status;
use crate::consts::*;
use crate::core::call::{Call, Hook, HookChange};
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
    match call(Call::IsBlocking) {
        Ok(Reply::Count(n)) => n as BOOL,
        _ => FALSE,
    }
}

/// `WSACancelBlockingCall` (CL-13): removed in Winsock 2 (`WSAEOPNOTSUPP`); under 1.1 it
/// cancels the thread's blocking call, which then fails `WSAEINTR`.
pub unsafe fn WSACancelBlockingCall() -> i32 {
    status(call(Call::CancelBlocking))
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
    match call(Call::SetBlockingHook(HookChange::Set(hook))) {
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
    status(call(Call::SetBlockingHook(HookChange::Unhook)))
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
