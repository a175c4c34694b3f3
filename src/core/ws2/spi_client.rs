//! Ws2_32 as the SPI client: the provider registry, lazy loading (SP-1), per-provider
//! per-process startup counts (SP-2), the final cleanup's unloading (SP-4..SP-6), data held in
//! the process at unload (SP-7) and the checks of each provider's side of the contract.

use std::collections::BTreeMap;

use crate::consts::{LAYERED_PROTOCOL, MAX_PROTOCOL_CHAIN, PFL_HIDDEN};
use crate::core::catalog::{ProtocolChain, ProtocolInfo};
use crate::core::overlapped::ResultArgs;
use crate::core::provider::{
    Instance, Negotiated, Protocol, Provider, ProviderIdx, Registered, Spi,
};
use crate::core::providers::net::RecvArgs;
use crate::core::rules::Rule;
use crate::core::ws2::table::Socket;
use crate::core::ws2::version::Version;
use crate::core::{Cx, Machine, ProcessId, Stop, World};
use crate::error::WsaError;

/// The SPI version Ws2_32 asks every provider for (Windows' Ws2_32 asks for 2.2).
pub const SPI_VERSION: Version = Version::new(2, 2);

/// Why a provider cannot join the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// It serves no protocol.
    #[error("provider {0} serves no protocol")]
    NoProtocols(String),
    /// It declares a base protocol: ws2sim's transport is reached through the built-in base
    /// providers, so a user provider layers over one of them.
    #[error("provider {0} declares a base protocol; user providers are layered over a built-in base provider (see spi::TCP_ENTRY)")]
    BaseProtocol(String),
    /// A layered protocol names a catalog entry that does not exist (yet).
    #[error("provider {name} layers over catalog entry {over}, which is not in the catalog")]
    UnknownEntry {
        /// The provider.
        name: String,
        /// The entry it named.
        over: u32,
    },
    /// The chain would be longer than `MAX_PROTOCOL_CHAIN` (7).
    #[error("provider {0}: the protocol chain would be longer than 7")]
    ChainTooLong(String),
    /// Another provider has the same provider id.
    #[error("provider {0}: another provider has the same provider id")]
    DuplicateId(String),
    /// Its SPI versions are inverted.
    #[error("provider {0}: its lowest SPI version is above its highest")]
    Versions(String),
}

/// What Ws2_32 knows of one process's instance of one provider.
#[derive(Debug)]
pub(crate) struct Slot {
    instance: Instance,
    /// The provider's count as the contract makes it: successful `WSPStartup`s minus
    /// successful `WSPCleanup`s, whoever made them.
    expected: u32,
    /// True once a final `WSPCleanup` succeeded: SP-9 watches the next `WSPStartup`.
    cleaned: bool,
    /// Bytes the provider held at a final cleanup, already recorded as lost (SP-7): the
    /// instance outlives the cleanup, and the same bytes must not be lost twice.
    written_off: usize,
}

/// The registry and every process's provider instances.
#[derive(Debug, Default)]
pub(crate) struct Providers {
    registry: Vec<Registered>,
    slots: BTreeMap<(ProcessId, ProviderIdx), Slot>,
    /// Catalog entry id → the provider serving it (layered entries included).
    entry_provider: BTreeMap<u32, ProviderIdx>,
    /// Final cleanups in progress: the providers each still has to unload, in order.
    unloading: BTreeMap<ProcessId, Vec<ProviderIdx>>,
}

impl Providers {
    /// Calls a method of the provider at `chain[depth]` in the caller's process, on
    /// `machine`.
    ///
    /// The instance is taken out of its slot for the call and put back after, so a provider
    /// reaches the simulation only through its [`Spi`]. A provider that is not loaded, or
    /// already running (a chain naming one provider twice), fails `WSAEINVALIDPROVIDER`.
    pub(crate) fn call<R>(
        &mut self,
        machine: &mut Machine,
        cx: &mut Cx,
        chain: Vec<ProviderIdx>,
        depth: usize,
        f: impl FnOnce(&mut dyn Provider, &mut Spi<'_>) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        let key = (cx.process, chain[depth]);
        let Some(mut p) = self.slots.get_mut(&key).and_then(|s| s.instance.0.take()) else {
            return Err(WsaError::InvalidProvider.into());
        };
        let r = f(p.as_mut(), &mut Spi::new(machine, self, cx, chain, depth));
        if let Some(slot) = self.slots.get_mut(&key) {
            slot.instance.0 = Some(p);
        }
        r
    }
}

impl World {
    /// Adds a provider to the registry and its protocols to the catalog (after every entry
    /// already there).
    pub(crate) fn add_provider(&mut self, r: Registered) -> Result<(), ProviderError> {
        self.check_registration(&r.info)?;
        let info = &r.info;
        let name = info.name.clone();
        let idx = ProviderIdx(self.providers.registry.len());
        let builtin = self.providers.registry.len() < crate::core::providers::BUILTIN_PROVIDERS;
        let mut entries = Vec::new();
        let mut next_id = self
            .catalog
            .entries()
            .iter()
            .map(|e| e.catalog_entry_id)
            .max()
            .unwrap_or(1000)
            + 1;
        // A layered provider's own LAYERED_PROTOCOL entry: hidden, chain length 0.
        let layer_id = next_id;
        let mut layer_entry = None;
        for p in &info.protocols {
            match p {
                Protocol::Base(e) if builtin => entries.push(e.clone()),
                Protocol::Base(_) => return Err(ProviderError::BaseProtocol(name)),
                Protocol::Layered { over, name: proto } => {
                    let (below, below_len) = self.below(&entries, &name, *over)?;
                    if layer_entry.is_none() {
                        next_id += 1;
                        layer_entry = Some(Self::layer_entry(info, &below, layer_id));
                    }
                    let mut chain = [0; MAX_PROTOCOL_CHAIN as usize];
                    chain[0] = layer_id;
                    chain[1..=below_len].copy_from_slice(&below.chain.entries[..below_len]);
                    entries.push(ProtocolInfo {
                        provider_id: info.id,
                        catalog_entry_id: next_id,
                        chain: ProtocolChain {
                            len: (below_len + 1) as i32,
                            entries: chain,
                        },
                        name: proto.clone(),
                        ..below
                    });
                    next_id += 1;
                }
            }
        }
        if let Some(layer) = layer_entry {
            entries.insert(0, layer);
        }
        for e in entries {
            self.providers
                .entry_provider
                .insert(e.catalog_entry_id, idx);
            self.catalog.push(e);
        }
        self.providers.registry.push(r);
        Ok(())
    }

    /// The entry a layered protocol sits on: catalog entry `over` (registered before, or
    /// earlier in `entries`, the provider's own), with the chain length it has. Its chain plus
    /// the layer must fit `MAX_PROTOCOL_CHAIN`.
    fn below(
        &self,
        entries: &[ProtocolInfo],
        name: &str,
        over: u32,
    ) -> Result<(ProtocolInfo, usize), ProviderError> {
        let below = self
            .catalog
            .entries()
            .iter()
            .chain(entries)
            .find(|e| e.catalog_entry_id == over && e.chain.len >= 1)
            .cloned()
            .ok_or(ProviderError::UnknownEntry {
                name: name.to_owned(),
                over,
            })?;
        let below_len = below.chain.len as usize;
        if below_len + 1 > MAX_PROTOCOL_CHAIN as usize {
            return Err(ProviderError::ChainTooLong(name.to_owned()));
        }
        Ok((below, below_len))
    }

    /// A layered provider's own LAYERED_PROTOCOL entry: hidden, chain length 0, otherwise
    /// like the first entry it layers over.
    fn layer_entry(
        info: &crate::core::provider::ProviderInfo,
        below: &ProtocolInfo,
        layer_id: u32,
    ) -> ProtocolInfo {
        ProtocolInfo {
            provider_id: info.id,
            catalog_entry_id: layer_id,
            chain: ProtocolChain {
                len: LAYERED_PROTOCOL as i32,
                entries: [0; MAX_PROTOCOL_CHAIN as usize],
            },
            provider_flags: below.provider_flags | PFL_HIDDEN,
            name: info.name.clone(),
            ..below.clone()
        }
    }

    /// What a provider's descriptor must be before it joins the catalog: some protocols, a
    /// version range, an id of its own.
    fn check_registration(
        &self,
        info: &crate::core::provider::ProviderInfo,
    ) -> Result<(), ProviderError> {
        let name = || info.name.clone();
        if info.protocols.is_empty() {
            return Err(ProviderError::NoProtocols(name()));
        }
        if info.lowest > info.highest {
            return Err(ProviderError::Versions(name()));
        }
        if self.providers.registry.iter().any(|o| o.info.id == info.id) {
            return Err(ProviderError::DuplicateId(name()));
        }
        Ok(())
    }

    /// The provider with id `id`.
    fn provider_by_id(&self, id: crate::core::catalog::Guid) -> Option<ProviderIdx> {
        self.providers
            .registry
            .iter()
            .position(|r| r.info.id == id)
            .map(ProviderIdx)
    }

    /// A registered provider's descriptor.
    pub(crate) fn provider_info(&self, idx: ProviderIdx) -> &crate::core::provider::ProviderInfo {
        &self.providers.registry[idx.0].info
    }

    /// The providers of an entry's protocol chain, top first.
    pub(in crate::core) fn chain_of(
        &self,
        entry: &ProtocolInfo,
    ) -> Result<Vec<ProviderIdx>, WsaError> {
        let ids: &[u32] = match entry.chain.len {
            1 => std::slice::from_ref(&entry.catalog_entry_id),
            n @ 2.. if n <= MAX_PROTOCOL_CHAIN as i32 => &entry.chain.entries[..n as usize],
            _ => return Err(WsaError::InvalidProvider),
        };
        ids.iter()
            .map(|id| {
                self.providers
                    .entry_provider
                    .get(id)
                    .copied()
                    .ok_or(WsaError::InvalidProvider)
            })
            .collect()
    }

    /// Makes sure `process` has an instance of `idx` (its DLL is in memory).
    fn ensure_instance(&mut self, process: ProcessId, idx: ProviderIdx) {
        let make = &self.providers.registry[idx.0].make;
        self.providers
            .slots
            .entry((process, idx))
            .or_insert_with(|| Slot {
                instance: Instance(Some(make())),
                expected: 0,
                cleaned: false,
                written_off: 0,
            });
    }

    /// Calls a method of the provider at `chain[depth]` in the caller's process.
    ///
    /// The instance is taken out of its slot for the call and put back after, so a provider
    /// reaches the world only through its [`Spi`]. A provider that is not loaded, or already
    /// running (a chain naming one provider twice), fails `WSAEINVALIDPROVIDER`.
    pub(crate) fn call_provider<R>(
        &mut self,
        cx: &mut Cx,
        chain: Vec<ProviderIdx>,
        depth: usize,
        f: impl FnOnce(&mut dyn Provider, &mut Spi<'_>) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        let World {
            machine, providers, ..
        } = self;
        providers.call(machine, cx, chain, depth, f)
    }

    /// Calls the top provider of socket `s`'s chain (ER-2: an unknown handle → `WSAENOTSOCK`)
    /// with the SPI function `what`; its error is checked (SP-12) before it goes on.
    pub(in crate::core) fn via_socket<R>(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        what: Wsp,
        f: impl FnOnce(&mut dyn Provider, &mut Spi<'_>) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        let chain = self
            .process_mut(cx.process)
            .socket_mut(cx, s)?
            .chain
            .clone();
        self.touch(s);
        let r = self.call_provider(cx, chain, 0, f);
        if let Err(Stop::Fail(error)) = r {
            let answer = Answer::Failed {
                what: what.name,
                error,
                overlapped: what.overlapped,
            };
            self.sp_12(cx, s, answer)?;
        }
        r
    }

    /// A data call's byte count `n`, given `room` bytes of buffer, checked (SP-12).
    pub(in crate::core) fn counted(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        what: &str,
        n: usize,
        room: usize,
    ) -> Result<usize, Stop> {
        let answer = Answer::Count {
            what,
            n: n as i128,
            room,
        };
        self.sp_12(cx, s, answer)?;
        Ok(n)
    }

    /// An address or option length a successful call wrote back to `len` (it was `before`),
    /// for a buffer of `room` bytes, checked (SP-12); a bad one is put back as it was.
    pub(in crate::core) fn length_written(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        what: &str,
        len: Option<&mut i32>,
        before: Option<i32>,
        room: usize,
    ) -> Result<(), Stop> {
        let (Some(len), Some(before)) = (len, before) else {
            return Ok(());
        };
        let what = format!("{what} (length written back)");
        let answer = Answer::Count {
            what: &what,
            n: i128::from(*len),
            room,
        };
        if let Err(e) = self.sp_12(cx, s, answer) {
            *len = before;
            return Err(e.into());
        }
        Ok(())
    }

    /// An overlapped `WSASend`/`WSARecv` (and their `To`/`From` forms) through the socket's
    /// chain; SP-12 checks the count against the buffers.
    pub(in crate::core) fn ws2_overlapped(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        op: crate::core::provider::Overlapped,
    ) -> Result<usize, Stop> {
        let what = match op.req.kind {
            crate::core::overlapped::OpKind::Send { .. } => "WSPSend (overlapped)",
            crate::core::overlapped::OpKind::Recv { .. } => "WSPRecv (overlapped)",
            crate::core::overlapped::OpKind::Control => "WSPIoctl (overlapped)",
            crate::core::overlapped::OpKind::Connect { .. } => "ConnectEx",
            crate::core::overlapped::OpKind::Accept { .. } => "AcceptEx",
            crate::core::overlapped::OpKind::Disconnect { .. } => "DisconnectEx",
        };
        let room = op.len();
        let n = self.via_socket(cx, s, Wsp::overlapped(what), |p, spi| {
            p.start_overlapped(spi, s, op)
        })?;
        self.counted(cx, s, what, n, room)
    }

    /// An overlapped `WSASendTo`'s `lpTo`: decoded into the operation's destination. One that
    /// does not decode is ignored on a stream socket (which has its peer, as `sendto` there
    /// ignores it); on any other socket the call fails as `sendto` with that address would
    /// (the socket checks first, then the address's `WSAEFAULT` or `WSAEAFNOSUPPORT`), without
    /// starting an operation or writing the `OVERLAPPED`: that outcome is returned.
    pub(in crate::core) fn send_to_destination(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        req: &mut crate::core::overlapped::OpRequest,
        raw: &[u8],
        flags: i32,
    ) -> Option<Result<crate::core::Reply, Stop>> {
        let crate::core::overlapped::OpKind::Send { data, to } = &mut req.kind else {
            return None;
        };
        match crate::core::providers::sockaddr::decode(raw) {
            Ok(a) => *to = Some(a),
            Err(_) if self.process(cx.process).is_stream_socket(s) => {}
            Err(_) => {
                let len = i32::try_from(data.len()).unwrap_or(i32::MAX);
                let r = self.ws2_send(cx, s, Some(data.read()), len, flags, Some(Some(raw)));
                return Some(r.map(|n| crate::core::Reply::Count(n as u32)));
            }
        }
        None
    }

    /// `WSAGetOverlappedResult` through the socket's chain; when the socket was closed while
    /// the call waited, the outcome is in the `OVERLAPPED` record, which Ws2_32 reads itself.
    pub(in crate::core) fn ws2_overlapped_result(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        a: ResultArgs<'_>,
    ) -> Result<crate::core::Reply, Stop> {
        if cx.resumed && self.process(cx.process).socket_chain(s).is_none() {
            return self.overlapped_result(cx, s, a);
        }
        let (key, record, wait, has_bytes) = (a.key, a.record, a.wait, a.has_bytes);
        self.via_socket(
            cx,
            s,
            Wsp::overlapped("WSPGetOverlappedResult"),
            |p, spi| p.get_overlapped_result(spi, s, key, record, wait, has_bytes),
        )
        .map(|n| crate::core::Reply::Count(n as u32))
    }

    /// `send` (`to: None`) or `sendto` through the socket's chain; SP-12 checks the count
    /// against the data given.
    pub(in crate::core) fn ws2_send(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        buf: Option<&[u8]>,
        len: i32,
        flags: i32,
        to: Option<Option<&[u8]>>,
    ) -> Result<usize, Stop> {
        let room = buf.map_or(0, <[u8]>::len);
        let (what, n) = match to {
            None => {
                let what = "WSPSend";
                let n = self.via_socket(cx, s, Wsp::call(what), |p, spi| {
                    p.send(spi, s, buf, len, flags)
                });
                (what, n?)
            }
            Some(to) => {
                let what = "WSPSendTo";
                let n = self.via_socket(cx, s, Wsp::call(what), |p, spi| {
                    p.send_to(spi, s, buf, len, flags, to)
                });
                (what, n?)
            }
        };
        self.counted(cx, s, what, n, room)
    }

    /// `recv` (`from: None`) or `recvfrom` through the socket's chain; SP-12 checks the count
    /// against the buffer, and recvfrom's address length against its buffer.
    pub(in crate::core) fn ws2_recv(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        a: RecvArgs<'_>,
    ) -> Result<usize, Stop> {
        let (buf, len, flags, from) = (a.buf, a.len, a.flags, a.from);
        let room = buf.as_deref().map_or(0, <[u8]>::len);
        let (what, n) = match from {
            None => {
                let what = "WSPRecv";
                let n = self.via_socket(cx, s, Wsp::call(what), |p, spi| {
                    p.recv(spi, s, buf, len, flags)
                });
                (what, n?)
            }
            Some((b, l)) => {
                let what = "WSPRecvFrom";
                let n = self.via_socket_filling(cx, s, what, b, l, |p, spi, b, l| {
                    p.recv_from(spi, s, buf, len, flags, b, l)
                });
                (what, n?)
            }
        };
        self.counted(cx, s, what, n, room)
    }

    /// A provider call through `s`'s chain that fills `buf` and writes how much it filled to
    /// `len` (`WSPGetSockOpt`, `WSPGetSockName`, `WSPGetPeerName`, `WSPRecvFrom`'s address);
    /// SP-12 then checks the length written back against `buf`'s room.
    pub(in crate::core) fn via_socket_filling<R>(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        what: &'static str,
        buf: Option<&mut [u8]>,
        mut len: Option<&mut i32>,
        f: impl FnOnce(
            &mut dyn Provider,
            &mut Spi<'_>,
            Option<&mut [u8]>,
            Option<&mut i32>,
        ) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        let (room, before) = (
            buf.as_deref().map_or(0, <[u8]>::len),
            len.as_deref().copied(),
        );
        let l = len.as_deref_mut();
        let r = self.via_socket(cx, s, Wsp::call(what), |p, spi| f(p, spi, buf, l))?;
        self.length_written(cx, s, what, len, before, room)?;
        Ok(r)
    }

    /// SP-1: loads every provider of `chain` the process has not loaded yet, base first, with
    /// one `WSPStartup` each.
    pub(in crate::core) fn load_chain(
        &mut self,
        cx: &mut Cx,
        chain: &[ProviderIdx],
    ) -> Result<(), Stop> {
        for &idx in chain.iter().rev() {
            if self.process(cx.process).is_loaded(idx) {
                continue;
            }
            cx.rule(Rule::Sp1); // Loaded on first use.
            self.checked_startup(cx, idx, SPI_VERSION)?;
            self.process_mut(cx.process).mark_loaded(idx);
        }
        Ok(())
    }

    /// `WSPStartup`, checked against SP-9 and SP-10.
    pub(in crate::core) fn checked_startup(
        &mut self,
        cx: &mut Cx,
        idx: ProviderIdx,
        requested: Version,
    ) -> Result<Negotiated, WsaError> {
        let pid = cx.process;
        self.ensure_instance(pid, idx);
        let r = self.call_provider(cx, vec![idx], 0, |p, spi| {
            p.startup(spi, requested).map_err(Stop::Fail)
        });
        let info = self.provider_info(idx);
        let (name, want) = (info.name.clone(), info.negotiate(requested));
        let slot = self.slot_mut(pid, idx);
        let cleaned = slot.cleaned && slot.expected == 0;
        match r {
            Ok(n) => {
                slot.expected += 1;
                if want != Ok(n) {
                    self.diagnose(
                        cx,
                        Rule::Sp10,
                        format!("provider {name}: WSPStartup({requested}) answered version {} high {}, SP-10 gives {want:?}", n.version, n.high),
                    );
                }
                Ok(n)
            }
            Err(Stop::Fail(e)) => {
                if want.is_ok() {
                    let (rule, when) = if cleaned {
                        (Rule::Sp9, "right after its final WSPCleanup")
                    } else {
                        (Rule::Sp10, "for a version it supports")
                    };
                    self.diagnose(
                        cx,
                        rule,
                        format!(
                            "provider {name}: WSPStartup({requested}) failed {} {when}",
                            e.name()
                        ),
                    );
                }
                Err(e)
            }
            Err(Stop::Block(_)) => unreachable!("WSPStartup cannot block"),
        }
    }

    fn slot_mut(&mut self, p: ProcessId, idx: ProviderIdx) -> &mut Slot {
        self.providers
            .slots
            .get_mut(&(p, idx))
            .expect("invariant: a called provider has a slot")
    }

    /// `WSPCleanup`, checked against SP-2..SP-7.
    pub(in crate::core) fn checked_cleanup(
        &mut self,
        cx: &mut Cx,
        idx: ProviderIdx,
    ) -> Result<(), Stop> {
        let pid = cx.process;
        self.ensure_instance(pid, idx);
        let before = self.slot_mut(pid, idx).expected;
        let open_before = self.provider_sockets(pid, idx, false).len();
        let r = self.call_provider(cx, vec![idx], 0, |p, spi| p.cleanup(spi));
        let info = self.provider_info(idx);
        let (name, location) = (info.name.clone(), info.data);
        let cleaned = match &r {
            Err(Stop::Block(_)) => return r, // SP-6: it is called again once something changed.
            Ok(()) | Err(Stop::Fail(WsaError::NetworkDown)) => true,
            Err(Stop::Fail(WsaError::NotInitialised)) if before > 0 => {
                self.diagnose(cx, Rule::Sp2, format!("provider {name}: WSPCleanup failed WSANOTINITIALISED with {before} WSPStartup(s) outstanding"));
                self.slot_mut(pid, idx).expected = 0;
                false
            }
            Err(_) => false,
        };
        if !cleaned {
            return r;
        }
        if before == 0 {
            self.diagnose(
                cx,
                Rule::Sp3,
                format!("provider {name}: WSPCleanup succeeded with no WSPStartup outstanding; it must fail WSANOTINITIALISED"),
            );
            return r;
        }
        let slot = self.slot_mut(pid, idx);
        slot.expected -= 1;
        if before > 1 {
            if self.provider_sockets(pid, idx, false).len() < open_before {
                self.diagnose(
                    cx,
                    Rule::Sp2,
                    format!(
                        "provider {name}: a WSPCleanup that was not the final one closed sockets"
                    ),
                );
            }
            return r;
        }
        slot.cleaned = true;
        // The provider is unloaded as far as Ws2_32 is concerned: its next socket loads it
        // again (SP-1), even when a direct client made this final cleanup.
        self.process_mut(pid).unmark_loaded(idx);
        let slot = self.slot_mut(pid, idx);
        let unsent = slot.instance.0.as_ref().map_or(0, |p| p.unsent_bytes());
        let new_loss = unsent.saturating_sub(slot.written_off);
        slot.written_off = unsent;
        // Reported once: a provider still holding the same bytes at a later cleanup is the
        // same violation.
        if new_loss > 0 {
            let why = "provider held unsent data in the process at its final WSPCleanup";
            self.diagnose(
                cx,
                Rule::Sp6,
                format!("provider {name}: WSPCleanup returned with {unsent} unsent byte(s) still in the process (declared {location:?})"),
            );
            let rule = self.sp_7_lost_with_dll(pid, new_loss, why);
            cx.rule(rule);
        }
        let left = self.provider_sockets(pid, idx, true);
        if !left.is_empty() {
            self.diagnose(
                cx,
                Rule::Sp4,
                format!(
                    "provider {name}: its final WSPCleanup left {} socket(s) open",
                    left.len()
                ),
            );
        }
        r
    }

    /// Starts unloading the providers a final cleanup found loaded: the last loaded first, so
    /// layered providers go before the providers below them.
    pub(in crate::core) fn begin_unload(&mut self, p: ProcessId, loaded: Vec<ProviderIdx>) {
        self.providers
            .unloading
            .insert(p, loaded.into_iter().rev().collect());
    }

    /// True while a final cleanup of `p` is unloading providers.
    pub(in crate::core) fn is_unloading(&self, p: ProcessId) -> bool {
        self.providers.unloading.contains_key(&p)
    }

    /// SP-2..SP-6: one `WSPCleanup` per provider the process loaded. A provider that waits
    /// (SP-6: it is flushing) makes the final cleanup wait in virtual time.
    pub(in crate::core) fn unload(&mut self, cx: &mut Cx) -> Result<(), Stop> {
        let pid = cx.process;
        while let Some(&idx) = self.providers.unloading.get(&pid).and_then(|v| v.first()) {
            if let Err(Stop::Block(mut b)) = self.checked_cleanup(cx, idx) {
                b.what = "WSACleanup (WSPCleanup flushing)";
                return Err(Stop::Block(b));
            }
            // WSPCleanup's own error is the provider's business: WSACleanup goes on.
            if let Some(v) = self.providers.unloading.get_mut(&pid) {
                v.remove(0);
            }
        }
        self.providers.unloading.remove(&pid);
        Ok(())
    }

    /// SP-7, the one place it is decided: data a provider keeps in the process
    /// ([`DataLocation::Process`](crate::core::provider::DataLocation)) is lost when its DLL
    /// goes, at a final `WSPCleanup` that returned before flushing or when the process ends.
    /// Charges the `bytes` to the rule and returns it, for the trace.
    fn sp_7_lost_with_dll(&mut self, p: ProcessId, bytes: usize, why: &'static str) -> Rule {
        self.transport.lose_in_process(p, bytes, Rule::Sp7, why);
        Rule::Sp7
    }

    /// SP-8: the process ended; its provider DLLs go with it, and data a provider still held
    /// in the process is lost (SP-7, in both profiles): returns SP-7 if some was.
    pub(in crate::core) fn drop_instances(&mut self, p: ProcessId) -> Option<Rule> {
        self.providers.unloading.remove(&p);
        let keys: Vec<_> = self
            .providers
            .slots
            .keys()
            .filter(|(q, _)| *q == p)
            .copied()
            .collect();
        let mut lost = None;
        for k in keys {
            let Some(slot) = self.providers.slots.remove(&k) else {
                continue;
            };
            let unsent = slot.instance.0.as_ref().map_or(0, |p| p.unsent_bytes());
            let unsent = unsent.saturating_sub(slot.written_off);
            if unsent > 0 {
                let why = "provider held unsent data in the process when it ended";
                lost = Some(self.sp_7_lost_with_dll(p, unsent, why));
            }
        }
        lost
    }

    /// The direct SPI path ([`crate::spi::Client`]): `WSPStartup` of provider `id` (SP-3: an
    /// unknown id → `WSAEINVAL`).
    pub(in crate::core) fn spi_startup(
        &mut self,
        cx: &mut Cx,
        id: crate::core::catalog::Guid,
        requested: Version,
    ) -> Result<Negotiated, Stop> {
        let idx = self
            .provider_by_id(id)
            .ok_or_else(|| sp_3(cx, Sp3::UnknownProvider))?;
        Ok(self.checked_startup(cx, idx, requested)?)
    }

    /// The direct SPI path: `WSPCleanup` of provider `id`.
    pub(in crate::core) fn spi_cleanup(
        &mut self,
        cx: &mut Cx,
        id: crate::core::catalog::Guid,
    ) -> Result<(), Stop> {
        let idx = self
            .provider_by_id(id)
            .ok_or_else(|| sp_3(cx, Sp3::UnknownProvider))?;
        self.checked_cleanup(cx, idx)
    }
}

/// Why `WSPCleanup` (or the direct client's `WSPStartup`) fails, as SP-3 lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sp3 {
    /// The provider's count is 0.
    NotStarted,
    /// The provider id names no provider of the catalog.
    UnknownProvider,
    /// The caller's network subsystem failed (the count still went down).
    NetworkDown,
}

/// SP-3, the one place it is decided: `WSPCleanup` with a count of 0 fails
/// `WSANOTINITIALISED`, an unknown provider id `WSAEINVAL`, a failed network `WSAENETDOWN`.
pub(crate) fn sp_3(cx: &mut Cx, why: Sp3) -> WsaError {
    cx.rule(Rule::Sp3);
    match why {
        Sp3::NotStarted => WsaError::NotInitialised,
        Sp3::UnknownProvider => WsaError::InvalidArgument,
        Sp3::NetworkDown => WsaError::NetworkDown,
    }
}

/// The SPI function Ws2_32 calls through a socket's chain, as SP-12 names it.
#[derive(Debug, Clone, Copy)]
pub(in crate::core) struct Wsp {
    name: &'static str,
    overlapped: bool,
}

impl Wsp {
    /// A call that does not concern an overlapped operation.
    pub(in crate::core) const fn call(name: &'static str) -> Wsp {
        Wsp {
            name,
            overlapped: false,
        }
    }

    /// A call that starts an overlapped operation or asks for one's result.
    pub(in crate::core) const fn overlapped(name: &'static str) -> Wsp {
        Wsp {
            name,
            overlapped: true,
        }
    }
}

/// What a provider's call handed back to Ws2_32, as SP-12 checks it.
#[derive(Debug, Clone, Copy)]
pub(in crate::core) enum Answer<'a> {
    /// The call (`what`, e.g. `"WSPRecv"`) failed with `error`; `overlapped` when it started
    /// an overlapped operation or asked for one's result, where `WSA_IO_PENDING` and
    /// `WSA_IO_INCOMPLETE` are answers.
    Failed {
        /// The SPI function.
        what: &'a str,
        /// Its error.
        error: WsaError,
        /// It concerns an overlapped operation.
        overlapped: bool,
    },
    /// The call (`what`) reported `n` bytes in a buffer of `room` bytes: moved by a data call,
    /// or an address or option length written back.
    Count {
        /// The SPI function and what was counted.
        what: &'a str,
        /// The count reported (an `i32` length written back may be negative).
        n: i128,
        /// The bytes the application gave.
        room: usize,
    },
}

impl World {
    /// SP-12, the one place it is decided: what the top provider of `s`'s chain hands back
    /// from a socket call is checked before it reaches the application. A byte count beyond
    /// the buffers given (or negative) fails the call `WSAEFAULT`; an error that no such call
    /// can report fails it `WSAEPROVIDERFAILEDINIT` (sim: the SPEC names no code for it) —
    /// `WAIT_TIMEOUT` (a kernel32 wait result, not a Winsock error) from any call, and
    /// `WSA_IO_PENDING` or `WSA_IO_INCOMPLETE` from a call that is not overlapped (no
    /// completion would ever follow). Each violation is a diagnostic naming SP-12. The
    /// handles a provider hands back are checked by SP-1 (`check_new_socket`).
    pub(in crate::core) fn sp_12(
        &mut self,
        cx: &mut Cx,
        s: Socket,
        answer: Answer<'_>,
    ) -> Result<(), WsaError> {
        let (message, error) = match answer {
            Answer::Count { n, room, .. } if (0..=room as i128).contains(&n) => return Ok(()),
            Answer::Count { what, n, room } => (
                format!("{what} reported {n} byte(s) for a buffer of {room} byte(s)"),
                WsaError::Fault,
            ),
            Answer::Failed {
                what,
                error: error @ (WsaError::IoPending | WsaError::IoIncomplete),
                overlapped: false,
            }
            | Answer::Failed {
                what,
                error: error @ WsaError::WaitTimeout,
                ..
            } => (
                format!(
                    "{what} failed {} ({}), which it cannot report",
                    error.name(),
                    error.code()
                ),
                WsaError::ProviderFailedInit,
            ),
            Answer::Failed { .. } => return Ok(()),
        };
        let name = self
            .process(cx.process)
            .socket_chain(s)
            .and_then(<[_]>::first)
            .map_or_else(
                || "?".to_string(),
                |&top| self.provider_info(top).name.clone(),
            );
        self.diagnose(cx, Rule::Sp12, format!("provider {name}: {message}"));
        Err(error)
    }
}
