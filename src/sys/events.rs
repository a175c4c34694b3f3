use super::types::*;
use super::{boolean, count, read_opt, status, write_opt};
use crate::consts::*;
use crate::core::call::Call;
use crate::core::events::{EventHandle, EventOp};
use crate::core::ws2::table::Socket;
use crate::core::Reply;
use crate::sim::thread::call;

/// `WSACreateEvent`: a manual-reset event object, not signalled; `WSA_INVALID_EVENT` on failure.
pub unsafe fn WSACreateEvent() -> WSAEVENT {
    match call(Call::CreateEvent) {
        Ok(Reply::Event(h)) => h.raw(),
        Ok(other) => unreachable!("WSACreateEvent returned {other:?}"),
        Err(_) => WSA_INVALID_EVENT,
    }
}

/// `WSACloseEvent`.
pub unsafe fn WSACloseEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(Call::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Close,
    )))
}

/// `WSASetEvent`.
pub unsafe fn WSASetEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(Call::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Set,
    )))
}

/// `WSAResetEvent`.
pub unsafe fn WSAResetEvent(hevent: WSAEVENT) -> BOOL {
    boolean(call(Call::EventOp(
        EventHandle::from_raw(hevent),
        EventOp::Reset,
    )))
}

/// `WSAWaitForMultipleEvents`: `WSA_WAIT_EVENT_0 + i`, `WSA_WAIT_TIMEOUT` or `WSA_WAIT_FAILED`.
/// Waiting takes virtual time; `dwtimeout` is in milliseconds (`WSA_INFINITE`: no limit).
///
/// An alertable wait (`falertable` TRUE) runs the APCs queued to the thread (completion
/// routines, `QueueUserAPC`) and then returns `WSA_WAIT_IO_COMPLETION` (OV-4).
pub unsafe fn WSAWaitForMultipleEvents(
    cevents: u32,
    lphevents: *const HANDLE,
    fwaitall: BOOL,
    dwtimeout: u32,
    falertable: BOOL,
) -> u32 {
    let events = (!lphevents.is_null()).then(|| {
        // One past the maximum is enough for the core to refuse the count (more are not read).
        let n = (cevents as usize).min(WSA_MAXIMUM_WAIT_EVENTS as usize + 1);
        (0..n)
            .map(|i| EventHandle::from_raw(lphevents.add(i).read_unaligned() as isize))
            .collect::<Vec<_>>()
    });
    let timeout =
        (dwtimeout != WSA_INFINITE).then(|| std::time::Duration::from_millis(u64::from(dwtimeout)));
    match call(Call::WaitEvents {
        events,
        wait_all: fwaitall != FALSE,
        timeout,
        alertable: falertable != FALSE,
    }) {
        Ok(Reply::Count(n)) => n,
        Ok(other) => unreachable!("WSAWaitForMultipleEvents returned {other:?}"),
        Err(_) => WSA_WAIT_FAILED,
    }
}

/// `WSAEventSelect`: records the `FD_*` events in `lnetworkevents` and signals the event when
/// one happens; makes the socket non-blocking.
pub unsafe fn WSAEventSelect(s: SOCKET, heventobject: WSAEVENT, lnetworkevents: i32) -> i32 {
    status(call(Call::EventSelect {
        s: Socket::from_raw(s),
        event: EventHandle::from_raw(heventobject),
        mask: lnetworkevents,
    }))
}

/// `WSAEnumNetworkEvents`: the events recorded since the last call, with their error codes;
/// clears them and resets `heventobject` (if not 0). A failed call writes nothing and clears
/// nothing; a NULL `lpnetworkevents` fails `WSAEFAULT`.
///
/// # Divergence
/// An `heventobject` that is not an event of the process fails `WSAEINVAL`: what Windows
/// returns is not documented, and `WSAEINVAL` is the one of the page's errors
/// (`WSANOTINITIALISED`, `WSAENETDOWN`, `WSAEINVAL`, `WSAEINPROGRESS`, `WSAENOTSOCK`,
/// `WSAEFAULT`) that fits an invalid argument.
pub unsafe fn WSAEnumNetworkEvents(
    s: SOCKET,
    heventobject: WSAEVENT,
    lpnetworkevents: *mut WSANETWORKEVENTS,
) -> i32 {
    let mut out = (!lpnetworkevents.is_null()).then_some((0u32, [0i32; 10]));
    let event = (heventobject != 0).then(|| EventHandle::from_raw(heventobject));
    let r = call(Call::EnumNetworkEvents {
        s: Socket::from_raw(s),
        event,
        out: out.as_mut(),
    });
    if let (Ok(_), Some((bits, codes))) = (&r, out) {
        write_opt(
            lpnetworkevents,
            Some(WSANETWORKEVENTS {
                lNetworkEvents: bits as i32,
                iErrorCode: codes,
            }),
        );
    }
    status(r)
}

/// `select`: waits (in virtual time) until a socket of a set is ready or the timeout passes;
/// each set keeps only its ready sockets. `nfds` is ignored, as on Windows.
pub unsafe fn select(
    nfds: i32,
    readfds: *mut FD_SET,
    writefds: *mut FD_SET,
    exceptfds: *mut FD_SET,
    timeout: *const TIMEVAL,
) -> i32 {
    let _ = nfds;
    let load = |p: *mut FD_SET| {
        read_opt(p).map(|set| {
            let n = (set.fd_count as usize).min(set.fd_array.len());
            set.fd_array[..n]
                .iter()
                .map(|&s| Socket::from_raw(s))
                .collect::<Vec<_>>()
        })
    };
    let (mut r, mut w, mut e) = (load(readfds), load(writefds), load(exceptfds));
    let given = [r.clone(), w.clone(), e.clone()];
    let timeout = match read_opt(timeout) {
        None => Ok(None),
        Some(t) if t.tv_sec < 0 || t.tv_usec < 0 => Err(()),
        Some(t) => Ok(Some(
            std::time::Duration::from_secs(t.tv_sec as u64)
                + std::time::Duration::from_micros(t.tv_usec as u64),
        )),
    };
    let res = call(Call::Select {
        read: r.as_mut(),
        write: w.as_mut(),
        except: e.as_mut(),
        timeout,
    });
    // The sets the core changed are written back (on success, and when a failure empties
    // them: CS-7).
    for ((p, v), before) in [(readfds, r), (writefds, w), (exceptfds, e)]
        .into_iter()
        .zip(given)
    {
        if res.is_ok() || v != before {
            if let Some(v) = v {
                let mut set = FD_SET {
                    fd_count: v.len() as u32,
                    ..FD_SET::default()
                };
                for (slot, s) in set.fd_array.iter_mut().zip(v) {
                    *slot = s.raw();
                }
                write_opt(p, Some(set));
            }
        }
    }
    count(res)
}
