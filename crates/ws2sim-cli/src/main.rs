//! `ws2sim`: the command-line companion of the simulator.
//!
//! ```text
//! ws2sim rules              # every SPEC rule id with its summary
//! ws2sim explain CL-5       # one rule
//! ws2sim catalog            # the protocol catalog as WSAEnumProtocolsW lists it
//! ```

use clap::{Parser, Subcommand};
use ws2sim::{api, Rule, Sim, Version};

#[derive(Parser)]
#[command(
    name = "ws2sim",
    version,
    about = "A deterministic simulator of Windows Sockets 2"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every SPEC rule id with its summary.
    Rules,
    /// Print one rule's summary (e.g. `ws2sim explain CL-5`).
    Explain {
        /// The rule id, as SPEC.md writes it.
        rule: String,
    },
    /// Print the simulated protocol catalog, as WSAEnumProtocolsW lists it.
    Catalog,
}

fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        Command::Rules => {
            for r in Rule::ALL {
                println!("{:<6} {}", r.id(), r.summary());
            }
        }
        Command::Explain { rule } => match Rule::from_id(&rule) {
            Some(r) => println!("{}: {}", r.id(), r.summary()),
            None => {
                eprintln!("ws2sim: no rule {rule:?} in SPEC.md (try `ws2sim rules`)");
                return std::process::ExitCode::from(2);
            }
        },
        Command::Catalog => {
            let sim = Sim::new();
            let entries = sim.localhost().process("ws2sim").run(|| {
                api::startup(Version::V2_2).expect("startup succeeds in a fresh simulation");
                let entries = api::enum_protocols(None).expect("the catalog is listable");
                api::cleanup().expect("cleanup after one startup succeeds");
                entries
            });
            for e in entries {
                println!(
                    "{:>5}  {:<40} af={} type={} protocol={:<3} XP1={:#010x} PFL={:#x} provider={}",
                    e.catalog_entry_id,
                    e.name,
                    e.address_family,
                    e.socket_type,
                    e.protocol,
                    e.service_flags1,
                    e.provider_flags,
                    e.provider_id
                );
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
