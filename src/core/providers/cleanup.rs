//! The base provider's final cleanup (SP-4), the one path for what the last `WSPCleanup` does
//! to the provider's sockets: their overlapped operations fail silently (CL-5), blocking
//! calls on them are interrupted (CL-4), and the sockets still open are reset and freed
//! (CL-6). `WSACleanup` reaches it through each loaded provider's `WSPCleanup`; Ws2_32 uses
//! [`Machine::cl_6_release`] again only for sockets a provider left behind.

use crate::core::provider::ProviderIdx;
use crate::core::rules::Rule;
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, ProcessId, Profile};

impl Machine {
    /// SP-4 (a built-in provider's final cleanup): pending overlapped operations on its
    /// sockets fail silently (CL-5); its open sockets are reset and freed (CL-6).
    pub(in crate::core) fn reset_provider_sockets(&mut self, cx: &mut Cx, idx: ProviderIdx) {
        cx.rule(Rule::Sp4);
        let pid = cx.process;
        let sockets = self.provider_sockets(pid, idx, true);
        // Looked up once per pending operation and blocked thread: a set keeps the final
        // cleanup O((sockets + operations) log sockets).
        let set: std::collections::BTreeSet<Socket> = sockets.iter().copied().collect();
        if self.abort_ops(|p, s| p == pid && set.contains(&s), false) {
            cx.rule(Rule::Cl5); // No event, no routine, no packet.
        }
        let open: Vec<_> = sockets
            .iter()
            .filter_map(|&s| self.process_mut(pid).remove_socket(s).map(|st| (s, st)))
            .collect();
        self.cl_6_release(cx, open);
        // SP-4 → CL-4: blocking calls on those sockets in other threads return WSAEINTR.
        let me = cx.thread;
        self.threads.interrupt(cx, Rule::Sp4, |t, b| {
            b.process == pid && t != me && b.socket.is_some_and(|s| set.contains(&s))
        });
    }

    /// CL-6, the one place it is decided: the sockets a final cleanup finds open are reset
    /// and freed as if closesocket were called. *(profile)* Documented resets every open
    /// connection; Windows closes each as closesocket would with its linger setting, without
    /// waiting.
    pub(in crate::core) fn cl_6_release(
        &mut self,
        cx: &mut Cx,
        open: Vec<(Socket, crate::core::providers::socket::SocketState)>,
    ) {
        if open.is_empty() {
            return;
        }
        cx.rule(Rule::Cl6);
        let reset = self.profile == Profile::Documented;
        for (s, st) in open {
            self.release_socket((cx.process, s), &st, reset, Rule::Cl6);
        }
    }

    /// The open sockets of `p` whose chain has `idx` (at its base when `base_only`).
    pub(in crate::core) fn provider_sockets(
        &self,
        p: ProcessId,
        idx: ProviderIdx,
        base_only: bool,
    ) -> Vec<Socket> {
        let process = self.process(p);
        process
            .socket_keys()
            .into_iter()
            .filter(|s| {
                process.socket_chain(*s).is_some_and(|c| {
                    if base_only {
                        c.last() == Some(&idx)
                    } else {
                        c.contains(&idx)
                    }
                })
            })
            .collect()
    }
}
