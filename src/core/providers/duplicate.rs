//! Sockets shared between processes (DU-1): `WSADuplicateSocketW` hands out a token for a
//! target process, and a `WSASocketW(FROM_PROTOCOL_INFO, &info)` there that names it opens a
//! second handle to the same socket: the same endpoint, connection and data.
//!
//! This module keeps the handles of shared endpoints and decides when closing a handle
//! closes the socket: only the last handle's close reaches the network. It does not copy
//! state between the handles: each row (options, events, overlapped operations) is its own
//! process's, and network events are reported to the handle the endpoint names, the first
//! one still open.

use std::collections::BTreeMap;

use crate::core::providers::socket::SocketState;
use crate::core::rules::Rule;
use crate::core::transport::EndpointId;
use crate::core::ws2::process::Life;
use crate::core::ws2::table::Socket;
use crate::core::{Cx, Machine, ProcessId};
use crate::error::WsaError;

/// The marker of a duplication token in `dwProviderReserved`; the low bits count.
const TOKEN_TAG: u32 = 0x5D00_0000;

/// A socket duplicated for a process that has not opened it yet.
#[derive(Debug, Clone)]
struct Offer {
    /// The process that may open it.
    target: ProcessId,
    /// The shared endpoint.
    endpoint: EndpointId,
    /// The row the new handle starts from (its options and linger).
    template: SocketState,
}

/// The duplication state of a simulation.
#[derive(Debug, Default)]
pub struct Duplicates {
    next: u32,
    /// Tokens handed out and not yet used.
    offers: BTreeMap<u32, Offer>,
    /// The open handles of each endpoint that has more than one, oldest first.
    handles: BTreeMap<EndpointId, Vec<(ProcessId, Socket)>>,
}

/// What [`Machine::du_1`] is asked about.
#[derive(Debug)]
pub(in crate::core) enum Du1 {
    /// `WSADuplicateSocketW(s, target, ..)`: the token for the `WSAPROTOCOL_INFOW`.
    Duplicate {
        /// The socket.
        s: Socket,
        /// `dwProcessId`.
        target: u32,
    },
    /// `WSASocketW` in the calling process with a `WSAPROTOCOL_INFOW` whose
    /// `dwProviderReserved` is `token`.
    Open {
        /// The token.
        token: u32,
    },
    /// A handle of `process` goes away (closesocket, a final cleanup, the process's end).
    Release {
        /// Its process.
        process: ProcessId,
        /// The handle.
        s: Socket,
        /// Its endpoint.
        endpoint: EndpointId,
    },
}

/// What [`Machine::du_1`] answers.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::core) enum Du1Outcome {
    /// [`Du1::Duplicate`]: the token.
    Token(u32),
    /// [`Du1::Open`]: the new handle.
    Opened(Socket),
    /// [`Du1::Open`] with a value that is no token: an ordinary socket is created.
    NotAToken,
    /// [`Du1::Release`]: other handles remain; the network is left alone.
    StillShared,
    /// [`Du1::Release`]: it was the last handle; close the socket as usual.
    Last,
}

impl Machine {
    /// DU-1, the one place it is decided.
    ///
    /// [`Du1::Duplicate`]: a target process id that names no running process fails
    /// `WSAEINVAL`; otherwise a token is recorded for it (each use of `WSADuplicateSocketW`
    /// gives a new one, usable once).
    ///
    /// [`Du1::Open`]: a token issued for the calling process opens a new handle to the same
    /// socket, starting from the duplicated socket's options; a token issued for another
    /// process, or one already used, fails `WSAEINVAL`. A `dwProviderReserved` that is no
    /// token makes an ordinary socket.
    ///
    /// [`Du1::Release`]: closing one handle of a shared socket only removes that handle; the
    /// connection is closed (as `closesocket` or the final cleanup closes it) only when its
    /// last handle goes (win). A process's final `WSACleanup` therefore destroys its own
    /// handles, duplicates included, and no other process's.
    ///
    /// # Divergence
    /// On Windows the duplicate exists from the moment `WSADuplicateSocketW` returns, so the
    /// source may close its handle before the target opens its own. Here the offer is not a
    /// handle: once the socket's last open handle is closed, an unused `WSAPROTOCOL_INFOW`
    /// lapses and `WSASocketW` with it fails `WSAEINVAL` (sim). Open the duplicate first.
    pub(in crate::core) fn du_1(&mut self, cx: &mut Cx, what: Du1) -> Result<Du1Outcome, WsaError> {
        match what {
            Du1::Duplicate { s, target } => {
                cx.rule(Rule::Du1);
                self.offer(cx, s, ProcessId(target)).map(Du1Outcome::Token)
            }
            Du1::Open { token } => {
                if token & 0xFF00_0000 != TOKEN_TAG {
                    return Ok(Du1Outcome::NotAToken);
                }
                cx.rule(Rule::Du1);
                self.open_offer(cx, token).map(Du1Outcome::Opened)
            }
            Du1::Release {
                process,
                s,
                endpoint,
            } => {
                let outcome = self.release_handle(process, s, endpoint);
                if outcome == Du1Outcome::StillShared {
                    cx.rule(Rule::Du1);
                }
                Ok(outcome)
            }
        }
    }

    /// [`Du1::Duplicate`]'s work: a token for `target`, if it is a running process.
    fn offer(&mut self, cx: &mut Cx, s: Socket, target: ProcessId) -> Result<u32, WsaError> {
        let running = (1..=self.process_count() as u32).contains(&target.0)
            && self.process(target).life() == Life::Running;
        let template = self.process_mut(cx.process).socket_mut(cx, s)?.clone();
        if !running {
            return Err(WsaError::InvalidArgument);
        }
        let d = &mut self.duplicates;
        d.next = (d.next + 1) & 0x00FF_FFFF;
        let token = TOKEN_TAG | d.next;
        let offer = Offer {
            target,
            endpoint: template.endpoint,
            template,
        };
        d.offers.insert(token, offer);
        Ok(token)
    }

    /// [`Du1::Open`]'s work: the new handle for a token issued to the calling process.
    fn open_offer(&mut self, cx: &mut Cx, token: u32) -> Result<Socket, WsaError> {
        let offer = match self.duplicates.offers.get(&token) {
            Some(o) if o.target == cx.process => {
                self.duplicates.offers.remove(&token).expect("just found")
            }
            Some(_) | None => return Err(WsaError::InvalidArgument),
        };
        let (process, generations) = self.process_and_generations(cx.process);
        let new = process.adopt_socket(generations, offer.template.clone(), offer.endpoint)?;
        if let Some(row) = self.process_mut(cx.process).row_mut(new) {
            // adopt_socket resets what accept's sockets do not inherit; a duplicate keeps
            // the socket's options.
            row.listening = offer.template.listening;
            row.port = None;
        }
        let list = self.duplicates.handles.entry(offer.endpoint).or_default();
        if list.is_empty() {
            if let Some(owner) = self.transport.get(offer.endpoint).and_then(|e| e.socket) {
                list.push((self.transport.ep(offer.endpoint).origin, owner));
            }
        }
        list.push((cx.process, new));
        Ok(new)
    }

    /// [`Du1::Release`]'s work, also for the handles a final cleanup or the process's end
    /// takes, which have no call to tag.
    pub(in crate::core) fn release_handle(
        &mut self,
        process: ProcessId,
        s: Socket,
        endpoint: EndpointId,
    ) -> Du1Outcome {
        let d = &mut self.duplicates;
        let Some(list) = d.handles.get_mut(&endpoint) else {
            // The last handle: what was offered of it lapses (see the divergence).
            d.offers.retain(|_, o| o.endpoint != endpoint);
            return Du1Outcome::Last;
        };
        list.retain(|h| *h != (process, s));
        if list.is_empty() {
            d.handles.remove(&endpoint);
            d.offers.retain(|_, o| o.endpoint != endpoint);
            return Du1Outcome::Last;
        }
        // The endpoint now answers to the oldest handle left.
        let (p, owner) = list[0];
        if list.len() == 1 {
            d.handles.remove(&endpoint);
        }
        let ep = self.transport.ep_mut(endpoint);
        ep.socket = Some(owner);
        ep.origin = p;
        Du1Outcome::StillShared
    }
}
