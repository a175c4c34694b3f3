//! A simple namespace provider (CL-9): names registered in it belong to the namespace, not to
//! the registering process's Ws2_32 state, so they survive `WSACleanup` (and the process).
//!
//! # Divergence
//! Windows registers names with `WSASetServiceW` and `WSAQUERYSETW` records through namespace
//! providers (DNS, PNRP, ...). ws2sim keeps one flat, simulation-wide map from names to IPv4
//! addresses, reached through [`crate::api::register_name`] and friends: enough to show what
//! CL-9 says, without the query-set machinery.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;

use crate::core::rules::Rule;
use crate::core::{Cx, Reply, Stop, World};
use crate::error::WsaError;

/// The simulation's namespace: names and the addresses registered for them.
#[derive(Debug, Default)]
pub(crate) struct Names {
    map: BTreeMap<String, SocketAddrV4>,
}

impl Names {
    /// The address registered for `name`, read without deciding CL-9 (AD-4's resolver).
    pub(crate) fn get(&self, name: &str) -> Option<&SocketAddrV4> {
        self.map.get(name)
    }
}

impl World {
    /// CL-9, the one place it is decided: the namespace belongs to the simulation, not to a
    /// process's Ws2_32 state, so no cleanup touches it.
    fn cl_9_names(&mut self, cx: &mut Cx) -> &mut BTreeMap<String, SocketAddrV4> {
        cx.rule(Rule::Cl9);
        &mut self.names.map
    }

    /// Registers `name` (`Some`) or removes it (`None`). An empty name → `WSAEINVAL`;
    /// removing an unknown name → `WSASERVICE_NOT_FOUND`.
    pub(in crate::core) fn register_name(
        &mut self,
        cx: &mut Cx,
        name: &str,
        addr: Option<SocketAddrV4>,
    ) -> Result<Reply, Stop> {
        let names = self.cl_9_names(cx);
        if name.is_empty() {
            return Err(WsaError::InvalidArgument.into());
        }
        match addr {
            Some(a) => {
                names.insert(name.to_owned(), a);
            }
            None => {
                names.remove(name).ok_or(WsaError::ServiceNotFound)?;
            }
        }
        Ok(Reply::Done)
    }

    /// The address registered for `name`, or `WSASERVICE_NOT_FOUND`.
    pub(in crate::core) fn lookup_name(&mut self, cx: &mut Cx, name: &str) -> Result<Reply, Stop> {
        match self.cl_9_names(cx).get(name) {
            Some(a) => Ok(Reply::Addr(*a)),
            None => Err(WsaError::ServiceNotFound.into()),
        }
    }
}
