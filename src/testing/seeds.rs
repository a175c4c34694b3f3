//! Which seeds a sweep runs: a half-open range of `u64`, from the code or from
//! `WS2SIM_SEEDS`.

use std::fmt;
use std::ops::{Range, RangeInclusive};

/// The environment variable that overrides a sweep's seeds: `WS2SIM_SEEDS=1000` runs seeds
/// `0..1000`, `WS2SIM_SEEDS=5000..6000` runs those (`..=` for an inclusive end), so CI jobs
/// can split one campaign between them.
pub const SEEDS_ENV: &str = "WS2SIM_SEEDS";

/// The seeds of a sweep: `start..end`, `end` excluded.
///
/// ```
/// use ws2sim::testing::Seeds;
///
/// assert_eq!(Seeds::from(200), Seeds::from(0..200));
/// assert_eq!("5000..6000".parse::<Seeds>().unwrap().len(), 1000);
/// assert_eq!("17..=17".parse::<Seeds>().unwrap(), Seeds::from(17..18));
/// assert_eq!("1000".parse::<Seeds>().unwrap().to_string(), "0..1000");
/// assert!("ten".parse::<Seeds>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seeds {
    start: u64,
    end: u64,
}

impl Seeds {
    /// The first seed.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// One past the last seed.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// How many seeds there are.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The seeds, in order.
    pub fn iter(&self) -> Range<u64> {
        self.start..self.end
    }

    /// `WS2SIM_SEEDS` when it is set, else `default`.
    ///
    /// # Errors
    /// When `WS2SIM_SEEDS` is set but is neither a count nor a range.
    pub fn from_env_or(default: Seeds) -> Result<Seeds, SeedsError> {
        match std::env::var(SEEDS_ENV) {
            Ok(v) => v.parse(),
            Err(std::env::VarError::NotPresent) => Ok(default),
            Err(std::env::VarError::NotUnicode(v)) => Err(SeedsError {
                text: v.to_string_lossy().into_owned(),
            }),
        }
    }
}

impl From<u64> for Seeds {
    /// The first `count` seeds: `0..count`.
    fn from(count: u64) -> Seeds {
        Seeds {
            start: 0,
            end: count,
        }
    }
}

impl From<Range<u64>> for Seeds {
    /// These seeds (an empty or reversed range is empty).
    fn from(r: Range<u64>) -> Seeds {
        Seeds {
            start: r.start,
            end: r.end.max(r.start),
        }
    }
}

impl From<RangeInclusive<u64>> for Seeds {
    /// These seeds; `..=u64::MAX` stops one short of it.
    fn from(r: RangeInclusive<u64>) -> Seeds {
        let (start, last) = r.into_inner();
        Seeds::from(start..last.saturating_add(1))
    }
}

impl fmt::Display for Seeds {
    /// `0..200`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl std::str::FromStr for Seeds {
    type Err = SeedsError;

    /// `N` (seeds `0..N`), `A..B` or `A..=B`, with spaces around the numbers allowed.
    fn from_str(text: &str) -> Result<Seeds, SeedsError> {
        let bad = || SeedsError {
            text: text.to_owned(),
        };
        let num = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
        match text.split_once("..") {
            None => Ok(Seeds::from(num(text)?)),
            Some((a, b)) => match b.strip_prefix('=') {
                Some(b) => Ok(Seeds::from(num(a)?..=num(b)?)),
                None => Ok(Seeds::from(num(a)?..num(b)?)),
            },
        }
    }
}

/// Text that is not a seed count or range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "ws2sim: {text:?} is not a seed count or range: write N (seeds 0..N), A..B or A..=B \
     (e.g. WS2SIM_SEEDS=1000 or WS2SIM_SEEDS=5000..6000)"
)]
pub struct SeedsError {
    text: String,
}
