//! What the core knows of threads: which are in a blocking call (so a final cleanup, a
//! closesocket or WSACancelBlockingCall can interrupt it), Winsock 1.1 blocking hooks, and
//! misuse diagnostics.

use std::collections::BTreeMap;

use crate::core::call::{Hook, HookChange, Spec};
use crate::core::rules::Rule;
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, ProcessId, Reply, Stop, ThreadId, World};
use crate::error::WsaError;

/// A thread's outstanding blocking call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedCall {
    /// The thread's process.
    pub process: ProcessId,
    /// The socket the call waits on, if one.
    pub socket: Option<Socket>,
    /// Whose call it is: only Winsock's are cancelled by a final `WSACleanup` (CL-4); a
    /// kernel32 wait (`GetQueuedCompletionStatus`, `WaitForSingleObject`, ...) goes on.
    pub family: crate::core::call::Family,
}

/// What [`World::th_5`] is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Hooked {
    /// `WSASetBlockingHook` or `WSAUnhookBlockingHook` is called.
    Api,
    /// A call is made; `nested` when the thread's blocking call is outstanding.
    Call {
        /// The call's row of the call table.
        spec: Spec,
        /// The thread's blocking call is in progress.
        nested: bool,
    },
}

/// A misuse the simulator detected: Windows would deadlock or behave in an undefined way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule that names the misuse (CL-12, SD-13).
    pub rule: Rule,
    /// The process.
    pub process: ProcessId,
    /// The thread.
    pub thread: ThreadId,
    /// What happened.
    pub message: String,
}

/// The threads in a blocking call and the cancellations waiting for them: the core's side of
/// "blocked" (the harness parks the thread; this says why and on what).
#[derive(Debug, Default)]
pub struct Threads {
    blocked: BTreeMap<ThreadId, BlockedCall>,
    interrupts: BTreeMap<ThreadId, Rule>,
}

impl Threads {
    /// True when `thread` is in a blocking call (WSAIsBlocking).
    pub fn is_blocking(&self, thread: ThreadId) -> bool {
        self.blocked.contains_key(&thread)
    }

    /// The socket `thread`'s blocking call waits on, if it waits on one.
    pub fn blocked_on(&self, thread: ThreadId) -> Option<Socket> {
        self.blocked.get(&thread).and_then(|b| b.socket)
    }

    /// True when the call is being made again after it blocked waiting on socket `s`.
    ///
    /// A call through a layered provider may touch several sockets, or the same socket more
    /// than once; only the provider call that blocked is a resumption (the others are fresh).
    pub fn resumed_on(&self, cx: &Cx, s: Socket) -> bool {
        cx.resumed && self.blocked_on(cx.thread) == Some(s)
    }

    /// Records `thread`'s blocking call.
    pub(in crate::core) fn block(&mut self, thread: ThreadId, call: BlockedCall) {
        self.blocked.insert(thread, call);
    }

    /// Forgets `thread`'s blocking call: it completed, or the harness ended the wait.
    pub fn unblock(&mut self, thread: ThreadId) {
        self.blocked.remove(&thread);
    }

    /// The cancellation waiting for `thread`'s blocking call, taken.
    pub(in crate::core) fn take_interrupt(&mut self, thread: ThreadId) -> Option<Rule> {
        self.interrupts.remove(&thread)
    }

    /// Interrupts the blocking calls of other threads that `pick` selects: they return
    /// `WSAEINTR` (CL-4, CS-7, CL-13) without any notification or event.
    pub(in crate::core) fn interrupt(
        &mut self,
        cx: &mut Cx,
        rule: Rule,
        pick: impl Fn(ThreadId, &BlockedCall) -> bool,
    ) {
        let chosen: Vec<ThreadId> = self
            .blocked
            .iter()
            .filter(|(t, b)| pick(**t, b))
            .map(|(t, _)| *t)
            .collect();
        if !chosen.is_empty() {
            cx.rule(rule);
        }
        for t in chosen {
            // The first cancellation is the one the call reports.
            self.interrupts.entry(t).or_insert(rule);
        }
    }

    /// Cancels `thread`'s own blocking call for `rule` (WSACancelBlockingCall).
    fn cancel_own(&mut self, thread: ThreadId, rule: Rule) {
        self.interrupts.insert(thread, rule);
    }

    /// Forgets the threads of an ended process.
    pub(in crate::core) fn forget(&mut self, p: ProcessId) {
        self.blocked.retain(|_, b| b.process != p);
        let live: Vec<ThreadId> = self.blocked.keys().copied().collect();
        self.interrupts.retain(|t, _| live.contains(t));
    }
}

impl World {
    /// True when `thread` is in a blocking call (WSAIsBlocking).
    pub fn is_blocking(&self, thread: ThreadId) -> bool {
        self.threads.is_blocking(thread)
    }

    /// Forgets `thread`'s blocking call: the harness ended the wait (an alertable wait that ran
    /// APCs).
    pub fn unblock(&mut self, thread: ThreadId) {
        self.threads.unblock(thread);
    }

    /// TH-5: the blocking hook installed for `thread`, when its process runs Winsock 1.1.
    pub fn blocking_hook(&self, process: ProcessId, thread: ThreadId) -> Option<Hook> {
        let p = self.process(process);
        if !p.version().is_some_and(|v| v.is_1x()) {
            return None;
        }
        p.blocking_hook(thread)
    }

    /// Records a misuse diagnostic.
    pub(in crate::core) fn diagnose(&mut self, cx: &mut Cx, rule: Rule, message: String) {
        cx.rule(rule);
        self.diagnostics.push(Diagnostic {
            rule,
            process: cx.process,
            thread: cx.thread,
            message,
        });
    }

    /// CL-10: records what a provider's callback tried that the harness could not do there
    /// (wait, sleep) as a diagnostic of the call it interrupted.
    pub fn misuse(&mut self, cx: &mut Cx, message: String) {
        self.diagnose(cx, Rule::Cl10, message);
    }

    /// The diagnostics recorded since the last call.
    pub fn take_diagnostics(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diagnostics)
    }

    /// Forgets the threads of an ended process.
    pub(in crate::core) fn forget_threads(&mut self, p: ProcessId) {
        self.threads.forget(p);
    }

    /// TH-5 and CL-10, the one place they are decided.
    ///
    /// TH-5: the blocking-hook functions exist under Winsock 1.1 only (`WSAEOPNOTSUPP` under
    /// 2.x); under 1.1 a thread has one blocking call outstanding, and its blocking hook may
    /// make only the calls the call table allows ([`Spec::in_blocking_hook`]): any other
    /// fails `WSAEINPROGRESS`. CL-10: so does `WSACleanup` from the hook, and from inside a
    /// completion routine or callback the simulator is running.
    pub(in crate::core) fn th_5(&self, cx: &mut Cx, what: Hooked) -> Result<(), WsaError> {
        match what {
            Hooked::Api => {
                cx.rule(Rule::Th5);
                if self.winsock_1(cx.process) {
                    Ok(())
                } else {
                    Err(WsaError::OperationNotSupported)
                }
            }
            Hooked::Call { spec, nested } => {
                let from_hook = nested && !spec.in_blocking_hook && self.winsock_1(cx.process);
                let from_callback = spec.cleans_up && cx.in_callback;
                if from_hook {
                    cx.rule(Rule::Th5);
                }
                if spec.cleans_up && (from_hook || from_callback) {
                    cx.rule(Rule::Cl10);
                }
                if from_hook || from_callback {
                    Err(WsaError::InProgress)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// `WSASetBlockingHook` / `WSAUnhookBlockingHook` (TH-5): Winsock 1.1 only
    /// (`WSAEOPNOTSUPP` under 2.x). Returns the previous hook (0: the default).
    pub(in crate::core) fn set_blocking_hook(
        &mut self,
        cx: &mut Cx,
        change: HookChange,
    ) -> Result<Reply, Stop> {
        self.th_5(cx, Hooked::Api)?;
        let hook = match change {
            // A NULL lpBlockFunc.
            HookChange::Set(None) => crate::core::er_3_pointers(cx, Err(WsaError::Fault))?,
            HookChange::Set(Some(hook)) => Some(hook),
            HookChange::Unhook => None,
        };
        let thread = cx.thread;
        let previous = self.process_mut(cx.process).set_blocking_hook(thread, hook);
        Ok(Reply::Hook(previous.map_or(0, |h| h.id)))
    }
}

impl Machine {
    /// Whether Winsock 1.1 behaviour governs process `p`: the one place this is asked, by
    /// the lowest version negotiated by a live startup (ST-5).
    pub(in crate::core) fn winsock_1(&self, p: ProcessId) -> bool {
        self.process(p).version().is_some_and(|v| v.is_1x())
    }

    /// `WSACancelBlockingCall` (CL-13): Winsock 2 removed it (`WSAEOPNOTSUPP`); under 1.1 it
    /// cancels the calling thread's blocking call, which then fails `WSAEINTR`; with none in
    /// progress it fails `WSAEINVAL`.
    pub(in crate::core) fn cancel_blocking_call(&mut self, cx: &mut Cx) -> Result<Reply, Stop> {
        cx.rule(Rule::Cl13);
        if !self.winsock_1(cx.process) {
            return Err(WsaError::OperationNotSupported.into());
        }
        if !self.threads.is_blocking(cx.thread) {
            return Err(WsaError::InvalidArgument.into());
        }
        self.threads.cancel_own(cx.thread, Rule::Cl13);
        Ok(Reply::Done)
    }
}
