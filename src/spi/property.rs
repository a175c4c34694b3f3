//! [`check_provider_property`] (the `proptest` feature): [`check_provider`]'s fixed
//! scenarios, then random programs that must look to the application through the provider
//! exactly as they do through the bare built-in provider.

use std::fmt;

use proptest::test_runner::{TestCaseError, TestError};

use super::check::check_provider;
use super::Provider;
use crate::testing::program::Program;
use crate::testing::strategy::{deterministic_runner, program, ProgramConfig};
use crate::testing::{transparency_except, Divergence};
use crate::Diagnostic;

/// What [`check_provider_property`] found wrong with a provider.
#[derive(Debug, Clone)]
pub enum ProviderFailure {
    /// [`check_provider`]'s scenarios found these.
    Findings(Vec<Diagnostic>),
    /// A program the application sees differently through the provider, shrunk by proptest
    /// to a small one, and where the two runs first differ.
    NotTransparent {
        /// The (shrunk) program: save it with [`Program::to_json`].
        program: Program,
        /// The first undeclared difference.
        divergence: Divergence,
    },
}

impl fmt::Display for ProviderFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderFailure::Findings(found) => {
                writeln!(
                    f,
                    "ws2sim: check_provider found {} problem(s):",
                    found.len()
                )?;
                for d in found {
                    writeln!(f, "  {}: {}", d.rule.id(), d.message)?;
                }
                Ok(())
            }
            ProviderFailure::NotTransparent {
                program,
                divergence,
            } => write!(
                f,
                "{divergence}\n  in a program of {} step(s):\n{}",
                program.steps.len(),
                program.to_json()
            ),
        }
    }
}

impl std::error::Error for ProviderFailure {}

/// Checks a layered provider as a property: first [`check_provider`]'s scenarios (SP-1
/// through SP-11), then `cases` random valid programs ([`ProgramConfig::valid`]), each run
/// once over the bare built-in provider and once with every TCP and UDP socket made from the
/// provider's entries ([`Program::run_through`]); the application must see every call alike
/// ([`transparency_except`]), except the differences the provider declares (`declared`, as
/// there; `|_, _| false` declares none). A program that tells them apart is shrunk and
/// returned. The same `cases` always draw the same programs.
///
/// ```
/// use ws2sim::spi::{check_provider_property, Negotiated, Provider, ProviderInfo, Spi, Stop};
/// use ws2sim::spi::{TCP_ENTRY, UDP_ENTRY};
/// use ws2sim::{Guid, Version, WsaError};
///
/// /// Counts its startups (SP-2, SP-3) and passes every call down: transparent.
/// #[derive(Clone, Default)]
/// struct PassThrough { started: u32 }
/// impl Provider for PassThrough {
///     fn info(&self) -> ProviderInfo {
///         let over = [(TCP_ENTRY, "pass tcp"), (UDP_ENTRY, "pass udp")];
///         ProviderInfo::layered(Guid::new(7, 7, 7, *b"PASSTHRU"), "pass", &over)
///     }
///     fn startup(&mut self, _: &mut Spi<'_>, v: Version) -> Result<Negotiated, WsaError> {
///         let n = self.info().negotiate(v)?;
///         self.started += 1;
///         Ok(n)
///     }
///     fn cleanup(&mut self, _: &mut Spi<'_>) -> Result<(), Stop> {
///         if self.started == 0 {
///             return Err(WsaError::NotInitialised.into());
///         }
///         self.started -= 1;
///         Ok(())
///     }
/// }
///
/// if let Err(e) = check_provider_property(PassThrough::default(), 16, |_, _| false) {
///     panic!("{e}");
/// }
/// ```
///
/// # Errors
/// The scenarios' findings, or the first (shrunk) program that is not transparent.
pub fn check_provider_property<P: Provider + Clone>(
    provider: P,
    cases: u32,
    declared: impl Fn(&str, &str) -> bool,
) -> Result<(), Box<ProviderFailure>> {
    let found = check_provider(provider.clone());
    if !found.is_empty() {
        return Err(Box::new(ProviderFailure::Findings(found)));
    }
    let differs = |p: &Program| {
        transparency_except(provider.clone(), 0..1, &declared, |sim, entries| {
            p.run_through(sim, entries);
        })
    };
    let mut runner = deterministic_runner(cases);
    let result = runner.run(&program(ProgramConfig::valid()), |p| {
        differs(&p).map_err(|d| TestCaseError::fail(d.to_string()))
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(_, program)) => {
            let divergence = differs(&program)
                .expect_err("invariant: the shrunk program fails as it did while shrinking");
            Err(Box::new(ProviderFailure::NotTransparent {
                program,
                divergence,
            }))
        }
        Err(TestError::Abort(why)) => unreachable!("no filters reject programs: {why}"),
    }
}
