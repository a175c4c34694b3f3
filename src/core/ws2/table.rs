//! Generation-tagged tables: socket handles in the per-process socket table (CS-1), and the
//! transport's endpoint ids.
//!
//! A handle encodes a table slot and a generation: `((generation << SLOT_BITS) | slot) << 2`.
//! Generations come from one counter per simulation, so a handle value is handed out at most
//! once per [`Sim`](crate::Sim), in any process, across final cleanups and restarts. A stale
//! handle therefore never reaches another socket: its generation matches no live entry.

use slab::Slab;

use crate::error::WsaError;

/// Bits of the slot index inside a handle: a process holds at most 2^20 sockets at once.
const SLOT_BITS: u32 = 20;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// The most sockets one process can have open at once; one more fails with `WSAEMFILE`.
pub const MAX_SOCKETS_PER_PROCESS: usize = 1 << SLOT_BITS;

/// A socket handle as Winsock hands it out (`SOCKET`).
///
/// Values are multiples of 4 (as Windows handles are), never 0 and never `INVALID_SOCKET`, and a
/// value is never handed out twice in one simulation (CS-1). Any `usize` converts into a `Socket`,
/// so a test can pass stale or made-up handles; calls then fail with `WSAENOTSOCK`.
///
/// ```
/// use ws2sim::Socket;
/// let s = Socket::from_raw(0x1234);
/// assert_eq!(s.raw(), 0x1234);
/// assert_eq!(format!("{s}"), "0x1234");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Socket(usize);

impl Socket {
    /// The handle with this raw `SOCKET` value (valid or not).
    pub const fn from_raw(raw: usize) -> Socket {
        Socket(raw)
    }

    /// The raw `SOCKET` value.
    pub const fn raw(self) -> usize {
        self.0
    }
}

/// A generation-tagged key of a [`Table`].
pub trait Key: Copy + Eq {
    /// The key for this generation and slot.
    fn encode(generation: u64, slot: usize) -> Self;
    /// The (generation, slot) this key names, if it is shaped like one.
    fn decode(self) -> Option<(u64, usize)>;
}

impl Key for Socket {
    fn encode(generation: u64, slot: usize) -> Socket {
        Socket((((generation << SLOT_BITS) | slot as u64) << 2) as usize)
    }

    fn decode(self) -> Option<(u64, usize)> {
        let v = self.0 as u64;
        if v & 3 != 0 {
            return None;
        }
        let v = v >> 2;
        Some((v >> SLOT_BITS, (v & SLOT_MASK) as usize))
    }
}

impl std::fmt::Display for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Hands out generations, one counter per simulation (CS-1).
#[derive(Debug, Default)]
pub struct Generations {
    last: u64,
}

impl Generations {
    /// The last generation handed out: every key made later has a greater one.
    pub fn current(&self) -> u64 {
        self.last
    }

    /// True when `key` was made after the generation `since` was the current one.
    pub fn is_newer<K: Key>(key: K, since: u64) -> bool {
        key.decode().is_some_and(|(g, _)| g > since)
    }

    /// The next unused generation (the first is 1, so no handle is 0).
    pub fn next(&mut self) -> u64 {
        self.last += 1;
        self.last
    }
}

/// Values keyed by generation-tagged keys: a removed value's key never names another value.
#[derive(Debug)]
pub struct Table<K, T> {
    slots: Slab<(u64, T)>,
    _key: std::marker::PhantomData<K>,
}

/// A process's open sockets, keyed by handle.
pub type SocketTable<T> = Table<Socket, T>;

impl<K, T> Default for Table<K, T> {
    fn default() -> Self {
        Table {
            slots: Slab::new(),
            _key: std::marker::PhantomData,
        }
    }
}

impl<K: Key, T> Table<K, T> {
    /// Adds a value under a key that was never used before; `WSAEMFILE` when full.
    pub fn insert(&mut self, generations: &mut Generations, value: T) -> Result<K, WsaError> {
        if self.slots.len() >= MAX_SOCKETS_PER_PROCESS {
            return Err(WsaError::TooManySockets);
        }
        let generation = generations.next();
        let slot = self.slots.insert((generation, value));
        Ok(K::encode(generation, slot))
    }

    /// The socket behind a handle, if the handle is live in this table.
    pub fn get(&self, s: K) -> Option<&T> {
        let (generation, slot) = s.decode()?;
        match self.slots.get(slot) {
            Some((g, v)) if *g == generation => Some(v),
            _ => None,
        }
    }

    /// The socket behind a handle, mutably.
    pub fn get_mut(&mut self, s: K) -> Option<&mut T> {
        let (generation, slot) = s.decode()?;
        match self.slots.get_mut(slot) {
            Some((g, v)) if *g == generation => Some(v),
            _ => None,
        }
    }

    /// Removes a live socket and returns it; its handle is dead for good.
    pub fn remove(&mut self, s: K) -> Option<T> {
        self.get(s)?;
        let (_, slot) = s.decode()?;
        Some(self.slots.remove(slot).1)
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Every key, in creation order (oldest first).
    pub fn keys(&self) -> Vec<K> {
        let mut all: Vec<(u64, K)> = self
            .slots
            .iter()
            .map(|(slot, (g, _))| (*g, K::encode(*g, slot)))
            .collect();
        all.sort_by_key(|(g, _)| *g);
        all.into_iter().map(|(_, k)| k).collect()
    }

    /// Every value with its key, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (K, &T)> {
        self.slots
            .iter()
            .map(|(slot, (g, v))| (K::encode(*g, slot), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cs_1_handles_never_repeat_and_stale_handles_miss() {
        let mut g = Generations::default();
        let mut t = SocketTable::default();
        let a = t.insert(&mut g, "a").unwrap();
        t.remove(a).unwrap();
        let b = t.insert(&mut g, "b").unwrap();
        assert_ne!(a, b, "same slot, new generation, new value");
        assert_eq!(t.get(a), None);
        assert_eq!(t.get(b), Some(&"b"));
        for s in [a, b] {
            assert_eq!(s.raw() % 4, 0);
            assert_ne!(s.raw(), 0);
            assert_ne!(s.raw(), usize::MAX);
        }
        assert_eq!(t.get(Socket::from_raw(usize::MAX)), None);
        assert_eq!(t.get(Socket::from_raw(0)), None);
        assert_eq!(t.get(Socket::from_raw(b.raw() + 1)), None);
    }
}
