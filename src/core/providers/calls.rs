//! The built-in providers' socket lifecycle and option calls: WSPSocket, WSPCloseSocket,
//! WSPSetSockOpt, WSPGetSockOpt and WSPIoctl over the transport.

use crate::consts::*;
use crate::core::call::Reply;
use crate::core::catalog;
use crate::core::provider;
use crate::core::providers::accept_ex::Ex2;
use crate::core::providers::connect_ex::Ex3;
use crate::core::providers::duplicate::{Du1, Du1Outcome};
use crate::core::providers::net::Op6;
use crate::core::providers::socket::SocketState;
use crate::core::providers::{socket, sockopt};
use crate::core::rules::Rule;
use crate::core::transport::Proto;
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, ProcessId, Stop};
use crate::error::WsaError;

/// What [`Machine::cs_7`] is asked about.
#[derive(Debug)]
pub(in crate::core) enum Cs7<'a> {
    /// The calling thread closed this socket.
    Closed(Socket),
    /// A `select` made again after it waited: the sockets it reports so far per set (read,
    /// write, except) and those of each set that were closed while it waited.
    Select {
        /// The ready sockets per set.
        ready: &'a mut [Vec<Socket>; 3],
        /// The closed sockets per set.
        gone: [Vec<Socket>; 3],
    },
}

impl Machine {
    /// The built-in providers' `WSPSocket`: a fresh endpoint for a socket of `entry`.
    pub(in crate::core) fn open_socket(
        &mut self,
        cx: &mut Cx,
        entry: catalog::ProtocolInfo,
        chain: Vec<provider::ProviderIdx>,
    ) -> Result<Reply, Stop> {
        let proto = if entry.is_connectionless() {
            Proto::Datagram
        } else {
            Proto::Stream
        };
        let host = self.process(cx.process).host();
        let bufs = (
            socket::DEFAULT_BUFFER_SIZE as usize,
            socket::DEFAULT_BUFFER_SIZE as usize,
        );
        let disc = entry.has_disconnect_data();
        let ep = self.transport.create(host, proto, disc, cx.process, bufs);
        let (process, generations) = self.process_and_generations(cx.process);
        match process.open_socket(generations, entry, chain, ep) {
            Ok(s) => {
                self.transport.ep_mut(ep).socket = Some(s);
                Ok(Reply::Socket(s))
            }
            Err(e) => {
                self.transport.detach(self.now, ep);
                Err(e.into())
            }
        }
    }

    /// The built-in providers' `WSPCloseSocket`: CS-6, the network half (CS-2..CS-5), CS-7.
    ///
    /// Ws2_32 has checked the handle (CS-1); a bad one passed down by a layered provider fails
    /// `WSAENOTSOCK` in `close_network` (ER-2).
    pub(in crate::core) fn close_socket(&mut self, cx: &mut Cx, s: Socket) -> Result<Reply, Stop> {
        let pid = cx.process;
        let pending = self.overlapped.pending_of(pid) > 0;
        if pending && self.abort_ops(|p, s2| p == pid && s2 == s, true) {
            // CS-6: pending operations fail and their completion action IS performed.
            cx.rule(Rule::Cs6);
        }
        let endpoint = self.process_mut(pid).socket_mut(cx, s)?.endpoint;
        let release = Du1::Release {
            process: pid,
            s,
            endpoint,
        };
        if self.du_1(cx, release)? == Du1Outcome::Last {
            self.close_network(cx, s)?;
        }
        self.process_mut(cx.process).remove_socket(s);
        self.cs_7(cx, Cs7::Closed(s))?;
        Machine::cs_1(cx, Ok(()))?;
        Ok(Reply::Done)
    }

    /// The built-in providers' `WSPSetSockOpt`.
    pub(in crate::core) fn set_sock_opt(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        (level, name): (i32, i32),
        value: Option<&[u8]>,
        len: i32,
    ) -> Result<(), Stop> {
        match (level, name) {
            (SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT) => {
                let what = Ex2::UpdateContext { s, value, len };
                return self.ex_2(cx, what).map(drop);
            }
            (SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT) => {
                return self.ex_3(cx, Ex3::UpdateContext(s)).map(drop);
            }
            _ => {}
        }
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        sockopt::set(cx, st, level, name, value, len)?;
        // The transport uses the buffer sizes.
        let (ep, snd, rcv) = (st.endpoint, st.option(SO_SNDBUF), st.option(SO_RCVBUF));
        let e = self.transport.ep_mut(ep);
        e.sndbuf = snd as usize;
        e.rcvbuf = rcv as usize;
        if let Some(peer) = e.peer {
            self.transport.pump(self.now, peer);
        }
        Ok(())
    }

    /// The built-in providers' `WSPGetSockOpt`.
    pub(in crate::core) fn get_sock_opt(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        (level, name): (i32, i32),
        value: Option<&mut [u8]>,
        len: Option<&mut i32>,
    ) -> Result<(), Stop> {
        let ep = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
        let e = self.transport.ep(ep);
        let failed = e.failure().filter(|_| !e.error_reported);
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        if let Some(e) = failed {
            // SO_ERROR reports why the last connect failed, until it is read (OP-6).
            st.set_option(SO_ERROR, e.code() as u32);
        }
        sockopt::get(cx, st, level, name, value, len)?;
        if (level, name) == (SOL_SOCKET, SO_ERROR) {
            self.op_6(cx, Op6::ErrorRead(s))?;
        }
        Ok(())
    }

    /// The built-in providers' `ioctlsocket` commands.
    pub(in crate::core) fn ioctl(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        cmd: i32,
        arg: Option<&mut u32>,
    ) -> Result<(), Stop> {
        let ep = self.process_mut(cx.process).socket_mut(cx, s)?.endpoint;
        let readable = self.transport.ep(ep).readable_bytes();
        let st = self.process_mut(cx.process).socket_mut(cx, s)?;
        st.ioctl(cmd, arg, readable)?;
        Ok(())
    }

    /// Frees the endpoint of a socket that is going away without closesocket: reset, or closed
    /// as closesocket would without waiting (linger 0 resets; anything else is graceful).
    pub(in crate::core) fn release_socket(
        &mut self,
        (process, s): (ProcessId, Socket),
        st: &SocketState,
        reset: bool,
        rule: Rule,
    ) {
        let (ep, now) = (st.endpoint, self.now);
        if self.release_handle(process, s, ep) == Du1Outcome::StillShared {
            return; // DU-1: another process's handle keeps the socket.
        }
        let abortive = reset || (st.linger.is_on() && st.linger.seconds == 0);
        let e = self.transport.ep(ep);
        let connected = e.proto == Proto::Stream && e.is_connected();
        if connected && abortive {
            self.transport
                .abort(now, ep, rule, "socket reset by cleanup or exit");
        } else if connected {
            self.transport.shut_send(now, ep, None);
        }
        self.transport.detach(now, ep);
    }

    /// CS-7, the one place it is decided: what a `closesocket` does to the calls of other
    /// threads waiting on the socket.
    ///
    /// [`Cs7::Closed`]: the blocking calls on the socket in other threads of the process are
    /// interrupted and return `WSAEINTR` (accept: `INVALID_SOCKET`). A `select` waits on no
    /// one socket: the harness makes every waiting call again once something changed, and
    /// [`Cs7::Select`] is that `select` finding sockets of its sets closed (win: test_select).
    /// It then returns at once: a closed socket it watched for reading is reported readable
    /// (it stays in readfds); one watched for writing but not reading stays in writefds (sim:
    /// Windows was observed with the read set only); one that was only in exceptfds is not
    /// reported, and when nothing at all is reported `select` fails `WSAENOTSOCK` with every
    /// set it was given emptied.
    pub(in crate::core) fn cs_7(&mut self, cx: &mut Cx, case: Cs7<'_>) -> Result<(), WsaError> {
        match case {
            Cs7::Closed(s) => {
                let (p, me) = (cx.process, cx.thread);
                self.threads.interrupt(cx, Rule::Cs7, |t, b| {
                    b.process == p && b.socket == Some(s) && t != me
                });
                Ok(())
            }
            Cs7::Select { ready, gone } => {
                if gone.iter().all(Vec::is_empty) {
                    return Ok(());
                }
                cx.rule(Rule::Cs7);
                let [read, write, _] = gone;
                for s in read {
                    if !ready[0].contains(&s) {
                        ready[0].push(s);
                    }
                }
                for s in write {
                    if !ready[0].contains(&s) && !ready[1].contains(&s) {
                        ready[1].push(s);
                    }
                }
                if ready.iter().all(Vec::is_empty) {
                    return Err(WsaError::NotSocket);
                }
                Ok(())
            }
        }
    }

    /// CS-1, the one place it is decided: `closesocket` on an unknown or closed handle fails
    /// `WSAENOTSOCK` before any provider sees it, and a closed socket's handle dies for good
    /// (the socket table's generations never hand it out again).
    pub(in crate::core) fn cs_1(cx: &mut Cx, what: Result<(), WsaError>) -> Result<(), WsaError> {
        cx.rule(Rule::Cs1);
        what
    }
}
